/*
 * report.c -- report.html, the review report of a run folder (report.h).
 *
 * Reads run.json (provenance, command, inputs), summary.tsv (one row per
 * sample: headline numbers, verdict, sheet columns, message), qc.tsv
 * (every check: the failed and warned ones by name, fallbacks, overrides)
 * and the figures under plots/; writes the page and the thumbnails
 * (report_thumb.c).  The page is built in memory and written atomically.
 *
 * Invariants: the output depends on the folder's files only (no clock,
 * sorted listings), so `cytogate report` rebuilds the run's bytes.  Text
 * from files goes through put_esc() (HTML-escaped; bytes that are not
 * UTF-8, and control characters, become U+FFFD) and paths through
 * put_url() (percent-encoded), so a sheet cell can never become markup.
 * A sample id that is not a safe file name (from a hand-edited
 * summary.tsv) gets no figures rather than a path outside the folder.
 *
 * Threading: no shared state.  The thumbnails are made first, on the
 * caller's thread count (thumbs_make: each job its own file and result
 * slot), then the page is assembled in order on the calling thread.
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "par.h"
#include "run.h"
#include "util.h"

/* ---------------------------------------------------------- buffer -- */

typedef cg_html rbuf;

static void put_n(rbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void put(rbuf *b, const char *s) { put_n(b, s, strlen(s)); }

static void putf(rbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(rbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put_n(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
        return 0;
    for (int k = 1; k < n; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)))
        return 0;
    if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)))
        return 0;
    return n;
}

/* Text as HTML (element content or a quoted attribute value). */
static void put_esc(rbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    while (*u) {
        int n = utf8_len(u);
        if (n == 0 || (*u < 0x20 && *u != '\t' && *u != '\n') || *u == 0x7f) {
            put(b, "&#xFFFD;");
            u++;
            continue;
        }
        switch (*u) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&#39;"); break;
        default: put_n(b, (const char *)u, (size_t)n);
        }
        u += n;
    }
}

/* A relative path as a URL: unreserved bytes and '/' kept, the rest
 * percent-encoded (so the result needs no HTML escaping). */
static void put_url(rbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
            (*u >= '0' && *u <= '9') || strchr("-._~/", *u)) {
            put_n(b, (const char *)u, 1);
        } else {
            char e[3] = {'%', hex[*u >> 4], hex[*u & 15]};
            put_n(b, e, 3);
        }
    }
}

/* The helpers above, for other pages (report.h). */
void cg_html_put(cg_html *b, const char *s) { put(b, s); }
void cg_html_esc(cg_html *b, const char *s) { put_esc(b, s); }
void cg_html_url(cg_html *b, const char *s) { put_url(b, s); }

/* One argument for a POSIX shell. */
static void put_shell_arg(rbuf *b, const char *s)
{
    int plain = *s != 0;
    for (const char *p = s; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789_./:=@%+,-", *p))
            plain = 0;
    if (plain) {
        put(b, s);
        return;
    }
    put(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            put(b, "'\\''");
        else
            put_n(b, p, 1);
    }
    put(b, "'");
}

/* ------------------------------------------------------------- TSV -- */

typedef struct rtab {
    char *buf;
    char **cell; /* nrows x ncols, row 0 the header */
    int nrows, ncols;
} rtab;

static void tab_free(rtab *t)
{
    free(t->buf);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    rbuf b = {0};
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, fp)) > 0)
        put_n(&b, tmp, k);
    int bad = ferror(fp) || b.oom;
    fclose(fp);
    if (bad) {
        free(b.p);
        errno = bad && !b.oom ? EIO : ENOMEM;
        return NULL;
    }
    if (!b.p)
        b.p = calloc(1, 1);
    *n = b.n;
    return b.p;
}

/* dir/name as a table.  0; 1 when the file does not exist and !required;
 * -1 with err. */
static int tab_load(rtab *t, const char *dir, const char *name, int required,
                    cg_err *err)
{
    memset(t, 0, sizeof *t);
    char *path = cg_path_join(dir, name);
    size_t n = 0;
    t->buf = path ? slurp(path, &n) : NULL;
    free(path);
    if (!t->buf) {
        if (errno == ENOENT && !required)
            return 1;
        return cg_err_set(err, CG_E_ARG, "%s: cannot read: %s", name,
                          strerror(errno));
    }
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += t->buf[i] == '\n';
    lines += n > 0 && t->buf[n - 1] != '\n';
    char *line = t->buf;
    for (int r = 0; r < lines; r++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[len - 1] = 0;
        int nc = 1;
        for (char *p = line; *p; p++)
            nc += *p == '\t';
        if (r == 0) {
            t->ncols = nc;
            t->cell = calloc((size_t)lines * (size_t)nc, sizeof *t->cell);
            if (!t->cell)
                return cg_err_set(err, CG_E_NOMEM, "out of memory");
        } else if (nc != t->ncols) {
            return cg_err_setl(err, CG_E_PARSE, r + 1,
                               "%s: line %d: %d columns, the header has %d",
                               name, r + 1, nc, t->ncols);
        }
        char *c = line;
        for (int k = 0; k < nc; k++) {
            char *tab = strchr(c, '\t');
            if (tab)
                *tab = 0;
            t->cell[(size_t)r * t->ncols + k] = c;
            c = tab ? tab + 1 : c + strlen(c);
        }
        t->nrows = r + 1;
        line = nl ? nl + 1 : line + len;
    }
    if (t->nrows == 0)
        return cg_err_set(err, CG_E_PARSE, "%s: empty (no header line)",
                          name);
    return 0;
}

static int tab_col(const rtab *t, const char *name)
{
    for (int k = 0; k < t->ncols; k++)
        if (!strcmp(t->cell[k], name))
            return k;
    return -1;
}

/* Cell (r, c), "" when c < 0. */
static const char *tab_get(const rtab *t, int r, int c)
{
    return c < 0 || r >= t->nrows ? "" : t->cell[(size_t)r * t->ncols + c];
}

/* -------------------------------------------------------- listings -- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **v, int n)
{
    for (int k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

/* The regular *.png files of dir, sorted by name (owned list of owned
 * names; none when dir does not exist). */
static int list_png(const char *dir, char ***out, int *nout)
{
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    struct dirent *de;
    int n = 0, cap = 0, rc = 0;
    char **v = NULL;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 ||
            strcmp(de->d_name + len - 4, ".png"))
            continue;
        char *p = cg_path_join(dir, de->d_name);
        struct stat st;
        int reg = p && lstat(p, &st) == 0 && S_ISREG(st.st_mode);
        free(p);
        if (!reg)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **q = realloc(v, (size_t)cap * sizeof *v);
            if (!q) {
                rc = -1;
                break;
            }
            v = q;
        }
        if (!(v[n] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc < 0) {
        free_list(v, n);
        errno = ENOMEM;
        return -1;
    }
    if (n)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *nout = n;
    return 0;
}

/* ---------------------------------------------------------- report -- */

typedef struct report {
    const char *src, *dst;
    json_t *run;
    rtab sum, qc;
    char run_sha[65];
    rbuf h; /* the page */
    /* summary.tsv columns */
    int c_id, c_file, c_subj, c_visit, c_status, c_qc, c_events, c_cd4,
        c_treg, c_th17, c_ratio, c_tdef, c_hdef, c_group, c_msg;
    int extra0, extra1; /* sheet columns [extra0, extra1) */
    int q_id, q_check, q_value, q_thr, q_verdict, q_detail;
    cg_err *err;
    int nthreads;
    struct thumb *th; /* the figures' thumbnails, made before the page */
    int nth, thk;     /* how many; the next one put_thumb shows */
} report;

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The sample's verdict: its QC verdict, or "error" for a failed row. */
static const char *verdict(const report *r, int row)
{
    if (!strcmp(tab_get(&r->sum, row, r->c_status), "error"))
        return "error";
    const char *q = tab_get(&r->sum, row, r->c_qc);
    return *q ? q : "NA";
}

static int verdict_rank(const char *v)
{
    static const char *const order[] = {"pass", "skip", "warn", "fail",
                                        "error"};
    for (int k = 0; k < 5; k++)
        if (!strcmp(v, order[k]))
            return k;
    return 5;
}

static void put_verdict(rbuf *b, const char *v)
{
    put(b, "<span class=\"v v-");
    put(b, verdict_rank(v) < 5 ? v : "na");
    put(b, "\">");
    put_esc(b, v);
    put(b, "</span>");
}

/* A number for the eye (3 significant digits) with the exact value kept
 * for sorting. */
static void put_num_cell(rbuf *b, const char *s)
{
    double v;
    if (cg_parse_double(s, &v) == 0 && isfinite(v)) {
        char t[64];
        snprintf(t, sizeof t, fabs(v) >= 1000 ? "%.0f" : "%.3g", v);
        put(b, "<td class=\"n\" data-v=\"");
        put_esc(b, s);
        put(b, "\">");
        put(b, t);
    } else {
        /* NA sorts last; other text (a visit "V2") sorts as text */
        put(b, "<td class=\"n\" data-v=\"");
        put_esc(b, strcmp(s, "NA") ? s : "");
        put(b, "\">");
        put_esc(b, s);
    }
    put(b, "</td>");
}

static void put_text_cell(rbuf *b, const char *s)
{
    put(b, "<td>");
    put_esc(b, s);
    put(b, "</td>");
}

/* Safe as one path component: what the sample sheet allows. */
static int safe_name(const char *s)
{
    return *s && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\') &&
           strlen(s) <= 255;
}

static const char *const css =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
"margin:1.5em auto;max-width:1400px;padding:0 1em;color:#222}"
"h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;"
"padding-bottom:.2em;margin-top:1.6em}h3{margin:.3em 0}"
"table{border-collapse:collapse;margin:.5em 0}"
"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;"
"vertical-align:top}th{background:#eee}"
"table.sortable th{cursor:pointer}table.sortable th[data-dir]:after{"
"content:' \\2195'}td.n{text-align:right;font-variant-numeric:tabular-nums}"
"table.kv th{width:13em}code,pre{font-family:ui-monospace,monospace;"
"font-size:.92em}pre{background:#f5f5f5;padding:.6em;white-space:pre-wrap;"
"word-break:break-all}.v{padding:0 .45em;border-radius:3px;font-weight:600;"
"white-space:nowrap}.v-pass{background:#d3f2d3;color:#135c13}"
".v-skip{background:#e8e8e8;color:#444}.v-warn{background:#ffe9a8;"
"color:#6b4700}.v-fail{background:#ffc9c9;color:#8a0000}"
".v-error{background:#333;color:#fff}.v-na{background:#eee;color:#555}"
".small{font-size:.85em;color:#555}.sample{border-top:1px solid #ddd;"
"padding:.5em 0}.figs a{display:inline-block;margin:0 .6em .4em 0}"
".figs img{border:1px solid #ccc;max-width:100%;height:auto}"
"img.batch{max-width:100%;height:auto;border:1px solid #ccc}"
"figure{margin:.5em 0 1.2em}figcaption{color:#555}"
".signoff td{min-width:22em;height:2.2em}"
"@media print{table.sortable th{cursor:auto}.sample{break-inside:avoid}}";

/* Rows sort by the clicked column: data-v (numbers, verdict ranks) when
 * present, else the text; numbers before text, empty last.  Without the
 * script the table stays in sheet order. */
static const char *const sort_js =
"document.querySelectorAll('table.sortable').forEach(function(t){"
"var hs=t.tHead.rows[0].cells;Array.prototype.forEach.call(hs,function(th,i)"
"{th.title='sort';th.addEventListener('click',function(){"
"var asc=th.getAttribute('data-dir')!=='asc';"
"Array.prototype.forEach.call(hs,function(h){h.removeAttribute('data-dir')});"
"th.setAttribute('data-dir',asc?'asc':'desc');var b=t.tBodies[0];"
"var rows=Array.prototype.slice.call(b.rows);function key(r){var c=r.cells[i];"
"return c.hasAttribute('data-v')?c.getAttribute('data-v'):c.textContent}"
"rows.sort(function(x,y){var a=key(x),z=key(y),na=parseFloat(a),"
"nz=parseFloat(z),c;if(a===''||z==='')c=(a==='')-(z==='');"
"else if(!isNaN(na)&&!isNaN(nz))c=na-nz;else if(!isNaN(na))c=-1;"
"else if(!isNaN(nz))c=1;else c=a<z?-1:a>z?1:0;return asc?c:-c});"
"rows.forEach(function(r){b.appendChild(r)})})})});";

static void section_head(report *r)
{
    rbuf *b = &r->h;
    json_t *cfg = json_object_get(r->run, "config");
    int merged = json_object_get(r->run, "merged_from") != NULL;
    put(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8"
           "\">\n<meta name=\"viewport\" content=\"width=device-width, "
           "initial-scale=1\">\n<meta name=\"generator\" content=\"cytogate ");
    put_esc(b, jstr(r->run, "version"));
    put(b, "\">\n<title>cytogate review: ");
    put_esc(b, jstr(cfg, "name"));
    put(b, " ");
    put_esc(b, jstr(r->run, "start_time"));
    put(b, "</title>\n<style>");
    put(b, css);
    put(b, "</style>\n</head>\n<body>\n<h1>cytogate review report</h1>\n"
           "<p class=\"small\">");
    put(b, merged ? "Merged batch" : "Batch");
    put(b, " of ");
    putf(b, "%d", r->sum.nrows - 1);
    put(b, " samples, config <code>");
    put_esc(b, jstr(cfg, "name"));
    put(b, "</code>, started ");
    put_esc(b, jstr(r->run, "start_time"));
    put(b, ". Built from the files of this folder; figures are linked "
           "relative to it.</p>\n<p><a href=\"#provenance\">Provenance</a>"
           " · <a href=\"#samples\">Samples</a> · <a href=\"#batch\">Batch "
           "figures</a> · <a href=\"#figures\">Per-sample figures</a> · <a "
           "href=\"#inputs\">Inputs</a> · <a href=\"#signoff\">Sign-off</a>"
           "</p>\n");
}

static void kv_row(rbuf *b, const char *key, const char *val, int code)
{
    put(b, "<tr><th>");
    put(b, key);
    put(b, code ? "</th><td><code>" : "</th><td>");
    put_esc(b, val);
    put(b, code ? "</code></td></tr>\n" : "</td></tr>\n");
}

static void section_provenance(report *r)
{
    rbuf *b = &r->h;
    json_t *cfg = json_object_get(r->run, "config");
    json_t *sheet = json_object_get(r->run, "sample_sheet");
    put(b, "<h2 id=\"provenance\">Provenance</h2>\n<table class=\"kv\">\n");
    char ver[64];
    snprintf(ver, sizeof ver, "%s %s", jstr(r->run, "program"),
             jstr(r->run, "version"));
    kv_row(b, "program", ver, 0);
    kv_row(b, "started (UTC)", jstr(r->run, "start_time"), 0);
    char th[32];
    json_t *jt = json_object_get(r->run, "threads");
    snprintf(th, sizeof th, "%lld", (long long)json_integer_value(jt));
    kv_row(b, "threads", jt ? th : "NA", 0);
    json_t *pl = json_object_get(r->run, "plots");
    kv_row(b, "figures", pl && !json_is_true(pl) ? "no (--no-plots)" : "yes",
           0);
    kv_row(b, "config", jstr(cfg, "path"), 1);
    kv_row(b, "config name", jstr(cfg, "name"), 0);
    kv_row(b, "config sha256", jstr(cfg, "sha256"), 1);
    if (sheet) {
        kv_row(b, "sample sheet", jstr(sheet, "path"), 1);
        kv_row(b, "sheet sha256", jstr(sheet, "sha256"), 1);
    }
    kv_row(b, "run.json sha256", r->run_sha, 1);
    put(b, "</table>\n");

    /* the command; run.json does not record the working folder */
    put(b, "<h3>Command that reproduces the run</h3>\n<pre id=\"command\">");
    rbuf cmd = {0};
    put(&cmd, "cytogate");
    json_t *argv = json_object_get(r->run, "command");
    size_t i;
    json_t *a;
    json_array_foreach(argv, i, a) {
        put(&cmd, " ");
        put_shell_arg(&cmd, json_string_value(a) ? json_string_value(a) : "");
    }
    put_esc(b, cmd.oom ? "" : cmd.p);
    free(cmd.p);
    put(b, "</pre>\n<p class=\"small\">Run it from the folder the original "
           "run started in (relative paths resolve from there); the same "
           "inputs and config give the same bytes at any thread count. "
           "The inputs' sha256 are listed under <a href=\"#inputs\">Inputs"
           "</a>.</p>\n");
    json_t *from = json_object_get(r->run, "merged_from");
    if (json_is_array(from)) {
        put(b, "<h3>Merged from</h3>\n<table><thead><tr><th>folder</th>"
               "<th>started</th><th>threads</th><th>samples</th></tr></thead>"
               "<tbody>\n");
        json_array_foreach(from, i, a) {
            put(b, "<tr>");
            put_text_cell(b, jstr(a, "dir"));
            put_text_cell(b, jstr(a, "start_time"));
            putf(b, "<td class=\"n\">%lld</td><td>",
                 (long long)json_integer_value(json_object_get(a, "threads")));
            size_t k;
            json_t *s;
            json_array_foreach(json_object_get(a, "samples"), k, s) {
                if (k)
                    put(b, ", ");
                put_esc(b, json_string_value(s));
            }
            put(b, "</td></tr>\n");
        }
        put(b, "</tbody></table>\n");
    }
    const char *text = jstr(cfg, "text");
    if (*text) {
        put(b, "<details><summary>Config text</summary><pre>");
        put_esc(b, text);
        put(b, "</pre></details>\n");
    }
}

static void section_inputs(report *r)
{
    rbuf *b = &r->h;
    put(b, "<h2 id=\"inputs\">Inputs</h2>\n<table class=\"sortable\"><thead>"
           "<tr><th>sample</th><th>file</th><th>size (bytes)</th>"
           "<th>status</th><th>sha256</th></tr></thead><tbody>\n");
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(r->run, "inputs"), i, in) {
        put(b, "<tr>");
        put_text_cell(b, jstr(in, "sample_id"));
        put_text_cell(b, jstr(in, "file"));
        json_t *sz = json_object_get(in, "size");
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)json_integer_value(sz));
        put_num_cell(b, sz ? t : "NA");
        put_text_cell(b, jstr(in, "status"));
        put(b, "<td><code>");
        put_esc(b, jstr(in, "sha256"));
        put(b, "</code></td></tr>\n");
    }
    put(b, "</tbody></table>\n");
}

/* Per sample, from qc.tsv: the failed and warned checks by name, the
 * fallbacks and the overrides (comma-separated, escaped HTML). */
typedef struct qc_lists {
    rbuf fail, warn, fallback, override;
    int nfail, nwarn, nfallback, noverride;
} qc_lists;

static void list_add(rbuf *b, int *n, const char *name)
{
    if ((*n)++)
        put(b, ", ");
    put_esc(b, name);
}

static void qc_collect(const report *r, const char *id, qc_lists *q)
{
    memset(q, 0, sizeof *q);
    for (int k = 1; k < r->qc.nrows; k++) {
        if (strcmp(tab_get(&r->qc, k, r->q_id), id))
            continue;
        const char *chk = tab_get(&r->qc, k, r->q_check);
        const char *v = tab_get(&r->qc, k, r->q_verdict);
        if (!strcmp(v, "fail"))
            list_add(&q->fail, &q->nfail, chk);
        else if (!strcmp(v, "warn"))
            list_add(&q->warn, &q->nwarn, chk);
        if (!strncmp(chk, "gate_fallback:", 14))
            list_add(&q->fallback, &q->nfallback, chk + 14);
        else if (!strncmp(chk, "override:", 9))
            list_add(&q->override, &q->noverride, chk + 9);
    }
}

static void qc_lists_free(qc_lists *q)
{
    free(q->fail.p);
    free(q->warn.p);
    free(q->fallback.p);
    free(q->override.p);
}

static void put_list_cell(rbuf *b, const rbuf *l)
{
    put(b, "<td>");
    if (l->p)
        put(b, l->p);
    put(b, "</td>");
}

static void sample_table_head(report *r)
{
    rbuf *b = &r->h;
    put(b, "<h2 id=\"samples\">Samples</h2>\n<p class=\"small\">"
           "<b>Treg % CD4</b> = Treg events / CD4 events × 100, "
           "<b>Th17 % CD4</b> = Th17 events / CD4 events × 100, <b>Th17/Treg"
           "</b> = Th17 events / Treg events (NA below the config's "
           "min_denominator). The Treg and Th17 populations of each sample "
           "are the first headline gates the config could evaluate for it; "
           "the <i>Treg def</i> and <i>Th17 def</i> columns name them. "
           "Verdict: the sample's worst QC check (pass, warn, fail), or "
           "<i>error</i> when the sample could not be processed. Click a "
           "column heading to sort.</p>\n");
    put(b, "<table class=\"sortable\" id=\"sample-table\"><thead><tr>"
           "<th>sample</th><th>subject</th><th>visit</th><th>group</th>"
           "<th>verdict</th><th>events</th><th>CD4</th><th>Treg % CD4</th>"
           "<th>Th17 % CD4</th><th>Th17/Treg</th><th>Treg def</th>"
           "<th>Th17 def</th><th>failed checks</th><th>warned checks</th>"
           "<th>fallbacks</th><th>overrides</th>");
    for (int c = r->extra0; c < r->extra1; c++) {
        put(b, "<th>");
        put_esc(b, tab_get(&r->sum, 0, c));
        put(b, "</th>");
    }
    put(b, "<th>message</th></tr></thead>\n<tbody>\n");
}

static void section_samples(report *r)
{
    rbuf *b = &r->h;
    int count[6] = {0};
    for (int row = 1; row < r->sum.nrows; row++)
        count[verdict_rank(verdict(r, row))]++;
    static const char *const names[] = {"pass", "skip", "warn", "fail",
                                        "error", "NA"};
    put(b, "<p id=\"verdicts\">");
    for (int k = 0, first = 1; k < 6; k++) {
        if (!count[k])
            continue;
        put(b, first ? "" : " · ");
        first = 0;
        putf(b, "%d ", count[k]);
        put_verdict(b, names[k]);
    }
    put(b, "</p>\n");
    sample_table_head(r);
    for (int row = 1; row < r->sum.nrows; row++) {
        const char *id = tab_get(&r->sum, row, r->c_id);
        const char *v = verdict(r, row);
        qc_lists q;
        qc_collect(r, id, &q);
        putf(b, "<tr id=\"row-%d\"><td><a href=\"#s%d\">", row, row);
        put_esc(b, id);
        put(b, "</a></td>");
        put_text_cell(b, tab_get(&r->sum, row, r->c_subj));
        put_num_cell(b, tab_get(&r->sum, row, r->c_visit));
        put_text_cell(b, tab_get(&r->sum, row, r->c_group));
        putf(b, "<td data-v=\"%d\">", verdict_rank(v));
        put_verdict(b, v);
        put(b, "</td>");
        put_num_cell(b, tab_get(&r->sum, row, r->c_events));
        put_num_cell(b, tab_get(&r->sum, row, r->c_cd4));
        put_num_cell(b, tab_get(&r->sum, row, r->c_treg));
        put_num_cell(b, tab_get(&r->sum, row, r->c_th17));
        put_num_cell(b, tab_get(&r->sum, row, r->c_ratio));
        put_text_cell(b, tab_get(&r->sum, row, r->c_tdef));
        put_text_cell(b, tab_get(&r->sum, row, r->c_hdef));
        put_list_cell(b, &q.fail);
        put_list_cell(b, &q.warn);
        put_list_cell(b, &q.fallback);
        put_list_cell(b, &q.override);
        for (int c = r->extra0; c < r->extra1; c++)
            put_text_cell(b, tab_get(&r->sum, row, c));
        put_text_cell(b, tab_get(&r->sum, row, r->c_msg));
        put(b, "</tr>\n");
        qc_lists_free(&q);
    }
    put(b, "</tbody></table>\n");
}

static const char *batch_caption(const char *name)
{
    if (!strcmp(name, "batch_frequencies.png"))
        return "Treg % of CD4, Th17 % of CD4 and the Th17/Treg ratio per "
               "sample, QC failures marked";
    if (!strcmp(name, "longitudinal.png"))
        return "Each subject's Th17/Treg ratio and Treg % across visits";
    return NULL;
}

static int section_batch(report *r)
{
    rbuf *b = &r->h;
    char *dir = cg_path_join(r->src, "plots");
    char **v = NULL;
    int n = 0;
    if (!dir || list_png(dir, &v, &n) < 0) {
        free(dir);
        return cg_err_set(r->err, CG_E_IO, "plots: cannot list: %s",
                          strerror(errno));
    }
    free(dir);
    put(b, "<h2 id=\"batch\">Batch figures</h2>\n");
    if (n == 0)
        put(b, "<p>No batch figures in <code>plots/</code>.</p>\n");
    for (int k = 0; k < n; k++) {
        const char *cap = batch_caption(v[k]);
        put(b, "<figure><a href=\"plots/");
        put_url(b, v[k]);
        put(b, "\"><img class=\"batch\" src=\"plots/");
        put_url(b, v[k]);
        put(b, "\" alt=\"");
        put_esc(b, v[k]);
        put(b, "\"></a><figcaption><code>plots/");
        put_esc(b, v[k]);
        put(b, "</code>");
        if (cap) {
            put(b, ": ");
            put(b, cap);
        }
        put(b, "</figcaption></figure>\n");
    }
    free_list(v, n);
    return 0;
}

/* A thumbnail of the figures section: report_files/<id>/<name> from
 * plots/<id>/<name>, made by thumb_make (on any thread), shown by
 * put_thumb in the same order. */
typedef struct thumb {
    const char *id, *name;
    char rel[600], relt[600]; /* the figure and its thumbnail, relative */
    int rc, w, h, made; /* made: the figure exists and was shrunk */
    cg_err err;
} thumb;

static void thumb_make(const report *r, thumb *t)
{
    char *src = cg_path_join(r->src, t->rel);
    char *dst = cg_path_join(r->dst, t->relt);
    char *tdir = cg_path_join(r->dst, "report_files");
    char *sdir = tdir ? cg_path_join(tdir, t->id) : NULL;
    struct stat st;
    if (!src || !dst || !sdir) {
        t->rc = cg_err_set(&t->err, CG_E_NOMEM, "out of memory");
    } else if (lstat(src, &st) == 0 && S_ISREG(st.st_mode)) {
        if (cg_mkdir_p(sdir) < 0)
            t->rc = cg_err_set(&t->err, CG_E_IO, "report_files/%s: cannot "
                               "create: %s", t->id, strerror(errno));
        else
            t->rc = cg_report_thumbnail(src, dst, CG_REPORT_THUMB_W, &t->w,
                                        &t->h, &t->err);
        t->made = t->rc == 0;
    }
    free(src);
    free(dst);
    free(tdir);
    free(sdir);
}

typedef struct thumb_work {
    const report *r;
    atomic_int next;
} thumb_work;

static void *thumb_main(void *arg)
{
    thumb_work *w = arg;
    for (int k; (k = atomic_fetch_add(&w->next, 1)) < w->r->nth;)
        thumb_make(w->r, &w->r->th[k]);
    return NULL;
}

/* Every sample's strategy and QC thumbnails, in the order the page shows
 * them, on r->nthreads threads (each writes its own file and result). */
static int thumbs_make(report *r)
{
    r->th = calloc((size_t)(2 * r->sum.nrows) + 1, sizeof *r->th);
    if (!r->th)
        return cg_err_set(r->err, CG_E_NOMEM, "out of memory");
    for (int row = 1; row < r->sum.nrows; row++) {
        const char *id = tab_get(&r->sum, row, r->c_id);
        if (!safe_name(id))
            continue;
        static const char *const fig[2] = {"strategy.png", "qc.png"};
        for (int k = 0; k < 2; k++) {
            thumb *t = &r->th[r->nth++];
            t->id = id;
            t->name = fig[k];
            snprintf(t->rel, sizeof t->rel, "plots/%s/%s", id, fig[k]);
            snprintf(t->relt, sizeof t->relt, "report_files/%s/%s", id,
                     fig[k]);
        }
    }
    thumb_work w = {.r = r};
    atomic_init(&w.next, 0);
    int nt = r->nthreads < r->nth ? r->nthreads : r->nth;
    cg_par_run(nt, thumb_main, &w, 0);
    return 0;
}

/* The next thumbnail (for id and name), made by thumbs_make, as an
 * <a><img>; nothing when the figure is missing.  -1 with the first
 * failure's error. */
static int put_thumb(report *r, const char *id, const char *name,
                     const char *alt)
{
    rbuf *b = &r->h;
    if (r->thk >= r->nth || strcmp(r->th[r->thk].id, id) ||
        strcmp(r->th[r->thk].name, name))
        return cg_err_set(r->err, CG_E_ARG, "report: thumbnails out of "
                          "order"); /* not reached: one walk of the rows */
    const thumb *t = &r->th[r->thk++];
    if (t->rc < 0) {
        *r->err = t->err;
        return -1;
    }
    if (t->made) {
        put(b, "<a href=\"");
        put_url(b, t->rel);
        put(b, "\"><img src=\"");
        put_url(b, t->relt);
        putf(b, "\" width=\"%d\" height=\"%d\" alt=\"", t->w, t->h);
        put_esc(b, alt);
        put(b, " of ");
        put_esc(b, id);
        put(b, "\"></a>");
    }
    return 0;
}

static void sample_checks(report *r, const char *id)
{
    rbuf *b = &r->h;
    int n = 0;
    for (int k = 1; k < r->qc.nrows; k++) {
        if (strcmp(tab_get(&r->qc, k, r->q_id), id))
            continue;
        const char *v = tab_get(&r->qc, k, r->q_verdict);
        const char *chk = tab_get(&r->qc, k, r->q_check);
        if (!strcmp(v, "pass") && strncmp(chk, "override:", 9))
            continue;
        if (n++ == 0)
            put(b, "<table class=\"checks\"><thead><tr><th>check</th><th>"
                   "value</th><th>threshold</th><th>verdict</th><th>detail"
                   "</th></tr></thead><tbody>\n");
        put(b, "<tr>");
        put_text_cell(b, chk);
        put_num_cell(b, tab_get(&r->qc, k, r->q_value));
        put_num_cell(b, tab_get(&r->qc, k, r->q_thr));
        put(b, "<td>");
        put_verdict(b, v);
        put(b, "</td>");
        put_text_cell(b, tab_get(&r->qc, k, r->q_detail));
        put(b, "</tr>\n");
    }
    if (n)
        put(b, "</tbody></table>\n");
    else
        put(b, "<p class=\"small\">Every QC check passed (or was skipped)."
               "</p>\n");
}

/* Links to the sample's other figures (one per gate). */
static int sample_gate_links(report *r, const char *id)
{
    rbuf *b = &r->h;
    char rel[600];
    snprintf(rel, sizeof rel, "plots/%s", id);
    char *dir = cg_path_join(r->src, rel);
    char **v = NULL;
    int n = 0;
    if (!dir || list_png(dir, &v, &n) < 0) {
        free(dir);
        return cg_err_set(r->err, CG_E_IO, "%s: cannot list: %s", rel,
                          strerror(errno));
    }
    free(dir);
    int shown = 0;
    for (int k = 0; k < n; k++) {
        if (!strcmp(v[k], "strategy.png") || !strcmp(v[k], "qc.png"))
            continue;
        put(b, shown++ ? " · " : "<p class=\"small\">Gate figures: ");
        put(b, "<a href=\"plots/");
        put_url(b, id);
        put(b, "/");
        put_url(b, v[k]);
        put(b, "\">");
        size_t len = strlen(v[k]);
        v[k][len - 4] = 0;
        put_esc(b, v[k]);
        put(b, "</a>");
    }
    if (shown)
        put(b, "</p>\n");
    free_list(v, n);
    return 0;
}

static int section_figures(report *r)
{
    rbuf *b = &r->h;
    put(b, "<h2 id=\"figures\">Per-sample figures</h2>\n<p class=\"small\">"
           "Thumbnails of each sample's gating strategy and QC figure; click "
           "one for the full-size PNG.</p>\n");
    json_t *pl = json_object_get(r->run, "plots");
    if (pl && !json_is_true(pl))
        put(b, "<p>This run was made with <code>--no-plots</code>: no "
               "figures.</p>\n");
    if (thumbs_make(r) < 0)
        return -1;
    for (int row = 1; row < r->sum.nrows; row++) {
        const char *id = tab_get(&r->sum, row, r->c_id);
        putf(b, "<section class=\"sample\" id=\"s%d\"><h3>", row);
        put_esc(b, id);
        put(b, " ");
        put_verdict(b, verdict(r, row));
        putf(b, " <a class=\"small\" href=\"#row-%d\">table row</a></h3>\n"
                "<p class=\"small\">subject ", row);
        put_esc(b, tab_get(&r->sum, row, r->c_subj));
        put(b, " · visit ");
        put_esc(b, tab_get(&r->sum, row, r->c_visit));
        put(b, " · file <code>");
        put_esc(b, tab_get(&r->sum, row, r->c_file));
        put(b, "</code></p>\n");
        const char *msg = tab_get(&r->sum, row, r->c_msg);
        if (*msg) {
            put(b, "<p class=\"small\">");
            put_esc(b, msg);
            put(b, "</p>\n");
        }
        if (safe_name(id)) {
            put(b, "<div class=\"figs\">");
            if (put_thumb(r, id, "strategy.png", "gating strategy") < 0 ||
                put_thumb(r, id, "qc.png", "QC figure") < 0)
                return -1;
            put(b, "</div>\n");
            if (sample_gate_links(r, id) < 0)
                return -1;
        }
        sample_checks(r, id);
        put(b, "</section>\n");
    }
    return 0;
}

static void section_signoff(report *r)
{
    rbuf *b = &r->h;
    put(b, "<h2 id=\"signoff\">Sign-off</h2>\n<p class=\"small\">Print this "
           "page or copy the fields into the lab record. The result set is "
           "identified by the sha256 of its <code>run.json</code>: <code>");
    put_esc(b, r->run_sha);
    put(b, "</code>.</p>\n<table class=\"signoff\"><tbody>\n"
           "<tr><th>Reviewed by</th><td></td></tr>\n"
           "<tr><th>Date</th><td></td></tr>\n"
           "<tr><th>Decision</th><td>accept batch / accept with exclusions "
           "/ reject</td></tr>\n"
           "<tr><th>Samples excluded, and why</th><td></td></tr>\n"
           "<tr><th>Signature</th><td></td></tr>\n</tbody></table>\n");
}

static int find_columns(report *r)
{
    const rtab *s = &r->sum, *q = &r->qc;
    r->c_id = tab_col(s, "sample_id");
    r->c_file = tab_col(s, "file");
    r->c_subj = tab_col(s, "subject");
    r->c_visit = tab_col(s, "visit");
    r->c_status = tab_col(s, "status");
    r->c_qc = tab_col(s, "qc");
    r->c_events = tab_col(s, "events");
    r->c_cd4 = tab_col(s, "cd4_count");
    r->c_treg = tab_col(s, "treg_pct_cd4");
    r->c_th17 = tab_col(s, "th17_pct_cd4");
    r->c_ratio = tab_col(s, "th17_treg_ratio");
    r->c_tdef = tab_col(s, "treg_definition");
    r->c_hdef = tab_col(s, "th17_definition");
    r->c_group = tab_col(s, "group");
    r->c_msg = tab_col(s, "message");
    if (r->c_id != 0 || r->c_status < 0 || r->c_qc < 0)
        return cg_err_setl(r->err, CG_E_PARSE, 1, "summary.tsv: line 1: "
                           "not a cytogate summary (sample_id, status and qc "
                           "columns expected)");
    /* the sheet's other columns lie between group and message */
    r->extra0 = r->extra1 = 0;
    if (r->c_group >= 0 && r->c_msg > r->c_group) {
        r->extra0 = r->c_group + 1;
        r->extra1 = r->c_msg;
    }
    r->q_id = tab_col(q, "sample_id");
    r->q_check = tab_col(q, "check");
    r->q_value = tab_col(q, "value");
    r->q_thr = tab_col(q, "threshold");
    r->q_verdict = tab_col(q, "verdict");
    r->q_detail = tab_col(q, "detail");
    if (q->nrows && (r->q_id < 0 || r->q_check < 0 || r->q_verdict < 0))
        return cg_err_setl(r->err, CG_E_PARSE, 1, "qc.tsv: line 1: not a "
                           "cytogate QC table (sample_id, check and verdict "
                           "columns expected)");
    return 0;
}

/* run.json: present, and written by cytogate. */
static int load_run(report *r)
{
    char *path = cg_path_join(r->src, "run.json");
    if (!path)
        return cg_err_set(r->err, CG_E_NOMEM, "out of memory");
    struct stat st;
    if (stat(r->src, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(path);
        return cg_err_set(r->err, CG_E_ARG, "not a folder");
    }
    json_error_t je;
    r->run = json_load_file(path, 0, &je);
    int64_t size;
    if (!r->run && access(path, F_OK) != 0) {
        cg_err_set(r->err, CG_E_ARG, "not a cytogate run folder (no "
                   "run.json: not a `cytogate run` or `merge` output, or an "
                   "incomplete one)");
    } else if (!r->run) {
        cg_err_setl(r->err, CG_E_ARG, je.line, "run.json: line %d: %s",
                    je.line, je.text);
    } else if (strcmp(jstr(r->run, "program"), "cytogate")) {
        cg_err_set(r->err, CG_E_ARG, "run.json: not written by cytogate");
    } else if (cg_sha256_file(path, r->run_sha, &size) < 0) {
        cg_err_set(r->err, CG_E_IO, "run.json: cannot read: %s",
                   strerror(errno));
    } else {
        free(path);
        return 0;
    }
    free(path);
    return -1;
}

static int build(report *r)
{
    if (load_run(r) < 0)
        return -1;
    if (tab_load(&r->sum, r->src, "summary.tsv", 1, r->err) < 0 ||
        tab_load(&r->qc, r->src, "qc.tsv", 0, r->err) < 0 ||
        find_columns(r) < 0)
        return -1;
    section_head(r);
    section_provenance(r);
    section_samples(r);
    if (section_batch(r) < 0 || section_figures(r) < 0)
        return -1;
    section_inputs(r);
    section_signoff(r);
    put(&r->h, "<p class=\"small\">Written by cytogate ");
    put_esc(&r->h, jstr(r->run, "version"));
    put(&r->h, " (<code>cytogate report</code> rebuilds this page from the "
               "folder).</p>\n<script>");
    put(&r->h, sort_js);
    put(&r->h, "</script>\n</body>\n</html>\n");
    if (r->h.oom)
        return cg_err_set(r->err, CG_E_NOMEM, "report.html: out of memory");
    char *out = cg_path_join(r->dst, "report.html");
    int rc = out ? cg_write_file_atomic(out, r->h.p, r->h.n) : -1;
    if (rc < 0)
        cg_err_set(r->err, CG_E_IO, "report.html: cannot write: %s",
                   strerror(errno));
    free(out);
    return rc;
}

int cg_report_write(const char *src, const char *dst, int nthreads,
                    cg_err *err)
{
    report r;
    memset(&r, 0, sizeof r);
    r.src = src;
    r.dst = dst;
    r.err = err;
    if (nthreads < 1) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = c < 1 ? 1 : c > 8 ? 8 : (int)c;
    }
    r.nthreads = nthreads;
    int rc = build(&r);
    free(r.th);
    json_decref(r.run);
    tab_free(&r.sum);
    tab_free(&r.qc);
    free(r.h.p);
    return rc < 0 ? -1 : 0;
}
