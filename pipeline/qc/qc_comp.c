/*
 * qc_comp.c -- check 5, compensation sanity.
 *
 * compensation: a matrix must exist when fluorescence channels do (unless
 * the config said `none`); its channel names must all be in the file; all
 * entries finite; diagonal 1; off-diagonal entries in [0, 1]; the 1-norm
 * condition number ||S||_1 ||S^-1||_1 (LU via LAPACK) below
 * comp_cond_warn / comp_cond_fail.  value = condition number.
 * overcompensation: the frame is compensated already; per matrix channel
 * the % of events below -comp_neg_range_frac * $PnR ("a population spread
 * far below zero"); warn above comp_neg_warn_pct.
 *
 * Threading: pure function of its inputs (LAPACK on a private copy).
 */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qc_internal.h"

#define APPEND(buf, len, ...)                                                \
    do {                                                                     \
        if ((len) < sizeof(buf))                                             \
            (len) += (size_t)snprintf((buf) + (len), sizeof(buf) - (len),    \
                                      __VA_ARGS__);                          \
    } while (0)

/* 1-norm condition number of the square n x n row-major matrix; INFINITY
 * when singular, NAN on no memory. */
static double cond1(const double *v, int n)
{
    double *a = malloc((size_t)n * (size_t)n * sizeof *a);
    lapack_int *ipiv = malloc((size_t)n * sizeof *ipiv);
    if (!a || !ipiv) {
        free(a);
        free(ipiv);
        return NAN;
    }
    memcpy(a, v, (size_t)n * (size_t)n * sizeof *a);
    double nrm = 0;
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += fabs(v[(size_t)i * n + j]);
        if (s > nrm)
            nrm = s;
    }
    double c = INFINITY;
    if (LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, a, n, ipiv) == 0 &&
        LAPACKE_dgetri(LAPACK_ROW_MAJOR, n, a, n, ipiv) == 0) {
        double ni = 0;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += fabs(a[(size_t)i * n + j]);
            if (s > ni)
                ni = s;
        }
        c = nrm * ni;
        if (!isfinite(c))
            c = INFINITY;
    }
    free(a);
    free(ipiv);
    return c;
}

double qc_overcomp_chan(const cg_qc_params *p, const cg_qc_input *in, int j,
                        const double *c)
{
    const cg_frame *fr = in->fr;
    double lim = -p->comp_neg_range_frac * fr->range[j];
    int64_t below = 0;
    for (int64_t i = 0; i < fr->n; i++)
        below += c[i] < lim;
    return 100.0 * (double)below / (double)fr->n;
}

int qc_overcomp_wants(const cg_qc_input *in, int j)
{
    const cg_frame *fr = in->fr;
    const cg_matrix *S = in->spill;
    if (!S || fr->n <= 0 || !(fr->range && fr->range[j] > 1))
        return 0;
    for (int k = 0; k < S->ncol; k++)
        if (S->col && S->col[k] && cg_frame_find(fr, S->col[k]) == j)
            return 1;
    return 0;
}

/* The overcompensation row from the channels' percentages (pct[j], from
 * qc_overcomp_chan for every channel qc_overcomp_wants), in matrix
 * order. */
static int overcomp(const cg_qc_params *p, const cg_qc_input *in,
                    const double *pct, cg_qc_result *r)
{
    const cg_frame *fr = in->fr;
    const cg_matrix *S = in->spill;
    double worst = 0;
    int wch = -1, nflag = 0, nch = 0;
    char list[200] = "";
    size_t len = 0;
    for (int k = 0; k < S->ncol && fr->n > 0; k++) {
        int j = S->col && S->col[k] ? cg_frame_find(fr, S->col[k]) : -1;
        if (j < 0 || !(fr->range && fr->range[j] > 1))
            continue;
        nch++;
        double lim = -p->comp_neg_range_frac * fr->range[j];
        if (pct[j] > p->comp_neg_warn_pct) {
            nflag++;
            APPEND(list, len, "%s%s %.2f%% below %g", len ? ", " : "",
                   fr->name[j], pct[j], lim);
        }
        if (pct[j] > worst || wch < 0) {
            worst = pct[j];
            wch = j;
        }
    }
    if (nch == 0)
        return qc_add(r, "overcompensation", NAN, p->comp_neg_warn_pct,
                      CG_QC_SKIP, "no compensated channel with a known "
                                  "$PnR");
    if (nflag)
        return qc_add(r, "overcompensation", worst, p->comp_neg_warn_pct,
                      CG_QC_WARN,
                      "populations far below zero after compensation "
                      "(over-compensation?): %s", list);
    return qc_add(r, "overcompensation", worst, p->comp_neg_warn_pct,
                  CG_QC_PASS,
                  "%d compensated channels; at most %.2f%% of events below "
                  "-%g x $PnR (%s)", nch, worst, p->comp_neg_range_frac,
                  fr->name[wch]);
}

int qc_comp(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            const double *pct, cg_qc_result *r, cg_err *err)
{
    const cg_frame *fr = in->fr;
    const cg_matrix *S = in->spill;
    int nfl = 0;
    for (int j = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_FLUOR)
            nfl++;
    int rc;
    if (!S) {
        if (in->comp_none)
            rc = qc_add(r, "compensation", NAN, p->comp_cond_warn,
                        CG_QC_PASS, "compensation: none (as configured)");
        else if (nfl == 0)
            rc = qc_add(r, "compensation", NAN, p->comp_cond_warn,
                        CG_QC_PASS, "no fluorescence channels: no matrix "
                                    "needed");
        else
            rc = qc_add(r, "compensation", NAN, p->comp_cond_warn,
                        p->comp_missing, "%d fluorescence channel(s) and no "
                        "spillover matrix%s%s", nfl,
                        in->comp_source ? " from " : "",
                        in->comp_source ? in->comp_source : "");
        if (!rc)
            rc = qc_add(r, "overcompensation", NAN, p->comp_neg_warn_pct,
                        CG_QC_SKIP, "no matrix applied");
        return rc ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory") : 0;
    }
    char det[300] = "";
    size_t len = 0;
    int v = CG_QC_PASS;
    /* names */
    int nmiss = 0;
    char miss[120] = "";
    size_t lm = 0;
    for (int k = 0; k < S->ncol; k++) {
        const char *nm = S->col ? S->col[k] : NULL;
        if (!nm || cg_frame_find(fr, nm) < 0) {
            nmiss++;
            APPEND(miss, lm, "%s%s", lm ? " " : "", nm ? nm : "(unnamed)");
        }
    }
    for (int k = 0; k < S->nrow && S->nrow != S->ncol; k++) {
        const char *nm = S->row ? S->row[k] : NULL;
        (void)nm; /* unmixing: rows are fluorochromes, not file channels */
    }
    if (nmiss) {
        v = CG_QC_FAIL;
        APPEND(det, len, "%d matrix channel(s) not in the file: %s; ", nmiss,
               miss);
    }
    int nonfinite = 0, negative = 0, big = 0, diag = 0;
    for (int i = 0; i < S->nrow; i++)
        for (int k = 0; k < S->ncol; k++) {
            double x = S->v[(size_t)i * S->ncol + k];
            if (!isfinite(x)) nonfinite++;
            else if (S->nrow == S->ncol && i == k) {
                if (fabs(x - 1) > 1e-6) diag++;
            } else if (S->nrow == S->ncol) {
                if (x < 0) negative++;
                if (x > 1) big++;
            }
        }
    if (nonfinite) {
        v = CG_QC_FAIL;
        APPEND(det, len, "%d non-finite entries; ", nonfinite);
    }
    if (diag) {
        if (v < CG_QC_WARN) v = CG_QC_WARN;
        APPEND(det, len, "%d diagonal entries not 1; ", diag);
    }
    if (negative || big) {
        if (v < CG_QC_WARN) v = CG_QC_WARN;
        APPEND(det, len, "%d negative and %d > 1 off-diagonal entries; ",
               negative, big);
    }
    double cond = NAN;
    double thr = p->comp_cond_warn;
    if (S->nrow == S->ncol && !nonfinite) {
        cond = cond1(S->v, S->nrow);
        if (isnan(cond))
            return cg_err_set(err, CG_E_NOMEM, "qc: out of memory");
        int vc = qc_grade(cond, p->comp_cond_warn, p->comp_cond_fail, 0);
        if (vc == CG_QC_FAIL)
            thr = p->comp_cond_fail;
        if (vc > v)
            v = vc;
        if (isinf(cond))
            APPEND(det, len, "matrix is singular; ");
        else if (vc >= CG_QC_WARN)
            APPEND(det, len, "condition number %.4g above %g; ", cond, thr);
    }
    int notin = 0;
    for (int j = 0; j < fr->nch; j++) {
        if (role[j] != CG_QC_FLUOR)
            continue;
        int found = 0;
        for (int k = 0; k < S->ncol && !found; k++)
            found = S->col && S->col[k] && !strcasecmp(S->col[k], fr->name[j]);
        notin += !found;
    }
    APPEND(det, len, "%dx%d matrix%s%s, condition number %.4g",
           S->nrow, S->ncol, in->comp_source ? " from " : "",
           in->comp_source ? in->comp_source : "", cond);
    if (notin)
        APPEND(det, len, "; %d fluorescence channel(s) not in the matrix",
               notin);
    rc = qc_add(r, "compensation", cond, thr, v, "%s", det);
    if (!rc)
        rc = overcomp(p, in, pct, r);
    return rc ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory") : 0;
}
