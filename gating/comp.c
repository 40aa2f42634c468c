/*
 * comp.c -- spillover compensation: compensated = observed * S^-1 over the
 * matrix's channels (matched by $PnN), every other channel untouched.
 *
 * The compensation matrix K is formed once per call with LAPACK: LU with
 * partial pivoting (dgetrf) and dgetrs against the identity for a square
 * S; QR least squares (dgels) for a non-square S (Gating-ML
 * spectrumMatrix, spectral unmixing): K = pinv(S), so abundances
 * a = observed * K minimise |observed - a S|.  Events are then processed in
 * blocks of CG_COMP_BLOCK: the block's columns are copied into a
 * column-major buffer, multiplied by K, and copied back, so the input and
 * output columns may be the same arrays.
 *
 * The product is ours, not BLAS's: every value is the chain
 * acc = fma(x[j], K[j][k], acc) over j = 0, 1, ..., m-1 from acc = 0, each
 * step rounded once.  That is what OpenBLAS's dgemm kernels with fused
 * multiply-add compute (the Haswell kernel on the project's machines
 * gives it bit for bit, docs/perf.md), so outputs did not change; but a
 * BLAS picks its kernel at run time, and one without FMA, or summing in
 * another order, gives other last bits.  Fixing the chain here makes the
 * compensated values the same on every machine: an AVX2+FMA kernel where
 * the CPU has one, else C's fma(), which rounds the same way.
 *
 * Determinism and threading: OpenBLAS (LAPACK for K) is pinned to one
 * thread (openblas_set_num_threads(1), once per process through
 * pthread_once); run several compensations in parallel from your own
 * threads instead.  That one call is the only process-wide effect.
 * Per-call buffers are allocated once per call, never per event.
 */
#include "comp.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CG_COMP_X86 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CG_COMP_BLOCK
#define CG_COMP_BLOCK 256
#endif

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* OpenBLAS's pthread build starts one worker per core when it is loaded,
 * and each worker spins in sched_yield for about 0.1 s (2^28 cycles)
 * before it sleeps: a core's worth of CPU taken from the process's own
 * threads at startup, for matrices of 60 x 60 at most.  After pinning
 * OpenBLAS to one thread, its workers are stopped with its own exported
 * shutdown (what its fork handler calls).  Weak: reference BLAS, the
 * serial and OpenMP builds of OpenBLAS have no such symbol, and no
 * workers. */
extern void blas_thread_shutdown_(void) __attribute__((weak));

static void blas_single(void)
{
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
}

void cg_blas_quiet(void) { pthread_once(&blas_once, blas_single); }

/* K (m x p, column-major) from S; m inputs, p outputs. */
static double *comp_matrix(const cg_matrix *S, int inverted_already, int *m,
                           int *p, cg_err *err)
{
    int nr = S->nrow, nc = S->ncol;
    double *K;
    if (inverted_already) {
        /* out = in * S: in has nrow columns, out ncol */
        K = malloc((size_t)nr * nc * sizeof *K);
        if (!K)
            return cg_err_set(err, CG_E_NOMEM, "out of memory"), NULL;
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++)
                K[i + (size_t)j * nr] = S->v[(size_t)i * nc + j];
        *m = nr;
        *p = nc;
        return K;
    }
    if (nr == nc) {
        int n = nr;
        double *A = malloc((size_t)n * n * sizeof *A);
        K = calloc((size_t)n * n, sizeof *K);
        lapack_int *ipiv = malloc((size_t)n * sizeof *ipiv);
        if (!A || !K || !ipiv) {
            free(A);
            free(K);
            free(ipiv);
            return cg_err_set(err, CG_E_NOMEM, "out of memory"), NULL;
        }
        memcpy(A, S->v, (size_t)n * n * sizeof *A);
        for (int i = 0; i < n; i++)
            K[(size_t)i * n + i] = 1.0;
        /* row-major S K = I gives K = S^-1, stored row-major */
        lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, A, n, ipiv);
        if (info == 0)
            info = LAPACKE_dgetrs(LAPACK_ROW_MAJOR, 'N', n, n, A, n, ipiv, K,
                                  n);
        free(A);
        free(ipiv);
        if (info != 0) {
            free(K);
            if (info > 0)
                return cg_err_set(err, CG_E_MATH, "spillover matrix is "
                                  "singular (zero pivot at row %d)",
                                  (int)info), NULL;
            return cg_err_set(err, CG_E_MATH, "LAPACK dgetrf/dgetrs failed "
                              "(info %d)", (int)info), NULL;
        }
        /* row-major K == column-major K^T; out = in * K needs the
         * column-major K itself: transpose */
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double t = K[(size_t)i * n + j];
                K[(size_t)i * n + j] = K[(size_t)j * n + i];
                K[(size_t)j * n + i] = t;
            }
        *m = *p = n;
        return K;
    }
    /* least squares: S is nr (outputs) x nc (inputs), nr < nc.  With
     * A = S^T (nc x nr), dgels on B = I (nc x nc) gives X = pinv(A)
     * (nr x nc); a^T = X obs^T, so out = in * X^T: K = X^T (nc x nr). */
    if (nr > nc)
        return cg_err_set(err, CG_E_ARG, "matrix has more rows (%d) than "
                          "columns (%d): cannot unmix %d signals from %d "
                          "detectors", nr, nc, nr, nc), NULL;
    double *A = malloc((size_t)nc * nr * sizeof *A);
    double *B = calloc((size_t)nc * nc, sizeof *B);
    if (!A || !B) {
        free(A);
        free(B);
        return cg_err_set(err, CG_E_NOMEM, "out of memory"), NULL;
    }
    for (int i = 0; i < nc; i++) /* A row-major nc x nr: A[i][j] = S[j][i] */
        for (int j = 0; j < nr; j++)
            A[(size_t)i * nr + j] = S->v[(size_t)j * nc + i];
    for (int i = 0; i < nc; i++)
        B[(size_t)i * nc + i] = 1.0;
    lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', nc, nr, nc, A, nr,
                                    B, nc);
    free(A);
    if (info != 0) {
        free(B);
        if (info > 0)
            return cg_err_set(err, CG_E_MATH, "spectra are linearly "
                              "dependent (rank-deficient at %d)", (int)info),
                   NULL;
        return cg_err_set(err, CG_E_MATH, "LAPACK dgels failed (info %d)",
                          (int)info), NULL;
    }
    /* X = first nr rows of B (row-major nr x nc).  K = X^T, column-major
     * nc x nr: K[i + j*nc] = X[j][i] -- exactly X's row-major layout. */
    K = malloc((size_t)nc * nr * sizeof *K);
    if (!K) {
        free(B);
        return cg_err_set(err, CG_E_NOMEM, "out of memory"), NULL;
    }
    memcpy(K, B, (size_t)nr * nc * sizeof *K);
    free(B);
    *m = nc;
    *p = nr;
    return K;
}

/* Event i's value for the output whose column of K is Kk: the fma chain
 * over the inputs in order (see the top of the file). */
static inline double chain1(const double *X, int b, int m, const double *Kk,
                            int i)
{
    double acc = 0;
    for (int j = 0; j < m; j++)
        acc = fma(X[(size_t)j * b + i], Kk[j], acc);
    return acc;
}

/* Y (b x p, column-major) = X (b x m) K (m x p), value by value. */
static void mul_chain(const double *X, int b, int m, const double *K, int p,
                      double *Y)
{
    for (int k = 0; k < p; k++)
        for (int i = 0; i < b; i++)
            Y[(size_t)k * b + i] = chain1(X, b, m, K + (size_t)k * m, i);
}

#ifdef CG_COMP_X86
/* Q outputs k0.. of four events at i: Q independent chains (one FMA's
 * latency hides another's), each over j in order as chain1. */
#define CG_COMP_CHAINS(Q)                                                   \
    do {                                                                    \
        __m256d acc[Q];                                                     \
        for (int q = 0; q < (Q); q++)                                       \
            acc[q] = _mm256_setzero_pd();                                   \
        for (int j = 0; j < m; j++) {                                       \
            __m256d x = _mm256_loadu_pd(X + (size_t)j * b + i);             \
            for (int q = 0; q < (Q); q++)                                   \
                acc[q] = _mm256_fmadd_pd(                                   \
                    x, _mm256_broadcast_sd(K + (size_t)(k0 + q) * m + j),   \
                    acc[q]);                                                \
        }                                                                   \
        for (int q = 0; q < (Q); q++)                                       \
            _mm256_storeu_pd(Y + (size_t)(k0 + q) * b + i, acc[q]);         \
    } while (0)

/* The same chains, four events at a time, up to eight outputs at once. */
__attribute__((target("avx2,fma"))) static void
mul_chain_fma(const double *X, int b, int m, const double *K, int p,
              double *Y)
{
    int i = 0;
    for (; i + 4 <= b; i += 4) {
        int k0 = 0;
        for (; k0 + 8 <= p; k0 += 8)
            CG_COMP_CHAINS(8);
        for (; k0 + 4 <= p; k0 += 4)
            CG_COMP_CHAINS(4);
        for (; k0 < p; k0++)
            CG_COMP_CHAINS(1);
    }
    for (; i < b; i++)
        for (int k = 0; k < p; k++)
            Y[(size_t)k * b + i] = chain1(X, b, m, K + (size_t)k * m, i);
}
#undef CG_COMP_CHAINS
#endif

#ifdef CG_COMP_X86
/* One output for 16 events at a time: four chains of four events in
 * flight (one FMA's latency hides the others'), each over j in order as
 * chain1.  Events at in[j][first + t]. */
__attribute__((target("avx2,fma"))) static int64_t
chain_f32_fma(const float *const *in, int m, const double *Kk, int64_t first,
              int64_t b, double *y)
{
    int64_t t = 0;
    for (; t + 16 <= b; t += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < m; j++) {
            const float *s = in[j] + first + t;
            __m256d k = _mm256_broadcast_sd(Kk + j);
            a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(s)), k, a0);
            a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(s + 4)), k, a1);
            a2 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(s + 8)), k, a2);
            a3 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(s + 12)), k,
                                 a3);
        }
        _mm256_storeu_pd(y + t, a0);
        _mm256_storeu_pd(y + t + 4, a1);
        _mm256_storeu_pd(y + t + 8, a2);
        _mm256_storeu_pd(y + t + 12, a3);
    }
    return t;
}
#endif

void cg_comp_chain_f32(const float *const *in, int m, const double *Kk,
                       int64_t first, int64_t b, double *y)
{
    int64_t t = 0;
#ifdef CG_COMP_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        t = chain_f32_fma(in, m, Kk, first, b, y);
#endif
    for (; t < b; t++) {
        double acc = 0;
        for (int j = 0; j < m; j++)
            acc = fma((double)in[j][first + t], Kk[j], acc);
        y[t] = acc;
    }
}

void cg_comp_chain(const double *X, int b, int m, const double *Kk,
                   double *y)
{
#ifdef CG_COMP_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        mul_chain_fma(X, b, m, Kk, 1, y);
        return;
    }
#endif
    mul_chain(X, b, m, Kk, 1, y);
}

/* 0 when every entry of S is finite, else < 0 with err naming one. */
static int check_finite(const cg_matrix *S, cg_err *err)
{
    for (size_t k = 0; k < (size_t)S->nrow * S->ncol; k++)
        if (!isfinite(S->v[k]))
            return cg_err_set(err, CG_E_ARG, "matrix entry (%d, %d) is not "
                              "finite", (int)(k / S->ncol) + 1,
                              (int)(k % S->ncol) + 1);
    return 0;
}

double *cg_comp_matrix(const cg_matrix *S, int inverted_already, int *m,
                       int *p, cg_err *err)
{
    if (!S || S->nrow < 1 || S->ncol < 1) {
        cg_err_set(err, CG_E_ARG, "cg_comp_matrix: no matrix");
        return NULL;
    }
    if (check_finite(S, err) < 0)
        return NULL;
    cg_blas_quiet();
    return comp_matrix(S, inverted_already, m, p, err);
}

int cg_comp_apply(const cg_matrix *S, int inverted_already,
                  const double *const *in, double *const *out, int64_t n,
                  cg_err *err)
{
    if (!S || S->nrow < 1 || S->ncol < 1 || !in || !out || n < 0)
        return cg_err_set(err, CG_E_ARG, "cg_comp_apply: bad arguments");
    if (check_finite(S, err) < 0)
        return -(err ? err->code : CG_E_ARG);
    cg_blas_quiet();
    int m, p;
    double *K = comp_matrix(S, inverted_already, &m, &p, err);
    if (!K)
        return -(err ? err->code : CG_E_MATH);
    int64_t blk = n < CG_COMP_BLOCK ? (n > 0 ? n : 1) : CG_COMP_BLOCK;
#ifdef CG_COMP_X86
    int fast = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    double *X = malloc((size_t)blk * m * sizeof *X);
    double *Y = malloc((size_t)blk * p * sizeof *Y);
    if (!X || !Y) {
        free(K);
        free(X);
        free(Y);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    for (int64_t s = 0; s < n; s += blk) {
        int b = (int)(n - s < blk ? n - s : blk);
        for (int j = 0; j < m; j++)
            memcpy(X + (size_t)j * b, in[j] + s, (size_t)b * sizeof *X);
#ifdef CG_COMP_X86
        if (fast)
            mul_chain_fma(X, b, m, K, p, Y);
        else
#endif
            mul_chain(X, b, m, K, p, Y);
        for (int k = 0; k < p; k++)
            memcpy(out[k] + s, Y + (size_t)k * b, (size_t)b * sizeof *Y);
    }
    free(K);
    free(X);
    free(Y);
    return 0;
}

int cg_comp_report_of(const cg_matrix *S, cg_comp_report *rep, cg_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (!S || S->nrow != S->ncol)
        return cg_err_set(err, CG_E_ARG, "condition number needs a square "
                          "matrix");
    int n = S->nrow;
    for (int i = 0; i < n; i++)
        rep->diag_not_one += fabs(S->v[(size_t)i * n + i] - 1.0) > 1e-6;
    double *A = malloc((size_t)n * n * sizeof *A);
    lapack_int *ipiv = malloc((size_t)n * sizeof *ipiv);
    if (!A || !ipiv) {
        free(A);
        free(ipiv);
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    }
    memcpy(A, S->v, (size_t)n * n * sizeof *A);
    double anorm = LAPACKE_dlange(LAPACK_ROW_MAJOR, '1', n, n, A, n);
    lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, A, n, ipiv);
    double rcond = 0;
    if (info == 0)
        info = LAPACKE_dgecon(LAPACK_ROW_MAJOR, '1', n, A, n, anorm, &rcond);
    else if (info > 0)
        info = 0, rcond = 0; /* exactly singular */
    free(A);
    free(ipiv);
    if (info != 0)
        return cg_err_set(err, CG_E_MATH, "LAPACK dgecon failed (info %d)",
                          (int)info);
    rep->cond = rcond > 0 ? 1.0 / rcond : INFINITY;
    rep->near_singular = !(rep->cond <= 1e6);
    return 0;
}

/* Compensate fr's channels idx[0..n) with the (permuted) spillover S.
 * All of them float-held and no compensation recorded yet: recorded
 * (cg_frame_set_comp), applied when read.  Otherwise the frame is made
 * of doubles first and compensated in place.  cols: room for n. */
static int apply_to_frame(cg_frame *fr, const cg_matrix *S, const int *idx,
                          double **cols, cg_err *err)
{
    int n = S->ncol, nfloat = 0, nplain = 0; /* float-held; not scaled */
    for (int j = 0; j < n; j++) {
        int fl = !cg_frame_held(fr, idx[j]);
        nfloat += fl;
        nplain += fl && !(fr->fmul && fr->fmul[idx[j]] != 0);
    }
    if (nplain == n && !fr->comp) {
        if (check_finite(S, err) < 0)
            return -(err ? err->code : CG_E_ARG);
        cg_blas_quiet();
        int m, p;
        double *K = comp_matrix(S, 0, &m, &p, err);
        if (!K)
            return -(err ? err->code : CG_E_MATH);
        int rc = cg_frame_set_comp(fr, idx, n, K, err);
        free(K);
        return rc;
    }
    if ((nfloat || fr->comp) && cg_frame_materialize(fr, err) < 0)
        return -(err ? err->code : CG_E_NOMEM);
    for (int j = 0; j < n; j++)
        cols[j] = fr->col[idx[j]];
    return cg_comp_apply(S, 0, (const double *const *)cols, cols, fr->n, err);
}

int cg_compensate(cg_frame *fr, const cg_matrix *spill, cg_comp_report *rep,
                  cg_err *err)
{
    if (!fr || !spill)
        return cg_err_set(err, CG_E_ARG, "cg_compensate: no frame or matrix");
    if (spill->nrow != spill->ncol)
        return cg_err_set(err, CG_E_ARG, "spillover matrix is %d x %d; it "
                          "must be square", spill->nrow, spill->ncol);
    int n = spill->ncol;
    int *idx = malloc((size_t)n * sizeof *idx);
    double **cols = malloc((size_t)n * sizeof *cols);
    cg_matrix *S = cg_matrix_copy(spill);
    int rc = 0;
    if (!idx || !cols || !S) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    /* channels by name; list all missing ones */
    char missing[200];
    size_t ml = 0;
    int nmiss = 0;
    missing[0] = '\0';
    for (int j = 0; j < n; j++) {
        const char *nm = spill->col[j] ? spill->col[j] : "";
        idx[j] = cg_frame_find(fr, nm);
        for (int k = 0; k < j && idx[j] >= 0; k++)
            if (idx[k] == idx[j]) {
                rc = cg_err_set(err, CG_E_ARG, "matrix names channel '%s' "
                                "twice", nm);
                goto done;
            }
        if (idx[j] < 0) {
            int w = snprintf(missing + ml, sizeof missing - ml, "%s%s",
                             nmiss ? ", " : "", nm);
            if (w > 0 && ml + (size_t)w < sizeof missing)
                ml += (size_t)w;
            nmiss++;
        }
    }
    if (nmiss) {
        rc = cg_err_set(err, CG_E_CHANNEL, "matrix names %d channel(s) the "
                        "data lack: %s", nmiss, missing);
        goto done;
    }
    /* rows in column order when the row names are the column names */
    int permute = 1;
    int *rmap = malloc((size_t)n * sizeof *rmap);
    if (!rmap) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < n && permute; i++) {
        rmap[i] = -1;
        for (int k = 0; k < n; k++)
            if (spill->row[k] && spill->col[i] &&
                !strcmp(spill->row[k], spill->col[i]))
                rmap[i] = k;
        if (rmap[i] < 0)
            permute = 0;
    }
    if (permute)
        for (int i = 0; i < n; i++)
            memcpy(S->v + (size_t)i * n, spill->v + (size_t)rmap[i] * n,
                   (size_t)n * sizeof *S->v);
    free(rmap);
    if (rep && (rc = cg_comp_report_of(S, rep, err)) < 0)
        goto done;
    rc = apply_to_frame(fr, S, idx, cols, err);
done:
    free(idx);
    free(cols);
    cg_matrix_free(S);
    return rc;
}
