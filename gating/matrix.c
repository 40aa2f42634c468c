/*
 * matrix.c -- named dense matrices (cg_matrix): construction, copies, the
 * FCS spillover conversion and the CSV/TSV reader.
 *
 * CSV layout read (cg_matrix_read_csv):
 *   - separator: tab if the header line holds a tab, else comma; fields
 *     may be wrapped in double quotes; CR, LF and CRLF line ends (FlowJo's
 *     text export uses bare CR);
 *   - an optional FlowJo preamble is skipped: a first line holding a
 *     single field (the matrix name), then optionally the line "<", ">"
 *     (FlowJo's prefix/suffix for compensated names);
 *   - header: column names; when it starts with an empty cell, every row
 *     starts with a row name (the FlowJo/flowCore layout).  A row with one
 *     more field than there are columns whose first field is not a number
 *     is also read as named;
 *   - without row names the rows take the column names (square only).
 * Blank lines are ignored.  Errors name the file and the 1-based line.
 * Threading: no shared state.
 */
#include "comp.h"
#include "readfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fcs/fcs.h"

cg_matrix *cg_matrix_new(int nrow, int ncol)
{
    if (nrow < 1 || ncol < 1 || nrow > 100000 || ncol > 100000)
        return NULL;
    cg_matrix *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nrow = nrow;
    m->ncol = ncol;
    m->row = calloc((size_t)nrow, sizeof *m->row);
    m->col = calloc((size_t)ncol, sizeof *m->col);
    m->v = calloc((size_t)nrow * (size_t)ncol, sizeof *m->v);
    if (!m->row || !m->col || !m->v) {
        cg_matrix_free(m);
        return NULL;
    }
    return m;
}

void cg_matrix_free(cg_matrix *m)
{
    if (!m)
        return;
    if (m->row)
        for (int i = 0; i < m->nrow; i++)
            free(m->row[i]);
    if (m->col)
        for (int j = 0; j < m->ncol; j++)
            free(m->col[j]);
    free(m->row);
    free(m->col);
    free(m->v);
    free(m);
}

static int dup_name(char **dst, const char *src)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

cg_matrix *cg_matrix_copy(const cg_matrix *m)
{
    if (!m)
        return NULL;
    cg_matrix *c = cg_matrix_new(m->nrow, m->ncol);
    if (!c)
        return NULL;
    memcpy(c->v, m->v, (size_t)m->nrow * (size_t)m->ncol * sizeof *c->v);
    for (int i = 0; i < m->nrow; i++)
        if (dup_name(&c->row[i], m->row[i]) < 0)
            goto fail;
    for (int j = 0; j < m->ncol; j++)
        if (dup_name(&c->col[j], m->col[j]) < 0)
            goto fail;
    return c;
fail:
    cg_matrix_free(c);
    return NULL;
}

cg_matrix *cg_matrix_from_spill(const struct fcs_spill *s)
{
    if (!s || s->n < 1)
        return NULL;
    cg_matrix *m = cg_matrix_new(s->n, s->n);
    if (!m)
        return NULL;
    memcpy(m->v, s->m, (size_t)s->n * (size_t)s->n * sizeof *m->v);
    for (int i = 0; i < s->n; i++)
        if (dup_name(&m->row[i], s->names[i]) < 0 ||
            dup_name(&m->col[i], s->names[i]) < 0) {
            cg_matrix_free(m);
            return NULL;
        }
    return m;
}

/* ---- CSV ------------------------------------------------------------- */

typedef struct line_fields {
    int n, cap;
    char **f; /* pointers into the (modified) line buffer */
} line_fields;

/* Split line (modified in place) at sep; trim blanks; strip quotes. */
static int split(char *line, char sep, line_fields *lf)
{
    lf->n = 0;
    char *p = line;
    for (;;) {
        if (lf->n == lf->cap) {
            int cap = lf->cap ? 2 * lf->cap : 32;
            char **nf = realloc(lf->f, (size_t)cap * sizeof *nf);
            if (!nf)
                return -1;
            lf->f = nf;
            lf->cap = cap;
        }
        while (*p == ' ' || (sep != '\t' && *p == '\t'))
            p++;
        char *start = p, *end;
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"')
                p++;
            end = p;
            if (*p == '"')
                p++;
            while (*p && *p != sep)
                p++;
        } else {
            while (*p && *p != sep)
                p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        }
        int last = *p == '\0';
        *end = '\0';
        lf->f[lf->n++] = start;
        if (last)
            return 0;
        p++;
    }
}

static int parse_num(const char *s, double *out)
{
    if (!*s)
        return -1;
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || *e || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static char *slurp(const char *path, cg_err *err)
{
    size_t n = 0;
    cg_err e = {0};
    char *buf = cg_read_file(path, (size_t)64 << 20, &n, &e);
    if (!buf) {
        cg_err_set(err, e.code, "%s: %s%s", path, e.msg,
                   e.code == CG_E_PARSE ? ", not a matrix" : "");
        return NULL;
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        cg_err_set(err, CG_E_PARSE, "%s: binary data (NUL byte), not a "
                   "CSV matrix", path);
        return NULL;
    }
    return buf;
}

/* Next line: returns its start and advances *pos past the line end (CR,
 * LF or CRLF), NUL-terminating it.  NULL at the end. */
static char *next_line(char **pos)
{
    char *s = *pos;
    if (!*s)
        return NULL;
    char *e = s;
    while (*e && *e != '\n' && *e != '\r')
        e++;
    if (*e == '\r' && e[1] == '\n') {
        *e = '\0';
        *pos = e + 2;
    } else if (*e) {
        *e = '\0';
        *pos = e + 1;
    } else {
        *pos = e;
    }
    return s;
}

static int blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* State of one matrix file being read. */
typedef struct mread {
    const char *path;
    cg_err *err;
    char *pos;          /* next unread line */
    line_fields lf;
    int lineno, hdr_line;
    char sep;
    int named;          /* the header starts with an empty cell */
    int ncol, nrow, cap;
    char **cnames, **rnames;
    double *vals;
} mread;

#define MR_NOMEM (-2) /* out of memory; -1: error set */

/* The header row of channel names, after the optional FlowJo preamble (a
 * title line and "<,>" lines).  0, -1 or MR_NOMEM. */
static int mr_header(mread *r)
{
    int stage = 0; /* 0: first line, 1: after a title, 2: header read */
    char *line;
    while (stage < 2 && (line = next_line(&r->pos))) {
        r->lineno++;
        if (blank(line))
            continue;
        r->sep = strchr(line, '\t') ? '\t' : ',';
        if (split(line, r->sep, &r->lf) < 0)
            return MR_NOMEM;
        line_fields *lf = &r->lf;
        if (stage == 0 && lf->n == 1) { /* matrix name */
            stage = 1;
            continue;
        }
        if (lf->n == 2 && !strcmp(lf->f[0], "<") && !strcmp(lf->f[1], ">"))
            continue; /* FlowJo prefix/suffix line */
        r->hdr_line = r->lineno;
        r->named = lf->f[0][0] == '\0';
        r->ncol = lf->n - r->named;
        if (r->ncol < 1)
            return cg_err_setl(r->err, CG_E_PARSE, r->lineno, "%s:%d: header "
                               "names no channels", r->path, r->lineno), -1;
        r->cnames = calloc((size_t)r->ncol, sizeof *r->cnames);
        if (!r->cnames)
            return MR_NOMEM;
        for (int j = 0; j < r->ncol; j++) {
            const char *nm = lf->f[j + r->named];
            double dummy;
            if (!*nm || parse_num(nm, &dummy) == 0)
                return cg_err_setl(r->err, CG_E_PARSE, r->lineno, "%s:%d: "
                                   "header field %d is %s; expected a "
                                   "channel name", r->path, r->lineno,
                                   j + r->named + 1,
                                   *nm ? "a number" : "empty"), -1;
            for (int k = 0; k < j; k++)
                if (!strcmp(r->cnames[k], nm))
                    return cg_err_setl(r->err, CG_E_PARSE, r->lineno,
                                       "%s:%d: channel '%s' named twice",
                                       r->path, r->lineno, nm), -1;
            if (!(r->cnames[j] = strdup(nm)))
                return MR_NOMEM;
        }
        stage = 2;
    }
    if (stage < 2)
        return cg_err_setl(r->err, CG_E_PARSE, r->lineno, "%s:%d: no header "
                           "row of channel names", r->path, r->lineno), -1;
    return 0;
}

/* One numeric row (with a row name when the header has an empty first
 * cell, or when it has one field more than the header and the first is
 * not a number).  0, -1 or MR_NOMEM. */
static int mr_row(mread *r)
{
    line_fields *lf = &r->lf;
    int ncol = r->ncol, lineno = r->lineno;
    double tmp;
    int has_name = r->named || (lf->n == ncol + 1 &&
                                parse_num(lf->f[0], &tmp) < 0);
    if (lf->n != ncol + has_name)
        return cg_err_setl(r->err, CG_E_PARSE, lineno, "%s:%d: %d field(s); "
                           "expected %d (%s%d numbers, as the header on line "
                           "%d)", r->path, lineno, lf->n, ncol + has_name,
                           has_name ? "a row name and " : "", ncol,
                           r->hdr_line), -1;
    if (r->nrow == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        double *nv = realloc(r->vals, (size_t)r->cap * (size_t)ncol *
                             sizeof *nv);
        char **nr = realloc(r->rnames, (size_t)r->cap * sizeof *nr);
        if (nv)
            r->vals = nv;
        if (nr)
            r->rnames = nr;
        if (!nv || !nr)
            return MR_NOMEM;
    }
    r->rnames[r->nrow] = NULL;
    for (int j = 0; j < ncol; j++) {
        const char *f = lf->f[j + has_name];
        if (parse_num(f, &r->vals[(size_t)r->nrow * ncol + j]) < 0)
            return cg_err_setl(r->err, CG_E_PARSE, lineno, "%s:%d: field %d "
                               "('%.40s') is not a finite number", r->path,
                               lineno, j + has_name + 1, f), -1;
    }
    if (has_name) {
        if (!lf->f[0][0])
            return cg_err_setl(r->err, CG_E_PARSE, lineno, "%s:%d: empty "
                               "row name", r->path, lineno), -1;
        if (!(r->rnames[r->nrow] = strdup(lf->f[0])))
            return MR_NOMEM;
    }
    r->nrow++;
    return 0;
}

/* The numeric rows after the header.  0, -1 or MR_NOMEM. */
static int mr_rows(mread *r)
{
    char *line;
    while ((line = next_line(&r->pos))) {
        r->lineno++;
        if (blank(line))
            continue;
        if (split(line, r->sep, &r->lf) < 0)
            return MR_NOMEM;
        int rc = mr_row(r);
        if (rc < 0)
            return rc;
    }
    if (r->nrow == 0)
        return cg_err_setl(r->err, CG_E_PARSE, r->lineno, "%s:%d: no numeric "
                           "rows after the header", r->path, r->lineno), -1;
    for (int i = 0; i < r->nrow; i++)
        if (!r->rnames[i] && r->nrow != r->ncol)
            return cg_err_setl(r->err, CG_E_PARSE, r->lineno, "%s: %d rows of "
                               "%d columns without row names; rows take the "
                               "column names only when the matrix is square",
                               r->path, r->nrow, r->ncol), -1;
    return 0;
}

/* Move what was read into a new matrix; rows without a name take the
 * column's.  NULL when out of memory. */
static cg_matrix *mr_matrix(mread *r)
{
    cg_matrix *m = cg_matrix_new(r->nrow, r->ncol);
    if (!m)
        return NULL;
    memcpy(m->v, r->vals, (size_t)r->nrow * (size_t)r->ncol * sizeof *r->vals);
    for (int j = 0; j < r->ncol; j++) {
        m->col[j] = r->cnames[j];
        r->cnames[j] = NULL;
    }
    for (int i = 0; i < r->nrow; i++) {
        if (r->rnames[i]) {
            m->row[i] = r->rnames[i];
            r->rnames[i] = NULL;
        } else if (!(m->row[i] = strdup(m->col[i]))) {
            cg_matrix_free(m);
            return NULL;
        }
    }
    return m;
}

cg_matrix *cg_matrix_read_csv(const char *path, cg_err *err)
{
    char *buf = slurp(path, err);
    if (!buf)
        return NULL;
    if ((unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        memmove(buf, buf + 3, strlen(buf + 3) + 1); /* UTF-8 BOM */
    mread r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.err = err;
    r.pos = buf;
    r.sep = ',';
    cg_matrix *m = NULL;
    int rc = mr_header(&r);
    if (rc == 0)
        rc = mr_rows(&r);
    if (rc == 0 && !(m = mr_matrix(&r)))
        rc = MR_NOMEM;
    if (rc == MR_NOMEM)
        cg_err_set(err, CG_E_NOMEM, "%s: out of memory", path);
    if (r.cnames)
        for (int j = 0; j < r.ncol; j++)
            free(r.cnames[j]);
    if (r.rnames)
        for (int i = 0; i < r.nrow; i++)
            free(r.rnames[i]);
    free(r.cnames);
    free(r.rnames);
    free(r.vals);
    free(r.lf.f);
    free(buf);
    return m;
}
