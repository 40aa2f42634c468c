/*
 * plot_xform.c -- plot axes whose scale is a gating transform (cg_xform):
 * adapters from cg_xform_fwd1/inv1 to the plot's scale callbacks, and the
 * choice of tick style (decades for log-like transforms, round numbers
 * for linear ones).
 *
 * Kept apart from plot.c so the rest of the plotting code needs nothing
 * from the transform module; a program that never calls
 * cg_plot_axis_xform does not link it.  Threading: no state.
 */
#include <string.h>

#include "plot.h"
#include "xform.h"

static double xf_fwd(const void *ctx, double v)
{
    return cg_xform_fwd1((const cg_xform *)ctx, v);
}

static double xf_inv(const void *ctx, double v)
{
    return cg_xform_inv1((const cg_xform *)ctx, v);
}

void cg_plot_axis_xform(cg_plot_axis *ax, const char *label,
                        const cg_xform *xf, double lo, double hi)
{
    memset(ax, 0, sizeof *ax);
    ax->label = label;
    ax->lo = lo;
    ax->hi = hi;
    if (!xf) {
        ax->ticks = CG_PLOT_TICKS_LINEAR;
        return;
    }
    cg_xform_kind k = cg_xform_kind_of(xf);
    ax->ticks = (k == CG_XF_LINEAR || k == CG_XF_IDENTITY)
                    ? CG_PLOT_TICKS_LINEAR
                    : CG_PLOT_TICKS_DECADES;
    ax->fwd = xf_fwd;
    ax->inv = xf_inv;
    ax->scale_ctx = xf;
}
