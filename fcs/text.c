/*
 * text.c -- tokenise an FCS TEXT (or supplemental TEXT) segment into the
 * keyword table.
 *
 * Two readings of a doubled delimiter:
 *   escape rule (FCS 3.x, default): "//" inside a token is one literal "/";
 *   empty values (old FCS 2.0 writers, FCS_OPT_EMPTY_VALUES or the quirk
 *   in quirks.c): every delimiter separates, "//" is an empty value.
 * Tolerated with a warning: a missing final delimiter (the trailing bytes
 * are the last token), an odd token count (the last key is dropped),
 * duplicate keywords (last wins), blanks around keywords (trimmed), empty
 * keywords (skipped).  Bytes are kept as stored (no UTF-8 validation).
 * Threading: none.
 */
#include <stdlib.h>
#include <string.h>

#include "fcs_internal.h"

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

int fcs__parse_text(fcs_file *f, const uint8_t *p, size_t n, int delim,
                    int empty_values, fcs_kwtab *t, int *delim_keys,
                    unsigned *quirks, const char *what)
{
    *delim_keys = 0;
    if (n == 0)
        return 0;
    uint8_t d = (uint8_t)delim;
    size_t i = (p[0] == d) ? 1 : 0;
    /* token scratch: a token is never longer than the segment */
    char *tok[2] = {malloc(n + 1), malloc(n + 1)};
    size_t tlen[2] = {0, 0};
    int rc = 0, which = 0, ntok = 0, dups = 0, blanks = 0;
    if (!tok[0] || !tok[1]) {
        rc = -1;
        goto out;
    }
    while (i < n) {
        /* read one token into tok[which] */
        size_t L = 0;
        int closed = 0, has_delim = 0;
        char *dst = tok[which];
        while (i < n) {
            uint8_t c = p[i];
            if (c == d) {
                if (!empty_values && i + 1 < n && p[i + 1] == d) {
                    dst[L++] = (char)d;
                    has_delim = 1;
                    i += 2;
                    continue;
                }
                i++;
                closed = 1;
                break;
            }
            dst[L++] = (char)c;
            i++;
        }
        if (!closed) {
            /* trailing bytes without a closing delimiter */
            size_t k = 0;
            while (k < L && is_blank((uint8_t)dst[k]))
                k++;
            if (k == L)
                break; /* padding only */
            *quirks |= FCS_QUIRK_NO_FINAL_DELIM;
            fcs__warn(f, "%s does not end with its delimiter; the trailing "
                         "%zu bytes are read as the last token", what, L);
        }
        tlen[which] = L;
        ntok++;
        if (which == 0) {
            if (has_delim)
                (*delim_keys)++;
            which = 1;
            continue;
        }
        which = 0;
        /* a key/value pair is complete */
        const char *k = tok[0];
        size_t kl = tlen[0];
        size_t a = 0, b = kl;
        while (a < b && is_blank((uint8_t)k[a]))
            a++;
        while (b > a && is_blank((uint8_t)k[b - 1]))
            b--;
        if (a != 0 || b != kl)
            blanks++;
        if (a == b) {
            fcs__warn(f, "%s: empty keyword skipped", what);
            continue;
        }
        if (memchr(k + a, '\0', b - a)) {
            fcs__warn(f, "%s: keyword with a NUL byte skipped", what);
            continue;
        }
        int r = fcs__kw_set(t, k + a, b - a, tok[1], tlen[1]);
        if (r < 0) {
            rc = -1;
            goto out;
        }
        if (r == 1 && dups++ < 5) {
            char kb[64];
            size_t m = b - a < sizeof kb - 1 ? b - a : sizeof kb - 1;
            memcpy(kb, k + a, m);
            kb[m] = '\0';
            fcs__warn(f, "%s: keyword %s repeated; the last value is kept",
                      what, kb);
        }
    }
    if (which == 1)
        fcs__warn(f, "%s: odd number of tokens (%d); the last keyword has "
                     "no value and is dropped", what, ntok);
    if (blanks)
        *quirks |= FCS_QUIRK_KEY_BLANKS;
    if (blanks)
        fcs__warn(f, "%s: blanks around %d keyword(s) trimmed", what, blanks);
out:
    free(tok[0]);
    free(tok[1]);
    return rc;
}
