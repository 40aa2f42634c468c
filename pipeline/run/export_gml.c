/*
 * export_gml.c -- Gating-ML 2.0 export of one sample of a run
 * (`cytogate run --export-gatingml`).
 *
 * The run's own gate tree is gone once a sample is processed, so the
 * export rebuilds it from what the result records, the same way
 * run.c's build_gate built it: thresholds as half-open rectangles in the
 * units they were placed in (min <= x < max; a cut that could not be set
 * selects nothing: min = DBL_MAX), scatter polygons on the transformed
 * scatter dims, singlets polygons on raw scatter, fixed gates as written.
 * Dimensions carry the compensation the run applied -- the file's
 * spillover (compensation-ref="FCS"), a CSV matrix (a spectrumMatrix named
 * "comp", rows and columns named by channel) or none -- and the marker's
 * transform with this sample's logicle T, W, M (arcsinh, log, linear as
 * configured).  Channels not in the matrix stay uncompensated, as in the
 * run.  The tree is written by cg_gatingml_write_mem, so numbers read back
 * to the same doubles and `cytogate gate` reproduces the run's counts.
 *
 * Left out, each with an XML comment: NA gates and their descendants,
 * dropped optional dimensions, gates on a scatter transform whose
 * per-sample parameters the result does not record (scatter logicle with
 * W: auto).  Events excluded by QC (exclude_time_anomalies) are noted:
 * `gate` counts every event of the file.
 *
 * Threading: no shared state; reads ctx and the result only.
 */
#include "export_gml.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gatingml.h"
#include "gatetree.h"
#include "run_internal.h"
#include "util.h"

#define MAT_ID "comp"

/* Growable text for the comments. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    /* "--" may not appear inside an XML comment */
    for (int k = 1; k < n; k++)
        if (tmp[k] == '-' && tmp[k - 1] == '-')
            tmp[k] = '_';
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 512) + (size_t)n;
        char *p = realloc(b->s, nc);
        if (!p)
            return;
        b->s = p;
        b->cap = nc;
    }
    memcpy(b->s + b->len, tmp, (size_t)n);
    b->len += (size_t)n;
    b->s[b->len] = '\0';
}

typedef struct ex {
    const cg_run_ctx *ctx;
    const cg_config *cfg;
    const cg_result *r;
    cg_comp_ref comp;
    cg_dim *mk, *mk_raw, *role, *role_raw; /* per marker / role */
    unsigned char *mk_ok, *role_ok, *role_tf_ok;
    cg_xform **own;                         /* transforms built here */
    int nown;
    sbuf notes;
} ex;

/* The transform the run used for marker m (m >= 0) or scatter (m < 0):
 * the context's shared one, or rebuilt from the recorded T/W/M.  NULL
 * when it cannot be known (scatter logicle with per-sample parameters). */
static const cg_xform *tf_for(ex *x, int m, cg_err *err)
{
    const cg_tf_spec *t = cg_config_tf(x->cfg, m);
    ptrdiff_t k = t - x->cfg->tf;
    if (x->ctx->tf_xf && k >= 0 && k < x->ctx->ntf_xf && x->ctx->tf_xf[k])
        return x->ctx->tf_xf[k];
    cg_xform *xf = NULL;
    if (t->type == CG_TF_LOGICLE) {
        if (m < 0 || !x->r->marker_tf)
            return NULL;
        const cg_tf_used *u = &x->r->marker_tf[m];
        if (!isfinite(u->T) || !isfinite(u->W) || !isfinite(u->M))
            return NULL;
        cg_xform_params p;
        memset(&p, 0, sizeof p);
        p.T = u->T;
        p.W = u->W;
        p.M = u->M;
        p.A = t->A;
        xf = cg_xform_new(CG_XF_LOGICLE, &p, err);
    } else {
        xf = cg_run_xform(t, NAN, err);
    }
    if (!xf)
        return NULL;
    cg_xform **o = realloc(x->own, (size_t)(x->nown + 1) * sizeof *o);
    if (!o) {
        cg_xform_free(xf);
        return NULL;
    }
    x->own = o;
    x->own[x->nown++] = xf;
    return xf;
}

static int setup(ex *x, cg_err *err)
{
    const cg_config *cfg = x->cfg;
    int nm = cfg->nmarkers, nr = cfg->nscatter;
    x->mk = calloc((size_t)nm + 1, sizeof *x->mk);
    x->mk_raw = calloc((size_t)nm + 1, sizeof *x->mk_raw);
    x->role = calloc((size_t)nr + 1, sizeof *x->role);
    x->role_raw = calloc((size_t)nr + 1, sizeof *x->role_raw);
    x->mk_ok = calloc((size_t)nm + 1, 1);
    x->role_ok = calloc((size_t)nr + 1, 1);
    x->role_tf_ok = calloc((size_t)nr + 1, 1);
    if (!x->mk || !x->mk_raw || !x->role || !x->role_raw || !x->mk_ok ||
        !x->role_ok || !x->role_tf_ok)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    const char *cid = x->comp == CG_COMP_MATRIX ? MAT_ID : NULL;
    for (int m = 0; m < nm; m++) {
        cg_dim_init(&x->mk[m]);
        cg_dim_init(&x->mk_raw[m]);
        if (!x->r->marker_pnn || !x->r->marker_pnn[m])
            continue;
        const cg_xform *xf = tf_for(x, m, err);
        if (!xf)
            return cg_err_set(err, CG_E_ARG, "marker %s: the transform "
                              "used cannot be rebuilt", cfg->markers[m].name);
        if (cg_dim_set_channel(&x->mk[m], x->r->marker_pnn[m], x->comp, cid,
                               err) < 0 ||
            cg_dim_set_xform(&x->mk[m], xf, -INFINITY, INFINITY, NULL,
                             err) < 0 ||
            cg_dim_set_channel(&x->mk_raw[m], x->r->marker_pnn[m], x->comp,
                               cid, err) < 0)
            return -1;
        x->mk_ok[m] = 1;
    }
    const cg_xform *sxf = tf_for(x, -1, err);
    for (int i = 0; i < nr; i++) {
        cg_dim_init(&x->role[i]);
        cg_dim_init(&x->role_raw[i]);
        if (!x->r->role_pnn || !x->r->role_pnn[i])
            continue;
        if (cg_dim_set_channel(&x->role_raw[i], x->r->role_pnn[i], x->comp,
                               cid, err) < 0 ||
            cg_dim_set_channel(&x->role[i], x->r->role_pnn[i], x->comp, cid,
                               err) < 0)
            return -1;
        if (sxf) {
            if (cg_dim_set_xform(&x->role[i], sxf, -INFINITY, INFINITY, NULL,
                                 err) < 0)
                return -1;
            x->role_tf_ok[i] = 1;
        }
        x->role_ok[i] = 1;
    }
    return 0;
}

/* The dimension a gate coordinate names, or NULL (with *why). */
static const cg_dim *dim_of(ex *x, const char *name, int raw,
                            const char **why)
{
    int m = cg_config_marker(x->cfg, name);
    if (m >= 0) {
        if (!x->mk_ok[m]) {
            *why = "marker not in the file";
            return NULL;
        }
        return raw ? &x->mk_raw[m] : &x->mk[m];
    }
    int i = cg_config_role(x->cfg, name);
    if (i >= 0 && x->role_ok[i]) {
        if (raw)
            return &x->role_raw[i];
        if (!x->role_tf_ok[i]) {
            *why = "the per-sample scatter transform is not recorded";
            return NULL;
        }
        return &x->role[i];
    }
    *why = "channel not in the file";
    return NULL;
}

/* The gate for config gate gi, or NULL with *why (not exportable) or err
 * set (err->code != 0). */
static cg_gate *make_gate(ex *x, int gi, const char **why, cg_err *err)
{
    const cg_gate_spec *g = &x->cfg->gates[gi];
    const cg_pop_result *pr = &x->r->pops[gi];
    cg_dim dims[2];
    const cg_dim *d0, *d1;
    switch (g->type) {
    case CG_GS_THRESHOLD:
    case CG_GS_RANGE:
    case CG_GS_RECTANGLE: {
        int nd = g->ndims, k = 0;
        cg_dim *dv = calloc((size_t)nd + 1, sizeof *dv);
        double *mn = calloc((size_t)nd + 1, sizeof *mn);
        double *mx = calloc((size_t)nd + 1, sizeof *mx);
        cg_gate *out = NULL;
        if (!dv || !mn || !mx) {
            cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto rect_done;
        }
        for (int d = 0; d < nd; d++) {
            const cg_dim_spec *ds = &g->dims[d];
            const cg_thr_info *ti = pr->thr && d < pr->nthr ? &pr->thr[d]
                                                            : NULL;
            if (ti && !strcmp(ti->rule, "dropped")) {
                sb_printf(&x->notes, "  gate %s: dimension %s dropped "
                          "(optional marker not in the file)\n", g->name,
                          ds->marker);
                continue;
            }
            const cg_dim *dm = dim_of(x, ds->marker, g->raw_units, why);
            if (!dm)
                goto rect_done;
            double t = ti ? ti->threshold : NAN;
            if (ds->method != CG_TM_INTERVAL && !isfinite(t))
                sb_printf(&x->notes, "  gate %s: no cut on %s (%s); the "
                          "gate selects nothing\n", g->name, ds->marker,
                          ti && ti->reason[0] ? ti->reason : "NA");
            cg_run_dim_bounds(ds, t, &mn[k], &mx[k]);
            dv[k++] = *dm; /* shallow: the dims belong to x */
        }
        if (k == 0) {
            *why = "no dimension left";
            goto rect_done;
        }
        out = cg_gate_rect_new(g->name, k, dv, mn, mx, err);
    rect_done:
        free(dv);
        free(mn);
        free(mx);
        return out;
    }
    case CG_GS_SCATTER:
    case CG_GS_SINGLETS: {
        int raw = g->type == CG_GS_SINGLETS;
        if (!(d0 = dim_of(x, g->x, raw, why)) ||
            !(d1 = dim_of(x, g->y, raw, why)))
            return NULL;
        dims[0] = *d0;
        dims[1] = *d1;
        if (pr->nvert < 3 || !pr->vx || !pr->vy) {
            sb_printf(&x->notes, "  gate %s: no polygon (%s); the gate "
                      "selects nothing\n", g->name,
                      pr->reason[0] ? pr->reason : pr->rule);
            double mn[2] = {DBL_MAX, DBL_MAX}, mx[2] = {INFINITY, INFINITY};
            return cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
        }
        return cg_gate_polygon_new_xy(g->name, dims, pr->nvert, pr->vx,
                                      pr->vy, err);
    }
    case CG_GS_POLYGON:
    case CG_GS_ELLIPSE:
    case CG_GS_QUADRANT: {
        if (!(d0 = dim_of(x, g->x, g->raw_units, why)) ||
            !(d1 = dim_of(x, g->y, g->raw_units, why)))
            return NULL;
        dims[0] = *d0;
        dims[1] = *d1;
        if (g->type == CG_GS_POLYGON)
            return cg_gate_polygon_new_xy(g->name, dims, g->nvert, g->vx,
                                          g->vy, err);
        if (g->type == CG_GS_ELLIPSE) {
            /* as run.c: C = R diag(a^2, b^2) R', D^2 = 1 */
            double th = g->angle * M_PI / 180.0, c = cos(th), s = sin(th);
            double a2 = g->ra * g->ra, b2 = g->rb * g->rb;
            double cov[4] = {c * c * a2 + s * s * b2, c * s * (a2 - b2),
                             c * s * (a2 - b2), s * s * a2 + c * c * b2};
            double mean[2] = {g->cx, g->cy};
            return cg_gate_ellipse_new(g->name, 2, dims, mean, cov, 1.0, err);
        }
        double mn[2] = {g->qxpos ? g->qx : -INFINITY,
                        g->qypos ? g->qy : -INFINITY};
        double mx[2] = {g->qxpos ? INFINITY : g->qx,
                        g->qypos ? INFINITY : g->qy};
        return cg_gate_rect_new(g->name, 2, dims, mn, mx, err);
    }
    case CG_GS_BOOLEAN: {
        const char *refs[64];
        int nref = g->nof < 64 ? g->nof : 64;
        for (int k = 0; k < nref; k++)
            refs[k] = x->cfg->gates[g->of[k]].name;
        static const cg_bool_op ops[] = {CG_BOOL_AND, CG_BOOL_OR,
                                         CG_BOOL_NOT};
        return cg_gate_bool_new(g->name, ops[g->op], nref, refs, NULL, err);
    }
    }
    *why = "unknown gate type";
    return NULL;
}

static void ex_clear(ex *x)
{
    for (int m = 0; x->mk && m < x->cfg->nmarkers; m++) {
        cg_dim_clear(&x->mk[m]);
        cg_dim_clear(&x->mk_raw[m]);
    }
    for (int i = 0; x->role && i < x->cfg->nscatter; i++) {
        cg_dim_clear(&x->role[i]);
        cg_dim_clear(&x->role_raw[i]);
    }
    free(x->mk);
    free(x->mk_raw);
    free(x->role);
    free(x->role_raw);
    free(x->mk_ok);
    free(x->role_ok);
    free(x->role_tf_ok);
    for (int k = 0; k < x->nown; k++)
        cg_xform_free(x->own[k]);
    free(x->own);
    free(x->notes.s);
}

int cg_export_gml_mem(const cg_run_ctx *ctx, int i, const cg_result *r,
                      char **out, cg_err *err)
{
    *out = NULL;
    const cg_config *cfg = ctx->cfg;
    const cg_sample *s = &ctx->sheet->s[i];
    ex x;
    memset(&x, 0, sizeof x);
    x.ctx = ctx;
    x.cfg = cfg;
    x.r = r;
    cg_gatetree *t = cg_gatetree_new();
    int rc = -1;
    char *xml = NULL;
    size_t nxml = 0;
    if (!t) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }

    /* the compensation the run applied (run.c decides it the same way) */
    int mode = cfg->comp_mode;
    const char *csv = cfg->comp_path;
    if (s->compensation) {
        if (!strcasecmp(s->compensation, "file"))
            mode = CG_CMP_FILE;
        else if (!strcasecmp(s->compensation, "none"))
            mode = CG_CMP_NONE;
        else {
            mode = CG_CMP_CSV;
            csv = s->compensation;
        }
    }
    sb_printf(&x.notes, "  sample %s, file %s\n", s->sample_id,
              s->file_given ? s->file_given : s->file);
    sb_printf(&x.notes, "  compensation: %s\n", r->comp_source);
    if (mode == CG_CMP_FILE && strncmp(r->comp_source, "none", 4) != 0) {
        x.comp = CG_COMP_FCS;
    } else if (mode == CG_CMP_CSV) {
        cg_matrix *m = !s->compensation && ctx->comp_csv
                           ? cg_matrix_copy(ctx->comp_csv)
                           : cg_matrix_read_csv(csv, err);
        if (!m) {
            if (!err->code)
                cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto done;
        }
        if (cg_gatetree_add_matrix(t, MAT_ID, m, 0, err) < 0)
            goto done;
        x.comp = CG_COMP_MATRIX;
    } else {
        x.comp = CG_COMP_NONE;
    }
    if (r->events_used != r->events)
        sb_printf(&x.notes, "  QC excluded %lld of %lld events from gating; "
                  "these gates applied to the whole file count them too\n",
                  (long long)(r->events - r->events_used),
                  (long long)r->events);
    if (setup(&x, err) < 0)
        goto done;

    /* gates in config order (parents come first); a left-out gate takes
     * its descendants and the booleans using it along */
    unsigned char *left = calloc((size_t)cfg->ngates + 1, 1);
    if (!left) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int gi = 0; gi < cfg->ngates; gi++) {
        const cg_gate_spec *g = &cfg->gates[gi];
        const cg_pop_result *pr = &r->pops[gi];
        if (pr->count < 0) {
            sb_printf(&x.notes, "  gate %s: NA (%s); left out\n", g->name,
                      pr->na_reason[0] ? pr->na_reason : "not evaluated");
            left[gi] = 1;
            continue;
        }
        const char *why = NULL;
        if (g->parent >= 0 && left[g->parent])
            why = "its parent is left out";
        for (int k = 0; !why && g->type == CG_GS_BOOLEAN && k < g->nof; k++)
            if (left[g->of[k]])
                why = "an operand is left out";
        cg_gate *gate = NULL;
        if (!why) {
            memset(err, 0, sizeof *err);
            gate = make_gate(&x, gi, &why, err);
            if (!gate && !why) {
                free(left);
                goto done;
            }
        }
        if (!gate) {
            sb_printf(&x.notes, "  gate %s: not exported (%s)\n", g->name,
                      why);
            left[gi] = 1;
            continue;
        }
        if (cg_gatetree_add(t, gate, g->parent >= 0
                                         ? cfg->gates[g->parent].name
                                         : NULL, err) < 0) {
            free(left);
            goto done;
        }
    }
    free(left);
    if (cg_gatingml_write_mem(t, &xml, &nxml, err) < 0)
        goto done;

    /* the notes as a comment before the root element */
    const char *root = strstr(xml, "?>");
    size_t head = root ? (size_t)(root - xml) + 2 : 0;
    const char *intro = "\n<!-- cytogate run, export of the gates placed\n";
    size_t nn = x.notes.len, ni = strlen(intro);
    char *doc = malloc(nxml + ni + nn + 16);
    if (!doc) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    size_t o = 0;
    memcpy(doc, xml, head);
    o = head;
    memcpy(doc + o, intro, ni);
    o += ni;
    if (nn) {
        memcpy(doc + o, x.notes.s, nn);
        o += nn;
    }
    memcpy(doc + o, "-->", 3);
    o += 3;
    if (xml[head] != '\n')
        doc[o++] = '\n';
    memcpy(doc + o, xml + head, nxml - head);
    o += nxml - head;
    doc[o] = '\0';
    *out = doc;
    rc = 0;
done:
    free(xml);
    ex_clear(&x);
    cg_gatetree_free(t);
    return rc;
}

int cg_export_gml_sample(const cg_run_ctx *ctx, int i, const cg_result *r,
                         const char *dir, cg_err *err)
{
    if (!r->ok)
        return 0;
    char *gdir = cg_path_join(dir, "gatingml");
    if (!gdir || cg_mkdir_p(gdir) < 0) {
        int e = errno;
        free(gdir);
        return cg_err_set(err, CG_E_IO, "gatingml/: cannot create: %s",
                          strerror(e));
    }
    char name[600];
    snprintf(name, sizeof name, "%s.xml", ctx->sheet->s[i].sample_id);
    char *path = cg_path_join(gdir, name);
    free(gdir);
    char *doc = NULL;
    if (!path || cg_export_gml_mem(ctx, i, r, &doc, err) < 0) {
        if (!path)
            cg_err_set(err, CG_E_NOMEM, "out of memory");
        else {
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            cg_err_set(err, err->code ? err->code : CG_E_ARG,
                       "gatingml/%s: %s", name, m);
        }
        free(path);
        return -1;
    }
    FILE *fp = fopen(path, "w");
    size_t n = strlen(doc);
    int bad = !fp || fwrite(doc, 1, n, fp) != n;
    if (fp && fclose(fp) != 0)
        bad = 1;
    int e = errno;
    free(doc);
    free(path);
    if (bad)
        return cg_err_set(err, CG_E_IO, "gatingml/%s: cannot write: %s",
                          name, strerror(e ? e : EIO));
    return 0;
}
