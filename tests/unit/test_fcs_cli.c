/*
 * test_fcs_cli.c -- `cytogate info` and `cytogate dump` end to end: dump
 * prints %.17g values that read back identical (raw and scaled, --head,
 * --tail, --channels, --dataset), info --json has the documented keys in
 * order with the right values, and bad input gives exit 2 with one line
 * "cytogate dump: FILE: message (at byte N)"; misuse gives exit 1.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcs.h"
#include "testutil.h"

static char out[1 << 20];

static int run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
    char path[512], bad[512], cmd[2048];
    snprintf(path, sizeof path, "%s/fcs_cli_%d.fcs", CG_TEST_OUT, (int)getpid());
    snprintf(bad, sizeof bad, "%s/fcs_cli_bad_%d.fcs", CG_TEST_OUT,
             (int)getpid());
    enum { N = 50 };
    double a[N], b[N];
    for (int i = 0; i < N; i++) {
        a[i] = (double)(float)(i * 1.1);
        b[i] = (double)(float)(1.0 / (i + 3));
    }
    const double *cols[2] = {a, b};
    fcs_wparam p[2] = {{"FSC-A", "forward", 262144}, {"CD3", "CD3 FITC", 1}};
    fcs_kv kv[] = {{"$P2G", "4"}, {"$CYT", "test"}};
    fcs_err e;
    REQUIRE(fcs_write(path, 2, p, N, cols, kv, 2, NULL, NULL, &e) == 0);

    /* dump --raw: header + all rows, exact */
    snprintf(cmd, sizeof cmd, "'%s' dump --raw '%s'", CYTOGATE_BIN, path);
    CHECK_INT(run(cmd), 0);
    char *line = strtok(out, "\n");
    CHECK_STR(line, "FSC-A\tCD3");
    int rows = 0, same = 1;
    while ((line = strtok(NULL, "\n"))) {
        char *tab = strchr(line, '\t');
        same &= tab && strtod(line, NULL) == a[rows] &&
                strtod(tab + 1, NULL) == b[rows];
        rows++;
    }
    CHECK_INT(rows, N);
    CHECK(same);
    /* scaled (default): CD3 / $P2G; --channels order; --head/--tail */
    snprintf(cmd, sizeof cmd,
             "'%s' dump --channels CD3,FSC-A --head 1 --tail 2 '%s'",
             CYTOGATE_BIN, path);
    CHECK_INT(run(cmd), 0);
    line = strtok(out, "\n");
    CHECK_STR(line, "CD3\tFSC-A");
    int evs[3] = {0, N - 2, N - 1};
    for (int k = 0; k < 3; k++) {
        line = strtok(NULL, "\n");
        REQUIRE(line);
        char *tab = strchr(line, '\t');
        CHECK(tab && strtod(line, NULL) == b[evs[k]] / 4 &&
              strtod(tab + 1, NULL) == a[evs[k]]);
    }
    CHECK(strtok(NULL, "\n") == NULL);
    /* unknown channel: data error */
    snprintf(cmd, sizeof cmd, "'%s' dump --channels nope '%s' 2>&1",
             CYTOGATE_BIN, path);
    CHECK_INT(run(cmd), 2);
    CHECK(strstr(out, "no parameter named 'nope'") != NULL);
    /* --dataset past the chain */
    snprintf(cmd, sizeof cmd, "'%s' dump --dataset 2 '%s' 2>&1", CYTOGATE_BIN,
             path);
    CHECK_INT(run(cmd), 2);

    /* bad input: truncated copy */
    FILE *in = fopen(path, "rb"), *o = fopen(bad, "wb");
    REQUIRE(in && o);
    char buf[400];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n, o);
    fclose(in);
    fclose(o);
    snprintf(cmd, sizeof cmd, "'%s' dump '%s' 2>&1 >/dev/null", CYTOGATE_BIN,
             bad);
    CHECK_INT(run(cmd), 2);
    char want[700];
    snprintf(want, sizeof want, "cytogate dump: %s: ", bad);
    CHECK(strncmp(out, want, strlen(want)) == 0);
    CHECK(strstr(out, "(at byte ") != NULL);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    snprintf(cmd, sizeof cmd, "'%s' dump 2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' info 2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);

    /* info --json */
    snprintf(cmd, sizeof cmd, "'%s' info --json '%s'", CYTOGATE_BIN, path);
    CHECK_INT(run(cmd), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "version")), "FCS3.1");
    const char *order[] = {"file", "version", "datasets", "warnings"};
    void *it = json_object_iter(j);
    for (int k = 0; k < 4; k++, it = json_object_iter_next(j, it))
        CHECK(it && strcmp(json_object_iter_key(it), order[k]) == 0);
    json_t *ds = json_array_get(json_object_get(j, "datasets"), 0);
    CHECK_INT(json_integer_value(json_object_get(ds, "events")), N);
    json_t *p2 = json_array_get(json_object_get(ds, "params"), 1);
    CHECK_STR(json_string_value(json_object_get(p2, "name")), "CD3");
    CHECK_STR(json_string_value(json_object_get(p2, "label")), "CD3 FITC");
    CHECK_INT(json_integer_value(json_object_get(p2, "bits")), 32);
    CHECK(json_real_value(json_object_get(p2, "gain")) == 4);
    CHECK(json_real_value(json_object_get(p2, "range")) == 1);
    CHECK_INT(json_array_size(json_object_get(p2, "log")), 2);
    CHECK(json_is_null(json_object_get(ds, "spillover")));
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(ds, "keywords"), "$CYT")), "test");
    json_decref(j);
    /* info on a corpus file with a spillover; two files give an array */
    snprintf(cmd, sizeof cmd, "'%s' info --json '%s' '%s'", CYTOGATE_BIN,
             CG_SHARED_DIR "/fcs-corpus/FlowKit/test_comp_example.fcs", path);
    CHECK_INT(run(cmd), 0);
    j = json_loads(out, 0, &je);
    REQUIRE(j && json_is_array(j));
    json_t *sp = json_object_get(
        json_array_get(json_object_get(json_array_get(j, 0), "datasets"), 0),
        "spillover");
    CHECK(json_is_object(sp));
    CHECK_STR(json_string_value(json_object_get(sp, "keyword")), "SPILL");
    CHECK(json_array_size(json_object_get(sp, "matrix")) ==
          json_array_size(json_object_get(sp, "channels")));
    json_decref(j);
    /* info: one bad file among good ones -> exit 2, good one reported */
    snprintf(cmd, sizeof cmd, "'%s' info '%s' '%s' 2>/dev/null", CYTOGATE_BIN,
             bad, path);
    CHECK_INT(run(cmd), 2);
    CHECK(strstr(out, "FSC-A") != NULL);
    unlink(path);
    unlink(bad);
    return TEST_DONE();
}
