/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the append-only, group-committed record of what must still be
 * invalidated; see journal.h and DESIGN §4.  This file owns the on-disk
 * format, replay, the group commit and compaction.  It does not know what
 * a record means: the worker decides what is pending.
 *
 * Record: "S3I2", u32 payload length, u32 CRC-32C of the payload, u32
 * CRC-32C of these 12 header bytes, then the payload; integers are
 * little-endian.  (The first release wrote "S3IJ", length, payload CRC:
 * 12 bytes, read still.)  Payload, type byte first:
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
 * computed outside the lock; only 8 + 12 bytes are hashed under it.  A
 * payload must be consumed exactly: trailing bytes make it malformed.
 *
 * The header CRC is what lets replay find its way after damage: a header
 * that checks out gives the record's true length, so a bad payload is
 * skipped whole (a key inside it that happens to look like a record is
 * never read as one), and a search for the next magic after a bad header
 * accepts only a candidate whose header and payload both check out.
 * Inside a damaged region only a fully good record ends the damage.
 *
 * SEQ heads every compacted file.  Without it, compacting away the last
 * WRITE records and restarting would hand out sequence numbers again that
 * a kept BATCH (upto_seq) already claims to cover.
 *
 * How replay tells damage from a crash's torn tail, and the markers that
 * make a recovery itself crash-safe: journal.h.
 *
 * Group commit, on one commit thread (issue 12): an appender encodes its
 * record outside the lock, then under mu seals it (a WRITE's seq), adds
 * it to pend and its entry (callback) to a list, and returns.  The commit
 * thread takes everything queued as one group, drops mu, does one pwrite
 * at the end of the good data and one fdatasync, re-takes mu, and calls
 * each entry's callback in order, outside mu.  A failed group is
 * truncated away again.  Only the first record of a group signals the
 * thread (a single waiter); the blocking journal_append() waits on a
 * condition variable of its own, so a group's end wakes exactly its
 * appenders, never every thread.  journal_compact() claims busy between
 * groups (before the next one: a steady stream of groups cannot keep it
 * out), so records queued meanwhile go to the new file.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crc.h"
#include "journal.h"
#include "state_file.h"

#define JOURNAL_TMP		"journal.tmp"	/* the first release's */
#define HDR_SIZE		16
#define HDR1_SIZE		12		/* the first release's */
#define TYPE_SEQ		0x80
#define SCAN_CHUNK		65536
#define CLEAN_HEAD		"s3inval journal clean stop\n"

/* The largest payload the encoder can produce (a BATCH at the limits);
 * anything longer is damage, not a record. */
#define MAX_PAYLOAD	(1 + 8 + 2 * (4 + (uint64_t)JOURNAL_MAX_STR) + 8 + \
	4 + (uint64_t)JOURNAL_MAX_ITEMS * (4 + JOURNAL_MAX_STR))

/* Keep at most this much idle queue memory after a large group. */
#define SPARE_KEEP		(1024 * 1024)

static const unsigned char magic[4] = { 'S', '3', 'I', '2' };
static const unsigned char magic1[4] = { 'S', '3', 'I', 'J' };

struct bytes {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

/* One queued record's caller: told when its group is on disk. */
struct entry {
	struct entry	*next;
	journal_done_fn	 fn;
	void		*arg;
	uint64_t	 seq;		/* a WRITE's, else 0 */
};

struct journal {
	/* Set by journal_open, then read only (fd: see busy). */
	int		 dirfd;
	char		*dir;

	pthread_t	 thread;	/* the commit thread */
	int		 thread_up;

	/* Shared, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_commit;	/* the commit thread waits on it */
	pthread_cond_t	 cv_idle;	/* compactions wait on it */
	int		 fd;		/* switched by compaction, under busy */
	int		 busy;		/* a group or a compaction owns fd */
	int		 compact_wait;	/* compactions waiting for busy */
	int		 stop;		/* journal_close(): drain and end */
	int		 dir_dirty;	/* fsync dirfd before the next ack */
	uint64_t	 size;		/* end of the last durable record */
	uint64_t	 last_seq;
	struct bytes	 pend;		/* encoded records of the next group */
	struct bytes	 spare;		/* the previous group's, emptied */
	struct entry	*head, **tail;	/* the next group's callers */
	struct journal_stats st;	/* st.lost: journal.lost exists */
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

/* Fill in the header at h for a payload of plen bytes with CRC pcrc. */
static void
seal_header(unsigned char *h, size_t plen, uint32_t pcrc)
{
	memcpy(h, magic, sizeof(magic));
	put_le32(h + 4, (uint32_t)plen);
	put_le32(h + 8, pcrc);
	put_le32(h + 12, crc32c(0, h, 12));
}

/*
 * Append header and payload of rec to b, the header left for later.  For
 * a WRITE, *crc is the CRC-32C of the payload without its last 8 bytes
 * (the seq), which the caller fills in with seal_write(); otherwise it is
 * the payload's CRC and the header is complete.  Returns 0, or -1 with
 * errno set.
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
	if (rec->type == JOURNAL_WRITE) {
		*crc = crc32c(0, b->data + start + HDR_SIZE, plen - 8);
	} else {
		*crc = crc32c(0, b->data + start + HDR_SIZE, plen);
		seal_header((unsigned char *)b->data + start, plen, *crc);
	}
	return 0;
}

/* Complete a WRITE record encoded last in b (at start) with its seq. */
static void
seal_write(struct buf *b, size_t start, uint32_t crc, uint64_t seq)
{
	unsigned char	*p = (unsigned char *)b->data;

	put_le64(p + b->len - 8, seq);
	seal_header(p + start, b->len - start - HDR_SIZE,
	    crc32c(crc, p + b->len - 8, 8));
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

	buf_append(b, magic, sizeof(magic));
	enc_u32(b, 0);
	enc_u32(b, 0);
	enc_u32(b, 0);
	enc_u8(b, TYPE_SEQ);
	enc_u64(b, last_seq);
	if (!buf_ok(b)) {
		errno = ENOMEM;
		return -1;
	}
	seal_header((unsigned char *)b->data + start, 9,
	    crc32c(0, b->data + start + HDR_SIZE, 9));
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

/* What probe() found at an offset. */
enum probe_kind {
	P_OK,		/* a good record, parsed */
	P_BAD,		/* no record that checks out starts here */
	P_BADPAYLOAD,	/* a good header, a bad payload: length known */
	P_TORN,		/* a good header, the record runs past the end */
	P_UNPARSED	/* checksums good, payload not ours to read */
};

static const char *const probe_why[] = {
	"", "no valid record header", "payload checksum mismatch",
	"record cut short", "checksummed record that does not parse"
};

struct scan {
	struct journal		*j;
	uint64_t		 end;		/* replay stops here */
	unsigned char		*pl;		/* payload buffer */
	size_t			 plcap;
	unsigned char		*chunk;		/* for next_magic() */
	uint64_t		 len;		/* of the record probed */
	struct journal_rec	 rec;		/* P_OK */
	struct journal_store	*st;		/* P_OK */
	int			 seq_only;	/* P_OK: an internal SEQ */
};

/* The regions replay could not read. */
struct damage {
	uint64_t	 n, bytes;
	uint64_t	 first_off, last_off, last_len;
	const char	*first_why;
	uint64_t	 open_off;		/* of the region being read */
	const char	*open_why;
	int		 open;
};

static void
damage_open(struct damage *d, uint64_t off, const char *why)
{
	if (d->open)
		return;
	d->open = 1;
	d->open_off = off;
	d->open_why = why;
}

static void
damage_close(struct damage *d, uint64_t end)
{
	if (!d->open)
		return;
	d->open = 0;
	if (d->n++ == 0) {
		d->first_off = d->open_off;
		d->first_why = d->open_why;
	}
	d->last_off = d->open_off;
	d->last_len = end - d->open_off;
	d->bytes += d->last_len;
}

/*
 * Look at the record that may start at off.  Returns 0 with *kind set
 * (and, for P_OK, sc->rec and sc->st, which the caller frees), or -1 on a
 * read error or lack of memory, with a message in err.
 */
static int
probe(struct scan *sc, uint64_t off, enum probe_kind *kind, char *err,
    size_t errsz)
{
	unsigned char	 h[HDR_SIZE], *np;
	uint64_t	 avail = sc->end - off;
	size_t		 n, hlen;
	uint32_t	 plen;

	*kind = P_BAD;
	sc->st = NULL;
	n = avail < HDR_SIZE ? (size_t)avail : HDR_SIZE;
	if (n < HDR1_SIZE)
		return 0;
	if (pread_all(sc->j->fd, h, n, off) == -1)
		goto ioerr;
	plen = get_le32(h + 4);
	if (memcmp(h, magic, sizeof(magic)) == 0) {
		if (n < HDR_SIZE || crc32c(0, h, 12) != get_le32(h + 12) ||
		    plen > MAX_PAYLOAD)
			return 0;
		hlen = HDR_SIZE;
		if (plen > avail - HDR_SIZE) {
			*kind = P_TORN;
			return 0;
		}
	} else if (memcmp(h, magic1, sizeof(magic1)) == 0) {
		/* No header CRC here: only the payload's can vouch for the
		 * length, so a short file is simply "no record". */
		if (plen > MAX_PAYLOAD || plen > avail - HDR1_SIZE)
			return 0;
		hlen = HDR1_SIZE;
	} else
		return 0;
	sc->len = hlen + (uint64_t)plen;
	if (plen > sc->plcap) {
		np = realloc(sc->pl, plen);
		if (np == NULL) {
			snprintf(err, errsz, "record at %llu: %s",
			    (unsigned long long)off, strerror(ENOMEM));
			return -1;
		}
		sc->pl = np;
		sc->plcap = plen;
	}
	if (pread_all(sc->j->fd, sc->pl, plen, off + hlen) == -1)
		goto ioerr;
	if (crc32c(0, sc->pl, plen) != get_le32(h + 8)) {
		*kind = hlen == HDR_SIZE ? P_BADPAYLOAD : P_BAD;
		return 0;
	}
	if (parse(sc->pl, plen, &sc->rec, &sc->st, &sc->seq_only) == -1) {
		*kind = P_UNPARSED;
		return 0;
	}
	*kind = P_OK;
	return 0;
ioerr:
	snprintf(err, errsz, "read at %llu: %s", (unsigned long long)off,
	    strerror(errno));
	return -1;
}

/* The first offset at or after from where a magic starts (the whole four
 * bytes before sc->end), or sc->end.  Returns 0, or -1 on a read error. */
static int
next_magic(struct scan *sc, uint64_t from, uint64_t *out, char *err,
    size_t errsz)
{
	const unsigned char	*p, *q;
	uint64_t		 pos = from;
	size_t			 n;

	while (sc->end >= 4 && pos <= sc->end - 4) {
		n = sc->end - pos < SCAN_CHUNK ? (size_t)(sc->end - pos) :
		    SCAN_CHUNK;
		if (pread_all(sc->j->fd, sc->chunk, n, pos) == -1) {
			snprintf(err, errsz, "read at %llu: %s",
			    (unsigned long long)pos, strerror(errno));
			return -1;
		}
		for (p = sc->chunk; p + 4 <= sc->chunk + n; p = q + 1) {
			q = memmem(p, (size_t)(sc->chunk + n - p), "S3I", 3);
			if (q == NULL || q + 4 > sc->chunk + n)
				break;
			if (q[3] == magic[3] || q[3] == magic1[3]) {
				*out = pos + (uint64_t)(q - sc->chunk);
				return 0;
			}
		}
		/* The last 3 bytes again: a magic may straddle chunks. */
		pos += n - 3;
	}
	*out = sc->end;
	return 0;
}

/* Hand one good record to fn and note its sequence numbers. */
static int
deliver(struct journal *j, struct scan *sc, journal_replay_fn fn, void *arg)
{
	const struct journal_rec *rec = &sc->rec;

	if (sc->seq_only) {
		if (rec->seq > j->last_seq)
			j->last_seq = rec->seq;
		return 0;
	}
	if (rec->type == JOURNAL_WRITE && rec->seq > j->last_seq)
		j->last_seq = rec->seq;
	if (rec->type == JOURNAL_BATCH && rec->upto_seq > j->last_seq)
		j->last_seq = rec->upto_seq;
	if (fn != NULL && fn(arg, rec) == -1)
		return -1;
	j->st.records_replayed++;
	return 0;
}

/*
 * Replay fd from 0 to end, past damage (see the top of this file).
 * Returns 0 with *good the end of the last good record and dm the regions
 * that could not be read, or -1 with a message in err (nothing changed).
 */
static int
replay(struct journal *j, uint64_t end, journal_replay_fn fn, void *arg,
    uint64_t *good, struct damage *dm, char *err, size_t errsz)
{
	struct scan	 sc;
	enum probe_kind	 kind;
	uint64_t	 off = 0;
	int		 boundary = 1, rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(dm, 0, sizeof(*dm));
	sc.j = j;
	sc.end = end;
	sc.chunk = malloc(SCAN_CHUNK);
	if (sc.chunk == NULL) {
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		goto out;
	}
	*good = 0;
	while (off < end) {
		if (probe(&sc, off, &kind, err, errsz) == -1)
			goto out;
		if (kind == P_OK) {
			damage_close(dm, off);
			if (deliver(j, &sc, fn, arg) == -1) {
				snprintf(err, errsz, "replay of the record at "
				    "%llu failed", (unsigned long long)off);
				goto out;
			}
			journal_store_free(sc.st);
			sc.st = NULL;
			off += sc.len;
			*good = off;
			boundary = 1;
			continue;
		}
		if (kind == P_UNPARSED && boundary) {
			snprintf(err, errsz, "record at %llu has a valid "
			    "checksum but cannot be parsed (written by another "
			    "version?); not truncating",
			    (unsigned long long)off);
			goto out;
		}
		damage_open(dm, off, probe_why[kind]);
		/* Where a record must begin, a header that checks out says
		 * where the next one does; anywhere else, search.  (A good
		 * header running past the end is searched through: it may
		 * be a stray one with good records after it.) */
		if (boundary && kind == P_BADPAYLOAD) {
			off += sc.len;
			continue;
		}
		boundary = 0;
		if (next_magic(&sc, off + 1, &off, err, errsz) == -1)
			goto out;
	}
	damage_close(dm, end);
	rc = 0;
out:
	journal_store_free(sc.st);
	free(sc.pl);
	free(sc.chunk);
	return rc;
}

/*
 * The clean-stop marker: 0 none, 1 with the size in *size, 2 there but
 * unreadable (then nothing can be assumed of the file's end).
 */
static int
read_clean(const char *dir, uint64_t *size)
{
	char			 text[128], *end;
	const char		*p;
	unsigned long long	 v;

	if (state_file_read(dir, JOURNAL_CLEAN, text, sizeof(text)) == -1)
		return errno == ENOENT ? 0 : 2;
	if (strncmp(text, CLEAN_HEAD, strlen(CLEAN_HEAD)) != 0)
		return 2;
	p = text + strlen(CLEAN_HEAD);
	if (strncmp(p, "size ", 5) != 0 || p[5] < '0' || p[5] > '9')
		return 2;
	errno = 0;
	v = strtoull(p + 5, &end, 10);
	if (errno != 0 || strcmp(end, "\n") != 0)
		return 2;
	*size = v;
	return 1;
}

/* Append ", " and a printf'd part to st->damage. */
static void
describe(struct journal_stats *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
describe(struct journal_stats *st, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(st->damage);

	if (n > 0 && n + 2 < sizeof(st->damage)) {
		memcpy(st->damage + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(st->damage + n, sizeof(st->damage) - n, fmt, ap);
	va_end(ap);
}

/*
 * Sort what replay could not read into damaged, garbage and torn (see
 * journal.h); clean is read_clean()'s answer.
 */
static void
classify(struct journal_stats *st, const struct damage *dm, int clean,
    uint64_t csize, uint64_t fsize)
{
	uint64_t	 lost_bytes = dm->bytes, n_lost = dm->n;

	st->clean_start = clean == 1;
	if (clean == 0 && dm->n > 0 && dm->last_off + dm->last_len == fsize) {
		st->bytes_torn = dm->last_len;
		lost_bytes -= dm->last_len;
		n_lost--;
	}
	if (n_lost > 0)
		describe(st, "%llu bytes unreadable in %llu place%s from "
		    "offset %llu (%s)", (unsigned long long)lost_bytes,
		    (unsigned long long)n_lost, n_lost == 1 ? "" : "s",
		    (unsigned long long)dm->first_off, dm->first_why);
	st->bytes_damaged = lost_bytes;
	st->bytes_dropped = dm->bytes;
	if (clean == 1 && fsize < csize) {
		st->bytes_damaged += csize - fsize;
		describe(st, "the file ends at %llu, %llu bytes short of its "
		    "size at the clean stop", (unsigned long long)fsize,
		    (unsigned long long)(csize - fsize));
	}
	if (clean == 1 && fsize > csize) {
		st->bytes_garbage = fsize - csize;
		st->bytes_dropped += st->bytes_garbage;
		describe(st, "%llu bytes after the clean stop's end at %llu "
		    "(not written by s3inval)",
		    (unsigned long long)st->bytes_garbage,
		    (unsigned long long)csize);
	}
	if (clean == 2)
		describe(st, "the clean-stop marker is unreadable");
	if (st->bytes_torn > 0)
		describe(st, "a torn tail of %llu bytes at offset %llu (the "
		    "last write before a crash, never acknowledged)",
		    (unsigned long long)st->bytes_torn,
		    (unsigned long long)dm->last_off);
	if (st->bytes_damaged > 0)
		st->lost = 1;
}

static void	*commit_main(void *);

/* The commit thread, with every signal blocked: signals are main.c's. */
static int
start_thread(struct journal *j)
{
	sigset_t	 all, old;
	int		 rc;

	if (pthread_mutex_init(&j->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&j->cv_commit, NULL) != 0) {
		pthread_mutex_destroy(&j->mu);
		return -1;
	}
	if (pthread_cond_init(&j->cv_idle, NULL) != 0) {
		pthread_cond_destroy(&j->cv_commit);
		pthread_mutex_destroy(&j->mu);
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&j->thread, NULL, commit_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&j->cv_idle);
		pthread_cond_destroy(&j->cv_commit);
		pthread_mutex_destroy(&j->mu);
		return -1;
	}
	j->thread_up = 1;
	return 0;
}

int
journal_open(const char *dir, journal_replay_fn fn, void *arg,
    struct journal **out, char *err, size_t errsz)
{
	struct journal	*j = NULL;
	struct damage	 dm;
	struct stat	 sb;
	uint64_t	 good = 0, csize = 0, fsize, end;
	char		 msg[256], lost_text[8];
	int		 rc = -1, clean, lost_before;

	*out = NULL;
	msg[0] = '\0';
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->dir = strdup(dir)) == NULL) {
		snprintf(msg, sizeof(msg), "%s", strerror(ENOMEM));
		goto out;
	}
	j->dirfd = -1;
	j->fd = -1;
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	/* Never through a symlink planted in state_dir (issue 13). */
	j->fd = openat(j->dirfd, JOURNAL_FILE,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd == -1 || fstat(j->fd, &sb) == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(msg, sizeof(msg), "not a regular file");
		goto out;
	}
	/* What a compaction or a marker's writer that died left behind. */
	(void)unlinkat(j->dirfd, JOURNAL_TMP, 0);
	state_file_clean(dir, JOURNAL_FILE);
	state_file_clean(dir, JOURNAL_CLEAN);
	state_file_clean(dir, JOURNAL_LOST);

	fsize = (uint64_t)sb.st_size;
	clean = read_clean(dir, &csize);
	lost_before = state_file_read(dir, JOURNAL_LOST, lost_text,
	    sizeof(lost_text)) != -1 || errno != ENOENT;
	/* After a clean stop, what lies past its end is not ours. */
	end = clean == 1 && csize < fsize ? csize : fsize;
	if (replay(j, end, fn, arg, &good, &dm, msg, sizeof(msg)) == -1)
		goto out;
	classify(&j->st, &dm, clean, csize, fsize);
	if (lost_before && !j->st.lost)
		describe(&j->st, "a recovery from earlier damage was not "
		    "finished");
	/* Remember the loss before anything that shows it is cut off. */
	if (j->st.lost && !lost_before && state_file_write(dir, JOURNAL_LOST,
	    j->st.damage, strlen(j->st.damage)) == -1) {
		snprintf(msg, sizeof(msg), "cannot record the damage found "
		    "(%s) in %s: %s", j->st.damage, JOURNAL_LOST,
		    strerror(errno));
		goto out;
	}
	if (lost_before)
		j->st.lost = 1;
	if (good < fsize) {
		if (ftruncate(j->fd, (off_t)good) == -1 || fsync(j->fd) == -1) {
			snprintf(msg, sizeof(msg), "truncating at %llu: %s",
			    (unsigned long long)good, strerror(errno));
			goto out;
		}
	}
	/* A stale marker would misread the next start's file. */
	if (clean != 0 && state_file_remove(dir, JOURNAL_CLEAN) == -1) {
		snprintf(msg, sizeof(msg), "cannot remove %s: %s",
		    JOURNAL_CLEAN, strerror(errno));
		goto out;
	}
	/* The file may be new: make its directory entry durable before the
	 * first append is acknowledged. */
	if (fsync(j->dirfd) == -1) {
		snprintf(msg, sizeof(msg), "fsync: %s", strerror(errno));
		goto out;
	}
	j->size = good;
	j->st.size = good;
	j->tail = &j->head;
	if (start_thread(j) == -1) {
		snprintf(msg, sizeof(msg), "cannot start the commit thread");
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
		free(j->dir);
		free(j);
	}
	return rc;
}

void
journal_close(struct journal *j)
{
	char	 text[128];
	int	 n;

	if (j == NULL)
		return;
	/* What is queued is written, and its callers told, first. */
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_signal(&j->cv_commit);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	assert(!j->busy && j->head == NULL);
	/* Every record is synced: say how long the file is, so the next
	 * open can tell damage from a crash. */
	n = snprintf(text, sizeof(text), CLEAN_HEAD "size %llu\n",
	    (unsigned long long)j->size);
	(void)state_file_write(j->dir, JOURNAL_CLEAN, text, (size_t)n);
	pthread_cond_destroy(&j->cv_idle);
	pthread_cond_destroy(&j->cv_commit);
	pthread_mutex_destroy(&j->mu);
	close(j->fd);
	close(j->dirfd);
	bytes_free(&j->pend);
	bytes_free(&j->spare);
	free(j->dir);
	free(j);
}

/* --- append: the commit thread ------------------------------------------ */

/* The group the commit thread took, written and synced: tell each entry
 * in order, outside mu.  Returns with mu held. */
static void
deliver_group(struct journal *j, struct entry *list, int err)
{
	struct entry	*e;

	pthread_mutex_unlock(&j->mu);
	while ((e = list) != NULL) {
		list = e->next;
		if (e->fn != NULL)
			e->fn(e->arg, e->seq, err);
		free(e);
	}
	pthread_mutex_lock(&j->mu);
}

/*
 * Write and sync one group: everything queued.  Called with mu held, busy
 * clear and a non-empty queue; returns with mu held, busy clear, and the
 * group's entries in *done with the group's result (0 or an errno).
 */
static int
commit_group(struct journal *j, struct entry **done)
{
	struct bytes	 grp;
	struct entry	*e;
	uint64_t	 off, nrec = 0;
	int		 fd, dirsync, synced = 0, trunc_failed = 0, err = 0;

	grp = j->pend;
	j->pend = j->spare;
	j->spare.p = NULL;
	j->spare.len = j->spare.cap = 0;
	*done = j->head;
	j->head = NULL;
	j->tail = &j->head;
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
	for (e = *done; e != NULL; e = e->next)
		nrec++;
	if (err == 0) {
		j->size = off + grp.len;
		j->st.size = j->size;
		j->st.appends += nrec;
	} else
		j->st.errors += nrec + (uint64_t)trunc_failed;
	j->st.failing = err != 0;
	/* Only this thread touches spare, so it is still empty here. */
	grp.len = 0;
	if (grp.cap > SPARE_KEEP)
		bytes_free(&grp);
	j->spare = grp;
	j->busy = 0;
	/* A compaction waiting for busy goes before the next group, or a
	 * steady stream of groups could keep it out for good. */
	if (j->compact_wait > 0)
		pthread_cond_signal(&j->cv_idle);
	return err;
}

static void *
commit_main(void *arg)
{
	struct journal	*j = arg;
	struct entry	*done;
	int		 err;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (j->busy || j->compact_wait > 0 ||
		    (j->pend.len == 0 && !j->stop))
			pthread_cond_wait(&j->cv_commit, &j->mu);
		/* At close, whatever was queued is written first. */
		if (j->pend.len == 0)
			break;
		err = commit_group(j, &done);
		deliver_group(j, done, err);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/*
 * Queue the encoded record in b (a WRITE's seq still to seal, see encode)
 * or, with b NULL, an internal SEQ record; its entry gets fn and arg.
 * Returns 0 with *seq the WRITE's, or -1 with errno set.
 */
static int
enqueue(struct journal *j, struct buf *b, enum journal_type type,
    uint32_t crc, journal_done_fn fn, void *arg, uint64_t *seq)
{
	struct buf	 sb;
	struct entry	*e;
	uint64_t	 s = 0;
	int		 err = 0;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	e->fn = fn;
	e->arg = arg;
	buf_init(&sb);
	pthread_mutex_lock(&j->mu);
	if (b == NULL) {
		if (encode_seq(&sb, j->last_seq) == -1)
			err = errno;
		b = &sb;
	} else if (type == JOURNAL_WRITE && j->last_seq == UINT64_MAX) {
		/* Found by fuzzing: a replayed seq at the top would wrap to
		 * 0, which an earlier batch seems to cover.  Refused. */
		err = EOVERFLOW;
	} else if (type == JOURNAL_WRITE) {
		/* Under the lock: seq order is file order. */
		s = j->last_seq + 1;
		seal_write(b, 0, crc, s);
	}
	if (err == 0 && bytes_add(&j->pend, b->data, b->len) == -1)
		err = errno;
	if (err == 0) {
		if (type == JOURNAL_WRITE && b != &sb)
			j->last_seq = s;
		e->seq = s;
		*j->tail = e;
		j->tail = &e->next;
		/* The first of a group wakes the thread; the others find
		 * it busy and are taken along with the next group. */
		if (j->pend.len == b->len)
			pthread_cond_signal(&j->cv_commit);
	}
	pthread_mutex_unlock(&j->mu);
	buf_fini(&sb);
	if (err != 0) {
		free(e);
		errno = err;
		return -1;
	}
	*seq = s;
	return 0;
}

int
journal_append_async(struct journal *j, struct journal_rec *rec,
    journal_done_fn fn, void *arg)
{
	struct buf	 b;
	uint64_t	 seq;
	uint32_t	 crc;
	int		 rc = -1, err = 0;

	assert(j != NULL && rec != NULL);
	buf_init(&b);
	if (encode(&b, rec, &crc) == -1 ||
	    enqueue(j, &b, rec->type, crc, fn, arg, &seq) == -1) {
		err = errno;
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

/* One blocking caller's wait: its own condition variable, so a group's
 * end wakes exactly its appenders. */
struct sync_wait {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 done;
	int		 err;
};

static void
sync_done(void *arg, uint64_t seq, int err)
{
	struct sync_wait	*sw = arg;

	(void)seq;
	pthread_mutex_lock(&sw->mu);
	sw->done = 1;
	sw->err = err;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

/* Wait for sw; the caller's queuing succeeded.  Returns 0 or -1 (errno). */
static int
sync_wait_for(struct sync_wait *sw)
{
	pthread_mutex_lock(&sw->mu);
	while (!sw->done)
		pthread_cond_wait(&sw->cv, &sw->mu);
	pthread_mutex_unlock(&sw->mu);
	pthread_cond_destroy(&sw->cv);
	pthread_mutex_destroy(&sw->mu);
	errno = sw->err;
	return sw->err == 0 ? 0 : -1;
}

static void
sync_init(struct sync_wait *sw)
{
	memset(sw, 0, sizeof(*sw));
	pthread_mutex_init(&sw->mu, NULL);
	pthread_cond_init(&sw->cv, NULL);
}

static void
sync_fini(struct sync_wait *sw)
{
	pthread_cond_destroy(&sw->cv);
	pthread_mutex_destroy(&sw->mu);
}

int
journal_append(struct journal *j, struct journal_rec *rec)
{
	struct sync_wait	 sw;

	sync_init(&sw);
	if (journal_append_async(j, rec, sync_done, &sw) == -1) {
		sync_fini(&sw);
		return -1;
	}
	return sync_wait_for(&sw);
}

int
journal_probe(struct journal *j)
{
	struct sync_wait	 sw;
	uint64_t		 seq;

	sync_init(&sw);
	if (enqueue(j, NULL, TYPE_SEQ, 0, sync_done, &sw, &seq) == -1) {
		sync_fini(&sw);
		return -1;
	}
	return sync_wait_for(&sw);
}

/* --- compaction -------------------------------------------------------- */

int
journal_compact(struct journal *j, const struct journal_rec *recs, size_t n)
{
	struct buf	 b, hb;
	uint64_t	 maxseq = 0;
	size_t		 i;
	char		 tmp[4200], path[4200];
	int		 fd = -1, oldfd, renamed = 0, rc = -1, err = 0;
	int		 unlost = 0;

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
		pthread_cond_wait(&j->cv_idle, &j->mu);
	j->compact_wait--;
	j->busy = 1;
	if (maxseq > j->last_seq)
		j->last_seq = maxseq;
	/* Includes seqs given to appends queued right now: they are
	 * written after the switch, into the new file. */
	if (encode_seq(&hb, j->last_seq) == -1)
		err = errno;
	pthread_mutex_unlock(&j->mu);

	/* A new file of a random name: nothing planted in state_dir is
	 * ever opened or truncated (issue 13). */
	snprintf(path, sizeof(path), "%s/%s", j->dir, JOURNAL_FILE);
	if (err == 0) {
		fd = state_file_tmp(j->dir, JOURNAL_FILE, tmp, sizeof(tmp));
		if (fd == -1)
			err = errno;
	}
	if (err == 0 && (pwrite_all(fd, (unsigned char *)hb.data, hb.len,
	    0) == -1 || pwrite_all(fd, (unsigned char *)b.data, b.len,
	    hb.len) == -1 || fdatasync(fd) == -1))
		err = errno;
	if (err == 0) {
		if (rename(tmp, path) == -1)
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
		(void)unlink(tmp);
	}
	/* The damaged file is gone and these records cover its loss (the
	 * caller's promise): the recovery is over. */
	if (err == 0 && j->st.lost &&
	    state_file_remove(j->dir, JOURNAL_LOST) == 0 &&
	    fsync(j->dirfd) == 0)
		unlost = 1;

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
	if (unlost)
		j->st.lost = 0;
	if (err != 0)
		j->st.errors++;
	j->busy = 0;
	/* Another compaction first, else the groups queued meanwhile. */
	if (j->compact_wait > 0)
		pthread_cond_signal(&j->cv_idle);
	else
		pthread_cond_signal(&j->cv_commit);
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
