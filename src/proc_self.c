/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc_self: see proc_self.h.  Field numbers are proc(5)'s, counted from
 * 1 (pid) in /proc/self/stat.
 */
#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_self.h"

int
proc_self_parse_stat(const char *line, long ticks, long page,
    uint64_t boot_time, struct proc_self *ps)
{
	unsigned long long	 utime, stime, start, vsize, rss;
	const char		*p;

	/* The command name (field 2) is in parentheses and may hold any
	 * byte, ')' and spaces too: the fields go on after the last ')'. */
	p = strrchr(line, ')');
	if (p == NULL || ticks <= 0 || page <= 0)
		return -1;
	/* Field 3 (state) on; 14 utime, 15 stime, 22 starttime, 23 vsize,
	 * 24 rss. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %llu", &utime,
	    &stime, &start, &vsize, &rss) != 5)
		return -1;
	ps->cpu_seconds = (double)(utime + stime) / (double)ticks;
	ps->start_time = (double)boot_time + (double)start / (double)ticks;
	ps->virtual_bytes = vsize;
	ps->resident_bytes = (uint64_t)rss * (uint64_t)page;
	return 0;
}

/* /proc/stat's "btime": when the machine booted, Unix seconds. */
static int
boot_time(uint64_t *bt)
{
	FILE	*f;
	char	 line[256];
	int	 rc = -1;

	f = fopen("/proc/stat", "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %" SCNu64, bt) == 1) {
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* Entries of /proc/self/fd, less the one reading it holds. */
static int
open_fds(uint64_t *n)
{
	DIR		*d;
	struct dirent	*e;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	*n = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			(*n)++;
	closedir(d);
	return 0;
}

int
proc_self_read(struct proc_self *ps)
{
	struct rlimit	 rl;
	FILE		*f;
	char		 line[1024];
	uint64_t	 bt;
	int		 ok;

	memset(ps, 0, sizeof(*ps));
	f = fopen("/proc/self/stat", "re");
	if (f == NULL)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok || boot_time(&bt) == -1 || proc_self_parse_stat(line,
	    sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), bt, ps) == -1 ||
	    open_fds(&ps->open_fds) == -1 ||
	    getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	ps->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    (uint64_t)rl.rlim_cur;
	return 0;
}
