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
