/*
 * test_plot_cli.c -- `cytogate plot` end to end: simulate a sample, plot
 * CD25 x CD127 of cd4 with the default config, decode the PNG and check
 * its size, tEXt keys (markers, population, sample, config hash), the
 * treg gate's outline (a long vertical run of black pixels inside the plot
 * that is not the frame), density pixels, identical bytes on a re-run,
 * a histogram with --x only, and the exit codes of the error paths.
 * Then `cytogate run` with a sheet that overrides the cd3 cut: its slide
 * and the strategy figure have purple pixels (and the strategy a legend
 * band), which the same run without the override column has not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test_plot_png.h"
#include "testutil.h"

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Longest vertical run of dark pixels in column x. */
static int dark_run(const tpng *p, int x)
{
    int best = 0, cur = 0;
    for (int y = 0; y < p->h; y++) {
        const unsigned char *c = tpng_px(p, x, y);
        if (c[0] < 70 && c[1] < 70 && c[2] < 70)
            cur++;
        else
            cur = 0;
        if (cur > best)
            best = cur;
    }
    return best;
}

/* CGP_OVERRIDE (142, 36, 170), allowing for antialiasing. */
static int n_purple(const tpng *p)
{
    int n = 0;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            const unsigned char *c = tpng_px(p, x, y);
            n += c[0] >= 110 && c[0] <= 175 && c[1] <= 75 && c[2] >= 135 &&
                 c[2] <= 205 && c[2] > c[0];
        }
    return n;
}

static void test_run_override(const char *fcs)
{
    const char *cfg = CG_TESTS_DIR "/../configs/treg_th17.yaml";
    char cmd[4096], sheet[512], out[2][512], path[1200];
    int purple[2][2], height[2];
    for (int k = 0; k < 2; k++) {
        snprintf(sheet, sizeof sheet, "%s/plot_cli_sheet%d.csv", CG_TEST_OUT,
                 k);
        snprintf(out[k], sizeof out[k], "%s/plot_cli_run%d", CG_TEST_OUT, k);
        FILE *f = fopen(sheet, "w");
        REQUIRE(f);
        if (k)
            fprintf(f, "file,sample_id,gate:cd3\n%s,S1,0.3\n", fcs);
        else
            fprintf(f, "file,sample_id\n%s,S1\n", fcs);
        fclose(f);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run -q -c '%s' "
                 "--sheet '%s' -o '%s' >/dev/null 2>&1", out[k], CYTOGATE_BIN,
                 cfg, sheet, out[k]);
        CHECK_INT(run(cmd), 0);
        const char *fig[2] = {"cd3.png", "strategy.png"};
        for (int j = 0; j < 2; j++) {
            snprintf(path, sizeof path, "%s/plots/S1/%s", out[k], fig[j]);
            tpng p;
            purple[k][j] = -1;
            if (tpng_read(path, &p) == 0) {
                purple[k][j] = n_purple(&p);
                if (j == 1)
                    height[k] = p.h;
                tpng_free(&p);
            }
        }
    }
    CHECK_INT(purple[0][0], 0);
    CHECKM(purple[1][0] > 100, "override slide: %d purple", purple[1][0]);
    CHECKM(purple[1][1] > purple[0][1] + 50, "override strategy: %d vs %d",
           purple[1][1], purple[0][1]);
    CHECK(height[1] >= height[0]);
}

int main(void)
{
    char cmd[2048], fcs[512], png[512], png2[512], hist[512];
    const char *cfg = CG_TESTS_DIR "/../configs/treg_th17.yaml";
    snprintf(fcs, sizeof fcs, "%s/plot_cli.fcs", CG_TEST_OUT);
    snprintf(png, sizeof png, "%s/plot_cli.png", CG_TEST_OUT);
    snprintf(png2, sizeof png2, "%s/plot_cli2.png", CG_TEST_OUT);
    snprintf(hist, sizeof hist, "%s/plot_cli_hist.png", CG_TEST_OUT);
    snprintf(cmd, sizeof cmd, "'%s' simulate --seed 3 --events 40000 "
             "--treg 8 --no-truth -o '%s'", CYTOGATE_BIN, fcs);
    REQUIRE(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s' --x CD25 --y CD127 "
             "--parent cd4 -o '%s'", CYTOGATE_BIN, cfg, fcs, png);
    CHECK_INT(run(cmd), 0);
    tpng p;
    REQUIRE(tpng_read(png, &p) == 0);
    CHECK_INT(p.w, 1000);
    CHECK_INT(p.h, 900);
    CHECK(!p.has_time);
    CHECK_STR(tpng_text(&p, "MarkerX"), "CD25");
    CHECK_STR(tpng_text(&p, "MarkerY"), "CD127");
    CHECK_STR(tpng_text(&p, "Population"), "cd4");
    CHECK_STR(tpng_text(&p, "Sample"), "plot_cli");
    const char *h = tpng_text(&p, "ConfigHash");
    CHECK(h && strlen(h) == 64);
    CHECK(tpng_text(&p, "Software") &&
          !strncmp(tpng_text(&p, "Software"), "cytogate ", 9));
    /* frame: the two longest dark columns are the frame's sides; the treg
     * gate's left edge is a third long vertical run between them */
    int runs[1000], fl = -1, fr = -1;
    for (int x = 0; x < p.w; x++)
        runs[x] = dark_run(&p, x);
    for (int x = 0; x < p.w; x++)
        if (runs[x] > 400) {
            if (fl < 0)
                fl = x;
            fr = x;
        }
    REQUIRE(fl >= 0 && fr > fl + 400);
    int gate_col = 0, colour = 0;
    for (int x = fl + 5; x < fr - 5; x++)
        if (runs[x] > 100)
            gate_col = 1;
    for (int y = 0; y < p.h; y++)
        for (int x = fl + 3; x < fr - 3; x++) {
            const unsigned char *c = tpng_px(&p, x, y);
            colour += c[2] > 150 && c[0] < 100; /* blue/cyan density */
        }
    CHECK(gate_col);
    CHECKM(colour > 500, "density pixels %d", colour);
    tpng_free(&p);
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s' --x CD25 --y CD127 "
             "--parent cd4 -o '%s'", CYTOGATE_BIN, cfg, fcs, png2);
    CHECK_INT(run(cmd), 0);
    CHECK_INT(files_equal(png, png2), 1);
    /* histogram */
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s' --x IL17A "
             "--parent cd4 --size 600x500 -o '%s'", CYTOGATE_BIN, cfg, fcs,
             hist);
    CHECK_INT(run(cmd), 0);
    REQUIRE(tpng_read(hist, &p) == 0);
    CHECK_INT(p.w, 600);
    CHECK_INT(p.h, 500);
    CHECK_STR(tpng_text(&p, "MarkerX"), "IL17A");
    CHECK(tpng_text(&p, "MarkerY") == NULL);
    tpng_free(&p);
    /* errors: usage (1) and data (2) */
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s' --x Nope 2>/dev/null",
             CYTOGATE_BIN, cfg, fcs);
    CHECK_INT(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s' --x CD25 --parent "
             "nope 2>/dev/null", CYTOGATE_BIN, cfg, fcs);
    CHECK_INT(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' plot -q -c '%s' '%s/none.fcs' --x CD25 "
             "2>/dev/null", CYTOGATE_BIN, cfg, CG_TEST_OUT);
    CHECK_INT(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "'%s' plot -q '%s' --x CD25 2>/dev/null",
             CYTOGATE_BIN, fcs);
    CHECK_INT(run(cmd), 1);
    test_run_override(fcs);
    return TEST_DONE();
}
