/*
 * export_gml.h -- `cytogate run --export-gatingml`: the gates a run placed
 * for one sample, as Gating-ML 2.0 (gatingml/<sample_id>.xml).
 *
 * The export rebuilds the sample's gate tree from the config and the
 * result (placed thresholds, scatter/singlets polygons, the transforms
 * with this sample's logicle T/W/M, the compensation applied) so that
 * `cytogate gate --gatingml FILE SAMPLE.fcs` gives every population the
 * count the run gave it.  Gates that could not be evaluated (NA), dropped
 * optional dimensions and anything that cannot be expressed are left out
 * with an XML comment saying why.
 *
 * Threading: no shared state; one call per sample from the main thread.
 */
#ifndef CG_EXPORT_GML_H
#define CG_EXPORT_GML_H

#include "cgerr.h"
#include "run.h"

/* Write <dir>/gatingml/<sample_id>.xml for sample i (ctx->sheet->s[i],
 * result r).  A failed sample (r->ok == 0) writes nothing and returns 0.
 * 0, or < 0 with err naming the file. */
int cg_export_gml_sample(const cg_run_ctx *ctx, int i, const cg_result *r,
                         const char *dir, cg_err *err);

/* The same document as a malloc'd NUL-terminated string (*out owned,
 * free()).  0 or < 0 with err. */
int cg_export_gml_mem(const cg_run_ctx *ctx, int i, const cg_result *r,
                      char **out, cg_err *err);

#endif
