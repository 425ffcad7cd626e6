/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_journal: libFuzzer target for the journal's readers
 * (src/journal_codec.c, src/journal_replay.c): journal_parse_payload()
 * and the replay that journal_open() does of a file left by an earlier
 * run (or by a crash, a bad disk, another version).
 *
 * The first input byte says what the rest is.  Its two low bits:
 *   0  one record payload, to journal_parse_payload();
 *   1  a journal file, written as is to <tmp>/journal;
 *   2  the same, with each record's two CRC-32C recomputed by this target
 *      (so the payload parser is reached through replay, not stopped by
 *      the checksums);
 *   3  the same, magic "S3I2" rewritten too.
 * For a file, bit 2 set means a clean stop left its marker (journal.clean)
 * recording the file's size plus (byte >> 3) - 16: the file is then as
 * long as recorded, shorter (cut) or longer (garbage after the stop).
 *
 * A file goes into a fresh folder under $TMPDIR, made and removed for each
 * input (nothing is left behind, even by a crash of the next input), and
 * is opened with journal_open().  When that fails, the file is as it was.
 * When it succeeds: the clean-stop marker is gone; journal.lost exists
 * exactly when the open reports a loss; without a loss the kept size plus
 * what was dropped is the file's size.  Then one WRITE is appended and the
 * journal reopened, which must replay everything again plus that record
 * (and report the same loss, the damage being still there); then
 * journal_compact() with every replayed record, and a reopen that must
 * replay exactly those records, with no loss left and sequence numbers
 * that never go back.  Every replayed record's strings are read in full.
 *
 * Deterministic: no clock, no network; the one thread besides the
 * fuzzer's is the journal's commit thread, joined at each close.
 */
#include "config.h"

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "journal.h"

#define MAX_KEPT	512	/* replayed records kept for compaction */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A deep copy of a replayed record. */
struct kept {
	struct journal_rec	 rec;
	char			*bucket;
	char			*distribution;
	char			*caller_reference;
	char			*invalidation_id;
	char			**items;
};

struct replay {
	struct kept	 k[MAX_KEPT];
	size_t		 n;		/* kept */
	uint64_t	 seen;		/* replayed */
	uint64_t	 max_seq;
};

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_journal: broken promise: %s\n", what);
		abort();
	}
}

static char *
copy_str(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	must(d != NULL, "strdup");
	return d;
}

static void
check_rec(const struct journal_rec *r)
{
	size_t	 i;

	must(r->type == JOURNAL_WRITE || r->type == JOURNAL_BATCH ||
	    r->type == JOURNAL_ACCEPTED || r->type == JOURNAL_COMPLETED,
	    "a known record type");
	must(r->n_items <= JOURNAL_MAX_ITEMS, "items within the limit");
	must(r->n_items == 0 || r->items != NULL, "items are there");
	for (i = 0; i < r->n_items; i++)
		must(strlen(r->items[i]) <= JOURNAL_MAX_STR, "item length");
	switch (r->type) {
	case JOURNAL_WRITE:
		must(r->bucket != NULL && strlen(r->bucket) <= JOURNAL_MAX_STR,
		    "WRITE has a bucket");
		break;
	case JOURNAL_BATCH:
		must(r->distribution != NULL && r->caller_reference != NULL,
		    "BATCH has its strings");
		must(strlen(r->distribution) + strlen(r->caller_reference) <=
		    2 * JOURNAL_MAX_STR, "BATCH string lengths");
		break;
	case JOURNAL_ACCEPTED:
		must(r->invalidation_id != NULL &&
		    strlen(r->invalidation_id) <= JOURNAL_MAX_STR,
		    "ACCEPTED has an id");
		break;
	default:
		break;
	}
}

static int
on_rec(void *arg, const struct journal_rec *r)
{
	struct replay	*rp = arg;
	struct kept	*k;
	size_t		 i;

	check_rec(r);
	rp->seen++;
	if (r->type == JOURNAL_WRITE && r->seq > rp->max_seq)
		rp->max_seq = r->seq;
	if (rp->n == MAX_KEPT)
		return 0;
	k = &rp->k[rp->n++];
	memset(k, 0, sizeof(*k));
	k->rec = *r;
	k->bucket = copy_str(r->bucket);
	k->distribution = copy_str(r->distribution);
	k->caller_reference = copy_str(r->caller_reference);
	k->invalidation_id = copy_str(r->invalidation_id);
	if (r->n_items > 0) {
		k->items = calloc(r->n_items, sizeof(*k->items));
		must(k->items != NULL, "calloc");
		for (i = 0; i < r->n_items; i++)
			k->items[i] = copy_str(r->items[i]);
	}
	k->rec.bucket = k->bucket;
	k->rec.distribution = k->distribution;
	k->rec.caller_reference = k->caller_reference;
	k->rec.invalidation_id = k->invalidation_id;
	k->rec.items = (const char *const *)k->items;
	return 0;
}

static void
replay_free(struct replay *rp)
{
	size_t	 i, j;

	for (i = 0; i < rp->n; i++) {
		for (j = 0; j < rp->k[i].rec.n_items; j++)
			free(rp->k[i].items[j]);
		free(rp->k[i].items);
		free(rp->k[i].bucket);
		free(rp->k[i].distribution);
		free(rp->k[i].caller_reference);
		free(rp->k[i].invalidation_id);
	}
	rp->n = 0;
	rp->seen = 0;
	rp->max_seq = 0;
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b || (a == NULL ? *b == '\0' : *a == '\0');
	return strcmp(a, b) == 0;
}

static void
same_rec(const struct journal_rec *a, const struct journal_rec *b)
{
	size_t	 i;

	must(a->type == b->type, "compaction keeps the type");
	must(a->n_items == b->n_items, "compaction keeps the items");
	for (i = 0; i < a->n_items; i++)
		must(strcmp(a->items[i], b->items[i]) == 0,
		    "compaction keeps each item");
	switch (a->type) {
	case JOURNAL_WRITE:
		must(a->seq == b->seq && str_eq(a->bucket, b->bucket),
		    "compaction keeps a WRITE");
		break;
	case JOURNAL_BATCH:
		must(a->batch_id == b->batch_id &&
		    a->upto_seq == b->upto_seq &&
		    str_eq(a->distribution, b->distribution) &&
		    str_eq(a->caller_reference, b->caller_reference),
		    "compaction keeps a BATCH");
		break;
	case JOURNAL_ACCEPTED:
		must(a->batch_id == b->batch_id &&
		    str_eq(a->invalidation_id, b->invalidation_id),
		    "compaction keeps an ACCEPTED");
		break;
	case JOURNAL_COMPLETED:
		must(a->batch_id == b->batch_id,
		    "compaction keeps a COMPLETED");
		break;
	}
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Recompute each record's CRCs (and magic) so that replay reaches the
 * payload parser. */
static void
fix(unsigned char *p, size_t len, int magic)
{
	size_t		 off = 0;
	uint32_t	 plen;

	while (len - off >= 16) {
		if (magic)
			memcpy(p + off, "S3I2", 4);
		plen = (uint32_t)p[off + 4] | (uint32_t)p[off + 5] << 8 |
		    (uint32_t)p[off + 6] << 16 | (uint32_t)p[off + 7] << 24;
		if (plen > len - off - 16)
			break;
		put32(p + off + 8, crc32c(0, p + off + 16, plen));
		put32(p + off + 12, crc32c(0, p + off, 12));
		off += 16 + plen;
	}
}

static int
exists(const char *dir, const char *name)
{
	char	 p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void
payload(const uint8_t *data, size_t size)
{
	struct journal_rec	 r;
	struct journal_store	*st = NULL;

	if (journal_parse_payload(data, size, &r, &st) == 0) {
		must(st != NULL, "a parsed record has its store");
		check_rec(&r);
	} else
		must(st == NULL, "no store after a failure");
	journal_store_free(st);
}

static void
file(const char *dir, const uint8_t *data, size_t size, unsigned mode)
{
	static struct replay	 a, b;
	struct journal		*j = NULL;
	struct journal_stats	 st, st2;
	struct journal_rec	 w, *recs = NULL;
	const char		*keys[] = { "fuzz/index.html" };
	char			 path[4200], err[512], text[96];
	unsigned char		*copy;
	uint64_t		 last, fsize;
	long			 marker;
	size_t			 i;
	FILE			*f;

	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	copy = malloc(size + 1);
	must(copy != NULL, "malloc");
	memcpy(copy, data, size);
	if ((mode & 3) >= 2)
		fix(copy, size, (mode & 3) == 3);
	f = fopen(path, "w");
	must(f != NULL && fwrite(copy, 1, size, f) == size &&
	    fclose(f) == 0, "the journal file can be written");
	free(copy);
	fsize = size;
	if (mode & 4) {
		marker = (long)size + (long)(mode >> 3) - 16;
		snprintf(text, sizeof(text), "s3inval journal clean stop\n"
		    "size %ld\n", marker < 0 ? 0 : marker);
		snprintf(err, sizeof(err), "%s/" JOURNAL_CLEAN, dir);
		f = fopen(err, "w");
		must(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0,
		    "the marker can be written");
	}

	/* 1. Replay what was there. */
	if (journal_open(dir, on_rec, &a, &j, err, sizeof(err)) == -1) {
		must(j == NULL && err[0] != '\0', "a failed open says why");
		f = fopen(path, "r");
		must(f != NULL && fseek(f, 0, SEEK_END) == 0 &&
		    (uint64_t)ftell(f) == fsize, "a failed open cuts nothing");
		fclose(f);
		must(!exists(dir, JOURNAL_LOST), "a failed open records "
		    "nothing");
		goto out;
	}
	journal_get_stats(j, &st);
	must(st.records_replayed == a.seen, "every record counted");
	must(!exists(dir, JOURNAL_CLEAN), "the marker is read once");
	must(st.lost == exists(dir, JOURNAL_LOST), "a loss is recorded");
	must(st.size <= fsize && st.bytes_dropped <= fsize,
	    "kept and dropped within the file");
	if (!st.lost)
		must(st.bytes_dropped + st.size == fsize,
		    "without a loss, dropped plus kept is the file");
	must((st.bytes_dropped == 0 && st.bytes_damaged == 0) ||
	    st.damage[0] != '\0', "damage is described");
	last = journal_last_seq(j);
	must(last >= a.max_seq, "last_seq covers every WRITE");

	/* 2. Append after the good part, and find it on reopening. */
	memset(&w, 0, sizeof(w));
	w.type = JOURNAL_WRITE;
	w.bucket = "blog";
	w.items = keys;
	w.n_items = 1;
	if (last == UINT64_MAX) {
		/* No greater seq exists: the append must be refused, not
		 * wrap to 0 (which an earlier batch would seem to cover). */
		must(journal_append(j, &w) == -1 && errno == EOVERFLOW,
		    "no append past the last sequence number");
		goto out;
	}
	must(journal_append(j, &w) == 0, "append after replay");
	must(w.seq > last, "a new seq is greater than any before");
	journal_close(j);
	j = NULL;
	must(journal_open(dir, on_rec, &b, &j, err, sizeof(err)) == 0,
	    "the journal reopens after an append");
	journal_get_stats(j, &st2);
	must(st2.clean_start, "a clean stop leaves its marker");
	must(st2.lost == st.lost, "a loss is reported until compacted");
	if (!st.lost)
		must(st2.bytes_dropped == 0,
		    "nothing dropped after a clean append");
	must(b.seen == a.seen + 1, "the same records and the appended one");
	if (b.n <= MAX_KEPT && b.n == b.seen) {
		must(b.k[b.n - 1].rec.type == JOURNAL_WRITE &&
		    b.k[b.n - 1].rec.seq == w.seq &&
		    strcmp(b.k[b.n - 1].rec.bucket, "blog") == 0,
		    "the appended record comes back last");
	}
	last = journal_last_seq(j);
	must(last >= w.seq, "last_seq after reopening");

	/* 3. Compact to what was replayed, reopen, compare. */
	recs = calloc(b.n + 1, sizeof(*recs));
	must(recs != NULL, "calloc");
	for (i = 0; i < b.n; i++)
		recs[i] = b.k[i].rec;
	must(journal_compact(j, recs, b.n) == 0,
	    "replayed records can be compacted");
	must(!exists(dir, JOURNAL_LOST), "a compaction ends a recovery");
	journal_close(j);
	j = NULL;
	replay_free(&a);
	must(journal_open(dir, on_rec, &a, &j, err, sizeof(err)) == 0,
	    "the journal reopens after compaction");
	journal_get_stats(j, &st2);
	must(!st2.lost && st2.bytes_dropped == 0 && st2.clean_start,
	    "a compacted journal is whole");
	must(a.seen == b.n, "compaction keeps every record given");
	for (i = 0; i < a.n && i < b.n; i++)
		same_rec(&a.k[i].rec, &b.k[i].rec);
	must(journal_last_seq(j) >= last, "seq never goes back");
out:
	journal_close(j);
	free(recs);
	replay_free(&a);
	replay_free(&b);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" JOURNAL_CLEAN, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" JOURNAL_LOST, dir);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*tmp;
	char		 dir[4096], p[4200];

	if (size < 1)
		return 0;
	if (data[0] % 4 == 0) {
		payload(data + 1, size - 1);
		return 0;
	}
	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fuzz_journal.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	must(mkdtemp(dir) != NULL, "mkdtemp in $TMPDIR");
	file(dir, data + 1, size - 1, data[0]);
	/* Whatever the journal may have left. */
	snprintf(p, sizeof(p), "%s/journal.tmp", dir);
	unlink(p);
	must(rmdir(dir) == 0, "the temporary folder is left empty");
	return 0;
}
