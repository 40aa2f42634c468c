/*
 * test_simulate.c -- the simulator's files and options.
 *
 * Asserts: same options -> identical events and identical file bytes;
 * another seed -> different events; FCS written in both byte orders and
 * both namings reads back (fcs_open) with the right $PnN/$PnS, $BYTEORD,
 * $SPILLOVER (equal to the generating matrix), $TIMESTEP and float32
 * values; the truth JSON agrees with the per-event labels; realised Treg
 * and Th17 fractions are within 4 binomial SEs of the requested ones;
 * each anomaly leaves its signature (clog: the 40-42% events take ~10x
 * their normal time; drift: the drifting detector's CD4 median rises by
 * ~amount; saturation: the requested % of events sits at $PnR-1 on FSC-A;
 * few: few_events events); bad options are refused; the CLI writes the
 * files, refuses bad usage with exit 1; and scripts/make-samples.sh
 * regenerates samples/ byte-identically.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fcs.h"
#include "simulate.h"
#include "testutil.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    if (b && fread(b, 1, n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        b[n] = 0;
    *len = n;
    return b;
}

static int same_file(const char *a, const char *b)
{
    long na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void check_readback(const cg_sim_data *d, const cg_sim_opts *o,
                           const char *path)
{
    fcs_err fe;
    fcs_file *f = fcs_open(path, NULL, &fe);
    CHECKM(f != NULL, "%s: %s", path, f ? "" : fe.msg);
    if (!f)
        return;
    CHECK_STR(fcs_version(f), "FCS3.1");
    CHECK_INT(fcs_n_events(f), d->n);
    CHECK_INT(fcs_n_params(f), d->npar);
    CHECK_STR(fcs_keyword(f, "$BYTEORD"), o->big_endian ? "4,3,2,1"
                                                        : "1,2,3,4");
    CHECK_STR(fcs_keyword(f, "$TIMESTEP"), "0.001");
    if (o->sample_id[0])
        CHECK_STR(fcs_keyword(f, "$SRC"), o->sample_id);
    for (int j = 0; j < d->npar; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        CHECK_STR(p->name, d->name[j]);
        if (d->label[j])
            CHECK_STR(p->label, d->label[j]);
        CHECK_NEAR(p->range, d->range[j], 0);
    }
    CHECK_INT(fcs_time_index(f), d->time);
    fcs_spill *sp = NULL;
    CHECK_INT(fcs_spillover(f, &sp, &fe), 1);
    if (sp) {
        CHECK_INT(sp->n, d->nfl);
        int same = 1;
        for (int k = 0; k < d->nfl; k++)
            same &= strcmp(sp->names[k], d->spill_names[k]) == 0;
        for (int k = 0; k < d->nfl * d->nfl; k++)
            same &= sp->m[k] == d->spill[k];
        CHECKM(same, "%s: $SPILLOVER differs from the generating matrix",
               path);
        fcs_spill_free(sp);
    }
    double **cols = malloc(d->npar * sizeof *cols);
    for (int j = 0; j < d->npar; j++)
        cols[j] = malloc(d->n * sizeof **cols);
    CHECK_INT(fcs_read_double(f, FCS_RAW, 0, d->n, cols, &fe), d->n);
    int64_t bad = 0;
    for (int j = 0; j < d->npar; j++)
        for (int64_t i = 0; i < d->n; i++)
            bad += cols[j][i] != (double)(float)d->col[j][i];
    CHECKM(bad == 0, "%s: %lld values differ from float32(generated)", path,
           (long long)bad);
    for (int j = 0; j < d->npar; j++)
        free(cols[j]);
    free(cols);
    fcs_close(f);
}

int main(void)
{
    cg_err err;
    cg_sim_opts o;
    char p1[1024], p2[1024], t1[1024], cmd[4096];

    /* ---- determinism ---- */
    cg_sim_opts_init(&o);
    o.events = 20000;
    o.seed = 7;
    snprintf(o.sample_id, sizeof o.sample_id, "T1");
    cg_sim_data *a = cg_sim_generate(&o, &err), *b = cg_sim_generate(&o, &err);
    REQUIRE(a && b);
    int same = 1;
    for (int j = 0; j < a->npar; j++)
        same &= memcmp(a->col[j], b->col[j], a->n * sizeof(double)) == 0;
    CHECK(same);
    CHECK(memcmp(a->cls, b->cls, a->n) == 0);
    o.seed = 8;
    cg_sim_data *c = cg_sim_generate(&o, &err);
    REQUIRE(c);
    CHECK(memcmp(a->col[a->fsc_a], c->col[c->fsc_a], a->n * sizeof(double)));
    cg_sim_free(c);
    o.seed = 7;
    snprintf(p1, sizeof p1, "%s/sim_a.fcs", CG_TEST_OUT);
    snprintf(p2, sizeof p2, "%s/sim_b.fcs", CG_TEST_OUT);
    snprintf(t1, sizeof t1, "%s/sim_a.truth.json", CG_TEST_OUT);
    REQUIRE(cg_sim_write(a, &o, p1, t1, &err) == 0);
    REQUIRE(cg_sim_write(b, &o, p2, NULL, &err) == 0);
    CHECK(same_file(p1, p2));
    check_readback(a, &o, p1);

    /* ---- truth agrees with labels ---- */
    int64_t cd4 = 0, treg = 0, th17 = 0, like = 0, sum = 0;
    for (int64_t i = 0; i < a->n; i++) {
        if (a->cls[i] != CG_SIM_CD4T)
            continue;
        cd4++;
        treg += (a->flags[i] & CG_SIM_F_TREG) != 0;
        th17 += (a->flags[i] & CG_SIM_F_TH17) != 0;
        like += (a->flags[i] & CG_SIM_F_CCR6) && !(a->flags[i] & CG_SIM_F_CXCR3);
    }
    for (int k = 0; k < CG_SIM_NCLASS; k++)
        sum += a->truth.by_class[k];
    CHECK_INT(sum, a->n);
    CHECK_INT(a->truth.cd4, cd4);
    CHECK_INT(a->truth.treg, treg);
    CHECK_INT(a->truth.th17, th17);
    CHECK_INT(a->truth.th17_like, like);
    json_error_t je;
    json_t *js = json_load_file(t1, 0, &je);
    CHECKM(js != NULL, "truth JSON: %s", js ? "" : je.text);
    if (js) {
        CHECK_INT(json_integer_value(json_object_get(js, "cd4_count")), cd4);
        CHECK_INT(json_integer_value(json_object_get(js, "treg_count")), treg);
        CHECK_INT(json_integer_value(json_object_get(js, "th17_count")), th17);
        CHECK_NEAR(json_real_value(json_object_get(js, "treg_pct_cd4")),
                   100.0 * treg / cd4, 1e-9);
        CHECK_NEAR(json_real_value(json_object_get(js, "th17_pct_cd4")),
                   100.0 * th17 / cd4, 1e-9);
        CHECK_NEAR(json_real_value(json_object_get(js, "th17_treg_ratio")),
                   (double)th17 / treg, 1e-9);
        json_t *opt = json_object_get(js, "options");
        CHECK_INT(json_integer_value(json_object_get(opt, "seed")), 7);
        CHECK_STR(json_string_value(json_object_get(opt, "naming")), "bd");
        CHECK_STR(json_string_value(json_object_get(
                      json_object_get(js, "channels"), "IL17A")), "PE-A");
        json_decref(js);
    }
    cg_sim_free(a);
    cg_sim_free(b);

    /* ---- Cytek naming, big-endian ---- */
    cg_sim_opts_init(&o);
    o.events = 5000;
    o.naming = CG_SIM_NAMING_CYTEK;
    o.big_endian = 1;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    CHECK_STR(a->name[a->fl_param[CG_SIM_FOXP3]], "R1-A");
    CHECK_STR(a->label[a->fl_param[CG_SIM_FOXP3]], "FoxP3");
    CHECK_STR(a->label[a->fl_param[CG_SIM_CCR6]], "CCR6 (CD196)");
    CHECK_STR(a->label[a->fl_param[CG_SIM_VIAB]], "Zombie");
    CHECK_STR(a->label[a->fl_param[CG_SIM_IL17A]], "IL-17A");
    CHECK_INT(a->time, 0);
    snprintf(p1, sizeof p1, "%s/sim_cytek_be.fcs", CG_TEST_OUT);
    REQUIRE(cg_sim_write(a, &o, p1, NULL, &err) == 0);
    check_readback(a, &o, p1);
    cg_sim_free(a);

    /* ---- realised fractions track the request ---- */
    cg_sim_opts_init(&o);
    o.events = 200000;
    o.treg_pct = 12;
    o.th17_pct = 0.4;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    double n4 = (double)a->truth.cd4;
    double se_t = 100 * sqrt(0.12 * 0.88 / n4), se_h = 100 * sqrt(0.004 * 0.996 / n4);
    printf("200k events: cd4 %.0f, treg %.3f%% (asked 12, SE %.3f), th17 "
           "%.3f%% (asked 0.4, SE %.3f)\n",
           n4, a->truth.treg_pct_cd4, se_t, a->truth.th17_pct_cd4, se_h);
    CHECK_NEAR(a->truth.treg_pct_cd4, 12, 4 * se_t);
    CHECK_NEAR(a->truth.th17_pct_cd4, 0.4, 4 * se_h);
    CHECK_NEAR(n4 / a->n, 0.85 * 0.85 * 0.78 * 0.62, 0.02);
    cg_sim_free(a);

    /* ---- anomalies ---- */
    cg_sim_opts_init(&o);
    o.events = 40000;
    o.anomalies = CG_SIM_CLOG;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    const double *tm = a->col[a->time];
    double span_clog = tm[(int)(0.42 * a->n)] - tm[(int)(0.40 * a->n)];
    double span_norm = tm[(int)(0.22 * a->n)] - tm[(int)(0.20 * a->n)];
    double span_burst = tm[(int)(0.45 * a->n)] - tm[(int)(0.42 * a->n)];
    printf("clog: 2%% of events take %.0f ticks (normal %.0f); burst 3%% in "
           "%.0f\n", span_clog, span_norm, span_burst);
    CHECK(span_clog > 7 * span_norm && span_clog < 13 * span_norm);
    CHECK(span_burst < 0.5 * span_norm);
    for (int64_t i = 1; i < a->n; i++)
        if (tm[i] < tm[i - 1]) {
            CHECK(!"time decreases");
            break;
        }
    cg_sim_free(a);

    o.anomalies = CG_SIM_DRIFT;
    o.drift_amount = 0.5;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    double *v1 = malloc(a->n * sizeof *v1), *v2 = malloc(a->n * sizeof *v2);
    int n1 = 0, n2 = 0;
    const double *cd4c = a->col[a->fl_param[CG_SIM_CD4]];
    for (int64_t i = 0; i < a->n; i++) {
        if (a->cls[i] != CG_SIM_CD4T)
            continue;
        if (i < a->n / 10)
            v1[n1++] = cd4c[i];
        else if (i >= a->n - a->n / 10)
            v2[n2++] = cd4c[i];
    }
    double ratio = median(v2, n2) / median(v1, n1);
    printf("drift: CD4 median last/first tenth %.3f (expect ~1.45)\n", ratio);
    CHECK(ratio > 1.35 && ratio < 1.55);
    free(v1);
    free(v2);
    cg_sim_free(a);

    o.anomalies = CG_SIM_SATURATION;
    o.saturate_pct = 5;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    int64_t sat = 0;
    for (int64_t i = 0; i < a->n; i++)
        sat += a->col[a->fsc_a][i] >= a->range[a->fsc_a] - 1;
    printf("saturation: %.2f%% of events at FSC-A $PnR-1\n",
           100.0 * sat / a->n);
    CHECK_NEAR(100.0 * sat / a->n, 5, 0.6);
    CHECK_INT(sat, a->truth.by_class[CG_SIM_AGGREGATE]);
    cg_sim_free(a);

    o.anomalies = CG_SIM_FEW;
    o.few_events = 250;
    a = cg_sim_generate(&o, &err);
    REQUIRE(a);
    CHECK_INT(a->n, 250);
    cg_sim_free(a);

    /* ---- bad options ---- */
    cg_sim_opts_init(&o);
    o.treg_pct = 95;
    CHECK(cg_sim_generate(&o, &err) == NULL);
    CHECK_INT(err.code, CG_E_ARG);
    cg_sim_opts_init(&o);
    o.anomalies = CG_SIM_DRIFT;
    snprintf(o.drift_marker, sizeof o.drift_marker, "CD99");
    CHECK(cg_sim_generate(&o, &err) == NULL);
    CHECK(strstr(err.msg, "CD99") != NULL);
    cg_sim_opts_init(&o);
    o.events = 0;
    CHECK(cg_sim_generate(&o, &err) == NULL);

    /* ---- CLI ---- */
    snprintf(p1, sizeof p1, "%s/cli_sim.fcs", CG_TEST_OUT);
    snprintf(t1, sizeof t1, "%s/cli_sim.truth.json", CG_TEST_OUT);
    remove(p1);
    remove(t1);
    snprintf(cmd, sizeof cmd,
             "'%s' simulate -o '%s' --seed 5 --events 3000 --treg 9 --th17 2 "
             "--naming cytek --anomaly clog,drift --drift-marker CD25",
             CYTOGATE_BIN, p1);
    CHECK_INT(WEXITSTATUS(system(cmd)), 0);
    js = json_load_file(t1, 0, &je);
    CHECK(js != NULL);
    if (js) {
        json_t *opt = json_object_get(js, "options");
        CHECK_STR(json_string_value(json_object_get(opt, "drift_marker")),
                  "CD25");
        CHECK_INT(json_array_size(json_object_get(opt, "anomalies")), 2);
        CHECK_INT(json_integer_value(json_object_get(js, "events")), 3000);
        json_decref(js);
    }
    snprintf(cmd, sizeof cmd, "'%s' simulate -o '%s' --treg 150 2>/dev/null",
             CYTOGATE_BIN, p1);
    CHECK_INT(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof cmd, "'%s' simulate --anomaly bogus -o x 2>/dev/null",
             CYTOGATE_BIN);
    CHECK_INT(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof cmd, "'%s' simulate 2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof cmd, "'%s' simulate -o /nonexistent/dir/x.fcs "
             "2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(WEXITSTATUS(system(cmd)), 2);

    /* ---- samples/ regenerate byte-identically ---- */
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s/samples' && sh '%s/../scripts/make-samples.sh' '%s' "
             "'%s/samples'",
             CG_TEST_OUT, CG_TESTS_DIR, CYTOGATE_BIN, CG_TEST_OUT);
    CHECK_INT(WEXITSTATUS(system(cmd)), 0);
    static const char *const ids[] = {"S01_V1", "S01_V2", "S01_V3",
                                      "S02_V1", "S02_V2", "S02_V3",
                                      "S03_V1", "S03_V2"};
    long total = 0;
    for (int s = 0; s < 8; s++)
        for (int k = 0; k < 2; k++) {
            const char *ext = k ? ".truth.json" : ".fcs";
            snprintf(p1, sizeof p1, "%s/../samples/%s%s", CG_TESTS_DIR,
                     ids[s], ext);
            snprintf(p2, sizeof p2, "%s/samples/%s%s", CG_TEST_OUT, ids[s],
                     ext);
            CHECKM(same_file(p1, p2), "%s differs from its regeneration", p1);
            long len;
            char *buf = slurp(p1, &len);
            total += buf ? len : 0;
            free(buf);
        }
    snprintf(p1, sizeof p1, "%s/../samples/sheet.csv", CG_TESTS_DIR);
    snprintf(p2, sizeof p2, "%s/samples/sheet.csv", CG_TEST_OUT);
    CHECK(same_file(p1, p2));
    printf("samples/: %ld bytes (limit 5000000)\n", total);
    CHECK(total > 0 && total <= 5000000);
    return TEST_DONE();
}
