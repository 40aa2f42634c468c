/*
 * config.c -- load and validate the YAML gating config (see config.h and
 * README "Config reference").
 *
 * libyaml builds a node tree (yaml_parser_load); each node carries its
 * start mark, so every error names the 1-based line of the node at fault
 * and its key path ("gates[4] (cd4).dims[1].method").  Unknown keys,
 * duplicate keys, wrong types, out-of-range numbers, forward or unknown
 * gate parents, dimensions that are neither panel markers nor scatter
 * roles, unknown statistics and metric populations are all refused here,
 * before any sample is read.
 *
 * The result is plain data owned by the config; it is immutable after
 * loading and shared read-only between worker threads.  No globals.
 */
#include "config.h"
#include "readfile.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "opencyto.h"
#include "qc.h"
#include "util.h"

/* Parsing context: the document, the error and the current key path. */
typedef struct pctx {
    yaml_document_t *doc;
    cg_err *err;
    cg_config *cfg;
    char path[160];
} pctx;

typedef yaml_node_t node;

static int line_of(const node *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static int fail(pctx *c, const node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(pctx *c, const node *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->path[0])
        cg_err_setl(c->err, CG_E_PARSE, line_of(n), "%s: %s", c->path, msg);
    else
        cg_err_setl(c->err, CG_E_PARSE, line_of(n), "%s", msg);
    return -1;
}

/* Push/pop a path component.  Returns the previous length. */
static size_t push(pctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t push(pctx *c, const char *fmt, ...)
{
    size_t old = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + old, sizeof c->path - old, fmt, ap);
    va_end(ap);
    return old;
}
static void pop(pctx *c, size_t old) { c->path[old] = '\0'; }

static node *get(pctx *c, int idx) { return yaml_document_get_node(c->doc, idx); }

static const char *scalar(const node *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

static int want_str(pctx *c, node *n, const char **out)
{
    const char *s = scalar(n);
    if (!s)
        return fail(c, n, "expected a string");
    if (!*s)
        return fail(c, n, "empty value");
    *out = s;
    return 0;
}

static int want_dup(pctx *c, node *n, char **out)
{
    const char *s = NULL;
    if (want_str(c, n, &s) < 0)
        return -1;
    free(*out);
    *out = strdup(s);
    if (!*out)
        return fail(c, n, "out of memory");
    return 0;
}

static int want_num(pctx *c, node *n, double *out)
{
    const char *s = scalar(n);
    double v;
    if (!s || cg_parse_double(s, &v) < 0 || !isfinite(v))
        return fail(c, n, "expected a number, got '%s'", s ? s : "(not a scalar)");
    *out = v;
    return 0;
}

static int want_num_in(pctx *c, node *n, double lo, double hi, int open,
                       double *out)
{
    if (want_num(c, n, out) < 0)
        return -1;
    int bad = open ? !(*out > lo && *out < hi) : !(*out >= lo && *out <= hi);
    if (bad)
        return fail(c, n, "%g is out of range (expected %s%g, %g%s)", *out,
                    open ? "(" : "[", lo, hi, open ? ")" : "]");
    return 0;
}

static int want_bool(pctx *c, node *n, int *out)
{
    const char *s = scalar(n);
    if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
              !strcasecmp(s, "on"))) {
        *out = 1;
        return 0;
    }
    if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
              !strcasecmp(s, "off"))) {
        *out = 0;
        return 0;
    }
    return fail(c, n, "expected true or false, got '%s'",
                s ? s : "(not a scalar)");
}

static int want_map(pctx *c, node *n)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return fail(c, n, "expected a mapping (key: value)");
    /* Refuse duplicate keys: YAML says they are an error, libyaml keeps
     * both, and silently taking one would hide a typo. */
    yaml_node_pair_t *a0 = n->data.mapping.pairs.start;
    yaml_node_pair_t *top = n->data.mapping.pairs.top;
    for (yaml_node_pair_t *a = a0; a < top; a++) {
        const char *ka = scalar(get(c, a->key));
        if (!ka)
            return fail(c, get(c, a->key), "keys must be plain strings");
        for (yaml_node_pair_t *b = a0; b < a; b++) {
            const char *kb = scalar(get(c, b->key));
            if (kb && strcmp(ka, kb) == 0)
                return fail(c, get(c, a->key), "duplicate key '%s'", ka);
        }
    }
    return 0;
}

static int want_seq(pctx *c, node *n)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, "expected a list");
    return 0;
}

static int seq_len(const node *n)
{
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}
static node *seq_at(pctx *c, node *n, int i)
{
    return get(c, n->data.sequence.items.start[i]);
}
static int map_len(const node *n)
{
    return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* A list of strings (a single scalar is taken as a one-element list). */
static int want_strlist(pctx *c, node *n, char ***out, int *nout)
{
    *out = NULL;
    *nout = 0;
    if (n && n->type == YAML_SCALAR_NODE) {
        *out = calloc(1, sizeof **out);
        if (!*out)
            return fail(c, n, "out of memory");
        *nout = 1;
        return want_dup(c, n, &(*out)[0]);
    }
    if (want_seq(c, n) < 0)
        return -1;
    int k = seq_len(n);
    *out = calloc(k ? (size_t)k : 1, sizeof **out);
    if (!*out)
        return fail(c, n, "out of memory");
    *nout = k;
    for (int i = 0; i < k; i++) {
        size_t o = push(c, "[%d]", i);
        int r = want_dup(c, seq_at(c, n, i), &(*out)[i]);
        pop(c, o);
        if (r < 0)
            return -1;
    }
    return 0;
}

static void free_strs(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Key and value node of pair i of a mapping. */
static const char *pair_key(pctx *c, node *m, int i)
{
    return scalar(get(c, m->data.mapping.pairs.start[i].key));
}
static node *pair_val(pctx *c, node *m, int i)
{
    return get(c, m->data.mapping.pairs.start[i].value);
}

static int unknown_key(pctx *c, node *m, const char *k, const char *allowed)
{
    node *kn = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top; p++)
        if (strcmp(scalar(get(c, p->key)), k) == 0)
            kn = get(c, p->key);
    return fail(c, kn, "unknown key '%s' (expected one of: %s)", k, allowed);
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return 0;
    return 1;
}

/* ------------------------------------------------------------ panel -- */

static int parse_panel(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = map_len(n);
    if (k == 0)
        return fail(c, n, "the panel lists no markers");
    cfg->markers = calloc((size_t)k, sizeof *cfg->markers);
    if (!cfg->markers)
        return fail(c, n, "out of memory");
    for (int key_i = 0; key_i < map_len(n); key_i++) {
        const char *key = pair_key(c, n, key_i);
        node *v = pair_val(c, n, key_i);
        cg_marker_spec *m = &cfg->markers[cfg->nmarkers];
        size_t o = push(c, ".%s", key);
        m->line = line_of(v);
        m->name = strdup(key);
        cfg->nmarkers++;
        if (!m->name)
            return fail(c, v, "out of memory");
        if (!valid_name(key))
            return fail(c, v, "marker names use letters, digits, '_', '-' and '.'");
        for (int i = 0; i < cfg->nmarkers - 1; i++)
            if (!strcasecmp(cfg->markers[i].name, key))
                return fail(c, v, "marker '%s' listed twice", key);
        if (v->type == YAML_SCALAR_NODE && !*scalar(v)) {
            pop(c, o);
            continue; /* "CD3:" with nothing: defaults */
        }
        if (want_map(c, v) < 0)
            return -1;
        for (int mk_i = 0; mk_i < map_len(v); mk_i++) {
            const char *mk = pair_key(c, v, mk_i);
            node *mv = pair_val(c, v, mk_i);
            size_t o2 = push(c, ".%s", mk);
            int r;
            if (!strcmp(mk, "channel"))
                r = want_dup(c, mv, &m->channel);
            else if (!strcmp(mk, "optional"))
                r = want_bool(c, mv, &m->optional);
            else if (!strcmp(mk, "aliases"))
                r = want_strlist(c, mv, &m->aliases, &m->naliases);
            else {
                pop(c, o2);
                return unknown_key(c, v, mk, "channel, optional, aliases");
            }
            pop(c, o2);
            if (r < 0)
                return -1;
        }
        pop(c, o);
    }
    return 0;
}

static int parse_scatter(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = map_len(n);
    cfg->scatter = calloc(k ? (size_t)k : 1, sizeof *cfg->scatter);
    if (!cfg->scatter)
        return fail(c, n, "out of memory");
    for (int key_i = 0; key_i < map_len(n); key_i++) {
        const char *key = pair_key(c, n, key_i);
        node *v = pair_val(c, n, key_i);
        cg_scatter_spec *s = &cfg->scatter[cfg->nscatter];
        size_t o = push(c, ".%s", key);
        s->line = line_of(v);
        s->role = strdup(key);
        cfg->nscatter++;
        if (!s->role)
            return fail(c, v, "out of memory");
        for (int i = 0; i < cfg->nscatter - 1; i++)
            if (!strcasecmp(cfg->scatter[i].role, key))
                return fail(c, v, "scatter role '%s' listed twice", key);
        if (cg_config_marker(cfg, key) >= 0)
            return fail(c, v, "'%s' is both a panel marker and a scatter role",
                        key);
        if (want_strlist(c, v, &s->patterns, &s->npatterns) < 0)
            return -1;
        if (s->npatterns == 0)
            return fail(c, v, "no $PnN patterns given");
        pop(c, o);
    }
    return 0;
}

/* ----------------------------------------------------- compensation -- */

static char *resolve_rel(const char *dir, const char *p)
{
    if (p[0] == '/' || !strcmp(dir, "."))
        return strdup(p);
    return cg_path_join(dir, p);
}

static int parse_comp(pctx *c, node *n)
{
    const char *s = NULL;
    if (want_str(c, n, &s) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    if (!strcasecmp(s, "file") || !strcasecmp(s, "keywords")) {
        cfg->comp_mode = CG_CMP_FILE;
    } else if (!strcasecmp(s, "none")) {
        cfg->comp_mode = CG_CMP_NONE;
    } else {
        cfg->comp_mode = CG_CMP_CSV;
        cfg->comp_path = resolve_rel(cfg->dir, s);
        if (!cfg->comp_path)
            return fail(c, n, "out of memory");
    }
    return 0;
}

/* ------------------------------------------------------- transforms -- */

static int parse_tf_body(pctx *c, node *v, cg_tf_spec *t)
{
    if (want_map(c, v) < 0)
        return -1;
    t->line = line_of(v);
    t->type = -1;
    t->T = 262144;
    t->W = 0.5;
    t->M = 4.5;
    t->A = 0;
    t->cofactor = 150;
    for (int k_i = 0; k_i < map_len(v); k_i++) {
        const char *k = pair_key(c, v, k_i);
        node *x = pair_val(c, v, k_i);
        size_t o = push(c, ".%s", k);
        int r = 0;
        if (!strcmp(k, "type")) {
            const char *s = NULL;
            r = want_str(c, x, &s);
            if (!r) {
                if (!strcasecmp(s, "logicle")) t->type = CG_TF_LOGICLE;
                else if (!strcasecmp(s, "arcsinh") || !strcasecmp(s, "asinh"))
                    t->type = CG_TF_ARCSINH;
                else if (!strcasecmp(s, "linear")) t->type = CG_TF_LINEAR;
                else if (!strcasecmp(s, "log")) t->type = CG_TF_LOG;
                else
                    r = fail(c, x, "unknown transform '%s' (expected logicle, "
                                   "arcsinh, linear or log)", s);
            }
        } else if (!strcmp(k, "T")) {
            const char *s = scalar(x);
            if (s && !strcasecmp(s, "auto")) {
                t->T = -1;
            } else {
                r = want_num(c, x, &t->T);
                if (!r && t->T <= 0)
                    r = fail(c, x, "T must be > 0 or auto");
            }
        } else if (!strcmp(k, "W")) {
            const char *s = scalar(x);
            if (s && !strcasecmp(s, "auto"))
                t->W = -1;
            else
                r = want_num_in(c, x, 0, 10, 0, &t->W);
        } else if (!strcmp(k, "M")) {
            const char *s = scalar(x);
            if (s && !strcasecmp(s, "auto"))
                t->M = -1;
            else
                r = want_num_in(c, x, 0, 10, 1, &t->M); /* (0, 10) */
        } else if (!strcmp(k, "A")) {
            r = want_num_in(c, x, -10, 10, 0, &t->A);
        } else if (!strcmp(k, "cofactor")) {
            r = want_num(c, x, &t->cofactor);
            if (!r && t->cofactor <= 0)
                r = fail(c, x, "cofactor must be > 0");
        } else {
            pop(c, o);
            return unknown_key(c, v, k, "type, T, W, M, A, cofactor");
        }
        pop(c, o);
        if (r < 0)
            return -1;
    }
    if (t->type < 0)
        return fail(c, v, "missing key 'type'");
    if (t->type == CG_TF_LOGICLE && t->W >= 0 && t->M >= 0 &&
        2 * t->W > t->M)
        return fail(c, v, "logicle needs 2*W <= M (W %g, M %g)", t->W, t->M);
    return 0;
}

static int parse_transforms(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = map_len(n);
    cg_tf_spec *tf = calloc((size_t)k + 2, sizeof *tf);
    if (!tf)
        return fail(c, n, "out of memory");
    cfg->tf = tf;
    /* defaults: logicle for markers, linear for scatter */
    tf[0] = (cg_tf_spec){strdup("default"), CG_TF_LOGICLE, 262144, 0.5, 4.5,
                         0, 150, 0};
    tf[1] = (cg_tf_spec){strdup("scatter"), CG_TF_LINEAR, 262144, 0.5, 4.5, 0,
                         150, 0};
    cfg->ntf = 2;
    if (!tf[0].target || !tf[1].target)
        return fail(c, n, "out of memory");
    for (int key_i = 0; key_i < map_len(n); key_i++) {
        const char *key = pair_key(c, n, key_i);
        node *v = pair_val(c, n, key_i);
        size_t o = push(c, ".%s", key);
        cg_tf_spec *t;
        if (!strcmp(key, "default") || !strcmp(key, "scatter")) {
            t = &tf[key[0] == 'd' ? 0 : 1];
        } else {
            if (cg_config_marker(cfg, key) < 0)
                return fail(c, v, "'%s' is not a panel marker (transforms "
                                  "keys: default, scatter or a marker)", key);
            t = &tf[cfg->ntf++];
            t->target = strdup(key);
            if (!t->target)
                return fail(c, v, "out of memory");
        }
        if (parse_tf_body(c, v, t) < 0)
            return -1;
        pop(c, o);
    }
    return 0;
}

/* ------------------------------------------------------------ gates -- */

static int check_dimname(pctx *c, node *n, const char *s)
{
    if (cg_config_marker(c->cfg, s) >= 0 || cg_config_role(c->cfg, s) >= 0)
        return 0;
    return fail(c, n, "'%s' is neither a panel marker nor a scatter role", s);
}

static int parse_method(pctx *c, node *n, int *out)
{
    const char *s = NULL;
    if (want_str(c, n, &s) < 0)
        return -1;
    if (!strcasecmp(s, "valley")) *out = CG_TM_VALLEY;
    else if (!strcasecmp(s, "tail")) *out = CG_TM_TAIL;
    else if (!strcasecmp(s, "quantile")) *out = CG_TM_QUANTILE;
    else if (!strcasecmp(s, "fixed")) *out = CG_TM_FIXED;
    else
        return fail(c, n, "unknown method '%s' (expected valley, tail, "
                          "quantile or fixed)", s);
    return 0;
}

static int parse_pair(pctx *c, node *n, double *a, double *b)
{
    if (want_seq(c, n) < 0)
        return -1;
    if (seq_len(n) != 2)
        return fail(c, n, "expected a list of two numbers [a, b]");
    if (want_num(c, seq_at(c, n, 0), a) < 0 || want_num(c, seq_at(c, n, 1), b) < 0)
        return -1;
    return 0;
}

static void dim_init(cg_dim_spec *d)
{
    memset(d, 0, sizeof *d);
    d->method = -1;
    d->keep = -1;
    d->value = d->min = d->max = d->lo = d->hi = NAN;
    d->fraction = 0;
    d->q = NAN;
    d->adjust = 1;
    d->one_peak = 2; /* unset: follows keep (dim_check) */
    d->side = 0;     /* unset: follows keep (dim_check) */
    d->k = 4;
    d->within = -1;
}

/* Keys of one threshold/range dimension; `k`,`v` from the enclosing map.
 * Returns 1 when the key was consumed, 0 when not a dim key, -1 error. */
static int dim_key(pctx *c, const char *k, node *v, cg_dim_spec *d)
{
    int r;
    if (!strcmp(k, "marker")) {
        r = want_dup(c, v, &d->marker);
        if (!r)
            r = check_dimname(c, v, d->marker);
    } else if (!strcmp(k, "method")) {
        r = parse_method(c, v, &d->method);
    } else if (!strcmp(k, "keep")) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (!strcasecmp(s, "above")) d->keep = CG_KEEP_ABOVE;
            else if (!strcasecmp(s, "below")) d->keep = CG_KEEP_BELOW;
            else r = fail(c, v, "expected above or below, got '%s'", s);
        }
    } else if (!strcmp(k, "value")) {
        r = want_num(c, v, &d->value);
    } else if (!strcmp(k, "min")) {
        r = want_num(c, v, &d->min);
    } else if (!strcmp(k, "max")) {
        r = want_num(c, v, &d->max);
    } else if (!strcmp(k, "range")) {
        r = parse_pair(c, v, &d->lo, &d->hi);
        if (!r && !(d->lo < d->hi))
            r = fail(c, v, "search range must have lo < hi");
    } else if (!strcmp(k, "fraction")) {
        r = want_num_in(c, v, 0, 1, 1, &d->fraction);
    } else if (!strcmp(k, "q")) {
        r = want_num_in(c, v, 0, 1, 1, &d->q);
    } else if (!strcmp(k, "adjust")) {
        r = want_num_in(c, v, 0.05, 20, 0, &d->adjust);
    } else if (!strcmp(k, "one_peak")) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (!strcasecmp(s, "below")) d->one_peak = 1;
            else if (!strcasecmp(s, "above")) d->one_peak = -1;
            else if (!strcasecmp(s, "fail")) d->one_peak = 0;
            else r = fail(c, v, "expected above, below or fail, got '%s'", s);
        }
    } else if (!strcmp(k, "side")) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (!strcasecmp(s, "above")) d->side = 1;
            else if (!strcasecmp(s, "below")) d->side = -1;
            else r = fail(c, v, "expected above or below, got '%s'", s);
        }
    } else if (!strcmp(k, "k")) {
        r = want_num_in(c, v, 0.5, 20, 0, &d->k);
    } else if (!strcmp(k, "within")) {
        free(d->within_name);
        d->within_name = NULL;
        r = want_dup(c, v, &d->within_name);
    } else if (!strcmp(k, "optional")) {
        r = want_bool(c, v, &d->optional);
    } else {
        return 0;
    }
    return r < 0 ? -1 : 1;
}

#define DIM_KEYS "marker, method, keep, value, min, max, range, fraction, " \
                 "q, adjust, one_peak, side, k, within, optional"

/* Validate a parsed dim for a threshold gate (interval = 0) or a
 * range/rectangle gate (interval = 1). */
static int dim_check(pctx *c, node *n, cg_dim_spec *d, int interval)
{
    d->line = line_of(n);
    if (!d->marker)
        return fail(c, n, "missing key 'marker'");
    if (interval) {
        if (d->method >= 0 || d->keep >= 0 || !isnan(d->value))
            return fail(c, n, "range/rectangle dimensions take min and max, "
                              "not method/keep/value");
        if (isnan(d->min) && isnan(d->max))
            return fail(c, n, "give min, max or both");
        if (!isnan(d->min) && !isnan(d->max) && !(d->min < d->max))
            return fail(c, n, "min must be below max");
        d->method = CG_TM_INTERVAL;
        return 0;
    }
    if (!isnan(d->min) || !isnan(d->max))
        return fail(c, n, "threshold dimensions take method/keep (use type: "
                          "range for min/max)");
    if (d->method < 0)
        d->method = isnan(d->value) ? -1 : CG_TM_FIXED;
    if (d->method < 0)
        return fail(c, n, "missing key 'method'");
    if (d->keep < 0)
        return fail(c, n, "missing key 'keep' (above or below)");
    if (d->method == CG_TM_FIXED && isnan(d->value))
        return fail(c, n, "method fixed needs 'value'");
    if (d->method != CG_TM_FIXED && !isnan(d->value))
        return fail(c, n, "'value' only goes with method fixed");
    if (d->method == CG_TM_QUANTILE && isnan(d->q))
        return fail(c, n, "method quantile needs 'q'");
    if (d->method != CG_TM_QUANTILE && !isnan(d->q))
        return fail(c, n, "'q' only goes with method quantile");
    if (d->fraction > 0 && d->method != CG_TM_TAIL)
        return fail(c, n, "'fraction' only goes with method tail");
    if (d->one_peak != 2 && d->method != CG_TM_VALLEY)
        return fail(c, n, "'one_peak' only goes with method valley");
    if (d->side != 0 && d->method != CG_TM_TAIL)
        return fail(c, n, "'side' only goes with method tail");
    if (d->within_name && (d->method == CG_TM_FIXED))
        return fail(c, n, "'within' needs an auto method");
    d->one_peak_set = d->one_peak != 2;
    if (d->one_peak == 2)
        d->one_peak = d->keep == CG_KEEP_BELOW ? 1 : -1;
    if (d->side == 0)
        d->side = d->keep == CG_KEEP_BELOW ? -1 : 1;
    return 0;
}

static int parse_dims(pctx *c, node *n, cg_gate_spec *g, int interval)
{
    if (want_seq(c, n) < 0)
        return -1;
    int k = seq_len(n);
    if (k == 0)
        return fail(c, n, "dims is empty");
    g->dims = calloc((size_t)k, sizeof *g->dims);
    if (!g->dims)
        return fail(c, n, "out of memory");
    for (int i = 0; i < k; i++) {
        cg_dim_spec *d = &g->dims[i];
        dim_init(d);
        g->ndims++;
        node *e = seq_at(c, n, i);
        size_t o = push(c, "[%d]", i);
        if (want_map(c, e) < 0)
            return -1;
        for (int dk_i = 0; dk_i < map_len(e); dk_i++) {
            const char *dk = pair_key(c, e, dk_i);
            node *dv = pair_val(c, e, dk_i);
            size_t o2 = push(c, ".%s", dk);
            int r = dim_key(c, dk, dv, d);
            pop(c, o2);
            if (r < 0)
                return -1;
            if (r == 0)
                return unknown_key(c, e, dk, DIM_KEYS);
        }
        if (dim_check(c, e, d, interval) < 0)
            return -1;
        pop(c, o);
    }
    return 0;
}

static const char *const gs_names[] = {"scatter", "singlets", "threshold",
                                       "range", "rectangle", "polygon",
                                       "ellipse", "quadrant", "boolean"};

static int find_gate_before(const cg_config *cfg, int upto, const char *name)
{
    for (int i = 0; i < upto; i++)
        if (!strcmp(cfg->gates[i].name, name))
            return i;
    return -1;
}

static int parse_gate_body(pctx *c, node *e, int gi, cg_dim_spec *top);

static int parse_gate(pctx *c, node *e, int gi)
{
    cg_dim_spec top;
    dim_init(&top);
    int r = parse_gate_body(c, e, gi, &top);
    free(top.marker); /* NULL once moved into the gate */
    free(top.within_name);
    return r;
}

/* What the key loop of one gate collected for the checks after it. */
typedef struct gate_keys {
    cg_dim_spec *top; /* single-dimension keys written on the gate */
    int have_top_dim;
    node *dimsn, *ofn;
} gate_keys;

/* Set the gate's defaults, then read its name and type first, so later
 * messages can use them.  0 or -1. */
static int gate_name_type(pctx *c, node *e, int gi)
{
    cg_config *cfg = c->cfg;
    cg_gate_spec *g = &cfg->gates[gi];
    g->parent = -1;
    g->type = -1;
    g->level = 0.05;
    g->tolerance = 0.12;
    g->adjust = 1;
    g->qxpos = g->qypos = -1;
    g->cx = g->cy = g->ra = g->rb = g->qx = g->qy = NAN;
    g->angle = 0;
    g->line = line_of(e);
    if (want_map(c, e) < 0)
        return -1;
    node *typen = NULL;
    for (int k_i = 0; k_i < map_len(e); k_i++) {
        const char *k = pair_key(c, e, k_i);
        node *v = pair_val(c, e, k_i);
        if (!strcmp(k, "name")) {
            size_t o = push(c, ".name");
            if (want_dup(c, v, &g->name) < 0)
                return -1;
            if (!valid_name(g->name))
                return fail(c, v, "gate names use letters, digits, '_', '-' "
                                  "and '.'");
            if (find_gate_before(cfg, gi, g->name) >= 0)
                return fail(c, v, "gate '%s' defined twice", g->name);
            pop(c, o);
        } else if (!strcmp(k, "type")) {
            typen = v;
        }
    }
    if (!g->name)
        return fail(c, e, "missing key 'name'");
    push(c, " (%s)", g->name);
    if (!typen)
        return fail(c, e, "missing key 'type' (expected one of scatter, "
                          "singlets, threshold, range, rectangle, polygon, "
                          "ellipse, quadrant, boolean)");
    const char *ts = NULL;
    if (want_str(c, typen, &ts) < 0)
        return -1;
    for (int i = 0; i < (int)(sizeof gs_names / sizeof *gs_names); i++)
        if (!strcasecmp(ts, gs_names[i]))
            g->type = i;
    if (g->type < 0)
        return fail(c, typen, "unknown gate type '%s' (expected scatter, "
                              "singlets, threshold, range, rectangle, "
                              "polygon, ellipse, quadrant or boolean)", ts);
    return 0;
}

/* Keys shared by several gate types, and the single-dimension keys of
 * threshold/range gates.  0 done, < 0 error, 1 not such a key. */
static int gate_key_common(pctx *c, int gi, const char *k, node *v,
                           gate_keys *gk)
{
    cg_config *cfg = c->cfg;
    cg_gate_spec *g = &cfg->gates[gi];
    int r = 0;
    if (!strcmp(k, "name") || !strcmp(k, "type")) {
        /* done */
    } else if (!strcmp(k, "definition")) {
        free(g->definition);
        g->definition = NULL;
        r = want_dup(c, v, &g->definition);
    } else if (!strcmp(k, "parent")) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            g->parent = find_gate_before(cfg, gi, s);
            if (g->parent < 0)
                r = fail(c, v, "parent '%s' is not a gate defined above", s);
        }
    } else if (!strcmp(k, "units")) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (!strcasecmp(s, "raw")) g->raw_units = 1;
            else if (!strcasecmp(s, "transformed")) g->raw_units = 0;
            else r = fail(c, v, "expected raw or transformed");
        }
    } else if (!strcmp(k, "x") || !strcmp(k, "y")) {
        char **dst = k[0] == 'x' ? &g->x : &g->y;
        r = want_dup(c, v, dst);
        if (!r)
            r = check_dimname(c, v, *dst);
    } else if (!strcmp(k, "level") && g->type == CG_GS_SCATTER) {
        r = want_num_in(c, v, 0, 1, 1, &g->level);
    } else if (!strcmp(k, "tolerance") && g->type == CG_GS_SINGLETS) {
        r = want_num_in(c, v, 0, 1, 1, &g->tolerance);
    } else if (!strcmp(k, "adjust") && (g->type == CG_GS_SCATTER ||
                                        g->type == CG_GS_SINGLETS)) {
        r = want_num_in(c, v, 0.05, 20, 0, &g->adjust);
    } else if (!strcmp(k, "dims") && (g->type == CG_GS_THRESHOLD ||
                                      g->type == CG_GS_RECTANGLE)) {
        gk->dimsn = v;
    } else if ((g->type == CG_GS_THRESHOLD || g->type == CG_GS_RANGE) &&
               (r = dim_key(c, k, v, gk->top)) != 0) {
        gk->have_top_dim = 1;
        r = r < 0 ? -1 : 0;
    } else {
        return 1;
    }
    return r < 0 ? -1 : 0;
}

/* Keys of the drawn and boolean gates (polygon, ellipse, quadrant,
 * boolean).  0 done, < 0 error, 1 not such a key. */
static int gate_key_shape(pctx *c, cg_gate_spec *g, const char *k, node *v,
                          gate_keys *gk)
{
    int r = 0;
    if (!strcmp(k, "vertices") && g->type == CG_GS_POLYGON) {
        r = want_seq(c, v);
        if (!r) {
            g->nvert = seq_len(v);
            if (g->nvert < 3)
                r = fail(c, v, "a polygon needs at least 3 vertices");
            g->vx = calloc((size_t)g->nvert + 1, sizeof *g->vx);
            g->vy = calloc((size_t)g->nvert + 1, sizeof *g->vy);
            if (!r && (!g->vx || !g->vy))
                r = fail(c, v, "out of memory");
            for (int i = 0; !r && i < g->nvert; i++) {
                size_t o2 = push(c, "[%d]", i);
                r = parse_pair(c, seq_at(c, v, i), &g->vx[i], &g->vy[i]);
                pop(c, o2);
            }
        }
    } else if (!strcmp(k, "center") && g->type == CG_GS_ELLIPSE) {
        r = parse_pair(c, v, &g->cx, &g->cy);
    } else if (!strcmp(k, "axes") && g->type == CG_GS_ELLIPSE) {
        r = parse_pair(c, v, &g->ra, &g->rb);
        if (!r && !(g->ra > 0 && g->rb > 0))
            r = fail(c, v, "half-axes must be > 0");
    } else if (!strcmp(k, "angle") && g->type == CG_GS_ELLIPSE) {
        r = want_num(c, v, &g->angle);
    } else if (!strcmp(k, "at") && g->type == CG_GS_QUADRANT) {
        r = parse_pair(c, v, &g->qx, &g->qy);
    } else if (!strcmp(k, "keep") && g->type == CG_GS_QUADRANT) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (strlen(s) != 2 || !strchr("+-", s[0]) || !strchr("+-", s[1]))
                r = fail(c, v, "expected one of ++, +-, -+, -- (x then y)");
            else {
                g->qxpos = s[0] == '+';
                g->qypos = s[1] == '+';
            }
        }
    } else if (!strcmp(k, "op") && g->type == CG_GS_BOOLEAN) {
        const char *s = NULL;
        r = want_str(c, v, &s);
        if (!r) {
            if (!strcasecmp(s, "and")) g->op = CG_GB_AND;
            else if (!strcasecmp(s, "or")) g->op = CG_GB_OR;
            else if (!strcasecmp(s, "not")) g->op = CG_GB_NOT;
            else r = fail(c, v, "expected and, or or not");
        }
    } else if (!strcmp(k, "of") && g->type == CG_GS_BOOLEAN) {
        gk->ofn = v;
    } else {
        return 1;
    }
    return r < 0 ? -1 : 0;
}

/* Every key of the gate map, after name and type.  0 or -1. */
static int gate_keys_read(pctx *c, node *e, int gi, gate_keys *gk)
{
    cg_gate_spec *g = &c->cfg->gates[gi];
    for (int k_i = 0; k_i < map_len(e); k_i++) {
        const char *k = pair_key(c, e, k_i);
        node *v = pair_val(c, e, k_i);
        size_t o = push(c, ".%s", k);
        int r = gate_key_common(c, gi, k, v, gk);
        if (r == 1)
            r = gate_key_shape(c, g, k, v, gk);
        if (r == 1) {
            static const char *const allowed[] = {
                "name, type, parent, definition, x, y, level, adjust",
                "name, type, parent, definition, x, y, tolerance, adjust",
                ("name, type, parent, definition, units, dims, " DIM_KEYS),
                "name, type, parent, definition, units, marker, min, max",
                "name, type, parent, definition, units, dims",
                "name, type, parent, definition, units, x, y, vertices",
                "name, type, parent, definition, units, x, y, center, axes, "
                "angle",
                "name, type, parent, definition, units, x, y, at, keep",
                "name, type, parent, definition, op, of"};
            pop(c, o);
            return unknown_key(c, e, k, allowed[g->type]);
        }
        pop(c, o);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Checks of the 2-D gates (scatter, singlets, polygon, ellipse,
 * quadrant). */
static int gate_check_xy(pctx *c, node *e, const cg_gate_spec *g)
{
    if (!g->x || !g->y)
        return fail(c, e, "needs both x and y");
    if (!strcasecmp(g->x, g->y))
        return fail(c, e, "x and y are the same dimension");
    if (g->type == CG_GS_ELLIPSE && (isnan(g->cx) || isnan(g->ra)))
        return fail(c, e, "an ellipse needs center and axes");
    if (g->type == CG_GS_QUADRANT && (isnan(g->qx) || g->qxpos < 0))
        return fail(c, e, "a quadrant needs at and keep");
    if (g->type == CG_GS_POLYGON && g->nvert == 0)
        return fail(c, e, "a polygon needs vertices");
    return 0;
}

/* Resolve each dim's `within` to another dim of the gate, one level
 * deep. */
static int gate_check_within(pctx *c, node *e, cg_gate_spec *g)
{
    for (int i = 0; i < g->ndims; i++) {
        cg_dim_spec *d = &g->dims[i];
        if (!d->within_name)
            continue;
        for (int j = 0; j < g->ndims; j++)
            if (j != i && !strcasecmp(d->within_name, g->dims[j].marker))
                d->within = j;
        if (d->within < 0)
            return fail(c, e, "dims: '%s' is within '%s', which is not "
                              "another dimension of this gate",
                        d->marker, d->within_name);
    }
    for (int i = 0; i < g->ndims; i++) {
        int w = g->dims[i].within;
        if (w >= 0 && g->dims[w].within >= 0)
            return fail(c, e, "dims: '%s' is within '%s', which is itself "
                              "within another dimension (one level only)",
                        g->dims[i].marker, g->dims[w].marker);
    }
    return 0;
}

/* Dims of threshold, range and rectangle gates: from dims: or from the
 * single-dimension keys on the gate (moved out of gk->top). */
static int gate_check_dims(pctx *c, node *e, cg_gate_spec *g, gate_keys *gk)
{
    if (g->x || g->y)
        return fail(c, e, "use marker/dims, not x/y, for this gate type");
    if (g->type == CG_GS_RECTANGLE && !gk->dimsn)
        return fail(c, e, "a rectangle needs dims: [{marker, min, max}, ...]");
    if (gk->dimsn && gk->have_top_dim)
        return fail(c, e, "give either dims or a single marker, not both");
    if (gk->dimsn) {
        size_t o = push(c, ".dims");
        if (parse_dims(c, gk->dimsn, g, g->type != CG_GS_THRESHOLD) < 0)
            return -1;
        pop(c, o);
    } else {
        g->dims = calloc(1, sizeof *g->dims);
        if (!g->dims)
            return fail(c, e, "out of memory");
        g->dims[0] = *gk->top;
        gk->top->marker = NULL;
        gk->top->within_name = NULL;
        g->ndims = 1;
        if (dim_check(c, e, &g->dims[0], g->type != CG_GS_THRESHOLD) < 0)
            return -1;
    }
    for (int i = 0; i < g->ndims; i++)
        for (int j = 0; j < i; j++)
            if (!strcasecmp(g->dims[i].marker, g->dims[j].marker))
                return fail(c, e, "dimension '%s' used twice",
                            g->dims[i].marker);
    return gate_check_within(c, e, g);
}

/* of: of a boolean gate: populations defined above, one for not, two or
 * more for and/or. */
static int gate_check_bool(pctx *c, node *e, int gi, node *ofn)
{
    cg_config *cfg = c->cfg;
    cg_gate_spec *g = &cfg->gates[gi];
    if (!ofn)
        return fail(c, e, "a boolean gate needs 'of: [populations]'");
    char **names = NULL;
    int nn = 0;
    size_t o = push(c, ".of");
    int r = want_strlist(c, ofn, &names, &nn);
    if (!r && (nn == 0 || (g->op == CG_GB_NOT && nn != 1) ||
               (g->op != CG_GB_NOT && nn < 2)))
        r = fail(c, ofn, "'%s' takes %s", g->op == CG_GB_NOT ? "not"
                 : "and/or", g->op == CG_GB_NOT ? "exactly one "
                 "population" : "two or more populations");
    g->of = calloc(nn ? (size_t)nn : 1, sizeof *g->of);
    if (!r && !g->of)
        r = fail(c, ofn, "out of memory");
    for (int i = 0; !r && i < nn; i++) {
        g->of[i] = find_gate_before(cfg, gi, names[i]);
        if (g->of[i] < 0)
            r = fail(c, ofn, "'%s' is not a gate defined above", names[i]);
    }
    g->nof = nn;
    free_strs(names, nn);
    if (r < 0)
        return -1;
    pop(c, o);
    return 0;
}

/* `top` collects single-dimension keys (marker, method, ...) written on the
 * gate itself; the caller frees top->marker unless it was moved. */
static int parse_gate_body(pctx *c, node *e, int gi, cg_dim_spec *top)
{
    cg_gate_spec *g = &c->cfg->gates[gi];
    if (gate_name_type(c, e, gi) < 0)
        return -1;
    gate_keys gk = {top, 0, NULL, NULL};
    if (gate_keys_read(c, e, gi, &gk) < 0)
        return -1;
    switch (g->type) {
    case CG_GS_SCATTER:
    case CG_GS_SINGLETS:
    case CG_GS_POLYGON:
    case CG_GS_ELLIPSE:
    case CG_GS_QUADRANT:
        return gate_check_xy(c, e, g);
    case CG_GS_THRESHOLD:
    case CG_GS_RANGE:
    case CG_GS_RECTANGLE:
        return gate_check_dims(c, e, g, &gk);
    case CG_GS_BOOLEAN:
        return gate_check_bool(c, e, gi, gk.ofn);
    }
    return 0;
}

static int parse_gates(pctx *c, node *n)
{
    if (want_seq(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = seq_len(n);
    if (k == 0)
        return fail(c, n, "no gates");
    cfg->gates = calloc((size_t)k, sizeof *cfg->gates);
    if (!cfg->gates)
        return fail(c, n, "out of memory");
    for (int i = 0; i < k; i++) {
        cfg->ngates++;
        size_t o = push(c, "[%d]", i);
        if (parse_gate(c, seq_at(c, n, i), i) < 0)
            return -1;
        pop(c, o);
    }
    return 0;
}

/* ---------------------------------------------- headline, metrics -- */

static int gate_ref(pctx *c, node *v, int *out)
{
    const char *s = NULL;
    if (want_str(c, v, &s) < 0)
        return -1;
    *out = cg_config_gate(c->cfg, s);
    if (*out < 0)
        return fail(c, v, "'%s' is not a gate of this config", s);
    return 0;
}

/* A gate name or a list of up to CG_HEAD_ALT gate names (alternatives:
 * per sample the first evaluable one is used). */
static int gate_refs(pctx *c, node *v, int *alt, int *nalt)
{
    if (!scalar(v)) {
        if (want_seq(c, v) < 0)
            return -1;
        int k = seq_len(v);
        if (k < 1 || k > CG_HEAD_ALT)
            return fail(c, v, "expected a gate or a list of 1 to %d gates",
                        CG_HEAD_ALT);
        for (int i = 0; i < k; i++)
            if (gate_ref(c, seq_at(c, v, i), &alt[i]) < 0)
                return -1;
        *nalt = k;
        return 0;
    }
    *nalt = 1;
    return gate_ref(c, v, &alt[0]);
}

static int parse_headline(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    for (int k_i = 0; k_i < map_len(n); k_i++) {
        const char *k = pair_key(c, n, k_i);
        node *v = pair_val(c, n, k_i);
        size_t o = push(c, ".%s", k);
        int h = !strcmp(k, "cd4") ? 0 : !strcmp(k, "treg") ? 1
                : !strcmp(k, "th17") ? 2 : -1;
        if (h < 0) {
            pop(c, o);
            return unknown_key(c, n, k, "cd4, treg, th17");
        }
        if (gate_refs(c, v, cfg->head_alt[h], &cfg->nhead_alt[h]) < 0)
            return -1;
        int *dst = h == 0 ? &cfg->head_cd4 : h == 1 ? &cfg->head_treg
                                                    : &cfg->head_th17;
        *dst = cfg->head_alt[h][0];
        pop(c, o);
    }
    return 0;
}

static int parse_metrics(pctx *c, node *n)
{
    if (want_seq(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = seq_len(n);
    cfg->metrics = calloc(k ? (size_t)k : 1, sizeof *cfg->metrics);
    if (!cfg->metrics)
        return fail(c, n, "out of memory");
    for (int i = 0; i < k; i++) {
        cg_metric_spec *m = &cfg->metrics[i];
        node *e = seq_at(c, n, i);
        cfg->nmetrics++;
        m->num = m->den = -1;
        m->min_denominator = 1;
        m->line = line_of(e);
        size_t o = push(c, "[%d]", i);
        if (want_map(c, e) < 0)
            return -1;
        for (int mk_i = 0; mk_i < map_len(e); mk_i++) {
            const char *mk = pair_key(c, e, mk_i);
            node *mv = pair_val(c, e, mk_i);
            size_t o2 = push(c, ".%s", mk);
            int r;
            if (!strcmp(mk, "name")) {
                r = want_dup(c, mv, &m->name);
                if (!r && !valid_name(m->name))
                    r = fail(c, mv, "metric names use letters, digits, '_', "
                                    "'-' and '.'");
                for (int j = 0; !r && j < i; j++)
                    if (!strcmp(cfg->metrics[j].name, m->name))
                        r = fail(c, mv, "metric '%s' defined twice", m->name);
                if (!r && cg_config_gate(cfg, m->name) >= 0)
                    r = fail(c, mv, "'%s' is already a gate name", m->name);
            } else if (!strcmp(mk, "numerator")) {
                r = gate_refs(c, mv, m->num_alt, &m->nnum_alt);
                m->num = m->num_alt[0];
            } else if (!strcmp(mk, "denominator")) {
                r = gate_refs(c, mv, m->den_alt, &m->nden_alt);
                m->den = m->den_alt[0];
            } else if (!strcmp(mk, "min_denominator")) {
                double d = 0;
                r = want_num_in(c, mv, 1, 1e12, 0, &d);
                if (!r && d != floor(d))
                    r = fail(c, mv, "expected a whole number of events");
                if (!r) /* d is in range only when r == 0 */
                    m->min_denominator = (long)d;
            } else if (!strcmp(mk, "type")) {
                const char *s = NULL;
                r = want_str(c, mv, &s);
                if (!r) {
                    if (!strcasecmp(s, "ratio")) m->type = CG_METRIC_RATIO;
                    else if (!strcasecmp(s, "percent")) m->type = CG_METRIC_PERCENT;
                    else r = fail(c, mv, "expected ratio or percent");
                }
            } else {
                pop(c, o2);
                return unknown_key(c, e, mk, "name, type, numerator, "
                                             "denominator, min_denominator");
            }
            pop(c, o2);
            if (r < 0)
                return -1;
        }
        if (!m->name || m->num < 0 || m->den < 0)
            return fail(c, e, "a metric needs name, numerator and denominator");
        pop(c, o);
    }
    return 0;
}

/* ------------------------------------------------------------- stats -- */

int cg_stat_parse(const char *s, cg_stat_spec *out)
{
    static const struct { const char *n; int k; } tab[] = {
        {"median", CG_ST_MEDIAN}, {"mean", CG_ST_MEAN},
        {"geomean", CG_ST_GEOMEAN}, {"sd", CG_ST_SD}, {"cv", CG_ST_CV},
        {"rcv", CG_ST_RCV}, {"mad", CG_ST_MAD}};
    memset(out, 0, sizeof *out);
    if (strlen(s) >= sizeof out->name)
        return -1;
    snprintf(out->name, sizeof out->name, "%s", s);
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (!strcmp(s, tab[i].n)) {
            out->kind = tab[i].k;
            return 0;
        }
    if (s[0] == 'p' && s[1]) {
        for (const char *q = s + 1; *q; q++)
            if (!isdigit((unsigned char)*q) && *q != '.')
                return -1;
        double p;
        if (cg_parse_double(s + 1, &p) < 0 || p < 0 || p > 100)
            return -1;
        out->kind = CG_ST_PCTL;
        out->p = p;
        return 0;
    }
    return -1;
}

static int parse_stats(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    for (int k_i = 0; k_i < map_len(n); k_i++) {
        const char *k = pair_key(c, n, k_i);
        node *v = pair_val(c, n, k_i);
        size_t o = push(c, ".%s", k);
        char **names = NULL;
        int nn = 0, r = 0;
        if (!strcmp(k, "scale")) {
            const char *s = NULL;
            r = want_str(c, v, &s);
            if (!r) {
                if (!strcasecmp(s, "raw")) cfg->stats_transformed = 0;
                else if (!strcasecmp(s, "transformed")) cfg->stats_transformed = 1;
                else r = fail(c, v, "expected raw or transformed");
            }
            pop(c, o);
            if (r < 0)
                return -1;
            continue;
        }
        if (strcmp(k, "percent_of") && strcmp(k, "markers") &&
            strcmp(k, "statistics")) {
            pop(c, o);
            return unknown_key(c, n, k, "percent_of, markers, statistics, scale");
        }
        if (want_strlist(c, v, &names, &nn) < 0) {
            free_strs(names, nn);
            return -1;
        }
        int *idx = NULL;
        if (k[0] != 's') {
            idx = calloc(nn ? (size_t)nn : 1, sizeof *idx);
            if (!idx)
                r = fail(c, v, "out of memory");
        } else {
            free(cfg->stats);
            cfg->stats = calloc(nn ? (size_t)nn : 1, sizeof *cfg->stats);
            if (!cfg->stats)
                r = fail(c, v, "out of memory");
        }
        for (int i = 0; !r && i < nn; i++) {
            if (!strcmp(k, "percent_of")) {
                idx[i] = cg_config_gate(cfg, names[i]);
                if (idx[i] < 0)
                    r = fail(c, v, "'%s' is not a gate of this config", names[i]);
            } else if (!strcmp(k, "markers")) {
                idx[i] = cg_config_marker(cfg, names[i]);
                if (idx[i] < 0)
                    r = fail(c, v, "'%s' is not a panel marker", names[i]);
            } else {
                if (cg_stat_parse(names[i], &cfg->stats[i]) < 0)
                    r = fail(c, v, "unknown statistic '%s' (expected median, "
                                   "mean, geomean, sd, cv, rcv, mad or pN "
                                   "with N in [0, 100])", names[i]);
            }
            for (int j = 0; !r && j < i; j++)
                if (!strcmp(names[i], names[j]))
                    r = fail(c, v, "'%s' listed twice", names[i]);
        }
        if (!strcmp(k, "percent_of")) {
            free(cfg->pct_of);
            cfg->pct_of = idx;
            cfg->npct_of = nn;
        } else if (!strcmp(k, "markers")) {
            free(cfg->stat_markers);
            cfg->stat_markers = idx;
            cfg->nstat_markers = nn;
        } else {
            cfg->nstats = nn;
        }
        free_strs(names, nn);
        pop(c, o);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- qc -- */

static int parse_qc(pctx *c, node *n)
{
    if (want_map(c, n) < 0)
        return -1;
    cg_config *cfg = c->cfg;
    int k = map_len(n);
    cfg->qc = calloc(k ? (size_t)k : 1, sizeof *cfg->qc);
    if (!cfg->qc)
        return fail(c, n, "out of memory");
    cg_qc_params qp;
    cg_qc_params_init(&qp);
    int r = 0;
    for (int key_i = 0; key_i < map_len(n); key_i++) {
        const char *key = pair_key(c, n, key_i);
        node *v = pair_val(c, n, key_i);
        if (r < 0)
            break;
        size_t o = push(c, ".%s", key);
        cg_qc_kv *kv = &cfg->qc[cfg->nqc];
        kv->line = line_of(v);
        kv->key = strdup(key);
        cfg->nqc++;
        const char *s = scalar(v);
        if (!kv->key) {
            r = fail(c, v, "out of memory");
        } else if (!s) {
            r = fail(c, v, "expected a single value");
        } else if (!(kv->value = strdup(s))) {
            r = fail(c, v, "out of memory");
        } else {
            cg_err qe = {0};
            if (cg_qc_set(&qp, key, s, &qe) < 0)
                r = fail(c, v, "%s", qe.msg);
        }
        pop(c, o);
    }
    return r;
}

/* -------------------------------------------------------------- top -- */

static void mark_used_roles(cg_config *cfg)
{
    for (int s = 0; s < cfg->nscatter; s++) {
        const char *r = cfg->scatter[s].role;
        int used = 0;
        for (int i = 0; i < cfg->ngates && !used; i++) {
            const cg_gate_spec *g = &cfg->gates[i];
            if ((g->x && !strcasecmp(g->x, r)) || (g->y && !strcasecmp(g->y, r)))
                used = 1;
            for (int d = 0; d < g->ndims; d++)
                if (!strcasecmp(g->dims[d].marker, r))
                    used = 1;
        }
        cfg->scatter[s].optional = !used;
    }
}

static int parse_root(pctx *c, node *root)
{
    cg_config *cfg = c->cfg;
    if (!root)
        return fail(c, NULL, "the config is empty");
    if (want_map(c, root) < 0)
        return -1;
    /* Sections are parsed in dependency order whatever their order in the
     * file: panel and scatter before anything that names markers, gates
     * before headline/metrics/stats. */
    static const char *const order[] = {"config_version", "name", "panel",
                                        "scatter", "compensation",
                                        "transforms", "gates", "headline",
                                        "metrics", "stats", "qc"};
    enum { NSEC = sizeof order / sizeof *order };
    node *sec[NSEC] = {0};
    for (int k_i = 0; k_i < map_len(root); k_i++) {
        const char *k = pair_key(c, root, k_i);
        node *v = pair_val(c, root, k_i);
        int f = -1;
        for (int i = 0; i < NSEC; i++)
            if (!strcmp(k, order[i]))
                f = i;
        if (f < 0)
            return unknown_key(c, root, k, "config_version, name, panel, "
                                           "scatter, compensation, transforms, "
                                           "gates, headline, metrics, stats, qc");
        sec[f] = v;
    }
    if (!sec[0])
        return fail(c, root, "missing key 'config_version' (this program "
                             "reads version %d)", CG_CONFIG_VERSION);
    double ver = 0;
    strcpy(c->path, "config_version");
    if (want_num(c, sec[0], &ver) < 0)
        return -1;
    if (ver != CG_CONFIG_VERSION)
        return fail(c, sec[0], "version %g is not supported (expected %d)",
                    ver, CG_CONFIG_VERSION);
    c->path[0] = '\0';
    if (!sec[2])
        return fail(c, root, "missing key 'panel'");
    if (!sec[6])
        return fail(c, root, "missing key 'gates'");
    for (int i = 1; i < NSEC; i++) {
        if (!sec[i])
            continue;
        strcpy(c->path, order[i]);
        int r = 0;
        switch (i) {
        case 1: r = want_dup(c, sec[i], &cfg->name); break;
        case 2: r = parse_panel(c, sec[i]); break;
        case 3: r = parse_scatter(c, sec[i]); break;
        case 4: r = parse_comp(c, sec[i]); break;
        case 5: r = parse_transforms(c, sec[i]); break;
        case 6:
            if (!sec[5]) { /* default transforms */
                node empty;
                memset(&empty, 0, sizeof empty);
                empty.type = YAML_MAPPING_NODE;
                if (parse_transforms(c, &empty) < 0)
                    return -1;
            }
            r = parse_gates(c, sec[i]);
            break;
        case 7: r = parse_headline(c, sec[i]); break;
        case 8: r = parse_metrics(c, sec[i]); break;
        case 9: r = parse_stats(c, sec[i]); break;
        case 10: r = parse_qc(c, sec[i]); break;
        }
        if (r < 0)
            return -1;
    }
    c->path[0] = '\0';
    mark_used_roles(cfg);
    return 0;
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

/* Nesting deeper than this is refused before the document is built: a
 * config is 4-5 levels deep, and libyaml's loader is quadratic in the
 * depth (100,000 nested flow sequences took over 20 s). */
#define CG_CONFIG_MAX_DEPTH 64

/* One pass over libyaml's events, stopping at the first node deeper than
 * CG_CONFIG_MAX_DEPTH, so the cost stays linear in the input.  Syntax
 * errors are left to the loader, which reports them with their place. */
static int check_depth(const char *buf, size_t n, cg_err *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, n);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* the loader reports it */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > CG_CONFIG_MAX_DEPTH) {
                rc = cg_err_setl(err, CG_E_PARSE, (int)ev.start_mark.line + 1,
                                 "nesting deeper than %d levels (a config "
                                 "needs about 5)", CG_CONFIG_MAX_DEPTH);
                yaml_event_delete(&ev);
                break;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT ||
                   t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

cg_config *cg_config_parse(const char *buf, size_t n, const char *name,
                           cg_err *err)
{
    cg_err_clear(err);
    cg_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    cfg->head_cd4 = cfg->head_treg = cfg->head_th17 = -1;
    cfg->path = strdup(name ? name : "<config>");
    cfg->dir = dir_of(cfg->path ? cfg->path : ".");
    cfg->text = malloc(n + 1);
    if (!cfg->path || !cfg->dir || !cfg->text) {
        cg_config_free(cfg);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(cfg->text, buf, n);
    cfg->text[n] = '\0';
    cfg->text_len = n;
    if (memchr(buf, '\0', n)) {
        cg_err_set(err, CG_E_PARSE, "the config contains a NUL byte");
        cg_config_free(cfg);
        return NULL;
    }

    if (check_depth(buf, n, err) < 0) {
        cg_config_free(cfg);
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        cg_config_free(cfg);
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, n);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column
                                   ? &parser.problem_mark : &parser.context_mark;
        cg_err_setl(err, CG_E_PARSE, (int)m->line + 1, "YAML syntax: %s%s%s",
                    parser.problem ? parser.problem : "malformed",
                    parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        cg_config_free(cfg);
        return NULL;
    }
    pctx c = {.doc = &doc, .err = err, .cfg = cfg};
    int r = parse_root(&c, yaml_document_get_root_node(&doc));
    /* A second document in the stream is almost certainly a mistake. */
    if (r == 0) {
        yaml_document_t doc2;
        if (yaml_parser_load(&parser, &doc2)) {
            if (yaml_document_get_root_node(&doc2)) {
                cg_err_setl(err, CG_E_PARSE,
                            (int)doc2.start_mark.line + 1,
                            "more than one YAML document ('---'); expected one");
                r = -1;
            }
            yaml_document_delete(&doc2);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (r < 0) {
        cg_config_free(cfg);
        return NULL;
    }
    return cfg;
}

cg_config *cg_config_load(const char *path, cg_err *err)
{
    if (cg_opencyto_is_template(path)) /* openCyto CSV (opencyto.h) */
        return cg_opencyto_load(path, err);
    size_t n = 0;
    char *buf = cg_read_file(path, (size_t)16 << 20, &n, err);
    if (!buf)
        return NULL;
    cg_config *cfg = cg_config_parse(buf, n, path, err);
    free(buf);
    return cfg;
}

void cg_config_free(cg_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < cfg->nmarkers; i++) {
        free(cfg->markers[i].name);
        free(cfg->markers[i].channel);
        free_strs(cfg->markers[i].aliases, cfg->markers[i].naliases);
    }
    free(cfg->markers);
    for (int i = 0; i < cfg->nscatter; i++) {
        free(cfg->scatter[i].role);
        free_strs(cfg->scatter[i].patterns, cfg->scatter[i].npatterns);
    }
    free(cfg->scatter);
    for (int i = 0; i < cfg->ntf; i++)
        free(cfg->tf[i].target);
    free(cfg->tf);
    for (int i = 0; i < cfg->ngates; i++) {
        cg_gate_spec *g = &cfg->gates[i];
        free(g->name);
        for (int d = 0; d < g->ndims; d++) {
            free(g->dims[d].marker);
            free(g->dims[d].within_name);
        }
        free(g->definition);
        free(g->dims);
        free(g->x);
        free(g->y);
        free(g->vx);
        free(g->vy);
        free(g->of);
    }
    free(cfg->gates);
    for (int i = 0; i < cfg->nmetrics; i++)
        free(cfg->metrics[i].name);
    free(cfg->metrics);
    free(cfg->pct_of);
    free(cfg->stat_markers);
    free(cfg->stats);
    for (int i = 0; i < cfg->nqc; i++) {
        free(cfg->qc[i].key);
        free(cfg->qc[i].value);
    }
    free(cfg->qc);
    free(cfg->comp_path);
    free(cfg->name);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->text);
    free(cfg);
}

int cg_config_gate(const cg_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->ngates; i++)
        if (cfg->gates[i].name && !strcmp(cfg->gates[i].name, name))
            return i;
    return -1;
}

int cg_config_marker(const cg_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nmarkers; i++)
        if (cfg->markers[i].name && !strcasecmp(cfg->markers[i].name, name))
            return i;
    return -1;
}

int cg_config_role(const cg_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nscatter; i++)
        if (cfg->scatter[i].role && !strcasecmp(cfg->scatter[i].role, name))
            return i;
    return -1;
}

const cg_tf_spec *cg_config_tf(const cg_config *cfg, int marker)
{
    if (marker < 0)
        return &cfg->tf[1];
    for (int i = 2; i < cfg->ntf; i++)
        if (!strcasecmp(cfg->tf[i].target, cfg->markers[marker].name))
            return &cfg->tf[i];
    return &cfg->tf[0];
}

const char *cg_gs_type_name(int type)
{
    return type >= 0 && type < (int)(sizeof gs_names / sizeof *gs_names)
               ? gs_names[type] : "?";
}

const char *cg_tm_method_name(int m)
{
    static const char *const n[] = {"fixed", "valley", "tail", "quantile",
                                    "interval"};
    return m >= 0 && m < 5 ? n[m] : "?";
}

const char *cg_tf_type_name(int t)
{
    static const char *const n[] = {"logicle", "arcsinh", "linear", "log"};
    return t >= 0 && t < 4 ? n[t] : "?";
}
