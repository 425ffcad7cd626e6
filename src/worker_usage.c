/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_usage: what this calendar month (UTC) has cost, per distribution
 * (DESIGN §6, "Cost awareness"): the paths CloudFront accepted, kept in
 * state_dir/usage so a restart does not forget them.  What they cost is
 * worker_policy's.
 *
 * Threading: the counts live in the shared per-distribution state, so
 * every function here runs with worker.mtx held.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "state_file.h"
#include "worker_state.h"
#include "worker_usage.h"

#define USAGE_FILE		"usage"
#define USAGE_MAX		(1024 * 1024)	/* read at most */

int
worker_this_month(void)
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

/*
 * Paths submitted this month, per distribution, kept in state_dir/usage
 * ("yyyymm distribution count" lines) so a restart does not forget what the
 * month has cost.  Replaced (state_file_write) after each accepted batch.
 * mtx held.
 */
void
worker_usage_save(void)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < worker.n_dists; i++)
		buf_printf(&b, "%d %s %" PRIu64 "\n", worker.month,
		    worker.dists[i].id, worker.dists[i].month_paths);
	if (buf_ok(&b) && state_file_write(worker.cfg->server.state_dir,
	    USAGE_FILE, b.data != NULL ? b.data : "", b.len) == -1)
		log_warn("cannot save %s/%s: %s", worker.cfg->server.state_dir,
		    USAGE_FILE, strerror(errno));
	buf_fini(&b);
}

void
worker_usage_load(void)
{
	char		*text, *line, *save = NULL, id[129];
	struct dist	*d;
	unsigned long long n;
	int		 month;

	state_file_clean(worker.cfg->server.state_dir, USAGE_FILE);
	text = malloc(USAGE_MAX);
	if (text == NULL || state_file_read(worker.cfg->server.state_dir,
	    USAGE_FILE, text, USAGE_MAX) == -1) {
		free(text);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %128s %llu", &month, id, &n) != 3 ||
		    month != worker.month)
			continue;
		d = worker_dist_get(id);
		if (d != NULL)
			d->month_paths = n;
	}
	free(text);
}

uint64_t
worker_month_total(void)
{
	uint64_t	 t = 0;
	size_t		 i;

	for (i = 0; i < worker.n_dists; i++)
		t += worker.dists[i].month_paths;
	return t;
}
