/*
 * cmd_compensate.c -- `cytogate compensate [--matrix FILE.csv] IN.fcs
 * OUT.fcs`: write a compensated FCS 3.1 copy of IN.
 *
 * Values: the scaled view of IN (gain $PnG and log amplification $PnE
 * undone, as compensation needs linear values) except the time channel,
 * which is written raw so the copied $TIMESTEP still applies.  Written as
 * float32 by fcs_write; $PnG and $PnDATATYPE are therefore dropped, every
 * other keyword is kept.  The matrix applied is stored as $SPILLOVER and
 * the keyword CYTOGATE_COMPENSATED=1 marks the data as compensated (with
 * CYTOGATE_COMP_SOURCE naming where the matrix came from); this command
 * refuses input that carries the mark, so nothing is compensated twice.
 * Exit 0 ok, 1 usage, 2 when the input, matrix or output fails.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../fcs/fcs.h"
#include "commands.h"
#include "comp.h"
#include "frame.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate compensate [--matrix FILE.csv] IN.fcs OUT.fcs\n"
"\n"
"Compensate IN with its own spillover keyword ($SPILLOVER, SPILL, ...) or\n"
"with a matrix file, and write OUT as FCS 3.1 (float32).\n"
"\n"
"Input:\n"
"  -m, --matrix FILE   spillover matrix CSV/TSV: a header of channel names\n"
"                      ($PnN) and one numeric row per channel, optionally\n"
"                      with a leading row-name column (header starting\n"
"                      with an empty cell; FlowJo/flowCore layout)\n"
"                      [the file's spillover keyword]\n"
"\n"
"Compensated = observed x S^-1 over the matrix's channels (matched by\n"
"$PnN); all other channels are copied unchanged.  OUT keeps IN's keywords,\n"
"stores the applied matrix as $SPILLOVER and adds CYTOGATE_COMPENSATED=1;\n"
"files carrying that mark are refused.  Warns when the matrix diagonal is\n"
"not 1 or the matrix is near singular (condition number > 1e6).\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 input, matrix or output error.\n");
}

/* $Pn<suffix> (any case), n digits */
static int is_pn_key(const char *k, const char *suffix)
{
    if (k[0] != '$' || toupper((unsigned char)k[1]) != 'P' ||
        !isdigit((unsigned char)k[2]))
        return 0;
    k += 2;
    while (isdigit((unsigned char)*k))
        k++;
    return strcasecmp(k, suffix) == 0;
}

static int is_spill_key(const char *k)
{
    return !strcasecmp(k, "$SPILLOVER") || !strcasecmp(k, "SPILLOVER") ||
           !strcasecmp(k, "SPILL") || !strcasecmp(k, "$SPILL") ||
           !strcasecmp(k, "$COMP");
}

/* The matrix to apply: --matrix FILE, else the file's own spillover
 * keyword.  *source names where it came from (borrowed).  0 or -1
 * (error printed). */
static int load_matrix(fcs_file *f, const char *in, const char *mpath,
                       cg_matrix **m, fcs_spill **fsp, const char **source)
{
    cg_err err = {0};
    if (mpath) {
        *m = cg_matrix_read_csv(mpath, &err);
        if (!*m) {
            cg_error_report("compensate", mpath, NULL, &err);
            return -1;
        }
        const char *b = strrchr(mpath, '/');
        *source = b ? b + 1 : mpath;
        return 0;
    }
    int got = fcs_spillover(f, fsp, &err);
    if (got < 0) {
        cg_error_report("compensate", in, NULL, &err);
        return -1;
    }
    if (got == 0) {
        cg_error_cmd("compensate", "%s: no spillover matrix in the file; "
                     "give one with --matrix", in);
        return -1;
    }
    *m = cg_matrix_from_spill(*fsp);
    if (!*m) {
        cg_error_cmd("compensate", "%s: out of memory", in);
        return -1;
    }
    *source = (*fsp)->keyword;
    return 0;
}

/* IN's scaled view, with the time channel raw so the copied $TIMESTEP
 * still applies.  NULL on error (printed). */
static cg_frame *read_frame(fcs_file *f, const char *in)
{
    cg_err err = {0};
    cg_frame *fr = cg_frame_from_fcs(f, FCS_SCALED, &err);
    if (!fr) {
        cg_error_report("compensate", in, NULL, &err);
        return NULL;
    }
    int ti = fcs_time_index(f);
    if (ti < 0 || fr->n == 0)
        return fr;
    int np = fcs_n_params(f);
    double **tc = calloc((size_t)np, sizeof *tc);
    if (!tc) {
        cg_error_cmd("compensate", "%s: out of memory", in);
        cg_frame_free(fr);
        return NULL;
    }
    tc[ti] = fr->col[ti];
    int64_t got = fcs_read_double(f, FCS_RAW, 0, fr->n, tc, &err);
    free(tc);
    if (got != fr->n) {
        if (got < -1)
            cg_error_report("compensate", in, NULL, &err);
        else
            cg_error_cmd("compensate", "%s: short DATA", in);
        cg_frame_free(fr);
        return NULL;
    }
    return fr;
}

/* Write OUT: fr's channels as float32, IN's keywords less $PnG,
 * $PnDATATYPE and spillover, plus the applied matrix as $SPILLOVER and
 * the CYTOGATE_COMPENSATED mark.  0 or -1 (error printed). */
static int write_out(fcs_file *f, const cg_frame *fr, const cg_matrix *m,
                     const char *in, const char *out, const char *source)
{
    int rc = -1;
    fcs_err fe = {0};
    fcs_wparam *wp = calloc((size_t)fr->nch, sizeof *wp);
    double **cols = calloc((size_t)fr->nch, sizeof *cols);
    int nk = fcs_n_keywords(f);
    fcs_kv *kv = calloc((size_t)nk + 2, sizeof *kv);
    char **spill_names = calloc((size_t)m->ncol, sizeof *spill_names);
    if (!wp || !cols || !kv || !spill_names) {
        cg_error_cmd("compensate", "%s: out of memory", in);
        goto done;
    }
    for (int j = 0; j < fr->nch; j++) {
        wp[j].name = fr->name[j];
        wp[j].label = fr->label[j];
        wp[j].range = fr->range[j];
        cols[j] = fr->col[j];
    }
    int nkv = 0;
    for (int i = 0; i < nk; i++) {
        const char *k, *v;
        if (fcs_keyword_at(f, i, &k, &v) < 0)
            continue;
        if (is_pn_key(k, "G") || is_pn_key(k, "DATATYPE") ||
            is_spill_key(k) || !strcasecmp(k, "CYTOGATE_COMPENSATED") ||
            !strcasecmp(k, "CYTOGATE_COMP_SOURCE"))
            continue;
        kv[nkv].key = k;
        kv[nkv++].value = v;
    }
    kv[nkv].key = "CYTOGATE_COMPENSATED";
    kv[nkv++].value = "1";
    kv[nkv].key = "CYTOGATE_COMP_SOURCE";
    kv[nkv++].value = source;
    /* the matrix as applied, in the frame's channel names */
    for (int j = 0; j < m->ncol; j++)
        spill_names[j] = fr->name[cg_frame_find(fr, m->col[j])];
    fcs_spill sp;
    memset(&sp, 0, sizeof sp);
    sp.n = m->ncol;
    sp.names = spill_names;
    sp.m = m->v;
    snprintf(sp.keyword, sizeof sp.keyword, "$SPILLOVER");
    if (m->nrow != m->ncol) {
        cg_error_cmd("compensate", "%s: spillover matrix is not square", in);
        goto done;
    }
    if (fcs_write(out, fr->nch, wp, fr->n, (const double *const *)cols, kv,
                  nkv, &sp, NULL, &fe) < 0) {
        cg_error_report("compensate", out, NULL, &fe);
        goto done;
    }
    rc = 0;
done:
    free(spill_names);
    free(kv);
    free(cols);
    free(wp);
    return rc;
}

/* Compensate IN into OUT; an exit status. */
static int compensate(const char *in, const char *out, const char *mpath)
{
    int rc = CG_EXIT_DATA;
    fcs_err fe = {0};
    cg_err err = {0};
    fcs_spill *fsp = NULL;
    cg_matrix *m = NULL;
    cg_frame *fr = NULL;
    const char *source = NULL;
    fcs_file *f = fcs_open(in, NULL, &fe);
    if (!f) {
        cg_error_report("compensate", in, NULL, &fe);
        return rc;
    }
    const char *mark = fcs_keyword(f, "CYTOGATE_COMPENSATED");
    if (mark && strcmp(mark, "0") != 0) {
        cg_error_cmd("compensate", "%s: already compensated "
                     "(CYTOGATE_COMPENSATED=%s); refusing to compensate "
                     "twice", in, mark);
        goto done;
    }
    if (load_matrix(f, in, mpath, &m, &fsp, &source) < 0 ||
        !(fr = read_frame(f, in)))
        goto done;
    cg_comp_report rep;
    if (cg_compensate(fr, m, &rep, &err) < 0) {
        cg_error_report("compensate", mpath ? mpath : in, NULL, &err);
        goto done;
    }
    if (rep.diag_not_one)
        cg_warn_file(mpath ? mpath : in, "%d diagonal entr%s of the "
                     "spillover matrix %s not 1", rep.diag_not_one,
                     rep.diag_not_one == 1 ? "y" : "ies",
                     rep.diag_not_one == 1 ? "is" : "are");
    if (rep.near_singular)
        cg_warn_file(mpath ? mpath : in, "spillover matrix is near "
                     "singular (condition number %.3g)", rep.cond);
    if (cg_verbosity >= 2)
        fprintf(stderr, "cytogate compensate: %s: %d channels, condition "
                "number %.6g\n", in, m->ncol, rep.cond);
    if (write_out(f, fr, m, in, out, source) == 0)
        rc = CG_EXIT_OK;
done:
    cg_frame_free(fr);
    cg_matrix_free(m);
    fcs_spill_free(fsp);
    fcs_close(f);
    return rc;
}

int cmd_compensate(int argc, char **argv)
{
    static const struct option lo[] = {
        {"matrix", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *mpath = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:hV", lo, NULL)) != -1) {
        switch (c) {
        case 'm': mpath = optarg; break;
        case 'h': usage(stdout); return CG_EXIT_OK;
        case 'V': return cg_opt_version();
        case ':':
        default:
            return cg_getopt_error("compensate", c, argv, usage);
        }
    }
    if (argc - optind != 2) {
        cg_error_cmd("compensate", "expected IN.fcs and OUT.fcs");
        return cg_usage_short("compensate", usage);
    }
    return compensate(argv[optind], argv[optind + 1], mpath);
}
