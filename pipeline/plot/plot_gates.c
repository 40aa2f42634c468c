/*
 * plot_gates.c -- gate overlays on a panel: polygon, rectangle (open sides
 * for threshold gates), ellipse, 1-D range/threshold and quadrant
 * dividers, outlined in black (CGP_GATE) over the density, each labelled
 * with its name and "% of parent" in a white box kept inside the plot
 * area.
 *
 * Geometry is in transformed units and mapped to pixels here; open or
 * off-scale sides are clipped to the plot area (they are drawn on the
 * frame, where they still read as a gate edge).  Ellipses are sampled in
 * data space (128 points), so they stay correct when the two axes have
 * different scales.
 *
 * How a cut was placed changes only its stroke and label (cg_plot_cut):
 * a fallback is dashed amber over a dashed white casing, with "fallback:
 * <rule>" under the percentage; an override is thicker solid purple,
 * labelled "override", with the auto gate's cut as a thin dotted grey
 * line.  Per axis for rectangles, so a 2-D threshold shows which edge
 * fell back.  Overlays without such flags draw the same bytes as before.
 * A scatter gate's debris cut is a thin grey line labelled "debris".
 *
 * Threading: no shared state.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

static double clampd(double v, double a, double b)
{
    return v < a ? a : v > b ? b : v;
}

void cgp_fallback_dash(const cgp_cv *cv, double dash[2])
{
    dash[0] = 0.55 * cv->fs;
    dash[1] = 0.4 * cv->fs;
}

void cgp_stroke_cut(cgp_cv *cv, cg_plot_cut c, double lw)
{
    cairo_t *cr = cv->cr;
    switch (c) {
    case CG_PLOT_CUT_FALLBACK: {
        double d[2];
        cgp_fallback_dash(cv, d);
        cairo_set_dash(cr, d, 2, 0);
        cgp_rgba(cr, 0xffffff, 0.85); /* casing: readable on red density */
        cairo_set_line_width(cr, 1.3 * lw + 2);
        cairo_stroke_preserve(cr);
        cgp_rgb(cr, CGP_FALLBACK);
        cairo_set_line_width(cr, 1.3 * lw);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        break;
    }
    case CG_PLOT_CUT_OVERRIDE:
        cgp_rgb(cr, CGP_OVERRIDE);
        cairo_set_line_width(cr, 1.7 * lw);
        cairo_stroke(cr);
        break;
    default:
        cgp_rgb(cr, CGP_GATE);
        cairo_set_line_width(cr, lw);
        cairo_stroke(cr);
        break;
    }
}

/* Thin dotted grey line from (x0, y0) to (x1, y1): the auto cut that an
 * override replaced. */
static void dotted(cgp_cv *cv, double lw, double x0, double y0, double x1,
                   double y1)
{
    cairo_t *cr = cv->cr;
    double d[2] = {0, 2.2 * lw};
    cairo_new_path(cr);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_set_dash(cr, d, 2, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cgp_rgb(cr, CGP_AUTOCUT);
    cairo_set_line_width(cr, 0.9 * lw);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

/* "one peak: above" -> "one peak" (the part before a colon). */
static void rule_short(char *buf, size_t cap, const char *rule)
{
    buf[0] = '\0';
    if (!rule)
        return;
    size_t n = strcspn(rule, ":");
    while (n > 0 && rule[n - 1] == ' ')
        n--;
    snprintf(buf, cap, "%.*s", (int)n, rule);
}

/* The label's third line for the overlay's cuts ("" when all are AUTO)
 * and its colour. */
static void cut_note(const cg_plot_overlay *o, char *buf, size_t cap,
                     uint32_t *rgb)
{
    buf[0] = '\0';
    int naxes = o->kind == CG_PLOT_OV_RECT || o->kind == CG_PLOT_OV_NONE
                    ? 2
                    : 1;
    int any_ovr = 0;
    size_t len = 0;
    char prev[64] = "";
    for (int a = 0; a < naxes && len < cap; a++) {
        char part[64];
        if (o->cut[a] == CG_PLOT_CUT_FALLBACK) {
            char r[40];
            rule_short(r, sizeof r, o->rule[a]);
            snprintf(part, sizeof part, "fallback%s%s", r[0] ? ": " : "", r);
        } else if (o->cut[a] == CG_PLOT_CUT_OVERRIDE) {
            snprintf(part, sizeof part, "override");
            any_ovr = 1;
        } else {
            continue;
        }
        if (!strcmp(part, prev))
            continue; /* both edges fell back the same way */
        len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                                len ? ", " : "", part);
        snprintf(prev, sizeof prev, "%s", part);
    }
    if (o->note && *o->note && len < cap)
        snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", o->note);
    any_ovr |= o->note_cut == CG_PLOT_CUT_OVERRIDE;
    *rgb = any_ovr ? CGP_OVERRIDE
           : o->note_cut == CG_PLOT_CUT_AUTO && !len ? CGP_INK
                                                     : CGP_FALLBACK_TEXT;
}

/* Gate label: bold name over the percentage (and the note on how the cut
 * was placed, in note_rgb), in a translucent white box.  (px, py) is the
 * anchor: the box's bottom-centre when above != 0, its top-centre
 * otherwise; the box is moved inside the plot area. */
static void gate_label(cgp_cv *cv, const cgp_pinfo *pi, const char *name,
                       double pct, const char *note, uint32_t note_rgb,
                       double px, double py, int above)
{
    char ptxt[32] = "";
    if (isfinite(pct))
        cgp_fmt_pct(ptxt, sizeof ptxt, pct);
    int has_name = name && *name, has_pct = ptxt[0] != '\0';
    int has_note = note && *note;
    if (!has_name && !has_pct && !has_note)
        return;
    double fs = 0.9 * cv->fs, pad = 0.25 * cv->fs, nfs = 0.8 * cv->fs;
    double wn = has_name ? cgp_text_width(cv, name, fs, 1) : 0;
    double wp = has_pct ? cgp_text_width(cv, ptxt, fs, 0) : 0;
    double wt = has_note ? cgp_text_width(cv, note, nfs, 0) : 0;
    double lh = 1.2 * fs;
    double bw = fmax(fmax(wn, wp), wt) + 2 * pad;
    double bh = (has_name + has_pct) * lh + 1.2 * pad;
    if (has_note)
        bh += 1.2 * nfs;
    double x = px - bw / 2, y = above ? py - bh : py;
    const cg_plot_rect *a = &pi->area;
    x = clampd(x, a->x + 2, a->x + a->w - bw - 2);
    y = clampd(y, a->y + 2, a->y + a->h - bh - 2);
    cairo_t *cr = cv->cr;
    cairo_new_path(cr);
    cairo_rectangle(cr, x, y, bw, bh);
    cgp_rgba(cr, 0xffffff, 0.82);
    cairo_fill(cr);
    double ty = y + 0.6 * pad;
    cgp_rgb(cr, CGP_GATE);
    if (has_name) {
        cgp_text(cv, name, x + bw / 2, ty, fs, 1, 0.5, 0, 0);
        ty += lh;
    }
    if (has_pct) {
        cgp_rgb(cr, 0x333333);
        cgp_text(cv, ptxt, x + bw / 2, ty, fs, 0, 0.5, 0, 0);
        ty += lh;
    }
    if (has_note) {
        cgp_rgb(cr, note_rgb);
        cgp_text(cv, note, x + bw / 2, ty, nfs, 0, 0.5, 0, 0);
    }
}

/* Data x/y to pixel, with infinities clamped a little outside the area. */
static double mapx(const cgp_pinfo *pi, double v)
{
    if (v == INFINITY)
        return pi->area.x + pi->area.w + 4;
    if (v == -INFINITY)
        return pi->area.x - 4;
    return clampd(cgp_px(pi, v), pi->area.x - 4e4, pi->area.x + 4e4);
}
static double mapy(const cgp_pinfo *pi, double v)
{
    if (v == INFINITY)
        return pi->area.y - 4;
    if (v == -INFINITY)
        return pi->area.y + pi->area.h + 4;
    return clampd(cgp_py(pi, v), pi->area.y - 4e4, pi->area.y + 4e4);
}

/* Polygon or ellipse outline; label anchor above its top. */
static void ov_closed(cgp_cv *cv, const cgp_pinfo *pi,
                      const cg_plot_overlay *o, double lw, double *lx,
                      double *ly)
{
    cairo_t *cr = cv->cr;
    int n = o->kind == CG_PLOT_OV_POLYGON ? o->nv : 128;
    if (n < 2 || (o->kind == CG_PLOT_OV_POLYGON && (!o->vx || !o->vy)))
        return;
    double sx = 0, miny = INFINITY;
    for (int i = 0; i < n; i++) {
        double dx, dy;
        if (o->kind == CG_PLOT_OV_POLYGON) {
            dx = o->vx[i];
            dy = o->vy[i];
        } else {
            double t = 2 * M_PI * i / n, c = cos(o->angle), s = sin(o->angle);
            double ex = o->rx * cos(t), ey = o->ry * sin(t);
            dx = o->cx + c * ex - s * ey;
            dy = o->cy + s * ex + c * ey;
        }
        double px = mapx(pi, dx), py = mapy(pi, dy);
        if (i == 0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
        sx += px;
        if (py < miny) {
            miny = py;
        }
    }
    cairo_close_path(cr);
    cgp_stroke_cut(cv, o->cut[0], lw);
    *lx = sx / n;
    *ly = miny - 0.3 * cv->fs;
}

/* Rectangle; edges drawn one by one in their cut's style when a cut fell
 * back or was overridden (the automatic cut dotted). */
static void ov_rect(cgp_cv *cv, const cgp_pinfo *pi, const cg_plot_overlay *o,
                    double lw, double *lx, double *ly)
{
    cairo_t *cr = cv->cr;
    const cg_plot_rect *a = &pi->area;
    double x0 = mapx(pi, o->x0), x1 = mapx(pi, o->x1);
    double y0 = mapy(pi, o->y1), y1 = mapy(pi, o->y0); /* y0 top */
    if (o->cut[0] == CG_PLOT_CUT_AUTO && o->cut[1] == CG_PLOT_CUT_AUTO) {
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        cairo_stroke(cr);
    } else {
        /* edge by edge: the vertical ones carry the x cut's style */
        for (int ax = 0; ax < 2; ax++)
            if (o->cut[ax] == CG_PLOT_CUT_OVERRIDE &&
                isfinite(o->auto_cut[ax])) {
                if (ax == 0) {
                    double u = mapx(pi, o->auto_cut[0]);
                    dotted(cv, lw, u, y0, u, y1);
                } else {
                    double u = mapy(pi, o->auto_cut[1]);
                    dotted(cv, lw, x0, u, x1, u);
                }
            }
        cairo_move_to(cr, x0, y0);
        cairo_line_to(cr, x0, y1);
        cairo_move_to(cr, x1, y0);
        cairo_line_to(cr, x1, y1);
        cgp_stroke_cut(cv, o->cut[0], lw);
        cairo_move_to(cr, x0, y0);
        cairo_line_to(cr, x1, y0);
        cairo_move_to(cr, x0, y1);
        cairo_line_to(cr, x1, y1);
        cgp_stroke_cut(cv, o->cut[1], lw);
    }
    double vx0 = clampd(x0, a->x, a->x + a->w),
           vx1 = clampd(x1, a->x, a->x + a->w);
    double vy0 = clampd(y0, a->y, a->y + a->h);
    *lx = (vx0 + vx1) / 2;
    *ly = vy0 - 0.3 * cv->fs;
}

/* 1-D range: its bounds as vertical lines and a bracket with end ticks,
 * as FlowJo's range gate. */
static void ov_range(cgp_cv *cv, const cgp_pinfo *pi,
                     const cg_plot_overlay *o, double lw, double *lx,
                     double *ly)
{
    cairo_t *cr = cv->cr;
    const cg_plot_rect *a = &pi->area;
    double x0 = mapx(pi, o->x0), x1 = mapx(pi, o->x1);
    double by = a->y + 0.15 * a->h;
    if (o->cut[0] == CG_PLOT_CUT_OVERRIDE && isfinite(o->auto_cut[0])) {
        double u = mapx(pi, o->auto_cut[0]);
        dotted(cv, lw, u, a->y, u, a->y + a->h);
    }
    if (isfinite(o->x0)) {
        cairo_move_to(cr, x0, a->y);
        cairo_line_to(cr, x0, a->y + a->h);
    }
    if (isfinite(o->x1)) {
        cairo_move_to(cr, x1, a->y);
        cairo_line_to(cr, x1, a->y + a->h);
    }
    cgp_stroke_cut(cv, o->cut[0], lw);
    if (o->cut[0] == CG_PLOT_CUT_FALLBACK)
        cgp_rgb(cr, CGP_FALLBACK); /* the bracket: solid, same hue */
    else if (o->cut[0] == CG_PLOT_CUT_OVERRIDE)
        cgp_rgb(cr, CGP_OVERRIDE);
    cairo_set_line_width(cr, lw);
    double vx0 = clampd(x0, a->x, a->x + a->w),
           vx1 = clampd(x1, a->x, a->x + a->w);
    cairo_move_to(cr, vx0, by);
    cairo_line_to(cr, vx1, by);
    double tk = 0.35 * cv->fs;
    if (isfinite(o->x0)) {
        cairo_move_to(cr, vx0, by - tk);
        cairo_line_to(cr, vx0, by + tk);
    }
    if (isfinite(o->x1)) {
        cairo_move_to(cr, vx1, by - tk);
        cairo_line_to(cr, vx1, by + tk);
    }
    cairo_stroke(cr);
    *lx = (vx0 + vx1) / 2;
    *ly = by - 0.2 * cv->fs;
}

/* The scatter gate's debris cut: a thin line labelled "debris". */
static void ov_debris(cgp_cv *cv, const cgp_pinfo *pi,
                      const cg_plot_overlay *o, double lw)
{
    cairo_t *cr = cv->cr;
    const cg_plot_rect *a = &pi->area;
    double dx = mapx(pi, o->debris_x);
    cairo_new_path(cr);
    cairo_move_to(cr, dx, a->y);
    cairo_line_to(cr, dx, a->y + a->h);
    cgp_rgb(cr, CGP_DEBRIS);
    cairo_set_line_width(cr, fmax(1.0, 0.5 * lw));
    cairo_stroke(cr);
    cgp_text(cv, "debris", dx + 0.25 * cv->fs, a->y + a->h - 0.3 * cv->fs,
             0.75 * cv->fs, 0, 0, 1, 0);
}

/* A quadrant's four labels, in the panel's corners. */
static void quad_labels(cgp_cv *cv, const cgp_pinfo *pi,
                        const cg_plot_overlay *o)
{
    const cg_plot_rect *a = &pi->area;
    double m = 0.4 * cv->fs;
    double xl = a->x + m + 3 * cv->fs, xr = a->x + a->w - m - 3 * cv->fs;
    double yt = a->y + m, yb = a->y + a->h - m;
    gate_label(cv, pi, o->quad_name[CG_PLOT_Q_UL], o->quad_pct[CG_PLOT_Q_UL],
               NULL, 0, xl, yt, 0);
    gate_label(cv, pi, o->quad_name[CG_PLOT_Q_UR], o->quad_pct[CG_PLOT_Q_UR],
               NULL, 0, xr, yt, 0);
    gate_label(cv, pi, o->quad_name[CG_PLOT_Q_LL], o->quad_pct[CG_PLOT_Q_LL],
               NULL, 0, xl, yb, 1);
    gate_label(cv, pi, o->quad_name[CG_PLOT_Q_LR], o->quad_pct[CG_PLOT_Q_LR],
               NULL, 0, xr, yb, 1);
}

static void one_overlay(cgp_cv *cv, const cgp_pinfo *pi,
                        const cg_plot_overlay *o, int is1d)
{
    cairo_t *cr = cv->cr;
    const cg_plot_rect *a = &pi->area;
    double lw = fmax(1.5, 0.11 * cv->fs);
    double lx = a->x + a->w / 2.0, ly = a->y; /* label anchor */
    int above = 1;
    cairo_save(cr);
    cairo_rectangle(cr, a->x, a->y, a->w, a->h);
    cairo_clip(cr);
    cairo_new_path(cr);
    cgp_rgb(cr, CGP_GATE);
    cairo_set_line_width(cr, lw);
    switch (o->kind) {
    case CG_PLOT_OV_POLYGON:
    case CG_PLOT_OV_ELLIPSE:
        ov_closed(cv, pi, o, lw, &lx, &ly);
        break;
    case CG_PLOT_OV_RECT:
        ov_rect(cv, pi, o, lw, &lx, &ly);
        break;
    case CG_PLOT_OV_RANGE:
        ov_range(cv, pi, o, lw, &lx, &ly);
        break;
    case CG_PLOT_OV_QUADRANT: {
        double qx = mapx(pi, o->x0), qy = mapy(pi, o->y0);
        if (!is1d) {
            cairo_move_to(cr, qx, a->y);
            cairo_line_to(cr, qx, a->y + a->h);
            cairo_move_to(cr, a->x, qy);
            cairo_line_to(cr, a->x + a->w, qy);
            cairo_stroke(cr);
        }
        break;
    }
    case CG_PLOT_OV_NONE:
        break;
    }
    if (o->has_debris && isfinite(o->debris_x) && !is1d)
        ov_debris(cv, pi, o, lw);
    cairo_restore(cr);
    if (o->kind == CG_PLOT_OV_QUADRANT) {
        quad_labels(cv, pi, o);
        return;
    }
    /* label above the gate when there is room, else inside its top */
    if (o->kind != CG_PLOT_OV_RANGE && above && ly - 2.6 * cv->fs < a->y) {
        above = 0;
        ly = fmax(ly, a->y) + 0.6 * cv->fs;
    }
    char note[160];
    uint32_t note_rgb;
    cut_note(o, note, sizeof note, &note_rgb);
    gate_label(cv, pi, o->name, o->pct, note, note_rgb, lx, ly, above);
}

void cgp_draw_overlays(cgp_cv *cv, const cgp_pinfo *pi,
                       const cg_plot_panel *p)
{
    for (int i = 0; i < p->noverlays; i++)
        one_overlay(cv, pi, &p->overlays[i], p->y == NULL);
}

void cg_plot_overlay_cut(cg_plot_overlay *ov, int axis, int fell_back,
                         int overridden, const char *rule, double auto_cut)
{
    if (!ov || axis < 0 || axis > 1)
        return;
    ov->cut[axis] = overridden  ? CG_PLOT_CUT_OVERRIDE
                    : fell_back ? CG_PLOT_CUT_FALLBACK
                                : CG_PLOT_CUT_AUTO;
    ov->rule[axis] = rule;
    ov->auto_cut[axis] = overridden ? auto_cut : NAN;
}

int cg_plot_panels_flagged(const cg_plot_panel *panels, int n)
{
    for (int i = 0; panels && i < n; i++)
        for (int k = 0; k < panels[i].noverlays; k++) {
            const cg_plot_overlay *o = &panels[i].overlays[k];
            if (o->cut[0] != CG_PLOT_CUT_AUTO ||
                o->cut[1] != CG_PLOT_CUT_AUTO ||
                o->note_cut != CG_PLOT_CUT_AUTO)
                return 1;
        }
    return 0;
}

int cg_plot_ellipse_from_cov(cg_plot_overlay *ov, double mx, double my,
                             double cxx, double cxy, double cyy, double d2,
                             cg_err *err)
{
    double det = cxx * cyy - cxy * cxy;
    if (!(cxx > 0) || !(det > 0) || !(d2 > 0))
        return cg_err_set(err, CG_E_ARG,
                          "ellipse: covariance [[%g, %g], [%g, %g]] with "
                          "distance %g is not positive definite",
                          cxx, cxy, cxy, cyy, d2);
    /* eigen-decomposition of the symmetric 2x2 covariance */
    double tr = cxx + cyy, disc = sqrt(fmax(0, 0.25 * tr * tr - det));
    double l1 = 0.5 * tr + disc, l2 = 0.5 * tr - disc;
    double ang = 0.5 * atan2(2 * cxy, cxx - cyy);
    ov->kind = CG_PLOT_OV_ELLIPSE;
    ov->cx = mx;
    ov->cy = my;
    ov->rx = sqrt(d2 * l1);
    ov->ry = sqrt(d2 * fmax(l2, 0));
    ov->angle = ang;
    return 0;
}
