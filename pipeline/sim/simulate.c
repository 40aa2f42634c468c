/*
 * simulate.c -- synthetic PBMC Treg/Th17 samples (simulate.h).
 *
 * Population model (fractions are of all events unless said otherwise):
 *   debris (debris_pct), doublets (doublet_pct: two live cells summed,
 *   FSC-H = 1.1 x the larger height, so A/H is ~1.6-1.9x a singlet's),
 *   dead cells (dead_pct: any cell type, markers x0.5, FSC x0.7, SSC x1.3,
 *   viability dye bright), aggregates saturating scatter (saturation
 *   anomaly only), and live singlets: monocytes 15%, lymphocytes 85% =
 *   B 12%, NK 10%, T 78% (CD4 62%, CD8 32%, DN 6%).  CD4 T cells: Treg
 *   (treg_pct of CD4: CD25 bright, CD127 lo, FOXP3+ in 92%), Th17
 *   (th17_pct of CD4: IL-17A+, CCR6+ CXCR3-, CD127+), CD127lo non-Treg
 *   (7%), the rest conventional; CCR6+ 20% and CXCR3+ 30% independently
 *   outside Th17.  Th17-like truth = CCR6+ CXCR3- CD4.
 * Signals: true fluorescence per marker is 0 (negative) or log-normal
 *   (median, sd in decades: CD3 6000/0.12, CD4 9000/0.10, CD8 12000/0.13,
 *   CD25 3500/0.15, CD127 3000/0.12 or lo 120/0.15, FOXP3 2000/0.15,
 *   IL-17A 3000/0.15, CCR6 2500/0.15, CXCR3 2000/0.15, dead-cell dye
 *   15000/0.20); detector = true x S + autofluorescence (scaled by cell
 *   size); observed = detector + N(0, 25^2 + 2 x detector) (electronic +
 *   photon noise), clamped at $PnR - 1.  Compensation (x S^-1) thus
 *   leaves negatives around their autofluorescence with spillover spread.
 * Scatter: lymphocytes FSC-A N(52000, 5000), SSC-A log-normal 11000 (NK
 *   13000); monocytes FSC-A N(88000, 9000), SSC-A 33000; singlet A/H
 *   N(1.12, 0.028); debris FSC 1500 + Exp(9000), SSC 800 + Exp(5000).
 * Time: Poisson arrivals at 2000 events/s in $TIMESTEP 0.001 s ticks.
 * Anomalies: clog (events 40-42% at 0.1x rate, then 42-45% at 5x),
 *   drift (one detector x (1 + amount t / t_end)), saturation (aggregates
 *   with FSC/SSC beyond range), few (few_events events).
 *
 * Invariants: one random stream consumed in event order, so the output is
 * a pure function of the options.  No per-event allocation.
 */
#include "simulate.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcs.h"
#include "util.h"

const char *const cg_sim_marker_names[CG_SIM_NMARK] = {
    "CD3", "CD4", "CD8", "CD25", "CD127", "FOXP3", "IL17A", "CCR6", "CXCR3",
    "Viability"};

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---------------- */

typedef struct rng {
    uint64_t s[4];
    int has_spare;
    double spare;
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
    r->has_spare = 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next64(rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in (0, 1). */
static double unif(rng *r)
{
    return ((double)(next64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2 * unif(r) - 1;
        v = 2 * unif(r) - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double f = sqrt(-2 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* Log-normal with median med and sd in decades. */
static double lnorm(rng *r, double med, double sd_dec)
{
    return med * pow(10.0, sd_dec * gauss(r));
}

static double expo(rng *r, double mean) { return -mean * log(unif(r)); }

/* ---- panel ---------------------------------------------------------------- */

#define NFL 10
#define RANGE 262144.0

/* Fluorescence slots in file (detector) order and their markers. */
static const int slot_marker[NFL] = {CG_SIM_CD3,   CG_SIM_VIAB,  CG_SIM_CD8,
                                     CG_SIM_CCR6,  CG_SIM_CXCR3, CG_SIM_CD4,
                                     CG_SIM_IL17A, CG_SIM_CD25,  CG_SIM_FOXP3,
                                     CG_SIM_CD127};
static const char *const bd_names[NFL] = {
    "BV421-A", "BV510-A",       "BV605-A", "BV711-A",  "FITC-A",
    "PerCP-Cy5-5-A", "PE-A",    "PE-Cy7-A", "APC-A",   "APC-R700-A"};
static const char *const bd_labels[NFL] = {
    "CD3", "Live/Dead", "CD8", "CCR6", "CXCR3",
    "CD4", "IL17A",     "CD25", "FOXP3", "CD127"};
static const char *const cy_names[NFL] = {"V1-A", "V7-A",  "V10-A", "V13-A",
                                          "B2-A", "B8-A",  "YG1-A", "YG9-A",
                                          "R1-A", "R4-A"};
static const char *const cy_labels[NFL] = {
    "CD3", "Zombie",  "CD8",  "CCR6 (CD196)", "CXCR3 (CD183)",
    "CD4", "IL-17A",  "CD25", "FoxP3",        "CD127"};

/* Off-diagonal spillover, slot order: {source, detector, value}. */
static const struct { int s, d; double v; } spill_tab[] = {
    {0, 1, 0.14}, {0, 2, 0.02}, {0, 4, 0.01}, {1, 2, 0.09}, {1, 3, 0.02},
    {1, 4, 0.04}, {1, 6, 0.01}, {2, 3, 0.12}, {2, 7, 0.01}, {3, 5, 0.04},
    {3, 9, 0.02}, {4, 6, 0.22}, {4, 5, 0.04}, {5, 7, 0.18}, {5, 9, 0.06},
    {5, 3, 0.03}, {6, 5, 0.10}, {6, 7, 0.03}, {6, 4, 0.01}, {7, 9, 0.02},
    {7, 5, 0.01}, {8, 9, 0.28}, {8, 5, 0.02}, {9, 8, 0.04}, {9, 7, 0.03}};

/* Median autofluorescence per detector slot (size-scaled). */
static const double af_med[NFL] = {90, 110, 40, 30, 60, 25, 35, 15, 8, 8};

void cg_sim_opts_init(cg_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->events = 50000;
    o->treg_pct = 6;
    o->th17_pct = 1.5;
    o->debris_pct = 5;
    o->doublet_pct = 4;
    o->dead_pct = 6;
    o->naming = CG_SIM_NAMING_BD;
    snprintf(o->drift_marker, sizeof o->drift_marker, "CD4");
    o->drift_amount = 0.5;
    o->saturate_pct = 5;
    o->few_events = 300;
}

/* ---- one cell ----------------------------------------------------------- */

typedef struct cell {
    int cls;          /* cg_sim_class of the cell type */
    unsigned flags;
    double t[CG_SIM_NMARK]; /* true fluorescence per marker */
    double fsc, ssc, ratio; /* FSC-A, SSC-A, FSC-A/FSC-H */
} cell;

/* A live singlet of a random type. */
static void live_cell(rng *r, const cg_sim_opts *o, cell *c)
{
    memset(c, 0, sizeof *c);
    double u = unif(r);
    if (u < 0.15)
        c->cls = CG_SIM_MONO;
    else {
        double v = unif(r);
        if (v < 0.12)
            c->cls = CG_SIM_B;
        else if (v < 0.22)
            c->cls = CG_SIM_NK;
        else {
            double w = unif(r);
            c->cls = w < 0.62 ? CG_SIM_CD4T : w < 0.94 ? CG_SIM_CD8T
                                                       : CG_SIM_DNT;
        }
    }
    double *t = c->t;
    c->ratio = 1.12 * (1 + 0.025 * gauss(r));
    switch (c->cls) {
    case CG_SIM_MONO:
        c->fsc = 88000 + 9000 * gauss(r);
        c->ssc = lnorm(r, 33000, 0.09);
        t[CG_SIM_CD4] = lnorm(r, 1200, 0.15);
        break;
    case CG_SIM_B:
        c->fsc = 52000 + 5000 * gauss(r);
        c->ssc = lnorm(r, 11000, 0.07);
        t[CG_SIM_CCR6] = lnorm(r, 2000, 0.15);
        break;
    case CG_SIM_NK:
        c->fsc = 54000 + 5000 * gauss(r);
        c->ssc = lnorm(r, 13000, 0.07);
        if (unif(r) < 0.3)
            t[CG_SIM_CD8] = lnorm(r, 800, 0.2);
        if (unif(r) < 0.5)
            t[CG_SIM_CXCR3] = lnorm(r, 2000, 0.15);
        break;
    default: /* T cells */
        c->fsc = 52000 + 5000 * gauss(r);
        c->ssc = lnorm(r, 11000, 0.07);
        t[CG_SIM_CD3] = lnorm(r, 6000, 0.12);
        if (c->cls == CG_SIM_CD8T) {
            t[CG_SIM_CD8] = lnorm(r, 12000, 0.13);
            t[CG_SIM_CD127] = lnorm(r, 2000, 0.15);
            if (unif(r) < 0.4)
                t[CG_SIM_CXCR3] = lnorm(r, 2000, 0.15);
        } else if (c->cls == CG_SIM_DNT) {
            t[CG_SIM_CD127] = lnorm(r, 2000, 0.15);
        } else {
            t[CG_SIM_CD4] = lnorm(r, 9000, 0.10);
            double s = unif(r), tf = o->treg_pct / 100,
                   hf = o->th17_pct / 100;
            unsigned f = 0;
            if (s < tf) {
                f |= CG_SIM_F_TREG | CG_SIM_F_CD127LO;
                if (unif(r) < 0.92)
                    f |= CG_SIM_F_FOXP3;
            } else if (s < tf + hf) {
                f |= CG_SIM_F_TH17 | CG_SIM_F_CCR6;
            } else if (s < tf + hf + 0.07) {
                f |= CG_SIM_F_CD127LO;
            }
            if (!(f & CG_SIM_F_TH17)) {
                if (unif(r) < 0.2)
                    f |= CG_SIM_F_CCR6;
                if (unif(r) < 0.3)
                    f |= CG_SIM_F_CXCR3;
            }
            if (f & CG_SIM_F_TREG)
                t[CG_SIM_CD25] = lnorm(r, 3500, 0.15);
            t[CG_SIM_CD127] = (f & CG_SIM_F_CD127LO) ? lnorm(r, 120, 0.15)
                                                     : lnorm(r, 3000, 0.12);
            if (f & CG_SIM_F_FOXP3)
                t[CG_SIM_FOXP3] = lnorm(r, 2000, 0.15);
            if (f & CG_SIM_F_TH17)
                t[CG_SIM_IL17A] = lnorm(r, 3000, 0.15);
            if (f & CG_SIM_F_CCR6)
                t[CG_SIM_CCR6] = lnorm(r, 2500, 0.15);
            if (f & CG_SIM_F_CXCR3)
                t[CG_SIM_CXCR3] = lnorm(r, 2000, 0.15);
            c->flags = f;
        }
        break;
    }
    if (c->fsc < 5000)
        c->fsc = 5000;
}

/* ---- generation ------------------------------------------------------------ */

static int check_opts(const cg_sim_opts *o, cg_err *err)
{
    int64_t ev = (o->anomalies & CG_SIM_FEW) ? o->few_events : o->events;
    if (ev < 1 || ev > 100000000)
        return cg_err_set(err, CG_E_ARG, "events %lld outside 1..1e8",
                          (long long)ev);
    if (!(o->treg_pct >= 0 && o->th17_pct >= 0 &&
          o->treg_pct + o->th17_pct <= 90))
        return cg_err_set(err, CG_E_ARG,
                          "treg %% (%g) and th17 %% (%g) must be >= 0 and "
                          "sum to at most 90",
                          o->treg_pct, o->th17_pct);
    double junk = o->debris_pct + o->doublet_pct + o->dead_pct +
                  ((o->anomalies & CG_SIM_SATURATION) ? o->saturate_pct : 0);
    if (!(o->debris_pct >= 0 && o->doublet_pct >= 0 && o->dead_pct >= 0 &&
          o->saturate_pct >= 0 && junk <= 90))
        return cg_err_set(err, CG_E_ARG,
                          "debris, doublet, dead and saturated %% must be "
                          ">= 0 and sum to at most 90 (got %g)",
                          junk);
    if (o->naming != CG_SIM_NAMING_BD && o->naming != CG_SIM_NAMING_CYTEK)
        return cg_err_set(err, CG_E_ARG, "unknown naming scheme %d",
                          (int)o->naming);
    if ((o->anomalies & CG_SIM_DRIFT) && !(o->drift_amount > -1))
        return cg_err_set(err, CG_E_ARG, "drift amount %g must be > -1",
                          o->drift_amount);
    return 0;
}

static int marker_index(const char *name)
{
    for (int m = 0; m < CG_SIM_NMARK; m++)
        if (strcasecmp(name, cg_sim_marker_names[m]) == 0)
            return m;
    return -1;
}

void cg_sim_free(cg_sim_data *d)
{
    if (!d)
        return;
    if (d->col)
        for (int j = 0; j < d->npar; j++)
            free(d->col[j]);
    free(d->col);
    free(d->name);
    free(d->label);
    free(d->range);
    free(d->spill);
    free(d->cls);
    free(d->flags);
    free(d);
}

/* Allocate d for n events and lay out its parameters (BD puts Time last,
 * Cytek first), names, ranges and spillover.  0 or -1 (no memory). */
static int sim_layout(cg_sim_data *d, int64_t n, int cy)
{
    d->npar = NFL + 4;
    d->n = n;
    d->nfl = NFL;
    d->name = calloc((size_t)d->npar, sizeof *d->name);
    d->label = calloc((size_t)d->npar, sizeof *d->label);
    d->range = calloc((size_t)d->npar, sizeof *d->range);
    d->col = calloc((size_t)d->npar, sizeof *d->col);
    d->spill = calloc(NFL * NFL, sizeof *d->spill);
    d->cls = malloc((size_t)n);
    d->flags = malloc((size_t)n);
    if (!d->name || !d->label || !d->range || !d->col || !d->spill ||
        !d->cls || !d->flags)
        return -1;
    for (int j = 0; j < d->npar; j++)
        if (!(d->col[j] = malloc((size_t)n * sizeof **d->col)))
            return -1;
    int base = cy ? 1 : 0;
    d->time = cy ? 0 : NFL + 3;
    d->fsc_a = base;
    d->fsc_h = base + 1;
    d->ssc_a = base + 2;
    d->name[d->time] = "Time";
    d->name[d->fsc_a] = "FSC-A";
    d->name[d->fsc_h] = "FSC-H";
    d->name[d->ssc_a] = "SSC-A";
    d->spill_names = cy ? (const char **)cy_names : (const char **)bd_names;
    for (int s = 0; s < NFL; s++) {
        int p = base + 3 + s;
        d->name[p] = cy ? cy_names[s] : bd_names[s];
        d->label[p] = cy ? cy_labels[s] : bd_labels[s];
        d->fl_param[slot_marker[s]] = p;
    }
    for (int j = 0; j < d->npar; j++)
        d->range[j] = RANGE;
    for (int s = 0; s < NFL; s++)
        d->spill[s * NFL + s] = 1.0;
    for (size_t q = 0; q < sizeof spill_tab / sizeof spill_tab[0]; q++)
        d->spill[spill_tab[q].s * NFL + spill_tab[q].d] =
            spill_tab[q].v * (cy ? 0.85 : 1.0);
    d->timestep = 0.001;
    return 0;
}

/* Arrival times (ticks of timestep), with the clog anomaly's drop and
 * burst; widens the time range to hold them.  Returns the last time. */
static double sim_times(cg_sim_data *d, rng *r, const cg_sim_opts *o)
{
    int64_t n = d->n;
    double *tm = d->col[d->time], t = 0, rate = 2000.0;
    for (int64_t i = 0; i < n; i++) {
        double f = 1.0;
        if (o->anomalies & CG_SIM_CLOG) {
            double p = (double)i / (double)n;
            f = p >= 0.40 && p < 0.42 ? 0.1 : p >= 0.42 && p < 0.45 ? 5.0
                                                                     : 1.0;
        }
        t += expo(r, 1.0 / (rate * f));
        tm[i] = floor(t / d->timestep);
    }
    double t_end = n > 0 && tm[n - 1] > 0 ? tm[n - 1] : 1;
    while (d->range[d->time] <= t_end)
        d->range[d->time] *= 2;
    return t_end;
}

/* One event before the detectors: class, flags, scatter, true marker
 * levels. */
typedef struct sim_event {
    int cls;
    unsigned flags;
    double fsc, fsch, ssc, tv[CG_SIM_NMARK];
} sim_event;

/* Draw one event's class from the debris, doublet, dead and aggregate
 * shares (the rest live cells) and its scatter and marker levels. */
static void sim_draw(rng *r, const cg_sim_opts *o, sim_event *e)
{
    double p_debris = o->debris_pct / 100, p_dbl = o->doublet_pct / 100,
           p_dead = o->dead_pct / 100,
           p_agg = (o->anomalies & CG_SIM_SATURATION) ? o->saturate_pct / 100
                                                      : 0;
    cell c, c2;
    double u = unif(r);
    e->flags = 0;
    if (u < p_debris) {
        e->cls = CG_SIM_DEBRIS;
        e->fsc = 1500 + expo(r, 9000);
        e->ssc = 800 + expo(r, 5000);
        double q = 1.25 + 0.12 * gauss(r);
        e->fsch = e->fsc / (q < 0.8 ? 0.8 : q);
        for (int m = 0; m < CG_SIM_NMARK; m++)
            e->tv[m] = 0;
        if (unif(r) < 0.3) /* some debris takes up the dead-cell dye */
            e->tv[CG_SIM_VIAB] = lnorm(r, 3000, 0.3);
    } else if (u < p_debris + p_dbl) {
        e->cls = CG_SIM_DOUBLET;
        live_cell(r, o, &c);
        live_cell(r, o, &c2);
        e->fsc = c.fsc + c2.fsc;
        double h1 = c.fsc / c.ratio, h2 = c2.fsc / c2.ratio;
        e->fsch = 1.1 * (h1 > h2 ? h1 : h2);
        e->ssc = c.ssc + c2.ssc;
        for (int m = 0; m < CG_SIM_NMARK; m++)
            e->tv[m] = c.t[m] + c2.t[m];
    } else if (u < p_debris + p_dbl + p_dead) {
        e->cls = CG_SIM_DEAD;
        live_cell(r, o, &c);
        e->fsc = 0.7 * c.fsc;
        e->ssc = 1.3 * c.ssc;
        e->fsch = e->fsc / c.ratio;
        for (int m = 0; m < CG_SIM_NMARK; m++)
            e->tv[m] = 0.5 * c.t[m];
        e->tv[CG_SIM_VIAB] = lnorm(r, 15000, 0.2);
    } else if (u < p_debris + p_dbl + p_dead + p_agg) {
        e->cls = CG_SIM_AGGREGATE;
        for (int m = 0; m < CG_SIM_NMARK; m++)
            e->tv[m] = 0;
        for (int k = 0; k < 3; k++) {
            live_cell(r, o, &c);
            for (int m = 0; m < CG_SIM_NMARK; m++)
                e->tv[m] += c.t[m];
        }
        e->fsc = RANGE * (1.1 + 0.3 * unif(r));
        e->ssc = lnorm(r, 200000, 0.1);
        e->fsch = e->fsc / 1.6;
    } else {
        live_cell(r, o, &c);
        e->cls = c.cls;
        e->flags = c.flags;
        e->fsc = c.fsc;
        e->ssc = c.ssc;
        e->fsch = e->fsc / c.ratio;
        memcpy(e->tv, c.t, sizeof e->tv);
    }
}

/* Count event e into the truth. */
static void sim_tally(cg_sim_truth *tr, const sim_event *e)
{
    unsigned flags = e->flags;
    tr->by_class[e->cls]++;
    if (e->cls != CG_SIM_CD4T)
        return;
    tr->cd4++;
    tr->treg += (flags & CG_SIM_F_TREG) != 0;
    tr->foxp3_treg += (flags & CG_SIM_F_TREG) && (flags & CG_SIM_F_FOXP3);
    tr->th17 += (flags & CG_SIM_F_TH17) != 0;
    tr->th17_like += (flags & CG_SIM_F_CCR6) && !(flags & CG_SIM_F_CXCR3);
}

/* Event i's detector values: true x S + autofluorescence, then noise and
 * drift; scatter clipped to the range. */
static void sim_detect(cg_sim_data *d, rng *r, const cg_sim_opts *o,
                       int64_t i, const sim_event *e, int drift_m,
                       double t_end)
{
    double size = e->fsc / 52000.0;
    if (size > 4)
        size = 4;
    double det[NFL];
    for (int s = 0; s < NFL; s++)
        det[s] = af_med[s] * size * pow(10.0, 0.08 * gauss(r));
    for (int s = 0; s < NFL; s++) {
        double v = e->tv[slot_marker[s]];
        if (v == 0)
            continue;
        for (int q = 0; q < NFL; q++)
            det[q] += v * d->spill[s * NFL + q];
    }
    const double *tm = d->col[d->time];
    for (int s = 0; s < NFL; s++) {
        double sd = sqrt(625.0 + 2.0 * (det[s] > 0 ? det[s] : 0));
        double v = det[s] + sd * gauss(r);
        if (drift_m >= 0 && slot_marker[s] == drift_m)
            v *= 1 + o->drift_amount * tm[i] / t_end;
        d->col[d->fl_param[slot_marker[s]]][i] =
            v > RANGE - 1 ? RANGE - 1 : v;
    }
    d->col[d->fsc_a][i] = e->fsc > RANGE - 1 ? RANGE - 1 : e->fsc;
    d->col[d->fsc_h][i] = e->fsch > RANGE - 1 ? RANGE - 1 : e->fsch;
    d->col[d->ssc_a][i] = e->ssc > RANGE - 1 ? RANGE - 1 : e->ssc;
}

cg_sim_data *cg_sim_generate(const cg_sim_opts *o, cg_err *err)
{
    if (check_opts(o, err) < 0)
        return NULL;
    int drift_m = -1;
    if (o->anomalies & CG_SIM_DRIFT) {
        drift_m = marker_index(o->drift_marker);
        if (drift_m < 0) {
            cg_err_set(err, CG_E_ARG,
                       "unknown drift marker '%s' (one of CD3, CD4, CD8, "
                       "CD25, CD127, FOXP3, IL17A, CCR6, CXCR3, Viability)",
                       o->drift_marker);
            return NULL;
        }
    }
    int64_t n = (o->anomalies & CG_SIM_FEW) ? o->few_events : o->events;
    cg_sim_data *d = calloc(1, sizeof *d);
    if (!d || sim_layout(d, n, o->naming == CG_SIM_NAMING_CYTEK) < 0) {
        cg_sim_free(d);
        cg_err_set(err, CG_E_NOMEM, "simulate: out of memory for %lld "
                   "events", (long long)n);
        return NULL;
    }
    rng r;
    rng_seed(&r, o->seed);
    double t_end = sim_times(d, &r, o);
    cg_sim_truth *tr = &d->truth;
    memset(tr, 0, sizeof *tr);
    tr->events = n;
    for (int64_t i = 0; i < n; i++) {
        sim_event e;
        sim_draw(&r, o, &e);
        d->cls[i] = (uint8_t)e.cls;
        d->flags[i] = (uint8_t)e.flags;
        sim_tally(tr, &e);
        sim_detect(d, &r, o, i, &e, drift_m, t_end);
    }
    double cd4 = (double)tr->cd4;
    tr->treg_pct_cd4 = cd4 > 0 ? 100.0 * tr->treg / cd4 : NAN;
    tr->th17_pct_cd4 = cd4 > 0 ? 100.0 * tr->th17 / cd4 : NAN;
    tr->th17_like_pct_cd4 = cd4 > 0 ? 100.0 * tr->th17_like / cd4 : NAN;
    tr->foxp3_treg_pct_cd4 = cd4 > 0 ? 100.0 * tr->foxp3_treg / cd4 : NAN;
    tr->th17_treg_ratio =
        tr->treg > 0 ? (double)tr->th17 / (double)tr->treg : NAN;
    return d;
}

/* ---- output ----------------------------------------------------------------- */

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

char *cg_sim_truth_json(const cg_sim_data *d, const cg_sim_opts *o)
{
    static const char *const cls_names[CG_SIM_NCLASS] = {
        "debris", "doublets", "dead", "aggregates", "monocytes",
        "b_cells", "nk_cells", "cd8_t", "dn_t", "cd4_t"};
    const cg_sim_truth *t = &d->truth;
    json_t *root = json_object(), *opt = json_object(),
           *cnt = json_object(), *chan = json_object(), *an = json_array();
    if (!root || !opt || !cnt || !chan || !an) {
        json_decref(root);
        json_decref(opt);
        json_decref(cnt);
        json_decref(chan);
        json_decref(an);
        return NULL;
    }
    json_object_set_new(root, "generator",
                        json_string("cytogate simulate " CYTOGATE_VERSION));
    json_object_set_new(
        root, "definition",
        json_string("counts are of generated labels, not gates: cd4 = live "
                    "singlet CD3+ CD4+ CD8- T cells; treg (CD25hi CD127lo), "
                    "foxp3_treg, th17 (IL-17A+) and th17_like (CCR6+ "
                    "CXCR3-) are subsets of cd4; ratio = th17 / treg"));
    if (o->sample_id[0])
        json_object_set_new(root, "sample_id", json_string(o->sample_id));
    if (o->subject[0])
        json_object_set_new(root, "subject", json_string(o->subject));
    if (o->visit[0])
        json_object_set_new(root, "visit", json_string(o->visit));
    json_object_set_new(root, "events", json_integer(t->events));
    json_object_set_new(root, "cd4_count", json_integer(t->cd4));
    json_object_set_new(root, "treg_count", json_integer(t->treg));
    json_object_set_new(root, "treg_pct_cd4", num_or_null(t->treg_pct_cd4));
    json_object_set_new(root, "foxp3_treg_count",
                        json_integer(t->foxp3_treg));
    json_object_set_new(root, "foxp3_treg_pct_cd4",
                        num_or_null(t->foxp3_treg_pct_cd4));
    json_object_set_new(root, "th17_count", json_integer(t->th17));
    json_object_set_new(root, "th17_pct_cd4", num_or_null(t->th17_pct_cd4));
    json_object_set_new(root, "th17_like_count", json_integer(t->th17_like));
    json_object_set_new(root, "th17_like_pct_cd4",
                        num_or_null(t->th17_like_pct_cd4));
    json_object_set_new(root, "th17_treg_ratio",
                        num_or_null(t->th17_treg_ratio));
    for (int c = 0; c < CG_SIM_NCLASS; c++)
        json_object_set_new(cnt, cls_names[c], json_integer(t->by_class[c]));
    json_object_set_new(root, "class_counts", cnt);
    for (int m = 0; m < CG_SIM_NMARK; m++)
        json_object_set_new(chan, cg_sim_marker_names[m],
                            json_string(d->name[d->fl_param[m]]));
    json_object_set_new(root, "channels", chan);
    json_object_set_new(opt, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(opt, "events", json_integer(o->events));
    json_object_set_new(opt, "treg_pct", json_real(o->treg_pct));
    json_object_set_new(opt, "th17_pct", json_real(o->th17_pct));
    json_object_set_new(opt, "debris_pct", json_real(o->debris_pct));
    json_object_set_new(opt, "doublet_pct", json_real(o->doublet_pct));
    json_object_set_new(opt, "dead_pct", json_real(o->dead_pct));
    json_object_set_new(opt, "naming",
                        json_string(o->naming == CG_SIM_NAMING_CYTEK ? "cytek"
                                                                     : "bd"));
    json_object_set_new(opt, "byte_order",
                        json_string(o->big_endian ? "big" : "little"));
    if (o->anomalies & CG_SIM_CLOG)
        json_array_append_new(an, json_string("clog"));
    if (o->anomalies & CG_SIM_DRIFT)
        json_array_append_new(an, json_string("drift"));
    if (o->anomalies & CG_SIM_SATURATION)
        json_array_append_new(an, json_string("saturation"));
    if (o->anomalies & CG_SIM_FEW)
        json_array_append_new(an, json_string("few"));
    json_object_set_new(opt, "anomalies", an);
    if (o->anomalies & CG_SIM_DRIFT) {
        json_object_set_new(opt, "drift_marker",
                            json_string(o->drift_marker));
        json_object_set_new(opt, "drift_amount", json_real(o->drift_amount));
    }
    if (o->anomalies & CG_SIM_SATURATION)
        json_object_set_new(opt, "saturate_pct", json_real(o->saturate_pct));
    if (o->anomalies & CG_SIM_FEW)
        json_object_set_new(opt, "few_events", json_integer(o->few_events));
    json_object_set_new(root, "options", opt);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                   JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *out = malloc(len + 2); /* jansson's allocator may differ: copy */
    if (out) {
        memcpy(out, s, len);
        out[len] = '\n';
        out[len + 1] = '\0';
    }
    free(s);
    return out;
}

int cg_sim_write(const cg_sim_data *d, const cg_sim_opts *o,
                 const char *fcs_path, const char *truth_path, cg_err *err)
{
    fcs_wparam wp[NFL + 4];
    for (int j = 0; j < d->npar; j++) {
        wp[j].name = d->name[j];
        wp[j].label = d->label[j];
        wp[j].range = d->range[j];
    }
    char *spn[NFL];
    for (int s = 0; s < NFL; s++)
        spn[s] = (char *)d->spill_names[s];
    fcs_spill sp;
    memset(&sp, 0, sizeof sp);
    sp.n = NFL;
    sp.names = spn;
    sp.m = d->spill;
    snprintf(sp.keyword, sizeof sp.keyword, "$SPILLOVER");
    char seed[32], ts[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(ts, sizeof ts, "%g", d->timestep);
    fcs_kv kv[8];
    int nkv = 0;
    kv[nkv++] = (fcs_kv){"$CYT", o->naming == CG_SIM_NAMING_CYTEK
                                     ? "cytogate simulate (Cytek naming)"
                                     : "cytogate simulate (BD naming)"};
    kv[nkv++] = (fcs_kv){"$TIMESTEP", ts};
    kv[nkv++] = (fcs_kv){"CYTOGATE_SEED", seed};
    if (o->sample_id[0])
        kv[nkv++] = (fcs_kv){"$SRC", o->sample_id};
    if (o->subject[0])
        kv[nkv++] = (fcs_kv){"CYTOGATE_SUBJECT", o->subject};
    if (o->visit[0])
        kv[nkv++] = (fcs_kv){"CYTOGATE_VISIT", o->visit};
    fcs_wopts wo = {o->big_endian ? 1 : 0};
    fcs_err fe;
    memset(&fe, 0, sizeof fe);
    if (fcs_write(fcs_path, d->npar, wp, d->n, (const double *const *)d->col,
                  kv, nkv, &sp, &wo, &fe) < 0)
        return cg_err_set(err, CG_E_IO, "%s: %s", fcs_path, fe.msg);
    if (!truth_path)
        return 0;
    char *js = cg_sim_truth_json(d, o);
    if (!js)
        return cg_err_set(err, CG_E_NOMEM, "%s: out of memory", truth_path);
    int rc = cg_write_file_atomic(truth_path, js, strlen(js));
    free(js);
    if (rc < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot write the truth file",
                          truth_path);
    return 0;
}
