/*
 * opencyto.c -- openCyto CSV gating template -> cytogate config YAML.
 *
 * The CSV (RFC 4180 quoting, header row, column names case-insensitive)
 * is read row by row; each row becomes one gate of the generated config.
 * The panel is every dimension that is not a scatter or time channel
 * (all optional, so a file without a marker runs and the gates needing
 * it are NA, as openCyto skips them); scatter roles are the FSC / SSC /
 * Time dimensions (the standard roles FSC-A, FSC-H, SSC-A and Time get the
 * default config's $PnN patterns).  Compensation: the file's spillover;
 * transforms: logicle with T, W, M auto for markers, linear scatter --
 * the default config's.  Populations named like the default strategy's
 * headline ones (cd4; treg, treg_foxp3; th17, th17_like) fill the
 * headline columns.
 *
 * gating_args is R argument syntax: `key=value, ...` with numbers,
 * quoted strings and c(...) vectors, whose elements may be named after a
 * dimension (`one_peak=c(CCR6="below")`) to apply to that dimension only.
 * Arguments that do not map are refused, naming the row, so a template
 * never runs with a setting silently dropped (flowClust's and
 * singletGate's own tuning arguments excepted: ours find the mode and the
 * diagonal themselves).
 *
 * Invariant: every generated YAML line records the CSV line it came from,
 * so config errors point into the template.  Threading: no shared state.
 */
#include "opencyto.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "readfile.h"

/* ---- growable text with a YAML-line -> CSV-line map ------------------ */
typedef struct ybuf {
    char *s;
    size_t len, cap;
    int *map;      /* map[k]: CSV line of YAML line k (1-based) */
    int nmap, capmap;
    int cur;       /* CSV line for the lines being written */
    int oom;
} ybuf;

static void yb_put(ybuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void yb_put(ybuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || b->oom)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t nc = b->cap * 2 + (size_t)n + 256;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (int k = 0; k < n; k++)
        if (b->s[b->len + (size_t)k] == '\n') {
            if (b->nmap + 2 > b->capmap) {
                int nc = b->capmap * 2 + 64;
                int *p = realloc(b->map, (size_t)nc * sizeof *p);
                if (!p) {
                    b->oom = 1;
                    return;
                }
                b->map = p;
                b->capmap = nc;
            }
            b->map[++b->nmap] = b->cur;
        }
    b->len += (size_t)n;
}

/* A YAML double-quoted scalar. */
static void yb_str(ybuf *b, const char *s)
{
    yb_put(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            yb_put(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            yb_put(b, "\\x%02x", (unsigned char)*s);
        else
            yb_put(b, "%c", *s);
    }
    yb_put(b, "\"");
}

/* ---- CSV --------------------------------------------------------------- */
typedef struct row {
    char **f;
    int nf;
    int line;
} row;

static void rows_free(row *r, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < r[i].nf; k++)
            free(r[i].f[k]);
        free(r[i].f);
    }
    free(r);
}

/* Split buf into rows of fields (quotes: "" is a quote; newlines may be
 * quoted).  Blank lines are skipped.  0 or < 0. */
static int csv_rows(const char *buf, size_t n, row **out, int *nout,
                    cg_err *err)
{
    row *rs = NULL;
    int nr = 0, cap = 0, line = 1;
    size_t i = 0;
    if (n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n) {
        int start = line;
        row r = {NULL, 0, start};
        int capf = 0, blank = 1;
        for (;;) {
            char *fld = malloc(n - i + 1);
            size_t fl = 0;
            if (!fld)
                goto oom;
            if (i < n && buf[i] == '"') {
                blank = 0;
                i++;
                while (i < n) {
                    if (buf[i] == '"') {
                        if (i + 1 < n && buf[i + 1] == '"') {
                            fld[fl++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (buf[i] == '\n')
                        line++;
                    fld[fl++] = buf[i++];
                }
            }
            while (i < n && buf[i] != ',' && buf[i] != '\n' &&
                   buf[i] != '\r') {
                if (!isspace((unsigned char)buf[i]))
                    blank = 0;
                fld[fl++] = buf[i++];
            }
            fld[fl] = '\0';
            /* trim spaces around unquoted text */
            char *s = fld;
            while (isspace((unsigned char)*s))
                s++;
            size_t L = strlen(s);
            while (L && isspace((unsigned char)s[L - 1]))
                s[--L] = '\0';
            memmove(fld, s, L + 1);
            if (r.nf + 1 > capf) {
                capf = capf * 2 + 12;
                char **p = realloc(r.f, (size_t)capf * sizeof *p);
                if (!p) {
                    free(fld);
                    goto oom;
                }
                r.f = p;
            }
            r.f[r.nf++] = fld;
            if (i < n && buf[i] == ',') {
                blank = 0;
                i++;
                continue;
            }
            break;
        }
        if (i < n && buf[i] == '\r')
            i++;
        if (i < n && buf[i] == '\n') {
            i++;
            line++;
        }
        if (blank) {
            for (int k = 0; k < r.nf; k++)
                free(r.f[k]);
            free(r.f);
            continue;
        }
        if (nr + 1 > cap) {
            cap = cap * 2 + 16;
            row *p = realloc(rs, (size_t)cap * sizeof *p);
            if (!p) {
                for (int k = 0; k < r.nf; k++)
                    free(r.f[k]);
                free(r.f);
                goto oom;
            }
            rs = p;
        }
        rs[nr++] = r;
        continue;
    oom:
        rows_free(rs, nr);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    *out = rs;
    *nout = nr;
    return 0;
}

/* ---- gating_args ------------------------------------------------------ */
typedef struct argv_item {
    char name[256]; /* "" when unnamed */
    char val[256];
    int quoted;
} argv_item;

typedef struct arg {
    char key[64];
    argv_item *it;
    int nit;
    int used;
} arg;

/* One value: number/identifier or quoted string; p advanced. */
static int arg_value(const char **pp, argv_item *it)
{
    const char *p = *pp;
    while (isspace((unsigned char)*p))
        p++;
    size_t k = 0;
    if (*p == '"' || *p == '\'') {
        char q = *p++;
        while (*p && *p != q && k + 1 < sizeof it->val)
            it->val[k++] = *p++;
        if (*p != q)
            return -1;
        p++;
        it->quoted = 1;
    } else {
        while (*p && *p != ',' && *p != ')' && *p != '=' &&
               !isspace((unsigned char)*p) && k + 1 < sizeof it->val)
            it->val[k++] = *p++;
        if (!k)
            return -1;
    }
    it->val[k] = '\0';
    while (isspace((unsigned char)*p))
        p++;
    *pp = p;
    return 0;
}

static int arg_item(const char **pp, argv_item *it)
{
    memset(it, 0, sizeof *it);
    if (arg_value(pp, it) < 0)
        return -1;
    if (**pp == '=') { /* name = value */
        snprintf(it->name, sizeof it->name, "%s", it->val);
        (*pp)++;
        it->quoted = 0;
        if (arg_value(pp, it) < 0)
            return -1;
    }
    return 0;
}

/* Parse "k=v, k=c(a, n=b)" into args.  0 or -1 (*bad set). */
static int parse_args(const char *s, arg **out, int *nout, const char **bad)
{
    arg *a = NULL;
    int na = 0;
    const char *p = s;
    *bad = NULL;
    while (*p) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (!*p)
            break;
        const char *k0 = p;
        while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
            p++;
        size_t kl = (size_t)(p - k0);
        while (isspace((unsigned char)*p))
            p++;
        if (!kl || kl >= sizeof a->key || *p != '=') {
            *bad = "expected key=value";
            goto fail;
        }
        p++;
        arg *np = realloc(a, (size_t)(na + 1) * sizeof *np);
        if (!np) {
            *bad = "out of memory";
            goto fail;
        }
        a = np;
        arg *cur = &a[na++];
        memset(cur, 0, sizeof *cur);
        memcpy(cur->key, k0, kl);
        while (isspace((unsigned char)*p))
            p++;
        int vec = p[0] == 'c' && (p[1] == '(' ||
                  (isspace((unsigned char)p[1]) && strchr(p, '(')));
        if (vec) {
            p = strchr(p, '(') + 1;
            for (;;) {
                while (isspace((unsigned char)*p))
                    p++;
                if (*p == ')') {
                    p++;
                    break;
                }
                argv_item it;
                if (arg_item(&p, &it) < 0) {
                    *bad = "malformed c(...)";
                    goto fail;
                }
                argv_item *ni = realloc(cur->it, (size_t)(cur->nit + 1) *
                                                     sizeof *ni);
                if (!ni) {
                    *bad = "out of memory";
                    goto fail;
                }
                cur->it = ni;
                cur->it[cur->nit++] = it;
                if (*p == ',')
                    p++;
                else if (*p != ')') {
                    *bad = "malformed c(...)";
                    goto fail;
                }
            }
        } else {
            argv_item it;
            if (arg_item(&p, &it) < 0 || it.name[0]) {
                *bad = "malformed value";
                goto fail;
            }
            cur->it = malloc(sizeof *cur->it);
            if (!cur->it) {
                *bad = "out of memory";
                goto fail;
            }
            cur->it[0] = it;
            cur->nit = 1;
        }
    }
    *out = a;
    *nout = na;
    return 0;
fail:
    for (int i = 0; i < na; i++)
        free(a[i].it);
    free(a);
    return -1;
}

static void args_free(arg *a, int n)
{
    for (int i = 0; i < n; i++)
        free(a[i].it);
    free(a);
}

static arg *arg_get(arg *a, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(a[i].key, key)) {
            a[i].used = 1;
            return &a[i];
        }
    return NULL;
}

/* The value of a for dimension dim: a named element for it, else an
 * unnamed scalar; NULL when none applies. */
static const char *arg_for(const arg *a, const char *dim)
{
    if (!a)
        return NULL;
    for (int k = 0; k < a->nit; k++)
        if (a->it[k].name[0] && !strcasecmp(a->it[k].name, dim))
            return a->it[k].val;
    if (a->nit == 1 && !a->it[0].name[0])
        return a->it[0].val;
    return NULL;
}

/* Whether dim is listed among a's unnamed values (optional="CCR4"). */
static int arg_lists(const arg *a, const char *dim)
{
    for (int k = 0; a && k < a->nit; k++)
        if (!a->it[k].name[0] && !strcasecmp(a->it[k].val, dim))
            return 1;
        else if (a->it[k].name[0] && !strcasecmp(a->it[k].name, dim))
            return !strcasecmp(a->it[k].val, "TRUE");
    return 0;
}

static int is_number(const char *s)
{
    char *e;
    if (!*s)
        return 0;
    strtod(s, &e);
    return *e == '\0';
}

/* ---- translation ------------------------------------------------------ */

/* A dim as a config marker/role name: letters, digits, '_', '-' and '.';
 * anything else becomes '_' (the original is kept as an alias or $PnN
 * pattern, so it still matches the file). */
static void safe_name(const char *d, char *out, size_t n)
{
    size_t k = 0;
    for (; d[k] && k + 1 < n; k++) {
        unsigned char c = (unsigned char)d[k];
        out[k] = isalnum(c) || c == '_' || c == '-' || c == '.' ? (char)c
                                                               : '_';
    }
    out[k] = '\0';
}

/* Write dim d as its config name. */
static void yb_dim(ybuf *b, const char *d)
{
    char nm[256];
    safe_name(d, nm, sizeof nm);
    yb_str(b, nm);
}

static int is_scatter(const char *d)
{
    return !strncasecmp(d, "FSC", 3) || !strncasecmp(d, "SSC", 3) ||
           !strncasecmp(d, "FS ", 3) || !strncasecmp(d, "SS ", 3) ||
           !strcasecmp(d, "Time");
}

static int is_na(const char *s)
{
    return !*s || !strcasecmp(s, "NA") || !strcasecmp(s, "FALSE");
}

enum { M_VALLEY, M_TAIL, M_QUANTILE, M_SCATTER, M_SINGLETS, M_BOOL };

static int method_of(const char *m)
{
    static const struct {
        const char *name;
        int kind;
    } tab[] = {{"gate_mindensity", M_VALLEY}, {"mindensity", M_VALLEY},
               {"gate_mindensity2", M_VALLEY}, {"mindensity2", M_VALLEY},
               {"tailgate", M_TAIL}, {"gate_tail", M_TAIL},
               {"gate_quantile", M_QUANTILE}, {"quantileGate", M_QUANTILE},
               {"quantilegate", M_QUANTILE}, {"flowClust", M_SCATTER},
               {"flowClust.2d", M_SCATTER}, {"gate_flowclust_2d", M_SCATTER},
               {"singletGate", M_SINGLETS}, {"gate_singlet", M_SINGLETS},
               {"singlet", M_SINGLETS}, {"boolGate", M_BOOL},
               {"boolgate", M_BOOL}};
    for (size_t k = 0; k < sizeof tab / sizeof *tab; k++)
        if (!strcmp(m, tab[k].name))
            return tab[k].kind;
    return -1;
}

/* Split "a,b" (dims) in place into at most max names. */
static int split_dims(char *s, char **out, int max)
{
    int n = 0;
    for (char *t = strtok(s, ",:"); t && n < max; t = strtok(NULL, ",:")) {
        while (isspace((unsigned char)*t))
            t++;
        size_t L = strlen(t);
        while (L && isspace((unsigned char)t[L - 1]))
            t[--L] = '\0';
        if (*t)
            out[n++] = t;
    }
    return n;
}

#define MAXD 8

typedef struct tr {
    ybuf *y;
    cg_err *err;
    char **names; /* aliases defined so far */
    int nnames;
    char **markers, **roles;
    int nmarkers, nroles;
} tr;

static int add_name(char ***v, int *n, const char *s)
{
    for (int k = 0; k < *n; k++)
        if (!strcasecmp((*v)[k], s))
            return 0;
    char **p = realloc(*v, (size_t)(*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *v = p;
    if (!(p[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

static int has_name(char **v, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(v[k], s))
            return 1;
    return 0;
}

#define ROWERR(...) \
    cg_err_setl(t->err, CG_E_PARSE, line, __VA_ARGS__)

/* One row being translated: its place, names and parsed gating_args. */
typedef struct rowc {
    tr *t;
    int line;
    const char *alias, *pop, *method, *dims;
    arg *a;
    int na;
    char *dv[MAXD]; /* the dims, split */
    int nd;
} rowc;

/* Record dim d as a marker or a scatter role.  0 or < 0 (out of memory). */
static int note_dim(tr *t, const char *d)
{
    return is_scatter(d) ? add_name(&t->roles, &t->nroles, d)
                         : add_name(&t->markers, &t->nmarkers, d);
}

/* flowClust on scatter, or singletGate: one 2-D gate on (x, y). */
static int row_gate_2d(rowc *r, int kind)
{
    tr *t = r->t;
    ybuf *y = t->y;
    int line = r->line;
    const char *alias = r->alias;
    if (r->nd != 2)
        return ROWERR("row %s: %s needs two dims (x,y), got '%s'", alias,
                      r->method, r->dims);
    if (strcmp(r->pop, "+"))
        return ROWERR("row %s: pop '%s': %s gives one population ('+')",
                      alias, r->pop, r->method);
    if (kind == M_SCATTER && (!is_scatter(r->dv[0]) || !is_scatter(r->dv[1])))
        return ROWERR("row %s: flowClust is supported on scatter only (FSC/SSC "
                      "dims), not '%s,%s'", alias, r->dv[0], r->dv[1]);
    for (int k = 0; k < 2; k++)
        if (note_dim(t, r->dv[k]) < 0)
            return ROWERR("out of memory");
    yb_put(y, "    type: %s\n    x: ", kind == M_SCATTER ? "scatter"
                                                          : "singlets");
    yb_dim(y, r->dv[0]);
    yb_put(y, "\n    y: ");
    yb_dim(y, r->dv[1]);
    yb_put(y, "\n");
    static const char *const ign_fc[] = {"K", "quantile", "target",
                                         "transitional", "pp_res", NULL};
    static const char *const ign_sg[] = {"wider_gate", "prediction_level",
                                         "maxit", NULL};
    const char *const *ign = kind == M_SCATTER ? ign_fc : ign_sg;
    for (int k = 0; ign[k]; k++)
        arg_get(r->a, r->na, ign[k]);
    const char *own[] = {kind == M_SCATTER ? "level" : "tolerance", "adjust"};
    for (int k = 0; k < 2; k++) {
        arg *o = arg_get(r->a, r->na, own[k]);
        const char *v = arg_for(o, "");
        if (o && (!v || !is_number(v)))
            return ROWERR("row %s: gating_args %s must be a number", alias,
                          own[k]);
        if (v)
            yb_put(y, "    %s: %s\n", own[k], v);
    }
    return 0;
}

/* boolGate: "a&b&c", "a|b" or "!a" in gating_args. */
static int row_gate_bool(rowc *r, const char *e)
{
    tr *t = r->t;
    ybuf *y = t->y;
    int line = r->line;
    const char *alias = r->alias;
    int op = strchr(e, '&') ? '&' : strchr(e, '|') ? '|' : '!';
    if ((strchr(e, '&') && strchr(e, '|')) || (op != '!' && strchr(e, '!')))
        return ROWERR("row %s: boolGate '%s': only a&b&..., a|b|... or !a "
                      "are supported", alias, e);
    char ex[512];
    snprintf(ex, sizeof ex, "%s", e);
    yb_put(y, "    type: boolean\n    op: %s\n    of: [",
           op == '&' ? "and" : op == '|' ? "or" : "not");
    int nref = 0;
    char sep[2] = {(char)(op == '!' ? ' ' : op), 0};
    for (char *s = strtok(ex, sep); s; s = strtok(NULL, sep)) {
        while (isspace((unsigned char)*s) || *s == '!')
            s++;
        size_t L = strlen(s);
        while (L && isspace((unsigned char)s[L - 1]))
            s[--L] = '\0';
        const char *ref = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
        if (!has_name(t->names, t->nnames, ref))
            return ROWERR("row %s: boolGate refers to '%s', not an alias "
                          "defined above", alias, ref);
        yb_put(y, "%s", nref ? ", " : "");
        yb_str(y, ref);
        nref++;
    }
    yb_put(y, "]\n");
    if (!nref)
        return ROWERR("row %s: boolGate needs its expression in gating_args",
                      alias);
    return 0;
}

/* pop of a 1-D cut row: "+"/"-" for one dim, "<dim>+<dim>-..." for
 * several; keep[k] = 1 for above.  0 or < 0. */
static int cut_pop(rowc *r, int *keep)
{
    tr *t = r->t;
    int line = r->line;
    const char *p = r->pop;
    for (int k = 0; k < r->nd; k++) {
        size_t L = strlen(r->dv[k]);
        if (r->nd > 1 || strncasecmp(p, r->dv[k], L) == 0) {
            if (strncasecmp(p, r->dv[k], L) != 0)
                return ROWERR("row %s: pop '%s' does not name dim '%s' (write "
                              "e.g. %s+ for each dim, in the order of dims)",
                              r->alias, r->pop, r->dv[k], r->dv[k]);
            p += L;
        }
        if (*p != '+' && *p != '-')
            return ROWERR("row %s: pop '%s': expected + or - after %s (+/- "
                          "and quadrant pops are not supported)", r->alias,
                          r->pop, r->nd > 1 ? r->dv[k] : "the dim");
        keep[k] = *p == '+';
        p++;
    }
    if (*p)
        return ROWERR("row %s: pop '%s': unexpected '%s' (+/- and quadrant "
                      "pops are not supported)", r->alias, r->pop, p);
    return 0;
}

/* The gating_args of a 1-D cut row, looked up once. */
typedef struct cutargs {
    arg *range, *adjust, *tol, *side, *probs, *onep, *mth, *kk, *within,
        *opt;
    int dkind[MAXD]; /* method per dim */
} cutargs;

/* Look up and check a cut row's arguments: per-dim methods, arguments that
 * fit only some methods, named elements, gate_range.  0 or < 0. */
static int cut_args(rowc *r, int kind, cutargs *c)
{
    tr *t = r->t;
    int line = r->line;
    const char *alias = r->alias;
    arg *a = r->a;
    int na = r->na;
    c->range = arg_get(a, na, "gate_range");
    if (!c->range)
        c->range = arg_get(a, na, "range");
    c->adjust = arg_get(a, na, "adjust");
    c->tol = arg_get(a, na, "tol");
    c->side = arg_get(a, na, "side");
    c->probs = arg_get(a, na, "probs");
    c->onep = arg_get(a, na, "one_peak");
    c->mth = arg_get(a, na, "method");
    c->kk = arg_get(a, na, "k");
    for (int k = 0; k < r->nd; k++) {
        const char *mm = arg_for(c->mth, r->dv[k]);
        c->dkind[k] = mm ? method_of(mm) : kind;
        if (c->dkind[k] != M_VALLEY && c->dkind[k] != M_TAIL &&
            c->dkind[k] != M_QUANTILE)
            return ROWERR("row %s: method for %s must be gate_mindensity, "
                          "tailgate or gate_quantile, not '%s'", alias,
                          r->dv[k], mm);
    }
    /* arguments that fit only some methods: used when a dim fits */
    for (int k = 0; k < r->nd; k++) {
        if (c->dkind[k] == M_TAIL) {
            if (c->tol) c->tol->used = 2;
            if (c->side) c->side->used = 2;
        } else if (c->dkind[k] == M_QUANTILE) {
            if (c->probs) c->probs->used = 2;
        } else if (c->onep) {
            c->onep->used = 2;
        }
    }
    arg *fitonly[] = {c->tol, c->side, c->probs, c->onep};
    for (size_t s = 0; s < sizeof fitonly / sizeof *fitonly; s++)
        if (fitonly[s] && fitonly[s]->used != 2)
            return ROWERR("row %s: gating_args '%s' does not apply to %s",
                          alias, fitonly[s]->key, r->method);
    c->within = arg_get(a, na, "within");
    c->opt = arg_get(a, na, "optional");
    /* named elements must name a dim of the row */
    for (int i = 0; i < na; i++)
        for (int k = 0; k < a[i].nit; k++) {
            const char *nm = a[i].it[k].name;
            int ok = !*nm;
            for (int d = 0; d < r->nd && !ok; d++)
                ok = !strcasecmp(nm, r->dv[d]);
            if (!ok)
                return ROWERR("row %s: gating_args %s names '%s', which is "
                              "not one of its dims", alias, a[i].key, nm);
        }
    if (c->range && !(c->range->nit == 2 && !c->range->it[0].name[0] &&
                      is_number(c->range->it[0].val) &&
                      is_number(c->range->it[1].val)))
        return ROWERR("row %s: gate_range must be c(lo, hi)", alias);
    return 0;
}

/* Emit dim k of a cut row as one "- {marker: ..., method: ...}" line. */
static int cut_dim(rowc *r, const cutargs *c, int k, int keep)
{
    tr *t = r->t;
    ybuf *y = t->y;
    int line = r->line;
    const char *d = r->dv[k];
    if (note_dim(t, d) < 0)
        return ROWERR("out of memory");
    yb_put(y, "      - {marker: ");
    yb_dim(y, d);
    int dk = c->dkind[k];
    yb_put(y, ", method: %s, keep: %s",
           dk == M_VALLEY ? "valley" : dk == M_TAIL ? "tail" : "quantile",
           keep ? "above" : "below");
    if (c->range)
        yb_put(y, ", range: [%s, %s]", c->range->it[0].val,
               c->range->it[1].val);
    struct {
        arg *a;
        const char *key;
        int num;
    } sc[] = {{c->adjust, "adjust", 1},
              {dk == M_TAIL ? c->tol : NULL, "fraction", 1},
              {dk == M_QUANTILE ? c->probs : NULL, "q", 1},
              {c->kk, "k", 1},
              {dk == M_VALLEY ? c->onep : NULL, "one_peak", 0},
              {c->within, "within", 0}};
    for (size_t s = 0; s < sizeof sc / sizeof *sc; s++) {
        const char *v = arg_for(sc[s].a, d);
        if (!v)
            continue;
        if (sc[s].num && !is_number(v))
            return ROWERR("row %s: gating_args %s must be a number, not "
                          "'%s'", r->alias, sc[s].a->key, v);
        yb_put(y, ", %s: ", sc[s].key);
        if (sc[s].num)
            yb_put(y, "%s", v);
        else if (sc[s].a == c->within)
            yb_dim(y, v);
        else
            yb_str(y, v);
    }
    if (dk == M_QUANTILE && !arg_for(c->probs, d))
        yb_put(y, ", q: 0.999"); /* openCyto's default probs */
    const char *sd = dk == M_TAIL ? arg_for(c->side, d) : NULL;
    if (sd) {
        if (strcasecmp(sd, "right") && strcasecmp(sd, "left"))
            return ROWERR("row %s: side must be \"right\" or \"left\"",
                          r->alias);
        yb_put(y, ", side: %s", !strcasecmp(sd, "right") ? "above" : "below");
    }
    if (arg_lists(c->opt, d))
        yb_put(y, ", optional: true");
    yb_put(y, "}\n");
    return 0;
}

/* 1-D cuts: one threshold gate, one dim per channel. */
static int row_gate_cuts(rowc *r, int kind)
{
    tr *t = r->t;
    int line = r->line;
    if (r->nd < 1)
        return ROWERR("row %s: no dims", r->alias);
    int keep[MAXD];
    cutargs c;
    memset(&c, 0, sizeof c);
    if (cut_pop(r, keep) < 0 || cut_args(r, kind, &c) < 0)
        return -1;
    yb_put(t->y, "    type: threshold\n    dims:\n");
    for (int k = 0; k < r->nd; k++)
        if (cut_dim(r, &c, k, keep[k]) < 0)
            return -1;
    return 0;
}

/* Emit the gate of one row.  0 or < 0 (t->err set). */
static int row_gate(tr *t, int line, const char *alias, const char *pop,
                    const char *parent, char *dims, const char *method,
                    const char *args_s)
{
    ybuf *y = t->y;
    int kind = method_of(method);
    if (kind < 0)
        return ROWERR("row %s: gating_method '%s' is not supported (supported: "
                      "gate_mindensity, tailgate, gate_quantile, flowClust on "
                      "scatter, singletGate, boolGate)", alias, method);
    if (!*alias || !strcmp(alias, "*"))
        return ROWERR("row %s: an alias is required ('*' is not supported)",
                      pop);
    if (has_name(t->names, t->nnames, alias))
        return ROWERR("row %s: alias defined twice", alias);
    const char *par = parent;
    const char *slash = strrchr(parent, '/');
    if (slash)
        par = slash + 1;
    int root = !*par || !strcasecmp(par, "root");
    if (!root && !has_name(t->names, t->nnames, par))
        return ROWERR("row %s: parent '%s' is not an alias defined above",
                      alias, parent);
    rowc r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.line = line;
    r.alias = alias;
    r.pop = pop;
    r.method = method;
    r.dims = dims;
    const char *bad;
    if (kind != M_BOOL && *args_s && strcasecmp(args_s, "NA") &&
        parse_args(args_s, &r.a, &r.na, &bad) < 0)
        return ROWERR("row %s: gating_args '%s': %s", alias, args_s, bad);
    /* the message quotes dims as written: split a copy */
    char *dcopy = kind == M_BOOL ? NULL : strdup(dims);
    if (kind != M_BOOL && !dcopy) {
        args_free(r.a, r.na);
        return ROWERR("out of memory");
    }
    r.nd = dcopy ? split_dims(dcopy, r.dv, MAXD) : 0;

    yb_put(y, "  - name: ");
    yb_str(y, alias);
    yb_put(y, "\n");
    if (!root) {
        yb_put(y, "    parent: ");
        yb_str(y, par);
        yb_put(y, "\n");
    }
    int rc;
    if (kind == M_SCATTER || kind == M_SINGLETS)
        rc = row_gate_2d(&r, kind);
    else if (kind == M_BOOL)
        rc = row_gate_bool(&r, args_s);
    else
        rc = row_gate_cuts(&r, kind);
    for (int i = 0; rc == 0 && i < r.na; i++)
        if (!r.a[i].used)
            rc = ROWERR("row %s: gating_args '%s' is not supported for %s",
                        alias, r.a[i].key, method);
    if (rc == 0 && add_name(&t->names, &t->nnames, alias) < 0)
        rc = ROWERR("out of memory");
    free(dcopy);
    args_free(r.a, r.na);
    return rc < 0 ? -1 : 0;
}

int cg_opencyto_is_template(const char *path)
{
    size_t L = path ? strlen(path) : 0;
    return L > 4 && !strcasecmp(path + L - 4, ".csv");
}

static const char *col_names[] = {"alias", "pop", "parent", "dims",
                                  "gating_method", "gating_args",
                                  "collapseDataForGating", "groupBy",
                                  "preprocessing_method",
                                  "preprocessing_args"};
enum { C_ALIAS, C_POP, C_PARENT, C_DIMS, C_METHOD, C_ARGS, C_COLLAPSE,
       C_GROUPBY, C_PPM, C_PPA, C_N };

/* Find the template's columns in its header row: col[c] is the field index
 * of col_names[c] or -1.  0 or < 0 (a required column is missing). */
static int find_cols(const row *hdr, int *col, cg_err *err)
{
    for (int c = 0; c < C_N; c++) {
        col[c] = -1;
        for (int k = 0; k < hdr->nf; k++)
            if (!strcasecmp(hdr->f[k], col_names[c]))
                col[c] = k;
        if (c <= C_METHOD && col[c] < 0)
            return cg_err_setl(err, CG_E_PARSE, hdr->line, "header: no column "
                               "'%s' (an openCyto template has alias, pop, "
                               "parent, dims, gating_method, gating_args, ...)",
                               col_names[c]);
    }
    return 0;
}

/* Translate each gate row into t's gate buffer g.  0 or < 0. */
static int translate_rows(tr *t, ybuf *g, const row *rs, int nr,
                          const int *col, cg_err *err)
{
    for (int i = 1; i < nr; i++) {
        const row *r = &rs[i];
        const char *f[C_N];
        for (int c = 0; c < C_N; c++)
            f[c] = col[c] >= 0 && col[c] < r->nf ? r->f[col[c]] : "";
        int line = r->line;
        g->cur = line;
        if (!is_na(f[C_COLLAPSE]) || !is_na(f[C_GROUPBY]))
            return cg_err_setl(err, CG_E_PARSE, line, "row %s: pooled gating "
                               "(collapseDataForGating/groupBy) is not "
                               "supported: cytogate gates each sample on its "
                               "own", f[C_ALIAS]);
        if (!is_na(f[C_PPM]))
            return cg_err_setl(err, CG_E_PARSE, line, "row %s: "
                               "preprocessing_method '%s' is not supported",
                               f[C_ALIAS], f[C_PPM]);
        char *dims = strdup(f[C_DIMS]);
        if (!dims)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        int r2 = row_gate(t, line, f[C_ALIAS], f[C_POP], f[C_PARENT], dims,
                          f[C_METHOD], f[C_ARGS]);
        free(dims);
        if (r2 < 0)
            return -1;
    }
    return 0;
}

/* The panel: (markers the gates use) and scatter: (roles) sections. */
static void emit_panel_scatter(ybuf *y, const tr *t)
{
    if (t->nmarkers) {
        yb_put(y, "panel:\n");
        for (int k = 0; k < t->nmarkers; k++) {
            char nm[256];
            safe_name(t->markers[k], nm, sizeof nm);
            yb_put(y, "  ");
            yb_str(y, nm);
            yb_put(y, ": {optional: true");
            if (strcmp(nm, t->markers[k])) {
                yb_put(y, ", aliases: [");
                yb_str(y, t->markers[k]);
                yb_put(y, "]");
            }
            yb_put(y, "}\n");
        }
    }
    if (!t->nroles)
        return;
    static const struct {
        const char *role, *pat;
    } std[] = {{"FSC-A", "[FSC-A, FSC-Area, FS INT, FS-A, FSC]"},
               {"FSC-H", "[FSC-H, FSC-Height, FS PEAK, FS-H]"},
               {"SSC-A", "[SSC-A, SSC-Area, SS INT, SS-A, SSC]"},
               {"Time", "[Time, HDR-T, T1, TIME1]"}};
    yb_put(y, "scatter:\n");
    for (int k = 0; k < t->nroles; k++) {
        yb_put(y, "  ");
        yb_dim(y, t->roles[k]);
        yb_put(y, ": ");
        const char *pat = NULL;
        for (size_t s = 0; s < sizeof std / sizeof *std; s++)
            if (!strcmp(std[s].role, t->roles[k]))
                pat = std[s].pat;
        if (pat) {
            yb_put(y, "%s\n", pat);
        } else {
            yb_put(y, "[");
            yb_str(y, t->roles[k]);
            yb_put(y, "]\n");
        }
    }
}

/* headline: populations, when the template names them. */
static void emit_headline(ybuf *g, const tr *t)
{
    static const char *const hl[3][3] = {{"cd4", NULL, NULL},
                                         {"treg", "treg_foxp3", NULL},
                                         {"th17", "th17_like", NULL}};
    static const char *const hk[3] = {"cd4", "treg", "th17"};
    int anyh = 0;
    for (int h = 0; h < 3; h++) {
        int nh = 0;
        for (int k = 0; hl[h][k]; k++)
            if (has_name(t->names, t->nnames, hl[h][k])) {
                if (!anyh++)
                    yb_put(g, "headline:\n");
                if (nh++)
                    yb_put(g, ", %s", hl[h][k]);
                else
                    yb_put(g, "  %s: [%s", hk[h], hl[h][k]);
            }
        if (nh)
            yb_put(g, "]\n");
    }
}

static void tr_free(tr *t)
{
    for (int k = 0; k < t->nnames; k++)
        free(t->names[k]);
    free(t->names);
    for (int k = 0; k < t->nmarkers; k++)
        free(t->markers[k]);
    free(t->markers);
    for (int k = 0; k < t->nroles; k++)
        free(t->roles[k]);
    free(t->roles);
}

int cg_opencyto_to_yaml(const char *buf, size_t n, char **yaml,
                        int **rowline, int *nrowline, cg_err *err)
{
    *yaml = NULL;
    if (rowline)
        *rowline = NULL;
    row *rs = NULL;
    int nr = 0;
    if (csv_rows(buf, n, &rs, &nr, err) < 0)
        return -1;
    ybuf y;
    memset(&y, 0, sizeof y);
    ybuf g; /* the gates, appended after panel and scatter */
    memset(&g, 0, sizeof g);
    tr t;
    memset(&t, 0, sizeof t);
    t.y = &g;
    t.err = err;
    int rc = -1, col[C_N];
    if (nr < 1) {
        cg_err_set(err, CG_E_PARSE, "empty template (expected a header row "
                   "alias,pop,parent,dims,gating_method,gating_args,...)");
        goto done;
    }
    if (find_cols(&rs[0], col, err) < 0)
        goto done;
    if (nr < 2) {
        cg_err_set(err, CG_E_PARSE, "the template has no gates");
        goto done;
    }
    if (translate_rows(&t, &g, rs, nr, col, err) < 0)
        goto done;
    /* header, panel, scatter, compensation, transforms (line 0: none) */
    y.cur = 0;
    yb_put(&y, "# translated from an openCyto gating template\n"
               "config_version: 1\nname: opencyto_template\n");
    emit_panel_scatter(&y, &t);
    yb_put(&y, "compensation: file\ntransforms:\n"
               "  default: {type: logicle, T: auto, W: auto, M: auto, A: 0}\n"
               "  scatter: {type: linear}\ngates:\n");
    int base = y.nmap;
    g.cur = 0;
    emit_headline(&g, &t);
    if (y.oom || g.oom) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    /* concatenate */
    t.y = &y;
    y.cur = 0;
    yb_put(&y, "%s", g.s ? g.s : "");
    if (y.oom) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 1; k <= g.nmap && base + k <= y.nmap; k++)
        y.map[base + k] = g.map[k];
    *yaml = y.s;
    y.s = NULL;
    if (rowline) {
        *rowline = y.map;
        *nrowline = y.nmap;
        y.map = NULL;
    }
    rc = 0;
done:
    free(y.s);
    free(y.map);
    free(g.s);
    free(g.map);
    tr_free(&t);
    rows_free(rs, nr);
    return rc;
}

cg_config *cg_opencyto_load(const char *path, cg_err *err)
{
    size_t n = 0;
    char *buf = cg_read_file(path, (size_t)16 << 20, &n, err);
    if (!buf)
        return NULL;
    char *yaml = NULL;
    int *map = NULL, nmap = 0;
    if (cg_opencyto_to_yaml(buf, n, &yaml, &map, &nmap, err) < 0) {
        free(buf);
        return NULL;
    }
    cg_config *cfg = cg_config_parse(yaml, strlen(yaml), path, err);
    if (!cfg && err && err->line > 0) {
        /* the YAML line's CSV row (line 0: the generated preamble) */
        int csvl = err->line <= nmap ? map[err->line] : 0;
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        if (csvl > 0)
            cg_err_setl(err, err->code, csvl, "%s", m);
        else
            cg_err_setl(err, err->code, 0, "translated template: %s", m);
    }
    free(yaml);
    free(map);
    if (cfg) {
        /* provenance: the template as read, not the translation */
        free(cfg->text);
        cfg->text = buf;
        cfg->text_len = n;
        buf = NULL;
    }
    free(buf);
    return cfg;
}
