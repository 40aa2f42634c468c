/*
 * cmd_wsp.c -- `cytogate wsp`: gate the samples of a FlowJo 10 workspace
 * and compare with the counts FlowJo stored (issue 16).
 *
 *   cytogate wsp WORKSPACE.wsp [--fcs DIR] [--group NAME] [--sample ID]
 *                [--json] [--check] [--to-config OUT.yaml]
 *
 * Per sample: find the FCS file, gate it with the workspace's
 * compensation, transforms and gates (pipeline/wsp/), print one row per
 * population with FlowJo's count beside ours.  A sample that cannot be
 * processed (FCS not found, unreadable, a gate we cannot build) is an
 * error line naming the workspace, the sample and its line; its rows
 * still list FlowJo's counts (ours NA), and the other samples go on.
 * Exit: 0; 1 usage or unreadable workspace; 2 a sample could not be
 * processed or the config could not be written; 4 (--check) a population
 * differs from FlowJo by more than max(1 event, 0.1 %).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "opts.h"
#include "util.h"
#include "wsp.h"
#include "wsp_eval.h"

#define CMD "wsp"
#define EXIT_CHECK 4

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate wsp WORKSPACE.wsp [options]\n"
"\n"
"Gate the samples of a FlowJo 10 workspace with its own compensation,\n"
"transforms and gates, and compare every population with the count FlowJo\n"
"stored in the workspace.\n"
"\n"
"Input:\n"
"  WORKSPACE.wsp             FlowJo 10.x workspace (version 20.0 and older)\n"
"      --fcs DIR             look for FCS files here too: the file name of\n"
"                            the sample's URI, its $FIL, the sample name\n"
"                            [the URI's path, then the workspace's folder]\n"
"      --group NAME          only the samples of this workspace group\n"
"      --sample ID           only this sample (sampleID or sample name)\n"
"\n"
"Output:\n"
"      --json                JSON instead of TSV\n"
"      --check               exit 4 when a population differs from FlowJo's\n"
"                            stored count by more than max(1 event, 0.1 %%)\n"
"      --to-config OUT.yaml  write a cytogate config with the gates of the\n"
"                            selected sample [the first one with gates], for\n"
"                            `cytogate run -c OUT.yaml` on new samples; a\n"
"                            workspace matrix goes to OUT.comp.csv\n"
"  -q, --quiet               no warnings or summary line on stderr (errors\n"
"                            still)\n"
"\n"
"Columns (tab-separated, one row per population, parents first):\n"
"  sample  gate_path  count  pct_parent  flowjo_count  diff  status\n"
"gate_path is the population names from the top gate down joined by '/';\n"
"pct_parent has 4 decimals; diff = count - flowjo_count; status is match,\n"
"DIFF, not_stored (FlowJo stored no count, or 0: FlowJo writes 0 for\n"
"populations it never computed; never a failure), no_fcs or error\n"
"(count NA); a sample that cannot be read at all has one row with an\n"
"empty gate_path.\n"
"\n"
"Exit status: 0 ok, 1 usage or unreadable workspace, 2 a sample could not\n"
"be processed (FCS not found, ...) or the config not written, 4 with\n"
"--check: a population differs from FlowJo.\n");
}

static const char *status_name(int v, int sample_status)
{
    if (v == CG_WSP_NA)
        return sample_status == 1 ? "no_fcs" : "error";
    static const char *const n[] = {"match", "DIFF", "not_stored"};
    return n[v];
}

static int selected(const cg_wsp_sample *s, const char *group,
                    const char *sample)
{
    if (sample && strcmp(s->id, sample) != 0 && strcmp(s->name, sample) != 0)
        return 0;
    if (group) {
        for (int g = 0; g < s->ngroups; g++)
            if (strcmp(s->groups[g], group) == 0)
                return 1;
        return 0;
    }
    return 1;
}

static json_t *num_or_null(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

typedef struct wctx {
    const char *wpath, *fcs_dir, *group, *sample, *to_config;
    int as_json, check;
    int nmatch, ndiff, nnot, nbad;
    json_t *jsamples;
} wctx;

/* 0 ok, else the exit status of a usage error (or of -h/-V: 0 with *done). */
static int parse_args(wctx *c, int argc, char **argv, int *done)
{
    *done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        const char **slot = NULL;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            *done = 1;
            return r;
        } else if (cg_opt_is(a, NULL, "--fcs")) {
            slot = &c->fcs_dir;
        } else if (cg_opt_is(a, NULL, "--group")) {
            slot = &c->group;
        } else if (cg_opt_is(a, NULL, "--sample")) {
            slot = &c->sample;
        } else if (cg_opt_is(a, NULL, "--to-config")) {
            slot = &c->to_config;
        } else if (strcmp(a, "--json") == 0) {
            c->as_json = 1;
        } else if (strcmp(a, "--check") == 0) {
            c->check = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cg_verbosity = 0;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown(CMD, a, usage);
            return cg_usage_short(CMD, usage);
        } else if (c->wpath) {
            cg_error_cmd(CMD, "one workspace only (got %s and %s)", c->wpath,
                         a);
            return cg_usage_short(CMD, usage);
        } else {
            c->wpath = a;
        }
        if (slot && !(*slot = cg_opt_value(CMD, argc, argv, &i)))
            return cg_usage_short(CMD, usage);
    }
    if (!c->wpath) {
        cg_error_cmd(CMD, "a workspace (.wsp) is required");
        return cg_usage_short(CMD, usage);
    }
    return 0;
}

/* Find, read and gate sample s; 0 ok, 1 no FCS file, 2 error (printed). */
static int gate_sample(wctx *c, const cg_wsp *w, const cg_wsp_sample *s,
                       cg_wsp_counts *res, char *fcs, size_t nfcs, char *smsg,
                       size_t nmsg)
{
    char tried[2048];
    cg_err e;
    cg_err_clear(&e);
    if (s->error) {
        /* the message names the workspace and line */
        snprintf(smsg, nmsg, "%s", s->error);
        fprintf(stderr, "cytogate %s: %s (sample '%s')\n", CMD, s->error,
                s->name);
        return 2;
    }
    if (cg_wsp_find_fcs(w, s, c->fcs_dir, fcs, nfcs, tried,
                        sizeof tried) < 0) {
        snprintf(smsg, nmsg, "FCS file not found (looked for %s)",
                 tried[0] ? tried : "nothing: no URI, $FIL or name");
        fprintf(stderr, "cytogate %s: %s:%d: sample '%s': %s%s\n", CMD,
                c->wpath, s->line, s->name, smsg,
                c->fcs_dir ? "" : "; give the folder with --fcs DIR");
        /* still check that every gate can be built */
        cg_gatetree *t = cg_wsp_sample_tree(s, 0, &e);
        if (!t)
            fprintf(stderr, "cytogate %s: %s:%d: sample '%s': %s\n", CMD,
                    c->wpath, e.line ? e.line : s->line, s->name, e.msg);
        cg_gatetree_free(t);
        return 1;
    }
    if (cg_wsp_eval_sample(s, fcs, res, &e) < 0) {
        snprintf(smsg, nmsg, "%s", e.msg);
        fprintf(stderr, "cytogate %s: %s:%d: sample '%s': %s\n", CMD,
                c->wpath, e.line ? e.line : s->line, s->name, e.msg);
        return 2;
    }
    if (s->stored_total >= 0 && res->total != s->stored_total)
        cg_warn_file(c->wpath, "sample '%s': %s has %lld events, FlowJo "
                     "counted %lld: is it the file the workspace was made "
                     "with?", s->name, fcs, (long long)res->total,
                     (long long)s->stored_total);
    if (res->acq_without_spill)
        cg_warn_file(c->wpath, "sample '%s': \"Acquisition-defined\" "
                     "compensation but %s has no spillover keyword; the "
                     "workspace's copy of the matrix is used", s->name, fcs);
    return 0;
}

static json_t *sample_json(const cg_wsp_sample *s, const cg_wsp_counts *res,
                           int sstat, const char *fcs, const char *smsg)
{
    json_t *js = json_object();
    json_object_set_new(js, "sample", json_string(s->name));
    json_object_set_new(js, "sample_id", json_string(s->id));
    json_object_set_new(js, "line", json_integer(s->line));
    json_object_set_new(js, "fcs", sstat == 1 ? json_null() : json_string(fcs));
    json_object_set_new(js, "status",
                        json_string(sstat == 0   ? "ok"
                                    : sstat == 1 ? "fcs_not_found"
                                                 : "error"));
    if (sstat)
        json_object_set_new(js, "message", json_string(smsg));
    json_object_set_new(js, "events", num_or_null(res->total));
    json_object_set_new(js, "flowjo_events", num_or_null(s->stored_total));
    const char *cs = !s->comp ? "none"
                     : sstat  ? "not applied"
                     : res->comp == CG_WSP_COMP_FILE
                         ? "file spillover (Acquisition-defined)"
                         : "workspace matrix";
    json_object_set_new(js, "compensation", json_string(cs));
    if (s->comp)
        json_object_set_new(js, "matrix", json_string(s->comp->name));
    return js;
}

/* One row (TSV) or object (JSON) per population of s. */
static void pop_rows(wctx *c, const cg_wsp_sample *s,
                     const cg_wsp_counts *res, int sstat, json_t *jpops)
{
    if (s->npops == 0 && sstat && !jpops) /* unreadable: one row still */
        printf("%s\t\tNA\tNA\tNA\tNA\t%s\n", s->name,
               sstat == 1 ? "no_fcs" : "error");
    for (int i = 0; i < s->npops; i++) {
        const cg_wsp_pop *p = &s->pops[i];
        int64_t cnt = !sstat && res->count ? res->count[i] : -1;
        int64_t pc = p->parent >= 0
                         ? (!sstat && res->count ? res->count[p->parent] : -1)
                         : res->total;
        int v = cg_wsp_verdict(cnt, p->stored);
        c->nmatch += v == CG_WSP_MATCH;
        c->ndiff += v == CG_WSP_DIFF;
        c->nnot += v == CG_WSP_NOT_STORED;
        double pct = cnt >= 0 && pc > 0 ? 100.0 * (double)cnt / (double)pc
                                        : NAN;
        int has_diff = cnt >= 0 && p->stored >= 0 && v != CG_WSP_NOT_STORED;
        if (jpops) {
            json_t *jp = json_object();
            json_object_set_new(jp, "gate_path", json_string(p->path));
            json_object_set_new(jp, "type",
                                json_string(cg_wsp_gkind_name(p->kind)));
            json_object_set_new(jp, "count", num_or_null(cnt));
            json_object_set_new(jp, "pct_parent",
                                isnan(pct) ? json_null() : json_real(pct));
            json_object_set_new(jp, "flowjo_count", num_or_null(p->stored));
            json_object_set_new(
                jp, "diff",
                has_diff ? json_integer((json_int_t)(cnt - p->stored))
                         : json_null());
            json_object_set_new(jp, "status",
                                json_string(status_name(v, sstat)));
            json_object_set_new(jp, "line", json_integer(p->line));
            json_array_append_new(jpops, jp);
            continue;
        }
        char cb[32] = "NA", pb[32] = "NA", fb[32] = "NA", db[32] = "NA";
        if (cnt >= 0)
            snprintf(cb, sizeof cb, "%lld", (long long)cnt);
        if (!isnan(pct))
            snprintf(pb, sizeof pb, "%.4f", pct);
        if (p->stored >= 0)
            snprintf(fb, sizeof fb, "%lld", (long long)p->stored);
        if (has_diff)
            snprintf(db, sizeof db, "%lld", (long long)(cnt - p->stored));
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s->name, p->path, cb, pb, fb,
               db, status_name(v, sstat));
        if (v == CG_WSP_DIFF && cg_verbosity >= 1)
            fprintf(stderr, "cytogate %s: %s:%d: sample '%s': '%s' has %lld "
                    "events, FlowJo stored %lld (difference %+lld)\n", CMD,
                    c->wpath, p->line, s->name, p->path, (long long)cnt,
                    (long long)p->stored, (long long)(cnt - p->stored));
    }
}

static void do_sample(wctx *c, const cg_wsp *w, const cg_wsp_sample *s)
{
    char fcs[8192] = "", smsg[2200] = "";
    cg_wsp_counts res;
    memset(&res, 0, sizeof res);
    res.total = -1;
    int sstat = gate_sample(c, w, s, &res, fcs, sizeof fcs, smsg, sizeof smsg);
    c->nbad += sstat != 0; /* its rows follow with our counts NA */
    json_t *jpops = NULL;
    if (c->jsamples) {
        json_t *js = sample_json(s, &res, sstat, fcs, smsg);
        jpops = json_array();
        json_object_set_new(js, "populations", jpops);
        json_array_append_new(c->jsamples, js);
    }
    pop_rows(c, s, &res, sstat, jpops);
    cg_wsp_counts_clear(&res);
}

/* --to-config: 0 written, else CG_EXIT_DATA (message printed). */
static int to_config(wctx *c, const cg_wsp *w)
{
    const cg_wsp_sample *tmpl = NULL;
    for (int i = 0; i < w->nsamples && !tmpl; i++)
        if (selected(&w->samples[i], c->group, c->sample) &&
            w->samples[i].npops > 0)
            tmpl = &w->samples[i];
    cg_err e;
    cg_err_clear(&e);
    if (!tmpl) {
        cg_error_cmd(CMD, "%s: --to-config: no selected sample has gates",
                     c->wpath);
        return CG_EXIT_DATA;
    }
    if (cg_wsp_write_config(w, tmpl, c->to_config, &e) < 0) {
        fprintf(stderr, "cytogate %s: %s: %s\n", CMD, c->to_config, e.msg);
        return CG_EXIT_DATA;
    }
    if (cg_verbosity >= 1)
        fprintf(stderr, "cytogate %s: wrote %s (the gates of sample '%s')\n",
                CMD, c->to_config, tmpl->name);
    return 0;
}

static void print_json(wctx *c, const cg_wsp *w, json_t *jroot)
{
    json_object_set_new(jroot, "workspace", json_string(c->wpath));
    json_object_set_new(jroot, "workspace_version",
                        w->version ? json_string(w->version) : json_null());
    json_object_set_new(jroot, "flowjo_version",
                        w->flowjo_version ? json_string(w->flowjo_version)
                                          : json_null());
    json_object_set_new(jroot, "samples", json_incref(c->jsamples));
    json_t *jsum = json_object();
    json_object_set_new(jsum, "match", json_integer(c->nmatch));
    json_object_set_new(jsum, "differ", json_integer(c->ndiff));
    json_object_set_new(jsum, "not_stored", json_integer(c->nnot));
    json_object_set_new(jsum, "samples_not_gated", json_integer(c->nbad));
    json_object_set_new(jroot, "summary", jsum);
    char *txt = json_dumps(jroot, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (txt) {
        fputs(txt, stdout);
        fputc('\n', stdout);
        free(txt);
    }
}

int cmd_wsp(int argc, char **argv)
{
    wctx c;
    memset(&c, 0, sizeof c);
    int done, r = parse_args(&c, argc, argv, &done);
    if (done || r)
        return r;
    cg_err e;
    cg_err_clear(&e);
    cg_wsp *w = cg_wsp_read(c.wpath, &e);
    if (!w) {
        /* the message names the file and line */
        fprintf(stderr, "cytogate %s: %s\n", CMD, e.msg);
        return CG_EXIT_USAGE;
    }
    int nsel = 0;
    for (int i = 0; i < w->nsamples; i++)
        nsel += selected(&w->samples[i], c.group, c.sample);
    if (!nsel) {
        cg_error_cmd(CMD, "%s: no sample%s%s%s%s%s (%d samples in the "
                     "workspace)", c.wpath, c.group ? " in group '" : "",
                     c.group ? c.group : "", c.group ? "'" : "",
                     c.sample ? " matches --sample " : "",
                     c.sample ? c.sample : "", w->nsamples);
        cg_wsp_free(w);
        return CG_EXIT_USAGE;
    }
    if (c.as_json)
        c.jsamples = json_array();
    else
        printf("sample\tgate_path\tcount\tpct_parent\tflowjo_count\tdiff\t"
               "status\n");
    for (int si = 0; si < w->nsamples; si++)
        if (selected(&w->samples[si], c.group, c.sample))
            do_sample(&c, w, &w->samples[si]);
    if (c.jsamples) {
        json_t *jroot = json_object();
        print_json(&c, w, jroot);
        json_decref(jroot);
        json_decref(c.jsamples);
    }
    if (cg_verbosity >= 1)
        fprintf(stderr, "cytogate %s: %s: %d sample%s: %d populations match "
                "FlowJo, %d differ, %d not stored by FlowJo (not compared); "
                "%d sample%s not gated\n", CMD, c.wpath, nsel,
                nsel == 1 ? "" : "s", c.nmatch, c.ndiff, c.nnot, c.nbad,
                c.nbad == 1 ? "" : "s");
    int ret = c.nbad ? CG_EXIT_DATA : CG_EXIT_OK;
    if (c.check && c.ndiff)
        ret = EXIT_CHECK;
    if (c.to_config && to_config(&c, w) && ret == CG_EXIT_OK)
        ret = CG_EXIT_DATA;
    cg_wsp_free(w);
    return ret;
}
