/*
 * test_autogate.c -- each auto gate's rule and fallback on data whose
 * answer is known analytically.
 *
 * valley: a 70/30 mixture of N(0,1) and N(5,1): the cut is the mixture's
 *   density minimum (found by a fine scan) within 0.15; a search range
 *   that excludes the valley falls back, flagged, clamped into the range;
 *   unimodal data fall back to the documented 1% walk-down point.
 * tail: N(0,1), fraction 1e-3: the cut is where the smoothed density
 *   N(0, 1 + h^2) falls to 1e-3 of its peak, within 0.1; the spread rule
 *   (4 robust SDs); with three populations the deepest valley; on a
 *   skewed negative the edge (2 % of the peak), not on a flat top.
 * quantile: R type 7 on 1..101.
 * singlets: ratio mode within 1% and exact membership of a clean band.
 * scatter: a Gaussian blob: the level-0.05 contour holds ~95% of it and
 *   none of a distant second blob; the polygon is CCW and holds the mode.
 * Too few events: NaN and flagged.  Everything deterministic.
 * Threshold membership (word at a time) against a per-event loop, with a
 * parent mask, NaN values and a partial last word.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autogate.h"
#include "testutil.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

#define N 20000

/* cg_threshold_apply against the per-event definition. */
static void check_threshold_apply(void)
{
    enum { M = 1000 }; /* 15 full words and a partial one */
    double *x = malloc(M * sizeof *x);
    REQUIRE(x);
    cg_bits *par = cg_bits_new(M), *out = cg_bits_new(M);
    for (int i = 0; i < M; i++) {
        x[i] = i % 37 == 0 ? NAN : floor(gauss() * 8) / 8;
        if (i % 3 != 0 && (i < 128 || i >= 192)) /* word 2: empty */
            cg_bits_set(par, i);
    }
    cg_err err = {0};
    for (int k = 0; k < 4; k++) {
        int above = k & 1;
        const cg_bits *pp = k & 2 ? par : NULL;
        double t = 0.25;
        REQUIRE(cg_threshold_apply(t, above, x, M, pp, out, &err) == 0);
        int bad = 0;
        int64_t cnt = 0;
        for (int i = 0; i < M; i++) {
            int want = (!pp || cg_bits_get(pp, i)) &&
                       (above ? x[i] >= t : x[i] < t);
            bad += cg_bits_get(out, i) != want;
            cnt += want;
        }
        CHECKM(bad == 0, "threshold_apply case %d: %d wrong", k, bad);
        CHECK_INT(cg_bits_count(out), cnt);
        CHECK(cnt > 100);
    }
    cg_bits_free(par);
    cg_bits_free(out);
    free(x);
}

int main(void)
{
    static double x[N], y[N];
    cg_err err;
    cg_autogate_opts o;
    cg_threshold_result r, r2;

    /* ---- valley ---- */
    for (int i = 0; i < N; i++)
        x[i] = (i % 10 < 7) ? gauss() : 5 + gauss();
    double best = 0, bestd = 1e9;
    for (double t = 0.5; t < 4.5; t += 1e-4) {
        double d = 0.7 * exp(-0.5 * t * t) + 0.3 * exp(-0.5 * (t - 5) * (t - 5));
        if (d < bestd) {
            bestd = d;
            best = t;
        }
    }
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r, &err) == 0);
    printf("valley: cut %.4f (analytic %.4f) peaks %.3f %.3f depth %.3f\n",
           r.threshold, best, r.peak[0], r.peak[1], r.depth);
    CHECK_NEAR(r.threshold, best, 0.15);
    CHECK_INT(r.fell_back, 0);
    CHECK_INT(r.npeaks, 2);
    CHECK_NEAR(r.peak[0], 0, 0.3);
    CHECK_NEAR(r.peak[1], 5, 0.3);
    CHECK(r.depth > 0 && r.depth < 0.3);
    CHECK_INT(r.n, N);
    /* deterministic */
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r2, &err) == 0);
    CHECK(memcmp(&r, &r2, sizeof r) == 0);
    /* search range containing the valley: same cut */
    o.lo = 1;
    o.hi = 4;
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r2, &err) == 0);
    CHECK_NEAR(r2.threshold, r.threshold, 1e-12);
    /* range excluding the valley: fall back, clamped into the range */
    o.lo = 4.5;
    o.hi = 6;
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r2, &err) == 0);
    CHECK_INT(r2.fell_back, 1);
    CHECK(strstr(r2.reason, "search range") != NULL);
    CHECK(r2.threshold >= 4.5 && r2.threshold <= 6);
    /* a mask selecting only the first population: one peak -> fallback */
    cg_bits *mask = cg_bits_new(N);
    for (int i = 0; i < N; i++)
        if (i % 10 < 7)
            cg_bits_set(mask, i);
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_valley(x, N, mask, &o, &r2, &err) == 0);
    printf("valley one peak: cut %.4f reason: %s\n", r2.threshold, r2.reason);
    CHECK_INT(r2.fell_back, 1);
    CHECK_INT(r2.npeaks, 1);
    CHECK(strstr(r2.reason, "one peak") != NULL);
    CHECK(strcmp(r2.rule, "one peak: above") == 0);
    /* the spread rule on N(0, 1): mode ~ 0, half-MAD spread ~ 1, so the
     * cut lies k = 4 spreads above the peak, never through it */
    /* (the KDE mode of 14,000 draws wanders by a bandwidth or so) */
    CHECK_NEAR(r2.mode, 0, 0.25);
    CHECK_NEAR(r2.spread, 1, 0.15);
    CHECK_NEAR(r2.threshold, r2.mode + 4 * r2.spread, 1e-9);
    CHECK_NEAR(r2.threshold, 4, 0.7);
    o.one_peak = -1; /* the lone peak is the high population: cut below */
    REQUIRE(cg_gate_valley(x, N, mask, &o, &r2, &err) == 0);
    CHECK(strcmp(r2.rule, "one peak: below") == 0);
    CHECK_NEAR(r2.threshold, r2.mode - 4 * r2.spread, 1e-9);
    CHECK_NEAR(r2.threshold, -4, 0.7);
    o.one_peak = 0; /* fail: no cut */
    REQUIRE(cg_gate_valley(x, N, mask, &o, &r2, &err) == 0);
    CHECK(isnan(r2.threshold));
    CHECK(strcmp(r2.rule, "one peak: fail") == 0);
    /* a kept lone peak: the cut keeps at least keep_min of the events
     * (with k = 1 the spread cut ~1 lies inside the bulk; the 99th
     * percentile of N(0, 1) is 2.326) */
    cg_autogate_opts_init(&o);
    o.k = 1;
    o.keep_peak = 1;
    REQUIRE(cg_gate_valley(x, N, mask, &o, &r2, &err) == 0);
    CHECK_NEAR(r2.threshold, 2.326, 0.15);
    CHECK_INT(r2.fell_back, 0); /* a kept lone peak is not a fallback */
    CHECK(strcmp(r2.rule, "one peak: above") == 0);
    int64_t kept = 0, used = 0;
    for (int i = 0; i < N; i++)
        if (cg_bits_get(mask, i)) {
            used++;
            kept += x[i] < r2.threshold;
        }
    CHECK(kept >= (int64_t)(0.99 * (double)used) - 1);

    /* robust grid: 0.05% far outliers (a saturated pile and a far
     * negative, beyond the 0.1-99.9 % range) do not move the valley of
     * the bimodal sample nor stretch the grid */
    for (int i = 0; i < N; i++)
        x[i] = i % 10 < 7 ? gauss() : 5 + gauss();
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r, &err) == 0);
    for (int i = 0; i < N; i += 2000)
        x[i] = (i / 2000) % 2 ? 1e6 : -1e5;
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r2, &err) == 0);
    printf("valley with outliers: %.4f (without %.4f), grid [%g, %g]\n",
           r2.threshold, r.threshold, r2.grid_lo, r2.grid_hi);
    CHECK_NEAR(r2.threshold, r.threshold, 0.1);
    CHECK(r2.grid_hi < 20 && r2.grid_lo > -20);
    CHECK(strcmp(r2.rule, "valley") == 0);

    /* refine: two populations of unequal spread (70 % N(0, 0.5), 30 %
     * N(5, 1.5)); the cut where their weighted densities meet is the
     * fewest-misassigned cut.  The density minimum sits off it; the
     * refined cut must be closer and misassign no more events. */
    for (int i = 0; i < N; i++)
        x[i] = i % 10 < 7 ? 0.5 * gauss() : 5 + 1.5 * gauss();
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r, &err) == 0);
    o.refine = 1;
    REQUIRE(cg_gate_valley(x, N, NULL, &o, &r2, &err) == 0);
    double bayes = NAN;
    for (double u = 0; u < 5; u += 1e-4) {
        double fa = 0.7 / 0.5 * exp(-0.5 * u * u / 0.25);
        double fb = 0.3 / 1.5 * exp(-0.5 * (u - 5) * (u - 5) / 2.25);
        if (fb >= fa) {
            bayes = u;
            break;
        }
    }
    int64_t mis1 = 0, mis2 = 0;
    for (int i = 0; i < N; i++) {
        int hi = i % 10 >= 7;
        mis1 += (x[i] >= r.threshold) != hi;
        mis2 += (x[i] >= r2.threshold) != hi;
    }
    printf("refine: valley %.4f, balanced %.4f, equal-density %.4f; "
           "misassigned %lld -> %lld\n", r.threshold, r2.threshold, bayes,
           (long long)mis1, (long long)mis2);
    CHECK(strcmp(r2.rule, "valley: balanced") == 0);
    CHECK(fabs(r2.threshold - bayes) < fabs(r.threshold - bayes));
    CHECK_NEAR(r2.threshold, bayes, 0.25);
    CHECK(mis2 <= mis1);

    /* ---- tail: the spread rule ---- */
    for (int i = 0; i < N; i++)
        x[i] = gauss();
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r, &err) == 0);
    printf("tail spread: cut %.4f mode %.4f spread %.4f rule %s\n",
           r.threshold, r.mode, r.spread, r.rule);
    CHECK(strcmp(r.rule, "spread") == 0);
    CHECK_NEAR(r.threshold, r.mode + 4 * r.spread, 1e-9);
    CHECK_NEAR(r.threshold, 4, 0.5);
    CHECK_INT(r.fell_back, 0);
    /* a 3% positive population: its peak makes the rule "valley", and
     * the cut separates the two */
    for (int i = 0; i < N; i += 33)
        x[i] = 9 + 0.5 * gauss();
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    CHECK(strcmp(r2.rule, "valley") == 0);
    CHECK(r2.threshold > 4 && r2.threshold < 8);
    /* side -1: the cut goes below the main peak */
    for (int i = 0; i < N; i++)
        x[i] = gauss();
    o.side = -1;
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    CHECK_NEAR(r2.threshold, -4, 0.5);

    /* ---- tail: several positive peaks, the deepest valley ---- */
    /* bulk 80 % N(0, 0.5), intermediate 12 % N(3, 0.5), high 8 %
     * N(6, 0.4) (CD25: resting, activated, Treg): the bulk|intermediate
     * valley is shallow, the intermediate|high one deep, so the cut goes
     * between the intermediate and high peaks */
    for (int i = 0; i < N; i++) {
        int c = i % 25;
        x[i] = c < 20 ? 0.5 * gauss() : c < 23 ? 3 + 0.5 * gauss()
                                               : 6 + 0.4 * gauss();
    }
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    printf("tail 3 peaks: cut %.4f rule %s peaks %.3f %.3f depth %.3f\n",
           r2.threshold, r2.rule, r2.peak[0], r2.peak[1], r2.depth);
    CHECK(strcmp(r2.rule, "valley") == 0);
    CHECK(r2.threshold > 4 && r2.threshold < 5.5);
    CHECK_NEAR(r2.peak[0], 3, 0.3);
    CHECK_NEAR(r2.peak[1], 6, 0.3);
    CHECK_INT(r2.npeaks, 3);

    /* ---- tail: a skewed negative, the edge rule ---- */
    /* split normal: SD 2 on the far (left) side, 0.5 on the cut side;
     * k spreads of the far side would put the cut near 8, the edge
     * (density at 2 % of the peak) is 2.8 near-side SDs out, ~1.4 */
    for (int i = 0; i < N; i++)
        x[i] = i % 5 < 4 ? -2 * fabs(gauss()) : 0.5 * fabs(gauss());
    cg_autogate_opts_init(&o);
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    printf("tail skewed: cut %.4f rule %s mode %.3f spread %.3f\n",
           r2.threshold, r2.rule, r2.mode, r2.spread);
    CHECK(strcmp(r2.rule, "edge") == 0);
    CHECK_NEAR(r2.threshold, 1.4, 0.3);
    CHECK(r2.threshold < r2.mode + 4 * r2.spread);
    /* the mirror image with side -1 */
    for (int i = 0; i < N; i++)
        x[i] = -x[i];
    o.side = -1;
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r, &err) == 0);
    CHECK(strcmp(r.rule, "edge") == 0);
    CHECK_NEAR(r.threshold, -r2.threshold, 0.05);
    /* a symmetric flat-topped peak (uniform on [-1, 1] plus N(0, 0.1)):
     * its KDE mode sits anywhere on the top, but it is not skewed, so
     * the spread rule holds */
    for (int i = 0; i < N; i++)
        x[i] = 2 * unif() - 1 + 0.1 * gauss();
    o.side = 1;
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r, &err) == 0);
    printf("tail flat top: cut %.4f rule %s mode %.3f\n", r.threshold,
           r.rule, r.mode);
    CHECK(strcmp(r.rule, "spread") == 0);

    /* ---- tail: the density-fraction rule (fraction > 0), full grid ---- */
    for (int i = 0; i < N; i++)
        x[i] = gauss();
    cg_autogate_opts_init(&o);
    o.trim = 0;
    o.fraction = 0.001;
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r, &err) == 0);
    double h = r.bandwidth;
    /* the rule on the exact (unbinned) KDE: walk right from its maximum */
    double pk = 0, pky = 0, ex = NAN;
    for (double t = -1; t < 1; t += 1e-3) {
        double d = 0;
        for (int i = 0; i < N; i++)
            d += exp(-0.5 * (t - x[i]) * (t - x[i]) / (h * h));
        if (d > pky) {
            pky = d;
            pk = t;
        }
    }
    for (double t = pk; t < 8; t += 1e-3) {
        double d = 0;
        for (int i = 0; i < N; i++)
            d += exp(-0.5 * (t - x[i]) * (t - x[i]) / (h * h));
        if (d < 1e-3 * pky) {
            ex = t;
            break;
        }
    }
    double expect = sqrt((1 + h * h) * 2 * log(1000.0));
    printf("tail: cut %.4f, exact-KDE rule %.4f, population value %.4f\n",
           r.threshold, ex, expect);
    CHECK_NEAR(r.threshold, ex, 0.02);
    CHECK_NEAR(r.threshold, expect, 0.3);
    CHECK_INT(r.fell_back, 0);
    /* a 3% positive population far right does not move the tail cut */
    for (int i = 0; i < N; i += 33)
        x[i] = 9 + 0.5 * gauss();
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    CHECK_NEAR(r2.threshold, r.threshold, 0.1);
    int64_t above = 0;
    for (int i = 0; i < N; i++)
        above += x[i] >= r2.threshold;
    CHECK(above >= (N + 32) / 33 && above <= (N + 32) / 33 + 10);
    /* main peak piled at the top (saturation): the density never falls
     * to 1e-3 of it inside the grid -> grid end, flagged */
    for (int i = 0; i < N; i++)
        x[i] = i % 10 < 7 ? 10.0 : 5 + gauss();
    REQUIRE(cg_gate_tail(x, N, NULL, &o, &r2, &err) == 0);
    CHECK_INT(r2.fell_back, 1);
    CHECK(strstr(r2.reason, "never falls") != NULL);
    CHECK(r2.threshold > 10);
    o.fraction = 1;
    CHECK(cg_gate_tail(x, N, NULL, &o, &r2, &err) < 0);

    /* ---- quantile ---- */
    for (int i = 0; i < 101; i++)
        x[i] = 101 - i;
    cg_autogate_opts_init(&o);
    o.q = 0.9;
    REQUIRE(cg_gate_quantile(x, 101, NULL, &o, &r, &err) == 0);
    CHECK_NEAR(r.threshold, 91, 1e-12);
    o.q = 0.125;
    REQUIRE(cg_gate_quantile(x, 101, NULL, &o, &r, &err) == 0);
    CHECK_NEAR(r.threshold, 13.5, 1e-12);
    CHECK_INT(r.fell_back, 0);

    /* ---- too few events ---- */
    REQUIRE(cg_gate_valley(x, 10, NULL, NULL, &r, &err) == 0);
    CHECK(isnan(r.threshold) && r.fell_back == 1);
    REQUIRE(cg_gate_tail(x, 19, NULL, NULL, &r, &err) == 0);
    CHECK(isnan(r.threshold) && r.fell_back == 1);
    REQUIRE(cg_gate_quantile(x, 0, NULL, NULL, &r, &err) == 0);
    CHECK(isnan(r.threshold) && r.fell_back == 1);
    cg_bits *tb = cg_bits_new(10);
    cg_threshold_apply(NAN, 1, x, 10, NULL, tb, &err);
    CHECK_INT(cg_bits_count(tb), 0);
    cg_threshold_apply(95.5, 1, x, 10, NULL, tb, &err); /* 101..92 */
    CHECK_INT(cg_bits_count(tb), 6);
    cg_threshold_apply(95.5, 0, x, 10, NULL, tb, &err);
    CHECK_INT(cg_bits_count(tb), 4);
    cg_bits_free(tb);

    /* ---- singlets ---- */
    uint8_t *truth = malloc(N);
    for (int i = 0; i < N; i++) {
        double hh = 40000 + 6000 * gauss();
        if (i % 10 == 0) { /* doublet */
            x[i] = 1.9 * 1.15 * hh * (1 + 0.03 * gauss());
            truth[i] = 0;
        } else {
            x[i] = 1.15 * hh * (1 + 0.02 * gauss());
            truth[i] = fabs(x[i] / hh / 1.15 - 1) < 0.08;
        }
        y[i] = hh;
    }
    cg_singlets_result sr;
    REQUIRE(cg_gate_singlets(x, y, N, NULL, 0.08, &sr, &err) == 0);
    printf("singlets: k %.4f band [%.4f, %.4f]\n", sr.k, sr.ratio_lo,
           sr.ratio_hi);
    CHECK_NEAR(sr.k, 1.15, 0.01);
    CHECK_INT(sr.fell_back, 0);
    cg_bits *sb = cg_bits_new(N);
    REQUIRE(cg_singlets_apply(&sr, x, y, N, NULL, sb, &err) == 0);
    int wrong = 0, dbl_in = 0;
    for (int i = 0; i < N; i++) {
        wrong += cg_bits_get(sb, i) != truth[i];
        dbl_in += i % 10 == 0 && cg_bits_get(sb, i);
    }
    printf("singlets: %d of %d events differ from the k=1.15 band\n", wrong,
           N);
    CHECK_INT(dbl_in, 0);
    CHECK(wrong < N / 200);
    /* polygon: its ratio band */
    CHECK_NEAR(sr.poly[2] / sr.poly[3], sr.ratio_hi, 1e-9);
    CHECK_NEAR(sr.poly[4] / sr.poly[5], sr.ratio_lo, 1e-9);
    REQUIRE(cg_gate_singlets(x, y, 5, NULL, 0.08, &sr, &err) == 0);
    CHECK_INT(sr.fell_back, 1);
    CHECK(cg_gate_singlets(x, y, N, NULL, 1.5, &sr, &err) < 0);
    cg_bits_free(sb);

    /* ---- scatter ---- */
    for (int i = 0; i < N; i++) {
        if (i % 5 == 0) { /* second, distant blob: 20% */
            x[i] = 110000 + 9000 * gauss();
            y[i] = 60000 + 8000 * gauss();
            truth[i] = 0;
        } else {
            x[i] = 50000 + 6000 * gauss();
            y[i] = 15000 + 3000 * gauss();
            truth[i] = 1;
        }
    }
    cg_scatter_opts so;
    cg_scatter_opts_init(&so);
    cg_scatter_result sc, sc2;
    REQUIRE(cg_gate_scatter(x, y, N, NULL, &so, &sc, &err) == 0);
    CHECK_INT(sc.fell_back, 0);
    CHECK(sc.nvert >= 8);
    CHECK_NEAR(sc.mode_x, 50000, 2500);
    CHECK_NEAR(sc.mode_y, 15000, 1200);
    double area = 0;
    for (int v = 0; v < sc.nvert; v++) {
        int w = (v + 1) % sc.nvert;
        area += sc.vx[v] * sc.vy[w] - sc.vx[w] * sc.vy[v];
    }
    CHECK(area > 0);
    cg_bits *in = cg_bits_new(N);
    REQUIRE(cg_scatter_apply(&sc, x, y, N, NULL, in, &err) == 0);
    int main_in = 0, main_n = 0, other_in = 0;
    for (int i = 0; i < N; i++) {
        main_n += truth[i];
        main_in += truth[i] && cg_bits_get(in, i);
        other_in += !truth[i] && cg_bits_get(in, i);
    }
    double frac = (double)main_in / main_n;
    printf("scatter: %d vertices, %.2f%% of the main blob inside, %d of "
           "the other\n", sc.nvert, 100 * frac, other_in);
    CHECK(frac > 0.93 && frac < 0.985);
    CHECK(other_in < 20);
    double mxy[2] = {sc.mode_x, sc.mode_y};
    cg_bits *one = cg_bits_new(1);
    cg_scatter_apply(&sc, &mxy[0], &mxy[1], 1, NULL, one, &err);
    CHECK_INT(cg_bits_count(one), 1);
    cg_bits_free(one);
    /* deterministic */
    REQUIRE(cg_gate_scatter(x, y, N, NULL, &so, &sc2, &err) == 0);
    CHECK_INT(sc2.nvert, sc.nvert);
    CHECK(memcmp(sc.vx, sc2.vx, sc.nvert * sizeof(double)) == 0 &&
          memcmp(sc.vy, sc2.vy, sc.nvert * sizeof(double)) == 0);
    cg_scatter_result_release(&sc2);
    /* mode search box picks the other blob */
    so.xlo = 90000;
    so.xhi = 200000;
    REQUIRE(cg_gate_scatter(x, y, N, NULL, &so, &sc2, &err) == 0);
    CHECK_NEAR(sc2.mode_x, 110000, 4000);
    cg_scatter_result_release(&sc2);
    /* too few */
    REQUIRE(cg_gate_scatter(x, y, 7, NULL, &so, &sc2, &err) == 0);
    CHECK_INT(sc2.fell_back, 1);
    CHECK_INT(sc2.nvert, 0);
    so.level = 0;
    CHECK(cg_gate_scatter(x, y, N, NULL, &so, &sc2, &err) < 0);

    cg_scatter_result_release(&sc);
    cg_bits_free(in);
    cg_bits_free(mask);
    free(truth);
    cg_kde_cache_clear();
    check_threshold_apply();
    return TEST_DONE();
}
