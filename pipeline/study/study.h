/*
 * study.h -- the study layer (issue 21), between run/ and cli/: batch
 * control of a run against the study store, and the study-wide outputs
 * of `cytogate study`.
 *
 *   cg_study_batch_control  for every control sample (sheet role
 *                           `control`) of a processed batch: its series
 *                           (the store's controls of the same analysis and
 *                           subject, this batch's in place), rows
 *                           batch_control:treg_pct_cd4 / th17_pct_cd4 /
 *                           th17_treg_ratio appended to its QC and its
 *                           verdict updated (qc_control.h); optionally the
 *                           Levey-Jennings charts.  Called after
 *                           cg_run_batch, before the outputs are written.
 *   cg_study_write          longitudinal.tsv (output.c's writer, so the
 *                           columns and formatting are a run's),
 *                           batches.tsv, batch_control.tsv,
 *                           plots/longitudinal.png and the
 *                           Levey-Jennings charts of one analysis.
 *   cg_study_report         report.html over the same (study_report.c).
 *
 * A control series is keyed by the control's subject (the bridge
 * material, e.g. BRIDGE1; controls without a subject form one series);
 * its order is the order in which the inputs were first stored (first
 * batch, then sheet row).
 *
 * Ownership: nothing returned is owned by the caller.  Threading: main
 * thread.
 */
#ifndef CG_STUDY_H
#define CG_STUDY_H

#include "cgerr.h"
#include "run.h"
#include "store.h"

/* st NULL: only this batch's controls.  The batch is labelled on the
 * charts by outdir's last component (NULL: "this batch").  plotdir NULL:
 * no charts.  A sheet without controls is left alone.  Returns the number
 * of charts not written (err: the last reason), or -1 with err (store or
 * memory). */
int cg_study_batch_control(cg_store *st, const cg_run_ctx *ctx,
                           cg_result *res, const char *outdir,
                           const char *plotdir, cg_err *err);

/* A batch's label: the last component of its output folder ("this
 * batch" for NULL).  out: OUT, cap bytes. */
void cg_study_batch_label(const char *outdir, char *out, size_t cap);

/* The chart's file name for a series (owned): levey_jennings.png, or
 * levey_jennings_<subject>.png with bytes outside [A-Za-z0-9._-] as _. */
char *cg_study_lj_name(const char *series);

/* Render and write the Levey-Jennings chart of a series into plotdir
 * (cg_study_lj_name): n batches, labels[n], v = 3 x n values (treg %,
 * th17 %, ratio), limits from the first nfirst.  0 or -1 with err. */
int cg_study_lj_write(const char *series, int n, const char *const *labels,
                      const double *v, int nfirst, const char *config_hash,
                      const char *plotdir, cg_err *err);

/* Write the study-wide outputs of the analysis with analysis_id aid (0:
 * the analysis of the most recently added batch) into dir (created).
 * 0, or -1 with err. */
int cg_study_write(cg_store *st, long aid, const char *dir, int plots,
                   cg_err *err);

/* The analysis to report: aid, or (aid 0) the analysis of the most
 * recently added batch; sha its config_sha256.  The id, or -1 with err
 * (CG_E_ARG: no such analysis, or no batch yet). */
long cg_study_analysis(cg_store *st, long aid, char sha[65], cg_err *err);

/* dir/report.html (study_report.c): one self-contained page over the
 * analysis aid (0 as above) -- provenance, batches, every sample's
 * headline numbers by subject and visit, the batch-control table read
 * from dir/batch_control.tsv and the figures under dir/plots/, linked
 * relatively.  Call after cg_study_write into the same dir.  Same store,
 * same bytes.  0, or -1 with err. */
int cg_study_report(cg_store *st, long aid, const char *dir, cg_err *err);

/* Open the store db (created when missing), add the batch committed in
 * outdir (cg_store_add_batch) and close it: `merge --db`.  0, or -1 with
 * err (the store unchanged). */
int cg_study_store_batch(const char *db, const cg_run_ctx *ctx,
                         const cg_result *res, const char *outdir,
                         const char *start_time, int argc, char **argv,
                         cg_err *err);

/* `study --list`: one line per analysis on fp (analysis_id,
 * config_sha256, config_name, batches, samples, controls, created).
 * 0 or -1 with err. */
int cg_study_list(cg_store *st, FILE *fp, cg_err *err);

#endif
