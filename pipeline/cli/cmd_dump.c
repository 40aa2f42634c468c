/*
 * cmd_dump.c -- `cytogate dump`: events of one data set as TSV, a header
 * row of $PnN then one event per row, every number printed with %.17g so
 * it reads back to the identical double (nan/inf spelled "nan", "inf",
 * "-inf").
 *
 * Events are decoded in blocks of 65536, so memory stays constant for any
 * file size.  Exit 0 ok; 1 usage error (nothing read); 2 the file cannot
 * be read or a --channels name is not in it (one line on stderr,
 * "cytogate: FILE: message (at byte N)").  Single-threaded.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fcs.h"
#include "opts.h"
#include "util.h"

#define DUMP_BLOCK 65536

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate dump [options] FILE\n"
"\n"
"Writes the events of one data set as TSV on stdout: a header row of $PnN\n"
"names, then one event per row; numbers use %%.17g (exact round trip).\n"
"\n"
"Values:\n"
"      --scaled        scaled values: log $PnE decoded, / $PnG, time x\n"
"                      $TIMESTEP [default]\n"
"      --raw           stored values (integers masked to $PnR)\n"
"Selection:\n"
"      --dataset N     data set N of a $NEXTDATA chain, from 1 [1]\n"
"      --head N        only the first N events\n"
"      --tail N        only the last N events (with --head: both ends)\n"
"      --channels A,B  only these parameters ($PnN), in this order\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 the file cannot be read (the message\n"
"names the byte where that is known).\n");
}

static void put_num(double v)
{
    if (isnan(v))
        fputs("nan", stdout);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", stdout);
    else
        printf("%.17g", v);
}

static int dump_range(fcs_file *f, const char *file, fcs_view view,
                      int64_t first, int64_t n, const int *sel, int nsel,
                      double **cols, double **all)
{
    int np = fcs_n_params(f);
    for (int64_t i0 = first; i0 < first + n; i0 += DUMP_BLOCK) {
        int64_t m = first + n - i0 < DUMP_BLOCK ? first + n - i0 : DUMP_BLOCK;
        for (int j = 0; j < np; j++)
            cols[j] = NULL;
        for (int k = 0; k < nsel; k++)
            cols[sel[k]] = all[k];
        fcs_err err;
        int64_t got = fcs_read_double(f, view, i0, m, cols, &err);
        if (got < -1) {
            cg_error_report("dump", file, NULL, &err);
            return -1;
        }
        for (int64_t i = 0; i < got; i++) {
            for (int k = 0; k < nsel; k++) {
                if (k)
                    putchar('\t');
                put_num(all[k][i]);
            }
            putchar('\n');
        }
    }
    return 0;
}

int cmd_dump(int argc, char **argv)
{
    static const struct option lo[] = {
        {"raw", no_argument, NULL, 'r'},
        {"scaled", no_argument, NULL, 's'},
        {"dataset", required_argument, NULL, 'd'},
        {"head", required_argument, NULL, 'H'},
        {"tail", required_argument, NULL, 'T'},
        {"channels", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    fcs_view view = FCS_SCALED;
    long ds = 1, head = -1, tail = -1;
    const char *chans = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV", lo, NULL)) != -1) {
        switch (c) {
        case 'r': view = FCS_RAW; break;
        case 's': view = FCS_SCALED; break;
        case 'd':
            if (cg_parse_int(optarg, 1, 1000000, &ds) < 0) {
                cg_error_cmd("dump", "--dataset wants a number >= 1, not '%s'",
                             optarg);
                return cg_usage_short("dump", usage);
            }
            break;
        case 'H':
        case 'T': {
            long v;
            if (cg_parse_int(optarg, 0, 2147483647L, &v) < 0) {
                cg_error_cmd("dump", "--%s wants a count, not '%s'",
                             c == 'H' ? "head" : "tail", optarg);
                return cg_usage_short("dump", usage);
            }
            if (c == 'H')
                head = v;
            else
                tail = v;
            break;
        }
        case 'c': chans = optarg; break;
        case 'h': usage(stdout); return CG_EXIT_OK;
        case 'V': return cg_opt_version();
        case ':':
        default:
            return cg_getopt_error("dump", c, argv, usage);
        }
    }
    if (argc - optind != 1) {
        cg_error_cmd("dump", "expected one FILE");
        return cg_usage_short("dump", usage);
    }
    const char *file = argv[optind];
    fcs_err err;
    fcs_opts o = {0, (int)ds - 1};
    fcs_file *f = fcs_open(file, &o, &err);
    if (!f && err.code == FCS_E_ARG)
        f = fcs_open(file, NULL, &err); /* report the data set count below */
    if (!f) {
        cg_error_report("dump", file, NULL, &err);
        return CG_EXIT_DATA;
    }
    if (fcs_select_dataset(f, o.dataset, &err) < 0) {
        cg_error_report("dump", file, NULL, &err);
        fcs_close(f);
        return CG_EXIT_DATA;
    }
    for (int i = 0; i < fcs_n_warnings(f); i++)
        cg_warn_file(file, "%s", fcs_warning(f, i));
    int np = fcs_n_params(f);
    int cap = np;
    if (chans) {
        cap = 1;
        for (const char *p = chans; *p; p++)
            cap += *p == ',';
    }
    int *sel = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *sel);
    int nsel = 0;
    int ret = CG_EXIT_OK;
    if (chans) {
        char *copy = strdup(chans);
        for (char *t = strtok(copy, ","); t && nsel < cap; t = strtok(NULL, ",")) {
            int j = fcs_param_index(f, t);
            if (j < 0) {
                cg_error_file(file, "no parameter named '%s'", t);
                ret = CG_EXIT_DATA;
                break;
            }
            for (int k = 0; k < nsel; k++)
                if (sel[k] == j && ret == CG_EXIT_OK) {
                    cg_error_cmd("dump", "channel '%s' is listed twice", t);
                    ret = CG_EXIT_USAGE;
                }
            sel[nsel++] = j;
        }
        free(copy);
    } else {
        for (int j = 0; j < np; j++)
            sel[nsel++] = j;
    }
    double **cols = calloc((size_t)(np > 0 ? np : 1), sizeof *cols);
    double **all = calloc((size_t)(nsel ? nsel : 1), sizeof *all);
    for (int k = 0; ret == CG_EXIT_OK && k < nsel; k++)
        all[k] = malloc(DUMP_BLOCK * sizeof(double));
    if (ret == CG_EXIT_OK) {
        for (int k = 0; k < nsel; k++)
            printf("%s%s", k ? "\t" : "", fcs_param_info(f, sel[k])->name);
        putchar('\n');
        int64_t n = fcs_n_events(f);
        int64_t h = head < 0 ? (tail < 0 ? n : 0) : (head < n ? head : n);
        int64_t t = tail < 0 ? 0 : (tail < n ? tail : n);
        if (h + t > n)
            t = n - h;
        if (dump_range(f, file, view, 0, h, sel, nsel, cols, all) < 0 ||
            dump_range(f, file, view, n - t, t, sel, nsel, cols, all) < 0)
            ret = CG_EXIT_DATA;
    }
    for (int k = 0; k < nsel; k++)
        free(all[k]);
    free(all);
    free(cols);
    free(sel);
    fcs_close(f);
    return ret;
}
