/*
 * test_qc_corpus.c -- the event-level QC checks on the real FCS files of
 * shared/fcs-corpus (MANIFEST.tsv), read with fcs_open, scaled, and
 * compensated with their own spillover keyword when they carry one.
 *
 * Prints one line of verdicts per file (and the detail of every non-pass
 * row) and asserts that no check fails except the genuine findings listed
 * in EXPECTED_FAIL below, each with the reason it is real and not a vendor
 * quirk, and that each of those is still found.  Files the reader refuses
 * are listed and not counted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "qc.h"
#include "testutil.h"

/* Genuine findings: file, check. */
static const char *EXPECTED_FAIL[][3] = {
    {"flowCore/0877408774.B08", "saturation",
     "FSC-H: 6.6% of events at raw 1023 of $PnR 1024 (FACSCalibur linear "
     "scale, a real pile at the top)"},
    {"FlowCal/Data001.fcs", "saturation",
     "FL2-H/FL3-H: 36-38% of events at raw 1023 (log amplifier off scale)"},
    {"FlowIO/coulter.lmd", "saturation",
     "FS Lin 10%, SS Lin 22% of events at raw 1023 of 1024"},
    {"cytoflow/itn_02.fcs", "saturation",
     "FSC 13.7%, SSC 15.7% of events at 1023 of $PnR 1024"},
    {"FlowIO/B01 KC-A-W---91-US.fcs", "flow_rate",
     "the first 3.4 s run at 2.5x the later rate (start-of-acquisition "
     "burst, 136 events where ~55 follow)"},
    {NULL, NULL, NULL},
};
static int seen[sizeof EXPECTED_FAIL / sizeof EXPECTED_FAIL[0]];

static int expected_fail(const char *file, const char *check)
{
    for (int i = 0; EXPECTED_FAIL[i][0]; i++)
        if (!strcmp(EXPECTED_FAIL[i][0], file) &&
            !strcmp(EXPECTED_FAIL[i][1], check)) {
            seen[i] = 1;
            return 1;
        }
    return 0;
}

/* Compensate x_obs * S^-1 over the matrix channels (Gauss-Jordan inverse;
 * test-local so this test does not depend on comp.c).  0 ok, -1 singular
 * or channel missing. */
static int compensate(cg_frame *fr, const cg_matrix *S)
{
    int n = S->nrow;
    if (n != S->ncol)
        return -1;
    int *ch = malloc((size_t)n * sizeof *ch);
    double *a = malloc((size_t)n * 2 * (size_t)n * sizeof *a);
    double *row = malloc((size_t)n * sizeof *row);
    int rc = 0;
    for (int k = 0; k < n && !rc; k++)
        if ((ch[k] = cg_frame_find(fr, S->col[k])) < 0)
            rc = -1;
    for (int i = 0; i < n && !rc; i++)
        for (int j = 0; j < 2 * n; j++)
            a[i * 2 * n + j] = j < n ? S->v[i * n + j] : (j - n == i);
    for (int c = 0; c < n && !rc; c++) {
        int piv = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i * 2 * n + c]) > fabs(a[piv * 2 * n + c]))
                piv = i;
        if (fabs(a[piv * 2 * n + c]) < 1e-12) {
            rc = -1;
            break;
        }
        for (int j = 0; j < 2 * n; j++) {
            double t = a[c * 2 * n + j];
            a[c * 2 * n + j] = a[piv * 2 * n + j];
            a[piv * 2 * n + j] = t;
        }
        double d = a[c * 2 * n + c];
        for (int j = 0; j < 2 * n; j++)
            a[c * 2 * n + j] /= d;
        for (int i = 0; i < n; i++) {
            if (i == c)
                continue;
            double f = a[i * 2 * n + c];
            for (int j = 0; j < 2 * n; j++)
                a[i * 2 * n + j] -= f * a[c * 2 * n + j];
        }
    }
    for (int64_t e = 0; e < fr->n && !rc; e++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += fr->col[ch[i]][e] * a[i * 2 * n + n + j];
            row[j] = s;
        }
        for (int j = 0; j < n; j++)
            fr->col[ch[j]][e] = row[j];
    }
    free(ch);
    free(a);
    free(row);
    return rc;
}

static cg_matrix *from_spill(const fcs_spill *s)
{
    cg_matrix *m = calloc(1, sizeof *m);
    m->nrow = m->ncol = s->n;
    m->row = calloc((size_t)s->n, sizeof *m->row);
    m->col = calloc((size_t)s->n, sizeof *m->col);
    m->v = malloc((size_t)s->n * (size_t)s->n * sizeof *m->v);
    for (int i = 0; i < s->n; i++) {
        m->row[i] = strdup(s->names[i]);
        m->col[i] = strdup(s->names[i]);
    }
    memcpy(m->v, s->m, (size_t)s->n * (size_t)s->n * sizeof *m->v);
    return m;
}

static void mat_free(cg_matrix *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nrow; i++)
        free(m->row[i]);
    for (int i = 0; i < m->ncol; i++)
        free(m->col[i]);
    free(m->row);
    free(m->col);
    free(m->v);
    free(m);
}

int main(void)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/fcs-corpus/MANIFEST.tsv", CG_SHARED_DIR);
    FILE *mf = fopen(path, "r");
    if (!mf) {
        fprintf(stderr, "FAIL: cannot open %s (shared data missing)\n",
                path);
        return 1;
    }
    cg_qc_params p;
    cg_qc_params_init(&p);
    char line[8192];
    int nfiles = 0, nread = 0, nfail = 0, nexp = 0, nwarn = 0, ntime = 0;
    int nrate = 0, ncomp = 0;
    while (fgets(line, sizeof line, mf)) {
        char *tab = strchr(line, '\t');
        if (!tab || !strncmp(line, "file\t", 5))
            continue;
        *tab = 0;
        char *ver = tab + 1;
        for (int k = 0; k < 3 && ver; k++) { /* 5th column */
            ver = strchr(ver, '\t');
            if (ver) ver++;
        }
        if (!ver || strncmp(ver, "FCS", 3) != 0)
            continue;
        nfiles++;
        snprintf(path, sizeof path, "%s/fcs-corpus/%s", CG_SHARED_DIR, line);
        fcs_err fe = {0};
        fcs_file *f = fcs_open(path, NULL, &fe);
        if (!f) {
            printf("%-58s unreadable: %s\n", line, fe.msg);
            continue;
        }
        cg_err e = {0};
        cg_frame *fr = cg_frame_from_fcs(f, FCS_SCALED, &e);
        if (!fr) {
            printf("%-58s unreadable: %s\n", line, e.msg);
            fcs_close(f);
            continue;
        }
        nread++;
        fcs_spill *sp = NULL;
        cg_matrix *m = NULL;
        if (fcs_spillover(f, &sp, &fe) == 1 && sp) {
            m = from_spill(sp);
            if (compensate(fr, m) != 0) {
                /* keep the matrix: the compensation check must say why */
            }
        }
        cg_qc_input in = {0};
        in.fr = fr;
        in.fcs = f;
        in.spill = m;
        in.comp_source = m ? sp->keyword : NULL;
        cg_qc_result *r = cg_qc_result_new();
        int rc = cg_qc_events(&p, &in, r, &e);
        CHECKM(rc == 0, "%s: %s", line, e.msg);
        printf("%-58s %7lld ev:", line, (long long)fr->n);
        for (int i = 0; i < r->n; i++)
            printf(" %s=%s", r->checks[i].name,
                   cg_qc_verdict_name(r->checks[i].verdict));
        printf("\n");
        for (int i = 0; i < r->n; i++) {
            const cg_qc_check *c = &r->checks[i];
            if (c->verdict == CG_QC_PASS)
                continue;
            printf("    %s %s: %s\n", c->name, cg_qc_verdict_name(c->verdict),
                   c->detail);
            if (c->verdict == CG_QC_WARN)
                nwarn++;
            if (c->verdict == CG_QC_FAIL) {
                if (expected_fail(line, c->name)) {
                    nexp++;
                } else {
                    nfail++;
                    CHECKM(0, "%s: %s fails: %s", line, c->name, c->detail);
                }
            }
        }
        const cg_qc_check *t = cg_qc_find(r, "time_channel");
        ntime += t && t->verdict != CG_QC_SKIP;
        const cg_qc_check *fl = cg_qc_find(r, "flow_rate");
        nrate += fl && fl->verdict != CG_QC_SKIP;
        ncomp += m != NULL;
        cg_qc_result_free(r);
        mat_free(m);
        fcs_spill_free(sp);
        cg_frame_free(fr);
        fcs_close(f);
    }
    fclose(mf);
    printf("corpus: %d FCS files, %d read, %d with a time channel, %d with "
           "the flow-rate check run, %d with spillover; %d warnings, %d "
           "expected failures, %d unexpected failures\n", nfiles, nread,
           ntime, nrate, ncomp, nwarn, nexp, nfail);
    /* every genuine finding is still found */
    for (int i = 0; EXPECTED_FAIL[i][0]; i++)
        CHECKM(seen[i], "%s: %s no longer fails (%s)", EXPECTED_FAIL[i][0],
               EXPECTED_FAIL[i][1], EXPECTED_FAIL[i][2]);
    CHECK(nread >= 30);
    CHECK(nrate >= 5);
    CHECK(ncomp >= 5);
    return TEST_DONE();
}
