/*
 * bench_xform.h -- micro-benchmark of the forward transforms, for the
 * benchmark program (`cytogate bench`) and the tests.
 *
 * Threading: single-threaded; allocates its own buffers.
 */
#ifndef CG_BENCH_XFORM_H
#define CG_BENCH_XFORM_H

#include <stddef.h>

#include "xform.h"

/* Fill x[0..n) with a deterministic flow-like mix (seeded): 30% a
 * Gaussian around 0 (sd 60, about half negative, like compensated
 * negatives), 70% log-uniform over 10..T. */
void cg_bench_xform_data(double *x, size_t n, double T, unsigned seed);

/* Nanoseconds per value of cg_xform_fwd() (array form, single thread)
 * for the given transform over n values of the mix above, best of reps
 * runs.  p NULL: the usual parameters (T = 262144, W = 0.5, M = 4.5,
 * A = 0; cofactor 150; biex width -10, pos 4.41854, neg 0, max 262144).
 * Returns < 0 when the transform cannot be built or memory runs out. */
double cg_bench_xform_ns(cg_xform_kind kind, const cg_xform_params *p,
                         size_t n, int reps);

/* The same timing for a straightforward per-value logicle solve written
 * after the Moore & Parks 2012 reference algorithm (initial guess, Halley
 * iteration from scratch for every value, 16-term Taylor series near
 * zero): the yardstick the fast path is compared with.  Same data and
 * parameters as cg_bench_xform_ns(CG_XF_LOGICLE, p, ...); p NULL gives
 * T = 262144, W = 0.5, M = 4.5, A = 0.  < 0 on bad parameters. */
double cg_bench_logicle_ref_ns(const cg_xform_params *p, size_t n, int reps);

/* Milliseconds for cg_comp_apply() on n events x nch channels with a
 * random well-conditioned spillover matrix (best of reps).  < 0 on
 * error. */
double cg_bench_comp_ms(long n, int nch, int reps);

#endif
