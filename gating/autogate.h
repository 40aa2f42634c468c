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
 * prominence < min_prominence * (highest density) are noise and ignored.
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

#define CG_AUTOGATE_MIN_N 20

typedef struct cg_autogate_opts {
    /* valley: search range for the cut [lo, hi]; unset when lo >= hi. */
    double lo, hi;
    /* valley, tail: KDE bandwidth multiplier [1]; grid points [512]. */
    double adjust;
    int grid;
    /* valley, tail: peaks below this fraction of the highest density in
     * prominence are ignored [0.005]. */
    double min_prominence;
    /* tail: density fraction of the main peak's height [0.001]; valley
     * fallback: the same rule with fallback_fraction [0.01]. */
    double fraction;
    double fallback_fraction;
    /* tail, valley fallback: +1 = look right of the main peak (higher
     * values) [default], -1 = left. */
    int side;
    /* quantile: q in [0, 1] [0.5]. */
    double q;
} cg_autogate_opts;

void cg_autogate_opts_init(cg_autogate_opts *o);

/* Result of a 1-D threshold gate. */
typedef struct cg_threshold_result {
    double threshold;  /* the cut (NaN only when too few events) */
    int fell_back;     /* 1: the primary rule did not apply */
    char reason[200];  /* why it fell back; "" otherwise */
    int64_t n;         /* events used */
    double bandwidth;  /* KDE bandwidth (NaN for quantile) */
    int npeaks;        /* significant peaks found (valley, tail) */
    double peak[2];    /* dominant peak positions, ascending (NaN unused) */
    double depth;      /* valley: density at the cut / lower dominant peak
                          height (0 = empty valley, 1 = no dip); NaN else */
} cg_threshold_result;

/*
 * valley: the x of the deepest local minimum of the density (grid point
 * no higher than either neighbour) strictly between the two dominant
 * peaks, considering only grid points inside [lo, hi] when a search range
 * is set (ties: leftmost).
 * Fallback (flagged) when there are fewer than two significant peaks, or
 * no local minimum between the two dominant peaks lies inside [lo, hi]:
 * the threshold is where the density, going from the highest peak
 * towards `side`, first falls below fallback_fraction x its height
 * (linear interpolation between grid points), then clamped to [lo, hi]
 * when a range is set.
 */
int cg_gate_valley(const double *x, int64_t n, const cg_bits *mask,
                   const cg_autogate_opts *o, cg_threshold_result *r,
                   cg_err *err);

/*
 * tail: starting at the highest peak (the main population), walk towards
 * `side`; the threshold is the first x where the density falls below
 * fraction x the peak height (linearly interpolated).  Fallback (flagged)
 * when it never does inside the grid: the grid end on that side.
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
 * adjust); the mode is the highest grid density (restricted to the box
 * [xlo, xhi] x [ylo, yhi] when set).  The region is the 4-connected set of
 * grid nodes with density >= level x mode density that contains the mode;
 * the gate is its outer contour at that level, traced by marching squares
 * (holes ignored), as a closed polygon (first vertex not repeated) in data
 * units, counter-clockwise.  Fallback (flagged) when too few events: no
 * polygon (nvert 0).
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

/* Threshold membership helper, with the rectangle gate's convention
 * (min <= x < max): out = parent AND (x >= t when above, else x < t);
 * NaN t selects nothing. */
int cg_threshold_apply(double t, int above, const double *x, int64_t n,
                       const cg_bits *parent, cg_bits *out, cg_err *err);

#endif
