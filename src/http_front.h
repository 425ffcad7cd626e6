/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_front: the client-facing S3 listener (libmicrohttpd).
 *
 * Threads: server.threads event loops (one per core by default), each
 * with its own libmicrohttpd daemon in external-epoll mode and its own
 * upstream client (a curl multi handle on the same epoll).  Loops accept
 * from the one listening socket; a connection, its requests and their
 * upstream transfers stay on the loop that accepted it.  A request never
 * blocks its loop: while it waits (for the upstream to want the body or
 * to answer, for the write to be recorded, for response bytes) its
 * connection is suspended and resumed by the event that ends the wait.
 *
 * Request lifetime: the URI-log callback allocates the request; the first
 * access-handler call (headers only) checks the framing, parses,
 * authenticates and starts the upstream transfer, so a rejected request
 * has no body read ("100 Continue" is never sent); body calls stream into
 * the upstream transfer; the last call waits for the upstream head and
 * queues a response whose body is pulled from the upstream, or, for a
 * write, hands the answer to inval_queue and answers once it is recorded.
 *
 * Shared between threads: the immutable configuration, the client keys
 * (swapped atomically on SIGHUP) and atomic counters only.
 */
#ifndef S3I_HTTP_FRONT_H
#define S3I_HTTP_FRONT_H

#include "cfg.h"

struct http_front;

/* Start listening on server.listen.  Returns NULL with a message logged. */
struct http_front *http_front_start(const struct cfg *);
/* Stop accepting new connections (first step of a graceful stop); from
 * now on every response closes its connection. */
void	http_front_quiesce(struct http_front *);
/* Requests in progress (for the graceful stop). */
unsigned http_front_active(struct http_front *);
/*
 * SIGHUP: authenticate new requests with this configuration's [client]
 * sections and auth settings.  The caller keeps every configuration it
 * ever passed alive until http_front_stop(): requests in flight may still
 * point into an older one.
 */
void	http_front_set_auth_cfg(struct http_front *, const struct cfg *);
/* Close everything and free. */
void	http_front_stop(struct http_front *);

#endif
