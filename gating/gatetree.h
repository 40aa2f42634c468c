/*
 * gatetree.h -- a tree (forest) of gates, the named matrices they refer
 * to, and the per-sample memberships it produces.
 *
 * Gates are added one at a time with an optional parent population id (a
 * gate id, or a quadrant id of a quadrant gate).  Population ids are
 * unique across the tree.  Evaluation is topological: a population's
 * parents and boolean operands are evaluated before it, each gate exactly
 * once per sample, a child only on its parent's events.  Cycles and
 * references to unknown ids are errors naming them.
 *
 * Incremental use (the pipeline's auto gates): add a gate, call
 * cg_gatetree_eval again with the same cg_members; only gates not yet
 * evaluated in that cg_members are evaluated.
 *
 * Ownership: cg_gatetree_add / _add_matrix take over what they are given
 * (also on failure).  cg_members is per sample; free with
 * cg_members_free.  Returned pointers are borrowed until the tree (or
 * members) is freed.
 * Threading: a built tree is read-only during evaluation; one cg_members
 * and cg_dims per thread.
 */
#ifndef CG_GATETREE_H
#define CG_GATETREE_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"
#include "comp.h"
#include "dims.h"
#include "gate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cg_gatetree cg_gatetree;
typedef struct cg_members cg_members;

cg_gatetree *cg_gatetree_new(void);
void cg_gatetree_free(cg_gatetree *t);

/* Add g (taken over).  parent_id NULL = root.  The parent and boolean
 * operands may be added later (checked at evaluation), except that ids
 * must be unique at once.  0 or < 0 with err. */
int cg_gatetree_add(cg_gatetree *t, cg_gate *g, const char *parent_id,
                    cg_err *err);

/* A named compensation matrix (taken over); see cg_dims_add_matrix for
 * the layout.  Dimensions refer to it with CG_COMP_MATRIX and this id. */
int cg_gatetree_add_matrix(cg_gatetree *t, const char *id, cg_matrix *m,
                           int inverted_already, cg_err *err);
int cg_gatetree_n_matrices(const cg_gatetree *t);
const cg_matrix *cg_gatetree_matrix(const cg_gatetree *t, int i,
                                    const char **id, int *inverted_already);

/* Gates in insertion order. */
int cg_gatetree_n_gates(const cg_gatetree *t);
const cg_gate *cg_gatetree_gate(const cg_gatetree *t, int i);
/* Parent population id of gate i, or NULL for a root. */
const char *cg_gatetree_gate_parent(const cg_gatetree *t, int i);

/* Populations in insertion order (a quadrant gate contributes one per
 * quadrant, in quadrant order). */
int cg_gatetree_n_pops(const cg_gatetree *t);
const char *cg_gatetree_pop_id(const cg_gatetree *t, int p);
const char *cg_gatetree_pop_parent(const cg_gatetree *t, int p);
int cg_gatetree_pop_gate(const cg_gatetree *t, int p); /* gate index */
int cg_gatetree_find(const cg_gatetree *t, const char *pop_id); /* or -1 */

/* Check references (parents, operands, matrices) and cycles without
 * evaluating.  0 or < 0 with err naming the offending id. */
int cg_gatetree_check(const cg_gatetree *t, cg_err *err);

/* ---- per-sample memberships ------------------------------------------- */
cg_members *cg_members_new(int64_t n);
void cg_members_free(cg_members *m);

/* Evaluate every population of t not yet in m, on dc (the tree's matrices
 * are registered in dc).  0 or < 0 with err naming the gate. */
int cg_gatetree_eval(const cg_gatetree *t, cg_dims *dc, cg_members *m,
                     cg_err *err);

/* Membership of population p (parents included); NULL when not evaluated.
 * Borrowed until cg_members_free. */
const cg_bits *cg_members_bits(const cg_members *m, int p);
int64_t cg_members_count(const cg_members *m, int p); /* -1: not evaluated */
int64_t cg_members_n(const cg_members *m);

#ifdef __cplusplus
}
#endif

#endif
