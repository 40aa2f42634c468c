/*
 * plot_internal.h -- what the plot_*.c files share: the image struct, the
 * drawing context, text and tick helpers, the colour ramp, and the PNG
 * writer.  Not a public header; only pipeline/plot*.c and png_write.c
 * include it.
 *
 * Coordinates: everything is drawn in device pixels (cairo user space =
 * pixels).  Sizes that should scale with the figure (fonts, line widths,
 * tick lengths) are multiples of cgp_cv.fs, the base font size in pixels.
 */
#ifndef CG_PLOT_INTERNAL_H
#define CG_PLOT_INTERNAL_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

#include "plot.h"

#define CGP_MAX_TEXT 8

typedef struct cgp_pinfo {
    cg_plot_rect area;     /* plot area, pixels */
    double xlo, xhi;       /* data range mapped onto area (x) */
    double ylo, yhi;       /* (y) */
} cgp_pinfo;

struct cg_plot_image {
    cairo_surface_t *surf; /* ARGB32, opaque white background */
    unsigned char *pix;    /* its pixels (cgp_alloc) */
    cg_plot_mem *pix_from;
    int w, h;
    int npan, cappan;
    cgp_pinfo *pan;
    int ntext;
    char *key[CGP_MAX_TEXT]; /* owned copies */
    char *val[CGP_MAX_TEXT];
};

typedef struct cgp_cv {
    cg_plot_image *im;
    cairo_t *cr;
    double fs;             /* base font size, pixels */
} cgp_cv;

/* Colours as 0xRRGGBB. */
#define CGP_INK 0x202020u      /* axes, text */
#define CGP_GATE 0x000000u     /* gate outlines */
#define CGP_GRID 0xd8d8d8u
/* Cuts that were not placed by the configured rule (plot_gates.c): the
 * amber has some blue and the purple little red, so neither occurs in
 * the density ramp or its blends with black and white (tests rely on it). */
#define CGP_FALLBACK 0xe8901eu      /* fallback cut: amber, dashed */
#define CGP_FALLBACK_TEXT 0xa86200u /* its label, darker for contrast */
#define CGP_OVERRIDE 0x8e24aau      /* overridden cut: purple, thicker */
#define CGP_AUTOCUT 0x7a7a7au       /* where the auto gate would have cut */
#define CGP_DEBRIS 0x555555u        /* scatter gate's debris cut */

/* A big buffer (n bytes, 64-aligned when lent) from the calling
 * thread's cg_plot_mem, else malloc; *from says which, for cgp_release.
 * NULL when out of memory. */
void *cgp_alloc(size_t n, cg_plot_mem **from);
void cgp_release(void *p, cg_plot_mem *from);

/* Image with a white background and meta copied into tEXt entries
 * (Software is always first).  NULL with err on no memory. */
cg_plot_image *cgp_image_new(int w, int h, const cg_plot_meta *m,
                             cg_err *err);
/* Context with fonts set up; 0 or < 0 with err.  cgp_cv_end destroys
 * the cairo context and flushes the surface. */
int cgp_cv_begin(cgp_cv *cv, cg_plot_image *im, double fs, cg_err *err);
void cgp_cv_end(cgp_cv *cv);
/* Register a panel's plot area for cg_plot_image_map; its index or -1. */
int cgp_add_panel(cg_plot_image *im, const cgp_pinfo *pi);

void cgp_rgb(cairo_t *cr, uint32_t rgb);
void cgp_rgba(cairo_t *cr, uint32_t rgb, double a);

/* Text: size in pixels; ha 0 left, .5 centre, 1 right; va 0 top, .5
 * middle, 1 bottom (of the font's ascent..descent box); rot radians
 * counter-clockwise about (x, y).  Returns the text width. */
double cgp_text(cgp_cv *cv, const char *s, double x, double y, double size,
                int bold, double ha, double va, double rot);
double cgp_text_width(cgp_cv *cv, const char *s, double size, int bold);

/* Blue -> cyan -> green -> yellow -> red, t in [0, 1], as 0xRRGGBB. */
uint32_t cgp_ramp(double t);
/* 20-colour categorical palette (subjects). */
uint32_t cgp_palette(int i);

/* Ticks of one axis. */
typedef struct cgp_tick {
    double v;        /* position, transformed units */
    int major;
    char label[24];  /* "" = no label */
} cgp_tick;
/* Ticks for axis ax whose plot length is len_px pixels, with labels of
 * font size fs that must not overlap (sep: minimum gap in pixels between
 * labels along the axis; label extents measured with cv, vertical: use
 * the font height instead of widths).  Returns the count (<= cap). */
int cgp_axis_ticks(cgp_cv *cv, const cg_plot_axis *ax, double len_px,
                   double fs, int vertical, cgp_tick *out, int cap);

/* Draw the frame, ticks, tick labels and axis titles of a plot area. */
void cgp_draw_axes(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_axis *xa,
                   const cg_plot_axis *ya);

/* Light horizontal grid lines at the major ticks of ya. */
void cgp_gridlines(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_axis *ya);

/* Layout of a panel inside a cell: title band, axis margins; square plot
 * area when square != 0.  Returns the plot area (integer pixels). */
cg_plot_rect cgp_panel_area(cgp_cv *cv, double cx, double cy, double cw,
                            double ch, int has_title, int square);

/* Draw a whole data panel (title, density or histogram, overlays, axes)
 * inside the cell; registers it.  0 or < 0 with err. */
int cgp_draw_panel(cgp_cv *cv, const cg_plot_panel *p, double cx, double cy,
                   double cw, double ch, int square, cg_err *err);

/* plot_density.c: bin, smooth and colour the events of a 2-D panel into
 * the image surface inside pi->area.  0 or < 0 (no memory). */
int cgp_density(cg_plot_image *im, const cgp_pinfo *pi,
                const cg_plot_panel *p, cg_err *err);

/* plot_hist.c: histogram bins of the masked x values inside [xlo, xhi]
 * (nb bins); returns the drawn event count, fills counts[nb]. */
int64_t cgp_hist_bins(const cg_plot_panel *p, int nb, double *counts);
/* Draw histogram + curve in pi (pi->ylo..yhi are counts). */
void cgp_hist_draw(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_panel *p,
                   const double *counts, int nb, int64_t ndrawn);

/* plot_gates.c: outlines and labels of the panel's overlays. */
void cgp_draw_overlays(cgp_cv *cv, const cgp_pinfo *pi,
                       const cg_plot_panel *p);
/* plot_gates.c: stroke the current path in the style of cut c (colour,
 * width from lw, dashes); the path is consumed. */
void cgp_stroke_cut(cgp_cv *cv, cg_plot_cut c, double lw);
/* Dash lengths of a fallback cut and the legend's sample of it. */
void cgp_fallback_dash(const cgp_cv *cv, double dash[2]);

/* Data -> pixel inside pi. */
static inline double cgp_px(const cgp_pinfo *pi, double x)
{
    return pi->area.x + (x - pi->xlo) / (pi->xhi - pi->xlo) * pi->area.w;
}
static inline double cgp_py(const cgp_pinfo *pi, double y)
{
    return pi->area.y + pi->area.h -
           (y - pi->ylo) / (pi->yhi - pi->ylo) * pi->area.h;
}

/* plot_strategy.c: "cytogate 0.1.0 · config abcdef" right-aligned at
 * (x, y) (top), grey, font size fs. */
void cgp_provenance(cgp_cv *cv, const cg_plot_meta *m, double x, double y,
                    double fs);

/* "6.12%" style: 3 significant digits, at most 2 decimals below 10. */
void cgp_fmt_pct(char *buf, size_t cap, double pct);
/* 1234567 -> "1,234,567". */
void cgp_fmt_count(char *buf, size_t cap, int64_t n);
/* Round value labels: 50K, 1.5M, 0.25, -100 (with U+2212). */
void cgp_fmt_num(char *buf, size_t cap, double v);
/* Nice step (1, 2, 5 x 10^k) close to span/target. */
double cgp_nice_step(double span, double target);
/* Linear axis limits padded to round numbers covering [lo, hi]. */
void cgp_nice_range(double lo, double hi, double *out_lo, double *out_hi);

/* png_write.c: write ARGB32 (premultiplied, native endian) as 8-bit RGBA
 * PNG with tEXt entries; atomic.  0 or < 0 with err. */
int cgp_png_write(const char *path, const unsigned char *data, int w, int h,
                  int stride, char *const *keys, char *const *vals,
                  int ntext, cg_err *err);

#endif
