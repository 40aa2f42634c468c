/*
 * failwrite_shim.c -- LD_PRELOAD fault injection for the output tests
 * (tests/cli/test_outdir.sh, issue 18): makes writes fail as on a full
 * or broken disk.
 *
 * fopen/fopen64 for writing ("w"/"a") of a path that contains
 * CG_FAIL_PATTERN (every path when unset) return a stdio stream over the
 * file whose writes fail with CG_FAIL_ERRNO ("ENOSPC", default, or "EIO")
 * once more than CG_FAIL_AFTER bytes (default 0) have been written
 * through all such streams together.  With CG_FAIL_COUNT=N only the
 * first N matching opens fail so (a transient fault); later ones are
 * real.  Everything else, reads included, is the real fopen.  Every output of cytogate is written through fopen
 * (util.c cg_atomic_open), so this reaches tables, JSON and PNGs alike.
 *
 * Threading: the byte count is atomic; workers write figures
 * concurrently.  Not built into the project's programs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef FILE *(*fopen_fn)(const char *, const char *);

static atomic_llong written;
static atomic_int opened;

static ssize_t ck_read(void *c, char *buf, size_t n)
{
    return read(*(int *)c, buf, n);
}

static ssize_t ck_write(void *c, const char *buf, size_t n)
{
    const char *a = getenv("CG_FAIL_AFTER");
    const char *e = getenv("CG_FAIL_ERRNO");
    long long limit = a ? atoll(a) : 0;
    long long before = atomic_fetch_add(&written, (long long)n);
    if (before + (long long)n > limit) {
        errno = e && !strcmp(e, "EIO") ? EIO : ENOSPC;
        return -1;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(*(int *)c, buf + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)k;
    }
    return (ssize_t)n;
}

static int ck_seek(void *c, off64_t *off, int whence)
{
    off_t r = lseek(*(int *)c, (off_t)*off, whence);
    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int ck_close(void *c)
{
    int fd = *(int *)c;
    free(c);
    return close(fd);
}

static FILE *shim_open(const char *name, const char *path, const char *mode)
{
    fopen_fn real = (fopen_fn)dlsym(RTLD_NEXT, name);
    const char *pat = getenv("CG_FAIL_PATTERN");
    int wr = strchr(mode, 'w') != NULL, ap = strchr(mode, 'a') != NULL;
    if (!real || (!wr && !ap) || (pat && *pat && !strstr(path, pat)))
        return real ? real(path, mode) : NULL;
    const char *cnt = getenv("CG_FAIL_COUNT");
    if (cnt && atomic_fetch_add(&opened, 1) >= atoi(cnt))
        return real(path, mode);
    int flags = (strchr(mode, '+') ? O_RDWR : O_WRONLY) | O_CREAT | O_CLOEXEC |
                (ap ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0666);
    if (fd < 0)
        return NULL;
    int *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    *c = fd;
    cookie_io_functions_t io = {ck_read, ck_write, ck_seek, ck_close};
    FILE *f = fopencookie(c, mode, io);
    if (!f) {
        int e = errno;
        close(fd);
        free(c);
        errno = e;
    }
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    return shim_open("fopen", path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
    return shim_open("fopen64", path, mode);
}
