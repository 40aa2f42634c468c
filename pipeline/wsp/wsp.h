/*
 * wsp.h -- FlowJo 10 workspaces (.wsp): read, gate the samples, compare
 * with FlowJo's stored counts, write a cytogate config (issue 16).
 *
 * A workspace holds, per sample (SampleList/Sample): the FCS file's URI
 * and keywords, its compensation (a transforms:spilloverMatrix, or none),
 * one transform per channel (transforms:linear/log/logicle/biex/fasinh)
 * and its gate tree (SampleNode/Subpopulations: Population elements with
 * one Gating-ML-style gate each, and AndNode/OrNode/NotNode boolean
 * populations whose Dependents name other populations by path).  Every
 * population carries the event count FlowJo stored (`count`).
 *
 * The parsed form below is plain data (transparent structs): the reader
 * fills it, the evaluator (wsp_eval.c) turns one sample into a
 * cg_gatetree, and the config writer (wsp_config.c) into YAML.
 *
 * Ownership: cg_wsp_read returns an owned workspace (cg_wsp_free, NULL
 * ok); every pointer inside is owned by it.  Threading: a workspace is
 * immutable after reading; nothing global besides libxml2's own init.
 */
#ifndef CG_WSP_H
#define CG_WSP_H

#include <stdint.h>

#include "cgerr.h"
#include "gatetree.h"
#include "xform.h"

/* Transform kinds as FlowJo writes them. */
typedef enum cg_wsp_xf_kind {
    CG_WSP_XF_LINEAR = 0, /* minRange, maxRange, gain */
    CG_WSP_XF_LOG,        /* offset, decades */
    CG_WSP_XF_LOGICLE,    /* T, W, M, A (length 256) */
    CG_WSP_XF_BIEX,       /* neg, width, pos, maxRange, length */
    CG_WSP_XF_FASINH      /* T, M, A (W, length, maxRange unused) */
} cg_wsp_xf_kind;

typedef struct cg_wsp_xf {
    char *param;    /* channel the transform is for (may carry "Comp-") */
    int kind;       /* cg_wsp_xf_kind */
    double min, max, gain;  /* linear */
    double offset, decades; /* log */
    double T, W, M, A;      /* logicle, fasinh */
    double neg, width, pos, range, length; /* biex */
    int line;
} cg_wsp_xf;

/* A spillover matrix of a sample (transforms:spilloverMatrix). */
typedef struct cg_wsp_matrix {
    char *name;     /* "Acquisition-defined" = the FCS file's own */
    char *prefix, *suffix; /* how compensated channels are named */
    int n;
    char **param;   /* n detector ($PnN) names */
    double *v;      /* n*n row-major: row = source, column = detector */
    int line;
} cg_wsp_matrix;

typedef enum cg_wsp_gkind {
    CG_WSP_RECT = 0, /* also FlowJo's range and quadrant gates */
    CG_WSP_POLYGON,
    CG_WSP_ELLIPSE,
    CG_WSP_AND,
    CG_WSP_OR,
    CG_WSP_NOT
} cg_wsp_gkind;

typedef struct cg_wsp_dim {
    char *name;     /* as the gate names it ("Comp-CD3 APC-H7 FLR-A") */
    double min, max; /* rectangle bounds; NAN when open */
} cg_wsp_dim;

typedef struct cg_wsp_pop {
    char *name;     /* population name */
    char *path;     /* names from the top population down, '/'-joined */
    int parent;     /* index into the sample's pops, or -1 (the sample) */
    int kind;       /* cg_wsp_gkind */
    int complement; /* eventsInside="0": the outside of the gate */
    int ndim;
    cg_wsp_dim *dims;
    double *xy;     /* polygon: nv (x, y) pairs, raw (compensated) units */
    int nv;
    double foci[4]; /* ellipse: 2 foci and 4 edge points, (x, y) in */
    double edge[8]; /*   FlowJo's 256x256 display space */
    char **deps;    /* boolean: dependent population paths */
    int ndeps;
    int64_t stored; /* FlowJo's count attribute; -1 when absent/negative */
    int line;
} cg_wsp_pop;

typedef struct cg_wsp_sample {
    char *id;       /* sampleID */
    char *name;     /* SampleNode name (usually the FCS file name) */
    char *uri;      /* DataSet uri (may be NULL) */
    char *fil;      /* $FIL keyword (may be NULL) */
    int64_t stored_total; /* SampleNode count, -1 when absent */
    cg_wsp_matrix *comp;  /* NULL: uncompensated */
    cg_wsp_xf *xf;
    int nxf;
    cg_wsp_pop *pops; /* parents before children (document order) */
    int npops;
    char **groups;  /* names of the groups listing this sample */
    int ngroups;
    int line;
    char *error;    /* why the sample could not be read (a gate or
                       transform we do not support, ...): the message
                       names the file and line; its pops are then empty.
                       NULL when read. */
    int error_line;
} cg_wsp_sample;

typedef struct cg_wsp {
    char *path;
    char *version;       /* Workspace version attribute ("20.0") */
    char *flowjo_version;
    cg_wsp_sample *samples;
    int nsamples;
} cg_wsp;

/* Read a FlowJo 10 workspace.  NULL with err (line set; the message names
 * the file and line) when the XML is malformed or not a workspace.  A
 * sample whose gates or transforms cannot be understood (unsupported
 * element, missing coordinates) is kept with its `error` set, so one bad
 * sample does not stop the others. */
cg_wsp *cg_wsp_read(const char *path, cg_err *err);
cg_wsp *cg_wsp_read_mem(const char *buf, size_t n, const char *name,
                        cg_err *err);
void cg_wsp_free(cg_wsp *w);

const char *cg_wsp_gkind_name(int kind); /* "rectangle", "polygon", ... */
const char *cg_wsp_xf_name(int kind);    /* "linear", "biex", ... */

/* The transform of a gate dimension: the sample's transform for the name
 * as written, else for the name without the compensation prefix/suffix;
 * NULL when the sample has none (the dimension is then used untransformed).
 * Borrowed. */
const cg_wsp_xf *cg_wsp_sample_xf(const cg_wsp_sample *s, const char *dim);

/* The channel a dimension reads: the name without the matrix's prefix and
 * suffix when that names one of the matrix's detectors (*compensated = 1),
 * else the name as written (*compensated = 0).  Returns a pointer into a
 * static-free caller buffer buf[n]. */
const char *cg_wsp_dim_channel(const cg_wsp_sample *s, const char *dim,
                               int *compensated, char *buf, int n);

/* The cytogate transform for a FlowJo transform, on FlowJo's own scale
 * (logicle/fasinh/log 0..1, biex 0..4096 channels, linear the identity).
 * Owned, or NULL with err.  *scale (may be NULL) receives FlowJo's display
 * range of the result (256 display bins span 0..scale): 1, or 4096 for biex.
 * Linear gives the identity with *scale = 0 (display = 256 (x - min) /
 * (max - min)). */
cg_xform *cg_wsp_xform(const cg_wsp_xf *x, double *scale, cg_err *err);

/* ---- evaluation (wsp_eval.c) ------------------------------------------ */

/* Build sample s's gate tree: one population per workspace population,
 * id = its path.  Polygons and ellipses are evaluated on FlowJo's
 * transformed scale (vertices transformed like the events); rectangles on
 * the compensated values (the same events but for exact ties, and no
 * clamping at the top of a biex scale).  Compensation: dimensions carrying
 * the matrix prefix read matrix "wsp" (register it with
 * cg_wsp_sample_matrix) or, when use_fcs_spill is set (an
 * "Acquisition-defined" matrix and a file with its own spillover), the
 * file's spillover.  Owned tree, or NULL with err naming the population
 * and its line. */
cg_gatetree *cg_wsp_sample_tree(const cg_wsp_sample *s, int use_fcs_spill,
                                cg_err *err);

/* The sample's matrix as a cg_matrix (rows and columns the detector
 * names).  Owned, or NULL when the sample has none. */
cg_matrix *cg_wsp_sample_matrix(const cg_wsp_sample *s);

/* ---- config (wsp_config.c) -------------------------------------------- */

/* Write a cytogate config whose gates are sample s's, to path (atomic).
 * A custom matrix is written beside it as <OUT base>.comp.csv.  Gates that
 * a config cannot express (a polygon or ellipse on a biex axis, an
 * uncompensated gate on a compensated channel) are errors naming the
 * population and line; nothing is written then.  0 or < 0 with err. */
int cg_wsp_write_config(const cg_wsp *w, const cg_wsp_sample *s,
                        const char *path, cg_err *err);

#endif
