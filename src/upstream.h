/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upstream: the libcurl client to the real bucket.
 *
 * One struct upstream_xfer per proxied request.  It is driven only by the
 * thread that started it (libmicrohttpd's thread for that connection):
 * push body bytes in, wait for the response head, pull body bytes out.
 * Every wait is bounded by upstream.timeout of no progress.  Memory per
 * transfer is bounded: curl's receive buffer plus UPSTREAM_BUF bytes.
 * Backpressure works by pausing curl in either direction.
 *
 * The upstream host and port come from upstream.endpoint only; with
 * virtual-hosted addressing the bucket becomes part of the URL's host name
 * but CURLOPT_CONNECT_TO still pins the connection to the endpoint.
 *
 * Easy/multi handle pairs are pooled (mutex) so connections and DNS
 * answers are reused across requests: a sync of 2,000 files does not open
 * 2,000 connections.
 */
#ifndef S3I_UPSTREAM_H
#define S3I_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "sigv4.h"

#define UPSTREAM_BUF	(256 * 1024)

struct upstream_xfer;

struct upstream_req {
	const char		*method;
	const char		*bucket;	/* upstream bucket, NULL: none */
	const char		*key;		/* decoded, NULL: none */
	const char		*query;		/* canonical, "" when none */
	const struct sigv4_header *headers;	/* to forward, filtered */
	size_t			 n_headers;
	const char		*payload_hash;	/* hex or UNSIGNED-PAYLOAD */
	int			 has_body;
	uint64_t		 body_len;
	int			 expect_continue;
};

struct upstream_header {
	char	*name;
	char	*value;
};

int	upstream_init(const struct cfg *);
void	upstream_fini(void);
/* Connections opened so far (for tests and metrics). */
uint64_t upstream_connections_opened(void);

/* 1 when a connection to the upstream endpoint opens (TLS included) within
 * timeout_ms: for /readyz. */
int	upstream_reachable(long timeout_ms);

/* Start a transfer.  Returns NULL when out of memory or credentials. */
struct upstream_xfer *upstream_start(const struct upstream_req *);

/*
 * Give len body bytes to the transfer and block until curl took them all.
 * Returns 0 when taken, 1 when the upstream will take no more (it answered
 * already, or the transfer ended), -1 on failure or timeout.
 */
int	upstream_push(struct upstream_xfer *, const char *, size_t);
/* No more body bytes. */
void	upstream_body_done(struct upstream_xfer *);

/*
 * Wait until curl first asks for body bytes (the upstream said 100
 * Continue or curl stopped waiting for it) or the response head arrived.
 * Returns 1 when the head arrived, 0 when the body is wanted, -1 on
 * failure.  Used to honour Expect: 100-continue end to end.
 */
int	upstream_wait_continue(struct upstream_xfer *, int64_t timeout_ms);

/* Wait for the response head.  Returns the HTTP status, or -1 when the
 * upstream could not be reached or failed (see upstream_error()). */
int	upstream_wait_head(struct upstream_xfer *);
const struct upstream_header *upstream_headers(const struct upstream_xfer *,
	    size_t *n);
/* Content-Length of the response, or -1 when unknown. */
int64_t	upstream_content_length(const struct upstream_xfer *);

/* Copy up to max response body bytes.  Returns >0, 0 at the end, -1 when
 * the transfer failed mid-body. */
ssize_t	upstream_read(struct upstream_xfer *, char *, size_t max);

/* Milliseconds from start to the response head; bytes sent and received. */
int64_t	upstream_ms(const struct upstream_xfer *);
uint64_t upstream_bytes_sent(const struct upstream_xfer *);
const char *upstream_error(const struct upstream_xfer *);

/* End the transfer (aborting it if unfinished) and release its handles. */
void	upstream_free(struct upstream_xfer *);

#endif
