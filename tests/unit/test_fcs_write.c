/*
 * test_fcs_write.c -- fcs_write round trips: values (float32-exact),
 * names, labels, ranges, copied keywords (with the delimiter inside, at the
 * end, non-ASCII bytes), $SPILLOVER, big-endian output, zero events,
 * writer-owned keywords ignored, argument errors, and the atomic rename.
 * With argument "big" it writes and rereads a file over 100,000,000 bytes
 * (ctest label slow) and checks the HEADER's 0 DATA offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcs.h"
#include "testutil.h"

static char path[512];

static void roundtrip(int big_endian)
{
    enum { N = 1000 };
    double *c[3];
    for (int j = 0; j < 3; j++) {
        c[j] = malloc(N * sizeof(double));
        for (int i = 0; i < N; i++)
            c[j][i] = (double)(float)((i * 37 % 1001) * 0.125 - j * 50.5);
    }
    fcs_wparam p[3] = {{"FSC-A", NULL, 262144},
                       {"CD4/PE", "CD4 PE", 262144},
                       {"Time", "time", 1024}};
    fcs_kv kv[] = {{"$CYT", "LSR/Fortessa"},
                   {"$SRC", "tail/"},
                   {"$FIL", "caf\xe9.fcs"},
                   {"$TIMESTEP", "0.01"},
                   {"CUSTOM|KEY", "x"},
                   {"$TOT", "5"},       /* writer-owned: ignored */
                   {"$P1N", "WRONG"},   /* writer-owned: ignored */
                   {"EMPTY", ""}};      /* cannot be written: skipped */
    fcs_spill sp = {0};
    char *names[2] = {"FSC-A", "CD4/PE"};
    double m[4] = {1, 0.125, 0.0625, 1};
    sp.n = 2;
    sp.names = names;
    sp.m = m;
    fcs_wopts wo = {big_endian};
    fcs_err e;
    CHECK_INT(fcs_write(path, 3, p, N, (const double *const *)c, kv,
                        (int)(sizeof kv / sizeof *kv), &sp, &wo, &e), 0);
    fcs_file *f = fcs_open(path, NULL, &e);
    CHECKM(f != NULL, "%s", e.msg);
    if (!f)
        return;
    CHECK_STR(fcs_version(f), "FCS3.1");
    CHECK_INT(fcs_n_events(f), N);
    CHECK_INT(fcs_n_params(f), 3);
    CHECK_INT(fcs_quirks(f), 0);
    CHECK_INT(fcs_n_warnings(f), 0);
    CHECK_STR(fcs_param_info(f, 1)->name, "CD4/PE");
    CHECK_STR(fcs_param_info(f, 1)->label, "CD4 PE");
    CHECK(fcs_param_info(f, 0)->label == NULL);
    CHECK(fcs_param_info(f, 2)->range == 1024);
    CHECK_STR(fcs_keyword(f, "$CYT"), "LSR/Fortessa");
    CHECK_STR(fcs_keyword(f, "$SRC"), "tail/");
    CHECK_STR(fcs_keyword(f, "$FIL"), "caf\xe9.fcs");
    CHECK_STR(fcs_keyword(f, "custom|key"), "x");
    CHECK_STR(fcs_keyword(f, "$BYTEORD"), big_endian ? "4,3,2,1" : "1,2,3,4");
    CHECK(fcs_keyword(f, "EMPTY") == NULL);
    double *r[3];
    for (int j = 0; j < 3; j++)
        r[j] = malloc(N * sizeof(double));
    CHECK_INT(fcs_read_double(f, FCS_RAW, 0, N, r, &e), N);
    int same = 1;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < N; i++)
            same &= r[j][i] == c[j][i];
    CHECK(same);
    /* scaled: time * $TIMESTEP */
    CHECK_INT(fcs_read_double(f, FCS_SCALED, 0, N, r, &e), N);
    CHECK(r[2][7] == c[2][7] * 0.01);
    fcs_spill *s2;
    CHECK_INT(fcs_spillover(f, &s2, &e), 1);
    if (s2) {
        CHECK_STR(s2->keyword, "$SPILLOVER");
        CHECK_STR(s2->names[1], "CD4/PE");
        CHECK(s2->m[1] == 0.125 && s2->m[2] == 0.0625);
    }
    fcs_spill_free(s2);
    /* rewrite everything read: keywords identical */
    int nk = fcs_n_keywords(f);
    fcs_kv *all = calloc((size_t)nk, sizeof *all);
    for (int k = 0; k < nk; k++)
        fcs_keyword_at(f, k, &all[k].key, &all[k].value);
    char p2[600];
    snprintf(p2, sizeof p2, "%s.2", path);
    CHECK_INT(fcs_write(p2, 3, p, N, (const double *const *)c, all, nk, NULL,
                        &wo, &e), 0);
    fcs_file *g = fcs_open(p2, NULL, &e);
    REQUIRE(g);
    CHECK_INT(fcs_n_keywords(g), nk);
    for (int k = 0; k < nk; k++) {
        const char *v = fcs_keyword(g, all[k].key);
        CHECKM(v && strcmp(v, all[k].value) == 0, "keyword %s", all[k].key);
    }
    fcs_close(g);
    unlink(p2);
    free(all);
    for (int j = 0; j < 3; j++) {
        free(c[j]);
        free(r[j]);
    }
    fcs_close(f);
}

static void edge_cases(void)
{
    fcs_err e;
    fcs_wparam p[2] = {{"A", NULL, 1}, {"A", NULL, 1}};
    double v[1] = {1};
    const double *c[2] = {v, v};
    CHECK(fcs_write(path, 2, p, 1, c, NULL, 0, NULL, NULL, &e) < 0);
    CHECK_INT(e.code, FCS_E_ARG);
    p[1].name = "";
    CHECK(fcs_write(path, 2, p, 1, c, NULL, 0, NULL, NULL, &e) < 0);
    /* zero events */
    p[1].name = "B";
    CHECK_INT(fcs_write(path, 2, p, 0, NULL, NULL, 0, NULL, NULL, &e), 0);
    fcs_file *f = fcs_open(path, NULL, &e);
    REQUIRE(f);
    CHECK_INT(fcs_n_events(f), 0);
    fcs_close(f);
    /* value starting with '/' forces another delimiter */
    fcs_kv kv[] = {{"$FIL", "/data/x.fcs"}};
    CHECK_INT(fcs_write(path, 2, p, 1, c, kv, 1, NULL, NULL, &e), 0);
    f = fcs_open(path, NULL, &e);
    REQUIRE(f);
    CHECK_STR(fcs_keyword(f, "$FIL"), "/data/x.fcs");
    fcs_close(f);
    /* unwritable directory: error, no partial file */
    CHECK(fcs_write("/nonexistent/dir/x.fcs", 2, p, 1, c, NULL, 0, NULL, NULL,
                    &e) < 0);
    CHECK_INT(e.code, FCS_E_WRITE);
}

static void big(void)
{
    /* 2 x 12,600,000 float32 = 100,800,000 bytes of DATA */
    const int64_t N = 12600000;
    double *c[2];
    for (int j = 0; j < 2; j++) {
        c[j] = malloc((size_t)N * sizeof(double));
        REQUIRE(c[j]);
        for (int64_t i = 0; i < N; i++)
            c[j][i] = (double)(float)((i % 65536) * (j ? -0.5 : 1.0));
    }
    fcs_wparam p[2] = {{"X", NULL, 65536}, {"Y", NULL, 65536}};
    fcs_err e;
    CHECK_INT(fcs_write(path, 2, p, N, (const double *const *)c, NULL, 0,
                        NULL, NULL, &e), 0);
    FILE *fp = fopen(path, "rb");
    REQUIRE(fp);
    char hdr[59] = {0};
    CHECK_INT(fread(hdr, 1, 58, fp), 58);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fclose(fp);
    CHECK(sz > 100000000);
    /* DATA reaches past byte 99,999,999: HEADER offsets are 0 */
    CHECK(memcmp(hdr + 26, "       0       0", 16) == 0);
    fcs_file *f = fcs_open(path, NULL, &e);
    CHECKM(f != NULL, "%s", e.msg);
    if (f) {
        CHECK_INT(fcs_n_events(f), N);
        CHECK_INT(fcs_data_offset(f) + fcs_data_length(f), sz);
        double *r[2] = {malloc((size_t)N * sizeof(double)),
                        malloc((size_t)N * sizeof(double))};
        CHECK_INT(fcs_read_double(f, FCS_RAW, 0, N, r, &e), N);
        int same = 1;
        for (int j = 0; j < 2; j++)
            for (int64_t i = 0; i < N; i++)
                same &= r[j][i] == c[j][i];
        CHECK(same);
        free(r[0]);
        free(r[1]);
        fcs_close(f);
    }
    free(c[0]);
    free(c[1]);
}

int main(int argc, char **argv)
{
    snprintf(path, sizeof path, "%s/fcs_write_%d.fcs", CG_TEST_OUT,
             (int)getpid());
    if (argc > 1 && strcmp(argv[1], "big") == 0) {
        big();
    } else {
        roundtrip(0);
        roundtrip(1);
        edge_cases();
    }
    unlink(path);
    return TEST_DONE();
}
