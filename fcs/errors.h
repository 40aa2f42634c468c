/*
 * errors.h -- the one error record and code table of libcytogate.
 *
 * Every library function that can fail (fcs/ reader and writer, gating/,
 * the run engine) reports into a caller-owned cg_err: a code from the one
 * table below, the place the error is about (a byte offset in an FCS file,
 * or a line in a config/CSV/XML file), and a located message.  One X-macro
 * list gives the enum, the symbolic names and the static texts, so a code
 * and its text cannot drift apart (the libuv uv-errno.h pattern).
 *
 * The FCS_E_* and CG_E_* names are two spellings in one code space: the
 * reader's codes say which FCS segment was wrong; CG_E_ARG, CG_E_NOMEM and
 * CG_E_IO are the same values as their FCS_E_ twins.  fcs_err is the same
 * type as cg_err (kept so the reader's API reads naturally).
 */
#ifndef FCS_ERRORS_H
#define FCS_ERRORS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(ENUM_NAME, "NAME", "static text") */
#define CG_ERRNO_MAP(X)                                                      \
    X(FCS_E_OK,          "OK",          "no error")                          \
    X(FCS_E_IO,          "IO",          "I/O error")                         \
    X(FCS_E_NOMEM,       "NOMEM",       "out of memory")                     \
    X(FCS_E_NOTFCS,      "NOTFCS",      "not an FCS file")                   \
    X(FCS_E_HEADER,      "HEADER",      "malformed HEADER segment")          \
    X(FCS_E_TEXT,        "TEXT",        "malformed TEXT segment")            \
    X(FCS_E_KEYWORD,     "KEYWORD",     "missing or invalid keyword")        \
    X(FCS_E_LAYOUT,      "LAYOUT",                                           \
      "segment offsets inconsistent with the file")                          \
    X(FCS_E_DATA,        "DATA",        "malformed DATA segment")            \
    X(FCS_E_UNSUPPORTED, "UNSUPPORTED", "unsupported FCS feature")           \
    X(FCS_E_SPILL,       "SPILL",       "malformed spillover matrix")        \
    X(FCS_E_ARG,         "ARG",         "invalid argument")                  \
    X(FCS_E_GZIP,        "GZIP",        "gzip decompression failed")         \
    X(FCS_E_WRITE,       "WRITE",       "cannot write FCS file")             \
    X(CG_E_PARSE,        "PARSE",       "malformed input (CSV, XML, YAML)")  \
    X(CG_E_CHANNEL,      "CHANNEL",     "a named channel or marker is missing") \
    X(CG_E_MATH,         "MATH",                                             \
      "singular matrix, non-convergence or domain error")                    \
    X(CG_E_DATA,         "NODATA",      "the data cannot support the request")

typedef enum cg_errno {
#define CG_ERR_ENUM_(e, name, text) e,
    CG_ERRNO_MAP(CG_ERR_ENUM_)
#undef CG_ERR_ENUM_
    CG_E__COUNT,
    CG_OK = FCS_E_OK,
    CG_E_ARG = FCS_E_ARG,
    CG_E_NOMEM = FCS_E_NOMEM,
    CG_E_IO = FCS_E_IO,
    FCS_E__COUNT = CG_E__COUNT
} cg_errno;
typedef cg_errno fcs_errno;

/* Caller-owned error record.  msg names what was wrong and what was
 * expected, and ends with the location when there is one, e.g.
 * "DATA: $TOT 10000 x 16 bytes per event = 160000 bytes from byte 2304,
 * file is 81920 bytes (at byte 2304)".  offset is that byte (-1 or 0 when
 * none: check line/offset against 0 and -1 both); line is the 1-based line
 * of a text input (config, CSV, XML) or 0. */
typedef struct cg_err {
    int code;       /* cg_errno */
    int line;       /* 1-based line in a text input, or 0 */
    int64_t offset; /* byte offset in the file the error is about, or -1 */
    char msg[256];
} cg_err;
typedef cg_err fcs_err;

/* Static text for a code ("malformed TEXT segment"); never NULL. */
const char *cg_strerror(int code);
/* Symbolic name for a code ("TEXT"); never NULL. */
const char *cg_err_name(int code);
/* The reader's historical spellings of the two above. */
const char *fcs_strerror(int code);
const char *fcs_err_name(int code);

/* Fill err (may be NULL) and return -code (so callers can `return
 * cg_err_set(...)`).  printf-style message; offset is set to -1. */
int cg_err_set(cg_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same, with a line number. */
int cg_err_setl(cg_err *err, int code, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void cg_err_clear(cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
