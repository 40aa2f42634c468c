/*
 * stats.h -- population and marker statistics of `cytogate run`.
 *
 * Population statistics (counts are events after every gate up the tree):
 *   count        events in the population
 *   pct_parent   100 * count / count(parent)       (parent = all events for
 *                a root gate)
 *   pct_total    100 * count / events in the file (after any QC exclusion)
 *   pct_of_<P>   100 * count / count(P), P a named ancestor (or any gate:
 *                the ratio is reported as is)
 *   A denominator of 0 gives NA (reason "denominator 0"), never inf/NaN.
 *
 * Marker statistics, over the population's events with a finite value
 * (x_1..x_n sorted ascending; n = 0 gives NA for all):
 *   median   = Q(50)
 *   pN       = Q(N), N in [0, 100]; Q(p) is the linearly interpolated
 *              quantile of R's default (type 7): h = (n-1)*p/100,
 *              Q = x_floor(h) + (h - floor(h)) * (x_floor(h)+1 - x_floor(h))
 *   mean     = sum x_i / n
 *   sd       = sqrt(sum (x_i - mean)^2 / (n - 1))      (NA when n < 2)
 *   cv       = 100 * sd / mean                         (NA when mean <= 0)
 *   rcv      = 100 * 0.5 * (Q(84.13) - Q(15.87)) / median (robust CV;
 *              NA when median <= 0); for a normal sample it equals cv
 *   mad      = 1.4826 * median(|x_i - median|)  (scaled median absolute
 *              deviation, consistent with sd for normal data)
 *   geomean  = exp(mean of ln x_i over the x_i > 0); events <= 0 are
 *              left out (NA when none is > 0)
 * Values are in the units the caller passes (the pipeline uses
 * compensated, untransformed values unless `stats: scale: transformed`).
 *
 * Speed: cg_stat_pops sorts a marker column once (radix sort) and walks
 * that order per population, so a population costs O(n) and no sort.
 *
 * Threading: pure functions on caller data; scratch memory is either the
 * caller's or allocated per call.  cg_stat_pops_threads runs its own
 * threads (marker columns dealt to them); the results do not depend on
 * their number.
 */
#ifndef CG_STATS_H
#define CG_STATS_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"
#include "config.h"
#include "frame.h"

/* Q(p) of sorted x[0..n), p in [0, 100]; NaN when n == 0. */
double cg_stat_quantile(const double *sorted, int64_t n, double p);

/* Q(p) of the m values v[0..m) in any order, by selection (equal to
 * cg_stat_quantile of the sorted values); reorders v.  NaN when m == 0. */
double cg_stat_quantile_sel(double *v, int64_t m, double p);

/* Q(plo) and Q(phi) (as cg_stat_quantile_sel gives them) of the finite
 * x[i] with mask bit set (mask NULL: all), read in place: two heaps of
 * the values beyond each, so the memory is that share of the values
 * (meant for tails: plo near 0, phi near 100).  Also their minimum and
 * maximum.  Returns how many values (0: *qlo, *qhi NaN), or < 0 with err
 * (out of memory). */
int64_t cg_stat_tails(const double *x, int64_t n, const cg_bits *mask,
                      double plo, double phi, double *qlo, double *qhi,
                      double *mn, double *mx, cg_err *err);

/* Gather the finite x[i] with mask bit set (mask NULL: all) into out
 * (room for n) and return how many; out is then sorted ascending (a
 * stable sort: equal values, -0 and +0 included, keep event order). */
int64_t cg_stat_gather_sorted(const double *x, int64_t n, const cg_bits *mask,
                              double *out);

/* Evaluate nspec statistics of the sorted finite values v[0..m) into
 * res[nspec] (NaN = NA).  scratch needs room for m doubles (mad). */
void cg_stat_eval(const double *v, int64_t m, const cg_stat_spec *spec,
                  int nspec, double *res, double *scratch);

/* The nspec statistics of ncol columns cols[c][0..n) for each of npop
 * populations: res[(c * npop + p) * nspec + s] (NaN = NA) over the
 * finite cols[c][i] with bit i set in pops[p]; a NULL pops[p] or cols[c]
 * gives NA.  Equal, bit for bit, to cg_stat_gather_sorted + cg_stat_eval
 * per population.  One workspace (30 bytes per event in some
 * population, 38 with mad) serves every column, plus 2 bytes
 * per such event for every 16 populations.  0, or < 0 with err when memory
 * is short. */
int cg_stat_pops(const double *const *cols, int ncol, int64_t n,
                 const cg_bits *const *pops, int npop,
                 const cg_stat_spec *spec, int nspec, double *res,
                 cg_err *err);

/* cg_stat_pops on nthreads threads (< 1: 1; the caller is one of them):
 * the columns are dealt to the threads, each column's cells written by
 * one thread, so res is the same, bit for bit, for every nthreads.  Each
 * thread has a workspace of its own (as cg_stat_pops's; more threads
 * than non-NULL columns are not started); a thread that cannot be started
 * leaves its columns to the others.  0, or < 0 with err when memory is
 * short. */
int cg_stat_pops_threads(const double *const *cols, int ncol, int64_t n,
                         const cg_bits *const *pops, int npop,
                         const cg_stat_spec *spec, int nspec, double *res,
                         int nthreads, cg_err *err);

/* As cg_stat_pops_threads, with mem (mem_size bytes, borrowed, may be
 * NULL) carved into the threads' workspaces before any is allocated: a
 * caller holding memory it no longer needs (cytogate run: the freed
 * transformed columns' pool) saves faulting in fresh pages.  Results do
 * not depend on it. */
int cg_stat_pops_mem(const double *const *cols, int ncol, int64_t n,
                     const cg_bits *const *pops, int npop,
                     const cg_stat_spec *spec, int nspec, double *res,
                     int nthreads, void *mem, size_t mem_size, cg_err *err);

/* cg_stat_pops_mem over channels chan[0..ncol) of fr (chan[c] < 0: NA),
 * read through cg_frame_gather: a float-held frame (frame.h) is read for
 * the populations' events only, never as whole double columns.  Equal,
 * bit for bit, to cg_stat_pops_mem on the frame's double columns. */
int cg_stat_pops_frame(const cg_frame *fr, const int *chan, int ncol,
                       const cg_bits *const *pops, int npop,
                       const cg_stat_spec *spec, int nspec, double *res,
                       int nthreads, void *mem, size_t mem_size, cg_err *err);

/* 100 * num / den, NaN when den == 0. */
double cg_stat_pct(int64_t num, int64_t den);

#endif
