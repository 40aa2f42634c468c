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

/* dir/name written atomically by fn.  0, or -1 with err naming the file. */
int cg_write_table(const char *dir, const char *name, cg_table_fn fn,
                   const cg_run_ctx *ctx, const cg_result *res, cg_err *err);

/* longitudinal.tsv: the samples with subject and visit, by subject then
 * visit (natural order, then sheet order), with deltas from each
 * subject's first visit.  Uses sheet ids/subjects/visits and, per
 * result, ok + the headline (cg_result_headline: pops[].count, metric). */
int cg_write_longitudinal(FILE *fp, const cg_run_ctx *ctx,
                          const cg_result *res);

/* plots/batch_frequencies.png and (when some sample has subject and
 * visit) plots/longitudinal.png under plotdir.  Uses the headline and
 * qc_verdict of each result; a figure that cannot be written is a
 * warning on stderr, not an error. */
void cg_write_batch_plots(const cg_run_ctx *ctx, const cg_result *res,
                          const char *plotdir);

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
