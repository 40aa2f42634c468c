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
"\n"
"Columns (tab-separated, one row per population, parents first):\n"
"  sample  gate_path  count  pct_parent  flowjo_count  diff  status\n"
"gate_path is the population names from the top gate down joined by '/';\n"
"pct_parent has 4 decimals; diff = count - flowjo_count; status is match,\n"
"DIFF, not_stored (FlowJo stored no count, or 0: FlowJo writes 0 for\n"
"populations it never computed; never a failure), no_fcs or error\n"
"(count NA).\n"
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

int cmd_wsp(int argc, char **argv)
{
    const char *wpath = NULL, *fcs_dir = NULL, *group = NULL, *sample = NULL,
               *to_config = NULL;
    int as_json = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if ((r = cg_opt_std(a, usage)) >= 0) {
            return r;
        } else if (cg_opt_is(a, NULL, "--fcs")) {
            if (!(fcs_dir = cg_opt_value(CMD, argc, argv, &i)))
                return cg_usage_short(CMD, usage);
        } else if (cg_opt_is(a, NULL, "--group")) {
            if (!(group = cg_opt_value(CMD, argc, argv, &i)))
                return cg_usage_short(CMD, usage);
        } else if (cg_opt_is(a, NULL, "--sample")) {
            if (!(sample = cg_opt_value(CMD, argc, argv, &i)))
                return cg_usage_short(CMD, usage);
        } else if (cg_opt_is(a, NULL, "--to-config")) {
            if (!(to_config = cg_opt_value(CMD, argc, argv, &i)))
                return cg_usage_short(CMD, usage);
        } else if (strcmp(a, "--json") == 0) {
            as_json = 1;
        } else if (strcmp(a, "--check") == 0) {
            check = 1;
        } else if (a[0] == '-' && a[1]) {
            cg_opt_unknown(CMD, a, usage);
            return cg_usage_short(CMD, usage);
        } else if (wpath) {
            cg_error_cmd(CMD, "one workspace only (got %s and %s)", wpath, a);
            return cg_usage_short(CMD, usage);
        } else {
            wpath = a;
        }
    }
    if (!wpath) {
        cg_error_cmd(CMD, "a workspace (.wsp) is required");
        return cg_usage_short(CMD, usage);
    }
    cg_err e;
    cg_err_clear(&e);
    cg_wsp *w = cg_wsp_read(wpath, &e);
    if (!w) {
        /* the message names the file and line */
        fprintf(stderr, "cytogate %s: %s\n", CMD, e.msg);
        return CG_EXIT_USAGE;
    }
    int nsel = 0;
    for (int i = 0; i < w->nsamples; i++)
        nsel += selected(&w->samples[i], group, sample);
    if (!nsel) {
        cg_error_cmd(CMD, "%s: no sample%s%s%s%s%s (%d samples in the "
                     "workspace)", wpath, group ? " in group '" : "",
                     group ? group : "", group ? "'" : "",
                     sample ? " matches --sample " : "", sample ? sample : "",
                     w->nsamples);
        cg_wsp_free(w);
        return CG_EXIT_USAGE;
    }
    int ret = CG_EXIT_OK, ndiff = 0, nmatch = 0, nnot = 0, nbad = 0;
    json_t *jroot = as_json ? json_object() : NULL, *jsamples = NULL;
    if (jroot) {
        json_object_set_new(jroot, "workspace", json_string(wpath));
        json_object_set_new(jroot, "workspace_version",
                            w->version ? json_string(w->version) : json_null());
        json_object_set_new(jroot, "flowjo_version",
                            w->flowjo_version ? json_string(w->flowjo_version)
                                              : json_null());
        jsamples = json_array();
        json_object_set_new(jroot, "samples", jsamples);
    } else {
        printf("sample\tgate_path\tcount\tpct_parent\tflowjo_count\tdiff\t"
               "status\n");
    }
    for (int si = 0; si < w->nsamples; si++) {
        const cg_wsp_sample *s = &w->samples[si];
        if (!selected(s, group, sample))
            continue;
        char fcs[8192], tried[2048];
        cg_wsp_counts res;
        memset(&res, 0, sizeof res);
        res.total = -1;
        int sstat = 0; /* 0 ok, 1 no FCS, 2 error */
        char smsg[2200] = "";
        if (cg_wsp_find_fcs(w, s, fcs_dir, fcs, sizeof fcs, tried,
                            sizeof tried) < 0) {
            sstat = 1;
            snprintf(smsg, sizeof smsg, "FCS file not found (looked for %s)",
                     tried[0] ? tried : "nothing: no URI, $FIL or name");
            fprintf(stderr, "cytogate %s: %s:%d: sample '%s': %s%s\n", CMD,
                    wpath, s->line, s->name, smsg,
                    fcs_dir ? "" : "; give the folder with --fcs DIR");
        } else if (cg_wsp_eval_sample(s, fcs, &res, &e) < 0) {
            sstat = 2;
            snprintf(smsg, sizeof smsg, "%s", e.msg);
            fprintf(stderr, "cytogate %s: %s:%d: sample '%s': %s\n", CMD,
                    wpath, e.line ? e.line : s->line, s->name, e.msg);
        } else if (res.acq_without_spill) {
            cg_warn_file(wpath, "sample '%s': \"Acquisition-defined\" "
                         "compensation but %s has no spillover keyword; the "
                         "workspace's copy of the matrix is used", s->name,
                         fcs);
        }
        if (sstat)
            nbad++; /* its rows follow with our counts NA */
        json_t *js = NULL, *jpops = NULL;
        if (jroot) {
            js = json_object();
            json_object_set_new(js, "sample", json_string(s->name));
            json_object_set_new(js, "sample_id", json_string(s->id));
            json_object_set_new(js, "line", json_integer(s->line));
            json_object_set_new(js, "fcs", sstat == 1 ? json_null()
                                                      : json_string(fcs));
            json_object_set_new(js, "status",
                                json_string(sstat == 0   ? "ok"
                                            : sstat == 1 ? "fcs_not_found"
                                                         : "error"));
            if (sstat)
                json_object_set_new(js, "message", json_string(smsg));
            json_object_set_new(js, "events", num_or_null(res.total));
            json_object_set_new(js, "flowjo_events",
                                num_or_null(s->stored_total));
            const char *cs = !s->comp ? "none"
                             : sstat ? "not applied"
                             : res.comp == CG_WSP_COMP_FILE
                                 ? "file spillover (Acquisition-defined)"
                                 : "workspace matrix";
            json_object_set_new(js, "compensation", json_string(cs));
            if (s->comp)
                json_object_set_new(js, "matrix", json_string(s->comp->name));
            jpops = json_array();
            json_object_set_new(js, "populations", jpops);
            json_array_append_new(jsamples, js);
        }
        for (int i = 0; i < s->npops; i++) {
            const cg_wsp_pop *p = &s->pops[i];
            int64_t c = !sstat && res.count ? res.count[i] : -1;
            int64_t pc = p->parent >= 0
                             ? (!sstat && res.count ? res.count[p->parent] : -1)
                             : res.total;
            int v = cg_wsp_verdict(c, p->stored);
            if (v == CG_WSP_MATCH)
                nmatch++;
            else if (v == CG_WSP_DIFF)
                ndiff++;
            else if (v == CG_WSP_NOT_STORED)
                nnot++;
            double pct = c >= 0 && pc > 0 ? 100.0 * (double)c / (double)pc
                                          : NAN;
            int has_diff = c >= 0 && p->stored >= 0 && v != CG_WSP_NOT_STORED;
            if (jroot) {
                json_t *jp = json_object();
                json_object_set_new(jp, "gate_path", json_string(p->path));
                json_object_set_new(jp, "type",
                                    json_string(cg_wsp_gkind_name(p->kind)));
                json_object_set_new(jp, "count", num_or_null(c));
                json_object_set_new(jp, "pct_parent",
                                    isnan(pct) ? json_null() : json_real(pct));
                json_object_set_new(jp, "flowjo_count", num_or_null(p->stored));
                json_object_set_new(jp, "diff",
                                    has_diff ? json_integer((json_int_t)(
                                                   c - p->stored))
                                             : json_null());
                json_object_set_new(jp, "status",
                                    json_string(status_name(v, sstat)));
                json_object_set_new(jp, "line", json_integer(p->line));
                json_array_append_new(jpops, jp);
                continue;
            }
            char cb[32] = "NA", pb[32] = "NA", fb[32] = "NA", db[32] = "NA";
            if (c >= 0)
                snprintf(cb, sizeof cb, "%lld", (long long)c);
            if (!isnan(pct))
                snprintf(pb, sizeof pb, "%.4f", pct);
            if (p->stored >= 0)
                snprintf(fb, sizeof fb, "%lld", (long long)p->stored);
            if (has_diff)
                snprintf(db, sizeof db, "%lld", (long long)(c - p->stored));
            printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s->name, p->path, cb, pb,
                   fb, db, status_name(v, sstat));
            if (v == CG_WSP_DIFF && cg_verbosity >= 1)
                fprintf(stderr, "cytogate %s: %s:%d: sample '%s': '%s' has "
                        "%lld events, FlowJo stored %lld (difference %+lld)\n",
                        CMD, wpath, p->line, s->name, p->path, (long long)c,
                        (long long)p->stored, (long long)(c - p->stored));
        }
        cg_wsp_counts_clear(&res);
    }
    if (jroot) {
        json_t *jsum = json_object();
        json_object_set_new(jsum, "match", json_integer(nmatch));
        json_object_set_new(jsum, "differ", json_integer(ndiff));
        json_object_set_new(jsum, "not_stored", json_integer(nnot));
        json_object_set_new(jsum, "samples_not_gated", json_integer(nbad));
        json_object_set_new(jroot, "summary", jsum);
        char *txt = json_dumps(jroot, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (txt) {
            fputs(txt, stdout);
            fputc('\n', stdout);
            free(txt);
        }
        json_decref(jroot);
    }
    if (cg_verbosity >= 1)
        fprintf(stderr, "cytogate %s: %s: %d sample%s: %d populations match "
                "FlowJo, %d differ, %d not stored by FlowJo (not compared); "
                "%d sample%s not gated\n", CMD, wpath, nsel,
                nsel == 1 ? "" : "s", nmatch, ndiff, nnot, nbad,
                nbad == 1 ? "" : "s");
    if (nbad)
        ret = CG_EXIT_DATA;
    if (check && ndiff)
        ret = EXIT_CHECK;
    if (to_config) {
        const cg_wsp_sample *tmpl = NULL;
        for (int i = 0; i < w->nsamples && !tmpl; i++)
            if (selected(&w->samples[i], group, sample) &&
                w->samples[i].npops > 0)
                tmpl = &w->samples[i];
        if (!tmpl) {
            cg_error_cmd(CMD, "%s: --to-config: no selected sample has gates",
                         wpath);
            if (ret == CG_EXIT_OK)
                ret = CG_EXIT_DATA;
        } else if (cg_wsp_write_config(w, tmpl, to_config, &e) < 0) {
            fprintf(stderr, "cytogate %s: %s: %s\n", CMD, to_config, e.msg);
            if (ret == CG_EXIT_OK)
                ret = CG_EXIT_DATA;
        } else if (cg_verbosity >= 1) {
            fprintf(stderr, "cytogate %s: wrote %s (the gates of sample "
                    "'%s')\n", CMD, to_config, tmpl->name);
        }
    }
    cg_wsp_free(w);
    return ret;
}
