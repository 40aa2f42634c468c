/*
 * test_plot_bench.c -- render time of a 1,000,000-event pseudocolor panel
 * (strategy-cell size and slide size), reported (median, min, max of 7)
 * but never asserted: speed goals are benchmark figures (`cytogate
 * bench`), not timed tests.  The rendered image is checked (density
 * drawn, gate outline present), so a broken render cannot pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plot.h"
#include "test_plot_png.h"
#include "testutil.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this (single-threaded) process: what the render costs,
 * less sensitive than wall time to other jobs sharing the cores. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    const int64_t n = 1000000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    cg_bits *mask = cg_bits_new(n);
    REQUIRE(x && y && mask);
    trng r = {12345, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        int c = trng_u(&r) < 0.7;
        x[i] = c ? 0.30 + 0.05 * trng_norm(&r) : 0.65 + 0.06 * trng_norm(&r);
        y[i] = c ? 0.60 + 0.07 * trng_norm(&r) : 0.30 + 0.05 * trng_norm(&r);
        if (trng_u(&r) < 0.95)
            cg_bits_set(mask, i);
    }
    cg_plot_panel p = {0};
    p.title = "cd4";
    p.x = x;
    p.y = y;
    p.n = n;
    p.mask = mask;
    cg_plot_axis_linear(&p.xaxis, "CD25 (PE-A)", 0, 1);
    cg_plot_axis_linear(&p.yaxis, "CD127 (BV421-A)", 0, 1);
    cg_plot_overlay g = {0};
    g.kind = CG_PLOT_OV_RECT;
    g.name = "treg";
    g.pct = 30;
    g.x0 = 0.5;
    g.x1 = 0.9;
    g.y0 = 0.1;
    g.y1 = 0.45;
    p.overlays = &g;
    p.noverlays = 1;
    cg_plot_meta m = {.sample = "bench", .x_marker = "CD25",
                      .y_marker = "CD127"};
    const int sizes[2][2] = {{CG_PLOT_CELL_W, CG_PLOT_CELL_H},
                             {CG_PLOT_SLIDE_W, CG_PLOT_SLIDE_H}};
    for (int s = 0; s < 2; s++) {
        double t[7], tw[7], tc[7];
        cg_err err;
        char path[512];
        snprintf(path, sizeof path, "%s/plot_bench_%d.png", CG_TEST_OUT, s);
        for (int k = 0; k < 7; k++) {
            double c0 = cpu_ms(), t0 = now_ms();
            cg_plot_image *im =
                cg_plot_render_panel(&p, &m, sizes[s][0], sizes[s][1], &err);
            double t1 = now_ms();
            tc[k] = cpu_ms() - c0;
            REQUIRE(im);
            REQUIRE(cg_plot_image_write_png(im, path, &err) == 0);
            double t2 = now_ms();
            t[k] = t1 - t0;
            tw[k] = t2 - t1;
            if (k == 0) {
                double gx, gy, cx, cy;
                cg_plot_image_map(im, 0, 0.7, 0.45, &gx, &gy); /* top edge */
                cg_plot_image_map(im, 0, 0.65, 0.30, &cx, &cy);
                uint32_t c = cg_plot_image_pixel(im, (int)cx, (int)cy);
                CHECKM(c != 0xffffffffu, "no density at the cloud centre");
                int dark = 0;
                for (int d = -1; d <= 1; d++) {
                    uint32_t q = cg_plot_image_pixel(im, (int)gx, (int)gy + d);
                    dark |= ((q >> 16) & 255) < 60 && ((q >> 8) & 255) < 60 &&
                            (q & 255) < 60;
                }
                CHECK(dark);
            }
            cg_plot_image_free(im);
        }
        qsort(t, 7, sizeof t[0], cmpd);
        qsort(tw, 7, sizeof tw[0], cmpd);
        qsort(tc, 7, sizeof tc[0], cmpd);
        printf("1,000,000 events, %dx%d: render wall median %.1f ms (min "
               "%.1f, max %.1f), CPU median %.1f ms (min %.1f); PNG write "
               "median %.1f ms\n",
               sizes[s][0], sizes[s][1], t[3], t[0], t[6], tc[3], tc[0],
               tw[3]);
        CHECK(tc[0] > 0 && isfinite(tc[0]));
    }
    cg_bits_free(mask);
    free(x);
    free(y);
    cg_plot_shutdown(); /* font caches, so LSan sees no leak */
    return TEST_DONE();
}
