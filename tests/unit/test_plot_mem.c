/*
 * test_plot_mem.c -- drawing in lent memory (cg_plot_mem): a figure drawn
 * in blocks full of garbage, in blocks too small for any buffer, with a
 * lender that has none, and with malloc alone gives the same pixels; the
 * lender gets every block back once the images are freed; buffers carved
 * from one block never overlap, and a block goes back only when its last
 * buffer is released.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "plot_internal.h"
#include "testutil.h"

/* A lender of up to 4 blocks of `size` bytes, filled with garbage. */
typedef struct lender {
    size_t size;
    int nblk, out, gets, puts;
    char *blk[4];
    int busy[4];
} lender;

static void *lend_get(void *ctx)
{
    lender *l = ctx;
    for (int i = 0; i < l->nblk; i++)
        if (!l->busy[i]) {
            l->busy[i] = 1;
            l->out++;
            l->gets++;
            memset(l->blk[i], 0xa5, l->size); /* what a slab holds */
            return l->blk[i];
        }
    return NULL;
}

static void lend_put(void *ctx, void *b)
{
    lender *l = ctx;
    for (int i = 0; i < l->nblk; i++)
        if (l->blk[i] == b && l->busy[i]) {
            l->busy[i] = 0;
            l->out--;
            l->puts++;
            return;
        }
    CHECK(!"a block the lender never lent came back");
}

static void lender_init(lender *l, size_t size, int nblk)
{
    memset(l, 0, sizeof *l);
    l->size = size;
    l->nblk = nblk;
    for (int i = 0; i < nblk; i++) {
        l->blk[i] = malloc(size);
        REQUIRE(l->blk[i]);
    }
}

static void lender_free(lender *l)
{
    for (int i = 0; i < l->nblk; i++)
        free(l->blk[i]);
}

static double as_fwd(const void *ctx, double v)
{
    (void)ctx;
    return asinh(v / 150);
}
static double as_inv(const void *ctx, double v)
{
    (void)ctx;
    return sinh(v) * 150;
}

/* Every pixel of a and b equal. */
static int same_pixels(const cg_plot_image *a, const cg_plot_image *b)
{
    int w = cg_plot_image_width(a), h = cg_plot_image_height(a);
    if (w != cg_plot_image_width(b) || h != cg_plot_image_height(b))
        return 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (cg_plot_image_pixel(a, x, y) != cg_plot_image_pixel(b, x, y))
                return 0;
    return 1;
}

/* A slide-size dot plot and a 3-cell strategy figure, drawn with pm (NULL:
 * malloc alone); *st gets the strategy image. */
static cg_plot_image *draw(cg_plot_mem *pm, const cg_plot_panel *p,
                           cg_plot_image **st)
{
    cg_err err = {0};
    cg_plot_mem_use(pm);
    cg_plot_image *im = cg_plot_render_panel(p, NULL, 0, 0, &err);
    cg_plot_panel three[3] = {*p, *p, *p};
    *st = cg_plot_render_strategy(three, 3, NULL, 0, 0, 0, &err);
    cg_plot_mem_use(NULL);
    CHECK(im && *st);
    return im;
}

static void figures_alike(void)
{
    const int64_t n = 100000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    REQUIRE(x && y);
    uint64_t r = 7;
    for (int64_t i = 0; i < n; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(r >> 11) / 9007199254740992.0;
        x[i] = 1 + 8 * u * u;
        y[i] = 2 + 6 * u * (1 - u) + (double)(i % 7) / 3;
    }
    cg_plot_panel p = {0};
    p.title = "cd4";
    p.x = x;
    p.y = y;
    p.n = n;
    cg_plot_axis_linear(&p.xaxis, "CD25", 0, 10);
    p.yaxis.label = "CD127";
    p.yaxis.lo = 0;
    p.yaxis.hi = 10;
    p.yaxis.ticks = CG_PLOT_TICKS_DECADES;
    p.yaxis.fwd = as_fwd;
    p.yaxis.inv = as_inv;

    cg_plot_image *ref_st, *ref = draw(NULL, &p, &ref_st);
    /* blocks that hold the image (1000 x 900 x 4) and its density grid */
    size_t sizes[] = {8u << 20, 5u << 20, 64u << 10};
    for (int k = 0; k < 3; k++) {
        lender l;
        lender_init(&l, sizes[k], 4);
        cg_plot_mem *pm = cg_plot_mem_new(l.size, lend_get, lend_put, &l);
        REQUIRE(pm);
        cg_plot_image *st, *im = draw(pm, &p, &st);
        CHECK(same_pixels(ref, im));
        CHECK(same_pixels(ref_st, st));
        if (k < 2)
            CHECK(l.gets > 0); /* the figures did draw in lent memory */
        else
            CHECK_INT(l.gets, 0); /* no buffer fits a 64 KiB block */
        CHECK(l.out > 0 || k == 2);
        cg_plot_image_free(im);
        cg_plot_image_free(st);
        CHECK_INT(l.out, 0); /* every block back with the images gone */
        CHECK_INT(l.gets, l.puts);
        cg_plot_mem_free(pm);
        lender_free(&l);
    }
    /* a lender with nothing to spare: malloc, the same pixels */
    lender none;
    lender_init(&none, 8u << 20, 0);
    cg_plot_mem *pm = cg_plot_mem_new(none.size, lend_get, lend_put, &none);
    cg_plot_image *st, *im = draw(pm, &p, &st);
    CHECK(same_pixels(ref, im) && same_pixels(ref_st, st));
    cg_plot_image_free(im);
    cg_plot_image_free(st);
    cg_plot_mem_free(pm);
    cg_plot_image_free(ref);
    cg_plot_image_free(ref_st);
    free(x);
    free(y);
}

/* Carving: buffers in one block do not overlap, gaps are reused, and the
 * block goes back when the last of its buffers does. */
static void carving(void)
{
    lender l;
    lender_init(&l, 1u << 20, 1);
    cg_plot_mem *pm = cg_plot_mem_new(l.size, lend_get, lend_put, &l);
    REQUIRE(pm);
    cg_plot_mem_use(pm);
    size_t len[6] = {100000, 300000, 1, 200000, 250000, 200000};
    unsigned char *b[6];
    cg_plot_mem *from[6];
    for (int i = 0; i < 6; i++) {
        b[i] = cgp_alloc(len[i], &from[i]);
        REQUIRE(b[i]);
        memset(b[i], 0x10 + i, len[i]);
    }
    /* 850,001 bytes carved at 64-byte steps: the last did not fit */
    CHECK(from[0] == pm && from[4] == pm && from[5] == NULL);
    CHECK_INT(l.gets, 1);
    for (int i = 0; i < 6; i++) {
        CHECK(from[i] == NULL || ((uintptr_t)b[i] & 63) == 0);
        int intact = 1;
        for (size_t j = 0; j < len[i]; j++)
            intact &= b[i][j] == 0x10 + i;
        CHECK(intact);
    }
    cgp_release(b[1], from[1]); /* a 300,000-byte gap in the middle */
    unsigned char *c = NULL;
    cg_plot_mem *cf;
    c = cgp_alloc(290000, &cf);
    CHECK(cf == pm && c == b[1]);
    cgp_release(c, cf);
    int order[5] = {3, 0, 2, 5, 4};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(l.out, 1); /* held while a buffer is */
        cgp_release(b[order[i]], from[order[i]]);
    }
    CHECK_INT(l.out, 0);
    CHECK_INT(l.puts, 1);
    /* too big for a block: malloc'd, the lender not asked */
    void *big = cgp_alloc(2u << 20, &cf);
    CHECK(big && cf == NULL && l.gets == 1);
    cgp_release(big, cf);
    cg_plot_mem_use(NULL);
    /* no memory named: malloc */
    void *m = cgp_alloc(1000, &cf);
    CHECK(m && cf == NULL);
    cgp_release(m, cf);
    cg_plot_mem_free(pm);
    lender_free(&l);
}

int main(void)
{
    carving();
    figures_alike();
    cg_plot_shutdown();
    return TEST_DONE();
}
