/*
 * xform_logicle.c -- Gating-ML 2.0 logicle (T, W, M, A), Parks, Roederer &
 * Moore 2006; constants as in Moore & Parks 2012.
 *
 *   w = W/(M+A), x2 = A/(M+A), x1 = x2 + w, x0 = x2 + 2w, b = (M+A) ln10,
 *   d: 2(ln d - ln b) + w(b + d) = 0,  ca = e^{x0(b+d)},
 *   fa = e^{b x1} - ca e^{-d x1},  a = T / (e^b - fa - ca e^{-d}),
 *   c = ca a, f = fa a;  data x = a e^{by} - c e^{-dy} - f  (y >= x1),
 *   negatives by reflection about x1 (y(-x) = 2 x1 - y(x)).
 *
 * Output is the Gating-ML 0..1 scale (T -> 1); flowCore's 0..M scale is
 * this times M.  In delta = y - x1 the equation is
 *   A1 expm1(b delta) - C1 expm1(-d delta) = |x|,
 *   A1 = a e^{b x1}, C1 = c e^{-d x1},
 * solved by the shared core (xform.c): table guess + one Halley step, or
 * the careful solve; never a silent non-convergence (NaN instead, and
 * cg_xform_fwd_checked() reports it).
 * Validity (flowCore Logicle.cpp): T > 0, W >= 0, M > 0, 2W <= M,
 * -A <= W, A + W <= M - W.  Threading: immutable after creation.
 */
#include <float.h>
#include <math.h>

#include "xform_internal.h"

#define LN10 2.302585092994045684017991454684364208

double cg_xf_solve_d(double b, double w)
{
    if (w == 0)
        return b;
    /* f(d) = 2 ln(d/b) + w (b + d): increasing, f(0+) = -inf, f(b) > 0 */
    double lo = 0, hi = b, d = b / 2;
    for (int it = 0; it < 200; it++) {
        double f = 2 * log(d / b) + w * (b + d);
        if (f == 0)
            return d;
        if (f < 0)
            lo = d;
        else
            hi = d;
        double nd = d - f / (2 / d + w);
        if (!(nd > lo && nd < hi))
            nd = 0.5 * (lo + hi);
        if (fabs(nd - d) <= 2 * DBL_EPSILON * nd || hi - lo <=
            2 * DBL_EPSILON * hi)
            return nd;
        d = nd;
    }
    return NAN;
}

int cg_xf_init_logicle(cg_xform *xf, cg_err *err)
{
    double T = xf->p.T, W = xf->p.W, M = xf->p.M, A = xf->p.A;
    if (!isfinite(T) || !isfinite(W) || !isfinite(M) || !isfinite(A) ||
        !(T > 0) || !(W >= 0) || !(M > 0) || !(2 * W <= M) || !(-A <= W) ||
        !(A + W <= M - W))
        return cg_err_set(err, CG_E_ARG, "logicle: need T > 0, W >= 0, "
                          "M > 0, 2W <= M, -W <= A <= M - 2W (got T=%g, "
                          "W=%g, M=%g, A=%g)", T, W, M, A);
    double w = W / (M + A), x2 = A / (M + A), x1 = x2 + w, x0 = x2 + 2 * w;
    double b = (M + A) * LN10;
    double d = cg_xf_solve_d(b, w);
    if (!(d > 0))
        return cg_err_set(err, CG_E_MATH, "logicle: the constant d did not "
                          "converge (W=%g, M=%g, A=%g)", W, M, A);
    double ca = exp(x0 * (b + d));
    double fa = exp(b * x1) - ca * exp(-d * x1);
    double a = T / (exp(b) - fa - ca * exp(-d));
    double c = ca * a;
    if (!(a > 0) || !isfinite(a) || !isfinite(c))
        return cg_err_set(err, CG_E_MATH, "logicle: parameters give no "
                          "usable scale (T=%g, W=%g, M=%g, A=%g)", T, W, M,
                          A);
    xf->core.A1 = a * exp(b * x1);
    xf->core.b = b;
    xf->core.C1 = c * exp(-d * x1);
    xf->core.d = d;
    xf->core.L = 0;
    xf->center = x1;
    return cg_bx_fast_build(&xf->fast, &xf->core, T, err);
}
