/*
 * stats.c -- the statistics defined in stats.h.
 *
 * Every statistic is computed from the sorted finite values of one
 * population and one marker, so quantiles are exact order statistics with
 * R's type-7 interpolation.  Sums are accumulated in sorted order (a
 * fixed order, so results do not depend on threads).
 *
 * Sorting: a stable LSD radix sort (3 passes of 11 bits) of the values
 * rounded to float (a monotone map, so it orders them up to ties), then
 * each run of equal float keys is ordered by the double value, equal
 * values in event order.  The result equals, bit for bit (-0 and +0
 * included), a stable comparison sort of the values.  cg_stat_pops sorts a
 * marker column once, with event indices, and then gets each population's
 * sorted values by walking that order and keeping the members: O(n) per
 * population, no sort.  Order statistics of unsorted data (MAD, plot axis
 * ranges) use selection: a bounded heap for a tail quantile, quickselect
 * otherwise; either gives the same values as sorting.
 *
 * No globals; scratch is allocated per call (never per event).  Pure
 * functions: safe to call from several threads on separate data.
 * cg_stat_pops_threads deals whole columns to its threads (an atomic
 * counter); a column's cells are written only by the thread that took
 * it and nothing is summed across columns, so the results do not depend
 * on the thread count or on which thread took which column.
 */
#include "stats.h"

#include "fcs.h"
#include "par.h"
#include "select.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

double cg_stat_quantile(const double *v, int64_t n, double p)
{
    if (n <= 0)
        return NAN;
    if (p <= 0)
        return v[0];
    if (p >= 100)
        return v[n - 1];
    double h = (double)(n - 1) * p / 100.0;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    double f = h - (double)lo;
    return v[lo] + f * (v[lo + 1] - v[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------ radix sorting -- */

/* Sort key: the value rounded to float (a monotone map), as an
 * order-preserving uint32; -0 and +0 (and values that round to zero)
 * share a key.  Equal keys are then ordered by the double value. */
static inline uint32_t fkey(double d)
{
    float f = (float)d; /* |d| > FLT_MAX rounds to +-inf: still monotone */
    if (f == 0)
        f = 0.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u >> 31) ? ~u : u | 0x80000000u;
}

typedef struct vi_pair {
    double v;
    uint32_t i;
} vi_pair;

static int cmp_pair(const void *a, const void *b)
{
    const vi_pair *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Order ix[a..b) (event indices, ascending within the run) by value,
 * equal values keeping index order. */
static int sort_run(const double *x, uint32_t *ix, size_t a, size_t b)
{
    size_t r = b - a;
    if (r <= 32) {
        for (size_t i = a + 1; i < b; i++) {
            uint32_t t = ix[i];
            double v = x[t];
            size_t j = i;
            while (j > a && x[ix[j - 1]] > v) {
                ix[j] = ix[j - 1];
                j--;
            }
            ix[j] = t;
        }
        return 0;
    }
    size_t k = a + 1;
    while (k < b && x[ix[k]] == x[ix[a]])
        k++;
    if (k == b)
        return 0; /* all equal (saturated values, zeros): in order */
    vi_pair *pv = malloc(r * sizeof *pv);
    if (!pv)
        return -1;
    for (size_t i = 0; i < r; i++) {
        pv[i].i = ix[a + i];
        pv[i].v = x[pv[i].i];
    }
    qsort(pv, r, sizeof *pv, cmp_pair);
    for (size_t i = 0; i < r; i++)
        ix[a + i] = pv[i].i;
    free(pv);
    return 0;
}

/* The finite x[i] (mask bit set; mask NULL: all), sorted, into out, and
 * the event index of each into ix; pa and pb are scratch (each array
 * room for the masked events; n <= UINT32_MAX).
 * A stable LSD radix sort (3 passes of 11, 11 and 10 bits) of the float
 * key packed with the event index (key << 32 | index: one 8-byte move per
 * event and pass), then runs of equal keys ordered by the double.
 * out NULL: the values go into whichever of pa, pb the sort left free,
 * and *outp (when given) says where they are.
 * Returns the count, or -1 when scratch memory is short. */
static int64_t sort_finite(const double *x, int64_t n, const cg_bits *mask,
                           double *out, uint32_t *ix, uint64_t *pa,
                           uint64_t *pb, double **outp)
{
    static const int sh[3] = {32, 43, 54};
    uint32_t h[3][2048];
    memset(h, 0, sizeof h);
    size_t m = 0;
#define TAKE(idx)                                                            \
    do {                                                                     \
        double v_ = x[idx];                                                  \
        if (isfinite(v_)) {                                                  \
            uint32_t key_ = fkey(v_);                                        \
            h[0][key_ & 2047]++;                                             \
            h[1][(key_ >> 11) & 2047]++;                                     \
            h[2][key_ >> 22]++;                                              \
            pa[m++] = (uint64_t)key_ << 32 | (uint32_t)(idx);                \
        }                                                                    \
    } while (0)
    if (mask) {
        for (int64_t w = 0; w < cg_bits_words(n); w++) {
            uint64_t bits = mask->w[w];
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                TAKE((w << 6) + b);
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            TAKE(i);
    }
#undef TAKE
    uint64_t *src = pa, *dst = pb;
    for (int p = 0; p < 3; p++) {
        uint32_t *hp = h[p];
        int s = sh[p];
        if (m == 0 || hp[(src[0] >> s) & 2047] == m)
            continue; /* one digit for every key: order unchanged */
        uint32_t off = 0;
        for (int d = 0; d < 2048; d++) {
            uint32_t c = hp[d];
            hp[d] = off;
            off += c;
        }
        for (size_t i = 0; i < m; i++) {
            uint64_t e = src[i];
            dst[hp[(e >> s) & 2047]++] = e;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (!out) /* the radix buffer the sort left free */
        out = (double *)(void *)dst;
    if (outp)
        *outp = out;
    for (size_t i = 0; i < m; i++) {
        uint32_t t = (uint32_t)src[i];
        ix[i] = t;
        out[i] = x[t];
    }
    /* runs of equal keys: by the double (and the event index) */
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && (src[b] >> 32) == (src[a] >> 32))
            b++;
        if (b - a > 1) {
            if (sort_run(x, ix, a, b) < 0)
                return -1;
            for (size_t i = a; i < b; i++)
                out[i] = x[ix[i]];
        }
        a = b;
    }
    return (int64_t)m;
}

int64_t cg_stat_gather_sorted(const double *x, int64_t n, const cg_bits *mask,
                              double *out)
{
    if (n <= (int64_t)UINT32_MAX) {
        size_t cap = (size_t)(n ? n : 1);
        uint64_t *pk = fcs_alloc_big(2 * cap * sizeof *pk);
        uint32_t *ix = fcs_alloc_big(cap * sizeof *ix);
        int64_t m = pk && ix ? sort_finite(x, n, mask, out, ix, pk, pk + cap,
                                               NULL)
                             : -1;
        free(pk);
        free(ix);
        if (m >= 0)
            return m;
    }
    /* no scratch memory (or > 2^32 events): gather, sort in place */
    int64_t m = 0;
    if (mask) {
        for (int64_t w = 0; w < cg_bits_words(n); w++) {
            uint64_t bits = mask->w[w];
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                double v = x[(w << 6) + b];
                if (isfinite(v))
                    out[m++] = v;
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i]))
                out[m++] = x[i];
    }
    qsort(out, (size_t)m, sizeof *out, cmp_double);
    return m;
}

/* ---------------------------------------------------------- selection -- */

/* Sift a[i] down a heap of n; sign +1: max-heap, -1: min-heap. */
static inline void sift(double *a, int64_t n, int64_t i, int sign)
{
    double v = a[i];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && sign * a[c + 1] > sign * a[c])
            c++;
        if (!(sign * a[c] > sign * v))
            break;
        a[i] = a[c];
        i = c;
    }
    a[i] = v;
}

/* With a heap of the kk most extreme values in a[0..kk) (max-heap of the
 * smallest when sign = +1), the values at sorted positions kk-1 and kk-2
 * counted from that end: the root and the better of its children. */
static void heap_tail(double *a, int64_t n, int64_t kk, int sign,
                      double *first, double *second)
{
    for (int64_t i = kk / 2 - 1; i >= 0; i--)
        sift(a, kk, i, sign);
    for (int64_t i = kk; i < n; i++)
        if (sign * a[i] < sign * a[0]) {
            double t = a[0];
            a[0] = a[i];
            a[i] = t;
            sift(a, kk, 0, sign);
        }
    *first = a[0];
    if (kk >= 3)
        *second = sign * a[1] > sign * a[2] ? a[1] : a[2];
    else
        *second = kk == 2 ? a[1] : a[0];
}

double cg_stat_quantile_sel(double *v, int64_t m, double p)
{
    if (m <= 0)
        return NAN;
    if (p <= 0 || p >= 100) {
        double e = v[0];
        for (int64_t i = 1; i < m; i++)
            if (p <= 0 ? v[i] < e : v[i] > e)
                e = v[i];
        return e;
    }
    double h = (double)(m - 1) * p / 100.0;
    int64_t lo = (int64_t)floor(h);
    if (lo >= m - 1) {
        double e = v[0];
        for (int64_t i = 1; i < m; i++)
            if (v[i] > e)
                e = v[i];
        return e;
    }
    double f = h - (double)lo, a, b;
    if (lo + 2 <= m / 16) {
        /* low tail: the lo+2 smallest in a max-heap */
        heap_tail(v, m, lo + 2, 1, &b, &a);
    } else if (m - lo <= m / 16) {
        /* high tail: the m-lo largest in a min-heap */
        heap_tail(v, m, m - lo, -1, &a, &b);
    } else {
        a = cg_select_kth(v, m, lo);
        b = v[lo + 1];
        for (int64_t i = lo + 2; i < m; i++)
            if (v[i] < b)
                b = v[i];
    }
    return a + f * (b - a);
}

/* One side of cg_stat_tails: the cap smallest values seen so far,
 * appended until there are cap of them, then kept as a max-heap whose
 * root is the bar a value must pass to get in.  The high side keeps the
 * negated values (negation is exact and reverses the order). */
typedef struct tail_side {
    double *a;
    int64_t cap, len;
    double bar; /* +INFINITY while filling */
} tail_side;

static void tail_push(tail_side *t, double v)
{
    if (t->len < t->cap) {
        t->a[t->len++] = v;
        if (t->len == t->cap) {
            for (int64_t i = t->cap / 2 - 1; i >= 0; i--)
                sift(t->a, t->cap, i, 1);
            t->bar = t->a[0];
        }
        return;
    }
    t->a[0] = v;
    sift(t->a, t->cap, 0, 1);
    t->bar = t->a[0];
}

/* v offered to both sides (the high one negated); 1 when finite. */
static inline int tails_offer(tail_side *L, tail_side *H, double v)
{
    if (!isfinite(v))
        return 0;
    if (v < L->bar)
        tail_push(L, v);
    if (-v < H->bar)
        tail_push(H, -v);
    return 1;
}

/* Q(p) of m values with R type 7 (as cg_stat_quantile_sel): the lower
 * order statistic's index *lo and the weight *f of the next one; 0 when
 * the answer is the maximum. */
static int q7_index(int64_t m, double p, int64_t *lo, double *f)
{
    double h = (double)(m - 1) * p / 100.0;
    *lo = (int64_t)floor(h);
    *f = h - (double)*lo;
    return *lo < m - 1;
}

/* How many values a side keeps for Q(plo) (low) or Q(phi) (high) of up
 * to m values: enough for every count up to m, as the count of finite
 * values is known only at the end (both sizes grow with the count). */
static int64_t tail_cap(int64_t m, double p, int low)
{
    int64_t lo;
    double f;
    if (m < 1 || !q7_index(m, p, &lo, &f))
        return 1;
    return low ? lo + 2 : m - lo;
}

int64_t cg_stat_tails(const double *x, int64_t n, const cg_bits *mask,
                      double plo, double phi, double *qlo, double *qhi,
                      double *mn, double *mx, cg_err *err)
{
    *qlo = *qhi = *mn = *mx = NAN;
    int64_t mub = mask ? cg_bits_count(mask) : n; /* finite or not */
    if (mub <= 0)
        return 0;
    tail_side L = {.cap = tail_cap(mub, plo, 1), .bar = INFINITY};
    tail_side H = {.cap = tail_cap(mub, phi, 0), .bar = INFINITY};
    L.a = malloc((size_t)(L.cap + H.cap) * sizeof *L.a);
    if (!L.a)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    H.a = L.a + L.cap;
    int64_t m = 0;
    /* one pass: every finite value counted and offered to both sides */
    if (mask) {
        for (int64_t w = 0; w < cg_bits_words(n); w++) {
            uint64_t b = mask->w[w];
            while (b) {
                double v = x[(w << 6) + __builtin_ctzll(b)];
                b &= b - 1;
                m += tails_offer(&L, &H, v);
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            m += tails_offer(&L, &H, x[i]);
    }
    if (m == 0) {
        free(L.a);
        return 0;
    }
    /* in order: L.a[j] is the value at sorted position j, -H.a[j] the
     * one at m - 1 - j */
    qsort(L.a, (size_t)L.len, sizeof *L.a, cmp_double);
    qsort(H.a, (size_t)H.len, sizeof *H.a, cmp_double);
    *mn = L.a[0];
    *mx = -H.a[0];
    int64_t lo;
    double f;
    *qlo = *qhi = *mx;
    if (q7_index(m, plo, &lo, &f))
        *qlo = L.a[lo] + f * (L.a[lo + 1] - L.a[lo]);
    if (q7_index(m, phi, &lo, &f)) {
        double a = -H.a[m - 1 - lo], b = -H.a[m - 2 - lo];
        *qhi = a + f * (b - a);
    }
    free(L.a);
    return m;
}

/* ---------------------------------------------------------- evaluation -- */

/* What the caller of eval_core has worked out already: np, the count of
 * the positive values (the last np of v) and either their logs in order
 * (lg) or the sums, in order, of v (s) and of those logs (ls). */
typedef struct eval_pre {
    const double *lg; /* may be scratch: read before the MAD uses it */
    int64_t np;
    int summed;
    double s, ls;
} eval_pre;

/* cg_stat_eval, with what pre gives (NULL: nothing, logs computed here
 * when geomean is asked for). */
static void eval_core(const double *v, int64_t m, const cg_stat_spec *spec,
                      int nspec, double *res, double *scratch,
                      const eval_pre *pre)
{
    double mean = NAN, sd = NAN, med = NAN, gm = NAN, mad = NAN;
    double ls = 0;
    int64_t np = pre ? pre->np : 0;
    if (m > 0) {
        double s = 0;
        if (pre && pre->summed) {
            s = pre->s;
            ls = pre->ls;
        } else {
            const double *lg = pre ? pre->lg : NULL;
            int64_t kp = lg ? m - np : m;
            for (int64_t i = 0; i < kp; i++)
                s += v[i];
            /* two independent sums in one loop: latencies overlap */
            for (int64_t i = kp; i < m; i++) {
                s += v[i];
                ls += lg[i - kp];
            }
        }
        mean = s / (double)m;
        if (m > 1) {
            double ss = 0;
            for (int64_t i = 0; i < m; i++)
                ss += (v[i] - mean) * (v[i] - mean);
            sd = sqrt(ss / (double)(m - 1));
        }
        med = cg_stat_quantile(v, m, 50);
        int need_log = 0;
        for (int k = 0; k < nspec; k++)
            need_log |= spec[k].kind == CG_ST_GEOMEAN;
        if (need_log && !pre) {
            ls = 0;
            np = 0;
            for (int64_t i = 0; i < m; i++)
                if (v[i] > 0) {
                    ls += log(v[i]);
                    np++;
                }
        }
        if (np)
            gm = exp(ls / (double)np);
    }
    int need_mad = 0;
    for (int k = 0; k < nspec; k++)
        need_mad |= spec[k].kind == CG_ST_MAD;
    if (need_mad && m > 0 && scratch) {
        for (int64_t i = 0; i < m; i++)
            scratch[i] = fabs(v[i] - med);
        mad = 1.4826 * cg_stat_quantile_sel(scratch, m, 50);
    }
    for (int k = 0; k < nspec; k++) {
        double r = NAN;
        switch (spec[k].kind) {
        case CG_ST_MEDIAN: r = med; break;
        case CG_ST_MEAN: r = mean; break;
        case CG_ST_GEOMEAN: r = gm; break;
        case CG_ST_SD: r = sd; break;
        case CG_ST_CV: r = (mean > 0 && !isnan(sd)) ? 100 * sd / mean : NAN; break;
        case CG_ST_RCV:
            r = (m > 0 && med > 0)
                    ? 100 * 0.5 * (cg_stat_quantile(v, m, 84.13) -
                                   cg_stat_quantile(v, m, 15.87)) / med
                    : NAN;
            break;
        case CG_ST_MAD: r = mad; break;
        case CG_ST_PCTL: r = cg_stat_quantile(v, m, spec[k].p); break;
        }
        res[k] = isfinite(r) ? r : NAN;
    }
}

void cg_stat_eval(const double *v, int64_t m, const cg_stat_spec *spec,
                  int nspec, double *res, double *scratch)
{
    eval_core(v, m, spec, nspec, res, scratch, NULL);
}

/* ------------------------------------------- populations x columns -- */

/* Populations go in groups of 16: code[g * n + i] has bit q set when
 * event i is in population 16 * g + q.  A column's walk reads the codes
 * in sorted order (gathered once per group), sequentially, instead of a
 * bit of each population at a random place. */
#define GRP 16

/* What the threads share: read-only but for next and failed.  The
 * columns are cols[c], or channel chan[c] of fr (cols NULL). */
typedef struct stat_ctx {
    const double *const *cols;
    const cg_frame *fr;
    const int *chan;
    int ncol;
    int64_t n;
    const cg_bits *uni; /* union of the populations */
    const cg_bits *const *pops;
    int npop;
    const cg_stat_spec *spec;
    int nspec;
    double *res;
    const uint16_t *code; /* ngroups * cap, by rank in the union; NULL: no
                           * shared order */
    size_t cap;           /* events in some population, >= 1 */
    int64_t nu;           /* events in some population */
    int need_log, need_mad;
    atomic_int next;   /* the next column to take */
    atomic_int failed; /* a column ran out of memory */
    /* Caller's memory (cg_stat_pops_mem), carved into the threads'
     * workspaces before anything is allocated; NULL: none. */
    char *mem;
    size_t mem_size;
    atomic_size_t mem_used;
} stat_ctx;

/* One thread's workspace, each array room for cap events: val (the
 * union's values in event order, then a population's values), v and tt
 * (8 bytes: the radix scratch during the sort, then one holds the sorted
 * values and the other the log table), ix (uint32: ranks in the union),
 * cs (the codes in sorted order), scratch (doubles, MAD only: its
 * deviations).  A small population's logs share val with its values. */
typedef struct stat_ws {
    double *val, *v, *tt, *scratch;
    uint32_t *ix;
    uint16_t *cs;
    unsigned carved;   /* bit k: array k came from the caller's memory */
} stat_ws;

static void ws_free(stat_ws *ws)
{
    void *a[6] = {ws->val, ws->v, ws->tt, ws->scratch, ws->ix, ws->cs};
    for (int k = 0; k < 6; k++)
        if (!(ws->carved & (1u << k)))
            free(a[k]);
    memset(ws, 0, sizeof *ws);
}

/* bytes of the caller's memory (64-byte aligned), else a fresh block
 * (huge pages from 4 MiB, freed with free) */
static void *ws_room(stat_ctx *cx, stat_ws *ws, int k, size_t bytes)
{
    size_t need = (bytes + 63) & ~(size_t)63;
    if (cx->mem) {
        size_t at = atomic_fetch_add(&cx->mem_used, need);
        if (at <= cx->mem_size && need <= cx->mem_size - at) {
            ws->carved |= 1u << k;
            return cx->mem + at;
        }
    }
    return fcs_alloc_big(bytes);
}

/* 1 when every array is there */
static int ws_alloc(stat_ctx *cx, stat_ws *ws, size_t cap, int need_scr)
{
    ws->carved = 0;
    ws->val = ws_room(cx, ws, 0, cap * sizeof *ws->val);
    ws->v = ws_room(cx, ws, 1, cap * sizeof *ws->v);
    ws->tt = ws_room(cx, ws, 2, cap * sizeof *ws->tt);
    ws->scratch = need_scr ? ws_room(cx, ws, 3, cap * sizeof *ws->scratch)
                           : NULL;
    ws->ix = ws_room(cx, ws, 4, cap * sizeof *ws->ix);
    ws->cs = ws_room(cx, ws, 5, cap * sizeof *ws->cs);
    if (ws->val && ws->v && ws->tt && ws->ix && ws->cs &&
        (!need_scr || ws->scratch))
        return 1;
    ws_free(ws);
    return 0;
}

/* The walks below are branch free (membership in sorted order is
 * unpredictable).  Each takes the sorted values val[0..m) (the positive
 * ones from kpos on, their logs in lgt[0..m-kpos) or lgt NULL), the codes
 * cs in that order and the population's bit q; puts the members' values
 * into v in order and returns their count. */

/* The walk for a small population: the logs of the positive members go
 * into lv, in order, as eval_core takes them (pre->lg). */
static int64_t walk(const double *val, const uint16_t *cs, unsigned q,
                    int64_t m, int64_t kpos, const double *lgt, double *v,
                    double *lv, eval_pre *pre)
{
    int64_t c = 0, np = 0;
    for (int64_t j = 0; j < kpos; j++) {
        v[c] = val[j];
        c += (cs[j] >> q) & 1;
    }
    if (lgt) {
        for (int64_t j = kpos; j < m; j++) {
            int64_t bit = (cs[j] >> q) & 1;
            v[c] = val[j];
            lv[np] = lgt[j - kpos];
            c += bit;
            np += bit;
        }
        pre->lg = lv;
        pre->np = np;
    } else {
        for (int64_t j = kpos; j < m; j++) {
            v[c] = val[j];
            c += (cs[j] >> q) & 1;
        }
    }
    return c;
}

/* The walk for a large population (its sum as long as the walk anyway):
 * the sum and the log sum are added here (pre->summed).  A non-member
 * adds x * 0 = +-0, which leaves a sum that starts at +0 unchanged (it
 * is never -0), so the sums equal eval_core's over the members in sorted
 * order, bit for bit. */
static int64_t walk_summed(const double *val, const uint16_t *cs, unsigned q,
                           int64_t m, int64_t kpos, const double *lgt,
                           double *v, eval_pre *pre)
{
    int64_t c = 0, np = 0;
    double s = 0, ls = 0;
    for (int64_t j = 0; j < kpos; j++) {
        int64_t bit = (cs[j] >> q) & 1;
        v[c] = val[j];
        s += val[j] * (double)bit;
        c += bit;
    }
    for (int64_t j = kpos; j < m; j++) {
        int64_t bit = (cs[j] >> q) & 1;
        v[c] = val[j];
        s += val[j] * (double)bit;
        ls += lgt[j - kpos] * (double)bit;
        c += bit;
        np += bit;
    }
    pre->summed = 1;
    pre->s = s;
    pre->ls = ls;
    pre->np = np;
    return c;
}

/* The union's values of column c, in event order, into g (room for
 * cx->nu). */
static void gather_union(const stat_ctx *cx, int c, double *g)
{
    if (!cx->cols) {
        cg_frame_gather(cx->fr, cx->chan[c], cx->uni, g);
        return;
    }
    const double *x = cx->cols[c];
    int64_t k = 0;
    for (int64_t w = 0; w < cg_bits_words(cx->n); w++) {
        uint64_t bits = cx->uni->w[w];
        const double *s = x + (w << 6);
        while (bits) {
            g[k++] = s[__builtin_ctzll(bits)];
            bits &= bits - 1;
        }
    }
}

/* Column c into res[npop * nspec]: gather the union's values, sort the
 * finite ones once, then walk that order per population. */
static int stat_column(const stat_ctx *cx, const stat_ws *ws, int c,
                       double *res)
{
    double *g = ws->val, *val;
    uint32_t *ix = ws->ix;
    gather_union(cx, c, g);
    int64_t m = sort_finite(g, cx->nu, NULL, NULL, ix,
                            (uint64_t *)(void *)ws->v,
                            (uint64_t *)(void *)ws->tt, &val);
    if (m < 0)
        return -1;
    /* the union's values are not needed any more: val holds the sorted
     * ones (in v or tt), the other of the two takes the logs, ws->val a
     * population's values */
    double *v = ws->val, *lgt = val == ws->v ? ws->tt : ws->v;
    /* positive values are a suffix of the order: their logs once, in
     * sorted order, as eval_core would add them */
    int64_t kpos = m;
    if (cx->need_log) {
        kpos = 0;
        while (kpos < m && !(val[kpos] > 0))
            kpos++;
        for (int64_t j = kpos; j < m; j++)
            lgt[j - kpos] = log(val[j]);
    }
    uint16_t *cs = ws->cs;
    /* a small population's logs (walk: fewer than m / 3 members) go to
     * the upper half of v, beyond its values */
    double *lv = v + (cx->cap + 1) / 2;
    int nspec = cx->nspec, grp = -1;
    for (int p = 0; p < cx->npop; p++) {
        double *r = res + (size_t)p * (size_t)nspec;
        if (!cx->pops[p]) {
            for (int s = 0; s < nspec; s++)
                r[s] = NAN;
            continue;
        }
        if (p / GRP != grp) {
            grp = p / GRP;
            const uint16_t *cd = cx->code + (size_t)grp * cx->cap;
            for (int64_t j = 0; j < m; j++)
                cs[j] = cd[ix[j]];
        }
        unsigned q = (unsigned)(p % GRP);
        eval_pre pre = {NULL, 0, 0, 0, 0};
        int64_t cnt = 3 * cg_bits_count(cx->pops[p]) >= m
                          ? walk_summed(val, cs, q, m, kpos, lgt, v, &pre)
                          : walk(val, cs, q, m, kpos,
                                 cx->need_log ? lgt : NULL, v, lv, &pre);
        eval_core(v, cnt, cx->spec, nspec, r, ws->scratch, &pre);
    }
    return 0;
}

/* Column x without the shared order (no room for it, or > 2^32 events):
 * sort per population, with scratch of its own.  0 or -1 (no memory). */
static int stat_column_slow(const stat_ctx *cx, int c, double *res)
{
    int64_t n = cx->n;
    double *g = malloc((size_t)(n ? n : 1) * sizeof *g);
    double *gs =
        cx->need_mad ? malloc((size_t)(n ? n : 1) * sizeof *gs) : NULL;
    double *buf = NULL;
    const double *x = cx->cols ? cx->cols[c]
                               : cg_frame_values(cx->fr, cx->chan[c], &buf);
    int rc = (!g || !x || (cx->need_mad && !gs)) ? -1 : 0;
    for (int p = 0; p < cx->npop && rc == 0; p++)
        if (cx->pops[p]) {
            int64_t m = cg_stat_gather_sorted(x, n, cx->pops[p], g);
            cg_stat_eval(g, m, cx->spec, cx->nspec,
                         res + (size_t)p * (size_t)cx->nspec, gs);
        }
    free(g);
    free(gs);
    if (!cx->cols)
        cg_frame_slab_put(cx->fr, buf);
    return rc;
}

static int col_there(const stat_ctx *cx, int c)
{
    return cx->cols ? cx->cols[c] != NULL : cx->chan[c] >= 0;
}

/* Take columns until none is left; each column's cells are written by
 * the one thread that took it. */
static void stat_work(stat_ctx *cx)
{
    stat_ws ws = {0};
    int ok = cx->code &&
             ws_alloc(cx, &ws, cx->cap, cx->need_mad);
    size_t rowlen = (size_t)cx->npop * (size_t)cx->nspec;
    for (;;) {
        int c = atomic_fetch_add(&cx->next, 1);
        if (c >= cx->ncol || atomic_load(&cx->failed))
            break;
        double *r = cx->res + (size_t)c * rowlen;
        if (!col_there(cx, c) || (ok && stat_column(cx, &ws, c, r) == 0))
            continue;
        if (stat_column_slow(cx, c, r) < 0)
            atomic_store(&cx->failed, 1);
    }
    ws_free(&ws);
}

static void *stat_thread(void *arg)
{
    stat_work(arg);
    return NULL;
}

/* The codes of the populations (see GRP) by rank in the union uni (nu
 * events), or NULL (no memory, or more than 2^32 events: no shared order
 * then).  Every population is a subset of uni. */
static uint16_t *make_codes(const cg_bits *uni, int64_t nu,
                            const cg_bits *const *pops, int npop)
{
    if (nu > (int64_t)UINT32_MAX)
        return NULL;
    size_t ng = (size_t)(npop + GRP - 1) / GRP, nn = (size_t)(nu ? nu : 1);
    uint16_t *code = calloc(ng * nn, sizeof *code);
    if (!code)
        return NULL;
    for (int p = 0; p < npop; p++) {
        if (!pops[p])
            continue;
        uint16_t *cd = code + (size_t)(p / GRP) * nn;
        uint16_t bit = (uint16_t)(1u << (p % GRP));
        int64_t base = 0;
        for (int64_t w = 0; w < cg_bits_words(uni->n); w++) {
            uint64_t u = uni->w[w], bits = pops[p]->w[w];
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                uint64_t below = u & (((uint64_t)1 << b) - 1);
                cd[base + __builtin_popcountll(below)] |= bit;
            }
            base += __builtin_popcountll(u);
        }
    }
    return code;
}

int cg_stat_pops_threads(const double *const *cols, int ncol, int64_t n,
                         const cg_bits *const *pops, int npop,
                         const cg_stat_spec *spec, int nspec, double *res,
                         int nthreads, cg_err *err)
{
    return cg_stat_pops_mem(cols, ncol, n, pops, npop, spec, nspec, res,
                            nthreads, NULL, 0, err);
}

/* cg_stat_pops_mem and cg_stat_pops_frame: cx has the columns. */
static int stat_pops(stat_ctx *cx, int nthreads, cg_err *err);

int cg_stat_pops_mem(const double *const *cols, int ncol, int64_t n,
                     const cg_bits *const *pops, int npop,
                     const cg_stat_spec *spec, int nspec, double *res,
                     int nthreads, void *mem, size_t mem_size, cg_err *err)
{
    stat_ctx cx = {.cols = cols, .ncol = ncol, .n = n, .pops = pops,
                   .npop = npop, .spec = spec, .nspec = nspec, .res = res,
                   .mem = mem, .mem_size = mem ? mem_size : 0};
    return stat_pops(&cx, nthreads, err);
}

int cg_stat_pops_frame(const cg_frame *fr, const int *chan, int ncol,
                       const cg_bits *const *pops, int npop,
                       const cg_stat_spec *spec, int nspec, double *res,
                       int nthreads, void *mem, size_t mem_size, cg_err *err)
{
    stat_ctx cx = {.fr = fr, .chan = chan, .ncol = ncol, .n = fr->n,
                   .pops = pops, .npop = npop, .spec = spec, .nspec = nspec,
                   .res = res, .mem = mem, .mem_size = mem ? mem_size : 0};
    return stat_pops(&cx, nthreads, err);
}

static int stat_pops(stat_ctx *cx, int nthreads, cg_err *err)
{
    int64_t n = cx->n;
    int ncol = cx->ncol, npop = cx->npop, nspec = cx->nspec;
    const cg_bits *const *pops = cx->pops;
    const cg_stat_spec *spec = cx->spec;
    double *res = cx->res;
    atomic_init(&cx->mem_used, 0);
    for (int k = 0; k < nspec; k++) {
        cx->need_mad |= spec[k].kind == CG_ST_MAD;
        cx->need_log |= spec[k].kind == CG_ST_GEOMEAN;
    }
    size_t rowlen = (size_t)npop * (size_t)nspec;
    for (size_t i = 0; i < (size_t)ncol * rowlen; i++)
        res[i] = NAN;
    /* only events of some population are ever looked at: sort those */
    int nnull = 0, nx = 0;
    for (int p = 0; p < npop; p++)
        nnull += !pops[p];
    for (int c = 0; c < ncol; c++)
        nx += col_there(cx, c);
    if (nnull == npop || nx == 0)
        return 0;
    cg_bits *uni = cg_bits_new(n);
    if (!uni)
        return cg_err_set(err, CG_E_NOMEM, "statistics: out of memory");
    for (int p = 0; p < npop; p++)
        if (pops[p])
            cg_bits_or(uni, pops[p]);
    size_t nu = (size_t)cg_bits_count(uni);
    cx->uni = uni;
    cx->nu = (int64_t)nu;
    cx->cap = nu ? nu : 1;
    uint16_t *code = make_codes(uni, cx->nu, pops, npop);
    cx->code = code;
    atomic_init(&cx->next, 0);
    atomic_init(&cx->failed, 0);
    /* the caller is one of the workers; a thread that cannot start
     * leaves its columns to the others */
    int nt = nthreads < 1 ? 1 : nthreads > nx ? nx : nthreads;
    cg_par_run(nt, stat_thread, cx, 0); /* workers share the counter */
    free(code);
    cg_bits_free(uni);
    if (atomic_load(&cx->failed))
        return cg_err_set(err, CG_E_NOMEM, "statistics: out of memory");
    return 0;
}

int cg_stat_pops(const double *const *cols, int ncol, int64_t n,
                 const cg_bits *const *pops, int npop,
                 const cg_stat_spec *spec, int nspec, double *res,
                 cg_err *err)
{
    return cg_stat_pops_threads(cols, ncol, n, pops, npop, spec, nspec, res,
                                1, err);
}

double cg_stat_pct(int64_t num, int64_t den)
{
    if (den <= 0)
        return NAN;
    return 100.0 * (double)num / (double)den;
}
