/*
 * util.h -- small pieces every subcommand shares: error lines in one
 * format, the verbosity level, atomic output files, directories.
 *
 * Error lines: `cytogate: FILE: what went wrong (at byte N)` for problems
 * with an input, `cytogate CMD: message` for usage problems.
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
