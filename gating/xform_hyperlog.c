/*
 * xform_hyperlog.c -- Gating-ML 2.0 hyperlog (T, W, M, A), Bagwell 2005 as
 * parameterised by Gating-ML (FlowUtils' port of Moore's code).
 *
 *   w, x2, x1, x0, b as for logicle; e0 = e^{b x0}, ca = e0 / w,
 *   fa = e^{b x1} + ca x1, a = T / (e^b + ca - fa), c = ca a, f = fa a;
 *   data x = a e^{by} + c y - f  (y >= x1), negatives reflected about x1.
 *
 * In delta = y - x1: A1 expm1(b delta) + c delta = |x| with A1 = a e^{b x1};
 * solved by the shared core in xform.c (table + Halley, or careful solve).
 * Validity: T > 0, 0 < W <= M/2, M > 0, -W <= A <= M - 2W.
 * Threading: immutable after creation.
 */
#include <math.h>

#include "xform_internal.h"

#define LN10 2.302585092994045684017991454684364208

int cg_xf_init_hyperlog(cg_xform *xf, cg_err *err)
{
    double T = xf->p.T, W = xf->p.W, M = xf->p.M, A = xf->p.A;
    if (!isfinite(T) || !isfinite(W) || !isfinite(M) || !isfinite(A) ||
        !(T > 0) || !(W > 0) || !(M > 0) || !(2 * W <= M) || !(-A <= W) ||
        !(A + W <= M - W))
        return cg_err_set(err, CG_E_ARG, "hyperlog: need T > 0, W > 0, "
                          "M > 0, 2W <= M, -W <= A <= M - 2W (got T=%g, "
                          "W=%g, M=%g, A=%g)", T, W, M, A);
    double w = W / (M + A), x2 = A / (M + A), x1 = x2 + w, x0 = x2 + 2 * w;
    double b = (M + A) * LN10;
    double ca = exp(b * x0) / w;
    double fa = exp(b * x1) + ca * x1;
    double a = T / (exp(b) + ca - fa);
    if (!(a > 0) || !isfinite(a))
        return cg_err_set(err, CG_E_MATH, "hyperlog: parameters give no "
                          "usable scale (T=%g, W=%g, M=%g, A=%g)", T, W, M,
                          A);
    xf->core.A1 = a * exp(b * x1);
    xf->core.b = b;
    xf->core.C1 = 0;
    xf->core.d = 0;
    xf->core.L = ca * a;
    xf->center = x1;
    return cg_bx_fast_build(&xf->fast, &xf->core, T, err);
}
