/*
 * panel.c -- marker and scatter-role resolution (see panel.h for the
 * matching rules).
 *
 * The alias table groups names by which labs and vendors write the same
 * marker; an entry matches a normalised candidate exactly, or as a prefix
 * when it ends in '*'.  Matching is done in tiers (pinned, whole $PnS,
 * $PnS words, $PnS word parts, then the same on $PnN) so that the most
 * specific evidence decides and a weaker match elsewhere cannot steal a
 * marker.  Pure functions; no allocation per event; thread-safe.
 */
#include "panel.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Normalised names; the first entry of each group is its key. */
static const char *const alias_tab[][24] = {
    {"cd3", "cd3e", "cd3epsilon", NULL},
    {"cd4", NULL},
    {"cd8", "cd8a", "cd8alpha", NULL},
    {"cd25", "il2ra", "il2r", "il2ralpha", "il2receptoralpha", NULL},
    {"cd127", "il7ra", "il7r", "il7ralpha", NULL},
    {"foxp3", NULL},
    {"il17a", "il17", NULL},
    {"il17f", NULL},
    {"ifng", "ifngamma", "ifny", "interferongamma", NULL},
    {"il22", NULL},
    {"ccr6", "cd196", NULL},
    {"cxcr3", "cd183", NULL},
    {"ccr4", "cd194", NULL},
    {"ccr7", "cd197", NULL},
    {"cd161", "klrb1", NULL},
    {"cd45ra", NULL},
    {"cd45ro", NULL},
    {"cd45", NULL},
    {"hladr", "mhcii", NULL},
    {"cd39", "entpd1", NULL},
    {"viability", "live", "dead", "livedead", "deadlive", "ld", "l/d",
     "live/dead", "vd",
     "viab*", "zombie*", "fvs*", "fixableviability*", "ghost*",
     "viadye*", "sytox*", "7aad", "dapi", "pi", "propidiumiodide", NULL},
};
enum { NGROUPS = sizeof alias_tab / sizeof alias_tab[0] };

void cg_panel_norm(const char *s, char *buf, int n)
{
    int k = 0;
    for (; s && *s && k < n - 1; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == ' ' || ch == '-' || ch == '_' || ch == '.' || ch == '\t')
            continue;
        buf[k++] = (char)tolower(ch);
    }
    buf[k] = '\0';
}

const char *const *cg_panel_aliases(const char *marker)
{
    char nm[64];
    cg_panel_norm(marker, nm, sizeof nm);
    for (int g = 0; g < NGROUPS; g++)
        for (int i = 0; alias_tab[g][i]; i++)
            if (!strcmp(alias_tab[g][i], nm))
                return alias_tab[g];
    return NULL;
}

int cg_panel_glob(const char *p, const char *s)
{
    /* iterative wildcard match with backtracking to the last '*' */
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            ss = s;
        } else if (*p && tolower((unsigned char)*p) == tolower((unsigned char)*s)) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++ss;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* One accepted (normalised) name against one normalised candidate. */
static int name_match(const char *acc, const char *cand)
{
    if (!*cand)
        return 0;
    size_t n = strlen(acc);
    if (n && acc[n - 1] == '*')
        return strncmp(acc, cand, n - 1) == 0;
    return strcmp(acc, cand) == 0;
}

typedef struct accepted {
    const char *const *group; /* built-in aliases or NULL */
    char self[64];            /* the config name, normalised */
    const cg_marker_spec *m;
} accepted;

static int acc_match(const accepted *a, const char *cand)
{
    if (name_match(a->self, cand))
        return 1;
    for (int i = 0; a->group && a->group[i]; i++)
        if (name_match(a->group[i], cand))
            return 1;
    for (int i = 0; i < a->m->naliases; i++) {
        char buf[64];
        cg_panel_norm(a->m->aliases[i], buf, sizeof buf);
        /* keep a user's trailing '*' (norm keeps it: not a separator) */
        if (name_match(buf, cand))
            return 1;
    }
    return 0;
}

/* Tier t (0 whole, 1 words, 2 word parts) of string s against a. */
static int tier_match(const accepted *a, const char *s, int t)
{
    if (!s || !*s)
        return 0;
    char cand[128];
    if (t == 0) {
        cg_panel_norm(s, cand, sizeof cand);
        return acc_match(a, cand);
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    static const char seps[] = " \t()[]/:,;|";
    char *save = NULL;
    for (char *w = strtok_r(buf, seps, &save); w; w = strtok_r(NULL, seps, &save)) {
        if (t == 1) {
            cg_panel_norm(w, cand, sizeof cand);
            if (acc_match(a, cand))
                return 1;
        } else {
            char *save2 = NULL;
            for (char *p = strtok_r(w, "-", &save2); p;
                 p = strtok_r(NULL, "-", &save2)) {
                cg_panel_norm(p, cand, sizeof cand);
                if (acc_match(a, cand))
                    return 1;
            }
        }
    }
    return 0;
}

static int is_scatter_or_time(const char *pnn)
{
    if (!pnn)
        return 0;
    static const char *const pats[] = {"FSC*", "SSC*", "FS *", "SS *", "FS-*",
                                       "SS-*", "Time", "Time*", "HDR-T", "T1",
                                       "TIME1", "Event*", "Width", "Count"};
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
        if (cg_panel_glob(pats[i], pnn))
            return 1;
    return 0;
}

/* The error lists at most this many channels, then "and N more": a
 * 100,000-parameter file must not turn one error into a 1 MB line. */
#define LIST_MAX 20
/* Longest $PnN or $PnS quoted in the list (bytes). */
#define NAME_MAX_SHOWN 64

/* Append "PnN ($PnS), ..." for the first LIST_MAX channels, then
 * ", and N more". */
static void list_channels(char *buf, size_t n, int nch,
                          const char *const *pnn, const char *const *pns)
{
    size_t k = strlen(buf);
    int shown = nch < LIST_MAX ? nch : LIST_MAX;
    for (int j = 0; j < shown && k + 1 < n; j++) {
        int w;
        if (pns && pns[j] && *pns[j])
            w = snprintf(buf + k, n - k, "%s%.*s (%.*s)", j ? ", " : "",
                         NAME_MAX_SHOWN, pnn[j] ? pnn[j] : "?",
                         NAME_MAX_SHOWN, pns[j]);
        else
            w = snprintf(buf + k, n - k, "%s%.*s", j ? ", " : "",
                         NAME_MAX_SHOWN, pnn[j] ? pnn[j] : "?");
        if (w < 0)
            break;
        k += (size_t)w;
        if (k >= n)
            k = n - 1;
    }
    if (nch > shown && k + 1 < n)
        snprintf(buf + k, n - k, ", and %d more", nch - shown);
}

static int set_msg(char **msg, const char *head, int nch,
                   const char *const *pnn, const char *const *pns)
{
    size_t n = strlen(head) + 96 + (size_t)LIST_MAX * (2 * NAME_MAX_SHOWN + 8);
    char *b = malloc(n);
    if (b) {
        snprintf(b, n, "%s; the file's channels ($PnN ($PnS)): ", head);
        list_channels(b, n, nch, pnn, pns);
    }
    if (msg)
        *msg = b;
    else
        free(b);
    return -1;
}

void cg_panel_clear(cg_panel_map *m)
{
    if (!m)
        return;
    free(m->marker);
    free(m->role);
    free(m->missing);
    memset(m, 0, sizeof *m);
}

int cg_panel_resolve(const cg_config *cfg, int nch, const char *const *pnn,
                     const char *const *pns, cg_panel_map *out, char **msg)
{
    memset(out, 0, sizeof *out);
    if (msg)
        *msg = NULL;
    out->nmarkers = cfg->nmarkers;
    out->nroles = cfg->nscatter;
    out->marker = calloc((size_t)cfg->nmarkers + 1, sizeof *out->marker);
    out->role = calloc((size_t)cfg->nscatter + 1, sizeof *out->role);
    if (!out->marker || !out->role) {
        if (msg)
            *msg = strdup("out of memory");
        cg_panel_clear(out);
        return -1;
    }
    char head[512];

    /* scatter roles */
    for (int r = 0; r < cfg->nscatter; r++) {
        const cg_scatter_spec *s = &cfg->scatter[r];
        cg_panel_entry *e = &out->role[r];
        e->channel = -1;
        for (int p = 0; p < s->npatterns && e->channel < 0; p++)
            for (int j = 0; j < nch && e->channel < 0; j++)
                if (pnn[j] && cg_panel_glob(s->patterns[p], pnn[j])) {
                    e->channel = j;
                    snprintf(e->how, sizeof e->how, "$PnN '%s' (pattern '%s')",
                             pnn[j], s->patterns[p]);
                }
        if (e->channel < 0 && !s->optional) {
            snprintf(head, sizeof head, "scatter channel %s not found: no "
                     "$PnN matches its patterns", s->role);
            int r2 = set_msg(msg, head, nch, pnn, pns);
            cg_panel_clear(out);
            return r2;
        }
    }

    /* markers */
    size_t misscap = 1;
    for (int i = 0; i < cfg->nmarkers; i++)
        misscap += strlen(cfg->markers[i].name) + 2;
    char *missing = calloc(misscap, 1);
    if (!missing) {
        cg_panel_clear(out);
        return -1;
    }
    for (int i = 0; i < cfg->nmarkers; i++) {
        const cg_marker_spec *m = &cfg->markers[i];
        cg_panel_entry *e = &out->marker[i];
        e->channel = -1;
        if (m->channel) {
            for (int j = 0; j < nch && e->channel < 0; j++)
                if (pnn[j] && !strcasecmp(pnn[j], m->channel))
                    e->channel = j;
            if (e->channel >= 0) {
                snprintf(e->how, sizeof e->how, "$PnN '%s' (pinned)",
                         pnn[e->channel]);
                continue;
            }
            if (m->optional)
                goto not_found;
            snprintf(head, sizeof head, "marker %s is pinned to channel '%s', "
                     "which the file lacks", m->name, m->channel);
            free(missing);
            int r2 = set_msg(msg, head, nch, pnn, pns);
            cg_panel_clear(out);
            return r2;
        }
        accepted a;
        a.group = cg_panel_aliases(m->name);
        cg_panel_norm(m->name, a.self, sizeof a.self);
        a.m = m;
        for (int t = 0; t < 6 && e->channel < 0; t++) {
            int hit = -1, nhit = 0;
            for (int j = 0; j < nch; j++) {
                if (is_scatter_or_time(pnn[j]))
                    continue;
                const char *s = t < 3 ? (pns ? pns[j] : NULL) : pnn[j];
                if (tier_match(&a, s, t % 3)) {
                    if (nhit == 0)
                        hit = j;
                    nhit++;
                }
            }
            if (nhit > 1) {
                int second = -1;
                for (int j = hit + 1; j < nch && second < 0; j++) {
                    const char *s = t < 3 ? (pns ? pns[j] : NULL) : pnn[j];
                    if (!is_scatter_or_time(pnn[j]) && tier_match(&a, s, t % 3))
                        second = j;
                }
                snprintf(head, sizeof head, "marker %s is ambiguous: channels "
                         "%s and %s both match; pin one with `channel:`",
                         m->name, pnn[hit] ? pnn[hit] : "?",
                         second >= 0 && pnn[second] ? pnn[second] : "?");
                free(missing);
                int r2 = set_msg(msg, head, nch, pnn, pns);
                cg_panel_clear(out);
                return r2;
            }
            if (nhit == 1) {
                e->channel = hit;
                const char *s = t < 3 ? pns[hit] : pnn[hit];
                snprintf(e->how, sizeof e->how, "%s '%s'", t < 3 ? "$PnS" : "$PnN",
                         s);
            }
        }
        if (e->channel >= 0)
            continue;
        if (!m->optional) {
            char names[160] = "";
            size_t k = 0;
            k += (size_t)snprintf(names, sizeof names, "%s", m->name);
            for (int g = 0; a.group && a.group[g] && k < sizeof names; g++)
                k += (size_t)snprintf(names + k, sizeof names - k, ", %s",
                                      a.group[g]);
            snprintf(head, sizeof head, "required marker %s not found (looked "
                     "for $PnS/$PnN named %s)", m->name, names);
            free(missing);
            int r2 = set_msg(msg, head, nch, pnn, pns);
            cg_panel_clear(out);
            return r2;
        }
    not_found:
        if (*missing)
            strcat(missing, ", ");
        strcat(missing, m->name);
    }
    if (*missing)
        out->missing = missing;
    else
        free(missing);
    /* Two markers on one channel is a config or file problem. */
    for (int i = 0; i < cfg->nmarkers; i++)
        for (int k = 0; k < i; k++)
            if (out->marker[i].channel >= 0 &&
                out->marker[i].channel == out->marker[k].channel) {
                snprintf(head, sizeof head, "markers %s and %s both resolve to "
                         "channel %s; pin one with `channel:`",
                         cfg->markers[k].name, cfg->markers[i].name,
                         pnn[out->marker[i].channel]);
                int r2 = set_msg(msg, head, nch, pnn, pns);
                cg_panel_clear(out);
                return r2;
            }
    return 0;
}
