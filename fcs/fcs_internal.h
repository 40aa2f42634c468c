/*
 * fcs_internal.h -- private layout of fcs_file and the helpers the fcs/ .c
 * files share.  Not installed, not for callers outside fcs/.
 *
 * Invariants once a data set is selected (ds.ok):
 *   - ds.data_b + ds.nevents * ds.row_bytes <= f->size for binary data, so
 *     decoding never reads past the buffer and n_events is never larger
 *     than what the file holds;
 *   - every fcs_param string points into ds-owned memory;
 *   - ASCII data is decoded once on select into ds.ascii (row-major).
 * Threading: none; one handle per thread.
 */
#ifndef FCS_INTERNAL_H
#define FCS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "fcs.h"

#define FCS_MAX_WARNINGS 200
#define FCS_MAX_DATASETS 4096

/* ---- keyword table (case-insensitive, TEXT order, last value wins) --- */
typedef struct fcs_kw {
    char *key; /* as stored, blanks trimmed; owned */
    char *val; /* as stored (NUL-terminated copy); owned */
} fcs_kw;

typedef struct fcs_kwtab {
    fcs_kw *kw;
    int n, cap;
    /* open-addressing hash, hcap slots: index + 1 (0 empty) and the key's
     * hash side by side, so a probe is one cache line and a mismatch
     * never reads the key (a wide TEXT has 400,000 keys) */
    struct fcs_kwslot { uint32_t h; int idx; } *slot;
    int hcap;
} fcs_kwtab;

/* Insert or replace (returns 1 when key existed, 0 new, -1 no memory). */
int fcs__kw_set(fcs_kwtab *t, const char *key, size_t klen, const char *val,
                size_t vlen);
const char *fcs__kw_get(const fcs_kwtab *t, const char *key);
void fcs__kw_free(fcs_kwtab *t);

/* ---- per-parameter decoding plan --------------------------------------- */
enum { FCS_K_UINT = 0, FCS_K_F32, FCS_K_F64, FCS_K_PACKED };

typedef struct fcs_pdec {
    int kind;        /* FCS_K_* */
    int nbytes;      /* bytes per value (binary, byte-aligned) */
    int off;         /* byte offset in the row (bit offset for PACKED) */
    int le;          /* 1 little-endian, 0 big-endian (when !perm_generic) */
    int perm_generic;/* use sig[] (exotic $BYTEORD permutations) */
    uint8_t sig[8];  /* sig[k]: significance (0 = least) of row byte k */
    uint64_t mask;   /* raw integer mask */
    /* scaling */
    int s_time;      /* multiply by timestep */
    int s_log;       /* f2 * 10^(f1*x/R) */
    int s_gain;      /* x / gain */
    double f1, f2, r, gain;
} fcs_pdec;

typedef struct fcs_ds {
    int ok;
    int64_t base;          /* absolute offset of this data set's HEADER */
    char version[7];
    int64_t hdr[6];        /* HEADER offsets, -1 blank */
    int64_t text_b, text_e;/* absolute, inclusive */
    int64_t stext_b, stext_e;/* supplemental TEXT, absolute; 0,0 none */
    int64_t data_b;        /* absolute */
    int64_t data_len;      /* bytes used */
    int64_t nevents;
    int64_t nextdata;      /* relative, 0 = none */
    char datatype;
    int ascii_free;
    int row_bytes;         /* binary, byte-aligned rows */
    int64_t row_bits;      /* packed rows */
    int packed;
    double timestep;
    int has_timestep;
    int npar;
    fcs_param *par;
    char **owned_names;    /* npar synthesized names (may be NULL entries) */
    fcs_pdec *dec;
    double *ascii;         /* ASCII data, nevents*npar, row-major */
    fcs_kwtab kw;
    int empty_values;      /* TEXT was read with the empty-value rule */
    unsigned quirks;       /* FCS_QUIRK_* applied */
} fcs_ds;

struct fcs_file {
    const uint8_t *buf;
    size_t size;
    uint8_t *heap;   /* owned read / inflated buffer, or NULL (open_mem) */
    fcs_opts opts;
    int nds;
    int64_t *dsoff;
    int cur;
    fcs_ds ds;
    /* the first data set as parsed while walking the chain, kept for the
     * select that follows on open (a wide TEXT is parsed once, not twice),
     * with its warnings; has_pre 0 once used */
    fcs_ds pre;
    char **pre_warn;
    int npre_warn, has_pre;
    char **warn;
    int nwarn, wcap;
    int nwarn_file;  /* warnings kept across data set changes */
    int warn_dropped;
};

/* Error helper: fills err (may be NULL); appends " (at byte N)" when
 * offset >= 0.  Returns -2 for convenience. */
int fcs__err(fcs_err *err, int code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fcs__warn(fcs_file *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a keyword number: blanks around are ignored, the whole rest must
 * be a finite decimal number.  0 ok, -1 not a number. */
int fcs__num(const char *s, double *out);
int fcs__int(const char *s, int64_t *out);

/* Parse a TEXT segment p[0..n) whose first byte is the delimiter into t.
 * empty_values: every delimiter separates (doubled = empty value).
 * *delim_keys is set to the number of keys that contain the delimiter.
 * 0 ok, < 0 error (no memory). */
int fcs__parse_text(fcs_file *f, const uint8_t *p, size_t n, int delim,
                    int empty_values, fcs_kwtab *t, int *delim_keys,
                    unsigned *quirks, const char *what);

/* One 8-byte HEADER offset field: blanks -> -1; 0 ok, -1 garbage. */
int fcs__hdr_field(const uint8_t *p, int64_t *out);

/* ---- gzip (gzip.c) ---------------------------------------------------- */
#define FCS_GZIP_MAX_DEFAULT ((int64_t)4 << 30)
/* The cap on inflated bytes for this handle (flags, env, default). */
int64_t fcs__gzip_cap(fcs_file *f);
/* Inflate in[0..n) up to the end of the last FCS segment (plus a little)
 * and never past the cap.  *out owned (free()).  0 or < 0 with err. */
int fcs__gunzip(fcs_file *f, const uint8_t *in, size_t n, uint8_t **out,
                size_t *outn, fcs_err *err);

/* Data set parse: HEADER, TEXT, parameters, layout.  0 or < 0 with err. */
int fcs__ds_parse(fcs_file *f, int64_t base, fcs_ds *ds, fcs_err *err);
void fcs__ds_free(fcs_ds *ds);

/* Decode n values of one byte-aligned binary parameter (plan d, offset
 * d->off in rows of row bytes from src), masked with d->mask. */
void fcs__decode_raw(const fcs_pdec *d, const uint8_t *src, int row,
                     int64_t n, double *dst);

/* ASCII decoding into ds->ascii (called from ds_parse). */
int fcs__ascii_load(fcs_file *f, fcs_ds *ds, fcs_err *err);

/* ---- quirks (quirks.c) ------------------------------------------------- */
/* Decide whether escape-rule TEXT should be re-read with empty values:
 * keys containing the delimiter are the tell-tale of old writers. */
int fcs__quirk_want_empty_values(int delim_keys);
/* Beckman CXP: widths of 10 bits stored in 16-bit containers, detected
 * when the DATA length fits 16-bit containers and not packed bits. */
int fcs__quirk_pnb_padded(int64_t data_len, int64_t tot, int64_t padded_row,
                          int64_t packed_row_bits);
/* Off-by-one $ENDDATA: length one byte more than $TOT x row. */
int fcs__quirk_end_plus1(int64_t len, int64_t expect);
/* HEADER vs TEXT DATA offsets that both fit: how many of the first events
 * at p (avail bytes there) hold values no instrument writes (integers
 * above $PnR, floats that are NaN, infinite or beyond 1e+-30).  Byte-
 * aligned binary data only; nev is $TOT; -1 when it cannot tell.  *checked gets the
 * number of values looked at. */
int64_t fcs__quirk_implausible(const fcs_ds *ds, const uint8_t *p,
                               int64_t avail, int64_t nev, int64_t *checked);

#endif
