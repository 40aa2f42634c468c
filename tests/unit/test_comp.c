/*
 * test_comp.c -- compensation, CSV matrices and spectral unmixing
 * (gating/comp.c, matrix.c, unmix.c):
 *  - cg_comp_apply against an explicit naive inverse (Gauss-Jordan in long
 *    double, written here) on random well-conditioned matrices, 1e-12;
 *  - cg_compensate on a frame: channel matching by name in any order,
 *    other channels untouched, missing channels listed, row reordering by
 *    name, the condition-number report, singular matrices;
 *  - the CSV reader on the corpus matrices (FlowKit comp_complete_example,
 *    flowCore compmatrix with its FlowJo preamble and CR line ends) and on
 *    generated files, including errors that name the file and line;
 *  - corpus files carrying a spillover matrix (FlowIO 100715.fcs, PeacoQC
 *    111.fcs; FlowKit test_comp_example.fcs with its CSV matrix): the
 *    library result against a reference computed here from the decoded
 *    values and the naive inverse, 1e-12;
 *  - unmixing of synthetic mixtures back to the known abundances, 1e-9;
 *  - timing of 1M events x 11 channels (printed; bound checked loosely).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../fcs/fcs.h"
#include "comp.h"
#include "testutil.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* naive inverse of a row-major n x n matrix, long double Gauss-Jordan
 * with partial pivoting; 0 or -1 when singular */
static int naive_inverse(const double *S, long double *inv, int n)
{
    long double *a = malloc(sizeof *a * (size_t)n * 2 * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2 * n; j++)
            a[i * 2 * n + j] = j < n ? S[i * n + j] : (j - n == i);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabsl(a[r * 2 * n + c]) > fabsl(a[p * 2 * n + c]))
                p = r;
        if (a[p * 2 * n + c] == 0) {
            free(a);
            return -1;
        }
        for (int j = 0; j < 2 * n; j++) {
            long double t = a[c * 2 * n + j];
            a[c * 2 * n + j] = a[p * 2 * n + j];
            a[p * 2 * n + j] = t;
        }
        long double d = a[c * 2 * n + c];
        for (int j = 0; j < 2 * n; j++)
            a[c * 2 * n + j] /= d;
        for (int r = 0; r < n; r++)
            if (r != c) {
                long double f = a[r * 2 * n + c];
                for (int j = 0; j < 2 * n; j++)
                    a[r * 2 * n + j] -= f * a[c * 2 * n + j];
            }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            inv[i * n + j] = a[i * 2 * n + n + j];
    free(a);
    return 0;
}

static cg_matrix *random_spill(int n, int named)
{
    cg_matrix *m = cg_matrix_new(n, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            m->v[i * n + j] = i == j ? 1.0 : urand() * 0.5 / n;
    if (named)
        for (int j = 0; j < n; j++) {
            char nm[16];
            snprintf(nm, sizeof nm, "CH%d", j);
            m->row[j] = strdup(nm);
            m->col[j] = strdup(nm);
        }
    return m;
}

/* compare out (computed) with obs * inv over n events; max error relative
 * to each event's largest |value| */
static double worst_vs_naive(double **obs, double **got, const long double
                             *inv, int nc, int64_t n)
{
    double worst = 0;
    for (int64_t e = 0; e < n; e++) {
        long double big = 1e-300;
        for (int j = 0; j < nc; j++)
            if (fabsl(obs[j][e]) > big)
                big = fabsl(obs[j][e]);
        for (int k = 0; k < nc; k++) {
            long double ref = 0;
            for (int j = 0; j < nc; j++)
                ref += (long double)obs[j][e] * inv[j * nc + k];
            double err = (double)(fabsl(got[k][e] - ref) / big);
            if (err > worst)
                worst = err;
        }
    }
    return worst;
}

static void random_matrices(void)
{
    for (int n = 2; n <= 16; n += 2) {
        cg_matrix *S = random_spill(n, 0);
        long double *inv = malloc(sizeof *inv * (size_t)n * n);
        REQUIRE(naive_inverse(S->v, inv, n) == 0);
        const int64_t ne = 5000; /* > one block: exercises the blocking */
        double **obs = malloc(sizeof *obs * n), **out = malloc(sizeof *out *
                                                               n);
        for (int j = 0; j < n; j++) {
            obs[j] = malloc(sizeof **obs * ne);
            out[j] = malloc(sizeof **out * ne);
            for (int64_t e = 0; e < ne; e++)
                obs[j][e] = (urand() - 0.2) * 1e5;
        }
        cg_err err;
        CHECK_INT(cg_comp_apply(S, 0, (const double *const *)obs, out, ne,
                                &err), 0);
        double w = worst_vs_naive(obs, out, inv, n, ne);
        CHECKM(w <= 1e-12, "n=%d: worst relative error %g vs naive inverse",
               n, w);
        /* in place gives the same */
        CHECK_INT(cg_comp_apply(S, 0, (const double *const *)obs, obs, ne,
                                &err), 0);
        int same = 1;
        for (int j = 0; j < n; j++)
            same &= memcmp(obs[j], out[j], sizeof **out * ne) == 0;
        CHECKM(same, "n=%d: in-place result differs", n);
        /* inverted_already with K = inverse: multiply only */
        cg_matrix *K = cg_matrix_new(n, n);
        for (int i = 0; i < n * n; i++)
            K->v[i] = (double)inv[i];
        double **o2 = malloc(sizeof *o2 * n);
        for (int j = 0; j < n; j++)
            o2[j] = malloc(sizeof **o2 * ne);
        CHECK_INT(cg_comp_apply(S, 0, (const double *const *)out, o2, ne,
                                &err), 0); /* twice-compensated, unused */
        CHECK_INT(cg_comp_apply(K, 1, (const double *const *)out, o2, ne,
                                &err), 0);
        /* o2 = out * S^-1 again; compare to the naive product */
        double w2 = worst_vs_naive(out, o2, inv, n, ne);
        CHECKM(w2 <= 1e-12, "n=%d inverted_already: %g", n, w2);
        for (int j = 0; j < n; j++) {
            free(obs[j]);
            free(out[j]);
            free(o2[j]);
        }
        free(obs);
        free(out);
        free(o2);
        free(inv);
        cg_matrix_free(S);
        cg_matrix_free(K);
    }
    printf("random matrices n=2..16: compensation within 1e-12 of the "
           "naive inverse\n");
}

static void frame_compensation(void)
{
    const int n = 4;
    const int64_t ne = 1000;
    cg_matrix *S = random_spill(n, 1);
    S->v[0] = 0.98; /* a diagonal that is not 1 */
    cg_frame *fr = cg_frame_new(ne);
    cg_err err;
    /* frame order: FSC, CH2, CH0, Time, CH3, CH1 */
    const char *order[6] = {"FSC-A", "CH2", "CH0", "Time", "CH3", "CH1"};
    for (int c = 0; c < 6; c++) {
        REQUIRE(cg_frame_add(fr, order[c], NULL, 262144, NULL, &err) == c);
        for (int64_t e = 0; e < ne; e++)
            fr->col[c][e] = urand() * 1000 - 100;
    }
    cg_frame *orig = cg_frame_subset(fr, NULL, &err);
    REQUIRE(orig);
    cg_comp_report rep;
    CHECK_INT(cg_compensate(fr, S, &rep, &err), 0);
    long double inv[16];
    REQUIRE(naive_inverse(S->v, inv, n) == 0);
    int map[4] = {2, 5, 1, 4}; /* CHj -> frame column */
    double worst = 0;
    for (int64_t e = 0; e < ne; e++)
        for (int k = 0; k < n; k++) {
            long double ref = 0;
            for (int j = 0; j < n; j++)
                ref += (long double)orig->col[map[j]][e] * inv[j * n + k];
            double err1 = (double)fabsl(fr->col[map[k]][e] - ref) /
                          (1 + fabs((double)ref));
            if (err1 > worst)
                worst = err1;
        }
    CHECKM(worst <= 1e-12, "frame compensation worst %g", worst);
    CHECK(memcmp(fr->col[0], orig->col[0], sizeof(double) * ne) == 0);
    CHECK(memcmp(fr->col[3], orig->col[3], sizeof(double) * ne) == 0);
    CHECK_INT(rep.diag_not_one, 1);
    CHECK_INT(rep.near_singular, 0);
    /* exact 1-norm condition number; dgecon's estimate is within a few */
    double n1 = 0, ni = 0;
    for (int j = 0; j < n; j++) {
        double cs = 0, ci = 0;
        for (int i = 0; i < n; i++) {
            cs += fabs(S->v[i * n + j]);
            ci += fabs((double)inv[i * n + j]);
        }
        n1 = fmax(n1, cs);
        ni = fmax(ni, ci);
    }
    CHECKM(rep.cond <= n1 * ni * (1 + 1e-9) && rep.cond >= n1 * ni / 3,
           "cond %g vs exact %g", rep.cond, n1 * ni);

    /* rows given in another order but named: reordered by name */
    cg_matrix *P = cg_matrix_copy(S);
    for (int j = 0; j < n; j++) { /* reverse the rows */
        free(P->row[j]);
        P->row[j] = strdup(S->row[n - 1 - j]);
        memcpy(P->v + j * n, S->v + (n - 1 - j) * n, sizeof(double) * n);
    }
    cg_frame *f2 = cg_frame_subset(orig, NULL, &err);
    CHECK_INT(cg_compensate(f2, P, NULL, &err), 0);
    int same = 1;
    for (int c = 0; c < 6; c++)
        same &= memcmp(f2->col[c], fr->col[c], sizeof(double) * ne) == 0;
    CHECKM(same, "row-permuted named matrix gives a different result");

    /* missing channels are listed */
    free(P->col[1]);
    P->col[1] = strdup("FITC-A");
    free(P->col[3]);
    P->col[3] = strdup("PE-A");
    CHECK(cg_compensate(f2, P, NULL, &err) < 0);
    CHECK_INT(err.code, CG_E_CHANNEL);
    CHECK(strstr(err.msg, "FITC-A") && strstr(err.msg, "PE-A"));
    /* singular */
    cg_matrix *Z = cg_matrix_copy(S);
    memcpy(Z->v + n, Z->v, sizeof(double) * n); /* row 1 = row 0 */
    CHECK(cg_compensate(f2, Z, &rep, &err) < 0);
    CHECK_INT(err.code, CG_E_MATH);
    CHECK(cg_comp_report_of(Z, &rep, &err) == 0 && rep.near_singular);
    /* non-square for a spillover */
    cg_matrix *R = cg_matrix_new(2, 3);
    CHECK(cg_compensate(f2, R, NULL, &err) < 0);
    cg_matrix_free(R);
    cg_matrix_free(Z);
    cg_matrix_free(P);
    cg_matrix_free(S);
    cg_frame_free(f2);
    cg_frame_free(fr);
    cg_frame_free(orig);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", CG_TEST_OUT, name);
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void csv(void)
{
    cg_err err;
    cg_matrix *m = cg_matrix_read_csv(CG_SHARED_DIR
                                      "/fcs-corpus/FlowKit/comp_complete_"
                                      "example.csv", &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    REQUIRE(m);
    CHECK_INT(m->nrow, 14);
    CHECK_INT(m->ncol, 14);
    CHECK_STR(m->col[0], "Ax488-A");
    CHECK_STR(m->col[13], "Qdot705-A");
    CHECK_STR(m->row[4], "PE-Cy7-A");
    CHECK(m->v[1] == 0.2986 && m->v[14] == 0.007 && m->v[4 * 14 + 1] ==
          0.0703);
    cg_matrix_free(m);

    m = cg_matrix_read_csv(CG_SHARED_DIR "/fcs-corpus/flowCore/compmatrix",
                           &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    REQUIRE(m);
    CHECK_INT(m->nrow, 4);
    CHECK_INT(m->ncol, 4);
    CHECK_STR(m->col[0], "FL1-H");
    CHECK_STR(m->col[3], "FL4-H");
    CHECK_STR(m->row[2], "FL3-H");
    CHECK(m->v[1] == 0.24 && m->v[3] == 1.13e-3 && m->v[4] == 7.77e-3 &&
          m->v[15] == 1);
    cg_matrix_free(m);

    /* row-named layout (flowCore write.csv / FlowJo) with quotes, CRLF */
    const char *p = write_tmp("m_named.csv",
                              "\"\",\"B\",\"A\"\r\n\"A\",0.1,1\r\n"
                              "\"B\",1,0.2\r\n");
    m = cg_matrix_read_csv(p, &err);
    REQUIRE(m);
    CHECK_STR(m->row[0], "A");
    CHECK_STR(m->col[0], "B");
    CHECK(m->v[0] == 0.1 && m->v[3] == 0.2);
    /* compensating with it: rows reordered to the column order by name */
    cg_frame *fr = cg_frame_new(1);
    cg_frame_add(fr, "A", NULL, 0, NULL, &err);
    cg_frame_add(fr, "B", NULL, 0, NULL, &err);
    fr->col[0][0] = 1.1; /* A observed: a + 0.2 b with a = 1, b = 0.5 */
    fr->col[1][0] = 0.6; /* B observed: 0.1 a + b */
    CHECK_INT(cg_compensate(fr, m, NULL, &err), 0);
    CHECK_NEAR(fr->col[0][0], 1.0, 1e-15);
    CHECK_NEAR(fr->col[1][0], 0.5, 1e-15);
    cg_frame_free(fr);
    cg_matrix_free(m);

    /* TSV, spectra-like non-square with row names (no empty cell) */
    p = write_tmp("m_spectra.tsv", "D1\tD2\tD3\nF1\t1\t0.5\t0\n"
                                   "F2\t0\t0.3\t1\n");
    m = cg_matrix_read_csv(p, &err);
    REQUIRE(m);
    CHECK_INT(m->nrow, 2);
    CHECK_INT(m->ncol, 3);
    CHECK_STR(m->row[1], "F2");
    cg_matrix_free(m);

    /* errors name the file and the line */
    p = write_tmp("m_bad.csv", "A,B\n1,0.1\n0.2,x1\n");
    CHECK(cg_matrix_read_csv(p, &err) == NULL);
    CHECK_INT(err.code, CG_E_PARSE);
    CHECK_INT(err.line, 3);
    CHECK(strstr(err.msg, "m_bad.csv:3") != NULL);
    p = write_tmp("m_short.csv", "A,B\n1,0.1\n\n0.2\n");
    CHECK(cg_matrix_read_csv(p, &err) == NULL);
    CHECK_INT(err.line, 4);
    p = write_tmp("m_rect.csv", "A,B,C\n1,0.1,0\n0.2,1,0\n");
    CHECK(cg_matrix_read_csv(p, &err) == NULL);
    CHECK(strstr(err.msg, "square") != NULL);
    p = write_tmp("m_empty.csv", "\n\n");
    CHECK(cg_matrix_read_csv(p, &err) == NULL);
    p = write_tmp("m_dup.csv", "A,A\n1,0\n0,1\n");
    CHECK(cg_matrix_read_csv(p, &err) == NULL);
    CHECK(strstr(err.msg, "twice") != NULL);
    CHECK(cg_matrix_read_csv(CG_TEST_OUT "/does-not-exist.csv", &err) ==
          NULL);
    CHECK_INT(err.code, CG_E_IO);
}

/* compensate a corpus file with cg_compensate and check every event of
 * every matrix channel against observed * naive inverse (long double),
 * and every other channel unchanged */
static void corpus_file(const char *rel, const char *csv_rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fcs-corpus/%s", CG_SHARED_DIR, rel);
    fcs_err fe;
    fcs_file *f = fcs_open(path, NULL, &fe);
    if (!f)
        fprintf(stderr, "%s: %s\n", path, fe.msg);
    REQUIRE(f);
    cg_err err;
    cg_matrix *m;
    if (csv_rel) {
        snprintf(path, sizeof path, "%s/fcs-corpus/%s", CG_SHARED_DIR,
                 csv_rel);
        m = cg_matrix_read_csv(path, &err);
    } else {
        fcs_spill *sp = NULL;
        REQUIRE(fcs_spillover(f, &sp, &fe) == 1);
        m = cg_matrix_from_spill(sp);
        fcs_spill_free(sp);
    }
    REQUIRE(m);
    cg_frame *fr = cg_frame_from_fcs(f, FCS_SCALED, &err);
    cg_frame *orig = cg_frame_from_fcs(f, FCS_SCALED, &err);
    REQUIRE(fr && orig);
    cg_comp_report rep;
    CHECK_INT(cg_compensate(fr, m, &rep, &err), 0);
    int n = m->ncol;
    long double *inv = malloc(sizeof *inv * (size_t)n * n);
    REQUIRE(naive_inverse(m->v, inv, n) == 0);
    int *ix = malloc(sizeof *ix * n);
    int in_matrix[256] = {0};
    for (int j = 0; j < n; j++) {
        ix[j] = fcs_param_index(f, m->col[j]);
        REQUIRE(ix[j] >= 0 && ix[j] < 256);
        in_matrix[ix[j]] = 1;
    }
    double worst = 0;
    for (int64_t e = 0; e < fr->n; e++) {
        long double big = 1;
        for (int j = 0; j < n; j++)
            big = fmaxl(big, fabsl(orig->col[ix[j]][e]));
        for (int k = 0; k < n; k++) {
            long double ref = 0;
            for (int j = 0; j < n; j++)
                ref += (long double)orig->col[ix[j]][e] * inv[j * n + k];
            worst = fmax(worst, (double)(fabsl(fr->col[ix[k]][e] - ref) /
                                         big));
        }
    }
    int untouched = 1;
    for (int c = 0; c < fr->nch; c++)
        if (!in_matrix[c])
            untouched &= memcmp(fr->col[c], orig->col[c],
                                sizeof(double) * fr->n) == 0;
    printf("%s%s%s: %lld events x %d channels, cond %.4g, worst %.3g\n",
           rel, csv_rel ? " + " : "", csv_rel ? csv_rel : "",
           (long long)fr->n, n, rep.cond, worst);
    CHECKM(worst <= 1e-12, "%s: worst %g vs naive reference", rel, worst);
    CHECKM(untouched, "%s: a channel outside the matrix changed", rel);
    CHECK(rep.cond >= 1 && !rep.near_singular);
    free(inv);
    free(ix);
    cg_frame_free(fr);
    cg_frame_free(orig);
    cg_matrix_free(m);
    fcs_close(f);
}

static void unmixing(void)
{
    const int nf = 5, nd = 12;
    const int64_t ne = 3000;
    cg_matrix *S = cg_matrix_new(nf, nd);
    for (int i = 0; i < nf; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "Fluor%d", i);
        S->row[i] = strdup(nm);
        for (int j = 0; j < nd; j++) /* a peak per fluor plus a tail */
            S->v[i * nd + j] = exp(-0.5 * pow((j - 2.5 * i) / 1.5, 2)) +
                               0.05 * urand();
    }
    cg_frame *fr = cg_frame_new(ne);
    cg_err err;
    double *truth = malloc(sizeof *truth * nf * ne);
    for (int64_t e = 0; e < ne; e++)
        for (int i = 0; i < nf; i++)
            truth[i * ne + e] = exp(urand() * 10) - 1000 * urand();
    for (int j = 0; j < nd; j++) {
        char nm[16];
        snprintf(nm, sizeof nm, "Det%d", j);
        S->col[j] = strdup(nm);
        REQUIRE(cg_frame_add(fr, nm, NULL, 0, NULL, &err) == j);
        for (int64_t e = 0; e < ne; e++) {
            long double v = 0;
            for (int i = 0; i < nf; i++)
                v += (long double)truth[i * ne + e] * S->v[i * nd + j];
            fr->col[j][e] = (double)v;
        }
    }
    CHECK_INT(cg_unmix(fr, S, &err), 0);
    CHECK_INT(fr->nch, nd + nf);
    double worst = 0;
    for (int i = 0; i < nf; i++) {
        int c = cg_frame_find(fr, S->row[i]);
        REQUIRE(c == nd + i);
        for (int64_t e = 0; e < ne; e++) {
            double big = 0;
            for (int k = 0; k < nf; k++)
                big = fmax(big, fabs(truth[k * ne + e]));
            double r = fabs(fr->col[c][e] - truth[i * ne + e]) / big;
            worst = fmax(worst, r);
        }
    }
    printf("unmixing %d fluors over %d detectors: worst relative error "
           "%.3g\n", nf, nd, worst);
    CHECKM(worst <= 1e-9, "unmixing worst %g", worst);
    /* again: the abundance channels now exist */
    CHECK(cg_unmix(fr, S, &err) < 0);
    /* a missing detector */
    free(S->col[3]);
    S->col[3] = strdup("Nope");
    for (int i = 0; i < nf; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "Other%d", i);
        free(S->row[i]);
        S->row[i] = strdup(nm);
    }
    CHECK(cg_unmix(fr, S, &err) < 0);
    CHECK_INT(err.code, CG_E_CHANNEL);
    CHECK(strstr(err.msg, "Nope") != NULL);
    cg_matrix_free(S);
    cg_frame_free(fr);
    free(truth);
}

static void timing(void)
{
    const int nc = 11;
    const int64_t ne = 1000000;
    cg_matrix *S = random_spill(nc, 0);
    double **cols = malloc(sizeof *cols * nc);
    for (int j = 0; j < nc; j++) {
        cols[j] = malloc(sizeof **cols * ne);
        for (int64_t e = 0; e < ne; e++)
            cols[j][e] = (double)((e * 7919 + j * 104729) % 262144);
    }
    cg_err err;
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_INT(cg_comp_apply(S, 0, (const double *const *)cols, cols, ne,
                                &err), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 +
                    (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (ms < best)
            best = ms;
    }
    /* a figure, not a check: speed is the benchmark's to judge
     * (`cytogate bench`, "compensation 1000k x 11 channels" <= 25 ms);
     * a sanitizer build runs this many times slower */
    printf("compensation 1M events x %d channels: %.1f ms (best of 7)\n", nc,
           best);
    for (int j = 0; j < nc; j++)
        free(cols[j]);
    free(cols);
    cg_matrix_free(S);
}

/* Every compensated value is the fused multiply-add chain over the
 * inputs in order, from 0, bit for bit: on the vector path (four events
 * at a time), its tails and block edges, square or not, in place.  The
 * oracle is C's fma(), so the values do not depend on a BLAS kernel. */
static void fma_chain(void)
{
    static const int64_t sizes[] = {1, 3, 4, 5, 255, 256, 257, 1001};
    static const int shapes[][2] = {{8, 8}, {5, 3}, {1, 1}, {13, 7}};
    long bad = 0, tot = 0;
    for (int sh = 0; sh < 4; sh++) {
        int nr = shapes[sh][0], nc = shapes[sh][1];
        cg_matrix *K = cg_matrix_new(nr, nc);
        REQUIRE(K);
        for (int i = 0; i < nr * nc; i++)
            K->v[i] = (urand() - 0.5) * (i % (nc + 1) == 0 ? 2 : 0.3);
        for (int si = 0; si < 8; si++) {
            int64_t ne = sizes[si];
            double **in = malloc(sizeof *in * nr),
                   **out = malloc(sizeof *out * nc);
            REQUIRE(in && out);
            for (int j = 0; j < nr; j++) {
                in[j] = malloc(sizeof **in * ne);
                REQUIRE(in[j]);
                for (int64_t e = 0; e < ne; e++)
                    in[j][e] = (urand() - 0.25) * 262144.0;
                in[j][0] = j % 3 == 0 ? -0.0 : in[j][0];
            }
            for (int k = 0; k < nc; k++) {
                out[k] = malloc(sizeof **out * ne);
                REQUIRE(out[k]);
            }
            cg_err err;
            CHECK_INT(cg_comp_apply(K, 1, (const double *const *)in, out, ne,
                                    &err), 0);
            for (int k = 0; k < nc; k++)
                for (int64_t e = 0; e < ne; e++) {
                    double acc = 0;
                    for (int j = 0; j < nr; j++)
                        acc = fma(in[j][e], K->v[j * nc + k], acc);
                    tot++;
                    bad += memcmp(&acc, &out[k][e], sizeof acc) != 0;
                }
            if (nr == nc) { /* in place: the same values */
                CHECK_INT(cg_comp_apply(K, 1, (const double *const *)in, in,
                                        ne, &err), 0);
                for (int k = 0; k < nc; k++)
                    bad += memcmp(in[k], out[k], sizeof **in * ne) != 0;
            }
            for (int j = 0; j < nr; j++)
                free(in[j]);
            for (int k = 0; k < nc; k++)
                free(out[k]);
            free(in);
            free(out);
        }
        cg_matrix_free(K);
    }
    CHECKM(bad == 0, "%ld of %ld values differ from the fma chain", bad, tot);
    printf("fma chain: %ld values compared\n", tot);
}

int main(void)
{
    random_matrices();
    fma_chain();
    frame_compensation();
    csv();
    corpus_file("FlowIO/100715.fcs", NULL);
    corpus_file("PeacoQC/111.fcs", NULL);
    corpus_file("FlowKit/test_comp_example.fcs",
                "FlowKit/comp_complete_example.csv");
    unmixing();
    timing();
    return TEST_DONE();
}
