/*
 * plot.c -- the canvas under every figure: image allocation, fonts and
 * text, the colour ramp, number formatting, axis ticks (round linear
 * ticks; decades with superscript labels on log-like scales) and axes,
 * panel layout, and the public image accessors.
 *
 * Invariants: an image's surface is ARGB32 and fully opaque (white
 * background, everything drawn over it), so the PNG is deterministic and
 * un-premultiplying is exact.  Text uses cairo's toy font API with "DejaVu
 * Sans", greyscale antialiasing and no hinting, so glyph placement does
 * not depend on the device's hint settings.  Tick labels never overlap:
 * they are placed in priority order (0, then the largest decades) and a
 * label that would collide with an accepted one is dropped.
 *
 * Threading: no globals; one image per thread at a time.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

#ifndef CYTOGATE_VERSION
#define CYTOGATE_VERSION "unknown"
#endif

#define FONT "DejaVu Sans"

/* ---- image ---------------------------------------------------------- */

static int add_text(cg_plot_image *im, const char *k, const char *v)
{
    if (!v || !*v || im->ntext >= CGP_MAX_TEXT)
        return 0;
    im->key[im->ntext] = strdup(k);
    im->val[im->ntext] = strdup(v);
    if (!im->key[im->ntext] || !im->val[im->ntext]) {
        free(im->key[im->ntext]);
        free(im->val[im->ntext]);
        return -1;
    }
    im->ntext++;
    return 0;
}

cg_plot_image *cgp_image_new(int w, int h, const cg_plot_meta *m,
                             cg_err *err)
{
    if (w < 64 || h < 64 || w > 16384 || h > 16384) {
        cg_err_set(err, CG_E_ARG, "plot size %dx%d out of range 64..16384",
                   w, h);
        return NULL;
    }
    cg_plot_image *im = calloc(1, sizeof *im);
    if (!im) {
        cg_err_set(err, CG_E_NOMEM, "out of memory for a %dx%d plot", w, h);
        return NULL;
    }
    im->w = w;
    im->h = h;
    int stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, w);
    im->pix = stride > 0 ? cgp_alloc((size_t)stride * (size_t)h,
                                     &im->pix_from)
                         : NULL;
    if (im->pix)
        im->surf = cairo_image_surface_create_for_data(
            im->pix, CAIRO_FORMAT_ARGB32, w, h, stride);
    if (!im->pix || cairo_surface_status(im->surf) != CAIRO_STATUS_SUCCESS) {
        if (im->surf)
            cairo_surface_destroy(im->surf);
        cgp_release(im->pix, im->pix_from);
        free(im);
        cg_err_set(err, CG_E_NOMEM, "cannot allocate a %dx%d image", w, h);
        return NULL;
    }
    cairo_t *cr = cairo_create(im->surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_destroy(cr);
    int bad = add_text(im, "Software", "cytogate " CYTOGATE_VERSION);
    if (m) {
        bad |= add_text(im, "Sample", m->sample);
        bad |= add_text(im, "Subject", m->subject);
        bad |= add_text(im, "Visit", m->visit);
        bad |= add_text(im, "Population", m->population);
        bad |= add_text(im, "MarkerX", m->x_marker);
        bad |= add_text(im, "MarkerY", m->y_marker);
        bad |= add_text(im, "ConfigHash", m->config_hash);
    }
    if (bad) {
        cg_plot_image_free(im);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    return im;
}

void cg_plot_image_free(cg_plot_image *im)
{
    if (!im)
        return;
    cairo_surface_finish(im->surf); /* no access to pix after this */
    cairo_surface_destroy(im->surf);
    cgp_release(im->pix, im->pix_from);
    free(im->pan);
    for (int i = 0; i < im->ntext; i++) {
        free(im->key[i]);
        free(im->val[i]);
    }
    free(im);
}

int cgp_add_panel(cg_plot_image *im, const cgp_pinfo *pi)
{
    if (im->npan == im->cappan) {
        int cap = im->cappan ? 2 * im->cappan : 8;
        cgp_pinfo *p = realloc(im->pan, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        im->pan = p;
        im->cappan = cap;
    }
    im->pan[im->npan] = *pi;
    return im->npan++;
}

int cg_plot_image_width(const cg_plot_image *im) { return im->w; }
int cg_plot_image_height(const cg_plot_image *im) { return im->h; }
int cg_plot_image_npanels(const cg_plot_image *im) { return im->npan; }

int cg_plot_image_area(const cg_plot_image *im, int i, cg_plot_rect *r)
{
    if (i < 0 || i >= im->npan)
        return -1;
    *r = im->pan[i].area;
    return 0;
}

int cg_plot_image_map(const cg_plot_image *im, int i, double x, double y,
                      double *px, double *py)
{
    if (i < 0 || i >= im->npan)
        return -1;
    *px = cgp_px(&im->pan[i], x);
    *py = cgp_py(&im->pan[i], y);
    return 0;
}

uint32_t cg_plot_image_pixel(const cg_plot_image *im, int x, int y)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h)
        return 0;
    cairo_surface_flush(im->surf);
    const unsigned char *d = cairo_image_surface_get_data(im->surf);
    int stride = cairo_image_surface_get_stride(im->surf);
    uint32_t p;
    memcpy(&p, d + (size_t)y * stride + 4 * (size_t)x, 4);
    return p;
}

int cg_plot_image_write_png(const cg_plot_image *im, const char *path,
                            cg_err *err)
{
    cairo_surface_flush(im->surf);
    return cgp_png_write(path, cairo_image_surface_get_data(im->surf), im->w,
                         im->h, cairo_image_surface_get_stride(im->surf),
                         im->key, im->val, im->ntext, err);
}

void cg_plot_shutdown(void)
{
    cairo_debug_reset_static_data();
    /* fontconfig comes in through cairo; look FcFini up at run time so the
     * build needs no fontconfig dependency of its own */
    void (*fcfini)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, "FcFini");
    memcpy(&fcfini, &sym, sizeof fcfini);
    if (fcfini)
        fcfini();
}

/* ---- drawing context and text --------------------------------------- */

int cgp_cv_begin(cgp_cv *cv, cg_plot_image *im, double fs, cg_err *err)
{
    cv->im = im;
    cv->fs = fs;
    cv->cr = cairo_create(im->surf);
    if (cairo_status(cv->cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cv->cr);
        cv->cr = NULL;
        return cg_err_set(err, CG_E_NOMEM, "cannot create a cairo context");
    }
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cv->cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_antialias(cv->cr, CAIRO_ANTIALIAS_DEFAULT);
    cairo_set_line_join(cv->cr, CAIRO_LINE_JOIN_ROUND);
    return 0;
}

void cgp_cv_end(cgp_cv *cv)
{
    if (cv->cr)
        cairo_destroy(cv->cr);
    cv->cr = NULL;
    cairo_surface_flush(cv->im->surf);
}

void cgp_rgb(cairo_t *cr, uint32_t c)
{
    cairo_set_source_rgb(cr, ((c >> 16) & 255) / 255.0,
                         ((c >> 8) & 255) / 255.0, (c & 255) / 255.0);
}

void cgp_rgba(cairo_t *cr, uint32_t c, double a)
{
    cairo_set_source_rgba(cr, ((c >> 16) & 255) / 255.0,
                          ((c >> 8) & 255) / 255.0, (c & 255) / 255.0, a);
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD
                                : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double cgp_text_width(cgp_cv *cv, const char *s, double size, int bold)
{
    cairo_text_extents_t te;
    set_font(cv->cr, size, bold);
    cairo_text_extents(cv->cr, s, &te);
    return te.x_advance;
}

double cgp_text(cgp_cv *cv, const char *s, double x, double y, double size,
                int bold, double ha, double va, double rot)
{
    cairo_t *cr = cv->cr;
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    set_font(cr, size, bold);
    cairo_text_extents(cr, s, &te);
    cairo_font_extents(cr, &fe);
    double boxh = fe.ascent + fe.descent;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (rot != 0)
        cairo_rotate(cr, -rot);
    cairo_move_to(cr, -ha * te.x_advance, -va * boxh + fe.ascent);
    cairo_show_text(cr, s);
    cairo_restore(cr);
    return te.x_advance;
}

/* ---- colours -------------------------------------------------------- */

uint32_t cgp_ramp(double t)
{
    /* blue, (0,128,255), cyan, green, yellow, orange, red */
    static const double stop[][3] = {
        {0, 0, 200},   {0, 110, 255}, {0, 230, 230}, {40, 220, 40},
        {255, 240, 0}, {255, 140, 0}, {220, 0, 0}};
    const int ns = (int)(sizeof stop / sizeof stop[0]);
    if (!(t > 0))
        t = 0;
    if (t > 1)
        t = 1;
    double f = t * (ns - 1);
    int i = (int)f;
    if (i >= ns - 1)
        i = ns - 2;
    f -= i;
    uint32_t c = 0;
    for (int k = 0; k < 3; k++) {
        double v = stop[i][k] + f * (stop[i + 1][k] - stop[i][k]);
        c = (c << 8) | (uint32_t)lround(v);
    }
    return c;
}

uint32_t cgp_palette(int i)
{
    static const uint32_t pal[] = {
        0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b,
        0xe377c2, 0x17becf, 0xbcbd22, 0x7f7f7f, 0x393b79, 0xad494a,
        0x637939, 0xe7ba52, 0x7b4173, 0x3182bd, 0xe6550d, 0x31a354,
        0x756bb1, 0x636363};
    int n = (int)(sizeof pal / sizeof pal[0]);
    return pal[((i % n) + n) % n];
}

/* ---- numbers -------------------------------------------------------- */

void cgp_fmt_pct(char *buf, size_t cap, double pct)
{
    if (!isfinite(pct))
        snprintf(buf, cap, "NA");
    else if (fabs(pct) >= 10)
        snprintf(buf, cap, "%.1f%%", pct);
    else if (fabs(pct) >= 1)
        snprintf(buf, cap, "%.2f%%", pct);
    else
        snprintf(buf, cap, "%.3f%%", pct);
}

void cgp_fmt_count(char *buf, size_t cap, int64_t n)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)(n < 0 ? -n : n));
    size_t len = strlen(tmp), o = 0;
    char out[48];
    if (n < 0)
        out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        out[o++] = tmp[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            out[o++] = ',';
    }
    out[o] = '\0';
    snprintf(buf, cap, "%s", out);
}

void cgp_fmt_num(char *buf, size_t cap, double v)
{
    char t[32];
    double a = fabs(v);
    if (a < 1e-12)
        snprintf(t, sizeof t, "0");
    else if (a >= 1e6)
        snprintf(t, sizeof t, "%gM", a / 1e6);
    else if (a >= 1e4)
        snprintf(t, sizeof t, "%gK", a / 1e3);
    else
        snprintf(t, sizeof t, "%g", a);
    if (v < 0 && a >= 1e-12)
        snprintf(buf, cap, "\xe2\x88\x92%s", t); /* U+2212 minus */
    else
        snprintf(buf, cap, "%s", t);
}

double cgp_nice_step(double span, double target)
{
    if (!(span > 0) || !(target > 0))
        return 1;
    double raw = span / target;
    double e = pow(10, floor(log10(raw)));
    double m = raw / e;
    double nm = m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10;
    return nm * e;
}

void cgp_nice_range(double lo, double hi, double *out_lo, double *out_hi)
{
    if (!(hi > lo)) {
        double c = isfinite(lo) ? lo : 0;
        lo = c - 1;
        hi = c + 1;
    }
    double st = cgp_nice_step(hi - lo, 5);
    *out_lo = floor(lo / st) * st;
    *out_hi = ceil(hi / st) * st;
    if (*out_hi <= *out_lo)
        *out_hi = *out_lo + st;
}

/* ---- ticks ---------------------------------------------------------- */

static double ax_fwd(const cg_plot_axis *ax, double v)
{
    return ax->fwd ? ax->fwd(ax->scale_ctx, v) : v;
}
static double ax_inv(const cg_plot_axis *ax, double v)
{
    return ax->inv ? ax->inv(ax->scale_ctx, v) : v;
}

void cg_plot_axis_linear(cg_plot_axis *ax, const char *label, double lo,
                         double hi)
{
    memset(ax, 0, sizeof *ax);
    ax->label = label;
    ax->lo = lo;
    ax->hi = hi;
    ax->ticks = CG_PLOT_TICKS_LINEAR;
}

static const char *const SUP[] = {
    "\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3", "\xe2\x81\xb4",
    "\xe2\x81\xb5", "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8",
    "\xe2\x81\xb9"};

/* "10²", "−10³", "10⁻¹" */
static void decade_label(char *buf, size_t cap, int k, int neg)
{
    char t[24] = "";
    int a = k < 0 ? -k : k;
    char digs[16];
    snprintf(digs, sizeof digs, "%d", a);
    snprintf(t, sizeof t, "%s10%s", neg ? "\xe2\x88\x92" : "",
             k < 0 ? "\xe2\x81\xbb" : "");
    for (const char *d = digs; *d; d++)
        strncat(t, SUP[*d - '0'], sizeof t - strlen(t) - 1);
    snprintf(buf, cap, "%s", t);
}

typedef struct tick_cand {
    double v, px;
    int prio; /* lower = label first */
    char label[24];
} tick_cand;

static int cmp_prio(const void *a, const void *b)
{
    const tick_cand *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_v(const void *a, const void *b)
{
    const cgp_tick *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

int cgp_axis_ticks(cgp_cv *cv, const cg_plot_axis *ax, double len_px,
                   double fs, int vertical, cgp_tick *out, int cap)
{
    double lo = ax->lo, hi = ax->hi;
    double ppu = len_px / (hi - lo); /* pixels per transformed unit */
    tick_cand cand[96];
    int nc = 0, nt = 0;
    double eps = 1e-9 * (hi - lo);
    if (ax->ticks == CG_PLOT_TICKS_NONE || !(hi > lo))
        return 0;
    if (ax->ticks == CG_PLOT_TICKS_LINEAR) {
        double r0 = ax_inv(ax, lo), r1 = ax_inv(ax, hi);
        if (r0 > r1) {
            double t = r0;
            r0 = r1;
            r1 = t;
        }
        double target = len_px / (vertical ? 5.0 * fs : 9.0 * fs);
        if (target < 3)
            target = 3;
        if (target > 7)
            target = 7;
        double st = cgp_nice_step(r1 - r0, target);
        double m = st / pow(10, floor(log10(st) + 1e-9));
        double minor = st / (m < 1.5 ? 5 : m < 3 ? 4 : 5);
        for (double k = ceil(r0 / minor - 1e-9); k * minor <= r1 + 1e-9 * st;
             k++) {
            double rv = k * minor, v = ax_fwd(ax, rv);
            if (!isfinite(v) || v < lo - eps || v > hi + eps || nt >= cap)
                continue;
            double q = rv / st;
            int major = fabs(q - nearbyint(q)) < 1e-6;
            if (major && nc < 96) {
                cand[nc].v = v;
                cand[nc].px = (v - lo) * ppu;
                cand[nc].prio = 0;
                cgp_fmt_num(cand[nc].label, sizeof cand[nc].label,
                            fabs(rv) < 1e-9 * st ? 0 : rv);
                nc++;
            } else if (!major) {
                out[nt].v = v;
                out[nt].major = 0;
                out[nt].label[0] = '\0';
                nt++;
            }
        }
    } else {
        double r0 = ax_inv(ax, lo), r1 = ax_inv(ax, hi);
        double z = ax_fwd(ax, 0);
        if (isfinite(z) && z >= lo - eps && z <= hi + eps && nc < 96) {
            cand[nc].v = z;
            cand[nc].px = (z - lo) * ppu;
            cand[nc].prio = 0;
            snprintf(cand[nc].label, sizeof cand[nc].label, "0");
            nc++;
        }
        /* decades on each side, from the largest inwards, while they are
         * at least 4 px apart */
        for (int neg = 0; neg <= 1; neg++) {
            double rmax = neg ? -r0 : r1;
            if (!(rmax > 0))
                continue;
            int ktop = (int)floor(log10(rmax) + 1e-9);
            double prev_px = NAN;
            for (int k = ktop; k >= -6 && nc < 96; k--) {
                double rv = pow(10, k) * (neg ? -1 : 1);
                double v = ax_fwd(ax, rv);
                if (!isfinite(v))
                    break;
                if (v < lo - eps || v > hi + eps)
                    continue;
                double px = (v - lo) * ppu;
                if (isfinite(prev_px) && fabs(px - prev_px) < 0.6 * fs)
                    break;
                if (isfinite(z) && fabs(v - z) * ppu < 0.6 * fs)
                    break;
                /* minors between 10^k and 10^(k+1) when the decade is
                 * wide enough to read them */
                double nv = ax_fwd(ax, rv * 10), v9 = ax_fwd(ax, rv * 9);
                double v2 = ax_fwd(ax, rv * 2);
                /* readable: the tightest gap (9 to 10 on the log part) is
                 * >= 3 px and the decade is not linear-looking (the 1->2
                 * gap clearly wider than 9->10) */
                if (isfinite(nv) && isfinite(v9) && isfinite(v2) &&
                    fabs(nv - v9) * ppu >= 3 &&
                    fabs(v2 - v) > 2.5 * fabs(nv - v9)) {
                    for (int mm = 2; mm <= 9 && nt < cap; mm++) {
                        double mv = ax_fwd(ax, rv * mm);
                        if (isfinite(mv) && mv >= lo - eps && mv <= hi + eps) {
                            out[nt].v = mv;
                            out[nt].major = 0;
                            out[nt].label[0] = '\0';
                            nt++;
                        }
                    }
                }
                cand[nc].v = v;
                cand[nc].px = px;
                cand[nc].prio = 1 + (ktop - k);
                decade_label(cand[nc].label, sizeof cand[nc].label, k, neg);
                nc++;
                prev_px = px;
            }
            /* minors below the lowest positive decade drawn, e.g. 2..9 x
             * 10^k-1 on log scales where that decade is off-axis */
        }
    }
    /* place labels without overlap */
    qsort(cand, (size_t)nc, sizeof cand[0], cmp_prio);
    double acc_lo[96], acc_hi[96];
    int nacc = 0;
    double gap = 0.6 * fs;
    for (int i = 0; i < nc && nt < cap; i++) {
        double ext = vertical ? 1.0 * fs
                              : cgp_text_width(cv, cand[i].label, fs, 0);
        double a = cand[i].px - ext / 2, b = cand[i].px + ext / 2;
        int ok = 1;
        for (int j = 0; j < nacc; j++)
            if (a < acc_hi[j] + gap && b > acc_lo[j] - gap)
                ok = 0;
        out[nt].v = cand[i].v;
        out[nt].major = 1;
        snprintf(out[nt].label, sizeof out[nt].label, "%s",
                 ok ? cand[i].label : "");
        nt++;
        if (ok) {
            acc_lo[nacc] = a;
            acc_hi[nacc] = b;
            nacc++;
        }
    }
    qsort(out, (size_t)nt, sizeof out[0], cmp_v);
    return nt;
}

/* ---- axes and layout ------------------------------------------------ */

#define TICK_FS(cv) (0.82 * (cv)->fs)
#define LABEL_FS(cv) (0.95 * (cv)->fs)

void cgp_draw_axes(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_axis *xa,
                   const cg_plot_axis *ya)
{
    cairo_t *cr = cv->cr;
    const cg_plot_rect *a = &pi->area;
    double fs = cv->fs, lw = fmax(1.0, 0.075 * fs);
    double tmaj = 0.45 * fs, tmin = 0.25 * fs;
    cgp_tick t[160];
    /* frame */
    cgp_rgb(cr, CGP_INK);
    cairo_set_line_width(cr, lw);
    cairo_rectangle(cr, a->x - lw / 2, a->y - lw / 2, a->w + lw, a->h + lw);
    cairo_stroke(cr);
    /* x axis */
    cg_plot_axis xr = *xa;
    xr.lo = pi->xlo;
    xr.hi = pi->xhi;
    int n = cgp_axis_ticks(cv, &xr, a->w, TICK_FS(cv), 0, t, 160);
    double ybase = a->y + a->h + lw / 2;
    for (int i = 0; i < n; i++) {
        double px = cgp_px(pi, t[i].v);
        px = floor(px) + 0.5;
        cairo_move_to(cr, px, ybase);
        cairo_line_to(cr, px, ybase + (t[i].major ? tmaj : tmin));
    }
    cairo_stroke(cr);
    for (int i = 0; i < n; i++)
        if (t[i].label[0])
            cgp_text(cv, t[i].label, cgp_px(pi, t[i].v),
                     ybase + tmaj + 0.15 * fs, TICK_FS(cv), 0, 0.5, 0, 0);
    if (xa->label)
        cgp_text(cv, xa->label, a->x + a->w / 2.0,
                 ybase + tmaj + 0.25 * fs + 1.25 * TICK_FS(cv), LABEL_FS(cv),
                 0, 0.5, 0, 0);
    /* y axis */
    cg_plot_axis yr = *ya;
    yr.lo = pi->ylo;
    yr.hi = pi->yhi;
    n = cgp_axis_ticks(cv, &yr, a->h, TICK_FS(cv), 1, t, 160);
    double xbase = a->x - lw / 2;
    double maxw = 0;
    for (int i = 0; i < n; i++) {
        double py = floor(cgp_py(pi, t[i].v)) + 0.5;
        cairo_move_to(cr, xbase, py);
        cairo_line_to(cr, xbase - (t[i].major ? tmaj : tmin), py);
    }
    cairo_stroke(cr);
    for (int i = 0; i < n; i++)
        if (t[i].label[0]) {
            double w = cgp_text(cv, t[i].label, xbase - tmaj - 0.2 * fs,
                                cgp_py(pi, t[i].v), TICK_FS(cv), 0, 1, 0.5,
                                0);
            maxw = fmax(maxw, w);
        }
    if (ya->label)
        cgp_text(cv, ya->label, xbase - tmaj - 0.45 * fs - fmax(maxw, 2.2 * fs),
                 a->y + a->h / 2.0, LABEL_FS(cv), 0, 0.5, 1, M_PI / 2);
}

void cgp_gridlines(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_axis *ya)
{
    cgp_tick t[160];
    cg_plot_axis yr = *ya;
    yr.lo = pi->ylo;
    yr.hi = pi->yhi;
    int n = cgp_axis_ticks(cv, &yr, pi->area.h, TICK_FS(cv), 1, t, 160);
    cairo_t *cr = cv->cr;
    cgp_rgb(cr, 0xe6e6e6);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < n; i++) {
        if (!t[i].major)
            continue;
        double py = floor(cgp_py(pi, t[i].v)) + 0.5;
        cairo_move_to(cr, pi->area.x, py);
        cairo_line_to(cr, pi->area.x + pi->area.w, py);
    }
    cairo_stroke(cr);
}

cg_plot_rect cgp_panel_area(cgp_cv *cv, double cx, double cy, double cw,
                            double ch, int has_title, int square)
{
    double fs = cv->fs;
    double top = (has_title ? 1.9 : 0.7) * fs;
    double left = 0.45 * fs + 0.2 * fs + 3.3 * TICK_FS(cv) + 0.45 * fs +
                  1.2 * LABEL_FS(cv) + 0.4 * fs;
    double bottom = 0.45 * fs + 0.25 * fs + 1.25 * TICK_FS(cv) +
                    1.3 * LABEL_FS(cv) + 0.5 * fs;
    double right = 1.0 * fs;
    double w = cw - left - right, h = ch - top - bottom;
    double x = cx + left, y = cy + top;
    if (square && w > h) {
        x += (w - h) / 2;
        w = h;
    } else if (square && h > w) {
        y += (h - w) / 2;
        h = w;
    }
    cg_plot_rect r = {(int)lround(x), (int)lround(y), (int)floor(w),
                      (int)floor(h)};
    if (r.w < 8)
        r.w = 8;
    if (r.h < 8)
        r.h = 8;
    return r;
}

/* ---- panels --------------------------------------------------------- */

int cgp_draw_panel(cgp_cv *cv, const cg_plot_panel *p, double cx, double cy,
                   double cw, double ch, int square, cg_err *err)
{
    if (!p->x || p->n < 0)
        return cg_err_set(err, CG_E_ARG, "plot panel '%s': no x values",
                          p->title ? p->title : "");
    if (p->mask && p->mask->n != p->n)
        return cg_err_set(err, CG_E_ARG,
                          "plot panel '%s': mask has %lld events, data %lld",
                          p->title ? p->title : "", (long long)p->mask->n,
                          (long long)p->n);
    if (!(p->xaxis.hi > p->xaxis.lo) ||
        (p->y && !(p->yaxis.hi > p->yaxis.lo)))
        return cg_err_set(err, CG_E_ARG,
                          "plot panel '%s': empty display range",
                          p->title ? p->title : "");
    int64_t ndrawn = p->mask ? cg_bits_count(p->mask) : p->n;
    cgp_pinfo pi;
    pi.area = cgp_panel_area(cv, cx, cy, cw, ch, 1, square);
    pi.xlo = p->xaxis.lo;
    pi.xhi = p->xaxis.hi;
    /* title: "parent  ·  n = 12,345" */
    char cnt[40], title[256];
    cgp_fmt_count(cnt, sizeof cnt, ndrawn);
    snprintf(title, sizeof title, "%s", p->title ? p->title : "");
    double tx = pi.area.x, ty = cy + 0.55 * cv->fs;
    cgp_rgb(cv->cr, CGP_INK);
    double tw = cgp_text(cv, title, tx, ty, 1.0 * cv->fs, 1, 0, 0, 0);
    char sub[64];
    snprintf(sub, sizeof sub, "%sn = %s", title[0] ? "   " : "", cnt);
    cgp_rgb(cv->cr, 0x666666);
    cgp_text(cv, sub, tx + tw, ty + 0.1 * cv->fs, 0.85 * cv->fs, 0, 0, 0, 0);

    cg_plot_axis count_axis;
    if (p->y) {
        pi.ylo = p->yaxis.lo;
        pi.yhi = p->yaxis.hi;
        if (cgp_density(cv->im, &pi, p, err) < 0)
            return -1;
        if (cgp_add_panel(cv->im, &pi) < 0)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        cgp_draw_overlays(cv, &pi, p);
        cgp_draw_axes(cv, &pi, &p->xaxis, &p->yaxis);
    } else {
        int nb = pi.area.w / 4;
        if (nb < 16)
            nb = 16;
        if (nb > 256)
            nb = 256;
        double *counts = calloc((size_t)nb, sizeof *counts);
        if (!counts)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        int64_t nd = cgp_hist_bins(p, nb, counts);
        double cmax = 0;
        for (int i = 0; i < nb; i++)
            cmax = fmax(cmax, counts[i]);
        /* head-room above the peak for range brackets and labels: the
         * peak sits at 70..80% of the height */
        double lo, hi;
        cgp_nice_range(0, cmax > 0 ? cmax * 1.25 : 1, &lo, &hi);
        if (cmax > 0 && hi > cmax * 1.45)
            hi = cmax * 1.3;
        pi.ylo = 0;
        pi.yhi = hi;
        if (cgp_add_panel(cv->im, &pi) < 0) {
            free(counts);
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        }
        cgp_hist_draw(cv, &pi, p, counts, nb, nd);
        free(counts);
        cgp_draw_overlays(cv, &pi, p);
        cg_plot_axis_linear(&count_axis, "Count", 0, hi);
        cgp_draw_axes(cv, &pi, &p->xaxis, &count_axis);
    }
    return 0;
}
