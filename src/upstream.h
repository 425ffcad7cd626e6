/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upstream: the libcurl client to the real bucket, driven by an event
 * loop.
 *
 * One struct upstream_client per front loop thread: a curl multi handle
 * whose sockets and timer live on that thread's evloop
 * (curl_multi_socket_action), its connection cache, a few idle easy
 * handles and a signing-key cache.  One struct upstream_xfer per proxied
 * request.  Nothing here blocks and nothing is shared between threads
 * but the immutable endpoint settings and the credentials module.
 *
 * Flow: the caller appends body bytes with upstream_write() (they are
 * copied; above XFER_SEND_HIGH the caller stops feeding until the
 * drained event), ends the body with upstream_write_end(), and takes
 * response bytes with upstream_read() after the head event.  Events are
 * called from inside the client's curl callbacks: a handler may only take
 * note and wake its request (it must not call back into this module for
 * the same transfer, except upstream_read and upstream_write).
 *
 * Memory per transfer is bounded: curl's buffers, the send buffer
 * (XFER_SEND_HIGH plus one write) and the receive buffer (XFER_RECV_MAX),
 * both grown only as far as a transfer needs them.
 *
 * The upstream host and port come from upstream.endpoint only; with
 * virtual-hosted addressing the bucket becomes part of the URL's host
 * name but CURLOPT_CONNECT_TO still pins the connection to the endpoint.
 */
#ifndef S3I_UPSTREAM_H
#define S3I_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "evloop.h"
#include "sigv4.h"

#define XFER_SEND_HIGH	(128 * 1024)	/* stop feeding above this */
#define XFER_SEND_LOW	(32 * 1024)	/* "drained" below this */
#define XFER_SEND_BATCH	(64 * 1024)	/* curl woken to send this much */
#define XFER_RECV_MAX	(256 * 1024)	/* curl paused above this */

struct upstream_client;
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

/* What a transfer tells its owner; each may be NULL. */
struct upstream_events {
	void	(*wants_body)(void *arg);	/* first call for body bytes */
	void	(*drained)(void *arg);		/* send buffer below LOW */
	void	(*head)(void *arg);		/* response head complete */
	void	(*data)(void *arg);		/* body bytes to read */
	void	(*done)(void *arg);		/* finished, well or not */
};

/* Process-wide settings from the configuration; call once first. */
int	upstream_init(const struct cfg *);
void	upstream_fini(void);
/* Connections opened so far (for tests and metrics). */
uint64_t upstream_connections_opened(void);
/* 1 when the upstream endpoint answers a signed ListBuckets as S3 does
 * (any status, a 403 too) within timeout_ms; else 0 with why.  For
 * /readyz.  Blocks: not for loop threads. */
int	upstream_probe(long timeout_ms, char *why, size_t whysz);

struct upstream_client *upstream_client_new(struct evloop *);
/* Aborts what is still running. */
void	upstream_client_free(struct upstream_client *);
/* Milliseconds until curl wants its timer (-1: none). */
int64_t	upstream_client_next_ms(struct upstream_client *);
/* Run curl's timer when due, time out stalled transfers, reap. */
void	upstream_client_tick(struct upstream_client *);

/* Start a transfer.  NULL when out of memory or credentials. */
struct upstream_xfer *upstream_start(struct upstream_client *,
	    const struct upstream_req *, const struct upstream_events *,
	    void *arg);

/* Append body bytes (copied).  Returns 1 when the send buffer is above
 * XFER_SEND_HIGH (wait for drained), 0 otherwise, -1 when the transfer
 * will take no more (it answered or ended). */
int	upstream_write(struct upstream_xfer *, const char *, size_t);
/* No more body bytes. */
void	upstream_write_end(struct upstream_xfer *);
/* 1 once curl asked for body bytes (100 Continue came, or it stopped
 * waiting for it). */
int	upstream_wants_body(const struct upstream_xfer *);

/* The response head: status (0 until the head is complete), headers,
 * Content-Length (-1 when unknown). */
int	upstream_status(const struct upstream_xfer *);
const struct sigv4_header *upstream_headers(const struct upstream_xfer *,
	    size_t *n);
int64_t	upstream_content_length(const struct upstream_xfer *);

/* Copy up to max response body bytes; returns how many (0: none now). */
size_t	upstream_read(struct upstream_xfer *, char *, size_t max);
/* 1 when the transfer ended and every body byte was read. */
int	upstream_eof(const struct upstream_xfer *);
/* 1 when the transfer ended without a whole answer, or failed
 * mid-body; upstream_error() says why. */
int	upstream_failed(const struct upstream_xfer *);
int	upstream_ended(const struct upstream_xfer *);
const char *upstream_error(const struct upstream_xfer *);

/* Milliseconds from start to the response head; bytes sent. */
int64_t	upstream_ms(const struct upstream_xfer *);
uint64_t upstream_bytes_sent(const struct upstream_xfer *);

/* End the transfer (aborting it if unfinished: a half-sent body is then
 * never completed by anyone) and free it.  Never calls events. */
void	upstream_free(struct upstream_xfer *);

#endif
