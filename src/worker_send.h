/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_send: the worker's CloudFront calls (see worker_send.c).  Worker
 * thread; mtx held on entry and on return, released during the calls.
 */
#ifndef S3I_WORKER_SEND_H
#define S3I_WORKER_SEND_H

#include <stddef.h>

#include "worker_state.h"

/* 1 when batch b fits distribution d's limits beside those in progress. */
int	worker_fits(const struct dist *d, const struct batch *b);
/* Send batch b of distribution di, or poll it when in progress. */
void	worker_send(size_t di, struct batch *b);
void	worker_poll(size_t di, struct batch *b);
/* Drop the paths of distribution di, refused for give_up_after. */
void	worker_give_up(size_t di);

#endif
