/*
 * panel.h -- resolve the config's markers and scatter roles to the
 * channels of one file.
 *
 * Markers: a pinned `channel:` must equal a $PnN (case-insensitive).
 * Otherwise the marker's accepted names -- its config name, the built-in
 * alias group it belongs to (cg_panel_aliases), and its `aliases:` -- are
 * compared, after normalisation (lower case; ' ', '-', '_', '.' dropped),
 * against each channel's $PnS:
 *   1. the whole $PnS ("IL-17A", "FoxP3", "Zombie NIR");
 *   2. each word of $PnS split at spaces, ( ) [ ] / : , ; | ("CCR6 (CD196)",
 *      "CD4 PerCP-Cy5.5", "FITC-A :: CD3");
 *   3. each part of those words split at '-' ("CD25-PE").
 * Then the same three steps against $PnN (files that carry the marker in
 * $PnN).  The first step that matches decides; two channels matching at
 * that step is an ambiguity error.  Alias entries ending in '*' are
 * prefixes ("zombie*" accepts "Zombie NIR", "ZombieAqua").  Scatter and
 * time channels never match a marker.
 *
 * Scatter roles: the role's $PnN patterns in order, case-insensitive,
 * '*' wildcards; the first pattern that matches any channel wins.
 *
 * Threading: pure functions over borrowed inputs; the alias table is
 * static const.  Ownership: cg_panel_map is caller-owned (cg_panel_clear).
 */
#ifndef CG_PANEL_H
#define CG_PANEL_H

#include "cgerr.h"
#include "config.h"

typedef struct cg_panel_entry {
    int channel;      /* index into the file's channels, or -1 */
    char how[96];     /* "$PnS 'CCR6 (CD196)'", "$PnN pinned", ... */
} cg_panel_entry;

typedef struct cg_panel_map {
    int nmarkers, nroles;
    cg_panel_entry *marker; /* cfg->nmarkers entries */
    cg_panel_entry *role;   /* cfg->nscatter entries */
    char *missing;          /* comma-separated optional markers not found,
                               or NULL; owned */
} cg_panel_map;

/* Resolve against nch channels with names pnn[] and labels pns[] (entries
 * may be NULL).  0 on success.  A required marker (or a scatter role used
 * by a gate) that cannot be found, or an ambiguous match, returns < 0 with
 * *msg set to an owned message naming the marker and listing the file's
 * channels as "$PnN ($PnS), ..."; free it. */
int cg_panel_resolve(const cg_config *cfg, int nch, const char *const *pnn,
                     const char *const *pns, cg_panel_map *out, char **msg);
void cg_panel_clear(cg_panel_map *m);

/* The built-in alias group of a marker name (normalised entries, prefixes
 * ending in '*'), NULL-terminated, or NULL when the name is in no group.
 * Static storage. */
const char *const *cg_panel_aliases(const char *marker);

/* Normalise a name as described above into buf (size n). */
void cg_panel_norm(const char *s, char *buf, int n);

/* Case-insensitive match of name against pattern with '*' wildcards. */
int cg_panel_glob(const char *pattern, const char *name);

#endif
