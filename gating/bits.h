/*
 * bits.h -- a bit per event: gate membership, masks of excluded events.
 *
 * Word-packed (64 events per uint64_t); bits past n in the last word are
 * always zero, so counting and the boolean operations need no special
 * tail handling.  Not shared between threads while being written.
 */
#ifndef CG_BITS_H
#define CG_BITS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cg_bits {
    int64_t n;   /* events */
    uint64_t *w; /* (n + 63) / 64 words, owned */
} cg_bits;

static inline int64_t cg_bits_words(int64_t n) { return (n + 63) >> 6; }

/* Owned, all zero (or all one with cg_bits_fill); NULL on no memory. */
cg_bits *cg_bits_new(int64_t n);
cg_bits *cg_bits_copy(const cg_bits *b);
void cg_bits_free(cg_bits *b); /* NULL is a no-op */

static inline int cg_bits_get(const cg_bits *b, int64_t i)
{
    return (int)((b->w[i >> 6] >> (i & 63)) & 1u);
}
static inline void cg_bits_set(cg_bits *b, int64_t i)
{
    b->w[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline void cg_bits_clear(cg_bits *b, int64_t i)
{
    b->w[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

void cg_bits_fill(cg_bits *b, int value);      /* all 0 or all 1 */
int64_t cg_bits_count(const cg_bits *b);
void cg_bits_and(cg_bits *dst, const cg_bits *src); /* dst &= src */
void cg_bits_or(cg_bits *dst, const cg_bits *src);  /* dst |= src */
void cg_bits_andnot(cg_bits *dst, const cg_bits *src); /* dst &= ~src */
void cg_bits_not(cg_bits *dst);                     /* dst = ~dst */
/* Expand to one byte per event (0/1) into out[n]. */
void cg_bits_to_bytes(const cg_bits *b, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif
