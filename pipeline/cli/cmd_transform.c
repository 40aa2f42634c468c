/*
 * cmd_transform.c -- `cytogate transform`: apply one scale transform (or
 * its inverse) to numbers read one per line on stdin, writing one result
 * per line on stdout with %.17g (round-trips exactly).
 *
 * Exit 0 when every line was a number and every value had a result; 1 on
 * bad options (nothing read); 2 when a line is not a number or a value
 * has no result (a solve that did not converge), naming the line -- the
 * lines before it have already been written.  The log transform of a
 * negative number prints "nan" (its documented result) and is not an
 * error.  Single-threaded; constant memory.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "opts.h"
#include "util.h"
#include "xform.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate transform --type TYPE [parameters] [--inverse] < IN > OUT\n"
"\n"
"Reads one number per line on stdin and writes the transformed value, one\n"
"per line, on stdout (%%.17g: exact round trip).\n"
"\n"
"Transform:\n"
"  -t, --type TYPE     logicle | hyperlog | asinh | arcsinh | log | linear |\n"
"                      biex | identity (required)\n"
"      --inverse       apply the inverse (display value -> data value)\n"
"Parameters (Gating-ML 2.0 names; defaults in brackets):\n"
"      --T t           top of scale [262144]   (logicle hyperlog asinh log linear)\n"
"      --W w           linear-region decades [0.5]  (logicle hyperlog)\n"
"      --M m           decades [4.5]           (logicle hyperlog asinh log)\n"
"      --A a           extra negative decades, or flin offset [0]\n"
"      --cofactor c    arcsinh: asinh(x / c) [150; 5 for mass cytometry]\n"
"      --width w       biex width basis, <= -1 [-10]\n"
"      --pos p         biex positive decades [4.41854]\n"
"      --neg n         biex extra negative decades [0]\n"
"      --max x         biex maximum data value [262144]\n"
"\n"
"Types: logicle = Gating-ML logicle (0..1, T -> 1); hyperlog = Gating-ML\n"
"hyperlog; asinh = Gating-ML fasinh (T, M, A); arcsinh = asinh(x/cofactor);\n"
"log = Gating-ML flog, (1/M) log10(x/T) + 1 (-inf at 0, nan below);\n"
"linear = Gating-ML flin, (x + A)/(T + A); biex = FlowJo biexponential on\n"
"FlowJo's 0..4096 channel scale; identity = unchanged.\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 a line is not a number or a value has\n"
"no result (the message names the line).\n");
}

static int parse_kind(const char *s, cg_xform_kind *k)
{
    static const struct { const char *n; cg_xform_kind k; } t[] = {
        {"logicle", CG_XF_LOGICLE}, {"hyperlog", CG_XF_HYPERLOG},
        {"asinh", CG_XF_ASINH},     {"fasinh", CG_XF_ASINH},
        {"arcsinh", CG_XF_ARCSINH}, {"log", CG_XF_LOG},
        {"flog", CG_XF_LOG},        {"linear", CG_XF_LINEAR},
        {"flin", CG_XF_LINEAR},     {"biex", CG_XF_BIEX},
        {"identity", CG_XF_IDENTITY},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(s, t[i].n) == 0) {
            *k = t[i].k;
            return 0;
        }
    return -1;
}

int cmd_transform(int argc, char **argv)
{
    enum { O_INV = 256, O_T, O_W, O_M, O_A, O_COF, O_WID, O_POS, O_NEG,
           O_MAX };
    static const struct option lo[] = {
        {"type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"inverse", no_argument, NULL, O_INV},
        {"T", required_argument, NULL, O_T},
        {"W", required_argument, NULL, O_W},
        {"M", required_argument, NULL, O_M},
        {"A", required_argument, NULL, O_A},
        {"cofactor", required_argument, NULL, O_COF},
        {"width", required_argument, NULL, O_WID},
        {"pos", required_argument, NULL, O_POS},
        {"neg", required_argument, NULL, O_NEG},
        {"max", required_argument, NULL, O_MAX},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    cg_xform_params p;
    memset(&p, 0, sizeof p);
    p.T = 262144, p.W = 0.5, p.M = 4.5, p.A = 0, p.cofactor = 150;
    p.width = -10, p.pos = 4.41854, p.neg = 0, p.max = 262144;
    const char *type = NULL;
    int inverse = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:hV", lo, NULL)) != -1) {
        double *dst = NULL;
        switch (c) {
        case 't': type = optarg; break;
        case 'h': usage(stdout); return CG_EXIT_OK;
        case 'V': return cg_opt_version();
        case O_INV: inverse = 1; break;
        case O_T: dst = &p.T; break;
        case O_W: dst = &p.W; break;
        case O_M: dst = &p.M; break;
        case O_A: dst = &p.A; break;
        case O_COF: dst = &p.cofactor; break;
        case O_WID: dst = &p.width; break;
        case O_POS: dst = &p.pos; break;
        case O_NEG: dst = &p.neg; break;
        case O_MAX: dst = &p.max; break;
        case ':':
        default:
            return cg_getopt_error("transform", c, argv, usage);
        }
        if (dst && (cg_parse_double(optarg, dst) < 0 || !isfinite(*dst))) {
            cg_error_cmd("transform", "%s: '%s' is not a finite number",
                         argv[optind - 1], optarg);
            return cg_usage_short("transform", usage);
        }
    }
    if (optind < argc) {
        cg_error_cmd("transform", "unexpected argument '%s' (input comes "
                     "from stdin)", argv[optind]);
        return cg_usage_short("transform", usage);
    }
    cg_xform_kind kind;
    if (!type) {
        cg_error_cmd("transform", "--type is required");
        return cg_usage_short("transform", usage);
    }
    if (parse_kind(type, &kind) < 0) {
        cg_error_cmd("transform", "--type: unknown transform '%s'", type);
        return CG_EXIT_USAGE;
    }
    cg_err err;
    cg_xform *xf = cg_xform_new(kind, &p, &err);
    if (!xf) {
        cg_error_report("transform", NULL, NULL, &err);
        return CG_EXIT_USAGE;
    }
    char line[512];
    long lineno = 0;
    int rc = CG_EXIT_OK;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            cg_error_file("<stdin>", "line %ld: longer than %d characters; "
                          "expected one number", lineno,
                          (int)sizeof line - 2);
            rc = CG_EXIT_DATA;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                       line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        double x;
        if (cg_parse_double(s, &x) < 0) {
            cg_error_file("<stdin>", "line %ld: '%.60s' is not a number",
                          lineno, s);
            rc = CG_EXIT_DATA;
            break;
        }
        double y = inverse ? cg_xform_inv1(xf, x) : cg_xform_fwd1(xf, x);
        if (isnan(y) && !(kind == CG_XF_LOG && !inverse && x < 0)) {
            cg_error_file("<stdin>", "line %ld: %s%s of %.17g has no "
                          "result", lineno, inverse ? "inverse " : "",
                          cg_xform_name(kind), x);
            rc = CG_EXIT_DATA;
            break;
        }
        if (printf("%.17g\n", y) < 0) {
            rc = CG_EXIT_DATA;
            break;
        }
    }
    if (rc == CG_EXIT_OK && ferror(stdin)) {
        cg_error_file("<stdin>", "read error");
        rc = CG_EXIT_DATA;
    }
    cg_xform_free(xf);
    return rc;
}
