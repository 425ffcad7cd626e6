/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_worker: from journaled writes to CloudFront invalidations
 * (DESIGN §4-§7), on one background thread (the Varnish expiry-thread
 * pattern).
 *
 * Producers (request threads, or an event loop) call inval_record() or
 * inval_record_async(): the write's keys are appended to the journal
 * (durably, group commit, on the journal's commit thread) and posted to
 * the worker's inbox; only then may the client see its 2xx.  The worker
 * coalesces per distribution (quiet period, max delay), maps keys to paths,
 * plans, journals each batch with its CallerReference before sending it,
 * submits it paced and retried, polls it until Completed, and compacts the
 * journal.  On start the journal is replayed and everything not confirmed
 * is resumed.
 *
 * Sequence numbers: a batch of distribution D covers every write of D's
 * buckets with seq <= its upto_seq.  A write whose append finished after
 * the worker cut a batch past its seq would look covered on replay, so
 * such a write is appended again (a new, higher seq) before its caller is
 * told: no acknowledged write is ever only "covered" by a batch that does
 * not hold its paths.
 *
 * Shared, under the worker's mutex: the inbox, the flush request, the
 * per-distribution state that /status and /metrics read.  Owned by the
 * worker thread: planning, journaling and every CloudFront call, made with
 * the mutex released.
 */
#ifndef S3I_INVAL_WORKER_H
#define S3I_INVAL_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "etag_index.h"

/* Open the journal in server.state_dir, replay it, start the thread.
 * Returns 0, or -1 with a message in err. */
int	inval_start(const struct cfg *, char *err, size_t errsz);
/* Stop the thread (a CloudFront call in progress ends first) and close the
 * journal.  Pending work stays in the journal for the next start. */
void	inval_stop(void);

/* 1 when writes to this bucket need invalidations (it has distributions). */
int	inval_bucket_wants(const struct cfg_bucket *);

/* Told how recording a write ended: 0 durable and handed to the worker,
 * -1 not recorded (the client must then get 503 so it retries). */
typedef void (*inval_done_fn)(void *arg, int result);

/*
 * Record a successful write of keys in bucket (client-facing name)
 * without blocking: keys and names are copied, the journal append is
 * queued, and done(arg, result) is called exactly once: from the
 * journal's commit thread once the record is durable (or failed); or,
 * when there is nothing to record (no distribution, no key) or the call
 * cannot even be queued (not started, out of memory), before this
 * returns.  done must not block (it runs on the commit thread) and may
 * call inval_record_async() again.
 */
void	inval_record_async(const struct cfg_bucket *, const char *bucket,
	    const char *const *keys, size_t n, inval_done_fn done, void *arg);

/* inval_record_async() and a wait: returns 0 once durable, -1 when the
 * journal cannot be written (503).  Not from a done callback. */
int	inval_record(const struct cfg_bucket *, const char *bucket,
	    const char *const *keys, size_t n);

#define INVAL_FLUSH_FAILED_MAX	16

/* A distribution that refuses the work a flush waits for. */
struct inval_flush_failed {
	char		 distribution[128];
	uint64_t	 paths;		/* pending and in its batches */
	char		 reason[200];	/* "NoSuchDistribution: ..." */
	int64_t		 give_up_in_ms;	/* then they are dropped */
};

struct inval_flush_result {
	int		 done;		/* everything asked for is Completed */
	uint64_t	 pending_paths;
	uint64_t	 batches_open;	/* unsent or in progress */
	int64_t		 waited_ms;
	int		 stopping;	/* inval_quiesce() cut the wait */
	size_t		 n_failed;
	struct inval_flush_failed failed[INVAL_FLUSH_FAILED_MAX];
};

/*
 * End the quiet period now; with wait_ms > 0, wait until every write
 * acknowledged before the call is Completed at CloudFront or time runs
 * out.  Work for a distribution that refuses it (NoSuchDistribution,
 * AccessDenied) is not waited on: it is asked once more at once, and if
 * that attempt is refused too, listed in res->failed (done is then 0);
 * the call returns as soon as nothing else is open.  After
 * inval_quiesce(), no call waits.
 */
void	inval_flush(int64_t wait_ms, struct inval_flush_result *);
/* inval_flush() for the shutdown's own flush (flush_on_shutdown): it
 * waits even after inval_quiesce(). */
void	inval_flush_final(int64_t wait_ms, struct inval_flush_result *);

/*
 * Shutdown has begun: flushes waiting now return at once with what is
 * still open (res->stopping set), and later ones do not wait.  Call it
 * first thing on SIGTERM, before the front and the admin listener are
 * stopped (MHD_stop_daemon waits for a handler blocked in a flush).
 */
void	inval_quiesce(void);

/* res as the admin listener's JSON answer (one line; -1: out of memory):
 * {"done":..,"paths_pending":..,"batches_open":..,"waited_ms":..,
 *  "stopping":..,"failed":[{"distribution":..,"paths":..,"reason":..,
 *  "gives_up_in_s":..}]} */
int	inval_flush_json(struct buf *, const struct inval_flush_result *);

/* The ETag index (issue: content-aware skip), or NULL before start. */
struct etag_index *inval_index(void);

/* The paths distribution dist serves now, as far as idx knows (what a
 * wildcard would evict), sorted; nothing when nothing is known.  For the
 * worker and `s3inval plan`. */
struct strvec;
void	inval_known_paths(const struct cfg *, struct etag_index *,
	    const char *dist, struct strvec *);

/* n writes to bucket stored the same ETag again and were not journaled:
 * counted per distribution, shown with the next batch. */
void	inval_note_skipped(const struct cfg_bucket *, size_t n);

/* 1 when the journal accepts writes (for /readyz): 0 from a failed
 * append until one succeeds again; while failing, a call may try one
 * (blocking for an fdatasync, at most once a second). */
int	inval_ready(void);

void	inval_metrics(struct buf *);	/* Prometheus text */
/* /status's "invalidation" object; NULL when out of memory. */
json_t	*inval_status_json(void);

#endif
