/*
 * study_report.c -- DIR/report.html of `cytogate study` (study.h): one
 * self-contained page (inline CSS, no script, no network) over one
 * analysis of the study store: provenance (store, schema version,
 * analysis, config, batches), every stored sample's headline numbers by
 * subject and visit, the batch-control table with its Westgard verdicts
 * and the figures the study command wrote, linked relatively.
 *
 * Invariants: the page depends on the store and on the files just
 * written into DIR only (no clock; the plot listing is sorted), so two
 * calls on the same store give the same bytes.  Every text from the store
 * or a file goes through cg_html_esc (report.h), paths through
 * cg_html_url.  Written atomically (temporary name, rename).
 *
 * Threading: main thread.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "study.h"
#include "util.h"

static int sq_fail(cg_store *st, cg_err *err, const char *what)
{
    return cg_err_set(err, CG_E_IO, "%s: %s: %s", cg_store_path(st), what,
                      sqlite3_errmsg(cg_store_db(st)));
}

static void putf(cg_html *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(cg_html *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    cg_html_put(b, tmp);
}

static const char *ctext(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

/* A number cell: the run's formatting (NA for NULL). */
static void num_cell(cg_html *b, sqlite3_stmt *q, int i)
{
    char s[40];
    cg_fmt_num(s, sizeof s, sqlite3_column_type(q, i) == SQLITE_NULL
                                ? NAN : sqlite3_column_double(q, i));
    cg_html_put(b, "<td class=\"n\">");
    cg_html_esc(b, s);
    cg_html_put(b, "</td>");
}

static void text_cell(cg_html *b, const char *s)
{
    cg_html_put(b, "<td>");
    cg_html_esc(b, s);
    cg_html_put(b, "</td>");
}

/* A verdict as a coloured label; unknown words are class v-na. */
static void verdict_cell(cg_html *b, const char *v)
{
    static const char *const known[] = {"pass", "warn", "fail", "skip",
                                        "error", "establishing"};
    const char *cls = "na";
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (!strcmp(v, known[k]))
            cls = !strcmp(v, "establishing") ? "skip" : known[k];
    putf(b, "<td><span class=\"v v-%s\">", cls);
    cg_html_esc(b, *v ? v : "NA");
    cg_html_put(b, "</span></td>");
}

static const char *const css =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
"margin:1.5em auto;max-width:1400px;padding:0 1em;color:#222}"
"h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;"
"padding-bottom:.2em;margin-top:1.6em}"
"table{border-collapse:collapse;margin:.5em 0}"
"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;"
"vertical-align:top}th{background:#eee}"
"td.n{text-align:right;font-variant-numeric:tabular-nums}"
"table.kv th{width:13em}code{font-family:ui-monospace,monospace;"
"font-size:.92em;word-break:break-all}"
"tbody.subj tr:first-child td{border-top:2px solid #888}"
".v{padding:0 .45em;border-radius:3px;font-weight:600;white-space:nowrap}"
".v-pass{background:#d3f2d3;color:#135c13}"
".v-skip{background:#e8e8e8;color:#444}.v-warn{background:#ffe9a8;"
"color:#6b4700}.v-fail{background:#ffc9c9;color:#8a0000}"
".v-error{background:#333;color:#fff}.v-na{background:#eee;color:#555}"
".small{font-size:.85em;color:#555}"
"figure{margin:.5em 0 1.2em}figcaption{color:#555}"
"figure img{max-width:100%;height:auto;border:1px solid #ccc}";

static void kv(cg_html *b, const char *key, const char *val, int code)
{
    cg_html_put(b, "<tr><th>");
    cg_html_put(b, key);
    cg_html_put(b, code ? "</th><td><code>" : "</th><td>");
    cg_html_esc(b, val);
    cg_html_put(b, code ? "</code></td></tr>\n" : "</td></tr>\n");
}

/* One integer of a query with one bound analysis id (-1 on error). */
static long long count_of(cg_store *st, const char *sql, long aid)
{
    sqlite3_stmt *q;
    long long n = -1;
    if (sqlite3_prepare_v2(cg_store_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(q, 1, aid);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

static int section_provenance(cg_html *b, cg_store *st, long aid,
                              cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(cg_store_db(st), "SELECT config_sha256, "
                           "config_name, config_path, created, (SELECT value "
                           "FROM meta WHERE key = 'schema_version') FROM "
                           "analyses WHERE analysis_id = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return sq_fail(st, err, "analyses");
    sqlite3_bind_int64(q, 1, aid);
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return sq_fail(st, err, "analyses");
    }
    long long nb = count_of(st, "SELECT count(*) FROM batches WHERE "
                            "analysis_id = ?1", aid);
    long long ns = count_of(st, "SELECT count(*) FROM samples WHERE "
                            "analysis_id = ?1 AND role = 'sample'", aid);
    long long nc = count_of(st, "SELECT count(*) FROM samples WHERE "
                            "analysis_id = ?1 AND role = 'control'", aid);
    long long nsub = count_of(st, "SELECT count(DISTINCT subject) FROM "
                              "samples WHERE analysis_id = ?1 AND role = "
                              "'sample'", aid);
    cg_html_put(b, "<title>cytogate study report: ");
    cg_html_esc(b, ctext(q, 1));
    cg_html_put(b, "</title>\n<style>");
    cg_html_put(b, css);
    cg_html_put(b, "</style>\n</head>\n<body>\n<h1>cytogate study report"
                   "</h1>\n<p class=\"small\">");
    putf(b, "Analysis %ld: %lld batches, %lld samples of %lld subjects, "
            "%lld controls, config <code>", aid, nb, ns, nsub, nc);
    cg_html_esc(b, ctext(q, 1));
    cg_html_put(b, "</code>. Built from the study store; figures are linked "
                   "relative to this folder.</p>\n<p><a href=\"#provenance"
                   "\">Provenance</a> · <a href=\"#batches\">Batches</a> · "
                   "<a href=\"#subjects\">Subjects</a> · <a href=\"#controls"
                   "\">Batch control</a> · <a href=\"#figures\">Figures</a>"
                   "</p>\n<h2 id=\"provenance\">Provenance</h2>\n"
                   "<table class=\"kv\">\n");
    char num[32];
    kv(b, "Study store", cg_store_path(st), 1);
    kv(b, "Schema version", ctext(q, 4), 0);
    snprintf(num, sizeof num, "%ld", aid);
    kv(b, "Analysis id", num, 0);
    kv(b, "Config", ctext(q, 1), 1);
    kv(b, "Config path", ctext(q, 2), 1);
    kv(b, "Config sha256", ctext(q, 0), 1);
    kv(b, "Analysis created", ctext(q, 3), 0);
    snprintf(num, sizeof num, "%lld", nb);
    kv(b, "Batches", num, 0);
    cg_html_put(b, "</table>\n");
    sqlite3_finalize(q);
    return 0;
}

static int section_batches(cg_html *b, cg_store *st, long aid, cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(cg_store_db(st),
        "SELECT b.batch_id, b.label, b.outdir, b.started, b.added, "
        "b.cytogate_version, b.command, (SELECT count(*) FROM samples s "
        "WHERE s.batch_id = b.batch_id AND s.role = 'sample'), (SELECT "
        "count(*) FROM samples s WHERE s.batch_id = b.batch_id AND s.role = "
        "'control'), b.n_failed FROM batches b WHERE b.analysis_id = ?1 "
        "ORDER BY b.batch_id", -1, &q, NULL) != SQLITE_OK)
        return sq_fail(st, err, "batches");
    sqlite3_bind_int64(q, 1, aid);
    cg_html_put(b, "<h2 id=\"batches\">Batches</h2>\n<table>\n<thead><tr>"
                   "<th>Batch</th><th>Label</th><th>Output folder</th>"
                   "<th>Started (UTC)</th><th>Added (UTC)</th>"
                   "<th>cytogate</th><th>Command</th><th>Samples</th>"
                   "<th>Controls</th><th>Failed</th></tr></thead>\n<tbody>\n");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        putf(b, "<tr><td class=\"n\">%lld</td>",
             (long long)sqlite3_column_int64(q, 0));
        for (int c = 1; c <= 5; c++)
            text_cell(b, ctext(q, c));
        cg_html_put(b, "<td><code>");
        cg_html_esc(b, ctext(q, 6));
        cg_html_put(b, "</code></td>");
        for (int c = 7; c <= 9; c++)
            putf(b, "<td class=\"n\">%lld</td>",
                 (long long)sqlite3_column_int64(q, c));
        cg_html_put(b, "</tr>\n");
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return sq_fail(st, err, "batches");
    cg_html_put(b, "</tbody>\n</table>\n");
    return 0;
}

/* Natural order: digit runs compare as numbers ("2" < "10"). */
static int nat_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na]))
                na++;
            while (isdigit((unsigned char)b[nb]))
                nb++;
            if (na != nb)
                return na < nb ? -1 : 1;
            int c = strncmp(a, b, na);
            if (c)
                return c;
            a += na;
            b += nb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* One sample row of the subject table, rendered; sorted by key. */
typedef struct srow {
    char *subject, *visit, *html;
    long seq;
} srow;

static int srow_cmp(const void *x, const void *y)
{
    const srow *a = x, *b = y;
    int c = nat_cmp(a->subject, b->subject);
    if (!c)
        c = nat_cmp(a->visit, b->visit);
    if (!c)
        c = strcmp(a->subject, b->subject);
    if (!c)
        c = strcmp(a->visit, b->visit);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int section_subjects(cg_html *b, cg_store *st, long aid, cg_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(cg_store_db(st),
        "SELECT s.subject, s.visit, s.sample_id, s.treg_pct_cd4, "
        "s.th17_pct_cd4, s.th17_treg_ratio, s.status, s.qc, b.label, "
        "s.message FROM samples s JOIN batches b USING (batch_id) WHERE "
        "s.analysis_id = ?1 AND s.role = 'sample' ORDER BY s.first_batch_id,"
        " s.batch_pos, s.sample_pk", -1, &q, NULL) != SQLITE_OK)
        return sq_fail(st, err, "samples");
    sqlite3_bind_int64(q, 1, aid);
    srow *rows = NULL;
    long n = 0, cap = 0;
    int rc, oom = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            srow *nr = realloc(rows, (size_t)cap * sizeof *nr);
            if (!nr) {
                oom = 1;
                break;
            }
            rows = nr;
        }
        cg_html h = {0};
        cg_html_put(&h, "<tr>");
        text_cell(&h, ctext(q, 0));
        text_cell(&h, ctext(q, 1));
        text_cell(&h, ctext(q, 2));
        num_cell(&h, q, 3);
        num_cell(&h, q, 4);
        num_cell(&h, q, 5);
        int ok = !strcmp(ctext(q, 6), "ok");
        verdict_cell(&h, ok ? ctext(q, 7) : "error");
        text_cell(&h, ctext(q, 8));
        text_cell(&h, ok ? "" : ctext(q, 9));
        cg_html_put(&h, "</tr>\n");
        srow *r = &rows[n];
        r->subject = strdup(ctext(q, 0));
        r->visit = strdup(ctext(q, 1));
        r->html = h.p;
        r->seq = n++;
        if (!r->subject || !r->visit || !r->html || h.oom) {
            oom = 1;
            break;
        }
    }
    sqlite3_finalize(q);
    if (!oom && rc == SQLITE_DONE) {
        if (n > 1)
            qsort(rows, (size_t)n, sizeof *rows, srow_cmp);
        cg_html_put(b, "<h2 id=\"subjects\">Subjects</h2>\n<p class=\"small\">"
                       "Every stored sample of the analysis (controls left "
                       "out), by subject and visit (natural order), ties in "
                       "the order they were first stored.</p>\n<table>\n"
                       "<thead><tr><th>Subject</th><th>Visit</th>"
                       "<th>Sample</th><th>Treg % CD4</th><th>Th17 % CD4</th>"
                       "<th>Th17/Treg</th><th>QC</th><th>Batch</th>"
                       "<th>Message</th></tr></thead>\n");
        if (n == 0)
            cg_html_put(b, "<tbody><tr><td colspan=\"9\">No samples."
                           "</td></tr></tbody>\n");
        for (long i = 0; i < n; i++) {
            if (i == 0 || strcmp(rows[i].subject, rows[i - 1].subject))
                cg_html_put(b, i ? "</tbody>\n<tbody class=\"subj\">\n"
                                 : "<tbody class=\"subj\">\n");
            cg_html_put(b, rows[i].html);
        }
        if (n > 0)
            cg_html_put(b, "</tbody>\n");
        cg_html_put(b, "</table>\n");
    }
    for (long i = 0; i < n; i++) {
        free(rows[i].subject);
        free(rows[i].visit);
        free(rows[i].html);
    }
    free(rows);
    if (oom)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    return rc == SQLITE_DONE ? 0 : sq_fail(st, err, "samples");
}

/* The batch-control table from DIR/batch_control.tsv, just written by
 * the same call (so the verdicts are the file's). */
static int section_controls(cg_html *b, const char *dir, cg_err *err)
{
    char *path = cg_path_join(dir, "batch_control.tsv");
    FILE *fp = path ? fopen(path, "rb") : NULL;
    cg_html_put(b, "<h2 id=\"controls\">Batch control</h2>\n<p class=\""
                   "small\">Each control sample (sheet role <code>control"
                   "</code>) judged against the first N batches of its "
                   "series (Levey–Jennings limits, Westgard 1-2s warn, 1-3s "
                   "fail); z = (x − mean) / SD.</p>\n");
    if (!fp) {
        int rc = cg_err_set(err, CG_E_IO, "%s: cannot read: %s",
                            path ? path : dir, strerror(errno));
        free(path);
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int row = 0, ncol = 0;
    while ((len = getline(&line, &cap, fp)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (row == 0)
            cg_html_put(b, "<table>\n<thead><tr>");
        else if (row == 1)
            cg_html_put(b, "<tbody>\n<tr>");
        else
            cg_html_put(b, "<tr>");
        int c = 0;
        for (char *s = line, *t; s; s = t, c++) {
            t = strchr(s, '\t');
            if (t)
                *t++ = 0;
            if (row == 0) {
                cg_html_put(b, "<th>");
                cg_html_esc(b, s);
                cg_html_put(b, "</th>");
                ncol++;
            } else if (c == ncol - 1) {
                verdict_cell(b, s);
            } else {
                cg_html_put(b, c >= 4 ? "<td class=\"n\">" : "<td>");
                cg_html_esc(b, s);
                cg_html_put(b, "</td>");
            }
        }
        cg_html_put(b, row == 0 ? "</tr></thead>\n" : "</tr>\n");
        row++;
    }
    free(line);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        int rc = cg_err_set(err, CG_E_IO, "%s: cannot read", path);
        free(path);
        return rc;
    }
    free(path);
    if (row == 1)
        cg_html_put(b, "<tbody><tr><td colspan=\"11\">No control samples in "
                       "this analysis.</td></tr>\n");
    if (row >= 1)
        cg_html_put(b, "</tbody>\n</table>\n");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The figures under DIR/plots: longitudinal.png, then the sorted
 * levey_jennings*.png. */
static int section_figures(cg_html *b, const char *dir, cg_err *err)
{
    cg_html_put(b, "<h2 id=\"figures\">Figures</h2>\n");
    char *pdir = cg_path_join(dir, "plots");
    DIR *d = pdir ? opendir(pdir) : NULL;
    free(pdir);
    char **names = NULL;
    int n = 0, cap = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            int lj = !strncmp(e->d_name, "levey_jennings", 14);
            if (l < 5 || strcmp(e->d_name + l - 4, ".png") ||
                (!lj && strcmp(e->d_name, "longitudinal.png")))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                char **nn = realloc(names, (size_t)cap * sizeof *nn);
                if (!nn)
                    break;
                names = nn;
            }
            if (!(names[n] = strdup(e->d_name)))
                break;
            n++;
        }
        closedir(d);
    }
    /* "longitudinal.png" sorts after "levey_jennings*": put it first */
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    int have_long = n > 0 && !strcmp(names[n - 1], "longitudinal.png");
    if (have_long) {
        char *l = names[n - 1];
        memmove(names + 1, names, (size_t)(n - 1) * sizeof *names);
        names[0] = l;
    }
    if (n == 0)
        cg_html_put(b, "<p>No figures (written with --no-plots, or nothing "
                       "to draw).</p>\n");
    for (int i = 0; i < n; i++) {
        int lj = strcmp(names[i], "longitudinal.png") != 0;
        cg_html_put(b, "<figure><a href=\"plots/");
        cg_html_url(b, names[i]);
        cg_html_put(b, "\"><img src=\"plots/");
        cg_html_url(b, names[i]);
        cg_html_put(b, "\" alt=\"");
        cg_html_esc(b, names[i]);
        cg_html_put(b, "\"></a><figcaption>");
        cg_html_put(b, lj ? "Levey–Jennings chart of a control series: "
                          : "Each subject's Th17/Treg ratio and Treg % "
                            "across visits: ");
        cg_html_put(b, "<code>plots/");
        cg_html_esc(b, names[i]);
        cg_html_put(b, "</code></figcaption></figure>\n");
        free(names[i]);
    }
    free(names);
    (void)err;
    return 0;
}

int cg_study_report(cg_store *st, long aid, const char *dir, cg_err *err)
{
    char sha[65] = "";
    aid = cg_study_analysis(st, aid, sha, err);
    if (aid < 0)
        return -1;
    cg_html b = {0};
    cg_html_put(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
                    "charset=\"utf-8\">\n<meta name=\"viewport\" content=\""
                    "width=device-width, initial-scale=1\">\n");
    int rc = section_provenance(&b, st, aid, err);
    if (rc == 0)
        rc = section_batches(&b, st, aid, err);
    if (rc == 0)
        rc = section_subjects(&b, st, aid, err);
    if (rc == 0)
        rc = section_controls(&b, dir, err);
    if (rc == 0)
        rc = section_figures(&b, dir, err);
    cg_html_put(&b, "</body>\n</html>\n");
    if (rc == 0 && b.oom)
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (rc < 0) {
        free(b.p);
        return -1;
    }
    char *path = cg_path_join(dir, "report.html");
    cg_atomic a;
    FILE *fp = path ? cg_atomic_open(&a, path) : NULL;
    if (!fp) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path ? path : dir,
                   strerror(errno));
        free(path);
        free(b.p);
        return -1;
    }
    fwrite(b.p, 1, b.n, fp);
    free(b.p);
    if (ferror(fp)) {
        cg_atomic_abort(&a);
        rc = -1;
    } else if (cg_atomic_commit(&a) < 0) {
        rc = -1;
    }
    if (rc < 0)
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path,
                   strerror(errno));
    free(path);
    return rc;
}
