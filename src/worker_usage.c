/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_usage: what this calendar month (UTC) has cost, per distribution
 * (DESIGN §6, "Cost awareness"): the paths CloudFront accepted, kept in
 * state_dir/usage so a restart does not forget them.  What they cost is
 * worker_policy's.
 *
 * Threading: the counts live in the shared per-distribution state, so
 * every function here runs with worker.mtx held, but worker_usage_read(),
 * which reads the file for `s3inval plan` and touches no state.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "date.h"
#include "log.h"
#include "state_file.h"
#include "worker_state.h"
#include "worker_usage.h"

#define USAGE_FILE		"usage"
#define USAGE_ID_MAX		128
/* A month's paths: far past what any account submits. */
#define USAGE_PATHS_MAX		UINT64_C(1000000000000)
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

/*
 * One line as worker_usage_save() writes it: "yyyymm id paths", single
 * spaces, decimal digits only, paths at most USAGE_PATHS_MAX.  Anything
 * else is damage (-1): a count read from a torn or edited file is never
 * taken for a smaller or a wrapped one.
 */
static int
usage_line(const char *line, int *month, char *id, uint64_t *n)
{
	const char	*p = line, *sp;
	size_t		 len;

	*month = date_digits(p, 6);
	if (*month < 0 || p[6] != ' ')
		return -1;
	p += 7;
	sp = strchr(p, ' ');
	if (sp == NULL || sp == p || (len = (size_t)(sp - p)) > USAGE_ID_MAX)
		return -1;
	memcpy(id, p, len);
	id[len] = '\0';
	p = sp + 1;
	if (*p == '\0')
		return -1;
	for (*n = 0; *p >= '0' && *p <= '9'; p++) {
		*n = *n * 10 + (uint64_t)(*p - '0');
		if (*n > USAGE_PATHS_MAX)
			return -1;
	}
	return *p == '\0' ? 0 : -1;
}

/*
 * Read state_dir/usage and call fn for each line of month (yyyymm).
 * Returns 0, or -1 with errno set when the file cannot be read (ENOENT:
 * there is none).
 */
static int
usage_each(const char *state_dir, int month,
    void (*fn)(void *, const char *id, uint64_t n), void *arg)
{
	char		*text, *line, *save = NULL, id[USAGE_ID_MAX + 1];
	uint64_t	 n;
	int		 m, err;

	text = malloc(USAGE_MAX);
	if (text == NULL)
		return -1;
	if (state_file_read(state_dir, USAGE_FILE, text, USAGE_MAX) == -1) {
		err = errno;
		free(text);
		errno = err;
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (usage_line(line, &m, id, &n) == -1) {
			free(text);
			errno = EINVAL;
			return -1;
		}
		if (m == month)
			fn(arg, id, (uint64_t)n);
	}
	free(text);
	return 0;
}

static void
load_one(void *arg, const char *id, uint64_t n)
{
	struct dist	*d;

	(void)arg;
	d = worker_dist_get(id);
	if (d != NULL)
		d->month_paths = n;
}

void
worker_usage_load(void)
{
	state_file_clean(worker.cfg->server.state_dir, USAGE_FILE);
	if (usage_each(worker.cfg->server.state_dir, worker.month,
	    load_one, NULL) == -1 && errno != ENOENT)
		log_event(LOG_WARN, "usage_unreadable", (struct log_field[]){
		    LOG_STR("file", USAGE_FILE),
		    LOG_STR("reason", errno == EINVAL ? "a damaged line: this "
		    "month's paths count from 0 again" : strerror(errno)) }, 2);
}

static void
add_one(void *arg, const char *id, uint64_t n)
{
	(void)id;
	*(uint64_t *)arg += n;
}

int
worker_usage_read(const char *state_dir, uint64_t *month_paths, char *why,
    size_t whysz)
{
	*month_paths = 0;
	if (usage_each(state_dir, worker_this_month(), add_one,
	    month_paths) == 0)
		return 0;
	snprintf(why, whysz, "%s/%s: %s", state_dir, USAGE_FILE,
	    errno == EINVAL ? "a damaged line (not \"yyyymm distribution "
	    "paths\")" : strerror(errno));
	*month_paths = 0;
	return -1;
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
