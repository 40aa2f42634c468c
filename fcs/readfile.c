/*
 * readfile.c -- the input policy: read one regular file, whole, into an
 * owned buffer, without blocking and without mapping it.
 *
 * Why no mmap: a mapped file that shrinks under the reader (still being
 * copied into a plate folder, truncated by another program) turns the
 * next touch of a vanished page into SIGBUS, which kills the whole batch.
 * Bytes read with pread() into malloc'd memory cannot disappear, so a
 * file that changes while it is read becomes this file's error.  The
 * buffer comes from fcs_alloc_big() (2 MiB-aligned, advised for huge
 * pages): one pread() into it costs a few dozen page faults, not one per
 * 4 KiB.
 *
 * Policy, in order:
 *   - stat() first: a FIFO, device, socket or directory is refused before
 *     it is opened (opening a FIFO for reading blocks until a writer
 *     comes; opening some devices has side effects);
 *   - open(O_RDONLY | O_NONBLOCK | O_CLOEXEC), then fstat() the opened
 *     descriptor and refuse anything that is not a regular file (the name
 *     may have been swapped between the two calls);
 *   - pread() st_size bytes; a short read, a byte past st_size, or a size
 *     or mtime that differs after the read is "file changed while
 *     reading: size X, was Y".
 * A consistent read of a file that was being replaced is possible (we
 * may read it between two changes); an inconsistent one is not.
 * Threading: none; no globals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcs_internal.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* "FIFO", "directory", ... for a st_mode that is not a regular file. */
static const char *kind(mode_t m)
{
    if (S_ISFIFO(m))
        return "FIFO";
    if (S_ISDIR(m))
        return "directory";
    if (S_ISCHR(m))
        return "character device";
    if (S_ISBLK(m))
        return "block device";
#ifdef S_ISSOCK
    if (S_ISSOCK(m))
        return "socket";
#endif
    return "special file";
}

static int same_version(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino;
}

static int changed(fcs_err *err, int fd, int64_t was, int64_t at)
{
    struct stat st;
    long long now = fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
    return fcs__err(err, FCS_E_IO, at,
                    "file changed while reading: size %lld, was %lld", now,
                    (long long)was);
}

int fcs_read_file(const char *path, uint8_t **buf, size_t *n, fcs_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!buf || !n)
        return fcs__err(err, FCS_E_ARG, -1, "NULL output");
    *buf = NULL;
    *n = 0;
    if (!path)
        return fcs__err(err, FCS_E_ARG, -1, "NULL path");
    struct stat st;
    if (stat(path, &st) < 0)
        return fcs__err(err, FCS_E_IO, -1, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fcs__err(err, FCS_E_IO, -1, "not a regular file (%s)",
                        kind(st.st_mode));
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fcs__err(err, FCS_E_IO, -1, "%s", strerror(errno));
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return fcs__err(err, FCS_E_IO, -1, "%s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fcs__err(err, FCS_E_IO, -1, "not a regular file (%s)",
                        kind(st.st_mode));
    }
    if (st.st_size < 0 || (uint64_t)st.st_size >= (uint64_t)SIZE_MAX / 2) {
        close(fd);
        return fcs__err(err, FCS_E_IO, -1, "file is too large (%lld bytes)",
                        (long long)st.st_size);
    }
    size_t want = (size_t)st.st_size;
    /* huge-page backed from 4 MiB: the read faults once per 2 MiB */
    uint8_t *b = fcs_alloc_big(want ? want : 1);
    if (!b) {
        close(fd);
        return fcs__err(err, FCS_E_NOMEM, -1,
                        "out of memory for a %zu-byte file", want);
    }
    size_t got = 0;
    int rc = 0;
    while (got < want) {
        size_t step = want - got;
        if (step > ((size_t)1 << 30))
            step = (size_t)1 << 30;
        ssize_t r = pread(fd, b + got, step, (off_t)got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            rc = fcs__err(err, FCS_E_IO, (int64_t)got, "read error: %s",
                          strerror(errno));
            break;
        }
        if (r == 0) { /* shrank under us */
            rc = changed(err, fd, (int64_t)want, (int64_t)got);
            break;
        }
        got += (size_t)r;
    }
    if (rc == 0) {
        /* grown, rewritten or replaced in place while we read? */
        uint8_t extra;
        ssize_t r;
        do
            r = pread(fd, &extra, 1, (off_t)want);
        while (r < 0 && (errno == EINTR || errno == EAGAIN));
        struct stat st2;
        if (r > 0 || fstat(fd, &st2) < 0 || !same_version(&st, &st2))
            rc = changed(err, fd, (int64_t)want, (int64_t)want);
    }
    close(fd);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *buf = b;
    *n = want;
    return 0;
}

void fcs_buf_free(void *buf) { free(buf); }
