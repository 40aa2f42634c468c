/*
 * test_qc.c -- the QC engine on synthetic samples built here.
 *
 * A clean sample: 60,000 events at 1,000 events/s (time quantised to
 * 10 ms, $TIMESTEP 0.01), three scatter channels, five compensated
 * fluorescence channels (negative population N(0, 150), positive
 * populations log-normal), a 5x5 spillover matrix.  Each injected anomaly
 * (clog, drift, saturation, too few events, compensation faults, poor
 * viability, gate fallback, file faults) must make its check warn or fail
 * as documented and name the cause; 25 clean seeds must give no failure.
 * The headline precision (binomial CV, Wilson interval, rule of three) and
 * plausibility rows are checked against values worked out by hand and a
 * brute-force Wilson interval.  cg_qc_events gives the same result, bit
 * for bit, at 1, 2, 3 and 16 threads, and its stability bin medians equal
 * those of a sort.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qc.h"
#include "testutil.h"

/* ---- synthetic data ------------------------------------------------- */

static uint64_t rng_s;
static uint64_t rnext(void)
{
    uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unif(void) { return ((rnext() >> 11) + 0.5) / 9007199254740992.0; }
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

enum { A_NONE = 0, A_CLOG, A_DRIFT, A_SAT, A_OVERCOMP, A_STEP };

static const char *FL[5] = {"FITC-A", "PE-A", "APC-A", "BV421-A", "PE-Cy7-A"};
static const double POSFRAC[5] = {0.65, 0.35, 0.10, 0.45, 0.05};
static const double POSMED[5] = {8000, 15000, 4000, 20000, 3000};

/* Arrival times: rate 1000/s, or with a clog (20-25 s at 10%, 25-27 s at
 * 3x).  Returns the time of event i by inverse sampling of the rate. */
static double rate_at(double t, int anomaly)
{
    if (anomaly == A_CLOG) {
        if (t >= 20 && t < 25) return 100;
        if (t >= 25 && t < 27) return 3000;
    }
    return 1000;
}

static cg_frame *make_sample(uint64_t seed, int64_t n, int anomaly,
                             int with_time)
{
    rng_s = seed * 7919 + 1;
    cg_frame *fr = cg_frame_new(n);
    const char *sc[3] = {"FSC-A", "FSC-H", "SSC-A"};
    for (int j = 0; j < 3; j++)
        cg_frame_add(fr, sc[j], NULL, 262144, NULL, NULL);
    for (int j = 0; j < 5; j++)
        cg_frame_add(fr, FL[j], NULL, 262144, NULL, NULL);
    if (with_time)
        cg_frame_add(fr, "Time", NULL, 262144, NULL, NULL);
    double t = 0;
    for (int64_t i = 0; i < n; i++) {
        double u = unif();
        double fsc, ssc;
        if (u < 0.7) { fsc = 60000 + 8000 * gauss(); ssc = 20000 + 4000 * gauss(); }
        else if (u < 0.9) { fsc = 95000 + 12000 * gauss(); ssc = 60000 + 10000 * gauss(); }
        else { fsc = 15000 + 5000 * gauss(); ssc = 8000 + 3000 * gauss(); }
        double dbl = unif() < 0.05 ? 1.8 : 1.0;
        fr->col[0][i] = fmin(262143, fmax(1, fsc * dbl));
        fr->col[1][i] = fmin(262143, fmax(1, fsc * (0.85 + 0.03 * gauss())));
        fr->col[2][i] = fmin(262143, fmax(1, ssc * dbl));
        for (int j = 0; j < 5; j++) {
            double v = unif() < POSFRAC[j]
                           ? POSMED[j] * exp(0.5 * gauss())
                           : 150 * gauss();
            fr->col[3 + j][i] = fmin(262143, v);
        }
        if (with_time) {
            t += -log(unif()) / rate_at(t, anomaly);
            fr->col[8][i] = floor(t / 0.01) * 0.01; /* 10 ms ticks */
        }
        double frac = (double)i / (double)n;
        if (anomaly == A_DRIFT) /* FITC rises by 60% over the run */
            fr->col[3][i] *= 1 + 0.6 * frac;
        if (anomaly == A_STEP && frac > 0.6) /* PE-Cy7 ... BV421 steps down */
            fr->col[6][i] *= 0.6;
        if (anomaly == A_SAT && unif() < 0.08)
            fr->col[5][i] = 262143;
        if (anomaly == A_OVERCOMP && unif() < 0.2)
            fr->col[4][i] = -5000 + 600 * gauss();
    }
    return fr;
}

/* Built by hand so this test does not depend on comp.c. */
static cg_matrix *mat_new(int nr, int nc)
{
    cg_matrix *m = calloc(1, sizeof *m);
    m->nrow = nr;
    m->ncol = nc;
    m->row = calloc((size_t)nr, sizeof *m->row);
    m->col = calloc((size_t)nc, sizeof *m->col);
    m->v = calloc((size_t)nr * (size_t)nc, sizeof *m->v);
    return m;
}

static void mat_free(cg_matrix *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nrow; i++)
        free(m->row[i]);
    for (int i = 0; i < m->ncol; i++)
        free(m->col[i]);
    free(m->row);
    free(m->col);
    free(m->v);
    free(m);
}

static cg_matrix *make_spill(const char *rename0, double diag0)
{
    cg_matrix *m = mat_new(5, 5);
    for (int i = 0; i < 5; i++) {
        m->row[i] = strdup(i == 0 && rename0 ? rename0 : FL[i]);
        m->col[i] = strdup(i == 0 && rename0 ? rename0 : FL[i]);
        for (int k = 0; k < 5; k++)
            m->v[i * 5 + k] = i == k ? (i == 0 ? diag0 : 1.0)
                                     : (k == i + 1 ? 0.15 : 0.01);
    }
    return m;
}

/* A plausible gating result for n events. */
typedef struct gt {
    cg_qc_pop pops[6];
    cg_qc_fallback fb[2];
    cg_qc_override ov[1];
    cg_qc_ratio ratio[1];
    cg_qc_headline heads[2];
    cg_qc_gating g;
} gt;

static void make_gating(gt *G, int64_t n, double live_frac, double sing_frac)
{
    int64_t cells = (int64_t)(0.9 * (double)n);
    int64_t sing = (int64_t)(sing_frac * (double)cells);
    int64_t live = (int64_t)(live_frac * (double)sing);
    int64_t cd4 = (int64_t)(0.45 * (double)live);
    int64_t treg = (int64_t)(0.06 * (double)cd4);
    int64_t th17 = (int64_t)(0.012 * (double)cd4);
    cg_qc_pop p[6] = {{"cells", NULL, cells, n, 0, 1},
                      {"singlets", "cells", sing, cells, 0, 1},
                      {"live", "singlets", live, sing, 0, 1},
                      {"cd4", "live", cd4, live, 1, 1},
                      {"treg", "cd4", treg, cd4, 1, 1},
                      {"th17", "cd4", th17, cd4, 1, 1}};
    memcpy(G->pops, p, sizeof p);
    G->ratio[0] = (cg_qc_ratio){"th17_treg_ratio", "treg", treg, 20};
    G->heads[0] = (cg_qc_headline){"treg", "treg", "cd4", treg, cd4};
    G->heads[1] = (cg_qc_headline){"th17", "th17", "cd4", th17, cd4};
    G->g = (cg_qc_gating){n, G->pops, 6, NULL, 0, G->ratio, 1, G->heads, 2,
                          NULL, 0};
}

static cg_qc_result *run_events(const cg_qc_params *p, cg_frame *fr,
                                const cg_matrix *m, const char *tot,
                                const char *ts)
{
    char totbuf[32];
    if (!tot) {
        snprintf(totbuf, sizeof totbuf, "%lld", (long long)fr->n);
        tot = totbuf;
    }
    cg_qc_input in = {0};
    in.fr = fr;
    in.tot = tot;
    in.timestep = ts;
    in.spill = m;
    in.comp_source = "$SPILLOVER";
    cg_qc_result *r = cg_qc_result_new();
    cg_err e = {0};
    int rc = cg_qc_events(p, &in, r, &e);
    CHECKM(rc == 0, "cg_qc_events: %s", e.msg);
    return r;
}

static int verdict(const cg_qc_result *r, const char *name)
{
    const cg_qc_check *c = cg_qc_find(r, name);
    return c ? c->verdict : -1;
}

static const char *detail(const cg_qc_result *r, const char *name)
{
    const cg_qc_check *c = cg_qc_find(r, name);
    return c ? c->detail : "";
}

static void dump(const char *title, const cg_qc_result *r)
{
    printf("--- %s (overall %s)\n", title,
           cg_qc_verdict_name(cg_qc_overall(r)));
    cg_qc_write_rows(stdout, title, r);
}

/* ---- tests ------------------------------------------------------------ */

static void test_params(void)
{
    cg_qc_params p;
    cg_qc_params_init(&p);
    CHECK_NEAR(p.min_events, 10000, 0);
    CHECK_NEAR(p.rate_bin_s, 0.1, 0);
    CHECK_INT(p.gate_fallback, CG_QC_WARN);
    CHECK_NEAR(p.min_events_fail, 0, 0);
    CHECK_NEAR(p.prec_warn_cv, 0.10, 0);
    CHECK_NEAR(p.prec_fail_cv, 0.25, 0);
    CHECK_NEAR(p.prec_warn_cv_th17, 0.20, 0);
    CHECK_NEAR(p.prec_fail_cv_th17, 0.50, 0);
    CHECK_NEAR(p.prec_zero_pct, 1, 0);
    CHECK_NEAR(p.prec_zero_fail_pct, 10, 0);
    CHECK_NEAR(p.treg_pct_min, 0.5, 0);
    CHECK_NEAR(p.treg_pct_max, 25, 0);
    CHECK_NEAR(p.th17_pct_max, 20, 0);
    CHECK_NEAR(p.plaus_min_parent, 1000, 0);
    CHECK_NEAR(p.gate_max_keep_pct, 99.5, 0);
    CHECK_NEAR(p.gate_min_keep_pct, 0.05, 0);
    CHECK_INT(p.exclude_time_anomalies, 0);
    CHECK_STR(p.live_pop, "live");
    /* every documented default parses and round-trips */
    int nk = 0;
    for (const cg_qc_key *k = cg_qc_keys(); k->key; k++, nk++) {
        CHECK(k->doc && *k->doc);
        if (strchr(k->key, '<'))
            continue;
        cg_qc_params q;
        cg_qc_params_init(&q);
        cg_err e = {0};
        CHECKM(cg_qc_set(&q, k->key, k->def, &e) == 0, "%s: %s", k->key,
               e.msg);
        CHECK(memcmp(&q, &p, sizeof p) == 0);
    }
    CHECK(nk >= 30);
    cg_err e = {0};
    CHECK(cg_qc_set(&p, "min_event", "5", &e) < 0);
    CHECK(strstr(e.msg, "min_event") != NULL);
    CHECK_INT(e.code, CG_E_ARG);
    CHECK(cg_qc_set(&p, "rate_k", "abc", &e) < 0);
    CHECK(strstr(e.msg, "rate_k") != NULL);
    CHECK(cg_qc_set(&p, "rate_warn_pct", "150", &e) < 0);
    CHECK(cg_qc_set(&p, "gate_fallback", "maybe", &e) < 0);
    CHECK(cg_qc_set(&p, "gate_fallback", "fail", &e) == 0);
    CHECK_INT(p.gate_fallback, CG_QC_FAIL);
    CHECK(cg_qc_set(&p, "precision_warn_cv_th17", "0.3", &e) == 0);
    CHECK_NEAR(p.prec_warn_cv_th17, 0.3, 0);
    CHECK(cg_qc_set(&p, "treg_pct_max", "120", &e) < 0);
    CHECK(strstr(e.msg, "treg_pct_max") != NULL);
    CHECK(cg_qc_set(&p, "exclude_time_anomalies", "yes", &e) == 0);
    CHECK_INT(p.exclude_time_anomalies, 1);
    CHECK(cg_qc_set(&p, "min_events_cd4", "1000", &e) == 0);
    CHECK(cg_qc_set(&p, "min_events_cd4", "2000", &e) == 0);
    CHECK(cg_qc_set(&p, "min_events_treg", "50", &e) == 0);
    CHECK_INT(p.n_popmin, 2);
    CHECK_STR(p.popmin_name[0], "cd4");
    CHECK_NEAR(p.popmin[0], 2000, 0);
    CHECK(cg_qc_set(&p, "min_events_cd4", "-1", &e) < 0);
    CHECK(cg_qc_set(&p, "min_events", "1e4", &e) == 0);
    CHECK_NEAR(p.min_events, 10000, 0);
}

static void test_classify(void)
{
    cg_frame *fr = cg_frame_new(1);
    const char *nm[] = {"FSC-A", "SSC-H", "FS INT", "Time", "HDR-T",
                        "FITC-A", "FSC-W", "Event_length", "CD4 PE"};
    int want[] = {CG_QC_SCATTER, CG_QC_SCATTER, CG_QC_SCATTER, CG_QC_TIME,
                  CG_QC_TIME, CG_QC_FLUOR, CG_QC_OTHER, CG_QC_OTHER,
                  CG_QC_FLUOR};
    for (int j = 0; j < 9; j++)
        cg_frame_add(fr, nm[j], NULL, 1024, NULL, NULL);
    int role[9];
    cg_qc_classify(fr, role);
    for (int j = 0; j < 9; j++)
        CHECKM(role[j] == want[j], "%s: role %d, want %d", nm[j], role[j],
               want[j]);
    cg_frame_free(fr);
}

static void test_clean(cg_qc_params *p)
{
    int fails = 0, warns = 0, nseeds = 25;
    int per_check_warn[64] = {0};
    const char *names[64] = {0};
    for (int s = 1; s <= nseeds; s++) {
        cg_frame *fr = make_sample((uint64_t)s, 60000, A_NONE, 1);
        cg_matrix *m = make_spill(NULL, 1.0);
        cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
        gt G;
        make_gating(&G, fr->n, 0.9, 0.92);
        cg_err e = {0};
        CHECK(cg_qc_gates(p, &G.g, r, &e) == 0);
        int ov = cg_qc_overall(r);
        if (ov == CG_QC_FAIL) {
            fails++;
            dump("clean-FAIL", r);
        }
        for (int i = 0; i < r->n && i < 64; i++) {
            names[i] = names[i] ? names[i] : strdup(r->checks[i].name);
            if (r->checks[i].verdict == CG_QC_WARN) {
                warns++;
                per_check_warn[i]++;
                printf("clean seed %d warns: %s: %s\n", s,
                       r->checks[i].name, r->checks[i].detail);
            }
        }
        /* the series for the figure are there */
        CHECK(r->s.nrate >= 10);
        CHECK(r->s.nstab >= 8 && r->s.nschan == 5);
        CHECK_INT(verdict(r, "flow_rate"), CG_QC_PASS);
        CHECK_INT(verdict(r, "signal_stability"), CG_QC_PASS);
        CHECK_INT(verdict(r, "saturation"), CG_QC_PASS);
        CHECK_INT(verdict(r, "compensation"), CG_QC_PASS);
        CHECK(r->time_mask && r->n_time_masked < fr->n / 100);
        if (s == 1)
            dump("clean seed 1", r);
        cg_qc_result_free(r);
        mat_free(m);
        cg_frame_free(fr);
    }
    printf("clean: %d seeds, %d failing samples, %d warnings\n", nseeds,
           fails, warns);
    CHECK_INT(fails, 0);
    for (int i = 0; i < 64; i++)
        free((void *)names[i]);
}

static void test_clog(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(101, 60000, A_CLOG, 1);
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
    dump("clog", r);
    const cg_qc_check *c = cg_qc_find(r, "flow_rate");
    REQUIRE(c);
    CHECK_INT(c->verdict, CG_QC_FAIL);
    CHECK(strstr(c->detail, "low (drop/clog)") != NULL);
    CHECK(c->value > 5); /* the burst alone holds ~10% of events */
    CHECK_INT(cg_qc_overall(r), CG_QC_FAIL);
    /* the mask holds most events of the drop and burst windows and few
     * others */
    int64_t in_win = 0, in_win_masked = 0, out_masked = 0;
    const double *t = fr->col[8];
    for (int64_t i = 0; i < fr->n; i++) {
        int w = t[i] >= 20.1 && t[i] < 26.9;
        int mk = cg_bits_get(r->time_mask, i);
        in_win += w;
        in_win_masked += w && mk;
        out_masked += !w && mk;
    }
    printf("clog: %lld of %lld events in the window masked, %lld outside\n",
           (long long)in_win_masked, (long long)in_win,
           (long long)out_masked);
    CHECK(in_win_masked > 0.9 * (double)in_win);
    CHECK(out_masked < fr->n / 100);
    CHECK_INT(r->n_time_masked, cg_bits_count(r->time_mask));
    int nflag = 0;
    for (int b = 0; b < r->s.nrate; b++)
        nflag += r->s.rate_flag[b];
    CHECK(nflag >= 10);
    cg_qc_result_free(r);
    mat_free(m);
    cg_frame_free(fr);
}

static void test_drift_step(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(102, 60000, A_DRIFT, 1);
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
    dump("drift", r);
    CHECK_INT(verdict(r, "signal_stability"), CG_QC_FAIL);
    CHECK(strstr(detail(r, "signal_stability"), "FITC-A") != NULL);
    CHECK(strstr(detail(r, "signal_stability"), "rises") != NULL);
    CHECK(strstr(detail(r, "signal_stability"), "PE-A") == NULL);
    CHECK_INT(verdict(r, "flow_rate"), CG_QC_PASS);
    cg_qc_result_free(r);
    cg_frame_free(fr);

    fr = make_sample(103, 60000, A_STEP, 1);
    r = run_events(p, fr, m, NULL, "0.01");
    dump("step", r);
    CHECK(verdict(r, "signal_stability") >= CG_QC_WARN);
    CHECK(strstr(detail(r, "signal_stability"), "BV421-A") != NULL);
    CHECK(strstr(detail(r, "signal_stability"), "falls") != NULL);
    cg_qc_result_free(r);
    mat_free(m);
    cg_frame_free(fr);
}

static void test_saturation(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(104, 60000, A_SAT, 1);
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
    dump("saturation", r);
    const cg_qc_check *c = cg_qc_find(r, "saturation");
    REQUIRE(c);
    CHECK_INT(c->verdict, CG_QC_FAIL);
    CHECK(strstr(c->detail, "APC-A") != NULL);
    CHECK_NEAR(c->value, 8.0, 0.5);
    cg_qc_result_free(r);
    mat_free(m);
    cg_frame_free(fr);
}

static void test_too_few(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(105, 3000, A_NONE, 1);
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
    gt G;
    make_gating(&G, fr->n, 0.9, 0.92);
    cg_err e = {0};
    CHECK(cg_qc_gates(p, &G.g, r, &e) == 0);
    dump("too few", r);
    /* issue 13: low totals warn; the headline precision decides */
    CHECK_INT(verdict(r, "events"), CG_QC_WARN);
    CHECK(strstr(detail(r, "events"), "3000 events") != NULL);
    /* Th17 ~13 events: warn with its CV; the ratio's denominator (treg ~66)
     * is above 20 */
    const cg_qc_check *c = cg_qc_find(r, "count:th17");
    REQUIRE(c);
    CHECK_INT(c->verdict, CG_QC_WARN);
    CHECK(strstr(c->detail, "binomial SE") != NULL);
    CHECK_INT(verdict(r, "count:cd4"), CG_QC_PASS);
    /* treg 60 of 1005 cd4: CV sqrt(0.94/60) = 0.125 -> warn; th17 12:
     * CV 0.287 -> warn (Th17 keys); nothing fails */
    CHECK_INT(verdict(r, "precision:treg"), CG_QC_WARN);
    CHECK_INT(verdict(r, "precision:th17"), CG_QC_WARN);
    CHECK_INT(cg_qc_overall(r), CG_QC_WARN);
    {
        cg_qc_params q = *p;
        CHECK(cg_qc_set(&q, "min_events_fail", "5000", NULL) == 0);
        cg_qc_result *r2 = cg_qc_result_new();
        CHECK(cg_qc_gates(&q, &G.g, r2, &e) == 0);
        CHECK_INT(verdict(r2, "events"), CG_QC_FAIL);
        CHECK_NEAR(cg_qc_find(r2, "events")->threshold, 5000, 0);
        cg_qc_result_free(r2);
    }
    /* binomial SE of treg % of cd4 in the detail: p=0.06, n=cd4 */
    const cg_qc_pop *tp = &G.pops[4];
    double f = (double)tp->count / (double)tp->parent_count;
    char want[64];
    snprintf(want, sizeof want, "SE %.2g points",
             100 * sqrt(f * (1 - f) / (double)tp->parent_count));
    CHECK(strstr(detail(r, "count:treg"), want) != NULL);
    cg_qc_result_free(r);
    mat_free(m);
    cg_frame_free(fr);
}

static void test_comp(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(106, 20000, A_OVERCOMP, 1);
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_result *r = run_events(p, fr, m, NULL, "0.01");
    CHECK_INT(verdict(r, "compensation"), CG_QC_PASS);
    CHECK_INT(verdict(r, "overcompensation"), CG_QC_WARN);
    CHECK(strstr(detail(r, "overcompensation"), "PE-A") != NULL);
    cg_qc_result_free(r);
    mat_free(m);

    m = make_spill("FL9-A", 1.0); /* a name the file lacks */
    r = run_events(p, fr, m, NULL, "0.01");
    CHECK_INT(verdict(r, "compensation"), CG_QC_FAIL);
    CHECK(strstr(detail(r, "compensation"), "FL9-A") != NULL);
    cg_qc_result_free(r);
    mat_free(m);

    m = make_spill(NULL, 0.9); /* diagonal not 1 */
    r = run_events(p, fr, m, NULL, "0.01");
    CHECK_INT(verdict(r, "compensation"), CG_QC_WARN);
    CHECK(strstr(detail(r, "compensation"), "diagonal") != NULL);
    cg_qc_result_free(r);
    mat_free(m);

    m = make_spill(NULL, 1.0); /* ill-conditioned: rows 0 and 1 equal */
    for (int k = 0; k < 5; k++)
        m->v[5 + k] = m->v[k];
    m->v[6] = m->v[1] + 1e-9;
    m->v[5] = 1.0;
    r = run_events(p, fr, m, NULL, "0.01");
    dump("ill-conditioned", r);
    CHECK_INT(verdict(r, "compensation"), CG_QC_FAIL);
    CHECK(cg_qc_find(r, "compensation")->value > 1e6);
    cg_qc_result_free(r);
    /* exact condition number of a diagonal-dominant 2x2 against the
     * explicit inverse: S = [1 a; b 1], ||S||1 = 1+max(a,b),
     * S^-1 = [1 -a; -b 1]/(1-ab) */
    mat_free(m);
    m = mat_new(2, 2);
    m->row[0] = strdup("FITC-A"); m->col[0] = strdup("FITC-A");
    m->row[1] = strdup("PE-A"); m->col[1] = strdup("PE-A");
    double a = 0.3, b = 0.1;
    m->v[0] = 1; m->v[1] = a; m->v[2] = b; m->v[3] = 1;
    r = run_events(p, fr, m, NULL, "0.01");
    CHECK_NEAR(cg_qc_find(r, "compensation")->value,
               (1 + a) * (1 + a) / (1 - a * b), 1e-9);
    cg_qc_result_free(r);
    mat_free(m);

    /* no matrix: warn with fluorescence; pass when configured none */
    r = run_events(p, fr, NULL, NULL, "0.01");
    CHECK_INT(verdict(r, "compensation"), CG_QC_WARN);
    CHECK_INT(verdict(r, "overcompensation"), CG_QC_SKIP);
    cg_qc_result_free(r);
    cg_qc_input in = {0};
    in.fr = fr;
    in.comp_none = 1;
    r = cg_qc_result_new();
    CHECK(cg_qc_events(p, &in, r, NULL) == 0);
    CHECK_INT(verdict(r, "compensation"), CG_QC_PASS);
    CHECK_INT(verdict(r, "file_tot"), CG_QC_WARN); /* no $TOT given */
    cg_qc_result_free(r);
    cg_frame_free(fr);

    /* scatter-only file, no matrix: pass */
    fr = cg_frame_new(100);
    cg_frame_add(fr, "FSC-A", NULL, 1024, NULL, NULL);
    cg_frame_add(fr, "SSC-A", NULL, 1024, NULL, NULL);
    for (int i = 0; i < 100; i++) {
        fr->col[0][i] = i;
        fr->col[1][i] = 100 - i;
    }
    r = run_events(p, fr, NULL, NULL, NULL);
    CHECK_INT(verdict(r, "compensation"), CG_QC_PASS);
    CHECK_INT(verdict(r, "time_channel"), CG_QC_SKIP);
    CHECK_INT(verdict(r, "flow_rate"), CG_QC_SKIP);
    CHECK_INT(verdict(r, "signal_stability"), CG_QC_SKIP);
    CHECK(cg_qc_overall(r) != CG_QC_FAIL);
    cg_qc_result_free(r);
    cg_frame_free(fr);
}

static void test_gates(const cg_qc_params *p0)
{
    cg_qc_params p = *p0;
    cg_err e = {0};
    CHECK(cg_qc_set(&p, "min_events_cd4", "50000", &e) == 0);
    CHECK(cg_qc_set(&p, "min_events_nkt", "10", &e) == 0);
    cg_qc_result *r = cg_qc_result_new();
    gt G;
    make_gating(&G, 100000, 0.40, 0.70);
    G.fb[0] = (cg_qc_fallback){"cells", "one density mode only",
                               "mode basin", NULL};
    G.fb[1] = (cg_qc_fallback){"live", "no second peak: cut above the main "
                               "peak", "one peak: above", "Viability"};
    G.g.fallbacks = G.fb;
    G.g.nfallbacks = 2;
    G.ov[0] = (cg_qc_override){"cd4", "CD4", 1.8, 2.125, NULL};
    G.g.overrides = G.ov;
    G.g.noverrides = 1;
    G.ratio[0].min_denominator = 100000;
    CHECK(cg_qc_gates(&p, &G.g, r, &e) == 0);
    dump("gates", r);
    CHECK_INT(verdict(r, "viability"), CG_QC_FAIL);
    CHECK_NEAR(cg_qc_find(r, "viability")->value, 40, 0.01);
    CHECK_INT(verdict(r, "singlets"), CG_QC_WARN);
    /* issue 13: a fallback warns and names gate, marker and rule */
    CHECK_INT(verdict(r, "gate_fallback:live.Viability"), CG_QC_WARN);
    CHECK_STR(detail(r, "gate_fallback:live.Viability"),
              "auto gate live (Viability) fell back by rule 'one peak: "
              "above': no second peak: cut above the main peak");
    CHECK_INT(verdict(r, "gate_fallback:cells"), CG_QC_WARN);
    CHECK(strstr(detail(r, "gate_fallback:cells"), "rule 'mode basin'"));
    CHECK(cg_qc_find(r, "gate_fallback") == NULL);
    /* an override is no fallback: a pass row with both cuts */
    CHECK_INT(verdict(r, "override:cd4.CD4"), CG_QC_PASS);
    CHECK_STR(detail(r, "override:cd4.CD4"),
              "threshold 1.8 set by the sample sheet (auto would be 2.125)");
    CHECK_NEAR(cg_qc_find(r, "override:cd4.CD4")->value, 1.8, 0);
    CHECK_INT(verdict(r, "ratio:th17_treg_ratio"), CG_QC_WARN);
    CHECK_INT(verdict(r, "min_count:cd4"), CG_QC_FAIL);
    CHECK_INT(verdict(r, "min_count:nkt"), CG_QC_WARN);
    CHECK_INT(verdict(r, "events"), CG_QC_PASS);
    cg_qc_result_free(r);
    /* the fallback verdict stays configurable */
    CHECK(cg_qc_set(&p, "gate_fallback", "fail", &e) == 0);
    r = cg_qc_result_new();
    CHECK(cg_qc_gates(&p, &G.g, r, &e) == 0);
    CHECK_INT(verdict(r, "gate_fallback:live.Viability"), CG_QC_FAIL);
    cg_qc_result_free(r);
}

/* One headline row set from k of n. */
static cg_qc_result *heads_only(const cg_qc_params *p, const char *name,
                                int64_t k, int64_t n)
{
    cg_qc_headline h = {name, name, "cd4", k, n};
    cg_qc_gating g = {0};
    g.total = 100000;
    g.heads = &h;
    g.nheads = 1;
    cg_qc_result *r = cg_qc_result_new();
    cg_err e = {0};
    CHECK(cg_qc_gates(p, &g, r, &e) == 0);
    return r;
}

/* Wilson interval by brute force: the p on a fine grid with
 * |k/n - p| <= z sqrt(p (1-p) / n). */
static void wilson_naive(int64_t k, int64_t n, double z, double *lo,
                         double *hi)
{
    double f = (double)k / (double)n;
    *lo = 2;
    *hi = -1;
    for (int i = 0; i <= 1000000; i++) {
        double q = i / 1e6;
        if (fabs(f - q) <= z * sqrt(q * (1 - q) / (double)n)) {
            *lo = fmin(*lo, q);
            *hi = fmax(*hi, q);
        }
    }
}

static void test_precision(const cg_qc_params *p)
{
    /* arithmetic: CV = sqrt((1-p)/(n p)); Wilson against brute force and
     * published values (5/10: 0.2366-0.7634; 0/10: upper z^2/(n+z^2)) */
    CHECK_NEAR(cg_qc_binom_cv(213, 3433), sqrt((1 - 213.0 / 3433) / 213),
               1e-15);
    CHECK_NEAR(cg_qc_binom_cv(30, 3000), 0.18165902, 1e-8);
    CHECK_NEAR(cg_qc_binom_cv(10, 10), 0, 0);
    CHECK(isinf(cg_qc_binom_cv(0, 100)));
    CHECK(isnan(cg_qc_binom_cv(1, 0)));
    double lo, hi, nlo, nhi;
    cg_qc_wilson(5, 10, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 0.236590, 1e-6);
    CHECK_NEAR(hi, 0.763410, 1e-6);
    cg_qc_wilson(0, 10, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 0, 1e-15);
    CHECK_NEAR(hi, 1.96 * 1.96 / (10 + 1.96 * 1.96), 1e-12);
    cg_qc_wilson(10, 10, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 10 / (10 + 1.96 * 1.96), 1e-12);
    CHECK_NEAR(hi, 1, 0);
    const int64_t kn[][2] = {{213, 3433}, {30, 3000}, {3, 40}, {97, 101}};
    for (int i = 0; i < 4; i++) {
        cg_qc_wilson(kn[i][0], kn[i][1], 1.96, &lo, &hi);
        wilson_naive(kn[i][0], kn[i][1], 1.96, &nlo, &nhi);
        CHECKM(fabs(lo - nlo) < 2e-6 && fabs(hi - nhi) < 2e-6,
               "wilson %lld/%lld: %g-%g, naive %g-%g", (long long)kn[i][0],
               (long long)kn[i][1], lo, hi, nlo, nhi);
    }

    /* Treg 213 of 3433 CD4: the detail the lab reads */
    cg_qc_result *r = heads_only(p, "treg", 213, 3433);
    const cg_qc_check *c = cg_qc_find(r, "precision:treg");
    REQUIRE(c);
    dump("precision treg", r);
    CHECK_INT(c->verdict, CG_QC_PASS);
    CHECK_NEAR(c->value, 0.0663592, 1e-6);
    CHECK_NEAR(c->threshold, 0.10, 0);
    CHECK(strstr(c->detail, "p=6.2% of 3433 cd4 (213 treg), CV 6.6%, 95% "
                            "CI 5.4-7.1% (Wilson)") != NULL);
    cg_qc_result_free(r);
    /* Treg grades: 100/1000 CV 0.0949 pass, 60/1000 0.125 warn,
     * 10/1000 0.315 fail */
    const struct { int64_t k, n; int v; } tg[] = {
        {100, 1000, CG_QC_PASS}, {60, 1000, CG_QC_WARN},
        {10, 1000, CG_QC_FAIL}};
    for (int i = 0; i < 3; i++) {
        r = heads_only(p, "treg", tg[i].k, tg[i].n);
        CHECKM(verdict(r, "precision:treg") == tg[i].v, "treg %lld/%lld: %s",
               (long long)tg[i].k, (long long)tg[i].n,
               detail(r, "precision:treg"));
        if (tg[i].v == CG_QC_FAIL)
            CHECK_NEAR(cg_qc_find(r, "precision:treg")->threshold, 0.25, 0);
        cg_qc_result_free(r);
    }
    /* Th17 in a healthy 10,000-event sample: ~1% of ~3,000 CD4 = 30
     * events, CV 0.18 -> pass; 20 events 0.22 -> warn; 3 events 0.58 ->
     * fail; the same 3 events graded as Treg would fail too */
    const struct { int64_t k, n; int v; } hg[] = {
        {30, 3000, CG_QC_PASS}, {20, 3000, CG_QC_WARN},
        {5, 1000, CG_QC_WARN}, {3, 3000, CG_QC_FAIL}};
    for (int i = 0; i < 4; i++) {
        r = heads_only(p, "th17", hg[i].k, hg[i].n);
        CHECKM(verdict(r, "precision:th17") == hg[i].v, "th17 %lld/%lld: %s",
               (long long)hg[i].k, (long long)hg[i].n,
               detail(r, "precision:th17"));
        cg_qc_result_free(r);
    }
    r = heads_only(p, "th17", 30, 3000);
    CHECK(strstr(detail(r, "precision:th17"),
                 "p=1.0% of 3000 cd4 (30 th17), CV 18.2%, 95% CI 0.70-1.4%")
          != NULL);
    cg_qc_result_free(r);
    /* k = 0: rule of three, verdict from n alone */
    r = heads_only(p, "th17", 0, 3000);
    c = cg_qc_find(r, "precision:th17");
    REQUIRE(c);
    CHECK_INT(c->verdict, CG_QC_PASS);
    CHECK(isinf(c->value));
    CHECK(strstr(c->detail, "0 th17 of 3000 cd4: p < 0.10% (rule of three")
          != NULL);
    CHECK(strstr(c->detail, "Wilson 0.13%") != NULL);
    cg_qc_result_free(r);
    r = heads_only(p, "th17", 0, 200); /* bound 1.5% > 1% */
    CHECK_INT(verdict(r, "precision:th17"), CG_QC_WARN);
    CHECK(strstr(detail(r, "precision:th17"), "p < 1.5%") != NULL);
    cg_qc_result_free(r);
    r = heads_only(p, "treg", 0, 14); /* bound 21% > 10%: says nothing */
    CHECK_INT(verdict(r, "precision:treg"), CG_QC_FAIL);
    CHECK_NEAR(cg_qc_find(r, "precision:treg")->threshold, 10, 0);
    CHECK(strstr(detail(r, "precision:treg"), "p < 21.4%") != NULL);
    cg_qc_result_free(r);
    r = heads_only(p, "treg", 0, 0); /* no CD4: no estimate */
    CHECK_INT(verdict(r, "precision:treg"), CG_QC_FAIL);
    CHECK(strstr(detail(r, "precision:treg"), "no estimate") != NULL);
    CHECK_INT(verdict(r, "plausibility:treg_pct"), CG_QC_SKIP);
    cg_qc_result_free(r);
    /* the events row only warns on totals */
    cg_qc_gating g = {0};
    g.total = 4000;
    r = cg_qc_result_new();
    CHECK(cg_qc_gates(p, &g, r, NULL) == 0);
    CHECK_INT(verdict(r, "events"), CG_QC_WARN);
    CHECK(cg_qc_find(r, "precision:treg") == NULL); /* no headline given */
    cg_qc_result_free(r);
}

static void test_plausibility(const cg_qc_params *p)
{
    /* headline ranges: Treg 0.5-25 % of CD4, Th17 at most 20 % */
    const struct { const char *h; int64_t k, n; int v; double thr; } hv[] = {
        {"treg", 3, 4000, CG_QC_WARN, 0.5},   /* 0.075 % */
        {"treg", 20, 4000, CG_QC_PASS, 25},   /* 0.5 %: the bound is in */
        {"treg", 240, 4000, CG_QC_PASS, 25},  /* 6 % */
        {"treg", 1040, 4000, CG_QC_WARN, 25}, /* 26 % */
        {"th17", 40, 4000, CG_QC_PASS, 20},   /* 1 % */
        {"th17", 1000, 4000, CG_QC_WARN, 20}, /* 25 % */
        {"th17", 0, 4000, CG_QC_PASS, 20},    /* none: plausible */
    };
    char name[64];
    for (size_t i = 0; i < sizeof hv / sizeof hv[0]; i++) {
        cg_qc_result *r = heads_only(p, hv[i].h, hv[i].k, hv[i].n);
        snprintf(name, sizeof name, "plausibility:%s_pct", hv[i].h);
        const cg_qc_check *c = cg_qc_find(r, name);
        REQUIRE(c);
        CHECKM(c->verdict == hv[i].v, "%s %lld/%lld: %s", hv[i].h,
               (long long)hv[i].k, (long long)hv[i].n, c->detail);
        CHECK_NEAR(c->value, 100.0 * (double)hv[i].k / (double)hv[i].n,
                   1e-12);
        CHECK_NEAR(c->threshold, hv[i].thr, 0);
        cg_qc_result_free(r);
    }
    cg_qc_result *r = heads_only(p, "treg", 3, 4000);
    CHECK_STR(detail(r, "plausibility:treg_pct"),
              "treg 0.075% of cd4 is below the plausible 0.5-25% "
              "(treg_pct_min): check the treg gate");
    cg_qc_result_free(r);

    /* auto gates: keep % of parents with >= 1000 events */
    enum { N = CG_QC_AUTO_NONE, S = CG_QC_AUTO_SELECT,
           C = CG_QC_AUTO_CLEANUP };
    cg_qc_pop pops[] = {
        {"cells", NULL, 99900, 100000, 0, C},      /* clean-up: fine */
        {"singlets", "cells", 90000, 99900, 0, C},
        {"live", "singlets", 89990, 90000, 0, S},  /* live_pop: fine */
        {"cd3", "live", 89810, 89990, 0, S},       /* 99.8 %: warn */
        {"cd8", "live", 89985, 89990, 0, S},       /* 99.994 %: warn */
        {"cd4", "cd3", 5000, 89810, 0, N},         /* not auto */
        {"nk", "cd3", 0, 999, 0, S},               /* parent < 1000 */
        {"th17", "cd4", 0, 5000, 0, S},            /* none: warn */
        {"treg", "cd4", 3, 5000, 0, S},            /* 0.06 %: pass */
        {"rare", "cd4", 2, 5000, 0, S},            /* 0.04 %: warn */
    };
    int npop = (int)(sizeof pops / sizeof pops[0]);
    cg_qc_gating g = {0};
    g.total = 100000;
    g.pops = pops;
    g.npops = npop;
    r = cg_qc_result_new();
    CHECK(cg_qc_gates(p, &g, r, NULL) == 0);
    dump("plausibility", r);
    CHECK(cg_qc_find(r, "plausibility:cells") == NULL);
    CHECK(cg_qc_find(r, "plausibility:singlets") == NULL);
    CHECK(cg_qc_find(r, "plausibility:live") == NULL);
    CHECK_INT(verdict(r, "plausibility:cd3"), CG_QC_WARN);
    CHECK_STR(detail(r, "plausibility:cd3"),
              "gate cd3 kept 99.8% of live (89810 of 89990): no separation "
              "found");
    CHECK_NEAR(cg_qc_find(r, "plausibility:cd3")->value,
               100.0 * 89810 / 89990, 1e-12);
    CHECK_NEAR(cg_qc_find(r, "plausibility:cd3")->threshold, 99.5, 0);
    CHECK_INT(verdict(r, "plausibility:cd8"), CG_QC_WARN);
    CHECK(strstr(detail(r, "plausibility:cd8"), "kept 99.99% of live")
          != NULL);
    CHECK(cg_qc_find(r, "plausibility:cd4") == NULL);
    CHECK(cg_qc_find(r, "plausibility:nk") == NULL);
    CHECK_INT(verdict(r, "plausibility:th17"), CG_QC_WARN);
    CHECK_STR(detail(r, "plausibility:th17"),
              "gate th17 kept 0% of cd4 (0 of 5000): almost none kept");
    CHECK_NEAR(cg_qc_find(r, "plausibility:th17")->threshold, 0.05, 0);
    CHECK(cg_qc_find(r, "plausibility:treg") == NULL);
    CHECK_INT(verdict(r, "plausibility:rare"), CG_QC_WARN);
    CHECK_NEAR(cg_qc_find(r, "plausibility:rare")->value, 0.04, 1e-12);
    CHECK(cg_qc_find(r, "plausibility") == NULL);
    CHECK_INT(cg_qc_overall(r), CG_QC_WARN);
    cg_qc_result_free(r);
    /* a clean-up gate keeping almost none is judged */
    pops[0].count = 10;
    r = cg_qc_result_new();
    CHECK(cg_qc_gates(p, &g, r, NULL) == 0);
    CHECK_INT(verdict(r, "plausibility:cells"), CG_QC_WARN);
    CHECK(strstr(detail(r, "plausibility:cells"), "(10 of 100000): almost "
                 "none kept") != NULL);
    cg_qc_result_free(r);
    /* nothing flagged: one pass row counting the gates judged (all auto
     * gates but nk, whose parent is below plaus_min_parent) */
    pops[0].count = 90000;
    pops[3].count = 60000;
    pops[4].count = 20000;
    pops[7].count = 50;
    pops[9].count = 30;
    r = cg_qc_result_new();
    CHECK(cg_qc_gates(p, &g, r, NULL) == 0);
    CHECK_INT(verdict(r, "plausibility"), CG_QC_PASS);
    CHECK_NEAR(cg_qc_find(r, "plausibility")->value, 8, 0);
    cg_qc_result_free(r);
}

static void test_file(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(107, 20000, A_NONE, 1);
    cg_qc_input in = {0};
    in.fr = fr;
    in.tot = "20001";
    in.timestep = "junk";
    const char *miss[] = {"FOXP3", "IL17A"};
    in.missing_markers = miss;
    in.n_missing_markers = 2;
    cg_qc_result *r = cg_qc_result_new();
    CHECK(cg_qc_events(p, &in, r, NULL) == 0);
    dump("file", r);
    CHECK_INT(verdict(r, "file_tot"), CG_QC_WARN);
    CHECK(strstr(detail(r, "file_tot"), "20001") != NULL);
    CHECK_INT(verdict(r, "time_channel"), CG_QC_PASS);
    CHECK(strstr(detail(r, "time_channel"), "unusable") != NULL);
    CHECK(verdict(r, "flow_rate") == CG_QC_PASS);
    CHECK(strstr(detail(r, "flow_rate"), "units") != NULL);
    CHECK_INT(verdict(r, "markers"), CG_QC_FAIL);
    CHECK(strstr(detail(r, "markers"), "FOXP3, IL17A") != NULL);
    /* qc.tsv rows */
    char path[512];
    snprintf(path, sizeof path, "%s/test_qc.tsv", CG_TEST_OUT);
    FILE *fp = fopen(path, "w+");
    REQUIRE(fp);
    CHECK(cg_qc_write_header(fp) == 0);
    CHECK(cg_qc_write_rows(fp, "s1", r) == 0);
    rewind(fp);
    char line[1024];
    int nl = 0, ok = 1;
    while (fgets(line, sizeof line, fp)) {
        int tabs = 0;
        for (char *c = line; *c; c++)
            tabs += *c == '\t';
        ok &= tabs == 5;
        nl++;
    }
    fclose(fp);
    CHECK(ok);
    CHECK_INT(nl, r->n + 1);
    cg_qc_result_free(r);
    cg_frame_free(fr);

    /* a time counter that wraps at $PnR = 1024 ticks of 0.01 s */
    fr = make_sample(108, 30000, A_NONE, 1);
    fr->range[8] = 1024;
    for (int64_t i = 0; i < fr->n; i++)
        fr->col[8][i] = fmod(floor(fr->col[8][i] / 0.01 + 0.5), 1024) * 0.01;
    r = run_events(p, fr, NULL, NULL, "0.01");
    CHECK_INT(verdict(r, "flow_rate"), CG_QC_PASS);
    CHECK(strstr(detail(r, "flow_rate"), "wrapped") != NULL);
    CHECK_NEAR(r->s.rate_t0[r->s.nrate - 1] + r->s.rate_w[r->s.nrate - 1],
               30.0, 0.5);
    printf("wrapped: %s\n", detail(r, "flow_rate"));
    cg_qc_result_free(r);
    cg_frame_free(fr);
    /* time jumping back in 5% of events: not monotonic -> warn, not fail */
    fr = make_sample(109, 30000, A_NONE, 1);
    for (int64_t i = 0; i < fr->n; i += 20)
        fr->col[8][i] += 3.0;
    r = run_events(p, fr, NULL, NULL, "0.01");
    CHECK_INT(verdict(r, "flow_rate"), CG_QC_SKIP);
    CHECK(strstr(detail(r, "flow_rate"), "monotonic") != NULL);
    cg_qc_result_free(r);
    cg_frame_free(fr);
    /* a counter that stops at $PnR - 1 (4095 ticks of 0.01 s): the events
     * at the ceiling are left out, not read as a burst */
    fr = make_sample(110, 60000, A_NONE, 1);
    fr->range[8] = 4096;
    int64_t nceil = 0;
    for (int64_t i = 0; i < fr->n; i++)
        if (fr->col[8][i] > 40.95) {
            fr->col[8][i] = 40.95;
            nceil++;
        }
    r = run_events(p, fr, NULL, NULL, "0.01");
    printf("ceiling: %s\n", detail(r, "flow_rate"));
    CHECK_INT(verdict(r, "flow_rate"), CG_QC_PASS);
    CHECK(strstr(detail(r, "flow_rate"), "time ceiling") != NULL);
    CHECK(nceil > 15000);
    cg_qc_result_free(r);
    cg_frame_free(fr);
}

/* ---- threads ------------------------------------------------------------ */

/* The same result, field by field and bit for bit. */
static void same_result(const cg_qc_result *a, const cg_qc_result *b,
                        int threads)
{
    CHECKM(a->n == b->n, "threads=%d: %d rows, not %d", threads, b->n, a->n);
    for (int i = 0; i < a->n && i < b->n; i++) {
        const cg_qc_check *x = &a->checks[i], *y = &b->checks[i];
        CHECKM(strcmp(x->name, y->name) == 0 && x->verdict == y->verdict &&
                   memcmp(&x->value, &y->value, sizeof x->value) == 0 &&
                   memcmp(&x->threshold, &y->threshold,
                          sizeof x->threshold) == 0 &&
                   strcmp(x->detail, y->detail) == 0,
               "threads=%d: row %d differs: %s %s", threads, i, y->name,
               y->detail);
    }
    CHECK_INT(b->n_time_masked, a->n_time_masked);
    REQUIRE(a->time_mask && b->time_mask);
    int64_t diff = 0;
    for (int64_t i = 0; i < a->time_mask->n; i++)
        diff += cg_bits_get(a->time_mask, i) != cg_bits_get(b->time_mask, i);
    CHECKM(diff == 0, "threads=%d: %lld time-mask bits differ", threads,
           (long long)diff);
    const cg_qc_series *s = &a->s, *t = &b->s;
    REQUIRE(s->nrate == t->nrate && s->nstab == t->nstab &&
            s->nschan == t->nschan);
    size_t nr = (size_t)s->nrate, ns = (size_t)s->nstab;
    CHECK(memcmp(s->rate_t0, t->rate_t0, nr * sizeof *s->rate_t0) == 0);
    CHECK(memcmp(s->rate_w, t->rate_w, nr * sizeof *s->rate_w) == 0);
    CHECK(memcmp(s->rate_count, t->rate_count, nr * sizeof *s->rate_count)
          == 0);
    CHECK(memcmp(s->rate_expected, t->rate_expected,
                 nr * sizeof *s->rate_expected) == 0);
    CHECK(memcmp(s->rate_flag, t->rate_flag, nr) == 0);
    CHECK_INT(t->time_seconds, s->time_seconds);
    CHECK(memcmp(s->stab_first, t->stab_first,
                 (ns + 1) * sizeof *s->stab_first) == 0);
    CHECK(memcmp(s->stab_chan, t->stab_chan,
                 (size_t)s->nschan * sizeof *s->stab_chan) == 0);
    CHECKM(memcmp(s->stab_median, t->stab_median,
                  (size_t)s->nschan * ns * sizeof *s->stab_median) == 0,
           "threads=%d: stability medians differ", threads);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Each bin median of the stability series against a sort of the bin. */
static void check_medians(const cg_qc_params *p, const cg_frame *fr,
                          const cg_qc_result *r)
{
    const cg_qc_series *s = &r->s;
    double cof = p->stab_cofactor, *v = malloc((size_t)fr->n * sizeof *v);
    REQUIRE(v);
    int bad = 0;
    for (int k = 0; k < s->nschan; k++)
        for (int b = 0; b < s->nstab; b++) {
            const double *c = fr->col[s->stab_chan[k]];
            int64_t m = 0;
            for (int64_t i = s->stab_first[b]; i < s->stab_first[b + 1]; i++)
                if (!isnan(c[i]))
                    v[m++] = c[i];
            qsort(v, (size_t)m, sizeof *v, cmp_dbl);
            double md = asinh(v[m / 2] / cof);
            if (m % 2 == 0)
                md = 0.5 * (md + asinh(v[m / 2 - 1] / cof));
            double want = sinh(md) * cof;
            bad += s->stab_median[(size_t)k * s->nstab + b] != want;
        }
    CHECKM(bad == 0, "%d bin medians differ from a sort", bad);
    free(v);
}

/* cg_qc_input.threads: 1, 2, 3 and more threads than tasks give the same
 * result on a sample with a clog, a drift, signed zeros and NaNs. */
static void test_threads(const cg_qc_params *p)
{
    cg_frame *fr = make_sample(104, 60000, A_CLOG, 1);
    for (int64_t i = 0; i < fr->n; i++) {
        fr->col[3][i] *= 1 + 0.6 * (double)i / (double)fr->n; /* drift */
        if (i % 5 < 2) /* -0 and +0 at the bins' quartile and median */
            fr->col[4][i] = i % 2 ? 0.0 : -0.0;
        if (i % 997 == 0)
            fr->col[6][i] = NAN;
    }
    cg_matrix *m = make_spill(NULL, 1.0);
    cg_qc_input in = {0};
    in.fr = fr;
    in.tot = "60000";
    in.timestep = "0.01";
    in.spill = m;
    in.comp_source = "$SPILLOVER";
    cg_qc_result *r1 = NULL;
    const int th[] = {1, 0, 2, 3, 16};
    for (int t = 0; t < 5; t++) {
        in.threads = th[t];
        cg_qc_result *r = cg_qc_result_new();
        cg_err e = {0};
        CHECKM(cg_qc_events(p, &in, r, &e) == 0, "cg_qc_events: %s", e.msg);
        if (!r1) {
            r1 = r;
            dump("threads", r1);
            CHECK_INT(verdict(r1, "flow_rate"), CG_QC_FAIL);
            CHECK_INT(verdict(r1, "signal_stability"), CG_QC_FAIL);
            CHECK(r1->s.nstab >= 8 && r1->s.nschan == 5 &&
                  r1->s.nrate >= 10 && r1->n_time_masked > 0);
            check_medians(p, fr, r1);
            continue;
        }
        same_result(r1, r, th[t]);
        cg_qc_result_free(r);
    }
    cg_qc_result_free(r1);
    mat_free(m);
    cg_frame_free(fr);
}

int main(void)
{
    cg_qc_params p;
    cg_qc_params_init(&p);
    test_params();
    test_classify();
    test_clean(&p);
    test_clog(&p);
    test_drift_step(&p);
    test_saturation(&p);
    test_too_few(&p);
    test_comp(&p);
    test_gates(&p);
    test_precision(&p);
    test_plausibility(&p);
    test_file(&p);
    test_threads(&p);
    return TEST_DONE();
}
