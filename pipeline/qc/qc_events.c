/*
 * qc_events.c -- cg_qc_events: the checks on the events (2-5, 8), run as
 * independent tasks on up to cg_qc_input.threads threads.
 *
 * Tasks: the flow rate (2), one per stability channel (3), the margins
 * (4) and the compensation (5).  Each task writes only its own output: the
 * rate, margins and compensation tasks a private cg_qc_result each, a
 * stability task its channel's row of the medians and its verdict slot.
 * Threads take the next task from one atomic counter, so which thread runs
 * a task varies, but no output depends on it.  Afterwards the calling
 * thread puts the rows together in the serial order (file, flow rate,
 * stability, margins, compensation) and moves the series and the time
 * mask over, so qc.tsv, the figures and the mask are the same, byte for
 * byte, at every thread count.
 *
 * Threading: pthreads created and joined inside the call; threads <= 1
 * runs every task on the calling thread.  The frame and the FCS handle are
 * only read.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "qc_internal.h"

/* The work of one cg_qc_events call. */
typedef struct ev_job {
    const cg_qc_params *p;
    const cg_qc_input *in;
    const int *role;
    cg_qc_result *rate, *stab, *marg, *comp; /* private results */
    qc_stab *st;
    int nst;     /* stability channel tasks */
    int ntask;   /* 1 (rate) + nst + 2 (margins, compensation) */
    atomic_int next;
    int *rc;     /* per task: 0 or < 0 */
    cg_err *err; /* per task */
} ev_job;

static int ev_task(ev_job *j, int t, void **scratch)
{
    if (t == 0)
        return qc_rate(j->p, j->in, j->role, j->rate, &j->err[t]);
    if (t <= j->nst) {
        if (qc_stab_channel(j->st, t - 1, scratch) == 0)
            return 0;
        return cg_err_set(&j->err[t], CG_E_NOMEM,
                          "qc: out of memory (stability)");
    }
    if (t == j->nst + 1)
        return qc_margins(j->p, j->in, j->role, j->marg, &j->err[t]);
    return qc_comp(j->p, j->in, j->role, j->comp, &j->err[t]);
}

static void *ev_worker(void *arg)
{
    ev_job *j = arg;
    void *scratch = NULL;
    for (;;) {
        int t = atomic_fetch_add(&j->next, 1);
        if (t >= j->ntask)
            break;
        j->rc[t] = ev_task(j, t, &scratch);
    }
    qc_stab_scratch_free(scratch);
    return NULL;
}

/* Run the tasks on the calling thread and up to threads - 1 more. */
static void ev_run(ev_job *j, int threads)
{
    if (threads > j->ntask)
        threads = j->ntask;
    cg_par_run(threads, ev_worker, j, 0); /* workers share the counter */
}

/* Append src's rows to dst.  0 or -1 (no memory). */
static int move_rows(cg_qc_result *dst, const cg_qc_result *src)
{
    if (src->n == 0)
        return 0;
    if (dst->n + src->n > dst->cap) {
        int cap = dst->cap ? dst->cap : 32;
        while (cap < dst->n + src->n)
            cap *= 2;
        cg_qc_check *c = realloc(dst->checks, (size_t)cap * sizeof *c);
        if (!c)
            return -1;
        dst->checks = c;
        dst->cap = cap;
    }
    memcpy(dst->checks + dst->n, src->checks, (size_t)src->n * sizeof *dst->checks);
    dst->n += src->n;
    return 0;
}

/* Move the flow-rate series and time mask of src (when it made them) to
 * dst, replacing dst's. */
static void move_rate(cg_qc_result *dst, cg_qc_result *src)
{
    if (src->time_mask) {
        cg_bits_free(dst->time_mask);
        dst->time_mask = src->time_mask;
        dst->n_time_masked = src->n_time_masked;
        src->time_mask = NULL;
    }
    cg_qc_series *d = &dst->s, *s = &src->s;
    if (!s->rate_t0)
        return;
    free(d->rate_t0);
    free(d->rate_w);
    free(d->rate_count);
    free(d->rate_expected);
    free(d->rate_flag);
    d->nrate = s->nrate;
    d->rate_t0 = s->rate_t0;
    d->rate_w = s->rate_w;
    d->rate_count = s->rate_count;
    d->rate_expected = s->rate_expected;
    d->rate_flag = s->rate_flag;
    d->time_seconds = s->time_seconds;
    s->rate_t0 = s->rate_w = s->rate_count = s->rate_expected = NULL;
    s->rate_flag = NULL;
}

/* Move the stability series of src (when it made them) to dst. */
static void move_stab(cg_qc_result *dst, cg_qc_result *src)
{
    cg_qc_series *d = &dst->s, *s = &src->s;
    if (!s->stab_first)
        return;
    free(d->stab_first);
    free(d->stab_chan);
    free(d->stab_median);
    d->nstab = s->nstab;
    d->nschan = s->nschan;
    d->stab_first = s->stab_first;
    d->stab_chan = s->stab_chan;
    d->stab_median = s->stab_median;
    s->stab_first = NULL;
    s->stab_chan = NULL;
    s->stab_median = NULL;
}

/* Put the private results together in res in the serial order; stop at
 * the first failed task (its rows and the later ones are left out).  0
 * or < 0 with err. */
static int ev_merge(ev_job *j, cg_qc_result *res, cg_err *err)
{
    const char *oom = "qc: out of memory";
    if (j->rc[0] < 0) {
        if (err)
            *err = j->err[0];
        return -1;
    }
    if (move_rows(res, j->rate) < 0)
        return cg_err_set(err, CG_E_NOMEM, "%s", oom);
    move_rate(res, j->rate);
    for (int t = 1; t <= j->nst; t++)
        if (j->rc[t] < 0) {
            if (err)
                *err = j->err[t];
            return -1;
        }
    if (j->st) {
        int rc = qc_stab_end(j->st, j->stab);
        j->st = NULL;
        if (rc < 0)
            return cg_err_set(err, CG_E_NOMEM, "%s (stability)", oom);
    }
    if (move_rows(res, j->stab) < 0)
        return cg_err_set(err, CG_E_NOMEM, "%s", oom);
    move_stab(res, j->stab);
    for (int t = j->nst + 1; t < j->ntask; t++) {
        if (j->rc[t] < 0) {
            if (err)
                *err = j->err[t];
            return -1;
        }
        if (move_rows(res, t == j->nst + 1 ? j->marg : j->comp) < 0)
            return cg_err_set(err, CG_E_NOMEM, "%s", oom);
    }
    return 0;
}

int cg_qc_events(const cg_qc_params *p, const cg_qc_input *in,
                 cg_qc_result *res, cg_err *err)
{
    if (!p || !in || !in->fr || !res)
        return cg_err_set(err, CG_E_ARG, "qc: missing parameters, frame or "
                                         "result");
    const cg_frame *fr = in->fr;
    ev_job j;
    memset(&j, 0, sizeof j);
    int *role = malloc(((size_t)fr->nch + 1) * sizeof *role);
    j.rate = cg_qc_result_new();
    j.stab = cg_qc_result_new();
    j.marg = cg_qc_result_new();
    j.comp = cg_qc_result_new();
    int rc = -1;
    if (!role || !j.rate || !j.stab || !j.marg || !j.comp)
        goto nomem;
    if (in->role)
        memcpy(role, in->role, (size_t)fr->nch * sizeof *role);
    else
        cg_qc_classify(fr, role);
    j.p = p;
    j.in = in;
    j.role = role;
    if (qc_file(p, in, role, res) < 0 ||
        qc_stab_begin(p, in, role, j.stab, &j.st, &j.nst) < 0)
        goto nomem;
    j.ntask = j.nst + 3;
    atomic_init(&j.next, 0);
    j.rc = calloc((size_t)j.ntask, sizeof *j.rc);
    j.err = calloc((size_t)j.ntask, sizeof *j.err);
    if (!j.rc || !j.err)
        goto nomem;
    ev_run(&j, in->threads > 1 ? in->threads : 1);
    rc = ev_merge(&j, res, err);
    goto out;
nomem:
    rc = cg_err_set(err, CG_E_NOMEM, "qc: out of memory");
out:
    qc_stab_free(j.st);
    cg_qc_result_free(j.rate);
    cg_qc_result_free(j.stab);
    cg_qc_result_free(j.marg);
    cg_qc_result_free(j.comp);
    free(j.rc);
    free(j.err);
    free(role);
    return rc;
}
