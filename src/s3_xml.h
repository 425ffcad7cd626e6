/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_xml: the few S3 documents s3inval reads, with libxml2: three kinds of
 * response, and the DeleteObjects request.
 * Pure: no I/O, no globals beyond libxml2's own.  Documents are parsed
 * with network access, entity expansion and DTD loading off.
 */
#ifndef S3I_S3_XML_H
#define S3I_S3_XML_H

#include <stddef.h>

#include "buf.h"
#include "strvec.h"

/*
 * 1 when the document's root element is <Error>: CopyObject and
 * CompleteMultipartUpload can answer 200 OK with one (S3 API Reference,
 * CopyObject, "Important").  0 for any other document; -1 for an empty or
 * unparsable body, of which nothing can be told (a success always has its
 * result document: the caller falls back to what the request could have
 * changed).
 */
int	s3_xml_is_error(const char *, size_t);

/*
 * The keys of a DeleteObjects response's <Deleted> elements, appended to
 * out; URL-decoded ('+' is a space) only when the document itself says
 * <EncodingType>url</EncodingType>: what the request asked for does not
 * matter, an upstream may ignore it (moto does).  Returns how many, or -1
 * when the document is not a <DeleteResult>, a key does not decode, or
 * memory runs out; out may then hold some of the keys.
 */
int	s3_xml_deleted_keys(const char *, size_t, struct strvec *out);

/*
 * The keys a DeleteObjects request body names (<Delete><Object><Key>),
 * appended to out as they are (a request's keys are never URL-encoded),
 * and whether it asks for a quiet answer (<Quiet>true</Quiet>: the answer
 * then lists only the keys that failed).  Returns how many, or -1 when
 * the body is not a <Delete> document or memory runs out.
 */
int	s3_xml_delete_request(const char *, size_t, struct strvec *out,
	    int *quiet);

/*
 * The <ETag> of a CopyObjectResult or CompleteMultipartUploadResult,
 * copied into out (quotes kept as sent).  Returns 0, or -1 when there is
 * none or it does not fit.
 */
int	s3_xml_result_etag(const char *, size_t, char *out, size_t outsz);

/*
 * A ListBuckets result (ListAllMyBucketsResult) for one client: each
 * <Bucket> of the upstream's is offered to names(arg, upstream_name, out),
 * which appends the client-facing names it may see under (none: the
 * bucket is left out, several: it is listed under each).  The rest of the
 * document (Owner, ContinuationToken, ...) is kept.  out gets the new
 * document.  Returns 0, or -1 when the document cannot be parsed (the
 * caller must then not pass it on: it could name buckets the client may
 * not know of).
 */
int	s3_xml_filter_buckets(const char *, size_t,
	    void (*names)(void *arg, const char *upstream_name,
	    struct strvec *out), void *arg, struct buf *out);

#endif
