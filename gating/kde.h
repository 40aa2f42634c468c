/*
 * kde.h -- binned kernel density estimates (1-D and 2-D) computed with
 * FFTW: the data are linearly binned onto a regular grid, and the bin
 * weights are convolved with a Gaussian kernel by zero-padded real FFTs
 * (r2c, pointwise product, c2r).  The auto gates (autogate.h) read these.
 *
 * Bandwidth rule (documented contract; `adjust` multiplies it):
 *   1-D  h = 0.9 * s * n^(-1/5)       Silverman's rule of thumb (R bw.nrd0)
 *   2-D  h_k = s_k * n^(-1/6)         Scott's rule for d = 2, per axis
 *   where s = min(sd, IQR / 1.349), the robust spread; when that is 0 the
 *   non-zero one of sd and IQR/1.349 is used, and when both are 0 (all
 *   values equal) s = |mean| * 0.1, or 1 when the mean is 0 (R bw.nrd0's
 *   fallbacks).  n is the number of finite values used.
 *
 * Grid: `m` points from lo to hi inclusive (dx = (hi - lo) / (m - 1)).
 * Unless the caller fixes lo/hi, the grid spans the data range extended by
 * `cut` bandwidths on each side (R density()'s cut = 3), or with `trim`
 * the robust range (cg_kde_opts.trim).  Values outside
 * the grid are dropped from the bins but still counted in n, so the
 * estimate is the density of all the values used.  The kernel is not
 * truncated (the FFT is padded to at least 2m - 1 per axis, so there is no
 * wrap-around).  Error against the exact sum (1/nh) sum_i phi((g - x_i)/h)
 * comes only from linear binning: O((dx/h)^2) relative; test_kde bounds it.
 *
 * Non-finite values (NaN, +-inf) are skipped.  An optional mask (cg_bits,
 * one bit per event) selects the events to use; NULL uses all.
 *
 * Determinism: plans are made with FFTW_ESTIMATE (never MEASURE, whose
 * choice depends on timing), and the same input gives the same bytes.
 *
 * Threading: FFTW's planner is NOT thread-safe -- only fftw_execute (and
 * the new-array execute functions) are, per FFTW's "Thread safety" page.
 * kde.c therefore builds plans under one process-wide mutex, caches them
 * per transform size (the only global state of this module), and executes
 * them from any thread with fftw_execute_dft_r2c/_c2r on per-call arrays.
 * Every function here may be called concurrently.  Other code in the same
 * process that calls the FFTW planner must not run at the same time, or
 * must take cg_kde_plan_lock()/cg_kde_plan_unlock() around its planning.
 *
 * Ownership: cg_kde1/cg_kde2 results own their arrays; release with
 * cg_kde1_release / cg_kde2_release (a zeroed struct is fine to release).
 */
#ifndef CG_KDE_H
#define CG_KDE_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cg_kde_opts {
    int m;          /* grid points per axis [512 for 1-D, 128 for 2-D] */
    double adjust;  /* bandwidth multiplier [1] */
    double bw;      /* > 0: use this bandwidth as is (1-D, and x in 2-D) */
    double bw_y;    /* > 0: 2-D y bandwidth as is */
    double cut;     /* grid extension beyond the data in bandwidths [3] */
    double lo, hi;  /* 1-D / x grid limits; used when lo < hi */
    double ylo, yhi;/* 2-D y grid limits; used when ylo < yhi */
    /* 1-D robust range: when 0 < trim < 0.25, the spread's sd is taken
     * over the values between the trim and 1 - trim quantiles, and the
     * grid (unless lo/hi are fixed) spans those quantiles extended by
     * `cut` bandwidths, so a few extreme events (saturated or far
     * negative) neither squeeze the grid nor widen the bandwidth.  Values
     * outside the grid still count in n (see Grid above).  [0: off] */
    double trim;
} cg_kde_opts;

/* Defaults (all limits unset). */
void cg_kde_opts_init(cg_kde_opts *o);

typedef struct cg_kde1 {
    int m;        /* grid points */
    double lo, dx;/* grid[i] = lo + i * dx */
    double h;     /* bandwidth used */
    int64_t n;    /* finite values used */
    double *y;    /* m densities (integrate to ~1 over the grid); owned */
} cg_kde1;

typedef struct cg_kde2 {
    int mx, my;
    double xlo, dx, ylo, dy;
    double hx, hy;
    int64_t n;    /* events whose x and y are both finite */
    double *z;    /* my * mx densities, z[iy * mx + ix]; owned */
} cg_kde2;

/* R quantile type 7 (p in [0, 1]) of the finite values v[0..n), by
 * selection in O(n): the same value as sorting and interpolating.  v is
 * reordered.  NaN when n < 1. */
double cg_kde_quantile7(double *v, int64_t n, double p);

/* 1-D estimate of x[0..n) (events with mask bit set, or all when mask is
 * NULL).  o NULL = defaults.  Fewer than 2 finite values is CG_E_DATA.
 * 0 or < 0 with err; on error *out is zeroed. */
int cg_kde1_compute(const double *x, int64_t n, const cg_bits *mask,
                    const cg_kde_opts *o, cg_kde1 *out, cg_err *err);
void cg_kde1_release(cg_kde1 *k);
static inline double cg_kde1_x(const cg_kde1 *k, int i)
{
    return k->lo + i * k->dx;
}

/* 2-D estimate of the pairs (x[i], y[i]).  Same conventions. */
int cg_kde2_compute(const double *x, const double *y, int64_t n,
                    const cg_bits *mask, const cg_kde_opts *o, cg_kde2 *out,
                    cg_err *err);
void cg_kde2_release(cg_kde2 *k);

/*
 * Gathered values: the used values (finite, masked) of one column copied
 * once, in event order, with their sum (accumulated in that order) and
 * range, so that several estimates and quantiles of the same data read
 * one array.  An estimate from a cg_kde_vals is byte-identical to
 * cg_kde1_compute on the column and mask it was gathered from.
 */
typedef struct cg_kde_vals {
    const double *v;  /* n values, event order; read-only */
    int64_t n;
    double sum;       /* sum of v in order (0 when n = 0) */
    double min, max;  /* range of v (unspecified when n = 0) */
    double *buf;      /* owned storage of v, or NULL when v borrows the
                         caller's column (cg_kde_vals_release frees it) */
} cg_kde_vals;

/* Gather the used values of x[0..n) (mask NULL = all events; then, when
 * every value is finite, v borrows x, valid while x is).  0, or
 * CG_E_NOMEM with err (*out zeroed).  Release with cg_kde_vals_release. */
int cg_kde_vals_gather(const double *x, int64_t n, const cg_bits *mask,
                       cg_kde_vals *out, cg_err *err);
void cg_kde_vals_release(cg_kde_vals *d); /* NULL or zeroed: no-op */

/* cg_kde1_compute of gathered values (d is not modified). */
int cg_kde1_compute_vals(const cg_kde_vals *d, const cg_kde_opts *o,
                         cg_kde1 *out, cg_err *err);

/* R type 7 quantiles p[0..np) (each in [0, 1]) of the values of d into
 * q[0..np), without reordering d->v: a 4096-bucket histogram over
 * [min, max] locates the order statistics, which are selected among the
 * values of their buckets; the same values as cg_kde_quantile7.  d->min
 * and d->max must be the range of d->v.  NaN when d->n < 1.  0, or -1 on
 * no memory. */
int cg_kde_vals_quantiles(const cg_kde_vals *d, const double *p, int np,
                          double *q);

/* The pairs (x[i], y[i]) with both coordinates finite (masked), gathered
 * once in event order (borrowing x and y when mask is NULL and all are
 * finite): x and y are cg_kde_vals over those pairs; nx is
 * the number of masked events whose x alone is finite (nx == x.n means
 * x.v is exactly what cg_kde_vals_gather(x, n, mask) would gather). */
typedef struct cg_kde_pairs {
    cg_kde_vals x, y; /* release with cg_kde_pairs_release */
    int64_t nx;
} cg_kde_pairs;

int cg_kde_pairs_gather(const double *x, const double *y, int64_t n,
                        const cg_bits *mask, cg_kde_pairs *out, cg_err *err);
void cg_kde_pairs_release(cg_kde_pairs *pp); /* NULL or zeroed: no-op */

/* cg_kde2_compute of gathered pairs (pp is not modified). */
int cg_kde2_compute_pairs(const cg_kde_pairs *pp, const cg_kde_opts *o,
                          cg_kde2 *out, cg_err *err);

/* The bandwidth rules above, for the finite values of x (masked).  1-D:
 * Silverman; cg_kde_bw_scott2: s * n^(-1/6).  NaN when n < 2. */
double cg_kde_bw_silverman(const double *x, int64_t n, const cg_bits *mask);
double cg_kde_bw_scott2(const double *x, int64_t n, const cg_bits *mask);

/* Linear binning as used by the estimates: w[0..m) receives, for each
 * finite value inside [lo, lo + (m-1) dx], weight 1 split between its two
 * neighbouring grid points.  Exposed for tests (direct-sum comparison). */
void cg_kde_linbin(const double *x, int64_t n, const cg_bits *mask,
                   double lo, double dx, int m, double *w);

/* The planner lock (see Threading above). */
void cg_kde_plan_lock(void);
void cg_kde_plan_unlock(void);

/* Destroy every cached plan (e.g. before fftw_cleanup at exit).  Must not
 * run concurrently with any estimate. */
void cg_kde_cache_clear(void);

#ifdef __cplusplus
}
#endif

#endif
