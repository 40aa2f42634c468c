/*
 * store.c -- the study store (see store.h and docs/study-store.md).
 *
 * Invariants: every write of a batch happens inside one BEGIN IMMEDIATE
 * transaction, committed last; any error rolls it back, and a process
 * killed before COMMIT leaves the database as it was (SQLite's WAL
 * guarantees it).  Replacement: before the batch's rows are inserted,
 * the rows of the same analysis whose sha256 is one of the batch's are
 * deleted (with their populations, statistics and QC rows); the new row
 * keeps the oldest first_batch_id of what it replaced, so a rerun batch
 * keeps its place in the control series.  Batches left without samples
 * are deleted, so a rerun leaves every row count unchanged.
 *
 * Test hook: CYTOGATE_STORE_TEST_PAUSE_MS=<ms> sleeps inside the
 * transaction after half of the samples were inserted (printing
 * "store: paused" on stderr), so a test can kill the process there.
 *
 * Threading: one cg_store per thread.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "readfile.h"
#include "store.h"
#include "study.h"
#include "util.h"

struct cg_store {
    sqlite3 *db;
    char *path;
};

static const char *const schema_sql =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE analyses (\n"
    "  analysis_id INTEGER PRIMARY KEY,\n"
    "  config_sha256 TEXT NOT NULL UNIQUE,\n"
    "  config_name TEXT, config_path TEXT, config_text TEXT,\n"
    "  created TEXT NOT NULL);\n"
    "CREATE TABLE batches (\n"
    "  batch_id INTEGER PRIMARY KEY,\n"
    "  analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id),\n"
    "  label TEXT NOT NULL, outdir TEXT NOT NULL,\n"
    "  command TEXT NOT NULL, cytogate_version TEXT NOT NULL,\n"
    "  started TEXT NOT NULL, added TEXT NOT NULL,\n"
    "  sheet_path TEXT, sheet_sha256 TEXT,\n"
    "  n_samples INTEGER NOT NULL, n_failed INTEGER NOT NULL);\n"
    "CREATE TABLE samples (\n"
    "  sample_pk INTEGER PRIMARY KEY,\n"
    "  analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id),\n"
    "  batch_id INTEGER NOT NULL REFERENCES batches(batch_id),\n"
    "  first_batch_id INTEGER NOT NULL, batch_pos INTEGER NOT NULL,\n"
    "  sample_id TEXT NOT NULL, file TEXT NOT NULL,\n"
    "  sha256 TEXT NOT NULL, file_size INTEGER,\n"
    "  subject TEXT NOT NULL, visit TEXT NOT NULL, sample_group TEXT NOT NULL,\n"
    "  role TEXT NOT NULL CHECK (role IN ('sample', 'control')),\n"
    "  status TEXT NOT NULL CHECK (status IN ('ok', 'error')),\n"
    "  message TEXT, qc TEXT, events INTEGER,\n"
    "  cd4_count INTEGER, treg_count INTEGER, th17_count INTEGER,\n"
    "  treg_pct_cd4 REAL, th17_pct_cd4 REAL, th17_treg_ratio REAL,\n"
    "  treg_definition TEXT, th17_definition TEXT,\n"
    "  UNIQUE (analysis_id, sha256, sample_id));\n"
    "CREATE INDEX samples_subject ON samples (analysis_id, subject, visit);\n"
    "CREATE TABLE populations (\n"
    "  sample_pk INTEGER NOT NULL REFERENCES samples(sample_pk),\n"
    "  population TEXT NOT NULL, parent TEXT,\n"
    "  count INTEGER, parent_count INTEGER, pct_parent REAL,\n"
    "  PRIMARY KEY (sample_pk, population));\n"
    "CREATE TABLE statistics (\n"
    "  sample_pk INTEGER NOT NULL REFERENCES samples(sample_pk),\n"
    "  population TEXT NOT NULL, statistic TEXT NOT NULL,\n"
    "  marker TEXT NOT NULL, value REAL,\n"
    "  PRIMARY KEY (sample_pk, population, statistic, marker));\n"
    "CREATE TABLE qc (\n"
    "  sample_pk INTEGER NOT NULL REFERENCES samples(sample_pk),\n"
    "  seq INTEGER NOT NULL, check_name TEXT NOT NULL,\n"
    "  value REAL, threshold REAL, verdict TEXT NOT NULL, detail TEXT,\n"
    "  PRIMARY KEY (sample_pk, seq));\n"
    "CREATE VIEW subjects AS SELECT analysis_id, subject,\n"
    "  COUNT(*) AS samples, COUNT(DISTINCT visit) AS visits FROM samples\n"
    "  WHERE role = 'sample' AND subject <> '' GROUP BY analysis_id, subject;\n"
    "CREATE VIEW visits AS SELECT analysis_id, subject, visit,\n"
    "  COUNT(*) AS samples FROM samples\n"
    "  WHERE role = 'sample' AND subject <> '' AND visit <> ''\n"
    "  GROUP BY analysis_id, subject, visit;\n";

static int db_err(cg_store *st, cg_err *err, const char *what)
{
    return cg_err_set(err, CG_E_IO, "%s: %s: %s", st->path, what,
                      sqlite3_errmsg(st->db));
}

static int exec(cg_store *st, const char *sql, cg_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cg_err_set(err, CG_E_IO, "%s: %s", st->path,
                   msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static void now_utc(char buf[32])
{
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

static int user_version(cg_store *st, int *v, cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(st, err, "not a study store");
    int rc = sqlite3_step(q);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return db_err(st, err, "not a study store");
    return 0;
}

cg_store *cg_store_open(const char *path, cg_err *err)
{
    cg_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        cg_err_set(err, CG_E_IO, "%s: cannot open: %s", path,
                   st->db ? sqlite3_errmsg(st->db) : "out of memory");
        cg_store_close(st);
        return NULL;
    }
    /* concurrent runs on one store wait for each other's transaction */
    sqlite3_busy_timeout(st->db, 120000);
    int v = 0;
    if (exec(st, "PRAGMA journal_mode=WAL", err) < 0 ||
        exec(st, "PRAGMA foreign_keys=ON", err) < 0 ||
        user_version(st, &v, err) < 0)
        goto fail;
    if (v > CG_STORE_SCHEMA) {
        cg_err_set(err, CG_E_ARG, "%s: store schema version %d is newer than "
                   "this cytogate's (%d)", path, v, CG_STORE_SCHEMA);
        goto fail;
    }
    if (v == 0) {
        /* create under the write lock: two runs creating the same new
         * store at once make it once */
        if (exec(st, "BEGIN IMMEDIATE", err) < 0)
            goto fail;
        if (user_version(st, &v, err) < 0)
            goto rollback;
        if (v == 0) {
            sqlite3_stmt *q;
            int n = 0;
            if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM "
                                   "sqlite_master", -1, &q, NULL) !=
                SQLITE_OK) {
                db_err(st, err, "not a study store");
                goto rollback;
            }
            if (sqlite3_step(q) == SQLITE_ROW)
                n = sqlite3_column_int(q, 0);
            sqlite3_finalize(q);
            if (n > 0) {
                cg_err_set(err, CG_E_ARG, "%s: an SQLite database that is "
                           "not a cytogate study store", path);
                goto rollback;
            }
            char now[32], sql[512];
            now_utc(now);
            snprintf(sql, sizeof sql,
                     "INSERT INTO meta VALUES ('schema_version', '%d');"
                     "INSERT INTO meta VALUES ('created', '%s');"
                     "INSERT INTO meta VALUES ('created_by', 'cytogate %s');"
                     "PRAGMA user_version = %d;",
                     CG_STORE_SCHEMA, now, CYTOGATE_VERSION, CG_STORE_SCHEMA);
            if (exec(st, schema_sql, err) < 0 || exec(st, sql, err) < 0)
                goto rollback;
        }
        if (exec(st, "COMMIT", err) < 0)
            goto rollback;
    }
    return st;
rollback:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
fail:
    cg_store_close(st);
    return NULL;
}

void cg_store_close(cg_store *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

sqlite3 *cg_store_db(cg_store *st) { return st->db; }
const char *cg_store_path(const cg_store *st) { return st->path; }

/* ------------------------------------------------------------ helpers -- */

static void bind_real(sqlite3_stmt *q, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(q, i, v == 0 ? 0 : v);
    else
        sqlite3_bind_null(q, i);
}

static void bind_count(sqlite3_stmt *q, int i, int64_t c)
{
    if (c >= 0)
        sqlite3_bind_int64(q, i, c);
    else
        sqlite3_bind_null(q, i);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

/* A TSV number cell ("NA" -> NaN). */
static double cell_num(const char *s)
{
    if (*s == '\'')
        s++; /* --safe-tsv */
    char *e;
    double v = strtod(s, &e);
    return e != s && *e == '\0' ? v : NAN;
}

/* Split line (modified in place) on tabs; up to cap cells; count. */
static int split_tabs(char *line, char **cell, int cap)
{
    int n = 0;
    cell[n++] = line;
    for (char *p = line; *p && n < cap; p++)
        if (*p == '\t') {
            *p = '\0';
            cell[n++] = p + 1;
        }
    return n;
}

/* Sample_pk of sample id in this batch (linear: batches are small next
 * to the rows they carry). */
static int64_t pk_of(const cg_sheet *sh, const int64_t *pk, const char *id)
{
    if (*id == '\'')
        id++;
    for (int i = 0; i < sh->n; i++)
        if (pk[i] > 0 && !strcmp(sh->s[i].sample_id, id))
            return pk[i];
    return 0;
}

/* Rows of outdir/name (stats.tsv: 5 columns, qc.tsv: 6) into the table.
 * A missing file is an error: the run wrote both. */
static int add_tsv(cg_store *st, const char *outdir, const char *name,
                   const cg_sheet *sh, const int64_t *pk, cg_err *err)
{
    int is_qc = !strcmp(name, "qc.tsv");
    char *path = cg_path_join(outdir, name);
    size_t n = 0;
    char *buf = path ? cg_read_file(path, 0, &n, err) : NULL;
    if (!buf) {
        free(path);
        return -1;
    }
    const char *sql = is_qc
        ? "INSERT INTO qc VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        : "INSERT OR REPLACE INTO statistics VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
        free(buf);
        free(path);
        return db_err(st, err, name);
    }
    int rc = 0, lineno = 0;
    int64_t last_pk = -1, seq = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (lineno++ == 0)
            continue; /* header */
        char *c[8];
        int nc = split_tabs(line, c, 8);
        if (nc != (is_qc ? 6 : 5)) {
            rc = cg_err_setl(err, CG_E_PARSE, lineno, "%s: %d columns, "
                             "expected %d", path, nc, is_qc ? 6 : 5);
            break;
        }
        int64_t spk = pk_of(sh, pk, c[0]);
        if (spk <= 0)
            continue; /* a sample that is not stored (unreadable) */
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, spk);
        if (is_qc) {
            seq = spk == last_pk ? seq + 1 : 0;
            last_pk = spk;
            sqlite3_bind_int64(q, 2, seq);
            bind_text(q, 3, c[1]);
            bind_real(q, 4, cell_num(c[2]));
            bind_real(q, 5, cell_num(c[3]));
            bind_text(q, 6, c[4]);
            bind_text(q, 7, c[5]);
        } else {
            bind_text(q, 2, c[1]);
            bind_text(q, 3, c[2]);
            bind_text(q, 4, c[3]);
            bind_real(q, 5, cell_num(c[4]));
        }
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = db_err(st, err, name);
            break;
        }
    }
    sqlite3_finalize(q);
    free(buf);
    free(path);
    return rc;
}

static int64_t analysis_id(cg_store *st, const cg_run_ctx *ctx,
                           const char *now, cg_err *err)
{
    sqlite3_stmt *q;
    const cg_config *cfg = ctx->cfg;
    if (sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO analyses "
                           "(config_sha256, config_name, config_path, "
                           "config_text, created) VALUES (?1,?2,?3,?4,?5)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "analyses");
    bind_text(q, 1, ctx->config_sha256);
    bind_text(q, 2, cfg->name);
    bind_text(q, 3, cfg->path);
    if (cfg->text)
        sqlite3_bind_text(q, 4, cfg->text, (int)cfg->text_len,
                          SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 4);
    bind_text(q, 5, now);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_err(st, err, "analyses");
    if (sqlite3_prepare_v2(st->db, "SELECT analysis_id FROM analyses WHERE "
                           "config_sha256 = ?1", -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "analyses");
    bind_text(q, 1, ctx->config_sha256);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                                                : -1;
    sqlite3_finalize(q);
    if (id < 0)
        return db_err(st, err, "analyses");
    return id;
}

static void test_pause(void)
{
    const char *e = getenv("CYTOGATE_STORE_TEST_PAUSE_MS");
    long ms = e ? strtol(e, NULL, 10) : 0;
    if (ms <= 0)
        return;
    fprintf(stderr, "store: paused\n");
    fflush(stderr);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Delete the analysis' earlier rows of input sha (keeping the oldest
 * first_batch_id in *first, or leaving it). */
static int replace_old(cg_store *st, int64_t aid, const char *sha,
                       int64_t *first, cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT min(first_batch_id) FROM samples "
                           "WHERE analysis_id = ?1 AND sha256 = ?2", -1, &q,
                           NULL) != SQLITE_OK)
        return db_err(st, err, "samples");
    sqlite3_bind_int64(q, 1, aid);
    bind_text(q, 2, sha);
    if (sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_type(q, 0) != SQLITE_NULL) {
        int64_t f = sqlite3_column_int64(q, 0);
        if (f < *first)
            *first = f;
    }
    sqlite3_finalize(q);
    static const char *const del[] = {
        "DELETE FROM populations WHERE sample_pk IN (SELECT sample_pk FROM "
        "samples WHERE analysis_id = ?1 AND sha256 = ?2)",
        "DELETE FROM statistics WHERE sample_pk IN (SELECT sample_pk FROM "
        "samples WHERE analysis_id = ?1 AND sha256 = ?2)",
        "DELETE FROM qc WHERE sample_pk IN (SELECT sample_pk FROM "
        "samples WHERE analysis_id = ?1 AND sha256 = ?2)",
        "DELETE FROM samples WHERE analysis_id = ?1 AND sha256 = ?2"};
    for (size_t k = 0; k < sizeof del / sizeof *del; k++) {
        if (sqlite3_prepare_v2(st->db, del[k], -1, &q, NULL) != SQLITE_OK)
            return db_err(st, err, "replace");
        sqlite3_bind_int64(q, 1, aid);
        bind_text(q, 2, sha);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            return db_err(st, err, "replace");
    }
    return 0;
}

static const char *qc_text(const cg_result *r)
{
    if (!r->ok)
        return "fail";
    return r->qc_verdict == CG_QC_FAIL ? "fail"
           : r->qc_verdict == CG_QC_WARN ? "warn"
           : r->qc_verdict >= 0 ? "pass" : NULL;
}

/* The batches row; its batch_id, or -1 with err. */
static int64_t insert_batch(cg_store *st, const cg_run_ctx *ctx,
                            const cg_result *res, int64_t aid,
                            const char *outdir, const char *start_time,
                            const char *cmdtext, const char *now,
                            cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    char label[96], sheet_sha[65] = "";
    cg_study_batch_label(outdir, label, sizeof label);
    if (sh->path && cg_sha256_file(sh->path, sheet_sha, NULL) < 0)
        sheet_sha[0] = '\0';
    int nfailed = 0;
    for (int i = 0; i < sh->n; i++)
        nfailed += !res[i].ok;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO batches (analysis_id, label, "
                           "outdir, command, cytogate_version, started, "
                           "added, sheet_path, sheet_sha256, n_samples, "
                           "n_failed) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                           "?10,?11)", -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "batches");
    sqlite3_bind_int64(q, 1, aid);
    bind_text(q, 2, label);
    bind_text(q, 3, outdir);
    bind_text(q, 4, cmdtext);
    bind_text(q, 5, CYTOGATE_VERSION);
    bind_text(q, 6, start_time);
    bind_text(q, 7, now);
    bind_text(q, 8, sh->path);
    bind_text(q, 9, *sheet_sha ? sheet_sha : NULL);
    sqlite3_bind_int(q, 10, sh->n);
    sqlite3_bind_int(q, 11, nfailed);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_err(st, err, "batches");
    return sqlite3_last_insert_rowid(st->db);
}

/* Bind sample i's columns to the samples INSERT. */
static void bind_sample(sqlite3_stmt *q, const cg_run_ctx *ctx,
                        const cg_result *r, int i, int64_t aid, int64_t bid,
                        int64_t first)
{
    const cg_config *cfg = ctx->cfg;
    const cg_sample *s = &ctx->sheet->s[i];
    cg_headline h;
    cg_result_headline(cfg, r, &h);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    sqlite3_bind_int64(q, 1, aid);
    sqlite3_bind_int64(q, 2, bid);
    sqlite3_bind_int64(q, 3, first);
    sqlite3_bind_int(q, 4, i);
    bind_text(q, 5, s->sample_id);
    bind_text(q, 6, s->file_given);
    bind_text(q, 7, r->sha256);
    sqlite3_bind_int64(q, 8, r->file_size);
    bind_text(q, 9, s->subject);
    bind_text(q, 10, s->visit);
    bind_text(q, 11, s->group);
    bind_text(q, 12, s->role == CG_ROLE_CONTROL ? "control" : "sample");
    bind_text(q, 13, r->ok ? "ok" : "error");
    bind_text(q, 14, !r->ok ? r->message : NULL);
    bind_text(q, 15, qc_text(r));
    bind_count(q, 16, r->ok ? r->events : -1);
    bind_count(q, 17, h.cd4);
    bind_count(q, 18, h.treg);
    bind_count(q, 19, h.th17);
    bind_real(q, 20, h.treg_pct);
    bind_real(q, 21, h.th17_pct);
    bind_real(q, 22, h.ratio);
    bind_text(q, 23, r->ok ? cg_gate_definition(cfg, r->head_treg) : NULL);
    bind_text(q, 24, r->ok ? cg_gate_definition(cfg, r->head_th17) : NULL);
}

/* The samples rows (replacing earlier rows of the same inputs); pk[i]
 * set for each stored sample.  0 or -1 with err. */
static int insert_samples(cg_store *st, const cg_run_ctx *ctx,
                          const cg_result *res, int64_t aid, int64_t bid,
                          int64_t *pk, cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    int64_t *first = calloc((size_t)sh->n + 1, sizeof *first);
    if (!first)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int i = 0; i < sh->n; i++) {
        first[i] = bid;
        if (res[i].sha256[0] &&
            replace_old(st, aid, res[i].sha256, &first[i], err) < 0) {
            free(first);
            return -1;
        }
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO samples (analysis_id, "
                           "batch_id, first_batch_id, batch_pos, sample_id, "
                           "file, sha256, file_size, subject, visit, "
                           "sample_group, role, status, message, qc, events, "
                           "cd4_count, treg_count, th17_count, treg_pct_cd4, "
                           "th17_pct_cd4, th17_treg_ratio, treg_definition, "
                           "th17_definition) VALUES (?1,?2,?3,?4,?5,?6,?7,"
                           "?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
                           "?20,?21,?22,?23,?24)", -1, &q, NULL) !=
        SQLITE_OK) {
        free(first);
        return db_err(st, err, "samples");
    }
    int rc = 0;
    for (int i = 0; i < sh->n && rc == 0; i++) {
        if (!res[i].sha256[0])
            continue; /* never read: nothing identifies it */
        if (i == sh->n / 2)
            test_pause();
        bind_sample(q, ctx, &res[i], i, aid, bid, first[i]);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(st, err, "samples");
        else
            pk[i] = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(q);
    free(first);
    return rc;
}

/* The populations rows, from the results (counts are exact integers). */
static int insert_populations(cg_store *st, const cg_run_ctx *ctx,
                              const cg_result *res, const int64_t *pk,
                              cg_err *err)
{
    const cg_config *cfg = ctx->cfg;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO populations VALUES "
                           "(?1,?2,?3,?4,?5,?6)", -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "populations");
    int rc = 0;
    for (int i = 0; i < ctx->sheet->n && rc == 0; i++) {
        const cg_result *r = &res[i];
        if (!pk[i] || !r->ok || !r->pops)
            continue;
        for (int g = 0; g < cfg->ngates && rc == 0; g++) {
            const cg_pop_result *p = &r->pops[g];
            int par = cfg->gates[g].parent;
            int has = p->count >= 0;
            sqlite3_reset(q);
            sqlite3_bind_int64(q, 1, pk[i]);
            bind_text(q, 2, cfg->gates[g].name);
            bind_text(q, 3, par >= 0 ? cfg->gates[par].name : NULL);
            bind_count(q, 4, p->count);
            bind_count(q, 5, has ? p->parent_count : -1);
            bind_real(q, 6, has && p->parent_count > 0
                                ? 100.0 * (double)p->count /
                                      (double)p->parent_count
                                : NAN);
            if (sqlite3_step(q) != SQLITE_DONE)
                rc = db_err(st, err, "populations");
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int cg_store_add_batch(cg_store *st, const cg_run_ctx *ctx,
                       const cg_result *res, const char *outdir,
                       const char *start_time, int argc, char **argv,
                       cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    char now[32];
    now_utc(now);
    int64_t *pk = calloc((size_t)sh->n + 1, sizeof *pk);
    json_t *cmd = json_array();
    for (int i = 0; cmd && i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i] ? argv[i] : ""));
    char *cmdtext = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
    json_decref(cmd);
    if (!pk || !cmdtext) {
        free(pk);
        free(cmdtext);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    if (exec(st, "BEGIN IMMEDIATE", err) < 0) {
        free(pk);
        free(cmdtext);
        return -1;
    }
    int64_t aid = analysis_id(st, ctx, now, err), bid = -1;
    if (aid < 0 ||
        (bid = insert_batch(st, ctx, res, aid, outdir, start_time, cmdtext,
                            now, err)) < 0 ||
        insert_samples(st, ctx, res, aid, bid, pk, err) < 0 ||
        insert_populations(st, ctx, res, pk, err) < 0 ||
        add_tsv(st, outdir, "stats.tsv", sh, pk, err) < 0 ||
        add_tsv(st, outdir, "qc.tsv", sh, pk, err) < 0 ||
        /* batches whose every sample was replaced are gone */
        exec(st, "DELETE FROM batches WHERE batch_id NOT IN (SELECT "
                 "batch_id FROM samples) AND batch_id <> (SELECT max("
                 "batch_id) FROM batches)", err) < 0 ||
        exec(st, "COMMIT", err) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        free(pk);
        free(cmdtext);
        return -1;
    }
    free(pk);
    free(cmdtext);
    return 0;
}

int cg_store_controls(cg_store *st, const char *config_sha256,
                      const char *series, cg_store_ctl **out, int *n,
                      cg_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT s.sha256, s.sample_id, b.label, "
                           "s.first_batch_id, s.batch_pos, s.treg_pct_cd4, "
                           "s.th17_pct_cd4, s.th17_treg_ratio, s.status "
                           "FROM samples s JOIN analyses a USING "
                           "(analysis_id) JOIN batches b USING (batch_id) "
                           "WHERE a.config_sha256 = ?1 AND s.role = "
                           "'control' AND s.subject = ?2 ORDER BY "
                           "s.first_batch_id, s.batch_pos", -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(st, err, "controls");
    bind_text(q, 1, config_sha256);
    bind_text(q, 2, series);
    int cap = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            cg_store_ctl *nc = realloc(*out, (size_t)cap * sizeof *nc);
            if (!nc) {
                sqlite3_finalize(q);
                free(*out);
                *out = NULL;
                return cg_err_set(err, CG_E_NOMEM, "out of memory");
            }
            *out = nc;
        }
        cg_store_ctl *c = &(*out)[(*n)++];
        memset(c, 0, sizeof *c);
        snprintf(c->sha256, sizeof c->sha256, "%s",
                 (const char *)sqlite3_column_text(q, 0));
        snprintf(c->sample_id, sizeof c->sample_id, "%s",
                 (const char *)sqlite3_column_text(q, 1));
        snprintf(c->label, sizeof c->label, "%s",
                 (const char *)sqlite3_column_text(q, 2));
        c->order = sqlite3_column_int64(q, 3);
        c->pos = sqlite3_column_int64(q, 4);
        for (int k = 0; k < 3; k++)
            c->v[k] = sqlite3_column_type(q, 5 + k) == SQLITE_NULL
                          ? NAN : sqlite3_column_double(q, 5 + k);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return db_err(st, err, "controls");
    }
    return 0;
}
