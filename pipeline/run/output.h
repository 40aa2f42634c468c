/*
 * output.h -- the writers of output.c that `cytogate merge` (merge.c)
 * shares with `cytogate run`, so that a merged OUTDIR is written by the
 * same code as a single run's, never by a re-implementation.  run.h keeps
 * the entry points of run itself (cg_write_outputs, cg_write_summary...).
 *
 * Every function here reads the context and the results only; what a
 * writer needs from a cg_result is listed at each declaration, so merge
 * can hand over results rebuilt from a previous run's files.
 *
 * Every write is checked: a writer returns -1 (or a count of files not
 * written) with the reason; nothing here prints a success line.
 *
 * Ownership: cg_run_json returns an owned jansson object (json_decref).
 * Threading: main thread only (like the rest of output.c).
 */
#ifndef CG_OUTPUT_H
#define CG_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#include "cgerr.h"
#include "run.h"

/* A table writer: the whole file (header and rows) to fp; 0 or -1. */
typedef int (*cg_table_fn)(FILE *fp, const cg_run_ctx *ctx,
                           const cg_result *res);

/* dir/name written atomically by fn (through cg_write_tsv).  0, or -1
 * with err naming the file and why (ENOSPC, EIO...). */
int cg_write_table(const char *dir, const char *name, cg_table_fn fn,
                   const cg_run_ctx *ctx, const cg_result *res, int safe_tsv,
                   cg_err *err);

/* fn's table to fp; with safe_tsv every cell that a spreadsheet would
 * run as a formula (first character = + - @, and not a plain decimal
 * number such as -1.5) gets a leading ' (--safe-tsv).  0 or -1. */
int cg_write_tsv(FILE *fp, cg_table_fn fn, const cg_run_ctx *ctx,
                 const cg_result *res, int safe_tsv);
/* The --safe-tsv rule applied to TSV text buf[0..n) on its way to out
 * (idempotent: a cell already starting with ' is left alone).  0 or -1. */
int cg_tsv_safe_copy(FILE *out, const char *buf, size_t n);

/* Where and how a run's files are written (cmd_run, outdir.h). */
typedef struct cg_out_opts {
    const char *dir;   /* write here: the staging folder */
    const char *shown; /* the folder to name in messages: the -o given */
    int safe_tsv;      /* --safe-tsv */
} cg_out_opts;

/* Every output of a run under oo->dir, each write checked:
 * samples/<id>.json first -- a sample whose record cannot be written
 * becomes an error row ("output not written: samples/<id>.json: ...",
 * cg_result_fail_output) and its record is written again as such --;
 * then summary.tsv, stats.tsv, qc.tsv, longitudinal.tsv (with subjects
 * and visits), the batch figures (ctx->opts.plots), and run.json last,
 * only when everything before it was written.  Each file that cannot be
 * written is one line on stderr naming it under oo->shown.  Returns how
 * many files were not written: 0 means the set is complete (run.json
 * written).  res is updated for the samples turned into errors. */
int cg_write_run_files(const cg_run_ctx *ctx, cg_result *res,
                       const cg_out_opts *oo, const char *start_time,
                       int argc, char **argv);

/* Turn a processed sample into an error row because one of its outputs
 * could not be written: ok = 0, message "output not written: <why>"
 * (why names the file relative to the output folder, so the message does
 * not depend on the staging folder's PID). */
void cg_result_fail_output(cg_result *r, const char *why);

/* msg with every `from` replaced by `to` (to "" also drops the '/' after
 * it: a path relative to the folder), cut to cap bytes. */
void cg_out_unstage(const char *msg, const char *from, const char *to,
                    char *out, size_t cap);

/* longitudinal.tsv: the samples with subject and visit, by subject then
 * visit (natural order, then sheet order), with deltas from each
 * subject's first visit.  Uses sheet ids/subjects/visits and, per
 * result, ok + the headline (cg_result_headline: pops[].count, metric). */
int cg_write_longitudinal(FILE *fp, const cg_run_ctx *ctx,
                          const cg_result *res);

/* plots/batch_frequencies.png and (when some sample has subject and
 * visit) plots/longitudinal.png under plotdir.  Uses the headline and
 * qc_verdict of each result.  Returns how many figures could not be
 * rendered or written (err: the last one's reason); 0 all written. */
int cg_write_batch_plots(const cg_run_ctx *ctx, const cg_result *res,
                         const char *plotdir, cg_err *err);

/* The run.json object: provenance of the config (path, name, sha256,
 * text, CSV matrix hash), the sheet, argv, start time, thread count and
 * per input sample_id/file/sha256/size/status (uses ok, sha256,
 * file_size).  Owned. */
json_t *cg_run_json(const cg_run_ctx *ctx, const cg_result *res,
                    const char *start, int argc, char **argv);

/* j as indented JSON (key order kept, reals with 10 digits) plus a
 * newline, atomically.  0 or -1 (errno set). */
int cg_write_json_file(const char *path, json_t *j);

#endif
