/*
 * merge.c -- `cytogate merge` (see merge.h): many run OUTDIRs -> the
 * OUTDIR of one run over all their samples.
 *
 * Reading: each directory's run.json gives its version, config hash and
 * sample list; summary.tsv must have exactly one row per sample, in that
 * order; stats.tsv and qc.tsv rows come in contiguous blocks per sample
 * (sample order, a failed sample may have none).  Only byte offsets of
 * rows are kept, so memory stays small for thousands of directories; the
 * rows are copied from the files when the merged tables are written.
 *
 * Invariants: the merged tables are the header of the first directory
 * (checked equal in all) followed by each sample's rows, unchanged, in
 * the merged order; longitudinal.tsv, the batch figures and run.json come
 * from output.c's writers; every file is written atomically and run.json
 * last, as by `cytogate run`.  Problems are collected over every input
 * before failing, so one invocation names every culprit.
 *
 * Threading: single-threaded; no globals.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "merge.h"
#include "readfile.h"
#include "output.h"
#include "report.h"
#include "qc.h"
#include "util.h"

typedef struct span {
    long off, len; /* len 0: no rows */
} span;

typedef struct mdir {
    const char *dir;   /* borrowed from the caller's argv */
    json_t *run;       /* run.json, owned */
    char *summary_hdr; /* first line of summary.tsv, owned */
    char *stats_hdr, *qc_hdr;
    int first, n;      /* its samples: m->s[first .. first+n) */
} mdir;

typedef struct msample {
    int dir;
    const char *id;    /* borrowed from the directory's run.json */
    char *file, *subject, *visit, *group; /* from samples/<id>.json, owned */
    int role;          /* "role": "control" in the JSON (sheet.h) */
    span sum, stats, qc;
    cg_result r;       /* rebuilt: ok, sha256, size, events, pops, metric */
} msample;

struct cg_merge {
    const cg_config *cfg;
    mdir *d;
    int nd;
    msample *s;        /* directory order */
    int ns;
    int *order;        /* merged position -> index into s */
    cg_sheet *sheet;   /* merged order, owned */
    cg_result *res;    /* merged order: shallow copies of s[].r */
    int nfailed, plots;
    cg_merge_problem_fn fn;
    void *arg;
    int nproblems;
};

static void problem(cg_merge *m, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(cg_merge *m, const char *where, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    m->nproblems++;
    if (m->fn)
        m->fn(m->arg, where, buf);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The sample id as the TSV writers print it (tabs/newlines -> spaces). */
static int cell_is(const char *cell, size_t n, const char *id)
{
    size_t k = 0;
    for (; k < n && id[k]; k++) {
        char c = id[k] == '\t' || id[k] == '\n' || id[k] == '\r' ? ' ' : id[k];
        if (cell[k] != c)
            return 0;
    }
    return k == n && !id[k];
}

/* ------------------------------------------------------- reading ---- */

/* summary.tsv: the header and one row per sample of d, in order. */
static void read_summary(cg_merge *m, mdir *d)
{
    char *path = cg_path_join(d->dir, "summary.tsv");
    size_t n = 0;
    char *buf = path ? cg_read_file(path, 0, &n, NULL) : NULL;
    if (!buf) {
        problem(m, d->dir, "summary.tsv: cannot read: %s", strerror(errno));
        free(path);
        return;
    }
    char *p = buf, *end = buf + n;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
        problem(m, d->dir, "summary.tsv: no header line");
        goto out;
    }
    d->summary_hdr = strndup(p, (size_t)(nl + 1 - p));
    p = nl + 1;
    for (int k = 0; k < d->n; k++) {
        msample *s = &m->s[d->first + k];
        nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl) {
            problem(m, d->dir, "summary.tsv has %d rows, run.json lists %d "
                    "samples", k, d->n);
            goto out;
        }
        char *tab = memchr(p, '\t', (size_t)(nl - p));
        if (!tab || !cell_is(p, (size_t)(tab - p), s->id)) {
            problem(m, d->dir, "summary.tsv row %d is not sample %s (the "
                    "order of run.json)", k + 2, s->id);
            goto out;
        }
        s->sum = (span){p - buf, nl + 1 - p};
        p = nl + 1;
    }
    if (p != end)
        problem(m, d->dir, "summary.tsv has more rows than the %d samples "
                "of run.json", d->n);
out:
    free(buf);
    free(path);
}

/* stats.tsv / qc.tsv: header, then blocks of rows per sample, in sample
 * order; a sample may have no block. */
static void read_blocks(cg_merge *m, mdir *d, const char *name, char **hdr,
                        size_t which)
{
    char *path = cg_path_join(d->dir, name);
    size_t n = 0;
    char *buf = path ? cg_read_file(path, 0, &n, NULL) : NULL;
    if (!buf) {
        problem(m, d->dir, "%s: cannot read: %s", name, strerror(errno));
        free(path);
        return;
    }
    char *p = buf, *end = buf + n;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
        problem(m, d->dir, "%s: no header line", name);
        goto out;
    }
    *hdr = strndup(p, (size_t)(nl + 1 - p));
    p = nl + 1;
    int k = 0;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            problem(m, d->dir, "%s: last line has no newline", name);
            goto out;
        }
        char *tab = memchr(p, '\t', (size_t)(nl - p));
        size_t cl = tab ? (size_t)(tab - p) : (size_t)(nl - p);
        while (k < d->n && !cell_is(p, cl, m->s[d->first + k].id))
            k++;
        if (k == d->n) {
            problem(m, d->dir, "%s: rows of '%.*s' are not a sample of its "
                    "run.json, or out of order", name, (int)cl, p);
            goto out;
        }
        span *sp = (span *)((char *)&m->s[d->first + k] + which);
        if (sp->len == 0)
            sp->off = p - buf;
        else if (sp->off + sp->len != p - buf) {
            problem(m, d->dir, "%s: rows of %s are not contiguous", name,
                    m->s[d->first + k].id);
            goto out;
        }
        sp->len += nl + 1 - p;
        p = nl + 1;
    }
out:
    free(buf);
    free(path);
}

static int gate_count(json_t *pops, int g, int64_t *count, int64_t *parent)
{
    json_t *e = json_array_get(pops, (size_t)g);
    json_t *c = json_object_get(e, "count");
    json_t *pc = json_object_get(e, "parent_count");
    *count = json_is_integer(c) ? (int64_t)json_integer_value(c) : -1;
    *parent = json_is_integer(pc) ? (int64_t)json_integer_value(pc) : -1;
    return e ? 0 : -1;
}

static void read_sample_json(cg_merge *m, mdir *d, msample *s, json_t *js,
                             const char *name);

/* samples/<id>.json -> s->r (what output.h's writers read). */
static void read_sample(cg_merge *m, mdir *d, msample *s)
{
    char name[600];
    snprintf(name, sizeof name, "samples/%s.json", s->id);
    char *path = cg_path_join(d->dir, name);
    json_error_t je;
    json_t *js = path ? json_load_file(path, 0, &je) : NULL;
    free(path);
    if (!js) {
        problem(m, d->dir, "%s: cannot read: %s", name, je.text);
        return;
    }
    read_sample_json(m, d, s, js, name);
    json_decref(js); /* only what the writers need is kept */
}

static void read_sample_json(cg_merge *m, mdir *d, msample *s, json_t *js,
                             const char *name)
{
    const cg_config *cfg = m->cfg;
    if (strcmp(jstr(js, "sample_id"), s->id)) {
        problem(m, d->dir, "%s: sample_id is '%s'", name,
                jstr(js, "sample_id"));
        return;
    }
    s->file = strdup(jstr(js, "file"));
    s->subject = strdup(jstr(js, "subject"));
    s->visit = strdup(jstr(js, "visit"));
    s->group = strdup(jstr(js, "group"));
    s->role = !strcmp(jstr(js, "role"), "control") ? CG_ROLE_CONTROL
                                                   : CG_ROLE_SAMPLE;
    if (!s->file || !s->subject || !s->visit || !s->group) {
        problem(m, d->dir, "out of memory");
        return;
    }
    cg_result *r = &s->r;
    r->ok = !strcmp(jstr(js, "status"), "ok");
    snprintf(r->sha256, sizeof r->sha256, "%s", jstr(js, "sha256"));
    r->file_size = json_integer_value(json_object_get(js, "file_size"));
    r->events = json_integer_value(json_object_get(js, "events"));
    r->events_used = json_integer_value(json_object_get(js, "events_gated"));
    const char *qc = jstr(js, "qc");
    r->qc_verdict = !strcmp(qc, "pass") ? CG_QC_PASS
                    : !strcmp(qc, "warn") ? CG_QC_WARN
                    : !strcmp(qc, "fail") ? CG_QC_FAIL : -1;
    if (!r->ok)
        return;
    json_t *pops = json_object_get(js, "populations");
    if (json_array_size(pops) != (size_t)cfg->ngates) {
        problem(m, d->dir, "%s: %zu populations, the config has %d", name,
                json_array_size(pops), cfg->ngates);
        return;
    }
    r->pops = calloc((size_t)cfg->ngates, sizeof *r->pops);
    r->metric = calloc((size_t)cfg->nmetrics + 1, sizeof *r->metric);
    if (!r->pops || !r->metric) {
        problem(m, d->dir, "out of memory");
        return;
    }
    for (int g = 0; g < cfg->ngates; g++) {
        json_t *e = json_array_get(pops, (size_t)g);
        if (strcmp(jstr(e, "name"), cfg->gates[g].name)) {
            problem(m, d->dir, "%s: population %d is '%s', the config's is "
                    "'%s'", name, g + 1, jstr(e, "name"), cfg->gates[g].name);
            return;
        }
        gate_count(pops, g, &r->pops[g].count, &r->pops[g].parent_count);
    }
    cg_result_pick_headline(cfg, r);
    /* A metric is count(numerator) / count(denominator) (x100 for a
     * percent) -- recomputed from the exact counts, so the deltas of
     * longitudinal.tsv equal a single run's; the JSON value (10 digits)
     * must agree. */
    json_t *met = json_object_get(js, "metrics");
    for (int k = 0; k < cfg->nmetrics; k++) {
        const cg_metric_spec *ms = &cfg->metrics[k];
        json_t *v = json_object_get(json_object_get(met, ms->name), "value");
        r->metric[k] = NAN;
        if (!json_is_number(v))
            continue;
        int ni, di;
        cg_metric_pick(cfg, r, k, &ni, &di);
        int64_t num = r->pops[ni].count, den = r->pops[di].count;
        double x = num >= 0 && den > 0 ? (double)num / (double)den : NAN;
        if (ms->type == CG_METRIC_PERCENT)
            x = 100 * x;
        double j = json_number_value(v);
        if (!(fabs(x - j) <= 1e-9 * fmax(1, fabs(j)))) {
            problem(m, d->dir, "%s: metric %s is %.10g but its counts give "
                    "%.10g", name, ms->name, j, x);
            continue;
        }
        r->metric[k] = x;
    }
}

static void read_dir(cg_merge *m, mdir *d, const char *cfg_sha,
                     const char *csv_sha)
{
    char *path = cg_path_join(d->dir, "run.json");
    json_error_t je;
    d->run = path ? json_load_file(path, 0, &je) : NULL;
    free(path);
    if (!d->run) {
        problem(m, d->dir, "run.json: cannot read (not a finished `cytogate "
                "run` output?): %s", je.text);
        return;
    }
    if (strcmp(jstr(d->run, "program"), "cytogate")) {
        problem(m, d->dir, "run.json was not written by cytogate");
        return;
    }
    int bad = 0;
    const char *ver = jstr(d->run, "version");
    if (strcmp(ver, CYTOGATE_VERSION)) {
        problem(m, d->dir, "made by cytogate %s; this is cytogate %s "
                "(re-run it, or merge with the same version)", ver,
                CYTOGATE_VERSION);
        bad = 1;
    }
    json_t *c = json_object_get(d->run, "config");
    const char *sha = jstr(c, "sha256");
    if (strcmp(sha, cfg_sha)) {
        problem(m, d->dir, "made with config %s (sha256 %.12s...), not %s "
                "(sha256 %.12s...)", jstr(c, "path"), sha, m->cfg->path,
                cfg_sha);
        bad = 1;
    }
    const char *csv = jstr(c, "compensation_csv_sha256");
    if (csv_sha && strcmp(csv, csv_sha)) {
        problem(m, d->dir, "made with compensation CSV %s (sha256 %.12s...), "
                "it now has sha256 %.12s...", jstr(c, "compensation_csv"),
                csv, csv_sha);
        bad = 1;
    }
    if (!json_is_true(json_object_get(d->run, "plots")))
        m->plots = 0;
    json_object_del(d->run, "config"); /* its text: kB per directory */
    if (bad)
        return;
    json_t *in = json_object_get(d->run, "inputs");
    size_t n = json_array_size(in);
    if (n == 0) {
        problem(m, d->dir, "run.json lists no samples");
        return;
    }
    msample *ns = realloc(m->s, ((size_t)m->ns + n) * sizeof *ns);
    if (!ns) {
        problem(m, d->dir, "out of memory");
        return;
    }
    m->s = ns;
    memset(&m->s[m->ns], 0, n * sizeof *ns);
    d->first = m->ns;
    d->n = (int)n;
    for (size_t k = 0; k < n; k++) {
        msample *s = &m->s[m->ns + (int)k];
        s->dir = (int)(d - m->d);
        s->id = jstr(json_array_get(in, k), "sample_id");
        s->r.qc_verdict = -1;
    }
    m->ns += (int)n;
    for (int k = 0; k < d->n; k++)
        read_sample(m, d, &m->s[d->first + k]);
    read_summary(m, d);
    read_blocks(m, d, "stats.tsv", &d->stats_hdr, offsetof(msample, stats));
    read_blocks(m, d, "qc.tsv", &d->qc_hdr, offsetof(msample, qc));
}

/* ------------------------------------------------------ ordering ---- */

typedef struct idref {
    const char *id;
    int k; /* index into m->s */
} idref;

static int id_cmp(const void *a, const void *b)
{
    const idref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->k > y->k) - (x->k < y->k);
}

static int find_id(const idref *byid, int n, const char *id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(byid[mid].id, id);
        if (!c)
            return byid[mid].k;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The header cg_write_summary gives for this config and sheet. */
static char *sheet_header(const cg_config *cfg, const cg_sheet *sh)
{
    cg_sheet empty = *sh;
    empty.n = 0;
    cg_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = cfg;
    ctx.sheet = &empty;
    char *txt = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&txt, &n);
    if (!fp)
        return NULL;
    int rc = cg_write_summary(fp, &ctx, NULL);
    if (fclose(fp) != 0 || rc < 0) {
        free(txt);
        return NULL;
    }
    return txt;
}

static int same_text(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* Order by the sheet; check it against the results. */
static void order_by_sheet(cg_merge *m, const char *sheet_path,
                           const idref *byid, cg_err *err)
{
    cg_sheet *sh = cg_sheet_read(sheet_path, err);
    if (!sh) {
        char where[600];
        if (err->line)
            snprintf(where, sizeof where, "%s:%d", sheet_path, err->line);
        else
            snprintf(where, sizeof where, "%s", sheet_path);
        problem(m, where, "%s", err->msg);
        return;
    }
    m->sheet = sh;
    char *used = calloc((size_t)m->ns + 1, 1);
    m->order = calloc((size_t)sh->n + 1, sizeof *m->order);
    if (!used || !m->order) {
        free(used);
        problem(m, sheet_path, "out of memory");
        return;
    }
    for (int i = 0; i < sh->n; i++) {
        const cg_sample *c = &sh->s[i];
        int k = find_id(byid, m->ns, c->sample_id);
        m->order[i] = k;
        if (k < 0) {
            problem(m, sheet_path, "line %d: sample %s has no result in the "
                    "directories given", c->line, c->sample_id);
            continue;
        }
        used[k] = 1;
        const msample *s = &m->s[k];
        const char *what = !same_text(s->file, c->file_given) ? "file"
                           : !same_text(s->subject, c->subject) ? "subject"
                           : !same_text(s->visit, c->visit) ? "visit"
                           : !same_text(s->group, c->group) ? "group" : NULL;
        if (what)
            problem(m, m->d[s->dir].dir, "sample %s: its %s differs from "
                    "line %d of %s (made from another sheet?)", s->id, what,
                    c->line, sheet_path);
    }
    for (int k = 0; k < m->ns; k++)
        if (!used[k])
            problem(m, m->d[m->s[k].dir].dir, "sample %s is not in %s",
                    m->s[k].id, sheet_path);
    free(used);
    char *hdr = sheet_header(m->cfg, sh);
    for (int i = 0; hdr && i < m->nd; i++)
        if (m->d[i].summary_hdr && strcmp(m->d[i].summary_hdr, hdr))
            problem(m, m->d[i].dir, "summary.tsv columns differ from those "
                    "%s gives (other sheet columns?)", sheet_path);
    free(hdr);
}

/* No sheet: directory order; the sample list is rebuilt from the JSON. */
static void order_by_dirs(cg_merge *m)
{
    cg_sheet *sh = calloc(1, sizeof *sh);
    m->order = calloc((size_t)m->ns + 1, sizeof *m->order);
    if (sh)
        sh->s = calloc((size_t)m->ns + 1, sizeof *sh->s);
    if (!sh || !sh->s || !m->order) {
        free(sh ? sh->s : NULL);
        free(sh);
        problem(m, "merge", "out of memory");
        return;
    }
    m->sheet = sh;
    for (int i = 0; i < m->ns; i++) {
        const msample *s = &m->s[i];
        cg_sample *c = &sh->s[sh->n++];
        m->order[i] = i;
        c->file = strdup(s->file ? s->file : "");
        c->file_given = strdup(s->file ? s->file : "");
        c->sample_id = strdup(s->id);
        c->subject = strdup(s->subject ? s->subject : "");
        c->visit = strdup(s->visit ? s->visit : "");
        c->group = strdup(s->group ? s->group : "");
        if (!c->file || !c->file_given || !c->sample_id || !c->subject ||
            !c->visit || !c->group) {
            problem(m, "merge", "out of memory");
            return;
        }
        sh->has_subject |= *c->subject != 0;
        sh->has_visit |= *c->visit != 0;
        c->role = s->role; /* batch control: not in longitudinal.tsv */
        sh->has_control |= c->role == CG_ROLE_CONTROL;
    }
}

/* --------------------------------------------------------- open ---- */

cg_merge *cg_merge_open(const cg_config *cfg, int ndirs, char *const *dirs,
                        const char *sheet_path, cg_merge_problem_fn fn,
                        void *arg, cg_err *err)
{
    cg_merge *m = calloc(1, sizeof *m);
    if (!m || ndirs < 1) {
        free(m);
        cg_err_set(err, ndirs < 1 ? CG_E_ARG : CG_E_NOMEM,
                   ndirs < 1 ? "no result directories" : "out of memory");
        return NULL;
    }
    m->cfg = cfg;
    m->fn = fn;
    m->arg = arg;
    m->plots = 1;
    m->d = calloc((size_t)ndirs, sizeof *m->d);
    if (!m->d) {
        free(m);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    m->nd = ndirs;
    char cfg_sha[65], csv_sha[65];
    cg_sha256_buf(cfg->text, cfg->text_len, cfg_sha);
    int64_t sz;
    int have_csv = cfg->comp_mode == CG_CMP_CSV &&
                   cg_sha256_file(cfg->comp_path, csv_sha, &sz) == 0;
    for (int i = 0; i < ndirs; i++) {
        m->d[i].dir = dirs[i];
        int twice = 0;
        for (int j = 0; j < i && !twice; j++)
            twice = !strcmp(dirs[j], dirs[i]);
        if (twice)
            problem(m, dirs[i], "given twice");
        else
            read_dir(m, &m->d[i], cfg_sha, have_csv ? csv_sha : NULL);
    }
    for (int i = 1; i < ndirs; i++) {
        const mdir *a = &m->d[0], *b = &m->d[i];
        if (!a->summary_hdr || !b->summary_hdr)
            continue;
        if (strcmp(a->summary_hdr, b->summary_hdr))
            problem(m, b->dir, "summary.tsv columns differ from those of %s "
                    "(other sample sheet columns?)", a->dir);
        else if (!same_text(a->stats_hdr, b->stats_hdr) ||
                 !same_text(a->qc_hdr, b->qc_hdr))
            problem(m, b->dir, "stats.tsv or qc.tsv columns differ from "
                    "those of %s", a->dir);
    }
    /* duplicate sample ids */
    idref *byid = calloc((size_t)m->ns + 1, sizeof *byid);
    if (!byid) {
        cg_merge_free(m);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int k = 0; k < m->ns; k++)
        byid[k] = (idref){m->s[k].id, k};
    qsort(byid, (size_t)m->ns, sizeof *byid, id_cmp);
    for (int k = 1; k < m->ns; k++) {
        const msample *a = &m->s[byid[k - 1].k], *b = &m->s[byid[k].k];
        if (!strcmp(a->id, b->id))
            problem(m, m->d[b->dir].dir, "sample %s is also in %s: sample "
                    "ids must be unique", b->id, m->d[a->dir].dir);
    }
    if (m->nproblems == 0) {
        if (sheet_path)
            order_by_sheet(m, sheet_path, byid, err);
        else
            order_by_dirs(m);
    }
    free(byid);
    if (m->nproblems) {
        cg_err_set(err, CG_E_DATA, "%d problem%s: nothing merged",
                   m->nproblems, m->nproblems > 1 ? "s" : "");
        cg_merge_free(m);
        return NULL;
    }
    m->res = calloc((size_t)m->sheet->n + 1, sizeof *m->res);
    if (!m->res) {
        cg_merge_free(m);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < m->sheet->n; i++) {
        m->res[i] = m->s[m->order[i]].r; /* shallow: s[] owns the arrays */
        m->nfailed += !m->res[i].ok;
    }
    return m;
}

const cg_sheet *cg_merge_sheet(const cg_merge *m) { return m->sheet; }
const cg_result *cg_merge_results(const cg_merge *m) { return m->res; }
int cg_merge_nfailed(const cg_merge *m) { return m->nfailed; }
int cg_merge_has_plots(const cg_merge *m) { return m->plots; }

void cg_merge_free(cg_merge *m)
{
    if (!m)
        return;
    for (int k = 0; k < m->ns; k++) {
        free(m->s[k].r.pops);
        free(m->s[k].r.metric);
        free(m->s[k].file);
        free(m->s[k].subject);
        free(m->s[k].visit);
        free(m->s[k].group);
    }
    free(m->s);
    for (int i = 0; i < m->nd; i++) {
        json_decref(m->d[i].run);
        free(m->d[i].summary_hdr);
        free(m->d[i].stats_hdr);
        free(m->d[i].qc_hdr);
    }
    free(m->d);
    free(m->order);
    free(m->res);
    cg_sheet_free(m->sheet);
    free(m);
}

/* -------------------------------------------------------- writing ---- */

/* Copy [off, off+len) of dir/name to out. */
static int copy_span(FILE *out, const char *dir, const char *name, span sp,
                     cg_err *err)
{
    if (sp.len == 0)
        return 0;
    char *path = cg_path_join(dir, name);
    FILE *fp = path ? fopen(path, "rb") : NULL;
    char *buf = malloc((size_t)sp.len);
    int ok = fp && buf && fseek(fp, sp.off, SEEK_SET) == 0 &&
             fread(buf, 1, (size_t)sp.len, fp) == (size_t)sp.len;
    int e = errno;
    if (ok)
        fwrite(buf, 1, (size_t)sp.len, out);
    else
        cg_err_set(err, CG_E_IO, "%s: cannot read it again: %s",
                   path ? path : name, strerror(e ? e : EIO));
    if (fp)
        fclose(fp);
    free(buf);
    free(path);
    return ok ? 0 : -1;
}

static int merge_table(const cg_merge *m, const char *outdir,
                       const char *name, const char *hdr, size_t which,
                       int safe_tsv, cg_err *err)
{
    char *path = cg_path_join(outdir, name);
    if (!path)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    cg_atomic a;
    FILE *fp = cg_atomic_open(&a, path);
    if (!fp) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    /* --safe-tsv: the rows through cg_tsv_safe_copy (idempotent, so rows
     * of runs made with --safe-tsv come out unchanged) */
    char *mbuf = NULL;
    size_t mn = 0;
    FILE *out = safe_tsv ? open_memstream(&mbuf, &mn) : fp;
    int rc = out ? 0 : -1;
    if (out)
        fputs(hdr, out);
    for (int i = 0; rc == 0 && i < m->sheet->n; i++) {
        const msample *s = &m->s[m->order[i]];
        span sp = *(const span *)((const char *)s + which);
        if (copy_span(out, m->d[s->dir].dir, name, sp, err) < 0)
            rc = -2; /* err says which input */
    }
    errno = 0;
    if (rc == 0 && ferror(out))
        rc = -1;
    if (out && out != fp && fclose(out) != 0 && rc == 0)
        rc = -1;
    if (rc == 0 && out != fp)
        rc = cg_tsv_safe_copy(fp, mbuf, mn);
    free(mbuf);
    int e = errno ? errno : EIO;
    if (rc == 0 && ferror(fp))
        rc = -1;
    if (rc < 0) {
        cg_atomic_abort(&a);
        if (rc == -1)
            cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path,
                       strerror(e));
        free(path);
        return -1;
    }
    if (cg_atomic_commit(&a) < 0) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

/* src (a file) to dst, atomically. */
static int copy_file(const char *src, const char *dst, cg_err *err)
{
    size_t n = 0;
    char *buf = cg_read_file(src, 0, &n, NULL);
    if (!buf)
        return cg_err_set(err, CG_E_IO, "%s: cannot read: %s", src,
                          strerror(errno));
    int rc = cg_write_file_atomic(dst, buf, n);
    free(buf);
    if (rc < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot write: %s", dst,
                          strerror(errno));
    return 0;
}

/* plots/<id>/ of a per-sample run: every regular file, by name. */
static int copy_plot_dir(const char *src, const char *dst, cg_err *err)
{
    DIR *d = opendir(src);
    if (!d)
        return errno == ENOENT ? 0 : cg_err_set(err, CG_E_IO,
                   "%s: cannot open: %s", src, strerror(errno));
    if (cg_mkdir_p(dst) < 0) {
        closedir(d);
        return cg_err_set(err, CG_E_IO, "%s: cannot create: %s", dst,
                          strerror(errno));
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *s = cg_path_join(src, de->d_name);
        char *t = cg_path_join(dst, de->d_name);
        struct stat st;
        if (!s || !t)
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        else if (stat(s, &st) == 0 && S_ISREG(st.st_mode))
            rc = copy_file(s, t, err);
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

/* gatingml/<id>.xml of a run made with --export-gatingml (issue 16):
 * copied when the input run has it, nothing when it has not. */
static int copy_gml(const char *dir, const char *outdir, const char *id,
                    cg_err *err)
{
    char name[600];
    snprintf(name, sizeof name, "gatingml/%s.xml", id);
    char *src = cg_path_join(dir, name), *dst = cg_path_join(outdir, name);
    char *gdir = cg_path_join(outdir, "gatingml");
    struct stat st;
    int rc = 0;
    if (!src || !dst || !gdir)
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    else if (stat(src, &st) == 0 && S_ISREG(st.st_mode))
        rc = cg_mkdir_p(gdir) < 0
                 ? cg_err_set(err, CG_E_IO, "%s: cannot create: %s", gdir,
                              strerror(errno))
                 : copy_file(src, dst, err);
    free(src);
    free(dst);
    free(gdir);
    return rc;
}

static int copy_samples(const cg_merge *m, const char *outdir, int plots,
                        cg_err *err)
{
    char *sdir = cg_path_join(outdir, "samples");
    if (!sdir || cg_mkdir_p(sdir) < 0) {
        cg_err_set(err, CG_E_IO, "%s/samples: cannot create: %s", outdir,
                   strerror(errno));
        free(sdir);
        return -1;
    }
    free(sdir);
    int rc = 0;
    for (int i = 0; rc == 0 && i < m->sheet->n; i++) {
        const msample *s = &m->s[m->order[i]];
        const char *dir = m->d[s->dir].dir;
        char name[600];
        snprintf(name, sizeof name, "samples/%s.json", s->id);
        char *src = cg_path_join(dir, name), *dst = cg_path_join(outdir, name);
        rc = src && dst ? copy_file(src, dst, err)
                        : cg_err_set(err, CG_E_NOMEM, "out of memory");
        free(src);
        free(dst);
        if (rc == 0)
            rc = copy_gml(dir, outdir, s->id, err);
        if (rc == 0 && plots) {
            snprintf(name, sizeof name, "plots/%s", s->id);
            src = cg_path_join(dir, name);
            dst = cg_path_join(outdir, name);
            rc = src && dst ? copy_plot_dir(src, dst, err)
                            : cg_err_set(err, CG_E_NOMEM, "out of memory");
            free(src);
            free(dst);
        }
    }
    return rc < 0 ? -1 : 0;
}

int cg_merge_write(const cg_merge *m, const cg_run_ctx *ctx,
                   const char *start_time, int argc, char **argv,
                   int safe_tsv, cg_err *err)
{
    const char *dir = ctx->opts.outdir;
    if (cg_mkdir_p(dir) < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot create: %s", dir,
                          strerror(errno));
    const mdir *d0 = &m->d[0];
    if (merge_table(m, dir, "summary.tsv", d0->summary_hdr,
                    offsetof(msample, sum), safe_tsv, err) < 0 ||
        merge_table(m, dir, "stats.tsv", d0->stats_hdr,
                    offsetof(msample, stats), safe_tsv, err) < 0 ||
        merge_table(m, dir, "qc.tsv", d0->qc_hdr, offsetof(msample, qc),
                    safe_tsv, err) < 0)
        return -1;
    if (m->sheet->has_subject && m->sheet->has_visit &&
        cg_write_table(dir, "longitudinal.tsv", cg_write_longitudinal, ctx,
                       m->res, safe_tsv, err) < 0)
        return -1;
    if (copy_samples(m, dir, ctx->opts.plots, err) < 0)
        return -1;
    if (ctx->opts.plots) {
        char *pdir = cg_path_join(dir, "plots");
        if (!pdir || cg_mkdir_p(pdir) < 0) {
            cg_err_set(err, CG_E_IO, "%s/plots: cannot create: %s", dir,
                       strerror(errno));
            free(pdir);
            return -1;
        }
        int nb = cg_write_batch_plots(ctx, m->res, pdir, err);
        free(pdir);
        if (nb)
            return -1;
    }
    /* run.json last, as for a run: the single run's provenance, plus
     * where the samples were processed */
    json_t *rj = cg_run_json(ctx, m->res, start_time, argc, argv);
    json_t *from = json_array();
    for (int i = 0; rj && from && i < m->nd; i++) {
        json_t *r = m->d[i].run;
        json_t *e = json_object();
        json_object_set_new(e, "dir", json_string(m->d[i].dir));
        json_object_set(e, "command", json_object_get(r, "command"));
        json_object_set(e, "start_time", json_object_get(r, "start_time"));
        json_object_set(e, "threads", json_object_get(r, "threads"));
        json_t *ids = json_array();
        for (int k = 0; k < m->d[i].n; k++)
            json_array_append_new(ids, json_string(m->s[m->d[i].first + k].id));
        json_object_set_new(e, "samples", ids);
        json_array_append_new(from, e);
    }
    if (rj && from)
        json_object_set_new(rj, "merged_from", from);
    else
        json_decref(from);
    char *rp = cg_path_join(dir, "run.json");
    int rc = rp && rj ? cg_write_json_file(rp, rj) : -1;
    if (rc < 0)
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", rp ? rp : "run.json",
                   strerror(errno));
    json_decref(rj);
    free(rp);
    if (rc == 0) /* the review report reads run.json (issue 21) */
        rc = cg_report_write(dir, dir, 0, err);
    return rc;
}
