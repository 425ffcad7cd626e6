/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_check: s3inval check-config [--online] (DESIGN §9).  Problems are
 * errors (exit 2); what others may write (perm.h) is a warning on stderr,
 * as at start.  Without --online the effective configuration is printed;
 * with it, one line per live check (check_online.h) instead, and the exit
 * status is 1 when one failed.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cfg.h"
#include "check_online.h"
#include "cmd.h"
#include "log.h"
#include "perm.h"

extern char **environ;

struct tally {
	unsigned	 n[CHECK_SKIP + 1];
};

static void
warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "s3inval: warning: %s\n", msg);
}

static void
print_check(void *arg, enum check_level lv, const char *line)
{
	struct tally	*t = arg;

	t->n[lv]++;
	printf("%-4s %s\n", check_level_name(lv), line);
	fflush(stdout);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: s3inval check-config [-c FILE] [--online]\n"
	    "  --online  also check the live world: state_dir, the listen "
	    "addresses,\n"
	    "            the upstream credentials, buckets and clock, the "
	    "distributions\n"
	    "            (exit 0 good, 1 a check failed, 2 configuration "
	    "error)\n");
}

int
cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "online", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg	*cfg = NULL;
	struct tally	 t = { { 0 } };
	const char	*file = NULL;
	int		 ch, online = 0, failed;

	optind = 1;
	while ((ch = cmd_getopt(argc, argv, "c:", longopts, &file)) != -1) {
		switch (ch) {
		case 'o':
			online = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cmd_load_cfg(file, &cfg) == -1)
		return 2;
	perm_check(cfg, warn_stderr, NULL);
	if (!online) {
		cfg_print(cfg, stdout);
		cfg_free(cfg);
		return 0;
	}
	/* What the modules log on the way (the credential source, at info)
	 * is in the lines already; their warnings and errors still show. */
	log_init(0, LOG_WARN, NULL);
	failed = check_online_run(cfg, environ, print_check, &t);
	printf("%s: %u ok, %u warning%s, %u failed, %u not checked\n",
	    cfg->path != NULL ? cfg->path : "(environment)", t.n[CHECK_OK],
	    t.n[CHECK_WARN], t.n[CHECK_WARN] == 1 ? "" : "s",
	    t.n[CHECK_FAIL], t.n[CHECK_SKIP]);
	cfg_free(cfg);
	return failed > 0 ? 1 : 0;
}
