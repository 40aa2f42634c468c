/*
 * cgerr.h -- error record shared by the gating library and the pipeline.
 *
 * Like fcs_err: caller-owned, a code, a place and a message.  `line` is a
 * line number in a config/CSV/XML file when the error is about one, else 0.
 */
#ifndef CG_CGERR_H
#define CG_CGERR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_errno {
    CG_OK = 0,
    CG_E_ARG,     /* invalid argument or parameter value */
    CG_E_NOMEM,   /* out of memory */
    CG_E_IO,      /* file could not be read or written */
    CG_E_PARSE,   /* malformed input (CSV, XML, YAML) */
    CG_E_CHANNEL, /* a named channel/marker is missing */
    CG_E_MATH,    /* singular matrix, non-convergence, domain error */
    CG_E_DATA     /* the data cannot support the request */
} cg_errno;

typedef struct cg_err {
    int code;      /* cg_errno */
    int line;      /* 1-based line in the input it is about, or 0 */
    char msg[256];
} cg_err;

/* Fill err (may be NULL) and return -code (so callers can `return
 * cg_err_set(...)`).  printf-style message. */
int cg_err_set(cg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with a line number. */
int cg_err_setl(cg_err *err, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cg_err_clear(cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
