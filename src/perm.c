/* SPDX-License-Identifier: Apache-2.0 */
/* perm: see perm.h. */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perm.h"

int
perm_others_may_write(const char *what, const char *path, int is_dir,
    char *buf, size_t size)
{
	struct stat	 st;
	char		 dir[PATH_MAX];
	const char	*slash;

	if (stat(path, &st) == -1 ||
	    (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
		return 0;
	if (st.st_mode & S_IWOTH) {
		snprintf(buf, size, "%s %s is writable by others (mode %04o)",
		    what, path, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	if (is_dir)
		return 0;
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (stat(dir, &st) == -1 || !(st.st_mode & S_IWOTH) ||
	    (st.st_mode & S_ISVTX))
		return 0;
	snprintf(buf, size, "%s %s is in %s, which others may write (mode "
	    "%04o, not sticky): they may replace it", what, path, dir,
	    (unsigned)(st.st_mode & 07777));
	return 1;
}

/* An environment variable that is set and not empty, or NULL (as the
 * credentials chain reads them). */
static const char *
env_val(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
perm_check(const struct cfg *cfg, perm_warn_fn *warn, void *arg)
{
	/* Where the AWS SDKs look (credentials.h), and what each holds. */
	static const struct {
		const char	*var;
		const char	*home_path;
		const char	*what;
	} aws[] = {
		{ "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials",
		    "AWS credentials file" },
		{ "AWS_CONFIG_FILE", ".aws/config", "AWS config file" },
	};
	char		 msg[PATH_MAX * 2 + 200], path[PATH_MAX];
	const char	*p, *home;
	size_t		 i;

	if (cfg->path != NULL && perm_others_may_write("configuration file",
	    cfg->path, 0, msg, sizeof(msg)))
		warn(arg, msg);
	if (perm_others_may_write("server.state_dir", cfg->server.state_dir,
	    1, msg, sizeof(msg))) {
		/* The journal: what was acknowledged but not invalidated. */
		strncat(msg, ": they may change the journal (fine for a volume "
		    "of its own, as a Kubernetes emptyDir)",
		    sizeof(msg) - strlen(msg) - 1);
		warn(arg, msg);
	}
	home = env_val("HOME");
	for (i = 0; i < sizeof(aws) / sizeof(aws[0]); i++) {
		p = env_val(aws[i].var);
		if (p == NULL && home != NULL) {
			snprintf(path, sizeof(path), "%s/%s", home,
			    aws[i].home_path);
			p = path;
		}
		if (p != NULL && perm_others_may_write(aws[i].what, p, 0, msg,
		    sizeof(msg)))
			warn(arg, msg);
	}
}
