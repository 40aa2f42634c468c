/*
 * dataset.c -- parse one data set: HEADER, TEXT (+ supplemental TEXT),
 * the $Pn parameter keywords, and the DATA layout with its decoding plan.
 *
 * Layout policy (HEADER vs TEXT, off-by-one ends), written down in
 * README-fcs and tested in test_fcs_layout.c:
 *   candidates for DATA are the HEADER offsets (unless blank, 0,0 or the
 *   99999999 sentinel) and $BEGINDATA/$ENDDATA.  A candidate is usable
 *   when it starts after the HEADER, not inside TEXT, and the file holds
 *   $TOT x row bytes from its start.  Among usable candidates the one
 *   whose length equals $TOT x row wins, then one byte longer (the common
 *   off-by-one $ENDDATA), then any other length (read $TOT events, warn).
 *   Ties go to TEXT for FCS 3.x and to HEADER for FCS 2.0.  Every repair
 *   is a warning; FCS_OPT_STRICT turns repairs into errors.  A file is
 *   refused only when no candidate is usable, so n_events never exceeds
 *   what the file holds.
 * Threading: none.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcs_internal.h"

#define STRICT(f) (((f)->opts.flags & FCS_OPT_STRICT) != 0)

void fcs__ds_free(fcs_ds *ds)
{
    if (!ds)
        return;
    if (ds->owned_names)
        for (int i = 0; i < ds->npar; i++)
            free(ds->owned_names[i]);
    free(ds->owned_names);
    free(ds->par);
    free(ds->dec);
    free(ds->ascii);
    fcs__kw_free(&ds->kw);
    memset(ds, 0, sizeof *ds);
}

int fcs__hdr_field(const uint8_t *p, int64_t *out)
{
    char b[9];
    memcpy(b, p, 8);
    b[8] = '\0';
    int blank = 1;
    for (int i = 0; i < 8; i++)
        if (b[i] != ' ')
            blank = 0;
    if (blank) {
        *out = -1;
        return 0;
    }
    return fcs__int(b, out);
}

static const char *kw(const fcs_ds *ds, const char *fmt, int n)
{
    char k[48];
    snprintf(k, sizeof k, fmt, n);
    return fcs__kw_get(&ds->kw, k);
}

/* Trim-aware copy of value s into a small buffer. */
static void trimcpy(char *dst, size_t cap, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                 s[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* $BYTEORD "1,2,3,4" -> ord[], count; -1 invalid (not a permutation). */
static int parse_byteord(const char *s, int ord[8])
{
    int k = 0, seen = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        int v = 0;
        while (isdigit((unsigned char)*p) && v < 100)
            v = v * 10 + (*p++ - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (k == 8 || v < 1 || v > 8 || (seen & (1 << v)))
            return -1;
        seen |= 1 << v;
        ord[k++] = v;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    for (int v = 1; v <= k; v++)
        if (!(seen & (1 << v)))
            return -1;
    return k ? k : -1;
}

/* Byte significance for a value of w bytes under $BYTEORD ord[0..k). */
static void plan_order(fcs_pdec *d, int w, const int *ord, int k)
{
    int asc = 1, desc = 1;
    for (int i = 1; i < k; i++) {
        if (ord[i] != ord[i - 1] + 1) asc = 0;
        if (ord[i] != ord[i - 1] - 1) desc = 0;
    }
    d->perm_generic = 0;
    if (w > k || k <= 1) {
        d->le = (k <= 1) ? 1 : (asc || ord[0] < ord[1]);
        return;
    }
    int j = 0;
    for (int i = 0; i < k; i++)
        if (ord[i] <= w)
            d->sig[j++] = (uint8_t)(ord[i] - 1);
    int a = 1, b = 1;
    for (int i = 0; i < w; i++) {
        if (d->sig[i] != i) a = 0;
        if (d->sig[i] != w - 1 - i) b = 0;
    }
    if (a)
        d->le = 1;
    else if (b)
        d->le = 0;
    else
        d->perm_generic = 1;
    (void)desc;
}

static uint64_t range_mask(double r, int bits)
{
    uint64_t bm = bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
    if (!(r > 0) || r > 9.2e18)
        return bm;
    uint64_t p = 1;
    while ((double)p < r)
        p <<= 1;
    uint64_t m = p - 1;
    return m < bm ? m : bm;
}

typedef struct cand {
    int present;
    int64_t b, e; /* relative, inclusive */
    int score;
    int on_delim; /* starts on TEXT's closing delimiter */
} cand;

static int score_cand(fcs_file *f, fcs_ds *ds, cand *c, int64_t exp)
{
    c->score = 0;
    c->on_delim = 0;
    if (!c->present)
        return 0;
    int64_t ab = ds->base + c->b;
    if (c->b < 58 || ab > (int64_t)f->size)
        return 0;
    int64_t span = exp > 0 ? exp : 1;
    if (ab < ds->text_e && ab + span > ds->text_b)
        return 0; /* starts inside (or spans) TEXT */
    if (ds->stext_e > ds->stext_b && ab <= ds->stext_e &&
        ab + span > ds->stext_b)
        return 0; /* overlaps supplemental TEXT */
    /* one byte early: on the last byte of TEXT, which is its delimiter */
    c->on_delim = ab == ds->text_e && ab < (int64_t)f->size &&
                  f->buf[ab] == f->buf[ds->text_b];
    if (exp >= 0) {
        if (exp > (int64_t)f->size - ab)
            return 0;
        int64_t len = c->e - c->b + 1;
        c->score = len == exp ? 3 : fcs__quirk_end_plus1(len, exp) ? 2 : 1;
    } else {
        if (c->e < c->b || ds->base + c->e >= (int64_t)f->size + 1)
            return 0;
        c->score = 3;
    }
    return c->score;
}

/* $PnE of parameter n into p->log_f1/f2; a bad value reads as linear
 * (warned), a missing one too (warned once in FCS 3, via *warned). */
static void parse_pne(fcs_file *f, fcs_ds *ds, fcs_param *p, int n, int v3,
                      int *warned)
{
    const char *s = kw(ds, "$P%dE", n);
    p->log_f1 = 0;
    p->log_f2 = 0;
    if (s) {
        char a[64];
        trimcpy(a, sizeof a, s);
        char *comma = strchr(a, ',');
        double f1 = 0, f2 = 0;
        int ok;
        if (comma) {
            *comma = '\0';
            ok = fcs__num(a, &f1) == 0 && fcs__num(comma + 1, &f2) == 0;
        } else {
            ok = fcs__num(a, &f1) == 0;
        }
        if (!ok || f1 < 0) {
            fcs__warn(f, "$P%dE is '%.20s'; read as linear (0,0)", n, s);
            f1 = f2 = 0;
        }
        p->log_f1 = f1;
        p->log_f2 = f2;
    } else if (v3 && !(*warned)++) {
        fcs__warn(f, "$P%dE missing; read as linear (0,0)", n);
    }
}

static int parse_params(fcs_file *f, fcs_ds *ds, fcs_err *err, int *ord,
                        int nord)
{
    int np = ds->npar;
    ds->par = calloc((size_t)np, sizeof *ds->par);
    ds->dec = calloc((size_t)np, sizeof *ds->dec);
    ds->owned_names = calloc((size_t)np, sizeof *ds->owned_names);
    if (!ds->par || !ds->dec || !ds->owned_names)
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory for %d parameters",
                        np);
    int v3 = ds->version[3] >= '3';
    int warned_e = 0, warned_r = 0;
    for (int i = 0; i < np; i++) {
        int n = i + 1;
        fcs_param *p = &ds->par[i];
        const char *s = kw(ds, "$P%dN", n);
        char tmp[64];
        if (s && *s) {
            p->name = s;
        } else {
            snprintf(tmp, sizeof tmp, "P%d", n);
            ds->owned_names[i] = strdup(tmp);
            if (!ds->owned_names[i])
                return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
            p->name = ds->owned_names[i];
            fcs__warn(f, "$P%dN missing; parameter named %s", n, tmp);
        }
        s = kw(ds, "$P%dS", n);
        p->label = (s && *s) ? s : NULL;
        /* data type */
        p->datatype = ds->datatype;
        s = kw(ds, "$P%dDATATYPE", n);
        if (s) {
            trimcpy(tmp, sizeof tmp, s);
            char c = (char)toupper((unsigned char)tmp[0]);
            if (tmp[1] || (c != 'I' && c != 'F' && c != 'D'))
                return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                                "TEXT: $P%dDATATYPE is '%.20s', expected I, F "
                                "or D", n, s);
            p->datatype = c;
        }
        /* bits */
        s = kw(ds, "$P%dB", n);
        if (!s)
            return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                            "TEXT: $P%dB is missing", n);
        trimcpy(tmp, sizeof tmp, s);
        int64_t bits;
        if (strcmp(tmp, "*") == 0 && p->datatype == 'A') {
            p->bits = 0;
        } else if (fcs__int(tmp, &bits) < 0 || bits < 1 || bits > 64) {
            return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                            "TEXT: $P%dB is '%.20s', expected 1 to 64%s", n, s,
                            p->datatype == 'A' ? " or *" : "");
        } else {
            p->bits = (int)bits;
        }
        if (p->datatype == 'F' && p->bits != 32)
            return fcs__err(err, FCS_E_UNSUPPORTED, ds->text_b,
                            "TEXT: $P%dB is %d with $DATATYPE F, expected 32",
                            n, p->bits);
        if (p->datatype == 'D' && p->bits != 64)
            return fcs__err(err, FCS_E_UNSUPPORTED, ds->text_b,
                            "TEXT: $P%dB is %d with $DATATYPE D, expected 64",
                            n, p->bits);
        /* range */
        s = kw(ds, "$P%dR", n);
        double r = 0;
        if (!s || fcs__num(s, &r) < 0 || r < 0) {
            r = 0;
            if (!warned_r++)
                fcs__warn(f, "$P%dR missing or not a number; no range mask",
                          n);
        }
        p->range = r;
        parse_pne(f, ds, p, n, v3, &warned_e);
        /* gain */
        s = kw(ds, "$P%dG", n);
        double g = 1;
        int has_g = 0;
        if (s) {
            if (fcs__num(s, &g) == 0)
                has_g = 1;
            else {
                fcs__warn(f, "$P%dG is '%.20s', not a number; ignored", n, s);
                g = 1;
            }
        }
        p->gain = g;
        trimcpy(tmp, sizeof tmp, p->name);
        p->is_time = strcasecmp(tmp, "time") == 0;

        /* decoding plan (offsets filled in by the caller) */
        fcs_pdec *d = &ds->dec[i];
        if (p->datatype == 'F') {
            d->kind = FCS_K_F32;
            d->nbytes = 4;
        } else if (p->datatype == 'D') {
            d->kind = FCS_K_F64;
            d->nbytes = 8;
        } else if (p->datatype == 'I') {
            d->kind = FCS_K_UINT;
            d->nbytes = (p->bits + 7) / 8;
            d->mask = range_mask(r, p->bits);
        }
        if (p->datatype != 'A')
            plan_order(d, d->nbytes, ord, nord);
        d->r = r;
        d->s_time = p->is_time && ds->has_timestep;
        if (p->datatype == 'I' && p->log_f1 > 0) {
            if (r > 0) {
                d->s_log = 1;
                d->f1 = p->log_f1;
                d->f2 = p->log_f2 == 0 ? 1.0 : p->log_f2;
                if (p->log_f2 == 0)
                    ds->quirks |= FCS_QUIRK_LOG_F2_ZERO;
            } else {
                fcs__warn(f, "$P%dE is logarithmic but $P%dR is missing; "
                             "scaled as linear", n, n);
            }
        }
        if (!d->s_log && !p->is_time && has_g && g != 1 && g != 0) {
            d->s_gain = 1;
            d->gain = g;
        }
    }
    return 0;
}

/* HEADER of the data set at base: version and the six offsets, TEXT's
 * place (ds->text_b/e).  0 or < 0 with err. */
static int parse_header(fcs_file *f, int64_t base, fcs_ds *ds, fcs_err *err)
{
    if (base < 0 || base > (int64_t)f->size || (int64_t)f->size - base < 58) {
        if (base == 0)
            return fcs__err(err, FCS_E_NOTFCS, 0,
                            "HEADER: file is %zu bytes, shorter than an FCS "
                            "HEADER (58 bytes)", f->size);
        return fcs__err(err, FCS_E_LAYOUT, base,
                        "HEADER: data set at byte %lld is past the end of the "
                        "file (%zu bytes)", (long long)base, f->size);
    }
    const uint8_t *h = f->buf + base;
    if (memcmp(h, "FCS", 3) != 0 || !isdigit(h[3]) || h[4] != '.' ||
        !isdigit(h[5]))
        return fcs__err(err, FCS_E_NOTFCS, base,
                        "HEADER: does not start with FCSn.n");
    memcpy(ds->version, h, 6);
    ds->version[6] = '\0';
    if (strcmp(ds->version, "FCS2.0") && strcmp(ds->version, "FCS3.0") &&
        strcmp(ds->version, "FCS3.1") && strcmp(ds->version, "FCS3.2"))
        fcs__warn(f, "unknown version %s; read as FCS 3.1", ds->version);
    for (int k = 0; k < 6; k++)
        if (fcs__hdr_field(h + 10 + 8 * k, &ds->hdr[k]) < 0)
            return fcs__err(err, FCS_E_HEADER, base + 10 + 8 * k,
                            "HEADER: offset field %d is '%.8s', expected a "
                            "number", k + 1, (const char *)h + 10 + 8 * k);
    int64_t tb = ds->hdr[0], te = ds->hdr[1];
    if (tb < 58 || te < tb)
        return fcs__err(err, FCS_E_HEADER, base + 10,
                        "HEADER: TEXT offsets %lld-%lld are invalid",
                        (long long)tb, (long long)te);
    if (te - tb > (int64_t)f->size || base + te >= (int64_t)f->size) {
        if (base + te == (int64_t)f->size && base + tb < base + te) {
            fcs__warn(f, "HEADER: TEXT end is one byte past the end of the "
                         "file; clamped");
            te--;
        } else {
            return fcs__err(err, FCS_E_LAYOUT, base + 18,
                            "HEADER: TEXT ends at byte %lld, file is %zu "
                            "bytes", (long long)(base + te), f->size);
        }
    }
    ds->text_b = base + tb;
    ds->text_e = base + te;
    return 0;
}

/* TEXT into ds->kw, re-read with the empty-value rule when the escape
 * rule would put delimiters into keywords.  0 or < 0 with err. */
static int parse_main_text(fcs_file *f, fcs_ds *ds, fcs_err *err)
{
    const uint8_t *tp = f->buf + ds->text_b;
    size_t tn = (size_t)(ds->text_e - ds->text_b + 1);
    int delim = tp[0];
    int dk = 0;
    int ev = (f->opts.flags & FCS_OPT_EMPTY_VALUES) != 0;
    if (fcs__parse_text(f, tp, tn, delim, ev, &ds->kw, &dk, &ds->quirks,
                        "TEXT") < 0)
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory reading TEXT");
    if (!ev && fcs__quirk_want_empty_values(dk)) {
        fcs__kw_free(&ds->kw);
        ds->quirks |= FCS_QUIRK_EMPTY_VALUES;
        fcs__warn(f, "TEXT: %d keyword(s) would contain the delimiter under "
                     "the FCS 3 escape rule; doubled delimiters read as empty "
                     "values instead", dk);
        unsigned q = 0;
        if (fcs__parse_text(f, tp, tn, delim, 1, &ds->kw, &dk, &q, "TEXT") < 0)
            return fcs__err(err, FCS_E_NOMEM, -1, "out of memory reading TEXT");
        ev = 1;
    }
    ds->empty_values = ev;
    if (STRICT(f) && (ds->quirks & FCS_QUIRK_KEY_BLANKS))
        return fcs__err(err, FCS_E_TEXT, ds->text_b,
                        "TEXT: keywords with surrounding blanks (strict)");
    return 0;
}

/* Supplemental TEXT (FCS 3): its keywords fill in what TEXT lacks.  Read
 * only when it lies in the file and starts with the TEXT delimiter.  0 or
 * < 0 with err. */
static int parse_stext(fcs_file *f, int64_t base, fcs_ds *ds, fcs_err *err)
{
    int delim = f->buf[ds->text_b], ev = ds->empty_values;
    int64_t sb = 0, se = 0;
    if (!(ds->version[3] >= '3' &&
          fcs__int(fcs__kw_get(&ds->kw, "$BEGINSTEXT"), &sb) == 0 &&
          fcs__int(fcs__kw_get(&ds->kw, "$ENDSTEXT"), &se) == 0 && sb > 0 &&
          se >= sb && base + sb != ds->text_b))
        return 0;
    if (base + se >= (int64_t)f->size || base + sb < base + 58) {
        fcs__warn(f, "supplemental TEXT %lld-%lld is outside the file; "
                     "ignored", (long long)sb, (long long)se);
        return 0;
    }
    if (f->buf[base + sb] != (uint8_t)delim) {
        fcs__warn(f, "supplemental TEXT %lld-%lld does not start with "
                     "the TEXT delimiter; ignored", (long long)sb,
                  (long long)se);
        return 0;
    }
    ds->stext_b = base + sb;
    ds->stext_e = base + se;
    fcs_kwtab st = {0};
    int sdk = 0;
    unsigned q = 0;
    if (fcs__parse_text(f, f->buf + base + sb, (size_t)(se - sb + 1), delim,
                        ev, &st, &sdk, &q, "supplemental TEXT") < 0) {
        fcs__kw_free(&st);
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    }
    for (int i = 0; i < st.n; i++)
        if (!fcs__kw_get(&ds->kw, st.kw[i].key) &&
            fcs__kw_set(&ds->kw, st.kw[i].key, strlen(st.kw[i].key),
                        st.kw[i].val, strlen(st.kw[i].val)) < 0) {
            fcs__kw_free(&st);
            return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        }
    fcs__kw_free(&st);
    return 0;
}

/* $PAR and $DATATYPE, which everything else needs.  0 or < 0 with err. */
static int parse_par_type(fcs_ds *ds, fcs_err *err)
{
    int64_t par;
    const char *s = fcs__kw_get(&ds->kw, "$PAR");
    if (!s)
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b, "TEXT: $PAR is missing");
    if (fcs__int(s, &par) < 0 || par < 1 || par > 100000)
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $PAR is '%.20s', expected 1 to 100000", s);
    /* every parameter needs its own $PnB: check before allocating */
    if (par > ds->kw.n)
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $PAR is %lld, but TEXT holds only %d keywords "
                        "(each parameter needs its $PnB)", (long long)par,
                        ds->kw.n);
    ds->npar = (int)par;
    char tmp[64];
    s = fcs__kw_get(&ds->kw, "$DATATYPE");
    if (!s)
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $DATATYPE is missing");
    trimcpy(tmp, sizeof tmp, s);
    ds->datatype = (char)toupper((unsigned char)tmp[0]);
    if (tmp[1] || !strchr("IFDA", ds->datatype) || !ds->datatype)
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $DATATYPE is '%.20s', expected I, F, D or A", s);
    return 0;
}

/* $MODE, $BYTEORD (into ord/nord), $TIMESTEP, $TOT (-1 when absent) and
 * $NEXTDATA.  0 or < 0 with err. */
static int parse_keys(fcs_file *f, fcs_ds *ds, int *ord, int *nord,
                      int64_t *tot, fcs_err *err)
{
    char tmp[64];
    const char *s = fcs__kw_get(&ds->kw, "$MODE");
    if (s) {
        trimcpy(tmp, sizeof tmp, s);
        if (strcasecmp(tmp, "L") != 0)
            return fcs__err(err, FCS_E_UNSUPPORTED, ds->text_b,
                            "TEXT: $MODE is '%.20s'; only list mode (L) is "
                            "supported", s);
    } else if (ds->version[3] < '3' || strcmp(ds->version, "FCS3.2") < 0) {
        fcs__warn(f, "$MODE missing; read as list mode");
    }
    s = fcs__kw_get(&ds->kw, "$BYTEORD");
    if (s) {
        *nord = parse_byteord(s, ord);
        if (*nord < 0)
            return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                            "TEXT: $BYTEORD is '%.20s', expected a permutation "
                            "such as 1,2,3,4 or 4,3,2,1", s);
    } else if (ds->datatype != 'A') {
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $BYTEORD is missing");
    }
    s = fcs__kw_get(&ds->kw, "$TIMESTEP");
    if (s && fcs__num(s, &ds->timestep) == 0)
        ds->has_timestep = 1;
    else if (s && *s)
        fcs__warn(f, "$TIMESTEP is '%.20s', not a number; ignored", s);
    *tot = -1;
    s = fcs__kw_get(&ds->kw, "$TOT");
    if (s && (fcs__int(s, tot) < 0 || *tot < 0))
        return fcs__err(err, FCS_E_KEYWORD, ds->text_b,
                        "TEXT: $TOT is '%.20s', expected a count", s);
    if (!s)
        fcs__warn(f, "$TOT missing; events counted from the DATA length");
    s = fcs__kw_get(&ds->kw, "$NEXTDATA");
    if (s) {
        if (fcs__int(s, &ds->nextdata) < 0 || ds->nextdata < 0) {
            fcs__warn(f, "$NEXTDATA is '%.20s'; no further data sets", s);
            ds->nextdata = 0;
        }
    }
    return 0;
}

/* Bytes (or bits) per event, from the parameters. */
typedef struct geom {
    int nonbyte, anyfree, ascii;
    int64_t row, rowbits, padded;
} geom;

static int row_geometry(fcs_ds *ds, geom *g, fcs_err *err)
{
    memset(g, 0, sizeof *g);
    for (int i = 0; i < ds->npar; i++) {
        const fcs_param *p = &ds->par[i];
        if (p->datatype == 'A') {
            if (p->bits == 0)
                g->anyfree = 1;
            g->row += p->bits;
            continue;
        }
        if (p->bits % 8)
            g->nonbyte = 1;
        g->rowbits += p->bits;
        g->padded += (p->bits + 7) / 8;
    }
    g->ascii = ds->datatype == 'A';
    if (g->ascii) {
        for (int i = 0; i < ds->npar; i++)
            if (ds->par[i].datatype != 'A')
                return fcs__err(err, FCS_E_UNSUPPORTED, ds->text_b,
                                "TEXT: $DATATYPE A mixed with binary "
                                "$PnDATATYPE");
        ds->ascii_free = g->anyfree;
    }
    if (!g->ascii)
        g->row = g->padded;
    return 0;
}

/* The HEADER and TEXT DATA offsets as candidates. */
static void data_cands(fcs_file *f, fcs_ds *ds, int v3, cand *H, cand *T)
{
    memset(H, 0, sizeof *H);
    memset(T, 0, sizeof *T);
    if (ds->hdr[2] >= 0 && ds->hdr[3] >= 0 &&
        !(ds->hdr[2] == 0 && ds->hdr[3] == 0) && ds->hdr[2] != 99999999 &&
        ds->hdr[3] != 99999999) {
        H->present = 1;
        H->b = ds->hdr[2];
        H->e = ds->hdr[3];
    }
    int64_t b2, e2;
    if (fcs__int(fcs__kw_get(&ds->kw, "$BEGINDATA"), &b2) == 0 &&
        fcs__int(fcs__kw_get(&ds->kw, "$ENDDATA"), &e2) == 0 &&
        !(b2 == 0 && e2 == 0) && b2 >= 0 && e2 >= 0) {
        T->present = 1;
        T->b = b2;
        T->e = e2;
    }
    if (!T->present && v3)
        fcs__warn(f, "$BEGINDATA/$ENDDATA missing; HEADER offsets used");
}

/* Non-byte integer widths: 16-bit containers (Beckman CXP) or packed
 * bits; then the DATA length $TOT implies (-1 unknown). */
static int64_t expected_len(fcs_file *f, fcs_ds *ds, int v3, const cand *H,
                            const cand *T, int64_t tot, const geom *g)
{
    if (g->nonbyte) {
        const cand *c = (v3 && T->present) ? T : H->present ? H : T;
        int64_t len = c->present ? c->e - c->b + 1 : -1;
        if (tot > 0 &&
            fcs__quirk_pnb_padded(len, tot, g->padded, g->rowbits)) {
            ds->quirks |= FCS_QUIRK_PNB10_AS_16;
            fcs__warn(f, "$PnB not a multiple of 8 but DATA holds whole "
                         "bytes per value; read as %lld-byte containers",
                      (long long)g->padded);
        } else {
            ds->packed = 1;
            ds->row_bits = g->rowbits;
        }
    }
    if (tot <= 0 || (g->ascii && g->anyfree))
        return -1;
    if (ds->packed) /* bits, then bytes rounded up */
        return (tot > INT64_MAX / (g->rowbits ? g->rowbits : 1))
                   ? INT64_MAX
                   : (tot * g->rowbits + 7) / 8;
    return (g->row && tot > INT64_MAX / g->row) ? INT64_MAX : tot * g->row;
}

/* The candidate to use when both fit equally: the data decide
 * (quirks.c, header_text).  why points into whybuf or a static text. */
static cand *pick_cand(fcs_file *f, fcs_ds *ds, int v3, cand *H, cand *T,
                       int64_t tot, const geom *g, const char **why,
                       char *whybuf, size_t whyn)
{
    int64_t base = ds->base;
    cand *best;
    *why = "consistent with $TOT and the file";
    if (H->score > T->score)
        best = H;
    else if (T->score > H->score)
        best = T;
    else
        best = v3 ? (T->present ? T : H) : (H->present ? H : T);
    if (!(H->score && H->score == T->score && H->b != T->b))
        return best;
    int64_t nh = -1, nt = -1, kh = 0, kt = 0;
    if (H->on_delim != T->on_delim) {
        best = H->on_delim ? T : H;
        *why = "the other one starts on TEXT's closing delimiter";
    } else if (!ds->packed && !g->ascii && tot > 0 &&
               (nh = fcs__quirk_implausible(ds, f->buf + base + H->b,
                                            (int64_t)f->size - base - H->b,
                                            tot, &kh)) >= 0 &&
               (nt = fcs__quirk_implausible(ds, f->buf + base + T->b,
                                            (int64_t)f->size - base - T->b,
                                            tot, &kt)) >= 0 &&
               nh != nt) {
        best = nh < nt ? H : T;
        snprintf(whybuf, whyn,
                 "its first events hold %lld implausible values of "
                 "%lld, the other %lld", (long long)(nh < nt ? nh : nt),
                 (long long)kh, (long long)(nh < nt ? nt : nh));
        *why = whybuf;
    } else {
        *why = v3 ? "both fit; TEXT is authoritative for FCS 3"
                  : "both fit; HEADER is authoritative for FCS 2.0";
    }
    return best;
}

/* No candidate fits: the error that says why. */
static int refuse_layout(fcs_file *f, fcs_ds *ds, const cand *H,
                         const cand *T, int64_t tot, int64_t exp,
                         const geom *g, fcs_err *err)
{
    int64_t base = ds->base;
    const cand *c = T->present ? T : H;
    if (!c->present)
        return fcs__err(err, FCS_E_LAYOUT, base + 26,
                        "HEADER: no DATA offsets in HEADER or TEXT");
    if (exp >= 0 && exp != INT64_MAX)
        return fcs__err(err, FCS_E_LAYOUT, base + c->b,
                        "DATA: $TOT %lld x %lld bytes per event = %lld "
                        "bytes from byte %lld, file is %zu bytes",
                        (long long)tot, (long long)(ds->packed ? 0 : g->row),
                        (long long)exp, (long long)(base + c->b), f->size);
    if (exp == INT64_MAX)
        return fcs__err(err, FCS_E_LAYOUT, base + c->b,
                        "DATA: $TOT %lld is larger than the file can hold",
                        (long long)tot);
    return fcs__err(err, FCS_E_LAYOUT, base + c->b,
                    "DATA: offsets %lld-%lld overlap HEADER/TEXT or run "
                    "past the end of the file (%zu bytes)",
                    (long long)c->b, (long long)c->e, f->size);
}

/* The repairs the chosen candidate needs: warnings and quirk bits, or
 * refusals in strict mode.  0 or < 0 with err. */
static int note_repairs(fcs_file *f, fcs_ds *ds, const cand *H,
                        const cand *T, const cand *best, const char *why,
                        int64_t tot, int64_t exp, fcs_err *err)
{
    int64_t base = ds->base;
    if (H->present && T->present && (H->b != T->b || H->e != T->e) &&
        (H->b != T->b || H->score != T->score)) {
        ds->quirks |= FCS_QUIRK_HEADER_TEXT;
        if (STRICT(f))
            return fcs__err(err, FCS_E_LAYOUT, base + 26,
                            "HEADER: DATA %lld-%lld, TEXT says %lld-%lld "
                            "(strict)", (long long)H->b, (long long)H->e,
                            (long long)T->b, (long long)T->e);
        fcs__warn(f, "HEADER says DATA is %lld-%lld, TEXT says %lld-%lld; "
                     "%s offsets used (%s)",
                  (long long)H->b, (long long)H->e, (long long)T->b,
                  (long long)T->e, best == H ? "HEADER" : "TEXT", why);
    }
    int64_t len = best->e - best->b + 1;
    if (best->score == 2) {
        ds->quirks |= FCS_QUIRK_DATA_END_PLUS1;
        if (STRICT(f))
            return fcs__err(err, FCS_E_LAYOUT, base + best->b,
                            "DATA: length %lld is $TOT x row + 1 (strict)",
                            (long long)len);
        fcs__warn(f, "DATA end offset is one byte past $TOT x row (%lld); "
                     "read as %lld bytes", (long long)exp, (long long)exp);
    } else if (best->score == 1) {
        if (STRICT(f))
            return fcs__err(err, FCS_E_LAYOUT, base + best->b,
                            "DATA: length %lld, $TOT x row is %lld (strict)",
                            (long long)len, (long long)exp);
        fcs__warn(f, "DATA length %lld differs from $TOT x row (%lld); %lld "
                     "events read as $TOT says", (long long)len,
                  (long long)exp, (long long)tot);
    }
    if (base + best->e >= (int64_t)f->size) {
        ds->quirks |= FCS_QUIRK_DATA_PAST_EOF;
        fcs__warn(f, "DATA end offset %lld is past the end of the file",
                  (long long)best->e);
    }
    return 0;
}

/* Events and DATA length from the chosen candidate (counted from its
 * length when $TOT is absent). */
static void data_extent(fcs_file *f, fcs_ds *ds, const cand *best,
                        int64_t tot, int64_t exp, const geom *g)
{
    int64_t base = ds->base, len = best->e - best->b + 1;
    ds->data_b = base + best->b;
    if (tot < 0) {
        /* no $TOT: count from the DATA length */
        if (base + best->e >= (int64_t)f->size)
            len = (int64_t)f->size - ds->data_b;
        if (g->ascii && g->anyfree) {
            exp = len;
            tot = len; /* upper bound; ascii_load counts the values */
        } else if (ds->packed) {
            tot = g->rowbits ? len * 8 / g->rowbits : 0;
            exp = (tot * g->rowbits + 7) / 8;
        } else {
            tot = g->row ? len / g->row : 0;
            exp = tot * g->row;
            if (g->row && len % g->row)
                fcs__warn(f, "DATA length %lld is not a whole number of "
                             "events (%lld bytes each)", (long long)len,
                          (long long)g->row);
        }
    }
    ds->nevents = tot;
    if (g->ascii && g->anyfree) {
        int64_t e = base + best->e;
        if (e >= (int64_t)f->size)
            e = (int64_t)f->size - 1;
        exp = e - ds->data_b + 1;
    }
    ds->data_len = exp;
}

/* The DATA layout policy (README "HEADER and TEXT offsets"): choose
 * between the HEADER and TEXT offsets, note the repairs, set the events
 * and the DATA extent.  0 or < 0 with err. */
static int locate_data(fcs_file *f, fcs_ds *ds, int64_t tot, const geom *g,
                       fcs_err *err)
{
    int v3 = ds->version[3] >= '3';
    cand H, T;
    data_cands(f, ds, v3, &H, &T);
    if (tot == 0) {
        ds->nevents = 0;
        ds->data_b = ds->text_e + 1;
        return 0;
    }
    int64_t exp = expected_len(f, ds, v3, &H, &T, tot, g);
    score_cand(f, ds, &H, exp);
    score_cand(f, ds, &T, exp);
    const char *why;
    char whybuf[120];
    cand *best = pick_cand(f, ds, v3, &H, &T, tot, g, &why, whybuf,
                           sizeof whybuf);
    if (!best->score)
        return refuse_layout(f, ds, &H, &T, tot, exp, g, err);
    int rc = note_repairs(f, ds, &H, &T, best, why, tot, exp, err);
    if (rc < 0)
        return rc;
    data_extent(f, ds, best, tot, exp, g);
    return 0;
}

/* Each parameter's place in the row; ASCII data decoded now. */
static int plan_rows(fcs_file *f, fcs_ds *ds, const geom *g, fcs_err *err)
{
    int off = 0;
    int64_t boff = 0;
    for (int i = 0; i < ds->npar; i++) {
        if (ds->packed) {
            ds->dec[i].kind = ds->par[i].datatype == 'I' ? FCS_K_PACKED
                                                         : ds->dec[i].kind;
            if (ds->par[i].datatype != 'I')
                return fcs__err(err, FCS_E_UNSUPPORTED, ds->text_b,
                                "TEXT: packed bit widths mixed with float "
                                "parameters");
            ds->dec[i].off = (int)boff;
            boff += ds->par[i].bits;
        } else {
            ds->dec[i].off = off;
            off += ds->dec[i].nbytes;
        }
    }
    ds->row_bytes = g->ascii ? 0 : off;
    if (g->ascii && ds->nevents > 0)
        return fcs__ascii_load(f, ds, err);
    return 0;
}

int fcs__ds_parse(fcs_file *f, int64_t base, fcs_ds *ds, fcs_err *err)
{
    memset(ds, 0, sizeof *ds);
    ds->base = base;
    ds->nevents = 0;
    int ord[8] = {1, 2, 3, 4, 5, 6, 7, 8}, nord = 4;
    int64_t tot = -1;
    geom g;
    int rc = parse_header(f, base, ds, err);
    if (rc == 0)
        rc = parse_main_text(f, ds, err);
    if (rc == 0)
        rc = parse_stext(f, base, ds, err);
    if (rc == 0)
        rc = parse_par_type(ds, err);
    if (rc == 0)
        rc = parse_keys(f, ds, ord, &nord, &tot, err);
    if (rc == 0)
        rc = parse_params(f, ds, err, ord, nord);
    if (rc == 0)
        rc = row_geometry(ds, &g, err);
    if (rc == 0)
        rc = locate_data(f, ds, tot, &g, err);
    if (rc == 0)
        rc = plan_rows(f, ds, &g, err);
    if (rc < 0)
        return rc;
    ds->ok = 1;
    return 0;
}
