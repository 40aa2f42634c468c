/*
 * simulate.h -- synthetic PBMC Treg/Th17 samples with known truth.
 *
 * Generates list-mode events for a 10-colour panel (CD3, CD4, CD8, CD25,
 * CD127, FOXP3, IL-17A, CCR6, CXCR3, a viability dye) plus FSC-A, FSC-H,
 * SSC-A and Time, with debris, doublets, dead cells, monocytes, B and NK
 * cells, CD4/CD8/DN T cells, chosen Treg and Th17 fractions of CD4, real
 * spillover (observed = true * S + detector noise, S stored as
 * $SPILLOVER), and optional QC anomalies.  Writes FCS 3.1 (fcs_write)
 * and a truth sidecar JSON.  The population model is described in
 * simulate.c and README ("cytogate simulate").
 *
 * Truth is over labels, not gates: cd4 = live singlet CD3+ CD4+ CD8- T
 * cells as generated; treg, th17, th17_like, foxp3_treg are subsets of
 * them.  Every population is separable on the logicle scale (T 262144,
 * W 0.5, M 4.5) after compensation, so a correct gating recovers the
 * percentages (test_simulate checks it with the auto gates).
 *
 * Determinism: the output depends only on the options (own xoshiro256**
 * generator seeded by splitmix64 from `seed`); same options, same bytes.
 * Threading: no shared state; separate calls may run in parallel.
 */
#ifndef CG_SIMULATE_H
#define CG_SIMULATE_H

#include <stdint.h>

#include "cgerr.h"

typedef enum cg_sim_naming {
    CG_SIM_NAMING_BD = 0,   /* "FITC-A", "PE-A", ...; plain marker labels */
    CG_SIM_NAMING_CYTEK = 1 /* "B2-A", "YG1-A", ...; aliases: FoxP3,
                               IL-17A, "CCR6 (CD196)", Zombie, ... */
} cg_sim_naming;

/* Anomalies (bit set). */
enum {
    CG_SIM_CLOG = 1u,       /* flow-rate drop, then a burst */
    CG_SIM_DRIFT = 2u,      /* one detector's signal drifts over the run */
    CG_SIM_SATURATION = 4u, /* aggregates saturating the scatter detectors */
    CG_SIM_FEW = 8u         /* too few events (few_events) */
};

typedef struct cg_sim_opts {
    uint64_t seed;        /* [1] */
    int64_t events;       /* [50000] */
    double treg_pct;      /* Treg % of CD4 [6] */
    double th17_pct;      /* Th17 (IL-17A+) % of CD4 [1.5] */
    double debris_pct;    /* % of events [5] */
    double doublet_pct;   /* % of events [4] */
    double dead_pct;      /* % of events [6] */
    cg_sim_naming naming; /* [BD] */
    int big_endian;       /* $BYTEORD 4,3,2,1 [0] */
    unsigned anomalies;   /* CG_SIM_* bits [0] */
    char drift_marker[16];/* marker whose detector drifts [CD4] */
    double drift_amount;  /* relative signal change by the end [0.5] */
    double saturate_pct;  /* % of events saturating scatter [5] */
    int64_t few_events;   /* events when CG_SIM_FEW [300] */
    /* Written as keywords when set ($SRC / CYTOGATE_SUBJECT / _VISIT). */
    char sample_id[64], subject[64], visit[32];
} cg_sim_opts;

void cg_sim_opts_init(cg_sim_opts *o);

/* Population classes of the generated events. */
typedef enum cg_sim_class {
    CG_SIM_DEBRIS = 0,
    CG_SIM_DOUBLET,
    CG_SIM_DEAD,
    CG_SIM_AGGREGATE,  /* saturation anomaly */
    CG_SIM_MONO,
    CG_SIM_B,
    CG_SIM_NK,
    CG_SIM_CD8T,
    CG_SIM_DNT,
    CG_SIM_CD4T,
    CG_SIM_NCLASS
} cg_sim_class;

/* Attribute flags of CD4 T cells (cg_sim_data.flags). */
enum {
    CG_SIM_F_TREG = 1u,
    CG_SIM_F_FOXP3 = 2u,
    CG_SIM_F_TH17 = 4u,
    CG_SIM_F_CCR6 = 8u,
    CG_SIM_F_CXCR3 = 16u,
    CG_SIM_F_CD127LO = 32u
};

typedef struct cg_sim_truth {
    int64_t events;
    int64_t by_class[CG_SIM_NCLASS];
    int64_t cd4, treg, foxp3_treg, th17, th17_like;
    double treg_pct_cd4, th17_pct_cd4, th17_like_pct_cd4,
        foxp3_treg_pct_cd4;
    double th17_treg_ratio; /* th17 % / treg %; NaN when treg == 0 */
} cg_sim_truth;

/* Markers in panel order (index into cg_sim_data.fl_param). */
enum {
    CG_SIM_CD3 = 0, CG_SIM_CD4, CG_SIM_CD8, CG_SIM_CD25, CG_SIM_CD127,
    CG_SIM_FOXP3, CG_SIM_IL17A, CG_SIM_CCR6, CG_SIM_CXCR3, CG_SIM_VIAB,
    CG_SIM_NMARK
};
/* Canonical marker names ("CD3" ... "Viability"), as in the config. */
extern const char *const cg_sim_marker_names[CG_SIM_NMARK];

typedef struct cg_sim_data {
    int npar;               /* parameters in file order */
    const char **name;      /* $PnN, static strings (borrowed) */
    const char **label;     /* $PnS or NULL, static strings */
    double *range;          /* $PnR per parameter; owned */
    int64_t n;
    double **col;           /* npar columns of n observed values; owned */
    int fl_param[CG_SIM_NMARK]; /* parameter index of each marker */
    int fsc_a, fsc_h, ssc_a, time;
    /* Spillover over the fluorescence parameters in file order: nfl
     * names (= $PnN) and nfl*nfl row-major values (row = source). */
    int nfl;
    const char **spill_names;   /* borrowed static strings */
    double *spill;              /* owned */
    double timestep;            /* $TIMESTEP, seconds */
    uint8_t *cls;               /* per event: cg_sim_class; owned */
    uint8_t *flags;             /* per event: CG_SIM_F_*; owned */
    cg_sim_truth truth;
} cg_sim_data;

/* Generate.  Owned result (cg_sim_free), or NULL with err (bad options:
 * fractions out of range, too many events, unknown drift marker). */
cg_sim_data *cg_sim_generate(const cg_sim_opts *o, cg_err *err);
void cg_sim_free(cg_sim_data *d);

/* Write d as FCS 3.1 to fcs_path (atomic, via fcs_write) and, when
 * truth_path is not NULL, the truth JSON (atomic).  0 or < 0 with err
 * naming the file. */
int cg_sim_write(const cg_sim_data *d, const cg_sim_opts *o,
                 const char *fcs_path, const char *truth_path, cg_err *err);

/* The truth JSON text (owned string, free()); NULL on no memory. */
char *cg_sim_truth_json(const cg_sim_data *d, const cg_sim_opts *o);

#endif
