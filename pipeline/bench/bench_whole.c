/*
 * bench_whole.c -- `cytogate bench --whole` (see bench_whole.h): what a
 * user waits for, not the stage timings.
 *
 * Inputs are made in the work folder by child processes: `cytogate
 * simulate --seed 5` for each event count, then cg_bench_widen() to the
 * parameter count (12 by default, as in issue 14), in a forked child so
 * this process stays small (Linux carries a parent's RSS high-water mark
 * into a forked child's ru_maxrss, and exec does not reset it).  The
 * Gating-ML file is a 3-level hierarchy (a scatter polygon, a CD3
 * rectangle on compensated logicle, a CD4/CD8 quadrant gate).
 *
 * Each command runs `reps` times, one at a time, as a child process
 * timed with wait4(): the median wall time (with min and max), the
 * median CPU time and the largest peak RSS are shown.  `run` is timed
 * as a user types it (no -j: every CPU) and with -j1, each time into a
 * new output folder (removed, untimed, before each run).  The batch is N
 * links to the main file, run at -j1 and -j2.  The scaling table runs
 * `info`, `gate` and `run --no-plots` once per size and shows the cost
 * per event and parameter, which is flat when the cost is linear.
 *
 * Threading: single-threaded.
 */
#include "bench_whole.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fcs.h"
#include "frame.h"
#include "util.h"

void cg_whole_opts_init(cg_whole_opts *o)
{
    memset(o, 0, sizeof *o);
    o->events = 1000000;
    o->params = 12;
    o->reps = 5;
    o->batch = 96;
    o->scale = 1;
    o->scale_max_mb = 600;
}

/* ------------------------------------------------------------ widening -- */

#define SIM_PARAMS 14
static const char *const drop_order[] = {"BV711-A", "FITC-A"};

/* Which source channels are kept: keep[j] for j < np. */
static int pick_channels(fcs_file *f, int nparams, int *keep, cg_err *err)
{
    int np = fcs_n_params(f), ndrop = np - nparams;
    if (np != SIM_PARAMS || ndrop > 2)
        return cg_err_set(err, CG_E_ARG, "want %d parameters from a %d-"
                          "parameter simulated file (at least %d)", nparams,
                          np, SIM_PARAMS - 2);
    for (int j = 0; j < np; j++)
        keep[j] = 1;
    for (int k = 0; k < ndrop; k++) {
        int j = fcs_param_index(f, drop_order[k]);
        if (j < 0)
            return cg_err_set(err, CG_E_CHANNEL, "no channel %s",
                              drop_order[k]);
        keep[j] = 0;
    }
    return 0;
}

/* The spillover restricted to the kept channels (owned), or NULL. */
static fcs_spill *sub_spill(const fcs_spill *s, fcs_file *f, const int *keep)
{
    fcs_spill *o = calloc(1, sizeof *o);
    if (!o || !(o->names = calloc((size_t)s->n, sizeof *o->names)) ||
        !(o->m = calloc((size_t)s->n * (size_t)s->n, sizeof *o->m))) {
        fcs_spill_free(o);
        return NULL;
    }
    int idx[256], k = 0;
    for (int i = 0; i < s->n && i < 256; i++) {
        int j = fcs_param_index(f, s->names[i]);
        if (j >= 0 && keep[j])
            idx[k++] = i;
    }
    o->n = k;
    for (int a = 0; a < k; a++) {
        o->names[a] = strdup(s->names[idx[a]]);
        for (int b = 0; b < k; b++)
            o->m[a * k + b] = s->m[idx[a] * s->n + idx[b]];
    }
    snprintf(o->keyword, sizeof o->keyword, "$SPILLOVER");
    return o;
}

/* Keywords worth copying: not $Pn..., not a spillover (set anew). */
static int copy_key(const char *k)
{
    if ((k[0] == '$' && (k[1] == 'P' || k[1] == 'p') && k[2] >= '0' &&
         k[2] <= '9') ||
        !strcasecmp(k, "$SPILLOVER") || !strcasecmp(k, "SPILL") ||
        !strcasecmp(k, "$SPILL"))
        return 0;
    return 1;
}

typedef struct wide {
    int np;
    fcs_wparam *wp;
    const double **cols;
    double **extra;
    char (*names)[16];
    fcs_kv *kv;
    int nkv;
} wide;

static void wide_free(wide *w)
{
    for (int j = 0; w->extra && j < w->np; j++)
        free(w->extra[j]);
    free(w->extra);
    free(w->wp);
    free(w->cols);
    free(w->names);
    free(w->kv);
}

/* Columns of the output: kept channels, then scaled copies of the
 * fluorescence channels (those of the spillover). */
static int build_wide(fcs_file *f, const cg_frame *fr, const int *keep,
                      const fcs_spill *sp, int nparams, wide *w, cg_err *err)
{
    w->np = nparams;
    w->wp = calloc((size_t)nparams, sizeof *w->wp);
    w->cols = calloc((size_t)nparams, sizeof *w->cols);
    w->extra = calloc((size_t)nparams, sizeof *w->extra);
    w->names = calloc((size_t)nparams, sizeof *w->names);
    w->kv = calloc((size_t)fcs_n_keywords(f) + 1, sizeof *w->kv);
    if (!w->wp || !w->cols || !w->extra || !w->names || !w->kv)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    int k = 0;
    for (int j = 0; j < fr->nch && k < nparams; j++) {
        if (!keep[j])
            continue;
        w->wp[k] = (fcs_wparam){fr->name[j], fr->label[j], fr->range[j]};
        w->cols[k++] = fr->col[j];
    }
    for (int e = 0; k < nparams; k++, e++) {
        int src = sp && sp->n ? fcs_param_index(f, sp->names[e % sp->n]) : 0;
        double g = 0.6 + 0.05 * (e % 7);
        if (!(w->extra[k] = cg_frame_col_alloc(fr->n)))
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        for (int64_t i = 0; i < fr->n; i++)
            w->extra[k][i] = (double)(float)(fr->col[src][i] * g);
        snprintf(w->names[k], sizeof w->names[k], "X%02d-A", k + 1);
        w->wp[k] = (fcs_wparam){w->names[k], NULL, 262144};
        w->cols[k] = w->extra[k];
    }
    for (int i = 0; i < fcs_n_keywords(f); i++) {
        const char *key, *val;
        if (fcs_keyword_at(f, i, &key, &val) == 0 && copy_key(key))
            w->kv[w->nkv++] = (fcs_kv){key, val};
    }
    return 0;
}

int cg_bench_widen(const char *src, const char *dst, int nparams,
                   cg_err *err)
{
    fcs_err fe = {0};
    fcs_file *f = fcs_open(src, NULL, &fe);
    if (!f)
        return cg_err_set(err, CG_E_IO, "%s: %s", src, fe.msg);
    int keep[SIM_PARAMS + 1];
    cg_frame *fr = NULL;
    fcs_spill *sp = NULL, *sub = NULL;
    wide w;
    memset(&w, 0, sizeof w);
    int rc = pick_channels(f, nparams, keep, err);
    if (rc == 0 && !(fr = cg_frame_from_fcs(f, FCS_RAW, err)))
        rc = -1;
    if (rc == 0 && fcs_spillover(f, &sp, &fe) < 0)
        rc = cg_err_set(err, CG_E_DATA, "%s: %s", src, fe.msg);
    if (rc == 0 && sp && !(sub = sub_spill(sp, f, keep)))
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = build_wide(f, fr, keep, sp, nparams, &w, err);
    if (rc == 0 && fcs_write(dst, w.np, w.wp, fr->n,
                             (const double *const *)w.cols, w.kv, w.nkv,
                             sub, NULL, &fe) < 0)
        rc = cg_err_set(err, CG_E_IO, "%s: %s", dst, fe.msg);
    wide_free(&w);
    fcs_spill_free(sub);
    fcs_spill_free(sp);
    cg_frame_free(fr);
    fcs_close(f);
    return rc < 0 ? -1 : 0;
}

/* -------------------------------------------------------------- inputs -- */

typedef struct whole {
    const cg_whole_opts *o;
    char *dir, *log, *gml, *outdir, *png;
    int failed;
    int judge; /* the sizes: targets are judged */
} whole;

static void progress(const whole *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(const whole *w, const char *fmt, ...)
{
    if (w->o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static char *path_of(const whole *w, const char *fmt, long long a, int b)
{
    char name[96];
    snprintf(name, sizeof name, fmt, a, b);
    return cg_path_join(w->dir, name);
}

/* Run argv once; 0 when it ran and exited 0. */
static int spawn_ok(whole *w, char **argv, cg_bench_proc *p, cg_err *err)
{
    if (cg_bench_spawn(argv, w->log, p, err) < 0)
        return -1;
    if (p->status != 0)
        return cg_err_set(err, CG_E_IO, "`%s %s` exited with %d (log: %s)",
                          argv[0], argv[1], p->status, w->log);
    return 0;
}

/* Widen in a forked child (keeps this process's RSS small). */
static int widen_child(const char *src, const char *dst, int np, cg_err *err)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return cg_err_set(err, CG_E_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        cg_err e = {0};
        if (cg_bench_widen(src, dst, np, &e) < 0) {
            fprintf(stderr, "cytogate bench: %s\n", e.msg);
            _exit(1);
        }
        _exit(0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return cg_err_set(err, CG_E_IO, "could not write %s", dst);
    return 0;
}

/* The input with `events` x `np`: owned path, or NULL with err. */
/* Read path once, so the commands timed next find it in the page cache
 * (kept inputs may have been evicted since they were written; a cold
 * first `info` measured the disk).  Best effort. */
static void warm(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static char buf[1 << 20];
    while (fread(buf, 1, sizeof buf, f) == sizeof buf)
        ;
    fclose(f);
}

static char *input(whole *w, int64_t events, int np, cg_err *err)
{
    char *dst = path_of(w, "e%lld_p%d.fcs", (long long)events, np);
    char *sim = path_of(w, "sim_%lld.fcs", (long long)events, 0);
    int rc = dst && sim ? 0 : cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (rc == 0 && !exists(dst)) {
        if (!exists(sim)) {
            char ev[32];
            snprintf(ev, sizeof ev, "%lld", (long long)events);
            char *argv[] = {(char *)w->o->exe, "simulate", "--seed", "5",
                            "--events", ev, "--no-truth", "-o", sim, NULL};
            cg_bench_proc p;
            progress(w, "simulating %lld events", (long long)events);
            rc = spawn_ok(w, argv, &p, err);
        }
        if (rc == 0) {
            progress(w, "writing %lld x %d", (long long)events, np);
            rc = widen_child(sim, dst, np, err);
        }
    }
    free(sim);
    if (rc < 0) {
        free(dst);
        return NULL;
    }
    warm(dst);
    return dst;
}

static const char gates_xml[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<!-- cytogate bench, whole processes: scatter polygon, CD3, CD4/CD8 "
"quadrants -->\n"
"<gating:Gating-ML\n"
"  xmlns:gating=\"http://www.isac-net.org/std/Gating-ML/v2.0/gating\"\n"
"  xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
"transformations\"\n"
"  xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
"datatypes\">\n"
"  <transforms:transformation transforms:id=\"lgc\">\n"
"    <transforms:logicle transforms:T=\"262144\" transforms:W=\"0.5\" "
"transforms:M=\"4.5\" transforms:A=\"0\"/>\n"
"  </transforms:transformation>\n"
"  <gating:PolygonGate gating:id=\"cells\">\n"
"    <gating:dimension gating:compensation-ref=\"uncompensated\">"
"<data-type:fcs-dimension data-type:name=\"FSC-A\"/></gating:dimension>\n"
"    <gating:dimension gating:compensation-ref=\"uncompensated\">"
"<data-type:fcs-dimension data-type:name=\"SSC-A\"/></gating:dimension>\n"
"    <gating:vertex><gating:coordinate data-type:value=\"30000\"/>"
"<gating:coordinate data-type:value=\"5000\"/></gating:vertex>\n"
"    <gating:vertex><gating:coordinate data-type:value=\"250000\"/>"
"<gating:coordinate data-type:value=\"5000\"/></gating:vertex>\n"
"    <gating:vertex><gating:coordinate data-type:value=\"250000\"/>"
"<gating:coordinate data-type:value=\"200000\"/></gating:vertex>\n"
"    <gating:vertex><gating:coordinate data-type:value=\"30000\"/>"
"<gating:coordinate data-type:value=\"150000\"/></gating:vertex>\n"
"  </gating:PolygonGate>\n"
"  <gating:RectangleGate gating:id=\"cd3\" gating:parent_id=\"cells\">\n"
"    <gating:dimension gating:compensation-ref=\"FCS\" "
"gating:transformation-ref=\"lgc\" gating:min=\"0.45\">"
"<data-type:fcs-dimension data-type:name=\"BV421-A\"/></gating:dimension>\n"
"  </gating:RectangleGate>\n"
"  <gating:QuadrantGate gating:id=\"q48\" gating:parent_id=\"cd3\">\n"
"    <gating:divider gating:id=\"d4\" gating:compensation-ref=\"FCS\" "
"gating:transformation-ref=\"lgc\"><data-type:fcs-dimension "
"data-type:name=\"PerCP-Cy5-5-A\"/><gating:value>0.45</gating:value>"
"</gating:divider>\n"
"    <gating:divider gating:id=\"d8\" gating:compensation-ref=\"FCS\" "
"gating:transformation-ref=\"lgc\"><data-type:fcs-dimension "
"data-type:name=\"BV605-A\"/><gating:value>0.45</gating:value>"
"</gating:divider>\n"
"    <gating:Quadrant gating:id=\"cd4\"><gating:position "
"gating:divider_ref=\"d4\" gating:location=\"0.9\"/><gating:position "
"gating:divider_ref=\"d8\" gating:location=\"0.1\"/></gating:Quadrant>\n"
"    <gating:Quadrant gating:id=\"cd8\"><gating:position "
"gating:divider_ref=\"d4\" gating:location=\"0.1\"/><gating:position "
"gating:divider_ref=\"d8\" gating:location=\"0.9\"/></gating:Quadrant>\n"
"  </gating:QuadrantGate>\n"
"</gating:Gating-ML>\n";

/* ------------------------------------------------------------ measuring -- */

typedef struct fig {
    double wall, wall_min, wall_max, cpu, rss; /* s, s, s, s, MB */
    int status;
} fig;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* argv reps times: median wall and CPU, min/max wall, max peak RSS. */
static int measure(whole *w, char **argv, int reps, fig *fg, cg_err *err)
{
    double wall[64], cpu[64];
    if (reps > 64)
        reps = 64;
    memset(fg, 0, sizeof *fg);
    for (int r = 0; r < reps; r++) {
        /* each run writes a new output folder, as a first run does (a
         * rerun into the same folder also removes the old results) */
        if (w->outdir)
            cg_bench_rmtree(w->outdir);
        cg_bench_proc p;
        if (cg_bench_spawn(argv, w->log, &p, err) < 0)
            return -1;
        wall[r] = p.wall_ms / 1e3;
        cpu[r] = p.cpu_ms / 1e3;
        if (p.maxrss_mb > fg->rss)
            fg->rss = p.maxrss_mb;
        if (p.status && !fg->status)
            fg->status = p.status;
    }
    qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
    fg->wall_min = wall[0];
    fg->wall_max = wall[reps - 1];
    fg->wall = reps % 2 ? wall[reps / 2]
                        : (wall[reps / 2 - 1] + wall[reps / 2]) / 2;
    fg->cpu = reps % 2 ? cpu[reps / 2]
                       : (cpu[reps / 2 - 1] + cpu[reps / 2]) / 2;
    if (fg->status)
        w->failed = 1;
    return 0;
}

/* The argv of one user command on file f (static slots, NULL-ended). */
typedef struct cmdline {
    char *argv[16];
    char label[160];
} cmdline;

/* run without -j uses the CPUs available (the user's command); -j1 rows
 * show the same work on one thread, for reference. */
enum { C_INFO, C_GATE, C_RUN_NP, C_RUN, C_RUN_NP_J1, C_RUN_J1, C_PLOT, C_N };

static void make_cmd(const whole *w, int which, const char *f, cmdline *c)
{
    char **a = c->argv;
    int k = 0;
    a[k++] = (char *)w->o->exe;
    switch (which) {
    case C_INFO:
        a[k++] = "info";
        break;
    case C_GATE:
        a[k++] = "gate";
        a[k++] = "--gatingml";
        a[k++] = w->gml;
        break;
    case C_PLOT:
        a[k++] = "plot";
        a[k++] = "-q";
        a[k++] = "-c";
        a[k++] = (char *)w->o->config;
        a[k++] = "--x";
        a[k++] = "CD4";
        a[k++] = "--y";
        a[k++] = "CD8";
        a[k++] = "-o";
        a[k++] = w->png;
        break;
    default:
        a[k++] = "run";
        a[k++] = "-q";
        a[k++] = "-c";
        a[k++] = (char *)w->o->config;
        a[k++] = "-o";
        a[k++] = w->outdir;
        if (which == C_RUN_NP_J1 || which == C_RUN_J1)
            a[k++] = "-j1";
        if (which == C_RUN_NP || which == C_RUN_NP_J1)
            a[k++] = "--no-plots";
        break;
    }
    a[k++] = (char *)f;
    a[k] = NULL;
    static const char *const lab[C_N] = {
        "info FILE", "gate --gatingml GATES.xml FILE",
        "run -c CONFIG -o OUT --no-plots FILE",
        "run -c CONFIG -o OUT FILE (plots)",
        "  the same on one thread: -j1 --no-plots",
        "  the same on one thread: -j1 (plots)",
        "plot -c CONFIG --x CD4 --y CD8 -o P.png FILE"};
    snprintf(c->label, sizeof c->label, "%s", lab[which]);
}

/* ------------------------------------------------------------- reports -- */

static const char *met(const whole *w, int ok)
{
    return !w->judge ? "n/a" : ok ? "yes" : "no";
}

static void print_row(const whole *w, FILE *out, const char *label,
                      const fig *f, double target)
{
    fprintf(out, "%-46s %7.3f s (%.3f-%.3f) %7.2f s %6.0f MB", label,
            f->wall, f->wall_min, f->wall_max, f->cpu, f->rss);
    if (f->status)
        fprintf(out, "   FAILED (exit %d)\n", f->status);
    else if (target > 0)
        fprintf(out, "   <= %.2f s  %s\n", target,
                met(w, f->wall <= target));
    else
        fputc('\n', out);
}

/* The user's commands on the main file. */
static int main_table(whole *w, const char *file, double data_mb, FILE *out,
                      cg_err *err)
{
    static const double target[C_N] = {0.15, 0.25, 0.35, 0.6, 0, 0, 0};
    fig f[C_N];
    fprintf(out, "%-46s %-24s %9s %9s   %s\n", "command (whole process)",
            "wall: median (min-max)", "CPU", "peak RSS", "target  met");
    fig v;
    char *vargv[] = {(char *)w->o->exe, "--version", NULL};
    if (measure(w, vargv, w->o->reps, &v, err) < 0)
        return -1;
    print_row(w, out, "--version (process start, for reference)", &v, 0);
    double rss = 0;
    for (int c = 0; c < C_N; c++) {
        cmdline cl;
        make_cmd(w, c, file, &cl);
        progress(w, "%d x cytogate %s", w->o->reps, cl.label);
        if (measure(w, cl.argv, w->o->reps, &f[c], err) < 0)
            return -1;
        print_row(w, out, cl.label, &f[c], target[c]);
        fflush(out);
        if (f[c].rss > rss)
            rss = f[c].rss;
    }
    double cores = f[C_RUN_NP].wall > 0 ? f[C_RUN_NP].cpu / f[C_RUN_NP].wall
                                        : 0;
    double gain = f[C_RUN_NP].wall > 0 ? f[C_RUN_NP_J1].wall / f[C_RUN_NP].wall
                                       : 0;
    fprintf(out, "%-46s %7.2f cores, %.2f x faster than -j1   >= 1.5  %s\n",
            "one sample on all CPUs (run --no-plots)", cores, gain,
            met(w, cores >= 1.5));
    fprintf(out, "%-46s %7.0f MB = %.2f x DATA (%.1f MB)    <= 2.5 x  %s\n",
            "peak RSS, largest of the commands", rss, rss / data_mb, data_mb,
            met(w, rss <= 2.5 * data_mb));
    return 0;
}

/* N links to the main file, run --no-plots at -j1 and -j2. */
static int batch_rows(whole *w, const char *file, FILE *out, cg_err *err)
{
    char *bdir = path_of(w, "batch_%lld", (long long)w->o->batch, 0);
    if (!bdir || cg_mkdir_p(bdir) < 0)
        return cg_err_set(err, CG_E_IO, "cannot make the batch folder");
    for (int i = 0; i < w->o->batch; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%03d.fcs", i + 1);
        char *l = cg_path_join(bdir, name), target[4096];
        const char *base = strrchr(file, '/');
        snprintf(target, sizeof target, "../%s", base ? base + 1 : file);
        if (l && !exists(l) && symlink(target, l) < 0) {
            free(l);
            free(bdir);
            return cg_err_set(err, CG_E_IO, "symlink: %s", strerror(errno));
        }
        free(l);
    }
    fig f[2];
    for (int j = 0; j < 2; j++) {
        char *argv[] = {(char *)w->o->exe, "run", "-q", "-c",
                        (char *)w->o->config, "-o", w->outdir,
                        j ? "-j2" : "-j1", "--no-plots", bdir, NULL};
        progress(w, "batch of %d at -j%d", w->o->batch, j + 1);
        if (measure(w, argv, 1, &f[j], err) < 0) {
            free(bdir);
            return -1;
        }
    }
    free(bdir);
    double sp = f[1].wall > 0 ? f[0].wall / f[1].wall : 0;
    fprintf(out, "batch of %d, run --no-plots: -j1 %.1f s, -j2 %.1f s "
            "(%.0f / %.0f MB peak)  speedup %.2f x   >= 1.8 x  %s\n",
            w->o->batch, f[0].wall, f[1].wall, f[0].rss, f[1].rss, sp,
            f[0].status || f[1].status ? "FAILED" : met(w, sp >= 1.8));
    return 0;
}

/* One cell of the scaling table: info, gate and run --no-plots, once. */
static int scale_cell(whole *w, int64_t ev, int np, FILE *out, cg_err *err)
{
    double mb = (double)ev * np * 4 / 1e6;
    if (mb > w->o->scale_max_mb) {
        fprintf(out, "%10lld %4d %9.1f   (skipped: more DATA than "
                "--scale-max-mb)\n", (long long)ev, np, mb);
        return 0;
    }
    char *file = input(w, ev, np, err);
    if (!file)
        return -1;
    fprintf(out, "%10lld %4d %9.1f", (long long)ev, np, mb);
    static const int cmds[3] = {C_INFO, C_GATE, C_RUN_NP};
    for (int c = 0; c < 3; c++) {
        cmdline cl;
        fig f;
        make_cmd(w, cmds[c], file, &cl);
        if (measure(w, cl.argv, 1, &f, err) < 0) {
            free(file);
            return -1;
        }
        if (f.status)
            fprintf(out, " %9s %6s", "FAILED", "");
        else
            fprintf(out, " %8.3fs %6.1f", f.wall,
                    f.wall * 1e9 / ((double)ev * np));
    }
    fputc('\n', out);
    fflush(out);
    free(file);
    return 0;
}

static int scale_table(whole *w, FILE *out, cg_err *err)
{
    static const int64_t evs[] = {10000, 100000, 1000000, 10000000};
    static const int nps[] = {12, 30, 60};
    fprintf(out, "\nscaling (one run each; ns = wall / (events x "
            "parameters), flat when linear)\n");
    fprintf(out, "%10s %4s %9s %9s %6s %9s %6s %9s %6s\n", "events", "par",
            "DATA MB", "info", "ns", "gate", "ns", "run -np", "ns");
    for (size_t e = 0; e < sizeof evs / sizeof *evs; e++)
        for (size_t p = 0; p < sizeof nps / sizeof *nps; p++)
            if (scale_cell(w, evs[e], nps[p], out, err) < 0)
                return -1;
    return 0;
}

/* ------------------------------------------------------------- driver -- */

static int setup(whole *w, cg_err *err)
{
    const cg_whole_opts *o = w->o;
    if (o->keep) {
        if (cg_mkdir_p(o->keep) < 0)
            return cg_err_set(err, CG_E_IO, "%s: %s", o->keep,
                              strerror(errno));
        w->dir = strdup(o->keep);
    } else {
        const char *t = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/cytogate-whole-XXXXXX",
                 t && *t ? t : "/tmp");
        if (!mkdtemp(tmpl))
            return cg_err_set(err, CG_E_IO, "mkdtemp %s: %s", tmpl,
                              strerror(errno));
        w->dir = strdup(tmpl);
    }
    if (!w->dir)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    w->log = cg_path_join(w->dir, "commands.log");
    w->gml = cg_path_join(w->dir, "gates.xml");
    w->outdir = cg_path_join(w->dir, "out");
    w->png = cg_path_join(w->dir, "plot.png");
    if (!w->log || !w->gml || !w->outdir || !w->png)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (cg_write_file_atomic(w->gml, gates_xml, sizeof gates_xml - 1) < 0)
        return cg_err_set(err, CG_E_IO, "%s: %s", w->gml, strerror(errno));
    return 0;
}

static void whole_clear(whole *w)
{
    if (w->dir && !w->o->keep)
        cg_bench_rmtree(w->dir);
    free(w->dir);
    free(w->log);
    free(w->gml);
    free(w->outdir);
    free(w->png);
}

int cg_bench_whole(const cg_whole_opts *o, FILE *out, cg_err *err)
{
    whole w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.judge = o->events == 1000000 && o->params == 12 && o->reps >= 3;
    int rc = setup(&w, err);
    char *file = rc == 0 ? input(&w, o->events, o->params, err) : NULL;
    if (!file)
        rc = -1;
    if (rc == 0) {
        cg_bench_machine m;
        cg_bench_machine_info(&m);
        double data_mb = (double)o->events * o->params * 4 / 1e6;
        fprintf(out, "cytogate bench --whole: %lld events x %d parameters, "
                "float32 FCS 3.1 (%.1f MB of DATA), page cache warm; median "
                "of %d runs\nmachine: %d CPUs, %s, load %.2f; inputs in %s"
                "\n\n", (long long)o->events, o->params, data_mb, o->reps,
                m.nproc, m.cpu[0] ? m.cpu : "?", m.load1, w.dir);
        if (!w.judge)
            fprintf(out, "(targets are for 1M x 12 and 3 or more runs: not "
                    "judged here)\n\n");
        rc = main_table(&w, file, data_mb, out, err);
    }
    if (rc == 0 && o->batch > 0)
        rc = batch_rows(&w, file, out, err);
    if (rc == 0 && o->scale)
        rc = scale_table(&w, out, err);
    free(file);
    whole_clear(&w);
    return rc < 0 ? rc : w.failed;
}
