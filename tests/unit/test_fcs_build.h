/*
 * test_fcs_build.h -- in-memory FCS file builder for the fcs unit tests.
 */
#ifndef TEST_FCS_BUILD_H
#define TEST_FCS_BUILD_H

#include <stddef.h>
#include <stdint.h>

#define TB_NO_TEXT_OFFSETS 0x1u /* no $BEGINDATA/$ENDDATA in TEXT */
#define TB_HDR_ZERO 0x2u        /* HEADER DATA offsets 0,0 */
#define TB_END_PLUS1 0x4u       /* DATA end offsets one byte too far */
#define TB_NO_FINAL_DELIM 0x8u  /* drop TEXT's final delimiter */
#define TB_RAW_TEXT 0x10u       /* kv[0] is the whole TEXT, verbatim */
#define TB_HDR_SHIFT 0x20u      /* HEADER DATA begin 16 bytes too early */

/* HEADER + TEXT (kv: NULL-terminated key, value pairs, escaped with the
 * doubled delimiter) + data.  Owned (free()); *outn gets the size. */
uint8_t *tb_build(const char *version, const char *const *kv, const void *data,
                  size_t dlen, char delim, unsigned flags, size_t *outn);

#endif
