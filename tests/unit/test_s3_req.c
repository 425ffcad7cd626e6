/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of s3_req: addressing, bucket and key decoding, the errors for
 * targets that must never reach the upstream, and the operation table
 * (s3_op_table.h): a sample request for every S3 operation of the API
 * Reference, the requests that are none of them, and the decisions each
 * row makes (right, change).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "s3_err.h"
#include "s3_req.h"

struct row {
	const char	*method;
	const char	*target;
	const char	*host;
	const char	*vbase;
	int		 copy;
	enum s3_err	 err;
	const char	*bucket;	/* NULL: none */
	const char	*key;		/* NULL: none */
	enum s3_op	 op;
};

static const struct row rows[] = {
	{ "GET", "/", "127.0.0.1:8080", "", 0, S3_OK, NULL, NULL,
	    S3_OP_LIST_BUCKETS },
	{ "PUT", "/blog", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_CREATE_BUCKET },
	{ "GET", "/blog?list-type=2&prefix=a%2F", NULL, "", 0, S3_OK, "blog",
	    NULL, S3_OP_LIST_OBJECTS_V2 },
	{ "GET", "/blog/", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_LIST_OBJECTS },
	{ "PUT", "/blog/a/b/index.html", NULL, "", 0, S3_OK, "blog",
	    "a/b/index.html", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/a%20b%2Bc~%28%21%29%2A%27%26%3D%25.txt", NULL, "", 0,
	    S3_OK, "blog", "a b+c~(!)*'&=%.txt", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/caf%C3%A9", NULL, "", 0, S3_OK, "blog",
	    "caf\xc3\xa9", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/x//y/./z/../w", NULL, "", 0, S3_OK, "blog",
	    "x//y/./z/../w", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/k", NULL, "", 1, S3_OK, "blog", "k",
	    S3_OP_COPY_OBJECT },
	{ "PUT", "/blog/k?partNumber=1&uploadId=u", NULL, "", 0, S3_OK,
	    "blog", "k", S3_OP_UPLOAD_PART },
	{ "PUT", "/blog/k?partNumber=1&uploadId=u", NULL, "", 1, S3_OK,
	    "blog", "k", S3_OP_UPLOAD_PART_COPY },
	{ "PUT", "/blog/k?tagging", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_PUT_OBJECT_TAGGING },
	{ "PUT", "/blog/k?acl", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_PUT_OBJECT_ACL },
	{ "POST", "/blog/k?uploads", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_CREATE_MPU },
	{ "POST", "/blog/k?uploadId=abc", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_COMPLETE_MPU },
	{ "DELETE", "/blog/k?uploadId=abc", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_ABORT_MPU },
	{ "POST", "/blog?delete", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_DELETE_OBJECTS },
	{ "POST", "/blog/?delete=", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_DELETE_OBJECTS },
	{ "DELETE", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_DELETE_OBJECT },
	{ "GET", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	{ "HEAD", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_HEAD_OBJECT },
	{ "GET", "/blog/k?uploadId=1", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_LIST_PARTS },
	{ "OPTIONS", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_OPTIONS },
	/* Virtual-hosted. */
	{ "PUT", "/a/index.html", "blog.s3.local:8080", "s3.local", 0, S3_OK,
	    "blog", "a/index.html", S3_OP_PUT_OBJECT },
	{ "GET", "/", "BLOG.S3.LOCAL", "s3.local", 0, S3_OK, "blog", NULL,
	    S3_OP_LIST_OBJECTS },
	{ "GET", "/blog/k", "s3.local", "s3.local", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	{ "GET", "/blog/k", "evil.example", "s3.local", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	/* Refused. */
	{ "GET", "http://evil.example/blog/k", NULL, "", 0,
	    S3_ERR_INVALID_URI, NULL, NULL, S3_OP_UNKNOWN },
	{ "GET", "*", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_UNKNOWN },
	{ "CONNECT", "evil.example:443", NULL, "", 0,
	    S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, S3_OP_UNKNOWN },
	{ "TRACE", "/blog/k", NULL, "", 0, S3_ERR_METHOD_NOT_ALLOWED, NULL,
	    NULL, S3_OP_UNKNOWN },
	{ "GET", "/blog/a%2", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_UNKNOWN },
	{ "GET", "/blog/a%00b", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_UNKNOWN },
	{ "GET", "/Bad_Bucket/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_UNKNOWN },
	{ "GET", "/a/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME, NULL, NULL,
	    S3_OP_UNKNOWN },
	{ "GET", "/192.168.1.1/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_UNKNOWN },
	{ "GET", "/x.y%2Fevil/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_UNKNOWN },
	{ "GET", "/x#y/k", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_UNKNOWN },
	{ "GET", "/evil.example#.s3.local/k", "evil.example#.s3.local",
	    "s3.local", 0, S3_ERR_INVALID_URI, NULL, NULL, S3_OP_UNKNOWN },
	{ "GET", "/k", "ev!l.s3.local", "s3.local", 0,
	    S3_ERR_INVALID_BUCKET_NAME, NULL, NULL, S3_OP_UNKNOWN },
};

static void
test_table(void **state)
{
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct s3_req	 r;
		enum s3_err	 e;

		e = s3_req_parse(&r, w->method, w->target, w->host, w->vbase,
		    w->copy);
		if (e != w->err)
			fail_msg("row %zu %s %s: err %d, want %d", i,
			    w->method, w->target, e, w->err);
		if (e == S3_OK) {
			if (w->bucket == NULL)
				assert_null(r.bucket);
			else
				assert_string_equal(r.bucket, w->bucket);
			if (w->key == NULL)
				assert_null(r.key);
			else
				assert_string_equal(r.key, w->key);
			if (r.op != w->op)
				fail_msg("row %zu %s %s: op %s, want %s", i,
				    w->method, w->target, s3_op_name(r.op),
				    s3_op_name(w->op));
		}
		s3_req_fini(&r);
	}
}

static void
test_params(void **state)
{
	struct s3_req	 r;

	assert_int_equal(s3_req_parse(&r, "GET",
	    "/blog?prefix=a%20b&delimiter=%2F&uploads&x=", NULL, "", 0),
	    S3_OK);
	assert_string_equal(s3_req_param(&r, "prefix"), "a b");
	assert_string_equal(s3_req_param(&r, "delimiter"), "/");
	assert_string_equal(s3_req_param(&r, "uploads"), "");
	assert_string_equal(s3_req_param(&r, "x"), "");
	assert_null(s3_req_param(&r, "missing"));
	assert_int_equal(r.op, S3_OP_LIST_UPLOADS);
	s3_req_fini(&r);
}

static void
test_bucket_names(void **state)
{
	assert_true(s3_bucket_name_valid("blog"));
	assert_true(s3_bucket_name_valid("my-site.example.com"));
	assert_true(s3_bucket_name_valid("a1b"));
	assert_false(s3_bucket_name_valid("ab"));
	assert_false(s3_bucket_name_valid("-ab"));
	assert_false(s3_bucket_name_valid("ab-"));
	assert_false(s3_bucket_name_valid("a..b"));
	assert_false(s3_bucket_name_valid("UPPER"));
	assert_false(s3_bucket_name_valid("under_score"));
	assert_false(s3_bucket_name_valid("10.0.0.1"));
	assert_false(s3_bucket_name_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
}

#define COPY	S3_HDR_COPY_SOURCE

struct sample {
	const char	*method;
	const char	*target;
	unsigned	 hdrs;
	enum s3_op	 op;
	enum s3_err	 err;
};

/*
 * One request per operation of the S3 API Reference (botocore 1.43's
 * model: method, URI, required query parameters), in its order.  The
 * deprecated GetBucketLifecycle, GetBucketNotification,
 * PutBucketLifecycle and PutBucketNotification send the same requests as
 * their successors, ListDirectoryBuckets the same as ListBuckets.
 */
static const struct sample api[] = {
	/* AbortMultipartUpload */
	{ "DELETE", "/blog/k?uploadId=x", 0, S3_OP_ABORT_MPU, S3_OK },
	/* CompleteMultipartUpload */
	{ "POST", "/blog/k?uploadId=x", 0, S3_OP_COMPLETE_MPU, S3_OK },
	/* CopyObject */
	{ "PUT", "/blog/k", COPY, S3_OP_COPY_OBJECT, S3_OK },
	/* CreateBucket */
	{ "PUT", "/blog", 0, S3_OP_CREATE_BUCKET, S3_OK },
	/* CreateBucketMetadataConfiguration */
	{ "POST", "/blog?metadataConfiguration", 0,
	    S3_OP_CREATE_BUCKET_METADATA, S3_OK },
	/* CreateBucketMetadataTableConfiguration */
	{ "POST", "/blog?metadataTable", 0,
	    S3_OP_CREATE_BUCKET_METADATA_TABLE, S3_OK },
	/* CreateMultipartUpload */
	{ "POST", "/blog/k?uploads", 0, S3_OP_CREATE_MPU, S3_OK },
	/* CreateSession */
	{ "GET", "/blog?session", 0,
	    S3_OP_CREATE_SESSION, S3_ERR_NOT_IMPLEMENTED },
	/* DeleteBucket */
	{ "DELETE", "/blog", 0, S3_OP_DELETE_BUCKET, S3_OK },
	/* DeleteBucketAnalyticsConfiguration */
	{ "DELETE", "/blog?analytics&id=x", 0,
	    S3_OP_DELETE_BUCKET_ANALYTICS, S3_OK },
	/* DeleteBucketCors */
	{ "DELETE", "/blog?cors", 0, S3_OP_DELETE_BUCKET_CORS, S3_OK },
	/* DeleteBucketEncryption */
	{ "DELETE", "/blog?encryption", 0,
	    S3_OP_DELETE_BUCKET_ENCRYPTION, S3_OK },
	/* DeleteBucketIntelligentTieringConfiguration */
	{ "DELETE", "/blog?intelligent-tiering&id=x", 0,
	    S3_OP_DELETE_BUCKET_INTELLIGENT_TIERING, S3_OK },
	/* DeleteBucketInventoryConfiguration */
	{ "DELETE", "/blog?inventory&id=x", 0,
	    S3_OP_DELETE_BUCKET_INVENTORY, S3_OK },
	/* DeleteBucketLifecycle */
	{ "DELETE", "/blog?lifecycle", 0,
	    S3_OP_DELETE_BUCKET_LIFECYCLE, S3_OK },
	/* DeleteBucketMetadataConfiguration */
	{ "DELETE", "/blog?metadataConfiguration", 0,
	    S3_OP_DELETE_BUCKET_METADATA, S3_OK },
	/* DeleteBucketMetadataTableConfiguration */
	{ "DELETE", "/blog?metadataTable", 0,
	    S3_OP_DELETE_BUCKET_METADATA_TABLE, S3_OK },
	/* DeleteBucketMetricsConfiguration */
	{ "DELETE", "/blog?metrics&id=x", 0,
	    S3_OP_DELETE_BUCKET_METRICS, S3_OK },
	/* DeleteBucketOwnershipControls */
	{ "DELETE", "/blog?ownershipControls", 0,
	    S3_OP_DELETE_BUCKET_OWNERSHIP, S3_OK },
	/* DeleteBucketPolicy */
	{ "DELETE", "/blog?policy", 0, S3_OP_DELETE_BUCKET_POLICY, S3_OK },
	/* DeleteBucketReplication */
	{ "DELETE", "/blog?replication", 0,
	    S3_OP_DELETE_BUCKET_REPLICATION, S3_OK },
	/* DeleteBucketTagging */
	{ "DELETE", "/blog?tagging", 0, S3_OP_DELETE_BUCKET_TAGGING, S3_OK },
	/* DeleteBucketWebsite */
	{ "DELETE", "/blog?website", 0, S3_OP_DELETE_BUCKET_WEBSITE, S3_OK },
	/* DeleteObject */
	{ "DELETE", "/blog/k", 0, S3_OP_DELETE_OBJECT, S3_OK },
	/* DeleteObjectTagging */
	{ "DELETE", "/blog/k?tagging", 0, S3_OP_DELETE_OBJECT_TAGGING, S3_OK },
	/* DeleteObjects */
	{ "POST", "/blog?delete", 0, S3_OP_DELETE_OBJECTS, S3_OK },
	/* DeletePublicAccessBlock */
	{ "DELETE", "/blog?publicAccessBlock", 0,
	    S3_OP_DELETE_PUBLIC_ACCESS_BLOCK, S3_OK },
	/* GetBucketAbac */
	{ "GET", "/blog?abac", 0, S3_OP_GET_BUCKET_ABAC, S3_OK },
	/* GetBucketAccelerateConfiguration */
	{ "GET", "/blog?accelerate", 0, S3_OP_GET_BUCKET_ACCELERATE, S3_OK },
	/* GetBucketAcl */
	{ "GET", "/blog?acl", 0, S3_OP_GET_BUCKET_ACL, S3_OK },
	/* GetBucketAnalyticsConfiguration */
	{ "GET", "/blog?analytics&id=x", 0, S3_OP_GET_BUCKET_ANALYTICS, S3_OK },
	/* GetBucketCors */
	{ "GET", "/blog?cors", 0, S3_OP_GET_BUCKET_CORS, S3_OK },
	/* GetBucketEncryption */
	{ "GET", "/blog?encryption", 0, S3_OP_GET_BUCKET_ENCRYPTION, S3_OK },
	/* GetBucketIntelligentTieringConfiguration */
	{ "GET", "/blog?intelligent-tiering&id=x", 0,
	    S3_OP_GET_BUCKET_INTELLIGENT_TIERING, S3_OK },
	/* GetBucketInventoryConfiguration */
	{ "GET", "/blog?inventory&id=x", 0, S3_OP_GET_BUCKET_INVENTORY, S3_OK },
	/* GetBucketLifecycle */
	{ "GET", "/blog?lifecycle", 0, S3_OP_GET_BUCKET_LIFECYCLE, S3_OK },
	/* GetBucketLifecycleConfiguration */
	{ "GET", "/blog?lifecycle", 0, S3_OP_GET_BUCKET_LIFECYCLE, S3_OK },
	/* GetBucketLocation */
	{ "GET", "/blog?location", 0, S3_OP_GET_BUCKET_LOCATION, S3_OK },
	/* GetBucketLogging */
	{ "GET", "/blog?logging", 0, S3_OP_GET_BUCKET_LOGGING, S3_OK },
	/* GetBucketMetadataConfiguration */
	{ "GET", "/blog?metadataConfiguration", 0,
	    S3_OP_GET_BUCKET_METADATA, S3_OK },
	/* GetBucketMetadataTableConfiguration */
	{ "GET", "/blog?metadataTable", 0,
	    S3_OP_GET_BUCKET_METADATA_TABLE, S3_OK },
	/* GetBucketMetricsConfiguration */
	{ "GET", "/blog?metrics&id=x", 0, S3_OP_GET_BUCKET_METRICS, S3_OK },
	/* GetBucketNotification */
	{ "GET", "/blog?notification", 0,
	    S3_OP_GET_BUCKET_NOTIFICATION, S3_OK },
	/* GetBucketNotificationConfiguration */
	{ "GET", "/blog?notification", 0,
	    S3_OP_GET_BUCKET_NOTIFICATION, S3_OK },
	/* GetBucketOwnershipControls */
	{ "GET", "/blog?ownershipControls", 0,
	    S3_OP_GET_BUCKET_OWNERSHIP, S3_OK },
	/* GetBucketPolicy */
	{ "GET", "/blog?policy", 0, S3_OP_GET_BUCKET_POLICY, S3_OK },
	/* GetBucketPolicyStatus */
	{ "GET", "/blog?policyStatus", 0,
	    S3_OP_GET_BUCKET_POLICY_STATUS, S3_OK },
	/* GetBucketReplication */
	{ "GET", "/blog?replication", 0, S3_OP_GET_BUCKET_REPLICATION, S3_OK },
	/* GetBucketRequestPayment */
	{ "GET", "/blog?requestPayment", 0,
	    S3_OP_GET_BUCKET_REQUEST_PAYMENT, S3_OK },
	/* GetBucketTagging */
	{ "GET", "/blog?tagging", 0, S3_OP_GET_BUCKET_TAGGING, S3_OK },
	/* GetBucketVersioning */
	{ "GET", "/blog?versioning", 0, S3_OP_GET_BUCKET_VERSIONING, S3_OK },
	/* GetBucketWebsite */
	{ "GET", "/blog?website", 0, S3_OP_GET_BUCKET_WEBSITE, S3_OK },
	/* GetObject */
	{ "GET", "/blog/k", 0, S3_OP_GET_OBJECT, S3_OK },
	/* GetObjectAcl */
	{ "GET", "/blog/k?acl", 0, S3_OP_GET_OBJECT_ACL, S3_OK },
	/* GetObjectAttributes */
	{ "GET", "/blog/k?attributes", 0, S3_OP_GET_OBJECT_ATTRIBUTES, S3_OK },
	/* GetObjectLegalHold */
	{ "GET", "/blog/k?legal-hold", 0, S3_OP_GET_OBJECT_LEGAL_HOLD, S3_OK },
	/* GetObjectLockConfiguration */
	{ "GET", "/blog?object-lock", 0, S3_OP_GET_OBJECT_LOCK_CONFIG, S3_OK },
	/* GetObjectRetention */
	{ "GET", "/blog/k?retention", 0, S3_OP_GET_OBJECT_RETENTION, S3_OK },
	/* GetObjectTagging */
	{ "GET", "/blog/k?tagging", 0, S3_OP_GET_OBJECT_TAGGING, S3_OK },
	/* GetObjectTorrent */
	{ "GET", "/blog/k?torrent", 0, S3_OP_GET_OBJECT_TORRENT, S3_OK },
	/* GetPublicAccessBlock */
	{ "GET", "/blog?publicAccessBlock", 0,
	    S3_OP_GET_PUBLIC_ACCESS_BLOCK, S3_OK },
	/* HeadBucket */
	{ "HEAD", "/blog", 0, S3_OP_HEAD_BUCKET, S3_OK },
	/* HeadObject */
	{ "HEAD", "/blog/k", 0, S3_OP_HEAD_OBJECT, S3_OK },
	/* ListBucketAnalyticsConfigurations */
	{ "GET", "/blog?analytics", 0, S3_OP_LIST_BUCKET_ANALYTICS, S3_OK },
	/* ListBucketIntelligentTieringConfigurations */
	{ "GET", "/blog?intelligent-tiering", 0,
	    S3_OP_LIST_BUCKET_INTELLIGENT_TIERING, S3_OK },
	/* ListBucketInventoryConfigurations */
	{ "GET", "/blog?inventory", 0, S3_OP_LIST_BUCKET_INVENTORY, S3_OK },
	/* ListBucketMetricsConfigurations */
	{ "GET", "/blog?metrics", 0, S3_OP_LIST_BUCKET_METRICS, S3_OK },
	/* ListBuckets */
	{ "GET", "/", 0, S3_OP_LIST_BUCKETS, S3_OK },
	/* ListDirectoryBuckets */
	{ "GET", "/", 0, S3_OP_LIST_BUCKETS, S3_OK },
	/* ListMultipartUploads */
	{ "GET", "/blog?uploads", 0, S3_OP_LIST_UPLOADS, S3_OK },
	/* ListObjectVersions */
	{ "GET", "/blog?versions", 0, S3_OP_LIST_OBJECT_VERSIONS, S3_OK },
	/* ListObjects */
	{ "GET", "/blog", 0, S3_OP_LIST_OBJECTS, S3_OK },
	/* ListObjectsV2 */
	{ "GET", "/blog?list-type=2", 0, S3_OP_LIST_OBJECTS_V2, S3_OK },
	/* ListParts */
	{ "GET", "/blog/k?uploadId=x", 0, S3_OP_LIST_PARTS, S3_OK },
	/* PutBucketAbac */
	{ "PUT", "/blog?abac", 0, S3_OP_PUT_BUCKET_ABAC, S3_OK },
	/* PutBucketAccelerateConfiguration */
	{ "PUT", "/blog?accelerate", 0, S3_OP_PUT_BUCKET_ACCELERATE, S3_OK },
	/* PutBucketAcl */
	{ "PUT", "/blog?acl", 0, S3_OP_PUT_BUCKET_ACL, S3_OK },
	/* PutBucketAnalyticsConfiguration */
	{ "PUT", "/blog?analytics&id=x", 0, S3_OP_PUT_BUCKET_ANALYTICS, S3_OK },
	/* PutBucketCors */
	{ "PUT", "/blog?cors", 0, S3_OP_PUT_BUCKET_CORS, S3_OK },
	/* PutBucketEncryption */
	{ "PUT", "/blog?encryption", 0, S3_OP_PUT_BUCKET_ENCRYPTION, S3_OK },
	/* PutBucketIntelligentTieringConfiguration */
	{ "PUT", "/blog?intelligent-tiering&id=x", 0,
	    S3_OP_PUT_BUCKET_INTELLIGENT_TIERING, S3_OK },
	/* PutBucketInventoryConfiguration */
	{ "PUT", "/blog?inventory&id=x", 0, S3_OP_PUT_BUCKET_INVENTORY, S3_OK },
	/* PutBucketLifecycle */
	{ "PUT", "/blog?lifecycle", 0, S3_OP_PUT_BUCKET_LIFECYCLE, S3_OK },
	/* PutBucketLifecycleConfiguration */
	{ "PUT", "/blog?lifecycle", 0, S3_OP_PUT_BUCKET_LIFECYCLE, S3_OK },
	/* PutBucketLogging */
	{ "PUT", "/blog?logging", 0, S3_OP_PUT_BUCKET_LOGGING, S3_OK },
	/* PutBucketMetricsConfiguration */
	{ "PUT", "/blog?metrics&id=x", 0, S3_OP_PUT_BUCKET_METRICS, S3_OK },
	/* PutBucketNotification */
	{ "PUT", "/blog?notification", 0,
	    S3_OP_PUT_BUCKET_NOTIFICATION, S3_OK },
	/* PutBucketNotificationConfiguration */
	{ "PUT", "/blog?notification", 0,
	    S3_OP_PUT_BUCKET_NOTIFICATION, S3_OK },
	/* PutBucketOwnershipControls */
	{ "PUT", "/blog?ownershipControls", 0,
	    S3_OP_PUT_BUCKET_OWNERSHIP, S3_OK },
	/* PutBucketPolicy */
	{ "PUT", "/blog?policy", 0, S3_OP_PUT_BUCKET_POLICY, S3_OK },
	/* PutBucketReplication */
	{ "PUT", "/blog?replication", 0, S3_OP_PUT_BUCKET_REPLICATION, S3_OK },
	/* PutBucketRequestPayment */
	{ "PUT", "/blog?requestPayment", 0,
	    S3_OP_PUT_BUCKET_REQUEST_PAYMENT, S3_OK },
	/* PutBucketTagging */
	{ "PUT", "/blog?tagging", 0, S3_OP_PUT_BUCKET_TAGGING, S3_OK },
	/* PutBucketVersioning */
	{ "PUT", "/blog?versioning", 0, S3_OP_PUT_BUCKET_VERSIONING, S3_OK },
	/* PutBucketWebsite */
	{ "PUT", "/blog?website", 0, S3_OP_PUT_BUCKET_WEBSITE, S3_OK },
	/* PutObject */
	{ "PUT", "/blog/k", 0, S3_OP_PUT_OBJECT, S3_OK },
	/* PutObjectAcl */
	{ "PUT", "/blog/k?acl", 0, S3_OP_PUT_OBJECT_ACL, S3_OK },
	/* PutObjectLegalHold */
	{ "PUT", "/blog/k?legal-hold", 0, S3_OP_PUT_OBJECT_LEGAL_HOLD, S3_OK },
	/* PutObjectLockConfiguration */
	{ "PUT", "/blog?object-lock", 0, S3_OP_PUT_OBJECT_LOCK_CONFIG, S3_OK },
	/* PutObjectRetention */
	{ "PUT", "/blog/k?retention", 0, S3_OP_PUT_OBJECT_RETENTION, S3_OK },
	/* PutObjectTagging */
	{ "PUT", "/blog/k?tagging", 0, S3_OP_PUT_OBJECT_TAGGING, S3_OK },
	/* PutPublicAccessBlock */
	{ "PUT", "/blog?publicAccessBlock", 0,
	    S3_OP_PUT_PUBLIC_ACCESS_BLOCK, S3_OK },
	/* RenameObject */
	{ "PUT", "/blog/k?renameObject", 0,
	    S3_OP_RENAME_OBJECT, S3_ERR_NOT_IMPLEMENTED },
	/* RestoreObject */
	{ "POST", "/blog/k?restore", 0, S3_OP_RESTORE_OBJECT, S3_OK },
	/* SelectObjectContent */
	{ "POST", "/blog/k?select&select-type=2", 0,
	    S3_OP_SELECT_OBJECT_CONTENT, S3_OK },
	/* UpdateBucketMetadataInventoryTableConfiguration */
	{ "PUT", "/blog?metadataInventoryTable", 0,
	    S3_OP_UPDATE_BUCKET_METADATA_INVENTORY, S3_OK },
	/* UpdateBucketMetadataJournalTableConfiguration */
	{ "PUT", "/blog?metadataJournalTable", 0,
	    S3_OP_UPDATE_BUCKET_METADATA_JOURNAL, S3_OK },
	/* UpdateObjectEncryption */
	{ "PUT", "/blog/k?encryption", 0,
	    S3_OP_UPDATE_OBJECT_ENCRYPTION, S3_OK },
	/* UploadPart */
	{ "PUT", "/blog/k?partNumber=1&uploadId=x", 0,
	    S3_OP_UPLOAD_PART, S3_OK },
	/* UploadPartCopy */
	{ "PUT", "/blog/k?partNumber=1&uploadId=x", COPY,
	    S3_OP_UPLOAD_PART_COPY, S3_OK },
	/* WriteGetObjectResponse */
	{ "POST", "/WriteGetObjectResponse", 0,
	    S3_OP_WRITE_GET_OBJECT_RESPONSE, S3_ERR_NOT_IMPLEMENTED },
	/* The browser-form upload of the User Guide. */
	{ "POST", "/blog", 0, S3_OP_POST_OBJECT, S3_ERR_NOT_IMPLEMENTED },
	/* CORS preflight. */
	{ "OPTIONS", "/blog/k", 0, S3_OP_OPTIONS, S3_OK },
};

/* Requests that are no operation of the table, or look like one only at
 * first sight. */
static const struct sample odd[] = {
	/* Issue 13: moto stores an object for it; no UploadPart. */
	{ "PUT", "/blog/k?uploadId=u", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog/k?partNumber=1", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog/k?uploadId=u&partNumber=1&x-id=UploadPart", 0,
	    S3_OP_UPLOAD_PART, S3_OK },
	/* Browser forms, whatever else they carry; a POST to a key is no
	 * operation at all. */
	{ "POST", "/blog?x-id=PostObject", 0, S3_OP_POST_OBJECT,
	    S3_ERR_NOT_IMPLEMENTED },
	{ "POST", "/blog/", 0, S3_OP_POST_OBJECT, S3_ERR_NOT_IMPLEMENTED },
	{ "POST", "/blog?newThing", 0, S3_OP_UNKNOWN, S3_OK },
	{ "POST", "/blog/k", 0, S3_OP_UNKNOWN, S3_OK },
	{ "POST", "/blog/k?select-type=2", 0, S3_OP_UNKNOWN, S3_OK },
	/* Arguments S3 documents do not change the operation... */
	{ "PUT", "/blog/k?x-id=PutObject", 0, S3_OP_PUT_OBJECT, S3_OK },
	{ "DELETE", "/blog/k?versionId=v1", 0, S3_OP_DELETE_OBJECT, S3_OK },
	{ "POST", "/blog?delete&encoding-type=url", 0, S3_OP_DELETE_OBJECTS,
	    S3_OK },
	{ "PUT", "/blog/k?tagging&versionId=v", 0, S3_OP_PUT_OBJECT_TAGGING,
	    S3_OK },
	{ "PUT", "/blog/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s"
	    "&x-amz-acl=private", 0, S3_OP_PUT_OBJECT, S3_OK },
	{ "PUT", "/blog?analytics&id=a", 0, S3_OP_PUT_BUCKET_ANALYTICS,
	    S3_OK },
	/* ... anything else does: another operation's subresource, or one
	 * nobody knows. */
	{ "PUT", "/blog/k?newThing", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog/k?uploads", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog?newThing=1", 0, S3_OP_UNKNOWN, S3_OK },
	{ "DELETE", "/blog/k?acl", 0, S3_OP_UNKNOWN, S3_OK },
	{ "DELETE", "/blog?uploads", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog/k?acl", COPY, S3_OP_UNKNOWN, S3_OK },
	/* Two subresources: which one S3 would run is not ours to guess. */
	{ "PUT", "/blog/k?acl&tagging", 0, S3_OP_UNKNOWN, S3_OK },
	{ "PUT", "/blog?policy&website", 0, S3_OP_UNKNOWN, S3_OK },
	{ "GET", "/blog/k?acl&tagging", 0, S3_OP_UNKNOWN_READ, S3_OK },
	{ "GET", "/blog?session&acl", 0, S3_OP_UNKNOWN_READ, S3_OK },
	/* Reads ignore what they do not know (a cache-busting argument). */
	{ "GET", "/blog/k?v=123", 0, S3_OP_GET_OBJECT, S3_OK },
	{ "GET", "/blog/k?partNumber=2&versionId=v", 0, S3_OP_GET_OBJECT,
	    S3_OK },
	{ "HEAD", "/blog/k?response-content-type=x", 0, S3_OP_HEAD_OBJECT,
	    S3_OK },
	{ "GET", "/blog?prefix=a&other", 0, S3_OP_LIST_OBJECTS, S3_OK },
	{ "GET", "/blog?session", 0, S3_OP_CREATE_SESSION,
	    S3_ERR_NOT_IMPLEMENTED },
	/* The service. */
	{ "HEAD", "/", 0, S3_OP_UNKNOWN_READ, S3_OK },
	{ "PUT", "/", 0, S3_OP_UNKNOWN, S3_OK },
	{ "OPTIONS", "/", 0, S3_OP_OPTIONS, S3_OK },
	{ "GET", "/?max-buckets=10", 0, S3_OP_LIST_BUCKETS, S3_OK },
	{ "GET", "/WriteGetObjectResponse", 0, S3_OP_UNKNOWN,
	    S3_ERR_INVALID_BUCKET_NAME },
	/* Headers: the copy source makes a PUT a copy, nothing else. */
	{ "PUT", "/blog/k?x-id=CopyObject", COPY, S3_OP_COPY_OBJECT, S3_OK },
	{ "PUT", "/blog", COPY, S3_OP_CREATE_BUCKET, S3_OK },
	{ "GET", "/blog/k", COPY, S3_OP_GET_OBJECT, S3_OK },
};

static void
run_samples(const struct sample *v, size_t n, int *seen)
{
	struct s3_req	 r;
	enum s3_err	 e;
	size_t		 i;

	for (i = 0; i < n; i++) {
		e = s3_req_parse(&r, v[i].method, v[i].target, NULL, "",
		    v[i].hdrs);
		if (e != v[i].err || r.op != v[i].op)
			fail_msg("%s %s: %s err %d, want %s err %d",
			    v[i].method, v[i].target, s3_op_name(r.op), e,
			    s3_op_name(v[i].op), v[i].err);
		if (e == S3_ERR_NOT_IMPLEMENTED &&
		    (r.message == NULL || strcmp(r.message,
		    s3_op_refusal(r.op)) != 0))
			fail_msg("%s %s: refused without its reason",
			    v[i].method, v[i].target);
		if (seen != NULL)
			seen[r.op] = 1;
		s3_req_fini(&r);
	}
}

static void
test_every_operation(void **state)
{
	int	 seen[S3_OP__COUNT] = { 0 };
	size_t	 op;

	(void)state;
	run_samples(api, sizeof(api) / sizeof(api[0]), seen);
	run_samples(odd, sizeof(odd) / sizeof(odd[0]), seen);
	/* Every row of the table is some request. */
	for (op = 0; op < S3_OP__COUNT; op++)
		if (!seen[op])
			fail_msg("no sample request is %s",
			    s3_op_name((enum s3_op)op));
}

/* The decisions the issues ask for, pinned. */
static const struct {
	enum s3_op	 op;
	enum s3_right	 right;
	enum s3_change	 change;
} decisions[] = {
	{ S3_OP_PUT_OBJECT, S3_RIGHT_W, S3_CHG_KEY },
	{ S3_OP_COPY_OBJECT, S3_RIGHT_W, S3_CHG_KEY },
	{ S3_OP_DELETE_OBJECT, S3_RIGHT_W, S3_CHG_KEY },
	{ S3_OP_DELETE_OBJECTS, S3_RIGHT_W, S3_CHG_RESPONSE_KEYS },
	{ S3_OP_COMPLETE_MPU, S3_RIGHT_W, S3_CHG_KEY },
	{ S3_OP_CREATE_MPU, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_UPLOAD_PART, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_UPLOAD_PART_COPY, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_ABORT_MPU, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_PUT_OBJECT_ACL, S3_RIGHT_W, S3_CHG_KEY },
	{ S3_OP_PUT_OBJECT_TAGGING, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_PUT_OBJECT_RETENTION, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_PUT_OBJECT_LEGAL_HOLD, S3_RIGHT_W, S3_CHG_NOTHING },
	{ S3_OP_GET_OBJECT, S3_RIGHT_R, S3_CHG_NOTHING },
	{ S3_OP_HEAD_OBJECT, S3_RIGHT_R, S3_CHG_NOTHING },
	{ S3_OP_LIST_OBJECTS_V2, S3_RIGHT_R, S3_CHG_NOTHING },
	{ S3_OP_GET_BUCKET_POLICY, S3_RIGHT_R, S3_CHG_NOTHING },
	{ S3_OP_SELECT_OBJECT_CONTENT, S3_RIGHT_R, S3_CHG_NOTHING },
	{ S3_OP_LIST_BUCKETS, S3_RIGHT_NONE, S3_CHG_NOTHING },
	{ S3_OP_OPTIONS, S3_RIGHT_NONE, S3_CHG_NOTHING },
	{ S3_OP_CREATE_BUCKET, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_DELETE_BUCKET, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_POLICY, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_DELETE_BUCKET_POLICY, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_ACL, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_CORS, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_WEBSITE, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_DELETE_BUCKET_WEBSITE, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_PUBLIC_ACCESS_BLOCK, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_OWNERSHIP, S3_RIGHT_ADMIN, S3_CHG_BUCKET },
	{ S3_OP_PUT_BUCKET_LIFECYCLE, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_PUT_BUCKET_VERSIONING, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_PUT_BUCKET_ENCRYPTION, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_PUT_BUCKET_TAGGING, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_PUT_BUCKET_NOTIFICATION, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_PUT_BUCKET_REPLICATION, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_UNKNOWN, S3_RIGHT_ADMIN, S3_CHG_KEY },
	{ S3_OP_UNKNOWN_READ, S3_RIGHT_ADMIN, S3_CHG_NOTHING },
	{ S3_OP_POST_OBJECT, S3_RIGHT_REFUSED, S3_CHG_KEY },
	{ S3_OP_CREATE_SESSION, S3_RIGHT_REFUSED, S3_CHG_NOTHING },
};

static void
test_decisions(void **state)
{
	size_t	 i, j;

	(void)state;
	for (i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
		if (s3_op_right(decisions[i].op) != decisions[i].right ||
		    s3_op_change(decisions[i].op) != decisions[i].change)
			fail_msg("%s: right %s change %d", s3_op_name(
			    decisions[i].op), s3_right_name(s3_op_right(
			    decisions[i].op)), s3_op_change(decisions[i].op));
	}
	assert_int_equal(s3_op_flags(S3_OP_DELETE_OBJECTS),
	    S3_F_RESP_BODY | S3_F_REQ_BODY);
	assert_int_equal(s3_op_flags(S3_OP_COPY_OBJECT), S3_F_RESP_BODY);
	assert_int_equal(s3_op_flags(S3_OP_COMPLETE_MPU), S3_F_RESP_BODY);
	assert_int_equal(s3_op_flags(S3_OP_PUT_OBJECT), 0);
	/* What holds for every row. */
	for (i = 0; i < S3_OP__COUNT; i++) {
		enum s3_right	 r = s3_op_right((enum s3_op)i);
		enum s3_change	 c = s3_op_change((enum s3_op)i);
		const char	*n = s3_op_name((enum s3_op)i);

		/* A read changes nothing; a change needs w or admin. */
		if (c != S3_CHG_NOTHING && r != S3_RIGHT_W &&
		    r != S3_RIGHT_ADMIN && r != S3_RIGHT_REFUSED)
			fail_msg("%s changes with right %s", n,
			    s3_right_name(r));
		/* A refusal says why; nothing else has one. */
		if ((r == S3_RIGHT_REFUSED) != (s3_op_refusal((enum s3_op)i)
		    != NULL))
			fail_msg("%s: refusal and right disagree", n);
		/* Bucket configuration writes are admin's. */
		if ((strncmp(n, "PutBucket", 9) == 0 ||
		    strncmp(n, "DeleteBucket", 12) == 0) &&
		    r != S3_RIGHT_ADMIN)
			fail_msg("%s is not admin's", n);
		for (j = 0; j < i; j++)
			if (strcmp(n, s3_op_name((enum s3_op)j)) == 0)
				fail_msg("%s twice", n);
	}
	assert_string_equal(s3_op_name((enum s3_op)-1), "Unknown");
	assert_string_equal(s3_right_name(S3_RIGHT_ADMIN), "admin");
	assert_string_equal(s3_right_name(S3_RIGHT_NONE), "");
}

static void
test_key_too_long(void **state)
{
	char		 t[4096];
	struct s3_req	 r;
	size_t		 i, n;

	(void)state;
	/* 1,024 bytes is S3's limit, counted in UTF-8 bytes decoded. */
	n = (size_t)snprintf(t, sizeof(t), "/blog/");
	for (i = 0; i < S3_KEY_MAX; i++)
		t[n++] = 'a';
	t[n] = '\0';
	assert_int_equal(s3_req_parse(&r, "PUT", t, NULL, "", 0), S3_OK);
	assert_int_equal(strlen(r.key), S3_KEY_MAX);
	s3_req_fini(&r);
	t[n++] = 'a';
	t[n] = '\0';
	assert_int_equal(s3_req_parse(&r, "PUT", t, NULL, "", 0),
	    S3_ERR_KEY_TOO_LONG);
	assert_int_equal(r.op, S3_OP_PUT_OBJECT);
	s3_req_fini(&r);
	assert_int_equal(s3_req_parse(&r, "GET", t, NULL, "", 0),
	    S3_ERR_KEY_TOO_LONG);
	s3_req_fini(&r);
	assert_int_equal(s3_err_status(S3_ERR_KEY_TOO_LONG), 400);
	assert_string_equal(s3_err_code(S3_ERR_KEY_TOO_LONG),
	    "KeyTooLongError");
	/* 512 "é" are 1,024 bytes (3,072 characters encoded); 513 are not. */
	n = (size_t)snprintf(t, sizeof(t), "/blog/");
	for (i = 0; i < 512; i++)
		n += (size_t)snprintf(t + n, sizeof(t) - n, "%%C3%%A9");
	assert_int_equal(s3_req_parse(&r, "PUT", t, NULL, "", 0), S3_OK);
	s3_req_fini(&r);
	snprintf(t + n, sizeof(t) - n, "%%C3%%A9");
	assert_int_equal(s3_req_parse(&r, "PUT", t, NULL, "", 0),
	    S3_ERR_KEY_TOO_LONG);
	s3_req_fini(&r);
	/* Virtual-hosted: the key is the whole path. */
	n = (size_t)snprintf(t, sizeof(t), "/");
	for (i = 0; i <= S3_KEY_MAX; i++)
		t[n++] = 'b';
	t[n] = '\0';
	assert_int_equal(s3_req_parse(&r, "PUT", t, "blog.s3.local",
	    "s3.local", 0), S3_ERR_KEY_TOO_LONG);
	s3_req_fini(&r);
}

static void
test_describe(void **state)
{
	struct s3_req	 r;
	char		 d[64];

	(void)state;
	assert_int_equal(s3_req_parse(&r, "PUT",
	    "/blog/k?uploadId=u&x-id=PutObject&X-Amz-Date=x", NULL, "", 0),
	    S3_OK);
	s3_req_describe(&r, d, sizeof(d));
	assert_string_equal(d, "PUT object?uploadId");
	s3_req_fini(&r);
	assert_int_equal(s3_req_parse(&r, "PUT", "/blog?a&b=1", NULL, "", 0),
	    S3_OK);
	s3_req_describe(&r, d, sizeof(d));
	assert_string_equal(d, "PUT bucket?a&b");
	s3_req_describe(&r, d, 6);
	assert_string_equal(d, "PUT b");
	s3_req_fini(&r);
	assert_int_equal(s3_req_parse(&r, "PUT", "/blog?policy", NULL, "", 0),
	    S3_OK);
	s3_req_describe(&r, d, sizeof(d));
	assert_string_equal(d, "PutBucketPolicy");
	s3_req_fini(&r);
}

static void
test_owned_bucket(void **state)
{
	char	 loc[16];

	(void)state;
	/* S3's answer to the owner: 200 in us-east-1, 409 elsewhere. */
	assert_int_equal(s3_req_owned_bucket_status("us-east-1", "blog", loc,
	    sizeof(loc)), 200);
	assert_string_equal(loc, "/blog");
	assert_int_equal(s3_req_owned_bucket_status("us-east-1",
	    "a-rather-long-name", loc, sizeof(loc)), 200);
	assert_string_equal(loc, "");
	assert_int_equal(s3_req_owned_bucket_status("eu-west-1", "blog", loc,
	    sizeof(loc)), 409);
	assert_int_equal(s3_err_status(S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU),
	    409);
	assert_string_equal(s3_err_code(S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU),
	    "BucketAlreadyOwnedByYou");
}

static void
test_err_table(void **state)
{
	struct buf	 b;

	assert_int_equal(s3_err_status(S3_ERR_SIGNATURE_DOES_NOT_MATCH), 403);
	assert_string_equal(s3_err_code(S3_ERR_NO_SUCH_BUCKET),
	    "NoSuchBucket");
	assert_int_equal(s3_err_status(S3_ERR_SERVICE_UNAVAILABLE), 503);
	assert_true(s3_err_is_retryable(S3_ERR_SERVICE_UNAVAILABLE));
	assert_false(s3_err_is_retryable(S3_ERR_ACCESS_DENIED));
	buf_init(&b);
	assert_int_equal(s3_err_xml(&b, S3_ERR_NO_SUCH_BUCKET, NULL,
	    "/a<b>&\"'", "REQ1", NULL, 0), 0);
	assert_non_null(strstr(b.data, "<Code>NoSuchBucket</Code>"));
	assert_non_null(strstr(b.data,
	    "<Resource>/a&lt;b&gt;&amp;&quot;&apos;</Resource>"));
	assert_non_null(strstr(b.data, "<RequestId>REQ1</RequestId>"));
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_bucket_names),
		cmocka_unit_test(test_every_operation),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_key_too_long),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_owned_bucket),
		cmocka_unit_test(test_err_table),
	};

	return cmocka_run_group_tests_name("s3_req", tests, NULL, NULL);
}
