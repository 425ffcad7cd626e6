/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_worker: from journaled writes to CloudFront invalidations
 * (DESIGN §4-§7), on one background thread (the Varnish expiry-thread
 * pattern).
 *
 * Producers (request threads) call inval_record(): the write's keys are
 * appended to the journal (durably, group commit) and posted to the
 * worker's inbox; only then may the client see its 2xx.  The worker
 * coalesces per distribution (quiet period, max delay), maps keys to paths,
 * plans, journals each batch with its CallerReference before sending it,
 * submits it paced and retried, polls it until Completed, and compacts the
 * journal.  On start the journal is replayed and everything not confirmed
 * is resumed.
 *
 * Sequence numbers: a batch of distribution D covers every write of D's
 * buckets with seq <= its upto_seq.  A write whose append finished after
 * the worker cut a batch past its seq would look covered on replay, so
 * inval_record() appends such a write again (a new, higher seq) before
 * returning: no acknowledged write is ever only "covered" by a batch that
 * does not hold its paths.
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

/*
 * Record a successful write of keys in bucket (client-facing name).
 * Returns 0 once durable, -1 when the journal cannot be written (the
 * client must then get 503 so it retries).
 */
int	inval_record(const struct cfg_bucket *, const char *bucket,
	    const char *const *keys, size_t n);

struct inval_flush_result {
	int		 done;		/* everything asked for is Completed */
	uint64_t	 pending_paths;
	uint64_t	 batches_open;	/* unsent or in progress */
	int64_t		 waited_ms;
};

/* End the quiet period now; with wait_ms > 0, wait until every write
 * acknowledged before the call is Completed at CloudFront or time runs
 * out. */
void	inval_flush(int64_t wait_ms, struct inval_flush_result *);
/* Shutdown: every inval_flush() waiting, and every later one, returns
 * now with what is done so far (the admin listener cannot stop while a
 * flush?wait holds a connection). */
void	inval_flush_abort(void);

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

/* 1 when the journal accepts writes (for /readyz). */
int	inval_ready(void);

void	inval_metrics(struct buf *);	/* Prometheus text */
void	inval_status_json(struct buf *);	/* a JSON object */

#endif
