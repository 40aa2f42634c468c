/*
 * kde.c -- binned Gaussian kernel density estimates with FFTW (kde.h).
 *
 * Pipeline per estimate: select the finite (masked) values, choose the
 * bandwidth (Silverman 1-D, Scott 2-D, on the robust spread), lay out the
 * grid, bin linearly, then convolve the bin weights with the sampled
 * Gaussian by a real FFT of size P >= 2m - 1 per axis (so the circular
 * convolution equals the linear one on the grid) and scale by 1/(n P).
 * The used values are gathered once, in event order; sd, range and the
 * bins read that array (so sums and bin accumulation run in the same
 * order as a per-event loop).  The IQR's quartiles come from a 4096-bucket
 * histogram plus selection inside the buckets that hold the needed order
 * statistics: the same values as sorting, in O(n), without reordering.
 * Callers needing several estimates or quantiles of the same data gather
 * once themselves (cg_kde_vals, cg_kde_pairs) and pass the arrays in.
 *
 * Invariants: the output never depends on anything but the input values,
 * the mask and the options (plans are FFTW_ESTIMATE; every array is
 * fftw_malloc'ed, so the alignment the plans were made for always holds).
 * Tiny negative values left by FFT round-off are clamped to 0.
 *
 * Threading: the plan cache below is the module's only global.  It is a
 * linked list guarded by plan_mu; a plan, once made, is never modified
 * and is executed through the thread-safe new-array execute functions.
 * Allocation is per call (grid- or data-sized), never per event.
 */
#include "kde.h"
#include "frame.h"
#include "select.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- plan cache ------------------------------------------------------ */

typedef struct plan_ent {
    int rank, n0, n1; /* rank 1: n0 only; rank 2: n0 rows x n1 cols */
    fftw_plan fwd, bwd;
    struct plan_ent *next;
} plan_ent;

static pthread_mutex_t plan_mu = PTHREAD_MUTEX_INITIALIZER;
static plan_ent *plan_head;

void cg_kde_plan_lock(void) { pthread_mutex_lock(&plan_mu); }
void cg_kde_plan_unlock(void) { pthread_mutex_unlock(&plan_mu); }

/* Find or make the r2c/c2r pair for the shape; NULL when FFTW fails. */
static const plan_ent *get_plans(int rank, int n0, int n1)
{
    pthread_mutex_lock(&plan_mu);
    for (plan_ent *e = plan_head; e; e = e->next)
        if (e->rank == rank && e->n0 == n0 && e->n1 == n1) {
            pthread_mutex_unlock(&plan_mu);
            return e;
        }
    size_t nr = rank == 1 ? (size_t)n0 : (size_t)n0 * (size_t)n1;
    size_t nc = rank == 1 ? (size_t)(n0 / 2 + 1)
                          : (size_t)n0 * (size_t)(n1 / 2 + 1);
    double *r = fftw_malloc(nr * sizeof *r);
    fftw_complex *c = fftw_malloc(nc * sizeof *c);
    plan_ent *e = calloc(1, sizeof *e);
    if (r && c && e) {
        unsigned fl = FFTW_ESTIMATE;
        if (rank == 1) {
            e->fwd = fftw_plan_dft_r2c_1d(n0, r, c, fl);
            e->bwd = fftw_plan_dft_c2r_1d(n0, c, r, fl | FFTW_DESTROY_INPUT);
        } else {
            e->fwd = fftw_plan_dft_r2c_2d(n0, n1, r, c, fl);
            e->bwd = fftw_plan_dft_c2r_2d(n0, n1, c, r,
                                          fl | FFTW_DESTROY_INPUT);
        }
    }
    if (e && (!e->fwd || !e->bwd)) {
        if (e->fwd)
            fftw_destroy_plan(e->fwd);
        if (e->bwd)
            fftw_destroy_plan(e->bwd);
        free(e);
        e = NULL;
    } else if (e) {
        e->rank = rank;
        e->n0 = n0;
        e->n1 = n1;
        e->next = plan_head;
        plan_head = e;
    }
    fftw_free(r);
    fftw_free(c);
    pthread_mutex_unlock(&plan_mu);
    return e;
}

void cg_kde_cache_clear(void)
{
    pthread_mutex_lock(&plan_mu);
    while (plan_head) {
        plan_ent *e = plan_head;
        plan_head = e->next;
        fftw_destroy_plan(e->fwd);
        fftw_destroy_plan(e->bwd);
        free(e);
    }
    pthread_mutex_unlock(&plan_mu);
}

/* Smallest 2^a 3^b 5^c >= n (sizes FFTW handles fastest). */
static int fft_size(int n)
{
    for (int p = n > 1 ? n : 1;; p++) {
        int q = p;
        while (q % 2 == 0) q /= 2;
        while (q % 3 == 0) q /= 3;
        while (q % 5 == 0) q /= 5;
        if (q == 1)
            return p;
    }
}

/* ---- helpers ----------------------------------------------------------- */

static int use(const cg_bits *mask, int64_t i)
{
    return !mask || cg_bits_get(mask, i);
}

static double min_of(const double *v, int64_t n)
{
    double m = v[0];
    for (int64_t i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

/* R quantile type 7 of v[0..n) by selection (v is reordered; the value
 * equals q7 of the sorted array: same order statistics, same formula).
 * Only v[from..n) is searched: the caller guarantees that every element
 * of v[0..from) is <= the order statistics needed (a previous call with
 * a smaller p leaves exactly that, with v[from - 1] in its sorted place). */
static double q7_select(double *v, int64_t n, double p, int64_t from)
{
    double h = (double)(n - 1) * p;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1) {
        cg_select_k(v + from, n - from, n - 1 - from);
        return v[n - 1];
    }
    if (lo >= from) /* else lo == from - 1, already in place */
        cg_select_k(v + from, n - from, lo - from);
    double a = v[lo], b = min_of(v + lo + 1, n - lo - 1);
    return a + (h - (double)lo) * (b - a);
}

double cg_kde_quantile7(double *v, int64_t n, double p)
{
    if (n < 1)
        return NAN;
    return q7_select(v, n, p, 0);
}

/* Whether x[0..n) (n >= 1) are all finite; then their sum (in order)
 * and range, as gather accumulates them. */
static int all_finite(const double *x, int64_t n, double *sum_out,
                      double *min_out, double *max_out)
{
    double sum = 0, vmin = INFINITY, vmax = -INFINITY;
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        ok &= isfinite(x[i]) != 0;
        sum += x[i];
        vmin = x[i] < vmin ? x[i] : vmin;
        vmax = x[i] > vmax ? x[i] : vmax;
    }
    if (!ok)
        return 0;
    *sum_out = sum;
    *min_out = vmin;
    *max_out = vmax;
    return 1;
}

/* The finite values of x[0..n) whose mask bit is set (all when mask is
 * NULL), in event order, into *v (owned by the caller; NULL when none),
 * and their sum accumulated in that order.  With borrow non-NULL and
 * mask NULL, when every value is finite nothing is copied: *v is NULL,
 * *borrow 1 (the values are x itself).  Returns the count, or -1 on no
 * memory. */
static int64_t gather(const double *x, int64_t n, const cg_bits *mask,
                      double **v_out, double *sum_out, double *min_out,
                      double *max_out, int *borrow)
{
    int64_t cap = 0;
    if (mask)
        for (int64_t w = 0, nw = cg_bits_words(n); w < nw; w++)
            cap += __builtin_popcountll(mask->w[w]);
    else
        cap = n;
    *v_out = NULL;
    *sum_out = 0;
    *min_out = *max_out = NAN;
    if (cap == 0)
        return 0;
    if (!mask && borrow && all_finite(x, n, sum_out, min_out, max_out)) {
        *borrow = 1; /* the sum and range a copy would give */
        return n;
    }
    if (borrow)
        *borrow = 0;
    double *v = cg_frame_scratch_alloc(cap); /* slab, or huge pages */
    if (!v)
        return -1;
    int64_t k = 0;
    double sum = 0, vmin = INFINITY, vmax = -INFINITY;
    if (mask) {
        for (int64_t w = 0, nw = cg_bits_words(n); w < nw; w++)
            for (uint64_t m = mask->w[w]; m; m &= m - 1) {
                double xi = x[(w << 6) + __builtin_ctzll(m)];
                if (isfinite(xi)) {
                    v[k++] = xi;
                    sum += xi;
                    vmin = xi < vmin ? xi : vmin;
                    vmax = xi > vmax ? xi : vmax;
                }
            }
    } else {
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i])) {
                v[k++] = x[i];
                sum += x[i];
                vmin = x[i] < vmin ? x[i] : vmin;
                vmax = x[i] > vmax ? x[i] : vmax;
            }
    }
    *v_out = v;
    *sum_out = sum;
    *min_out = vmin; /* the first of equal extremes, as a scan keeps */
    *max_out = vmax;
    return k;
}

#define QBUCKETS 4096

/* Bucket of x for the histogram: floor((x - min) * scale), clamped;
 * monotone in x, so buckets are ordered. */
static inline int qbucket(double x, double vmin, double scale)
{
    double d = (x - vmin) * scale;
    return d < QBUCKETS ? (int)d : QBUCKETS - 1;
}

/* Type-7 quantiles p[0..nq) of v[0..k) (k >= 2, finite, min/max known)
 * without reordering v: cum (QBUCKETS + 1 counts, cum[b + 1] = values in
 * bucket b, overwritten) is the histogram over QBUCKETS equal-width
 * buckets (qbucket), or NULL when min/max give no usable scale; it
 * finds the bucket of each needed order statistic; the values of those
 * buckets are gathered and the statistic selected among them.  Same
 * values and formula as sorting.  0, or -1 on no memory. */
static int quantiles7(const double *v, int64_t k, double vmin, double vmax,
                      int64_t *cum, const double *p, int nq, double *q)
{
    double scale = (double)QBUCKETS / (vmax - vmin);
    if (!cum) {
        if (vmax == vmin) { /* all equal: a + f * 0 */
            for (int t = 0; t < nq; t++)
                q[t] = vmin;
            return 0;
        }
        double *c = malloc((size_t)k * sizeof *c);
        if (!c)
            return -1;
        for (int t = 0; t < nq; t++) {
            memcpy(c, v, (size_t)k * sizeof *c);
            q[t] = cg_kde_quantile7(c, k, p[t]);
        }
        free(c);
        return 0;
    }
    for (int b = 0; b < QBUCKETS; b++)
        cum[b + 1] += cum[b];
    /* ranks needed: lo and lo + 1 per quantile */
    int64_t rank[8];
    int bk[8], nr = 0;
    for (int t = 0; t < nq && t < 4; t++) {
        double h = (double)(k - 1) * p[t];
        int64_t lo = (int64_t)floor(h);
        rank[nr++] = lo < k - 1 ? lo : k - 1;
        rank[nr++] = lo + 1 < k - 1 ? lo + 1 : k - 1;
    }
    unsigned char *need = calloc(QBUCKETS, 1);
    if (!need)
        return -1;
    int64_t tot = 0;
    for (int r = 0; r < nr; r++) {
        int lo = 0, hi = QBUCKETS - 1; /* first b with cum[b + 1] > rank */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cum[mid + 1] > rank[r])
                hi = mid;
            else
                lo = mid + 1;
        }
        bk[r] = lo;
        if (!need[lo]) {
            need[lo] = 1;
            tot += cum[lo + 1] - cum[lo];
        }
    }
    /* gather the needed buckets, each in its own segment at cum[b] - base
     * where base shifts the segments together */
    int64_t *off = malloc(QBUCKETS * sizeof *off);
    double *g = malloc((size_t)tot * sizeof *g);
    if (!off || !g) {
        free(need);
        free(off);
        free(g);
        return -1;
    }
    int64_t o = 0;
    for (int b = 0; b < QBUCKETS; b++)
        if (need[b]) {
            off[b] = o;
            o += cum[b + 1] - cum[b];
        }
    int64_t *fill = cum; /* reuse: fill[b] = next free slot of bucket b */
    int64_t *first = malloc(QBUCKETS * sizeof *first);
    if (!first) {
        free(need);
        free(off);
        free(g);
        return -1;
    }
    for (int b = 0; b < QBUCKETS; b++) {
        first[b] = cum[b];
        fill[b] = need[b] ? off[b] : 0;
    }
    for (int64_t i = 0; i < k; i++) {
        int b = qbucket(v[i], vmin, scale);
        if (need[b])
            g[fill[b]++] = v[i];
    }
    double val[8];
    for (int r = 0; r < nr; r++) {
        int b = bk[r];
        int64_t len = fill[b] - off[b];
        double *seg = g + off[b];
        int64_t kk = rank[r] - first[b];
        cg_select_k(seg, len, kk);
        val[r] = seg[kk];
    }
    for (int t = 0; t < nq && t < 4; t++) {
        double h = (double)(k - 1) * p[t];
        int64_t lo = (int64_t)floor(h);
        double a = val[2 * t], b = val[2 * t + 1];
        q[t] = lo >= k - 1 ? a : a + (h - (double)lo) * (b - a);
    }
    free(need);
    free(off);
    free(first);
    free(g);
    return 0;
}

int cg_kde_vals_gather(const double *x, int64_t n, const cg_bits *mask,
                       cg_kde_vals *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "kde: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    int borrowed;
    int64_t k = gather(x, n, mask, &out->buf, &out->sum, &out->min,
                       &out->max, &borrowed);
    if (k < 0) {
        memset(out, 0, sizeof *out);
        return cg_err_set(err, CG_E_NOMEM, "kde: out of memory");
    }
    out->v = borrowed ? x : out->buf;
    out->n = k;
    return 0;
}

void cg_kde_vals_release(cg_kde_vals *d)
{
    if (!d)
        return;
    cg_frame_scratch_free(d->buf);
    memset(d, 0, sizeof *d);
}

int cg_kde_vals_quantiles(const cg_kde_vals *d, const double *p, int np,
                          double *q)
{
    if (d->n < 1) {
        for (int t = 0; t < np; t++)
            q[t] = NAN;
        return 0;
    }
    double vmin = d->min, vmax = d->max;
    double scale = (double)QBUCKETS / (vmax - vmin);
    int hist = vmax > vmin && isfinite(scale) && scale > 0;
    int64_t *cum = hist ? malloc((QBUCKETS + 1) * sizeof *cum) : NULL;
    if (hist && !cum)
        return -1;
    for (int t0 = 0; t0 < np; t0 += 4) { /* quantiles7 takes 4 at a time */
        if (cum) {
            memset(cum, 0, (QBUCKETS + 1) * sizeof *cum);
            for (int64_t i = 0; i < d->n; i++)
                cum[qbucket(d->v[i], vmin, scale) + 1]++;
        }
        int nq = np - t0 < 4 ? np - t0 : 4;
        if (quantiles7(d->v, d->n, vmin, vmax, cum, p + t0, nq, q + t0) < 0) {
            free(cum);
            return -1;
        }
    }
    free(cum);
    return 0;
}

/* Robust spread s (see kde.h) of the k used values v (event order, not
 * modified) with their sum, min and max (from gather).  0, -1 on no
 * memory; s is NaN when k < 2. */
static int spread_v(const double *v, int64_t k, double sum, double vmin,
                    double vmax, double *s_out)
{
    *s_out = NAN;
    if (k < 2)
        return 0;
    double mean = sum / (double)k, ss = 0;
    /* sd's sum of squares (in event order) and the quartile histogram in
     * one pass */
    double scale = (double)QBUCKETS / (vmax - vmin);
    int64_t *cum = NULL;
    if (vmax > vmin && isfinite(scale) && scale > 0) {
        cum = calloc(QBUCKETS + 1, sizeof *cum);
        if (!cum)
            return -1;
        for (int64_t i = 0; i < k; i++) {
            ss += (v[i] - mean) * (v[i] - mean);
            cum[qbucket(v[i], vmin, scale) + 1]++;
        }
    } else {
        for (int64_t i = 0; i < k; i++)
            ss += (v[i] - mean) * (v[i] - mean);
    }
    double sd = sqrt(ss / (double)(k - 1));
    static const double pq[2] = {0.25, 0.75};
    double q[2];
    int rc = quantiles7(v, k, vmin, vmax, cum, pq, 2, q);
    free(cum);
    if (rc < 0)
        return -1;
    double iqr = (q[1] - q[0]) / 1.349;
    double s = sd < iqr ? sd : iqr;
    if (!(s > 0))
        s = sd > 0 ? sd : iqr;
    if (!(s > 0))
        s = mean != 0 ? fabs(mean) * 0.1 : 1.0;
    *s_out = s;
    return 0;
}

/* The robust variant (cg_kde_opts.trim > 0): the quantiles trim and
 * 1 - trim of v bound the values whose sd is taken, and the grid; the
 * quartiles come from all values.  qlo and qhi receive those quantiles. */
static int spread_trim(const double *v, int64_t k, double vmin, double vmax,
                       double trim, double *s_out, double *qlo, double *qhi)
{
    *s_out = NAN;
    *qlo = vmin;
    *qhi = vmax;
    if (k < 2)
        return 0;
    double scale = (double)QBUCKETS / (vmax - vmin);
    int64_t *cum = NULL;
    if (vmax > vmin && isfinite(scale) && scale > 0) {
        cum = calloc(QBUCKETS + 1, sizeof *cum);
        if (!cum)
            return -1;
        for (int64_t i = 0; i < k; i++)
            cum[qbucket(v[i], vmin, scale) + 1]++;
    }
    const double pq[4] = {trim, 0.25, 0.75, 1.0 - trim};
    double q[4];
    int rc = quantiles7(v, k, vmin, vmax, cum, pq, 4, q);
    free(cum);
    if (rc < 0)
        return -1;
    double sum = 0, ss = 0;
    int64_t c = 0;
    for (int64_t i = 0; i < k; i++)
        if (v[i] >= q[0] && v[i] <= q[3]) {
            sum += v[i];
            c++;
        }
    double mean = c > 0 ? sum / (double)c : 0;
    for (int64_t i = 0; i < k; i++)
        if (v[i] >= q[0] && v[i] <= q[3])
            ss += (v[i] - mean) * (v[i] - mean);
    double sd = c > 1 ? sqrt(ss / (double)(c - 1)) : 0;
    double iqr = (q[2] - q[1]) / 1.349;
    double s = sd < iqr ? sd : iqr;
    if (!(s > 0))
        s = sd > 0 ? sd : iqr;
    if (!(s > 0))
        s = mean != 0 ? fabs(mean) * 0.1 : 1.0;
    *s_out = s;
    *qlo = q[0];
    *qhi = q[3];
    return 0;
}

/* spread_v of the used values of x; count in *n_out. */
static int spread(const double *x, int64_t n, const cg_bits *mask,
                  double *s_out, int64_t *n_out)
{
    double *v, sum, vmin, vmax;
    int64_t k = gather(x, n, mask, &v, &sum, &vmin, &vmax, NULL);
    *n_out = k < 0 ? 0 : k;
    *s_out = NAN;
    if (k < 0)
        return -1;
    int rc = spread_v(v, k, sum, vmin, vmax, s_out);
    free(v);
    return rc;
}

double cg_kde_bw_silverman(const double *x, int64_t n, const cg_bits *mask)
{
    double s;
    int64_t k;
    if (spread(x, n, mask, &s, &k) < 0 || k < 2)
        return NAN;
    return 0.9 * s * pow((double)k, -0.2);
}

double cg_kde_bw_scott2(const double *x, int64_t n, const cg_bits *mask)
{
    double s;
    int64_t k;
    if (spread(x, n, mask, &s, &k) < 0 || k < 2)
        return NAN;
    return s * pow((double)k, -1.0 / 6.0);
}

void cg_kde_opts_init(cg_kde_opts *o)
{
    memset(o, 0, sizeof *o);
    o->adjust = 1.0;
    o->cut = 3.0;
}

/* One value into the linear bins (the arithmetic of cg_kde_linbin). */
static inline void bin1(double xi, double lo, double dx, int m, double *w)
{
    double p = (xi - lo) / dx;
    if (p < 0 || p > (double)(m - 1))
        return;
    int j = (int)p;
    if (j >= m - 1) {
        w[m - 1] += 1.0;
        return;
    }
    double f = p - j;
    w[j] += 1.0 - f;
    w[j + 1] += f;
}

void cg_kde_linbin(const double *x, int64_t n, const cg_bits *mask,
                   double lo, double dx, int m, double *w)
{
    memset(w, 0, (size_t)m * sizeof *w);
    for (int64_t i = 0; i < n; i++) {
        if (!use(mask, i) || !isfinite(x[i]))
            continue;
        bin1(x[i], lo, dx, m, w);
    }
}

/* Sampled Gaussian kernel for circular convolution of period P:
 * k[j] = phi(j dx / h) / h for |j| < m, placed at j and P - j. */
static void fill_kernel(double *k, int P, int m, double dx, double h)
{
    memset(k, 0, (size_t)P * sizeof *k);
    const double c = 1.0 / (h * sqrt(2.0 * M_PI));
    for (int j = 0; j < m; j++) {
        double u = j * dx / h;
        double v = u < 40 ? c * exp(-0.5 * u * u) : 0.0;
        k[j] = v;
        if (j > 0)
            k[P - j] = v;
    }
}

/* Choose grid limits for one axis. */
static void grid_limits(double user_lo, double user_hi, double dmin,
                        double dmax, double h, double cut, double *lo,
                        double *hi)
{
    if (user_lo < user_hi) {
        *lo = user_lo;
        *hi = user_hi;
    } else {
        *lo = dmin - cut * h;
        *hi = dmax + cut * h;
    }
}

/* ---- 1-D ----------------------------------------------------------------- */

void cg_kde1_release(cg_kde1 *k)
{
    if (!k)
        return;
    free(k->y);
    memset(k, 0, sizeof *k);
}

/* Grid size of a 1-D estimate into *m: 0, or < 0 with err. */
static int kde1_grid(const cg_kde_opts *o, int *m, cg_err *err)
{
    *m = o->m > 0 ? o->m : 512;
    if (*m < 4 || *m > (1 << 22))
        return cg_err_set(err, CG_E_ARG, "kde: grid size %d outside 4..%d",
                          *m, 1 << 22);
    return 0;
}

/* The estimate of the k gathered values v (sum, range from gather) on
 * an m-point grid: spread, bandwidth, grid, bins (in event order, as
 * cg_kde_linbin), FFT convolution.  v is only read. */
static int kde1_vals(const double *v, int64_t k, double sum, double dmin,
                     double dmax, int m, const cg_kde_opts *o, cg_kde1 *out,
                     cg_err *err)
{
    double s;
    int robust = o->trim > 0 && o->trim < 0.25;
    if ((robust ? spread_trim(v, k, dmin, dmax, o->trim, &s, &dmin, &dmax)
                : spread_v(v, k, sum, dmin, dmax, &s)) < 0)
        return cg_err_set(err, CG_E_NOMEM, "kde: out of memory");
    if (k < 2)
        return cg_err_set(err, CG_E_DATA,
                          "kde: %lld finite values, need at least 2",
                          (long long)k);
    double h = o->bw > 0 ? o->bw
                         : 0.9 * s * pow((double)k, -0.2) *
                               (o->adjust > 0 ? o->adjust : 1.0);
    double lo, hi;
    grid_limits(o->lo, o->hi, dmin, dmax, h, o->cut > 0 ? o->cut : 0, &lo,
                &hi);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return cg_err_set(err, CG_E_DATA, "kde: empty grid [%g, %g]", lo,
                          hi);
    double dx = (hi - lo) / (m - 1);

    int P = fft_size(2 * m - 1);
    const plan_ent *pl = get_plans(1, P, 0);
    double *w = fftw_malloc((size_t)P * sizeof *w);
    double *kr = fftw_malloc((size_t)P * sizeof *kr);
    fftw_complex *W = fftw_malloc((size_t)(P / 2 + 1) * sizeof *W);
    fftw_complex *K = fftw_malloc((size_t)(P / 2 + 1) * sizeof *K);
    double *y = malloc((size_t)m * sizeof *y);
    if (!pl || !w || !kr || !W || !K || !y) {
        fftw_free(w);
        fftw_free(kr);
        fftw_free(W);
        fftw_free(K);
        free(y);
        return cg_err_set(err, CG_E_NOMEM,
                          "kde: out of memory (or FFTW plan) for size %d", P);
    }
    memset(w, 0, (size_t)P * sizeof *w);
    for (int64_t i = 0; i < k; i++)
        bin1(v[i], lo, dx, m, w);
    fill_kernel(kr, P, m, dx, h);
    fftw_execute_dft_r2c(pl->fwd, w, W);
    fftw_execute_dft_r2c(pl->fwd, kr, K);
    for (int i = 0; i < P / 2 + 1; i++) {
        double a = W[i][0], b = W[i][1], c = K[i][0], e = K[i][1];
        W[i][0] = a * c - b * e;
        W[i][1] = a * e + b * c;
    }
    fftw_execute_dft_c2r(pl->bwd, W, w);
    double scale = 1.0 / ((double)k * (double)P);
    for (int i = 0; i < m; i++) {
        double yi = w[i] * scale;
        y[i] = yi > 0 ? yi : 0.0;
    }
    fftw_free(w);
    fftw_free(kr);
    fftw_free(W);
    fftw_free(K);
    out->m = m;
    out->lo = lo;
    out->dx = dx;
    out->h = h;
    out->n = k;
    out->y = y;
    return 0;
}

int cg_kde1_compute(const double *x, int64_t n, const cg_bits *mask,
                    const cg_kde_opts *o, cg_kde1 *out, cg_err *err)
{
    cg_kde_opts d;
    if (!o) {
        cg_kde_opts_init(&d);
        o = &d;
    }
    memset(out, 0, sizeof *out);
    int m, rc = kde1_grid(o, &m, err);
    if (rc < 0)
        return rc;
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "kde: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    /* The used values once, in event order: spread, range and binning
     * all read this array (binning in event order, as cg_kde_linbin). */
    double dmin = 0, dmax = 0, sum;
    double *v;
    int borrowed;
    int64_t k = gather(x, n, mask, &v, &sum, &dmin, &dmax, &borrowed);
    if (k < 0)
        return cg_err_set(err, CG_E_NOMEM, "kde: out of memory");
    rc = kde1_vals(borrowed ? x : v, k, sum, dmin, dmax, m, o, out, err);
    free(v);
    return rc;
}

int cg_kde1_compute_vals(const cg_kde_vals *d, const cg_kde_opts *o,
                         cg_kde1 *out, cg_err *err)
{
    cg_kde_opts od;
    if (!o) {
        cg_kde_opts_init(&od);
        o = &od;
    }
    memset(out, 0, sizeof *out);
    int m, rc = kde1_grid(o, &m, err);
    if (rc < 0)
        return rc;
    return kde1_vals(d->v, d->n, d->sum, d->min, d->max, m, o, out, err);
}

/* ---- 2-D ----------------------------------------------------------------- */

void cg_kde2_release(cg_kde2 *k)
{
    if (!k)
        return;
    free(k->z);
    memset(k, 0, sizeof *k);
}

/* The pairs used by a 2-D estimate (both coordinates finite, masked),
 * gathered once in event order into owned arrays, with their sums and
 * ranges accumulated in that order (cg_kde_pairs).  Returns the count,
 * or -1 on no memory (nothing to free). */
static int64_t gather_pairs(const double *x, const double *y, int64_t n,
                            const cg_bits *mask, cg_kde_pairs *pp)
{
    int64_t cap = 0;
    if (mask)
        for (int64_t wd = 0, nw = cg_bits_words(n); wd < nw; wd++)
            cap += __builtin_popcountll(mask->w[wd]);
    else
        cap = n;
    memset(pp, 0, sizeof *pp);
    if (!mask && n > 0 && all_finite(x, n, &pp->x.sum, &pp->x.min,
                                     &pp->x.max) &&
        all_finite(y, n, &pp->y.sum, &pp->y.min, &pp->y.max)) {
        pp->x.v = x; /* borrowed: the sums and ranges a copy would give */
        pp->y.v = y;
        pp->x.n = pp->y.n = pp->nx = n;
        return n;
    }
    /* slabs of the sample's memory, or huge pages from 4 MiB */
    double *vx = cg_frame_scratch_alloc(cap);
    double *vy = cg_frame_scratch_alloc(cap);
    if (!vx || !vy) {
        cg_frame_scratch_free(vx);
        cg_frame_scratch_free(vy);
        return -1;
    }
    int64_t k = 0, nx = 0;
    double sumx = 0, sumy = 0;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int64_t wd = 0, nw = cg_bits_words(n); wd < nw; wd++) {
        uint64_t mw = mask ? mask->w[wd]
                      : (wd == nw - 1 && (n & 63))
                          ? ((uint64_t)1 << (n & 63)) - 1
                          : ~(uint64_t)0;
        for (; mw; mw &= mw - 1) {
            int64_t i = (wd << 6) + __builtin_ctzll(mw);
            if (!isfinite(x[i]))
                continue;
            nx++;
            if (isfinite(y[i])) {
                vx[k] = x[i];
                vy[k++] = y[i];
                sumx += x[i];
                sumy += y[i];
                xmin = x[i] < xmin ? x[i] : xmin;
                xmax = x[i] > xmax ? x[i] : xmax;
                ymin = y[i] < ymin ? y[i] : ymin;
                ymax = y[i] > ymax ? y[i] : ymax;
            }
        }
    }
    pp->x = (cg_kde_vals){vx, k, sumx, xmin, xmax, vx};
    pp->y = (cg_kde_vals){vy, k, sumy, ymin, ymax, vy};
    pp->nx = nx;
    return k;
}

int cg_kde_pairs_gather(const double *x, const double *y, int64_t n,
                        const cg_bits *mask, cg_kde_pairs *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "kde2: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    if (gather_pairs(x, y, n, mask, out) < 0)
        return cg_err_set(err, CG_E_NOMEM, "kde2: out of memory");
    return 0;
}

void cg_kde_pairs_release(cg_kde_pairs *pp)
{
    if (!pp)
        return;
    cg_frame_scratch_free(pp->x.buf);
    cg_frame_scratch_free(pp->y.buf);
    memset(pp, 0, sizeof *pp);
}

/* Bilinear binning of the k pairs onto the m x m grid at (xlo, ylo) with
 * steps dx, dy: rows are y, columns x, row stride P; w zeroed first. */
static void bin2(const cg_kde_pairs *pp, int64_t k, double xlo, double dx,
                 double ylo, double dy, int m, int P, double *w)
{
    memset(w, 0, (size_t)P * (size_t)P * sizeof *w);
    for (int64_t i = 0; i < k; i++) {
        double px = (pp->x.v[i] - xlo) / dx, py = (pp->y.v[i] - ylo) / dy;
        if (px < 0 || py < 0 || px > m - 1 || py > m - 1)
            continue;
        int ix = (int)px, iy = (int)py;
        if (ix > m - 2)
            ix = m - 2;
        if (iy > m - 2)
            iy = m - 2;
        double fx = px - ix, fy = py - iy;
        double *r0 = w + (size_t)iy * P, *r1 = r0 + P;
        r0[ix] += (1 - fx) * (1 - fy);
        r0[ix + 1] += fx * (1 - fy);
        r1[ix] += (1 - fx) * fy;
        r1[ix + 1] += fx * fy;
    }
}

/* The estimate on the grid of out (mx, xlo, dx, ylo, dy, hx, hy, n set):
 * bin, convolve with the product Gaussian by P x P real FFTs, scale, clamp
 * round-off negatives; fills out->z (owned).  0 or < 0 with err. */
static int kde2_convolve(const cg_kde_pairs *pp, cg_kde2 *out, cg_err *err)
{
    int m = out->mx;
    int P = fft_size(2 * m - 1); /* same padded size on both axes */
    int Pc = P / 2 + 1;
    const plan_ent *pl = get_plans(2, P, P);
    size_t nr = (size_t)P * (size_t)P, nc = (size_t)P * (size_t)Pc;
    double *w = fftw_malloc(nr * sizeof *w);
    double *kr = fftw_malloc(nr * sizeof *kr);
    fftw_complex *W = fftw_malloc(nc * sizeof *W);
    fftw_complex *K = fftw_malloc(nc * sizeof *K);
    double *kx = malloc((size_t)P * sizeof *kx);
    double *ky = malloc((size_t)P * sizeof *ky);
    double *z = malloc((size_t)m * (size_t)m * sizeof *z);
    int rc = 0;
    if (!pl || !w || !kr || !W || !K || !kx || !ky || !z) {
        free(z);
        rc = cg_err_set(err, CG_E_NOMEM,
                        "kde2: out of memory (or FFTW plan) for %dx%d", P, P);
        goto done;
    }
    bin2(pp, out->n, out->xlo, out->dx, out->ylo, out->dy, m, P, w);
    fill_kernel(kx, P, m, out->dx, out->hx);
    fill_kernel(ky, P, m, out->dy, out->hy);
    for (int r = 0; r < P; r++)
        for (int c = 0; c < P; c++)
            kr[(size_t)r * P + c] = ky[r] * kx[c];
    fftw_execute_dft_r2c(pl->fwd, w, W);
    fftw_execute_dft_r2c(pl->fwd, kr, K);
    for (size_t i = 0; i < nc; i++) {
        double a = W[i][0], b = W[i][1], c = K[i][0], e = K[i][1];
        W[i][0] = a * c - b * e;
        W[i][1] = a * e + b * c;
    }
    fftw_execute_dft_c2r(pl->bwd, W, w);
    double scale = 1.0 / ((double)out->n * (double)nr);
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double v = w[(size_t)r * P + c] * scale;
            z[(size_t)r * m + c] = v > 0 ? v : 0.0;
        }
    out->z = z;
done:
    fftw_free(w);
    fftw_free(kr);
    fftw_free(W);
    fftw_free(K);
    free(kx);
    free(ky);
    return rc;
}

/* Grid size of a 2-D estimate into *m: 0, or < 0 with err. */
static int kde2_grid(const cg_kde_opts *o, int *m, cg_err *err)
{
    *m = o->m > 0 ? o->m : 128;
    if (*m < 4 || *m > 4096)
        return cg_err_set(err, CG_E_ARG, "kde2: grid size %d outside 4..4096",
                          *m);
    return 0;
}

/* The estimate of the gathered pairs on an m x m grid (out zeroed). */
static int kde2_pairs(const cg_kde_pairs *pp, int m, const cg_kde_opts *o,
                      cg_kde2 *out, cg_err *err)
{
    int64_t k = pp->x.n;
    double sx, sy;
    if (spread_v(pp->x.v, k, pp->x.sum, pp->x.min, pp->x.max, &sx) < 0 ||
        spread_v(pp->y.v, k, pp->y.sum, pp->y.min, pp->y.max, &sy) < 0)
        return cg_err_set(err, CG_E_NOMEM, "kde2: out of memory");
    if (k < 2)
        return cg_err_set(err, CG_E_DATA,
                          "kde2: %lld finite pairs, need at least 2",
                          (long long)k);
    double adj = o->adjust > 0 ? o->adjust : 1.0;
    double f = pow((double)k, -1.0 / 6.0);
    double hx = o->bw > 0 ? o->bw : sx * f * adj;
    double hy = o->bw_y > 0 ? o->bw_y : sy * f * adj;
    double cut = o->cut > 0 ? o->cut : 0;
    double xlo, xhi, ylo, yhi;
    grid_limits(o->lo, o->hi, pp->x.min, pp->x.max, hx, cut, &xlo, &xhi);
    grid_limits(o->ylo, o->yhi, pp->y.min, pp->y.max, hy, cut, &ylo, &yhi);
    if (!(xhi > xlo) || !(yhi > ylo))
        return cg_err_set(err, CG_E_DATA, "kde2: empty grid");
    out->mx = out->my = m;
    out->xlo = xlo;
    out->dx = (xhi - xlo) / (m - 1);
    out->ylo = ylo;
    out->dy = (yhi - ylo) / (m - 1);
    out->hx = hx;
    out->hy = hy;
    out->n = k;
    int rc = kde2_convolve(pp, out, err);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int cg_kde2_compute(const double *x, const double *y, int64_t n,
                    const cg_bits *mask, const cg_kde_opts *o, cg_kde2 *out,
                    cg_err *err)
{
    cg_kde_opts d;
    if (!o) {
        cg_kde_opts_init(&d);
        o = &d;
    }
    memset(out, 0, sizeof *out);
    int m, rc = kde2_grid(o, &m, err);
    if (rc < 0)
        return rc;
    /* Events usable only when both coordinates are finite: gathered
     * once, in event order (spreads, ranges and binning read them). */
    cg_kde_pairs pp;
    rc = cg_kde_pairs_gather(x, y, n, mask, &pp, err);
    if (rc < 0)
        return rc;
    rc = kde2_pairs(&pp, m, o, out, err);
    cg_kde_pairs_release(&pp);
    return rc;
}

int cg_kde2_compute_pairs(const cg_kde_pairs *pp, const cg_kde_opts *o,
                          cg_kde2 *out, cg_err *err)
{
    cg_kde_opts d;
    if (!o) {
        cg_kde_opts_init(&d);
        o = &d;
    }
    memset(out, 0, sizeof *out);
    int m, rc = kde2_grid(o, &m, err);
    if (rc < 0)
        return rc;
    return kde2_pairs(pp, m, o, out, err);
}
