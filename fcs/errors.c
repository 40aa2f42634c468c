/*
 * errors.c -- static texts for the fcs error codes (errors.h X-macro).
 */
#include "errors.h"

static const char *const texts[] = {
#define FCS_ERR_TEXT_(name, text) text,
    FCS_ERRNO_MAP(FCS_ERR_TEXT_)
#undef FCS_ERR_TEXT_
};

static const char *const names[] = {
#define FCS_ERR_NAME_(name, text) #name,
    FCS_ERRNO_MAP(FCS_ERR_NAME_)
#undef FCS_ERR_NAME_
};

const char *fcs_strerror(int code)
{
    if (code < 0 || code >= FCS_E__COUNT)
        return "unknown error";
    return texts[code];
}

const char *fcs_err_name(int code)
{
    if (code < 0 || code >= FCS_E__COUNT)
        return "UNKNOWN";
    return names[code];
}
