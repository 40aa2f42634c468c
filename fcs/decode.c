/*
 * decode.c -- DATA to double columns: fcs_read_double().
 *
 * Events are decoded in blocks of rows small enough to stay in L1 (16
 * KiB of DATA) while each parameter's column is filled by a loop
 * specialised for its type, width and byte order (memcpy loads + compiler
 * byte-swap builtins; no per-value function calls).  Scaling is a second
 * pass over the same block of the column.  Scaled values follow the
 * reference convention exactly: time * $TIMESTEP; integer log channels
 * f2 * pow(10, (f1 * x) / R) (one double operation per step, in that
 * order); else x / $PnG.
 *
 * Large reads (>= 4 MiB of output) are bound by memory traffic: a block
 * of a column is decoded and scaled into a small buffer, then written
 * with non-temporal stores (SSE2, baseline on x86-64), which skip reading
 * the destination lines into cache first (unscaled host-order float32
 * columns convert straight into the stores); other targets copy.  The
 * bytes are always an owned buffer (fcs_read_file), never a mapping.
 * Values are the same on every path.
 * Invariant relied on: ds.data_b + nevents * row_bytes <= file size
 * (dataset.c), so no read here can leave the buffer.
 * Threading: none; reads only the handle.
 */
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fcs_internal.h"

#define BLOCK_BYTES 16384
/* Output size from which the streaming path is used (overridable to test
 * every path). */
#ifndef FCS_STREAM_MIN_BYTES
#define FCS_STREAM_MIN_BYTES ((int64_t)4 << 20)
#endif
/* Rows per block on the streaming path (buffer of this many doubles). */
#define STREAM_ROWS 256

static inline uint16_t ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_LE 0
#else
#define HOST_LE 1
#endif

/* Decode n values of one parameter from rows starting at src. */
static void decode_col(const fcs_pdec *d, const uint8_t *src, int row,
                       int64_t n, double *dst)
{
    const uint8_t *p = src + d->off;
    int swap = d->le != HOST_LE;
    if (d->perm_generic) {
        for (int64_t i = 0; i < n; i++, p += row) {
            uint64_t v = 0;
            for (int k = 0; k < d->nbytes; k++)
                v |= (uint64_t)p[k] << (8 * d->sig[k]);
            if (d->kind == FCS_K_F32) {
                uint32_t u = (uint32_t)v;
                float x;
                memcpy(&x, &u, 4);
                dst[i] = x;
            } else if (d->kind == FCS_K_F64) {
                double x;
                memcpy(&x, &v, 8);
                dst[i] = x;
            } else {
                dst[i] = (double)(v & d->mask);
            }
        }
        return;
    }
    switch (d->kind) {
    case FCS_K_F32:
        if (swap)
            for (int64_t i = 0; i < n; i++, p += row) {
                uint32_t u = __builtin_bswap32(ld32(p));
                float x;
                memcpy(&x, &u, 4);
                dst[i] = x;
            }
        else
            for (int64_t i = 0; i < n; i++, p += row) {
                float x;
                memcpy(&x, p, 4);
                dst[i] = x;
            }
        return;
    case FCS_K_F64:
        if (swap)
            for (int64_t i = 0; i < n; i++, p += row) {
                uint64_t u = __builtin_bswap64(ld64(p));
                double x;
                memcpy(&x, &u, 8);
                dst[i] = x;
            }
        else
            for (int64_t i = 0; i < n; i++, p += row)
                memcpy(&dst[i], p, 8);
        return;
    default:
        break;
    }
    /* unsigned integers */
    uint64_t m = d->mask;
    switch (d->nbytes) {
    case 1:
        for (int64_t i = 0; i < n; i++, p += row)
            dst[i] = (double)(p[0] & m);
        return;
    case 2:
        if (swap)
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(__builtin_bswap16(ld16(p)) & m);
        else
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(ld16(p) & m);
        return;
    case 4:
        if (swap)
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(__builtin_bswap32(ld32(p)) & m);
        else
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(ld32(p) & m);
        return;
    case 8:
        if (swap)
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(__builtin_bswap64(ld64(p)) & m);
        else
            for (int64_t i = 0; i < n; i++, p += row)
                dst[i] = (double)(ld64(p) & m);
        return;
    default: {
        int w = d->nbytes;
        if (d->le)
            for (int64_t i = 0; i < n; i++, p += row) {
                uint64_t v = 0;
                for (int k = w - 1; k >= 0; k--)
                    v = (v << 8) | p[k];
                dst[i] = (double)(v & m);
            }
        else
            for (int64_t i = 0; i < n; i++, p += row) {
                uint64_t v = 0;
                for (int k = 0; k < w; k++)
                    v = (v << 8) | p[k];
                dst[i] = (double)(v & m);
            }
        return;
    }
    }
}

void fcs__decode_raw(const fcs_pdec *d, const uint8_t *src, int row,
                     int64_t n, double *dst)
{
    decode_col(d, src, row, n, dst);
}

static void scale_col(const fcs_ds *ds, const fcs_pdec *d, int64_t n,
                      double *x)
{
    if (d->s_time) {
        double ts = ds->timestep;
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] * ts;
    }
    if (d->s_log) {
        double f1 = d->f1, f2 = d->f2, r = d->r;
        for (int64_t i = 0; i < n; i++)
            x[i] = f2 * pow(10.0, (f1 * x[i]) / r);
    } else if (d->s_gain) {
        double g = d->gain;
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] / g;
    }
}

/* dst[0..m) = buf[0..m), bypassing the cache where possible. */
static void stream_out(double *dst, const double *buf, int64_t m)
{
#if defined(__SSE2__)
    int64_t i = 0;
    if (((uintptr_t)dst & 15) != 0 && m > 0) { /* 8-aligned: one scalar */
        dst[0] = buf[0];
        i = 1;
    }
    if (((uintptr_t)(dst + i) & 15) == 0) {
        for (; i + 4 <= m; i += 4) {
            _mm_stream_pd(dst + i, _mm_loadu_pd(buf + i));
            _mm_stream_pd(dst + i + 2, _mm_loadu_pd(buf + i + 2));
        }
        for (; i + 2 <= m; i += 2)
            _mm_stream_pd(dst + i, _mm_loadu_pd(buf + i));
    }
    for (; i < m; i++)
        dst[i] = buf[i];
#else
    memcpy(dst, buf, (size_t)m * sizeof *dst);
#endif
}

#if defined(__SSE2__)
/* Unscaled host-order float32: convert two values at a time straight into
 * streaming stores (float -> double is exact, as in decode_col). */
static void f32_stream(const uint8_t *p, int row, int64_t m, double *dst)
{
    int64_t i = 0;
    if (((uintptr_t)dst & 15) != 0 && m > 0) {
        float x;
        memcpy(&x, p, 4);
        dst[0] = x;
        p += row;
        i = 1;
    }
    for (; i + 2 <= m; i += 2, p += 2 * row) {
        __m128 a = _mm_load_ss((const float *)(const void *)p);
        __m128 b = _mm_load_ss((const float *)(const void *)(p + row));
        _mm_stream_pd(dst + i, _mm_cvtps_pd(_mm_unpacklo_ps(a, b)));
    }
    for (; i < m; i++, p += row) {
        float x;
        memcpy(&x, p, 4);
        dst[i] = x;
    }
}
#endif

/* The large-read path: per block of rows and column, decode and scale
 * into an L1-resident buffer, then stream it to the column (unscaled
 * host-order float32 skips the buffer). */
static void decode_stream(const fcs_ds *ds, const uint8_t *src, int row,
                          int64_t n, fcs_view view, double *const *cols)
{
    double buf[STREAM_ROWS];
    for (int64_t i0 = 0; i0 < n; i0 += STREAM_ROWS) {
        int64_t m = n - i0 < STREAM_ROWS ? n - i0 : STREAM_ROWS;
        const uint8_t *s = src + i0 * row;
        for (int j = 0; j < ds->npar; j++) {
            if (!cols[j])
                continue;
            const fcs_pdec *d = &ds->dec[j];
#if defined(__SSE2__)
            if (d->kind == FCS_K_F32 && !d->perm_generic && d->le == HOST_LE &&
                (view != FCS_SCALED || !(d->s_time || d->s_log || d->s_gain)) &&
                ((uintptr_t)cols[j] & 7) == 0) {
                f32_stream(s + d->off, row, m, cols[j] + i0);
                continue;
            }
#endif
            decode_col(d, s, row, m, buf);
            if (view == FCS_SCALED)
                scale_col(ds, d, m, buf);
            stream_out(cols[j] + i0, buf, m);
        }
    }
#if defined(__SSE2__)
    _mm_sfence(); /* order the streaming stores before the caller reads */
#endif
}

int64_t fcs_read_double(fcs_file *f, fcs_view view, int64_t first, int64_t n,
                        double *const *cols, fcs_err *err)
{
    if (!f || !f->ds.ok)
        return fcs__err(err, FCS_E_ARG, -1, "no data set selected");
    if (first < 0 || n < 0 || (n > 0 && !cols))
        return fcs__err(err, FCS_E_ARG, -1,
                        "invalid range: first %lld, n %lld", (long long)first,
                        (long long)n);
    const fcs_ds *ds = &f->ds;
    if (first >= ds->nevents)
        return -1;
    if (n > ds->nevents - first)
        n = ds->nevents - first;
    int np = ds->npar;
    if (ds->ascii) {
        for (int j = 0; j < np; j++) {
            double *c = cols[j];
            if (!c)
                continue;
            const double *s = ds->ascii + first * np + j;
            for (int64_t i = 0; i < n; i++)
                c[i] = s[i * np];
            if (view == FCS_SCALED)
                scale_col(ds, &ds->dec[j], n, c);
        }
        return n;
    }
    if (ds->packed) {
        /* packed bit fields, most significant bit first, events back to
         * back (non-byte $PnB that did not fit 16-bit containers) */
        for (int j = 0; j < np; j++) {
            double *c = cols[j];
            if (!c)
                continue;
            const fcs_pdec *d = &ds->dec[j];
            int bits = ds->par[j].bits;
            const uint8_t *b = f->buf + ds->data_b;
            for (int64_t i = 0; i < n; i++) {
                uint64_t bit = (uint64_t)(first + i) * (uint64_t)ds->row_bits +
                               (uint64_t)d->off;
                uint64_t v = 0;
                for (int k = 0; k < bits; k++, bit++)
                    v = (v << 1) | ((b[bit >> 3] >> (7 - (bit & 7))) & 1u);
                c[i] = (double)(v & d->mask);
            }
            if (view == FCS_SCALED)
                scale_col(ds, d, n, c);
        }
        return n;
    }
    int row = ds->row_bytes;
    const uint8_t *src = f->buf + ds->data_b + first * (int64_t)row;
    int ncol = 0;
    for (int j = 0; j < np; j++)
        ncol += cols[j] != NULL;
    if ((int64_t)n * ncol * 8 >= FCS_STREAM_MIN_BYTES) {
        decode_stream(ds, src, row, n, view, cols);
        return n;
    }
    int64_t blk = row ? BLOCK_BYTES / row : n;
    if (blk < 16)
        blk = 16;
    for (int64_t i0 = 0; i0 < n; i0 += blk) {
        int64_t m = n - i0 < blk ? n - i0 : blk;
        const uint8_t *s = src + i0 * row;
        for (int j = 0; j < np; j++) {
            double *c = cols[j];
            if (!c)
                continue;
            decode_col(&ds->dec[j], s, row, m, c + i0);
            if (view == FCS_SCALED)
                scale_col(ds, &ds->dec[j], m, c + i0);
        }
    }
    return n;
}
