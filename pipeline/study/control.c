/*
 * control.c -- batch control of a run (see study.h): the control
 * samples of this batch judged against the Levey-Jennings limits of
 * their series, and the charts.
 *
 * Series assembly: the store's controls of the analysis with the same
 * subject, in stored order; a stored control whose input (sha256) is in
 * this batch is this batch's sample being rerun: it is replaced in place
 * by the new values (its rows are replaced when the batch is stored), so
 * a rerun judges a control where it stood.  New controls go last, in
 * sheet order.  The QC rows depend only on the store and this batch's
 * results, never on threads or time.
 *
 * Threading: main thread, after every worker finished.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_lj.h"
#include "qc_control.h"
#include "study.h"
#include "util.h"

typedef struct lj_pt {
    int64_t order, pos;
    int cur;            /* sheet index of this batch's control, or -1 */
    double v[3];
    const char *label;  /* borrowed */
} lj_pt;

void cg_study_batch_label(const char *outdir, char *out, size_t cap)
{
    if (!outdir || !*outdir) {
        snprintf(out, cap, "this batch");
        return;
    }
    size_t n = strlen(outdir);
    while (n > 1 && outdir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && outdir[b - 1] != '/')
        b--;
    snprintf(out, cap, "%.*s", (int)(n - b), outdir + b);
}

static int pt_cmp(const void *a, const void *b)
{
    const lj_pt *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static const char *const metric_name[3] = {"treg_pct_cd4", "th17_pct_cd4",
                                           "th17_treg_ratio"};
static const char *const metric_label[3] = {"Treg % of CD4", "Th17 % of CD4",
                                            "Th17/Treg ratio"};

char *cg_study_lj_name(const char *series)
{
    size_t n = strlen(series);
    char *s = malloc(n + 32);
    if (!s)
        return NULL;
    if (!n) {
        strcpy(s, "levey_jennings.png");
        return s;
    }
    size_t k = (size_t)sprintf(s, "levey_jennings_");
    for (size_t i = 0; i < n && i < 64; i++) {
        char c = series[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        s[k++] = ok && !(i == 0 && c == '.') ? c : '_';
    }
    strcpy(s + k, ".png");
    return s;
}

int cg_study_lj_write(const char *series, int n, const char *const *labels,
                      const double *v, int nfirst, const char *config_hash,
                      const char *plotdir, cg_err *err)
{
    char *name = cg_study_lj_name(series);
    char *path = name ? cg_path_join(plotdir, name) : NULL;
    free(name);
    if (!path)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    cg_plot_lj lj = {0};
    char title[160];
    snprintf(title, sizeof title, "Batch control%s%.60s", *series ? " " : "",
             series);
    lj.title = title;
    lj.n = n;
    lj.labels = labels;
    lj.nfirst = nfirst;
    for (int k = 0; k < 3; k++) {
        lj.v[k] = v + (size_t)k * (size_t)n;
        lj.mean[k] = lj.sd[k] = NAN;
        if (n >= nfirst)
            cg_qc_control_limits(lj.v[k], n, nfirst, &lj.mean[k], &lj.sd[k]);
    }
    cg_plot_meta meta = {.subject = series, .config_hash = config_hash,
                         .population = "batch control"};
    cg_plot_image *im = cg_plot_render_lj(&lj, &meta, err);
    int rc = im && cg_plot_image_write_png(im, path, err) == 0 ? 0 : -1;
    cg_plot_image_free(im);
    free(path);
    return rc;
}

/* One series' chart from its points. */
static int write_lj(const lj_pt *pt, int n, int nfirst, const char *series,
                    const char *config_hash, const char *plotdir,
                    cg_err *err)
{
    const char **labels = calloc((size_t)n + 1, sizeof *labels);
    double *v = calloc(3 * (size_t)n + 1, sizeof *v);
    int rc = -1;
    if (!labels || !v) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
    } else {
        for (int i = 0; i < n; i++) {
            labels[i] = pt[i].label;
            for (int k = 0; k < 3; k++)
                v[k * n + i] = pt[i].v[k];
        }
        rc = cg_study_lj_write(series, n, labels, v, nfirst, config_hash,
                               plotdir, err);
    }
    free(labels);
    free(v);
    return rc < 0;
}

/* The series of subject `series`: the store's controls with this batch's
 * in place.  *out owned.  -1 with err. */
static int build_series(cg_store *st, const cg_run_ctx *ctx,
                        const cg_result *res, const char *series,
                        const char *label, lj_pt **out, int *nout,
                        cg_store_ctl **hist_out, cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    cg_store_ctl *hist = NULL;
    int nh = 0;
    if (st && cg_store_controls(st, ctx->config_sha256, series, &hist, &nh,
                                err) < 0)
        return -1;
    lj_pt *pt = calloc((size_t)(nh + sh->n) + 1, sizeof *pt);
    if (!pt) {
        free(hist);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    int n = 0;
    for (int j = 0; j < nh; j++) {
        int rerun = 0;
        for (int i = 0; i < sh->n && !rerun; i++)
            rerun = sh->s[i].role == CG_ROLE_CONTROL && res[i].sha256[0] &&
                    !strcmp(res[i].sha256, hist[j].sha256);
        if (rerun)
            continue;
        pt[n] = (lj_pt){hist[j].order, hist[j].pos, -1,
                        {hist[j].v[0], hist[j].v[1], hist[j].v[2]},
                        hist[j].label};
        n++;
    }
    for (int i = 0; i < sh->n; i++) {
        if (sh->s[i].role != CG_ROLE_CONTROL ||
            strcmp(sh->s[i].subject, series))
            continue;
        int64_t order = INT64_MAX;
        for (int j = 0; j < nh; j++)
            if (res[i].sha256[0] && !strcmp(res[i].sha256, hist[j].sha256) &&
                hist[j].order < order)
                order = hist[j].order;
        cg_headline h;
        cg_result_headline(ctx->cfg, &res[i], &h);
        pt[n++] = (lj_pt){order, i, i, {h.treg_pct, h.th17_pct, h.ratio},
                          label};
    }
    qsort(pt, (size_t)n, sizeof *pt, pt_cmp);
    *out = pt;
    *nout = n;
    *hist_out = hist;
    return 0;
}

int cg_study_batch_control(cg_store *st, const cg_run_ctx *ctx,
                           cg_result *res, const char *outdir,
                           const char *plotdir, cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    char label[96];
    cg_study_batch_label(outdir, label, sizeof label);
    int nfirst = (int)ctx->qc.control_batches;
    if (nfirst < 2)
        nfirst = 2;
    int bad = 0;
    for (int i = 0; i < sh->n; i++) {
        if (sh->s[i].role != CG_ROLE_CONTROL)
            continue;
        int first = 1; /* one pass per series: its first control */
        for (int k = 0; k < i && first; k++)
            first = !(sh->s[k].role == CG_ROLE_CONTROL &&
                      !strcmp(sh->s[k].subject, sh->s[i].subject));
        if (!first)
            continue;
        const char *series = sh->s[i].subject;
        lj_pt *pt = NULL;
        cg_store_ctl *hist = NULL;
        int n = 0;
        if (build_series(st, ctx, res, series, label,
                         &pt, &n, &hist, err) < 0)
            return -1;
        for (int at = 0; at < n; at++) {
            cg_result *r = pt[at].cur >= 0 ? &res[pt[at].cur] : NULL;
            if (!r || !r->ok || !r->qc)
                continue; /* a failed sample is failed already */
            for (int k = 0; k < 3; k++) {
                double *s = malloc(((size_t)n + 1) * sizeof *s);
                if (!s) {
                    free(pt);
                    free(hist);
                    return cg_err_set(err, CG_E_NOMEM, "out of memory");
                }
                for (int j = 0; j < n; j++)
                    s[j] = pt[j].v[k];
                cg_qc_control c = {metric_name[k], metric_label[k], s, n, at,
                                   nfirst};
                int v = cg_qc_control_judge(&c, r->qc);
                free(s);
                if (v < 0) {
                    free(pt);
                    free(hist);
                    return cg_err_set(err, CG_E_NOMEM, "out of memory");
                }
            }
            r->qc_verdict = cg_qc_overall(r->qc);
        }
        if (plotdir && n > 0) {
            if (cg_mkdir_p(plotdir) < 0) {
                cg_err_set(err, CG_E_IO, "%s: cannot create", plotdir);
                bad++;
            } else {
                bad += write_lj(pt, n, nfirst, series, ctx->config_sha256,
                                plotdir, err);
            }
        }
        free(pt);
        free(hist);
    }
    return bad;
}
