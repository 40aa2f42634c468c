/*
 * test_gate_exact.c -- the fast gate paths against plain reference loops,
 * event for event, where boundaries are hardest:
 *   polygons: the band index, cell grid and SSE2 word paths against the
 *     plain all-edges even-odd loop (on-edge and on-vertex points inside),
 *     on random self-intersecting polygons, integer grids with many
 *     on-edge points, horizontal edge runs, thin and far-off-scale shapes
 *     (1e-20 .. 1e20), points on vertices, on edges, a few ulps off edges,
 *     just off by 1e-1 .. 1e-16 of the box, NaN and +-inf;
 *   rectangles (1-3 dims): the dense-word SSE2 path against min <= x < max
 *     with NaN, +-inf, integer-valued data and open ends;
 * each with and without a parent mask.  Deterministic (xorshift seeds).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "dims.h"
#include "frame.h"
#include "gate.h"
#include "testutil.h"

static unsigned long long rs = 88172645463325252ULL;

static double ur(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) * (1.0 / 9007199254740992.0);
}

static double nudge(double v, int k)
{
    for (int i = 0; i < abs(k); i++)
        v = nextafter(v, k > 0 ? INFINITY : -INFINITY);
    return v;
}

/* Reference: bounding box, then every edge; on an edge means inside. */
static int poly_ref(const double *v, int nv, double x, double y)
{
    double xmin = v[0], xmax = v[0], ymin = v[1], ymax = v[1];
    for (int k = 1; k < nv; k++) {
        xmin = fmin(xmin, v[2 * k]);
        xmax = fmax(xmax, v[2 * k]);
        ymin = fmin(ymin, v[2 * k + 1]);
        ymax = fmax(ymax, v[2 * k + 1]);
    }
    if (!(x >= xmin && x <= xmax && y >= ymin && y <= ymax))
        return 0;
    int c = 0;
    double xj = v[2 * (nv - 1)], yj = v[2 * (nv - 1) + 1];
    for (int k = 0; k < nv; k++) {
        double xi = v[2 * k], yi = v[2 * k + 1];
        double cross = (xi - xj) * (y - yj) - (x - xj) * (yi - yj);
        if (cross == 0.0 && x >= fmin(xi, xj) && x <= fmax(xi, xj) &&
            y >= fmin(yi, yj) && y <= fmax(yi, yj))
            return 1;
        if ((yi > y) != (yj > y) && (yi > yj ? cross > 0 : cross < 0))
            c ^= 1;
        xj = xi;
        yj = yi;
    }
    return c;
}

/* Evaluate g over fr with and without a random parent; count mismatches
 * against want(i) (1/0 per event, before the parent). */
static long eval_compare(cg_gate *g, cg_frame *fr, const unsigned char *want)
{
    cg_err e = {0};
    int64_t n = fr->n;
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    cg_bits *o = cg_bits_new(n), *par = cg_bits_new(n);
    cg_bits *outs[1] = {o};
    double dens = ur();
    for (int64_t i = 0; i < n; i++)
        if (ur() < dens)
            cg_bits_set(par, i);
    long bad = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (cg_gate_eval(g, dc, pass ? par : NULL, outs, &e) != 0) {
            fprintf(stderr, "eval: %s\n", e.msg);
            bad++;
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            int w = want[i] && (!pass || cg_bits_get(par, i));
            bad += w != cg_bits_get(o, i);
        }
    }
    cg_bits_free(o);
    cg_bits_free(par);
    cg_dims_free(dc);
    return bad;
}

static void polygons(int iters)
{
    const int N = 20000;
    double *X = malloc(N * sizeof *X), *Y = malloc(N * sizeof *Y);
    unsigned char *want = malloc(N);
    long bad = 0, tot = 0, inside = 0;
    for (int it = 0; it < iters; it++) {
        int kind = it % 6;
        int nv = 3 + (int)(ur() * (kind == 5 ? 200 : 40));
        double *v = malloc((size_t)nv * 2 * sizeof *v);
        double sc = kind == 4 ? pow(10, (int)(ur() * 40) - 20) : 100;
        for (int k = 0; k < nv; k++) {
            if (kind == 0) { /* random, self-intersecting */
                v[2 * k] = ur() * sc;
                v[2 * k + 1] = ur() * sc;
            } else if (kind == 1) { /* integer grid: many on-edge points */
                v[2 * k] = floor(ur() * 10);
                v[2 * k + 1] = floor(ur() * 10);
            } else { /* star-like; 3: thin; 4: far-off scale */
                double a = 2 * M_PI * k / nv, r = sc * (0.5 + 0.5 * ur());
                v[2 * k] = r * cos(a) * (kind == 3 ? 5 : 1) +
                           (kind == 4 ? sc * 3 : 0);
                v[2 * k + 1] = r * sin(a) * (kind == 3 ? 0.02 : 1);
            }
        }
        if (kind == 2 && nv > 4)
            v[3] = v[5] = v[1]; /* horizontal runs */
        double xmn = v[0], xmx = v[0], ymn = v[1], ymx = v[1];
        for (int k = 1; k < nv; k++) {
            xmn = fmin(xmn, v[2 * k]);
            xmx = fmax(xmx, v[2 * k]);
            ymn = fmin(ymn, v[2 * k + 1]);
            ymx = fmax(ymx, v[2 * k + 1]);
        }
        double W = xmx - xmn, H = ymx - ymn;
        for (int i = 0; i < N; i++) {
            int m = i % 8;
            double x, y;
            if (m == 0) {
                x = xmn + W * (ur() * 1.2 - 0.1);
                y = ymn + H * (ur() * 1.2 - 0.1);
                if (kind == 1) {
                    x = floor(x * 2) / 2;
                    y = floor(y * 2) / 2;
                }
            } else if (m == 1) { /* on a vertex */
                int k = (int)(ur() * nv);
                x = v[2 * k];
                y = v[2 * k + 1];
            } else { /* on an edge, then nudged ulps or a relative hair */
                int k = (int)(ur() * nv), j = (k + nv - 1) % nv;
                double t = kind == 1 ? floor(ur() * 4) / 4 : ur();
                x = v[2 * j] + t * (v[2 * k] - v[2 * j]);
                y = v[2 * j + 1] + t * (v[2 * k + 1] - v[2 * j + 1]);
                if (m == 3 || m == 4) {
                    x = nudge(x, (int)(ur() * 7) - 3);
                    y = nudge(y, (int)(ur() * 7) - 3);
                }
                if (m >= 5) {
                    double f = pow(10, -(1 + ur() * 15));
                    x += (ur() - 0.5) * W * f;
                    y += (ur() - 0.5) * H * f;
                    if (m == 7) /* on a grid cell boundary */
                        x = xmn + floor((x - xmn) / W * 128) * W / 128;
                }
            }
            double u = ur();
            if (u < 0.01) x = NAN;
            else if (u < 0.02) y = NAN;
            else if (u < 0.03) x = INFINITY;
            else if (u < 0.04) y = -INFINITY;
            X[i] = x;
            Y[i] = y;
            want[i] = (unsigned char)poly_ref(v, nv, x, y);
            inside += want[i];
        }
        cg_err e = {0};
        cg_frame *fr = cg_frame_new(N);
        double *cx = malloc(N * sizeof *cx), *cy = malloc(N * sizeof *cy);
        memcpy(cx, X, N * sizeof *cx);
        memcpy(cy, Y, N * sizeof *cy);
        cg_frame_add(fr, "x", NULL, 0, cx, &e);
        cg_frame_add(fr, "y", NULL, 0, cy, &e);
        cg_dim d[2];
        cg_dim_init(&d[0]);
        cg_dim_init(&d[1]);
        cg_dim_set_channel(&d[0], "x", CG_COMP_NONE, NULL, &e);
        cg_dim_set_channel(&d[1], "y", CG_COMP_NONE, NULL, &e);
        cg_gate *g = cg_gate_polygon_new("p", d, nv, v, &e);
        REQUIRE(g != NULL);
        long b = eval_compare(g, fr, want);
        CHECKM(b == 0, "polygon it %d kind %d nv %d: %ld mismatches", it,
               kind, nv, b);
        bad += b;
        tot += 2L * N;
        cg_gate_free(g);
        cg_frame_free(fr);
        cg_dim_clear(&d[0]);
        cg_dim_clear(&d[1]);
        free(v);
    }
    printf("polygons: %d shapes, %ld evaluations (%ld inside), %ld "
           "mismatches\n", iters, tot, inside, bad);
    free(X);
    free(Y);
    free(want);
}

static double rect_val(void)
{
    double u = ur();
    if (u < 0.05) return NAN;
    if (u < 0.08) return INFINITY;
    if (u < 0.11) return -INFINITY;
    if (u < 0.3) return floor(ur() * 5); /* exactly on bounds often */
    return ur() * 5;
}

static void rectangles(int iters)
{
    const int N = 10007; /* not a multiple of 64: partial last word */
    unsigned char *want = malloc(N);
    long bad = 0, tot = 0;
    for (int it = 0; it < iters; it++) {
        int nd = 1 + it % 3;
        cg_err e = {0};
        cg_frame *fr = cg_frame_new(N);
        cg_dim d[3];
        const char *nm[3] = {"a", "b", "c"};
        double mn[3], mx[3];
        for (int k = 0; k < nd; k++) {
            double *c = malloc(N * sizeof *c);
            for (int i = 0; i < N; i++)
                c[i] = rect_val();
            cg_frame_add(fr, nm[k], NULL, 0, c, &e);
            cg_dim_init(&d[k]);
            cg_dim_set_channel(&d[k], nm[k], CG_COMP_NONE, NULL, &e);
            double a = floor(ur() * 6) - 0.5 * (it % 2), b = a + 1 + floor(ur() * 3);
            mn[k] = ur() < 0.2 ? -INFINITY : a;
            mx[k] = ur() < 0.2 ? INFINITY : b;
        }
        for (int i = 0; i < N; i++) {
            int w = 1;
            for (int k = 0; k < nd; k++) {
                double x = fr->col[k][i];
                if (!(x >= mn[k] && x < mx[k]))
                    w = 0;
            }
            want[i] = (unsigned char)w;
        }
        cg_gate *g = cg_gate_rect_new("r", nd, d, mn, mx, &e);
        REQUIRE(g != NULL);
        long b = eval_compare(g, fr, want);
        CHECKM(b == 0, "rectangle it %d (%d dims): %ld mismatches", it, nd, b);
        bad += b;
        tot += 2L * N;
        cg_gate_free(g);
        cg_frame_free(fr);
        for (int k = 0; k < nd; k++)
            cg_dim_clear(&d[k]);
    }
    printf("rectangles: %d gates, %ld evaluations, %ld mismatches\n", iters,
           tot, bad);
    free(want);
}

int main(void)
{
    polygons(120);
    rectangles(120);
    return TEST_DONE();
}
