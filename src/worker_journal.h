/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_journal: the worker's records in the journal (see
 * worker_journal.c for what and when, and its threading rules).
 */
#ifndef S3I_WORKER_JOURNAL_H
#define S3I_WORKER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "worker_state.h"

/* At start, before the thread: the instance id, the journal opened and
 * replayed into the state, damage covered and reported.  worker.cfg is
 * set.  Returns 0, or -1 with a message in err (the journal closed). */
int	worker_journal_open(char *err, size_t errsz);

/* Journal a batch before it is first sent.  Worker thread, no mutex. */
int	worker_journal_batch(struct batch *, const char *dist);
/* Journal ACCEPTED or COMPLETED for a batch; a failure is logged and
 * counted.  Worker thread, no mutex. */
void	worker_journal_mark(enum journal_type, uint64_t id,
	    const char *inval_id);

/* Forget the writes every distribution has put in a batch.  mtx held. */
void	worker_prune_writes(void);
/* Rewrite the journal with only what is still needed, when it has grown
 * enough or a recovery awaits it.  Worker thread, no mutex. */
void	worker_compact(void);

#endif
