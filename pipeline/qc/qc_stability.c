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
 * Cost: one pass over each channel's column fills, per bin, a histogram
 * on a linear scale (from a sample of the column) and, for the whole run,
 * one on the values' top key bits; each quantile is then selected among
 * the few values of its histogram bucket only.  An order statistic is one
 * value whatever the method, except that -0 and +0 compare equal: when a
 * selected value is zero the bin is selected again the original way, so
 * the results are bit-identical to a selection on the whole bin.
 *
 * Threading: the check runs as qc_stab_begin (serial), one
 * qc_stab_channel task per channel (any thread, each with its own
 * scratch; a task writes only its channel's row of the medians and its
 * own verdict slot) and qc_stab_end (serial, channels in frame order), so
 * the result does not depend on the thread count.
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

/* ord[0..nr) = the indices of rk[0..nr) (nr <= 8) in ascending rank
 * order (insertion sort: stable, no allocation). */
static void rank_order(const int64_t *rk, int nr, int *ord)
{
    for (int i = 0; i < nr; i++) {
        int j = i;
        while (j > 0 && rk[ord[j - 1]] > rk[i]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
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
    rank_order(rk, nr, ord);
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

/* Per-bin selection: at most NBK buckets on a log scale of the value
 * above a floor a: bucket = the top bits (exponent and LB mantissa bits)
 * of x - a, so a bucket spans 1/2^LB of an octave of x - a; x - a below
 * 1 goes to bucket 0, far above to the last one.  A NaN's key is NOKEY,
 * never a bucket. */
#define NBK 4096
#define LB 7
#define NOKEY 0xFFFF

/* Bucket of v: monotone (v <= u gives a bucket <= u's bucket), so a
 * bucket's values all lie between its neighbours'.  NaN goes to bucket 0
 * (callers count it with weight 0).  last: the last bucket. */
static inline int lin_key(double v, double a, int last)
{
    double t = v - a;
    t = t >= 1.0 ? t : 1.0;
    uint64_t u;
    memcpy(&u, &t, sizeof u); /* t >= 1: the bits order as the values */
    uint64_t key = (u >> (52 - LB)) - (0x3ff0000000000000ull >> (52 - LB));
    return key < (uint64_t)last ? (int)key : last;
}

/* The buckets of a column: keys[i] given (NOKEY for NaN), or computed
 * from the value, lin_key on the scale a..last when lin, else the top
 * PBITS bits of okey. */
typedef struct bk_keys {
    const uint16_t *keys;
    int lin, last;
    double a;
} bk_keys;

/* The values of ranks rk[0..nr) (nr <= 8, each below the number of values
 * the histogram counts) among the values of a[0..n), given hist (counts
 * of the bucket of each non-NaN a[i], bucketed as kk says): the values of
 * the ranks' buckets are copied to space (in a's order) and each rank is
 * selected inside its bucket.  slot: 1 << PBITS bytes, zero on entry and
 * on return; pos: room for n + 1 positions with kk->keys (a bin's values,
 * many of them wanted, take a branch-free path through it); a whole
 * column's keys are computed again, few values wanted.  space NULL: room
 * for exactly those values is allocated here (a whole column's: a few
 * buckets of it).  0, or -1 when that allocation fails. */
static int bucket_ranks(const double *a, int64_t n, const bk_keys *kk,
                         const int64_t *rk, int nr, double *rv,
                         double *space, const uint32_t *hist, uint8_t *slot,
                         int64_t *pos)
{
    const uint16_t *keys = kk->keys;
    /* bucket of each rank, and the rank inside it (ranks in order) */
    int ord[8];
    rank_order(rk, nr, ord);
    int64_t bk[8], loc[8], cum = 0;
    int b = 0;
    for (int t = 0; t < nr; t++) {
        int64_t r = rk[ord[t]];
        while (cum + hist[b] <= r) /* r below the count: stops in range */
            cum += hist[b++];
        bk[ord[t]] = b;
        loc[ord[t]] = r - cum;
    }
    /* one segment of space per distinct bucket */
    int nseg = 0;
    int64_t off[8], fill[8];
    for (int t = 0; t < nr; t++) {
        if (slot[bk[t]])
            continue;
        slot[bk[t]] = (uint8_t)(++nseg);
    }
    int64_t at = 0;
    for (int t = 0, sgi = 0; t < nr; t++)
        if (slot[bk[t]] == sgi + 1) {
            off[sgi] = at;
            fill[sgi] = 0;
            at += hist[bk[t]];
            sgi++;
        }
    double *own = NULL;
    if (!space && !(space = own = malloc((size_t)(at ? at : 1) *
                                         sizeof *space))) {
        for (int t = 0; t < nr; t++)
            slot[bk[t]] = 0;
        return -1;
    }
    if (keys) {
        /* the positions of the buckets' values first, without a branch
         * (wanted at random), then their values in order */
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++) {
            pos[m] = i;
            m += slot[keys[i]] != 0;
        }
        for (int64_t j = 0; j < m; j++) {
            int sg = slot[keys[pos[j]]] - 1;
            space[off[sg] + fill[sg]++] = a[pos[j]];
        }
    } else if (kk->lin) {
        for (int64_t i = 0; i < n; i++) {
            double v = a[i];
            if (isnan(v))
                continue;
            int sg = slot[lin_key(v, kk->a, kk->last)];
            if (sg) {
                sg--;
                space[off[sg] + fill[sg]++] = v;
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            double v = a[i];
            if (isnan(v))
                continue;
            int sg = slot[okey(v) >> (64 - PBITS)];
            if (sg) {
                sg--;
                space[off[sg] + fill[sg]++] = v;
            }
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
    free(own);
    return 0;
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

/* One thread's scratch for the channel tasks of one stability check. */
typedef struct stab_ws {
    int nb;
    double *m;      /* NQ x nb quantiles of one channel, asinh units */
    double *sm, *d;
    double *buf;    /* one bin's non-NaN values, in event order */
    double *space;  /* one bin's bucket segments, then the column sample */
    uint32_t *hist; /* pooled counts: 1 << PBITS (or NBK linear) */
    uint8_t *slot;  /* 1 << PBITS bytes, zero between uses */
    uint32_t *bh;   /* NBK counts of one bin */
    uint16_t *keys; /* one bin's bucket keys (stab_bins): bin + 1 */
    int64_t *pos;   /* one bin's positions (bucket_ranks): bin + 1 */
} stab_ws;

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

/* The shared state of one check: bins, per-channel outputs. */
struct qc_stab {
    const cg_qc_params *p;
    const cg_frame *fr;
    int64_t n;
    int nb, nc;
    double cof;
    int64_t *first; /* nb + 1 bin starts */
    int *chan;      /* nc frame channels */
    double *med;    /* nc x nb medians, linear units */
    stab_chg *out;  /* nc verdicts */
};

void qc_stab_scratch_free(void *scratch)
{
    stab_ws *w = scratch;
    if (!w)
        return;
    free(w->m);
    free(w->sm);
    free(w->d);
    free(w->buf);
    free(w->space);
    free(w->hist);
    free(w->slot);
    free(w->bh);
    free(w->pos);
    free(w->keys);
    free(w);
}

static stab_ws *stab_ws_new(const qc_stab *st)
{
    stab_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    int nb = st->nb;
    size_t bin = (size_t)(st->n / nb) + 2;
    w->nb = nb;
    w->m = malloc((size_t)NQ * (size_t)nb * sizeof *w->m);
    w->sm = malloc((size_t)nb * sizeof *w->sm);
    w->d = malloc((size_t)nb * sizeof *w->d);
    w->buf = malloc(bin * sizeof *w->buf);
    w->space = malloc((bin > 4096 ? bin : 4096) * sizeof *w->space);
    w->hist = malloc(((size_t)1 << PBITS) * sizeof *w->hist);
    w->slot = calloc((size_t)1 << PBITS, 1);
    w->bh = malloc(NBK * sizeof *w->bh);
    w->keys = malloc((bin + 1) * sizeof *w->keys);
    w->pos = malloc((bin + 1) * sizeof *w->pos);
    if (!w->m || !w->sm || !w->d || !w->buf || !w->space ||
        !w->hist || !w->slot || !w->bh || !w->keys || !w->pos) {
        qc_stab_scratch_free(w);
        return NULL;
    }
    return w;
}

/* The bucket scale of column c: the floor a is the 1st percentile of an
 * even sample of up to 4096 events, less 1% of the span to the 99th
 * (and 1); last is the bucket of the 99th plus a quarter of the span.  0 when no
 * usable scale (then every bin is selected whole). */
static int stab_scale(stab_ws *w, const double *c, int64_t n, double *a,
                      int *last)
{
    int64_t ns = n < 4096 ? n : 4096, k = 0;
    for (int64_t j = 0; j < ns; j++) {
        double v = c[(int64_t)((double)j * (double)n / (double)ns)];
        if (!isnan(v))
            w->space[k++] = v;
    }
    if (k < 16)
        return 0;
    int64_t rk[2] = {k / 100, k - 1 - k / 100};
    double rv[2];
    select_ranks(w->space, k, rk, 2, rv);
    double span = rv[1] - rv[0];
    double lo = rv[0] - 0.01 * span - 1, hi = rv[1] + 0.25 * span;
    if (!isfinite(lo) || !isfinite(hi))
        return 0;
    *a = lo;
    *last = lin_key(hi, lo, NBK - 1);
    return 1;
}

/* The linear scale of one channel (stab_scale), or lin = 0. */
typedef struct stab_lin {
    int lin, last;
    double a;
} stab_lin;

/* Order statistics rk[0..4) of the non-NaN values of one bin c[0..n)
 * into rv: among the values of their buckets (keys: the bin's keys, bh
 * its histogram) when L->lin, else (or when one of them is zero, which
 * may be -0 or +0) by a selection on the whole bin, whose -0/+0 they
 * then are. */
static void stab_bin_ranks(stab_ws *w, const stab_lin *L, const double *c,
                           const uint16_t *keys, int64_t n,
                           const int64_t *rk, double *rv)
{
    if (L->lin) {
        bk_keys k = {keys, 1, L->last, L->a};
        bucket_ranks(c, n, &k, rk, 4, rv, w->space, w->bh, w->slot, w->pos);
        if (rv[0] != 0 && rv[1] != 0 && rv[2] != 0 && rv[3] != 0)
            return;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        w->buf[m] = c[i];
        m += !isnan(c[i]);
    }
    select_ranks(w->buf, m, rk, 4, rv);
}

/* The NQ quantiles of channel c in each bin (w->m), its median as the
 * k-th row of st->med, and the pooled histogram of the whole column
 * (w->hist: the lin_key buckets when L->lin, else 1 << PBITS key
 * buckets).  Returns the number of non-NaN values. */
static int64_t stab_bins(const qc_stab *st, stab_ws *w, const double *c,
                         int k, const stab_lin *L)
{
    int nb = st->nb;
    double cof = st->cof, *m = w->m, la = L->a;
    int last = L->last, nbk = last + 1;
    uint32_t *hist = w->hist, *bh = w->bh;
    uint16_t *keys = w->keys;
    memset(hist, 0, (L->lin ? (size_t)nbk : (size_t)1 << PBITS) *
                        sizeof *hist);
    int64_t na = 0;
    for (int b = 0; b < nb; b++) {
        int64_t cntb = 0, lo = st->first[b], hi = st->first[b + 1];
        if (L->lin) {
            memset(bh, 0, (size_t)nbk * sizeof *bh);
            for (int64_t i = lo; i < hi; i++) {
                double v = c[i];
                int ok = !isnan(v);
                cntb += ok;
                int key = lin_key(v, la, last);
                bh[key] += (uint32_t)ok;
                keys[i - lo] = ok ? (uint16_t)key : NOKEY;
            }
            for (int q = 0; q < nbk; q++)
                hist[q] += bh[q];
        } else {
            for (int64_t i = lo; i < hi; i++) {
                double v = c[i];
                int ok = !isnan(v);
                cntb += ok;
                hist[okey(v) >> (64 - PBITS)] += (uint32_t)ok;
            }
        }
        na += cntb;
        if (!cntb) {
            for (int qi = 0; qi < NQ; qi++)
                m[qi * nb + b] = 0;
            st->med[(size_t)k * nb + b] = sinh(0.0) * cof;
            continue;
        }
        /* order statistics of the raw values, transformed after: the
         * k-th of asinh(x / cof) is asinh(k-th x / cof) */
        int64_t h = cntb / 2;
        int64_t rk[4] = {(int64_t)(QS[0] * (double)(cntb - 1)),
                         cntb % 2 == 0 ? h - 1 : h, h,
                         (int64_t)(QS[2] * (double)(cntb - 1))};
        double rv[4];
        stab_bin_ranks(w, L, c + lo, w->keys, hi - lo, rk, rv);
        m[0 * nb + b] = asinh(rv[0] / cof);
        m[2 * nb + b] = asinh(rv[3] / cof);
        double md = asinh(rv[2] / cof);
        if (cntb % 2 == 0)
            md = 0.5 * (md + asinh(rv[1] / cof));
        m[1 * nb + b] = md;
        st->med[(size_t)k * nb + b] = sinh(md) * cof;
    }
    return na;
}

/* Pooled quantile windows (width of QS[qi] +- 0.05 over the whole run):
 * a quantile in a valley between two populations jumps from bin to bin
 * and is not followed.  na: non-NaN values of c; w->hist: their pooled
 * histogram (stab_bins).  Only compared with stab_max_window, so a -0
 * or +0 among the ranks gives the same verdict. */
static int stab_windows(const qc_stab *st, stab_ws *w, const double *c,
                        int64_t na, const stab_lin *L, double *win)
{
    if (!na) {
        for (int qi = 0; qi < NQ; qi++)
            win[qi] = 0;
        return 0;
    }
    int64_t rk[2 * NQ];
    double rv[2 * NQ];
    for (int qi = 0; qi < NQ; qi++) {
        rk[2 * qi] = (int64_t)((QS[qi] - 0.05) * (double)(na - 1));
        rk[2 * qi + 1] = (int64_t)((QS[qi] + 0.05) * (double)(na - 1));
    }
    bk_keys k = {NULL, L->lin, L->last, L->a};
    if (bucket_ranks(c, st->n, &k, rk, 2 * NQ, rv, NULL, w->hist, w->slot,
                     NULL) < 0)
        return -1;
    for (int qi = 0; qi < NQ; qi++)
        win[qi] = asinh(rv[2 * qi + 1] / st->cof) -
                  asinh(rv[2 * qi] / st->cof);
    return 0;
}

int qc_stab_task_of(const qc_stab *st, int j)
{
    for (int k = 0; st && k < st->nc; k++)
        if (st->chan[k] == j)
            return k;
    return -1;
}

int qc_stab_channel(qc_stab *st, int k, const double *c, void **scratch)
{
    stab_ws *w = *scratch;
    if (!w) {
        w = stab_ws_new(st);
        if (!w)
            return -1;
        *scratch = w;
    }
    stab_lin L = {0, 0, 0};
    L.lin = stab_scale(w, c, st->n, &L.a, &L.last);
    int64_t na = stab_bins(st, w, c, k, &L);
    double win[NQ];
    if (stab_windows(st, w, c, na, &L, win) < 0)
        return -1;
    st->out[k] = stab_change(w, st->p, win);
    return 0;
}

void qc_stab_free(qc_stab *st)
{
    if (!st)
        return;
    free(st->first);
    free(st->chan);
    free(st->med);
    free(st->out);
    free(st);
}

int qc_stab_begin(const cg_qc_params *p, const cg_qc_input *in,
                  const int *role, cg_qc_result *r, qc_stab **out,
                  int *ntask)
{
    const cg_frame *fr = in->fr;
    const char *ck = "signal_stability";
    int64_t n = fr->n;
    *out = NULL;
    *ntask = 0;
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
                      p->stab_scatter ? " or scatter" : "");
    if (nb < 8)
        return qc_add(r, ck, NAN, p->stab_fail, CG_QC_SKIP,
                      "%lld events: too few for 8 bins of %g events",
                      (long long)n, p->stab_bin_events);
    qc_stab *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->p = p;
    st->fr = fr;
    st->n = n;
    st->nb = nb;
    st->nc = nc;
    st->cof = p->stab_cofactor;
    st->first = malloc(((size_t)nb + 1) * sizeof *st->first);
    st->chan = malloc((size_t)nc * sizeof *st->chan);
    st->med = malloc((size_t)nc * (size_t)nb * sizeof *st->med);
    st->out = calloc((size_t)nc, sizeof *st->out);
    if (!st->first || !st->chan || !st->med || !st->out) {
        qc_stab_free(st);
        return -1;
    }
    for (int b = 0; b <= nb; b++)
        st->first[b] = (int64_t)((double)b * (double)n / nb);
    for (int j = 0, k = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_FLUOR ||
            (p->stab_scatter && role[j] == CG_QC_SCATTER))
            st->chan[k++] = j;
    *out = st;
    *ntask = nc;
    return 0;
}

/* The check's row from the channels' verdicts (in frame order), and the
 * series handed to r.  Frees st.  0 or -1 (no memory). */
int qc_stab_end(qc_stab *st, cg_qc_result *r)
{
    const cg_qc_params *p = st->p;
    const cg_frame *fr = st->fr;
    const char *ck = "signal_stability";
    int nb = st->nb, nc = st->nc;
    int64_t n = st->n;
    int nwarn = 0, nfail = 0, wch = -1, wflag = -1;
    int wfrom = 0, wto = 0;
    double worst = 0, wsig = 0;
    char list[200] = "";
    size_t len = 0;
    for (int k = 0; k < nc; k++) {
        int j = st->chan[k];
        stab_chg ch = st->out[k];
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
                    nfail + nwarn, nc, list, st->cof, fr->name[wch],
                    wfrom + 1, wto + 1, nb, wsig);
    else
        rc = qc_add(r, ck, wchg, p->stab_warn, CG_QC_PASS,
                    "%d channels stable over %d bins of ~%lld events "
                    "(largest change %.3f asinh units, %s)", nc, nb,
                    (long long)(n / nb), wchg,
                    wch >= 0 ? fr->name[wch] : "-");
    if (rc) {
        qc_stab_free(st);
        return -1;
    }
    cg_qc_series *S = &r->s;
    free(S->stab_first);
    free(S->stab_chan);
    free(S->stab_median);
    S->nstab = nb;
    S->nschan = nc;
    S->stab_first = st->first;
    S->stab_chan = st->chan;
    S->stab_median = st->med;
    st->first = NULL;
    st->chan = NULL;
    st->med = NULL;
    qc_stab_free(st);
    return 0;
}
