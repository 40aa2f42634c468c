/*
 * fcs.h -- read and write Flow Cytometry Standard (FCS 2.0, 3.0, 3.1, 3.2)
 * list-mode files.
 *
 * Threading: one fcs_file per thread; separate handles are independent.
 * The library has no global state.  It never calls exit() or abort():
 * every failure comes back as a code, a byte offset and a message in the
 * caller-owned fcs_err.
 *
 * Ownership: pointers returned by accessors are *borrowed* until the handle
 * is closed (or, for per-data-set values, until fcs_select_dataset()).
 * Functions documented *owned* return memory the caller frees with the
 * named _free function.  Every destructor accepts NULL.
 *
 * Values come in two views (the conventions of the reference corpus,
 * shared/fcs-corpus/reference/README.md):
 *   FCS_RAW     the stored value; integers masked to the smallest power of
 *               two >= $PnR, minus one;
 *   FCS_SCALED  raw, then: time channel * $TIMESTEP; integer channels with
 *               $PnE f1>0 as f2*10^(f1*x/$PnR) (f2=0 read as 1); else x/$PnG
 *               when $PnG is present, not 0 and not 1.
 */
#ifndef FCS_FCS_H
#define FCS_FCS_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FCS_WUR __attribute__((warn_unused_result))
#else
#define FCS_WUR
#endif

typedef struct fcs_file fcs_file; /* opaque */

/* Errors: the caller-owned cg_err of errors.h (fcs_err is the same type):
 * a code, the byte offset the error is about, and a located message. */

/* Open options.  A zeroed struct (or NULL) gives the defaults. */
typedef struct fcs_opts {
    unsigned flags;    /* FCS_OPT_* bits */
    int dataset;       /* data set selected on open, 0-based [0] */
} fcs_opts;

/* Refuse files a tolerant reader would repair (off-by-one DATA end, HEADER
 * vs TEXT disagreements, blank-padded keywords); used by tests. */
#define FCS_OPT_STRICT 0x1u
/* FCS 2.0 TEXT where doubled delimiters are empty values, not escapes. */
#define FCS_OPT_EMPTY_VALUES 0x2u
/* Cap on the bytes a gzip stream may inflate to: 2^k bytes (k 10..62) in
 * bits 8..13 of flags.  0 there: $CYTOGATE_GZIP_MAX (bytes, K/M/G/T
 * suffix) or FCS_GZIP_MAX_DEFAULT_TEXT.  Inflating stops at the end of the
 * last segment the offsets describe; a stream that needs more than the
 * cap is refused with FCS_E_GZIP. */
#define FCS_OPT_GZIP_MAX_SHIFT 8
#define FCS_OPT_GZIP_MAX(k) (((unsigned)(k) & 0x3fu) << FCS_OPT_GZIP_MAX_SHIFT)
#define FCS_GZIP_MAX_DEFAULT_TEXT "4 GiB"

typedef enum fcs_view { FCS_RAW = 0, FCS_SCALED = 1 } fcs_view;

/* One parameter ($Pn...) of the selected data set.  Strings borrowed. */
typedef struct fcs_param {
    const char *name;  /* $PnN; "P<n>" when absent (with a warning) */
    const char *label; /* $PnS, or NULL */
    int bits;          /* $PnB; 0 for ASCII free format ("*") */
    double range;      /* $PnR (0 when absent) */
    double log_f1;     /* $PnE decades (0 = linear) */
    double log_f2;     /* $PnE offset as stored (0 is read as 1 when used) */
    double gain;       /* $PnG; 1 when absent */
    char datatype;     /* 'I', 'F', 'D' or 'A' ($PnDATATYPE overrides) */
    int is_time;       /* $PnN is "time" (any case) */
} fcs_param;

/* Open a file (one starting with the gzip magic is decompressed
 * transparently, bounded as FCS_OPT_GZIP_MAX says).  The file is read
 * with fcs_read_file(), so the input policy below applies.  Owned: close
 * with fcs_close().  NULL on error, with err filled. */
fcs_file *fcs_open(const char *path, const fcs_opts *o, fcs_err *err) FCS_WUR;

/* Input policy: read a whole *regular* file into memory.  FIFOs, devices,
 * sockets and directories are refused at once ("not a regular file
 * (FIFO)"), never waited on.  The bytes are read with pread() into an
 * owned buffer (no mapping, so nothing can SIGBUS); a file that shrinks,
 * grows or is rewritten while it is read is refused ("file changed while
 * reading: size X, was Y").  On success *buf is owned (free with
 * fcs_buf_free()) and holds *n bytes; the buffer can be handed to
 * fcs_open_mem().  0, or < 0 with err (FCS_E_IO, FCS_E_NOMEM). */
int fcs_read_file(const char *path, uint8_t **buf, size_t *n,
                  fcs_err *err) FCS_WUR;
void fcs_buf_free(void *buf); /* NULL is a no-op */

/* n bytes for a large buffer (file bytes, event columns), uninitialised.
 * From 4 MiB up the block is aligned to 2 MiB, its length rounded up to
 * 2 MiB and advised for transparent huge pages, so touching it faults
 * once per 2 MiB instead of once per 4 KiB page.  Owned: free with
 * free() (or fcs_buf_free()).  NULL when out of memory.  Thread-safe. */
void *fcs_alloc_big(size_t n);

/* Open from memory (gzip inflated as by fcs_open).  buf is borrowed: it
 * must outlive every call that reads events (the column decoders, frame
 * building) and fcs_select_dataset().  Keywords, parameters and spillover
 * are copied at open, so a caller that has decoded what it needs may free
 * buf before fcs_close() and keep using those accessors (cytogate run
 * does, to lower its peak memory). */
fcs_file *fcs_open_mem(const void *buf, size_t n, const fcs_opts *o,
                       fcs_err *err) FCS_WUR;

/* Close; NULL is a no-op. */
void fcs_close(fcs_file *f);

/* --- Data sets ($NEXTDATA chain) ------------------------------------- */
int fcs_n_datasets(const fcs_file *f);
/* Select data set idx (0-based); 0 on success, < 0 with err on failure. */
int fcs_select_dataset(fcs_file *f, int idx, fcs_err *err) FCS_WUR;
int fcs_dataset(const fcs_file *f);            /* selected index */
int64_t fcs_dataset_offset(const fcs_file *f); /* its HEADER's byte offset */

/* --- Shape and metadata of the selected data set ---------------------- */
const char *fcs_version(const fcs_file *f); /* "FCS3.1"; borrowed */
int64_t fcs_n_events(const fcs_file *f);
int fcs_n_params(const fcs_file *f);
/* Parameter i (0-based); NULL when out of range.  Borrowed. */
const fcs_param *fcs_param_info(const fcs_file *f, int i);
/* Index of the parameter whose $PnN equals name (exact match first, then
 * case-insensitive); -1 when none. */
int fcs_param_index(const fcs_file *f, const char *name);
/* Index of the time channel, or -1. */
int fcs_time_index(const fcs_file *f);

/* Keywords: lookup is case-insensitive; values are the stored bytes (not
 * necessarily UTF-8).  Borrowed; NULL when absent. */
const char *fcs_keyword(const fcs_file *f, const char *key);
int fcs_n_keywords(const fcs_file *f);
/* Keyword i in TEXT order (duplicates resolved, last wins). 0 or -1. */
int fcs_keyword_at(const fcs_file *f, int i, const char **key,
                   const char **value);

/* Warnings collected while opening/reading (repairs, tolerated defects). */
int fcs_n_warnings(const fcs_file *f);
const char *fcs_warning(const fcs_file *f, int i);

/* Repairs applied to the selected data set (FCS_QUIRK_* bits; each one is
 * also reported as a warning).  Names: fcs_quirk_name(bit). */
#define FCS_QUIRK_KEY_BLANKS     0x01u /* blanks around keywords trimmed */
#define FCS_QUIRK_EMPTY_VALUES   0x02u /* doubled delimiters = empty values */
#define FCS_QUIRK_DATA_END_PLUS1 0x04u /* $ENDDATA one byte too far */
#define FCS_QUIRK_DATA_PAST_EOF  0x08u /* declared DATA end beyond EOF */
#define FCS_QUIRK_HEADER_TEXT    0x10u /* HEADER/TEXT DATA offsets disagree */
#define FCS_QUIRK_PNB10_AS_16    0x20u /* non-byte $PnB in byte containers */
#define FCS_QUIRK_NO_FINAL_DELIM 0x40u /* TEXT lacks its final delimiter */
#define FCS_QUIRK_LOG_F2_ZERO    0x80u /* $PnE f1,0 read as f1,1 */
unsigned fcs_quirks(const fcs_file *f);
const char *fcs_quirk_name(unsigned bit); /* "key_blanks"; static */

/* Absolute byte offset and length of the selected data set's DATA as
 * read (after the layout repairs). */
int64_t fcs_data_offset(const fcs_file *f);
int64_t fcs_data_length(const fcs_file *f);
/* $TIMESTEP as the scaled view applies it to the time channel (scaled =
 * raw x step), or 0 when the scaled view leaves time raw. */
double fcs_time_step(const fcs_file *f);

/* --- Events ------------------------------------------------------------ */
/* Decode events [first, first+n) of the selected data set.  cols has one
 * entry per parameter: NULL skips that parameter, otherwise room for n
 * doubles (column-major output, no per-value calls).  Returns the number of
 * events decoded (>= 0; fewer than n at the end), -1 when first is at or
 * past the end, < -1 on error with err filled. */
int64_t fcs_read_double(fcs_file *f, fcs_view view, int64_t first, int64_t n,
                        double *const *cols, fcs_err *err) FCS_WUR;

/* --- Spillover --------------------------------------------------------- */
typedef struct fcs_spill {
    int n;             /* channels */
    char **names;      /* n $PnN names, owned */
    double *m;         /* n*n row-major; row = source fluorochrome channel */
    char keyword[32];  /* keyword it came from ("$SPILLOVER", "SPILL", ...) */
} fcs_spill;

/* Parse the data set's spillover matrix.  Returns 1 and *out (owned, free
 * with fcs_spill_free) when found, 0 and *out = NULL when the file has
 * none (or only an unusable one, with a warning added), < 0 on error. */
int fcs_spillover(fcs_file *f, fcs_spill **out, fcs_err *err) FCS_WUR;
/* Parse a $SPILLOVER-format string ("n,names...,values...") with the vendor
 * repairs (comma decimals, channel numbers as names).  Owned or NULL. */
fcs_spill *fcs_spill_parse(const char *value, const fcs_file *f, fcs_err *err);
void fcs_spill_free(fcs_spill *s);

/* --- Writer (FCS 3.1, $DATATYPE F, $BYTEORD 1,2,3,4) -------------------- */
typedef struct fcs_wparam {
    const char *name;  /* $PnN, required, unique */
    const char *label; /* $PnS or NULL */
    double range;      /* $PnR */
} fcs_wparam;

typedef struct fcs_kv {
    const char *key;
    const char *value;
} fcs_kv;

/* Writer options; NULL or zeroed = FCS 3.1 float32 little-endian. */
typedef struct fcs_wopts {
    int big_endian; /* 1: $BYTEORD 4,3,2,1 */
} fcs_wopts;

/* Write npar columns of nevents values as float32.  keywords (may be NULL)
 * are copied into TEXT except the ones the writer owns (offsets, $PAR,
 * $TOT, $Pn B/E/N/R/S, $DATATYPE, $BYTEORD, $MODE, $NEXTDATA), which it
 * sets itself.  spill (may be NULL) becomes $SPILLOVER.  The file is
 * written to a temporary name beside path and renamed into place. */
int fcs_write(const char *path, int npar, const fcs_wparam *params,
              int64_t nevents, const double *const *cols,
              const fcs_kv *keywords, int nkeywords, const fcs_spill *spill,
              const fcs_wopts *wo, fcs_err *err) FCS_WUR;

#ifdef __cplusplus
}
#endif
#endif
