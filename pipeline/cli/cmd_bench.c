/*
 * cmd_bench.c -- `cytogate bench`: the benchmark of issue 9.
 *
 *   cytogate bench [--json] [--quick] [--keep DIR] [--config FILE] ...
 *
 * Inputs (generated, see bench.h cg_bench_make_fcs): one file of 1,000,000
 * events x 16 float32 parameters (64 MB of DATA) and a batch of 48 files
 * of 200,000 events (a second directory links the first 12 of them).
 * Stages, single-threaded unless stated, each best of N (N in the table's
 * notes and in the JSON `reps`): read+decode, compensation, every
 * transform, gating the config's tree, auto gates, statistics, plot
 * rendering, one sample in-process, the whole `cytogate run` process on
 * the big file with and without plots (wall, CPU, peak RSS), and the batch
 * at -j1 and -j2 (wall, speedup, peak RSS; peak RSS of 12 vs 48 samples
 * shows memory is bounded by the samples in flight).
 *
 * Order matters: child processes are measured first, while this process
 * is small (Linux carries the parent's RSS high-water mark into a forked
 * child's ru_maxrss), and the inputs are generated in child processes for
 * the same reason.  Targets are for the default sizes; with --quick or
 * other sizes the table shows them but `met?` is n/a.
 *
 * Threading: the benchmark itself is single-threaded; input generation
 * runs up to nproc child processes at once.
 */
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fcs/fcs.h"
#include "autogate.h"
#include "bench.h"
#include "bench_xform.h"
#include "commands.h"
#include "comp.h"
#include "config.h"
#include "dims.h"
#include "frame.h"
#include "gate.h"
#include "gatetree.h"
#include "opts.h"
#include "plot.h"
#include "run.h"
#include "run_internal.h"
#include "sheet.h"
#include "stats.h"
#include "util.h"
#include "xform.h"

#define INPUT_STAMP_VERSION 1

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate bench [options]\n"
"\n"
"Measure cytogate's speed and memory on generated data and print a table\n"
"(stage, figure, unit, target, met?).  Single-threaded unless stated;\n"
"each figure is the best of N runs.  Run it on an idle machine.\n"
"\n"
"Output:\n"
"      --json            print the results as JSON on stdout\n"
"  -q, --quiet           no progress lines on stderr\n"
"\n"
"Sizes:\n"
"      --quick           tiny sizes, one run each (a smoke test; targets\n"
"                        are not judged)\n"
"      --events N        events in the single-file stages [1000000]\n"
"      --batch N         samples in the batch [48]\n"
"      --batch-events N  events per batch sample [200000]\n"
"      --reps N          runs per in-process stage, best kept [5]\n"
"      --proc-reps N     runs per whole-process stage [3]\n"
"      --no-batch        skip the batch stages\n"
"\n"
"Files:\n"
"  -c, --config FILE     gating config [configs/treg_th17.yaml, found in\n"
"                        the current directory or beside the build tree]\n"
"      --keep DIR        generate inputs and run outputs in DIR and keep\n"
"                        them; inputs already there are reused [a\n"
"                        temporary directory, removed at the end]\n"
"\n"
"Targets (default sizes, 2-core machine, warm page cache): read+decode\n"
"<= 30 ms; compensation <= 25 ms; logicle <= 20 ns/value; gating <= 30 ms;\n"
"one 1M-event plot panel < 50 ms; whole run <= 0.6 s with plots, <= 0.3 s\n"
"without; peak RSS <= 4x the file's DATA size; batch -j2 >= 1.7x faster\n"
"than -j1; batch peak RSS independent of the number of samples.\n"
"\n"
"JSON: {\"version\", \"machine\": {nproc, cpu, mem_gb, load1, load1_end},\n"
"\"inputs\": "
"{...}, \"rows\": [{id, stage, value, unit, target, cmp, met, reps,\n"
"note}]}; `make bench` runs the default sizes.\n");
}

typedef struct bench_opts {
    int json, quick, quiet, batch;
    const char *keep, *config;
    int64_t events, batch_events;
    int nbatch, nsmall;
    int reps, proc_reps;
} bench_opts;

static void progress(const bench_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(const bench_opts *o, const char *fmt, ...)
{
    if (o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* The default config: ./configs/..., else relative to the executable
 * (build/pipeline/cytogate -> ../../configs). Owned string or NULL. */
static char *find_config(void)
{
    const char *rel = "configs/treg_th17.yaml";
    if (file_exists(rel))
        return strdup(rel);
    char *exe = cg_bench_self_exe();
    if (!exe)
        return NULL;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    const char *ups[] = {"/../../", "/../", "/../../../"};
    for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
        size_t n = strlen(exe) + strlen(ups[i]) + strlen(rel) + 1;
        char *p = malloc(n);
        if (!p)
            break;
        snprintf(p, n, "%s%s%s", exe, ups[i], rel);
        if (file_exists(p)) {
            free(exe);
            return p;
        }
        free(p);
    }
    free(exe);
    return NULL;
}

static char *pjoin(const char *a, const char *b)
{
    char *p = cg_path_join(a, b);
    if (!p) {
        fprintf(stderr, "cytogate bench: out of memory\n");
        exit(CG_EXIT_DATA); /* the command, not the library */
    }
    return p;
}

/* ------------------------------------------------------------- inputs -- */

typedef struct gen_job {
    char *path;
    int64_t events;
    uint64_t seed;
    char id[32];
} gen_job;

/* Generate the files in child processes (nproc at a time) so this
 * process's RSS high-water mark stays small. */
static int generate(gen_job *jobs, int n, int par)
{
    int running = 0, next = 0, failed = 0;
    while (next < n || running > 0) {
        while (next < n && running < par) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                cg_error_cmd("bench", "fork: %s", strerror(errno));
                return -1;
            }
            if (pid == 0) {
                cg_err e = {0};
                if (cg_bench_make_fcs(jobs[next].path, jobs[next].events,
                                      jobs[next].seed, jobs[next].id,
                                      &e) < 0) {
                    fprintf(stderr, "cytogate bench: %s\n", e.msg);
                    _exit(1);
                }
                _exit(0);
            }
            next++;
            running++;
        }
        int st;
        pid_t got = wait(&st);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        running--;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    return failed ? -1 : 0;
}

/* inputs.txt records the sizes the inputs were made for. */
static int stamp_matches(const char *stamp, const char *want)
{
    FILE *fp = fopen(stamp, "r");
    if (!fp)
        return 0;
    char buf[256] = "";
    size_t k = fread(buf, 1, sizeof buf - 1, fp);
    buf[k] = '\0';
    fclose(fp);
    return !strcmp(buf, want);
}

typedef struct inputs {
    char *dir, *big, *batch_dir, *small_dir;
} inputs;

static int make_inputs(const bench_opts *o, const char *work, inputs *in)
{
    in->dir = pjoin(work, "inputs");
    in->big = pjoin(in->dir, "big.fcs");
    in->batch_dir = pjoin(in->dir, "batch");
    in->small_dir = pjoin(in->dir, "batch_small");
    char want[256];
    snprintf(want, sizeof want,
             "cytogate bench inputs v%d: events=%lld batch=%d x %lld "
             "small=%d\n",
             INPUT_STAMP_VERSION, (long long)o->events, o->nbatch,
             (long long)o->batch_events, o->nsmall);
    char *stamp = pjoin(in->dir, "inputs.txt");
    if (stamp_matches(stamp, want) && file_exists(in->big)) {
        progress(o, "reusing inputs in %s", in->dir);
        free(stamp);
        return 0;
    }
    if (file_exists(in->dir) && cg_bench_rmtree(in->dir) < 0) {
        cg_error_cmd("bench", "%s: cannot clear: %s", in->dir,
                     strerror(errno));
        free(stamp);
        return -1;
    }
    if (cg_mkdir_p(in->batch_dir) < 0 || cg_mkdir_p(in->small_dir) < 0) {
        cg_error_cmd("bench", "%s: %s", in->dir, strerror(errno));
        free(stamp);
        return -1;
    }
    int nj = 1 + (o->batch ? o->nbatch : 0);
    gen_job *jobs = calloc((size_t)nj, sizeof *jobs);
    if (!jobs) {
        free(stamp);
        return -1;
    }
    jobs[0] = (gen_job){strdup(in->big), o->events, 1, "big"};
    for (int i = 1; i < nj; i++) {
        char name[64];
        snprintf(name, sizeof name, "s%03d.fcs", i);
        jobs[i].path = pjoin(in->batch_dir, name);
        jobs[i].events = o->batch_events;
        jobs[i].seed = 100 + (uint64_t)i;
        snprintf(jobs[i].id, sizeof jobs[i].id, "s%03d", i);
    }
    progress(o, "generating %lld-event file and %d x %lld-event batch in %s",
             (long long)o->events, nj - 1, (long long)o->batch_events,
             in->dir);
    double t0 = cg_bench_now_ms();
    long np = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = generate(jobs, nj, np > 0 ? (int)np : 1);
    for (int i = 1; rc == 0 && i < nj && i <= o->nsmall; i++) {
        char name[64], target[96];
        snprintf(name, sizeof name, "s%03d.fcs", i);
        snprintf(target, sizeof target, "../batch/%s", name);
        char *link = pjoin(in->small_dir, name);
        if (symlink(target, link) < 0)
            rc = -1;
        free(link);
    }
    for (int i = 0; i < nj; i++)
        free(jobs[i].path);
    free(jobs);
    if (rc < 0) {
        cg_error_cmd("bench", "could not generate the inputs in %s", in->dir);
        free(stamp);
        return -1;
    }
    progress(o, "inputs ready in %.1f s", (cg_bench_now_ms() - t0) / 1e3);
    rc = cg_write_file_atomic(stamp, want, strlen(want));
    free(stamp);
    return rc;
}

static void inputs_clear(inputs *in)
{
    free(in->dir);
    free(in->big);
    free(in->batch_dir);
    free(in->small_dir);
}

/* ------------------------------------------------- whole-process stages -- */

typedef struct proc_fig {
    int ran, reps, status;
    double wall_ms, cpu_ms, rss_mb; /* best wall, its CPU; max RSS */
} proc_fig;

/* `cytogate run` reps times; best wall time, max peak RSS. */
static int run_proc(const bench_opts *o, const char *exe, const char *cfg,
                    const char *outdir, const char *input, int plots,
                    int threads, int reps, const char *log, proc_fig *pf)
{
    char jbuf[16];
    snprintf(jbuf, sizeof jbuf, "-j%d", threads);
    char *argv[12];
    int k = 0;
    argv[k++] = (char *)exe;
    argv[k++] = "run";
    argv[k++] = "-c";
    argv[k++] = (char *)cfg;
    argv[k++] = "-o";
    argv[k++] = (char *)outdir;
    argv[k++] = jbuf;
    argv[k++] = "-q";
    if (!plots)
        argv[k++] = "--no-plots";
    argv[k++] = (char *)input;
    argv[k] = NULL;
    memset(pf, 0, sizeof *pf);
    pf->wall_ms = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_bench_proc p;
        cg_err e = {0};
        if (cg_bench_spawn(argv, log, &p, &e) < 0) {
            cg_error_cmd("bench", "%s", e.msg);
            return -1;
        }
        if (p.status != 0) {
            cg_error_cmd("bench", "`cytogate run %s%s` exited with %d (log: "
                         "%s)", plots ? "" : "--no-plots ", jbuf, p.status,
                         log);
            pf->status = p.status;
        }
        if (p.wall_ms < pf->wall_ms) {
            pf->wall_ms = p.wall_ms;
            pf->cpu_ms = p.cpu_ms;
        }
        if (p.maxrss_mb > pf->rss_mb)
            pf->rss_mb = p.maxrss_mb;
        progress(o, "  run %s%s %s: %.2f s wall, %.2f s CPU, %.0f MB peak",
                 jbuf, plots ? "" : " --no-plots", input, p.wall_ms / 1e3,
                 p.cpu_ms / 1e3, p.maxrss_mb);
    }
    pf->ran = 1;
    pf->reps = reps;
    return 0;
}

/* ----------------------------------------------------- in-process work -- */

typedef struct tree_work {
    const cg_config *cfg;
    cg_result res;
    int nmk, nrole;
    cg_dim *mk_dim, *mk_raw, *role_dim, *role_raw;
    int *mk_ok, *role_ok;
    cg_xform **mk_xf;
    cg_xform *sc_xf;
    cg_gatetree *tree;
    int levels, ngates;
    char why[256]; /* why the fixed tree could not be built */
} tree_work;

static const cg_dim *dim_of(tree_work *w, const char *name, int raw)
{
    int m = cg_config_marker(w->cfg, name);
    if (m >= 0)
        return w->mk_ok[m] ? (raw ? &w->mk_raw[m] : &w->mk_dim[m]) : NULL;
    int r = cg_config_role(w->cfg, name);
    if (r >= 0 && w->role_ok[r])
        return raw ? &w->role_raw[r] : &w->role_dim[r];
    return NULL;
}

/* The config's tree with the gates the run chose for this sample (auto
 * gates fixed at their thresholds/polygons), so that evaluating it is the
 * gating work alone.  Dimensions read the (already compensated) frame. */
static int build_tree(tree_work *w, cg_err *err)
{
    const cg_config *cfg = w->cfg;
    cg_result *res = &w->res;
    w->nmk = cfg->nmarkers;
    w->nrole = cfg->nscatter;
    w->mk_dim = calloc((size_t)w->nmk + 1, sizeof *w->mk_dim);
    w->mk_raw = calloc((size_t)w->nmk + 1, sizeof *w->mk_raw);
    w->mk_ok = calloc((size_t)w->nmk + 1, sizeof *w->mk_ok);
    w->mk_xf = calloc((size_t)w->nmk + 1, sizeof *w->mk_xf);
    w->role_dim = calloc((size_t)w->nrole + 1, sizeof *w->role_dim);
    w->role_raw = calloc((size_t)w->nrole + 1, sizeof *w->role_raw);
    w->role_ok = calloc((size_t)w->nrole + 1, sizeof *w->role_ok);
    w->tree = cg_gatetree_new();
    if (!w->mk_dim || !w->mk_raw || !w->mk_ok || !w->mk_xf || !w->role_dim ||
        !w->role_raw || !w->role_ok || !w->tree)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int m = 0; m < w->nmk; m++) {
        cg_dim_init(&w->mk_dim[m]);
        cg_dim_init(&w->mk_raw[m]);
    }
    for (int r = 0; r < w->nrole; r++) {
        cg_dim_init(&w->role_dim[r]);
        cg_dim_init(&w->role_raw[r]);
    }
    if (!(w->sc_xf = cg_run_xform(cg_config_tf(cfg, -1), 0, err)))
        return -1;
    for (int m = 0; m < w->nmk; m++) {
        if (!res->marker_pnn[m])
            continue;
        double wv = isnan(res->marker_w[m]) ? 0.5 : res->marker_w[m];
        /* the logicle T and M the run used for this sample's channel */
        cg_tf_spec ts = *cg_config_tf(cfg, m);
        if (res->marker_tf && isfinite(res->marker_tf[m].T))
            ts.T = res->marker_tf[m].T;
        if (res->marker_tf && isfinite(res->marker_tf[m].M))
            ts.M = res->marker_tf[m].M;
        if (!(w->mk_xf[m] = cg_run_xform(&ts, wv, err)) ||
            cg_dim_set_channel(&w->mk_dim[m], res->marker_pnn[m], CG_COMP_NONE,
                               NULL, err) < 0 ||
            cg_dim_set_xform(&w->mk_dim[m], w->mk_xf[m], -INFINITY, INFINITY,
                             NULL, err) < 0 ||
            cg_dim_set_channel(&w->mk_raw[m], res->marker_pnn[m], CG_COMP_NONE,
                               NULL, err) < 0)
            return -1;
        w->mk_ok[m] = 1;
    }
    for (int r = 0; r < w->nrole; r++) {
        if (!res->role_pnn[r])
            continue;
        if (cg_dim_set_channel(&w->role_dim[r], res->role_pnn[r], CG_COMP_NONE,
                               NULL, err) < 0 ||
            cg_dim_set_xform(&w->role_dim[r], w->sc_xf, -INFINITY, INFINITY,
                             NULL, err) < 0 ||
            cg_dim_set_channel(&w->role_raw[r], res->role_pnn[r], CG_COMP_NONE,
                               NULL, err) < 0)
            return -1;
        w->role_ok[r] = 1;
    }
    for (int gi = 0; gi < cfg->ngates; gi++) {
        const cg_gate_spec *g = &cfg->gates[gi];
        const cg_pop_result *pr = &res->pops[gi];
        if (pr->count < 0)
            continue; /* NA in this sample (and so are its descendants) */
        const char *parent = g->parent >= 0 ? cfg->gates[g->parent].name : NULL;
        cg_gate *gate = NULL;
        cg_dim dims[2];
        int nd = g->ndims;
        switch (g->type) {
        case CG_GS_SCATTER:
        case CG_GS_SINGLETS:
        case CG_GS_POLYGON: {
            int raw = g->type == CG_GS_SINGLETS || g->raw_units;
            const cg_dim *dx = dim_of(w, g->x, raw), *dy = dim_of(w, g->y, raw);
            if (!dx || !dy)
                return cg_err_set(err, CG_E_DATA, "gate %s: no dimension",
                                  g->name);
            dims[0] = *dx;
            dims[1] = *dy;
            const double *vx = g->type == CG_GS_POLYGON ? g->vx : pr->vx;
            const double *vy = g->type == CG_GS_POLYGON ? g->vy : pr->vy;
            int nv = g->type == CG_GS_POLYGON ? g->nvert : pr->nvert;
            if (nv >= 3) {
                double *xy = malloc((size_t)nv * 2 * sizeof *xy);
                if (!xy)
                    return cg_err_set(err, CG_E_NOMEM, "out of memory");
                for (int k = 0; k < nv; k++) {
                    xy[2 * k] = vx[k];
                    xy[2 * k + 1] = vy[k];
                }
                gate = cg_gate_polygon_new(g->name, dims, nv, xy, err);
                free(xy);
            } else {
                double mn[2] = {DBL_MAX, DBL_MAX}, mx[2] = {INFINITY, INFINITY};
                gate = cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
            }
            break;
        }
        case CG_GS_THRESHOLD:
        case CG_GS_RANGE:
        case CG_GS_RECTANGLE: {
            cg_dim dv[8];
            double mn[8], mx[8];
            if (nd > 8 || (pr->nthr != nd))
                return cg_err_set(err, CG_E_DATA, "gate %s: %d dimensions",
                                  g->name, nd);
            int k = 0;
            for (int d = 0; d < nd; d++) {
                const cg_dim_spec *ds = &g->dims[d];
                const cg_dim *dm = dim_of(w, ds->marker, g->raw_units);
                if (!dm && ds->optional)
                    continue; /* dropped, as run.c does */
                if (!dm)
                    return cg_err_set(err, CG_E_DATA, "gate %s: no %s",
                                      g->name, ds->marker);
                dv[k] = *dm;
                cg_run_dim_bounds(ds, pr->thr[d].threshold, &mn[k], &mx[k]);
                k++;
            }
            gate = cg_gate_rect_new(g->name, k, dv, mn, mx, err);
            break;
        }
        default:
            snprintf(w->why, sizeof w->why,
                     "gate %s: type %s is not supported by the benchmark's "
                     "fixed tree", g->name, cg_gs_type_name(g->type));
            return cg_err_set(err, CG_E_ARG, "%s", w->why);
        }
        if (!gate || cg_gatetree_add(w->tree, gate, parent, err) < 0)
            return -1;
        w->ngates++;
        int lv = 1;
        for (int p = g->parent; p >= 0; p = cfg->gates[p].parent)
            lv++;
        if (lv > w->levels)
            w->levels = lv;
    }
    return 0;
}

static void tree_work_clear(tree_work *w)
{
    for (int m = 0; w->mk_dim && m < w->nmk; m++) {
        cg_dim_clear(&w->mk_dim[m]);
        cg_dim_clear(&w->mk_raw[m]);
        cg_xform_free(w->mk_xf[m]);
    }
    for (int r = 0; w->role_dim && r < w->nrole; r++) {
        cg_dim_clear(&w->role_dim[r]);
        cg_dim_clear(&w->role_raw[r]);
    }
    free(w->mk_dim);
    free(w->mk_raw);
    free(w->mk_ok);
    free(w->mk_xf);
    free(w->role_dim);
    free(w->role_raw);
    free(w->role_ok);
    cg_xform_free(w->sc_xf);
    cg_gatetree_free(w->tree);
    cg_result_clear(&w->res);
}

static const cg_bits *parent_bits(tree_work *w, const cg_members *mem, int gi)
{
    int p = w->cfg->gates[gi].parent;
    if (p < 0)
        return NULL;
    int k = cg_gatetree_find(w->tree, w->cfg->gates[p].name);
    return k >= 0 ? cg_members_bits(mem, k) : NULL;
}

/* The auto gates of the config computed on their parents' events (the
 * part of a run's gating that is density estimation).  ms or < 0. */
static double time_autogates(tree_work *w, cg_dims *dc, const cg_members *mem,
                             int *nauto, cg_err *err)
{
    const cg_config *cfg = w->cfg;
    int64_t n = cg_dims_n(dc);
    double t0 = cg_bench_now_ms();
    *nauto = 0;
    for (int gi = 0; gi < cfg->ngates; gi++) {
        const cg_gate_spec *g = &cfg->gates[gi];
        if (w->res.pops[gi].count < 0)
            continue;
        const cg_bits *par = parent_bits(w, mem, gi);
        if (g->type == CG_GS_SCATTER || g->type == CG_GS_SINGLETS) {
            int raw = g->type == CG_GS_SINGLETS;
            const double *x = cg_dims_get(dc, dim_of(w, g->x, raw), err);
            const double *y = cg_dims_get(dc, dim_of(w, g->y, raw), err);
            if (!x || !y)
                return -1;
            if (g->type == CG_GS_SCATTER) {
                cg_scatter_opts o;
                cg_scatter_opts_init(&o);
                o.level = g->level;
                o.adjust = g->adjust;
                cg_scatter_result sr;
                memset(&sr, 0, sizeof sr);
                if (cg_gate_scatter(x, y, n, par, &o, &sr, err) < 0)
                    return -1;
                cg_scatter_result_release(&sr);
            } else {
                cg_singlets_result sr;
                memset(&sr, 0, sizeof sr);
                if (cg_gate_singlets(x, y, n, par, g->tolerance, &sr, err) < 0)
                    return -1;
            }
            (*nauto)++;
            continue;
        }
        if (g->type != CG_GS_THRESHOLD)
            continue;
        for (int d = 0; d < g->ndims; d++) {
            const cg_dim_spec *ds = &g->dims[d];
            if (ds->method == CG_TM_FIXED || ds->method == CG_TM_INTERVAL)
                continue;
            if (ds->optional && !dim_of(w, ds->marker, g->raw_units))
                continue;
            const double *x =
                cg_dims_get(dc, dim_of(w, ds->marker, g->raw_units), err);
            if (!x)
                return -1;
            cg_threshold_result tr;
            if (cg_run_auto_cut(ds, x, n, par, &tr, err) < 0)
                return -1;
            (*nauto)++;
        }
    }
    return cg_bench_now_ms() - t0;
}

/* The config's statistics for every population, through the call run.c
 * makes (cg_stat_pops: each marker column sorted once, walked per
 * population).  res has room for nmarkers * ngates * nstats values.
 * ms or < 0. */
static double time_stats(tree_work *w, const cg_frame *fr, cg_dims *dc,
                         const cg_members *mem, double *res, int *nsets,
                         cg_err *err)
{
    const cg_config *cfg = w->cfg;
    const double *cols[64];
    const cg_bits *pops[256];
    int nc = 0, np = 0;
    double t0 = cg_bench_now_ms();
    for (int gi = 0; gi < cfg->ngates && np < 256; gi++) {
        int p = cg_gatetree_find(w->tree, cfg->gates[gi].name);
        const cg_bits *b = p >= 0 ? cg_members_bits(mem, p) : NULL;
        if (b)
            pops[np++] = b;
    }
    for (int k = 0; k < cfg->nstat_markers && nc < 64; k++) {
        int m = cfg->stat_markers[k];
        if (!w->mk_ok[m])
            continue;
        const double *x;
        if (cfg->stats_transformed)
            x = cg_dims_get(dc, &w->mk_dim[m], err);
        else {
            int ch = cg_frame_find(fr, w->res.marker_pnn[m]);
            x = ch >= 0 ? fr->col[ch] : NULL;
        }
        if (!x)
            return cg_err_set(err, CG_E_DATA, "statistics: no %s",
                              cfg->markers[m].name);
        cols[nc++] = x;
    }
    if (cg_stat_pops(cols, nc, fr->n, pops, np, cfg->stats, cfg->nstats, res,
                     err) < 0)
        return -1;
    *nsets = nc * np;
    return cg_bench_now_ms() - t0;
}

/* ------------------------------------------------------------ stages -- */

typedef struct bench_ctx {
    const bench_opts *o;
    cg_bench_table *t;
    const cg_config *cfg;
    const char *cfg_path;
    const char *work;
    const inputs *in;
    double data_mb; /* DATA segment of the big file, MB */
    int npar, ncomp;
    int64_t nev;
} bench_ctx;

#define ADD(...)                                                             \
    do {                                                                     \
        if (cg_bench_add(__VA_ARGS__) < 0)                                   \
            goto nomem;                                                      \
    } while (0)

static int in_process(bench_ctx *b)
{
    const bench_opts *o = b->o;
    cg_bench_table *t = b->t;
    const cg_config *cfg = b->cfg;
    int reps = o->reps, heavy = o->reps < 2 ? o->reps : 2;
    int rc = -1;
    fcs_err fe;
    memset(&fe, 0, sizeof fe);
    cg_err e = {0};
    char note[200], stage[96];
    fcs_file *f = NULL;
    double **cols = NULL, **pristine = NULL, *tbuf = NULL;
    double *sres = NULL;
    cg_frame *fr = NULL;
    fcs_spill *fsp = NULL;
    cg_matrix *S = NULL;
    cg_sheet *sheet = NULL;
    cg_run_ctx rctx;
    memset(&rctx, 0, sizeof rctx);
    int rctx_ok = 0;
    tree_work tw;
    memset(&tw, 0, sizeof tw);
    tw.cfg = cfg;
    cg_dims *dc = NULL;
    cg_members *mem = NULL;
    int64_t n = 0;
    int npar = 0;

    /* ---- read + decode */
    progress(o, "read+decode");
    if (!(f = fcs_open(b->in->big, NULL, &fe))) {
        cg_error_file(b->in->big, "%s", fe.msg);
        goto out;
    }
    n = fcs_n_events(f);
    npar = fcs_n_params(f);
    b->nev = n;
    b->npar = npar;
    b->data_mb = (double)fcs_data_length(f) / 1e6;
    fcs_close(f);
    f = NULL;
    cols = calloc((size_t)npar, sizeof *cols);
    if (!cols)
        goto nomem;
    for (int j = 0; j < npar; j++) {
        if (!(cols[j] = malloc((size_t)n * sizeof **cols)))
            goto nomem;
        memset(cols[j], 0, (size_t)n * sizeof **cols); /* fault pages in */
    }
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = cg_bench_now_ms();
        f = fcs_open(b->in->big, NULL, &fe);
        int64_t got = f ? fcs_read_double(f, FCS_SCALED, 0, n, cols, &fe) : -2;
        fcs_close(f);
        f = NULL;
        double dt = cg_bench_now_ms() - t0;
        if (got != n) {
            cg_error_file(b->in->big, "%s", fe.msg);
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(stage, sizeof stage, "read+decode %lldk x %d float32 (%.0f MB)",
             (long long)(n / 1000), npar, b->data_mb);
    snprintf(note, sizeof note, "fcs_open + fcs_read_double (scaled view) "
             "into allocated columns; best of %d", reps);
    const double tgt_scale = 1; /* targets are for 1M events; not scaled */
    ADD(t, "read_decode_ms", stage, best, "ms", CG_BENCH_LE, 30 * tgt_scale,
        reps, note);
    ADD(t, "read_decode_mb_s", "read+decode throughput", b->data_mb /
        (best / 1e3), "MB/s", CG_BENCH_NONE, 0, reps, "DATA bytes / time");
    ADD(t, "read_decode_mev_s", "read+decode events", (double)n / 1e6 /
        (best / 1e3), "Mevents/s", CG_BENCH_NONE, 0, reps, "");
    for (int j = 0; j < npar; j++)
        free(cols[j]);
    free(cols);
    cols = NULL;

    /* ---- open into a frame (what `run` does) */
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_frame_free(fr);
        fr = NULL;
        double t0 = cg_bench_now_ms();
        f = fcs_open(b->in->big, NULL, &fe);
        if (f)
            fr = cg_frame_from_fcs(f, FCS_SCALED, &e);
        double dt = cg_bench_now_ms() - t0;
        if (!f || !fr) {
            cg_error_file(b->in->big, "%s", f ? e.msg : fe.msg);
            goto out;
        }
        if (r < reps - 1) {
            fcs_close(f);
            f = NULL;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "fcs_open + cg_frame_from_fcs (allocates the "
             "frame: page faults included); best of %d", reps);
    ADD(t, "open_frame_ms", "open into a new frame (as run does)", best, "ms",
        CG_BENCH_NONE, 0, reps, note);

    /* ---- compensation */
    progress(o, "compensation");
    int got = fcs_spillover(f, &fsp, &fe);
    fcs_close(f);
    f = NULL;
    if (got <= 0 || !(S = cg_matrix_from_spill(fsp))) {
        cg_error_file(b->in->big, "no usable spillover matrix");
        goto out;
    }
    b->ncomp = S->ncol;
    pristine = calloc((size_t)S->ncol, sizeof *pristine);
    if (!pristine)
        goto nomem;
    for (int j = 0; j < S->ncol; j++) {
        int ch = cg_frame_find(fr, S->col[j]);
        if (ch < 0 || !(pristine[j] = malloc((size_t)n * sizeof **pristine)))
            goto nomem;
        memcpy(pristine[j], fr->col[ch], (size_t)n * sizeof **pristine);
    }
    best = INFINITY;
    cg_comp_report crep;
    for (int r = 0; r < reps; r++) {
        for (int j = 0; j < S->ncol; j++)
            memcpy(fr->col[cg_frame_find(fr, S->col[j])], pristine[j],
                   (size_t)n * sizeof **pristine);
        double t0 = cg_bench_now_ms();
        int crc = cg_compensate(fr, S, &crep, &e);
        double dt = cg_bench_now_ms() - t0;
        if (crc < 0) {
            cg_error_cmd("bench", "compensation: %s", e.msg);
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    for (int j = 0; j < S->ncol; j++)
        free(pristine[j]);
    free(pristine);
    pristine = NULL;
    snprintf(stage, sizeof stage, "compensation %lldk x %d channels",
             (long long)(n / 1000), S->ncol);
    snprintf(note, sizeof note, "cg_compensate in place (LU solve + blocked "
             "BLAS apply, includes the condition estimate); best of %d", reps);
    ADD(t, "compensate_ms", stage, best, "ms", CG_BENCH_LE, 25 * tgt_scale,
        reps, note);

    /* ---- transforms */
    progress(o, "transforms");
    size_t nv = (size_t)(n < 1000000 ? (n > 1000 ? n : 1000) : 1000000);
    static const struct {
        cg_xform_kind k;
        const char *id, *name;
    } xk[] = {
        {CG_XF_LINEAR, "xform_linear_ns", "linear (flin)"},
        {CG_XF_LOG, "xform_log_ns", "log (flog)"},
        {CG_XF_ARCSINH, "xform_arcsinh_ns", "arcsinh (cofactor 150)"},
        {CG_XF_ASINH, "xform_asinh_ns", "asinh (Gating-ML fasinh)"},
        {CG_XF_LOGICLE, "xform_logicle_ns", "logicle (full accuracy)"},
        {CG_XF_HYPERLOG, "xform_hyperlog_ns", "hyperlog"},
        {CG_XF_BIEX, "xform_biex_ns", "FlowJo biexponential"},
    };
    for (size_t k = 0; k < sizeof xk / sizeof xk[0]; k++) {
        double ns = cg_bench_xform_ns(xk[k].k, NULL, nv, reps);
        if (ns < 0) {
            cg_error_cmd("bench", "transform %s failed", xk[k].name);
            goto out;
        }
        snprintf(stage, sizeof stage, "transform: %s", xk[k].name);
        snprintf(note, sizeof note, "cg_xform_fwd over %zu flow-like values "
                 "(30%% near 0, 70%% log-uniform); best of %d", nv, reps);
        ADD(t, xk[k].id, stage, ns, "ns/value",
            xk[k].k == CG_XF_LOGICLE ? CG_BENCH_LE : CG_BENCH_NONE, 20, reps,
            note);
    }
    double lg = cg_bench_find(t, "xform_logicle_ns")->value;
    double ref = cg_bench_logicle_ref_ns(NULL, nv, reps);
    if (ref < 0) {
        cg_error_cmd("bench", "reference logicle failed");
        goto out;
    }
    ADD(t, "logicle_ref_ns", "logicle, per-value reference solve", ref,
        "ns/value", CG_BENCH_NONE, 0, reps,
        "Moore & Parks style Halley solve per value (the yardstick)");
    ADD(t, "logicle_speedup", "logicle speed-up over the reference",
        ref / lg, "x", CG_BENCH_GE, 8, reps, "issue 4: at least 8x");
    /* setup cost: a run builds one transform per marker per sample */
    {
        cg_xform_params lp;
        memset(&lp, 0, sizeof lp);
        lp.T = 262144, lp.W = 0.5, lp.M = 4.5, lp.A = 0;
        best = INFINITY;
        for (int r = 0; r < reps; r++) {
            double t0 = cg_bench_now_ms();
            for (int k = 0; k < 10; k++) {
                cg_xform *x1 = cg_xform_new(CG_XF_LOGICLE, &lp, &e);
                if (!x1) {
                    cg_error_cmd("bench", "logicle: %s", e.msg);
                    goto out;
                }
                cg_xform_free(x1);
            }
            double dt = (cg_bench_now_ms() - t0) / 10;
            if (dt < best)
                best = dt;
        }
        snprintf(note, sizeof note, "cg_xform_new + free (parameters and "
                 "lookup table); mean of 10, best of %d", reps);
        ADD(t, "logicle_setup_ms", "logicle: creating one transform", best,
            "ms", CG_BENCH_NONE, 0, reps, note);
    }
    /* logicle on the compensated data */
    const cg_tf_spec *dtf = cg_config_tf(cfg, 0);
    cg_xform *lxf = cg_run_xform(dtf, 0.5, &e);
    if (!lxf || !(tbuf = malloc((size_t)n * sizeof *tbuf)))
        goto nomem;
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = cg_bench_now_ms();
        for (int j = 0; j < S->ncol; j++)
            cg_xform_fwd(lxf, fr->col[cg_frame_find(fr, S->col[j])], tbuf,
                         (size_t)n);
        double dt = cg_bench_now_ms() - t0;
        if (dt < best)
            best = dt;
    }
    cg_xform_free(lxf);
    snprintf(note, sizeof note, "the config's default transform (%s) over "
             "the %d compensated channels; best of %d",
             cg_tf_type_name(dtf->type), S->ncol, reps);
    ADD(t, "xform_data_ns", "transform: default, on the compensated data",
        best * 1e6 / ((double)n * S->ncol), "ns/value", CG_BENCH_NONE, 0, reps,
        note);

    /* ---- one sample in-process (the fixed tree comes from it) */
    progress(o, "one sample in-process");
    char *paths[1] = {b->in->big};
    if (!(sheet = cg_sheet_from_paths(1, paths, &e))) {
        cg_error_cmd("bench", "%s", e.msg);
        goto out;
    }
    cg_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.threads = 1; /* no outdir: no files, no plots */
    if (cg_run_ctx_prepare(&rctx, cfg, sheet, &ro, &e) < 0) {
        cg_error_cmd("bench", "%s", e.msg);
        goto out;
    }
    rctx_ok = 1;
    best = INFINITY;
    for (int r = 0; r < heavy; r++) {
        cg_result_clear(&tw.res);
        double t0 = cg_bench_now_ms();
        int src = cg_run_sample(&rctx, 0, &tw.res);
        double dt = cg_bench_now_ms() - t0;
        if (src < 0) {
            cg_error_cmd("bench", "run: %s",
                         tw.res.message ? tw.res.message : "failed");
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "cg_run_sample, no plots: sha256, read, "
             "compensate, QC, transforms, auto gates, stats; best of %d",
             heavy);
    ADD(t, "sample_inproc_ms", "one sample in-process, no plots", best, "ms",
        CG_BENCH_NONE, 0, heavy, note);

    /* ---- gating: the tree with the gates this sample got */
    progress(o, "gating");
    if (build_tree(&tw, &e) < 0) {
        cg_error_cmd("bench", "gating stage skipped: %s", e.msg);
        rc = 0;
        goto out;
    }
    if (!(dc = cg_dims_new(fr, NULL, &e)) || !(mem = cg_members_new(n)) ||
        cg_gatetree_eval(tw.tree, dc, mem, &e) < 0) {
        cg_error_cmd("bench", "gating: %s", e.msg);
        goto out;
    }
    int mismatch = 0;
    if (tw.res.events_used == n)
        for (int gi = 0; gi < cfg->ngates; gi++) {
            int p = cg_gatetree_find(tw.tree, cfg->gates[gi].name);
            if (p >= 0 && cg_members_count(mem, p) != tw.res.pops[gi].count)
                mismatch++;
        }
    if (mismatch)
        cg_error_cmd("bench", "warning: %d populations differ from the run's "
                     "counts", mismatch);
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_members *m2 = cg_members_new(n);
        if (!m2)
            goto nomem;
        double t0 = cg_bench_now_ms();
        int grc = cg_gatetree_eval(tw.tree, dc, m2, &e);
        double dt = cg_bench_now_ms() - t0;
        cg_members_free(m2);
        if (grc < 0) {
            cg_error_cmd("bench", "gating: %s", e.msg);
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    /* the slowest gate, evaluated alone on its parent's events */
    double slow = -1;
    int slow_i = -1;
    cg_bits *gout = cg_bits_new(n);
    if (!gout)
        goto nomem;
    for (int i = 0; i < cg_gatetree_n_gates(tw.tree); i++) {
        const cg_gate *g = cg_gatetree_gate(tw.tree, i);
        const char *pid = cg_gatetree_gate_parent(tw.tree, i);
        int pp = pid ? cg_gatetree_find(tw.tree, pid) : -1;
        if (cg_gate_npop(g) != 1 || cg_gate_kind_of(g) == CG_GATE_BOOL)
            continue;
        const cg_bits *par = pp >= 0 ? cg_members_bits(mem, pp) : NULL;
        double gb = INFINITY;
        for (int r = 0; r < reps; r++) {
            double t0 = cg_bench_now_ms();
            int grc = cg_gate_eval(g, dc, par, &gout, &e);
            double dt = cg_bench_now_ms() - t0;
            if (grc < 0)
                break;
            if (dt < gb)
                gb = dt;
        }
        if (isfinite(gb) && gb > slow) {
            slow = gb;
            slow_i = i;
        }
    }
    cg_bits_free(gout);
    /* slow_txt goes into note[200] after 95 fixed bytes and up to 11 of
     * reps: 93 bytes at most, so the gate id is cut at 36 (the rest of
     * the text is at most 57 with a 10-digit count and a 5-digit time). */
    char slow_txt[94] = "";
    if (slow_i >= 0) {
        const cg_gate *g = cg_gatetree_gate(tw.tree, slow_i);
        if (cg_gate_kind_of(g) == CG_GATE_POLYGON)
            snprintf(slow_txt, sizeof slow_txt, "; slowest gate %.36s "
                     "(polygon, %d vertices) %.1f ms", cg_gate_id(g),
                     cg_gate_polygon_nv(g), slow);
        else
            snprintf(slow_txt, sizeof slow_txt, "; slowest gate %.36s (%s) "
                     "%.1f ms", cg_gate_id(g),
                     cg_gate_kind_name(cg_gate_kind_of(g)), slow);
    }
    snprintf(stage, sizeof stage, "gating: %d gates, %d levels, %lldk events",
             tw.ngates, tw.levels, (long long)(n / 1000));
    snprintf(note, sizeof note, "cg_gatetree_eval with this sample's cuts, "
             "values cached; counts %s the run's%s; best of %d",
             mismatch ? "DIFFER from" : "equal", slow_txt, reps);
    ADD(t, "gating_ms", stage, best, "ms", CG_BENCH_LE, 30 * tgt_scale, reps,
        note);
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_dims *d2 = cg_dims_new(fr, NULL, &e);
        cg_members *m2 = cg_members_new(n);
        if (!d2 || !m2) {
            cg_dims_free(d2);
            cg_members_free(m2);
            goto nomem;
        }
        double t0 = cg_bench_now_ms();
        int grc = cg_gatetree_eval(tw.tree, d2, m2, &e);
        double dt = cg_bench_now_ms() - t0;
        cg_dims_free(d2);
        cg_members_free(m2);
        if (grc < 0)
            goto out;
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "the same with an empty value cache: each "
             "gate dimension transformed first; best of %d", reps);
    ADD(t, "gating_cold_ms", "gating incl. transforming its dimensions", best,
        "ms", CG_BENCH_NONE, 0, reps, note);

    /* ---- auto gates */
    progress(o, "auto gates");
    best = INFINITY;
    int nauto = 0;
    for (int r = 0; r < heavy; r++) {
        double dt = time_autogates(&tw, dc, mem, &nauto, &e);
        if (dt < 0) {
            cg_error_cmd("bench", "auto gates: %s", e.msg);
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "%d density-based cuts/contours (KDE) on "
             "their parents' events; best of %d", nauto, heavy);
    ADD(t, "autogates_ms", "auto gates (scatter, singlets, valleys, tail)",
        best, "ms", CG_BENCH_NONE, 0, heavy, note);

    /* ---- statistics */
    progress(o, "statistics");
    sres = malloc((size_t)(cfg->nstat_markers * cfg->ngates + 1) *
                  (size_t)(cfg->nstats + 1) * sizeof *sres);
    if (!sres)
        goto nomem;
    best = INFINITY;
    int nsets = 0;
    for (int r = 0; r < heavy; r++) {
        double dt = time_stats(&tw, fr, dc, mem, sres, &nsets, &e);
        if (dt < 0) {
            cg_error_cmd("bench", "%s", e.msg);
            goto out;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "%d population x marker sets, %d statistics "
             "each (cg_stat_pops, as run does); best of %d", nsets,
             cfg->nstats, heavy);
    ADD(t, "stats_ms", "statistics, every population x marker", best, "ms",
        CG_BENCH_NONE, 0, heavy, note);

    /* ---- plot: one 1M-event panel */
    progress(o, "plot");
    int mx = cg_config_marker(cfg, "CD25"), my = cg_config_marker(cfg, "CD127");
    for (int m = 0; m < tw.nmk && (mx < 0 || !tw.mk_ok[mx]); m++)
        if (tw.mk_ok[m] && m != my)
            mx = m;
    for (int m = 0; m < tw.nmk && (my < 0 || !tw.mk_ok[my]); m++)
        if (tw.mk_ok[m] && m != mx)
            my = m;
    if (mx < 0 || my < 0 || !tw.mk_ok[mx] || !tw.mk_ok[my]) {
        cg_error_cmd("bench", "plot stage skipped: fewer than 2 markers");
    } else {
        const double *px = cg_dims_get(dc, &tw.mk_dim[mx], &e);
        const double *py = cg_dims_get(dc, &tw.mk_dim[my], &e);
        if (!px || !py)
            goto out;
        char lx[96], ly[96];
        snprintf(lx, sizeof lx, "%s (%s)", cfg->markers[mx].name,
                 tw.res.marker_pnn[mx]);
        snprintf(ly, sizeof ly, "%s (%s)", cfg->markers[my].name,
                 tw.res.marker_pnn[my]);
        cg_plot_panel p;
        memset(&p, 0, sizeof p);
        p.title = "all events";
        p.x = px;
        p.y = py;
        p.n = n;
        cg_plot_axis_xform(&p.xaxis, lx, tw.mk_xf[mx], 0, 1);
        cg_plot_axis_xform(&p.yaxis, ly, tw.mk_xf[my], 0, 1);
        cg_plot_overlay ov;
        memset(&ov, 0, sizeof ov);
        int tg = cg_config_gate(cfg, "treg");
        if (tg >= 0 && tw.res.pops[tg].nthr == 2) {
            ov.kind = CG_PLOT_OV_RECT;
            ov.name = "treg";
            ov.pct = NAN;
            ov.x0 = tw.res.pops[tg].thr[0].threshold;
            ov.x1 = INFINITY;
            ov.y0 = -INFINITY;
            ov.y1 = tw.res.pops[tg].thr[1].threshold;
            if (isfinite(ov.x0) && isfinite(ov.y1)) {
                p.overlays = &ov;
                p.noverlays = 1;
            }
        }
        cg_plot_meta pm = {.sample = "bench", .x_marker = cfg->markers[mx].name,
                           .y_marker = cfg->markers[my].name};
        char *png = pjoin(b->work, "bench_panel.png");
        double bw = INFINITY, bc = INFINITY, bp = INFINITY;
        for (int r = 0; r < reps; r++) {
            double c0 = cg_bench_cpu_ms(), t0 = cg_bench_now_ms();
            cg_plot_image *im = cg_plot_render_panel(&p, &pm, 0, 0, &e);
            double t1 = cg_bench_now_ms(), c1 = cg_bench_cpu_ms();
            int wrc = im ? cg_plot_image_write_png(im, png, &e) : -1;
            double t2 = cg_bench_now_ms();
            cg_plot_image_free(im);
            if (wrc < 0) {
                cg_error_cmd("bench", "plot: %s", e.msg);
                free(png);
                goto out;
            }
            if (t1 - t0 < bw)
                bw = t1 - t0;
            if (c1 - c0 < bc)
                bc = c1 - c0;
            if (t2 - t1 < bp)
                bp = t2 - t1;
        }
        free(png);
        snprintf(stage, sizeof stage, "plot: one %lldk-event panel, %dx%d",
                 (long long)(n / 1000), CG_PLOT_SLIDE_W, CG_PLOT_SLIDE_H);
        snprintf(note, sizeof note, "cg_plot_render_panel, pseudocolor %s vs "
                 "%s, all events; wall (CPU best %.1f ms); best of %d",
                 cfg->markers[mx].name, cfg->markers[my].name, bc, reps);
        ADD(t, "plot_panel_ms", stage, bw, "ms", CG_BENCH_LE, 50 * tgt_scale,
            reps, note);
        snprintf(note, sizeof note, "cg_plot_image_write_png of that figure "
                 "(zlib, tEXt); best of %d", reps);
        ADD(t, "plot_png_ms", "plot: PNG encode + write", bp, "ms",
            CG_BENCH_NONE, 0, reps, note);
    }
    rc = 0;
    goto out;
nomem:
    cg_error_cmd("bench", "out of memory");
out:
    if (cols)
        for (int j = 0; j < npar; j++)
            free(cols[j]);
    free(cols);
    if (pristine && S)
        for (int j = 0; j < S->ncol; j++)
            free(pristine[j]);
    free(pristine);
    free(tbuf);
    free(sres);
    cg_members_free(mem);
    cg_dims_free(dc);
    tree_work_clear(&tw);
    if (rctx_ok)
        cg_run_ctx_clear(&rctx);
    cg_sheet_free(sheet);
    cg_matrix_free(S);
    fcs_spill_free(fsp);
    cg_frame_free(fr);
    fcs_close(f);
    return rc;
}

/* ------------------------------------------------------------- command -- */

static int parse_n(const char *opt, const char *v, long lo, long hi, long *out)
{
    if (!v || cg_parse_int(v, lo, hi, out) < 0) {
        cg_error_cmd("bench", "%s needs an integer in [%ld, %ld]", opt, lo, hi);
        return -1;
    }
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.events = 1000000;
    o.batch_events = 200000;
    o.nbatch = 48;
    o.reps = 5;
    o.proc_reps = 3;
    o.batch = 1;
    int set_events = 0, set_batch = 0, set_bev = 0, set_reps = 0,
        set_preps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--quick")) {
            o.quick = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.quiet = 1;
        } else if (!strcmp(a, "--no-batch")) {
            o.batch = 0;
        } else if (cg_opt_is(a, NULL, "--keep") ||
                   cg_opt_is(a, "-c", "--config")) {
            /* same spelling as run: -cFILE, --config=FILE, -c FILE */
            int keep = cg_opt_is(a, NULL, "--keep");
            if (!(v = cg_opt_value("bench", argc, argv, &i)))
                return cg_usage_short("bench", usage);
            if (keep)
                o.keep = v;
            else
                o.config = v;
        } else if (!strcmp(a, "--events")) {
            if (parse_n(a, v, 1000, 100000000, &x) < 0)
                return cg_usage_short("bench", usage);
            o.events = x;
            set_events = 1;
            i++;
        } else if (!strcmp(a, "--batch")) {
            if (parse_n(a, v, 2, 10000, &x) < 0)
                return cg_usage_short("bench", usage);
            o.nbatch = (int)x;
            set_batch = 1;
            i++;
        } else if (!strcmp(a, "--batch-events")) {
            if (parse_n(a, v, 1000, 100000000, &x) < 0)
                return cg_usage_short("bench", usage);
            o.batch_events = x;
            set_bev = 1;
            i++;
        } else if (!strcmp(a, "--reps") || !strcmp(a, "--proc-reps")) {
            if (parse_n(a, v, 1, 1000, &x) < 0)
                return cg_usage_short("bench", usage);
            if (!strcmp(a, "--reps")) {
                o.reps = (int)x;
                set_reps = 1;
            } else {
                o.proc_reps = (int)x;
                set_preps = 1;
            }
            i++;
        } else {
            if (a[0] == '-')
                cg_opt_unknown("bench", a, usage);
            else
                cg_error_cmd("bench", "unexpected argument '%s'", a);
            return cg_usage_short("bench", usage);
        }
    }
    if (o.quick) {
        if (!set_events)
            o.events = 20000;
        if (!set_batch)
            o.nbatch = 4;
        if (!set_bev)
            o.batch_events = 5000;
        if (!set_reps)
            o.reps = 1;
        if (!set_preps)
            o.proc_reps = 1;
    }
    /* the small batch keeps both -j2 workers busy, so its peak RSS has as
     * many samples in flight as the full batch */
    o.nsmall = o.nbatch / 4 > 2 ? o.nbatch / 4 : 2;

    char *cfg_path = o.config ? strdup(o.config) : find_config();
    if (!cfg_path) {
        cg_error_cmd("bench", "configs/treg_th17.yaml not found; pass "
                     "--config FILE");
        return CG_EXIT_USAGE;
    }
    cg_err e = {0};
    cg_config *cfg = cg_config_load(cfg_path, &e);
    if (!cfg) {
        if (e.line)
            cg_error_file(cfg_path, "line %d: %s", e.line, e.msg);
        else
            cg_error_file(cfg_path, "%s", e.msg);
        free(cfg_path);
        return CG_EXIT_USAGE;
    }
    char *exe = cg_bench_self_exe();
    char *work = NULL;
    if (o.keep) {
        if (cg_mkdir_p(o.keep) < 0) {
            cg_error_cmd("bench", "%s: %s", o.keep, strerror(errno));
            cg_config_free(cfg);
            free(cfg_path);
            free(exe);
            return CG_EXIT_USAGE;
        }
        work = strdup(o.keep);
    } else {
        const char *tmp = getenv("TMPDIR");
        char *tmpl = pjoin(tmp && *tmp ? tmp : "/tmp", "cytogate-bench.XXXXXX");
        work = mkdtemp(tmpl) ? tmpl : NULL;
        if (!work)
            free(tmpl);
    }
    int status = CG_EXIT_DATA;
    cg_bench_table t;
    memset(&t, 0, sizeof t);
    t.targets_apply = !o.quick && o.events == 1000000 && o.nbatch == 48 &&
                      o.batch_events == 200000;
    inputs in;
    memset(&in, 0, sizeof in);
    proc_fig pp, pn, bj1, bj2, bsm;
    memset(&pp, 0, sizeof pp);
    memset(&pn, 0, sizeof pn);
    memset(&bj1, 0, sizeof bj1);
    memset(&bj2, 0, sizeof bj2);
    memset(&bsm, 0, sizeof bsm);
    cg_bench_machine mach;
    cg_bench_machine_info(&mach);
    if (!exe || !work) {
        cg_error_cmd("bench", "cannot set up: %s", strerror(errno));
        goto done;
    }
    if (make_inputs(&o, work, &in) < 0)
        goto done;

    /* ---- whole processes first, while this process is small */
    char *log = pjoin(work, "run.log");
    char *out1 = pjoin(work, "out_plots"), *out2 = pjoin(work, "out_noplots");
    char *outb1 = pjoin(work, "out_batch_j1"), *outb2 = pjoin(work,
                                                              "out_batch_j2");
    char *outbs = pjoin(work, "out_batch_small_j2");
    progress(&o, "whole `cytogate run` on the big file (log: %s)", log);
    int prc = run_proc(&o, exe, cfg_path, out1, in.big, 1, 1, o.proc_reps, log,
                       &pp);
    if (prc == 0)
        prc = run_proc(&o, exe, cfg_path, out2, in.big, 0, 1, o.proc_reps, log,
                       &pn);
    if (prc == 0 && o.batch) {
        progress(&o, "batch of %d at -j1, -j2, and %d samples at -j2",
                 o.nbatch, o.nsmall);
        prc = run_proc(&o, exe, cfg_path, outb1, in.batch_dir, 1, 1, 1, log,
                       &bj1);
        if (prc == 0)
            prc = run_proc(&o, exe, cfg_path, outb2, in.batch_dir, 1, 2, 1,
                           log, &bj2);
        if (prc == 0)
            prc = run_proc(&o, exe, cfg_path, outbs, in.small_dir, 1, 2, 1,
                           log, &bsm);
    }
    free(log);
    free(out1);
    free(out2);
    free(outb1);
    free(outb2);
    free(outbs);
    if (prc < 0)
        goto done;

    /* ---- in-process stages */
    bench_ctx bc = {&o, &t, cfg, cfg_path, work, &in, 0, 0, 0, 0};
    if (in_process(&bc) < 0)
        goto done;

    /* ---- whole-process rows */
    char note[200], stage[96];
    double rss_t = 4 * bc.data_mb;
    const double sc = 1; /* targets are for the default sizes */
    const struct {
        proc_fig *pf;
        const char *id, *name;
        double target;
    } wr[2] = {{&pp, "run", "with plots", 600}, {&pn, "run_noplots",
                                                 "--no-plots", 300}};
    for (int k = 0; k < 2; k++) {
        proc_fig *pf = wr[k].pf;
        char id[40];
        snprintf(stage, sizeof stage, "whole `cytogate run`, %lldk events, %s",
                 (long long)(bc.nev / 1000), wr[k].name);
        snprintf(note, sizeof note, "fork+exec, wall until wait4; best of "
                 "%d; exit status %d", pf->reps, pf->status);
        snprintf(id, sizeof id, "%s_s", wr[k].id);
        ADD(&t, id, stage, pf->wall_ms / 1e3, "s", CG_BENCH_LE,
            wr[k].target / 1e3 * sc, pf->reps, note);
        snprintf(id, sizeof id, "%s_cpu_s", wr[k].id);
        snprintf(stage, sizeof stage, "  its CPU time (user + sys)");
        ADD(&t, id, stage, pf->cpu_ms / 1e3, "s", CG_BENCH_NONE, 0, pf->reps,
            "rusage of the fastest run");
        snprintf(id, sizeof id, "%s_rss_mb", wr[k].id);
        snprintf(stage, sizeof stage, "  its peak RSS (DATA is %.0f MB)",
                 bc.data_mb);
        ADD(&t, id, stage, pf->rss_mb, "MB", CG_BENCH_LE, rss_t, pf->reps,
            "ru_maxrss of the child (max over runs); target 4x DATA");
    }
    if (o.batch) {
        snprintf(stage, sizeof stage, "batch %d x %lldk events, -j1",
                 o.nbatch, (long long)(o.batch_events / 1000));
        ADD(&t, "batch_j1_s", stage, bj1.wall_ms / 1e3, "s", CG_BENCH_NONE, 0,
            1, "whole process, plots on (the default run)");
        snprintf(stage, sizeof stage, "batch %d x %lldk events, -j2",
                 o.nbatch, (long long)(o.batch_events / 1000));
        ADD(&t, "batch_j2_s", stage, bj2.wall_ms / 1e3, "s", CG_BENCH_NONE, 0,
            1, "whole process, plots on");
        snprintf(note, sizeof note, "wall -j1 / wall -j2 (CPU: %.1f s vs "
                 "%.1f s)", bj1.cpu_ms / 1e3, bj2.cpu_ms / 1e3);
        ADD(&t, "batch_speedup", "batch speed-up -j2 over -j1",
            bj1.wall_ms / bj2.wall_ms, "x", CG_BENCH_GE, 1.7, 1, note);
        ADD(&t, "batch_j1_cores", "batch -j1 cores used (CPU / wall)",
            bj1.cpu_ms / bj1.wall_ms, "cores", CG_BENCH_NONE, 0, 1,
            "below 1: other work on the machine took CPU time");
        ADD(&t, "batch_j2_cores", "batch -j2 cores used (CPU / wall)",
            bj2.cpu_ms / bj2.wall_ms, "cores", CG_BENCH_NONE, 0, 1,
            "about 2 when both workers ran; well below 2 on a busy machine "
            "or when workers serialise");
        ADD(&t, "batch_j1_rss_mb", "batch -j1 peak RSS", bj1.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "ru_maxrss of the child");
        ADD(&t, "batch_j2_rss_mb", "batch -j2 peak RSS", bj2.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "ru_maxrss of the child");
        snprintf(stage, sizeof stage, "batch %d samples -j2 peak RSS",
                 o.nsmall);
        ADD(&t, "batch_small_j2_rss_mb", stage, bsm.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "the first samples of the same batch");
        snprintf(stage, sizeof stage, "batch RSS growth, %d vs %d samples",
                 o.nbatch, o.nsmall);
        ADD(&t, "batch_rss_growth", stage, bj2.rss_mb / bsm.rss_mb, "x",
            CG_BENCH_LE, 1.25, 1, "peak RSS ratio at -j2: ~1 when memory "
            "is bounded by the samples in flight");
    }

    double la_end[1];
    double load_end = getloadavg(la_end, 1) == 1 ? la_end[0] : -1.0;
    if (o.json) {
        json_t *root = json_pack(
            "{s:s, s:{s:i, s:s, s:f, s:f, s:f}, s:{s:s, s:I, s:i, s:f, s:i, s:I, "
            "s:i, s:b, s:s}, s:b, s:o}",
            "version", CYTOGATE_VERSION, "machine", "nproc", mach.nproc, "cpu",
            mach.cpu, "mem_gb", isfinite(mach.mem_gb) ? mach.mem_gb : 0.0,
            "load1", isfinite(mach.load1) ? mach.load1 : -1.0, "load1_end",
            load_end, "inputs",
            "config", cfg_path, "events", (json_int_t)bc.nev, "params",
            bc.npar, "data_mb", bc.data_mb, "batch_samples",
            o.batch ? o.nbatch : 0, "batch_events",
            (json_int_t)o.batch_events, "comp_channels", bc.ncomp, "quick",
            o.quick, "dir", o.keep ? o.keep : "", "targets_apply",
            t.targets_apply, "rows", cg_bench_rows_json(&t));
        if (!root || json_dumpf(root, stdout, JSON_INDENT(2)) < 0) {
            json_decref(root);
            goto nomem;
        }
        fputc('\n', stdout);
        json_decref(root);
    } else {
        printf("cytogate %s bench: %d CPUs (%s), %.1f GB RAM, load %.2f at "
               "start\n", CYTOGATE_VERSION, mach.nproc,
               mach.cpu[0] ? mach.cpu : "unknown CPU", mach.mem_gb, mach.load1);
        printf("inputs: %lld events x %d parameters (%.0f MB DATA); batch %d "
               "x %lld events; config %s\n\n", (long long)bc.nev, bc.npar,
               bc.data_mb, o.batch ? o.nbatch : 0,
               (long long)o.batch_events, cfg_path);
        cg_bench_print(stdout, &t);
        printf("\nload average at the end: %.2f (other work on the machine "
               "slows the wall-clock figures)\n", load_end);
        if (!t.targets_apply)
            printf("(targets are for the default sizes; not judged here)\n");
    }
    status = CG_EXIT_OK;
    goto done;
nomem:
    cg_error_cmd("bench", "out of memory");
done:
    if (work && !o.keep)
        cg_bench_rmtree(work);
    inputs_clear(&in);
    cg_bench_table_clear(&t);
    cg_config_free(cfg);
    free(cfg_path);
    free(exe);
    free(work);
    cg_plot_shutdown();
    return status;
}
