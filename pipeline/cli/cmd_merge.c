/*
 * cmd_merge.c -- `cytogate merge`: combine per-sample (or per-batch)
 * `cytogate run` OUTDIRs into the OUTDIR one run over all the samples
 * writes (issue 10; the cluster workflow in pipeline/workflow/ ends
 * with it).
 *
 *   cytogate merge -c CONFIG [-o OUTDIR] [--sheet SHEET.csv] [--no-plots]
 *                  [--dirs-from FILE]
 *                  RESULT_DIR...
 *
 * Order: options -> config (refused with file:line) -> every directory
 * read and checked (merge.c; every culprit named, nothing written on a
 * refusal) -> OUTDIR locked and staged (outdir.h, as for run) -> run
 * context on the merged sample list -> outputs into staging -> commit
 * (run.json last) -> exit 0 (all samples ok), 1 (usage, config, results
 * that cannot be merged, OUTDIR cannot be created or is in use), 2 (one
 * or more samples had failed in their run, or an output could not be
 * written: nothing committed), 128+N (signal N: nothing committed).
 *
 * Threading: single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "merge.h"
#include "outdir.h"
#include "output.h"
#include "plot.h"
#include "run.h"
#include "study.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate merge -c CONFIG [options] RESULT_DIR...\n"
"\n"
"Combine the output directories of several `cytogate run` invocations (one\n"
"sample or a few each, e.g. cluster jobs) into the OUTDIR that a single run\n"
"over all their samples writes: the same summary.tsv, stats.tsv, qc.tsv,\n"
"longitudinal.tsv (byte for byte), samples/, plots/ and run.json.\n"
"\n"
"Input:\n"
"  -c, --config FILE   the gating config the runs used [required]\n"
"  -s, --sheet FILE    sample sheet of the whole study: gives the sample\n"
"                      order (that of `cytogate run --sheet FILE`) and is\n"
"                      checked against the results [order of RESULT_DIRs,\n"
"                      then of the rows in each]\n"
"  -f, --dirs-from FILE  more RESULT_DIRs, one per line (for thousands of\n"
"                      jobs: no command-line length limit)\n"
"  RESULT_DIR...       OUTDIRs of `cytogate run` (each with run.json)\n"
"\n"
"Output:\n"
"  -o, --out-dir DIR   output directory [results]\n"
"      --no-plots      no figures (they are also left out when an input\n"
"                      run had none)\n"
"      --safe-tsv      prefix TSV cells that a spreadsheet would run as a\n"
"                      formula (= + - @ first, not a number) with '\n"
"      --db FILE       add the committed merge to this study store\n"
"  -q, --quiet         no warnings on stderr\n"
"\n"
"Refused, naming the culprits (nothing written, exit 1): results made by\n"
"another cytogate version or with another config (run.json config sha256)\n"
"than CONFIG, a sample id in two directories, summary.tsv columns that\n"
"differ, with --sheet samples missing from it or from the results.\n"
"\n"
"run.json equals a single run's except command, start_time, threads (1),\n"
"sample_sheet (the --sheet given, else null) and config.path (as given\n"
"here), plus \"merged_from\": each input run's dir, command, start_time,\n"
"threads and samples.\n"
"\n"
"OUTDIR is locked, staged and committed as by `cytogate run` (see its\n"
"usage): a merge replaces every output of the previous run or merge there.\n"
"\n"
"Exit status: 0 all samples processed, 1 usage/config error, results\n"
"that cannot be merged, or OUTDIR cannot be created or is in use, 2 one or\n"
"more samples had failed in their run (rows with status error; the merged\n"
"outputs are written) or an output could not be written (nothing\n"
"committed), 130/143 interrupted.\n");
}

/* Append the non-empty lines of path to *dirs (grown); the text is kept
 * in *keep (owned by the caller).  0, or -1 after an error line. */
static int read_dir_list(const char *path, char ***dirs, int *ndirs,
                         int *cap, char ***keep, int *nkeep)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        cg_error_file(path, "cannot read: %s", strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t n = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &n, fp)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0)
            continue;
        if (*ndirs + 1 >= *cap) {
            int nc = *cap * 2 + 16;
            char **nd = realloc(*dirs, (size_t)nc * sizeof *nd);
            char **nk = realloc(*keep, (size_t)nc * sizeof *nk);
            if (nd)
                *dirs = nd;
            if (nk)
                *keep = nk;
            if (!nd || !nk) {
                rc = -1;
                break;
            }
            *cap = nc;
        }
        char *d = strdup(line);
        if (!d) {
            rc = -1;
            break;
        }
        (*keep)[(*nkeep)++] = d;
        (*dirs)[(*ndirs)++] = d;
    }
    if (rc < 0)
        cg_error_cmd("merge", "out of memory");
    else if (ferror(fp)) {
        cg_error_file(path, "read error: %s", strerror(errno));
        rc = -1;
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static void report(void *arg, const char *where, const char *msg)
{
    (void)arg;
    cg_error_file(where, "%s", msg);
}

/* The merged batch: failed samples named, outputs written and committed,
 * the study store updated, the closing line; an exit status. */
static int merge_finish(cg_merge *m, cg_outdir *od, cg_run_ctx *ctx,
                        const char *outdir, const char *db, int ndirs,
                        const char *start, int argc, char **argv,
                        int safe_tsv)
{
    cg_err err = {0};
    const cg_sheet *sh = cg_merge_sheet(m);
    const char *stage = cg_outdir_staging(od);
    const cg_result *res = cg_merge_results(m);
    for (int i = 0; i < sh->n; i++)
        if (!res[i].ok)
            cg_error_file(sh->s[i].file_given, "%s: failed in its run",
                          sh->s[i].sample_id);
    int failed = cg_merge_nfailed(m);
    int ret = failed ? CG_EXIT_DATA : CG_EXIT_OK;
    int rc = cg_merge_write(m, ctx, start, argc, argv, safe_tsv, &err);
    int sig = cg_outdir_stop_signal();
    if (rc == 0 && !sig && cg_outdir_commit(od, &err) < 0) {
        cg_error_cmd("merge", "%s: the results could not be moved into "
                     "place: %s/ is incomplete (no run.json)", err.msg,
                     outdir);
        ret = CG_EXIT_DATA;
    } else if (sig) {
        cg_error_cmd("merge", "interrupted by signal %d: nothing committed "
                     "to %s", sig, outdir);
        ret = 128 + sig;
    } else if (rc < 0) {
        char msg[512];
        cg_out_unstage(err.msg, stage, outdir, msg, sizeof msg);
        char *rj = cg_path_join(outdir, "run.json");
        int prev = rj && access(rj, F_OK) == 0;
        free(rj);
        cg_error_cmd("merge", "%s; nothing was committed: %s/ %s", msg,
                     outdir, prev ? "keeps the previous results"
                                  : "has no results");
        ret = CG_EXIT_DATA;
    } else if (db && cg_study_store_batch(db, ctx, res, outdir, start, argc,
                                          argv, &err) < 0) {
        cg_error_cmd("merge", "%s: not stored", err.msg);
        ret = CG_EXIT_DATA;
    } else if (cg_verbosity >= 1) {
        fprintf(stderr, "cytogate merge: %d samples (%d failed) from %d "
                "directories; results in %s/\n", sh->n, failed, ndirs, outdir);
    }
    return ret;
}

int cmd_merge(int argc, char **argv)
{
    const char *config = NULL, *outdir = "results", *sheetp = NULL, *db = 0;
    int plots = 1, ret = CG_EXIT_USAGE, safe_tsv = 0;
    int cap = argc + 1, ndirs = 0, nkeep = 0;
    char **dirs = calloc((size_t)cap, sizeof *dirs);
    char **keep = calloc((size_t)cap, sizeof *keep); /* --dirs-from lines */
    if (!dirs || !keep) {
        free(dirs);
        free(keep);
        return CG_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            ret = r;
            goto done;
        } else if (cg_opt_is(a, "-c", "--config")) {
            if (!(v = cg_opt_value("merge", argc, argv, &i)))
                goto usage_err;
            config = v;
        } else if (cg_opt_is(a, "-o", "--out-dir")) {
            if (!(v = cg_opt_value("merge", argc, argv, &i)))
                goto usage_err;
            outdir = v;
        } else if (cg_opt_is(a, "-s", "--sheet")) {
            if (!(v = cg_opt_value("merge", argc, argv, &i)))
                goto usage_err;
            sheetp = v;
        } else if (cg_opt_is(a, "-f", "--dirs-from")) {
            if (!(v = cg_opt_value("merge", argc, argv, &i)))
                goto usage_err;
            if (read_dir_list(v, &dirs, &ndirs, &cap, &keep, &nkeep) < 0)
                goto done;
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!strcmp(a, "--safe-tsv")) {
            safe_tsv = 1;
        } else if (cg_opt_is(a, NULL, "--db")) { /* study store, issue 21 */
            if (!(v = cg_opt_value("merge", argc, argv, &i)))
                goto usage_err;
            db = v;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown("merge", a, usage);
            goto usage_err;
        } else {
            dirs[ndirs++] = argv[i];
        }
    }
    if (!config) {
        cg_error_cmd("merge", "a config is required (-c CONFIG)");
        goto usage_err;
    }
    if (ndirs == 0) {
        cg_error_cmd("merge", "no input: give the result directories of "
                     "`cytogate run` (or --dirs-from FILE)");
        goto usage_err;
    }

    char start[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tmv);

    cg_err err = {0};
    cg_config *cfg = cg_config_load(config, &err);
    if (!cfg) {
        cg_cli_file_error("merge", config, &err);
        goto done;
    }
    /* dirs are borrowed by the merge: freed at the end */
    cg_merge *m = cg_merge_open(cfg, ndirs, dirs, sheetp, report, NULL, &err);
    if (!m) {
        cg_error_report("merge", NULL, NULL, &err);
        cg_config_free(cfg);
        goto done;
    }
    const cg_sheet *sh = cg_merge_sheet(m);
    if (plots && !cg_merge_has_plots(m)) {
        cg_warn_file(NULL, "an input run was made with --no-plots: the merge "
                     "writes no figures");
        plots = 0;
    }
    cg_outdir *od = cg_outdir_open("merge", outdir, &err);
    if (!od) {
        cg_error_report("merge", NULL, NULL, &err);
        cg_merge_free(m);
        cg_config_free(cfg);
        goto done;
    }
    const char *stage = cg_outdir_staging(od);
    cg_run_opts o = {.outdir = stage, .plots = plots, .threads = 1};
    cg_run_ctx ctx;
    if (cg_run_ctx_prepare(&ctx, cfg, sh, &o, &err) < 0) {
        cg_cli_file_error("merge", config, &err);
        cg_run_ctx_clear(&ctx);
        cg_outdir_close(od);
        cg_merge_free(m);
        cg_config_free(cfg);
        goto done;
    }
    ret = merge_finish(m, od, &ctx, outdir, db, ndirs, start, argc, argv,
                       safe_tsv);
    cg_run_ctx_clear(&ctx);
    cg_outdir_close(od);
    cg_merge_free(m);
    cg_config_free(cfg);
    if (plots)
        cg_plot_shutdown();
    goto done;
usage_err:
    ret = cg_usage_short("merge", usage);
done:
    for (int k = 0; k < nkeep; k++)
        free(keep[k]);
    free(keep);
    free(dirs);
    return ret;
}
