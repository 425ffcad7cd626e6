/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_xml: the few S3 response documents s3inval reads, with libxml2.
 * Pure: no I/O, no globals beyond libxml2's own.  Documents are parsed
 * with network access, entity expansion and DTD loading off.
 */
#ifndef S3I_S3_XML_H
#define S3I_S3_XML_H

#include <stddef.h>

#include "inval_map.h"

/*
 * 1 when the document's root element is <Error>: CopyObject and
 * CompleteMultipartUpload can answer 200 OK with one (S3 API Reference,
 * CopyObject, "Important").  0 for any other document; an unparsable or
 * empty body is taken as an error too (1): a success always has its
 * result document.
 */
int	s3_xml_is_error(const char *, size_t);

/*
 * The keys of a DeleteObjects response's <Deleted> elements, appended to
 * out; URL-decoded when url_encoded is set or the document says
 * <EncodingType>url</EncodingType>.  Returns how many, or -1 when the
 * document cannot be parsed or memory runs out.
 */
int	s3_xml_deleted_keys(const char *, size_t, int url_encoded,
	    struct strvec *out);

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
