/*
 * xform_log.c -- Gating-ML flog, y = (1/M) * log10(x / T) + 1.
 *
 * Policy for x <= 0 (undefined in Gating-ML): -inf at x = 0 and NaN for
 * x < 0, exactly as FlowUtils (log10 of the ratio); such events fall
 * outside every gate with a finite minimum on this axis.
 * Parameters: T > 0, M > 0.  Threading: pure functions.
 */
#include <math.h>

#include "xform_internal.h"

int cg_xf_init_log(cg_xform *xf, cg_err *err)
{
    double T = xf->p.T, M = xf->p.M;
    if (!(T > 0) || !(M > 0) || !isfinite(T) || !isfinite(M))
        return cg_err_set(err, CG_E_ARG, "log (flog): need T > 0 and M > 0 "
                          "(got T=%g, M=%g)", T, M);
    return 0;
}

double cg_xf_log_fwd(const cg_xform *xf, double x)
{
    if (x < 0)
        return NAN;
    return log10(x / xf->p.T) / xf->p.M + 1.0;
}

double cg_xf_log_inv(const cg_xform *xf, double y)
{
    return xf->p.T * pow(10.0, (y - 1.0) * xf->p.M);
}
