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
 * Threading: no shared state.
 */
#include <math.h>
#include <stdio.h>

#include "plot_internal.h"

static double clampd(double v, double a, double b)
{
    return v < a ? a : v > b ? b : v;
}

/* Gate label: bold name over the percentage, in a translucent white box.
 * (px, py) is the anchor: the box's bottom-centre when above != 0, its
 * top-centre otherwise; the box is moved inside the plot area. */
static void gate_label(cgp_cv *cv, const cgp_pinfo *pi, const char *name,
                       double pct, double px, double py, int above)
{
    char ptxt[32] = "";
    if (isfinite(pct))
        cgp_fmt_pct(ptxt, sizeof ptxt, pct);
    int has_name = name && *name, has_pct = ptxt[0] != '\0';
    if (!has_name && !has_pct)
        return;
    double fs = 0.9 * cv->fs, pad = 0.25 * cv->fs;
    double wn = has_name ? cgp_text_width(cv, name, fs, 1) : 0;
    double wp = has_pct ? cgp_text_width(cv, ptxt, fs, 0) : 0;
    double lh = 1.2 * fs;
    double bw = fmax(wn, wp) + 2 * pad;
    double bh = (has_name + has_pct) * lh + 1.2 * pad;
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
    case CG_PLOT_OV_ELLIPSE: {
        int n = o->kind == CG_PLOT_OV_POLYGON ? o->nv : 128;
        if (n < 2 || (o->kind == CG_PLOT_OV_POLYGON && (!o->vx || !o->vy)))
            break;
        double sx = 0, miny = INFINITY;
        for (int i = 0; i < n; i++) {
            double dx, dy;
            if (o->kind == CG_PLOT_OV_POLYGON) {
                dx = o->vx[i];
                dy = o->vy[i];
            } else {
                double t = 2 * M_PI * i / n, c = cos(o->angle),
                       s = sin(o->angle);
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
        cairo_stroke(cr);
        lx = sx / n;
        ly = miny - 0.3 * cv->fs;
        break;
    }
    case CG_PLOT_OV_RECT: {
        double x0 = mapx(pi, o->x0), x1 = mapx(pi, o->x1);
        double y0 = mapy(pi, o->y1), y1 = mapy(pi, o->y0); /* y0 top */
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        cairo_stroke(cr);
        double vx0 = clampd(x0, a->x, a->x + a->w),
               vx1 = clampd(x1, a->x, a->x + a->w);
        double vy0 = clampd(y0, a->y, a->y + a->h);
        lx = (vx0 + vx1) / 2;
        ly = vy0 - 0.3 * cv->fs;
        break;
    }
    case CG_PLOT_OV_RANGE: {
        double x0 = mapx(pi, o->x0), x1 = mapx(pi, o->x1);
        double by = a->y + 0.15 * a->h;
        if (isfinite(o->x0)) {
            cairo_move_to(cr, x0, a->y);
            cairo_line_to(cr, x0, a->y + a->h);
        }
        if (isfinite(o->x1)) {
            cairo_move_to(cr, x1, a->y);
            cairo_line_to(cr, x1, a->y + a->h);
        }
        cairo_stroke(cr);
        /* bracket: horizontal bar with end ticks, as FlowJo's range gate */
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
        lx = (vx0 + vx1) / 2;
        ly = by - 0.2 * cv->fs;
        break;
    }
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
    }
    cairo_restore(cr);
    if (o->kind == CG_PLOT_OV_QUADRANT) {
        double m = 0.4 * cv->fs;
        double xl = a->x + m + 3 * cv->fs, xr = a->x + a->w - m - 3 * cv->fs;
        double yt = a->y + m, yb = a->y + a->h - m;
        gate_label(cv, pi, o->quad_name[CG_PLOT_Q_UL],
                   o->quad_pct[CG_PLOT_Q_UL], xl, yt, 0);
        gate_label(cv, pi, o->quad_name[CG_PLOT_Q_UR],
                   o->quad_pct[CG_PLOT_Q_UR], xr, yt, 0);
        gate_label(cv, pi, o->quad_name[CG_PLOT_Q_LL],
                   o->quad_pct[CG_PLOT_Q_LL], xl, yb, 1);
        gate_label(cv, pi, o->quad_name[CG_PLOT_Q_LR],
                   o->quad_pct[CG_PLOT_Q_LR], xr, yb, 1);
        return;
    }
    /* label above the gate when there is room, else inside its top */
    if (o->kind != CG_PLOT_OV_RANGE && above && ly - 2.6 * cv->fs < a->y) {
        above = 0;
        ly = fmax(ly, a->y) + 0.6 * cv->fs;
    }
    gate_label(cv, pi, o->name, o->pct, lx, ly, above);
}

void cgp_draw_overlays(cgp_cv *cv, const cgp_pinfo *pi,
                       const cg_plot_panel *p)
{
    for (int i = 0; i < p->noverlays; i++)
        one_overlay(cv, pi, &p->overlays[i], p->y == NULL);
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
