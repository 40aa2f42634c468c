/*
 * test_sheet.c -- sample sheets: quoting, CRLF, BOM, carried-through
 * columns, default ids, path resolution, and errors naming the line.
 */
#include <string.h>

#include "sheet.h"
#include "testutil.h"

static cg_sheet *parse(const char *t, cg_err *e)
{
    return cg_sheet_parse(t, strlen(t), "/data/study/sheet.csv", e);
}

static void good(void)
{
    cg_err e = {0};
    const char *t = "\xEF\xBB\xBF" "File,Subject,visit,site,note,compensation\r\n"
                    "a.fcs,P1,V1,\"Lab, 2\",\"he said \"\"hi\"\"\",\r\n"
                    "\r\n"
                    "/abs/b.fcs.gz,P1,V2,L3,\"two\nlines\",none\r\n"
                    "c.FCS,,,,,m.csv\r\n";
    cg_sheet *s = parse(t, &e);
    if (!s)
        fprintf(stderr, "%d: %s\n", e.line, e.msg);
    REQUIRE(s != NULL);
    CHECK_INT(s->n, 3);
    CHECK_INT(s->nextra, 2);
    CHECK_STR(s->extra_names[0], "site");
    CHECK_STR(s->s[0].file, "/data/study/a.fcs");
    CHECK_STR(s->s[0].file_given, "a.fcs");
    CHECK_STR(s->s[0].sample_id, "a");
    CHECK_STR(s->s[0].extra[0], "Lab, 2");
    CHECK_STR(s->s[0].extra[1], "he said \"hi\"");
    CHECK(s->s[0].compensation == NULL);
    CHECK_STR(s->s[1].file, "/abs/b.fcs.gz");
    CHECK_STR(s->s[1].sample_id, "b");
    CHECK_STR(s->s[1].extra[1], "two\nlines");
    CHECK_STR(s->s[1].compensation, "none");
    CHECK_INT(s->s[1].line, 4);
    CHECK_INT(s->s[2].line, 6);
    CHECK_STR(s->s[2].sample_id, "c");
    CHECK_STR(s->s[2].subject, "");
    CHECK_STR(s->s[2].compensation, "/data/study/m.csv");
    CHECK(s->has_subject && s->has_visit);
    cg_sheet_free(s);
}

static void bad(void)
{
    static const struct { const char *t; int line; const char *needle; } c[] = {
        {"sample_id,subject\nx,y\n", 1, "no 'file' column"},
        {"file,subject\na.fcs,P1\nb.fcs\n", 3, "1 fields, but the header has 2"},
        {"file\na.fcs\n\"b.fcs\n", 3, "unterminated quoted field"},
        {"file\na\"b.fcs\n", 2, "quote inside an unquoted field"},
        {"file\n\"a\"x\n", 2, "text after a closing quote"},
        {"file,sample_id\na.fcs,S\nb.fcs,S\n", 3, "sample_id 'S' repeats line 2"},
        {"file,sample_id\na.fcs,../x\n", 2, "cannot be used as a file name"},
        {"file,file\na,b\n", 1, "appears twice"},
        {"file,site,Site\na,b,c\n", 1, "appears twice"},
        {"file\n", 1, "lists no samples"},
        {"", 1, "empty"},
        {"file,subject\n,P1\n", 2, "'file' field is empty"},
    };
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        cg_err e = {0};
        cg_sheet *s = parse(c[k].t, &e);
        CHECKM(s == NULL, "case %zu accepted", k);
        CHECKM(e.line == c[k].line, "case %zu: line %d, expected %d (%s)", k,
               e.line, c[k].line, e.msg);
        CHECKM(strstr(e.msg, c[k].needle) != NULL, "case %zu: '%s' lacks '%s'",
               k, e.msg, c[k].needle);
        cg_sheet_free(s);
    }
}

static void paths(void)
{
    char *ids = cg_sample_id_from_path("/x/y/Run 7.LMD");
    CHECK_STR(ids, "Run 7");
    free(ids);
    char *const dup[] = {"/a/s1.fcs", "/b/s1.fcs"};
    cg_err e = {0};
    cg_sheet *s = cg_sheet_from_paths(2, dup, &e);
    CHECK(s == NULL);
    CHECK(strstr(e.msg, "sample_id 's1' is used by both") != NULL);
    char *const one[] = {"/nonexistent/x.fcs"};
    s = cg_sheet_from_paths(1, one, &e);
    REQUIRE(s != NULL); /* a missing file is a per-sample error later */
    CHECK_STR(s->s[0].sample_id, "x");
    CHECK(!s->has_subject);
    cg_sheet_free(s);
}

int main(void)
{
    good();
    bad();
    paths();
    return TEST_DONE();
}
