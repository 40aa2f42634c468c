/*
 * readfile.h -- a whole (small) input file into memory: configs, sample
 * sheets, matrices, the tables merge reads back.
 */
#ifndef CG_READFILE_H
#define CG_READFILE_H

#include <stddef.h>

#include "cgerr.h"

/* Read path into a NUL-terminated buffer; *n = its length (the file may
 * itself contain NUL bytes).  max > 0 refuses larger files.  Owned (free)
 * or NULL with err (may be NULL) and errno set: CG_E_IO "cannot open:
 * ..." or "read error", CG_E_PARSE "larger than N MiB", CG_E_NOMEM.  The
 * messages do not name the file: callers add it. */
char *cg_read_file(const char *path, size_t max, size_t *n, cg_err *err);

#endif
