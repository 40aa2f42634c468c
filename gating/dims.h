/*
 * dims.h -- gate dimensions and the per-sample value cache.
 *
 * A dimension (cg_dim) says how one gate coordinate is computed from an
 * event, following Gating-ML 2.0 (spec-notes.md section 2.1):
 *
 *   scale value (the frame, FCS scaled view)
 *     -> compensation: none | the file's spillover ("FCS") | a named
 *        matrix (spillover or spectrum, non-square allowed, optionally
 *        "inverted already"); with a matrix, `name` is a fluorochrome
 *     -> for a ratio dimension: A * (num - B) / (den - C), clamped to
 *        [ratio_min, ratio_max] (the fratio transformation's bounds)
 *     -> optional transform (cg_xform), clamped to [xf_min, xf_max]
 *        (Gating-ML boundMin/boundMax)
 *
 * A cg_dims context belongs to one sample: it borrows the scaled frame,
 * the file's spillover matrix and named matrices, and computes each
 * distinct dimension's value column once, caching it (and each matrix's
 * compensated channels) until cg_dims_free().
 *
 * Threading: a cg_dims is used by one thread at a time (the cache is
 * filled lazily).  cg_dim values are plain data; share read-only.
 */
#ifndef CG_DIMS_H
#define CG_DIMS_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"
#include "comp.h"
#include "frame.h"
#include "xform.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_comp_ref {
    CG_COMP_NONE = 0, /* Gating-ML "uncompensated" */
    CG_COMP_FCS,      /* the file's spillover; uncompensated if it has none */
    CG_COMP_MATRIX    /* the matrix registered under comp_id */
} cg_comp_ref;

typedef struct cg_dim {
    char *name;            /* channel ($PnN) or fluorochrome; NULL for a
                              ratio dimension.  Owned. */
    cg_comp_ref comp;
    char *comp_id;         /* matrix id when comp == CG_COMP_MATRIX; owned */
    /* Ratio ("fratio" new-dimension): both names set, else both NULL. */
    char *ratio_num, *ratio_den;     /* owned */
    double ratio_A, ratio_B, ratio_C;
    double ratio_min, ratio_max;     /* bounds; -inf/+inf when none */
    char *ratio_id;        /* Gating-ML transformation id or NULL; owned */
    /* Optional transform applied last. */
    cg_xform *xf;          /* owned (a copy), borrowed when xf_borrowed,
                              or NULL */
    int xf_borrowed;       /* 1: set by cg_dim_set_xform_shared */
    double xf_min, xf_max; /* bounds; -inf/+inf when none */
    char *xf_id;           /* Gating-ML transformation id or NULL; owned */
} cg_dim;

/* Reset d to "no channel, uncompensated, no transform" (does not free). */
void cg_dim_init(cg_dim *d);
/* Free what d owns and re-init it.  NULL ok. */
void cg_dim_clear(cg_dim *d);
/* Deep copy into dst (dst is overwritten, not freed first). 0 or < 0. */
int cg_dim_copy(cg_dim *dst, const cg_dim *src, cg_err *err);

/* Builders (strings and the transform are copied; comp_id may be NULL
 * unless comp == CG_COMP_MATRIX).  Each returns 0 or < 0 with err. */
int cg_dim_set_channel(cg_dim *d, const char *name, cg_comp_ref comp,
                       const char *comp_id, cg_err *err);
int cg_dim_set_ratio(cg_dim *d, const char *num, const char *den, double A,
                     double B, double C, cg_comp_ref comp,
                     const char *comp_id, cg_err *err);
/* xf NULL removes the transform.  Bounds: pass -INFINITY/INFINITY for none. */
int cg_dim_set_xform(cg_dim *d, const cg_xform *xf, double bound_min,
                     double bound_max, const char *id, cg_err *err);

/* As cg_dim_set_xform, but d borrows xf instead of copying it (building
 * a logicle transform costs milliseconds).  Copies of d (cg_dim_copy)
 * borrow it too: xf must outlive d and every copy of it. */
int cg_dim_set_xform_shared(cg_dim *d, const cg_xform *xf, double bound_min,
                            double bound_max, const char *id, cg_err *err);

/* Short human text, e.g. "PE-A[FCS]|logicle" (for messages, plot labels).
 * Writes at most n bytes (NUL-terminated); returns buf. */
char *cg_dim_describe(const cg_dim *d, char *buf, int n);

/* ---- per-sample context --------------------------------------------- */
typedef struct cg_dims cg_dims; /* opaque */

/* fr: scaled event table, borrowed until cg_dims_free.  fcs_spill: the
 * file's spillover (rows = columns = channel names), borrowed, or NULL
 * when the file has none.  Owned: free with cg_dims_free (NULL ok). */
cg_dims *cg_dims_new(const cg_frame *fr, const cg_matrix *fcs_spill,
                     cg_err *err);
void cg_dims_free(cg_dims *dc);

/* Register a named matrix (borrowed until cg_dims_free).  m: rows =
 * fluorochromes, columns = detectors, as in a Gating-ML spectrumMatrix;
 * with inverted_already, rows = detectors and columns = fluorochromes and
 * values are multiplied as they are.  Re-registering an id with the same
 * pointer is a no-op; a different matrix under a known id is an error. */
int cg_dims_add_matrix(cg_dims *dc, const char *id, const cg_matrix *m,
                       int inverted_already, cg_err *err);

/* Threads a transformed column is computed on (cg_xform_fwd_threads);
 * values are the same at any count.  Default (0): cg_xform_fwd's own. */
void cg_dims_set_threads(cg_dims *dc, int nthreads);
int64_t cg_dims_n(const cg_dims *dc);          /* events */
const cg_frame *cg_dims_frame(const cg_dims *dc);

/* The values of dimension d for every event: borrowed, valid until
 * cg_dims_free.  Computed on first request, then served from the cache;
 * without ratio and transform (or with an unbounded identity) it is the
 * frame's or compensation block's column itself (a float-held channel,
 * frame.h: read once into a cached column).
 * NULL with err (naming the channel/matrix) when it cannot be resolved. */
const double *cg_dims_get(cg_dims *dc, const cg_dim *d, cg_err *err);

/* ---- values of a subset of the events ------------------------------ */
/* Compact mode (cytogate run): a gate evaluated on its parent's events
 * (cg_gate_eval) computes a transformed or ratio dimension for those
 * events only, through cg_dims_gathered, instead of for every event into
 * a cached column.  Off by default (cg_dims_get's whole columns). */
void cg_dims_set_compact(cg_dims *dc, int on);
int cg_dims_compact(const cg_dims *dc);

/* 1 when d's values for every event are a column at hand: a channel
 * without ratio or transform (the frame's or compensation block's
 * column) or a column already cached; 0 when they would be computed. */
int cg_dims_is_column(cg_dims *dc, const cg_dim *d);

/* 1 when d, for the events of parent (NULL: every event), is to be
 * gathered: compact mode and d not a column at hand.  Every event is
 * gathered too, so a root gate's computed dims are not cached whole:
 * their memory goes back after the gate.  The one rule the gates, auto
 * gates and figures follow. */
int cg_dims_gathers(cg_dims *dc, const cg_bits *parent, const cg_dim *d);

/* The values of d for the events set in `in` (NULL: every event), in
 * event order, *count of them: the same values, bit for bit, as
 * cg_dims_get's column at those events.  Borrowed until
 * cg_dims_gather_drop or cg_dims_free (the sets are carved from slabs
 * of the frame's, cg_frame_slab_get, given back together).  Asking
 * again for the same d and
 * the same set (compared by content) returns the same values without
 * computing them.  NULL with err as cg_dims_get. */
const double *cg_dims_gathered(cg_dims *dc, const cg_dim *d,
                               const cg_bits *in, int64_t *count,
                               cg_err *err);
/* Forget every gathered set (their pointers become invalid). */
void cg_dims_gather_drop(cg_dims *dc);
/* Forget every value held: the gathered sets and the cached whole
 * columns (all pointers from cg_dims_get and cg_dims_gathered become
 * invalid; asked again, values are computed again, the same).  Their
 * slabs go back to the frame. */
void cg_dims_cache_drop(cg_dims *dc);

/* Cache statistics (tests): distinct value columns computed so far. */
int cg_dims_n_cached(const cg_dims *dc);

#ifdef __cplusplus
}
#endif

#endif
