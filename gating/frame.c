/*
 * frame.c -- event tables (see frame.h).
 *
 * Columns are allocated once per channel with fcs_alloc_big() (huge-page
 * advised, so a 1M-event column faults 4 times, not 2,000), never
 * zero-filled when every value is about to be written; no per-event
 * allocation.  A frame read from FCS decodes through the fcs library's
 * column reader; from 2M values on, two threads decode half of the
 * columns each (cg_frame_from_fcs starts one short-lived thread and
 * joins it).  Each column has one writer, so frames are identical at any
 * thread count.
 *
 * The float store (CG_FRAME_FLOAT): the channels are decoded in blocks
 * of FBLOCK events into doubles (the same decoder, so the same values)
 * and kept as floats while every value converts back bit for bit; the
 * first value that does not turns that channel into a double column (the
 * floats so far widened, which is exact).  All floats live in one
 * huge-page block (fstore).  A compensated channel is read as the fused
 * multiply-add chain of comp.c over its inputs' floats: contiguous reads
 * straight from the floats (cg_comp_chain_f32), gathers through a small
 * stack block (runs of words holding a quarter of their events or more
 * are read whole and picked from, which is faster per value).
 *
 * Slabs: a mutex-guarded free list over the memory given (the decoded
 * file's bytes in cytogate run); beyond it, slabs are fresh and freed
 * when put back, so the peak is what was given plus what overflows.
 */
#include "frame.h"
#include "comp.h"
#include "par.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../fcs/fcs.h"

/* Compensation recorded for the float-held channels (cg_frame_set_comp):
 * channel idx[k] reads as the chain over j of x[idx[j]] * K[j + k m]. */
struct cg_frame_comp {
    int m;
    int *idx;  /* m channels */
    float **in; /* their float columns */
    double *K; /* m x m, column-major */
    int *out;  /* per channel (nch at the time): k, or -1 */
    int nout;
};

/* The readers' scratch (cg_frame_slab_get): the given memory's slabs,
 * the free ones listed. */
struct cg_frame_slabs {
    size_t tail;    /* bytes of mem up to the end of the kept slabs */
    int released;   /* the pages past tail went back to the system */
    pthread_mutex_t mu;
    pthread_cond_t more; /* ready raised */
    size_t ready;   /* bytes of mem that may be handed out */
    char *mem;      /* given, owned */
    size_t size;    /* its bytes */
    size_t slab;    /* bytes per slab */
    int nslab;      /* slabs carved from mem */
    int nfree;      /* free[0..nfree) */
    void **free;    /* room for nslab */
};

/* Once all of mem is ready: give the whole pages past the kept slabs
 * back to the system (read as zeros if touched again).  Under the mutex
 * or before the slabs are shared. */
static void release_tail(struct cg_frame_slabs *sl)
{
    if (sl->released || sl->ready < sl->size)
        return;
    sl->released = 1;
#if defined(__linux__) && defined(MADV_DONTNEED)
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)sl->mem + sl->tail + pg - 1) & ~(pg - 1);
    uintptr_t b = ((uintptr_t)sl->mem + sl->size) & ~(pg - 1);
    if (pg > 1 && b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
#endif
}

static void slabs_free(struct cg_frame_slabs *sl)
{
    if (!sl)
        return;
    pthread_mutex_destroy(&sl->mu);
    pthread_cond_destroy(&sl->more);
    free(sl->mem);
    free(sl->free);
    free(sl);
}

static void comp_free(struct cg_frame_comp *c)
{
    if (!c)
        return;
    free(c->idx);
    free(c->in);
    free(c->K);
    free(c->out);
    free(c);
}

cg_frame *cg_frame_new(int64_t n)
{
    if (n < 0)
        return NULL;
    cg_frame *fr = calloc(1, sizeof *fr);
    if (fr)
        fr->n = n;
    return fr;
}

void cg_frame_free(cg_frame *fr)
{
    if (!fr)
        return;
    for (int j = 0; j < fr->nch; j++) {
        free(fr->name[j]);
        free(fr->label[j]);
        free(fr->col[j]);
    }
    free(fr->fstore);
    free(fr->name);
    free(fr->label);
    free(fr->range);
    free(fr->col);
    free(fr->fcol);
    free(fr->fmul);
    comp_free(fr->comp);
    slabs_free(fr->slabs);
    free(fr);
}

static int grow(cg_frame *fr)
{
    int cap = fr->cap ? fr->cap * 2 : 16;
    char **nm = realloc(fr->name, (size_t)cap * sizeof *nm);
    if (!nm)
        return -1;
    fr->name = nm;
    char **lb = realloc(fr->label, (size_t)cap * sizeof *lb);
    if (!lb)
        return -1;
    fr->label = lb;
    double *rg = realloc(fr->range, (size_t)cap * sizeof *rg);
    if (!rg)
        return -1;
    fr->range = rg;
    double **cl = realloc(fr->col, (size_t)cap * sizeof *cl);
    if (!cl)
        return -1;
    fr->col = cl;
    if (fr->fcol) {
        float **fc = realloc(fr->fcol, (size_t)cap * sizeof *fc);
        if (!fc)
            return -1;
        fr->fcol = fc;
    }
    if (fr->fmul) {
        double *fm = realloc(fr->fmul, (size_t)cap * sizeof *fm);
        if (!fm)
            return -1;
        for (int j = fr->cap; j < cap; j++)
            fm[j] = 0;
        fr->fmul = fm;
    }
    fr->cap = cap;
    return 0;
}

/* cg_frame_add; with fcol set, the channel is float-held: col stays
 * NULL and fcol (a slice of fr->fstore) holds its values. */
static int add_chan(cg_frame *fr, const char *name, const char *label,
                    double range, double *col, float *fcol, cg_err *err)
{
    if (!fr || !name)
        return cg_err_set(err, CG_E_ARG, "cg_frame_add: no frame or name");
    if (fcol && !fr->fcol) {
        fr->fcol = calloc(fr->cap ? (size_t)fr->cap : 1, sizeof *fr->fcol);
        if (!fr->fcol)
            return cg_err_set(err, CG_E_NOMEM, "out of memory adding "
                              "channel %s", name);
    }
    if (fr->nch == fr->cap && grow(fr) < 0) {
        free(col); /* ownership was passed to us */
        return cg_err_set(err, CG_E_NOMEM, "out of memory adding channel %s",
                          name);
    }
    char *nm = strdup(name);
    char *lb = label ? strdup(label) : NULL;
    if (!col && !fcol && (col = cg_frame_col_alloc(fr->n)))
        memset(col, 0, (fr->n ? (size_t)fr->n : 1) * sizeof *col);
    if (!nm || (label && !lb) || (!col && !fcol)) {
        free(nm);
        free(lb);
        free(col);
        return cg_err_set(err, CG_E_NOMEM, "out of memory adding channel %s",
                          name);
    }
    int j = fr->nch++;
    fr->name[j] = nm;
    fr->label[j] = lb;
    fr->range[j] = range;
    fr->col[j] = col;
    if (fr->fcol)
        fr->fcol[j] = fcol;
    return j;
}

int cg_frame_add(cg_frame *fr, const char *name, const char *label,
                 double range, double *col, cg_err *err)
{
    return add_chan(fr, name, label, range, col, NULL, err);
}

double *cg_frame_col_alloc(int64_t n)
{
    if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(double))
        return NULL;
    return fcs_alloc_big((n ? (size_t)n : 1) * sizeof(double));
}

int cg_frame_find(const cg_frame *fr, const char *name)
{
    if (!fr || !name)
        return -1;
    for (int j = 0; j < fr->nch; j++)
        if (strcmp(fr->name[j], name) == 0)
            return j;
    for (int j = 0; j < fr->nch; j++)
        if (strcasecmp(fr->name[j], name) == 0)
            return j;
    return -1;
}

/* Scaled top of channel p: f2 x 10^f1 for $PnE log amplification (the
 * events are linearised), $PnR / $PnG for a linear gain; time stays raw;
 * the raw view keeps $PnR. */
static double view_range(const fcs_param *p, int view)
{
    double range = p->range;
    if (view != FCS_RAW && range > 0 && !p->is_time &&
        (p->datatype == 'I' || p->datatype == 'A')) {
        if (p->log_f1 > 0)
            range = (p->log_f2 > 0 ? p->log_f2 : 1.0) * pow(10.0, p->log_f1);
        else if (p->gain > 0 && p->gain != 1)
            range = range / p->gain;
    }
    return range;
}

/* One decoding thread's share: the columns it fills (NULL elsewhere). */
typedef struct decode_part {
    struct fcs_file *f;
    fcs_view view;
    int64_t n, got;
    double **cols;
    fcs_err fe;
} decode_part;

static void *decode_main(void *arg)
{
    decode_part *d = arg;
    d->got = fcs_read_double(d->f, d->view, 0, d->n, d->cols, &d->fe);
    return NULL;
}

/* Decode all n events into cols[0..np).  With nt > 1 threads and from
 * DECODE_SPLIT values on, the columns are dealt in contiguous groups to
 * up to nt threads (fcs_read_double only reads the handle; each column is
 * written by one thread, so the values are the same as single-threaded).
 * n or < 0 with err. */
#define DECODE_SPLIT ((int64_t)1 << 21)
#define DECODE_MAXT 8

static int64_t decode_all(struct fcs_file *f, fcs_view view, int64_t n,
                          int np, double **cols, int nt, cg_err *err)
{
    if (nt > DECODE_MAXT)
        nt = DECODE_MAXT;
    if (nt > np)
        nt = np;
    if (nt < 1 || n * np < DECODE_SPLIT)
        nt = 1;
    decode_part part[DECODE_MAXT];
    double **sub = nt > 1 ? calloc((size_t)nt * (size_t)np, sizeof *sub)
                          : NULL;
    if (!sub)
        nt = 1;
    memset(part, 0, sizeof part);
    for (int t = 0; t < nt; t++) {
        double **c = cols;
        if (nt > 1) { /* group t: columns [np t / nt, np (t+1) / nt) */
            c = sub + (size_t)t * (size_t)np;
            for (int j = np * t / nt; j < np * (t + 1) / nt; j++)
                c[j] = cols[j];
        }
        part[t] = (decode_part){f, view, n, 0, c, {0}};
    }
    cg_par_run(nt, decode_main, part, sizeof *part);
    free(sub);
    for (int t = 0; t < nt; t++)
        if (part[t].got != n) {
            cg_err_set(err, CG_E_DATA, "%s", part[t].got < -1
                       ? part[t].fe.msg : "DATA holds fewer events than $TOT");
            return -1;
        }
    return n;
}

cg_frame *cg_frame_from_fcs(struct fcs_file *f, int view, cg_err *err)
{
    return cg_frame_from_fcs_threads(f, view, 2, err);
}

cg_frame *cg_frame_from_fcs_threads(struct fcs_file *f, int view,
                                    int nthreads, cg_err *err)
{
    int64_t n = fcs_n_events(f);
    int np = fcs_n_params(f);
    cg_frame *fr = cg_frame_new(n);
    double **cols = calloc(np > 0 ? (size_t)np : 1, sizeof *cols);
    if (!fr || !cols)
        goto nomem;
    for (int j = 0; j < np; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        /* every value is written by the decoder: no zero fill */
        double *c = cg_frame_col_alloc(n);
        if (!c)
            goto nomem;
        if (cg_frame_add(fr, p->name, p->label, view_range(p, view), c,
                         err) < 0)
            goto fail;
        cols[j] = fr->col[j];
    }
    if (n > 0 && decode_all(f, view == FCS_RAW ? FCS_RAW : FCS_SCALED, n, np,
                            cols, nthreads, err) < 0)
        goto fail;
    free(cols);
    return fr;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory reading %lld events",
               (long long)n);
fail:
    free(cols);
    cg_frame_free(fr);
    return NULL;
}

/* ---- the float store --------------------------------------------------- */

/* Events per block of the float decoder and of reads: the block's values
 * stay in L1/L2 between decoding (or widening) and their last use. */
#define FBLOCK 2048

static inline uint64_t dbits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Store decoded values v[0..b) of channel j at events [i0, i0 + b): as
 * floats while every value so far is exactly a float (bit for bit: -0,
 * infinities; a NaN whose payload a float cannot hold is not), else as
 * doubles from here on (the floats so far widened: exact).  With r (the
 * time channel, whose scaled values v are its raw values r times ts):
 * floats of the raw values while each is a float and, read back as
 * float x ts (the decoder's own operation), gives v bit for bit.  0, or
 * -1 when out of memory. */
static int store_block(cg_frame *fr, int j, int64_t i0, int64_t b,
                       const double *v, const double *r, double ts)
{
    float *f = fr->fcol[j];
    if (f) {
        uint64_t bad = 0;
        if (r)
            for (int64_t t = 0; t < b; t++) {
                float x = (float)r[t];
                f[i0 + t] = x;
                bad |= dbits((double)x) ^ dbits(r[t]);
                bad |= dbits((double)x * ts) ^ dbits(v[t]);
            }
        else
            for (int64_t t = 0; t < b; t++) {
                float x = (float)v[t];
                f[i0 + t] = x;
                bad |= dbits((double)x) ^ dbits(v[t]);
            }
        if (!bad)
            return 0;
        double *c = cg_frame_col_alloc(fr->n);
        if (!c)
            return -1;
        for (int64_t t = 0; t < i0; t++)
            c[t] = r ? (double)f[t] * ts : f[t];
        fr->col[j] = c;
        fr->fcol[j] = NULL; /* its slice of fstore stays unused */
        if (fr->fmul)
            fr->fmul[j] = 0;
    }
    memcpy(fr->col[j] + i0, v, (size_t)b * sizeof *v);
    return 0;
}

/* One float decoder's share: channels [j0, j1) of fr, block by block. */
typedef struct fdecode_part {
    struct fcs_file *f;
    fcs_view view;
    cg_frame *fr;
    int j0, j1;
    int rc; /* 0, -1 short DATA, -2 error (fe), -3 out of memory */
    fcs_err fe;
} fdecode_part;

static void *fdecode_main(void *arg)
{
    fdecode_part *d = arg;
    cg_frame *fr = d->fr;
    int nc = d->j1 - d->j0, ntime = 0;
    double *buf = malloc((size_t)FBLOCK * (size_t)(nc + 1) * sizeof *buf);
    double **cols = calloc((size_t)fr->nch, sizeof *cols);
    double **raw = calloc((size_t)fr->nch, sizeof *raw);
    if (!buf || !cols || !raw) {
        d->rc = -3;
        goto done;
    }
    for (int j = d->j0; j < d->j1; j++) {
        cols[j] = buf + (size_t)(j - d->j0) * FBLOCK;
        /* the time channel (one at most): its raw values as well */
        if (fr->fmul && fr->fmul[j] != 0 && !ntime++)
            raw[j] = buf + (size_t)nc * FBLOCK;
    }
    for (int64_t i0 = 0; i0 < fr->n && d->rc == 0; i0 += FBLOCK) {
        int64_t b = fr->n - i0 < FBLOCK ? fr->n - i0 : FBLOCK;
        int64_t got = fcs_read_double(d->f, d->view, i0, b, cols, &d->fe);
        if (got == b && ntime)
            got = fcs_read_double(d->f, FCS_RAW, i0, b, raw, &d->fe);
        if (got != b) {
            d->rc = got < -1 ? -2 : -1;
            break;
        }
        for (int j = d->j0; j < d->j1 && d->rc == 0; j++)
            if (store_block(fr, j, i0, b, cols[j],
                            raw[j] && fr->fmul[j] != 0 ? raw[j] : NULL,
                            fr->fmul ? fr->fmul[j] : 0) < 0)
                d->rc = -3;
    }
done:
    free(buf);
    free(cols);
    free(raw);
    return NULL;
}

/* Decode every channel of fr (float-held, fcol allocated) from f, up to
 * nt threads taking contiguous groups of channels.  0 or < 0 with err. */
static int fdecode_all(struct fcs_file *f, fcs_view view, cg_frame *fr,
                       int nt, cg_err *err)
{
    int np = fr->nch;
    if (nt > DECODE_MAXT)
        nt = DECODE_MAXT;
    if (nt > np)
        nt = np;
    if (nt < 1 || fr->n * np < DECODE_SPLIT)
        nt = 1;
    fdecode_part part[DECODE_MAXT];
    memset(part, 0, sizeof part);
    for (int t = 0; t < nt; t++)
        part[t] = (fdecode_part){f, view, fr, np * t / nt, np * (t + 1) / nt,
                                 0, {0}};
    cg_par_run(nt, fdecode_main, part, sizeof *part);
    for (int t = 0; t < nt; t++) {
        if (part[t].rc == -3)
            return cg_err_set(err, CG_E_NOMEM, "out of memory reading %lld "
                              "events", (long long)fr->n);
        if (part[t].rc < 0)
            return cg_err_set(err, CG_E_DATA, "%s", part[t].rc == -2
                              ? part[t].fe.msg
                              : "DATA holds fewer events than $TOT");
    }
    return 0;
}

/* One block for nch channels of n floats (huge pages: a few faults, not
 * one per 4 KiB), or NULL. */
static float *float_store(int64_t n, int nch)
{
    size_t cells = (size_t)(n ? n : 1) * (size_t)(nch ? nch : 1);
    if ((uint64_t)n > SIZE_MAX / sizeof(float) / (size_t)(nch ? nch : 1))
        return NULL;
    return fcs_alloc_big(cells * sizeof(float));
}

cg_frame *cg_frame_from_fcs_flags(struct fcs_file *f, int view, int nthreads,
                                  unsigned flags, cg_err *err)
{
    if (!(flags & CG_FRAME_FLOAT))
        return cg_frame_from_fcs_threads(f, view, nthreads, err);
    int64_t n = fcs_n_events(f);
    int np = fcs_n_params(f);
    cg_frame *fr = cg_frame_new(n);
    if (!fr || !(fr->fstore = float_store(n, np)))
        goto nomem;
    for (int j = 0; j < np; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        if (add_chan(fr, p->name, p->label, view_range(p, view), NULL,
                     fr->fstore + (size_t)j * (size_t)n, err) < 0)
            goto fail;
    }
    /* the scaled view multiplies time by $TIMESTEP: kept raw, scaled
     * when read (one time channel: the decoder's raw buffer has one) */
    double ts = view == FCS_RAW ? 0 : fcs_time_step(f);
    for (int j = 0; j < np && ts != 0; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        if (!p->is_time || (p->datatype == 'I' && p->log_f1 > 0))
            continue;
        if (!fr->fmul && !(fr->fmul = calloc((size_t)fr->cap, sizeof *fr->fmul)))
            goto nomem;
        fr->fmul[j] = ts;
        break;
    }
    if (n > 0 && fdecode_all(f, view == FCS_RAW ? FCS_RAW : FCS_SCALED, fr,
                             nthreads, err) < 0)
        goto fail;
    int nfl = 0;
    for (int j = 0; j < np; j++)
        nfl += !cg_frame_held(fr, j);
    if (nfl == 0) { /* nothing float-held: an ordinary frame */
        free(fr->fcol);
        free(fr->fstore);
        free(fr->fmul);
        fr->fcol = NULL;
        fr->fstore = NULL;
        fr->fmul = NULL;
    }
    return fr;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory reading %lld events",
               (long long)n);
fail:
    cg_frame_free(fr);
    return NULL;
}

/* k when channel j is compensation output k, else -1 */
static int comp_out(const cg_frame *fr, int j)
{
    const struct cg_frame_comp *c = fr->comp;
    return c && j < c->nout ? c->out[j] : -1;
}

/* Words of a selection looked at together by cg_frame_gather: a run of
 * them holding at least a quarter of its events is read whole. */
#define DENSE_WORDS 16

/* Doubles of stack scratch a compensated read widens its inputs into:
 * blocks of STACKX / m events (m inputs), no allocation. */
#define STACKX 8192

/* Events per block when reading channel j. */
static int read_block(const cg_frame *fr, int j)
{
    int k = comp_out(fr, j), m = k >= 0 ? fr->comp->m : 1;
    int b = STACKX / m;
    return b < 1 ? 1 : b > FBLOCK ? FBLOCK : b;
}

/* Channel j (float-held) at the b events listed in at into out;
 * b <= read_block(fr, j). */
static void float_block(const cg_frame *fr, int j, const int64_t *at, int b,
                        double *out)
{
    int k = comp_out(fr, j);
    if (k < 0) {
        const float *src = fr->fcol[j];
        double mul = fr->fmul ? fr->fmul[j] : 0;
        if (mul != 0)
            for (int t = 0; t < b; t++)
                out[t] = (double)src[at[t]] * mul;
        else
            for (int t = 0; t < b; t++)
                out[t] = src[at[t]];
        return;
    }
    const struct cg_frame_comp *c = fr->comp;
    int m = c->m;
    double X[STACKX];
    for (int q = 0; q < m; q++) {
        const float *src = c->in[q];
        double *x = X + (size_t)q * (size_t)b;
        for (int t = 0; t < b; t++)
            x[t] = src[at[t]];
    }
    cg_comp_chain(X, b, m, c->K + (size_t)k * (size_t)m, out);
}

void cg_frame_read(const cg_frame *fr, int j, int64_t first, int64_t len,
                   double *out)
{
    if (fr->col[j]) {
        memcpy(out, fr->col[j] + first, (size_t)len * sizeof *out);
        return;
    }
    int k = comp_out(fr, j);
    if (k >= 0) {
        const struct cg_frame_comp *c = fr->comp;
        cg_comp_chain_f32((const float *const *)c->in, c->m,
                          c->K + (size_t)k * (size_t)c->m, first, len, out);
        return;
    }
    const float *src = fr->fcol[j] + first;
    double mul = fr->fmul ? fr->fmul[j] : 0;
    if (mul != 0)
        for (int64_t i = 0; i < len; i++)
            out[i] = (double)src[i] * mul;
    else
        for (int64_t i = 0; i < len; i++)
            out[i] = src[i];
}

/* ---- the readers' scratch ------------------------------------------------ */

size_t cg_frame_slab_size(const cg_frame *fr)
{
    size_t n = (size_t)(fr->n > 0 ? fr->n : 0) + 1;
    return (n * sizeof(double) + 63) & ~(size_t)63;
}

int cg_frame_slabs_give(cg_frame *fr, void *mem, size_t size, size_t ready,
                        int keep, cg_err *err)
{
    if (fr->slabs || !mem)
        return cg_err_set(err, CG_E_ARG, "cg_frame_slabs_give: given "
                          "already, or no memory");
    struct cg_frame_slabs *sl = calloc(1, sizeof *sl);
    if (!sl)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    sl->slab = cg_frame_slab_size(fr);
    char *base = (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    size_t skip = (size_t)(base - (char *)mem);
    size_t ns = size > skip ? (size - skip) / sl->slab : 0;
    if (ns > INT32_MAX)
        ns = INT32_MAX;
    if (keep > 0 && ns > (size_t)keep)
        ns = (size_t)keep;
    sl->free = malloc((ns ? ns : 1) * sizeof *sl->free);
    if (!sl->free || pthread_mutex_init(&sl->mu, NULL) != 0) {
        free(sl->free);
        free(sl);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&sl->more, NULL) != 0) {
        pthread_mutex_destroy(&sl->mu);
        free(sl->free);
        free(sl);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    sl->ready = ready < size ? ready : size;
    sl->mem = mem;
    sl->size = size;
    sl->nslab = sl->nfree = (int)ns;
    sl->tail = (size_t)(base - (char *)mem) + ns * sl->slab;
    /* handed out from the start of the memory on */
    for (size_t k = 0; k < ns; k++)
        sl->free[k] = base + (ns - 1 - k) * sl->slab;
    fr->slabs = sl;
    release_tail(sl);
    return 0;
}

/* The lowest free slab, or NULL when none is free; one not ready yet is
 * waited for when wait, else NULL. */
static void *slab_take(const cg_frame *fr, int wait)
{
    struct cg_frame_slabs *sl = fr->slabs;
    void *p = NULL;
    if (!sl)
        return NULL;
    pthread_mutex_lock(&sl->mu);
    if (sl->nfree > 0) {
        char *top = sl->free[sl->nfree - 1];
        int ready;
        while (!(ready = (size_t)(top - sl->mem) + sl->slab <= sl->ready) &&
               wait)
            pthread_cond_wait(&sl->more, &sl->mu);
        if (ready)
            p = sl->free[--sl->nfree];
    }
    pthread_mutex_unlock(&sl->mu);
    return p;
}

void *cg_frame_slab_get(const cg_frame *fr)
{
    void *p = slab_take(fr, 1);
    return p ? p : fcs_alloc_big(cg_frame_slab_size(fr));
}

void *cg_frame_slab_try(const cg_frame *fr) { return slab_take(fr, 0); }

void cg_frame_slab_put(const cg_frame *fr, void *p)
{
    struct cg_frame_slabs *sl = fr->slabs;
    if (!p)
        return;
    if (sl && (char *)p >= sl->mem && (char *)p < sl->mem + sl->size) {
        pthread_mutex_lock(&sl->mu);
        sl->free[sl->nfree++] = p;
        pthread_mutex_unlock(&sl->mu);
        return;
    }
    free(p);
}

void cg_frame_slabs_ready(const cg_frame *fr, size_t ready)
{
    struct cg_frame_slabs *sl = fr->slabs;
    if (!sl)
        return;
    pthread_mutex_lock(&sl->mu);
    if (ready > sl->ready) {
        sl->ready = ready < sl->size ? ready : sl->size;
        pthread_cond_broadcast(&sl->more);
        release_tail(sl);
    }
    pthread_mutex_unlock(&sl->mu);
}

void *cg_frame_slabs_take(cg_frame *fr, size_t *size)
{
    struct cg_frame_slabs *sl = fr->slabs;
    if (!sl)
        return NULL;
    pthread_mutex_lock(&sl->mu);
    int all = sl->nfree == sl->nslab && sl->ready == sl->size;
    pthread_mutex_unlock(&sl->mu);
    if (!all)
        return NULL;
    void *m = sl->mem;
    *size = sl->size;
    sl->mem = NULL;
    slabs_free(sl);
    fr->slabs = NULL;
    return m;
}

/* The frame whose slabs this thread's gating scratch comes from. */
static _Thread_local const cg_frame *scratch_fr;

void cg_frame_scratch_use(const cg_frame *fr) { scratch_fr = fr; }

double *cg_frame_scratch_alloc(int64_t n)
{
    const cg_frame *fr = scratch_fr;
    if (fr && fr->slabs && n >= 0 &&
        (size_t)n * sizeof(double) <= cg_frame_slab_size(fr))
        return cg_frame_slab_get(fr);
    return cg_frame_col_alloc(n);
}

void cg_frame_scratch_free(double *p)
{
    if (scratch_fr)
        cg_frame_slab_put(scratch_fr, p); /* frees what is not a slab */
    else
        free(p);
}

void cg_frame_read_at(const cg_frame *fr, int j, const int64_t *at,
                      int64_t b, double *out)
{
    if (fr->col[j]) {
        const double *c = fr->col[j];
        for (int64_t t = 0; t < b; t++)
            out[t] = c[at[t]];
        return;
    }
    int bs = read_block(fr, j);
    for (int64_t t = 0; t < b; t += bs)
        float_block(fr, j, at + t, (int)(b - t < bs ? b - t : bs), out + t);
}

const double *cg_frame_values(const cg_frame *fr, int j, double **buf)
{
    if (fr->col[j])
        return fr->col[j];
    if (!*buf && !(*buf = cg_frame_slab_get(fr)))
        return NULL;
    cg_frame_read(fr, j, 0, fr->n, *buf);
    return *buf;
}

/* Float-held channel j at the events of sel in words [w0, w1), in order,
 * into out; returns how many. */
static int64_t gather_words(const cg_frame *fr, int j, const cg_bits *sel,
                            int64_t w0, int64_t w1, double *out)
{
    int64_t k = 0, n = fr->n;
    int bs = read_block(fr, j), b = 0;
    int64_t at[FBLOCK];
    double dense[DENSE_WORDS * 64];
    for (int64_t w = w0; w < w1; w++) {
        /* a run of words with many events: read whole, keep the events
         * (the contiguous kernel is several times faster per value) */
        if ((w & (DENSE_WORDS - 1)) == 0 && w + DENSE_WORDS <= w1 &&
            (w + DENSE_WORDS) << 6 <= n) {
            int cnt = 0;
            for (int q = 0; q < DENSE_WORDS; q++)
                cnt += __builtin_popcountll(sel->w[w + q]);
            if (cnt * 4 >= DENSE_WORDS * 64) {
                if (b) { /* what was listed before, in order */
                    float_block(fr, j, at, b, out + k);
                    k += b;
                    b = 0;
                }
                cg_frame_read(fr, j, w << 6, DENSE_WORDS * 64, dense);
                for (int q = 0; q < DENSE_WORDS; q++) {
                    uint64_t m = sel->w[w + q];
                    const double *s = dense + q * 64;
                    while (m) {
                        out[k++] = s[__builtin_ctzll(m)];
                        m &= m - 1;
                    }
                }
                w += DENSE_WORDS - 1;
                continue;
            }
        }
        uint64_t m = sel->w[w];
        while (m) {
            at[b++] = (w << 6) + __builtin_ctzll(m);
            m &= m - 1;
            if (b == bs) {
                float_block(fr, j, at, b, out + k);
                k += b;
                b = 0;
            }
        }
    }
    if (b)
        float_block(fr, j, at, b, out + k);
    return k + b;
}

int64_t cg_frame_gather(const cg_frame *fr, int j, const cg_bits *sel,
                        double *out)
{
    return cg_frame_gather_threads(fr, j, sel, out, 1);
}

/* One thread's share of cg_frame_gather_threads. */
typedef struct gather_part {
    const cg_frame *fr;
    const cg_bits *sel;
    int j;
    int64_t w0, w1; /* words (sel) or events (no sel) */
    double *out;
} gather_part;

static void *gather_main(void *arg)
{
    gather_part *g = arg;
    if (g->sel)
        gather_words(g->fr, g->j, g->sel, g->w0, g->w1, g->out);
    else
        cg_frame_read(g->fr, g->j, g->w0, g->w1 - g->w0, g->out);
    return NULL;
}

/* Values from which a float-held gather or read is split over threads. */
#define GATHER_SPLIT ((int64_t)1 << 17)

int64_t cg_frame_gather_threads(const cg_frame *fr, int j, const cg_bits *sel,
                                double *out, int nthreads)
{
    int64_t n = fr->n, nw = cg_bits_words(n);
    const double *src = fr->col[j];
    if (src) { /* a column at hand: a plain gather */
        if (!sel) {
            memcpy(out, src, (size_t)n * sizeof *out);
            return n;
        }
        int64_t k = 0;
        for (int64_t w = 0; w < nw; w++) {
            uint64_t m = sel->w[w];
            const double *s = src + (w << 6);
            while (m) {
                out[k++] = s[__builtin_ctzll(m)];
                m &= m - 1;
            }
        }
        return k;
    }
    int64_t cnt = sel ? cg_bits_count(sel) : n;
    int nt = nthreads < 1 ? 1 : nthreads > 8 ? 8 : nthreads;
    if (cnt < GATHER_SPLIT)
        nt = 1;
    /* parts of equal length, cut at dense-run boundaries; each writes at
     * the count of the events before it, so the values and their order
     * are those of one thread */
    gather_part part[8];
    int64_t len = sel ? nw : n, at = 0;
    for (int t = 0; t < nt; t++) {
        int64_t a = len * t / nt, b = len * (t + 1) / nt;
        if (sel) {
            a = t ? a & ~(int64_t)(DENSE_WORDS - 1) : 0;
            b = t < nt - 1 ? b & ~(int64_t)(DENSE_WORDS - 1) : nw;
        }
        part[t] = (gather_part){fr, sel, j, a, b, out + at};
        if (sel)
            for (int64_t w = a; w < b; w++)
                at += __builtin_popcountll(sel->w[w]);
        else
            at += b - a;
    }
    cg_par_run(nt, gather_main, part, sizeof *part);
    return cnt;
}

int cg_frame_materialize(cg_frame *fr, cg_err *err)
{
    if (!fr->fcol)
        return 0;
    double **nc = calloc(fr->nch ? (size_t)fr->nch : 1, sizeof *nc);
    int rc = nc ? 0 : -1;
    for (int j = 0; j < fr->nch && rc == 0; j++)
        if (!fr->col[j] && !(nc[j] = cg_frame_col_alloc(fr->n)))
            rc = -1;
    if (rc < 0) {
        for (int j = 0; nc && j < fr->nch; j++)
            free(nc[j]);
        free(nc);
        return cg_err_set(err, CG_E_NOMEM, "out of memory making %lld "
                          "events double", (long long)fr->n);
    }
    /* every read first: compensated channels read the others' floats */
    for (int j = 0; j < fr->nch; j++)
        if (nc[j])
            cg_frame_read(fr, j, 0, fr->n, nc[j]);
    for (int j = 0; j < fr->nch; j++)
        if (nc[j])
            fr->col[j] = nc[j];
    free(nc);
    free(fr->fcol);
    fr->fcol = NULL;
    free(fr->fstore);
    fr->fstore = NULL;
    free(fr->fmul);
    fr->fmul = NULL;
    comp_free(fr->comp);
    fr->comp = NULL;
    return 0;
}

int cg_frame_set_comp(cg_frame *fr, const int *idx, int m, const double *K,
                      cg_err *err)
{
    if (fr->comp || m < 1)
        return cg_err_set(err, CG_E_ARG, "cg_frame_set_comp: compensation "
                          "recorded already, or no channel");
    for (int k = 0; k < m; k++)
        if (idx[k] < 0 || idx[k] >= fr->nch || cg_frame_held(fr, idx[k]) ||
            (fr->fmul && fr->fmul[idx[k]] != 0))
            return cg_err_set(err, CG_E_ARG, "cg_frame_set_comp: channel %d "
                              "is not float-held", idx[k]);
    struct cg_frame_comp *c = calloc(1, sizeof *c);
    if (c) {
        c->m = m;
        c->nout = fr->nch;
        c->idx = malloc((size_t)m * sizeof *c->idx);
        c->in = malloc((size_t)m * sizeof *c->in);
        c->K = malloc((size_t)m * (size_t)m * sizeof *c->K);
        c->out = malloc((size_t)fr->nch * sizeof *c->out);
    }
    if (!c || !c->idx || !c->in || !c->K || !c->out) {
        comp_free(c);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    memcpy(c->idx, idx, (size_t)m * sizeof *idx);
    memcpy(c->K, K, (size_t)m * (size_t)m * sizeof *K);
    for (int j = 0; j < fr->nch; j++)
        c->out[j] = -1;
    for (int k = 0; k < m; k++) {
        c->out[idx[k]] = k;
        c->in[k] = fr->fcol[idx[k]];
    }
    fr->comp = c;
    return 0;
}

cg_frame *cg_frame_subset(const cg_frame *fr, const uint8_t *keep,
                          cg_err *err)
{
    int64_t m = 0;
    for (int64_t i = 0; i < fr->n; i++)
        m += keep ? (keep[i] != 0) : 1;
    cg_frame *out = cg_frame_new(m);
    if (!out)
        goto nomem;
    if (fr->fcol && !(out->fstore = float_store(m, fr->nch))) {
        cg_frame_free(out);
        goto nomem;
    }
    for (int j = 0; j < fr->nch; j++) {
        /* every row is written below: no zero fill */
        int fl = !cg_frame_held(fr, j);
        double *c = fl ? NULL : cg_frame_col_alloc(m);
        float *f = fl ? out->fstore + (size_t)j * (size_t)m : NULL;
        if (!c && !f) {
            cg_frame_free(out);
            goto nomem;
        }
        if (add_chan(out, fr->name[j], fr->label[j], fr->range[j], c, f,
                     err) < 0) {
            cg_frame_free(out);
            return NULL;
        }
        int64_t k = 0;
        if (fl) {
            const float *src = fr->fcol[j];
            for (int64_t i = 0; i < fr->n; i++)
                if (!keep || keep[i])
                    f[k++] = src[i];
            continue;
        }
        const double *src = fr->col[j];
        for (int64_t i = 0; i < fr->n; i++)
            if (!keep || keep[i])
                c[k++] = src[i];
    }
    if (fr->fmul) {
        out->fmul = calloc((size_t)out->cap, sizeof *out->fmul);
        if (!out->fmul) {
            cg_frame_free(out);
            goto nomem;
        }
        memcpy(out->fmul, fr->fmul, (size_t)fr->nch * sizeof *out->fmul);
    }
    if (fr->comp && cg_frame_set_comp(out, fr->comp->idx, fr->comp->m,
                                      fr->comp->K, err) < 0) {
        cg_frame_free(out);
        return NULL;
    }
    return out;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory");
    return NULL;
}
