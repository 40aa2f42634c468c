/*
 * cmd_bench.c -- `cytogate bench`: the benchmark of issue 9, and with
 * --whole the whole-process benchmark of issue 14 (bench_whole.c).
 *
 *   cytogate bench [--json] [--quick] [--keep DIR] [--config FILE] ...
 *   cytogate bench --whole [--reps N] [--batch N] [--params N] ...
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
#include "bench_whole.h"
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
"Modes:\n"
"      --whole           time the commands a user runs as whole child\n"
"                        processes (info, gate --gatingml, run with and\n"
"                        without plots on all CPUs and with -j1, plot):\n"
"                        median wall time\n"
"                        of --reps runs, CPU time, peak RSS (wait4); then\n"
"                        a batch of --batch links to the file at -j1 and\n"
"                        -j2, and a table of info/gate/run time against\n"
"                        events (10k..10M) and parameters (12, 30, 60)\n"
"                        [the stage benchmark]\n"
"      --params N        --whole: parameters of the main file, >= 12 [12]\n"
"      --scale-max-mb MB --whole: skip table cells with more DATA [600]\n"
"      --no-scale        --whole: no scaling table\n"
"\n"
"Output:\n"
"      --json            print the results as JSON on stdout (stages)\n"
"  -q, --quiet           no progress lines on stderr\n"
"\n"
"Sizes:\n"
"      --quick           tiny sizes, one run each (a smoke test; targets\n"
"                        are not judged)\n"
"      --events N        events in the single-file stages [1000000]\n"
"      --batch N         samples in the batch [48; --whole: 96]\n"
"      --batch-events N  events per batch sample [200000]\n"
"      --reps N          runs per in-process stage, best kept [5];\n"
"                        --whole: runs per command, median shown [5]\n"
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
    int json, quick, quiet, batch, whole;
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

/* What the stages share: the big file's frame and what was derived from
 * it.  Each stage returns 0, 1 to skip the stages after it (rc 0), or -1
 * with the error printed; ip_clear frees everything. */
typedef struct ip_state {
    bench_ctx *b;
    fcs_err fe;
    cg_err e;
    fcs_file *f;
    double **cols, **pristine, *tbuf, *sres;
    cg_frame *fr;
    fcs_spill *fsp;
    cg_matrix *S;
    cg_sheet *sheet;
    cg_run_ctx rctx;
    int rctx_ok;
    tree_work tw;
    cg_dims *dc;
    cg_members *mem;
    int64_t n;
    int npar, mismatch;
    double gating_best;
} ip_state;

/* The names every stage uses, from s. */
#define IP_ALIASES(s)                                                        \
    bench_ctx *b = (s)->b;                                                   \
    const bench_opts *o = b->o;                                              \
    cg_bench_table *t = b->t;                                                \
    const cg_config *cfg = b->cfg;                                           \
    int reps = o->reps, heavy = o->reps < 2 ? o->reps : 2;                   \
    char note[200], stage[96];                                               \
    double best = INFINITY;                                                  \
    const double tgt_scale = 1; /* targets are for 1M events */              \
    (void)cfg, (void)reps, (void)heavy, (void)note, (void)stage,             \
        (void)best, (void)tgt_scale, (void)t

/* read+decode into preallocated columns (no page faults timed) */
static int st_read(ip_state *s)
{
    IP_ALIASES(s);
/* ---- read + decode */
    progress(o, "read+decode");
    if (!(s->f = fcs_open(b->in->big, NULL, &s->fe))) {
        cg_error_file(b->in->big, "%s", s->fe.msg);
        return -1;
    }
    s->n = fcs_n_events(s->f);
    s->npar = fcs_n_params(s->f);
    b->nev = s->n;
    b->npar = s->npar;
    b->data_mb = (double)fcs_data_length(s->f) / 1e6;
    fcs_close(s->f);
    s->f = NULL;
    s->cols = calloc((size_t)s->npar, sizeof *s->cols);
    if (!s->cols)
        goto nomem;
    for (int j = 0; j < s->npar; j++) {
        if (!(s->cols[j] = malloc((size_t)s->n * sizeof **s->cols)))
            goto nomem;
        memset(s->cols[j], 0,
               (size_t)s->n * sizeof **s->cols); /* fault pages in */
    }
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = cg_bench_now_ms();
        s->f = fcs_open(b->in->big, NULL, &s->fe);
        int64_t got =
            s->f ? fcs_read_double(s->f, FCS_SCALED, 0, s->n, s->cols, &s->fe)
                 : -2;
        fcs_close(s->f);
        s->f = NULL;
        double dt = cg_bench_now_ms() - t0;
        if (got != s->n) {
            cg_error_file(b->in->big, "%s", s->fe.msg);
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(stage, sizeof stage, "read+decode %lldk x %d float32 (%.0f MB)",
             (long long)(s->n / 1000), s->npar, b->data_mb);
    snprintf(note, sizeof note, "fcs_open + fcs_read_double (scaled view) "
             "into allocated columns; best of %d", reps);
    ADD(t, "read_decode_ms", stage, best, "ms", CG_BENCH_LE, 30 * tgt_scale,
        reps, note);
    ADD(t, "read_decode_mb_s", "read+decode throughput", b->data_mb /
        (best / 1e3), "MB/s", CG_BENCH_NONE, 0, reps, "DATA bytes / time");
    ADD(t, "read_decode_mev_s", "read+decode events", (double)s->n / 1e6 /
        (best / 1e3), "Mevents/s", CG_BENCH_NONE, 0, reps, "");
    for (int j = 0; j < s->npar; j++)
        free(s->cols[j]);
    free(s->cols);
    s->cols = NULL;
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* open into a new frame, as `run` does (page faults included) */
static int st_frame(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- open into a frame (what `run` does) */
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_frame_free(s->fr);
        s->fr = NULL;
        double t0 = cg_bench_now_ms();
        s->f = fcs_open(b->in->big, NULL, &s->fe);
        if (s->f)
            s->fr = cg_frame_from_fcs(s->f, FCS_SCALED, &s->e);
        double dt = cg_bench_now_ms() - t0;
        if (!s->f || !s->fr) {
            cg_error_file(b->in->big, "%s", s->f ? s->e.msg : s->fe.msg);
            return -1;
        }
        if (r < reps - 1) {
            fcs_close(s->f);
            s->f = NULL;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "fcs_open + cg_frame_from_fcs (allocates the "
             "frame: page faults included); best of %d", reps);
    ADD(t, "open_frame_ms", "open into a new frame (as run does)", best, "ms",
        CG_BENCH_NONE, 0, reps, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* compensation of the frame in place */
static int st_comp(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- compensation */
    progress(o, "compensation");
    int got = fcs_spillover(s->f, &s->fsp, &s->fe);
    fcs_close(s->f);
    s->f = NULL;
    if (got <= 0 || !(s->S = cg_matrix_from_spill(s->fsp))) {
        cg_error_file(b->in->big, "no usable spillover matrix");
        return -1;
    }
    b->ncomp = s->S->ncol;
    s->pristine = calloc((size_t)s->S->ncol, sizeof *s->pristine);
    if (!s->pristine)
        goto nomem;
    for (int j = 0; j < s->S->ncol; j++) {
        int ch = cg_frame_find(s->fr, s->S->col[j]);
        if (ch < 0 ||
            !(s->pristine[j] = malloc((size_t)s->n * sizeof **s->pristine)))
            goto nomem;
        memcpy(s->pristine[j], s->fr->col[ch],
               (size_t)s->n * sizeof **s->pristine);
    }
    best = INFINITY;
    cg_comp_report crep;
    for (int r = 0; r < reps; r++) {
        for (int j = 0; j < s->S->ncol; j++)
            memcpy(s->fr->col[cg_frame_find(s->fr, s->S->col[j])],
                   s->pristine[j], (size_t)s->n * sizeof **s->pristine);
        double t0 = cg_bench_now_ms();
        int crc = cg_compensate(s->fr, s->S, &crep, &s->e);
        double dt = cg_bench_now_ms() - t0;
        if (crc < 0) {
            cg_error_cmd("bench", "compensation: %s", s->e.msg);
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    for (int j = 0; j < s->S->ncol; j++)
        free(s->pristine[j]);
    free(s->pristine);
    s->pristine = NULL;
    snprintf(stage, sizeof stage, "compensation %lldk x %d channels",
             (long long)(s->n / 1000), s->S->ncol);
    snprintf(note, sizeof note, "cg_compensate in place (LU solve + blocked "
             "BLAS apply, includes the condition estimate); best of %d", reps);
    ADD(t, "compensate_ms", stage, best, "ms", CG_BENCH_LE, 25 * tgt_scale,
        reps, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* every transform family on flow-like values, and logicle setup */
static int st_xforms(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- transforms */
    progress(o, "transforms");
    size_t nv =
        (size_t)(s->n < 1000000 ? (s->n > 1000 ? s->n : 1000) : 1000000);
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
            return -1;
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
        return -1;
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
                cg_xform *x1 = cg_xform_new(CG_XF_LOGICLE, &lp, &s->e);
                if (!x1) {
                    cg_error_cmd("bench", "logicle: %s", s->e.msg);
                    return -1;
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
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* the config's default transform on the compensated data */
static int st_xform_data(ip_state *s)
{
    IP_ALIASES(s);
    /* logicle on the compensated data */
    const cg_tf_spec *dtf = cg_config_tf(cfg, 0);
    cg_xform *lxf = cg_run_xform(dtf, 0.5, &s->e);
    if (!lxf || !(s->tbuf = malloc((size_t)s->n * sizeof *s->tbuf)))
        goto nomem;
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = cg_bench_now_ms();
        for (int j = 0; j < s->S->ncol; j++)
            cg_xform_fwd(lxf, s->fr->col[cg_frame_find(s->fr, s->S->col[j])],
                         s->tbuf, (size_t)s->n);
        double dt = cg_bench_now_ms() - t0;
        if (dt < best)
            best = dt;
    }
    cg_xform_free(lxf);
    snprintf(note, sizeof note, "the config's default transform (%s) over "
             "the %d compensated channels (wall; 2 threads per column "
             "from 512K values); best of %d",
             cg_tf_type_name(dtf->type), s->S->ncol, reps);
    ADD(t, "xform_data_ns", "transform: default, on the compensated data",
        best * 1e6 / ((double)s->n * s->S->ncol), "ns/value", CG_BENCH_NONE, 0,
        reps, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* one whole sample in-process (its gates give the fixed tree) */
static int st_sample(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- one sample in-process (the fixed tree comes from it) */
    progress(o, "one sample in-process");
    char *paths[1] = {b->in->big};
    if (!(s->sheet = cg_sheet_from_paths(1, paths, &s->e))) {
        cg_error_cmd("bench", "%s", s->e.msg);
        return -1;
    }
    cg_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.threads = 1; /* no outdir: no files, no plots */
    if (cg_run_ctx_prepare(&s->rctx, cfg, s->sheet, &ro, &s->e) < 0) {
        cg_error_cmd("bench", "%s", s->e.msg);
        return -1;
    }
    s->rctx_ok = 1;
    best = INFINITY;
    for (int r = 0; r < heavy; r++) {
        cg_result_clear(&s->tw.res);
        double t0 = cg_bench_now_ms();
        int src = cg_run_sample(&s->rctx, 0, &s->tw.res);
        double dt = cg_bench_now_ms() - t0;
        if (src < 0) {
            cg_error_cmd("bench", "run: %s",
                         s->tw.res.message ? s->tw.res.message : "failed");
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "cg_run_sample, no plots: sha256, read, "
             "compensate, QC, transforms, auto gates, stats; best of %d",
             heavy);
    ADD(t, "sample_inproc_ms", "one sample in-process, no plots", best, "ms",
        CG_BENCH_NONE, 0, heavy, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* the fixed tree's evaluation with a warm value cache */
static int st_gating(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- gating: the tree with the gates this sample got */
    progress(o, "gating");
    if (build_tree(&s->tw, &s->e) < 0) {
        cg_error_cmd("bench", "gating stage skipped: %s", s->e.msg);
        return 1; /* the rest of the stages need the tree */
    }
    if (!(s->dc = cg_dims_new(s->fr, NULL, &s->e)) ||
        !(s->mem = cg_members_new(s->n)) ||
        cg_gatetree_eval(s->tw.tree, s->dc, s->mem, &s->e) < 0) {
        cg_error_cmd("bench", "gating: %s", s->e.msg);
        return -1;
    }
    int mismatch = 0; /* s->mismatch below */
    if (s->tw.res.events_used == s->n)
        for (int gi = 0; gi < cfg->ngates; gi++) {
            int p = cg_gatetree_find(s->tw.tree, cfg->gates[gi].name);
            if (p >= 0 &&
                cg_members_count(s->mem, p) != s->tw.res.pops[gi].count)
                mismatch++;
        }
    s->mismatch = mismatch;
    if (mismatch)
        cg_error_cmd("bench", "warning: %d populations differ from the run's "
                     "counts", mismatch);
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_members *m2 = cg_members_new(s->n);
        if (!m2)
            goto nomem;
        double t0 = cg_bench_now_ms();
        int grc = cg_gatetree_eval(s->tw.tree, s->dc, m2, &s->e);
        double dt = cg_bench_now_ms() - t0;
        cg_members_free(m2);
        if (grc < 0) {
            cg_error_cmd("bench", "gating: %s", s->e.msg);
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    s->gating_best = best;
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* the slowest single gate, and the gating row */
static int st_slowest(ip_state *s)
{
    IP_ALIASES(s);
    /* the slowest gate, evaluated alone on its parent's events */
    double slow = -1;
    int slow_i = -1;
    cg_bits *gout = cg_bits_new(s->n);
    if (!gout)
        goto nomem;
    for (int i = 0; i < cg_gatetree_n_gates(s->tw.tree); i++) {
        const cg_gate *g = cg_gatetree_gate(s->tw.tree, i);
        const char *pid = cg_gatetree_gate_parent(s->tw.tree, i);
        int pp = pid ? cg_gatetree_find(s->tw.tree, pid) : -1;
        if (cg_gate_npop(g) != 1 || cg_gate_kind_of(g) == CG_GATE_BOOL)
            continue;
        const cg_bits *par = pp >= 0 ? cg_members_bits(s->mem, pp) : NULL;
        double gb = INFINITY;
        for (int r = 0; r < reps; r++) {
            double t0 = cg_bench_now_ms();
            int grc = cg_gate_eval(g, s->dc, par, &gout, &s->e);
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
        const cg_gate *g = cg_gatetree_gate(s->tw.tree, slow_i);
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
             s->tw.ngates, s->tw.levels, (long long)(s->n / 1000));
    snprintf(note, sizeof note, "cg_gatetree_eval with this sample's cuts, "
             "values cached; counts %s the run's%s; best of %d",
             s->mismatch ? "DIFFER from" : "equal", slow_txt, reps);
    ADD(t, "gating_ms", stage, s->gating_best, "ms", CG_BENCH_LE,
        30 * tgt_scale, reps, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* gating with an empty value cache */
static int st_gating_cold(ip_state *s)
{
    IP_ALIASES(s);
    best = INFINITY;
    for (int r = 0; r < reps; r++) {
        cg_dims *d2 = cg_dims_new(s->fr, NULL, &s->e);
        cg_members *m2 = cg_members_new(s->n);
        if (!d2 || !m2) {
            cg_dims_free(d2);
            cg_members_free(m2);
            goto nomem;
        }
        double t0 = cg_bench_now_ms();
        int grc = cg_gatetree_eval(s->tw.tree, d2, m2, &s->e);
        double dt = cg_bench_now_ms() - t0;
        cg_dims_free(d2);
        cg_members_free(m2);
        if (grc < 0)
            return -1;
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "the same with an empty value cache: each "
             "gate dimension transformed first; best of %d", reps);
    ADD(t, "gating_cold_ms", "gating incl. transforming its dimensions", best,
        "ms", CG_BENCH_NONE, 0, reps, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* the auto gates (density estimates) */
static int st_autogates(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- auto gates */
    progress(o, "auto gates");
    best = INFINITY;
    int nauto = 0;
    for (int r = 0; r < heavy; r++) {
        double dt = time_autogates(&s->tw, s->dc, s->mem, &nauto, &s->e);
        if (dt < 0) {
            cg_error_cmd("bench", "auto gates: %s", s->e.msg);
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "%d density-based cuts/contours (KDE) on "
             "their parents' events; best of %d", nauto, heavy);
    ADD(t, "autogates_ms", "auto gates (scatter, singlets, valleys, tail)",
        best, "ms", CG_BENCH_NONE, 0, heavy, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* statistics for every population x marker */
static int st_stats(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- statistics */
    progress(o, "statistics");
    s->sres = malloc((size_t)(cfg->nstat_markers * cfg->ngates + 1) *
                  (size_t)(cfg->nstats + 1) * sizeof *s->sres);
    if (!s->sres)
        goto nomem;
    best = INFINITY;
    int nsets = 0;
    for (int r = 0; r < heavy; r++) {
        double dt =
            time_stats(&s->tw, s->fr, s->dc, s->mem, s->sres, &nsets, &s->e);
        if (dt < 0) {
            cg_error_cmd("bench", "%s", s->e.msg);
            return -1;
        }
        if (dt < best)
            best = dt;
    }
    snprintf(note, sizeof note, "%d population x marker sets, %d statistics "
             "each (cg_stat_pops, as run does); best of %d", nsets,
             cfg->nstats, heavy);
    ADD(t, "stats_ms", "statistics, every population x marker", best, "ms",
        CG_BENCH_NONE, 0, heavy, note);
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

/* one pseudocolor panel of all events, and its PNG */
static int st_plot(ip_state *s)
{
    IP_ALIASES(s);
    /* ---- plot: one 1M-event panel */
    progress(o, "plot");
    int mx = cg_config_marker(cfg, "CD25"), my = cg_config_marker(cfg, "CD127");
    for (int m = 0; m < s->tw.nmk && (mx < 0 || !s->tw.mk_ok[mx]); m++)
        if (s->tw.mk_ok[m] && m != my)
            mx = m;
    for (int m = 0; m < s->tw.nmk && (my < 0 || !s->tw.mk_ok[my]); m++)
        if (s->tw.mk_ok[m] && m != mx)
            my = m;
    if (mx < 0 || my < 0 || !s->tw.mk_ok[mx] || !s->tw.mk_ok[my]) {
        cg_error_cmd("bench", "plot stage skipped: fewer than 2 markers");
    } else {
        const double *px = cg_dims_get(s->dc, &s->tw.mk_dim[mx], &s->e);
        const double *py = cg_dims_get(s->dc, &s->tw.mk_dim[my], &s->e);
        if (!px || !py)
            return -1;
        char lx[96], ly[96];
        snprintf(lx, sizeof lx, "%s (%s)", cfg->markers[mx].name,
                 s->tw.res.marker_pnn[mx]);
        snprintf(ly, sizeof ly, "%s (%s)", cfg->markers[my].name,
                 s->tw.res.marker_pnn[my]);
        cg_plot_panel p;
        memset(&p, 0, sizeof p);
        p.title = "all events";
        p.x = px;
        p.y = py;
        p.n = s->n;
        cg_plot_axis_xform(&p.xaxis, lx, s->tw.mk_xf[mx], 0, 1);
        cg_plot_axis_xform(&p.yaxis, ly, s->tw.mk_xf[my], 0, 1);
        cg_plot_overlay ov;
        memset(&ov, 0, sizeof ov);
        int tg = cg_config_gate(cfg, "treg");
        if (tg >= 0 && s->tw.res.pops[tg].nthr == 2) {
            ov.kind = CG_PLOT_OV_RECT;
            ov.name = "treg";
            ov.pct = NAN;
            ov.x0 = s->tw.res.pops[tg].thr[0].threshold;
            ov.x1 = INFINITY;
            ov.y0 = -INFINITY;
            ov.y1 = s->tw.res.pops[tg].thr[1].threshold;
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
            cg_plot_image *im = cg_plot_render_panel(&p, &pm, 0, 0, &s->e);
            double t1 = cg_bench_now_ms(), c1 = cg_bench_cpu_ms();
            int wrc = im ? cg_plot_image_write_png(im, png, &s->e) : -1;
            double t2 = cg_bench_now_ms();
            cg_plot_image_free(im);
            if (wrc < 0) {
                cg_error_cmd("bench", "plot: %s", s->e.msg);
                free(png);
                return -1;
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
                 (long long)(s->n / 1000), CG_PLOT_SLIDE_W, CG_PLOT_SLIDE_H);
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
    return 0;
nomem:
    cg_error_cmd("bench", "out of memory");
    return -1;
}

static void ip_clear(ip_state *s)
{
    if (s->cols)
        for (int j = 0; j < s->npar; j++)
            free(s->cols[j]);
    free(s->cols);
    if (s->pristine && s->S)
        for (int j = 0; j < s->S->ncol; j++)
            free(s->pristine[j]);
    free(s->pristine);
    free(s->tbuf);
    free(s->sres);
    cg_members_free(s->mem);
    cg_dims_free(s->dc);
    tree_work_clear(&s->tw);
    if (s->rctx_ok)
        cg_run_ctx_clear(&s->rctx);
    cg_sheet_free(s->sheet);
    cg_matrix_free(s->S);
    fcs_spill_free(s->fsp);
    cg_frame_free(s->fr);
    fcs_close(s->f);
}

/* The in-process stages in order; 0 or -1 (error printed). */
static int in_process(bench_ctx *b)
{
    static int (*const stages[])(ip_state *) = {
        st_read, st_frame, st_comp, st_xforms, st_xform_data, st_sample,
        st_gating, st_slowest, st_gating_cold, st_autogates, st_stats,
        st_plot};
    ip_state *s = calloc(1, sizeof *s);
    if (!s) {
        cg_error_cmd("bench", "out of memory");
        return -1;
    }
    s->b = b;
    s->tw.cfg = b->cfg;
    int rc = 0;
    for (size_t k = 0; k < sizeof stages / sizeof *stages && rc == 0; k++)
        rc = stages[k](s);
    ip_clear(s);
    free(s);
    return rc < 0 ? -1 : 0;
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

/* Options; 0 parsed, > 0 exit with that status (help), < 0 usage error
 * (printed). */
static int parse_args(int argc, char **argv, bench_opts *o,
                      cg_whole_opts *wo)
{
    int set_events = 0, set_batch = 0, set_bev = 0, set_reps = 0,
        set_preps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r == 0 ? 1000 : r; /* help: exit 0 */
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--quick")) {
            o->quick = 1;
        } else if (!strcmp(a, "--whole")) {
            o->whole = 1;
        } else if (!strcmp(a, "--no-scale")) {
            wo->scale = 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--no-batch")) {
            o->batch = 0;
        } else if (cg_opt_is(a, NULL, "--keep") ||
                   cg_opt_is(a, "-c", "--config")) {
            /* same spelling as run: -cFILE, --config=FILE, -c FILE */
            int keep = cg_opt_is(a, NULL, "--keep");
            if (!(v = cg_opt_value("bench", argc, argv, &i)))
                return -1;
            if (keep)
                o->keep = v;
            else
                o->config = v;
        } else if (!strcmp(a, "--events") || !strcmp(a, "--batch-events")) {
            if (parse_n(a, v, 1000, 100000000, &x) < 0)
                return -1;
            if (a[2] == 'e')
                o->events = x, set_events = 1;
            else
                o->batch_events = x, set_bev = 1;
            i++;
        } else if (!strcmp(a, "--batch")) {
            if (parse_n(a, v, 2, 10000, &x) < 0)
                return -1;
            o->nbatch = (int)x;
            set_batch = 1;
            i++;
        } else if (!strcmp(a, "--params")) {
            if (parse_n(a, v, 12, 10000, &x) < 0)
                return -1;
            wo->params = (int)x;
            i++;
        } else if (!strcmp(a, "--scale-max-mb")) {
            if (parse_n(a, v, 1, 1000000, &x) < 0)
                return -1;
            wo->scale_max_mb = (double)x;
            i++;
        } else if (!strcmp(a, "--reps") || !strcmp(a, "--proc-reps")) {
            if (parse_n(a, v, 1, 1000, &x) < 0)
                return -1;
            if (!strcmp(a, "--reps"))
                o->reps = (int)x, set_reps = 1;
            else
                o->proc_reps = (int)x, set_preps = 1;
            i++;
        } else {
            if (a[0] == '-')
                cg_opt_unknown("bench", a, usage);
            else
                cg_error_cmd("bench", "unexpected argument '%s'", a);
            return -1;
        }
    }
    /* --whole: the issue-14 sizes unless given */
    wo->events = set_events ? o->events : wo->events;
    wo->batch = !o->batch ? 0 : set_batch ? o->nbatch : wo->batch;
    wo->reps = set_reps ? o->reps : wo->reps;
    if (o->quick) {
        if (!set_events)
            o->events = 20000, wo->events = 20000;
        if (!set_batch)
            o->nbatch = 4, wo->batch = wo->batch ? 4 : 0;
        if (!set_bev)
            o->batch_events = 5000;
        if (!set_reps)
            o->reps = 1, wo->reps = 1;
        if (!set_preps)
            o->proc_reps = 1;
        wo->scale_max_mb = wo->scale_max_mb < 5 ? wo->scale_max_mb : 5;
    }
    /* the small batch keeps both -j2 workers busy, so its peak RSS has as
     * many samples in flight as the full batch */
    o->nsmall = o->nbatch / 4 > 2 ? o->nbatch / 4 : 2;
    return 0;
}

/* `cytogate bench --whole`: the user's commands as child processes. */
static int whole_bench(const bench_opts *o, cg_whole_opts *wo,
                       const char *cfg_path)
{
    char *exe = cg_bench_self_exe();
    if (!exe) {
        cg_error_cmd("bench", "cannot find this executable: %s",
                     strerror(errno));
        return CG_EXIT_DATA;
    }
    wo->exe = exe;
    wo->config = cfg_path;
    wo->keep = o->keep;
    wo->quiet = o->quiet;
    cg_err e = {0};
    int rc = cg_bench_whole(wo, stdout, &e);
    if (rc < 0)
        cg_error_cmd("bench", "%s", e.msg);
    free(exe);
    return rc < 0 ? CG_EXIT_DATA : rc > 0 ? CG_EXIT_DATA : CG_EXIT_OK;
}

/* The work folder: --keep DIR or a new temporary one.  Owned or NULL. */
static char *work_dir(const bench_opts *o)
{
    if (o->keep) {
        if (cg_mkdir_p(o->keep) < 0) {
            cg_error_cmd("bench", "%s: %s", o->keep, strerror(errno));
            return NULL;
        }
        return strdup(o->keep);
    }
    const char *tmp = getenv("TMPDIR");
    char *tmpl = pjoin(tmp && *tmp ? tmp : "/tmp", "cytogate-bench.XXXXXX");
    if (mkdtemp(tmpl))
        return tmpl;
    cg_error_cmd("bench", "cannot make a temporary folder: %s",
                 strerror(errno));
    free(tmpl);
    return NULL;
}

/* The figures of the stage benchmark, filled in order. */
typedef struct stage_run {
    bench_opts o;
    char *cfg_path, *exe, *work;
    cg_config *cfg;
    cg_bench_table t;
    inputs in;
    proc_fig pp, pn, bj1, bj2, bsm;
    cg_bench_machine mach;
    bench_ctx bc;
} stage_run;

/* Whole `cytogate run` processes first, while this process is small. */
static int proc_stages(stage_run *sr)
{
    const bench_opts *o = &sr->o;
    const char *exe = sr->exe, *cfg_path = sr->cfg_path;
    char *log = pjoin(sr->work, "run.log");
    char *out1 = pjoin(sr->work, "out_plots");
    char *out2 = pjoin(sr->work, "out_noplots");
    char *outb1 = pjoin(sr->work, "out_batch_j1");
    char *outb2 = pjoin(sr->work, "out_batch_j2");
    char *outbs = pjoin(sr->work, "out_batch_small_j2");
    progress(o, "whole `cytogate run` on the big file (log: %s)", log);
    int prc = run_proc(o, exe, cfg_path, out1, sr->in.big, 1, 1,
                       o->proc_reps, log, &sr->pp);
    if (prc == 0)
        prc = run_proc(o, exe, cfg_path, out2, sr->in.big, 0, 1,
                       o->proc_reps, log, &sr->pn);
    if (prc == 0 && o->batch) {
        progress(o, "batch of %d at -j1, -j2, and %d samples at -j2",
                 o->nbatch, o->nsmall);
        prc = run_proc(o, exe, cfg_path, outb1, sr->in.batch_dir, 1, 1, 1,
                       log, &sr->bj1);
        if (prc == 0)
            prc = run_proc(o, exe, cfg_path, outb2, sr->in.batch_dir, 1, 2,
                           1, log, &sr->bj2);
        if (prc == 0)
            prc = run_proc(o, exe, cfg_path, outbs, sr->in.small_dir, 1, 2,
                           1, log, &sr->bsm);
    }
    free(log);
    free(out1);
    free(out2);
    free(outb1);
    free(outb2);
    free(outbs);
    return prc;
}

/* The whole-process and batch rows of the stage table. */
static int proc_rows(stage_run *sr)
{
    const bench_opts o = sr->o;
    cg_bench_table *tp = &sr->t;
    bench_ctx bc = sr->bc;
    proc_fig pp = sr->pp, pn = sr->pn, bj1 = sr->bj1, bj2 = sr->bj2,
             bsm = sr->bsm;
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
        ADD(tp, id, stage, pf->wall_ms / 1e3, "s", CG_BENCH_LE,
            wr[k].target / 1e3 * sc, pf->reps, note);
        snprintf(id, sizeof id, "%s_cpu_s", wr[k].id);
        snprintf(stage, sizeof stage, "  its CPU time (user + sys)");
        ADD(tp, id, stage, pf->cpu_ms / 1e3, "s", CG_BENCH_NONE, 0, pf->reps,
            "rusage of the fastest run");
        snprintf(id, sizeof id, "%s_rss_mb", wr[k].id);
        snprintf(stage, sizeof stage, "  its peak RSS (DATA is %.0f MB)",
                 bc.data_mb);
        ADD(tp, id, stage, pf->rss_mb, "MB", CG_BENCH_LE, rss_t, pf->reps,
            "ru_maxrss of the child (max over runs); target 4x DATA");
    }
    if (o.batch) {
        snprintf(stage, sizeof stage, "batch %d x %lldk events, -j1",
                 o.nbatch, (long long)(o.batch_events / 1000));
        ADD(tp, "batch_j1_s", stage, bj1.wall_ms / 1e3, "s", CG_BENCH_NONE, 0,
            1, "whole process, plots on (the default run)");
        snprintf(stage, sizeof stage, "batch %d x %lldk events, -j2",
                 o.nbatch, (long long)(o.batch_events / 1000));
        ADD(tp, "batch_j2_s", stage, bj2.wall_ms / 1e3, "s", CG_BENCH_NONE, 0,
            1, "whole process, plots on");
        snprintf(note, sizeof note, "wall -j1 / wall -j2 (CPU: %.1f s vs "
                 "%.1f s)", bj1.cpu_ms / 1e3, bj2.cpu_ms / 1e3);
        ADD(tp, "batch_speedup", "batch speed-up -j2 over -j1",
            bj1.wall_ms / bj2.wall_ms, "x", CG_BENCH_GE, 1.7, 1, note);
        ADD(tp, "batch_j1_cores", "batch -j1 cores used (CPU / wall)",
            bj1.cpu_ms / bj1.wall_ms, "cores", CG_BENCH_NONE, 0, 1,
            "below 1: other work on the machine took CPU time");
        ADD(tp, "batch_j2_cores", "batch -j2 cores used (CPU / wall)",
            bj2.cpu_ms / bj2.wall_ms, "cores", CG_BENCH_NONE, 0, 1,
            "about 2 when both workers ran; well below 2 on a busy machine "
            "or when workers serialise");
        ADD(tp, "batch_j1_rss_mb", "batch -j1 peak RSS", bj1.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "ru_maxrss of the child");
        ADD(tp, "batch_j2_rss_mb", "batch -j2 peak RSS", bj2.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "ru_maxrss of the child");
        snprintf(stage, sizeof stage, "batch %d samples -j2 peak RSS",
                 o.nsmall);
        ADD(tp, "batch_small_j2_rss_mb", stage, bsm.rss_mb, "MB",
            CG_BENCH_NONE, 0, 1, "the first samples of the same batch");
        snprintf(stage, sizeof stage, "batch RSS growth, %d vs %d samples",
                 o.nbatch, o.nsmall);
        ADD(tp, "batch_rss_growth", stage, bj2.rss_mb / bsm.rss_mb, "x",
            CG_BENCH_LE, 1.25, 1, "peak RSS ratio at -j2: ~1 when memory "
            "is bounded by the samples in flight");
    }

    return 0;
nomem:
    return -1;
}

/* The stage table as text or JSON on stdout; 0 or -1 (no memory). */
static int print_stages(stage_run *sr)
{
    const bench_opts o = sr->o;
    cg_bench_table *tp = &sr->t;
    bench_ctx bc = sr->bc;
    cg_bench_machine mach = sr->mach;
    const char *cfg_path = sr->cfg_path;
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
            tp->targets_apply, "rows", cg_bench_rows_json(tp));
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
        cg_bench_print(stdout, tp);
        printf("\nload average at the end: %.2f (other work on the machine "
               "slows the wall-clock figures)\n", load_end);
        if (!tp->targets_apply)
            printf("(targets are for the default sizes; not judged here)\n");
    }
    return 0;
nomem:
    return -1;
}

static void stage_run_clear(stage_run *sr)
{
    if (sr->work && !sr->o.keep)
        cg_bench_rmtree(sr->work);
    inputs_clear(&sr->in);
    cg_bench_table_clear(&sr->t);
    cg_config_free(sr->cfg);
    free(sr->work);
    free(sr->exe);
}

/* The stage benchmark (the default); an exit status. */
static int stage_bench(const bench_opts *o, char *cfg_path)
{
    stage_run *sr = calloc(1, sizeof *sr);
    if (!sr)
        return CG_EXIT_DATA;
    sr->o = *o;
    sr->cfg_path = cfg_path;
    cg_err e = {0};
    int status = CG_EXIT_DATA;
    if (!(sr->cfg = cg_config_load(cfg_path, &e))) {
        if (e.line)
            cg_error_file(cfg_path, "line %d: %s", e.line, e.msg);
        else
            cg_error_file(cfg_path, "%s", e.msg);
        free(sr);
        return CG_EXIT_USAGE;
    }
    sr->exe = cg_bench_self_exe();
    sr->work = work_dir(o);
    sr->t.targets_apply = !o->quick && o->events == 1000000 &&
                          o->nbatch == 48 && o->batch_events == 200000;
    cg_bench_machine_info(&sr->mach);
    if (!sr->exe || !sr->work) {
        cg_error_cmd("bench", "cannot set up: %s", strerror(errno));
        goto done;
    }
    if (make_inputs(o, sr->work, &sr->in) < 0 || proc_stages(sr) < 0)
        goto done;
    sr->bc = (bench_ctx){&sr->o, &sr->t, sr->cfg, cfg_path, sr->work,
                         &sr->in, 0, 0, 0, 0};
    if (in_process(&sr->bc) < 0)
        goto done;
    if (proc_rows(sr) < 0 || print_stages(sr) < 0) {
        cg_error_cmd("bench", "out of memory");
        goto done;
    }
    status = CG_EXIT_OK;
done:
    stage_run_clear(sr);
    free(sr);
    cg_plot_shutdown();
    return status;
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
    cg_whole_opts wo;
    cg_whole_opts_init(&wo);
    int r = parse_args(argc, argv, &o, &wo);
    if (r < 0)
        return cg_usage_short("bench", usage);
    if (r > 0)
        return r == 1000 ? CG_EXIT_OK : r;
    char *cfg_path = o.config ? strdup(o.config) : find_config();
    if (!cfg_path) {
        cg_error_cmd("bench", "configs/treg_th17.yaml not found; pass "
                     "--config FILE");
        return CG_EXIT_USAGE;
    }
    int status = o.whole ? whole_bench(&o, &wo, cfg_path)
                         : stage_bench(&o, cfg_path);
    free(cfg_path);
    return status;
}
