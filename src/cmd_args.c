/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_args: what every subcommand (and the daemon) does with its command
 * line before its own work: the options, with -c FILE taken here, and the
 * configuration loaded with its errors counted once.  Single-threaded,
 * like the command line it reads.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cmd.h"

extern char	**environ;

/* 1 when arg is a long option whose value is optional ("--wait"): its
 * value must follow '=', and "--wait 5" leaves 5 as an operand. */
static int
optional_value(const struct option *longopts, const char *arg)
{
	size_t	 i;

	if (longopts == NULL || strncmp(arg, "--", 2) != 0)
		return 0;
	for (i = 0; longopts[i].name != NULL; i++)
		if (strcmp(arg + 2, longopts[i].name) == 0)
			return longopts[i].has_arg == optional_argument;
	return 0;
}

int
cmd_getopt(int argc, char **argv, const char *optstring,
    const struct option *longopts, const char **file)
{
	static const struct option	 none[] = { { NULL, 0, NULL, 0 } };
	int				 ch;

	for (;;) {
		ch = getopt_long(argc, argv, optstring,
		    longopts != NULL ? longopts : none, NULL);
		if (ch != 'c')
			break;
		*file = optarg;
	}
	/* No subcommand takes operands: one is bad usage, said. */
	if (ch == -1 && optind != argc) {
		fprintf(stderr, "s3inval: unexpected argument '%s'%s\n",
		    argv[optind], optind > 1 && optional_value(longopts,
		    argv[optind - 1]) ? " (this option's value goes after "
		    "'=': --option=VALUE)" : "");
		return '?';
	}
	return ch;
}

int
cmd_load_cfg(const char *file, struct cfg **cfg)
{
	int	 n;

	n = cfg_load(cfg_path(file), environ, stderr, cfg);
	if (n > 0) {
		fprintf(stderr, "s3inval: %d error%s in the configuration\n",
		    n, n == 1 ? "" : "s");
		return -1;
	}
	return 0;
}
