/*
 * test_frame_float.c -- the float store of frame.h (CG_FRAME_FLOAT).
 *
 * For every file of the FCS corpus (MANIFEST.tsv), in the scaled and the
 * raw view: a frame read with CG_FRAME_FLOAT gives, for every channel,
 * exactly the doubles of the ordinary frame (cg_frame_read whole and in
 * pieces, cg_frame_values, cg_frame_gather with a dense and a sparse
 * selection, cg_frame_subset, cg_frame_materialize), bit for bit; a
 * channel whose values are not all exactly float32 (log-amplified
 * integers, scaled by $PnG) is held as doubles; a time channel scaled by
 * $TIMESTEP is held raw and scaled when read.  With the file's
 * spillover, compensation recorded on the float frame reads, again bit
 * for bit, as the eager compensation of the ordinary frame, and a second
 * compensation makes the frame of doubles first.  The run must have met
 * both kinds of channel and compensated files, or it fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comp.h"
#include "fcs.h"
#include "frame.h"
#include "testutil.h"

static int n_float, n_double, n_comp, n_time;

static int same(const double *a, const double *b, int64_t n)
{
    return n == 0 || memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* Every way of reading channel j of fl gives dbl's column. */
static void check_channel(const char *what, const cg_frame *fl,
                          const cg_frame *dbl, int j, const cg_bits *dense,
                          const cg_bits *sparse)
{
    int64_t n = dbl->n;
    const double *want = dbl->col[j];
    double *buf = malloc((size_t)(n + 1) * sizeof *buf);
    REQUIRE(buf);
    cg_frame_read(fl, j, 0, n, buf);
    CHECKM(same(buf, want, n), "%s channel %d: read", what, j);
    /* in pieces of odd lengths */
    memset(buf, 0, (size_t)(n + 1) * sizeof *buf);
    for (int64_t i = 0; i < n; i += 777)
        cg_frame_read(fl, j, i, n - i < 777 ? n - i : 777, buf + i);
    CHECKM(same(buf, want, n), "%s channel %d: read in pieces", what, j);
    double *vb = NULL;
    const double *v = cg_frame_values(fl, j, &vb);
    CHECKM(v && same(v, want, n), "%s channel %d: values", what, j);
    cg_frame_slab_put(fl, vb);
    const cg_bits *sel[2] = {dense, sparse};
    for (int s = 0; s < 2; s++) {
        int64_t k = cg_frame_gather(fl, j, sel[s], buf), m = 0, bad = 0;
        for (int64_t i = 0; i < n; i++)
            if (cg_bits_get(sel[s], i))
                bad += memcmp(&buf[m++], &want[i], sizeof *want) != 0;
        CHECKM(k == m && bad == 0, "%s channel %d: %s gather (%lld of "
               "%lld, %lld differ)", what, j, s ? "sparse" : "dense",
               (long long)k, (long long)m, (long long)bad);
    }
    free(buf);
}

/* fl (float store) against dbl (doubles), channel by channel, then its
 * subset and its materialized form. */
static void check_frame(const char *what, cg_frame *fl, const cg_frame *dbl)
{
    int64_t n = dbl->n;
    REQUIRE(fl->n == n && fl->nch == dbl->nch);
    cg_bits *dense = cg_bits_new(n), *sparse = cg_bits_new(n);
    uint8_t *keep = malloc((size_t)(n ? n : 1));
    REQUIRE(dense && sparse && keep);
    uint64_t r = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        if (r % 10 < 7)
            cg_bits_set(dense, i);
        if (r % 97 == 3)
            cg_bits_set(sparse, i);
        keep[i] = r % 3 != 0;
    }
    for (int j = 0; j < fl->nch; j++) {
        if (cg_frame_held(fl, j))
            n_double++;
        else
            n_float++;
        n_time += !cg_frame_held(fl, j) && fl->fmul && fl->fmul[j] != 0;
        check_channel(what, fl, dbl, j, dense, sparse);
    }
    cg_err e = {0};
    cg_frame *a = cg_frame_subset(fl, keep, &e);
    cg_frame *b = cg_frame_subset(dbl, keep, &e);
    REQUIRE(a && b);
    double *buf = malloc((size_t)(a->n + 1) * sizeof *buf);
    REQUIRE(buf);
    for (int j = 0; j < a->nch; j++) {
        CHECKM(cg_frame_held(a, j) == cg_frame_held(fl, j),
               "%s channel %d: subset changed the storage", what, j);
        cg_frame_read(a, j, 0, a->n, buf);
        CHECKM(same(buf, b->col[j], a->n), "%s channel %d: subset", what,
               j);
    }
    free(buf);
    cg_frame_free(a);
    cg_frame_free(b);
    CHECK(cg_frame_materialize(fl, &e) == 0);
    for (int j = 0; j < fl->nch; j++)
        CHECKM(cg_frame_held(fl, j) && same(fl->col[j], dbl->col[j], n),
               "%s channel %d: materialized", what, j);
    CHECK(fl->fcol == NULL && fl->comp == NULL);
    cg_bits_free(dense);
    cg_bits_free(sparse);
    free(keep);
}

static void one_file(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fcs-corpus/%.300s", CG_SHARED_DIR, rel);
    fcs_err fe = {0};
    fcs_file *f = fcs_open(path, NULL, &fe);
    if (!f)
        return; /* the corpus holds unreadable files on purpose */
    cg_err e = {0};
    for (int view = 0; view < 2; view++) {
        int v = view ? FCS_RAW : FCS_SCALED;
        char what[1100];
        snprintf(what, sizeof what, "%.300s (%s)", rel, view ? "raw" : "scaled");
        cg_frame *dbl = cg_frame_from_fcs(f, v, &e);
        cg_frame *fl = cg_frame_from_fcs_flags(f, v, 2, CG_FRAME_FLOAT, &e);
        if (!dbl || !fl) { /* a file the reader refuses: both must */
            CHECKM(!dbl && !fl, "%s: one reader failed", what);
            cg_frame_free(dbl);
            cg_frame_free(fl);
            continue;
        }
        check_frame(what, fl, dbl);
        cg_frame_free(fl);
        cg_frame_free(dbl);
    }
    fcs_spill *sp = NULL;
    if (fcs_spillover(f, &sp, &fe) == 1) {
        cg_matrix *m = cg_matrix_from_spill(sp);
        cg_frame *dbl = cg_frame_from_fcs(f, FCS_SCALED, &e);
        cg_frame *fl =
            cg_frame_from_fcs_flags(f, FCS_SCALED, 1, CG_FRAME_FLOAT, &e);
        REQUIRE(m && dbl && fl);
        int rd = cg_compensate(dbl, m, NULL, &e);
        int rf = cg_compensate(fl, m, NULL, &e);
        CHECKM(rd == rf, "%s: compensation %d vs %d", rel, rd, rf);
        if (rd == 0) {
            n_comp += fl->comp != NULL;
            char what[1100];
            snprintf(what, sizeof what, "%.300s compensated", rel);
            check_frame(what, fl, dbl);
            /* twice: on doubles now, as the eager frame */
            cg_frame *fl2 = cg_frame_from_fcs_flags(f, FCS_SCALED, 2,
                                                    CG_FRAME_FLOAT, &e);
            REQUIRE(fl2);
            CHECK(cg_compensate(fl2, m, NULL, &e) == 0);
            CHECK(cg_compensate(fl2, m, NULL, &e) == 0);
            CHECK(cg_compensate(dbl, m, NULL, &e) == 0);
            CHECK(fl2->comp == NULL);
            double *buf = malloc((size_t)(dbl->n + 1) * sizeof *buf);
            REQUIRE(buf);
            for (int j = 0; j < dbl->nch; j++) {
                cg_frame_read(fl2, j, 0, dbl->n, buf);
                CHECKM(same(buf, dbl->col[j], dbl->n),
                       "%s channel %d: compensated twice", rel, j);
            }
            free(buf);
            cg_frame_free(fl2);
        }
        cg_frame_free(dbl);
        cg_frame_free(fl);
        cg_matrix_free(m);
    }
    fcs_spill_free(sp);
    fcs_close(f);
}

/* cg_frame_set_comp refuses what it cannot record. */
static void set_comp_errors(void)
{
    cg_frame *fr = cg_frame_new(3);
    REQUIRE(fr);
    double *c = malloc(3 * sizeof *c);
    REQUIRE(c);
    c[0] = c[1] = c[2] = 1;
    REQUIRE(cg_frame_add(fr, "A", NULL, 0, c, NULL) == 0);
    int idx[1] = {0};
    double K[1] = {1};
    cg_err e = {0};
    CHECK(cg_frame_set_comp(fr, idx, 1, K, &e) < 0); /* a double column */
    idx[0] = 5;
    CHECK(cg_frame_set_comp(fr, idx, 1, K, &e) < 0); /* no such channel */
    CHECK(cg_frame_set_comp(fr, idx, 0, K, &e) < 0);
    cg_frame_free(fr);
}

int main(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fcs-corpus/MANIFEST.tsv", CG_SHARED_DIR);
    FILE *mf = fopen(path, "r");
    if (!mf) {
        fprintf(stderr, "FAIL: cannot open %s (shared data missing)\n",
                path);
        return 1;
    }
    char line[8192];
    int nfiles = 0;
    while (fgets(line, sizeof line, mf)) {
        char *tab = strchr(line, '\t');
        if (!tab || !strncmp(line, "file\t", 5))
            continue;
        *tab = 0;
        one_file(line);
        nfiles++;
    }
    fclose(mf);
    set_comp_errors();
    printf("%d files: %d channels float-held (%d of them time x "
           "$TIMESTEP), %d held as doubles, %d compensated on read\n",
           nfiles, n_float, n_time, n_double, n_comp);
    CHECK(nfiles > 20 && n_float > 50 && n_double > 5 && n_comp >= 2 &&
          n_time >= 5);
    return TEST_DONE();
}
