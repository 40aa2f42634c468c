/*
 * sheet.c -- sample sheets (CSV) and command-line sample lists (see
 * sheet.h).
 *
 * The CSV reader is a small state machine over the whole buffer: fields
 * may be quoted (with "" escapes and embedded commas/newlines); a quote
 * inside an unquoted field, or text after a closing quote, is an error
 * naming the line.  Rows are kept in sheet order; that order is the order
 * of every output.  No globals; thread-safe.
 */
#include "sheet.h"
#include "readfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

/* ---- a growable list of strings (one CSV row) ------------------------- */
typedef struct row {
    char **f;
    int n, cap;
    int line;
} row;

static void row_free(row *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
    memset(r, 0, sizeof *r);
}

static int row_push(row *r, const char *s, size_t len)
{
    if (r->n == r->cap) {
        int nc = r->cap ? r->cap * 2 : 8;
        char **nf = realloc(r->f, (size_t)nc * sizeof *nf);
        if (!nf)
            return -1;
        r->f = nf;
        r->cap = nc;
    }
    char *v = malloc(len + 1);
    if (!v)
        return -1;
    memcpy(v, s, len);
    v[len] = '\0';
    r->f[r->n++] = v;
    return 0;
}

/* Read one record starting at *pos; fills r (cleared first).  Returns 1 on
 * a record, 0 at end of input, -1 on error (err set).  *line is the
 * current 1-based line and is advanced past the record. */
static int csv_record(const char *b, size_t n, size_t *pos, int *line, row *r,
                      cg_err *err)
{
    row_free(r);
    if (*pos >= n)
        return 0;
    r->line = *line;
    size_t cap = 256, len = 0;
    char *fld = malloc(cap);
    if (!fld)
        return cg_err_set(err, CG_E_NOMEM, "out of memory"), -1;
    size_t i = *pos;
    int quoted = 0, after_quote = 0;
    for (;;) {
        int end = i >= n;
        char ch = end ? '\n' : b[i];
        if (quoted) {
            if (end) {
                free(fld);
                cg_err_setl(err, CG_E_PARSE, r->line,
                            "unterminated quoted field");
                return -1;
            }
            if (ch == '"') {
                if (i + 1 < n && b[i + 1] == '"') {
                    ch = '"';
                    i++;
                } else {
                    quoted = 0;
                    after_quote = 1;
                    i++;
                    continue;
                }
            } else if (ch == '\n') {
                (*line)++;
            }
        } else if (ch == ',' || ch == '\n' || ch == '\r') {
            if (ch == '\r' && i + 1 < n && b[i + 1] != '\n') {
                free(fld);
                cg_err_setl(err, CG_E_PARSE, *line, "bare carriage return");
                return -1;
            }
            if (ch == '\r') {
                i++;
                continue; /* the '\n' follows */
            }
            if (row_push(r, fld, len) < 0) {
                free(fld);
                return cg_err_set(err, CG_E_NOMEM, "out of memory"), -1;
            }
            len = 0;
            after_quote = 0;
            if (ch == '\n') {
                if (!end)
                    i++;
                (*line)++;
                break;
            }
            i++;
            continue;
        } else if (after_quote) {
            free(fld);
            cg_err_setl(err, CG_E_PARSE, *line,
                        "text after a closing quote (field %d)", r->n + 1);
            return -1;
        } else if (ch == '"') {
            if (len != 0) {
                free(fld);
                cg_err_setl(err, CG_E_PARSE, *line,
                            "quote inside an unquoted field (field %d)",
                            r->n + 1);
                return -1;
            }
            quoted = 1;
            i++;
            continue;
        } else if (ch == '\0') {
            free(fld);
            cg_err_setl(err, CG_E_PARSE, *line, "NUL byte in the sheet");
            return -1;
        }
        if (len + 1 >= cap) {
            char *nf = realloc(fld, cap * 2);
            if (!nf) {
                free(fld);
                return cg_err_set(err, CG_E_NOMEM, "out of memory"), -1;
            }
            fld = nf;
            cap *= 2;
        }
        fld[len++] = ch;
        i++;
    }
    free(fld);
    *pos = i;
    return 1;
}

static int row_blank(const row *r)
{
    for (int i = 0; i < r->n; i++)
        for (const char *p = r->f[i]; *p; p++)
            if (*p != ' ' && *p != '\t')
                return 0;
    return 1;
}

static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return strndup(s, n);
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/' || !strcmp(dir, "."))
        return strdup(p);
    return cg_path_join(dir, p);
}

char *cg_sample_id_from_path(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *id = strdup(b);
    if (!id)
        return NULL;
    size_t n = strlen(id);
    if (n > 3 && !strcasecmp(id + n - 3, ".gz"))
        id[n -= 3] = '\0';
    if (n > 4 && (!strcasecmp(id + n - 4, ".fcs") ||
                  !strcasecmp(id + n - 4, ".lmd")))
        id[n - 4] = '\0';
    return id;
}

static void sample_clear(cg_sample *s, int nextra);

void cg_sheet_free(cg_sheet *sh)
{
    if (!sh)
        return;
    for (int i = 0; i < sh->n; i++)
        sample_clear(&sh->s[i], sh->nextra);
    free(sh->s);
    for (int k = 0; k < sh->nextra; k++)
        free(sh->extra_names[k]);
    free(sh->extra_names);
    free(sh->path);
    free(sh);
}

static void sample_clear(cg_sample *s, int nextra)
{
    free(s->file);
    free(s->file_given);
    free(s->sample_id);
    free(s->subject);
    free(s->visit);
    free(s->group);
    free(s->compensation);
    for (int k = 0; k < nextra; k++)
        free(s->extra ? s->extra[k] : NULL);
    free(s->extra);
}

int cg_sheet_select(cg_sheet *sh, int nids, char *const *ids, cg_err *err)
{
    for (int j = 0; j < nids; j++) {
        for (int k = 0; k < j; k++)
            if (!strcmp(ids[k], ids[j]))
                return cg_err_set(err, CG_E_ARG, "sample '%s' is selected "
                                  "twice", ids[j]);
        int found = 0;
        for (int i = 0; i < sh->n && !found; i++)
            found = !strcmp(sh->s[i].sample_id, ids[j]);
        if (!found)
            return cg_err_set(err, CG_E_ARG, "no sample '%s' in %s", ids[j],
                              sh->path ? sh->path : "the inputs");
    }
    int m = 0;
    for (int i = 0; i < sh->n; i++) {
        int keep = 0;
        for (int j = 0; j < nids && !keep; j++)
            keep = !strcmp(sh->s[i].sample_id, ids[j]);
        if (keep)
            sh->s[m++] = sh->s[i];
        else
            sample_clear(&sh->s[i], sh->nextra);
    }
    sh->n = m;
    return 0;
}

/* Why id cannot name the sample's files (samples/<id>.json,
 * plots/<id>/), or NULL: 1..CG_SAMPLE_ID_MAX bytes of valid UTF-8, no
 * control characters, none of / \\ : * ? " < > | (Windows shares too), not
 * starting with '.' (hidden; "." and "..") nor with - = + @ (an option to
 * a shell, a formula to a spreadsheet). */
static const char *id_problem(const char *id)
{
    size_t n = strlen(id);
    if (n == 0)
        return "is empty";
    if (n > CG_SAMPLE_ID_MAX)
        return "is longer than " CG_STR(CG_SAMPLE_ID_MAX) " bytes";
    if (strchr(".-=+@", id[0]))
        return "starts with '.', '-', '=', '+' or '@'";
    const unsigned char *p = (const unsigned char *)id;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20 || c == 0x7f)
            return "has a control character (tab, newline...)";
        if (strchr("/\\:*?\"<>|", (int)c))
            return "has one of / \\ : * ? \" < > |";
        if (c < 0x80) {
            p++;
            continue;
        }
        int k = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1
                                                                     : -1;
        if (c >= 0xf5 || k < 0)
            return "is not valid UTF-8";
        for (int j = 1; j <= k; j++)
            if ((p[j] & 0xc0) != 0x80)
                return "is not valid UTF-8";
        p += k + 1;
    }
    return NULL;
}

static int check_ids(cg_sheet *sh, cg_err *err)
{
    for (int i = 0; i < sh->n; i++) {
        const cg_sample *s = &sh->s[i];
        const char *id = s->sample_id;
        const char *why = id_problem(id);
        if (why) {
            /* a long id is cut in the message, which stays one line */
            const char *more = strlen(id) > 60 ? "..." : "";
            if (s->line)
                return cg_err_setl(err, CG_E_PARSE, s->line, "sample_id "
                                   "'%.60s%s' (%zu bytes) %s, so it cannot "
                                   "be used as a file name", id, more,
                                   strlen(id), why);
            return cg_err_set(err, CG_E_ARG, "%s: sample_id '%.60s%s' (%zu "
                              "bytes, from the file name) %s, so it cannot "
                              "be used as a file name: use a sample sheet "
                              "with a sample_id column",
                              s->file_given, id, more, strlen(id), why);
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(sh->s[k].sample_id, id)) {
                if (s->line)
                    return cg_err_setl(err, CG_E_PARSE, s->line,
                                       "sample_id '%s' repeats line %d", id,
                                       sh->s[k].line);
                return cg_err_set(err, CG_E_ARG, "sample_id '%s' is used by "
                                  "both %s and %s; use a sample sheet with "
                                  "distinct sample_id values", id,
                                  sh->s[k].file, s->file);
            }
    }
    return 0;
}

/* Column roles of a sheet header; extra columns map to their index >= 0. */
enum { C_FILE = -2, C_ID = -3, C_SUBJ = -4, C_VISIT = -5, C_GROUP = -6,
       C_COMP = -7, C_ROLE = -8 };

#define SH_NOMEM (-2) /* out of memory; -1: err set */

/* Map the header row's columns to roles (map[c]) and collect the extra
 * column names in sh.  0, -1 or SH_NOMEM. */
static int sheet_header(cg_sheet *sh, const row *r, int *map, cg_err *err)
{
    int ncol = r->n, hdr_line = r->line, have_file = 0;
    for (int c = 0; c < ncol; c++) {
        char *h = trim_dup(r->f[c]);
        if (!h)
            return SH_NOMEM;
        static const struct { const char *n; int role; } known[] = {
            {"file", C_FILE}, {"sample_id", C_ID}, {"subject", C_SUBJ},
            {"visit", C_VISIT}, {"group", C_GROUP},
            {"compensation", C_COMP}, {"role", C_ROLE}};
        int role = 0;
        for (size_t k = 0; k < sizeof known / sizeof *known; k++)
            if (!strcasecmp(h, known[k].n))
                role = known[k].role;
        if (!*h) {
            free(h);
            cg_err_setl(err, CG_E_PARSE, hdr_line, "header column %d is empty",
                        c + 1);
            return -1;
        }
        for (int k = 0; k < c; k++) {
            int same = map[k] == role && role != 0;
            if (!same && role == 0 && map[k] >= 0 &&
                !strcasecmp(sh->extra_names[map[k]], h))
                same = 1;
            if (same) {
                cg_err_setl(err, CG_E_PARSE, hdr_line, "column '%s' appears "
                            "twice in the header", h);
                free(h);
                return -1;
            }
        }
        if (role == C_FILE)
            have_file = 1;
        if (role) {
            map[c] = role;
            free(h);
        } else {
            map[c] = sh->nextra;
            sh->extra_names[sh->nextra++] = h;
        }
    }
    if (!have_file) {
        cg_err_setl(err, CG_E_PARSE, hdr_line, "the header has no 'file' "
                    "column (columns: file, sample_id, subject, visit, group, "
                    "compensation, and any others to carry through)");
        return -1;
    }
    return 0;
}

/* Store field v (owned, moved) of column role `role` into s.  0 or -1. */
static int sample_field(cg_sheet *sh, cg_sample *s, int role, char *v,
                        cg_err *err)
{
    if (role == C_ROLE) {
        /* the batch-control (bridge) sample of the batch */
        if (*v && strcasecmp(v, "sample") && strcasecmp(v, "control")) {
            cg_err_setl(err, CG_E_PARSE, s->line, "role '%.40s': expected "
                        "'sample' or 'control'", v);
            free(v);
            return -1;
        }
        s->role = !strcasecmp(v, "control") ? CG_ROLE_CONTROL
                                            : CG_ROLE_SAMPLE;
        sh->has_control |= s->role == CG_ROLE_CONTROL;
        free(v);
        return 0;
    }
    char **dst = role == C_FILE ? &s->file_given
                 : role == C_ID ? &s->sample_id
                 : role == C_SUBJ ? &s->subject
                 : role == C_VISIT ? &s->visit
                 : role == C_GROUP ? &s->group
                 : role == C_COMP ? &s->compensation
                 : &s->extra[role];
    *dst = v;
    return 0;
}

/* Complete a sample read from a row: the file resolved against the
 * sheet's folder, a sample id from the file name when none is given,
 * empty subject/visit/group, the compensation path resolved.  0, -1 or
 * SH_NOMEM. */
static int sample_finish(cg_sheet *sh, cg_sample *s, const char *dir,
                         cg_err *err)
{
    if (!*s->file_given) {
        cg_err_setl(err, CG_E_PARSE, s->line, "the 'file' field is empty");
        return -1;
    }
    s->file = resolve(dir, s->file_given);
    if (!s->file)
        return SH_NOMEM;
    if (!s->sample_id || !*s->sample_id) {
        free(s->sample_id);
        s->sample_id = cg_sample_id_from_path(s->file_given);
    }
    if (!s->subject) s->subject = strdup("");
    if (!s->visit) s->visit = strdup("");
    if (!s->group) s->group = strdup("");
    if (!s->sample_id || !s->subject || !s->visit || !s->group)
        return SH_NOMEM;
    if (s->compensation && !*s->compensation) {
        free(s->compensation);
        s->compensation = NULL;
    } else if (s->compensation && strcasecmp(s->compensation, "file") &&
               strcasecmp(s->compensation, "none")) {
        char *p = resolve(dir, s->compensation);
        if (!p)
            return SH_NOMEM;
        free(s->compensation);
        s->compensation = p;
    }
    if (*s->subject)
        sh->has_subject = 1;
    if (*s->visit)
        sh->has_visit = 1;
    return 0;
}

/* Append the sample of data row r.  0, -1 or SH_NOMEM. */
static int sheet_sample(cg_sheet *sh, int *cap, const row *r, const int *map,
                        int ncol, const char *dir, cg_err *err)
{
    if (r->n != ncol) {
        cg_err_setl(err, CG_E_PARSE, r->line, "%d fields, but the header "
                    "has %d", r->n, ncol);
        return -1;
    }
    if (sh->n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        cg_sample *ns = realloc(sh->s, (size_t)nc * sizeof *ns);
        if (!ns)
            return SH_NOMEM;
        sh->s = ns;
        *cap = nc;
    }
    cg_sample *s = &sh->s[sh->n++];
    memset(s, 0, sizeof *s);
    s->line = r->line;
    s->extra = calloc(sh->nextra ? (size_t)sh->nextra : 1, sizeof *s->extra);
    if (!s->extra)
        return SH_NOMEM;
    for (int c = 0; c < ncol; c++) {
        char *v = trim_dup(r->f[c]);
        if (!v)
            return SH_NOMEM;
        if (sample_field(sh, s, map[c], v, err) < 0)
            return -1;
    }
    return sample_finish(sh, s, dir, err);
}

cg_sheet *cg_sheet_parse(const char *buf, size_t n, const char *name,
                         cg_err *err)
{
    cg_err_clear(err);
    cg_sheet *sh = calloc(1, sizeof *sh);
    char *dir = dir_of(name ? name : "sheet.csv");
    row r = {0};
    int *map = NULL; /* column -> role (C_*) or extra column index */
    int rc = SH_NOMEM;
    if (!sh || !dir)
        goto done;
    sh->path = strdup(name ? name : "<sheet>");
    if (!sh->path)
        goto done;
    size_t pos = 0;
    int line = 1;
    if (n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        pos = 3;
    /* header */
    int got;
    while ((got = csv_record(buf, n, &pos, &line, &r, err)) == 1 && row_blank(&r))
        ;
    rc = -1;
    if (got < 0)
        goto done;
    if (got == 0) {
        cg_err_setl(err, CG_E_PARSE, 1, "the sheet is empty (expected a header "
                    "row with a 'file' column)");
        goto done;
    }
    int ncol = r.n, hdr_line = r.line;
    map = calloc((size_t)ncol, sizeof *map);
    sh->extra_names = calloc((size_t)ncol, sizeof *sh->extra_names);
    rc = SH_NOMEM;
    if (!map || !sh->extra_names || (rc = sheet_header(sh, &r, map, err)) < 0)
        goto done;
    int cap = 0;
    while ((got = csv_record(buf, n, &pos, &line, &r, err)) > 0)
        if (!row_blank(&r) &&
            (rc = sheet_sample(sh, &cap, &r, map, ncol, dir, err)) < 0)
            goto done;
    rc = -1;
    if (got < 0)
        goto done;
    if (sh->n == 0) {
        cg_err_setl(err, CG_E_PARSE, hdr_line, "the sheet lists no samples");
        goto done;
    }
    if (check_ids(sh, err) < 0)
        goto done;
    rc = 0;
done:
    if (rc == SH_NOMEM)
        cg_err_set(err, CG_E_NOMEM, "out of memory");
    row_free(&r);
    free(map);
    free(dir);
    if (rc < 0) {
        cg_sheet_free(sh);
        return NULL;
    }
    return sh;
}

cg_sheet *cg_sheet_read(const char *path, cg_err *err)
{
    size_t n = 0;
    char *buf = cg_read_file(path, 0, &n, err);
    if (!buf)
        return NULL;
    cg_sheet *sh = cg_sheet_parse(buf, n, path, err);
    free(buf);
    return sh;
}

static int fcs_name(const char *s)
{
    size_t n = strlen(s);
    if (n > 4 && !strcasecmp(s + n - 4, ".fcs"))
        return 1;
    if (n > 7 && !strcasecmp(s + n - 7, ".fcs.gz"))
        return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append path to the list (taking ownership). */
static int add_path(char ***v, int *n, int *cap, char *p)
{
    if (!p)
        return -1;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv) {
            free(p);
            return -1;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = p;
    return 0;
}

cg_sheet *cg_sheet_from_paths(int npaths, char *const *paths, cg_err *err)
{
    cg_err_clear(err);
    char **files = NULL;
    int nf = 0, cap = 0;
    for (int i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(paths[i]);
            if (!d) {
                cg_err_set(err, CG_E_IO, "%s: cannot open directory: %s",
                           paths[i], strerror(errno));
                goto fail;
            }
            char **sub = NULL;
            int ns = 0, scap = 0;
            struct dirent *de;
            while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !fcs_name(de->d_name))
                    continue;
                if (add_path(&sub, &ns, &scap, cg_path_join(paths[i], de->d_name)) < 0) {
                    closedir(d);
                    for (int k = 0; k < ns; k++)
                        free(sub[k]);
                    free(sub);
                    goto nomem;
                }
            }
            closedir(d);
            if (ns == 0) {
                free(sub);
                cg_err_set(err, CG_E_IO, "%s: no .fcs files in this directory",
                           paths[i]);
                goto fail;
            }
            qsort(sub, (size_t)ns, sizeof *sub, cmp_str);
            for (int k = 0; k < ns; k++)
                if (add_path(&files, &nf, &cap, sub[k]) < 0) {
                    for (int j = k + 1; j < ns; j++)
                        free(sub[j]);
                    free(sub);
                    goto nomem;
                }
            free(sub);
        } else if (add_path(&files, &nf, &cap, strdup(paths[i])) < 0) {
            goto nomem;
        }
    }
    if (nf == 0) {
        cg_err_set(err, CG_E_ARG, "no input files");
        goto fail;
    }
    cg_sheet *sh = calloc(1, sizeof *sh);
    if (!sh)
        goto nomem;
    sh->s = calloc((size_t)nf, sizeof *sh->s);
    if (!sh->s) {
        free(sh);
        goto nomem;
    }
    for (int i = 0; i < nf; i++) {
        cg_sample *s = &sh->s[i];
        sh->n++;
        s->file = files[i];
        files[i] = NULL;
        s->file_given = strdup(s->file);
        s->sample_id = cg_sample_id_from_path(s->file);
        s->subject = strdup("");
        s->visit = strdup("");
        s->group = strdup("");
        s->extra = calloc(1, sizeof *s->extra);
        if (!s->file_given || !s->sample_id || !s->subject || !s->visit ||
            !s->group || !s->extra) {
            cg_sheet_free(sh);
            goto nomem;
        }
    }
    free(files);
    files = NULL;
    nf = 0;
    if (check_ids(sh, err) < 0) {
        cg_sheet_free(sh);
        return NULL;
    }
    return sh;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory");
fail:
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    return NULL;
}
