/*
 * cgerr.c -- filling the caller-owned cg_err record.
 *
 * No state; safe from any thread.  Messages are truncated to fit.
 */
#include "cgerr.h"

#include <stdio.h>
#include <string.h>

static int vset(cg_err *err, int code, int line, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        err->line = line;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -code;
}

int cg_err_set(cg_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vset(err, code, 0, fmt, ap);
    va_end(ap);
    return r;
}

int cg_err_setl(cg_err *err, int code, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vset(err, code, line, fmt, ap);
    va_end(ap);
    return r;
}

void cg_err_clear(cg_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}
