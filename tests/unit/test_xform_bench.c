/*
 * test_xform_bench.c -- the transform benchmark functions run and give
 * sane figures (label "slow").  Speed itself is a benchmark figure
 * (`cytogate bench`), never a timed assertion: this test prints ns/value
 * for every transform, the fast-vs-reference logicle ratio and the
 * compensation time, and checks only that each measurement is a positive
 * finite number and that both logicle paths were measured on equal work.
 */
#include <math.h>
#include <stdio.h>

#include "bench_xform.h"
#include "testutil.h"

int main(void)
{
    static const cg_xform_kind k[] = {CG_XF_LINEAR, CG_XF_LOG, CG_XF_ASINH,
                                      CG_XF_ARCSINH, CG_XF_LOGICLE,
                                      CG_XF_HYPERLOG, CG_XF_BIEX};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        double ns = cg_bench_xform_ns(k[i], NULL, 1000000, 5);
        CHECK(ns > 0 && isfinite(ns));
        printf("%-9s %6.2f ns/value\n", cg_xform_name(k[i]), ns);
    }
    /* interleaved rounds, best of each: both see the same load */
    double fast = 1e30, ref = 1e30;
    for (int r = 0; r < 4; r++) {
        double f = cg_bench_xform_ns(CG_XF_LOGICLE, NULL, 1000000, 3);
        double g = cg_bench_logicle_ref_ns(NULL, 1000000, 1);
        fast = f < fast ? f : fast;
        ref = g < ref ? g : ref;
    }
    printf("logicle: fast %.2f ns/value, reference-style solve %.2f "
           "ns/value, %.1fx\n", fast, ref, ref / fast);
    CHECK(fast > 0 && ref > 0 && isfinite(fast) && isfinite(ref));
    double ms = cg_bench_comp_ms(1000000, 11, 7);
    printf("compensation 1M events x 11 channels: %.1f ms\n", ms);
    CHECK(ms > 0);
    return TEST_DONE();
}
