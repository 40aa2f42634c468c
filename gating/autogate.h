/*
 * autogate.h -- data-driven gates computed per sample from kernel density
 * estimates (kde.h): valley, tail, quantile (1-D thresholds), singlets
 * (FSC-A vs FSC-H band) and scatter (2-D density contour polygon).
 *
 * Every gate works on a double array (plus an optional cg_bits mask of the
 * events to use, e.g. the parent population) in whatever units the caller
 * passes -- the pipeline passes transformed values -- and reports what it
 * chose AND whether it had to fall back, with a reason, for QC.  Results
 * are deterministic: same input, same bytes.  Non-finite values are
 * skipped.  Fewer than CG_AUTOGATE_MIN_N usable events is not an error:
 * the gate falls back (threshold NaN, so neither side selects anything;
 * scatter/singlets: empty), flagged, with the reason.
 *
 * Peaks (valley, tail): local maxima of the density on its grid (plateaus
 * count once, at their centre), each with its topographic prominence
 * (height above the higher of the two lowest points separating it from
 * higher ground on either side, the grid edge counting as 0).  Peaks with
 * prominence < min_prominence * (highest density), or below 2.5 standard
 * errors of the estimate at the peak, are noise and ignored.
 * The "dominant" peaks are the two of largest prominence (ties: higher,
 * then leftmost).
 *
 * Threading: no shared state except the KDE plan cache (thread-safe);
 * call from any thread.  Ownership: cg_scatter_result owns its vertex
 * arrays (cg_scatter_result_release).
 */
#ifndef CG_AUTOGATE_H
#define CG_AUTOGATE_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"
#include "kde.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CG_AUTOGATE_MIN_N 20
/* tail: the negative population's edge is where its density first falls
 * below this fraction of its peak height (rule "edge", cg_gate_tail). */
#define CG_TAIL_EDGE 0.02

typedef struct cg_autogate_opts {
    /* valley: search range for the cut [lo, hi]; unset when lo >= hi. */
    double lo, hi;
    /* valley, tail: KDE bandwidth multiplier [1]; grid points [512]. */
    double adjust;
    int grid;
    /* valley, tail: peaks below this fraction of the highest density in
     * prominence are ignored [0.01]. */
    double min_prominence;
    /* tail: when > 0, the old density-fraction rule: the cut is where the
     * density beyond the main peak falls below fraction x its height.
     * 0 [default]: the spread rule (below). */
    double fraction;
    /* tail: +1 = the cut goes above the main peak (higher values)
     * [default], -1 = below. */
    int side;
    /* valley with one peak: +1 = the cut goes above the peak (the peak is
     * the low population), -1 = below it (the peak is the high
     * population), 0 = no cut (the gate fails, threshold NaN).  [+1] */
    int one_peak;
    /* spread rule multiplier: cut = mode +- k x spread of the main peak
     * [4]. */
    double k;
    /* valley with one peak that the gate keeps (keep below with one_peak
     * +1, keep above with -1): the cut keeps at least this fraction of
     * the events, i.e. it is pushed out to the 1 - keep_min (or keep_min)
     * quantile when the spread rule lands inside the bulk (zero-inflated
     * counts, a spike of equal values) [0.99]; 0 = off.  Set by the
     * caller: keep_peak = 1 enables it. */
    int keep_peak;
    double keep_min;
    /* valley: move the cut from the density minimum to where the two
     * populations' weighted normal densities meet (refine_cut in
     * autogate.c; rule "valley: balanced") [0] */
    int refine;
    /* robust grid (kde.h cg_kde_opts.trim) [0.001]; 0 = data min..max. */
    double trim;
    /* quantile: q in [0, 1] [0.5]. */
    double q;
} cg_autogate_opts;

void cg_autogate_opts_init(cg_autogate_opts *o);

/* Result of a 1-D threshold gate. */
typedef struct cg_threshold_result {
    double threshold;  /* the cut (NaN only when too few events or
                          one_peak = 0 found one peak) */
    int fell_back;     /* 1: the primary rule did not apply */
    char reason[200];  /* why it fell back, or how a one-peak cut was
                          placed; "" otherwise */
    char rule[24];     /* the rule that placed the cut (see below) */
    int64_t n;         /* events used */
    double bandwidth;  /* KDE bandwidth (NaN for quantile) */
    double grid_lo, grid_hi; /* the KDE grid (NaN for quantile) */
    int npeaks;        /* significant peaks found (valley, tail) */
    double peak[2];    /* dominant peak positions, ascending (NaN unused) */
    double mode;       /* the highest peak (NaN for quantile) */
    double spread;     /* robust SD of the main peak when the spread rule
                          ran (NaN otherwise) */
    double depth;      /* valley: density at the cut / lower dominant peak
                          height (0 = empty valley, 1 = no dip); NaN else */
} cg_threshold_result;

/*
 * Density: the KDE (kde.h) of the used values on a robust grid: the
 * 0.1-99.9 % quantile range (opts.trim) widened by 3 bandwidths, with
 * Silverman's bandwidth from the trimmed sd and the IQR, in the units of
 * x (the pipeline passes transformed values).  Events outside the grid do
 * not shape the density but are still gated by the cut.
 *
 * Spread of the main peak (the "spread rule"): s = 1.4826 x the median
 * distance from the mode of the events on the side AWAY from the cut
 * (a half-MAD about the mode, so the other population on the cut side
 * does not inflate it); cut = mode + side x k x s.
 *
 * Rules (cg_threshold_result.rule): "valley", "spread", "edge",
 * "one peak: above",
 * "one peak: below", "one peak: fail", "fraction", "quantile",
 * "too few events".
 */

/*
 * valley: the x of the deepest local minimum of the density (grid point
 * no higher than either neighbour) strictly between the two dominant
 * peaks, considering only grid points inside [lo, hi] when a search range
 * is set (ties: leftmost).  Rule "valley".
 * Fallback (flagged) when there are fewer than two significant peaks, or
 * no local minimum between the two dominant peaks lies inside [lo, hi]:
 * the one-peak rule: the spread rule with side = one_peak, i.e. the cut
 * lies k spreads above (one_peak +1) or below (-1) the main peak, never
 * through it; when the lone peak is the kept side (keep_peak), no closer
 * than the quantile that keeps keep_min of the events; clamped to
 * [lo, hi] when a range is set.  One significant peak that the gate
 * keeps (keep_peak) is not flagged as a fallback: it is what a clean
 * sample looks like (a viability channel with few dead cells); the rule
 * and reason still say how the cut was placed.  one_peak 0: no
 * cut (rule "one peak: fail").
 */
int cg_gate_valley(const double *x, int64_t n, const cg_bits *mask,
                   const cg_autogate_opts *o, cg_threshold_result *r,
                   cg_err *err);

/*
 * tail: the main (highest) peak is the negative population; the cut goes
 * on `side` of it.  When significant peaks lie on that side (positive
 * populations), the cut is a valley: walking out from the main peak
 * through them in order, the deepest local minimum between two
 * consecutive peaks, by depth relative to the lower of the two (ties: the
 * nearest to the main peak; rule "valley").  So with bulk, intermediate
 * and high populations (CD25: resting, activated, Treg) the cut goes where
 * they are best separated.  Otherwise the nearer of two cuts: the spread
 * rule, k robust SDs of the main peak beyond its mode (rule "spread"),
 * and the negative's edge, the first x beyond the peak where the density
 * falls below CG_TAIL_EDGE (1 %) of the peak height (rule "edge"; 3.03
 * SDs for a normal peak, and on a skewed peak -- long on the far side,
 * steep on the cut side -- it follows the cut side, so a dim positive
 * population too small to make a peak is not cut away).
 * With fraction > 0, instead, the old rule: the first x beyond the peak
 * where the density falls below fraction x the peak height (rule
 * "fraction"; fallback to the grid end when it never does).
 */
int cg_gate_tail(const double *x, int64_t n, const cg_bits *mask,
                 const cg_autogate_opts *o, cg_threshold_result *r,
                 cg_err *err);

/* quantile: the q-quantile of the used values (R type 7: linear
 * interpolation between order statistics).  Falls back only when too few
 * events. */
int cg_gate_quantile(const double *x, int64_t n, const cg_bits *mask,
                     const cg_autogate_opts *o, cg_threshold_result *r,
                     cg_err *err);

/*
 * singlets: uses events with a > 0 and h > 0 (linear scatter units).
 * k = the mode of the KDE of the ratio a/h (ratios clipped to [0.1, 10]);
 * singlet when k (1 - tolerance) <= a/h <= k (1 + tolerance), i.e. within
 * `tolerance` relative distance of the diagonal a = k h.  Fallback (flagged)
 * when too few events: k NaN, nothing is a singlet.
 */
typedef struct cg_singlets_result {
    double k;            /* mode of a/h */
    double ratio_lo, ratio_hi;
    double tolerance;
    int fell_back;
    char reason[200];
    int64_t n;
    double bandwidth;
    /* The band as a polygon for plots and polygon gates, x = a, y = h:
     * (amin, amin/ratio_hi), (amax, amax/ratio_hi), (amax, amax/ratio_lo),
     * (amin, amin/ratio_lo), amin/amax = range of the used a values. */
    double poly[8];      /* 4 vertices, x0 y0 x1 y1 ... */
} cg_singlets_result;

int cg_gate_singlets(const double *a, const double *h, int64_t n,
                     const cg_bits *mask, double tolerance,
                     cg_singlets_result *r, cg_err *err);
/* Membership: out = parent AND singlet band (out caller-owned, n events;
 * parent NULL = all). */
int cg_singlets_apply(const cg_singlets_result *r, const double *a,
                      const double *h, int64_t n, const cg_bits *parent,
                      cg_bits *out, cg_err *err);

/*
 * scatter: 2-D KDE of (x, y) on a grid x grid mesh (Scott bandwidths x
 * adjust) over the robust box (per axis the 0.5-99.5 % quantiles widened
 * by 10 % of their span), so ceiling piles and far outliers do not shape
 * it -- any instrument's scatter range works.
 * Debris: when the 1-D density of x has a significant peak in the bottom
 * 20 % of the box and a dip of >= 5 % of the highest density before the
 * next peak, x below that valley is debris (debris_cut).
 * Mode: every grid node belongs to the local maximum its steepest ascent
 * reaches (its basin).  Candidates are maxima with >= 10 % of the highest
 * density and >= 5 % of the mass, inside the box [xlo, xhi] x [ylo, yhi]
 * when set, not in the debris; the gate's mode is the candidate lowest on
 * y (lymphocytes: the low-SSC mode; rule "lowest-y mode"), else the
 * highest node ("highest point").
 * Region: the 4-connected set of grid nodes of the mode's basin with
 * density >= level x mode density, right of the debris cut; the gate is
 * its outer contour, traced by marching squares (holes ignored), as a
 * closed polygon (first vertex not repeated) in data units,
 * counter-clockwise.  Fallback (flagged) when too few events: no polygon
 * (nvert 0).
 */
typedef struct cg_scatter_opts {
    double level;          /* contour level as a fraction of the mode [0.05] */
    double adjust;         /* bandwidth multiplier [1] */
    int grid;              /* grid points per axis [128] */
    double xlo, xhi, ylo, yhi; /* mode search box; each pair unset when lo>=hi */
} cg_scatter_opts;

void cg_scatter_opts_init(cg_scatter_opts *o);

typedef struct cg_scatter_result {
    double mode_x, mode_y;
    double mode_density, level_density;
    double hx, hy;
    int64_t n;
    int fell_back;
    char reason[200];
    char rule[24];         /* "lowest-y mode", "highest point", ... */
    double debris_cut;     /* x below it is debris (NaN: none found) */
    int nvert;
    double *vx, *vy;       /* nvert vertices; owned */
} cg_scatter_result;

int cg_gate_scatter(const double *x, const double *y, int64_t n,
                    const cg_bits *mask, const cg_scatter_opts *o,
                    cg_scatter_result *r, cg_err *err);
void cg_scatter_result_release(cg_scatter_result *r);

/* Even-odd point-in-polygon for the scatter result (for tests/tools):
 * out = parent AND inside. */
int cg_scatter_apply(const cg_scatter_result *r, const double *x,
                     const double *y, int64_t n, const cg_bits *parent,
                     cg_bits *out, cg_err *err);

/* The main (highest) peak of the used values' density (robust grid, as
 * the threshold gates) and its robust SD (1.4826 x the median distance
 * of all used events from the mode).  0, or < 0 with err; NaNs when too
 * few events. */
int cg_main_peak(const double *x, int64_t n, const cg_bits *mask,
                 double *mode, double *spread, cg_err *err);

/* Threshold membership helper, with the rectangle gate's convention
 * (min <= x < max): out = parent AND (x >= t when above, else x < t);
 * NaN t selects nothing. */
int cg_threshold_apply(double t, int above, const double *x, int64_t n,
                       const cg_bits *parent, cg_bits *out, cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
