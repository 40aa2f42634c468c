/*
 * test_usage.c -- walks the subcommand table and checks the CLI contract:
 * `--help` lists every command with its summary, `help X` and `X --help`
 * print X's usage (with "Usage:") to stdout and exit 0, `--version` prints
 * the version, and an unknown command exits 1 with usage on stderr.
 *
 * The shared grammar (pipeline/opts.h), for every row: -h/--help and
 * -V/--version exit 0 on stdout; an unknown option exits 1 with one error
 * line, the first line of the usage and a "Try" line on stderr (not the
 * full help), and nothing on stdout.  Plus "did you mean" for a misspelled
 * command and a misspelled long option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "commands.h"
#include "testutil.h"

/* Number of lines in s. */
static int nlines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Run cmd through the shell; capture stdout into buf; return exit code. */
static int run(const char *cmd, char *buf, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
    static char out[1 << 16], help[1 << 16];
    char cmd[1024];
    int ncmd = 0;

    snprintf(cmd, sizeof cmd, "'%s' --help", CYTOGATE_BIN);
    CHECK_INT(run(cmd, help, sizeof help), 0);
    for (const cg_command *c = cg_commands; c->name; c++) {
        ncmd++;
        CHECKM(strstr(help, c->name) != NULL, "--help lacks %s", c->name);
        CHECKM(strstr(help, c->summary) != NULL, "--help lacks summary of %s",
               c->name);
        CHECKM(c->fn != NULL && c->group != NULL, "incomplete row %s", c->name);

        snprintf(cmd, sizeof cmd, "'%s' help %s", CYTOGATE_BIN, c->name);
        CHECKM(run(cmd, out, sizeof out) == 0, "help %s exit", c->name);
        CHECKM(strstr(out, "Usage:") != NULL, "help %s: no Usage:", c->name);
        static char first[sizeof out];
        strcpy(first, out);

        snprintf(cmd, sizeof cmd, "'%s' %s --help", CYTOGATE_BIN, c->name);
        CHECKM(run(cmd, out, sizeof out) == 0, "%s --help exit", c->name);
        CHECKM(strcmp(first, out) == 0, "help %s differs from %s --help",
               c->name, c->name);
        /* -h is --help */
        snprintf(cmd, sizeof cmd, "'%s' %s -h", CYTOGATE_BIN, c->name);
        CHECKM(run(cmd, out, sizeof out) == 0, "%s -h exit", c->name);
        CHECKM(strcmp(first, out) == 0, "%s -h differs from --help", c->name);

        /* --version and -V print the version */
        const char *vflags[] = {"--version", "-V"};
        for (int k = 0; k < 2; k++) {
            snprintf(cmd, sizeof cmd, "'%s' %s %s", CYTOGATE_BIN, c->name,
                     vflags[k]);
            CHECKM(run(cmd, out, sizeof out) == 0, "%s %s exit", c->name,
                   vflags[k]);
            char want[64];
            snprintf(want, sizeof want, "cytogate %s\n", CYTOGATE_VERSION);
            CHECKM(strcmp(out, want) == 0, "%s %s: '%s'", c->name, vflags[k],
                   out);
        }

        /* unknown option: exit 1; stderr is the error, the usage line of
         * --help and a Try line; stdout empty */
        snprintf(cmd, sizeof cmd, "'%s' %s --no-such-option 2>/dev/null",
                 CYTOGATE_BIN, c->name);
        CHECKM(run(cmd, out, sizeof out) == 1, "%s unknown option exit",
               c->name);
        CHECKM(out[0] == '\0', "%s unknown option: stdout '%s'", c->name,
               out);
        snprintf(cmd, sizeof cmd, "'%s' %s --no-such-option 2>&1 1>/dev/null",
                 CYTOGATE_BIN, c->name);
        CHECKM(run(cmd, out, sizeof out) == 1, "%s unknown option exit",
               c->name);
        char want[256];
        snprintf(want, sizeof want, "cytogate %s: unknown option "
                 "'--no-such-option'\n", c->name);
        size_t ul = strcspn(first, "\n");
        CHECKM(nlines(out) == 3, "%s unknown option: %d lines: %s", c->name,
               nlines(out), out);
        CHECKM(strncmp(out, want, strlen(want)) == 0,
               "%s unknown option line: %s", c->name, out);
        CHECKM(strncmp(out + strlen(want), first, ul + 1) == 0,
               "%s unknown option: no short usage: %s", c->name, out);
        snprintf(want, sizeof want, "Try 'cytogate %s --help'", c->name);
        CHECKM(strstr(out, want) != NULL, "%s unknown option: %s", c->name,
               out);

        /* the shared options are suggested everywhere */
        const char *shared[][2] = {{"--verison", "--version"},
                                   {"--hlep", "--help"}};
        for (int k = 0; k < 2; k++) {
            snprintf(cmd, sizeof cmd, "'%s' %s %s 2>&1 1>/dev/null",
                     CYTOGATE_BIN, c->name, shared[k][0]);
            CHECKM(run(cmd, out, sizeof out) == 1, "%s %s exit", c->name,
                   shared[k][0]);
            snprintf(want, sizeof want, "did you mean '%s'?", shared[k][1]);
            CHECKM(strstr(out, want) != NULL, "%s %s: %s", c->name,
                   shared[k][0], out);
        }

        /* a name must appear once only */
        CHECKM(cg_command_find(c->name) == c, "duplicate row %s", c->name);
    }

    snprintf(cmd, sizeof cmd, "'%s' --version", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 0);
    CHECKM(strncmp(out, "cytogate ", 9) == 0 &&
           strstr(out, CYTOGATE_VERSION) != NULL, "version: %s", out);

    snprintf(cmd, sizeof cmd, "'%s' no-such-command 2>&1 1>/dev/null",
             CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);
    CHECKM(strstr(out, "unknown command") && strstr(out, "Usage:"),
           "unknown command stderr: %s", out);

    snprintf(cmd, sizeof cmd, "'%s' -V", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 0);
    CHECKM(strncmp(out, "cytogate ", 9) == 0 &&
           strstr(out, CYTOGATE_VERSION) != NULL, "-V: %s", out);

    /* did you mean: a misspelled command, at the top and after help */
    snprintf(cmd, sizeof cmd, "'%s' rnu 2>&1 1>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);
    CHECKM(strstr(out, "unknown command 'rnu'; did you mean 'run'?") &&
           strstr(out, "Usage:") && nlines(out) == 3,
           "rnu: %s", out);
    snprintf(cmd, sizeof cmd, "'%s' help simualte 2>&1 1>/dev/null",
             CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);
    CHECKM(strstr(out, "did you mean 'simulate'?") != NULL, "help: %s", out);
    snprintf(cmd, sizeof cmd, "'%s' xyzzy 2>&1 1>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);
    CHECKM(strstr(out, "unknown command 'xyzzy'") && !strstr(out, "mean"),
           "xyzzy: %s", out);

    /* did you mean: a misspelled long option, with or without a value */
    const char *typos[][3] = {
        {"run", "--ouput-dir x", "'--ouput-dir'; did you mean '--out-dir'?"},
        {"run", "--ouput-dir=x", "'--ouput-dir=x'; did you mean '--out-dir'?"},
        {"qc", "--thraeds 2", "did you mean '--threads'?"},
        {"info", "--jsno", "did you mean '--json'?"},
        {"simulate", "--sed 3", "did you mean '--seed'?"},
        {"dump", "--haed 3", "did you mean '--head'?"},
        {"plot", "--parnt x", "did you mean '--parent'?"},
        {"merge", "--ouput-dir x", "did you mean '--out-dir'?"},
        {"report", "--quite", "did you mean '--quiet'?"},
        {"study", "--dbb x", "did you mean '--db'?"},
        {"gate", "--gatingmll x", "did you mean '--gatingml'?"},
        {"wsp", "--grup x", "did you mean '--group'?"},
        {"transform", "--tyep logicle", "did you mean '--type'?"},
        {"compensate", "--matirx m", "did you mean '--matrix'?"},
        {"bench", "--evnets 5", "did you mean '--events'?"},
    };
    /* every subcommand has a misspelled option above */
    for (const cg_command *c = cg_commands; c->name; c++) {
        int seen = 0;
        for (size_t k = 0; k < sizeof typos / sizeof *typos; k++)
            seen |= !strcmp(typos[k][0], c->name);
        CHECKM(seen, "no misspelled-option case for %s", c->name);
    }
    for (size_t k = 0; k < sizeof typos / sizeof *typos; k++) {
        snprintf(cmd, sizeof cmd, "'%s' %s %s 2>&1 1>/dev/null",
                 CYTOGATE_BIN, typos[k][0], typos[k][1]);
        CHECKM(run(cmd, out, sizeof out) == 1, "%s %s exit", typos[k][0],
               typos[k][1]);
        CHECKM(strstr(out, typos[k][2]) != NULL && nlines(out) == 3,
               "%s %s: %s", typos[k][0], typos[k][1], out);
    }

    /* a missing value is a usage error with the short usage too */
    snprintf(cmd, sizeof cmd, "'%s' run -c 2>&1 1>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);
    CHECKM(strstr(out, "needs a value") && strstr(out, "Usage: cytogate run")
           && nlines(out) == 3, "run -c: %s", out);

    snprintf(cmd, sizeof cmd, "'%s' 2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);

    printf("%d commands in the table\n", ncmd);
    return TEST_DONE();
}
