/*
 * commands.c -- the subcommand table (see commands.h).  Add a row here and
 * a cmd_<name>.c file; dispatch, help and the usage test pick it up.
 */
#include "commands.h"

#include <string.h>

const cg_command cg_commands[] = {
    {"run", "Pipeline", "gate a batch of samples with a config; tables, JSON, QC, plots", cmd_run},
    {"plot", "Pipeline", "one ad-hoc dot plot or histogram of a sample with the config's gates (PNG)", cmd_plot},
    {"merge", "Pipeline", "combine the OUTDIRs of per-sample runs (cluster jobs) into one run's outputs", cmd_merge},
    {"report", "Pipeline", "rebuild the review report (report.html) of a run or merge output folder", cmd_report},
    {"study", "Pipeline", "study-wide longitudinal table and batch-control charts from a study store (--db)", cmd_study},
    {"qc", "Pipeline", "per-sample QC verdicts (counts, flow rate, stability, margins, compensation); qc.tsv", cmd_qc},
    {"simulate", "Data", "write a synthetic Treg/Th17 FCS sample and its truth JSON", cmd_simulate},
    {"gate", "Gating", "apply Gating-ML 2.0 gates to an FCS file; counts, membership, export", cmd_gate},
    {"wsp", "Gating", "gate the samples of a FlowJo workspace; compare with its counts, write a config", cmd_wsp},
    {"transform", "Transforms", "apply a scale transform (logicle, biex, asinh, ...) to numbers on stdin", cmd_transform},
    {"compensate", "Transforms", "write a compensated FCS 3.1 file (matrix from the file or a CSV)", cmd_compensate},
    {"info", "Files", "describe FCS files: data sets, parameters, spillover, warnings (--json)", cmd_info},
    {"dump", "Files", "print the events of an FCS file as TSV (raw or scaled, exact %.17g)", cmd_dump},
    {"bench", "Developer", "benchmark speed and memory on generated data (table or --json)", cmd_bench},
    {NULL, NULL, NULL, NULL}
};

const cg_command *cg_command_find(const char *name)
{
    for (const cg_command *c = cg_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}
