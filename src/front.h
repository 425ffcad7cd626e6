/* SPDX-License-Identifier: Apache-2.0 */
/*
 * front: what the files of the client-facing front share (internal; the
 * front's API is http_front.h).  The family:
 *   http_front.c	the event loops: the listening socket, accepting,
 *			libmicrohttpd and curl on one epoll per thread, the
 *			connections and their watchdog, start and stop;
 *   front_req.c	a request from its head to its last call: framing,
 *			parsing, authentication, the body to the upstream;
 *   front_answer.c	answers: the upstream's relayed, a write's once
 *			recorded, the proxy's own errors; and the waits a
 *			request makes for them (suspend and resume).
 *
 * libmicrohttpd calls the access handler in these moments, and a request
 * follows them (phase):
 *   PH_HEAD	the head is complete: first call, upload_data_size 0;
 *		called again with size 0 after a resume while the request
 *		still waits for the upstream's verdict on "Expect:
 *		100-continue" (PH_CONTINUE);
 *   PH_BODY	body bytes, in pieces;
 *   PH_FINAL	the whole request is in: no upload_data, called again
 *		after every resume until a response is queued.
 * A response may only be queued in PH_HEAD or PH_FINAL (libmicrohttpd
 * refuses one while the body is being read), so a failure during the body
 * drains what is left and answers in PH_FINAL.
 *
 * Threads: everything here runs on the thread of the loop that accepted
 * the connection, but for what http_front.h says otherwise (the journal's
 * completion is posted to the loop).  A request and its connection are
 * owned by their loop.
 */
#ifndef S3I_FRONT_H
#define S3I_FRONT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "auth.h"
#include "aws_chunked.h"
#include "buf.h"
#include "cfg.h"
#include "evloop.h"
#include "http_frame.h"
#include "inval_queue.h"
#include "s3_err.h"
#include "s3_req.h"
#include "sigv4.h"
#include "upstream.h"

/* The rate window of server.min_rate (the watchdog's). */
#define RATE_WINDOW_MS	10000

enum phase {
	PH_HEAD = 0,
	PH_CONTINUE,		/* suspended: the upstream decides on 100 */
	PH_BODY,
	PH_FINAL,
	PH_ANSWERED		/* a response is queued */
};

enum body_mode {
	BM_NONE = 0,
	BM_PLAIN,		/* Content-Length: streamed upstream */
	BM_SPOOL,		/* chunked: into the spool file first */
	BM_STREAM,		/* aws-chunked: decoded, checked, re-sent */
	BM_DRAIN		/* not wanted: read and dropped */
};

enum waiting {
	W_NONE = 0,
	W_CONTINUE,		/* the upstream's 100 or early answer */
	W_SEND,			/* the send buffer to drain */
	W_HEAD,			/* the response head */
	W_WBODY,		/* a write's answer, read whole */
	W_RECORD,		/* the write being recorded */
	W_DATA			/* response bytes for the reader */
};

struct loop;
struct front_req;

/* A connection, as the watchdog sees it. */
struct conn {
	struct loop		*loop;
	int			 fd;
	int64_t			 since;		/* head phase began */
	int64_t			 win_at;	/* rate window began */
	uint64_t		 win_bytes;
	struct front_req	*req;		/* in progress, or NULL */
	int			 over_limit;	/* accepted past max_conn. */
	int			 cut;
	struct http_frame_tls_guard tls;	/* GnuTLS reads through it */
	struct conn		*prev, *next;
};

struct loop {
	struct http_front	*f;
	unsigned		 idx;
	pthread_t		 thread;
	int			 running;
	struct evloop		*ev;
	struct MHD_Daemon	*mhd;
	struct evwatch		 mhd_w;
	struct evwatch		 listen_w;
	struct upstream_client	*up;
	struct conn		*conns;
	int64_t			 watchdog_at;
	uint64_t		 rid;		/* request id generator */
	int			 run_mhd;	/* MHD has work */
	int			 stopping;	/* loop_stop() ran */
};

struct http_front {
	const struct cfg	*cfg;
	_Atomic(const struct cfg *) auth_cfg;	/* clients; SIGHUP swaps */
	int			 listen_fd;
	atomic_int		 unwatched;	/* loops off the listen fd */
	struct loop		*loops;
	unsigned		 n_loops;
	atomic_uint		 active;	/* requests in progress */
	atomic_uint		 conns;		/* connections open */
	atomic_uint		 recording;	/* journal records in flight */
	atomic_int		 stopping;
	unsigned		 hard_limit;	/* max_connections + margin */
	atomic_int_fast64_t	 refuse_logged_at;
	atomic_uint_fast64_t	 refused_since_log;
	int64_t			 started;
	char			*tls_cert;	/* PEM, in memory for MHD */
	char			*tls_key;	/* PEM; wiped when freed */
};

struct front_req {
	struct loop		*loop;
	struct conn		*conn;
	struct MHD_Connection	*c;
	char			 id[17];
	char			*target;	/* raw request target */
	int64_t			 t0;
	int64_t			 t0_wall;	/* ms since the epoch */
	enum phase		 phase;
	enum body_mode		 body;
	enum waiting		 waiting;
	int			 suspended;

	struct s3_req		 s3;
	const struct cfg_bucket	*bucket;
	const char		*upstream_bucket;
	struct auth_result	 auth;
	const char		*method;
	struct http_frame_verdict frame;	/* framing, checked first */
	int			 close;		/* end the connection after */

	struct sigv4_header	*hdrs;		/* all, as received */
	size_t			 n_hdrs;
	size_t			 hdrs_cap;
	size_t			 hdr_bytes;
	int			 bad_header;
	struct sigv4_header	*fwd;		/* to forward */
	size_t			 n_fwd;

	struct upstream_xfer	*x;
	uint64_t		 body_len;	/* to send upstream */
	uint64_t		 received;	/* from the client */
	int			 expect;
	int			 send_full;	/* wait for "drained" */
	EVP_MD_CTX		*sha;
	char			 held;
	int			 holding;
	int			 spool_fd;
	uint64_t		 spooled;
	uint64_t		 spool_sent;

	/* aws-chunked (BM_STREAM) */
	struct ac_decoder	*acd;
	struct ac_encoder	*ace;		/* trailer modes: re-framing */
	const char		*up_payload;	/* x-amz-content-sha256 upstream */
	char			*ce_fwd;	/* Content-Encoding less aws-chunked */
	char			*copy_src;	/* x-amz-copy-source, upstream name */
	int			 up_early;	/* the upstream answered already */
	int			 up_failed;

	enum s3_err		 pending;	/* answer once drained */
	const char		*pending_msg;

	struct buf		 wbody;		/* a write's answer, whole */
	struct buf		 msg;		/* an error's message, built */
	const char		*detail;	/* why we answered an error */
	/* A copy of the request body, when inval_queue_write() wants it
	 * (DeleteObjects: the keys to fall back to). */
	struct buf		 req_body;
	int			 req_body_over;	/* past IQ_REQ_BODY_MAX */
	struct iq_result	 recorded;
	int			 record_started;
	int			 record_done;
	struct evloop_job	 record_job;	/* its completion, posted */

	unsigned		 status;
	uint64_t		 bytes_out;
	int			 upstream_answered;
	struct iq_read		*learner;	/* a listing passing through */
};

/* front_answer.c: waiting. */
void	front_window(struct conn *);	/* a rate window begins */
void	front_wait(struct front_req *, enum waiting);	/* suspend for */
void	front_wake(struct front_req *);	/* resume, when suspended */
extern const struct upstream_events front_xfer_events;

/* front_answer.c: 1 for a hop-by-hop header (RFC 9110 §7.6.1). */
int	front_hop_by_hop(const char *name);

/* front_answer.c: answers.  Each queues one response, or suspends the
 * request until it can (MHD_YES then). */
void	front_closing(struct front_req *, struct MHD_Response *);
enum MHD_Result front_error(struct front_req *, enum s3_err, const char *);
enum MHD_Result front_error_close(struct front_req *, enum s3_err,
	    const char *, int close_conn);
enum MHD_Result front_upstream_failed(struct front_req *);
enum MHD_Result front_answer(struct front_req *);
enum MHD_Result front_owned_bucket(struct front_req *);
enum MHD_Result front_frame_refused(struct front_req *,
	    enum http_frame_rule);

/* front_req.c: libmicrohttpd's callbacks for a request. */
void	*front_req_new(void *cls, const char *uri, struct MHD_Connection *);
void	front_req_end(void *cls, struct MHD_Connection *, void **req_cls,
	    enum MHD_RequestTerminationCode);
enum MHD_Result front_access(void *cls, struct MHD_Connection *,
	    const char *url, const char *method, const char *version,
	    const char *upload_data, size_t *upload_data_size, void **req_cls);

/* http_front.c: a request refused past server.max_connections. */
void	front_note_refused(struct http_front *);

#endif
