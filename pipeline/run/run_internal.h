/*
 * run_internal.h -- shared between run.c, run_plot.c, batch.c,
 * output.c, and the plot and bench commands; not a public interface.
 *
 * Threading: everything here is per sample (one worker thread).
 */
#ifndef CG_RUN_INTERNAL_H
#define CG_RUN_INTERNAL_H

#include "autogate.h"
#include "config.h"
#include "dims.h"
#include "frame.h"
#include "gatetree.h"
#include "plot.h"
#include "run.h"
#include "xform.h"

/* Append a warning/note to the result (copied). */
void cg_result_warn(cg_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What the per-sample plots need; everything borrowed. */
typedef struct cg_run_plots_ctx {
    const cg_run_ctx *ctx;
    const cg_sample *sample;
    const cg_result *res;
    const cg_frame *fr;
    cg_dims *dc;
    const cg_gatetree *tree;
    const cg_members *mem;
    const int *mk_ch, *role_ch;
    const cg_xform *const *mk_xf;
    const cg_xform *sc_xf;
    const cg_dim *mk_dim, *mk_raw, *role_dim, *role_raw;
} cg_run_plots_ctx;

/* OUTDIR/plots/<sample_id>/: strategy.png, <gate>.png per gate, qc.png.
 * 0 or < 0 with err (the caller records it as a warning). */
int cg_run_plots(const cg_run_plots_ctx *pc, cg_err *err);

/* The transform a config spec names; a logicle with W: auto takes w. */
cg_xform *cg_run_xform(const cg_tf_spec *t, double w, cg_err *err);

/* The half-open bounds [*mn, *mx) a threshold/range dimension keeps: an
 * interval's min/max (unset = unbounded); for a cut t, [t, inf) when
 * keeping above and [-inf, t) below; a NaN cut keeps nothing
 * ([DBL_MAX, inf): never true for finite values, NaN always out).  The
 * one rule for run, bench and the Gating-ML export. */
void cg_run_dim_bounds(const cg_dim_spec *ds, double t, double *mn,
                       double *mx);

/* The density-based cut of one threshold dimension (valley, tail or
 * quantile, per ds) on x[0..n) restricted to parent: the one place the
 * config's method options become auto-gate options, for run and bench.
 * 0 or < 0 with err. */
int cg_run_auto_cut(const cg_dim_spec *ds, const double *x, int64_t n,
                    const cg_bits *parent, cg_threshold_result *tr,
                    cg_err *err);

/* Display range of x over the events in mask (NULL: all): the 0.1 and
 * 99.9 percentiles of the finite values (cg_stat_tails: read in place,
 * no copy), padded by 5%; [0, 1] when there are none.  Shared by the
 * run's figures and `cytogate plot`, so both frame a population alike.
 * 0, or -1 with err (no memory). */
int cg_run_plot_range(const double *x, int64_t n, const cg_bits *mask,
                      double *lo, double *hi, cg_err *err);

/* Memory for a sample's drawings: the free slabs of fr (cg_plot_mem),
 * so figures draw in pages the sample holds already.  NULL when out of
 * memory. */
cg_plot_mem *cg_run_plot_mem(const cg_frame *fr);

/* Natural order of labels ("V2" < "V10"): <0, 0, >0. */
int cg_natural_cmp(const char *a, const char *b);

#endif
