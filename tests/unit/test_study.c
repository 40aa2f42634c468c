/*
 * test_study.c -- unit tests of the batch-control rules (qc_control.c),
 * the sheet's role column and the store's schema (issue 21).
 *
 *   limits        mean and sample SD of the first N finite values only;
 *                 later values never move them
 *   westgard      within 2 SD pass, beyond 2 warn (1-2s), beyond 3 fail
 *                 (1-3s), exactly on 2 SD passes; fewer than N batches:
 *                 skip "establishing limits"; NA value: skip; zero SD
 *   role          sample (default/empty), control (any case); anything
 *                 else an error naming the line
 *   store         a new store has user_version and meta schema_version 1;
 *                 reopening keeps it; a newer schema is refused
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qc_control.h"
#include "sheet.h"
#include "store.h"
#include "testutil.h"

static void test_limits(void)
{
    double s[] = {10, 12, NAN, 14, 100, -50};
    double m, sd;
    /* first 4 batches: 10, 12, NA, 14 -> three values */
    CHECK_INT(cg_qc_control_limits(s, 6, 4, &m, &sd), 3);
    CHECK_NEAR(m, 12, 1e-12);
    CHECK_NEAR(sd, 2, 1e-12); /* sqrt(((-2)^2 + 0 + 2^2) / 2) */
    /* one value: no limits */
    CHECK_INT(cg_qc_control_limits(s, 6, 1, &m, &sd), 1);
    CHECK(isnan(m) && isnan(sd));
}

static int judge(const double *s, int n, int at, int nfirst,
                 cg_qc_check *out)
{
    cg_qc_result *r = cg_qc_result_new();
    cg_qc_control c = {"treg_pct_cd4", "Treg % of CD4", s, n, at, nfirst};
    int v = cg_qc_control_judge(&c, r);
    CHECK_INT(r->n, 1);
    if (r->n == 1)
        *out = r->checks[0];
    cg_qc_result_free(r);
    return v;
}

static void test_westgard(void)
{
    /* mean 12, SD 2 from the first three */
    double s[] = {10, 12, 14, 15.9, 16, 16.1, 18.5, 5.9, NAN};
    cg_qc_check c;
    CHECK_INT(judge(s, 4, 3, 3, &c), CG_QC_PASS); /* z 1.95 */
    CHECK_STR(c.name, "batch_control:treg_pct_cd4");
    CHECK_NEAR(c.value, 1.95, 1e-12);
    CHECK_NEAR(c.threshold, 2, 0);
    CHECK_INT(judge(s, 5, 4, 3, &c), CG_QC_PASS); /* exactly 2 SD */
    CHECK_INT(judge(s, 6, 5, 3, &c), CG_QC_WARN); /* z 2.05 */
    CHECK(strstr(c.detail, "1-2s") != NULL);
    CHECK_INT(judge(s, 7, 6, 3, &c), CG_QC_FAIL); /* z 3.25 */
    CHECK(strstr(c.detail, "1-3s") != NULL);
    CHECK_NEAR(c.threshold, 3, 0);
    CHECK_INT(judge(s, 8, 7, 3, &c), CG_QC_FAIL); /* z -3.05 */
    CHECK(c.value < -3);
    CHECK_INT(judge(s, 9, 8, 3, &c), CG_QC_SKIP); /* NA */
    CHECK(strstr(c.detail, "NA") != NULL);
    /* fewer batches than N: establishing, whatever the value */
    double e[] = {10, 12, 40};
    CHECK_INT(judge(e, 3, 2, 5, &c), CG_QC_SKIP);
    CHECK(strstr(c.detail, "establishing limits") != NULL);
    CHECK(isnan(c.value));
    /* a batch among the first N is judged once N exist */
    CHECK_INT(judge(s, 4, 0, 3, &c), CG_QC_PASS); /* z -1 */
    CHECK_NEAR(c.value, -1, 1e-12);
    /* zero SD: the mean passes, anything else fails */
    double z[] = {5, 5, 5, 5, 5.01};
    CHECK_INT(judge(z, 4, 3, 3, &c), CG_QC_PASS);
    CHECK_INT(judge(z, 5, 4, 3, &c), CG_QC_FAIL);
}

static void test_role(void)
{
    cg_err e = {0};
    const char *t = "file,role,subject\na.fcs,,S1\nb.fcs,Control,BRIDGE\n"
                    "c.fcs,sample,S2\n";
    cg_sheet *sh = cg_sheet_parse(t, strlen(t), "/x/sheet.csv", &e);
    REQUIRE(sh != NULL);
    CHECK_INT(sh->n, 3);
    CHECK_INT(sh->s[0].role, CG_ROLE_SAMPLE);
    CHECK_INT(sh->s[1].role, CG_ROLE_CONTROL);
    CHECK_INT(sh->s[2].role, CG_ROLE_SAMPLE);
    CHECK_INT(sh->has_control, 1);
    CHECK_INT(sh->nextra, 0); /* role is not carried through */
    cg_sheet_free(sh);
    const char *b = "file,role\na.fcs,sample\nb.fcs,bridge\n";
    memset(&e, 0, sizeof e);
    CHECK(cg_sheet_parse(b, strlen(b), "/x/sheet.csv", &e) == NULL);
    CHECK_INT(e.line, 3);
    CHECK(strstr(e.msg, "bridge") != NULL && strstr(e.msg, "control"));
    const char *n = "file\na.fcs\n";
    sh = cg_sheet_parse(n, strlen(n), "/x/sheet.csv", &e);
    REQUIRE(sh != NULL);
    CHECK_INT(sh->has_control, 0);
    CHECK_INT(sh->s[0].role, CG_ROLE_SAMPLE);
    cg_sheet_free(sh);
}

static int one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void test_store(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/unit_study_%d.sqlite", CG_TEST_OUT,
             (int)getpid());
    unlink(path);
    cg_err e = {0};
    cg_store *st = cg_store_open(path, &e);
    REQUIRE(st != NULL);
    sqlite3 *db = cg_store_db(st);
    CHECK_INT(one_int(db, "PRAGMA user_version"), CG_STORE_SCHEMA);
    CHECK_INT(one_int(db, "SELECT value FROM meta WHERE key = "
                          "'schema_version'"), CG_STORE_SCHEMA);
    CHECK_INT(one_int(db, "SELECT count(*) FROM samples"), 0);
    cg_store_close(st);
    st = cg_store_open(path, &e); /* reopen: schema kept */
    REQUIRE(st != NULL);
    CHECK_INT(one_int(cg_store_db(st), "SELECT count(*) FROM meta"), 3);
    sqlite3_exec(cg_store_db(st), "PRAGMA user_version = 99", NULL, NULL,
                 NULL);
    cg_store_close(st);
    memset(&e, 0, sizeof e);
    CHECK(cg_store_open(path, &e) == NULL);
    CHECK(strstr(e.msg, "newer") != NULL);
    unlink(path);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
}

int main(void)
{
    test_limits();
    test_westgard();
    test_role();
    test_store();
    return TEST_DONE();
}
