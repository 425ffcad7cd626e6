/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal_codec: the journal's on-disk record format, encoded and
 * decoded; see journal.h and DESIGN §4.  Pure: no I/O, no lock.  Replay
 * (journal_replay.c) and the commit thread (journal.c) use it; it does
 * not know what a record means: the worker decides what is pending.
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
 * SEQ heads every compacted file.  Without it, compacting away the last
 * WRITE records and restarting would hand out sequence numbers again that
 * a kept BATCH (upto_seq) already claims to cover.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crc.h"
#include "journal.h"
#include "journal_int.h"
#include "le.h"

#define HDR_SIZE	JOURNAL_HDR_SIZE
#define HDR1_SIZE	JOURNAL_HDR1_SIZE

/* The largest payload the encoder can produce (a BATCH at the limits);
 * anything longer is damage, not a record. */
#define MAX_PAYLOAD	(1 + 8 + 2 * (4 + (uint64_t)JOURNAL_MAX_STR) + 8 + \
	4 + (uint64_t)JOURNAL_MAX_ITEMS * (4 + JOURNAL_MAX_STR))

static const unsigned char magic[4] = { 'S', '3', 'I', '2' };
static const unsigned char magic1[4] = { 'S', '3', 'I', 'J' };

/* Parsed strings and the item array, in one allocation. */
struct journal_store {
	char		*chars;
	size_t		 used;
	const char	*items[];
};

/* --- encoding ---------------------------------------------------------- */

static void
enc_u8(struct buf *b, unsigned int v)
{
	buf_putc(b, (char)(unsigned char)v);
}

static void
enc_u32(struct buf *b, uint32_t v)
{
	unsigned char	 x[4];

	le_put32(x, v);
	buf_append(b, x, sizeof(x));
}

static void
enc_u64(struct buf *b, uint64_t v)
{
	unsigned char	 x[8];

	le_put64(x, v);
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
	le_put32(h + 4, (uint32_t)plen);
	le_put32(h + 8, pcrc);
	le_put32(h + 12, crc32c(0, h, 12));
}

/*
 * Append header and payload of rec to b, the header left for later.  For
 * a WRITE, *crc is the CRC-32C of the payload without its last 8 bytes
 * (the seq), which the caller fills in with journal_seal_write();
 * otherwise it is the payload's CRC and the header is complete.  Returns
 * 0, or -1 with errno set.
 */
int
journal_encode(struct buf *b, const struct journal_rec *rec, uint32_t *crc)
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
void
journal_seal_write(struct buf *b, size_t start, uint32_t crc, uint64_t seq)
{
	unsigned char	*p = (unsigned char *)b->data;

	le_put64(p + b->len - 8, seq);
	seal_header(p + start, b->len - start - HDR_SIZE,
	    crc32c(crc, p + b->len - 8, 8));
}

int
journal_encode_full(struct buf *b, const struct journal_rec *rec)
{
	size_t		 start = b->len;
	uint32_t	 crc;

	if (journal_encode(b, rec, &crc) == -1)
		return -1;
	if (rec->type == JOURNAL_WRITE)
		journal_seal_write(b, start, crc, rec->seq);
	return 0;
}

int
journal_encode_seq(struct buf *b, uint64_t last_seq)
{
	size_t		 start = b->len;

	buf_append(b, magic, sizeof(magic));
	enc_u32(b, 0);
	enc_u32(b, 0);
	enc_u32(b, 0);
	enc_u8(b, JOURNAL_TYPE_SEQ);
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

	return p != NULL ? le_get32(p) : 0;
}

static uint64_t
rd_u64(struct reader *r)
{
	const unsigned char	*p = rd(r, 8);

	return p != NULL ? le_get64(p) : 0;
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
	case JOURNAL_TYPE_SEQ:
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

/*
 * Decode one payload into rec and a store the caller frees, in two
 * passes: measure, allocate exactly, copy.  For the internal SEQ record,
 * *seq_only is 1 and rec->seq holds its value.  Returns 0, or -1 when
 * malformed or out of memory.
 */
int
journal_decode(const unsigned char *p, size_t len, struct journal_rec *rec,
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

	if (journal_decode(p, len, rec, store, &seq_only) == -1)
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

/* --- headers ----------------------------------------------------------- */

/*
 * The header at h, of which n bytes exist (at most JOURNAL_HDR_SIZE are
 * read): its size, JOURNAL_HDR_SIZE or the first release's
 * JOURNAL_HDR1_SIZE, with the payload's length and CRC; or 0 when no
 * header that checks out starts there.  A first-release header has no
 * CRC of its own: only its payload's can vouch for its length.
 */
size_t
journal_header(const unsigned char *h, size_t n, uint32_t *plen,
    uint32_t *pcrc)
{
	size_t	 hlen;

	if (n < HDR1_SIZE)
		return 0;
	if (memcmp(h, magic, sizeof(magic)) == 0) {
		if (n < HDR_SIZE || crc32c(0, h, 12) != le_get32(h + 12))
			return 0;
		hlen = HDR_SIZE;
	} else if (memcmp(h, magic1, sizeof(magic1)) == 0)
		hlen = HDR1_SIZE;
	else
		return 0;
	*plen = le_get32(h + 4);
	*pcrc = le_get32(h + 8);
	if (*plen > MAX_PAYLOAD)
		return 0;
	return hlen;
}

/* Whether the four bytes at p are a record's magic, of either release. */
int
journal_is_magic(const unsigned char *p)
{
	return memcmp(p, magic, sizeof(magic)) == 0 ||
	    memcmp(p, magic1, sizeof(magic1)) == 0;
}

