/*
 * plot_lj.h -- the Levey-Jennings chart of a batch-control series (issue
 * 21): Treg % of CD4, Th17 % of CD4 and the Th17/Treg ratio of the
 * control sample, one point per batch, with the mean and +-2 / +-3 SD
 * lines of the first N batches.
 *
 * Ownership: the returned image is owned (cg_plot_image_free); the input
 * is borrowed for the call.  Threading: as plot.h (one figure per thread).
 */
#ifndef CG_PLOT_LJ_H
#define CG_PLOT_LJ_H

#include "plot.h"

typedef struct cg_plot_lj {
    const char *title;          /* e.g. "Batch control BRIDGE1" */
    int n;                      /* batches (points per metric) */
    const char *const *labels;  /* n batch labels (x axis) */
    const double *v[3];         /* n values each: treg %, th17 %, ratio;
                                   NaN = NA (no point) */
    double mean[3], sd[3];      /* limits; NaN: not established */
    int nfirst;                 /* N, the batches that set the limits */
} cg_plot_lj;

/* Three stacked panels (1000 px wide).  Points beyond +-2 SD are amber,
 * beyond +-3 SD red; the first N batches are shaded; without limits the
 * panel says "establishing limits (k of N batches)".  NULL with err when
 * n < 1 or on no memory. */
cg_plot_image *cg_plot_render_lj(const cg_plot_lj *lj, const cg_plot_meta *m,
                                 cg_err *err);

#endif
