/*
 * test_plot.c -- the drawing layer, checked on the decoded PNG: size,
 * gate outline colour at the pixels the gate maps to, density inside the
 * gate and none where only masked-out events lie, the ramp's red at the
 * densest spot, tEXt keys (software version, sample, markers), no tIME
 * chunk, identical bytes from two renders; tick placement and labels on
 * linear and decade axes; histogram + threshold panels; error paths.
 *
 * Scales come from callbacks defined here (arcsinh, cofactor 150), so the
 * test depends only on the plotting API.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"
#include "plot_internal.h"
#include "test_plot_png.h"
#include "testutil.h"

static double as_fwd(const void *ctx, double v)
{
    return asinh(v / *(const double *)ctx);
}
static double as_inv(const void *ctx, double v)
{
    return sinh(v) * *(const double *)ctx;
}
static const double COF = 150;

static void asinh_axis(cg_plot_axis *ax, const char *label)
{
    memset(ax, 0, sizeof *ax);
    ax->label = label;
    ax->lo = asinh(-300 / COF);
    ax->hi = asinh(262144 / COF);
    ax->ticks = CG_PLOT_TICKS_DECADES;
    ax->fwd = as_fwd;
    ax->inv = as_inv;
    ax->scale_ctx = &COF;
}

/* CD4 T cells: 92% CD25- CD127+, 8% Treg CD25hi CD127lo; a third cloud
 * (masked out) at CD25 ~ 1e5, CD127 ~ 1e5. */
static void make_events(int64_t n, double *x, double *y, cg_bits *mask,
                        uint64_t seed)
{
    trng r = {seed, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        double u = trng_u(&r), cx, cy;
        if (u < 0.08) {
            cx = 4000 * exp(0.45 * trng_norm(&r));
            cy = 60 + 90 * trng_norm(&r);
        } else if (u < 0.90) {
            cx = 80 + 150 * trng_norm(&r);
            cy = 3000 * exp(0.4 * trng_norm(&r));
        } else {
            cx = 1e5 * exp(0.1 * trng_norm(&r));
            cy = 1e5 * exp(0.1 * trng_norm(&r));
        }
        x[i] = asinh(cx / COF);
        y[i] = asinh(cy / COF);
        if (mask && u < 0.90)
            cg_bits_set(mask, i);
    }
}

static void test_ticks(void)
{
    cg_plot_image *im = cgp_image_new(200, 200, NULL, NULL);
    REQUIRE(im);
    cgp_cv cv;
    REQUIRE(cgp_cv_begin(&cv, im, 14, NULL) == 0);
    cgp_tick t[160];
    cg_plot_axis ax;
    cg_plot_axis_linear(&ax, "FSC-A", 0, 262144);
    int n = cgp_axis_ticks(&cv, &ax, 600, 12, 0, t, 160);
    int seen50 = 0, seen250 = 0, seen0 = 0, nmaj = 0, nmin = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].major)
            nmaj++;
        else
            nmin++;
        if (strcmp(t[i].label, "50K") == 0) {
            seen50 = 1;
            CHECK_NEAR(t[i].v, 50000, 1e-6);
        }
        if (strcmp(t[i].label, "250K") == 0)
            seen250 = 1;
        if (strcmp(t[i].label, "0") == 0)
            seen0 = 1;
    }
    CHECK(seen0 && seen50 && seen250);
    CHECK_INT(nmaj, 6); /* 0, 50K .. 250K */
    CHECK(nmin >= 20);
    for (int i = 1; i < n; i++)
        CHECK(t[i].v > t[i - 1].v);

    asinh_axis(&ax, "CD25");
    n = cgp_axis_ticks(&cv, &ax, 600, 12, 0, t, 160);
    int dec[6] = {0};
    int minors_34 = 0, zero = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(t[i].label, "0") == 0) {
            zero = 1;
            CHECK_NEAR(t[i].v, 0, 1e-12);
        }
        for (int k = 3; k <= 5; k++) {
            char lab[16];
            snprintf(lab, sizeof lab, "10%s",
                     k == 3 ? "\xc2\xb3" : k == 4 ? "\xe2\x81\xb4"
                                                  : "\xe2\x81\xb5");
            if (strcmp(t[i].label, lab) == 0) {
                dec[k] = 1;
                CHECK_NEAR(t[i].v, asinh(pow(10, k) / COF), 1e-9);
            }
        }
        if (!t[i].major && t[i].v > asinh(1000 / COF) &&
            t[i].v < asinh(10000 / COF))
            minors_34++;
    }
    CHECK(zero);
    CHECK(dec[3] && dec[4] && dec[5]);
    CHECK_INT(minors_34, 8); /* 2..9 x 10^3 */
    /* labels never overlap: measured extents of labelled ticks */
    double last_end = -1e9;
    for (int i = 0; i < n; i++) {
        if (!t[i].label[0])
            continue;
        double px = (t[i].v - ax.lo) / (ax.hi - ax.lo) * 600;
        double wd = cgp_text_width(&cv, t[i].label, 12, 0);
        CHECK(px - wd / 2 >= last_end);
        last_end = px + wd / 2;
    }
    /* negative decade labels use U+2212 on a wide negative range */
    ax.lo = asinh(-20000 / COF);
    n = cgp_axis_ticks(&cv, &ax, 600, 12, 0, t, 160);
    int neg = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].label, "\xe2\x88\x92" "10\xe2\x81\xb4") == 0)
            neg = 1;
    CHECK(neg);
    cgp_cv_end(&cv);
    cg_plot_image_free(im);

    char b[32];
    cgp_fmt_pct(b, sizeof b, 6.1234);
    CHECK_STR(b, "6.12%");
    cgp_fmt_pct(b, sizeof b, 42.06);
    CHECK_STR(b, "42.1%");
    cgp_fmt_pct(b, sizeof b, 0.4821);
    CHECK_STR(b, "0.482%");
    cgp_fmt_count(b, sizeof b, 1234567);
    CHECK_STR(b, "1,234,567");
    cgp_fmt_num(b, sizeof b, 150000);
    CHECK_STR(b, "150K");
    CHECK(cgp_ramp(0) == 0x0000c8u);
    CHECK(cgp_ramp(1) == 0xdc0000u);
}

static void test_dot_plot(void)
{
    const int64_t n = 200000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    cg_bits *mask = cg_bits_new(n);
    REQUIRE(x && y && mask);
    make_events(n, x, y, mask, 42);
    cg_plot_panel p = {0};
    p.title = "cd4";
    p.x = x;
    p.y = y;
    p.n = n;
    p.mask = mask;
    asinh_axis(&p.xaxis, "CD25 (PE-A)");
    asinh_axis(&p.yaxis, "CD127 (BV421-A)");
    double gx0 = asinh(1200 / COF), gy1 = asinh(700 / COF);
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
    cg_plot_meta m = {.sample = "S01_V1", .population = "treg",
                      .x_marker = "CD25", .y_marker = "CD127",
                      .config_hash = "0123456789abcdef"};
    cg_err err;
    cg_plot_image *im = cg_plot_render_panel(&p, &m, 0, 0, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), 1);
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/plot_treg.png", CG_TEST_OUT);
    snprintf(path2, sizeof path2, "%s/plot_treg2.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_rect a;
    REQUIRE(cg_plot_image_area(im, 0, &a) == 0);
    double gpx, gpy, mx, my, tpx, tpy;
    cg_plot_image_map(im, 0, gx0, gy1, &gpx, &gpy); /* gate corner */
    cg_plot_image_map(im, 0, asinh(4000 / COF), asinh(60 / COF), &tpx, &tpy);
    cg_plot_image_map(im, 0, asinh(1e5 / COF), asinh(1e5 / COF), &mx, &my);
    cg_plot_image_free(im);

    tpng png;
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK_INT(png.w, CG_PLOT_SLIDE_W);
    CHECK_INT(png.h, CG_PLOT_SLIDE_H);
    CHECK(a.w == a.h && a.w > 500); /* square plot area on a slide */
    CHECK(!png.has_time);
    CHECK_STR(tpng_text(&png, "Software"), "cytogate " CYTOGATE_VERSION);
    CHECK_STR(tpng_text(&png, "Sample"), "S01_V1");
    CHECK_STR(tpng_text(&png, "Population"), "treg");
    CHECK_STR(tpng_text(&png, "MarkerX"), "CD25");
    CHECK_STR(tpng_text(&png, "MarkerY"), "CD127");
    CHECK_STR(tpng_text(&png, "ConfigHash"), "0123456789abcdef");
    /* gate outline: the left edge (x = gx0) below the corner and the top
     * edge (y = gy1) right of it are black */
    int dark_left = 0, dark_top = 0;
    for (int k = 1; k <= 5; k++) {
        double yy = gpy + k * (a.y + a.h - gpy) / 6.0;
        double xx = gpx + k * (a.x + a.w - gpx) / 6.0;
        dark_left += tpng_darkest(&png, gpx, yy, 1) < 60;
        dark_top += tpng_darkest(&png, xx, gpy, 1) < 60;
    }
    CHECK_INT(dark_left, 5);
    CHECK_INT(dark_top, 5);
    /* non-empty density inside the gate, and red-ish (dense) at the Treg
     * cloud's centre */
    int inside = 0, total = 0;
    for (int yy = (int)gpy + 4; yy < a.y + a.h - 2; yy++)
        for (int xx = (int)gpx + 4; xx < a.x + a.w - 2; xx++) {
            total++;
            inside += !tpng_is_white(tpng_px(&png, xx, yy));
        }
    CHECKM(inside > total / 50, "coloured pixels in gate %d of %d", inside,
           total);
    const unsigned char *c = tpng_px(&png, (int)tpx, (int)tpy);
    CHECKM(c[0] > 200 && c[2] < 80, "Treg centre colour %d,%d,%d", c[0], c[1],
           c[2]);
    /* the masked-out cloud is not drawn */
    int masked = 0;
    for (int dy = -6; dy <= 6; dy++)
        for (int dx = -6; dx <= 6; dx++)
            masked += !tpng_is_white(tpng_px(&png, (int)mx + dx, (int)my + dy));
    CHECK_INT(masked, 0);
    tpng_free(&png);

    /* same input, same bytes */
    REQUIRE(cg_plot_panel_png(&p, &m, 0, 0, path2, &err) == 0);
    CHECK_INT(files_equal(path, path2), 1);
    /* a different gate gives different bytes */
    g.x0 = asinh(2000 / COF);
    REQUIRE(cg_plot_panel_png(&p, &m, 0, 0, path2, &err) == 0);
    CHECK_INT(files_equal(path, path2), 0);

    /* polygon and ellipse outlines on a small panel */
    double vx[] = {asinh(1500 / COF), asinh(30000 / COF), asinh(30000 / COF),
                   asinh(1500 / COF)};
    double vy[] = {asinh(-100 / COF), asinh(-100 / COF), asinh(500 / COF),
                   asinh(500 / COF)};
    cg_plot_overlay ov[2] = {{0}, {0}};
    ov[0].kind = CG_PLOT_OV_POLYGON;
    ov[0].name = "poly";
    ov[0].pct = NAN;
    ov[0].vx = vx;
    ov[0].vy = vy;
    ov[0].nv = 4;
    REQUIRE(cg_plot_ellipse_from_cov(&ov[1], asinh(80 / COF),
                                     asinh(3000 / COF), 0.5, 0.1, 0.3, 4,
                                     &err) == 0);
    ov[1].name = "ell";
    ov[1].pct = 80;
    p.overlays = ov;
    p.noverlays = 2;
    im = cg_plot_render_panel(&p, &m, 460, 420, &err);
    REQUIRE(im);
    snprintf(path, sizeof path, "%s/plot_poly.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    double p0x, p0y, p1x, p1y, ex, ey;
    cg_plot_image_map(im, 0, vx[0], vy[0], &p0x, &p0y);
    cg_plot_image_map(im, 0, vx[1], vy[1], &p1x, &p1y);
    /* ellipse end of the major axis: centre + rx along angle */
    cg_plot_image_map(im, 0, ov[1].cx + ov[1].rx * cos(ov[1].angle),
                      ov[1].cy + ov[1].rx * sin(ov[1].angle), &ex, &ey);
    cg_plot_image_free(im);
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK_INT(png.w, 460);
    CHECK(tpng_darkest(&png, (p0x + p1x) / 2, (p0y + p1y) / 2, 1) < 80);
    CHECK(tpng_darkest(&png, ex, ey, 1) < 80);
    tpng_free(&png);
    /* ellipse from covariance: semi-axes from the eigenvalues */
    CHECK_NEAR(ov[1].rx * ov[1].rx / 4 + ov[1].ry * ov[1].ry / 4, 0.8, 1e-12);
    CHECK_NEAR(ov[1].rx * ov[1].rx * ov[1].ry * ov[1].ry / 16,
               0.5 * 0.3 - 0.01, 1e-12);
    CHECK(cg_plot_ellipse_from_cov(&ov[1], 0, 0, 1, 2, 1, 1, &err) < 0);

    /* errors: mask of the wrong size, empty range */
    cg_bits *bad = cg_bits_new(10);
    p.mask = bad;
    CHECK(cg_plot_render_panel(&p, &m, 0, 0, &err) == NULL);
    CHECK_INT(err.code, CG_E_ARG);
    CHECK(strstr(err.msg, "mask") != NULL);
    p.mask = mask;
    p.xaxis.hi = p.xaxis.lo;
    CHECK(cg_plot_render_panel(&p, &m, 0, 0, &err) == NULL);
    /* unwritable path names the path */
    p.xaxis.hi = 8;
    CHECK(cg_plot_panel_png(&p, &m, 300, 300, "/nonexistent/dir/x.png",
                            &err) < 0);
    CHECK(strstr(err.msg, "/nonexistent/dir/x.png") != NULL);
    cg_bits_free(bad);
    cg_bits_free(mask);
    free(x);
    free(y);
}

static void test_histogram(void)
{
    const int64_t n = 50000;
    double *x = malloc(n * sizeof *x);
    REQUIRE(x);
    trng r = {7, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        double raw = trng_u(&r) < 0.3 ? 20 + 60 * trng_norm(&r)
                                      : 8000 * exp(0.35 * trng_norm(&r));
        x[i] = asinh(raw / COF);
    }
    cg_plot_panel p = {0};
    p.title = "live";
    p.x = x;
    p.n = n;
    asinh_axis(&p.xaxis, "CD3 (APC-A)");
    double t = asinh(900 / COF);
    cg_plot_overlay g = {0};
    g.kind = CG_PLOT_OV_RANGE;
    g.name = "cd3";
    g.pct = 70.0;
    g.x0 = t;
    g.x1 = INFINITY;
    p.overlays = &g;
    p.noverlays = 1;
    cg_plot_meta m = {.sample = "S1", .population = "cd3",
                      .x_marker = "CD3"};
    cg_err err;
    cg_plot_image *im = cg_plot_render_panel(&p, &m, 800, 700, &err);
    REQUIRE(im);
    char path[512];
    snprintf(path, sizeof path, "%s/plot_hist.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_rect a;
    cg_plot_image_area(im, 0, &a);
    double tx, ty, px, py;
    cg_plot_image_map(im, 0, t, 0, &tx, &ty);
    CHECK_NEAR(ty, a.y + a.h, 1e-9); /* count 0 at the bottom */
    /* the positive peak (8000) is filled under the histogram */
    cg_plot_image_map(im, 0, asinh(8000 / COF), 1, &px, &py);
    cg_plot_image_free(im);
    tpng png;
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK_STR(tpng_text(&png, "MarkerX"), "CD3");
    CHECK(tpng_text(&png, "MarkerY") == NULL);
    int dark = 0;
    for (int k = 1; k <= 9; k++)
        dark += tpng_darkest(&png, tx, a.y + k * a.h / 10.0, 1) < 60;
    CHECK_INT(dark, 9); /* threshold line over the full height */
    const unsigned char *c = tpng_px(&png, (int)px, (int)py - 5);
    CHECKM(!tpng_is_white(c) && c[2] > c[0], "hist fill %d,%d,%d", c[0],
           c[1], c[2]);
    tpng_free(&png);
    free(x);
}

/* An empty population (mask all zero) and NaN values render an empty,
 * white plot area with axes, not an error. */
static void test_empty(void)
{
    double x[100], y[100];
    for (int i = 0; i < 100; i++)
        x[i] = y[i] = i % 2 ? NAN : 0.5;
    cg_bits *none = cg_bits_new(100);
    REQUIRE(none);
    cg_plot_panel p = {0};
    p.title = "empty";
    p.x = x;
    p.y = y;
    p.n = 100;
    p.mask = none;
    cg_plot_axis_linear(&p.xaxis, "A", 0, 1);
    cg_plot_axis_linear(&p.yaxis, "B", 0, 1);
    cg_err err;
    for (int d = 0; d < 2; d++) {
        if (d == 1)
            p.y = NULL;
        cg_plot_image *im = cg_plot_render_panel(&p, NULL, 400, 400, &err);
        REQUIRE(im);
        cg_plot_rect a;
        REQUIRE(cg_plot_image_area(im, 0, &a) == 0);
        CHECK(cg_plot_image_pixel(im, a.x + a.w / 2, a.y + a.h / 2) ==
              0xffffffffu);
        cg_plot_image_free(im);
    }
    cg_bits_free(none);
}

int main(void)
{
    test_empty();
    test_ticks();
    test_dot_plot();
    test_histogram();
    cg_plot_shutdown(); /* font caches, so LSan sees no leak */
    return TEST_DONE();
}
