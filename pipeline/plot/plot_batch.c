/*
 * plot_batch.c -- batch figures: batch_frequencies.png (three stacked bar
 * panels sharing the sample axis: Treg % of CD4, Th17 % of CD4, Th17/Treg
 * ratio; bars coloured by QC verdict, failures marked with a cross, NA
 * written as "NA") and longitudinal.png (side-by-side line panels of the
 * ratio and Treg % across visits, one colour per subject).
 *
 * Samples keep the caller's order in the batch figure.  In the
 * longitudinal figure visits are ordered "naturally" (digit runs compare
 * as numbers, so V2 < V10) and subjects by first appearance; a subject's
 * line joins its visits in that order, skipping NA values.  Panel data
 * coordinates: x = sample (or visit) index, y = the value, registered so
 * cg_plot_image_map works on them.
 *
 * Threading: no shared state.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

static const uint32_t QC_COLOUR[] = {
    0x4c72b0, /* pass */
    0xe0a100, /* warn */
    0xd62728, /* fail */
    0x9a9a9a, /* error */
    0x4c72b0  /* not checked */
};

static uint32_t qc_colour(cg_plot_qc_verdict v)
{
    return (unsigned)v <= CG_PLOT_QC_NONE ? QC_COLOUR[v] : QC_COLOUR[0];
}

static void draw_cross(cairo_t *cr, double x, double y, double r)
{
    cairo_move_to(cr, x - r, y - r);
    cairo_line_to(cr, x + r, y + r);
    cairo_move_to(cr, x - r, y + r);
    cairo_line_to(cr, x + r, y - r);
    cairo_stroke(cr);
}

/* Legend swatches left to right from (x, y); returns the end x. */
static double legend(cgp_cv *cv, double x, double y, const char *const *txt,
                     const uint32_t *col, int n)
{
    double fs = 0.85 * cv->fs, sw = 0.9 * fs;
    for (int i = 0; i < n; i++) {
        cgp_rgb(cv->cr, col[i]);
        cairo_rectangle(cv->cr, x, y + 0.15 * fs, sw, sw);
        cairo_fill(cv->cr);
        cgp_rgb(cv->cr, CGP_INK);
        x += sw + 0.35 * fs;
        x += cgp_text(cv, txt[i], x, y, fs, 0, 0, 0, 0) + 1.2 * fs;
    }
    return x;
}

static double value_of(const cg_plot_sample *s, int k)
{
    return k == 0 ? s->treg_pct : k == 1 ? s->th17_pct : s->ratio;
}

cg_plot_image *cg_plot_render_batch(const cg_plot_sample *s, int n,
                                    const cg_plot_meta *m, cg_err *err)
{
    if (!s || n <= 0) {
        cg_err_set(err, CG_E_ARG, "batch plot: no samples");
        return NULL;
    }
    double fs = 15;
    cg_plot_image *probe = cgp_image_new(64, 64, NULL, err);
    if (!probe)
        return NULL;
    cgp_cv pc;
    if (cgp_cv_begin(&pc, probe, fs, err) < 0) {
        cg_plot_image_free(probe);
        return NULL;
    }
    double maxlab = 0;
    for (int i = 0; i < n; i++)
        maxlab = fmax(maxlab, cgp_text_width(&pc, s[i].sample_id
                                                      ? s[i].sample_id
                                                      : "?",
                                             0.75 * fs, 0));
    cgp_cv_end(&pc);
    cg_plot_image_free(probe);
    if (maxlab > 16 * fs)
        maxlab = 16 * fs;
    double slot = n <= 12 ? 4.2 * fs : n <= 40 ? 1.8 * fs : 1.0 * fs;
    int left = (int)lround(6.2 * fs), right = (int)lround(1.5 * fs);
    int plot_w = (int)lround(fmax(slot * n, 46 * fs));
    if (plot_w > 6000)
        plot_w = 6000;
    int w = left + plot_w + right;
    int title_h = (int)lround(3.6 * fs);
    int ph = (int)lround(13 * fs), gap = (int)lround(1.6 * fs);
    int bottom = (int)lround(maxlab * 0.87 + 1.8 * fs);
    int h = title_h + 3 * ph + 2 * gap + bottom;
    cg_plot_image *im = cgp_image_new(w, h, m, err);
    if (!im)
        return NULL;
    cgp_cv cv;
    if (cgp_cv_begin(&cv, im, fs, err) < 0) {
        cg_plot_image_free(im);
        return NULL;
    }
    cairo_t *cr = cv.cr;
    char title[96];
    snprintf(title, sizeof title, "Treg and Th17 frequencies \xc2\xb7 %d sample%s",
             n, n == 1 ? "" : "s");
    cgp_rgb(cr, CGP_INK);
    cgp_text(&cv, title, left, 0.55 * fs, 1.3 * fs, 1, 0, 0, 0);
    static const char *const lt[] = {"QC pass", "warn", "fail \xc3\x97",
                                     "error"};
    static const uint32_t lc[] = {0x4c72b0, 0xe0a100, 0xd62728, 0x9a9a9a};
    legend(&cv, left, 2.1 * fs, lt, lc, 4);
    cgp_provenance(&cv, m, w - right, 0.7 * fs, 0.75 * fs);

    static const char *const ylab[] = {"Treg % of CD4", "Th17 % of CD4",
                                       "Th17 / Treg"};
    for (int k = 0; k < 3; k++) {
        double vmax = 0;
        for (int i = 0; i < n; i++) {
            double v = value_of(&s[i], k);
            if (isfinite(v))
                vmax = fmax(vmax, v);
        }
        double lo, hi;
        cgp_nice_range(0, vmax > 0 ? vmax * 1.12 : 1, &lo, &hi);
        cgp_pinfo pi;
        pi.area.x = left;
        pi.area.y = title_h + k * (ph + gap);
        pi.area.w = plot_w;
        pi.area.h = ph;
        pi.xlo = -0.5;
        pi.xhi = n - 0.5;
        pi.ylo = 0;
        pi.yhi = hi;
        if (cgp_add_panel(im, &pi) < 0) {
            cgp_cv_end(&cv);
            cg_plot_image_free(im);
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            return NULL;
        }
        cg_plot_axis xa, ya;
        cg_plot_axis_linear(&xa, NULL, pi.xlo, pi.xhi);
        xa.ticks = CG_PLOT_TICKS_NONE;
        cg_plot_axis_linear(&ya, ylab[k], 0, hi);
        cgp_gridlines(&cv, &pi, &ya);
        const double bw = 0.72; /* bar width, in sample slots */
        for (int i = 0; i < n; i++) {
            double v = value_of(&s[i], k);
            double x0 = cgp_px(&pi, i - bw / 2), x1 = cgp_px(&pi, i + bw / 2);
            uint32_t c = qc_colour(s[i].qc);
            if (!isfinite(v)) {
                cgp_rgb(cr, 0x999999);
                cgp_text(&cv, "NA", cgp_px(&pi, i), cgp_py(&pi, 0) - 0.2 * fs,
                         fmin(0.7 * fs, fmax(6, (x1 - x0) * 0.9)), 0, 0.5, 1,
                         0);
                continue;
            }
            double y0 = cgp_py(&pi, 0), y1 = cgp_py(&pi, v);
            cgp_rgb(cr, c);
            cairo_rectangle(cr, x0, y1, fmax(1, x1 - x0), y0 - y1);
            cairo_fill(cr);
            if (s[i].qc == CG_PLOT_QC_FAIL) {
                double r = fmin(0.4 * fs, fmax(2, (x1 - x0) * 0.35));
                cairo_set_line_width(cr, fmax(1.5, 0.14 * fs));
                draw_cross(cr, (x0 + x1) / 2, y1 - r - 0.25 * fs, r);
            }
        }
        cgp_draw_axes(&cv, &pi, &xa, &ya);
    }
    /* sample labels under the last panel, rotated, thinned when dense */
    double lfs = 0.75 * fs;
    cgp_pinfo last = im->pan[im->npan - 1];
    int step = (int)ceil(1.3 * lfs / ((double)plot_w / n));
    if (step < 1)
        step = 1;
    for (int i = 0; i < n; i += step) {
        char lab[64];
        snprintf(lab, sizeof lab, "%.40s", s[i].sample_id ? s[i].sample_id
                                                          : "?");
        cgp_rgb(cr, s[i].qc == CG_PLOT_QC_FAIL ? 0xb01010 : CGP_INK);
        cgp_text(&cv, lab, cgp_px(&last, i) + 0.35 * lfs,
                 last.area.y + last.area.h + 0.5 * fs, lfs, 0, 1, 0.5,
                 M_PI / 3);
    }
    cgp_cv_end(&cv);
    return im;
}

/* ---- longitudinal --------------------------------------------------- */

/* Natural order: digit runs compare numerically. */
static int natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        } else {
            int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
            if (ca != cb)
                return ca < cb ? -1 : 1;
            a++;
            b++;
        }
    }
    return (*a != 0) - (*b != 0);
}

static int cmp_natp(const void *x, const void *y)
{
    int c = natcmp(*(const char *const *)x, *(const char *const *)y);
    return c ? c : strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int find_str(const char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return -1;
}

/* The subjects and visits of a longitudinal plot, and its geometry. */
typedef struct lg {
    const cg_plot_sample *s;
    int n;
    const char **subj, **vis;
    int ns, nv;
    double fs;
    int pw, ph, left, gapx, title_h;
} lg;

/* Subject j's line across the visits of panel k (0 ratio, 1 Treg %), a
 * dot per visit, hollow red for a QC failure. */
static void lg_subject(cgp_cv *cv, const lg *g, const cgp_pinfo *pi, int k,
                       int j)
{
    cairo_t *cr = cv->cr;
    double fs = g->fs;
    const cg_plot_sample *s = g->s;
    uint32_t c = cgp_palette(j);
    cgp_rgb(cr, c);
    cairo_set_line_width(cr, fmax(1.5, 0.16 * fs));
    int pen = 0;
    double pts[2][256];
    int np = 0;
    for (int v = 0; v < g->nv; v++) {
        double val = NAN;
        int fail = 0;
        for (int i = 0; i < g->n; i++)
            if (s[i].subject && s[i].visit &&
                strcmp(s[i].subject, g->subj[j]) == 0 &&
                strcmp(s[i].visit, g->vis[v]) == 0) {
                val = k == 0 ? s[i].ratio : s[i].treg_pct;
                fail = s[i].qc == CG_PLOT_QC_FAIL;
                break;
            }
        if (!isfinite(val))
            continue;
        double px = cgp_px(pi, v), py = cgp_py(pi, val);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
        if (np < 256) {
            pts[0][np] = px;
            pts[1][np] = fail ? -py : py; /* sign marks a failure */
            np++;
        }
    }
    cairo_stroke(cr);
    for (int q = 0; q < np; q++) {
        double px = pts[0][q], py = fabs(pts[1][q]);
        cairo_arc(cr, px, py, 0.33 * fs, 0, 2 * M_PI);
        cgp_rgb(cr, pts[1][q] < 0 ? 0xffffff : c);
        cairo_fill_preserve(cr);
        cgp_rgb(cr, pts[1][q] < 0 ? 0xd62728 : c);
        cairo_set_line_width(cr, fmax(1.2, 0.1 * fs));
        cairo_stroke(cr);
    }
}

/* Panel k: 0 the Th17/Treg ratio, 1 Treg % of CD4, by visit. */
static void lg_panel(cgp_cv *cv, cg_plot_image *im, const lg *g, int k)
{
    static const char *const ylab[] = {"Th17 / Treg ratio", "Treg % of CD4"};
    cairo_t *cr = cv->cr;
    double fs = g->fs;
    const cg_plot_sample *s = g->s;
    double vmax = 0;
    for (int i = 0; i < g->n; i++) {
        double v = k == 0 ? s[i].ratio : s[i].treg_pct;
        if (isfinite(v) && s[i].subject && s[i].visit)
            vmax = fmax(vmax, v);
    }
    double lo, hi;
    cgp_nice_range(0, vmax > 0 ? vmax * 1.1 : 1, &lo, &hi);
    cgp_pinfo pi;
    pi.area.x = g->left + k * (g->pw + g->gapx);
    pi.area.y = g->title_h;
    pi.area.w = g->pw;
    pi.area.h = g->ph;
    pi.xlo = -0.5;
    pi.xhi = g->nv - 0.5;
    pi.ylo = 0;
    pi.yhi = hi;
    cgp_add_panel(im, &pi);
    cg_plot_axis xa, ya;
    cg_plot_axis_linear(&xa, "Visit", pi.xlo, pi.xhi);
    xa.ticks = CG_PLOT_TICKS_NONE;
    cg_plot_axis_linear(&ya, ylab[k], 0, hi);
    cgp_gridlines(cv, &pi, &ya);
    for (int j = 0; j < g->ns; j++)
        lg_subject(cv, g, &pi, k, j);
    cgp_draw_axes(cv, &pi, &xa, &ya);
    /* visit labels */
    cgp_rgb(cr, CGP_INK);
    int step = (int)ceil(4.0 * fs / ((double)g->pw / g->nv));
    if (step < 1)
        step = 1;
    for (int v = 0; v < g->nv; v += step) {
        double px = cgp_px(&pi, v);
        cairo_move_to(cr, floor(px) + 0.5, pi.area.y + pi.area.h);
        cairo_line_to(cr, floor(px) + 0.5, pi.area.y + pi.area.h + 0.45 * fs);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        char lab[48];
        snprintf(lab, sizeof lab, "%.24s", g->vis[v]);
        cgp_text(cv, lab, px, pi.area.y + pi.area.h + 0.6 * fs, 0.82 * fs, 0,
                 0.5, 0, 0);
    }
}

/* Legend: one line per subject (then "+N more"), and the QC-fail dot. */
static void lg_legend(cgp_cv *cv, const lg *g)
{
    cairo_t *cr = cv->cr;
    double fs = g->fs;
    double lx = g->left + 2 * g->pw + g->gapx + 1.5 * fs, ly = g->title_h;
    int shown = 0;
    for (int j = 0; j < g->ns; j++) {
        if (ly > g->title_h + g->ph - 2 * fs && j < g->ns - 1) {
            char more[32];
            snprintf(more, sizeof more, "+%d more", g->ns - j);
            cgp_rgb(cr, 0x666666);
            cgp_text(cv, more, lx, ly, 0.8 * fs, 0, 0, 0, 0);
            break;
        }
        cgp_rgb(cr, cgp_palette(j));
        cairo_set_line_width(cr, fmax(1.5, 0.16 * fs));
        cairo_move_to(cr, lx, ly + 0.55 * fs);
        cairo_line_to(cr, lx + 1.6 * fs, ly + 0.55 * fs);
        cairo_stroke(cr);
        cgp_rgb(cr, CGP_INK);
        char lab[48];
        snprintf(lab, sizeof lab, "%.20s", g->subj[j]);
        cgp_text(cv, lab, lx + 2.0 * fs, ly, 0.82 * fs, 0, 0, 0, 0);
        ly += 1.4 * fs;
        shown++;
    }
    if (shown > 0) { /* how failures are drawn */
        ly += 0.6 * fs;
        cairo_arc(cr, lx + 0.8 * fs, ly + 0.55 * fs, 0.33 * fs, 0, 2 * M_PI);
        cgp_rgb(cr, 0xffffff);
        cairo_fill_preserve(cr);
        cgp_rgb(cr, 0xd62728);
        cairo_set_line_width(cr, fmax(1.2, 0.1 * fs));
        cairo_stroke(cr);
        cgp_rgb(cr, 0x555555);
        cgp_text(cv, "QC fail", lx + 2.0 * fs, ly, 0.82 * fs, 0, 0, 0, 0);
    }
}

cg_plot_image *cg_plot_render_longitudinal(const cg_plot_sample *s, int n,
                                           const cg_plot_meta *m,
                                           cg_err *err)
{
    lg g;
    memset(&g, 0, sizeof g);
    g.s = s;
    g.n = n;
    g.subj = calloc((size_t)(n > 0 ? n : 1), sizeof *g.subj);
    g.vis = calloc((size_t)(n > 0 ? n : 1), sizeof *g.vis);
    cg_plot_image *im = NULL;
    if (!g.subj || !g.vis) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!s[i].subject || !*s[i].subject || !s[i].visit || !*s[i].visit)
            continue;
        if (find_str(g.subj, g.ns, s[i].subject) < 0)
            g.subj[g.ns++] = s[i].subject;
        if (find_str(g.vis, g.nv, s[i].visit) < 0)
            g.vis[g.nv++] = s[i].visit;
    }
    if (g.ns == 0) {
        cg_err_set(err, CG_E_DATA,
                   "longitudinal plot: no sample has both subject and visit");
        goto done;
    }
    qsort(g.vis, (size_t)g.nv, sizeof *g.vis, cmp_natp);
    double fs = g.fs = 15;
    g.pw = (int)lround(34 * fs);
    g.ph = (int)lround(26 * fs);
    g.left = (int)lround(6.2 * fs);
    g.gapx = (int)lround(6.8 * fs);
    int legend_w = (int)lround(11 * fs);
    g.title_h = (int)lround(3.2 * fs);
    int bottom = (int)lround(4.2 * fs);
    int w = g.left + g.pw + g.gapx + g.pw + (int)lround(1.5 * fs) + legend_w;
    int h = g.title_h + g.ph + bottom;
    im = cgp_image_new(w, h, m, err);
    cgp_cv cv;
    if (!im || cgp_cv_begin(&cv, im, fs, err) < 0) {
        cg_plot_image_free(im);
        im = NULL;
        goto done;
    }
    char title[96];
    snprintf(title, sizeof title,
             "Per-subject trends \xc2\xb7 %d subject%s \xc2\xb7 %d visit%s",
             g.ns, g.ns == 1 ? "" : "s", g.nv, g.nv == 1 ? "" : "s");
    cgp_rgb(cv.cr, CGP_INK);
    cgp_text(&cv, title, g.left, 0.8 * fs, 1.3 * fs, 1, 0, 0, 0);
    cgp_provenance(&cv, m, w - 1.5 * fs, 1.0 * fs, 0.75 * fs);
    for (int k = 0; k < 2; k++)
        lg_panel(&cv, im, &g, k);
    lg_legend(&cv, &g);
    cgp_cv_end(&cv);
done:
    free(g.subj);
    free(g.vis);
    return im;
}
