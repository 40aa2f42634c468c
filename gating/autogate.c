/*
 * autogate.c -- 1-D auto gates: valley, tail, quantile, and the threshold
 * membership helper (autogate.h states each rule and its fallback).
 *
 * Each gate gathers the used values once (cg_kde_vals: its KDE, peak
 * spreads, quantiles and counts all read that array; quantiles by the
 * histogram selection, which leaves it in event order), computes one KDE
 * (kde.h) on a fixed grid, finds the significant peaks with their
 * prominence, and applies its rule on the grid; nothing depends on
 * anything but the values, the mask and the options, so results are
 * deterministic.  A gate never fails because the data are awkward: it
 * falls back, sets fell_back and says why in
 * reason.  Errors (< 0) are only for bad arguments and lack of memory.
 *
 * Threading: no state; the KDE's plan cache is thread-safe.
 */
#include "autogate.h"
#include "frame.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_autogate_opts_init(cg_autogate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->adjust = 1.0;
    o->grid = 512;
    o->min_prominence = 0.01;
    o->fraction = 0;
    o->side = 1;
    o->one_peak = 1;
    o->k = 4.0;
    o->keep_min = 0.99;
    o->trim = 0.001;
    o->q = 0.5;
}

static void result_init(cg_threshold_result *r)
{
    memset(r, 0, sizeof *r);
    r->threshold = NAN;
    r->bandwidth = NAN;
    r->grid_lo = r->grid_hi = NAN;
    r->peak[0] = r->peak[1] = NAN;
    r->mode = NAN;
    r->spread = NAN;
    r->depth = NAN;
}

static void set_rule(cg_threshold_result *r, const char *rule)
{
    snprintf(r->rule, sizeof r->rule, "%s", rule);
}

static void fall_back(cg_threshold_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fall_back(cg_threshold_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->fell_back = 1;
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static int check_args(const double *x, int64_t n, const cg_bits *mask,
                      cg_err *err)
{
    if (n < 0 || (n > 0 && !x))
        return cg_err_set(err, CG_E_ARG, "autogate: no data");
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "autogate: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    return 0;
}

/* ---- peaks ------------------------------------------------------------- */

typedef struct peak {
    int i;          /* grid index (plateau centre) */
    double height, prom;
} peak;

/* Local maxima of y[0..m) (outside the grid counts as lower), plateaus
 * once at their centre, with topographic prominence (edge base = 0).
 * Returns the count written to pk (at most m). */
static int find_peaks(const double *y, int m, peak *pk)
{
    int np = 0;
    int i = 0;
    while (i < m) {
        int j = i;
        while (j + 1 < m && y[j + 1] == y[i])
            j++;
        int left_lower = i == 0 || y[i - 1] < y[i];
        int right_lower = j == m - 1 || y[j + 1] < y[j];
        if (left_lower && right_lower && y[i] > 0) {
            pk[np].i = (i + j) / 2;
            pk[np].height = y[i];
            np++;
        }
        i = j + 1;
    }
    for (int p = 0; p < np; p++) {
        double h = pk[p].height, lb = h, rb = h;
        int hit = 0;
        for (int k = pk[p].i - 1; k >= 0; k--) {
            if (y[k] > h) {
                hit = 1;
                break;
            }
            if (y[k] < lb)
                lb = y[k];
        }
        if (!hit)
            lb = 0;
        hit = 0;
        for (int k = pk[p].i + 1; k < m; k++) {
            if (y[k] > h) {
                hit = 1;
                break;
            }
            if (y[k] < rb)
                rb = y[k];
        }
        if (!hit)
            rb = 0;
        pk[p].prom = h - (lb > rb ? lb : rb);
    }
    return np;
}

static int cmp_peak(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    if (p->prom != q->prom)
        return p->prom > q->prom ? -1 : 1;
    if (p->height != q->height)
        return p->height > q->height ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Significant peaks sorted by dominance; returns their count.  A peak is
 * significant when its prominence is at least min_prom of the highest
 * density and at least CG_PEAK_Z standard errors of the estimate at the
 * peak (a Gaussian KDE's pointwise SE is sqrt(f / (2 sqrt(pi) n h))), so
 * the wiggles of a small sample are not taken for populations. */
#define CG_PEAK_Z 2.5
static int significant_peaks(const cg_kde1 *k, double min_prom, peak *pk)
{
    double ymax = 0;
    for (int i = 0; i < k->m; i++)
        if (k->y[i] > ymax)
            ymax = k->y[i];
    int np = find_peaks(k->y, k->m, pk), ns = 0;
    for (int p = 0; p < np; p++)
        if (pk[p].prom >= min_prom * ymax &&
            pk[p].prom >= CG_PEAK_Z * sqrt(pk[p].height /
                                           (2 * sqrt(M_PI) * (double)k->n *
                                            k->h)))
            pk[ns++] = pk[p];
    qsort(pk, (size_t)ns, sizeof *pk, cmp_peak);
    return ns;
}

/* Global maximum (leftmost). */
static int main_peak(const cg_kde1 *k)
{
    int b = 0;
    for (int i = 1; i < k->m; i++)
        if (k->y[i] > k->y[b])
            b = i;
    return b;
}

/* From grid index p walk towards side until y < frac * y[p]; the crossing
 * x by linear interpolation.  Returns 0, or -1 (x = grid end) when the
 * density never falls that low. */
static int walk_down(const cg_kde1 *k, int p, int side, double frac,
                     double *x)
{
    double t = frac * k->y[p];
    int step = side < 0 ? -1 : 1;
    for (int i = p + step; i >= 0 && i < k->m; i += step) {
        if (k->y[i] < t) {
            int j = i - step;
            double y0 = k->y[j], y1 = k->y[i];
            double f = y0 > y1 ? (y0 - t) / (y0 - y1) : 0.0;
            *x = cg_kde1_x(k, j) + f * (cg_kde1_x(k, i) - cg_kde1_x(k, j));
            return 0;
        }
    }
    *x = cg_kde1_x(k, step > 0 ? k->m - 1 : 0);
    return -1;
}

/* Common set-up: the used values (gathered once into *d, which the
 * caller releases in every case), KDE.  Returns 1 when the caller should
 * stop (too few events: result filled as a fallback), 0 to go on, < 0 on
 * error. */
static int prepare(const double *x, int64_t n, const cg_bits *mask,
                   const cg_autogate_opts *o, cg_threshold_result *r,
                   cg_kde_vals *d, cg_kde1 *k, cg_err *err)
{
    memset(d, 0, sizeof *d);
    int rc = check_args(x, n, mask, err);
    if (rc < 0)
        return rc;
    rc = cg_kde_vals_gather(x, n, mask, d, err);
    if (rc < 0)
        return rc;
    r->n = d->n;
    if (r->n < CG_AUTOGATE_MIN_N) {
        fall_back(r, "only %lld usable events (need %d)", (long long)r->n,
                  CG_AUTOGATE_MIN_N);
        set_rule(r, "too few events");
        return 1;
    }
    cg_kde_opts ko;
    cg_kde_opts_init(&ko);
    ko.m = o->grid > 0 ? o->grid : 512;
    ko.adjust = o->adjust > 0 ? o->adjust : 1.0;
    ko.trim = o->trim;
    rc = cg_kde1_compute_vals(d, &ko, k, err);
    if (rc < 0)
        return rc;
    r->bandwidth = k->h;
    r->grid_lo = k->lo;
    r->grid_hi = cg_kde1_x(k, k->m - 1);
    return 0;
}

/* The used values of a gate with a scratch array of as many doubles,
 * made on first use (peak_spread). */
typedef struct used {
    cg_kde_vals d;
    double *tmp;
} used;

static void used_release(used *u)
{
    cg_kde_vals_release(&u->d);
    cg_frame_scratch_free(u->tmp);
    u->tmp = NULL;
}

/* Robust SD of the main peak at `mode`, from the events on the side
 * opposite to `side` (side +1: the events <= mode): 1.4826 x the median
 * of |x - mode| over them.  When that side holds fewer than 10 events
 * (a peak at the edge of the data), both sides are used.  NaN when no
 * event is usable; 0 is possible (many equal values). */
static double peak_spread(used *u, double mode, int side)
{
    const cg_kde_vals *d = &u->d;
    if (!u->tmp && !(u->tmp = cg_frame_scratch_alloc(d->n)))
        return NAN;
    double *dd = u->tmp, dmin = INFINITY, dmax = -INFINITY;
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        int both = pass == 1;
        k = 0;
        dmin = INFINITY;
        dmax = -INFINITY;
        for (int64_t i = 0; i < d->n; i++) {
            double xi = d->v[i];
            if (!both && side != 0 && (side > 0 ? xi > mode : xi < mode))
                continue;
            double a = fabs(xi - mode);
            dd[k++] = a;
            dmin = a < dmin ? a : dmin;
            dmax = a > dmax ? a : dmax;
        }
        if (k >= 10)
            break;
    }
    /* the median by the histogram selection (dd is not reordered) */
    cg_kde_vals dv = {dd, k, 0, dmin, dmax, NULL};
    static const double half = 0.5;
    double med;
    if (k == 0 || cg_kde_vals_quantiles(&dv, &half, 1, &med) < 0)
        return NAN;
    return 1.4826 * med;
}

/* The p-quantile (R type 7) of the used values; NaN on no memory. */
static double used_quantile(const used *u, double p)
{
    double q;
    return cg_kde_vals_quantiles(&u->d, &p, 1, &q) < 0 ? NAN : q;
}

/* The spread rule: cut = mode + side * k * spread.  Fills r->mode,
 * r->spread; returns the cut (NaN when no spread could be measured). */
static double spread_cut(used *u, const cg_kde1 *kd, int p, int side,
                         double kmul, int both, cg_threshold_result *r)
{
    double mode = cg_kde1_x(kd, p);
    /* The far half-spread is clean of the population beyond the cut, but
     * may be a pile of equal values (a detector floor, a log amplifier's
     * channel 0, zero counts) or compressed by the transform near zero;
     * then, or always with `both` (tail gates, where what lies beyond the
     * cut is a small minority that a median ignores), the near side's is
     * taken when wider.  Never below one bandwidth. */
    double s = peak_spread(u, mode, side);
    if (both || !(s > kd->h)) {
        double sn = peak_spread(u, mode, -side);
        if (sn > s || !(s > 0))
            s = sn;
    }
    if (!(s > kd->h))
        s = kd->h;
    r->mode = mode;
    r->spread = s;
    return mode + (side < 0 ? -1.0 : 1.0) * kmul * s;
}

/* Two populations around a density valley at t (peaks at a < t < b):
 * each summarised by its mode and the robust SD of its outer side (away
 * from the other) and weighted by the events on its side of t; the cut
 * is where the two weighted normal densities are equal, searched between
 * the modes.  Returns t when a side has fewer than 10 events or no
 * spread, or the equation has no root there. */
static double refine_cut(used *uv, double a, double t, double b)
{
    int64_t nl = 0, nr = 0;
    for (int64_t i = 0; i < uv->d.n; i++) {
        double xi = uv->d.v[i];
        nl += xi < t;
        nr += xi >= t;
    }
    if (nl < 10 || nr < 10)
        return t;
    double sa = peak_spread(uv, a, +1);
    double sb = peak_spread(uv, b, -1);
    if (!(sa > 0) || !(sb > 0))
        return t;
    double la = log((double)nl / sa), lb = log((double)nr / sb);
    double lo = a, hi = b;
    double glo = la - lb + 0.5 * (lo - b) * (lo - b) / (sb * sb);
    double ghi = la - 0.5 * (hi - a) * (hi - a) / (sa * sa) - lb;
    if (!(glo > 0 && ghi < 0))
        return t;
    for (int it = 0; it < 60; it++) {
        double u = 0.5 * (lo + hi);
        double g = la - 0.5 * (u - a) * (u - a) / (sa * sa) - lb +
                   0.5 * (u - b) * (u - b) / (sb * sb);
        if (g > 0)
            lo = u;
        else
            hi = u;
    }
    return 0.5 * (lo + hi);
}

/* ---- valley ------------------------------------------------------------- */

int cg_gate_valley(const double *x, int64_t n, const cg_bits *mask,
                   const cg_autogate_opts *o, cg_threshold_result *r,
                   cg_err *err)
{
    cg_autogate_opts d;
    if (!o) {
        cg_autogate_opts_init(&d);
        o = &d;
    }
    result_init(r);
    cg_kde1 k;
    memset(&k, 0, sizeof k);
    used u = {{0}, NULL};
    int rc = prepare(x, n, mask, o, r, &u.d, &k, err);
    if (rc != 0) {
        used_release(&u);
        return rc < 0 ? rc : 0;
    }
    peak *pk = malloc((size_t)k.m * sizeof *pk);
    if (!pk) {
        used_release(&u);
        cg_kde1_release(&k);
        return cg_err_set(err, CG_E_NOMEM, "valley: out of memory");
    }
    int ns = significant_peaks(&k, o->min_prominence, pk);
    r->npeaks = ns;
    int ranged = o->lo < o->hi;
    int best = -1;
    int mp = main_peak(&k);
    r->mode = cg_kde1_x(&k, mp);
    if (ns >= 2) {
        int a = pk[0].i < pk[1].i ? pk[0].i : pk[1].i;
        int b = pk[0].i < pk[1].i ? pk[1].i : pk[0].i;
        r->peak[0] = cg_kde1_x(&k, a);
        r->peak[1] = cg_kde1_x(&k, b);
        for (int i = a + 1; i < b; i++) {
            double xi = cg_kde1_x(&k, i);
            if (ranged && (xi < o->lo || xi > o->hi))
                continue;
            if (k.y[i] > k.y[i - 1] || k.y[i] > k.y[i + 1])
                continue; /* not a local minimum */
            if (best < 0 || k.y[i] < k.y[best])
                best = i;
        }
        if (best >= 0) {
            double lower = pk[0].height < pk[1].height ? pk[0].height
                                                       : pk[1].height;
            r->depth = lower > 0 ? k.y[best] / lower : NAN;
            r->threshold = cg_kde1_x(&k, best);
            set_rule(r, "valley");
            if (o->refine) {
                double t2 = refine_cut(&u, r->peak[0], r->threshold,
                                       r->peak[1]);
                if (!ranged || (t2 >= o->lo && t2 <= o->hi)) {
                    if (t2 != r->threshold)
                        set_rule(r, "valley: balanced");
                    r->threshold = t2;
                }
            }
        } else {
            fall_back(r, "no valley between the peaks at %.4g and %.4g "
                         "lies in the search range [%.4g, %.4g]",
                      r->peak[0], r->peak[1], o->lo, o->hi);
        }
    } else {
        r->peak[0] = r->mode;
        fall_back(r, "%s (%lld events) at %.4g",
                  ns == 1 ? "one peak only" : "no significant peak",
                  (long long)r->n, r->mode);
    }
    if (best < 0) {
        size_t l = strlen(r->reason);
        if (o->one_peak == 0) {
            set_rule(r, "one peak: fail");
            snprintf(r->reason + l, sizeof r->reason - l,
                     "; one_peak: fail, no cut");
            r->threshold = NAN;
        } else {
            double t = spread_cut(&u, &k, mp, o->one_peak, o->k, 0, r);
            if (o->keep_peak && o->keep_min > 0 && o->keep_min < 1) {
                double qk = used_quantile(&u, o->one_peak > 0
                                                  ? o->keep_min
                                                  : 1 - o->keep_min);
                if (o->one_peak > 0 ? qk > t : qk < t) {
                    t = qk;
                    snprintf(r->reason + l, sizeof r->reason - l,
                             "; moved out to keep %g of the events",
                             o->keep_min);
                    l = strlen(r->reason);
                }
            }
            if (ranged)
                t = t < o->lo ? o->lo : t > o->hi ? o->hi : t;
            r->threshold = t;
            set_rule(r, o->one_peak > 0 ? "one peak: above"
                                        : "one peak: below");
            /* a lone peak that the gate keeps is the picture of a clean
             * sample (few dead cells, all cells positive): the one-peak
             * rule is then the designed rule, not a failure; the reason
             * stays as a note */
            if (o->keep_peak && r->npeaks == 1)
                r->fell_back = 0;
            snprintf(r->reason + l, sizeof r->reason - l,
                     "; cut %s the peak at mode %s %g x spread %.4g",
                     o->one_peak > 0 ? "above" : "below",
                     o->one_peak > 0 ? "+" : "-", o->k, r->spread);
        }
    }
    free(pk);
    used_release(&u);
    cg_kde1_release(&k);
    return 0;
}

/* ---- tail --------------------------------------------------------------- */

/* Whether the used values are markedly skewed away from `side`: the
 * distance from the median to the 10 % quantile on the far side is more
 * than 1.3 times the distance to the 90 % quantile on the `side` side (a
 * normal peak: 1; a positive minority on `side` only lowers the ratio).
 * Quantiles, not the KDE mode, so a flat-topped peak whose mode sits off
 * centre does not count as skewed. */
static int far_skewed(const used *u, int side)
{
    if (u->d.n < CG_AUTOGATE_MIN_N)
        return 0;
    static const double p[3] = {0.1, 0.5, 0.9};
    double q[3];
    if (cg_kde_vals_quantiles(&u->d, p, 3, q) < 0)
        return 0;
    double lo = q[0], med = q[1], hi = q[2];
    double dfar = side > 0 ? med - lo : hi - med;
    double dnear = side > 0 ? hi - med : med - lo;
    return dnear > 0 && dfar > 1.3 * dnear;
}

/* The deepest local minimum of the density strictly between grid points
 * a < b (ties: leftmost); -1 when there is none. */
static int deepest_min(const cg_kde1 *k, int a, int b)
{
    int best = -1;
    for (int i = a + 1; i < b; i++) {
        if (k->y[i] > k->y[i - 1] || k->y[i] > k->y[i + 1])
            continue;
        if (best < 0 || k->y[i] < k->y[best])
            best = i;
    }
    return best;
}

/* Tail with significant peaks on the cut side of the main peak p: walk
 * out from p through those peaks in order of distance, and take the
 * deepest valley between two consecutive ones, by depth relative to the
 * lower of its two peaks (ties: the nearest to p).  So with a negative,
 * an intermediate and a high population (CD25: bulk, activated, Treg) the
 * cut falls where the populations are best separated, not necessarily
 * before the nearest shoulder.  Returns the valley's grid index (-1: no
 * local minimum) and fills r->peak, r->depth. */
static int tail_valley(const cg_kde1 *k, const peak *pk, int ns, int p,
                       int side, cg_threshold_result *r)
{
    int prev = p, best = -1, bprev = -1, bnext = -1;
    double bdepth = INFINITY;
    for (;;) {
        int q = -1; /* the next cut-side peak beyond prev */
        for (int j = 0; j < ns; j++) {
            int dist = (pk[j].i - prev) * side;
            if (dist > 0 && (q < 0 || dist < (pk[q].i - prev) * side))
                q = j;
        }
        if (q < 0)
            break;
        int a = side > 0 ? prev : pk[q].i, b = side > 0 ? pk[q].i : prev;
        int v = deepest_min(k, a, b);
        double lower = k->y[prev] < pk[q].height ? k->y[prev] : pk[q].height;
        if (v >= 0 && lower > 0 && k->y[v] / lower < bdepth) {
            bdepth = k->y[v] / lower;
            best = v;
            bprev = prev;
            bnext = pk[q].i;
        }
        prev = pk[q].i;
    }
    if (best < 0)
        return -1;
    double xa = cg_kde1_x(k, bprev), xb = cg_kde1_x(k, bnext);
    r->peak[0] = xa < xb ? xa : xb;
    r->peak[1] = xa < xb ? xb : xa;
    r->depth = bdepth;
    return best;
}

int cg_gate_tail(const double *x, int64_t n, const cg_bits *mask,
                 const cg_autogate_opts *o, cg_threshold_result *r,
                 cg_err *err)
{
    cg_autogate_opts d;
    if (!o) {
        cg_autogate_opts_init(&d);
        o = &d;
    }
    result_init(r);
    if (!(o->fraction >= 0 && o->fraction < 1))
        return cg_err_set(err, CG_E_ARG,
                          "tail: fraction %g must be in [0, 1)", o->fraction);
    cg_kde1 k;
    memset(&k, 0, sizeof k);
    used u = {{0}, NULL};
    int rc = prepare(x, n, mask, o, r, &u.d, &k, err);
    if (rc != 0) {
        used_release(&u);
        return rc < 0 ? rc : 0;
    }
    peak *pk = malloc((size_t)k.m * sizeof *pk);
    if (!pk) {
        used_release(&u);
        cg_kde1_release(&k);
        return cg_err_set(err, CG_E_NOMEM, "tail: out of memory");
    }
    int ns = significant_peaks(&k, o->min_prominence, pk);
    r->npeaks = ns;
    int p = main_peak(&k);
    r->peak[0] = r->mode = cg_kde1_x(&k, p);
    int side = o->side < 0 ? -1 : 1;
    double t;
    if (o->fraction > 0) {
        set_rule(r, "fraction");
        if (walk_down(&k, p, side, o->fraction, &t) < 0)
            fall_back(r, "the density %s of the peak at %.4g never falls "
                         "below %g of its height; using the grid end",
                      side < 0 ? "left" : "right", r->peak[0], o->fraction);
        r->threshold = t;
    } else {
        int best = tail_valley(&k, pk, ns, p, side, r);
        if (best >= 0) {
            r->threshold = cg_kde1_x(&k, best);
            set_rule(r, "valley");
        } else {
            r->peak[1] = NAN;
            r->threshold = spread_cut(&u, &k, p, side, o->k, 1, r);
            set_rule(r, "spread");
            /* A markedly skewed negative, long on the far side: k
             * spreads overstate its cut side, so its own edge, when
             * nearer: where the density first falls below CG_TAIL_EDGE
             * of the peak (2.8 SDs of a normal peak). */
            if (far_skewed(&u, side) &&
                walk_down(&k, p, side, CG_TAIL_EDGE, &t) == 0 &&
                (t - r->threshold) * side < 0) {
                r->threshold = t;
                set_rule(r, "edge");
            }
        }
    }
    free(pk);
    used_release(&u);
    cg_kde1_release(&k);
    return 0;
}

int cg_main_peak(const double *x, int64_t n, const cg_bits *mask,
                 double *mode, double *spread, cg_err *err)
{
    cg_autogate_opts o;
    cg_autogate_opts_init(&o);
    cg_threshold_result r;
    result_init(&r);
    *mode = *spread = NAN;
    cg_kde1 k;
    memset(&k, 0, sizeof k);
    used u = {{0}, NULL};
    int rc = prepare(x, n, mask, &o, &r, &u.d, &k, err);
    if (rc == 0) {
        *mode = cg_kde1_x(&k, main_peak(&k));
        *spread = peak_spread(&u, *mode, 0);
    }
    used_release(&u);
    cg_kde1_release(&k);
    return rc < 0 ? rc : 0;
}

/* ---- quantile ----------------------------------------------------------- */

int cg_gate_quantile(const double *x, int64_t n, const cg_bits *mask,
                     const cg_autogate_opts *o, cg_threshold_result *r,
                     cg_err *err)
{
    cg_autogate_opts d;
    if (!o) {
        cg_autogate_opts_init(&d);
        o = &d;
    }
    result_init(r);
    int rc = check_args(x, n, mask, err);
    if (rc < 0)
        return rc;
    if (!(o->q >= 0 && o->q <= 1))
        return cg_err_set(err, CG_E_ARG, "quantile: q %g must be in [0, 1]",
                          o->q);
    cg_kde_vals v;
    rc = cg_kde_vals_gather(x, n, mask, &v, err);
    if (rc < 0)
        return rc;
    r->n = v.n;
    if (r->n < CG_AUTOGATE_MIN_N) {
        cg_kde_vals_release(&v);
        fall_back(r, "only %lld usable events (need %d)", (long long)r->n,
                  CG_AUTOGATE_MIN_N);
        return 0;
    }
    /* histogram selection, O(n), v not reordered */
    if (cg_kde_vals_quantiles(&v, &o->q, 1, &r->threshold) < 0) {
        cg_kde_vals_release(&v);
        return cg_err_set(err, CG_E_NOMEM, "quantile: out of memory");
    }
    set_rule(r, "quantile");
    cg_kde_vals_release(&v);
    return 0;
}

/* ---- membership ---------------------------------------------------------- */

int cg_threshold_apply(double t, int above, const double *x, int64_t n,
                       const cg_bits *parent, cg_bits *out, cg_err *err)
{
    if (!out || out->n != n || (parent && parent->n != n))
        return cg_err_set(err, CG_E_ARG, "threshold: bitset size mismatch");
    cg_bits_fill(out, 0);
    if (isnan(t))
        return 0;
    /* a word of 64 comparisons at a time (branch-free, NaN compares
     * false), masked by the parent's word */
    for (int64_t w = 0, nw = cg_bits_words(n); w < nw; w++) {
        uint64_t pw = parent ? parent->w[w] : ~(uint64_t)0;
        if (!pw)
            continue;
        const double *xw = x + (w << 6);
        int nb = w == nw - 1 && (n & 63) ? (int)(n & 63) : 64;
        uint64_t ow = 0;
        if (above)
            for (int b = 0; b < nb; b++)
                ow |= (uint64_t)(xw[b] >= t) << b;
        else
            for (int b = 0; b < nb; b++)
                ow |= (uint64_t)(xw[b] < t) << b;
        out->w[w] = ow & pw;
    }
    return 0;
}
