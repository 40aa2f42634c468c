/*
 * wsp_config.c -- a workspace sample's gates as a cytogate config, so a
 * lab's manual FlowJo strategy runs headless with `cytogate run -c`.
 *
 * Mapping (one config gate per population, in workspace order, a boolean
 * after its operands):
 *   channels     one panel marker per channel a gate uses, pinned with
 *                `channel: $PnN` (names made of [A-Za-z0-9_.-], '+' ->
 *                "pos"); transforms per marker: logicle (T, W, M, A as
 *                FlowJo's), fasinh -> arcsinh with cofactor T / sinh(M ln 10)
 *                (an affine map of FlowJo's scale, so shapes are the same),
 *                log -> log, linear -> linear.  biex has no config
 *                equivalent: only rectangles may use a biex axis.
 *   compensation none; `file` for "Acquisition-defined"; else the
 *                workspace matrix written as OUT.comp.csv beside the config.
 *                A gate on an uncompensated copy of a compensated channel
 *                cannot be expressed and is refused.
 *   rectangle    `rectangle`, `units: raw`, open sides left out (FlowJo's
 *                range and quadrant gates are rectangles too);
 *   polygon      `units: raw` when both axes are linear, else vertices
 *                mapped to the config's transformed units;
 *   ellipse      centre, half-axes and angle in the config's transformed
 *                units (the display-space ellipse mapped per axis);
 *   eventsInside="0"  a hidden `<name>_inside` gate and a boolean not;
 *   And/Or/Not   `boolean` with op and of.
 * Gate names come from the population names (made valid and unique); a
 * comment above each gate gives the FlowJo path.  The text is parsed with
 * the config parser before anything is written; the CSV and then the
 * config are written atomically.
 *
 * Threading: no shared state.
 */
#include "wsp.h"
#include "wsp_eval.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0,
                          fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
}

/* A YAML double-quoted scalar. */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            sb_printf(b, "\\x%02x", (unsigned char)*p);
        else
            sb_printf(b, "%c", *p);
    }
    sb_printf(b, "\"");
}

/* Config-safe name from a FlowJo name. */
static void safe_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = in; *p && k + 4 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '+') {
            memcpy(out + k, "pos", 3);
            k += 3;
        } else if (isalnum(c) || c == '_' || c == '-' || c == '.') {
            out[k++] = (char)c;
        } else if (k && out[k - 1] != '_') {
            out[k++] = '_';
        }
    }
    while (k && out[k - 1] == '_')
        k--;
    if (!k)
        out[k++] = 'g';
    out[k] = 0;
}

typedef struct chan {
    char *channel; /* $PnN */
    char name[96]; /* marker name */
    const cg_wsp_xf *xf;
    int comp;      /* read compensated */
} chan;

typedef struct cctx {
    const cg_wsp_sample *s;
    chan *ch;
    int nch;
    char (*gname)[160]; /* per population */
    cg_err *err;
} cctx;

static int pop_err(cctx *c, const cg_wsp_pop *p, const char *what)
{
    return cg_err_setl(c->err, CG_E_ARG, p->line,
                       "population '%s' (workspace line %d): %s", p->path,
                       p->line, what);
}

/* The marker for dimension name dim (added when new); -1 on error. */
static int chan_of(cctx *c, const cg_wsp_pop *p, const char *dim)
{
    char buf[256];
    int comp;
    const char *ch = cg_wsp_dim_channel(c->s, dim, &comp, buf, sizeof buf);
    for (int i = 0; i < c->nch; i++)
        if (strcmp(c->ch[i].channel, ch) == 0) {
            if (c->ch[i].comp != comp)
                return pop_err(c, p, "the same channel is gated both "
                               "compensated and uncompensated; a config "
                               "reads each channel one way");
            return i;
        }
    if (!comp && c->s->comp) {
        for (int i = 0; i < c->s->comp->n; i++)
            if (strcmp(c->s->comp->param[i], ch) == 0)
                return pop_err(c, p, "gates the uncompensated values of a "
                               "compensated channel, which a config cannot "
                               "express");
    }
    chan *nc = realloc(c->ch, (size_t)(c->nch + 1) * sizeof *nc);
    if (!nc)
        return cg_err_set(c->err, CG_E_NOMEM, "out of memory");
    c->ch = nc;
    chan *x = &c->ch[c->nch];
    memset(x, 0, sizeof *x);
    if (!(x->channel = strdup(ch)))
        return cg_err_set(c->err, CG_E_NOMEM, "out of memory");
    x->comp = comp;
    x->xf = cg_wsp_sample_xf(c->s, dim);
    char base[80];
    safe_name(ch, base, sizeof base);
    snprintf(x->name, sizeof x->name, "%s", base);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < c->nch; i++)
            clash |= strcasecmp(c->ch[i].name, x->name) == 0;
        if (!clash)
            break;
        snprintf(x->name, sizeof x->name, "%s.%d", base, k);
    }
    return c->nch++;
}

/* Config transform value of raw x on channel ch (what run.c computes). */
static double cfg_fwd(const chan *ch, double x)
{
    const cg_wsp_xf *w = ch->xf;
    if (!w || w->kind == CG_WSP_XF_LINEAR)
        return x;
    cg_xform_params p;
    memset(&p, 0, sizeof p);
    cg_xform *xf = NULL;
    cg_err e;
    if (w->kind == CG_WSP_XF_LOGICLE) {
        p.T = w->T, p.W = w->W, p.M = w->M, p.A = w->A;
        xf = cg_xform_new(CG_XF_LOGICLE, &p, &e);
    } else if (w->kind == CG_WSP_XF_FASINH) {
        p.cofactor = w->T / sinh(w->M * log(10.0));
        xf = cg_xform_new(CG_XF_ARCSINH, &p, &e);
    } else if (w->kind == CG_WSP_XF_LOG) {
        p.T = 1, p.M = 1;
        xf = cg_xform_new(CG_XF_LOG, &p, &e);
        if (x < w->offset)
            x = w->offset;
    }
    double y = xf ? cg_xform_fwd1(xf, x) : NAN;
    cg_xform_free(xf);
    return y;
}

/* FlowJo display (0..256) = k * config value + o on channel ch. */
static int cfg_display(const chan *ch, double *k, double *o)
{
    const cg_wsp_xf *w = ch->xf;
    if (!w)
        return -1;
    double l10 = log(10.0);
    switch (w->kind) {
    case CG_WSP_XF_LINEAR:
        if (!(w->max > w->min))
            return -1;
        *k = 256.0 / (w->max - w->min);
        *o = -256.0 * w->min / (w->max - w->min);
        return 0;
    case CG_WSP_XF_LOGICLE:
        *k = 256, *o = 0;
        return 0;
    case CG_WSP_XF_FASINH:
        *k = 256.0 / ((w->M + w->A) * l10);
        *o = 256.0 * w->A * l10 / ((w->M + w->A) * l10);
        return 0;
    case CG_WSP_XF_LOG:
        *k = 256.0 / w->decades;
        *o = -256.0 * (1 + log10(w->offset)) / w->decades;
        return 0;
    default:
        return -1;
    }
}

static void num(sbuf *b, double v) { sb_printf(b, "%.17g", v); }

static int emit_shape(cctx *c, sbuf *b, const cg_wsp_pop *p, const char *nm,
                      const char *parent)
{
    int ci[16];
    if (p->ndim > 16)
        return pop_err(c, p, "more than 16 dimensions");
    for (int i = 0; i < p->ndim; i++)
        if ((ci[i] = chan_of(c, p, p->dims[i].name)) < 0)
            return -1;
    sb_printf(b, "  - name: %s\n", nm);
    if (parent)
        sb_printf(b, "    parent: %s\n", parent);
    if (p->kind == CG_WSP_RECT) {
        sb_printf(b, "    type: rectangle\n    units: raw\n    dims:\n");
        int any = 0;
        for (int i = 0; i < p->ndim; i++) {
            if (isnan(p->dims[i].min) && isnan(p->dims[i].max))
                continue;
            any = 1;
            sb_printf(b, "      - {marker: %s", c->ch[ci[i]].name);
            if (!isnan(p->dims[i].min)) {
                sb_printf(b, ", min: ");
                num(b, p->dims[i].min);
            }
            if (!isnan(p->dims[i].max)) {
                sb_printf(b, ", max: ");
                num(b, p->dims[i].max);
            }
            sb_printf(b, "}\n");
        }
        if (!any)
            return pop_err(c, p, "a rectangle without any bound");
        return 0;
    }
    const chan *cx = &c->ch[ci[0]], *cy = &c->ch[ci[1]];
    for (int j = 0; j < 2; j++) {
        const chan *ch = j ? cy : cx;
        if (ch->xf && ch->xf->kind == CG_WSP_XF_BIEX) {
            char msg[300];
            snprintf(msg, sizeof msg, "a %s on the biex axis '%s': a config "
                     "has no FlowJo biex scale (re-save the workspace with "
                     "logicle, or gate with a rectangle)",
                     cg_wsp_gkind_name(p->kind), ch->channel);
            return pop_err(c, p, msg);
        }
    }
    int raw = (!cx->xf || cx->xf->kind == CG_WSP_XF_LINEAR) &&
              (!cy->xf || cy->xf->kind == CG_WSP_XF_LINEAR);
    sb_printf(b, "    type: %s\n    units: %s\n    x: %s\n    y: %s\n",
              p->kind == CG_WSP_POLYGON ? "polygon" : "ellipse",
              raw ? "raw" : "transformed", cx->name, cy->name);
    if (p->kind == CG_WSP_POLYGON) {
        sb_printf(b, "    vertices:\n");
        for (int k = 0; k < p->nv; k++) {
            sb_printf(b, "      - [");
            num(b, cfg_fwd(cx, p->xy[2 * k]));
            sb_printf(b, ", ");
            num(b, cfg_fwd(cy, p->xy[2 * k + 1]));
            sb_printf(b, "]\n");
        }
        return 0;
    }
    double cc[2], a, bb, u[2], k[2], o[2];
    if (cg_wsp_ellipse_geometry(p->foci, p->edge, cc, &a, &bb, u) < 0)
        return pop_err(c, p, "degenerate ellipse (zero axis)");
    if (cfg_display(cx, &k[0], &o[0]) < 0 || cfg_display(cy, &k[1], &o[1]) < 0)
        return pop_err(c, p, "an ellipse axis without a transform (its "
                       "display scale is unknown)");
    double a2 = a * a, b2 = bb * bb;
    double cd[4] = {u[0] * u[0] * a2 + u[1] * u[1] * b2,
                    u[0] * u[1] * (a2 - b2), u[0] * u[1] * (a2 - b2),
                    u[1] * u[1] * a2 + u[0] * u[0] * b2};
    double m[2], cv[4];
    for (int i = 0; i < 2; i++) {
        m[i] = (cc[i] - o[i]) / k[i];
        for (int j = 0; j < 2; j++)
            cv[2 * i + j] = cd[2 * i + j] / (k[i] * k[j]);
    }
    /* eigen-decomposition of the symmetric 2x2 covariance */
    double tr = cv[0] + cv[3], det = cv[0] * cv[3] - cv[1] * cv[2];
    double disc = sqrt(fmax(tr * tr / 4 - det, 0));
    double l1 = tr / 2 + disc, l2 = tr / 2 - disc;
    double ang = 0.5 * atan2(2 * cv[1], cv[0] - cv[3]);
    if (!(l2 > 0))
        return pop_err(c, p, "degenerate ellipse after scaling");
    sb_printf(b, "    center: [");
    num(b, m[0]);
    sb_printf(b, ", ");
    num(b, m[1]);
    sb_printf(b, "]\n    axes: [");
    num(b, sqrt(l1));
    sb_printf(b, ", ");
    num(b, sqrt(l2));
    sb_printf(b, "]\n    angle: ");
    num(b, ang * 180.0 / M_PI);
    sb_printf(b, "\n");
    return 0;
}

static int dep_index(const cg_wsp_sample *s, const char *dep)
{
    for (int i = 0; i < s->npops; i++)
        if (strcmp(s->pops[i].path, dep) == 0)
            return i;
    int hit = -1;
    for (int i = 0; i < s->npops; i++)
        if (strcmp(s->pops[i].name, dep) == 0) {
            if (hit >= 0)
                return -1;
            hit = i;
        }
    return hit;
}

static int emit_pop(cctx *c, sbuf *b, int i)
{
    const cg_wsp_sample *s = c->s;
    const cg_wsp_pop *p = &s->pops[i];
    const char *nm = c->gname[i];
    const char *parent = p->parent >= 0 ? c->gname[p->parent] : NULL;
    sb_printf(b, "  # FlowJo: ");
    for (const char *q = p->path; *q; q++)
        sb_printf(b, "%c", *q == '\n' ? ' ' : *q);
    sb_printf(b, " (workspace line %d)\n", p->line);
    if (p->kind >= CG_WSP_AND) {
        static const char *const op[] = {"and", "or", "not"};
        sb_printf(b, "  - name: %s\n", nm);
        if (parent)
            sb_printf(b, "    parent: %s\n", parent);
        sb_printf(b, "    type: boolean\n    op: %s\n    of: [",
                  op[p->kind - CG_WSP_AND]);
        for (int k = 0; k < p->ndeps; k++)
            sb_printf(b, "%s%s", k ? ", " : "",
                      c->gname[dep_index(s, p->deps[k])]);
        sb_printf(b, "]\n");
        return 0;
    }
    if (!p->complement)
        return emit_shape(c, b, p, nm, parent);
    char inner[200];
    snprintf(inner, sizeof inner, "%s_inside", nm);
    if (emit_shape(c, b, p, inner, parent) < 0)
        return -1;
    sb_printf(b, "  - name: %s\n", nm);
    if (parent)
        sb_printf(b, "    parent: %s\n", parent);
    sb_printf(b, "    type: boolean\n    op: not\n    of: [%s]\n", inner);
    return 0;
}

static int name_clash(cctx *c, int upto, const char *nm)
{
    for (int j = 0; j < upto; j++) {
        if (strcasecmp(c->gname[j], nm) == 0)
            return 1;
        char in[200];
        snprintf(in, sizeof in, "%s_inside", c->gname[j]);
        if (strcasecmp(in, nm) == 0)
            return 1;
    }
    return 0;
}

static int write_matrix_csv(const cg_wsp_matrix *m, const char *path)
{
    sbuf b = {0};
    for (int j = 0; j < m->n; j++) {
        sb_printf(&b, ",");
        sb_quoted(&b, m->param[j]);
    }
    sb_printf(&b, "\n");
    for (int i = 0; i < m->n; i++) {
        sb_quoted(&b, m->param[i]);
        for (int j = 0; j < m->n; j++)
            sb_printf(&b, ",%.17g", m->v[(size_t)i * (size_t)m->n + (size_t)j]);
        sb_printf(&b, "\n");
    }
    int rc = b.oom ? -1 : cg_write_file_atomic(path, b.s, b.n);
    free(b.s);
    return rc;
}

/* Every population, parents and boolean operands first, otherwise in
 * workspace order.  0 or -1 with err. */
static int emit_gates(cctx *c, sbuf *gb)
{
    const cg_wsp_sample *s = c->s;
    size_t np = s->npops > 0 ? (size_t)s->npops : 1;
    for (int i = 0; i < s->npops; i++)
        for (int k = 0; k < s->pops[i].ndeps; k++)
            if (dep_index(s, s->pops[i].deps[k]) < 0)
                return pop_err(c, &s->pops[i], "a Dependent names no "
                               "population (or is ambiguous)");
    int *done = calloc(np, sizeof *done);
    if (!done)
        return cg_err_set(c->err, CG_E_NOMEM, "out of memory");
    int ndone = 0, rc = 0;
    while (ndone < s->npops && !rc) {
        int progress = 0;
        for (int i = 0; i < s->npops && !rc; i++) {
            const cg_wsp_pop *p = &s->pops[i];
            if (done[i] || (p->parent >= 0 && !done[p->parent]))
                continue;
            int ready = 1;
            for (int k = 0; k < p->ndeps; k++)
                ready &= done[dep_index(s, p->deps[k])];
            if (!ready)
                continue;
            if (emit_pop(c, gb, i) < 0) {
                rc = -1;
                break;
            }
            done[i] = 1;
            ndone++;
            progress = 1;
        }
        if (!rc && !progress)
            rc = cg_err_set(c->err, CG_E_ARG, "boolean populations depend on "
                            "each other in a cycle");
    }
    free(done);
    return rc < 0 ? -1 : 0;
}

/* Unique config-safe gate names, one per population. */
static void gate_names(cctx *c)
{
    const cg_wsp_sample *s = c->s;
    for (int i = 0; i < s->npops; i++) {
        char base[120];
        safe_name(s->pops[i].name, base, sizeof base);
        snprintf(c->gname[i], sizeof c->gname[i], "%s", base);
        if (name_clash(c, i, c->gname[i]) && s->pops[i].parent >= 0)
            snprintf(c->gname[i], sizeof c->gname[i], "%.70s.%.80s",
                     c->gname[s->pops[i].parent], base);
        for (int k = 2; name_clash(c, i, c->gname[i]); k++)
            snprintf(c->gname[i], sizeof c->gname[i], "%.120s.%d", base, k);
    }
}

/* The compensation key (and the CSV of a workspace matrix, written now
 * next to path).  0 or -1 with err. */
static int emit_comp(cctx *c, sbuf *b, const char *path)
{
    const cg_wsp_sample *s = c->s;
    if (!s->comp) {
        sb_printf(b, "\ncompensation: none\n");
        return 0;
    }
    if (strcmp(s->comp->name, "Acquisition-defined") == 0) {
        sb_printf(b, "\n# FlowJo's \"Acquisition-defined\" matrix: the "
                  "file's $SPILLOVER\ncompensation: file\n");
        return 0;
    }
    size_t lp = strlen(path);
    char *csv = malloc(lp + 16);
    if (!csv)
        return cg_err_set(c->err, CG_E_NOMEM, "out of memory");
    memcpy(csv, path, lp + 1);
    char *dot = strrchr(csv, '.'), *sl = strrchr(csv, '/');
    if (dot && (!sl || dot > sl))
        *dot = 0;
    strcat(csv, ".comp.csv");
    const char *cb = strrchr(csv, '/');
    sb_printf(b, "\n# the workspace's matrix '%s'\ncompensation: ",
              s->comp->name);
    sb_quoted(b, cb ? cb + 1 : csv);
    sb_printf(b, "\n");
    int rc = 0;
    if (write_matrix_csv(s->comp, csv) < 0)
        rc = cg_err_set(c->err, CG_E_IO, "cannot write %s", csv);
    free(csv);
    return rc < 0 ? -1 : 0;
}

static void emit_transforms(cctx *c, sbuf *b)
{
    sb_printf(b, "\ntransforms:\n  default: {type: linear}\n"
              "  scatter: {type: linear}\n");
    for (int i = 0; i < c->nch; i++) {
        const cg_wsp_xf *x = c->ch[i].xf;
        if (!x || x->kind == CG_WSP_XF_LINEAR || x->kind == CG_WSP_XF_BIEX)
            continue; /* linear; biex axes carry rectangles only (raw) */
        sb_printf(b, "  %s: ", c->ch[i].name);
        if (x->kind == CG_WSP_XF_LOGICLE) {
            sb_printf(b, "{type: logicle, T: ");
            num(b, x->T);
            sb_printf(b, ", W: ");
            num(b, x->W);
            sb_printf(b, ", M: ");
            num(b, x->M);
            sb_printf(b, ", A: ");
            num(b, x->A);
            sb_printf(b, "}\n");
        } else if (x->kind == CG_WSP_XF_FASINH) {
            sb_printf(b, "{type: arcsinh, cofactor: ");
            num(b, x->T / sinh(x->M * log(10.0)));
            sb_printf(b, "}\n");
        } else {
            sb_printf(b, "{type: log}\n");
        }
    }
}

int cg_wsp_write_config(const cg_wsp *w, const cg_wsp_sample *s,
                        const char *path, cg_err *err)
{
    cctx c = {s, NULL, 0, NULL, err};
    sbuf b = {0}, gb = {0};
    int rc = -1;
    size_t np = s->npops > 0 ? (size_t)s->npops : 1;
    c.gname = calloc(np, sizeof *c.gname);
    if (!c.gname)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    gate_names(&c);
    if (emit_gates(&c, &gb) < 0)
        goto out;
    if (!c.nch) {
        cg_err_set(err, CG_E_ARG, "sample '%s' has no gates to write",
                   s->name);
        goto out;
    }
    const char *wbase = strrchr(w->path, '/');
    wbase = wbase ? wbase + 1 : w->path;
    sb_printf(&b, "# cytogate config written by `cytogate wsp --to-config` "
              "from the FlowJo\n# workspace %s, sample '%s' (line %d).\n"
              "# Its gates are FlowJo's, fixed (no auto gates); rectangle "
              "coordinates are\n# compensated values (`units: raw`), "
              "polygons and ellipses are on FlowJo's\n# axes.  Run it with: "
              "cytogate run -c THIS.yaml FILES... -o OUT\n",
              wbase, s->name, s->line);
    char nm[120];
    safe_name(wbase, nm, sizeof nm);
    sb_printf(&b, "config_version: 1\nname: %s\n\npanel:\n", nm);
    for (int i = 0; i < c.nch; i++) {
        sb_printf(&b, "  %s: {channel: ", c.ch[i].name);
        sb_quoted(&b, c.ch[i].channel);
        sb_printf(&b, "}\n");
    }
    if (emit_comp(&c, &b, path) < 0)
        goto out;
    emit_transforms(&c, &b);
    sb_printf(&b, "\ngates:\n%s", gb.s ? gb.s : "");
    if (b.oom || gb.oom) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    cg_config *cfg = cg_config_parse(b.s, b.n, path, err);
    if (!cfg) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cg_err_setl(err, CG_E_ARG, err->line, "the config written would not "
                    "load (line %d: %s); not written", err->line, msg);
        goto out;
    }
    cg_config_free(cfg);
    if (cg_write_file_atomic(path, b.s, b.n) < 0) {
        cg_err_set(err, CG_E_IO, "cannot write");
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < c.nch; i++)
        free(c.ch[i].channel);
    free(c.ch);
    free(c.gname);
    free(b.s);
    free(gb.s);
    return rc;
}
