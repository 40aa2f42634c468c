/*
 * gatingml_read.c -- Gating-ML 2.0 import (libxml2 DOM).
 *
 * Two passes over the root's children: first transforms:transformation
 * and transforms:spectrumMatrix (gates may refer to ones defined later in
 * the file), then the five gate kinds, each added to a cg_gatetree with
 * its parent id.  Elements are matched by namespace URI and local name,
 * never by prefix.  data-type:custom_info is skipped wherever it appears.
 * Anything else is an error naming the element, its namespace if foreign,
 * the file and the line; so are missing required attributes, numbers that
 * do not parse, wrong child counts and dangling references (checked with
 * cg_gatetree_check once everything is read).
 *
 * Mapping: transformation boundMin/boundMax become the dimension's bounds
 * (cg_dim xf_min/xf_max, or ratio_min/ratio_max for fratio), applied after
 * the transform; matrix-inverted-already matrices are stored with rows =
 * detectors (the spectra as written) and multiplied as they are.
 *
 * Threading: no globals of our own; libxml2's parser is thread-safe after
 * xmlInitParser(), which we call first.
 */
#include "gatingml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xmlread.h"

#define NS_G CG_GML_NS_GATING
#define NS_T CG_GML_NS_XFORM
#define NS_D CG_GML_NS_DTYPE

typedef struct gml_xf {
    char *id;
    int is_ratio;
    cg_xform *xf;          /* non-ratio */
    char *num, *den;       /* ratio */
    double A, B, C;
    double bmin, bmax;
} gml_xf;

typedef struct rd {
    const char *name; /* file name for messages */
    cg_err *err;
    cg_gatetree *t;
    gml_xf *xf;
    int nxf, capxf;
    char **mat;       /* matrix ids defined */
    int nmat;
} rd;

static int line_of(const xmlNode *n) { return (int)xmlGetLineNo(n); }

static const char *nsname(const char *href)
{
    if (!href)
        return "";
    if (strcmp(href, NS_G) == 0)
        return "gating:";
    if (strcmp(href, NS_T) == 0)
        return "transforms:";
    if (strcmp(href, NS_D) == 0)
        return "data-type:";
    return NULL;
}

static int fail(rd *r, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(rd *r, const xmlNode *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = n ? line_of(n) : 0;
    return cg_err_setl(r->err, CG_E_PARSE, line, "%s:%d: %s", r->name, line,
                       msg);
}

static int is_el(const xmlNode *n, const char *ns, const char *local)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 &&
           strcmp((const char *)n->name, local) == 0;
}

static int unexpected(rd *r, const xmlNode *n, const xmlNode *parent)
{
    const char *href = n->ns ? (const char *)n->ns->href : NULL;
    const char *pre = nsname(href);
    if (pre)
        return fail(r, n, "unexpected element <%s%s> in <%s>", pre,
                    (const char *)n->name, (const char *)parent->name);
    return fail(r, n, "unexpected element <%s> (namespace %s) in <%s>",
                (const char *)n->name, href, (const char *)parent->name);
}

/* Element children, skipping text, comments and data-type:custom_info. */
static xmlNode *next_el(xmlNode *n)
{
    for (; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !is_el(n, NS_D, "custom_info"))
            return n;
    return NULL;
}
#define FOR_EL(c, parent) \
    for (xmlNode *c = next_el((parent)->children); c; c = next_el(c->next))

/* Attribute by namespace, falling back to an unqualified attribute.
 * Returns a malloc'd string (xmlFree) or NULL. */
static char *attr(const xmlNode *n, const char *ns, const char *name)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);
    if (!v)
        v = xmlGetNoNsProp(n, (const xmlChar *)name);
    return (char *)v;
}

static int parse_num(const char *s, double *out)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (*end || errno == ERANGE || isnan(v))
        return -1;
    *out = v;
    return 0;
}

/* Numeric attribute; required -> error when missing; optional -> *out
 * untouched and returns 1 when missing. */
static int num_attr(rd *r, const xmlNode *n, const char *ns, const char *name,
                    int required, double *out)
{
    char *v = attr(n, ns, name);
    if (!v) {
        if (required)
            return fail(r, n, "<%s> needs attribute %s", (const char *)n->name,
                        name);
        return 1;
    }
    int rc = parse_num(v, out);
    if (rc < 0)
        rc = fail(r, n, "<%s> attribute %s=\"%s\" is not a number",
                  (const char *)n->name, name, v);
    xmlFree(v);
    return rc;
}

static char *str_attr(rd *r, const xmlNode *n, const char *ns,
                      const char *name)
{
    char *v = attr(n, ns, name);
    if (!v || !*v) {
        if (v)
            xmlFree(v);
        fail(r, n, "<%s> needs a non-empty attribute %s",
             (const char *)n->name, name);
        return NULL;
    }
    char *c = strdup(v);
    xmlFree(v);
    if (!c)
        cg_err_set(r->err, CG_E_NOMEM, "out of memory");
    return c;
}

static int bool_attr(rd *r, const xmlNode *n, const char *ns,
                     const char *name, int *out)
{
    char *v = attr(n, ns, name);
    *out = 0;
    if (!v)
        return 0;
    int rc = 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
        rc = fail(r, n, "<%s> attribute %s=\"%s\" is not true/false",
                  (const char *)n->name, name, v);
    xmlFree(v);
    return rc;
}

static gml_xf *find_xf(rd *r, const char *id)
{
    for (int i = 0; i < r->nxf; i++)
        if (strcmp(r->xf[i].id, id) == 0)
            return &r->xf[i];
    return NULL;
}

static int has_mat(rd *r, const char *id)
{
    for (int i = 0; i < r->nmat; i++)
        if (strcmp(r->mat[i], id) == 0)
            return 1;
    return 0;
}

/* ---- pass 1: transformations and matrices ------------------------------ */

static int read_transformation(rd *r, xmlNode *n)
{
    gml_xf x;
    memset(&x, 0, sizeof x);
    x.bmin = -INFINITY;
    x.bmax = INFINITY;
    if (!(x.id = str_attr(r, n, NS_T, "id")))
        return -CG_E_PARSE;
    int rc = 0;
    if (find_xf(r, x.id)) {
        rc = fail(r, n, "transformation id %s defined twice", x.id);
        goto out;
    }
    if (num_attr(r, n, NS_T, "boundMin", 0, &x.bmin) < 0 ||
        num_attr(r, n, NS_T, "boundMax", 0, &x.bmax) < 0) {
        rc = -CG_E_PARSE;
        goto out;
    }
    if (x.bmin > x.bmax) {
        rc = fail(r, n, "transformation %s: boundMin > boundMax", x.id);
        goto out;
    }
    xmlNode *f = NULL;
    FOR_EL(c, n)
    {
        if (f) {
            rc = fail(r, c, "transformation %s has more than one function",
                      x.id);
            goto out;
        }
        f = c;
    }
    if (!f) {
        rc = fail(r, n, "transformation %s has no function", x.id);
        goto out;
    }
    static const struct {
        const char *name;
        cg_xform_kind kind;
        const char *params; /* T W M A */
    } fns[] = {{"flin", CG_XF_LINEAR, "TA"},
               {"flog", CG_XF_LOG, "TM"},
               {"fasinh", CG_XF_ASINH, "TMA"},
               {"logicle", CG_XF_LOGICLE, "TWMA"},
               {"hyperlog", CG_XF_HYPERLOG, "TWMA"}};
    if (is_el(f, NS_T, "fratio")) {
        x.is_ratio = 1;
        if (num_attr(r, f, NS_T, "A", 1, &x.A) < 0 ||
            num_attr(r, f, NS_T, "B", 1, &x.B) < 0 ||
            num_attr(r, f, NS_T, "C", 1, &x.C) < 0) {
            rc = -CG_E_PARSE;
            goto out;
        }
        int k = 0;
        FOR_EL(c, f)
        {
            if (!is_el(c, NS_D, "fcs-dimension") || k >= 2) {
                rc = k >= 2 ? fail(r, c, "fratio %s takes exactly 2 "
                                   "fcs-dimensions", x.id)
                            : unexpected(r, c, f);
                goto out;
            }
            char *nm = str_attr(r, c, NS_D, "name");
            if (!nm) {
                rc = -CG_E_PARSE;
                goto out;
            }
            if (k++ == 0)
                x.num = nm;
            else
                x.den = nm;
        }
        if (k != 2) {
            rc = fail(r, f, "fratio %s takes exactly 2 fcs-dimensions", x.id);
            goto out;
        }
    } else {
        size_t i;
        for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
            if (is_el(f, NS_T, fns[i].name))
                break;
        if (i == sizeof fns / sizeof fns[0]) {
            rc = unexpected(r, f, n);
            goto out;
        }
        FOR_EL(c, f)
        {
            rc = unexpected(r, c, f);
            goto out;
        }
        cg_xform_params p;
        memset(&p, 0, sizeof p);
        for (const char *q = fns[i].params; *q; q++) {
            char an[2] = {*q, 0};
            double *dst = *q == 'T' ? &p.T : *q == 'W' ? &p.W
                                         : *q == 'M' ? &p.M : &p.A;
            if (num_attr(r, f, NS_T, an, 1, dst) < 0) {
                rc = -CG_E_PARSE;
                goto out;
            }
        }
        cg_err e2;
        cg_err_clear(&e2);
        x.xf = cg_xform_new(fns[i].kind, &p, &e2);
        if (!x.xf) {
            rc = fail(r, f, "transformation %s: %s", x.id, e2.msg);
            goto out;
        }
    }
    if (r->nxf == r->capxf) {
        int cap = r->capxf ? 2 * r->capxf : 8;
        gml_xf *p = realloc(r->xf, (size_t)cap * sizeof *p);
        if (!p) {
            rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
            goto out;
        }
        r->xf = p;
        r->capxf = cap;
    }
    r->xf[r->nxf++] = x;
    return 0;
out:
    free(x.id);
    free(x.num);
    free(x.den);
    cg_xform_free(x.xf);
    return rc;
}

/* Names of the fcs-dimension children of n (fluorochromes/detectors). */
static int read_names(rd *r, xmlNode *n, char ***names, int *count)
{
    int cap = 0;
    *names = NULL;
    *count = 0;
    FOR_EL(c, n)
    {
        if (!is_el(c, NS_D, "fcs-dimension"))
            return unexpected(r, c, n);
        char *nm = str_attr(r, c, NS_D, "name");
        if (!nm)
            return -CG_E_PARSE;
        if (*count == cap) {
            cap = cap ? 2 * cap : 8;
            char **p = realloc(*names, (size_t)cap * sizeof *p);
            if (!p) {
                free(nm);
                return cg_err_set(r->err, CG_E_NOMEM, "out of memory");
            }
            *names = p;
        }
        (*names)[(*count)++] = nm;
    }
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int read_matrix(rd *r, xmlNode *n)
{
    char *id = str_attr(r, n, NS_T, "id");
    if (!id)
        return -CG_E_PARSE;
    int inv = 0, rc = 0;
    char **fl = NULL, **de = NULL;
    int nfl = 0, nde = 0, nspec = 0, cap = 0;
    double *v = NULL;
    cg_matrix *m = NULL;
    if (has_mat(r, id)) {
        rc = fail(r, n, "spectrumMatrix id %s defined twice", id);
        goto out;
    }
    if ((rc = bool_attr(r, n, NS_T, "matrix-inverted-already", &inv)) < 0)
        goto out;
    int stage = 0; /* 0 fluorochromes, 1 detectors, 2 spectra */
    int width = 0;
    FOR_EL(c, n)
    {
        if (stage == 0 && is_el(c, NS_T, "fluorochromes")) {
            if ((rc = read_names(r, c, &fl, &nfl)) < 0)
                goto out;
            stage = 1;
        } else if (stage == 1 && is_el(c, NS_T, "detectors")) {
            if ((rc = read_names(r, c, &de, &nde)) < 0)
                goto out;
            stage = 2;
            /* as written: spectra are fluorochromes x detectors, or, when
             * inverted already, detectors x fluorochromes */
            width = inv ? nfl : nde;
        } else if (stage == 2 && is_el(c, NS_T, "spectrum")) {
            int k = 0;
            FOR_EL(e, c)
            {
                if (!is_el(e, NS_T, "coefficient")) {
                    rc = unexpected(r, e, c);
                    goto out;
                }
                if (k >= width) {
                    rc = fail(r, e, "spectrumMatrix %s: spectrum has more "
                              "than %d coefficients", id, width);
                    goto out;
                }
                if (nspec * width + k >= cap) {
                    cap = cap ? 2 * cap : 64;
                    double *p = realloc(v, (size_t)cap * sizeof *p);
                    if (!p) {
                        rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
                        goto out;
                    }
                    v = p;
                }
                if ((rc = num_attr(r, e, NS_T, "value", 1,
                                   &v[nspec * width + k])) < 0)
                    goto out;
                k++;
            }
            if (k != width) {
                rc = fail(r, c, "spectrumMatrix %s: spectrum has %d "
                          "coefficients, expected %d", id, k, width);
                goto out;
            }
            nspec++;
        } else {
            rc = unexpected(r, c, n);
            goto out;
        }
    }
    int nrow = inv ? nde : nfl, ncol = inv ? nfl : nde;
    if (stage < 2 || nspec != nrow || nrow < 1 || ncol < 1) {
        rc = fail(r, n, "spectrumMatrix %s: need fluorochromes, detectors and "
                  "%d spectra (got %d)", id, nrow, nspec);
        goto out;
    }
    m = cg_matrix_new(nrow, ncol);
    if (!m) {
        rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nrow; i++) {
        m->row[i] = strdup(inv ? de[i] : fl[i]);
        if (!m->row[i]) {
            rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
            goto out;
        }
    }
    for (int j = 0; j < ncol; j++) {
        m->col[j] = strdup(inv ? fl[j] : de[j]);
        if (!m->col[j]) {
            rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
            goto out;
        }
    }
    memcpy(m->v, v, (size_t)nrow * (size_t)ncol * sizeof *v);
    char **mp = realloc(r->mat, (size_t)(r->nmat + 1) * sizeof *mp);
    if (!mp) {
        rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    r->mat = mp;
    if (!(r->mat[r->nmat] = strdup(id))) {
        rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    r->nmat++;
    rc = cg_gatetree_add_matrix(r->t, id, m, inv, r->err);
    m = NULL;
out:
    cg_matrix_free(m);
    free(id);
    free_names(fl, nfl);
    free_names(de, nde);
    free(v);
    return rc;
}

/* ---- pass 2: gates ------------------------------------------------------ */

/* Read a gating:dimension / gating:divider into d.  With values != NULL,
 * gating:value children are collected (dividers). */
static int read_dim(rd *r, xmlNode *n, cg_dim *d, double **values, int *nval)
{
    cg_dim_init(d);
    char *cref = attr(n, NS_G, "compensation-ref");
    if (!cref || !*cref) {
        if (cref)
            xmlFree(cref);
        return fail(r, n, "<%s> needs attribute compensation-ref",
                    (const char *)n->name);
    }
    cg_comp_ref comp = strcmp(cref, "uncompensated") == 0 ? CG_COMP_NONE
                       : strcmp(cref, "FCS") == 0         ? CG_COMP_FCS
                                                          : CG_COMP_MATRIX;
    int rc = 0;
    char *tref = NULL;
    int cap = 0, have = 0;
    if (comp == CG_COMP_MATRIX && !has_mat(r, cref)) {
        rc = fail(r, n, "compensation-ref %s: no spectrumMatrix with that id",
                  cref);
        goto out;
    }
    tref = attr(n, NS_G, "transformation-ref");
    FOR_EL(c, n)
    {
        if (is_el(c, NS_D, "fcs-dimension") ||
            is_el(c, NS_D, "new-dimension")) {
            if (have++) {
                rc = fail(r, c, "<%s> has more than one fcs-dimension or "
                          "new-dimension", (const char *)n->name);
                goto out;
            }
            if (is_el(c, NS_D, "fcs-dimension")) {
                char *nm = str_attr(r, c, NS_D, "name");
                if (!nm) {
                    rc = -CG_E_PARSE;
                    goto out;
                }
                rc = cg_dim_set_channel(d, nm, comp, cref, r->err);
                free(nm);
            } else {
                char *ref = str_attr(r, c, NS_D, "transformation-ref");
                if (!ref) {
                    rc = -CG_E_PARSE;
                    goto out;
                }
                gml_xf *x = find_xf(r, ref);
                if (!x || !x->is_ratio) {
                    rc = fail(r, c, "new-dimension: %s is not %s", ref,
                              x ? "an fratio transformation"
                                : "a defined transformation");
                    free(ref);
                    goto out;
                }
                rc = cg_dim_set_ratio(d, x->num, x->den, x->A, x->B, x->C,
                                      comp, cref, r->err);
                d->ratio_min = x->bmin;
                d->ratio_max = x->bmax;
                free(d->ratio_id);
                d->ratio_id = ref;
            }
            if (rc < 0)
                goto out;
        } else if (values && is_el(c, NS_G, "value")) {
            xmlChar *txt = xmlNodeGetContent(c);
            double v;
            int ok = parse_num((const char *)txt, &v);
            if (ok < 0)
                rc = fail(r, c, "divider value \"%s\" is not a number",
                          txt ? (const char *)txt : "");
            xmlFree(txt);
            if (rc < 0)
                goto out;
            if (*nval == cap) {
                cap = cap ? 2 * cap : 4;
                double *p = realloc(*values, (size_t)cap * sizeof *p);
                if (!p) {
                    rc = cg_err_set(r->err, CG_E_NOMEM, "out of memory");
                    goto out;
                }
                *values = p;
            }
            (*values)[(*nval)++] = v;
        } else {
            rc = unexpected(r, c, n);
            goto out;
        }
    }
    if (!have) {
        rc = fail(r, n, "<%s> needs an fcs-dimension or new-dimension",
                  (const char *)n->name);
        goto out;
    }
    if (tref) {
        gml_xf *x = find_xf(r, tref);
        if (!x || x->is_ratio) {
            rc = fail(r, n, "transformation-ref %s is not %s", tref,
                      x ? "usable here (fratio defines a new-dimension)"
                        : "a defined transformation");
            goto out;
        }
        rc = cg_dim_set_xform(d, x->xf, x->bmin, x->bmax, tref, r->err);
    }
out:
    xmlFree(cref);
    if (tref)
        xmlFree(tref);
    if (rc < 0)
        cg_dim_clear(d);
    return rc;
}

typedef struct dimv {
    cg_dim *d;
    int n, cap;
} dimv;

static int dimv_push(rd *r, dimv *v)
{
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 4;
        cg_dim *p = realloc(v->d, (size_t)cap * sizeof *p);
        if (!p)
            return cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        v->d = p;
        v->cap = cap;
    }
    cg_dim_init(&v->d[v->n]);
    return 0;
}

static void dimv_free(dimv *v)
{
    for (int i = 0; i < v->n; i++)
        cg_dim_clear(&v->d[i]);
    free(v->d);
}

typedef struct dvec {
    double *v;
    int n, cap;
} dvec;

static int dvec_push(rd *r, dvec *v, double x)
{
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 16;
        double *p = realloc(v->v, (size_t)cap * sizeof *p);
        if (!p)
            return cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

/* coordinate/entry children with data-type:value into v; returns count. */
static int read_values(rd *r, xmlNode *n, const char *child, dvec *v)
{
    int k = 0;
    FOR_EL(c, n)
    {
        if (!is_el(c, NS_G, child))
            return unexpected(r, c, n);
        double x;
        if (num_attr(r, c, NS_D, "value", 1, &x) < 0)
            return -CG_E_PARSE;
        if (dvec_push(r, v, x) < 0)
            return -CG_E_NOMEM;
        k++;
    }
    return k;
}

static cg_gate *read_rect(rd *r, xmlNode *n, const char *id)
{
    dimv dv = {0};
    dvec lo = {0}, hi = {0};
    cg_gate *g = NULL;
    FOR_EL(c, n)
    {
        if (!is_el(c, NS_G, "dimension")) {
            unexpected(r, c, n);
            goto out;
        }
        if (dimv_push(r, &dv) < 0 || read_dim(r, c, &dv.d[dv.n], NULL,
                                              NULL) < 0)
            goto out;
        dv.n++;
        double a = -INFINITY, b = INFINITY;
        if (num_attr(r, c, NS_G, "min", 0, &a) < 0 ||
            num_attr(r, c, NS_G, "max", 0, &b) < 0)
            goto out;
        if (dvec_push(r, &lo, a) < 0 || dvec_push(r, &hi, b) < 0)
            goto out;
    }
    if (!dv.n) {
        fail(r, n, "RectangleGate %s has no dimension", id);
        goto out;
    }
    cg_err e2;
    cg_err_clear(&e2);
    g = cg_gate_rect_new(id, dv.n, dv.d, lo.v, hi.v, &e2);
    if (!g)
        fail(r, n, "%s", e2.msg);
out:
    dimv_free(&dv);
    free(lo.v);
    free(hi.v);
    return g;
}

static cg_gate *read_polygon(rd *r, xmlNode *n, const char *id)
{
    dimv dv = {0};
    dvec xy = {0};
    cg_gate *g = NULL;
    int nv = 0;
    FOR_EL(c, n)
    {
        if (is_el(c, NS_G, "dimension") && nv == 0) {
            if (dv.n == 2) {
                fail(r, c, "PolygonGate %s: more than 2 dimensions", id);
                goto out;
            }
            if (dimv_push(r, &dv) < 0 ||
                read_dim(r, c, &dv.d[dv.n], NULL, NULL) < 0)
                goto out;
            dv.n++;
        } else if (is_el(c, NS_G, "vertex")) {
            int k = read_values(r, c, "coordinate", &xy);
            if (k < 0)
                goto out;
            if (k != 2) {
                fail(r, c, "PolygonGate %s: vertex has %d coordinates, not 2",
                     id, k);
                goto out;
            }
            nv++;
        } else {
            unexpected(r, c, n);
            goto out;
        }
    }
    if (dv.n != 2) {
        fail(r, n, "PolygonGate %s needs 2 dimensions (has %d)", id, dv.n);
        goto out;
    }
    cg_err e2;
    cg_err_clear(&e2);
    g = cg_gate_polygon_new(id, dv.d, nv, xy.v, &e2);
    if (!g)
        fail(r, n, "%s", e2.msg);
out:
    dimv_free(&dv);
    free(xy.v);
    return g;
}

static cg_gate *read_ellipse(rd *r, xmlNode *n, const char *id)
{
    dimv dv = {0};
    dvec mean = {0}, cov = {0};
    double d2 = NAN;
    int stage = 0, nrow = 0;
    cg_gate *g = NULL;
    FOR_EL(c, n)
    {
        if (stage == 0 && is_el(c, NS_G, "dimension")) {
            if (dimv_push(r, &dv) < 0 ||
                read_dim(r, c, &dv.d[dv.n], NULL, NULL) < 0)
                goto out;
            dv.n++;
        } else if (stage == 0 && is_el(c, NS_G, "mean")) {
            if (read_values(r, c, "coordinate", &mean) < 0)
                goto out;
            stage = 1;
        } else if (stage == 1 && is_el(c, NS_G, "covarianceMatrix")) {
            FOR_EL(row, c)
            {
                if (!is_el(row, NS_G, "row")) {
                    unexpected(r, row, c);
                    goto out;
                }
                int k = read_values(r, row, "entry", &cov);
                if (k < 0)
                    goto out;
                if (k != dv.n) {
                    fail(r, row, "EllipsoidGate %s: covariance row has %d "
                         "entries, expected %d", id, k, dv.n);
                    goto out;
                }
                nrow++;
            }
            stage = 2;
        } else if (stage == 2 && is_el(c, NS_G, "distanceSquare")) {
            if (num_attr(r, c, NS_D, "value", 1, &d2) < 0)
                goto out;
            stage = 3;
        } else {
            unexpected(r, c, n);
            goto out;
        }
    }
    if (stage != 3 || mean.n != dv.n || nrow != dv.n) {
        fail(r, n, "EllipsoidGate %s: needs %d dimensions, a mean, a %dx%d "
             "covarianceMatrix and distanceSquare", id, dv.n, dv.n, dv.n);
        goto out;
    }
    cg_err e2;
    cg_err_clear(&e2);
    g = cg_gate_ellipse_new(id, dv.n, dv.d, mean.v, cov.v, d2, &e2);
    if (!g)
        fail(r, n, "%s", e2.msg);
out:
    dimv_free(&dv);
    free(mean.v);
    free(cov.v);
    return g;
}

static cg_gate *read_quad(rd *r, xmlNode *n, const char *id)
{
    cg_quad_divider *dv = NULL;
    cg_quadrant *q = NULL;
    int ndv = 0, nq = 0;
    cg_gate *g = NULL;
    xmlNode *c;
    /* count first */
    for (c = next_el(n->children); c; c = next_el(c->next)) {
        if (is_el(c, NS_G, "divider"))
            ndv++;
        else if (is_el(c, NS_G, "Quadrant"))
            nq++;
        else {
            unexpected(r, c, n);
            return NULL;
        }
    }
    if (!ndv || !nq) {
        fail(r, n, "QuadrantGate %s needs dividers and Quadrants", id);
        return NULL;
    }
    dv = calloc((size_t)ndv, sizeof *dv);
    q = calloc((size_t)nq, sizeof *q);
    if (!dv || !q) {
        cg_err_set(r->err, CG_E_NOMEM, "out of memory");
        goto out;
    }
    int id_ = 0, iq = 0;
    for (c = next_el(n->children); c; c = next_el(c->next)) {
        if (is_el(c, NS_G, "divider")) {
            if (iq) {
                fail(r, c, "QuadrantGate %s: divider after a Quadrant", id);
                goto out;
            }
            cg_quad_divider *d = &dv[id_++];
            cg_dim_init(&d->dim);
            if (!(d->id = str_attr(r, c, NS_G, "id")))
                goto out;
            double *vals = NULL;
            int nv = 0;
            if (read_dim(r, c, &d->dim, &vals, &nv) < 0) {
                free(vals);
                goto out;
            }
            d->values = vals;
            d->nvalues = nv;
            if (!nv) {
                fail(r, c, "divider %s has no value", d->id);
                goto out;
            }
        } else {
            cg_quadrant *qq = &q[iq++];
            if (!(qq->id = str_attr(r, c, NS_G, "id")))
                goto out;
            double *loc = malloc((size_t)ndv * sizeof *loc);
            if (!loc) {
                cg_err_set(r->err, CG_E_NOMEM, "out of memory");
                goto out;
            }
            for (int k = 0; k < ndv; k++)
                loc[k] = NAN;
            qq->loc = loc;
            FOR_EL(p, c)
            {
                if (!is_el(p, NS_G, "position")) {
                    unexpected(r, p, c);
                    goto out;
                }
                char *ref = str_attr(r, p, NS_G, "divider_ref");
                if (!ref)
                    goto out;
                int k;
                for (k = 0; k < ndv; k++)
                    if (strcmp(dv[k].id, ref) == 0)
                        break;
                if (k == ndv) {
                    fail(r, p, "Quadrant %s: divider_ref %s is not a divider "
                         "of %s", qq->id, ref, id);
                    free(ref);
                    goto out;
                }
                free(ref);
                if (!isnan(loc[k])) {
                    fail(r, p, "Quadrant %s: two positions on divider %s",
                         qq->id, dv[k].id);
                    goto out;
                }
                if (num_attr(r, p, NS_G, "location", 1, &loc[k]) < 0)
                    goto out;
            }
        }
    }
    cg_err e2;
    cg_err_clear(&e2);
    g = cg_gate_quad_new(id, ndv, dv, nq, q, &e2);
    if (!g)
        fail(r, n, "%s", e2.msg);
out:
    if (dv)
        for (int k = 0; k < ndv; k++) {
            free((char *)dv[k].id);
            free((double *)dv[k].values);
            cg_dim_clear(&dv[k].dim);
        }
    if (q)
        for (int k = 0; k < nq; k++) {
            free((char *)q[k].id);
            free((double *)q[k].loc);
        }
    free(dv);
    free(q);
    return g;
}

static cg_gate *read_bool(rd *r, xmlNode *n, const char *id)
{
    xmlNode *opn = NULL;
    FOR_EL(c, n)
    {
        if (opn) {
            fail(r, c, "BooleanGate %s: more than one operator", id);
            return NULL;
        }
        if (!is_el(c, NS_G, "and") && !is_el(c, NS_G, "or") &&
            !is_el(c, NS_G, "not")) {
            unexpected(r, c, n);
            return NULL;
        }
        opn = c;
    }
    if (!opn) {
        fail(r, n, "BooleanGate %s has no and/or/not", id);
        return NULL;
    }
    cg_bool_op op = is_el(opn, NS_G, "and")  ? CG_BOOL_AND
                    : is_el(opn, NS_G, "or") ? CG_BOOL_OR
                                             : CG_BOOL_NOT;
    int cap = 0, nref = 0;
    char **refs = NULL;
    int *cmpl = NULL;
    cg_gate *g = NULL;
    FOR_EL(c, opn)
    {
        if (!is_el(c, NS_G, "gateReference")) {
            unexpected(r, c, opn);
            goto out;
        }
        if (nref == cap) {
            cap = cap ? 2 * cap : 4;
            char **p = realloc(refs, (size_t)cap * sizeof *p);
            int *q = p ? realloc(cmpl, (size_t)cap * sizeof *q) : NULL;
            if (p)
                refs = p;
            if (q)
                cmpl = q;
            if (!p || !q) {
                cg_err_set(r->err, CG_E_NOMEM, "out of memory");
                goto out;
            }
        }
        if (!(refs[nref] = str_attr(r, c, NS_G, "ref")))
            goto out;
        nref++;
        if (bool_attr(r, c, NS_G, "use-as-complement", &cmpl[nref - 1]) < 0)
            goto out;
    }
    cg_err e2;
    cg_err_clear(&e2);
    g = cg_gate_bool_new(id, op, nref, (const char *const *)refs, cmpl, &e2);
    if (!g)
        fail(r, opn, "%s", e2.msg);
out:
    for (int k = 0; k < nref; k++)
        free(refs[k]);
    free(refs);
    free(cmpl);
    return g;
}

static int read_gate(rd *r, xmlNode *n)
{
    char *id = str_attr(r, n, NS_G, "id");
    if (!id)
        return -CG_E_PARSE;
    char *parent = attr(n, NS_G, "parent_id");
    cg_gate *g = is_el(n, NS_G, "RectangleGate")  ? read_rect(r, n, id)
                 : is_el(n, NS_G, "PolygonGate")  ? read_polygon(r, n, id)
                 : is_el(n, NS_G, "EllipsoidGate") ? read_ellipse(r, n, id)
                 : is_el(n, NS_G, "QuadrantGate") ? read_quad(r, n, id)
                                                  : read_bool(r, n, id);
    int rc;
    if (!g) {
        rc = -(r->err && r->err->code ? r->err->code : CG_E_PARSE);
    } else {
        cg_err e2;
        cg_err_clear(&e2);
        rc = cg_gatetree_add(r->t, g, parent, &e2);
        if (rc < 0)
            rc = fail(r, n, "%s", e2.msg);
    }
    free(id);
    if (parent)
        xmlFree(parent);
    return rc;
}

static int read_doc(rd *r, xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root)
        return fail(r, NULL, "empty document");
    if (!is_el(root, NS_G, "Gating-ML")) {
        const char *href = root->ns ? (const char *)root->ns->href : "none";
        return fail(r, root, "root element is <%s> (namespace %s), expected "
                    "Gating-ML in namespace %s", (const char *)root->name,
                    href, NS_G);
    }
    int rc = 0;
    FOR_EL(c, root)
    {
        if (is_el(c, NS_T, "transformation"))
            rc = read_transformation(r, c);
        else if (is_el(c, NS_T, "spectrumMatrix"))
            rc = read_matrix(r, c);
        else if (is_el(c, NS_G, "RectangleGate") ||
                 is_el(c, NS_G, "PolygonGate") ||
                 is_el(c, NS_G, "EllipsoidGate") ||
                 is_el(c, NS_G, "QuadrantGate") ||
                 is_el(c, NS_G, "BooleanGate"))
            continue;
        else
            rc = unexpected(r, c, root);
        if (rc < 0)
            return rc;
    }
    FOR_EL(c, root)
    {
        if (is_el(c, NS_T, "transformation") ||
            is_el(c, NS_T, "spectrumMatrix"))
            continue;
        if ((rc = read_gate(r, c)) < 0)
            return rc;
    }
    cg_err e2;
    cg_err_clear(&e2);
    if (cg_gatetree_check(r->t, &e2) < 0)
        return cg_err_set(r->err, CG_E_PARSE, "%s: %s", r->name, e2.msg);
    return 0;
}

static cg_gatetree *read_common(xmlDoc *doc, const char *name, cg_err *err)
{
    rd r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.err = err;
    r.t = cg_gatetree_new();
    if (!r.t) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    int rc = read_doc(&r, doc);
    for (int i = 0; i < r.nxf; i++) {
        free(r.xf[i].id);
        free(r.xf[i].num);
        free(r.xf[i].den);
        cg_xform_free(r.xf[i].xf);
    }
    free(r.xf);
    for (int i = 0; i < r.nmat; i++)
        free(r.mat[i]);
    free(r.mat);
    if (rc < 0) {
        cg_gatetree_free(r.t);
        return NULL;
    }
    return r.t;
}

static cg_gatetree *parse(const char *buf, size_t n, const char *path,
                          const char *name, cg_err *err)
{
    xmlDoc *doc = cg_xml_read(buf, n, path, name, 0, "", err);
    if (!doc)
        return NULL;
    cg_gatetree *r = read_common(doc, name, err);
    xmlFreeDoc(doc);
    return r;
}

cg_gatetree *cg_gatingml_read(const char *path, cg_err *err)
{
    return parse(NULL, 0, path, path, err);
}

cg_gatetree *cg_gatingml_read_mem(const char *buf, size_t n, const char *name,
                                  cg_err *err)
{
    return parse(buf, n, NULL, name ? name : "(memory)", err);
}
