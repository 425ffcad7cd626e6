/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_req: the S3 request model.  From a method, the raw request target and
 * the Host header, find the addressing style, the bucket, the key and the
 * query parameters, and name the operation by the table of every S3
 * operation (s3_op_table.h: how each is recognised, the right it needs,
 * what its 2xx changes; DESIGN §1, §3).  Pure: no I/O, no globals.
 * Strings in struct s3_req are owned by it; s3_req_fini() frees them.
 */
#ifndef S3I_S3_REQ_H
#define S3I_S3_REQ_H

#include <stddef.h>

#include "s3_err.h"

/* Headers s3_req_parse() needs to know are present (hdrs). */
#define S3_HDR_COPY_SOURCE	1u	/* x-amz-copy-source */

/* s3_op_flags() */
#define S3_F_RESP_BODY	1u	/* read the response whole before answering */
#define S3_F_REQ_BODY	2u	/* the front keeps the (small) request body */

/* One value per row of s3_op_table.h: S3_OP_PUT_OBJECT, ... */
enum s3_op {
#define S3OP(e, n, m, t, s1, s2, h, r, c, f, why) S3_OP_##e,
#include "s3_op_table.h"
	S3_OP__COUNT
};

/* The right a client's grant must hold for an operation on a bucket. */
enum s3_right {
	S3_RIGHT_NONE = 0,	/* none: service level, CORS preflight */
	S3_RIGHT_R,		/* reads */
	S3_RIGHT_W,		/* object writes and deletes */
	S3_RIGHT_ADMIN,		/* bucket-level writes; unknown operations */
	S3_RIGHT_REFUSED	/* nobody: never served */
};

/* What a 2xx of an operation changes for what the CDN serves. */
enum s3_change {
	S3_CHG_NOTHING = 0,
	S3_CHG_KEY,		/* its key; its bucket when it has no key */
	S3_CHG_RESPONSE_KEYS,	/* the keys the response names */
	S3_CHG_BUCKET		/* everything the bucket serves */
};

struct s3_param {
	char	*name;		/* decoded */
	char	*value;		/* decoded; "" when absent */
	int	 has_value;	/* "a=" or "a=b" rather than "a" */
};

struct s3_req {
	char		*path;		/* raw path as sent, starts with '/' */
	char		*query;		/* raw query without '?', may be "" */
	char		*bucket;	/* decoded, NULL for the service */
	char		*key;		/* decoded, NULL when none */
	int		 virtual_host;	/* bucket came from Host */
	const char	*method;	/* static; NULL when not known */
	struct s3_param	*params;
	size_t		 n_params;
	enum s3_op	 op;
	const char	*message;	/* static detail for a parse error */
};

/* The longest key S3 stores: 1,024 bytes of UTF-8 (User Guide, "Naming
 * Amazon S3 objects"); longer ones are refused with KeyTooLongError. */
#define S3_KEY_MAX	1024

/*
 * Parse, and name the operation by s3_op_table.h.  raw_target is the
 * request target as sent ("/b/k?x=y"); host the Host header (may be NULL);
 * vhost_base the configured server.virtual_host_base ("" or NULL for
 * path-style only); hdrs the S3_HDR_* present (1 = x-amz-copy-source).
 * Returns S3_OK, or the error to answer before anything else is done, with
 * r->message as its detail when not NULL: InvalidURI, InvalidBucketName,
 * MethodNotAllowed, KeyTooLongError (a key over S3_KEY_MAX bytes),
 * NotImplemented (an operation s3inval refuses; r->op names it).  The
 * struct is always safe to fini.
 */
enum s3_err s3_req_parse(struct s3_req *, const char *method,
	    const char *raw_target, const char *host, const char *vhost_base,
	    unsigned hdrs);
void	s3_req_fini(struct s3_req *);

/* The value of parameter name ("" when present without value), or NULL. */
const char *s3_req_param(const struct s3_req *, const char *name);

/* 1 when name is a valid S3 bucket name (3-63 of a-z 0-9 . -, starting
 * and ending with a letter or digit, no "..", not an IP address). */
int	s3_bucket_name_valid(const char *);

/* The operation's row: its S3 name, right, change and S3_F_* flags. */
const char	*s3_op_name(enum s3_op);
enum s3_right	 s3_op_right(enum s3_op);
enum s3_change	 s3_op_change(enum s3_op);
unsigned	 s3_op_flags(enum s3_op);
/* Why s3inval refuses an S3_RIGHT_REFUSED operation, or NULL. */
const char	*s3_op_refusal(enum s3_op);
/* "r", "w", "admin"; "" for none and refused. */
const char	*s3_right_name(enum s3_right);

/*
 * A name for what the request is, for logs: the operation's S3 name, or
 * for an unknown one the method, what it targets and the query parameters
 * that made it unknown, as "PUT object?uploadId" (no values, no key).
 * Always NUL-terminated within outsz.
 */
void	s3_req_describe(const struct s3_req *, char *out, size_t outsz);

/*
 * CreateBucket from a client that may write the bucket but not administer
 * it (auth_check() returned S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU): what S3
 * answers the bucket's owner, given without forwarding.  region is the
 * upstream's.  In us-east-1, for legacy compatibility, S3 answers 200 OK
 * with "Location: /bucket" and no body; everywhere else 409
 * BucketAlreadyOwnedByYou (API Reference, CreateBucket;
 * BucketAlreadyOwnedByYou).  Returns the status; for 200, location holds
 * the Location header's value (empty when it did not fit).
 */
unsigned s3_req_owned_bucket_status(const char *region, const char *bucket,
	    char *location, size_t locsz);

#endif
