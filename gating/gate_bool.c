/*
 * gate_bool.c -- boolean gates: and / or over >= 2 operands, not over
 * exactly 1; any operand may be used as its complement
 * (Gating-ML use-as-complement).  Operands are population ids whose full
 * memberships (parents included) the caller supplies; the result is then
 * ANDed with the gate's own parent.  Word-wide operations only; bits past
 * n are kept zero.
 */
#include "gate_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct bool_data {
    cg_bool_op op;
    int nref;
    char **ref;
    int *cmpl;
} bool_data;

static int bool_eval(const cg_gate *g, const cg_eval_in *in,
                     cg_bits *const *out, cg_err *err)
{
    const bool_data *b = g->data;
    int64_t nw = cg_bits_words(in->n);
    uint64_t tail = (in->n & 63) ? ((uint64_t)1 << (in->n & 63)) - 1
                                 : ~(uint64_t)0;
    uint64_t *o = out[0]->w;
    for (int64_t w = 0; w < nw; w++) {
        uint64_t acc = b->op == CG_BOOL_OR ? 0 : ~(uint64_t)0;
        for (int k = 0; k < b->nref; k++) {
            uint64_t v = in->operands[k]->w[w];
            if (b->cmpl[k])
                v = ~v;
            if (b->op == CG_BOOL_OR)
                acc |= v;
            else
                acc &= v;
        }
        if (b->op == CG_BOOL_NOT)
            acc = ~acc;
        if (in->parent)
            acc &= in->parent->w[w];
        if (w == nw - 1)
            acc &= tail;
        o[w] = acc;
    }
    (void)err;
    return 0;
}

static void bool_free(cg_gate *g)
{
    bool_data *b = g->data;
    if (b->ref)
        for (int k = 0; k < b->nref; k++)
            free(b->ref[k]);
    free(b->ref);
    free(b->cmpl);
    free(b);
    g->data = NULL;
}

static int bool_set(cg_gate *g, cg_bool_op op, int nref,
                    const char *const *refs, const int *cmpl, cg_err *err)
{
    bool_data *b = calloc(1, sizeof *b);
    if (!b)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    g->data = b;
    b->op = op;
    b->nref = nref;
    b->ref = calloc((size_t)nref, sizeof *b->ref);
    b->cmpl = calloc((size_t)nref, sizeof *b->cmpl);
    if (!b->ref || !b->cmpl)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int k = 0; k < nref; k++) {
        if (!(b->ref[k] = cg_strdup_(refs[k])))
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        b->cmpl[k] = cmpl ? cmpl[k] != 0 : 0;
    }
    return 0;
}

static int bool_copy(cg_gate *dst, const cg_gate *src, cg_err *err)
{
    const bool_data *b = src->data;
    return bool_set(dst, b->op, b->nref, (const char *const *)b->ref,
                    b->cmpl, err);
}

const cg_gate_ops cg_gate_bool_ops = {bool_eval, bool_copy, bool_free};

cg_gate *cg_gate_bool_new(const char *id, cg_bool_op op, int nref,
                          const char *const *refs, const int *complement,
                          cg_err *err)
{
    const char *gid = id ? id : "?";
    if (op != CG_BOOL_AND && op != CG_BOOL_OR && op != CG_BOOL_NOT) {
        cg_err_set(err, CG_E_ARG, "boolean gate %s: unknown operator", gid);
        return NULL;
    }
    if (!refs || (op == CG_BOOL_NOT ? nref != 1 : nref < 2)) {
        cg_err_set(err, CG_E_ARG, "boolean gate %s: %s takes %s operand%s, "
                   "got %d", gid, op == CG_BOOL_NOT ? "not" : "and/or",
                   op == CG_BOOL_NOT ? "exactly 1" : ">= 2",
                   op == CG_BOOL_NOT ? "" : "s", nref);
        return NULL;
    }
    for (int k = 0; k < nref; k++)
        if (!refs[k] || !*refs[k]) {
            cg_err_set(err, CG_E_ARG, "boolean gate %s: operand %d has no id",
                       gid, k + 1);
            return NULL;
        } else if (id && strcmp(refs[k], id) == 0) {
            cg_err_set(err, CG_E_ARG, "boolean gate %s refers to itself",
                       gid);
            return NULL;
        }
    cg_gate *g = cg_gate_alloc(CG_GATE_BOOL, &cg_gate_bool_ops, id, 0, NULL,
                               1, NULL, err);
    if (!g)
        return NULL;
    if (bool_set(g, op, nref, refs, complement, err) < 0) {
        cg_gate_free(g);
        return NULL;
    }
    return g;
}

cg_bool_op cg_gate_bool_op(const cg_gate *g)
{
    if (g->kind != CG_GATE_BOOL)
        return CG_BOOL_AND;
    return ((const bool_data *)g->data)->op;
}

int cg_gate_bool_nref(const cg_gate *g)
{
    return g->kind == CG_GATE_BOOL ? ((const bool_data *)g->data)->nref : 0;
}

const char *cg_gate_bool_ref(const cg_gate *g, int k)
{
    if (g->kind != CG_GATE_BOOL || k < 0 || k >= cg_gate_bool_nref(g))
        return NULL;
    return ((const bool_data *)g->data)->ref[k];
}

int cg_gate_bool_complement(const cg_gate *g, int k)
{
    if (g->kind != CG_GATE_BOOL || k < 0 || k >= cg_gate_bool_nref(g))
        return 0;
    return ((const bool_data *)g->data)->cmpl[k];
}
