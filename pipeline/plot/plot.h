/*
 * plot.h -- figures a biologist can read: pseudocolor dot plots with gate
 * outlines, 1-D histograms with a density curve and threshold, the gating
 * strategy grid, batch and longitudinal trends, and the per-sample QC
 * figure; drawn with cairo, written as PNG with libpng.
 *
 * The API takes plain descriptions, not gate-engine structs: a panel is
 * x/y values already in TRANSFORMED units, an optional event mask, two
 * axis descriptions and a list of overlays (outlines in transformed units,
 * each with a name and a "% of parent").  The pipeline maps its gates onto
 * these.  Rendering returns an opaque image; writing it gives a PNG with
 * tEXt chunks (Software, Sample, Population, MarkerX, MarkerY, ConfigHash)
 * and no time chunk, so the same input gives the same bytes.
 *
 * Typical use (one gate, slide size):
 *     cg_plot_panel p = {0};  p.x = cd25; p.y = cd127; p.n = n;
 *     p.mask = cd4_bits;      p.title = "cd4";
 *     cg_plot_axis_linear(&p.xaxis, "CD25 (PE-A)", lo, hi);   // or _xform
 *     cg_plot_overlay g = {.kind = CG_PLOT_OV_RECT, .name = "treg",
 *                          .pct = 6.1, .x0 = t25, .x1 = INFINITY,
 *                          .y0 = -INFINITY, .y1 = t127};
 *     p.overlays = &g; p.noverlays = 1;
 *     cg_plot_panel_png(&p, &meta, 0, 0, "plots/S1/treg.png", &err);
 *
 * Ownership: every pointer inside a description is borrowed for the
 * duration of the call only.  Images returned are owned by the caller
 * (cg_plot_image_free; NULL is a no-op).
 * Threading: no global state; separate images may be rendered and
 * written from separate threads at the same time (cairo and fontconfig
 * lock internally).  One image is not shared while being rendered.
 */
#ifndef CG_PLOT_H
#define CG_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "bits.h"
#include "cgerr.h"

struct cg_xform;

/* ---- axes ----------------------------------------------------------- */

typedef enum cg_plot_ticks {
    CG_PLOT_TICKS_LINEAR,  /* round numbers of raw units: 0, 50K, 100K */
    CG_PLOT_TICKS_DECADES, /* 0, ±10^k majors, 2..9 x 10^k minors */
    CG_PLOT_TICKS_NONE     /* no ticks (categorical axes) */
} cg_plot_ticks;

/* raw value -> transformed (display) unit, and back.  ctx is the axis's
 * scale_ctx.  fwd may return NaN where the scale is undefined (log of a
 * negative), and the tick code then skips that value. */
typedef double (*cg_plot_scale_fn)(const void *ctx, double v);

typedef struct cg_plot_axis {
    const char *label;       /* "CD25 (PE-A)"; NULL: none */
    double lo, hi;           /* display range in transformed units, lo<hi */
    cg_plot_ticks ticks;
    cg_plot_scale_fn fwd;    /* NULL (both): identity */
    cg_plot_scale_fn inv;
    const void *scale_ctx;   /* borrowed; e.g. a cg_xform */
} cg_plot_axis;

/* Identity scale with round ticks over [lo, hi] (raw = display units). */
void cg_plot_axis_linear(cg_plot_axis *ax, const char *label, double lo,
                         double hi);
/* Scale from a transform: ticks at decades for log-like transforms
 * (log, asinh, arcsinh, logicle, hyperlog, biex), round raw values for
 * linear/identity.  xf is borrowed and must outlive the rendering call.
 * (Defined in plot_xform.c.) */
void cg_plot_axis_xform(cg_plot_axis *ax, const char *label,
                        const struct cg_xform *xf, double lo, double hi);

/* ---- overlays (gates) ----------------------------------------------- */

typedef enum cg_plot_ov_kind {
    CG_PLOT_OV_POLYGON,  /* vx[nv], vy[nv], closed */
    CG_PLOT_OV_RECT,     /* [x0,x1] x [y0,y1]; +-INFINITY = open side (a
                            two-marker threshold gate) */
    CG_PLOT_OV_ELLIPSE,  /* centre cx,cy; semi-axes rx, ry; angle (rad)
                            of the rx axis, all in transformed units */
    CG_PLOT_OV_RANGE,    /* 1-D: [x0,x1]; one open side = threshold */
    CG_PLOT_OV_QUADRANT, /* dividers at x = x0 and y = y0 */
    CG_PLOT_OV_NONE      /* no outline, only the label: a gate that could
                            not be placed (e.g. a fallback with too few
                            events), so the figure still shows it */
} cg_plot_ov_kind;

/* Quadrant order for quad_name/quad_pct. */
enum { CG_PLOT_Q_UL, CG_PLOT_Q_UR, CG_PLOT_Q_LL, CG_PLOT_Q_LR };

/* How a gate's cut was placed, which sets how it is drawn. */
typedef enum cg_plot_cut {
    CG_PLOT_CUT_AUTO = 0,  /* as configured (auto rule, fixed, manual):
                              black, solid */
    CG_PLOT_CUT_FALLBACK,  /* the auto rule did not apply and a fallback
                              placed it: amber, dashed, "fallback: rule" */
    CG_PLOT_CUT_OVERRIDE   /* set for this sample by hand: purple, solid,
                              thicker, "override"; the auto cut dotted grey */
} cg_plot_cut;

typedef struct cg_plot_overlay {
    cg_plot_ov_kind kind;
    const char *name;         /* shown in the gate label; NULL: none */
    double pct;               /* % of parent under the name; NaN: none */
    const double *vx, *vy;    /* POLYGON vertices (borrowed) */
    int nv;
    double x0, x1, y0, y1;    /* RECT, RANGE (x0,x1), QUADRANT (x0,y0) */
    double cx, cy, rx, ry, angle; /* ELLIPSE */
    const char *quad_name[4]; /* QUADRANT labels (NULL: none) */
    double quad_pct[4];       /* QUADRANT % of parent (NaN: none) */
    /* How the cuts were placed (all zero: black solid, as before).  Per
     * axis for RANGE and RECT: cut[0] styles the vertical edges (x0, x1),
     * cut[1] the horizontal ones (y0, y1); for POLYGON and ELLIPSE cut[0]
     * styles the whole outline.  Fill with cg_plot_overlay_cut. */
    cg_plot_cut cut[2];
    const char *rule[2];      /* FALLBACK: the rule that placed the cut,
                                 e.g. "one peak: above", labelled "fallback:
                                 one peak"; NULL/"": "fallback" */
    double auto_cut[2];       /* OVERRIDE: where the auto gate would have
                                 cut (units of x0 / y0), drawn dotted grey;
                                 read only with CUT_OVERRIDE, NaN: none */
    const char *note;         /* more text for the label's last line, e.g.
                                 "CCR4 fallback: spread" for a cut on a
                                 marker not on these axes; NULL: none */
    cg_plot_cut note_cut;     /* its colour (and it flags the figure) */
    int has_debris;           /* 2-D: a debris cut at x = debris_x (the */
    double debris_x;          /* scatter gate's), thin grey, "debris" */
} cg_plot_overlay;

/* Set how the cut on axis (0: x, 1: y) of ov was placed: overridden wins
 * over fell_back; rule is borrowed (it must outlive the rendering call);
 * auto_cut is the auto gate's cut for an override (NaN: unknown). */
void cg_plot_overlay_cut(cg_plot_overlay *ov, int axis, int fell_back,
                         int overridden, const char *rule, double auto_cut);

/* Fill an ELLIPSE overlay from a Gating-ML ellipsoid: the points with
 * (p-m)' C^-1 (p-m) = d2.  Returns 0, or < 0 with err when C is not
 * positive definite or d2 <= 0.  name/pct are left untouched. */
int cg_plot_ellipse_from_cov(cg_plot_overlay *ov, double mx, double my,
                             double cxx, double cxy, double cyy, double d2,
                             cg_err *err);

/* ---- panels --------------------------------------------------------- */

typedef struct cg_plot_panel {
    const char *title;          /* usually the parent population */
    const double *x;            /* n values, transformed units */
    const double *y;            /* NULL: 1-D histogram of x */
    int64_t n;
    const cg_bits *mask;        /* events drawn (n bits); NULL: all */
    cg_plot_axis xaxis;
    cg_plot_axis yaxis;         /* 2-D only; 1-D gets a "Count" axis */
    const cg_plot_overlay *overlays;
    int noverlays;
    /* 1-D: density curve on a grid of transformed x (e.g. the auto gate's
     * KDE); any positive scale, normalised to the histogram's area.
     * NULL: a smoothed histogram is drawn as the curve. */
    const double *curve_x, *curve_y;
    int ncurve;
} cg_plot_panel;

/* 1 when any overlay of the panels is a fallback or an override. */
int cg_plot_panels_flagged(const cg_plot_panel *panels, int n);

/* PNG tEXt metadata and titles.  Every field may be NULL. */
typedef struct cg_plot_meta {
    const char *sample;      /* sample id */
    const char *subject;
    const char *visit;
    const char *population;  /* the gate's population (single-gate PNG) */
    const char *x_marker;    /* e.g. "CD25" */
    const char *y_marker;
    const char *config_hash; /* sha256 of the config */
} cg_plot_meta;

/* ---- images --------------------------------------------------------- */

typedef struct cg_plot_image cg_plot_image; /* opaque rendered figure */

typedef struct cg_plot_rect {
    int x, y, w, h; /* pixels; (x, y) top-left */
} cg_plot_rect;

int cg_plot_image_width(const cg_plot_image *im);
int cg_plot_image_height(const cg_plot_image *im);
/* Number of data panels in the figure (plot areas with axes). */
int cg_plot_image_npanels(const cg_plot_image *im);
/* Plot area of panel i in pixels; 0, or -1 if i is out of range. */
int cg_plot_image_area(const cg_plot_image *im, int i, cg_plot_rect *r);
/* Pixel centre coordinates of the data point (x, y) (transformed units)
 * in panel i; 0 or -1.  For 1-D panels y is in counts. */
int cg_plot_image_map(const cg_plot_image *im, int i, double x, double y,
                      double *px, double *py);
/* Pixel (x, y) as 0xAARRGGBB (opaque figures: AA = FF). */
uint32_t cg_plot_image_pixel(const cg_plot_image *im, int x, int y);

/* Write as PNG (RGBA, 8 bit) with the image's tEXt chunks, atomically
 * (temporary name, then rename).  0, or < 0 with err naming the path. */
int cg_plot_image_write_png(const cg_plot_image *im, const char *path,
                            cg_err *err);
void cg_plot_image_free(cg_plot_image *im);

/* Default sizes in pixels (w = h = 0 picks them). */
enum {
    CG_PLOT_SLIDE_W = 1000, CG_PLOT_SLIDE_H = 900, /* one gate */
    CG_PLOT_CELL_W = 460, CG_PLOT_CELL_H = 420     /* strategy grid cell */
};

/* One panel as a whole figure (slide size by default).  Owned image or
 * NULL with err filled. */
cg_plot_image *cg_plot_render_panel(const cg_plot_panel *p,
                                    const cg_plot_meta *m, int w, int h,
                                    cg_err *err);
/* Render + write + free.  0 or < 0. */
int cg_plot_panel_png(const cg_plot_panel *p, const cg_plot_meta *m, int w,
                      int h, const char *path, cg_err *err);

/* The gating strategy: panels in gate-tree order in a grid (ncols 0:
 * automatic, at most 4), titled "sample · subject · visit".  Cell size in
 * pixels (0: default).  When a gate fell back or was overridden
 * (cg_plot_panels_flagged) a legend line under the grid explains the
 * dashed and purple cuts. */
cg_plot_image *cg_plot_render_strategy(const cg_plot_panel *panels, int n,
                                       const cg_plot_meta *m, int ncols,
                                       int cell_w, int cell_h, cg_err *err);
int cg_plot_strategy_png(const cg_plot_panel *panels, int n,
                         const cg_plot_meta *m, const char *path,
                         cg_err *err);
/* The same figure drawn panel by panel, so a caller need not hold every
 * panel's values at once: begin with the number of panels and whether
 * any is flagged (cg_plot_panels_flagged), add each in order (n times),
 * end gives the image (owned); free drops an unfinished one.  The pixels
 * are cg_plot_render_strategy's. */
typedef struct cg_plot_strategy cg_plot_strategy;
cg_plot_strategy *cg_plot_strategy_begin(int n, int flagged,
                                         const cg_plot_meta *m, int ncols,
                                         int cell_w, int cell_h, cg_err *err);
int cg_plot_strategy_add(cg_plot_strategy *st, const cg_plot_panel *p,
                         cg_err *err);
cg_plot_image *cg_plot_strategy_end(cg_plot_strategy *st);
void cg_plot_strategy_free(cg_plot_strategy *st); /* NULL is a no-op */

/* ---- memory for the drawings ----------------------------------------- */

/* The big buffers of a drawing (image pixels, density grids) carved from
 * blocks of `block` bytes a caller lends, instead of fresh pages: get(ctx)
 * gives a block (NULL: none to spare, then malloc), put(ctx, b) takes one
 * back as soon as nothing is carved from it.  A buffer larger than a
 * block is malloc'd.  `cytogate run` lends a frame's slabs.  Threads draw
 * with the memory they named last with cg_plot_mem_use (NULL: malloc);
 * every image and buffer must be released before cg_plot_mem_free.
 * Thread-safe; the pixels do not depend on where the memory came from. */
typedef struct cg_plot_mem cg_plot_mem;
cg_plot_mem *cg_plot_mem_new(size_t block, void *(*get)(void *ctx),
                             void (*put)(void *ctx, void *block), void *ctx);
void cg_plot_mem_use(cg_plot_mem *pm);
void cg_plot_mem_free(cg_plot_mem *pm); /* NULL is a no-op */

/* Release cairo's process-wide font caches (and with them fontconfig's
 * patterns).  Optional: call once at process exit, when no thread is
 * plotting, so leak checkers (ASan/LSan) see no fontconfig allocations. */
void cg_plot_shutdown(void);

/* ---- batch figures -------------------------------------------------- */

typedef enum cg_plot_qc_verdict {
    CG_PLOT_QC_PASS = 0,
    CG_PLOT_QC_WARN = 1,
    CG_PLOT_QC_FAIL = 2,
    CG_PLOT_QC_ERROR = 3, /* sample could not be processed */
    CG_PLOT_QC_NONE = 4   /* not checked */
} cg_plot_qc_verdict;

typedef struct cg_plot_sample {
    const char *sample_id;
    const char *subject;      /* NULL/"" unknown */
    const char *visit;        /* NULL/"" unknown */
    double treg_pct;          /* Treg % of CD4; NaN = NA */
    double th17_pct;          /* Th17 % of CD4; NaN = NA */
    double ratio;             /* Th17/Treg; NaN = NA */
    cg_plot_qc_verdict qc;
} cg_plot_sample;

/* batch_frequencies.png: Treg %, Th17 % and the ratio per sample (input
 * order), bars coloured by QC verdict, failures marked with a cross.
 * meta: config_hash only. */
cg_plot_image *cg_plot_render_batch(const cg_plot_sample *s, int n,
                                    const cg_plot_meta *m, cg_err *err);
/* longitudinal.png: per subject, lines across visits (natural order of
 * the visit labels: V2 < V10) of the Th17/Treg ratio and Treg % of CD4.
 * Samples without subject or visit are left out; err when none remain. */
cg_plot_image *cg_plot_render_longitudinal(const cg_plot_sample *s, int n,
                                           const cg_plot_meta *m,
                                           cg_err *err);

/* ---- QC figure ------------------------------------------------------ */

typedef struct cg_plot_qc {
    /* Event rate over time: nbins bins with edges t[0..nbins]; rate in
     * events/s; flagged[i] != 0 shades the bin.  nbins 0: no time
     * channel (the figure says the rate check was skipped). */
    int nbins;
    const double *t;
    const double *rate;
    const uint8_t *flagged;
    double rate_lo, rate_hi;  /* accepted band (NaN: not drawn) */
    double pct_flagged;       /* % of events in flagged bins (NaN: none) */
    const char *time_label;   /* "Time (s)"; NULL: that */
    /* Channel medians over consecutive event bins: nmed positions med_x
     * and nchan rows of nmed medians (row-major; NaN = gap), transformed
     * units.  med_x_label NULL: med_x is in the units of t (the panels
     * share the time axis and its shading); set: med_x has its own units
     * (e.g. "Event" index) and range. */
    int nchan;
    const char *const *chan_names;
    const uint8_t *chan_flag; /* nchan, != 0: drift flagged (NULL: none) */
    int nmed;
    const double *med_x;
    const double *med;
    const char *med_x_label;  /* NULL: time units (see above) */
} cg_plot_qc;

cg_plot_image *cg_plot_render_qc(const cg_plot_qc *q, const cg_plot_meta *m,
                                 cg_err *err);

#endif
