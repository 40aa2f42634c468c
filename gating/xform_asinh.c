/*
 * xform_asinh.c -- Gating-ML fasinh (T, M, A) and the cofactor arcsinh.
 *
 *   fasinh:  y = (asinh(x * sinh(M ln10) / T) + A ln10) / ((M + A) ln10)
 *            x = T * sinh((M + A) ln10 * y - A ln10) / sinh(M ln10)
 *   arcsinh: y = asinh(x / cofactor),  x = cofactor * sinh(y)
 *
 * flowCore's arcsinhTransform() (asinh(a + b*x) + c, default a = 1) is a
 * different family with an offset; it is not offered (see README): its
 * default maps 0 to asinh(1), which no gate or plot here expects.
 * Parameters: fasinh T > 0, M > 0, 0 <= A <= M; arcsinh cofactor > 0.
 * Threading: pure functions.
 */
#include <math.h>

#include "xform_internal.h"

#define LN10 2.302585092994045684017991454684364208

int cg_xf_init_asinh(cg_xform *xf, cg_err *err)
{
    double T = xf->p.T, M = xf->p.M, A = xf->p.A;
    if (!(T > 0) || !(M > 0) || !(A >= 0) || !(A <= M) || !isfinite(T) ||
        !isfinite(M))
        return cg_err_set(err, CG_E_ARG, "asinh (fasinh): need T > 0, M > 0 "
                          "and 0 <= A <= M (got T=%g, M=%g, A=%g)", T, M, A);
    xf->k[0] = sinh(M * LN10) / T; /* x scale */
    xf->k[1] = A * LN10;
    xf->k[2] = (M + A) * LN10;
    xf->k[3] = T / sinh(M * LN10);
    return 0;
}

double cg_xf_asinh_fwd(const cg_xform *xf, double x)
{
    return (asinh(x * xf->k[0]) + xf->k[1]) / xf->k[2];
}

double cg_xf_asinh_inv(const cg_xform *xf, double y)
{
    return xf->k[3] * sinh(y * xf->k[2] - xf->k[1]);
}

int cg_xf_init_arcsinh(cg_xform *xf, cg_err *err)
{
    double c = xf->p.cofactor;
    if (!(c > 0) || !isfinite(c))
        return cg_err_set(err, CG_E_ARG, "arcsinh: need cofactor > 0 (got "
                          "%g)", c);
    return 0;
}

double cg_xf_arcsinh_fwd(const cg_xform *xf, double x)
{
    return asinh(x / xf->p.cofactor);
}

double cg_xf_arcsinh_inv(const cg_xform *xf, double y)
{
    return xf->p.cofactor * sinh(y);
}
