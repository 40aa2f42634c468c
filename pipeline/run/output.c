/*
 * output.c -- the files `cytogate run` writes (see run.h and README
 * "Outputs"): summary.tsv, stats.tsv, qc.tsv, samples/<id>.json,
 * longitudinal.tsv, run.json and the batch figures.
 *
 * Invariants: rows are in sample-sheet order; numbers are printed with
 * cg_fmt_num (%.6g, "NA" for missing; JSON reals with 10 significant
 * digits, null for missing), so the bytes depend only on the results,
 * never on thread count or timing -- the only time-dependent value is
 * run.json's start_time.  Every file is written to a temporary name and
 * renamed into place (util.h cg_atomic_*), every write is checked, and
 * run.json is written only after everything else was (cmd_run writes it
 * all into a staging folder and commits it, outdir.h).  Text fields have
 * tabs and newlines replaced by spaces in TSV; --safe-tsv prefixes
 * formula-like cells with ' (cg_tsv_safe_copy).
 *
 * Threading: runs on the main thread after every worker has finished.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_gml.h"
#include "output.h"
#include "plot.h"
#include "run.h"
#include "run_internal.h"
#include "stats.h"
#include "util.h"

void cg_fmt_num(char *buf, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, n, "NA");
        return;
    }
    if (v == 0)
        v = 0; /* no "-0" */
    snprintf(buf, n, "%.6g", v);
}

static void put_num(FILE *fp, double v)
{
    char b[40];
    cg_fmt_num(b, sizeof b, v);
    fputs(b, fp);
}

static void put_count(FILE *fp, int64_t c)
{
    if (c < 0)
        fputs("NA", fp);
    else
        fprintf(fp, "%lld", (long long)c);
}

/* Text cell: tabs, CR and LF become spaces; empty stays empty. */
static void put_text(FILE *fp, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
}

int cg_natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = 0, lb = 0;
            while (a[la] >= '0' && a[la] <= '9')
                la++;
            while (b[lb] >= '0' && b[lb] <= '9')
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return (*a != 0) - (*b != 0);
}

/* ---------------------------------------------------------- headline -- */

void cg_result_headline(const cg_config *cfg, const cg_result *r,
                        cg_headline *h)
{
    h->cd4 = h->treg = h->th17 = -1;
    h->treg_pct = h->th17_pct = h->ratio = NAN;
    if (!r->ok || !r->pops)
        return;
    /* the per-sample choice of each headline list (cg_result) */
    if (r->head_cd4 >= 0)
        h->cd4 = r->pops[r->head_cd4].count;
    if (r->head_treg >= 0)
        h->treg = r->pops[r->head_treg].count;
    if (r->head_th17 >= 0)
        h->th17 = r->pops[r->head_th17].count;
    if (h->cd4 >= 0 && h->treg >= 0)
        h->treg_pct = cg_stat_pct(h->treg, h->cd4);
    if (h->cd4 >= 0 && h->th17 >= 0)
        h->th17_pct = cg_stat_pct(h->th17, h->cd4);
    for (int i = 0; i < cfg->nmetrics; i++)
        if (!strcmp(cfg->metrics[i].name, "th17_treg_ratio"))
            h->ratio = r->metric[i];
}

const char *cg_gate_definition(const cg_config *cfg, int gi)
{
    if (gi < 0 || gi >= cfg->ngates)
        return "NA";
    const cg_gate_spec *g = &cfg->gates[gi];
    return g->definition ? g->definition : g->name;
}

static int is_headline(const cg_config *cfg, int gi)
{
    return gi == cfg->head_cd4 || gi == cfg->head_treg || gi == cfg->head_th17;
}

static int descends_from(const cg_config *cfg, int gi, int anc)
{
    for (int p = cfg->gates[gi].parent; p >= 0; p = cfg->gates[p].parent)
        if (p == anc)
            return 1;
    return 0;
}

static const char *qc_word(const cg_result *r)
{
    if (!r->ok)
        return "fail";
    if (r->qc_verdict < 0)
        return "NA";
    return r->qc_verdict == CG_QC_FAIL ? "fail"
           : r->qc_verdict == CG_QC_WARN ? "warn" : "pass";
}

/* The message cell: the error, or the notes joined with "; ". */
static void put_message(FILE *fp, const cg_result *r)
{
    if (!r->ok) {
        put_text(fp, r->message ? r->message : "unknown error");
        return;
    }
    for (int k = 0; k < r->nwarnings; k++) {
        if (k)
            fputs("; ", fp);
        put_text(fp, r->warnings[k]);
    }
}

int cg_write_summary(FILE *fp, const cg_run_ctx *ctx, const cg_result *res)
{
    const cg_config *cfg = ctx->cfg;
    const cg_sheet *sh = ctx->sheet;
    fputs("sample_id\tfile\tsubject\tvisit\tstatus\tqc\tevents\tcd4_count\t"
          "treg_count\ttreg_pct_cd4\tth17_count\tth17_pct_cd4\tth17_treg_ratio"
          "\ttreg_definition\tth17_definition", fp);
    for (int g = 0; g < cfg->ngates; g++) {
        if (is_headline(cfg, g))
            continue;
        const char *nm = cfg->gates[g].name;
        fprintf(fp, "\t%s_count\t%s_pct_parent", nm, nm);
        for (int k = 0; k < cfg->npct_of; k++)
            if (descends_from(cfg, g, cfg->pct_of[k]))
                fprintf(fp, "\t%s_pct_%s", nm, cfg->gates[cfg->pct_of[k]].name);
    }
    for (int m = 0; m < cfg->nmetrics; m++)
        if (strcmp(cfg->metrics[m].name, "th17_treg_ratio"))
            fprintf(fp, "\t%s", cfg->metrics[m].name);
    fputs("\tgroup", fp);
    for (int k = 0; k < sh->nextra; k++) {
        fputc('\t', fp);
        put_text(fp, sh->extra_names[k]);
    }
    fputs("\tmessage\n", fp);

    for (int i = 0; i < sh->n; i++) {
        const cg_sample *s = &sh->s[i];
        const cg_result *r = &res[i];
        cg_headline h;
        cg_result_headline(cfg, r, &h);
        put_text(fp, s->sample_id);
        fputc('\t', fp);
        put_text(fp, s->file_given);
        fputc('\t', fp);
        put_text(fp, s->subject);
        fputc('\t', fp);
        put_text(fp, s->visit);
        fprintf(fp, "\t%s\t%s\t", r->ok ? "ok" : "error", qc_word(r));
        put_count(fp, r->ok ? r->events : -1);
        fputc('\t', fp);
        put_count(fp, h.cd4);
        fputc('\t', fp);
        put_count(fp, h.treg);
        fputc('\t', fp);
        put_num(fp, h.treg_pct);
        fputc('\t', fp);
        put_count(fp, h.th17);
        fputc('\t', fp);
        put_num(fp, h.th17_pct);
        fputc('\t', fp);
        put_num(fp, h.ratio);
        fputc('\t', fp);
        put_text(fp, h.treg >= 0 ? cg_gate_definition(cfg, r->head_treg)
                                 : "NA");
        fputc('\t', fp);
        put_text(fp, h.th17 >= 0 ? cg_gate_definition(cfg, r->head_th17)
                                 : "NA");
        for (int g = 0; g < cfg->ngates; g++) {
            if (is_headline(cfg, g))
                continue;
            const cg_pop_result *p = r->ok ? &r->pops[g] : NULL;
            int64_t c = p ? p->count : -1;
            fputc('\t', fp);
            put_count(fp, c);
            fputc('\t', fp);
            put_num(fp, c >= 0 ? cg_stat_pct(c, p->parent_count) : NAN);
            for (int k = 0; k < cfg->npct_of; k++)
                if (descends_from(cfg, g, cfg->pct_of[k])) {
                    int64_t d = p ? r->pops[cfg->pct_of[k]].count : -1;
                    fputc('\t', fp);
                    put_num(fp, c >= 0 && d >= 0 ? cg_stat_pct(c, d) : NAN);
                }
        }
        for (int m = 0; m < cfg->nmetrics; m++)
            if (strcmp(cfg->metrics[m].name, "th17_treg_ratio")) {
                fputc('\t', fp);
                put_num(fp, r->ok ? r->metric[m] : NAN);
            }
        fputc('\t', fp);
        put_text(fp, s->group);
        for (int k = 0; k < sh->nextra; k++) {
            fputc('\t', fp);
            put_text(fp, s->extra[k]);
        }
        fputc('\t', fp);
        put_message(fp, r);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

/* -------------------------------------------------------------- stats -- */

static void stats_row(FILE *fp, const char *id, const char *pop,
                      const char *stat, const char *marker, double v,
                      int is_count)
{
    put_text(fp, id);
    fputc('\t', fp);
    fprintf(fp, "%s\t%s\t%s\t", pop, stat, marker);
    if (is_count)
        put_count(fp, isfinite(v) ? (int64_t)v : -1);
    else
        put_num(fp, v);
    fputc('\n', fp);
}

static int write_stats(FILE *fp, const cg_run_ctx *ctx, const cg_result *res)
{
    const cg_config *cfg = ctx->cfg;
    fputs("sample_id\tpopulation\tstatistic\tmarker\tvalue\n", fp);
    for (int i = 0; i < ctx->sheet->n; i++) {
        const cg_result *r = &res[i];
        if (!r->ok)
            continue;
        const char *id = ctx->sheet->s[i].sample_id;
        for (int g = 0; g < cfg->ngates; g++) {
            const cg_pop_result *p = &r->pops[g];
            const char *nm = cfg->gates[g].name;
            int64_t c = p->count;
            stats_row(fp, id, nm, "count", "-", c >= 0 ? (double)c : NAN, 1);
            stats_row(fp, id, nm, "pct_parent", "-",
                      c >= 0 ? cg_stat_pct(c, p->parent_count) : NAN, 0);
            stats_row(fp, id, nm, "pct_total", "-",
                      c >= 0 ? cg_stat_pct(c, r->events_used) : NAN, 0);
            for (int k = 0; k < cfg->npct_of; k++) {
                if (!descends_from(cfg, g, cfg->pct_of[k]))
                    continue; /* "% of P" means nothing outside P */
                char st[96];
                snprintf(st, sizeof st, "pct_of_%s",
                         cfg->gates[cfg->pct_of[k]].name);
                int64_t d = r->pops[cfg->pct_of[k]].count;
                stats_row(fp, id, nm, st, "-",
                          c >= 0 && d >= 0 ? cg_stat_pct(c, d) : NAN, 0);
            }
            for (int m = 0; m < cfg->nstat_markers; m++)
                for (int s = 0; s < cfg->nstats; s++)
                    stats_row(fp, id, nm, cfg->stats[s].name,
                              cfg->markers[cfg->stat_markers[m]].name,
                              p->mstats ? p->mstats[m * cfg->nstats + s] : NAN,
                              0);
        }
    }
    return ferror(fp) ? -1 : 0;
}

/* ------------------------------------------------------------ qc.tsv -- */

static int write_qc(FILE *fp, const cg_run_ctx *ctx, const cg_result *res)
{
    if (cg_qc_write_header(fp) < 0)
        return -1;
    for (int i = 0; i < ctx->sheet->n; i++) {
        const cg_result *r = &res[i];
        const char *id = ctx->sheet->s[i].sample_id;
        if (!r->ok) {
            put_text(fp, id);
            fputs("\tprocessing\tNA\tNA\tfail\t", fp);
            put_text(fp, r->message ? r->message : "unknown error");
            fputc('\n', fp);
            continue;
        }
        if (r->qc && cg_qc_write_rows(fp, id, r->qc) < 0)
            return -1;
    }
    return ferror(fp) ? -1 : 0;
}

/* ------------------------------------------------------- longitudinal -- */

typedef struct lrow {
    int i;
    const cg_sample *s;
} lrow;

static int lrow_cmp(const void *a, const void *b)
{
    const lrow *x = a, *y = b;
    int c = cg_natural_cmp(x->s->subject, y->s->subject);
    if (!c)
        c = cg_natural_cmp(x->s->visit, y->s->visit);
    if (!c)
        c = (x->i > y->i) - (x->i < y->i);
    return c;
}

int cg_write_longitudinal(FILE *fp, const cg_run_ctx *ctx,
                          const cg_result *res)
{
    const cg_sheet *sh = ctx->sheet;
    lrow *rows = calloc((size_t)sh->n + 1, sizeof *rows);
    if (!rows)
        return -1;
    int n = 0;
    for (int i = 0; i < sh->n; i++)
        if (*sh->s[i].subject && *sh->s[i].visit &&
            sh->s[i].role != CG_ROLE_CONTROL) /* patients only */
            rows[n++] = (lrow){i, &sh->s[i]};
    qsort(rows, (size_t)n, sizeof *rows, lrow_cmp);
    fputs("subject\tvisit\tsample_id\tstatus\ttreg_pct_cd4\tth17_pct_cd4\t"
          "th17_treg_ratio\tbaseline_visit\tdelta_treg_pct_cd4\t"
          "delta_th17_pct_cd4\tdelta_th17_treg_ratio\n", fp);
    cg_headline base = {0};
    const char *base_visit = "";
    for (int k = 0; k < n; k++) {
        const cg_sample *s = rows[k].s;
        cg_headline h;
        cg_result_headline(ctx->cfg, &res[rows[k].i], &h);
        if (k == 0 || strcmp(s->subject, rows[k - 1].s->subject)) {
            base = h;
            base_visit = s->visit;
        }
        put_text(fp, s->subject);
        fputc('\t', fp);
        put_text(fp, s->visit);
        fputc('\t', fp);
        put_text(fp, s->sample_id);
        fprintf(fp, "\t%s\t", res[rows[k].i].ok ? "ok" : "error");
        put_num(fp, h.treg_pct);
        fputc('\t', fp);
        put_num(fp, h.th17_pct);
        fputc('\t', fp);
        put_num(fp, h.ratio);
        fputc('\t', fp);
        put_text(fp, base_visit);
        fputc('\t', fp);
        put_num(fp, h.treg_pct - base.treg_pct);
        fputc('\t', fp);
        put_num(fp, h.th17_pct - base.th17_pct);
        fputc('\t', fp);
        put_num(fp, h.ratio - base.ratio);
        fputc('\n', fp);
    }
    free(rows);
    return ferror(fp) ? -1 : 0;
}

/* --------------------------------------------------------------- JSON -- */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v == 0 ? 0 : v) : json_null();
}
static json_t *jcount(int64_t c)
{
    return c >= 0 ? json_integer((json_int_t)c) : json_null();
}

/* json_string rejects invalid UTF-8 (FCS keywords need not be UTF-8):
 * replace bytes >= 0x80 by '?' in that case. */
static json_t *jtext(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *c = strdup(s);
    if (!c)
        return json_null();
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}

static json_t *tf_json(const cg_tf_spec *t, const cg_tf_used *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(cg_tf_type_name(t->type)));
    if (t->type == CG_TF_LOGICLE) {
        json_object_set_new(o, "T", jnum(u && isfinite(u->T) ? u->T : t->T));
        json_object_set_new(o, "T_auto", json_boolean(t->T < 0));
        json_object_set_new(o, "W", jnum(u && isfinite(u->W) ? u->W : t->W));
        json_object_set_new(o, "W_auto", json_boolean(t->W < 0));
        json_object_set_new(o, "M", jnum(u && isfinite(u->M) ? u->M : t->M));
        json_object_set_new(o, "M_auto", json_boolean(t->M < 0));
        json_object_set_new(o, "A", jnum(t->A));
    } else if (t->type == CG_TF_ARCSINH) {
        json_object_set_new(o, "cofactor", jnum(t->cofactor));
    }
    return o;
}

/* "headline": CD4, Treg and Th17 counts, percentages and the ratio. */
static json_t *headline_json(const cg_config *cfg, const cg_result *r)
{
    cg_headline h;
    cg_result_headline(cfg, r, &h);
    json_t *hd = json_object();
    json_object_set_new(hd, "cd4_count", jcount(h.cd4));
    json_object_set_new(hd, "treg_count", jcount(h.treg));
    json_object_set_new(hd, "treg_pct_cd4", jnum(h.treg_pct));
    json_object_set_new(hd, "th17_count", jcount(h.th17));
    json_object_set_new(hd, "th17_pct_cd4", jnum(h.th17_pct));
    json_object_set_new(hd, "th17_treg_ratio", jnum(h.ratio));
    json_object_set_new(hd, "treg_population", h.treg >= 0 ?
                        json_string(cfg->gates[r->head_treg].name) : json_null());
    json_object_set_new(hd, "treg_definition", h.treg >= 0 ?
                        jtext(cg_gate_definition(cfg, r->head_treg)) : json_null());
    json_object_set_new(hd, "th17_population", h.th17 >= 0 ?
                        json_string(cfg->gates[r->head_th17].name) : json_null());
    json_object_set_new(hd, "th17_definition", h.th17 >= 0 ?
                        jtext(cg_gate_definition(cfg, r->head_th17)) : json_null());
    return hd;
}

/* "markers", "scatter", "compensation": how the config's names were
 * matched to the file's channels, and the matrix applied. */
static void mapping_json(json_t *o, const cg_config *cfg, const cg_result *r)
{
    json_t *chm = json_object();
    for (int m = 0; r->marker_pnn && m < cfg->nmarkers; m++) {
        if (!r->marker_pnn[m]) {
            json_object_set_new(chm, cfg->markers[m].name, json_null());
            continue;
        }
        json_t *e = json_object();
        json_object_set_new(e, "pnn", jtext(r->marker_pnn[m]));
        json_object_set_new(e, "pns", jtext(r->marker_pns[m]));
        json_object_set_new(e, "matched_by", jtext(r->marker_how[m]));
        json_object_set_new(e, "transform",
                            tf_json(cg_config_tf(cfg, m),
                                    r->marker_tf ? &r->marker_tf[m] : NULL));
        json_object_set_new(chm, cfg->markers[m].name, e);
    }
    json_object_set_new(o, "markers", chm);
    json_t *scm = json_object();
    for (int k = 0; r->role_pnn && k < cfg->nscatter; k++)
        json_object_set_new(scm, cfg->scatter[k].role, jtext(r->role_pnn[k]));
    json_object_set_new(o, "scatter", scm);
    json_t *cmp = json_object();
    json_object_set_new(cmp, "source", r->comp_source[0] ? jtext(r->comp_source)
                                                          : json_null());
    json_object_set_new(cmp, "channels", json_integer(r->comp_n));
    json_object_set_new(cmp, "condition_number", jnum(r->comp_cond));
    json_object_set_new(o, "compensation", cmp);
}

/* One dimension's cut: interval bounds, or the automatic threshold with
 * its rule, fallback, override and density figures. */
static json_t *threshold_json(const cg_dim_spec *ds, const cg_thr_info *ti)
{
    json_t *t = json_object();
    json_object_set_new(t, "marker", json_string(ds->marker));
    json_object_set_new(t, "method", json_string(cg_tm_method_name(ds->method)));
    if (ds->method == CG_TM_INTERVAL) {
        json_object_set_new(t, "min", jnum(ds->min));
        json_object_set_new(t, "max", jnum(ds->max));
        return t;
    }
    json_object_set_new(t, "keep", json_string(
        ds->keep == CG_KEEP_ABOVE ? "above" : "below"));
    json_object_set_new(t, "threshold", jnum(ti->threshold));
    json_object_set_new(t, "threshold_raw", jnum(ti->threshold_raw));
    json_object_set_new(t, "rule", ti->rule[0] ? jtext(ti->rule)
                                               : json_null());
    json_object_set_new(t, "fell_back", json_boolean(ti->fell_back));
    json_object_set_new(t, "reason", ti->reason[0] ? jtext(ti->reason)
                                                   : json_null());
    json_object_set_new(t, "overridden", json_boolean(ti->overridden));
    if (ti->overridden)
        json_object_set_new(t, "auto_threshold", jnum(ti->auto_threshold));
    if (ds->method == CG_TM_VALLEY || ds->method == CG_TM_TAIL) {
        json_object_set_new(t, "peaks", json_integer(ti->npeaks));
        json_object_set_new(t, "valley_depth", jnum(ti->depth));
        json_object_set_new(t, "bandwidth", jnum(ti->bandwidth));
        json_object_set_new(t, "mode", jnum(ti->mode));
        json_object_set_new(t, "spread", jnum(ti->spread));
        json_object_set_new(t, "k", jnum(ds->k));
        json_object_set_new(t, "grid", json_pack("[oo]",
                            jnum(ti->grid_lo), jnum(ti->grid_hi)));
    }
    return t;
}

/* "auto_gate" of a scatter or singlets gate: rule, mode or ratio band,
 * and the polygon drawn. */
static json_t *auto2d_json(const cg_gate_spec *gs, const cg_pop_result *p)
{
    json_t *a = json_object();
    json_object_set_new(a, "rule", p->rule[0] ? jtext(p->rule) : json_null());
    json_object_set_new(a, "fell_back", json_boolean(p->fell_back));
    json_object_set_new(a, "reason", p->reason[0] ? jtext(p->reason)
                                                  : json_null());
    if (gs->type == CG_GS_SCATTER) {
        json_object_set_new(a, "mode", json_pack("[oo]", jnum(p->mode_x),
                                                 jnum(p->mode_y)));
        json_object_set_new(a, "level", jnum(gs->level));
        json_object_set_new(a, "debris_cut", jnum(p->debris_cut));
    } else {
        json_object_set_new(a, "ratio_mode", jnum(p->k));
        json_object_set_new(a, "ratio_band", json_pack("[oo]",
                            jnum(p->ratio_lo), jnum(p->ratio_hi)));
    }
    json_t *poly = json_array();
    for (int k = 0; k < p->nvert; k++)
        json_array_append_new(poly, json_pack("[oo]", jnum(p->vx[k]),
                                              jnum(p->vy[k])));
    json_object_set_new(a, "polygon", poly);
    return a;
}

/* One population: counts, percentages, and how its gate was placed. */
static json_t *pop_json(const cg_config *cfg, const cg_result *r, int g)
{
    const cg_gate_spec *gs = &cfg->gates[g];
    const cg_pop_result *p = &r->pops[g];
    json_t *e = json_object();
    json_object_set_new(e, "name", json_string(gs->name));
    json_object_set_new(e, "parent", gs->parent >= 0
                                         ? json_string(cfg->gates[gs->parent].name)
                                         : json_null());
    json_object_set_new(e, "type", json_string(cg_gs_type_name(gs->type)));
    json_object_set_new(e, "count", jcount(p->count));
    json_object_set_new(e, "parent_count", p->count >= 0 ? jcount(p->parent_count)
                                                         : json_null());
    json_object_set_new(e, "pct_parent", jnum(p->count >= 0 ?
                        cg_stat_pct(p->count, p->parent_count) : NAN));
    json_object_set_new(e, "pct_total", jnum(p->count >= 0 ?
                        cg_stat_pct(p->count, r->events_used) : NAN));
    json_t *po = json_object();
    for (int k = 0; k < cfg->npct_of; k++) {
        if (!descends_from(cfg, g, cfg->pct_of[k]))
            continue;
        int64_t d = r->pops[cfg->pct_of[k]].count;
        json_object_set_new(po, cfg->gates[cfg->pct_of[k]].name,
                            jnum(p->count >= 0 && d >= 0 ?
                                 cg_stat_pct(p->count, d) : NAN));
    }
    json_object_set_new(e, "pct_of", po);
    json_object_set_new(e, "na_reason", p->count < 0 ? jtext(p->na_reason)
                                                     : json_null());
    if (p->nthr) {
        json_t *th = json_array();
        for (int d = 0; d < p->nthr; d++)
            json_array_append_new(th, threshold_json(&gs->dims[d], &p->thr[d]));
        json_object_set_new(e, "thresholds", th);
    }
    if (p->auto2d)
        json_object_set_new(e, "auto_gate", auto2d_json(gs, p));
    if (p->mstats) {
        json_t *st = json_object();
        for (int m = 0; m < cfg->nstat_markers; m++) {
            json_t *ms = json_object();
            for (int s2 = 0; s2 < cfg->nstats; s2++)
                json_object_set_new(ms, cfg->stats[s2].name,
                                    jnum(p->mstats[m * cfg->nstats + s2]));
            json_object_set_new(st, cfg->markers[cfg->stat_markers[m]].name, ms);
        }
        json_object_set_new(e, "marker_stats", st);
    }
    return e;
}

/* "metrics", "qc_checks" and "warnings". */
static void tail_json(json_t *o, const cg_config *cfg, const cg_result *r)
{
    json_t *met = json_object();
    for (int m = 0; r->ok && m < cfg->nmetrics; m++) {
        json_t *e = json_object();
        const cg_metric_spec *ms = &cfg->metrics[m];
        json_object_set_new(e, "value", jnum(r->metric[m]));
        json_object_set_new(e, "numerator", json_string(cfg->gates[ms->num].name));
        json_object_set_new(e, "denominator", json_string(cfg->gates[ms->den].name));
        json_object_set_new(e, "type", json_string(ms->type == CG_METRIC_PERCENT
                                                       ? "percent" : "ratio"));
        json_object_set_new(e, "na_reason", jtext(r->metric_reason[m]));
        json_object_set_new(met, ms->name, e);
    }
    json_object_set_new(o, "metrics", met);
    json_t *qc = json_array();
    for (int k = 0; r->qc && k < r->qc->n; k++) {
        const cg_qc_check *c = &r->qc->checks[k];
        json_array_append_new(qc, json_pack("{s:o,s:o,s:o,s:s,s:o}", "check",
                                            jtext(c->name), "value", jnum(c->value),
                                            "threshold", jnum(c->threshold),
                                            "verdict", cg_qc_verdict_name(c->verdict),
                                            "detail", jtext(c->detail)));
    }
    json_object_set_new(o, "qc_checks", qc);
    json_t *wa = json_array();
    for (int k = 0; k < r->nwarnings; k++)
        json_array_append_new(wa, jtext(r->warnings[k]));
    json_object_set_new(o, "warnings", wa);
}

static json_t *sample_json(const cg_run_ctx *ctx, int i, const cg_result *r)
{
    const cg_config *cfg = ctx->cfg;
    const cg_sample *s = &ctx->sheet->s[i];
    json_t *o = json_object();
    json_object_set_new(o, "sample_id", jtext(s->sample_id));
    json_object_set_new(o, "file", jtext(s->file_given));
    json_object_set_new(o, "subject", jtext(s->subject));
    if (s->role == CG_ROLE_CONTROL) /* batch control (sheet column role) */
        json_object_set_new(o, "role", json_string("control"));
    json_object_set_new(o, "visit", jtext(s->visit));
    json_object_set_new(o, "group", jtext(s->group));
    json_t *ex = json_object();
    for (int k = 0; k < ctx->sheet->nextra; k++)
        json_object_set_new(ex, ctx->sheet->extra_names[k], jtext(s->extra[k]));
    json_object_set_new(o, "sheet_columns", ex);
    json_object_set_new(o, "status", json_string(r->ok ? "ok" : "error"));
    json_object_set_new(o, "error", r->ok ? json_null()
                                          : jtext(r->message ? r->message
                                                             : "unknown error"));
    json_object_set_new(o, "qc", json_string(qc_word(r)));
    json_object_set_new(o, "sha256", r->sha256[0] ? json_string(r->sha256)
                                                  : json_null());
    json_object_set_new(o, "file_size", r->sha256[0] ? json_integer(r->file_size)
                                                     : json_null());
    json_object_set_new(o, "fcs_version", r->fcs_version[0]
                                              ? jtext(r->fcs_version) : json_null());
    json_object_set_new(o, "events", r->fcs_version[0] ? jcount(r->events)
                                                        : json_null());
    json_object_set_new(o, "events_gated", r->ok ? jcount(r->events_used)
                                                 : json_null());
    json_object_set_new(o, "headline", headline_json(cfg, r));
    mapping_json(o, cfg, r);
    json_t *pops = json_array();
    for (int g = 0; r->ok && g < cfg->ngates; g++)
        json_array_append_new(pops, pop_json(cfg, r, g));
    json_object_set_new(o, "populations", pops);
    tail_json(o, cfg, r);
    return o;
}

#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

int cg_write_json_file(const char *path, json_t *j)
{
    char *txt = json_dumps(j, JSON_FLAGS);
    if (!txt)
        return -1;
    size_t n = strlen(txt);
    char *buf = malloc(n + 2);
    if (!buf) {
        free(txt);
        return -1;
    }
    memcpy(buf, txt, n);
    buf[n] = '\n';
    int rc = cg_write_file_atomic(path, buf, n + 1);
    free(buf);
    free(txt);
    return rc;
}

int cg_write_summary_json(FILE *fp, const cg_run_ctx *ctx, const cg_result *res)
{
    json_t *a = json_array();
    for (int i = 0; i < ctx->sheet->n; i++)
        json_array_append_new(a, sample_json(ctx, i, &res[i]));
    int rc = json_dumpf(a, fp, JSON_FLAGS);
    fputc('\n', fp);
    json_decref(a);
    return rc < 0 || ferror(fp) ? -1 : 0;
}

/* ------------------------------------------------------------ run.json -- */

json_t *cg_run_json(const cg_run_ctx *ctx, const cg_result *res,
                    const char *start, int argc, char **argv)
{
    const cg_config *cfg = ctx->cfg;
    json_t *o = json_object();
    json_object_set_new(o, "program", json_string("cytogate"));
    json_object_set_new(o, "version", json_string(CYTOGATE_VERSION));
    json_t *cmd = json_array();
    for (int k = 0; k < argc; k++)
        json_array_append_new(cmd, jtext(argv[k]));
    json_object_set_new(o, "command", cmd);
    json_object_set_new(o, "start_time", jtext(start));
    json_object_set_new(o, "threads", json_integer(ctx->opts.threads));
    json_object_set_new(o, "plots", json_boolean(ctx->opts.plots));
    json_t *c = json_object();
    json_object_set_new(c, "path", jtext(cfg->path));
    json_object_set_new(c, "name", jtext(cfg->name));
    json_object_set_new(c, "sha256", json_string(ctx->config_sha256));
    json_object_set_new(c, "text", jtext(cfg->text));
    if (cfg->comp_mode == CG_CMP_CSV) {
        char h[65];
        int64_t sz = 0;
        json_object_set_new(c, "compensation_csv", jtext(cfg->comp_path));
        json_object_set_new(c, "compensation_csv_sha256",
                            cg_sha256_file(cfg->comp_path, h, &sz) == 0
                                ? json_string(h) : json_null());
    }
    json_object_set_new(o, "config", c);
    if (ctx->sheet->path) {
        char h[65];
        int64_t sz = 0;
        json_object_set_new(o, "sample_sheet", json_pack("{s:o,s:o}", "path",
                            jtext(ctx->sheet->path), "sha256",
                            cg_sha256_file(ctx->sheet->path, h, &sz) == 0
                                ? json_string(h) : json_null()));
    } else {
        json_object_set_new(o, "sample_sheet", json_null());
    }
    json_t *in = json_array();
    int failed = 0;
    for (int i = 0; i < ctx->sheet->n; i++) {
        const cg_result *r = &res[i];
        const cg_sample *s = &ctx->sheet->s[i];
        failed += !r->ok;
        json_array_append_new(in, json_pack("{s:o,s:o,s:o,s:o,s:s}",
            "sample_id", jtext(s->sample_id), "file", jtext(s->file_given),
            "sha256", r->sha256[0] ? json_string(r->sha256) : json_null(),
            "size", r->sha256[0] ? json_integer(r->file_size) : json_null(),
            "status", r->ok ? "ok" : "error"));
    }
    json_object_set_new(o, "inputs", in);
    json_object_set_new(o, "samples", json_integer(ctx->sheet->n));
    json_object_set_new(o, "failed", json_integer(failed));
    return o;
}

/* ------------------------------------------------------------ driver -- */

/* A cell starting with one of these is a formula to a spreadsheet. */
static int plain_number(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        d++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            d++;
    if (!d)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (!e)
            return 0;
    }
    return i == n;
}

int cg_tsv_safe_copy(FILE *out, const char *buf, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && buf[i] != '\t' && buf[i] != '\n')
            continue;
        const char *c = buf + start;
        size_t len = i - start;
        /* a lone "-" or "+" (stats.tsv's marker placeholder) is text */
        if (len && (*c == '=' || *c == '+' || *c == '-' || *c == '@') &&
            !plain_number(c, len) && !(len == 1 && *c != '=' && *c != '@'))
            fputc('\'', out);
        if (len)
            fwrite(c, 1, len, out);
        if (i < n)
            fputc(buf[i], out);
        start = i + 1;
    }
    return ferror(out) ? -1 : 0;
}

int cg_write_tsv(FILE *fp, cg_table_fn fn, const cg_run_ctx *ctx,
                 const cg_result *res, int safe_tsv)
{
    if (!safe_tsv)
        return fn(fp, ctx, res);
    char *buf = NULL;
    size_t n = 0;
    FILE *ms = open_memstream(&buf, &n);
    if (!ms)
        return -1;
    int rc = fn(ms, ctx, res);
    if (fclose(ms) != 0)
        rc = -1;
    if (rc == 0)
        rc = cg_tsv_safe_copy(fp, buf, n);
    free(buf);
    return rc;
}

int cg_write_table(const char *dir, const char *name, cg_table_fn fn,
                   const cg_run_ctx *ctx, const cg_result *res, int safe_tsv,
                   cg_err *err)
{
    char *path = cg_path_join(dir, name);
    if (!path)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    cg_atomic a;
    FILE *fp = cg_atomic_open(&a, path);
    if (!fp) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    errno = 0;
    if (cg_write_tsv(fp, fn, ctx, res, safe_tsv) < 0) {
        int e = errno ? errno : EIO;
        cg_atomic_abort(&a);
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path, strerror(e));
        free(path);
        return -1;
    }
    if (cg_atomic_commit(&a) < 0) {
        cg_err_set(err, CG_E_IO, "%s: cannot write: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

static int plot_verdict(const cg_result *r)
{
    if (!r->ok)
        return CG_PLOT_QC_ERROR;
    switch (r->qc_verdict) {
    case CG_QC_FAIL: return CG_PLOT_QC_FAIL;
    case CG_QC_WARN: return CG_PLOT_QC_WARN;
    case CG_QC_PASS:
    case CG_QC_SKIP: return CG_PLOT_QC_PASS;
    default: return CG_PLOT_QC_NONE;
    }
}

int cg_write_batch_plots(const cg_run_ctx *ctx, const cg_result *res,
                         const char *plotdir, cg_err *err)
{
    const cg_sheet *sh = ctx->sheet;
    cg_plot_sample *ps = calloc((size_t)sh->n + 1, sizeof *ps);
    if (!ps) {
        cg_err_set(err, CG_E_NOMEM, "batch figures: out of memory");
        return 1;
    }
    int nlong = 0, bad = 0;
    for (int i = 0; i < sh->n; i++) {
        cg_headline h;
        cg_result_headline(ctx->cfg, &res[i], &h);
        ps[i].sample_id = sh->s[i].sample_id;
        /* a batch control is no patient: not on the longitudinal figure */
        int ctl = sh->s[i].role == CG_ROLE_CONTROL;
        ps[i].subject = ctl ? "" : sh->s[i].subject;
        ps[i].visit = ctl ? "" : sh->s[i].visit;
        ps[i].treg_pct = h.treg_pct;
        ps[i].th17_pct = h.th17_pct;
        ps[i].ratio = h.ratio;
        ps[i].qc = plot_verdict(&res[i]);
        nlong += *ps[i].subject && *ps[i].visit;
    }
    cg_plot_meta meta = {.config_hash = ctx->config_sha256};
    cg_err e = {0};
    cg_plot_image *im = cg_plot_render_batch(ps, sh->n, &meta, &e);
    char *p = cg_path_join(plotdir, "batch_frequencies.png");
    if (!im || !p || cg_plot_image_write_png(im, p, &e) < 0) {
        cg_err_set(err, CG_E_IO, "%s", e.msg[0] ? e.msg
                   : "batch_frequencies.png: cannot render");
        bad++;
    }
    cg_plot_image_free(im);
    free(p);
    if (nlong > 0) {
        memset(&e, 0, sizeof e);
        im = cg_plot_render_longitudinal(ps, sh->n, &meta, &e);
        p = cg_path_join(plotdir, "longitudinal.png");
        if (!im || !p || cg_plot_image_write_png(im, p, &e) < 0) {
            cg_err_set(err, CG_E_IO, "%s", e.msg[0] ? e.msg
                       : "longitudinal.png: cannot render");
            bad++;
        }
        cg_plot_image_free(im);
        free(p);
    }
    free(ps);
    return bad;
}

void cg_out_unstage(const char *msg, const char *from, const char *to,
                    char *out, size_t cap)
{
    size_t k = 0, fl = from ? strlen(from) : 0;
    while (*msg && k + 1 < cap) {
        if (fl && !strncmp(msg, from, fl)) {
            const char *t = to;
            msg += fl;
            if (!*t && *msg == '/')
                msg++; /* relative: no leading slash */
            for (; *t && k + 1 < cap; t++)
                out[k++] = *t;
            continue;
        }
        out[k++] = *msg++;
    }
    out[k] = '\0';
}

void cg_result_fail_output(cg_result *r, const char *why)
{
    size_t n = strlen(why) + 32;
    char *m = malloc(n);
    if (m)
        snprintf(m, n, "output not written: %s", why);
    free(r->message);
    r->message = m;
    r->ok = 0;
}

/* One output that could not be written: on stderr, named in the -o
 * folder (never the staging folder). */
static void report_file(const cg_out_opts *oo, const char *msg)
{
    char b[512];
    cg_out_unstage(msg, oo->dir, oo->shown, b, sizeof b);
    cg_error_file(NULL, "%s", b);
}

int cg_write_run_files(const cg_run_ctx *ctx, cg_result *res,
                       const cg_out_opts *oo, const char *start_time,
                       int argc, char **argv)
{
    const char *dir = oo->dir;
    cg_err err = {0};
    int bad = 0;
    char *sdir = cg_path_join(dir, "samples");
    if (!sdir || cg_mkdir_p(sdir) < 0) {
        cg_err_set(&err, CG_E_IO, "%s/samples: cannot create: %s", dir,
                   strerror(errno));
        report_file(oo, err.msg);
        free(sdir);
        return 1;
    }
    /* samples/<id>.json first: a sample whose record cannot be written
     * becomes an error row, and its record is written again as such */
    for (int i = 0; i < ctx->sheet->n; i++) {
        char name[600];
        snprintf(name, sizeof name, "%s.json", ctx->sheet->s[i].sample_id);
        char *p = cg_path_join(sdir, name);
        for (int attempt = 0; attempt < 2; attempt++) {
            json_t *j = sample_json(ctx, i, &res[i]);
            errno = 0;
            int rc = p && j ? cg_write_json_file(p, j) : -1;
            int e = errno ? errno : ENOMEM;
            json_decref(j);
            if (rc == 0)
                break;
            char why[700];
            snprintf(why, sizeof why, "samples/%s: %s", name, strerror(e));
            if (attempt == 0 && res[i].ok) {
                cg_result_fail_output(&res[i], why);
                cg_error_file(ctx->sheet->s[i].file_given, "%s",
                              res[i].message ? res[i].message : why);
                continue;
            }
            cg_err_set(&err, CG_E_IO, "%s/samples/%s: cannot write: %s",
                       oo->shown, name, strerror(e));
            cg_error_file(NULL, "%s", err.msg);
            bad++;
            break;
        }
        free(p);
        /* --export-gatingml: gatingml/<id>.xml beside the JSON */
        if (ctx->opts.export_gml &&
            cg_export_gml_sample(ctx, i, &res[i], dir, &err) < 0) {
            report_file(oo, err.msg);
            bad++;
        }
    }
    free(sdir);
    static const struct {
        const char *name;
        cg_table_fn fn;
    } tables[] = {{"summary.tsv", cg_write_summary}, {"stats.tsv", write_stats},
                  {"qc.tsv", write_qc}, {"longitudinal.tsv",
                                         cg_write_longitudinal}};
    for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
        if (tables[k].fn == cg_write_longitudinal &&
            !(ctx->sheet->has_subject && ctx->sheet->has_visit))
            continue;
        if (cg_write_table(dir, tables[k].name, tables[k].fn, ctx, res,
                           oo->safe_tsv, &err) < 0) {
            report_file(oo, err.msg);
            bad++;
        }
    }
    if (ctx->opts.plots) {
        char *pdir = cg_path_join(dir, "plots");
        if (!pdir || cg_mkdir_p(pdir) < 0) {
            cg_err_set(&err, CG_E_IO, "%s/plots: cannot create: %s", dir,
                       strerror(errno));
            report_file(oo, err.msg);
            bad++;
        } else {
            int nb = cg_write_batch_plots(ctx, res, pdir, &err);
            if (nb) {
                report_file(oo, err.msg);
                bad += nb;
            }
        }
        free(pdir);
    }
    if (bad)
        return bad; /* no run.json: the set is not complete */
    /* run.json last: its presence means the run's outputs are complete */
    char *rp = cg_path_join(dir, "run.json");
    json_t *rj = cg_run_json(ctx, res, start_time, argc, argv);
    errno = 0;
    int rc = rp && rj ? cg_write_json_file(rp, rj) : -1;
    int e = errno ? errno : ENOMEM;
    json_decref(rj);
    if (rc < 0) {
        cg_err_set(&err, CG_E_IO, "%s: cannot write: %s", rp ? rp : "run.json",
                   strerror(e));
        report_file(oo, err.msg);
        bad++;
    }
    free(rp);
    return bad;
}

int cg_write_outputs(const cg_run_ctx *ctx, const cg_result *res,
                     const char *start_time, int argc, char **argv,
                     cg_err *err)
{
    /* in place, without the lock and staging of cmd_run (outdir.h); a
     * shallow copy of the results takes the error rows */
    int n = ctx->sheet->n;
    cg_result *cp = calloc((size_t)n + 1, sizeof *cp);
    if (!cp)
        return cg_err_set(err, CG_E_NOMEM, "out of memory");
    memcpy(cp, res, (size_t)n * sizeof *cp);
    const char *dir = ctx->opts.outdir;
    cg_out_opts oo = {.dir = dir, .shown = dir, .safe_tsv = 0};
    int bad = cg_mkdir_p(dir) < 0 ? -1
              : cg_write_run_files(ctx, cp, &oo, start_time, argc, argv);
    for (int i = 0; i < n; i++)
        if (cp[i].message != res[i].message)
            free(cp[i].message);
    free(cp);
    if (bad < 0)
        return cg_err_set(err, CG_E_IO, "%s: cannot create: %s", dir,
                          strerror(errno));
    if (bad > 0)
        return cg_err_set(err, CG_E_IO, "%d output file%s of %s could not "
                          "be written", bad, bad > 1 ? "s" : "", dir);
    return 0;
}
