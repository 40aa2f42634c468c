/*
 * qc_stability.c -- check 3, signal stability over the run.
 *
 * Events are cut, in acquisition order, into nb consecutive bins of about
 * stab_bin_events (at most stab_max_bins; at least 8 bins or the check is
 * skipped).  For each fluorescence channel (and scatter when stab_scatter)
 * the median of asinh(x / stab_cofactor) is taken per bin.  The bin-to-bin
 * noise is sigma = 1.4826 MAD(successive differences) / sqrt(2), which a
 * step or a slow drift barely moves.  The medians are smoothed with a
 * running median of 5 bins; the change is the range (max - min) of the
 * smoothed series.  Each quantile is judged alone; a channel takes the
 * worst.  A quantile is not followed when the run's pooled central 10% of
 * events around it spans more than stab_max_window (it sits in a valley
 * or on a steep edge, where bin quantiles jump between populations).  A channel warns/fails when the change exceeds
 * stab_warn/stab_fail AND stab_z * sigma (so a channel whose bin medians
 * jump between two modes does not fail on noise).  The per-bin medians are
 * kept (in scaled units) for the QC figure.
 *
 * Threading: pure function of its inputs; scratch is one bin's worth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qc_internal.h"

/* Quantiles followed per bin: the median, and the quartiles, which stay
 * inside one population of a bimodal channel when the median sits in the
 * valley between them. */
#define NQ 3
static const double QS[NQ] = {0.25, 0.5, 0.75};
static const char *const QN[NQ] = {"p25", "median", "p75"};

static void run_median5(const double *m, int nb, double *out)
{
    double buf[5];
    for (int b = 0; b < nb; b++) {
        int lo = b - 2 < 0 ? 0 : b - 2, hi = b + 2 >= nb ? nb - 1 : b + 2;
        int k = 0;
        for (int i = lo; i <= hi; i++)
            buf[k++] = m[i];
        out[b] = qc_median(buf, k);
    }
}

int qc_stability(const cg_qc_params *p, const cg_qc_input *in,
                 const int *role, cg_qc_result *r, cg_err *err)
{
    const cg_frame *fr = in->fr;
    const char *ck = "signal_stability";
    int64_t n = fr->n;
    int nb = (int)((double)n / p->stab_bin_events);
    if (nb > (int)p->stab_max_bins)
        nb = (int)p->stab_max_bins;
    int nc = 0;
    for (int j = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_FLUOR || (p->stab_scatter &&
                                       role[j] == CG_QC_SCATTER))
            nc++;
    if (nc == 0)
        return qc_add(r, ck, NAN, p->stab_fail, CG_QC_SKIP,
                      "no fluorescence channels%s",
                      p->stab_scatter ? " or scatter" : "")
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory")
                   : 0;
    if (nb < 8)
        return qc_add(r, ck, NAN, p->stab_fail, CG_QC_SKIP,
                      "%lld events: too few for 8 bins of %g events",
                      (long long)n, p->stab_bin_events)
                   ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory")
                   : 0;
    int64_t *first = malloc(((size_t)nb + 1) * sizeof *first);
    int *chan = malloc((size_t)nc * sizeof *chan);
    double *med = malloc((size_t)nc * (size_t)nb * sizeof *med);
    double *m = malloc((size_t)NQ * (size_t)nb * sizeof *m);
    double *sm = malloc((size_t)nb * sizeof *sm);
    double *d = malloc((size_t)nb * sizeof *d);
    double *buf = malloc(((size_t)(n / nb) + 2) * sizeof *buf);
    double *all = malloc((size_t)n * sizeof *all);
    if (!first || !chan || !med || !m || !sm || !d || !buf || !all)
        goto nomem;
    for (int b = 0; b <= nb; b++)
        first[b] = (int64_t)((double)b * (double)n / nb);
    double cof = p->stab_cofactor;
    int k = 0, nwarn = 0, nfail = 0, wch = -1, wflag = -1;
    int wfrom = 0, wto = 0;
    double worst = 0, wsig = 0;
    char list[200] = "";
    size_t len = 0;
    for (int j = 0; j < fr->nch; j++) {
        if (!(role[j] == CG_QC_FLUOR ||
              (p->stab_scatter && role[j] == CG_QC_SCATTER)))
            continue;
        const double *c = fr->col[j];
        for (int b = 0; b < nb; b++) {
            int64_t cntb = 0;
            for (int64_t i = first[b]; i < first[b + 1]; i++)
                if (!isnan(c[i]))
                    buf[cntb++] = asinh(c[i] / cof);
            for (int qi = 0; qi < NQ; qi++)
                m[qi * nb + b] =
                    cntb ? qc_select(buf, cntb, (int64_t)(QS[qi] *
                                                          (double)(cntb - 1)))
                         : 0;
            double md = cntb ? qc_median(buf, cntb) : 0;
            m[1 * nb + b] = md;
            med[(size_t)k * nb + b] = sinh(md) * cof;
        }
        chan[k++] = j;
        /* pooled quantile windows: a quantile in a valley between two
         * populations jumps from bin to bin and is not followed */
        int64_t na = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isnan(c[i]))
                all[na++] = asinh(c[i] / cof);
        double win[NQ];
        for (int qi = 0; qi < NQ; qi++) {
            double lo = na ? qc_select(all, na, (int64_t)((QS[qi] - 0.05) *
                                                        (double)(na - 1)))
                           : 0;
            double hi = na ? qc_select(all, na, (int64_t)((QS[qi] + 0.05) *
                                                        (double)(na - 1)))
                           : 0;
            win[qi] = hi - lo;
        }
        int cv = CG_QC_PASS, cq = 1, cmin = 0, cmax = 0;
        double cchg = 0, csig = 0;
        for (int qi = 0; qi < NQ; qi++) {
            if (win[qi] > p->stab_max_window)
                continue;
            const double *mq = m + qi * nb;
            for (int b = 1; b < nb; b++)
                d[b - 1] = mq[b] - mq[b - 1];
            double md = qc_median(d, nb - 1);
            for (int b = 1; b < nb; b++)
                d[b - 1] = mq[b] - mq[b - 1];
            double sig = 1.4826 * qc_mad(d, nb - 1, md) / sqrt(2.0);
            if (sig < 1e-6)
                sig = 1e-6;
            run_median5(mq, nb, sm);
            int bmin = 0, bmax = 0;
            for (int b = 1; b < nb; b++) {
                if (sm[b] < sm[bmin]) bmin = b;
                if (sm[b] > sm[bmax]) bmax = b;
            }
            double chg = sm[bmax] - sm[bmin];
            int v = CG_QC_PASS;
            if (chg > p->stab_z * sig)
                v = qc_grade(chg, p->stab_warn, p->stab_fail, 0);
            if (v > cv || (v == cv && chg > cchg)) {
                cv = v;
                cchg = chg;
                cq = qi;
                csig = sig;
                cmin = bmin;
                cmax = bmax;
            }
        }
        if (cv >= CG_QC_WARN) {
            if (cv == CG_QC_FAIL) nfail++;
            else nwarn++;
            if (len < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len,
                                        "%s%s %s %.2f (%s)",
                                        len ? ", " : "", fr->name[j],
                                        QN[cq], cchg,
                                        cmax > cmin ? "rises" : "falls");
        }
        /* worst: the largest change among flagged channels, else overall */
        int flagged = cv >= CG_QC_WARN;
        if (flagged > wflag || (flagged == wflag && cchg > worst)) {
            wflag = flagged;
            worst = cchg;
            wch = j;
            wsig = csig;
            wfrom = cmin < cmax ? cmin : cmax;
            wto = cmin < cmax ? cmax : cmin;
        }
    }
    double wchg = worst;
    int v = nfail ? CG_QC_FAIL : nwarn ? CG_QC_WARN : CG_QC_PASS;
    int rc;
    if (v != CG_QC_PASS)
        rc = qc_add(r, ck, wchg, v == CG_QC_FAIL ? p->stab_fail
                                                 : p->stab_warn, v,
                    "median shift over the run in %d of %d channels: %s "
                    "(asinh units, cofactor %g; worst %s between event bins "
                    "%d and %d of %d, noise SD %.3g)",
                    nfail + nwarn, nc, list, cof, fr->name[wch], wfrom + 1,
                    wto + 1, nb, wsig);
    else
        rc = qc_add(r, ck, wchg, p->stab_warn, CG_QC_PASS,
                    "%d channels stable over %d bins of ~%lld events "
                    "(largest change %.3f asinh units, %s)", nc, nb,
                    (long long)(n / nb), wchg,
                    wch >= 0 ? fr->name[wch] : "-");
    if (rc)
        goto nomem;
    cg_qc_series *S = &r->s;
    free(S->stab_first);
    free(S->stab_chan);
    free(S->stab_median);
    S->nstab = nb;
    S->nschan = nc;
    S->stab_first = first;
    S->stab_chan = chan;
    S->stab_median = med;
    free(m);
    free(sm);
    free(d);
    free(buf);
    free(all);
    return 0;
nomem:
    free(first);
    free(chan);
    free(med);
    free(m);
    free(sm);
    free(d);
    free(buf);
    free(all);
    return cg_err_set(err, CG_E_NOMEM, "qc: out of memory (stability)");
}
