/*
 * outdir.h -- the life of an output folder (-o) of `cytogate run` and
 * `cytogate merge` (issue 18): one writer at a time, results moved into
 * place only when complete, run.json as the completion marker.
 *
 *   cg_outdir_open    catch signals (below); mkdir -p DIR; lock
 *                     DIR/.cytogate.lock (flock, the
 *                     holder's PID written inside; the kernel drops the
 *                     lock when the holder dies, so a crash never blocks
 *                     the next run); remove what dead runs left (staging
 *                     folders, *.tmp.<pid> of dead PIDs); create the
 *                     staging folder DIR/.cytogate-staging.<pid>/.
 *   ... the command writes every output under cg_outdir_staging() ...
 *   cg_outdir_commit  DIR/run.json removed first; the previous run's
 *                     outputs (cg_outdir_names, and any name staged now)
 *                     moved aside; the staged entries moved into DIR,
 *                     run.json last; the staging folder (with the old
 *                     outputs) deleted.  So DIR holds either the old
 *                     complete result set with its run.json, or the new
 *                     one with its run.json, or -- only while a commit
 *                     runs or after a crash inside one -- no run.json.
 *   cg_outdir_close   staging removed when not committed; unlocked.
 *
 * Signals: from cg_outdir_open to cg_outdir_close, SIGINT, SIGTERM and
 * SIGHUP (unless ignored when the command started, as under nohup) are
 * caught and handled on a thread of their own.  The first one sets the stop flag
 * (cg_outdir_stop_signal): workers take no new sample, the command skips
 * the commit, removes the staging folder and exits 128+signal.  A second
 * one removes the staging folder at once and exits.
 *
 * Ownership: cg_outdir_open returns an owned handle (cg_outdir_close,
 * NULL ok).  Threading: main thread, except cg_outdir_stop_signal (any
 * thread); the stop flag is the process's one piece of signal state.
 */
#ifndef CG_OUTDIR_H
#define CG_OUTDIR_H

#include "cgerr.h"

typedef struct cg_outdir cg_outdir;

/* Lock and prepare dir for cmd ("run", "merge").  Owned, or NULL with err
 * (another live run holds the lock: the message names its PID; dir
 * cannot be created or locked).  Both are usage-level errors (exit 1). */
cg_outdir *cg_outdir_open(const char *cmd, const char *dir, cg_err *err);

/* The staging folder to write into (borrowed until cg_outdir_close). */
const char *cg_outdir_staging(const cg_outdir *od);

/* Move the staged result set into place (see above).  0, or -1 with err;
 * after a failure DIR has no run.json. */
int cg_outdir_commit(cg_outdir *od, cg_err *err);

/* Move the staged derived files (report.html, report_files/ of
 * `cytogate report`) into place, each replacing its namesake; the rest of
 * DIR, run.json included, is left as it is.  0, or -1 with err. */
int cg_outdir_commit_derived(cg_outdir *od, cg_err *err);

/* Remove the staging folder unless committed; unlock; free. */
void cg_outdir_close(cg_outdir *od);

/* 0, or the signal that asked the process to stop. */
int cg_outdir_stop_signal(void);

/* The top-level names a run or merge writes in DIR (NULL-terminated);
 * a commit replaces every one of them. */
extern const char *const cg_outdir_names[];

/* rm -rf path (no symlinks followed).  0, or -1 (errno set). */
int cg_rm_tree(const char *path);

#endif
