/*
 * opts.c -- shared option spelling and the CLI grammar (see opts.h).
 * Stateless; the subcommands keep their own loops so each can add its
 * own flags, and call here for --help, --version and usage errors so
 * those read the same everywhere.  The short usage line and the option
 * names offered by "did you mean" are taken from the subcommand's own
 * usage text, so they cannot drift from what --help prints.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "sheet.h"
#include "suggest.h"
#include "util.h"

/* The usage text as one owned string (free), or NULL. */
static char *usage_text(cg_usage_fn usage)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    usage(m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int cg_opt_version(void)
{
    printf("cytogate %s\n", CYTOGATE_VERSION);
    return CG_EXIT_OK;
}

int cg_opt_std(const char *a, cg_usage_fn usage)
{
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        usage(stdout);
        return CG_EXIT_OK;
    }
    if (!strcmp(a, "-V") || !strcmp(a, "--version"))
        return cg_opt_version();
    return -1;
}

int cg_usage_short(const char *cmd, cg_usage_fn usage)
{
    char *t = usage_text(usage);
    if (t) {
        size_t n = strcspn(t, "\n");
        fprintf(stderr, "%.*s\n", (int)n, t);
        free(t);
    }
    fprintf(stderr, "Try 'cytogate %s --help' for more information.\n", cmd);
    return CG_EXIT_USAGE;
}

#define CG_MAX_LONGOPTS 96

void cg_opt_unknown(const char *cmd, const char *a, cg_usage_fn usage)
{
    const char *hint = NULL;
    char *t = NULL;
    char word[64];
    size_t wl = strcspn(a, "=");
    if (a[0] == '-' && a[1] == '-' && wl < sizeof word &&
        (t = usage_text(usage))) {
        /* every "--name" in the usage text, names kept in place */
        const char *names[CG_MAX_LONGOPTS];
        size_t n = 0;
        for (char *p = t; (p = strstr(p, "--")) && n < CG_MAX_LONGOPTS;) {
            int starts = p == t || !(p[-1] == '-' || p[-1] == '_' ||
                                     (p[-1] >= 'a' && p[-1] <= 'z') ||
                                     (p[-1] >= 'A' && p[-1] <= 'Z') ||
                                     (p[-1] >= '0' && p[-1] <= '9'));
            char *e = p + 2;
            while ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
                   *e == '-')
                e++;
            int ok = starts && e > p + 2 && p[2] != '-';
            char after = *e;
            if (ok) {
                *e = '\0';
                names[n++] = p;
            }
            p = ok && after ? e + 1 : e;
        }
        /* the shared options, whether or not the usage lists them */
        static const char *const shared[] = {"--help", "--version"};
        for (size_t k = 0; k < 2 && n < CG_MAX_LONGOPTS; k++) {
            size_t j = 0;
            while (j < n && strcmp(names[j], shared[k]))
                j++;
            if (j == n)
                names[n++] = shared[k];
        }
        memcpy(word, a, wl);
        word[wl] = '\0';
        hint = cg_suggest(word, names, n);
    }
    if (hint)
        fprintf(stderr, "cytogate %s: unknown option '%s'; did you mean "
                        "'%s'?\n", cmd, a, hint);
    else
        fprintf(stderr, "cytogate %s: unknown option '%s'\n", cmd, a);
    free(t); /* hint pointed into t */
}

int cg_getopt_error(const char *cmd, int c, char **argv, cg_usage_fn usage)
{
    /* glibc: optopt is the short option char, 0 for an unknown long
     * option; a long option missing its value is the last argument */
    char shortopt[3] = {'-', (char)optopt, '\0'};
    const char *prev = argv[optind - 1];
    const char *a = c == ':' ? (!strncmp(prev, "--", 2) ? prev : shortopt)
                             : (optopt ? shortopt : prev);
    if (c == ':')
        fprintf(stderr, "cytogate %s: option %s needs a value\n", cmd, a);
    else
        cg_opt_unknown(cmd, a, usage);
    return cg_usage_short(cmd, usage);
}

int cg_opt_is(const char *a, const char *s, const char *l)
{
    if (s && a[0] == '-' && a[1] != '-' && strncmp(a, s, 2) == 0)
        return 1;
    size_t n = strlen(l);
    return strncmp(a, l, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

const char *cg_opt_value(const char *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (a[0] == '-' && a[1] == '-') {
        const char *eq = strchr(a, '=');
        if (eq)
            return eq + 1;
    } else if (a[0] == '-' && a[1] && a[2]) {
        return a + 2;
    }
    if (*i + 1 >= argc) {
        cg_error_cmd(cmd, "%s needs a value", a);
        return NULL;
    }
    return argv[++*i];
}

long cg_default_threads(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > CG_DEFAULT_THREADS_MAX ? CG_DEFAULT_THREADS_MAX : n;
}

int cg_opt_threads(const char *cmd, const char *v, long *out)
{
    if (cg_parse_int(v, 1, 1024, out) < 0) {
        cg_error_cmd(cmd, "-j expects a number of threads 1..1024, got '%s'",
                     v);
        return -1;
    }
    return 0;
}

void cg_cli_file_error(const char *cmd, const char *file, const cg_err *e)
{
    cg_error_report(cmd, file, NULL, e); /* util.h: the one error format */
}

cg_config *cg_cli_config(const char *cmd, const char *path)
{
    cg_err err = {0};
    cg_config *cfg = cg_config_load(path, &err);
    if (!cfg)
        cg_cli_file_error(cmd, path, &err);
    return cfg;
}

cg_sheet *cg_cli_samples(const char *cmd, const char *sheet, int nfiles,
                         char *const *files, int nsel, char *const *sel)
{
    cg_err err = {0};
    cg_sheet *sh = sheet ? cg_sheet_read(sheet, &err)
                         : cg_sheet_from_paths(nfiles, files, &err);
    if (!sh) {
        if (sheet)
            cg_cli_file_error(cmd, sheet, &err);
        else
            cg_error_cmd(cmd, "%s", err.msg);
        return NULL;
    }
    if (nsel > 0 && cg_sheet_select(sh, nsel, sel, &err) < 0) {
        cg_error_cmd(cmd, "%s", err.msg);
        cg_sheet_free(sh);
        return NULL;
    }
    return sh;
}
