/*
 * comp.h -- spillover compensation and spectral unmixing.
 *
 * A cg_matrix is a named dense matrix.  For spillover, rows are source
 * fluorochrome channels and columns detectors (the $SPILLOVER layout), and
 * compensated = observed * S^-1 over exactly the listed channels.  For
 * unmixing, rows are fluorochromes and columns detectors (reference
 * spectra), and abundances are the least-squares solution of
 * observed = abundance * S.
 *
 * Solves use LAPACK (LU with partial pivoting, or QR for least squares);
 * events are processed in blocks with BLAS.  BLAS is pinned to one thread
 * so results do not depend on the machine (see comp.c).
 *
 * Threading: matrices are immutable once built; compensation of different
 * frames may run in parallel.
 */
#ifndef CG_COMP_H
#define CG_COMP_H

#include "cgerr.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fcs_spill;

typedef struct cg_matrix {
    int nrow, ncol;
    char **row;  /* nrow row names, owned */
    char **col;  /* ncol column names, owned */
    double *v;   /* nrow*ncol row-major */
} cg_matrix;

/* Owned; free with cg_matrix_free (NULL ok). Names start out NULL. */
cg_matrix *cg_matrix_new(int nrow, int ncol);
void cg_matrix_free(cg_matrix *m);
cg_matrix *cg_matrix_copy(const cg_matrix *m);
/* From an FCS spillover (square; rows and columns both the channel
 * names). */
cg_matrix *cg_matrix_from_spill(const struct fcs_spill *s);
/* From CSV: a header row of column names and numeric rows, optionally with
 * a leading column of row names (then the header starts with an empty
 * cell).  Without row names, rows take the column names (square only).
 * Errors name the file and line. */
cg_matrix *cg_matrix_read_csv(const char *path, cg_err *err);

/* Quality of a spillover matrix. */
typedef struct cg_comp_report {
    double cond;        /* 1-norm condition number estimate */
    int diag_not_one;   /* diagonal entries farther than 1e-6 from 1 */
    int near_singular;  /* cond > 1e6 */
} cg_comp_report;

/* Pin the BLAS to one thread and stop OpenBLAS's idle workers (they spin
 * for about 0.1 s after the library loads).  Idempotent, thread-safe; the
 * one process-wide effect of this module, done anyway at the first
 * compensation.  Call it early in a program that wants its cores. */
void cg_blas_quiet(void);

/* Compensate the frame in place over the matrix's channels (matched by
 * name, see cg_frame_find); other channels untouched.  A frame whose
 * channels are float-held (frame.h) has the compensation recorded and
 * applied when read, with the same values.  A matrix naming
 * channels the frame lacks is an error listing them.  rep may be NULL. */
int cg_compensate(cg_frame *fr, const cg_matrix *spill, cg_comp_report *rep,
                  cg_err *err);

/* The compensation matrix K cg_comp_apply multiplies by (m inputs x p
 * outputs, column-major: output k's column at K + k m), owned (free()),
 * or NULL with err (a non-finite entry, a singular or rank-deficient
 * matrix).  With cg_comp_chain an output can be computed alone, for any
 * events, with cg_comp_apply's values. */
double *cg_comp_matrix(const cg_matrix *S, int inverted_already, int *m,
                       int *p, cg_err *err);

/* One output of the product, as cg_comp_apply computes it: y[i] = the
 * chain over j = 0..m-1 of fma(X[j * b + i], Kk[j], acc) from acc = 0,
 * for the b events of X (b x m, column-major).  The kernel behind
 * compensation on read (frame.h's float store). */
void cg_comp_chain(const double *X, int b, int m, const double *Kk,
                   double *y);

/* The same chain with the inputs read from float columns: y[t] for the
 * events first + t, t < b, of in[0..m) (each widened to double, which is
 * exact). */
void cg_comp_chain_f32(const float *const *in, int m, const double *Kk,
                       int64_t first, int64_t b, double *y);

/* Lower-level form: out[j] = (in * S^-1)[:, j] for n events, where in and
 * out are ncol column pointers in matrix column order (in == out allowed).
 * inverted_already: S is already the compensation matrix (multiply only):
 * out = in * S, in has nrow pointers and out ncol.
 * A non-square S (nrow < ncol) is solved by least squares (rows =
 * outputs): in has ncol pointers (detectors), out nrow (signals), and out
 * minimises |in - out * S| per event; in and out must not overlap then. */
int cg_comp_apply(const cg_matrix *S, int inverted_already,
                  const double *const *in, double *const *out, int64_t n,
                  cg_err *err);

/* The report alone (square S): 1-norm condition number from LAPACK
 * dgecon (inf when exactly singular), diagonal check, near-singular flag.
 * 0 or < 0 with err. */
int cg_comp_report_of(const cg_matrix *S, cg_comp_report *rep, cg_err *err);

/* Unmix detector channels into abundance channels named after the
 * spectra's rows, appended to the frame (ordinary least squares).
 * Detectors are matched by name (missing ones listed in the error); a
 * frame that already has a channel named like a spectrum row is an
 * error. */
int cg_unmix(cg_frame *fr, const cg_matrix *spectra, cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
