/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_front: the client-facing S3 listener (libmicrohttpd).
 *
 * Request lifetime: the URI-log callback allocates the request and keeps
 * the raw request target; the first access-handler call (headers only)
 * parses, authenticates and starts the upstream transfer, so a rejected
 * request has no body read ("100 Continue" is never sent); body calls
 * stream into the upstream transfer; the last call waits for the upstream
 * head and queues a response whose body is pulled from the upstream.
 *
 * Threads: libmicrohttpd runs one thread per connection; everything of a
 * request, including its upstream transfer, lives on that thread.  Shared
 * between threads: the immutable configuration and atomic counters only.
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
