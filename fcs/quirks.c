/*
 * quirks.c -- the vendor and writer defects the reader repairs, in one
 * place, each with one named flag (FCS_QUIRK_* in fcs_internal.h) and one
 * unit test (tests/unit/test_fcs_quirks.c).  The decisions live here; the
 * parser (dataset.c, text.c) calls them and records the flag in ds.quirks
 * so tests and `cytogate info` can tell which repair was applied.
 *
 *   key_blanks        blanks around keywords (Partec / "PU87" writer:
 *                     "<103 blanks>$DATATYPE") are trimmed;
 *   empty_values      FCS 2.0 writers (CellQuest) wrote empty values as a
 *                     doubled delimiter: when the escape rule would yield
 *                     keys containing the delimiter, TEXT is re-read with
 *                     every delimiter separating;
 *   data_end_plus1    $ENDDATA one byte past $TOT x row (MACSQuant, Accuri,
 *                     Diva, LMD): read $TOT x row bytes;
 *   data_past_eof     declared DATA end beyond the end of the file, while
 *                     $TOT x row fits: read $TOT x row bytes;
 *   header_text       HEADER and TEXT DATA offsets disagree (Stratedigm,
 *                     FlowIO issue 22: HEADER begin inside TEXT; Beckman
 *                     CyAn and some FlowJo exports: TEXT $BEGINDATA one
 *                     byte early, on TEXT's last delimiter): a candidate
 *                     that overlaps a TEXT segment or does not hold $TOT
 *                     x row bytes inside the file loses; when both fit,
 *                     the data decide (fcs__quirk_implausible: the
 *                     candidate whose first events hold fewer values no
 *                     instrument writes wins), and only a tie falls back
 *                     to TEXT for FCS 3.x, HEADER for FCS 2.0;
 *   pnb10_as_16       Beckman CXP wrote $PnB 10 for values stored in 16
 *                     bits: detected from the DATA length;
 *   no_final_delim    TEXT without its closing delimiter (Cytek NL-2000);
 *   log_f2_zero       $PnE "f1,0" (invalid but common) read as f1,1.
 * Threading: pure functions.
 */
#include <math.h>
#include <stdlib.h>

#include "fcs_internal.h"

const char *fcs_quirk_name(unsigned q)
{
    switch (q) {
    case FCS_QUIRK_KEY_BLANKS: return "key_blanks";
    case FCS_QUIRK_EMPTY_VALUES: return "empty_values";
    case FCS_QUIRK_DATA_END_PLUS1: return "data_end_plus1";
    case FCS_QUIRK_DATA_PAST_EOF: return "data_past_eof";
    case FCS_QUIRK_HEADER_TEXT: return "header_text";
    case FCS_QUIRK_PNB10_AS_16: return "pnb10_as_16";
    case FCS_QUIRK_NO_FINAL_DELIM: return "no_final_delim";
    case FCS_QUIRK_LOG_F2_ZERO: return "log_f2_zero";
    default: return "?";
    }
}

int fcs__quirk_want_empty_values(int delim_keys)
{
    return delim_keys > 0;
}

int fcs__quirk_pnb_padded(int64_t data_len, int64_t tot, int64_t padded_row,
                          int64_t packed_row_bits)
{
    if (data_len < 0 || tot <= 0 || padded_row <= 0)
        return 0;
    if (tot > INT64_MAX / padded_row)
        return 0;
    int64_t padded = tot * padded_row;
    int64_t packed = (tot * packed_row_bits + 7) / 8;
    if (padded == packed)
        return 0;
    return data_len == padded || data_len == padded + 1;
}

int fcs__quirk_end_plus1(int64_t len, int64_t expect)
{
    return expect >= 0 && len == expect + 1;
}

unsigned fcs_quirks(const fcs_file *f)
{
    return f && f->ds.ok ? f->ds.quirks : 0;
}

int64_t fcs_data_offset(const fcs_file *f)
{
    return f && f->ds.ok ? f->ds.data_b : -1;
}

int64_t fcs_data_length(const fcs_file *f)
{
    return f && f->ds.ok ? f->ds.data_len : -1;
}

double fcs_time_step(const fcs_file *f)
{
    return f && f->ds.ok && f->ds.has_timestep ? f->ds.timestep : 0;
}

int64_t fcs__quirk_implausible(const fcs_ds *ds, const uint8_t *p,
                               int64_t avail, int64_t nev, int64_t *checked)
{
    *checked = 0;
    if (ds->packed || ds->datatype == 'A' || ds->npar <= 0)
        return -1;
    int64_t row = 0;
    for (int j = 0; j < ds->npar; j++)
        row += ds->dec[j].nbytes;
    if (row <= 0 || row > INT32_MAX)
        return -1;
    /* up to 4096 events or 256 KiB of DATA, at least one event */
    int64_t n = nev;
    if (n > avail / row)
        n = avail / row;
    int64_t lim = ((int64_t)256 << 10) / row;
    if (lim < 1)
        lim = 1;
    if (n > lim)
        n = lim;
    if (n > 4096)
        n = 4096;
    if (n <= 0)
        return -1;
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return -1;
    int64_t bad = 0;
    int off = 0;
    for (int j = 0; j < ds->npar; j++) {
        fcs_pdec d = ds->dec[j];
        d.off = off;
        off += d.nbytes;
        d.mask = ~(uint64_t)0; /* see what is stored, not what is kept */
        fcs__decode_raw(&d, p, (int)row, n, v);
        double r = ds->par[j].range;
        for (int64_t i = 0; i < n; i++) {
            double x = v[i];
            if (d.kind == FCS_K_UINT)
                bad += r > 0 && x > r;
            else
                bad += !isfinite(x) || fabs(x) > 1e30 ||
                       (x != 0 && fabs(x) < 1e-30);
        }
        *checked += n;
    }
    free(v);
    return bad;
}
