/*
 * bench.h -- pieces of the benchmark program (`cytogate bench`,
 * cmd_bench.c): clocks, the result table (text and JSON), running a child
 * process with its wall time, CPU time and peak RSS, the benchmark inputs,
 * and a description of the machine.
 *
 * Ownership: a cg_bench_table owns its rows (cg_bench_table_clear).
 * cg_bench_json returns a new jansson reference (json_decref).
 * Threading: single-threaded; no globals.
 */
#ifndef CG_BENCH_H
#define CG_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "cgerr.h"

struct json_t;

/* CLOCK_MONOTONIC and this process's CPU time, in milliseconds. */
double cg_bench_now_ms(void);
double cg_bench_cpu_ms(void);

/* Target comparisons. */
typedef enum cg_bench_cmp {
    CG_BENCH_NONE = 0, /* informative figure, no target */
    CG_BENCH_LE,       /* met when value <= target */
    CG_BENCH_GE        /* met when value >= target */
} cg_bench_cmp;

typedef struct cg_bench_row {
    char id[40];     /* stable key: "read_decode_ms" */
    char stage[96];  /* human text: "read+decode 1M x 16 float32" */
    double value;
    char unit[16];   /* "ms", "ns/value", "MB/s", "x", "MB", "s" */
    cg_bench_cmp cmp;
    double target;   /* meaningful when cmp != NONE */
    int reps;        /* best of reps (1: single measurement) */
    char note[200];  /* how it was measured / what bounds it; "" */
} cg_bench_row;

typedef struct cg_bench_table {
    cg_bench_row *rows;
    int n, cap;
    int targets_apply; /* 0 (--quick, non-default sizes): met is n/a */
} cg_bench_table;

/* Append a row (strings copied, truncated).  0 or -1 (no memory). */
int cg_bench_add(cg_bench_table *t, const char *id, const char *stage,
                 double value, const char *unit, cg_bench_cmp cmp,
                 double target, int reps, const char *note);
/* 1 met, 0 missed, -1 no target or targets do not apply. */
int cg_bench_met(const cg_bench_table *t, const cg_bench_row *r);
/* Row by id, or NULL. */
const cg_bench_row *cg_bench_find(const cg_bench_table *t, const char *id);
void cg_bench_table_clear(cg_bench_table *t);

/* The table as aligned text: stage, figure, unit, target, met?. */
void cg_bench_print(FILE *fp, const cg_bench_table *t);
/* {"rows": [{id, stage, value, unit, target, cmp, met, reps, note}...]};
 * target and met are null where there is none (met also when targets do
 * not apply). */
struct json_t *cg_bench_rows_json(const cg_bench_table *t);

/* A finished child process. */
typedef struct cg_bench_proc {
    double wall_ms;
    double cpu_ms;    /* user + system of the child */
    double maxrss_mb; /* ru_maxrss of the child, in MB (1e6 bytes) */
    int status;       /* exit status, or 128 + signal */
} cg_bench_proc;

/* Run argv[0] with argv (stdout and stderr appended to log_path, or
 * /dev/null when NULL) and wait for it with wait4().  0 when it ran (look
 * at out->status), -1 with err when it could not be started. */
int cg_bench_spawn(char *const argv[], const char *log_path,
                   cg_bench_proc *out, cg_err *err);

/* This executable's path (/proc/self/exe), owned string, or NULL. */
char *cg_bench_self_exe(void);

/* The benchmark's FCS file: `cytogate simulate`'s model (cg_sim_generate
 * with this seed and event count) plus two channels, so the file has the
 * issue's 16 parameters and 11 compensated channels: SSC-H (SSC-A x a
 * per-event height ratio) and BUV395-A "CD45RA" (bimodal), which receives
 * spillover from BV421-A and BV510-A; its observed values are generated
 * from the other channels' true (compensated) values, so compensation
 * with the 11 x 11 $SPILLOVER is exact for every channel.  float32 FCS
 * 3.1, written atomically.  Deterministic: same arguments, same bytes.
 * sample_id (may be NULL) becomes $SRC.  0 or < 0 with err. */
int cg_bench_make_fcs(const char *path, int64_t events, uint64_t seed,
                      const char *sample_id, cg_err *err);

/* The machine: online CPUs, CPU model ("" when unknown), physical memory
 * in GB (1e9 bytes) and the 1-minute load average (NaN when unknown). */
typedef struct cg_bench_machine {
    int nproc;
    char cpu[128];
    double mem_gb;
    double load1;
} cg_bench_machine;
void cg_bench_machine_info(cg_bench_machine *m);

/* rm -rf path (files, symlinks and directories below it).  0 or -1. */
int cg_bench_rmtree(const char *path);

#endif
