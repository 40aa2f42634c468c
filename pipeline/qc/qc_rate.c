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
#define ADD(...)                                                             \
    do {                                                                     \
        if (qc_add(r, __VA_ARGS__))                                          \
            goto nomem;                                                      \
    } while (0)
    double *tt = NULL, *cnt = NULL, *w = NULL, *x = NULL, *rate = NULL,
           *z = NULL, *scr = NULL, *ex = NULL;
    int *bin = NULL;
    uint8_t *flag = NULL;
    if (tc < 0) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "no time channel: flow rate not assessed");
        return 0;
    }
    if (!p->time_checks) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "disabled (time_checks: false)");
        return 0;
    }
    int64_t n = fr->n;
    if ((double)n < 10 * p->rate_bin_events) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "%lld events: too few for 10 time bins of %g events",
            (long long)n, p->rate_bin_events);
        return 0;
    }
    int seconds;
    double ts = timestep_of(in, &seconds);
    double span = fr->range && fr->range[tc] > 1 ? fr->range[tc] * ts : 0;
    tt = malloc((size_t)n * sizeof *tt);
    bin = malloc((size_t)n * sizeof *bin);
    if (!tt || !bin)
        goto nomem;
    const double *t = fr->col[tc];
    /* a time counter that stops at its ceiling ($PnR - 1) instead of
     * wrapping: those events have no usable time */
    double ceil_t = span > 0 ? (fr->range[tc] - 1) * ts : INFINITY;
    int64_t nceil = 0;
    for (int64_t i = 0; i < n; i++)
        nceil += t[i] >= ceil_t - 1e-9 * ceil_t;
    if (nceil < 2 || !(t[n - 1] >= ceil_t - 1e-9 * ceil_t))
        nceil = 0; /* only a counter that stopped for good */
    double off = 0, q = INFINITY;
    int64_t back = 0, wraps = 0, nonfinite = 0;
    int64_t prev = -1;
    for (int64_t i = 0; i < n; i++) {
        bin[i] = 0;
        if (nceil && t[i] >= ceil_t - 1e-9 * ceil_t) {
            bin[i] = -1; /* excluded: no usable time */
            tt[i] = 0;
            continue;
        }
        if (!isfinite(t[i])) {
            nonfinite++;
            tt[i] = prev >= 0 ? tt[prev] : 0;
            continue;
        }
        if (prev >= 0 && isfinite(t[prev])) {
            double d = t[i] - t[prev];
            if (d < 0 && span > 0 && -d > 0.5 * span) {
                off += span;
                wraps++;
            } else if (d < 0) {
                back++;
            } else if (d > 0 && d < q) {
                q = d;
            }
        }
        tt[i] = t[i] + off;
        prev = i;
    }
    if (nonfinite) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_WARN,
            "%lld events with a non-finite time: flow rate not assessed",
            (long long)nonfinite);
        goto done;
    }
    if ((double)back > 0.01 * (double)n) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "time channel %s not monotonic (%lld backward steps; "
            "re-ordered or concatenated file?): flow rate not assessed",
            fr->name[tc], (long long)back);
        goto done;
    }
    int64_t nt = n - nceil; /* events with a usable time */
    if ((double)nt < 10 * p->rate_bin_events) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "%lld of %lld events at the time counter's ceiling %g: flow "
            "rate not assessed", (long long)nceil, (long long)n, ceil_t);
        goto done;
    }
    char cnote[96] = "";
    if (nceil)
        snprintf(cnote, sizeof cnote,
                 "; %lld events at the time ceiling %g left out",
                 (long long)nceil, ceil_t);
    double t0 = INFINITY, t1 = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (bin[i] < 0)
            continue;
        if (tt[i] < t0) t0 = tt[i];
        if (tt[i] > t1) t1 = tt[i];
    }
    double D = t1 - t0;
    if (!(D > 0)) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "time channel %s is constant: flow rate not assessed",
            fr->name[tc]);
        goto done;
    }
    if (!(q < INFINITY) || q < D * 1e-9)
        q = 0;
    double bw = D * p->rate_bin_events / (double)nt;
    if (bw < D / p->rate_max_bins)
        bw = D / p->rate_max_bins;
    if (seconds && bw < p->rate_bin_s)
        bw = p->rate_bin_s;
    if (q > 0)
        bw = ceil(bw / q - 1e-9) * q;
    int nb = (int)floor(D / bw + 1e-9);
    if (nb < 10) {
        ADD(ck, NAN, p->rate_fail_pct, CG_QC_SKIP,
            "acquisition too short for 10 time bins (%.3g %s)", D,
            seconds ? "s" : "time units");
        goto done;
    }
    cnt = calloc((size_t)nb, sizeof *cnt);
    w = malloc((size_t)nb * sizeof *w);
    x = malloc((size_t)nb * sizeof *x);
    rate = malloc((size_t)nb * sizeof *rate);
    z = malloc((size_t)nb * sizeof *z);
    ex = malloc((size_t)nb * sizeof *ex);
    flag = calloc((size_t)nb, 1);
    scr = malloc(((size_t)nb * (size_t)(nb - 1) / 2 + (size_t)nb) *
                 sizeof *scr);
    if (!cnt || !w || !x || !rate || !z || !ex || !flag || !scr)
        goto nomem;
    for (int64_t i = 0; i < n; i++) {
        if (bin[i] < 0)
            continue;
        int b = (int)floor((tt[i] - t0) / bw + 1e-9 * (q > 0));
        if (b >= nb) b = nb - 1;
        if (b < 0) b = 0;
        bin[i] = b;
        cnt[b] += 1;
    }
    for (int b = 0; b < nb; b++) {
        w[b] = bw;
        x[b] = t0 + (b + 0.5) * bw;
    }
    w[nb - 1] = D - (nb - 1) * bw + q;
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
    if (s < 1)
        s = 1;
    int nflag = 0, nlow = 0, nhigh = 0, worst = -1;
    double tflag = 0, worstz = 0;
    for (int b = 0; b < nb; b++) {
        double dz = fabs(z[b] - mz);
        /* the first and last bins may be cut short by the start and end
         * of acquisition: never flag them for being low */
        int edge_low = (b == 0 || b == nb - 1) && cnt[b] < ex[b];
        if (!edge_low && dz > p->rate_k * s &&
            fabs(cnt[b] - ex[b]) > p->rate_min_dev * ex[b]) {
            flag[b] = 1;
            nflag++;
            tflag += w[b];
            if (cnt[b] < ex[b]) nlow++;
            else nhigh++;
            if (dz > worstz) {
                worstz = dz;
                worst = b;
            }
        }
    }
    cg_bits_free(r->time_mask);
    r->time_mask = cg_bits_new(n);
    if (!r->time_mask)
        goto nomem;
    int64_t nm = 0;
    for (int64_t i = 0; i < n; i++)
        if (bin[i] >= 0 && flag[bin[i]]) {
            cg_bits_set(r->time_mask, i);
            nm++;
        }
    r->n_time_masked = nm;
    double pev = 100.0 * (double)nm / (double)nt;
    double ptime = 100.0 * tflag / (D + q);
    double worse = pev > ptime ? pev : ptime;
    int v = qc_grade(worse, p->rate_warn_pct, p->rate_fail_pct, 0);
    const char *u = seconds ? "s" : "units";
    double r0 = icpt + slope * t0, r1 = icpt + slope * t1;
    if (nflag)
        ADD(ck, pev, v == CG_QC_FAIL ? p->rate_fail_pct : p->rate_warn_pct,
            v,
            "%d of %d time bins (%.3g %s) anomalous, %d low (drop/clog) "
            "and %d high (burst): %.2f%% of events, %.2f%% of time; worst "
            "at %s=%.4g (%.3gx trend); trend %.4g -> %.4g events/%s%s%s",
            nflag, nb, bw, u, nlow, nhigh, pev, ptime, fr->name[tc],
            x[worst], ex[worst] > 0 ? cnt[worst] / ex[worst] : INFINITY, r0,
            r1, u, wraps ? "; time counter wrapped" : "", cnote);
    else
        ADD(ck, 0, p->rate_warn_pct, CG_QC_PASS,
            "%d time bins (%.3g %s), none anomalous; trend %.4g -> %.4g "
            "events/%s%s%s", nb, bw, u, r0, r1, u,
            wraps ? "; time counter wrapped" : "", cnote);
    /* series: hand the arrays over */
    cg_qc_series *S = &r->s;
    free(S->rate_t0);
    free(S->rate_w);
    free(S->rate_count);
    free(S->rate_expected);
    free(S->rate_flag);
    for (int b = 0; b < nb; b++)
        x[b] = t0 + b * bw;
    S->nrate = nb;
    S->rate_t0 = x;
    S->rate_w = w;
    S->rate_count = cnt;
    S->rate_expected = ex;
    S->rate_flag = flag;
    S->time_seconds = seconds;
    x = w = cnt = ex = NULL;
    flag = NULL;
done:
    free(tt);
    free(cnt);
    free(w);
    free(x);
    free(rate);
    free(z);
    free(ex);
    free(flag);
    free(bin);
    free(scr);
    return 0;
nomem:
    free(tt);
    free(cnt);
    free(w);
    free(x);
    free(rate);
    free(z);
    free(ex);
    free(flag);
    free(bin);
    free(scr);
    return cg_err_set(err, CG_E_NOMEM, "qc: out of memory (flow rate)");
#undef ADD
}
