/*
 * frame.h -- an in-memory event table: n events x nch named channels,
 * stored as one contiguous double column per channel.
 *
 * The frame is the unit every gating stage works on: compensation and
 * transforms rewrite columns in place or add new ones, gates read them.
 * Transparent on purpose (hot loops index col[j][i] directly); change the
 * fields only through the functions below so ownership stays clear.
 *
 * The float store (CG_FRAME_FLOAT, opt-in): a channel whose decoded
 * values are all exactly float32 (a $DATATYPE F file, 16-bit integers
 * unscaled) may be held as 4-byte floats, half the memory; col[j] is
 * NULL for it and fcol[j] holds the values.  Compensation of such a
 * frame (cg_compensate) is then recorded, not applied: a read of a
 * compensated channel computes the same fused multiply-add chain the
 * eager product would, from the widened floats, so every value read is
 * the double the eager frame would hold, bit for bit.  Code that indexes
 * col[j] must read such channels with cg_frame_read / cg_frame_values /
 * cg_frame_gather, or call cg_frame_materialize first.  Frames made
 * without the flag hold doubles only, as always.
 *
 * Threading: a frame is not shared between threads while being modified.
 */
#ifndef CG_FRAME_H
#define CG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "bits.h"
#include "cgerr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fcs_file;

typedef struct cg_frame {
    int64_t n;     /* events */
    int nch;       /* channels in use */
    int cap;       /* allocated channel slots */
    char **name;   /* nch names ($PnN), owned */
    char **label;  /* nch labels ($PnS) or NULL entries, owned */
    double *range; /* nch nominal ranges ($PnR; 0 when unknown) */
    double **col;  /* nch columns of n doubles, owned; NULL where the
                    * channel is float-held (fcol) */
    float **fcol;  /* NULL, or cap entries: channel j's n values as
                    * float32 where col[j] is NULL (slices of fstore) */
    float *fstore; /* the float-held channels' values, one block, owned */
    double *fmul;  /* NULL, or cap entries: a float-held channel with
                    * fmul[j] != 0 reads as fcol[j][i] * fmul[j] (the
                    * time channel's $TIMESTEP in the scaled view) */
    struct cg_frame_comp *comp; /* compensation applied when a float-held
                                 * channel is read; NULL: none */
    struct cg_frame_slabs *slabs; /* readers' scratch (cg_frame_slab_get);
                                   * NULL: none given */
} cg_frame;

/* cg_frame_from_fcs_flags: keep float-exact channels as float32. */
#define CG_FRAME_FLOAT 0x1u

/* New frame with n events and no channels.  Owned: cg_frame_free(). */
cg_frame *cg_frame_new(int64_t n);
void cg_frame_free(cg_frame *fr); /* NULL is a no-op */

/* Add a channel; col is taken over (owned by the frame from now on) or,
 * when NULL, allocated zero-filled.  Returns the channel index or < 0. */
int cg_frame_add(cg_frame *fr, const char *name, const char *label,
                 double range, double *col, cg_err *err);

/* Room for a column of n doubles, uninitialised: from 4 MiB up 2 MiB-
 * aligned and advised for transparent huge pages (fcs_alloc_big), so
 * filling it costs a few page faults instead of one per 4 KiB.  Owned:
 * free() or hand it to cg_frame_add().  NULL when out of memory. */
double *cg_frame_col_alloc(int64_t n);

/* Channel index by name: exact match, then case-insensitive; -1 if none. */
int cg_frame_find(const cg_frame *fr, const char *name);

/* Read every parameter of the selected data set of f (view: FCS_RAW or
 * FCS_SCALED) into a new frame.  Owned, or NULL with err filled. */
cg_frame *cg_frame_from_fcs(struct fcs_file *f, int view, cg_err *err);
/* The same with up to nthreads decoding threads (columns dealt in
 * groups, from 2M values on); the frame is bit-identical at any count.
 * cg_frame_from_fcs uses 2. */
cg_frame *cg_frame_from_fcs_threads(struct fcs_file *f, int view,
                                    int nthreads, cg_err *err);

/* As cg_frame_from_fcs_threads; with CG_FRAME_FLOAT in flags, a channel
 * all of whose decoded values are exactly float32 (checked value by
 * value) is held as floats (fcol), the others as doubles. */
cg_frame *cg_frame_from_fcs_flags(struct fcs_file *f, int view, int nthreads,
                                  unsigned flags, cg_err *err);

/* 1 when channel j is a double column at hand (col[j]), 0 when it is
 * float-held (read it with the functions below). */
static inline int cg_frame_held(const cg_frame *fr, int j)
{
    return fr->col[j] != 0;
}

/* Values [first, first + len) of channel j as doubles (compensation
 * applied) into out.  Any frame; thread-safe on a frame not being
 * modified. */
void cg_frame_read(const cg_frame *fr, int j, int64_t first, int64_t len,
                   double *out);

/* Channel j at the b events listed in at (any order) into out. */
void cg_frame_read_at(const cg_frame *fr, int j, const int64_t *at,
                      int64_t b, double *out);

/* Channel j whole: col[j] when held, else computed into *buf (a slab,
 * cg_frame_slab_get, taken here when *buf is NULL and kept for the next
 * call: the caller gives it back with cg_frame_slab_put).  NULL when out
 * of memory. */
const double *cg_frame_values(const cg_frame *fr, int j, double **buf);

/* Channel j's values at the events set in sel (NULL: all), in event
 * order, into out; returns how many. */
int64_t cg_frame_gather(const cg_frame *fr, int j, const cg_bits *sel,
                        double *out);
/* The same on up to nthreads threads (a float-held channel and enough
 * events; the values are the same at any count). */
int64_t cg_frame_gather_threads(const cg_frame *fr, int j, const cg_bits *sel,
                                double *out, int nthreads);

/* Make every channel a double column (compensation applied, the float
 * store freed): afterwards the frame is an ordinary one.  0 or < 0 with
 * err (out of memory; the frame is unchanged then). */
int cg_frame_materialize(cg_frame *fr, cg_err *err);

/* Record compensation of the float-held channels idx[0..m): reads of
 * channel idx[k] give the chain over j of fma(x[idx[j]], K[j + k m], acc)
 * (K column-major m x m, copied).  Used by cg_compensate; every idx[k]
 * must be float-held and no compensation recorded yet. */
int cg_frame_set_comp(cg_frame *fr, const int *idx, int m, const double *K,
                      cg_err *err);

/* Scratch for the frame's readers: slabs of cg_frame_slab_size bytes
 * (room for n + 1 doubles, 64-byte aligned).  A frame given memory that
 * is faulted in already (cytogate run: the decoded file's bytes) hands
 * it out slab by slab, so per-event scratch costs no fresh pages and the
 * peak memory is bounded by what was given; beyond it, slabs are fresh
 * and freed when put back.  Thread-safe (a mutex). */
size_t cg_frame_slab_size(const cg_frame *fr);
/* Carve mem (size bytes, taken over: freed with free() with the frame)
 * into at most `keep` slabs (< 1: as many as fit), of which those within
 * the first `ready` bytes may be handed out now; a slab past the mark is
 * waited for until cg_frame_slabs_ready raises it (another thread still
 * reading the memory: cytogate run hashes the file's bytes while the
 * sample starts).  The pages past the kept slabs go back to the system
 * once all of mem is ready (a later cg_frame_slabs_take gets them back
 * as fresh pages).  Once per frame; 0, or < 0 with err (mem not taken). */
int cg_frame_slabs_give(cg_frame *fr, void *mem, size_t size, size_t ready,
                        int keep, cg_err *err);
/* Raise the mark of cg_frame_slabs_give (never lowered; SIZE_MAX: all). */
void cg_frame_slabs_ready(const cg_frame *fr, size_t ready);
/* A slab (uninitialised), or NULL when out of memory. */
void *cg_frame_slab_get(const cg_frame *fr);
/* A free slab, ready, or NULL when there is none (nothing allocated,
 * no waiting): for memory that would rather be malloc'd at its own size
 * than take a fresh slab. */
void *cg_frame_slab_try(const cg_frame *fr);
/* Give a slab back (NULL: no-op). */
void cg_frame_slab_put(const cg_frame *fr, void *p);
/* The given memory whole, when every slab of it is back and all of it is
 * ready (then owned by the caller, and the frame has no slabs any more):
 * *size its bytes.  NULL when none was given or some slab is still out
 * or held back. */
void *cg_frame_slabs_take(cg_frame *fr, size_t *size);

/* Scratch of n doubles for the gating's own work (auto gates, KDE): a
 * slab of the frame the calling thread named with cg_frame_scratch_use
 * when it has one and n fits, else as cg_frame_col_alloc.  Give it back
 * with cg_frame_scratch_free on the same thread, before the thread names
 * another frame (or none).  cytogate run names its frame around the
 * gating, so those buffers reuse the sample's memory. */
void cg_frame_scratch_use(const cg_frame *fr); /* NULL: none */
double *cg_frame_scratch_alloc(int64_t n);
void cg_frame_scratch_free(double *p); /* NULL is a no-op */

/* Deep copy of the rows where keep[i] != 0 (keep NULL: all rows).
 * Float-held channels stay float-held, with the same compensation. */
cg_frame *cg_frame_subset(const cg_frame *fr, const uint8_t *keep,
                          cg_err *err);

#ifdef __cplusplus
}
#endif

#endif
