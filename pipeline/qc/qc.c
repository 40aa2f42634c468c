/*
 * qc.c -- the QC engine's frame: parameters (key table, defaults, parsing),
 * result rows, channel roles, the file checks (8), the count, viability
 * and gate checks (1, 6, 7) and qc.tsv output.  The event checks live in
 * qc_rate.c (2), qc_stability.c (3), qc_margins.c (4) and qc_comp.c (5),
 * run by cg_qc_events in qc_events.c; headline precision and
 * plausibility (9) in qc_plaus.c.
 *
 * Invariants: every parameter has exactly one row in QC_KEYS below; its
 * default text is parsed by cg_qc_params_init through cg_qc_set, so the
 * documented default and the compiled one cannot drift apart.  Rows are
 * appended in a fixed order, so output is deterministic.
 *
 * Threading: no globals except the constant key table.
 */
#include "qc.h"
#include "select.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcs.h"
#include "qc_internal.h"
#include "util.h"

enum { T_D, T_B, T_V, T_S };

/* X(key, type, field, default, lo, hi, doc) */
#define QC_KEYS(X)                                                           \
    X(min_events, T_D, min_events, "10000", 0, 1e15,                         \
      "total events below this: warn (precision:<h> judges the headlines)")  \
    X(min_events_fail, T_D, min_events_fail, "0", 0, 1e15,                   \
      "total events below this: fail (0: never on totals alone)")            \
    X(min_pop_events, T_D, min_pop_events, "100", 0, 1e15,                   \
      "reported population with fewer events: warn (1/sqrt(n) CV > 10%)")    \
    X(time_checks, T_B, time_checks, "true", 0, 1,                           \
      "run the flow-rate check when a Time channel exists")                  \
    X(rate_bin_s, T_D, rate_bin_s, "0.1", 0, 1e9,                            \
      "shortest flow-rate time bin, seconds (flowAI: 0.1)")                  \
    X(rate_bin_events, T_D, rate_bin_events, "100", 1, 1e9,                  \
      "widen time bins until they hold this many events on average")        \
    X(rate_max_bins, T_D, rate_max_bins, "500", 10, 100000,                  \
      "at most this many time bins")                                         \
    X(rate_k, T_D, rate_k, "4", 0, 1e6,                                      \
      "a bin is anomalous beyond this many robust SDs (MAD) of the trend")   \
    X(rate_min_dev, T_D, rate_min_dev, "0.2", 0, 1e6,                        \
      "... and at least this relative deviation from the trend")            \
    X(rate_warn_pct, T_D, rate_warn_pct, "1", 0, 100,                        \
      "% of events (or of time) in anomalous bins: warn above")              \
    X(rate_fail_pct, T_D, rate_fail_pct, "5", 0, 100,                        \
      "% of events (or of time) in anomalous bins: fail above")              \
    X(exclude_time_anomalies, T_B, exclude_time_anomalies, "false", 0, 1,    \
      "drop events in anomalous time bins before gating")                    \
    X(stab_bin_events, T_D, stab_bin_events, "1000", 10, 1e9,                \
      "events per stability bin (consecutive events)")                       \
    X(stab_max_bins, T_D, stab_max_bins, "100", 8, 100000,                   \
      "at most this many stability bins")                                    \
    X(stab_cofactor, T_D, stab_cofactor, "150", 1e-9, 1e12,                  \
      "medians are compared on asinh(x/cofactor)")                           \
    X(stab_warn, T_D, stab_warn, "0.15", 0, 1e6,                             \
      "change of a channel's smoothed median over the run (asinh units, "    \
      "~relative change): warn above")                                       \
    X(stab_fail, T_D, stab_fail, "0.3", 0, 1e6,                              \
      "... fail above")                                                      \
    X(stab_z, T_D, stab_z, "5", 0, 1e6,                                      \
      "... and only when beyond this many bin-to-bin noise SDs")             \
    X(stab_max_window, T_D, stab_max_window, "0.6", 0, 1e6,                 \
      "a quantile is followed only where the run's central 10% of events "   \
      "around it spans at most this (asinh units): not in a valley")        \
    X(stab_scatter, T_B, stab_scatter, "false", 0, 1,                        \
      "include scatter channels in the stability check (flowAI: no)")        \
    X(margin_warn_pct, T_D, margin_warn_pct, "2", 0, 100,                    \
      "% of events at >= $PnR-1 on any channel: warn above")                 \
    X(margin_fail_pct, T_D, margin_fail_pct, "5", 0, 100,                    \
      "... fail above")                                                      \
    X(min_pile_warn_pct, T_D, min_pile_warn_pct, "10", 0, 100,               \
      "% of events piled at a channel's minimum value: warn above")          \
    X(comp_missing, T_V, comp_missing, "warn", 0, 0,                         \
      "verdict when fluorescence channels exist but no matrix was applied")  \
    X(comp_cond_warn, T_D, comp_cond_warn, "1000", 1, 1e300,                 \
      "spillover matrix 1-norm condition number: warn above")                \
    X(comp_cond_fail, T_D, comp_cond_fail, "1e6", 1, 1e300,                  \
      "... fail above")                                                      \
    X(comp_neg_range_frac, T_D, comp_neg_range_frac, "0.01", 0, 1,           \
      "over-compensation: 'far below zero' means below -frac * $PnR")        \
    X(comp_neg_warn_pct, T_D, comp_neg_warn_pct, "5", 0, 100,                \
      "% of events far below zero on a compensated channel: warn above")     \
    X(live_pop, T_S, live_pop, "live", 0, 0,                                 \
      "population whose % of parent is the viability")                      \
    X(singlet_pop, T_S, singlet_pop, "singlets", 0, 0,                       \
      "population whose % of parent is the singlet %")                      \
    X(viability_warn_pct, T_D, viability_warn_pct, "80", 0, 100,             \
      "% live of singlets: warn below")                                      \
    X(viability_fail_pct, T_D, viability_fail_pct, "50", 0, 100,             \
      "... fail below")                                                      \
    X(singlets_warn_pct, T_D, singlets_warn_pct, "80", 0, 100,               \
      "% singlets of cells: warn below")                                     \
    X(singlets_fail_pct, T_D, singlets_fail_pct, "50", 0, 100,               \
      "... fail below")                                                      \
    X(gate_fallback, T_V, gate_fallback, "warn", 0, 0,                       \
      "verdict when an auto gate fell back (the detail names the rule)")     \
    X(small_denominator, T_V, small_denominator, "warn", 0, 0,               \
      "verdict when a ratio's denominator is below its min_denominator")     \
    X(tot_mismatch, T_V, tot_mismatch, "warn", 0, 0,                         \
      "verdict when $TOT differs from the events in DATA")                   \
    X(missing_marker, T_V, missing_marker, "fail", 0, 0,                     \
      "verdict when a required marker is not in the file")                   \
    X(precision_warn_cv, T_D, prec_warn_cv, "0.10", 0, 1e6,                  \
      "binomial CV of Treg % of CD4: warn above (0.10 = 100 Treg events)")   \
    X(precision_fail_cv, T_D, prec_fail_cv, "0.25", 0, 1e6,                  \
      "... fail above (95% CI half-width about half the estimate)")         \
    X(precision_warn_cv_th17, T_D, prec_warn_cv_th17, "0.20", 0, 1e6,        \
      "binomial CV of Th17 % of CD4: warn above (rare: ~25 events)")         \
    X(precision_fail_cv_th17, T_D, prec_fail_cv_th17, "0.50", 0, 1e6,        \
      "... fail above (95% CI as wide as the estimate, ~4 events)")         \
    X(precision_zero_pct, T_D, prec_zero_pct, "1", 0, 100,                   \
      "no events in a headline gate: warn when the rule-of-three 95% upper " \
      "bound 300/n % is above this")                                         \
    X(precision_zero_fail_pct, T_D, prec_zero_fail_pct, "10", 0, 100,        \
      "... fail when it is above this (0 of fewer than 30 says nothing)")   \
    X(treg_pct_min, T_D, treg_pct_min, "0.5", 0, 100,                        \
      "Treg % of CD4 below this: warn (implausible)")                       \
    X(treg_pct_max, T_D, treg_pct_max, "25", 0, 100,                         \
      "Treg % of CD4 above this: warn")                                      \
    X(th17_pct_max, T_D, th17_pct_max, "20", 0, 100,                         \
      "Th17 % of CD4 above this: warn")                                      \
    X(plaus_min_parent, T_D, plaus_min_parent, "1000", 0, 1e15,              \
      "an auto gate is judged by its keep % when its parent has this many "  \
      "events")                                                              \
    X(gate_max_keep_pct, T_D, gate_max_keep_pct, "99.5", 0, 100,             \
      "an auto gate keeping at least this % of its parent: warn (no "        \
      "separation found)")                                                   \
    X(gate_min_keep_pct, T_D, gate_min_keep_pct, "0.05", 0, 100,             \
      "an auto gate keeping less than this % of its parent: warn (almost "   \
      "none)")                                                               \
    X(control_batches, T_D, control_batches, "5", 2, 1000,                   \
      "batch control: mean and SD of the control's first N batches set the " \
      "Levey-Jennings limits (fewer: establishing limits)")

typedef struct qc_keydef {
    const char *key;
    int type;
    size_t off;
    const char *def;
    double lo, hi;
} qc_keydef;

#define X_DEF(k, t, f, d, lo, hi, doc)                                       \
    {#k, t, offsetof(cg_qc_params, f), d, lo, hi},
static const qc_keydef qc_defs[] = {QC_KEYS(X_DEF){NULL, 0, 0, NULL, 0, 0}};
#undef X_DEF

#define X_DOC(k, t, f, d, lo, hi, doc) {#k, d, doc},
static const cg_qc_key qc_keytab[] = {
    QC_KEYS(X_DOC)
    {"min_events_<pop>", "-",
     "population <pop> with fewer events: fail (e.g. min_events_cd4: 1000)"},
    {NULL, NULL, NULL}};
#undef X_DOC

const cg_qc_key *cg_qc_keys(void) { return qc_keytab; }

const char *cg_qc_verdict_name(int v)
{
    switch (v) {
    case CG_QC_SKIP: return "skip";
    case CG_QC_PASS: return "pass";
    case CG_QC_WARN: return "warn";
    case CG_QC_FAIL: return "fail";
    default: return "?";
    }
}

static int parse_verdict(const char *s)
{
    if (strcmp(s, "pass") == 0) return CG_QC_PASS;
    if (strcmp(s, "warn") == 0) return CG_QC_WARN;
    if (strcmp(s, "fail") == 0) return CG_QC_FAIL;
    return -1;
}

static int parse_bool(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") ||
        !strcmp(s, "1"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") ||
        !strcmp(s, "0"))
        return 0;
    return -1;
}

int cg_qc_set(cg_qc_params *p, const char *key, const char *value,
              cg_err *err)
{
    if (!p || !key || !value)
        return cg_err_set(err, CG_E_ARG, "qc: NULL key or value");
    const char *pre = "min_events_";
    int known = 0; /* min_events_fail is a key, not a population */
    for (const qc_keydef *d = qc_defs; d->key && !known; d++)
        known = strcmp(d->key, key) == 0;
    if (!known && strncmp(key, pre, strlen(pre)) == 0 && key[strlen(pre)]) {
        const char *pop = key + strlen(pre);
        double v;
        if (cg_parse_double(value, &v) != 0 || !(v >= 0) || !isfinite(v))
            return cg_err_set(err, CG_E_ARG,
                              "qc: %s: expected a count >= 0, got '%s'",
                              key, value);
        if (strlen(pop) >= CG_QC_NAME)
            return cg_err_set(err, CG_E_ARG, "qc: %s: name too long", key);
        int i;
        for (i = 0; i < p->n_popmin; i++)
            if (strcmp(p->popmin_name[i], pop) == 0)
                break;
        if (i == p->n_popmin) {
            if (p->n_popmin == CG_QC_MAX_POPMIN)
                return cg_err_set(err, CG_E_ARG,
                                  "qc: %s: more than %d min_events_<pop> "
                                  "keys", key, CG_QC_MAX_POPMIN);
            p->n_popmin++;
            snprintf(p->popmin_name[i], CG_QC_NAME, "%s", pop);
        }
        p->popmin[i] = v;
        return 0;
    }
    for (const qc_keydef *d = qc_defs; d->key; d++) {
        if (strcmp(d->key, key) != 0)
            continue;
        char *f = (char *)p + d->off;
        switch (d->type) {
        case T_D: {
            double v;
            if (cg_parse_double(value, &v) != 0 || !isfinite(v) ||
                v < d->lo || v > d->hi)
                return cg_err_set(err, CG_E_ARG,
                                  "qc: %s: expected a number in [%g, %g], "
                                  "got '%s'", key, d->lo, d->hi, value);
            *(double *)(void *)f = v;
            return 0;
        }
        case T_B: {
            int b = parse_bool(value);
            if (b < 0)
                return cg_err_set(err, CG_E_ARG,
                                  "qc: %s: expected true or false, got '%s'",
                                  key, value);
            *(int *)(void *)f = b;
            return 0;
        }
        case T_V: {
            int v = parse_verdict(value);
            if (v < 0)
                return cg_err_set(err, CG_E_ARG,
                                  "qc: %s: expected pass, warn or fail, got "
                                  "'%s'", key, value);
            *(int *)(void *)f = v;
            return 0;
        }
        default: {
            if (!*value || strlen(value) >= CG_QC_NAME)
                return cg_err_set(err, CG_E_ARG,
                                  "qc: %s: expected a population name (1-%d "
                                  "characters), got '%s'", key,
                                  CG_QC_NAME - 1, value);
            snprintf(f, CG_QC_NAME, "%s", value);
            return 0;
        }
        }
    }
    return cg_err_set(err, CG_E_ARG,
                      "qc: unknown key '%s' (see README \"QC checks\")", key);
}

void cg_qc_params_init(cg_qc_params *p)
{
    memset(p, 0, sizeof *p);
    for (const qc_keydef *d = qc_defs; d->key; d++) {
        int rc = cg_qc_set(p, d->key, d->def, NULL);
        (void)rc; /* defaults are valid by construction (tested) */
    }
}

/* ---- results ----------------------------------------------------------- */

cg_qc_result *cg_qc_result_new(void) { return calloc(1, sizeof(cg_qc_result)); }

void cg_qc_result_free(cg_qc_result *r)
{
    if (!r)
        return;
    free(r->checks);
    cg_bits_free(r->time_mask);
    cg_qc_series *s = &r->s;
    free(s->rate_t0);
    free(s->rate_w);
    free(s->rate_count);
    free(s->rate_expected);
    free(s->rate_flag);
    free(s->stab_first);
    free(s->stab_chan);
    free(s->stab_median);
    free(r);
}

int qc_add(cg_qc_result *r, const char *name, double value, double thr,
           int verdict, const char *fmt, ...)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 32;
        cg_qc_check *c = realloc(r->checks, (size_t)cap * sizeof *c);
        if (!c)
            return -1;
        r->checks = c;
        r->cap = cap;
    }
    cg_qc_check *c = &r->checks[r->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->value = value;
    c->threshold = thr;
    c->verdict = verdict;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    return 0;
}

int cg_qc_overall(const cg_qc_result *r)
{
    int v = CG_QC_PASS;
    for (int i = 0; r && i < r->n; i++)
        if (r->checks[i].verdict > v)
            v = r->checks[i].verdict;
    return v;
}

const cg_qc_check *cg_qc_find(const cg_qc_result *r, const char *name)
{
    for (int i = 0; r && i < r->n; i++)
        if (strcmp(r->checks[i].name, name) == 0)
            return &r->checks[i];
    return NULL;
}

/* ---- robust statistics ------------------------------------------------- */

double qc_median(double *a, int64_t n)
{
    if (n <= 0)
        return NAN;
    double m = cg_select_kth(a, n, n / 2);
    if (n % 2 == 0) {
        /* the largest value below position n/2 */
        double lo = a[0];
        for (int64_t i = 1; i < n / 2; i++)
            if (a[i] > lo)
                lo = a[i];
        m = 0.5 * (m + lo);
    }
    return m;
}

double qc_mad(double *a, int64_t n, double m)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = fabs(a[i] - m);
    return qc_median(a, n);
}

int qc_grade(double v, double warn, double fail, int below)
{
    if (isnan(v))
        return CG_QC_SKIP;
    if (below)
        return v < fail ? CG_QC_FAIL : v < warn ? CG_QC_WARN : CG_QC_PASS;
    return v > fail ? CG_QC_FAIL : v > warn ? CG_QC_WARN : CG_QC_PASS;
}

/* ---- channel roles ----------------------------------------------------- */

static int starts_ci(const char *s, const char *pre)
{
    for (; *pre; s++, pre++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*pre))
            return 0;
    return 1;
}

static int contains_ci(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (; *s; s++)
        if (starts_ci(s, w))
            return 1;
    (void)n;
    return 0;
}

static int ends_ci(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && starts_ci(s + a - b, suf);
}

void cg_qc_classify(const cg_frame *fr, int *role)
{
    for (int j = 0; j < fr->nch; j++) {
        const char *n = fr->name[j] ? fr->name[j] : "";
        int r = CG_QC_FLUOR;
        if (!strcasecmp(n, "time") || !strcasecmp(n, "hdr-t") ||
            !strcasecmp(n, "t1") || !strcasecmp(n, "time1") ||
            contains_ci(n, "time"))
            r = CG_QC_TIME;
        else if (ends_ci(n, "-W") || ends_ci(n, " W") ||
                 contains_ci(n, "width"))
            r = CG_QC_OTHER; /* pulse width: saturates by design */
        else if (starts_ci(n, "fsc") || starts_ci(n, "ssc") ||
                 starts_ci(n, "fs ") || starts_ci(n, "ss ") ||
                 starts_ci(n, "fs-") || starts_ci(n, "ss-") ||
                 starts_ci(n, "fs_") || starts_ci(n, "ss_") ||
                 !strcasecmp(n, "fs") || !strcasecmp(n, "ss") ||
                 starts_ci(n, "sc-") || starts_ci(n, "bsc") ||
                 starts_ci(n, "fwd") || starts_ci(n, "side"))
            r = CG_QC_SCATTER;
        else if (contains_ci(n, "event") ||
                 contains_ci(n, "length") || contains_ci(n, "sample") ||
                 contains_ci(n, "index") || contains_ci(n, "cell_id") ||
                 contains_ci(n, "sort") || contains_ci(n, "residual") ||
                 contains_ci(n, "offset") || contains_ci(n, "centre") ||
                 contains_ci(n, "center") || contains_ci(n, "gaussian") ||
                 contains_ci(n, "beadDist") || contains_ci(n, "bead_dist") ||
                 contains_ci(n, "barcode") || !strcasecmp(n, "class") ||
                 contains_ci(n, "tsne") || contains_ci(n, "umap"))
            r = CG_QC_OTHER;
        role[j] = r;
    }
}

/* ---- file checks (8) ----------------------------------------------------- */

static const char *kw(const cg_qc_input *in, const char *key,
                      const char *fallback)
{
    if (in->fcs)
        return fcs_keyword(in->fcs, key);
    return fallback;
}

double qc_sat_limit(const cg_qc_input *in, int ch)
{
    const cg_frame *fr = in->fr;
    double R = fr->range ? fr->range[ch] : 0;
    if (in->fcs) {
        int k = fcs_param_index(in->fcs, fr->name[ch]);
        const fcs_param *pi = k >= 0 ? fcs_param_info(in->fcs, k) : NULL;
        if (pi) {
            R = pi->range;
            if (!(R > 1))
                return NAN;
            if (pi->log_f1 > 0 && pi->datatype == 'I') {
                double f2 = pi->log_f2 > 0 ? pi->log_f2 : 1;
                return f2 * pow(10, pi->log_f1 * (R - 1) / R);
            }
            if (pi->gain != 0 && pi->gain != 1)
                return (R - 1) / pi->gain;
            return R - 1;
        }
    }
    return R > 1 ? R - 1 : NAN;
}

int qc_file(const cg_qc_params *p, const cg_qc_input *in, const int *role,
            cg_qc_result *r)
{
    const cg_frame *fr = in->fr;
    const char *tot = kw(in, "$TOT", in->tot);
    double t;
    int rc;
    if (!tot)
        rc = qc_add(r, "file_tot", NAN, (double)fr->n, p->tot_mismatch,
                    "no $TOT keyword; %lld events in DATA",
                    (long long)fr->n);
    else if (cg_parse_double(tot, &t) != 0 || t < 0)
        rc = qc_add(r, "file_tot", NAN, (double)fr->n, p->tot_mismatch,
                    "$TOT '%.40s' is not a count; %lld events in DATA", tot,
                    (long long)fr->n);
    else if ((int64_t)t != fr->n)
        rc = qc_add(r, "file_tot", t, (double)fr->n, p->tot_mismatch,
                    "$TOT says %lld events, DATA holds %lld",
                    (long long)t, (long long)fr->n);
    else
        rc = qc_add(r, "file_tot", t, (double)fr->n, CG_QC_PASS,
                    "$TOT matches DATA");
    if (rc)
        return rc;

    int tc = -1;
    for (int j = 0; j < fr->nch; j++)
        if (role[j] == CG_QC_TIME) {
            tc = j;
            break;
        }
    if (tc < 0) {
        rc = qc_add(r, "time_channel", NAN, NAN, CG_QC_SKIP,
                    "no time channel: time checks skipped");
    } else {
        const char *ts = kw(in, "$TIMESTEP", in->timestep);
        double v;
        if (!ts)
            rc = qc_add(r, "time_channel", NAN, NAN, CG_QC_PASS,
                        "time channel %s; no $TIMESTEP: flow rate in "
                        "channel units", fr->name[tc]);
        else if (cg_parse_double(ts, &v) != 0 || !(v > 0) || !isfinite(v))
            rc = qc_add(r, "time_channel", NAN, NAN, CG_QC_PASS,
                        "time channel %s; $TIMESTEP '%.40s' unusable: flow "
                        "rate in channel units", fr->name[tc], ts);
        else
            rc = qc_add(r, "time_channel", v, NAN, CG_QC_PASS,
                        "time channel %s, $TIMESTEP %g s", fr->name[tc], v);
    }
    if (rc)
        return rc;

    if (in->n_missing_markers > 0) {
        char list[256] = "";
        size_t len = 0;
        for (int i = 0; i < in->n_missing_markers && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    i ? ", " : "", in->missing_markers[i]);
        return qc_add(r, "markers", in->n_missing_markers, 0,
                      p->missing_marker, "required markers missing: %s",
                      list);
    }
    return qc_add(r, "markers", 0, 0, CG_QC_PASS,
                  "all required markers found");
}

/* ---- counts, viability, gates (1, 6, 7) -------------------------------- */

static const cg_qc_pop *find_pop(const cg_qc_gating *g, const char *name)
{
    for (int i = 0; i < g->npops; i++)
        if (g->pops[i].name && strcmp(g->pops[i].name, name) == 0)
            return &g->pops[i];
    return NULL;
}

static int pct_check(cg_qc_result *r, const char *check, const cg_qc_pop *q,
                     const char *popname, double warn, double fail)
{
    if (!q)
        return qc_add(r, check, NAN, warn, CG_QC_SKIP,
                      "no population '%s' in the gating", popname);
    if (q->parent_count <= 0)
        return qc_add(r, check, NAN, warn, CG_QC_FAIL,
                      "%s: parent %s is empty", q->name,
                      q->parent ? q->parent : "all events");
    double pct = 100.0 * (double)q->count / (double)q->parent_count;
    int v = qc_grade(pct, warn, fail, 1);
    return qc_add(r, check, pct, v == CG_QC_FAIL ? fail : warn, v,
                  "%s: %lld of %lld %s events (%.1f%%; warn < %g%%, fail < "
                  "%g%%)", q->name, (long long)q->count,
                  (long long)q->parent_count,
                  q->parent ? q->parent : "total", pct, warn, fail);
}

int cg_qc_gates(const cg_qc_params *p, const cg_qc_gating *g,
                cg_qc_result *r, cg_err *err)
{
    if (!p || !g || !r)
        return cg_err_set(err, CG_E_ARG, "qc: missing parameters or input");
    char name[CG_QC_NAME];
    double tot = (double)g->total;
    int rc;
    if (tot < p->min_events_fail)
        rc = qc_add(r, "events", tot, p->min_events_fail, CG_QC_FAIL,
                    "%lld events (fail below %g)", (long long)g->total,
                    p->min_events_fail);
    else if (tot < p->min_events)
        rc = qc_add(r, "events", tot, p->min_events, CG_QC_WARN,
                    "%lld events (warn below %g): the precision rows judge "
                    "the headline numbers", (long long)g->total,
                    p->min_events);
    else
        rc = qc_add(r, "events", tot, p->min_events, CG_QC_PASS,
                    "%lld events (minimum %g)", (long long)g->total,
                    p->min_events);
    for (int i = 0; !rc && i < g->npops; i++) {
        const cg_qc_pop *q = &g->pops[i];
        if (!q->reported)
            continue;
        snprintf(name, sizeof name, "count:%s", q->name);
        double k = (double)q->count, n = (double)q->parent_count;
        int v = k < p->min_pop_events ? CG_QC_WARN : CG_QC_PASS;
        if (n > 0) {
            double f = k / n, se = sqrt(f * (1 - f) / n);
            rc = qc_add(r, name, k, p->min_pop_events, v,
                        "%.3g%% of %s (%lld events), binomial SE %.2g "
                        "points, CV %.3g%%", 100 * f,
                        q->parent ? q->parent : "total", (long long)n,
                        100 * se, k > 0 ? 100 / sqrt(k) : INFINITY);
        } else {
            rc = qc_add(r, name, k, p->min_pop_events, v,
                        "parent %s is empty: frequency undefined",
                        q->parent ? q->parent : "total");
        }
    }
    for (int i = 0; !rc && i < p->n_popmin; i++) {
        const cg_qc_pop *q = find_pop(g, p->popmin_name[i]);
        /* Check names are CG_QC_NAME - 1 bytes at most: a long
         * population name is cut (the message below has it whole). */
        snprintf(name, sizeof name, "min_count:%.53s", p->popmin_name[i]);
        if (!q)
            rc = qc_add(r, name, NAN, p->popmin[i], CG_QC_WARN,
                        "population '%s' (min_events_%s) not in the gating",
                        p->popmin_name[i], p->popmin_name[i]);
        else
            rc = qc_add(r, name, (double)q->count, p->popmin[i],
                        (double)q->count < p->popmin[i] ? CG_QC_FAIL
                                                        : CG_QC_PASS,
                        "%lld %s events (minimum %g)", (long long)q->count,
                        q->name, p->popmin[i]);
    }
    if (!rc)
        rc = qc_precision(p, g, r);
    if (!rc)
        rc = pct_check(r, "viability", find_pop(g, p->live_pop), p->live_pop,
                       p->viability_warn_pct, p->viability_fail_pct);
    if (!rc)
        rc = pct_check(r, "singlets", find_pop(g, p->singlet_pop),
                       p->singlet_pop, p->singlets_warn_pct,
                       p->singlets_fail_pct);
    for (int i = 0; !rc && i < g->nfallbacks; i++) {
        const cg_qc_fallback *f = &g->fallbacks[i];
        const char *mk = f->marker && *f->marker ? f->marker : NULL;
        snprintf(name, sizeof name, "gate_fallback:%s%s%s", f->gate,
                 mk ? "." : "", mk ? mk : "");
        rc = qc_add(r, name, NAN, NAN, p->gate_fallback,
                    "auto gate %s%s%s%s fell back by rule '%s': %s", f->gate,
                    mk ? " (" : "", mk ? mk : "", mk ? ")" : "",
                    f->rule && *f->rule ? f->rule : "not recorded",
                    f->reason && *f->reason ? f->reason : "no reason given");
    }
    if (!rc && g->nfallbacks == 0)
        rc = qc_add(r, "gate_fallback", 0, 0, CG_QC_PASS,
                    "no auto gate fell back");
    for (int i = 0; !rc && i < g->noverrides; i++) {
        const cg_qc_override *o = &g->overrides[i];
        const char *mk = o->marker && *o->marker ? o->marker : NULL;
        snprintf(name, sizeof name, "override:%s%s%s", o->gate,
                 mk ? "." : "", mk ? mk : "");
        char autobuf[48];
        if (isnan(o->auto_threshold))
            snprintf(autobuf, sizeof autobuf, "auto gave none");
        else
            snprintf(autobuf, sizeof autobuf, "auto would be %.6g",
                     o->auto_threshold);
        rc = qc_add(r, name, o->threshold, NAN, CG_QC_PASS,
                    "threshold %.6g set by %s (%s)", o->threshold,
                    o->source && *o->source ? o->source : "the sample sheet",
                    autobuf);
    }
    if (!rc)
        rc = qc_plausibility(p, g, r);
    for (int i = 0; !rc && i < g->nratios; i++) {
        const cg_qc_ratio *q = &g->ratios[i];
        snprintf(name, sizeof name, "ratio:%s", q->name);
        int small = q->denom_count < q->min_denominator;
        rc = qc_add(r, name, (double)q->denom_count,
                    (double)q->min_denominator,
                    small ? p->small_denominator : CG_QC_PASS,
                    small ? "denominator %s has %lld events (< %lld): "
                            "ratio NA"
                          : "denominator %s has %lld events (>= %lld)",
                    q->denominator ? q->denominator : "?",
                    (long long)q->denom_count,
                    (long long)q->min_denominator);
    }
    if (rc)
        return cg_err_set(err, CG_E_NOMEM, "qc: out of memory");
    return 0;
}

/* ---- qc.tsv -------------------------------------------------------------- */

int cg_qc_write_header(FILE *fp)
{
    return fputs("sample_id\tcheck\tvalue\tthreshold\tverdict\tdetail\n",
                 fp) < 0 ? -1 : 0;
}

static void put_num(FILE *fp, double v)
{
    if (isnan(v))
        fputs("NA", fp);
    else if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", fp);
    else
        fprintf(fp, "%.6g", v);
}

static void put_clean(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc((*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s, fp);
}

int cg_qc_write_rows(FILE *fp, const char *sample_id, const cg_qc_result *r)
{
    for (int i = 0; i < r->n; i++) {
        const cg_qc_check *c = &r->checks[i];
        put_clean(fp, sample_id);
        fputc('\t', fp);
        put_clean(fp, c->name);
        fputc('\t', fp);
        put_num(fp, c->value);
        fputc('\t', fp);
        put_num(fp, c->threshold);
        fprintf(fp, "\t%s\t", cg_qc_verdict_name(c->verdict));
        put_clean(fp, c->detail);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}
