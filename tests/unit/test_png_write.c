/*
 * test_png_write.c -- cgp_png_write: an opaque image is written as RGB,
 * one with any translucent pixel as RGBA (un-premultiplied); decoded
 * pixels and tEXt chunks are exact either way, and equal input gives
 * equal bytes.
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"
#include "test_plot_png.h"
#include "testutil.h"

static int color_type(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char h[26];
    int ct = -1;
    if (fp && fread(h, 1, sizeof h, fp) == sizeof h)
        ct = h[25]; /* IHDR color type */
    if (fp)
        fclose(fp);
    return ct;
}

static long file_bytes(const char *path, unsigned char **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *out = malloc((size_t)n);
    if (fread(*out, 1, (size_t)n, fp) != (size_t)n)
        n = -1;
    fclose(fp);
    return n;
}

int main(void)
{
    enum { W = 7, H = 5 };
    uint32_t px[W * H];
    for (int i = 0; i < W * H; i++) /* opaque, premultiplied = straight */
        px[i] = 0xff000000u | (uint32_t)(i * 7) << 16 |
                (uint32_t)(255 - i) << 8 | (uint32_t)(i * 3);
    char *keys[1] = {"Sample"}, *vals[1] = {"S01"};
    char p1[600], p2[600], p3[600];
    snprintf(p1, sizeof p1, "%s/png_write_opaque.png", CG_TEST_OUT);
    snprintf(p2, sizeof p2, "%s/png_write_alpha.png", CG_TEST_OUT);
    snprintf(p3, sizeof p3, "%s/png_write_opaque2.png", CG_TEST_OUT);
    cg_err e = {0};
    REQUIRE(cgp_png_write(p1, (const unsigned char *)px, W, H, W * 4, keys,
                          vals, 1, &e) == 0);
    CHECK_INT(color_type(p1), 2); /* RGB */
    tpng t;
    REQUIRE(tpng_read(p1, &t) == 0);
    CHECK_INT(t.w, W);
    CHECK_INT(t.h, H);
    int bad = 0;
    for (int i = 0; i < W * H; i++)
        bad += t.rgba[4 * i] != ((px[i] >> 16) & 255) ||
               t.rgba[4 * i + 1] != ((px[i] >> 8) & 255) ||
               t.rgba[4 * i + 2] != (px[i] & 255) || t.rgba[4 * i + 3] != 255;
    CHECK_INT(bad, 0);
    CHECK_STR(tpng_text(&t, "Sample"), "S01");
    tpng_free(&t);
    /* same input, same bytes */
    REQUIRE(cgp_png_write(p3, (const unsigned char *)px, W, H, W * 4, keys,
                          vals, 1, &e) == 0);
    unsigned char *b1 = NULL, *b3 = NULL;
    long n1 = file_bytes(p1, &b1), n3 = file_bytes(p3, &b3);
    CHECK(n1 > 0 && n1 == n3 && memcmp(b1, b3, (size_t)n1) == 0);
    free(b1);
    free(b3);

    /* one translucent pixel: RGBA, straight alpha */
    px[W + 2] = 0x80u << 24 | 0x40u << 16 | 0x20u << 8 | 0x10u;
    REQUIRE(cgp_png_write(p2, (const unsigned char *)px, W, H, W * 4, keys,
                          vals, 1, &e) == 0);
    CHECK_INT(color_type(p2), 6); /* RGBA */
    REQUIRE(tpng_read(p2, &t) == 0);
    const unsigned char *q = t.rgba + 4 * (W + 2);
    CHECK_INT(q[3], 0x80);
    CHECK_INT(q[0], (0x40 * 255 + 0x40) / 0x80); /* un-premultiplied */
    CHECK_INT(q[1], (0x20 * 255 + 0x40) / 0x80);
    CHECK_INT(q[2], (0x10 * 255 + 0x40) / 0x80);
    CHECK_INT(t.rgba[3], 255);
    CHECK_INT(t.rgba[0], 0);
    tpng_free(&t);
    return TEST_DONE();
}
