/*
 * ascii.c -- $DATATYPE A: fixed-width fields of $PnB characters, or free
 * format ($PnB = *) where runs of blanks, tabs, commas, CR and LF each
 * count as one separator.
 *
 * ASCII files are small; they are decoded once when the data set is
 * selected, into ds->ascii (row-major, nevents x npar).  The array never
 * holds more events than the DATA segment has values for: with fewer
 * values than $TOT x $PAR the event count is reduced, with a warning.
 * Threading: none.
 */
#include <stdlib.h>
#include <string.h>

#include "fcs_internal.h"

static int is_sep(uint8_t c)
{
    return c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n' ||
           c == '\0';
}

/* Parse p[0..n) as one number (blanks around allowed); 0 ok, -1 not. */
static int field(const uint8_t *p, size_t n, double *out)
{
    char b[72];
    if (n >= sizeof b)
        return -1;
    memcpy(b, p, n);
    b[n] = '\0';
    return fcs__num(b, out);
}

int fcs__ascii_load(fcs_file *f, fcs_ds *ds, fcs_err *err)
{
    const uint8_t *p = f->buf + ds->data_b;
    int64_t n = ds->data_len;
    int np = ds->npar;
    if (!ds->ascii_free) {
        int64_t row = 0;
        for (int j = 0; j < np; j++)
            row += ds->par[j].bits;
        ds->ascii = malloc((size_t)ds->nevents * (size_t)np * sizeof(double));
        if (!ds->ascii)
            return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
        int64_t pos = 0;
        for (int64_t i = 0; i < ds->nevents; i++)
            for (int j = 0; j < np; j++) {
                int w = ds->par[j].bits;
                if (field(p + pos, (size_t)w, &ds->ascii[i * np + j]) < 0)
                    return fcs__err(err, FCS_E_DATA, ds->data_b + pos,
                                    "DATA: event %lld, parameter %d: '%.*s' "
                                    "is not a number", (long long)i + 1, j + 1,
                                    w < 40 ? w : 40, (const char *)p + pos);
                pos += w;
            }
        (void)row;
        return 0;
    }
    /* free format: count values first, so the array is sized by the data */
    int64_t cnt = 0;
    for (int64_t i = 0; i < n;) {
        while (i < n && is_sep(p[i]))
            i++;
        if (i < n)
            cnt++;
        while (i < n && !is_sep(p[i]))
            i++;
    }
    int64_t ev = cnt / np;
    if (ev < ds->nevents) {
        fcs__warn(f, "DATA holds %lld ASCII values, $TOT x $PAR needs %lld; "
                     "%lld events read", (long long)cnt,
                  (long long)(ds->nevents * np), (long long)ev);
        ds->nevents = ev;
    }
    if (ds->nevents == 0)
        return 0;
    ds->ascii = malloc((size_t)ds->nevents * (size_t)np * sizeof(double));
    if (!ds->ascii)
        return fcs__err(err, FCS_E_NOMEM, -1, "out of memory");
    int64_t k = 0, want = ds->nevents * np;
    for (int64_t i = 0; i < n && k < want;) {
        while (i < n && is_sep(p[i]))
            i++;
        int64_t s = i;
        while (i < n && !is_sep(p[i]))
            i++;
        if (i > s && field(p + s, (size_t)(i - s), &ds->ascii[k++]) < 0)
            return fcs__err(err, FCS_E_DATA, ds->data_b + s,
                            "DATA: '%.*s' is not a number",
                            (int)(i - s < 40 ? i - s : 40),
                            (const char *)p + s);
    }
    return 0;
}
