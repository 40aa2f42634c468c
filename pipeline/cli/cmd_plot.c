/*
 * cmd_plot.c -- `cytogate plot`: one ad-hoc figure of one sample.
 *
 *   cytogate plot -c CONFIG FILE --x MARKER [--y MARKER] [--parent POP]
 *                 [-o OUT.png] [--size WxH]
 *
 * The sample goes through exactly the processing of `cytogate run`
 * (panel, compensation, QC, transforms, the whole gate tree) via
 * cg_run_sample; its on_gated hook hands over the gated sample, and the
 * figure shows POP's events (all events without --parent) on the two
 * markers in the config's display units, with every config gate whose
 * parent is POP and whose dimensions are these markers drawn on it (name
 * and % of parent).  With no --y the panel is a histogram of --x.
 * Cuts that fell back or were overridden are drawn as in the run's
 * figures (dashed amber, purple); gates with no cut are left out.
 *
 * Axis ranges follow the run's figures: the population's 0.1-99.9
 * percentiles padded by 5%, so the bytes depend only on the data.
 * Exit status: 0 written, 1 usage/config error, 2 the sample could not be
 * processed or the figure not written.  Threading: single-threaded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "plot.h"
#include "run.h"
#include "run_internal.h"
#include "sheet.h"
#include "stats.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate plot -c CONFIG FILE --x MARKER [--y MARKER] [options]\n"
"\n"
"Draw one population of one sample on two markers (a pseudocolor dot\n"
"plot) or one marker (a histogram), with the config's gates on it.  The\n"
"sample is processed exactly as by `cytogate run`.\n"
"\n"
"Input:\n"
"  -c, --config FILE   gating config (YAML) [required]\n"
"  FILE                one FCS file\n"
"  -x, --x MARKER      x axis: a panel marker or scatter role of the\n"
"                      config (CD25, FSC-A, ...) [required]\n"
"  -y, --y MARKER      y axis [none: histogram of --x]\n"
"  -p, --parent POP    population to draw (a gate name) [all events]\n"
"\n"
"Output:\n"
"  -o, --out FILE      PNG to write [SAMPLE_X_Y.png]\n"
"      --size WxH      image size in pixels [%dx%d]\n"
"  -q, --quiet         no warnings on stderr\n"
"\n"
"The PNG carries tEXt keys Software, Sample, Population, MarkerX, MarkerY\n"
"and ConfigHash.  Exit status: 0 written, 1 usage or config error, 2 the\n"
"sample could not be processed or the file not written.\n",
            CG_PLOT_SLIDE_W, CG_PLOT_SLIDE_H);
}

typedef struct plot_req {
    const char *x, *y, *parent, *out;
    int w, h;
    int written;
} plot_req;

/* Values (display units), transform and axis label of a config name. */
static const double *dim_values(const cg_run_plots_ctx *pc, const char *name,
                                const cg_xform **xf, char *label, size_t nl,
                                cg_err *err)
{
    const cg_config *cfg = pc->ctx->cfg;
    int m = cg_config_marker(cfg, name);
    if (m >= 0 && pc->mk_ch[m] >= 0) {
        *xf = pc->mk_xf[m];
        snprintf(label, nl, "%s (%s)", cfg->markers[m].name,
                 pc->fr->name[pc->mk_ch[m]]);
        return cg_dims_get(pc->dc, &pc->mk_dim[m], err);
    }
    int r = cg_config_role(cfg, name);
    if (r >= 0 && pc->role_ch[r] >= 0) {
        *xf = pc->sc_xf;
        snprintf(label, nl, "%s", pc->fr->name[pc->role_ch[r]]);
        return cg_dims_get(pc->dc, &pc->role_dim[r], err);
    }
    if (m >= 0 || r >= 0)
        cg_err_set(err, CG_E_CHANNEL, "%s: not in this file", name);
    else
        cg_err_set(err, CG_E_ARG,
                   "%s: not a marker or scatter channel of the config", name);
    return NULL;
}

static const char *gate_dim(const cg_gate_spec *g, int axis)
{
    if (g->ndims)
        return axis < g->ndims ? g->dims[axis].marker : NULL;
    return axis == 0 ? g->x : g->y;
}

static int same(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* Interval of gate dimension d in display units: [b0, b1], and how the
 * cut was placed on overlay axis `axis` of ov; 0, or -1 when the gate has
 * no usable cut there. */
static int dim_bounds(const cg_gate_spec *g, const cg_pop_result *pr, int d,
                      cg_plot_overlay *ov, int axis, double *b0, double *b1)
{
    const cg_dim_spec *ds = &g->dims[d];
    if (ds->method == CG_TM_INTERVAL) {
        *b0 = isnan(ds->min) ? -INFINITY : ds->min;
        *b1 = isnan(ds->max) ? INFINITY : ds->max;
        return 0;
    }
    if (!pr->thr || d >= pr->nthr || !isfinite(pr->thr[d].threshold))
        return -1;
    const cg_thr_info *ti = &pr->thr[d];
    double t = ti->threshold;
    cg_plot_overlay_cut(ov, axis, ti->fell_back, ti->overridden, ti->rule,
                        ti->auto_threshold);
    *b0 = ds->keep == CG_KEEP_ABOVE ? t : -INFINITY;
    *b1 = ds->keep == CG_KEEP_ABOVE ? INFINITY : t;
    return 0;
}

/* Overlay for gate gi on a panel of (xn, yn) (yn NULL: histogram).
 * 0 when drawable, -1 when the gate does not live on these axes. */
static int gate_overlay(const cg_run_plots_ctx *pc, int gi, const char *xn,
                        const char *yn, cg_plot_overlay *ov)
{
    const cg_config *cfg = pc->ctx->cfg;
    const cg_gate_spec *g = &cfg->gates[gi];
    const cg_pop_result *pr = &pc->res->pops[gi];
    if (pr->count < 0 || g->type == CG_GS_BOOLEAN || g->raw_units ||
        g->type == CG_GS_SINGLETS)
        return -1; /* raw-unit coordinates do not fit display axes */
    const char *g0 = gate_dim(g, 0), *g1 = gate_dim(g, 1);
    memset(ov, 0, sizeof *ov);
    ov->name = g->name;
    ov->pct = cg_stat_pct(pr->count, pr->parent_count);
    if (g->type == CG_GS_THRESHOLD || g->type == CG_GS_RANGE ||
        g->type == CG_GS_RECTANGLE) {
        /* bounds per panel axis from whichever gate dims name them; every
         * gate dim must be on the panel */
        double b[2][2] = {{-INFINITY, INFINITY}, {-INFINITY, INFINITY}};
        for (int d = 0; d < g->ndims; d++) {
            const char *dn = g->dims[d].marker;
            int axis = same(dn, xn) ? 0 : (yn && same(dn, yn)) ? 1 : -1;
            if (axis < 0 ||
                dim_bounds(g, pr, d, ov, axis, &b[axis][0], &b[axis][1]))
                return -1;
        }
        ov->kind = yn ? CG_PLOT_OV_RECT : CG_PLOT_OV_RANGE;
        ov->x0 = b[0][0];
        ov->x1 = b[0][1];
        ov->y0 = b[1][0];
        ov->y1 = b[1][1];
        return 0;
    }
    /* 2-D shapes: only on the same two axes, in the same order */
    if (!yn || !same(g0, xn) || !same(g1, yn))
        return -1;
    switch (g->type) {
    case CG_GS_SCATTER:
        if (pr->nvert < 3)
            return -1;
        ov->kind = CG_PLOT_OV_POLYGON;
        ov->vx = pr->vx;
        ov->vy = pr->vy;
        ov->nv = pr->nvert;
        cg_plot_overlay_cut(ov, 0, pr->fell_back, 0, pr->rule, NAN);
        if (isfinite(pr->debris_cut)) {
            ov->has_debris = 1;
            ov->debris_x = pr->debris_cut;
        }
        return 0;
    case CG_GS_POLYGON:
        ov->kind = CG_PLOT_OV_POLYGON;
        ov->vx = g->vx;
        ov->vy = g->vy;
        ov->nv = g->nvert;
        return 0;
    case CG_GS_ELLIPSE:
        ov->kind = CG_PLOT_OV_ELLIPSE;
        ov->cx = g->cx;
        ov->cy = g->cy;
        ov->rx = g->ra;
        ov->ry = g->rb;
        ov->angle = g->angle * M_PI / 180.0;
        return 0;
    case CG_GS_QUADRANT:
        ov->kind = CG_PLOT_OV_RECT;
        ov->x0 = g->qxpos ? g->qx : -INFINITY;
        ov->x1 = g->qxpos ? INFINITY : g->qx;
        ov->y0 = g->qypos ? g->qy : -INFINITY;
        ov->y1 = g->qypos ? INFINITY : g->qy;
        return 0;
    default:
        return -1;
    }
}

static int on_gated(const cg_run_plots_ctx *pc, void *arg, cg_err *err)
{
    plot_req *rq = arg;
    const cg_config *cfg = pc->ctx->cfg;
    int parent_gi = -1;
    const cg_bits *mask = NULL;
    if (rq->parent) {
        for (int gi = 0; gi < cfg->ngates; gi++)
            if (!strcmp(cfg->gates[gi].name, rq->parent))
                parent_gi = gi;
        if (parent_gi < 0)
            return cg_err_set(err, CG_E_ARG,
                              "--parent %s: no such population in %s",
                              rq->parent, cfg->path);
        if (pc->res->pops[parent_gi].count < 0)
            return cg_err_set(err, CG_E_DATA, "--parent %s: NA in this "
                              "sample (%s)", rq->parent,
                              pc->res->pops[parent_gi].na_reason);
        int ti = cg_gatetree_find(pc->tree, rq->parent);
        mask = ti >= 0 ? cg_members_bits(pc->mem, ti) : NULL;
        if (!mask)
            return cg_err_set(err, CG_E_DATA, "--parent %s: no events",
                              rq->parent);
    }
    char xl[160], yl[160];
    const cg_xform *xf = NULL, *yf = NULL;
    const double *x = dim_values(pc, rq->x, &xf, xl, sizeof xl, err);
    if (!x)
        return -1;
    const double *y = NULL;
    if (rq->y && !(y = dim_values(pc, rq->y, &yf, yl, sizeof yl, err)))
        return -1;
    int64_t n = pc->fr->n;
    cg_plot_overlay *ov = calloc((size_t)cfg->ngates + 1, sizeof *ov);
    if (!ov)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    cg_plot_panel p;
    memset(&p, 0, sizeof p);
    p.title = rq->parent ? rq->parent : "all events";
    p.x = x;
    p.y = y;
    p.n = n;
    p.mask = mask;
    double xlo, xhi, ylo = 0, yhi = 1;
    if (cg_run_plot_range(x, n, mask, &xlo, &xhi, err) < 0 ||
        (y && cg_run_plot_range(y, n, mask, &ylo, &yhi, err) < 0)) {
        free(ov);
        return -1;
    }
    cg_plot_axis_xform(&p.xaxis, xl, xf, xlo, xhi);
    if (y)
        cg_plot_axis_xform(&p.yaxis, yl, yf, ylo, yhi);
    int nov = 0;
    for (int gi = 0; gi < cfg->ngates; gi++)
        if (cfg->gates[gi].parent == parent_gi &&
            gate_overlay(pc, gi, rq->x, rq->y, &ov[nov]) == 0)
            nov++;
    p.overlays = ov;
    p.noverlays = nov;
    cg_plot_meta m = {.sample = pc->sample->sample_id,
                      .subject = pc->sample->subject,
                      .visit = pc->sample->visit,
                      .population = p.title,
                      .x_marker = rq->x,
                      .y_marker = rq->y,
                      .config_hash = pc->ctx->config_sha256};
    /* drawn in the sample's free slabs, not fresh pages */
    cg_plot_mem *pm = cg_run_plot_mem(pc->fr);
    cg_plot_mem_use(pm);
    int rc = cg_plot_panel_png(&p, &m, rq->w, rq->h, rq->out, err);
    cg_plot_mem_use(NULL);
    cg_plot_mem_free(pm);
    free(ov);
    if (rc == 0)
        rq->written = 1;
    return rc;
}

/* "A_B" with characters outside [A-Za-z0-9._-] replaced by '_'. */
static void safe_cat(char *dst, size_t cap, const char *s)
{
    size_t o = strlen(dst);
    for (; *s && o + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        dst[o++] = ok ? c : '_';
    }
    dst[o] = '\0';
}

int cmd_plot(int argc, char **argv)
{
    const char *config = NULL, *file = NULL, *size = NULL;
    plot_req rq;
    memset(&rq, 0, sizeof rq);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (cg_opt_is(a, "-c", "--config")) {
            if (!(config = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (cg_opt_is(a, "-x", "--x")) {
            if (!(rq.x = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (cg_opt_is(a, "-y", "--y")) {
            if (!(rq.y = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (cg_opt_is(a, "-p", "--parent")) {
            if (!(rq.parent = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (cg_opt_is(a, "-o", "--out")) {
            if (!(rq.out = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (cg_opt_is(a, NULL, "--size")) {
            if (!(size = cg_opt_value("plot", argc, argv, &i)))
                return cg_usage_short("plot", usage);
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown("plot", a, usage);
            return cg_usage_short("plot", usage);
        } else if (!file) {
            file = a;
        } else {
            cg_error_cmd("plot", "one FCS file at a time (got %s and %s)",
                         file, a);
            return cg_usage_short("plot", usage);
        }
    }
    if (!config || !file || !rq.x) {
        cg_error_cmd("plot", "%s", !config ? "-c CONFIG is required"
                                   : !file ? "an FCS file is required"
                                           : "--x MARKER is required");
        return cg_usage_short("plot", usage);
    }
    if (size) {
        char *end;
        long w = strtol(size, &end, 10), h = 0;
        if (*end == 'x' || *end == 'X')
            h = strtol(end + 1, &end, 10);
        if (*end || w < 200 || h < 200 || w > 8000 || h > 8000) {
            cg_error_cmd("plot", "--size %s: expected WxH, 200..8000 pixels",
                         size);
            return CG_EXIT_USAGE;
        }
        rq.w = (int)w;
        rq.h = (int)h;
    }
    cg_err err = {0};
    cg_config *cfg = cg_config_load(config, &err);
    if (!cfg) {
        cg_error_report("plot", config, NULL, &err);
        return CG_EXIT_USAGE;
    }
    if (cg_config_marker(cfg, rq.x) < 0 && cg_config_role(cfg, rq.x) < 0) {
        cg_error_cmd("plot", "--x %s: not a marker or scatter channel of %s",
                     rq.x, config);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    if (rq.y && cg_config_marker(cfg, rq.y) < 0 &&
        cg_config_role(cfg, rq.y) < 0) {
        cg_error_cmd("plot", "--y %s: not a marker or scatter channel of %s",
                     rq.y, config);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    int ok_parent = !rq.parent;
    for (int gi = 0; gi < cfg->ngates && !ok_parent; gi++)
        ok_parent = !strcmp(cfg->gates[gi].name, rq.parent);
    if (!ok_parent) {
        cg_error_cmd("plot", "--parent %s: no such population in %s",
                     rq.parent, config);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    char *paths[1] = {(char *)file};
    cg_sheet *sheet = cg_sheet_from_paths(1, paths, &err);
    if (!sheet || sheet->n != 1) {
        if (sheet)
            cg_error_cmd("plot", "%s: not a single FCS file", file);
        else
            cg_error_report("plot", file, NULL, &err);
        cg_sheet_free(sheet);
        cg_config_free(cfg);
        return CG_EXIT_DATA;
    }
    char defout[512] = "";
    if (!rq.out) {
        safe_cat(defout, sizeof defout, sheet->s[0].sample_id);
        safe_cat(defout, sizeof defout, "_");
        safe_cat(defout, sizeof defout, rq.x);
        if (rq.y) {
            safe_cat(defout, sizeof defout, "_");
            safe_cat(defout, sizeof defout, rq.y);
        }
        safe_cat(defout, sizeof defout, ".png");
        rq.out = defout;
    }
    cg_run_opts o;
    memset(&o, 0, sizeof o);
    o.threads = (int)cg_default_threads(); /* one sample: all inside it */
    o.on_gated = on_gated;
    o.on_gated_arg = &rq;
    o.no_stats = 1; /* the figure reads counts and cuts, not statistics */
    cg_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    if (cg_run_ctx_prepare(&ctx, cfg, sheet, &o, &err) < 0) {
        cg_error_report("plot", config, NULL, &err);
        cg_sheet_free(sheet);
        cg_config_free(cfg);
        return CG_EXIT_USAGE;
    }
    cg_result res;
    memset(&res, 0, sizeof res);
    int rc = cg_run_sample(&ctx, 0, &res);
    int status = CG_EXIT_OK;
    if (rc < 0 || !rq.written) {
        cg_error_cmd("plot", "%s: %s", file,
                     res.message ? res.message : "not plotted");
        status = CG_EXIT_DATA;
    } else {
        for (int k = 0; k < res.nwarnings; k++)
            cg_warn_file(file, "%s", res.warnings[k]);
        if (cg_verbosity >= 1)
            fprintf(stderr, "cytogate plot: wrote %s\n", rq.out);
    }
    cg_result_clear(&res);
    cg_run_ctx_clear(&ctx);
    cg_sheet_free(sheet);
    cg_config_free(cfg);
    cg_plot_shutdown();
    return status;
}
