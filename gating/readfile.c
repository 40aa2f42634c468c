/*
 * readfile.c -- whole files into memory (see readfile.h).  Reads in
 * doubling chunks, so pipes and files that grow while read work too.
 * No state; any thread.
 */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cg_read_file(const char *path, size_t max, size_t *n, cg_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        cg_err_set(err, CG_E_IO, "cannot open: %s", strerror(e));
        errno = e;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = NULL;
    int code = 0;
    for (;;) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            code = CG_E_NOMEM;
            break;
        }
        buf = nb;
        len += fread(buf + len, 1, cap - len - 1, fp);
        if (max && len > max) {
            code = CG_E_PARSE;
            break;
        }
        if (len + 1 < cap) /* end of file, or an error */
            break;
        cap *= 2;
    }
    if (!code && ferror(fp))
        code = CG_E_IO;
    fclose(fp);
    if (code) {
        free(buf);
        if (code == CG_E_NOMEM)
            cg_err_set(err, code, "out of memory");
        else if (code == CG_E_PARSE)
            cg_err_set(err, code, "larger than %zu MiB", max >> 20);
        else
            cg_err_set(err, code, "read error");
        errno = code == CG_E_NOMEM ? ENOMEM : code == CG_E_PARSE ? EFBIG : EIO;
        return NULL;
    }
    buf[len] = '\0';
    *n = len;
    return buf;
}
