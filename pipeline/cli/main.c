/*
 * main.c -- `cytogate` entry point: global flags and dispatch through the
 * subcommand table (commands.c).
 *
 *   cytogate --help | --version | help [SUB] | SUB [args...]
 *
 * An unknown command is a usage error (exit 1): one line naming it, with
 * "did you mean" when a command is close (suggest.h), then a short usage.
 *
 * Ends by checking that stdout was written completely (a full disk or a
 * closed pipe is an error, not silent truncation).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "comp.h"
#include "suggest.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "cytogate %s -- flow cytometry gating pipeline\n\n"
            "Usage: cytogate <command> [options]\n"
            "       cytogate help <command>   (or: cytogate <command> --help)\n"
            "       cytogate --version   (or: cytogate <command> --version)\n",
            CYTOGATE_VERSION);
    const char *group = NULL;
    for (const cg_command *c = cg_commands; c->name; c++) {
        if (!group || strcmp(group, c->group) != 0) {
            group = c->group;
            fprintf(fp, "\n%s:\n", group);
        }
        fprintf(fp, "  %-11s %s\n", c->name, c->summary);
    }
    fprintf(fp, "\nExit status: 0 ok, 1 usage or config error, 2 an input "
                "could not be processed, 3 QC failure (qc).\n");
}

static int finish(int ret)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        if (errno != EPIPE)
            fprintf(stderr, "cytogate: error writing standard output: %s\n",
                    strerror(errno));
        return ret ? ret : CG_EXIT_DATA;
    }
    return ret;
}

/* Usage error at the top level: the problem, then the short usage. */
static int usage_error(const char *what, const char *word)
{
    const char *names[64];
    size_t n = 0;
    for (const cg_command *c = cg_commands; c->name && n < 64; c++)
        names[n++] = c->name;
    static const char *const flags[] = {"--help", "--version"};
    const char *hint = word[0] == '-' ? cg_suggest(word, flags, 2)
                                      : cg_suggest(word, names, n);
    if (hint)
        fprintf(stderr, "cytogate: unknown %s '%s'; did you mean '%s'?\n",
                what, word, hint);
    else
        fprintf(stderr, "cytogate: unknown %s '%s'\n", what, word);
    fprintf(stderr, "Usage: cytogate <command> [options]\n"
                    "Try 'cytogate --help' for the list of commands.\n");
    return CG_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    cg_blas_quiet(); /* OpenBLAS's idle workers would spin on our cores */
    if (argc < 2) {
        fprintf(stderr, "cytogate: no command given\n"
                        "Usage: cytogate <command> [options]\n"
                        "Try 'cytogate --help' for the list of commands.\n");
        return CG_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return finish(0);
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "-V") == 0 ||
        strcmp(sub, "version") == 0) {
        printf("cytogate %s\n", CYTOGATE_VERSION);
        return finish(0);
    }
    if (strcmp(sub, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return finish(0);
        }
        const cg_command *c = cg_command_find(argv[2]);
        if (!c)
            return usage_error("command", argv[2]);
        char *av[] = {(char *)c->name, "--help", NULL};
        return finish(c->fn(2, av));
    }
    const cg_command *c = cg_command_find(sub);
    if (!c)
        return usage_error(sub[0] == '-' ? "option" : "command", sub);
    return finish(c->fn(argc - 1, argv + 1));
}
