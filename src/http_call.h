/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_call: one blocking HTTP request with libcurl, SigV4-signed when
 * credentials are given: the one client for the daemon's own calls.  It
 * is how the CloudFront client calls the API, how the credential chain
 * asks STS, the container agent and the EC2 instance metadata service
 * (cred_*.c), and how `check-config --online` asks the upstream
 * (HeadBucket) and the admin listener; the proxy's own forwarding
 * (upstream.c) is streamed and does not use it.
 *
 * Signing (AWS General Reference, "Create a signed AWS API request") is
 * sigv4_sign_request(), the one entry point every outgoing request uses:
 * signed headers content-type (when sent), host, x-amz-content-sha256 (the
 * hex SHA-256 of the body), x-amz-date and, for session credentials,
 * x-amz-security-token; the request is sent exactly as signed, with no
 * "Expect: 100-continue".
 *
 * Policy, here for every caller: a connect timeout and a timeout for the
 * whole call (the caller's figures), HTTP/1.1, no redirect followed,
 * http and https only, the same User-Agent; a PUT or POST without a body
 * sends an empty one (Content-Length: 0) and no Content-Type unless one is
 * given.  Which answers are worth another attempt is
 * http_answer_retryable(); the attempts themselves are the caller's (the
 * CloudFront worker paces and backs off, the credential chain tries a
 * source a few times), so a call makes exactly one.  Each call has its
 * own curl handle.  Answers are read up to body_max bytes.
 *
 * Thread-safe: a call works only on its arguments, its own handle and
 * buffers; the signing key, the Authorization header and every header of
 * the request are wiped before return, the answer's body by
 * http_answer_fini().  curl_global_init() is the caller's.
 */
#ifndef S3I_HTTP_CALL_H
#define S3I_HTTP_CALL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "credentials.h"

struct http_call {
	const char	*method;	/* "GET", "HEAD", "POST" */
	const char	*scheme;	/* "http" or "https" */
	const char	*host;		/* Host header as sent: "h", "h:port" */
	const char	*connect_to;	/* CURLOPT_CONNECT_TO entry, or NULL */
	const char	*path;		/* canonical: encoded once, from "/" */
	const char	*url;		/* or the whole URL, for unsigned
					 * calls: then scheme, host and path
					 * are not used, curl sends Host */
	const char	*content_type;	/* NULL: none sent */
	const char	*body;		/* NULL: no body */
	size_t		 body_len;
	long		 connect_timeout_ms;	/* <= 0: timeout_ms */
	long		 timeout_ms;		/* the whole call */
	size_t		 body_max;	/* answer bytes kept; beyond: too_big */
	const char	*bearer;	/* "Authorization: Bearer" token, or
					 * NULL; only when cred is NULL */
	const char *const *headers;	/* more "Name: value" lines to send,
					 * NULL-terminated, or NULL; may be
					 * secret (wiped after the call) */
	int		 direct;	/* 1: never through a proxy (the
					 * link-local metadata services) */
	/* NULL, or whether the address curl connected to (text, v4 or v6)
	 * may be sent the request: checked before a byte is sent, so a
	 * host name that resolves somewhere else gets nothing. */
	int		(*peer_ok)(const char *ip);
	const atomic_int *cancel;	/* NULL, or aborts the call once set */
	int		 secret;	/* the answer holds secrets: its buffer
					 * is allocated once, at body_max, so
					 * that no copy is left behind */
	/* SigV4; cred NULL: sent unsigned. */
	const struct credentials *cred;
	const char	*region;
	const char	*service;
	int64_t		 now;		/* seconds since the epoch */
};

struct http_answer {
	long		 status;	/* 0: no answer */
	int		 failed;	/* no (whole) answer: see error */
	int		 too_big;	/* the body went over body_max */
	int		 peer_refused;	/* peer_ok() said no */
	int		 cancelled;	/* *cancel was set */
	char		 error[512];	/* why it failed, "" otherwise */
	struct buf	 body;		/* NUL-terminated */
	/* Headers callers look at ("" when absent), control bytes made
	 * spaces. */
	char		 date[64];
	char		 server[128];
	char		 content_type[128];
	char		 bucket_region[64];	/* x-amz-bucket-region */
	/* How many of x-amz-request-id, x-amz-id-2, x-amzn-requestid and
	 * x-amz-bucket-region came: S3 (and CloudFront) send some on every
	 * answer, a web server in their place none. */
	int		 aws_headers;
};

void	http_answer_init(struct http_answer *);
/* Frees the answer, its body wiped first. */
void	http_answer_fini(struct http_answer *);

/* 1 when another attempt may get a better answer: none came (but the call
 * was not cancelled or refused by peer_ok), or a 408, 429 or 5xx. */
int	http_answer_retryable(const struct http_answer *);

/* Make the call.  The answer is filled either way; failed says whether an
 * answer came. */
void	http_call_perform(const struct http_call *, struct http_answer *);

#endif
