/*
 * qc.h -- per-sample quality control: one verdict per sample, with the
 * reasons (issue 8).
 *
 * Nine checks, each reporting value, threshold and a verdict:
 *   1 events/count:<pop>   total events (low: warn); events per reported
 *                          population with the binomial standard error of
 *                          its % of parent (needs the gating result)
 *   2 flow_rate            events per Time bin against a robust trend;
 *                          % of events in anomalous bins (+ event mask)
 *   3 signal_stability     per-channel medians over consecutive event bins
 *   4 saturation/min_pile  % of events at >= $PnR-1; % piled at the minimum
 *   5 compensation/overcompensation
 *   6 viability/singlets   % live of singlets, % singlets of cells
 *   7 gate_fallback:<g>/override:<g>/min_count:<pop>/ratio:<m>
 *   8 file_tot/time_channel/markers
 *   9 precision:<h>/plausibility:<h|gate>  binomial CV and Wilson interval
 *                          of each headline % (Treg, Th17 of CD4); headline
 *                          % outside its plausible range; an auto gate
 *                          keeping almost all or almost none of its parent
 * Thresholds live in cg_qc_params (defaults: cg_qc_params_init, keys and
 * one-line docs: cg_qc_keys).  The engine knows nothing of the config file
 * or the run module: callers fill cg_qc_input (before gating: events,
 * compensation, file) and cg_qc_gating (after gating: counts, fallbacks).
 *
 * Two calls, so the pipeline can drop anomalous-time events before gating:
 *   cg_qc_events()  checks 2-5 and 8, fills res->time_mask and the series
 *   cg_qc_gates()   checks 1, 6, 7 and 9
 *
 * Threading: no globals; separate results may be computed in parallel.
 * cg_qc_events itself uses up to cg_qc_input.threads threads (the checks
 * and the stability channels are independent tasks, each writing its own
 * output, put together in a fixed order), so its result is the same at
 * every thread count.
 * Ownership: cg_qc_result is owned by the caller (cg_qc_result_free);
 * everything it points to belongs to it.  Input structs are borrowed for
 * the duration of the call only.
 */
#ifndef CG_QC_H
#define CG_QC_H

#include <stdint.h>
#include <stdio.h>

#include "bits.h"
#include "cgerr.h"
#include "comp.h"
#include "frame.h"

struct fcs_file;

/* Verdicts, ordered by severity (skip counts as pass for the sample). */
typedef enum cg_qc_verdict {
    CG_QC_SKIP = 0, /* check does not apply (detail says why) */
    CG_QC_PASS = 1,
    CG_QC_WARN = 2,
    CG_QC_FAIL = 3
} cg_qc_verdict;

const char *cg_qc_verdict_name(int v); /* "skip" "pass" "warn" "fail" */

#define CG_QC_MAX_POPMIN 16
#define CG_QC_NAME 64

/* Thresholds.  Percentages are in percent (5 = 5%). */
typedef struct cg_qc_params {
    /* 1 counts */
    double min_events;      /* total events below: warn */
    double min_events_fail; /* total events below: fail (0: never) */
    double min_pop_events;  /* reported population below: warn (CV>10%) */
    int n_popmin;           /* min_events_<pop> entries */
    char popmin_name[CG_QC_MAX_POPMIN][CG_QC_NAME];
    double popmin[CG_QC_MAX_POPMIN]; /* below: fail */
    /* 2 flow rate */
    int time_checks;        /* 0: skip checks 2 (and note it) */
    double rate_bin_s;      /* smallest time bin, seconds */
    double rate_bin_events; /* bins hold at least this many events on avg */
    double rate_max_bins;
    double rate_k;          /* robust z beyond which a bin is anomalous */
    double rate_min_dev;    /* ... and at least this relative deviation */
    double rate_warn_pct, rate_fail_pct;
    int exclude_time_anomalies; /* pipeline drops masked events */
    /* 3 stability */
    double stab_bin_events, stab_max_bins;
    double stab_cofactor;   /* arcsinh cofactor of the median scale */
    double stab_warn, stab_fail; /* change of smoothed median, asinh units */
    double stab_z;          /* ... and beyond this many noise SDs */
    double stab_max_window; /* skip quantiles in a valley (asinh units) */
    int stab_scatter;       /* include scatter channels */
    /* 4 margins */
    double margin_warn_pct, margin_fail_pct;
    double min_pile_warn_pct;
    /* 5 compensation */
    int comp_missing;       /* verdict: fluorescence, no matrix */
    double comp_cond_warn, comp_cond_fail;
    double comp_neg_range_frac; /* "far below zero": < -frac * $PnR */
    double comp_neg_warn_pct;
    /* 6 viability / doublets */
    char live_pop[CG_QC_NAME], singlet_pop[CG_QC_NAME];
    double viability_warn_pct, viability_fail_pct;
    double singlets_warn_pct, singlets_fail_pct;
    /* 7 gates */
    int gate_fallback;      /* verdict for an auto gate that fell back */
    int small_denominator;  /* verdict for a ratio with a small denominator */
    /* 8 file */
    int tot_mismatch;       /* verdict when $TOT != events read */
    int missing_marker;     /* verdict for a required marker missing */
    /* 9 precision and plausibility */
    double prec_warn_cv, prec_fail_cv;           /* treg (any non-th17) */
    double prec_warn_cv_th17, prec_fail_cv_th17; /* th17 */
    double prec_zero_pct;   /* k = 0: rule-of-three bound above: warn */
    double prec_zero_fail_pct; /* ... above: fail */
    double treg_pct_min, treg_pct_max, th17_pct_max;
    double plaus_min_parent;
    double gate_max_keep_pct, gate_min_keep_pct;
    /* 10 batch control (qc_control.c): limits from the first N batches */
    double control_batches;
} cg_qc_params;

void cg_qc_params_init(cg_qc_params *p);

/* Set one key (as under `qc:` in the config) from its text value.  Unknown
 * keys and bad values are errors naming the key.  `min_events_<pop>` sets
 * the minimum count of population <pop>; a key of the table wins, so
 * `min_events_fail` is the total-events fail limit, never a population
 * "fail".  0 or < 0 with err. */
int cg_qc_set(cg_qc_params *p, const char *key, const char *value,
              cg_err *err);

/* Key table: name, default (as text), one-line doc.  Terminated by a row
 * with key == NULL.  Static storage. */
typedef struct cg_qc_key {
    const char *key;
    const char *def;
    const char *doc;
} cg_qc_key;
const cg_qc_key *cg_qc_keys(void);

/* Channel roles. */
enum { CG_QC_OTHER = 0, CG_QC_SCATTER, CG_QC_FLUOR, CG_QC_TIME };

/* Classify frame channels by $PnN: Time, HDR-T, T1, TIME1 or a name containing "time" -> time;
 * FSC*, SSC*, FS *, SS * -> scatter; width channels (-W), event length,
 * sample ids and similar -> other; everything else fluorescence.
 * role[fr->nch] out. */
void cg_qc_classify(const cg_frame *fr, int *role);

/* Before-gating input.  Only fr is required. */
typedef struct cg_qc_input {
    const cg_frame *fr;     /* scaled, compensated events (not transformed) */
    struct fcs_file *fcs;   /* optional: $TOT, $TIMESTEP, $PnE/$PnG */
    const int *role;        /* optional per-channel role; NULL: classify */
    const char *tot;        /* $TOT text when fcs is NULL (NULL: unknown) */
    const char *timestep;   /* $TIMESTEP text when fcs is NULL */
    const cg_matrix *spill; /* the spillover matrix applied, or NULL */
    int comp_none;          /* config said `compensation: none` */
    const char *comp_source;/* where it came from, for the detail text */
    const char *const *missing_markers; /* required markers not found */
    int n_missing_markers;
    int threads;            /* threads cg_qc_events may use (0 or 1: the
                               caller's only); results do not depend on it */
} cg_qc_input;

/* After-gating input. */
typedef struct cg_qc_pop {
    const char *name;
    const char *parent;     /* NULL: all events */
    int64_t count, parent_count;
    int reported;           /* a reported population (count check) */
    int autogate;           /* cg_qc_auto: placed by an auto rule? its
                               keep % is judged by plausibility:<pop> */
} cg_qc_pop;

/* cg_qc_pop.autogate.  A selecting gate (a valley/tail cut on a marker)
 * keeping almost all of its parent found no separation; a clean-up gate
 * (scatter, singlets, and the live_pop/singlet_pop populations) keeping
 * almost all is a clean sample, so only "almost none" is judged there. */
enum { CG_QC_AUTO_NONE = 0, CG_QC_AUTO_SELECT = 1, CG_QC_AUTO_CLEANUP = 2 };

/* An auto cut that fell back.  Row gate_fallback:<gate>[.<marker>]. */
typedef struct cg_qc_fallback {
    const char *gate;
    const char *reason;
    const char *rule;       /* rule that placed the cut ("one peak: above",
                               "spread", ...); NULL or "": not recorded */
    const char *marker;     /* the threshold dimension; NULL for 2-D gates */
} cg_qc_fallback;

/* A cut set per sample (sample sheet / overrides file), not by the auto
 * rule.  Row override:<gate>[.<marker>], verdict pass. */
typedef struct cg_qc_override {
    const char *gate;
    const char *marker;     /* NULL: none */
    double threshold;       /* the cut used, in the gate's units */
    double auto_threshold;  /* what the auto rule gave (NaN: none) */
    const char *source;     /* "the sample sheet"; NULL: that */
} cg_qc_override;

/* A headline percentage: k events of pop among n of `of` (Treg % of CD4).
 * `name` picks the thresholds: "th17" uses the *_th17 precision keys and
 * th17_pct_max, "treg" the treg range; any other name only precision. */
typedef struct cg_qc_headline {
    const char *name;       /* row suffix: precision:<name> */
    const char *pop, *of;   /* population names for the detail */
    int64_t k, n;
} cg_qc_headline;

typedef struct cg_qc_ratio {
    const char *name;
    const char *denominator;
    int64_t denom_count, min_denominator;
} cg_qc_ratio;

typedef struct cg_qc_gating {
    int64_t total;          /* events gated (after any exclusion) */
    const cg_qc_pop *pops;
    int npops;
    const cg_qc_fallback *fallbacks;
    int nfallbacks;
    const cg_qc_ratio *ratios;
    int nratios;
    const cg_qc_headline *heads;
    int nheads;
    const cg_qc_override *overrides;
    int noverrides;
} cg_qc_gating;

typedef struct cg_qc_check {
    char name[CG_QC_NAME];  /* "flow_rate", "count:treg", ... */
    double value;           /* NaN: not applicable */
    double threshold;       /* NaN: none */
    int verdict;            /* cg_qc_verdict */
    char detail[320];
} cg_qc_check;

/* Series for the QC figure. */
typedef struct cg_qc_series {
    /* flow rate: nrate time bins */
    int nrate;
    double *rate_t0, *rate_w;   /* bin start and width (time units) */
    double *rate_count;         /* events in the bin */
    double *rate_expected;      /* robust trend * width */
    uint8_t *rate_flag;         /* 1: anomalous */
    int time_seconds;           /* 1: time in s ($TIMESTEP), 0: channel units */
    /* stability: nstab event bins x nschan channels */
    int nstab, nschan;
    int64_t *stab_first;        /* first event of each bin (nstab + 1) */
    int *stab_chan;             /* frame channel index of each series */
    double *stab_median;        /* nschan * nstab, channel-major, scaled units */
} cg_qc_series;

typedef struct cg_qc_result {
    int n, cap;
    cg_qc_check *checks;
    cg_bits *time_mask;  /* events in anomalous time bins, or NULL */
    int64_t n_time_masked;
    cg_qc_series s;
} cg_qc_result;

cg_qc_result *cg_qc_result_new(void); /* owned */
void cg_qc_result_free(cg_qc_result *r); /* NULL is a no-op */

/* Checks 2-5 and 8 on the events.  0 or < 0 with err (bad input, no
 * memory); problems with the sample are verdicts, not errors. */
int cg_qc_events(const cg_qc_params *p, const cg_qc_input *in,
                 cg_qc_result *res, cg_err *err);
/* Checks 1, 6, 7 and 9 from the gating result. */
int cg_qc_gates(const cg_qc_params *p, const cg_qc_gating *g,
                cg_qc_result *res, cg_err *err);

/* Binomial CV of p = k/n: sqrt((1-p)/(n p)); INFINITY when k = 0, NaN
 * when n <= 0. */
double cg_qc_binom_cv(int64_t k, int64_t n);
/* Wilson score interval of k/n at normal quantile z (1.96: 95%), as
 * fractions; NaN when n <= 0.  lo, hi: OUT. */
void cg_qc_wilson(int64_t k, int64_t n, double z, double *lo, double *hi);

/* Worst verdict (skip counts as pass; PASS when there are no checks). */
int cg_qc_overall(const cg_qc_result *r);
/* Check by name, or NULL.  Borrowed. */
const cg_qc_check *cg_qc_find(const cg_qc_result *r, const char *name);

/* qc.tsv: header "sample_id\tcheck\tvalue\tthreshold\tverdict\tdetail",
 * then one row per check (NaN printed as NA; tabs/newlines in detail
 * become spaces).  0 or -1 on a write error. */
int cg_qc_write_header(FILE *fp);
int cg_qc_write_rows(FILE *fp, const char *sample_id, const cg_qc_result *r);

#endif
