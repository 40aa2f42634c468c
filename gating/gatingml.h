/*
 * gatingml.h -- Gating-ML 2.0 import and export (libxml2).
 *
 * Import reads RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate and
 * BooleanGate, transforms:transformation (flin, flog, fasinh, logicle,
 * hyperlog, fratio; boundMin/boundMax) and transforms:spectrumMatrix
 * (matrix-inverted-already) into a cg_gatetree.  Elements are matched by
 * namespace URI, not prefix.  data-type:custom_info is skipped.  Any other
 * element, a missing required attribute or a dangling reference is an
 * error naming the file, line and element.
 *
 * Export writes a tree back as Gating-ML 2.0 that validates against the
 * ISAC XSDs; transforms and matrices get their original ids when known,
 * generated ones otherwise.
 *
 * Ownership: the returned tree is owned (cg_gatetree_free).
 * Threading: no shared state; libxml2 is initialised on first use.
 */
#ifndef CG_GATINGML_H
#define CG_GATINGML_H

#include <stddef.h>

#include "cgerr.h"
#include "gatetree.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CG_GML_NS_GATING "http://www.isac-net.org/std/Gating-ML/v2.0/gating"
#define CG_GML_NS_XFORM \
    "http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
#define CG_GML_NS_DTYPE "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"

/* Read a Gating-ML 2.0 file.  NULL with err (err->line set) on failure. */
cg_gatetree *cg_gatingml_read(const char *path, cg_err *err);
/* Same from memory; name is used in messages. */
cg_gatetree *cg_gatingml_read_mem(const char *buf, size_t n, const char *name,
                                  cg_err *err);

/* Write t to path atomically (temporary file + rename).  0 or < 0. */
int cg_gatingml_write(const cg_gatetree *t, const char *path, cg_err *err);
/* To a malloc'd NUL-terminated buffer (*out owned, free()).  0 or < 0. */
int cg_gatingml_write_mem(const cg_gatetree *t, char **out, size_t *n,
                          cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
