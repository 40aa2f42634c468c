/*
 * test_stats.c -- the statistics of stats.h against hand-computed values
 * and R's conventions (type-7 quantiles), NA rules, masks.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "stats.h"
#include "testutil.h"

static void quantiles(void)
{
    double v[] = {1, 2, 3, 4, 10};
    /* R: quantile(c(1,2,3,4,10), c(0, .1, .5, .9, 1)) = 1 1.4 3 7.6 10 */
    CHECK_NEAR(cg_stat_quantile(v, 5, 0), 1, 1e-12);
    CHECK_NEAR(cg_stat_quantile(v, 5, 10), 1.4, 1e-12);
    CHECK_NEAR(cg_stat_quantile(v, 5, 50), 3, 1e-12);
    CHECK_NEAR(cg_stat_quantile(v, 5, 90), 7.6, 1e-12);
    CHECK_NEAR(cg_stat_quantile(v, 5, 100), 10, 1e-12);
    CHECK(isnan(cg_stat_quantile(v, 0, 50)));
    double one[] = {4};
    CHECK_NEAR(cg_stat_quantile(one, 1, 37), 4, 0);
}

static void eval_all(void)
{
    const char *names[] = {"median", "mean", "geomean", "sd", "cv", "rcv",
                           "mad", "p25", "p15.87"};
    cg_stat_spec sp[9];
    for (int k = 0; k < 9; k++)
        REQUIRE(cg_stat_parse(names[k], &sp[k]) == 0);
    cg_stat_spec bad;
    CHECK(cg_stat_parse("p-1", &bad) < 0);
    CHECK(cg_stat_parse("median2", &bad) < 0);
    CHECK(cg_stat_parse("p100.5", &bad) < 0);

    double x[] = {4, NAN, -2, 8, 2, INFINITY, 16};
    double v[7], scratch[7], r[9];
    int64_t m = cg_stat_gather_sorted(x, 7, NULL, v);
    CHECK_INT(m, 5); /* NaN and inf left out */
    CHECK_NEAR(v[0], -2, 0);
    cg_stat_eval(v, m, sp, 9, r, scratch);
    CHECK_NEAR(r[0], 4, 1e-12);                 /* median */
    CHECK_NEAR(r[1], 28.0 / 5, 1e-12);           /* mean */
    CHECK_NEAR(r[2], 5.656854249492381, 1e-12); /* geomean of 2,4,8,16 */
    double mean = 5.6, ss = 0;
    double vals[] = {-2, 2, 4, 8, 16};
    for (int k = 0; k < 5; k++)
        ss += (vals[k] - mean) * (vals[k] - mean);
    double sd = sqrt(ss / 4);
    CHECK_NEAR(r[3], sd, 1e-12);
    CHECK_NEAR(r[4], 100 * sd / mean, 1e-9);
    double q84 = cg_stat_quantile(v, 5, 84.13), q16 = cg_stat_quantile(v, 5, 15.87);
    CHECK_NEAR(r[5], 100 * 0.5 * (q84 - q16) / 4, 1e-9);
    CHECK_NEAR(r[6], 1.4826 * 4, 1e-12);         /* |x-4| = 6,2,0,4,12 -> 4 */
    CHECK_NEAR(r[7], 2, 1e-12);
    CHECK_NEAR(r[8], q16, 0);

    /* NA rules */
    double neg[] = {-5, -1};
    cg_stat_eval(neg, 2, sp, 9, r, scratch);
    CHECK(isnan(r[2])); /* no positive value */
    CHECK(isnan(r[4])); /* mean <= 0 */
    CHECK(isnan(r[5])); /* median <= 0 */
    cg_stat_eval(neg, 1, sp, 9, r, scratch);
    CHECK(isnan(r[3])); /* n < 2 */
    cg_stat_eval(neg, 0, sp, 9, r, scratch);
    for (int k = 0; k < 9; k++)
        CHECK(isnan(r[k]));
    CHECK(isnan(cg_stat_pct(3, 0)));
    CHECK_NEAR(cg_stat_pct(1, 8), 12.5, 0);
}

static void normal_rcv(void)
{
    /* rcv equals cv for normal data (large n) */
    int n = 200000;
    double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v);
    REQUIRE(x && v);
    uint64_t s = 42;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u1 = ((s >> 11) + 0.5) / 9007199254740992.0;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u2 = ((s >> 11) + 0.5) / 9007199254740992.0;
        x[i] = 1000 + 100 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
    }
    cg_bits *mask = cg_bits_new(n);
    REQUIRE(mask != NULL);
    for (int i = 0; i < n; i += 2)
        cg_bits_set(mask, i);
    cg_stat_spec sp[2];
    cg_stat_parse("cv", &sp[0]);
    cg_stat_parse("rcv", &sp[1]);
    int64_t m = cg_stat_gather_sorted(x, n, mask, v);
    CHECK_INT(m, n / 2);
    double r[2];
    cg_stat_eval(v, m, sp, 2, r, NULL);
    CHECK_NEAR(r[0], 10, 0.1);
    CHECK_NEAR(r[1], 10, 0.15);
    cg_bits_free(mask);
    free(x);
    free(v);
}

int main(void)
{
    quantiles();
    eval_all();
    normal_rcv();
    return TEST_DONE();
}
