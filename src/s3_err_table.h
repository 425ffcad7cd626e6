/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The S3 errors s3inval answers itself: one row each, the single source of
 * names, HTTP statuses, S3 codes and default messages (Amazon S3 API
 * Reference, "Error responses", "List of error codes").
 *
 * S3E(enum suffix, HTTP status, S3 code, retryable, default message)
 */
S3E(ACCESS_DENIED,		403, "AccessDenied",		0,
    "Access Denied")
S3E(AUTH_HEADER_MALFORMED,	400, "AuthorizationHeaderMalformed", 0,
    "The authorization header is malformed")
S3E(AUTH_QUERY_MALFORMED,	400, "AuthorizationQueryParametersError", 0,
    "Error parsing the X-Amz-Credential parameter")
S3E(BAD_GATEWAY,		502, "BadGateway",		1,
    "The upstream's answer could not be relayed.")
S3E(BAD_DIGEST,			400, "BadDigest",		0,
    "The Content-MD5 or checksum you specified did not match what we "
    "received")
/* CreateBucket of a bucket the client may write but not administer: S3's
 * answer to the bucket's owner outside us-east-1 (s3_req.h). */
S3E(BUCKET_ALREADY_OWNED_BY_YOU, 409, "BucketAlreadyOwnedByYou", 0,
    "Your previous request to create the named bucket succeeded and you "
    "already own it.")
S3E(CONTENT_SHA256_MISMATCH,	400, "XAmzContentSHA256Mismatch", 0,
    "The provided 'x-amz-content-sha256' header does not match what was "
    "computed")
S3E(ENTITY_TOO_LARGE,		400, "EntityTooLarge",		0,
    "Your proposed upload exceeds the maximum allowed size")
S3E(INCOMPLETE_BODY,		400, "IncompleteBody",		0,
    "You did not provide the number of bytes specified by the "
    "Content-Length HTTP header")
S3E(INTERNAL_ERROR,		500, "InternalError",		1,
    "We encountered an internal error. Please try again.")
S3E(INVALID_ACCESS_KEY_ID,	403, "InvalidAccessKeyId",	0,
    "The AWS Access Key Id you provided does not exist in our records.")
S3E(INVALID_ARGUMENT,		400, "InvalidArgument",		0,
    "Invalid Argument")
S3E(INVALID_BUCKET_NAME,	400, "InvalidBucketName",	0,
    "The specified bucket is not valid.")
S3E(INVALID_CHUNK_SIZE,		400, "InvalidChunkSizeError",	0,
    "An aws-chunked chunk size is malformed, larger than allowed, or not "
    "followed by CRLF")
S3E(INVALID_REQUEST,		400, "InvalidRequest",		0,
    "Invalid Request")
S3E(INVALID_URI,		400, "InvalidURI",		0,
    "Couldn't parse the specified URI.")
S3E(KEY_TOO_LONG,		400, "KeyTooLongError",		0,
    "Your key is too long")
S3E(METHOD_NOT_ALLOWED,		405, "MethodNotAllowed",	0,
    "The specified method is not allowed against this resource.")
S3E(MISSING_CONTENT_LENGTH,	411, "MissingContentLength",	0,
    "You must provide the Content-Length HTTP header.")
S3E(MISSING_SECURITY_HEADER,	400, "MissingSecurityHeader",	0,
    "Your request is missing a required header.")
S3E(NO_SUCH_BUCKET,		404, "NoSuchBucket",		0,
    "The specified bucket does not exist")
S3E(NOT_IMPLEMENTED,		501, "NotImplemented",		0,
    "A header you provided implies functionality that is not implemented")
S3E(REQUEST_HEADER_TOO_LARGE,	400, "RequestHeaderSectionTooLarge", 0,
    "Your request header section exceeds the maximum allowed size.")
S3E(REQUEST_TIME_TOO_SKEWED,	403, "RequestTimeTooSkewed",	0,
    "The difference between the request time and the current time is "
    "too large.")
S3E(REQUEST_TIMEOUT,		400, "RequestTimeout",		1,
    "Your socket connection to the server was not read from or written "
    "to within the timeout period.")
S3E(SERVICE_UNAVAILABLE,	503, "ServiceUnavailable",	1,
    "Please reduce your request rate.")
S3E(SIGNATURE_DOES_NOT_MATCH,	403, "SignatureDoesNotMatch",	0,
    "The request signature we calculated does not match the signature "
    "you provided. Check your key and signing method.")
S3E(SLOW_DOWN,			503, "SlowDown",		1,
    "Please reduce your request rate.")
