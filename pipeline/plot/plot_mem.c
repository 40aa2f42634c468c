/*
 * plot_mem.c -- where the drawings' big buffers (image pixels, density
 * grids) come from: blocks a caller lends (cg_plot_mem), else malloc.
 *
 * A figure of a 1M-event sample needs ~10 MB of such buffers for a few
 * milliseconds.  Fresh from malloc they are fresh pages every time (glibc
 * maps buffers this big and unmaps them on free), faulted in and zeroed
 * by the kernel, and they sit on top of whatever scratch the caller holds
 * idle meanwhile.  `cytogate run` holds a frame's slabs (frame.h), pages
 * already in memory; lent to the drawings through cg_plot_mem, the
 * figures cost no new pages while a slab is free.
 *
 * A block is taken from the caller's get() when a buffer does not fit in
 * the blocks held, and given back through put() as soon as nothing is
 * carved from it, so the caller's other users (the panels' values) find
 * it free again.  Within a block, buffers are placed first-fit at 64-byte
 * addresses; a block holds at most MAX_CUTS of them.
 *
 * Threading: cg_plot_mem is shared by the threads drawing one sample's
 * figures (a mutex); the memory a thread draws with is thread-local
 * (cg_plot_mem_use), as the buffers are taken deep inside the renderers.
 * Every buffer records where it came from, so it may be released on any
 * thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

#define MAX_BLOCKS 8
#define MAX_CUTS 8
#define CUT_ALIGN 64

typedef struct pm_block {
    char *base;       /* NULL: slot unused */
    int ncut;
    size_t off[MAX_CUTS], len[MAX_CUTS]; /* sorted by off */
} pm_block;

struct cg_plot_mem {
    pthread_mutex_t mu;
    size_t size; /* bytes per block */
    void *(*get)(void *ctx);
    void (*put)(void *ctx, void *block);
    void *ctx;
    pm_block blk[MAX_BLOCKS];
};

static _Thread_local cg_plot_mem *cur_mem;

cg_plot_mem *cg_plot_mem_new(size_t block, void *(*get)(void *ctx),
                             void (*put)(void *ctx, void *block), void *ctx)
{
    cg_plot_mem *pm = calloc(1, sizeof *pm);
    if (!pm)
        return NULL;
    if (pthread_mutex_init(&pm->mu, NULL) != 0) {
        free(pm);
        return NULL;
    }
    pm->size = block;
    pm->get = get;
    pm->put = put;
    pm->ctx = ctx;
    return pm;
}

void cg_plot_mem_free(cg_plot_mem *pm)
{
    if (!pm)
        return;
    /* a block still holding a buffer (one never released) stays out of
     * the lender's hands rather than be drawn over */
    for (int b = 0; b < MAX_BLOCKS; b++)
        if (pm->blk[b].base && pm->blk[b].ncut == 0)
            pm->put(pm->ctx, pm->blk[b].base);
    pthread_mutex_destroy(&pm->mu);
    free(pm);
}

void cg_plot_mem_use(cg_plot_mem *pm) { cur_mem = pm; }

/* off moved up to the next CUT_ALIGN address in k */
static size_t aligned(const pm_block *k, size_t off)
{
    uintptr_t a = (uintptr_t)(k->base + off);
    return off + (size_t)((CUT_ALIGN - a % CUT_ALIGN) % CUT_ALIGN);
}

/* n bytes at the first gap of block k that holds them; NULL if none. */
static void *cut(pm_block *k, size_t size, size_t n)
{
    if (k->ncut == MAX_CUTS)
        return NULL;
    size_t at = aligned(k, 0);
    for (int i = 0; i <= k->ncut; i++) {
        size_t end = i < k->ncut ? k->off[i] : size;
        if (end >= at && end - at >= n) {
            size_t m = (size_t)(k->ncut - i);
            memmove(k->off + i + 1, k->off + i, m * sizeof *k->off);
            memmove(k->len + i + 1, k->len + i, m * sizeof *k->len);
            k->off[i] = at;
            k->len[i] = n;
            k->ncut++;
            return k->base + at;
        }
        if (i < k->ncut)
            at = aligned(k, k->off[i] + k->len[i]);
    }
    return NULL;
}

void *cgp_alloc(size_t n, cg_plot_mem **from)
{
    cg_plot_mem *pm = cur_mem;
    *from = NULL;
    if (!pm || n == 0 || n > pm->size)
        return malloc(n ? n : 1);
    void *p = NULL;
    pthread_mutex_lock(&pm->mu);
    for (int b = 0; b < MAX_BLOCKS && !p; b++)
        if (pm->blk[b].base)
            p = cut(&pm->blk[b], pm->size, n);
    for (int b = 0; b < MAX_BLOCKS && !p; b++)
        if (!pm->blk[b].base) {
            if (!(pm->blk[b].base = pm->get(pm->ctx)))
                break; /* none to spare */
            p = cut(&pm->blk[b], pm->size, n);
        }
    pthread_mutex_unlock(&pm->mu);
    if (p) {
        *from = pm;
        return p;
    }
    return malloc(n);
}

void cgp_release(void *p, cg_plot_mem *from)
{
    if (!p)
        return;
    if (!from) {
        free(p);
        return;
    }
    pthread_mutex_lock(&from->mu);
    for (int b = 0; b < MAX_BLOCKS; b++) {
        pm_block *k = &from->blk[b];
        if (!k->base || (char *)p < k->base || (char *)p >= k->base + from->size)
            continue;
        size_t off = (size_t)((char *)p - k->base);
        for (int i = 0; i < k->ncut; i++)
            if (k->off[i] == off) {
                memmove(k->off + i, k->off + i + 1,
                        (size_t)(k->ncut - i - 1) * sizeof *k->off);
                memmove(k->len + i, k->len + i + 1,
                        (size_t)(k->ncut - i - 1) * sizeof *k->len);
                k->ncut--;
                break;
            }
        if (k->ncut == 0) { /* empty: back to the lender */
            from->put(from->ctx, k->base);
            k->base = NULL;
        }
        break;
    }
    pthread_mutex_unlock(&from->mu);
}
