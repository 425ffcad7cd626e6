/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_bench: the planner (src/inval_plan*.c) on the keys of a synthetic
 * static site, for bench/plan_bench.sh.  Not a test: it prints figures.
 *
 *   plan_bench gen N FILE       write N keys of a synthetic site to FILE,
 *                               one a line, shuffled (the order a deploy
 *                               or a listing does not promise)
 *   plan_bench sort FILE [R]    run "sort -u FILE" (LC_ALL=C: byte order,
 *                               the planner's) R times (default 3)
 *   plan_bench run FILE [R]     read the keys, map them to CloudFront paths
 *                               (inval_map, index document "index.html"),
 *                               and time inval_plan() on them, R times each
 *
 * Each measurement prints one line, "name wall cpu detail...": the best
 * wall time of the R runs (CLOCK_MONOTONIC) and that run's CPU time (the
 * process's, or sort's user + system from wait4(); GNU sort may use
 * several threads).  Only inval_plan() itself is timed; reading and
 * mapping the keys is the line "map".  The site: a blog with a folder per post
 * (index.html and its images) under year and month folders, tag pages,
 * versioned docs, and static assets; about 35% of the paths are folders'
 * own paths ("/blog/2019/01/post-7/") from index documents.  The same N
 * gives the same keys.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inval_map.h"
#include "inval_plan.h"

#define KEY_MAX		256

/* splitmix64: seeded, the same everywhere. */
static uint64_t
rnd(uint64_t *st)
{
	uint64_t	 z;

	*st += 0x9e3779b97f4a7c15ULL;
	z = *st;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
clock_secs(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_secs(CLOCK_MONOTONIC);
}

static double
cpu(void)
{
	return clock_secs(CLOCK_PROCESS_CPUTIME_ID);
}

static void
die(const char *msg)
{
	fprintf(stderr, "plan_bench: %s\n", msg);
	exit(1);
}

static void
push_key(struct strvec *sv, const char *s)
{
	if (strvec_push(sv, s) == -1)
		die("out of memory");
}

/* n keys of the site, in the order generated. */
static void
site(size_t n, struct strvec *keys)
{
	static const char *const sections[] = {
		"guide", "api", "howto", "faq", "reference", "tutorial"
	};
	uint64_t	 st = 20190109;
	char		 k[KEY_MAX];
	size_t		 post = 0, page = 0, asset = 0, tag = 0, i, imgs;
	unsigned	 r;

	push_key(keys, "index.html");
	push_key(keys, "rss.xml");
	push_key(keys, "sitemap.xml");
	push_key(keys, "404.html");
	while (keys->n < n) {
		r = (unsigned)(rnd(&st) % 100);
		if (r < 60) {
			/* A post: its page and 0 to 4 images. */
			(void)snprintf(k, sizeof(k),
			    "blog/%zu/%02zu/post-%zu/index.html",
			    2005 + post / 12000 % 20, 1 + post / 1000 % 12,
			    post);
			push_key(keys, k);
			imgs = (size_t)(rnd(&st) % 5);
			for (i = 0; i < imgs && keys->n < n; i++) {
				(void)snprintf(k, sizeof(k),
				    "blog/%zu/%02zu/post-%zu/img-%zu.jpg",
				    2005 + post / 12000 % 20,
				    1 + post / 1000 % 12, post, i);
				push_key(keys, k);
			}
			post++;
		} else if (r < 61) {
			(void)snprintf(k, sizeof(k), "tags/tag-%zu/index.html",
			    tag++);
			push_key(keys, k);
		} else if (r < 80) {
			(void)snprintf(k, sizeof(k), "docs/v%zu/%s/page-%zu.html",
			    1 + page % 12, sections[page / 12 % 6], page);
			push_key(keys, k);
			page++;
		} else {
			(void)snprintf(k, sizeof(k), "static/%s/%02zx/%06zx.%s",
			    asset % 3 == 0 ? "css" : "img", asset % 256, asset,
			    asset % 3 == 0 ? "css" : "png");
			push_key(keys, k);
			asset++;
		}
	}
}

static int
gen(size_t n, const char *file)
{
	struct strvec	 keys;
	FILE		*fp;
	uint64_t	 st = 7919;
	char		*tmp;
	size_t		 i, j;

	strvec_init(&keys);
	site(n, &keys);
	for (i = keys.n; i > 1; i--) {
		j = (size_t)(rnd(&st) % i);
		tmp = keys.v[i - 1];
		keys.v[i - 1] = keys.v[j];
		keys.v[j] = tmp;
	}
	fp = fopen(file, "w");
	if (fp == NULL)
		die("cannot write the keys file");
	for (i = 0; i < keys.n; i++)
		fprintf(fp, "%s\n", keys.v[i]);
	if (fclose(fp) != 0)
		die("cannot write the keys file");
	strvec_fini(&keys);
	return 0;
}

static void
read_keys(const char *file, struct strvec *keys)
{
	FILE	*fp;
	char	 line[KEY_MAX + 2];
	size_t	 len;

	fp = fopen(file, "r");
	if (fp == NULL)
		die("cannot read the keys file");
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > 0)
			push_key(keys, line);
	}
	fclose(fp);
}

static int
cmp_str(const void *a, const void *b)
{
	const char *const	*sa = a, *const *sb = b;

	return strcmp(*sa, *sb);
}

static double
tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* sort -u file > /dev/null, LC_ALL=C, best of repeat. */
static int
sort_keys(const char *file, int repeat)
{
	struct rusage	 ru;
	double		 t0, wall, best = -1, best_cpu = 0;
	pid_t		 pid;
	int		 i, status;

	for (i = 0; i < repeat; i++) {
		t0 = now();
		pid = fork();
		if (pid == -1)
			die("fork");
		if (pid == 0) {
			if (setenv("LC_ALL", "C", 1) == -1 ||
			    freopen("/dev/null", "w", stdout) == NULL)
				_exit(127);
			execlp("sort", "sort", "-u", file, (char *)NULL);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("sort failed");
		wall = now() - t0;
		if (best < 0 || wall < best) {
			best = wall;
			best_cpu = tv_secs(&ru.ru_utime) + tv_secs(&ru.ru_stime);
		}
	}
	printf("sort %.3f %.3f repeat=%d\n", best, best_cpu, repeat);
	return 0;
}

/* Time one plan, best of repeat, and print it. */
static void
measure(const char *name, const struct inval_plan_params *par,
    const struct strvec *paths, int repeat)
{
	struct inval_plan_result	 res;
	double				 t0, c0, wall, best = -1, best_cpu = 0;
	int				 i;

	for (i = 0; i < repeat; i++) {
		t0 = now();
		c0 = cpu();
		if (inval_plan(par, (const char *const *)paths->v, paths->n,
		    &res) == -1)
			die("inval_plan: out of memory");
		wall = now() - t0;
		if (best < 0 || wall < best) {
			best = wall;
			best_cpu = cpu() - c0;
		}
		if (i + 1 < repeat)
			inval_plan_fini(&res);
	}
	printf("%s %.3f %.3f changed=%zu paths=%zu wildcards=%zu "
	    "evicted=%zu\n", name, best, best_cpu, paths->n, res.paths.n,
	    res.n_wildcards, res.n_evicted);
	fflush(stdout);
	inval_plan_fini(&res);
}

static int
run(const char *file, int repeat)
{
	static const char *const index_docs[] = { "index.html" };
	struct inval_map_cfg		 mc;
	struct inval_plan_params	 par;
	struct strvec			 keys, paths, some;
	const char			**kv;
	double				 t0, c0;
	size_t				 i, j;

	strvec_init(&keys);
	strvec_init(&paths);
	strvec_init(&some);
	read_keys(file, &keys);
	memset(&mc, 0, sizeof(mc));
	mc.origin_path = "";
	mc.index_documents = index_docs;
	mc.n_index_documents = 1;

	t0 = now();
	c0 = cpu();
	for (i = 0; i < keys.n; i++)
		if (inval_map_key(&mc, keys.v[i], &paths, NULL) == -1)
			die("inval_map_key: out of memory");
	printf("map %.3f %.3f keys=%zu paths=%zu\n", now() - t0, cpu() - c0,
	    keys.n, paths.n);

	/* Threshold rule: every key changed (a full deploy). */
	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	measure("threshold", &par, &paths, repeat);
	par.max_paths = 3000;
	par.max_wildcards = 15;
	measure("threshold_limits", &par, &paths, repeat);

	/*
	 * Cost-aware: the site's paths are known (sorted once, as the
	 * caller keeps them); one key in ten changed, chosen by hash.
	 */
	kv = malloc((paths.n > 0 ? paths.n : 1) * sizeof(*kv));
	if (kv == NULL)
		die("out of memory");
	memcpy(kv, paths.v, paths.n * sizeof(*kv));
	qsort(kv, paths.n, sizeof(*kv), cmp_str);
	for (i = j = 0; i < paths.n; i++)
		if (j == 0 || strcmp(kv[i], kv[j - 1]) != 0)
			kv[j++] = kv[i];
	for (i = 0; i < keys.n; i++)
		if ((i * 2654435761u >> 7) % 10 == 3 &&
		    inval_map_key(&mc, keys.v[i], &some, NULL) == -1)
			die("inval_map_key: out of memory");

	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	par.known = kv;
	par.n_known = j;
	par.eviction_weight = 1;
	measure("dp_all", &par, &paths, repeat);
	measure("dp_10pct", &par, &some, repeat);
	par.max_wildcards = 15;
	measure("dp_10pct_15w", &par, &some, repeat);
	par.max_paths = 3000;
	measure("dp_10pct_3000p_15w", &par, &some, repeat);

	free(kv);
	strvec_fini(&some);
	strvec_fini(&paths);
	strvec_fini(&keys);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen((size_t)strtoull(argv[2], NULL, 10), argv[3]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "sort") == 0)
		return sort_keys(argv[2], argc == 4 ? atoi(argv[3]) : 3);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "run") == 0)
		return run(argv[2], argc == 4 ? atoi(argv[3]) : 3);
	fprintf(stderr, "usage: plan_bench gen N FILE | plan_bench sort FILE "
	    "[R] | plan_bench run FILE [R]\n");
	return 2;
}
