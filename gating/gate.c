/*
 * gate.c -- what every gate kind shares: construction of the common part
 * (id, dimensions, population ids), copy/free, common accessors, and
 * evaluation dispatch through the kind's ops table (gate_internal.h).
 *
 * Evaluation resolves the gate's dimensions through the sample's cg_dims
 * (cached value columns), checks the output bitsets, and calls the kind's
 * eval, which scans only the parent's events and allocates nothing per
 * event.  Gates are immutable after construction, so evaluation is
 * thread-safe given separate cg_dims and outputs.
 */
#include "gate_internal.h"

#include <stdlib.h>
#include <string.h>

char *cg_strdup_(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void free_common(cg_gate *g)
{
    free(g->id);
    if (g->dims)
        for (int i = 0; i < g->ndim; i++)
            cg_dim_clear(&g->dims[i]);
    free(g->dims);
    if (g->pop_id)
        for (int k = 0; k < g->npop; k++)
            free(g->pop_id[k]);
    free(g->pop_id);
    free(g);
}

cg_gate *cg_gate_alloc(cg_gate_kind kind, const cg_gate_ops *ops,
                       const char *id, int ndim, const cg_dim *dims,
                       int npop, const char *const *pop_ids, cg_err *err)
{
    if (!id || !*id) {
        cg_err_set(err, CG_E_ARG, "%s gate: empty id",
                   cg_gate_kind_name(kind));
        return NULL;
    }
    cg_gate *g = calloc(1, sizeof *g);
    if (!g) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    g->ops = ops;
    g->kind = kind;
    g->id = cg_strdup_(id);
    g->ndim = ndim;
    g->npop = pop_ids ? npop : 1;
    if (ndim > 0)
        g->dims = calloc((size_t)ndim, sizeof *g->dims);
    g->pop_id = calloc((size_t)g->npop, sizeof *g->pop_id);
    if (!g->id || (ndim > 0 && !g->dims) || !g->pop_id)
        goto nomem;
    for (int i = 0; i < ndim; i++) {
        cg_dim_init(&g->dims[i]);
        if (!dims[i].name && !dims[i].ratio_num) {
            cg_err_set(err, CG_E_ARG, "gate %s: dimension %d has no channel",
                       id, i + 1);
            goto fail;
        }
        if (cg_dim_copy(&g->dims[i], &dims[i], err) < 0)
            goto fail;
    }
    for (int k = 0; k < g->npop; k++) {
        const char *p = pop_ids ? pop_ids[k] : id;
        if (!p || !*p) {
            cg_err_set(err, CG_E_ARG, "gate %s: population %d has no id", id,
                       k + 1);
            goto fail;
        }
        for (int j = 0; j < k; j++)
            if (strcmp(g->pop_id[j], p) == 0) {
                cg_err_set(err, CG_E_ARG, "gate %s: duplicate id %s", id, p);
                goto fail;
            }
        if (!(g->pop_id[k] = cg_strdup_(p)))
            goto nomem;
    }
    return g;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory");
fail:
    free_common(g);
    return NULL;
}

void cg_gate_free(cg_gate *g)
{
    if (!g)
        return;
    if (g->data)
        g->ops->free(g);
    free_common(g);
}

cg_gate *cg_gate_copy(const cg_gate *g, cg_err *err)
{
    cg_gate *c = cg_gate_alloc(g->kind, g->ops, g->id, g->ndim, g->dims,
                               g->npop, (const char *const *)g->pop_id, err);
    if (!c)
        return NULL;
    if (g->ops->copy(c, g, err) < 0) {
        cg_gate_free(c);
        return NULL;
    }
    return c;
}

cg_gate_kind cg_gate_kind_of(const cg_gate *g) { return g->kind; }

const char *cg_gate_kind_name(cg_gate_kind k)
{
    switch (k) {
    case CG_GATE_RECT: return "rectangle";
    case CG_GATE_POLYGON: return "polygon";
    case CG_GATE_ELLIPSE: return "ellipsoid";
    case CG_GATE_QUAD: return "quadrant";
    case CG_GATE_BOOL: return "boolean";
    }
    return "?";
}

const char *cg_gate_id(const cg_gate *g) { return g->id; }
int cg_gate_ndim(const cg_gate *g) { return g->ndim; }

const cg_dim *cg_gate_dim(const cg_gate *g, int i)
{
    return (i >= 0 && i < g->ndim) ? &g->dims[i] : NULL;
}

int cg_gate_npop(const cg_gate *g) { return g->npop; }

const char *cg_gate_pop_id(const cg_gate *g, int k)
{
    return (k >= 0 && k < g->npop) ? g->pop_id[k] : NULL;
}

/* Most gates have at most a handful of dimensions; larger ones use the
 * heap once per evaluation (not per event). */
#define CG_EVAL_MAXSTACK 16

/* out = the events of parent whose place among parent's events is set in
 * c (c has one bit per parent event, in order). */
static void expand_bits(const cg_bits *parent, const cg_bits *c, cg_bits *out)
{
    if (!parent) { /* every event: in place already */
        memcpy(out->w, c->w, (size_t)cg_bits_words(c->n) * sizeof *out->w);
        return;
    }
    int64_t nw = cg_bits_words(parent->n), j = 0;
    for (int64_t w = 0; w < nw; w++) {
        uint64_t m = parent->w[w], r = 0;
        while (m) {
            uint64_t low = m & -m;
            if ((c->w[j >> 6] >> (j & 63)) & 1)
                r |= low;
            j++;
            m ^= low;
        }
        out->w[w] = r;
    }
}

/* Compact mode (cg_dims_set_compact): the gate's dims computed for the
 * parent's events only (cg_dims_gathered), the gate evaluated on them as
 * on a sample of their own, the result put back at their places.  An
 * event's membership depends on its own values only, so the result is
 * the one the whole columns give. */
static int eval_compact(const cg_gate *g, cg_dims *dc, const cg_bits *parent,
                        const double **cols, cg_bits *const *out,
                        cg_err *err)
{
    int64_t cnt = 0;
    for (int i = 0; i < g->ndim; i++) {
        cg_err e2;
        cg_err_clear(&e2);
        cols[i] = cg_dims_gathered(dc, &g->dims[i], parent, &cnt, &e2);
        if (!cols[i])
            return cg_err_set(err, e2.code ? e2.code : CG_E_CHANNEL,
                              "gate %s: %s", g->id, e2.msg);
    }
    cg_bits *cb[CG_EVAL_MAXSTACK] = {0};
    cg_bits **c = g->npop > CG_EVAL_MAXSTACK
                      ? calloc((size_t)g->npop, sizeof *c) : cb;
    int rc = c ? 0 : cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int k = 0; k < g->npop && rc == 0; k++)
        if (!(c[k] = cg_bits_new(cnt)))
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (rc == 0) {
        cg_eval_in in = {cnt, cols, NULL, NULL};
        rc = g->ops->eval(g, &in, c, err);
    }
    for (int k = 0; k < g->npop && rc == 0; k++)
        expand_bits(parent, c[k], out[k]);
    for (int k = 0; c && k < g->npop; k++)
        cg_bits_free(c[k]);
    if (c != cb)
        free(c);
    return rc;
}

int cg_gate_eval_ops(const cg_gate *g, cg_dims *dc,
                     const cg_bits *const *operands, const cg_bits *parent,
                     cg_bits *const *out, cg_err *err)
{
    int64_t n = cg_dims_n(dc);
    if (parent && parent->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "gate %s: parent has %lld events, sample %lld",
                          g->id, (long long)parent->n, (long long)n);
    for (int k = 0; k < g->npop; k++)
        if (!out || !out[k] || out[k]->n != n)
            return cg_err_set(err, CG_E_ARG,
                              "gate %s: output %d missing or not %lld events",
                              g->id, k + 1, (long long)n);
    if (g->kind == CG_GATE_BOOL) {
        if (!operands)
            return cg_err_set(err, CG_E_ARG,
                              "boolean gate %s: operand memberships needed "
                              "(evaluate it in a gate tree)", g->id);
        for (int k = 0; k < cg_gate_bool_nref(g); k++)
            if (!operands[k] || operands[k]->n != n)
                return cg_err_set(err, CG_E_ARG,
                                  "boolean gate %s: operand %s missing",
                                  g->id, cg_gate_bool_ref(g, k));
    }
    const double *stackcols[CG_EVAL_MAXSTACK];
    const double **cols = stackcols;
    if (g->ndim > CG_EVAL_MAXSTACK) {
        cols = malloc((size_t)g->ndim * sizeof *cols);
        if (!cols)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    int rc = 0;
    int compact = 0;
    for (int i = 0; i < g->ndim && !compact; i++)
        compact = cg_dims_gathers(dc, parent, &g->dims[i]);
    if (compact) {
        rc = eval_compact(g, dc, parent, cols, out, err);
        goto done;
    }
    for (int i = 0; i < g->ndim; i++) {
        cg_err e2;
        cg_err_clear(&e2);
        cols[i] = cg_dims_get(dc, &g->dims[i], &e2);
        if (!cols[i]) {
            rc = cg_err_set(err, e2.code ? e2.code : CG_E_CHANNEL,
                            "gate %s: %s", g->id, e2.msg);
            goto done;
        }
    }
    cg_eval_in in = {n, cols, parent, operands};
    rc = g->ops->eval(g, &in, out, err);
done:
    if (cols != stackcols)
        free(cols);
    return rc;
}

int cg_gate_eval(const cg_gate *g, cg_dims *dc, const cg_bits *parent,
                 cg_bits *const *out, cg_err *err)
{
    return cg_gate_eval_ops(g, dc, NULL, parent, out, err);
}
