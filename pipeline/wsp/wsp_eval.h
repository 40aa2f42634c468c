/*
 * wsp_eval.h -- evaluating a workspace sample on its FCS file and
 * comparing with FlowJo's stored counts (wsp_eval.c).
 *
 * Ownership: cg_wsp_counts.count is owned (cg_wsp_counts_clear).
 * Threading: no shared state.
 */
#ifndef CG_WSP_EVAL_H
#define CG_WSP_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "wsp.h"

enum { CG_WSP_COMP_NONE = 0, CG_WSP_COMP_WSP, CG_WSP_COMP_FILE };

typedef struct cg_wsp_counts {
    int64_t total;   /* events in the file */
    int64_t *count;  /* per population (s->pops order); -1 not evaluated */
    int comp;        /* CG_WSP_COMP_*: which matrix compensated */
    int acq_without_spill; /* "Acquisition-defined" but the file has no
                              spillover: the workspace's copy was used */
} cg_wsp_counts;

/* Comparison verdicts. */
enum {
    CG_WSP_MATCH = 0,   /* |ours - FlowJo| <= max(1, 0.1 % of FlowJo's) */
    CG_WSP_DIFF,        /* beyond that */
    CG_WSP_NOT_STORED,  /* FlowJo stored no count (absent, -1, or 0 while
                           we count events: FlowJo writes 0 for
                           populations it never computed) */
    CG_WSP_NA           /* we have no count (no FCS file, error) */
};
int cg_wsp_verdict(int64_t ours, int64_t stored);

/* Find sample s's FCS file: its DataSet URI as a local path, then the
 * URI's file name, $FIL and the sample name in fcs_dir (may be NULL) and
 * in the workspace's folder.  0 with out filled, or -1; tried (may be
 * NULL) lists the paths looked at. */
int cg_wsp_find_fcs(const cg_wsp *w, const cg_wsp_sample *s,
                    const char *fcs_dir, char *out, size_t n, char *tried,
                    size_t ntried);

/* Read fcs_path (scaled view), compensate and gate it with s's tree.
 * 0, or < 0 with err (res->count allocated either way: clear it). */
int cg_wsp_eval_sample(const cg_wsp_sample *s, const char *fcs_path,
                       cg_wsp_counts *res, cg_err *err);
void cg_wsp_counts_clear(cg_wsp_counts *c);

/* A FlowJo ellipse (foci and 4 edge points, display space) as centre c,
 * half-axes a >= b and unit major direction u.  0 or -1 (degenerate). */
int cg_wsp_ellipse_geometry(const double foci[4], const double edge[8],
                            double c[2], double *a, double *b, double u[2]);

#endif
