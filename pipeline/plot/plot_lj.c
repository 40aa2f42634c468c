/*
 * plot_lj.c -- Levey-Jennings chart of a batch-control series (see
 * plot_lj.h).
 *
 * Layout: a title line, then one panel per metric stacked vertically,
 * sharing the x axis (batch 1..n, labels under the last panel).  Lines:
 * mean solid grey, +-2 SD dashed amber, +-3 SD dashed red, each labelled
 * at the right edge.  The y range covers every point and the +-3 SD
 * lines.  Output is deterministic (no time, no randomness).
 *
 * Threading: one figure per thread, as the rest of plot/.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"
#include "plot_lj.h"

#define LJ_WARN 0xe8901eu
#define LJ_FAIL 0xd62728u
#define LJ_POINT 0x1f4e9au

static void hline(cgp_cv *cv, const cgp_pinfo *pi, double y, uint32_t c,
                  int dashed, const char *label)
{
    if (!isfinite(y) || y < pi->ylo || y > pi->yhi)
        return;
    cairo_t *cr = cv->cr;
    double py = floor(cgp_py(pi, y)) + 0.5;
    cgp_rgb(cr, c);
    cairo_set_line_width(cr, fmax(1.2, 0.09 * cv->fs));
    double d[2] = {0.6 * cv->fs, 0.4 * cv->fs};
    cairo_set_dash(cr, d, dashed ? 2 : 0, 0);
    cairo_move_to(cr, pi->area.x, py);
    cairo_line_to(cr, pi->area.x + pi->area.w, py);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (*label)
        cgp_text(cv, label, pi->area.x + pi->area.w + 0.4 * cv->fs, py,
                 0.75 * cv->fs, 0, 0, 0.5, 0);
}

static void panel(cgp_cv *cv, const cg_plot_lj *lj, int k, double top,
                  double left, double pw, double ph, int last)
{
    static const char *const ylab[] = {"Treg % of CD4", "Th17 % of CD4",
                                       "Th17 / Treg ratio"};
    cairo_t *cr = cv->cr;
    double fs = cv->fs, mean = lj->mean[k], sd = lj->sd[k];
    int lim = isfinite(mean) && isfinite(sd);
    double lo = INFINITY, hi = -INFINITY;
    int nv = 0;
    for (int i = 0; i < lj->n; i++)
        if (isfinite(lj->v[k][i])) {
            lo = fmin(lo, lj->v[k][i]);
            hi = fmax(hi, lj->v[k][i]);
            nv++;
        }
    if (lim) {
        lo = fmin(lo, mean - 3 * sd);
        hi = fmax(hi, mean + 3 * sd);
    }
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-9 * fmax(1, fabs(hi)))
        hi = lo + fmax(1e-3, 0.1 * fabs(lo)), lo -= fmax(1e-3, 0.1 * fabs(lo));
    double pad = 0.08 * (hi - lo);
    double ylo, yhi;
    cgp_nice_range(lo - pad, hi + pad, &ylo, &yhi);
    cgp_pinfo pi;
    pi.area.x = (int)left;
    pi.area.y = (int)top;
    pi.area.w = (int)pw;
    pi.area.h = (int)ph;
    pi.xlo = 0.5;
    pi.xhi = lj->n + 0.5;
    pi.ylo = ylo;
    pi.yhi = yhi;
    cgp_add_panel(cv->im, &pi);
    /* the batches that set the limits */
    int nf = lj->nfirst < lj->n ? lj->nfirst : lj->n;
    if (nf > 0) {
        cgp_rgba(cr, 0x1f4e9a, 0.07);
        double x0 = cgp_px(&pi, 0.5), x1 = cgp_px(&pi, nf + 0.5);
        cairo_rectangle(cr, x0, pi.area.y, x1 - x0, pi.area.h);
        cairo_fill(cr);
    }
    cg_plot_axis xa, ya;
    cg_plot_axis_linear(&xa, last ? "Batch" : "", pi.xlo, pi.xhi);
    xa.ticks = CG_PLOT_TICKS_NONE;
    cg_plot_axis_linear(&ya, ylab[k], ylo, yhi);
    cgp_gridlines(cv, &pi, &ya);
    if (lim) {
        /* labels only where the lines are a text line apart */
        double gap = sd * pi.area.h / (yhi - ylo);
        int l1 = gap >= 0.9 * fs, l3 = 3 * gap >= 0.9 * fs;
        hline(cv, &pi, mean, 0x555555, 0, "mean");
        hline(cv, &pi, mean + 2 * sd, LJ_WARN, 1, l1 ? "+2 SD" : "");
        hline(cv, &pi, mean - 2 * sd, LJ_WARN, 1,
              l1 ? "\xe2\x88\x92" "2 SD" : "");
        hline(cv, &pi, mean + 3 * sd, LJ_FAIL, 1, l1 ? "+3 SD"
                                                 : l3 ? "\xc2\xb1" "3 SD" : "");
        hline(cv, &pi, mean - 3 * sd, LJ_FAIL, 1,
              l1 ? "\xe2\x88\x92" "3 SD" : "");
    } else {
        char b[96];
        snprintf(b, sizeof b, "establishing limits (%d of %d batches)",
                 nf, lj->nfirst);
        cgp_rgb(cr, 0x666666);
        cgp_text(cv, b, pi.area.x + 0.6 * fs, pi.area.y + 0.5 * fs,
                 0.8 * fs, 0, 0, 0, 0);
    }
    /* the series */
    cgp_rgb(cr, LJ_POINT);
    cairo_set_line_width(cr, fmax(1.2, 0.1 * fs));
    int pen = 0;
    for (int i = 0; i < lj->n; i++) {
        double v = lj->v[k][i];
        if (!isfinite(v))
            continue;
        double px = cgp_px(&pi, i + 1), py = cgp_py(&pi, v);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
    }
    cairo_stroke(cr);
    for (int i = 0; i < lj->n; i++) {
        double v = lj->v[k][i];
        if (!isfinite(v))
            continue;
        double z = lim && sd > 0 ? fabs(v - mean) / sd
                   : lim ? (v == mean ? 0 : INFINITY) : 0;
        uint32_t c = z > 3 ? LJ_FAIL : z > 2 ? LJ_WARN : LJ_POINT;
        cairo_arc(cr, cgp_px(&pi, i + 1), cgp_py(&pi, v), 0.35 * fs, 0,
                  2 * M_PI);
        cgp_rgb(cr, c);
        cairo_fill(cr);
    }
    cgp_draw_axes(cv, &pi, &xa, &ya);
    if (last) {
        cgp_rgb(cr, CGP_INK);
        int step = (int)ceil(5.0 * fs / (pw / lj->n));
        if (step < 1)
            step = 1;
        for (int i = 0; i < lj->n; i += step) {
            char lab[40];
            snprintf(lab, sizeof lab, "%.20s",
                     lj->labels && lj->labels[i] ? lj->labels[i] : "");
            if (!*lab)
                snprintf(lab, sizeof lab, "%d", i + 1);
            cgp_text(cv, lab, cgp_px(&pi, i + 1),
                     pi.area.y + pi.area.h + 0.5 * fs, 0.75 * fs, 0, 0.5, 0,
                     0);
        }
    }
    (void)nv;
}

cg_plot_image *cg_plot_render_lj(const cg_plot_lj *lj, const cg_plot_meta *m,
                                 cg_err *err)
{
    if (!lj || lj->n < 1) {
        cg_err_set(err, CG_E_ARG, "Levey-Jennings chart: no batches");
        return NULL;
    }
    double fs = 14;
    int left = (int)lround(6.5 * fs), right = (int)lround(5 * fs);
    int title_h = (int)lround(3.2 * fs), gap = (int)lround(1.2 * fs);
    int bottom = (int)lround(3.8 * fs);
    int w = 1000, ph = (int)lround(14 * fs);
    int h = title_h + 3 * ph + 2 * gap + bottom;
    cg_plot_image *im = cgp_image_new(w, h, m, err);
    cgp_cv cv;
    if (!im || cgp_cv_begin(&cv, im, fs, err) < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    char title[160];
    snprintf(title, sizeof title, "%.100s \xc2\xb7 %d batch%s \xc2\xb7 "
             "limits from the first %d", lj->title ? lj->title
             : "Batch control", lj->n, lj->n == 1 ? "" : "es", lj->nfirst);
    cgp_rgb(cv.cr, CGP_INK);
    cgp_text(&cv, title, left, 0.8 * fs, 1.2 * fs, 1, 0, 0, 0);
    cgp_provenance(&cv, m, w - 1.0 * fs, 1.0 * fs, 0.7 * fs);
    double pw = w - left - right;
    for (int k = 0; k < 3; k++)
        panel(&cv, lj, k, title_h + k * (ph + gap), left, pw, ph, k == 2);
    cgp_cv_end(&cv);
    return im;
}
