/*
 * test_frame_big.c -- the issue-14 memory paths (fcs_alloc_big,
 * cg_frame_col_alloc, the two-thread decode of cg_frame_from_fcs).
 *
 * 1. Large blocks are 2 MiB-aligned, small ones are ordinary; both are
 *    writable over their whole length and freed with free().
 * 2. A frame read from a file big enough to be decoded on two threads
 *    (300,000 events x 14 parameters = 4.2M values, above the 2M split)
 *    equals, bit for bit, every column decoded alone with
 *    fcs_read_double, in the scaled and the raw view; so does a small
 *    file (one thread).
 *    The float store (CG_FRAME_FLOAT) of the same file gathers the same
 *    values on one to three threads.
 * 3. cg_frame_add with no column still gives zeros; cg_frame_subset
 *    copies exactly the kept rows.
 * 4. cg_xform_fwd over 1,000,001 values (two threads) equals the same
 *    values transformed in chunks of 4,096 (one thread), bit for bit, for
 *    every transform family, in place too.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "frame.h"
#include "testutil.h"
#include "xform.h"

static void test_alloc(void)
{
    size_t big = ((size_t)9 << 20) + 123;
    unsigned char *p = fcs_alloc_big(big);
    REQUIRE(p);
    CHECK(((uintptr_t)p & (((uintptr_t)2 << 20) - 1)) == 0);
    memset(p, 0xab, big);
    CHECK(p[0] == 0xab && p[big - 1] == 0xab);
    free(p);
    unsigned char *q = fcs_alloc_big(1000);
    REQUIRE(q);
    memset(q, 1, 1000);
    free(q);
    double *c = cg_frame_col_alloc(1000000);
    REQUIRE(c);
    CHECK(((uintptr_t)c & (((uintptr_t)2 << 20) - 1)) == 0);
    c[999999] = 1.5;
    CHECK(c[999999] == 1.5);
    free(c);
    CHECK(cg_frame_col_alloc(-1) == NULL);
}

/* The frame against each column decoded alone. */
static void compare(const char *path, int view)
{
    fcs_err fe = {0};
    fcs_file *f = fcs_open(path, NULL, &fe);
    REQUIRE(f);
    cg_err e = {0};
    cg_frame *fr = cg_frame_from_fcs(f, view, &e);
    REQUIRE(fr);
    int64_t n = fcs_n_events(f);
    int np = fcs_n_params(f);
    CHECK(fr->n == n && fr->nch == np);
    double *one = malloc((size_t)n * sizeof *one);
    double **cols = calloc((size_t)np, sizeof *cols);
    REQUIRE(one && cols);
    int same = 1;
    for (int j = 0; j < np; j++) {
        memset(cols, 0, (size_t)np * sizeof *cols);
        cols[j] = one;
        CHECK(fcs_read_double(f, view, 0, n, cols, &fe) == n);
        same &= memcmp(one, fr->col[j], (size_t)n * sizeof *one) == 0;
        CHECK_STR(fr->name[j], fcs_param_info(f, j)->name);
    }
    CHECKM(same, "%s view %d: a column differs", path, view);
    /* the float store, decoded on two threads, gathered on 1-3 threads
     * (from 2^17 events the gathers split): the same values */
    cg_frame *fl = cg_frame_from_fcs_flags(f, view, 2, CG_FRAME_FLOAT, &e);
    cg_bits *sel = cg_bits_new(n);
    REQUIRE(fl && sel);
    for (int64_t i = 0; i < n; i++)
        if ((i * 2654435761u) % 7 < 3 || (i > n / 3 && i < n / 2))
            cg_bits_set(sel, i);
    int64_t cnt = cg_bits_count(sel), bad = 0;
    for (int j = 0; j < np; j++)
        for (int t = 1; t <= 3; t++) {
            CHECK(cg_frame_gather_threads(fl, j, sel, one, t) == cnt);
            for (int64_t i = 0, k = 0; i < n; i++)
                if (cg_bits_get(sel, i))
                    bad += memcmp(&one[k++], &fr->col[j][i], 8) != 0;
            CHECK(cg_frame_gather_threads(fl, j, NULL, one, t) == n);
            bad += memcmp(one, fr->col[j], (size_t)n * sizeof *one) != 0;
        }
    CHECKM(bad == 0, "%s view %d: %lld float-store values differ", path,
           view, (long long)bad);
    cg_bits_free(sel);
    cg_frame_free(fl);
    free(one);
    free(cols);
    cg_frame_free(fr);
    fcs_close(f);
}

static void test_subset_add(const char *path)
{
    fcs_err fe = {0};
    fcs_file *f = fcs_open(path, NULL, &fe);
    REQUIRE(f);
    cg_err e = {0};
    cg_frame *fr = cg_frame_from_fcs(f, FCS_SCALED, &e);
    REQUIRE(fr);
    int j = cg_frame_add(fr, "zero", NULL, 0, NULL, &e);
    REQUIRE(j >= 0);
    int zeros = 1;
    for (int64_t i = 0; i < fr->n; i++)
        zeros &= fr->col[j][i] == 0;
    CHECK(zeros);
    uint8_t *keep = malloc((size_t)fr->n);
    REQUIRE(keep);
    int64_t m = 0;
    for (int64_t i = 0; i < fr->n; i++)
        m += keep[i] = (uint8_t)(i % 3 == 1);
    cg_frame *sub = cg_frame_subset(fr, keep, &e);
    REQUIRE(sub);
    CHECK(sub->n == m && sub->nch == fr->nch);
    int ok = 1;
    for (int c = 0; c < fr->nch; c++)
        for (int64_t i = 0, k = 0; i < fr->n; i++)
            if (keep[i])
                ok &= sub->col[c][k++] == fr->col[c][i];
    CHECK(ok);
    free(keep);
    cg_frame_free(sub);
    cg_frame_free(fr);
    fcs_close(f);
}

static void test_xform_split(void)
{
    static const cg_xform_kind kinds[] = {
        CG_XF_LINEAR, CG_XF_LOG, CG_XF_ASINH, CG_XF_ARCSINH,
        CG_XF_LOGICLE, CG_XF_HYPERLOG, CG_XF_BIEX};
    size_t n = 1000001;
    double *x = malloc(n * sizeof *x), *a = malloc(n * sizeof *a),
           *b = malloc(n * sizeof *b);
    REQUIRE(x && a && b);
    uint64_t st = 12345;
    for (size_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(st >> 11) / 9007199254740992.0;
        x[i] = i % 3 ? (u - 0.1) * 300 : exp(u * 12) - 50;
    }
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        cg_xform_params p;
        memset(&p, 0, sizeof p);
        p.T = 262144, p.W = 0.5, p.M = 4.5, p.A = 0, p.cofactor = 150;
        p.width = -10, p.pos = 4.41854, p.neg = 0, p.max = 262144;
        cg_err e = {0};
        cg_xform *xf = cg_xform_new(kinds[k], &p, &e);
        CHECKM(xf != NULL, "kind %d: %s", (int)kinds[k], e.msg);
        if (!xf)
            continue;
        cg_xform_fwd(xf, x, a, n);
        for (size_t i = 0; i < n; i += 4096)
            cg_xform_fwd(xf, x + i, b + i, n - i < 4096 ? n - i : 4096);
        CHECKM(memcmp(a, b, n * sizeof *a) == 0, "kind %d differs split",
               (int)kinds[k]);
        memcpy(b, x, n * sizeof *b);
        cg_xform_fwd(xf, b, b, n);
        CHECKM(memcmp(a, b, n * sizeof *a) == 0, "kind %d differs in place",
               (int)kinds[k]);
        cg_xform_free(xf);
    }
    free(x);
    free(a);
    free(b);
}

int main(void)
{
    test_xform_split();
    test_alloc();
    char dir[512], big[600], small[600], cmd[2048];
    snprintf(dir, sizeof dir, "%s/frame_big", CG_TEST_OUT);
    snprintf(big, sizeof big, "%s/big.fcs", dir);
    snprintf(small, sizeof small, "%s/small.fcs", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' simulate --events 300000 "
             "--no-truth -o '%s' && '%s' simulate --events 2000 --no-truth "
             "--big-endian -o '%s'", dir, CYTOGATE_BIN, big, CYTOGATE_BIN,
             small);
    REQUIRE(system(cmd) == 0);
    compare(big, FCS_SCALED);
    compare(big, FCS_RAW);
    compare(small, FCS_SCALED);
    test_subset_add(small);
    return TEST_DONE();
}
