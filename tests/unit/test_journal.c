/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_journal: the journal's record round trip, sequence numbers across
 * reopen, replay of damaged files as tables (every flipped byte, every
 * cut, garbage appended; each after a clean stop and after a crash: what
 * replay keeps and what it reports), the recovery markers, files of the
 * first release, compaction, group commit under 8 threads, the async API
 * (callbacks exactly once, on the commit thread, in seq order, queuing
 * more from a callback; failures in a full file), write failures
 * (RLIMIT_FSIZE in a child) and the payload parser fed random and mutated
 * bytes.  Each test runs in a fresh mkdtemp folder.
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
	snprintf(p, sizeof(p), "%s/journal.clean", t->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/journal.lost", t->dir);
	unlink(p);
	if (rmdir(t->dir) == -1)
		fail_msg("%s is not empty after the test", t->dir);
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
		assert_memory_equal(file + off, "S3I2", 4);
		n = le32(file + off + 4);
		assert_int_equal(crc32c(0, file + off + 16, n),
		    le32(file + off + 8));
		assert_int_equal(crc32c(0, file + off, 12),
		    le32(file + off + 12));
		assert_int_equal(journal_parse_payload(file + off + 16, n, &r,
		    &st), 0);
		rec_eq(&r, &recs[i]);
		journal_store_free(st);
		off += 16 + n;
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

/*
 * A small journal of six records of every type, each told apart by its
 * type and (for a WRITE) its bucket, as a clean stop leaves it.  Record i
 * spans off[i] .. off[i + 1].
 */
#define NSMALL	6

struct small {
	unsigned char		*file;
	size_t			 len;
	size_t			 off[NSMALL + 1];
	struct journal_rec	 recs[NSMALL];
};

static const char *const small_k0[] = { "k0", "x/y" };
static const char *const small_k2[] = { "k2" };
static const char *const small_k4[] = { "k4", "k4b", "k4c" };
static const char *const small_p1[] = { "/k0" };

static void
small_build(struct tdir *t, struct small *sm)
{
	struct journal_stats	 s;
	struct journal		*j;
	struct journal_rec	*r = sm->recs;
	int			 i;

	memset(sm, 0, sizeof(*sm));
	r[0] = wrec("b0", small_k0, 2);
	r[1].type = JOURNAL_BATCH;
	r[1].batch_id = 1;
	r[1].distribution = "E1";
	r[1].caller_reference = "r1";
	r[1].upto_seq = 1;
	r[1].items = small_p1;
	r[1].n_items = 1;
	r[2] = wrec("b2", small_k2, 1);
	r[3].type = JOURNAL_ACCEPTED;
	r[3].batch_id = 1;
	r[3].invalidation_id = "I1";
	r[4] = wrec("b4", small_k4, 3);
	r[5].type = JOURNAL_COMPLETED;
	r[5].batch_id = 1;
	j = jopen(t, NULL);
	for (i = 0; i < NSMALL; i++) {
		append_ok(j, &r[i]);
		journal_get_stats(j, &s);
		sm->off[i + 1] = (size_t)s.size;
	}
	journal_close(j);
	sm->file = slurp(t->path, &sm->len);
	assert_int_equal(sm->len, sm->off[NSMALL]);
}

/* Which small record this replayed one is. */
static int
small_which(const struct crec *c)
{
	switch (c->r.type) {
	case JOURNAL_WRITE:
		return c->bucket[1] - '0';
	case JOURNAL_BATCH:
		return 1;
	case JOURNAL_ACCEPTED:
		return 3;
	case JOURNAL_COMPLETED:
		return 5;
	}
	return -1;
}

/* Write the clean-stop marker for a file of size bytes, or (size < 0)
 * leave none, as a crash does. */
static void
set_marker(struct tdir *t, long size)
{
	char	 p[160], text[96];

	snprintf(p, sizeof(p), "%s/journal.clean", t->dir);
	unlink(p);
	if (size < 0)
		return;
	snprintf(text, sizeof(text), "s3inval journal clean stop\nsize %ld\n",
	    size);
	spit(p, (const unsigned char *)text, strlen(text));
}

static int
exists(struct tdir *t, const char *name)
{
	char		 p[160];
	struct stat	 sb;

	snprintf(p, sizeof(p), "%s/%s", t->dir, name);
	return lstat(p, &sb) == 0;
}

struct outcome {
	int			 kept[NSMALL];	/* replayed, in order */
	size_t			 n;
	struct journal_stats	 st;
	off_t			 size_after;	/* the file after the open */
	int			 lost_marker;	/* journal.lost after it */
};

/* Replay file[0..len) with the marker given; no journal.lost before. */
static void
run_case(struct tdir *t, const unsigned char *file, size_t len, long marker,
    struct outcome *o)
{
	struct journal	*j;
	struct coll	 c;
	char		 p[160];
	size_t		 i;
	int		 w, last = -1;

	snprintf(p, sizeof(p), "%s/journal.lost", t->dir);
	unlink(p);
	spit(t->path, file, len);
	set_marker(t, marker);
	memset(o, 0, sizeof(*o));
	j = jopen(t, &c);
	for (i = 0; i < c.n; i++) {
		w = small_which(&c.v[i]);
		assert_true(w > last);		/* in order, once each */
		last = w;
		o->kept[w] = 1;
		o->n++;
	}
	journal_get_stats(j, &o->st);
	o->size_after = fsize(t->path);
	o->lost_marker = exists(t, "journal.lost");
	/* The clean-stop marker is read once: gone after the open. */
	assert_false(exists(t, "journal.clean"));
	coll_free(&c);
	journal_close(j);
}

/* Every record kept but those in [from, to). */
static void
expect_kept(const struct outcome *o, int from, int to)
{
	int	 i;

	for (i = 0; i < NSMALL; i++)
		if (o->kept[i] != (i < from || i >= to))
			fail_msg("record %d %s", i, o->kept[i] ? "replayed" :
			    "missing");
}

static int
rec_of(const struct small *sm, size_t byte)
{
	int	 i;

	for (i = 0; i < NSMALL; i++)
		if (byte < sm->off[i + 1])
			return i;
	return NSMALL;
}

/*
 * Every byte flipped, whole (xor 0xff) and one bit: exactly the record
 * holding it is dropped, the rest replayed.  After a clean stop that is a
 * loss, recorded in journal.lost; after a crash too, except in the last
 * record, which is then indistinguishable from a torn last write.
 */
static void
test_flip_every_byte(void **state)
{
	struct tdir	*t = *state;
	struct small	 sm;
	struct outcome	 o;
	size_t		 i, reclen;
	int		 r, m, f;
	unsigned char	 mask;

	small_build(t, &sm);
	for (i = 0; i < sm.len; i++) {
		r = rec_of(&sm, i);
		reclen = sm.off[r + 1] - sm.off[r];
		for (f = 0; f < 2; f++) {
			mask = f == 0 ? 0xff : (unsigned char)(1u << (i % 8));
			sm.file[i] ^= mask;
			for (m = 0; m < 2; m++) {
				run_case(t, sm.file, sm.len,
				    m ? (long)sm.len : -1, &o);
				expect_kept(&o, r, r + 1);
				assert_true(o.st.bytes_dropped == reclen);
				if (m || r < NSMALL - 1) {
					assert_true(o.st.lost);
					assert_true(o.lost_marker);
					assert_true(o.st.bytes_damaged ==
					    reclen);
					assert_true(o.st.bytes_torn == 0);
				} else {
					assert_false(o.st.lost);
					assert_false(o.lost_marker);
					assert_true(o.st.bytes_torn == reclen);
				}
				assert_non_null(strstr(o.st.damage,
				    "offset"));
				/* A bad last record is cut off; one in the
				 * middle stays until a compaction. */
				assert_int_equal(o.size_after,
				    r == NSMALL - 1 ? sm.off[r] : sm.len);
			}
			sm.file[i] ^= mask;
		}
	}
	free(sm.file);
}

/*
 * Every cut: the whole records before it are replayed.  After a clean
 * stop every cut is a loss (the file is shorter than recorded); after a
 * crash it is a torn tail, nothing lost.
 */
static void
test_truncate_every_offset(void **state)
{
	struct tdir	*t = *state;
	struct small	 sm;
	struct outcome	 o;
	size_t		 cut;
	int		 k;

	small_build(t, &sm);
	for (cut = 0; cut < sm.len; cut++) {
		k = rec_of(&sm, cut);		/* whole records before cut */
		run_case(t, sm.file, cut, (long)sm.len, &o);
		expect_kept(&o, k, NSMALL);
		assert_true(o.st.lost && o.lost_marker);
		assert_true(o.st.bytes_damaged == sm.len - sm.off[k]);
		assert_true(o.st.bytes_dropped == cut - sm.off[k]);
		assert_non_null(strstr(o.st.damage, "short"));
		assert_int_equal(o.size_after, sm.off[k]);

		run_case(t, sm.file, cut, -1, &o);
		expect_kept(&o, k, NSMALL);
		assert_false(o.st.lost || o.lost_marker);
		assert_true(o.st.bytes_damaged == 0);
		assert_true(o.st.bytes_torn == cut - sm.off[k]);
		assert_int_equal(o.size_after, sm.off[k]);
	}
	/* Whole: nothing to say. */
	run_case(t, sm.file, sm.len, (long)sm.len, &o);
	expect_kept(&o, 0, 0);
	assert_false(o.st.lost);
	assert_true(o.st.bytes_dropped == 0 && o.st.clean_start);
	assert_string_equal(o.st.damage, "");
	free(sm.file);
}

/*
 * Bytes after a clean stop were not written by s3inval: counted, cut off,
 * never replayed (not even a well-formed record), nothing lost.  After a
 * crash, bytes that are no record are a torn tail; a good record is one.
 */
static void
test_garbage_appended(void **state)
{
	struct tdir	*t = *state;
	static const size_t sizes[] = { 1, 3, 11, 12, 16, 100, 10000 };
	struct small	 sm;
	struct outcome	 o;
	unsigned char	*g;
	uint64_t	 s = 77;
	size_t		 i, k, n, reclen;
	uint32_t	 crc;

	small_build(t, &sm);
	g = malloc(sm.len + 10000);
	assert_non_null(g);
	memcpy(g, sm.file, sm.len);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = sizes[k];
		for (i = 0; i < n; i++)
			g[sm.len + i] = (unsigned char)(rnd(&s) >> 56);
		run_case(t, g, sm.len + n, (long)sm.len, &o);
		expect_kept(&o, 0, 0);
		assert_false(o.st.lost || o.lost_marker);
		assert_true(o.st.bytes_garbage == n);
		assert_true(o.st.bytes_damaged == 0);
		assert_non_null(strstr(o.st.damage, "after the clean stop"));
		assert_int_equal(o.size_after, sm.len);

		run_case(t, g, sm.len + n, -1, &o);
		expect_kept(&o, 0, 0);
		assert_false(o.st.lost);
		assert_true(o.st.bytes_torn == n);
		assert_int_equal(o.size_after, sm.len);
	}
	/* A copy of record 2 after the clean stop's end. */
	reclen = sm.off[3] - sm.off[2];
	memcpy(g + sm.len, sm.file + sm.off[2], reclen);
	run_case(t, g, sm.len + reclen, (long)sm.len, &o);
	assert_int_equal(o.n, NSMALL);
	assert_true(o.st.bytes_garbage == reclen && !o.st.lost);
	/* Zeros, as a crash can leave after a size update. */
	memset(g + sm.len, 0, 4096);
	run_case(t, g, sm.len + 4096, -1, &o);
	assert_true(o.n == NSMALL && o.st.bytes_torn == 4096 && !o.st.lost);
	/* Nothing but garbage, no marker: all of it torn. */
	run_case(t, g + sm.len, 4096, -1, &o);
	assert_true(o.n == 0 && o.st.bytes_torn == 4096 && !o.st.lost);
	assert_int_equal(o.size_after, 0);
	/* A header that checks out, claiming more than the file holds, put
	 * in the middle of a journal of a clean stop: the records after it
	 * are found again. */
	memcpy(g, sm.file, sm.len);
	memmove(g + sm.off[3] + 30, g + sm.off[3], sm.len - sm.off[3]);
	memcpy(g + sm.off[3], "S3I2\0\0\x10\0abcd", 12);
	crc = crc32c(0, g + sm.off[3], 12);
	for (i = 0; i < 4; i++)
		g[sm.off[3] + 12 + i] = (unsigned char)(crc >> (i * 8));
	memset(g + sm.off[3] + 16, 'x', 14);
	run_case(t, g, sm.len + 30, (long)sm.len + 30, &o);
	expect_kept(&o, NSMALL, NSMALL);
	assert_true(o.st.lost && o.st.bytes_damaged == 30);
	free(g);
	free(sm.file);
}

/*
 * The recovery itself is crash-safe: journal.lost stays until a
 * compaction succeeds, and every open until then reports the loss again.
 */
static void
test_lost_marker(void **state)
{
	struct tdir		*t = *state;
	struct small		 sm;
	struct outcome		 o;
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;

	small_build(t, &sm);
	sm.file[sm.off[2] + 20] ^= 0x40;
	run_case(t, sm.file, sm.len, (long)sm.len, &o);
	assert_true(o.st.lost && o.lost_marker);

	/* Killed before it compacted: the damage is still there, and the
	 * marker says so even where the file alone would not. */
	set_marker(t, -1);
	j = jopen(t, &c);
	journal_get_stats(j, &s);
	assert_true(s.lost);
	assert_int_equal(c.n, NSMALL - 1);
	coll_free(&c);
	journal_close(j);
	set_marker(t, -1);
	spit(t->path, sm.file, sm.off[2]);	/* only good records left */
	j = jopen(t, &c);
	journal_get_stats(j, &s);
	assert_true(s.lost && s.bytes_damaged == 0);
	assert_non_null(strstr(s.damage, "not finished"));
	coll_free(&c);

	/* A failed compaction keeps the marker; a good one removes it. */
	assert_true(exists(t, "journal.lost"));
	assert_int_equal(journal_compact(j, sm.recs, 2), 0);
	assert_false(exists(t, "journal.lost"));
	journal_get_stats(j, &s);
	assert_false(s.lost);
	journal_close(j);
	j = jopen(t, &c);
	journal_get_stats(j, &s);
	assert_false(s.lost);
	assert_true(s.clean_start && s.bytes_dropped == 0);
	assert_int_equal(c.n, 2);
	coll_free(&c);
	journal_close(j);
	free(sm.file);
}

/* A marker that cannot be read assumes nothing: damage at the end is a
 * loss, as after a clean stop.  One that is a symlink is not followed,
 * and neither is a journal that is one. */
static void
test_marker_unreadable(void **state)
{
	struct tdir	*t = *state;
	struct journal	*j = NULL;
	struct small	 sm;
	struct outcome	 o;
	char		 p[160], err[256];

	small_build(t, &sm);
	run_case(t, sm.file, sm.len - 3, -1, &o);
	assert_false(o.st.lost);
	snprintf(p, sizeof(p), "%s/journal.clean", t->dir);
	spit(p, (const unsigned char *)"size 12\n", 8);
	spit(t->path, sm.file, sm.len - 3);
	j = jopen(t, NULL);
	journal_get_stats(j, &o.st);
	assert_true(o.st.lost && !o.st.clean_start);
	assert_non_null(strstr(o.st.damage, "unreadable"));
	journal_close(j);
	unlink(p);
	snprintf(p, sizeof(p), "%s/journal.lost", t->dir);
	unlink(p);

	snprintf(p, sizeof(p), "%s/journal.clean", t->dir);
	unlink(p);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	spit(t->path, sm.file, sm.len - 3);
	j = jopen(t, NULL);
	journal_get_stats(j, &o.st);
	assert_true(o.st.lost);
	assert_false(exists(t, "journal.clean"));
	journal_close(j);
	snprintf(p, sizeof(p), "%s/journal.lost", t->dir);
	unlink(p);

	/* The journal itself a symlink: refused, nothing written there. */
	unlink(t->path);
	snprintf(p, sizeof(p), "%s/elsewhere", t->dir);
	spit(p, (const unsigned char *)"x", 1);
	assert_int_equal(symlink(p, t->path), 0);
	j = NULL;
	assert_int_equal(journal_open(t->dir, NULL, NULL, &j, err,
	    sizeof(err)), -1);
	assert_null(j);
	assert_int_equal(fsize(p), 1);
	unlink(p);
	unlink(t->path);
	free(sm.file);
}

/* Files of the first release (12-byte headers, "S3IJ") are read, damage
 * in them too, and what is appended after them is in the new form. */
static size_t
legacy_rec(unsigned char *out, const char *key, uint64_t seq)
{
	size_t		 n = 0, kl = strlen(key);
	uint32_t	 crc;

	memcpy(out, "S3IJ", 4);
	out[12 + n++] = 1;			/* WRITE */
	memcpy(out + 12 + n, "\x01\0\0\0b", 5);	/* bucket "b" */
	n += 5;
	memcpy(out + 12 + n, "\x01\0\0\0", 4);	/* one key */
	n += 4;
	out[12 + n] = (unsigned char)kl;
	memset(out + 12 + n + 1, 0, 3);
	memcpy(out + 12 + n + 4, key, kl);
	n += 4 + kl;
	memcpy(out + 12 + n, &seq, 8);		/* little-endian host */
	n += 8;
	out[4] = (unsigned char)n;
	out[5] = out[6] = out[7] = 0;
	crc = crc32c(0, out + 12, n);
	out[8] = (unsigned char)crc;
	out[9] = (unsigned char)(crc >> 8);
	out[10] = (unsigned char)(crc >> 16);
	out[11] = (unsigned char)(crc >> 24);
	return 12 + n;
}

static void
test_legacy_format(void **state)
{
	struct tdir		*t = *state;
	static const char *const k[] = { "new" };
	unsigned char		 file[512];
	struct journal_rec	 r;
	struct journal_stats	 s;
	struct journal		*j;
	struct coll		 c;
	size_t			 len = 0, second;

	len += legacy_rec(file + len, "old1", 1);
	second = len;
	len += legacy_rec(file + len, "old2", 2);
	len += legacy_rec(file + len, "old3", 3);
	spit(t->path, file, len);
	j = jopen(t, &c);
	assert_int_equal(c.n, 3);
	str_eq(c.v[2].items[0], "old3");
	assert_true(journal_last_seq(j) == 3);
	coll_free(&c);
	r = wrec("b", k, 1);
	append_ok(j, &r);
	assert_true(r.seq == 4);
	journal_close(j);
	j = jopen(t, &c);
	assert_int_equal(c.n, 4);
	str_eq(c.v[3].items[0], "new");
	coll_free(&c);
	journal_close(j);

	/* A flipped byte in the second old record: the others are found. */
	file[second + 14] ^= 1;
	spit(t->path, file, len);
	set_marker(t, (long)len);
	j = jopen(t, &c);
	journal_get_stats(j, &s);
	assert_int_equal(c.n, 2);
	str_eq(c.v[1].items[0], "old3");
	assert_true(s.lost);
	coll_free(&c);
	journal_close(j);
}

/*
 * Keys of one WRITE whose encoding holds a whole, good COMPLETED record:
 * k1 ends with the magic, the next key's length field is its payload
 * length, k2 its two CRCs and type, k3's length field and k3 its batch id.
 * (A key holds no NUL, so a record can only be forged across fields.)
 */
static void
forge_keys(char *k1, char *k2, char *k3)
{
	unsigned char	 rec[16 + 9];
	uint32_t	 c;
	unsigned	 b, i;
	int		 zero;

	for (b = 0;; b++) {
		memcpy(rec, "S3I2\x09\0\0\0", 8);
		memcpy(rec + 16, "\x04\x04\0\0\0", 5);
		for (i = 0; i < 4; i++)
			rec[21 + i] = (unsigned char)('A' +
			    (b >> (i * 2)) % 26);
		c = crc32c(0, rec + 16, 9);
		for (i = 0; i < 4; i++)
			rec[8 + i] = (unsigned char)(c >> (i * 8));
		c = crc32c(0, rec, 12);
		for (i = 0; i < 4; i++)
			rec[12 + i] = (unsigned char)(c >> (i * 8));
		zero = 0;
		for (i = 8; i < 16; i++)
			zero |= rec[i] == 0;
		if (!zero)
			break;
	}
	strcpy(k1, "key-S3I2");
	memcpy(k2, rec + 8, 9);
	k2[9] = '\0';
	memcpy(k3, rec + 21, 4);
	k3[4] = '\0';
}

/* A damaged payload is skipped whole, by its checked length: the forged
 * record inside it is never replayed (nor is it when nothing is damaged:
 * replay goes record by record). */
static void
test_embedded_record(void **state)
{
	struct tdir		*t = *state;
	static const char *const after_k[] = { "z" };
	char			 k1[16], k2[16], k3[8];
	const char		*keys[3] = { k1, k2, k3 };
	struct journal_rec	 r;
	struct journal		*j;
	struct coll		 c;
	unsigned char		*file;
	size_t			 len;
	int			 flip;

	forge_keys(k1, k2, k3);
	j = jopen(t, NULL);
	r = wrec("outer", keys, 3);
	append_ok(j, &r);
	r = wrec("after", after_k, 1);
	append_ok(j, &r);
	journal_close(j);
	file = slurp(t->path, &len);
	for (flip = 0; flip < 2; flip++) {
		if (flip)
			file[16 + 3] ^= 0x10;	/* in "outer" */
		spit(t->path, file, len);
		set_marker(t, (long)len);
		j = jopen(t, &c);
		assert_int_equal(c.n, 2 - flip);
		assert_true(c.v[0].r.type == JOURNAL_WRITE);
		str_eq(c.v[c.n - 1].bucket, "after");
		coll_free(&c);
		journal_close(j);
	}
	free(file);
}

/* A checksummed record that does not parse is not damage: the open fails
 * and the file keeps every byte. */
static void
test_valid_crc_bad_payload(void **state)
{
	struct tdir	*t = *state;
	struct journal	*j = NULL;
	struct small	 sm;
	unsigned char	*file, rec[16 + 2];
	size_t		 len;
	char		 err[256];
	uint32_t	 crc;

	small_build(t, &sm);
	len = sm.len;
	file = realloc(sm.file, len + sizeof(rec));
	assert_non_null(file);
	memcpy(rec, "S3I2", 4);
	rec[4] = 2;
	rec[5] = rec[6] = rec[7] = 0;
	rec[16] = 42;			/* no such type */
	rec[17] = 0;
	crc = crc32c(0, rec + 16, 2);
	rec[8] = (unsigned char)crc;
	rec[9] = (unsigned char)(crc >> 8);
	rec[10] = (unsigned char)(crc >> 16);
	rec[11] = (unsigned char)(crc >> 24);
	crc = crc32c(0, rec, 12);
	rec[12] = (unsigned char)crc;
	rec[13] = (unsigned char)(crc >> 8);
	rec[14] = (unsigned char)(crc >> 16);
	rec[15] = (unsigned char)(crc >> 24);
	memcpy(file + len, rec, sizeof(rec));
	spit(t->path, file, len + sizeof(rec));
	set_marker(t, (long)(len + sizeof(rec)));
	assert_int_equal(journal_open(t->dir, NULL, NULL, &j, err,
	    sizeof(err)), -1);
	assert_null(j);
	print_message("# expected error: %s\n", err);
	assert_int_equal(fsize(t->path), len + sizeof(rec));
	assert_true(exists(t, "journal.clean"));
	assert_false(exists(t, "journal.lost"));
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
	struct rlimit		 rl, low;
	char			 tmp[160];
	int			 fd, e;

	j = jopen(t, NULL);
	r = wrec("bkt", k, 1);
	append_ok(j, &r);
	append_ok(j, &r);
	a = slurp(t->path, &alen);

	/* A file planted where the old fixed temporary name was is left
	 * alone (the temporary has a random name now). */
	snprintf(tmp, sizeof(tmp), "%s/journal.tmp", t->dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(journal_compact(j, NULL, 0), 0);
	assert_int_equal(rmdir(tmp), 0);
	journal_close(j);
	spit(t->path, a, alen);
	set_marker(t, (long)alen);
	j = jopen(t, NULL);

	/* No temporary can be created: no descriptor is left. */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	e = journal_compact(j, NULL, 0);
	errno = e == 0 ? 0 : errno;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(e, -1);
	b = slurp(t->path, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	journal_get_stats(j, &s);
	assert_true(s.compactions == 0);
	assert_true(s.errors == 1);

	/* The old file goes on working. */
	append_ok(j, &r);
	assert_true(r.seq == 3);
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

/* --- the async API -------------------------------------------------------- */

#define ASYNC_THREADS	4
#define ASYNC_PER	400

struct async_call {
	uint64_t	 seq;		/* given at submission */
	uint64_t	 told_seq;	/* given to the callback */
	int		 err;
	int		 calls;
	unsigned	 order;		/* the how-manieth callback */
};

struct async_run {
	struct journal		*j;
	struct async_call	 calls[ASYNC_THREADS][ASYNC_PER];
	struct async_call	 re[ASYNC_THREADS][ASYNC_PER / 50];
	pthread_t		 submitters[ASYNC_THREADS];
	pthread_t		 cb_thread;
	int			 cb_threads;	/* distinct threads seen */
	unsigned		 n_cb;
	uint64_t		 last_seq;
	int			 out_of_order;
	pthread_mutex_t		 mu;		/* for the count below */
	pthread_cond_t		 cv;
	unsigned		 told;
};

struct async_arg {
	struct async_run	*run;
	int			 t, i, re;
};

static struct async_arg	 async_args[ASYNC_THREADS][ASYNC_PER];
static struct async_arg	 async_re_args[ASYNC_THREADS][ASYNC_PER / 50];

/* On the commit thread only: no lock needed for run's fields, and the
 * test reads them after journal_close() joined it. */
static void
async_done(void *arg, uint64_t seq, int err)
{
	struct async_arg	*a = arg;
	struct async_run	*run = a->run;
	struct async_call	*c;
	struct journal_rec	 r;
	char			 key[32];
	const char		*k[1] = { key };

	c = a->re ? &run->re[a->t][a->i] : &run->calls[a->t][a->i];
	c->calls++;
	c->told_seq = seq;
	c->err = err;
	c->order = run->n_cb++;
	if (run->n_cb == 1)
		run->cb_thread = pthread_self();
	else if (!pthread_equal(run->cb_thread, pthread_self()))
		run->cb_threads++;
	if (seq <= run->last_seq)
		run->out_of_order++;
	run->last_seq = seq;
	/* From the callback: queue another (must not deadlock). */
	if (!a->re && a->i % 50 == 0) {
		snprintf(key, sizeof(key), "re/%d/%d", a->t, a->i);
		r = wrec("bkt", k, 1);
		if (journal_append_async(run->j, &r, async_done,
		    &async_re_args[a->t][a->i / 50]) == -1)
			run->out_of_order += 1000;
		run->re[a->t][a->i / 50].seq = r.seq;
	}
	pthread_mutex_lock(&run->mu);
	run->told++;
	pthread_cond_signal(&run->cv);
	pthread_mutex_unlock(&run->mu);
}

static void *
async_submitter(void *arg)
{
	struct async_arg	*base = arg;
	struct async_run	*run = base->run;
	struct journal_rec	 r;
	char			 key[32];
	const char		*k[1] = { key };
	int			 i, t = base->t;

	for (i = 0; i < ASYNC_PER; i++) {
		snprintf(key, sizeof(key), "t%d/%d", t, i);
		r = wrec("bkt", k, 1);
		if (journal_append_async(run->j, &r, async_done,
		    &async_args[t][i]) == -1)
			return (void *)1;
		/* The seq is known at once, before the record is durable. */
		run->calls[t][i].seq = r.seq;
	}
	return NULL;
}

static void
test_async_concurrent(void **state)
{
	struct tdir		*t = *state;
	struct async_run	*run;
	struct journal_stats	 s;
	struct coll		 c;
	struct journal_rec	 bad;
	uint64_t		 total = ASYNC_THREADS * (ASYNC_PER +
				    ASYNC_PER / 50);
	size_t			 i;
	int			 th, k;
	void			*rv;

	run = calloc(1, sizeof(*run));
	assert_non_null(run);
	pthread_mutex_init(&run->mu, NULL);
	pthread_cond_init(&run->cv, NULL);
	run->j = jopen(t, NULL);
	for (th = 0; th < ASYNC_THREADS; th++)
		for (k = 0; k < ASYNC_PER; k++) {
			async_args[th][k] = (struct async_arg){ run, th, k, 0 };
			if (k % 50 == 0)
				async_re_args[th][k / 50] =
				    (struct async_arg){ run, th, k / 50, 1 };
		}
	/* Refused at once: the callback is never called. */
	bad = wrec(NULL, NULL, 0);
	assert_int_equal(journal_append_async(run->j, &bad, async_done,
	    &async_args[0][0]), -1);
	assert_int_equal(errno, EINVAL);
	for (th = 0; th < ASYNC_THREADS; th++)
		assert_int_equal(pthread_create(&run->submitters[th], NULL,
		    async_submitter, &async_args[th][0]), 0);
	for (th = 0; th < ASYNC_THREADS; th++) {
		assert_int_equal(pthread_join(run->submitters[th], &rv), 0);
		assert_null(rv);
	}
	/* Half the callers are told before close, half by it: close
	 * writes what is queued and tells every caller first. */
	pthread_mutex_lock(&run->mu);
	while (run->told < total / 2)
		pthread_cond_wait(&run->cv, &run->mu);
	pthread_mutex_unlock(&run->mu);
	journal_close(run->j);
	assert_int_equal(run->told, total);

	assert_int_equal(run->n_cb, total);
	assert_int_equal(run->out_of_order, 0);
	assert_int_equal(run->cb_threads, 0);
	for (th = 0; th < ASYNC_THREADS; th++) {
		assert_false(pthread_equal(run->cb_thread,
		    run->submitters[th]));
		for (k = 0; k < ASYNC_PER; k++) {
			assert_int_equal(run->calls[th][k].calls, 1);
			assert_int_equal(run->calls[th][k].err, 0);
			assert_true(run->calls[th][k].seq ==
			    run->calls[th][k].told_seq);
		}
		for (k = 0; k < ASYNC_PER / 50; k++) {
			assert_int_equal(run->re[th][k].calls, 1);
			assert_true(run->re[th][k].seq ==
			    run->re[th][k].told_seq);
			/* After the one whose callback queued it. */
			assert_true(run->re[th][k].order >
			    run->calls[th][k * 50].order);
		}
	}

	/* Replay: every record, seq order is file order. */
	run->j = jopen(t, &c);
	assert_int_equal(c.n, total);
	for (i = 0; i < c.n; i++)
		assert_true(c.v[i].r.seq == i + 1);
	journal_get_stats(run->j, &s);
	assert_true(s.bytes_dropped == 0 && !s.lost);
	coll_free(&c);

	/* Group commit: many records a sync. */
	run->n_cb = run->told = 0;
	run->last_seq = 0;
	memset(run->calls, 0, sizeof(run->calls));
	memset(run->re, 0, sizeof(run->re));
	for (th = 0; th < ASYNC_THREADS; th++)
		assert_int_equal(pthread_create(&run->submitters[th], NULL,
		    async_submitter, &async_args[th][0]), 0);
	for (th = 0; th < ASYNC_THREADS; th++)
		assert_int_equal(pthread_join(run->submitters[th], &rv), 0);
	pthread_mutex_lock(&run->mu);
	while (run->told < total)
		pthread_cond_wait(&run->cv, &run->mu);
	pthread_mutex_unlock(&run->mu);
	journal_get_stats(run->j, &s);
	print_message("# async: %llu records from %d threads, %llu fdatasync\n",
	    (unsigned long long)total, ASYNC_THREADS,
	    (unsigned long long)s.syncs);
	assert_true(s.appends == total && s.syncs < total / 4);
	journal_close(run->j);
	pthread_cond_destroy(&run->cv);
	pthread_mutex_destroy(&run->mu);
	free(run);
}

/* In the child: async appends into a full file each fail with EFBIG,
 * exactly once each; then they work again. */
struct efbig {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 calls, fails, last_err;
};

static void
efbig_done(void *arg, uint64_t seq, int err)
{
	struct efbig	*e = arg;

	(void)seq;
	pthread_mutex_lock(&e->mu);
	e->calls++;
	if (err != 0) {
		e->fails++;
		e->last_err = err;
	}
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static int
child_async_fsize(const char *dir, const char *path)
{
	static const char *const k[] = { "k" };
	struct journal_rec	 r;
	struct journal_stats	 s;
	struct journal		*j = NULL;
	struct rlimit		 rl, low;
	struct efbig		 e;
	char			 err[256];
	int			 i;

	(void)path;
	signal(SIGXFSZ, SIG_IGN);
	memset(&e, 0, sizeof(e));
	pthread_mutex_init(&e.mu, NULL);
	pthread_cond_init(&e.cv, NULL);
	if (getrlimit(RLIMIT_FSIZE, &rl) == -1 ||
	    journal_open(dir, NULL, NULL, &j, err, sizeof(err)) == -1)
		return 2;
	journal_get_stats(j, &s);
	low = rl;
	low.rlim_cur = (rlim_t)s.size;
	if (setrlimit(RLIMIT_FSIZE, &low) == -1)
		return 3;
	r = wrec("bkt", k, 1);
	for (i = 0; i < 20; i++)
		if (journal_append_async(j, &r, efbig_done, &e) == -1)
			return 4;
	pthread_mutex_lock(&e.mu);
	while (e.calls < 20)
		pthread_cond_wait(&e.cv, &e.mu);
	pthread_mutex_unlock(&e.mu);
	if (e.fails != 20 || e.last_err != EFBIG)
		return 5;
	journal_get_stats(j, &s);
	if (!s.failing)
		return 6;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 7;
	if (journal_append_async(j, &r, efbig_done, &e) == -1)
		return 8;
	journal_close(j);		/* waits for it */
	if (e.calls != 21 || e.fails != 20)
		return 9;
	return 0;
}

/* Run fn(dir, path) in a child (limits set there stay there); each of
 * its steps that goes wrong exits with its own code. */
static void
in_child(struct tdir *t, int (*fn)(const char *, const char *))
{
	pid_t	 pid;
	int	 status = 0;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(fn(t->dir, t->path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_async_errors(void **state)
{
	struct tdir	*t = *state;
	struct journal	*j;
	struct coll	 c;

	in_child(t, child_async_fsize);
	j = jopen(t, &c);
	assert_int_equal(c.n, 1);	/* only the one after the limit */
	assert_true(c.v[0].r.seq == 21);	/* failed seqs are spent */
	coll_free(&c);
	journal_close(j);
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
	if (s.errors != 2 || s.appends != 3 || !s.failing)
		return 11;
	/* A probe fails the same way and changes nothing. */
	if (journal_probe(j) != -1 || errno != EFBIG)
		return 20;
	journal_get_stats(j, &s);
	if (!s.failing || stat(path, &sb) == -1 ||
	    (uint64_t)sb.st_size != s.size)
		return 21;
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

	/* Space returns: a probe says so, and appends work again, on the
	 * same journal. */
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 15;
	if (journal_probe(j) == -1)
		return 22;
	journal_get_stats(j, &s);
	if (s.failing)
		return 23;
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

	in_child(t, child_fsize);

	/* The three first records, those of the groups that succeeded,
	 * then the two after the limit was lifted (the probe record is not
	 * one the caller sees). */
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
		cmocka_unit_test_setup_teardown(test_flip_every_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncate_every_offset,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_appended, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lost_marker, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_marker_unreadable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_legacy_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_embedded_record, setup,
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
		cmocka_unit_test_setup_teardown(test_async_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_async_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parse_fuzz, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
