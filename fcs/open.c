/*
 * open.c -- handles: open a file (read whole by fcs_read_file, readfile.c;
 * gzip inflated, bounded, by gzip.c) or a memory buffer, walk the
 * $NEXTDATA chain, select a data set, and the shape/keyword/warning
 * accessors.
 *
 * Invariants: f->buf/f->size is the whole (decompressed) file, or for
 * gzip the part of it up to the end of its last segment, and lives
 * until fcs_close; f->dsoff[] is strictly increasing (a chain that goes
 * backwards or revisits a data set is cut, with a warning), so walking it
 * always ends; data sets after the first that cannot be parsed end the
 * chain with a warning rather than failing the open.
 * Threading: none; one handle per thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcs_internal.h"

static void ds_init_chain(fcs_file *f, fcs_err *err, int *rc)
{
    /* first data set must parse; the rest are best effort */
    fcs_ds ds;
    int64_t base = 0;
    *rc = 0;
    f->dsoff = malloc(sizeof *f->dsoff);
    if (!f->dsoff) {
        *rc = fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        return;
    }
    int cap = 1;
    for (;;) {
        fcs_err e2 = {0};
        int w0 = f->nwarn;
        int r = fcs__ds_parse(f, base, &ds, f->nds == 0 ? err : &e2);
        int64_t next = ds.nextdata;
        int k = f->nwarn - w0;
        char **kept = NULL;
        if (r == 0 && f->nds == 0 && f->opts.dataset == 0 &&
            (k == 0 || (kept = malloc((size_t)k * sizeof *kept)))) {
            /* selected right after: keep it and its warnings */
            if (k)
                memcpy(kept, f->warn + w0, (size_t)k * sizeof *kept);
            f->pre = ds;
            f->pre_warn = kept;
            f->npre_warn = k;
            f->has_pre = 1;
        } else {
            fcs__ds_free(&ds);
            /* the data set's own warnings come back when it is selected */
            for (int i = w0; i < f->nwarn; i++)
                free(f->warn[i]);
        }
        f->nwarn = w0;
        f->warn_dropped = 0;
        if (r < 0) {
            if (f->nds == 0) {
                *rc = r;
                return;
            }
            fcs__warn(f, "data set %d at byte %lld cannot be read (%s); "
                         "the $NEXTDATA chain ends there", f->nds + 1,
                      (long long)base, e2.msg);
            return;
        }
        if (f->nds == cap) {
            int64_t *n2 = realloc(f->dsoff, (size_t)cap * 2 * sizeof *n2);
            if (!n2)
                return;
            f->dsoff = n2;
            cap *= 2;
        }
        f->dsoff[f->nds++] = base;
        if (next <= 0)
            return;
        if (next > (int64_t)f->size - base || f->nds >= FCS_MAX_DATASETS) {
            fcs__warn(f, "$NEXTDATA %lld of data set %d points past the end "
                         "of the file; ignored", (long long)next, f->nds);
            return;
        }
        base += next;
    }
}

static fcs_file *open_common(fcs_file *f, const fcs_opts *o, fcs_err *err)
{
    if (o)
        f->opts = *o;
    if (f->size >= 2 && f->buf[0] == 0x1f && f->buf[1] == 0x8b) {
        uint8_t *out;
        size_t outn;
        if (fcs__gunzip(f, f->buf, f->size, &out, &outn, err) < 0) {
            fcs_close(f);
            return NULL;
        }
        free(f->heap); /* the compressed bytes, when we read them */
        f->heap = out;
        f->buf = out;
        f->size = outn;
    }
    int rc;
    ds_init_chain(f, err, &rc);
    if (rc < 0) {
        fcs_close(f);
        return NULL;
    }
    f->nwarn_file = f->nwarn;
    int want = f->opts.dataset;
    if (want < 0 || want >= f->nds) {
        fcs__err(err, FCS_E_ARG, -1, "data set %d requested, the file has %d",
                 want + 1, f->nds);
        fcs_close(f);
        return NULL;
    }
    f->cur = -1;
    if (fcs_select_dataset(f, want, err) < 0) {
        fcs_close(f);
        return NULL;
    }
    return f;
}

fcs_file *fcs_open_mem(const void *buf, size_t n, const fcs_opts *o,
                       fcs_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!buf && n) {
        fcs__err(err, FCS_E_ARG, -1, "NULL buffer");
        return NULL;
    }
    fcs_file *f = calloc(1, sizeof *f);
    if (!f) {
        fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    f->buf = buf ? buf : (const uint8_t *)"";
    f->size = n;
    return open_common(f, o, err);
}

fcs_file *fcs_open(const char *path, const fcs_opts *o, fcs_err *err)
{
    uint8_t *b;
    size_t n;
    if (fcs_read_file(path, &b, &n, err) < 0)
        return NULL;
    fcs_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(b);
        fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    f->heap = b;
    f->buf = b;
    f->size = n;
    size_t pl = strlen(path);
    if (pl > 3 && strcasecmp(path + pl - 3, ".gz") == 0 &&
        !(n >= 2 && b[0] == 0x1f && b[1] == 0x8b))
        fcs__warn(f, "name ends in .gz but the file is not gzip; read as is");
    return open_common(f, o, err);
}

void fcs_close(fcs_file *f)
{
    if (!f)
        return;
    fcs__ds_free(&f->ds);
    fcs__ds_free(&f->pre);
    for (int i = 0; i < f->npre_warn; i++)
        free(f->pre_warn[i]);
    free(f->pre_warn);
    free(f->heap);
    free(f->dsoff);
    for (int i = 0; i < f->nwarn; i++)
        free(f->warn[i]);
    free(f->warn);
    free(f);
}

int fcs_n_datasets(const fcs_file *f) { return f ? f->nds : 0; }

int fcs_select_dataset(fcs_file *f, int idx, fcs_err *err)
{
    if (!f || idx < 0 || idx >= f->nds)
        return fcs__err(err, FCS_E_ARG, -1,
                        "data set %d requested, the file has %d", idx + 1,
                        f ? f->nds : 0);
    if (idx == f->cur && f->ds.ok)
        return 0;
    /* drop the previous data set's warnings */
    for (int i = f->nwarn_file; i < f->nwarn; i++)
        free(f->warn[i]);
    f->nwarn = f->nwarn_file;
    f->warn_dropped = 0;
    fcs__ds_free(&f->ds);
    f->cur = -1;
    if (idx == 0 && f->has_pre) {
        f->ds = f->pre;
        memset(&f->pre, 0, sizeof f->pre);
        f->has_pre = 0;
        for (int i = 0; i < f->npre_warn; i++) {
            fcs__warn(f, "%s", f->pre_warn[i]);
            free(f->pre_warn[i]);
        }
        free(f->pre_warn);
        f->pre_warn = NULL;
        f->npre_warn = 0;
        f->cur = 0;
        return 0;
    }
    if (fcs__ds_parse(f, f->dsoff[idx], &f->ds, err) < 0) {
        fcs__ds_free(&f->ds);
        return -2;
    }
    f->cur = idx;
    return 0;
}

int fcs_dataset(const fcs_file *f) { return f ? f->cur : -1; }

int64_t fcs_dataset_offset(const fcs_file *f)
{
    return f && f->cur >= 0 ? f->dsoff[f->cur] : -1;
}

const char *fcs_version(const fcs_file *f)
{
    return f && f->ds.ok ? f->ds.version : "";
}

int64_t fcs_n_events(const fcs_file *f) { return f && f->ds.ok ? f->ds.nevents : 0; }

int fcs_n_params(const fcs_file *f) { return f && f->ds.ok ? f->ds.npar : 0; }

const fcs_param *fcs_param_info(const fcs_file *f, int i)
{
    if (!f || !f->ds.ok || i < 0 || i >= f->ds.npar)
        return NULL;
    return &f->ds.par[i];
}

int fcs_param_index(const fcs_file *f, const char *name)
{
    if (!f || !f->ds.ok || !name)
        return -1;
    for (int i = 0; i < f->ds.npar; i++)
        if (strcmp(f->ds.par[i].name, name) == 0)
            return i;
    for (int i = 0; i < f->ds.npar; i++)
        if (strcasecmp(f->ds.par[i].name, name) == 0)
            return i;
    return -1;
}

int fcs_time_index(const fcs_file *f)
{
    if (!f || !f->ds.ok)
        return -1;
    for (int i = 0; i < f->ds.npar; i++)
        if (f->ds.par[i].is_time)
            return i;
    return -1;
}

const char *fcs_keyword(const fcs_file *f, const char *key)
{
    if (!f || !f->ds.ok || !key)
        return NULL;
    return fcs__kw_get(&f->ds.kw, key);
}

int fcs_n_keywords(const fcs_file *f) { return f && f->ds.ok ? f->ds.kw.n : 0; }

int fcs_keyword_at(const fcs_file *f, int i, const char **key,
                   const char **value)
{
    if (!f || !f->ds.ok || i < 0 || i >= f->ds.kw.n)
        return -1;
    if (key)
        *key = f->ds.kw.kw[i].key;
    if (value)
        *value = f->ds.kw.kw[i].val;
    return 0;
}

int fcs_n_warnings(const fcs_file *f) { return f ? f->nwarn : 0; }

const char *fcs_warning(const fcs_file *f, int i)
{
    if (!f || i < 0 || i >= f->nwarn)
        return NULL;
    return f->warn[i];
}
