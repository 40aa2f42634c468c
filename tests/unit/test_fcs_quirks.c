/*
 * test_fcs_quirks.c -- one test per repair flag of fcs/quirks.c: the file
 * shape that triggers it, the flag and warning it leaves, the values read
 * with it, and (where it is a repair of a broken layout) that
 * FCS_OPT_STRICT refuses the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "test_fcs_build.h"
#include "testutil.h"

static const char *const BASE[] = {
    "$PAR", "2", "$TOT", "2", "$DATATYPE", "I", "$BYTEORD", "1,2,3,4",
    "$MODE", "L", "$NEXTDATA", "0", "$P1N", "FSC", "$P1B", "16", "$P1R",
    "1024", "$P1E", "0,0", "$P2N", "SSC", "$P2B", "16", "$P2R", "1024",
    "$P2E", "0,0", NULL};
static const uint16_t DATA[4] = {1, 2, 3, 1023};

typedef struct t {
    uint8_t *buf;
    size_t n;
    fcs_file *f;
    fcs_err e;
} t;

static void topen(t *x, const char *ver, const char *const *kv,
                  const void *d, size_t dn, unsigned flags, unsigned opt)
{
    x->buf = tb_build(ver, kv, d, dn, '/', flags, &x->n);
    fcs_opts o = {opt, 0};
    x->f = fcs_open_mem(x->buf, x->n, &o, &x->e);
}

static void tclose(t *x)
{
    fcs_close(x->f);
    free(x->buf);
}

static int has_warning(fcs_file *f, const char *sub)
{
    for (int i = 0; i < fcs_n_warnings(f); i++)
        if (strstr(fcs_warning(f, i), sub))
            return 1;
    return 0;
}

static void check_values(fcs_file *f)
{
    double a[2], b[2];
    double *c[2] = {a, b};
    fcs_err e;
    CHECK_INT(fcs_read_double(f, FCS_RAW, 0, 2, c, &e), 2);
    CHECK(a[0] == 1 && b[0] == 2 && a[1] == 3 && b[1] == 1023);
}

static void quirk_data_end_plus1(void)
{
    t x;
    topen(&x, "FCS3.1", BASE, DATA, 8, TB_END_PLUS1, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_DATA_END_PLUS1);
    CHECK(has_warning(x.f, "one byte past"));
    CHECK_STR(fcs_quirk_name(FCS_QUIRK_DATA_END_PLUS1), "data_end_plus1");
    check_values(x.f);
    tclose(&x);
    topen(&x, "FCS3.1", BASE, DATA, 8, TB_END_PLUS1, FCS_OPT_STRICT);
    CHECK(x.f == NULL && x.e.code == FCS_E_LAYOUT);
    tclose(&x);
}

static void quirk_data_past_eof(void)
{
    /* end+1 on the last byte of the file: also past EOF */
    t x;
    topen(&x, "FCS3.0", BASE, DATA, 8, TB_END_PLUS1, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_DATA_PAST_EOF);
    CHECK(has_warning(x.f, "past the end of the file"));
    CHECK_STR(fcs_quirk_name(FCS_QUIRK_DATA_PAST_EOF), "data_past_eof");
    check_values(x.f);
    CHECK_INT(fcs_data_length(x.f), 8);
    tclose(&x);
}

static void quirk_header_text(void)
{
    /* HEADER DATA begin points into TEXT; TEXT is right (Stratedigm) */
    t x;
    topen(&x, "FCS3.0", BASE, DATA, 8, TB_HDR_SHIFT, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_HEADER_TEXT);
    CHECK(has_warning(x.f, "TEXT offsets used"));
    check_values(x.f);
    tclose(&x);
    topen(&x, "FCS3.0", BASE, DATA, 8, TB_HDR_SHIFT, FCS_OPT_STRICT);
    CHECK(x.f == NULL && x.e.code == FCS_E_LAYOUT);
    tclose(&x);
    /* HEADER 0,0 with the real offsets only in TEXT: not a quirk */
    topen(&x, "FCS3.1", BASE, DATA, 8, TB_HDR_ZERO, FCS_OPT_STRICT);
    REQUIRE(x.f);
    CHECK_INT(fcs_quirks(x.f), 0);
    check_values(x.f);
    tclose(&x);
    /* FCS 2.0 without $BEGINDATA: HEADER only */
    topen(&x, "FCS2.0", BASE, DATA, 8, TB_NO_TEXT_OFFSETS, 0);
    REQUIRE(x.f);
    check_values(x.f);
    tclose(&x);
}

static void quirk_key_blanks(void)
{
    const char *kv[64];
    int i = 0;
    for (; BASE[i]; i++)
        kv[i] = strcmp(BASE[i], "$DATATYPE") == 0 ? "      $DATATYPE "
                                                   : BASE[i];
    kv[i] = NULL;
    t x;
    topen(&x, "FCS3.0", kv, DATA, 8, 0, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_KEY_BLANKS);
    CHECK_STR(fcs_keyword(x.f, "$DATATYPE"), "I");
    CHECK(has_warning(x.f, "blanks around"));
    check_values(x.f);
    tclose(&x);
    topen(&x, "FCS3.0", kv, DATA, 8, 0, FCS_OPT_STRICT);
    CHECK(x.f == NULL && x.e.code == FCS_E_TEXT);
    tclose(&x);
}

static void quirk_empty_values(void)
{
    /* CellQuest: "$P1S\\$P2N\SSC\" -- an empty $P1S value */
    const char *text =
        "\\$PAR\\2\\$TOT\\2\\$DATATYPE\\I\\$BYTEORD\\1,2,3,4\\$P1N\\FSC\\"
        "$P1B\\16\\$P1R\\1024\\$P1S\\\\$P2N\\SSC\\$P2B\\16\\$P2R\\1024\\";
    const char *kv[] = {text, NULL};
    t x;
    topen(&x, "FCS2.0", kv, DATA, 8, TB_RAW_TEXT, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_EMPTY_VALUES);
    CHECK_STR(fcs_param_info(x.f, 1)->name, "SSC");
    CHECK(fcs_param_info(x.f, 0)->label == NULL);
    CHECK_STR(fcs_keyword(x.f, "$P1S"), "");
    check_values(x.f);
    tclose(&x);
    /* the same TEXT forced through the option */
    topen(&x, "FCS2.0", kv, DATA, 8, TB_RAW_TEXT, FCS_OPT_EMPTY_VALUES);
    REQUIRE(x.f);
    CHECK_STR(fcs_param_info(x.f, 1)->name, "SSC");
    tclose(&x);
    /* an escape that does not touch a key stays an escape */
    const char *esc =
        "/$PAR/2/$TOT/2/$DATATYPE/I/$BYTEORD/1,2,3,4/$P1N/FSC/$P1B/16/"
        "$P1R/1024/$SYS/RSX-11//M/$P2N/SSC/$P2B/16/$P2R/1024/";
    const char *kv2[] = {esc, NULL};
    x.buf = tb_build("FCS2.0", kv2, DATA, 8, '/', TB_RAW_TEXT, &x.n);
    x.f = fcs_open_mem(x.buf, x.n, NULL, &x.e);
    REQUIRE(x.f);
    CHECK(!(fcs_quirks(x.f) & FCS_QUIRK_EMPTY_VALUES));
    CHECK_STR(fcs_keyword(x.f, "$SYS"), "RSX-11/M");
    tclose(&x);
}

static void quirk_no_final_delim(void)
{
    t x;
    topen(&x, "FCS3.1", BASE, DATA, 8, TB_NO_FINAL_DELIM, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_NO_FINAL_DELIM);
    CHECK(has_warning(x.f, "does not end with its delimiter"));
    check_values(x.f);
    tclose(&x);
}

static void quirk_pnb10_as_16(void)
{
    const char *kv[64];
    int i = 0;
    for (; BASE[i]; i++)
        kv[i] = strcmp(BASE[i], "16") == 0 ? "10" : BASE[i];
    kv[i] = NULL;
    t x;
    topen(&x, "FCS3.0", kv, DATA, 8, 0, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_PNB10_AS_16);
    CHECK_INT(fcs_param_info(x.f, 0)->bits, 10);
    check_values(x.f);
    tclose(&x);
}

static void quirk_log_f2_zero(void)
{
    const char *kv[64];
    int i = 0;
    for (; BASE[i]; i++)
        kv[i] = BASE[i];
    kv[i - 1] = "4,0"; /* $P2E */
    kv[i] = NULL;
    t x;
    topen(&x, "FCS3.0", kv, DATA, 8, 0, 0);
    REQUIRE(x.f);
    CHECK(fcs_quirks(x.f) & FCS_QUIRK_LOG_F2_ZERO);
    CHECK(fcs_param_info(x.f, 1)->log_f2 == 0);
    double a[2], b[2];
    double *c[2] = {a, b};
    CHECK_INT(fcs_read_double(x.f, FCS_SCALED, 0, 2, c, &x.e), 2);
    CHECK(b[1] == 1.0 * pow(10.0, (4.0 * 1023) / 1024.0));
    tclose(&x);
}

int main(void)
{
    quirk_data_end_plus1();
    quirk_data_past_eof();
    quirk_header_text();
    quirk_key_blanks();
    quirk_empty_values();
    quirk_no_final_delim();
    quirk_pnb10_as_16();
    quirk_log_f2_zero();
    return TEST_DONE();
}
