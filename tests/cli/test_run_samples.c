/*
 * test_run_samples.c -- the accuracy acceptance of `cytogate run` against
 * the truth sidecars written by `cytogate simulate`.
 *
 *   test_run_samples demo          samples/ with the default config (the
 *                                  README's command 1)
 *   test_run_samples sim N         N >= 20 freshly simulated samples:
 *                                  Treg 2-15 %, Th17 0.3-5 % of CD4, both
 *                                  channel namings, both byte orders
 *
 * Every sample must be processed, with Treg % of CD4 within 0.5 points
 * and Th17 % of CD4 within 0.3 points of the truth.  Prints one line per
 * sample (measured, truth, difference).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#define SRC CG_TESTS_DIR "/.."

/* Column index of name in a TSV header line; -1 when absent. */
static int col_index(char *hdr, const char *name)
{
    int k = 0;
    char *save = NULL;
    char *buf = strdup(hdr);
    if (!buf)
        return -1;
    for (char *t = strtok_r(buf, "\t\n", &save); t; t = strtok_r(NULL, "\t\n", &save), k++)
        if (!strcmp(t, name)) {
            free(buf);
            return k;
        }
    free(buf);
    return -1;
}

static char *field(char *line, int k, char *out, size_t n)
{
    int i = 0;
    const char *s = line;
    while (i < k && s) {
        s = strchr(s, '\t');
        if (s)
            s++;
        i++;
    }
    if (!s) {
        out[0] = '\0';
        return out;
    }
    size_t len = strcspn(s, "\t\n");
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

static double num(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end != s && *end == '\0' ? v : NAN;
}

/* Compare summary.tsv in outdir with <truthdir>/<id>.truth.json. */
static int compare(const char *outdir, const char *truthdir, int expect_n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.tsv", outdir);
    FILE *fp = fopen(path, "r");
    REQUIRE(fp != NULL);
    static char line[1 << 16];
    REQUIRE(fgets(line, sizeof line, fp) != NULL);
    int ci = col_index(line, "sample_id"), cs = col_index(line, "status"),
        ct = col_index(line, "treg_pct_cd4"), ch = col_index(line, "th17_pct_cd4");
    REQUIRE(ci == 0 && cs > 0 && ct > 0 && ch > 0);
    int n = 0;
    double worst_t = 0, worst_h = 0;
    while (fgets(line, sizeof line, fp)) {
        char id[256], st[32], tv[64], hv[64];
        field(line, ci, id, sizeof id);
        field(line, cs, st, sizeof st);
        double t = num(field(line, ct, tv, sizeof tv));
        double h = num(field(line, ch, hv, sizeof hv));
        snprintf(path, sizeof path, "%s/%s.truth.json", truthdir, id);
        json_error_t je;
        json_t *tr = json_load_file(path, 0, &je);
        CHECKM(tr != NULL, "%s: %s", path, je.text);
        if (!tr)
            continue;
        double tt = json_real_value(json_object_get(tr, "treg_pct_cd4"));
        double th = json_real_value(json_object_get(tr, "th17_pct_cd4"));
        json_decref(tr);
        printf("%-10s %-5s treg %8.3f truth %8.3f (%+.3f)   th17 %7.3f truth "
               "%7.3f (%+.3f)\n", id, st, t, tt, t - tt, h, th, h - th);
        CHECKM(!strcmp(st, "ok"), "%s: status %s", id, st);
        CHECKM(fabs(t - tt) <= 0.5, "%s: Treg %% of CD4 %.3f vs truth %.3f", id,
               t, tt);
        CHECKM(fabs(h - th) <= 0.3, "%s: Th17 %% of CD4 %.3f vs truth %.3f", id,
               h, th);
        if (fabs(t - tt) > worst_t)
            worst_t = fabs(t - tt);
        if (fabs(h - th) > worst_h)
            worst_h = fabs(h - th);
        n++;
    }
    fclose(fp);
    printf("%d samples; largest |error|: Treg %.3f points, Th17 %.3f points\n",
           n, worst_t, worst_h);
    CHECK_INT(n, expect_n);
    return 0;
}

static int count_rows(const char *csv)
{
    FILE *fp = fopen(csv, "r");
    if (!fp)
        return -1;
    int n = -1, c, last = '\n';
    while ((c = fgetc(fp)) != EOF) {
        if (c == '\n')
            n++;
        last = c;
    }
    if (last != '\n')
        n++;
    fclose(fp);
    return n;
}

int main(int argc, char **argv)
{
    char cmd[8192];
    if (argc >= 2 && !strcmp(argv[1], "demo")) {
        const char *out = CG_TEST_OUT "/run_samples_demo";
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run -q -j 2 --no-plots "
                 "-c '%s/configs/treg_th17.yaml' --sheet '%s/samples/sheet.csv' "
                 "-o '%s'", out, CYTOGATE_BIN, SRC, SRC, out);
        CHECK_INT(system(cmd), 0);
        int n = count_rows(SRC "/samples/sheet.csv");
        REQUIRE(n > 0);
        compare(out, SRC "/samples", n);
        return TEST_DONE();
    }
    if (argc >= 3 && !strcmp(argv[1], "sim")) {
        int n = atoi(argv[2]);
        REQUIRE(n >= 20);
        const char *dir = CG_TEST_OUT "/run_samples_sim";
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/data'", dir, dir);
        REQUIRE(system(cmd) == 0);
        char sheet[4096];
        snprintf(sheet, sizeof sheet, "%s/data/sheet.csv", dir);
        FILE *sh = fopen(sheet, "w");
        REQUIRE(sh != NULL);
        fprintf(sh, "file,sample_id,subject,visit\n");
        for (int i = 0; i < n; i++) {
            double treg = 2 + 13.0 * i / (n - 1);
            double th17 = 0.3 + 4.7 * ((i * 7) % n) / (double)(n - 1);
            const char *naming = i % 2 ? "cytek" : "bd";
            int big = (i / 2) % 2;
            snprintf(cmd, sizeof cmd, "'%s' simulate -o '%s/data/sim%02d.fcs' "
                     "--seed %d --events 30000 --treg %.3f --th17 %.3f "
                     "--naming %s %s --sample-id sim%02d", CYTOGATE_BIN, dir, i,
                     1000 + i, treg, th17, naming, big ? "--big-endian" : "", i);
            REQUIRE(system(cmd) == 0);
            fprintf(sh, "sim%02d.fcs,sim%02d,P%d,%d\n", i, i, i / 3 + 1, i % 3 + 1);
        }
        fclose(sh);
        snprintf(cmd, sizeof cmd, "'%s' run -q -j 2 --no-plots -c "
                 "'%s/configs/treg_th17.yaml' --sheet '%s' -o '%s/out'",
                 CYTOGATE_BIN, SRC, sheet, dir);
        CHECK_INT(system(cmd), 0);
        char out[4096], data[4096];
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(data, sizeof data, "%s/data", dir);
        compare(out, data, n);
        return TEST_DONE();
    }
    fprintf(stderr, "usage: test_run_samples demo | sim N\n");
    return 2;
}
