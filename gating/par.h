/*
 * par.h -- run a few parts of one job on threads of their own.
 *
 * Every multi-threaded stage of cytogate has the same shape: a fixed
 * number of parts, each writing only its own outputs (so results do not
 * depend on how many threads ran them), the caller doing part 0 and
 * waiting for the rest.  cg_par_run is that shape, once.
 *
 * Not part of the installed API (helper shared with pipeline/).
 */
#ifndef CG_PAR_H
#define CG_PAR_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Call fn(arg + t * stride) for t = 0 .. nparts-1 and return when all
 * have returned.  Part 0 runs on the caller, the others on threads of
 * their own; a part whose thread cannot be started runs on the caller
 * afterwards, so every part runs exactly once whatever the system
 * allows.  stride 0 hands every part the same arg (workers that take
 * tasks from a shared counter).  nparts < 1 is read as 1. */
void cg_par_run(int nparts, void *(*fn)(void *), void *arg, size_t stride);

#ifdef __cplusplus
}
#endif
#endif
