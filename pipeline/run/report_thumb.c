/*
 * report_thumb.c -- the small PNG thumbnails of the review report
 * (report.h): a figure read with libpng's simplified API, shrunk by area
 * averaging (every source pixel contributes to the thumbnail pixels it
 * overlaps, weighted by the overlap), written as 8-bit RGB through a
 * temporary name.
 *
 * Invariants: integer-free arithmetic in doubles with a fixed order of
 * summation, so the same figure always gives the same bytes; a figure
 * narrower than the thumbnail is copied pixel for pixel (never enlarged).
 *
 * Threading: no shared state; any thread.
 */
#include "report.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* One axis of the box filter: for output pixel o, source pixels
 * [lo, hi) with weights; scale = src / dst (>= 1). */
static void box_axis(int o, double scale, int src, int *lo, int *hi)
{
    double a = o * scale, b = (o + 1) * scale;
    *lo = (int)a;
    *hi = (int)b;
    if ((double)*hi < b)
        (*hi)++;
    if (*hi > src)
        *hi = src;
}

static double overlap(int p, double a, double b)
{
    double l = p > a ? p : a, r = p + 1 < b ? p + 1 : b;
    return r > l ? r - l : 0;
}

/* One axis of the shrink, tabulated: for output pixel o, source pixels
 * [lo[o], hi[o]) with weights wt[at[o] ..], each overlap() as computed
 * in place before, so the sums are the same to the bit. */
typedef struct box_tab {
    int *lo, *hi, *at;
    double *wt;
} box_tab;

static void box_free(box_tab *t)
{
    free(t->lo);
    free(t->hi);
    free(t->at);
    free(t->wt);
}

static int box_make(box_tab *t, int src, int dst)
{
    double s = (double)src / dst;
    t->lo = malloc((size_t)dst * sizeof *t->lo);
    t->hi = malloc((size_t)dst * sizeof *t->hi);
    t->at = malloc((size_t)dst * sizeof *t->at);
    /* each output pixel spans at most ceil(s) + 1 source pixels */
    size_t cap = (size_t)dst * ((size_t)s + 2);
    t->wt = malloc(cap * sizeof *t->wt);
    if (!t->lo || !t->hi || !t->at || !t->wt) {
        box_free(t);
        return -1;
    }
    size_t k = 0;
    for (int o = 0; o < dst; o++) {
        box_axis(o, s, src, &t->lo[o], &t->hi[o]);
        t->at[o] = (int)k;
        for (int p = t->lo[o]; p < t->hi[o] && k < cap; p++)
            t->wt[k++] = overlap(p, o * s, (o + 1) * s);
    }
    return 0;
}

/* Shrink RGB src (sw x sh) to dst (dw x dh); -1 when out of memory. */
static int shrink(const unsigned char *src, int sw, int sh,
                  unsigned char *dst, int dw, int dh)
{
    box_tab tx = {0}, ty = {0};
    if (box_make(&tx, sw, dw) < 0 || box_make(&ty, sh, dh) < 0) {
        box_free(&tx);
        return -1;
    }
    for (int oy = 0; oy < dh; oy++) {
        int y0 = ty.lo[oy], y1 = ty.hi[oy];
        const double *wys = ty.wt + ty.at[oy]; /* wys[y - y0] */
        for (int ox = 0; ox < dw; ox++) {
            int x0 = tx.lo[ox], x1 = tx.hi[ox];
            const double *wxs = tx.wt + tx.at[ox];
            double acc[3] = {0, 0, 0}, wsum = 0;
            for (int y = y0; y < y1; y++) {
                double wy = wys[y - y0];
                const unsigned char *row = src + (size_t)y * sw * 3;
                for (int x = x0; x < x1; x++) {
                    double w = wy * wxs[x - x0];
                    acc[0] += w * row[3 * x];
                    acc[1] += w * row[3 * x + 1];
                    acc[2] += w * row[3 * x + 2];
                    wsum += w;
                }
            }
            unsigned char *d = dst + ((size_t)oy * dw + ox) * 3;
            for (int c = 0; c < 3; c++) {
                double v = wsum > 0 ? acc[c] / wsum + 0.5 : 255;
                d[c] = (unsigned char)(v > 255 ? 255 : v);
            }
        }
    }
    box_free(&tx);
    box_free(&ty);
    return 0;
}

static int write_rgb(const char *path, const unsigned char *px, int w, int h,
                     cg_err *err)
{
    png_image out;
    memset(&out, 0, sizeof out);
    out.version = PNG_IMAGE_VERSION;
    out.width = (png_uint_32)w;
    out.height = (png_uint_32)h;
    out.format = PNG_FORMAT_RGB;
    cg_atomic at;
    FILE *fp = cg_atomic_open(&at, path);
    if (!fp)
        return cg_err_set(err, CG_E_IO, "%s: cannot create: %s", path,
                          strerror(errno));
    if (!png_image_write_to_stdio(&out, fp, 0, px, 0, NULL)) {
        cg_err_set(err, CG_E_IO, "%s: cannot write PNG: %s", path,
                   out.message);
        png_image_free(&out);
        cg_atomic_abort(&at);
        return -1;
    }
    png_image_free(&out);
    if (cg_atomic_commit(&at) < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path,
                          strerror(errno));
    return 0;
}

int cg_report_thumbnail(const char *src, const char *dst, int max_w,
                        int *out_w, int *out_h, cg_err *err)
{
    png_image in;
    memset(&in, 0, sizeof in);
    in.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&in, src))
        return cg_err_set(err, CG_E_PARSE, "%s: not a readable PNG: %s", src,
                          in.message);
    in.format = PNG_FORMAT_RGB;
    int sw = (int)in.width, sh = (int)in.height;
    if (sw <= 0 || sh <= 0 || sw > 20000 || sh > 20000) {
        png_image_free(&in);
        return cg_err_set(err, CG_E_PARSE, "%s: PNG of %dx%d pixels", src,
                          sw, sh);
    }
    unsigned char *px = malloc((size_t)sw * sh * 3);
    png_color white = {255, 255, 255};
    if (!px) {
        png_image_free(&in);
        return cg_err_set(err, CG_E_NOMEM, "%s: out of memory", src);
    }
    if (!png_image_finish_read(&in, &white, px, 0, NULL)) {
        cg_err_set(err, CG_E_PARSE, "%s: cannot decode PNG: %s", src,
                   in.message);
        png_image_free(&in);
        free(px);
        return -1;
    }
    int dw = sw, dh = sh;
    if (max_w > 0 && sw > max_w) {
        dw = max_w;
        dh = (int)((double)sh * max_w / sw + 0.5);
        if (dh < 1)
            dh = 1;
    }
    int rc;
    if (dw == sw) {
        rc = write_rgb(dst, px, sw, sh, err);
    } else {
        unsigned char *t = malloc((size_t)dw * dh * 3);
        if (!t) {
            free(px);
            return cg_err_set(err, CG_E_NOMEM, "%s: out of memory", src);
        }
        rc = shrink(px, sw, sh, t, dw, dh) < 0
                 ? cg_err_set(err, CG_E_NOMEM, "%s: out of memory", src)
                 : write_rgb(dst, t, dw, dh, err);
        free(t);
    }
    free(px);
    if (rc == 0) {
        *out_w = dw;
        *out_h = dh;
    }
    return rc;
}
