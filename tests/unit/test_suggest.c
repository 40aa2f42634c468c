/*
 * test_suggest.c -- "did you mean" (pipeline/suggest.c): the distance
 * against a naive recursive Damerau-Levenshtein (optimal string
 * alignment) on all short strings over a 3-letter alphabet, and the
 * suggestion rules (unique prefix, distance <= 2, nothing when far).
 */
#include <stdio.h>
#include <string.h>

#include "suggest.h"
#include "testutil.h"

/* Naive OSA distance of a[0..n) and b[0..m), by the recurrence. */
static int naive(const char *a, int n, const char *b, int m)
{
    if (n == 0)
        return m;
    if (m == 0)
        return n;
    int best = naive(a, n - 1, b, m) + 1;
    int d = naive(a, n, b, m - 1) + 1;
    if (d < best)
        best = d;
    d = naive(a, n - 1, b, m - 1) + (a[n - 1] != b[m - 1]);
    if (d < best)
        best = d;
    if (n > 1 && m > 1 && a[n - 1] == b[m - 2] && a[n - 2] == b[m - 1]) {
        d = naive(a, n - 2, b, m - 2) + 1;
        if (d < best)
            best = d;
    }
    return best;
}

/* The idx-th string over {a,b,c} of length len. */
static void word(char *w, int len, int idx)
{
    for (int k = 0; k < len; k++, idx /= 3)
        w[k] = (char)('a' + idx % 3);
    w[len] = '\0';
}

int main(void)
{
    /* known values */
    CHECK_INT(cg_edit_distance("", ""), 0);
    CHECK_INT(cg_edit_distance("run", ""), 3);
    CHECK_INT(cg_edit_distance("rnu", "run"), 1);     /* one swap */
    CHECK_INT(cg_edit_distance("ca", "abc"), 3);      /* OSA, not full DL */
    CHECK_INT(cg_edit_distance("ouput-dir", "out-dir"), 2);
    CHECK_INT(cg_edit_distance("kitten", "sitting"), 3);

    /* against the recurrence: every pair of strings of length <= 4 */
    int pairs = 0;
    for (int la = 0; la <= 4; la++) {
        int na = 1;
        for (int k = 0; k < la; k++)
            na *= 3;
        for (int ia = 0; ia < na; ia++) {
            char a[8];
            word(a, la, ia);
            for (int lb = 0; lb <= 4; lb++) {
                int nb = 1;
                for (int k = 0; k < lb; k++)
                    nb *= 3;
                for (int ib = 0; ib < nb; ib++) {
                    char b[8];
                    word(b, lb, ib);
                    int got = cg_edit_distance(a, b), want = naive(a, la, b, lb);
                    CHECKM(got == want, "d(%s,%s) = %d, want %d", a, b, got,
                           want);
                    pairs++;
                }
            }
        }
    }

    /* suggestions over the command table's names */
    static const char *const cmds[] = {"run", "plot", "merge", "qc",
                                       "simulate", "gate", "transform",
                                       "compensate", "info", "dump", "bench"};
    size_t nc = sizeof cmds / sizeof *cmds;
    CHECK_STR(cg_suggest("rnu", cmds, nc), "run");
    CHECK_STR(cg_suggest("plto", cmds, nc), "plot");
    CHECK_STR(cg_suggest("simualte", cmds, nc), "simulate");
    CHECK_STR(cg_suggest("comp", cmds, nc), "compensate"); /* prefix */
    CHECK_STR(cg_suggest("tranform", cmds, nc), "transform");
    CHECK_STR(cg_suggest("qcc", cmds, nc), "qc");
    CHECK(cg_suggest("zzzzzz", cmds, nc) == NULL);
    CHECK(cg_suggest("", cmds, nc) == NULL);
    CHECK(cg_suggest("x", cmds, nc) == NULL); /* d 2 > length: no guess */

    /* long options (the caller strips "=value") */
    static const char *const opts[] = {"--config", "--out-dir", "--sheet",
                                       "--threads", "--quiet", "--json",
                                       "--no-plots", NULL};
    size_t no = sizeof opts / sizeof *opts;
    CHECK_STR(cg_suggest("--ouput-dir", opts, no), "--out-dir");
    CHECK_STR(cg_suggest("--out", opts, no), "--out-dir");
    CHECK_STR(cg_suggest("--confg", opts, no), "--config");
    CHECK_STR(cg_suggest("--jsno", opts, no), "--json");
    CHECK_STR(cg_suggest("--no", opts, no), "--no-plots");
    CHECK(cg_suggest("--verbose", opts, no) == NULL);

    printf("%d distance pairs checked\n", pairs);
    return TEST_DONE();
}
