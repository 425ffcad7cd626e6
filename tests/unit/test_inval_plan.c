/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_inval_plan: the planner against the golden files in
 * tests/data/plan (NAME.in: one path a line, an optional first line
 * "# threshold=5 max_wildcards=15 max_paths=0"; NAME.out: the plan), then
 * properties over thousands of random trees, each also checked against a
 * slow, obviously-correct model of the rules written in inval_plan.c, and
 * a run over a million paths.  TOP_SRCDIR (default ".") locates the data.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "inval_map.h"
#include "inval_plan.h"

#define LINE_MAX_LEN	16384
#define MIN_GOLDEN	12

/* --- helpers -------------------------------------------------------- */

static int
is_wildcard(const char *s)
{
	size_t	 len;

	len = strlen(s);
	return len > 0 && s[len - 1] == '*';
}

static int
starts_with(const char *s, const char *pfx)
{
	return strncmp(s, pfx, strlen(pfx)) == 0;
}

static size_t
depth_of(const char *s)
{
	size_t	 d = 0;

	for (; *s != '\0'; s++)
		if (*s == '/')
			d++;
	return d;
}

static int
cmp_deepest(const void *a, const void *b)
{
	const char *const	*sa = a, *const *sb = b;
	size_t			 da, db;

	da = depth_of(*sa);
	db = depth_of(*sb);
	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(*sa, *sb);
}

static void
push(struct strvec *sv, const char *s)
{
	assert_int_equal(strvec_push(sv, s), 0);
}

/* --- the model: the rules of inval_plan.c, the slow way --------------- */

/* Every folder ("...'/'") prefix of the paths of s, deepest first. */
static void
model_folders(const struct strvec *s, struct strvec *f)
{
	char	*p;
	size_t	 i, k;

	strvec_init(f);
	for (i = 0; i < s->n; i++) {
		for (k = 0; s->v[i][k] != '\0'; k++) {
			if (s->v[i][k] != '/')
				continue;
			p = malloc(k + 2);
			assert_non_null(p);
			memcpy(p, s->v[i], k + 1);
			p[k + 1] = '\0';
			assert_int_equal(strvec_push_take(f, p), 0);
		}
	}
	strvec_sort_unique(f);
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), cmp_deepest);
}

/* Paths, and wildcards, of s beneath folder. */
static size_t
model_count(const struct strvec *s, const char *folder, int wild_only)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->n; i++)
		if (starts_with(s->v[i], folder) &&
		    (!wild_only || is_wildcard(s->v[i])))
			n++;
	return n;
}

/*
 * The collapse count of folder: paths directly in it (a file, its own
 * path, a wildcard there) plus its subfolders that collapsed.
 */
static size_t
model_direct(const struct strvec *s, const struct strvec *collapsed,
    const char *folder)
{
	size_t	 i, n = 0, len = strlen(folder), cl;

	for (i = 0; i < s->n; i++)
		if (starts_with(s->v[i], folder) &&
		    strchr(s->v[i] + len, '/') == NULL)
			n++;
	for (i = 0; i < collapsed->n; i++) {
		cl = strlen(collapsed->v[i]);
		/* "folder/sub/": one more segment, ending in '/' */
		if (cl > len && starts_with(collapsed->v[i], folder) &&
		    strchr(collapsed->v[i] + len, '/') ==
		    collapsed->v[i] + cl - 1)
			n++;
	}
	return n;
}

/* Replace everything of s beneath folder by its wildcard. */
static void
model_merge(struct strvec *s, const char *folder)
{
	char	*w;
	size_t	 i, j, len;

	j = 0;
	for (i = 0; i < s->n; i++) {
		if (starts_with(s->v[i], folder))
			free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->n = j;
	len = strlen(folder);
	w = malloc(len + 2);
	assert_non_null(w);
	memcpy(w, folder, len);
	w[len] = '*';
	w[len + 1] = '\0';
	assert_int_equal(strvec_push_take(s, w), 0);
}

static size_t
n_wild(const struct strvec *s)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->n; i++)
		n += is_wildcard(s->v[i]);
	return n;
}

/* One merge for a limit: the deepest folder with two or more. */
static int
model_limit_step(struct strvec *s, int wild_only)
{
	struct strvec	 f;
	size_t		 i;
	int		 done = 0;

	model_folders(s, &f);
	for (i = 0; i < f.n && !done; i++) {
		if (model_count(s, f.v[i], wild_only) >= 2) {
			model_merge(s, f.v[i]);
			done = 1;
		}
	}
	strvec_fini(&f);
	return done;
}

static void
model_plan(const struct inval_plan_params *par, const char *const *in,
    size_t n, struct strvec *out)
{
	struct strvec	 s, f, collapsed;
	size_t		 i, j, t;
	int		 cov;

	t = par->wildcard_threshold < 2 ? 2 : par->wildcard_threshold;
	strvec_init(&s);
	for (i = 0; i < n; i++)
		push(&s, in[i]);
	strvec_sort_unique(&s);

	/* Drop what another input covers. */
	strvec_init(out);
	for (i = 0; i < s.n; i++) {
		cov = 0;
		for (j = 0; j < s.n && !cov; j++)
			cov = j != i && inval_plan_covers(s.v[j], s.v[i]);
		if (!cov)
			push(out, s.v[i]);
	}
	strvec_fini(&s);

	/* Collapse, deepest folders first. */
	model_folders(out, &f);
	strvec_init(&collapsed);
	for (i = 0; i < f.n; i++)
		if (model_direct(out, &collapsed, f.v[i]) >= t) {
			model_merge(out, f.v[i]);
			push(&collapsed, f.v[i]);
		}
	strvec_fini(&collapsed);
	strvec_fini(&f);

	/* The limits: paths, then wildcards. */
	while (par->max_paths > 0 && out->n > par->max_paths)
		if (!model_limit_step(out, 0))
			break;
	while (par->max_wildcards > 0 && n_wild(out) > par->max_wildcards)
		if (!model_limit_step(out, 1))
			break;
	strvec_sort_unique(out);
}

/* --- invariants ------------------------------------------------------ */

/*
 * Check res for input in[0..n): sorted, unique, nothing covered by
 * another output, every input covered, the counts and the limits.  Prints
 * what fails; returns the number of failures.
 */
static int
check_plan(const char *what, const struct inval_plan_params *par,
    const char *const *in, size_t n, const struct inval_plan_result *res)
{
	struct strvec	 dedup;
	size_t		 i, j, nw = 0, cap;
	int		 bad = 0, ok;

	for (i = 0; i < res->paths.n; i++) {
		nw += is_wildcard(res->paths.v[i]);
		if (i > 0 && strcmp(res->paths.v[i - 1],
		    res->paths.v[i]) >= 0) {
			print_error("%s: output not sorted/unique at %s\n",
			    what, res->paths.v[i]);
			bad++;
		}
		for (j = 0; j < res->paths.n; j++) {
			if (j != i && inval_plan_covers(res->paths.v[j],
			    res->paths.v[i])) {
				print_error("%s: output %s covers output %s\n",
				    what, res->paths.v[j], res->paths.v[i]);
				bad++;
			}
		}
	}
	if (nw != res->n_wildcards || res->paths.n - nw != res->n_exact) {
		print_error("%s: counts %zu/%zu, want %zu/%zu\n", what,
		    res->n_wildcards, res->n_exact, nw, res->paths.n - nw);
		bad++;
	}
	for (i = 0; i < n; i++) {
		ok = 0;
		for (j = 0; j < res->paths.n && !ok; j++)
			ok = inval_plan_covers(res->paths.v[j], in[i]);
		if (!ok) {
			print_error("%s: input %s not covered\n", what, in[i]);
			bad++;
		}
	}
	if (par->max_wildcards > 0 && res->n_wildcards > par->max_wildcards) {
		print_error("%s: %zu wildcards > %u\n", what,
		    res->n_wildcards, par->max_wildcards);
		bad++;
	}
	cap = par->max_paths > 1 ? par->max_paths : 1;
	if (par->max_paths > 0 && res->paths.n > cap) {
		print_error("%s: %zu paths > %zu\n", what, res->paths.n, cap);
		bad++;
	}
	strvec_init(&dedup);
	for (i = 0; i < n; i++)
		push(&dedup, in[i]);
	strvec_sort_unique(&dedup);
	if (res->paths.n > dedup.n) {
		print_error("%s: %zu paths from %zu distinct inputs\n", what,
		    res->paths.n, dedup.n);
		bad++;
	}
	strvec_fini(&dedup);
	return bad;
}

static int
same_paths_quiet(const struct strvec *a, const struct strvec *b)
{
	size_t	 i;

	if (a->n != b->n)
		return 1;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 1;
	return 0;
}

static int
same_paths(const char *what, const char *label, const struct strvec *got,
    const struct strvec *want)
{
	size_t	 i;

	if (same_paths_quiet(got, want) == 0)
		return 0;
	print_error("%s: %s differs\n", what, label);
	for (i = 0; i < want->n; i++)
		print_error("  want %s\n", want->v[i]);
	for (i = 0; i < got->n; i++)
		print_error("  got  %s\n", got->v[i]);
	return 1;
}

/* --- golden files ---------------------------------------------------- */

static void
parse_params(const char *line, struct inval_plan_params *par)
{
	const char	*p;

	p = strstr(line, "threshold=");
	if (p != NULL)
		par->wildcard_threshold = (unsigned)strtoul(p + 10, NULL, 10);
	p = strstr(line, "max_wildcards=");
	if (p != NULL)
		par->max_wildcards = (unsigned)strtoul(p + 14, NULL, 10);
	p = strstr(line, "max_paths=");
	if (p != NULL)
		par->max_paths = (unsigned)strtoul(p + 10, NULL, 10);
}

/* One path a line; blank lines skipped; '#' lines are parameters. */
static int
read_lines(const char *file, struct strvec *sv,
    struct inval_plan_params *par)
{
	FILE	*fp;
	char	*line;
	size_t	 len;
	int	 rc = -1;

	line = malloc(LINE_MAX_LEN);
	assert_non_null(line);
	fp = fopen(file, "r");
	if (fp == NULL)
		goto out;
	while (fgets(line, LINE_MAX_LEN, fp) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(fp))
			goto out;	/* longer than LINE_MAX_LEN */
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (line[0] == '#') {
			if (par != NULL)
				parse_params(line, par);
			continue;
		}
		push(sv, line);
	}
	rc = ferror(fp) ? -1 : 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(line);
	return rc;
}

static int
golden_case(const char *dir, const char *name)
{
	struct inval_plan_params	 par;
	struct inval_plan_result	 res;
	struct strvec			 in, want, model, rev;
	struct buf			 file;
	size_t				 i;
	int				 bad = 0;

	par.wildcard_threshold = 5;
	par.max_wildcards = 0;
	par.max_paths = 0;
	strvec_init(&in);
	strvec_init(&want);
	buf_init(&file);
	assert_int_equal(buf_printf(&file, "%s/%s.in", dir, name), 0);
	if (read_lines(buf_str(&file), &in, &par) == -1) {
		print_error("%s: cannot read\n", buf_str(&file));
		buf_fini(&file);
		return 1;
	}
	buf_reset(&file);
	assert_int_equal(buf_printf(&file, "%s/%s.out", dir, name), 0);
	if (read_lines(buf_str(&file), &want, NULL) == -1) {
		print_error("%s: cannot read\n", buf_str(&file));
		buf_fini(&file);
		strvec_fini(&in);
		return 1;
	}
	buf_fini(&file);

	assert_int_equal(inval_plan(&par, (const char *const *)in.v, in.n,
	    &res), 0);
	bad += same_paths(name, "plan", &res.paths, &want);
	bad += check_plan(name, &par, (const char *const *)in.v, in.n, &res);
	inval_plan_fini(&res);

	/* The same in reverse order, and the model, agree. */
	strvec_init(&rev);
	for (i = in.n; i > 0; i--)
		push(&rev, in.v[i - 1]);
	assert_int_equal(inval_plan(&par, (const char *const *)rev.v, rev.n,
	    &res), 0);
	bad += same_paths(name, "plan of the reversed input", &res.paths,
	    &want);
	inval_plan_fini(&res);
	model_plan(&par, (const char *const *)in.v, in.n, &model);
	bad += same_paths(name, "model", &model, &want);

	strvec_fini(&model);
	strvec_fini(&rev);
	strvec_fini(&in);
	strvec_fini(&want);
	return bad;
}

static void
test_golden(void **state)
{
	struct strvec	 names;
	struct buf	 dirb;
	DIR		*d;
	struct dirent	*de;
	const char	*top, *dir;
	char		*name;
	size_t		 i, len;
	int		 bad = 0;

	(void)state;
	top = getenv("TOP_SRCDIR");
	if (top == NULL || *top == '\0')
		top = ".";
	buf_init(&dirb);
	assert_int_equal(buf_printf(&dirb, "%s/tests/data/plan", top), 0);
	dir = buf_str(&dirb);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: cannot open (set TOP_SRCDIR)", dir);
	strvec_init(&names);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 3 || strcmp(de->d_name + len - 3, ".in") != 0)
			continue;
		name = malloc(len - 2);
		assert_non_null(name);
		memcpy(name, de->d_name, len - 3);
		name[len - 3] = '\0';
		assert_int_equal(strvec_push_take(&names, name), 0);
	}
	closedir(d);
	strvec_sort_unique(&names);
	for (i = 0; i < names.n; i++)
		bad += golden_case(dir, names.v[i]);
	if (names.n < MIN_GOLDEN) {
		print_error("%s: %zu cases, want at least %d\n", dir, names.n,
		    MIN_GOLDEN);
		bad++;
	}
	strvec_fini(&names);
	buf_fini(&dirb);
	assert_int_equal(bad, 0);
}

/* --- unit cases ------------------------------------------------------ */

static void
test_covers(void **state)
{
	(void)state;
	assert_true(inval_plan_covers("/a", "/a"));
	assert_false(inval_plan_covers("/a", "/a/"));
	assert_false(inval_plan_covers("/a", "/ab"));
	assert_true(inval_plan_covers("/*", "/"));
	assert_true(inval_plan_covers("/*", "/anything/at/all"));
	assert_true(inval_plan_covers("/a/*", "/a/"));
	assert_true(inval_plan_covers("/a/*", "/a/b/c"));
	assert_true(inval_plan_covers("/a/*", "/a/*"));
	assert_false(inval_plan_covers("/a/*", "/a"));
	assert_false(inval_plan_covers("/a/*", "/ab/c"));
	assert_true(inval_plan_covers("/a/b*", "/a/b"));
	assert_true(inval_plan_covers("/a/b*", "/a/bc"));
	assert_true(inval_plan_covers("/a/b*", "/a/b/c"));
	assert_true(inval_plan_covers("/a/b*", "/a/b/*"));
	assert_false(inval_plan_covers("/a/b*", "/a/c"));
	assert_false(inval_plan_covers("/a/b/*", "/a/b*"));
	assert_false(inval_plan_covers("/a%2A", "/a%2Ab"));
	assert_false(inval_plan_covers("", "/a"));
	assert_true(inval_plan_covers("", ""));
}

static void
test_edges(void **state)
{
	struct inval_plan_params	 par = { 5, 0, 0 };
	struct inval_plan_result	 res;
	const char			*in[4];

	(void)state;
	/* Nothing in, nothing out. */
	assert_int_equal(inval_plan(&par, NULL, 0, &res), 0);
	assert_int_equal(res.paths.n, 0);
	assert_int_equal(res.n_wildcards + res.n_exact, 0);
	inval_plan_fini(&res);
	inval_plan_fini(NULL);

	/* NULL parameters: threshold 5, no limits. */
	in[0] = "/a/1";
	in[1] = "/a/2";
	in[2] = "/a/3";
	in[3] = "/a/4";
	assert_int_equal(inval_plan(NULL, in, 4, &res), 0);
	assert_int_equal(res.paths.n, 4);
	inval_plan_fini(&res);

	/* A threshold below 2 counts as 2. */
	par.wildcard_threshold = 0;
	assert_int_equal(inval_plan(&par, in, 1, &res), 0);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/a/1");
	inval_plan_fini(&res);
	assert_int_equal(inval_plan(&par, in, 2, &res), 0);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/a/*");
	assert_int_equal(res.n_wildcards, 1);
	assert_int_equal(res.n_exact, 0);
	inval_plan_fini(&res);
	in[2] = "/b";
	assert_int_equal(inval_plan(&par, in, 3, &res), 0);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/*");
	assert_int_equal(res.n_wildcards, 1);
	assert_int_equal(res.n_exact, 0);
	inval_plan_fini(&res);

	/* max_paths 1 with one path changes nothing. */
	in[2] = "/a/3";
	par.wildcard_threshold = 5;
	par.max_paths = 1;
	assert_int_equal(inval_plan(&par, in, 1, &res), 0);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/a/1");
	inval_plan_fini(&res);
	assert_int_equal(inval_plan(&par, in, 3, &res), 0);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/a/*");
	inval_plan_fini(&res);

	/* NULL entries are skipped. */
	in[1] = NULL;
	par.max_paths = 0;
	assert_int_equal(inval_plan(&par, in, 3, &res), 0);
	assert_int_equal(res.paths.n, 2);
	inval_plan_fini(&res);
}

/* --- random trees ---------------------------------------------------- */

/* splitmix64: small, seeded, the same on every platform. */
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

static size_t
rnd_below(uint64_t *st, size_t n)
{
	return (size_t)(rnd(st) % n);
}

/*
 * Folder and file names, with bytes that sort below '/' ('!', '$', '%',
 * '-', '.', '(') so that a folder's paths interleave with its neighbours'.
 */
static const char *const folder_names[] = {
	"a", "b", "c", "a-b", "a.b", "a!", "posts", "2018", "x%20y",
	"caf%C3%A9", "$d", "(1)"
};
static const char *const file_names[] = {
	"index.html", "a", "b.html", "c.css", "rss.xml", "a-1", "a.html",
	"%C3%A9.txt", "(2).txt", "!x", "z"
};

#define NFOLDERS	(sizeof(folder_names) / sizeof(folder_names[0]))
#define NFILES		(sizeof(file_names) / sizeof(file_names[0]))

static void
random_path(uint64_t *st, size_t wild_pct, char *out, size_t outsz)
{
	size_t	 depth, i, len, r;

	/* Mostly shallow, sometimes deep. */
	depth = rnd_below(st, 8) == 0 ? rnd_below(st, 7) : rnd_below(st, 4);
	len = 0;
	out[len++] = '/';
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s/",
		    folder_names[rnd_below(st, NFOLDERS)]);
	r = rnd_below(st, 100);
	if (r < 8) {
		/* The folder's own path. */
	} else if (r < 8 + 2 * wild_pct &&
	    (depth > 0 || rnd_below(st, 20) == 0)) {
		out[len++] = '*';	/* a folder wildcard */
	} else if (r < 8 + 3 * wild_pct) {
		/* A wildcard that is not folder-aligned: "/a/b*". */
		len += (size_t)snprintf(out + len, outsz - len, "%.1s*",
		    file_names[rnd_below(st, NFILES)]);
	} else {
		len += (size_t)snprintf(out + len, outsz - len, "%s",
		    file_names[rnd_below(st, NFILES)]);
	}
	out[len] = '\0';
}

static void
random_params(uint64_t *st, struct inval_plan_params *par)
{
	static const unsigned	 thresholds[] = {
		2, 3, 5, 8, 12, 20, 40, 1000, 1000, 1000, 1000, 1000
	};

	par->wildcard_threshold =
	    thresholds[rnd_below(st, sizeof(thresholds) /
	    sizeof(thresholds[0]))];
	par->max_wildcards = rnd_below(st, 3) == 0 ?
	    0 : (unsigned)rnd_below(st, 6);
	par->max_paths = rnd_below(st, 3) == 0 ?
	    0 : 1 + (unsigned)rnd_below(st, 20);
}

static void
test_random_trees(void **state)
{
	struct inval_plan_params	 par, nolim;
	struct inval_plan_result	 res, res2;
	struct strvec			 in, model;
	size_t				 seen_root = 0, seen_collapse = 0;
	size_t				 seen_limits = 0, seen_wild_limit = 0;
	uint64_t			 st = 20190109;
	char				*tmp, path[512], what[64];
	size_t				 tree, n, i, j, wild_pct;
	int				 bad = 0;

	(void)state;
	for (tree = 0; tree < 3000 && bad == 0; tree++) {
		random_params(&st, &par);
		n = rnd_below(&st, 8) == 0 ? rnd_below(&st, 120) + 1 :
		    rnd_below(&st, 30) + 1;
		wild_pct = rnd_below(&st, 4) == 0 ? 6 : 1;
		strvec_init(&in);
		for (i = 0; i < n; i++) {
			if (i > 0 && rnd_below(&st, 10) == 0) {
				push(&in, in.v[rnd_below(&st, i)]);
				continue;
			}
			random_path(&st, wild_pct, path, sizeof(path));
			push(&in, path);
		}
		(void)snprintf(what, sizeof(what), "tree %zu", tree);

		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res), 0);
		bad += check_plan(what, &par, (const char *const *)in.v,
		    in.n, &res);
		model_plan(&par, (const char *const *)in.v, in.n, &model);
		bad += same_paths(what, "model", &res.paths, &model);
		strvec_fini(&model);

		/* Shuffled input, the same plan. */
		for (i = in.n; i > 1; i--) {
			j = rnd_below(&st, i);
			tmp = in.v[i - 1];
			in.v[i - 1] = in.v[j];
			in.v[j] = tmp;
		}
		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res2), 0);
		bad += same_paths(what, "plan of the shuffled input",
		    &res2.paths, &res.paths);
		if (bad > 0) {
			print_error("%s: threshold=%u max_wildcards=%u "
			    "max_paths=%u\n", what, par.wildcard_threshold,
			    par.max_wildcards, par.max_paths);
			for (i = 0; i < in.n; i++)
				print_error("  in %s\n", in.v[i]);
		}
		inval_plan_fini(&res2);

		/* What the trees exercised. */
		if (res.paths.n == 1 && strcmp(res.paths.v[0], "/*") == 0)
			seen_root++;
		else if (res.n_wildcards > 0)
			seen_collapse++;
		nolim = par;
		nolim.max_paths = 0;
		nolim.max_wildcards = 0;
		assert_int_equal(inval_plan(&nolim,
		    (const char *const *)in.v, in.n, &res2), 0);
		if (same_paths_quiet(&res.paths, &res2.paths) != 0) {
			seen_limits++;
			if (par.max_wildcards > 0 &&
			    res2.n_wildcards > par.max_wildcards)
				seen_wild_limit++;
		}
		inval_plan_fini(&res2);
		inval_plan_fini(&res);
		strvec_fini(&in);
	}
	assert_int_equal(bad, 0);
	print_message("# %zu trees: %zu \"/*\", %zu other wildcards, "
	    "%zu shaped by limits (%zu by max_wildcards)\n", tree,
	    seen_root, seen_collapse, seen_limits, seen_wild_limit);
	assert_true(seen_root >= 100 && seen_collapse >= 100);
	assert_true(seen_limits >= 100 && seen_wild_limit >= 50);
}

/* --- a million paths ------------------------------------------------- */

#define BIG_N	1000000

static double
run_big(const struct inval_plan_params *par, const char *const *in,
    struct inval_plan_result *res)
{
	clock_t	 t0;

	t0 = clock();
	assert_int_equal(inval_plan(par, in, BIG_N, res), 0);
	return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

static void
test_million(void **state)
{
	struct inval_plan_params	 par;
	struct inval_plan_result	 res;
	const char			**in;
	char				 *text, *p;
	size_t				  i, k, j, ok;
	double				  secs;

	(void)state;
	text = malloc((size_t)BIG_N * 48);
	in = malloc((size_t)BIG_N * sizeof(*in));
	assert_non_null(text);
	assert_non_null(in);
	p = text;
	for (i = 0; i < BIG_N; i++) {
		/* A permutation of 0..BIG_N-1, so the input is unsorted. */
		k = (i * 7919) % BIG_N;
		in[i] = p;
		p += snprintf(p, 48, "/s%zu/%zu/%02zu/post-%zu.html", k % 7,
		    2000 + (k / 7) % 25, 1 + (k / 175) % 12, k) + 1;
	}

	/* The default: far more than 5 paths under "/". */
	par.wildcard_threshold = 5;
	par.max_wildcards = 0;
	par.max_paths = 0;
	secs = run_big(&par, in, &res);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/*");
	inval_plan_fini(&res);
	print_message("# 1M paths, threshold 5: %.2f s\n", secs);

	/* No collapsing: every path stays. */
	par.wildcard_threshold = 4000000000u;
	secs = run_big(&par, in, &res);
	assert_int_equal(res.paths.n, BIG_N);
	assert_int_equal(res.n_exact, BIG_N);
	inval_plan_fini(&res);
	print_message("# 1M paths, no collapse: %.2f s\n", secs);

	/* CloudFront's limits: 3,000 paths, 15 wildcards. */
	par.max_paths = 3000;
	par.max_wildcards = 15;
	secs = run_big(&par, in, &res);
	assert_true(res.paths.n <= 3000);
	assert_true(res.n_wildcards <= 15);
	for (i = 0; i < BIG_N; i += 997) {
		ok = 0;
		for (j = 0; j < res.paths.n && !ok; j++)
			ok = inval_plan_covers(res.paths.v[j], in[i]);
		assert_true(ok);
	}
	print_message("# 1M paths, 3000/15 limits: %.2f s, %zu paths\n",
	    secs, res.paths.n);
	inval_plan_fini(&res);

	free(in);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests_name("inval_plan", tests, NULL, NULL);
}
