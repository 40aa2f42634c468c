/*
 * xmlread.c -- one XML document from a file or memory, with located
 * errors (see xmlread.h).
 */
#include "xmlread.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

xmlDoc *cg_xml_read(const char *buf, size_t n, const char *path,
                    const char *name, int huge, const char *what,
                    cg_err *err)
{
    if (path) {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            cg_err_set(err, CG_E_IO, "%s: %s", path, strerror(errno));
            return NULL;
        }
        fclose(fp);
    } else if (n > (size_t)2147483647) {
        cg_err_set(err, CG_E_ARG, "%s: too large", name);
        return NULL;
    }
    xmlInitParser();
    xmlParserCtxt *ctx = xmlNewParserCtxt();
    if (!ctx) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    int opts = XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING |
               XML_PARSE_NOERROR | (huge ? XML_PARSE_HUGE : 0);
    xmlDoc *doc = path ? xmlCtxtReadFile(ctx, path, NULL, opts)
                       : xmlCtxtReadMemory(ctx, buf, (int)n, name, NULL, opts);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        if (e && e->message) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t l = strlen(msg);
            while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
                msg[--l] = 0;
            cg_err_setl(err, path && e->code == XML_IO_LOAD_ERROR ? CG_E_IO
                                                                  : CG_E_PARSE,
                        e->line, "%s:%d: %s%s", name, e->line, what, msg);
        } else {
            cg_err_set(err, CG_E_IO, "%s: cannot read", name);
        }
    }
    xmlFreeParserCtxt(ctx);
    return doc;
}
