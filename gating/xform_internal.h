/*
 * xform_internal.h -- private layout of cg_xform and the shared
 * "biexponential core" used by logicle, hyperlog and FlowJo biex.
 *
 * All three families are, after shifting the output so that data zero sits
 * at delta = 0 and reflecting negatives, the root delta >= 0 of
 *
 *     B(delta) = A1*expm1(b*delta) - C1*expm1(-d*delta) + L*delta = x
 *
 * (logicle and biex: L = 0; hyperlog: C1 = 0).  Written with expm1 the two
 * terms never cancel for delta >= 0, so no Taylor series is needed near
 * zero.  The output is center + sign(x) * delta * out_scale.
 *
 * Not a public header: only gating/xform*.c include it.
 */
#ifndef CG_XFORM_INTERNAL_H
#define CG_XFORM_INTERNAL_H

#include <stdint.h>

#include "xform.h"

typedef struct cg_bx_core {
    double A1, b, C1, d, L;
} cg_bx_core;

/* Fast forward table over |x| in [2^e_lo, 2^(e_lo + nb/CG_BX_SUB)): one
 * 64-byte row per bucket (CG_BX_SUB buckets per octave, indexed by the top
 * mantissa bits).  Row: c0..c3 (cubic in s = t - 1/2, t the bucket
 * fraction, giving an initial delta; c0 = dm, delta at the middle),
 * A1 expm1(b dm), A1 e^{b dm}, C1 expm1(-d dm), C1 e^{-d dm}.  c0 = NaN
 * marks a bucket that failed validation when built (it then takes the
 * careful solve). */
#define CG_BX_SUBBITS 4
#define CG_BX_SUB (1 << CG_BX_SUBBITS)
#define CG_BX_OCTAVES 44

typedef struct cg_bx_fast {
    double *tab;   /* nb * 8 doubles, owned */
    int nb;
    uint64_t base; /* bits >> (52 - CG_BX_SUBBITS) of the first bucket */
} cg_bx_fast;

struct cg_xform {
    cg_xform_kind kind;
    cg_xform_params p;
    int clamp;          /* bound_min/bound_max given */
    /* biexponential families */
    cg_bx_core core;
    double center;      /* output for x = 0 */
    double out_lo, out_hi; /* biex: output clamp to the channel range */
    int out_clamp;
    cg_bx_fast fast;
    /* closed-form families: up to 4 derived constants */
    double k[4];
};

/* B(delta), B'(delta), B''(delta) for delta >= 0. */
void cg_bx_eval(const cg_bx_core *c, double delta, double *B, double *d1,
                double *d2);
/* Careful safeguarded Halley solve of B(delta) = x for x > 0 (finite).
 * Returns delta, or NaN when it does not converge (never silently). */
double cg_bx_solve(const cg_bx_core *c, double x);
/* Build / free the fast table over [T*2^-32, T*2^12) (T the scale top). */
int cg_bx_fast_build(cg_bx_fast *f, const cg_bx_core *c, double T,
                     cg_err *err);
void cg_bx_fast_free(cg_bx_fast *f);
/* delta for |x| (x any double); NaN for NaN, +inf for inf. */
double cg_bx_delta(const cg_bx_core *c, const cg_bx_fast *f, double ax);

/* Family constructors: fill xf (kind and p already set).  0 or < 0. */
int cg_xf_init_linear(cg_xform *xf, cg_err *err);
int cg_xf_init_log(cg_xform *xf, cg_err *err);
int cg_xf_init_asinh(cg_xform *xf, cg_err *err);
int cg_xf_init_arcsinh(cg_xform *xf, cg_err *err);
int cg_xf_init_logicle(cg_xform *xf, cg_err *err);
int cg_xf_init_hyperlog(cg_xform *xf, cg_err *err);
int cg_xf_init_biex(cg_xform *xf, cg_err *err);

/* Closed-form families, one value. */
double cg_xf_linear_fwd(const cg_xform *xf, double x);
double cg_xf_linear_inv(const cg_xform *xf, double y);
double cg_xf_log_fwd(const cg_xform *xf, double x);
double cg_xf_log_inv(const cg_xform *xf, double y);
double cg_xf_asinh_fwd(const cg_xform *xf, double x);
double cg_xf_asinh_inv(const cg_xform *xf, double y);
double cg_xf_arcsinh_fwd(const cg_xform *xf, double x);
double cg_xf_arcsinh_inv(const cg_xform *xf, double y);

/* Solve 2*(ln d - ln b) + w*(b + d) = 0 for d in (0, b] (d = b if w = 0).
 * Used by logicle and biex.  NaN if it fails. */
double cg_xf_solve_d(double b, double w);

#endif
