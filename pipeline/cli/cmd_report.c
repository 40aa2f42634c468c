/*
 * cmd_report.c -- `cytogate report OUTDIR`: rebuild the review report
 * (report.html and report_files/) of a run or merge output folder from
 * its files (issue 21).  run and merge write the same report at the end
 * of their own commit; this command is for a folder whose report is
 * missing or was made by an older version.
 *
 * Order: the folder must hold run.json (else exit 2, "not a cytogate run
 * folder"); it is locked like a run (outdir.h: exit 1 when another run
 * or merge holds it); the report is written into the staging folder and
 * only report.html and report_files/ are moved into place; the rest of
 * the result set is never touched.
 *
 * Threading: main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "opts.h"
#include "outdir.h"
#include "report.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate report [options] OUTDIR\n"
"\n"
"Rebuild the review report of a `cytogate run` or `cytogate merge` output\n"
"folder from its files (run.json, summary.tsv, qc.tsv, plots/).  run and\n"
"merge write it themselves; the bytes are the same.\n"
"\n"
"Input:\n"
"  OUTDIR              a complete run or merge output folder (with run.json)\n"
"\n"
"Output (in OUTDIR, replacing the previous report only):\n"
"  report.html         one self-contained page: provenance, the command\n"
"                      that reproduces the run, a sortable sample table\n"
"                      (headline numbers, QC verdict, failed and warned\n"
"                      checks, fallbacks, overrides), batch figures, each\n"
"                      sample's strategy and QC thumbnails, inputs, sign-off\n"
"  report_files/       <sample_id>/strategy.png and qc.png thumbnails\n"
"\n"
"Processing:\n"
"  -q, --quiet         no success line on stderr\n"
"\n"
"Exit status: 0 written, 1 usage error or OUTDIR in use by a run or merge,\n"
"2 OUTDIR is not a run folder, a file in it is malformed, or the report\n"
"cannot be written, 130/143 interrupted (nothing replaced).\n");
}

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown("report", a, usage);
            return cg_usage_short("report", usage);
        } else if (dir) {
            cg_error_cmd("report", "one folder only (got '%s' and '%s')", dir,
                         a);
            return cg_usage_short("report", usage);
        } else {
            dir = a;
        }
    }
    if (!dir) {
        cg_error_cmd("report", "no input: give the output folder of "
                     "`cytogate run` or `cytogate merge`");
        return cg_usage_short("report", usage);
    }
    /* before locking: the lock would create a missing folder */
    struct stat st;
    char *rj = cg_path_join(dir, "run.json");
    int is_run = rj && stat(rj, &st) == 0 && S_ISREG(st.st_mode);
    int is_dir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(rj);
    if (!is_run) {
        cg_error_file(dir, "%s", is_dir ? "not a cytogate run folder (no "
                      "run.json: not a `cytogate run` or `merge` output, or "
                      "an incomplete one)" : "no such folder");
        return CG_EXIT_DATA;
    }
    cg_err err = {0};
    cg_outdir *od = cg_outdir_open("report", dir, &err);
    if (!od) {
        cg_error_cmd("report", "%s", err.msg);
        return CG_EXIT_USAGE;
    }
    int ret = CG_EXIT_OK;
    if (cg_report_write(dir, cg_outdir_staging(od), 0, &err) < 0) {
        cg_error_file(dir, "%s", err.msg);
        ret = CG_EXIT_DATA;
    } else if (cg_outdir_stop_signal()) {
        ret = 128 + cg_outdir_stop_signal();
        cg_error_cmd("report", "interrupted by signal %d: the previous "
                     "report is kept", ret - 128);
    } else if (cg_outdir_commit_derived(od, &err) < 0) {
        cg_error_cmd("report", "%s", err.msg);
        ret = CG_EXIT_DATA;
    } else if (cg_verbosity >= 1) {
        fprintf(stderr, "cytogate report: %s/report.html\n", dir);
    }
    cg_outdir_close(od);
    return ret;
}
