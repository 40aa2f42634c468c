/*
 * select.h -- k-th smallest of an array by selection, O(n) expected and
 * O(n log n) at worst; the array is reordered.  Finite values only (a
 * NaN has no place in an order).
 */
#ifndef CG_SELECT_H
#define CG_SELECT_H

#include <stdint.h>

/* Reorder v[0..n) so that v[k] holds the value it would hold if v were
 * sorted, with v[0..k) <= v[k] <= v(k..n).  0 <= k < n. */
void cg_select_k(double *v, int64_t n, int64_t k);

/* cg_select_k, then v[k]. */
double cg_select_kth(double *v, int64_t n, int64_t k);

#endif
