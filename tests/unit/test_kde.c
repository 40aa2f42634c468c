/*
 * test_kde.c -- the FFT binned KDE against direct sums.
 *
 * Asserts: (1) the FFT convolution equals a direct O(m^2) convolution of
 * the same linear bins to 1e-12 of the peak; (2) the estimate equals the
 * exact O(n m) Gaussian sum over the raw values to 2e-4 of the peak (the
 * linear-binning error, O((dx/h)^2)); (3) the documented bandwidth rules;
 * (4) unit mass; (5) masks; (6) 2-D FFT vs exact sum; (7) identical
 * bytes when run from several threads at once; (8) argument errors;
 * (9) estimates from gathered values/pairs are byte-identical to the
 * per-column ones, and the histogram quantiles equal quickselect's.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kde.h"
#include "testutil.h"

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define N 3000
static double data[N], data_y[N];
static cg_kde1 thread_out[4];

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg - 1;
    for (int rep = 0; rep < 20; rep++) {
        cg_kde1_release(&thread_out[t]);
        cg_kde_opts o;
        cg_kde_opts_init(&o);
        o.m = 256 + 64 * (rep % 3); /* several sizes: plan cache contention */
        cg_err e;
        if (cg_kde1_compute(data, N, NULL, &o, &thread_out[t], &e) < 0)
            return NULL;
    }
    return arg;
}

/* (9) cg_kde_vals / cg_kde_pairs against the per-column functions. */
static void check_gathered(void)
{
    enum { M = 5000 };
    double *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y);
    double *c = malloc(M * sizeof *c);
    REQUIRE(x && y && c);
    for (int i = 0; i < M; i++) {
        x[i] = i % 7 == 0 ? floor(gauss() * 4) / 4 : gauss() * 2 + 3;
        y[i] = gauss();
    }
    x[10] = NAN;
    x[20] = INFINITY;
    y[30] = NAN; /* x finite, y not: in nx, not in the pairs */
    cg_bits *mask = cg_bits_new(M);
    for (int i = 0; i < M; i++)
        if (i % 5 != 2)
            cg_bits_set(mask, i);
    cg_err err = {0};
    cg_kde_vals d;
    REQUIRE(cg_kde_vals_gather(x, M, mask, &d, &err) == 0);
    CHECK_INT(d.n, M - M / 5 - 2);
    /* quantiles (8 at once, ties from the rounded values) */
    const double p[8] = {0, 0.001, 0.25, 0.5, 0.75, 0.999, 1, 0.3};
    double q[8];
    REQUIRE(cg_kde_vals_quantiles(&d, p, 8, q) == 0);
    for (int t = 0; t < 8; t++) {
        memcpy(c, d.v, (size_t)d.n * sizeof *c);
        double want = cg_kde_quantile7(c, d.n, p[t]);
        CHECKM(q[t] == want, "quantile %g: %.17g vs %.17g", p[t], q[t], want);
    }
    cg_kde_vals one = {x, 1, x[0], x[0], x[0], NULL};
    cg_kde_vals none = {x, 0, 0, 0, 0, NULL};
    REQUIRE(cg_kde_vals_quantiles(&one, p + 3, 1, q) == 0);
    CHECK(q[0] == x[0]);
    REQUIRE(cg_kde_vals_quantiles(&none, p + 3, 1, q) == 0);
    CHECK(isnan(q[0]));
    /* 1-D estimates, plain and trimmed */
    for (int trim = 0; trim < 2; trim++) {
        cg_kde_opts o;
        cg_kde_opts_init(&o);
        o.trim = trim ? 0.001 : 0;
        cg_kde1 a, b;
        REQUIRE(cg_kde1_compute(x, M, mask, &o, &a, &err) == 0);
        REQUIRE(cg_kde1_compute_vals(&d, &o, &b, &err) == 0);
        CHECK(a.n == b.n && a.h == b.h && a.lo == b.lo && a.dx == b.dx);
        CHECK(memcmp(a.y, b.y, (size_t)a.m * sizeof *a.y) == 0);
        cg_kde1_release(&a);
        cg_kde1_release(&b);
    }
    /* pairs and the 2-D estimate */
    cg_kde_pairs pp;
    REQUIRE(cg_kde_pairs_gather(x, y, M, mask, &pp, &err) == 0);
    CHECK_INT(pp.nx, d.n);
    CHECK_INT(pp.x.n, d.n - 1);
    cg_kde2 a2, b2;
    REQUIRE(cg_kde2_compute(x, y, M, mask, NULL, &a2, &err) == 0);
    REQUIRE(cg_kde2_compute_pairs(&pp, NULL, &b2, &err) == 0);
    CHECK(a2.n == b2.n && a2.hx == b2.hx && a2.hy == b2.hy &&
          a2.xlo == b2.xlo && a2.ylo == b2.ylo && a2.dx == b2.dx);
    CHECK(memcmp(a2.z, b2.z, (size_t)a2.mx * a2.my * sizeof *a2.z) == 0);
    cg_kde2_release(&a2);
    cg_kde2_release(&b2);
    cg_kde_pairs_release(&pp);
    /* no mask, all finite: borrowed, not copied; the same estimates */
    REQUIRE(cg_kde_pairs_gather(y + 40, x + 40, M - 40, NULL, &pp, &err) == 0);
    CHECK(pp.x.v == y + 40 && pp.x.buf == NULL && pp.y.v == x + 40);
    CHECK_INT(pp.x.n, M - 40);
    REQUIRE(cg_kde2_compute(y + 40, x + 40, M - 40, NULL, NULL, &a2, &err) == 0);
    REQUIRE(cg_kde2_compute_pairs(&pp, NULL, &b2, &err) == 0);
    CHECK(a2.hx == b2.hx && a2.hy == b2.hy && a2.xlo == b2.xlo);
    CHECK(memcmp(a2.z, b2.z, (size_t)a2.mx * a2.my * sizeof *a2.z) == 0);
    cg_kde2_release(&a2);
    cg_kde2_release(&b2);
    cg_kde_pairs_release(&pp);
    cg_kde_vals yv;
    REQUIRE(cg_kde_vals_gather(y + 40, M - 40, NULL, &yv, &err) == 0);
    CHECK(yv.v == y + 40 && yv.buf == NULL && yv.n == M - 40);
    cg_kde1 a1, b1;
    REQUIRE(cg_kde1_compute(y + 40, M - 40, NULL, NULL, &a1, &err) == 0);
    REQUIRE(cg_kde1_compute_vals(&yv, NULL, &b1, &err) == 0);
    CHECK(a1.h == b1.h && memcmp(a1.y, b1.y, 512 * sizeof *a1.y) == 0);
    y[43] = NAN; /* one non-finite value: copied */
    cg_kde_vals_release(&yv);
    REQUIRE(cg_kde_vals_gather(y + 40, M - 40, NULL, &yv, &err) == 0);
    CHECK(yv.buf != NULL && yv.v == yv.buf && yv.n == M - 41);
    cg_kde_vals_release(&yv);
    cg_kde1_release(&a1);
    cg_kde1_release(&b1);
    cg_kde_vals_release(&d);
    cg_kde_vals_release(NULL);
    cg_bits_free(mask);
    free(x);
    free(y);
    free(c);
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        data[i] = i % 4 == 0 ? 4 + 0.7 * gauss() : gauss();
        data_y[i] = 0.5 * data[i] + gauss();
    }
    cg_err err;
    cg_kde1 k;
    cg_kde_opts o;
    cg_kde_opts_init(&o);
    REQUIRE(cg_kde1_compute(data, N, NULL, &o, &k, &err) == 0);
    CHECK_INT(k.m, 512);
    CHECK_INT(k.n, N);

    /* (3) Silverman: 0.9 min(sd, IQR/1.349) n^-1/5. */
    double s = 0, ss = 0, *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        s += data[i];
    for (int i = 0; i < N; i++)
        ss += (data[i] - s / N) * (data[i] - s / N);
    double sd = sqrt(ss / (N - 1));
    memcpy(v, data, sizeof data);
    qsort(v, N, sizeof *v, cmpd);
    double q1 = v[(N - 1) / 4] + 0.75 * (v[(N - 1) / 4 + 1] - v[(N - 1) / 4]);
    double q3 = v[3 * (N - 1) / 4] +
                0.25 * (v[3 * (N - 1) / 4 + 1] - v[3 * (N - 1) / 4]);
    double rs = fmin(sd, (q3 - q1) / 1.349);
    double h = 0.9 * rs * pow(N, -0.2);
    CHECK_NEAR(k.h, h, 1e-12);
    CHECK_NEAR(cg_kde_bw_silverman(data, N, NULL), h, 1e-12);
    CHECK_NEAR(k.lo, v[0] - 3 * h, 1e-12);
    CHECK_NEAR(k.lo + 511 * k.dx, v[N - 1] + 3 * h, 1e-9);

    /* (1) FFT == direct convolution of the same bins. */
    double *w = malloc(k.m * sizeof *w);
    cg_kde_linbin(data, N, NULL, k.lo, k.dx, k.m, w);
    double ymax = 0, dconv = 0, dexact = 0, mass = 0;
    for (int i = 0; i < k.m; i++)
        ymax = fmax(ymax, k.y[i]);
    for (int i = 0; i < k.m; i++) {
        double c = 0, e = 0, g = cg_kde1_x(&k, i);
        for (int j = 0; j < k.m; j++) {
            double u = (i - j) * k.dx / k.h;
            c += w[j] * exp(-0.5 * u * u);
        }
        c /= N * k.h * sqrt(2 * M_PI);
        for (int j = 0; j < N; j++) {
            double u = (g - data[j]) / k.h;
            e += exp(-0.5 * u * u);
        }
        e /= N * k.h * sqrt(2 * M_PI);
        dconv = fmax(dconv, fabs(c - k.y[i]));
        dexact = fmax(dexact, fabs(e - k.y[i]));
        mass += k.y[i] * k.dx;
    }
    printf("kde1: h=%.5g dx/h=%.3f  |fft-direct bins|/max=%.3g  "
           "|fft-exact sum|/max=%.3g  mass=%.6f\n",
           k.h, k.dx / k.h, dconv / ymax, dexact / ymax, mass);
    CHECKM(dconv <= 1e-12 * ymax, "fft vs direct conv %.3g", dconv / ymax);
    CHECKM(dexact <= 2e-4 * ymax, "fft vs exact sum %.3g", dexact / ymax);
    CHECK_NEAR(mass, 1.0, 1e-3);

    /* Binning error shrinks with a finer grid (O(dx^2)). */
    cg_kde1 kf;
    o.m = 4096;
    REQUIRE(cg_kde1_compute(data, N, NULL, &o, &kf, &err) == 0);
    double dfine = 0;
    for (int i = 0; i < kf.m; i += 37) {
        double e = 0, g = cg_kde1_x(&kf, i);
        for (int j = 0; j < N; j++) {
            double u = (g - data[j]) / kf.h;
            e += exp(-0.5 * u * u);
        }
        e /= N * kf.h * sqrt(2 * M_PI);
        dfine = fmax(dfine, fabs(e - kf.y[i]));
    }
    printf("kde1 m=4096: |fft-exact|/max=%.3g\n", dfine / ymax);
    CHECKM(dfine <= 5e-5 * ymax, "fine grid error %.3g", dfine / ymax);
    cg_kde1_release(&kf);

    /* (5) mask == compacted array; fixed limits honoured. */
    cg_bits *mask = cg_bits_new(N);
    double *half = malloc(N * sizeof *half);
    int nh = 0;
    for (int i = 0; i < N; i++)
        if (i % 3 != 1) {
            cg_bits_set(mask, i);
            half[nh++] = data[i];
        }
    data[1] = NAN; /* masked out anyway */
    cg_kde1 km, kc;
    cg_kde_opts_init(&o);
    o.lo = -5;
    o.hi = 8;
    REQUIRE(cg_kde1_compute(data, N, mask, &o, &km, &err) == 0);
    REQUIRE(cg_kde1_compute(half, nh, NULL, &o, &kc, &err) == 0);
    CHECK_INT(km.n, nh);
    CHECK_NEAR(km.lo, -5, 0);
    CHECK(memcmp(km.y, kc.y, km.m * sizeof *km.y) == 0);
    /* NaN skipped: n counts finite values only. */
    cg_kde1 kn;
    REQUIRE(cg_kde1_compute(data, N, NULL, &o, &kn, &err) == 0);
    CHECK_INT(kn.n, N - 1);
    cg_kde1_release(&kn);
    cg_kde1_release(&km);
    cg_kde1_release(&kc);
    data[1] = gauss();

    /* (6) 2-D against the exact sum. */
    cg_kde2 k2;
    cg_kde_opts_init(&o);
    o.m = 96;
    REQUIRE(cg_kde2_compute(data, data_y, N, NULL, &o, &k2, &err) == 0);
    CHECK_NEAR(k2.hx, cg_kde_bw_scott2(data, N, NULL), 1e-12);
    CHECK_NEAR(k2.hy, cg_kde_bw_scott2(data_y, N, NULL), 1e-12);
    double zmax = 0, d2 = 0, mass2 = 0;
    for (int i = 0; i < 96 * 96; i++) {
        zmax = fmax(zmax, k2.z[i]);
        mass2 += k2.z[i] * k2.dx * k2.dy;
    }
    for (int iy = 0; iy < 96; iy += 5)
        for (int ix = 0; ix < 96; ix += 5) {
            double gx = k2.xlo + ix * k2.dx, gy = k2.ylo + iy * k2.dy, e = 0;
            for (int j = 0; j < N; j++) {
                double u = (gx - data[j]) / k2.hx, t = (gy - data_y[j]) / k2.hy;
                e += exp(-0.5 * (u * u + t * t));
            }
            e /= N * k2.hx * k2.hy * 2 * M_PI;
            d2 = fmax(d2, fabs(e - k2.z[iy * 96 + ix]));
        }
    printf("kde2: |fft-exact|/max=%.3g mass=%.6f\n", d2 / zmax, mass2);
    CHECKM(d2 <= 5e-3 * zmax, "2-D fft vs exact %.3g", d2 / zmax);
    CHECK_NEAR(mass2, 1.0, 2e-3);
    cg_kde2_release(&k2);

    /* (7) threads: same bytes as a single-threaded run. */
    pthread_t th[4];
    for (int t = 0; t < 4; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)(t + 1));
    int ok = 1;
    for (int t = 0; t < 4; t++) {
        void *rv;
        pthread_join(th[t], &rv);
        ok &= rv != NULL;
    }
    CHECK(ok);
    cg_kde1 ks;
    cg_kde_opts_init(&o);
    o.m = 256 + 64 * (19 % 3);
    REQUIRE(cg_kde1_compute(data, N, NULL, &o, &ks, &err) == 0);
    for (int t = 0; t < 4; t++) {
        CHECK_INT(thread_out[t].m, ks.m);
        CHECK(thread_out[t].y &&
              memcmp(thread_out[t].y, ks.y, ks.m * sizeof *ks.y) == 0);
        cg_kde1_release(&thread_out[t]);
    }
    cg_kde1_release(&ks);

    /* (8) errors. */
    cg_kde1 ke;
    CHECK(cg_kde1_compute(data, 1, NULL, NULL, &ke, &err) < 0);
    CHECK_INT(err.code, CG_E_DATA);
    o.m = 2;
    CHECK(cg_kde1_compute(data, N, NULL, &o, &ke, &err) < 0);
    CHECK_INT(err.code, CG_E_ARG);
    CHECK(ke.y == NULL);
    /* Constant data: bandwidth fallback, still a unit-mass estimate. */
    double cst[50];
    for (int i = 0; i < 50; i++)
        cst[i] = 2.0;
    REQUIRE(cg_kde1_compute(cst, 50, NULL, NULL, &ke, &err) == 0);
    CHECK_NEAR(ke.h, 0.9 * 0.2 * pow(50, -0.2), 1e-12);
    cg_kde1_release(&ke);

    cg_kde1_release(&k);
    cg_bits_free(mask);
    free(half);
    free(v);
    free(w);
    check_gathered();
    cg_kde_cache_clear();
    return TEST_DONE();
}
