/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every S3 operation s3inval may see: one row each, the single source of
 * how a request is recognised, the right a client needs for it, and what a
 * 2xx of it changes for the CDN (issue 13, "A table of every S3
 * operation"; issue 14, "Rights that match the work").  s3_req classifies
 * by it, auth checks rights by it, inval_queue decides what to invalidate
 * by it.  The list is the Amazon S3 API Reference's (botocore's service
 * model of 2006-03-01, 111 operations), plus PostObject, the browser-form
 * upload of the User Guide.
 *
 * No include guard: the includer defines S3OP, includes this file, and the
 * file undefines it again.
 *
 * S3OP(enum, name, method, target, sub, sub2, hdr, right, change, flags,
 *      refusal)
 *   method	GET HEAD PUT POST DELETE OPTIONS; NONE: never matched
 *		(the rows for what the table does not know).
 *   target	SVC (no bucket), BKT (a bucket, no key), OBJ (bucket and
 *		key), ANY.
 *   sub, sub2	query parameters the request must carry (its
 *		"subresource"), or NULL.
 *   hdr	S3_HDR_COPY_SOURCE: x-amz-copy-source must be present; 0:
 *		no header.
 *   right	what a client's grant must hold for the bucket:
 *		NONE  no bucket right (service-level, CORS preflight);
 *		R     reads;
 *		W     object writes and deletes, multipart included;
 *		ADMIN bucket-level writes, and what the table does not know
 *		      ("unknown operations get no right by default": r, w
 *		      and rw never reach them);
 *		REFUSED  nobody: answered 501 NotImplemented with the row's
 *		      refusal, before authentication, never forwarded.
 *   change	what a 2xx changes for what CloudFront serves:
 *		NOTHING;
 *		KEY           the request's key (the whole bucket when the
 *		              request has none: the unknown rows);
 *		RESPONSE_KEYS the keys the response names (falling back to
 *		              the keys the request body names, then to the
 *		              whole bucket);
 *		BUCKET        every path of every distribution of the bucket
 *		              (one wildcard path, "/" + "*").
 *   flags	S3_F_RESP_BODY: the response body is read whole before the
 *		client is answered (a 200 may carry an <Error>; or it names
 *		the keys).  S3_F_REQ_BODY: the front keeps the request body
 *		(small) for the fallback.
 *
 * How a request is matched (s3_req.c): among the rows of its method and
 * target whose sub, sub2 and hdr it carries, the one that asks for the
 * most wins; a tie between different rows is an unknown operation.  For a
 * request that can change something (not GET, HEAD or OPTIONS) every query
 * parameter left over must be one S3 documents as an argument (prefix,
 * versionId, x-id, X-Amz-*, ...): any other (uploadId without partNumber,
 * a subresource of another row, one nobody knows) makes it unknown too,
 * since S3 may well run another operation for it.  Unknown writes need
 * admin and invalidate their key (or bucket), logged and counted.
 *
 * Why each change (CloudFront caches bytes and the headers it passes on;
 * an object's bytes and headers change only by PutObject, CopyObject,
 * CompleteMultipartUpload and deletes):
 * - BUCKET for what decides how every path is answered: the website
 *   configuration (index and error documents, redirects, routing rules),
 *   the policy, the bucket ACL, the public access block, object ownership
 *   (turns object ACLs off), CORS (its headers are cached with every
 *   response), requester pays (the origin then refuses CloudFront), ABAC
 *   (tag-based access), and DeleteBucket.  These are rare and one wildcard is
 *   one path: when access is taken away, the cached copies must go too.
 * - KEY for PutObjectAcl: an object made private on a public origin must
 *   stop being served from the cache; one path, a rare call (deploys set
 *   ACLs with x-amz-acl on PutObject, which is a KEY write anyway).
 * - NOTHING for tags, retention, legal hold, UpdateObjectEncryption
 *   (bytes, ETag and metadata kept, per the API Reference), restores (the
 *   object does not change), multipart parts until completed, and bucket
 *   settings that act on future objects or outside the read path
 *   (encryption, versioning, lifecycle, logging, notification,
 *   replication, tagging, accelerate, analytics, inventory, metrics,
 *   intelligent tiering, metadata tables, object lock defaults).
 *
 * Rights of the object-level odds and ends: object ACL, tagging,
 * retention, legal hold, encryption and restore need w: each acts on one
 * object the writer may already replace or delete, and PutObject carries
 * the same settings as headers (x-amz-acl, x-amz-tagging,
 * x-amz-object-lock-*), which w allows.  Reading any configuration needs
 * r.  CreateBucket needs admin; a client with w but not admin is answered
 * as S3 answers the bucket's owner, without forwarding (auth.c).
 *
 * GetBucketLifecycle, GetBucketNotification, PutBucketLifecycle and
 * PutBucketNotification (deprecated) are the same requests as their
 * *Configuration successors; ListDirectoryBuckets is the same request as
 * ListBuckets (on another host): one row each.
 */

/* What the table does not know: never matched, produced by a tie or a
 * leftover parameter.  Reads change nothing; anything else changes its
 * key, or its bucket. */
S3OP(UNKNOWN,	"Unknown",	NONE, ANY, NULL, NULL, 0, ADMIN, KEY, 0, NULL)
S3OP(UNKNOWN_READ, "UnknownRead", NONE, ANY, NULL, NULL, 0, ADMIN, NOTHING, 0,
    NULL)

/* The service. */
S3OP(LIST_BUCKETS, "ListBuckets", GET, SVC, NULL, NULL, 0, NONE, NOTHING, 0,
    NULL)
S3OP(WRITE_GET_OBJECT_RESPONSE, "WriteGetObjectResponse", POST, SVC, NULL,
    NULL, 0, REFUSED, NOTHING, 0,
    "WriteGetObjectResponse belongs to S3 Object Lambda; s3inval does not "
    "serve it")
S3OP(OPTIONS,	"Options",	OPTIONS, ANY, NULL, NULL, 0, NONE, NOTHING, 0,
    NULL)

/* Buckets. */
S3OP(CREATE_BUCKET, "CreateBucket", PUT, BKT, NULL, NULL, 0, ADMIN, NOTHING,
    0, NULL)
S3OP(DELETE_BUCKET, "DeleteBucket", DELETE, BKT, NULL, NULL, 0, ADMIN, BUCKET,
    0, NULL)
S3OP(HEAD_BUCKET, "HeadBucket",	HEAD, BKT, NULL, NULL, 0, R, NOTHING, 0, NULL)
S3OP(LIST_OBJECTS, "ListObjects", GET, BKT, NULL, NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(LIST_OBJECTS_V2, "ListObjectsV2", GET, BKT, "list-type", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(LIST_OBJECT_VERSIONS, "ListObjectVersions", GET, BKT, "versions", NULL,
    0, R, NOTHING, 0, NULL)
S3OP(LIST_UPLOADS, "ListMultipartUploads", GET, BKT, "uploads", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(DELETE_OBJECTS, "DeleteObjects", POST, BKT, "delete", NULL, 0, W,
    RESPONSE_KEYS, S3_F_RESP_BODY | S3_F_REQ_BODY, NULL)
/* A browser form: authenticated by a policy document signed inside the
 * multipart body, not by a header.  Checking it as S3 does means parsing
 * the whole form before the first byte goes upstream, then re-creating
 * the form under a policy signed with the proxy's own credentials: a
 * second, large authentication surface for a call no deploy tool makes. */
S3OP(POST_OBJECT, "PostObject",	POST, BKT, NULL, NULL, 0, REFUSED, KEY, 0,
    "Browser-form POST uploads are not supported by s3inval: upload with "
    "PutObject (aws s3 cp, any SDK)")
/* Directory buckets: it hands out session credentials for the upstream
 * bucket, which would let the client go around the proxy. */
S3OP(CREATE_SESSION, "CreateSession", GET, BKT, "session", NULL, 0, REFUSED,
    NOTHING, 0,
    "CreateSession is not supported by s3inval: it would hand out "
    "credentials for the upstream bucket")

S3OP(GET_BUCKET_ABAC, "GetBucketAbac", GET, BKT, "abac", NULL, 0, R, NOTHING,
    0, NULL)
S3OP(PUT_BUCKET_ABAC, "PutBucketAbac", PUT, BKT, "abac", NULL, 0, ADMIN,
    BUCKET, 0, NULL)
S3OP(GET_BUCKET_ACCELERATE, "GetBucketAccelerateConfiguration", GET, BKT,
    "accelerate", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_ACCELERATE, "PutBucketAccelerateConfiguration", PUT, BKT,
    "accelerate", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_ACL, "GetBucketAcl", GET, BKT, "acl", NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(PUT_BUCKET_ACL, "PutBucketAcl", PUT, BKT, "acl", NULL, 0, ADMIN, BUCKET,
    0, NULL)
S3OP(GET_BUCKET_ANALYTICS, "GetBucketAnalyticsConfiguration", GET, BKT,
    "analytics", "id", 0, R, NOTHING, 0, NULL)
S3OP(LIST_BUCKET_ANALYTICS, "ListBucketAnalyticsConfigurations", GET, BKT,
    "analytics", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_ANALYTICS, "PutBucketAnalyticsConfiguration", PUT, BKT,
    "analytics", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_ANALYTICS, "DeleteBucketAnalyticsConfiguration", DELETE,
    BKT, "analytics", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_CORS, "GetBucketCors", GET, BKT, "cors", NULL, 0, R, NOTHING,
    0, NULL)
S3OP(PUT_BUCKET_CORS, "PutBucketCors", PUT, BKT, "cors", NULL, 0, ADMIN,
    BUCKET, 0, NULL)
S3OP(DELETE_BUCKET_CORS, "DeleteBucketCors", DELETE, BKT, "cors", NULL, 0,
    ADMIN, BUCKET, 0, NULL)
S3OP(GET_BUCKET_ENCRYPTION, "GetBucketEncryption", GET, BKT, "encryption",
    NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_ENCRYPTION, "PutBucketEncryption", PUT, BKT, "encryption",
    NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_ENCRYPTION, "DeleteBucketEncryption", DELETE, BKT,
    "encryption", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_INTELLIGENT_TIERING,
    "GetBucketIntelligentTieringConfiguration", GET, BKT,
    "intelligent-tiering", "id", 0, R, NOTHING, 0, NULL)
S3OP(LIST_BUCKET_INTELLIGENT_TIERING,
    "ListBucketIntelligentTieringConfigurations", GET, BKT,
    "intelligent-tiering", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_INTELLIGENT_TIERING,
    "PutBucketIntelligentTieringConfiguration", PUT, BKT,
    "intelligent-tiering", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_INTELLIGENT_TIERING,
    "DeleteBucketIntelligentTieringConfiguration", DELETE, BKT,
    "intelligent-tiering", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_INVENTORY, "GetBucketInventoryConfiguration", GET, BKT,
    "inventory", "id", 0, R, NOTHING, 0, NULL)
S3OP(LIST_BUCKET_INVENTORY, "ListBucketInventoryConfigurations", GET, BKT,
    "inventory", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_INVENTORY, "PutBucketInventoryConfiguration", PUT, BKT,
    "inventory", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_INVENTORY, "DeleteBucketInventoryConfiguration", DELETE,
    BKT, "inventory", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_LIFECYCLE, "GetBucketLifecycleConfiguration", GET, BKT,
    "lifecycle", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_LIFECYCLE, "PutBucketLifecycleConfiguration", PUT, BKT,
    "lifecycle", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_LIFECYCLE, "DeleteBucketLifecycle", DELETE, BKT,
    "lifecycle", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_LOCATION, "GetBucketLocation", GET, BKT, "location", NULL, 0,
    R, NOTHING, 0, NULL)
S3OP(GET_BUCKET_LOGGING, "GetBucketLogging", GET, BKT, "logging", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(PUT_BUCKET_LOGGING, "PutBucketLogging", PUT, BKT, "logging", NULL, 0,
    ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_METADATA, "GetBucketMetadataConfiguration", GET, BKT,
    "metadataConfiguration", NULL, 0, R, NOTHING, 0, NULL)
S3OP(CREATE_BUCKET_METADATA, "CreateBucketMetadataConfiguration", POST, BKT,
    "metadataConfiguration", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_METADATA, "DeleteBucketMetadataConfiguration", DELETE,
    BKT, "metadataConfiguration", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(UPDATE_BUCKET_METADATA_INVENTORY,
    "UpdateBucketMetadataInventoryTableConfiguration", PUT, BKT,
    "metadataInventoryTable", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(UPDATE_BUCKET_METADATA_JOURNAL,
    "UpdateBucketMetadataJournalTableConfiguration", PUT, BKT,
    "metadataJournalTable", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_METADATA_TABLE, "GetBucketMetadataTableConfiguration", GET,
    BKT, "metadataTable", NULL, 0, R, NOTHING, 0, NULL)
S3OP(CREATE_BUCKET_METADATA_TABLE, "CreateBucketMetadataTableConfiguration",
    POST, BKT, "metadataTable", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_METADATA_TABLE, "DeleteBucketMetadataTableConfiguration",
    DELETE, BKT, "metadataTable", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_METRICS, "GetBucketMetricsConfiguration", GET, BKT,
    "metrics", "id", 0, R, NOTHING, 0, NULL)
S3OP(LIST_BUCKET_METRICS, "ListBucketMetricsConfigurations", GET, BKT,
    "metrics", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_METRICS, "PutBucketMetricsConfiguration", PUT, BKT,
    "metrics", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_METRICS, "DeleteBucketMetricsConfiguration", DELETE, BKT,
    "metrics", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_NOTIFICATION, "GetBucketNotificationConfiguration", GET, BKT,
    "notification", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_NOTIFICATION, "PutBucketNotificationConfiguration", PUT, BKT,
    "notification", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_OBJECT_LOCK_CONFIG, "GetObjectLockConfiguration", GET, BKT,
    "object-lock", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_OBJECT_LOCK_CONFIG, "PutObjectLockConfiguration", PUT, BKT,
    "object-lock", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_OWNERSHIP, "GetBucketOwnershipControls", GET, BKT,
    "ownershipControls", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_OWNERSHIP, "PutBucketOwnershipControls", PUT, BKT,
    "ownershipControls", NULL, 0, ADMIN, BUCKET, 0, NULL)
S3OP(DELETE_BUCKET_OWNERSHIP, "DeleteBucketOwnershipControls", DELETE, BKT,
    "ownershipControls", NULL, 0, ADMIN, BUCKET, 0, NULL)
S3OP(GET_BUCKET_POLICY, "GetBucketPolicy", GET, BKT, "policy", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(PUT_BUCKET_POLICY, "PutBucketPolicy", PUT, BKT, "policy", NULL, 0,
    ADMIN, BUCKET, 0, NULL)
S3OP(DELETE_BUCKET_POLICY, "DeleteBucketPolicy", DELETE, BKT, "policy", NULL,
    0, ADMIN, BUCKET, 0, NULL)
S3OP(GET_BUCKET_POLICY_STATUS, "GetBucketPolicyStatus", GET, BKT,
    "policyStatus", NULL, 0, R, NOTHING, 0, NULL)
S3OP(GET_PUBLIC_ACCESS_BLOCK, "GetPublicAccessBlock", GET, BKT,
    "publicAccessBlock", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_PUBLIC_ACCESS_BLOCK, "PutPublicAccessBlock", PUT, BKT,
    "publicAccessBlock", NULL, 0, ADMIN, BUCKET, 0, NULL)
S3OP(DELETE_PUBLIC_ACCESS_BLOCK, "DeletePublicAccessBlock", DELETE, BKT,
    "publicAccessBlock", NULL, 0, ADMIN, BUCKET, 0, NULL)
S3OP(GET_BUCKET_REPLICATION, "GetBucketReplication", GET, BKT, "replication",
    NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_REPLICATION, "PutBucketReplication", PUT, BKT, "replication",
    NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_REPLICATION, "DeleteBucketReplication", DELETE, BKT,
    "replication", NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_REQUEST_PAYMENT, "GetBucketRequestPayment", GET, BKT,
    "requestPayment", NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_REQUEST_PAYMENT, "PutBucketRequestPayment", PUT, BKT,
    "requestPayment", NULL, 0, ADMIN, BUCKET, 0, NULL)
S3OP(GET_BUCKET_TAGGING, "GetBucketTagging", GET, BKT, "tagging", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(PUT_BUCKET_TAGGING, "PutBucketTagging", PUT, BKT, "tagging", NULL, 0,
    ADMIN, NOTHING, 0, NULL)
S3OP(DELETE_BUCKET_TAGGING, "DeleteBucketTagging", DELETE, BKT, "tagging",
    NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_VERSIONING, "GetBucketVersioning", GET, BKT, "versioning",
    NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_BUCKET_VERSIONING, "PutBucketVersioning", PUT, BKT, "versioning",
    NULL, 0, ADMIN, NOTHING, 0, NULL)
S3OP(GET_BUCKET_WEBSITE, "GetBucketWebsite", GET, BKT, "website", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(PUT_BUCKET_WEBSITE, "PutBucketWebsite", PUT, BKT, "website", NULL, 0,
    ADMIN, BUCKET, 0, NULL)
S3OP(DELETE_BUCKET_WEBSITE, "DeleteBucketWebsite", DELETE, BKT, "website",
    NULL, 0, ADMIN, BUCKET, 0, NULL)

/* Objects. */
S3OP(GET_OBJECT,	"GetObject",	GET, OBJ, NULL, NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(HEAD_OBJECT,	"HeadObject",	HEAD, OBJ, NULL, NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(PUT_OBJECT,	"PutObject",	PUT, OBJ, NULL, NULL, 0, W, KEY, 0,
    NULL)
/* A 200 may carry an <Error> (API Reference, CopyObject); an unreadable
 * one falls back to the destination key. */
S3OP(COPY_OBJECT,	"CopyObject",	PUT, OBJ, NULL, NULL,
    S3_HDR_COPY_SOURCE, W, KEY, S3_F_RESP_BODY, NULL)
S3OP(DELETE_OBJECT,	"DeleteObject",	DELETE, OBJ, NULL, NULL, 0, W, KEY,
    0, NULL)
/* Parts are invisible until the upload completes. */
S3OP(CREATE_MPU, "CreateMultipartUpload", POST, OBJ, "uploads", NULL, 0, W,
    NOTHING, 0, NULL)
S3OP(UPLOAD_PART, "UploadPart",	PUT, OBJ, "uploadId", "partNumber", 0, W,
    NOTHING, 0, NULL)
S3OP(UPLOAD_PART_COPY, "UploadPartCopy", PUT, OBJ, "uploadId", "partNumber",
    S3_HDR_COPY_SOURCE, W, NOTHING, 0, NULL)
S3OP(COMPLETE_MPU, "CompleteMultipartUpload", POST, OBJ, "uploadId", NULL, 0,
    W, KEY, S3_F_RESP_BODY, NULL)
S3OP(ABORT_MPU, "AbortMultipartUpload", DELETE, OBJ, "uploadId", NULL, 0, W,
    NOTHING, 0, NULL)
S3OP(LIST_PARTS, "ListParts",	GET, OBJ, "uploadId", NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(GET_OBJECT_ACL, "GetObjectAcl", GET, OBJ, "acl", NULL, 0, R, NOTHING, 0,
    NULL)
S3OP(PUT_OBJECT_ACL, "PutObjectAcl", PUT, OBJ, "acl", NULL, 0, W, KEY, 0,
    NULL)
S3OP(GET_OBJECT_ATTRIBUTES, "GetObjectAttributes", GET, OBJ, "attributes",
    NULL, 0, R, NOTHING, 0, NULL)
S3OP(UPDATE_OBJECT_ENCRYPTION, "UpdateObjectEncryption", PUT, OBJ,
    "encryption", NULL, 0, W, NOTHING, 0, NULL)
S3OP(GET_OBJECT_LEGAL_HOLD, "GetObjectLegalHold", GET, OBJ, "legal-hold",
    NULL, 0, R, NOTHING, 0, NULL)
S3OP(PUT_OBJECT_LEGAL_HOLD, "PutObjectLegalHold", PUT, OBJ, "legal-hold",
    NULL, 0, W, NOTHING, 0, NULL)
/* Directory buckets: the source, in x-amz-rename-source, would go upstream
 * under the client's bucket name, unchecked and unmapped (x-amz-copy-source
 * is checked and mapped by the front); and directory buckets need
 * CreateSession, refused above. */
S3OP(RENAME_OBJECT, "RenameObject", PUT, OBJ, "renameObject", NULL, 0,
    REFUSED, KEY, 0,
    "RenameObject is not supported by s3inval: copy then delete instead")
S3OP(RESTORE_OBJECT, "RestoreObject", POST, OBJ, "restore", NULL, 0, W,
    NOTHING, 0, NULL)
S3OP(GET_OBJECT_RETENTION, "GetObjectRetention", GET, OBJ, "retention", NULL,
    0, R, NOTHING, 0, NULL)
S3OP(PUT_OBJECT_RETENTION, "PutObjectRetention", PUT, OBJ, "retention", NULL,
    0, W, NOTHING, 0, NULL)
/* A POST that only reads. */
S3OP(SELECT_OBJECT_CONTENT, "SelectObjectContent", POST, OBJ, "select",
    "select-type", 0, R, NOTHING, 0, NULL)
S3OP(GET_OBJECT_TAGGING, "GetObjectTagging", GET, OBJ, "tagging", NULL, 0, R,
    NOTHING, 0, NULL)
S3OP(PUT_OBJECT_TAGGING, "PutObjectTagging", PUT, OBJ, "tagging", NULL, 0, W,
    NOTHING, 0, NULL)
S3OP(DELETE_OBJECT_TAGGING, "DeleteObjectTagging", DELETE, OBJ, "tagging",
    NULL, 0, W, NOTHING, 0, NULL)
S3OP(GET_OBJECT_TORRENT, "GetObjectTorrent", GET, OBJ, "torrent", NULL, 0, R,
    NOTHING, 0, NULL)

#undef S3OP
