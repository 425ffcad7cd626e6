/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_worker: the invalidation worker's decisions (worker_policy.h) on a
 * fake clock, table-driven: coalescing windows (quiet_period, max_delay,
 * a flush) and a stream of writes replayed as the loop sees it; the
 * limits in progress; the choice of the one call due and its pacing,
 * replayed as the loop makes its calls; backoff with jitter from an
 * injected random source; give_up_after; the month's budget and cost.
 * Then the planning `s3inval plan` shares with the worker
 * (worker_plan_keys()) on a configuration and an index made here: the
 * budget's level changes the plan, the figures follow the month; and the
 * month's usage as `s3inval plan` reads it.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "etag_index.h"
#include "util.h"
#include "worker_plan.h"
#include "worker_policy.h"
#include "worker_state.h"
#include "worker_usage.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define END		(-2)		/* ends a list of times */

static const struct worker_policy base = {
	.quiet_period_ms = 5000,
	.max_delay_ms = 60000,
	.max_requests_per_second = 0.5,
	.retry_base_ms = 1000,
	.retry_max_ms = 300000,
	.give_up_after_ms = 86400000,
	.monthly_free_paths = 1000,
	.monthly_budget_usd = 0,
	.eviction_weight = 0.05,
};

/* --- coalescing ------------------------------------------------------- */

static void
test_window(void **state)
{
	static const struct {
		int64_t	 quiet, max_delay;
		int64_t	 first, last, now;
		int	 flush;
		int	 closed;
		int64_t	 end;
	} rows[] = {
		/* One write: quiet_period after it. */
		{ 5000, 60000, 1000, 1000, 1000, 0, 0, 6000 },
		{ 5000, 60000, 1000, 1000, 5999, 0, 0, 6000 },
		{ 5000, 60000, 1000, 1000, 6000, 0, 1, 6000 },
		/* Writes keep coming: the quiet period moves with the last. */
		{ 5000, 60000, 1000, 9000, 13999, 0, 0, 14000 },
		{ 5000, 60000, 1000, 9000, 14000, 0, 1, 14000 },
		/* ...but never past max_delay after the first. */
		{ 5000, 60000, 1000, 59000, 60999, 0, 0, 61000 },
		{ 5000, 60000, 1000, 59000, 61000, 0, 1, 61000 },
		{ 5000, 60000, 1000, 60500, 61000, 0, 1, 61000 },
		/* A flush closes it at once. */
		{ 5000, 60000, 1000, 1000, 1000, 1, 1, 6000 },
		/* max_delay shorter than quiet_period: max_delay wins. */
		{ 5000, 2000, 1000, 1000, 2999, 0, 0, 3000 },
		{ 5000, 2000, 1000, 1000, 3000, 0, 1, 3000 },
		/* Zero quiet period: due at once. */
		{ 0, 60000, 1000, 1000, 1000, 0, 1, 1000 },
	};
	struct worker_policy	 p = base;
	size_t			 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.quiet_period_ms = rows[i].quiet;
		p.max_delay_ms = rows[i].max_delay;
		assert_int_equal(worker_window_closed(&p, rows[i].now,
		    rows[i].first, rows[i].last, rows[i].flush),
		    rows[i].closed);
		assert_int_equal(worker_window_end(&p, rows[i].first,
		    rows[i].last), rows[i].end);
	}
}

static void
test_quiet(void **state)
{
	static const struct {
		int64_t	 last, now;
		int	 flush, over;
	} rows[] = {
		{ 1000, 1000, 0, 0 },
		{ 1000, 5999, 0, 0 },
		{ 1000, 6000, 0, 1 },
		{ 1000, 1000, 1, 1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		assert_int_equal(worker_quiet_over(&base, rows[i].now,
		    rows[i].last, rows[i].flush), rows[i].over);
		assert_int_equal(worker_quiet_end(&base, rows[i].last), 6000);
	}
}

/*
 * Writes at the given times, replayed as the loop sees them: it sleeps
 * until the next write or the window's end, whichever comes first; a
 * write opens the window or extends it; once the window is closed the
 * pending paths are planned (a "cut") and the next write opens a new one.
 */
static void
test_coalesce_stream(void **state)
{
	static const struct {
		const char	*what;
		int64_t		 quiet, max_delay;
		int64_t		 writes[40];	/* END-terminated */
		int64_t		 cuts[8];	/* END-terminated */
	} rows[] = {
		{ "one deploy, one batch", 5000, 60000,
		    { 0, 1000, 2000, 2500, END }, { 7500, END } },
		{ "two deploys apart", 5000, 60000,
		    { 0, 100, 20000, 20100, END }, { 5100, 25100, END } },
		{ "a gap just under the quiet period", 5000, 60000,
		    { 0, 4999, 9998, END }, { 14998, END } },
		/* A write at the deadline itself is taken before the
		 * decision: it joins the window. */
		{ "a write at the very end of the quiet period", 5000, 60000,
		    { 0, 5000, END }, { 10000, END } },
		{ "a steady stream is cut at max_delay", 5000, 20000,
		    { 0, 4000, 8000, 12000, 16000, 20000, 24000, 28000,
		    32000, 36000, 40000, 44000, 48000, END },
		    { 20000, 44000, 53000, END } },
		{ "no quiet period: every write alone", 0, 60000,
		    { 0, 10, 20, END }, { 0, 10, 20, END } },
	};
	struct worker_policy	 p = base;
	int64_t			 first, last, now, end, cuts[8];
	size_t			 i, w, n, k, turns;
	int			 open;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.quiet_period_ms = rows[i].quiet;
		p.max_delay_ms = rows[i].max_delay;
		open = 0;
		first = last = 0;
		n = 0;
		w = 0;
		for (turns = 0; rows[i].writes[w] != END || open; turns++) {
			/* Each turn takes a write or cuts: a window that does
			 * not close at its own end would spin. */
			if (turns > 2 * NROWS(rows[i].writes))
				fail_msg("%s: the window never closes",
				    rows[i].what);
			/* Sleep until the next event. */
			now = rows[i].writes[w] != END ? rows[i].writes[w] : -1;
			if (open) {
				end = worker_window_end(&p, first, last);
				now = worker_deadline(now, end);
			}
			/* Writes at this instant arrive first (the inbox is
			 * taken before the decisions). */
			while (rows[i].writes[w] != END &&
			    rows[i].writes[w] == now) {
				if (!open)
					first = now;
				open = 1;
				last = now;
				w++;
			}
			if (open && worker_window_closed(&p, now, first, last,
			    0)) {
				assert_true(n < NROWS(cuts));
				cuts[n++] = now;
				open = 0;
			}
		}
		for (k = 0; rows[i].cuts[k] != END; k++) {
			if (k >= n || cuts[k] != rows[i].cuts[k])
				fail_msg("%s: cut %zu at %lld, want %lld",
				    rows[i].what, k, k < n ?
				    (long long)cuts[k] : -1LL,
				    (long long)rows[i].cuts[k]);
		}
		if (k != n)
			fail_msg("%s: %zu cuts, want %zu", rows[i].what, n, k);
	}
}

/* --- limits ---------------------------------------------------------- */

static void
test_fits(void **state)
{
	static const struct {
		size_t	 inflight_files, inflight_wild, files, wild;
		int	 fits;
	} rows[] = {
		{ 0, 0, 3000, 0, 1 },
		{ 0, 0, 3001, 0, 0 },
		{ 0, 0, 2985, 15, 1 },
		{ 0, 0, 0, 15, 1 },
		{ 0, 0, 0, 16, 0 },
		{ 2999, 0, 1, 0, 1 },
		{ 2999, 0, 2, 0, 0 },
		{ 0, 14, 0, 1, 1 },
		{ 0, 14, 0, 2, 0 },
		{ 0, 15, 1, 0, 1 },	/* files fit beside 15 wildcards */
		{ 0, 15, 0, 1, 0 },
		{ 3000, 0, 0, 1, 1 },	/* a wildcard beside 3,000 files */
		{ 3000, 0, 1, 0, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++)
		assert_int_equal(worker_fits(rows[i].inflight_files,
		    rows[i].inflight_wild, rows[i].files, rows[i].wild),
		    rows[i].fits);
}

/* --- the call due, pacing ---------------------------------------------- */

#define MAXB	4

struct bspec {
	int		 state;		/* 0 none, 'u' unsent, 'i' inflight */
	int64_t		 next_ms;
	size_t		 files, wild;
};

struct dspec {
	size_t		 inflight_files, inflight_wild;
	struct bspec	 b[MAXB];
};

/* Build distributions from specs; batch ids are dist * 10 + index. */
static void
build(const struct dspec *spec, size_t n, struct dist *d,
    struct batch (*b)[MAXB])
{
	size_t	 i, k;

	memset(d, 0, n * sizeof(*d));
	for (i = 0; i < n; i++) {
		d[i].inflight_files = spec[i].inflight_files;
		d[i].inflight_wild = spec[i].inflight_wild;
		for (k = 0; k < MAXB && spec[i].b[k].state != 0; k++) {
			memset(&b[i][k], 0, sizeof(b[i][k]));
			b[i][k].id = i * 10 + k;
			b[i][k].state = spec[i].b[k].state == 'i' ?
			    B_INFLIGHT : B_UNSENT;
			b[i][k].next_ms = spec[i].b[k].next_ms;
			b[i][k].n_files = spec[i].b[k].files;
			b[i][k].n_wild = spec[i].b[k].wild;
			if (k > 0)
				b[i][k - 1].next = &b[i][k];
			else
				d[i].batches = &b[i][0];
		}
	}
}

static void
test_pick(void **state)
{
	static const struct {
		const char	*what;
		struct dspec	 d[3];
		size_t		 n;
		int64_t		 now, next_call;
		int64_t		 due;		/* -1: nothing */
		int		 id;		/* -1: none due now */
		int		 poll;
	} rows[] = {
		{ "nothing queued", { { 0, 0, { { 0 } } } }, 1, 100, 0,
		    -1, -1, 0 },
		{ "an unjournaled batch is due at once",
		    { { 0, 0, { { 'u', -1, 1, 0 } } } }, 1, 100, 0,
		    0, 0, 0 },
		{ "a retry waits for its time",
		    { { 0, 0, { { 'u', 500, 1, 0 } } } }, 1, 100, 0,
		    500, -1, 0 },
		{ "pacing holds a due call back",
		    { { 0, 0, { { 'u', 50, 1, 0 } } } }, 1, 100, 2000,
		    2000, -1, 0 },
		{ "pacing over: the call goes",
		    { { 0, 0, { { 'u', 50, 1, 0 } } } }, 1, 2000, 2000,
		    2000, 0, 0 },
		{ "a poll comes due",
		    { { 10, 0, { { 'i', 90, 10, 0 } } } }, 1, 100, 0,
		    90, 0, 1 },
		{ "the earliest across distributions",
		    { { 0, 0, { { 'u', 80, 1, 0 } } },
		    { 0, 0, { { 'u', 60, 1, 0 } } },
		    { 5, 0, { { 'i', 70, 5, 0 } } } }, 3, 100, 0,
		    60, 10, 0 },
		{ "ties go to the first distribution",
		    { { 0, 0, { { 'u', 60, 1, 0 } } },
		    { 0, 0, { { 'u', 60, 1, 0 } } } }, 2, 100, 0,
		    60, 0, 0 },
		{ "later unsent batches wait for the first",
		    { { 0, 0, { { 'u', 500, 1, 0 }, { 'u', 10, 1, 0 } } } },
		    1, 100, 0, 500, -1, 0 },
		{ "batches behind the first unsent one are not looked at",
		    { { 1, 0, { { 'i', 400, 1, 0 }, { 'u', 300, 1, 0 },
		    { 'i', 20, 1, 0 } } } }, 1, 100, 0, 300, -1, 0 },
		{ "no room: the unsent batch waits, polls go on",
		    { { 2990, 0, { { 'i', 50, 2990, 0 },
		    { 'u', 0, 20, 0 } } } }, 1, 100, 0, 50, 0, 1 },
		{ "no room for wildcards, another distribution goes",
		    { { 0, 15, { { 'u', 0, 0, 1 } } },
		    { 0, 0, { { 'u', 90, 3, 0 } } } }, 2, 100, 0,
		    90, 10, 0 },
		{ "a batch without room holds the later ones back",
		    { { 0, 15, { { 'u', 0, 0, 1 }, { 'u', 0, 5, 0 } } } }, 1,
		    100, 0, -1, -1, 0 },
		{ "no room and nothing else: nothing to call",
		    { { 0, 15, { { 'u', 0, 0, 1 } } } }, 1, 100, 0,
		    -1, -1, 0 },
	};
	struct dist	 d[3];
	struct batch	 b[3][MAXB], *got;
	size_t		 i, di;
	int64_t		 due;
	int		 poll;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		build(rows[i].d, rows[i].n, d, b);
		due = worker_pick(d, rows[i].n, rows[i].now,
		    rows[i].next_call, &di, &got, &poll);
		if (due != rows[i].due)
			fail_msg("%s: due %lld, want %lld", rows[i].what,
			    (long long)due, (long long)rows[i].due);
		if (rows[i].id < 0) {
			if (got != NULL)
				fail_msg("%s: batch %llu picked", rows[i].what,
				    (unsigned long long)got->id);
			continue;
		}
		if (got == NULL || (int)got->id != rows[i].id ||
		    di != got->id / 10 || poll != rows[i].poll)
			fail_msg("%s: picked %lld (poll %d), want %d (poll %d)",
			    rows[i].what, got != NULL ? (long long)got->id :
			    -1LL, poll, rows[i].id, rows[i].poll);
	}
}

static void
test_pace(void **state)
{
	static const struct {
		double	 rps;
		int64_t	 now, next;
	} rows[] = {
		{ 0.5, 1000, 3000 },
		{ 1, 0, 1000 },
		{ 3, 0, 333 },
		{ 50, 10, 30 },
		{ 1000, 10, 11 },
		{ 0.01, 0, 100000 },
	};
	struct worker_policy	 p = base;
	size_t			 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.max_requests_per_second = rows[i].rps;
		assert_int_equal(worker_pace(&p, rows[i].now), rows[i].next);
	}
}

/*
 * Three distributions with one unjournaled batch each and polls every
 * 4 s, as the loop would run them: pick, call (sending takes 100 ms on
 * the fake clock), pace, repeat.  Calls are spaced by the pacing, go in
 * the order they are due, and no distribution starves.
 */
static void
test_pacing_replay(void **state)
{
	static const struct {
		double	 rps;
		int64_t	 calls[8];	/* when each call starts */
		int	 ids[8];
	} rows[] = {
		{ 0.5, { 0, 2100, 4200, 6300, 8400, 10500 },
		    { 0, 10, 20, 0, 10, 20 } },
		{ 10, { 0, 200, 400, 4100, 4300, 4500 },
		    { 0, 10, 20, 0, 10, 20 } },
	};
	static const struct dspec spec[3] = {
		{ 0, 0, { { 'u', -1, 1, 0 } } },
		{ 0, 0, { { 'u', -1, 1, 0 } } },
		{ 0, 0, { { 'u', -1, 1, 0 } } },
	};
	struct worker_policy	 p = base;
	struct dist		 d[3];
	struct batch		 b[3][MAXB], *got;
	size_t			 i, k, di;
	int64_t			 now, next_call, due;
	int			 poll;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.max_requests_per_second = rows[i].rps;
		build(spec, 3, d, b);
		now = 0;
		next_call = 0;
		for (k = 0; k < 6; k++) {
			due = worker_pick(d, 3, now, next_call, &di, &got,
			    &poll);
			assert_true(due >= 0);
			if (got == NULL) {
				now = due;	/* the loop sleeps until then */
				due = worker_pick(d, 3, now, next_call, &di,
				    &got, &poll);
			}
			assert_non_null(got);
			assert_int_equal(now, rows[i].calls[k]);
			assert_int_equal((int)got->id, rows[i].ids[k]);
			now += 100;		/* the call */
			got->state = B_INFLIGHT;
			got->next_ms = now + 4000;	/* poll_interval */
			next_call = worker_pace(&p, now);
		}
	}
}

/* --- backoff ----------------------------------------------------------- */

/* The injected random source: xorshift32, so a run is reproducible. */
static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_backoff(void **state)
{
	static const struct {
		int64_t		 base_ms, max_ms;
		unsigned	 attempts;
		uint32_t	 jitter;
		int64_t		 want;
	} rows[] = {
		/* Jitter 0: the lower end, half the delay. */
		{ 1000, 300000, 1, 0, 500 },
		{ 1000, 300000, 2, 0, 1000 },
		{ 1000, 300000, 3, 0, 2000 },
		{ 1000, 300000, 9, 0, 128000 },
		/* The doubling stops at retry_max. */
		{ 1000, 300000, 10, 0, 150000 },
		{ 1000, 300000, 40, 0, 150000 },
		{ 1000, 300000, 4000000000u, 0, 150000 },
		/* The upper end: d/2 + d/2. */
		{ 1000, 300000, 1, 500, 1000 },
		{ 1000, 300000, 10, 150000, 300000 },
		/* Jitter wraps around the half delay plus one. */
		{ 1000, 300000, 1, 501, 500 },
		{ 1000, 300000, 1, 1000, 999 },
		{ 1000, 300000, 1, UINT32_MAX, 500 + UINT32_MAX % 501 },
		/* test configurations: 100 ms doubling to 1 s. */
		{ 100, 1000, 1, 7, 57 },
		{ 100, 1000, 4, 0, 400 },
		{ 100, 1000, 5, 0, 500 },
		/* A base above the max is cut to the max. */
		{ 5000, 1000, 1, 0, 500 },
	};
	struct worker_policy	 p = base;
	uint32_t		 seed, again;
	int64_t			 d, v, lo, hi;
	unsigned		 a, k;
	size_t			 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.retry_base_ms = rows[i].base_ms;
		p.retry_max_ms = rows[i].max_ms;
		assert_int_equal(worker_backoff(&p, rows[i].attempts,
		    rows[i].jitter), rows[i].want);
	}
	/* With a random source: always in [d/2, d], both halves of the
	 * range used, and the same seed gives the same delays. */
	p = base;
	for (a = 1; a <= 12; a++) {
		d = p.retry_base_ms << (a - 1);
		if (d > p.retry_max_ms)
			d = p.retry_max_ms;
		lo = d;
		hi = 0;
		seed = 2463534242u;
		again = 2463534242u;
		for (k = 0; k < 2000; k++) {
			v = worker_backoff(&p, a, xorshift(&seed));
			assert_true(v >= d / 2 && v <= d);
			assert_int_equal(v, worker_backoff(&p, a,
			    xorshift(&again)));
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
		assert_true(lo < d / 2 + d / 8);
		assert_true(hi > d - d / 8);
	}
}

/* --- give_up_after ----------------------------------------------------- */

static void
test_give_up(void **state)
{
	static const struct {
		int64_t	 after, refused, now;
		int	 now_due;
		int64_t	 at;
	} rows[] = {
		{ 86400000, 0, 999999999, 0, -1 },	/* not refused */
		{ 86400000, 1000, 1000, 0, 86401000 },
		{ 86400000, 1000, 86400999, 0, 86401000 },
		{ 86400000, 1000, 86401000, 1, 86401000 },
		{ 2000, 500, 2499, 0, 2500 },
		{ 2000, 500, 2500, 1, 2500 },
	};
	struct worker_policy	 p = base;
	size_t			 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.give_up_after_ms = rows[i].after;
		assert_int_equal(worker_give_up_now(&p, rows[i].now,
		    rows[i].refused), rows[i].now_due);
		assert_int_equal(worker_give_up_at(&p, rows[i].refused),
		    rows[i].at);
	}
}

/* --- money -------------------------------------------------------------- */

static void
test_budget(void **state)
{
	static const struct {
		unsigned	 free_paths;
		double		 budget_usd;
		uint64_t	 used;
		enum worker_budget level;
		double		 weight;	/* eviction_weight 0.05 */
		double		 cost;
	} rows[] = {
		{ 1000, 0, 0, WORKER_BUDGET_NORMAL, 0.05, 0 },
		{ 1000, 0, 799, WORKER_BUDGET_NORMAL, 0.05, 0 },
		{ 1000, 0, 800, WORKER_BUDGET_TIGHT, 0.01, 0 },
		{ 1000, 0, 999, WORKER_BUDGET_TIGHT, 0.01, 0 },
		{ 1000, 0, 1000, WORKER_BUDGET_OVER, 0.001, 0 },
		{ 1000, 0, 1200, WORKER_BUDGET_OVER, 0.001, 1.0 },
		/* $5 buys 1,000 more paths. */
		{ 1000, 5.0, 1200, WORKER_BUDGET_NORMAL, 0.05, 1.0 },
		{ 1000, 5.0, 1600, WORKER_BUDGET_TIGHT, 0.01, 3.0 },
		{ 1000, 5.0, 2000, WORKER_BUDGET_OVER, 0.001, 5.0 },
		/* No free paths and no budget: every path is over. */
		{ 0, 0, 0, WORKER_BUDGET_OVER, 0.001, 0 },
		{ 0, 0, 3, WORKER_BUDGET_OVER, 0.001, 0.015 },
	};
	struct worker_policy	 p = base;
	enum worker_budget	 level;
	size_t			 i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		p.monthly_free_paths = rows[i].free_paths;
		p.monthly_budget_usd = rows[i].budget_usd;
		level = worker_budget_level(&p, rows[i].used);
		assert_int_equal(level, rows[i].level);
		assert_float_equal(worker_eviction_weight(&p, level),
		    rows[i].weight, 1e-12);
		assert_float_equal(worker_month_cost(&p, rows[i].used),
		    rows[i].cost, 1e-9);
		/* The paths past the free ones, priced, are the cost. */
		assert_float_equal((double)worker_billable(&p, 0,
		    rows[i].used) * CF_PRICE_PER_PATH, rows[i].cost, 1e-9);
	}
	assert_string_equal(worker_budget_name(WORKER_BUDGET_NORMAL),
	    "normal");
	assert_string_equal(worker_budget_name(WORKER_BUDGET_TIGHT), "tight");
	assert_string_equal(worker_budget_name(WORKER_BUDGET_OVER), "over");
}

/* --- the plan `s3inval plan` shares -------------------------------------- */

#define ETAG	"\"0123456789abcdef0123456789abcdef\""

struct plan_env {
	char			 dir[256];
	struct cfg		*cfg;
	struct etag_index	*index;
};

static int
plan_setup(void **state)
{
	static struct plan_env	 pe;
	static char		 e1[] = "S3INVAL_AUTH_MODE=none";
	static char		 e2[] =
	    "S3INVAL_CLOUDFRONT_MONTHLY_FREE_PATHS=100";
	static char		 e3[] = "S3INVAL_BUCKET_NAME=blog";
	static char		 e4[] = "S3INVAL_BUCKET_DISTRIBUTIONS=E1";
	char			 sd[300], key[64];
	char			*env[] = { e1, e2, e3, e4, sd, NULL };
	const char		*t = getenv("TMPDIR");
	int			 i;

	memset(&pe, 0, sizeof(pe));
	snprintf(pe.dir, sizeof(pe.dir), "%s/test_worker.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(pe.dir) == NULL)
		return -1;
	snprintf(sd, sizeof(sd), "S3INVAL_SERVER_STATE_DIR=%s", pe.dir);
	if (cfg_load(NULL, env, stderr, &pe.cfg) != 0)
		return -1;
	/* A folder of 104 pages and a few more; the whole key set known
	 * from a listing just now. */
	pe.index = etag_index_open(pe.dir, 0);
	if (pe.index == NULL)
		return -1;
	for (i = 0; i < 104; i++) {
		snprintf(key, sizeof(key), "a/f%03d.html", i);
		if (etag_index_put(pe.index, "blog", key, ETAG, util_now(),
		    1) == -1)
			return -1;
	}
	if (etag_index_put(pe.index, "blog", "index.html", ETAG, util_now(),
	    1) == -1 || etag_index_put(pe.index, "blog", "b/index.html", ETAG,
	    util_now(), 1) == -1)
		return -1;
	etag_index_mark_listed(pe.index, "blog", util_now());
	*state = &pe;
	return 0;
}

static int
plan_teardown(void **state)
{
	struct plan_env	*pe = *state;
	char		 path[300];

	etag_index_close(pe->index);
	cfg_free(pe->cfg);
	snprintf(path, sizeof(path), "%s/usage", pe->dir);
	unlink(path);
	return rmdir(pe->dir);
}

static void
test_plan_keys(void **state)
{
	static const char *const changed[] = {
		"a/f000.html", "a/f001.html", "a/f002.html", "a/f003.html"
	};
	static const char *const b_index[] = { "b/index.html" };
	static const struct {
		const char		*what;
		const char *const	*keys;
		size_t			 n;
		int			 dist, index;
		uint64_t		 month;	/* 100 free paths */
		const char		*first;	/* the first path */
		size_t			 paths, evicted, known;
		enum worker_budget	 budget;
		uint64_t		 month_after, billable;
		double			 month_cost;
	} rows[] = {
		/* Normal: 100 needless evictions cost more than 3 paths. */
		{ "normal budget", changed, 4, 1, 1, 0, "/a/f000.html",
		    4, 0, 108, WORKER_BUDGET_NORMAL, 4, 0, 0 },
		{ "still normal", changed, 4, 1, 1, 79, "/a/f000.html",
		    4, 0, 108, WORKER_BUDGET_NORMAL, 83, 0, 0 },
		/* Tight (80% of the free paths used): evictions weigh a
		 * fifth, one wildcard is cheaper. */
		{ "tight budget", changed, 4, 1, 1, 80, "/a/*",
		    1, 100, 108, WORKER_BUDGET_TIGHT, 81, 0, 0 },
		{ "over the free paths", changed, 4, 1, 1, 120, "/a/*",
		    1, 100, 108, WORKER_BUDGET_OVER, 121, 1, 0.105 },
		{ "at the free paths", changed, 4, 1, 1, 100, "/a/*",
		    1, 100, 108, WORKER_BUDGET_OVER, 101, 1, 0.005 },
		/* Without the index (or a distribution): the threshold
		 * rule, 4 changed files stay 4 paths whatever the month. */
		{ "no index", changed, 4, 1, 0, 120, "/a/f000.html",
		    4, 0, 0, WORKER_BUDGET_OVER, 124, 4, 0.12 },
		{ "no distribution", changed, 4, 0, 1, 120, "/a/f000.html",
		    4, 0, 0, WORKER_BUDGET_OVER, 124, 4, 0.12 },
		/* The mapping is the worker's: an index document is its
		 * folder too; with nothing else in the folder, one wildcard
		 * evicts nothing. */
		{ "index document", b_index, 1, 1, 0, 0, "/b/",
		    2, 0, 0, WORKER_BUDGET_NORMAL, 2, 0, 0 },
		{ "index document, known alone", b_index, 1, 1, 1, 0, "/b/*",
		    1, 0, 108, WORKER_BUDGET_NORMAL, 1, 0, 0 },
	};
	struct plan_env		*pe = *state;
	const struct cfg_bucket	*bk;
	struct worker_plan_in	 in;
	struct worker_plan_out	 out;
	size_t			 i;

	bk = cfg_bucket_find(pe->cfg, "blog");
	assert_non_null(bk);
	for (i = 0; i < NROWS(rows); i++) {
		memset(&in, 0, sizeof(in));
		in.cfg = pe->cfg;
		in.dist = rows[i].dist ? "E1" : NULL;
		in.index = rows[i].index ? pe->index : NULL;
		in.month_paths = rows[i].month;
		assert_int_equal(worker_plan_keys(&in, bk, rows[i].keys,
		    rows[i].n, &out), 0);
		if (out.plan.paths.n != rows[i].paths ||
		    strcmp(out.plan.paths.v[0], rows[i].first) != 0 ||
		    out.plan.n_evicted != rows[i].evicted ||
		    out.n_known != rows[i].known || out.budget !=
		    rows[i].budget || out.month_paths != rows[i].month_after ||
		    out.billable != rows[i].billable)
			fail_msg("%s: %zu paths from %s, %zu evicted of %zu "
			    "known, budget %s, month %llu, billable %llu",
			    rows[i].what, out.plan.paths.n,
			    out.plan.paths.n > 0 ? out.plan.paths.v[0] : "-",
			    out.plan.n_evicted, out.n_known,
			    worker_budget_name(out.budget),
			    (unsigned long long)out.month_paths,
			    (unsigned long long)out.billable);
		assert_int_equal(out.n_changed, rows[i].n == 1 ? 2 : 4);
		assert_float_equal(out.month_cost_usd, rows[i].month_cost,
		    1e-9);
		assert_float_equal(out.cost_usd, (double)rows[i].billable *
		    CF_PRICE_PER_PATH, 1e-9);
		worker_plan_out_fini(&out);
	}
}

static void
test_usage_read(void **state)
{
	struct plan_env	*pe = *state;
	char		 line[300], why[600];
	uint64_t	 n = 99;
	FILE		*fp;
	int		 month = worker_this_month();

	/* No file: not known, and why. */
	assert_int_equal(worker_usage_read(pe->dir, &n, why, sizeof(why)), -1);
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "usage"));
	/* This month's lines of every distribution add up; others not. */
	snprintf(line, sizeof(line), "%s/usage", pe->dir);
	fp = fopen(line, "w");
	assert_non_null(fp);
	fprintf(fp, "%d E1 7\n%d E2 5\n%d E1 1000\n", month, month,
	    month == 202001 ? 202002 : 202001);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(worker_usage_read(pe->dir, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 12);
	/* A damaged line makes the month unknown, never a wrong count. */
	/* After "yyyymm " of this month, but for the first. */
	static const char *const damaged[] = {
		"nonsense", "E1 99999999999999999999", "E1 -5", "E1 43x9",
		"E1 ", " E1 7", "E1 7 8",
	};
	size_t	 i;

	for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		fp = fopen(line, "w");
		assert_non_null(fp);
		fprintf(fp, "%d E2 5\n", month);
		if (i == 0)
			fprintf(fp, "%s\n", damaged[i]);
		else
			fprintf(fp, "%d %s\n", month, damaged[i]);
		assert_int_equal(fclose(fp), 0);
		n = 99;
		if (worker_usage_read(pe->dir, &n, why, sizeof(why)) != -1 ||
		    n != 0 || strstr(why, "damaged") == NULL)
			fail_msg("line \"%s\": n %llu, why %s", damaged[i],
			    (unsigned long long)n, why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_coalesce_stream),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_pace),
		cmocka_unit_test(test_pacing_replay),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_budget),
		cmocka_unit_test_setup_teardown(test_plan_keys, plan_setup,
		    plan_teardown),
		cmocka_unit_test_setup_teardown(test_usage_read, plan_setup,
		    plan_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
