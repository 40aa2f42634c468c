/*
 * test_bench_json.c -- smoke test of `cytogate bench --quick --json`: the
 * benchmark runs end to end on tiny generated inputs, and its JSON has
 * the machine, the inputs and every expected row with a positive finite
 * figure, a unit, and (for rows with a target) the target, with `met`
 * null because targets are not judged at quick sizes.  A benchmark is not
 * a timed test: no speed is asserted here.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testutil.h"

static const char *const with_target[] = {
    "read_decode_ms", "compensate_ms", "xform_logicle_ns", "logicle_speedup",
    "gating_ms", "plot_panel_ms", "run_s", "run_rss_mb", "run_noplots_s",
    "run_noplots_rss_mb", "batch_speedup", "batch_rss_growth"};
static const char *const informative[] = {
    "read_decode_mb_s", "read_decode_mev_s", "open_frame_ms",
    "xform_linear_ns", "xform_log_ns", "xform_arcsinh_ns", "xform_asinh_ns",
    "xform_hyperlog_ns", "xform_biex_ns", "logicle_ref_ns", "logicle_setup_ms",
    "xform_data_ns",
    "sample_inproc_ms", "gating_cold_ms", "autogates_ms", "stats_ms",
    "plot_png_ms", "run_cpu_s", "run_noplots_cpu_s", "batch_j1_s",
    "batch_j2_s", "batch_j1_cores", "batch_j2_cores", "batch_j1_rss_mb", "batch_j2_rss_mb",
    "batch_small_j2_rss_mb"};

static json_t *row(json_t *rows, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "id")), id))
            return r;
    }
    return NULL;
}

static int positive(json_t *v)
{
    return json_is_number(v) && isfinite(json_number_value(v)) &&
           json_number_value(v) > 0;
}

int main(void)
{
    char keep[512], cmd[2048];
    snprintf(keep, sizeof keep, "%s/bench_smoke", CG_TEST_OUT);
    snprintf(cmd, sizeof cmd,
             "'%s' bench --quick --json -q --config "
             "'%s/../configs/treg_th17.yaml' --keep '%s'",
             CYTOGATE_BIN, CG_TESTS_DIR, keep);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    json_error_t je;
    json_t *root = json_loadf(p, 0, &je);
    int st = pclose(p);
    CHECKM(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bench exit status %d", st);
    REQUIRE(root);

    json_t *m = json_object_get(root, "machine");
    CHECK(json_integer_value(json_object_get(m, "nproc")) >= 1);
    CHECK(json_is_string(json_object_get(m, "cpu")));
    CHECK(positive(json_object_get(m, "mem_gb")));
    json_t *in = json_object_get(root, "inputs");
    CHECK_INT(json_integer_value(json_object_get(in, "events")), 20000);
    CHECK_INT(json_integer_value(json_object_get(in, "params")), 16);
    CHECK_INT(json_integer_value(json_object_get(in, "comp_channels")), 11);
    CHECK_INT(json_integer_value(json_object_get(in, "batch_samples")), 4);
    /* 20000 events x 16 float32 */
    CHECK(fabs(json_number_value(json_object_get(in, "data_mb")) - 1.28) <
          1e-9);
    CHECK(json_is_false(json_object_get(root, "targets_apply")));

    json_t *rows = json_object_get(root, "rows");
    REQUIRE(json_is_array(rows));
    CHECK_INT(json_array_size(rows),
              sizeof with_target / sizeof *with_target +
                  sizeof informative / sizeof *informative);
    for (size_t k = 0; k < sizeof with_target / sizeof *with_target; k++) {
        json_t *r = row(rows, with_target[k]);
        CHECKM(r != NULL, "row %s missing", with_target[k]);
        if (!r)
            continue;
        CHECKM(positive(json_object_get(r, "value")), "%s value",
               with_target[k]);
        CHECKM(positive(json_object_get(r, "target")), "%s target",
               with_target[k]);
        const char *c = json_string_value(json_object_get(r, "cmp"));
        CHECKM(c && (!strcmp(c, "<=") || !strcmp(c, ">=")), "%s cmp",
               with_target[k]);
        CHECKM(json_is_null(json_object_get(r, "met")), "%s met",
               with_target[k]);
    }
    for (size_t k = 0; k < sizeof informative / sizeof *informative; k++) {
        json_t *r = row(rows, informative[k]);
        CHECKM(r != NULL, "row %s missing", informative[k]);
        if (!r)
            continue;
        CHECKM(positive(json_object_get(r, "value")), "%s value",
               informative[k]);
        CHECKM(json_is_null(json_object_get(r, "target")), "%s target",
               informative[k]);
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *u = json_string_value(json_object_get(r, "unit"));
        CHECK(u && *u);
        CHECK(json_integer_value(json_object_get(r, "reps")) >= 1);
        CHECK(json_is_string(json_object_get(r, "stage")));
    }
    /* the runs it timed exited 0 (recorded in the notes) */
    const char *note = json_string_value(json_object_get(row(rows, "run_s"),
                                                         "note"));
    CHECKM(note && strstr(note, "exit status 0"), "run_s note: %s",
           note ? note : "(null)");
    json_decref(root);

    /* --keep left the inputs, with the stamp that lets a rerun reuse them */
    struct stat sb;
    char path[1024];
    snprintf(path, sizeof path, "%s/inputs/big.fcs", keep);
    CHECK(stat(path, &sb) == 0 && sb.st_size > 1280000);
    snprintf(path, sizeof path, "%s/inputs/inputs.txt", keep);
    CHECK(stat(path, &sb) == 0);

    /* misuse */
    snprintf(cmd, sizeof cmd, "'%s' bench --no-such-option 2>/dev/null",
             CYTOGATE_BIN);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    return TEST_DONE();
}
