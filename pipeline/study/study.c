/*
 * study.c -- `cytogate study` outputs (see study.h): the study-wide
 * longitudinal table and figures of one analysis of the store.
 *
 * The longitudinal table is written by output.c's cg_write_longitudinal
 * over a sample list and results rebuilt from the store: the samples
 * (role `sample`) of the analysis in stored order (first batch, then
 * sheet row), each with its cd4/treg/th17 counts (exact integers, so the
 * percentages are recomputed bit for bit) and its Th17/Treg ratio (an
 * SQLite REAL: the double the run computed).  So the table equals the
 * one a single run over all those files would write.
 *
 * Files are written atomically (temporary name, rename).  Threading:
 * main thread.
 */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "plot.h"
#include "qc_control.h"
#include "study.h"
#include "util.h"

static int sq_err(cg_store *st, cg_err *err, const char *what)
{
    return cg_err_set(err, CG_E_IO, "%s: %s: %s", cg_store_path(st), what,
                      sqlite3_errmsg(cg_store_db(st)));
}

static char *col_dup(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return strdup(t ? (const char *)t : "");
}

static int64_t col_count(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? -1
                                                    : sqlite3_column_int64(q, i);
}

static double col_real(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN
                                                    : sqlite3_column_double(q, i);
}

/* The analysis to report: aid, or the one of the latest batch. */
long cg_study_analysis(cg_store *st, long aid, char sha[65], cg_err *err)
{
    sqlite3_stmt *q;
    const char *sql = aid > 0
        ? "SELECT analysis_id, config_sha256 FROM analyses WHERE "
          "analysis_id = ?1"
        : "SELECT a.analysis_id, a.config_sha256 FROM batches b JOIN "
          "analyses a USING (analysis_id) ORDER BY b.batch_id DESC LIMIT 1";
    if (sqlite3_prepare_v2(cg_store_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        return sq_err(st, err, "analyses");
    if (aid > 0)
        sqlite3_bind_int64(q, 1, aid);
    long id = -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        id = (long)sqlite3_column_int64(q, 0);
        snprintf(sha, 65, "%s", (const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q);
    if (id < 0)
        return aid > 0 ? cg_err_set(err, CG_E_ARG, "%s: no analysis %ld "
                                    "(see cytogate study --list)",
                                    cg_store_path(st), aid)
                       : cg_err_set(err, CG_E_ARG, "%s: the store holds no "
                                    "batch yet", cg_store_path(st));
    return id;
}

/* Rebuilt results: three populations (cd4, treg, th17) and one metric. */
typedef struct rebuilt {
    cg_sheet *sh;
    cg_result *res;
    cg_pop_result *pops; /* 3 per sample */
    double *ratio;
    int *qc;             /* cg_plot_qc_verdict per sample */
} rebuilt;

static void rebuilt_free(rebuilt *b)
{
    cg_sheet_free(b->sh);
    free(b->res);
    free(b->pops);
    free(b->ratio);
    free(b->qc);
}

static int load_samples(cg_store *st, long aid, rebuilt *b, cg_err *err)
{
    memset(b, 0, sizeof *b);
    sqlite3 *db = cg_store_db(st);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT sample_id, file, subject, visit, "
                           "sample_group, status, qc, cd4_count, treg_count, "
                           "th17_count, th17_treg_ratio FROM samples WHERE "
                           "analysis_id = ?1 AND role = 'sample' ORDER BY "
                           "first_batch_id, batch_pos, sample_pk", -1, &q,
                           NULL) != SQLITE_OK)
        return sq_err(st, err, "samples");
    sqlite3_bind_int64(q, 1, aid);
    b->sh = calloc(1, sizeof *b->sh);
    int cap = 0, rc;
    if (!b->sh)
        goto nomem;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cg_sheet *sh = b->sh;
        if (sh->n == cap) {
            cap = cap ? 2 * cap : 64;
            cg_sample *ns = realloc(sh->s, (size_t)cap * sizeof *ns);
            cg_result *nr = realloc(b->res, (size_t)cap * sizeof *nr);
            if (ns)
                sh->s = ns;
            if (nr)
                b->res = nr;
            cg_pop_result *np = realloc(b->pops, 3 * (size_t)cap * sizeof *np);
            if (np)
                b->pops = np;
            double *nq = realloc(b->ratio, (size_t)cap * sizeof *nq);
            if (nq)
                b->ratio = nq;
            int *nv = realloc(b->qc, (size_t)cap * sizeof *nv);
            if (nv)
                b->qc = nv;
            if (!ns || !nr || !np || !nq || !nv)
                goto nomem;
        }
        int i = sh->n;
        cg_sample *s = &sh->s[i];
        memset(s, 0, sizeof *s);
        sh->n++;
        s->sample_id = col_dup(q, 0);
        s->file_given = col_dup(q, 1);
        s->file = col_dup(q, 1);
        s->subject = col_dup(q, 2);
        s->visit = col_dup(q, 3);
        s->group = col_dup(q, 4);
        if (!s->sample_id || !s->file_given || !s->file || !s->subject ||
            !s->visit || !s->group)
            goto nomem;
        sh->has_subject |= *s->subject != 0;
        sh->has_visit |= *s->visit != 0;
        const char *status = (const char *)sqlite3_column_text(q, 5);
        const char *qc = (const char *)sqlite3_column_text(q, 6);
        cg_result *r = &b->res[i];
        memset(r, 0, sizeof *r);
        r->ok = status && !strcmp(status, "ok");
        r->head_cd4 = 0;
        r->head_treg = 1;
        r->head_th17 = 2;
        memset(&b->pops[3 * i], 0, 3 * sizeof *b->pops);
        for (int k = 0; k < 3; k++)
            b->pops[3 * i + k].count = col_count(q, 7 + k);
        b->ratio[i] = col_real(q, 10);
        b->qc[i] = !r->ok ? CG_PLOT_QC_ERROR
                   : !qc ? CG_PLOT_QC_NONE
                   : !strcmp(qc, "fail") ? CG_PLOT_QC_FAIL
                   : !strcmp(qc, "warn") ? CG_PLOT_QC_WARN : CG_PLOT_QC_PASS;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        rebuilt_free(b);
        return sq_err(st, err, "samples");
    }
    /* pointers last: the arrays moved while growing */
    for (int i = 0; i < b->sh->n; i++) {
        b->res[i].pops = &b->pops[3 * i];
        b->res[i].metric = &b->ratio[i];
    }
    return 0;
nomem:
    sqlite3_finalize(q);
    rebuilt_free(b);
    return cg_err_set(err, CG_E_NOMEM, "out of memory");
}

/* batches.tsv of the analysis. */
static int write_batches(cg_store *st, long aid, const char *dir, cg_err *err)
{
    char *path = cg_path_join(dir, "batches.tsv");
    cg_atomic a;
    FILE *fp = path ? cg_atomic_open(&a, path) : NULL;
    if (!fp) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s",
                   path ? path : dir, strerror(errno));
        free(path);
        return -1;
    }
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(cg_store_db(st),
        "SELECT b.batch_id, b.label, b.started, b.added, b.cytogate_version, "
        "(SELECT count(*) FROM samples s WHERE s.batch_id = b.batch_id), "
        "(SELECT count(*) FROM samples s WHERE s.batch_id = b.batch_id AND "
        "s.role = 'control'), b.n_failed, b.command FROM batches b WHERE "
        "b.analysis_id = ?1 ORDER BY b.batch_id", -1, &q, NULL);
    if (rc != SQLITE_OK) {
        cg_atomic_abort(&a);
        free(path);
        return sq_err(st, err, "batches");
    }
    sqlite3_bind_int64(q, 1, aid);
    fputs("batch_id\tlabel\tstarted\tadded\tcytogate_version\tsamples\t"
          "controls\tfailed\tcommand\n", fp);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        fprintf(fp, "%lld", (long long)sqlite3_column_int64(q, 0));
        for (int c = 1; c < 9; c++) {
            const unsigned char *t = sqlite3_column_text(q, c);
            fputc('\t', fp);
            for (; t && *t; t++)
                fputc(*t == '\t' || *t == '\n' || *t == '\r' ? ' ' : *t, fp);
        }
        fputc('\n', fp);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        cg_atomic_abort(&a);
        free(path);
        return sq_err(st, err, "batches");
    }
    if (ferror(fp) || cg_atomic_commit(&a) < 0) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path,
                   strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

/* One series' rows of batch_control.tsv: each control judged as `run`
 * would judge it now (the limits of the first nfirst). */
static int control_rows(FILE *fp, const char *series, const cg_store_ctl *c,
                        int n, const double *v, int nfirst)
{
    for (int i = 0; i < n; i++) {
        cg_qc_result *r = cg_qc_result_new();
        if (!r)
            return -1;
        int worst = CG_QC_SKIP;
        for (int k = 0; k < 3; k++) {
            static const char *const m[3] = {"treg_pct_cd4", "th17_pct_cd4",
                                             "th17_treg_ratio"};
            cg_qc_control q = {m[k], m[k], v + (size_t)k * (size_t)n, n, i,
                               nfirst};
            int vd = cg_qc_control_judge(&q, r);
            if (vd > worst)
                worst = vd;
        }
        fprintf(fp, "%s\t%d\t%s\t%s", series, i + 1, c[i].label,
                c[i].sample_id);
        char b[40];
        for (int k = 0; k < 3; k++) {
            cg_fmt_num(b, sizeof b, c[i].v[k]);
            fprintf(fp, "\t%s", b);
        }
        for (int k = 0; k < 3 && k < r->n; k++) {
            cg_fmt_num(b, sizeof b, r->checks[k].value);
            fprintf(fp, "\t%s", b);
        }
        fprintf(fp, "\t%s\n", n < nfirst ? "establishing"
                                         : cg_qc_verdict_name(worst));
        cg_qc_result_free(r);
    }
    return 0;
}

/* batch_control.tsv and (plotdir != NULL) the Levey-Jennings chart of
 * every control series of the analysis. */
static int write_controls(cg_store *st, long aid, const char *sha,
                          int nfirst, const char *dir, const char *plotdir,
                          cg_err *err)
{
    char *path = cg_path_join(dir, "batch_control.tsv");
    cg_atomic a;
    FILE *fp = path ? cg_atomic_open(&a, path) : NULL;
    sqlite3_stmt *q = NULL;
    if (!fp || sqlite3_prepare_v2(cg_store_db(st), "SELECT DISTINCT subject "
                                  "FROM samples WHERE analysis_id = ?1 AND "
                                  "role = 'control' ORDER BY subject", -1,
                                  &q, NULL) != SQLITE_OK) {
        if (fp)
            cg_atomic_abort(&a);
        int rc = fp ? sq_err(st, err, "controls")
                    : cg_err_set(err, CG_E_IO, "%s: cannot write: %s",
                                 path ? path : dir, strerror(errno));
        free(path);
        return rc;
    }
    fputs("series\tbatch\tlabel\tsample_id\ttreg_pct_cd4\tth17_pct_cd4\t"
          "th17_treg_ratio\tz_treg_pct_cd4\tz_th17_pct_cd4\t"
          "z_th17_treg_ratio\tbatch_control\n", fp);
    sqlite3_bind_int64(q, 1, aid);
    int bad = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        char series[256];
        snprintf(series, sizeof series, "%s",
                 (const char *)sqlite3_column_text(q, 0));
        cg_store_ctl *c = NULL;
        int n = 0;
        if (cg_store_controls(st, sha, series, &c, &n, err) < 0) {
            bad++;
            continue;
        }
        const char **labels = calloc((size_t)n + 1, sizeof *labels);
        double *v = calloc(3 * (size_t)n + 1, sizeof *v);
        if (!labels || !v) {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            bad++;
        } else if (n > 0) {
            for (int i = 0; i < n; i++) {
                labels[i] = c[i].label;
                for (int k = 0; k < 3; k++)
                    v[k * n + i] = c[i].v[k];
            }
            if (control_rows(fp, series, c, n, v, nfirst) < 0 ||
                (plotdir && cg_study_lj_write(series, n, labels, v, nfirst,
                                              sha, plotdir, err) < 0))
                bad++;
        }
        free(labels);
        free(v);
        free(c);
    }
    sqlite3_finalize(q);
    if (ferror(fp) || bad) {
        cg_atomic_abort(&a);
        if (!bad)
            cg_err_set(err, CG_E_IO, "%s: cannot write", path);
        free(path);
        return -1;
    }
    int rc = cg_atomic_commit(&a);
    if (rc < 0)
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path,
                   strerror(errno));
    free(path);
    return rc < 0 ? -1 : 0;
}

/* plots/longitudinal.png of the rebuilt samples (none without subjects
 * and visits). */
static int write_longitudinal_png(const rebuilt *b, const cg_config *cfg,
                                  const char *sha, const char *pdir,
                                  cg_err *err)
{
    int n = b->sh->n, nlong = 0, rc = 0;
    cg_plot_sample *ps = calloc((size_t)n + 1, sizeof *ps);
    if (!ps)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        cg_headline h;
        cg_result_headline(cfg, &b->res[i], &h);
        ps[i] = (cg_plot_sample){.sample_id = b->sh->s[i].sample_id,
                                 .subject = b->sh->s[i].subject,
                                 .visit = b->sh->s[i].visit,
                                 .treg_pct = h.treg_pct,
                                 .th17_pct = h.th17_pct, .ratio = h.ratio,
                                 .qc = b->qc[i]};
        nlong += *ps[i].subject && *ps[i].visit;
    }
    if (nlong > 0) {
        cg_plot_meta meta = {.config_hash = sha};
        cg_plot_image *im = cg_plot_render_longitudinal(ps, n, &meta, err);
        char *p = cg_path_join(pdir, "longitudinal.png");
        if (!im || !p || cg_plot_image_write_png(im, p, err) < 0)
            rc = -1;
        cg_plot_image_free(im);
        free(p);
    }
    free(ps);
    return rc;
}

/* control_batches of the analysis' config (qc: section), default 5. */
static int nfirst_of(cg_store *st, long aid)
{
    sqlite3_stmt *q;
    int n = 5;
    if (sqlite3_prepare_v2(cg_store_db(st), "SELECT config_text, config_path "
                           "FROM analyses WHERE analysis_id = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return n;
    sqlite3_bind_int64(q, 1, aid);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
        const char *text = (const char *)sqlite3_column_text(q, 0);
        const char *p = (const char *)sqlite3_column_text(q, 1);
        cg_err e = {0};
        cg_config *cfg = cg_config_parse(text, strlen(text),
                                         p ? p : "config.yaml", &e);
        if (cfg) {
            cg_qc_params qp;
            cg_qc_params_init(&qp);
            for (int k = 0; k < cfg->nqc; k++)
                cg_qc_set(&qp, cfg->qc[k].key, cfg->qc[k].value, &e);
            n = (int)qp.control_batches;
            cg_config_free(cfg);
        }
    }
    sqlite3_finalize(q);
    return n < 2 ? 2 : n;
}

int cg_study_write(cg_store *st, long aid, const char *dir, int plots,
                   cg_err *err)
{
    char sha[65] = "";
    aid = cg_study_analysis(st, aid, sha, err);
    if (aid < 0)
        return -1;
    if (cg_mkdir_p(dir) < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot create: %s", dir,
                          strerror(errno));
    rebuilt b;
    if (load_samples(st, aid, &b, err) < 0)
        return -1;
    /* the writer reads the headline through the config: three gates and
     * the ratio metric, in the rebuilt results' layout */
    cg_metric_spec ms;
    memset(&ms, 0, sizeof ms);
    ms.name = (char *)"th17_treg_ratio";
    cg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.metrics = &ms;
    cfg.nmetrics = 1;
    cfg.head_cd4 = 0;
    cfg.head_treg = 1;
    cfg.head_th17 = 2;
    cg_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = &cfg;
    ctx.sheet = b.sh;
    snprintf(ctx.config_sha256, sizeof ctx.config_sha256, "%s", sha);
    int rc = cg_write_table(dir, "longitudinal.tsv", cg_write_longitudinal,
                            &ctx, b.res, 0, err);
    if (rc == 0)
        rc = write_batches(st, aid, dir, err);
    char *pdir = plots ? cg_path_join(dir, "plots") : NULL;
    if (rc == 0 && plots && (!pdir || cg_mkdir_p(pdir) < 0))
        rc = cg_err_set(err, CG_E_IO, "%s/plots: cannot create", dir);
    if (rc == 0 && plots)
        rc = write_longitudinal_png(&b, &cfg, sha, pdir, err);
    if (rc == 0)
        rc = write_controls(st, aid, sha, nfirst_of(st, aid), dir, pdir, err);
    free(pdir);
    rebuilt_free(&b);
    return rc;
}

int cg_study_list(cg_store *st, FILE *fp, cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(cg_store_db(st),
        "SELECT a.analysis_id, a.config_sha256, a.config_name, "
        "(SELECT count(*) FROM batches b WHERE b.analysis_id = a.analysis_id),"
        " (SELECT count(*) FROM samples s WHERE s.analysis_id = a.analysis_id"
        " AND s.role = 'sample'), (SELECT count(*) FROM samples s WHERE "
        "s.analysis_id = a.analysis_id AND s.role = 'control'), a.created "
        "FROM analyses a ORDER BY a.analysis_id", -1, &q, NULL) != SQLITE_OK)
        return sq_err(st, err, "analyses");
    fputs("analysis_id\tconfig_sha256\tconfig_name\tbatches\tsamples\t"
          "controls\tcreated\n", fp);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(q, 2);
        fprintf(fp, "%lld\t%s\t%s\t%lld\t%lld\t%lld\t%s\n",
                (long long)sqlite3_column_int64(q, 0),
                (const char *)sqlite3_column_text(q, 1),
                name ? (const char *)name : "",
                (long long)sqlite3_column_int64(q, 3),
                (long long)sqlite3_column_int64(q, 4),
                (long long)sqlite3_column_int64(q, 5),
                (const char *)sqlite3_column_text(q, 6));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return sq_err(st, err, "analyses");
    return 0;
}

int cg_study_store_batch(const char *db, const cg_run_ctx *ctx,
                         const cg_result *res, const char *outdir,
                         const char *start_time, int argc, char **argv,
                         cg_err *err)
{
    cg_store *st = cg_store_open(db, err);
    if (!st)
        return -1;
    int rc = cg_store_add_batch(st, ctx, res, outdir, start_time, argc, argv,
                                err);
    cg_store_close(st);
    return rc;
}
