/*
 * gate_quad.c -- quadrant gates: dividers, each with one or more values,
 * cut every dimension into bins; a quadrant picks one bin per divider it
 * uses (through a location inside that bin) and is a population of its own.
 *
 * Bin of value v on a divider = number of divider values <= v, so a bin
 * is lower <= v < upper with the outer bins open (Gating-ML 2.0 quadrant
 * semantics; FlowKit's QuadrantGate agrees).  Bins are tested literally
 * as lower <= v < upper with the outer ends -inf/+inf, so -inf is in the
 * lowest bin and +inf and NaN in none (the suite's set_4 myQuadrant
 * expects x/0 = +inf outside every quadrant).  One pass
 * over the parent's events computes each divider's bin once and sets the
 * bit of every quadrant that matches; scratch space is allocated once per
 * evaluation, never per event.
 */
#include "gate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct quad_data {
    int ndiv, nquad;
    char **div_id;   /* ndiv */
    int *nval;       /* ndiv */
    double **val;    /* ndiv arrays, ascending */
    double *loc;     /* nquad * ndiv, NaN = unused */
    int *bin;        /* nquad * ndiv, -1 = unused */
} quad_data;

static inline int bin_of(const double *v, int nv, double x)
{
    if (x != x || x == INFINITY)
        return -2;
    int b = 0;
    while (b < nv && v[b] <= x)
        b++;
    return b;
}

static int quad_eval(const cg_gate *g, const cg_eval_in *in,
                     cg_bits *const *out, cg_err *err)
{
    const quad_data *q = g->data;
    int nd = q->ndiv, nq = q->nquad;
    uint64_t *acc = malloc((size_t)nq * sizeof *acc);
    int *b = malloc((size_t)nd * sizeof *b);
    if (!acc || !b) {
        free(acc);
        free(b);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    int64_t nw = cg_bits_words(in->n);
    for (int64_t w = 0; w < nw; w++) {
        uint64_t m;
        if (in->parent)
            m = in->parent->w[w];
        else if (w == nw - 1 && (in->n & 63))
            m = ((uint64_t)1 << (in->n & 63)) - 1;
        else
            m = ~(uint64_t)0;
        memset(acc, 0, (size_t)nq * sizeof *acc);
        while (m) {
            int bit = __builtin_ctzll(m);
            m &= m - 1;
            int64_t i = (w << 6) + bit;
            for (int d = 0; d < nd; d++)
                b[d] = bin_of(q->val[d], q->nval[d], in->col[d][i]);
            for (int k = 0; k < nq; k++) {
                const int *qb = q->bin + (size_t)k * nd;
                int ok = 1;
                for (int d = 0; d < nd && ok; d++)
                    if (qb[d] >= 0 && qb[d] != b[d])
                        ok = 0;
                if (ok)
                    acc[k] |= (uint64_t)1 << bit;
            }
        }
        for (int k = 0; k < nq; k++)
            out[k]->w[w] = acc[k];
    }
    free(acc);
    free(b);
    return 0;
}

static void quad_free(cg_gate *g)
{
    quad_data *q = g->data;
    for (int d = 0; d < q->ndiv; d++) {
        if (q->div_id)
            free(q->div_id[d]);
        if (q->val)
            free(q->val[d]);
    }
    free(q->div_id);
    free(q->val);
    free(q->nval);
    free(q->loc);
    free(q->bin);
    free(q);
    g->data = NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* div_ids[d], nval[d], vals[d]; loc[k*ndiv + d]. */
static int quad_set(cg_gate *g, int ndiv, const char *const *div_ids,
                    const int *nval, const double *const *vals, int nquad,
                    const double *loc, cg_err *err)
{
    quad_data *q = calloc(1, sizeof *q);
    if (!q)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    g->data = q;
    q->ndiv = ndiv;
    q->nquad = nquad;
    q->div_id = calloc((size_t)ndiv, sizeof *q->div_id);
    q->val = calloc((size_t)ndiv, sizeof *q->val);
    q->nval = calloc((size_t)ndiv, sizeof *q->nval);
    q->loc = malloc((size_t)ndiv * (size_t)nquad * sizeof *q->loc);
    q->bin = malloc((size_t)ndiv * (size_t)nquad * sizeof *q->bin);
    if (!q->div_id || !q->val || !q->nval || !q->loc || !q->bin)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int d = 0; d < ndiv; d++) {
        q->nval[d] = nval[d];
        q->div_id[d] = cg_strdup_(div_ids[d]);
        q->val[d] = malloc((size_t)nval[d] * sizeof *q->val[d]);
        if (!q->div_id[d] || !q->val[d])
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        memcpy(q->val[d], vals[d], (size_t)nval[d] * sizeof *vals[d]);
        qsort(q->val[d], (size_t)nval[d], sizeof *q->val[d], cmp_double);
    }
    memcpy(q->loc, loc, (size_t)ndiv * (size_t)nquad * sizeof *loc);
    for (int k = 0; k < nquad; k++)
        for (int d = 0; d < ndiv; d++) {
            double l = loc[(size_t)k * ndiv + d];
            q->bin[(size_t)k * ndiv + d] =
                isnan(l) ? -1 : bin_of(q->val[d], q->nval[d], l);
        }
    return 0;
}

static int quad_copy(cg_gate *dst, const cg_gate *src, cg_err *err)
{
    const quad_data *q = src->data;
    return quad_set(dst, q->ndiv, (const char *const *)q->div_id, q->nval,
                    (const double *const *)q->val, q->nquad, q->loc, err);
}

const cg_gate_ops cg_gate_quad_ops = {quad_eval, quad_copy, quad_free};

cg_gate *cg_gate_quad_new(const char *id, int ndiv,
                          const cg_quad_divider *divs, int nquad,
                          const cg_quadrant *quads, cg_err *err)
{
    const char *gid = id ? id : "?";
    if (ndiv < 1 || nquad < 1 || !divs || !quads) {
        cg_err_set(err, CG_E_ARG, "quadrant gate %s: needs >= 1 divider and "
                   ">= 1 quadrant", gid);
        return NULL;
    }
    cg_dim *dims = calloc((size_t)ndiv, sizeof *dims);
    const char **div_ids = calloc((size_t)ndiv, sizeof *div_ids);
    int *nval = calloc((size_t)ndiv, sizeof *nval);
    const double **vals = calloc((size_t)ndiv, sizeof *vals);
    const char **qids = calloc((size_t)nquad, sizeof *qids);
    double *loc = malloc((size_t)ndiv * (size_t)nquad * sizeof *loc);
    cg_gate *g = NULL;
    if (!dims || !div_ids || !nval || !vals || !qids || !loc) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int d = 0; d < ndiv; d++) {
        if (!divs[d].id || !*divs[d].id || divs[d].nvalues < 1 ||
            !divs[d].values) {
            cg_err_set(err, CG_E_ARG, "quadrant gate %s: divider %d needs an "
                       "id and >= 1 value", gid, d + 1);
            goto done;
        }
        for (int j = 0; j < divs[d].nvalues; j++)
            if (!isfinite(divs[d].values[j])) {
                cg_err_set(err, CG_E_ARG, "quadrant gate %s: divider %s: "
                           "value %d is not finite", gid, divs[d].id, j + 1);
                goto done;
            }
        for (int e = 0; e < d; e++)
            if (strcmp(div_ids[e], divs[d].id) == 0) {
                cg_err_set(err, CG_E_ARG, "quadrant gate %s: duplicate "
                           "divider id %s", gid, divs[d].id);
                goto done;
            }
        dims[d] = divs[d].dim; /* shallow: cg_gate_alloc deep-copies */
        div_ids[d] = divs[d].id;
        nval[d] = divs[d].nvalues;
        vals[d] = divs[d].values;
    }
    for (int k = 0; k < nquad; k++) {
        int used = 0;
        qids[k] = quads[k].id;
        for (int d = 0; d < ndiv; d++) {
            double l = quads[k].loc ? quads[k].loc[d] : NAN;
            loc[(size_t)k * ndiv + d] = l;
            if (!isnan(l))
                used++;
            if (isinf(l)) {
                cg_err_set(err, CG_E_ARG, "quadrant gate %s: quadrant %s: "
                           "infinite location", gid, quads[k].id);
                goto done;
            }
        }
        if (!used) {
            cg_err_set(err, CG_E_ARG, "quadrant gate %s: quadrant %s uses no "
                       "divider", gid, quads[k].id ? quads[k].id : "?");
            goto done;
        }
    }
    g = cg_gate_alloc(CG_GATE_QUAD, &cg_gate_quad_ops, id, ndiv, dims, nquad,
                      qids, err);
    if (g && quad_set(g, ndiv, div_ids, nval, vals, nquad, loc, err) < 0) {
        cg_gate_free(g);
        g = NULL;
    }
done:
    free(dims);
    free(div_ids);
    free(nval);
    free(vals);
    free(qids);
    free(loc);
    return g;
}

int cg_gate_quad_ndiv(const cg_gate *g)
{
    return g->kind == CG_GATE_QUAD ? ((const quad_data *)g->data)->ndiv : 0;
}

const char *cg_gate_quad_divider_id(const cg_gate *g, int d)
{
    if (g->kind != CG_GATE_QUAD || d < 0 || d >= g->ndim)
        return NULL;
    return ((const quad_data *)g->data)->div_id[d];
}

int cg_gate_quad_nvalues(const cg_gate *g, int d)
{
    if (g->kind != CG_GATE_QUAD || d < 0 || d >= g->ndim)
        return 0;
    return ((const quad_data *)g->data)->nval[d];
}

const double *cg_gate_quad_values(const cg_gate *g, int d)
{
    if (g->kind != CG_GATE_QUAD || d < 0 || d >= g->ndim)
        return NULL;
    return ((const quad_data *)g->data)->val[d];
}

double cg_gate_quad_location(const cg_gate *g, int q, int d)
{
    if (g->kind != CG_GATE_QUAD || d < 0 || d >= g->ndim || q < 0 ||
        q >= g->npop)
        return NAN;
    const quad_data *qd = g->data;
    return qd->loc[(size_t)q * qd->ndiv + d];
}

void cg_gate_quad_interval(const cg_gate *g, int q, int d, double *lo,
                           double *hi)
{
    *lo = *hi = NAN;
    if (g->kind != CG_GATE_QUAD || d < 0 || d >= g->ndim || q < 0 ||
        q >= g->npop)
        return;
    const quad_data *qd = g->data;
    int b = qd->bin[(size_t)q * qd->ndiv + d];
    if (b < 0)
        return;
    *lo = b == 0 ? -INFINITY : qd->val[d][b - 1];
    *hi = b == qd->nval[d] ? INFINITY : qd->val[d][b];
}
