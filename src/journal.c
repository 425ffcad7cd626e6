/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the append-only, group-committed record of what must still be
 * invalidated; see journal.h and DESIGN §4.  This file owns the on-disk
 * format, replay, the group commit and compaction.  It does not know what
 * a record means: the worker decides what is pending.
 *
 * Record: "S3IJ", u32 payload length, u32 CRC-32C of the payload, then the
 * payload; integers are little-endian.  Payload, type byte first:
 *
 *   WRITE      u8 1, str bucket, u32 n, n x str key, u64 seq
 *   BATCH      u8 2, u64 batch_id, str distribution, str caller_reference,
 *              u64 upto_seq, u32 n, n x str path
 *   ACCEPTED   u8 3, u64 batch_id, str invalidation_id
 *   COMPLETED  u8 4, u64 batch_id
 *   SEQ        u8 0x80, u64 last_seq (internal, never shown to callers)
 *
 * where str is a u32 length and that many bytes, no NUL among them.  The
 * seq of a WRITE comes last so that the CRC of everything before it can be
 * computed outside the lock; only 8 bytes are hashed under it.  A payload
 * must be consumed exactly: trailing bytes make it malformed.
 *
 * SEQ heads every compacted file.  Without it, compacting away the last
 * WRITE records and restarting would hand out sequence numbers again that
 * a kept BATCH (upto_seq) already claims to cover.
 *
 * Replay distinguishes damage from disagreement.  A torn or corrupt record
 * (bad magic, impossible length, CRC mismatch) is what a crash or a bad
 * sector leaves: it and everything after it are dropped.  A record whose
 * CRC is right but whose payload does not parse was written by another
 * version or a bug: the open fails and the file is left alone, because
 * truncating there could throw away acknowledged writes.  A read error
 * also fails the open without truncating.
 *
 * Group commit: appenders queue their encoded record in pend and their
 * struct waiter on a list, under mu.  When no I/O is in flight (busy == 0)
 * one of them leads: it takes the whole queue, drops mu, does one pwrite
 * at the end of the good data and one fdatasync, re-takes mu, tells every
 * waiter of that group its result and broadcasts.  A failed group is
 * truncated away again.  Appenders queued meanwhile wait for the next
 * leader, which is one of them.  journal_compact() claims busy too, so
 * appends queue behind it.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crc.h"
#include "journal.h"

#define JOURNAL_TMP		"journal.tmp"
#define HDR_SIZE		12
#define TYPE_SEQ		0x80

/* The largest payload the encoder can produce (a BATCH at the limits);
 * anything longer is damage, not a record. */
#define MAX_PAYLOAD	(1 + 8 + 2 * (4 + (uint64_t)JOURNAL_MAX_STR) + 8 + \
	4 + (uint64_t)JOURNAL_MAX_ITEMS * (4 + JOURNAL_MAX_STR))

/* Keep at most this much idle queue memory after a large group. */
#define SPARE_KEEP		(1024 * 1024)

static const unsigned char magic[4] = { 'S', '3', 'I', 'J' };

struct bytes {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

/* One appender waiting for its group; lives on the appender's stack. */
struct waiter {
	struct waiter	*next;
	int		 done;
	int		 err;		/* 0, or errno of the failed group */
};

struct journal {
	/* Set by journal_open, then read only (fd: see busy). */
	int		 dirfd;

	/* Shared, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a group finished, busy cleared */
	int		 fd;		/* switched by compaction, under busy */
	int		 busy;		/* a leader or a compaction owns fd */
	int		 compact_wait;	/* compactions waiting for busy */
	int		 dir_dirty;	/* fsync dirfd before the next ack */
	uint64_t	 size;		/* end of the last durable record */
	uint64_t	 last_seq;
	struct bytes	 pend;		/* encoded records of the next group */
	struct bytes	 spare;		/* the previous group's, emptied */
	struct waiter	*waiters;	/* the next group's appenders */
	struct journal_stats st;
};

/* Parsed strings and the item array, in one allocation. */
struct journal_store {
	char		*chars;
	size_t		 used;
	const char	*items[];
};

/* --- encoding ---------------------------------------------------------- */

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void
enc_u8(struct buf *b, unsigned int v)
{
	buf_putc(b, (char)(unsigned char)v);
}

static void
enc_u32(struct buf *b, uint32_t v)
{
	unsigned char	 x[4];

	put_le32(x, v);
	buf_append(b, x, sizeof(x));
}

static void
enc_u64(struct buf *b, uint64_t v)
{
	unsigned char	 x[8];

	put_le64(x, v);
	buf_append(b, x, sizeof(x));
}

static void
enc_str(struct buf *b, const char *s)
{
	size_t	 n = strlen(s);

	enc_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

static int
str_ok(const char *s)
{
	return s != NULL && strnlen(s, JOURNAL_MAX_STR + 1) <= JOURNAL_MAX_STR;
}

static int
items_ok(const struct journal_rec *rec)
{
	size_t	 i;

	if (rec->n_items > JOURNAL_MAX_ITEMS)
		return 0;
	if (rec->n_items > 0 && rec->items == NULL)
		return 0;
	for (i = 0; i < rec->n_items; i++)
		if (!str_ok(rec->items[i]))
			return 0;
	return 1;
}

static int
rec_ok(const struct journal_rec *rec)
{
	switch (rec->type) {
	case JOURNAL_WRITE:
		return str_ok(rec->bucket) && items_ok(rec);
	case JOURNAL_BATCH:
		return str_ok(rec->distribution) &&
		    str_ok(rec->caller_reference) && items_ok(rec);
	case JOURNAL_ACCEPTED:
		return str_ok(rec->invalidation_id);
	case JOURNAL_COMPLETED:
		return 1;
	}
	return 0;
}

/*
 * Append header and payload of rec to b, the CRC field left 0.  For a
 * WRITE, *crc is the CRC-32C of the payload without its last 8 bytes (the
 * seq), which the caller fills in; otherwise it is the payload's CRC and
 * the header is complete.  Returns 0, or -1 with errno set.
 */
static int
encode(struct buf *b, const struct journal_rec *rec, uint32_t *crc)
{
	size_t	 start = b->len, plen, i;

	if (!rec_ok(rec)) {
		errno = EINVAL;
		return -1;
	}
	buf_append(b, magic, sizeof(magic));
	enc_u32(b, 0);
	enc_u32(b, 0);
	enc_u8(b, (unsigned int)rec->type);
	switch (rec->type) {
	case JOURNAL_WRITE:
		enc_str(b, rec->bucket);
		enc_u32(b, (uint32_t)rec->n_items);
		for (i = 0; i < rec->n_items; i++)
			enc_str(b, rec->items[i]);
		enc_u64(b, rec->seq);
		break;
	case JOURNAL_BATCH:
		enc_u64(b, rec->batch_id);
		enc_str(b, rec->distribution);
		enc_str(b, rec->caller_reference);
		enc_u64(b, rec->upto_seq);
		enc_u32(b, (uint32_t)rec->n_items);
		for (i = 0; i < rec->n_items; i++)
			enc_str(b, rec->items[i]);
		break;
	case JOURNAL_ACCEPTED:
		enc_u64(b, rec->batch_id);
		enc_str(b, rec->invalidation_id);
		break;
	case JOURNAL_COMPLETED:
		enc_u64(b, rec->batch_id);
		break;
	}
	if (!buf_ok(b)) {
		errno = ENOMEM;
		return -1;
	}
	plen = b->len - start - HDR_SIZE;
	assert(plen <= MAX_PAYLOAD);
	put_le32((unsigned char *)b->data + start + 4, (uint32_t)plen);
	if (rec->type == JOURNAL_WRITE) {
		*crc = crc32c(0, b->data + start + HDR_SIZE, plen - 8);
	} else {
		*crc = crc32c(0, b->data + start + HDR_SIZE, plen);
		put_le32((unsigned char *)b->data + start + 8, *crc);
	}
	return 0;
}

/* Complete a WRITE record encoded last in b (at start) with its seq. */
static void
seal_write(struct buf *b, size_t start, uint32_t crc, uint64_t seq)
{
	unsigned char	*p = (unsigned char *)b->data;

	put_le64(p + b->len - 8, seq);
	put_le32(p + start + 8, crc32c(crc, p + b->len - 8, 8));
}

static int
encode_full(struct buf *b, const struct journal_rec *rec)
{
	size_t		 start = b->len;
	uint32_t	 crc;

	if (encode(b, rec, &crc) == -1)
		return -1;
	if (rec->type == JOURNAL_WRITE)
		seal_write(b, start, crc, rec->seq);
	return 0;
}

static int
encode_seq(struct buf *b, uint64_t last_seq)
{
	size_t		 start = b->len;
	uint32_t	 crc;

	buf_append(b, magic, sizeof(magic));
	enc_u32(b, 9);
	enc_u32(b, 0);
	enc_u8(b, TYPE_SEQ);
	enc_u64(b, last_seq);
	if (!buf_ok(b)) {
		errno = ENOMEM;
		return -1;
	}
	crc = crc32c(0, b->data + start + HDR_SIZE, 9);
	put_le32((unsigned char *)b->data + start + 8, crc);
	return 0;
}

/* --- decoding ---------------------------------------------------------- */

/*
 * A bounds-checked cursor.  After the first short read, bad is set and
 * every read returns zeros, so the decoder checks once per field group.
 * With st NULL, strings are only measured (need, n_items); otherwise they
 * are copied into st.
 */
struct reader {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	int			 bad;
	struct journal_store	*st;
	size_t			 need;		/* bytes of copied strings */
};

static const unsigned char *
rd(struct reader *r, size_t n)
{
	const unsigned char	*p;

	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static unsigned int
rd_u8(struct reader *r)
{
	const unsigned char	*p = rd(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint32_t
rd_u32(struct reader *r)
{
	const unsigned char	*p = rd(r, 4);

	return p != NULL ? get_le32(p) : 0;
}

static uint64_t
rd_u64(struct reader *r)
{
	const unsigned char	*p = rd(r, 8);

	return p != NULL ? get_le64(p) : 0;
}

static const char *
rd_str(struct reader *r)
{
	const unsigned char	*p;
	uint32_t		 n;
	char			*s;

	n = rd_u32(r);
	if (n > JOURNAL_MAX_STR) {
		r->bad = 1;
		return "";
	}
	p = rd(r, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		r->bad = 1;
		return "";
	}
	if (r->st == NULL) {
		r->need += (size_t)n + 1;
		return "";
	}
	s = r->st->chars + r->st->used;
	memcpy(s, p, n);
	s[n] = '\0';
	r->st->used += (size_t)n + 1;
	return s;
}

static void
rd_items(struct reader *r, struct journal_rec *rec)
{
	uint32_t	 n, i;
	const char	*s;

	n = rd_u32(r);
	/* Each item takes at least its 4-byte length: this bounds the
	 * allocation by the payload before anything is allocated. */
	if (n > JOURNAL_MAX_ITEMS || n > (r->len - r->off) / 4) {
		r->bad = 1;
		return;
	}
	rec->n_items = n;
	for (i = 0; i < n && !r->bad; i++) {
		s = rd_str(r);
		if (r->st != NULL)
			r->st->items[i] = s;
	}
	if (r->st != NULL)
		rec->items = r->st->items;
}

/*
 * Decode one payload into rec (zeroed first).  For the internal SEQ
 * record, *seq_only is set to 1 and rec->seq holds its value.  Returns 0
 * or -1 when malformed.
 */
static int
decode(struct reader *r, struct journal_rec *rec, int *seq_only)
{
	unsigned int	 type;

	memset(rec, 0, sizeof(*rec));
	*seq_only = 0;
	type = rd_u8(r);
	switch (type) {
	case JOURNAL_WRITE:
		rec->type = JOURNAL_WRITE;
		rec->bucket = rd_str(r);
		rd_items(r, rec);
		rec->seq = rd_u64(r);
		break;
	case JOURNAL_BATCH:
		rec->type = JOURNAL_BATCH;
		rec->batch_id = rd_u64(r);
		rec->distribution = rd_str(r);
		rec->caller_reference = rd_str(r);
		rec->upto_seq = rd_u64(r);
		rd_items(r, rec);
		break;
	case JOURNAL_ACCEPTED:
		rec->type = JOURNAL_ACCEPTED;
		rec->batch_id = rd_u64(r);
		rec->invalidation_id = rd_str(r);
		break;
	case JOURNAL_COMPLETED:
		rec->type = JOURNAL_COMPLETED;
		rec->batch_id = rd_u64(r);
		break;
	case TYPE_SEQ:
		*seq_only = 1;
		rec->seq = rd_u64(r);
		break;
	default:
		return -1;
	}
	if (r->bad || r->off != r->len)
		return -1;
	return 0;
}

/* Decode in two passes: measure, allocate exactly, copy. */
static int
parse(const unsigned char *p, size_t len, struct journal_rec *rec,
    struct journal_store **store, int *seq_only)
{
	struct reader		 r;
	struct journal_store	*st;

	*store = NULL;
	memset(&r, 0, sizeof(r));
	r.p = p;
	r.len = len;
	if (decode(&r, rec, seq_only) == -1)
		return -1;
	st = malloc(sizeof(*st) + rec->n_items * sizeof(st->items[0]) +
	    r.need);
	if (st == NULL)
		return -1;
	st->chars = (char *)&st->items[rec->n_items];
	st->used = 0;
	memset(&r, 0, sizeof(r));
	r.p = p;
	r.len = len;
	r.st = st;
	if (decode(&r, rec, seq_only) == -1) {
		/* Cannot happen: the first pass accepted the same bytes. */
		free(st);
		return -1;
	}
	*store = st;
	return 0;
}

int
journal_parse_payload(const unsigned char *p, size_t len,
    struct journal_rec *rec, struct journal_store **store)
{
	int	 seq_only;

	if (parse(p, len, rec, store, &seq_only) == -1)
		return -1;
	if (seq_only) {
		/* Bookkeeping of this file, not a record of the API. */
		journal_store_free(*store);
		*store = NULL;
		memset(rec, 0, sizeof(*rec));
		return -1;
	}
	return 0;
}

void
journal_store_free(struct journal_store *st)
{
	free(st);
}

/* --- file helpers ------------------------------------------------------ */

static int
pwrite_all(int fd, const unsigned char *p, size_t len, uint64_t off)
{
	ssize_t	 n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read exactly len bytes at off; returns 0, or -1 (errno). */
static int
pread_all(int fd, unsigned char *p, size_t len, uint64_t off)
{
	ssize_t	 n;

	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			/* The file shrank under us: not ours alone. */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
bytes_add(struct bytes *b, const void *p, size_t n)
{
	size_t		 cap;
	unsigned char	*np;

	if (n > b->cap - b->len) {
		cap = b->cap > 0 ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				errno = ENOMEM;
				return -1;
			}
			cap *= 2;
		}
		np = realloc(b->p, cap);
		if (np == NULL) {
			errno = ENOMEM;
			return -1;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void
bytes_free(struct bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* --- open and replay --------------------------------------------------- */

/*
 * Replay fd from the start.  Returns 0 with *good the end of the last good
 * record, or -1 with a message in err (the file is then left alone).
 */
static int
replay(struct journal *j, uint64_t fsize, journal_replay_fn fn, void *arg,
    uint64_t *good, char *err, size_t errsz)
{
	struct journal_rec	 rec;
	struct journal_store	*st = NULL;
	unsigned char		 hdr[HDR_SIZE];
	unsigned char		*pl = NULL, *np;
	size_t			 plcap = 0;
	uint64_t		 off = 0;
	uint32_t		 plen;
	int			 seq_only, rc = -1;

	while (fsize - off >= HDR_SIZE) {
		if (pread_all(j->fd, hdr, HDR_SIZE, off) == -1) {
			snprintf(err, errsz, "read at %llu: %s",
			    (unsigned long long)off, strerror(errno));
			goto out;
		}
		plen = get_le32(hdr + 4);
		if (memcmp(hdr, magic, sizeof(magic)) != 0 ||
		    plen > MAX_PAYLOAD || plen > fsize - off - HDR_SIZE)
			break;
		if (plen > plcap) {
			np = realloc(pl, plen);
			if (np == NULL) {
				snprintf(err, errsz, "record at %llu: %s",
				    (unsigned long long)off, strerror(ENOMEM));
				goto out;
			}
			pl = np;
			plcap = plen;
		}
		if (pread_all(j->fd, pl, plen, off + HDR_SIZE) == -1) {
			snprintf(err, errsz, "read at %llu: %s",
			    (unsigned long long)off, strerror(errno));
			goto out;
		}
		if (crc32c(0, pl, plen) != get_le32(hdr + 8))
			break;
		if (parse(pl, plen, &rec, &st, &seq_only) == -1) {
			snprintf(err, errsz, "record at %llu has a valid "
			    "checksum but cannot be parsed (written by another "
			    "version?); not truncating",
			    (unsigned long long)off);
			goto out;
		}
		if (seq_only) {
			if (rec.seq > j->last_seq)
				j->last_seq = rec.seq;
		} else {
			if (rec.type == JOURNAL_WRITE &&
			    rec.seq > j->last_seq)
				j->last_seq = rec.seq;
			if (rec.type == JOURNAL_BATCH &&
			    rec.upto_seq > j->last_seq)
				j->last_seq = rec.upto_seq;
			if (fn != NULL && fn(arg, &rec) == -1) {
				snprintf(err, errsz, "replay of the record at "
				    "%llu failed", (unsigned long long)off);
				goto out;
			}
			j->st.records_replayed++;
		}
		journal_store_free(st);
		st = NULL;
		off += HDR_SIZE + plen;
	}
	*good = off;
	rc = 0;
out:
	journal_store_free(st);
	free(pl);
	return rc;
}

int
journal_open(const char *dir, journal_replay_fn fn, void *arg,
    struct journal **out, char *err, size_t errsz)
{
	struct journal	*j = NULL;
	struct stat	 sb;
	uint64_t	 good = 0;
	char		 msg[256];
	int		 rc = -1;

	*out = NULL;
	msg[0] = '\0';
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	j->dirfd = -1;
	j->fd = -1;
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	j->fd = openat(j->dirfd, JOURNAL_FILE, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600);
	if (j->fd == -1 || fstat(j->fd, &sb) == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	/* A compaction that died before its rename left this behind. */
	(void)unlinkat(j->dirfd, JOURNAL_TMP, 0);
	if (replay(j, (uint64_t)sb.st_size, fn, arg, &good, msg,
	    sizeof(msg)) == -1)
		goto out;
	if (good < (uint64_t)sb.st_size) {
		j->st.bytes_dropped = (uint64_t)sb.st_size - good;
		if (ftruncate(j->fd, (off_t)good) == -1 || fsync(j->fd) == -1) {
			snprintf(msg, sizeof(msg), "truncating a torn tail at "
			    "%llu: %s", (unsigned long long)good,
			    strerror(errno));
			goto out;
		}
	}
	/* The file may be new: make its directory entry durable before the
	 * first append is acknowledged. */
	if (fsync(j->dirfd) == -1) {
		snprintf(msg, sizeof(msg), "fsync: %s", strerror(errno));
		goto out;
	}
	j->size = good;
	j->st.size = good;
	if (pthread_mutex_init(&j->mu, NULL) != 0)
		goto out;
	if (pthread_cond_init(&j->cv, NULL) != 0) {
		pthread_mutex_destroy(&j->mu);
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	if (rc == -1) {
		if (msg[0] == '\0')
			snprintf(msg, sizeof(msg), "out of resources");
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s/%s: %s", dir, JOURNAL_FILE,
			    msg);
	}
	if (j != NULL) {
		if (j->fd != -1)
			close(j->fd);
		if (j->dirfd != -1)
			close(j->dirfd);
		free(j);
	}
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	assert(!j->busy && j->waiters == NULL);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	close(j->fd);
	close(j->dirfd);
	bytes_free(&j->pend);
	bytes_free(&j->spare);
	free(j);
}

/* --- append: group commit ---------------------------------------------- */

/*
 * Write and sync the queued group.  Called with mu held, busy clear and a
 * non-empty queue; returns with mu held, every waiter of the group told.
 */
static void
lead(struct journal *j)
{
	struct bytes	 grp;
	struct waiter	*w, *list;
	uint64_t	 off, nrec = 0;
	int		 fd, dirsync, synced = 0, trunc_failed = 0, err = 0;

	grp = j->pend;
	j->pend = j->spare;
	j->spare.p = NULL;
	j->spare.len = j->spare.cap = 0;
	list = j->waiters;
	j->waiters = NULL;
	j->busy = 1;
	fd = j->fd;
	off = j->size;
	dirsync = j->dir_dirty;
	pthread_mutex_unlock(&j->mu);

	if (dirsync && fsync(j->dirfd) == -1)
		err = errno;
	if (err == 0 && pwrite_all(fd, grp.p, grp.len, off) == -1)
		err = errno;
	if (err == 0) {
		synced = 1;
		if (fdatasync(fd) == -1)
			err = errno;
	}
	/*
	 * Take back what may have reached the file.  Should this fail too
	 * (only counted), the next group overwrites from off anyway, and
	 * replay stops at whatever is left of this one behind it; at worst
	 * a whole record of this group survives there, which costs an
	 * extra invalidation, never a lost one.
	 */
	if (err != 0 && ftruncate(fd, (off_t)off) == -1)
		trunc_failed = 1;

	pthread_mutex_lock(&j->mu);
	if (dirsync && err == 0)
		j->dir_dirty = 0;
	if (synced)
		j->st.syncs++;
	for (w = list; w != NULL; w = w->next) {
		w->done = 1;
		w->err = err;
		nrec++;
	}
	if (err == 0) {
		j->size = off + grp.len;
		j->st.size = j->size;
		j->st.appends += nrec;
	} else
		j->st.errors += nrec + (uint64_t)trunc_failed;
	/* Only the leader touches spare, so it is still empty here. */
	grp.len = 0;
	if (grp.cap > SPARE_KEEP)
		bytes_free(&grp);
	j->spare = grp;
	j->busy = 0;
	pthread_cond_broadcast(&j->cv);
}

int
journal_append(struct journal *j, struct journal_rec *rec)
{
	struct buf	 b;
	struct waiter	 w;
	uint64_t	 seq = 0;
	uint32_t	 crc;
	int		 rc = -1, err = 0;

	assert(j != NULL && rec != NULL);
	buf_init(&b);
	if (encode(&b, rec, &crc) == -1) {
		err = errno;
		goto out;
	}
	memset(&w, 0, sizeof(w));

	pthread_mutex_lock(&j->mu);
	if (rec->type == JOURNAL_WRITE && j->last_seq == UINT64_MAX) {
		/* Found by fuzzing: a replayed seq at the top would wrap to
		 * 0, which an earlier batch seems to cover.  Refused. */
		pthread_mutex_unlock(&j->mu);
		err = EOVERFLOW;
		goto out;
	}
	if (rec->type == JOURNAL_WRITE) {
		/* Under the lock: seq order is file order. */
		seq = j->last_seq + 1;
		seal_write(&b, 0, crc, seq);
	}
	if (bytes_add(&j->pend, b.data, b.len) == -1) {
		err = errno;
		pthread_mutex_unlock(&j->mu);
		goto out;
	}
	if (rec->type == JOURNAL_WRITE)
		j->last_seq = seq;
	w.next = j->waiters;
	j->waiters = &w;
	while (!w.done) {
		/* A waiting compaction goes first, or a steady stream
		 * of groups could keep it out for good. */
		if (!j->busy && j->compact_wait == 0 && j->pend.len > 0)
			lead(j);
		else
			pthread_cond_wait(&j->cv, &j->mu);
	}
	pthread_mutex_unlock(&j->mu);

	if (w.err != 0) {
		err = w.err;
		goto out;
	}
	if (rec->type == JOURNAL_WRITE)
		rec->seq = seq;
	rc = 0;
out:
	buf_fini(&b);
	if (rc == -1)
		errno = err;
	return rc;
}

/* --- compaction -------------------------------------------------------- */

int
journal_compact(struct journal *j, const struct journal_rec *recs, size_t n)
{
	struct buf	 b, hb;
	uint64_t	 maxseq = 0;
	size_t		 i;
	int		 fd = -1, oldfd, renamed = 0, rc = -1, err = 0;

	assert(j != NULL && (recs != NULL || n == 0));
	buf_init(&b);
	buf_init(&hb);
	for (i = 0; i < n; i++) {
		if (encode_full(&b, &recs[i]) == -1) {
			err = errno;
			goto out;
		}
		if (recs[i].type == JOURNAL_WRITE && recs[i].seq > maxseq)
			maxseq = recs[i].seq;
	}

	pthread_mutex_lock(&j->mu);
	j->compact_wait++;
	while (j->busy)
		pthread_cond_wait(&j->cv, &j->mu);
	j->compact_wait--;
	j->busy = 1;
	if (maxseq > j->last_seq)
		j->last_seq = maxseq;
	/* Includes seqs given to appends queued right now: they are
	 * written after the switch, into the new file. */
	if (encode_seq(&hb, j->last_seq) == -1)
		err = errno;
	pthread_mutex_unlock(&j->mu);

	if (err == 0) {
		fd = openat(j->dirfd, JOURNAL_TMP,
		    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd == -1)
			err = errno;
	}
	if (err == 0 && (pwrite_all(fd, (unsigned char *)hb.data, hb.len,
	    0) == -1 || pwrite_all(fd, (unsigned char *)b.data, b.len,
	    hb.len) == -1 || fdatasync(fd) == -1))
		err = errno;
	if (err == 0) {
		if (renameat(j->dirfd, JOURNAL_TMP, j->dirfd,
		    JOURNAL_FILE) == -1)
			err = errno;
		else
			renamed = 1;
	}
	/*
	 * Past the rename the new file is the journal, durable or not.
	 * If the folder cannot be synced, appends sync it before they are
	 * acknowledged (dir_dirty), and we report the failure.
	 */
	if (renamed && fsync(j->dirfd) == -1)
		err = errno;
	if (fd != -1 && !renamed) {
		close(fd);
		fd = -1;
		(void)unlinkat(j->dirfd, JOURNAL_TMP, 0);
	}

	pthread_mutex_lock(&j->mu);
	if (renamed) {
		oldfd = j->fd;
		j->fd = fd;
		fd = -1;
		close(oldfd);
		j->size = hb.len + b.len;
		j->st.size = j->size;
		j->st.compactions++;
		if (err != 0)
			j->dir_dirty = 1;
	}
	if (err != 0)
		j->st.errors++;
	j->busy = 0;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (err == 0)
		rc = 0;
out:
	buf_fini(&b);
	buf_fini(&hb);
	if (rc == -1)
		errno = err;
	return rc;
}

uint64_t
journal_last_seq(struct journal *j)
{
	uint64_t	 v;

	pthread_mutex_lock(&j->mu);
	v = j->last_seq;
	pthread_mutex_unlock(&j->mu);
	return v;
}

void
journal_get_stats(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->st;
	pthread_mutex_unlock(&j->mu);
}
