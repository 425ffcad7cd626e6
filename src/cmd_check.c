/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_check: s3inval check-config (DESIGN §9). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "cfg.h"
#include "cmd.h"

extern char **environ;

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
	cfg_print(cfg, stdout);
	cfg_free(cfg);
	return 0;
}
