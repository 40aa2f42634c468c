/*
 * opencyto.h -- openCyto CSV gating templates as cytogate configs
 * (`cytogate run -c template.csv`).
 *
 * A template (columns alias, pop, parent, dims, gating_method,
 * gating_args, collapseDataForGating, groupBy, preprocessing_method,
 * preprocessing_args) is translated into the YAML text of an equivalent
 * config, which then goes through the ordinary config parser.  Methods:
 * gate_mindensity/mindensity -> valley, tailgate/gate_tail -> tail,
 * gate_quantile/quantileGate -> quantile, flowClust (2-D on scatter) ->
 * scatter, singletGate -> singlets, boolGate -> boolean.  Anything else
 * (refGate, pooled gating, preprocessing, ...) is refused with an error
 * naming the CSV line and the row's alias.  README "openCyto templates"
 * lists the mapping and the gating_args understood.
 *
 * Ownership: returned strings and configs are owned by the caller.
 * Threading: no shared state.
 */
#ifndef CG_OPENCYTO_H
#define CG_OPENCYTO_H

#include <stddef.h>

#include "cgerr.h"
#include "config.h"

/* 1 when path names an openCyto template (ends in ".csv", any case). */
int cg_opencyto_is_template(const char *path);

/* Translate template text to config YAML.  *yaml owned (free()); with
 * rowline non-NULL, *rowline (owned) maps each YAML line (1-based index)
 * to the CSV line it came from (0: none).  0, or < 0 with err (err->line:
 * the CSV line). */
int cg_opencyto_to_yaml(const char *buf, size_t n, char **yaml,
                        int **rowline, int *nrowline, cg_err *err);

/* Read, translate and parse a template; cfg->text is the CSV as read.
 * Parse errors are reported on the CSV line of the offending row.  Owned
 * config, or NULL with err. */
cg_config *cg_opencyto_load(const char *path, cg_err *err);

#endif
