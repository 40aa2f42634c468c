/*
 * gzip.c -- bounded, streaming gzip inflate for fcs_open / fcs_open_mem.
 *
 * A gzip stream says nothing trustworthy about its inflated size, and a
 * few MB of it can inflate to many GB (a "gzip bomb": a small FCS file
 * followed by GBs of zeros).  So the stream is inflated in chunks of at
 * most 1 MiB, and after each chunk the FCS structure read so far says
 * how far the file needs to go:
 *   HEADER (58 bytes) -> its TEXT end -> TEXT's keywords -> the end of
 *   supplemental TEXT and of DATA, each DATA candidate (HEADER or TEXT
 *   offsets) cut to $TOT x bytes-per-event + 1 when that is known ->
 *   the next data set's HEADER when $NEXTDATA is set, and so on.
 * Inflating stops 64 KiB past the end of the last segment known (the
 * slack keeps short trailers such as a CRC, so a .gz reads like the file
 * it holds); the rest of the stream is not read, with a warning.
 * Whatever the offsets say, no more than the cap is ever inflated:
 * 4 GiB by default, or 2^k bytes set with FCS_OPT_GZIP_MAX(k) in
 * fcs_opts.flags, or CYTOGATE_GZIP_MAX (bytes, with an optional K, M, G
 * or T suffix, powers of 1024) when the flags do not set it.  A stream
 * that needs more than the cap is refused (FCS_E_GZIP).
 * Memory: the output buffer grows to what was inflated (at most the
 * cap), never to a size a keyword asked for.
 * Threading: none; reads the environment once per open.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fcs_internal.h"

#define CHUNK ((size_t)1 << 20)
#define SLACK ((int64_t)64 << 10)

/* Parse "123", "64M", "4G" (powers of 1024); 0 ok, -1 not a size. */
static int parse_size(const char *s, int64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    int shift = 0;
    switch (toupper((unsigned char)*s)) {
    case 'K': shift = 10; s++; break;
    case 'M': shift = 20; s++; break;
    case 'G': shift = 30; s++; break;
    case 'T': shift = 40; s++; break;
    default: break;
    }
    if (shift && toupper((unsigned char)*s) == 'B')
        s++;
    else if (shift && toupper((unsigned char)*s) == 'I' &&
             toupper((unsigned char)s[1]) == 'B')
        s += 2;
    while (isspace((unsigned char)*s))
        s++;
    if (*s || v > (INT64_MAX >> shift) || v == 0)
        return -1;
    *out = v << shift;
    return 0;
}

int64_t fcs__gzip_cap(fcs_file *f)
{
    unsigned k = (f->opts.flags >> FCS_OPT_GZIP_MAX_SHIFT) & 0x3fu;
    if (k)
        return k >= 62 ? (int64_t)1 << 62 : (int64_t)1 << k;
    const char *s = getenv("CYTOGATE_GZIP_MAX");
    int64_t v;
    if (s && *s) {
        if (parse_size(s, &v) == 0)
            return v;
        fcs__warn(f, "CYTOGATE_GZIP_MAX is '%.20s', not a size such as "
                     "512M or 8G; the default cap (%lld bytes) is used", s,
                  (long long)FCS_GZIP_MAX_DEFAULT);
    }
    return FCS_GZIP_MAX_DEFAULT;
}

static int64_t kwint(const fcs_kwtab *t, const char *key)
{
    int64_t v;
    return fcs__int(fcs__kw_get(t, key), &v) == 0 ? v : -1;
}

/* Bytes per event from TEXT, or -1 when it cannot be told (free-format
 * ASCII, missing keywords).  An upper bound for packed bit widths. */
static int64_t row_bytes(const fcs_kwtab *t)
{
    int64_t par = kwint(t, "$PAR");
    const char *dt = fcs__kw_get(t, "$DATATYPE");
    if (par < 1 || par > 100000 || !dt)
        return -1;
    while (*dt == ' ')
        dt++;
    int64_t row = 0;
    for (int64_t i = 1; i <= par; i++) {
        char k[32];
        snprintf(k, sizeof k, "$P%lldB", (long long)i);
        int64_t bits = kwint(t, k);
        if (bits < 1 || bits > 64)
            return -1;
        char d = (char)toupper((unsigned char)*dt);
        snprintf(k, sizeof k, "$P%lldDATATYPE", (long long)i);
        const char *pd = fcs__kw_get(t, k);
        if (pd) {
            while (*pd == ' ')
                pd++;
            d = (char)toupper((unsigned char)*pd);
        }
        row += d == 'A' ? bits : d == 'F' ? 4 : d == 'D' ? 8 : (bits + 7) / 8;
    }
    return row;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* How many bytes of the inflated file the reader needs, from the first
 * have bytes.  Returns 1 when *need is final, 0 when more bytes are
 * needed first (*need is then the next threshold). */
static int need_end(const uint8_t *b, int64_t have, int64_t *need)
{
    int64_t base = 0, end = 58;
    for (int nds = 0; nds < FCS_MAX_DATASETS; nds++) {
        end = max64(end, base + 58);
        if (have < base + 58) {
            *need = end;
            return 0;
        }
        const uint8_t *h = b + base;
        int64_t hdr[6];
        if (memcmp(h, "FCS", 3) != 0)
            break;
        int bad = 0;
        for (int k = 0; k < 6; k++)
            if (fcs__hdr_field(h + 10 + 8 * k, &hdr[k]) < 0)
                bad = 1;
        if (bad || hdr[0] < 58 || hdr[1] < hdr[0])
            break;
        end = max64(end, base + hdr[1] + 1);
        if (have < base + hdr[1] + 1) {
            *need = end;
            return 0;
        }
        /* TEXT keywords; warnings go to a scratch handle */
        fcs_file scratch;
        memset(&scratch, 0, sizeof scratch);
        fcs_kwtab t;
        memset(&t, 0, sizeof t);
        int dk = 0;
        unsigned q = 0;
        const uint8_t *tp = b + base + hdr[0];
        size_t tn = (size_t)(hdr[1] - hdr[0] + 1);
        int ok = fcs__parse_text(&scratch, tp, tn, tp[0], 0, &t, &dk, &q,
                                 "TEXT") == 0;
        for (int i = 0; i < scratch.nwarn; i++)
            free(scratch.warn[i]);
        free(scratch.warn);
        if (!ok) {
            fcs__kw_free(&t);
            break;
        }
        int64_t tot = kwint(&t, "$TOT"), row = row_bytes(&t);
        int64_t exp = -1;
        if (tot >= 0 && row > 0 && tot <= (INT64_MAX / 2) / row)
            exp = tot * row;
        int64_t cb[2] = {hdr[2], kwint(&t, "$BEGINDATA")};
        int64_t ce[2] = {hdr[3], kwint(&t, "$ENDDATA")};
        for (int c = 0; c < 2; c++) {
            if (cb[c] < 0 || ce[c] < cb[c] || ce[c] == 99999999)
                continue;
            int64_t e = ce[c] + 1;
            if (exp >= 0 && cb[c] + exp + 1 < e)
                e = cb[c] + exp + 1;
            if (e <= (INT64_MAX / 4))
                end = max64(end, base + e);
        }
        int64_t sb = kwint(&t, "$BEGINSTEXT"), se = kwint(&t, "$ENDSTEXT");
        if (sb > 0 && se >= sb && se < (INT64_MAX / 4))
            end = max64(end, base + se + 1);
        int64_t next = kwint(&t, "$NEXTDATA");
        fcs__kw_free(&t);
        if (next <= 0 || next > (INT64_MAX / 4))
            break;
        base += next;
    }
    *need = end;
    return 1;
}

int fcs__gunzip(fcs_file *f, const uint8_t *in, size_t n, uint8_t **out,
                size_t *outn, fcs_err *err)
{
    int64_t cap = fcs__gzip_cap(f);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return fcs__err(err, FCS_E_GZIP, -1, "gzip: cannot initialise zlib");
    uint8_t *buf = NULL;
    size_t bcap = 0;
    int64_t have = 0, need = 58;
    int final = 0, done = 0, cut = 0, rc = 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = 0;
    for (;;) {
        if (!final && have >= need) {
            final = need_end(buf, have, &need);
            continue;
        }
        if (done || (final && have >= need + SLACK))
            break;
        if (have > cap) {
            rc = fcs__err(err, FCS_E_GZIP, -1,
                          "gzip: inflates to more than the cap of %lld bytes "
                          "(raise it with CYTOGATE_GZIP_MAX)", (long long)cap);
            break;
        }
        size_t room = CHUNK;
        if ((int64_t)room > cap + 1 - have)
            room = (size_t)(cap + 1 - have);
        if ((size_t)have + room > bcap) {
            size_t nc = bcap ? bcap : CHUNK;
            while (nc < (size_t)have + room)
                nc *= 2;
            uint8_t *nb = realloc(buf, nc);
            if (!nb) {
                rc = fcs__err(err, FCS_E_NOMEM, -1,
                              "out of memory inflating (%lld bytes so far)",
                              (long long)have);
                break;
            }
            buf = nb;
            bcap = nc;
        }
        size_t used = (size_t)((const uint8_t *)z.next_in - in);
        if (z.avail_in == 0 && used < n)
            z.avail_in = (uInt)(n - used > 0x40000000u ? 0x40000000u
                                                       : n - used);
        z.next_out = buf + have;
        z.avail_out = (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        have += (int64_t)(room - z.avail_out);
        used = (size_t)((const uint8_t *)z.next_in - in);
        if (zr == Z_STREAM_END) {
            /* another gzip member may follow; other trailing bytes are
             * ignored */
            if (n - used >= 2 && in[used] == 0x1f && in[used + 1] == 0x8b)
                inflateReset(&z);
            else
                done = 1;
            continue;
        }
        if (zr == Z_BUF_ERROR && used >= n && z.avail_in == 0) {
            if (final && have >= need) {
                cut = 1; /* everything the file needs is here */
                break;
            }
            rc = fcs__err(err, FCS_E_GZIP, (int64_t)n,
                          "gzip: stream is truncated");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = fcs__err(err, FCS_E_GZIP, (int64_t)used, "gzip: %s",
                          z.msg ? z.msg : "corrupt data");
            break;
        }
    }
    if (rc == 0 && cut)
        fcs__warn(f, "gzip: stream is truncated at byte %lld, after the end "
                     "of the last segment (byte %lld)", (long long)have,
                  (long long)need);
    else if (rc == 0 && !done)
        fcs__warn(f, "gzip: stopped inflating at byte %lld, past the end of "
                     "the last segment (byte %lld); the rest of the stream "
                     "is not read", (long long)have, (long long)need);
    inflateEnd(&z);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    if (!buf && !(buf = malloc(1))) /* empty stream */
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    *out = buf;
    *outn = (size_t)have;
    return 0;
}
