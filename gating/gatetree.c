/*
 * gatetree.c -- gate trees and per-sample memberships.
 *
 * The tree owns its gates (insertion order), their parent population ids
 * and the named matrices.  Populations are (gate, quadrant) pairs; ids are
 * unique across the tree and looked up linearly (trees hold tens to a few
 * hundred gates; lookups happen per gate, never per event).
 *
 * Evaluation is a depth-first walk: before a gate, its parent population
 * and its boolean operands are evaluated; a state array marks gates in
 * progress so cycles are reported with the gate's id.  Every gate is
 * evaluated at most once per cg_members (all its populations at once), so
 * incremental additions cost only the new gates.  Membership bitsets are
 * allocated once per population per sample.
 *
 * Threading: the tree is read-only during evaluation; cg_members and
 * cg_dims are per thread.
 */
#include "gatetree.h"

#include <stdlib.h>
#include <string.h>

typedef struct tmatrix {
    char *id;
    cg_matrix *m;
    int inverted;
} tmatrix;

typedef struct tpop {
    int gate, k; /* gate index, population index within the gate */
} tpop;

struct cg_gatetree {
    cg_gate **gate;
    char **parent; /* per gate, owned or NULL */
    int ngate, capgate;
    tpop *pop;
    int npop, cappop;
    tmatrix *mat;
    int nmat, capmat;
};

struct cg_members {
    int64_t n;
    cg_bits **bits; /* per population */
    int64_t *count;
    int cap;
};

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int grow(void **p, int *cap, int need, size_t elt)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elt);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

cg_gatetree *cg_gatetree_new(void) { return calloc(1, sizeof(cg_gatetree)); }

void cg_gatetree_free(cg_gatetree *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ngate; i++) {
        cg_gate_free(t->gate[i]);
        free(t->parent[i]);
    }
    free(t->gate);
    free(t->parent);
    free(t->pop);
    for (int i = 0; i < t->nmat; i++) {
        free(t->mat[i].id);
        cg_matrix_free(t->mat[i].m);
    }
    free(t->mat);
    free(t);
}

int cg_gatetree_find(const cg_gatetree *t, const char *id)
{
    if (!id)
        return -1;
    for (int p = 0; p < t->npop; p++)
        if (strcmp(cg_gate_pop_id(t->gate[t->pop[p].gate], t->pop[p].k),
                   id) == 0)
            return p;
    return -1;
}

static int find_gate(const cg_gatetree *t, const char *id)
{
    for (int i = 0; i < t->ngate; i++)
        if (strcmp(cg_gate_id(t->gate[i]), id) == 0)
            return i;
    return -1;
}

int cg_gatetree_add(cg_gatetree *t, cg_gate *g, const char *parent_id,
                    cg_err *err)
{
    if (!g)
        return cg_err_set(err, CG_E_ARG, "gate tree: no gate");
    const char *id = cg_gate_id(g);
    int np = cg_gate_npop(g);
    if (find_gate(t, id) >= 0 || cg_gatetree_find(t, id) >= 0) {
        cg_err_set(err, CG_E_ARG, "gate id %s used twice", id);
        cg_gate_free(g);
        return -CG_E_ARG;
    }
    for (int k = 0; k < np; k++) {
        const char *pid = cg_gate_pop_id(g, k);
        if (cg_gatetree_find(t, pid) >= 0 || find_gate(t, pid) >= 0) {
            cg_err_set(err, CG_E_ARG, "population id %s (gate %s) used twice",
                       pid, id);
            cg_gate_free(g);
            return -CG_E_ARG;
        }
    }
    if (parent_id && !*parent_id)
        parent_id = NULL;
    char *par = xstrdup(parent_id);
    if ((parent_id && !par) ||
        grow((void **)&t->gate, &t->capgate, t->ngate + 1,
             sizeof *t->gate) < 0 ||
        grow((void **)&t->pop, &t->cappop, t->npop + np, sizeof *t->pop) < 0) {
        free(par);
        cg_gate_free(g);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    /* parent[] grows with gate[] (same capacity). */
    char **pp = realloc(t->parent, (size_t)t->capgate * sizeof *pp);
    if (!pp) {
        free(par);
        cg_gate_free(g);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    t->parent = pp;
    t->gate[t->ngate] = g;
    t->parent[t->ngate] = par;
    for (int k = 0; k < np; k++)
        t->pop[t->npop++] = (tpop){t->ngate, k};
    t->ngate++;
    return 0;
}

int cg_gatetree_add_matrix(cg_gatetree *t, const char *id, cg_matrix *m,
                           int inverted_already, cg_err *err)
{
    if (!id || !*id || !m) {
        cg_matrix_free(m);
        return cg_err_set(err, CG_E_ARG, "matrix: missing id or matrix");
    }
    for (int i = 0; i < t->nmat; i++)
        if (strcmp(t->mat[i].id, id) == 0) {
            cg_matrix_free(m);
            return cg_err_set(err, CG_E_ARG, "matrix id %s used twice", id);
        }
    char *c = xstrdup(id);
    if (!c || grow((void **)&t->mat, &t->capmat, t->nmat + 1,
                   sizeof *t->mat) < 0) {
        free(c);
        cg_matrix_free(m);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    t->mat[t->nmat++] = (tmatrix){c, m, !!inverted_already};
    return 0;
}

int cg_gatetree_n_matrices(const cg_gatetree *t) { return t->nmat; }

const cg_matrix *cg_gatetree_matrix(const cg_gatetree *t, int i,
                                    const char **id, int *inverted_already)
{
    if (i < 0 || i >= t->nmat)
        return NULL;
    if (id)
        *id = t->mat[i].id;
    if (inverted_already)
        *inverted_already = t->mat[i].inverted;
    return t->mat[i].m;
}

int cg_gatetree_n_gates(const cg_gatetree *t) { return t->ngate; }

const cg_gate *cg_gatetree_gate(const cg_gatetree *t, int i)
{
    return (i >= 0 && i < t->ngate) ? t->gate[i] : NULL;
}

const char *cg_gatetree_gate_parent(const cg_gatetree *t, int i)
{
    return (i >= 0 && i < t->ngate) ? t->parent[i] : NULL;
}

int cg_gatetree_n_pops(const cg_gatetree *t) { return t->npop; }

const char *cg_gatetree_pop_id(const cg_gatetree *t, int p)
{
    if (p < 0 || p >= t->npop)
        return NULL;
    return cg_gate_pop_id(t->gate[t->pop[p].gate], t->pop[p].k);
}

const char *cg_gatetree_pop_parent(const cg_gatetree *t, int p)
{
    return (p >= 0 && p < t->npop) ? t->parent[t->pop[p].gate] : NULL;
}

int cg_gatetree_pop_gate(const cg_gatetree *t, int p)
{
    return (p >= 0 && p < t->npop) ? t->pop[p].gate : -1;
}

/* First population index of gate gi. */
static int first_pop(const cg_gatetree *t, int gi)
{
    for (int p = 0; p < t->npop; p++)
        if (t->pop[p].gate == gi)
            return p;
    return -1;
}

static int has_matrix(const cg_gatetree *t, const char *id)
{
    for (int i = 0; i < t->nmat; i++)
        if (strcmp(t->mat[i].id, id) == 0)
            return 1;
    return 0;
}

/* Gates that must be evaluated before gate gi, in deps[] (max 1 + nref). */
static int deps_of(const cg_gatetree *t, int gi, int *deps, cg_err *err)
{
    const cg_gate *g = t->gate[gi];
    int nd = 0;
    if (t->parent[gi]) {
        int p = cg_gatetree_find(t, t->parent[gi]);
        if (p < 0)
            return cg_err_set(err, CG_E_ARG, "gate %s: parent %s is not a "
                              "gate or quadrant id", cg_gate_id(g),
                              t->parent[gi]);
        deps[nd++] = t->pop[p].gate;
    }
    for (int k = 0; k < cg_gate_bool_nref(g); k++) {
        const char *r = cg_gate_bool_ref(g, k);
        int p = cg_gatetree_find(t, r);
        if (p < 0) {
            if (find_gate(t, r) >= 0)
                return cg_err_set(err, CG_E_ARG, "boolean gate %s: operand "
                                  "%s is a quadrant gate; refer to one of "
                                  "its quadrants", cg_gate_id(g), r);
            return cg_err_set(err, CG_E_ARG, "boolean gate %s: operand %s is "
                              "not a gate or quadrant id", cg_gate_id(g), r);
        }
        deps[nd++] = t->pop[p].gate;
    }
    for (int d = 0; d < cg_gate_ndim(g); d++) {
        const cg_dim *dm = cg_gate_dim(g, d);
        if (dm->comp == CG_COMP_MATRIX && !has_matrix(t, dm->comp_id))
            return cg_err_set(err, CG_E_ARG, "gate %s: compensation matrix "
                              "%s is not defined", cg_gate_id(g),
                              dm->comp_id);
    }
    return nd;
}

/* state: 0 new, 1 in progress, 2 done. */
static int visit(const cg_gatetree *t, int gi, char *state, cg_dims *dc,
                 cg_members *m, cg_err *err)
{
    if (state[gi] == 2)
        return 0;
    if (state[gi] == 1)
        return cg_err_set(err, CG_E_ARG, "gate %s is its own ancestor or "
                          "operand (cycle)", cg_gate_id(t->gate[gi]));
    state[gi] = 1;
    const cg_gate *g = t->gate[gi];
    int nref = cg_gate_bool_nref(g);
    int *deps = malloc((size_t)(nref + 1) * sizeof *deps);
    if (!deps)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    int nd = deps_of(t, gi, deps, err), rc = 0;
    if (nd < 0) {
        free(deps);
        return nd;
    }
    for (int k = 0; k < nd && rc == 0; k++)
        rc = visit(t, deps[k], state, dc, m, err);
    free(deps);
    if (rc < 0)
        return rc;
    if (m) {
        int p0 = first_pop(t, gi);
        if (!m->bits[p0]) { /* not yet evaluated in this cg_members */
            const cg_bits *parent = NULL;
            if (t->parent[gi])
                parent = m->bits[cg_gatetree_find(t, t->parent[gi])];
            const cg_bits **ops = NULL;
            if (nref) {
                ops = malloc((size_t)nref * sizeof *ops);
                if (!ops)
                    return cg_err_set(err, CG_E_NOMEM, "out of memory");
                for (int k = 0; k < nref; k++)
                    ops[k] = m->bits[cg_gatetree_find(t,
                                                      cg_gate_bool_ref(g, k))];
            }
            int np = cg_gate_npop(g);
            for (int k = 0; k < np && rc == 0; k++)
                if (!(m->bits[p0 + k] = cg_bits_new(m->n)))
                    rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
            if (rc == 0)
                rc = cg_gate_eval_ops(g, dc, ops, parent, m->bits + p0, err);
            free(ops);
            for (int k = 0; k < np; k++) {
                if (rc < 0) {
                    cg_bits_free(m->bits[p0 + k]);
                    m->bits[p0 + k] = NULL;
                } else {
                    m->count[p0 + k] = cg_bits_count(m->bits[p0 + k]);
                }
            }
            if (rc < 0)
                return rc;
        }
    }
    state[gi] = 2;
    return 0;
}

static int walk(const cg_gatetree *t, cg_dims *dc, cg_members *m,
                cg_err *err)
{
    char *state = calloc((size_t)(t->ngate ? t->ngate : 1), 1);
    if (!state)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    int rc = 0;
    for (int gi = 0; gi < t->ngate && rc == 0; gi++)
        rc = visit(t, gi, state, dc, m, err);
    free(state);
    return rc;
}

int cg_gatetree_check(const cg_gatetree *t, cg_err *err)
{
    return walk(t, NULL, NULL, err);
}

cg_members *cg_members_new(int64_t n)
{
    if (n < 0)
        return NULL;
    cg_members *m = calloc(1, sizeof *m);
    if (m)
        m->n = n;
    return m;
}

void cg_members_free(cg_members *m)
{
    if (!m)
        return;
    for (int p = 0; p < m->cap; p++)
        cg_bits_free(m->bits[p]);
    free(m->bits);
    free(m->count);
    free(m);
}

int cg_gatetree_eval(const cg_gatetree *t, cg_dims *dc, cg_members *m,
                     cg_err *err)
{
    if (cg_dims_n(dc) != m->n)
        return cg_err_set(err, CG_E_ARG, "members hold %lld events, sample "
                          "%lld", (long long)m->n, (long long)cg_dims_n(dc));
    if (t->npop > m->cap) {
        cg_bits **b = realloc(m->bits, (size_t)t->npop * sizeof *b);
        if (!b)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        m->bits = b;
        int64_t *c = realloc(m->count, (size_t)t->npop * sizeof *c);
        if (!c)
            return cg_err_set(err, CG_E_NOMEM, "out of memory");
        m->count = c;
        for (int p = m->cap; p < t->npop; p++) {
            m->bits[p] = NULL;
            m->count[p] = -1;
        }
        m->cap = t->npop;
    }
    for (int i = 0; i < t->nmat; i++) {
        int rc = cg_dims_add_matrix(dc, t->mat[i].id, t->mat[i].m,
                                    t->mat[i].inverted, err);
        if (rc < 0)
            return rc;
    }
    return walk(t, dc, m, err);
}

const cg_bits *cg_members_bits(const cg_members *m, int p)
{
    return (p >= 0 && p < m->cap) ? m->bits[p] : NULL;
}

int64_t cg_members_count(const cg_members *m, int p)
{
    return (p >= 0 && p < m->cap) ? m->count[p] : -1;
}

int64_t cg_members_n(const cg_members *m) { return m->n; }
