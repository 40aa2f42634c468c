/*
 * xform.h -- scale transforms and their inverses: linear, log, arcsinh
 * (cofactor), Gating-ML fasinh, logicle, hyperlog, FlowJo biexponential,
 * Gating-ML flin/flog, and fratio (a two-channel transform, see below).
 *
 * A cg_xform holds the parameters and every constant derived from them, so
 * applying it does no setup work.  Creation validates the parameters and
 * returns NULL with err filled when they are out of the documented domain.
 *
 * Accuracy: logicle, hyperlog and biex are solved to within 3 ulp of a
 * careful iterative solve (fast table + one Halley step, ~12 ns/value);
 * a value whose solve does not converge gives NaN, never a wrong number
 * (cg_xform_fwd_checked() counts and reports them).
 *
 * Threading: a cg_xform is immutable after creation; share it freely.
 * Ownership: constructors return owned objects; cg_xform_free() (NULL ok).
 */
#ifndef CG_XFORM_H
#define CG_XFORM_H

#include <stddef.h>

#include "cgerr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_xform_kind {
    CG_XF_LINEAR,   /* Gating-ML flin: (x + A) / (T + A) */
    CG_XF_IDENTITY, /* y = x (the "linear" display scale) */
    CG_XF_LOG,      /* Gating-ML flog: (1/M) log10(x/T) + 1; -inf at 0,
                       NaN for x < 0 (as FlowUtils) */
    CG_XF_ASINH,    /* Gating-ML fasinh (T, M, A) */
    CG_XF_ARCSINH,  /* asinh(x / cofactor) */
    CG_XF_LOGICLE,  /* Gating-ML logicle (T, W, M, A), output 0..1 at T */
    CG_XF_HYPERLOG, /* Gating-ML hyperlog (T, W, M, A) */
    CG_XF_BIEX      /* FlowJo biexponential (width, pos, neg, max), on
                       FlowJo's channel scale 0..4096 (clamped) */
} cg_xform_kind;

typedef struct cg_xform cg_xform; /* opaque, immutable */

typedef struct cg_xform_params {
    double T, W, M, A;     /* Gating-ML parameters */
    double cofactor;       /* arcsinh */
    double width, pos, neg, max; /* FlowJo biex */
    double bound_min, bound_max; /* Gating-ML boundMin/boundMax clamp;
                                    both 0 = none */
} cg_xform_params;

cg_xform *cg_xform_new(cg_xform_kind kind, const cg_xform_params *p,
                       cg_err *err);
void cg_xform_free(cg_xform *xf);

cg_xform_kind cg_xform_kind_of(const cg_xform *xf);
const cg_xform_params *cg_xform_params_of(const cg_xform *xf);
/* Short name: "linear", "log", "asinh", "arcsinh", "logicle", ... */
const char *cg_xform_name(cg_xform_kind kind);

/* Forward and inverse on one value. */
double cg_xform_fwd1(const cg_xform *xf, double x);
double cg_xform_inv1(const cg_xform *xf, double y);

/* Forward/inverse over n values; in and out may be the same array. */
void cg_xform_fwd(const cg_xform *xf, const double *in, double *out,
                  size_t n);
void cg_xform_inv(const cg_xform *xf, const double *in, double *out,
                  size_t n);

/* cg_xform_fwd on up to nthreads threads (the caller's one included; <= 1:
 * this thread only), each a contiguous part of at least 16K values, joined
 * before returning.  Results are bit-identical for every nthreads and
 * equal cg_xform_fwd's, which uses 2 threads from 512K values on and 1
 * below.  in and out may be the same array (not otherwise overlapping). */
void cg_xform_fwd_threads(const cg_xform *xf, const double *in, double *out,
                          size_t n, int nthreads);

/* Forward over n values, reporting values with no result: returns the
 * number of non-NaN inputs that gave NaN (a solve that did not converge;
 * for log, x < 0 is the documented NaN and is not counted), with err
 * naming the first.  0 when all converged. */
size_t cg_xform_fwd_checked(const cg_xform *xf, const double *in,
                            double *out, size_t n, cg_err *err);

/* Gating-ML fratio: A * (p1 - B) / (p2 - C), elementwise. */
void cg_fratio(double A, double B, double C, const double *p1,
               const double *p2, double *out, size_t n);

/* Logicle W from data (flowCore's rule): r = 5th percentile of the
 * negative values; W = (M - log10(T/|r|)) / 2; 0 when there are no
 * negatives.  Returns < 0 with err when the estimate is invalid. */
int cg_logicle_estimate_w(const double *x, size_t n, double T, double M,
                          double *w_out, cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
