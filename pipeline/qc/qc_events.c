/*
 * qc_events.c -- cg_qc_events: the checks on the events (2-5, 8), run as
 * independent tasks on up to cg_qc_input.threads threads.
 *
 * Tasks: the flow rate (2), then one per channel that the stability (3),
 * margins (4) or compensation (5) checks read: a channel's values are
 * read once (a float-held channel's compensated values cost a pass over
 * the float store, frame.h) and every check of that channel runs on
 * them.  Each task writes only its own output: the rate task a private
 * cg_qc_result, a channel task that channel's slots (margins, % below
 * zero, the stability row of medians and verdict); the rows of checks 3-5
 * are made from the slots afterwards.
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
#include <math.h>
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
    int *chan;   /* the channels looked at, in order */
    int nchan;
    qc_marg_chan *mc; /* per frame channel (check 4) */
    double *pct;      /* per frame channel (check 5) */
    int ntask;   /* 1 (rate) + nchan + 1 (compensation) */
    atomic_int next;
    int *rc;     /* per task: 0 or < 0 */
    cg_err *err; /* per task */
} ev_job;

/* A thread's scratch: stability's, and the channel's values when it is
 * float-held (a slab of the frame's). */
typedef struct ev_scratch {
    void *stab;
    double *col;
} ev_scratch;

/* Channel task: every check that reads channel j, on its values read
 * once. */
static int ev_channel(ev_job *j, int t, ev_scratch *sc)
{
    const cg_qc_input *in = j->in;
    int ch = j->chan[t - 1];
    const double *c = cg_frame_values(in->fr, ch, &sc->col);
    if (!c)
        return cg_err_set(&j->err[t], CG_E_NOMEM, "qc: out of memory");
    if (j->role[ch] == CG_QC_FLUOR || j->role[ch] == CG_QC_SCATTER)
        qc_margins_chan(in, ch, c, &j->mc[ch]);
    if (qc_overcomp_wants(in, ch))
        j->pct[ch] = qc_overcomp_chan(j->p, in, ch, c);
    int k = qc_stab_task_of(j->st, ch);
    if (k >= 0 && qc_stab_channel(j->st, k, c, &sc->stab) < 0)
        return cg_err_set(&j->err[t], CG_E_NOMEM,
                          "qc: out of memory (stability)");
    return 0;
}

static int ev_task(ev_job *j, int t, ev_scratch *sc)
{
    if (t == 0)
        return qc_rate(j->p, j->in, j->role, j->rate, &j->err[t]);
    if (t <= j->nchan)
        return ev_channel(j, t, sc);
    return 0; /* compensation: its rows come after the channels' */
}

static void *ev_worker(void *arg)
{
    ev_job *j = arg;
    ev_scratch sc = {NULL, NULL};
    for (;;) {
        int t = atomic_fetch_add(&j->next, 1);
        if (t >= j->ntask)
            break;
        j->rc[t] = ev_task(j, t, &sc);
    }
    qc_stab_scratch_free(sc.stab);
    cg_frame_slab_put(j->in->fr, sc.col);
    return NULL;
}

/* Run the tasks on the calling thread and up to threads - 1 more. */
static void ev_run(ev_job *j, int threads)
{
    if (threads > j->ntask)
        threads = j->ntask;
    cg_par_run(threads, ev_worker, j, 0); /* workers share the counter */
}

/* The channels some check reads (margins: scatter and fluorescence;
 * compensation: the matrix's; stability: its own), in frame order, into
 * j->chan.  0 or -1 (no memory). */
static int ev_channels(ev_job *j)
{
    const cg_frame *fr = j->in->fr;
    j->chan = malloc(((size_t)fr->nch + 1) * sizeof *j->chan);
    j->mc = calloc((size_t)fr->nch + 1, sizeof *j->mc);
    j->pct = malloc(((size_t)fr->nch + 1) * sizeof *j->pct);
    if (!j->chan || !j->mc || !j->pct)
        return -1;
    j->nchan = 0;
    for (int ch = 0; ch < fr->nch; ch++) {
        j->pct[ch] = NAN;
        int marg = fr->n > 0 && (j->role[ch] == CG_QC_FLUOR ||
                                 j->role[ch] == CG_QC_SCATTER);
        if (marg || qc_overcomp_wants(j->in, ch) ||
            qc_stab_task_of(j->st, ch) >= 0)
            j->chan[j->nchan++] = ch;
    }
    return 0;
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
    for (int t = 1; t <= j->nchan; t++)
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
    if (qc_margins_end(j->p, j->in, j->role, j->mc, j->marg, err) < 0 ||
        qc_comp(j->p, j->in, j->role, j->pct, j->comp, err) < 0)
        return -1;
    if (move_rows(res, j->marg) < 0 || move_rows(res, j->comp) < 0)
        return cg_err_set(err, CG_E_NOMEM, "%s", oom);
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
    if (ev_channels(&j) < 0)
        goto nomem;
    j.ntask = j.nchan + 2;
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
    free(j.chan);
    free(j.mc);
    free(j.pct);
    free(role);
    return rc;
}
