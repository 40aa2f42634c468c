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
 * 3. cg_frame_add with no column still gives zeros; cg_frame_subset
 *    copies exactly the kept rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "frame.h"
#include "testutil.h"

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

int main(void)
{
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
