/*
 * commands.h -- the subcommand table: one row per subcommand, read by
 * dispatch (main.c), `cytogate help` and the usage test.
 *
 * Each subcommand lives in pipeline/cmd_<name>.c as
 *     int cmd_<name>(int argc, char **argv);
 * where argv[0] is the subcommand name.  `--help`/`-h` prints its usage to
 * stdout and returns 0; misuse prints usage to stderr and returns 1.
 */
#ifndef CG_COMMANDS_H
#define CG_COMMANDS_H

typedef struct cg_command {
    const char *name;
    const char *group;   /* heading in `cytogate --help` */
    const char *summary; /* one line */
    int (*fn)(int argc, char **argv);
} cg_command;

/* The table, terminated by a row with name == NULL. */
extern const cg_command cg_commands[];

const cg_command *cg_command_find(const char *name);

/* Exit statuses shared by every subcommand (README "Exit codes"). */
enum {
    CG_EXIT_OK = 0,    /* everything processed */
    CG_EXIT_USAGE = 1, /* usage or config error; nothing was processed */
    CG_EXIT_DATA = 2,  /* one or more inputs could not be processed */
    CG_EXIT_QC = 3     /* processed, but a sample failed QC (qc command) */
};

#define X_CMD_DECL(n) int cmd_##n(int argc, char **argv);
X_CMD_DECL(run)
X_CMD_DECL(merge)
X_CMD_DECL(qc)
X_CMD_DECL(gate)
X_CMD_DECL(simulate)
X_CMD_DECL(transform)
X_CMD_DECL(compensate)
X_CMD_DECL(info)
X_CMD_DECL(dump)
X_CMD_DECL(plot)
X_CMD_DECL(bench)
X_CMD_DECL(report)
X_CMD_DECL(study)
X_CMD_DECL(wsp)
#undef X_CMD_DECL

#endif
