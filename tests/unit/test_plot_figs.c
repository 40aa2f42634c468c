/*
 * test_plot_figs.c -- whole figures, checked on the decoded PNG: the
 * strategy grid (size from the grid, one registered plot area per panel,
 * each panel's gate outline black at its mapped pixels, density in each
 * 2-D panel, tEXt sample/subject/visit), batch_frequencies (bar colour by
 * QC verdict at the bar's pixels, fail cross above a failed bar, NA bars
 * absent), longitudinal (subject line colours at their points, visits in
 * natural order V2 < V10), the QC figure (flagged time bins shaded,
 * unflagged not, channel panels present), and byte-identical re-renders.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"
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

static int near_rgb(const unsigned char *p, uint32_t c, int tol)
{
    return abs(p[0] - (int)((c >> 16) & 255)) <= tol &&
           abs(p[1] - (int)((c >> 8) & 255)) <= tol &&
           abs(p[2] - (int)(c & 255)) <= tol;
}

static void test_strategy(void)
{
    const int64_t n = 60000;
    double *fsc = malloc(n * sizeof *fsc), *ssc = malloc(n * sizeof *ssc);
    double *cd3 = malloc(n * sizeof *cd3), *cd4 = malloc(n * sizeof *cd4);
    cg_bits *cells = cg_bits_new(n), *t = cg_bits_new(n);
    REQUIRE(fsc && ssc && cd3 && cd4 && cells && t);
    trng r = {99, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        int debris = trng_u(&r) < 0.15;
        fsc[i] = debris ? 20000 + 8000 * trng_norm(&r)
                        : 90000 + 12000 * trng_norm(&r);
        ssc[i] = debris ? 15000 + 6000 * trng_norm(&r)
                        : 40000 + 9000 * trng_norm(&r);
        int tc = trng_u(&r) < 0.7;
        cd3[i] = asinh((tc ? 6000 * exp(0.3 * trng_norm(&r))
                           : 30 + 80 * trng_norm(&r)) / 150.0);
        cd4[i] = asinh((trng_u(&r) < 0.6 ? 9000 * exp(0.3 * trng_norm(&r))
                                        : 40 + 60 * trng_norm(&r)) / 150.0);
        if (!debris)
            cg_bits_set(cells, i);
        if (!debris && tc)
            cg_bits_set(t, i);
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
    ov[2].kind = CG_PLOT_OV_QUADRANT;
    ov[2].x0 = asinh(1000 / 150.0);
    ov[2].y0 = asinh(1000 / 150.0);
    ov[2].quad_name[CG_PLOT_Q_UR] = "cd4";
    for (int q = 0; q < 4; q++)
        ov[2].quad_pct[q] = 10.0 + q;
    cg_plot_panel pan[3];
    memset(pan, 0, sizeof pan);
    pan[0].title = "all events";
    pan[0].x = fsc;
    pan[0].y = ssc;
    pan[0].n = n;
    cg_plot_axis_linear(&pan[0].xaxis, "FSC-A", 0, 262144);
    cg_plot_axis_linear(&pan[0].yaxis, "SSC-A", 0, 262144);
    pan[0].overlays = &ov[0];
    pan[0].noverlays = 1;
    pan[1].title = "cells";
    pan[1].x = cd3;
    pan[1].n = n;
    pan[1].mask = cells;
    dec_axis(&pan[1].xaxis, "CD3 (APC-A)");
    pan[1].overlays = &ov[1];
    pan[1].noverlays = 1;
    pan[2].title = "cd3";
    pan[2].x = cd3;
    pan[2].y = cd4;
    pan[2].n = n;
    pan[2].mask = t;
    dec_axis(&pan[2].xaxis, "CD3 (APC-A)");
    dec_axis(&pan[2].yaxis, "CD4 (BV605-A)");
    pan[2].overlays = &ov[2];
    pan[2].noverlays = 1;
    cg_plot_meta m = {.sample = "P01_V2", .subject = "P01", .visit = "V2",
                      .config_hash = "feedbeef"};
    cg_err err;
    cg_plot_image *im = cg_plot_render_strategy(pan, 3, &m, 0, 0, 0, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), 3);
    int w = cg_plot_image_width(im), h = cg_plot_image_height(im);
    CHECK(w >= 2 * CG_PLOT_CELL_W && w < 2 * CG_PLOT_CELL_W + 60); /* 2x2 */
    CHECK(h >= 2 * CG_PLOT_CELL_H && h < 2 * CG_PLOT_CELL_H + 100);
    double e0x, e0y, thx, thy, qx, qy, c0x, c0y;
    cg_plot_image_map(im, 0, (px[0] + px[1]) / 2, py[0], &e0x, &e0y);
    cg_plot_image_map(im, 0, 90000, 40000, &c0x, &c0y);
    cg_plot_image_map(im, 1, ov[1].x0, 0, &thx, &thy);
    cg_plot_image_map(im, 2, ov[2].x0, ov[2].y0, &qx, &qy);
    cg_plot_rect a1, a2;
    cg_plot_image_area(im, 1, &a1);
    cg_plot_image_area(im, 2, &a2);
    CHECK(a1.x > a2.x + a2.w || a2.y > a1.y); /* panel 2 on the next row */
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/plot_strategy.png", CG_TEST_OUT);
    snprintf(path2, sizeof path2, "%s/plot_strategy2.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_image_free(im);
    REQUIRE(cg_plot_strategy_png(pan, 3, &m, path2, &err) == 0);
    CHECK_INT(files_equal(path, path2), 1);
    tpng png;
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK_INT(png.w, w);
    CHECK_STR(tpng_text(&png, "Sample"), "P01_V2");
    CHECK_STR(tpng_text(&png, "Subject"), "P01");
    CHECK_STR(tpng_text(&png, "Visit"), "V2");
    CHECK(tpng_darkest(&png, e0x, e0y, 1) < 60);        /* polygon edge */
    CHECK(!tpng_is_white(tpng_px(&png, (int)c0x, (int)c0y))); /* density */
    int dark = 0;
    for (int k = 1; k <= 9; k++)
        dark += tpng_darkest(&png, thx, a1.y + k * a1.h / 10.0, 1) < 60;
    CHECK_INT(dark, 9);                                  /* threshold */
    CHECK(tpng_darkest(&png, qx, a2.y + a2.h * 0.9, 1) < 60); /* quadrant */
    CHECK(tpng_darkest(&png, a2.x + a2.w * 0.1, qy, 1) < 60);
    tpng_free(&png);
    cg_bits_free(cells);
    cg_bits_free(t);
    free(fsc);
    free(ssc);
    free(cd3);
    free(cd4);
    /* no panels: an error, not a crash */
    CHECK(cg_plot_render_strategy(pan, 0, &m, 0, 0, 0, &err) == NULL);
}

static void test_batch(void)
{
    cg_plot_sample s[9];
    static const char *subj[] = {"P01", "P02", "P03"};
    static const char *vis[] = {"V10", "V2", "V1"};
    static char ids[9][16];
    for (int i = 0; i < 9; i++) {
        snprintf(ids[i], sizeof ids[i], "%s_%s", subj[i / 3], vis[i % 3]);
        s[i].sample_id = ids[i];
        s[i].subject = subj[i / 3];
        s[i].visit = vis[i % 3];
        s[i].treg_pct = 4 + i;
        s[i].th17_pct = 0.5 + 0.2 * i;
        s[i].ratio = s[i].th17_pct / s[i].treg_pct;
        s[i].qc = CG_PLOT_QC_PASS;
    }
    s[4].qc = CG_PLOT_QC_FAIL;
    s[5].qc = CG_PLOT_QC_WARN;
    s[7].ratio = NAN;
    cg_plot_meta m = {.config_hash = "feedbeef"};
    cg_err err;
    cg_plot_image *im = cg_plot_render_batch(s, 9, &m, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), 3);
    double bx[9], by[9], fx, fy, nx, ny, wx, wy;
    for (int i = 0; i < 9; i++)
        cg_plot_image_map(im, 0, i, s[i].treg_pct / 2, &bx[i], &by[i]);
    cg_plot_image_map(im, 0, 4, s[4].treg_pct, &fx, &fy);
    cg_plot_image_map(im, 2, 7, 0.01, &nx, &ny);
    cg_plot_image_map(im, 1, 5, s[5].th17_pct / 2, &wx, &wy);
    char path[512];
    snprintf(path, sizeof path, "%s/plot_batch.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_image_free(im);
    tpng png;
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK(near_rgb(tpng_px(&png, (int)bx[0], (int)by[0]), 0x4c72b0, 2));
    CHECK(near_rgb(tpng_px(&png, (int)bx[4], (int)by[4]), 0xd62728, 2));
    CHECK(near_rgb(tpng_px(&png, (int)wx, (int)wy), 0xe0a100, 2));
    /* a red cross above the failed bar */
    int red = 0;
    for (int dy = 2; dy < 30; dy++)
        red += near_rgb(tpng_px(&png, (int)fx, (int)fy - dy), 0xd62728, 40);
    CHECK(red >= 3);
    /* NA ratio: no bar at sample 7 (just above the baseline) */
    CHECK(!near_rgb(tpng_px(&png, (int)nx, (int)ny - 1), 0x4c72b0, 10));
    CHECK_STR(tpng_text(&png, "ConfigHash"), "feedbeef");
    tpng_free(&png);

    im = cg_plot_render_longitudinal(s, 9, &m, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), 2);
    /* visits in natural order: V1 (x=0), V2 (1), V10 (2); P02 is the
     * second subject (palette colour 1): its V1 Treg point is sample 5 */
    double qx, qy;
    cg_plot_image_map(im, 1, 0, s[5].treg_pct, &qx, &qy);
    snprintf(path, sizeof path, "%s/plot_longitudinal.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_image_free(im);
    REQUIRE(tpng_read(path, &png) == 0);
    CHECK(near_rgb(tpng_px(&png, (int)qx, (int)qy), 0xd62728, 30));
    tpng_free(&png);
    /* P01's V10 Treg (sample 0) sits at x = 2 in subject colour 0 */
    im = cg_plot_render_longitudinal(s, 9, &m, &err);
    REQUIRE(im);
    cg_plot_image_map(im, 1, 2, s[0].treg_pct, &qx, &qy);
    uint32_t c = cg_plot_image_pixel(im, (int)qx, (int)qy);
    CHECKM((c & 0xffffff) == 0x1f77b4, "P01 V10 colour %06x",
           (unsigned)(c & 0xffffff));
    cg_plot_image_free(im);
    /* no subject/visit: a clear error */
    for (int i = 0; i < 9; i++)
        s[i].visit = NULL;
    CHECK(cg_plot_render_longitudinal(s, 9, &m, &err) == NULL);
    CHECK_INT(err.code, CG_E_DATA);
}

static void test_qc(void)
{
    enum { NB = 60, NM = 40, NC = 4 };
    double t[NB + 1], rate[NB], mx[NM], med[NC * NM];
    uint8_t fl[NB] = {0}, cf[NC] = {0, 0, 1, 0};
    for (int i = 0; i <= NB; i++)
        t[i] = i * 5.0;
    for (int i = 0; i < NB; i++)
        rate[i] = 2000 + 100 * sin(i * 0.7);
    for (int i = 30; i < 34; i++) {
        rate[i] = 300;
        fl[i] = 1;
    }
    rate[34] = 4500;
    fl[34] = 1;
    for (int i = 0; i < NM; i++) {
        mx[i] = (i + 0.5) * 300.0 / NM;
        for (int c = 0; c < NC; c++)
            med[c * NM + i] = 2.0 + c + (c == 2 ? 0.02 * i : 0.01 * sin(i));
    }
    const char *names[NC] = {"CD3", "CD4", "CD25", "CD127"};
    cg_plot_qc q = {0};
    q.nbins = NB;
    q.t = t;
    q.rate = rate;
    q.flagged = fl;
    q.rate_lo = 1500;
    q.rate_hi = 2500;
    q.pct_flagged = 4.2;
    q.nchan = NC;
    q.chan_names = names;
    q.chan_flag = cf;
    q.nmed = NM;
    q.med_x = mx;
    q.med = med;
    cg_plot_meta m = {.sample = "P01_V1"};
    cg_err err;
    cg_plot_image *im = cg_plot_render_qc(&q, &m, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), 1 + NC);
    cg_plot_rect a;
    cg_plot_image_area(im, 0, &a);
    double sx, sy, ux, uy, cx, cy;
    cg_plot_image_map(im, 0, 31 * 5.0 + 2.5, 0, &sx, &sy);  /* flagged */
    cg_plot_image_map(im, 0, 10 * 5.0 + 2.5, 0, &ux, &uy);  /* clean */
    cg_plot_image_map(im, 3, 31 * 5.0 + 2.5, 0, &cx, &cy);  /* CD25 panel */
    cg_plot_rect a3;
    REQUIRE(cg_plot_image_area(im, 3, &a3) == 0);
    CHECK_INT(cg_plot_image_area(im, 1 + NC, &a3), -1);
    cg_plot_image_area(im, 3, &a3);
    char path[512];
    snprintf(path, sizeof path, "%s/plot_qc.png", CG_TEST_OUT);
    REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
    cg_plot_image_free(im);
    tpng png;
    REQUIRE(tpng_read(path, &png) == 0);
    int y_hi = a.y + (int)(a.h * 0.05) + 2; /* above the rate line */
    CHECK(near_rgb(tpng_px(&png, (int)sx, y_hi), 0xf6c9c9, 2));
    CHECK(tpng_is_white(tpng_px(&png, (int)ux, y_hi)));
    CHECK(near_rgb(tpng_px(&png, (int)cx, a3.y + 3), 0xf6c9c9, 2));
    (void)cy;
    tpng_free(&png);
    /* medians in their own units (event index): own x range, no shading */
    for (int i = 0; i < NM; i++)
        mx[i] = i * 2500.0;
    q.med_x_label = "Event";
    im = cg_plot_render_qc(&q, &m, &err);
    REQUIRE(im);
    cg_plot_rect a1;
    double ex0, ey0, ex1, ey1;
    REQUIRE(cg_plot_image_area(im, 1, &a1) == 0);
    cg_plot_image_map(im, 1, mx[0], 2.0, &ex0, &ey0);
    cg_plot_image_map(im, 1, mx[NM - 1], 2.0, &ex1, &ey1);
    CHECK(ex0 >= a1.x - 0.5 && ex1 <= a1.x + a1.w + 0.5);
    CHECK(ex1 - ex0 > 0.9 * a1.w);
    CHECK(cg_plot_image_pixel(im, a1.x + a1.w / 2, a1.y + 3) == 0xffffffffu);
    cg_plot_image_free(im);
    /* no time channel */
    q.nbins = 0;
    q.t = NULL;
    q.rate = NULL;
    for (int i = 0; i < NM; i++)
        mx[i] = i * 1000.0;
    im = cg_plot_render_qc(&q, &m, &err);
    REQUIRE(im);
    CHECK_INT(cg_plot_image_npanels(im), NC);
    cg_plot_image_free(im);
}

int main(void)
{
    test_strategy();
    test_batch();
    test_qc();
    cg_plot_shutdown(); /* font caches, so LSan sees no leak */
    return TEST_DONE();
}
