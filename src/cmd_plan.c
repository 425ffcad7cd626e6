/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_plan: s3inval plan [--json], a dry run of the worker's planning
 * (DESIGN §6): keys on stdin, the paths it would submit per distribution.
 *
 * Cost (issue 11: "$0.010 beyond the free tier" was printed while inside
 * it): CloudFront bills invalidation paths past the account's first 1,000
 * of a calendar month (cloudfront.monthly_free_paths), $0.005 each.  What
 * this plan costs depends on what the month used so far: the daemon keeps
 * its count per distribution in state_dir/usage ("yyyymm distribution
 * paths" lines, inval_worker.c).  When that file is readable the cost is
 * exact for this daemon's paths; when not, plan says it cannot know and
 * gives both ends (free within the tier, and the price past it).
 * Invalidations made by other tools in the same account are never known.
 *
 * Text and --json carry the same figures; JSON is written by jansson,
 * strings through jstr.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg.h"
#include "cmd.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_plan.h"
#include "inval_worker.h"
#include "jstr.h"
#include "worker_plan.h"
#include "worker_policy.h"
#include "worker_usage.h"

#define PLAN_USD_PER_PATH	CF_PRICE_PER_PATH

/* This month's paths so far, from the daemon's state. */
struct usage {
	int		 known;
	uint64_t	 used;
	char		 path[PATH_MAX];
	char		 why[PATH_MAX + 300];	/* when not known */
};

/* One distribution's plan and what it costs: the worker's planning,
 * worker_plan_keys(), on the keys read. */
struct dist_plan {
	const char		*id;		/* NULL: none configured */
	size_t			 n_paths;	/* mapped, before planning */
	struct inval_plan_result res;
	size_t			 n_known;	/* index: objects known */
	uint64_t		 billable;	/* when usage is known */
	struct worker_plan_out	 out;
};

/* This month's paths so far, as the daemon on state_dir saved them. */
static void
usage_read(const char *state_dir, struct usage *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->path, sizeof(u->path), "%s/usage", state_dir);
	u->known = worker_usage_read(state_dir, &u->used, u->why,
	    sizeof(u->why)) == 0;
}

static void
print_text(const struct cfg *cfg, const struct dist_plan *dp, size_t nd,
    size_t n_keys, const struct usage *u)
{
	uint64_t	 used = u->used, n;
	unsigned	 fp = cfg->cloudfront.monthly_free_paths;
	size_t		 i, k;

	for (i = 0; i < nd; i++) {
		n = dp[i].res.paths.n;
		if (dp[i].id != NULL)
			printf("# distribution %s: ", dp[i].id);
		else
			printf("# no distribution configured, nothing would be "
			    "sent; as if there were one: ");
		printf("%zu key%s, %zu path%s -> %zu to submit (%zu exact, "
		    "%zu wildcard)", n_keys, n_keys == 1 ? "" : "s",
		    dp[i].n_paths, dp[i].n_paths == 1 ? "" : "s",
		    dp[i].res.paths.n, dp[i].res.n_exact,
		    dp[i].res.n_wildcards);
		if (dp[i].n_known > 0)
			printf(", %zu unchanged objects evicted of %zu known "
			    "(budget %s, eviction weight %g)",
			    dp[i].res.n_evicted, dp[i].n_known,
			    worker_budget_name(dp[i].out.budget),
			    dp[i].out.eviction_weight);
		else
			printf(", no index: threshold rule (budget %s)",
			    worker_budget_name(dp[i].out.budget));
		if (u->known) {
			printf("; %" PRIu64 " of them billable: $%.3f (this "
			    "month %" PRIu64 " of its %u free paths used "
			    "before them, per %s)\n", dp[i].billable,
			    (double)dp[i].billable * PLAN_USD_PER_PATH, used,
			    fp, u->path);
			used += n;
		} else
			printf("; $0.000 while this month stays within its %u "
			    "free paths, $%.3f past them (this month's usage "
			    "is unknown: %s)\n", fp, (double)n *
			    PLAN_USD_PER_PATH, u->why);
		for (k = 0; k < dp[i].res.paths.n; k++)
			printf("%s\n", dp[i].res.paths.v[k]);
	}
}

/* obj[key] = v (taken); -1 when v is NULL or refused. */
static int
put(json_t *obj, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(obj, key, v) == -1 ? -1 : 0;
}

static json_t *
json_dist(const struct dist_plan *p, const struct usage *u)
{
	json_t	*o = json_object(), *a = json_array(), *ix = NULL;
	size_t	 k;
	int	 bad = o == NULL || a == NULL;

	for (k = 0; k < p->res.paths.n && !bad; k++)
		bad = json_array_append_new(a, jstr_new(p->res.paths.v[k])) ==
		    -1;
	if (p->n_known > 0) {
		ix = json_object();
		bad = bad || ix == NULL ||
		    put(ix, "known_objects", json_integer(
		    (json_int_t)p->n_known)) == -1 ||
		    put(ix, "evicted", json_integer(
		    (json_int_t)p->res.n_evicted)) == -1;
	} else
		ix = json_null();
	bad = bad || put(o, "distribution", p->id != NULL ? jstr_new(p->id) :
	    json_null()) == -1;
	bad = bad || put(o, "budget", jstr_new(worker_budget_name(
	    p->out.budget))) == -1;
	bad = bad || put(o, "paths_mapped",
	    json_integer((json_int_t)p->n_paths)) == -1;
	bad = bad || put(o, "submit", json_incref(a)) == -1;
	bad = bad || put(o, "exact",
	    json_integer((json_int_t)p->res.n_exact)) == -1;
	bad = bad || put(o, "wildcards",
	    json_integer((json_int_t)p->res.n_wildcards)) == -1;
	bad = bad || put(o, "index", json_incref(ix)) == -1;
	bad = bad || put(o, "billable_paths", u->known ?
	    json_integer((json_int_t)p->billable) : json_null()) == -1;
	bad = bad || put(o, "cost_usd", u->known ? json_real(
	    (double)p->billable * PLAN_USD_PER_PATH) : json_null()) == -1;
	bad = bad || put(o, "cost_usd_past_free_tier", json_real(
	    (double)p->res.paths.n * PLAN_USD_PER_PATH)) == -1;
	json_decref(a);
	json_decref(ix);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
print_json(const struct cfg *cfg, const struct cfg_bucket *bk,
    const struct dist_plan *dp, size_t nd, size_t n_keys,
    const struct usage *u)
{
	json_t		*o = json_object(), *m = json_object();
	json_t		*a = json_array(), *d;
	uint64_t	 total = 0;
	char		*text = NULL;
	size_t		 i;
	int		 bad = o == NULL || m == NULL || a == NULL;

	for (i = 0; i < nd && !bad; i++) {
		d = json_dist(&dp[i], u);
		bad = d == NULL || json_array_append_new(a, d) == -1;
		total += dp[i].billable;
	}
	bad = bad || put(m, "known", json_boolean(u->known)) == -1;
	bad = bad || put(m, "paths_used", u->known ?
	    json_integer((json_int_t)u->used) : json_null()) == -1;
	bad = bad || put(m, "free_paths", json_integer(
	    (json_int_t)cfg->cloudfront.monthly_free_paths)) == -1;
	bad = bad || put(m, "usage_file", jstr_new(u->path)) == -1;
	bad = bad || put(m, "unknown_because", u->known ? json_null() :
	    jstr_new(u->why)) == -1;
	bad = bad || put(o, "bucket", jstr_new(bk->name)) == -1;
	bad = bad || put(o, "keys", json_integer((json_int_t)n_keys)) == -1;
	bad = bad || put(o, "usd_per_path", json_real(PLAN_USD_PER_PATH)) ==
	    -1;
	bad = bad || put(o, "month", json_incref(m)) == -1;
	bad = bad || put(o, "distributions", json_incref(a)) == -1;
	bad = bad || put(o, "billable_paths", u->known ?
	    json_integer((json_int_t)total) : json_null()) == -1;
	bad = bad || put(o, "cost_usd", u->known ?
	    json_real((double)total * PLAN_USD_PER_PATH) : json_null()) == -1;
	if (!bad)
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(12));
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(a);
	json_decref(m);
	json_decref(o);
	return text != NULL ? 0 : -1;
}

/* The bucket to plan for: --bucket NAME, else the one configured. */
static const struct cfg_bucket *
pick_bucket(const struct cfg *cfg, const char *name)
{
	const struct cfg_bucket	*bk = NULL;
	size_t			 i;

	if (name != NULL)
		bk = cfg_bucket_find(cfg, name);
	else
		for (i = 0; i < cfg->n_buckets; i++) {
			if (strcmp(cfg->buckets[i].name, "*") == 0)
				continue;
			if (bk != NULL) {
				fprintf(stderr, "s3inval plan: several "
				    "buckets: name one with --bucket\n");
				return NULL;
			}
			bk = &cfg->buckets[i];
		}
	if (bk == NULL)
		fprintf(stderr, "s3inval plan: no such bucket in the "
		    "configuration\n");
	return bk;
}

/* s3inval plan [-c FILE] [--bucket NAME] [--json]: the worker's mapping
 * and planning on keys from stdin, a dry run. */
int
cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bucket", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg		*cfg = NULL;
	const struct cfg_bucket	*bk = NULL;
	struct worker_plan_in	 in;
	struct dist_plan	*dp = NULL;
	struct usage		 u;
	struct strvec		 keys;
	struct etag_index	*idx = NULL;
	const char		*file = NULL, *name = NULL;
	char			*line = NULL;
	size_t			 cap = 0, i, nd = 0, done = 0;
	ssize_t			 n;
	int			 ch, rc = 2, json = 0;

	strvec_init(&keys);
	optind = 1;
	while ((ch = cmd_getopt(argc, argv, "c:", longopts, &file)) != -1) {
		switch (ch) {
		case 'b':
			name = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			fprintf(ch == 'h' ? stdout : stderr, "usage: s3inval "
			    "plan [-c FILE] [--bucket NAME] [--json] < keys\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (cmd_load_cfg(file, &cfg) == -1)
		return 2;
	bk = pick_bucket(cfg, name);
	if (bk == NULL)
		goto out;
	while ((n = getline(&line, &cap, stdin)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0 && strvec_push(&keys, line) == -1)
			goto out;
	}
	usage_read(cfg->server.state_dir, &u);
	/* The index the daemon saved, if any: what wildcards would evict. */
	idx = etag_index_open(cfg->server.state_dir, 0);
	nd = bk->n_distributions > 0 ? bk->n_distributions : 1;
	dp = calloc(nd, sizeof(*dp));
	if (dp == NULL)
		goto out;
	memset(&in, 0, sizeof(in));
	in.cfg = cfg;
	in.index = idx;
	in.month_paths = u.used;
	for (i = 0; i < nd; i++, done++) {
		dp[i].id = bk->n_distributions > 0 ? bk->distributions[i] :
		    NULL;
		in.dist = dp[i].id;
		/* In order, as the daemon would submit them. */
		if (worker_plan_keys(&in, bk, (const char *const *)keys.v,
		    keys.n, &dp[i].out) == -1) {
			done++;
			goto out;
		}
		dp[i].res = dp[i].out.plan;
		dp[i].n_paths = dp[i].out.n_changed;
		dp[i].n_known = dp[i].out.n_known;
		dp[i].billable = dp[i].out.billable;
		in.month_paths = dp[i].out.month_paths;
	}
	if (json)
		rc = print_json(cfg, bk, dp, nd, keys.n, &u) == 0 ? 0 : 2;
	else {
		print_text(cfg, dp, nd, keys.n, &u);
		rc = 0;
	}
out:
	for (i = 0; i < done; i++)
		worker_plan_out_fini(&dp[i].out);
	free(dp);
	etag_index_close(idx);
	free(line);
	strvec_fini(&keys);
	cfg_free(cfg);
	return rc;
}
