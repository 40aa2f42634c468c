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

cg_matrix *cg_matrix_read_csv(const char *path, cg_err *err)
{
    char *buf = slurp(path, err);
    if (!buf)
        return NULL;
    if ((unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        memmove(buf, buf + 3, strlen(buf + 3) + 1); /* UTF-8 BOM */
    line_fields lf = {0};
    cg_matrix *m = NULL;
    double *vals = NULL;
    char **rnames = NULL;
    char **cnames = NULL;
    int ncol = 0, nrow = 0, cap = 0, lineno = 0, named = 0, hdr_line = 0;
    char sep = ',';
    char *pos = buf, *line;

    /* header, after the optional FlowJo preamble */
    int stage = 0; /* 0: first line, 1: after a title, 2: header read */
    while (stage < 2 && (line = next_line(&pos))) {
        lineno++;
        if (blank(line))
            continue;
        sep = strchr(line, '\t') ? '\t' : ',';
        if (split(line, sep, &lf) < 0)
            goto nomem;
        if (stage == 0 && lf.n == 1) { /* matrix name */
            stage = 1;
            continue;
        }
        if (lf.n == 2 && !strcmp(lf.f[0], "<") && !strcmp(lf.f[1], ">"))
            continue; /* FlowJo prefix/suffix line */
        hdr_line = lineno;
        named = lf.f[0][0] == '\0';
        ncol = lf.n - named;
        if (ncol < 1) {
            cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: header names no "
                        "channels", path, lineno);
            goto fail;
        }
        cnames = calloc((size_t)ncol, sizeof *cnames);
        if (!cnames)
            goto nomem;
        for (int j = 0; j < ncol; j++) {
            const char *nm = lf.f[j + named];
            double dummy;
            if (!*nm || parse_num(nm, &dummy) == 0) {
                cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: header field "
                            "%d is %s; expected a channel name", path,
                            lineno, j + named + 1,
                            *nm ? "a number" : "empty");
                goto fail;
            }
            for (int k = 0; k < j; k++)
                if (!strcmp(cnames[k], nm)) {
                    cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: channel "
                                "'%s' named twice", path, lineno, nm);
                    goto fail;
                }
            if (!(cnames[j] = strdup(nm)))
                goto nomem;
        }
        stage = 2;
    }
    if (stage < 2) {
        cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: no header row of "
                    "channel names", path, lineno);
        goto fail;
    }
    /* numeric rows */
    while ((line = next_line(&pos))) {
        lineno++;
        if (blank(line))
            continue;
        if (split(line, sep, &lf) < 0)
            goto nomem;
        double tmp;
        int has_name = named || (lf.n == ncol + 1 &&
                                 parse_num(lf.f[0], &tmp) < 0);
        if (lf.n != ncol + has_name) {
            cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: %d field(s); "
                        "expected %d (%s%d numbers, as the header on line "
                        "%d)", path, lineno, lf.n, ncol + has_name,
                        has_name ? "a row name and " : "", ncol, hdr_line);
            goto fail;
        }
        if (nrow == cap) {
            cap = cap ? 2 * cap : 16;
            double *nv = realloc(vals, (size_t)cap * (size_t)ncol *
                                 sizeof *nv);
            char **nr = realloc(rnames, (size_t)cap * sizeof *nr);
            if (nv)
                vals = nv;
            if (nr)
                rnames = nr;
            if (!nv || !nr)
                goto nomem;
        }
        rnames[nrow] = NULL;
        for (int j = 0; j < ncol; j++) {
            const char *f = lf.f[j + has_name];
            if (parse_num(f, &vals[(size_t)nrow * ncol + j]) < 0) {
                cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: field %d "
                            "('%.40s') is not a finite number", path, lineno,
                            j + has_name + 1, f);
                goto fail;
            }
        }
        if (has_name) {
            if (!lf.f[0][0]) {
                cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: empty row "
                            "name", path, lineno);
                goto fail;
            }
            if (!(rnames[nrow] = strdup(lf.f[0])))
                goto nomem;
        }
        nrow++;
    }
    if (nrow == 0) {
        cg_err_setl(err, CG_E_PARSE, lineno, "%s:%d: no numeric rows after "
                    "the header", path, lineno);
        goto fail;
    }
    for (int i = 0; i < nrow; i++)
        if (!rnames[i] && nrow != ncol) {
            cg_err_setl(err, CG_E_PARSE, lineno, "%s: %d rows of %d "
                        "columns without row names; rows take the column "
                        "names only when the matrix is square", path, nrow,
                        ncol);
            goto fail;
        }
    m = cg_matrix_new(nrow, ncol);
    if (!m)
        goto nomem;
    memcpy(m->v, vals, (size_t)nrow * (size_t)ncol * sizeof *vals);
    for (int j = 0; j < ncol; j++) {
        m->col[j] = cnames[j];
        cnames[j] = NULL;
    }
    for (int i = 0; i < nrow; i++) {
        if (rnames[i]) {
            m->row[i] = rnames[i];
            rnames[i] = NULL;
        } else if (!(m->row[i] = strdup(m->col[i]))) {
            goto nomem;
        }
    }
    goto done;
nomem:
    cg_err_set(err, CG_E_NOMEM, "%s: out of memory", path);
fail:
    cg_matrix_free(m);
    m = NULL;
done:
    if (cnames)
        for (int j = 0; j < ncol; j++)
            free(cnames[j]);
    if (rnames)
        for (int i = 0; i < nrow; i++)
            free(rnames[i]);
    free(cnames);
    free(rnames);
    free(vals);
    free(lf.f);
    free(buf);
    return m;
}
