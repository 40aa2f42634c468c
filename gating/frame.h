/*
 * frame.h -- an in-memory event table: n events x nch named channels,
 * stored as one contiguous double column per channel.
 *
 * The frame is the unit every gating stage works on: compensation and
 * transforms rewrite columns in place or add new ones, gates read them.
 * Transparent on purpose (hot loops index col[j][i] directly); change the
 * fields only through the functions below so ownership stays clear.
 *
 * Threading: a frame is not shared between threads while being modified.
 */
#ifndef CG_FRAME_H
#define CG_FRAME_H

#include <stdint.h>

#include "cgerr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fcs_file;

typedef struct cg_frame {
    int64_t n;     /* events */
    int nch;       /* channels in use */
    int cap;       /* allocated channel slots */
    char **name;   /* nch names ($PnN), owned */
    char **label;  /* nch labels ($PnS) or NULL entries, owned */
    double *range; /* nch nominal ranges ($PnR; 0 when unknown) */
    double **col;  /* nch columns of n doubles, owned */
} cg_frame;

/* New frame with n events and no channels.  Owned: cg_frame_free(). */
cg_frame *cg_frame_new(int64_t n);
void cg_frame_free(cg_frame *fr); /* NULL is a no-op */

/* Add a channel; col is taken over (owned by the frame from now on) or,
 * when NULL, allocated zero-filled.  Returns the channel index or < 0. */
int cg_frame_add(cg_frame *fr, const char *name, const char *label,
                 double range, double *col, cg_err *err);

/* Room for a column of n doubles, uninitialised: from 4 MiB up 2 MiB-
 * aligned and advised for transparent huge pages (fcs_alloc_big), so
 * filling it costs a few page faults instead of one per 4 KiB.  Owned:
 * free() or hand it to cg_frame_add().  NULL when out of memory. */
double *cg_frame_col_alloc(int64_t n);

/* Channel index by name: exact match, then case-insensitive; -1 if none. */
int cg_frame_find(const cg_frame *fr, const char *name);

/* Read every parameter of the selected data set of f (view: FCS_RAW or
 * FCS_SCALED) into a new frame.  Owned, or NULL with err filled. */
cg_frame *cg_frame_from_fcs(struct fcs_file *f, int view, cg_err *err);
/* The same with up to nthreads decoding threads (columns dealt in
 * groups, from 2M values on); the frame is bit-identical at any count.
 * cg_frame_from_fcs uses 2. */
cg_frame *cg_frame_from_fcs_threads(struct fcs_file *f, int view,
                                    int nthreads, cg_err *err);

/* Deep copy of the rows where keep[i] != 0 (keep NULL: all rows). */
cg_frame *cg_frame_subset(const cg_frame *fr, const uint8_t *keep,
                          cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
