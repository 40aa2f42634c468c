/*
 * report.h -- the review report of a run folder (issue 21): report.html,
 * one self-contained page (inline CSS, an optional inline sort script, no
 * network), and report_files/<sample_id>/{strategy,qc}.png, thumbnails of
 * the sample's figures.  Written at the end of every `cytogate run` and
 * `cytogate merge` (into the staging folder, before the commit) and by
 * `cytogate report OUTDIR`.
 *
 * The report is built from the folder's files only -- run.json,
 * summary.tsv, qc.tsv, plots/ -- so a rebuild gives the same bytes as the
 * run did: no clock is read; directory listings are sorted.  Every text
 * taken from a file or a sheet is HTML-escaped; links are relative to the
 * run folder and percent-encoded.
 *
 * Ownership: nothing returned is owned by the caller.  Threading: no
 * shared state; one call per folder at a time (it runs threads of its
 * own for the thumbnails).
 */
#ifndef CG_REPORT_H
#define CG_REPORT_H

#include <stddef.h>

#include "cgerr.h"

/* Width in pixels of the thumbnails. */
enum { CG_REPORT_THUMB_W = 400 };

/* Read the run folder src; write dst/report.html and dst/report_files/
 * (dst may be src, or the staging folder of src).  The thumbnails are
 * made on nthreads threads (< 1: one per CPU online, at most 8); the
 * bytes do not depend on it.  0, or -1 with err: CG_E_ARG when src is
 * not a run folder (no run.json, or one not written by cytogate),
 * CG_E_PARSE for a malformed file (named, with its line), CG_E_IO when a
 * file cannot be written. */
int cg_report_write(const char *src, const char *dst, int nthreads,
                    cg_err *err);

/* The PNG src shrunk to at most max_w pixels wide (aspect kept; never
 * enlarged), as RGB PNG at dst, atomically.  *out_w, *out_h: its size.
 * 0, or -1 with err naming the file. */
int cg_report_thumbnail(const char *src, const char *dst, int max_w,
                        int *out_w, int *out_h, cg_err *err);

/* A page built in memory (zero-initialise; free p).  oom is set, and
 * later writes dropped, when memory runs out. */
typedef struct cg_html {
    char *p;
    size_t n, cap;
    int oom;
} cg_html;

/* Append s as is (markup). */
void cg_html_put(cg_html *b, const char *s);
/* Append s HTML-escaped (element content or a quoted attribute value):
 * & < > " ' as entities; bytes that are not UTF-8, and control
 * characters, as U+FFFD.  NULL is "". */
void cg_html_esc(cg_html *b, const char *s);
/* Append the relative path s percent-encoded (unreserved bytes and '/'
 * kept), so it needs no further escaping in an attribute. */
void cg_html_url(cg_html *b, const char *s);

#endif
