/*
 * kde.c -- binned Gaussian kernel density estimates with FFTW (kde.h).
 *
 * Pipeline per estimate: select the finite (masked) values, choose the
 * bandwidth (Silverman 1-D, Scott 2-D, on the robust spread), lay out the
 * grid, bin linearly, then convolve the bin weights with the sampled
 * Gaussian by a real FFT of size P >= 2m - 1 per axis (so the circular
 * convolution equals the linear one on the grid) and scale by 1/(n P).
 *
 * Invariants: the output never depends on anything but the input values,
 * the mask and the options (plans are FFTW_ESTIMATE; every array is
 * fftw_malloc'ed, so the alignment the plans were made for always holds).
 * Tiny negative values left by FFT round-off are clamped to 0.
 *
 * Threading: the plan cache below is the module's only global.  It is a
 * linked list guarded by plan_mu; a plan, once made, is never modified
 * and is executed through the thread-safe new-array execute functions.
 * Allocation is per call (grid-sized), never per event.
 */
#include "kde.h"

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

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* R quantile type 7 of sorted v[0..n). */
static double q7(const double *v, int64_t n, double p)
{
    double h = (double)(n - 1) * p;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Robust spread s (see kde.h) and count of finite masked values.
 * Returns -1 on no memory. */
static int spread(const double *x, int64_t n, const cg_bits *mask,
                  double *s_out, int64_t *n_out, double *min_out,
                  double *max_out)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (use(mask, i) && isfinite(x[i]))
            k++;
    *n_out = k;
    *s_out = NAN;
    if (k < 2)
        return 0;
    double *v = malloc((size_t)k * sizeof *v);
    if (!v)
        return -1;
    k = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        if (use(mask, i) && isfinite(x[i])) {
            v[k++] = x[i];
            sum += x[i];
        }
    double mean = sum / (double)k, ss = 0;
    for (int64_t i = 0; i < k; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(ss / (double)(k - 1));
    qsort(v, (size_t)k, sizeof *v, cmp_dbl);
    double iqr = (q7(v, k, 0.75) - q7(v, k, 0.25)) / 1.349;
    if (min_out)
        *min_out = v[0];
    if (max_out)
        *max_out = v[k - 1];
    free(v);
    double s = sd < iqr ? sd : iqr;
    if (!(s > 0))
        s = sd > 0 ? sd : iqr;
    if (!(s > 0))
        s = mean != 0 ? fabs(mean) * 0.1 : 1.0;
    *s_out = s;
    return 0;
}

double cg_kde_bw_silverman(const double *x, int64_t n, const cg_bits *mask)
{
    double s;
    int64_t k;
    if (spread(x, n, mask, &s, &k, NULL, NULL) < 0 || k < 2)
        return NAN;
    return 0.9 * s * pow((double)k, -0.2);
}

double cg_kde_bw_scott2(const double *x, int64_t n, const cg_bits *mask)
{
    double s;
    int64_t k;
    if (spread(x, n, mask, &s, &k, NULL, NULL) < 0 || k < 2)
        return NAN;
    return s * pow((double)k, -1.0 / 6.0);
}

void cg_kde_opts_init(cg_kde_opts *o)
{
    memset(o, 0, sizeof *o);
    o->adjust = 1.0;
    o->cut = 3.0;
}

void cg_kde_linbin(const double *x, int64_t n, const cg_bits *mask,
                   double lo, double dx, int m, double *w)
{
    memset(w, 0, (size_t)m * sizeof *w);
    for (int64_t i = 0; i < n; i++) {
        if (!use(mask, i) || !isfinite(x[i]))
            continue;
        double p = (x[i] - lo) / dx;
        if (p < 0 || p > (double)(m - 1))
            continue;
        int j = (int)p;
        if (j >= m - 1) {
            w[m - 1] += 1.0;
            continue;
        }
        double f = p - j;
        w[j] += 1.0 - f;
        w[j + 1] += f;
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

int cg_kde1_compute(const double *x, int64_t n, const cg_bits *mask,
                    const cg_kde_opts *o, cg_kde1 *out, cg_err *err)
{
    cg_kde_opts d;
    if (!o) {
        cg_kde_opts_init(&d);
        o = &d;
    }
    memset(out, 0, sizeof *out);
    int m = o->m > 0 ? o->m : 512;
    if (m < 4 || m > (1 << 22))
        return cg_err_set(err, CG_E_ARG, "kde: grid size %d outside 4..%d",
                          m, 1 << 22);
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "kde: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    double s, dmin = 0, dmax = 0;
    int64_t k;
    if (spread(x, n, mask, &s, &k, &dmin, &dmax) < 0)
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
    cg_kde_linbin(x, n, mask, lo, dx, m, w);
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
        double v = w[i] * scale;
        y[i] = v > 0 ? v : 0.0;
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

/* ---- 2-D ----------------------------------------------------------------- */

void cg_kde2_release(cg_kde2 *k)
{
    if (!k)
        return;
    free(k->z);
    memset(k, 0, sizeof *k);
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
    int m = o->m > 0 ? o->m : 128;
    if (m < 4 || m > 4096)
        return cg_err_set(err, CG_E_ARG, "kde2: grid size %d outside 4..4096",
                          m);
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "kde2: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    /* Events usable only when both coordinates are finite. */
    cg_bits *both = cg_bits_new(n);
    if (!both)
        return cg_err_set(err, CG_E_NOMEM, "kde2: out of memory");
    for (int64_t i = 0; i < n; i++)
        if (use(mask, i) && isfinite(x[i]) && isfinite(y[i]))
            cg_bits_set(both, i);
    double sx, sy, xmin = 0, xmax = 0, ymin = 0, ymax = 0;
    int64_t k, k2;
    if (spread(x, n, both, &sx, &k, &xmin, &xmax) < 0 ||
        spread(y, n, both, &sy, &k2, &ymin, &ymax) < 0) {
        cg_bits_free(both);
        return cg_err_set(err, CG_E_NOMEM, "kde2: out of memory");
    }
    if (k < 2) {
        cg_bits_free(both);
        return cg_err_set(err, CG_E_DATA,
                          "kde2: %lld finite pairs, need at least 2",
                          (long long)k);
    }
    double adj = o->adjust > 0 ? o->adjust : 1.0;
    double f = pow((double)k, -1.0 / 6.0);
    double hx = o->bw > 0 ? o->bw : sx * f * adj;
    double hy = o->bw_y > 0 ? o->bw_y : sy * f * adj;
    double cut = o->cut > 0 ? o->cut : 0;
    double xlo, xhi, ylo, yhi;
    grid_limits(o->lo, o->hi, xmin, xmax, hx, cut, &xlo, &xhi);
    grid_limits(o->ylo, o->yhi, ymin, ymax, hy, cut, &ylo, &yhi);
    if (!(xhi > xlo) || !(yhi > ylo)) {
        cg_bits_free(both);
        return cg_err_set(err, CG_E_DATA, "kde2: empty grid");
    }
    double dx = (xhi - xlo) / (m - 1), dy = (yhi - ylo) / (m - 1);

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
    if (!pl || !w || !kr || !W || !K || !kx || !ky || !z) {
        fftw_free(w);
        fftw_free(kr);
        fftw_free(W);
        fftw_free(K);
        free(kx);
        free(ky);
        free(z);
        cg_bits_free(both);
        return cg_err_set(err, CG_E_NOMEM,
                          "kde2: out of memory (or FFTW plan) for %dx%d", P,
                          P);
    }
    /* Bilinear binning: rows are y, columns x, row stride P. */
    memset(w, 0, nr * sizeof *w);
    for (int64_t i = 0; i < n; i++) {
        if (!cg_bits_get(both, i))
            continue;
        double px = (x[i] - xlo) / dx, py = (y[i] - ylo) / dy;
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
    cg_bits_free(both);
    fill_kernel(kx, P, m, dx, hx);
    fill_kernel(ky, P, m, dy, hy);
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
    double scale = 1.0 / ((double)k * (double)nr);
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double v = w[(size_t)r * P + c] * scale;
            z[(size_t)r * m + c] = v > 0 ? v : 0.0;
        }
    fftw_free(w);
    fftw_free(kr);
    fftw_free(W);
    fftw_free(K);
    free(kx);
    free(ky);
    out->mx = out->my = m;
    out->xlo = xlo;
    out->dx = dx;
    out->ylo = ylo;
    out->dy = dy;
    out->hx = hx;
    out->hy = hy;
    out->n = k;
    out->z = z;
    return 0;
}
