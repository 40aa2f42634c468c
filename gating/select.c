/*
 * select.c -- the k-th smallest value by selection (see select.h): the
 * one quickselect that density estimates, statistics and QC share.
 *
 * Hoare partitions around a median of three; after 2 log2(n) + 8 rounds
 * the remaining range is sorted with qsort, which bounds the worst case.
 * The value at k is the k-th order statistic whatever the path, so
 * results never depend on the input's order.  No state; any thread.
 */
#include "select.h"

#include <stdlib.h>

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reorder v[0..n) so that v[k] holds the value it would hold if v were
 * sorted, with v[0..k) <= v[k] <= v[k+1..n) (Hoare partitions around a
 * median of three; after 2 log2(n) + 8 rounds the rest is sorted, which
 * bounds the worst case).  Finite values only. */
void cg_select_k(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    int budget = 8;
    for (int64_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi > lo) {
        if (budget-- == 0) {
            qsort(v + lo, (size_t)(hi - lo + 1), sizeof *v, cmp_dbl);
            return;
        }
        double t;
        if (hi - lo == 1) { /* two left (the median of three needs 3) */
            if (v[hi] < v[lo]) {
                t = v[lo];
                v[lo] = v[hi];
                v[hi] = t;
            }
            return;
        }
        int64_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        if (b < a) {
            t = a;
            a = b;
            b = t;
        }
        if (c < b) {
            t = b;
            b = c;
            c = t;
        }
        if (b < a) {
            t = a;
            a = b;
            b = t;
        }
        v[lo] = a;
        v[mid] = b;
        v[hi] = c;
        double pivot = b;
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* v[j+1..i) all equal the pivot, k among them */
    }
}

double cg_select_kth(double *v, int64_t n, int64_t k)
{
    cg_select_k(v, n, k);
    return v[k];
}
