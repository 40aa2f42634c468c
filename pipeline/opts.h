/*
 * opts.h -- option parsing shared by the subcommands that take a config
 * and a batch of samples (run, qc, plot, merge): one spelling of the
 * common flags and of how values attach to them.
 *
 * Also the two loads every batch command starts with (config, samples),
 * so their error messages read the same everywhere.
 *
 * Common flags: -c/--config FILE, -o/--out-dir DIR, -s/--sheet FILE,
 * -j/--threads N, -q/--quiet.  A value may follow as the next argument,
 * attached to a short flag (-j4, -oDIR) or after '=' (--threads=4).
 */
#ifndef CG_OPTS_H
#define CG_OPTS_H

#include "cgerr.h"

struct cg_config;
struct cg_sheet;

/* Is argument a the option with short form s ("-j"; NULL for none) or
 * long form l ("--threads")?  Matches "-j", "-j4", "--threads" and
 * "--threads=4", never "--threadsX". */
int cg_opt_is(const char *a, const char *s, const char *l);

/* The value of the option at argv[*i]: after '=' in a long option, the
 * rest of an attached short option, or the next argument (then *i is
 * advanced).  NULL, with "cytogate CMD: OPT needs a value" on stderr,
 * when there is none. */
const char *cg_opt_value(const char *cmd, int argc, char **argv, int *i);

/* -j/--threads value: 1..1024.  0, or -1 with a message naming cmd. */
int cg_opt_threads(const char *cmd, const char *v, long *out);

/* "cytogate CMD: FILE:LINE: message" (or "FILE: message" when e->line is
 * 0) on stderr: the one format for errors about a config or a sheet. */
void cg_cli_file_error(const char *cmd, const char *file, const cg_err *e);

/* Load a config; a bad one is reported with cg_cli_file_error.  Owned
 * (cg_config_free) or NULL. */
struct cg_config *cg_cli_config(const char *cmd, const char *path);

/* The samples of a batch command: the sheet when sheet != NULL, else the
 * FCS files and directories in files[0..nfiles), narrowed to the sample
 * ids sel[0..nsel) when nsel > 0.  Errors are reported on stderr.  Owned
 * (cg_sheet_free) or NULL. */
struct cg_sheet *cg_cli_samples(const char *cmd, const char *sheet,
                                int nfiles, char *const *files, int nsel,
                                char *const *sel);

#endif
