/*
 * frame.c -- event tables (see frame.h).
 *
 * Columns are allocated once per channel; no per-event allocation.  A
 * frame read from FCS decodes all parameters in a single pass through the
 * fcs library's column reader.
 */
#include "frame.h"

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
    if (!col)
        col = calloc(fr->n ? (size_t)fr->n : 1, sizeof *col);
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

cg_frame *cg_frame_from_fcs(struct fcs_file *f, int view, cg_err *err)
{
    int64_t n = fcs_n_events(f);
    int np = fcs_n_params(f);
    cg_frame *fr = cg_frame_new(n);
    double **cols = calloc(np > 0 ? (size_t)np : 1, sizeof *cols);
    if (!fr || !cols)
        goto nomem;
    for (int j = 0; j < np; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        /* In the scaled view the range is the scaled top of the channel:
         * f2 x 10^f1 for $PnE log amplification (the events are
         * linearised), $PnR / $PnG for a linear gain; time stays raw. */
        double range = p->range;
        if (view != FCS_RAW && range > 0 && !p->is_time &&
            (p->datatype == 'I' || p->datatype == 'A')) {
            if (p->log_f1 > 0)
                range = (p->log_f2 > 0 ? p->log_f2 : 1.0) *
                        pow(10.0, p->log_f1);
            else if (p->gain > 0 && p->gain != 1)
                range = range / p->gain;
        }
        if (cg_frame_add(fr, p->name, p->label, range, NULL, err) < 0)
            goto fail;
        cols[j] = fr->col[j];
    }
    if (n > 0) {
        fcs_err fe = {0};
        int64_t got = fcs_read_double(f, view == FCS_RAW ? FCS_RAW : FCS_SCALED,
                                      0, n, cols, &fe);
        if (got != n) {
            cg_err_set(err, CG_E_DATA, "%s", got < -1 ? fe.msg :
                       "DATA holds fewer events than $TOT");
            goto fail;
        }
    }
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
        if (cg_frame_add(out, fr->name[j], fr->label[j], fr->range[j], NULL,
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
