/*
 * cmd_simulate.c -- `cytogate simulate`: write a synthetic PBMC Treg/Th17
 * FCS 3.1 file and its truth sidecar JSON (model in simulate.c).
 *
 * Output is a pure function of the options (same options, same bytes);
 * both files are written atomically.  Exit 0 on success, 1 on bad usage,
 * 2 when a file cannot be written.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "simulate.h"
#include "opts.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: cytogate simulate [options] -o OUT.fcs\n"
"\n"
"Write a synthetic PBMC sample (FCS 3.1, float32) for the Treg/Th17 panel\n"
"(CD3 CD4 CD8 CD25 CD127 FOXP3 IL-17A CCR6 CXCR3 + viability dye, FSC-A,\n"
"FSC-H, SSC-A, Time) with spillover stored in $SPILLOVER, and a truth JSON\n"
"with the true counts and frequencies.\n"
"\n"
"Output:\n"
"  -o, --out FILE         FCS file to write (required)\n"
"      --truth FILE       truth JSON [OUT minus .fcs, plus .truth.json]\n"
"      --no-truth         do not write the truth JSON\n"
"      --big-endian       $BYTEORD 4,3,2,1 [little-endian 1,2,3,4]\n"
"      --naming SCHEME    channel names: bd (FITC-A, PE-A, ...) or cytek\n"
"                         (B2-A, YG1-A, ..., with FoxP3, IL-17A,\n"
"                         \"CCR6 (CD196)\", Zombie labels) [bd]\n"
"Sample:\n"
"      --seed N           random seed [1]\n"
"      --events N         events [50000]\n"
"      --treg PCT         Treg (CD25hi CD127lo) %% of CD4 [6]\n"
"      --th17 PCT         Th17 (IL-17A+) %% of CD4 [1.5]\n"
"      --debris PCT       debris %% of events [5]\n"
"      --doublets PCT     doublets %% of events [4]\n"
"      --dead PCT         dead cells %% of events [6]\n"
"      --sample-id ID     $SRC keyword and truth sample_id\n"
"      --subject S        CYTOGATE_SUBJECT keyword\n"
"      --visit V          CYTOGATE_VISIT keyword\n"
"Anomalies (for QC tests):\n"
"      --anomaly LIST     comma-separated: clog (flow-rate drop then\n"
"                         burst), drift (one detector drifts), saturation\n"
"                         (aggregates beyond the scatter range), few (too\n"
"                         few events)\n"
"      --drift-marker M   marker whose detector drifts [CD4]\n"
"      --drift-amount F   relative signal change by the end of the run [0.5]\n"
"      --saturate PCT     saturating events %% [5]\n"
"      --few-events N     events with `few` [300]\n"
"\n"
"The truth counts are over generated labels: cd4 = live singlet CD3+ CD4+\n"
"CD8- T cells; treg, foxp3_treg, th17, th17_like are subsets of cd4.\n");
}

static int parse_pct(const char *opt, const char *s, double *out)
{
    if (cg_parse_double(s, out) < 0 || *out < 0 || *out > 100) {
        cg_error_cmd("simulate", "%s: '%s' is not a percentage in 0..100",
                     opt, s);
        return -1;
    }
    return 0;
}

static int parse_anomalies(const char *s, unsigned *out)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "clog") == 0)
            *out |= CG_SIM_CLOG;
        else if (strcmp(tok, "drift") == 0)
            *out |= CG_SIM_DRIFT;
        else if (strcmp(tok, "saturation") == 0)
            *out |= CG_SIM_SATURATION;
        else if (strcmp(tok, "few") == 0)
            *out |= CG_SIM_FEW;
        else {
            cg_error_cmd("simulate",
                         "--anomaly: unknown '%s' (clog, drift, saturation, "
                         "few)",
                         tok);
            return -1;
        }
    }
    return 0;
}

/* Options that set the sample, its anomalies and the output. */
enum {
    O_TRUTH = 256, O_NOTRUTH, O_BIG, O_NAMING, O_SEED, O_EVENTS, O_TREG,
    O_TH17, O_DEBRIS, O_DOUBLETS, O_DEAD, O_SAMPLE, O_SUBJECT, O_VISIT,
    O_ANOM, O_DMARK, O_DAMT, O_SAT, O_FEW
};

typedef struct sim_args {
    cg_sim_opts o;
    const char *out, *truth;
    int no_truth;
} sim_args;

/* Apply one long option (O_*) with its argument.  0, or -1 after printing
 * why the value is wrong. */
static int sim_opt(int c, const char *arg, sim_args *a)
{
    long v;
    switch (c) {
    case O_TRUTH: a->truth = arg; break;
    case O_NOTRUTH: a->no_truth = 1; break;
    case O_BIG: a->o.big_endian = 1; break;
    case O_NAMING:
        if (strcmp(arg, "bd") == 0)
            a->o.naming = CG_SIM_NAMING_BD;
        else if (strcmp(arg, "cytek") == 0)
            a->o.naming = CG_SIM_NAMING_CYTEK;
        else {
            cg_error_cmd("simulate", "--naming: '%s' is not bd or cytek",
                         arg);
            return -1;
        }
        break;
    case O_SEED:
        if (cg_parse_int(arg, 0, 0x7fffffffffffffffL, &v) < 0) {
            cg_error_cmd("simulate", "--seed: '%s' is not an integer >= 0",
                         arg);
            return -1;
        }
        a->o.seed = (uint64_t)v;
        break;
    case O_EVENTS:
    case O_FEW:
        if (cg_parse_int(arg, 1, 100000000L, &v) < 0) {
            cg_error_cmd("simulate", "%s: '%s' is not in 1..100000000",
                         c == O_EVENTS ? "--events" : "--few-events",
                         arg);
            return -1;
        }
        if (c == O_EVENTS)
            a->o.events = v;
        else
            a->o.few_events = v;
        break;
    case O_TREG:
        if (parse_pct("--treg", arg, &a->o.treg_pct) < 0)
            return -1;
        break;
    case O_TH17:
        if (parse_pct("--th17", arg, &a->o.th17_pct) < 0)
            return -1;
        break;
    case O_DEBRIS:
        if (parse_pct("--debris", arg, &a->o.debris_pct) < 0)
            return -1;
        break;
    case O_DOUBLETS:
        if (parse_pct("--doublets", arg, &a->o.doublet_pct) < 0)
            return -1;
        break;
    case O_DEAD:
        if (parse_pct("--dead", arg, &a->o.dead_pct) < 0)
            return -1;
        break;
    case O_SAT:
        if (parse_pct("--saturate", arg, &a->o.saturate_pct) < 0)
            return -1;
        break;
    case O_SAMPLE:
        snprintf(a->o.sample_id, sizeof a->o.sample_id, "%s", arg);
        break;
    case O_SUBJECT:
        snprintf(a->o.subject, sizeof a->o.subject, "%s", arg);
        break;
    case O_VISIT:
        snprintf(a->o.visit, sizeof a->o.visit, "%s", arg);
        break;
    case O_ANOM:
        if (parse_anomalies(arg, &a->o.anomalies) < 0)
            return -1;
        break;
    case O_DMARK:
        snprintf(a->o.drift_marker, sizeof a->o.drift_marker, "%s", arg);
        break;
    case O_DAMT:
        if (cg_parse_double(arg, &a->o.drift_amount) < 0) {
            cg_error_cmd("simulate", "--drift-amount: '%s' is not a "
                         "number", arg);
            return -1;
        }
        break;
    }
    return 0;
}

/* The truth JSON path: --truth, else OUT minus .fcs plus .truth.json.
 * Owned; NULL when out of memory. */
static char *truth_path(const char *out, const char *truth)
{
    if (truth)
        return strdup(truth);
    size_t len = strlen(out);
    char *tpath = malloc(len + 16);
    if (tpath) {
        memcpy(tpath, out, len + 1);
        if (len > 4 && strcasecmp(tpath + len - 4, ".fcs") == 0)
            tpath[len - 4] = '\0';
        strcat(tpath, ".truth.json");
    }
    return tpath;
}

/* Generate and write; an exit status. */
static int simulate(const sim_args *a)
{
    char *tpath = NULL;
    if (!a->no_truth && !(tpath = truth_path(a->out, a->truth))) {
        cg_error_cmd("simulate", "out of memory");
        return CG_EXIT_DATA;
    }
    cg_err err;
    memset(&err, 0, sizeof err);
    cg_sim_data *d = cg_sim_generate(&a->o, &err);
    if (!d) {
        cg_error_report("simulate", NULL, NULL, &err);
        free(tpath);
        return err.code == CG_E_ARG ? CG_EXIT_USAGE : CG_EXIT_DATA;
    }
    int rc = cg_sim_write(d, &a->o, a->out, tpath, &err);
    if (rc < 0)
        cg_error_report("simulate", a->out, NULL, &err);
    else if (cg_verbosity >= 2)
        fprintf(stderr,
                "cytogate simulate: %s: %lld events, cd4 %lld, treg %.3f%%, "
                "th17 %.3f%% of CD4\n",
                a->out, (long long)d->n, (long long)d->truth.cd4,
                d->truth.treg_pct_cd4, d->truth.th17_pct_cd4);
    cg_sim_free(d);
    free(tpath);
    return rc < 0 ? CG_EXIT_DATA : CG_EXIT_OK;
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option lo[] = {
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"truth", required_argument, NULL, O_TRUTH},
        {"no-truth", no_argument, NULL, O_NOTRUTH},
        {"big-endian", no_argument, NULL, O_BIG},
        {"naming", required_argument, NULL, O_NAMING},
        {"seed", required_argument, NULL, O_SEED},
        {"events", required_argument, NULL, O_EVENTS},
        {"treg", required_argument, NULL, O_TREG},
        {"th17", required_argument, NULL, O_TH17},
        {"debris", required_argument, NULL, O_DEBRIS},
        {"doublets", required_argument, NULL, O_DOUBLETS},
        {"dead", required_argument, NULL, O_DEAD},
        {"sample-id", required_argument, NULL, O_SAMPLE},
        {"subject", required_argument, NULL, O_SUBJECT},
        {"visit", required_argument, NULL, O_VISIT},
        {"anomaly", required_argument, NULL, O_ANOM},
        {"drift-marker", required_argument, NULL, O_DMARK},
        {"drift-amount", required_argument, NULL, O_DAMT},
        {"saturate", required_argument, NULL, O_SAT},
        {"few-events", required_argument, NULL, O_FEW},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    sim_args a;
    memset(&a, 0, sizeof a);
    cg_sim_opts_init(&a.o);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:hV", lo, NULL)) != -1) {
        switch (c) {
        case 'o': a.out = optarg; break;
        case 'h': usage(stdout); return CG_EXIT_OK;
        case 'V': return cg_opt_version();
        case ':':
        case '?':
            return cg_getopt_error("simulate", c, argv, usage);
        default:
            if (c < O_TRUTH)
                return cg_getopt_error("simulate", c, argv, usage);
            if (sim_opt(c, optarg, &a) < 0)
                return cg_usage_short("simulate", usage);
        }
    }
    if (optind < argc) {
        cg_error_cmd("simulate", "unexpected argument '%s'", argv[optind]);
        return cg_usage_short("simulate", usage);
    }
    if (!a.out) {
        cg_error_cmd("simulate", "no output file (-o OUT.fcs)");
        return cg_usage_short("simulate", usage);
    }
    return simulate(&a);
}
