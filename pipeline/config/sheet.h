/*
 * sheet.h -- the list of samples of a run: from a sample sheet (CSV) or
 * from FCS files and directories named on the command line.
 *
 * Sample sheet: RFC 4180 CSV (comma separated, optional "quoted" fields
 * with "" for a quote, CRLF or LF line ends, a UTF-8 BOM is skipped).  The
 * first row is the header; column names are case-insensitive.  `file` is
 * required; `sample_id`, `subject`, `visit`, `group`, `compensation`,
 * `role` (`sample`, the default when empty, or `control`) are optional; any other column is carried through to the outputs in sheet
 * order.  Blank lines are skipped.  Relative `file` and `compensation`
 * paths resolve against the sheet's directory (`compensation` may also be
 * `file` or `none`; an empty cell means "as the config says").
 *
 * sample_id defaults to the file name without directory and without
 * .fcs/.lmd/.gz extensions.  Sample ids must be unique and usable as file
 * names, so that no output can later fail on them: 1..CG_SAMPLE_ID_MAX
 * bytes of valid UTF-8, no control characters, none of / \ : * ? " < > |,
 * not starting with '.', '-', '=', '+' or '@'.  Violations are errors
 * naming the line (or, for command-line files, the file).
 *
 * Ownership: cg_sheet and everything in it is owned (cg_sheet_free, NULL
 * ok).  Threading: immutable after creation.
 */
#ifndef CG_SHEET_H
#define CG_SHEET_H

#include <stddef.h>

#include "cgerr.h"

/* Longest sample_id, in bytes: samples/<id>.json.tmp.<pid> and the
 * figures' names stay far below NAME_MAX (255). */
#define CG_SAMPLE_ID_MAX 128
#define CG_STR_(x) #x
#define CG_STR(x) CG_STR_(x)

typedef struct cg_sample {
    char *file;         /* path as it will be opened */
    char *file_given;   /* as written in the sheet / on the command line */
    char *sample_id;
    char *subject;      /* "" when not given */
    char *visit;        /* "" when not given */
    char *group;        /* "" when not given */
    char *compensation; /* NULL: config; else "file", "none" or a path */
    int role;           /* CG_ROLE_SAMPLE (default) or CG_ROLE_CONTROL:
                           column `role`, `sample` or `control` (the
                           batch-control / bridge sample, issue 21) */
    char **extra;       /* nextra values (parallel to cg_sheet.extra_names) */
    int line;           /* sheet line (0 for command-line files) */
} cg_sample;

/* cg_sample.role */
enum { CG_ROLE_SAMPLE = 0, CG_ROLE_CONTROL = 1 };

typedef struct cg_sheet {
    char *path;          /* the sheet, or NULL for command-line files */
    int n;
    cg_sample *s;
    int nextra;
    char **extra_names;  /* carried-through columns, as written */
    int has_subject, has_visit; /* some row has a subject / a visit */
    int has_control;     /* some row has role control */
} cg_sheet;

/* Read a sample sheet.  Owned, or NULL with err (line set). */
cg_sheet *cg_sheet_read(const char *path, cg_err *err);
/* Parse sheet text (name stands for the path; used by tests/fuzzing). */
cg_sheet *cg_sheet_parse(const char *buf, size_t n, const char *name,
                         cg_err *err);

/* Samples from paths: a directory contributes its *.fcs files (any case,
 * also *.fcs.gz), sorted by name; a file is taken as is.  Duplicated
 * sample ids are an error.  Owned or NULL with err. */
cg_sheet *cg_sheet_from_paths(int npaths, char *const *paths, cg_err *err);

void cg_sheet_free(cg_sheet *sh);

/* Keep only the samples whose sample_id is one of ids[0..nids), in sheet
 * order (used for one cluster job per sample: `run --sheet S --sample ID`
 * processes a row exactly as a run over the whole sheet does, paths and
 * all).  An id the sheet lacks, or one given twice, is an error naming
 * it.  has_subject/has_visit keep describing the whole sheet.  0 or < 0
 * with err. */
int cg_sheet_select(cg_sheet *sh, int nids, char *const *ids, cg_err *err);

/* Default sample id of a path (owned). */
char *cg_sample_id_from_path(const char *path);

#endif
