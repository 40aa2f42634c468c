/*
 * plot_strategy.c -- whole figures made of data panels: one gate at slide
 * size (plots/<sample>/<population>.png) and the gating strategy grid
 * (plots/<sample>/strategy.png): panels in the caller's order (gate-tree
 * order), row-major, under a title naming sample, subject and visit, with
 * the software version and config hash in small print.
 *
 * When any gate fell back or was overridden, a legend line under the
 * grid says what the dashed amber and purple cuts mean; otherwise the
 * figure has no legend band (and the same bytes as before it existed).
 *
 * Font size follows the cell size, so a panel reads the same at any
 * figure size.  Panels keep a square plot area (dot plots are compared by
 * shape).  Threading: no shared state.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

static double cell_fs(double cw, double ch)
{
    double fs = fmin(cw, ch) / 33.0;
    return fs < 9 ? 9 : fs > 40 ? 40 : fs;
}

cg_plot_image *cg_plot_render_panel(const cg_plot_panel *p,
                                    const cg_plot_meta *m, int w, int h,
                                    cg_err *err)
{
    if (!p) {
        cg_err_set(err, CG_E_ARG, "plot: no panel");
        return NULL;
    }
    if (w <= 0)
        w = CG_PLOT_SLIDE_W;
    if (h <= 0)
        h = CG_PLOT_SLIDE_H;
    cg_plot_image *im = cgp_image_new(w, h, m, err);
    if (!im)
        return NULL;
    cgp_cv cv;
    if (cgp_cv_begin(&cv, im, cell_fs(w, h), err) < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    int rc = cgp_draw_panel(&cv, p, 0, 0, w, h, 1, err);
    cgp_cv_end(&cv);
    if (rc < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    return im;
}

int cg_plot_panel_png(const cg_plot_panel *p, const cg_plot_meta *m, int w,
                      int h, const char *path, cg_err *err)
{
    cg_plot_image *im = cg_plot_render_panel(p, m, w, h, err);
    if (!im)
        return -1;
    int rc = cg_plot_image_write_png(im, path, err);
    cg_plot_image_free(im);
    return rc;
}

/* "Sample S1  ·  subject P01  ·  visit V2" */
static void strategy_title(char *buf, size_t cap, const cg_plot_meta *m)
{
    buf[0] = '\0';
    if (!m)
        return;
    size_t o = 0;
    const char *sep = "  \xc2\xb7  ";
    if (m->sample && *m->sample)
        o += (size_t)snprintf(buf + o, cap - o, "Sample %s", m->sample);
    if (o < cap && m->subject && *m->subject)
        o += (size_t)snprintf(buf + o, cap - o, "%ssubject %s",
                              o ? sep : "", m->subject);
    if (o < cap && m->visit && *m->visit)
        snprintf(buf + o, cap - o, "%svisit %s", o ? sep : "", m->visit);
}

void cgp_provenance(cgp_cv *cv, const cg_plot_meta *m, double x, double y,
                    double fs)
{
    char buf[160];
    if (m && m->config_hash && *m->config_hash)
        snprintf(buf, sizeof buf, "cytogate %s  \xc2\xb7  config %.12s",
                 CYTOGATE_VERSION, m->config_hash);
    else
        snprintf(buf, sizeof buf, "cytogate %s", CYTOGATE_VERSION);
    cgp_rgb(cv->cr, 0x888888);
    cgp_text(cv, buf, x, y, fs, 0, 1, 0, 0);
}

/* "dashed = fallback (auto rule did not apply);  purple = manual
 * override", each after a short sample of its stroke, left-aligned at
 * (x, y) (vertical middle). */
static void strategy_legend(cgp_cv *cv, double x, double y)
{
    cairo_t *cr = cv->cr;
    double fs = 0.85 * cv->fs, len = 2.4 * cv->fs;
    double lw = fmax(1.5, 0.11 * cv->fs);
    cairo_new_path(cr);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + len, y);
    cgp_stroke_cut(cv, CG_PLOT_CUT_FALLBACK, lw);
    x += len + 0.4 * cv->fs;
    cgp_rgb(cr, CGP_INK);
    x += cgp_text(cv, "dashed = fallback (auto rule did not apply);", x, y,
                  fs, 0, 0, 0.5, 0);
    x += 1.2 * cv->fs;
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + len, y);
    cgp_stroke_cut(cv, CG_PLOT_CUT_OVERRIDE, lw);
    x += len + 0.4 * cv->fs;
    cgp_rgb(cr, CGP_INK);
    cgp_text(cv, "purple = manual override", x, y, fs, 0, 0, 0.5, 0);
}

cg_plot_image *cg_plot_render_strategy(const cg_plot_panel *panels, int n,
                                       const cg_plot_meta *m, int ncols,
                                       int cell_w, int cell_h, cg_err *err)
{
    if (!panels || n <= 0) {
        cg_err_set(err, CG_E_ARG, "strategy plot: no panels");
        return NULL;
    }
    if (cell_w <= 0)
        cell_w = CG_PLOT_CELL_W;
    if (cell_h <= 0)
        cell_h = CG_PLOT_CELL_H;
    if (ncols <= 0) {
        ncols = (int)ceil(sqrt((double)n));
        if (ncols > 4)
            ncols = 4;
    }
    if (ncols > n)
        ncols = n;
    int nrows = (n + ncols - 1) / ncols;
    double fs = cell_fs(cell_w, cell_h);
    int title_h = (int)lround(3.0 * fs);
    int margin = (int)lround(0.6 * fs);
    int w = ncols * cell_w + 2 * margin;
    int flagged = cg_plot_panels_flagged(panels, n);
    int legend_h = flagged ? (int)lround(1.8 * fs) : 0;
    int h = nrows * cell_h + title_h + margin + legend_h;
    cg_plot_image *im = cgp_image_new(w, h, m, err);
    if (!im)
        return NULL;
    cgp_cv cv;
    if (cgp_cv_begin(&cv, im, fs, err) < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    char title[512];
    strategy_title(title, sizeof title, m);
    if (!title[0])
        snprintf(title, sizeof title, "Gating strategy");
    cgp_rgb(cv.cr, CGP_INK);
    cgp_text(&cv, title, margin + 0.6 * fs, 0.75 * fs, 1.45 * fs, 1, 0, 0, 0);
    cgp_provenance(&cv, m, w - margin - 0.6 * fs, 1.05 * fs, 0.75 * fs);
    cairo_t *cr = cv.cr;
    cgp_rgb(cr, 0xdddddd);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, margin, title_h - 0.5);
    cairo_line_to(cr, w - margin, title_h - 0.5);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        int r = i / ncols, c = i % ncols;
        if (cgp_draw_panel(&cv, &panels[i], margin + c * cell_w,
                           title_h + r * cell_h, cell_w, cell_h, 1,
                           err) < 0) {
            cgp_cv_end(&cv);
            cg_plot_image_free(im);
            return NULL;
        }
    }
    if (flagged)
        strategy_legend(&cv, margin + 0.6 * fs,
                        title_h + nrows * cell_h + 0.5 * legend_h);
    cgp_cv_end(&cv);
    return im;
}

int cg_plot_strategy_png(const cg_plot_panel *panels, int n,
                         const cg_plot_meta *m, const char *path,
                         cg_err *err)
{
    cg_plot_image *im = cg_plot_render_strategy(panels, n, m, 0, 0, 0, err);
    if (!im)
        return -1;
    int rc = cg_plot_image_write_png(im, path, err);
    cg_plot_image_free(im);
    return rc;
}
