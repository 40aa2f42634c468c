/*
 * test_plot_cuts.c -- how a cut was placed shows in the figure, checked
 * on the decoded PNG: a fallback is amber and dashed along the cut (runs
 * of amber with gaps), an override is solid purple with the auto cut as a
 * grey dotted line, a 2-D threshold styles only the edge that fell back,
 * a fallen-back polygon is dashed, the debris cut is a grey line, and a
 * gate with no cut still gets its label, and a note names a cut on a
 * marker off the axes.  Without flags no pixel is amber
 * or purple, and the strategy figure has no legend band; with one, the
 * band appears.  Amber and purple are told apart from the density ramp,
 * the histogram and the curve by their blue channel (see plot_internal.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"
#include "plot_internal.h"
#include "test_plot_png.h"
#include "testutil.h"

static double as_fwd(const void *ctx, double v) { return asinh(v / 150.0); }
static double as_inv(const void *ctx, double v) { return 150.0 * sinh(v); }

static void dec_axis(cg_plot_axis *a, const char *label)
{
    memset(a, 0, sizeof *a);
    a->label = label;
    a->lo = asinh(-300 / 150.0);
    a->hi = asinh(262144 / 150.0);
    a->ticks = CG_PLOT_TICKS_DECADES;
    a->fwd = as_fwd;
    a->inv = as_inv;
}

/* CGP_FALLBACK (232, 144, 30) and CGP_OVERRIDE (142, 36, 170), allowing
 * for antialiasing; the ramp's warm colours have no blue, its blues no
 * red. */
static int is_amber(const unsigned char *p)
{
    return p[0] >= 208 && p[0] <= 250 && p[1] >= 115 && p[1] <= 175 &&
           p[2] >= 12 && p[2] <= 70;
}
static int is_purple(const unsigned char *p)
{
    return p[0] >= 110 && p[0] <= 175 && p[1] <= 75 && p[2] >= 135 &&
           p[2] <= 205 && p[2] > p[0];
}
static int is_grey(const unsigned char *p)
{
    return abs(p[0] - p[1]) < 12 && abs(p[1] - p[2]) < 12 && p[0] > 60 &&
           p[0] < 200;
}

static int count_in(const tpng *png, int (*f)(const unsigned char *))
{
    int n = 0;
    for (int y = 0; y < png->h; y++)
        for (int x = 0; x < png->w; x++)
            n += f(tpng_px(png, x, y));
    return n;
}

/* Along a vertical (dx = 0) or horizontal segment of pixels: how many
 * match f, and how many separate runs of matches there are. */
typedef struct runs {
    int hits, runs, len;
} runs;
static runs scan(const tpng *png, double x0, double y0, double x1, double y1,
                 int (*f)(const unsigned char *))
{
    runs r = {0, 0, 0};
    int n = (int)fmax(fabs(x1 - x0), fabs(y1 - y0));
    int prev = 0;
    for (int k = 0; k <= n; k++) {
        double t = n ? (double)k / n : 0;
        int x = (int)floor(x0 + t * (x1 - x0));
        int y = (int)floor(y0 + t * (y1 - y0));
        int hit = f(tpng_px(png, x, y));
        r.hits += hit;
        r.runs += hit && !prev;
        prev = hit;
        r.len++;
    }
    return r;
}

static double *hist_events(int64_t n)
{
    double *x = malloc(n * sizeof *x);
    trng r = {7, 0, 0};
    for (int64_t i = 0; x && i < n; i++) {
        double raw = trng_u(&r) < 0.3 ? 20 + 60 * trng_norm(&r)
                                      : 8000 * exp(0.35 * trng_norm(&r));
        x[i] = asinh(raw / 150.0);
    }
    return x;
}

static int render(const cg_plot_panel *p, const char *name, int w, int h,
                  tpng *png, cg_plot_rect *a, double xv, double *px)
{
    cg_err err;
    cg_plot_image *im = cg_plot_render_panel(p, NULL, w, h, &err);
    if (!im)
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CG_TEST_OUT, name);
    int rc = cg_plot_image_write_png(im, path, &err);
    cg_plot_image_area(im, 0, a);
    double py;
    cg_plot_image_map(im, 0, xv, 0, px, &py);
    cg_plot_image_free(im);
    return rc < 0 ? rc : tpng_read(path, png);
}

/* 1-D threshold: auto (black), fallback (amber, dashed), override
 * (purple, with the auto cut dotted grey). */
static void test_hist_cuts(void)
{
    const int64_t n = 50000;
    double *x = hist_events(n);
    REQUIRE(x);
    cg_plot_panel p = {0};
    p.title = "live";
    p.x = x;
    p.n = n;
    dec_axis(&p.xaxis, "CD3 (APC-A)");
    double t = asinh(900 / 150.0), ta = asinh(3000 / 150.0);
    cg_plot_overlay g = {0};
    g.kind = CG_PLOT_OV_RANGE;
    g.name = "cd3";
    g.pct = 70.0;
    g.x0 = t;
    g.x1 = INFINITY;
    p.overlays = &g;
    p.noverlays = 1;
    tpng png;
    cg_plot_rect a;
    double tx, ax;

    /* no flags: neither colour anywhere */
    REQUIRE(render(&p, "cuts_auto.png", 800, 700, &png, &a, t, &tx) == 0);
    CHECK_INT(count_in(&png, is_amber), 0);
    CHECK_INT(count_in(&png, is_purple), 0);
    CHECK(tpng_darkest(&png, tx, a.y + a.h * 0.5, 1) < 60);
    CHECK_INT(cg_plot_panels_flagged(&p, 1), 0);
    tpng_free(&png);

    /* fallback: amber along the cut, in dashes */
    cg_plot_overlay_cut(&g, 0, 1, 0, "one peak: above", NAN);
    CHECK_INT(g.cut[0], CG_PLOT_CUT_FALLBACK);
    CHECK_INT(cg_plot_panels_flagged(&p, 1), 1);
    REQUIRE(render(&p, "cuts_fallback.png", 800, 700, &png, &a, t, &tx) == 0);
    runs r = scan(&png, tx, a.y + 2, tx, a.y + a.h - 2, is_amber);
    CHECKM(r.runs >= 8, "fallback dashes along the cut: %d runs", r.runs);
    CHECKM(r.hits > r.len / 4 && r.hits < r.len * 9 / 10,
           "fallback: %d of %d pixels amber (dashed, not solid)", r.hits,
           r.len);
    CHECK_INT(count_in(&png, is_purple), 0);
    tpng_free(&png);

    /* override: solid purple along the cut, grey dots at the auto cut */
    cg_plot_overlay_cut(&g, 0, 1, 1, "override", ta);
    CHECK_INT(g.cut[0], CG_PLOT_CUT_OVERRIDE);
    REQUIRE(render(&p, "cuts_override.png", 800, 700, &png, &a, ta, &ax) ==
            0);
    cg_err err;
    cg_plot_image *im = cg_plot_render_panel(&p, NULL, 800, 700, &err);
    REQUIRE(im);
    double py;
    cg_plot_image_map(im, 0, t, 0, &tx, &py);
    cg_plot_image_free(im);
    /* below the bracket and the label: the line alone */
    r = scan(&png, tx, a.y + a.h * 0.3, tx, a.y + a.h - 2, is_purple);
    CHECKM(r.runs == 1 && r.hits == r.len, "override: %d of %d purple, %d "
           "runs", r.hits, r.len, r.runs);
    r = scan(&png, ax, a.y + 2, ax, a.y + a.h * 0.1, is_grey);
    CHECKM(r.runs >= 3, "auto cut dotted: %d grey runs", r.runs);
    CHECK_INT(count_in(&png, is_amber), 0);
    tpng_free(&png);

    /* a cut on a marker not on the axes: a note in the label, in the
     * fallback's darker amber text, and the figure counts as flagged */
    cg_plot_overlay_cut(&g, 0, 0, 0, NULL, NAN);
    CHECK_INT(cg_plot_panels_flagged(&p, 1), 0);
    g.note = "CCR4 fallback: spread";
    g.note_cut = CG_PLOT_CUT_FALLBACK;
    CHECK_INT(cg_plot_panels_flagged(&p, 1), 1);
    REQUIRE(render(&p, "cuts_note.png", 800, 700, &png, &a, t, &tx) == 0);
    CHECK(tpng_darkest(&png, tx, a.y + a.h * 0.5, 1) < 60); /* cut: black */
    int text = 0;
    for (int yy = a.y; yy < a.y + a.h / 3; yy++)
        for (int xx = a.x; xx < a.x + a.w; xx++) {
            const unsigned char *c = tpng_px(&png, xx, yy);
            text += c[0] > 140 && c[0] < 200 && c[1] > 70 && c[1] < 125 &&
                    c[2] < 40; /* CGP_FALLBACK_TEXT (168, 98, 0) */
        }
    CHECKM(text > 20, "note text pixels: %d", text);
    tpng_free(&png);
    free(x);
}

/* CD25 x CD127 events (Treg corner at CD25+ CD127lo). */
static void dot_events(int64_t n, double *x, double *y)
{
    trng r = {42, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        double u = trng_u(&r), cx, cy;
        if (u < 0.1) {
            cx = 4000 * exp(0.45 * trng_norm(&r));
            cy = 60 + 90 * trng_norm(&r);
        } else {
            cx = 80 + 150 * trng_norm(&r);
            cy = 3000 * exp(0.4 * trng_norm(&r));
        }
        x[i] = asinh(cx / 150.0);
        y[i] = asinh(cy / 150.0);
    }
}

/* 2-D threshold: only the edge whose dimension fell back is amber. */
static void test_rect_cuts(void)
{
    const int64_t n = 100000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    REQUIRE(x && y);
    dot_events(n, x, y);
    cg_plot_panel p = {0};
    p.title = "cd4";
    p.x = x;
    p.y = y;
    p.n = n;
    dec_axis(&p.xaxis, "CD25 (PE-A)");
    dec_axis(&p.yaxis, "CD127 (BV421-A)");
    double gx0 = asinh(1200 / 150.0), gy1 = asinh(700 / 150.0);
    cg_plot_overlay g = {0};
    g.kind = CG_PLOT_OV_RECT;
    g.name = "treg";
    g.pct = 8.0;
    g.x0 = gx0;
    g.x1 = INFINITY;
    g.y0 = -INFINITY;
    g.y1 = gy1;
    p.overlays = &g;
    p.noverlays = 1;
    cg_err err;
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/cuts_rect.png", CG_TEST_OUT);
    snprintf(path2, sizeof path2, "%s/cuts_rect2.png", CG_TEST_OUT);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            cg_plot_overlay_cut(&g, 0, 1, 0, "spread", NAN);
        cg_plot_image *im = cg_plot_render_panel(&p, NULL, 0, 0, &err);
        REQUIRE(im);
        REQUIRE(cg_plot_image_write_png(im, pass ? path2 : path, &err) == 0);
        cg_plot_rect a;
        cg_plot_image_area(im, 0, &a);
        double cx, cy;
        cg_plot_image_map(im, 0, gx0, gy1, &cx, &cy);
        cg_plot_image_free(im);
        tpng png;
        REQUIRE(tpng_read(pass ? path2 : path, &png) == 0);
        /* the x cut: the vertical edge below the corner */
        runs v = scan(&png, cx, cy + 0.1 * (a.y + a.h - cy), cx, a.y + a.h - 2,
                      is_amber);
        /* the y cut: the horizontal edge right of the corner, beyond the
         * label */
        double hx0 = cx + 0.5 * (a.x + a.w - cx);
        runs hz = scan(&png, hx0, cy, a.x + a.w - 2, cy, is_amber);
        CHECK_INT(hz.hits, 0);
        CHECK(tpng_darkest(&png, hx0, cy, 1) < 60);
        if (pass == 0) {
            CHECK_INT(v.hits, 0);
            CHECK_INT(count_in(&png, is_amber), 0);
            CHECK_INT(count_in(&png, is_purple), 0);
        } else {
            CHECKM(v.runs >= 4 && v.hits < v.len * 9 / 10,
                   "x edge dashed amber: %d runs, %d of %d", v.runs, v.hits,
                   v.len);
            CHECK_INT(count_in(&png, is_purple), 0);
        }
        tpng_free(&png);
    }
    /* the y cut overridden, the x cut back to auto */
    cg_plot_overlay_cut(&g, 0, 0, 0, NULL, NAN);
    cg_plot_overlay_cut(&g, 1, 0, 1, "override", asinh(300 / 150.0));
    cg_plot_image *im = cg_plot_render_panel(&p, NULL, 0, 0, &err);
    REQUIRE(im);
    REQUIRE(cg_plot_image_write_png(im, path2, &err) == 0);
    cg_plot_rect a;
    cg_plot_image_area(im, 0, &a);
    double cx, cy;
    cg_plot_image_map(im, 0, gx0, gy1, &cx, &cy);
    cg_plot_image_free(im);
    tpng png;
    REQUIRE(tpng_read(path2, &png) == 0);
    double hx0 = cx + 0.5 * (a.x + a.w - cx);
    runs hz = scan(&png, hx0, cy, a.x + a.w - 2, cy, is_purple);
    CHECKM(hz.hits == hz.len, "y edge purple: %d of %d", hz.hits, hz.len);
    CHECK(tpng_darkest(&png, cx, cy + 0.5 * (a.y + a.h - cy), 1) < 60);
    CHECK_INT(count_in(&png, is_amber), 0);
    tpng_free(&png);
    free(x);
    free(y);
}

/* Strategy figure: a fallen-back scatter polygon with a debris line, a
 * gate with no cut; the legend band only when something is flagged; the
 * unflagged figure has the same bytes twice and neither colour. */
static void test_strategy_cuts(void)
{
    const int64_t n = 40000;
    double *fsc = malloc(n * sizeof *fsc), *ssc = malloc(n * sizeof *ssc);
    double *cd3 = hist_events(n);
    REQUIRE(fsc && ssc && cd3);
    trng r = {5, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        fsc[i] = 90000 + 12000 * trng_norm(&r);
        ssc[i] = 40000 + 9000 * trng_norm(&r);
    }
    double px[] = {55000, 140000, 140000, 55000};
    double py[] = {18000, 18000, 75000, 75000};
    cg_plot_overlay ov[3] = {{0}, {0}, {0}};
    ov[0].kind = CG_PLOT_OV_POLYGON;
    ov[0].name = "cells";
    ov[0].pct = 85.0;
    ov[0].vx = px;
    ov[0].vy = py;
    ov[0].nv = 4;
    ov[1].kind = CG_PLOT_OV_RANGE;
    ov[1].name = "cd3";
    ov[1].pct = 70.1;
    ov[1].x0 = asinh(1000 / 150.0);
    ov[1].x1 = INFINITY;
    ov[2].kind = CG_PLOT_OV_NONE;
    ov[2].name = "th17";
    ov[2].pct = 0;
    cg_plot_panel pan[3];
    memset(pan, 0, sizeof pan);
    for (int k = 0; k < 3; k++) {
        pan[k].n = n;
        pan[k].overlays = &ov[k];
        pan[k].noverlays = 1;
    }
    pan[0].title = "all events";
    pan[0].x = fsc;
    pan[0].y = ssc;
    cg_plot_axis_linear(&pan[0].xaxis, "FSC-A", 0, 262144);
    cg_plot_axis_linear(&pan[0].yaxis, "SSC-A", 0, 262144);
    pan[1].title = "cells";
    pan[1].x = cd3;
    dec_axis(&pan[1].xaxis, "CD3 (APC-A)");
    pan[2].title = "cd4";
    pan[2].x = cd3;
    dec_axis(&pan[2].xaxis, "CD3 (APC-A)");
    cg_plot_meta m = {.sample = "S9", .config_hash = "abc"};
    cg_err err;
    char p0[512], p1[512], p2[512];
    snprintf(p0, sizeof p0, "%s/cuts_strategy0.png", CG_TEST_OUT);
    snprintf(p1, sizeof p1, "%s/cuts_strategy1.png", CG_TEST_OUT);
    snprintf(p2, sizeof p2, "%s/cuts_strategy2.png", CG_TEST_OUT);
    /* a label-only gate is not a flag by itself */
    REQUIRE(cg_plot_strategy_png(pan, 3, &m, p0, &err) == 0);
    REQUIRE(cg_plot_strategy_png(pan, 3, &m, p1, &err) == 0);
    CHECK_INT(files_equal(p0, p1), 1);
    tpng png0, png;
    REQUIRE(tpng_read(p0, &png0) == 0);
    CHECK_INT(count_in(&png0, is_amber), 0);
    CHECK_INT(count_in(&png0, is_purple), 0);

    cg_plot_overlay_cut(&ov[0], 0, 1, 0, "too few events", NAN);
    ov[0].has_debris = 1;
    ov[0].debris_x = 30000;
    cg_plot_overlay_cut(&ov[2], 0, 1, 0, "one peak: fail", NAN);
    cg_plot_image *im = cg_plot_render_strategy(pan, 3, &m, 0, 0, 0, &err);
    REQUIRE(im);
    REQUIRE(cg_plot_image_write_png(im, p2, &err) == 0);
    double ex, ey, eb, dx, dy;
    cg_plot_image_map(im, 0, px[0], (py[0] + py[3]) / 2, &ex, &ey);
    cg_plot_image_map(im, 0, px[0], py[0], &dx, &eb); /* bottom corner */
    cg_plot_image_map(im, 0, 30000, 100000, &dx, &dy);
    cg_plot_rect a0;
    cg_plot_image_area(im, 0, &a0);
    cg_plot_image_free(im);
    REQUIRE(tpng_read(p2, &png) == 0);
    CHECK_INT(png.w, png0.w);
    CHECKM(png.h > png0.h, "legend band: %d vs %d rows", png.h, png0.h);
    /* the polygon's left edge, dashed amber */
    runs v = scan(&png, ex, ey - 0.4 * (eb - ey), ex, ey + 0.8 * (eb - ey),
                  is_amber);
    CHECKM(v.runs >= 3 && v.hits < v.len, "polygon dashed: %d runs %d/%d",
           v.runs, v.hits, v.len);
    /* the debris line: grey, full height */
    runs d = scan(&png, dx, a0.y + 2, dx, a0.y + a0.h * 0.8, is_grey);
    CHECKM(d.hits > d.len * 9 / 10, "debris line: %d of %d grey", d.hits,
           d.len);
    /* the legend's samples: amber and purple below the grid */
    int amb = 0, pur = 0;
    for (int y = png0.h - 2; y < png.h; y++)
        for (int x = 0; x < png.w; x++) {
            amb += is_amber(tpng_px(&png, x, y));
            pur += is_purple(tpng_px(&png, x, y));
        }
    CHECK(amb > 10);
    CHECK(pur > 10);
    tpng_free(&png);
    tpng_free(&png0);
    free(fsc);
    free(ssc);
    free(cd3);
}

int main(void)
{
    test_hist_cuts();
    test_rect_cuts();
    test_strategy_cuts();
    cg_plot_shutdown();
    return TEST_DONE();
}
