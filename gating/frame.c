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
 */
#include "frame.h"
#include "par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../fcs/fcs.h"

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
    free(fr->name);
    free(fr->label);
    free(fr->range);
    free(fr->col);
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
    fr->cap = cap;
    return 0;
}

int cg_frame_add(cg_frame *fr, const char *name, const char *label,
                 double range, double *col, cg_err *err)
{
    if (!fr || !name)
        return cg_err_set(err, CG_E_ARG, "cg_frame_add: no frame or name");
    if (fr->nch == fr->cap && grow(fr) < 0) {
        free(col); /* ownership was passed to us */
        return cg_err_set(err, CG_E_NOMEM, "out of memory adding channel %s",
                          name);
    }
    char *nm = strdup(name);
    char *lb = label ? strdup(label) : NULL;
    if (!col && (col = cg_frame_col_alloc(fr->n)))
        memset(col, 0, (fr->n ? (size_t)fr->n : 1) * sizeof *col);
    if (!nm || (label && !lb) || !col) {
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
    return j;
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

cg_frame *cg_frame_subset(const cg_frame *fr, const uint8_t *keep,
                          cg_err *err)
{
    int64_t m = 0;
    for (int64_t i = 0; i < fr->n; i++)
        m += keep ? (keep[i] != 0) : 1;
    cg_frame *out = cg_frame_new(m);
    if (!out)
        goto nomem;
    for (int j = 0; j < fr->nch; j++) {
        /* every row is written below: no zero fill */
        double *c = cg_frame_col_alloc(m);
        if (!c) {
            cg_frame_free(out);
            goto nomem;
        }
        if (cg_frame_add(out, fr->name[j], fr->label[j], fr->range[j], c,
                         err) < 0) {
            cg_frame_free(out);
            return NULL;
        }
        const double *src = fr->col[j];
        double *dst = out->col[j];
        int64_t k = 0;
        for (int64_t i = 0; i < fr->n; i++)
            if (!keep || keep[i])
                dst[k++] = src[i];
    }
    return out;
nomem:
    cg_err_set(err, CG_E_NOMEM, "out of memory");
    return NULL;
}
