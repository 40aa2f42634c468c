/*
 * test_fcs_spill.c -- spillover parsing and its vendor repairs: plain
 * $SPILLOVER, blanks, comma decimals (Accuri), channel numbers as names,
 * MACSQuant names without values, $SPILLOVER vs SPILL preference and the
 * warning when they differ, names that are not $PnN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "test_fcs_build.h"
#include "testutil.h"

static uint8_t *g_buf;

static fcs_file *mk(const char *k1, const char *v1, const char *k2,
                    const char *v2)
{
    const char *kv[] = {"$PAR", "3", "$TOT", "1", "$DATATYPE", "F",
                        "$BYTEORD", "1,2,3,4", "$P1N", "FL1-A", "$P1B", "32",
                        "$P1R", "1", "$P2N", "FL2-A", "$P2B", "32", "$P2R",
                        "1", "$P3N", "FL3-A", "$P3B", "32", "$P3R", "1",
                        k1, v1, k2, v2, NULL};
    if (!k2)
        kv[26 + 2] = NULL;
    if (!k1)
        kv[26] = NULL;
    float d[3] = {1, 2, 3};
    size_t n;
    free(g_buf);
    g_buf = tb_build("FCS3.1", kv, d, sizeof d, '/', 0, &n);
    fcs_err e;
    fcs_file *f = fcs_open_mem(g_buf, n, NULL, &e);
    REQUIRE(f);
    return f;
}

static int has_warning(fcs_file *f, const char *sub)
{
    for (int i = 0; i < fcs_n_warnings(f); i++)
        if (strstr(fcs_warning(f, i), sub))
            return 1;
    return 0;
}

int main(void)
{
    fcs_err e;
    fcs_spill *s;
    /* plain, with blanks */
    fcs_file *f = mk("$SPILLOVER", "2, FL1-A ,FL2-A,1,0.25, 0.125 ,1", NULL,
                     NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 1);
    REQUIRE(s);
    CHECK_INT(s->n, 2);
    CHECK_STR(s->names[0], "FL1-A");
    CHECK_STR(s->keyword, "$SPILLOVER");
    CHECK(s->m[0] == 1 && s->m[1] == 0.25 && s->m[2] == 0.125 && s->m[3] == 1);
    fcs_spill_free(s);
    fcs_close(f);

    /* Accuri: channel numbers and comma decimals */
    f = mk("$SPILLOVER", "2,1,3,1,000,0,250,0,125,1,000", NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 1);
    REQUIRE(s);
    CHECK_STR(s->names[0], "FL1-A");
    CHECK_STR(s->names[1], "FL3-A");
    CHECK(s->m[1] == 0.25 && s->m[2] == 0.125 && s->m[3] == 1);
    CHECK(has_warning(f, "comma decimals"));
    CHECK(has_warning(f, "parameter numbers"));
    fcs_spill_free(s);
    fcs_close(f);

    /* MACSQuant: names without values -> no matrix, warning */
    f = mk("$SPILLOVER", "3,FL1-A,FL2-A,FL3-A", NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 0);
    CHECK(s == NULL);
    CHECK(has_warning(f, "no values"));
    fcs_close(f);

    /* both keywords: $SPILLOVER wins, difference reported */
    f = mk("SPILL", "2,FL1-A,FL2-A,1,0.5,0,1", "$SPILLOVER",
           "2,FL1-A,FL2-A,1,0.1,0,1");
    CHECK_INT(fcs_spillover(f, &s, &e), 1);
    REQUIRE(s);
    CHECK_STR(s->keyword, "$SPILLOVER");
    CHECK(s->m[1] == 0.1);
    CHECK(has_warning(f, "different matrices"));
    fcs_spill_free(s);
    fcs_close(f);

    /* identical copies: no warning */
    f = mk("SPILL", "2,FL1-A,FL2-A,1,0.1,0,1", "$SPILLOVER",
           "2,FL1-A,FL2-A,1,0.1,0,1");
    CHECK_INT(fcs_spillover(f, &s, &e), 1);
    CHECK(!has_warning(f, "different matrices"));
    fcs_spill_free(s);
    fcs_close(f);

    /* unknown channel, bad number, wrong count: unusable, warned */
    f = mk("SPILL", "2,FL1-A,FL9-A,1,0,0,1", NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 0);
    CHECK(has_warning(f, "not a $PnN"));
    fcs_close(f);
    f = mk("SPILL", "2,FL1-A,FL2-A,1,x,0,1", NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 0);
    CHECK(has_warning(f, "not a number"));
    fcs_close(f);
    f = mk("SPILL", "2,FL1-A,FL2-A,1,0,0", NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 0);
    fcs_close(f);
    /* none at all */
    f = mk(NULL, NULL, NULL, NULL);
    CHECK_INT(fcs_spillover(f, &s, &e), 0);
    CHECK(s == NULL);
    fcs_close(f);

    /* parse without a file */
    s = fcs_spill_parse("2,a,b,1,2,3,4", NULL, &e);
    REQUIRE(s);
    CHECK(s->m[3] == 4);
    fcs_spill_free(s);
    CHECK(fcs_spill_parse("x,a", NULL, &e) == NULL);
    CHECK_INT(e.code, FCS_E_SPILL);
    free(g_buf);
    return TEST_DONE();
}
