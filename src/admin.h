/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin: the operator's listener (DESIGN §8) on server.admin_listen:
 * GET /healthz, GET /readyz, GET /metrics (Prometheus text), GET /status
 * (JSON), POST /flush[?wait=SECONDS][&strict=1].
 *
 * Who may ask (admin_auth.h): a Host naming the listen address, and the
 * bearer token when server.admin_token (or admin_token_file) is set.  It
 * binds to loopback unless admin_allow_remote.
 *
 * Threads (issue 14: idle and slow clients must not starve /healthz):
 * libmicrohttpd serves every connection from one internal poll() thread,
 * whose handlers never block.  The two answers that may take long
 * (/readyz asks the upstream; /flush?wait=S waits for CloudFront) run on a
 * thread of their own while their connection is suspended, at most
 * ADMIN_JOBS_MAX at once.  An acceptor thread owns the listen socket: past
 * ADMIN_CONN_MAX connections it answers 503 itself (counted, logged); it
 * is also the watchdog that closes a connection whose head is not complete
 * ADMIN_HEAD_S seconds after it opened or after its previous answer (idle
 * and slowloris alike), or whose answer the client does not read in time
 * (ADMIN_SEND_S seconds plus one per ADMIN_MIN_RATE bytes).
 */
#ifndef S3I_ADMIN_H
#define S3I_ADMIN_H

#include "cfg.h"

#define ADMIN_CONN_MAX	256	/* connections at once; then 503 */
#define ADMIN_JOBS_MAX	16	/* /readyz and /flush answers in progress */
#define ADMIN_HEAD_S	10	/* open or idle -> a complete head */
#define ADMIN_ANSWER_S	2	/* at stop: time left to send the jobs' answers */
#define ADMIN_SEND_S	10	/* an answer is read within this... */
#define ADMIN_MIN_RATE	1024	/* ...plus a second per this many bytes */

struct admin;

/* Bind server.admin_listen and start serving; NULL after logging why. */
struct admin *admin_start(const struct cfg *);
/* Stop accepting, end the waits of /flush, close every connection. */
void	admin_stop(struct admin *);

#endif
