/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_record: writes in (see worker_record.c); what the rest of the
 * worker's family calls.
 */
#ifndef S3I_WORKER_RECORD_H
#define S3I_WORKER_RECORD_H

#include <stdint.h>

/* Merge the inbox into the distributions' pending paths.  mtx held. */
void	worker_take_inbox(int64_t now);

/* Compaction's bracket: hold new writes back and wait until every
 * appended one is posted (mtx held), then append the held ones (no
 * mutex). */
void	worker_record_hold(void);
void	worker_record_release(void);

#endif
