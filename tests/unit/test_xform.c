/*
 * test_xform.c -- unit tests of the transforms (gating/xform*.c):
 *  - the FlowUtils test vectors (spec-notes 2.3) to 1e-6;
 *  - logicle, hyperlog and biex forward (fast table path and careful
 *    path) against an independent long-double bisection, over values
 *    from 1e-3 to 1e7 of both signs, for several parameter sets
 *    (including W = 0 and A != 0): within 3 ulp of the careful solve and
 *    16 ulp of the reference (relative to the computation's magnitude);
 *  - array forward bit-identical to the one-value forward;
 *  - forward(inverse(y)) == y to 4 ulp;
 *  - special values, parameter validation, bounds, fratio, the W estimate
 *    (also large inputs, against a brute-force percentile);
 *  - the fast table bit-identical to an all-careful build;
 *  - cg_xform_fwd_threads bit-identical at every thread count.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "xform.h"
#include "xform_internal.h" /* careful solve, for comparison */

static cg_xform *mk(cg_xform_kind k, double T, double W, double M, double A)
{
    cg_xform_params p = {0};
    p.T = T, p.W = W, p.M = M, p.A = A;
    cg_err err;
    cg_xform *xf = cg_xform_new(k, &p, &err);
    if (!xf)
        fprintf(stderr, "cg_xform_new: %s\n", err.msg);
    return xf;
}

static void vectors(void)
{
    static const double x[10] = {-10, -5, -1, 0, 0.3, 1, 3, 10, 100, 1000};
    static const double lg[10] = {0.067574, 0.147986, 0.228752, 0.25,
                                  0.256384, 0.271248, 0.312897, 0.432426,
                                  0.739548, 1.0};
    static const double hl[10] = {0.08355406, 0.15586819, 0.2294768, 0.25,
                                  0.25623887, 0.2705232, 0.30909185,
                                  0.41644594, 0.73187469, 1.0};
    static const double as[10] = {-0.200009, -0.139829, -0.000856, 0.2,
                                  0.303776, 0.400856, 0.495521, 0.600009,
                                  0.8, 1.0};
    cg_xform *l = mk(CG_XF_LOGICLE, 1000, 1, 4, 0);
    cg_xform *h = mk(CG_XF_HYPERLOG, 1000, 1, 4, 0);
    cg_xform *a = mk(CG_XF_ASINH, 1000, 0, 4, 1);
    REQUIRE(l && h && a);
    for (int i = 0; i < 10; i++) {
        CHECK_NEAR(cg_xform_fwd1(l, x[i]), lg[i], 1e-6);
        CHECK_NEAR(cg_xform_fwd1(h, x[i]), hl[i], 1e-8);
        CHECK_NEAR(cg_xform_fwd1(a, x[i]), as[i], 1e-6);
        CHECK_NEAR(cg_xform_inv1(l, cg_xform_fwd1(l, x[i])), x[i],
                   1e-10 * fmax(1, fabs(x[i])));
    }
    cg_xform *lo = mk(CG_XF_LOG, 10000, 0, 5, 0);
    static const double lx[5] = {0.5, 1, 10, 1023, 262144};
    static const double ly[5] = {0.139794, 0.2, 0.4, 0.801975, 1.283708};
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(cg_xform_fwd1(lo, lx[i]), ly[i], 1e-6);
    CHECK(isnan(cg_xform_fwd1(lo, -1)));
    CHECK(cg_xform_fwd1(lo, 0) == -INFINITY);
    /* spec-notes 3.2 typical logicle values */
    cg_xform *t = mk(CG_XF_LOGICLE, 262144, 0.5, 4.5, 0);
    CHECK_NEAR(cg_xform_fwd1(t, 0), 0.111111, 1e-6);
    CHECK_NEAR(cg_xform_fwd1(t, 100), 0.213181, 1e-6);
    CHECK_NEAR(cg_xform_fwd1(t, 1e5), 0.906928, 1e-6);
    CHECK_NEAR(cg_xform_fwd1(t, -100), 0.009041, 1e-6);
    cg_xform_free(l);
    cg_xform_free(h);
    cg_xform_free(a);
    cg_xform_free(lo);
    cg_xform_free(t);
}

/* --- independent reference: long double, bisection only ------------- */
typedef long double LD;
typedef struct { LD A1, b, C1, d, L, center; } ref_core;

static LD ref_B(const ref_core *r, LD delta)
{
    return r->A1 * expm1l(r->b * delta) - r->C1 * expm1l(-r->d * delta) +
           r->L * delta;
}

static LD ref_solve_d(LD b, LD w)
{
    if (w == 0)
        return b;
    LD lo = 0, hi = b;
    for (int i = 0; i < 200; i++) {
        LD m = (lo + hi) / 2;
        if (2 * logl(m / b) + w * (b + m) < 0) lo = m; else hi = m;
    }
    return (lo + hi) / 2;
}

static ref_core ref_logicle(LD T, LD W, LD M, LD A)
{
    LD w = W / (M + A), x2 = A / (M + A), x1 = x2 + w, x0 = x2 + 2 * w;
    LD b = (M + A) * logl(10.0L), d = ref_solve_d(b, w);
    LD ca = expl(x0 * (b + d)), fa = expl(b * x1) - ca * expl(-d * x1);
    LD a = T / (expl(b) - fa - ca * expl(-d)), c = ca * a;
    ref_core r = {a * expl(b * x1), b, c * expl(-d * x1), d, 0, x1};
    return r;
}

static ref_core ref_hyperlog(LD T, LD W, LD M, LD A)
{
    LD w = W / (M + A), x2 = A / (M + A), x1 = x2 + w, x0 = x2 + 2 * w;
    LD b = (M + A) * logl(10.0L);
    LD ca = expl(b * x0) / w, fa = expl(b * x1) + ca * x1;
    LD a = T / (expl(b) + ca - fa);
    ref_core r = {a * expl(b * x1), b, 0, 0, ca * a, x1};
    return r;
}

static ref_core ref_biex(LD width, LD pos, LD neg, LD mx)
{
    LD R = 4096, n = 4097, lw = log10l(-width);
    LD dec = pos - lw / 2, extra = neg + lw / 2;
    int zp = (int)(extra * R / (extra + dec));
    if (zp > 2048) zp = 2048;
    if (zp > 0) dec = extra * R / zp;
    LD wn = lw / (2 * dec), P = logl(10.0L) * dec, Q = ref_solve_d(P, wn);
    LD mn = mx / expl(P), ls = (P + Q) * (wn + extra / dec);
    ref_core r = {mn * expl(zp * P / n), P / n, mn * expl(ls - zp * Q / n),
                  Q / n, 0, zp};
    return r;
}

static LD ref_fwd(const ref_core *r, LD x)
{
    LD ax = fabsl(x), lo = 0, hi = 1;
    while (ref_B(r, hi) < ax)
        hi *= 2;
    for (int i = 0; i < 200; i++) {
        LD m = (lo + hi) / 2;
        if (ref_B(r, m) < ax) lo = m; else hi = m;
    }
    LD delta = (lo + hi) / 2;
    return x < 0 ? r->center - delta : r->center + delta;
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Errors are measured against the magnitude of the computation,
 * scale = max(|center| + |delta|, 1): the output center +- delta cannot be
 * more exact than that (biex channels sit around 463, so a value near 0
 * is held to ulp(463)).  Fast path vs the careful double solve with the
 * same constants: 3 ulp; vs the long-double reference, whose constants are
 * exact: 16 ulp (double constants such as e^{(M+A) ln10} carry ~10 ulp). */
static void against_ref(const char *what, cg_xform *xf, const ref_core *r,
                        int clamp_biex)
{
    REQUIRE(xf != NULL);
    enum { N = 4000 };
    static double xs[N], ya[N];
    for (int i = 0; i < N; i++) {
        double mag = pow(10, -3 + 10 * urand());
        xs[i] = urand() < 0.3 ? -mag : mag;
    }
    xs[0] = 0;
    xs[1] = 1e-300;
    xs[2] = -5e-310;
    cg_xform_fwd(xf, xs, ya, N);
    double worst = 0, worst_c = 0;
    int fails = 0, identical = 1, trips = 0;
    for (int i = 0; i < N; i++) {
        double y1 = cg_xform_fwd1(xf, xs[i]);
        if (memcmp(&y1, &ya[i], sizeof y1) != 0)
            identical = 0;
        LD ref = ref_fwd(r, xs[i]);
        double dc = cg_bx_solve(&xf->core, fabs(xs[i]));
        double yc = xs[i] < 0 ? xf->center - dc : xf->center + dc;
        if (clamp_biex) {
            ref = ref < 0 ? 0 : ref > 4096 ? 4096 : ref;
            yc = yc < 0 ? 0 : yc > 4096 ? 4096 : yc;
        }
        double scale = fmax(fabs(xf->center) + dc, 1.0);
        double err = fabs((double)((LD)y1 - ref)) / scale;
        double errc = fabs(y1 - yc) / scale;
        if (err > worst)
            worst = err;
        if (errc > worst_c)
            worst_c = errc;
        if ((err > 16 * DBL_EPSILON || errc > 3 * DBL_EPSILON) &&
            fails++ < 5)
            fprintf(stderr, "%s: x=%.17g y=%.17g careful=%.17g "
                    "ref=%.17Lg\n", what, xs[i], y1, yc, ref);
        /* round trip in output space: fwd(inv(y)) == y */
        if (!clamp_biex || (y1 > 0 && y1 < 4096)) {
            double y2 = cg_xform_fwd1(xf, cg_xform_inv1(xf, y1));
            if (!(fabs(y2 - y1) <= 4 * DBL_EPSILON * scale) && trips++ < 5)
                fprintf(stderr, "%s: round trip y=%.17g -> %.17g\n", what,
                        y1, y2);
        }
    }
    CHECKM(fails == 0, "%s: %d values off (worst %.3g ulp vs reference, "
           "%.3g ulp vs careful)", what, fails, worst / DBL_EPSILON,
           worst_c / DBL_EPSILON);
    CHECKM(trips == 0, "%s: %d round trips off", what, trips);
    CHECKM(identical, "%s: array and one-value forward differ", what);
    printf("%s: worst %.3g ulp vs long-double reference, %.3g ulp vs "
           "careful solve\n", what, worst / DBL_EPSILON,
           worst_c / DBL_EPSILON);
}

static void accuracy(void)
{
    static const double P[][4] = {
        {262144, 0.5, 4.5, 0}, {262144, 0, 4.5, 0}, {262144, 1, 4.5, 1},
        {1000, 1, 4, 0},       {4194304, 0.8, 5, 0.5}, {10000, 2, 4.5, -1},
    };
    char name[96];
    for (size_t k = 0; k < sizeof P / sizeof P[0]; k++) {
        snprintf(name, sizeof name, "logicle T=%g W=%g M=%g A=%g", P[k][0],
                 P[k][1], P[k][2], P[k][3]);
        ref_core r = ref_logicle(P[k][0], P[k][1], P[k][2], P[k][3]);
        cg_xform *xf = mk(CG_XF_LOGICLE, P[k][0], P[k][1], P[k][2], P[k][3]);
        against_ref(name, xf, &r, 0);
        cg_xform_free(xf);
        if (P[k][1] > 0) {
            snprintf(name, sizeof name, "hyperlog T=%g W=%g M=%g A=%g",
                     P[k][0], P[k][1], P[k][2], P[k][3]);
            r = ref_hyperlog(P[k][0], P[k][1], P[k][2], P[k][3]);
            xf = mk(CG_XF_HYPERLOG, P[k][0], P[k][1], P[k][2], P[k][3]);
            against_ref(name, xf, &r, 0);
            cg_xform_free(xf);
        }
    }
    static const double B[][4] = {
        {-10, 4.41854, 0, 262144}, {-7.943282, 4.41854, 1, 262144.000029},
        {-100, 4.5, 0.5, 262144}, {-1, 4.41854, 0, 262144},
    };
    for (size_t k = 0; k < sizeof B / sizeof B[0]; k++) {
        cg_xform_params p = {0};
        p.width = B[k][0], p.pos = B[k][1], p.neg = B[k][2], p.max = B[k][3];
        cg_err err;
        cg_xform *xf = cg_xform_new(CG_XF_BIEX, &p, &err);
        snprintf(name, sizeof name, "biex width=%g pos=%g neg=%g", B[k][0],
                 B[k][1], B[k][2]);
        ref_core r = ref_biex(B[k][0], B[k][1], B[k][2], B[k][3]);
        against_ref(name, xf, &r, 1);
        cg_xform_free(xf);
    }
}

static void specials(void)
{
    cg_xform *l = mk(CG_XF_LOGICLE, 262144, 0.5, 4.5, 0);
    REQUIRE(l);
    CHECK(cg_xform_fwd1(l, 0) == 1.0 / 9);
    CHECK(isnan(cg_xform_fwd1(l, NAN)));
    CHECK(cg_xform_fwd1(l, INFINITY) == INFINITY);
    CHECK(cg_xform_fwd1(l, -INFINITY) == -INFINITY);
    CHECK(cg_xform_fwd1(l, 1e300) > 50); /* beyond the table: careful path */
    CHECK_NEAR(cg_xform_fwd1(l, 262144), 1.0, 1e-15);
    CHECK_NEAR(cg_xform_inv1(l, 1.0), 262144, 1e-9);
    double in[3] = {1, NAN, 5}, out[3];
    cg_err err;
    CHECK_INT(cg_xform_fwd_checked(l, in, out, 3, &err), 0);
    CHECK_STR(cg_xform_name(CG_XF_LOGICLE), "logicle");
    CHECK_STR(cg_xform_name(CG_XF_BIEX), "biex");
    CHECK(cg_xform_kind_of(l) == CG_XF_LOGICLE);
    CHECK(cg_xform_params_of(l)->W == 0.5);
    cg_xform_free(l);
    cg_xform_free(NULL);

    /* validation */
    cg_xform_params p = {0};
    p.T = 262144, p.W = 3, p.M = 4.5;
    CHECK(cg_xform_new(CG_XF_LOGICLE, &p, &err) == NULL);
    CHECK_INT(err.code, CG_E_ARG);
    CHECK(strstr(err.msg, "logicle") != NULL);
    p.W = 0;
    CHECK(cg_xform_new(CG_XF_HYPERLOG, &p, &err) == NULL);
    p.T = 0, p.W = 0.5;
    CHECK(cg_xform_new(CG_XF_LOGICLE, &p, &err) == NULL);
    cg_xform_params q = {0};
    CHECK(cg_xform_new(CG_XF_ARCSINH, &q, &err) == NULL);
    CHECK(cg_xform_new(CG_XF_LOG, &q, &err) == NULL);
    q.width = -0.5, q.pos = 4.4, q.max = 262144;
    CHECK(cg_xform_new(CG_XF_BIEX, &q, &err) == NULL);
    CHECK(cg_xform_new((cg_xform_kind)99, &q, &err) == NULL);
    CHECK(cg_xform_new(CG_XF_LOGICLE, NULL, &err) == NULL);

    /* flin, identity, arcsinh, bounds */
    cg_xform_params f = {0};
    f.T = 1000, f.A = 10;
    cg_xform *lin = cg_xform_new(CG_XF_LINEAR, &f, &err);
    REQUIRE(lin);
    CHECK_NEAR(cg_xform_fwd1(lin, 500), 510.0 / 1010, 1e-16);
    CHECK_NEAR(cg_xform_inv1(lin, 510.0 / 1010), 500, 1e-12);
    cg_xform_free(lin);
    f.bound_min = 0, f.bound_max = 0.5;
    lin = cg_xform_new(CG_XF_LINEAR, &f, &err);
    REQUIRE(lin);
    CHECK(cg_xform_fwd1(lin, 900) == 0.5);
    CHECK(cg_xform_fwd1(lin, -900) == 0);
    double v[2] = {900, 100}, w2[2];
    cg_xform_fwd(lin, v, w2, 2);
    CHECK(w2[0] == 0.5 && w2[1] == 110.0 / 1010);
    cg_xform_free(lin);
    f.bound_min = 1, f.bound_max = 0.5;
    CHECK(cg_xform_new(CG_XF_LINEAR, &f, &err) == NULL);
    cg_xform_params id = {0};
    cg_xform *ident = cg_xform_new(CG_XF_IDENTITY, &id, &err);
    REQUIRE(ident);
    CHECK(cg_xform_fwd1(ident, -3.25) == -3.25);
    cg_xform_free(ident);
    cg_xform_params ac = {0};
    ac.cofactor = 150;
    cg_xform *as = cg_xform_new(CG_XF_ARCSINH, &ac, &err);
    REQUIRE(as);
    CHECK_NEAR(cg_xform_fwd1(as, 150), asinh(1.0), 1e-16);
    CHECK_NEAR(cg_xform_inv1(as, asinh(1.0)), 150, 1e-12);
    cg_xform_free(as);

    /* biex clamps to the channel range; logicle bounds clamp in arrays */
    cg_xform_params bp = {0};
    bp.width = -10, bp.pos = 4.41854, bp.max = 262144;
    cg_xform *bx = cg_xform_new(CG_XF_BIEX, &bp, &err);
    REQUIRE(bx);
    CHECK(cg_xform_fwd1(bx, 1e9) == 4096);
    CHECK(cg_xform_fwd1(bx, -1e9) == 0);
    /* the top of the table is channel 4096 (i = n - 1 = 4096) for max */
    CHECK_NEAR(cg_xform_fwd1(bx, cg_xform_inv1(bx, 4000)), 4000, 1e-9);
    cg_xform_free(bx);

    double p1[2] = {10, 4}, p2[2] = {3, 2}, ro[2];
    cg_fratio(2, 1, 1, p1, p2, ro, 2);
    CHECK(ro[0] == 2.0 * 9 / 2 && ro[1] == 2.0 * 3 / 1);
}

static void estimate_w(void)
{
    enum { N = 1000 };
    static double x[N];
    for (int i = 0; i < N; i++)
        x[i] = i < 100 ? -(double)(i + 1) : (double)i * 10;
    /* negatives -1..-100; R type-7 5th percentile: h = 99*0.05 = 4.95
     * between sorted[4] = -96 and sorted[5] = -95: -95.05 */
    double w;
    cg_err err;
    CHECK_INT(cg_logicle_estimate_w(x, N, 262144, 4.5, &w, &err), 0);
    CHECK_NEAR(w, (4.5 - log10(262144 / 95.05)) / 2, 1e-12);
    double pos[3] = {1, 2, 3};
    CHECK_INT(cg_logicle_estimate_w(pos, 3, 262144, 4.5, &w, &err), 0);
    CHECK(w == 0);
    double big[2] = {-1e6, 5};
    CHECK(cg_logicle_estimate_w(big, 2, 262144, 4.5, &w, &err) < 0);
    CHECK_INT(err.code, CG_E_DATA);
}

/* The table as built before the shared ends and the cheap inner check:
 * every end and every check point by the careful solve. */
static void ref_table(const cg_bx_core *c, double T, double *tab, int nb)
{
    int e_lo = (int)floor(log2(T)) - 32;
    double mx = c->b > c->d ? c->b : c->d;
    for (int k = 0; k < nb; k++) {
        int e = e_lo + k / CG_BX_SUB, j = k % CG_BX_SUB;
        double xl = ldexp(1.0 + (double)j / CG_BX_SUB, e);
        double xh = ldexp(1.0 + (double)(j + 1) / CG_BX_SUB, e);
        double w = xh - xl, *row = tab + 8 * (size_t)k;
        double y0 = cg_bx_solve(c, xl), y1 = cg_bx_solve(c, xh);
        double B, s0, s1, d2;
        cg_bx_eval(c, y0, &B, &s0, &d2);
        cg_bx_eval(c, y1, &B, &s1, &d2);
        double m0 = w / s0, m1 = w / s1;
        double h0 = y0, h1 = m0, h2 = 3 * (y1 - y0) - 2 * m0 - m1;
        double h3 = 2 * (y0 - y1) + m0 + m1;
        double dm = h0 + 0.5 * (h1 + 0.5 * (h2 + 0.5 * h3));
        row[0] = dm;
        row[1] = h1 + h2 + 0.75 * h3;
        row[2] = h2 + 1.5 * h3;
        row[3] = h3;
        row[4] = c->A1 * expm1(c->b * dm);
        row[5] = c->A1 * exp(c->b * dm);
        row[6] = c->C1 * expm1(-c->d * dm);
        row[7] = c->C1 * exp(-c->d * dm);
        int ok = isfinite(y0) && isfinite(y1) && isfinite(m0) &&
                 isfinite(m1) && isfinite(row[5]) && isfinite(row[6]);
        for (int q = 0; ok && q <= 8; q++) {
            double sq = q / 8.0 - 0.5;
            double u = sq * (row[1] + sq * (row[2] + sq * row[3]));
            double ex = cg_bx_solve(c, xl + (q / 8.0) * w);
            if (!(fabs(dm + u - ex) <= 1e-7 * ex) || !(mx * fabs(u) <= 0.035))
                ok = 0;
        }
        if (!ok)
            row[0] = NAN;
    }
}

/* The fast table is bit-identical to the all-careful build, and has both
 * valid and (near 0 for W = 0) invalid rows, so both paths are checked. */
static void table_build(void)
{
    static const double set[][4] = {
        {262144, 0.5, 4.5, 0}, {1000, 1, 4, 0}, {262144, 0, 4.5, 0},
        {1e6, 2, 6, 1}, {7.5, 0.25, 3, -0.25}, {4294967296.0, 1.5, 7, 0}};
    int nvalid = 0, ninvalid = 0;
    for (int k = 0; k < 8; k++) {
        cg_xform *xf;
        double T;
        if (k < 6) {
            xf = mk(k == 4 ? CG_XF_HYPERLOG : CG_XF_LOGICLE, set[k][0],
                    set[k][1], set[k][2], set[k][3]);
            T = set[k][0];
        } else {
            cg_xform_params p = {0};
            cg_err err;
            p.width = k == 6 ? -10 : -1000, p.pos = 4.41854, p.neg = k - 6;
            p.max = T = 262144;
            xf = cg_xform_new(CG_XF_BIEX, &p, &err);
        }
        REQUIRE(xf && xf->fast.tab);
        int nb = xf->fast.nb;
        double *ref = malloc((size_t)nb * 8 * sizeof *ref);
        REQUIRE(ref);
        ref_table(&xf->core, T, ref, nb);
        CHECK(memcmp(ref, xf->fast.tab, (size_t)nb * 8 * sizeof *ref) == 0);
        for (int r = 0; r < nb; r++) {
            nvalid += ref[8 * r] == ref[8 * r];
            ninvalid += ref[8 * r] != ref[8 * r];
        }
        free(ref);
        cg_xform_free(xf);
    }
    CHECK(nvalid > 4000);
    CHECK(ninvalid > 0);
}

/* cg_xform_fwd_threads: bit-identical to the one-value forward at every
 * thread count, also in place and at sizes that do not split evenly. */
static void fwd_threads(void)
{
    cg_xform *l = mk(CG_XF_LOGICLE, 262144, 0.5, 4.5, 0);
    REQUIRE(l);
    size_t n = 200003;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *z = malloc(n * sizeof *z);
    REQUIRE(x && y && z);
    for (size_t i = 0; i < n; i++) {
        double u = urand();
        x[i] = i % 1000 == 7 ? NAN : i % 3 == 0 ? 100 * (u - 0.5)
                                               : 10 * pow(1e5, u);
        y[i] = cg_xform_fwd1(l, x[i]);
    }
    int bad = 0;
    for (int nt = -1; nt <= 7; nt++) {
        size_t m = nt == 5 ? 40000 : n; /* 2 parts of 16K, not 5 */
        cg_xform_fwd_threads(l, x, z, m, nt);
        bad += memcmp(y, z, m * sizeof *z) != 0;
        memcpy(z, x, n * sizeof *z);
        cg_xform_fwd_threads(l, z, z, n, nt); /* in place */
        bad += memcmp(y, z, n * sizeof *z) != 0;
    }
    CHECK_INT(bad, 0);
    CHECK(z[1] > 0.2 && z[1] < 1.1 && isnan(z[7]));
    free(x);
    free(y);
    free(z);
    cg_xform_free(l);
}

static int cmp_dbl(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* Sorted copy of the negatives, and R type 7 at 0.05: the brute force. */
static double ref_p5_neg(const double *x, size_t n)
{
    double *neg = malloc(n * sizeof *neg);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0)
            neg[k++] = x[i];
    qsort(neg, k, sizeof *neg, cmp_dbl);
    double h = (double)(k - 1) * 0.05;
    size_t lo = (size_t)floor(h);
    double r = neg[lo];
    if (lo + 1 < k)
        r += (h - (double)lo) * (neg[lo + 1] - neg[lo]);
    free(neg);
    return r;
}

/* The W estimate on inputs large enough for the sampled bracket: equal to
 * the brute-force percentile, bit for bit, on spread, tied, sorted and
 * outlier-heavy data. */
static void estimate_w_large(void)
{
    size_t n = 60013;
    double *x = malloc(n * sizeof *x);
    REQUIRE(x);
    int bad = 0;
    for (int mode = 0; mode < 5; mode++) {
        for (size_t i = 0; i < n; i++) {
            double u = urand();
            x[i] = mode == 0 ? 300 * (u - 0.6)
                 : mode == 1 ? floor(40 * (u - 0.5))
                 : mode == 2 ? (u < 0.4 ? -2e5 * pow(urand(), 8) : 1000 * u)
                 : mode == 3 ? (i < n / 2 ? -(double)(n - i) : (double)i)
                             : (i % 5 ? 1 : -(double)(i % 997) - 1);
        }
        double w, r = ref_p5_neg(x, n);
        cg_err err;
        CHECK_INT(cg_logicle_estimate_w(x, n, 1e6, 6, &w, &err), 0);
        bad += w != (6 - log10(1e6 / fabs(r))) / 2;
    }
    CHECK_INT(bad, 0);
    free(x);
}

int main(void)
{
    vectors();
    accuracy();
    specials();
    estimate_w();
    table_build();
    fwd_threads();
    estimate_w_large();
    return TEST_DONE();
}
