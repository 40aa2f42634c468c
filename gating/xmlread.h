/*
 * xmlread.h -- one XML document from a file or memory, with located
 * errors: the reader behind Gating-ML and FlowJo workspaces.  Internal
 * (shared with pipeline/), not installed.
 */
#ifndef CG_XMLREAD_H
#define CG_XMLREAD_H

#include <stddef.h>

#include <libxml/tree.h>

#include "cgerr.h"

/* Parse path (when not NULL) or the n bytes at buf, without network
 * access, warnings or stderr output; name is what messages call the
 * input.  huge lifts libxml2's size limits (FlowJo workspaces).  Owned
 * (xmlFreeDoc) or NULL with err: CG_E_NOMEM; CG_E_IO "NAME: why" when
 * the file cannot be opened or loaded; CG_E_ARG "NAME: too large" over
 * 2 GiB in memory; CG_E_PARSE at the line, "NAME:LINE: <what><libxml2's
 * message>". */
xmlDoc *cg_xml_read(const char *buf, size_t n, const char *path,
                    const char *name, int huge, const char *what,
                    cg_err *err);

#endif
