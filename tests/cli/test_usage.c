/*
 * test_usage.c -- walks the subcommand table and checks the CLI contract:
 * `--help` lists every command with its summary, `help X` and `X --help`
 * print X's usage (with "Usage:") to stdout and exit 0, `--version` prints
 * the version, and an unknown command exits 1 with usage on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "commands.h"
#include "testutil.h"

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

    snprintf(cmd, sizeof cmd, "'%s' 2>/dev/null", CYTOGATE_BIN);
    CHECK_INT(run(cmd, out, sizeof out), 1);

    printf("%d commands in the table\n", ncmd);
    return TEST_DONE();
}
