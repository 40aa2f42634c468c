/*
 * testutil.h -- tiny assertion helpers for the C test programs.
 *
 * CHECK* macros record a failure with file:line and go on; the program
 * ends with TEST_DONE(), which prints "N passed, M failed" and returns
 * non-zero when anything failed.  REQUIRE* stop the program at once.
 */
#ifndef CG_TESTUTIL_H
#define CG_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_pass_, tu_fail_;

#define TU_FAIL_(...)                                                        \
    do {                                                                     \
        tu_fail_++;                                                          \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
    } while (0)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) tu_pass_++;                                                \
        else TU_FAIL_("%s", #cond);                                          \
    } while (0)

#define CHECKM(cond, ...)                                                    \
    do {                                                                     \
        if (cond) tu_pass_++;                                                \
        else TU_FAIL_(__VA_ARGS__);                                          \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ == b_) tu_pass_++;                                            \
        else TU_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);             \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (a_ && b_ && strcmp(a_, b_) == 0) tu_pass_++;                     \
        else TU_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b,                  \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
    } while (0)

/* |a-b| <= tol (absolute). */
#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double a_ = (a), b_ = (b);                                           \
        if (fabs(a_ - b_) <= (tol)) tu_pass_++;                              \
        else TU_FAIL_("%s ~ %s: %.17g vs %.17g (tol %g)", #a, #b, a_, b_,    \
                      (double)(tol));                                        \
    } while (0)

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            TU_FAIL_("required: %s", #cond);                                 \
            fprintf(stderr, "%d passed, %d failed\n", tu_pass_, tu_fail_);   \
            exit(1);                                                         \
        }                                                                    \
        tu_pass_++;                                                          \
    } while (0)

#define TEST_DONE()                                                          \
    (printf("%d passed, %d failed\n", tu_pass_, tu_fail_),                   \
     (tu_fail_ || !tu_pass_) ? 1 : 0)

#endif
