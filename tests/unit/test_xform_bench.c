/*
 * test_xform_bench.c -- speed of the fast logicle path (label "slow"):
 * per value, cg_xform_fwd must be at least 8x faster than a plain
 * per-value Halley solve after the Moore & Parks reference algorithm,
 * measured in the same process on the same 1M values (best of several
 * runs, so load affects both alike).  Prints ns/value for every
 * transform and the compensation time for 1M events x 11 channels.
 * Build with CMAKE_BUILD_TYPE=Release for meaningful numbers.
 */
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
        CHECK(ns > 0);
        printf("%-9s %6.2f ns/value\n", cg_xform_name(k[i]), ns);
    }
    double fast = cg_bench_xform_ns(CG_XF_LOGICLE, NULL, 1000000, 9);
    double ref = cg_bench_logicle_ref_ns(NULL, 1000000, 3);
    printf("logicle: fast %.2f ns/value, reference-style solve %.2f "
           "ns/value, %.1fx\n", fast, ref, ref / fast);
    CHECKM(fast > 0 && ref > 0 && ref / fast >= 8, "logicle only %.1fx "
           "faster than the reference-style solve", ref / fast);
    double ms = cg_bench_comp_ms(1000000, 11, 7);
    printf("compensation 1M events x 11 channels: %.1f ms\n", ms);
    CHECK(ms > 0);
    return TEST_DONE();
}
