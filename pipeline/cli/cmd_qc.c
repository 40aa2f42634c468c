/*
 * cmd_qc.c -- `cytogate qc`: the per-sample QC verdict of a batch.
 *
 *   cytogate qc -c CONFIG (FILE|DIR... | --sheet SHEET.csv) [-o OUTDIR]
 *               [--strict] [-j N]
 *
 * Runs every sample through the same path as `cytogate run` (run.h: read,
 * compensate, QC the events, gate, QC the gating) without plots or tables,
 * then writes OUTDIR/qc.tsv (sample_id check value threshold verdict
 * detail; atomically) and prints one line per sample on stdout:
 * sample_id, verdict, events, the failing checks and the warning checks.
 * Exit: 0 every sample passes or warns (--strict: passes), 3 some sample
 * fails QC, 2 an input could not be processed (takes precedence), 1 usage
 * or config error.
 *
 * Threading: samples in parallel through cg_run_batch; output order is the
 * sheet's order whatever -j is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "qc.h"
#include "run.h"
#include "sheet.h"
#include "study.h"
#include <unistd.h>
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate qc -c CONFIG [options] (FILE|DIR... | --sheet SHEET.csv)\n"
"\n"
"Quality control of every sample: event counts, flow rate over time,\n"
"signal stability, margins, compensation, viability and doublets, gate\n"
"fallbacks, file consistency.  Thresholds: the config's `qc:` section.\n"
"\n"
"Input:\n"
"  -c, --config FILE   gating config (YAML) [required]\n"
"  -s, --sheet FILE    sample sheet CSV (column `file` required)\n"
"  FILE|DIR...         FCS files, or directories of *.fcs\n"
"\n"
"Output:\n"
"  -o, --out-dir DIR   where qc.tsv is written [.]\n"
"      --strict        a warning counts as a failure for the exit status\n"
"      --db FILE       study store (read only): judge role=control samples\n"
"                      against their earlier batches (batch_control rows)\n"
"\n"
"Processing:\n"
"  -j, --threads N     threads: samples in parallel, the rest inside\n"
"                      each sample [the CPUs available, at most 16]\n"
"  -q, --quiet         no warnings on stderr\n"
"\n"
"qc.tsv columns: sample_id check value threshold verdict detail\n"
"(verdict: pass, warn, fail, or skip when the check does not apply).\n"
"stdout: sample_id qc events failed warned (one line per sample).\n"
"\n"
"Exit status: 0 every sample passes or warns (--strict: passes), 1 usage\n"
"or config error, 2 an input could not be processed, 3 a sample failed QC.\n");
}

/* Comma-separated names of the checks with verdict v ("-" when none). */
static void list_checks(const cg_qc_result *q, int v, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; q && k < q->n && len < n; k++)
        if (q->checks[k].verdict == v)
            len += (size_t)snprintf(buf + len, n - len, "%s%s",
                                    len ? "," : "", q->checks[k].name);
    if (!buf[0])
        snprintf(buf, n, "-");
}

static int write_qc_tsv(const char *outdir, const cg_sheet *sh,
                        const cg_result *res)
{
    if (cg_mkdir_p(outdir) < 0) {
        cg_error_file(outdir, "cannot create the directory");
        return -1;
    }
    char *path = cg_path_join(outdir, "qc.tsv");
    cg_atomic a;
    FILE *fp = path ? cg_atomic_open(&a, path) : NULL;
    if (!fp) {
        cg_error_file(path ? path : outdir, "cannot write");
        free(path);
        return -1;
    }
    int rc = cg_qc_write_header(fp);
    for (int i = 0; i < sh->n && rc == 0; i++) {
        const cg_result *r = &res[i];
        if (!r->ok) {
            /* the sample could not be processed: one row says why */
            fprintf(fp, "%s\tinput\tNA\tNA\tfail\t", sh->s[i].sample_id);
            for (const char *c = r->message ? r->message : "error"; *c; c++)
                fputc(*c == '\t' || *c == '\n' ? ' ' : *c, fp);
            fputc('\n', fp);
        }
        if (r->qc)
            rc = cg_qc_write_rows(fp, sh->s[i].sample_id, r->qc);
    }
    if (rc < 0 || ferror(fp)) {
        cg_atomic_abort(&a);
        cg_error_file(path, "write error");
        free(path);
        return -1;
    }
    if (cg_atomic_commit(&a) < 0) {
        cg_error_file(path, "cannot write");
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

int cmd_qc(int argc, char **argv)
{
    const char *config = NULL, *outdir = ".", *sheetp = NULL, *db = NULL;
    long threads = cg_default_threads();
    int strict = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0;
    if (!files)
        return CG_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            free(files);
            return r;
        } else if (cg_opt_is(a, "-c", "--config")) {
            if (!(v = cg_opt_value("qc", argc, argv, &i)))
                goto usage_err;
            config = v;
        } else if (cg_opt_is(a, "-o", "--out-dir")) {
            if (!(v = cg_opt_value("qc", argc, argv, &i)))
                goto usage_err;
            outdir = v;
        } else if (cg_opt_is(a, "-s", "--sheet")) {
            if (!(v = cg_opt_value("qc", argc, argv, &i)))
                goto usage_err;
            sheetp = v;
        } else if (cg_opt_is(a, "-j", "--threads")) {
            if (!(v = cg_opt_value("qc", argc, argv, &i)))
                goto usage_err;
            if (cg_opt_threads("qc", v, &threads) < 0)
                goto usage_err;
        } else if (cg_opt_is(a, NULL, "--db")) { /* issue 21 */
            if (!(v = cg_opt_value("qc", argc, argv, &i)))
                goto usage_err;
            db = v;
        } else if (!strcmp(a, "--strict")) {
            strict = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown("qc", a, usage);
            goto usage_err;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!config) {
        cg_error_cmd("qc", "a config is required (-c CONFIG)");
        goto usage_err;
    }
    if (!sheetp && nfiles == 0) {
        cg_error_cmd("qc", "no input: give FCS files, directories or --sheet");
        goto usage_err;
    }
    if (sheetp && nfiles > 0) {
        cg_error_cmd("qc", "give either --sheet or files, not both");
        goto usage_err;
    }
    if (db && access(db, F_OK) != 0) {
        cg_error_file(db, "no such study store");
        goto usage_err;
    }

    cg_err err = {0};
    cg_config *cfg = cg_cli_config("qc", config);
    cg_sheet *sh = cfg ? cg_cli_samples("qc", sheetp, nfiles, files, 0, NULL)
                       : NULL;
    free(files);
    if (!sh) {
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_run_opts o = {.outdir = NULL, .plots = 0, .threads = (int)threads};
    cg_run_ctx ctx;
    if (cg_run_ctx_prepare(&ctx, cfg, sh, &o, &err) < 0) {
        cg_cli_file_error("qc", config, &err);
        cg_run_ctx_clear(&ctx);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_result *res = calloc((size_t)sh->n, sizeof *res);
    if (!res) {
        cg_error_cmd("qc", "out of memory");
        cg_run_ctx_clear(&ctx);
        cg_sheet_free(sh);
        cg_config_free(cfg);
        return CG_EXIT_DATA;
    }
    int failed = cg_run_batch(&ctx, res);
    if (sh->has_control) { /* batch control against the store (issue 21) */
        cg_store *st = db ? cg_store_open(db, &err) : NULL;
        if ((db && !st) ||
            cg_study_batch_control(st, &ctx, res, NULL, NULL, &err) < 0) {
            cg_error_report("qc", NULL, "batch control", &err);
            failed++;
        }
        cg_store_close(st);
    }
    int nfail = 0, nwarn = 0, npass = 0;
    printf("sample_id\tqc\tevents\tfailed\twarned\n");
    for (int i = 0; i < sh->n; i++) {
        const cg_result *r = &res[i];
        char fl[512], wl[512];
        if (!r->ok) {
            cg_error_cmd("qc", "%s: %s", sh->s[i].file_given,
                         r->message ? r->message : "unknown error");
            printf("%s\terror\tNA\tinput\t-\n", sh->s[i].sample_id);
            continue;
        }
        int v = r->qc ? cg_qc_overall(r->qc) : CG_QC_FAIL;
        nfail += v == CG_QC_FAIL;
        nwarn += v == CG_QC_WARN;
        npass += v <= CG_QC_PASS;
        list_checks(r->qc, CG_QC_FAIL, fl, sizeof fl);
        list_checks(r->qc, CG_QC_WARN, wl, sizeof wl);
        printf("%s\t%s\t%lld\t%s\t%s\n", sh->s[i].sample_id,
               r->qc ? cg_qc_verdict_name(v) : "fail",
               (long long)r->events, r->qc ? fl : "qc-not-run", wl);
    }
    int ret = CG_EXIT_OK;
    if (write_qc_tsv(outdir, sh, res) < 0)
        ret = CG_EXIT_DATA;
    else if (failed)
        ret = CG_EXIT_DATA;
    else if (nfail || (strict && nwarn))
        ret = CG_EXIT_QC;
    if (cg_verbosity >= 1)
        fprintf(stderr, "cytogate qc: %d samples: %d pass, %d warn, %d fail, "
                "%d unreadable; %s/qc.tsv\n", sh->n, npass, nwarn, nfail,
                failed, outdir);
    for (int i = 0; i < sh->n; i++)
        cg_result_clear(&res[i]);
    free(res);
    cg_run_ctx_clear(&ctx);
    cg_sheet_free(sh);
    cg_config_free(cfg);
    return ret;
usage_err:
    free(files);
    return cg_usage_short("qc", usage);
}
