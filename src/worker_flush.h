/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_flush: the worker's side of a flush (see worker_flush.c); the
 * callers' side is in inval_worker.h.
 */
#ifndef S3I_WORKER_FLUSH_H
#define S3I_WORKER_FLUSH_H

#include <stdint.h>

/* A turn of the loop after planning.  Worker thread, mtx held. */
void	worker_flush_turn(int64_t now);

#endif
