/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_meta: a digest of the part of an object's metadata that CloudFront
 * passes on to viewers or caches by (issue 13, "What CloudFront serves is
 * the unit of change"): Content-Type, Content-Encoding, Content-Language,
 * Content-Disposition, Cache-Control, Expires,
 * x-amz-website-redirect-location and every x-amz-meta-*.  Two writes of
 * the same bytes with the same digest serve the same thing; any other
 * difference changes what CloudFront serves.
 *
 * The digest comes out the same for the same stored metadata whether it is
 * computed from a write request's headers (PutObject, CopyObject with
 * REPLACE, CreateMultipartUpload) or from a HEAD/GET response's headers,
 * so a HEAD that passes through the proxy can vouch for the next write.
 * Where it cannot be sure what S3 stores, the result is "unknown", and an
 * unknown digest is never equal to anything: the write counts as changed.
 *
 * Pure: no I/O, no globals.  Thread-safe.
 */
#ifndef S3I_S3_META_H
#define S3I_S3_META_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sigv4.h"

/* What S3 stores when a write names no Content-Type (S3 API Reference,
 * PutObject, Content-Type; moto 5 does the same). */
#define S3_META_DEFAULT_TYPE	"binary/octet-stream"

struct s3_meta {
	int		 known;		/* 0: cannot be told; never equal */
	int		 redirect;	/* x-amz-website-redirect-location set */
	uint64_t	 digest;	/* 64 bits of SHA-256, when known */
};

/*
 * The metadata a PutObject, CopyObject with REPLACE or
 * CreateMultipartUpload request stores, from its headers as the client
 * sent them.  Unknown when a field appears twice, when a value holds a
 * byte outside printable ASCII (S3 re-encodes those per RFC 2047), when
 * Content-Type is empty, or when Content-Encoding names aws-chunked in any
 * form but botocore's ("aws-chunked" or "X,aws-chunked", no spaces).
 */
void	s3_meta_from_request(const struct sigv4_header *, size_t,
	    struct s3_meta *);

/*
 * The metadata an object has, from the headers of a 200/206 answer to a
 * HeadObject or GetObject of its current version without response-*
 * overrides (the caller checks that).  Unknown on duplicates, non-ASCII
 * bytes, or x-amz-missing-meta (S3 could not return some metadata).
 */
void	s3_meta_from_response(const struct sigv4_header *, size_t,
	    struct s3_meta *);

/*
 * The metadata a successful CopyObject gave its destination.  REPLACE:
 * from the request's headers.  COPY (the default): the source's, when src
 * is known, has no redirect location (S3 does not copy that one) and the
 * request sets none of the fields (S3 ignores them, moto applies some);
 * otherwise unknown, as for any other directive.  src may be NULL
 * (source unknown).
 */
void	s3_meta_for_copy(const struct sigv4_header *, size_t,
	    const struct s3_meta *src, struct s3_meta *);

/* 1 when both are known and equal. */
int	s3_meta_equal(const struct s3_meta *, const struct s3_meta *);

/* 1 when name (any case) is one of the fields the digest covers. */
int	s3_meta_field(const char *name);

/*
 * An x-amz-copy-source value ("[/]bucket/key", URL-encoded) split into
 * the bucket and the decoded key, appended to the two buffers.  Returns
 * 0, or -1 when it is malformed or names a version (?versionId=...: not
 * necessarily the current object, whose metadata the index knows).
 */
int	s3_meta_copy_source(const char *, struct buf *bucket,
	    struct buf *key);

/*
 * The UploadId of a CreateMultipartUpload answer
 * (<InitiateMultipartUploadResult>...<UploadId>ID</UploadId>), copied
 * into out.  Returns 0, or -1 when the document is not one (yet: it may
 * be cut short), names none or two, or the ID holds a character S3's do
 * not (letters, digits and ._-~+/=) or does not fit.
 */
int	s3_meta_upload_id(const char *, size_t, char *out, size_t outsz);

#endif
