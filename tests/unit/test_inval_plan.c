/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_inval_plan: the planner against the golden files in
 * tests/data/plan (NAME.in: one path a line, an optional first line
 * "# threshold=5 max_wildcards=15 max_paths=0 weight=0.1", known paths as
 * "! /path" lines; NAME.out: the plan; see the README there), then
 * properties over thousands of random trees: the threshold rule against a
 * slow, obviously-correct model of the rules of inval_plan_rule.c; the
 * cost-aware plan against its cost computed here, the threshold rule's,
 * all exact paths and a brute-force optimum on small trees.  Then a run
 * over a million paths.  TOP_SRCDIR (default ".") locates the data.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "inval_map.h"
#include "inval_plan.h"

#define LINE_MAX_LEN	16384
#define MIN_GOLDEN	12
#define MIN_GOLDEN_KNOWN 8

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

/* --- the model: the rules of inval_plan_rule.c, the slow way ---------- */

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

/* --- the cost model, computed here independently ------------------------ */

#define EPS	1e-9

static int
cmp_str(const void *a, const void *b)
{
	const char *const	*sa = a, *const *sb = b;

	return strcmp(*sa, *sb);
}

/* 1 when a <= b, up to rounding (costs are never negative). */
static int
cost_le(double a, double b)
{
	return a <= b + EPS * (1 + b);
}

/* paths + weight x evictions; no evictions cost nothing at any weight. */
static double
plan_cost(size_t paths, size_t evictions, double weight)
{
	if (evictions == 0)
		return (double)paths;
	return (double)paths + (weight > 0 ? weight : 0) * (double)evictions;
}

/*
 * The known paths that a wildcard of a plan for in evicts needlessly: not
 * changed themselves, and not under an input wildcard (the caller asked
 * for all of those).
 */
static void
evictable(const struct strvec *in, const struct strvec *known,
    struct strvec *ev)
{
	struct strvec	 s, w;
	size_t		 i, j;
	int		 req;

	strvec_init(&s);
	strvec_init(&w);
	for (i = 0; i < in->n; i++) {
		push(&s, in->v[i]);
		if (is_wildcard(in->v[i]))
			push(&w, in->v[i]);
	}
	strvec_sort_unique(&s);
	strvec_init(ev);
	for (i = 0; i < known->n; i++) {
		req = bsearch(&known->v[i], s.v, s.n, sizeof(*s.v),
		    cmp_str) != NULL;
		for (j = 0; j < w.n && !req; j++)
			req = inval_plan_covers(w.v[j], known->v[i]);
		if (!req)
			push(ev, known->v[i]);
	}
	strvec_fini(&w);
	strvec_fini(&s);
}

/* How many of ev the wildcards of plan cover. */
static size_t
count_evictions(const struct strvec *ev, const struct strvec *plan)
{
	struct strvec	 w;
	size_t		 i, j, n = 0;
	int		 hit;

	strvec_init(&w);
	for (i = 0; i < plan->n; i++)
		if (is_wildcard(plan->v[i]))
			push(&w, plan->v[i]);
	for (i = 0; i < ev->n; i++) {
		hit = 0;
		for (j = 0; j < w.n && !hit; j++)
			hit = inval_plan_covers(w.v[j], ev->v[i]);
		n += (size_t)hit;
	}
	strvec_fini(&w);
	return n;
}

/*
 * The inputs no other input covers (sorted, unique): all exact paths, the
 * plan that evicts nothing.
 */
static void
maximal_inputs(const struct strvec *in, struct strvec *out)
{
	struct strvec	 s;
	size_t		 i, j;
	int		 cov;

	strvec_init(&s);
	for (i = 0; i < in->n; i++)
		push(&s, in->v[i]);
	strvec_sort_unique(&s);
	strvec_init(out);
	for (i = 0; i < s.n; i++) {
		cov = 0;
		for (j = 0; j < s.n && !cov; j++)
			cov = j != i && inval_plan_covers(s.v[j], s.v[i]);
		if (!cov)
			push(out, s.v[i]);
	}
	strvec_fini(&s);
}

#define BF_MAX_IN	12
#define BF_MAX_FOLDERS	14
#define BF_MAX_KNOWN	64

static unsigned
popcount64(uint64_t x)
{
	unsigned	 n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/*
 * The cheapest cover, by brute force over every set of folder wildcards
 * (the folders of the inputs, "/" included): each input under none of them
 * is given as it is, unless another such input covers it.  Returns the
 * cost, or -1 when the case is too big to enumerate.
 */
static double
brute_force(const struct inval_plan_params *par, const struct strvec *in,
    const struct strvec *ev)
{
	struct strvec	 s, f;
	uint32_t	 f_in[BF_MAX_FOLDERS], by[BF_MAX_IN], all, wmask = 0;
	uint32_t	 cov, unc, emit;
	uint64_t	 f_ev[BF_MAX_FOLDERS], evm;
	size_t		 i, j, paths, wild, subset, nsub;
	double		 best = -1, c;
	char		 w[600];

	maximal_inputs(in, &s);
	model_folders(&s, &f);
	if (s.n > BF_MAX_IN || f.n > BF_MAX_FOLDERS || ev->n > BF_MAX_KNOWN) {
		strvec_fini(&s);
		strvec_fini(&f);
		return -1;
	}
	all = s.n == 32 ? UINT32_MAX : ((uint32_t)1 << s.n) - 1;
	for (i = 0; i < s.n; i++) {
		if (is_wildcard(s.v[i]))
			wmask |= (uint32_t)1 << i;
		by[i] = 0;
		for (j = 0; j < s.n; j++)
			if (j != i && inval_plan_covers(s.v[j], s.v[i]))
				by[i] |= (uint32_t)1 << j;
	}
	for (i = 0; i < f.n; i++) {
		(void)snprintf(w, sizeof(w), "%s*", f.v[i]);
		f_in[i] = 0;
		f_ev[i] = 0;
		for (j = 0; j < s.n; j++)
			if (inval_plan_covers(w, s.v[j]))
				f_in[i] |= (uint32_t)1 << j;
		for (j = 0; j < ev->n; j++)
			if (inval_plan_covers(w, ev->v[j]))
				f_ev[i] |= (uint64_t)1 << j;
	}
	nsub = (size_t)1 << f.n;
	for (subset = 0; subset < nsub; subset++) {
		cov = 0;
		evm = 0;
		paths = 0;
		for (i = 0; i < f.n; i++) {
			if (subset & ((size_t)1 << i)) {
				cov |= f_in[i];
				evm |= f_ev[i];
				paths++;
			}
		}
		wild = paths;
		unc = all & ~cov;
		emit = 0;
		for (i = 0; i < s.n; i++)
			if ((unc & ((uint32_t)1 << i)) && (by[i] & unc) == 0)
				emit |= (uint32_t)1 << i;
		paths += popcount64(emit);
		wild += popcount64(emit & wmask);
		if (par->max_paths > 0 && paths > par->max_paths)
			continue;
		if (par->max_wildcards > 0 && wild > par->max_wildcards)
			continue;
		c = plan_cost(paths, popcount64(evm), par->eviction_weight);
		if (best < 0 || c < best)
			best = c;
	}
	strvec_fini(&s);
	strvec_fini(&f);
	return best;
}

/*
 * Check a cost-aware plan res of in against known: the invariants of
 * check_plan, n_evicted, no wildcard that covers no input, and its cost
 * against the threshold rule's plan, all exact paths and, when small
 * enough, brute force (*bf set when it ran).  Prints what fails; returns
 * the number of failures.
 */
static int
check_known(const char *what, const struct inval_plan_params *par,
    const struct strvec *in, const struct strvec *known,
    const struct inval_plan_result *res, int *bf)
{
	struct inval_plan_params	 tpar;
	struct inval_plan_result	 tres;
	struct strvec			 ev, mx;
	size_t				 i, j, n_ev, t_ev, mw;
	double				 cost, t_cost, bf_cost;
	int				 bad = 0, hit;

	bad += check_plan(what, par, (const char *const *)in->v, in->n, res);
	evictable(in, known, &ev);
	n_ev = count_evictions(&ev, &res->paths);
	if (n_ev != res->n_evicted) {
		print_error("%s: n_evicted %zu, counted %zu\n", what,
		    res->n_evicted, n_ev);
		bad++;
	}
	for (i = 0; i < res->paths.n; i++) {
		if (!is_wildcard(res->paths.v[i]))
			continue;
		hit = 0;
		for (j = 0; j < in->n && !hit; j++)
			hit = inval_plan_covers(res->paths.v[i], in->v[j]);
		if (!hit) {
			print_error("%s: %s covers no changed path\n", what,
			    res->paths.v[i]);
			bad++;
		}
	}
	cost = plan_cost(res->paths.n, n_ev, par->eviction_weight);

	/* Never dearer than the threshold rule with the same limits. */
	tpar = *par;
	tpar.known = NULL;
	tpar.n_known = 0;
	assert_int_equal(inval_plan(&tpar, (const char *const *)in->v, in->n,
	    &tres), 0);
	assert_int_equal(tres.n_evicted, 0);
	t_ev = count_evictions(&ev, &tres.paths);
	t_cost = plan_cost(tres.paths.n, t_ev, par->eviction_weight);
	if (!cost_le(cost, t_cost)) {
		print_error("%s: cost %.6g above the threshold plan's %.6g\n",
		    what, cost, t_cost);
		bad++;
	}
	inval_plan_fini(&tres);

	/* Nor than all exact paths, where they fit the limits. */
	maximal_inputs(in, &mx);
	mw = 0;
	for (i = 0; i < mx.n; i++)
		mw += (size_t)is_wildcard(mx.v[i]);
	if ((par->max_paths == 0 || mx.n <= par->max_paths) &&
	    (par->max_wildcards == 0 || mw <= par->max_wildcards) &&
	    !cost_le(cost, (double)mx.n)) {
		print_error("%s: cost %.6g above all %zu exact paths\n", what,
		    cost, mx.n);
		bad++;
	}
	strvec_fini(&mx);

	/* And the optimum, on small cases. */
	*bf = 0;
	bf_cost = brute_force(par, in, &ev);
	if (bf_cost >= 0) {
		*bf = 1;
		if (!cost_le(cost, bf_cost) || !cost_le(bf_cost, cost)) {
			print_error("%s: cost %.6g, brute force %.6g\n", what,
			    cost, bf_cost);
			bad++;
		}
	}
	strvec_fini(&ev);
	return bad;
}

/* --- golden files ---------------------------------------------------- */

/* A golden case: its parameters, paths, known paths and expectations. */
struct golden {
	struct inval_plan_params	 par;
	struct strvec			 in;
	struct strvec			 known;
	int				 cost_aware;	/* "!" or weight= */
	long				 evicted;	/* "# evicted=N"; -1 */
};

static void
parse_params(const char *line, struct golden *g)
{
	const char	*p;

	p = strstr(line, "threshold=");
	if (p != NULL)
		g->par.wildcard_threshold = (unsigned)strtoul(p + 10, NULL,
		    10);
	p = strstr(line, "max_wildcards=");
	if (p != NULL)
		g->par.max_wildcards = (unsigned)strtoul(p + 14, NULL, 10);
	p = strstr(line, "max_paths=");
	if (p != NULL)
		g->par.max_paths = (unsigned)strtoul(p + 10, NULL, 10);
	p = strstr(line, "weight=");
	if (p != NULL) {
		g->par.eviction_weight = strtod(p + 7, NULL);
		g->cost_aware = 1;
	}
	p = strstr(line, "evicted=");
	if (p != NULL)
		g->evicted = strtol(p + 8, NULL, 10);
}

/*
 * One path a line; blank lines skipped; '#' lines are parameters (into g
 * when not NULL); "! path" lines are known paths (into known).
 */
static int
read_lines(const char *file, struct strvec *sv, struct strvec *known,
    struct golden *g)
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
			if (g != NULL)
				parse_params(line, g);
			continue;
		}
		if (line[0] == '!' && known != NULL) {
			if (line[1] == ' ' && line[2] != '\0')
				push(known, line + 2);
			if (g != NULL)
				g->cost_aware = 1;
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

/* Plan in (known: none, sorted, or reversed) with g's parameters. */
static void
golden_plan(const struct golden *g, const struct strvec *in,
    const struct strvec *known, struct inval_plan_result *res)
{
	static const char *const	 nothing[1] = { NULL };
	struct inval_plan_params	 par = g->par;

	/* "weight=" without "!" lines: known, but empty. */
	if (g->cost_aware) {
		par.known = known->n > 0 ? (const char *const *)known->v :
		    nothing;
		par.n_known = known->n;
	}
	assert_int_equal(inval_plan(&par, (const char *const *)in->v, in->n,
	    res), 0);
}

static int
golden_case(const char *dir, const char *name, size_t *n_cost_aware)
{
	struct golden			 g;
	struct inval_plan_result	 res;
	struct strvec			 want, model, rev, krev, dummy;
	struct buf			 file;
	size_t				 i;
	int				 bad = 0, bf;

	memset(&g, 0, sizeof(g));
	g.par.wildcard_threshold = 5;
	g.evicted = -1;
	strvec_init(&g.in);
	strvec_init(&g.known);
	strvec_init(&want);
	strvec_init(&dummy);
	buf_init(&file);
	assert_int_equal(buf_printf(&file, "%s/%s.in", dir, name), 0);
	if (read_lines(buf_str(&file), &g.in, &g.known, &g) == -1) {
		print_error("%s: cannot read\n", buf_str(&file));
		buf_fini(&file);
		return 1;
	}
	buf_reset(&file);
	assert_int_equal(buf_printf(&file, "%s/%s.out", dir, name), 0);
	if (read_lines(buf_str(&file), &want, &dummy, &g) == -1) {
		print_error("%s: cannot read\n", buf_str(&file));
		buf_fini(&file);
		strvec_fini(&g.in);
		strvec_fini(&g.known);
		return 1;
	}
	buf_fini(&file);
	strvec_sort_unique(&g.known);
	if (g.cost_aware)
		(*n_cost_aware)++;

	golden_plan(&g, &g.in, &g.known, &res);
	bad += same_paths(name, "plan", &res.paths, &want);
	if (g.cost_aware) {
		bad += check_known(name, &g.par, &g.in, &g.known, &res, &bf);
		if (g.evicted >= 0 && res.n_evicted != (size_t)g.evicted) {
			print_error("%s: n_evicted %zu, want %ld\n", name,
			    res.n_evicted, g.evicted);
			bad++;
		}
	} else {
		bad += check_plan(name, &g.par, (const char *const *)g.in.v,
		    g.in.n, &res);
		if (res.n_evicted != 0) {
			print_error("%s: n_evicted %zu without known\n", name,
			    res.n_evicted);
			bad++;
		}
	}
	inval_plan_fini(&res);

	/* The same in reverse order (known too: it is sorted if need be). */
	strvec_init(&rev);
	strvec_init(&krev);
	for (i = g.in.n; i > 0; i--)
		push(&rev, g.in.v[i - 1]);
	for (i = g.known.n; i > 0; i--)
		push(&krev, g.known.v[i - 1]);
	golden_plan(&g, &rev, &krev, &res);
	bad += same_paths(name, "plan of the reversed input", &res.paths,
	    &want);
	inval_plan_fini(&res);
	if (!g.cost_aware) {
		model_plan(&g.par, (const char *const *)g.in.v, g.in.n,
		    &model);
		bad += same_paths(name, "model", &model, &want);
		strvec_fini(&model);
	}

	strvec_fini(&krev);
	strvec_fini(&rev);
	strvec_fini(&g.in);
	strvec_fini(&g.known);
	strvec_fini(&want);
	strvec_fini(&dummy);
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
	size_t		 i, len, n_cost_aware = 0;
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
		bad += golden_case(dir, names.v[i], &n_cost_aware);
	if (names.n < MIN_GOLDEN || n_cost_aware < MIN_GOLDEN_KNOWN) {
		print_error("%s: %zu cases (%zu with known paths), want at "
		    "least %d (%d)\n", dir, names.n, n_cost_aware, MIN_GOLDEN,
		    MIN_GOLDEN_KNOWN);
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
	struct inval_plan_params	 par;
	struct inval_plan_result	 res;
	const char			*in[4];

	(void)state;
	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
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

	memset(par, 0, sizeof(*par));
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

/* --- cost-aware planning ----------------------------------------------- */

/* Plan in[0..n) against known[0..nk) at weight, within the limits. */
static void
plan_known(struct inval_plan_result *res, const char *const *in, size_t n,
    const char *const *known, size_t nk, double weight, unsigned max_w,
    unsigned max_p)
{
	struct inval_plan_params	 par;

	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	par.max_wildcards = max_w;
	par.max_paths = max_p;
	par.known = known;
	par.n_known = nk;
	par.eviction_weight = weight;
	assert_int_equal(inval_plan(&par, in, n, res), 0);
}

static void
assert_plan(const struct inval_plan_result *res, const char *const *want,
    size_t n)
{
	size_t	 i;

	if (res->paths.n != n)
		for (i = 0; i < res->paths.n; i++)
			print_error("got %s\n", res->paths.v[i]);
	assert_int_equal(res->paths.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(res->paths.v[i], want[i]);
}

static void
test_known_edges(void **state)
{
	static const char *const known[] = {
		"/", "/a/", "/a/1", "/a/2", "/a/3", "/b/x", "/b/y", "/index.html"
	};
	static const char *const unsorted[] = {
		"/b/y", "/a/3", "/", "/a/2", "/index.html", "/a/1", "/b/x",
		"/a/", "/a/2", NULL
	};
	static const char *const want_a[] = { "/a/*" };
	static const char *const want_exact[] = { "/a/1", "/a/2" };
	static const char *const want_root[] = { "/*" };
	static const char *const want_wild[] = { "/a/*", "/b/x" };
	static const char *const want_out[] = { "/a/*", "/b/x", "a/b", "x*" };
	static const char *const want_out1[] = { "/*", "a/b", "x*" };
	struct inval_plan_result	 res;
	const char			*in[6];

	(void)state;
	/* Nothing changed: nothing to do, whatever is known. */
	plan_known(&res, NULL, 0, known, 8, 1, 0, 0);
	assert_int_equal(res.paths.n, 0);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);

	/* One path: itself, never its folder (fewer wildcards on ties). */
	in[0] = "/a/1";
	plan_known(&res, in, 1, known, 0, 0, 0, 0);
	assert_plan(&res, in, 1);
	inval_plan_fini(&res);

	/*
	 * /a/ holds 4 known paths.  Two changed: its wildcard evicts "/a/"
	 * and "/a/3": 1 + 2w against 2 exact paths.
	 */
	in[1] = "/a/2";
	plan_known(&res, in, 2, known, 8, 0.4, 0, 0);
	assert_plan(&res, want_a, 1);
	assert_int_equal(res.n_evicted, 2);
	inval_plan_fini(&res);
	plan_known(&res, in, 2, known, 8, 0.6, 0, 0);
	assert_plan(&res, want_exact, 2);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);
	/* At 0.5 they cost the same: fewer evictions wins. */
	plan_known(&res, in, 2, known, 8, 0.5, 0, 0);
	assert_plan(&res, want_exact, 2);
	inval_plan_fini(&res);

	/* Unsorted known paths, with a duplicate and a NULL, are sorted. */
	plan_known(&res, in, 2, unsorted, 10, 0.4, 0, 0);
	assert_plan(&res, want_a, 1);
	assert_int_equal(res.n_evicted, 2);
	inval_plan_fini(&res);

	/* Nothing known under a wildcard evicts nothing: fewest paths. */
	in[2] = "/b/x";
	plan_known(&res, in, 3, known, 0, 1, 0, 0);
	assert_plan(&res, want_root, 1);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);

	/* A weight below 0, or NaN, is 0; a huge one, exact paths. */
	plan_known(&res, in, 3, known, 8, -1, 0, 0);
	assert_plan(&res, want_root, 1);
	assert_int_equal(res.n_evicted, 5);
	inval_plan_fini(&res);
	plan_known(&res, in, 3, known, 8, NAN, 0, 0);
	assert_plan(&res, want_root, 1);
	inval_plan_fini(&res);
	plan_known(&res, in, 3, known, 8, INFINITY, 0, 0);
	assert_int_equal(res.paths.n, 3);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);

	/*
	 * An input wildcard asks for all beneath it: no needless eviction.
	 * "/a/" "*" covers "/a/1"; "/b/x" alone stays exact.
	 */
	in[0] = "/a/*";
	in[1] = "/a/1";
	in[2] = "/b/x";
	plan_known(&res, in, 3, known, 8, 100, 0, 0);
	assert_plan(&res, want_wild, 2);
	assert_int_equal(res.n_evicted, 0);
	assert_int_equal(res.n_wildcards, 1);
	inval_plan_fini(&res);

	/* Limits: one path must be "/" "*", whatever it evicts. */
	plan_known(&res, in, 3, known, 8, 100, 0, 1);
	assert_plan(&res, want_root, 1);
	assert_int_equal(res.n_evicted, 3);
	inval_plan_fini(&res);

	/* Paths outside "/" are kept as they are and count for the limits. */
	in[3] = "a/b";
	in[4] = "x*";
	in[5] = "/a/2";
	plan_known(&res, in, 6, known, 8, 100, 0, 4);
	assert_plan(&res, want_out, 4);
	inval_plan_fini(&res);
	plan_known(&res, in, 6, known, 8, 100, 0, 3);
	assert_plan(&res, want_out1, 3);
	inval_plan_fini(&res);

	/* Without known paths nothing is evicted, in threshold mode too. */
	plan_known(&res, in, 6, NULL, 0, 1, 0, 0);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);
}

/*
 * max_wildcards far above CloudFront's 15, on a change whose best plan
 * has more wildcards still: 60,000 folders with two changed pages each
 * and nothing else, their parents each with one unchanged page.  Tracking
 * 50,000 wildcards over 120,000 changed pages would cost too much: fewer
 * are tracked, the plan stays in the limit, better than all exact.
 */
static void
test_known_many_wildcards(void **state)
{
	struct inval_plan_params	 par;
	struct inval_plan_result	 res;
	struct strvec			 in, known;
	char				 path[64];
	size_t				 g, f, i;

	(void)state;
	strvec_init(&in);
	strvec_init(&known);
	for (g = 0; g < 600; g++) {
		(void)snprintf(path, sizeof(path), "/g%03zu/keep.html", g);
		push(&known, path);
		for (f = 0; f < 100; f++) {
			for (i = 0; i < 2; i++) {
				(void)snprintf(path, sizeof(path),
				    "/g%03zu/f%02zu/%zu.html", g, f, i);
				push(&in, path);
				push(&known, path);
			}
		}
	}
	strvec_sort_unique(&known);
	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	par.known = (const char *const *)known.v;
	par.n_known = known.n;
	par.eviction_weight = 1e9;
	assert_int_equal(inval_plan(&par, (const char *const *)in.v, in.n,
	    &res), 0);
	assert_int_equal(res.n_wildcards, 60000);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);
	par.max_wildcards = 50000;
	assert_int_equal(inval_plan(&par, (const char *const *)in.v, in.n,
	    &res), 0);
	assert_true(res.n_wildcards <= 50000);
	assert_true(res.n_wildcards >= 100);
	assert_int_equal(res.paths.n, 120000 - res.n_wildcards);
	assert_int_equal(res.n_evicted, 0);
	print_message("# max_wildcards 50000, 120000 changed: %zu wildcards\n",
	    res.n_wildcards);
	inval_plan_fini(&res);
	/* 15, as CloudFront: tracked, exact. */
	par.max_wildcards = 15;
	assert_int_equal(inval_plan(&par, (const char *const *)in.v, in.n,
	    &res), 0);
	assert_int_equal(res.n_wildcards, 15);
	assert_int_equal(res.paths.n, 120000 - 15);
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);
	strvec_fini(&in);
	strvec_fini(&known);
}

/*
 * A random path of a small site: up to maxdepth folders named from the
 * first nf folder names, then a file, or (1 in 12) the folder's own path.
 */
static void
site_path(uint64_t *st, size_t nf, size_t maxdepth, char *out, size_t outsz)
{
	size_t	 depth, i, len = 0;

	depth = rnd_below(st, maxdepth + 1);
	out[len++] = '/';
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s/",
		    folder_names[rnd_below(st, nf)]);
	if (rnd_below(st, 12) != 0)
		len += (size_t)snprintf(out + len, outsz - len, "%s",
		    file_names[rnd_below(st, NFILES)]);
	out[len] = '\0';
}

/*
 * A random site (known: sorted, unique) and a change to it: each known path
 * with probability pct/100, some paths the site does not know yet, now and
 * then an input wildcard (a folder's, or a prefix's) or a duplicate.
 */
static void
random_change(uint64_t *st, size_t n_known, size_t nf, size_t maxdepth,
    size_t pct, struct strvec *known, struct strvec *in)
{
	char	 path[512];
	size_t	 i, len, extra;

	strvec_init(known);
	strvec_init(in);
	for (i = 0; i < n_known; i++) {
		site_path(st, nf, maxdepth, path, sizeof(path));
		push(known, path);
	}
	strvec_sort_unique(known);
	for (i = 0; i < known->n; i++)
		if (rnd_below(st, 100) < pct)
			push(in, known->v[i]);
	extra = rnd_below(st, 3);
	for (i = 0; i < extra || in->n == 0; i++) {
		site_path(st, nf, maxdepth, path, sizeof(path));
		push(in, path);
	}
	if (rnd_below(st, 6) == 0) {
		(void)snprintf(path, sizeof(path), "%s",
		    known->v[rnd_below(st, known->n)]);
		len = strlen(path);
		if (rnd_below(st, 2) == 0) {
			while (len > 0 && path[len - 1] != '/')
				len--;
		} else if (len > 1)
			len = 1 + rnd_below(st, len - 1);
		path[len] = '*';
		path[len + 1] = '\0';
		push(in, path);
	}
	if (rnd_below(st, 8) == 0)
		push(in, in->v[rnd_below(st, in->n)]);
}

static void
random_known_params(uint64_t *st, struct inval_plan_params *par)
{
	static const double	 weights[] = {
		0, 0.05, 0.25, 0.5, 1, 1, 2, 4, 10, 1e9
	};

	random_params(st, par);
	par->eviction_weight = weights[rnd_below(st,
	    sizeof(weights) / sizeof(weights[0]))];
}

/* Shuffle sv in place. */
static void
shuffle(uint64_t *st, struct strvec *sv)
{
	char	*tmp;
	size_t	 i, j;

	for (i = sv->n; i > 1; i--) {
		j = rnd_below(st, i);
		tmp = sv->v[i - 1];
		sv->v[i - 1] = sv->v[j];
		sv->v[j] = tmp;
	}
}

static void
test_known_random(void **state)
{
	struct inval_plan_params	 par, nolim;
	struct inval_plan_result	 res, res2;
	struct strvec			 in, known;
	uint64_t			 st = 20170306;
	size_t				 tree, i, nk, nf, depth, pct;
	size_t				 seen_bf = 0, seen_root = 0;
	size_t				 seen_wild = 0, seen_evict = 0;
	size_t				 seen_limits = 0, seen_exact = 0;
	char				 what[64];
	int				 bad = 0, bf;

	(void)state;
	for (tree = 0; tree < 4000 && bad == 0; tree++) {
		memset(&par, 0, sizeof(par));
		random_known_params(&st, &par);
		if (tree % 4 == 0) {
			/* Bigger: beyond brute force, limits matter more. */
			nk = 20 + rnd_below(&st, 200);
			nf = NFOLDERS;
			depth = 4;
		} else {
			nk = 1 + rnd_below(&st, 40);
			nf = 2 + rnd_below(&st, 3);
			depth = 1 + rnd_below(&st, 3);
		}
		pct = rnd_below(&st, 3) == 0 ? 90 : 5 + rnd_below(&st, 30);
		random_change(&st, nk, nf, depth, pct, &known, &in);
		(void)snprintf(what, sizeof(what), "known tree %zu", tree);

		par.known = (const char *const *)known.v;
		par.n_known = known.n;
		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res), 0);
		bad += check_known(what, &par, &in, &known, &res, &bf);
		seen_bf += (size_t)bf;

		/* Shuffled input and known paths, the same plan. */
		shuffle(&st, &in);
		shuffle(&st, &known);
		par.known = (const char *const *)known.v;
		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res2), 0);
		bad += same_paths(what, "plan of the shuffled input",
		    &res2.paths, &res.paths);
		if (res2.n_evicted != res.n_evicted) {
			print_error("%s: shuffled, %zu evictions, not %zu\n",
			    what, res2.n_evicted, res.n_evicted);
			bad++;
		}
		inval_plan_fini(&res2);
		if (bad > 0) {
			print_error("%s: weight=%g max_wildcards=%u "
			    "max_paths=%u\n", what, par.eviction_weight,
			    par.max_wildcards, par.max_paths);
			for (i = 0; i < in.n; i++)
				print_error("  in %s\n", in.v[i]);
			for (i = 0; i < known.n; i++)
				print_error("  ! %s\n", known.v[i]);
			for (i = 0; i < res.paths.n; i++)
				print_error("  got %s\n", res.paths.v[i]);
		}

		/* What the trees exercised. */
		if (res.paths.n == 1 && strcmp(res.paths.v[0], "/*") == 0)
			seen_root++;
		else if (res.n_wildcards > 0)
			seen_wild++;
		else
			seen_exact++;
		seen_evict += res.n_evicted > 0;
		nolim = par;
		nolim.max_paths = 0;
		nolim.max_wildcards = 0;
		assert_int_equal(inval_plan(&nolim,
		    (const char *const *)in.v, in.n, &res2), 0);
		seen_limits += same_paths_quiet(&res.paths, &res2.paths) != 0;
		inval_plan_fini(&res2);
		inval_plan_fini(&res);
		strvec_fini(&in);
		strvec_fini(&known);
	}
	assert_int_equal(bad, 0);
	print_message("# %zu trees with known paths: %zu checked by brute "
	    "force; %zu \"/*\", %zu other wildcards, %zu exact only, %zu "
	    "evicting, %zu shaped by limits\n", tree, seen_bf, seen_root,
	    seen_wild, seen_exact, seen_evict, seen_limits);
	assert_true(seen_bf >= 1500);
	assert_true(seen_root >= 100 && seen_wild >= 300 && seen_exact >= 300);
	assert_true(seen_evict >= 300 && seen_limits >= 300);
}

/*
 * Bigger sites, where max_paths binds and exact tracking of paths costs
 * too much: the Lagrangian search.  Checked for the invariants, the limits
 * and against the threshold rule (brute force is out of reach).
 */
static void
test_known_medium(void **state)
{
	static const unsigned	 max_p[] = { 60, 200, 500, 1000 };
	struct inval_plan_params par;
	struct inval_plan_result res, res2;
	struct strvec		 in, known;
	uint64_t		 st = 20190201;
	size_t			 tree, pct;
	char			 what[64];
	int			 bad = 0, bf;
	clock_t			 t0;

	(void)state;
	t0 = clock();
	for (tree = 0; tree < 24 && bad == 0; tree++) {
		memset(&par, 0, sizeof(par));
		par.wildcard_threshold = tree % 3 == 0 ? 5 : 1000;
		par.max_paths = max_p[tree % 4];
		par.max_wildcards = tree % 2 == 0 ? 15 : 0;
		par.eviction_weight = tree % 3 == 0 ? 0.3 :
		    tree % 3 == 1 ? 1 : 3;
		pct = 5 + 10 * (tree % 3);
		random_change(&st, 4000 + rnd_below(&st, 4000), NFOLDERS, 5,
		    pct, &known, &in);
		(void)snprintf(what, sizeof(what), "medium tree %zu", tree);
		par.known = (const char *const *)known.v;
		par.n_known = known.n;
		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res), 0);
		bad += check_known(what, &par, &in, &known, &res, &bf);
		shuffle(&st, &in);
		assert_int_equal(inval_plan(&par, (const char *const *)in.v,
		    in.n, &res2), 0);
		bad += same_paths(what, "plan of the shuffled input",
		    &res2.paths, &res.paths);
		inval_plan_fini(&res2);
		inval_plan_fini(&res);
		strvec_fini(&in);
		strvec_fini(&known);
	}
	assert_int_equal(bad, 0);
	print_message("# %zu medium trees: %.2f s\n", tree,
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* --- a million paths ------------------------------------------------- */

#define BIG_N	1000000

static double
run_big(const struct inval_plan_params *par, const char *const *in,
    size_t n, struct inval_plan_result *res)
{
	clock_t	 t0;

	t0 = clock();
	assert_int_equal(inval_plan(par, in, n, res), 0);
	return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* Every 997th input is covered. */
static void
assert_covers_sample(const struct inval_plan_result *res,
    const char *const *in, size_t n)
{
	size_t	 i, j;
	int	 ok;

	for (i = 0; i < n; i += 997) {
		ok = 0;
		for (j = 0; j < res->paths.n && !ok; j++)
			ok = inval_plan_covers(res->paths.v[j], in[i]);
		assert_true(ok);
	}
}

static void
test_million(void **state)
{
	struct inval_plan_params	 par;
	struct inval_plan_result	 res;
	const char			**in, **known, **some;
	char				 *text, *p;
	size_t				  i, k, n_some;
	double				  secs;

	(void)state;
	text = malloc((size_t)BIG_N * 48);
	in = malloc((size_t)BIG_N * sizeof(*in));
	known = malloc((size_t)BIG_N * sizeof(*known));
	some = malloc((size_t)BIG_N * sizeof(*some));
	assert_non_null(text);
	assert_non_null(in);
	assert_non_null(known);
	assert_non_null(some);
	p = text;
	for (i = 0; i < BIG_N; i++) {
		/* A permutation of 0..BIG_N-1, so the input is unsorted. */
		k = (i * 7919) % BIG_N;
		in[i] = p;
		p += snprintf(p, 48, "/s%zu/%zu/%02zu/post-%zu.html", k % 7,
		    2000 + (k / 7) % 25, 1 + (k / 175) % 12, k) + 1;
	}

	/* The default: far more than 5 paths under "/". */
	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	secs = run_big(&par, in, BIG_N, &res);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/*");
	inval_plan_fini(&res);
	print_message("# 1M paths, threshold 5: %.2f s\n", secs);

	/* No collapsing: every path stays. */
	par.wildcard_threshold = 4000000000u;
	secs = run_big(&par, in, BIG_N, &res);
	assert_int_equal(res.paths.n, BIG_N);
	assert_int_equal(res.n_exact, BIG_N);
	inval_plan_fini(&res);
	print_message("# 1M paths, no collapse: %.2f s\n", secs);

	/* CloudFront's limits: 3,000 paths, 15 wildcards. */
	par.max_paths = 3000;
	par.max_wildcards = 15;
	secs = run_big(&par, in, BIG_N, &res);
	assert_true(res.paths.n <= 3000);
	assert_true(res.n_wildcards <= 15);
	assert_covers_sample(&res, in, BIG_N);
	print_message("# 1M paths, 3000/15 limits: %.2f s, %zu paths\n",
	    secs, res.paths.n);
	inval_plan_fini(&res);

	/*
	 * Cost-aware, the same million known (sorted, as callers pass them).
	 * All of them changed: "/" "*", which evicts nothing.
	 */
	memcpy(known, in, (size_t)BIG_N * sizeof(*known));
	qsort(known, BIG_N, sizeof(*known), cmp_str);
	memset(&par, 0, sizeof(par));
	par.wildcard_threshold = 5;
	par.known = known;
	par.n_known = BIG_N;
	par.eviction_weight = 0.1;
	secs = run_big(&par, in, BIG_N, &res);
	assert_int_equal(res.paths.n, 1);
	assert_string_equal(res.paths.v[0], "/*");
	assert_int_equal(res.n_evicted, 0);
	inval_plan_fini(&res);
	print_message("# 1M paths, 1M known, all changed: %.2f s\n", secs);

	/*
	 * One post in ten changed (hashed: posts of one folder are k apart
	 * by multiples of 2100), and January 2003 rewritten whole (7 folders
	 * of 476 posts, all changed: their wildcards).
	 */
	par.eviction_weight = 1;
	n_some = 0;
	for (i = 0; i < BIG_N; i++) {
		k = (i * 7919) % BIG_N;
		if ((k * 2654435761u >> 8) % 10 == 3 ||
		    ((k / 175) % 12 == 0 && (k / 7) % 25 == 3))
			some[n_some++] = in[i];
	}
	secs = run_big(&par, some, n_some, &res);
	assert_covers_sample(&res, some, n_some);
	assert_true(res.n_wildcards > 0 && res.n_exact > 0);
	print_message("# %zu of 1M known changed, weight 1: %.2f s, %zu "
	    "paths, %zu wildcards, %zu evicted\n", n_some, secs,
	    res.paths.n, res.n_wildcards, res.n_evicted);
	inval_plan_fini(&res);

	par.max_paths = 3000;
	par.max_wildcards = 15;
	secs = run_big(&par, some, n_some, &res);
	assert_true(res.paths.n <= 3000);
	assert_true(res.n_wildcards <= 15);
	assert_covers_sample(&res, some, n_some);
	print_message("# the same, 3000/15 limits: %.2f s, %zu paths, %zu "
	    "evicted\n", secs, res.paths.n, res.n_evicted);
	inval_plan_fini(&res);

	free(some);
	free(known);
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
		cmocka_unit_test(test_known_edges),
		cmocka_unit_test(test_known_many_wildcards),
		cmocka_unit_test(test_known_random),
		cmocka_unit_test(test_known_medium),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests_name("inval_plan", tests, NULL, NULL);
}
