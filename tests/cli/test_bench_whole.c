/*
 * test_bench_whole.c -- `cytogate bench --whole` (issue 14).
 *
 * 1. cg_bench_widen: a simulated file cut to 12 parameters loses BV711-A
 *    and FITC-A and their spillover rows and columns, keeps every other
 *    value exactly; widened to 30 it gains X15-A..X30-A, scaled float32
 *    copies of the spillover channels; 11 is refused.
 * 2. A quick `--whole` run at tiny sizes exits 0, prints a row with
 *    figures for every user command (none FAILED), marks targets n/a,
 *    and fills the scaling row that fits --scale-max-mb while skipping
 *    the larger ones.  No speed is asserted: a benchmark is not a timed
 *    test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench_whole.h"
#include "fcs.h"
#include "frame.h"
#include "testutil.h"

static cg_frame *load(const char *path, fcs_spill **sp)
{
    fcs_err fe = {0};
    fcs_file *f = fcs_open(path, NULL, &fe);
    REQUIRE(f);
    cg_err e = {0};
    cg_frame *fr = cg_frame_from_fcs(f, FCS_RAW, &e);
    REQUIRE(fr);
    REQUIRE(fcs_spillover(f, sp, &fe) == 1);
    fcs_close(f);
    return fr;
}

static void test_widen(const char *dir)
{
    char sim[600], p12[600], p30[600], cmd[2048];
    snprintf(sim, sizeof sim, "%s/sim.fcs", dir);
    snprintf(p12, sizeof p12, "%s/p12.fcs", dir);
    snprintf(p30, sizeof p30, "%s/p30.fcs", dir);
    snprintf(cmd, sizeof cmd, "'%s' simulate --events 3000 --no-truth -o '%s'",
             CYTOGATE_BIN, sim);
    REQUIRE(system(cmd) == 0);
    cg_err e = {0};
    CHECK(cg_bench_widen(sim, p12, 12, &e) == 0);
    CHECK(cg_bench_widen(sim, p30, 30, &e) == 0);
    CHECK(cg_bench_widen(sim, p30, 11, &e) < 0);
    CHECK(strstr(e.msg, "at least 12") != NULL);

    fcs_spill *s0, *s12, *s30;
    cg_frame *f0 = load(sim, &s0), *f12 = load(p12, &s12),
             *f30 = load(p30, &s30);
    CHECK(f0->nch == 14 && f12->nch == 12 && f30->nch == 30);
    CHECK(f12->n == 3000 && f30->n == 3000);
    CHECK(cg_frame_find(f12, "BV711-A") < 0);
    CHECK(cg_frame_find(f12, "FITC-A") < 0);
    CHECK(s0->n == 10 && s12->n == 8 && s30->n == 10);
    /* every kept channel, every value, unchanged */
    for (int j = 0; j < f12->nch; j++) {
        int k = cg_frame_find(f0, f12->name[j]);
        REQUIRE(k >= 0);
        CHECK(memcmp(f0->col[k], f12->col[j], 3000 * sizeof(double)) == 0);
    }
    /* the spillover entries of the kept channels, unchanged */
    for (int a = 0; a < s12->n; a++)
        for (int b = 0; b < s12->n; b++) {
            int ia = -1, ib = -1;
            for (int i = 0; i < s0->n; i++) {
                if (!strcmp(s0->names[i], s12->names[a]))
                    ia = i;
                if (!strcmp(s0->names[i], s12->names[b]))
                    ib = i;
            }
            REQUIRE(ia >= 0 && ib >= 0);
            CHECK(s12->m[a * s12->n + b] == s0->m[ia * s0->n + ib]);
        }
    /* X15-A: the first spillover channel x 0.6, as float32 */
    int x15 = cg_frame_find(f30, "X15-A"), x30 = cg_frame_find(f30, "X30-A");
    int src = cg_frame_find(f0, s0->names[0]);
    CHECK(x15 == 14 && x30 == 29 && src >= 0);
    for (int64_t i = 0; i < 3000; i++)
        CHECK(f30->col[x15][i] == (double)(float)(f0->col[src][i] * 0.6));
    cg_frame_free(f0);
    cg_frame_free(f12);
    cg_frame_free(f30);
    fcs_spill_free(s0);
    fcs_spill_free(s12);
    fcs_spill_free(s30);
}

static void test_quick_run(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' bench --whole --quick --no-batch --scale-max-mb 1 -q "
             "--config '%s/../configs/treg_th17.yaml' --keep '%s/work'",
             CYTOGATE_BIN, CG_TESTS_DIR, dir);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    static char out[65536];
    size_t k = fread(out, 1, sizeof out - 1, p);
    out[k] = '\0';
    int st = pclose(p);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static const char *const rows[] = {
        "info FILE ", "gate --gatingml GATES.xml FILE ",
        "run -c CONFIG -o OUT --no-plots FILE ",
        "run -c CONFIG -o OUT FILE (plots) ",
        "the same on one thread: -j1 --no-plots ",
        "the same on one thread: -j1 (plots) ",
        "plot -c CONFIG --x CD4 --y CD8 -o P.png FILE "};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const char *r = strstr(out, rows[i]);
        CHECK(r != NULL);
        if (!r)
            continue;
        double wall = -1, rss = -1;
        const char *q = r + strlen(rows[i]);
        CHECK(sscanf(q, " %lf s", &wall) == 1 && wall > 0 && wall < 120);
        const char *mb = strstr(q, " MB");
        const char *nl = strchr(q, '\n');
        CHECK(mb && nl && mb < nl);
        if (mb && nl && mb < nl) {
            const char *b = mb;
            while (b > q && b[-1] == ' ')
                b--;
            while (b > q && b[-1] != ' ')
                b--;
            CHECK(sscanf(b, "%lf", &rss) == 1 && rss > 1);
        }
    }
    CHECK(strstr(out, "FAILED") == NULL);
    CHECK(strstr(out, "n/a") != NULL);
    /* 10000 x 12 is 0.48 MB: measured; 10000 x 30 is 1.2 MB: skipped */
    const char *r12 = strstr(out, "     10000   12       0.5 ");
    CHECK(r12 != NULL);
    if (r12) {
        double a, na, g, ng, r, nr;
        CHECK(sscanf(r12 + 26, " %lfs %lf %lfs %lf %lfs %lf", &a, &na, &g,
                     &ng, &r, &nr) == 6);
        CHECK(a > 0 && g > 0 && r > 0 && na > 0);
    }
    const char *r30 = strstr(out, "     10000   30       1.2 ");
    CHECK(r30 && strstr(r30, "skipped") && strstr(r30, "skipped") <
                                                 strchr(r30, '\n'));
    if (tu_fail_)
        fputs(out, stderr);
}

int main(void)
{
    char dir[512], cmd[1200];
    snprintf(dir, sizeof dir, "%s/bench_whole", CG_TEST_OUT);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    REQUIRE(system(cmd) == 0);
    test_widen(dir);
    test_quick_run(dir);
    return TEST_DONE();
}
