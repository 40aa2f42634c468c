/*
 * errors.c -- the one code table (errors.h X-macro) and the setters of
 * the caller-owned cg_err record.  No state; safe from any thread;
 * messages are truncated to fit.
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const texts[] = {
#define CG_ERR_TEXT_(e, name, text) text,
    CG_ERRNO_MAP(CG_ERR_TEXT_)
#undef CG_ERR_TEXT_
};

static const char *const names[] = {
#define CG_ERR_NAME_(e, name, text) name,
    CG_ERRNO_MAP(CG_ERR_NAME_)
#undef CG_ERR_NAME_
};

const char *cg_strerror(int code)
{
    if (code < 0 || code >= CG_E__COUNT)
        return "unknown error";
    return texts[code];
}

const char *cg_err_name(int code)
{
    if (code < 0 || code >= CG_E__COUNT)
        return "UNKNOWN";
    return names[code];
}

const char *fcs_strerror(int code) { return cg_strerror(code); }
const char *fcs_err_name(int code) { return cg_err_name(code); }

static int vset(cg_err *err, int code, int line, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        err->line = line;
        err->offset = -1;
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
    if (err) {
        memset(err, 0, sizeof *err);
        err->offset = -1;
    }
}
