/*
 * outdir.c -- lock, staging and commit of an output folder (outdir.h).
 *
 * The lock is flock() on DIR/.cytogate.lock: held for the life of the
 * handle, released by the kernel when the process dies however it dies.
 * The file holds the holder's PID, only for the refusal message.  On
 * release the file is unlinked while still locked; a process that opened
 * the old file meanwhile notices (its fd's inode is no longer the path's)
 * and opens the path again, so two holders can never coexist.
 *
 * While the lock is held nobody else writes in DIR, so every staging
 * folder found there is a dead run's; *.tmp.<pid> files (cg_atomic
 * temporaries) are removed only when that PID is gone, since other
 * commands (`cytogate qc -o`) write them without the lock.
 *
 * Commit order (a crash at any point leaves no run.json beside a mixed
 * set): unlink run.json, fsync DIR; rename the previous outputs into
 * staging/.old; rename the staged entries into DIR; rename run.json;
 * fsync DIR; delete the staging folder.
 *
 * Threading: main thread; the signal thread (started by cg_outdir_open)
 * only sets the stop flag, or on a second signal removes the staging
 * folder and _exit()s.  The handler itself only writes to a pipe.
 */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define LOCK_NAME ".cytogate.lock"
#define STAGE_PREFIX ".cytogate-staging."
#define OLD_NAME ".old"

const char *const cg_outdir_names[] = {
    "summary.tsv", "stats.tsv", "qc.tsv", "longitudinal.tsv", "samples",
    "plots", "gatingml", "report.html", "report_files", "run.json", NULL};

/* The one piece of process-wide signal state (outdir.h). */
static atomic_int stop_signal;

int cg_outdir_stop_signal(void) { return atomic_load(&stop_signal); }

struct cg_outdir {
    char *cmd;
    char *dir;
    char *staging;
    char *lockpath;
    int lockfd;
    atomic_int committed; /* read by the signal thread */
    int sig_started;
    pthread_t sig_thread;
    struct sigaction sig_old[3]; /* as before cg_outdir_open */
    int sig_had[3];
};

/* ------------------------------------------------------------ rm -rf -- */

static int rm_at(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (rm_at(dirfd(d), de->d_name) < 0)
            rc = -1;
    }
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int cg_rm_tree(const char *path)
{
    return rm_at(AT_FDCWD, path);
}

/* ------------------------------------------------------------- clean -- */

/* PID of a "NAME.tmp.<pid>" entry, or 0. */
static long tmp_pid(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t)
        return 0;
    const char *p;
    while ((p = strstr(t + 1, ".tmp.")))
        t = p;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    return *end || end == t + 5 || pid <= 0 ? 0 : pid;
}

static int pid_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* Remove dead runs' temporaries in path; with depth 1 also in each
 * subfolder (plots/<id>/). */
static void clean_tmp(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        long pid = tmp_pid(de->d_name);
        if (pid > 0 && !pid_alive(pid)) {
            unlinkat(dirfd(d), de->d_name, 0);
        } else if (depth > 0) {
            char *sub = cg_path_join(path, de->d_name);
            struct stat st;
            if (sub && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                clean_tmp(sub, depth - 1);
            free(sub);
        }
    }
    closedir(d);
}

/* Under the lock: every staging folder is a dead run's. */
static void clean_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (!strncmp(de->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)))
                rm_at(dirfd(d), de->d_name);
        closedir(d);
    }
    clean_tmp(dir, 0);
    char *s = cg_path_join(dir, "samples");
    if (s)
        clean_tmp(s, 0);
    free(s);
    s = cg_path_join(dir, "plots");
    if (s)
        clean_tmp(s, 1);
    free(s);
}

/* -------------------------------------------------------------- lock -- */

/* 0 locked (*fd set), 1 held by a live process (*holder its PID, 0 when
 * unknown), -1 error (errno set). */
static int take_lock(const char *path, int *fd, long *holder)
{
    for (int tries = 0; tries < 20; tries++) {
        int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (f < 0)
            return -1;
        if (flock(f, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                char b[32] = {0};
                ssize_t n = pread(f, b, sizeof b - 1, 0);
                *holder = n > 0 ? strtol(b, NULL, 10) : 0;
                close(f);
                return 1;
            }
            close(f);
            errno = e;
            return -1;
        }
        struct stat a, b;
        if (fstat(f, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
                int e = errno;
                close(f);
                errno = e;
                return -1;
            }
            *fd = f;
            return 0;
        }
        close(f); /* the previous holder unlinked it: open the new one */
    }
    errno = EAGAIN;
    return -1;
}

/* -------------------------------------------------------------- open -- */

static int catch_signals(cg_outdir *od);

cg_outdir *cg_outdir_open(const char *cmd, const char *dir, cg_err *err)
{
    cg_outdir *od = calloc(1, sizeof *od);
    if (!od) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        return NULL;
    }
    od->lockfd = -1;
    od->cmd = strdup(cmd);
    od->dir = strdup(dir);
    od->lockpath = cg_path_join(dir, LOCK_NAME);
    char name[64];
    snprintf(name, sizeof name, STAGE_PREFIX "%ld", (long)getpid());
    od->staging = cg_path_join(dir, name);
    if (!od->cmd || !od->dir || !od->lockpath || !od->staging) {
        cg_err_set(err, CG_E_NOMEM, "out of memory");
        cg_outdir_close(od);
        return NULL;
    }
    struct stat st;
    if (cg_mkdir_p(dir) < 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cg_err_set(err, CG_E_IO, "%s: cannot create the output folder: %s",
                   dir, errno ? strerror(errno) : "not a folder");
        cg_outdir_close(od);
        return NULL;
    }
    /* signals first: from the lock on, an interrupted run cleans up */
    if (catch_signals(od) < 0)
        cg_warn_file(NULL, "cannot catch signals: an interrupted %s may "
                     "leave its staging folder (removed by the next one)",
                     cmd);
    long holder = 0;
    int rc = take_lock(od->lockpath, &od->lockfd, &holder);
    if (rc != 0) {
        if (rc > 0 && holder > 0)
            cg_err_set(err, CG_E_ARG, "%s: in use by another cytogate run or "
                       "merge (pid %ld); wait for it to finish or choose "
                       "another -o", dir, holder);
        else if (rc > 0)
            cg_err_set(err, CG_E_ARG, "%s: in use by another cytogate run or "
                       "merge; wait for it to finish or choose another -o",
                       dir);
        else
            cg_err_set(err, CG_E_IO, "%s: cannot lock %s: %s", dir, LOCK_NAME,
                       strerror(errno));
        cg_outdir_close(od);
        return NULL;
    }
    clean_stale(dir);
    if (mkdir(od->staging, 0777) != 0) {
        cg_err_set(err, CG_E_IO, "%s: cannot create: %s", od->staging,
                   strerror(errno));
        cg_outdir_close(od);
        return NULL;
    }
    return od;
}

const char *cg_outdir_staging(const cg_outdir *od) { return od->staging; }

/* ------------------------------------------------------------ commit -- */

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int is_ours(const char *name)
{
    for (int k = 0; cg_outdir_names[k]; k++)
        if (!strcmp(cg_outdir_names[k], name))
            return 1;
    return 0;
}

/* rename dir/name (when present) to old/name. */
static int move_aside(const char *dir, const char *old, const char *name,
                      cg_err *err)
{
    char *a = cg_path_join(dir, name), *b = cg_path_join(old, name);
    int rc = 0;
    if (!a || !b)
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
    else if (rename(a, b) != 0 && errno != ENOENT)
        rc = cg_err_set(err, CG_E_IO, "%s: cannot replace: %s", a,
                        strerror(errno));
    free(a);
    free(b);
    return rc < 0 ? -1 : 0;
}

int cg_outdir_commit(cg_outdir *od, cg_err *err)
{
    char *marker = cg_path_join(od->dir, "run.json");
    char *old = cg_path_join(od->staging, OLD_NAME);
    char *staged_marker = cg_path_join(od->staging, "run.json");
    int rc = 0;
    DIR *d = NULL;
    if (!marker || !old || !staged_marker) {
        rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        goto done;
    }
    if (access(staged_marker, F_OK) != 0) {
        rc = cg_err_set(err, CG_E_IO, "%s: no run.json staged", od->staging);
        goto done;
    }
    /* 1. the completion marker goes first */
    if (unlink(marker) != 0 && errno != ENOENT) {
        rc = cg_err_set(err, CG_E_IO, "%s: cannot remove: %s", marker,
                        strerror(errno));
        goto done;
    }
    sync_dir(od->dir);
    /* 2. the previous result set, out of the way */
    if (mkdir(old, 0777) != 0 && errno != EEXIST) {
        rc = cg_err_set(err, CG_E_IO, "%s: cannot create: %s", old,
                        strerror(errno));
        goto done;
    }
    for (int k = 0; rc == 0 && cg_outdir_names[k]; k++)
        if (strcmp(cg_outdir_names[k], "run.json"))
            rc = move_aside(od->dir, old, cg_outdir_names[k], err);
    if (rc < 0)
        goto done;
    /* 3. the new one in; names this version does not list are replaced
     * as well */
    d = opendir(od->staging);
    if (!d) {
        rc = cg_err_set(err, CG_E_IO, "%s: cannot read: %s", od->staging,
                        strerror(errno));
        goto done;
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        const char *n = de->d_name;
        if (n[0] == '.' || !strcmp(n, "run.json"))
            continue;
        if (!is_ours(n) && move_aside(od->dir, old, n, err) < 0) {
            rc = -1;
            break;
        }
        char *a = cg_path_join(od->staging, n), *b = cg_path_join(od->dir, n);
        if (!a || !b)
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        else if (rename(a, b) != 0)
            rc = cg_err_set(err, CG_E_IO, "%s: cannot move into place: %s", b,
                            strerror(errno));
        free(a);
        free(b);
    }
    if (rc < 0)
        goto done;
    /* 4. complete: the marker last */
    if (rename(staged_marker, marker) != 0) {
        rc = cg_err_set(err, CG_E_IO, "%s: cannot move into place: %s",
                        marker, strerror(errno));
        goto done;
    }
    sync_dir(od->dir);
    od->committed = 1;
    cg_rm_tree(od->staging); /* the old outputs with it */
done:
    if (d)
        closedir(d);
    free(marker);
    free(old);
    free(staged_marker);
    return rc < 0 ? -1 : 0;
}

/* A result set's derived files (`cytogate report`): each staged entry
 * replaces its namesake in DIR, the rest of the set and run.json stay. */
int cg_outdir_commit_derived(cg_outdir *od, cg_err *err)
{
    char *old = cg_path_join(od->staging, OLD_NAME);
    int rc = 0;
    DIR *d = old ? opendir(od->staging) : NULL;
    if (!d || (mkdir(old, 0777) != 0 && errno != EEXIST))
        rc = cg_err_set(err, CG_E_IO, "%s: cannot use: %s", od->staging,
                        strerror(errno));
    struct dirent *de;
    while (rc == 0 && d && (de = readdir(d))) {
        const char *n = de->d_name;
        if (n[0] == '.' || !strcmp(n, "run.json"))
            continue;
        if (move_aside(od->dir, old, n, err) < 0) {
            rc = -1;
            break;
        }
        char *a = cg_path_join(od->staging, n), *b = cg_path_join(od->dir, n);
        if (!a || !b)
            rc = cg_err_set(err, CG_E_NOMEM, "out of memory");
        else if (rename(a, b) != 0)
            rc = cg_err_set(err, CG_E_IO, "%s: cannot move into place: %s", b,
                            strerror(errno));
        free(a);
        free(b);
    }
    if (d)
        closedir(d);
    free(old);
    if (rc < 0)
        return -1;
    sync_dir(od->dir);
    od->committed = 1;
    cg_rm_tree(od->staging);
    return 0;
}

/* ----------------------------------------------------------- signals -- */

/* A handler, not sigwait(): threads that libraries started before us
 * (OpenBLAS's pool) do not block the signals, and any thread may take
 * one.  The handler only writes the signal number to a pipe; the signal
 * thread reads it and does the work. */
static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
#define NCAUGHT ((int)(sizeof caught / sizeof *caught))
static int sig_pipe[2] = {-1, -1}; /* with stop_signal, process-wide */

static void on_signal(int sig)
{
    int e = errno;
    unsigned char b = (unsigned char)sig;
    if (write(sig_pipe[1], &b, 1) < 0)
        b = 0; /* nothing to do: the pipe cannot fill with 3 signals */
    errno = e;
}

static void *signal_main(void *arg)
{
    cg_outdir *od = arg;
    for (;;) {
        unsigned char b = 0;
        ssize_t n = read(sig_pipe[0], &b, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || b == 0)
            break; /* cg_outdir_close */
        int sig = b, first = 0;
        if (atomic_compare_exchange_strong(&stop_signal, &first, sig)) {
            char msg[300];
            int k = snprintf(msg, sizeof msg, "cytogate %s: interrupted "
                             "(signal %d): stopping after the samples in "
                             "progress; nothing is committed to %s/\n",
                             od->cmd, sig, od->dir);
            if (k > 0 && write(2, msg, (size_t)k) < 0)
                k = 0;
            continue;
        }
        /* a second signal: do not wait for the samples in progress */
        if (od->lockfd >= 0 && !atomic_load(&od->committed)) {
            cg_rm_tree(od->staging);
            unlink(od->lockpath);
        }
        _exit(128 + sig);
    }
    return NULL;
}

static int catch_signals(cg_outdir *od)
{
    if (sig_pipe[0] >= 0 || pipe(sig_pipe) != 0)
        return -1;
    for (int k = 0; k < 2; k++)
        fcntl(sig_pipe[k], F_SETFD, FD_CLOEXEC);
    if (pthread_create(&od->sig_thread, NULL, signal_main, od) != 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
        return -1;
    }
    od->sig_started = 1;
    for (int k = 0; k < NCAUGHT; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        od->sig_had[k] = 0;
        /* a signal ignored when we started (nohup, a background job)
         * stays ignored */
        if (sigaction(caught[k], NULL, &od->sig_old[k]) == 0 &&
            od->sig_old[k].sa_handler != SIG_IGN &&
            sigaction(caught[k], &sa, NULL) == 0)
            od->sig_had[k] = 1;
    }
    return 0;
}

/* ------------------------------------------------------------- close -- */

void cg_outdir_close(cg_outdir *od)
{
    if (!od)
        return;
    if (od->sig_started) {
        for (int k = 0; k < NCAUGHT; k++) /* a later signal acts as usual */
            if (od->sig_had[k])
                sigaction(caught[k], &od->sig_old[k], NULL);
        unsigned char quit = 0;
        while (write(sig_pipe[1], &quit, 1) < 0 && errno == EINTR)
            ;
        pthread_join(od->sig_thread, NULL);
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
    }
    if (od->lockfd >= 0 && !od->committed && od->staging)
        cg_rm_tree(od->staging);
    if (od->lockfd >= 0) {
        unlink(od->lockpath); /* still locked: see the header comment */
        close(od->lockfd);
    }
    free(od->cmd);
    free(od->dir);
    free(od->staging);
    free(od->lockpath);
    free(od);
}
