/*
 * fuzz_fcs_read.c -- libFuzzer target for the FCS reader and writer:
 * open from memory -> every data set: raw and scaled values of all
 * events, keywords, spillover -> write FCS 3.1 -> read back and compare.
 *
 * It aborts only on broken invariants: the reader's own promises (event
 * counts within what the buffer holds, parameter info present) and the
 * round trip (raw values equal the float32 of what was written; copied
 * keywords read back identical).  Inputs the writer refuses (duplicate
 * names, no usable delimiter) are fine.  Built with -fsanitize=fuzzer when
 * CYTOGATE_FUZZ=ON; tests/fuzz/replay.c runs the same function over the
 * kept corpus as an ordinary test.
 * Threading: single-threaded (one temp file per process).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fcs.h"

#define FUZZ_ASSERT(c)                                                       \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #c,       \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

static int writer_owned(const char *k)
{
    static const char *const fixed[] = {
        "$BEGINANALYSIS", "$ENDANALYSIS", "$BEGINDATA", "$ENDDATA",
        "$BEGINSTEXT", "$ENDSTEXT", "$BYTEORD", "$DATATYPE", "$MODE",
        "$NEXTDATA", "$PAR", "$TOT", "$SPILLOVER"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strcasecmp(k, fixed[i]) == 0)
            return 1;
    if (k[0] == '$' && (k[1] == 'P' || k[1] == 'p') && k[2] >= '1' &&
        k[2] <= '9') {
        const char *c = k + 2;
        while (*c >= '0' && *c <= '9')
            c++;
        if ((c[0] && !c[1] && strchr("BENRSbenrs", c[0])) ||
            strcasecmp(c, "DATATYPE") == 0)
            return 1;
    }
    return 0;
}

static void roundtrip(fcs_file *f, double **cols, int np, int64_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_fcs_%ld.fcs", (long)getpid());
    fcs_wparam *wp = calloc((size_t)np, sizeof *wp);
    int nk = fcs_n_keywords(f);
    fcs_kv *kv = calloc((size_t)(nk ? nk : 1), sizeof *kv);
    if (!wp || !kv)
        goto out;
    for (int j = 0; j < np; j++) {
        const fcs_param *p = fcs_param_info(f, j);
        wp[j].name = p->name;
        wp[j].label = p->label;
        wp[j].range = p->range;
    }
    for (int k = 0; k < nk; k++)
        FUZZ_ASSERT(fcs_keyword_at(f, k, &kv[k].key, &kv[k].value) == 0);
    fcs_spill *sp = NULL;
    fcs_err err;
    if (fcs_spillover(f, &sp, &err) < 0)
        sp = NULL;
    int rc = fcs_write(path, np, wp, n, (const double *const *)cols, kv, nk,
                       sp, NULL, &err);
    fcs_spill_free(sp);
    if (rc < 0)
        goto out;
    fcs_file *g = fcs_open(path, NULL, &err);
    if (!g)
        fprintf(stderr, "reread failed: %s\n", err.msg);
    FUZZ_ASSERT(g != NULL);
    FUZZ_ASSERT(fcs_n_params(g) == np);
    FUZZ_ASSERT(fcs_n_events(g) == n);
    for (int j = 0; j < np; j++)
        FUZZ_ASSERT(strcmp(fcs_param_info(g, j)->name,
                           fcs_param_info(f, j)->name) == 0);
    for (int k = 0; k < nk; k++) {
        if (!kv[k].value[0] || writer_owned(kv[k].key))
            continue;
        const char *v = fcs_keyword(g, kv[k].key);
        if (!v || strcmp(v, kv[k].value) != 0)
            fprintf(stderr, "keyword %s: '%s' != '%s'\n", kv[k].key,
                    v ? v : "(null)", kv[k].value);
        FUZZ_ASSERT(v && strcmp(v, kv[k].value) == 0);
    }
    if (n > 0) {
        double *c = malloc((size_t)n * sizeof *c);
        double **cc = calloc((size_t)np, sizeof *cc);
        if (c && cc) {
            for (int j = 0; j < np; j++) {
                memset(cc, 0, (size_t)np * sizeof *cc);
                cc[j] = c;
                FUZZ_ASSERT(fcs_read_double(g, FCS_RAW, 0, n, cc, &err) == n);
                for (int64_t i = 0; i < n; i++) {
                    float w = (float)cols[j][i];
                    FUZZ_ASSERT((isnan(w) && isnan(c[i])) || c[i] == (double)w);
                }
            }
        }
        free(c);
        free(cc);
    }
    fcs_close(g);
    unlink(path);
out:
    free(wp);
    free(kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fcs_err err;
    fcs_file *f = fcs_open_mem(data, size, NULL, &err);
    if (!f) {
        FUZZ_ASSERT(err.code != 0 && err.msg[0]);
        return 0;
    }
    int nds = fcs_n_datasets(f);
    FUZZ_ASSERT(nds >= 1);
    for (int d = 0; d < nds; d++) {
        if (fcs_select_dataset(f, d, &err) < 0)
            continue;
        int np = fcs_n_params(f);
        int64_t n = fcs_n_events(f);
        FUZZ_ASSERT(np >= 1 && n >= 0);
        /* the reader promises n never exceeds what the buffer can hold */
        FUZZ_ASSERT(n <= (int64_t)size * 8 + 1);
        for (int k = 0; k < fcs_n_keywords(f); k++) {
            const char *key, *val;
            FUZZ_ASSERT(fcs_keyword_at(f, k, &key, &val) == 0);
            FUZZ_ASSERT(fcs_keyword(f, key) == val);
        }
        for (int j = 0; j < np; j++)
            FUZZ_ASSERT(fcs_param_info(f, j) && fcs_param_info(f, j)->name);
        if ((double)n * np > 4e6)
            continue;
        double **cols = calloc((size_t)np, sizeof *cols);
        int ok = cols != NULL;
        for (int j = 0; ok && j < np; j++)
            ok = (cols[j] = malloc((size_t)(n ? n : 1) * sizeof(double))) != 0;
        if (ok && n > 0) {
            FUZZ_ASSERT(fcs_read_double(f, FCS_SCALED, 0, n, cols, &err) == n);
            FUZZ_ASSERT(fcs_read_double(f, FCS_RAW, n - 1, 5, cols, &err) == 1);
            FUZZ_ASSERT(fcs_read_double(f, FCS_RAW, n, 1, cols, &err) == -1);
            FUZZ_ASSERT(fcs_read_double(f, FCS_RAW, 0, n, cols, &err) == n);
        }
        fcs_spill *sp = NULL;
        if (fcs_spillover(f, &sp, &err) == 1)
            FUZZ_ASSERT(sp && sp->n >= 1 && sp->names && sp->m);
        fcs_spill_free(sp);
        if (ok)
            roundtrip(f, cols, np, n);
        for (int j = 0; cols && j < np; j++)
            free(cols[j]);
        free(cols);
    }
    fcs_close(f);
    return 0;
}
