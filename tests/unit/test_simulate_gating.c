/*
 * test_simulate_gating.c -- the simulator and the auto gates fit together:
 * WITHOUT the pipeline, simulate samples across Treg 2-15% and Th17
 * 0.3-5% of CD4 (both namings), compensate with the inverse of the
 * written spillover matrix (explicit Gauss-Jordan here), transform every
 * fluorescence channel with logicle (T 262144, W 0.5, M 4.5, A 0), and
 * gate with the default config's hierarchy using the auto gates:
 *   cells    scatter FSC-A x SSC-A (linear), level 0.05
 *   singlets FSC-A / FSC-H band, tolerance 0.12
 *   live     Viability valley, below
 *   cd3      CD3 valley, above
 *   cd4      CD4 valley above AND CD8 valley below (both on cd3)
 *   treg     CD25 valley above AND CD127 valley below (both on cd4)
 *   th17     IL17A tail (fraction 0.001), above (on cd4)
 * Asserts |Treg % of CD4 - truth| <= 0.5 and |Th17 % of CD4 - truth| <=
 * 0.3 for every sample, that no gate fell back, and prints the worst
 * errors.  The same gating is then applied to the demo files in samples/
 * read back through fcs_open (spillover from $SPILLOVER, channels from
 * the truth sidecar) against their truth JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "autogate.h"
#include "fcs.h"
#include "simulate.h"
#include "testutil.h"
#include "xform.h"

/* In-place inverse of the n x n row-major a (partial pivoting). */
static int invert(double *a, int n)
{
    double *b = calloc((size_t)n * n, sizeof *b);
    for (int i = 0; i < n; i++)
        b[i * n + i] = 1;
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c]))
                p = r;
        if (a[p * n + c] == 0) {
            free(b);
            return -1;
        }
        for (int k = 0; k < n; k++) {
            double t = a[c * n + k];
            a[c * n + k] = a[p * n + k];
            a[p * n + k] = t;
            t = b[c * n + k];
            b[c * n + k] = b[p * n + k];
            b[p * n + k] = t;
        }
        double piv = a[c * n + c];
        for (int k = 0; k < n; k++) {
            a[c * n + k] /= piv;
            b[c * n + k] /= piv;
        }
        for (int r = 0; r < n; r++) {
            if (r == c)
                continue;
            double f = a[r * n + c];
            for (int k = 0; k < n; k++) {
                a[r * n + k] -= f * a[c * n + k];
                b[r * n + k] -= f * b[c * n + k];
            }
        }
    }
    memcpy(a, b, (size_t)n * n * sizeof *a);
    free(b);
    return 0;
}

static int fallbacks;

static void thr(const double *x, int64_t n, const cg_bits *parent,
                int tail, int above, cg_bits *out, const char *what)
{
    cg_autogate_opts o;
    cg_autogate_opts_init(&o);
    /* the pipeline's defaults (run.c cg_run_auto_cut): a lone peak is the
     * kept population; a tail cut goes on the kept side */
    o.one_peak = above ? -1 : 1;
    o.keep_peak = 1;
    o.side = above ? 1 : -1;
    cg_threshold_result r;
    cg_err err;
    int rc = tail ? cg_gate_tail(x, n, parent, &o, &r, &err)
                  : cg_gate_valley(x, n, parent, &o, &r, &err);
    CHECK(rc == 0);
    if (r.fell_back) {
        fallbacks++;
        fprintf(stderr, "  %s fell back: %s\n", what, r.reason);
    }
    cg_threshold_apply(r.threshold, above, x, n, parent, out, &err);
}

/* The default config's hierarchy on compensated, logicle-transformed
 * marker columns mk[CG_SIM_*] and linear scatter.  Returns the gated CD4
 * bitset (owned) and the Treg and Th17 % of it. */
static cg_bits *gate(int64_t n, const double *fsc_a, const double *fsc_h,
                     const double *ssc_a, double *const *mk, double *tp,
                     double *hp)
{
    cg_err err;
    cg_bits *cells = cg_bits_new(n), *sing = cg_bits_new(n),
            *live = cg_bits_new(n), *cd3 = cg_bits_new(n),
            *cd4 = cg_bits_new(n), *tmp = cg_bits_new(n),
            *treg = cg_bits_new(n), *th17 = cg_bits_new(n);
    cg_scatter_opts so;
    cg_scatter_opts_init(&so);
    cg_scatter_result sc;
    REQUIRE(cg_gate_scatter(fsc_a, ssc_a, n, NULL, &so, &sc, &err) == 0);
    if (sc.fell_back)
        fallbacks++;
    cg_scatter_apply(&sc, fsc_a, ssc_a, n, NULL, cells, &err);
    cg_scatter_result_release(&sc);
    cg_singlets_result sr;
    REQUIRE(cg_gate_singlets(fsc_a, fsc_h, n, cells, 0.12, &sr, &err) == 0);
    if (sr.fell_back)
        fallbacks++;
    cg_singlets_apply(&sr, fsc_a, fsc_h, n, cells, sing, &err);
    thr(mk[CG_SIM_VIAB], n, sing, 0, 0, live, "live");
    thr(mk[CG_SIM_CD3], n, live, 0, 1, cd3, "cd3");
    thr(mk[CG_SIM_CD4], n, cd3, 0, 1, cd4, "cd4");
    thr(mk[CG_SIM_CD8], n, cd3, 0, 0, tmp, "cd8");
    cg_bits_and(cd4, tmp);
    thr(mk[CG_SIM_CD25], n, cd4, 0, 1, treg, "cd25");
    thr(mk[CG_SIM_CD127], n, cd4, 0, 0, tmp, "cd127");
    cg_bits_and(treg, tmp);
    thr(mk[CG_SIM_IL17A], n, cd4, 1, 1, th17, "il17a");
    double ncd4 = (double)cg_bits_count(cd4);
    *tp = 100.0 * cg_bits_count(treg) / ncd4;
    *hp = 100.0 * cg_bits_count(th17) / ncd4;
    cg_bits_free(cells);
    cg_bits_free(sing);
    cg_bits_free(live);
    cg_bits_free(cd3);
    cg_bits_free(tmp);
    cg_bits_free(treg);
    cg_bits_free(th17);
    return cd4;
}

/* Gate one samples/ file against its truth sidecar. */
static void check_file(const char *id, const cg_xform *lg, double *wt,
                       double *wh)
{
    char path[1024], tpath[1024];
    snprintf(path, sizeof path, "%s/../samples/%s.fcs", CG_TESTS_DIR, id);
    snprintf(tpath, sizeof tpath, "%s/../samples/%s.truth.json",
             CG_TESTS_DIR, id);
    json_error_t je;
    json_t *js = json_load_file(tpath, 0, &je);
    fcs_err fe;
    fcs_file *f = fcs_open(path, NULL, &fe);
    CHECKM(js && f, "%s: cannot open file or truth", id);
    if (!js || !f) {
        json_decref(js);
        fcs_close(f);
        return;
    }
    int64_t n = fcs_n_events(f);
    int np = fcs_n_params(f);
    double **col = calloc(np, sizeof *col);
    for (int j = 0; j < np; j++)
        col[j] = malloc(n * sizeof **col);
    CHECK_INT(fcs_read_double(f, FCS_SCALED, 0, n, col, &fe), n);
    fcs_spill *sp = NULL;
    CHECK_INT(fcs_spillover(f, &sp, &fe), 1);
    REQUIRE(sp != NULL);
    int k = sp->n, *idx = malloc(k * sizeof *idx);
    for (int q = 0; q < k; q++)
        idx[q] = fcs_param_index(f, sp->names[q]);
    double *inv = malloc(sizeof(double) * k * k);
    memcpy(inv, sp->m, sizeof(double) * k * k);
    REQUIRE(invert(inv, k) == 0);
    double *comp = malloc(sizeof(double) * k * n);
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < k; c++) {
            double v = 0;
            for (int q = 0; q < k; q++)
                v += col[idx[q]][i] * inv[q * k + c];
            comp[(size_t)c * n + i] = v;
        }
    for (int c = 0; c < k; c++) {
        memcpy(col[idx[c]], comp + (size_t)c * n, sizeof(double) * n);
        cg_xform_fwd(lg, col[idx[c]], col[idx[c]], (size_t)n);
    }
    double *mk[CG_SIM_NMARK];
    json_t *ch = json_object_get(js, "channels");
    for (int m = 0; m < CG_SIM_NMARK; m++) {
        const char *nm = json_string_value(
            json_object_get(ch, cg_sim_marker_names[m]));
        int j = nm ? fcs_param_index(f, nm) : -1;
        REQUIRE(j >= 0);
        mk[m] = col[j];
    }
    double tp, hp;
    cg_bits *cd4 = gate(n, col[fcs_param_index(f, "FSC-A")],
                        col[fcs_param_index(f, "FSC-H")],
                        col[fcs_param_index(f, "SSC-A")], mk, &tp, &hp);
    double tt = json_real_value(json_object_get(js, "treg_pct_cd4"));
    double th = json_real_value(json_object_get(js, "th17_pct_cd4"));
    printf("samples/%s: treg %6.3f%% (truth %6.3f, err %+.3f)  th17 %6.3f%% "
           "(truth %6.3f, err %+.3f)\n",
           id, tp, tt, tp - tt, hp, th, hp - th);
    CHECKM(fabs(tp - tt) <= 0.5, "%s treg error %.3f", id, tp - tt);
    CHECKM(fabs(hp - th) <= 0.3, "%s th17 error %.3f", id, hp - th);
    if (fabs(tp - tt) > *wt)
        *wt = fabs(tp - tt);
    if (fabs(hp - th) > *wh)
        *wh = fabs(hp - th);
    cg_bits_free(cd4);
    free(comp);
    free(inv);
    free(idx);
    fcs_spill_free(sp);
    for (int j = 0; j < np; j++)
        free(col[j]);
    free(col);
    fcs_close(f);
    json_decref(js);
}

int main(void)
{
    static const double tregs[] = {2, 3.5, 5, 6, 8, 10, 12, 15};
    static const double th17s[] = {0.3, 0.5, 1, 1.5, 2, 3, 4, 5};
    cg_xform_params xp;
    memset(&xp, 0, sizeof xp);
    xp.T = 262144;
    xp.W = 0.5;
    xp.M = 4.5;
    xp.A = 0;
    cg_err err;
    cg_xform *lg = cg_xform_new(CG_XF_LOGICLE, &xp, &err);
    REQUIRE(lg != NULL);
    double worst_treg = 0, worst_th17 = 0;
    int nsamp = 0;
    for (int s = 0; s < 16; s++) {
        cg_sim_opts o;
        cg_sim_opts_init(&o);
        o.seed = 1000 + (uint64_t)s;
        o.events = 30000;
        o.treg_pct = tregs[s % 8];
        o.th17_pct = th17s[(s * 3) % 8];
        o.naming = s % 2 ? CG_SIM_NAMING_CYTEK : CG_SIM_NAMING_BD;
        cg_sim_data *d = cg_sim_generate(&o, &err);
        REQUIRE(d != NULL);
        int64_t n = d->n;
        /* compensate: comp = obs * S^-1 over the fluorescence params */
        double *inv = malloc(sizeof(double) * d->nfl * d->nfl);
        memcpy(inv, d->spill, sizeof(double) * d->nfl * d->nfl);
        REQUIRE(invert(inv, d->nfl) == 0);
        int fl[16];
        for (int k = 0; k < d->nfl; k++)
            for (int j = 0; j < d->npar; j++)
                if (strcmp(d->name[j], d->spill_names[k]) == 0)
                    fl[k] = j;
        double *comp = malloc(sizeof(double) * d->nfl * n);
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < d->nfl; k++) {
                double v = 0;
                for (int q = 0; q < d->nfl; q++)
                    v += d->col[fl[q]][i] * inv[q * d->nfl + k];
                comp[(size_t)k * n + i] = v;
            }
        for (int k = 0; k < d->nfl; k++) {
            memcpy(d->col[fl[k]], comp + (size_t)k * n, sizeof(double) * n);
            cg_xform_fwd(lg, d->col[fl[k]], d->col[fl[k]], (size_t)n);
        }
        free(comp);
        free(inv);
        double *mk[CG_SIM_NMARK];
        for (int m = 0; m < CG_SIM_NMARK; m++)
            mk[m] = d->col[d->fl_param[m]];
        double tp, hp;
        cg_bits *cd4 = gate(n, d->col[d->fsc_a], d->col[d->fsc_h],
                            d->col[d->ssc_a], mk, &tp, &hp);
        double ncd4 = (double)cg_bits_count(cd4);
        double et = tp - d->truth.treg_pct_cd4, eh = hp - d->truth.th17_pct_cd4;
        printf("seed %llu %-5s: cd4 %6.0f (truth %6lld)  treg %6.3f%% "
               "(truth %6.3f, err %+.3f)  th17 %6.3f%% (truth %6.3f, err "
               "%+.3f)\n",
               (unsigned long long)o.seed, s % 2 ? "cytek" : "bd", ncd4,
               (long long)d->truth.cd4, tp, d->truth.treg_pct_cd4, et, hp,
               d->truth.th17_pct_cd4, eh);
        CHECKM(fabs(et) <= 0.5, "seed %llu treg error %.3f",
               (unsigned long long)o.seed, et);
        CHECKM(fabs(eh) <= 0.3, "seed %llu th17 error %.3f",
               (unsigned long long)o.seed, eh);
        if (fabs(et) > worst_treg)
            worst_treg = fabs(et);
        if (fabs(eh) > worst_th17)
            worst_th17 = fabs(eh);
        /* the gated CD4 is nearly all true CD4 (purity) */
        int64_t pure = 0;
        for (int64_t i = 0; i < n; i++)
            pure += cg_bits_get(cd4, i) && d->cls[i] == CG_SIM_CD4T;
        CHECKM(pure >= 0.995 * ncd4, "seed %llu cd4 purity %.4f",
               (unsigned long long)o.seed, pure / ncd4);
        CHECKM(ncd4 >= 0.85 * d->truth.cd4, "seed %llu cd4 yield %.3f",
               (unsigned long long)o.seed, ncd4 / d->truth.cd4);
        cg_bits_free(cd4);
        cg_sim_free(d);
        nsamp++;
    }
    printf("%d samples: worst |treg error| %.3f points (limit 0.5), worst "
           "|th17 error| %.3f points (limit 0.3), %d gate fallbacks\n",
           nsamp, worst_treg, worst_th17, fallbacks);
    static const char *const ids[] = {"S01_V1", "S01_V2", "S01_V3",
                                      "S02_V1", "S02_V2", "S02_V3",
                                      "S03_V1", "S03_V2"};
    double wt = 0, wh = 0;
    for (int i = 0; i < 8; i++)
        check_file(ids[i], lg, &wt, &wh);
    printf("samples/: worst |treg error| %.3f, worst |th17 error| %.3f\n",
           wt, wh);
    CHECK_INT(fallbacks, 0);
    cg_xform_free(lg);
    cg_kde_cache_clear();
    return TEST_DONE();
}
