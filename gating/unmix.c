/*
 * unmix.c -- spectral unmixing: reference spectra (fluorochromes x
 * detectors) turn detector channels into fluorochrome abundance channels
 * by ordinary least squares, a = argmin |observed - a S| per event.
 *
 * The pseudo-inverse comes from LAPACK QR (dgels) and is applied in event
 * blocks with BLAS, through cg_comp_apply() (comp.c), which also pins BLAS
 * to one thread.  New columns are allocated once and handed to the frame.
 * Threading: one frame per thread.
 */
#include "comp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_unmix(cg_frame *fr, const cg_matrix *spectra, cg_err *err)
{
    if (!fr || !spectra)
        return cg_err_set(err, CG_E_ARG, "cg_unmix: no frame or spectra");
    int nf = spectra->nrow, nd = spectra->ncol;
    if (nf > nd)
        return cg_err_set(err, CG_E_ARG, "%d spectra over %d detectors: "
                          "cannot unmix more signals than detectors", nf,
                          nd);
    for (int i = 0; i < nf; i++) {
        if (!spectra->row[i] || !spectra->row[i][0])
            return cg_err_set(err, CG_E_ARG, "spectrum %d has no name",
                              i + 1);
        if (cg_frame_find(fr, spectra->row[i]) >= 0)
            return cg_err_set(err, CG_E_ARG, "the data already have a "
                              "channel named '%s' (spectrum %d)",
                              spectra->row[i], i + 1);
    }
    const double **in = malloc((size_t)nd * sizeof *in);
    double **out = calloc((size_t)nf, sizeof *out);
    int rc = 0;
    if (!in || !out) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    char missing[200];
    size_t ml = 0;
    int nmiss = 0;
    missing[0] = '\0';
    for (int j = 0; j < nd; j++) {
        const char *nm = spectra->col[j] ? spectra->col[j] : "";
        int c = cg_frame_find(fr, nm);
        if (c < 0) {
            int w = snprintf(missing + ml, sizeof missing - ml, "%s%s",
                             nmiss ? ", " : "", nm);
            if (w > 0 && ml + (size_t)w < sizeof missing)
                ml += (size_t)w;
            nmiss++;
            continue;
        }
        in[j] = fr->col[c];
    }
    if (nmiss) {
        rc = cg_err_set(err, CG_E_CHANNEL, "spectra name %d detector(s) the "
                        "data lack: %s", nmiss, missing);
        goto done;
    }
    for (int i = 0; i < nf; i++)
        if (!(out[i] = malloc((size_t)(fr->n ? fr->n : 1) *
                              sizeof *out[i]))) {
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
            goto done;
        }
    rc = cg_comp_apply(spectra, 0, in, out, fr->n, err);
    if (rc < 0)
        goto done;
    for (int i = 0; i < nf; i++) {
        if ((rc = cg_frame_add(fr, spectra->row[i], NULL, 0, out[i], err)) <
            0) {
            out[i] = NULL; /* cg_frame_add frees a column it cannot take */
            goto done;
        }
        out[i] = NULL;
        rc = 0;
    }
done:
    if (out)
        for (int i = 0; i < nf; i++)
            free(out[i]);
    free(out);
    free(in);
    return rc;
}
