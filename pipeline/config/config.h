/*
 * config.h -- the gating config of `cytogate run` (YAML, parsed with
 * libyaml): panel, scatter channels, compensation, transforms, the gate
 * tree, headline populations, metrics, statistics and QC thresholds.
 *
 * The schema is configs/treg_th17.yaml; every key is documented in
 * README.md "Config reference" (text kept in pipeline/config.c's header
 * comment too).  Loading validates everything that can be checked without
 * data: unknown keys, types, ranges, gate parents defined earlier,
 * dimensions that name a panel marker or scatter role, statistics names,
 * metric populations.  A config that loads is never refused later for
 * being malformed; per-sample problems (a marker missing from a file) are
 * per-sample errors.
 *
 * Errors: cg_err with line = the 1-based YAML line of the offending node,
 * message "KEY.PATH: what is wrong (expected ...)".
 *
 * Ownership: cg_config_load/parse return an owned config (cg_config_free,
 * NULL ok); every pointer inside is owned by the config.  Threading: the
 * config is immutable after loading and shared read-only by all workers.
 */
#ifndef CG_CONFIG_H
#define CG_CONFIG_H

#include <stddef.h>

#include "cgerr.h"

#define CG_CONFIG_VERSION 1
#define CG_HEAD_ALT 4 /* alternatives in a headline or metric gate list */

/* One marker of the panel. */
typedef struct cg_marker_spec {
    char *name;      /* as written in the config ("CD25", "Viability") */
    char *channel;   /* pinned $PnN, or NULL: resolve through $PnS */
    char **aliases;  /* extra names accepted for this marker (owned) */
    int naliases;
    int optional;    /* 1: a file without it still runs */
    int line;
} cg_marker_spec;

/* One scatter/time role ("FSC-A") and the $PnN patterns that find it.
 * Patterns are case-insensitive; '*' matches any run of characters. */
typedef struct cg_scatter_spec {
    char *role;
    char **patterns;
    int npatterns;
    int optional; /* roles no gate uses are optional (computed at load) */
    int line;
} cg_scatter_spec;

typedef enum cg_comp_mode {
    CG_CMP_FILE = 0, /* the spillover matrix in the FCS keywords */
    CG_CMP_NONE = 1,
    CG_CMP_CSV = 2   /* a CSV matrix (path) */
} cg_comp_mode;

typedef enum cg_tf_type {
    CG_TF_LOGICLE = 0,
    CG_TF_ARCSINH = 1,
    CG_TF_LINEAR = 2, /* identity */
    CG_TF_LOG = 3     /* log10(x), NaN for x <= 0 */
} cg_tf_type;

typedef struct cg_tf_spec {
    char *target;   /* "default", "scatter" or a marker name */
    int type;       /* cg_tf_type */
    double T, W, M, A; /* logicle; W < 0 means `W: auto`; T < 0 `T: auto`
                          (the channel's $PnR, else its largest value);
                          M < 0 `M: auto` (4.5 + log10(T / 262144), so
                          the log region starts near 8 units whatever T) */
    double cofactor;   /* arcsinh */
    int line;
} cg_tf_spec;

typedef enum cg_gs_type {
    CG_GS_SCATTER = 0,  /* auto: FSC/SSC main mode contour */
    CG_GS_SINGLETS,     /* auto: band around the FSC-A/FSC-H diagonal */
    CG_GS_THRESHOLD,    /* one or more 1-D cut points (auto or fixed) */
    CG_GS_RANGE,        /* 1-D interval [min, max] */
    CG_GS_RECTANGLE,    /* n-D box (dims with min/max) */
    CG_GS_POLYGON,
    CG_GS_ELLIPSE,
    CG_GS_QUADRANT,
    CG_GS_BOOLEAN
} cg_gs_type;

typedef enum cg_tm_method {
    CG_TM_FIXED = 0, /* `value` */
    CG_TM_VALLEY,    /* density minimum between the two main peaks */
    CG_TM_TAIL,      /* density beyond the main peak below `fraction` */
    CG_TM_QUANTILE,  /* the `q` quantile of the parent */
    CG_TM_INTERVAL   /* range/rectangle dims: [min, max] */
} cg_tm_method;

typedef enum cg_keep { CG_KEEP_ABOVE = 0, CG_KEEP_BELOW = 1 } cg_keep;

/* One dimension of a threshold/range/rectangle gate.  Unset doubles are
 * NAN (min/max NAN: unbounded on that side). */
typedef struct cg_dim_spec {
    char *marker;      /* panel marker or scatter role */
    int method;        /* cg_tm_method */
    int keep;          /* cg_keep (threshold dims) */
    double value;      /* fixed threshold */
    double min, max;   /* interval bounds */
    double lo, hi;     /* auto-gate search range (NAN: whole data) */
    double fraction;   /* tail: density fraction; 0 = spread rule [0] */
    double q;          /* quantile probability in (0,1) */
    double adjust;     /* KDE bandwidth multiplier [1] */
    /* valley with one peak: where the cut goes relative to the peak:
     * +1 above (`one_peak: below`, the peak is the low population), -1
     * below (`one_peak: above`), 0 no cut (`one_peak: fail`).  The default
     * keeps the peak: keep below -> +1, keep above -> -1. */
    int one_peak;
    int one_peak_set;  /* 1: one_peak was written in the config */
    /* tail: +1 cut above the main peak, -1 below; default from keep. */
    int side;
    double k;          /* spread rule multiplier [4] */
    char *within_name; /* as written (owned) */
    int within;        /* index of another dim of this gate whose cut is
                          applied first to choose the events this dim's
                          density uses (`within: MARKER`), or -1 */
    int optional;      /* 1: dropped when its marker is not in the file */
    int line;
} cg_dim_spec;

typedef enum cg_gb_op { CG_GB_AND = 0, CG_GB_OR, CG_GB_NOT } cg_gb_op;

typedef struct cg_gate_spec {
    char *name;
    int parent;      /* index of an earlier gate, or -1 (all events) */
    int type;        /* cg_gs_type */
    int raw_units;   /* 1: coordinates in raw (compensated) units */
    int line;
    /* threshold, range, rectangle */
    cg_dim_spec *dims;
    int ndims;
    /* scatter, singlets, polygon, ellipse, quadrant */
    char *x, *y;
    double level;     /* scatter: contour at level x mode density [0.05] */
    double tolerance; /* singlets: relative band half-width [0.12] */
    double adjust;    /* scatter/singlets KDE bandwidth multiplier [1] */
    double *vx, *vy;  /* polygon vertices */
    int nvert;
    double cx, cy, ra, rb, angle; /* ellipse: centre, half-axes, degrees */
    double qx, qy;    /* quadrant: crossing point */
    int qxpos, qypos; /* quadrant kept: 1 = above, 0 = below, per axis */
    /* boolean */
    int op;           /* cg_gb_op */
    int *of;          /* operand gate indices */
    int nof;
    char *definition; /* `definition:` text for treg_definition /
                         th17_definition (NULL: the gate name) */
} cg_gate_spec;

typedef enum cg_metric_type {
    CG_METRIC_RATIO = 0,  /* count(numerator) / count(denominator) */
    CG_METRIC_PERCENT = 1 /* 100 * count(numerator) / count(denominator) */
} cg_metric_type;

typedef struct cg_metric_spec {
    char *name;
    int type;             /* cg_metric_type */
    int num, den;         /* gate indices (the first of each list) */
    /* numerator/denominator may be lists of gates: per sample the first
     * evaluable one is used (e.g. [th17, th17_like]) */
    int num_alt[CG_HEAD_ALT], den_alt[CG_HEAD_ALT];
    int nnum_alt, nden_alt;
    long min_denominator; /* events; below it the metric is NA [1] */
    int line;
} cg_metric_spec;

typedef enum cg_stat_kind {
    CG_ST_MEDIAN = 0, CG_ST_MEAN, CG_ST_GEOMEAN, CG_ST_SD, CG_ST_CV,
    CG_ST_RCV, CG_ST_MAD, CG_ST_PCTL
} cg_stat_kind;

typedef struct cg_stat_spec {
    int kind;      /* cg_stat_kind */
    double p;      /* CG_ST_PCTL: percentile in [0, 100] */
    char name[24]; /* as written: "median", "p5", "p15.87" */
} cg_stat_spec;

/* A `qc:` entry, passed verbatim to the QC engine. */
typedef struct cg_qc_kv {
    char *key;
    char *value;
    int line;
} cg_qc_kv;

typedef struct cg_config {
    char *path;          /* as given to cg_config_load (or the parse name) */
    char *dir;           /* directory of path ("." when none) */
    char *text;          /* the whole file as read (for hashing/provenance) */
    size_t text_len;
    char *name;
    cg_marker_spec *markers;
    int nmarkers;
    cg_scatter_spec *scatter;
    int nscatter;
    int comp_mode;       /* cg_comp_mode */
    char *comp_path;     /* CG_CMP_CSV: path, resolved against dir */
    cg_tf_spec *tf;      /* tf[0] default, tf[1] scatter, then markers */
    int ntf;
    cg_gate_spec *gates;
    int ngates;
    int head_cd4, head_treg, head_th17; /* gate indices (or -1): the
                                           first of each headline list */
    /* headline lists: head_alt[0] cd4, [1] treg, [2] th17; per sample the
     * first evaluable gate of the list fills the column */
    int head_alt[3][CG_HEAD_ALT];
    int nhead_alt[3];
    cg_metric_spec *metrics;
    int nmetrics;
    int *pct_of;         /* stats.percent_of: gate indices */
    int npct_of;
    int *stat_markers;   /* stats.markers: marker indices */
    int nstat_markers;
    cg_stat_spec *stats;
    int nstats;
    int stats_transformed; /* stats.scale: transformed (1) or raw (0) */
    cg_qc_kv *qc;
    int nqc;
} cg_config;

/* Load and validate a config file.  Owned, or NULL with err (line set when
 * the problem is on a line).  err->msg does not repeat the path. */
cg_config *cg_config_load(const char *path, cg_err *err);

/* Same from memory; `name` stands in for the path (relative CSV paths
 * resolve against its directory). */
cg_config *cg_config_parse(const char *buf, size_t n, const char *name,
                           cg_err *err);

void cg_config_free(cg_config *cfg);

/* Index of the gate / marker / scatter role with that name; -1 when none.
 * Marker and role lookups are case-insensitive. */
int cg_config_gate(const cg_config *cfg, const char *name);
int cg_config_marker(const cg_config *cfg, const char *name);
int cg_config_role(const cg_config *cfg, const char *name);

/* The transform spec that applies to a marker (marker >= 0) or to the
 * scatter channels (marker == -1).  Borrowed. */
const cg_tf_spec *cg_config_tf(const cg_config *cfg, int marker);

/* Parse a statistic name ("median", "p15.87", ...).  0 ok, -1 unknown. */
int cg_stat_parse(const char *s, cg_stat_spec *out);

/* Short names for enum values (for JSON output). */
const char *cg_gs_type_name(int type);
const char *cg_tm_method_name(int method);
const char *cg_tf_type_name(int type);

#endif
