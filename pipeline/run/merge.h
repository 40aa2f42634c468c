/*
 * merge.h -- `cytogate merge`: combine the OUTDIRs of several `cytogate
 * run` invocations (one sample or a few each, e.g. cluster jobs) into the
 * OUTDIR a single run over all those samples writes.
 *
 * How the bytes stay identical: the per-sample rows of summary.tsv,
 * stats.tsv and qc.tsv and the files samples/<id>.json and plots/<id>/
 * are copied verbatim -- they were written by the same writer code in the
 * per-sample runs, and a row depends only on its own sample.  The outputs
 * that span samples (longitudinal.tsv, plots/batch_frequencies.png,
 * plots/longitudinal.png, run.json) are written by output.c's writers
 * (output.h) from results rebuilt from samples/<id>.json: counts are
 * integers there, so every headline value is recomputed exactly (a metric
 * is count/count, checked against the JSON value).
 *
 * Refused (nothing written): a directory without run.json or with a
 * table that does not match its run.json; results made by another
 * cytogate version or with another config (sha256 of the config text, and
 * of its compensation CSV) than the merge's; summary.tsv columns that
 * differ between directories (or from the sheet's); a sample id in two
 * places; with a sheet, samples missing from it or from the results, or
 * whose file/subject/visit/group differ.  Every culprit is reported
 * through the problem callback, then cg_merge_open fails.
 *
 * Sample order: the sheet's when one is given (as `cytogate run --sheet`
 * would order them), else the order of the directories and, within each,
 * of its rows.
 *
 * Ownership: cg_merge_open returns an owned merge (cg_merge_free, NULL
 * ok); the sheet and results it exposes are borrowed until then.
 * Threading: one merge per thread; nothing global.
 */
#ifndef CG_MERGE_H
#define CG_MERGE_H

#include "cgerr.h"
#include "config.h"
#include "run.h"
#include "sheet.h"

typedef struct cg_merge cg_merge;

/* One reason a directory (or the sheet) cannot be merged; `where` is the
 * directory or sheet path. */
typedef void (*cg_merge_problem_fn)(void *arg, const char *where,
                                    const char *msg);

/* Read and check dirs[0..ndirs) against cfg (loaded by the caller).
 * sheet_path NULL: directory order.  Owned, or NULL with err (problems
 * reported through fn first; fn may be NULL). */
cg_merge *cg_merge_open(const cg_config *cfg, int ndirs, char *const *dirs,
                        const char *sheet_path, cg_merge_problem_fn fn,
                        void *arg, cg_err *err);

/* The merged sample list, in output order (borrowed). */
const cg_sheet *cg_merge_sheet(const cg_merge *m);
/* Results rebuilt for the cross-sample writers, parallel to the sheet
 * (borrowed; only the fields output.h lists are set). */
const cg_result *cg_merge_results(const cg_merge *m);
/* Samples whose status is error. */
int cg_merge_nfailed(const cg_merge *m);
/* 1 when every input run wrote figures (so the merge can). */
int cg_merge_has_plots(const cg_merge *m);

/* Write OUTDIR = ctx->opts.outdir (ctx prepared on cg_merge_sheet):
 * summary.tsv, stats.tsv, qc.tsv, longitudinal.tsv, samples/, plots/
 * (when ctx->opts.plots), run.json, which records argv, the merge's
 * start time and a "merged_from" list of the input runs, and then the
 * review report read from them (report.h).  With
 * safe_tsv the TSV cells go through cg_tsv_safe_copy (output.h).  Every
 * write is checked; run.json is written only when everything else was.
 * 0, or -1 with err naming the file. */
int cg_merge_write(const cg_merge *m, const cg_run_ctx *ctx,
                   const char *start_time, int argc, char **argv,
                   int safe_tsv, cg_err *err);

void cg_merge_free(cg_merge *m);

#endif
