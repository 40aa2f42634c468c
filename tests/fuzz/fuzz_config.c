/*
 * fuzz_config.c -- libFuzzer target for the YAML config parser (and the
 * sample-sheet CSV parser on the same bytes).  Every input must either
 * load or be refused with a message; a loaded config must satisfy the
 * invariants checked below.  Replayed without libFuzzer by replay.c over
 * tests/fuzz/corpus/config/ (label fuzz).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_err err = {0};
    cg_config *c = cg_config_parse((const char *)data, size, "fuzz.yaml", &err);
    if (!c) {
        if (!err.msg[0])
            abort(); /* refused without a reason */
    } else {
        for (int i = 0; i < c->ngates; i++) {
            const cg_gate_spec *g = &c->gates[i];
            if (g->parent >= i || !g->name)
                abort(); /* parents come first */
            for (int d = 0; d < g->ndims; d++)
                if (cg_config_marker(c, g->dims[d].marker) < 0 &&
                    cg_config_role(c, g->dims[d].marker) < 0)
                    abort();
        }
        for (int i = 0; i < c->nmetrics; i++)
            if (c->metrics[i].num < 0 || c->metrics[i].num >= c->ngates ||
                c->metrics[i].den < 0 || c->metrics[i].den >= c->ngates)
                abort();
        cg_config_free(c);
    }
    cg_sheet *s = cg_sheet_parse((const char *)data, size, "fuzz.csv", &err);
    cg_sheet_free(s);
    return 0;
}
