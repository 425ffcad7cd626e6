/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_journal: the journal's record round trip, sequence numbers across
 * reopen, replay of torn and corrupt files (every cut and every flipped
 * byte of the last record), compaction, group commit under 8 threads,
 * write failures (RLIMIT_FSIZE in a child) and the payload parser fed
 * random and mutated bytes.  Each test runs in a fresh mkdtemp folder.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "journal.h"

#define NTHREADS	8
#define PER_THREAD	500

struct tdir {
	char	 dir[64];
	char	 path[128];	/* dir/journal */
};

/* A deep copy of a replayed record. */
struct crec {
	struct journal_rec	 r;
	char			*bucket, *dist, *ref, *inval;
	char			**items;
};

struct coll {
	struct crec	*v;
	size_t		 n;
	int		 fail_at;	/* return -1 on this record, or -1 */
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
	snprintf(t->dir, sizeof(t->dir), "%s/s3ij.XXXXXX", tmp);
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/journal", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tdir	*t = *state;
	char		 p[160];

	unlink(t->path);
	snprintf(p, sizeof(p), "%s/journal.tmp", t->dir);
	unlink(p);
	rmdir(p);
	rmdir(t->dir);
	free(t);
	return 0;
}

static char *
dup0(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
collect(void *arg, const struct journal_rec *r)
{
	struct coll	*c = arg;
	struct crec	*e;
	size_t		 i;

	if (c->fail_at >= 0 && (size_t)c->fail_at == c->n)
		return -1;
	c->v = realloc(c->v, (c->n + 1) * sizeof(*c->v));
	assert_non_null(c->v);
	e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	e->r = *r;
	e->bucket = dup0(r->bucket);
	e->dist = dup0(r->distribution);
	e->ref = dup0(r->caller_reference);
	e->inval = dup0(r->invalidation_id);
	e->items = calloc(r->n_items + 1, sizeof(char *));
	assert_non_null(e->items);
	for (i = 0; i < r->n_items; i++)
		e->items[i] = strdup(r->items[i]);
	return 0;
}

static void
coll_free(struct coll *c)
{
	size_t	 i, k;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].bucket);
		free(c->v[i].dist);
		free(c->v[i].ref);
		free(c->v[i].inval);
		for (k = 0; k < c->v[i].r.n_items; k++)
			free(c->v[i].items[k]);
		free(c->v[i].items);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static void
str_eq(const char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want != NULL ? want : "");
}

/* Compare a replayed or parsed record with what was appended. */
static void
rec_eq(const struct journal_rec *got, const struct journal_rec *want)
{
	size_t	 i;

	assert_int_equal(got->type, want->type);
	switch (want->type) {
	case JOURNAL_WRITE:
		assert_true(got->seq == want->seq);
		str_eq(got->bucket, want->bucket);
		assert_int_equal(got->n_items, want->n_items);
		for (i = 0; i < want->n_items; i++)
			str_eq(got->items[i], want->items[i]);
		break;
	case JOURNAL_BATCH:
		assert_true(got->batch_id == want->batch_id);
		str_eq(got->distribution, want->distribution);
		str_eq(got->caller_reference, want->caller_reference);
		assert_true(got->upto_seq == want->upto_seq);
		assert_int_equal(got->n_items, want->n_items);
		for (i = 0; i < want->n_items; i++)
			str_eq(got->items[i], want->items[i]);
		break;
	case JOURNAL_ACCEPTED:
		assert_true(got->batch_id == want->batch_id);
		str_eq(got->invalidation_id, want->invalidation_id);
		break;
	case JOURNAL_COMPLETED:
		assert_true(got->batch_id == want->batch_id);
		break;
	}
}

static void
crec_eq(const struct crec *got, const struct journal_rec *want)
{
	struct journal_rec	 r = got->r;

	r.bucket = got->bucket;
	r.distribution = got->dist;
	r.caller_reference = got->ref;
	r.invalidation_id = got->inval;
	r.items = (const char *const *)got->items;
	rec_eq(&r, want);
}

static struct journal *
jopen(struct tdir *t, struct coll *c)
{
	struct journal	*j = NULL;
	char		 err[512];

	if (c != NULL) {
		memset(c, 0, sizeof(*c));
		c->fail_at = -1;
	}
	if (journal_open(t->dir, c != NULL ? collect : NULL, c, &j, err,
	    sizeof(err)) == -1)
		fail_msg("journal_open: %s", err);
	return j;
}

static off_t
fsize(const char *path)
{
	struct stat	 sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*p;
	FILE		*f;

	*len = (size_t)fsize(path);
	p = malloc(*len + 1);
	assert_non_null(p);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(p, 1, *len, f), *len);
	fclose(f);
	return p;
}

static void
spit(const char *path, const unsigned char *p, size_t len)
{
	FILE	*f;

	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct journal_rec
wrec(const char *bucket, const char *const *items, size_t n)
{
	struct journal_rec	 r;

	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_WRITE;
	r.bucket = bucket;
	r.items = items;
	r.n_items = n;
	return r;
}

static void
append_ok(struct journal *j, struct journal_rec *r)
{
	if (journal_append(j, r) == -1)
		fail_msg("journal_append: %s", strerror(errno));
}

/* --- round trip ---------------------------------------------------------- */

static char	 longkey[JOURNAL_MAX_STR + 2];

static void
test_roundtrip(void **state)
{
	struct tdir		*t = *state;
	static const char *const keys[] = {
		"photos/2024/cat.jpg", "", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c"
		"\xac/\xf0\x9f\x99\x82 space+plus%25", longkey
	};
	static const char *const paths[] = { "/photos/*", "/index.html" };
	static const char *const one[] = { "k" };
	struct journal_rec	 recs[9], r;
	struct journal_store	*st;
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	const char		**many;
	char			*manybuf;
	unsigned char		*file;
	size_t			 i, n, len, off;
	int			 nrec = 0;

	(void)state;
	memset(longkey, 'x', JOURNAL_MAX_STR);
	longkey[JOURNAL_MAX_STR] = '\0';
	many = calloc(JOURNAL_MAX_ITEMS, sizeof(*many));
	manybuf = malloc(JOURNAL_MAX_ITEMS * 8);
	assert_non_null(many);
	assert_non_null(manybuf);
	for (i = 0; i < JOURNAL_MAX_ITEMS; i++) {
		snprintf(manybuf + i * 8, 8, "k%05zu", i);
		many[i] = manybuf + i * 8;
	}

	memset(recs, 0, sizeof(recs));
	recs[0] = wrec("bucket-1", keys, 4);
	recs[1] = wrec("", NULL, 0);			/* no keys */
	recs[2].type = JOURNAL_BATCH;
	recs[2].batch_id = 1;
	recs[2].distribution = "E2QWRUHAPOMQZL";
	recs[2].caller_reference = "s3inval-1-0123456789abcdef";
	recs[2].upto_seq = 2;
	recs[2].items = paths;
	recs[2].n_items = 2;
	recs[3].type = JOURNAL_ACCEPTED;
	recs[3].batch_id = 1;
	recs[3].invalidation_id = "I2J0I21PCUYOIK";
	recs[4].type = JOURNAL_COMPLETED;
	recs[4].batch_id = UINT64_MAX;
	recs[5].type = JOURNAL_BATCH;			/* empty everything */
	recs[5].distribution = "";
	recs[5].caller_reference = "";
	recs[6].type = JOURNAL_ACCEPTED;
	recs[6].invalidation_id = "";
	recs[7] = wrec(longkey, many, JOURNAL_MAX_ITEMS);
	recs[8] = wrec("b", one, 1);

	j = jopen(t, NULL);
	assert_true(journal_last_seq(j) == 0);
	for (i = 0; i < 9; i++) {
		recs[i].seq = 777;	/* ignored for WRITE, kept otherwise */
		append_ok(j, &recs[i]);
		if (recs[i].type == JOURNAL_WRITE)
			assert_true(recs[i].seq == (uint64_t)++nrec);
	}
	assert_true(journal_last_seq(j) == 4);

	/* Invalid records are refused and use no sequence number. */
	longkey[JOURNAL_MAX_STR] = 'x';
	r = wrec("b", keys, 4);
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	r = wrec(longkey, NULL, 0);
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	longkey[JOURNAL_MAX_STR] = '\0';
	r = wrec("b", many, JOURNAL_MAX_ITEMS + 1);
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	r = wrec(NULL, NULL, 0);
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	r = wrec("b", NULL, 1);
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	r = wrec("b", NULL, 0);
	r.type = (enum journal_type)9;
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_BATCH;
	r.distribution = "E1";
	assert_int_equal(journal_append(j, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_true(journal_last_seq(j) == 4);
	journal_get_stats(j, &s);
	assert_true(s.appends == 9);
	assert_true(s.size == (uint64_t)fsize(t->path));
	journal_close(j);

	/* Replayed on open. */
	j = jopen(t, &c);
	assert_int_equal(c.n, 9);
	for (i = 0; i < 9; i++)
		crec_eq(&c.v[i], &recs[i]);
	assert_true(journal_last_seq(j) == 4);
	journal_get_stats(j, &s);
	assert_true(s.records_replayed == 9);
	assert_true(s.bytes_dropped == 0);
	coll_free(&c);
	journal_close(j);

	/* And through the pure parser, record by record. */
	file = slurp(t->path, &len);
	off = 0;
	for (i = 0; off < len; i++) {
		assert_true(i < 9);
		assert_memory_equal(file + off, "S3IJ", 4);
		n = le32(file + off + 4);
		assert_int_equal(crc32c(0, file + off + 12, n),
		    le32(file + off + 8));
		assert_int_equal(journal_parse_payload(file + off + 12, n, &r,
		    &st), 0);
		rec_eq(&r, &recs[i]);
		journal_store_free(st);
		off += 12 + n;
	}
	assert_int_equal(i, 9);
	assert_int_equal(off, len);
	journal_store_free(NULL);
	free(file);
	free(many);
	free(manybuf);
}

static void
test_seq_reopen(void **state)
{
	struct tdir		*t = *state;
	struct journal_rec	 r, b;
	struct journal		*j;
	struct coll		 c;
	static const char *const k[] = { "a" };

	j = jopen(t, NULL);
	r = wrec("b", k, 1);
	append_ok(j, &r);
	append_ok(j, &r);
	append_ok(j, &r);
	assert_true(r.seq == 3);
	memset(&b, 0, sizeof(b));
	b.type = JOURNAL_COMPLETED;
	b.batch_id = 9;
	append_ok(j, &b);
	journal_close(j);

	j = jopen(t, &c);
	assert_int_equal(c.n, 4);
	assert_true(journal_last_seq(j) == 3);
	append_ok(j, &r);
	assert_true(r.seq == 4);
	coll_free(&c);
	journal_close(j);

	j = jopen(t, &c);
	assert_true(journal_last_seq(j) == 4);
	assert_true(c.v[4].r.seq == 4);
	coll_free(&c);
	journal_close(j);

	/* A BATCH claims its writes were numbered: seqs continue past its
	 * upto_seq even when no WRITE shows them any more. */
	j = jopen(t, NULL);
	memset(&b, 0, sizeof(b));
	b.type = JOURNAL_BATCH;
	b.distribution = "E1";
	b.caller_reference = "r";
	b.upto_seq = 50;
	append_ok(j, &b);
	journal_close(j);
	j = jopen(t, NULL);
	assert_true(journal_last_seq(j) == 50);
	append_ok(j, &r);
	assert_true(r.seq == 51);
	journal_close(j);

	/* A replay callback that fails fails the open; nothing is cut. */
	memset(&c, 0, sizeof(c));
	c.fail_at = 2;
	{
		struct journal	*j2 = NULL;
		char		 err[256];
		off_t		 before = fsize(t->path);

		assert_int_equal(journal_open(t->dir, collect, &c, &j2, err,
		    sizeof(err)), -1);
		assert_null(j2);
		assert_non_null(strstr(err, "journal"));
		assert_int_equal(fsize(t->path), before);
		coll_free(&c);
	}
}

/* --- damaged files ------------------------------------------------------- */

/* Four records; returns the file and the offset of the last record. */
static unsigned char *
four_records(struct tdir *t, size_t *len, size_t *last)
{
	static const char *const k[] = { "one", "two/three" };
	struct journal_rec	 r;
	struct journal		*j;
	struct journal_stats	 s;
	int			 i;

	j = jopen(t, NULL);
	r = wrec("bkt", k, 2);
	for (i = 0; i < 3; i++)
		append_ok(j, &r);
	journal_get_stats(j, &s);
	*last = (size_t)s.size;
	append_ok(j, &r);
	journal_close(j);
	return slurp(t->path, len);
}

static void
expect_replay(struct tdir *t, size_t nrec, uint64_t dropped, size_t good)
{
	struct journal		*j;
	struct journal_stats	 s;
	struct coll		 c;
	struct journal_rec	 r;
	static const char *const k[] = { "after" };
	size_t			 i;

	j = jopen(t, &c);
	assert_int_equal(c.n, nrec);
	for (i = 0; i < c.n; i++)
		assert_true(c.v[i].r.seq == i + 1);
	journal_get_stats(j, &s);
	assert_true(s.bytes_dropped == dropped);
	assert_true(s.size == good);
	assert_int_equal(fsize(t->path), good);
	assert_true(journal_last_seq(j) == nrec);
	coll_free(&c);

	/* The journal goes on from the cut. */
	r = wrec("bkt", k, 1);
	append_ok(j, &r);
	assert_true(r.seq == nrec + 1);
	journal_close(j);
	j = jopen(t, &c);
	assert_int_equal(c.n, nrec + 1);
	str_eq(c.v[nrec].items[0], "after");
	coll_free(&c);
	journal_close(j);
}

static void
test_torn_tail(void **state)
{
	struct tdir	*t = *state;
	unsigned char	*file;
	size_t		 len, last, cut;

	file = four_records(t, &len, &last);
	for (cut = last; cut < len; cut++) {
		spit(t->path, file, cut);
		expect_replay(t, 3, cut - last, last);
	}
	/* Whole file: nothing dropped. */
	spit(t->path, file, len);
	expect_replay(t, 4, 0, len);
	free(file);
}

static void
test_corrupt_last(void **state)
{
	struct tdir	*t = *state;
	unsigned char	*file;
	size_t		 len, last, i;

	file = four_records(t, &len, &last);
	for (i = last; i < len; i++) {
		file[i] ^= 0xff;
		spit(t->path, file, len);
		expect_replay(t, 3, len - last, last);
		file[i] ^= 0xff;
		/* A single flipped bit too. */
		file[i] ^= (unsigned char)(1u << (i % 8));
		spit(t->path, file, len);
		expect_replay(t, 3, len - last, last);
		file[i] ^= (unsigned char)(1u << (i % 8));
	}
	free(file);
}

static void
test_corrupt_middle(void **state)
{
	struct tdir	*t = *state;
	unsigned char	*file;
	size_t		 len, last, reclen;

	file = four_records(t, &len, &last);
	reclen = len - last;		/* all four have the same size */
	assert_int_equal(len, 4 * reclen);

	/* Payload byte of record 2: records 2 and 3 are dropped. */
	file[reclen + 12 + 3] ^= 0x20;
	spit(t->path, file, len);
	expect_replay(t, 1, len - reclen, reclen);
	file[reclen + 12 + 3] ^= 0x20;

	/* Magic of record 3. */
	file[2 * reclen] = 'X';
	spit(t->path, file, len);
	expect_replay(t, 2, len - 2 * reclen, 2 * reclen);
	file[2 * reclen] = 'S';

	/* Stored CRC of record 1. */
	file[8] ^= 1;
	spit(t->path, file, len);
	expect_replay(t, 0, len, 0);
	free(file);
}

static void
test_garbage(void **state)
{
	struct tdir	*t = *state;
	unsigned char	 g[10000];
	uint64_t	 s = 1234;
	size_t		 i;

	for (i = 0; i < sizeof(g); i++)
		g[i] = (unsigned char)(rnd(&s) >> 56);
	spit(t->path, g, sizeof(g));
	expect_replay(t, 0, sizeof(g), 0);

	/* A plausible header claiming far more than the file holds. */
	memcpy(g, "S3IJ\xff\xff\xff\x7f\0\0\0\0", 12);
	spit(t->path, g, 100);
	expect_replay(t, 0, 100, 0);

	/* Zeros, as a crash can leave after a size update. */
	memset(g, 0, sizeof(g));
	spit(t->path, g, 4096);
	expect_replay(t, 0, 4096, 0);

	/* Shorter than a header. */
	spit(t->path, (const unsigned char *)"S3I", 3);
	expect_replay(t, 0, 3, 0);
}

/* A checksummed record that does not parse is not damage: the open fails
 * and the file keeps every byte. */
static void
test_valid_crc_bad_payload(void **state)
{
	struct tdir	*t = *state;
	struct journal	*j = NULL;
	unsigned char	*file, rec[12 + 2];
	size_t		 len, last;
	char		 err[256];
	uint32_t	 crc;

	file = four_records(t, &len, &last);
	file = realloc(file, len + sizeof(rec));
	assert_non_null(file);
	memcpy(rec, "S3IJ", 4);
	rec[4] = 2;
	rec[5] = rec[6] = rec[7] = 0;
	rec[12] = 42;			/* no such type */
	rec[13] = 0;
	crc = crc32c(0, rec + 12, 2);
	rec[8] = (unsigned char)crc;
	rec[9] = (unsigned char)(crc >> 8);
	rec[10] = (unsigned char)(crc >> 16);
	rec[11] = (unsigned char)(crc >> 24);
	memcpy(file + len, rec, sizeof(rec));
	spit(t->path, file, len + sizeof(rec));
	assert_int_equal(journal_open(t->dir, NULL, NULL, &j, err,
	    sizeof(err)), -1);
	assert_null(j);
	print_message("# expected error: %s\n", err);
	assert_int_equal(fsize(t->path), len + sizeof(rec));
	free(file);
}

/* --- compaction ---------------------------------------------------------- */

static void
test_compact(void **state)
{
	struct tdir		*t = *state;
	static const char *const k[] = { "a/b", "c" };
	static const char *const p[] = { "/a/*" };
	struct journal_rec	 r, keep[3];
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	off_t			 before, after;
	int			 i;

	j = jopen(t, NULL);
	r = wrec("bkt", k, 2);
	for (i = 0; i < 10; i++) {
		append_ok(j, &r);
		if (i == 4)
			keep[0] = r;			/* seq 5 */
	}
	memset(&keep[1], 0, sizeof(keep[1]));
	keep[1].type = JOURNAL_BATCH;
	keep[1].batch_id = 3;
	keep[1].distribution = "E1";
	keep[1].caller_reference = "ref-3";
	keep[1].upto_seq = 8;
	keep[1].items = p;
	keep[1].n_items = 1;
	append_ok(j, &keep[1]);
	memset(&keep[2], 0, sizeof(keep[2]));
	keep[2].type = JOURNAL_ACCEPTED;
	keep[2].batch_id = 3;
	keep[2].invalidation_id = "I3";
	append_ok(j, &keep[2]);
	before = fsize(t->path);

	assert_int_equal(journal_compact(j, keep, 3), 0);
	after = fsize(t->path);
	print_message("# compaction: %lld -> %lld bytes\n",
	    (long long)before, (long long)after);
	assert_true(after < before);
	journal_get_stats(j, &s);
	assert_true(s.compactions == 1);
	assert_true(s.size == (uint64_t)after);
	assert_true(journal_last_seq(j) == 10);

	/* Appends go on in the new file. */
	r = wrec("bkt", k, 1);
	append_ok(j, &r);
	assert_true(r.seq == 11);
	journal_close(j);

	j = jopen(t, &c);
	assert_int_equal(c.n, 4);
	crec_eq(&c.v[0], &keep[0]);
	crec_eq(&c.v[1], &keep[1]);
	crec_eq(&c.v[2], &keep[2]);
	crec_eq(&c.v[3], &r);
	assert_true(journal_last_seq(j) == 11);
	coll_free(&c);

	/* Compacting to nothing keeps the sequence going across a
	 * restart: a kept BATCH may cover seqs no WRITE shows any more. */
	assert_int_equal(journal_compact(j, NULL, 0), 0);
	journal_close(j);
	j = jopen(t, &c);
	assert_int_equal(c.n, 0);
	assert_true(journal_last_seq(j) == 11);
	append_ok(j, &r);
	assert_true(r.seq == 12);
	journal_close(j);

	/* Invalid records make compaction fail before touching anything. */
	j = jopen(t, &c);
	before = fsize(t->path);
	keep[1].distribution = NULL;
	assert_int_equal(journal_compact(j, keep, 3), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fsize(t->path), before);
	coll_free(&c);
	journal_close(j);
}

static void
test_compact_error(void **state)
{
	struct tdir		*t = *state;
	static const char *const k[] = { "x" };
	struct journal_rec	 r;
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	unsigned char		*a, *b;
	size_t			 alen, blen;
	char			 tmp[160];

	j = jopen(t, NULL);
	r = wrec("bkt", k, 1);
	append_ok(j, &r);
	append_ok(j, &r);
	a = slurp(t->path, &alen);

	/* journal.tmp cannot be created: a folder is in the way. */
	snprintf(tmp, sizeof(tmp), "%s/journal.tmp", t->dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(journal_compact(j, NULL, 0), -1);
	assert_int_not_equal(errno, 0);
	b = slurp(t->path, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	journal_get_stats(j, &s);
	assert_true(s.compactions == 0);
	assert_true(s.errors == 1);

	/* The old file goes on working. */
	append_ok(j, &r);
	assert_true(r.seq == 3);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(journal_compact(j, NULL, 0), 0);
	append_ok(j, &r);
	journal_close(j);
	j = jopen(t, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.v[0].r.seq == 4);
	coll_free(&c);
	journal_close(j);
	free(a);
	free(b);
}

/* --- group commit -------------------------------------------------------- */

struct worker {
	struct journal	*j;
	int		 id;
	int		 n;
	uint64_t	*seqs;
	int		 failed;
	int		 last_errno;
};

static void *
appender(void *arg)
{
	struct worker		*w = arg;
	struct journal_rec	 r;
	char			 key[32];
	const char		*k[1] = { key };
	int			 i;

	for (i = 0; i < w->n; i++) {
		snprintf(key, sizeof(key), "t%d/%d", w->id, i);
		r = wrec("bkt", k, 1);
		if (journal_append(w->j, &r) == -1) {
			w->last_errno = errno;
			w->failed++;
			continue;
		}
		w->seqs[i] = r.seq;
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_concurrent(void **state)
{
	struct tdir		*t = *state;
	struct worker		 w[NTHREADS];
	pthread_t		 th[NTHREADS];
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	uint64_t		*all, *sorted;
	size_t			 i, total = NTHREADS * PER_THREAD;
	int			 id, n;
	char			 want[32];

	j = jopen(t, NULL);
	all = calloc(total, sizeof(*all));
	assert_non_null(all);
	for (i = 0; i < NTHREADS; i++) {
		w[i].j = j;
		w[i].id = (int)i;
		w[i].n = PER_THREAD;
		w[i].seqs = all + i * PER_THREAD;
		w[i].failed = 0;
		assert_int_equal(pthread_create(&th[i], NULL, appender,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	journal_get_stats(j, &s);
	print_message("# group commit: %llu appends, %llu fdatasync "
	    "(%.1f records per sync)\n", (unsigned long long)s.appends,
	    (unsigned long long)s.syncs, (double)s.appends / (double)s.syncs);
	assert_true(s.appends == total);
	assert_true(s.syncs < s.appends);
	assert_true(s.errors == 0);
	assert_true(journal_last_seq(j) == total);

	/* Every seq handed out once: exactly 1..total. */
	sorted = malloc(total * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, all, total * sizeof(*sorted));
	qsort(sorted, total, sizeof(*sorted), cmp_u64);
	for (i = 0; i < total; i++)
		assert_true(sorted[i] == i + 1);
	free(sorted);
	journal_close(j);

	/* After reopen: every record, in seq order (seq order is file
	 * order), each with the key its thread wrote under that seq. */
	j = jopen(t, &c);
	assert_int_equal(c.n, total);
	for (i = 0; i < total; i++) {
		assert_true(c.v[i].r.seq == i + 1);
		assert_int_equal(sscanf(c.v[i].items[0], "t%d/%d", &id, &n),
		    2);
		assert_true(id >= 0 && id < NTHREADS && n >= 0 &&
		    n < PER_THREAD);
		assert_true(w[id].seqs[n] == i + 1);
		snprintf(want, sizeof(want), "t%d/%d", id, n);
		str_eq(c.v[i].items[0], want);
	}
	journal_get_stats(j, &s);
	assert_true(s.bytes_dropped == 0);
	coll_free(&c);
	journal_close(j);
	free(all);
}

/* Appends racing compactions: nothing torn, no seq twice. */
static void
test_concurrent_compact(void **state)
{
	struct tdir		*t = *state;
	struct worker		 w[4];
	pthread_t		 th[4];
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	uint64_t		*all;
	size_t			 i;
	int			 k;

	j = jopen(t, NULL);
	all = calloc(4 * 200, sizeof(*all));
	assert_non_null(all);
	for (i = 0; i < 4; i++) {
		w[i].j = j;
		w[i].id = (int)i;
		w[i].n = 200;
		w[i].seqs = all + i * 200;
		w[i].failed = 0;
		assert_int_equal(pthread_create(&th[i], NULL, appender,
		    &w[i]), 0);
	}
	for (k = 0; k < 20; k++) {
		assert_int_equal(journal_compact(j, NULL, 0), 0);
		usleep(1000);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	journal_get_stats(j, &s);
	assert_true(s.compactions == 20);
	assert_true(journal_last_seq(j) == 800);
	qsort(all, 800, sizeof(*all), cmp_u64);
	for (i = 0; i < 800; i++)
		assert_true(all[i] == i + 1);
	journal_close(j);

	j = jopen(t, &c);
	journal_get_stats(j, &s);
	assert_true(s.bytes_dropped == 0);
	assert_true(journal_last_seq(j) == 800);
	for (i = 1; i < c.n; i++)
		assert_true(c.v[i].r.seq > c.v[i - 1].r.seq);
	print_message("# %zu of 800 records appended after the last "
	    "compaction\n", c.n);
	coll_free(&c);
	journal_close(j);
	free(all);
}

/* --- write failure ------------------------------------------------------- */

/* In the child: 4 threads append with the size limit at lim. */
static int
group_failure(const char *dir, struct journal *j, struct rlimit *low,
    uint64_t lim)
{
	struct worker		 w[4];
	pthread_t		 th[4];
	struct journal_stats	 s0, s1;
	struct journal		*j2 = NULL;
	uint64_t		 seqs[4 * 20];
	int			 i, failed = 0, ok = 0;
	char			 err[256];

	journal_get_stats(j, &s0);
	low->rlim_cur = (rlim_t)lim;
	if (setrlimit(RLIMIT_FSIZE, low) == -1)
		return -1;
	for (i = 0; i < 4; i++) {
		w[i].j = j;
		w[i].id = i;
		w[i].n = 20;
		w[i].seqs = seqs + i * 20;
		w[i].failed = 0;
		w[i].last_errno = 0;
		if (pthread_create(&th[i], NULL, appender, &w[i]) != 0)
			return -1;
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failed += w[i].failed;
		if (w[i].failed > 0 && w[i].last_errno != EFBIG)
			return -1;
	}
	ok = 80 - failed;
	journal_get_stats(j, &s1);
	if (failed == 0 || s1.appends - s0.appends != (uint64_t)ok ||
	    s1.errors - s0.errors != (uint64_t)failed || s1.size > lim)
		return -1;
	if (journal_open(dir, NULL, NULL, &j2, err, sizeof(err)) == -1)
		return -1;
	journal_get_stats(j2, &s1);
	journal_close(j2);
	if (s1.records_replayed != s0.records_replayed + (uint64_t)ok ||
	    s1.bytes_dropped != 0)
		return -1;
	return 0;
}

/* In the child: exit codes name the step that went wrong. */
static int
child_fsize(const char *dir, const char *path)
{
	static const char *const k[] = { "k" };
	struct journal_rec	 r;
	struct journal_stats	 s;
	struct journal		*j = NULL;
	struct rlimit		 rl, low;
	struct stat		 sb;
	const char		**big;
	char			 err[256];
	int			 i;

	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 2;
	if (journal_open(dir, NULL, NULL, &j, err, sizeof(err)) == -1)
		return 3;
	r = wrec("bkt", k, 1);
	for (i = 0; i < 3; i++)
		if (journal_append(j, &r) == -1)
			return 4;
	journal_get_stats(j, &s);

	/* Room for 5 more bytes: the next record is written in part. */
	low = rl;
	low.rlim_cur = (rlim_t)s.size + 5;
	if (setrlimit(RLIMIT_FSIZE, &low) == -1)
		return 5;
	big = calloc(50, sizeof(*big));
	if (big == NULL)
		return 6;
	for (i = 0; i < 50; i++)
		big[i] = "some/longer/key/name";
	r = wrec("bkt", big, 50);
	errno = 0;
	if (journal_append(j, &r) != -1 || errno != EFBIG)
		return 7;
	if (stat(path, &sb) == -1 || (uint64_t)sb.st_size != s.size)
		return 8;
	/* A whole record past the limit: refused outright. */
	low.rlim_cur = (rlim_t)s.size;
	if (setrlimit(RLIMIT_FSIZE, &low) == -1)
		return 9;
	r = wrec("bkt", k, 1);
	errno = 0;
	if (journal_append(j, &r) != -1 || errno != EFBIG)
		return 10;
	journal_get_stats(j, &s);
	if (s.errors != 2 || s.appends != 3)
		return 11;
	journal_close(j);

	/* Reopen, still limited: only the three complete records. */
	j = NULL;
	if (journal_open(dir, NULL, NULL, &j, err, sizeof(err)) == -1)
		return 12;
	journal_get_stats(j, &s);
	if (s.records_replayed != 3 || s.bytes_dropped != 0)
		return 13;
	if (journal_append(j, &r) != -1 || errno != EFBIG)
		return 14;

	/*
	 * Groups failing under concurrent appenders: room for a few
	 * records only.  Each append succeeds or fails with EFBIG, and
	 * exactly the successful ones are in the file afterwards.
	 */
	if (group_failure(dir, j, &low, (uint64_t)s.size + 200) != 0)
		return 19;

	/* Space returns: appends work again, on the same journal. */
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 15;
	r = wrec("bkt", big, 50);
	if (journal_append(j, &r) == -1)
		return 16;
	/* Seqs of failed appends are spent, never reused. */
	if (r.seq <= 3)
		return 17;
	r = wrec("bkt", k, 1);
	if (journal_append(j, &r) == -1)
		return 18;
	journal_close(j);
	free(big);
	return 0;
}

static void
test_write_failure(void **state)
{
	struct tdir		*t = *state;
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	pid_t			 pid;
	int			 status = 0;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(child_fsize(t->dir, t->path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The three first records, those of the groups that succeeded,
	 * then the two after the limit was lifted. */
	j = jopen(t, &c);
	assert_true(c.n >= 5);
	assert_true(c.v[0].r.seq == 1 && c.v[2].r.seq == 3);
	assert_int_equal(c.v[c.n - 2].r.n_items, 50);
	assert_true(c.v[c.n - 1].r.seq > c.v[c.n - 2].r.seq);
	journal_get_stats(j, &s);
	assert_true(s.bytes_dropped == 0);
	print_message("# write failure: %zu records of groups that fit\n",
	    c.n - 5);
	coll_free(&c);
	journal_close(j);
}

/* --- parser ------------------------------------------------------------- */

static void
check_parsed(const struct journal_rec *r)
{
	size_t	 i;

	assert_true(r->type >= JOURNAL_WRITE && r->type <= JOURNAL_COMPLETED);
	assert_true(r->n_items <= JOURNAL_MAX_ITEMS);
	for (i = 0; i < r->n_items; i++)
		assert_true(strlen(r->items[i]) <= JOURNAL_MAX_STR);
	if (r->bucket != NULL)
		assert_true(strlen(r->bucket) <= JOURNAL_MAX_STR);
}

static void
test_parse_fuzz(void **state)
{
	struct tdir		*t = *state;
	static const char *const k[] = { "a", "bb", "" };
	static const unsigned char types[] = { 1, 2, 3, 4, 0x80, 0, 5, 0xff };
	struct journal_rec	 r, recs[4];
	struct journal_store	*st;
	struct journal		*j;
	unsigned char		*file, *buf, *m;
	size_t			 len, off[5], n, i, it, pl;
	uint64_t		 s = 99;
	int			 ok = 0, nvalid = 0;

	/* Random bytes, with a plausible type byte half the time. */
	buf = malloc(600);
	assert_non_null(buf);
	for (it = 0; it < 10000; it++) {
		n = (size_t)(rnd(&s) % 600);
		for (i = 0; i < n; i++)
			buf[i] = (unsigned char)(rnd(&s) >> 56);
		if (n > 0 && rnd(&s) % 2)
			buf[0] = types[rnd(&s) % sizeof(types)];
		if (n > 5 && rnd(&s) % 2) {
			buf[1] = (unsigned char)(rnd(&s) % 8);
			buf[2] = buf[3] = buf[4] = 0;
		}
		st = NULL;
		if (journal_parse_payload(buf, n, &r, &st) == 0) {
			check_parsed(&r);
			ok++;
		} else
			assert_null(st);
		journal_store_free(st);
	}

	/* Mutations of real payloads: flipped bytes, cuts, length fields. */
	memset(recs, 0, sizeof(recs));
	recs[0] = wrec("bucket", k, 3);
	recs[1].type = JOURNAL_BATCH;
	recs[1].distribution = "E1";
	recs[1].caller_reference = "ref";
	recs[1].items = k;
	recs[1].n_items = 3;
	recs[2].type = JOURNAL_ACCEPTED;
	recs[2].invalidation_id = "I1";
	recs[3].type = JOURNAL_COMPLETED;
	j = jopen(t, NULL);
	off[0] = 0;
	for (i = 0; i < 4; i++) {
		append_ok(j, &recs[i]);
		off[i + 1] = (size_t)fsize(t->path);
	}
	journal_close(j);
	file = slurp(t->path, &len);
	for (it = 0; it < 10000; it++) {
		i = (size_t)(rnd(&s) % 4);
		pl = off[i + 1] - off[i] - 12;
		m = malloc(pl + 1);
		assert_non_null(m);
		memcpy(m, file + off[i] + 12, pl);
		n = pl;
		switch (rnd(&s) % 3) {
		case 0:
			m[rnd(&s) % pl] ^= (unsigned char)(1 + rnd(&s) % 255);
			break;
		case 1:
			n = (size_t)(rnd(&s) % pl);
			break;
		default:
			m[rnd(&s) % pl] = (unsigned char)(rnd(&s) % 6);
			if (rnd(&s) % 2) {
				m[pl] = 0;
				n = pl + 1;
			}
			break;
		}
		st = NULL;
		if (journal_parse_payload(m, n, &r, &st) == 0) {
			check_parsed(&r);
			nvalid++;
		}
		journal_store_free(st);
		free(m);
	}
	print_message("# parser: %d of 10000 random and %d of 10000 mutated "
	    "payloads parsed\n", ok, nvalid);

	/* A huge item count in a short payload: refused, no allocation of
	 * that size is attempted (ASan would report one). */
	memcpy(buf, "\x01\x00\x00\x00\x00\xa0\x86\x01\x00", 9);
	assert_int_equal(journal_parse_payload(buf, 9, &r, &st), -1);
	memcpy(buf, "\x01\x00\x00\x00\x00\xff\xff\xff\xff", 9);
	assert_int_equal(journal_parse_payload(buf, 9, &r, &st), -1);
	/* The internal sequence record is not a record of the API. */
	memcpy(buf, "\x80\x01\x00\x00\x00\x00\x00\x00\x00", 9);
	assert_int_equal(journal_parse_payload(buf, 9, &r, &st), -1);
	memcpy(buf, "\x04\x01\x00\x00\x00\x00\x00\x00\x00", 9);
	assert_int_equal(journal_parse_payload(buf, 9, &r, &st), 0);
	assert_true(r.type == JOURNAL_COMPLETED && r.batch_id == 1);
	journal_store_free(st);
	/* Trailing bytes. */
	assert_int_equal(journal_parse_payload(buf, 10, &r, &st), -1);
	/* An embedded NUL in a string. */
	memcpy(buf, "\x03\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
	    14);
	assert_int_equal(journal_parse_payload(buf, 14, &r, &st), -1);
	buf[13] = 'x';
	assert_int_equal(journal_parse_payload(buf, 14, &r, &st), 0);
	str_eq(r.invalidation_id, "x");
	journal_store_free(st);
	/* Empty payload. */
	assert_int_equal(journal_parse_payload(buf, 0, &r, &st), -1);
	free(file);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_seq_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_last, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_valid_crc_bad_payload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compact_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_compact,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parse_fuzz, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
