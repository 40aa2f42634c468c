/*
 * opts.c -- shared option spelling (see opts.h).  Stateless; the
 * subcommands keep their own loops so each can add its own flags.
 */
#include "opts.h"

#include <string.h>

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
