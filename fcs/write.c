/*
 * write.c -- fcs_write(): one FCS 3.1 data set, $DATATYPE F, $MODE L.
 *
 * Layout: HEADER (58 bytes) | TEXT from byte 58 | DATA right after TEXT.
 * TEXT carries $BEGINDATA/$ENDDATA; their digit count changes TEXT's
 * length, so the TEXT is rebuilt until the offsets are stable (at most a
 * few rounds).  HEADER offsets of a segment reaching past byte 99,999,999
 * are written as 0 (FCS 3.1 section 3.1); readers take them from TEXT.
 * Delimiter: '/', unless some key contains '/' or some value starts with
 * it (where a doubled delimiter would be ambiguous); then the first of a
 * fixed list of bytes for which neither holds.  A delimiter inside a
 * value is doubled (the FCS escape).  Keywords with empty values cannot be represented in
 * FCS 3.1 and are skipped.  The file goes to "<path>.tmp.<pid>" and is
 * renamed into place, so readers never see a partial file.
 * Threading: reentrant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fcs_internal.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_tok(sbuf *b, const char *s, char d)
{
    for (const char *c = s; *c; c++) {
        if (*c == d)
            sb_put(b, &d, 1);
        sb_put(b, c, 1);
    }
    sb_put(b, &d, 1);
}

static void sb_kv(sbuf *b, const char *k, const char *v, char d)
{
    sb_tok(b, k, d);
    sb_tok(b, v, d);
}

/* Keywords the writer sets itself. */
static int owned_key(const char *k)
{
    static const char *const fixed[] = {
        "$BEGINANALYSIS", "$ENDANALYSIS", "$BEGINDATA", "$ENDDATA",
        "$BEGINSTEXT", "$ENDSTEXT", "$BYTEORD", "$DATATYPE", "$MODE",
        "$NEXTDATA", "$PAR", "$TOT"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strcasecmp(k, fixed[i]) == 0)
            return 1;
    if ((k[0] == '$') && (k[1] == 'P' || k[1] == 'p')) {
        const char *c = k + 2;
        if (*c < '1' || *c > '9')
            return 0;
        while (*c >= '0' && *c <= '9')
            c++;
        if (c[0] && !c[1] && strchr("BENRSbenrs", c[0]))
            return 1;
        if (strcasecmp(c, "DATATYPE") == 0)
            return 1;
    }
    return 0;
}

static char *spill_string(const fcs_spill *s)
{
    sbuf b = {0};
    char num[40];
    snprintf(num, sizeof num, "%d", s->n);
    sb_put(&b, num, strlen(num));
    for (int i = 0; i < s->n; i++) {
        sb_put(&b, ",", 1);
        sb_put(&b, s->names[i], strlen(s->names[i]));
    }
    for (int i = 0; i < s->n * s->n; i++) {
        snprintf(num, sizeof num, ",%.17g", s->m[i]);
        sb_put(&b, num, strlen(num));
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static int starts_with(const char *s, char d) { return !*s || s[0] == d; }

/* A delimiter is usable when no key contains it (a key with a doubled
 * delimiter is read back as an old writer's empty value) and no value
 * starts with it (a doubled delimiter right after a separator would read
 * as an escape). */
static int bad_delim(const char *key, const char *val, char d)
{
    return strchr(key, d) != NULL || starts_with(val, d);
}

static int check_args(const char *path, int npar, const fcs_wparam *params,
                      int64_t nevents, const double *const *cols,
                      const fcs_kv *keywords, int nkeywords, fcs_err *err)
{
    if (!path || npar < 1 || !params || nevents < 0 ||
        (nevents > 0 && !cols) || nkeywords < 0 || (nkeywords && !keywords))
        return fcs__err(err, FCS_E_ARG, -1, "fcs_write: invalid arguments");
    for (int j = 0; j < npar; j++) {
        if (!params[j].name || !params[j].name[0])
            return fcs__err(err, FCS_E_ARG, -1,
                            "fcs_write: parameter %d has no name", j + 1);
        if (nevents > 0 && !cols[j])
            return fcs__err(err, FCS_E_ARG, -1,
                            "fcs_write: parameter %d has no column", j + 1);
        for (int k = 0; k < j; k++)
            if (strcmp(params[k].name, params[j].name) == 0)
                return fcs__err(err, FCS_E_ARG, -1,
                                "fcs_write: parameter name '%.40s' repeated",
                                params[j].name);
    }
    if (nevents > INT64_MAX / 4 / npar)
        return fcs__err(err, FCS_E_ARG, -1, "fcs_write: too many events");
    return 0;
}

/* The first candidate delimiter that occurs at no place it would break
 * TEXT; 0 when every one does. */
static char choose_delim(const char *spv, int npar, const fcs_wparam *params,
                         const fcs_kv *keywords, int nkeywords)
{
    static const char cands[] = "/|\\!~^#%\x1e\x1f\x1c\x1d\x01\x02\x03";
    for (size_t ci = 0; ci < sizeof cands - 1; ci++) {
        char c = cands[ci];
        int bad = spv && starts_with(spv, c);
        for (int k = 0; k < nkeywords && !bad; k++)
            if (keywords[k].key && keywords[k].value && keywords[k].value[0] &&
                !owned_key(keywords[k].key))
                bad = bad_delim(keywords[k].key, keywords[k].value, c);
        for (int j = 0; j < npar && !bad; j++)
            bad = starts_with(params[j].name, c) ||
                  (params[j].label && params[j].label[0] &&
                   starts_with(params[j].label, c));
        if (!bad)
            return c;
    }
    return 0;
}

/* What TEXT says, for build_text. */
typedef struct text_in {
    char d;
    int be, npar, nkeywords;
    const fcs_wparam *params;
    const fcs_kv *keywords;
    const char *spv;
    int64_t nevents, dlen;
} text_in;

/* TEXT into t; its $BEGINDATA/$ENDDATA depend on its own length, so it
 * is rebuilt until they settle.  begin and end get the DATA offsets. */
static void build_text(sbuf *t, const text_in *in, int64_t *begin,
                       int64_t *end)
{
    char d = in->d;
    int be = in->be, npar = in->npar, nkeywords = in->nkeywords;
    const fcs_wparam *params = in->params;
    const fcs_kv *keywords = in->keywords;
    const char *spv = in->spv;
    int64_t nevents = in->nevents, dlen = in->dlen;
    *begin = *end = 0;
    for (int round = 0; round < 8; round++) {
        t->n = 0;
        char num[64];
        sb_put(t, &d, 1);
        snprintf(num, sizeof num, "%lld", (long long)*begin);
        sb_kv(t, "$BEGINDATA", num, d);
        snprintf(num, sizeof num, "%lld", (long long)*end);
        sb_kv(t, "$ENDDATA", num, d);
        sb_kv(t, "$BEGINANALYSIS", "0", d);
        sb_kv(t, "$ENDANALYSIS", "0", d);
        sb_kv(t, "$BEGINSTEXT", "0", d);
        sb_kv(t, "$ENDSTEXT", "0", d);
        sb_kv(t, "$BYTEORD", be ? "4,3,2,1" : "1,2,3,4", d);
        sb_kv(t, "$DATATYPE", "F", d);
        sb_kv(t, "$MODE", "L", d);
        sb_kv(t, "$NEXTDATA", "0", d);
        snprintf(num, sizeof num, "%d", npar);
        sb_kv(t, "$PAR", num, d);
        snprintf(num, sizeof num, "%lld", (long long)nevents);
        sb_kv(t, "$TOT", num, d);
        for (int j = 0; j < npar; j++) {
            char k[40];
            snprintf(k, sizeof k, "$P%dN", j + 1);
            sb_kv(t, k, params[j].name, d);
            if (params[j].label && params[j].label[0]) {
                snprintf(k, sizeof k, "$P%dS", j + 1);
                sb_kv(t, k, params[j].label, d);
            }
            snprintf(k, sizeof k, "$P%dB", j + 1);
            sb_kv(t, k, "32", d);
            snprintf(k, sizeof k, "$P%dE", j + 1);
            sb_kv(t, k, "0,0", d);
            snprintf(k, sizeof k, "$P%dR", j + 1);
            snprintf(num, sizeof num, "%.17g", params[j].range);
            sb_kv(t, k, num, d);
        }
        if (spv)
            sb_kv(t, "$SPILLOVER", spv, d);
        for (int k = 0; k < nkeywords; k++) {
            const char *key = keywords[k].key, *v = keywords[k].value;
            if (!key || !*key || !v || !*v || owned_key(key))
                continue;
            if (spv && strcasecmp(key, "$SPILLOVER") == 0)
                continue;
            sb_kv(t, key, v, d);
        }
        if (t->oom)
            break;
        int64_t nb = 58 + (int64_t)t->n;
        int64_t ne = dlen ? nb + dlen - 1 : 0;
        if (dlen == 0)
            nb = 0;
        if (nb == *begin && ne == *end)
            break;
        *begin = nb;
        *end = ne;
    }
}

/* DATA: rows of float32, converted in blocks.  1 written, 0 failed. */
static int write_data(FILE *fp, const double *const *cols, int npar,
                      int64_t nevents, int be)
{
    enum { BLK = 4096 };
    float *rowbuf = malloc((size_t)BLK * (size_t)npar * sizeof(float));
    int ok = rowbuf != NULL;
    for (int64_t i0 = 0; ok && i0 < nevents; i0 += BLK) {
        int64_t m = nevents - i0 < BLK ? nevents - i0 : BLK;
        for (int j = 0; j < npar; j++) {
            const double *c = cols[j] + i0;
            for (int64_t i = 0; i < m; i++)
                rowbuf[i * npar + j] = (float)c[i];
        }
        if (be) {
            uint32_t *u = (uint32_t *)rowbuf;
            for (int64_t i = 0; i < m * npar; i++)
                u[i] = __builtin_bswap32(u[i]);
        }
        ok = fwrite(rowbuf, sizeof(float), (size_t)(m * npar), fp) ==
             (size_t)(m * npar);
    }
    free(rowbuf);
    return ok;
}

/* HEADER, TEXT and DATA to a temporary name beside path, renamed into
 * place.  Takes t's bytes (freed here).  0 or < 0 with err. */
static int write_file(const char *path, const char *hdr, sbuf *t,
                      const double *const *cols, int npar, int64_t nevents,
                      int be, fcs_err *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    if (!tmp) {
        free(t->p);
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    }
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        fcs__err(err, FCS_E_WRITE, -1, "cannot create %s: %s", tmp,
                 strerror(errno));
        free(t->p);
        free(tmp);
        return -2;
    }
    int ok = fwrite(hdr, 1, 58, fp) == 58 && fwrite(t->p, 1, t->n, fp) == t->n;
    free(t->p);
    if (ok)
        ok = write_data(fp, cols, npar, nevents, be);
    if (fflush(fp) != 0)
        ok = 0;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return fcs__err(err, FCS_E_WRITE, -1, "cannot write %s: %s", path,
                        strerror(e ? e : EIO));
    }
    free(tmp);
    return 0;
}

int fcs_write(const char *path, int npar, const fcs_wparam *params,
              int64_t nevents, const double *const *cols,
              const fcs_kv *keywords, int nkeywords, const fcs_spill *spill,
              const fcs_wopts *wo, fcs_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    int rc = check_args(path, npar, params, nevents, cols, keywords,
                        nkeywords, err);
    if (rc < 0)
        return rc;
    int be = wo && wo->big_endian;
    int64_t dlen = nevents * 4 * (int64_t)npar;
    char *spv = spill ? spill_string(spill) : NULL;
    if (spill && !spv)
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    char d = choose_delim(spv, npar, params, keywords, nkeywords);
    if (!d) {
        free(spv);
        return fcs__err(err, FCS_E_WRITE, -1, "fcs_write: every candidate "
                        "TEXT delimiter occurs in a keyword");
    }
    int64_t begin = 0, end = 0;
    sbuf t = {0};
    text_in in = {d, be, npar, nkeywords, params, keywords, spv, nevents,
                  dlen};
    build_text(&t, &in, &begin, &end);
    free(spv);
    if (t.oom) {
        free(t.p);
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    }
    int64_t text_e = 58 + (int64_t)t.n - 1;
    if (text_e > 99999999) {
        free(t.p);
        return fcs__err(err, FCS_E_ARG, -1, "fcs_write: TEXT would end past "
                                            "byte 99,999,999");
    }
    char hdr[160];
    int64_t hb = begin, he = end;
    if (he > 99999999 || dlen == 0)
        hb = he = 0;
    snprintf(hdr, sizeof hdr, "FCS3.1    %8lld%8lld%8lld%8lld%8lld%8lld",
             58LL, (long long)text_e, (long long)hb, (long long)he, 0LL, 0LL);
    return write_file(path, hdr, &t, cols, npar, nevents, be, err);
}
