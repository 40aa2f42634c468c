/*
 * qc_internal.h -- shared helpers of the QC engine (qc*.c); not public.
 *
 * Each check family lives in its own file and appends rows to the result
 * with qc_add().  Robust statistics work on scratch copies: qc_median()
 * reorders its argument.
 */
#ifndef CG_QC_INTERNAL_H
#define CG_QC_INTERNAL_H

#include <stdint.h>

#include "qc.h"

/* Append a check row; -1 on no memory. */
int qc_add(cg_qc_result *r, const char *name, double value, double thr,
           int verdict, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Median (mean of the two middle values for even n); reorders a.  NaN
 * when n == 0. */
double qc_median(double *a, int64_t n);
/* Median absolute deviation from m (unscaled); reorders a. */
double qc_mad(double *a, int64_t n, double m);

/* Verdict from value against warn/fail limits; `below` = 1 when small
 * values are bad. */
int qc_grade(double v, double warn, double fail, int below);

/* Per-channel scaled value of $PnR - 1 (the saturation limit), using the
 * file's $PnE/$PnG when fcs is given; NaN when the range is unknown. */
double qc_sat_limit(const cg_qc_input *in, int ch);

int qc_rate(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            cg_qc_result *r, cg_err *err);
/* Check 3 (qc_stability.c) in three steps, so its channels can run on
 * several threads: qc_stab_begin adds the skip row to r (0 and *st NULL)
 * or sets up *st (owned: qc_stab_end or qc_stab_free) with *ntask channel
 * tasks; qc_stab_channel(st, k, c, &scratch) runs task k (0 <= k < ntask)
 * on the values c of its channel, with a per-thread scratch (NULL at first, then reused; free it with
 * qc_stab_scratch_free); tasks may run concurrently, each once;
 * qc_stab_end adds the row to r, hands the series over and frees st.
 * Each returns 0 or -1 on no memory. */
typedef struct qc_stab qc_stab;
int qc_stab_begin(const cg_qc_params *p, const cg_qc_input *in,
                  const int *role, cg_qc_result *r, qc_stab **st,
                  int *ntask);
int qc_stab_channel(qc_stab *st, int k, const double *c, void **scratch);
/* The stability task of frame channel j, or -1. */
int qc_stab_task_of(const qc_stab *st, int j);
void qc_stab_scratch_free(void *scratch); /* NULL is a no-op */
int qc_stab_end(qc_stab *st, cg_qc_result *r);
void qc_stab_free(qc_stab *st); /* NULL is a no-op */
/* Check 8 (qc.c): file_tot, time_channel and markers rows.  0 or -1. */
int qc_file(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            cg_qc_result *r);
/* Checks 4 and 5 read each channel once, with stability (qc_events.c):
 * qc_margins_chan looks at channel j's values c (every scatter and
 * fluorescence channel), qc_margins_end adds the two rows from them in
 * channel order. */
typedef struct qc_marg_chan {
    int done, over;
    double lo, ps, pp; /* minimum, % saturated, % piled at the minimum */
} qc_marg_chan;
void qc_margins_chan(const cg_qc_input *in, int j, const double *c,
                     qc_marg_chan *out);
int qc_margins_end(const cg_qc_params *p, const cg_qc_input *in,
                   const int *role, const qc_marg_chan *mc, cg_qc_result *r,
                   cg_err *err);
/* 1 when check 5 wants channel j's values (a matrix channel with a
 * known $PnR); qc_overcomp_chan: its % of events below -frac x $PnR;
 * qc_comp adds the rows, pct[j] set for every wanted j. */
int qc_overcomp_wants(const cg_qc_input *in, int j);
double qc_overcomp_chan(const cg_qc_params *p, const cg_qc_input *in, int j,
                        const double *c);
int qc_comp(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            const double *pct, cg_qc_result *r, cg_err *err);
/* Check 9 (qc_plaus.c): precision:<h> rows, then plausibility rows.  0 or
 * -1 on no memory. */
int qc_precision(const cg_qc_params *p, const cg_qc_gating *g,
                 cg_qc_result *r);
int qc_plausibility(const cg_qc_params *p, const cg_qc_gating *g,
                    cg_qc_result *r);

#endif
