/*
 * plot_hist.c -- the 1-D panel: a histogram of the (masked) x values over
 * the display range, drawn as a filled step outline, with a density curve
 * over it: the caller's curve (e.g. the auto gate's KDE, rescaled so its
 * area equals the histogram's) or, without one, the histogram smoothed
 * with a small Gaussian.  Thresholds and ranges are overlays
 * (plot_gates.c).
 *
 * Values beyond the display range go to the edge bins (as in the dot
 * plot); NaN is skipped.  Threading: no shared state.
 */
#include <math.h>
#include <stdlib.h>

#include "plot_internal.h"

int64_t cgp_hist_bins(const cg_plot_panel *p, int nb, double *counts)
{
    double lo = p->xaxis.lo, f = nb / (p->xaxis.hi - p->xaxis.lo);
    int64_t nd = 0;
    for (int64_t i = 0; i < p->n; i++) {
        if (p->mask && !cg_bits_get(p->mask, i))
            continue;
        double v = p->x[i];
        if (isnan(v))
            continue;
        double u = (v - lo) * f;
        int b = !(u >= 0) ? 0 : u >= nb - 1 ? nb - 1 : (int)u;
        counts[b] += 1;
        nd++;
    }
    return nd;
}

/* Curve on the bin centres: the caller's curve interpolated and scaled to
 * the histogram's area, or the smoothed histogram.  0 on success. */
static int make_curve(const cg_plot_panel *p, const double *counts, int nb,
                      int64_t ndrawn, double *out)
{
    double lo = p->xaxis.lo, bw = (p->xaxis.hi - p->xaxis.lo) / nb;
    if (p->curve_x && p->curve_y && p->ncurve >= 2) {
        double area = 0;
        for (int i = 1; i < p->ncurve; i++)
            area += 0.5 * (p->curve_y[i] + p->curve_y[i - 1]) *
                    (p->curve_x[i] - p->curve_x[i - 1]);
        if (!(area > 0))
            return -1;
        double sc = (double)ndrawn * bw / area;
        int j = 0;
        for (int b = 0; b < nb; b++) {
            double xc = lo + (b + 0.5) * bw;
            while (j < p->ncurve - 2 && p->curve_x[j + 1] < xc)
                j++;
            double x0 = p->curve_x[j], x1 = p->curve_x[j + 1];
            if (xc < x0 || xc > p->curve_x[p->ncurve - 1]) {
                out[b] = NAN;
                continue;
            }
            double t = x1 > x0 ? (xc - x0) / (x1 - x0) : 0;
            if (t > 1)
                t = 1;
            out[b] = sc * (p->curve_y[j] + t * (p->curve_y[j + 1] -
                                                p->curve_y[j]));
        }
        return 0;
    }
    double sigma = nb / 100.0 + 1.0;
    int r = (int)ceil(3 * sigma);
    for (int b = 0; b < nb; b++) {
        double acc = 0, ws = 0;
        for (int k = -r; k <= r; k++) {
            int j = b + k;
            if (j < 0 || j >= nb)
                continue;
            double wgt = exp(-0.5 * k * k / (sigma * sigma));
            acc += wgt * counts[j];
            ws += wgt;
        }
        out[b] = acc / ws;
    }
    return 0;
}

void cgp_hist_draw(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_panel *p,
                   const double *counts, int nb, int64_t ndrawn)
{
    cairo_t *cr = cv->cr;
    double bw = (pi->xhi - pi->xlo) / nb;
    cairo_save(cr);
    cairo_rectangle(cr, pi->area.x, pi->area.y, pi->area.w, pi->area.h);
    cairo_clip(cr);
    double y0 = cgp_py(pi, 0);
    cairo_move_to(cr, cgp_px(pi, pi->xlo), y0);
    for (int b = 0; b < nb; b++) {
        double yb = cgp_py(pi, counts[b]);
        cairo_line_to(cr, cgp_px(pi, pi->xlo + b * bw), yb);
        cairo_line_to(cr, cgp_px(pi, pi->xlo + (b + 1) * bw), yb);
    }
    cairo_line_to(cr, cgp_px(pi, pi->xhi), y0);
    cairo_close_path(cr);
    cgp_rgb(cr, 0xb9cde5);
    cairo_fill_preserve(cr);
    cgp_rgb(cr, 0x6f8fb8);
    cairo_set_line_width(cr, fmax(1.0, 0.06 * cv->fs));
    cairo_stroke(cr);
    double *curve = malloc((size_t)nb * sizeof *curve);
    if (curve && ndrawn > 0 && make_curve(p, counts, nb, ndrawn, curve) == 0) {
        int pen = 0;
        for (int b = 0; b < nb; b++) {
            if (!isfinite(curve[b])) {
                pen = 0;
                continue;
            }
            double px = cgp_px(pi, pi->xlo + (b + 0.5) * bw);
            double py = cgp_py(pi, curve[b]);
            if (pen)
                cairo_line_to(cr, px, py);
            else
                cairo_move_to(cr, px, py);
            pen = 1;
        }
        cgp_rgb(cr, 0xc2185b);
        cairo_set_line_width(cr, fmax(1.5, 0.13 * cv->fs));
        cairo_stroke(cr);
    }
    free(curve);
    cairo_restore(cr);
}
