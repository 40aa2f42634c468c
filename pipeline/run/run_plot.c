/*
 * run_plot.c -- the per-sample figures of `cytogate run`, drawn through
 * plot.h: OUTDIR/plots/<sample_id>/strategy.png (every gate in tree
 * order), <gate>.png (one gate, slide size) and qc.png.
 *
 * Each gate is shown on its parent's events in the units it was gated in
 * (transformed markers, linear scatter; singlets on raw FSC-A/FSC-H), with
 * its outline and "% of parent".  A one-dimension threshold gate is a
 * histogram with the cut; two or more dimensions show the first two that
 * have data (a dim on a missing optional marker was dropped), and the
 * label names any other dim whose cut fell back or was overridden.
 * A cut that fell back or was overridden is styled so (cg_plot_cut,
 * from cg_thr_info / cg_pop_result), and an auto gate that could not be
 * placed at all still gets its panel, with no outline and a "fallback"
 * label, so the figures show every gate.
 * Axis ranges are the parent's 0.1-99.9 percentiles (by selection, no
 * sort) padded by 5%, so the figures depend only on the data
 * (deterministic bytes).
 *
 * Threading: called from a batch worker for its own sample; plot.h is
 * thread-safe for separate images.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "plot.h"
#include "run_internal.h"
#include "stats.h"
#include "util.h"

typedef struct gpanel {
    cg_plot_panel p;
    cg_plot_overlay ov;
    char xl[96], yl[96];
    int gi;
    const cg_dim *dx, *dy; /* the axes' dims (dy NULL: 1-D) */
    const cg_xform *xf, *yf;
    int dm[2];             /* the gate dims on the axes */
    const char *xn, *yn; /* the markers/roles on the axes (yn NULL: 1-D) */
    char note[96];       /* how cuts on markers not on the axes were set */
} gpanel;

/* "CCR4 fallback: one peak" / "CCR4 override" for the dims of a threshold
 * gate that are not on the panel's axes (dm: the dims shown) and were not
 * placed by their rule; the note's style goes to ov->note_cut. */
static void hidden_note(const cg_gate_spec *g, const cg_pop_result *pr,
                        const int dm[2], gpanel *gp)
{
    size_t len = 0, cap = sizeof gp->note;
    for (int d = 0; d < g->ndims && d < pr->nthr && len < cap; d++) {
        const cg_thr_info *ti = &pr->thr[d];
        if (d == dm[0] || d == dm[1] || !(ti->overridden || ti->fell_back))
            continue;
        if (ti->overridden) {
            gp->ov.note_cut = CG_PLOT_CUT_OVERRIDE;
            len += (size_t)snprintf(gp->note + len, cap - len,
                                    "%s%s override", len ? ", " : "",
                                    g->dims[d].marker);
        } else {
            if (gp->ov.note_cut == CG_PLOT_CUT_AUTO)
                gp->ov.note_cut = CG_PLOT_CUT_FALLBACK;
            int rn = (int)strcspn(ti->rule, ":");
            len += (size_t)snprintf(gp->note + len, cap - len,
                                    "%s%s fallback%s%.*s", len ? ", " : "",
                                    g->dims[d].marker, rn ? ": " : "", rn,
                                    ti->rule);
        }
    }
    gp->ov.note = gp->note[0] ? gp->note : NULL;
}

/* A threshold dim's placed cut beyond the data's display range (a
 * one-peak cut far out in a sparse tail) would not be drawn: the axis is
 * widened to show it, with 5 % of the range beyond.  Other gates and
 * cuts inside the range leave the axis as it is. */
static void widen_to_cut(const cg_gate_spec *g, const cg_pop_result *pr,
                         int d, double *lo, double *hi)
{
    if (d < 0 || g->type != CG_GS_THRESHOLD || !pr->thr || d >= pr->nthr)
        return;
    double t = pr->thr[d].threshold;
    if (!isfinite(t) || (t >= *lo && t <= *hi))
        return;
    if (t > *hi)
        *hi = t + 0.05 * (t - *lo);
    else
        *lo = t - 0.05 * (*hi - t);
}

int cg_run_plot_range(const double *x, int64_t n, const cg_bits *mask,
                      double *lo, double *hi, cg_err *err)
{
    double a, b, mn, mx;
    int64_t m = cg_stat_tails(x, n, mask, 0.1, 99.9, &a, &b, &mn, &mx, err);
    if (m < 0)
        return -1;
    if (m == 0) {
        *lo = 0;
        *hi = 1;
        return 0;
    }
    if (!(b > a)) {
        a = mn - 0.5;
        b = mx + 0.5;
    }
    double pad = 0.05 * (b - a);
    *lo = a - pad;
    *hi = b + pad;
    return 0;
}

static const char *dim_name(const cg_config *cfg, const cg_gate_spec *g,
                            int axis)
{
    if (g->ndims)
        return axis < g->ndims ? g->dims[axis].marker : NULL;
    return axis == 0 ? g->x : g->y;
}

/* The dimension, transform and label of a config name (marker or
 * scatter role); NULL when the file lacks it.  Nothing is computed. */
static const cg_dim *panel_dim(const cg_run_plots_ctx *pc, const char *name,
                               int raw, const cg_xform **xf, char *label,
                               size_t nl)
{
    const cg_config *cfg = pc->ctx->cfg;
    int m = cg_config_marker(cfg, name);
    if (m >= 0 && pc->mk_ch[m] >= 0) {
        *xf = raw ? NULL : pc->mk_xf[m];
        snprintf(label, nl, "%s (%s)", cfg->markers[m].name,
                 pc->fr->name[pc->mk_ch[m]]);
        return raw ? &pc->mk_raw[m] : &pc->mk_dim[m];
    }
    int r = cg_config_role(cfg, name);
    if (r >= 0 && pc->role_ch[r] >= 0) {
        *xf = raw ? NULL : pc->sc_xf;
        snprintf(label, nl, "%s", pc->fr->name[pc->role_ch[r]]);
        return raw ? &pc->role_raw[r] : &pc->role_dim[r];
    }
    return NULL;
}

/* The values a panel of parent's events draws on dx (and dy, or NULL),
 * as the gate read them (cg_dims_gathers): dims that would be computed
 * are computed for the parent's events only and drawn without a mask
 * (*n of them); otherwise whole columns with the parent as the mask.
 * The drawing depends on the values in mask order only, so the figure is
 * the same either way.  0, or -1 when a value column cannot be had. */
static int panel_values(const cg_run_plots_ctx *pc, const cg_dim *dx,
                        const cg_dim *dy, const cg_bits *parent,
                        const double **x, const double **y, int64_t *n,
                        const cg_bits **mask)
{
    int compact = cg_dims_gathers(pc->dc, parent, dx) ||
                  (dy && cg_dims_gathers(pc->dc, parent, dy));
    cg_err e = {0};
    *n = pc->fr->n;
    *mask = compact ? NULL : parent;
    *y = NULL;
    if (compact) {
        *x = cg_dims_gathered(pc->dc, dx, parent, n, &e);
        if (*x && dy)
            *y = cg_dims_gathered(pc->dc, dy, parent, n, &e);
    } else {
        *x = cg_dims_get(pc->dc, dx, &e);
        if (*x && dy)
            *y = cg_dims_get(pc->dc, dy, &e);
    }
    return *x && (!dy || *y) ? 0 : -1;
}

static void set_axis(cg_plot_axis *ax, const char *label, const cg_xform *xf,
                     double lo, double hi)
{
    if (xf)
        cg_plot_axis_xform(ax, label, xf, lo, hi);
    else
        cg_plot_axis_linear(ax, label, lo, hi);
}

static const cg_bits *bits_of(const cg_run_plots_ctx *pc, int gi)
{
    int p = cg_gatetree_find(pc->tree, pc->ctx->cfg->gates[gi].name);
    return p >= 0 ? cg_members_bits(pc->mem, p) : NULL;
}

/* Panel gp for gate gi without its values (panel_fill adds them): the
 * axes' dims and the overlay; 0 when drawable, -1 to skip. */
static int make_panel(const cg_run_plots_ctx *pc, int gi, gpanel *gp)
{
    const cg_config *cfg = pc->ctx->cfg;
    const cg_gate_spec *g = &cfg->gates[gi];
    const cg_pop_result *pr = &pc->res->pops[gi];
    if (pr->count < 0 || g->type == CG_GS_BOOLEAN)
        return -1;
    memset(gp, 0, sizeof *gp);
    gp->gi = gi;
    int raw = g->raw_units || g->type == CG_GS_SINGLETS;
    /* axis -> gate dim: the first two dims with data (a dim on a missing
     * optional marker was dropped from the gate, so it is not drawn) */
    int dm[2] = {0, 1}, na = 0;
    if (g->ndims) {
        const cg_xform *tf;
        char tl[96];
        dm[1] = -1;
        for (int d = 0; d < g->ndims && na < 2; d++)
            if (panel_dim(pc, g->dims[d].marker, raw, &tf, tl, sizeof tl))
                dm[na++] = d;
        if (na == 0)
            return -1;
        if (na == 1)
            dm[1] = -1;
    }
    const char *xn = dim_name(cfg, g, dm[0]);
    const char *yn = dm[1] >= 0 ? dim_name(cfg, g, dm[1]) : NULL;
    gp->xn = xn;
    gp->yn = yn;
    const cg_xform *xf = NULL, *yf = NULL;
    const cg_dim *dx = panel_dim(pc, xn, raw, &xf, gp->xl, sizeof gp->xl);
    const cg_dim *dy = yn ? panel_dim(pc, yn, raw, &yf, gp->yl,
                                      sizeof gp->yl)
                          : NULL;
    if (!dx || (yn && !dy))
        return -1;
    gp->dx = dx;
    gp->dy = dy;
    gp->xf = xf;
    gp->yf = yf;
    gp->dm[0] = dm[0];
    gp->dm[1] = dm[1];
    cg_plot_panel *p = &gp->p;
    p->title = g->parent >= 0 ? cfg->gates[g->parent].name : "all events";
    cg_plot_overlay *ov = &gp->ov;
    ov->name = g->name;
    ov->pct = cg_stat_pct(pr->count, pr->parent_count);
    switch (g->type) {
    case CG_GS_THRESHOLD:
    case CG_GS_RANGE:
    case CG_GS_RECTANGLE: {
        double b[2][2] = {{-INFINITY, INFINITY}, {-INFINITY, INFINITY}};
        int unplaced = 0;
        for (int a = 0; a < 2 && dm[a] >= 0; a++) {
            int d = dm[a];
            const cg_dim_spec *ds = &g->dims[d];
            if (ds->method == CG_TM_INTERVAL) {
                b[a][0] = isnan(ds->min) ? -INFINITY : ds->min;
                b[a][1] = isnan(ds->max) ? INFINITY : ds->max;
            } else {
                if (!pr->thr || d >= pr->nthr)
                    return -1;
                const cg_thr_info *ti = &pr->thr[d];
                double t = ti->threshold;
                if (!isfinite(t)) { /* not placed: label only */
                    cg_plot_overlay_cut(ov, a, 1, 0, ti->rule, NAN);
                    unplaced = 1;
                    continue;
                }
                cg_plot_overlay_cut(ov, a, ti->fell_back, ti->overridden,
                                    ti->rule, ti->auto_threshold);
                b[a][0] = ds->keep == CG_KEEP_ABOVE ? t : -INFINITY;
                b[a][1] = ds->keep == CG_KEEP_ABOVE ? INFINITY : t;
            }
        }
        hidden_note(g, pr, dm, gp);
        ov->kind = unplaced ? CG_PLOT_OV_NONE
                   : dy     ? CG_PLOT_OV_RECT
                            : CG_PLOT_OV_RANGE;
        ov->x0 = b[0][0];
        ov->x1 = b[0][1];
        if (dy) {
            ov->y0 = b[1][0];
            ov->y1 = b[1][1];
        }
        break;
    }
    case CG_GS_SCATTER:
    case CG_GS_SINGLETS:
        cg_plot_overlay_cut(ov, 0, pr->fell_back, 0, pr->rule, NAN);
        if (g->type == CG_GS_SCATTER && isfinite(pr->debris_cut)) {
            ov->has_debris = 1;
            ov->debris_x = pr->debris_cut;
        }
        if (pr->nvert < 3) { /* not placed: label only */
            ov->kind = CG_PLOT_OV_NONE;
            if (!pr->fell_back)
                cg_plot_overlay_cut(ov, 0, 1, 0, pr->rule, NAN);
            break;
        }
        ov->kind = CG_PLOT_OV_POLYGON;
        ov->vx = pr->vx;
        ov->vy = pr->vy;
        ov->nv = pr->nvert;
        break;
    case CG_GS_POLYGON:
        ov->kind = CG_PLOT_OV_POLYGON;
        ov->vx = g->vx;
        ov->vy = g->vy;
        ov->nv = g->nvert;
        break;
    case CG_GS_ELLIPSE:
        ov->kind = CG_PLOT_OV_ELLIPSE;
        ov->cx = g->cx;
        ov->cy = g->cy;
        ov->rx = g->ra;
        ov->ry = g->rb;
        ov->angle = g->angle * M_PI / 180.0;
        break;
    case CG_GS_QUADRANT:
        ov->kind = CG_PLOT_OV_RECT;
        ov->x0 = g->qxpos ? g->qx : -INFINITY;
        ov->x1 = g->qxpos ? INFINITY : g->qx;
        ov->y0 = g->qypos ? g->qy : -INFINITY;
        ov->y1 = g->qypos ? INFINITY : g->qy;
        break;
    default:
        return -1;
    }
    p->overlays = ov;
    p->noverlays = 1;
    return 0;
}

/* The values of panel gp (made by make_panel) and its axes' ranges.
 * 0, or -1 when a value column cannot be had (no memory). */
static int panel_fill(const cg_run_plots_ctx *pc, gpanel *gp)
{
    const cg_config *cfg = pc->ctx->cfg;
    const cg_gate_spec *g = &cfg->gates[gp->gi];
    const cg_pop_result *pr = &pc->res->pops[gp->gi];
    const cg_bits *parent = g->parent >= 0 ? bits_of(pc, g->parent) : NULL;
    cg_plot_panel *p = &gp->p;
    cg_err e = {0};
    double lo, hi;
    if (panel_values(pc, gp->dx, gp->dy, parent, &p->x, &p->y, &p->n,
                     &p->mask) < 0 ||
        cg_run_plot_range(p->x, p->n, p->mask, &lo, &hi, &e) < 0)
        return -1;
    widen_to_cut(g, pr, gp->dm[0], &lo, &hi);
    set_axis(&p->xaxis, gp->xl, gp->xf, lo, hi);
    if (p->y) {
        if (cg_run_plot_range(p->y, p->n, p->mask, &lo, &hi, &e) < 0)
            return -1;
        widen_to_cut(g, pr, gp->dm[1], &lo, &hi);
        set_axis(&p->yaxis, gp->yl, gp->yf, lo, hi);
    }
    return 0;
}

static int qc_figure(const cg_run_plots_ctx *pc, const cg_plot_meta *meta,
                     const char *dir, cg_err *err)
{
    const cg_qc_result *q = pc->res->qc;
    if (!q)
        return 0;
    const cg_qc_series *s = &q->s;
    int nb = s->nrate;
    double *t = calloc((size_t)nb + 2, sizeof *t);
    double *rate = calloc((size_t)nb + 1, sizeof *rate);
    int nc = s->nschan, nm = s->nstab;
    const char **names = calloc((size_t)nc + 1, sizeof *names);
    double *medx = calloc((size_t)nm + 1, sizeof *medx);
    double *med = calloc((size_t)nc * (size_t)nm + 1, sizeof *med);
    int rc = -1;
    if (!t || !rate || !names || !medx || !med) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < nb; k++) {
        t[k] = s->rate_t0[k];
        rate[k] = s->rate_w[k] > 0 ? s->rate_count[k] / s->rate_w[k] : 0;
    }
    if (nb > 0)
        t[nb] = s->rate_t0[nb - 1] + s->rate_w[nb - 1];
    double cof = pc->ctx->qc.stab_cofactor > 0 ? pc->ctx->qc.stab_cofactor : 150;
    for (int c = 0; c < nc; c++) {
        int ch = s->stab_chan[c];
        names[c] = ch >= 0 && ch < pc->fr->nch ? pc->fr->name[ch] : "?";
        for (int k = 0; k < nm; k++) {
            double v = s->stab_median[(size_t)c * (size_t)nm + (size_t)k];
            med[(size_t)c * (size_t)nm + (size_t)k] = asinh(v / cof);
        }
    }
    for (int k = 0; k < nm; k++)
        medx[k] = 0.5 * (double)(s->stab_first[k] + s->stab_first[k + 1]);
    cg_plot_qc pq;
    memset(&pq, 0, sizeof pq);
    pq.nbins = nb;
    pq.t = t;
    pq.rate = rate;
    pq.flagged = s->rate_flag;
    pq.rate_lo = pq.rate_hi = NAN;
    pq.pct_flagged = pc->res->events > 0 && q->time_mask
                         ? 100.0 * (double)q->n_time_masked / (double)pc->res->events
                         : NAN;
    pq.time_label = s->time_seconds ? "Time (s)" : "Time (channel units)";
    pq.nchan = nc;
    pq.chan_names = names;
    pq.nmed = nm;
    pq.med_x = medx;
    pq.med = med;
    pq.med_x_label = "Event";
    cg_plot_image *im = cg_plot_render_qc(&pq, meta, err);
    if (!im)
        goto done;
    char *path = cg_path_join(dir, "qc.png");
    rc = path ? cg_plot_image_write_png(im, path, err) : -1;
    free(path);
    cg_plot_image_free(im);
done:
    free(t);
    free(rate);
    free(names);
    free(medx);
    free(med);
    return rc;
}

/* Panel g's own figure (slide size), drawn; NULL with e. */
static cg_plot_image *gate_render(const cg_run_plots_ctx *pc, const gpanel *g,
                                  const cg_plot_meta *meta, cg_err *e)
{
    const char *name = pc->ctx->cfg->gates[g->gi].name;
    cg_plot_meta m1 = *meta;
    m1.population = name;
    m1.x_marker = g->xn;
    m1.y_marker = g->yn;
    cg_plot_image *im = cg_plot_render_panel(&g->p, &m1, 0, 0, e);
    if (!im && !e->msg[0])
        cg_err_set(e, CG_E_NOMEM, "cannot draw the figure");
    return im;
}

/* Figure im of panel g to dir/<gate>.png, then freed.  0 or < 0 with e. */
static int gate_write(const cg_run_plots_ctx *pc, const gpanel *g,
                      cg_plot_image *im, const char *dir, cg_err *e)
{
    char name[300];
    snprintf(name, sizeof name, "%s.png", pc->ctx->cfg->gates[g->gi].name);
    char *path = cg_path_join(dir, name);
    int rc = !path ? cg_err_set(e, CG_E_NOMEM, "out of memory")
                   : cg_plot_image_write_png(im, path, e);
    if (rc < 0 && !e->msg[0])
        cg_err_set(e, CG_E_IO, "cannot write the figure");
    free(path);
    cg_plot_image_free(im);
    return rc;
}

/* The strategy figure, drawn panel by panel, to dir/strategy.png. */
static int strategy_write(cg_plot_strategy *st, const char *dir, cg_err *e)
{
    cg_plot_image *im = cg_plot_strategy_end(st);
    char *path = im ? cg_path_join(dir, "strategy.png") : NULL;
    int rc = !im ? cg_err_set(e, CG_E_IO, "cannot draw the figure")
             : !path ? cg_err_set(e, CG_E_NOMEM, "out of memory")
                     : cg_plot_image_write_png(im, path, e);
    free(path);
    cg_plot_image_free(im);
    return rc;
}

/* The figures of one sample on two threads, in steps of two jobs each,
 * the panels' values held for one panel at a time:
 *   first:   the strategy figure begun       | panel 0's values
 *   draw k:  panel k's figure drawn         | its strategy cell drawn
 *   write k: that figure encoded and written | panel k + 1's values
 *   last:    the strategy figure written     | the QC figure
 * (k's values are dropped between its two steps).  Each job writes only
 * its own outputs, so the bytes do not depend on the threads.  The
 * drawings' buffers come from the frame's free slabs (cg_plot_mem). */
typedef struct figs {
    const cg_run_plots_ctx *pc;
    gpanel *gp;
    int np, k, step;           /* step: 0 draw, 1 write, 2 last, 3 first */
    int flagged;               /* cg_plot_panels_flagged */
    unsigned char *ok;         /* per panel: values at hand */
    const cg_plot_meta *meta;
    const char *dir;
    cg_plot_strategy *st;      /* NULL: no strategy figure (any more) */
    cg_plot_image *im;         /* panel k's figure, drawn, not written */
    cg_err *errs;              /* per panel, then strategy, then QC */
    int src;                   /* the strategy cell's result */
    cg_plot_mem *pm;
} figs;

typedef struct figs_part {
    figs *f;
    int part;
} figs_part;

static void figs_job(figs *f, int part)
{
    const cg_run_plots_ctx *pc = f->pc;
    int k = f->k, np = f->np;
    cg_err *e = &f->errs[k < np ? k : 0];
    switch (f->step * 2 + part) {
    case 0: /* panel k's figure */
        if (f->ok[k])
            f->im = gate_render(pc, &f->gp[k], f->meta, e);
        break;
    case 1: /* its strategy cell */
        if (f->ok[k] && f->st)
            f->src = cg_plot_strategy_add(f->st, &f->gp[k].p, &f->errs[np]);
        break;
    case 2:
        if (f->im)
            gate_write(pc, &f->gp[k], f->im, f->dir, e);
        f->im = NULL;
        break;
    case 3: /* the next panel's values */
        if (k + 1 < np && !(f->ok[k + 1] = panel_fill(pc, &f->gp[k + 1]) == 0))
            cg_err_set(&f->errs[k + 1], CG_E_NOMEM, "cannot have the values");
        break;
    case 4:
        if (f->st && strategy_write(f->st, f->dir, &f->errs[np]) < 0 &&
            !f->errs[np].msg[0])
            cg_err_set(&f->errs[np], CG_E_IO, "cannot write the figure");
        f->st = NULL;
        break;
    case 5:
        if (qc_figure(pc, f->meta, f->dir, &f->errs[np + 1]) < 0 &&
            !f->errs[np + 1].msg[0])
            cg_err_set(&f->errs[np + 1], CG_E_IO, "cannot write the figure");
        break;
    case 6: /* the strategy figure's frame and title (the first text
             * drawn loads the fonts) */
        f->st = cg_plot_strategy_begin(np, f->flagged, f->meta, 0, 0, 0,
                                       &f->errs[np]);
        break;
    case 7: /* the first panel's values */
        if (!(f->ok[0] = panel_fill(pc, &f->gp[0]) == 0))
            cg_err_set(&f->errs[0], CG_E_NOMEM, "cannot have the values");
        break;
    }
}

static void *figs_main(void *arg)
{
    figs_part *fp = arg;
    cg_plot_mem_use(fp->f->pm);
    figs_job(fp->f, fp->part);
    cg_plot_mem_use(NULL);
    return NULL;
}

static void figs_step(figs *f, int step, int k, int nt)
{
    figs_part parts[2] = {{f, 0}, {f, 1}};
    f->step = step;
    f->k = k;
    if (nt > 1) {
        cg_par_run(2, figs_main, parts, sizeof parts[0]);
    } else {
        figs_main(&parts[0]);
        figs_main(&parts[1]);
    }
}

static void *slab_try(void *fr) { return cg_frame_slab_try(fr); }
static void slab_put(void *fr, void *p) { cg_frame_slab_put(fr, p); }

cg_plot_mem *cg_run_plot_mem(const cg_frame *fr)
{
    return cg_plot_mem_new(cg_frame_slab_size(fr), slab_try, slab_put,
                           (void *)fr);
}

/* errs[k]: panel k's figure, errs[np]: the strategy figure's,
 * errs[np + 1]: the QC figure's. */
static void draw_panels(const cg_run_plots_ctx *pc, gpanel *gp, int np,
                        const cg_plot_meta *meta, const char *dir,
                        cg_err *errs)
{
    cg_plot_panel *meta_p = calloc((size_t)np + 1, sizeof *meta_p);
    figs f = {.pc = pc, .gp = gp, .np = np, .meta = meta, .dir = dir,
              .errs = errs, .ok = calloc((size_t)np + 1, 1),
              .pm = cg_run_plot_mem(pc->fr)};
    int nt = pc->ctx->inner_threads > 1 ? 2 : 1;
    if (!meta_p || !f.ok || !f.pm) {
        for (int k = 0; k < np + 2; k++)
            cg_err_set(&errs[k], CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < np; k++)
        meta_p[k] = gp[k].p; /* overlays only: what flags the figure */
    cg_dims_cache_drop(pc->dc); /* the gates' whole columns: slabs back */
    f.flagged = cg_plot_panels_flagged(meta_p, np);
    if (np)
        figs_step(&f, 3, 0, nt);
    for (int k = 0; k < np; k++) {
        if (!f.ok[k] && f.st) { /* the strategy figure misses a cell */
            cg_err_set(&errs[np], CG_E_NOMEM, "cannot have the values");
            cg_plot_strategy_free(f.st);
            f.st = NULL;
        }
        f.src = 0;
        figs_step(&f, 0, k, nt);
        if (f.src < 0) {
            cg_plot_strategy_free(f.st);
            f.st = NULL;
        }
        cg_dims_cache_drop(pc->dc); /* panel k's values */
        figs_step(&f, 1, k, nt);
    }
    figs_step(&f, 2, np, nt);
    cg_plot_strategy_free(f.st); /* a step failed */
done:
    cg_plot_mem_free(f.pm);
    free(meta_p);
    free(f.ok);
}

int cg_run_plots(const cg_run_plots_ctx *pc, cg_err *err)
{
    const cg_config *cfg = pc->ctx->cfg;
    const cg_sample *s = pc->sample;
    char sub[600];
    snprintf(sub, sizeof sub, "plots/%s", s->sample_id);
    char *dir = cg_path_join(pc->ctx->opts.outdir, sub);
    if (!dir || cg_mkdir_p(dir) < 0) {
        cg_err_set(err, CG_E_IO, "%s: cannot create: %s", dir ? dir : sub,
                   strerror(errno));
        free(dir);
        return -1;
    }
    gpanel *gp = calloc((size_t)cfg->ngates + 1, sizeof *gp);
    cg_err *errs = calloc((size_t)cfg->ngates + 2, sizeof *errs);
    int rc = 0, np = 0;
    if (!gp || !errs) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    cg_plot_meta meta = {.sample = s->sample_id, .subject = s->subject,
                         .visit = s->visit,
                         .config_hash = pc->ctx->config_sha256};
    for (int gi = 0; gi < cfg->ngates; gi++) {
        if (make_panel(pc, gi, &gp[np]) < 0)
            continue;
        np++;
    }
    for (int k = 0; k < np; k++)
        gp[k].p.overlays = &gp[k].ov; /* after the array stopped moving */
    draw_panels(pc, gp, np, &meta, dir, errs);
    for (int k = 0; k < np + 2 && rc == 0; k++) {
        if (!errs[k].msg[0] || (k == np && np == 0))
            continue;
        char name[300];
        snprintf(name, sizeof name, "%s.png", k < np ? cfg->gates[gp[k].gi].name
                                              : k == np ? "strategy" : "qc");
        rc = cg_err_set(err, CG_E_IO, "%s: %s", name, errs[k].msg);
    }
done:
    cg_dims_gather_drop(pc->dc);
    free(gp);
    free(errs);
    free(dir);
    return rc;
}
