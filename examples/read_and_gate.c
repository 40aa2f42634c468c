/*
 * read_and_gate.c -- the smallest complete use of libcytogate: open an FCS
 * file, read its events into a frame (scaled values), apply a rectangle
 * gate on one or two channels (uncompensated, no transform) and print how
 * many events fall inside.
 *
 *   read_and_gate FILE XCHAN XMIN XMAX [YCHAN YMIN YMAX]
 *
 * Output: one line "<inside>\t<total>".  The gate is min <= x < max per
 * dimension (Gating-ML 2.0 rectangle); "-inf"/"inf" leave an end open.
 *
 * It includes only the installed headers, so it builds outside the source
 * tree with
 *   cc read_and_gate.c $(pkg-config --cflags --libs cytogate)
 * Single-threaded; every object is freed before exit.
 */
#include <cytogate/bits.h>
#include <cytogate/dims.h>
#include <cytogate/fcs.h>
#include <cytogate/frame.h>
#include <cytogate/gate.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int usage(void)
{
    fprintf(stderr, "usage: read_and_gate FILE XCHAN XMIN XMAX "
                    "[YCHAN YMIN YMAX]\n");
    return 1;
}

static int bound(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 8)
        return usage();
    const char *path = argv[1];
    int ndim = argc == 5 ? 1 : 2;
    double lo[2], hi[2];
    for (int d = 0; d < ndim; d++)
        if (bound(argv[3 + 3 * d], &lo[d]) || bound(argv[4 + 3 * d], &hi[d]))
            return usage();

    fcs_err ferr = {0};
    cg_err err = {0};
    cg_frame *fr = NULL;
    cg_dims *dc = NULL;
    cg_gate *g = NULL;
    cg_bits *in = NULL;
    cg_dim dims[2];
    int rc = 2;
    for (int d = 0; d < 2; d++)
        cg_dim_init(&dims[d]);

    /* 1. the file: opened, read whole into a frame, closed */
    fcs_file *f = fcs_open(path, NULL, &ferr);
    if (!f) {
        fprintf(stderr, "read_and_gate: %s: %s\n", path, ferr.msg);
        return 2;
    }
    fr = cg_frame_from_fcs(f, FCS_SCALED, &err);
    fcs_close(f);
    if (!fr)
        goto fail;

    /* 2. the gate: one dimension per channel, no compensation */
    for (int d = 0; d < ndim; d++)
        if (cg_dim_set_channel(&dims[d], argv[2 + 3 * d], CG_COMP_NONE, NULL,
                               &err) < 0)
            goto fail;
    g = cg_gate_rect_new("rect", ndim, dims, lo, hi, &err);
    if (!g)
        goto fail;

    /* 3. evaluate on every event (no parent) and count */
    dc = cg_dims_new(fr, NULL, &err);
    in = cg_bits_new(fr->n);
    if (!dc || !in)
        goto fail;
    if (cg_gate_eval(g, dc, NULL, &in, &err) < 0)
        goto fail;
    printf("%" PRId64 "\t%" PRId64 "\n", cg_bits_count(in), fr->n);
    rc = 0;
    goto done;

fail:
    fprintf(stderr, "read_and_gate: %s: %s\n", path,
            err.msg[0] ? err.msg : "out of memory");
done:
    cg_bits_free(in);
    cg_dims_free(dc);
    cg_gate_free(g);
    for (int d = 0; d < 2; d++)
        cg_dim_clear(&dims[d]);
    cg_frame_free(fr);
    return rc;
}
