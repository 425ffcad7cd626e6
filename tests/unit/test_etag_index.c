/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of etag_index: put/same/del and freshness, digests (kept by
 * a listing of the same ETag, dropped by another), ETag forms, the arena
 * under churn, save/open (digests round trip), the version 2 file,
 * damaged files, files planted in state_dir, max_bytes, 8 threads,
 * each(), and the listing learner on ListObjectsV2 and ListObjects (V1)
 * documents as S3 and moto send them, fed whole, a byte at a time and in
 * random pieces.  File tests run in a fresh mkdtemp folder.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "crc.h"
#include "etag_index.h"

#define MD5_A	"d41d8cd98f00b204e9800998ecf8427e"
#define MD5_B	"0cc175b9c0f1b6a831c399e269772661"
#define MD5_C	"9dd4e461268c8034f5c8564e155c67a6"
#define Q(s)	"\"" s "\""

struct tdir {
	char	 dir[96];
	char	 path[160];
	char	 tmp[160];
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static int
setup(void **state)
{
	struct tdir	*t;
	const char	*tmp = getenv("TMPDIR");

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(t->dir, sizeof(t->dir), "%s/s3ie.XXXXXX", tmp);
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, ETAG_INDEX_FILE);
	snprintf(t->tmp, sizeof(t->tmp), "%s/%s.tmp", t->dir,
	    ETAG_INDEX_FILE);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tdir	*t = *state;

	unlink(t->path);
	unlink(t->tmp);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* A key path like a site's, unique for i. */
static void
mkkey(char *out, size_t sz, unsigned i)
{
	static const char *const dirs[] = { "assets/js", "assets/css",
	    "assets/img/products", "docs/v2/reference", "blog/2026/05" };
	static const char *const ext[] = { "js", "css", "webp", "html" };

	snprintf(out, sz, "%s/%04u/file-%08x.%s", dirs[i % 5], i / 97,
	    i * 2654435761u, ext[i % 4]);
}

static void
mketag(char *out, size_t sz, unsigned i, unsigned salt)
{
	unsigned	 x = i * 2246822519u ^ salt * 3266489917u;

	if (i % 7 == 3)
		snprintf(out, sz, "\"%08x%08x%08x%08x-%u\"", x, ~x, x ^ 0x5555,
		    i, 2 + i % 50);
	else
		snprintf(out, sz, "\"%08x%08x%08x%08x\"", x, ~x, x ^ 0x5555,
		    i);
}

/* --- put, same, del ------------------------------------------------------ */

static void
test_put_same_del(void **state)
{
	struct etag_index *ix;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "b"), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), 0), 0);

	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_A), 100, 0), 0);
	assert_int_equal(etag_index_count(ix, "b"), 1);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), 0), 1);
	/* Quoted or not, any case: the same MD5. */
	assert_int_equal(etag_index_same(ix, "b", "k", MD5_A, 100), 1);
	assert_int_equal(etag_index_same(ix, "b", "k",
	    "\"D41D8CD98F00B204E9800998ECF8427E\"", 100), 1);
	/* Freshness: learned_at >= not_before. */
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), 101), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), -5), 1);
	/* Different ETag, key, bucket. */
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_B), 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "K", Q(MD5_A), 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "k/", Q(MD5_A), 0), 0);
	assert_int_equal(etag_index_same(ix, "c", "k", Q(MD5_A), 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", "", 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", NULL, 0), 0);

	/* Replace: new ETag, new time. */
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_B), 200, 0), 0);
	assert_int_equal(etag_index_count(ix, "b"), 1);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_B), 200), 1);
	/* The same ETag again refreshes the time. */
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_B), 300, 1), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_B), 300), 1);
	/* An older observation does not undo a newer one. */
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_C), 250, 1), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_B), 300), 1);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_C), 0), 0);
	/* Same second: a write beats a listing, not the other way. */
	assert_int_equal(etag_index_put(ix, "b", "w", Q(MD5_A), 400, 0), 0);
	assert_int_equal(etag_index_put(ix, "b", "w", Q(MD5_B), 400, 1), 0);
	assert_int_equal(etag_index_same(ix, "b", "w", Q(MD5_A), 400), 1);
	assert_int_equal(etag_index_put(ix, "b", "w", Q(MD5_C), 400, 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "w", Q(MD5_C), 400), 1);
	assert_int_equal(etag_index_put(ix, "b", "l", Q(MD5_A), 400, 1), 0);
	assert_int_equal(etag_index_put(ix, "b", "l", Q(MD5_B), 400, 1), 0);
	assert_int_equal(etag_index_same(ix, "b", "l", Q(MD5_B), 400), 1);

	/* Buckets are separate. */
	assert_int_equal(etag_index_put(ix, "c", "k", Q(MD5_C), 10, 0), 0);
	assert_int_equal(etag_index_count(ix, "c"), 1);
	assert_int_equal(etag_index_count(ix, "b"), 3);
	assert_int_equal(etag_index_same(ix, "c", "k", Q(MD5_C), 10), 1);

	etag_index_del(ix, "b", "k");
	etag_index_del(ix, "b", "nope");
	etag_index_del(ix, "nope", "k");
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_B), 0), 0);
	assert_int_equal(etag_index_count(ix, "b"), 2);
	assert_int_equal(etag_index_same(ix, "c", "k", Q(MD5_C), 10), 1);
	/* Deleted, then learned again. */
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_A), 1, 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_A), 1), 1);

	/* Empty key, long key, odd bytes. */
	assert_int_equal(etag_index_put(ix, "b", "", Q(MD5_A), 1, 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "", Q(MD5_A), 1), 1);
	assert_int_equal(etag_index_put(ix, "b", "caf\xc3\xa9 &+%2B.txt",
	    Q(MD5_C), 1, 0), 0);
	assert_int_equal(etag_index_same(ix, "b", "caf\xc3\xa9 &+%2B.txt",
	    Q(MD5_C), 1), 1);
	{
		char	 big[5000];

		memset(big, 'k', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(etag_index_put(ix, "b", big, Q(MD5_A), 1, 0),
		    -1);
		big[1024] = '\0';
		assert_int_equal(etag_index_put(ix, "b", big, Q(MD5_A), 1, 0),
		    0);
		assert_int_equal(etag_index_same(ix, "b", big, Q(MD5_A), 1),
		    1);
	}
	assert_true(etag_index_bytes(ix) > 0);
	assert_int_equal(etag_index_put(ix, NULL, "k", Q(MD5_A), 1, 0), -1);
	assert_int_equal(etag_index_put(ix, "b", NULL, Q(MD5_A), 1, 0), -1);
	etag_index_close(ix);
	etag_index_close(NULL);
}

/* The digest of the served headers, beside the ETag (issue 13). */
static void
test_meta(void **state)
{
	struct etag_index *ix;
	struct s3_meta	 a = { 1, 0, UINT64_C(0x0123456789abcdef) };
	struct s3_meta	 b = { 1, 1, UINT64_C(0xfedcba9876543210) };
	struct s3_meta	 unknown = { 0, 0, 0 }, m;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	/* Unknown key: 0, digest unknown. */
	m = a;
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 0, &m), 0);
	assert_false(m.known);

	/* A write: ETag and digest. */
	assert_int_equal(etag_index_put_meta(ix, "b", "k", Q(MD5_A), &a, 100,
	    0), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 100, &m),
	    1);
	assert_true(s3_meta_equal(&m, &a));
	assert_false(m.redirect);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 0, NULL),
	    1);
	/* Another ETag, or too old: 0 and no digest. */
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_B), 0, &m), 0);
	assert_false(m.known);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 101, &m),
	    0);
	assert_false(m.known);

	/* A listing with the same ETag keeps the digest (and refreshes). */
	assert_int_equal(etag_index_put(ix, "b", "k", MD5_A, 200, 1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 200, &m),
	    1);
	assert_true(s3_meta_equal(&m, &a));
	/* A listing with another ETag: changed behind our back, the
	 * digest is gone, and does not come back with the old ETag. */
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_B), 300, 1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_B), 300, &m),
	    1);
	assert_false(m.known);
	assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_A), 301, 1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 301, &m),
	    1);
	assert_false(m.known);

	/* A HEAD (from_read) teaches a digest, redirect flag kept. */
	assert_int_equal(etag_index_put_meta(ix, "b", "k", Q(MD5_A), &b, 400,
	    1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 400, &m),
	    1);
	assert_true(s3_meta_equal(&m, &b));
	assert_true(m.redirect);
	/* A write with the same ETag and unknown headers forgets it. */
	assert_int_equal(etag_index_put_meta(ix, "b", "k", Q(MD5_A), NULL,
	    500, 0), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 500, &m),
	    1);
	assert_false(m.known);
	assert_int_equal(etag_index_put_meta(ix, "b", "k", Q(MD5_A), &a, 501,
	    0), 0);
	assert_int_equal(etag_index_put_meta(ix, "b", "k", Q(MD5_A),
	    &unknown, 502, 0), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "k", Q(MD5_A), 0, &m), 1);
	assert_false(m.known);

	/* Same second: a read does not undo a write, a later one does. */
	assert_int_equal(etag_index_put_meta(ix, "b", "w", Q(MD5_A), &a, 600,
	    0), 0);
	assert_int_equal(etag_index_put_meta(ix, "b", "w", Q(MD5_A), &b, 600,
	    1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "w", Q(MD5_A), 0, &m), 1);
	assert_true(s3_meta_equal(&m, &a));
	assert_int_equal(etag_index_put_meta(ix, "b", "w", Q(MD5_A), &b, 599,
	    1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "w", Q(MD5_A), 0, &m), 1);
	assert_true(s3_meta_equal(&m, &a));
	assert_int_equal(etag_index_put_meta(ix, "b", "w", Q(MD5_A), &b, 601,
	    1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "w", Q(MD5_A), 0, &m), 1);
	assert_true(s3_meta_equal(&m, &b));

	/* Raw ETags (other stores) carry a digest too. */
	assert_int_equal(etag_index_put_meta(ix, "b", "g", Q("CJ3p7fXZ8Y="),
	    &a, 700, 0), 0);
	assert_int_equal(etag_index_put(ix, "b", "g", "CJ3p7fXZ8Y=", 701, 1),
	    0);
	assert_int_equal(etag_index_lookup(ix, "b", "g", "CJ3p7fXZ8Y=", 701,
	    &m), 1);
	assert_true(s3_meta_equal(&m, &a));
	assert_int_equal(etag_index_put(ix, "b", "g", "CJ3p7fXZ8Z=", 702, 1),
	    0);
	assert_int_equal(etag_index_lookup(ix, "b", "g", "CJ3p7fXZ8Z=", 702,
	    &m), 1);
	assert_false(m.known);
	/* A multipart ETag is another ETag than its single-part MD5. */
	assert_int_equal(etag_index_put_meta(ix, "b", "p", Q(MD5_A "-2"), &a,
	    800, 0), 0);
	assert_int_equal(etag_index_put(ix, "b", "p", Q(MD5_A), 801, 1), 0);
	assert_int_equal(etag_index_lookup(ix, "b", "p", Q(MD5_A), 0, &m), 1);
	assert_false(m.known);

	/* Deleted: gone with its digest. */
	etag_index_del(ix, "b", "w");
	assert_int_equal(etag_index_lookup(ix, "b", "w", Q(MD5_A), 0, &m), 0);
	assert_false(m.known);
	assert_int_equal(etag_index_put_meta(ix, "b", "k", "", &a, 1, 0), -1);
	assert_int_equal(etag_index_lookup(NULL, "b", "k", Q(MD5_A), 0, &m),
	    0);
	etag_index_close(ix);
}

/* CreateMultipartUpload's headers, kept for CompleteMultipartUpload. */
static void
test_uploads(void **state)
{
	struct etag_index *ix;
	struct s3_meta	 a = { 1, 0, 11 }, b = { 1, 1, 22 }, m;
	struct s3_meta	 unknown = { 0, 0, 0 };
	char		 id[32];
	size_t		 bytes;
	unsigned	 i;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	bytes = etag_index_bytes(ix);
	assert_int_equal(etag_index_upload_put(ix, "b", "big.bin", "U1", &a),
	    0);
	assert_true(etag_index_bytes(ix) > bytes);
	assert_int_equal(etag_index_upload_put(ix, "b", "big.bin", "U2", &b),
	    0);
	/* Bucket, key and id must all match. */
	assert_int_equal(etag_index_upload_take(ix, "c", "big.bin", "U1", &m),
	    0);
	assert_false(m.known);
	assert_int_equal(etag_index_upload_take(ix, "b", "big", "U1", &m), 0);
	assert_int_equal(etag_index_upload_take(ix, "b", "big.bin", "U3", &m),
	    0);
	assert_int_equal(etag_index_upload_take(ix, "b", "big.bin", "U2", &m),
	    1);
	assert_true(s3_meta_equal(&m, &b));
	assert_true(m.redirect);
	/* Taken once: a second Complete of it is unknown. */
	assert_int_equal(etag_index_upload_take(ix, "b", "big.bin", "U2", &m),
	    0);
	assert_false(m.known);
	/* The same id again replaces. */
	assert_int_equal(etag_index_upload_put(ix, "b", "big.bin", "U1", &b),
	    0);
	assert_int_equal(etag_index_upload_take(ix, "b", "big.bin", "U1", &m),
	    1);
	assert_true(s3_meta_equal(&m, &b));
	assert_int_equal(etag_index_upload_take(ix, "b", "big.bin", "U1", &m),
	    0);
	/* Only known digests, sane arguments. */
	assert_int_equal(etag_index_upload_put(ix, "b", "k", "U", &unknown),
	    -1);
	assert_int_equal(etag_index_upload_put(ix, "b", "k", "U", NULL), -1);
	assert_int_equal(etag_index_upload_put(ix, "b", "k", "", &a), -1);
	assert_int_equal(etag_index_upload_put(ix, NULL, "k", "U", &a), -1);
	/* Bounded: the oldest of more than 1024 at once is forgotten. */
	for (i = 0; i < 1025; i++) {
		snprintf(id, sizeof(id), "up-%u", i);
		assert_int_equal(etag_index_upload_put(ix, "b", "k", id, &a),
		    0);
	}
	assert_int_equal(etag_index_upload_take(ix, "b", "k", "up-0", &m), 0);
	assert_int_equal(etag_index_upload_take(ix, "b", "k", "up-1", &m), 1);
	assert_int_equal(etag_index_upload_take(ix, "b", "k", "up-1024", &m),
	    1);
	/* Uploads are not entries. */
	assert_int_equal(etag_index_count(ix, "b"), 0);
	assert_int_equal(etag_index_upload_take(NULL, "b", "k", "up-2", &m),
	    0);
	etag_index_close(ix);
}

static void
test_etag_forms(void **state)
{
	static const struct {
		const char	*put;	/* as stored */
		int		 put_rc;
		const char	*ask;	/* as asked */
		int		 same;
	} rows[] = {
		{ Q(MD5_A), 0, MD5_A, 1 },
		{ MD5_A, 0, Q(MD5_A), 1 },
		{ " " Q(MD5_A) " ", 0, MD5_A, 1 },
		{ Q(MD5_A), 0, Q(MD5_B), 0 },
		{ Q(MD5_A), 0, Q("d41d8cd98f00b205e9800998ecf8427e"), 0 },
		/* 64 bits of an MD5 are kept (etag_index_store.c says why). */
		{ Q(MD5_A), 0, Q("d41d8cd98f00b204ffffffffffffffff"), 1 },
		/* Multipart: the part count is part of it. */
		{ Q(MD5_A "-3"), 0, Q(MD5_A "-3"), 1 },
		{ Q(MD5_A "-3"), 0, MD5_A "-3", 1 },
		{ Q(MD5_A "-3"), 0, Q(MD5_A "-4"), 0 },
		{ Q(MD5_A "-3"), 0, Q(MD5_A), 0 },
		{ Q(MD5_A), 0, Q(MD5_A "-1"), 0 },
		{ Q(MD5_A "-10000"), 0, Q(MD5_A "-10000"), 1 },
		{ Q(MD5_A "-65535"), 0, Q(MD5_A "-65535"), 1 },
		/* Past uint16 or not a count: kept raw, still compared. */
		{ Q(MD5_A "-65536"), 0, Q(MD5_A "-65536"), 1 },
		{ Q(MD5_A "-65536"), 0, Q(MD5_A "-0"), 0 },
		{ Q(MD5_A "-65536"), 0, Q(MD5_A), 0 },
		{ Q(MD5_A "-03"), 0, Q(MD5_A "-3"), 0 },
		{ Q(MD5_A "-03"), 0, Q(MD5_A "-03"), 1 },
		/* Other stores' forms: raw, exact. */
		{ Q("CJ3p7fXZ8YcCEAE="), 0, "CJ3p7fXZ8YcCEAE=", 1 },
		{ Q("CJ3p7fXZ8YcCEAE="), 0, "cj3p7fxz8yccEAE=", 0 },
		{ "abc", 0, Q("abc"), 1 },
		{ Q("0123456789012345678901234567890123456789012345678901234"
		    "567890123"), 0, "012345678901234567890123456789012345678"
		    "9012345678901234567890123", 1 },
		{ Q(MD5_A "0"), 0, Q(MD5_A "0"), 1 },
		{ Q(MD5_A "0"), 0, Q(MD5_A), 0 },
		/* Refused. */
		{ "", -1, "", 0 },
		{ "\"\"", -1, "\"\"", 0 },
		{ "\"", -1, "\"", 0 },
		{ "a b", -1, "a b", 0 },
		{ "a\"b", -1, "a\"b", 0 },
		{ "a\x01", -1, "a\x01", 0 },
		{ "\xc3\xa9", -1, "\xc3\xa9", 0 },
		{ Q("01234567890123456789012345678901234567890123456789012345"
		    "678901234"), -1, "x", 0 },
	};
	struct etag_index *ix;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		if (etag_index_put(ix, "b", "k", rows[i].put, 5, 0) !=
		    rows[i].put_rc)
			fail_msg("row %zu: put %s", i, rows[i].put);
		if (etag_index_same(ix, "b", "k", rows[i].ask, 5) !=
		    rows[i].same)
			fail_msg("row %zu: same %s", i, rows[i].ask);
		/* Replacing a raw ETag with an MD5 and back frees it. */
		assert_int_equal(etag_index_put(ix, "b", "k", Q(MD5_C), 6, 0),
		    0);
		assert_int_equal(etag_index_same(ix, "b", "k", Q(MD5_C), 6),
		    1);
		etag_index_close(ix);
	}
}

/* Many keys, deletes and re-puts: the arena compacts and stays right. */
static void
test_churn(void **state)
{
	struct etag_index *ix;
	char		 k[128], e[80];
	unsigned	 i, n = 60000, round;
	size_t		 before, after;
	uint64_t	 s = 42;
	unsigned char	*alive;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	alive = calloc(n, 1);
	assert_non_null(alive);
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 0);
		assert_int_equal(etag_index_put(ix, "b", k, e, 1000, 1), 0);
		alive[i] = 1;
	}
	assert_int_equal(etag_index_count(ix, "b"), n);
	before = etag_index_bytes(ix);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < n; i++) {
			if (rnd(&s) % 3 == 0)
				continue;
			mkkey(k, sizeof(k), i);
			etag_index_del(ix, "b", k);
			alive[i] = 0;
		}
		for (i = 0; i < n; i++) {
			if (alive[i] || rnd(&s) % 4 != 0)
				continue;
			mkkey(k, sizeof(k), i);
			mketag(e, sizeof(e), i, round + 1);
			assert_int_equal(etag_index_put(ix, "b", k, e,
			    1001 + round, 0), 0);
			alive[i] = (unsigned char)(round + 2);
		}
	}
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, alive[i] ? alive[i] - 1 : 0);
		if (etag_index_same(ix, "b", k, e, 0) != (alive[i] != 0))
			fail_msg("key %u (%s) alive %d", i, k, alive[i]);
	}
	/* Delete almost everything: memory goes back. */
	for (i = 0; i < n; i++) {
		if (i % 1000 == 0)
			continue;
		mkkey(k, sizeof(k), i);
		etag_index_del(ix, "b", k);
	}
	after = etag_index_bytes(ix);
	assert_true(after < before / 8);
	for (i = 0; i < n; i += 1000) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, alive[i] ? alive[i] - 1 : 0);
		assert_int_equal(etag_index_same(ix, "b", k, e, 0),
		    alive[i] != 0);
	}
	for (i = 0; i < n; i += 1000)
		if (alive[i]) {
			mkkey(k, sizeof(k), i);
			etag_index_del(ix, "b", k);
		}
	assert_int_equal(etag_index_count(ix, "b"), 0);
	/* Every byte counted in came out again. */
	assert_true(etag_index_bytes(ix) < 1024);
	free(alive);
	etag_index_close(ix);
}

/*
 * Random puts and deletes on keys that share long prefixes, checked
 * against a plain array after every step and in full now and then.
 */
#define MODEL_KEYS	3000

static void
model_key(char *out, size_t sz, unsigned i)
{
	/* a/, a/b/, ... up to 12 levels; lengths 1 to ~200. */
	size_t	 n = 0;
	unsigned x = i * 2654435761u, lvl = 1 + i % 12, k;

	for (k = 0; k < lvl && n + 20 < sz; k++)
		n += (size_t)snprintf(out + n, sz - n, "%s/",
		    (x >> (k % 28)) & 1 ? "dir" : "folder-with-a-longer-name");
	snprintf(out + n, sz - n, "f%u%s", i, i % 5 ? ".html" : "");
}

struct model_each {
	unsigned char	*seen;
	const int	*etag;
	unsigned	 bad;
};

static int
model_cb(void *arg, const char *key)
{
	struct model_each *m = arg;
	const char	*f = strrchr(key, '/');
	char		 k[512];
	unsigned	 i;

	f = f != NULL ? f + 1 : key;
	if (sscanf(f, "f%u", &i) != 1 || i >= MODEL_KEYS) {
		m->bad++;
		return 0;
	}
	model_key(k, sizeof(k), i);
	if (strcmp(k, key) != 0 || m->etag[i] < 0 || m->seen[i])
		m->bad++;
	m->seen[i] = 1;
	return 0;
}

static void
test_model(void **state)
{
	struct etag_index *ix;
	struct model_each me;
	int		*etag;
	char		 k[512], e[80];
	unsigned	 step, i, live = 0;
	uint64_t	 s = 12345;

	(void)state;
	etag = malloc(MODEL_KEYS * sizeof(*etag));
	me.seen = malloc(MODEL_KEYS);
	assert_non_null(etag);
	assert_non_null(me.seen);
	for (i = 0; i < MODEL_KEYS; i++)
		etag[i] = -1;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	for (step = 0; step < 200000; step++) {
		/* Runs of neighbours, as listings and syncs come. */
		i = step % 64 < 48 ? (unsigned)(rnd(&s) % MODEL_KEYS) :
		    (step * 7) % MODEL_KEYS;
		model_key(k, sizeof(k), i);
		if (rnd(&s) % 3 == 0) {
			etag_index_del(ix, "m", k);
			live -= etag[i] >= 0;
			etag[i] = -1;
		} else {
			int v = (int)(rnd(&s) % 4);

			mketag(e, sizeof(e), i, (unsigned)v);
			assert_int_equal(etag_index_put(ix, "m", k, e, step,
			    0), 0);
			live += etag[i] < 0;
			etag[i] = v;
		}
		if (etag[i] >= 0) {
			mketag(e, sizeof(e), i, (unsigned)etag[i]);
			assert_int_equal(etag_index_same(ix, "m", k, e, step),
			    1);
		}
		if (step % 20000 != 19999)
			continue;
		assert_int_equal(etag_index_count(ix, "m"), live);
		for (i = 0; i < MODEL_KEYS; i++) {
			model_key(k, sizeof(k), i);
			mketag(e, sizeof(e), i, etag[i] < 0 ? 0 :
			    (unsigned)etag[i]);
			if (etag_index_same(ix, "m", k, e, 0) != (etag[i] >= 0))
				fail_msg("step %u key %u", step, i);
		}
		memset(me.seen, 0, MODEL_KEYS);
		me.etag = etag;
		me.bad = 0;
		assert_int_equal(etag_index_each(ix, "m", model_cb, &me), 0);
		assert_int_equal(me.bad, 0);
		for (i = 0; i < MODEL_KEYS; i++)
			assert_int_equal(me.seen[i], etag[i] >= 0);
	}
	etag_index_close(ix);
	free(etag);
	free(me.seen);
}

/* --- each ---------------------------------------------------------------- */

struct seen {
	struct etag_index *ix;
	unsigned	*hits;
	unsigned	 n, calls, stop_at;
	int		 put_rc, same_rc;
};

static int
seen_cb(void *arg, const char *key)
{
	struct seen	*s = arg;
	unsigned	 i;
	char		 k[128];

	if (sscanf(key, "k%u", &i) != 1 || i >= s->n)
		return -1;
	snprintf(k, sizeof(k), "k%u", i);
	if (strcmp(k, key) != 0)
		return -1;
	s->hits[i]++;
	s->calls++;
	/* Reading from inside is fine, writing is refused. */
	if (s->calls == 1) {
		s->same_rc = etag_index_same(s->ix, "b", key, Q(MD5_A), 0);
		s->put_rc = etag_index_put(s->ix, "b", "new", Q(MD5_A), 0, 0);
		etag_index_del(s->ix, "b", key);
		if (etag_index_count(s->ix, "b") != s->n)
			return -2;
	}
	return s->stop_at != 0 && s->calls == s->stop_at ? 7 : 0;
}

static void
test_each(void **state)
{
	struct etag_index *ix;
	struct seen	 s;
	char		 k[32];
	unsigned	 i;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	memset(&s, 0, sizeof(s));
	s.ix = ix;
	s.n = 5000;
	s.hits = calloc(s.n, sizeof(*s.hits));
	assert_non_null(s.hits);
	for (i = 0; i < s.n + 100; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		assert_int_equal(etag_index_put(ix, "b", k, Q(MD5_A), 1, 0),
		    0);
	}
	for (i = s.n; i < s.n + 100; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		etag_index_del(ix, "b", k);
	}
	assert_int_equal(etag_index_put(ix, "other", "x", Q(MD5_A), 1, 0), 0);
	assert_int_equal(etag_index_each(ix, "b", seen_cb, &s), 0);
	assert_int_equal(s.calls, s.n);
	for (i = 0; i < s.n; i++)
		assert_int_equal(s.hits[i], 1);
	assert_int_equal(s.same_rc, 1);
	assert_int_equal(s.put_rc, -1);
	/* After each(), writes work again; the del inside did nothing. */
	assert_int_equal(etag_index_count(ix, "b"), s.n);
	assert_int_equal(etag_index_put(ix, "b", "new", Q(MD5_A), 0, 0), 0);
	etag_index_del(ix, "b", "new");

	memset(s.hits, 0, s.n * sizeof(*s.hits));
	s.calls = 0;
	s.stop_at = 10;
	assert_int_equal(etag_index_each(ix, "b", seen_cb, &s), 7);
	assert_int_equal(s.calls, 10);
	assert_int_equal(etag_index_each(ix, "none", seen_cb, &s), 0);
	free(s.hits);
	etag_index_close(ix);
}

/* --- persistence --------------------------------------------------------- */

/* A digest for key i: known for i % 4 == 1 (with a redirect for
 * i % 8 == 1), unknown otherwise. */
static struct s3_meta
mkmeta(unsigned i)
{
	struct s3_meta	 m;

	memset(&m, 0, sizeof(m));
	if (i % 4 == 1) {
		m.known = 1;
		m.redirect = i % 8 == 1;
		m.digest = (uint64_t)(i + 1) * UINT64_C(0x9e3779b97f4a7c15);
	}
	return m;
}

static void
fill(struct etag_index *ix, unsigned n)
{
	char		 k[128], e[80];
	struct s3_meta	 m;
	unsigned	 i;

	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 9);
		m = mkmeta(i);
		if (i % 4 == 0)
			assert_int_equal(etag_index_put(ix, i % 3 ? "site" :
			    "logs", k, e, 1000 + i, i % 2), 0);
		else
			assert_int_equal(etag_index_put_meta(ix, i % 3 ?
			    "site" : "logs", k, e, &m, 1000 + i, i % 2), 0);
	}
	assert_int_equal(etag_index_put(ix, "site", "raw/gcs",
	    Q("CJ3p7fXZ8YcCEAE="), 77, 1), 0);
	assert_int_equal(etag_index_put(ix, "site", "big/time", Q(MD5_A),
	    (INT64_C(1) << 39) + 5, 0), 0);
}

static void
check_filled(struct etag_index *ix, unsigned n)
{
	char		 k[128], e[80];
	struct s3_meta	 m, want;
	unsigned	 i;

	assert_int_equal(etag_index_count(ix, "site") +
	    etag_index_count(ix, "logs"), n + 2);
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 9);
		want = mkmeta(i);
		if (!etag_index_lookup(ix, i % 3 ? "site" : "logs", k, e,
		    1000 + i, &m) || etag_index_same(ix, i % 3 ? "site" :
		    "logs", k, e, 1001 + i))
			fail_msg("key %u %s", i, k);
		if (m.known != want.known || (want.known &&
		    !s3_meta_equal(&m, &want)))
			fail_msg("key %u %s: digest known %d", i, k, m.known);
	}
	assert_int_equal(etag_index_same(ix, "site", "raw/gcs",
	    "CJ3p7fXZ8YcCEAE=", 77), 1);
	assert_int_equal(etag_index_same(ix, "site", "big/time", MD5_A,
	    (INT64_C(1) << 39) + 5), 1);
}

static void
test_save_open(void **state)
{
	struct tdir	*t = *state;
	struct etag_index *ix;
	struct stat	 st;

	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "site"), 0);
	fill(ix, 20000);
	etag_index_del(ix, "site", "assets/js/0000/file-00000000.js");
	assert_int_equal(etag_index_save(ix), 0);
	assert_int_equal(access(t->tmp, F_OK), -1);
	assert_int_equal(stat(t->path, &st), 0);
	etag_index_close(ix);

	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	check_filled(ix, 20000);
	/* Saved again over the old file. */
	etag_index_del(ix, "logs", "assets/js/0000/file-00000000.js");
	assert_int_equal(etag_index_put(ix, "site", "new", MD5_B, 1, 0), 0);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_same(ix, "site", "new", MD5_B, 1), 1);
	assert_int_equal(etag_index_count(ix, "logs"), 20000 / 3 + 1 - 1);
	etag_index_close(ix);

	/* An empty index saves and loads. */
	unlink(t->path);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "site"), 0);
	etag_index_close(ix);

	/* No folder: memory only; a missing folder: an error. */
	ix = etag_index_open(NULL, 0);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	ix = etag_index_open("/nonexistent/s3inval/etag", 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_put(ix, "b", "k", MD5_A, 1, 0), 0);
	assert_int_equal(etag_index_save(ix), -1);
	assert_int_equal(errno, ENOENT);
	etag_index_close(ix);
}

struct keyset {
	unsigned char	*want;	/* 1: expected, 2: seen */
	unsigned	 n, extra;
};

static int
keyset_cb(void *arg, const char *key)
{
	struct keyset	*ks = arg;
	const char	*slash = strrchr(key, '/');
	char		 k[128];
	unsigned	 i, d;

	/* mkkey() puts i / 97 in the last folder: try those 97. */
	if (slash == NULL || slash - key < 5 ||
	    sscanf(slash - 4, "%4u", &d) != 1) {
		ks->extra++;
		return 0;
	}
	for (i = d * 97; i < d * 97 + 97 && i < ks->n; i++) {
		mkkey(k, sizeof(k), i);
		if (strcmp(k, key) == 0) {
			if (ks->want[i] != 1)
				ks->extra++;
			ks->want[i] = 2;
			return 0;
		}
	}
	ks->extra++;
	return 0;
}

/*
 * After many deletes the entries are no longer in arena order, so saving
 * decodes keys out of order: every key must still come back intact.
 */
static void
test_save_shuffled(void **state)
{
	struct tdir	*t = *state;
	struct etag_index *ix;
	struct keyset	 ks;
	char		 k[128], e[80];
	unsigned	 i, n = 3000, live = 0;
	uint64_t	 s = 99;

	ks.n = n;
	ks.extra = 0;
	ks.want = calloc(n, 1);
	assert_non_null(ks.want);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 1);
		assert_int_equal(etag_index_put(ix, "b", k, e, 50, 0), 0);
	}
	for (i = 0; i < n; i++) {
		if (rnd(&s) % 3 == 0) {
			mkkey(k, sizeof(k), i);
			etag_index_del(ix, "b", k);
		} else {
			ks.want[i] = 1;
			live++;
		}
	}
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "b"), live);
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 1);
		if (etag_index_same(ix, "b", k, e, 50) != (ks.want[i] == 1))
			fail_msg("key %u %s", i, k);
	}
	assert_int_equal(etag_index_each(ix, "b", keyset_cb, &ks), 0);
	assert_int_equal(ks.extra, 0);
	for (i = 0; i < n; i++)
		assert_int_not_equal(ks.want[i], 1);
	etag_index_close(ix);
	free(ks.want);

	/* Keys each one byte longer than the last: every record shares
	 * all of the one before it, the longest chains to decode. */
	{
		char	 r[301];

		for (i = 0; i < 300; i++)
			r[i] = (char)('a' + rnd(&s) % 26);
		r[300] = '\0';
		ix = etag_index_open(t->dir, 0);
		assert_non_null(ix);
		for (i = 1; i <= 300; i++) {
			memcpy(k, r, i % 120 + 1);
			k[i % 120 + 1] = '\0';
			snprintf(k + strlen(k), 8, "%u", i / 120);
			assert_int_equal(etag_index_put(ix, "chain", k, MD5_A,
			    i, 0), 0);
		}
		for (i = 1; i <= 300; i += 7) {
			memcpy(k, r, i % 120 + 1);
			k[i % 120 + 1] = '\0';
			snprintf(k + strlen(k), 8, "%u", i / 120);
			etag_index_del(ix, "chain", k);
		}
		assert_int_equal(etag_index_save(ix), 0);
		etag_index_close(ix);
		ix = etag_index_open(t->dir, 0);
		assert_non_null(ix);
		assert_int_equal(etag_index_count(ix, "chain"), 300 - 43);
		for (i = 1; i <= 300; i++) {
			memcpy(k, r, i % 120 + 1);
			k[i % 120 + 1] = '\0';
			snprintf(k + strlen(k), 8, "%u", i / 120);
			if (etag_index_same(ix, "chain", k, MD5_A, i) !=
			    (i % 7 != 1))
				fail_msg("chain key %u", i);
		}
		etag_index_close(ix);
	}
}

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE		*f = fopen(path, "rb");
	unsigned char	*p;
	long		 sz;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	p = malloc((size_t)sz);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return p;
}

static void
spit(const char *path, const void *p, size_t n)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Opens with what is at path: 1 when the index came back whole. */
static int
opens_whole(struct tdir *t, unsigned n)
{
	struct etag_index *ix = etag_index_open(t->dir, 0);
	size_t		 c;

	assert_non_null(ix);
	c = etag_index_count(ix, "site") + etag_index_count(ix, "logs");
	if (c != 0)
		check_filled(ix, n);
	etag_index_close(ix);
	return c != 0;
}

static void
test_damaged(void **state)
{
	struct tdir	*t = *state;
	struct etag_index *ix;
	unsigned char	*good, *bad;
	size_t		 n, i;
	uint32_t	 crc;
	uint64_t	 s = 7;
	static const char *const foreign[] = {
		"", "S3IETAG", "S3IETAG\n", "hello, world\n",
		"{\"version\":1}", "S3IETAG\n\x03\0\0\0\0\0\0\0E\0\0\0\0\0",
	};

	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	fill(ix, 300);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	good = slurp(t->path, &n);
	assert_int_equal(opens_whole(t, 300), 1);
	bad = malloc(n + 1);
	assert_non_null(bad);

	/* Truncated anywhere. */
	for (i = 0; i < n; i += i < 64 ? 1 : 97) {
		spit(t->path, good, i);
		if (opens_whole(t, 300))
			fail_msg("truncated to %zu", i);
	}
	/* A byte flipped anywhere: 40 random places and both ends. */
	for (i = 0; i < 42; i++) {
		size_t	 at = i == 0 ? 0 : i == 1 ? n - 1 :
		    (size_t)(rnd(&s) % n);

		memcpy(bad, good, n);
		bad[at] ^= (unsigned char)(1u << (rnd(&s) % 8));
		spit(t->path, bad, n);
		if (opens_whole(t, 300))
			fail_msg("flipped byte %zu", at);
	}
	/* A byte more. */
	memcpy(bad, good, n);
	bad[n] = 0;
	spit(t->path, bad, n + 1);
	assert_int_equal(opens_whole(t, 300), 0);
	/* Another version with a right checksum. */
	memcpy(bad, good, n);
	bad[8] = 4;
	crc = crc32c(0, bad, n - 4);
	bad[n - 4] = (unsigned char)crc;
	bad[n - 3] = (unsigned char)(crc >> 8);
	bad[n - 2] = (unsigned char)(crc >> 16);
	bad[n - 1] = (unsigned char)(crc >> 24);
	spit(t->path, bad, n);
	assert_int_equal(opens_whole(t, 300), 0);
	/* The same with the current version (3) is accepted: the test
	 * itself is right. */
	bad[8] = 3;
	crc = crc32c(0, bad, n - 4);
	bad[n - 4] = (unsigned char)crc;
	bad[n - 3] = (unsigned char)(crc >> 8);
	bad[n - 2] = (unsigned char)(crc >> 16);
	bad[n - 1] = (unsigned char)(crc >> 24);
	spit(t->path, bad, n);
	assert_int_equal(opens_whole(t, 300), 1);
	/* Foreign files and random bytes. */
	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		spit(t->path, foreign[i], strlen(foreign[i]) +
		    (i == 5 ? 12 : 0));
		assert_int_equal(opens_whole(t, 300), 0);
	}
	for (i = 0; i < n; i++)
		bad[i] = (unsigned char)rnd(&s);
	memcpy(bad, "S3IETAG\n\x01\0\0\0\0\0\0\0", 16);
	spit(t->path, bad, n);
	assert_int_equal(opens_whole(t, 300), 0);
	/* A folder where the file should be. */
	unlink(t->path);
	assert_int_equal(mkdir(t->path, 0700), 0);
	assert_int_equal(opens_whole(t, 300), 0);
	rmdir(t->path);
	/* Still usable and saves over the wreck. */
	spit(t->path, "junk", 4);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	fill(ix, 300);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	assert_int_equal(opens_whole(t, 300), 1);
	free(bad);
	free(good);
}

/* Build a file byte by byte, with its checksum: see etag_index_file.c. */
struct fb {
	unsigned char	 b[512];
	size_t		 n;
};

static void
fb_put(struct fb *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
fb_byte(struct fb *f, unsigned v)
{
	unsigned char	 c = (unsigned char)v;

	fb_put(f, &c, 1);
}

static void
fb_u32(struct fb *f, uint32_t v)
{
	fb_byte(f, v & 0xff);
	fb_byte(f, v >> 8 & 0xff);
	fb_byte(f, v >> 16 & 0xff);
	fb_byte(f, v >> 24);
}

static void
fb_hex(struct fb *f, const char *hex)
{
	unsigned	 x, i;

	for (i = 0; i < 16; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
		fb_byte(f, x);
	}
}

/*
 * A file of the version before digests (2) as that release wrote it:
 * its ETags load, every digest is unknown, so the next write of each key
 * counts as changed (fail safe), and the next save writes version 3.
 */
static void
test_old_format(void **state)
{
	struct tdir	*t = *state;
	struct etag_index *ix;
	struct s3_meta	 m;
	struct fb	 f;
	unsigned char	*again;
	size_t		 n;

	memset(&f, 0, sizeof(f));
	fb_put(&f, "S3IETAG\n", 8);
	fb_u32(&f, 2);
	fb_u32(&f, 0);
	fb_put(&f, "B\x04site", 6);
	fb_byte(&f, 2);			/* entries */
	fb_byte(&f, 100);		/* listed_at */
	fb_byte(&f, 0);			/* shared */
	fb_byte(&f, 10);
	fb_put(&f, "index.html", 10);
	fb_byte(&f, 0x02);		/* from a listing */
	fb_hex(&f, MD5_A);
	fb_byte(&f, 0);			/* parts */
	fb_byte(&f, 100);		/* learned */
	fb_byte(&f, 0);
	fb_byte(&f, 5);
	fb_put(&f, "a.css", 5);
	fb_byte(&f, 0x00);		/* from a write */
	fb_hex(&f, MD5_B);
	fb_byte(&f, 3);
	fb_byte(&f, 101);
	fb_put(&f, "E\x02", 2);
	fb_u32(&f, crc32c(0, f.b, f.n));
	spit(t->path, f.b, f.n);

	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "site"), 2);
	assert_int_equal(etag_index_listed_at(ix, "site"), 100);
	m.known = 1;
	assert_int_equal(etag_index_lookup(ix, "site", "index.html", MD5_A,
	    100, &m), 1);
	assert_false(m.known);
	m.known = 1;
	assert_int_equal(etag_index_lookup(ix, "site", "a.css", MD5_B "-3",
	    101, &m), 1);
	assert_false(m.known);
	/* Saved again: version 3. */
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	again = slurp(t->path, &n);
	assert_int_equal(again[8], 3);
	free(again);
	/* A version 2 entry claiming a digest is damage: ignored whole. */
	f.b[8 + 4 + 4 + 6 + 2 + 2 + 10] = 0x06;	/* E_LISTING | E_META */
	f.n -= 4;
	fb_u32(&f, crc32c(0, f.b, f.n));
	spit(t->path, f.b, f.n);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "site"), 0);
	etag_index_close(ix);
}

static int
names_in(const char *dir, const char *prefix)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Files planted in state_dir (issue 13): a symlink where the index or a
 * temporary file would go is never followed, neither to read nor to
 * write; a FIFO does not block the start; temporary files a crash left
 * behind are removed by the next save.
 */
static void
test_planted(void **state)
{
	struct tdir	*t = *state;
	struct etag_index *ix;
	char		 victim[200], link2[200], stale[200];
	unsigned char	*v;
	size_t		 n;
	struct stat	 st;

	snprintf(victim, sizeof(victim), "%s/victim", t->dir);
	snprintf(link2, sizeof(link2), "%s/%s.tmp", t->dir, ETAG_INDEX_FILE);
	snprintf(stale, sizeof(stale), "%s/%s.a1B2c3", t->dir,
	    ETAG_INDEX_FILE);
	/* A good index file elsewhere, the index name a symlink to it. */
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	fill(ix, 50);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	assert_int_equal(rename(t->path, victim), 0);
	assert_int_equal(symlink(victim, t->path), 0);
	assert_int_equal(symlink(victim, link2), 0);
	spit(stale, "half a save", 11);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "site") +
	    etag_index_count(ix, "logs"), 0);	/* not read through it */
	assert_int_equal(etag_index_put(ix, "b", "k", MD5_A, 1, 0), 0);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	/* The victim is untouched; the index is a file of its own now. */
	v = slurp(victim, &n);
	assert_true(n > 100);
	free(v);
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lstat(link2, &st), -1);
	assert_int_equal(lstat(stale, &st), -1);
	assert_int_equal(names_in(t->dir, ETAG_INDEX_FILE), 1);
	assert_true(opens_whole(t, 50) == 0);
	unlink(victim);

	/* A FIFO where the index goes: an empty index at once. */
	unlink(t->path);
	assert_int_equal(mkfifo(t->path, 0600), 0);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_count(ix, "b"), 0);
	assert_int_equal(etag_index_put(ix, "b", "k", MD5_A, 1, 0), 0);
	assert_int_equal(etag_index_save(ix), 0);
	etag_index_close(ix);
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* Saves leave nothing else behind, and a failed one neither. */
	assert_int_equal(names_in(t->dir, ETAG_INDEX_FILE), 1);
	ix = etag_index_open(t->dir, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_same(ix, "b", "k", MD5_A, 1), 1);
	assert_int_equal(chmod(t->dir, 0500), 0);
	if (geteuid() != 0)
		assert_int_equal(etag_index_save(ix), -1);
	assert_int_equal(chmod(t->dir, 0700), 0);
	etag_index_close(ix);
	assert_int_equal(names_in(t->dir, ETAG_INDEX_FILE), 1);
}

/* --- max_bytes ----------------------------------------------------------- */

static void
test_max_bytes(void **state)
{
	struct etag_index *ix;
	const size_t	 max = 512 * 1024;
	char		 k[128], e[80];
	unsigned	 i, n = 40000, lo;
	size_t		 c;

	(void)state;
	ix = etag_index_open(NULL, max);
	assert_non_null(ix);
	for (i = 0; i < n; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 0);
		assert_int_equal(etag_index_put(ix, i % 2 ? "a" : "b", k, e,
		    1000 + i / 10, 0), 0);
		if (etag_index_bytes(ix) > max)
			fail_msg("%zu bytes after put %u", etag_index_bytes(ix),
			    i);
	}
	c = etag_index_count(ix, "a") + etag_index_count(ix, "b");
	assert_true(c > 1000);
	assert_true(c < n);
	/* The newest stayed, the oldest went: find where it cuts. */
	for (lo = n; lo > 0; lo--) {
		mkkey(k, sizeof(k), lo - 1);
		mketag(e, sizeof(e), lo - 1, 0);
		if (!etag_index_same(ix, (lo - 1) % 2 ? "a" : "b", k, e, 0))
			break;
	}
	/* Everything past the cut is there, nothing much before it. */
	assert_true(n - lo >= c - 20);
	for (i = 0; i + 20 < lo; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 0);
		if (etag_index_same(ix, i % 2 ? "a" : "b", k, e, 0))
			fail_msg("old key %u kept (cut %u)", i, lo);
	}
	etag_index_close(ix);

	/* Keys learned all in one second still evict, and stay bounded. */
	ix = etag_index_open(NULL, 64 * 1024);
	assert_non_null(ix);
	for (i = 0; i < 20000; i++) {
		mkkey(k, sizeof(k), i);
		assert_int_equal(etag_index_put(ix, "b", k, MD5_A, 5, 1), 0);
		assert_true(etag_index_bytes(ix) <= 64 * 1024);
	}
	assert_true(etag_index_count(ix, "b") > 100);
	etag_index_close(ix);
}

/* --- threads ------------------------------------------------------------- */

#define NTHREADS	8
#define PER_THREAD	20000

struct worker {
	struct etag_index *ix;
	unsigned	 id;
	int		 bad;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	struct s3_meta	 m;
	char		 k[128], e[80];
	unsigned	 i, key;

	for (i = 0; i < PER_THREAD; i++) {
		key = w->id * PER_THREAD + i;
		mkkey(k, sizeof(k), key);
		mketag(e, sizeof(e), key, 0);
		if (etag_index_put(w->ix, "b", k, e, 10, 1) == -1)
			w->bad++;
		/* Shared keys, written by everyone, with digests. */
		if (etag_index_put(w->ix, "b", i % 2 ? "shared/a" :
		    "shared/b", MD5_A, 10, 0) == -1)
			w->bad++;
		m.known = 1;
		m.redirect = 0;
		m.digest = w->id;
		if (etag_index_put_meta(w->ix, "b", "shared/m", MD5_A, &m, 10,
		    i % 2) == -1)
			w->bad++;
		if (!etag_index_lookup(w->ix, "b", "shared/m", MD5_A, 10,
		    &m) || !m.known || m.digest >= NTHREADS)
			w->bad++;
		if (!etag_index_same(w->ix, "b", k, e, 10))
			w->bad++;
		if (i % 5 == 0) {
			etag_index_del(w->ix, "b", k);
			if (etag_index_same(w->ix, "b", k, e, 0))
				w->bad++;
		}
		if (i % 1000 == 0)
			(void)etag_index_count(w->ix, "b");
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct etag_index *ix;
	struct worker	 w[NTHREADS];
	pthread_t	 th[NTHREADS];
	char		 k[128], e[80];
	unsigned	 i, key;

	(void)state;
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	for (i = 0; i < NTHREADS; i++) {
		w[i].ix = ix;
		w[i].id = i;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(etag_index_count(ix, "b"),
	    NTHREADS * PER_THREAD / 5 * 4 + 3);
	for (key = 0; key < NTHREADS * PER_THREAD; key++) {
		mkkey(k, sizeof(k), key);
		mketag(e, sizeof(e), key, 0);
		assert_int_equal(etag_index_same(ix, "b", k, e, 10),
		    (key % PER_THREAD) % 5 != 0);
	}
	etag_index_close(ix);
}

/* --- the learner --------------------------------------------------------- */

struct pair {
	const char	*key;
	const char	*etag;
};

enum feed { FEED_WHOLE, FEED_BYTES, FEED_RANDOM, FEED_RANDOM2 };

static size_t
learn_doc(struct etag_index *ix, const char *doc, size_t n, enum feed how,
    uint64_t seed)
{
	struct etag_learner *l;
	size_t		 i, k, count;

	l = etag_learner_new(ix, "site", 1000);
	assert_non_null(l);
	switch (how) {
	case FEED_WHOLE:
		etag_learner_feed(l, doc, n);
		break;
	case FEED_BYTES:
		for (i = 0; i < n; i++)
			etag_learner_feed(l, doc + i, 1);
		break;
	case FEED_RANDOM:
	case FEED_RANDOM2:
		for (i = 0; i < n; i += k) {
			k = 1 + (size_t)(rnd(&seed) % (how == FEED_RANDOM ?
			    7 : 300));
			if (k > n - i)
				k = n - i;
			etag_learner_feed(l, doc + i, k);
			if (rnd(&seed) % 5 == 0)
				etag_learner_feed(l, doc + i + k, 0);
		}
		break;
	}
	count = etag_learner_count(l);
	etag_learner_free(l);
	return count;
}

/* Feed doc every way; each time exactly want is learned. */
static void
check_learns(const char *doc, const struct pair *want, size_t nwant,
    const struct pair *not)
{
	struct etag_index *ix;
	size_t		 i, got;
	enum feed	 how;
	uint64_t	 seed;

	for (how = FEED_WHOLE; how <= FEED_RANDOM2; how++) {
		for (seed = 1; seed < (how >= FEED_RANDOM ? 6 : 2); seed++) {
			ix = etag_index_open(NULL, 0);
			assert_non_null(ix);
			got = learn_doc(ix, doc, strlen(doc), how, seed * 77);
			if (got != nwant)
				fail_msg("feed %d seed %d: learned %zu, want "
				    "%zu", (int)how, (int)seed, got, nwant);
			assert_int_equal(etag_index_count(ix, "site"), nwant);
			for (i = 0; i < nwant; i++)
				if (!etag_index_same(ix, "site", want[i].key,
				    want[i].etag, 1000))
					fail_msg("feed %d: key \"%s\" %s not "
					    "learned", (int)how, want[i].key,
					    want[i].etag);
			for (i = 0; not != NULL && not[i].key != NULL; i++)
				if (etag_index_same(ix, "site", not[i].key,
				    not[i].etag, 0))
					fail_msg("key \"%s\" learned",
					    not[i].key);
			etag_index_close(ix);
		}
	}
}

/* ListObjectsV2 as S3 sends it: EncodingType near the top, &quot;, one
 * line, CommonPrefixes with a delimiter, checksums. */
static const char s3_v2_url[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>site-bucket</Name><Prefix></Prefix><KeyCount>7</KeyCount>"
    "<MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter>"
    "<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
    "<Contents><Key>index.html</Key>"
    "<LastModified>2026-01-05T10:00:00.000Z</LastModified>"
    "<ETag>&quot;" MD5_A "&quot;</ETag>"
    "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>"
    "<ChecksumType>FULL_OBJECT</ChecksumType><Size>0</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>a+b.txt</Key>"
    "<LastModified>2026-01-05T10:00:01.000Z</LastModified>"
    "<ETag>&quot;" MD5_B "&quot;</ETag><Size>1</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>c%2Bd%2B%2B.txt</Key>"
    "<LastModified>2026-01-05T10:00:02.000Z</LastModified>"
    "<ETag>&quot;" MD5_C "-12&quot;</ETag><Size>104857600</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>caf%C3%A9%20menu.html</Key>"
    "<LastModified>2026-01-05T10:00:03.000Z</LastModified>"
    "<ETag>&quot;" MD5_A "&quot;</ETag><Size>0</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>100%25.txt</Key>"
    "<LastModified>2026-01-05T10:00:04.000Z</LastModified>"
    "<ETag>&quot;" MD5_B "&quot;</ETag><Size>1</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>bad%zz.txt</Key>"
    "<ETag>&quot;" MD5_B "&quot;</ETag></Contents>"
    "<Contents><Key>nul%00.txt</Key>"
    "<ETag>&quot;" MD5_B "&quot;</ETag></Contents>"
    "<CommonPrefixes><Prefix>assets%2F</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>docs%2F</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

static void
test_learn_s3_v2(void **state)
{
	static const struct pair want[] = {
		{ "index.html", MD5_A },
		{ "a b.txt", Q(MD5_B) },
		{ "c+d++.txt", Q(MD5_C "-12") },
		{ "caf\xc3\xa9 menu.html", MD5_A },
		{ "100%.txt", MD5_B },
	};
	static const struct pair not[] = {
		{ "a+b.txt", MD5_B },
		{ "c%2Bd%2B%2B.txt", MD5_C "-12" },
		{ "assets/", MD5_A },
		{ "assets%2F", MD5_A },
		{ "bad%zz.txt", MD5_B },
		{ "nul", MD5_B },
		{ NULL, NULL },
	};

	(void)state;
	check_learns(s3_v2_url, want, 5, not);
}

/* ListObjectsV2 without encoding-type: keys are literal. Pretty-printed
 * (as in the API reference), Owner (fetch-owner=true), ETag before Key,
 * and a truncated listing with a continuation token. */
static const char s3_v2_plain[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <Name>site-bucket</Name>\n"
    "  <Prefix>assets/</Prefix>\n"
    "  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken>\n"
    "  <KeyCount>3</KeyCount>\n"
    "  <MaxKeys>3</MaxKeys>\n"
    "  <IsTruncated>true</IsTruncated>\n"
    "  <Contents>\n"
    "    <Key>assets/a+b%20c.js</Key>\n"
    "    <LastModified>2026-01-05T10:00:00.000Z</LastModified>\n"
    "    <ETag>\"" MD5_A "\"</ETag>\n"
    "    <Size>10</Size>\n"
    "    <Owner>\n"
    "      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba"
    "06a</ID>\n"
    "      <DisplayName>webfile</DisplayName>\n"
    "    </Owner>\n"
    "    <StorageClass>STANDARD</StorageClass>\n"
    "  </Contents>\n"
    "  <Contents>\n"
    "    <ETag>&quot;" MD5_B "-2&quot;</ETag>\n"
    "    <Key>assets/app.css</Key>\n"
    "    <Size>20</Size>\n"
    "  </Contents>\n"
    "  <Contents>\n"
    "    <Key><![CDATA[assets/x&y.png]]></Key>\n"
    "    <ETag>&quot;" MD5_C "&quot;</ETag>\n"
    "  </Contents>\n"
    "  <Contents><Key>assets/no-etag.txt</Key></Contents>\n"
    "  <Contents><ETag>\"" MD5_C "\"</ETag></Contents>\n"
    "  <Contents><Key>assets/two-keys</Key><Key>x</Key>"
    "<ETag>\"" MD5_C "\"</ETag></Contents>\n"
    "  <Contents><Key>assets/bad-etag</Key><ETag>&quot;a b&quot;</ETag>"
    "</Contents>\n"
    "  <Contents><Key>assets/<b>child</b></Key><ETag>\"" MD5_C "\"</ETag>"
    "</Contents>\n"
    "</ListBucketResult>\n";

static void
test_learn_s3_v2_plain(void **state)
{
	static const struct pair want[] = {
		{ "assets/a+b%20c.js", MD5_A },
		{ "assets/app.css", MD5_B "-2" },
		{ "assets/x&y.png", MD5_C },
	};
	static const struct pair not[] = {
		{ "assets/a b c.js", MD5_A },
		{ "assets/two-keys", MD5_C },
		{ "x", MD5_C },
		{ "assets/child", MD5_C },
		{ "assets/", MD5_C },
		{ NULL, NULL },
	};

	(void)state;
	check_learns(s3_v2_plain, want, 3, not);
}

/* ListObjects (V1) as moto 5 sends it with encoding-type=url: quotes
 * unescaped, Owner in every Contents, EncodingType after the Contents
 * (moto serialises in the API's shape order), keys quote()d ('+' as %2B,
 * space as %20). */
static const char moto_v1_url[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<IsTruncated>false</IsTruncated>"
    "<Contents><Key>a%20b%2Bc/%C3%A9.txt</Key>"
    "<LastModified>2026-11-27T08:01:41.000Z</LastModified>"
    "<ETag>\"" MD5_C "\"</ETag><Size>1</Size>"
    "<StorageClass>STANDARD</StorageClass><Owner>"
    "<DisplayName>webfile</DisplayName><ID>75aa57f09aa0c8caeab4f8c24e99d10"
    "f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner></Contents>"
    "<Contents><Key>dir/x.html</Key>"
    "<LastModified>2026-11-27T08:01:41.000Z</LastModified>"
    "<ETag>\"" MD5_A "\"</ETag><Size>0</Size>"
    "<StorageClass>STANDARD</StorageClass><Owner>"
    "<DisplayName>webfile</DisplayName><ID>75aa</ID></Owner></Contents>"
    "<Contents><Key>dir/y+z.html</Key>"
    "<ETag>\"" MD5_B "\"</ETag><Size>0</Size></Contents>"
    "<Name>bkt</Name><MaxKeys>1000</MaxKeys>"
    "<EncodingType>url</EncodingType></ListBucketResult>";

static void
test_learn_moto_v1(void **state)
{
	static const struct pair want[] = {
		{ "a b+c/\xc3\xa9.txt", MD5_C },
		{ "dir/x.html", MD5_A },
		{ "dir/y z.html", MD5_B },
	};
	static const struct pair not[] = {
		{ "a%20b%2Bc/%C3%A9.txt", MD5_C },
		{ "dir/y+z.html", MD5_B },
		{ NULL, NULL },
	};

	(void)state;
	check_learns(moto_v1_url, want, 3, not);
}

/* V1 with a namespace prefix, Marker and a Prefix. */
static const char ns_v1[] =
    "<?xml version=\"1.0\"?>"
    "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\""
    "><s3:Name>b</s3:Name><s3:Prefix>p/</s3:Prefix><s3:Marker/>"
    "<s3:MaxKeys>2</s3:MaxKeys><s3:IsTruncated>true</s3:IsTruncated>"
    "<s3:Contents><s3:Key>p/1</s3:Key><s3:ETag>&quot;" MD5_A "&quot;"
    "</s3:ETag></s3:Contents>"
    "<s3:Contents><s3:Key>p/2+x</s3:Key><s3:ETag>&quot;" MD5_B "&quot;"
    "</s3:ETag></s3:Contents>"
    "<s3:NextMarker>p/2</s3:NextMarker></s3:ListBucketResult>";

static void
test_learn_ns(void **state)
{
	static const struct pair want[] = {
		{ "p/1", MD5_A },
		{ "p/2+x", MD5_B },
	};

	(void)state;
	check_learns(ns_v1, want, 2, NULL);
}

static void
test_learn_partial(void **state)
{
	struct etag_index *ix;
	size_t		 cut;

	(void)state;
	/* A listing with a Prefix adds; it never forgets other keys. */
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	assert_int_equal(etag_index_put(ix, "site", "other/k", MD5_A, 5, 0),
	    0);
	assert_int_equal(etag_index_put(ix, "site", "assets/gone.js", MD5_A,
	    5, 0), 0);
	assert_int_equal(learn_doc(ix, s3_v2_plain, strlen(s3_v2_plain),
	    FEED_WHOLE, 0), 3);
	assert_int_equal(etag_index_same(ix, "site", "other/k", MD5_A, 5), 1);
	assert_int_equal(etag_index_same(ix, "site", "assets/gone.js", MD5_A,
	    5), 1);
	assert_int_equal(etag_index_count(ix, "site"), 5);
	etag_index_close(ix);

	/*
	 * Cut anywhere, a document teaches only real pairs: keys that
	 * wait for EncodingType (moto sends it last) are learned only with
	 * it, and a complete Contents is learned at its end.
	 */
	for (cut = 0; cut < strlen(moto_v1_url); cut++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		learn_doc(ix, moto_v1_url, cut, FEED_WHOLE, 0);
		assert_int_equal(etag_index_same(ix, "site",
		    "a%20b%2Bc/%C3%A9.txt", MD5_C, 0), 0);
		assert_int_equal(etag_index_same(ix, "site", "dir/y+z.html",
		    MD5_B, 0), 0);
		assert_int_equal(etag_index_same(ix, "site",
		    "a b+c/\xc3\xa9.txt", MD5_C, 0),
		    cut >= strlen(moto_v1_url) - 19);
		assert_true(etag_index_count(ix, "site") <= 3);
		etag_index_close(ix);
	}
	for (cut = 0; cut < strlen(s3_v2_url); cut++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		learn_doc(ix, s3_v2_url, cut, FEED_BYTES, 0);
		assert_int_equal(etag_index_same(ix, "site", "a+b.txt",
		    MD5_B, 0), 0);
		etag_index_close(ix);
	}
}

static void
test_learn_cap(void **state)
{
	struct buf_like {
		char	*p;
		size_t	 n;
	} d;
	struct etag_index *ix;
	size_t		 i, len;
	char		 key[1500];
	enum feed	 how;

	(void)state;
	/* A 5000-byte key: over the 4 KiB cap, skipped; the next learned.
	 * A 1024-byte key (S3's limit): learned. */
	d.p = malloc(16384);
	assert_non_null(d.p);
	len = (size_t)sprintf(d.p, "<ListBucketResult><Contents><Key>");
	for (i = 0; i < 5000; i++)
		d.p[len++] = 'x';
	len += (size_t)sprintf(d.p + len, "</Key><ETag>\"%s\"</ETag>"
	    "</Contents><Contents><Key>", MD5_A);
	for (i = 0; i < 1024; i++)
		d.p[len++] = (char)('a' + i % 26);
	len += (size_t)sprintf(d.p + len, "</Key><ETag>\"%s\"</ETag>"
	    "</Contents><Contents><Key>k</Key><ETag>%s</ETag></Contents>"
	    "</ListBucketResult>", MD5_B, MD5_C);
	d.n = len;
	for (i = 0; i < 1024; i++)
		key[i] = (char)('a' + i % 26);
	key[1024] = '\0';
	for (how = FEED_WHOLE; how <= FEED_RANDOM2; how++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		assert_int_equal(learn_doc(ix, d.p, d.n, how, 3), 2);
		assert_int_equal(etag_index_same(ix, "site", key, MD5_B, 0),
		    1);
		assert_int_equal(etag_index_same(ix, "site", "k", MD5_C, 0),
		    1);
		assert_int_equal(etag_index_count(ix, "site"), 2);
		etag_index_close(ix);
	}
	/* URL-encoded, 4200 bytes of text for a 1400-byte key: the cap is
	 * on the text. */
	len = (size_t)sprintf(d.p, "<ListBucketResult><EncodingType>url"
	    "</EncodingType><Contents><Key>");
	for (i = 0; i < 1400; i++)
		len += (size_t)sprintf(d.p + len, "%%41");
	len += (size_t)sprintf(d.p + len, "</Key><ETag>\"%s\"</ETag>"
	    "</Contents><Contents><Key>%%41</Key><ETag>\"%s\"</ETag>"
	    "</Contents></ListBucketResult>", MD5_A, MD5_B);
	memset(key, 'A', 1400);
	key[1400] = '\0';
	for (how = FEED_WHOLE; how <= FEED_RANDOM2; how++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		assert_int_equal(learn_doc(ix, d.p, len, how, 4), 1);
		assert_int_equal(etag_index_same(ix, "site", key, MD5_A, 0),
		    0);
		assert_int_equal(etag_index_same(ix, "site", "A", MD5_B, 0),
		    1);
		etag_index_close(ix);
	}
	free(d.p);
}

static void
test_learn_garbage(void **state)
{
	static const char *const docs[] = {
		"",
		"not xml at all",
		"\x00\x01\x02\xff\xfe",
		"<Error><Code>AccessDenied</Code><Message>Access Denied"
		"</Message></Error>",
		"<ListVersionsResult><Version><Key>k</Key><ETag>\"" MD5_A
		"\"</ETag></Version></ListVersionsResult>",
		"<ListAllMyBucketsResult><Contents><Key>k</Key><ETag>\"" MD5_A
		"\"</ETag></Contents></ListAllMyBucketsResult>",
		/* No DTDs, no entities. */
		"<!DOCTYPE ListBucketResult [<!ENTITY e \"k\">]>"
		"<ListBucketResult><Contents><Key>&e;</Key><ETag>\"" MD5_A
		"\"</ETag></Contents></ListBucketResult>",
		"<!DOCTYPE x SYSTEM \"http://127.0.0.1:1/x.dtd\">"
		"<ListBucketResult><Contents><Key>k</Key><ETag>\"" MD5_A
		"\"</ETag></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>&e;</Key><ETag>\"" MD5_A
		"\"</ETag></Contents></ListBucketResult>",
		/* An encoding we do not know. */
		"<ListBucketResult><EncodingType>base64</EncodingType>"
		"<Contents><Key>k</Key><ETag>\"" MD5_A "\"</ETag></Contents>"
		"</ListBucketResult>",
		/* Contents deeper than the root's children. */
		"<ListBucketResult><X><Contents><Key>k</Key><ETag>\"" MD5_A
		"\"</ETag></Contents></X></ListBucketResult>",
		/* Two roots: the second is not read. */
		"<ListBucketResult></ListBucketResult><ListBucketResult>"
		"<Contents><Key>k</Key><ETag>\"" MD5_A "\"</ETag></Contents>"
		"</ListBucketResult>",
	};
	struct etag_index *ix;
	size_t		 i;
	enum feed	 how;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		for (how = FEED_WHOLE; how <= FEED_RANDOM; how++) {
			ix = etag_index_open(NULL, 0);
			assert_non_null(ix);
			if (learn_doc(ix, docs[i], i == 2 ? 5 :
			    strlen(docs[i]), how, 5) != 0)
				fail_msg("doc %zu learned", i);
			assert_int_equal(etag_index_count(ix, "site"), 0);
			etag_index_close(ix);
		}

	/* Malformed after a good start: what came before stays. */
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	{
		const char	*doc =
		    "<ListBucketResult><Contents><Key>a</Key>"
		    "<ETag>\"" MD5_A "\"</ETag></Contents><Contents><Key>b"
		    "</Kex><ETag>\"" MD5_A "\"</ETag></Contents>"
		    "<Contents><Key>c</Key><ETag>\"" MD5_A "\"</ETag>"
		    "</Contents></ListBucketResult>";

		assert_int_equal(learn_doc(ix, doc, strlen(doc), FEED_BYTES,
		    0), 1);
		assert_int_equal(etag_index_same(ix, "site", "a", MD5_A, 0),
		    1);
		assert_int_equal(etag_index_count(ix, "site"), 1);
	}
	etag_index_close(ix);

	/* Megabytes with no event: given up, memory stays bounded. */
	ix = etag_index_open(NULL, 0);
	assert_non_null(ix);
	{
		struct etag_learner *l = etag_learner_new(ix, "site", 1);
		char		*junk = malloc(65536);
		const char	*tail =
		    "--><Contents><Key>k</Key><ETag>x</ETag>"
		    "</Contents></ListBucketResult>";

		assert_non_null(l);
		assert_non_null(junk);
		memset(junk, 'x', 65536);
		etag_learner_feed(l, "<ListBucketResult><!--", 22);
		for (i = 0; i < 64; i++)
			etag_learner_feed(l, junk, 65536);
		etag_learner_feed(l, tail, strlen(tail));
		assert_int_equal(etag_learner_count(l), 0);
		etag_learner_free(l);
		free(junk);
	}
	etag_index_close(ix);
	etag_learner_free(NULL);
	assert_null(etag_learner_new(NULL, "b", 0));
	etag_learner_feed(NULL, "x", 1);
	assert_int_equal(etag_learner_count(NULL), 0);
}

/* A big listing page in pieces: 1000 Contents, as S3 pages them. */
static void
test_learn_page(void **state)
{
	struct etag_index *ix;
	char		*doc, k[128], e[80];
	size_t		 len = 0, cap = 1 << 20;
	unsigned	 i;
	enum feed	 how;

	(void)state;
	doc = malloc(cap);
	assert_non_null(doc);
	len += (size_t)snprintf(doc + len, cap - len, "<?xml version=\"1.0\" "
	    "encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"><Name>site</Name><Prefix>"
	    "</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>"
	    "<EncodingType>url</EncodingType><IsTruncated>true"
	    "</IsTruncated>");
	for (i = 0; i < 1000; i++) {
		mkkey(k, sizeof(k), i);
		mketag(e, sizeof(e), i, 0);
		len += (size_t)snprintf(doc + len, cap - len, "<Contents><Key>"
		    "%s</Key><LastModified>2026-01-05T10:00:00.000Z"
		    "</LastModified><ETag>%s</ETag><Size>%u</Size>"
		    "<StorageClass>STANDARD</StorageClass></Contents>", k, e,
		    i);
	}
	len += (size_t)snprintf(doc + len, cap - len, "<NextContinuationToken>"
	    "abc</NextContinuationToken></ListBucketResult>");
	assert_true(len < cap);
	for (how = FEED_WHOLE; how <= FEED_RANDOM2; how++) {
		ix = etag_index_open(NULL, 0);
		assert_non_null(ix);
		assert_int_equal(learn_doc(ix, doc, len, how, 11), 1000);
		for (i = 0; i < 1000; i++) {
			mkkey(k, sizeof(k), i);
			mketag(e, sizeof(e), i, 0);
			assert_int_equal(etag_index_same(ix, "site", k, e,
			    1000), 1);
		}
		etag_index_close(ix);
	}
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_same_del),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_uploads),
		cmocka_unit_test(test_etag_forms),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_each),
		cmocka_unit_test_setup_teardown(test_save_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_save_shuffled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_old_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_planted, setup,
		    teardown),
		cmocka_unit_test(test_max_bytes),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_learn_s3_v2),
		cmocka_unit_test(test_learn_s3_v2_plain),
		cmocka_unit_test(test_learn_moto_v1),
		cmocka_unit_test(test_learn_ns),
		cmocka_unit_test(test_learn_partial),
		cmocka_unit_test(test_learn_cap),
		cmocka_unit_test(test_learn_garbage),
		cmocka_unit_test(test_learn_page),
	};

	return cmocka_run_group_tests_name("etag_index", tests, NULL, NULL);
}
