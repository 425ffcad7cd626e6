/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd: the subcommands other than the daemon itself (DESIGN §9), one file
 * each family: cmd_check.c (check-config), cmd_admin.c (flush,
 * healthcheck: clients of a running daemon's admin listener), cmd_plan.c
 * (plan).  Each takes the arguments after the subcommand's name (argv[0] is
 * the name) and returns the process's exit status.
 */
#ifndef S3I_CMD_H
#define S3I_CMD_H

int	cmd_check_config(int argc, char **argv);
int	cmd_flush(int argc, char **argv);
int	cmd_healthcheck(int argc, char **argv);
int	cmd_plan(int argc, char **argv);

#endif
