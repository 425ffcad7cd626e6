/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd: the subcommands other than the daemon itself (DESIGN §9), one file
 * each family: cmd_check.c (check-config), cmd_admin.c (flush,
 * healthcheck: clients of a running daemon's admin listener), cmd_plan.c
 * (plan).  Each takes the arguments after the subcommand's name (argv[0] is
 * the name) and returns the process's exit status.  cmd_args.c holds what
 * they (and the daemon's own command line) share.
 */
#ifndef S3I_CMD_H
#define S3I_CMD_H

struct cfg;
struct option;

int	cmd_check_config(int argc, char **argv);
int	cmd_flush(int argc, char **argv);
int	cmd_healthcheck(int argc, char **argv);
int	cmd_plan(int argc, char **argv);

/*
 * getopt_long() (set optind = 1 before the first call) that takes -c FILE
 * itself, into *file, and returns the other options; optstring must hold
 * "c:".  Returns '?' for an unknown option or any operand (no subcommand
 * takes one), -1 at the end.  longopts may be NULL.
 */
int	cmd_getopt(int argc, char **argv, const char *optstring,
	    const struct option *longopts, const char **file);

/* cfg_load() of file (NULL: the default path or none), errors on stderr
 * and their count said once.  Returns 0, or -1: exit with status 2. */
int	cmd_load_cfg(const char *file, struct cfg **cfg);

#endif
