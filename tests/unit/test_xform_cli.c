/*
 * test_xform_cli.c -- the `transform` and `compensate` commands end to end
 * (runs the built cytogate binary):
 *  - transform writes exactly cg_xform_fwd1/inv1 with %.17g for logicle,
 *    biex, arcsinh and log (nan for negatives, exit 0); a bad line exits 2
 *    naming its line number; bad options and parameters exit 1;
 *  - compensate on a corpus file with a spillover keyword writes FCS 3.1
 *    whose matrix channels equal the library's compensation (rounded to
 *    float32, the file's data type) and whose other channels and Time are
 *    unchanged, marked CYTOGATE_COMPENSATED=1 with $SPILLOVER kept;
 *    a second compensation of the output is refused (exit 2); a matrix
 *    naming absent channels exits 2 listing them; a file without any
 *    spillover and no --matrix exits 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../fcs/fcs.h"
#include "comp.h"
#include "testutil.h"
#include "xform.h"

static char outbuf[1 << 20];

/* run a shell command, capture stdout (and stderr when merged by the
 * caller); return the exit status */
static int run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(outbuf, 1, sizeof outbuf - 1, p);
    outbuf[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *tmp(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", CG_TEST_OUT, name);
    return path[k];
}

static void transform_values(const char *args, cg_xform_kind kind,
                             const cg_xform_params *p, int inverse)
{
    static const double xs[] = {-262144, -1000, -10.5, -0.25, 0, 1e-3, 0.5,
                                3, 99.75, 1000, 12345.678, 262144, 1e6};
    const int nx = (int)(sizeof xs / sizeof xs[0]);
    const char *in = tmp("xf_in.txt");
    FILE *fp = fopen(in, "w");
    REQUIRE(fp);
    for (int i = 0; i < nx; i++)
        fprintf(fp, "%.17g\n", inverse ? xs[i] / 262144.0 : xs[i]);
    fclose(fp);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' transform %s < '%s'", CYTOGATE_BIN,
             args, in);
    CHECKM(run(cmd) == 0, "%s: exit status", cmd);
    cg_err err;
    cg_xform *xf = cg_xform_new(kind, p, &err);
    REQUIRE(xf);
    char *line = strtok(outbuf, "\n");
    int lines = 0;
    for (int i = 0; i < nx && line; i++, line = strtok(NULL, "\n")) {
        double x = inverse ? xs[i] / 262144.0 : xs[i];
        double y = inverse ? cg_xform_inv1(xf, x) : cg_xform_fwd1(xf, x);
        char want[64];
        snprintf(want, sizeof want, "%.17g", y);
        CHECKM(strcmp(line, want) == 0, "%s: x=%.17g printed %s, want %s",
               args, x, line, want);
        lines++;
    }
    CHECKM(lines == nx, "%s: %d lines of %d", args, lines, nx);
    cg_xform_free(xf);
}

static void transform_cmd(void)
{
    cg_xform_params p = {0};
    p.T = 262144, p.W = 0.5, p.M = 4.5, p.A = 0;
    transform_values("--type logicle", CG_XF_LOGICLE, &p, 0);
    transform_values("--type logicle --inverse", CG_XF_LOGICLE, &p, 1);
    p.W = 1, p.A = 0.5;
    transform_values("--type hyperlog --W 1 --A 0.5", CG_XF_HYPERLOG, &p, 0);
    cg_xform_params b = {0};
    b.width = -7.943282, b.pos = 4.41854, b.neg = 1, b.max = 262144.000029;
    transform_values("--type biex --width -7.943282 --pos 4.41854 --neg 1 "
                     "--max 262144.000029", CG_XF_BIEX, &b, 0);
    cg_xform_params a = {0};
    a.cofactor = 5;
    transform_values("--type arcsinh --cofactor 5", CG_XF_ARCSINH, &a, 0);
    cg_xform_params g = {0};
    g.T = 262144, g.M = 4.5, g.A = 0;
    transform_values("--type asinh", CG_XF_ASINH, &g, 0);
    cg_xform_params l = {0};
    l.T = 10000, l.M = 5;
    transform_values("--type log --T 10000 --M 5", CG_XF_LOG, &l, 0);

    char cmd[1024];
    const char *bad = tmp("xf_bad.txt");
    FILE *fp = fopen(bad, "w");
    REQUIRE(fp);
    fputs("1\n2\nfoo\n4\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "'%s' transform --type linear --T 10 < '%s' "
             "2>&1", CYTOGATE_BIN, bad);
    CHECK_INT(run(cmd), 2);
    CHECKM(strstr(outbuf, "line 3") && strstr(outbuf, "foo"),
           "bad line message: %s", outbuf);
    CHECKM(strstr(outbuf, "0.10000000000000001\n0.20000000000000001\n") &&
           !strstr(outbuf, "0.40000000000000002"),
           "lines before the bad one written, none after: %s", outbuf);
    snprintf(cmd, sizeof cmd, "'%s' transform --type nope < /dev/null 2>&1",
             CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' transform --type logicle --W 3 "
             "< /dev/null 2>&1", CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);
    CHECK(strstr(outbuf, "2W <= M") != NULL);
    snprintf(cmd, sizeof cmd, "'%s' transform < /dev/null 2>&1",
             CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' transform --type logicle --T x "
             "< /dev/null 2>&1", CYTOGATE_BIN);
    CHECK_INT(run(cmd), 1);
}

static void compensate_cmd(void)
{
    const char *in = CG_SHARED_DIR "/fcs-corpus/FlowIO/100715.fcs";
    const char *out = tmp("comp_100715.fcs");
    char cmd[2048];
    remove(out);
    snprintf(cmd, sizeof cmd, "'%s' compensate '%s' '%s' 2>&1", CYTOGATE_BIN,
             in, out);
    CHECKM(run(cmd) == 0, "compensate: %s", outbuf);

    fcs_err fe;
    cg_err err;
    fcs_file *fi = fcs_open(in, NULL, &fe);
    fcs_file *fo = fcs_open(out, NULL, &fe);
    REQUIRE(fi && fo);
    CHECK_STR(fcs_version(fo), "FCS3.1");
    CHECK_STR(fcs_keyword(fo, "CYTOGATE_COMPENSATED"), "1");
    CHECK(fcs_keyword(fo, "$SPILLOVER") != NULL);
    CHECK_STR(fcs_keyword(fo, "$CYT"), fcs_keyword(fi, "$CYT"));
    fcs_spill *sp = NULL;
    CHECK_INT(fcs_spillover(fo, &sp, &fe), 1);
    fcs_spill *si = NULL;
    CHECK_INT(fcs_spillover(fi, &si, &fe), 1);
    REQUIRE(sp && si);
    CHECK_INT(sp->n, si->n);
    CHECK(memcmp(sp->m, si->m, sizeof(double) * si->n * si->n) == 0);

    cg_frame *ref = cg_frame_from_fcs(fi, FCS_SCALED, &err);
    cg_frame *raw = cg_frame_from_fcs(fi, FCS_RAW, &err);
    cg_frame *got = cg_frame_from_fcs(fo, FCS_SCALED, &err);
    REQUIRE(ref && raw && got);
    cg_matrix *m = cg_matrix_from_spill(si);
    CHECK_INT(cg_compensate(ref, m, NULL, &err), 0);
    CHECK_INT(got->n, ref->n);
    CHECK_INT(got->nch, ref->nch);
    int ti = fcs_time_index(fi);
    int mism = 0;
    for (int c = 0; c < ref->nch && c < got->nch; c++) {
        CHECK_STR(got->name[c], ref->name[c]);
        const double *want = c == ti ? raw->col[c] : ref->col[c];
        for (int64_t e = 0; e < ref->n; e++)
            if (got->col[c][e] != (double)(float)want[e] && mism++ < 3)
                fprintf(stderr, "%s event %lld: %.9g vs %.9g\n",
                        ref->name[c], (long long)e, got->col[c][e],
                        (double)(float)want[e]);
    }
    CHECKM(mism == 0, "compensated file differs in %d values", mism);
    cg_matrix_free(m);
    cg_frame_free(ref);
    cg_frame_free(raw);
    cg_frame_free(got);
    fcs_spill_free(sp);
    fcs_spill_free(si);
    fcs_close(fi);
    fcs_close(fo);

    /* twice: refused */
    snprintf(cmd, sizeof cmd, "'%s' compensate '%s' '%s' 2>&1", CYTOGATE_BIN,
             out, tmp("comp_twice.fcs"));
    CHECK_INT(run(cmd), 2);
    CHECK(strstr(outbuf, "already compensated") != NULL);
    /* a matrix naming absent channels */
    snprintf(cmd, sizeof cmd, "'%s' compensate --matrix '%s' '%s' '%s' 2>&1",
             CYTOGATE_BIN, CG_SHARED_DIR "/fcs-corpus/flowCore/compmatrix",
             in, tmp("comp_bad.fcs"));
    CHECK_INT(run(cmd), 2);
    CHECKM(strstr(outbuf, "FL1-H") && strstr(outbuf, "FL4-H"),
           "missing channels not listed: %s", outbuf);
    /* the flowCore matrix fits the flowCore 060909 files ... */
    snprintf(cmd, sizeof cmd, "'%s' compensate --matrix '%s' '%s' '%s' 2>&1",
             CYTOGATE_BIN, CG_SHARED_DIR "/fcs-corpus/flowCore/compmatrix",
             CG_SHARED_DIR "/fcs-corpus/flowCore/060909.002",
             tmp("comp_060909.fcs"));
    CHECKM(run(cmd) == 0, "compmatrix on 060909.002: %s", outbuf);
    /* ... which carry no spillover keyword themselves */
    snprintf(cmd, sizeof cmd, "'%s' compensate '%s' '%s' 2>&1", CYTOGATE_BIN,
             CG_SHARED_DIR "/fcs-corpus/flowCore/060909.002",
             tmp("comp_none.fcs"));
    CHECK_INT(run(cmd), 2);
    CHECK(strstr(outbuf, "no spillover") != NULL);
    snprintf(cmd, sizeof cmd, "'%s' compensate '%s' 2>&1", CYTOGATE_BIN, in);
    CHECK_INT(run(cmd), 1);
}

int main(void)
{
    transform_cmd();
    compensate_cmd();
    return TEST_DONE();
}
