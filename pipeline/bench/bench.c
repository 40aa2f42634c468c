/*
 * bench.c -- helpers of the benchmark program (see bench.h): clocks, the
 * result table, child processes, the 16-parameter benchmark file, the
 * machine description.
 *
 * Child processes are started with fork + execv and reaped with wait4(),
 * whose rusage gives the child's own CPU time and peak RSS.  Linux carries
 * the RSS high-water mark of the forking process into the child across
 * exec, so the caller must spawn while it is still small (cmd_bench.c runs
 * the process stages before it loads any data).
 *
 * The benchmark file is the simulator's sample plus SSC-H and an eleventh
 * fluorescence channel (bench.h says how it is built); the extra values
 * come from a fixed splitmix64 stream, so the file is a pure function of
 * (events, seed).  No per-event allocation: the extra channels are two
 * columns allocated once, the true values for the spillover term are
 * computed in blocks.
 *
 * Threading: single-threaded; no globals.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../fcs/fcs.h"
#include "comp.h"
#include "simulate.h"

/* ---------------------------------------------------------------- clocks */

double cg_bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double cg_bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ----------------------------------------------------------------- table */

int cg_bench_add(cg_bench_table *t, const char *id, const char *stage,
                 double value, const char *unit, cg_bench_cmp cmp,
                 double target, int reps, const char *note)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 32;
        cg_bench_row *r = realloc(t->rows, (size_t)cap * sizeof *r);
        if (!r)
            return -1;
        t->rows = r;
        t->cap = cap;
    }
    cg_bench_row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->stage, sizeof r->stage, "%s", stage);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->note, sizeof r->note, "%s", note ? note : "");
    r->value = value;
    r->cmp = cmp;
    r->target = target;
    r->reps = reps;
    return 0;
}

int cg_bench_met(const cg_bench_table *t, const cg_bench_row *r)
{
    if (r->cmp == CG_BENCH_NONE || !t->targets_apply || !isfinite(r->value))
        return -1;
    return r->cmp == CG_BENCH_LE ? r->value <= r->target
                                 : r->value >= r->target;
}

const cg_bench_row *cg_bench_find(const cg_bench_table *t, const char *id)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].id, id))
            return &t->rows[i];
    return NULL;
}

void cg_bench_table_clear(cg_bench_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* Three significant digits, no exponent for everyday magnitudes. */
static void fmt3(char *buf, size_t n, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, n, "NA");
    else if (a >= 100 || a == 0)
        snprintf(buf, n, "%.0f", v);
    else if (a >= 10)
        snprintf(buf, n, "%.1f", v);
    else if (a >= 1)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

void cg_bench_print(FILE *fp, const cg_bench_table *t)
{
    int w = 5;
    for (int i = 0; i < t->n; i++) {
        int l = (int)strlen(t->rows[i].stage);
        if (l > w)
            w = l;
    }
    fprintf(fp, "%-*s  %10s  %-8s  %-9s  %s\n", w, "stage", "figure", "unit",
            "target", "met?");
    for (int i = 0; i < t->n; i++) {
        const cg_bench_row *r = &t->rows[i];
        char v[32], tg[40] = "-";
        fmt3(v, sizeof v, r->value);
        if (r->cmp != CG_BENCH_NONE) {
            char x[32];
            fmt3(x, sizeof x, r->target);
            snprintf(tg, sizeof tg, "%s %s", r->cmp == CG_BENCH_LE ? "<=" : ">=",
                     x);
        }
        int met = cg_bench_met(t, r);
        const char *m = r->cmp == CG_BENCH_NONE ? ""
                        : met < 0               ? "n/a"
                        : met                   ? "yes"
                                                : "NO";
        fprintf(fp, "%-*s  %10s  %-8s  %-9s  %s\n", w, r->stage, v, r->unit,
                tg, m);
    }
}

json_t *cg_bench_rows_json(const cg_bench_table *t)
{
    json_t *rows = json_array();
    if (!rows)
        return NULL;
    for (int i = 0; i < t->n; i++) {
        const cg_bench_row *r = &t->rows[i];
        int met = cg_bench_met(t, r);
        json_t *o = json_pack(
            "{s:s, s:s, s:f, s:s, s:o, s:s, s:o, s:i, s:s}", "id", r->id,
            "stage", r->stage, "value", isfinite(r->value) ? r->value : -1.0,
            "unit", r->unit, "target",
            r->cmp == CG_BENCH_NONE ? json_null() : json_real(r->target),
            "cmp", r->cmp == CG_BENCH_LE ? "<=" : r->cmp == CG_BENCH_GE ? ">="
                                                                        : "",
            "met", met < 0 ? json_null() : json_boolean(met), "reps", r->reps,
            "note", r->note);
        if (!o || json_array_append_new(rows, o) < 0) {
            json_decref(rows);
            return NULL;
        }
    }
    return rows;
}

/* ------------------------------------------------------------- processes */

int cg_bench_spawn(char *const argv[], const char *log_path,
                   cg_bench_proc *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    const char *lp = log_path ? log_path : "/dev/null";
    int fd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return cg_err_set(err, CG_E_IO, "%s: %s", lp, strerror(errno));
    fflush(NULL);
    double t0 = cg_bench_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd);
        return cg_err_set(err, CG_E_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t got;
    do
        got = wait4(pid, &st, 0, &ru);
    while (got < 0 && errno == EINTR);
    out->wall_ms = cg_bench_now_ms() - t0;
    if (got < 0)
        return cg_err_set(err, CG_E_IO, "wait4: %s", strerror(errno));
    out->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    out->maxrss_mb = (double)ru.ru_maxrss * 1024.0 / 1e6; /* KiB on Linux */
    out->status = WIFEXITED(st) ? WEXITSTATUS(st)
                  : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                    : 255;
    return 0;
}

char *cg_bench_self_exe(void)
{
    char buf[4096];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0)
        return NULL;
    buf[k] = '\0';
    return strdup(buf);
}

/* ----------------------------------------------------------------- input */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s) /* (0, 1) */
{
    return ((double)(splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t *s)
{
    return sqrt(-2 * log(unif(s))) * cos(6.283185307179586 * unif(s));
}

#define EXTRA_NAME "BUV395-A"
#define EXTRA_LABEL "CD45RA"

/* Spill of two panel channels into the extra channel (row = source). */
static const double extra_spill[2] = {0.04, 0.02};

int cg_bench_make_fcs(const char *path, int64_t events, uint64_t seed,
                      const char *sample_id, cg_err *err)
{
    cg_sim_opts o;
    cg_sim_opts_init(&o);
    o.seed = seed;
    o.events = events;
    if (sample_id)
        snprintf(o.sample_id, sizeof o.sample_id, "%s", sample_id);
    cg_sim_data *d = cg_sim_generate(&o, err);
    if (!d)
        return -1;
    int rc = -1, nfl = d->nfl, np = d->npar + 2, nsp = nfl + 1;
    int64_t n = d->n;
    double *ssch = malloc((size_t)(n ? n : 1) * sizeof *ssch);
    double *extra = malloc((size_t)(n ? n : 1) * sizeof *extra);
    fcs_wparam *wp = calloc((size_t)np, sizeof *wp);
    const double **cols = calloc((size_t)np, sizeof *cols);
    cg_matrix *S10 = cg_matrix_new(nfl, nfl);
    double *spill = calloc((size_t)nsp * (size_t)nsp, sizeof *spill);
    char **spn = calloc((size_t)nsp, sizeof *spn);
    enum { BLK = 4096 };
    double *blk = malloc((size_t)nfl * BLK * sizeof *blk);
    const double **in = calloc((size_t)nfl, sizeof *in);
    double **outp = calloc((size_t)nfl, sizeof *outp);
    if (!ssch || !extra || !wp || !cols || !S10 || !spill || !spn || !blk ||
        !in || !outp) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    /* spill columns of the two sources (CD3's and the viability dye's
     * detectors) and the file column of every spill channel */
    int src[2] = {-1, -1}, spcol[64];
    if (nfl > 64) {
        cg_err_set(err, CG_E_ARG, "simulator has %d spill channels", nfl);
        goto done;
    }
    for (int s = 0; s < nfl; s++) {
        spcol[s] = -1;
        for (int j = 0; j < d->npar; j++)
            if (!strcmp(d->name[j], d->spill_names[s]))
                spcol[s] = j;
        if (spcol[s] == d->fl_param[CG_SIM_CD3])
            src[0] = s;
        if (spcol[s] == d->fl_param[CG_SIM_VIAB])
            src[1] = s;
        if (spcol[s] < 0) {
            cg_err_set(err, CG_E_DATA, "spill channel %s not a parameter",
                       d->spill_names[s]);
            goto done;
        }
    }
    if (src[0] < 0 || src[1] < 0) {
        cg_err_set(err, CG_E_DATA, "CD3/viability channels not in $SPILLOVER");
        goto done;
    }
    memcpy(S10->v, d->spill, (size_t)nfl * (size_t)nfl * sizeof *S10->v);
    for (int s = 0; s < nfl; s++) {
        for (int t = 0; t < nfl; t++)
            spill[s * nsp + t] = d->spill[s * nfl + t];
        spn[s] = (char *)d->spill_names[s];
    }
    spill[src[0] * nsp + nfl] = extra_spill[0];
    spill[src[1] * nsp + nfl] = extra_spill[1];
    spill[nfl * nsp + nfl] = 1;
    spn[nfl] = EXTRA_NAME;

    /* the extra channels */
    uint64_t rs = seed ^ 0x5DEECE66Dull;
    for (int s = 0; s < nfl; s++)
        outp[s] = blk + (size_t)s * BLK;
    for (int64_t b = 0; b < n; b += BLK) {
        int64_t m = n - b < BLK ? n - b : BLK;
        for (int s = 0; s < nfl; s++)
            in[s] = d->col[spcol[s]] + b;
        if (cg_comp_apply(S10, 0, in, outp, m, err) < 0)
            goto done;
        for (int64_t i = 0; i < m; i++) {
            double ssca = d->col[d->ssc_a][b + i];
            ssch[b + i] = ssca * (0.62 + 0.02 * gauss(&rs));
            double t = unif(&rs) < 0.5 ? 60 * gauss(&rs)
                                       : 3000 * pow(10, 0.15 * gauss(&rs));
            double v = t + extra_spill[0] * outp[src[0]][i] +
                       extra_spill[1] * outp[src[1]][i];
            extra[b + i] = v > 262143 ? 262143 : v;
        }
    }

    /* parameters: SSC-H after SSC-A, the extra channel before Time */
    int k = 0;
    for (int j = 0; j < d->npar; j++) {
        if (j == d->time) {
            wp[k] = (fcs_wparam){EXTRA_NAME, EXTRA_LABEL, 262144};
            cols[k++] = extra;
        }
        wp[k] = (fcs_wparam){d->name[j], d->label[j], d->range[j]};
        cols[k++] = d->col[j];
        if (j == d->ssc_a) {
            wp[k] = (fcs_wparam){"SSC-H", NULL, 262144};
            cols[k++] = ssch;
        }
    }
    if (k != np) { /* no time channel: the extra channel goes last */
        wp[k] = (fcs_wparam){EXTRA_NAME, EXTRA_LABEL, 262144};
        cols[k++] = extra;
    }
    fcs_spill sp;
    memset(&sp, 0, sizeof sp);
    sp.n = nsp;
    sp.names = spn;
    sp.m = spill;
    snprintf(sp.keyword, sizeof sp.keyword, "$SPILLOVER");
    char ts[32], sd[32];
    snprintf(ts, sizeof ts, "%g", d->timestep);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    fcs_kv kv[4];
    int nkv = 0;
    kv[nkv++] = (fcs_kv){"$CYT", "cytogate bench (simulate + 2 channels)"};
    kv[nkv++] = (fcs_kv){"$TIMESTEP", ts};
    kv[nkv++] = (fcs_kv){"CYTOGATE_SEED", sd};
    if (sample_id)
        kv[nkv++] = (fcs_kv){"$SRC", sample_id};
    fcs_err fe;
    memset(&fe, 0, sizeof fe);
    if (fcs_write(path, np, wp, n, cols, kv, nkv, &sp, NULL, &fe) < 0) {
        cg_err_set(err, CG_E_IO, "%s: %s", path, fe.msg);
        goto done;
    }
    rc = 0;
done:
    free(ssch);
    free(extra);
    free(wp);
    free(cols);
    cg_matrix_free(S10);
    free(spill);
    free(spn);
    free(blk);
    free(in);
    free(outp);
    cg_sim_free(d);
    return rc;
}

/* --------------------------------------------------------------- machine */

void cg_bench_machine_info(cg_bench_machine *m)
{
    memset(m, 0, sizeof *m);
    long np = sysconf(_SC_NPROCESSORS_ONLN);
    m->nproc = np > 0 ? (int)np : 0;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    m->mem_gb = pages > 0 && psz > 0 ? (double)pages * (double)psz / 1e9 : NAN;
    double la[1];
    m->load1 = getloadavg(la, 1) == 1 ? la[0] : NAN;
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp)
        return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10))
            continue;
        const char *c = strchr(line, ':');
        if (!c)
            continue;
        c++;
        while (*c == ' ' || *c == '\t')
            c++;
        snprintf(m->cpu, sizeof m->cpu, "%.*s", (int)strcspn(c, "\n"), c);
        break;
    }
    fclose(fp);
}

/* ------------------------------------------------------------------ rmtree */

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT
               ? -1
               : 0;
}

int cg_bench_rmtree(const char *path)
{
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
