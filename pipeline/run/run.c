/*
 * run.c -- one sample of `cytogate run`, end to end (see run.h).
 *
 * Order of work: read the file whole into an owned buffer
 * (fcs_read_file: regular files only, pread, no mapping) -> FCS open
 * (gzip inflated) + decode into the frame (scaled view), while a helper
 * thread takes the sha256 of the bytes read -> panel -> compensation
 * (in place on the frame; the sheet's `compensation` column overrides
 * the config) -> QC of the events, on its own thread beside the gating
 * unless anomalous-time events are to be dropped first -> transforms
 * (shared from the context unless logicle `W: auto`, estimated per
 * sample, the markers' builds on the sample's threads) -> gates in config
 * order, each built from its parent's events (auto gates) and added to a
 * cg_gatetree, evaluated incrementally; the decoded file's bytes, once
 * hashed, hold the first transformed columns -> metrics -> gate QC (the
 * event QC joined) -> figures (run_plot.c) -> the transformed columns
 * freed -> statistics (each marker column sorted once for all
 * populations, columns over the sample's threads).  CYTOGATE_TRACE=1
 * prints each stage's time.
 *
 * Invariants: a gate is evaluated only on its parent's events; a gate
 * that needs an optional marker the file lacks, or whose parent is NA, is
 * NA with a reason (so are its descendants); nothing here aborts the
 * batch: every failure becomes res->ok = 0 with a message.
 *
 * Threading: called concurrently from batch workers; uses only the
 * read-only context (its transforms are immutable) and per-call state.
 * Per sample, one short-lived helper thread hashes a file of 8 MB or
 * more and is joined before the sample goes on.  No allocation per
 * event.
 */
#include "run.h"

#include <errno.h>
#include <float.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fcs/fcs.h"
#include "autogate.h"
#include "comp.h"
#include "dims.h"
#include "frame.h"
#include "gate.h"
#include "gatetree.h"
#include "kde.h"
#include "par.h"
#include "run_internal.h"
#include "stats.h"
#include "xform.h"

/* ------------------------------------------------------------ hashing -- */

/* SHA-256 through OpenSSL's EVP interface (SHA-NI/AVX2 code paths: about
 * 5x libmd's speed here).  EVP_sha256() is a static method table, safe to
 * share between threads; each call has its own context. */

static void hex32(const uint8_t d[32], char hex[65])
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = h[d[i] >> 4];
        hex[2 * i + 1] = h[d[i] & 15];
    }
    hex[64] = '\0';
}

void cg_sha256_buf(const void *buf, size_t n, char hex[65])
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (EVP_Digest(buf, n, d, &dn, EVP_sha256(), NULL) != 1 || dn != 32) {
        hex[0] = '\0';
        return;
    }
    hex32(d, hex);
}

int cg_sha256_file(const char *path, char hex[65], int64_t *size)
{
    hex[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    /* large reads straight from the page cache, no stdio copy */
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    int64_t total = 0;
    int bad = !buf;
    int e = bad ? ENOMEM : 0;
    while (!bad) {
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            bad = 1;
            e = errno;
            break;
        }
        if (got == 0)
            break;
        if (EVP_DigestUpdate(c, buf, (size_t)got) != 1) {
            bad = 1;
            e = EIO;
            break;
        }
        total += got;
    }
    free(buf);
    close(fd);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (!bad && (EVP_DigestFinal_ex(c, d, &dn) != 1 || dn != 32)) {
        bad = 1;
        e = EIO;
    }
    EVP_MD_CTX_free(c);
    if (bad) {
        errno = e ? e : EIO;
        return -1;
    }
    hex32(d, hex);
    if (size)
        *size = total;
    return 0;
}

/* ------------------------------------------------------------ results -- */

void cg_result_clear(cg_result *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->marker_w);
    free(r->marker_tf);
    free(r->metric);
    if (r->metric_reason) {
        /* count unknown here: the array is NULL-padded by one entry */
        for (int i = 0; r->metric_reason[i] != (char *)-1; i++)
            free(r->metric_reason[i]);
        free(r->metric_reason);
    }
    if (r->marker_pnn) {
        for (int i = 0; r->marker_pnn[i] != (char *)-1; i++) {
            free(r->marker_pnn[i]);
            free(r->marker_pns[i]);
            free(r->marker_how[i]);
        }
    }
    free(r->marker_pnn);
    free(r->marker_pns);
    free(r->marker_how);
    if (r->role_pnn) {
        for (int i = 0; r->role_pnn[i] != (char *)-1; i++)
            free(r->role_pnn[i]);
        free(r->role_pnn);
    }
    if (r->pops) {
        for (int i = 0; r->pops[i].count != INT64_MIN; i++) {
            free(r->pops[i].thr);
            free(r->pops[i].vx);
            free(r->pops[i].vy);
            free(r->pops[i].mstats);
        }
        free(r->pops);
    }
    for (int i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    cg_qc_result_free(r->qc);
    memset(r, 0, sizeof *r);
}

void cg_result_warn(cg_result *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **nw = realloc(r->warnings, (size_t)(r->nwarnings + 1) * sizeof *nw);
    if (!nw)
        return;
    r->warnings = nw;
    r->warnings[r->nwarnings] = strdup(buf);
    if (r->warnings[r->nwarnings])
        r->nwarnings++;
}

static int sample_fail(cg_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int sample_fail(cg_result *r, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->ok = 0;
    free(r->message);
    r->message = strdup(buf);
    return -1;
}

/* Arrays sized by the config, with a sentinel entry so cg_result_clear
 * does not need the config. */
static int result_alloc(const cg_config *cfg, cg_result *r)
{
    memset(r, 0, sizeof *r);
    r->qc_verdict = -1;
    r->comp_cond = NAN;
    int nm = cfg->nmarkers, nr = cfg->nscatter, ng = cfg->ngates;
    int nmet = cfg->nmetrics;
    r->marker_pnn = calloc((size_t)nm + 1, sizeof *r->marker_pnn);
    r->marker_pns = calloc((size_t)nm + 1, sizeof *r->marker_pns);
    r->marker_how = calloc((size_t)nm + 1, sizeof *r->marker_how);
    r->marker_w = calloc((size_t)nm + 1, sizeof *r->marker_w);
    r->marker_tf = calloc((size_t)nm + 1, sizeof *r->marker_tf);
    r->role_pnn = calloc((size_t)nr + 1, sizeof *r->role_pnn);
    r->pops = calloc((size_t)ng + 1, sizeof *r->pops);
    r->metric = calloc((size_t)nmet + 1, sizeof *r->metric);
    r->metric_reason = calloc((size_t)nmet + 1, sizeof *r->metric_reason);
    if (!r->marker_pnn || !r->marker_pns || !r->marker_how || !r->marker_w ||
        !r->role_pnn || !r->pops || !r->metric || !r->metric_reason ||
        !r->marker_tf) {
        free(r->marker_tf);
        free(r->marker_pnn);
        free(r->marker_pns);
        free(r->marker_how);
        free(r->marker_w);
        free(r->role_pnn);
        free(r->pops);
        free(r->metric);
        free(r->metric_reason);
        memset(r, 0, sizeof *r);
        return -1;
    }
    r->marker_pnn[nm] = (char *)-1;
    r->role_pnn[nr] = (char *)-1;
    r->metric_reason[nmet] = (char *)-1;
    r->pops[ng].count = INT64_MIN;
    for (int i = 0; i < nm; i++) {
        r->marker_w[i] = NAN;
        r->marker_tf[i].T = r->marker_tf[i].W = r->marker_tf[i].M = NAN;
    }
    r->head_cd4 = r->head_treg = r->head_th17 = -1;
    for (int i = 0; i < ng; i++) {
        r->pops[i].count = -1;
        r->pops[i].parent_count = -1;
        r->pops[i].debris_cut = NAN;
        snprintf(r->pops[i].na_reason, sizeof r->pops[i].na_reason,
                 "not evaluated");
    }
    for (int i = 0; i < nmet; i++)
        r->metric[i] = NAN;
    return 0;
}

cg_xform *cg_run_xform(const cg_tf_spec *t, double w, cg_err *err)
{
    cg_xform_params p;
    memset(&p, 0, sizeof p);
    switch (t->type) {
    case CG_TF_LOGICLE:
        /* `T: auto` / `M: auto` are resolved per channel by make_xform;
         * a caller without a channel gets the 262144 convention */
        p.T = t->T > 0 ? t->T : 262144;
        p.W = t->W < 0 ? w : t->W;
        p.M = t->M >= 0 ? t->M : 4.5 + log10(p.T / 262144.0);
        p.A = t->A;
        return cg_xform_new(CG_XF_LOGICLE, &p, err);
    case CG_TF_ARCSINH:
        p.cofactor = t->cofactor;
        return cg_xform_new(CG_XF_ARCSINH, &p, err);
    case CG_TF_LOG:
        /* Gating-ML flog with T=1, M=1: log10(x) + 1; shift by -1 is not
         * needed for gating, values stay monotone in x. */
        p.T = 1;
        p.M = 1;
        return cg_xform_new(CG_XF_LOG, &p, err);
    default:
        return cg_xform_new(CG_XF_IDENTITY, &p, err);
    }
}

/* The logicle top T for `T: auto`: the channel's (scaled) range when the
 * file gives one, else the largest finite value (at least 1). */
static double auto_top(double range, const double *col, int64_t n)
{
    if (range > 1)
        return range;
    double mx = 0;
    for (int64_t i = 0; i < n && col; i++)
        if (isfinite(col[i]) && col[i] > mx)
            mx = col[i];
    return mx > 1 ? mx : 1;
}

/* Scratch of make_xform, reused across the markers one thread builds: a
 * slab of the frame's (room for n + 1 doubles, more than any request),
 * taken when first needed, and the stride sample (SAMPLE_MAX + 1).  A
 * column that is the caller's scratch (own: a float-held channel read
 * into a slab) is compacted in place instead of into the slab. */
#define SAMPLE_MAX 65536
typedef struct xf_scratch {
    const cg_frame *fr;
    double *v;
    double *samp;
    const double *own;
} xf_scratch;

static double *scratch_room(xf_scratch *s, size_t n)
{
    (void)n; /* <= the frame's events + 1 */
    if (!s->v)
        s->v = cg_frame_slab_get(s->fr);
    return s->v;
}

static void scratch_done(xf_scratch *s)
{
    cg_frame_slab_put(s->fr, s->v);
    free(s->samp);
    s->v = s->samp = NULL;
}

/* flowCore's W for `W: auto` from the channel's values (see make_xform);
 * 0.5 where the estimate has nothing to say. */
static double auto_w(const cg_tf_spec *t, const double *col, int64_t n,
                     xf_scratch *sc)
{
    /* flowCore's rule; where it has nothing to say (no or tiny
     * negatives: the estimate is below 0 or fails) the default 0.5,
     * and never below it, so a channel without negatives still has
     * a linear zone around 0; logicle needs W <= M/2 */
    cg_err we = {0};
    double w = 0.5;
    /* far outliers left out (below the fence q25 - 5 IQR): a few
     * far-negative events would otherwise set the 5th percentile of
     * the negatives and widen W until the real populations collapse */
    /* The quartiles come from at most 65,536 events taken at a fixed
     * stride (the fence only has to separate far outliers, and the
     * stride keeps it deterministic); the estimate reads only the
     * negative values, so only those are kept (counted first: scratch
     * the size of the negatives, not of the column). */
    int64_t stride = n / SAMPLE_MAX + 1, k = 0;
    if (n > 0 && !sc->samp)
        sc->samp = malloc((SAMPLE_MAX + 1) * sizeof *sc->samp);
    double *v = n > 0 ? sc->samp : NULL;
    if (!v)
        return w;
    for (int64_t i = 0; i < n; i += stride)
        if (isfinite(col[i]))
            v[k++] = col[i];
    double q1 = k > 0 ? cg_kde_quantile7(v, k, 0.25) : 0;
    double q3 = k > 0 ? cg_kde_quantile7(v, k, 0.75) : 0;
    double fence = q1 - 5 * (q3 - q1);
    /* the kept values: over the column itself when it is scratch (each
     * written at or before where it was read), else into the slab */
    if (sc->own == col)
        v = (double *)sc->own;
    else if (!(v = scratch_room(sc, (size_t)n + 1)))
        return w;
    /* branch-free: whether a value is kept is data, not a pattern */
    k = 0;
    for (int64_t i = 0; i < n; i++) {
        v[k] = col[i]; /* written always, kept when in range */
        k += (col[i] < 0) & (col[i] >= fence);
    }
    if (cg_logicle_estimate_w(v, (size_t)k, t->T, t->M, &w, &we) < 0 ||
        !(w >= 0.5))
        w = 0.5;
    return w;
}

/* Build the transform of one marker (or the scatter transform); W: auto
 * is estimated from col[0..n) (col NULL: the spec's W must be fixed), and
 * T: auto / M: auto come from the channel's range (see cg_tf_spec). */
static cg_xform *make_xform(const cg_tf_spec *t0, const double *col, int64_t n,
                            double range, double decades, cg_tf_used *used,
                            xf_scratch *sc, cg_err *err)
{
    cg_tf_spec t = *t0;
    if (t.type == CG_TF_LOGICLE && decades > 0 && t.T < 0 && t.M < 0 &&
        t.W < 0) {
        /* a log-amplified channel ($PnE decades > 0, linearised to
         * f2 .. f2 10^decades): all auto means a log scale over exactly
         * those decades (logicle with W 0 is log10 there) */
        t.T = auto_top(range, col, n);
        t.M = decades;
        t.W = 0;
    }
    if (t.type == CG_TF_LOGICLE) {
        if (t.T < 0)
            t.T = auto_top(range, col, n);
        if (t.M < 0) {
            t.M = 4.5 + log10(t.T / 262144.0);
            if (t.M < 2)
                t.M = 2;
        }
    }
    double w = t.W;
    if (t.type == CG_TF_LOGICLE && t.W < 0) {
        w = auto_w(&t, col, n, sc);
        if (w > t.M / 2)
            w = t.M / 2;
    }
    if (used) {
        used->T = t.T;
        used->M = t.M;
        used->W = t.type == CG_TF_LOGICLE ? w : NAN;
    }
    return cg_run_xform(&t, w, err);
}

/* ------------------------------------------------------------ context -- */

/* Sample sheet columns gate:<name>[.<marker>]: each must name a
 * threshold gate of the config (and one of its dims; the bare name only
 * for a one-dimension gate), and every non-empty value must be a finite
 * number.  Errors name the column or the sheet line. */
static int check_overrides(const cg_config *cfg, const cg_sheet *sh,
                           cg_err *err)
{
    for (int j = 0; sh && j < sh->nextra; j++) {
        const char *cn = sh->extra_names[j];
        if (strncasecmp(cn, "gate:", 5) != 0)
            continue;
        const char *nm = cn + 5, *dot = strchr(nm, '.');
        char gname[128];
        snprintf(gname, sizeof gname, "%.*s",
                 (int)(dot ? (size_t)(dot - nm) : strlen(nm)), nm);
        int gi = cg_config_gate(cfg, gname);
        if (gi < 0 || cfg->gates[gi].type != CG_GS_THRESHOLD)
            return cg_err_set(err, CG_E_ARG, "%s: column '%s': '%s' is not "
                              "a threshold gate of the config", sh->path,
                              cn, gname);
        const cg_gate_spec *g = &cfg->gates[gi];
        int d = -1;
        for (int k = 0; k < g->ndims; k++)
            if (dot ? !strcasecmp(dot + 1, g->dims[k].marker)
                    : g->ndims == 1)
                d = k;
        if (d < 0)
            return cg_err_set(err, CG_E_ARG, "%s: column '%s': %s", sh->path,
                              cn, dot ? "no such dimension of that gate"
                                      : "the gate has several dimensions; "
                                        "name one as gate:<name>.<marker>");
        for (int i = 0; i < sh->n; i++) {
            const char *v = sh->s[i].extra[j];
            if (!v || !*v)
                continue;
            char *end;
            double x = strtod(v, &end);
            if (end == v || *end || !isfinite(x))
                return cg_err_set(err, CG_E_ARG, "%s:%d: column '%s': '%s' "
                                  "is not a number (a threshold in the "
                                  "gate's units, or empty)", sh->path,
                                  sh->s[i].line, cn, v);
        }
    }
    return 0;
}

int cg_run_ctx_prepare(cg_run_ctx *ctx, const cg_config *cfg,
                       const cg_sheet *sheet, const cg_run_opts *o,
                       cg_err *err)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = cfg;
    ctx->sheet = sheet;
    if (o)
        ctx->opts = *o;
    if (ctx->opts.threads < 1)
        ctx->opts.threads = 1;
    int inflight = sheet && sheet->n < ctx->opts.threads ? sheet->n
                                                         : ctx->opts.threads;
    ctx->inner_threads = inflight > 0 ? ctx->opts.threads / inflight : 1;
    if (ctx->inner_threads < 1)
        ctx->inner_threads = 1;
    /* BLAS on one thread, its idle workers stopped, before any matrix
     * work: the spillover inversion would otherwise run next to OpenBLAS
     * workers spinning in sched_yield. */
    cg_blas_quiet();
    cg_sha256_buf(cfg->text, cfg->text_len, ctx->config_sha256);
    if (check_overrides(cfg, sheet, err) < 0)
        return -1;
    cg_qc_params_init(&ctx->qc);
    for (int i = 0; i < cfg->nqc; i++)
        if (cg_qc_set(&ctx->qc, cfg->qc[i].key, cfg->qc[i].value, err) < 0) {
            err->line = cfg->qc[i].line;
            return -1;
        }
    if (cfg->comp_mode == CG_CMP_CSV) {
        cg_err e = {0};
        ctx->comp_csv = cg_matrix_read_csv(cfg->comp_path, &e);
        if (!ctx->comp_csv)
            return cg_err_set(err, CG_E_IO, "compensation: %s: %s",
                              cfg->comp_path, e.msg);
    }
    /* transforms that do not depend on the data, built once */
    ctx->tf_xf = calloc((size_t)cfg->ntf + 1, sizeof *ctx->tf_xf);
    if (!ctx->tf_xf)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    ctx->ntf_xf = cfg->ntf;
    for (int k = 0; k < cfg->ntf; k++) {
        const cg_tf_spec *t = &cfg->tf[k];
        if (t->type == CG_TF_LOGICLE && (t->W < 0 || t->T < 0 || t->M < 0))
            continue; /* W, T or M auto: per sample and channel */
        cg_err e = {0};
        ctx->tf_xf[k] = make_xform(t, NULL, 0, 0, 0, NULL, NULL, &e); /* NULL: per sample */
    }
    return 0;
}

void cg_run_ctx_clear(cg_run_ctx *ctx)
{
    if (!ctx)
        return;
    cg_matrix_free(ctx->comp_csv);
    for (int k = 0; k < ctx->ntf_xf; k++)
        cg_xform_free(ctx->tf_xf[k]);
    free(ctx->tf_xf);
    memset(ctx, 0, sizeof *ctx);
}

/* ----------------------------------------------------- per-sample work -- */

/* Everything one sample's gating needs. */
typedef struct sample_work {
    const cg_run_ctx *ctx;
    const cg_config *cfg;
    cg_result *res;
    cg_frame *fr;        /* compensated frame used for gating */
    cg_dims *dc;
    cg_gatetree *tree;
    cg_members *mem;
    int nmk, nrole;
    int *mk_ch, *role_ch;  /* frame channel per marker / role, -1 */
    cg_xform **mk_xf;      /* per marker */
    unsigned char *mk_own; /* mk_xf[i] built for this sample (else the
                              context's shared one) */
    const cg_sample *smp;  /* the sheet row (overrides) */
    double *ch_dec;        /* $PnE decades per frame channel (0: linear) */
    cg_xform *sc_xf;       /* scatter */
    int sc_own;
    cg_dim *mk_dim, *mk_raw, *role_dim, *role_raw;
    struct qc_job *qc;     /* event QC running beside the gating, or NULL */
    cg_qc_input qc_in;     /* the event QC's input, when it is to start */
    int qc_pending;        /* beside the gating, once the transforms are
                              built (gate_sample) */
    double t0;             /* start (CYTOGATE_TRACE) */
    void *spare;           /* the file's bytes once decoded (owned, until
                              given to the frame as its slabs) */
    size_t spare_size;
} sample_work;

/* The dimension (channel + transform) a gate coordinate names. */
static const cg_dim *dim_for(sample_work *w, const char *name, int raw,
                             const cg_xform **xf, int *ch)
{
    int m = cg_config_marker(w->cfg, name);
    if (m >= 0) {
        if (w->mk_ch[m] < 0)
            return NULL;
        if (xf)
            *xf = raw ? NULL : w->mk_xf[m];
        if (ch)
            *ch = w->mk_ch[m];
        return raw ? &w->mk_raw[m] : &w->mk_dim[m];
    }
    int r = cg_config_role(w->cfg, name);
    if (r >= 0 && w->role_ch[r] >= 0) {
        if (xf)
            *xf = raw ? NULL : w->sc_xf;
        if (ch)
            *ch = w->role_ch[r];
        return raw ? &w->role_raw[r] : &w->role_dim[r];
    }
    return NULL;
}

/* Why a gate cannot be evaluated (a missing dimension), or NULL. */
static const char *gate_missing(sample_work *w, const cg_gate_spec *g)
{
    int present = 0;
    for (int d = 0; d < g->ndims; d++) {
        if (dim_for(w, g->dims[d].marker, 0, NULL, NULL)) {
            present++;
            continue;
        }
        /* an optional dim is dropped, unless another dim is within it */
        int needed = !g->dims[d].optional;
        for (int e = 0; e < g->ndims; e++)
            if (g->dims[e].within == d)
                needed = 1;
        if (needed)
            return g->dims[d].marker;
    }
    if (g->ndims > 0 && present == 0)
        return g->dims[0].marker;
    if (g->x && !dim_for(w, g->x, 0, NULL, NULL))
        return g->x;
    if (g->y && !dim_for(w, g->y, 0, NULL, NULL))
        return g->y;
    return NULL;
}

static const cg_bits *pop_bits(sample_work *w, int gi)
{
    int p = cg_gatetree_find(w->tree, w->cfg->gates[gi].name);
    return p >= 0 ? cg_members_bits(w->mem, p) : NULL;
}

int cg_run_auto_cut(const cg_dim_spec *ds, const double *x, int64_t n,
                    const cg_bits *parent, cg_threshold_result *tr,
                    cg_err *err)
{
    cg_autogate_opts o;
    cg_autogate_opts_init(&o);
    if (!isnan(ds->lo)) {
        o.lo = ds->lo;
        o.hi = ds->hi;
    }
    o.adjust = ds->adjust;
    o.fraction = ds->fraction;
    o.side = ds->side ? ds->side : ds->keep == CG_KEEP_ABOVE ? 1 : -1;
    o.one_peak = ds->one_peak == 2 ? (ds->keep == CG_KEEP_BELOW ? 1 : -1)
                                   : ds->one_peak;
    o.k = ds->k > 0 ? ds->k : 3;
    /* the lone peak is the kept population: cut above it keeping below,
     * or below it keeping above */
    o.keep_peak = (o.one_peak > 0 && ds->keep == CG_KEEP_BELOW) ||
                  (o.one_peak < 0 && ds->keep == CG_KEEP_ABOVE);
    o.refine = ds->within >= 0;
    if (!isnan(ds->q))
        o.q = ds->q;
    memset(tr, 0, sizeof *tr);
    if (ds->method == CG_TM_VALLEY)
        return cg_gate_valley(x, n, parent, &o, tr, err);
    if (ds->method == CG_TM_TAIL)
        return cg_gate_tail(x, n, parent, &o, tr, err);
    return cg_gate_quantile(x, n, parent, &o, tr, err);
}

/* The per-sample override of gate g's dim d: the sample sheet column
 * `gate:<name>.<marker>`, or `gate:<name>` for a one-dimension gate (a
 * number in the gate's units); NaN when none.  Columns and values were
 * checked when the run was prepared (check_overrides). */
static double override_value(sample_work *w, const cg_gate_spec *g, int d)
{
    const cg_sheet *sh = w->ctx->sheet;
    const cg_sample *smp = w->smp;
    if (!sh || !smp)
        return NAN;
    for (int j = 0; j < sh->nextra; j++) {
        const char *cn = sh->extra_names[j];
        if (strncasecmp(cn, "gate:", 5) != 0)
            continue;
        cn += 5;
        size_t nl = strlen(g->name);
        if (strncmp(cn, g->name, nl) != 0)
            continue;
        if (cn[nl] == '.' ? strcasecmp(cn + nl + 1, g->dims[d].marker) != 0
                          : !(cn[nl] == '\0' && g->ndims == 1))
            continue;
        const char *v = smp->extra[j];
        if (!v || !*v)
            return NAN;
        char *end;
        double x = strtod(v, &end);
        return end != v && *end == '\0' && isfinite(x) ? x : NAN;
    }
    return NAN;
}

/* Where an auto gate reads its values.  In compact mode (cytogate run
 * sets it), a gate with a parent whose dims would have to be computed
 * gets them for the parent's events only (cg_dims_gathered): value
 * arrays of the parent's size, and masks over the parent's events (the
 * whole parent: NULL).  Otherwise whole columns (cg_dims_get) with masks
 * over all events.  The auto gates depend on the values in mask order
 * only, so both give the same results. */
typedef struct gspace {
    int compact;           /* some dim cg_dims_gathers */
    const cg_bits *parent; /* the gate's parent; NULL: every event */
} gspace;

static const double *space_vals(sample_work *w, const gspace *sp,
                                const cg_dim *d, int64_t *n, cg_err *err)
{
    if (sp->compact)
        return cg_dims_gathered(w->dc, d, sp->parent, n, err);
    *n = cg_dims_n(w->dc);
    return cg_dims_get(w->dc, d, err);
}

/* The mask that stands for the gate's whole parent in sp. */
static const cg_bits *space_all(const gspace *sp)
{
    return sp->compact ? NULL : sp->parent;
}

/* The main peak and its robust SD of the values x (n of them, in sp)
 * over gate g's whole parent (cg_main_peak); 0 when they cannot be
 * measured. */
static int parent_bulk(const gspace *sp, const double *x, int64_t n,
                       double *pm, double *ps, cg_err *err)
{
    if (cg_main_peak(x, n, space_all(sp), pm, ps, err) < 0)
        return 0;
    return isfinite(*pm) && *ps > 0;
}

/* Whether the cut found within another dim's cut should come from the
 * gate's whole parent instead (see threshold_dim): the lone peak found
 * there sits on the parent's main peak (within 2 robust SDs: it is the
 * bulk population this dim leaves out), or a valley cut throws away the
 * highest peak although that peak lies beyond 2 robust SDs on the kept
 * side of the parent's bulk (it is the population the gate keeps, e.g.
 * CD127lo Tregs within CD25hi, and the valley only split off a minor
 * bump of it). */
static int cut_from_parent(const gspace *sp, const cg_gate_spec *g, int d,
                           const double *x, int64_t n,
                           const cg_threshold_result *tr, cg_err *err)
{
    const cg_dim_spec *ds = &g->dims[d];
    if (ds->within < 0 || ds->one_peak_set || !isfinite(tr->mode))
        return 0;
    int lone = !strncmp(tr->rule, "one peak: ", 10);
    int below = ds->keep == CG_KEEP_BELOW;
    int drops_main = !strncmp(tr->rule, "valley", 6) &&
                     (below ? tr->threshold < tr->mode
                            : tr->threshold > tr->mode);
    double pm, ps;
    if (!(lone || drops_main) || !parent_bulk(sp, x, n, &pm, &ps, err))
        return 0;
    if (lone)
        return fabs(tr->mode - pm) <= 2 * ps;
    return below ? tr->mode < pm - 2 * ps : tr->mode > pm + 2 * ps;
}

/* The cut of a `within` dim taken from the gate's whole parent
 * (cut_from_parent said so): the lone peak found within the other dim's
 * cut is the parent's bulk population, the one this dim leaves out (e.g.
 * CD127 within CD25+: mostly CD127+ cells passed the CD25 cut), or the
 * valley there would cut away the kept population's own peak.  The whole
 * parent's distribution, where the bulk is well sampled, gives a tail cut
 * on the kept side of its main peak (CD127lo from CD4's CD127), 2 robust
 * SDs out -- the other dim's cut has already left few bulk events, so the
 * cut can sit closer to the bulk than a lone tail gate's k (on the Aurora
 * file 16 of the manual 22 Tregs, against 4 at k 4; the validation matrix
 * is as good or better).  Replaces *tr; rule "parent <rule>". */
static int parent_tail_cut(const gspace *sp, const cg_gate_spec *g, int d,
                           const double *x, int64_t n,
                           cg_threshold_result *tr, cg_err *err)
{
    const cg_dim_spec *ds = &g->dims[d];
    const char *why = tr->npeaks <= 1
                          ? "one peak, on the parent's bulk,"
                          : "a valley cutting the kept population's peak";
    cg_dim_spec d2 = *ds;
    d2.method = CG_TM_TAIL;
    d2.side = ds->keep == CG_KEEP_BELOW ? -1 : 1;
    d2.fraction = 0;
    d2.k = 2;
    if (cg_run_auto_cut(&d2, x, n, space_all(sp), tr, err) < 0)
        return -1;
    char rule[24];
    snprintf(rule, sizeof rule, "parent %.16s", tr->rule);
    memcpy(tr->rule, rule, sizeof tr->rule);
    snprintf(tr->reason, sizeof tr->reason,
             "%s within %s: cut from the whole parent (%s)", why,
             g->dims[ds->within].marker, rule);
    tr->fell_back = 0;
    return 0;
}

/* A 1-D cut for one dimension of a threshold gate over the events of
 * `parent` (a mask in sp); fills *ti and the rectangle bounds. */
static int threshold_dim(sample_work *w, const cg_gate_spec *g, int d,
                         const gspace *sp, const cg_bits *parent,
                         cg_thr_info *ti, double *mn, double *mx,
                         cg_err *err)
{
    const cg_dim_spec *ds = &g->dims[d];
    const cg_xform *xf = NULL;
    const cg_dim *dim = dim_for(w, ds->marker, g->raw_units, &xf, NULL);
    ti->threshold = ti->threshold_raw = NAN;
    ti->depth = ti->bandwidth = NAN;
    ti->mode = ti->spread = ti->grid_lo = ti->grid_hi = NAN;
    ti->auto_threshold = NAN;
    if (ds->method == CG_TM_INTERVAL) {
        cg_run_dim_bounds(ds, NAN, mn, mx);
        return 0;
    }
    double t;
    if (ds->method == CG_TM_FIXED) {
        t = ds->value;
        snprintf(ti->rule, sizeof ti->rule, "fixed");
    } else {
        int64_t n;
        const double *x = space_vals(w, sp, dim, &n, err);
        if (!x)
            return -1;
        cg_threshold_result tr;
        if (cg_run_auto_cut(ds, x, n, parent, &tr, err) < 0)
            return -1;
        if (cut_from_parent(sp, g, d, x, n, &tr, err) &&
            parent_tail_cut(sp, g, d, x, n, &tr, err) < 0)
            return -1;
        t = tr.threshold;
        ti->fell_back = tr.fell_back;
        snprintf(ti->reason, sizeof ti->reason, "%s", tr.reason);
        snprintf(ti->rule, sizeof ti->rule, "%s", tr.rule);
        ti->npeaks = tr.npeaks;
        ti->depth = tr.depth;
        ti->bandwidth = tr.bandwidth;
        ti->mode = tr.mode;
        ti->spread = tr.spread;
        ti->grid_lo = tr.grid_lo;
        ti->grid_hi = tr.grid_hi;
    }
    /* a per-sample override (sheet column gate:<name>[.<marker>]) */
    double ov = override_value(w, g, d);
    if (!isnan(ov)) {
        ti->auto_threshold = t;
        ti->overridden = 1;
        ti->fell_back = 0;
        ti->reason[0] = '\0';
        snprintf(ti->rule, sizeof ti->rule, "override");
        t = ov;
    }
    ti->threshold = t;
    ti->threshold_raw = (xf && isfinite(t)) ? cg_xform_inv1(xf, t) : t;
    cg_run_dim_bounds(ds, t, mn, mx);
    return 0;
}

void cg_run_dim_bounds(const cg_dim_spec *ds, double t, double *mn,
                       double *mx)
{
    if (ds->method == CG_TM_INTERVAL) {
        *mn = isnan(ds->min) ? -INFINITY : ds->min;
        *mx = isnan(ds->max) ? INFINITY : ds->max;
    } else if (!isfinite(t)) {
        *mn = DBL_MAX;
        *mx = INFINITY;
    } else if (ds->keep == CG_KEEP_ABOVE) {
        *mn = t;
        *mx = INFINITY;
    } else {
        *mn = -INFINITY;
        *mx = t;
    }
}

/* A threshold/range/rectangle gate: one cut per dim (threshold_dim),
 * the dims without `within` first, then those within another dim, whose
 * density is taken over the parent events passing that dim's cut; a dim
 * on a missing optional marker is dropped. */
static cg_gate *build_threshold_gate(sample_work *w, int gi,
                                     const cg_bits *parent, cg_err *err)
{
    const cg_gate_spec *g = &w->cfg->gates[gi];
    cg_pop_result *pr = &w->res->pops[gi];
    int nd = g->ndims;
    cg_dim *dv = calloc((size_t)nd, sizeof *dv);
    double *mn = calloc((size_t)nd, sizeof *mn);
    double *mx = calloc((size_t)nd, sizeof *mx);
    pr->thr = calloc((size_t)nd, sizeof *pr->thr);
    pr->nthr = pr->thr ? nd : 0;
    cg_gate *out = NULL;
    cg_bits *sub = NULL;
    if (!dv || !mn || !mx || !pr->thr) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto rect_done;
    }
    /* dims without `within` first, then those within another dim,
     * whose density is taken over the parent events passing that
     * dim's cut; a dim on a missing optional marker is dropped */
    gspace sp = {0, parent};
    for (int d = 0; d < nd && !sp.compact; d++) {
        const cg_dim *dm = dim_for(w, g->dims[d].marker, g->raw_units, NULL,
                                   NULL);
        sp.compact = dm && cg_dims_gathers(w->dc, parent, dm);
    }
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int d = 0; d < nd; d++) {
            const cg_dim_spec *ds = &g->dims[d];
            if ((ds->within >= 0) != pass)
                continue;
            if (!dim_for(w, ds->marker, g->raw_units, NULL, NULL)) {
                cg_thr_info *ti = &pr->thr[d];
                snprintf(ti->rule, sizeof ti->rule, "dropped");
                ti->threshold = ti->threshold_raw = ti->depth = NAN;
                ti->bandwidth = ti->mode = ti->spread = NAN;
                ti->grid_lo = ti->grid_hi = ti->auto_threshold = NAN;
                pr->dropped++;
                continue;
            }
            const cg_bits *par = space_all(&sp);
            if (ds->within >= 0) {
                int wd = ds->within;
                const cg_dim_spec *wds = &g->dims[wd];
                int64_t nw;
                const double *xw = space_vals(w, &sp,
                    dim_for(w, wds->marker, g->raw_units, NULL, NULL), &nw,
                    err);
                if (!xw)
                    goto rect_done;
                if (!sub && !(sub = cg_bits_new(nw))) {
                    cg_err_set(err, CG_E_NOMEM, "out of memory");
                    goto rect_done;
                }
                if (cg_threshold_apply(pr->thr[wd].threshold,
                                       wds->keep == CG_KEEP_ABOVE, xw, nw,
                                       space_all(&sp), sub, err) < 0)
                    goto rect_done;
                par = sub;
            }
            if (threshold_dim(w, g, d, &sp, par, &pr->thr[d], &mn[k],
                              &mx[k], err) < 0)
                goto rect_done;
            dv[k++] = *dim_for(w, ds->marker, g->raw_units, NULL, NULL);
        }
    out = cg_gate_rect_new(g->name, k, dv, mn, mx, err);
rect_done:
    cg_bits_free(sub);
    free(dv); /* shallow copies: the dims belong to the work struct */
    free(mn);
    free(mx);
    return out;
}

/* The scatter gate: the 2-D density region around the lymphocyte mode
 * (cg_gate_scatter) as a polygon; an empty rectangle when it fell back
 * with no polygon. */
static cg_gate *build_scatter_gate(sample_work *w, int gi,
                                   const cg_bits *parent, cg_err *err)
{
    const cg_gate_spec *g = &w->cfg->gates[gi];
    cg_pop_result *pr = &w->res->pops[gi];
    cg_dim dims[2];
    const double *x = NULL, *y = NULL;
    dims[0] = *dim_for(w, g->x, 0, NULL, NULL);
    dims[1] = *dim_for(w, g->y, 0, NULL, NULL);
    gspace sp = {cg_dims_gathers(w->dc, parent, &dims[0]) ||
                     cg_dims_gathers(w->dc, parent, &dims[1]),
                 parent};
    int64_t n;
    if (!(x = space_vals(w, &sp, &dims[0], &n, err)) ||
        !(y = space_vals(w, &sp, &dims[1], &n, err)))
        return NULL;
    cg_scatter_opts o;
    cg_scatter_opts_init(&o);
    o.level = g->level;
    o.adjust = g->adjust;
    cg_scatter_result sr;
    memset(&sr, 0, sizeof sr);
    if (cg_gate_scatter(x, y, n, space_all(&sp), &o, &sr, err) < 0)
        return NULL;
    pr->auto2d = 1;
    pr->fell_back = sr.fell_back;
    snprintf(pr->reason, sizeof pr->reason, "%s", sr.reason);
    snprintf(pr->rule, sizeof pr->rule, "%s", sr.rule);
    pr->debris_cut = sr.debris_cut;
    pr->mode_x = sr.mode_x;
    pr->mode_y = sr.mode_y;
    pr->level_density = sr.level_density;
    pr->k = pr->ratio_lo = pr->ratio_hi = NAN;
    cg_gate *out = NULL;
    if (sr.nvert >= 3) {
        pr->vx = malloc((size_t)sr.nvert * sizeof *pr->vx);
        pr->vy = malloc((size_t)sr.nvert * sizeof *pr->vy);
        if (pr->vx && pr->vy) {
            memcpy(pr->vx, sr.vx, (size_t)sr.nvert * sizeof *pr->vx);
            memcpy(pr->vy, sr.vy, (size_t)sr.nvert * sizeof *pr->vy);
            pr->nvert = sr.nvert;
            out = cg_gate_polygon_new_xy(g->name, dims, sr.nvert, pr->vx,
                                         pr->vy, err);
        } else {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
        }
    } else {
        /* fell back with no polygon: an empty rectangle */
        double mn[2] = {DBL_MAX, DBL_MAX}, mx[2] = {INFINITY, INFINITY};
        out = cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
    }
    cg_scatter_result_release(&sr);
    return out;
}

/* The singlets gate: the FSC-A/FSC-H ratio band (cg_gate_singlets) as
 * a polygon; an empty rectangle when it fell back. */
static cg_gate *build_singlets_gate(sample_work *w, int gi,
                                    const cg_bits *parent, cg_err *err)
{
    const cg_gate_spec *g = &w->cfg->gates[gi];
    cg_pop_result *pr = &w->res->pops[gi];
    cg_dim dims[2];
    /* Always on linear (raw) scatter: the band is a ratio a/h. */
    dims[0] = *dim_for(w, g->x, 1, NULL, NULL);
    dims[1] = *dim_for(w, g->y, 1, NULL, NULL);
    gspace sp = {cg_dims_gathers(w->dc, parent, &dims[0]) ||
                     cg_dims_gathers(w->dc, parent, &dims[1]),
                 parent};
    const double *a, *h;
    int64_t n;
    if (!(a = space_vals(w, &sp, &dims[0], &n, err)) ||
        !(h = space_vals(w, &sp, &dims[1], &n, err)))
        return NULL;
    cg_singlets_result sr;
    memset(&sr, 0, sizeof sr);
    if (cg_gate_singlets(a, h, n, space_all(&sp), g->tolerance, &sr,
                         err) < 0)
        return NULL;
    pr->auto2d = 1;
    pr->fell_back = sr.fell_back;
    snprintf(pr->reason, sizeof pr->reason, "%s", sr.reason);
    snprintf(pr->rule, sizeof pr->rule, "%s",
             sr.fell_back ? "too few events" : "ratio mode");
    pr->k = sr.k;
    pr->ratio_lo = sr.ratio_lo;
    pr->ratio_hi = sr.ratio_hi;
    pr->mode_x = pr->mode_y = pr->level_density = NAN;
    if (sr.fell_back && !isfinite(sr.k)) {
        double mn[2] = {DBL_MAX, DBL_MAX}, mx[2] = {INFINITY, INFINITY};
        return cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
    }
    pr->vx = malloc(4 * sizeof *pr->vx);
    pr->vy = malloc(4 * sizeof *pr->vy);
    if (!pr->vx || !pr->vy) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int k = 0; k < 4; k++) {
        pr->vx[k] = sr.poly[2 * k];
        pr->vy[k] = sr.poly[2 * k + 1];
    }
    pr->nvert = 4;
    return cg_gate_polygon_new(g->name, dims, 4, sr.poly, err);
}

/* Build the cg_gate for config gate gi (auto gates computed here). */
static cg_gate *build_gate(sample_work *w, int gi, const cg_bits *parent,
                           cg_err *err)
{
    const cg_gate_spec *g = &w->cfg->gates[gi];
    cg_dim dims[2];
    switch (g->type) {
    case CG_GS_THRESHOLD:
    case CG_GS_RANGE:
    case CG_GS_RECTANGLE:
        return build_threshold_gate(w, gi, parent, err);
    case CG_GS_SCATTER:
        return build_scatter_gate(w, gi, parent, err);
    case CG_GS_SINGLETS:
        return build_singlets_gate(w, gi, parent, err);
    case CG_GS_POLYGON: {
        dims[0] = *dim_for(w, g->x, g->raw_units, NULL, NULL);
        dims[1] = *dim_for(w, g->y, g->raw_units, NULL, NULL);
        return cg_gate_polygon_new_xy(g->name, dims, g->nvert, g->vx, g->vy,
                                      err);
    }
    case CG_GS_ELLIPSE: {
        dims[0] = *dim_for(w, g->x, g->raw_units, NULL, NULL);
        dims[1] = *dim_for(w, g->y, g->raw_units, NULL, NULL);
        /* C = R diag(a^2, b^2) R', D2 = 1: the ellipse with half-axes a, b
         * rotated by angle (degrees, counter-clockwise from x). */
        double th = g->angle * M_PI / 180.0, c = cos(th), s = sin(th);
        double a2 = g->ra * g->ra, b2 = g->rb * g->rb;
        double cov[4] = {c * c * a2 + s * s * b2, c * s * (a2 - b2),
                         c * s * (a2 - b2), s * s * a2 + c * c * b2};
        double mean[2] = {g->cx, g->cy};
        return cg_gate_ellipse_new(g->name, 2, dims, mean, cov, 1.0, err);
    }
    case CG_GS_QUADRANT: {
        dims[0] = *dim_for(w, g->x, g->raw_units, NULL, NULL);
        dims[1] = *dim_for(w, g->y, g->raw_units, NULL, NULL);
        double mn[2] = {g->qxpos ? g->qx : -INFINITY, g->qypos ? g->qy : -INFINITY};
        double mx[2] = {g->qxpos ? INFINITY : g->qx, g->qypos ? INFINITY : g->qy};
        return cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
    }
    case CG_GS_BOOLEAN: {
        const char *refs[64];
        int nref = g->nof < 64 ? g->nof : 64;
        for (int k = 0; k < nref; k++)
            refs[k] = w->cfg->gates[g->of[k]].name;
        static const cg_bool_op ops[] = {CG_BOOL_AND, CG_BOOL_OR, CG_BOOL_NOT};
        return cg_gate_bool_new(g->name, ops[g->op], nref, refs, NULL, err);
    }
    }
    cg_err_set(err, CG_E_ARG, "unknown gate type");
    return NULL;
}

static void work_free(sample_work *w)
{
    cg_members_free(w->mem);
    cg_gatetree_free(w->tree);
    cg_dims_free(w->dc);
    for (int i = 0; i < w->nmk; i++) {
        if (w->mk_dim) cg_dim_clear(&w->mk_dim[i]);
        if (w->mk_raw) cg_dim_clear(&w->mk_raw[i]);
        if (w->mk_xf && w->mk_own && w->mk_own[i]) cg_xform_free(w->mk_xf[i]);
    }
    for (int i = 0; i < w->nrole; i++) {
        if (w->role_dim) cg_dim_clear(&w->role_dim[i]);
        if (w->role_raw) cg_dim_clear(&w->role_raw[i]);
    }
    if (w->sc_own)
        cg_xform_free(w->sc_xf);
    free(w->mk_own);
    free(w->mk_dim);
    free(w->mk_raw);
    free(w->role_dim);
    free(w->role_raw);
    free(w->mk_xf);
    free(w->mk_ch);
    free(w->role_ch);
    free(w->ch_dec);
    fcs_buf_free(w->spare);
}

/* The context's transform for spec t, or NULL (build one per sample). */
static const cg_xform *shared_xform(const cg_run_ctx *ctx, const cg_tf_spec *t)
{
    ptrdiff_t k = t - ctx->cfg->tf;
    if (!ctx->tf_xf || k < 0 || k >= ctx->ntf_xf)
        return NULL;
    return ctx->tf_xf[k];
}

/* Set up transforms and dimensions for every resolved marker and role. */
/* One thread's share of the per-sample marker transforms. */
typedef struct xf_build {
    sample_work *w;
    const int *job;   /* marker indices */
    int njob, t, nt;  /* this thread takes jobs t, t + nt, ... */
    cg_tf_used *tu;   /* per marker */
    cg_err *err;      /* per marker */
} xf_build;

static void *xf_build_main(void *arg)
{
    xf_build *b = arg;
    sample_work *w = b->w;
    const cg_frame *fr = w->fr;
    xf_scratch sc = {fr, NULL, NULL, NULL};
    double *buf = NULL; /* a float-held channel's values (a slab) */
    for (int k = b->t; k < b->njob; k += b->nt) {
        int i = b->job[k], ch = w->mk_ch[i];
        const cg_tf_spec *t = cg_config_tf(w->cfg, i);
        b->tu[i] = (cg_tf_used){t->T, NAN, t->M};
        const double *col = cg_frame_values(fr, ch, &buf);
        sc.own = buf; /* not read after the build: may be compacted */
        w->mk_xf[i] = col ? make_xform(t, col, fr->n, fr->range[ch],
                                       w->ch_dec ? w->ch_dec[ch] : 0,
                                       &b->tu[i], &sc, &b->err[i])
                          : NULL;
        if (!col)
            cg_err_set(&b->err[i], CG_E_NOMEM, "out of memory");
        w->mk_own[i] = w->mk_xf[i] != NULL;
    }
    scratch_done(&sc);
    cg_frame_slab_put(fr, buf);
    return NULL;
}

/* The transform of every marker in the file: the context's shared one,
 * or built for this sample from its values (`W: auto` etc.), the builds
 * dealt to ctx->inner_threads threads.  Each marker's transform depends
 * only on its own column, so the result does not depend on the thread
 * count; an error is the first failing marker's, in config order. */
static int build_marker_xforms(sample_work *w, cg_tf_used *tu, cg_err *err)
{
    int nmk = w->nmk, njob = 0, rc = 0;
    int *job = calloc((size_t)nmk + 1, sizeof *job);
    cg_err *errs = calloc((size_t)nmk + 1, sizeof *errs);
    if (!job || !errs) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nmk; i++) {
        if (w->mk_ch[i] < 0)
            continue;
        const cg_xform *shared = shared_xform(w->ctx,
                                              cg_config_tf(w->cfg, i));
        if (shared)
            w->mk_xf[i] = (cg_xform *)shared;
        else
            job[njob++] = i;
    }
    int nt = w->ctx->inner_threads < njob ? w->ctx->inner_threads : njob;
    xf_build b[8];
    if (nt > 8)
        nt = 8;
    for (int t = 0; t < nt; t++)
        b[t] = (xf_build){w, job, njob, t, nt, tu, errs};
    if (nt > 0)
        cg_par_run(nt, xf_build_main, b, sizeof *b);
    for (int k = 0; k < njob && rc == 0; k++)
        if (!w->mk_xf[job[k]]) {
            *err = errs[job[k]];
            rc = -1;
        }
done:
    free(job);
    free(errs);
    return rc;
}

static int setup_dims(sample_work *w, cg_err *err)
{
    const cg_config *cfg = w->cfg;
    w->nmk = cfg->nmarkers;
    w->nrole = cfg->nscatter;
    w->mk_dim = calloc((size_t)w->nmk + 1, sizeof *w->mk_dim);
    w->mk_raw = calloc((size_t)w->nmk + 1, sizeof *w->mk_raw);
    w->mk_xf = calloc((size_t)w->nmk + 1, sizeof *w->mk_xf);
    w->mk_own = calloc((size_t)w->nmk + 1, sizeof *w->mk_own);
    w->role_dim = calloc((size_t)w->nrole + 1, sizeof *w->role_dim);
    w->role_raw = calloc((size_t)w->nrole + 1, sizeof *w->role_raw);
    if (!w->mk_dim || !w->mk_raw || !w->mk_xf || !w->mk_own || !w->role_dim ||
        !w->role_raw)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int i = 0; i < w->nmk; i++) {
        cg_dim_init(&w->mk_dim[i]);
        cg_dim_init(&w->mk_raw[i]);
    }
    for (int i = 0; i < w->nrole; i++) {
        cg_dim_init(&w->role_dim[i]);
        cg_dim_init(&w->role_raw[i]);
    }
    const cg_frame *fr = w->fr;
    cg_tf_used *tus = calloc((size_t)w->nmk + 1, sizeof *tus);
    if (!tus)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    int brc = build_marker_xforms(w, tus, err);
    for (int i = 0; i < w->nmk && brc == 0; i++) {
        int ch = w->mk_ch[i];
        if (ch < 0)
            continue;
        const cg_tf_spec *t = cg_config_tf(cfg, i);
        cg_tf_used tu = tus[i];
        if (!w->mk_own[i]) { /* the context's shared transform */
            tu = (cg_tf_used){t->T, NAN, t->M};
            if (t->type == CG_TF_LOGICLE)
                tu.W = t->W;
        }
        w->res->marker_w[i] = tu.W;
        if (w->res->marker_tf) {
            w->res->marker_tf[i] = tu;
            if (t->type != CG_TF_LOGICLE)
                w->res->marker_tf[i].T = w->res->marker_tf[i].M = NAN;
        }
        /* the dims borrow the transform: it outlives them (work_free) */
        if (cg_dim_set_channel(&w->mk_dim[i], fr->name[ch], CG_COMP_NONE, NULL,
                               err) < 0 ||
            cg_dim_set_xform_shared(&w->mk_dim[i], w->mk_xf[i], -INFINITY,
                                    INFINITY, NULL, err) < 0 ||
            cg_dim_set_channel(&w->mk_raw[i], fr->name[ch], CG_COMP_NONE, NULL,
                               err) < 0)
            brc = -1;
    }
    free(tus);
    if (brc < 0)
        return -1;
    const cg_tf_spec *st = cg_config_tf(cfg, -1);
    const cg_xform *shared = shared_xform(w->ctx, st);
    if (shared) {
        w->sc_xf = (cg_xform *)shared;
    } else {
        /* T: auto for scatter: the largest range of the scatter channels */
        double rg = 0;
        int rc0 = -1;
        for (int i = 0; i < w->nrole; i++) {
            int ch = w->role_ch[i];
            if (ch >= 0 && fr->range[ch] > rg) {
                rg = fr->range[ch];
                rc0 = ch;
            }
        }
        xf_scratch sc = {fr, NULL, NULL, NULL};
        double *buf = NULL;
        const double *col = rc0 >= 0 ? cg_frame_values(fr, rc0, &buf) : NULL;
        if (rc0 >= 0 && !col)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        w->sc_xf = make_xform(st, col, rc0 >= 0 ? fr->n : 0, rg, 0, NULL, &sc,
                              err);
        scratch_done(&sc);
        cg_frame_slab_put(fr, buf);
        if (!w->sc_xf)
            return -1;
        w->sc_own = 1;
    }
    for (int i = 0; i < w->nrole; i++) {
        int ch = w->role_ch[i];
        if (ch < 0)
            continue;
        if (cg_dim_set_channel(&w->role_dim[i], fr->name[ch], CG_COMP_NONE,
                               NULL, err) < 0 ||
            cg_dim_set_xform_shared(&w->role_dim[i], w->sc_xf, -INFINITY,
                                    INFINITY, NULL, err) < 0 ||
            cg_dim_set_channel(&w->role_raw[i], fr->name[ch], CG_COMP_NONE,
                               NULL, err) < 0)
            return -1;
    }
    w->dc = cg_dims_new(fr, NULL, err);
    cg_dims_set_threads(w->dc, w->ctx->inner_threads);
    cg_dims_set_compact(w->dc, 1);
    return w->dc ? 0 : -1;
}

/* Gates in config order. */
static int run_gates(sample_work *w, cg_err *err)
{
    const cg_config *cfg = w->cfg;
    cg_result *res = w->res;
    int64_t n = w->fr->n;
    w->tree = cg_gatetree_new();
    w->mem = cg_members_new(n);
    if (!w->tree || !w->mem)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int gi = 0; gi < cfg->ngates; gi++) {
        const cg_gate_spec *g = &cfg->gates[gi];
        cg_pop_result *pr = &res->pops[gi];
        pr->count = -1;
        if (g->parent >= 0 && res->pops[g->parent].count < 0) {
            snprintf(pr->na_reason, sizeof pr->na_reason, "parent %s is NA",
                     cfg->gates[g->parent].name);
            continue;
        }
        const char *miss = gate_missing(w, g);
        if (miss) {
            snprintf(pr->na_reason, sizeof pr->na_reason,
                     "marker %s is not in this file", miss);
            continue;
        }
        int opna = -1;
        for (int k = 0; k < g->nof; k++)
            if (res->pops[g->of[k]].count < 0)
                opna = g->of[k];
        if (opna >= 0) {
            snprintf(pr->na_reason, sizeof pr->na_reason, "operand %s is NA",
                     cfg->gates[opna].name);
            continue;
        }
        const cg_bits *parent = g->parent >= 0 ? pop_bits(w, g->parent) : NULL;
        cg_err ge = {0};
        cg_gate *gate = build_gate(w, gi, parent, &ge);
        if (!gate || cg_gatetree_add(w->tree, gate, g->parent >= 0 ?
                                     cfg->gates[g->parent].name : NULL,
                                     &ge) < 0 ||
            cg_gatetree_eval(w->tree, w->dc, w->mem, &ge) < 0)
            return cg_err_setl(err, ge.code ? ge.code : CG_E_DATA, g->line,
                               "gate %s: %s", g->name, ge.msg);
        cg_dims_gather_drop(w->dc); /* the next gate has another parent */
        int p = cg_gatetree_find(w->tree, g->name);
        pr->count = cg_members_count(w->mem, p);
        pr->parent_count = g->parent >= 0 ? res->pops[g->parent].count : n;
        pr->na_reason[0] = '\0';
        for (int d = 0; d < pr->nthr; d++)
            if (pr->thr[d].fell_back)
                cg_result_warn(res, "gate %s (%s): auto gate fell back: %s",
                               g->name, g->dims[d].marker, pr->thr[d].reason);
        if (pr->auto2d && pr->fell_back)
            cg_result_warn(res, "gate %s: auto gate fell back: %s", g->name,
                           pr->reason);
    }
    return 0;
}

/* Marker statistics for every evaluated population: each marker column
 * sorted once for all populations (cg_stat_pops). */
static int run_stats(sample_work *w, void *mem, size_t mem_size,
                     cg_err *err)
{
    const cg_config *cfg = w->cfg;
    int nsm = cfg->nstat_markers, ns = cfg->nstats, ng = cfg->ngates;
    if (nsm == 0 || ns == 0)
        return 0;
    int64_t n = w->fr->n;
    const cg_bits **pb = calloc((size_t)ng + 1, sizeof *pb);
    const double **cols = calloc((size_t)nsm + 1, sizeof *cols);
    int *chan = calloc((size_t)nsm + 1, sizeof *chan);
    double *res = malloc(((size_t)nsm * (size_t)ng * (size_t)ns + 1) *
                         sizeof *res);
    int rc = 0;
    if (!pb || !cols || !chan || !res) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int gi = 0; gi < ng && rc == 0; gi++) {
        cg_pop_result *pr = &w->res->pops[gi];
        if (pr->count < 0)
            continue;
        pr->mstats = malloc((size_t)nsm * (size_t)ns * sizeof *pr->mstats);
        if (!pr->mstats)
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        pb[gi] = pop_bits(w, gi);
    }
    for (int k = 0; k < nsm && rc == 0; k++) {
        int m = cfg->stat_markers[k];
        chan[k] = w->mk_ch[m];
        if (w->mk_ch[m] >= 0 && cfg->stats_transformed) {
            cg_err e2 = {0}; /* unresolved: NA, as before */
            cols[k] = cg_dims_get(w->dc, &w->mk_dim[m], &e2);
        }
    }
    /* compensated values are read for the populations' events only */
    if (rc == 0 && cfg->stats_transformed)
        rc = cg_stat_pops_mem(cols, nsm, n, pb, ng, cfg->stats, ns, res,
                              w->ctx->inner_threads, mem, mem_size, err);
    else if (rc == 0)
        rc = cg_stat_pops_frame(w->fr, chan, nsm, pb, ng, cfg->stats, ns,
                                res, w->ctx->inner_threads, mem, mem_size,
                                err);
    for (int gi = 0; gi < ng && rc == 0; gi++) {
        double *out = w->res->pops[gi].mstats;
        if (!out)
            continue;
        for (int k = 0; k < nsm; k++)
            memcpy(out + (size_t)k * (size_t)ns,
                   res + ((size_t)k * (size_t)ng + (size_t)gi) * (size_t)ns,
                   (size_t)ns * sizeof *res);
    }
done:
    free(pb);
    free(cols);
    free(chan);
    free(res);
    return rc;
}

/* The first evaluable gate of a list of alternatives (the first one when
 * none is). */
static int first_evaluable(const cg_result *res, const int *alt, int nalt)
{
    for (int k = 0; k < nalt; k++)
        if (res->pops[alt[k]].count >= 0)
            return alt[k];
    return nalt > 0 ? alt[0] : -1;
}

void cg_result_pick_headline(const cg_config *cfg, cg_result *res)
{
    int *dst[3] = {&res->head_cd4, &res->head_treg, &res->head_th17};
    const int first[3] = {cfg->head_cd4, cfg->head_treg, cfg->head_th17};
    for (int h = 0; h < 3; h++)
        *dst[h] = cfg->nhead_alt[h] > 0
                      ? first_evaluable(res, cfg->head_alt[h],
                                        cfg->nhead_alt[h])
                      : first[h];
}

void cg_metric_pick(const cg_config *cfg, const cg_result *res, int i,
                    int *num, int *den)
{
    const cg_metric_spec *m = &cfg->metrics[i];
    *num = m->nnum_alt > 0 ? first_evaluable(res, m->num_alt, m->nnum_alt)
                           : m->num;
    *den = m->nden_alt > 0 ? first_evaluable(res, m->den_alt, m->nden_alt)
                           : m->den;
}

static void run_metrics(const cg_config *cfg, cg_result *res)
{
    for (int i = 0; i < cfg->nmetrics; i++) {
        const cg_metric_spec *m = &cfg->metrics[i];
        int ni, di;
        cg_metric_pick(cfg, res, i, &ni, &di);
        const cg_pop_result *num = &res->pops[ni], *den = &res->pops[di];
        char why[256] = "";
        if (num->count < 0)
            snprintf(why, sizeof why, "%s is NA (%s)", cfg->gates[ni].name,
                     num->na_reason);
        else if (den->count < 0)
            snprintf(why, sizeof why, "%s is NA (%s)", cfg->gates[di].name,
                     den->na_reason);
        else if (den->count < m->min_denominator)
            snprintf(why, sizeof why, "denominator %s has %lld events "
                     "(< min_denominator %ld)", cfg->gates[di].name,
                     (long long)den->count, m->min_denominator);
        if (why[0]) {
            res->metric[i] = NAN;
            char buf[300];
            snprintf(buf, sizeof buf, "%s NA: %s", m->name, why);
            res->metric_reason[i] = strdup(buf);
            continue;
        }
        double v = (double)num->count / (double)den->count;
        res->metric[i] = m->type == CG_METRIC_PERCENT ? 100 * v : v;
    }
}

/* Gate QC: counts, precision of the headlines, fallbacks and overrides,
 * plausibility of the auto gates, small denominators. */
static void run_qc_gates(sample_work *w)
{
    const cg_config *cfg = w->cfg;
    cg_result *res = w->res;
    if (!res->qc)
        return;
    int ng = cfg->ngates;
    cg_qc_pop *pops = calloc((size_t)ng + 1, sizeof *pops);
    cg_qc_fallback *fb = calloc((size_t)ng * 4 + 1, sizeof *fb);
    cg_qc_override *ov = calloc((size_t)ng * 4 + 1, sizeof *ov);
    cg_qc_ratio *rat = calloc((size_t)cfg->nmetrics + 1, sizeof *rat);
    if (!pops || !fb || !ov || !rat)
        goto done;
    /* the headlines chosen for this sample (config's when unset) */
    int hcd4 = res->head_cd4 >= 0 ? res->head_cd4 : cfg->head_cd4;
    int htreg = res->head_treg >= 0 ? res->head_treg : cfg->head_treg;
    int hth17 = res->head_th17 >= 0 ? res->head_th17 : cfg->head_th17;
    int np = 0, nf = 0, no = 0, nr = 0;
    for (int gi = 0; gi < ng; gi++) {
        const cg_gate_spec *g = &cfg->gates[gi];
        const cg_pop_result *pr = &res->pops[gi];
        if (pr->count < 0)
            continue;
        pops[np].name = g->name;
        pops[np].parent = g->parent >= 0 ? cfg->gates[g->parent].name : NULL;
        pops[np].count = pr->count;
        pops[np].parent_count = pr->parent_count;
        pops[np].reported = gi == hcd4 || gi == htreg || gi == hth17;
        /* auto: the 2-D scatter/singlets clean-up gates, or a valley/tail
         * cut the sample did not override (quantiles keep q by design) */
        pops[np].autogate = g->type == CG_GS_SCATTER ||
                                    g->type == CG_GS_SINGLETS
                                ? CG_QC_AUTO_CLEANUP
                                : CG_QC_AUTO_NONE;
        for (int d = 0; d < pr->nthr && d < g->ndims; d++)
            if ((g->dims[d].method == CG_TM_VALLEY ||
                 g->dims[d].method == CG_TM_TAIL) && !pr->thr[d].overridden)
                pops[np].autogate = CG_QC_AUTO_SELECT;
        np++;
        for (int d = 0; d < pr->nthr && d < g->ndims; d++) {
            const cg_thr_info *ti = &pr->thr[d];
            if (ti->overridden) {
                ov[no].gate = g->name;
                ov[no].marker = g->dims[d].marker;
                ov[no].threshold = ti->threshold;
                ov[no].auto_threshold = ti->auto_threshold;
                no++;
            } else if (ti->fell_back) {
                fb[nf].gate = g->name;
                fb[nf].marker = g->dims[d].marker;
                fb[nf].rule = ti->rule;
                fb[nf].reason = ti->reason;
                nf++;
            }
        }
        if (pr->auto2d && pr->fell_back) {
            fb[nf].gate = g->name;
            fb[nf].rule = pr->rule;
            fb[nf].reason = pr->reason;
            nf++;
        }
    }
    cg_qc_headline heads[2];
    int nh = 0;
    const int hh[2] = {htreg, hth17};
    const char *hname[2] = {"treg", "th17"};
    for (int k = 0; k < 2; k++) {
        if (hh[k] < 0 || hcd4 < 0 || res->pops[hh[k]].count < 0 ||
            res->pops[hcd4].count < 0)
            continue;
        heads[nh] = (cg_qc_headline){hname[k], cfg->gates[hh[k]].name,
                                     cfg->gates[hcd4].name,
                                     res->pops[hh[k]].count,
                                     res->pops[hcd4].count};
        nh++;
    }
    for (int i = 0; i < cfg->nmetrics; i++) {
        int ni, di;
        cg_metric_pick(cfg, res, i, &ni, &di);
        if (di < 0 || res->pops[di].count < 0)
            continue;
        rat[nr].name = cfg->metrics[i].name;
        rat[nr].denominator = cfg->gates[di].name;
        rat[nr].denom_count = res->pops[di].count;
        rat[nr].min_denominator = cfg->metrics[i].min_denominator;
        nr++;
    }
    cg_qc_gating qg = {.total = res->events_used, .pops = pops, .npops = np,
                       .fallbacks = fb, .nfallbacks = nf, .ratios = rat,
                       .nratios = nr, .heads = heads, .nheads = nh,
                       .overrides = ov, .noverrides = no};
    cg_err e = {0};
    if (cg_qc_gates(&w->ctx->qc, &qg, res->qc, &e) < 0)
        cg_result_warn(res, "QC of the gates failed: %s", e.msg);
done:
    free(pops);
    free(fb);
    free(ov);
    free(rat);
}

/* The input file, read whole into an owned buffer by fcs_read_file():
 * regular files only (a FIFO is refused, never waited on) and pread(),
 * never a mapping, so a file that shrinks while it is read is this
 * sample's error instead of a SIGBUS that ends the batch.  The same bytes
 * are hashed and parsed (fcs_open_mem inflates gzip), so sha256 is that
 * of exactly what was read; the buffer is freed as soon as the frame
 * is decoded and the hash taken: the handle is used after that only for
 * its keywords and parameters, which are parsed copies (fcs/text.c). */
typedef struct input_file {
    uint8_t *p;
    size_t n;
} input_file;

/* Hashing the file's bytes on a helper thread while the events are
 * decoded from the same bytes. */
typedef struct hash_job {
    const void *p;
    size_t n;
    char *hex;
    /* progress, for the frame the bytes become slabs of (frame.h) */
    pthread_mutex_t mu;
    size_t done; /* bytes hashed (SIZE_MAX: finished) */
    cg_frame *fr;
} hash_job;

/* Bytes hashed between progress reports. */
#define HASH_CHUNK ((size_t)2 << 20)

static void hash_progress(hash_job *j, size_t done)
{
    pthread_mutex_lock(&j->mu);
    j->done = done;
    if (j->fr)
        cg_frame_slabs_ready(j->fr, done);
    pthread_mutex_unlock(&j->mu);
}

/* SHA-256 of the file's bytes in chunks, each chunk's bytes handed to
 * the frame's slabs once hashed; hex "" when OpenSSL fails. */
static void *hash_main(void *arg)
{
    hash_job *j = arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
    for (size_t at = 0; ok && at < j->n; at += HASH_CHUNK) {
        size_t len = j->n - at < HASH_CHUNK ? j->n - at : HASH_CHUNK;
        ok = EVP_DigestUpdate(c, (const char *)j->p + at, len) == 1;
        hash_progress(j, at + len);
    }
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    ok = ok && EVP_DigestFinal_ex(c, d, &dn) == 1 && dn == 32;
    EVP_MD_CTX_free(c);
    if (ok)
        hex32(d, j->hex);
    else
        j->hex[0] = '\0';
    hash_progress(j, SIZE_MAX);
    return NULL;
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* The channel each marker and scatter role was matched to, into res. */
static void record_panel(const cg_config *cfg, const cg_frame *fr,
                         const cg_panel_map *map, cg_result *res)
{
    for (int m = 0; m < cfg->nmarkers; m++) {
        int ch = map->marker[m].channel;
        if (ch < 0)
            continue;
        res->marker_pnn[m] = xstrdup(fr->name[ch]);
        res->marker_pns[m] = xstrdup(fr->label[ch]);
        res->marker_how[m] = xstrdup(map->marker[m].how);
    }
    for (int r = 0; r < cfg->nscatter; r++)
        if (map->role[r].channel >= 0)
            res->role_pnn[r] = xstrdup(fr->name[map->role[r].channel]);
    if (map->missing)
        cg_result_warn(res, "optional markers not in this file: %s",
                       map->missing);
}

/* CYTOGATE_TRACE=1: each sample's stages with their wall-clock time
 * since the sample started, on stderr (for finding where a run's time
 * goes; docs/perf.md).  Off by default; never changes an output. */
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static int trace_on;

static void trace_init(void)
{
    const char *e = getenv("CYTOGATE_TRACE");
    trace_on = e && *e && strcmp(e, "0") != 0;
}

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The process's resident and peak resident memory in MB (Linux
 * /proc/self/status VmRSS and VmHWM); -1 where not available. */
static void rss_now(double *rss, double *hwm)
{
    *rss = *hwm = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[128];
    long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            *rss = (double)kb / 1024;
        else if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            *hwm = (double)kb / 1024;
    }
    fclose(f);
}

static void trace(const sample_work *w, const char *stage)
{
    pthread_once(&trace_once, trace_init);
    if (!trace_on)
        return;
    double rss, hwm;
    rss_now(&rss, &hwm);
    fprintf(stderr, "trace %s: %-22s %8.1f ms  rss %4.0f MB  peak %4.0f MB\n",
            w->smp->sample_id, stage, (mono_now() - w->t0) * 1e3, rss, hwm);
}

/* The event QC (cg_qc_events) reads the compensated frame and the file's
 * keywords and writes only res->qc; the gating reads the same frame and
 * writes everything else.  So unless its time mask is needed before
 * gating (`exclude_time_anomalies`), it runs on its own thread beside the
 * gating and is joined before anything reads res->qc.  Its one possible
 * warning is put back where the serial order had it, so outputs do not
 * depend on which finishes first. */
typedef struct qc_job {
    const sample_work *w; /* its params (ctx->qc) and result (res->qc) */
    cg_qc_input in;
    int warn_at;   /* res->nwarnings when it started */
    int rc;
    cg_err e;
    pthread_t th;
    int threaded;
} qc_job;

static void *qc_main(void *arg)
{
    qc_job *j = arg;
    j->rc = cg_qc_events(&j->w->ctx->qc, &j->in, j->w->res->qc, &j->e);
    trace(j->w, "event QC done");
    return NULL;
}

/* Wait for the event QC (if it runs on a thread) and record its failure
 * as a warning at its serial place in the list. */
static void qc_join(sample_work *w)
{
    qc_job *j = w->qc;
    if (!j)
        return;
    if (j->threaded)
        pthread_join(j->th, NULL);
    cg_result *res = w->res;
    int n0 = res->nwarnings;
    if (j->rc < 0)
        cg_result_warn(res, "QC of the events failed: %s", j->e.msg);
    if (res->nwarnings > n0 && j->warn_at < n0) {
        char *msg = res->warnings[n0];
        memmove(res->warnings + j->warn_at + 1, res->warnings + j->warn_at,
                (size_t)(n0 - j->warn_at) * sizeof *res->warnings);
        res->warnings[j->warn_at] = msg;
    }
    free(j);
    w->qc = NULL;
}

/* Start the event QC of fr: on a thread when background is set and one
 * can be made, else now. */
static void qc_start(sample_work *w, const cg_qc_input *in, int background)
{
    cg_result *res = w->res;
    res->qc = cg_qc_result_new();
    qc_job *j = res->qc ? calloc(1, sizeof *j) : NULL;
    if (!j)
        return;
    j->w = w;
    j->in = *in;
    j->warn_at = res->nwarnings;
    w->qc = j;
    j->threaded = background && pthread_create(&j->th, NULL, qc_main, j) == 0;
    if (!j->threaded)
        qc_main(j);
    if (!background)
        qc_join(w);
}

/* Compensate fr as the config or the sheet's `compensation` column says
 * (the file's spillover keyword, a CSV matrix, or none), recording the
 * source and condition number in res.  *spill and *fsp receive what was
 * built here (owned by the caller, freed on every path); *applied the
 * matrix used (NULL: none); *mode the mode.  0, or -1 after sample_fail. */
static int compensate_sample(const cg_run_ctx *ctx, const cg_sample *s,
                             fcs_file *f, cg_frame *fr, cg_result *res,
                             cg_matrix **spill, fcs_spill **fsp,
                             const cg_matrix **applied, int *mode_out,
                             cg_err *e)
{
    const cg_config *cfg = ctx->cfg;
    fcs_err fe;
    memset(&fe, 0, sizeof fe);
    int mode = cfg->comp_mode;
    const char *csv = cfg->comp_path;
    if (s->compensation) {
        if (!strcasecmp(s->compensation, "file"))
            mode = CG_CMP_FILE;
        else if (!strcasecmp(s->compensation, "none"))
            mode = CG_CMP_NONE;
        else {
            mode = CG_CMP_CSV;
            csv = s->compensation;
        }
    }
    *mode_out = mode;
    if (mode == CG_CMP_FILE) {
        int got = fcs_spillover(f, fsp, &fe);
        if (got < 0)
            return sample_fail(res, "spillover: %s", fe.msg);
        if (got == 0) {
            snprintf(res->comp_source, sizeof res->comp_source,
                     "none (the file has no spillover matrix)");
            cg_result_warn(res, "compensation: file has no spillover matrix; "
                                "events are not compensated");
        } else {
            *spill = cg_matrix_from_spill(*fsp);
            if (!*spill)
                return sample_fail(res, "spillover: cannot build the matrix");
            snprintf(res->comp_source, sizeof res->comp_source, "%s (file)",
                     (*fsp)->keyword);
        }
    } else if (mode == CG_CMP_CSV) {
        if (!s->compensation && ctx->comp_csv) {
            *applied = ctx->comp_csv;
        } else {
            *spill = cg_matrix_read_csv(csv, e);
            if (!*spill)
                return sample_fail(res, "compensation %s: %s", csv, e->msg);
        }
        snprintf(res->comp_source, sizeof res->comp_source, "%s (csv)", csv);
    } else {
        snprintf(res->comp_source, sizeof res->comp_source, "none");
    }
    if (*spill)
        *applied = *spill;
    if (*applied) {
        cg_comp_report rep;
        memset(&rep, 0, sizeof rep);
        if (cg_compensate(fr, *applied, &rep, e) < 0)
            return sample_fail(res, "compensation (%s): %s",
                               res->comp_source, e->msg);
        res->comp_n = (*applied)->nrow;
        res->comp_cond = rep.cond;
    }
    return 0;
}

/* Slabs a sample keeps of its file's bytes (the rest go back to the
 * system once hashed): what the event QC (one), a gate's gathered
 * dimensions and its scratch hold at once, measured on the 1M x 12
 * sample; the statistics, which take all of it afterwards, fault the
 * rest in again as they fill it. */
#define RUN_SLABS 4

/* The QC of the events: beside the gating (it starts once the transforms
 * are built, gate_sample, so both cores build them first), or, when the
 * gating needs its time mask, now, on every thread. */
static void plan_qc(sample_work *w, cg_frame *fr, fcs_file *f,
                    const cg_matrix *applied, int mode)
{
    const cg_run_ctx *ctx = w->ctx;
    cg_qc_input qin;
    memset(&qin, 0, sizeof qin);
    qin.fr = fr;
    qin.fcs = f;
    qin.spill = applied;
    qin.comp_none = mode == CG_CMP_NONE;
    qin.comp_source = w->res->comp_source;
    int qc_bg = ctx->inner_threads > 1 && !ctx->qc.exclude_time_anomalies;
    qin.threads = qc_bg ? 1 : ctx->inner_threads;
    w->qc_in = qin;
    w->qc_pending = qc_bg;
    if (!qc_bg)
        qc_start(w, &qin, 0);
}

/* With `exclude_time_anomalies`, drop the events in anomalous time bins:
 * *sub gets the subset, *fr is freed and NULLed, *gfr points at the
 * subset.  0, or -1 after sample_fail. */
static int exclude_time_anomalies(const cg_run_ctx *ctx, cg_result *res,
                                  cg_frame **frp, cg_frame **subp,
                                  cg_frame **gfrp, cg_err *e)
{
    cg_frame *fr = *frp;
    if (!(res->qc && ctx->qc.exclude_time_anomalies && res->qc->time_mask &&
          res->qc->n_time_masked > 0))
        return 0;
    uint8_t *keep = malloc((size_t)(fr->n ? fr->n : 1));
    if (!keep)
        return sample_fail(res, "out of memory");
    cg_bits_to_bytes(res->qc->time_mask, keep);
    for (int64_t k = 0; k < fr->n; k++)
        keep[k] = !keep[k];
    cg_frame *sub = cg_frame_subset(fr, keep, e);
    free(keep);
    if (!sub)
        return sample_fail(res, "%s", e->msg);
    /* the QC is done: the slabs move to the subset */
    size_t msize = 0;
    void *mem = cg_frame_slabs_take(fr, &msize);
    if (mem && cg_frame_slabs_give(sub, mem, msize, msize, RUN_SLABS, e) < 0)
        fcs_buf_free(mem);
    /* only the subset is used from here on */
    cg_frame_free(fr);
    *frp = NULL;
    *subp = sub;
    *gfrp = sub;
    cg_result_warn(res, "%lld events in anomalous time bins excluded "
                   "before gating", (long long)res->qc->n_time_masked);
    return 0;
}

/* Dims, gates, statistics, metrics, the gate-level QC and the figures of
 * one sample whose events (gfr) are compensated and QC'd.  0, or -1
 * after sample_fail. */
static int gate_sample_in(sample_work *ww, cg_frame *gfr,
                          const cg_panel_map *mp,
                          cg_err *ep)
{
    const cg_run_ctx *ctx = ww->ctx;
    const cg_config *cfg = ww->cfg;
    cg_result *res = ww->res;
    const cg_sample *s = ww->smp;
    ww->fr = gfr;
    ww->mk_ch = calloc((size_t)cfg->nmarkers + 1, sizeof *ww->mk_ch);
    ww->role_ch = calloc((size_t)cfg->nscatter + 1, sizeof *ww->role_ch);
    if (!ww->mk_ch || !ww->role_ch) {
        sample_fail(res, "out of memory");
        return -1;
    }
    for (int m = 0; m < cfg->nmarkers; m++)
        ww->mk_ch[m] = mp->marker[m].channel;
    for (int r = 0; r < cfg->nscatter; r++)
        ww->role_ch[r] = mp->role[r].channel;
    if (setup_dims(ww, ep) < 0) {
        sample_fail(res, "transforms: %s", ep->msg);
        return -1;
    }
    trace(ww, "transforms built");
    if (ww->qc_pending) { /* its thread fills the core the gating leaves */
        ww->qc_pending = 0;
        qc_start(ww, &ww->qc_in, 1);
    }
    if (run_gates(ww, ep) < 0) {
        sample_fail(res, "%s", ep->msg);
        return -1;
    }
    trace(ww, "gated");
    /* Nothing below the gating reads the statistics but the outputs
     * (and the hook, which is promised them): the headline, metrics,
     * gate-level QC and figures use counts and cuts.  So the figures come
     * first, then, unless the hook or transformed statistics read them,
     * the transformed columns are freed and the statistics' workspaces
     * take their memory: the peak holds one or the other, not both. */
    cg_result_pick_headline(cfg, res);
    run_metrics(cfg, res);
    for (int k = 0; k < cfg->nmetrics; k++)
        if (res->metric_reason[k])
            cg_result_warn(res, "%s", res->metric_reason[k]);
    qc_join(ww);
    trace(ww, "event QC joined");
    run_qc_gates(ww);
    if (res->qc)
        res->qc_verdict = cg_qc_overall(res->qc);
    cg_run_plots_ctx pc = {
        .ctx = ctx, .sample = s, .res = res, .fr = gfr, .dc = ww->dc,
        .tree = ww->tree, .mem = ww->mem, .mk_ch = ww->mk_ch,
        .role_ch = ww->role_ch, .mk_xf = (const cg_xform *const *)ww->mk_xf,
        .sc_xf = ww->sc_xf, .mk_dim = ww->mk_dim, .mk_raw = ww->mk_raw,
        .role_dim = ww->role_dim, .role_raw = ww->role_raw};
    char plot_err[sizeof ep->msg] = "";
    if (ctx->opts.plots && ctx->opts.outdir && cg_run_plots(&pc, ep) < 0)
        snprintf(plot_err, sizeof plot_err, "%s", ep->msg);
    if (ctx->opts.plots && ctx->opts.outdir) {
        /* the figures' buffers (surfaces, density grids) are freed, but
         * malloc keeps what it took for them; the statistics below
         * would come on top */
        malloc_trim(0);
        trace(ww, "figures");
    }
    void *mem = NULL; /* the slabs' pages, faulted in already */
    size_t mem_size = 0;
    if (!ctx->opts.on_gated && !cfg->stats_transformed) {
        cg_dims_free(ww->dc); /* its slabs back */
        ww->dc = pc.dc = NULL;
        mem = cg_frame_slabs_take(gfr, &mem_size);
    }
    int src = ctx->opts.no_stats ? 0 : run_stats(ww, mem, mem_size, ep);
    fcs_buf_free(mem);
    if (src < 0) {
        sample_fail(res, "statistics: %s", ep->msg);
        return -1;
    }
    trace(ww, "statistics");
    if (plot_err[0]) /* where it was when the figures came last */
        cg_result_warn(res, "plots: %s", plot_err);
    if (ctx->opts.on_gated) {
        cg_err he = {0};
        if (ctx->opts.on_gated(&pc, ctx->opts.on_gated_arg, &he) < 0) {
            sample_fail(res, "%s", he.msg[0] ? he.msg : "failed");
            return -1;
        }
    }
    return 0;
}

/* gate_sample_in with this thread's gating scratch (auto gates, KDE)
 * taken from gfr's slabs. */
static int gate_sample(sample_work *ww, cg_frame *gfr, const cg_panel_map *mp,
                       cg_err *ep)
{
    cg_frame_scratch_use(gfr);
    int rc = gate_sample_in(ww, gfr, mp, ep);
    cg_frame_scratch_use(NULL);
    return rc;
}

int cg_run_sample(const cg_run_ctx *ctx, int i, cg_result *res)
{
    const cg_config *cfg = ctx->cfg;
    const cg_sample *s = &ctx->sheet->s[i];
    if (result_alloc(cfg, res) < 0) {
        res->ok = 0;
        res->message = strdup("out of memory");
        return -1;
    }
    res->ok = 1;
    sample_work w;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.cfg = cfg;
    w.res = res;
    w.smp = s;
    w.t0 = mono_now();
    fcs_file *f = NULL;
    cg_frame *fr = NULL, *sub = NULL;
    cg_matrix *spill = NULL;
    const cg_matrix *applied = NULL;
    fcs_spill *fsp = NULL;
    cg_panel_map map;
    memset(&map, 0, sizeof map);
    char *pmsg = NULL;
    cg_err e = {0};
    int rc = -1;
    input_file inf = {NULL, 0};
    hash_job hj = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pthread_t hth;
    int hashing = 0;

    fcs_err fe;
    memset(&fe, 0, sizeof fe);
    if (fcs_read_file(s->file, &inf.p, &inf.n, &fe) < 0) {
        sample_fail(res, "cannot read %s: %s", s->file, fe.msg);
        goto out;
    }
    trace(&w, "read");
    hj.p = inf.p;
    hj.n = inf.n;
    hj.hex = res->sha256;
    res->file_size = (int64_t)inf.n;
    hashing = inf.n >= ((size_t)8 << 20) && ctx->inner_threads > 1 &&
              pthread_create(&hth, NULL, hash_main, &hj) == 0;
    if (!hashing)
        hash_main(&hj);
    f = fcs_open_mem(inf.p, inf.n, NULL, &fe);
    if (!f) {
        sample_fail(res, "%s", fe.msg); /* the message names the offset */
        goto out;
    }
    snprintf(res->fcs_version, sizeof res->fcs_version, "%s", fcs_version(f));
    for (int k = 0; k < fcs_n_warnings(f); k++)
        cg_result_warn(res, "fcs: %s", fcs_warning(f, k));
    fr = cg_frame_from_fcs_flags(f, FCS_SCALED, ctx->inner_threads,
                                 CG_FRAME_FLOAT, &e);
    trace(&w, "decoded");
    /* Decoded: nothing but the hash reads the bytes again (the handle's
     * keywords and parameters are parsed copies).  Their memory, already
     * faulted in, becomes the frame's slabs as the hash passes them
     * (below): fresh memory costs
     * more than the values it holds. */
    if (fr) {
        w.spare = inf.p;
        w.spare_size = inf.n;
        inf.p = NULL;
    }
    if (!fr) {
        sample_fail(res, "%s", e.msg);
        goto out;
    }
    res->events = res->events_used = fr->n;

    /* panel */
    if (cg_panel_resolve(cfg, fr->nch, (const char *const *)fr->name,
                         (const char *const *)fr->label, &map, &pmsg) < 0) {
        sample_fail(res, "%s", pmsg ? pmsg : "out of memory");
        goto out;
    }
    record_panel(cfg, fr, &map, res);

    int mode = CG_CMP_NONE;
    if (compensate_sample(ctx, s, f, fr, res, &spill, &fsp, &applied, &mode,
                          &e) < 0)
        goto out;

    trace(&w, "compensated");
    /* the bytes, faulted in already, become the frame's slabs: the
     * per-event scratch of everything below (frame.h), each as soon as
     * the hash has read it */
    if (w.spare && cg_frame_slabs_give(fr, w.spare, w.spare_size, 0,
                                       RUN_SLABS, &e) == 0) {
        w.spare = NULL;
        pthread_mutex_lock(&hj.mu);
        hj.fr = fr;
        cg_frame_slabs_ready(fr, hj.done);
        pthread_mutex_unlock(&hj.mu);
    }
    plan_qc(&w, fr, f, applied, mode);
    /* $PnE log decades per frame channel, for `T/M/W: auto` */
    w.ch_dec = calloc((size_t)fr->nch + 1, sizeof *w.ch_dec);
    for (int j = 0; w.ch_dec && j < fr->nch && j < fcs_n_params(f); j++) {
        const fcs_param *pi = fcs_param_info(f, j);
        if (pi && pi->log_f1 > 0 && pi->datatype == 'I')
            w.ch_dec[j] = pi->log_f1;
    }
    if (hashing) { /* it hashed beside decoding, compensation and QC */
        pthread_join(hth, NULL);
        hashing = 0;
    }
    trace(&w, "hashed");
    cg_frame *gfr = fr;
    if (exclude_time_anomalies(ctx, res, &fr, &sub, &gfr, &e) < 0)
        goto out;
    res->events_used = gfr->n;

    if (gate_sample(&w, gfr, &map, &e) < 0)
        goto out;
    rc = 0;
out:
    if (w.qc_pending) /* the sample failed before the gating: QC now */
        qc_start(&w, &w.qc_in, 0);
    w.qc_pending = 0;
    qc_join(&w); /* before the frame and the file it reads are freed */
    if (hashing) /* before the bytes it reads (w.spare) are freed */
        pthread_join(hth, NULL);
    hashing = 0;
    if (rc < 0)
        res->ok = 0;
    work_free(&w);
    cg_panel_clear(&map);
    free(pmsg);
    cg_matrix_free(spill);
    fcs_spill_free(fsp);
    cg_frame_free(sub);
    cg_frame_free(fr);
    fcs_close(f);
    fcs_buf_free(inf.p);
    pthread_mutex_destroy(&hj.mu);
    return rc;
}
