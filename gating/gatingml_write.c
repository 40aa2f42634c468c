/*
 * gatingml_write.c -- Gating-ML 2.0 export (libxml2 tree API).
 *
 * Writes, in order: spectrum matrices, transformations (each distinct
 * transform + bounds, and each distinct fratio, once), then the gates in
 * tree order (parents before children is not required by the schema).
 * The result validates against the ISAC XSDs (Gating-ML.v2.0.xsd and its
 * imports); the conformance test checks this with xmlSchemaValidate.
 *
 * Ids: every exported id (gates, quadrants, dividers, transformations,
 * matrices) is an xs:ID, so it must be an NCName unique in the document.
 * Ids that already are keep their text; others are rewritten (invalid
 * characters become '_', a leading non-letter gets a '_' prefix) and made
 * unique with a numeric suffix; references follow the renaming.
 * Transforms without an id get "xf1", "xf2"...; fratios "ratio1"...
 *
 * Numbers are written with the fewest digits (15..17) that read back to
 * the same double, so a re-import evaluates to identical membership.
 * FlowJo biex and IDENTITY transforms have no Gating-ML 2.0 form:
 * IDENTITY is dropped (it is y = x), biex is an error.  The arcsinh
 * cofactor form asinh(x/c) is written as the equal fasinh with
 * T = c*sinh(1), M = 1/ln(10), A = 0.
 *
 * File output goes to "<path>.tmp.<pid>" and is renamed into place.
 * Threading: no shared state.
 */
#include "gatingml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

typedef struct idmap {
    int kind;        /* 0 gate/pop, 1 divider (owner gate), 2 xf, 3 ratio,
                        4 matrix */
    int owner;       /* gate index for dividers, -1 otherwise */
    const char *orig;
    char *out;
} idmap;

typedef struct xfent {
    const cg_dim *d; /* representative dimension */
    char *key;
    const char *id;  /* exported id (in idmap) */
} xfent;

typedef struct wr {
    cg_err *err;
    idmap *ids;
    int nids, capids;
    xfent *xf;       /* transforms */
    int nxf, capxf;
    xfent *ra;       /* ratios */
    int nra, capra;
    xmlNs *ng, *nt, *nd;
} wr;

static void fmt_num(char *buf, size_t n, double v)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static int is_ncname(const char *s)
{
    if (!s || !*s)
        return 0;
    unsigned char c = (unsigned char)s[0];
    if (!(c >= 0x80 || c == '_' || (c >= 'A' && c <= 'Z') ||
          (c >= 'a' && c <= 'z')))
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!(*p >= 0x80 || *p == '_' || *p == '-' || *p == '.' ||
              (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

static int id_taken(const wr *w, const char *s)
{
    for (int i = 0; i < w->nids; i++)
        if (strcmp(w->ids[i].out, s) == 0)
            return 1;
    return 0;
}

/* Register an id; returns the exported text (owned by w) or NULL. */
static const char *add_id(wr *w, int kind, int owner, const char *orig)
{
    if (w->nids == w->capids) {
        int cap = w->capids ? 2 * w->capids : 32;
        idmap *p = realloc(w->ids, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        w->ids = p;
        w->capids = cap;
    }
    size_t len = strlen(orig);
    char *base = malloc(len + 2);
    if (!base)
        return NULL;
    if (is_ncname(orig)) {
        memcpy(base, orig, len + 1);
    } else {
        size_t o = 0;
        unsigned char c0 = (unsigned char)orig[0];
        if (!(c0 >= 0x80 || c0 == '_' || (c0 >= 'A' && c0 <= 'Z') ||
              (c0 >= 'a' && c0 <= 'z')))
            base[o++] = '_';
        for (const unsigned char *p = (const unsigned char *)orig; *p; p++)
            base[o++] = (*p >= 0x80 || *p == '_' || *p == '-' || *p == '.' ||
                         (*p >= 'A' && *p <= 'Z') ||
                         (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                            ? (char)*p
                            : '_';
        base[o] = 0;
    }
    char *out = base;
    for (int k = 2; id_taken(w, out); k++) {
        if (out != base)
            free(out);
        size_t m = strlen(base) + 16;
        if (!(out = malloc(m))) {
            free(base);
            return NULL;
        }
        snprintf(out, m, "%s_%d", base, k);
    }
    if (out != base)
        free(base);
    w->ids[w->nids++] = (idmap){kind, owner, orig, out};
    return out;
}

static const char *map_id(const wr *w, int kind, int owner, const char *orig)
{
    for (int i = 0; i < w->nids; i++)
        if (w->ids[i].kind == kind && w->ids[i].owner == owner &&
            strcmp(w->ids[i].orig, orig) == 0)
            return w->ids[i].out;
    return NULL;
}

static char *xf_key(const cg_dim *d)
{
    const cg_xform_params *p = cg_xform_params_of(d->xf);
    char *k = malloc(512);
    if (k)
        snprintf(k, 512, "%d|%.17g|%.17g|%.17g|%.17g|%.17g|%.17g|%.17g",
                 (int)cg_xform_kind_of(d->xf), p->T, p->W, p->M, p->A,
                 p->cofactor, d->xf_min, d->xf_max);
    return k;
}

static char *ratio_key(const cg_dim *d)
{
    size_t n = strlen(d->ratio_num) + strlen(d->ratio_den) + 200;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\x1f%s\x1f%.17g|%.17g|%.17g|%.17g|%.17g",
                 d->ratio_num, d->ratio_den, d->ratio_A, d->ratio_B,
                 d->ratio_C, d->ratio_min, d->ratio_max);
    return k;
}

/* Find or add the transform (ratio != 0: the fratio) of d.  Returns the
 * exported id, or NULL with err set. */
static const char *use_xf(wr *w, const cg_dim *d, int ratio)
{
    char *key = ratio ? ratio_key(d) : xf_key(d);
    if (!key) {
        cg_err_set(w->err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    xfent **arr = ratio ? &w->ra : &w->xf;
    int *n = ratio ? &w->nra : &w->nxf, *cap = ratio ? &w->capra : &w->capxf;
    for (int i = 0; i < *n; i++)
        if (strcmp((*arr)[i].key, key) == 0) {
            free(key);
            return (*arr)[i].id;
        }
    if (!ratio) {
        cg_xform_kind k = cg_xform_kind_of(d->xf);
        if (k == CG_XF_BIEX) {
            free(key);
            cg_err_set(w->err, CG_E_ARG, "transform %s (FlowJo biex) has no "
                       "Gating-ML 2.0 form", d->xf_id ? d->xf_id : "");
            return NULL;
        }
    }
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 8;
        xfent *p = realloc(*arr, (size_t)c * sizeof *p);
        if (!p) {
            free(key);
            cg_err_set(w->err, CG_E_NOMEM, "out of memory");
            return NULL;
        }
        *arr = p;
        *cap = c;
    }
    const char *want = ratio ? d->ratio_id : d->xf_id;
    char gen[32];
    if (!want) {
        snprintf(gen, sizeof gen, "%s%d", ratio ? "ratio" : "xf", *n + 1);
        want = gen;
    }
    /* the generated text lives in idmap (copied), so `gen` may go */
    const char *id = add_id(w, ratio ? 3 : 2, -1, want);
    if (!id) {
        free(key);
        cg_err_set(w->err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    w->ids[w->nids - 1].orig = key; /* unique per entry; not looked up */
    (*arr)[(*n)++] = (xfent){d, key, id};
    return id;
}

static xmlNode *el(xmlNode *parent, xmlNs *ns, const char *name)
{
    return xmlNewChild(parent, ns, (const xmlChar *)name, NULL);
}

static void set(xmlNode *n, xmlNs *ns, const char *name, const char *v)
{
    xmlNewNsProp(n, ns, (const xmlChar *)name, (const xmlChar *)v);
}

static void setnum(xmlNode *n, xmlNs *ns, const char *name, double v)
{
    char buf[40];
    fmt_num(buf, sizeof buf, v);
    set(n, ns, name, buf);
}

static int is_identity(const cg_dim *d)
{
    return d->xf && cg_xform_kind_of(d->xf) == CG_XF_IDENTITY &&
           d->xf_min == -INFINITY && d->xf_max == INFINITY;
}

/* Attributes and content of a Dimension_Type element. */
static int write_dim(wr *w, xmlNode *n, const cg_dim *d)
{
    const char *comp = d->comp == CG_COMP_NONE  ? "uncompensated"
                       : d->comp == CG_COMP_FCS ? "FCS"
                                                : map_id(w, 4, -1, d->comp_id);
    if (!comp)
        return cg_err_set(w->err, CG_E_ARG, "compensation matrix %s is not in "
                          "the tree", d->comp_id);
    if (d->xf && !is_identity(d)) {
        const char *xid = use_xf(w, d, 0);
        if (!xid)
            return -CG_E_ARG;
        set(n, w->ng, "transformation-ref", xid);
    }
    set(n, w->ng, "compensation-ref", comp);
    if (d->ratio_num) {
        const char *rid = use_xf(w, d, 1);
        if (!rid)
            return -CG_E_ARG;
        xmlNode *c = el(n, w->nd, "new-dimension");
        set(c, w->nd, "transformation-ref", rid);
    } else {
        xmlNode *c = el(n, w->nd, "fcs-dimension");
        set(c, w->nd, "name", d->name);
    }
    return 0;
}

static void write_xf(wr *w, xmlNode *root, const xfent *x, int ratio)
{
    const cg_dim *d = x->d;
    xmlNode *t = el(root, w->nt, "transformation");
    set(t, w->nt, "id", x->id);
    double lo = ratio ? d->ratio_min : d->xf_min;
    double hi = ratio ? d->ratio_max : d->xf_max;
    if (lo != -INFINITY)
        setnum(t, w->nt, "boundMin", lo);
    if (hi != INFINITY)
        setnum(t, w->nt, "boundMax", hi);
    if (ratio) {
        xmlNode *f = el(t, w->nt, "fratio");
        setnum(f, w->nt, "A", d->ratio_A);
        setnum(f, w->nt, "B", d->ratio_B);
        setnum(f, w->nt, "C", d->ratio_C);
        set(el(f, w->nd, "fcs-dimension"), w->nd, "name", d->ratio_num);
        set(el(f, w->nd, "fcs-dimension"), w->nd, "name", d->ratio_den);
        return;
    }
    const cg_xform_params *p = cg_xform_params_of(d->xf);
    xmlNode *f;
    switch (cg_xform_kind_of(d->xf)) {
    case CG_XF_LINEAR:
        f = el(t, w->nt, "flin");
        setnum(f, w->nt, "T", p->T);
        setnum(f, w->nt, "A", p->A);
        break;
    case CG_XF_LOG:
        f = el(t, w->nt, "flog");
        setnum(f, w->nt, "T", p->T);
        setnum(f, w->nt, "M", p->M);
        break;
    case CG_XF_ASINH:
        f = el(t, w->nt, "fasinh");
        setnum(f, w->nt, "T", p->T);
        setnum(f, w->nt, "M", p->M);
        setnum(f, w->nt, "A", p->A);
        break;
    case CG_XF_ARCSINH:
        f = el(t, w->nt, "fasinh");
        setnum(f, w->nt, "T", p->cofactor * sinh(1.0));
        setnum(f, w->nt, "M", 1.0 / log(10.0));
        setnum(f, w->nt, "A", 0);
        break;
    case CG_XF_LOGICLE:
    case CG_XF_HYPERLOG:
        f = el(t, w->nt,
               cg_xform_kind_of(d->xf) == CG_XF_LOGICLE ? "logicle"
                                                        : "hyperlog");
        setnum(f, w->nt, "T", p->T);
        setnum(f, w->nt, "W", p->W);
        setnum(f, w->nt, "M", p->M);
        setnum(f, w->nt, "A", p->A);
        break;
    case CG_XF_IDENTITY: /* y = x: flin with T = 1, A = 0 */
        f = el(t, w->nt, "flin");
        setnum(f, w->nt, "T", 1);
        setnum(f, w->nt, "A", 0);
        break;
    case CG_XF_BIEX:
        break; /* rejected in use_xf */
    }
}

static int write_gate(wr *w, xmlNode *root, const cg_gatetree *t, int gi)
{
    const cg_gate *g = cg_gatetree_gate(t, gi);
    static const char *names[] = {"RectangleGate", "PolygonGate",
                                  "EllipsoidGate", "QuadrantGate",
                                  "BooleanGate"};
    cg_gate_kind k = cg_gate_kind_of(g);
    xmlNode *n = el(root, w->ng, names[k]);
    set(n, w->ng, "id", map_id(w, 0, -1, cg_gate_id(g)));
    const char *par = cg_gatetree_gate_parent(t, gi);
    if (par) {
        const char *pm = map_id(w, 0, -1, par);
        if (!pm)
            return cg_err_set(w->err, CG_E_ARG, "gate %s: parent %s is not in "
                              "the tree", cg_gate_id(g), par);
        set(n, w->ng, "parent_id", pm);
    }
    int nd = cg_gate_ndim(g);
    switch (k) {
    case CG_GATE_RECT:
        for (int i = 0; i < nd; i++) {
            xmlNode *d = el(n, w->ng, "dimension");
            double lo, hi;
            cg_gate_rect_bounds(g, i, &lo, &hi);
            if (lo != -INFINITY)
                setnum(d, w->ng, "min", lo);
            if (hi != INFINITY)
                setnum(d, w->ng, "max", hi);
            if (write_dim(w, d, cg_gate_dim(g, i)) < 0)
                return -CG_E_ARG;
        }
        break;
    case CG_GATE_POLYGON: {
        for (int i = 0; i < 2; i++)
            if (write_dim(w, el(n, w->ng, "dimension"), cg_gate_dim(g, i)) < 0)
                return -CG_E_ARG;
        const double *xy = cg_gate_polygon_xy(g);
        for (int v = 0; v < cg_gate_polygon_nv(g); v++) {
            xmlNode *vx = el(n, w->ng, "vertex");
            setnum(el(vx, w->ng, "coordinate"), w->nd, "value", xy[2 * v]);
            setnum(el(vx, w->ng, "coordinate"), w->nd, "value", xy[2 * v + 1]);
        }
        break;
    }
    case CG_GATE_ELLIPSE: {
        for (int i = 0; i < nd; i++)
            if (write_dim(w, el(n, w->ng, "dimension"), cg_gate_dim(g, i)) < 0)
                return -CG_E_ARG;
        const double *mu = cg_gate_ellipse_mean(g), *c = cg_gate_ellipse_cov(g);
        xmlNode *m = el(n, w->ng, "mean");
        for (int i = 0; i < nd; i++)
            setnum(el(m, w->ng, "coordinate"), w->nd, "value", mu[i]);
        xmlNode *cm = el(n, w->ng, "covarianceMatrix");
        for (int i = 0; i < nd; i++) {
            xmlNode *row = el(cm, w->ng, "row");
            for (int j = 0; j < nd; j++)
                setnum(el(row, w->ng, "entry"), w->nd, "value", c[i * nd + j]);
        }
        setnum(el(n, w->ng, "distanceSquare"), w->nd, "value",
               cg_gate_ellipse_d2(g));
        break;
    }
    case CG_GATE_QUAD:
        for (int i = 0; i < nd; i++) {
            xmlNode *d = el(n, w->ng, "divider");
            set(d, w->ng, "id", map_id(w, 1, gi, cg_gate_quad_divider_id(g, i)));
            if (write_dim(w, d, cg_gate_dim(g, i)) < 0)
                return -CG_E_ARG;
            const double *v = cg_gate_quad_values(g, i);
            for (int j = 0; j < cg_gate_quad_nvalues(g, i); j++) {
                char buf[40];
                fmt_num(buf, sizeof buf, v[j]);
                xmlNewTextChild(d, w->ng, (const xmlChar *)"value",
                                (const xmlChar *)buf);
            }
        }
        for (int q = 0; q < cg_gate_npop(g); q++) {
            xmlNode *qn = el(n, w->ng, "Quadrant");
            set(qn, w->ng, "id", map_id(w, 0, -1, cg_gate_pop_id(g, q)));
            for (int i = 0; i < nd; i++) {
                double loc = cg_gate_quad_location(g, q, i);
                if (isnan(loc))
                    continue;
                xmlNode *p = el(qn, w->ng, "position");
                set(p, w->ng, "divider_ref",
                    map_id(w, 1, gi, cg_gate_quad_divider_id(g, i)));
                setnum(p, w->ng, "location", loc);
            }
        }
        break;
    case CG_GATE_BOOL: {
        cg_bool_op op = cg_gate_bool_op(g);
        xmlNode *o = el(n, w->ng, op == CG_BOOL_AND  ? "and"
                                  : op == CG_BOOL_OR ? "or"
                                                     : "not");
        for (int r = 0; r < cg_gate_bool_nref(g); r++) {
            const char *ref = map_id(w, 0, -1, cg_gate_bool_ref(g, r));
            if (!ref)
                return cg_err_set(w->err, CG_E_ARG, "boolean gate %s: operand "
                                  "%s is not in the tree", cg_gate_id(g),
                                  cg_gate_bool_ref(g, r));
            xmlNode *gr = el(o, w->ng, "gateReference");
            set(gr, w->ng, "ref", ref);
            if (cg_gate_bool_complement(g, r))
                set(gr, w->ng, "use-as-complement", "true");
        }
        break;
    }
    }
    return 0;
}

static int build(const cg_gatetree *t, xmlDoc **out, cg_err *err)
{
    wr w;
    memset(&w, 0, sizeof w);
    w.err = err;
    xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"Gating-ML");
    if (!doc || !root) {
        xmlFreeDoc(doc);
        xmlFreeNode(root);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    xmlDocSetRootElement(doc, root);
    w.ng = xmlNewNs(root, (const xmlChar *)CG_GML_NS_GATING,
                    (const xmlChar *)"gating");
    w.nt = xmlNewNs(root, (const xmlChar *)CG_GML_NS_XFORM,
                    (const xmlChar *)"transforms");
    w.nd = xmlNewNs(root, (const xmlChar *)CG_GML_NS_DTYPE,
                    (const xmlChar *)"data-type");
    xmlSetNs(root, w.ng);
    int rc = 0;
    /* ids: gates and populations, dividers, matrices */
    for (int gi = 0; gi < cg_gatetree_n_gates(t) && rc == 0; gi++) {
        const cg_gate *g = cg_gatetree_gate(t, gi);
        if (!add_id(&w, 0, -1, cg_gate_id(g)))
            rc = -1;
        if (cg_gate_kind_of(g) == CG_GATE_QUAD) {
            for (int q = 0; q < cg_gate_npop(g) && rc == 0; q++)
                if (!add_id(&w, 0, -1, cg_gate_pop_id(g, q)))
                    rc = -1;
            for (int d = 0; d < cg_gate_quad_ndiv(g) && rc == 0; d++)
                if (!add_id(&w, 1, gi, cg_gate_quad_divider_id(g, d)))
                    rc = -1;
        }
    }
    for (int i = 0; i < cg_gatetree_n_matrices(t) && rc == 0; i++) {
        const char *id;
        cg_gatetree_matrix(t, i, &id, NULL);
        if (!add_id(&w, 4, -1, id))
            rc = -1;
    }
    if (rc < 0)
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    /* gates go into a holder first so that transforms can precede them */
    xmlNode *holder = xmlNewNode(NULL, (const xmlChar *)"holder");
    for (int gi = 0; gi < cg_gatetree_n_gates(t) && rc == 0; gi++)
        rc = write_gate(&w, holder, t, gi);
    for (int i = 0; i < cg_gatetree_n_matrices(t) && rc == 0; i++) {
        const char *id;
        int inv;
        const cg_matrix *m = cg_gatetree_matrix(t, i, &id, &inv);
        xmlNode *sm = el(root, w.nt, "spectrumMatrix");
        set(sm, w.nt, "id", map_id(&w, 4, -1, id));
        if (inv)
            set(sm, w.nt, "matrix-inverted-already", "true");
        char **fl = inv ? m->col : m->row, **de = inv ? m->row : m->col;
        int nfl = inv ? m->ncol : m->nrow, nde = inv ? m->nrow : m->ncol;
        xmlNode *f = el(sm, w.nt, "fluorochromes");
        for (int k = 0; k < nfl; k++)
            set(el(f, w.nd, "fcs-dimension"), w.nd, "name", fl[k]);
        xmlNode *d = el(sm, w.nt, "detectors");
        for (int k = 0; k < nde; k++)
            set(el(d, w.nd, "fcs-dimension"), w.nd, "name", de[k]);
        for (int r = 0; r < m->nrow; r++) {
            xmlNode *s = el(sm, w.nt, "spectrum");
            for (int c = 0; c < m->ncol; c++)
                setnum(el(s, w.nt, "coefficient"), w.nt, "value",
                       m->v[(size_t)r * m->ncol + c]);
        }
    }
    if (rc == 0) {
        for (int i = 0; i < w.nra; i++)
            write_xf(&w, root, &w.ra[i], 1);
        for (int i = 0; i < w.nxf; i++)
            write_xf(&w, root, &w.xf[i], 0);
        xmlNode *c = holder->children;
        while (c) {
            xmlNode *next = c->next;
            xmlUnlinkNode(c);
            xmlAddChild(root, c);
            c = next;
        }
    }
    xmlFreeNode(holder);
    for (int i = 0; i < w.nids; i++)
        free(w.ids[i].out);
    free(w.ids);
    for (int i = 0; i < w.nxf; i++)
        free(w.xf[i].key);
    for (int i = 0; i < w.nra; i++)
        free(w.ra[i].key);
    free(w.xf);
    free(w.ra);
    if (rc < 0) {
        xmlFreeDoc(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int cg_gatingml_write_mem(const cg_gatetree *t, char **out, size_t *n,
                          cg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = build(t, &doc, err);
    if (rc < 0)
        return rc;
    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
    xmlFreeDoc(doc);
    if (!buf)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    *out = malloc((size_t)len + 1);
    if (!*out) {
        xmlFree(buf);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    memcpy(*out, buf, (size_t)len);
    (*out)[len] = 0;
    if (n)
        *n = (size_t)len;
    xmlFree(buf);
    return 0;
}

int cg_gatingml_write(const cg_gatetree *t, const char *path, cg_err *err)
{
    char *buf;
    size_t n;
    int rc = cg_gatingml_write_mem(t, &buf, &n, err);
    if (rc < 0)
        return rc;
    size_t tl = strlen(path) + 32;
    char *tmp = malloc(tl);
    if (!tmp) {
        free(buf);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        rc = cg_err_set(err, CG_E_IO, "%s: %s", path, strerror(errno));
    } else {
        int bad = fwrite(buf, 1, n, fp) != n;
        bad |= fflush(fp) != 0;
        bad |= fclose(fp) != 0;
        if (bad || rename(tmp, path) != 0) {
            rc = cg_err_set(err, CG_E_IO, "%s: %s", path, strerror(errno));
            remove(tmp);
        }
    }
    free(tmp);
    free(buf);
    return rc;
}
