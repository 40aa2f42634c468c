/*
 * wsp_read.c -- FlowJo 10 workspace (.wsp) reader (libxml2 DOM).
 *
 * Reads what gating needs and nothing else: Groups (which groups list a
 * sample), and per SampleList/Sample the DataSet URI, the $FIL keyword,
 * the spilloverMatrix, the Transformations and the SampleNode's gate tree.
 * FlowJo keeps one complete gate tree per sample (group gates are copied
 * into it), so the sample trees are what is evaluated; GroupNode gate
 * templates are not read.  Layout, elements and attributes as written by
 * FlowJo 10.x (workspace version 20.0 and the 1.x-era 10.0 files share
 * it): Gating-ML namespaces for gates, transforms and data types, plain
 * names for FlowJo's own elements.  Elements are matched by local name
 * and, for Gating-ML ones, namespace URI.  Graph, Statistic and other
 * display elements are skipped.
 *
 * Errors name the file and line: malformed XML, a root that is not
 * Workspace, a gate element we do not know (with its name), missing
 * coordinates or dimensions, numbers that do not parse.
 *
 * Threading: no globals; libxml2 is initialised with xmlInitParser().
 */
#include "wsp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xmlread.h"

#include "gatingml.h"

#define NS_G CG_GML_NS_GATING
#define NS_T CG_GML_NS_XFORM
#define NS_D CG_GML_NS_DTYPE

typedef struct rd {
    const char *name;
    cg_err *err;
} rd;

static int line_of(const xmlNode *n) { return (int)xmlGetLineNo(n); }

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
    cg_err_setl(r->err, CG_E_PARSE, line, "%s:%d: %s", r->name, line, msg);
    return -1;
}

static int nomem(rd *r)
{
    cg_err_set(r->err, CG_E_NOMEM, "%s: out of memory", r->name);
    return -1;
}

/* Local name check; ns NULL = no namespace wanted (any accepted). */
static int is_el(const xmlNode *n, const char *ns, const char *local)
{
    if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name,
                                                    local) != 0)
        return 0;
    if (!ns)
        return 1;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static xmlNode *child(const xmlNode *n, const char *ns, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, ns, local))
            return c;
    return NULL;
}

/* Attribute in namespace ns, else without one; owned (xmlFree) or NULL. */
static char *attr(const xmlNode *n, const char *ns, const char *name)
{
    xmlChar *v = NULL;
    if (ns)
        v = xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);
    if (!v)
        v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        v = xmlGetProp(n, (const xmlChar *)name);
    return (char *)v;
}

/* Copy of an attribute (malloc'd) or NULL. */
static char *attr_dup(const xmlNode *n, const char *ns, const char *name)
{
    char *v = attr(n, ns, name);
    if (!v)
        return NULL;
    char *s = strdup(v);
    xmlFree(v);
    return s;
}

/* Number attribute: 1 found, 0 absent (*out = dflt), -1 bad (err set). */
static int attr_num(rd *r, const xmlNode *n, const char *ns,
                    const char *name, double dflt, double *out)
{
    char *v = attr(n, ns, name);
    *out = dflt;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    while (*end == ' ')
        end++;
    int ok = end != v && !*end && errno != ERANGE;
    if (!ok) {
        fail(r, n, "%s: attribute %s=\"%s\" is not a number",
             (const char *)n->name, name, v);
        xmlFree(v);
        return -1;
    }
    xmlFree(v);
    *out = d;
    return 1;
}

static int need_num(rd *r, const xmlNode *n, const char *ns, const char *name,
                    double *out)
{
    int k = attr_num(r, n, ns, name, NAN, out);
    if (k == 0)
        return fail(r, n, "%s: attribute %s is missing",
                    (const char *)n->name, name);
    return k < 0 ? -1 : 0;
}

/* ---- freeing ----------------------------------------------------------- */

static void pop_free(cg_wsp_pop *p)
{
    free(p->name);
    free(p->path);
    for (int i = 0; i < p->ndim; i++)
        free(p->dims[i].name);
    free(p->dims);
    free(p->xy);
    for (int i = 0; i < p->ndeps; i++)
        free(p->deps[i]);
    free(p->deps);
}

static void matrix_free(cg_wsp_matrix *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->prefix);
    free(m->suffix);
    for (int i = 0; i < m->n; i++)
        free(m->param[i]);
    free(m->param);
    free(m->v);
    free(m);
}

static void sample_free(cg_wsp_sample *s)
{
    free(s->id);
    free(s->name);
    free(s->uri);
    free(s->fil);
    matrix_free(s->comp);
    for (int i = 0; i < s->nxf; i++)
        free(s->xf[i].param);
    free(s->xf);
    for (int i = 0; i < s->npops; i++)
        pop_free(&s->pops[i]);
    free(s->pops);
    for (int i = 0; i < s->ngroups; i++)
        free(s->groups[i]);
    free(s->groups);
    free(s->error);
}

void cg_wsp_free(cg_wsp *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nsamples; i++)
        sample_free(&w->samples[i]);
    free(w->samples);
    free(w->path);
    free(w->version);
    free(w->flowjo_version);
    free(w);
}

const char *cg_wsp_gkind_name(int kind)
{
    static const char *const k[] = {"rectangle", "polygon", "ellipse",
                                    "and", "or", "not"};
    return kind >= 0 && kind <= CG_WSP_NOT ? k[kind] : "?";
}

const char *cg_wsp_xf_name(int kind)
{
    static const char *const k[] = {"linear", "log", "logicle", "biex",
                                    "fasinh"};
    return kind >= 0 && kind <= CG_WSP_XF_FASINH ? k[kind] : "?";
}

/* ---- compensation and transforms --------------------------------------- */

static int read_matrix(rd *r, const xmlNode *mn, cg_wsp_sample *s)
{
    cg_wsp_matrix *m = calloc(1, sizeof *m);
    if (!m)
        return nomem(r);
    s->comp = m;
    m->line = line_of(mn);
    m->name = attr_dup(mn, NS_T, "name");
    m->prefix = attr_dup(mn, NS_T, "prefix");
    m->suffix = attr_dup(mn, NS_T, "suffix");
    if (!m->name && !(m->name = strdup("")))
        return nomem(r);
    if (!m->prefix && !(m->prefix = strdup("")))
        return nomem(r);
    if (!m->suffix && !(m->suffix = strdup("")))
        return nomem(r);
    const xmlNode *ps = child(mn, NS_D, "parameters");
    if (!ps)
        return fail(r, mn, "spilloverMatrix '%s' has no data-type:parameters",
                    m->name);
    int n = 0;
    for (const xmlNode *c = ps->children; c; c = c->next)
        n += is_el(c, NS_D, "parameter");
    if (n == 0)
        return fail(r, ps, "spilloverMatrix '%s' lists no parameters",
                    m->name);
    m->param = calloc((size_t)n, sizeof *m->param);
    m->v = calloc((size_t)n * (size_t)n, sizeof *m->v);
    if (!m->param || !m->v)
        return nomem(r);
    for (const xmlNode *c = ps->children; c; c = c->next) {
        if (!is_el(c, NS_D, "parameter"))
            continue;
        if (!(m->param[m->n] = attr_dup(c, NS_D, "name")))
            return fail(r, c, "data-type:parameter without data-type:name");
        m->n++;
    }
    int row = 0;
    for (const xmlNode *sp = mn->children; sp; sp = sp->next) {
        if (!is_el(sp, NS_T, "spillover"))
            continue;
        if (row >= n)
            return fail(r, sp, "spilloverMatrix '%s': more spillover rows "
                        "than its %d parameters", m->name, n);
        char *src = attr(sp, NS_D, "parameter");
        int ri = row;
        if (src) {
            ri = -1;
            for (int k = 0; k < n; k++)
                if (strcmp(m->param[k], src) == 0)
                    ri = k;
            if (ri < 0) {
                fail(r, sp, "spillover row for '%s', which the matrix does "
                     "not list", src);
                xmlFree(src);
                return -1;
            }
            xmlFree(src);
        }
        int col = 0;
        for (const xmlNode *co = sp->children; co; co = co->next) {
            if (!is_el(co, NS_T, "coefficient"))
                continue;
            char *dst = attr(co, NS_D, "parameter");
            int ci = col;
            if (dst) {
                ci = -1;
                for (int k = 0; k < n; k++)
                    if (strcmp(m->param[k], dst) == 0)
                        ci = k;
                xmlFree(dst);
            }
            if (ci < 0 || ci >= n)
                return fail(r, co, "coefficient for a parameter the matrix "
                            "does not list");
            double v;
            if (need_num(r, co, NS_T, "value", &v) < 0)
                return -1;
            m->v[(size_t)ri * (size_t)n + (size_t)ci] = v;
            col++;
        }
        if (col != n)
            return fail(r, sp, "spillover row has %d coefficients, the "
                        "matrix %d parameters", col, n);
        row++;
    }
    if (row != n)
        return fail(r, mn, "spilloverMatrix '%s' has %d spillover rows for "
                    "%d parameters", m->name, row, n);
    return 0;
}

static int read_xforms(rd *r, const xmlNode *tn, cg_wsp_sample *s)
{
    int n = 0;
    for (const xmlNode *c = tn->children; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE;
    if (!n)
        return 0;
    s->xf = calloc((size_t)n, sizeof *s->xf);
    if (!s->xf)
        return nomem(r);
    for (const xmlNode *c = tn->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        cg_wsp_xf *x = &s->xf[s->nxf];
        x->line = line_of(c);
        const xmlNode *pn = child(c, NS_D, "parameter");
        if (!is_el(c, NS_T, (const char *)c->name))
            return fail(r, c, "Transformations: unexpected element <%s>",
                        (const char *)c->name);
        if (!pn || !(x->param = attr_dup(pn, NS_D, "name")))
            return fail(r, c, "transforms:%s names no data-type:parameter",
                        (const char *)c->name);
        s->nxf++;
        const char *k = (const char *)c->name;
        int bad = 0;
        if (strcmp(k, "linear") == 0) {
            x->kind = CG_WSP_XF_LINEAR;
            bad |= attr_num(r, c, NS_T, "minRange", 0, &x->min) < 0;
            bad |= attr_num(r, c, NS_T, "maxRange", 262144, &x->max) < 0;
            bad |= attr_num(r, c, NS_T, "gain", 1, &x->gain) < 0;
        } else if (strcmp(k, "log") == 0) {
            x->kind = CG_WSP_XF_LOG;
            bad |= attr_num(r, c, NS_T, "offset", 1, &x->offset) < 0;
            bad |= attr_num(r, c, NS_T, "decades", 4.5, &x->decades) < 0;
        } else if (strcmp(k, "logicle") == 0) {
            x->kind = CG_WSP_XF_LOGICLE;
            bad |= need_num(r, c, NS_T, "T", &x->T) < 0;
            bad |= need_num(r, c, NS_T, "W", &x->W) < 0;
            bad |= need_num(r, c, NS_T, "M", &x->M) < 0;
            bad |= attr_num(r, c, NS_T, "A", 0, &x->A) < 0;
        } else if (strcmp(k, "biex") == 0) {
            x->kind = CG_WSP_XF_BIEX;
            bad |= attr_num(r, c, NS_T, "neg", 0, &x->neg) < 0;
            bad |= attr_num(r, c, NS_T, "width", -10, &x->width) < 0;
            bad |= attr_num(r, c, NS_T, "pos", 4.418540, &x->pos) < 0;
            bad |= attr_num(r, c, NS_T, "maxRange", 262144, &x->range) < 0;
            bad |= attr_num(r, c, NS_T, "length", 256, &x->length) < 0;
        } else if (strcmp(k, "fasinh") == 0) {
            x->kind = CG_WSP_XF_FASINH;
            bad |= need_num(r, c, NS_T, "T", &x->T) < 0;
            bad |= need_num(r, c, NS_T, "M", &x->M) < 0;
            bad |= attr_num(r, c, NS_T, "A", 0, &x->A) < 0;
            bad |= attr_num(r, c, NS_T, "W", 0, &x->W) < 0;
        } else {
            return fail(r, c, "transform transforms:%s (channel '%s') is not "
                        "supported (linear, log, logicle, biex, fasinh are)",
                        k, x->param);
        }
        if (bad)
            return -1;
    }
    return 0;
}

/* ---- gates ------------------------------------------------------------- */

/* Append the dimensions of a gate element (gating:dimension children). */
static int read_dims(rd *r, const xmlNode *g, cg_wsp_pop *p)
{
    int n = 0;
    for (const xmlNode *c = g->children; c; c = c->next)
        n += is_el(c, NS_G, "dimension");
    if (!n)
        return fail(r, g, "gate of population '%s' has no gating:dimension",
                    p->name);
    p->dims = calloc((size_t)n, sizeof *p->dims);
    if (!p->dims)
        return nomem(r);
    for (const xmlNode *c = g->children; c; c = c->next) {
        if (!is_el(c, NS_G, "dimension"))
            continue;
        cg_wsp_dim *d = &p->dims[p->ndim];
        d->min = d->max = NAN;
        const xmlNode *fd = child(c, NS_D, "fcs-dimension");
        if (!fd)
            return fail(r, c, "population '%s': a gating:dimension without "
                        "data-type:fcs-dimension (ratio and new dimensions "
                        "are not supported)", p->name);
        if (!(d->name = attr_dup(fd, NS_D, "name")))
            return fail(r, fd, "data-type:fcs-dimension without data-type:name");
        p->ndim++;
        if (attr_num(r, c, NS_G, "min", NAN, &d->min) < 0 ||
            attr_num(r, c, NS_G, "max", NAN, &d->max) < 0)
            return -1;
    }
    return 0;
}

/* Coordinates of a gating:vertex into out[0..1]. */
static int read_vertex(rd *r, const xmlNode *v, double *out)
{
    int k = 0;
    for (const xmlNode *c = v->children; c; c = c->next) {
        if (!is_el(c, NS_G, "coordinate"))
            continue;
        if (k >= 2)
            return fail(r, v, "a vertex with more than 2 coordinates");
        if (need_num(r, c, NS_D, "value", &out[k]) < 0)
            return -1;
        k++;
    }
    if (k != 2)
        return fail(r, v, "a vertex with %d coordinates (2 expected)", k);
    return 0;
}

static int read_vertices(rd *r, const xmlNode *parent, double *out, int want)
{
    int k = 0;
    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (!is_el(c, NS_G, "vertex"))
            continue;
        if (k >= want)
            return fail(r, parent, "more than %d vertices", want);
        if (read_vertex(r, c, out + 2 * k) < 0)
            return -1;
        k++;
    }
    if (k != want)
        return fail(r, parent, "%d vertices, %d expected", k, want);
    return 0;
}

static int read_gate(rd *r, const xmlNode *gate, cg_wsp_pop *p)
{
    const xmlNode *g = NULL;
    for (const xmlNode *c = gate->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) {
            if (g)
                return fail(r, c, "population '%s': Gate holds more than "
                            "one gate element", p->name);
            g = c;
        }
    if (!g)
        return fail(r, gate, "population '%s': empty Gate element", p->name);
    const char *k = (const char *)g->name;
    if (!is_el(g, NS_G, k))
        return fail(r, g, "population '%s': <%s> is not a Gating-ML gate",
                    p->name, k);
    double ev = 1;
    if (attr_num(r, g, NULL, "eventsInside", 1, &ev) < 0)
        return -1;
    p->complement = ev == 0;
    if (strcmp(k, "RectangleGate") == 0) {
        p->kind = CG_WSP_RECT;
        if (read_dims(r, g, p) < 0)
            return -1;
        for (int i = 0; i < p->ndim; i++)
            if (!isnan(p->dims[i].min) && !isnan(p->dims[i].max) &&
                !(p->dims[i].min <= p->dims[i].max))
                return fail(r, g, "population '%s': dimension '%s' has min "
                            "%g above max %g", p->name, p->dims[i].name,
                            p->dims[i].min, p->dims[i].max);
        return 0;
    }
    if (strcmp(k, "PolygonGate") == 0) {
        p->kind = CG_WSP_POLYGON;
        if (read_dims(r, g, p) < 0)
            return -1;
        if (p->ndim != 2)
            return fail(r, g, "population '%s': polygon with %d dimensions "
                        "(2 expected)", p->name, p->ndim);
        int nv = 0;
        for (const xmlNode *c = g->children; c; c = c->next)
            nv += is_el(c, NS_G, "vertex");
        if (nv < 3)
            return fail(r, g, "population '%s': polygon with %d vertices "
                        "(at least 3 expected)", p->name, nv);
        if (!(p->xy = malloc((size_t)nv * 2 * sizeof *p->xy)))
            return nomem(r);
        p->nv = nv;
        return read_vertices(r, g, p->xy, nv);
    }
    if (strcmp(k, "EllipsoidGate") == 0) {
        p->kind = CG_WSP_ELLIPSE;
        if (read_dims(r, g, p) < 0)
            return -1;
        if (p->ndim != 2)
            return fail(r, g, "population '%s': ellipse with %d dimensions "
                        "(2 expected)", p->name, p->ndim);
        const xmlNode *fo = child(g, NS_G, "foci"), *ed = child(g, NS_G,
                                                                "edge");
        if (!fo || !ed)
            return fail(r, g, "population '%s': FlowJo ellipse without "
                        "gating:foci and gating:edge", p->name);
        if (read_vertices(r, fo, p->foci, 2) < 0 ||
            read_vertices(r, ed, p->edge, 4) < 0)
            return -1;
        return 0;
    }
    return fail(r, g, "population '%s': gate type gating:%s is not supported "
                "(RectangleGate, PolygonGate, EllipsoidGate and the "
                "And/Or/NotNode booleans are)", p->name, k);
}

static int read_deps(rd *r, const xmlNode *node, cg_wsp_pop *p)
{
    const xmlNode *ds = child(node, NULL, "Dependents");
    int n = 0;
    for (const xmlNode *c = ds ? ds->children : NULL; c; c = c->next)
        n += is_el(c, NULL, "Dependent");
    int need = p->kind == CG_WSP_NOT ? 1 : 2;
    if (p->kind == CG_WSP_NOT ? n != 1 : n < 2)
        return fail(r, node, "boolean population '%s' has %d Dependents "
                    "(%s%d expected)", p->name, n,
                    p->kind == CG_WSP_NOT ? "" : "at least ", need);
    if (!(p->deps = calloc((size_t)n, sizeof *p->deps)))
        return nomem(r);
    for (const xmlNode *c = ds->children; c; c = c->next) {
        if (!is_el(c, NULL, "Dependent"))
            continue;
        if (!(p->deps[p->ndeps] = attr_dup(c, NULL, "name")))
            return fail(r, c, "Dependent without a name");
        p->ndeps++;
    }
    return 0;
}

static int add_pop(rd *r, cg_wsp_sample *s, int *cap)
{
    if (s->npops == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        cg_wsp_pop *np = realloc(s->pops, (size_t)nc * sizeof *np);
        if (!np)
            return nomem(r);
        s->pops = np;
        *cap = nc;
    }
    memset(&s->pops[s->npops], 0, sizeof s->pops[0]);
    return s->npops++;
}

static int read_subpops(rd *r, const xmlNode *sub, cg_wsp_sample *s,
                        int parent, int *cap)
{
    for (const xmlNode *c = sub->children; c; c = c->next) {
        int kind;
        if (is_el(c, NULL, "Population"))
            kind = CG_WSP_RECT;
        else if (is_el(c, NULL, "AndNode"))
            kind = CG_WSP_AND;
        else if (is_el(c, NULL, "OrNode"))
            kind = CG_WSP_OR;
        else if (is_el(c, NULL, "NotNode"))
            kind = CG_WSP_NOT;
        else
            continue; /* Statistic, display elements */
        int i = add_pop(r, s, cap);
        if (i < 0)
            return -1;
        cg_wsp_pop *p = &s->pops[i];
        p->parent = parent;
        p->kind = kind;
        p->line = line_of(c);
        if (!(p->name = attr_dup(c, NULL, "name")))
            return fail(r, c, "%s without a name", (const char *)c->name);
        const char *pp = parent >= 0 ? s->pops[parent].path : NULL;
        size_t len = (pp ? strlen(pp) + 1 : 0) + strlen(p->name) + 1;
        if (!(p->path = malloc(len)))
            return nomem(r);
        snprintf(p->path, len, "%s%s%s", pp ? pp : "", pp ? "/" : "",
                 p->name);
        double cnt;
        if (attr_num(r, c, NULL, "count", -1, &cnt) < 0)
            return -1;
        p->stored = cnt >= 0 ? (int64_t)cnt : -1;
        if (kind == CG_WSP_RECT) {
            const xmlNode *gate = child(c, NULL, "Gate");
            if (!gate)
                return fail(r, c, "population '%s' has no Gate", p->name);
            if (read_gate(r, gate, p) < 0)
                return -1;
        } else if (read_deps(r, c, p) < 0) {
            return -1;
        }
        const xmlNode *ch = child(c, NULL, "Subpopulations");
        if (ch && read_subpops(r, ch, s, i, cap) < 0)
            return -1;
        /* s->pops may have moved; nothing below uses p */
    }
    return 0;
}

static int read_sample(rd *r, const xmlNode *sn, cg_wsp_sample *s)
{
    s->line = line_of(sn);
    s->stored_total = -1;
    const xmlNode *ds = child(sn, NULL, "DataSet");
    if (ds) {
        s->uri = attr_dup(ds, NULL, "uri");
        s->id = attr_dup(ds, NULL, "sampleID");
    }
    const xmlNode *node = child(sn, NULL, "SampleNode");
    if (!node)
        return fail(r, sn, "Sample without a SampleNode");
    s->name = attr_dup(node, NULL, "name");
    if (!s->id)
        s->id = attr_dup(node, NULL, "sampleID");
    if (!s->name || !s->id)
        return fail(r, node, "SampleNode without name or sampleID");
    double cnt;
    if (attr_num(r, node, NULL, "count", -1, &cnt) < 0)
        return -1;
    s->stored_total = cnt >= 0 ? (int64_t)cnt : -1;
    const xmlNode *kw = child(sn, NULL, "Keywords");
    for (const xmlNode *c = kw ? kw->children : NULL; c; c = c->next) {
        if (!is_el(c, NULL, "Keyword"))
            continue;
        char *k = attr(c, NULL, "name");
        if (k && strcmp(k, "$FIL") == 0) {
            free(s->fil);
            s->fil = attr_dup(c, NULL, "value");
        }
        if (k)
            xmlFree(k);
    }
    int nm = 0;
    for (const xmlNode *c = sn->children; c; c = c->next)
        if (is_el(c, NS_T, "spilloverMatrix")) {
            if (nm++)
                return fail(r, c, "sample '%s' has more than one "
                            "spilloverMatrix", s->name);
            if (read_matrix(r, c, s) < 0)
                return -1;
        }
    const xmlNode *tf = child(sn, NULL, "Transformations");
    if (tf && read_xforms(r, tf, s) < 0)
        return -1;
    const xmlNode *sub = child(node, NULL, "Subpopulations");
    int cap = 0;
    if (sub && read_subpops(r, sub, s, -1, &cap) < 0)
        return -1;
    return 0;
}

static int add_group(rd *r, cg_wsp *w, const char *sid, const char *group)
{
    for (int i = 0; i < w->nsamples; i++) {
        cg_wsp_sample *s = &w->samples[i];
        if (strcmp(s->id, sid) != 0)
            continue;
        char **ng = realloc(s->groups, (size_t)(s->ngroups + 1) * sizeof *ng);
        if (!ng)
            return nomem(r);
        s->groups = ng;
        if (!(s->groups[s->ngroups] = strdup(group)))
            return nomem(r);
        s->ngroups++;
    }
    return 0;
}

/* A sample that could not be read: keep it, with the error and no
 * populations.  0, or -1 when out of memory (the workspace is lost). */
static int sample_failed(rd *r, cg_wsp_sample *s)
{
    if (r->err->code == CG_E_NOMEM)
        return -1;
    for (int i = 0; i < s->npops; i++)
        pop_free(&s->pops[i]);
    free(s->pops);
    s->pops = NULL;
    s->npops = 0;
    s->error = strdup(r->err->msg);
    s->error_line = r->err->line;
    if (!s->id)
        s->id = strdup("");
    if (!s->name)
        s->name = strdup("(unnamed)");
    if (!s->error || !s->id || !s->name)
        return nomem(r);
    cg_err_clear(r->err);
    return 0;
}

static cg_wsp *read_doc(xmlDoc *doc, const char *name, cg_err *err)
{
    rd r = {name, err};
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is_el(root, NULL, "Workspace")) {
        fail(&r, root, "not a FlowJo workspace (root element <%s>, "
             "<Workspace> expected)", root ? (const char *)root->name : "");
        return NULL;
    }
    cg_wsp *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(name))) {
        free(w);
        nomem(&r);
        return NULL;
    }
    w->version = attr_dup(root, NULL, "version");
    w->flowjo_version = attr_dup(root, NULL, "flowJoVersion");
    const xmlNode *sl = child(root, NULL, "SampleList");
    int n = 0;
    for (const xmlNode *c = sl ? sl->children : NULL; c; c = c->next)
        n += is_el(c, NULL, "Sample");
    if (n && !(w->samples = calloc((size_t)n, sizeof *w->samples))) {
        nomem(&r);
        cg_wsp_free(w);
        return NULL;
    }
    for (const xmlNode *c = sl ? sl->children : NULL; c; c = c->next) {
        if (!is_el(c, NULL, "Sample"))
            continue;
        cg_wsp_sample *s = &w->samples[w->nsamples++];
        if (read_sample(&r, c, s) < 0 && sample_failed(&r, s) < 0) {
            cg_wsp_free(w);
            return NULL;
        }
    }
    const xmlNode *gs = child(root, NULL, "Groups");
    for (const xmlNode *g = gs ? gs->children : NULL; g; g = g->next) {
        if (!is_el(g, NULL, "GroupNode"))
            continue;
        char *gname = attr(g, NULL, "name");
        const xmlNode *grp = child(g, NULL, "Group");
        const xmlNode *refs = child(grp, NULL, "SampleRefs");
        for (const xmlNode *c = refs ? refs->children : NULL; c && gname;
             c = c->next) {
            if (!is_el(c, NULL, "SampleRef"))
                continue;
            char *sid = attr(c, NULL, "sampleID");
            int rc = sid ? add_group(&r, w, sid, gname) : 0;
            if (sid)
                xmlFree(sid);
            if (rc < 0) {
                xmlFree(gname);
                cg_wsp_free(w);
                return NULL;
            }
        }
        if (gname)
            xmlFree(gname);
    }
    return w;
}

static cg_wsp *parse(const char *buf, size_t n, const char *path,
                     const char *name, cg_err *err)
{
    xmlDoc *doc = cg_xml_read(buf, n, path, name, 1, "malformed XML: ", err);
    if (!doc)
        return NULL;
    cg_wsp *r = read_doc(doc, name, err);
    xmlFreeDoc(doc);
    return r;
}

cg_wsp *cg_wsp_read(const char *path, cg_err *err)
{
    return parse(NULL, 0, path, path, err);
}

cg_wsp *cg_wsp_read_mem(const char *buf, size_t n, const char *name,
                        cg_err *err)
{
    return parse(buf, n, NULL, name ? name : "(memory)", err);
}

/* ---- lookups ------------------------------------------------------------ */

const char *cg_wsp_dim_channel(const cg_wsp_sample *s, const char *dim,
                               int *compensated, char *buf, int n)
{
    *compensated = 0;
    snprintf(buf, (size_t)n, "%s", dim);
    const cg_wsp_matrix *m = s->comp;
    if (!m)
        return buf;
    size_t lp = strlen(m->prefix), ls = strlen(m->suffix), ld = strlen(dim);
    if (lp + ls == 0 || ld <= lp + ls || strncmp(dim, m->prefix, lp) != 0 ||
        strcmp(dim + ld - ls, m->suffix) != 0)
        return buf;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(ld - lp - ls), dim + lp);
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->param[i], tmp) == 0) {
            *compensated = 1;
            snprintf(buf, (size_t)n, "%s", tmp);
            return buf;
        }
    return buf;
}

const cg_wsp_xf *cg_wsp_sample_xf(const cg_wsp_sample *s, const char *dim)
{
    for (int i = 0; i < s->nxf; i++)
        if (strcmp(s->xf[i].param, dim) == 0)
            return &s->xf[i];
    char buf[256];
    int comp;
    const char *ch = cg_wsp_dim_channel(s, dim, &comp, buf, sizeof buf);
    if (comp)
        for (int i = 0; i < s->nxf; i++)
            if (strcmp(s->xf[i].param, ch) == 0)
                return &s->xf[i];
    return NULL;
}

cg_xform *cg_wsp_xform(const cg_wsp_xf *x, double *scale, cg_err *err)
{
    cg_xform_params p;
    memset(&p, 0, sizeof p);
    double sc = 1;
    cg_xform *xf = NULL;
    switch (x->kind) {
    case CG_WSP_XF_LINEAR:
        sc = 0;
        xf = cg_xform_new(CG_XF_IDENTITY, &p, err);
        break;
    case CG_WSP_XF_LOG:
        /* FlowJo: log10(x / offset) / decades (0..1 over the decades);
         * Gating-ML flog with T = offset * 10^decades, M = decades is the
         * same function */
        p.M = x->decades;
        p.T = x->offset * pow(10.0, x->decades);
        xf = cg_xform_new(CG_XF_LOG, &p, err);
        break;
    case CG_WSP_XF_LOGICLE:
        p.T = x->T, p.W = x->W, p.M = x->M, p.A = x->A;
        xf = cg_xform_new(CG_XF_LOGICLE, &p, err);
        break;
    case CG_WSP_XF_BIEX:
        sc = 4096;
        p.width = x->width, p.pos = x->pos, p.neg = x->neg, p.max = x->range;
        xf = cg_xform_new(CG_XF_BIEX, &p, err);
        break;
    case CG_WSP_XF_FASINH:
        p.T = x->T, p.M = x->M, p.A = x->A;
        xf = cg_xform_new(CG_XF_ASINH, &p, err);
        break;
    default:
        cg_err_set(err, CG_E_ARG, "unknown transform kind %d", x->kind);
        return NULL;
    }
    if (scale)
        *scale = sc;
    return xf;
}
