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
#include <stdlib.h>
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

/* A strategy figure being drawn panel by panel. */
struct cg_plot_strategy {
    cg_plot_image *im;
    cgp_cv cv;
    int n, ncols, nrows, next, flagged;
    int cell_w, cell_h, title_h, margin, legend_h;
    double fs;
};

cg_plot_strategy *cg_plot_strategy_begin(int n, int flagged,
                                         const cg_plot_meta *m, int ncols,
                                         int cell_w, int cell_h, cg_err *err)
{
    if (n <= 0) {
        cg_err_set(err, CG_E_ARG, "strategy plot: no panels");
        return NULL;
    }
    cg_plot_strategy *st = calloc(1, sizeof *st);
    if (!st) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
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
    st->n = n;
    st->ncols = ncols;
    st->nrows = (n + ncols - 1) / ncols;
    st->cell_w = cell_w;
    st->cell_h = cell_h;
    st->flagged = flagged;
    double fs = st->fs = cell_fs(cell_w, cell_h);
    st->title_h = (int)lround(3.0 * fs);
    st->margin = (int)lround(0.6 * fs);
    int w = ncols * cell_w + 2 * st->margin;
    st->legend_h = flagged ? (int)lround(1.8 * fs) : 0;
    int h = st->nrows * cell_h + st->title_h + st->margin + st->legend_h;
    if (!(st->im = cgp_image_new(w, h, m, err))) {
        free(st);
        return NULL;
    }
    cgp_cv *cv = &st->cv;
    if (cgp_cv_begin(cv, st->im, fs, err) < 0) {
        cg_plot_image_free(st->im);
        free(st);
        return NULL;
    }
    char title[512];
    strategy_title(title, sizeof title, m);
    if (!title[0])
        snprintf(title, sizeof title, "Gating strategy");
    cgp_rgb(cv->cr, CGP_INK);
    cgp_text(cv, title, st->margin + 0.6 * fs, 0.75 * fs, 1.45 * fs, 1, 0, 0,
             0);
    cgp_provenance(cv, m, w - st->margin - 0.6 * fs, 1.05 * fs, 0.75 * fs);
    cairo_t *cr = cv->cr;
    cgp_rgb(cr, 0xdddddd);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, st->margin, st->title_h - 0.5);
    cairo_line_to(cr, w - st->margin, st->title_h - 0.5);
    cairo_stroke(cr);
    return st;
}

int cg_plot_strategy_add(cg_plot_strategy *st, const cg_plot_panel *p,
                         cg_err *err)
{
    if (st->next >= st->n)
        return cg_err_set(err, CG_E_ARG, "strategy plot: more panels than "
                          "the %d announced", st->n);
    int i = st->next++, r = i / st->ncols, c = i % st->ncols;
    return cgp_draw_panel(&st->cv, p, st->margin + c * st->cell_w,
                          st->title_h + r * st->cell_h, st->cell_w,
                          st->cell_h, 1, err) < 0 ? -1 : 0;
}

cg_plot_image *cg_plot_strategy_end(cg_plot_strategy *st)
{
    if (!st)
        return NULL;
    cg_plot_image *im = st->im;
    if (st->flagged)
        strategy_legend(&st->cv, st->margin + 0.6 * st->fs,
                        st->title_h + st->nrows * st->cell_h +
                            0.5 * st->legend_h);
    cgp_cv_end(&st->cv);
    free(st);
    return im;
}

void cg_plot_strategy_free(cg_plot_strategy *st)
{
    if (!st)
        return;
    cgp_cv_end(&st->cv);
    cg_plot_image_free(st->im);
    free(st);
}

cg_plot_image *cg_plot_render_strategy(const cg_plot_panel *panels, int n,
                                       const cg_plot_meta *m, int ncols,
                                       int cell_w, int cell_h, cg_err *err)
{
    if (!panels || n <= 0) {
        cg_err_set(err, CG_E_ARG, "strategy plot: no panels");
        return NULL;
    }
    cg_plot_strategy *st =
        cg_plot_strategy_begin(n, cg_plot_panels_flagged(panels, n), m,
                               ncols, cell_w, cell_h, err);
    for (int i = 0; st && i < n; i++)
        if (cg_plot_strategy_add(st, &panels[i], err) < 0) {
            cg_plot_strategy_free(st);
            return NULL;
        }
    return cg_plot_strategy_end(st);
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
