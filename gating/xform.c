/*
 * xform.c -- transform dispatch, validation, and the shared solver for the
 * biexponential families (logicle, hyperlog, FlowJo biex).
 *
 * Forward evaluation of a biexponential family solves B(delta) = |x| (see
 * xform_internal.h).  Two paths give the same answer to the last bits:
 *   - careful: safeguarded Halley (bracketed, bisection fallback) to
 *     rounding noise; NaN if it does not converge within 200 steps;
 *   - fast: a per-transform table of 64-byte rows indexed by the exponent
 *     and top 4 mantissa bits of |x| gives a cubic initial guess (relative
 *     error < 1e-7, checked row by row when the table is built) and the
 *     exponentials at the bucket middle; one Halley step with short
 *     polynomial exponentials finishes at full double accuracy (cubic
 *     convergence: 1e-7 -> below 1e-20).  Values outside the table (0,
 *     tiny, huge, inf, NaN) and rows that failed validation take the
 *     careful path.  Arrays go four values at a time with AVX2 where the
 *     CPU has it (checked at run time), else two: each lane does the
 *     one-value step's operations in its order (no FMA), so results do
 *     not depend on the CPU, the grouping or the thread count.
 *
 * Threading: a cg_xform is immutable after cg_xform_new(); every function
 * here is reentrant.  Allocation happens only in cg_xform_new().
 * cg_xform_fwd_threads() starts nthreads - 1 short-lived threads (joined
 * before it returns; bit-identical results at any count); cg_xform_fwd
 * does so with 2 from 512K values on.
 */
#include "xform_internal.h"
#include "par.h"
#include "select.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the biexponential core ------------------------------------------ */

void cg_bx_eval(const cg_bx_core *c, double delta, double *B, double *d1,
                double *d2)
{
    double pm = expm1(c->b * delta);
    double nm = c->C1 != 0 ? expm1(-c->d * delta) : 0.0;
    double pe = pm + 1.0, ne = nm + 1.0;
    *B = c->A1 * pm - c->C1 * nm + c->L * delta;
    *d1 = c->A1 * c->b * pe + c->C1 * c->d * ne + c->L;
    *d2 = c->A1 * c->b * c->b * pe - c->C1 * c->d * c->d * ne;
}

/* cg_bx_solve with B'(0) (d1_0) given: the table build computes it once. */
static double bx_solve(const cg_bx_core *c, double x, double d1_0)
{
    if (!(x > 0) || !isfinite(x))
        return x == 0 ? 0.0 : NAN;
    double B, d1, d2;
    double g = x / d1_0; /* linear-region guess */
    if (c->A1 > 0 && x > 2 * c->A1) {
        double gl = log(x / c->A1) / c->b;
        if (gl > 0 && gl < g)
            g = gl;
    }
    /* Safeguarded Halley: steps leaving the bracket fall back to Newton,
     * then bisection.  Near the root the residual is rounding noise, so
     * stop when the step is at the last bit or stops shrinking, and return
     * the iterate with the smallest |residual| seen. */
    double lo = 0.0, hi = INFINITY, delta = g;
    double best = NAN, best_r = INFINITY, prev_step = INFINITY;
    for (int it = 0; it < 200; it++) {
        cg_bx_eval(c, delta, &B, &d1, &d2);
        double r = B - x;
        if (fabs(r) < best_r) {
            best_r = fabs(r);
            best = delta;
        }
        if (r == 0)
            return delta;
        if (r < 0)
            lo = delta;
        else
            hi = delta;
        double nd = delta - 2 * r * d1 / (2 * d1 * d1 - r * d2); /* Halley */
        if (!(nd > lo && nd < hi)) {
            nd = delta - r / d1; /* Newton */
            if (!(nd > lo && nd < hi))
                nd = isfinite(hi) ? 0.5 * (lo + hi) : 2 * delta + 1e-300;
        }
        double step = fabs(nd - delta);
        if (step <= DBL_EPSILON * nd ||
            (step >= prev_step && step <= 1e-9 * nd) ||
            (isfinite(hi) && hi - lo <= 2 * DBL_EPSILON * hi)) {
            cg_bx_eval(c, nd, &B, &d1, &d2);
            if (fabs(B - x) < best_r)
                best = nd;
            return best;
        }
        prev_step = step;
        delta = nd;
    }
    return NAN;
}

static double bx_d1_0(const cg_bx_core *c)
{
    double B, d1, d2;
    cg_bx_eval(c, 0.0, &B, &d1, &d2);
    return d1;
}

double cg_bx_solve(const cg_bx_core *c, double x)
{
    return bx_solve(c, x, bx_d1_0(c));
}

/* expm1(u) for |u| <= 0.035: degree 8, truncation below 3e-19 relative
 * to 1 (what matters: the result is added to the bucket's e^{b dm}). */
static inline double expm1_small(double u)
{
    double p = 1.0 / 362880;
    p = p * u + 1.0 / 40320;
    p = p * u + 1.0 / 5040;
    p = p * u + 1.0 / 720;
    p = p * u + 1.0 / 120;
    p = p * u + 1.0 / 24;
    p = p * u + 1.0 / 6;
    p = p * u + 0.5;
    p = p * u + 1.0;
    return p * u;
}

/* |x| bits to bucket row, or NULL when outside the table. */
static inline const double *fast_row(const cg_bx_fast *f, double ax,
                                     double *t)
{
    uint64_t bits;
    memcpy(&bits, &ax, sizeof bits);
    uint64_t k = (bits >> (52 - CG_BX_SUBBITS)) - f->base;
    if (k >= (uint64_t)f->nb)
        return NULL;
    const uint64_t mask = (UINT64_C(1) << (52 - CG_BX_SUBBITS)) - 1;
    *t = (double)(int64_t)(bits & mask) * (1.0 / (double)(UINT64_C(1)
                                                  << (52 - CG_BX_SUBBITS)));
    return f->tab + 8 * k;
}

/* One Halley step from the table's guess.  Row: c0..c3 (the cubic in
 * s = t - 1/2, so c0 is delta at the bucket middle dm), then
 * A1 expm1(b dm), A1 e^{b dm}, C1 expm1(-d dm), C1 e^{-d dm}. */
static inline double fast_step(const cg_bx_core *c, const double *row,
                               double t, double ax)
{
    double s = t - 0.5;
    double u = s * (row[1] + s * (row[2] + s * row[3]));
    double d0 = row[0] + u;
    double pb = expm1_small(c->b * u), pd = expm1_small(-c->d * u);
    double ab = row[5] + row[5] * pb; /* A1 e^{b d0} */
    double bt = row[4] + row[5] * pb; /* A1 expm1(b d0) */
    double cn = row[7] + row[7] * pd; /* C1 e^{-d d0} */
    double ct = row[6] + row[7] * pd; /* C1 expm1(-d d0) */
    double r = (bt - ct) + (c->L * d0 - ax);
    double d1 = c->b * ab + c->d * cn + c->L;
    double d2 = c->b * c->b * ab - c->d * c->d * cn;
    return d0 - 2 * r * d1 / (2 * d1 * d1 - r * d2);
}

#if defined(__GNUC__)
/* The same step on two values at once (GCC/Clang vector extension; SSE2
 * on x86-64, NEON on arm64).  Identical arithmetic, lane by lane, so the
 * result is bit-identical to fast_step(). */
typedef double v2d __attribute__((vector_size(16)));
#define CG_HAVE_V2D 1

static inline v2d expm1_small2(v2d u)
{
    v2d p = u * (1.0 / 362880) + 1.0 / 40320;
    p = p * u + 1.0 / 5040;
    p = p * u + 1.0 / 720;
    p = p * u + 1.0 / 120;
    p = p * u + 1.0 / 24;
    p = p * u + 1.0 / 6;
    p = p * u + 0.5;
    p = p * u + 1.0;
    return p * u;
}

static inline v2d fast_step2(const cg_bx_core *c, const double *ra,
                             const double *rb, v2d t, v2d ax)
{
    v2d s = t - 0.5;
    v2d c1 = {ra[1], rb[1]}, c2 = {ra[2], rb[2]}, c3 = {ra[3], rb[3]};
    v2d u = s * (c1 + s * (c2 + s * c3));
    v2d d0 = (v2d){ra[0], rb[0]} + u;
    v2d pb = expm1_small2(c->b * u), pd = expm1_small2(-c->d * u);
    v2d r4 = {ra[4], rb[4]}, r5 = {ra[5], rb[5]};
    v2d r6 = {ra[6], rb[6]}, r7 = {ra[7], rb[7]};
    v2d ab = r5 + r5 * pb, bt = r4 + r5 * pb;
    v2d cn = r7 + r7 * pd, ct = r6 + r7 * pd;
    v2d r = (bt - ct) + (c->L * d0 - ax);
    v2d d1 = c->b * ab + c->d * cn + c->L;
    v2d d2 = c->b * c->b * ab - c->d * c->d * cn;
    return d0 - 2 * r * d1 / (2 * d1 * d1 - r * d2);
}
#endif

#if defined(__GNUC__) && defined(__x86_64__)
/* Four values at once where the CPU has AVX2 (checked at run time): the
 * arithmetic of fast_step2() lane by lane, with no FMA (the target does
 * not enable it, so nothing is contracted): bit-identical results. */
#include <immintrin.h>
typedef double v4d __attribute__((vector_size(32)));
#define CG_HAVE_V4D 1

__attribute__((target("avx2"))) static inline v4d expm1_small4(v4d u)
{
    v4d p = u * (1.0 / 362880) + 1.0 / 40320;
    p = p * u + 1.0 / 5040;
    p = p * u + 1.0 / 720;
    p = p * u + 1.0 / 120;
    p = p * u + 1.0 / 24;
    p = p * u + 1.0 / 6;
    p = p * u + 0.5;
    p = p * u + 1.0;
    return p * u;
}

/* Groups of 4 whose values all hit valid rows of the table; a group that
 * does not is left to the caller from its start.  Returns the number of
 * values done (a multiple of 4). */
__attribute__((target("avx2"))) static size_t
bx_fwd_quads(const cg_bx_core *cp, const cg_bx_fast *f, double center,
             const double *in, double *out, size_t n)
{
    const cg_bx_core c = *cp;
    const double *tab = f->tab;
    const uint64_t base = f->base, nb = (uint64_t)f->nb;
    const uint64_t mask = (UINT64_C(1) << (52 - CG_BX_SUBBITS)) - 1;
    const double tscale = 1.0 / (double)(UINT64_C(1) << (52 - CG_BX_SUBBITS));
    size_t i = 0;
    for (; i + 3 < n; i += 4) {
        const double *r[4];
        double ax[4], t[4];
        int ok = 1;
        for (int l = 0; l < 4; l++) {
            ax[l] = fabs(in[i + l]);
            uint64_t bits;
            memcpy(&bits, &ax[l], sizeof bits);
            uint64_t k = (bits >> (52 - CG_BX_SUBBITS)) - base;
            r[l] = tab + 8 * (k < nb ? k : 0);
            ok &= k < nb && r[l][0] == r[l][0];
            t[l] = (double)(int64_t)(bits & mask) * tscale;
        }
        if (!ok)
            break;
        v4d tv = {t[0], t[1], t[2], t[3]}, av = {ax[0], ax[1], ax[2], ax[3]};
        /* columns of the 4 rows: two 4x4 transposes */
        v4d col[8];
        for (int h = 0; h < 2; h++) {
            __m256d a0 = _mm256_loadu_pd(r[0] + 4 * h);
            __m256d a1 = _mm256_loadu_pd(r[1] + 4 * h);
            __m256d a2 = _mm256_loadu_pd(r[2] + 4 * h);
            __m256d a3 = _mm256_loadu_pd(r[3] + 4 * h);
            __m256d l01 = _mm256_unpacklo_pd(a0, a1);
            __m256d h01 = _mm256_unpackhi_pd(a0, a1);
            __m256d l23 = _mm256_unpacklo_pd(a2, a3);
            __m256d h23 = _mm256_unpackhi_pd(a2, a3);
            col[4 * h + 0] = (v4d)_mm256_permute2f128_pd(l01, l23, 0x20);
            col[4 * h + 1] = (v4d)_mm256_permute2f128_pd(h01, h23, 0x20);
            col[4 * h + 2] = (v4d)_mm256_permute2f128_pd(l01, l23, 0x31);
            col[4 * h + 3] = (v4d)_mm256_permute2f128_pd(h01, h23, 0x31);
        }
        v4d sv = tv - 0.5;
        v4d u = sv * (col[1] + sv * (col[2] + sv * col[3]));
        v4d d0 = col[0] + u;
        v4d pb = expm1_small4(c.b * u), pd = expm1_small4(-c.d * u);
        v4d ab = col[5] + col[5] * pb, bt = col[4] + col[5] * pb;
        v4d cn = col[7] + col[7] * pd, ct = col[6] + col[7] * pd;
        v4d rr = (bt - ct) + (c.L * d0 - av);
        v4d d1 = c.b * ab + c.d * cn + c.L;
        v4d d2 = c.b * c.b * ab - c.d * c.d * cn;
        v4d dl = d0 - 2 * rr * d1 / (2 * d1 * d1 - rr * d2);
        /* center + copysign(dl, x), lane by lane */
        __m256d sg = _mm256_set1_pd(-0.0), xv = _mm256_loadu_pd(in + i);
        __m256d cs = _mm256_or_pd(_mm256_andnot_pd(sg, (__m256d)dl),
                                  _mm256_and_pd(sg, xv));
        _mm256_storeu_pd(out + i, _mm256_add_pd(_mm256_set1_pd(center), cs));
    }
    return i;
}
#endif

double cg_bx_delta(const cg_bx_core *c, const cg_bx_fast *f, double ax)
{
    double t;
    const double *row = f->tab ? fast_row(f, ax, &t) : NULL;
    if (row && row[0] == row[0])
        return fast_step(c, row, t, ax);
    if (ax != ax)
        return ax;
    if (isinf(ax))
        return INFINITY;
    return cg_bx_solve(c, ax);
}

void cg_bx_fast_free(cg_bx_fast *f)
{
    free(f->tab);
    memset(f, 0, sizeof *f);
}

/* Is the guess g = dm + u of row within 0.25e-7 (relative) of the root
 * for x, with u in the polynomial's range?  One Newton correction from g,
 * evaluated as fast_step() does, estimates g's error to second order;
 * the build's check asks for 1e-7 against the careful solve, so "yes"
 * here means that check passes too.  "No" only means: ask the solve. */
static int row_guess_close(const cg_bx_core *c, const double *row, double u,
                           double x)
{
    double g = row[0] + u;
    double pb = expm1_small(c->b * u), pd = expm1_small(-c->d * u);
    double ab = row[5] + row[5] * pb, bt = row[4] + row[5] * pb;
    double cn = row[7] + row[7] * pd, ct = row[6] + row[7] * pd;
    double r = (bt - ct) + (c->L * g - x);
    double e = r / (c->b * ab + c->d * cn + c->L);
    return fabs(e) <= 0.25e-7 * g; /* false for NaN */
}

/* Fill row from the bucket [xl, xl + w) with the careful roots y0, y1 at
 * its ends and the slopes s0, s1 = B'(y0), B'(y1); 1 when the row is
 * valid (its guess within 1e-7 of the careful solve at 9 points and the
 * exponential arguments within the polynomial's range), else 0. */
static int fill_row(const cg_bx_core *c, double *row, double xl, double w,
                    double y0, double y1, double s0, double s1, double d1_0)
{
    double mx = c->b > c->d ? c->b : c->d;
    double m0 = w / s0, m1 = w / s1;
    /* Hermite cubic in t, re-expanded about t = 1/2 */
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
    if (!(isfinite(y0) && isfinite(y1) && isfinite(m0) && isfinite(m1) &&
          isfinite(row[5]) && isfinite(row[6])))
        return 0;
    for (int q = 0; q <= 8; q++) {
        double sq = q / 8.0 - 0.5;
        double u = sq * (row[1] + sq * (row[2] + sq * row[3]));
        if (!(mx * fabs(u) <= 0.035))
            return 0;
        /* the ends' roots are y0 and y1 (xl + w is exactly xh); inside,
         * the careful solve only when the cheap test is not sure */
        double xq = xl + (q / 8.0) * w;
        if (q > 0 && q < 8 && row_guess_close(c, row, u, xq))
            continue;
        double ex = q == 0 ? y0 : q == 8 ? y1 : bx_solve(c, xq, d1_0);
        if (!(fabs(dm + u - ex) <= 1e-7 * ex))
            return 0;
    }
    return 1;
}

/* Buckets share their ends (bucket k's top is bucket k+1's bottom, also
 * across octaves), so each end is solved once; inside a bucket the guess
 * is checked against a Newton correction first (fill_row).  The table is
 * the same, bit for bit, as solving every point carefully. */
int cg_bx_fast_build(cg_bx_fast *f, const cg_bx_core *c, double T,
                     cg_err *err)
{
    memset(f, 0, sizeof *f);
    int e_top = (int)floor(log2(T));
    int e_lo = e_top - 32;
    if (e_lo < -1000 || e_lo + CG_BX_OCTAVES > 1000)
        return 0; /* absurd scale: no table, careful path only */
    int nb = CG_BX_OCTAVES * CG_BX_SUB;
    double *tab = malloc((size_t)nb * 8 * sizeof *tab);
    if (!tab)
        return cg_err_set(err, CG_E_NOMEM, "out of memory building the "
                          "transform table");
    double d1_0 = bx_d1_0(c);
    double px = NAN, py = NAN, ps = NAN; /* previous bucket's top */
    for (int k = 0; k < nb; k++) {
        int e = e_lo + k / CG_BX_SUB, j = k % CG_BX_SUB;
        double xl = ldexp(1.0 + (double)j / CG_BX_SUB, e);
        double xh = ldexp(1.0 + (double)(j + 1) / CG_BX_SUB, e);
        double B, d2, y0 = py, s0 = ps, y1, s1;
        if (!(xl == px)) {
            y0 = bx_solve(c, xl, d1_0);
            cg_bx_eval(c, y0, &B, &s0, &d2);
        }
        y1 = bx_solve(c, xh, d1_0);
        cg_bx_eval(c, y1, &B, &s1, &d2);
        double *row = tab + 8 * (size_t)k;
        if (!fill_row(c, row, xl, xh - xl, y0, y1, s0, s1, d1_0))
            row[0] = NAN;
        px = xh, py = y1, ps = s1;
    }
    f->tab = tab;
    f->nb = nb;
    f->base = ((uint64_t)(1023 + e_lo)) << CG_BX_SUBBITS;
    return 0;
}

/* ---- dispatch -------------------------------------------------------- */

static const char *const names[] = {
    [CG_XF_LINEAR] = "linear",   [CG_XF_IDENTITY] = "identity",
    [CG_XF_LOG] = "log",         [CG_XF_ASINH] = "asinh",
    [CG_XF_ARCSINH] = "arcsinh", [CG_XF_LOGICLE] = "logicle",
    [CG_XF_HYPERLOG] = "hyperlog", [CG_XF_BIEX] = "biex",
};

const char *cg_xform_name(cg_xform_kind kind)
{
    if ((unsigned)kind < sizeof names / sizeof names[0] && names[kind])
        return names[kind];
    return "unknown";
}

cg_xform *cg_xform_new(cg_xform_kind kind, const cg_xform_params *p,
                       cg_err *err)
{
    if (!p)
        return cg_err_set(err, CG_E_ARG, "transform: no parameters"), NULL;
    cg_xform *xf = calloc(1, sizeof *xf);
    if (!xf)
        return cg_err_set(err, CG_E_NOMEM, "out of memory"), NULL;
    xf->kind = kind;
    xf->p = *p;
    int rc;
    switch (kind) {
    case CG_XF_LINEAR:
    case CG_XF_IDENTITY: rc = cg_xf_init_linear(xf, err); break;
    case CG_XF_LOG: rc = cg_xf_init_log(xf, err); break;
    case CG_XF_ASINH: rc = cg_xf_init_asinh(xf, err); break;
    case CG_XF_ARCSINH: rc = cg_xf_init_arcsinh(xf, err); break;
    case CG_XF_LOGICLE: rc = cg_xf_init_logicle(xf, err); break;
    case CG_XF_HYPERLOG: rc = cg_xf_init_hyperlog(xf, err); break;
    case CG_XF_BIEX: rc = cg_xf_init_biex(xf, err); break;
    default:
        rc = cg_err_set(err, CG_E_ARG, "unknown transform kind %d",
                        (int)kind);
    }
    if (rc == 0 && (p->bound_min != 0 || p->bound_max != 0)) {
        if (!(p->bound_min < p->bound_max))
            rc = cg_err_set(err, CG_E_ARG, "%s: boundMin %g must be below "
                            "boundMax %g", cg_xform_name(kind), p->bound_min,
                            p->bound_max);
        xf->clamp = 1;
    }
    if (rc < 0) {
        cg_xform_free(xf);
        return NULL;
    }
    return xf;
}

void cg_xform_free(cg_xform *xf)
{
    if (!xf)
        return;
    cg_bx_fast_free(&xf->fast);
    free(xf);
}

cg_xform_kind cg_xform_kind_of(const cg_xform *xf) { return xf->kind; }
const cg_xform_params *cg_xform_params_of(const cg_xform *xf)
{
    return &xf->p;
}

static inline double clampv(const cg_xform *xf, double y)
{
    if (xf->clamp) {
        if (y < xf->p.bound_min)
            y = xf->p.bound_min;
        if (y > xf->p.bound_max)
            y = xf->p.bound_max;
    }
    return y;
}

static inline double bx_fwd(const cg_xform *xf, double x)
{
    double ax = fabs(x);
    double t;
    const double *row = xf->fast.tab ? fast_row(&xf->fast, ax, &t) : NULL;
    double delta;
    if (row && row[0] == row[0])
        delta = fast_step(&xf->core, row, t, ax);
    else
        delta = cg_bx_delta(&xf->core, &xf->fast, ax);
    double y = xf->center + copysign(delta, x);
    if (xf->out_clamp) {
        if (y < xf->out_lo)
            y = xf->out_lo;
        if (y > xf->out_hi)
            y = xf->out_hi;
    }
    return y;
}

static double bx_inv(const cg_xform *xf, double y)
{
    if (y != y)
        return y;
    if (xf->out_clamp) {
        if (y < xf->out_lo)
            y = xf->out_lo;
        if (y > xf->out_hi)
            y = xf->out_hi;
    }
    double delta = y - xf->center;
    double B, d1, d2;
    cg_bx_eval(&xf->core, fabs(delta), &B, &d1, &d2);
    return delta < 0 ? -B : B;
}

static inline int is_bx(cg_xform_kind k)
{
    return k == CG_XF_LOGICLE || k == CG_XF_HYPERLOG || k == CG_XF_BIEX;
}

double cg_xform_fwd1(const cg_xform *xf, double x)
{
    double y;
    switch (xf->kind) {
    case CG_XF_IDENTITY: y = x; break;
    case CG_XF_LINEAR: y = cg_xf_linear_fwd(xf, x); break;
    case CG_XF_LOG: y = cg_xf_log_fwd(xf, x); break;
    case CG_XF_ASINH: y = cg_xf_asinh_fwd(xf, x); break;
    case CG_XF_ARCSINH: y = cg_xf_arcsinh_fwd(xf, x); break;
    default: y = bx_fwd(xf, x); break;
    }
    return clampv(xf, y);
}

double cg_xform_inv1(const cg_xform *xf, double y)
{
    switch (xf->kind) {
    case CG_XF_IDENTITY: return y;
    case CG_XF_LINEAR: return cg_xf_linear_inv(xf, y);
    case CG_XF_LOG: return cg_xf_log_inv(xf, y);
    case CG_XF_ASINH: return cg_xf_asinh_inv(xf, y);
    case CG_XF_ARCSINH: return cg_xf_arcsinh_inv(xf, y);
    default: return bx_inv(xf, y);
    }
}

/* The hot loop for the biexponential families: constants in locals (the
 * output array could alias *xf as far as the compiler knows), no dispatch
 * per value, clamps in a second pass. */
static void bx_fwd_array(const cg_xform *xf, const double *in, double *out,
                         size_t n)
{
    const cg_bx_core c = xf->core;
    const double *tab = xf->fast.tab;
    const uint64_t base = xf->fast.base;
    const uint64_t nb = tab ? (uint64_t)xf->fast.nb : 0;
    const double center = xf->center;
    const uint64_t mask = (UINT64_C(1) << (52 - CG_BX_SUBBITS)) - 1;
    const double tscale = 1.0 / (double)(UINT64_C(1) << (52 - CG_BX_SUBBITS));
    size_t i = 0;
#ifdef CG_HAVE_V2D
    /* pairs whose values both hit valid table rows go two at a time; with
     * AVX2, runs of such values four at a time first */
    for (; i + 1 < n; i += 2) {
#ifdef CG_HAVE_V4D
        if (tab && (i & 7) == 0 && __builtin_cpu_supports("avx2"))
            i += bx_fwd_quads(&c, &xf->fast, center, in + i, out + i, n - i);
        if (i + 1 >= n)
            break;
#endif
        double xa = in[i], xb = in[i + 1];
        double aa = fabs(xa), ab = fabs(xb);
        uint64_t ba, bb;
        memcpy(&ba, &aa, sizeof ba);
        memcpy(&bb, &ab, sizeof bb);
        uint64_t ka = (ba >> (52 - CG_BX_SUBBITS)) - base;
        uint64_t kb = (bb >> (52 - CG_BX_SUBBITS)) - base;
        const double *ra = ka < nb ? tab + 8 * ka : NULL;
        const double *rb = kb < nb ? tab + 8 * kb : NULL;
        if (ra && rb && ra[0] == ra[0] && rb[0] == rb[0]) {
            v2d t = {(double)(int64_t)(ba & mask) * tscale,
                     (double)(int64_t)(bb & mask) * tscale};
            v2d dl = fast_step2(&c, ra, rb, t, (v2d){aa, ab});
            out[i] = center + copysign(dl[0], xa);
            out[i + 1] = center + copysign(dl[1], xb);
        } else {
            for (size_t j = i; j < i + 2; j++) {
                double x = in[j], ax = fabs(x);
                out[j] = center + copysign(cg_bx_delta(&xf->core, &xf->fast,
                                                       ax), x);
            }
        }
    }
#endif
    for (; i < n; i++) {
        double x = in[i], ax = fabs(x), delta;
        uint64_t bits;
        memcpy(&bits, &ax, sizeof bits);
        uint64_t k = (bits >> (52 - CG_BX_SUBBITS)) - base;
        const double *row = k < nb ? tab + 8 * k : NULL;
        if (row && row[0] == row[0])
            delta = fast_step(&c, row, (double)(int64_t)(bits & mask) *
                              tscale, ax);
        else
            delta = cg_bx_delta(&xf->core, &xf->fast, ax);
        out[i] = center + copysign(delta, x);
    }
    if (xf->out_clamp || xf->clamp)
        for (size_t j = 0; j < n; j++) {
            double y = out[j];
            if (xf->out_clamp)
                y = y < xf->out_lo ? xf->out_lo
                    : y > xf->out_hi ? xf->out_hi : y;
            out[j] = clampv(xf, y);
        }
}

static void fwd_serial(const cg_xform *xf, const double *in, double *out,
                       size_t n)
{
    if (is_bx(xf->kind)) {
        bx_fwd_array(xf, in, out, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = cg_xform_fwd1(xf, in[i]);
}

/* One part of a split forward pass. */
typedef struct fwd_part {
    const cg_xform *xf;
    const double *in;
    double *out;
    size_t n;
} fwd_part;

static void *fwd_main(void *arg)
{
    const fwd_part *p = arg;
    fwd_serial(p->xf, p->in, p->out, p->n);
    return NULL;
}

/* cg_xform_fwd splits from XF_SPLIT values on (a 1M-event column). */
#define XF_SPLIT ((size_t)1 << 19)
/* cg_xform_fwd_threads: at most this many threads, and parts of at least
 * XF_MIN_PART values (a thread costs tens of microseconds). */
#define XF_MAX_THREADS 64
#define XF_MIN_PART ((size_t)1 << 14)

/* Parts start at multiples of 8, so the vector loops group the same
 * values as in one pass; every value takes the same path and the same
 * arithmetic whatever the grouping anyway, so results are bit-identical
 * at any thread count.  Each output is written by exactly one thread.
 * A cg_xform is immutable, so all threads may read it.  Part 0 runs in
 * the calling thread; a part whose thread cannot start runs there too,
 * after part 0. */
void cg_xform_fwd_threads(const cg_xform *xf, const double *in, double *out,
                          size_t n, int nthreads)
{
    size_t np = nthreads > 1 ? (size_t)nthreads : 1;
    if (np > XF_MAX_THREADS)
        np = XF_MAX_THREADS;
    if (np > n / XF_MIN_PART)
        np = n / XF_MIN_PART;
    if (np <= 1) {
        fwd_serial(xf, in, out, n);
        return;
    }
    fwd_part part[XF_MAX_THREADS];
    size_t at = 0;
    for (size_t k = 0; k < np; k++) {
        size_t end = k + 1 == np ? n : ((n / np) * (k + 1)) & ~(size_t)7;
        part[k] = (fwd_part){xf, in + at, out + at, end - at};
        at = end;
    }
    cg_par_run((int)np, fwd_main, part, sizeof *part);
}

void cg_xform_fwd(const cg_xform *xf, const double *in, double *out,
                  size_t n)
{
    cg_xform_fwd_threads(xf, in, out, n, n >= XF_SPLIT ? 2 : 1);
}

void cg_xform_inv(const cg_xform *xf, const double *in, double *out,
                  size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = cg_xform_inv1(xf, in[i]);
}

size_t cg_xform_fwd_checked(const cg_xform *xf, const double *in,
                            double *out, size_t n, cg_err *err)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        double y = cg_xform_fwd1(xf, x);
        if (y != y && x == x && !(xf->kind == CG_XF_LOG && x < 0)) {
            if (!bad)
                first = i;
            bad++;
        }
        out[i] = y;
    }
    if (bad)
        cg_err_set(err, CG_E_MATH, "%s: no result for %zu value(s), first "
                   "at index %zu (x = %.17g)", cg_xform_name(xf->kind), bad,
                   first, in[first]);
    return bad;
}

void cg_fratio(double A, double B, double C, const double *p1,
               const double *p2, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = A * (p1[i] - B) / (p2[i] - C);
}

/* The k-th and (k+1)-th smallest (k + 1 < nneg) of the nneg negative
 * values of x[0..n), by a bracket from a strided sample: the values below
 * it are counted, those inside it gathered and selected.  Returns 0, or
 * -1 when the bracket misses (unlucky or adversarial data) or memory is
 * short: the caller then selects among all the negatives. */
static int neg_pair_bracketed(const double *x, size_t n, size_t nneg,
                              size_t k, double *a, double *b)
{
    enum { NS = 4096 };
    double smp[NS];
    int64_t m = 0;
    for (size_t j = 0; j < NS; j++) {
        double v = x[(size_t)((double)j / NS * (double)n)];
        if (v < 0)
            smp[m++] = v;
    }
    if (m < 512)
        return -1;
    /* sample ranks around k's: +-(6 sd + 8), sd of a sample quantile */
    double p = (double)k / (double)nneg, c = p * (double)m;
    double sd = sqrt((double)m * p * (1 - p));
    int64_t rl = (int64_t)floor(c - 6 * sd - 8);
    int64_t rh = (int64_t)ceil(c + 6 * sd + 8);
    double L = rl > 0 ? cg_select_kth(smp, m, rl) : -INFINITY;
    double U = rh < m ? cg_select_kth(smp, m, rh) : 0;
    size_t cap = nneg / 4 + 64, below = 0, in = 0;
    double *buf = malloc(cap * sizeof *buf);
    if (!buf)
        return -1;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (v < 0 && v <= U) {
            if (v < L)
                below++;
            else if (in < cap)
                buf[in++] = v;
            else
                break; /* the bracket holds too much: give up */
        }
    }
    int ok = in < cap && below <= k && k + 2 <= below + in;
    if (ok) {
        size_t q = k - below;
        cg_select_k(buf, (int64_t)in, (int64_t)q);
        *a = buf[q];
        double nx = buf[q + 1];
        for (size_t i = q + 2; i < in; i++)
            if (buf[i] < nx)
                nx = buf[i];
        *b = nx;
    }
    free(buf);
    return ok ? 0 : -1;
}

/* The k-th and (k+1)-th smallest negative values (k + 1 < nneg), by
 * selection among all of them (as before the bracket; the fallback). */
static int neg_pair_full(const double *x, size_t n, size_t nneg, size_t k,
                         double *a, double *b)
{
    double *neg = malloc(nneg * sizeof *neg);
    if (!neg)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0)
            neg[j++] = x[i];
    cg_select_k(neg, (int64_t)nneg, (int64_t)k);
    *a = neg[k];
    double nx = neg[k + 1];
    for (size_t i = k + 2; i < nneg; i++)
        if (neg[i] < nx)
            nx = neg[i];
    *b = nx;
    free(neg);
    return 0;
}

int cg_logicle_estimate_w(const double *x, size_t n, double T, double M,
                          double *w_out, cg_err *err)
{
    if (!(T > 0) || !(M > 0))
        return cg_err_set(err, CG_E_ARG, "logicle W estimate: T (%g) and M "
                          "(%g) must be > 0", T, M);
    size_t nneg = 0;
    for (size_t i = 0; i < n; i++)
        nneg += x[i] < 0;
    if (nneg == 0) {
        *w_out = 0;
        return 0;
    }
    /* R quantile type 7 at p = 0.05: the lo-th order statistic of the
     * negatives plus a fraction of the step to the next.  Order
     * statistics are values, whatever the method: a bracket from a
     * sample (large inputs), else selection among all the negatives;
     * both are exact, O(n) */
    double h = (double)(nneg - 1) * 0.05;
    size_t lo = (size_t)floor(h);
    double r;
    if (lo + 1 >= nneg) {
        r = -INFINITY; /* nneg == 1 (h = 0): the one negative */
        for (size_t i = 0; i < n; i++)
            if (x[i] < 0)
                r = x[i];
    } else {
        double a, b;
        if ((nneg < 8192 ||
             neg_pair_bracketed(x, n, nneg, lo, &a, &b) < 0) &&
            neg_pair_full(x, n, nneg, lo, &a, &b) < 0)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        r = a + (h - (double)lo) * (b - a);
    }
    double w = (M - log10(T / fabs(r))) / 2;
    if (!(w >= 0))
        return cg_err_set(err, CG_E_DATA, "logicle W estimate is negative "
                          "(%g; 5th percentile of negatives %g): the data "
                          "are too negative for T=%g, M=%g", w, r, T, M);
    if (!(2 * w <= M))
        return cg_err_set(err, CG_E_DATA, "logicle W estimate %g exceeds "
                          "M/2 = %g", w, M / 2);
    *w_out = w;
    return 0;
}
