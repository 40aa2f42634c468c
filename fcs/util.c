/*
 * util.c -- small shared pieces of libfcs: located error records,
 * the per-handle warning list, keyword number parsing, the keyword
 * table (case-insensitive hash over keys kept in TEXT order), and
 * fcs_alloc_big() for buffers of many MB (file bytes, event columns).
 *
 * Invariants: the keyword table's hash holds index+1 of every entry, load
 * factor <= 1/2; warnings are capped at FCS_MAX_WARNINGS per handle (the
 * rest are counted, and one summary line is added), so a hostile file
 * cannot make the list grow without bound.
 * Threading: no globals; everything hangs off a handle.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "fcs_internal.h"

/* Large buffers: 2 MiB-aligned and advised for transparent huge pages.
 * A fresh 4 KiB page costs one fault (several microseconds in a VM); a
 * 56 MB file read into malloc'd memory and its 112 MB of columns cost
 * ~40,000 of them, a third of a whole `cytogate gate` process.  With
 * MADV_HUGEPAGE (THP "madvise" mode, the Debian default) the same bytes
 * fault ~85 times.  Where the advice is refused the block still works. */
#define BIG_MIN ((size_t)4 << 20)
#define BIG_ALIGN ((size_t)2 << 20)

void *fcs_alloc_big(size_t n)
{
    if (n < BIG_MIN)
        return malloc(n ? n : 1);
    if (n > SIZE_MAX - BIG_ALIGN)
        return NULL;
    size_t len = (n + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1);
    void *p = NULL;
    if (posix_memalign(&p, BIG_ALIGN, len) != 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

int fcs__err(fcs_err *err, int code, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return -2;
    err->code = code;
    err->line = 0;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if (offset >= 0 && (size_t)k < sizeof err->msg)
        snprintf(err->msg + k, sizeof err->msg - (size_t)k, " (at byte %lld)",
                 (long long)offset);
    return -2;
}

void fcs__warn(fcs_file *f, const char *fmt, ...)
{
    if (!f)
        return;
    if (f->nwarn >= FCS_MAX_WARNINGS) {
        f->warn_dropped++;
        return;
    }
    if (f->nwarn == f->wcap) {
        int nc = f->wcap ? f->wcap * 2 : 8;
        char **nw = realloc(f->warn, (size_t)nc * sizeof *nw);
        if (!nw)
            return;
        f->warn = nw;
        f->wcap = nc;
    }
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Latin-1 / control bytes from keywords: keep printable ASCII only. */
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    char *s = strdup(buf);
    if (!s)
        return;
    f->warn[f->nwarn++] = s;
}

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return s;
}

int fcs__num(const char *s, double *out)
{
    if (!s)
        return -1;
    s = skip_blank(s);
    if (!*s)
        return -1;
    /* strtod also accepts hex, inf and nan; keywords are decimal only. */
    for (const char *c = s; *c; c++)
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == '-' ||
              *c == '+' || *c == 'e' || *c == 'E' || *c == ' ' ||
              *c == '\t' || *c == '\r' || *c == '\n'))
            return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return -1;
    if (*skip_blank(end))
        return -1;
    *out = v;
    return 0;
}

int fcs__int(const char *s, int64_t *out)
{
    if (!s)
        return -1;
    s = skip_blank(s);
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (*skip_blank(s))
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* ---- keyword table ----------------------------------------------------- */

/* FNV-1a over the lower-cased key, then the murmur3 finaliser: FNV's low
 * bits (the ones the table mask keeps) cluster for keys that differ only
 * in digits ("$P1N" ... "$P100000N"), which made lookups in a wide TEXT
 * probe long runs; the finaliser spreads every input bit. */
static uint32_t khash(const char *k)
{
    uint32_t h = 2166136261u;
    for (; *k; k++) {
        h ^= (uint32_t)tolower((unsigned char)*k);
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static int kw_find(const fcs_kwtab *t, const char *key, uint32_t h)
{
    if (!t->hcap)
        return -1;
    for (uint32_t i = h & (uint32_t)(t->hcap - 1);;
         i = (i + 1) & (uint32_t)(t->hcap - 1)) {
        int s = t->slot[i].idx;
        if (!s)
            return -(int)i - 2;
        if (t->slot[i].h == h && strcasecmp(t->kw[s - 1].key, key) == 0)
            return s - 1;
    }
}

static int kw_rehash(fcs_kwtab *t, int ncap)
{
    struct fcs_kwslot *ns = calloc((size_t)ncap, sizeof *ns);
    if (!ns)
        return -1;
    free(t->slot);
    t->slot = ns;
    t->hcap = ncap;
    for (int k = 0; k < t->n; k++) {
        uint32_t h = khash(t->kw[k].key);
        uint32_t i = h & (uint32_t)(ncap - 1);
        while (ns[i].idx)
            i = (i + 1) & (uint32_t)(ncap - 1);
        ns[i].idx = k + 1;
        ns[i].h = h;
    }
    return 0;
}

int fcs__kw_set(fcs_kwtab *t, const char *key, size_t klen, const char *val,
                size_t vlen)
{
    char *k = malloc(klen + 1), *v = malloc(vlen + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    memcpy(k, key, klen);
    k[klen] = '\0';
    memcpy(v, val, vlen);
    v[vlen] = '\0';
    uint32_t h = khash(k);
    int at = kw_find(t, k, h);
    if (at >= 0) {
        free(k);
        free(t->kw[at].val);
        t->kw[at].val = v;
        return 1;
    }
    if (t->n == t->cap) {
        int nc = t->cap ? t->cap * 2 : 64;
        fcs_kw *nk = realloc(t->kw, (size_t)nc * sizeof *nk);
        if (!nk) {
            free(k);
            free(v);
            return -1;
        }
        t->kw = nk;
        t->cap = nc;
    }
    t->kw[t->n].key = k;
    t->kw[t->n].val = v;
    t->n++;
    if (2 * t->n > t->hcap) {
        if (kw_rehash(t, t->hcap ? t->hcap * 2 : 128) < 0) {
            t->n--;
            free(k);
            free(v);
            return -1;
        }
    } else {
        uint32_t i = h & (uint32_t)(t->hcap - 1);
        while (t->slot[i].idx)
            i = (i + 1) & (uint32_t)(t->hcap - 1);
        t->slot[i].idx = t->n;
        t->slot[i].h = h;
    }
    return 0;
}

const char *fcs__kw_get(const fcs_kwtab *t, const char *key)
{
    int at = kw_find(t, key, khash(key));
    return at >= 0 ? t->kw[at].val : NULL;
}

void fcs__kw_free(fcs_kwtab *t)
{
    for (int k = 0; k < t->n; k++) {
        free(t->kw[k].key);
        free(t->kw[k].val);
    }
    free(t->kw);
    free(t->slot);
    memset(t, 0, sizeof *t);
}
