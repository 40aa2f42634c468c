/*
 * opts.h -- option parsing shared by the subcommands that take a config
 * and a batch of samples (run, qc, plot, merge): one spelling of the
 * common flags and of how values attach to them.
 *
 * Also the two loads every batch command starts with (config, samples),
 * so their error messages read the same everywhere.
 *
 * Common flags: -c/--config FILE, -o/--out-dir DIR, -s/--sheet FILE,
 * -j/--threads N, -q/--quiet, --json.  A value may follow as the next
 * argument, attached to a short flag (-j4, -oDIR) or after '=' (--threads=4).
 *
 * The grammar every subcommand shares (README "Command line"):
 *   -h/--help      full usage on stdout, exit 0
 *   -V/--version   "cytogate VERSION" on stdout, exit 0
 *   a usage error  one line naming the problem, then the first line of the
 *                  usage and "Try 'cytogate CMD --help' ..." on stderr,
 *                  exit 1; an unknown long option gets "did you mean".
 * Each subcommand passes its static usage() so the short usage line and
 * the option names for suggestions come from the text --help prints.
 */
#ifndef CG_OPTS_H
#define CG_OPTS_H

#include <stdio.h>

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

/* A subcommand's full usage text, printed to fp. */
typedef void (*cg_usage_fn)(FILE *fp);

/* The options every subcommand accepts.  a is -h/--help: usage to stdout,
 * returns 0; -V/--version: cg_opt_version(), returns 0; anything else:
 * returns -1 and prints nothing. */
int cg_opt_std(const char *a, cg_usage_fn usage);

/* "cytogate VERSION" on stdout; returns 0. */
int cg_opt_version(void);

/* The tail of every usage error, on stderr: the first line of usage
 * ("Usage: cytogate CMD ...") and "Try 'cytogate CMD --help' for more
 * information.".  Returns CG_EXIT_USAGE (1). */
int cg_usage_short(const char *cmd, cg_usage_fn usage);

/* "cytogate CMD: unknown option 'A'" on stderr, with "; did you mean
 * '--NAME'?" when a long option in the usage text is close to A (see
 * suggest.h).  Prints no usage; the caller ends with cg_usage_short. */
void cg_opt_unknown(const char *cmd, const char *a, cg_usage_fn usage);

/* For getopt_long loops run with a leading ':' in the option string:
 * reports c == ':' (missing value) or '?' (unknown option) like the
 * hand-written loops do, then cg_usage_short.  Returns CG_EXIT_USAGE. */
int cg_getopt_error(const char *cmd, int c, char **argv, cg_usage_fn usage);

/* -j/--threads value: 1..1024.  0, or -1 with a message naming cmd. */
int cg_opt_threads(const char *cmd, const char *v, long *out);
/* The default of -j: the CPUs this process may run on (its affinity
 * mask, so taskset, cgroups cpusets and cluster allocations count), at
 * most CG_DEFAULT_THREADS_MAX.  Outputs do not depend on it. */
#define CG_DEFAULT_THREADS_MAX 16
long cg_default_threads(void);

/* cg_error_report(cmd, file, NULL, e) (util.h): "cytogate CMD: FILE:LINE:
 * message", the one format for library errors. */
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
