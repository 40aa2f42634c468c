/*
 * qc_plaus.c -- check 9: is a reported number precise enough, and is it
 * believable?  (issues 13 and 17)
 *
 * precision:<h>  For each headline percentage p = k/n (Treg and Th17 % of
 *   CD4, from the actual counts) the binomial CV sqrt((1-p)/(n p)) is
 *   graded against precision_warn_cv / precision_fail_cv (Th17: the _th17
 *   keys); the detail gives p, n, the CV and the 95% Wilson score
 *   interval.  k = 0 has no CV: the rule-of-three 95% upper bound 3/n is
 *   reported and n alone decides (warn when 300/n % > precision_zero_pct,
 *   fail when > precision_zero_fail_pct).
 *   n = 0: fail, there is no estimate.
 * plausibility:<h>_pct  Treg % of CD4 outside [treg_pct_min, treg_pct_max]
 *   or Th17 % of CD4 above th17_pct_max: warn with the reason.
 * plausibility:<gate>  An auto gate (cg_qc_pop.autogate) whose parent has
 *   at least plaus_min_parent events and that keeps < gate_min_keep_pct %
 *   of it (almost none), or, for a selecting gate (not scatter, singlets,
 *   live_pop or singlet_pop, whose high keep is a clean sample), keeps >=
 *   gate_max_keep_pct % (no separation found): warn naming the gate.  One
 *   `plausibility` pass row when no gate is flagged.
 *
 * Pure arithmetic on counts, rows appended in input order.  Threading: no
 * state.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qc.h"
#include "qc_internal.h"

double cg_qc_binom_cv(int64_t k, int64_t n)
{
    if (n <= 0 || k < 0 || k > n)
        return NAN;
    if (k == 0)
        return INFINITY;
    double p = (double)k / (double)n;
    return sqrt((1 - p) / ((double)n * p));
}

void cg_qc_wilson(int64_t k, int64_t n, double z, double *lo, double *hi)
{
    if (n <= 0 || k < 0 || k > n) {
        *lo = *hi = NAN;
        return;
    }
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double den = 1 + z2 / nn;
    double mid = (p + z2 / (2 * nn)) / den;
    double half = z / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0, mid - half);
    *hi = fmin(1, mid + half);
}

/* A percentage with as many decimals as it needs: 6.2, 0.81, 0.012. */
static void fmt_pct(char *buf, size_t n, double pct)
{
    if (!isfinite(pct))
        snprintf(buf, n, "NA");
    else if (pct == 0)
        snprintf(buf, n, "0");
    else if (pct >= 1)
        snprintf(buf, n, "%.1f", pct);
    else
        snprintf(buf, n, "%#.2g", pct);
}

static int is_th17(const cg_qc_headline *h)
{
    return h->name && strcmp(h->name, "th17") == 0;
}

static int precision_row(const cg_qc_params *p, const cg_qc_headline *h,
                         cg_qc_result *r)
{
    char name[CG_QC_NAME];
    snprintf(name, sizeof name, "precision:%s", h->name);
    const char *pop = h->pop ? h->pop : h->name;
    const char *of = h->of ? h->of : "parent";
    double warn = is_th17(h) ? p->prec_warn_cv_th17 : p->prec_warn_cv;
    double fail = is_th17(h) ? p->prec_fail_cv_th17 : p->prec_fail_cv;
    if (h->n <= 0 || h->k < 0 || h->k > h->n)
        return qc_add(r, name, NAN, fail, CG_QC_FAIL,
                      "%lld %s of %lld %s: no estimate",
                      (long long)h->k, pop, (long long)h->n, of);
    char a[24], b[24], c[24];
    double lo, hi;
    cg_qc_wilson(h->k, h->n, 1.96, &lo, &hi);
    if (h->k == 0) {
        /* rule of three: P(0 of n | p = 3/n) ~ exp(-3) = 5% */
        double ub = 300.0 / (double)h->n;
        int v = ub > p->prec_zero_fail_pct ? CG_QC_FAIL
                : ub > p->prec_zero_pct    ? CG_QC_WARN
                                           : CG_QC_PASS;
        double lim = v == CG_QC_FAIL ? p->prec_zero_fail_pct
                                     : p->prec_zero_pct;
        fmt_pct(a, sizeof a, ub);
        fmt_pct(b, sizeof b, 100 * hi);
        return qc_add(r, name, INFINITY, lim, v,
                      "0 %s of %lld %s: p < %s%% (rule of three, 95%% upper "
                      "bound; Wilson %s%%), no CV; the bound is %s %g%%",
                      pop, (long long)h->n, of, a, b,
                      v == CG_QC_PASS ? "within" : "above", lim);
    }
    double cv = cg_qc_binom_cv(h->k, h->n);
    int v = qc_grade(cv, warn, fail, 0);
    fmt_pct(a, sizeof a, 100.0 * (double)h->k / (double)h->n);
    fmt_pct(b, sizeof b, 100 * lo);
    fmt_pct(c, sizeof c, 100 * hi);
    return qc_add(r, name, cv, v == CG_QC_FAIL ? fail : warn, v,
                  "p=%s%% of %lld %s (%lld %s), CV %.1f%%, 95%% CI %s-%s%% "
                  "(Wilson); warn above CV %g%%, fail above %g%%", a,
                  (long long)h->n, of, (long long)h->k, pop, 100 * cv, b, c,
                  100 * warn, 100 * fail);
}

int qc_precision(const cg_qc_params *p, const cg_qc_gating *g,
                 cg_qc_result *r)
{
    for (int i = 0; i < g->nheads; i++)
        if (g->heads[i].name && precision_row(p, &g->heads[i], r))
            return -1;
    return 0;
}

static int headline_row(const cg_qc_params *p, const cg_qc_headline *h,
                        cg_qc_result *r)
{
    int treg = strcmp(h->name, "treg") == 0, th17 = is_th17(h);
    if (!treg && !th17)
        return 0;
    char name[CG_QC_NAME], a[24];
    snprintf(name, sizeof name, "plausibility:%s_pct", h->name);
    const char *pop = h->pop ? h->pop : h->name;
    const char *of = h->of ? h->of : "parent";
    double lo = treg ? p->treg_pct_min : NAN;
    double hi = treg ? p->treg_pct_max : p->th17_pct_max;
    if (h->n <= 0)
        return qc_add(r, name, NAN, hi, CG_QC_SKIP,
                      "no %s events: %% undefined", of);
    double pct = 100.0 * (double)h->k / (double)h->n;
    fmt_pct(a, sizeof a, pct);
    if (!isnan(lo) && pct < lo)
        return qc_add(r, name, pct, lo, CG_QC_WARN,
                      "%s %s%% of %s is below the plausible %g-%g%% (%s_pct_"
                      "min): check the %s gate", pop, a, of, lo, hi,
                      h->name, pop);
    if (pct > hi)
        return qc_add(r, name, pct, hi, CG_QC_WARN,
                      "%s %s%% of %s is above the plausible %s%g%% (%s_pct_"
                      "max): check the %s gate", pop, a, of,
                      treg ? "" : "maximum ", hi, h->name, pop);
    if (treg)
        return qc_add(r, name, pct, hi, CG_QC_PASS,
                      "%s %s%% of %s is within %g-%g%%", pop, a, of, lo, hi);
    return qc_add(r, name, pct, hi, CG_QC_PASS,
                  "%s %s%% of %s is at most %g%%", pop, a, of, hi);
}

int qc_plausibility(const cg_qc_params *p, const cg_qc_gating *g,
                    cg_qc_result *r)
{
    for (int i = 0; i < g->nheads; i++)
        if (g->heads[i].name && headline_row(p, &g->heads[i], r))
            return -1;
    int judged = 0, flagged = 0;
    char name[CG_QC_NAME], a[24];
    for (int i = 0; i < g->npops; i++) {
        const cg_qc_pop *q = &g->pops[i];
        if (!q->autogate || q->count < 0 ||
            (double)q->parent_count < p->plaus_min_parent ||
            q->parent_count <= 0)
            continue;
        judged++;
        double keep = 100.0 * (double)q->count / (double)q->parent_count;
        const char *par = q->parent ? q->parent : "all events";
        const char *why = NULL;
        double thr = NAN;
        int cleanup = q->autogate == CG_QC_AUTO_CLEANUP ||
                      !strcmp(q->name, p->live_pop) ||
                      !strcmp(q->name, p->singlet_pop);
        if (!cleanup && keep >= p->gate_max_keep_pct) {
            why = "no separation found";
            thr = p->gate_max_keep_pct;
        } else if (keep < p->gate_min_keep_pct) {
            why = "almost none kept";
            thr = p->gate_min_keep_pct;
        }
        if (!why)
            continue;
        flagged++;
        snprintf(name, sizeof name, "plausibility:%s", q->name);
        fmt_pct(a, sizeof a, keep);
        /* a partial keep is never printed as "100.0" */
        for (int d = 2; d < 8 && q->count < q->parent_count &&
                        strncmp(a, "100", 3) == 0; d++)
            snprintf(a, sizeof a, "%.*f", d, keep);
        if (qc_add(r, name, keep, thr, CG_QC_WARN,
                   "gate %s kept %s%% of %s (%lld of %lld): %s", q->name, a,
                   par, (long long)q->count, (long long)q->parent_count,
                   why))
            return -1;
    }
    if (!flagged)
        return qc_add(r, "plausibility", judged, NAN, CG_QC_PASS,
                      "%d auto gate%s with >= %g parent events: none kept "
                      "< %g%% of its parent, no selecting gate >= %g%%",
                      judged,
                      judged == 1 ? "" : "s", p->plaus_min_parent,
                      p->gate_min_keep_pct, p->gate_max_keep_pct);
    return 0;
}
