/*
 * cgerr.h -- the library's one error record, cg_err, and its setters.
 *
 * Defined in fcs/errors.h (the lowest layer) so the FCS reader, the gating
 * library and the run engine share one type and one code table; this
 * header is kept so gating/ and pipeline/ sources name what they use.
 */
#ifndef CG_CGERR_H
#define CG_CGERR_H

#include "errors.h"

#endif
