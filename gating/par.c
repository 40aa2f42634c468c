/*
 * par.c -- cg_par_run (see par.h).
 *
 * Threading: creates and joins its own threads; no globals.
 */
#include "par.h"

#include <pthread.h>
#include <stdlib.h>

/* part t's argument (no arithmetic on arg when stride is 0: it may be
 * NULL) */
static void *part(void *arg, size_t stride, int t)
{
    return stride ? (char *)arg + (size_t)t * stride : arg;
}

void cg_par_run(int nparts, void *(*fn)(void *), void *arg, size_t stride)
{
    if (nparts < 1)
        nparts = 1;
    pthread_t *th = nparts > 1 ? malloc((size_t)nparts * sizeof *th)
                               : NULL;
    unsigned char *up = nparts > 1 ? calloc((size_t)nparts, 1) : NULL;
    if (!th || !up) { /* no room to track threads: all on the caller */
        free(th);
        free(up);
        for (int t = 0; t < nparts; t++)
            fn(part(arg, stride, t));
        return;
    }
    for (int t = 1; t < nparts; t++)
        up[t] = pthread_create(&th[t], NULL, fn, part(arg, stride, t)) == 0;
    fn(arg);
    for (int t = 1; t < nparts; t++) {
        if (up[t])
            pthread_join(th[t], NULL);
        else
            fn(part(arg, stride, t));
    }
    free(th);
    free(up);
}
