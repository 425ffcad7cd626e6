/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_check: s3inval check-config (DESIGN §9).  Problems are errors (exit
 * 2); what others may write (perm.h) is a warning on stderr, as at start.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "cfg.h"
#include "cmd.h"
#include "perm.h"

extern char **environ;

static void
warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "s3inval: warning: %s\n", msg);
}

int
cmd_check_config(int argc, char **argv)
{
	struct cfg	*cfg = NULL;
	const char	*file = NULL;
	int		 ch, n;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		default:
			fprintf(stderr, "usage: s3inval check-config [-c FILE]\n");
			return 2;
		}
	}
	n = cfg_load(cfg_path(file), environ, stderr, &cfg);
	if (n > 0) {
		fprintf(stderr, "s3inval: %d error%s in the configuration\n",
		    n, n == 1 ? "" : "s");
		return 2;
	}
	perm_check(cfg, warn_stderr, NULL);
	cfg_print(cfg, stdout);
	cfg_free(cfg);
	return 0;
}
