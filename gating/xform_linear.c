/*
 * xform_linear.c -- Gating-ML flin, y = (x + A) / (T + A), and the identity
 * ("linear" display scale, y = x).
 *
 * Parameters: T > 0, A <= T, T + A > 0 (Gating-ML 2.0 flin constraints,
 * plus the one that keeps the denominator positive).
 * Threading: pure functions of an immutable cg_xform.
 */
#include <math.h>

#include "xform_internal.h"

int cg_xf_init_linear(cg_xform *xf, cg_err *err)
{
    if (xf->kind == CG_XF_IDENTITY)
        return 0;
    double T = xf->p.T, A = xf->p.A;
    if (!(T > 0) || !isfinite(T) || !isfinite(A) || !(A <= T) ||
        !(T + A > 0))
        return cg_err_set(err, CG_E_ARG, "linear (flin): need T > 0, A <= T "
                          "and T + A > 0 (got T=%g, A=%g)", T, A);
    xf->k[0] = T + A;
    return 0;
}

double cg_xf_linear_fwd(const cg_xform *xf, double x)
{
    return (x + xf->p.A) / xf->k[0];
}

double cg_xf_linear_inv(const cg_xform *xf, double y)
{
    return y * xf->k[0] - xf->p.A;
}
