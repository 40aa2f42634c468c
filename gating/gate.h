/*
 * gate.h -- gates: rectangle/range, polygon, ellipsoid, quadrant, boolean.
 *
 * Semantics are Gating-ML 2.0 (spec-notes.md section 2.2):
 *   rectangle  n >= 1 dims; min <= x < max per dimension; a missing end is
 *              open (pass -INFINITY / INFINITY).  The test is literal, so
 *              -inf values can be inside but +inf and NaN never are.
 *   polygon    2 dims, >= 3 vertices, implicitly closed, even-odd rule
 *              (crossing parity; a self-intersecting polygon's doubly wound
 *              part is outside).
 *   ellipsoid  n >= 2 dims; (x-mu)' C^-1 (x-mu) <= D2, with the
 *              covariance used as given (not symmetrised).
 *   quadrant   dividers, each with one or more ascending values; each
 *              quadrant names one location per divider it uses (NaN =
 *              unconstrained) and covers lower <= x < upper on that
 *              divider, lower = largest value <= location, upper =
 *              smallest value > location, a missing end open (again
 *              literal: +inf and NaN are in no quadrant).
 *   boolean    and / or (>= 2 operands), not (exactly 1); each operand may
 *              be used as its complement.  Operands are population ids and
 *              are evaluated by the caller (a gate tree does this).
 *
 * Every gate has one or more populations: one for all kinds except the
 * quadrant gate, which has one population per quadrant, identified by the
 * quadrant ids.  Evaluation writes one bitset per population; a parent
 * bitset (or NULL = all events) restricts evaluation to the parent's
 * events, and out = own membership AND parent.  Evaluation allocates
 * nothing per event.
 *
 * Ownership: constructors copy everything they are given (dims, ids,
 * arrays) and return an owned gate; free with cg_gate_free (NULL ok).
 * Accessors return pointers borrowed until the gate is freed.
 * Threading: a gate is immutable after construction; evaluate it from any
 * number of threads, each with its own cg_dims and output bitsets.
 */
#ifndef CG_GATE_H
#define CG_GATE_H

#include <stdint.h>

#include "bits.h"
#include "cgerr.h"
#include "dims.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_gate_kind {
    CG_GATE_RECT = 0,
    CG_GATE_POLYGON,
    CG_GATE_ELLIPSE,
    CG_GATE_QUAD,
    CG_GATE_BOOL
} cg_gate_kind;

typedef enum cg_bool_op { CG_BOOL_AND = 0, CG_BOOL_OR, CG_BOOL_NOT } cg_bool_op;

typedef struct cg_gate cg_gate; /* opaque, immutable */

/* ---- constructors (NULL with err on invalid input) ------------------- */

/* ndim dims; min[i]/max[i] may be -INFINITY/INFINITY (open); min < max. */
cg_gate *cg_gate_rect_new(const char *id, int ndim, const cg_dim *dims,
                          const double *min, const double *max, cg_err *err);

/* dims[2]; nv >= 3 vertices xy[2*k], xy[2*k+1]. */
cg_gate *cg_gate_polygon_new(const char *id, const cg_dim dims[2], int nv,
                             const double *xy, cg_err *err);
/* The same from separate coordinate arrays vx[nv], vy[nv]. */
cg_gate *cg_gate_polygon_new_xy(const char *id, const cg_dim dims[2], int nv,
                                const double *vx, const double *vy,
                                cg_err *err);

/* ndim >= 2; mean[ndim]; cov[ndim*ndim] row-major (must be invertible);
 * d2 > 0. */
cg_gate *cg_gate_ellipse_new(const char *id, int ndim, const cg_dim *dims,
                             const double *mean, const double *cov,
                             double d2, cg_err *err);

/* One divider of a quadrant gate. */
typedef struct cg_quad_divider {
    const char *id;      /* unique within the gate */
    cg_dim dim;
    int nvalues;         /* >= 1 */
    const double *values;/* ascending (sorted on construction) */
} cg_quad_divider;

/* One quadrant: loc[d] for each divider d (NaN = this quadrant does not
 * use divider d; at least one must be used). */
typedef struct cg_quadrant {
    const char *id;      /* a population id */
    const double *loc;   /* ndiv locations */
} cg_quadrant;

cg_gate *cg_gate_quad_new(const char *id, int ndiv,
                          const cg_quad_divider *divs, int nquad,
                          const cg_quadrant *quads, cg_err *err);

/* op AND/OR: nref >= 2; NOT: nref == 1.  refs are population ids;
 * complement[k] != 0 uses operand k as its complement (NULL = none). */
cg_gate *cg_gate_bool_new(const char *id, cg_bool_op op, int nref,
                          const char *const *refs, const int *complement,
                          cg_err *err);

/* Deep copy.  Owned. */
cg_gate *cg_gate_copy(const cg_gate *g, cg_err *err);
void cg_gate_free(cg_gate *g);

/* ---- common accessors ------------------------------------------------- */
cg_gate_kind cg_gate_kind_of(const cg_gate *g);
const char *cg_gate_kind_name(cg_gate_kind k); /* "rectangle", ... */
const char *cg_gate_id(const cg_gate *g);
int cg_gate_ndim(const cg_gate *g);                 /* 0 for boolean */
const cg_dim *cg_gate_dim(const cg_gate *g, int i); /* divider dims too */
int cg_gate_npop(const cg_gate *g);                 /* quadrants or 1 */
const char *cg_gate_pop_id(const cg_gate *g, int k); /* gate or quad id */

/* ---- geometry (read-only; for plots and export) ----------------------- */
/* Rectangle: bounds of dimension i (-inf/+inf when open). */
int cg_gate_rect_bounds(const cg_gate *g, int i, double *min, double *max);
/* Polygon: vertex count and xy pairs (borrowed). */
int cg_gate_polygon_nv(const cg_gate *g);
const double *cg_gate_polygon_xy(const cg_gate *g);
/* Ellipsoid: mean[ndim], cov[ndim*ndim] row-major (borrowed), D2. */
const double *cg_gate_ellipse_mean(const cg_gate *g);
const double *cg_gate_ellipse_cov(const cg_gate *g);
double cg_gate_ellipse_d2(const cg_gate *g);
/* Quadrant: dividers (their dim is cg_gate_dim(g, d)). */
int cg_gate_quad_ndiv(const cg_gate *g);
const char *cg_gate_quad_divider_id(const cg_gate *g, int d);
int cg_gate_quad_nvalues(const cg_gate *g, int d);
const double *cg_gate_quad_values(const cg_gate *g, int d); /* ascending */
/* Quadrant q's location on divider d (NaN when unused), and the interval
 * [lo, hi) it selects there (-inf/+inf when open; both NaN when unused). */
double cg_gate_quad_location(const cg_gate *g, int q, int d);
void cg_gate_quad_interval(const cg_gate *g, int q, int d, double *lo,
                           double *hi);
/* Boolean: operator, operands (population ids), complement flags. */
cg_bool_op cg_gate_bool_op(const cg_gate *g);
int cg_gate_bool_nref(const cg_gate *g);
const char *cg_gate_bool_ref(const cg_gate *g, int k);
int cg_gate_bool_complement(const cg_gate *g, int k);

/* ---- evaluation -------------------------------------------------------- */
/* Evaluate g on the sample behind dc.  out[k] (k < cg_gate_npop(g)) are
 * caller-owned bitsets of cg_dims_n(dc) events, overwritten with
 * membership AND parent.  parent NULL means every event.  Boolean gates
 * need their operands' memberships: use cg_gate_eval_ops (or a gate tree);
 * cg_gate_eval on a boolean gate is an error.  0 or < 0 with err. */
int cg_gate_eval(const cg_gate *g, cg_dims *dc, const cg_bits *parent,
                 cg_bits *const *out, cg_err *err);
/* Same; operands[k] is the full membership of the gate's k-th boolean
 * operand (complement not applied; ignored for other kinds, may be NULL). */
int cg_gate_eval_ops(const cg_gate *g, cg_dims *dc,
                     const cg_bits *const *operands, const cg_bits *parent,
                     cg_bits *const *out, cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
