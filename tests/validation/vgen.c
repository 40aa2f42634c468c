/*
 * vgen.c -- an independent validation corpus for cytogate's auto-gating
 * (issue #13).  Written apart from `cytogate simulate`: its own cell
 * model, noise model, RNG and FCS writer; links only libm.
 *
 *   vgen [--subset golden|full|big] [--seed N] [--labels] OUTDIR
 *
 * Writes OUTDIR/<name>.fcs, OUTDIR/<name>.truth.json and
 * OUTDIR/MANIFEST.tsv (--labels adds <name>.labels.tsv: each event's
 * class and labels, in DATA order, for diagnosing a gate).  `golden` is a ~10-file subset of small files,
 * `full` the whole matrix (70+ files), `big` the matrix plus one
 * 1,000,000-event file.  Same arguments, same bytes (on one platform:
 * libm's exp/log are the only outside code).
 *
 * Model (tests/validation/README.md says it in prose): each event is a
 * cell of one class (debris, monocyte, B, NK, CD8 T, CD4 T, DN T), maybe
 * dead or a doublet; each marker has a log-normal abundance in molecules
 * per class (CD4 T cells carry Treg / activated / Th17 / chemokine
 * receptor labels).  A detector sees the sum over fluorochromes of
 * abundance x brightness x spillover, plus class autofluorescence, then
 * Poisson photon noise (variance proportional to signal) and Gaussian
 * electronic noise, so compensated negatives exist and spillover
 * spreading is real.  Truth is counted on labels, never on gates.
 *
 * Single-threaded; no globals beyond constant tables.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- RNG: PCG32 (O'Neill), one stream per file ---------------------- */

typedef struct { uint64_t s, inc; } rng;

static uint32_t rng_u32(rng *r)
{
    uint64_t old = r->s;
    r->s = old * 6364136223846793005ULL + r->inc;
    uint32_t x = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (x >> rot) | (x << ((-rot) & 31));
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    r->s = 0;
    r->inc = (stream << 1u) | 1u;
    rng_u32(r);
    r->s += seed;
    rng_u32(r);
}

static double unif(rng *r) /* (0,1) */
{
    uint64_t a = rng_u32(r) >> 5, b = rng_u32(r) >> 6;
    return ((double)(a * 67108864.0 + b) + 0.5) / 9007199254740992.0;
}

static double gauss(rng *r)
{
    double u = unif(r), v = unif(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static double poisson(rng *r, double lam)
{
    if (lam <= 0)
        return 0;
    if (lam < 40) {
        double L = exp(-lam), p = 1;
        int k = 0;
        do {
            k++;
            p *= unif(r);
        } while (p > L);
        return k - 1;
    }
    double k = floor(lam + sqrt(lam) * gauss(r) + 0.5);
    return k < 0 ? 0 : k;
}

/* log10-normal abundance in molecules */
static double lgn(rng *r, double mu, double sd) { return pow(10.0, mu + sd * gauss(r)); }

/* ---- markers, fluorochromes, instruments ----------------------------- */

enum { CD3, CD4, CD8, CD25, CD127, FOXP3, IL17A, CCR6, CXCR3, VIAB, FILL, NMARK };
static const char *const mark_name[NMARK] = {"CD3", "CD4", "CD8", "CD25", "CD127",
                                             "FOXP3", "IL17A", "CCR6", "CXCR3",
                                             "Viability", "other"};

typedef struct {
    const char *name;
    int laser;     /* 0 UV, 1 violet, 2 blue, 3 yellow-green, 4 red */
    double em;     /* emission peak, nm */
    double bright; /* signal units per molecule at gain 1 */
    double af;     /* autofluorescence of a lymphocyte in this detector */
} fluor;

enum { F_BUV395, F_BUV496, F_BUV737, F_BUV805, F_BV421, F_BV510, F_BV605, F_BV650,
       F_BV711, F_BV786, F_FITC, F_BB700, F_PERCP55, F_PE, F_PECF594, F_PECY5,
       F_PECY7, F_APC, F_AF700, F_APCCY7, F_PB450, F_KO525, F_ECD, F_NFL };

static const fluor fl_tab[F_NFL] = {
    {"BUV395", 0, 395, 0.9, 90},   {"BUV496", 0, 496, 0.7, 140},
    {"BUV737", 0, 737, 0.8, 20},   {"BUV805", 0, 805, 0.6, 15},
    {"BV421", 1, 421, 2.2, 120},   {"BV510", 1, 510, 0.6, 160},
    {"BV605", 1, 605, 1.6, 60},    {"BV650", 1, 650, 1.3, 40},
    {"BV711", 1, 711, 1.2, 30},    {"BV786", 1, 786, 0.9, 25},
    {"FITC", 2, 525, 0.5, 180},    {"BB700", 2, 700, 1.0, 50},
    {"PerCP-Cy5.5", 2, 695, 0.6, 45}, {"PE", 3, 578, 2.6, 70},
    {"PE-CF594", 3, 615, 1.5, 50}, {"PE-Cy5", 3, 667, 1.6, 35},
    {"PE-Cy7", 3, 780, 1.1, 25},   {"APC", 4, 660, 1.8, 20},
    {"AF700", 4, 720, 0.45, 15},   {"APC-Cy7", 4, 780, 0.5, 15},
    {"PB450", 1, 450, 1.0, 120},   {"KO525", 1, 525, 0.5, 150},
    {"ECD", 3, 615, 1.4, 50},
};

typedef struct {
    const char *pnn;
    int fl;
    int mark; /* default marker, or -1 for an unlabelled / other channel */
} chan;

enum { MAXCH = 16 };

typedef struct {
    const char *key, *cyt, *ver;
    char dtype;        /* I, F, D */
    int bits;          /* 16, 32, 64 */
    int big;           /* 1: $BYTEORD 4,3,2,1 */
    double range;      /* $PnR of scatter and fluorescence */
    int logamp;        /* 10-bit log fluorescence, $PnE 4,1 */
    const char *spill; /* keyword name or NULL */
    int unmixed;       /* spectral: no spillover, unmixing spread */
    double gain, enoise, q;
    const char *fsca, *fsch, *ssca, *time;
    double timestep;
    char delim;
    int hdrlen; /* TEXT begins here */
    int dim17;  /* channel index a dim-IL-17A panel puts IL-17A on */
    int nch;
    chan ch[MAXCH];
} instr;

enum { I_CANTO, I_FORTESSA, I_SYMPHONY, I_GALLIOS, I_NAVIOS, I_CYTOFLEX, I_ATTUNE,
       I_AURORA, I_NOVOCYTE, I_CELESTA, NINSTR };

static const instr in_tab[NINSTR] = {
    {"canto", "BD FACSCanto II", "3.0", 'F', 32, 1, 262144, 0, "SPILL", 0,
     1.0, 18, 6, "FSC-A", "FSC-H", "SSC-A", "Time", 0.01, '|', 256, 2, 8,
     {{"FITC-A", F_FITC, CD4}, {"PE-A", F_PE, IL17A}, {"PerCP-Cy5-5-A", F_PERCP55, CD3},
      {"PE-Cy7-A", F_PECY7, CD127}, {"APC-A", F_APC, FOXP3}, {"APC-Cy7-A", F_APCCY7, VIAB},
      {"V450-A", F_BV421, CD25}, {"V500-A", F_BV510, CD8}}},
    {"fortessa", "LSRFortessa", "3.0", 'F', 32, 1, 262144, 0, "SPILL", 0,
     1.0, 15, 5, "FSC-A", "FSC-H", "SSC-A", "Time", 0.01, '|', 256, 7, 13,
     {{"BV421-A", F_BV421, CD25}, {"BV510-A", F_BV510, VIAB}, {"BV605-A", F_BV605, CD4},
      {"BV711-A", F_BV711, CCR6}, {"BV786-A", F_BV786, CD3}, {"FITC-A", F_FITC, CXCR3},
      {"PerCP-Cy5-5-A", F_PERCP55, CD8}, {"PE-A", F_PE, IL17A}, {"PE-CF594-A", F_PECF594, FILL},
      {"PE-Cy7-A", F_PECY7, CD127}, {"APC-A", F_APC, FOXP3}, {"Alexa Fluor 700-A", F_AF700, FILL},
      {"APC-Cy7-A", F_APCCY7, -1}}},
    {"symphony", "FACSymphony A5", "3.1", 'F', 32, 0, 262144, 0, "$SPILLOVER", 0,
     1.0, 12, 4, "FSC-A", "FSC-H", "SSC-A", "Time", 0.01, '|', 58, 9, 12,
     {{"BUV395-A", F_BUV395, CD4}, {"BUV496-A", F_BUV496, CD8}, {"BUV737-A", F_BUV737, CD3},
      {"BV421-A", F_BV421, CXCR3}, {"BV510-A", F_BV510, VIAB}, {"BV650-A", F_BV650, CCR6},
      {"FITC-A", F_FITC, FILL}, {"BB700-A", F_BB700, CD127}, {"PE-A", F_PE, IL17A},
      {"PE-Cy7-A", F_PECY7, CD25}, {"APC-A", F_APC, FOXP3}, {"APC-Cy7-A", F_APCCY7, -1}}},
    {"gallios", "Gallios", "2.0", 'I', 16, 0, 1024, 1, NULL, 0,
     0.09, 0.6, 0.12, "FS INT", "FS PEAK", "SS INT", "TIME", 0.01, '\\', 58, 4, 10,
     {{"FL1 INT", F_FITC, CD4}, {"FL2 INT", F_PE, IL17A}, {"FL3 INT", F_ECD, CD127},
      {"FL4 INT", F_PERCP55, CD8}, {"FL5 INT", F_PECY7, CD25}, {"FL6 INT", F_APC, FOXP3},
      {"FL7 INT", F_AF700, CCR6}, {"FL8 INT", F_APCCY7, VIAB}, {"FL9 INT", F_PB450, CD3},
      {"FL10 INT", F_KO525, CXCR3}}},
    {"navios", "Navios", "3.0", 'F', 32, 0, 1048576, 0, "$SPILLOVER", 0,
     3.5, 40, 14, "FS INT", "FS PEAK", "SS INT", "TIME", 0.1, '/', 58, 9, 10,
     {{"FL1 INT", F_FITC, CXCR3}, {"FL2 INT", F_PE, IL17A}, {"FL3 INT", F_ECD, CD127},
      {"FL4 INT", F_PERCP55, CD8}, {"FL5 INT", F_PECY7, CD25}, {"FL6 INT", F_APC, FOXP3},
      {"FL7 INT", F_AF700, CCR6}, {"FL8 INT", F_APCCY7, VIAB}, {"FL9 INT", F_PB450, CD3},
      {"FL10 INT", F_KO525, CD4}}},
    {"cytoflex", "CytoFLEX S", "3.0", 'F', 32, 0, 1048576, 0, "$SPILL", 0,
     4.0, 50, 20, "FSC-A", "FSC-H", "SSC-A", "Time", 0.01, '|', 58, 0, 10,
     {{"FITC-A", F_FITC, CD127}, {"PE-A", F_PE, IL17A}, {"ECD-A", F_ECD, CCR6},
      {"PC5.5-A", F_PERCP55, CD8}, {"PC7-A", F_PECY7, CD25}, {"APC-A", F_APC, FOXP3},
      {"APC-A700-A", F_AF700, CXCR3}, {"APC-A750-A", F_APCCY7, VIAB}, {"PB450-A", F_PB450, CD4},
      {"KO525-A", F_KO525, CD3}}},
    {"attune", "Attune NxT", "3.1", 'I', 32, 0, 1048576, 0, "$SPILLOVER", 0,
     3.0, 45, 15, "FSC-A", "FSC-H", "SSC-A", "Time", 0.001, '/', 58, 7, 10,
     {{"VL1-A", F_BV421, CD25}, {"VL2-A", F_BV510, VIAB}, {"VL3-A", F_BV605, CD3},
      {"VL4-A", F_BV711, CCR6}, {"BL1-A", F_FITC, CD4}, {"BL3-A", F_PERCP55, CD8},
      {"YL1-A", F_PE, IL17A}, {"YL4-A", F_PECY7, CD127}, {"RL1-A", F_APC, FOXP3},
      {"RL2-A", F_AF700, CXCR3}}},
    {"aurora", "Aurora", "3.0", 'F', 32, 0, 4194304, 0, NULL, 1,
     12.0, 150, 40, "FSC-A", "FSC-H", "SSC-A", "Time", 0.0001, '\f', 58, 5, 12,
     {{"BUV395-A", F_BUV395, CD8}, {"BUV805-A", F_BUV805, CD3}, {"BV421-A", F_BV421, CXCR3},
      {"BV510-A", F_BV510, VIAB}, {"BV605-A", F_BV605, CD4}, {"BV711-A", F_BV711, FILL},
      {"FITC-A", F_FITC, CD127}, {"PE-A", F_PE, IL17A}, {"PE-Cy5-A", F_PECY5, CCR6},
      {"PE-Cy7-A", F_PECY7, CD25}, {"APC-A", F_APC, FOXP3}, {"AF700-A", F_AF700, FILL}}},
    {"novocyte", "NovoCyte Quanteon", "3.1", 'I', 32, 1, 16777216, 0, "$SPILLOVER", 0,
     40.0, 400, 130, "FSC-A", "FSC-H", "SSC-A", "Time", 0.001, '|', 58, 2, 10,
     {{"BV421-H", F_BV421, CD4}, {"BV510-H", F_BV510, VIAB}, {"FITC-H", F_FITC, CD8},
      {"PerCP-H", F_PERCP55, CD3}, {"PE-H", F_PE, IL17A}, {"PE-Cy7-H", F_PECY7, CD25},
      {"APC-H", F_APC, FOXP3}, {"APC-Cy7-H", F_APCCY7, CD127}, {"BV605-H", F_BV605, CCR6},
      {"BV711-H", F_BV711, CXCR3}}},
    {"celesta", "BD FACSCelesta (FlowJo export)", "3.1", 'D', 64, 0, 262144, 0,
     "$SPILLOVER", 0, 1.0, 16, 6, "FSC-A", "FSC-H", "SSC-A", "Time", 0.01, '/', 58, 4, 10,
     {{"BV421-A", F_BV421, CD3}, {"BV510-A", F_BV510, VIAB}, {"BV605-A", F_BV605, CCR6},
      {"BV711-A", F_BV711, CXCR3}, {"FITC-A", F_FITC, CD4}, {"PerCP-Cy5-5-A", F_PERCP55, CD8},
      {"PE-A", F_PE, IL17A}, {"PE-Cy7-A", F_PECY7, CD25}, {"APC-A", F_APC, FOXP3},
      {"APC-R700-A", F_AF700, CD127}}},
};

/* ---- the matrix -------------------------------------------------------- */

enum { P_FULL, P_NOFOXP3, P_NOCHEM, P_SURFACE, P_NOCD127 };
static const char *const panel_name[] = {"full", "noFOXP3", "noCCR6CXCR3",
                                         "surface", "noCD127"};

enum { S_ONEPEAK = 1, S_OUTLIERS = 2, S_DIM25 = 4, S_DIM17 = 8, S_SAT = 16,
       S_CLOG = 32, S_LOG40 = 64 };

typedef struct {
    int ins, panel, flags;
    int events;
    double treg, th17, like; /* % of CD4 T: Treg, IL-17A+, CCR6+CXCR3- */
    int golden, big;
    const char *tag;
} row;

static const row matrix[] = {
    /* specials first, so names stay stable when base rows change */
    {I_FORTESSA, P_FULL, S_ONEPEAK, 30000, 7, 1.5, 8, 0, 0, "onepeak"},
    {I_CYTOFLEX, P_FULL, S_ONEPEAK, 12000, 5, 1.0, 8, 1, 0, "onepeak"},
    {I_ATTUNE, P_FULL, S_ONEPEAK, 25000, 9, 2.0, 8, 0, 0, "onepeak"},
    {I_NOVOCYTE, P_FULL, S_ONEPEAK, 20000, 4, 0.8, 8, 0, 0, "onepeak"},
    {I_CANTO, P_FULL, S_OUTLIERS, 30000, 6, 1.2, 8, 0, 0, "outliers"},
    {I_SYMPHONY, P_FULL, S_OUTLIERS, 25000, 8, 2.5, 8, 0, 0, "outliers"},
    {I_AURORA, P_FULL, S_OUTLIERS, 40000, 5, 1.0, 8, 0, 0, "outliers"},
    {I_CELESTA, P_FULL, S_OUTLIERS, 20000, 10, 3.0, 8, 0, 0, "outliers"},
    {I_FORTESSA, P_FULL, S_DIM25, 30000, 6, 1.5, 8, 0, 0, "dimcd25"},
    {I_GALLIOS, P_FULL, S_DIM25, 12000, 7, 1.5, 8, 1, 0, "dimcd25"},
    {I_CYTOFLEX, P_FULL, S_DIM25, 25000, 4, 1.0, 8, 0, 0, "dimcd25"},
    {I_NOVOCYTE, P_FULL, S_DIM25, 30000, 10, 2.0, 8, 0, 0, "dimcd25"},
    {I_CANTO, P_FULL, S_DIM17, 30000, 6, 1.5, 8, 0, 0, "dimil17"},
    {I_FORTESSA, P_FULL, S_DIM17, 25000, 5, 2.0, 8, 0, 0, "dimil17"},
    {I_ATTUNE, P_FULL, S_DIM17, 30000, 8, 3.0, 8, 0, 0, "dimil17"},
    {I_CELESTA, P_FULL, S_DIM17, 20000, 7, 1.0, 8, 0, 0, "dimil17"},
    {I_SYMPHONY, P_NOFOXP3, 0, 25000, 6, 1.5, 8, 0, 0, "nofoxp3"},
    {I_CYTOFLEX, P_NOFOXP3, 0, 30000, 9, 2.0, 8, 0, 0, "nofoxp3"},
    {I_AURORA, P_NOFOXP3, 0, 20000, 5, 1.0, 8, 0, 0, "nofoxp3"},
    {I_FORTESSA, P_NOCHEM, 0, 25000, 7, 1.8, 8, 0, 0, "nochem"},
    {I_ATTUNE, P_NOCHEM, 0, 20000, 4, 1.0, 8, 0, 0, "nochem"},
    {I_FORTESSA, P_SURFACE, 0, 30000, 6, 0, 9, 0, 0, "surface"},
    {I_AURORA, P_SURFACE, 0, 12000, 8, 0, 6, 1, 0, "surface"},
    {I_NOVOCYTE, P_SURFACE, 0, 25000, 5, 0, 12, 0, 0, "surface"},
    {I_SYMPHONY, P_NOCD127, 0, 25000, 6, 1.5, 8, 0, 0, "nocd127"},
    {I_NAVIOS, P_NOCD127, 0, 12000, 8, 2.0, 8, 1, 0, "nocd127"},
    {I_CELESTA, P_NOCD127, 0, 20000, 5, 1.0, 8, 0, 0, "nocd127"},
    {I_FORTESSA, P_FULL, S_SAT, 25000, 6, 1.5, 8, 0, 0, "saturation"},
    {I_CYTOFLEX, P_FULL, S_SAT, 20000, 8, 2.0, 8, 0, 0, "saturation"},
    {I_CANTO, P_FULL, S_CLOG, 15000, 6, 1.5, 8, 1, 0, "clog"},
    {I_ATTUNE, P_FULL, S_CLOG, 30000, 7, 2.0, 8, 0, 0, "clog"},
    {I_FORTESSA, P_FULL, 0, 2000, 8, 2.0, 8, 1, 0, "small2k"},
    {I_GALLIOS, P_FULL, 0, 2000, 6, 1.5, 8, 0, 0, "small2k"},
    {I_CYTOFLEX, P_FULL, 0, 5000, 7, 1.5, 8, 0, 0, "small5k"},
    {I_SYMPHONY, P_FULL, 0, 25000, 6, 0, 8, 0, 0, "noth17"},
    {I_CELESTA, P_FULL, 0, 20000, 9, 0, 8, 0, 0, "noth17"},
    {I_NAVIOS, P_FULL, 0, 30000, 20, 2.0, 8, 0, 0, "treg20"},
    {I_ATTUNE, P_FULL, 0, 30000, 0.5, 1.0, 8, 0, 0, "treg05"},
    {I_GALLIOS, P_FULL, S_LOG40, 20000, 6, 1.5, 8, 0, 0, "pne40"},
    {I_FORTESSA, P_FULL, 0, 200000, 7, 1.2, 8, 0, 0, "large"},
    {I_AURORA, P_FULL, 0, 120000, 6, 0.8, 8, 0, 0, "large"},
    {I_FORTESSA, P_FULL, 0, 1000000, 7, 1.5, 8, 0, 1, "huge"},
};
enum { NSPECIAL = sizeof matrix / sizeof matrix[0] };

/* base rows: three per instrument, all markers the instrument carries */
static row base_row(int i, int k)
{
    static const int ev[3] = {20000, 40000, 12000};
    static const double tr[3] = {6, 13, 1.6}, t17[3] = {1.2, 3.6, 0.4};
    row r = {i, P_FULL, 0, ev[k] + 1000 * i, tr[k] + 0.35 * i,
             t17[k] + 0.07 * i, 6 + 0.5 * i, 0, 0, "base"};
    r.golden = (k == 2 && (i == I_CANTO || i == I_GALLIOS || i == I_AURORA ||
                           i == I_NOVOCYTE || i == I_ATTUNE));
    return r;
}

/* ---- cells --------------------------------------------------------------- */

/* debris, monocyte, B, NK, CD8 T, CD4 T, DN (CD4- CD8-) T */
enum { C_DEBRIS, C_MONO, C_B, C_NK, C_CD8T, C_CD4T, C_DNT, NCLASS };
/* fraction of events by class (before dead / doublet) */
static const double class_w[NCLASS] = {0.07, 0.14, 0.10, 0.09, 0.18, 0.38, 0.04};
/* log10 molecules: mean, sd per class and marker (CD4 T subsets below) */
static const double ab_mu[NCLASS][NMARK] = {
    /* CD3  CD4  CD8  CD25 CD127 FOXP3 IL17 CCR6 CXCR3 VIAB FILL */
    {1.5, 1.4, 1.4, 1.3, 1.3, 1.4, 1.4, 1.3, 1.3, 2.7, 1.5},
    {1.3, 3.55, 1.3, 2.3, 1.6, 1.6, 1.5, 1.7, 1.6, 1.9, 2.2},
    {1.3, 1.3, 1.3, 2.2, 1.7, 1.5, 1.4, 3.4, 1.7, 1.8, 3.3},
    {1.4, 1.3, 3.5, 2.0, 1.8, 1.5, 1.4, 1.4, 3.0, 1.8, 2.0},
    {4.25, 1.3, 4.5, 1.8, 3.3, 1.5, 1.5, 2.0, 2.6, 1.8, 2.6},
    {4.25, 4.4, 1.3, 0, 0, 0, 0, 0, 0, 1.8, 2.6},
    {4.0, 1.4, 1.6, 1.8, 3.0, 1.5, 1.5, 2.0, 2.4, 1.8, 2.4},
};
static const double af_mult[NCLASS] = {0.6, 3.0, 1.0, 1.2, 1.0, 1.0, 1.0};

typedef struct {
    int cls, dead, doublet, junk; /* junk: pile-up or outlier event */
    int treg, act, il17, like;    /* CD4 T labels */
    double ab[NMARK];
    double fsca, fsch, ssca, afm;
} cell;

typedef struct {
    double ftreg, fil17, flike, fdead;
    int dim25, dim17;
} popmodel;

static void gen_single(rng *r, const popmodel *pm, cell *c)
{
    memset(c, 0, sizeof *c);
    double u = unif(r), acc = 0;
    int k = NCLASS - 1;
    for (int i = 0; i < NCLASS; i++) {
        acc += class_w[i];
        if (u < acc) {
            k = i;
            break;
        }
    }
    c->cls = k;
    for (int m = 0; m < NMARK; m++)
        c->ab[m] = lgn(r, ab_mu[k][m], ab_mu[k][m] > 3 ? 0.17 : 0.35);
    if (k == C_B || k == C_CD4T || k == C_CD8T) /* bimodal filler (CD45RA-like) */
        c->ab[FILL] = unif(r) < 0.5 ? lgn(r, 3.4, 0.2) : lgn(r, 1.6, 0.4);
    if (k == C_NK && unif(r) < 0.4) /* CD8-dim NK */
        c->ab[CD8] = lgn(r, 3.6, 0.25);
    if (k == C_CD8T && unif(r) < 0.15) /* CCR6+ CD8 (MAIT-like) */
        c->ab[CCR6] = lgn(r, 3.3, 0.2);
    if (k == C_CD4T) {
        c->treg = unif(r) < pm->ftreg;
        if (c->treg) {
            c->ab[CD25] = lgn(r, pm->dim25 ? 3.25 : 4.0, pm->dim25 ? 0.18 : 0.17);
            c->ab[CD127] = lgn(r, 2.4, 0.3);
            c->ab[FOXP3] = lgn(r, 3.7, 0.18);
        } else {
            c->act = unif(r) < 0.12; /* activated: CD25-intermediate tail */
            c->ab[CD25] = c->act ? lgn(r, pm->dim25 ? 2.75 : 3.05, 0.25)
                                 : lgn(r, pm->dim25 ? 2.2 : 2.0, 0.35);
            c->ab[CD127] = lgn(r, c->act ? 3.2 : 3.5, 0.2);
            c->ab[FOXP3] = c->act && unif(r) < 0.3 ? lgn(r, 2.6, 0.25) : lgn(r, 1.6, 0.3);
        }
        /* IL-17A+ (non-Treg), mostly inside the CCR6+ CXCR3- pool */
        double pil = c->treg ? 0 : pm->fil17 / (1.0 - pm->ftreg);
        c->il17 = unif(r) < pil;
        int ccr6, cxcr3;
        if (c->il17) {
            ccr6 = 1;
            cxcr3 = unif(r) < 0.15;
        } else {
            double rest = pm->flike - 0.85 * pm->fil17;
            double pl = rest > 0 ? rest / (1.0 - pm->fil17) : 0;
            double v = unif(r);
            if (v < pl) {
                ccr6 = 1;
                cxcr3 = 0;
            } else if (v < pl + 0.06) {
                ccr6 = 1;
                cxcr3 = 1;
            } else if (v < pl + 0.24) {
                ccr6 = 0;
                cxcr3 = 1;
            } else {
                ccr6 = 0;
                cxcr3 = 0;
            }
        }
        c->like = ccr6 && !cxcr3;
        c->ab[IL17A] = c->il17 ? lgn(r, pm->dim17 ? 2.95 : 3.45, 0.22) : lgn(r, 1.4, 0.4);
        c->ab[CCR6] = ccr6 ? lgn(r, 3.45, 0.2) : lgn(r, 1.7, 0.4);
        c->ab[CXCR3] = cxcr3 ? lgn(r, 3.25, 0.22) : lgn(r, 1.6, 0.4);
    }
    /* scatter, as a fraction of the scatter range */
    double f, s;
    switch (k) {
    case C_DEBRIS: f = 0.045 * exp(0.45 * gauss(r)); s = 0.03 * exp(0.5 * gauss(r)); break;
    case C_MONO: f = 0.42 + 0.05 * gauss(r); s = 0.17 * exp(0.22 * gauss(r)); break;
    case C_NK: f = 0.29 + 0.03 * gauss(r); s = 0.075 * exp(0.2 * gauss(r)); break;
    default: f = 0.26 + 0.028 * gauss(r); s = 0.055 * exp(0.2 * gauss(r)); break;
    }
    if (f < 0.005)
        f = 0.005;
    c->fsca = f;
    c->ssca = s;
    c->fsch = f * (0.82 + 0.018 * gauss(r));
    c->afm = af_mult[k] * exp(0.15 * gauss(r));
    if (k != C_DEBRIS && unif(r) < pm->fdead) {
        c->dead = 1;
        c->ab[VIAB] = lgn(r, 4.1, 0.2);
        for (int m = 0; m < NMARK; m++)
            if (m != VIAB)
                c->ab[m] *= 0.6;
        c->fsca *= 0.7;
        c->fsch *= 0.7;
        c->ssca *= 1.35;
        c->afm *= 1.6;
    }
    if (k == C_DEBRIS && unif(r) < 0.4)
        c->ab[VIAB] = lgn(r, 3.6, 0.4);
}

static void gen_cell(rng *r, const popmodel *pm, cell *c)
{
    gen_single(r, pm, c);
    if (unif(r) < 0.045) { /* doublet: two cells in one event */
        cell b;
        gen_single(r, pm, &b);
        for (int m = 0; m < NMARK; m++)
            c->ab[m] += b.ab[m];
        double h = (c->fsch > b.fsch ? c->fsch : b.fsch) * (1.05 + 0.05 * unif(r));
        c->fsca += b.fsca;
        c->fsch = h;
        c->ssca += b.ssca;
        c->afm = 0.5 * (c->afm + b.afm) * 2;
        c->doublet = 1;
    }
}

static int is_cd4(const cell *c)
{
    return c->cls == C_CD4T && !c->dead && !c->doublet && !c->junk;
}

/* ---- FCS writing ---------------------------------------------------------- */

typedef struct { char *b; size_t n, cap; char d; } sbuf;

static void sb_putc(sbuf *s, char ch)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->b = realloc(s->b, s->cap);
        if (!s->b) { perror("vgen"); exit(1); }
    }
    s->b[s->n++] = ch;
    s->b[s->n] = 0;
}

static void sb_esc(sbuf *s, const char *t) /* delimiter doubled (FCS 3.0 3.2.7) */
{
    for (; *t; t++) {
        sb_putc(s, *t);
        if (*t == s->d)
            sb_putc(s, *t);
    }
}

static void kv(sbuf *s, const char *k, const char *fmt, ...)
{
    char v[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    sb_esc(s, k);
    sb_putc(s, s->d);
    sb_esc(s, v);
    sb_putc(s, s->d);
}

typedef struct {
    const char *pnn, *pns;
    double range;
    int log;  /* $PnE 4,1 (or 4,0) integer log channel */
    int time;
} param;

static void put_bytes(unsigned char *p, uint64_t v, int nb, int big)
{
    for (int i = 0; i < nb; i++)
        p[big ? nb - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* encode one value (in scale units, or channel for log) as the datatype says */
static void encode(unsigned char *p, double v, const instr *in, const param *pa)
{
    int nb = in->bits / 8;
    if (in->dtype == 'F') {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_bytes(p, u, 4, in->big);
    } else if (in->dtype == 'D') {
        uint64_t u;
        memcpy(&u, &v, 8);
        put_bytes(p, u, 8, in->big);
    } else {
        double x = floor(v + 0.5);
        if (x < 0)
            x = 0;
        if (x > pa->range - 1)
            x = pa->range - 1;
        put_bytes(p, (uint64_t)x, nb, in->big);
    }
}

/* the value a reader decodes from what encode() wrote */
static double decoded(double v, const instr *in, const param *pa)
{
    if (in->dtype == 'F')
        return (double)(float)v;
    if (in->dtype == 'D')
        return v;
    double x = floor(v + 0.5);
    if (x < 0)
        x = 0;
    if (x > pa->range - 1)
        x = pa->range - 1;
    if (pa->log)
        return pow(10.0, 4.0 * x / pa->range);
    return x;
}

static int write_fcs(const char *path, const instr *in, int lognull, const param *pa,
                     int npar, const double *vals, int64_t nev, const char *spill_txt,
                     const char *fil)
{
    int nb = in->bits / 8;
    size_t width = (size_t)npar * nb;
    size_t dlen = width * (size_t)nev;
    int v2 = !strcmp(in->ver, "2.0");
    sbuf t = {0};
    long long dbeg = 0, dend = 0;
    for (int iter = 0; iter < 8; iter++) {
        t.n = 0;
        t.d = in->delim;
        sb_putc(&t, t.d);
        if (!v2) {
            kv(&t, "$BEGINANALYSIS", "0");
            kv(&t, "$ENDANALYSIS", "0");
            kv(&t, "$BEGINSTEXT", "0");
            kv(&t, "$ENDSTEXT", "0");
            kv(&t, "$BEGINDATA", "%lld", dbeg);
            kv(&t, "$ENDDATA", "%lld", dend);
        }
        kv(&t, "$BYTEORD", "%s", in->big ? (nb == 2 ? "2,1" : "4,3,2,1")
                                        : (nb == 2 ? "1,2" : "1,2,3,4"));
        kv(&t, "$DATATYPE", "%c", in->dtype);
        kv(&t, "$MODE", "L");
        kv(&t, "$NEXTDATA", "0");
        kv(&t, "$PAR", "%d", npar);
        kv(&t, "$TOT", "%lld", (long long)nev);
        kv(&t, "$CYT", "%s", in->cyt);
        kv(&t, "$FIL", "%s", fil);
        kv(&t, "$DATE", "%s", v2 ? "14-MAR-2019" : "14-MAR-2023");
        kv(&t, "$BTIM", "09:41:07");
        kv(&t, "$ETIM", "09:43:55");
        kv(&t, "$TIMESTEP", "%g", in->timestep);
        kv(&t, "$SRC", "vgen validation corpus");
        for (int j = 0; j < npar; j++) {
            char k[32];
            snprintf(k, sizeof k, "$P%dN", j + 1);
            kv(&t, k, "%s", pa[j].pnn);
            if (pa[j].pns && *pa[j].pns) {
                snprintf(k, sizeof k, "$P%dS", j + 1);
                kv(&t, k, "%s", pa[j].pns);
            }
            snprintf(k, sizeof k, "$P%dB", j + 1);
            kv(&t, k, "%d", in->bits);
            snprintf(k, sizeof k, "$P%dE", j + 1);
            kv(&t, k, "%s", pa[j].log ? (lognull ? "4,0" : "4,1") : "0,0");
            snprintf(k, sizeof k, "$P%dR", j + 1);
            kv(&t, k, "%.0f", pa[j].range);
        }
        if (spill_txt)
            kv(&t, in->spill, "%s", spill_txt);
        long long nb2 = in->hdrlen + (long long)t.n;
        long long nbeg = nb2, nend = nb2 + (long long)dlen - 1;
        if (nbeg == dbeg && nend == dend)
            break;
        dbeg = nbeg;
        dend = nend;
    }
    long long tbeg = in->hdrlen, tend = in->hdrlen + (long long)t.n - 1;
    char hdr[512];
    memset(hdr, ' ', sizeof hdr);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "FCS%s    %8lld%8lld%8lld%8lld%8d%8d", in->ver, tbeg, tend,
             dend > 99999999 ? 0LL : dbeg, dend > 99999999 ? 0LL : dend, 0, 0);
    memcpy(hdr, tmp, strlen(tmp));
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        return -1;
    }
    fwrite(hdr, 1, (size_t)in->hdrlen, fp);
    fwrite(t.b, 1, t.n, fp);
    unsigned char *row_b = malloc(width);
    for (int64_t e = 0; e < nev; e++) {
        for (int j = 0; j < npar; j++)
            encode(row_b + (size_t)j * nb, vals[e * npar + j], in, &pa[j]);
        fwrite(row_b, 1, width, fp);
    }
    free(row_b);
    free(t.b);
    if (fclose(fp)) {
        perror(path);
        return -1;
    }
    return 0;
}

/* ---- linear algebra, oracle ---------------------------------------------- */

static int invert(int n, const double *a, double *inv) /* Gauss-Jordan, pivoting */
{
    double m[MAXCH][2 * MAXCH];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2 * n; j++)
            m[i][j] = j < n ? a[i * n + j] : (j - n == i);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(m[i][c]) > fabs(m[p][c]))
                p = i;
        if (fabs(m[p][c]) < 1e-12)
            return -1;
        for (int j = 0; j < 2 * n; j++) {
            double x = m[c][j];
            m[c][j] = m[p][j];
            m[p][j] = x;
        }
        double d = m[c][c];
        for (int j = 0; j < 2 * n; j++)
            m[c][j] /= d;
        for (int i = 0; i < n; i++)
            if (i != c && m[i][c] != 0) {
                double f = m[i][c];
                for (int j = 0; j < 2 * n; j++)
                    m[i][j] -= f * m[c][j];
            }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            inv[i * n + j] = m[i][n + j];
    return 0;
}

typedef struct { double x; int y; } xy;
static int cmp_xy(const void *a, const void *b)
{
    double d = ((const xy *)a)->x - ((const xy *)b)->x;
    return d < 0 ? -1 : d > 0;
}

/* The threshold t that best separates y=1 (kept: x >= t when above, x < t
 * when below) from y=0 among the events with sel[i]; returns t. */
static double best_cut(const double *x, const int *y, const unsigned char *sel, int64_t n,
                       int above)
{
    xy *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    int64_t m = 0, npos = 0;
    for (int64_t i = 0; i < n; i++)
        if (sel[i]) {
            v[m].x = above ? x[i] : -x[i];
            v[m].y = y[i];
            npos += y[i];
            m++;
        }
    if (!m) {
        free(v);
        return 0;
    }
    qsort(v, (size_t)m, sizeof *v, cmp_xy);
    /* cut before index k: errors = positives below + negatives at/above */
    int64_t posb = 0, negab = m - npos, best = negab, bk = 0;
    for (int64_t k = 1; k <= m; k++) {
        if (v[k - 1].y)
            posb++;
        else
            negab--;
        if (k < m && v[k].x == v[k - 1].x)
            continue;
        if (posb + negab < best) {
            best = posb + negab;
            bk = k;
        }
    }
    double t = bk == 0 ? v[0].x - 1 : bk == m ? v[m - 1].x + 1 : 0.5 * (v[bk - 1].x + v[bk].x);
    free(v);
    return above ? t : -t;
}

/* oracle: best two-cut gate on (a above, b below-or-above); misclassified
 * events as % of CD4, and the gate's % of CD4 */
static void oracle2(const double *a, const double *b, int b_above, const int *y,
                    const unsigned char *cd4, int64_t n, int64_t ncd4, double *miss,
                    double *pct)
{
    double t1 = best_cut(a, y, cd4, n, 1);
    unsigned char *s2 = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++)
        s2[i] = cd4[i] && a[i] >= t1;
    double t2 = b ? best_cut(b, y, s2, n, b_above) : 0;
    int64_t bad = 0, in = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!cd4[i])
            continue;
        int g = a[i] >= t1 && (!b || (b_above ? b[i] >= t2 : b[i] < t2));
        in += g;
        bad += g != y[i];
    }
    free(s2);
    *miss = ncd4 ? 100.0 * bad / ncd4 : 100;
    *pct = ncd4 ? 100.0 * in / ncd4 : 0;
}

/* ---- one file --------------------------------------------------------------- */

static const char *pick(rng *r, const char *const *names, int n)
{
    return names[rng_u32(r) % (uint32_t)n];
}

static const char *marker_label(rng *r, int m, int fl)
{
    static const char *const cd8[] = {"CD8", "CD8a"}, *const cd25[] = {"CD25", "CD25 (IL-2Ra)"},
        *const cd127[] = {"CD127", "CD127 (IL-7Ra)"}, *const fox[] = {"FoxP3", "FOXP3", "Foxp3"},
        *const il17[] = {"IL-17A", "IL17A", "IL-17"}, *const ccr6[] = {"CCR6", "CD196", "CCR6 (CD196)"},
        *const cx3[] = {"CXCR3", "CD183", "CD183 (CXCR3)"},
        *const vv[] = {"Zombie Aqua", "LIVE/DEAD Aqua", "Viability"},
        *const vr[] = {"Zombie NIR", "FVS780", "Live/Dead"},
        *const vo[] = {"Viability", "Live/Dead"},
        *const fill[] = {"CD45RA", "HLA-DR", "CD161", "CD39"};
    switch (m) {
    case CD3: return "CD3";
    case CD4: return "CD4";
    case CD8: return pick(r, cd8, 2);
    case CD25: return pick(r, cd25, 2);
    case CD127: return pick(r, cd127, 2);
    case FOXP3: return pick(r, fox, 3);
    case IL17A: return pick(r, il17, 3);
    case CCR6: return pick(r, ccr6, 3);
    case CXCR3: return pick(r, cx3, 3);
    case VIAB:
        if (fl_tab[fl].laser == 1) return pick(r, vv, 3);
        if (fl_tab[fl].em >= 750) return pick(r, vr, 3);
        return pick(r, vo, 2);
    case FILL: return pick(r, fill, 4);
    }
    return "";
}

typedef struct {
    char name[96];
    const instr *in;
    row rw;
    int64_t events, cd4, treg, th17, like;
    double treg_pct, th17_pct, like_pct;
    const char *treg_def, *th17_def;
    int treg_present, th17_present, treg_sep, th17_sep;
    double or_treg_miss, or_treg_pct, or_th17_miss, or_th17_pct;
    const char *expect;
    char markers[200];
} truth;

static void mixing_matrix(rng *r, const instr *in, int n, const int *flv, double *S)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            if (i == j)
                s = 1;
            else if (!in->unmixed && !in->logamp) {
                const fluor *a = &fl_tab[flv[i]], *b = &fl_tab[flv[j]];
                double d = b->em - a->em;
                int same = a->laser == b->laser || (a->laser >= 2 && b->laser >= 2 &&
                                                    a->laser != 4 && b->laser != 4);
                if (same)
                    s = d > 0 ? 0.32 * exp(-d / 38.0) : 0.06 * exp(d / 22.0);
                else
                    s = 0.045 * exp(-fabs(d) / 25.0); /* cross-laser */
                s *= 0.75 + 0.5 * unif(r);
                if (s < 0.0005)
                    s = 0;
            }
            S[i * n + j] = s;
        }
}

static const char *const class_name[NCLASS] = {"debris", "monocyte", "B", "NK",
                                               "CD8T", "CD4T", "DNT"};

static int make_file(const char *dir, int idx, const row *rw, uint64_t seed, truth *T,
                     FILE *man, int labels)
{
    const instr *in = &in_tab[rw->ins];
    rng r;
    rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(idx + 1)), (uint64_t)idx + 11);
    memset(T, 0, sizeof *T);
    T->in = in;
    T->rw = *rw;
    snprintf(T->name, sizeof T->name, "v%02d_%s_%s", idx + 1, in->key, rw->tag);

    /* panel: which markers this file stains, on which channel */
    int nch = in->nch, mk[MAXCH], flv[MAXCH];
    for (int j = 0; j < nch; j++) {
        mk[j] = in->ch[j].mark;
        flv[j] = in->ch[j].fl;
    }
    if (rw->flags & S_DIM17) { /* IL-17A moves to a dim channel */
        int a = -1, b = in->dim17;
        for (int j = 0; j < nch; j++)
            if (mk[j] == IL17A)
                a = j;
        if (a >= 0 && b != a) {
            int t = mk[a];
            mk[a] = mk[b];
            mk[b] = t;
        }
    }
    for (int j = 0; j < nch; j++) {
        int m = mk[j];
        if ((rw->panel == P_NOFOXP3 && m == FOXP3) ||
            (rw->panel == P_NOCHEM && (m == CCR6 || m == CXCR3)) ||
            (rw->panel == P_SURFACE && (m == IL17A || m == FOXP3)) ||
            (rw->panel == P_NOCD127 && m == CD127))
            mk[j] = FILL;
    }
    int chan_of[NMARK];
    for (int m = 0; m < NMARK; m++)
        chan_of[m] = -1;
    for (int j = 0; j < nch; j++)
        if (mk[j] >= 0 && mk[j] != FILL)
            chan_of[mk[j]] = j;

    /* parameters: scatter, fluorescence, time */
    param pa[MAXCH + 5];
    char pns[MAXCH][48];
    int np = 0;
    double srange = in->range;
    pa[np++] = (param){in->fsca, NULL, srange, 0, 0};
    pa[np++] = (param){in->fsch, NULL, srange, 0, 0};
    pa[np++] = (param){in->ssca, NULL, srange, 0, 0};
    int fl0 = np;
    for (int j = 0; j < nch; j++) {
        snprintf(pns[j], sizeof pns[j], "%s", mk[j] >= 0 ? marker_label(&r, mk[j], flv[j]) : "");
        pa[np++] = (param){in->ch[j].pnn, pns[j], in->range, in->logamp, 0};
    }
    int tpar = np;
    double trange = in->dtype == 'I' ? (in->bits == 16 ? 65536 : 4294967296.0) : in->range;
    pa[np++] = (param){in->time, NULL, trange, 0, 1};

    double S[MAXCH * MAXCH], Si[MAXCH * MAXCH];
    mixing_matrix(&r, in, nch, flv, S);
    if (invert(nch, S, Si)) {
        fprintf(stderr, "vgen: singular mixing matrix\n");
        return -1;
    }

    popmodel pm = {rw->treg / 100.0, rw->th17 / 100.0, rw->like / 100.0,
                   (rw->flags & S_ONEPEAK) ? 0.005 : 0.05 + 0.07 * unif(&r),
                   !!(rw->flags & S_DIM25), !!(rw->flags & S_DIM17)};
    int64_t n = rw->events;
    double *vals = malloc(sizeof *vals * (size_t)n * (size_t)np);
    double *comp = malloc(sizeof *comp * (size_t)n * NMARK);
    int *ytreg = malloc(sizeof(int) * (size_t)n), *yth17 = malloc(sizeof(int) * (size_t)n);
    unsigned char *cd4 = malloc((size_t)n);
    if (!vals || !comp || !ytreg || !yth17 || !cd4) {
        fprintf(stderr, "vgen: out of memory\n");
        return -1;
    }
    double rate = 1500 + 1500 * unif(&r), tsec = 0;
    double g = in->gain * (0.85 + 0.3 * unif(&r));
    int64_t clog0 = n * 45 / 100, clog1 = n * 49 / 100, burst1 = n * 52 / 100;
    int surface = rw->panel == P_SURFACE;
    int foxdef = rw->panel == P_NOCD127;
    FILE *lab = NULL;
    if (labels) {
        char lp[1024];
        snprintf(lp, sizeof lp, "%s/%s.labels.tsv", dir, T->name);
        lab = fopen(lp, "w");
        if (!lab) {
            perror(lp);
            return -1;
        }
        fprintf(lab, "class\tdead\tdoublet\tjunk\tcd4\ttreg\tactivated\til17a\tccr6_cxcr3neg\n");
    }

    for (int64_t e = 0; e < n; e++) {
        cell c;
        gen_cell(&r, &pm, &c);
        double *v = vals + e * np;
        double sig[MAXCH], em[MAXCH];
        for (int j = 0; j < nch; j++) {
            int m = mk[j] >= 0 ? mk[j] : FILL;
            em[j] = (mk[j] >= 0 ? c.ab[m] : 0) * fl_tab[flv[j]].bright * g;
        }
        double tot = 0;
        for (int j = 0; j < nch; j++)
            tot += em[j];
        for (int j = 0; j < nch; j++) {
            double mean = fl_tab[flv[j]].af * c.afm * g;
            for (int i = 0; i < nch; i++)
                mean += em[i] * S[i * nch + j];
            double q = in->q * (g / in->gain);
            double x = poisson(&r, mean / q) * q + in->enoise * gauss(&r);
            if (in->unmixed) /* unmixing spread from every other signal */
                x += 0.35 * sqrt(q * tot) * gauss(&r);
            sig[j] = x;
        }
        double fs = srange;
        double fsa = c.fsca * fs * (1 + 0.01 * gauss(&r));
        double fsh = c.fsch * fs * (1 + 0.01 * gauss(&r));
        double ssa = c.ssca * fs * (1 + 0.01 * gauss(&r));
        if ((rw->flags & S_SAT) && unif(&r) < 0.08) { /* clumps pile up at the top */
            c.junk = 1;
            fsa = fs - 1;
            ssa = fs - (unif(&r) < 0.7 ? 1 : 1000 * unif(&r));
            fsh = fs * (0.6 + 0.3 * unif(&r));
        }
        if ((rw->flags & S_OUTLIERS) && unif(&r) < 0.01) {
            c.junk = 1;
            int j = (int)(rng_u32(&r) % (uint32_t)(nch + 3));
            double val = unif(&r) < 0.5 ? in->range - 1
                         : (in->dtype == 'I' ? 0 : -0.05 * in->range * (1 + unif(&r)));
            if (j < 3) {
                if (j == 0) fsa = val; else if (j == 1) fsh = val; else ssa = val;
            } else
                sig[j - 3] = val;
        }
        v[0] = fsa;
        v[1] = fsh;
        v[2] = ssa;
        for (int j = 0; j < nch; j++) {
            double x = sig[j];
            if (in->logamp) /* log amplifier: channel = R/decades * log10(x) */
                x = x < 1 ? 0 : floor(in->range / 4.0 * log10(x));
            v[fl0 + j] = x;
        }
        double dt = -log(unif(&r)) / rate;
        if ((rw->flags & S_CLOG) && e >= clog0 && e < clog1)
            dt *= 12; /* clog: flow nearly stops */
        else if ((rw->flags & S_CLOG) && e >= clog1 && e < burst1)
            dt /= 4; /* then a burst */
        tsec += dt;
        v[tpar] = in->dtype == 'I' ? floor(tsec / in->timestep) : tsec / in->timestep;
        if (in->dtype == 'I' && v[tpar] > trange - 1)
            v[tpar] = fmod(v[tpar], trange);
        for (int j = 0; j < np; j++)
            if (!pa[j].time && !pa[j].log && in->dtype == 'I' && v[j] > pa[j].range - 1)
                v[j] = pa[j].range - 1;
        /* what a reader gets back, compensated with S^-1 */
        double dec[MAXCH];
        for (int j = 0; j < nch; j++)
            dec[j] = decoded(v[fl0 + j], in, &pa[fl0 + j]);
        for (int m = 0; m < NMARK; m++) {
            int j = chan_of[m];
            double s = 0;
            if (j >= 0)
                for (int i = 0; i < nch; i++)
                    s += dec[i] * Si[i * nch + j];
            comp[e * NMARK + m] = s;
        }
        cd4[e] = (unsigned char)is_cd4(&c);
        if (lab)
            fprintf(lab, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", class_name[c.cls], c.dead,
                    c.doublet, c.junk, cd4[e], c.treg, c.act, c.il17, c.like);
        ytreg[e] = cd4[e] && c.treg;
        yth17[e] = cd4[e] && (surface ? c.like : c.il17);
        if (cd4[e]) {
            T->cd4++;
            T->treg += c.treg;
            T->th17 += surface ? c.like : c.il17;
            T->like += c.like;
        }
    }
    if (lab && fclose(lab)) {
        perror("labels");
        return -1;
    }
    T->events = n;
    T->treg_pct = T->cd4 ? 100.0 * T->treg / T->cd4 : 0;
    T->th17_pct = T->cd4 ? 100.0 * T->th17 / T->cd4 : 0;
    T->like_pct = T->cd4 ? 100.0 * T->like / T->cd4 : 0;
    T->treg_def = foxdef ? "CD25+ FOXP3+" : "CD25hi CD127lo";
    T->th17_def = surface ? "CCR6+CXCR3-" : "IL17A";
    int have[NMARK];
    for (int m = 0; m < NMARK; m++)
        have[m] = chan_of[m] >= 0;
    int gate_ok = have[CD3] && have[CD4] && have[VIAB];
    T->treg_present = gate_ok && have[CD25] && (foxdef ? have[FOXP3] : have[CD127]);
    T->th17_present = gate_ok && (surface ? have[CCR6] && have[CXCR3] : have[IL17A]);
    double *col = malloc(sizeof *col * (size_t)n * 3);
    double *ca = col, *cb = col + n;
    if (T->treg_present) {
        for (int64_t e = 0; e < n; e++) {
            ca[e] = comp[e * NMARK + CD25];
            cb[e] = comp[e * NMARK + (foxdef ? FOXP3 : CD127)];
        }
        oracle2(ca, cb, foxdef, ytreg, cd4, n, T->cd4, &T->or_treg_miss, &T->or_treg_pct);
    }
    if (T->th17_present) {
        for (int64_t e = 0; e < n; e++) {
            ca[e] = comp[e * NMARK + (surface ? CCR6 : IL17A)];
            cb[e] = comp[e * NMARK + CXCR3];
        }
        oracle2(ca, surface ? cb : NULL, 0, yth17, cd4, n, T->cd4, &T->or_th17_miss,
                &T->or_th17_pct);
    }
    free(col);
    /* separated: the best possible cuts misclassify no more events than
     * the tolerance (0.5 points of CD4 for Treg, 0.3 for Th17), so a gate
     * as good as the oracle is within tolerance whichever way it errs */
    T->treg_sep = T->treg_present && T->or_treg_miss <= 0.5;
    T->th17_sep = T->th17_present && T->or_th17_miss <= 0.3;
    T->expect = (rw->flags & S_SAT) ? "saturation"
                : (rw->flags & S_CLOG) ? "flow_rate"
                : n < 10000 ? "events" : "pass";
    T->markers[0] = 0;
    for (int m = 0; m < FILL; m++)
        if (have[m]) {
            if (T->markers[0])
                strcat(T->markers, ",");
            strcat(T->markers, mark_name[m]);
        }

    char spill[8192], *sp = spill;
    const char *spill_txt = NULL;
    if (in->spill) {
        sp += sprintf(sp, "%d", nch);
        for (int j = 0; j < nch; j++)
            sp += sprintf(sp, ",%s", in->ch[j].pnn);
        for (int i = 0; i < nch * nch; i++)
            sp += sprintf(sp, ",%.6g", S[i]);
        spill_txt = spill;
    }
    char path[1024], fil[128];
    snprintf(fil, sizeof fil, "%s.fcs", T->name);
    snprintf(path, sizeof path, "%s/%s.fcs", dir, T->name);
    int rc = write_fcs(path, in, !!(rw->flags & S_LOG40), pa, np, vals, n, spill_txt, fil);
    free(vals);
    free(comp);
    free(ytreg);
    free(yth17);
    free(cd4);
    if (rc)
        return -1;

    const char *dt = in->dtype == 'I' ? (in->bits == 16 ? "I16" : "I32")
                     : in->dtype == 'F' ? "F32" : "D64";
    const char *bo = in->big ? "4,3,2,1" : "1,2,3,4";
    char fmt[64];
    snprintf(fmt, sizeof fmt, "FCS%s %s %s%s", in->ver, dt, bo,
             in->logamp ? ((rw->flags & S_LOG40) ? " log4,0" : " log4,1") : "");
    snprintf(path, sizeof path, "%s/%s.truth.json", dir, T->name);
    FILE *j = fopen(path, "w");
    if (!j) {
        perror(path);
        return -1;
    }
    fprintf(j,
            "{\n  \"file\": \"%s.fcs\",\n  \"instrument\": \"%s\",\n  \"cytometer\": \"%s\",\n"
            "  \"fcs_version\": \"%s\",\n  \"datatype\": \"%s\",\n  \"byteord\": \"%s\",\n"
            "  \"range\": %.0f,\n  \"log_amplified\": %s,\n  \"spillover_keyword\": %s%s%s,\n"
            "  \"scenario\": \"%s\",\n  \"panel\": \"%s\",\n"
            "  \"events\": %lld,\n  \"cd4_count\": %lld,\n"
            "  \"treg_count\": %lld,\n  \"treg_pct_cd4\": %.4f,\n"
            "  \"th17_count\": %lld,\n  \"th17_pct_cd4\": %.4f,\n"
            "  \"th17_like_pct_cd4\": %.4f,\n"
            "  \"treg_definition\": \"%s\",\n  \"th17_definition\": \"%s\",\n"
            "  \"treg_separated\": %s,\n  \"th17_separated\": %s,\n  \"separated\": %s,\n"
            "  \"oracle_treg_misclassified_pct_cd4\": %.4f,\n"
            "  \"oracle_th17_misclassified_pct_cd4\": %.4f,\n"
            "  \"expect_qc\": \"%s\",\n  \"markers\": \"%s\"\n}\n",
            T->name, in->key, in->cyt, in->ver, dt, bo, in->range, in->logamp ? "true" : "false",
            in->spill ? "\"" : "", in->spill ? in->spill : "null", in->spill ? "\"" : "",
            rw->tag, panel_name[rw->panel], (long long)n, (long long)T->cd4, (long long)T->treg,
            T->treg_pct, (long long)T->th17, T->th17_pct, T->like_pct, T->treg_def, T->th17_def,
            T->treg_sep ? "true" : "false", T->th17_sep ? "true" : "false",
            T->treg_sep && T->th17_sep ? "true" : "false", T->or_treg_miss, T->or_th17_miss,
            T->expect, T->markers);
    fclose(j);
    fprintf(man,
            "%s.fcs\t%s\t%s\t%s\t%lld\t%lld\t%lld\t%.4f\t%lld\t%.4f\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t"
            "%.4f\t%.4f\t%s\t%s\t%s\t%d\n",
            T->name, in->key, fmt, rw->tag, (long long)n, (long long)T->cd4, (long long)T->treg,
            T->treg_pct, (long long)T->th17, T->th17_pct, T->treg_def, T->th17_def,
            T->treg_present, T->th17_present, T->treg_sep, T->th17_sep,
            T->treg_sep && T->th17_sep, T->or_treg_miss, T->or_th17_miss, T->expect,
            T->markers, panel_name[rw->panel], rw->golden);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: vgen [--subset golden|full|big] [--seed N] [--labels] OUTDIR\n"
               "Writes the validation corpus: OUTDIR/<name>.fcs, <name>.truth.json,\n"
               "MANIFEST.tsv (and <name>.labels.tsv with --labels).\n"
               "[--subset full] [--seed 13]\n");
}

int main(int argc, char **argv)
{
    const char *subset = "full", *dir = NULL;
    uint64_t seed = 13;
    int labels = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--subset") && i + 1 < argc)
            subset = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--labels"))
            labels = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            usage(stderr);
            return 1;
        } else
            dir = argv[i];
    }
    int mode = !strcmp(subset, "golden") ? 0 : !strcmp(subset, "full") ? 1
               : !strcmp(subset, "big") ? 2 : -1;
    if (!dir || mode < 0) {
        usage(stderr);
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
    FILE *man = fopen(path, "w");
    if (!man) {
        perror(path);
        return 1;
    }
    fprintf(man, "file\tinstrument\tformat\tscenario\tevents\tcd4_count\ttreg_count\t"
                 "treg_pct_cd4\tth17_count\tth17_pct_cd4\ttreg_definition\tth17_definition\t"
                 "treg_present\tth17_present\ttreg_separated\tth17_separated\tseparated\t"
                 "oracle_treg_miss\toracle_th17_miss\texpect_qc\tmarkers\tpanel\tgolden\n");
    int idx = 0, nfiles = 0;
    for (int k = 0; k < (int)NSPECIAL; k++, idx++) {
        const row *rw = &matrix[k];
        if ((rw->big && mode != 2) || (mode == 0 && !rw->golden))
            continue;
        truth T;
        if (make_file(dir, idx, rw, seed, &T, man, labels))
            return 1;
        nfiles++;
    }
    for (int i = 0; i < NINSTR; i++)
        for (int k = 0; k < 3; k++, idx++) {
            row rw = base_row(i, k);
            if (mode == 0 && !rw.golden)
                continue;
            truth T;
            if (make_file(dir, idx, &rw, seed, &T, man, labels))
                return 1;
            nfiles++;
        }
    if (fclose(man)) {
        perror(path);
        return 1;
    }
    fprintf(stderr, "vgen: %d files in %s\n", nfiles, dir);
    return 0;
}
