/*
 * dims.c -- gate dimensions (cg_dim) and the per-sample value cache.
 *
 * Pipeline per dimension (Gating-ML 2.0, spec-notes.md 2.1): scaled
 * frame column -> compensation (none / the file's spillover / a named
 * matrix) -> fratio for ratio dimensions (+ its bounds) -> transform (+
 * its bounds).  A compensation block (one matrix) is set up once per
 * sample (its K and its inputs' channels) the first time any of its
 * channels is needed, and each output is computed when read: for the
 * events a gate gathers (compact mode), or once into a cached column
 * when a whole column is asked for; the values are cg_comp_apply's.
 * Every distinct derived column is cached under a text key built from
 * the dimension (names, matrix id, ratio constants, transform kind and
 * parameters, bounds printed with %.17g), so gates sharing a dimension
 * share the column.  Dimensions without ratio or transform (or with an
 * unbounded identity transform) return the frame/block column itself
 * (no copy; a float-held frame channel, frame.h, is read once into a
 * cached column).  Cached columns and gathered sets are slabs of the
 * frame's (cg_frame_slab_get).
 *
 * Names match exactly first, then case-insensitively (cg_frame_find's
 * rule).  With a named matrix, a name that is not one of its outputs
 * (fluorochromes) falls back to the frame channel of that name,
 * uncompensated, so a gate may mix compensated and raw dimensions
 * under one reference.  NaN propagates (out of every gate); bounds clamp
 * -inf/+inf but leave NaN alone.
 *
 * Threading: one cg_dims per thread (lazy cache).
 */
#include "dims.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void cg_dim_init(cg_dim *d)
{
    memset(d, 0, sizeof *d);
    d->comp = CG_COMP_NONE;
    d->ratio_A = 1;
    d->ratio_min = d->xf_min = -INFINITY;
    d->ratio_max = d->xf_max = INFINITY;
}

void cg_dim_clear(cg_dim *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->comp_id);
    free(d->ratio_num);
    free(d->ratio_den);
    free(d->ratio_id);
    free(d->xf_id);
    if (!d->xf_borrowed)
        cg_xform_free(d->xf);
    cg_dim_init(d);
}

static cg_xform *xform_copy(const cg_xform *xf, cg_err *err)
{
    return cg_xform_new(cg_xform_kind_of(xf), cg_xform_params_of(xf), err);
}

int cg_dim_copy(cg_dim *dst, const cg_dim *src, cg_err *err)
{
    cg_dim_init(dst);
    *dst = *src;
    dst->name = xstrdup(src->name);
    dst->comp_id = xstrdup(src->comp_id);
    dst->ratio_num = xstrdup(src->ratio_num);
    dst->ratio_den = xstrdup(src->ratio_den);
    dst->ratio_id = xstrdup(src->ratio_id);
    dst->xf_id = xstrdup(src->xf_id);
    dst->xf = !src->xf ? NULL
              : src->xf_borrowed ? src->xf /* still borrowed */
                                 : xform_copy(src->xf, err);
    if ((src->name && !dst->name) || (src->comp_id && !dst->comp_id) ||
        (src->ratio_num && !dst->ratio_num) ||
        (src->ratio_den && !dst->ratio_den) ||
        (src->ratio_id && !dst->ratio_id) || (src->xf_id && !dst->xf_id) ||
        (src->xf && !dst->xf)) {
        int fromxf = src->xf && !dst->xf;
        cg_dim_clear(dst);
        if (fromxf)
            return -(err && err->code ? err->code : CG_E_NOMEM);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    return 0;
}

static int set_comp(cg_dim *d, cg_comp_ref comp, const char *comp_id,
                    cg_err *err)
{
    if (comp == CG_COMP_MATRIX && (!comp_id || !*comp_id))
        return cg_err_set(err, CG_E_ARG,
                          "compensation by matrix needs a matrix id");
    free(d->comp_id);
    d->comp_id = NULL;
    d->comp = comp;
    if (comp == CG_COMP_MATRIX && !(d->comp_id = xstrdup(comp_id)))
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    return 0;
}

int cg_dim_set_channel(cg_dim *d, const char *name, cg_comp_ref comp,
                       const char *comp_id, cg_err *err)
{
    if (!name || !*name)
        return cg_err_set(err, CG_E_ARG, "dimension: empty channel name");
    char *n = xstrdup(name);
    if (!n)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    free(d->name);
    free(d->ratio_num);
    free(d->ratio_den);
    free(d->ratio_id);
    d->ratio_num = d->ratio_den = d->ratio_id = NULL;
    d->name = n;
    return set_comp(d, comp, comp_id, err);
}

int cg_dim_set_ratio(cg_dim *d, const char *num, const char *den, double A,
                     double B, double C, cg_comp_ref comp,
                     const char *comp_id, cg_err *err)
{
    if (!num || !*num || !den || !*den)
        return cg_err_set(err, CG_E_ARG, "ratio dimension: empty channel");
    if (!isfinite(A) || !isfinite(B) || !isfinite(C))
        return cg_err_set(err, CG_E_ARG, "ratio dimension: A, B, C must be "
                          "finite");
    char *a = xstrdup(num), *b = xstrdup(den);
    if (!a || !b) {
        free(a);
        free(b);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    free(d->name);
    d->name = NULL;
    free(d->ratio_num);
    free(d->ratio_den);
    d->ratio_num = a;
    d->ratio_den = b;
    d->ratio_A = A;
    d->ratio_B = B;
    d->ratio_C = C;
    return set_comp(d, comp, comp_id, err);
}

static int set_xform(cg_dim *d, const cg_xform *xf, int share,
                     double bound_min, double bound_max, const char *id,
                     cg_err *err)
{
    if (isnan(bound_min) || isnan(bound_max) || bound_min > bound_max)
        return cg_err_set(err, CG_E_ARG, "transform bounds: need boundMin <= "
                          "boundMax (got %g, %g)", bound_min, bound_max);
    cg_xform *c = NULL;
    char *i = NULL;
    if (xf && share)
        c = (cg_xform *)xf; /* borrowed: never freed through d */
    else if (xf && !(c = xform_copy(xf, err)))
        return -(err && err->code ? err->code : CG_E_NOMEM);
    if (id && !(i = xstrdup(id))) {
        if (!share)
            cg_xform_free(c);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    if (!d->xf_borrowed)
        cg_xform_free(d->xf);
    free(d->xf_id);
    d->xf = c;
    d->xf_borrowed = c && share;
    d->xf_id = i;
    d->xf_min = bound_min;
    d->xf_max = bound_max;
    return 0;
}

int cg_dim_set_xform(cg_dim *d, const cg_xform *xf, double bound_min,
                     double bound_max, const char *id, cg_err *err)
{
    return set_xform(d, xf, 0, bound_min, bound_max, id, err);
}

int cg_dim_set_xform_shared(cg_dim *d, const cg_xform *xf, double bound_min,
                            double bound_max, const char *id, cg_err *err)
{
    return set_xform(d, xf, 1, bound_min, bound_max, id, err);
}

char *cg_dim_describe(const cg_dim *d, char *buf, int n)
{
    const char *comp = d->comp == CG_COMP_NONE  ? ""
                       : d->comp == CG_COMP_FCS ? "[FCS]"
                                                : NULL;
    char cbuf[80];
    if (!comp) {
        snprintf(cbuf, sizeof cbuf, "[%s]", d->comp_id ? d->comp_id : "?");
        comp = cbuf;
    }
    if (d->ratio_num)
        snprintf(buf, (size_t)n, "%s/%s%s%s%s", d->ratio_num, d->ratio_den,
                 comp, d->xf ? "|" : "",
                 d->xf ? cg_xform_name(cg_xform_kind_of(d->xf)) : "");
    else
        snprintf(buf, (size_t)n, "%s%s%s%s", d->name ? d->name : "?", comp,
                 d->xf ? "|" : "",
                 d->xf ? cg_xform_name(cg_xform_kind_of(d->xf)) : "");
    return buf;
}

/* ---- context ----------------------------------------------------------- */

typedef struct comp_block {
    char *id;             /* "FCS" for the file's spillover */
    const cg_matrix *m;
    int inverted;
    int nout;
    char **outname;       /* borrowed from m */
    /* set up on first use (block_prepare): */
    double *K;            /* cg_comp_matrix: nin x nout, column-major */
    int nin;
    int *in;              /* the frame channel of each input */
    double **out;         /* nout whole columns (slabs), each NULL until
                           * a whole column is asked for */
} comp_block;

typedef struct cache_ent {
    char *key;
    double *col;          /* a slab of the frame's (cg_frame_slab_get) */
} cache_ent;

/* Values of one dimension for a subset of the events (compact mode). */
typedef struct gath_ent {
    char *key;            /* make_key of the dimension */
    uint64_t *in;         /* copy of the subset's words; NULL: all events */
    int64_t count;
    double *v;            /* count values, carved from dc->gslab */
} gath_ent;

struct cg_dims {
    const cg_frame *fr;
    int64_t n;
    comp_block fcs;       /* m == NULL when the file has no spillover */
    comp_block *mat;
    int nmat, capmat;
    cache_ent *ent;
    int nent, capent;
    int threads;          /* for transforms; 0: cg_xform_fwd's default */
    int compact;          /* cg_dims_set_compact */
    gath_ent *gath;       /* cg_dims_gathered's sets, until dropped */
    int ngath, capgath;
    /* The gathered sets' memory: slabs of the frame's, carved front to
     * back (the last one up to gused bytes), given back together. */
    char **gslab;
    int ngslab, capgslab;
    size_t gused;
};

void cg_dims_set_threads(cg_dims *dc, int nthreads)
{
    if (dc)
        dc->threads = nthreads > 0 ? nthreads : 0;
}

/* Room for one cached column: a slab of the frame's (faulted in already
 * when the frame was given memory), given back by cg_dims_free. */
static double *col_room(cg_dims *dc)
{
    return cg_frame_slab_get(dc->fr);
}

cg_dims *cg_dims_new(const cg_frame *fr, const cg_matrix *fcs_spill,
                     cg_err *err)
{
    if (!fr) {
        cg_err_set(err, CG_E_ARG, "dims: no frame");
        return NULL;
    }
    cg_dims *dc = calloc(1, sizeof *dc);
    if (!dc) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    dc->fr = fr;
    dc->n = fr->n;
    if (fcs_spill) {
        if (fcs_spill->nrow != fcs_spill->ncol) {
            cg_err_set(err, CG_E_ARG, "the file's spillover is %dx%d, not "
                       "square", fcs_spill->nrow, fcs_spill->ncol);
            free(dc);
            return NULL;
        }
        dc->fcs.m = fcs_spill;
        dc->fcs.nout = fcs_spill->ncol;
        dc->fcs.outname = fcs_spill->col;
    }
    return dc;
}

/* b's own arrays; its whole columns went back with cg_dims_cache_drop */
static void block_free(comp_block *b)
{
    free(b->out);
    free(b->K);
    free(b->in);
    free(b->id);
}

void cg_dims_free(cg_dims *dc)
{
    if (!dc)
        return;
    cg_dims_cache_drop(dc); /* every value held: slabs back */
    free(dc->gath);
    block_free(&dc->fcs);
    for (int i = 0; i < dc->nmat; i++)
        block_free(&dc->mat[i]);
    free(dc->mat);
    free(dc->ent);
    free(dc->gslab);
    free(dc);
}

int cg_dims_add_matrix(cg_dims *dc, const char *id, const cg_matrix *m,
                       int inverted_already, cg_err *err)
{
    if (!id || !*id || !m)
        return cg_err_set(err, CG_E_ARG, "matrix: missing id or matrix");
    for (int i = 0; i < dc->nmat; i++)
        if (strcmp(dc->mat[i].id, id) == 0) {
            if (dc->mat[i].m == m && dc->mat[i].inverted == !!inverted_already)
                return 0;
            return cg_err_set(err, CG_E_ARG, "matrix %s registered twice",
                              id);
        }
    if (m->nrow < 1 || m->ncol < 1 || !m->row || !m->col)
        return cg_err_set(err, CG_E_ARG, "matrix %s: empty or unnamed", id);
    if (dc->nmat == dc->capmat) {
        int cap = dc->capmat ? 2 * dc->capmat : 4;
        comp_block *p = realloc(dc->mat, (size_t)cap * sizeof *p);
        if (!p)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        dc->mat = p;
        dc->capmat = cap;
    }
    comp_block *b = &dc->mat[dc->nmat];
    memset(b, 0, sizeof *b);
    if (!(b->id = xstrdup(id)))
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    b->m = m;
    b->inverted = !!inverted_already;
    b->nout = inverted_already ? m->ncol : m->nrow;
    b->outname = inverted_already ? m->col : m->row;
    dc->nmat++;
    return 0;
}

int64_t cg_dims_n(const cg_dims *dc) { return dc->n; }
const cg_frame *cg_dims_frame(const cg_dims *dc) { return dc->fr; }
int cg_dims_n_cached(const cg_dims *dc) { return dc->nent; }

static int find_name(char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    for (int i = 0; i < n; i++)
        if (names[i] && strcasecmp(names[i], name) == 0)
            return i;
    return -1;
}

/* Add col (a slab) to the cache under key (taken over); 0, or -1 with
 * err (the caller still owns col, key is freed). */
static int cache_add(cg_dims *dc, char *key, double *col, cg_err *err)
{
    if (dc->nent == dc->capent) {
        int cap = dc->capent ? 2 * dc->capent : 8;
        cache_ent *p = realloc(dc->ent, (size_t)cap * sizeof *p);
        if (!p) {
            free(key);
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            return -1;
        }
        dc->ent = p;
        dc->capent = cap;
    }
    dc->ent[dc->nent].key = key;
    dc->ent[dc->nent].col = col;
    dc->nent++;
    return 0;
}

static const double *cached_col(const cg_dims *dc, const char *key);

/* Frame channel j as a whole double column: the frame's own, or, for a
 * float-held channel (frame.h), read once into a cached column. */
static const double *frame_col(cg_dims *dc, int j, cg_err *err)
{
    if (cg_frame_held(dc->fr, j))
        return dc->fr->col[j];
    char key[32];
    snprintf(key, sizeof key, "\001frame:%d", j);
    const double *c = cached_col(dc, key);
    if (c)
        return c;
    double *col = col_room(dc);
    char *k = strdup(key);
    if (!col || !k) {
        free(k);
        cg_frame_slab_put(dc->fr, col);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    cg_frame_read(dc->fr, j, 0, dc->n, col);
    if (cache_add(dc, k, col, err) < 0) {
        cg_frame_slab_put(dc->fr, col);
        return NULL;
    }
    return col;
}

/* Set up block b: its matrix K and its inputs' frame channels (the
 * outputs are computed when read, one at a time, with cg_comp_apply's
 * values).  0, or < 0 with err. */
static int block_prepare(cg_dims *dc, comp_block *b, cg_err *err)
{
    if (b->K)
        return 0;
    const cg_matrix *m = b->m;
    int nin = b->inverted ? m->nrow : m->ncol;
    char **inname = b->inverted ? m->row : m->col;
    int *in = calloc((size_t)nin, sizeof *in);
    double **out = calloc((size_t)b->nout, sizeof *out);
    if (!in || !out) {
        free(in);
        free(out);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < nin; i++)
        if ((in[i] = cg_frame_find(dc->fr, inname[i])) < 0) {
            free(in);
            free(out);
            return cg_err_set(err, CG_E_CHANNEL, "matrix %s: detector %s is "
                              "not a channel of the file", b->id, inname[i]);
        }
    cg_err e2;
    cg_err_clear(&e2);
    /* inverted already: out = in * M (in = rows = detectors); otherwise
     * out = in * S^-1, least squares when S is not square. */
    int mm = 0, p = 0;
    double *K = cg_comp_matrix(m, b->inverted, &mm, &p, &e2);
    if (!K || mm != nin || p != b->nout) {
        free(K);
        free(in);
        free(out);
        return cg_err_set(err, e2.code ? e2.code : CG_E_MATH, "matrix %s: %s",
                          b->id, e2.msg[0] ? e2.msg : "unexpected shape");
    }
    b->K = K;
    b->nin = nin;
    b->in = in;
    b->out = out;
    return 0;
}

/* Doubles of stack a block output's chunk of events takes: its inputs'
 * values, BO_STACK / nin events at a time. */
#define BO_STACK 8192

/* Output k of block b at the cnt events listed in at, into out. */
static void block_chunk(const cg_dims *dc, const comp_block *b, int k,
                        const int64_t *at, int cnt, double *X, double *out)
{
    int m = b->nin;
    for (int q = 0; q < m; q++)
        cg_frame_read_at(dc->fr, b->in[q], at, cnt, X + (size_t)q * cnt);
    cg_comp_chain(X, cnt, m, b->K + (size_t)k * (size_t)m, out);
}

/* Output k of block b at the events of sel (NULL: all), in order, into
 * out: each event's chain over the inputs (cg_comp_chain, so the values
 * are cg_comp_apply's), the inputs read from the frame (a float-held
 * one widened). */
static void block_gather(const cg_dims *dc, const comp_block *b, int k,
                         const cg_bits *sel, double *out)
{
    int bs = BO_STACK / (b->nin > 0 ? b->nin : 1), cnt = 0;
    if (bs < 1)
        bs = 1;
    double X[BO_STACK];
    int64_t at[BO_STACK], pos = 0;
    if (!sel) {
        for (int64_t i = 0; i < dc->n; i++) {
            at[cnt++] = i;
            if (cnt == bs) {
                block_chunk(dc, b, k, at, cnt, X, out + pos);
                pos += cnt;
                cnt = 0;
            }
        }
    } else {
        for (int64_t w = 0; w < cg_bits_words(dc->n); w++)
            for (uint64_t bits = sel->w[w]; bits; bits &= bits - 1) {
                at[cnt++] = (w << 6) + __builtin_ctzll(bits);
                if (cnt == bs) {
                    block_chunk(dc, b, k, at, cnt, X, out + pos);
                    pos += cnt;
                    cnt = 0;
                }
            }
    }
    if (cnt)
        block_chunk(dc, b, k, at, cnt, X, out + pos);
}

/* Where the values of a channel in a compensation space are: a whole
 * column (v), or frame channel j read on demand (v NULL). */
typedef struct src_ref {
    const double *v;
    int j;
    const comp_block *blk; /* v NULL and blk: output k of blk */
    int k;
} src_ref;

/* Channel `name` in the compensation space of d, as a src_ref: a
 * float-held frame channel is not read here.  0, or -1 with err. */
static int base_src(cg_dims *dc, const cg_dim *d, const char *name,
                    src_ref *sr, cg_err *err)
{
    sr->v = NULL;
    sr->j = -1;
    sr->blk = NULL;
    sr->k = -1;
    comp_block *b = NULL;
    if (d->comp == CG_COMP_FCS && dc->fcs.m) {
        b = &dc->fcs;
    } else if (d->comp == CG_COMP_MATRIX) {
        for (int i = 0; i < dc->nmat; i++)
            if (strcmp(dc->mat[i].id, d->comp_id) == 0)
                b = &dc->mat[i];
        if (!b) {
            cg_err_set(err, CG_E_ARG, "unknown compensation matrix %s",
                       d->comp_id);
            return -1;
        }
    }
    if (b) {
        int k = find_name(b->outname, b->nout, name);
        if (k >= 0) {
            if (block_prepare(dc, b, err) < 0)
                return -1;
            sr->v = b->out[k]; /* NULL until a whole column is asked for */
            sr->blk = b;
            sr->k = k;
            return 0;
        }
    }
    int j = cg_frame_find(dc->fr, name);
    if (j < 0) {
        if (b && b != &dc->fcs)
            cg_err_set(err, CG_E_CHANNEL, "%s is neither a fluorochrome of "
                       "matrix %s nor a channel of the file", name, d->comp_id);
        else
            cg_err_set(err, CG_E_CHANNEL, "channel %s is not in the file",
                       name);
        return -1;
    }
    sr->j = j;
    if (cg_frame_held(dc->fr, j))
        sr->v = dc->fr->col[j];
    return 0;
}

/* Column of channel `name` in the compensation space of d, whole. */
static const double *base_col(cg_dims *dc, const cg_dim *d, const char *name,
                              cg_err *err)
{
    src_ref sr;
    if (base_src(dc, d, name, &sr, err) < 0)
        return NULL;
    if (sr.v)
        return sr.v;
    if (!sr.blk)
        return frame_col(dc, sr.j, err);
    /* a block output whole: computed once into a slab, kept */
    comp_block *b = (comp_block *)sr.blk;
    double *c = cg_frame_slab_get(dc->fr);
    if (!c) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    block_gather(dc, b, sr.k, NULL, c);
    b->out[sr.k] = c;
    return c;
}

static void gather_at(const double *src, const cg_bits *in, int64_t n,
                      double *out);

/* sr's values at the events of in (NULL: all), in order, into out. */
static void src_gather(const cg_dims *dc, const src_ref *sr,
                       const cg_bits *in, double *out)
{
    if (sr->v)
        gather_at(sr->v, in, dc->n, out);
    else if (sr->blk)
        block_gather(dc, sr->blk, sr->k, in, out);
    else
        cg_frame_gather_threads(dc->fr, sr->j, in, out, dc->threads);
}

/* Growable key text. */
typedef struct kbuf {
    char *s;
    size_t len, cap;
} kbuf;

static void kprintf(kbuf *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void kprintf(kbuf *k, const char *fmt, ...)
{
    if (!k->s && k->cap)
        return; /* earlier failure */
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (k->len + (size_t)need + 1 > k->cap) {
        size_t cap = (k->len + (size_t)need + 1) * 2;
        char *p = realloc(k->s, cap);
        if (!p) {
            free(k->s);
            k->s = NULL;
            k->cap = 1;
            return;
        }
        k->s = p;
        k->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(k->s + k->len, k->cap - k->len, fmt, ap);
    va_end(ap);
    k->len += (size_t)need;
}

static char *make_key(const cg_dim *d)
{
    kbuf k = {0};
    kprintf(&k, "c%d:%s|", (int)d->comp,
            d->comp == CG_COMP_MATRIX ? d->comp_id : "");
    if (d->ratio_num)
        kprintf(&k, "r:%s\x1f%s\x1f%.17g,%.17g,%.17g,%.17g,%.17g|",
                d->ratio_num, d->ratio_den, d->ratio_A, d->ratio_B,
                d->ratio_C, d->ratio_min, d->ratio_max);
    else
        kprintf(&k, "n:%s|", d->name);
    if (d->xf) {
        const cg_xform_params *p = cg_xform_params_of(d->xf);
        kprintf(&k,
                "x%d:%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
                "%.17g,%.17g|%.17g,%.17g",
                (int)cg_xform_kind_of(d->xf), p->T, p->W, p->M, p->A,
                p->cofactor, p->width, p->pos, p->neg, p->max, p->bound_min,
                p->bound_max, d->xf_min, d->xf_max);
    }
    return k.s;
}

static void clamp(double *x, size_t n, double lo, double hi)
{
    if (lo == -INFINITY && hi == INFINITY)
        return;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < lo)
            x[i] = lo;
        else if (x[i] > hi)
            x[i] = hi;
    }
}

/* An identity transform without bounds: y = x, bit for bit (NaN and -0
 * included), so the base column serves as is. */
static int is_plain_identity(const cg_dim *d)
{
    const cg_xform_params *p = cg_xform_params_of(d->xf);
    return cg_xform_kind_of(d->xf) == CG_XF_IDENTITY && p->bound_min == 0 &&
           p->bound_max == 0 && d->xf_min == -INFINITY &&
           d->xf_max == INFINITY;
}

const double *cg_dims_get(cg_dims *dc, const cg_dim *d, cg_err *err)
{
    if (!d->name && !(d->ratio_num && d->ratio_den)) {
        cg_err_set(err, CG_E_ARG, "dimension without a channel");
        return NULL;
    }
    if (d->comp == CG_COMP_MATRIX && !d->comp_id) {
        cg_err_set(err, CG_E_ARG, "dimension %s: matrix compensation "
                   "without a matrix id", d->name ? d->name : d->ratio_num);
        return NULL;
    }
    if (!d->ratio_num && (!d->xf || is_plain_identity(d)))
        return base_col(dc, d, d->name, err);
    char *key = make_key(d);
    if (!key) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < dc->nent; i++)
        if (strcmp(dc->ent[i].key, key) == 0) {
            free(key);
            return dc->ent[i].col;
        }
    size_t n = (size_t)dc->n;
    double *col = col_room(dc);
    if (!col) {
        free(key);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    const double *src;
    if (d->ratio_num) {
        const double *a = base_col(dc, d, d->ratio_num, err);
        const double *b = a ? base_col(dc, d, d->ratio_den, err) : NULL;
        if (!b)
            goto fail;
        cg_fratio(d->ratio_A, d->ratio_B, d->ratio_C, a, b, col, n);
        clamp(col, n, d->ratio_min, d->ratio_max);
        src = col;
    } else {
        src_ref sr;
        if (base_src(dc, d, d->name, &sr, err) < 0)
            goto fail;
        src = sr.v;
        if (!src) { /* computed or float-held: into col, transformed in
                       place */
            src_gather(dc, &sr, NULL, col);
            src = col;
        }
    }
    if (d->xf) {
        if (dc->threads > 0)
            cg_xform_fwd_threads(d->xf, src, col, n, dc->threads);
        else
            cg_xform_fwd(d->xf, src, col, n);
        clamp(col, n, d->xf_min, d->xf_max);
    }
    if (cache_add(dc, key, col, err) < 0) {
        key = NULL;
        goto fail;
    }
    return col;
fail:
    free(key);
    cg_frame_slab_put(dc->fr, col);
    return NULL;
}

/* ---- values of a subset of the events ----------------------------------- */

void cg_dims_set_compact(cg_dims *dc, int on)
{
    if (dc)
        dc->compact = !!on;
}

int cg_dims_compact(const cg_dims *dc) { return dc && dc->compact; }

static int is_plain(const cg_dim *d)
{
    return !d->ratio_num && (!d->xf || is_plain_identity(d));
}

static const double *cached_col(const cg_dims *dc, const char *key)
{
    for (int i = 0; i < dc->nent; i++)
        if (strcmp(dc->ent[i].key, key) == 0)
            return dc->ent[i].col;
    return NULL;
}

int cg_dims_is_column(cg_dims *dc, const cg_dim *d)
{
    if (is_plain(d)) { /* a float-held channel: when read already */
        src_ref sr;
        cg_err e = {0};
        if (base_src(dc, d, d->name, &sr, &e) < 0 || sr.v)
            return 1;
        char key[32];
        snprintf(key, sizeof key, "\001frame:%d", sr.j);
        return cached_col(dc, key) != NULL;
    }
    char *key = make_key(d);
    int r = key && cached_col(dc, key) != NULL;
    free(key);
    return r;
}

int cg_dims_gathers(cg_dims *dc, const cg_bits *parent, const cg_dim *d)
{
    (void)parent; /* every event too: nothing cached whole */
    return dc->compact && !cg_dims_is_column(dc, d);
}

/* src at the events of in (NULL: all), in order, into out. */
static void gather_at(const double *src, const cg_bits *in, int64_t n,
                      double *out)
{
    if (!in) {
        memcpy(out, src, (size_t)n * sizeof *out);
        return;
    }
    int64_t k = 0, nw = cg_bits_words(n);
    for (int64_t w = 0; w < nw; w++) {
        uint64_t m = in->w[w];
        const double *s = src + (w << 6);
        while (m) {
            out[k++] = s[__builtin_ctzll(m)];
            m &= m - 1;
        }
    }
}

/* Room for n doubles (n <= the frame's events): carved from the last
 * gather slab when it has room, else from a new one.  NULL when out of
 * memory. */
static double *gath_room(cg_dims *dc, int64_t n)
{
    size_t need = ((size_t)(n > 0 ? n : 1) * sizeof(double) + 63) &
                  ~(size_t)63;
    size_t slab = cg_frame_slab_size(dc->fr);
    if (dc->ngslab == 0 || need > slab - dc->gused) {
        if (dc->ngslab == dc->capgslab) {
            int cap = dc->capgslab ? 2 * dc->capgslab : 4;
            char **p = realloc(dc->gslab, (size_t)cap * sizeof *p);
            if (!p)
                return NULL;
            dc->gslab = p;
            dc->capgslab = cap;
        }
        char *sl = cg_frame_slab_get(dc->fr);
        if (!sl)
            return NULL;
        dc->gslab[dc->ngslab++] = sl;
        dc->gused = 0;
    }
    double *v = (double *)(void *)(dc->gslab[dc->ngslab - 1] + dc->gused);
    dc->gused += need;
    return v;
}

static int same_set(const gath_ent *e, const cg_bits *in, int64_t count,
                    int64_t n)
{
    if (e->count != count || !e->in != !in)
        return 0;
    return !in || memcmp(e->in, in->w, (size_t)cg_bits_words(n) *
                                           sizeof *in->w) == 0;
}

static int gath_fill(cg_dims *dc, const cg_dim *d, const char *key,
                     const cg_bits *in, int64_t cnt, double *v, cg_err *err);

const double *cg_dims_gathered(cg_dims *dc, const cg_dim *d,
                               const cg_bits *in, int64_t *count,
                               cg_err *err)
{
    int64_t n = dc->n;
    if (in && in->n != n) {
        cg_err_set(err, CG_E_ARG, "subset has %lld events, sample %lld",
                   (long long)in->n, (long long)n);
        return NULL;
    }
    int64_t cnt = in ? cg_bits_count(in) : n;
    *count = cnt;
    if (is_plain(d) && !in) /* the column itself */
        return cg_dims_get(dc, d, err);
    char *key = make_key(d);
    if (!key) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < dc->ngath; i++)
        if (strcmp(dc->gath[i].key, key) == 0 &&
            same_set(&dc->gath[i], in, cnt, n)) {
            free(key);
            return dc->gath[i].v;
        }
    if (dc->ngath == dc->capgath) {
        int cap = dc->capgath ? 2 * dc->capgath : 8;
        gath_ent *p = realloc(dc->gath, (size_t)cap * sizeof *p);
        if (!p) {
            free(key);
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            return NULL;
        }
        dc->gath = p;
        dc->capgath = cap;
    }
    gath_ent e = {key, NULL, cnt, NULL};
    size_t wb = (size_t)cg_bits_words(n) * sizeof(uint64_t);
    if (in && !(e.in = malloc(wb ? wb : 1)))
        goto nomem;
    if (in)
        memcpy(e.in, in->w, wb);
    if (!(e.v = gath_room(dc, cnt)))
        goto nomem;
    /* registered before computing (its memory goes with the others); a
     * failure below unmatches it */
    dc->gath[dc->ngath++] = e;
    if (gath_fill(dc, d, key, in, cnt, e.v, err) < 0) {
        dc->gath[dc->ngath - 1].count = -1;
        return NULL;
    }
    return e.v;
nomem:
    free(e.in);
    free(key);
    cg_err_set(err, CG_E_NOMEM, "out of memory");
    return NULL;
}

/* Compute d's values at the events of in (cnt of them) into v. */
static int gath_fill(cg_dims *dc, const cg_dim *d, const char *key,
                     const cg_bits *in, int64_t cnt, double *v, cg_err *err)
{
    int64_t n = dc->n;
    const double *full = is_plain(d) ? NULL : cached_col(dc, key);
    src_ref a, b;
    if (full) {
        gather_at(full, in, n, v);
        return 0;
    }
    if (is_plain(d)) { /* the channel itself (a float-held one: read) */
        if (base_src(dc, d, d->name, &a, err) < 0)
            return -1;
        src_gather(dc, &a, in, v);
        return 0;
    }
    if (d->ratio_num) {
        if (base_src(dc, d, d->ratio_num, &a, err) < 0 ||
            base_src(dc, d, d->ratio_den, &b, err) < 0)
            return -1;
        double *t = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *t);
        if (!t)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        src_gather(dc, &a, in, v);
        src_gather(dc, &b, in, t);
        cg_fratio(d->ratio_A, d->ratio_B, d->ratio_C, v, t, v, (size_t)cnt);
        free(t);
        clamp(v, (size_t)cnt, d->ratio_min, d->ratio_max);
    } else {
        if (base_src(dc, d, d->name, &a, err) < 0)
            return -1;
        src_gather(dc, &a, in, v);
    }
    if (d->xf) {
        if (dc->threads > 0)
            cg_xform_fwd_threads(d->xf, v, v, (size_t)cnt, dc->threads);
        else
            cg_xform_fwd(d->xf, v, v, (size_t)cnt);
        clamp(v, (size_t)cnt, d->xf_min, d->xf_max);
    }
    return 0;
}

void cg_dims_cache_drop(cg_dims *dc)
{
    if (!dc)
        return;
    cg_dims_gather_drop(dc);
    for (int m = -1; m < dc->nmat; m++) {
        comp_block *b = m < 0 ? &dc->fcs : &dc->mat[m];
        for (int j = 0; b->out && j < b->nout; j++) {
            cg_frame_slab_put(dc->fr, b->out[j]);
            b->out[j] = NULL;
        }
    }
    for (int i = 0; i < dc->nent; i++) {
        free(dc->ent[i].key);
        cg_frame_slab_put(dc->fr, dc->ent[i].col);
    }
    dc->nent = 0;
}

void cg_dims_gather_drop(cg_dims *dc)
{
    if (!dc)
        return;
    for (int i = 0; i < dc->ngath; i++) {
        free(dc->gath[i].key);
        free(dc->gath[i].in);
    }
    dc->ngath = 0;
    for (int i = 0; i < dc->ngslab; i++)
        cg_frame_slab_put(dc->fr, dc->gslab[i]);
    dc->ngslab = 0;
    dc->gused = 0;
}
