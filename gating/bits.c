/*
 * bits.c -- event bitsets (see bits.h).  Invariant: bits at positions
 * >= n in the last word are zero; every operation that can set them
 * (fill, not) clears them again.
 */
#include "bits.h"

#include <stdlib.h>
#include <string.h>

static void trim(cg_bits *b)
{
    int r = (int)(b->n & 63);
    if (r)
        b->w[cg_bits_words(b->n) - 1] &= ((uint64_t)1 << r) - 1;
}

cg_bits *cg_bits_new(int64_t n)
{
    if (n < 0)
        return NULL;
    cg_bits *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->n = n;
    b->w = calloc((size_t)(cg_bits_words(n) ? cg_bits_words(n) : 1),
                  sizeof *b->w);
    if (!b->w) {
        free(b);
        return NULL;
    }
    return b;
}

cg_bits *cg_bits_copy(const cg_bits *src)
{
    cg_bits *b = cg_bits_new(src->n);
    if (b)
        memcpy(b->w, src->w, (size_t)cg_bits_words(src->n) * sizeof *b->w);
    return b;
}

void cg_bits_free(cg_bits *b)
{
    if (b) {
        free(b->w);
        free(b);
    }
}

void cg_bits_fill(cg_bits *b, int value)
{
    memset(b->w, value ? 0xff : 0, (size_t)cg_bits_words(b->n) * sizeof *b->w);
    trim(b);
}

int64_t cg_bits_count(const cg_bits *b)
{
    int64_t c = 0, nw = cg_bits_words(b->n);
    for (int64_t k = 0; k < nw; k++)
        c += __builtin_popcountll(b->w[k]);
    return c;
}

void cg_bits_and(cg_bits *dst, const cg_bits *src)
{
    for (int64_t k = 0, nw = cg_bits_words(dst->n); k < nw; k++)
        dst->w[k] &= src->w[k];
}

void cg_bits_or(cg_bits *dst, const cg_bits *src)
{
    for (int64_t k = 0, nw = cg_bits_words(dst->n); k < nw; k++)
        dst->w[k] |= src->w[k];
}

void cg_bits_andnot(cg_bits *dst, const cg_bits *src)
{
    for (int64_t k = 0, nw = cg_bits_words(dst->n); k < nw; k++)
        dst->w[k] &= ~src->w[k];
}

void cg_bits_not(cg_bits *dst)
{
    for (int64_t k = 0, nw = cg_bits_words(dst->n); k < nw; k++)
        dst->w[k] = ~dst->w[k];
    trim(dst);
}

void cg_bits_to_bytes(const cg_bits *b, uint8_t *out)
{
    for (int64_t i = 0; i < b->n; i++)
        out[i] = (uint8_t)cg_bits_get(b, i);
}
