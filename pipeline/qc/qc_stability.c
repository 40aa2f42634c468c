/*
 * qc_stability.c -- check 3, signal stability over the run.
 *
 * Events are cut, in acquisition order, into nb consecutive bins of about
 * stab_bin_events (at most stab_max_bins; at least 8 bins or the check is
 * skipped).  For each fluorescence channel (and scatter when stab_scatter)
 * the median of asinh(x / stab_cofactor) is taken per bin (order
 * statistics are selected on the raw values and only they are
 * transformed: asinh is monotone, so the k-th transformed value is the
 * transform of the k-th raw value).  The bin-to-bin
 * noise is sigma = 1.4826 MAD(successive differences) / sqrt(2), which a
 * step or a slow drift barely moves.  The medians are smoothed with a
 * running median of 5 bins; the change is the range (max - min) of the
 * smoothed series.  Each quantile is judged alone; a channel takes the
 * worst.  A quantile is not followed when the run's pooled central 10% of
 * events around it spans more than stab_max_window (it sits in a valley
 * or on a steep edge, where bin quantiles jump between populations).  A channel warns/fails when the change exceeds
 * stab_warn/stab_fail AND stab_z * sigma (so a channel whose bin medians
 * jump between two modes does not fail on noise).  The per-bin medians are
 * kept (in scaled units) for the QC figure.
 *
 * Threading: pure function of its inputs; scratch is one bin's worth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qc_internal.h"

/* Quantiles followed per bin: the median, and the quartiles, which stay
 * inside one population of a bimodal channel when the median sits in the
 * valley between them. */
#define NQ 3
static const double QS[NQ] = {0.25, 0.5, 0.75};
static const char *const QN[NQ] = {"p25", "median", "p75"};

/* k-th smallest of a[0..n) (0 <= k < n, no NaN); reorders a so that
 * a[0..k) <= a[k] <= a(k..n), like cg_select_k, but with branch-free
 * partition passes (bin order is random: a branchy partition
 * mispredicts about every other element).  Each round moves the values
 * below a median-of-three pivot to the front; when k is not among them,
 * a second pass moves the values equal to the pivot next, so runs of
 * equal values end the search instead of stalling it. */
static double select_bf(double *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n; /* the answer is in a[lo..hi) */
    while (hi - lo > 16) {
        int64_t mid = lo + (hi - lo) / 2;
        double x = a[lo], y = a[mid], z = a[hi - 1];
        double piv = (x < y) ? ((y < z) ? y : (x < z ? z : x))
                             : ((x < z) ? x : (y < z ? z : y));
        int64_t i = lo;
        for (int64_t j = lo; j < hi; j++) {
            double v = a[j];
            a[j] = a[i];
            a[i] = v;
            i += v < piv;
        }
        if (k < i) {
            hi = i;
            continue;
        }
        int64_t e = i;
        for (int64_t j = i; j < hi; j++) {
            double v = a[j];
            a[j] = a[e];
            a[e] = v;
            e += v == piv;
        }
        if (k < e)
            return piv;
        lo = e;
    }
    /* insertion sort of the last few */
    for (int64_t i = lo + 1; i < hi; i++) {
        double v = a[i];
        int64_t j = i;
        while (j > lo && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
    return a[k];
}

/* The values of ranks rk[0..nr) (0-based, any order) of a[0..n) into
 * rv[]; reorders a.  Ranks are taken in ascending order, each selected
 * in the part at or above the previous one (cg_select_k leaves a
 * partitioned around its rank), so later ranks cost less; the rank just
 * after the previous one is the minimum of the part above it.  Which of
 * several equal values (-0 and +0) comes back may differ from a select
 * on the whole array; the value compares equal. */
static void select_ranks(double *a, int64_t n, const int64_t *rk, int nr,
                         double *rv)
{
    int ord[8];
    for (int i = 0; i < nr; i++) {
        int j = i;
        while (j > 0 && rk[ord[j - 1]] > rk[i]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    int64_t base = 0;
    for (int t = 0; t < nr; t++) {
        int64_t r = rk[ord[t]];
        if (t > 0 && r == base + 1) {
            /* the next rank: the smallest value above the last one */
            double v = a[r];
            for (int64_t i = r + 1; i < n; i++)
                v = a[i] < v ? a[i] : v;
            rv[ord[t]] = v;
        } else {
            rv[ord[t]] = select_bf(a + base, n - base, r - base);
        }
        base = r;
    }
}

/* Order-preserving key of a double (-0 just below +0). */
static inline uint64_t okey(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

#define PBITS 16 /* pooled selection: buckets on the key's top 16 bits */

/* The values of ranks rk[0..nr) (nr <= 8, each below the number of
 * non-NaN values) among the non-NaN values of c[0..n), without copying the column: one pass counts the values per
 * key bucket, which locates each rank's bucket; a second pass copies
 * only those buckets' values into space (room for na) and each rank is
 * selected inside its bucket.  hist: 1 << PBITS counts; slot: 1 << PBITS
 * bytes, all zero on entry and on return. */
static void pooled_ranks(const double *c, int64_t n, const int64_t *rk, int nr, double *rv, double *space,
                         uint32_t *hist, uint8_t *slot)
{
    memset(hist, 0, ((size_t)1 << PBITS) * sizeof *hist);
    for (int64_t i = 0; i < n; i++)
        if (!isnan(c[i]))
            hist[okey(c[i]) >> (64 - PBITS)]++;
    /* bucket of each rank, and the rank inside it */
    int64_t bk[8], loc[8];
    for (int t = 0; t < nr; t++) {
        int64_t cum = 0;
        uint32_t b = 0;
        while (cum + hist[b] <= rk[t]) /* rk[t] < na: stops in range */
            cum += hist[b++];
        bk[t] = b;
        loc[t] = rk[t] - cum;
    }
    /* one segment of space per distinct bucket */
    int nseg = 0;
    int64_t off[8], fill[8];
    for (int t = 0; t < nr; t++) {
        if (slot[bk[t]])
            continue;
        slot[bk[t]] = (uint8_t)(++nseg);
    }
    /* offsets from the segment sizes (buckets in slot order) */
    int64_t at = 0;
    for (int t = 0, sgi = 0; t < nr; t++)
        if (slot[bk[t]] == sgi + 1) {
            off[sgi] = at;
            fill[sgi] = 0;
            at += hist[bk[t]];
            sgi++;
        }
    for (int64_t i = 0; i < n; i++) {
        if (isnan(c[i]))
            continue;
        int sg = slot[okey(c[i]) >> (64 - PBITS)];
        if (sg) {
            sg--;
            space[off[sg] + fill[sg]++] = c[i];
        }
    }
    for (int sg = 0; sg < nseg; sg++) {
        int64_t lr[8];
        int idx[8], k = 0;
        for (int t = 0; t < nr; t++)
            if (slot[bk[t]] == sg + 1) {
                lr[k] = loc[t];
                idx[k++] = t;
            }
        double v[8];
        select_ranks(space + off[sg], fill[sg], lr, k, v);
        for (int q = 0; q < k; q++)
            rv[idx[q]] = v[q];
    }
    for (int t = 0; t < nr; t++)
        slot[bk[t]] = 0;
}

static void run_median5(const double *m, int nb, double *out)
{
    double buf[5];
    for (int b = 0; b < nb; b++) {
        int lo = b - 2 < 0 ? 0 : b - 2, hi = b + 2 >= nb ? nb - 1 : b + 2;
        int k = 0;
        for (int i = lo; i <= hi; i++)
            buf[k++] = m[i];
        out[b] = qc_median(buf, k);
    }
}

/* Scratch and per-bin series of one stability check. */
typedef struct stab_ws {
    int64_t n;
    int nb;
    double cof;
    int64_t *first; /* nb + 1 bin starts */
    int *chan;
    double *med;    /* nc x nb medians, linear units */
    double *m;      /* NQ x nb quantiles of one channel, asinh units */
    double *sm, *d, *buf, *all;
    uint32_t *hist;
    uint8_t *slot;
} stab_ws;

static void stab_ws_free(stab_ws *w)
{
    free(w->first);
    free(w->chan);
    free(w->med);
    free(w->m);
    free(w->sm);
    free(w->d);
    free(w->buf);
    free(w->all);
    free(w->hist);
    free(w->slot);
}

/* The NQ quantiles of channel c in each bin (w->m), and its median as the
 * k-th row of w->med. */
static void stab_bins(stab_ws *w, const double *c, int k)
{
    int nb = w->nb;
    double cof = w->cof, *m = w->m;
    for (int b = 0; b < nb; b++) {
        int64_t cntb = 0;
        for (int64_t i = w->first[b]; i < w->first[b + 1]; i++)
            if (!isnan(c[i]))
                w->buf[cntb++] = c[i];
        if (!cntb) {
            for (int qi = 0; qi < NQ; qi++)
                m[qi * nb + b] = 0;
            w->med[(size_t)k * nb + b] = sinh(0.0) * cof;
            continue;
        }
        /* order statistics of the raw values, transformed after: the
         * k-th of asinh(x / cof) is asinh(k-th x / cof) */
        int64_t h = cntb / 2;
        int64_t rk[4] = {(int64_t)(QS[0] * (double)(cntb - 1)),
                         cntb % 2 == 0 ? h - 1 : h, h,
                         (int64_t)(QS[2] * (double)(cntb - 1))};
        double rv[4];
        select_ranks(w->buf, cntb, rk, 4, rv);
        m[0 * nb + b] = asinh(rv[0] / cof);
        m[2 * nb + b] = asinh(rv[3] / cof);
        double md = asinh(rv[2] / cof);
        if (cntb % 2 == 0)
            md = 0.5 * (md + asinh(rv[1] / cof));
        m[1 * nb + b] = md;
        w->med[(size_t)k * nb + b] = sinh(md) * cof;
    }
}

/* Pooled quantile windows (width of QS[qi] +- 0.05 over the whole run):
 * a quantile in a valley between two populations jumps from bin to bin
 * and is not followed. */
static void stab_windows(stab_ws *w, const double *c, double *win)
{
    int64_t na = 0;
    for (int64_t i = 0; i < w->n; i++)
        na += !isnan(c[i]);
    if (!na) {
        for (int qi = 0; qi < NQ; qi++)
            win[qi] = 0;
        return;
    }
    int64_t rk[2 * NQ];
    double rv[2 * NQ];
    for (int qi = 0; qi < NQ; qi++) {
        rk[2 * qi] = (int64_t)((QS[qi] - 0.05) * (double)(na - 1));
        rk[2 * qi + 1] = (int64_t)((QS[qi] + 0.05) * (double)(na - 1));
    }
    pooled_ranks(c, w->n, rk, 2 * NQ, rv, w->all, w->hist, w->slot);
    for (int qi = 0; qi < NQ; qi++)
        win[qi] = asinh(rv[2 * qi + 1] / w->cof) - asinh(rv[2 * qi] / w->cof);
}

/* One channel's verdict: the followed quantile with the worst change of
 * its running median, against the bin-to-bin noise. */
typedef struct stab_chg {
    int v, q, bmin, bmax;
    double chg, sig;
} stab_chg;

static stab_chg stab_change(stab_ws *w, const cg_qc_params *p,
                            const double *win)
{
    int nb = w->nb;
    stab_chg best = {CG_QC_PASS, 1, 0, 0, 0, 0};
    for (int qi = 0; qi < NQ; qi++) {
        if (win[qi] > p->stab_max_window)
            continue;
        const double *mq = w->m + qi * nb;
        for (int b = 1; b < nb; b++)
            w->d[b - 1] = mq[b] - mq[b - 1];
        double md = qc_median(w->d, nb - 1);
        for (int b = 1; b < nb; b++)
            w->d[b - 1] = mq[b] - mq[b - 1];
        double sig = 1.4826 * qc_mad(w->d, nb - 1, md) / sqrt(2.0);
        if (sig < 1e-6)
            sig = 1e-6;
        run_median5(mq, nb, w->sm);
        int bmin = 0, bmax = 0;
        for (int b = 1; b < nb; b++) {
            if (w->sm[b] < w->sm[bmin]) bmin = b;
            if (w->sm[b] > w->sm[bmax]) bmax = b;
        }
        double chg = w->sm[bmax] - w->sm[bmin];
        int v = CG_QC_PASS;
        if (chg > p->stab_z * sig)
            v = qc_grade(chg, p->stab_warn, p->stab_fail, 0);
        if (v > best.v || (v == best.v && chg > best.chg)) {
            best.v = v;
            best.chg = chg;
            best.q = qi;
            best.sig = sig;
            best.bmin = bmin;
            best.bmax = bmax;
        }
    }
    return best;
}

/* Allocate the scratch for nb bins of n events.  0 or -1. */
static int stab_alloc(stab_ws *w, int nc)
{
    int64_t n = w->n;
    int nb = w->nb;
    w->first = malloc(((size_t)nb + 1) * sizeof *w->first);
    w->chan = malloc((size_t)nc * sizeof *w->chan);
    w->med = malloc((size_t)nc * (size_t)nb * sizeof *w->med);
    w->m = malloc((size_t)NQ * (size_t)nb * sizeof *w->m);
    w->sm = malloc((size_t)nb * sizeof *w->sm);
    w->d = malloc((size_t)nb * sizeof *w->d);
    w->buf = malloc(((size_t)(n / nb) + 2) * sizeof *w->buf);
    w->all = malloc((size_t)n * sizeof *w->all);
    w->hist = malloc(((size_t)1 << PBITS) * sizeof *w->hist);
    w->slot = calloc((size_t)1 << PBITS, 1);
    if (!w->first || !w->chan || !w->med || !w->m || !w->sm || !w->d ||
        !w->buf || !w->all || !w->hist || !w->slot)
        return -1;
    for (int b = 0; b <= nb; b++)
        w->first[b] = (int64_t)((double)b * (double)n / nb);
    return 0;
}

int qc_stability(const cg_qc_params *p, const cg_qc_input *in,
                 const int *role, cg_qc_result *r, cg_err *err)
{
    const cg_frame *fr = in->fr;
    const char *ck = "signal_stability";
    int64_t n = fr->n;
    int nb = (int)((double)n / p->stab_bin_events);
    if (nb > (int)p->stab_max_bins)
        nb = (int)p->stab_max_bins;
    int nc = 0;
    for (int j = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_FLUOR || (p->stab_scatter &&
                                       role[j] == CG_QC_SCATTER))
            nc++;
    if (nc == 0)
        return qc_add(r, ck, NAN, p->stab_fail, CG_QC_SKIP,
                      "no fluorescence channels%s",
                      p->stab_scatter ? " or scatter" : "")
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory")
                   : 0;
    if (nb < 8)
        return qc_add(r, ck, NAN, p->stab_fail, CG_QC_SKIP,
                      "%lld events: too few for 8 bins of %g events",
                      (long long)n, p->stab_bin_events)
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory")
                   : 0;
    stab_ws w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.nb = nb;
    w.cof = p->stab_cofactor;
    if (stab_alloc(&w, nc) < 0)
        goto nomem;
    int k = 0, nwarn = 0, nfail = 0, wch = -1, wflag = -1;
    int wfrom = 0, wto = 0;
    double worst = 0, wsig = 0;
    char list[200] = "";
    size_t len = 0;
    for (int j = 0; j < fr->nch; j++) {
        if (!(role[j] == CG_QC_FLUOR ||
              (p->stab_scatter && role[j] == CG_QC_SCATTER)))
            continue;
        stab_bins(&w, fr->col[j], k);
        w.chan[k++] = j;
        double win[NQ];
        stab_windows(&w, fr->col[j], win);
        stab_chg ch = stab_change(&w, p, win);
        if (ch.v >= CG_QC_WARN) {
            if (ch.v == CG_QC_FAIL) nfail++;
            else nwarn++;
            if (len < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len,
                                        "%s%s %s %.2f (%s)",
                                        len ? ", " : "", fr->name[j],
                                        QN[ch.q], ch.chg,
                                        ch.bmax > ch.bmin ? "rises"
                                                          : "falls");
        }
        /* worst: the largest change among flagged channels, else overall */
        int flagged = ch.v >= CG_QC_WARN;
        if (flagged > wflag || (flagged == wflag && ch.chg > worst)) {
            wflag = flagged;
            worst = ch.chg;
            wch = j;
            wsig = ch.sig;
            wfrom = ch.bmin < ch.bmax ? ch.bmin : ch.bmax;
            wto = ch.bmin < ch.bmax ? ch.bmax : ch.bmin;
        }
    }
    double wchg = worst;
    int v = nfail ? CG_QC_FAIL : nwarn ? CG_QC_WARN : CG_QC_PASS;
    int rc;
    if (v != CG_QC_PASS)
        rc = qc_add(r, ck, wchg, v == CG_QC_FAIL ? p->stab_fail
                                                 : p->stab_warn, v,
                    "median shift over the run in %d of %d channels: %s "
                    "(asinh units, cofactor %g; worst %s between event bins "
                    "%d and %d of %d, noise SD %.3g)",
                    nfail + nwarn, nc, list, w.cof, fr->name[wch], wfrom + 1,
                    wto + 1, nb, wsig);
    else
        rc = qc_add(r, ck, wchg, p->stab_warn, CG_QC_PASS,
                    "%d channels stable over %d bins of ~%lld events "
                    "(largest change %.3f asinh units, %s)", nc, nb,
                    (long long)(n / nb), wchg,
                    wch >= 0 ? fr->name[wch] : "-");
    if (rc)
        goto nomem;
    cg_qc_series *S = &r->s;
    free(S->stab_first);
    free(S->stab_chan);
    free(S->stab_median);
    S->nstab = nb;
    S->nschan = nc;
    S->stab_first = w.first;
    S->stab_chan = w.chan;
    S->stab_median = w.med;
    w.first = NULL;
    w.chan = NULL;
    w.med = NULL;
    stab_ws_free(&w);
    return 0;
nomem:
    stab_ws_free(&w);
    return cg_err_set(err, CG_E_NOMEM, "qc: out of memory (stability)");
}
