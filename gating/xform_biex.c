/*
 * xform_biex.c -- FlowJo's biexponential ("biex") transform: width basis,
 * positive decades, extra negative decades and maximum data value, on
 * FlowJo's 4096-channel output scale (channel 0..4096).
 *
 * FlowJo defines it by a 4097-point lookup table (the TreeStar algorithm
 * as carried by cytolib and FlowKit): with R = 4096 channels, n = R + 1,
 *   lw = log10(-width), decades = pos - lw/2, extra = max(neg, 0) + lw/2,
 *   zp = min(floor(extra R / (extra + decades)), R/2), and if zp > 0
 *   decades = extra R / zp; wn = lw / (2 decades), P = ln10 decades,
 *   Q = root of 2(ln q - ln P) + wn (P + q) = 0, min = max / e^P,
 *   s = e^{(P + Q)(wn + extra/decades)},
 *   value(i) = min (e^{i P/n} - s e^{-i Q/n} - s0)  for i >= zp
 *   (s0 makes value(zp) = 0), value(i) = -value(2 zp - i) below zp.
 * value(i) is a smooth biexponential in i, so instead of interpolating
 * the table linearly (FlowKit) we invert it exactly with the shared core
 * (xform.c): delta = i - zp solves A1 expm1(b delta) - C1 expm1(-d delta)
 * = |x|.  The root Q is solved to full precision; FlowKit's _log_root
 * (an RTSAFE variant stopping at 1e-12) reaches the same root.  Output is
 * clamped to [0, R], as FlowJo piles off-scale events on the axes.
 * Validity: width <= -1, pos > lw/2, neg >= 0 (negative read as 0),
 * max > 0.  Threading: immutable after creation.
 */
#include <math.h>

#include "xform_internal.h"

#define LN10 2.302585092994045684017991454684364208
#define BIEX_CHANNELS 4096

int cg_xf_init_biex(cg_xform *xf, cg_err *err)
{
    double width = xf->p.width, pos = xf->p.pos, neg = xf->p.neg;
    double mx = xf->p.max;
    if (!isfinite(width) || !isfinite(pos) || !isfinite(neg) ||
        !isfinite(mx) || !(width <= -1) || !(mx > 0) ||
        !(pos > log10(-width) / 2))
        return cg_err_set(err, CG_E_ARG, "biex: need width <= -1, pos > "
                          "log10(-width)/2 and max > 0 (got width=%g, pos=%g, "
                          "neg=%g, max=%g)", width, pos, neg, mx);
    const double R = BIEX_CHANNELS, n = BIEX_CHANNELS + 1;
    double lw = log10(-width);
    double decades = pos - lw / 2;
    double extra = (neg < 0 ? 0 : neg) + lw / 2;
    int zp = (int)(extra * R / (extra + decades));
    if (zp > BIEX_CHANNELS / 2)
        zp = BIEX_CHANNELS / 2;
    if (zp > 0)
        decades = extra * R / zp;
    double wn = lw / (2 * decades);
    double P = LN10 * decades;
    double Q = cg_xf_solve_d(P, wn);
    if (!(Q > 0))
        return cg_err_set(err, CG_E_MATH, "biex: the negative range did not "
                          "converge (width=%g, pos=%g, neg=%g)", width, pos,
                          neg);
    double minimum = mx / exp(P);
    double ln_s = (P + Q) * (wn + extra / decades);
    double beta = P / n, gamma = Q / n;
    xf->core.A1 = minimum * exp(zp * beta);
    xf->core.b = beta;
    xf->core.C1 = minimum * exp(ln_s - zp * gamma);
    xf->core.d = gamma;
    xf->core.L = 0;
    xf->center = zp;
    xf->out_clamp = 1;
    xf->out_lo = 0;
    xf->out_hi = R;
    if (!isfinite(xf->core.A1) || !isfinite(xf->core.C1))
        return cg_err_set(err, CG_E_MATH, "biex: parameters give no usable "
                          "scale (width=%g, pos=%g, neg=%g, max=%g)", width,
                          pos, neg, mx);
    return cg_bx_fast_build(&xf->fast, &xf->core, mx, err);
}
