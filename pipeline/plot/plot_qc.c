/*
 * plot_qc.c -- the per-sample QC figure (plots/<sample>/qc.png): the event
 * rate over time with anomalous bins shaded and the accepted band dashed,
 * then one small panel per channel with its median over consecutive event
 * bins (flagged time bins shaded there too, drifting channels titled in
 * red).
 *
 * Without a time channel (nbins 0) the rate panel is replaced by a note
 * saying the rate check was skipped, and the medians use event index.
 * The medians share the time axis and its shading only when med_x is in
 * time units (med_x_label NULL); otherwise they get their own x range.
 * Panel data coordinates are the caller's units (registered for
 * cg_plot_image_map): panel 0 = rate (when present), then the channels.
 *
 * Threading: no shared state.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "plot_internal.h"

#define SHADE 0xf6c9c9u

static void shade_bins(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_qc *q)
{
    cairo_t *cr = cv->cr;
    cairo_save(cr);
    cairo_rectangle(cr, pi->area.x, pi->area.y, pi->area.w, pi->area.h);
    cairo_clip(cr);
    cgp_rgb(cr, SHADE);
    for (int i = 0; i < q->nbins; i++) {
        if (!q->flagged || !q->flagged[i])
            continue;
        double x0 = cgp_px(pi, q->t[i]), x1 = cgp_px(pi, q->t[i + 1]);
        cairo_rectangle(cr, x0, pi->area.y, fmax(1, x1 - x0), pi->area.h);
    }
    cairo_fill(cr);
    cairo_restore(cr);
}

static void finite_range(const double *v, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = fmin(*lo, v[i]);
            *hi = fmax(*hi, v[i]);
        }
}

/* Layout of the figure, in pixels (fs: the base font size). */
typedef struct qc_layout {
    double fs;
    int ncol, nrow, left, right, w, title_h, rate_h, top_block, cell_h;
} qc_layout;

/* The event-rate panel at y: rate per bin as steps, flagged bins shaded,
 * the accepted band dashed. */
static void draw_rate(cgp_cv *cv, cg_plot_image *im, const cg_plot_qc *q,
                      const qc_layout *L, double y, const char *tl)
{
    cairo_t *cr = cv->cr;
    double fs = L->fs;
    double rlo, rhi, lo, hi;
    finite_range(q->rate, q->nbins, &rlo, &rhi);
    if (isfinite(q->rate_hi))
        rhi = fmax(rhi, q->rate_hi);
    cgp_nice_range(0, isfinite(rhi) && rhi > 0 ? rhi * 1.1 : 1, &lo, &hi);
    cgp_pinfo pi;
    pi.area.x = L->left;
    pi.area.y = (int)y + (int)lround(0.6 * fs);
    pi.area.w = L->w - L->left - L->right;
    pi.area.h = L->rate_h;
    pi.xlo = q->t[0];
    pi.xhi = q->t[q->nbins];
    if (!(pi.xhi > pi.xlo))
        pi.xhi = pi.xlo + 1;
    pi.ylo = 0;
    pi.yhi = hi;
    cgp_add_panel(im, &pi);
    cg_plot_axis xa, ya;
    cg_plot_axis_linear(&xa, tl, pi.xlo, pi.xhi);
    cg_plot_axis_linear(&ya, "Events / s", 0, hi);
    shade_bins(cv, &pi, q);
    cgp_gridlines(cv, &pi, &ya);
    cairo_save(cr);
    cairo_rectangle(cr, pi.area.x, pi.area.y, pi.area.w, pi.area.h);
    cairo_clip(cr);
    if (isfinite(q->rate_lo) || isfinite(q->rate_hi)) {
        double dash = 0.4 * fs;
        cairo_set_dash(cr, &dash, 1, 0);
        cgp_rgb(cr, 0x888888);
        cairo_set_line_width(cr, 1.2);
        if (isfinite(q->rate_lo)) {
            cairo_move_to(cr, pi.area.x, cgp_py(&pi, q->rate_lo));
            cairo_line_to(cr, pi.area.x + pi.area.w, cgp_py(&pi, q->rate_lo));
        }
        if (isfinite(q->rate_hi)) {
            cairo_move_to(cr, pi.area.x, cgp_py(&pi, q->rate_hi));
            cairo_line_to(cr, pi.area.x + pi.area.w, cgp_py(&pi, q->rate_hi));
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    int pen = 0;
    for (int i = 0; i < q->nbins; i++) {
        if (!isfinite(q->rate[i])) {
            pen = 0;
            continue;
        }
        double py = cgp_py(&pi, q->rate[i]);
        double x0 = cgp_px(&pi, q->t[i]), x1 = cgp_px(&pi, q->t[i + 1]);
        if (pen)
            cairo_line_to(cr, x0, py);
        else
            cairo_move_to(cr, x0, py);
        cairo_line_to(cr, x1, py);
        pen = 1;
    }
    cgp_rgb(cr, 0x1f4e99);
    cairo_set_line_width(cr, fmax(1.2, 0.11 * fs));
    cairo_stroke(cr);
    cairo_restore(cr);
    cgp_draw_axes(cv, &pi, &xa, &ya);
    cgp_rgb(cr, CGP_INK);
    cgp_text(cv, "Event rate", pi.area.x + 0.5 * fs, pi.area.y + 0.4 * fs,
             0.9 * fs, 1, 0, 0, 0);
}

/* The data ranges of channel c's median panel: x over med_x (or the time
 * axis when time_x), y padded around the medians. */
static void median_ranges(const cg_plot_qc *q, const double *row, int time_x,
                          cgp_pinfo *pi)
{
    double xlo, xhi, vlo, vhi;
    finite_range(q->med_x, q->nmed, &xlo, &xhi);
    if (time_x) {
        xlo = q->t[0];
        xhi = q->t[q->nbins];
    }
    if (!(xhi > xlo)) {
        xlo = isfinite(xlo) ? xlo - 1 : 0;
        xhi = xlo + 2;
    }
    finite_range(row, q->nmed, &vlo, &vhi);
    if (!(vhi >= vlo)) {
        vlo = 0;
        vhi = 1;
    }
    double pad = fmax((vhi - vlo) * 0.25, fmax(fabs(vhi), 1e-3) * 0.02);
    double ylo, yhi;
    cgp_nice_range(vlo - pad, vhi + pad, &ylo, &yhi);
    pi->xlo = xlo;
    pi->xhi = xhi;
    pi->ylo = ylo;
    pi->yhi = yhi;
}

/* Channel c's median panel in the grid below y; its title turns red with
 * "drift" when the channel is flagged. */
static void draw_median(cgp_cv *cv, cg_plot_image *im, const cg_plot_qc *q,
                        const qc_layout *L, double y, int c, int time_x,
                        const char *mxl)
{
    cairo_t *cr = cv->cr;
    double fs = L->fs;
    double cw = (double)(L->w - L->left - L->right + (int)lround(5.4 * fs)) /
                L->ncol;
    int r = c / L->ncol, k = c % L->ncol;
    const double *row = q->med + (size_t)c * q->nmed;
    cgp_pinfo pi;
    pi.area.x = (int)lround(L->left + k * cw);
    pi.area.y = (int)lround(y + r * L->cell_h + 1.8 * fs);
    pi.area.w = (int)lround(cw - 5.4 * fs);
    pi.area.h = (int)lround(L->cell_h - 5.4 * fs);
    median_ranges(q, row, time_x, &pi);
    cgp_add_panel(im, &pi);
    cg_plot_axis xa, ya;
    int bottom_row = r == L->nrow - 1 || c + L->ncol >= q->nchan;
    cg_plot_axis_linear(&xa, bottom_row ? mxl : NULL, pi.xlo, pi.xhi);
    cg_plot_axis_linear(&ya, NULL, pi.ylo, pi.yhi);
    if (time_x)
        shade_bins(cv, &pi, q);
    cgp_gridlines(cv, &pi, &ya);
    cairo_save(cr);
    cairo_rectangle(cr, pi.area.x, pi.area.y, pi.area.w, pi.area.h);
    cairo_clip(cr);
    int pen = 0;
    for (int i = 0; i < q->nmed; i++) {
        if (!isfinite(row[i]) || !isfinite(q->med_x[i])) {
            pen = 0;
            continue;
        }
        double px = cgp_px(&pi, q->med_x[i]), py = cgp_py(&pi, row[i]);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
    }
    int bad = q->chan_flag && q->chan_flag[c];
    cgp_rgb(cr, bad ? 0xc0392b : 0x2c7a3f);
    cairo_set_line_width(cr, fmax(1.2, 0.11 * fs));
    cairo_stroke(cr);
    cairo_restore(cr);
    cgp_draw_axes(cv, &pi, &xa, &ya);
    char name[96];
    snprintf(name, sizeof name, "%s%s",
             q->chan_names && q->chan_names[c] ? q->chan_names[c] : "?",
             bad ? "  \xe2\x80\x94 drift" : "");
    cgp_rgb(cr, bad ? 0xb01010 : CGP_INK);
    cgp_text(cv, name, pi.area.x, pi.area.y - 1.45 * fs, 0.9 * fs, 1, 0, 0,
             0);
}

/* Title "QC · sample", the flagged share, provenance. */
static void draw_title(cgp_cv *cv, const cg_plot_qc *q, const cg_plot_meta *m,
                       const qc_layout *L)
{
    cairo_t *cr = cv->cr;
    double fs = L->fs;
    char title[256], pct[32] = "";
    if (isfinite(q->pct_flagged))
        cgp_fmt_pct(pct, sizeof pct, q->pct_flagged);
    snprintf(title, sizeof title, "QC%s%s", m && m->sample ? " \xc2\xb7 " : "",
             m && m->sample ? m->sample : "");
    cgp_rgb(cr, CGP_INK);
    double tw = cgp_text(cv, title, L->left, 0.8 * fs, 1.3 * fs, 1, 0, 0, 0);
    if (pct[0]) {
        char sub[96];
        snprintf(sub, sizeof sub, "   %s of events in flagged time bins", pct);
        cgp_rgb(cr, q->pct_flagged > 0 ? 0xb01010 : 0x666666);
        cgp_text(cv, sub, L->left + tw, 0.95 * fs, 0.95 * fs, 0, 0, 0, 0);
    }
    cgp_provenance(cv, m, L->w - L->right, 1.0 * fs, 0.75 * fs);
}

cg_plot_image *cg_plot_render_qc(const cg_plot_qc *q, const cg_plot_meta *m,
                                 cg_err *err)
{
    if (!q || q->nbins < 0 || q->nchan < 0 || q->nmed < 0 ||
        (q->nbins > 0 && (!q->t || !q->rate)) ||
        (q->nchan > 0 && q->nmed > 0 && (!q->med || !q->med_x))) {
        cg_err_set(err, CG_E_ARG, "QC plot: inconsistent description");
        return NULL;
    }
    qc_layout L;
    double fs = L.fs = 15;
    L.ncol = q->nchan < 3 ? (q->nchan > 0 ? q->nchan : 1) : 3;
    L.nrow = (q->nchan + L.ncol - 1) / L.ncol;
    L.left = (int)lround(6.2 * fs);
    L.right = (int)lround(1.5 * fs);
    L.w = (int)lround(92 * fs);
    L.title_h = (int)lround(3.4 * fs);
    L.rate_h = (int)lround(15 * fs);
    int note_h = (int)lround(3 * fs);
    L.top_block = q->nbins > 0 ? L.rate_h + (int)lround(5.2 * fs) : note_h;
    L.cell_h = (int)lround(12.5 * fs);
    int h = L.title_h + L.top_block + L.nrow * L.cell_h +
            (int)lround(0.8 * fs);
    cg_plot_image *im = cgp_image_new(L.w, h, m, err);
    cgp_cv cv;
    if (!im || cgp_cv_begin(&cv, im, fs, err) < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    draw_title(&cv, q, m, &L);
    const char *tl = q->time_label ? q->time_label : "Time (s)";
    double y = L.title_h;
    if (q->nbins > 0) {
        draw_rate(&cv, im, q, &L, y, tl);
    } else {
        cgp_rgb(cv.cr, 0x8a5a00);
        cgp_text(&cv,
                 "No time channel: the flow-rate check was skipped "
                 "(medians are over event order).",
                 L.left, y + 0.6 * fs, 0.95 * fs, 0, 0, 0, 0);
    }
    y += L.top_block;
    /* channel medians share the time axis (and its shading) unless the
     * caller gave them units of their own (med_x_label) */
    int time_x = q->nbins > 0 && !q->med_x_label;
    const char *mxl = q->med_x_label ? q->med_x_label
                      : q->nbins > 0 ? tl
                                     : "Event";
    for (int c = 0; c < q->nchan; c++)
        draw_median(&cv, im, q, &L, y, c, time_x, mxl);
    cgp_cv_end(&cv);
    return im;
}
