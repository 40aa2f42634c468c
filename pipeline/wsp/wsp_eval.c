/*
 * wsp_eval.c -- one workspace sample as a cg_gatetree, evaluated on its
 * FCS file.
 *
 * Units.  FlowJo stores gate coordinates in compensated, untransformed
 * values (FCS scaled view: $PnG, log $PnE, Time x $TIMESTEP), except the
 * ellipse, whose foci and edge points are in the plot's 256 x 256 display
 * space (display = 256 x transformed / scale; scale 1 for logicle, fasinh
 * and log, 4096 for biex; linear spans minRange..maxRange).  A gate is a
 * shape on the plot, so:
 *   rectangle  min <= x < max on the compensated values (equal to the
 *              transformed test for every event but exact ties, and not
 *              clipped at the top of a biex scale);
 *   polygon    events and vertices both transformed (FlowJo's transform
 *              of each axis), even-odd rule;
 *   ellipse    foci -> centre and major axis, the first edge point -> the
 *              half-length a, b = sqrt(a^2 - c^2) (c: centre to focus),
 *              mapped from display space to each axis's transformed scale
 *              (an affine map per axis keeps it an ellipse);
 *   boolean    And/Or/Not of the Dependents (population paths), within
 *              the node's parent;
 *   eventsInside="0"  the parent's events outside the shape.
 * Compensation: dimensions named with the matrix's prefix/suffix read the
 * matrix; an "Acquisition-defined" matrix is the file's own $SPILLOVER
 * (FlowJo's copy in the workspace is rounded) when the file has one.
 *
 * Population ids in the tree are the workspace paths, so the gate tree's
 * messages name populations as FlowJo does.  Threading: builds and frees
 * its own objects; nothing shared.
 */
#include "wsp.h"
#include "wsp_eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comp.h"
#include "dims.h"
#include "fcs.h"
#include "frame.h"
#include "gate.h"

#define MATRIX_ID "wsp"

cg_matrix *cg_wsp_sample_matrix(const cg_wsp_sample *s)
{
    const cg_wsp_matrix *wm = s->comp;
    if (!wm)
        return NULL;
    cg_matrix *m = cg_matrix_new(wm->n, wm->n);
    if (!m)
        return NULL;
    for (int i = 0; i < wm->n; i++) {
        m->row[i] = strdup(wm->param[i]);
        m->col[i] = strdup(wm->param[i]);
        if (!m->row[i] || !m->col[i]) {
            cg_matrix_free(m);
            return NULL;
        }
    }
    memcpy(m->v, wm->v, (size_t)wm->n * (size_t)wm->n * sizeof *m->v);
    return m;
}

static int pop_fail(cg_err *err, const cg_wsp_pop *p, const char *msg)
{
    return cg_err_setl(err, CG_E_ARG, p->line, "population '%s' (line %d): %s",
                       p->path, p->line, msg);
}

/* Dimension i of p: channel, compensation and (transformed) the sample's
 * transform.  *xfo (may be NULL) receives the transform (owned) used. */
static int make_dim(const cg_wsp_sample *s, const cg_wsp_pop *p, int i,
                    int use_fcs_spill, int transformed, cg_dim *d,
                    cg_xform **xfo, const cg_wsp_xf **wxo, cg_err *err)
{
    char buf[256];
    int comp;
    const char *ch = cg_wsp_dim_channel(s, p->dims[i].name, &comp, buf,
                                        sizeof buf);
    cg_dim_init(d);
    if (xfo)
        *xfo = NULL;
    if (wxo)
        *wxo = NULL;
    if (cg_dim_set_channel(d, ch, comp ? (use_fcs_spill ? CG_COMP_FCS
                                                        : CG_COMP_MATRIX)
                                       : CG_COMP_NONE,
                           comp && !use_fcs_spill ? MATRIX_ID : NULL,
                           err) < 0)
        return -1;
    if (!transformed)
        return 0;
    const cg_wsp_xf *wx = cg_wsp_sample_xf(s, p->dims[i].name);
    if (wxo)
        *wxo = wx;
    if (!wx)
        return 0;
    cg_err e2;
    cg_xform *xf = cg_wsp_xform(wx, NULL, &e2);
    if (!xf) {
        char msg[300];
        snprintf(msg, sizeof msg, "transform of '%s' (line %d): %s",
                 p->dims[i].name, wx->line, e2.msg);
        return pop_fail(err, p, msg);
    }
    /* FlowJo's log puts values below the offset at 0 */
    int rc = cg_dim_set_xform(d, xf, wx->kind == CG_WSP_XF_LOG ? 0 : -INFINITY,
                              INFINITY, NULL, err);
    if (rc < 0 || !xfo)
        cg_xform_free(xf);
    else
        *xfo = xf;
    return rc < 0 ? -1 : 0;
}

static double fwd_vertex(const cg_xform *xf, const cg_wsp_xf *wx, double v)
{
    if (!xf)
        return v;
    if (wx && wx->kind == CG_WSP_XF_LOG && v < wx->offset)
        v = wx->offset;
    return cg_xform_fwd1(xf, v);
}

/* Display = k * g + o for an axis whose gating value g is xf(x). */
static int display_map(const cg_wsp_xf *wx, double *k, double *o)
{
    if (!wx)
        return -1;
    if (wx->kind == CG_WSP_XF_LINEAR) {
        if (!(wx->max > wx->min))
            return -1;
        *k = 256.0 / (wx->max - wx->min);
        *o = -256.0 * wx->min / (wx->max - wx->min);
        return 0;
    }
    *k = wx->kind == CG_WSP_XF_BIEX ? 256.0 / 4096.0 : 256.0;
    *o = 0;
    return 0;
}

/* Ellipse of a FlowJo EllipsoidGate, in display space: centre, half-axes
 * and the unit major direction.  0 or -1 (degenerate). */
int cg_wsp_ellipse_geometry(const double foci[4], const double edge[8],
                            double c[2], double *a, double *b, double u[2])
{
    c[0] = (foci[0] + foci[2]) / 2;
    c[1] = (foci[1] + foci[3]) / 2;
    double fx = foci[2] - c[0], fy = foci[3] - c[1];
    double fd = hypot(fx, fy);
    double e0 = hypot(edge[0] - c[0], edge[1] - c[1]);
    double e1 = hypot(edge[2] - c[0], edge[3] - c[1]);
    double e2 = hypot(edge[4] - c[0], edge[5] - c[1]);
    double e3 = hypot(edge[6] - c[0], edge[7] - c[1]);
    /* edge points 1-2 lie on the major axis, 3-4 on the minor one */
    double A = fmax(fmax(e0, e1), fmax(e2, e3));
    if (!(A > 0) || !isfinite(A))
        return -1;
    if (fd > 0) {
        u[0] = fx / fd;
        u[1] = fy / fd;
    } else {
        u[0] = 1;
        u[1] = 0;
    }
    *a = A;
    double b2 = A * A - fd * fd;
    *b = fd > 0 ? sqrt(b2 > 0 ? b2 : 0) : fmin(fmin(e0, e1), fmin(e2, e3));
    if (!(*b > 0))
        return -1;
    return 0;
}

static int add_shape(cg_gatetree *t, const cg_wsp_sample *s,
                     const cg_wsp_pop *p, const char *id, const char *parent,
                     int use_fcs_spill, cg_err *err)
{
    int nd = p->ndim;
    cg_dim dims[16];
    cg_xform *xf[16];
    const cg_wsp_xf *wx[16];
    if (nd > 16)
        return pop_fail(err, p, "more than 16 dimensions");
    int transformed = p->kind != CG_WSP_RECT;
    int made = 0, rc = -1;
    cg_gate *g = NULL;
    for (; made < nd; made++)
        if (make_dim(s, p, made, use_fcs_spill, transformed, &dims[made],
                     &xf[made], &wx[made], err) < 0)
            goto out;
    if (p->kind == CG_WSP_RECT) {
        double mn[16], mx[16];
        for (int i = 0; i < nd; i++) {
            mn[i] = isnan(p->dims[i].min) ? -INFINITY : p->dims[i].min;
            mx[i] = isnan(p->dims[i].max) ? INFINITY : p->dims[i].max;
            if (!(mn[i] < mx[i])) {
                pop_fail(err, p, "empty rectangle (min >= max)");
                goto out;
            }
        }
        g = cg_gate_rect_new(id, nd, dims, mn, mx, err);
    } else if (p->kind == CG_WSP_POLYGON) {
        double *xy = malloc((size_t)p->nv * 2 * sizeof *xy);
        if (!xy) {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto out;
        }
        for (int k = 0; k < p->nv; k++)
            for (int j = 0; j < 2; j++)
                xy[2 * k + j] = fwd_vertex(xf[j], wx[j], p->xy[2 * k + j]);
        g = cg_gate_polygon_new(id, dims, p->nv, xy, err);
        free(xy);
    } else {
        double c[2], a, b, u[2], k[2], o[2];
        if (cg_wsp_ellipse_geometry(p->foci, p->edge, c, &a, &b, u) < 0) {
            pop_fail(err, p, "degenerate ellipse (zero axis)");
            goto out;
        }
        for (int j = 0; j < 2; j++)
            if (display_map(wx[j], &k[j], &o[j]) < 0) {
                char msg[300];
                snprintf(msg, sizeof msg, "ellipse axis '%s' has no usable "
                         "transform (its display scale is unknown)",
                         p->dims[j].name);
                pop_fail(err, p, msg);
                goto out;
            }
        /* display covariance R diag(a^2, b^2) R' with R = [u, u_perp] */
        double a2 = a * a, b2 = b * b;
        double cd[4] = {u[0] * u[0] * a2 + u[1] * u[1] * b2,
                        u[0] * u[1] * (a2 - b2), u[0] * u[1] * (a2 - b2),
                        u[1] * u[1] * a2 + u[0] * u[0] * b2};
        double mean[2], cov[4];
        for (int i = 0; i < 2; i++) {
            mean[i] = (c[i] - o[i]) / k[i];
            for (int j = 0; j < 2; j++)
                cov[2 * i + j] = cd[2 * i + j] / (k[i] * k[j]);
        }
        g = cg_gate_ellipse_new(id, 2, dims, mean, cov, 1.0, err);
    }
    if (!g) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", err->msg);
        pop_fail(err, p, msg);
        goto out;
    }
    rc = cg_gatetree_add(t, g, parent, err);
out:
    for (int i = 0; i < made; i++) {
        cg_dim_clear(&dims[i]);
        cg_xform_free(xf[i]);
    }
    return rc;
}

/* Index of the population a Dependent names: its full path, else the one
 * population whose path ends with "/name" or whose name it is. */
static int find_dep(const cg_wsp_sample *s, const char *dep)
{
    for (int i = 0; i < s->npops; i++)
        if (strcmp(s->pops[i].path, dep) == 0)
            return i;
    int hit = -1;
    size_t ld = strlen(dep);
    for (int i = 0; i < s->npops; i++) {
        const char *pp = s->pops[i].path;
        size_t lp = strlen(pp);
        if (strcmp(s->pops[i].name, dep) == 0 ||
            (lp > ld && pp[lp - ld - 1] == '/' && strcmp(pp + lp - ld, dep) == 0)) {
            if (hit >= 0)
                return -2;
            hit = i;
        }
    }
    return hit;
}

cg_gatetree *cg_wsp_sample_tree(const cg_wsp_sample *s, int use_fcs_spill,
                                cg_err *err)
{
    cg_gatetree *t = cg_gatetree_new();
    if (!t) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    if (s->comp && !use_fcs_spill) {
        cg_matrix *wm = cg_wsp_sample_matrix(s);
        if (!wm) {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto fail;
        }
        if (cg_gatetree_add_matrix(t, MATRIX_ID, wm, 0, err) < 0)
            goto fail;
    }
    for (int i = 0; i < s->npops; i++) {
        const cg_wsp_pop *p = &s->pops[i];
        const char *parent = p->parent >= 0 ? s->pops[p->parent].path : NULL;
        if (cg_gatetree_find(t, p->path) >= 0) {
            pop_fail(err, p, "two populations with this path");
            goto fail;
        }
        if (p->kind >= CG_WSP_AND) {
            const char *refs[64];
            if (p->ndeps > 64) {
                pop_fail(err, p, "more than 64 Dependents");
                goto fail;
            }
            for (int k = 0; k < p->ndeps; k++) {
                int d = find_dep(s, p->deps[k]);
                if (d < 0) {
                    char msg[300];
                    snprintf(msg, sizeof msg, "Dependent '%s' %s",
                             p->deps[k], d == -2 ? "is ambiguous"
                                                 : "names no population");
                    pop_fail(err, p, msg);
                    goto fail;
                }
                refs[k] = s->pops[d].path;
            }
            static const cg_bool_op ops[] = {CG_BOOL_AND, CG_BOOL_OR,
                                             CG_BOOL_NOT};
            cg_gate *g = cg_gate_bool_new(p->path, ops[p->kind - CG_WSP_AND],
                                          p->ndeps, refs, NULL, err);
            if (!g || cg_gatetree_add(t, g, parent, err) < 0)
                goto fail;
            continue;
        }
        if (!p->complement) {
            if (add_shape(t, s, p, p->path, parent, use_fcs_spill, err) < 0)
                goto fail;
            continue;
        }
        /* outside the shape: NOT of a hidden inner population */
        size_t len = strlen(p->path) + 16;
        char *inner = malloc(len);
        if (!inner) {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto fail;
        }
        snprintf(inner, len, "%s\x1finside", p->path);
        const char *ref = inner;
        int rc = add_shape(t, s, p, inner, parent, use_fcs_spill, err);
        cg_gate *g = rc < 0 ? NULL
                            : cg_gate_bool_new(p->path, CG_BOOL_NOT, 1, &ref,
                                               NULL, err);
        free(inner);
        if (!g || cg_gatetree_add(t, g, parent, err) < 0)
            goto fail;
    }
    if (cg_gatetree_check(t, err) < 0)
        goto fail;
    return t;
fail:
    cg_gatetree_free(t);
    return NULL;
}

/* ---- finding the FCS file ---------------------------------------------- */

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* URI -> local path (file: scheme stripped, %XX decoded). */
static void uri_path(const char *uri, char *out, size_t n)
{
    const char *p = uri;
    if (strncmp(p, "file:", 5) == 0) {
        p += 5;
        if (strncmp(p, "///", 3) == 0)
            p += 2;      /* file:///abs */
        else if (strncmp(p, "//localhost/", 12) == 0)
            p += 11;
    }
    size_t k = 0;
    for (; *p && k + 1 < n; p++) {
        int h, l;
        if (*p == '%' && (h = hexv(p[1])) >= 0 && (l = hexv(p[2])) >= 0) {
            out[k++] = (char)(h * 16 + l);
            p += 2;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = 0;
}

static const char *base_name(const char *p)
{
    const char *b = p;
    for (const char *q = p; *q; q++)
        if (*q == '/' || *q == '\\')
            b = q + 1;
    return b;
}

int cg_wsp_find_fcs(const cg_wsp *w, const cg_wsp_sample *s,
                    const char *fcs_dir, char *out, size_t n, char *tried,
                    size_t ntried)
{
    char up[4096] = "";
    size_t tl = 0;
    if (tried && ntried)
        tried[0] = 0;
#define TRY(path)                                                            \
    do {                                                                     \
        if (is_file(path)) {                                                 \
            snprintf(out, n, "%s", path);                                    \
            return 0;                                                        \
        }                                                                    \
        if (tried && tl + 1 < ntried) {                                      \
            int wr = snprintf(tried + tl, ntried - tl, "%s%s",               \
                              tl ? ", " : "", path);                         \
            if (wr > 0)                                                      \
                tl += (size_t)wr < ntried - tl ? (size_t)wr : ntried - tl - 1; \
        }                                                                    \
    } while (0)
    if (s->uri) {
        uri_path(s->uri, up, sizeof up);
        if (up[0])
            TRY(up);
    }
    char wdir[4096];
    snprintf(wdir, sizeof wdir, "%s", w->path);
    char *sl = strrchr(wdir, '/');
    if (sl)
        *sl = 0;
    else
        snprintf(wdir, sizeof wdir, ".");
    const char *dirs[2] = {fcs_dir, wdir};
    const char *names[3] = {up[0] ? base_name(up) : NULL,
                            s->fil ? base_name(s->fil) : NULL, s->name};
    for (int d = 0; d < 2; d++) {
        if (!dirs[d])
            continue;
        for (int k = 0; k < 3; k++) {
            if (!names[k] || !names[k][0])
                continue;
            int dup = 0;
            for (int j = 0; j < k; j++)
                dup |= names[j] && strcmp(names[j], names[k]) == 0;
            if (dup)
                continue;
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", dirs[d], names[k]);
            TRY(p);
        }
    }
#undef TRY
    return -1;
}

/* ---- evaluation -------------------------------------------------------- */

int cg_wsp_eval_sample(const cg_wsp_sample *s, const char *fcs_path,
                       cg_wsp_counts *res, cg_err *err)
{
    memset(res, 0, sizeof *res);
    res->total = -1;
    res->count = malloc((size_t)(s->npops ? s->npops : 1) *
                        sizeof *res->count);
    if (!res->count)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    for (int i = 0; i < s->npops; i++)
        res->count[i] = -1;
    fcs_err fe;
    fcs_file *f = fcs_open(fcs_path, NULL, &fe);
    if (!f)
        return cg_err_set(err, fe.code ? fe.code : CG_E_IO, "%s: %s",
                          fcs_path, fe.msg);
    cg_frame *fr = cg_frame_from_fcs(f, FCS_SCALED, err);
    fcs_spill *sp = NULL;
    int rc = -1;
    cg_matrix *fspill = NULL;
    cg_gatetree *t = NULL;
    cg_dims *dc = NULL;
    cg_members *m = NULL;
    if (!fr) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cg_err_set(err, err->code, "%s: %s", fcs_path, msg);
        goto out;
    }
    if (fcs_spillover(f, &sp, &fe) < 0) {
        cg_err_set(err, fe.code, "%s: %s", fcs_path, fe.msg);
        goto out;
    }
    if (sp && !(fspill = cg_matrix_from_spill(sp))) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    int acq = s->comp && strcmp(s->comp->name, "Acquisition-defined") == 0;
    int use_fcs = acq && fspill;
    res->comp = !s->comp ? CG_WSP_COMP_NONE
                         : use_fcs ? CG_WSP_COMP_FILE : CG_WSP_COMP_WSP;
    if (acq && !fspill)
        res->acq_without_spill = 1;
    if (!(t = cg_wsp_sample_tree(s, use_fcs, err)))
        goto out;
    if (!(dc = cg_dims_new(fr, fspill, err)))
        goto out;
    if (!(m = cg_members_new(fr->n))) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    if (cg_gatetree_eval(t, dc, m, err) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cg_err_set(err, err->code, "%s: %s", fcs_path, msg);
        goto out;
    }
    res->total = fr->n;
    for (int i = 0; i < s->npops; i++) {
        int p = cg_gatetree_find(t, s->pops[i].path);
        res->count[i] = p >= 0 ? cg_members_count(m, p) : -1;
    }
    rc = 0;
out:
    cg_members_free(m);
    cg_dims_free(dc);
    cg_gatetree_free(t);
    cg_matrix_free(fspill);
    fcs_spill_free(sp);
    cg_frame_free(fr);
    fcs_close(f);
    return rc;
}

void cg_wsp_counts_clear(cg_wsp_counts *c)
{
    if (!c)
        return;
    free(c->count);
    c->count = NULL;
}

int cg_wsp_verdict(int64_t ours, int64_t stored)
{
    if (ours < 0)
        return CG_WSP_NA;
    if (stored < 0 || (stored == 0 && ours != 0))
        return CG_WSP_NOT_STORED;
    double tol = fmax(1.0, 0.001 * (double)stored);
    return fabs((double)(ours - stored)) <= tol ? CG_WSP_MATCH : CG_WSP_DIFF;
}
