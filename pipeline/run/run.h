/*
 * run.h -- `cytogate run` internals: one sample end to end (run.c), the
 * parallel batch over samples (batch.c) and the output files (output.c).
 *
 * One sample: open the FCS file (sha256 of its bytes recorded), read the
 * scaled events, resolve the panel, compensate (config or sheet override),
 * QC the events (optionally dropping anomalous-time events), transform,
 * build the gate tree gate by gate from the config -- auto gates computed
 * on their parent's events -- evaluate it, then statistics, metrics, gate
 * QC and (unless disabled) plots.  Everything lands in a cg_result.  A
 * problem with the sample (unreadable file, missing marker, ...) is a
 * result with ok = 0 and a message, never a process error.
 *
 * Threading: cg_run_ctx is read-only once prepared and shared by all
 * workers; each worker fills its own cg_result.  Results are stored by
 * sample index, so outputs never depend on the number of threads.
 * Ownership: cg_run_ctx_prepare fills an owned context (cg_run_ctx_clear);
 * cg_result_clear frees what a result owns.
 */
#ifndef CG_RUN_H
#define CG_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "cgerr.h"
#include "comp.h"
#include "config.h"
#include "panel.h"
#include "qc.h"
#include "sheet.h"

/* The logicle parameters a marker's transform used (NaN: not logicle);
 * with `T: auto`/`M: auto`/`W: auto` they differ per sample. */
typedef struct cg_tf_used {
    double T, W, M;
} cg_tf_used;

/* Per-dimension outcome of a threshold gate. */
typedef struct cg_thr_info {
    double threshold;     /* transformed units (raw for `units: raw`);
                             NaN when none could be set */
    double threshold_raw; /* the same cut in raw units (inverse transform) */
    int fell_back;
    char reason[200];
    int npeaks;
    double depth;         /* valley depth (NaN otherwise) */
    double bandwidth;     /* KDE bandwidth, transformed units (NaN: none) */
    /* Which rule placed the cut: "valley", "spread", "one peak: above",
     * "one peak: below", "one peak: fail", "fraction", "quantile",
     * "fixed", "override", "too few events" (CG_RULE_LEN with NUL). */
    char rule[24];
    double mode;          /* main peak position (NaN: none) */
    double spread;        /* robust SD of the main peak (NaN: not used) */
    double grid_lo, grid_hi; /* KDE grid (robust range), NaN: none */
    int overridden;       /* 1: the cut came from a per-sample override
                             (sheet `gate:<name>` column or overrides
                             file); `auto_threshold` keeps the auto cut */
    double auto_threshold;
} cg_thr_info;

typedef struct cg_pop_result {
    int64_t count;        /* -1: NA (gate could not be evaluated) */
    int64_t parent_count; /* parent (or all used events for a root) */
    char na_reason[200];  /* why count is NA */
    cg_thr_info *thr;     /* ndims entries for threshold gates, else NULL */
    int nthr;
    /* scatter / singlets outcome */
    int auto2d;           /* 1 for scatter/singlets gates */
    int fell_back;
    char reason[200];
    double mode_x, mode_y, level_density; /* scatter */
    double k, ratio_lo, ratio_hi;         /* singlets */
    double *vx, *vy;      /* the polygon used (scatter/singlets), owned */
    int nvert;
    char rule[24];        /* scatter/singlets: "lowest-SSC mode",
                             "ratio mode", "too few events", ... */
    int dropped;          /* threshold dims dropped (optional marker
                             missing from the file) */
    double debris_cut;    /* scatter: FSC-A debris cut (x units), NaN none */
    double *mstats;       /* nstat_markers * nstats, NaN = NA; owned */
} cg_pop_result;

typedef struct cg_result {
    int ok;               /* 1 processed, 0 error */
    char *message;        /* error (ok = 0) or notes (ok = 1); owned/NULL */
    char sha256[65];      /* "" when the file could not be read */
    int64_t file_size;
    char fcs_version[16];
    int64_t events;       /* events in the file */
    int64_t events_used;  /* events gated (after QC time exclusion) */
    /* channel mapping (owned strings; NULL when not found) */
    char **marker_pnn, **marker_pns, **marker_how; /* cfg->nmarkers */
    char **role_pnn;                               /* cfg->nscatter */
    double *marker_w;     /* logicle W used per marker (NaN: n/a) */
    cg_tf_used *marker_tf;/* logicle T, W, M used per marker */
    char comp_source[160];/* "$SPILLOVER (file)", "none", "CSV path" ... */
    int comp_n;           /* channels compensated */
    double comp_cond;     /* condition number (NaN: n/a) */
    cg_pop_result *pops;  /* cfg->ngates */
    double *metric;       /* cfg->nmetrics; NaN = NA */
    char **metric_reason; /* owned, NULL when the value is set */
    char **warnings;      /* owned */
    int nwarnings;
    cg_qc_result *qc;     /* owned, NULL when QC did not run */
    int qc_verdict;       /* cg_qc_verdict, or -1 */
    /* The headline populations chosen for this sample: the first
     * evaluable gate of each `headline:` list (-1: none evaluable).  Their
     * `definition:` strings fill treg_definition / th17_definition. */
    int head_cd4, head_treg, head_th17;
} cg_result;

void cg_result_clear(cg_result *r);

/* Fill r->head_cd4/treg/th17: the first evaluable gate (count >= 0) of
 * each `headline:` list (the list's first when none is). */
void cg_result_pick_headline(const cg_config *cfg, cg_result *r);
/* The gates metric i divides for this sample (first evaluable of each
 * numerator/denominator list). */
void cg_metric_pick(const cg_config *cfg, const cg_result *r, int i,
                    int *num, int *den);

/* Options of a run. */
struct cg_run_plots_ctx;

typedef struct cg_run_opts {
    const char *outdir;  /* NULL: no files beside the tables (no plots) */
    int plots;           /* write per-sample figures */
    int threads;
    int export_gml;      /* gatingml/<id>.xml per sample (export_gml.h) */
    int no_stats;        /* skip the marker statistics (cg_pop_result's
                            mstats stay NULL): for a caller that reads
                            none of them, as `cytogate plot` */
    /* Called by cg_run_sample once the sample is gated (after QC and
     * statistics, unless no_stats), with its frame, dimensions, gate tree and members
     * (borrowed for the call only; see run_internal.h).  A return < 0
     * fails the sample with err's message.  NULL: none.  Used by
     * `cytogate plot`. */
    int (*on_gated)(const struct cg_run_plots_ctx *pc, void *arg,
                    cg_err *err);
    void *on_gated_arg;
} cg_run_opts;

typedef struct cg_run_ctx {
    const cg_config *cfg;   /* borrowed */
    const cg_sheet *sheet;  /* borrowed */
    cg_run_opts opts;
    cg_matrix *comp_csv;    /* config `compensation: <csv>`, owned */
    cg_qc_params qc;        /* from the config's qc: section */
    char config_sha256[65];
    /* One transform per config transform spec (cfg->tf[k]), built once
     * and shared read-only by every sample; NULL for `W: auto` (built per
     * sample) or when it could not be built (the sample reports why).
     * Owned. */
    struct cg_xform **tf_xf;
    int ntf_xf;
    /* Threads each sample may use for its own stages (decode, the event
     * QC beside the gating, transforms, statistics): opts.threads divided
     * among the samples in flight (at least 1).  -j 2 on one sample: 2;
     * -j 2 on a batch: 1 per sample, two samples at once.  Outputs are
     * the same at any value. */
    int inner_threads;
} cg_run_ctx;

/* Load what the config refers to (the CSV matrix) and the QC parameters.
 * Errors here are config errors (exit 1). */
int cg_run_ctx_prepare(cg_run_ctx *ctx, const cg_config *cfg,
                       const cg_sheet *sheet, const cg_run_opts *o,
                       cg_err *err);
void cg_run_ctx_clear(cg_run_ctx *ctx);

/* Process sample i of the sheet into res (zeroed first).  Returns 0 when
 * processed, -1 when the sample failed (res->ok = 0, res->message set). */
int cg_run_sample(const cg_run_ctx *ctx, int i, cg_result *res);

/* All samples with ctx->opts.threads workers; results[i] for sample i.
 * Progress goes to stderr only when it is a terminal.  Returns the number
 * of failed samples. */
int cg_run_batch(const cg_run_ctx *ctx, cg_result *results);

/* sha256 of a file as 64 hex digits; 0 or -1 (errno set). */
int cg_sha256_file(const char *path, char hex[65], int64_t *size);
void cg_sha256_buf(const void *buf, size_t n, char hex[65]);

/* ---- outputs (output.c) ------------------------------------------------ */

/* Numbers in every table: %.6g of the value (NA for NaN); counts as
 * integers.  Deterministic and locale-independent (the C locale). */
void cg_fmt_num(char *buf, size_t n, double v);

/* The headline values of a result (NaN when NA). */
typedef struct cg_headline {
    int64_t cd4, treg, th17;       /* -1 when NA */
    double treg_pct, th17_pct, ratio;
} cg_headline;
void cg_result_headline(const cg_config *cfg, const cg_result *r,
                        cg_headline *h);
/* A gate's `definition:` text, or its name ("NA" for gi < 0).  Borrowed
 * from the config. */
const char *cg_gate_definition(const cg_config *cfg, int gi);

/* Write the summary rows (header included) as TSV to fp. */
int cg_write_summary(FILE *fp, const cg_run_ctx *ctx, const cg_result *res);
/* summary.tsv, stats.tsv, qc.tsv, samples/<id>.json, longitudinal.tsv
 * (when the sheet has subjects and visits) and run.json under outdir;
 * batch figures too when plots are on.  `argv` is recorded in run.json.
 * 0, or -1 with err naming the file that could not be written. */
int cg_write_outputs(const cg_run_ctx *ctx, const cg_result *res,
                     const char *start_time, int argc, char **argv,
                     cg_err *err);
/* --json: every summary row as a JSON array on fp. */
int cg_write_summary_json(FILE *fp, const cg_run_ctx *ctx,
                          const cg_result *res);

#endif
