/*
 * cmd_run.c -- `cytogate run`: the config-driven batch (issue 6).
 *
 *   cytogate run -c CONFIG [-o OUTDIR] [-j N] [--no-plots] [--stdout|--json]
 *                (FILE|DIR... | --sheet SHEET.csv)
 *
 * Order: options -> config (refused with file:line before any sample is
 * read) -> sample list -> OUTDIR locked, staging folder made, signals
 * caught (outdir.h) -> per-run context (CSV matrix, QC parameters) ->
 * samples on N threads (batch.c) writing their figures into staging ->
 * output files into staging (output.c) -> commit (run.json last) -> exit
 * 0 (all processed and written), 1 (usage/config/OUTDIR cannot be
 * created or is locked by another run), 2 (a sample failed or an output
 * could not be written), 128+N (signal N: nothing committed).
 *
 * Threading: the main thread parses and writes; workers only process
 * samples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "outdir.h"
#include "output.h"
#include "plot.h"
#include "report.h"
#include "run.h"
#include "sheet.h"
#include "study.h"
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
"      --safe-tsv      prefix TSV cells that a spreadsheet would run as a\n"
"                      formula (= + - @ first, not a number) with '\n"
"      --export-gatingml  write gatingml/<sample_id>.xml: the gates placed\n"
"                      for each sample as Gating-ML 2.0 (cytogate gate)\n"
"      --db FILE       add the committed batch to this study store (SQLite,\n"
"                      created when missing; see cytogate study)\n"
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
"visit), run.json, plots/.  OUTDIR is locked while a run writes it; the\n"
"results are staged in OUTDIR/.cytogate-staging.<pid>/ and moved into place\n"
"at the end, replacing every output of the previous run; run.json, moved\n"
"last, marks a complete result set.\n"
"\n"
"Exit status: 0 all samples processed and written, 1 usage or config error\n"
"or OUTDIR cannot be created or is in use, 2 one or more samples could not\n"
"be processed (the others are written) or an output could not be written,\n"
"130/143 interrupted (SIGINT/SIGTERM; nothing committed).\n");
}

int cmd_run(int argc, char **argv)
{
    const char *config = NULL, *outdir = NULL, *sheetp = NULL, *db = NULL;
    long threads = 1;
    int plots = 1, to_stdout = 0, to_json = 0, safe_tsv = 0, export_gml = 0;
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
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            free(files);
            free(sel);
            return r;
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
        } else if (!strcmp(a, "--safe-tsv")) {
            safe_tsv = 1;
        } else if (cg_opt_is(a, NULL, "--db")) { /* study store, issue 21 */
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                goto usage_err;
            db = v;
        } else if (!strcmp(a, "--export-gatingml")) {
            export_gml = 1;
        } else if (!strcmp(a, "--stdout")) {
            to_stdout = 1;
        } else if (!strcmp(a, "--json")) {
            to_json = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown("run", a, usage);
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
    if (export_gml && !outdir && (to_stdout || to_json)) {
        cg_error_cmd("run", "--export-gatingml writes into an output folder "
                            "(-o DIR)");
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
    if (db && !outdir) {
        cg_error_cmd("run", "--db stores a committed output folder (-o DIR)");
        goto usage_err;
    }

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
    /* OUTDIR: locked, stale leftovers removed, a staging folder to write
     * into; a failure here is a usage-level error (exit 1) */
    cg_outdir *od = NULL;
    if (outdir) {
        od = cg_outdir_open("run", outdir, &err);
        if (!od) {
            cg_error_cmd("run", "%s", err.msg);
            cg_sheet_free(sh);
            cg_config_free(cfg);
            return CG_EXIT_USAGE;
        }
    }
    cg_store *st = NULL; /* study store (--db), opened before any sample */
    if (db && !(st = cg_store_open(db, &err))) {
        cg_error_cmd("run", "%s", err.msg);
        cg_outdir_close(od);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_run_opts o = {.outdir = od ? cg_outdir_staging(od) : NULL,
                     .plots = plots && outdir, .threads = (int)threads,
                     .export_gml = export_gml};
    cg_run_ctx ctx;
    if (cg_run_ctx_prepare(&ctx, cfg, sh, &o, &err) < 0) {
        cg_cli_file_error("run", config, &err);
        cg_run_ctx_clear(&ctx);
        cg_store_close(st);
        cg_outdir_close(od);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_result *res = calloc((size_t)sh->n, sizeof *res);
    if (!res) {
        cg_error_cmd("run", "out of memory");
        cg_run_ctx_clear(&ctx);
        cg_store_close(st);
        cg_outdir_close(od);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_DATA;
    }
    int failed = cg_run_batch(&ctx, res);
    int sig = cg_outdir_stop_signal();
    if (!sig && sh->has_control) { /* batch control, before the outputs */
        char *pd = od && o.plots ? cg_path_join(cg_outdir_staging(od),
                                                "plots") : NULL;
        if (cg_study_batch_control(st, &ctx, res, outdir, pd, &err) != 0)
            cg_error_cmd("run", "batch control: %s", err.msg);
        free(pd);
    }
    for (int i = 0; !sig && i < sh->n; i++)
        if (!res[i].ok)
            cg_error_file(sh->s[i].file_given, "%s",
                          res[i].message ? res[i].message : "unknown error");
    int unwritten = 0, committed = 0;
    if (od && !sig) {
        cg_out_opts oo = {.dir = cg_outdir_staging(od), .shown = outdir,
                          .safe_tsv = safe_tsv};
        unwritten = cg_write_run_files(&ctx, res, &oo, start, argc, argv);
        if (!unwritten && cg_report_write(oo.dir, oo.dir, &err) < 0) {
            cg_error_file(outdir, "report.html: %s", err.msg); /* issue 21 */
            unwritten = 1;
        }
        sig = cg_outdir_stop_signal();
        if (!unwritten && !sig) {
            if (cg_outdir_commit(od, &err) < 0) {
                cg_error_cmd("run", "%s", err.msg);
                unwritten = -1;
            } else {
                committed = 1;
                if (st && cg_store_add_batch(st, &ctx, res, outdir, start,
                                             argc, argv, &err) < 0) {
                    cg_error_cmd("run", "%s: the batch was not stored "
                                 "(the store is unchanged)", err.msg);
                    unwritten = -1;
                }
            }
        }
    }
    failed = 0;
    for (int i = 0; i < sh->n; i++)
        failed += !res[i].ok;
    int ret = failed || unwritten ? CG_EXIT_DATA : CG_EXIT_OK;
    if (sig) {
        ret = 128 + sig;
    } else if (to_stdout) {
        if (cg_write_tsv(stdout, cg_write_summary, &ctx, res, safe_tsv) < 0)
            ret = CG_EXIT_DATA; /* main reports the stdout error */
    } else if (to_json) {
        if (cg_write_summary_json(stdout, &ctx, res) < 0)
            ret = CG_EXIT_DATA;
    }
    if (sig) {
        cg_error_cmd("run", "interrupted by signal %d: nothing committed%s%s",
                     sig, outdir ? " to " : "", outdir ? outdir : "");
    } else if (outdir && !committed) {
        /* never a success line when the result set is not complete */
        char *rj = cg_path_join(outdir, "run.json");
        int prev = rj && access(rj, F_OK) == 0;
        free(rj);
        if (unwritten > 0)
            cg_error_cmd("run", "%d samples (%d failed); %d output file%s "
                         "could not be written, so nothing was committed: "
                         "%s/ %s", sh->n, failed, unwritten,
                         unwritten > 1 ? "s" : "", outdir,
                         prev ? "keeps the previous run's results"
                              : "has no results");
        else
            cg_error_cmd("run", "%d samples (%d failed); the results could "
                         "not be moved into place: %s/ is incomplete (no "
                         "run.json)", sh->n, failed, outdir);
    } else if (outdir && cg_verbosity >= 1 && !to_stdout && !to_json) {
        fprintf(stderr, "cytogate run: %d samples (%d failed); results in %s/\n",
                sh->n, failed, outdir);
    }
    for (int i = 0; i < sh->n; i++)
        cg_result_clear(&res[i]);
    free(res);
    cg_run_ctx_clear(&ctx);
    cg_store_close(st);
    cg_outdir_close(od);
    cg_sheet_free(sh);
    cg_config_free(cfg);
    if (o.plots)
        cg_plot_shutdown(); /* font caches, so leak checkers stay quiet */
    return ret;
usage_err:
    free(files);
    free(sel);
    return cg_usage_short("run", usage);
}
