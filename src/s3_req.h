/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_req: the S3 request model.  From a method, the raw request target and
 * the Host header, find the addressing style, the bucket, the key and the
 * query parameters, and name the operation (DESIGN §1, §3).  Pure: no I/O,
 * no globals.  Strings in struct s3_req are owned by it; s3_req_fini()
 * frees them.
 */
#ifndef S3I_S3_REQ_H
#define S3I_S3_REQ_H

#include <stddef.h>

#include "s3_err.h"

#define S3_OPS(X)							\
	X(OTHER,		"Other")				\
	X(LIST_BUCKETS,		"ListBuckets")				\
	X(CREATE_BUCKET,	"CreateBucket")				\
	X(DELETE_BUCKET,	"DeleteBucket")				\
	X(HEAD_BUCKET,		"HeadBucket")				\
	X(LIST_OBJECTS,		"ListObjects")				\
	X(LIST_UPLOADS,		"ListMultipartUploads")			\
	X(DELETE_OBJECTS,	"DeleteObjects")			\
	X(BUCKET_OTHER,		"BucketSubresource")			\
	X(GET_OBJECT,		"GetObject")				\
	X(HEAD_OBJECT,		"HeadObject")				\
	X(PUT_OBJECT,		"PutObject")				\
	X(COPY_OBJECT,		"CopyObject")				\
	X(DELETE_OBJECT,	"DeleteObject")				\
	X(CREATE_MPU,		"CreateMultipartUpload")		\
	X(UPLOAD_PART,		"UploadPart")				\
	X(UPLOAD_PART_COPY,	"UploadPartCopy")			\
	X(COMPLETE_MPU,		"CompleteMultipartUpload")		\
	X(ABORT_MPU,		"AbortMultipartUpload")			\
	X(LIST_PARTS,		"ListParts")				\
	X(OBJECT_OTHER,		"ObjectSubresource")			\
	X(OPTIONS,		"Options")

enum s3_op {
#define X(e, s) S3_OP_##e,
	S3_OPS(X)
#undef X
	S3_OP__COUNT
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
	struct s3_param	*params;
	size_t		 n_params;
	enum s3_op	 op;
};

/*
 * Parse.  raw_target is the request target as sent ("/b/k?x=y"); host the
 * Host header (may be NULL); vhost_base the configured
 * server.virtual_host_base ("" or NULL for path-style only);
 * has_copy_source whether x-amz-copy-source is present.
 * Returns S3_OK, or the error to answer (InvalidURI, InvalidBucketName,
 * MethodNotAllowed, ...); the struct is always safe to fini.
 */
enum s3_err s3_req_parse(struct s3_req *, const char *method,
	    const char *raw_target, const char *host, const char *vhost_base,
	    int has_copy_source);
void	s3_req_fini(struct s3_req *);

/* The value of parameter name ("" when present without value), or NULL. */
const char *s3_req_param(const struct s3_req *, const char *name);

/* 1 when name is a valid S3 bucket name (3-63 of a-z 0-9 . -, starting
 * and ending with a letter or digit, no "..", not an IP address). */
int	s3_bucket_name_valid(const char *);

/* 1 when the operation changes data and needs a write grant. */
int	s3_op_needs_write(enum s3_op);
const char *s3_op_name(enum s3_op);

#endif
