/*
 * qc_margins.c -- check 4, events at the margins of the dynamic range.
 *
 * saturation: per scatter and fluorescence channel, the % of events at or
 * above the scaled value of $PnR - 1 (log-amplified and gain-scaled
 * channels are mapped through the file's $PnE/$PnG, see qc_sat_limit).
 * When a channel's data run past its declared $PnR (float files whose
 * range keyword is not the real ceiling) only a pile exactly at the
 * maximum value counts, so an overstated-range quirk is not a failure.
 * min_pile: % of events sharing the channel's minimum value (a pile at
 * the floor: off-scale dim events or clipped negatives); warn only.  A
 * channel with >= 99% of its events at one value is constant (unused
 * parameter) and is left out of both.
 * One row each, naming the worst channel and every flagged one.
 *
 * Threading: pure function of its inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qc_internal.h"

/* Minimum and maximum of c[0..n) (NaN left out; INFINITY and -INFINITY
 * when none), as a scan in order gives them: of equal values (-0 and +0)
 * the first.  Four running extremes, so the scan is not one chain of
 * dependent compares; a zero minimum, whose sign the note prints, is
 * found again in order. */
static void min_max(const double *c, int64_t n, double *lo_out,
                    double *hi_out)
{
    double lo[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    double hi[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            double v = c[i + k];
            lo[k] = v < lo[k] ? v : lo[k];
            hi[k] = v > hi[k] ? v : hi[k];
        }
    for (; i < n; i++) {
        lo[0] = c[i] < lo[0] ? c[i] : lo[0];
        hi[0] = c[i] > hi[0] ? c[i] : hi[0];
    }
    for (int k = 1; k < 4; k++) {
        lo[0] = lo[k] < lo[0] ? lo[k] : lo[0];
        hi[0] = hi[k] > hi[0] ? hi[k] : hi[0];
    }
    if (lo[0] == 0) {
        lo[0] = INFINITY;
        for (i = 0; i < n; i++)
            if (c[i] < lo[0])
                lo[0] = c[i];
    }
    *lo_out = lo[0];
    *hi_out = hi[0];
}

void qc_margins_chan(const cg_qc_input *in, int j, const double *c,
                     qc_marg_chan *out)
{
    int64_t n = in->fr->n;
    double lo, hi;
    min_max(c, n, &lo, &hi);
    int64_t nlo = 0, nsat = 0, nhi = 0;
    double lim = qc_sat_limit(in, j);
    double tol = isnan(lim) ? 0 : 1e-6 * fabs(lim);
    int over = !isnan(lim) && hi > (lim + 1) * 1.001 + 1e-9;
    for (int64_t i = 0; i < n; i++) {
        if (c[i] == lo) nlo++;
        if (c[i] == hi) nhi++;
        if (!isnan(lim) && c[i] >= lim - tol) nsat++;
    }
    if (over)
        nsat = nhi >= 2 ? nhi : 0;
    if (isnan(lim))
        nsat = 0;
    out->done = 1;
    out->over = over;
    out->lo = lo;
    out->ps = n ? 100.0 * (double)nsat / (double)n : 0;
    out->pp = n && nlo >= 2 ? 100.0 * (double)nlo / (double)n : 0;
}

int qc_margins_end(const cg_qc_params *p, const cg_qc_input *in,
                   const int *role, const qc_marg_chan *mc, cg_qc_result *r,
                   cg_err *err)
{
    const cg_frame *fr = in->fr;
    int64_t n = fr->n;
    double wsat = -1, wpile = -1;
    int csat = -1, cpile = -1, nsat_w = 0, nsat_f = 0, npile = 0, nch = 0;
    char lsat[200] = "", lpile[200] = "";
    size_t ls = 0, lp = 0;
    int overstated = 0, nunused = 0;
    for (int j = 0; j < fr->nch && n > 0; j++) {
        if (role[j] != CG_QC_FLUOR && role[j] != CG_QC_SCATTER)
            continue;
        nch++;
        if (!mc[j].done)
            return cg_err_set(err, CG_E_ARG, "qc: channel %s not looked at",
                              fr->name[j]);
        double ps = mc[j].ps, pp = mc[j].pp, lo = mc[j].lo;
        overstated += mc[j].over;
        if (pp >= 99.0) { /* a constant or unused channel, not a pile */
            nunused++;
            continue;
        }
        int vs = qc_grade(ps, p->margin_warn_pct, p->margin_fail_pct, 0);
        if (vs >= CG_QC_WARN) {
            if (vs == CG_QC_FAIL) nsat_f++;
            else nsat_w++;
            if (ls < sizeof lsat)
                ls += (size_t)snprintf(lsat + ls, sizeof lsat - ls,
                                       "%s%s %.2f%%", ls ? ", " : "",
                                       fr->name[j], ps);
        }
        if (ps > wsat) {
            wsat = ps;
            csat = j;
        }
        if (pp > p->min_pile_warn_pct) {
            npile++;
            if (lp < sizeof lpile)
                lp += (size_t)snprintf(lpile + lp, sizeof lpile - lp,
                                       "%s%s %.2f%% at %g", lp ? ", " : "",
                                       fr->name[j], pp, lo);
        }
        if (pp > wpile) {
            wpile = pp;
            cpile = j;
        }
    }
    int rc;
    if (nch == 0) {
        rc = qc_add(r, "saturation", NAN, p->margin_fail_pct, CG_QC_SKIP,
                    "no scatter or fluorescence channels");
        if (!rc)
            rc = qc_add(r, "min_pile", NAN, p->min_pile_warn_pct,
                        CG_QC_SKIP, "no scatter or fluorescence channels");
        return rc ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory") : 0;
    }
    char note[160] = "";
    if (overstated)
        snprintf(note, sizeof note,
                 "; %d channel(s) exceed $PnR: only a pile at their maximum "
                 "counts", overstated);
    if (nunused)
        snprintf(note + strlen(note), sizeof note - strlen(note),
                 "; %d constant channel(s) ignored", nunused);
    int v = nsat_f ? CG_QC_FAIL : nsat_w ? CG_QC_WARN : CG_QC_PASS;
    if (v != CG_QC_PASS)
        rc = qc_add(r, "saturation", wsat,
                    v == CG_QC_FAIL ? p->margin_fail_pct : p->margin_warn_pct,
                    v, "events at >= $PnR-1 in %d channel(s): %s%s",
                    nsat_f + nsat_w, lsat, note);
    else
        rc = qc_add(r, "saturation", wsat, p->margin_warn_pct, CG_QC_PASS,
                    "%d channels, at most %.2f%% of events at >= $PnR-1 "
                    "(%s)%s", nch, wsat, csat >= 0 ? fr->name[csat] : "-",
                    note);
    if (!rc) {
        if (npile)
            rc = qc_add(r, "min_pile", wpile, p->min_pile_warn_pct,
                        CG_QC_WARN, "events piled at the channel minimum: %s",
                        lpile);
        else
            rc = qc_add(r, "min_pile", wpile, p->min_pile_warn_pct,
                        CG_QC_PASS, "at most %.2f%% of events at a channel "
                        "minimum (%s)", wpile,
                        cpile >= 0 ? fr->name[cpile] : "-");
    }
    return rc ? cg_err_set(err, CG_E_NOMEM, "qc: out of memory") : 0;
}
