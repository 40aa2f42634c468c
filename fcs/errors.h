/*
 * errors.h -- the fcs library's error codes and their static texts.
 *
 * One X-macro list gives both the enum and the name/text tables, so a code
 * and its message cannot drift apart (the libuv uv-errno.h pattern).  The
 * detailed, located message lives in the caller-owned fcs_err (fcs.h).
 */
#ifndef FCS_ERRORS_H
#define FCS_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

#define FCS_ERRNO_MAP(X)                                                     \
    X(OK,        "no error")                                                 \
    X(IO,        "I/O error")                                            \
    X(NOMEM,     "out of memory")                                            \
    X(NOTFCS,    "not an FCS file")                                          \
    X(HEADER,    "malformed HEADER segment")                                 \
    X(TEXT,      "malformed TEXT segment")                                   \
    X(KEYWORD,   "missing or invalid keyword")                               \
    X(LAYOUT,    "segment offsets inconsistent with the file")               \
    X(DATA,      "malformed DATA segment")                                   \
    X(UNSUPPORTED, "unsupported FCS feature")                                \
    X(SPILL,     "malformed spillover matrix")                               \
    X(ARG,       "invalid argument")                                         \
    X(GZIP,      "gzip decompression failed")                                \
    X(WRITE,     "cannot write FCS file")

typedef enum fcs_errno {
#define FCS_ERR_ENUM_(name, text) FCS_E_##name,
    FCS_ERRNO_MAP(FCS_ERR_ENUM_)
#undef FCS_ERR_ENUM_
    FCS_E__COUNT
} fcs_errno;

/* Static text for a code ("malformed TEXT segment"); never NULL. */
const char *fcs_strerror(int code);
/* Symbolic name for a code ("TEXT"); never NULL. */
const char *fcs_err_name(int code);

#ifdef __cplusplus
}
#endif

#endif
