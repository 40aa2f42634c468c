/*
 * util.h -- small pieces every subcommand shares: error lines in one
 * format, the verbosity level, atomic output files, directories.
 *
 * Error lines: a library error (cg_err) is printed by cg_error_report as
 * `cytogate CMD: FILE:N: what went wrong` (text inputs: config, sheet,
 * CSV, XML) or `cytogate CMD: FILE: what went wrong (at byte N)` (FCS),
 * the file, line and byte each given once.  `cytogate CMD: message` for usage problems.
 *
 * Atomic output: every output file is written to "<path>.tmp.<pid>" and
 * renamed into place on commit, so a reader never sees a half-written
 * file and an interrupted run leaves the previous output intact.
 */
#ifndef CG_UTIL_H
#define CG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errors.h"

/* The only global: 0 quiet, 1 normal (default), 2 verbose. */
extern int cg_verbosity;

/* "cytogate: FILE: msg" (file NULL: "cytogate: msg"); newline added. */
void cg_error_file(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "cytogate CMD: msg". */
void cg_error_cmd(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "cytogate: FILE: warning: msg", printed when cg_verbosity >= 1. */
void cg_warn_file(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a library error the one way every subcommand does:
 *   "cytogate CMD: FILE:N: MSG"             (a text input, e->line = N)
 *   "cytogate CMD: FILE: MSG (at byte N)"   (an FCS file, e->offset = N)
 * FILE is left out when MSG already names it, the line or byte when MSG
 * already gives it ("FILE:N:", "line N", "byte N"); without FILE a line
 * reads "line N: MSG".  cmd NULL: "cytogate: ...".  file may be NULL.
 * what (may be NULL) goes before MSG as "what: ", e.g. "batch control".
 * An empty MSG falls back to cg_strerror(e->code).  One line. */
void cg_error_report(const char *cmd, const char *file, const char *what,
                     const cg_err *e);
/* The same line, written into buf (size n) without "cytogate CMD: " and
 * without a newline: for callers that keep the message. */
void cg_error_format(char *buf, size_t n, const char *file,
                     const char *what, const cg_err *e);

typedef struct cg_atomic {
    FILE *fp;
    char *path; /* final name, owned */
    char *tmp;  /* temporary name, owned */
} cg_atomic;

/* Open path's temporary for writing ("wb").  NULL on error (errno set). */
FILE *cg_atomic_open(cg_atomic *a, const char *path);
/* Flush, close and rename into place.  0 or -1 (errno set; temp removed). */
int cg_atomic_commit(cg_atomic *a);
/* Close and remove the temporary. */
void cg_atomic_abort(cg_atomic *a);
/* Whole buffer to path, atomically.  0 or -1. */
int cg_write_file_atomic(const char *path, const void *buf, size_t n);

/* mkdir -p; 0 or -1 (errno set). */
int cg_mkdir_p(const char *path);
/* "dir/name" (owned string) or NULL. */
char *cg_path_join(const char *dir, const char *name);
/* Parse a whole string as a number; 0 ok, -1 not a number/out of range. */
int cg_parse_double(const char *s, double *out);
int cg_parse_int(const char *s, long lo, long hi, long *out);

#endif
