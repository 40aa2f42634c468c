/*
 * gate_ellipse.c -- ellipsoid gates in n >= 2 dimensions.
 *
 * Membership: (x - mu)' C^-1 (x - mu) <= D2, with C used exactly as given
 * (the suite's Ellipsoid3D covariance is not symmetric; the quadratic
 * form only sees C^-1's symmetric part, so no symmetrisation is needed or
 * done).  C^-1 is computed once at construction by Gauss-Jordan
 * elimination with partial pivoting; a (numerically) singular C is
 * rejected.  Evaluation is one quadratic form per parent event, no
 * allocation.  NaN coordinates are outside.
 */
#include "gate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ell_data {
    double *mean; /* n */
    double *cov;  /* n*n as given */
    double *inv;  /* n*n */
    double d2;
} ell_data;

/* Invert the n x n matrix a (row-major) into inv; 0 or -1 if singular. */
static int invert(int n, const double *a, double *inv)
{
    double *m = malloc((size_t)n * (size_t)n * 2 * sizeof *m);
    if (!m)
        return -2;
    int w = 2 * n;
    double scale = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            m[i * w + j] = a[i * n + j];
            m[i * w + n + j] = i == j;
            scale = fmax(scale, fabs(a[i * n + j]));
        }
    int rc = 0;
    for (int c = 0; c < n && rc == 0; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(m[r * w + c]) > fabs(m[piv * w + c]))
                piv = r;
        if (!(fabs(m[piv * w + c]) > 1e-13 * scale)) {
            rc = -1;
            break;
        }
        if (piv != c)
            for (int j = 0; j < w; j++) {
                double t = m[c * w + j];
                m[c * w + j] = m[piv * w + j];
                m[piv * w + j] = t;
            }
        double p = m[c * w + c];
        for (int j = 0; j < w; j++)
            m[c * w + j] /= p;
        for (int r = 0; r < n; r++) {
            if (r == c || m[r * w + c] == 0)
                continue;
            double f = m[r * w + c];
            for (int j = 0; j < w; j++)
                m[r * w + j] -= f * m[c * w + j];
        }
    }
    if (rc == 0)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                inv[i * n + j] = m[i * w + n + j];
    free(m);
    return rc;
}

static inline int in2(const ell_data *e, double x, double y)
{
    double dx = x - e->mean[0], dy = y - e->mean[1];
    const double *q = e->inv;
    double d = dx * (q[0] * dx + q[1] * dy) + dy * (q[2] * dx + q[3] * dy);
    return d <= e->d2; /* NaN: 0 */
}

static inline int in_n(const ell_data *e, int n, const double *const *col,
                       int64_t i)
{
    double d = 0;
    for (int r = 0; r < n; r++) {
        double dr = col[r][i] - e->mean[r], s = 0;
        for (int c = 0; c < n; c++)
            s += e->inv[r * n + c] * (col[c][i] - e->mean[c]);
        d += dr * s;
    }
    return d <= e->d2;
}

static int ell_eval(const cg_gate *g, const cg_eval_in *in,
                    cg_bits *const *out, cg_err *err)
{
    const ell_data *e = g->data;
    if (g->ndim == 2) {
        const double *cx = in->col[0], *cy = in->col[1];
        CG_GATE_SCAN(in, out[0], i, in2(e, cx[i], cy[i]));
    } else {
        int n = g->ndim;
        const double *const *col = in->col;
        CG_GATE_SCAN(in, out[0], i, in_n(e, n, col, i));
    }
    (void)err;
    return 0;
}

static void ell_free(cg_gate *g)
{
    ell_data *e = g->data;
    free(e->mean);
    free(e->cov);
    free(e->inv);
    free(e);
    g->data = NULL;
}

static int ell_set(cg_gate *g, const double *mean, const double *cov,
                   double d2, cg_err *err)
{
    int n = g->ndim;
    ell_data *e = calloc(1, sizeof *e);
    if (!e)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    g->data = e;
    e->d2 = d2;
    e->mean = malloc((size_t)n * sizeof *e->mean);
    e->cov = malloc((size_t)n * (size_t)n * sizeof *e->cov);
    e->inv = malloc((size_t)n * (size_t)n * sizeof *e->inv);
    if (!e->mean || !e->cov || !e->inv)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    memcpy(e->mean, mean, (size_t)n * sizeof *mean);
    memcpy(e->cov, cov, (size_t)n * (size_t)n * sizeof *cov);
    int rc = invert(n, cov, e->inv);
    if (rc == -2)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    if (rc < 0)
        return cg_err_set(err, CG_E_MATH,
                          "ellipsoid gate %s: covariance matrix is singular",
                          g->id);
    return 0;
}

static int ell_copy(cg_gate *dst, const cg_gate *src, cg_err *err)
{
    const ell_data *e = src->data;
    return ell_set(dst, e->mean, e->cov, e->d2, err);
}

const cg_gate_ops cg_gate_ellipse_ops = {ell_eval, ell_copy, ell_free};

cg_gate *cg_gate_ellipse_new(const char *id, int ndim, const cg_dim *dims,
                             const double *mean, const double *cov,
                             double d2, cg_err *err)
{
    if (ndim < 2 || !dims || !mean || !cov) {
        cg_err_set(err, CG_E_ARG, "ellipsoid gate %s: needs >= 2 dimensions, "
                   "a mean and a covariance matrix", id ? id : "?");
        return NULL;
    }
    if (!(d2 > 0) || isinf(d2)) {
        cg_err_set(err, CG_E_ARG, "ellipsoid gate %s: distanceSquare must be "
                   "> 0 and finite (got %g)", id ? id : "?", d2);
        return NULL;
    }
    for (int k = 0; k < ndim * ndim; k++)
        if (!isfinite(cov[k]) || (k < ndim && !isfinite(mean[k]))) {
            cg_err_set(err, CG_E_ARG, "ellipsoid gate %s: non-finite mean or "
                       "covariance", id ? id : "?");
            return NULL;
        }
    cg_gate *g = cg_gate_alloc(CG_GATE_ELLIPSE, &cg_gate_ellipse_ops, id,
                               ndim, dims, 1, NULL, err);
    if (!g)
        return NULL;
    if (ell_set(g, mean, cov, d2, err) < 0) {
        cg_gate_free(g);
        return NULL;
    }
    return g;
}

const double *cg_gate_ellipse_mean(const cg_gate *g)
{
    return g->kind == CG_GATE_ELLIPSE ? ((const ell_data *)g->data)->mean
                                      : NULL;
}

const double *cg_gate_ellipse_cov(const cg_gate *g)
{
    return g->kind == CG_GATE_ELLIPSE ? ((const ell_data *)g->data)->cov
                                      : NULL;
}

double cg_gate_ellipse_d2(const cg_gate *g)
{
    return g->kind == CG_GATE_ELLIPSE ? ((const ell_data *)g->data)->d2
                                      : NAN;
}
