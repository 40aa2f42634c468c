/*
 * qc_control.c -- batch-control rows batch_control:<metric> (see
 * qc_control.h): Levey-Jennings limits from the control's first N
 * batches and the Westgard 1-2s / 1-3s rules.
 *
 * Invariants: the limits depend only on the first N values of the series,
 * so adding later batches never moves them; a value exactly on mean +- 2
 * SD passes (the rules say "beyond").  With a zero SD (identical first N
 * values) a value equal to the mean passes and any other fails.
 *
 * Threading: pure functions, no globals.
 */
#include <math.h>
#include <stdio.h>

#include "qc_control.h"
#include "qc_internal.h"

int cg_qc_control_limits(const double *series, int n, int nfirst,
                         double *mean, double *sd)
{
    int m = 0;
    double s = 0;
    for (int i = 0; i < n && i < nfirst; i++)
        if (isfinite(series[i])) {
            s += series[i];
            m++;
        }
    *mean = *sd = NAN;
    if (m < 2)
        return m;
    *mean = s / m;
    double ss = 0;
    for (int i = 0; i < n && i < nfirst; i++)
        if (isfinite(series[i]))
            ss += (series[i] - *mean) * (series[i] - *mean);
    *sd = sqrt(ss / (m - 1));
    return m;
}

int cg_qc_control_judge(const cg_qc_control *c, cg_qc_result *res)
{
    char name[CG_QC_NAME];
    snprintf(name, sizeof name, "batch_control:%s", c->metric);
    double x = c->at >= 0 && c->at < c->n ? c->series[c->at] : NAN;
    int v;
    if (!isfinite(x)) {
        v = CG_QC_SKIP;
        if (qc_add(res, name, NAN, NAN, v, "%s of the control is NA "
                   "(batch %d)", c->label, c->at + 1) < 0)
            return -1;
        return v;
    }
    double mean, sd;
    int used = cg_qc_control_limits(c->series, c->n, c->nfirst, &mean, &sd);
    if (c->n < c->nfirst || used < 2) {
        v = CG_QC_SKIP;
        if (qc_add(res, name, NAN, NAN, v, "establishing limits: %s %.4g "
                   "in batch %d of the %d that set the mean and SD "
                   "(%d with a value so far)", c->label, x, c->at + 1,
                   c->nfirst, used) < 0)
            return -1;
        return v;
    }
    double z = sd > 0 ? (x - mean) / sd : x == mean ? 0
                                          : copysign(INFINITY, x - mean);
    double az = fabs(z);
    const char *rule = az > 3 ? "outside +-3 SD (Westgard 1-3s)"
                       : az > 2 ? "outside +-2 SD (Westgard 1-2s)"
                                : "within +-2 SD";
    v = az > 3 ? CG_QC_FAIL : az > 2 ? CG_QC_WARN : CG_QC_PASS;
    if (qc_add(res, name, isfinite(z) ? z : NAN, az > 3 ? 3 : 2, v,
               "%s %.4g in batch %d vs mean %.4g, SD %.3g of batches 1-%d "
               "(z %+.2f): %s", c->label, x, c->at + 1, mean, sd,
               c->nfirst, z, rule) < 0)
        return -1;
    return v;
}
