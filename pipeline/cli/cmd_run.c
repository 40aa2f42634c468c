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
"  -j, --threads N     threads: samples in parallel, the rest inside\n"
"                      each sample [the CPUs available, at most 16]\n"
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

/* The command line of one run. */
typedef struct run_args {
    const char *config, *outdir, *sheetp, *db;
    long threads;
    int plots, to_stdout, to_json, safe_tsv, export_gml;
    char **files, **sel;
    int nfiles, nsel;
} run_args;

/* Read the options into a.  0 ok; 1 a usage error (printed); 2 --help or
 * --version handled, exit status in *ret. */
static int run_parse(int argc, char **argv, run_args *a, int *ret)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v;
        int r;
        if ((r = cg_opt_std(o, usage)) >= 0) {
            *ret = r;
            return 2;
        } else if (cg_opt_is(o, "-c", "--config")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            a->config = v;
        } else if (cg_opt_is(o, "-o", "--out-dir")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            a->outdir = v;
        } else if (cg_opt_is(o, "-s", "--sheet")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            a->sheetp = v;
        } else if (cg_opt_is(o, "-j", "--threads")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            if (cg_opt_threads("run", v, &a->threads) < 0)
                return 1;
        } else if (cg_opt_is(o, NULL, "--sample")) {
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            a->sel[a->nsel++] = (char *)v;
        } else if (!strcmp(o, "--no-plots")) {
            a->plots = 0;
        } else if (!strcmp(o, "--safe-tsv")) {
            a->safe_tsv = 1;
        } else if (cg_opt_is(o, NULL, "--db")) { /* study store, issue 21 */
            if (!(v = cg_opt_value("run", argc, argv, &i)))
                return 1;
            a->db = v;
        } else if (!strcmp(o, "--export-gatingml")) {
            a->export_gml = 1;
        } else if (!strcmp(o, "--stdout")) {
            a->to_stdout = 1;
        } else if (!strcmp(o, "--json")) {
            a->to_json = 1;
        } else if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
            cg_verbosity = 0;
        } else if (o[0] == '-' && o[1]) {
            cg_opt_unknown("run", o, usage);
            return 1;
        } else {
            a->files[a->nfiles++] = argv[i];
        }
    }
    return 0;
}

/* Options that exclude or need each other; sets the default OUTDIR.
 * 0 or -1 (printed). */
static int run_check(run_args *a)
{
    const char *why = NULL;
    if (!a->config)
        why = "a config is required (-c CONFIG)";
    else if (a->to_stdout && a->to_json)
        why = "--stdout and --json exclude each other";
    else if (a->export_gml && !a->outdir && (a->to_stdout || a->to_json))
        why = "--export-gatingml writes into an output folder (-o DIR)";
    else if (!a->sheetp && a->nfiles == 0)
        why = "no input: give FCS files, directories or --sheet";
    else if (a->sheetp && a->nfiles > 0)
        why = "give either --sheet or files, not both";
    if (!why && !a->outdir && !a->to_stdout && !a->to_json)
        a->outdir = "results";
    if (!why && a->db && !a->outdir)
        why = "--db stores a committed output folder (-o DIR)";
    if (why)
        cg_error_cmd("run", "%s", why);
    return why ? -1 : 0;
}

/* Outputs into staging, report.html, commit, then the study store.
 * *unwritten: output files not written (> 0) or -1 when the commit or
 * the store failed; returns 1 when committed. */
static int run_commit(const run_args *a, cg_outdir *od, cg_store *st,
                      cg_run_ctx *ctx, cg_result *res, const char *start,
                      int argc, char **argv, int *unwritten, int *sig)
{
    cg_err err = {0};
    cg_out_opts oo = {.dir = cg_outdir_staging(od), .shown = a->outdir,
                      .safe_tsv = a->safe_tsv};
    *unwritten = cg_write_run_files(ctx, res, &oo, start, argc, argv);
    if (!*unwritten && cg_report_write(oo.dir, oo.dir, (int)a->threads, &err) < 0) {
        cg_error_report("run", a->outdir, "report.html", &err); /* issue 21 */
        *unwritten = 1;
    }
    *sig = cg_outdir_stop_signal();
    if (*unwritten || *sig)
        return 0;
    if (cg_outdir_commit(od, &err) < 0) {
        cg_error_report("run", NULL, NULL, &err);
        *unwritten = -1;
        return 0;
    }
    if (st && cg_store_add_batch(st, ctx, res, a->outdir, start, argc, argv,
                                 &err) < 0) {
        cg_error_cmd("run", "%s: the batch was not stored (the store is "
                     "unchanged)", err.msg);
        *unwritten = -1;
    }
    return 1;
}

/* The closing line: interrupted, not committed (and why), or where the
 * results are. */
static void run_final_note(const run_args *a, int n, int failed,
                           int unwritten, int committed, int sig)
{
    const char *outdir = a->outdir;
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
                         "%s/ %s", n, failed, unwritten,
                         unwritten > 1 ? "s" : "", outdir,
                         prev ? "keeps the previous run's results"
                              : "has no results");
        else
            cg_error_cmd("run", "%d samples (%d failed); the results could "
                         "not be moved into place: %s/ is incomplete (no "
                         "run.json)", n, failed, outdir);
    } else if (outdir && cg_verbosity >= 1 && !a->to_stdout && !a->to_json) {
        fprintf(stderr, "cytogate run: %d samples (%d failed); results in %s/\n",
                n, failed, outdir);
    }
}

/* Gate the samples of a prepared context, then write, commit, store and
 * print; an exit status. */
static int run_samples(const run_args *a, cg_outdir *od, cg_store *st,
                       cg_run_ctx *ctx, const cg_run_opts *o,
                       const char *start, int argc, char **argv)
{
    const cg_sheet *sh = ctx->sheet;
    cg_err err = {0};
    cg_result *res = calloc((size_t)sh->n, sizeof *res);
    if (!res) {
        cg_error_cmd("run", "out of memory");
        return CG_EXIT_DATA;
    }
    int failed = cg_run_batch(ctx, res);
    int sig = cg_outdir_stop_signal();
    if (!sig && sh->has_control) { /* batch control, before the outputs */
        char *pd = od && o->plots ? cg_path_join(cg_outdir_staging(od),
                                                 "plots") : NULL;
        if (cg_study_batch_control(st, ctx, res, a->outdir, pd, &err) != 0)
            cg_error_report("run", NULL, "batch control", &err);
        free(pd);
    }
    for (int i = 0; !sig && i < sh->n; i++)
        if (!res[i].ok)
            cg_error_cmd("run", "%s: %s", sh->s[i].file_given,
                         res[i].message ? res[i].message : "unknown error");
    int unwritten = 0, committed = 0;
    if (od && !sig)
        committed = run_commit(a, od, st, ctx, res, start, argc, argv,
                               &unwritten, &sig);
    failed = 0;
    for (int i = 0; i < sh->n; i++)
        failed += !res[i].ok;
    int ret = failed || unwritten ? CG_EXIT_DATA : CG_EXIT_OK;
    if (sig) {
        ret = 128 + sig;
    } else if (a->to_stdout) {
        if (cg_write_tsv(stdout, cg_write_summary, ctx, res, a->safe_tsv) < 0)
            ret = CG_EXIT_DATA; /* main reports the stdout error */
    } else if (a->to_json) {
        if (cg_write_summary_json(stdout, ctx, res) < 0)
            ret = CG_EXIT_DATA;
    }
    run_final_note(a, sh->n, failed, unwritten, committed, sig);
    for (int i = 0; i < sh->n; i++)
        cg_result_clear(&res[i]);
    free(res);
    return ret;
}

int cmd_run(int argc, char **argv)
{
    run_args a = {.threads = cg_default_threads(), .plots = 1};
    a.files = calloc((size_t)argc + 1, sizeof *a.files);
    a.sel = calloc((size_t)argc + 1, sizeof *a.sel);
    int ret = CG_EXIT_USAGE, pr = 1;
    if (a.files && a.sel)
        pr = run_parse(argc, argv, &a, &ret);
    if (pr == 0 && run_check(&a) < 0)
        pr = 1;
    if (pr != 0 || !a.files || !a.sel) {
        free(a.files);
        free(a.sel);
        if (pr == 1 && a.files && a.sel)
            return cg_usage_short("run", usage);
        return ret;
    }

    char start[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tmv);

    /* The config first: a bad one is refused before any sample is read. */
    cg_err err = {0};
    cg_config *cfg = cg_cli_config("run", a.config);
    cg_sheet *sh = cfg ? cg_cli_samples("run", a.sheetp, a.nfiles, a.files,
                                        a.nsel, a.sel) : NULL;
    free(a.files);
    free(a.sel);
    a.files = a.sel = NULL;
    if (!sh) {
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    /* OUTDIR: locked, stale leftovers removed, a staging folder to write
     * into; a failure here is a usage-level error (exit 1) */
    cg_outdir *od = NULL;
    cg_store *st = NULL; /* study store (--db), opened before any sample */
    cg_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    cg_run_opts o = {.plots = a.plots && a.outdir, .threads = (int)a.threads,
                     .export_gml = a.export_gml};
    ret = CG_EXIT_USAGE;
    if (a.outdir && !(od = cg_outdir_open("run", a.outdir, &err))) {
        cg_error_report("run", NULL, NULL, &err);
    } else if (a.db && !(st = cg_store_open(a.db, &err))) {
        cg_error_report("run", NULL, NULL, &err);
    } else {
        o.outdir = od ? cg_outdir_staging(od) : NULL;
        if (cg_run_ctx_prepare(&ctx, cfg, sh, &o, &err) < 0)
            cg_cli_file_error("run", a.config, &err);
        else
            ret = run_samples(&a, od, st, &ctx, &o, start, argc, argv);
        cg_run_ctx_clear(&ctx);
    }
    cg_store_close(st);
    cg_outdir_close(od);
    cg_sheet_free(sh);
    cg_config_free(cfg);
    if (o.plots && ret != CG_EXIT_USAGE)
        cg_plot_shutdown(); /* font caches, so leak checkers stay quiet */
    return ret;
}
