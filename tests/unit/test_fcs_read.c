/*
 * test_fcs_read.c -- the reader on small generated files: every data type
 * and width (I 8/16/24/32/64, mixed widths, packed 10-bit, $PnR masks), byte
 * orders (1,2,3,4 / 4,3,2,1 / 3,4,1,2 / 1,2), F, D, ASCII fixed and free,
 * FCS 3.2 $PnDATATYPE, the scaled view (log, gain, $TIMESTEP), $NEXTDATA
 * chains, gzip, keyword lookup, and located errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fcs.h"
#include "test_fcs_build.h"
#include "testutil.h"

static fcs_file *open_kv(const char *ver, const char *const *kv,
                         const void *data, size_t dlen, unsigned flags,
                         const fcs_opts *o, uint8_t **keep, fcs_err *err)
{
    size_t n;
    *keep = tb_build(ver, kv, data, dlen, '/', flags, &n);
    return fcs_open_mem(*keep, n, o, err);
}

/* read all events of parameter j */
static double *col(fcs_file *f, int j, fcs_view v)
{
    int np = fcs_n_params(f);
    int64_t n = fcs_n_events(f);
    double **c = calloc((size_t)np, sizeof *c);
    double *out = malloc((size_t)(n ? n : 1) * sizeof *out);
    c[j] = out;
    fcs_err e;
    int64_t got = fcs_read_double(f, v, 0, n, c, &e);
    CHECK_INT(got, n);
    free(c);
    return out;
}

static void test_int_widths(void)
{
    /* 8, 24 and 64 bits, big-endian; 24-bit masked by $PnR 1000 */
    const char *kv[] = {"$PAR", "3", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "4,3,2,1", "$MODE", "L",
                        "$P1N", "a", "$P1B", "8", "$P1R", "256",
                        "$P2N", "b", "$P2B", "24", "$P2R", "1000",
                        "$P3N", "c", "$P3B", "64", "$P3R", "0", NULL};
    uint8_t d[] = {7, 0x00, 0x01, 0x1e, 0, 0, 0, 0, 0, 0, 1, 0,
                   255, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1};
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS3.1", kv, d, sizeof d, 0, NULL, &keep, &e);
    REQUIRE(f);
    CHECK_INT(fcs_n_events(f), 2);
    double *a = col(f, 0, FCS_RAW), *b = col(f, 1, FCS_RAW),
           *c = col(f, 2, FCS_RAW);
    CHECK(a[0] == 7 && a[1] == 255);
    CHECK(b[0] == 286);         /* 0x00011e */
    CHECK(b[1] == 1023); /* 0xffffff & mask 0x3FF */
    CHECK(c[0] == 256);
    CHECK(c[1] == ldexp(1, 63) + 1);
    free(a); free(b); free(c);
    fcs_close(f);
    free(keep);
}

static void test_byteorders(void)
{
    /* 32-bit value 0x01020304 stored in three orders, 16-bit with 1,2 */
    const char *ords[] = {"1,2,3,4", "4,3,2,1", "3,4,1,2"};
    uint8_t bytes[3][4] = {{4, 3, 2, 1}, {1, 2, 3, 4}, {2, 1, 4, 3}};
    for (int k = 0; k < 3; k++) {
        const char *kv[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "I",
                            "$BYTEORD", ords[k], "$P1N", "x", "$P1B", "32",
                            "$P1R", "4294967296", NULL};
        uint8_t *keep;
        fcs_err e;
        fcs_file *f = open_kv("FCS3.0", kv, bytes[k], 4, 0, NULL, &keep, &e);
        REQUIRE(f);
        double *v = col(f, 0, FCS_RAW);
        CHECKM(v[0] == 0x01020304, "BYTEORD %s: %.17g", ords[k], v[0]);
        free(v);
        fcs_close(f);
        free(keep);
    }
    const char *kv[] = {"$PAR", "1", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "1,2", "$P1N", "x", "$P1B", "16",
                        "$P1R", "65536", NULL};
    uint8_t d[] = {0x34, 0x12, 0xff, 0x00};
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS2.0", kv, d, 4, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *v = col(f, 0, FCS_RAW);
    CHECK(v[0] == 0x1234 && v[1] == 255);
    free(v);
    fcs_close(f);
    free(keep);
}

static void test_mixed_and_packed(void)
{
    /* mixed 16/32 little-endian */
    const char *kv[] = {"$PAR", "2", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "1,2,3,4", "$P1N", "s", "$P1B", "16",
                        "$P1R", "1024", "$P2N", "l", "$P2B", "32", "$P2R",
                        "262144", NULL};
    uint8_t d[] = {0xff, 0xff, 1, 0, 0, 0, 5, 0, 0, 0, 4, 0};
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS3.0", kv, d, sizeof d, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *s = col(f, 0, FCS_RAW), *l = col(f, 1, FCS_RAW);
    CHECK(s[0] == 1023 && s[1] == 5); /* 0xffff & 0x3ff */
    CHECK(l[0] == 1 && l[1] == 0); /* 0x40000 & 0x3FFFF */
    free(s); free(l);
    fcs_close(f);
    free(keep);
    /* packed 10-bit fields, MSB first: 2 params x 2 events = 40 bits */
    const char *kp[] = {"$PAR", "2", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "1,2,3,4", "$P1N", "x", "$P1B", "10",
                        "$P1R", "1024", "$P2N", "y", "$P2B", "10", "$P2R",
                        "1024", NULL};
    /* values 1, 1023, 512, 3 -> bits 0000000001 1111111111 1000000000
     * 0000000011 */
    uint8_t pd[] = {0x00, 0x7f, 0xf8, 0x00, 0x03};
    f = open_kv("FCS3.0", kp, pd, sizeof pd, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *x = col(f, 0, FCS_RAW), *y = col(f, 1, FCS_RAW);
    CHECK(x[0] == 1 && y[0] == 1023 && x[1] == 512 && y[1] == 3);
    free(x); free(y);
    fcs_close(f);
    free(keep);
}

static void test_float_double_32(void)
{
    float fv[2] = {1.5f, -2.25f};
    const char *kv[] = {"$PAR", "2", "$TOT", "1", "$DATATYPE", "F",
                        "$BYTEORD", "1,2,3,4", "$P1N", "a", "$P1B", "32",
                        "$P1R", "1", "$P1E", "4,1", "$P2N", "b", "$P2B",
                        "32", "$P2R", "1", "$P2G", "4", NULL};
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS3.1", kv, fv, 8, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *a = col(f, 0, FCS_SCALED), *b = col(f, 1, FCS_SCALED);
    CHECK(a[0] == 1.5);       /* $PnE ignored on float data */
    CHECK(b[0] == -2.25 / 4); /* $PnG applies */
    free(a); free(b);
    fcs_close(f);
    free(keep);
    /* big-endian double */
    uint8_t dd[8] = {0x40, 0x34, 0, 0, 0, 0, 0, 0}; /* 20.0 */
    const char *kd[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "D",
                        "$BYTEORD", "4,3,2,1", "$P1N", "d", "$P1B", "64",
                        "$P1R", "1", NULL};
    f = open_kv("FCS3.0", kd, dd, 8, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *v = col(f, 0, FCS_RAW);
    CHECK(v[0] == 20.0);
    free(v);
    fcs_close(f);
    free(keep);
    /* FCS 3.2 $PnDATATYPE: I16 time + F32 + D64 in one row */
    uint8_t row[14];
    uint16_t t = 300;
    float x = 0.25f;
    double y = -7.5;
    memcpy(row, &t, 2);
    memcpy(row + 2, &x, 4);
    memcpy(row + 6, &y, 8);
    const char *k3[] = {"$PAR", "3", "$TOT", "1", "$DATATYPE", "F",
                        "$BYTEORD", "1,2,3,4", "$CYT", "test",
                        "$TIMESTEP", "0.5",
                        "$P1N", "Time", "$P1B", "16", "$P1R", "65536",
                        "$P1DATATYPE", "I", "$P2N", "x", "$P2B", "32",
                        "$P2R", "1", "$P3N", "y", "$P3B", "64", "$P3R", "1",
                        "$P3DATATYPE", "D", NULL};
    f = open_kv("FCS3.2", k3, row, sizeof row, 0, NULL, &keep, &e);
    REQUIRE(f);
    CHECK_INT(fcs_time_index(f), 0);
    CHECK_INT(fcs_param_info(f, 0)->datatype, 'I');
    CHECK_INT(fcs_param_info(f, 2)->datatype, 'D');
    double *c0 = col(f, 0, FCS_SCALED), *c1 = col(f, 1, FCS_RAW),
           *c2 = col(f, 2, FCS_RAW);
    CHECK(c0[0] == 150.0 && c1[0] == 0.25 && c2[0] == -7.5);
    free(c0); free(c1); free(c2);
    fcs_close(f);
    free(keep);
}

static void test_ascii(void)
{
    const char *kv[] = {"$PAR", "2", "$TOT", "3", "$DATATYPE", "A",
                        "$P1N", "x", "$P1B", "*", "$P1R", "1000",
                        "$P2N", "y", "$P2B", "*", "$P2R", "1000", NULL};
    const char *d = "1,2  3\t4\r\n5.5 6e1";
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS3.0", kv, d, strlen(d), 0, NULL, &keep, &e);
    REQUIRE(f);
    CHECK_INT(fcs_param_info(f, 0)->bits, 0);
    double *x = col(f, 0, FCS_RAW), *y = col(f, 1, FCS_RAW);
    CHECK(x[0] == 1 && y[0] == 2 && x[1] == 3 && y[1] == 4 && x[2] == 5.5 &&
          y[2] == 60);
    free(x); free(y);
    fcs_close(f);
    free(keep);
}

static void test_scaled(void)
{
    /* log: f2 * 10^(f1*x/R), f2 = 0 read as 1; gain; time * timestep */
    const char *kv[] = {"$PAR", "4", "$TOT", "1", "$DATATYPE", "I",
                        "$BYTEORD", "4,3,2,1", "$TIMESTEP", " 0.01 ",
                        "$P1N", "FL1", "$P1B", "16", "$P1R", "1024",
                        "$P1E", "4,0", "$P2N", "FL2", "$P2B", "16", "$P2R",
                        "1024", "$P2E", " 4.0,0.1024", "$P3N", "FSC", "$P3B",
                        "16", "$P3R", "1024", "$P3G", "3.67", "$P4N", "TIME",
                        "$P4B", "16", "$P4R", "1024", "$P4G", "2", NULL};
    uint8_t d[] = {0x01, 0xaf, 0, 100, 0, 50, 0, 10}; /* 431 100 50 10 */
    uint8_t *keep;
    fcs_err e;
    fcs_file *f = open_kv("FCS3.0", kv, d, sizeof d, 0, NULL, &keep, &e);
    REQUIRE(f);
    double *a = col(f, 0, FCS_SCALED), *b = col(f, 1, FCS_SCALED),
           *c = col(f, 2, FCS_SCALED), *t = col(f, 3, FCS_SCALED);
    CHECK(a[0] == 1.0 * pow(10.0, (4.0 * 431) / 1024.0));
    CHECK_NEAR(a[0], 48.26071, 1e-5); /* the FCS 3.1 example */
    CHECK(b[0] == 0.1024 * pow(10.0, (4.0 * 100) / 1024.0));
    CHECK(c[0] == 50 / 3.67);
    CHECK(t[0] == 10 * 0.01); /* no gain on time */
    CHECK(fcs_quirks(f) & FCS_QUIRK_LOG_F2_ZERO);
    free(a); free(b); free(c); free(t);
    fcs_close(f);
    free(keep);
}

static void test_keywords_and_chain(void)
{
    /* two data sets via $NEXTDATA; escaped delimiter; lookup any case */
    const char *kv1[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "I",
                         "$BYTEORD", "1,2", "$P1N", "a", "$P1B", "16",
                         "$P1R", "65536", "$NEXTDATA", "000000", "$SYS",
                         "RSX-11/M", "dup", "1", "DUP", "2", NULL};
    uint16_t v1 = 7, v2 = 9;
    size_t n1, n2;
    uint8_t *a = tb_build("FCS3.0", kv1, &v1, 2, '/', 0, &n1);
    char nd[16];
    snprintf(nd, sizeof nd, "%06zu", n1);
    kv1[15] = nd;
    free(a);
    a = tb_build("FCS3.0", kv1, &v1, 2, '/', 0, &n1);
    const char *kv2[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "I",
                         "$BYTEORD", "1,2", "$P1N", "b", "$P1B", "16",
                         "$P1R", "65536", NULL};
    uint8_t *b = tb_build("FCS3.0", kv2, &v2, 2, '/', 0, &n2);
    uint8_t *all = malloc(n1 + n2);
    memcpy(all, a, n1);
    memcpy(all + n1, b, n2);
    fcs_err e;
    fcs_file *f = fcs_open_mem(all, n1 + n2, NULL, &e);
    REQUIRE(f);
    CHECK_INT(fcs_n_datasets(f), 2);
    CHECK_STR(fcs_keyword(f, "$sys"), "RSX-11/M");
    CHECK_STR(fcs_keyword(f, "Dup"), "2");
    CHECK(fcs_n_warnings(f) >= 1);
    double *c = col(f, 0, FCS_RAW);
    CHECK(c[0] == 7);
    free(c);
    CHECK_INT(fcs_select_dataset(f, 1, &e), 0);
    CHECK_INT(fcs_dataset_offset(f), (long long)n1);
    CHECK_STR(fcs_param_info(f, 0)->name, "b");
    c = col(f, 0, FCS_RAW);
    CHECK(c[0] == 9);
    free(c);
    CHECK(fcs_select_dataset(f, 2, &e) < 0);
    fcs_close(f);
    /* open on data set 2 directly */
    fcs_opts o = {0, 1};
    f = fcs_open_mem(all, n1 + n2, &o, &e);
    REQUIRE(f);
    CHECK_INT(fcs_dataset(f), 1);
    fcs_close(f);
    /* a chain pointing past the end: one data set, a warning */
    snprintf(nd, sizeof nd, "%06d", 999999);
    free(a);
    a = tb_build("FCS3.0", kv1, &v1, 2, '/', 0, &n1);
    f = fcs_open_mem(a, n1, NULL, &e);
    REQUIRE(f);
    CHECK_INT(fcs_n_datasets(f), 1);
    fcs_close(f);
    free(a);
    free(b);
    free(all);
}

static void test_gzip_and_path(void)
{
    const char *kv[] = {"$PAR", "1", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "1,2", "$P1N", "a", "$P1B", "16",
                        "$P1R", "65536", NULL};
    uint16_t d[2] = {11, 12};
    size_t n;
    uint8_t *b = tb_build("FCS3.0", kv, d, 4, '/', 0, &n);
    char path[512], gz[520];
    snprintf(path, sizeof path, "%s/fcs_read_%d.fcs", CG_TEST_OUT, (int)getpid());
    snprintf(gz, sizeof gz, "%s.gz", path);
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp);
    fwrite(b, 1, n, fp);
    fclose(fp);
    gzFile z = gzopen(gz, "wb");
    REQUIRE(z);
    gzwrite(z, b, (unsigned)n);
    gzclose(z);
    fcs_err e;
    const char *paths[2] = {path, gz};
    for (int k = 0; k < 2; k++) {
        fcs_file *f = fcs_open(paths[k], NULL, &e);
        CHECKM(f != NULL, "%s: %s", paths[k], e.msg);
        if (!f)
            continue;
        double *c = col(f, 0, FCS_RAW);
        CHECK(c[0] == 11 && c[1] == 12);
        free(c);
        fcs_close(f);
    }
    /* truncated gzip is an error, not a crash */
    FILE *g = fopen(gz, "rb");
    uint8_t buf[4096];
    size_t gn = fread(buf, 1, sizeof buf, g);
    fclose(g);
    fcs_file *f = fcs_open_mem(buf, gn / 2, NULL, &e);
    CHECK(f == NULL);
    CHECK_INT(e.code, FCS_E_GZIP);
    f = fcs_open("/nonexistent/x.fcs", NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_IO);
    unlink(path);
    unlink(gz);
    free(b);
}

static void test_errors(void)
{
    fcs_err e;
    fcs_file *f = fcs_open_mem("FCS3.0    ", 10, NULL, &e);
    CHECK(!f && e.code == FCS_E_NOTFCS && e.offset == 0);
    /* $TOT larger than the file holds: refused with the DATA offset */
    const char *kv[] = {"$PAR", "1", "$TOT", "1000000000", "$DATATYPE", "I",
                        "$BYTEORD", "1,2", "$P1N", "a", "$P1B", "16",
                        "$P1R", "65536", NULL};
    uint16_t d[2] = {1, 2};
    uint8_t *keep;
    f = open_kv("FCS3.0", kv, d, 4, 0, NULL, &keep, &e);
    CHECK(f == NULL);
    CHECK_INT(e.code, FCS_E_LAYOUT);
    CHECK(e.offset > 58);
    CHECK(strstr(e.msg, "(at byte ") != NULL);
    free(keep);
    /* bad $PnB */
    const char *kb[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "I",
                        "$BYTEORD", "1,2", "$P1N", "a", "$P1B", "65",
                        "$P1R", "65536", NULL};
    f = open_kv("FCS3.0", kb, d, 4, 0, NULL, &keep, &e);
    CHECK(!f && e.code == FCS_E_KEYWORD && strstr(e.msg, "$P1B"));
    free(keep);
    /* $MODE C */
    const char *km[] = {"$PAR", "1", "$TOT", "1", "$DATATYPE", "I",
                        "$MODE", "C", "$BYTEORD", "1,2", "$P1N", "a",
                        "$P1B", "16", "$P1R", "65536", NULL};
    f = open_kv("FCS3.0", km, d, 2, 0, NULL, &keep, &e);
    CHECK(!f && e.code == FCS_E_UNSUPPORTED);
    free(keep);
    /* garbage HEADER offset */
    uint8_t hb[80];
    memset(hb, ' ', sizeof hb);
    memcpy(hb, "FCS3.0    ", 10);
    memcpy(hb + 10, "      5x", 8);
    f = fcs_open_mem(hb, sizeof hb, NULL, &e);
    CHECK(!f && e.code == FCS_E_HEADER && e.offset == 10);
    /* read range errors */
    const char *ok[] = {"$PAR", "1", "$TOT", "2", "$DATATYPE", "I",
                        "$BYTEORD", "1,2", "$P1N", "a", "$P1B", "16",
                        "$P1R", "65536", NULL};
    f = open_kv("FCS3.0", ok, d, 4, 0, NULL, &keep, &e);
    REQUIRE(f);
    double v[2];
    double *cols[1] = {v};
    CHECK_INT(fcs_read_double(f, FCS_RAW, 2, 1, cols, &e), -1);
    CHECK(fcs_read_double(f, FCS_RAW, -1, 1, cols, &e) < -1);
    CHECK_INT(fcs_read_double(f, FCS_RAW, 1, 10, cols, &e), 1);
    CHECK(v[0] == 2);
    fcs_close(f);
    free(keep);
}

int main(void)
{
    test_int_widths();
    test_byteorders();
    test_mixed_and_packed();
    test_float_double_32();
    test_ascii();
    test_scaled();
    test_keywords_and_chain();
    test_gzip_and_path();
    test_errors();
    return TEST_DONE();
}
