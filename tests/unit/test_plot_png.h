/*
 * test_plot_png.h -- helpers for the plot tests: decode a PNG with libpng
 * (pixels as RGBA bytes, tEXt chunks as key/value pairs), look at pixels,
 * compare files byte for byte, and make deterministic synthetic events.
 */
#ifndef CG_TEST_PLOT_PNG_H
#define CG_TEST_PLOT_PNG_H

#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tpng {
    int w, h;
    unsigned char *rgba; /* w*h*4 */
    int ntext;
    char key[16][80];
    char val[16][256];
    int has_time; /* a tIME chunk was present */
} tpng;

static inline int tpng_read(const char *path, tpng *o)
{
    memset(o, 0, sizeof *o);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
                                             NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        return -1;
    }
    png_init_io(png, fp);
    png_read_png(png, info, PNG_TRANSFORM_EXPAND | PNG_TRANSFORM_STRIP_16,
                 NULL);
    o->w = (int)png_get_image_width(png, info);
    o->h = (int)png_get_image_height(png, info);
    int ct = png_get_color_type(png, info);
    int ch = png_get_channels(png, info);
    png_bytepp rows = png_get_rows(png, info);
    o->rgba = malloc((size_t)o->w * o->h * 4);
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++)
            for (int k = 0; k < 4; k++)
                o->rgba[((size_t)y * o->w + x) * 4 + k] =
                    k < ch ? rows[y][x * ch + k] : 255;
    (void)ct;
    png_textp txt;
    int nt = 0;
    png_get_text(png, info, &txt, &nt);
    for (int i = 0; i < nt && i < 16; i++) {
        snprintf(o->key[i], sizeof o->key[i], "%s", txt[i].key);
        snprintf(o->val[i], sizeof o->val[i], "%s", txt[i].text);
    }
    o->ntext = nt < 16 ? nt : 16;
    o->has_time = png_get_valid(png, info, PNG_INFO_tIME) != 0;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    return 0;
}

static inline void tpng_free(tpng *o)
{
    free(o->rgba);
    o->rgba = NULL;
}

static inline const char *tpng_text(const tpng *o, const char *key)
{
    for (int i = 0; i < o->ntext; i++)
        if (strcmp(o->key[i], key) == 0)
            return o->val[i];
    return NULL;
}

static inline const unsigned char *tpng_px(const tpng *o, int x, int y)
{
    static const unsigned char none[4] = {0, 0, 0, 0};
    if (x < 0 || y < 0 || x >= o->w || y >= o->h)
        return none;
    return o->rgba + ((size_t)y * o->w + x) * 4;
}

/* Darkest pixel (max over RGB) within r pixels of (x, y). */
static inline int tpng_darkest(const tpng *o, double x, double y, int r)
{
    int best = 255 * 3;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            const unsigned char *p =
                tpng_px(o, (int)floor(x) + dx, (int)floor(y) + dy);
            int m = p[0] > p[1] ? p[0] : p[1];
            m = m > p[2] ? m : p[2];
            if (p[3] == 255 && m < best)
                best = m;
        }
    return best;
}

static inline int tpng_is_white(const unsigned char *p)
{
    return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

/* Whole files equal?  1 yes, 0 no, -1 unreadable. */
static inline int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = -1;
    if (fa && fb) {
        eq = 1;
        int ca, cb;
        do {
            ca = fgetc(fa);
            cb = fgetc(fb);
            if (ca != cb) {
                eq = 0;
                break;
            }
        } while (ca != EOF);
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

/* Deterministic normal deviates (xorshift + Box-Muller). */
typedef struct trng {
    uint64_t s;
    int have;
    double spare;
} trng;

static inline double trng_u(trng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return ((r->s >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static inline double trng_norm(trng *r)
{
    if (r->have) {
        r->have = 0;
        return r->spare;
    }
    double u = trng_u(r), v = trng_u(r);
    double m = sqrt(-2 * log(u));
    r->spare = m * sin(2 * M_PI * v);
    r->have = 1;
    return m * cos(2 * M_PI * v);
}

#endif
