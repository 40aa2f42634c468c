/*
 * cmd_run.c -- `cytogate run`: the config-driven batch (issue 6).
 *
 *   cytogate run -c CONFIG [-o OUTDIR] [-j N] [--no-plots] [--stdout|--json]
 *                (FILE|DIR... | --sheet SHEET.csv)
 *
 * Order: options -> config (refused with file:line before any sample is
 * read) -> sample list -> per-run context (CSV matrix, QC parameters) ->
 * samples on N threads (batch.c) -> output files (output.c) -> exit 0
 * (all processed), 1 (usage/config), 2 (one or more samples failed).
 *
 * Threading: the main thread parses and writes; workers only process
 * samples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "plot.h"
#include "run.h"
#include "sheet.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate run -c CONFIG [options] (FILE|DIR... | --sheet SHEET.csv)\n"
"\n"
"Gate every sample with the config; write tables, per-sample JSON, QC and\n"
"figures.\n"
"\n"
"Input:\n"
"  -c, --config FILE   gating config (YAML) [required]\n"
"  -s, --sheet FILE    sample sheet CSV (file, sample_id, subject, visit,\n"
"                      group, compensation, other columns carried through)\n"
"  FILE|DIR...         FCS files, or directories of *.fcs (sorted by name)\n"
"      --sample ID     process only this sample of the inputs (repeatable;\n"
"                      one cluster job per sample, see cytogate merge)\n"
"\n"
"Output:\n"
"  -o, --out-dir DIR   output directory [results; none with --stdout/--json]\n"
"      --no-plots      skip the PNG figures\n"
"      --stdout        print summary rows as TSV on stdout\n"
"      --json          print the per-sample results as a JSON array on stdout\n"
"\n"
"Processing:\n"
"  -j, --threads N     samples processed in parallel [1]\n"
"  -q, --quiet         no warnings on stderr\n"
"\n"
"Files in OUTDIR: summary.tsv (sample_id file subject visit status qc events\n"
"cd4_count treg_count treg_pct_cd4 th17_count th17_pct_cd4 th17_treg_ratio,\n"
"other populations and metrics, group, sheet columns, message), stats.tsv,\n"
"qc.tsv, samples/<sample_id>.json, longitudinal.tsv (with subject and\n"
"visit), run.json, plots/.\n"
"\n"
"Exit status: 0 all samples processed, 1 usage or config error,\n"
"2 one or more samples could not be processed (the others are written).\n");
}

int cmd_run(int argc, char **argv)
{
    const char *config = NULL, *outdir = NULL, *sheetp = NULL;
    long threads = 1;
    int plots = 1, to_stdout = 0, to_json = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    char **sel = calloc((size_t)argc + 1, sizeof *sel);
    int nfiles = 0, nsel = 0;
    if (!files || !sel) {
        free(files);
        free(sel);
        return CG_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            free(sel);
            return CG_EXIT_OK;
        } else if (cg_opt_is(a, "-c", "--config")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            config = v;
        } else if (cg_opt_is(a, "-o", "--out-dir")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            outdir = v;
        } else if (cg_opt_is(a, "-s", "--sheet")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            sheetp = v;
        } else if (cg_opt_is(a, "-j", "--threads")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            if (cg_opt_threads("run", v, &threads) < 0)
                goto usage_err;
        } else if (cg_opt_is(a, NULL, "--sample")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            sel[nsel++] = (char *)v;
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!strcmp(a, "--stdout")) {
            to_stdout = 1;
        } else if (!strcmp(a, "--json")) {
            to_json = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_error_cmd("run", "unknown option '%s'", a);
            goto usage_err;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!config) {
        cg_error_cmd("run", "a config is required (-c CONFIG)");
        goto usage_err;
    }
    if (to_stdout && to_json) {
        cg_error_cmd("run", "--stdout and --json exclude each other");
        goto usage_err;
    }
    if (!sheetp && nfiles == 0) {
        cg_error_cmd("run", "no input: give FCS files, directories or --sheet");
        goto usage_err;
    }
    if (sheetp && nfiles > 0) {
        cg_error_cmd("run", "give either --sheet or files, not both");
        goto usage_err;
    }
    if (!outdir && !to_stdout && !to_json)
        outdir = "results";

    char start[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tmv);

    /* The config first: a bad one is refused before any sample is read. */
    cg_err err = {0};
    cg_config *cfg = cg_cli_config("run", config);
    cg_sheet *sh = cfg ? cg_cli_samples("run", sheetp, nfiles, files, nsel,
                                        sel) : NULL;
    free(files);
    free(sel);
    if (!sh) {
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_run_opts o = {.outdir = outdir, .plots = plots && outdir,
                     .threads = (int)threads};
    cg_run_ctx ctx;
    if (cg_run_ctx_prepare(&ctx, cfg, sh, &o, &err) < 0) {
        cg_cli_file_error("run", config, &err);
        cg_run_ctx_clear(&ctx);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_result *res = calloc((size_t)sh->n, sizeof *res);
    if (!res) {
        cg_error_cmd("run", "out of memory");
        cg_run_ctx_clear(&ctx);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_DATA;
    }
    int failed = cg_run_batch(&ctx, res);
    for (int i = 0; i < sh->n; i++)
        if (!res[i].ok)
            cg_error_file(sh->s[i].file_given, "%s",
                          res[i].message ? res[i].message : "unknown error");
    int ret = failed ? CG_EXIT_DATA : CG_EXIT_OK;
    if (outdir && cg_write_outputs(&ctx, res, start, argc, argv, &err) < 0) {
        cg_error_cmd("run", "%s", err.msg);
        ret = CG_EXIT_DATA;
    }
    if (to_stdout)
        cg_write_summary(stdout, &ctx, res);
    else if (to_json)
        cg_write_summary_json(stdout, &ctx, res);
    if (outdir && cg_verbosity >= 1 && !to_stdout && !to_json)
        fprintf(stderr, "cytogate run: %d samples (%d failed); results in %s/\n",
                sh->n, failed, outdir);
    for (int i = 0; i < sh->n; i++)
        cg_result_clear(&res[i]);
    free(res);
    cg_run_ctx_clear(&ctx);
    cg_sheet_free(sh);
    cg_config_free(cfg);
    if (o.plots)
        cg_plot_shutdown(); /* font caches, so leak checkers stay quiet */
    return ret;
usage_err:
    fputc('\n', stderr);
    usage(stderr);
    free(files);
    free(sel);
    return CG_EXIT_USAGE;
}
