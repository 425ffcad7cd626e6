/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: verify a client's request (DESIGN §2): SigV4 in the Authorization
 * header or in presigned-URL query parameters, the clock, the client's
 * bucket rights, and how the payload is protected.  Pure: the clock and the
 * configuration are passed in; no I/O.  A failed check returns the S3 error
 * to answer; nothing may be forwarded then.
 */
#ifndef S3I_AUTH_H
#define S3I_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "s3_err.h"
#include "s3_req.h"
#include "sigv4.h"

enum auth_payload {
	AUTH_PAYLOAD_UNSIGNED = 0,	/* UNSIGNED-PAYLOAD or none sent */
	AUTH_PAYLOAD_HEX,		/* a SHA-256 to check the body by */
	AUTH_PAYLOAD_STREAMING		/* STREAMING-*: aws-chunked */
};

struct auth_input {
	const char		*method;
	const char		*raw_path;	/* as sent */
	const char		*raw_query;	/* as sent, without '?' */
	const struct sigv4_header *headers;
	size_t			 n_headers;
	const char		*bucket;	/* client-facing; NULL: service */
	/* The parsed request: its operation decides the right needed
	 * (NULL: an unknown one). */
	const struct s3_req	*s3;
};

struct auth_result {
	const struct cfg_client	*client;	/* NULL with auth.mode none */
	char		 access_key_id[129];	/* as the client sent it */
	int		 presigned;
	enum auth_payload payload;
	char		 payload_hash[SIGV4_HEX_LEN + 1]; /* for _HEX */
	char		 streaming[64];		/* the STREAMING-* value */
	/* Header-signed requests: what chunk signatures chain from.  The
	 * key is derived from the client's secret: auth_result_fini() wipes
	 * it. */
	char		 seed_signature[SIGV4_HEX_LEN + 1];
	unsigned char	 signing_key[SIGV4_KEY_LEN];
	char		 amz_date[17];
	char		 scope[256];
	const char	*message;		/* detail for the error */
	char		 message_buf[512];	/* what message may point to */
	/* For SignatureDoesNotMatch, as S3 reports them; heap, may be NULL. */
	char		*string_to_sign;
	char		*canonical_request;
	char		 signature_provided[SIGV4_HEX_LEN + 1];
};

/*
 * Returns S3_OK, or the error to answer (r->message its detail when not
 * NULL).  The rights check (s3_op_table.h) comes last: an AccessDenied for
 * a missing right names the right and the grant that would give it.  One
 * answer is no error although auth_check() returns it:
 * S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, for CreateBucket of a configured
 * bucket the client may write (w) but not administer: the caller answers
 * as S3 answers the bucket's owner, without forwarding
 * (s3_req_owned_bucket_status(); clients such as rclone create their
 * bucket before writing).
 */
enum s3_err auth_check(const struct cfg *, const struct auth_input *,
	    int64_t now, struct auth_result *);
void	auth_result_fini(struct auth_result *);

/* The value of header name (case-insensitive, first one), or NULL. */
const char *auth_header(const struct sigv4_header *, size_t, const char *);

#endif
