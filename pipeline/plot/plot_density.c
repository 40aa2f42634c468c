/*
 * plot_density.c -- the pseudocolor dot plot: events binned into a 2-D
 * histogram with one bin per plot-area pixel (in transformed units),
 * smoothed with a separable Gaussian, and each OCCUPIED pixel coloured by
 * its smoothed density on the blue -> cyan -> green -> yellow -> red ramp
 * (log density between the sparsest occupied pixel and the densest).
 * Empty pixels stay white, so single outlying events remain visible as
 * blue dots, as in FlowJo's pseudocolor plots.
 *
 * Cost is O(events) for binning (no cairo call per event; masks are walked
 * a 64-bit word at a time) plus O(pixels x kernel) for smoothing; a 1e6
 * event panel takes a few milliseconds.  Events beyond the display range
 * are piled onto the edge pixels (as commercial software does); NaN
 * values are skipped.  Large panels draw each occupied pixel as a 2x2 dot
 * (max density of the block wins) so sparse events stay visible.
 *
 * Threading: writes only inside the image's plot area; no shared state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

static inline int bin_of(double v, double lo, double f, int n)
{
    double u = (v - lo) * f;
    if (!(u >= 0))
        return 0;
    if (u >= n - 1)
        return n - 1;
    return (int)u;
}

/* The grid g (w x h) of counts turned in place into the density drawn
 * at each pixel: a separable Gaussian blur (taps k[0..2r], rows, then
 * columns), kept where the pixel has events (at least 1e-6) and 0
 * elsewhere; *dmin and *dmax over the occupied pixels.  Row results wait
 * in a ring of 2r + 1 rows (ring: w x (2r + 1) floats) and out (w floats)
 * holds one output row, so a pixel costs 4 bytes, not 16; an output row
 * overwrites its counts after the last row pass that reads them.  Both
 * passes run the tap loop outermost, so the inner loop is a straight
 * multiply-add over a row (vectorisable), in the same order for every
 * pixel.  pad: w + 2r floats. */
static void blur_occupied(uint32_t *g, float *ring, float *pad, float *out,
                          int w, int h, int r, const float *k, float *dmin,
                          float *dmax)
{
    float lo = INFINITY, hi = 0;
    int R = 2 * r + 1, done = 0; /* row-pass rows [0, done) computed */
    memset(pad, 0, (size_t)(w + 2 * r) * sizeof *pad);
    for (int y = 0; y < h; y++) {
        int last = y + r < h ? y + r : h - 1;
        for (; done <= last; done++) { /* row pass: zero-padded copy, taps */
            const uint32_t *srow = g + (size_t)done * w;
            for (int x = 0; x < w; x++)
                pad[r + x] = (float)srow[x];
            float *restrict t = ring + (size_t)(done % R) * w;
            memset(t, 0, (size_t)w * sizeof *t);
            for (int j = 0; j <= 2 * r; j++) {
                const float *restrict s = pad + j;
                float kj = k[j];
                for (int x = 0; x < w; x++)
                    t[x] += kj * s[x];
            }
        }
        float *restrict d = out;
        memset(d, 0, (size_t)w * sizeof *d);
        int a = y - r < 0 ? r - y : 0;
        int b = y + r >= h ? r + (h - 1 - y) : 2 * r;
        for (int j = a; j <= b; j++) {
            const float *restrict t = ring + (size_t)((y - r + j) % R) * w;
            float kj = k[j];
            for (int x = 0; x < w; x++)
                d[x] += kj * t[x];
        }
        uint32_t *crow = g + (size_t)y * w;
        float *frow = (float *)(void *)crow; /* the same row, as densities */
        for (int x = 0; x < w; x++) {
            float v = 0;
            if (crow[x] > 0) {
                v = d[x] > 1e-6f ? d[x] : 1e-6f;
                if (v < lo)
                    lo = v;
                if (v > hi)
                    hi = v;
            }
            frow[x] = v;
        }
    }
    *dmin = lo;
    *dmax = hi;
}

int cgp_density(cg_plot_image *im, const cgp_pinfo *pi,
                const cg_plot_panel *p, cg_err *err)
{
    int w = pi->area.w, h = pi->area.h;
    size_t np = (size_t)w * h;
    int mn = w < h ? w : h;
    double sigma = 1.0 + mn / 250.0;
    int r = (int)ceil(2.5 * sigma);
    if (r > 32)
        r = 32;
    float k[65];
    double sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = (float)exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] = (float)(k[i] / sum);
    /* counts, then densities in place (uint32 and float: 4 bytes each) */
    cg_plot_mem *from;
    uint32_t *cnt = cgp_alloc(np * sizeof *cnt, &from);
    size_t nring = (size_t)(2 * r + 2) * (size_t)w + (size_t)(w + 2 * r);
    float *ring = malloc(nring * sizeof *ring);
    if (!cnt || !ring) {
        cgp_release(cnt, from);
        free(ring);
        return cg_err_set(err, CG_E_NOMEM, "out of memory for a %dx%d plot",
                          w, h);
    }
    memset(cnt, 0, np * sizeof *cnt); /* integer adds: no FP latency */
    float *out = ring + (size_t)(2 * r + 1) * w, *pad = out + w;
    const double *x = p->x, *y = p->y;
    double fx = w / (pi->xhi - pi->xlo), fy = h / (pi->yhi - pi->ylo);
    double xlo = pi->xlo, ylo = pi->ylo;
    if (p->mask) {
        int64_t nw = cg_bits_words(p->n);
        for (int64_t wi = 0; wi < nw; wi++) {
            uint64_t bits = p->mask->w[wi];
            while (bits) {
                int64_t i = wi * 64 + __builtin_ctzll(bits);
                bits &= bits - 1;
                if (isnan(x[i]) || isnan(y[i]))
                    continue;
                int ix = bin_of(x[i], xlo, fx, w);
                int iy = h - 1 - bin_of(y[i], ylo, fy, h);
                cnt[(size_t)iy * w + ix] += 1;
            }
        }
    } else {
        for (int64_t i = 0; i < p->n; i++) {
            if (isnan(x[i]) || isnan(y[i]))
                continue;
            int ix = bin_of(x[i], xlo, fx, w);
            int iy = h - 1 - bin_of(y[i], ylo, fy, h);
            cnt[(size_t)iy * w + ix] += 1;
        }
    }
    float dmin, dmax, *sm = (float *)(void *)cnt;
    blur_occupied(cnt, ring, pad, out, w, h, r, k, &dmin, &dmax);
    int dot = mn >= 480 ? 2 : 1;
    if (dot == 2) {
        /* 2x2 max filter: a pixel takes the densest of itself, its left,
         * upper and upper-left neighbours; in place, from the last row
         * and column back, so what is read is not yet written */
        for (int yy = h - 1; yy >= 0; yy--) {
            const float *r0 = sm + (size_t)(yy > 0 ? yy - 1 : 0) * w;
            float *r1 = sm + (size_t)yy * w;
            for (int xx = w - 1; xx >= 1; xx--) {
                float a = r0[xx] > r1[xx] ? r0[xx] : r1[xx];
                float b = r0[xx - 1] > r1[xx - 1] ? r0[xx - 1] : r1[xx - 1];
                r1[xx] = a > b ? a : b;
            }
            r1[0] = r0[0] > r1[0] ? r0[0] : r1[0];
        }
    }
    if (dmax > 0) {
        uint32_t lut[256];
        for (int i = 0; i < 256; i++)
            lut[i] = 0xff000000u | cgp_ramp(i / 255.0);
        double l0 = log(dmin), span = log(dmax) - l0;
        /* a flat plot (all pixels alike) is drawn mid-ramp */
        double scale = span > 1e-6 ? 255.0 / span : 0;
        int flat = !(span > 1e-6);
        cairo_surface_flush(im->surf);
        unsigned char *data = cairo_image_surface_get_data(im->surf);
        int stride = cairo_image_surface_get_stride(im->surf);
        for (int yy = 0; yy < h; yy++) {
            uint32_t *row = (uint32_t *)(void *)(data +
                                                 (size_t)(pi->area.y + yy) *
                                                     stride) +
                            pi->area.x;
            const float *s = sm + (size_t)yy * w;
            for (int xx = 0; xx < w; xx++) {
                if (s[xx] <= 0)
                    continue;
                int c = flat ? 96
                             : (int)((logf(s[xx]) - l0) * scale + 0.5);
                if (c < 0)
                    c = 0;
                if (c > 255)
                    c = 255;
                row[xx] = lut[c];
            }
        }
        cairo_surface_mark_dirty_rectangle(im->surf, pi->area.x, pi->area.y,
                                           w, h);
    }
    cgp_release(cnt, from);
    free(ring);
    return 0;
}
