/*
 * test_error_format.c -- the one CLI error line (pipeline/util
 * cg_error_format/cg_error_report): the file, line and byte each appear
 * once, whether or not the library message already gives them, and a
 * CLI run prints the command's name in front.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"
#include "util.h"

static const char *fmt(const char *file, const char *what, int code,
                       int line, long long off, const char *msg)
{
    static char buf[1024];
    cg_err e;
    memset(&e, 0, sizeof e);
    e.code = code;
    e.line = line;
    e.offset = off;
    snprintf(e.msg, sizeof e.msg, "%s", msg);
    cg_error_format(buf, sizeof buf, file, what, &e);
    return buf;
}

int main(void)
{
    /* a text input: FILE:N: in front */
    CHECK_STR(fmt("bad.yaml", NULL, CG_E_PARSE, 8, -1, "gates[0]: no name"),
              "bad.yaml:8: gates[0]: no name");
    /* the message already names file and line: not repeated */
    CHECK_STR(fmt("m.csv", NULL, CG_E_PARSE, 2, -1,
                  "m.csv:2: field 2 ('x') is not a finite number"),
              "m.csv:2: field 2 ('x') is not a finite number");
    /* names the line in words: file only */
    CHECK_STR(fmt("s.csv", NULL, CG_E_PARSE, 3, -1,
                  "sample_id 'a' repeats line 3"),
              "s.csv: sample_id 'a' repeats line 3");
    /* line 3 is not line 31 */
    CHECK_STR(fmt("s.csv", NULL, CG_E_PARSE, 3, -1, "see line 31"),
              "s.csv:3: see line 31");
    /* no file: "line N: " */
    CHECK_STR(fmt(NULL, NULL, CG_E_PARSE, 4, -1, "expected a number"),
              "line 4: expected a number");
    /* FCS: the byte at the end, once */
    CHECK_STR(fmt("a.fcs", NULL, FCS_E_DATA, 0, 1627,
                  "DATA: ends past the file (at byte 1627)"),
              "a.fcs: DATA: ends past the file (at byte 1627)");
    CHECK_STR(fmt("a.fcs", NULL, FCS_E_TEXT, 0, 58, "TEXT: no delimiter"),
              "a.fcs: TEXT: no delimiter (at byte 58)");
    CHECK_STR(fmt("a.fcs", NULL, FCS_E_TEXT, 0, 58, "at byte 580"),
              "a.fcs: at byte 580 (at byte 58)");
    /* no place at all; a context word */
    CHECK_STR(fmt(NULL, "batch control", CG_E_DATA, 0, -1, "3 samples"),
              "batch control: 3 samples");
    CHECK_STR(fmt("x.yaml", "batch control", CG_E_DATA, 2, -1, "no cd4"),
              "x.yaml:2: batch control: no cd4");
    /* an empty message falls back to the code's text */
    CHECK_STR(fmt("a.fcs", NULL, FCS_E_NOMEM, 0, -1, ""),
              "a.fcs: out of memory");

    /* the CLI: `cytogate CMD: FILE...` on one line, exit 2 */
    const char *bad = CG_TEST_OUT "/error_format_trunc.fcs";
    FILE *o = fopen(bad, "wb");
    REQUIRE(o);
    fputs("FCS3.1    ", o); /* a HEADER cut short */
    fclose(o);
    const char *cmds[] = {"info", "dump"};
    for (int k = 0; k < 2; k++) {
        char cmd[1024], line[1024] = "", want[1100];
        snprintf(cmd, sizeof cmd, "'%s' %s '%s' 2>&1 >/dev/null",
                 CYTOGATE_BIN, cmds[k], bad);
        FILE *p = popen(cmd, "r");
        REQUIRE(p);
        size_t n = fread(line, 1, sizeof line - 1, p);
        line[n] = '\0';
        int st = pclose(p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        snprintf(want, sizeof want, "cytogate %s: %s: ", cmds[k], bad);
        CHECKM(strncmp(line, want, strlen(want)) == 0, "got '%s', want '%s...'",
               line, want);
        CHECKM(strstr(line, "byte ") != NULL, "no byte offset in '%s'", line);
        CHECK(n > 0 && strchr(line, '\n') == line + n - 1);
    }
    return TEST_DONE();
}
