/*
 * stats.c -- the statistics defined in stats.h.
 *
 * Every statistic is computed from the sorted finite values of one
 * population and one marker, so quantiles are exact order statistics with
 * R's type-7 interpolation.  Sums are accumulated in sorted order (a
 * fixed order, so results do not depend on threads).  No globals; the
 * caller owns all memory.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

double cg_stat_quantile(const double *v, int64_t n, double p)
{
    if (n <= 0)
        return NAN;
    if (p <= 0)
        return v[0];
    if (p >= 100)
        return v[n - 1];
    double h = (double)(n - 1) * p / 100.0;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    double f = h - (double)lo;
    return v[lo] + f * (v[lo + 1] - v[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int64_t cg_stat_gather_sorted(const double *x, int64_t n, const cg_bits *mask,
                              double *out)
{
    int64_t m = 0;
    if (mask) {
        for (int64_t w = 0; w < cg_bits_words(n); w++) {
            uint64_t bits = mask->w[w];
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                double v = x[(w << 6) + b];
                if (isfinite(v))
                    out[m++] = v;
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i]))
                out[m++] = x[i];
    }
    qsort(out, (size_t)m, sizeof *out, cmp_double);
    return m;
}

void cg_stat_eval(const double *v, int64_t m, const cg_stat_spec *spec,
                  int nspec, double *res, double *scratch)
{
    double mean = NAN, sd = NAN, med = NAN, gm = NAN, mad = NAN;
    if (m > 0) {
        double s = 0;
        for (int64_t i = 0; i < m; i++)
            s += v[i];
        mean = s / (double)m;
        if (m > 1) {
            double ss = 0;
            for (int64_t i = 0; i < m; i++)
                ss += (v[i] - mean) * (v[i] - mean);
            sd = sqrt(ss / (double)(m - 1));
        }
        med = cg_stat_quantile(v, m, 50);
        double ls = 0;
        int64_t np = 0;
        for (int64_t i = 0; i < m; i++)
            if (v[i] > 0) {
                ls += log(v[i]);
                np++;
            }
        if (np)
            gm = exp(ls / (double)np);
    }
    int need_mad = 0;
    for (int k = 0; k < nspec; k++)
        need_mad |= spec[k].kind == CG_ST_MAD;
    if (need_mad && m > 0 && scratch) {
        for (int64_t i = 0; i < m; i++)
            scratch[i] = fabs(v[i] - med);
        qsort(scratch, (size_t)m, sizeof *scratch, cmp_double);
        mad = 1.4826 * cg_stat_quantile(scratch, m, 50);
    }
    for (int k = 0; k < nspec; k++) {
        double r = NAN;
        switch (spec[k].kind) {
        case CG_ST_MEDIAN: r = med; break;
        case CG_ST_MEAN: r = mean; break;
        case CG_ST_GEOMEAN: r = gm; break;
        case CG_ST_SD: r = sd; break;
        case CG_ST_CV: r = (mean > 0 && !isnan(sd)) ? 100 * sd / mean : NAN; break;
        case CG_ST_RCV:
            r = (m > 0 && med > 0)
                    ? 100 * 0.5 * (cg_stat_quantile(v, m, 84.13) -
                                   cg_stat_quantile(v, m, 15.87)) / med
                    : NAN;
            break;
        case CG_ST_MAD: r = mad; break;
        case CG_ST_PCTL: r = cg_stat_quantile(v, m, spec[k].p); break;
        }
        res[k] = isfinite(r) ? r : NAN;
    }
}

double cg_stat_pct(int64_t num, int64_t den)
{
    if (den <= 0)
        return NAN;
    return 100.0 * (double)num / (double)den;
}
