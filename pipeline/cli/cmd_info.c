/*
 * cmd_info.c -- `cytogate info [--json] FILE...`: what an FCS file holds:
 * version, data sets, events, the parameter table, the spillover matrix
 * and which keyword it came from, and every warning (repairs applied).
 *
 * --json writes one object per file (an array when several files are
 * given) with keys in a fixed order: file, version, datasets[] (index,
 * offset, events, datatype, params[] {name, label, bits, range, gain,
 * log [f1,f2], datatype}, keywords {TEXT order}, spillover null or
 * {keyword, channels, matrix}, quirks[]), warnings[].  Bytes that are not
 * UTF-8 are emitted as their Latin-1 reading.
 * Exit 0 when every file was read, 2 when any could not be (each failure
 * is one line on stderr; the other files are still reported), 1 usage.
 * Single-threaded.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fcs.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate info [--json] FILE...\n"
"\n"
"Describes FCS files: version, data sets, events, parameters ($PnN, $PnS,\n"
"$PnB, $PnE, $PnG, $PnR, data type), spillover (and its keyword), warnings.\n"
"\n"
"Output:\n"
"      --json     one JSON object per file (an array for several files):\n"
"                 version, datasets[{events, params[{name, label, bits,\n"
"                 range, gain, log}], keywords, spillover}], warnings\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 a file could not be read.\n");
}

/* JSON string from stored bytes: UTF-8 as is, otherwise Latin-1. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *u = malloc(2 * n + 1), *p = u;
    if (!u)
        return json_null();
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x80) {
            *p++ = (char)*c;
        } else {
            *p++ = (char)(0xC0 | (*c >> 6));
            *p++ = (char)(0x80 | (*c & 0x3F));
        }
    }
    *p = '\0';
    j = json_string(u);
    free(u);
    return j ? j : json_null();
}

static const char *type_name(char t)
{
    switch (t) {
    case 'I': return "I";
    case 'F': return "F";
    case 'D': return "D";
    case 'A': return "A";
    default: return "?";
    }
}

static json_t *quirk_list(fcs_file *f)
{
    json_t *a = json_array();
    for (unsigned b = 1; b && b <= 0x80000000u; b <<= 1)
        if (fcs_quirks(f) & b)
            json_array_append_new(a, json_string(fcs_quirk_name(b)));
    return a;
}

/* Describe data set d (selected); appends its warnings to warn. */
static json_t *ds_json(fcs_file *f, int d, json_t *warn)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(d + 1));
    json_object_set_new(o, "offset", json_integer(fcs_dataset_offset(f)));
    json_object_set_new(o, "version", json_string(fcs_version(f)));
    json_object_set_new(o, "events", json_integer(fcs_n_events(f)));
    const char *dt = fcs_keyword(f, "$DATATYPE");
    json_object_set_new(o, "datatype", jstr(dt));
    json_t *ps = json_array();
    for (int j = 0; j < fcs_n_params(f); j++) {
        const fcs_param *p = fcs_param_info(f, j);
        json_t *po = json_object();
        json_object_set_new(po, "index", json_integer(j + 1));
        json_object_set_new(po, "name", jstr(p->name));
        json_object_set_new(po, "label", jstr(p->label));
        json_object_set_new(po, "bits", json_integer(p->bits));
        json_object_set_new(po, "range", json_real(p->range));
        json_object_set_new(po, "gain", json_real(p->gain));
        json_t *lg = json_array();
        json_array_append_new(lg, json_real(p->log_f1));
        json_array_append_new(lg, json_real(p->log_f2));
        json_object_set_new(po, "log", lg);
        json_object_set_new(po, "datatype", json_string(type_name(p->datatype)));
        json_array_append_new(ps, po);
    }
    json_object_set_new(o, "params", ps);
    json_t *kw = json_object();
    for (int k = 0; k < fcs_n_keywords(f); k++) {
        const char *key, *val;
        if (fcs_keyword_at(f, k, &key, &val) < 0)
            continue;
        json_t *jk = jstr(key);
        if (json_is_string(jk))
            json_object_set_new(kw, json_string_value(jk), jstr(val));
        json_decref(jk);
    }
    json_object_set_new(o, "keywords", kw);
    fcs_spill *sp = NULL;
    fcs_err err;
    if (fcs_spillover(f, &sp, &err) == 1 && sp) {
        json_t *so = json_object(), *ch = json_array(), *m = json_array();
        json_object_set_new(so, "keyword", json_string(sp->keyword));
        for (int i = 0; i < sp->n; i++) {
            json_array_append_new(ch, jstr(sp->names[i]));
            json_t *row = json_array();
            for (int k = 0; k < sp->n; k++)
                json_array_append_new(row, json_real(sp->m[i * sp->n + k]));
            json_array_append_new(m, row);
        }
        json_object_set_new(so, "channels", ch);
        json_object_set_new(so, "matrix", m);
        json_object_set_new(o, "spillover", so);
    } else {
        json_object_set_new(o, "spillover", json_null());
    }
    fcs_spill_free(sp);
    json_object_set_new(o, "quirks", quirk_list(f));
    for (int i = 0; i < fcs_n_warnings(f); i++) {
        char b[400];
        snprintf(b, sizeof b, "data set %d: %s", d + 1, fcs_warning(f, i));
        json_array_append_new(warn, jstr(b));
    }
    return o;
}

static void text_report(fcs_file *f, const char *file, int d)
{
    if (d == 0)
        printf("%s: %s, %d data set%s\n", file, fcs_version(f),
               fcs_n_datasets(f), fcs_n_datasets(f) == 1 ? "" : "s");
    printf("data set %d (%s at byte %lld): %lld events, %d parameters, "
           "$DATATYPE %s, DATA %lld bytes at byte %lld\n", d + 1,
           fcs_version(f), (long long)fcs_dataset_offset(f),
           (long long)fcs_n_events(f), fcs_n_params(f),
           fcs_keyword(f, "$DATATYPE") ? fcs_keyword(f, "$DATATYPE") : "?",
           (long long)fcs_data_length(f), (long long)fcs_data_offset(f));
    printf("  %3s  %-16s %-24s %4s %-12s %-8s %-10s %s\n", "#", "$PnN", "$PnS",
           "$PnB", "$PnE", "$PnG", "$PnR", "type");
    for (int j = 0; j < fcs_n_params(f); j++) {
        const fcs_param *p = fcs_param_info(f, j);
        char e[40];
        snprintf(e, sizeof e, "%g,%g", p->log_f1, p->log_f2);
        printf("  %3d  %-16s %-24s %4d %-12s %-8g %-10.10g %s%s\n", j + 1,
               p->name, p->label ? p->label : "-", p->bits, e, p->gain,
               p->range, type_name(p->datatype), p->is_time ? " (time)" : "");
    }
    fcs_spill *sp = NULL;
    fcs_err err;
    if (fcs_spillover(f, &sp, &err) == 1 && sp) {
        printf("  spillover: %d channels from %s:", sp->n, sp->keyword);
        for (int i = 0; i < sp->n; i++)
            printf(" %s", sp->names[i]);
        putchar('\n');
    } else {
        printf("  spillover: none\n");
    }
    fcs_spill_free(sp);
    unsigned q = fcs_quirks(f);
    if (q) {
        printf("  repairs:");
        for (unsigned b = 1; b && b <= 0x80000000u; b <<= 1)
            if (q & b)
                printf(" %s", fcs_quirk_name(b));
        putchar('\n');
    }
    for (int i = 0; i < fcs_n_warnings(f); i++)
        printf("  warning: %s\n", fcs_warning(f, i));
}

int cmd_info(int argc, char **argv)
{
    static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV", lo, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return CG_EXIT_OK;
        case 'V': return cg_opt_version();
        case ':':
        default:
            return cg_getopt_error("info", c, argv, usage);
        }
    }
    if (optind >= argc) {
        cg_error_cmd("info", "expected at least one FILE");
        return cg_usage_short("info", usage);
    }
    int ret = CG_EXIT_OK, nfiles = argc - optind;
    json_t *arr = json_array();
    for (int a = optind; a < argc; a++) {
        const char *file = argv[a];
        fcs_err err;
        fcs_file *f = fcs_open(file, NULL, &err);
        if (!f) {
            cg_error_report("info", file, NULL, &err);
            ret = CG_EXIT_DATA;
            continue;
        }
        json_t *o = json_object(), *dss = json_array(), *warn = json_array();
        json_object_set_new(o, "file", jstr(file));
        json_object_set_new(o, "version", json_string(fcs_version(f)));
        for (int d = 0; d < fcs_n_datasets(f); d++) {
            if (fcs_select_dataset(f, d, &err) < 0) {
                char ds[32];
                snprintf(ds, sizeof ds, "data set %d", d + 1);
                cg_error_report("info", file, ds, &err);
                ret = CG_EXIT_DATA;
                continue;
            }
            if (json)
                json_array_append_new(dss, ds_json(f, d, warn));
            else
                text_report(f, file, d);
        }
        json_object_set_new(o, "datasets", dss);
        json_object_set_new(o, "warnings", warn);
        if (json)
            json_array_append(arr, o);
        else if (a + 1 < argc)
            putchar('\n');
        json_decref(o);
        fcs_close(f);
    }
    if (json && json_array_size(arr) > 0) {
        json_t *out = nfiles == 1 ? json_array_get(arr, 0) : arr;
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION(17));
        if (s) {
            puts(s);
            free(s);
        }
    }
    json_decref(arr);
    return ret;
}
