/*
 * gate_polygon.c -- polygon gates in two dimensions.
 *
 * The polygon is implicitly closed (last vertex joins the first).  Inside
 * is decided by the even-odd rule (crossing parity of a ray towards +x),
 * so the doubly wound part of a self-intersecting polygon (the suite's
 * Polygon3NS) is outside.  Points exactly on an edge or a vertex are
 * inside (Gating-ML's intent; see the Polygon1 note in gates1.xml): an
 * edge contains a point when the cross product is exactly zero and the
 * point lies within the edge's bounding box.  A bounding-box test rejects
 * most events before the edge loop.  NaN coordinates are outside.
 *
 * Speed: the bounding box's height is cut into nb equal bands and each
 * band lists the edges whose closed y-range meets it, so an event tests
 * only the few edges of its band.  Band of a value: floor((v - ymin) *
 * inv), clamped to nb - 1.  That map is monotone in v even in floating
 * point, so every edge that spans y or contains the point (both need
 * ey_min <= y <= ey_max) is listed in y's band; the listed edges are
 * tested with exactly the arithmetic of the plain loop over all edges
 * and parity does not depend on order, so the result is identical to
 * testing every edge.
 *
 * Before the bands, a G x G grid of cells over the bounding box answers
 * most events with one lookup.  A cell is "clean" when no edge (widened
 * by two cells horizontally, rasterised row by row) comes near it; a
 * clean cell then holds no boundary point, so the even-odd parity is the
 * same everywhere in it, and it stores the answer at its centre (from
 * the exact band test).  That the plain loop agrees with geometry for
 * every point of a clean cell rests on an error bound: such a point is at
 * least a cell width w = W/G (W: box width) from every edge at its
 * height, while rounding moves the cross product's zero by about 10 ulp
 * of W; and no edge's bounding box can make "on the edge" fire without
 * the raster marking the cell.  The bound needs no underflow or overflow,
 * so the grid is only built when every coordinate is within 1e100, the
 * box is at least 1e-50 on each side, and every edge's height is 0 or at
 * least 1e-100; otherwise the band test alone is used.  Other cells
 * ("mixed") use the band test.  Verified against the plain loop on tens
 * of millions of points placed on and a few ulps beside edges/vertices.
 * Dense words of the parent are evaluated two events at a time with SSE2
 * (box test, cell index, one byte load per event; mixed cells take the
 * scalar band test).  Index and grid are built once at construction; no
 * allocation during evaluation.
 */
#include "gate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* One edge from (xj,yj) to (xi,yi) (the plain loop's orientation), with
 * what the test needs precomputed from exactly the same operations. */
typedef struct pedge {
    double xj, yj, dx, dy;       /* dx = xi - xj, dy = yi - yj */
    double exlo, exhi, eylo, eyhi; /* fmin/fmax of the end points */
    double yi;
    int up;                      /* yi > yj */
} pedge;

typedef struct poly_data {
    int nv;
    double *xy; /* 2*nv */
    double xmin, xmax, ymin, ymax;
    int nb;        /* bands */
    double inv;    /* nb / (ymax - ymin); 0 when nb == 1 */
    int *bstart;   /* nb + 1: band b's edges are bedge[bstart[b]..bstart[b+1]) */
    pedge *bedge;
    uint8_t *cell; /* CG_POLY_G^2 (row-major by y): 0 out, 1 in, 2 mixed;
                      NULL when the grid is not used */
    double gxinv, gyinv; /* G / width, G / height */
} poly_data;

#define CG_POLY_GSHIFT 7
#define CG_POLY_G (1 << CG_POLY_GSHIFT)

static inline int band_of(const poly_data *p, double y)
{
    double d = (y - p->ymin) * p->inv;
    return d < (double)p->nb ? (int)d : p->nb - 1;
}

/* Grid column/row of a value inside the box (monotone, like band_of). */
static inline int grid_of(double v, double lo, double inv)
{
    double d = (v - lo) * inv;
    return d < (double)CG_POLY_G ? (int)d : CG_POLY_G - 1;
}

/* The exact test (bands), for a point inside the bounding box. */
static inline int band_inside(const poly_data *p, double x, double y)
{
    int b = band_of(p, y);
    const pedge *e = p->bedge + p->bstart[b], *end = p->bedge + p->bstart[b + 1];
    /* Per edge, as in the plain loop: on the edge -> inside; else a
     * crossing (the edge spans y and the cross product has the edge's
     * orientation sign: > 0 going up, < 0 going down) toggles parity.
     * Evaluated without branches; "on" anywhere wins over the parity. */
    int on = 0, c = 0;
    for (; e < end; e++) {
        double cross = e->dx * (y - e->yj) - (x - e->xj) * e->dy;
        on |= (cross == 0.0) & (x >= e->exlo) & (x <= e->exhi) &
              (y >= e->eylo) & (y <= e->eyhi);
        c ^= ((e->yi > y) != (e->yj > y)) & (e->up ? cross > 0 : cross < 0);
    }
    return on | c;
}

static inline int poly_inside(const poly_data *p, double x, double y)
{
    if (!(x >= p->xmin && x <= p->xmax && y >= p->ymin && y <= p->ymax))
        return 0; /* also NaN */
    if (p->cell) {
        int v = p->cell[grid_of(y, p->ymin, p->gyinv) * CG_POLY_G +
                        grid_of(x, p->xmin, p->gxinv)];
        if (v < 2)
            return v;
    }
    return band_inside(p, x, y);
}

/* poly_inside for the 64 events at cx, cy (bit b: event b).  With SSE2
 * and the grid, two events at a time: box test and grid cell by packed
 * compares and conversions (the same comparisons, and min(d, G - 1) then
 * truncation picks the same cell as grid_of for any in-box point); only
 * events in mixed cells take the scalar band test. */
static inline uint64_t poly_word(const poly_data *p, const double *cx,
                                 const double *cy)
{
    uint64_t o = 0;
#if defined(__SSE2__)
    if (p->cell) {
        const __m128d x0 = _mm_set1_pd(p->xmin), x1 = _mm_set1_pd(p->xmax);
        const __m128d y0 = _mm_set1_pd(p->ymin), y1 = _mm_set1_pd(p->ymax);
        const __m128d gx = _mm_set1_pd(p->gxinv), gy = _mm_set1_pd(p->gyinv);
        const __m128d gmax = _mm_set1_pd((double)(CG_POLY_G - 1));
        const __m128d zero = _mm_setzero_pd();
        for (int b = 0; b < 64; b += 2) {
            __m128d x = _mm_loadu_pd(cx + b), y = _mm_loadu_pd(cy + b);
            __m128d in = _mm_and_pd(
                _mm_and_pd(_mm_cmpge_pd(x, x0), _mm_cmple_pd(x, x1)),
                _mm_and_pd(_mm_cmpge_pd(y, y0), _mm_cmple_pd(y, y1)));
            int mb = _mm_movemask_pd(in);
            /* cell of each lane, clamped to the grid even outside the box
             * (max_pd returns 0 for NaN), so the loads are always valid */
            __m128i ix = _mm_cvttpd_epi32(_mm_min_pd(
                _mm_max_pd(_mm_mul_pd(_mm_sub_pd(x, x0), gx), zero), gmax));
            __m128i iy = _mm_cvttpd_epi32(_mm_min_pd(
                _mm_max_pd(_mm_mul_pd(_mm_sub_pd(y, y0), gy), zero), gmax));
            __m128i k = _mm_add_epi32(_mm_slli_epi32(iy, CG_POLY_GSHIFT), ix);
            int v0 = p->cell[_mm_cvtsi128_si32(k)];
            int v1 = p->cell[_mm_cvtsi128_si32(_mm_shuffle_epi32(k, 1))];
            int in0 = mb & 1, in1 = mb >> 1;
            if (__builtin_expect(((v0 == 2) & in0) | ((v1 == 2) & in1), 0)) {
                if (v0 == 2 && in0) /* band_of needs an in-box y */
                    v0 = band_inside(p, cx[b], cy[b]);
                if (v1 == 2 && in1)
                    v1 = band_inside(p, cx[b + 1], cy[b + 1]);
            }
            o |= (uint64_t)((v0 & in0) | ((v1 & in1) << 1)) << b;
        }
        return o;
    }
#endif
    for (int b = 0; b < 64; b++)
        o |= (uint64_t)poly_inside(p, cx[b], cy[b]) << b;
    return o;
}

static int poly_eval(const cg_gate *g, const cg_eval_in *in,
                     cg_bits *const *out, cg_err *err)
{
    const poly_data *p = g->data;
    const double *cx = in->col[0], *cy = in->col[1];
    CG_GATE_SCAN_WORD(in, out[0], w, poly_word(p, cx + (w << 6), cy + (w << 6)),
                      i, poly_inside(p, cx[i], cy[i]), 24);
    (void)err;
    return 0;
}

static void poly_free(cg_gate *g)
{
    poly_data *p = g->data;
    free(p->xy);
    free(p->bstart);
    free(p->bedge);
    free(p->cell);
    free(p);
    g->data = NULL;
}

/* Edge k: from vertex k - 1 (cyclically) to vertex k. */
static pedge make_edge(const poly_data *p, int k)
{
    const double *v = p->xy;
    int j = k > 0 ? k - 1 : p->nv - 1;
    double xj = v[2 * j], yj = v[2 * j + 1], xi = v[2 * k], yi = v[2 * k + 1];
    return (pedge){xj, yj, xi - xj, yi - yj, fmin(xi, xj), fmax(xi, xj),
                   fmin(yi, yj), fmax(yi, yj), yi, yi > yj};
}

/* Edges listed per band: about 4 bands per vertex (at most 4096), fewer
 * when long edges would make the lists large (each edge is listed in
 * every band it meets).  0, or -1 on no memory. */
static int build_bands(poly_data *p)
{
    int nv = p->nv;
    pedge *all = malloc((size_t)nv * sizeof *all);
    if (!all)
        return -1;
    for (int k = 0; k < nv; k++)
        all[k] = make_edge(p, k);
    double range = p->ymax - p->ymin;
    int nb = nv < 1024 ? 4 * nv : 4096;
    if (!(range > 0) || !isfinite(range))
        nb = 1;
    int64_t total;
    for (;;) {
        p->nb = nb;
        p->inv = nb > 1 ? (double)nb / range : 0.0;
        if (nb > 1 && !(isfinite(p->inv) && p->inv > 0)) {
            nb = 1;
            continue;
        }
        total = 0;
        for (int k = 0; k < nv; k++)
            total += band_of(p, all[k].eyhi) - band_of(p, all[k].eylo) + 1;
        if (nb == 1 || total <= (int64_t)16 * nv)
            break;
        nb /= 2;
    }
    p->bstart = calloc((size_t)nb + 1, sizeof *p->bstart);
    p->bedge = malloc((size_t)total * sizeof *p->bedge);
    if (!p->bstart || !p->bedge) {
        free(all);
        return -1;
    }
    for (int k = 0; k < nv; k++)
        for (int b = band_of(p, all[k].eylo); b <= band_of(p, all[k].eyhi);
             b++)
            p->bstart[b + 1]++;
    for (int b = 0; b < nb; b++)
        p->bstart[b + 1] += p->bstart[b];
    int *fill = malloc((size_t)nb * sizeof *fill);
    if (!fill) {
        free(all);
        return -1;
    }
    memcpy(fill, p->bstart, (size_t)nb * sizeof *fill);
    for (int k = 0; k < nv; k++)
        for (int b = band_of(p, all[k].eylo); b <= band_of(p, all[k].eyhi);
             b++)
            p->bedge[fill[b]++] = all[k];
    free(fill);
    free(all);
    return 0;
}

/* The cell grid (see the file comment).  Leaves p->cell NULL when the
 * coordinates are outside the range the error bound covers.  0, or -1 on
 * no memory. */
static int build_grid(poly_data *p)
{
    const int G = CG_POLY_G;
    double W = p->xmax - p->xmin, H = p->ymax - p->ymin;
    if (!(W >= 1e-50 && H >= 1e-50 && W <= 1e100 && H <= 1e100))
        return 0;
    for (int k = 0; k < 2 * p->nv; k++)
        if (!(fabs(p->xy[k]) <= 1e100))
            return 0;
    for (int k = 0; k < p->nv; k++) {
        pedge e = make_edge(p, k);
        if (e.dy != 0 && !(fabs(e.dy) >= 1e-100))
            return 0;
    }
    p->gxinv = G / W;
    p->gyinv = G / H;
    uint8_t *c = calloc((size_t)G * G, 1);
    if (!c)
        return -1;
    double hr = H / G;
    /* Mark every cell an edge passes near. */
    for (int k = 0; k < p->nv; k++) {
        pedge ek = make_edge(p, k);
        const pedge *e = &ek;
        int r0 = grid_of(e->eylo, p->ymin, p->gyinv);
        int r1 = grid_of(e->eyhi, p->ymin, p->gyinv);
        for (int r = r0; r <= r1; r++) {
            double ya = fmax(p->ymin + (r - 1) * hr, e->eylo);
            double yb = fmin(p->ymin + (r + 2) * hr, e->eyhi);
            double xa = e->exlo, xb = e->exhi;
            if (e->dy != 0 && ya <= yb) {
                double s = e->dx / e->dy;
                double x0 = e->xj + (ya - e->yj) * s;
                double x1 = e->xj + (yb - e->yj) * s;
                xa = fmax(fmin(x0, x1), e->exlo);
                xb = fmin(fmax(x0, x1), e->exhi);
                if (!(xa <= xb)) { /* rounding; fall back to the box */
                    xa = e->exlo;
                    xb = e->exhi;
                }
            }
            int c0 = grid_of(xa, p->xmin, p->gxinv) - 2;
            int c1 = grid_of(xb, p->xmin, p->gxinv) + 2;
            if (c0 < 0)
                c0 = 0;
            if (c1 > G - 1)
                c1 = G - 1;
            memset(c + (size_t)r * G + c0, 2, (size_t)(c1 - c0 + 1));
        }
    }
    /* Clean cells: a run of clean cells in a row is one boundary-free
     * rectangle, so one exact test at a cell centre answers the run. */
    for (int r = 0; r < G; r++) {
        uint8_t *row = c + (size_t)r * G;
        int i = 0;
        while (i < G) {
            if (row[i] == 2) {
                i++;
                continue;
            }
            int j = i;
            while (j < G && row[j] != 2)
                j++;
            int v = -1;
            for (int q = i; q < j && v < 0; q++) {
                double cx = p->xmin + (q + 0.5) * (W / G);
                double cy = p->ymin + (r + 0.5) * hr;
                if (cx >= p->xmin && cx <= p->xmax && cy >= p->ymin &&
                    cy <= p->ymax && grid_of(cx, p->xmin, p->gxinv) == q &&
                    grid_of(cy, p->ymin, p->gyinv) == r)
                    v = band_inside(p, cx, cy);
            }
            for (; i < j; i++)
                row[i] = (uint8_t)(v < 0 ? 2 : v);
        }
    }
    p->cell = c;
    return 0;
}

static int poly_set(cg_gate *g, int nv, const double *xy, cg_err *err)
{
    poly_data *p = calloc(1, sizeof *p);
    if (!p)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    g->data = p;
    p->nv = nv;
    p->xy = malloc((size_t)nv * 2 * sizeof *p->xy);
    if (!p->xy)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    memcpy(p->xy, xy, (size_t)nv * 2 * sizeof *xy);
    p->xmin = p->xmax = xy[0];
    p->ymin = p->ymax = xy[1];
    for (int k = 1; k < nv; k++) {
        p->xmin = fmin(p->xmin, xy[2 * k]);
        p->xmax = fmax(p->xmax, xy[2 * k]);
        p->ymin = fmin(p->ymin, xy[2 * k + 1]);
        p->ymax = fmax(p->ymax, xy[2 * k + 1]);
    }
    if (build_bands(p) < 0 || build_grid(p) < 0)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    return 0;
}

static int poly_copy(cg_gate *dst, const cg_gate *src, cg_err *err)
{
    const poly_data *p = src->data;
    return poly_set(dst, p->nv, p->xy, err);
}

const cg_gate_ops cg_gate_polygon_ops = {poly_eval, poly_copy, poly_free};

cg_gate *cg_gate_polygon_new(const char *id, const cg_dim dims[2], int nv,
                             const double *xy, cg_err *err)
{
    if (nv < 3 || !xy || !dims) {
        cg_err_set(err, CG_E_ARG, "polygon gate %s: needs 2 dimensions and "
                   ">= 3 vertices (got %d)", id ? id : "?", nv);
        return NULL;
    }
    for (int k = 0; k < 2 * nv; k++)
        if (!isfinite(xy[k])) {
            cg_err_set(err, CG_E_ARG, "polygon gate %s: vertex %d is not "
                       "finite", id ? id : "?", k / 2 + 1);
            return NULL;
        }
    cg_gate *g = cg_gate_alloc(CG_GATE_POLYGON, &cg_gate_polygon_ops, id, 2,
                               dims, 1, NULL, err);
    if (!g)
        return NULL;
    if (poly_set(g, nv, xy, err) < 0) {
        cg_gate_free(g);
        return NULL;
    }
    return g;
}

cg_gate *cg_gate_polygon_new_xy(const char *id, const cg_dim dims[2], int nv,
                                const double *vx, const double *vy,
                                cg_err *err)
{
    if (nv < 3 || !vx || !vy)
        return cg_gate_polygon_new(id, dims, nv, NULL, err); /* the error */
    double *xy = malloc((size_t)nv * 2 * sizeof *xy);
    if (!xy) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int k = 0; k < nv; k++) {
        xy[2 * k] = vx[k];
        xy[2 * k + 1] = vy[k];
    }
    cg_gate *g = cg_gate_polygon_new(id, dims, nv, xy, err);
    free(xy);
    return g;
}

int cg_gate_polygon_nv(const cg_gate *g)
{
    return g->kind == CG_GATE_POLYGON ? ((const poly_data *)g->data)->nv : 0;
}

const double *cg_gate_polygon_xy(const cg_gate *g)
{
    return g->kind == CG_GATE_POLYGON ? ((const poly_data *)g->data)->xy
                                      : NULL;
}
