/*
 * run_gen.c -- deterministic test data for the `cytogate run` tests:
 * small PBMC-like FCS files with labelled populations (debris, doublets,
 * dead cells, CD3+/-, CD4/CD8, Treg CD25hi CD127lo, IL-17A+ Th17), a
 * known spillover applied and recorded in $SPILLOVER, two channel
 * namings, both byte orders, plus broken inputs and sample sheets.
 *
 *   run_gen OUTDIR [NSAMPLES]
 *
 * Writes OUTDIR/<id>.fcs, OUTDIR/truth.tsv (sample_id, true Treg and Th17
 * % of CD4 by label), sheet.csv (subject/visit/extra column), and the
 * broken cases: nocd25.fcs (no CD25 channel), broken.fcs (not FCS),
 * sheet_broken.csv (a bad file in the middle), sheet_missing.csv (a file
 * that does not exist), sheet_nocd25.csv.  Same arguments, same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcs/fcs.h"

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}
static double lnorm(double med, double sdlog)
{
    return med * exp(sdlog * nrand());
}

enum { FSCA, FSCH, SSCA, TIME, CD3, CD4, CD8, CD25, CD127, IL17, VIAB, NPAR };

typedef struct truth {
    long cd4, treg, th17;
} truth;

static int gen(const char *path, long n, double ftreg, double fth17, int naming,
               int big, int drop_cd25, uint64_t seed, truth *t)
{
    static const char *names[2][NPAR] = {
        {"FSC-A", "FSC-H", "SSC-A", "Time", "V450-A", "B710-A", "R780-A",
         "G560-A", "R660-A", "G780-A", "B515-A"},
        {"FS INT", "FS PEAK", "SS INT", "TIME", "FL9 INT", "FL3 INT", "FL8 INT",
         "FL2 INT", "FL6 INT", "FL5 INT", "FL1 INT"}};
    static const char *labels[2][NPAR] = {
        {NULL, NULL, NULL, NULL, "CD3", "CD4", "CD8", "CD25", "CD127",
         "IL17A", "Viability"},
        {NULL, NULL, NULL, NULL, "CD3 Pacific Blue", "CD4 PerCP-Cy5.5",
         "CD8 APC-H7", "CD25 (IL-2Ra)", "CD127-APC", "IL-17A",
         "Zombie NIR"}};
    rng_state = seed;
    memset(t, 0, sizeof *t);
    double *col[NPAR];
    for (int j = 0; j < NPAR; j++)
        col[j] = calloc((size_t)n, sizeof(double));
    for (long i = 0; i < n; i++) {
        double v[NPAR];
        double u = urand();
        int debris = u < 0.05, doublet = !debris && u < 0.10;
        double fsc = debris ? lnorm(12000, 0.4) : lnorm(70000, 0.10);
        double ssc = debris ? lnorm(8000, 0.5) : lnorm(25000, 0.18);
        double h = fsc / 1.15 * (1 + 0.02 * nrand());
        if (doublet) {
            fsc *= 1.9;
            h = fsc / 1.15 / 1.55;
        }
        v[FSCA] = fsc;
        v[FSCH] = h;
        v[SSCA] = ssc;
        v[TIME] = (double)i * 100.0 / (double)n;
        int dead = urand() < 0.10;
        int cd3 = urand() < 0.70;
        double r = urand();
        int cd4 = cd3 && r < 0.62, cd8 = cd3 && !cd4 && r < 0.92;
        int treg = cd4 && urand() < ftreg;
        int th17 = cd4 && urand() < fth17;
        v[VIAB] = dead ? lnorm(20000, 0.3) : lnorm(300, 0.4);
        v[CD3] = cd3 ? lnorm(9000, 0.25) : lnorm(150, 0.5);
        v[CD4] = cd4 ? lnorm(12000, 0.25) : lnorm(200, 0.5);
        v[CD8] = cd8 ? lnorm(15000, 0.25) : lnorm(150, 0.5);
        v[CD25] = treg ? lnorm(6000, 0.25) : lnorm(250, 0.5);
        v[CD127] = treg ? lnorm(150, 0.4) : (cd3 ? lnorm(4000, 0.3)
                                                 : lnorm(200, 0.5));
        v[IL17] = th17 ? lnorm(4000, 0.3) : lnorm(80, 0.5);
        for (int j = CD3; j < NPAR; j++)
            v[j] += 40 * nrand();
        if (!debris && !doublet && !dead && cd4) {
            t->cd4++;
            t->treg += treg;
            t->th17 += th17;
        }
        /* spillover: CD25 (PE) -> CD127? no: PE -> PE-Cy7 (IL17) 5%,
         * CD4 (PerCP-Cy5.5) -> IL17 2%, Viability -> CD25 3% */
        double o25 = v[CD25] + 0.03 * v[VIAB];
        double o17 = v[IL17] + 0.05 * v[CD25] + 0.02 * v[CD4];
        v[CD25] = o25;
        v[IL17] = o17;
        for (int j = 0; j < NPAR; j++)
            col[j][i] = v[j] < 262143 ? v[j] : 262143;
    }
    fcs_wparam wp[NPAR];
    const double *cols[NPAR];
    int np = 0, k25 = -1;
    for (int j = 0; j < NPAR; j++) {
        if (drop_cd25 && j == CD25)
            continue;
        if (j == CD25)
            k25 = np;
        wp[np].name = names[naming][j];
        wp[np].label = labels[naming][j];
        wp[np].range = j == TIME ? 1024 : 262144;
        cols[np] = col[j];
        np++;
    }
    /* $SPILLOVER over CD4, CD25, IL17, VIAB: rows = source */
    fcs_spill sp;
    char *sn[4];
    double m[16] = {0};
    int idx[4] = {CD4, CD25, IL17, VIAB};
    for (int a = 0; a < 4; a++) {
        sn[a] = (char *)names[naming][idx[a]];
        m[a * 5] = 1;
    }
    m[0 * 4 + 2] = 0.02; /* CD4 -> IL17 */
    m[1 * 4 + 2] = 0.05; /* CD25 -> IL17 */
    m[3 * 4 + 1] = 0.03; /* VIAB -> CD25 */
    sp.n = 4;
    sp.names = sn;
    sp.m = m;
    snprintf(sp.keyword, sizeof sp.keyword, "$SPILLOVER");
    fcs_kv kw[] = {{"$CYT", "run_gen"}, {"$TIMESTEP", "0.01"}};
    fcs_wopts wo = {.big_endian = big};
    fcs_err err;
    int rc = fcs_write(path, np, wp, n, cols, kw, 2,
                       drop_cd25 || k25 < 0 ? NULL : &sp, &wo, &err);
    if (rc < 0)
        fprintf(stderr, "run_gen: %s: %s\n", path, err.msg);
    for (int j = 0; j < NPAR; j++)
        free(col[j]);
    return rc;
}

static FILE *open_out(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp)
        fprintf(stderr, "run_gen: cannot write %s\n", p);
    return fp;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: run_gen OUTDIR [NSAMPLES]\n");
        return 1;
    }
    const char *dir = argv[1];
    int ns = argc > 2 ? atoi(argv[2]) : 4;
    if (ns < 4)
        ns = 4;
    FILE *tr = open_out(dir, "truth.tsv"), *sh = open_out(dir, "sheet.csv");
    if (!tr || !sh)
        return 1;
    fprintf(tr, "sample_id\tcd4\ttreg\tth17\ttreg_pct_cd4\tth17_pct_cd4\n");
    fprintf(sh, "file,sample_id,subject,visit,group,site\n");
    char ids[64][32];
    for (int s = 0; s < ns && s < 64; s++) {
        /* Treg 2-15 %, Th17 0.3-5 % of CD4, spread over the samples */
        double ft = 0.02 + 0.13 * (double)s / (double)(ns - 1);
        double fh = 0.003 + 0.047 * (double)((s * 7) % ns) / (double)(ns - 1);
        snprintf(ids[s], sizeof ids[s], "S%02d", s + 1);
        char path[4096], fn[64];
        snprintf(fn, sizeof fn, "%s.fcs", ids[s]);
        snprintf(path, sizeof path, "%s/%s", dir, fn);
        truth t;
        if (gen(path, 40000, ft, fh, s % 2, (s / 2) % 2, 0,
                0x5eed0000ULL + (uint64_t)s, &t) < 0)
            return 1;
        fprintf(tr, "%s\t%ld\t%ld\t%ld\t%.6f\t%.6f\n", ids[s], t.cd4, t.treg,
                t.th17, 100.0 * t.treg / t.cd4, 100.0 * t.th17 / t.cd4);
        fprintf(sh, "%s,%s,P%d,V%d,%s,\"site, %c\"\n", fn, ids[s], s / 2 + 1,
                s % 2 + 1, s < ns / 2 ? "control" : "case", 'A' + s % 3);
    }
    fclose(tr);
    fclose(sh);
    char path[4096];
    truth t;
    snprintf(path, sizeof path, "%s/nocd25.fcs", dir);
    if (gen(path, 5000, 0.05, 0.01, 0, 0, 1, 99, &t) < 0)
        return 1;
    FILE *b = open_out(dir, "broken.fcs");
    if (!b)
        return 1;
    fputs("FCS3.1    this is not an FCS file at all\n", b);
    fclose(b);
    FILE *f1 = open_out(dir, "sheet_broken.csv");
    fprintf(f1, "file,sample_id\nS01.fcs,S01\nbroken.fcs,BROKEN\nS02.fcs,S02\n");
    fclose(f1);
    FILE *f2 = open_out(dir, "sheet_missing.csv");
    fprintf(f2, "file,sample_id\nS01.fcs,S01\nno_such_file.fcs,MISSING\n");
    fclose(f2);
    FILE *f3 = open_out(dir, "sheet_nocd25.csv");
    fprintf(f3, "file,sample_id\nnocd25.fcs,NOCD25\nS01.fcs,S01\n");
    fclose(f3);
    return 0;
}
