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
 * No allocation during evaluation.
 */
#include "gate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct poly_data {
    int nv;
    double *xy; /* 2*nv */
    double xmin, xmax, ymin, ymax;
} poly_data;

static inline int poly_inside(const poly_data *p, double x, double y)
{
    if (!(x >= p->xmin && x <= p->xmax && y >= p->ymin && y <= p->ymax))
        return 0; /* also NaN */
    const double *v = p->xy;
    int nv = p->nv, c = 0;
    double xj = v[2 * (nv - 1)], yj = v[2 * (nv - 1) + 1];
    for (int k = 0; k < nv; k++) {
        double xi = v[2 * k], yi = v[2 * k + 1];
        /* on the edge (xj,yj)-(xi,yi)? */
        double cross = (xi - xj) * (y - yj) - (x - xj) * (yi - yj);
        if (cross == 0.0 && x >= fmin(xi, xj) && x <= fmax(xi, xj) &&
            y >= fmin(yi, yj) && y <= fmax(yi, yj))
            return 1;
        if ((yi > y) != (yj > y)) {
            /* the edge spans y: crossing to the right of x?  Sign test on
             * the cross product, oriented so that it does not divide. */
            if (yi > yj ? cross > 0 : cross < 0)
                c ^= 1;
        }
        xj = xi;
        yj = yi;
    }
    return c;
}

static int poly_eval(const cg_gate *g, const cg_eval_in *in,
                     cg_bits *const *out, cg_err *err)
{
    const poly_data *p = g->data;
    const double *cx = in->col[0], *cy = in->col[1];
    CG_GATE_SCAN(in, out[0], i, poly_inside(p, cx[i], cy[i]));
    (void)err;
    return 0;
}

static void poly_free(cg_gate *g)
{
    poly_data *p = g->data;
    free(p->xy);
    free(p);
    g->data = NULL;
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

int cg_gate_polygon_nv(const cg_gate *g)
{
    return g->kind == CG_GATE_POLYGON ? ((const poly_data *)g->data)->nv : 0;
}

const double *cg_gate_polygon_xy(const cg_gate *g)
{
    return g->kind == CG_GATE_POLYGON ? ((const poly_data *)g->data)->xy
                                      : NULL;
}
