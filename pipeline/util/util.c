/*
 * util.c -- shared CLI helpers (see util.h).
 *
 * cg_verbosity is the process's only global; it is set once by option
 * parsing before any worker thread starts, then only read.
 */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cg_verbosity = 1;

static void vline(const char *prefix, const char *file, const char *fmt,
                  va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (file)
        fprintf(stderr, "%s: %s: %s\n", prefix, file, buf);
    else
        fprintf(stderr, "%s: %s\n", prefix, buf);
}

void cg_error_file(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("cytogate", file, fmt, ap);
    va_end(ap);
}

void cg_error_cmd(const char *cmd, const char *fmt, ...)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cytogate %s", cmd);
    va_list ap;
    va_start(ap, fmt);
    vline(prefix, NULL, fmt, ap);
    va_end(ap);
}

void cg_warn_file(const char *file, const char *fmt, ...)
{
    if (cg_verbosity < 1)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (file)
        fprintf(stderr, "cytogate: %s: warning: %s\n", file, msg);
    else
        fprintf(stderr, "cytogate: warning: %s\n", msg);
}

/* Does msg already give line `line` of a text input ("f:12:", "line 12",
 * "lines 12")?  A number followed by a digit does not count. */
static int names_line(const char *msg, int line)
{
    char pat[3][32];
    snprintf(pat[0], sizeof pat[0], ":%d:", line);
    snprintf(pat[1], sizeof pat[1], "line %d", line);
    snprintf(pat[2], sizeof pat[2], "line: %d", line);
    for (int k = 0; k < 3; k++)
        for (const char *p = strstr(msg, pat[k]); p;
             p = strstr(p + 1, pat[k])) {
            char nx = p[strlen(pat[k])];
            if (nx < '0' || nx > '9')
                return 1;
        }
    return 0;
}

static int names_byte(const char *msg, int64_t off)
{
    char pat[40];
    snprintf(pat, sizeof pat, "byte %lld", (long long)off);
    for (const char *p = strstr(msg, pat); p; p = strstr(p + 1, pat)) {
        char nx = p[strlen(pat)];
        if (nx < '0' || nx > '9')
            return 1;
    }
    return 0;
}

void cg_error_format(char *buf, size_t n, const char *file,
                     const char *what, const cg_err *e)
{
    const char *msg = e && e->msg[0] ? e->msg
                                     : cg_strerror(e ? e->code : CG_E_IO);
    int with_file = file && *file && !strstr(msg, file);
    int line = e && e->line > 0 && !names_line(msg, e->line) ? e->line : 0;
    char head[1200] = "";
    if (with_file && line)
        snprintf(head, sizeof head, "%s:%d: ", file, line);
    else if (with_file)
        snprintf(head, sizeof head, "%s: ", file);
    else if (line)
        snprintf(head, sizeof head, "line %d: ", line);
    char tail[48] = "";
    if (e && e->line <= 0 && e->offset > 0 && !names_byte(msg, e->offset))
        snprintf(tail, sizeof tail, " (at byte %lld)", (long long)e->offset);
    snprintf(buf, n, "%s%s%s%s%s", head, what ? what : "", what ? ": " : "",
             msg, tail);
}

void cg_error_report(const char *cmd, const char *file, const char *what,
                     const cg_err *e)
{
    char buf[1024];
    cg_error_format(buf, sizeof buf, file, what, e);
    if (cmd)
        fprintf(stderr, "cytogate %s: %s\n", cmd, buf);
    else
        fprintf(stderr, "cytogate: %s\n", buf);
}

FILE *cg_atomic_open(cg_atomic *a, const char *path)
{
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        free(a->path);
        free(a->tmp);
        errno = ENOMEM;
        return NULL;
    }
    snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    a->fp = fopen(a->tmp, "wb");
    if (!a->fp) {
        int e = errno;
        free(a->path);
        free(a->tmp);
        a->path = a->tmp = NULL;
        errno = e;
    }
    return a->fp;
}

int cg_atomic_commit(cg_atomic *a)
{
    int bad = 0;
    if (fflush(a->fp) != 0 || ferror(a->fp))
        bad = 1;
    if (fclose(a->fp) != 0)
        bad = 1;
    a->fp = NULL;
    int e = errno;
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad)
        remove(a->tmp);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    errno = e;
    return bad ? -1 : 0;
}

void cg_atomic_abort(cg_atomic *a)
{
    if (a->fp)
        fclose(a->fp);
    if (a->tmp)
        remove(a->tmp);
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

int cg_write_file_atomic(const char *path, const void *buf, size_t n)
{
    cg_atomic a;
    FILE *fp = cg_atomic_open(&a, path);
    if (!fp)
        return -1;
    if (n && fwrite(buf, 1, n, fp) != n) {
        int e = errno;
        cg_atomic_abort(&a);
        errno = e;
        return -1;
    }
    return cg_atomic_commit(&a);
}

int cg_mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int r = mkdir(p, 0777);
    free(p);
    if (r != 0 && errno != EEXIST)
        return -1;
    return 0;
}

char *cg_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        s[k++] = '/';
    memcpy(s + k, name, b + 1);
    return s;
}

int cg_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end || errno == ERANGE || isnan(v))
        return -1;
    *out = v;
    return 0;
}

int cg_parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
