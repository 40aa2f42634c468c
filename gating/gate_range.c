/*
 * gate_range.c -- rectangle (range) gates in any number of dimensions.
 *
 * Membership: min <= x < max in every dimension (Gating-ML 2.0: the
 * interval is half-open; the compliance suite's Range2 has 60 events at
 * exactly max and all are out).  An open end is -inf/+inf and the test is
 * applied literally, so -inf is inside a lower-open range and +inf is
 * never inside (x < +inf fails), as in the reference implementation: the
 * suite's set_4 ratio quadrants exclude x/0 = +inf from the open upper
 * bin.  NaN values are never inside.  One pass over the parent's events,
 * no allocation; 1-D and 2-D rectangles test dense words 64 events at a
 * time with SSE2 compares (gate_internal.h CG_GATE_SCAN_WORD).
 */
#include "gate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct rect_data {
    double *min, *max; /* ndim each */
} rect_data;

static inline int in_nd(const rect_data *r, const double *const *col, int nd,
                        int64_t i)
{
    for (int d = 0; d < nd; d++) {
        double v = col[d][i];
        if (!(v >= r->min[d]))
            return 0;
        if (!(v < r->max[d]))
            return 0;
    }
    return 1;
}

/* lo <= x < hi for the 64 values at c (bit b: c[b]); NaN is out.  SSE2
 * compares two at a time (the same IEEE comparisons as the scalar form). */
static inline uint64_t word1(const double *c, double lo, double hi)
{
    uint64_t o = 0;
#if defined(__SSE2__)
    __m128d l = _mm_set1_pd(lo), h = _mm_set1_pd(hi);
    for (int b = 0; b < 64; b += 2) {
        __m128d v = _mm_loadu_pd(c + b);
        __m128d k = _mm_and_pd(_mm_cmpge_pd(v, l), _mm_cmplt_pd(v, h));
        o |= (uint64_t)_mm_movemask_pd(k) << b;
    }
#else
    for (int b = 0; b < 64; b++)
        o |= (uint64_t)((c[b] >= lo) & (c[b] < hi)) << b;
#endif
    return o;
}

static inline uint64_t word2(const double *c0, const double *c1, double lo0,
                             double hi0, double lo1, double hi1)
{
    uint64_t o = 0;
#if defined(__SSE2__)
    __m128d l0 = _mm_set1_pd(lo0), h0 = _mm_set1_pd(hi0);
    __m128d l1 = _mm_set1_pd(lo1), h1 = _mm_set1_pd(hi1);
    for (int b = 0; b < 64; b += 2) {
        __m128d v0 = _mm_loadu_pd(c0 + b), v1 = _mm_loadu_pd(c1 + b);
        __m128d k = _mm_and_pd(
            _mm_and_pd(_mm_cmpge_pd(v0, l0), _mm_cmplt_pd(v0, h0)),
            _mm_and_pd(_mm_cmpge_pd(v1, l1), _mm_cmplt_pd(v1, h1)));
        o |= (uint64_t)_mm_movemask_pd(k) << b;
    }
#else
    for (int b = 0; b < 64; b++)
        o |= (uint64_t)((c0[b] >= lo0) & (c0[b] < hi0) & (c1[b] >= lo1) &
                        (c1[b] < hi1))
             << b;
#endif
    return o;
}

static int rect_eval(const cg_gate *g, const cg_eval_in *in,
                     cg_bits *const *out, cg_err *err)
{
    const rect_data *r = g->data;
    int nd = g->ndim;
    const double *const *col = in->col;
    if (nd == 1) {
        const double *c0 = col[0];
        double lo = r->min[0], hi = r->max[0];
        CG_GATE_SCAN_WORD(in, out[0], w, word1(c0 + (w << 6), lo, hi), i,
                          (c0[i] >= lo) & (c0[i] < hi), 8);
        return 0;
    }
    if (nd == 2) {
        const double *c0 = col[0], *c1 = col[1];
        double lo0 = r->min[0], hi0 = r->max[0];
        double lo1 = r->min[1], hi1 = r->max[1];
        CG_GATE_SCAN_WORD(in, out[0], w,
                          word2(c0 + (w << 6), c1 + (w << 6), lo0, hi0, lo1,
                                hi1),
                          i,
                          (c0[i] >= lo0) & (c0[i] < hi0) & (c1[i] >= lo1) &
                              (c1[i] < hi1),
                          8);
        return 0;
    }
    CG_GATE_SCAN(in, out[0], i, in_nd(r, col, nd, i));
    (void)err;
    return 0;
}

static void rect_free(cg_gate *g)
{
    rect_data *r = g->data;
    free(r->min);
    free(r->max);
    free(r);
    g->data = NULL;
}

static int rect_set(cg_gate *g, const double *min, const double *max,
                    cg_err *err)
{
    rect_data *r = calloc(1, sizeof *r);
    if (!r)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    g->data = r;
    r->min = malloc((size_t)g->ndim * sizeof *r->min);
    r->max = malloc((size_t)g->ndim * sizeof *r->max);
    if (!r->min || !r->max)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    memcpy(r->min, min, (size_t)g->ndim * sizeof *min);
    memcpy(r->max, max, (size_t)g->ndim * sizeof *max);
    return 0;
}

static int rect_copy(cg_gate *dst, const cg_gate *src, cg_err *err)
{
    const rect_data *r = src->data;
    return rect_set(dst, r->min, r->max, err);
}

const cg_gate_ops cg_gate_rect_ops = {rect_eval, rect_copy, rect_free};

cg_gate *cg_gate_rect_new(const char *id, int ndim, const cg_dim *dims,
                          const double *min, const double *max, cg_err *err)
{
    if (ndim < 1 || !dims || !min || !max) {
        cg_err_set(err, CG_E_ARG, "rectangle gate %s: needs >= 1 dimension "
                   "with bounds", id ? id : "?");
        return NULL;
    }
    for (int d = 0; d < ndim; d++) {
        if (isnan(min[d]) || isnan(max[d]) || (isinf(min[d]) && min[d] > 0) ||
            (isinf(max[d]) && max[d] < 0) || !(min[d] < max[d])) {
            cg_err_set(err, CG_E_ARG,
                       "rectangle gate %s: dimension %d: need min < max "
                       "(got %g, %g)", id ? id : "?", d + 1, min[d], max[d]);
            return NULL;
        }
    }
    cg_gate *g = cg_gate_alloc(CG_GATE_RECT, &cg_gate_rect_ops, id, ndim,
                               dims, 1, NULL, err);
    if (!g)
        return NULL;
    if (rect_set(g, min, max, err) < 0) {
        cg_gate_free(g);
        return NULL;
    }
    return g;
}

int cg_gate_rect_bounds(const cg_gate *g, int i, double *min, double *max)
{
    if (g->kind != CG_GATE_RECT || i < 0 || i >= g->ndim)
        return -1;
    const rect_data *r = g->data;
    if (min)
        *min = r->min[i];
    if (max)
        *max = r->max[i];
    return 0;
}
