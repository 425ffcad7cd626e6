/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_state: the invalidation worker's state, shared by the files of
 * its family (worker_*.c and inval_worker.c; the public face is
 * inval_worker.h), and the objects it is made of: per distribution, the
 * paths pending and the batches unsent or in progress; the writes kept
 * for compaction; the inbox; the ring of recent batches for /status.
 *
 * Threading (the Varnish expiry-thread pattern): the struct worker says
 * which fields are immutable after inval_start(), which are shared under
 * worker.mtx (producers, flush waiters, /status and /metrics read or post
 * them), and which the worker thread owns and touches without the mutex.
 * A batch on a distribution's list is read under the mutex by /status;
 * only the worker thread changes or frees it.
 *
 * Not for use outside the family: callers use inval_worker.h.
 */
#ifndef S3I_WORKER_STATE_H
#define S3I_WORKER_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_worker.h"
#include "journal.h"
#include "metrics.h"
#include "worker_policy.h"

#define RECENT_MAX		20
#define RECENT_PATHS		100	/* listed per recent batch */

enum batch_state {
	B_UNSENT = 0,
	B_INFLIGHT,
	B_DONE
};

struct batch {
	uint64_t	 id;
	char		 ref[80];		/* CallerReference */
	uint64_t	 from_seq, upto_seq;
	struct strvec	 paths;
	size_t		 n_wild, n_files;
	char		*inval_id;
	enum batch_state state;
	unsigned	 attempts;
	int64_t		 next_ms;		/* next send or poll */
	int64_t		 created;		/* wall clock */
	struct batch	*next;
};

struct dist {
	char		*id;
	struct strvec	 pending;		/* paths, unsorted */
	uint64_t	 pending_from;		/* 0: none pending */
	uint64_t	 pending_upto;
	uint64_t	 planning_from;		/* taken, not yet in batches */
	uint64_t	 covered;		/* highest upto journaled */
	int64_t		 first_ms, last_ms;
	struct batch	*batches;		/* unsent and in progress */
	size_t		 inflight_files, inflight_wild;
	uint64_t	 month_paths;
	/* Totals for /metrics and /status, named by metrics_table.h's
	 * DIST_METRIC rows: count[DM_BATCHES_SENT]... */
	uint64_t	 count[DM__COUNT];
	uint64_t	 keys_pending;		/* keys behind pending paths */
	uint64_t	 skipped_pending;	/* unchanged writes since */
	int64_t		 last_skip_ms;
	char		 last_error[256];	/* cleared by a success */
	char		 last_rejected[256];	/* kept: a permanent error */
	/* Refused: NoSuchDistribution or AccessDenied (issue 13 item 5). */
	int64_t		 refused_ms;		/* since (mono); 0: not */
	uint64_t	 refused_gen;		/* flush_gen the attempt saw */
	char		 refused_why[200];
};

struct write_rec {			/* kept for compaction */
	uint64_t	 seq;
	char		*bucket;
	struct strvec	 keys;
	struct write_rec *next;
};

struct inbox_item {
	uint64_t	 seq;
	const struct cfg_bucket *bucket;
	char		*bucket_name;
	struct strvec	 keys;
	struct inbox_item *next;
};

/* One write being recorded (inval_record_async), until its caller is
 * told. */
struct record {
	const struct cfg_bucket	*bk;
	char			*bucket;
	struct strvec		 keys;
	inval_done_fn		 done;
	void			*arg;
	int			 tries;
	struct record		*next;		/* on worker.held */
};

struct recent {
	uint64_t	 id;
	char		 dist[64];
	size_t		 n_paths, n_wild;
	char		 inval_id[64];
	enum batch_state state;
	int64_t		 created, completed;
	char		 note[96];
	struct strvec	 paths;		/* its first RECENT_PATHS */
};

struct worker {
	/* Immutable after start. */
	const struct cfg	*cfg;
	struct worker_policy	 policy;	/* cfg's [cloudfront] */
	struct journal		*j;
	pthread_t		 thread;
	int			 started;

	/* Shared, under mtx. */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 wake;		/* the worker sleeps on it */
	pthread_cond_t		 progress;	/* flush waiters sleep on it */
	/*
	 * A write is "unposted" from its journal append until it is in the
	 * inbox.  Compaction sets compacting and waits (on posted) until
	 * none is, then snapshots: so no record that is durable but not yet
	 * posted can be left out of a compacted journal.  Writes recorded
	 * meanwhile are held until the new file is in place, so a steady
	 * stream of them cannot starve the compaction.
	 */
	pthread_cond_t		 posted;
	uint64_t		 unposted;
	int			 compacting;
	struct record		*held, **held_tail;
	int			 running;
	int			 flush_now;
	struct inbox_item	*inbox, **inbox_tail;
	struct dist		*dists;
	size_t			 n_dists;
	struct recent		 recent[RECENT_MAX];
	size_t			 n_recent;
	int			 month;		/* yyyymm of month_paths */
	uint64_t		 reappends;
	int			 dirty;		/* compact and prune soon */
	int64_t			 probe_ms;	/* inval_ready()'s last */
	uint64_t		 flush_gen;	/* flushes begun */
	int			 quiesced;	/* flushes wait no more */
	struct journal_stats	 jopen;		/* what the open found */

	/* Owned by the worker thread. */
	struct write_rec	*writes;
	uint64_t		 next_batch_id;
	int64_t			 next_call_ms;
	uint64_t		 compacted_size;
	int			 force_compact;	/* a recovery awaits it */
	char			 instance[33];	/* random, kept in state_dir */
	char			 boot[17];	/* random, this run's */
	struct etag_index	*index;
	int64_t			 index_saved_ms;
	const char		*budget_mode;	/* "normal", "tight", "over" */
};

/* The one worker of the process (defined in inval_worker.c). */
extern struct worker	 worker;

/* Per-distribution state; mtx held. */
struct dist	*worker_dist_find(const char *id);
struct dist	*worker_dist_get(const char *id);	/* NULL: no memory */
/* 1 when id is a distribution of the configuration. */
int		 worker_dist_configured(const char *id);
/* Map one write's keys for every distribution of its bucket into their
 * pending paths; -1 when out of memory.  mtx held. */
int		 worker_merge_write(const struct cfg_bucket *, uint64_t seq,
		    const char *const *keys, size_t n, int64_t now);

/* Batches: made, counted and named by the worker thread. */
struct batch	*worker_batch_new(uint64_t from, uint64_t upto,
		    const char *dist);
void		 worker_batch_free(struct batch *);
void		 worker_batch_count(struct batch *);	/* n_wild, n_files */
void		 worker_batch_ref(struct batch *, const char *dist);
/* Note a batch's news in the ring /status shows.  mtx held. */
void		 worker_recent_note(const struct batch *, const char *dist,
		    const char *note);
/* Forget them (the worker stopped). */
void		 worker_recent_clear(void);

/* Wait on cv with worker.mtx held: at most ms (-1: until signalled). */
void		 worker_cond_wait_ms(pthread_cond_t *cv, int64_t ms);

#endif
