/*
 * gate_internal.h -- private layout of cg_gate and the ops table every
 * gate kind fills (one file per kind: gate_range.c, gate_polygon.c,
 * gate_ellipse.c, gate_quad.c, gate_bool.c).  Only gate*.c include this.
 */
#ifndef CG_GATE_INTERNAL_H
#define CG_GATE_INTERNAL_H

#include "gate.h"

/* What an evaluation gets: value columns of the gate's dims (ndim of
 * them, already resolved), the parent mask or NULL, boolean operands. */
typedef struct cg_eval_in {
    int64_t n;
    const double *const *col;       /* ndim columns */
    const cg_bits *parent;          /* NULL = all events */
    const cg_bits *const *operands; /* boolean gates only */
} cg_eval_in;

typedef struct cg_gate_ops {
    /* out[k] for every population; must honour in->parent. */
    int (*eval)(const cg_gate *g, const cg_eval_in *in, cg_bits *const *out,
                cg_err *err);
    /* Deep-copy the kind-specific data (dst->data) from src. */
    int (*copy)(cg_gate *dst, const cg_gate *src, cg_err *err);
    /* Free the kind-specific data. */
    void (*free)(cg_gate *g);
} cg_gate_ops;

struct cg_gate {
    const cg_gate_ops *ops;
    cg_gate_kind kind;
    char *id;
    int ndim;
    cg_dim *dims;    /* ndim, owned */
    int npop;
    char **pop_id;   /* npop, owned (pop_id[0] == a copy of id unless quad) */
    void *data;      /* kind-specific, owned */
};

extern const cg_gate_ops cg_gate_rect_ops, cg_gate_polygon_ops,
    cg_gate_ellipse_ops, cg_gate_quad_ops, cg_gate_bool_ops;

/* Common construction: id, dims copied, npop population ids (NULL: one,
 * the gate id).  Returns the gate with data == NULL, or NULL with err. */
cg_gate *cg_gate_alloc(cg_gate_kind kind, const cg_gate_ops *ops,
                       const char *id, int ndim, const cg_dim *dims,
                       int npop, const char *const *pop_ids, cg_err *err);

char *cg_strdup_(const char *s);

/* Run TEST(i) (an expression using event index i) for every event of the
 * parent (all when NULL) and store the result as bits of out; bits of
 * events outside the parent are cleared.  No allocation. */
#define CG_GATE_SCAN(in, out, i, TEST)                                       \
    do {                                                                     \
        int64_t nw_ = cg_bits_words((in)->n);                                \
        for (int64_t w_ = 0; w_ < nw_; w_++) {                               \
            uint64_t m_;                                                     \
            if ((in)->parent)                                                \
                m_ = (in)->parent->w[w_];                                    \
            else if (w_ == nw_ - 1 && ((in)->n & 63))                        \
                m_ = ((uint64_t)1 << ((in)->n & 63)) - 1;                    \
            else                                                             \
                m_ = ~(uint64_t)0;                                           \
            uint64_t o_ = 0;                                                 \
            while (m_) {                                                     \
                int b_ = __builtin_ctzll(m_);                                \
                m_ &= m_ - 1;                                                \
                int64_t i = (w_ << 6) + b_;                                  \
                if (TEST)                                                    \
                    o_ |= (uint64_t)1 << b_;                                 \
            }                                                                \
            (out)->w[w_] = o_;                                               \
        }                                                                    \
    } while (0)

#endif
