/*
 * store.h -- the study store (issue 21): one SQLite database that holds
 * every batch a lab has run, so a patient's trajectory and the batch
 * control can be followed across quarterly batches.  The schema is an
 * interface, documented in docs/study-store.md and versioned
 * (PRAGMA user_version and meta.schema_version, CG_STORE_SCHEMA).
 *
 *   cg_store_open       open or create (schema made in one transaction;
 *                       a store of a newer schema is refused); WAL mode,
 *                       a busy timeout so that concurrent runs queue
 *                       instead of failing.
 *   cg_store_add_batch  one committed run or merge, in ONE transaction
 *                       (BEGIN IMMEDIATE ... COMMIT): a process killed or
 *                       failing before COMMIT leaves the store exactly as
 *                       it was.  Rows of the same inputs (sha256) under
 *                       the same config (sha256 of its text: the
 *                       analysis) are replaced, never duplicated; another
 *                       config is another analysis, kept apart.
 *   cg_store_controls   the batch-control series of an analysis.
 *
 * Ownership: cg_store_open returns an owned handle (cg_store_close, NULL
 * ok).  Threading: one handle per thread; separate handles (processes)
 * on the same file are safe (SQLite locking).
 */
#ifndef CG_STORE_H
#define CG_STORE_H

#include <stdint.h>

#include "cgerr.h"
#include "run.h"

#define CG_STORE_SCHEMA 1

typedef struct cg_store cg_store;
struct sqlite3;

/* Open path (created with the schema when missing or empty).  Owned, or
 * NULL with err (not a database, newer schema, cannot create). */
cg_store *cg_store_open(const char *path, cg_err *err);
void cg_store_close(cg_store *st);
/* The connection (borrowed until cg_store_close). */
struct sqlite3 *cg_store_db(cg_store *st);
const char *cg_store_path(const cg_store *st);

/* Add the batch whose outputs were just committed in outdir (stats.tsv
 * and qc.tsv are read from there; everything else comes from ctx and
 * res).  Samples that could not be read (no sha256) are not stored; they
 * are counted in batches.n_failed.  argv (argc entries, argv[0] the
 * subcommand) is recorded as a JSON array.  0, or -1 with err (nothing
 * stored). */
int cg_store_add_batch(cg_store *st, const cg_run_ctx *ctx,
                       const cg_result *res, const char *outdir,
                       const char *start_time, int argc, char **argv,
                       cg_err *err);

/* One stored control sample. */
typedef struct cg_store_ctl {
    char sha256[65];
    char sample_id[160];
    char label[96];     /* its batch's label */
    int64_t order, pos; /* first_batch_id, batch_pos: the series order */
    double v[3];        /* treg %, th17 %, ratio (NaN = NA) */
} cg_store_ctl;

/* The controls of the analysis with config_sha256 whose subject is
 * `series` ("" for controls without a subject), ordered by first batch
 * and row.  *out owned (free), *n set.  An unknown analysis gives none.
 * 0 or -1 with err. */
int cg_store_controls(cg_store *st, const char *config_sha256,
                      const char *series, cg_store_ctl **out, int *n,
                      cg_err *err);

#endif
