/*
 * open.c -- handles: open a file (mmap; gzip inflated into memory) or a
 * memory buffer, walk the $NEXTDATA chain, select a data set, and the
 * shape/keyword/warning accessors.
 *
 * Invariants: f->buf/f->size is the whole (decompressed) file and lives
 * until fcs_close; f->dsoff[] is strictly increasing (a chain that goes
 * backwards or revisits a data set is cut, with a warning), so walking it
 * always ends; data sets after the first that cannot be parsed end the
 * chain with a warning rather than failing the open.
 * Threading: none; one handle per thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fcs_internal.h"

static int inflate_all(const uint8_t *in, size_t n, uint8_t **out,
                       size_t *outn, fcs_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return fcs__err(err, FCS_E_GZIP, -1, "gzip: cannot initialise zlib");
    size_t cap = n * 4 + 65536, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        inflateEnd(&z);
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory inflating");
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = 0;
    for (;;) {
        size_t used = (size_t)((const uint8_t *)z.next_in - in);
        if (z.avail_in == 0 && used < n)
            z.avail_in = (uInt)(n - used > 0x40000000u ? 0x40000000u
                                                       : n - used);
        if (cap - len < 65536) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                inflateEnd(&z);
                return fcs__err(err, FCS_E_NOMEM, -1,
                                "out of memory inflating");
            }
            buf = nb;
            cap *= 2;
        }
        size_t room = cap - len > 0x40000000u ? 0x40000000u : cap - len;
        z.next_out = buf + len;
        z.avail_out = (uInt)room;
        int rc = inflate(&z, Z_NO_FLUSH);
        len += room - z.avail_out;
        used = (size_t)((const uint8_t *)z.next_in - in);
        if (rc == Z_STREAM_END) {
            /* another gzip member may follow; other trailing bytes are
             * ignored */
            if (n - used >= 2 && in[used] == 0x1f && in[used + 1] == 0x8b) {
                inflateReset(&z);
                continue;
            }
            break;
        }
        if (rc == Z_BUF_ERROR && used >= n && z.avail_in == 0) {
            free(buf);
            inflateEnd(&z);
            return fcs__err(err, FCS_E_GZIP, (int64_t)n,
                            "gzip: stream is truncated");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            free(buf);
            inflateEnd(&z);
            return fcs__err(err, FCS_E_GZIP, (int64_t)used, "gzip: %s",
                            z.msg ? z.msg : "corrupt data");
        }
    }
    inflateEnd(&z);
    *out = buf;
    *outn = len;
    return 0;
}

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
        fcs__ds_free(&ds);
        /* the data set's own warnings come back when it is selected */
        for (int i = w0; i < f->nwarn; i++)
            free(f->warn[i]);
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
    if (f->size >= 2 && f->buf[0] == 0x1f && f->buf[1] == 0x8b && !f->heap) {
        uint8_t *out;
        size_t outn;
        if (inflate_all(f->buf, f->size, &out, &outn, err) < 0) {
            fcs_close(f);
            return NULL;
        }
        if (f->map)
            munmap(f->map, f->maplen);
        f->map = NULL;
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
    if (err)
        memset(err, 0, sizeof *err);
    if (!path) {
        fcs__err(err, FCS_E_ARG, -1, "NULL path");
        return NULL;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fcs__err(err, FCS_E_IO, -1, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fcs__err(err, FCS_E_IO, -1, "cannot stat: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        fcs__err(err, FCS_E_IO, -1, "is a directory");
        close(fd);
        return NULL;
    }
    fcs_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            f->map = m;
            f->maplen = (size_t)st.st_size;
            f->buf = m;
            f->size = (size_t)st.st_size;
        }
    }
    if (!f->map) {
        /* not mappable (pipe, empty, special file): read it */
        size_t cap = 65536, len = 0;
        uint8_t *b = malloc(cap);
        for (;;) {
            if (!b) {
                close(fd);
                free(f);
                fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
                return NULL;
            }
            if (len == cap) {
                uint8_t *nb = realloc(b, cap * 2);
                if (!nb) {
                    free(b);
                    b = NULL;
                    continue;
                }
                b = nb;
                cap *= 2;
            }
            ssize_t r = read(fd, b + len, cap - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                fcs__err(err, FCS_E_IO, (int64_t)len, "read error: %s",
                         strerror(errno));
                free(b);
                free(f);
                close(fd);
                return NULL;
            }
            if (r == 0)
                break;
            len += (size_t)r;
        }
        f->heap = NULL;
        f->buf = b;
        f->size = len;
        /* keep ownership in heap unless it is gzip (inflated below) */
        if (!(len >= 2 && b[0] == 0x1f && b[1] == 0x8b)) {
            f->heap = b;
        } else {
            uint8_t *out;
            size_t outn;
            if (inflate_all(b, len, &out, &outn, err) < 0) {
                free(b);
                free(f);
                close(fd);
                return NULL;
            }
            free(b);
            f->heap = out;
            f->buf = out;
            f->size = outn;
        }
    }
    close(fd);
    size_t pl = strlen(path);
    int gz_name = pl > 3 && strcasecmp(path + pl - 3, ".gz") == 0;
    if (gz_name && !(f->size >= 2 && f->buf[0] == 0x1f && f->buf[1] == 0x8b) &&
        f->map)
        fcs__warn(f, "name ends in .gz but the file is not gzip; read as is");
    return open_common(f, o, err);
}

void fcs_close(fcs_file *f)
{
    if (!f)
        return;
    fcs__ds_free(&f->ds);
    if (f->map)
        munmap(f->map, f->maplen);
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
