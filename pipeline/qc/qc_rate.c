/*
 * qc_rate.c -- check 2, flow rate over Time.
 *
 * Events are counted in equal time bins (at least rate_bin_s seconds when
 * $TIMESTEP gives seconds, widened until a bin holds rate_bin_events on
 * average, at most rate_max_bins bins; widths are whole multiples of the
 * time channel's resolution so quantised clocks give no aliasing).  A
 * robust linear trend (Theil-Sen: median of pairwise slopes) of the rate
 * absorbs a tube slowly emptying.  A bin is anomalous when its Pearson
 * residual (count - expected) / sqrt(expected) lies more than rate_k
 * robust SDs (1.4826 MAD, never below the Poisson SD) from the median
 * residual AND deviates from the trend by more than rate_min_dev
 * relatively.  This is the median/MAD form of flowAI's flow-rate test
 * (flowAI uses generalised ESD on a detrended series).
 *
 * The first and last bins are never flagged for being low (acquisition
 * may start or stop inside them).
 * Time counters that wrap at $PnR are unwrapped; events of a counter that
 * stopped at its ceiling ($PnR - 1) are left out.  Backward steps in more
 * than 1% of events (re-ordered or concatenated files), a constant Time or
 * a too short acquisition skip the check with a note.
 * Events in anomalous bins are marked in res->time_mask.
 * Threading: pure function of its inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "qc_internal.h"
#include "util.h"

static double timestep_of(const cg_qc_input *in, int *ok)
{
    const char *ts = in->fcs ? fcs_keyword(in->fcs, "$TIMESTEP")
                             : in->timestep;
    double v;
    *ok = ts && cg_parse_double(ts, &v) == 0 && v > 0 && isfinite(v);
    return *ok ? v : 1.0;
}

/* Theil-Sen slope of y on x (n >= 2); scratch holds n*(n-1)/2 doubles. */
static double theil_sen(const double *x, const double *y, int n,
                        double *scratch)
{
    int64_t m = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (x[j] != x[i])
                scratch[m++] = (y[j] - y[i]) / (x[j] - x[i]);
    return m ? qc_median(scratch, m) : 0.0;
}

/* The working state of one flow-rate check: per-event times and bins,
 * per-bin series, and the figures the note reports. */
typedef struct rate_ws {
    int64_t n;
    double *tt;      /* unwrapped time per event */
    int *bin;        /* bin per event, -1 when excluded */
    int64_t nceil;   /* events at a stopped counter's ceiling */
    double ceil_t;   /* that ceiling, INFINITY when unknown */
    double q;        /* time resolution (smallest positive step), or 0 */
    int64_t back, wraps, nonfinite;
    double t0, t1, D; /* time range of events with a usable time */
    double bw;       /* bin width */
    int nb;          /* bins */
    double *cnt, *w, *x, *rate, *z, *ex, *scr;
    uint8_t *flag;
    double slope, icpt; /* rate trend */
    double mz, s;       /* median and robust SD of the residuals */
    int nflag, nlow, nhigh, worst;
    double tflag;       /* time in flagged bins */
} rate_ws;

static void rate_ws_free(rate_ws *ws)
{
    free(ws->tt);
    free(ws->cnt);
    free(ws->w);
    free(ws->x);
    free(ws->rate);
    free(ws->z);
    free(ws->ex);
    free(ws->flag);
    free(ws->bin);
    free(ws->scr);
}

/* Unwrap a time counter that wraps at $PnR, leave out events of a counter
 * that stopped at its ceiling, count backward steps and non-finite times,
 * and find the time resolution q and the time range t0..t1 of the events
 * left in.  span: $PnR x timestep, or 0. */
/* t may be ws->tt itself: each t[i] is read before tt[i] is written. */
static void rate_unwrap(rate_ws *ws, const double *t, double span,
                        double range, double ts)
{
    int64_t n = ws->n;
    int *bin = ws->bin;
    double *tt = ws->tt;
    /* a time counter that stops at its ceiling ($PnR - 1) instead of
     * wrapping: those events have no usable time */
    double ceil_t = span > 0 ? (range - 1) * ts : INFINITY;
    int64_t nceil = 0;
    /* only a counter that stopped for good: the last event at the
     * ceiling (checked first, so a running counter costs no pass) */
    if (t[n - 1] >= ceil_t - 1e-9 * ceil_t)
        for (int64_t i = 0; i < n; i++)
            nceil += t[i] >= ceil_t - 1e-9 * ceil_t;
    if (nceil < 2)
        nceil = 0;
    double off = 0, q = INFINITY, t0 = INFINITY, t1 = -INFINITY;
    int64_t back = 0, wraps = 0, nonfinite = 0;
    int64_t prev = -1;
    double tprev = 0; /* t[prev]: tt may be t itself, overwritten */
    for (int64_t i = 0; i < n; i++) {
        double ti = t[i];
        bin[i] = 0;
        if (nceil && ti >= ceil_t - 1e-9 * ceil_t) {
            bin[i] = -1; /* excluded: no usable time */
            tt[i] = 0;
            continue;
        }
        if (!isfinite(ti)) {
            nonfinite++;
            tt[i] = prev >= 0 ? tt[prev] : 0;
            if (tt[i] < t0) t0 = tt[i];
            if (tt[i] > t1) t1 = tt[i];
            continue;
        }
        if (prev >= 0) { /* t[prev] is finite: prev is set below only */
            double d = ti - tprev;
            if (d < 0 && span > 0 && -d > 0.5 * span) {
                off += span;
                wraps++;
            } else if (d < 0) {
                back++;
            } else if (d > 0 && d < q) {
                q = d;
            }
        }
        tt[i] = ti + off;
        if (tt[i] < t0) t0 = tt[i];
        if (tt[i] > t1) t1 = tt[i];
        prev = i;
        tprev = ti;
    }
    ws->t0 = t0;
    ws->t1 = t1;
    ws->ceil_t = ceil_t;
    ws->nceil = nceil;
    ws->q = q;
    ws->back = back;
    ws->wraps = wraps;
    ws->nonfinite = nonfinite;
}

/* The bin width for the time range t0..t1 of the usable events:
 * rate_bin_events per bin on average, at least rate_bin_s seconds, at
 * most rate_max_bins bins, a whole multiple of q.  Sets D, q, bw, nb. */
static void rate_bins(rate_ws *ws, const cg_qc_params *p, int seconds)
{
    double D = ws->t1 - ws->t0; /* t0, t1: rate_unwrap */
    ws->D = D;
    if (!(D > 0))
        return;
    double q = ws->q;
    if (!(q < INFINITY) || q < D * 1e-9)
        q = 0;
    double bw = D * p->rate_bin_events / (double)(ws->n - ws->nceil);
    if (bw < D / p->rate_max_bins)
        bw = D / p->rate_max_bins;
    if (seconds && bw < p->rate_bin_s)
        bw = p->rate_bin_s;
    if (q > 0)
        bw = ceil(bw / q - 1e-9) * q;
    ws->q = q;
    ws->bw = bw;
    ws->nb = (int)floor(D / bw + 1e-9);
}

/* Count events per bin, fit the robust rate trend and the Pearson
 * residuals z with their median mz and robust SD s.  0 or -1 (no memory). */
static int rate_fit(rate_ws *ws)
{
    int nb = ws->nb;
    double bw = ws->bw, t0 = ws->t0, q = ws->q;
    ws->cnt = calloc((size_t)nb, sizeof *ws->cnt);
    ws->w = malloc((size_t)nb * sizeof *ws->w);
    ws->x = malloc((size_t)nb * sizeof *ws->x);
    ws->rate = malloc((size_t)nb * sizeof *ws->rate);
    ws->z = malloc((size_t)nb * sizeof *ws->z);
    ws->ex = malloc((size_t)nb * sizeof *ws->ex);
    ws->flag = calloc((size_t)nb, 1);
    ws->scr = malloc(((size_t)nb * (size_t)(nb - 1) / 2 + (size_t)nb) *
                     sizeof *ws->scr);
    if (!ws->cnt || !ws->w || !ws->x || !ws->rate || !ws->z || !ws->ex ||
        !ws->flag || !ws->scr)
        return -1;
    double *cnt = ws->cnt, *w = ws->w, *x = ws->x, *rate = ws->rate,
           *z = ws->z, *ex = ws->ex, *scr = ws->scr;
    for (int64_t i = 0; i < ws->n; i++) {
        if (ws->bin[i] < 0)
            continue;
        int b = (int)floor((ws->tt[i] - t0) / bw + 1e-9 * (q > 0));
        if (b >= nb) b = nb - 1;
        if (b < 0) b = 0;
        ws->bin[i] = b;
        cnt[b] += 1;
    }
    for (int b = 0; b < nb; b++) {
        w[b] = bw;
        x[b] = t0 + (b + 0.5) * bw;
    }
    w[nb - 1] = ws->D - (nb - 1) * bw + q;
    x[nb - 1] = t0 + (nb - 1) * bw + 0.5 * w[nb - 1];
    for (int b = 0; b < nb; b++)
        rate[b] = cnt[b] / w[b];
    double slope = theil_sen(x, rate, nb, scr);
    for (int b = 0; b < nb; b++)
        scr[b] = rate[b] - slope * x[b];
    double icpt = qc_median(scr, nb);
    for (int b = 0; b < nb; b++) {
        double e = (icpt + slope * x[b]) * w[b];
        ex[b] = e > 0 ? e : 0;
        z[b] = (cnt[b] - ex[b]) / sqrt(ex[b] > 1 ? ex[b] : 1);
        scr[b] = z[b];
    }
    double mz = qc_median(scr, nb);
    memcpy(scr, z, (size_t)nb * sizeof *scr);
    double s = 1.4826 * qc_mad(scr, nb, mz);
    ws->slope = slope;
    ws->icpt = icpt;
    ws->mz = mz;
    ws->s = s < 1 ? 1 : s;
    return 0;
}

/* Flag the anomalous bins. */
static void rate_flag(rate_ws *ws, const cg_qc_params *p)
{
    double worstz = 0;
    ws->worst = -1;
    for (int b = 0; b < ws->nb; b++) {
        double dz = fabs(ws->z[b] - ws->mz);
        /* the first and last bins may be cut short by the start and end
         * of acquisition: never flag them for being low */
        int edge_low = (b == 0 || b == ws->nb - 1) && ws->cnt[b] < ws->ex[b];
        if (!edge_low && dz > p->rate_k * ws->s &&
            fabs(ws->cnt[b] - ws->ex[b]) > p->rate_min_dev * ws->ex[b]) {
            ws->flag[b] = 1;
            ws->nflag++;
            ws->tflag += ws->w[b];
            if (ws->cnt[b] < ws->ex[b]) ws->nlow++;
            else ws->nhigh++;
            if (dz > worstz) {
                worstz = dz;
                ws->worst = b;
            }
        }
    }
}

/* Hand the per-bin arrays over to the result's series. */
static void rate_series(rate_ws *ws, cg_qc_result *r, int seconds)
{
    cg_qc_series *S = &r->s;
    free(S->rate_t0);
    free(S->rate_w);
    free(S->rate_count);
    free(S->rate_expected);
    free(S->rate_flag);
    for (int b = 0; b < ws->nb; b++)
        ws->x[b] = ws->t0 + b * ws->bw;
    S->nrate = ws->nb;
    S->rate_t0 = ws->x;
    S->rate_w = ws->w;
    S->rate_count = ws->cnt;
    S->rate_expected = ws->ex;
    S->rate_flag = ws->flag;
    S->time_seconds = seconds;
    ws->x = ws->w = ws->cnt = ws->ex = NULL;
    ws->flag = NULL;
}

#define ADD(...)                                                             \
    do {                                                                     \
        if (qc_add(r, __VA_ARGS__))                                          \
            return -1;                                                       \
    } while (0)

/* Mark the events of flagged bins in r->time_mask and add the check's
 * note.  0 or -1 (no memory). */
static int rate_report(rate_ws *ws, const cg_qc_params *p, const char *tname,
                       int seconds, const char *cnote, cg_qc_result *r)
{
    const char *ck = "flow_rate";
    cg_bits_free(r->time_mask);
    r->time_mask = cg_bits_new(ws->n);
    if (!r->time_mask)
        return -1;
    int64_t nm = 0;
    for (int64_t i = 0; i < ws->n; i++)
        if (ws->bin[i] >= 0 && ws->flag[ws->bin[i]]) {
            cg_bits_set(r->time_mask, i);
            nm++;
        }
    r->n_time_masked = nm;
    double pev = 100.0 * (double)nm / (double)(ws->n - ws->nceil);
    double ptime = 100.0 * ws->tflag / (ws->D + ws->q);
    double worse = pev > ptime ? pev : ptime;
    int v = qc_grade(worse, p->rate_warn_pct, p->rate_fail_pct, 0);
    const char *u = seconds ? "s" : "units";
    double r0 = ws->icpt + ws->slope * ws->t0;
    double r1 = ws->icpt + ws->slope * ws->t1;
    int wb = ws->worst;
    if (ws->nflag)
        ADD(ck, pev, v == CG_QC_FAIL ? p->rate_fail_pct : p->rate_warn_pct,
            v,
            "%d of %d time bins (%.3g %s) anomalous, %d low (drop/clog) "
            "and %d high (burst): %.2f%% of events, %.2f%% of time; worst "
            "at %s=%.4g (%.3gx trend); trend %.4g -> %.4g events/%s%s%s",
            ws->nflag, ws->nb, ws->bw, u, ws->nlow, ws->nhigh, pev, ptime,
            tname, ws->x[wb],
            ws->ex[wb] > 0 ? ws->cnt[wb] / ws->ex[wb] : INFINITY, r0, r1, u,
            ws->wraps ? "; time counter wrapped" : "", cnote);
    else
        ADD(ck, 0, p->rate_warn_pct, CG_QC_PASS,
            "%d time bins (%.3g %s), none anomalous; trend %.4g -> %.4g "
            "events/%s%s%s", ws->nb, ws->bw, u, r0, r1, u,
            ws->wraps ? "; time counter wrapped" : "", cnote);
    return 0;
}

/* The binned check on unwrapped times: skip notes for data that cannot
 * be checked, else fit, flag and report.  0 or -1 (no memory). */
static int rate_check(rate_ws *ws, const cg_qc_params *p,
                      const cg_frame *fr, int tc, int seconds,
                      cg_qc_result *r)
{
    const char *ck = "flow_rate";
    int64_t n = ws->n;
    if (ws->nonfinite) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_WARN,
            "%lld events with a non-finite time: flow rate not assessed",
            (long long)ws->nonfinite);
        return 0;
    }
    if ((double)ws->back > 0.01 * (double)n) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "time channel %s not monotonic (%lld backward steps; "
            "re-ordered or concatenated file?): flow rate not assessed",
            fr->name[tc], (long long)ws->back);
        return 0;
    }
    if ((double)(n - ws->nceil) < 10 * p->rate_bin_events) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "%lld of %lld events at the time counter's ceiling %g: flow "
            "rate not assessed", (long long)ws->nceil, (long long)n,
            ws->ceil_t);
        return 0;
    }
    char cnote[96] = "";
    if (ws->nceil)
        snprintf(cnote, sizeof cnote,
                 "; %lld events at the time ceiling %g left out",
                 (long long)ws->nceil, ws->ceil_t);
    rate_bins(ws, p, seconds);
    if (!(ws->D > 0)) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "time channel %s is constant: flow rate not assessed",
            fr->name[tc]);
        return 0;
    }
    if (ws->nb < 10) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "acquisition too short for 10 time bins (%.3g %s)", ws->D,
            seconds ? "s" : "time units");
        return 0;
    }
    if (rate_fit(ws) < 0)
        return -1;
    rate_flag(ws, p);
    if (rate_report(ws, p, fr->name[tc], seconds, cnote, r) < 0)
        return -1;
    rate_series(ws, r, seconds);
    return 0;
}

int qc_rate(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            cg_qc_result *r, cg_err *err)
{
    const cg_frame *fr = in->fr;
    const char *ck = "flow_rate";
    int tc = -1;
    for (int j = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_TIME) {
            tc = j;
            break;
        }
    if (tc < 0)
        return qc_add(r, ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
                      "no time channel: flow rate not assessed")
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory (flow "
                                "rate)") : 0;
    if (!p->time_checks)
        return qc_add(r, ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
                      "disabled (time_checks: false)")
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory (flow "
                                "rate)") : 0;
    int64_t n = fr->n;
    if ((double)n < 10 * p->rate_bin_events)
        return qc_add(r, ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
                      "%lld events: too few for 10 time bins of %g events",
                      (long long)n, p->rate_bin_events)
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory (flow "
                                "rate)") : 0;
    int seconds;
    double ts = timestep_of(in, &seconds);
    double span = fr->range && fr->range[tc] > 1 ? fr->range[tc] * ts : 0;
    rate_ws ws;
    memset(&ws, 0, sizeof ws);
    ws.n = n;
    /* per event: slabs of the frame's (frame.h), given back below */
    ws.tt = cg_frame_slab_get(fr);
    ws.bin = cg_frame_slab_get(fr);
    int rc = -1;
    /* a float-held Time channel is read into tt and unwrapped in place */
    const double *t = ws.tt && ws.bin ? cg_frame_values(fr, tc, &ws.tt)
                                      : NULL;
    if (t) {
        rate_unwrap(&ws, t, span, span > 0 ? fr->range[tc] : 0, ts);
        rc = rate_check(&ws, p, fr, tc, seconds, r);
    }
    cg_frame_slab_put(fr, ws.tt);
    cg_frame_slab_put(fr, ws.bin);
    ws.tt = NULL;
    ws.bin = NULL;
    rate_ws_free(&ws);
    return rc < 0 ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory (flow "
                               "rate)") : 0;
}
#undef ADD
