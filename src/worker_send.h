/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_send: the worker's CloudFront calls (see worker_send.c).  Worker
 * thread; mtx held on entry and on return, released during the calls.
 */
#ifndef S3I_WORKER_SEND_H
#define S3I_WORKER_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "worker_state.h"

/* A call the loop hands off: send batch b of distribution di, or poll
 * it. */
struct worker_call {
	size_t		 di;
	struct batch	*b;		/* NULL: nothing due now */
	int		 poll;
};

/* The call due first and when (-1: none); call->b set when due now. */
int64_t	worker_call_due(int64_t now, struct worker_call *call);
/* Make it: one CloudFront call, its answer recorded, pacing set. */
void	worker_call(const struct worker_call *);

/* Drop the paths of distributions refused for give_up_after; when that
 * is next due (-1: never). */
void	worker_give_up_due(int64_t now);
int64_t	worker_give_up_next(void);

#endif
