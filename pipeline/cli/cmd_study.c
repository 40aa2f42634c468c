/*
 * cmd_study.c -- `cytogate study`: the study-wide outputs of a study
 * store (issue 21) that `run --db` and `merge --db` fill batch by batch.
 *
 *   cytogate study --db STUDY.sqlite -o DIR [--analysis N] [--no-plots]
 *                  [--no-report]
 *   cytogate study --db STUDY.sqlite --list
 *
 * Writes DIR/longitudinal.tsv (a run's columns and formatting, over every
 * batch of the analysis), DIR/batches.tsv, DIR/batch_control.tsv and
 * DIR/plots/ (longitudinal.png, levey_jennings*.png) and DIR/report.html
 * (over all of them).  The store is only read.
 *
 * Exit: 0 written, 1 usage error or the store cannot be opened (or holds
 * no batch), 2 an output could not be written.
 *
 * Threading: main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "opts.h"
#include "plot.h"
#include "store.h"
#include "study.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate study --db STUDY.sqlite (-o DIR | --list) [options]\n"
"\n"
"Study-wide outputs of a study store filled by `run --db` / `merge --db`:\n"
"every batch of one analysis (one config) together.\n"
"\n"
"Input:\n"
"      --db FILE       the study store (SQLite) [required]\n"
"      --analysis N    the analysis (config version) to report [the one of\n"
"                      the most recently added batch]\n"
"      --list          list the analyses of the store (TSV on stdout)\n"
"\n"
"Output:\n"
"  -o, --out-dir DIR   output directory [required unless --list]\n"
"      --no-plots      skip the PNG figures\n"
"      --no-report     skip report.html\n"
"\n"
"Files in DIR: longitudinal.tsv (subject visit sample_id status\n"
"treg_pct_cd4 th17_pct_cd4 th17_treg_ratio baseline_visit\n"
"delta_treg_pct_cd4 delta_th17_pct_cd4 delta_th17_treg_ratio: the samples\n"
"of every batch, controls left out, as one run over all of them writes),\n"
"batches.tsv (batch_id label started added cytogate_version samples\n"
"controls failed command), batch_control.tsv (series batch label\n"
"sample_id treg_pct_cd4 th17_pct_cd4 th17_treg_ratio z_treg_pct_cd4\n"
"z_th17_pct_cd4 z_th17_treg_ratio batch_control: each control judged\n"
"against the first N batches of its series), plots/longitudinal.png,\n"
"plots/levey_jennings[_SUBJECT].png (one per control series), report.html\n"
"(one self-contained page: provenance, batches, every subject's numbers by\n"
"visit, the batch-control verdicts, the figures linked).\n"
"\n"
"Exit status: 0 written, 1 usage error or the store cannot be opened or\n"
"holds no batch, 2 an output could not be written.\n");
}

int cmd_study(int argc, char **argv)
{
    const char *db = NULL, *outdir = NULL;
    long aid = 0;
    int plots = 1, list = 0, report = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r;
        } else if (cg_opt_is(a, NULL, "--db")) {
            if (!(v = cg_opt_value("study", argc, argv, &i)))
                return cg_usage_short("study", usage);
            db = v;
        } else if (cg_opt_is(a, "-o", "--out-dir")) {
            if (!(v = cg_opt_value("study", argc, argv, &i)))
                return cg_usage_short("study", usage);
            outdir = v;
        } else if (cg_opt_is(a, NULL, "--analysis")) {
            if (!(v = cg_opt_value("study", argc, argv, &i)))
                return cg_usage_short("study", usage);
            char *e;
            aid = strtol(v, &e, 10);
            if (*e || aid < 1) {
                cg_error_cmd("study", "--analysis: '%s' is not an analysis "
                             "id (1, 2, ...)", v);
                return cg_usage_short("study", usage);
            }
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!strcmp(a, "--no-report")) {
            report = 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else {
            if (a[0] == '-' && a[1])
                cg_opt_unknown("study", a, usage);
            else
                cg_error_cmd("study", "unexpected argument '%s'", a);
            return cg_usage_short("study", usage);
        }
    }
    if (!db) {
        cg_error_cmd("study", "a study store is required (--db FILE)");
        return cg_usage_short("study", usage);
    }
    if (!outdir && !list) {
        cg_error_cmd("study", "an output directory is required (-o DIR), "
                              "or --list");
        return cg_usage_short("study", usage);
    }
    if (access(db, F_OK) != 0) {
        cg_error_file(db, "no such study store");
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    cg_store *st = cg_store_open(db, &err);
    if (!st) {
        cg_error_cmd("study", "%s", err.msg);
        return CG_EXIT_USAGE;
    }
    int ret = CG_EXIT_OK;
    if (list) {
        if (cg_study_list(st, stdout, &err) < 0) {
            cg_error_cmd("study", "%s", err.msg);
            ret = CG_EXIT_DATA;
        }
    } else if (cg_study_write(st, aid, outdir, plots, &err) < 0 ||
               (report && cg_study_report(st, aid, outdir, &err) < 0)) {
        cg_error_cmd("study", "%s", err.msg);
        ret = err.code == CG_E_ARG ? CG_EXIT_USAGE : CG_EXIT_DATA;
    } else if (cg_verbosity >= 1) {
        fprintf(stderr, "cytogate study: results in %s/\n", outdir);
    }
    cg_store_close(st);
    if (plots && !list)
        cg_plot_shutdown();
    return ret;
}
