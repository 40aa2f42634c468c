/*
 * opts.c -- shared option spelling (see opts.h).  Stateless; the
 * subcommands keep their own loops so each can add its own flags.
 */
#include "opts.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sheet.h"
#include "util.h"

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
    if (e->line)
        fprintf(stderr, "cytogate %s: %s:%d: %s\n", cmd, file, e->line,
                e->msg);
    else
        fprintf(stderr, "cytogate %s: %s: %s\n", cmd, file, e->msg);
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
