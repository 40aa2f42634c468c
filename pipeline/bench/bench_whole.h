/*
 * bench_whole.h -- `cytogate bench --whole` (issue 14): the commands a
 * user runs, timed as whole child processes (wall time, CPU time and
 * peak RSS from wait4()), on inputs made with `cytogate simulate`, plus a
 * batch at -j1 and -j2 and a table of cost against events and
 * parameters.
 *
 * Ownership: nothing returned is owned by the caller except as stated.
 * Threading: single-threaded; children run one at a time, so a figure is
 * never shared with another measured process of the benchmark.
 */
#ifndef CG_BENCH_WHOLE_H
#define CG_BENCH_WHOLE_H

#include <stdint.h>
#include <stdio.h>

#include "cgerr.h"

typedef struct cg_whole_opts {
    const char *exe;    /* the cytogate executable to measure */
    const char *config; /* gating config for `run` and `plot` */
    const char *keep;   /* work folder to keep (inputs reused), or NULL:
                         * a temporary folder removed at the end */
    int64_t events;     /* events of the main file [1000000] */
    int params;         /* its parameters, 12 or more [12] */
    int reps;           /* runs per command; the median is shown [5] */
    int batch;          /* samples in the batch, 0 for none [96] */
    int scale;          /* 1: the events x parameters table */
    double scale_max_mb;/* skip table cells with more DATA than this [600] */
    int quiet;          /* no progress lines on stderr */
} cg_whole_opts;

/* Defaults as in the brackets above. */
void cg_whole_opts_init(cg_whole_opts *o);

/* Generate the inputs, run every command, print the tables to out.
 * 0 when every command ran and exited 0, 1 when a command failed (the
 * table says which), < 0 with err when the benchmark could not run. */
int cg_bench_whole(const cg_whole_opts *o, FILE *out, cg_err *err);

/* Write dst: the events of src (a `cytogate simulate` file) with nparams
 * parameters.  Fewer than the 14 simulated ones drops, in order, BV711-A
 * (CCR6) and FITC-A (CXCR3), which the default config treats as
 * optional, with their spillover rows and columns (so nparams >= 12);
 * more adds uncompensated channels X15-A, X16-A, ... scaled copies of
 * the fluorescence channels.  float32 FCS 3.1, deterministic.  0 or < 0
 * with err. */
int cg_bench_widen(const char *src, const char *dst, int nparams,
                   cg_err *err);

#endif
