/*
 * test_fcs_build.c -- builds small FCS files in memory for the fcs unit
 * tests (deterministic; no binary test files in the tree).  Linked into
 * each test_fcs_* program; declarations in test_fcs_build.h.
 */
#include "test_fcs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(uint8_t **b, size_t *n, size_t *cap, const void *s, size_t k)
{
    if (*n + k > *cap) {
        while (*n + k > *cap)
            *cap = *cap ? *cap * 2 : 1024;
        *b = realloc(*b, *cap);
    }
    memcpy(*b + *n, s, k);
    *n += k;
}

static void tok(uint8_t **b, size_t *n, size_t *cap, const char *s, char d,
                int escape)
{
    for (; *s; s++) {
        if (*s == d && escape)
            put(b, n, cap, &d, 1);
        put(b, n, cap, s, 1);
    }
    put(b, n, cap, &d, 1);
}

uint8_t *tb_build(const char *version, const char *const *kv, const void *data,
                  size_t dlen, char delim, unsigned flags, size_t *outn)
{
    long long b = 0, e = 0;
    uint8_t *text = NULL;
    size_t tn = 0, tcap = 0;
    long long tstart = 58;
    for (int round = 0; round < 6; round++) {
        tn = 0;
        if (flags & TB_RAW_TEXT) {
            put(&text, &tn, &tcap, kv[0], strlen(kv[0]));
        } else {
            put(&text, &tn, &tcap, &delim, 1);
            for (int i = 0; kv[i]; i += 2) {
                tok(&text, &tn, &tcap, kv[i], delim, 1);
                tok(&text, &tn, &tcap, kv[i + 1], delim, 1);
            }
            if (!(flags & TB_NO_TEXT_OFFSETS)) {
                char num[32];
                long long te = e + ((flags & TB_END_PLUS1) ? 1 : 0);
                tok(&text, &tn, &tcap, "$BEGINDATA", delim, 1);
                snprintf(num, sizeof num, "%lld", b);
                tok(&text, &tn, &tcap, num, delim, 1);
                tok(&text, &tn, &tcap, "$ENDDATA", delim, 1);
                snprintf(num, sizeof num, "%lld", te);
                tok(&text, &tn, &tcap, num, delim, 1);
            }
            if (flags & TB_NO_FINAL_DELIM)
                tn--;
        }
        long long nb = tstart + (long long)tn;
        long long ne = nb + (long long)dlen - 1;
        if (nb == b && ne == e)
            break;
        b = nb;
        e = ne;
    }
    char hdr[128];
    long long hb = b, he = e + ((flags & TB_END_PLUS1) ? 1 : 0);
    if (flags & TB_HDR_ZERO)
        hb = he = 0;
    if (flags & TB_HDR_SHIFT)
        hb -= 16;
    snprintf(hdr, sizeof hdr, "%-6s    %8lld%8lld%8lld%8lld%8lld%8lld",
             version, tstart, tstart + (long long)tn - 1, hb, he, 0LL, 0LL);
    size_t n = 0, cap = 0;
    uint8_t *out = NULL;
    put(&out, &n, &cap, hdr, 58);
    put(&out, &n, &cap, text, tn);
    if (dlen)
        put(&out, &n, &cap, data, dlen);
    free(text);
    *outn = n;
    return out;
}
