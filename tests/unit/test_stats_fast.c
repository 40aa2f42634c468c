/*
 * test_stats_fast.c -- the fast statistics paths of stats.h against naive
 * references, bit for bit: the radix sort of cg_stat_gather_sorted against
 * a stable comparison sort (ties, -0/+0 order, values equal as floats but
 * not as doubles, long equal runs, NaN/inf), cg_stat_pops against a
 * gather + sort + cg_stat_eval per population (cg_stat_pops_threads the
 * same bits at every thread count), and cg_stat_quantile_sel
 * (heap and quickselect paths) and cg_stat_tails (one pass, in place,
 * with and without a mask) against cg_stat_quantile of sorted data.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "stats.h"
#include "testutil.h"

static uint64_t rng = 12345;
static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

typedef struct pair {
    double v;
    int64_t i;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Reference: stable sort of the finite masked values. */
static int64_t ref_sorted(const double *x, int64_t n, const cg_bits *mask,
                          double *out)
{
    pair *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if ((!mask || cg_bits_get(mask, i)) && isfinite(x[i])) {
            p[m].v = x[i];
            p[m].i = i;
            m++;
        }
    qsort(p, (size_t)m, sizeof *p, cmp_pair);
    for (int64_t k = 0; k < m; k++)
        out[k] = p[k].v;
    free(p);
    return m;
}

static int same_bits(const double *a, const double *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static int same_res(const double *a, const double *b, int n)
{
    for (int k = 0; k < n; k++)
        if (!((isnan(a[k]) && isnan(b[k])) ||
              memcmp(&a[k], &b[k], sizeof a[k]) == 0))
            return 0;
    return 1;
}

/* A column exercising every tie and special case. */
static void make_column(double *x, int64_t n, int kind)
{
    for (int64_t i = 0; i < n; i++) {
        double u = urand();
        switch (kind) {
        case 0: /* compensated-like: negative tail, wide positive range */
            x[i] = u < 0.3 ? -300 * urand() : 50000 * u * u;
            break;
        case 1: /* heavy ties: few distinct values, -0 and +0 mixed */
            x[i] = (double)(int)(u * 7) - 3;
            if (x[i] == 0 && urand() < 0.5)
                x[i] = -0.0;
            break;
        case 2: /* equal as float, distinct as double: long key runs */
            x[i] = 1000.0 + (double)(int)(u * 3) + urand() * 1e-9;
            break;
        default: /* specials and extremes */
            x[i] = u < 0.05   ? NAN
                   : u < 0.08 ? INFINITY
                   : u < 0.10 ? -INFINITY
                   : u < 0.15 ? 1e300 * urand()
                   : u < 0.20 ? -1e-310 * urand()
                   : u < 0.25 ? 0.0
                   : u < 0.30 ? -0.0
                              : (urand() - 0.5) * 1e6;
        }
    }
}

static void sorted_equal(void)
{
    int64_t n = 20000;
    double *x = malloc(n * sizeof *x), *a = malloc(n * sizeof *a),
           *b = malloc(n * sizeof *b);
    cg_bits *mask = cg_bits_new(n);
    REQUIRE(x && a && b && mask);
    for (int64_t i = 0; i < n; i++)
        if (urand() < 0.6)
            cg_bits_set(mask, i);
    for (int kind = 0; kind < 4; kind++) {
        make_column(x, n, kind);
        int64_t ma = cg_stat_gather_sorted(x, n, NULL, a);
        int64_t mb = ref_sorted(x, n, NULL, b);
        CHECK_INT(ma, mb);
        CHECK(same_bits(a, b, mb));
        ma = cg_stat_gather_sorted(x, n, mask, a);
        mb = ref_sorted(x, n, mask, b);
        CHECK_INT(ma, mb);
        CHECK(same_bits(a, b, mb));
    }
    /* -0 before +0 in event order, and +0 before -0: kept as they came */
    double z[] = {1, 0.0, -0.0, -1, 0.0, -0.0, -0.0};
    double oz[7];
    CHECK_INT(cg_stat_gather_sorted(z, 7, NULL, oz), 7);
    CHECK(!signbit(oz[1]) && signbit(oz[2]) && !signbit(oz[3]) &&
          signbit(oz[4]) && signbit(oz[5]));
    CHECK_INT(cg_stat_gather_sorted(z, 0, NULL, oz), 0);
    cg_bits_free(mask);
    free(x);
    free(a);
    free(b);
}

static void pops_equal(void)
{
    const char *names[] = {"median", "mean", "geomean", "sd", "cv", "rcv",
                           "mad", "p0", "p5", "p95", "p100", "p15.87"};
    int ns = 12;
    cg_stat_spec sp[12];
    for (int k = 0; k < ns; k++)
        REQUIRE(cg_stat_parse(names[k], &sp[k]) == 0);
    int64_t n = 30000;
    int np = 5;
    double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v),
           *scr = malloc(n * sizeof *scr);
    double *res = malloc((size_t)np * ns * sizeof *res), ref[12];
    cg_bits *pb[5];
    REQUIRE(x && v && scr && res);
    /* nested populations, an empty one, a single event, and NULL (NA) */
    for (int p = 0; p < np; p++)
        REQUIRE((pb[p] = cg_bits_new(n)) != NULL);
    for (int64_t i = 0; i < n; i++) {
        double u = urand();
        if (u < 0.8) cg_bits_set(pb[0], i);
        if (u < 0.3) cg_bits_set(pb[1], i);
        if (u < 0.001) cg_bits_set(pb[2], i);
    }
    cg_bits_set(pb[4], 17);
    const cg_bits *pops[6] = {pb[0], pb[1], pb[2], pb[3], pb[4], NULL};
    for (int kind = 0; kind < 4; kind++) {
        make_column(x, n, kind);
        cg_err e = {0};
        double *r6 = malloc(6 * (size_t)ns * sizeof *r6);
        REQUIRE(r6 != NULL);
        const double *cols1[1] = {x};
        CHECK(cg_stat_pops(cols1, 1, n, pops, 6, sp, ns, r6, &e) == 0);
        for (int p = 0; p < 5; p++) {
            int64_t m = ref_sorted(x, n, pops[p], v);
            cg_stat_eval(v, m, sp, ns, ref, scr);
            CHECK(same_res(r6 + (size_t)p * ns, ref, ns));
        }
        for (int s = 0; s < ns; s++)
            CHECK(isnan(r6[5 * ns + s]));
        /* pops[3] is empty: all NA; pops[4] one event */
        CHECK(isnan(r6[3 * ns + 0]));
        free(r6);
    }
    /* the median of the nested population, by hand on a small column */
    double sx[] = {5, 1, NAN, 3, 2, 4};
    cg_bits *sb = cg_bits_new(6);
    REQUIRE(sb != NULL);
    for (int i = 0; i < 6; i++)
        if (i != 1)
            cg_bits_set(sb, i);
    const cg_bits *sp1[1] = {sb};
    cg_err e = {0};
    const double *scol[2] = {NULL, sx};
    double res2[24];
    CHECK(cg_stat_pops(scol, 2, 6, sp1, 1, sp, ns, res2, &e) == 0);
    CHECK(isnan(res2[0]) && isnan(res2[1])); /* NULL column: NA */
    memcpy(res, res2 + ns, (size_t)ns * sizeof *res);
    CHECK_NEAR(res[0], 3.5, 0);  /* median of 2 3 4 5 */
    CHECK_NEAR(res[1], 3.5, 0);  /* mean */
    CHECK_NEAR(res[6], 1.4826 * 1, 1e-12); /* |x - 3.5| = .5 .5 1.5 1.5 */
    cg_bits_free(sb);
    for (int p = 0; p < np; p++)
        cg_bits_free(pb[p]);
    free(x);
    free(v);
    free(scr);
    free(res);
}

/* cg_stat_pops_threads: the same bits for 1, 2, 3 and 8 threads, and
 * equal to a gather + sort + cg_stat_eval per population.  Columns of
 * every kind (ties, -0/+0, NaN/inf) and a NULL column; 21 populations (two
 * groups of codes): nested, random, an empty one, one event, a NULL one. */
static void threads_equal(void)
{
    const char *names[] = {"median", "mean", "geomean", "sd", "cv",
                           "rcv",    "mad",  "p5",      "p95"};
    enum { NS = 9, NC = 6, NP = 21 };
    cg_stat_spec sp[NS];
    for (int k = 0; k < NS; k++)
        REQUIRE(cg_stat_parse(names[k], &sp[k]) == 0);
    int64_t n = 20000;
    double *x[NC], *v = malloc(n * sizeof *v), *scr = malloc(n * sizeof *scr);
    size_t nres = (size_t)NC * NP * NS;
    double *r1 = malloc(nres * sizeof *r1), *rt = malloc(nres * sizeof *rt);
    REQUIRE(v && scr && r1 && rt);
    for (int c = 0; c < NC; c++) {
        REQUIRE((x[c] = malloc(n * sizeof *x[c])) != NULL);
        make_column(x[c], n, c % 4);
    }
    cg_bits *pb[NP];
    for (int p = 0; p < NP; p++)
        REQUIRE((pb[p] = cg_bits_new(n)) != NULL);
    for (int64_t i = 0; i < n; i++) {
        if (urand() < 0.7)
            cg_bits_set(pb[0], i);
        for (int p = 1; p < NP - 3; p++)
            if (cg_bits_get(pb[p / 2], i) && urand() < 0.8)
                cg_bits_set(pb[p], i);
    }
    cg_bits_set(pb[NP - 2], 4321); /* one event; pb[NP - 3] stays empty */
    const cg_bits *pops[NP];
    for (int p = 0; p < NP; p++)
        pops[p] = p == NP - 1 ? NULL : pb[p];
    const double *cols[NC];
    for (int c = 0; c < NC; c++)
        cols[c] = c == 4 ? NULL : x[c];
    cg_err e = {0};
    CHECK(cg_stat_pops_threads(cols, NC, n, pops, NP, sp, NS, r1, 1, &e) == 0);
    for (int c = 0; c < NC; c++)
        for (int p = 0; p < NP; p++) {
            double ref[NS], *got = r1 + ((size_t)c * NP + p) * NS;
            if (!cols[c] || !pops[p]) {
                for (int s = 0; s < NS; s++)
                    CHECK(isnan(got[s]));
                continue;
            }
            int64_t m = ref_sorted(x[c], n, pops[p], v);
            cg_stat_eval(v, m, sp, NS, ref, scr);
            CHECK(same_res(got, ref, NS));
        }
    CHECK(isnan(r1[(size_t)(NP - 3) * NS])); /* the empty population */
    CHECK(!isnan(r1[(size_t)(NP - 2) * NS])); /* one event: its median */
    CHECK(!isnan(r1[(size_t)(NP * NS) * 5 + 17 * NS + 1])); /* group 2 */
    int nts[] = {2, 3, 8, 0};
    for (int t = 0; t < 4; t++) {
        for (size_t i = 0; i < nres; i++)
            rt[i] = 12345.0; /* every cell must be written */
        CHECK(cg_stat_pops_threads(cols, NC, n, pops, NP, sp, NS, rt, nts[t],
                                   &e) == 0);
        CHECK(memcmp(r1, rt, nres * sizeof *rt) == 0);
    }
    /* the 1-thread wrapper */
    CHECK(cg_stat_pops(cols, NC, n, pops, NP, sp, NS, rt, &e) == 0);
    CHECK(memcmp(r1, rt, nres * sizeof *rt) == 0);
    /* caller's memory: none of it, part of one workspace, all of them;
     * filled with junk, so a result read from it unwritten would show */
    size_t msz[] = {64, (size_t)n * 20, (size_t)n * 200};
    for (int m = 0; m < 3; m++) {
        unsigned char *mem = malloc(msz[m]);
        REQUIRE(mem);
        memset(mem, 0xA5, msz[m]);
        for (size_t i = 0; i < nres; i++)
            rt[i] = 12345.0;
        CHECK(cg_stat_pops_mem(cols, NC, n, pops, NP, sp, NS, rt, 2, mem,
                               msz[m], &e) == 0);
        CHECK(memcmp(r1, rt, nres * sizeof *rt) == 0);
        free(mem);
    }
    /* the same columns as a frame's channels (read through
     * cg_frame_gather), channel -1 for the missing one */
    cg_frame *fr = cg_frame_new(n);
    REQUIRE(fr);
    int chan[NC];
    for (int c = 0; c < NC; c++) {
        double *col = cg_frame_col_alloc(n);
        REQUIRE(col);
        memcpy(col, x[c], (size_t)n * sizeof *col);
        char nm[8];
        snprintf(nm, sizeof nm, "c%d", c);
        REQUIRE(cg_frame_add(fr, nm, NULL, 0, col, &e) == c);
        chan[c] = c == 4 ? -1 : c;
    }
    for (int t = 1; t <= 2; t++) {
        for (size_t i = 0; i < nres; i++)
            rt[i] = 12345.0;
        CHECK(cg_stat_pops_frame(fr, chan, NC, pops, NP, sp, NS, rt, t, NULL,
                                 0, &e) == 0);
        CHECKM(memcmp(r1, rt, nres * sizeof *rt) == 0, "frame, %d threads",
               t);
    }
    cg_frame_free(fr);
    for (int p = 0; p < NP; p++)
        cg_bits_free(pb[p]);
    for (int c = 0; c < NC; c++)
        free(x[c]);
    free(v);
    free(scr);
    free(r1);
    free(rt);
}

static void select_equal(void)
{
    double ps[] = {0, 0.01, 0.1, 1, 5, 15.87, 25, 50, 75, 84.13, 95, 99,
                   99.9, 99.99, 100};
    int64_t sizes[] = {1, 2, 3, 17, 100, 1000, 50001};
    int64_t nmax = 50001;
    double *x = malloc(nmax * sizeof *x), *s = malloc(nmax * sizeof *s),
           *w = malloc(nmax * sizeof *w);
    REQUIRE(x && s && w);
    for (int kind = 0; kind < 3; kind++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            int64_t m = sizes[si];
            make_column(x, m, kind);
            int64_t k = ref_sorted(x, m, NULL, s);
            for (size_t pi = 0; pi < sizeof ps / sizeof *ps; pi++) {
                int64_t c = 0;
                for (int64_t i = 0; i < m; i++)
                    if (isfinite(x[i]))
                        w[c++] = x[i];
                double q = cg_stat_quantile_sel(w, c, ps[pi]);
                double r = cg_stat_quantile(s, k, ps[pi]);
                CHECK(memcmp(&q, &r, sizeof q) == 0 || (isnan(q) && isnan(r)));
            }
        }
    CHECK(isnan(cg_stat_quantile_sel(w, 0, 50)));
    free(x);
    free(s);
    free(w);
}

/* cg_stat_tails reads the values in place (masked or not) and keeps only
 * the extremes; its quantiles, minimum and maximum must be the sorted
 * data's, bit for bit, at every size (the sides' sizes are set from the
 * count before the non-finite values are known). */
static void tails_equal(void)
{
    double pl[] = {0, 0.01, 0.1, 1, 5, 25};
    int64_t sizes[] = {1, 2, 3, 5, 17, 100, 1000, 4099, 50001};
    int64_t nmax = 50001;
    double *x = malloc(nmax * sizeof *x), *s = malloc(nmax * sizeof *s);
    REQUIRE(x && s);
    for (int kind = 0; kind < 4; kind++) /* 3: NaN, infinities, zeros */
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int mk = 0; mk < 3; mk++) {
                int64_t n = sizes[si];
                make_column(x, n, kind);
                cg_bits *bm = NULL;
                if (mk) { /* half the events, or one in 50 */
                    bm = cg_bits_new(n);
                    REQUIRE(bm);
                    for (int64_t i = 0; i < n; i++)
                        if (urand() < (mk == 1 ? 0.5 : 0.02))
                            cg_bits_set(bm, i);
                }
                int64_t k = ref_sorted(x, n, bm, s);
                for (size_t pi = 0; pi < sizeof pl / sizeof *pl; pi++) {
                    double lo, hi, mn, mx;
                    cg_err e = {0};
                    int64_t m = cg_stat_tails(x, n, bm, pl[pi], 100 - pl[pi],
                                              &lo, &hi, &mn, &mx, &e);
                    CHECK(m == k);
                    if (k == 0) {
                        CHECK(isnan(lo) && isnan(hi) && isnan(mn) && isnan(mx));
                        continue;
                    }
                    double rl = cg_stat_quantile(s, k, pl[pi]);
                    double rh = cg_stat_quantile(s, k, 100 - pl[pi]);
                    CHECK(memcmp(&lo, &rl, sizeof lo) == 0);
                    CHECK(memcmp(&hi, &rh, sizeof hi) == 0);
                    CHECK(mn == s[0] && mx == s[k - 1]);
                }
                cg_bits_free(bm);
            }
    free(x);
    free(s);
}

int main(void)
{
    sorted_equal();
    pops_equal();
    threads_equal();
    select_equal();
    tails_equal();
    return TEST_DONE();
}
