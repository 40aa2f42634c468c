/*
 * spill.c -- spillover matrices: $SPILLOVER (FCS 3.1), $SPILL, SPILL and
 * SPILLOVER (BD/FlowJo), "n,name1..namen,s11,s12,...,snn" row-major.
 *
 * Repairs (each with a warning on the handle, tested in
 * test_fcs_spill.c):
 *   - blanks around tokens are ignored;
 *   - comma decimals (BD Accuri: "1,000,0,000"): 1+n+2n^2 tokens are read
 *     as n^2 numbers "a.b";
 *   - channel numbers as names (Accuri: "3,4,..."): mapped to $PnN when
 *     every name is an integer 1..$PAR and not itself a $PnN;
 *   - names without values (MACSQuant: exactly 1+n tokens): no matrix;
 *   - several keywords: $SPILLOVER wins; a differing second one is
 *     reported.
 * A matrix is usable when n >= 1, every value is a finite number and (with
 * a file) every name is a $PnN of the data set.
 * Threading: none.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs_internal.h"

void fcs_spill_free(fcs_spill *s)
{
    if (!s)
        return;
    if (s->names)
        for (int i = 0; i < s->n; i++)
            free(s->names[i]);
    free(s->names);
    free(s->m);
    free(s);
}

/* Split on commas, trimming blanks.  Returns count; tokens point into a
 * modified copy (*store, owned by the caller). */
static int split(const char *v, char **store, char ***toks)
{
    size_t L = strlen(v);
    char *c = malloc(L + 1);
    int n = 1;
    for (size_t i = 0; i < L; i++)
        n += v[i] == ',';
    char **t = malloc((size_t)n * sizeof *t);
    if (!c || !t) {
        free(c);
        free(t);
        return -1;
    }
    memcpy(c, v, L + 1);
    int k = 0;
    char *p = c;
    for (;;) {
        char *e = strchr(p, ',');
        if (e)
            *e = '\0';
        while (isspace((unsigned char)*p))
            p++;
        size_t m = strlen(p);
        while (m && isspace((unsigned char)p[m - 1]))
            p[--m] = '\0';
        t[k++] = p;
        if (!e)
            break;
        p = e + 1;
    }
    *store = c;
    *toks = t;
    return k;
}

fcs_spill *fcs_spill_parse(const char *value, const fcs_file *f, fcs_err *err)
{
    fcs_file *fw = (fcs_file *)(uintptr_t)f; /* warnings only */
    if (!value) {
        fcs__err(err, FCS_E_ARG, -1, "NULL spillover value");
        return NULL;
    }
    char *store = NULL, **t = NULL;
    fcs_spill *s = NULL;
    int nt = split(value, &store, &t);
    if (nt < 0) {
        fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    int64_t n64;
    if (fcs__int(t[0], &n64) < 0 || n64 < 1 || n64 > 10000) {
        fcs__err(err, FCS_E_SPILL, -1, "spillover: first field '%.20s' is "
                                       "not a channel count", t[0]);
        goto fail;
    }
    int n = (int)n64;
    int64_t need = 1 + (int64_t)n + (int64_t)n * n;
    int comma_dec = 0;
    if (nt == 1 + n) {
        fcs__err(err, FCS_E_SPILL, -1,
                 "spillover: %d channel names but no values", n);
        goto fail;
    }
    if (nt != need) {
        if (nt == 1 + (int64_t)n + 2 * (int64_t)n * n) {
            comma_dec = 1;
            if (fw)
                fcs__warn(fw, "spillover: values written with comma "
                              "decimals; read as a,b -> a.b");
        } else {
            fcs__err(err, FCS_E_SPILL, -1,
                     "spillover: %d fields, %d channels need %lld", nt, n,
                     (long long)need);
            goto fail;
        }
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->names = calloc((size_t)n, sizeof *s->names)) ||
        !(s->m = malloc((size_t)n * (size_t)n * sizeof *s->m))) {
        fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        goto fail;
    }
    s->n = n;
    /* names, with channel numbers mapped to $PnN */
    int numeric = f != NULL;
    for (int i = 0; i < n && numeric; i++) {
        int64_t k;
        if (fcs__int(t[1 + i], &k) < 0 || k < 1 || k > fcs_n_params(f) ||
            fcs_param_index(f, t[1 + i]) >= 0)
            numeric = 0;
    }
    for (int i = 0; i < n; i++) {
        const char *nm = t[1 + i];
        if (numeric) {
            int64_t k;
            fcs__int(nm, &k);
            nm = fcs_param_info(f, (int)k - 1)->name;
        }
        if (!*nm) {
            fcs__err(err, FCS_E_SPILL, -1, "spillover: channel name %d is "
                                           "empty", i + 1);
            goto fail;
        }
        if (!(s->names[i] = strdup(nm))) {
            fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
            goto fail;
        }
        if (f && fcs_param_index(f, nm) < 0) {
            fcs__err(err, FCS_E_SPILL, -1, "spillover: channel '%.40s' is not "
                                           "a $PnN of the data set", nm);
            goto fail;
        }
    }
    if (numeric && fw)
        fcs__warn(fw, "spillover: channels given as parameter numbers; "
                      "mapped to $PnN");
    for (int64_t k = 0; k < (int64_t)n * n; k++) {
        double v;
        int ok;
        if (comma_dec) {
            char b[128];
            snprintf(b, sizeof b, "%s.%s", t[1 + n + 2 * k], t[2 + n + 2 * k]);
            ok = fcs__num(b, &v) == 0;
        } else {
            ok = fcs__num(t[1 + n + k], &v) == 0;
        }
        if (!ok) {
            fcs__err(err, FCS_E_SPILL, -1, "spillover: value %lld ('%.20s') "
                                           "is not a number", (long long)k + 1,
                     t[1 + n + (comma_dec ? 2 * k : k)]);
            goto fail;
        }
        s->m[k] = v;
    }
    free(store);
    free(t);
    return s;
fail:
    free(store);
    free(t);
    fcs_spill_free(s);
    return NULL;
}

int fcs_spillover(fcs_file *f, fcs_spill **out, fcs_err *err)
{
    static const char *const keys[] = {"$SPILLOVER", "SPILLOVER", "$SPILL",
                                       "SPILL"};
    *out = NULL;
    if (!f || !f->ds.ok)
        return fcs__err(err, FCS_E_ARG, -1, "no data set selected");
    int first = -1;
    fcs_spill *best = NULL;
    for (int k = 0; k < 4; k++) {
        const char *v = fcs_keyword(f, keys[k]);
        if (!v)
            continue;
        fcs_err e = {0};
        fcs_spill *s = fcs_spill_parse(v, f, &e);
        if (!s) {
            if (e.code == FCS_E_NOMEM) {
                fcs_spill_free(best);
                *err = e;
                return -2;
            }
            fcs__warn(f, "%s unusable: %s", keys[k], e.msg);
            continue;
        }
        snprintf(s->keyword, sizeof s->keyword, "%s", keys[k]);
        if (!best) {
            best = s;
            first = k;
            continue;
        }
        int same = s->n == best->n;
        for (int i = 0; same && i < s->n; i++)
            same = strcmp(s->names[i], best->names[i]) == 0;
        for (int i = 0; same && i < s->n * s->n; i++)
            same = s->m[i] == best->m[i];
        if (!same)
            fcs__warn(f, "%s and %s hold different matrices; %s used",
                      keys[first], keys[k], keys[first]);
        fcs_spill_free(s);
    }
    if (!best)
        return 0;
    *out = best;
    return 1;
}
