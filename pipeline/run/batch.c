/*
 * batch.c -- run every sample of the sheet on N worker threads.
 *
 * Design: a shared work queue that is just the next sample index under a
 * mutex; each worker takes the next index, processes that sample into
 * results[index] and goes back for more.  Results are addressed by sample
 * index, never by completion order, so every output is byte-identical for
 * any number of threads.  A failed sample is a result with ok = 0; it
 * never stops the other workers.  Progress ("k/n samples") goes to stderr
 * only when stderr is a terminal, under the same mutex.
 *
 * Figures that could not be written (run.c records "plots: ..." as a
 * note) make the sample an error row (issue 18: a failed write is never
 * hidden in an ok row), and its partial plots/<id>/ is removed.  After a
 * SIGINT/SIGTERM (outdir.h) workers take no new sample; those not taken
 * stay zeroed and the command does not write or commit anything.
 *
 * Threading: the context is read-only; each results[i] is written by
 * exactly one worker and read only after every worker has been joined.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outdir.h"
#include "output.h"
#include "run.h"
#include "util.h"

typedef struct queue {
    const cg_run_ctx *ctx;
    cg_result *results;
    pthread_mutex_t lock;
    int next, done, n, failed;
    int progress;
} queue;

/* A sample whose figures could not be written is an error (see above). */
static int check_plots(const cg_run_ctx *ctx, int i, cg_result *r)
{
    static const char tag[] = "plots: ";
    for (int k = 0; r->ok && k < r->nwarnings; k++) {
        if (strncmp(r->warnings[k], tag, sizeof tag - 1))
            continue;
        char why[512];
        cg_out_unstage(r->warnings[k] + sizeof tag - 1, ctx->opts.outdir, "",
                       why, sizeof why);
        char msg[600];
        snprintf(msg, sizeof msg, "figures: %s", why);
        cg_result_fail_output(r, msg);
        /* the note too: no staging path (nor its PID) in any output */
        char *rel = malloc(strlen(why) + sizeof tag);
        if (rel) {
            snprintf(rel, strlen(why) + sizeof tag, "%s%s", tag, why);
            free(r->warnings[k]);
            r->warnings[k] = rel;
        }
        char sub[600];
        snprintf(sub, sizeof sub, "plots/%s", ctx->sheet->s[i].sample_id);
        char *dir = cg_path_join(ctx->opts.outdir, sub);
        if (dir)
            cg_rm_tree(dir);
        free(dir);
        return -1;
    }
    return 0;
}

static void *worker(void *arg)
{
    queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        int i = q->next < q->n && !cg_outdir_stop_signal() ? q->next++ : -1;
        pthread_mutex_unlock(&q->lock);
        if (i < 0)
            break;
        int rc = cg_run_sample(q->ctx, i, &q->results[i]);
        if (rc == 0 && q->ctx->opts.plots && q->ctx->opts.outdir)
            rc = check_plots(q->ctx, i, &q->results[i]);
        pthread_mutex_lock(&q->lock);
        q->done++;
        if (rc < 0)
            q->failed++;
        if (q->progress) {
            fprintf(stderr, "\rcytogate run: %d/%d samples (%d failed)", q->done,
                    q->n, q->failed);
            fflush(stderr);
        }
        pthread_mutex_unlock(&q->lock);
    }
    return NULL;
}

int cg_run_batch(const cg_run_ctx *ctx, cg_result *results)
{
    queue q;
    memset(&q, 0, sizeof q);
    q.ctx = ctx;
    q.results = results;
    q.n = ctx->sheet->n;
    q.progress = isatty(2);
    pthread_mutex_init(&q.lock, NULL);
    int nt = ctx->opts.threads;
    if (nt > q.n)
        nt = q.n;
    if (nt < 1)
        nt = 1;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int started = 0;
    if (th && nt > 1) {
        for (; started < nt; started++)
            if (pthread_create(&th[started], NULL, worker, &q) != 0)
                break;
    }
    if (started == 0)
        worker(&q); /* one thread, or threads unavailable: do it here */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    free(th);
    pthread_mutex_destroy(&q.lock);
    if (q.progress)
        fputc('\n', stderr);
    return q.failed;
}
