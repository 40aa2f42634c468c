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

/* The ratio is asserted only in optimised, uninstrumented builds (CMake
 * Release defines NDEBUG); sanitizer and Debug builds just print it. */
#if defined(__SANITIZE_ADDRESS__)
#define CG_INSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define CG_INSTRUMENTED 1
#endif
#endif
#if !defined(NDEBUG) && !defined(CG_INSTRUMENTED)
#define CG_INSTRUMENTED 1
#endif
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
    CHECK(fast > 0 && ref > 0);
#ifndef CG_INSTRUMENTED
    CHECKM(ref / fast >= 8, "logicle only %.1fx faster than the "
           "reference-style solve", ref / fast);
#else
    printf("(instrumented or unoptimised build: speed not asserted)\n");
#endif
    double ms = cg_bench_comp_ms(1000000, 11, 7);
    printf("compensation 1M events x 11 channels: %.1f ms\n", ms);
    CHECK(ms > 0);
    return TEST_DONE();
}
