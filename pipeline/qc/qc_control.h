/*
 * qc_control.h -- batch-control QC (issue 21): the bridge sample stained
 * in every batch, judged against Levey-Jennings limits.
 *
 * A control series is one value per batch (Treg % of CD4, Th17 % of CD4
 * or the Th17/Treg ratio of the control sample), in batch order.  The
 * limits are the mean and sample SD (n - 1) of the finite values of the
 * first N batches (qc key `control_batches`, default 5).  A batch's value
 * is judged with the Westgard rules 1-2s (beyond mean +- 2 SD: warn) and
 * 1-3s (beyond +- 3 SD: fail).  While the series holds fewer than N
 * batches the row is `skip` with "establishing limits".
 *
 * The engine knows nothing of stores or runs: callers (pipeline/study/)
 * assemble the series.  Threading: pure functions, no globals.
 */
#ifndef CG_QC_CONTROL_H
#define CG_QC_CONTROL_H

#include "qc.h"

/* Limits from series[0 .. min(n, nfirst)): OUT mean and sd (NaN when
 * fewer than 2 finite values); returns how many finite values were
 * used. */
int cg_qc_control_limits(const double *series, int n, int nfirst,
                         double *mean, double *sd);

/* One metric of one control. */
typedef struct cg_qc_control {
    const char *metric;   /* row name batch_control:<metric> */
    const char *label;    /* for the detail: "Treg % of CD4" */
    const double *series; /* n values in batch order, NaN = NA (borrowed) */
    int n;                /* batches in the series, this one included */
    int at;               /* index of the batch judged (0 .. n-1) */
    int nfirst;           /* N: batches that set the limits */
} cg_qc_control;

/* Verdict of c (skip/pass/warn/fail) and its row appended to res:
 * value = SDs from the mean (NaN while establishing), threshold = the SD
 * multiple that was crossed (3 fail, else 2).  Returns the verdict, or
 * -1 on no memory. */
int cg_qc_control_judge(const cg_qc_control *c, cg_qc_result *res);

#endif
