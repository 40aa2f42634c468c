/*
 * gate_internal.h -- private layout of cg_gate and the ops table every
 * gate kind fills (one file per kind: gate_range.c, gate_polygon.c,
 * gate_ellipse.c, gate_quad.c, gate_bool.c).  Only gate*.c include this.
 */
#ifndef CG_GATE_INTERNAL_H
#define CG_GATE_INTERNAL_H

#include "gate.h"

#include <stdint.h>
#include <string.h>

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

/* Set bits of x, inline (__builtin_popcountll is a libgcc call at the
 * x86-64 baseline, which has no POPCNT). */
static inline int cg_popcount64_(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Pack 64 bytes, each 0 or 1, into one word (byte b -> bit b). */
static inline uint64_t cg_pack64_(const uint8_t *t)
{
    uint64_t o = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t u;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&u, t + 8 * k, 8);
#else
        u = 0;
        for (int j = 7; j >= 0; j--)
            u = (u << 8) | t[8 * k + j];
#endif
        /* byte j (bit 8j) lands on bit 56 + j of the product */
        o |= ((u * 0x0102040810204080ULL) >> 56) << (8 * k);
    }
    return o;
}

/* Run TEST(i) (an expression using event index i, no side effects) for
 * every event of the parent (all when NULL) and store the result as bits
 * of out; bits of events outside the parent are cleared.  A full word W_
 * whose parent word has at least DENSE bits set is computed for all 64
 * events by WORD (an expression using W_ giving the 64 results as bits,
 * without branching on the mask) and then ANDed with the parent; sparse
 * words visit their set bits only.  WORD must therefore be safe, and
 * cheap enough, for any event index < n.  No allocation. */
#define CG_GATE_SCAN_WORD(in, out, W_, WORD, i, TEST, DENSE)                 \
    do {                                                                     \
        int64_t nw_ = cg_bits_words((in)->n), nfull_ = (in)->n >> 6;         \
        for (int64_t W_ = 0; W_ < nw_; W_++) {                               \
            uint64_t m_;                                                     \
            if ((in)->parent)                                                \
                m_ = (in)->parent->w[W_];                                    \
            else if (W_ == nw_ - 1 && ((in)->n & 63))                        \
                m_ = ((uint64_t)1 << ((in)->n & 63)) - 1;                    \
            else                                                             \
                m_ = ~(uint64_t)0;                                           \
            if (W_ < nfull_ && cg_popcount64_(m_) >= (DENSE)) {              \
                (out)->w[W_] = (WORD) & m_;                                  \
                continue;                                                    \
            }                                                                \
            uint64_t o_ = 0;                                                 \
            while (m_) {                                                     \
                int b_ = __builtin_ctzll(m_);                                \
                m_ &= m_ - 1;                                                \
                int64_t i = (W_ << 6) + b_;                                  \
                if (TEST)                                                    \
                    o_ |= (uint64_t)1 << b_;                                 \
            }                                                                \
            (out)->w[W_] = o_;                                               \
        }                                                                    \
    } while (0)

/* TEST evaluated for the 64 events of word w into bytes, then packed. */
#define CG_GATE_WORD_OF_(W_, i, TEST)                                        \
    __extension__({                                                          \
        uint8_t t_[64];                                                      \
        for (int b_ = 0; b_ < 64; b_++) {                                    \
            int64_t i = ((W_) << 6) + b_;                                    \
            t_[b_] = (uint8_t)((TEST) ? 1 : 0);                              \
        }                                                                    \
        cg_pack64_(t_);                                                      \
    })

/* The scan with dense words evaluated event by event (branch-free). */
#define CG_GATE_SCAN_D(in, out, i, TEST, DENSE)                              \
    CG_GATE_SCAN_WORD(in, out, wd_, CG_GATE_WORD_OF_(wd_, i, TEST), i, TEST, \
                      DENSE)

/* Default density threshold: for cheap tests (a few compares). */
#define CG_GATE_SCAN(in, out, i, TEST) CG_GATE_SCAN_D(in, out, i, TEST, 8)

#endif
