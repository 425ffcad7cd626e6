/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_store: the ETag index's key store (etag_index_store.h): ETags
 * parsed, keys interned per bucket, entries found, put and removed.  It
 * does not lock (etag_index.c does), evict (etag_index_evict.c), read or
 * write files (etag_index_file.c) or read listings (etag_learner.c).
 *
 * Layout, per bucket (the index holds a short array of buckets, found by
 * name with a linear search: a proxy serves a handful of buckets):
 *
 *  - entries: a dense array of 28-byte struct entry, in segments of 4096
 *    (the first segment grows from 16), so that a large bucket never
 *    reallocates (and never copies) its entries.  A deleted entry is
 *    replaced by the last one, so the array has no holes.
 *  - slots: an open-addressing table (linear probing, load 3/8 to 3/4,
 *    deletion by backward shift: no tombstones) of 32-bit words, each the
 *    entry number + 1 (0: empty) and 6 bits of the key's hash, so a probe
 *    touches an entry only when those bits match (the table holds up to
 *    2^26 - 2 entries a bucket).
 *  - keys: stored once, in an arena of blocks of at most 64 KiB, each key
 *    as a record front-coded against the record before it in its block
 *    (the bytes it shares with it are not stored again: a listing, and a
 *    sync after it, come in key order, so paths share most of their bytes
 *    with their neighbour).  Every 16th record, and the first of a block,
 *    is stored whole, so decoding one key reads at most 16 records.  A
 *    record: varint (shared << 1 | dead), varint suffix length, varint
 *    distance back to the previous record (0 when shared is 0), suffix.
 *    A forgotten key's record is flagged dead; a block more than half dead
 *    is compacted (its live records are appended to the current block and
 *    the block is freed), so dead bytes stay under about half the arena.
 *    An entry names its record by block << 16 | offset.
 *
 * struct entry (28 bytes): the record, the learn time (40 bits of seconds:
 * until year 36812; times before 1970 are 0), flags (from a read; raw
 * ETag; digest known; redirect), the 8-byte s3_meta digest of the served
 * headers, and the ETag: the first 8 bytes of the binary MD5 and the part
 * count of a multipart ETag ("md5-N", N up to 65535), or, for an ETag of
 * any other
 * form (other S3-compatible stores), a pointer to a copy of it (at most 64
 * printable ASCII characters, compared exactly; the copy costs its length
 * + 1 bytes and malloc's overhead).  Anything else (empty, over 64
 * characters, a quote or a control character inside) is refused: put()
 * returns -1.  The key's hash (32-bit SipHash-1-3 with a random key per
 * index, so that listed keys cannot be chosen to collide) is not kept:
 * growing the table and deleting hash decoded keys again, which costs less
 * than 4 bytes a key.  Keys are at most 4095 bytes (S3: 1024).
 *
 * 64 bits of each: the digest (issue 13) took the 8 bytes of the MD5's
 * second half, so an entry stays 28 bytes and 1M keys still fit in 100
 * MB.  Either false "same" makes a changed write look unchanged
 * (CloudFront serves the old copy until its TTL); by chance that is 2^-64
 * per changed write, out of reach for any site.  Against a writer who
 * crafts one, the full MD5 was no better: MD5 collisions are made in
 * seconds, and such a writer may write what it likes anyway.
 *
 * Bytes per key: 28 (entry) + 5.3 to 10.7 (slots; 8.4 at 1M keys) + 3 +
 * the bytes of the key not shared with the record before it.  Measured
 * with bench/etag_index_mem.c, 1M keys in one bucket, each with a digest,
 * growth of the process's RSS divided by the key count (MB = 10^6 bytes;
 * the same as before digests, to the tenth):
 *   site-like paths, 40-76 bytes (mean 54.5), in listing order: 63.4
 *   the same keys in random order (little shared):               93.0
 *   unrelated random 60-byte keys (nothing shared, worst case):  99.5
 * so 1M keys fit in 100 MB in all three; ETAG_INDEX_BYTES_PER_KEY is the
 * typical (first) case.
 *
 * Freshness: put() never replaces an entry learned later than now, nor a
 * write response's entry with a read's (a listing, a HEAD) of the same
 * second: a listing that streams for a while must not undo a write made
 * meanwhile.  A put() with an ETag alone (a listing) keeps the digest of
 * an entry with the same ETag, and drops it for another ETag.  del()
 * keeps no tombstone, so a listing read before a delete and still
 * streaming after it can teach the deleted key again with its old ETag:
 * callers bound that, like any staleness, with not_before.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etag_index_store.h"
#include "hex.h"

/* Measured, see above: bytes per key of site-like paths, listing order. */
#define ETAG_INDEX_BYTES_PER_KEY	64

#define TAG_BITS	6
#define TAG_MASK	((1u << TAG_BITS) - 1)
#define ENTRIES_MAX	((1u << (32 - TAG_BITS)) - 2)
#define INDEX_MIN	16u
#define SEG0_MIN	16u
#define BLOCK_SIZE	65536u
#define BLOCK_FIRST	1024u
#define BLOCKS_MAX	65536u
#define REC_HDR_MAX	9u
#define RESTART		16u

struct rec {
	uint32_t	 shared, slen, back, hl;
	int		 dead;
};

/* --- ETags and hashes --------------------------------------------------- */

static uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);	\
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);	\
} while (0)

/* SipHash-1-3 (one compression round, three finalisation rounds). */
uint32_t
etag_index_hash(const struct etag_index *ix, const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t	 v0 = ix->sip[0] ^ UINT64_C(0x736f6d6570736575);
	uint64_t	 v1 = ix->sip[1] ^ UINT64_C(0x646f72616e646f6d);
	uint64_t	 v2 = ix->sip[0] ^ UINT64_C(0x6c7967656e657261);
	uint64_t	 v3 = ix->sip[1] ^ UINT64_C(0x7465646279746573);
	uint64_t	 m, b = (uint64_t)len << 56;
	size_t		 i, left = len & 7, end = len - left;
	int		 k;

	for (i = 0; i < end; i += 8) {
		m = 0;
		for (k = 7; k >= 0; k--)
			m = m << 8 | p[i + (size_t)k];
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (k = (int)left - 1; k >= 0; k--)
		b |= (uint64_t)p[end + (size_t)k] << (8 * k);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	b = v0 ^ v1 ^ v2 ^ v3;
	return (uint32_t)(b ^ (b >> 32));
}

/*
 * An ETag as S3 sends it: "md5", "md5-N", quoted or not; any other form
 * of 1 to 64 printable ASCII characters is kept raw.  0, or -1.
 */
int
etag_index_parse_etag(const char *in, struct etag_val *v)
{
	const char	*p = in;
	size_t		 len, i;
	unsigned long	 parts = 0;

	memset(v, 0, sizeof(*v));
	if (in == NULL)
		return -1;
	len = strlen(p);
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	if (len == 0)
		return -1;
	i = hex_span(p, len < 32 ? len : 32);
	if (i == 32 && (len == 32 || (p[32] == '-' && len > 33 &&
	    len <= 38 && p[33] != '0'))) {
		for (i = 33; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			parts = parts * 10 + (unsigned long)(p[i] - '0');
		if (len == 32 || (i == len && parts <= UINT16_MAX)) {
			(void)hex_decode(v->md5, p, 16);	/* 32 digits */
			v->parts = (uint16_t)parts;
			return 0;
		}
	}
	if (len > RAW_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == '"')
			return -1;
	v->raw = 1;
	memcpy(v->s, p, len);
	v->s[len] = '\0';
	return 0;
}

static uint64_t
clamp_time(int64_t t)
{
	if (t < 0)
		return 0;
	if (t > TIME_MAX)
		return (uint64_t)TIME_MAX;
	return (uint64_t)t;
}

/* --- entries and slots -------------------------------------------------- */

static uint32_t
slot_make(uint32_t idx, uint32_t h)
{
	return (idx + 1) << TAG_BITS | h >> (32 - TAG_BITS);
}

static uint32_t
slot_idx(uint32_t s)
{
	return (s >> TAG_BITS) - 1;
}

static uint32_t
koff_make(uint32_t blk, uint32_t off)
{
	return blk << 16 | off;
}

/* Room for one more entry.  0, or -1. */
static int
entries_reserve(struct etag_index *ix, struct bucket *b)
{
	struct entry	*seg, **segs;
	uint32_t	 cap;

	if (b->n < b->ecap)
		return 0;
	if (b->n >= ENTRIES_MAX)
		return -1;
	if (b->nsegs == 1 && b->ecap < SEG_N) {
		cap = b->ecap * 2;
		seg = realloc(b->segs[0], cap * sizeof(*seg));
		if (seg == NULL)
			return -1;
		b->segs[0] = seg;
		ix->bytes += (cap - b->ecap) * sizeof(*seg);
		b->ecap = cap;
		return 0;
	}
	if (b->nsegs == b->segs_cap) {
		cap = b->segs_cap == 0 ? 4 : b->segs_cap * 2;
		segs = realloc(b->segs, cap * sizeof(*segs));
		if (segs == NULL)
			return -1;
		ix->bytes += (cap - b->segs_cap) * sizeof(*segs);
		b->segs = segs;
		b->segs_cap = cap;
	}
	cap = b->nsegs == 0 ? SEG0_MIN : SEG_N;
	seg = malloc(cap * sizeof(*seg));
	if (seg == NULL)
		return -1;
	ix->bytes += cap * sizeof(*seg);
	b->segs[b->nsegs++] = seg;
	b->ecap += cap;
	return 0;
}

/* Free whole segments past the last entry, keeping half a segment. */
static void
entries_trim(struct etag_index *ix, struct bucket *b)
{
	while (b->nsegs > 1 &&
	    (uint64_t)b->n + SEG_N / 2 < (uint64_t)(b->nsegs - 1) * SEG_N) {
		free(b->segs[--b->nsegs]);
		b->ecap -= SEG_N;
		ix->bytes -= SEG_N * sizeof(struct entry);
	}
}

static size_t rec_decode(const struct bucket *, uint32_t, char *);

/* The hash of entry idx's key: entries do not keep it (4 bytes a key),
 * so growing the table or deleting decodes keys again. */
static uint32_t
entry_hash(const struct etag_index *ix, const struct bucket *b,
    uint32_t idx)
{
	char	 key[KEY_MAX];

	return etag_index_hash(ix, key, rec_decode(b, entry_at(b, idx)->koff,
	    key));
}

/* Rebuild the slots with nslots (a power of two).  0, or -1. */
static int
slots_resize(struct etag_index *ix, struct bucket *b, uint32_t nslots)
{
	uint32_t	*s, mask = nslots - 1, i, pos, h;

	s = calloc(nslots, sizeof(*s));
	if (s == NULL)
		return -1;
	for (i = 0; i < b->n; i++) {
		h = entry_hash(ix, b, i);
		for (pos = h & mask; s[pos] != 0; pos = (pos + 1) & mask)
			;
		s[pos] = slot_make(i, h);
	}
	if (b->slots != NULL)
		ix->bytes -= ((size_t)b->mask + 1) * sizeof(*s);
	free(b->slots);
	b->slots = s;
	b->mask = mask;
	ix->bytes += (size_t)nslots * sizeof(*s);
	return 0;
}

/* The slot holding entry idx (which is in the table), h its hash. */
static uint32_t
slot_of(const struct bucket *b, uint32_t idx, uint32_t h)
{
	uint32_t	 pos = h & b->mask;

	while (slot_idx(b->slots[pos]) != idx)
		pos = (pos + 1) & b->mask;
	return pos;
}

/* Empty slot pos, shifting back the entries probed past it. */
static void
slot_clear(const struct etag_index *ix, struct bucket *b, uint32_t pos)
{
	uint32_t	 i = pos, j = pos, k, m = b->mask;

	for (;;) {
		j = (j + 1) & m;
		if (b->slots[j] == 0)
			break;
		k = entry_hash(ix, b, slot_idx(b->slots[j])) & m;
		if (j > i ? (k <= i || k > j) : (k <= i && k > j)) {
			b->slots[i] = b->slots[j];
			i = j;
		}
	}
	b->slots[i] = 0;
}

/* --- the key arena ------------------------------------------------------ */

/* Records are our own bytes: at most 3-byte values, no checks. */
static size_t
get_uvarint32(const unsigned char *p, uint32_t *v)
{
	uint32_t	 x = 0;
	size_t		 n = 0;
	unsigned	 shift = 0;

	do {
		x |= (uint32_t)(p[n] & 0x7f) << shift;
		shift += 7;
	} while (p[n++] & 0x80);
	*v = x;
	return n;
}

static void
rec_parse(const unsigned char *p, struct rec *r)
{
	uint32_t	 v;
	size_t		 n;

	n = get_uvarint32(p, &v);
	r->dead = (int)(v & 1);
	r->shared = v >> 1;
	n += get_uvarint32(p + n, &r->slen);
	n += get_uvarint32(p + n, &r->back);
	r->hl = (uint32_t)n;
}

/* Decode the key of record koff into out (KEY_MAX bytes); its length. */
static size_t
rec_decode(const struct bucket *b, uint32_t koff, char *out)
{
	const unsigned char *d = b->blocks[koff >> 16].data;
	uint32_t	 off = koff & 0xffff, need;
	struct rec	 r;
	size_t		 len;

	rec_parse(d + off, &r);
	len = (size_t)r.shared + r.slen;
	memcpy(out + r.shared, d + off + r.hl, r.slen);
	need = r.shared;
	while (need > 0) {
		off -= r.back;
		rec_parse(d + off, &r);
		if (need > r.shared)
			memcpy(out + r.shared, d + off + r.hl,
			    need - r.shared);
		if (r.shared < need)
			need = r.shared;
	}
	return len;
}

/* 1 when record koff holds exactly key. */
static int
rec_equal(const struct bucket *b, uint32_t koff, const char *key,
    size_t len)
{
	const unsigned char *d = b->blocks[koff >> 16].data;
	uint32_t	 off = koff & 0xffff, need;
	struct rec	 r;

	rec_parse(d + off, &r);
	if ((size_t)r.shared + r.slen != len ||
	    memcmp(key + r.shared, d + off + r.hl, r.slen) != 0)
		return 0;
	need = r.shared;
	while (need > 0) {
		off -= r.back;
		rec_parse(d + off, &r);
		if (need > r.shared && memcmp(key + r.shared,
		    d + off + r.hl, need - r.shared) != 0)
			return 0;
		if (r.shared < need)
			need = r.shared;
	}
	return 1;
}

static void
block_free(struct etag_index *ix, struct bucket *b, uint32_t blk)
{
	struct block	*bl = &b->blocks[blk];

	ix->bytes -= bl->cap;
	free(bl->data);
	bl->data = NULL;
	bl->used = bl->cap = bl->dead = 0;
	bl->next_free = b->free_block;
	b->free_block = blk;
	if (b->tail == blk)
		b->tail = NONE;
}

/* A new, empty tail block of at least need bytes.  Its number, or NONE. */
static uint32_t
block_new(struct etag_index *ix, struct bucket *b, uint32_t need)
{
	struct block	*bl;
	uint32_t	 blk, cap;
	unsigned char	*data;

	cap = need > BLOCK_FIRST ? need : BLOCK_FIRST;
	data = malloc(cap);
	if (data == NULL)
		return NONE;
	if (b->free_block != NONE) {
		blk = b->free_block;
		b->free_block = b->blocks[blk].next_free;
	} else {
		if (b->nblocks == BLOCKS_MAX) {
			free(data);
			return NONE;
		}
		if (b->nblocks == b->blocks_cap) {
			uint32_t n = b->blocks_cap == 0 ? 4 :
			    b->blocks_cap * 2;

			bl = realloc(b->blocks, n * sizeof(*bl));
			if (bl == NULL) {
				free(data);
				return NONE;
			}
			ix->bytes += (n - b->blocks_cap) * sizeof(*bl);
			b->blocks = bl;
			b->blocks_cap = n;
		}
		blk = b->nblocks++;
	}
	bl = &b->blocks[blk];
	bl->data = data;
	bl->cap = cap;
	bl->used = bl->dead = 0;
	bl->next_free = NONE;
	ix->bytes += cap;
	b->tail = blk;
	b->last_off = NONE;
	b->since_restart = 0;
	return blk;
}

/* Append key's record to the tail block.  0 and *koff, or -1. */
static int
rec_append(struct etag_index *ix, struct bucket *b, const char *key,
    size_t len, uint32_t *koff)
{
	char		 prev[KEY_MAX];
	struct block	*bl;
	unsigned char	*p, *data;
	uint32_t	 need = (uint32_t)len + REC_HDR_MAX, blk, cap;
	size_t		 shared = 0, plen, n;

	blk = b->tail;
	if (blk != NONE && b->blocks[blk].used + need > BLOCK_SIZE)
		blk = NONE;
	if (blk == NONE) {
		blk = block_new(ix, b, need);
		if (blk == NONE)
			return -1;
	}
	bl = &b->blocks[blk];
	if (bl->used + need > bl->cap) {
		cap = bl->cap * 2;
		if (cap < bl->used + need)
			cap = bl->used + need;
		if (cap > BLOCK_SIZE)
			cap = BLOCK_SIZE;
		data = realloc(bl->data, cap);
		if (data == NULL)
			return -1;
		ix->bytes += cap - bl->cap;
		bl->data = data;
		bl->cap = cap;
	}
	if (bl->used > 0 && b->since_restart < RESTART) {
		plen = rec_decode(b, koff_make(blk, b->last_off), prev);
		while (shared < plen && shared < len &&
		    prev[shared] == key[shared])
			shared++;
	}
	p = bl->data + bl->used;
	n = put_uvarint(p, (uint64_t)shared << 1);
	n += put_uvarint(p + n, len - shared);
	n += put_uvarint(p + n, shared > 0 ? bl->used - b->last_off : 0);
	memcpy(p + n, key + shared, len - shared);
	*koff = koff_make(blk, bl->used);
	b->last_off = bl->used;
	bl->used += (uint32_t)(n + len - shared);
	b->since_restart = shared > 0 ? b->since_restart + 1 : 1;
	return 0;
}

/*
 * The entry of hash h that is key[0..len) (key not NULL) or whose record
 * is koff (key NULL), or NONE; *slotp (may be NULL) gets its slot.  Only
 * the entries whose tag bits match h are looked at.
 */
static uint32_t
probe(const struct bucket *b, uint32_t h, const char *key, size_t len,
    uint32_t koff, uint32_t *slotp)
{
	const struct entry *e;
	uint32_t	 pos, s, tag = h >> (32 - TAG_BITS);

	if (b->slots == NULL)
		return NONE;
	for (pos = h & b->mask; b->slots[pos] != 0;
	    pos = (pos + 1) & b->mask) {
		s = b->slots[pos];
		if ((s & TAG_MASK) != tag)
			continue;
		e = entry_at(b, slot_idx(s));
		if (key != NULL ? rec_equal(b, e->koff, key, len) :
		    e->koff == koff) {
			if (slotp != NULL)
				*slotp = pos;
			return slot_idx(s);
		}
	}
	return NONE;
}

uint32_t
etag_index_find(const struct bucket *b, uint32_t h, const char *key,
    size_t len, uint32_t *slotp)
{
	return probe(b, h, key, len, 0, slotp);
}

static uint32_t
find_koff(const struct bucket *b, uint32_t h, uint32_t koff)
{
	return probe(b, h, NULL, 0, koff, NULL);
}

/*
 * Move the live records of block blk to the tail and free it.  First
 * find every live record's entry (nothing moves yet), then move them in
 * order; a failed append stops the move halfway, which is consistent
 * (moved records are flagged dead here).
 */
static void
block_compact(struct etag_index *ix, struct bucket *b, uint32_t blk)
{
	char		 key[KEY_MAX];
	uint32_t	*idx = NULL, nidx = 0, j, off, used, koff;
	struct rec	 r;
	size_t		 klen = 0;
	const unsigned char *d;

	if (b->tail == blk)
		b->tail = NONE;
	used = b->blocks[blk].used;
	idx = malloc((used / 3 + 1) * sizeof(*idx));
	if (idx == NULL)
		return;
	d = b->blocks[blk].data;
	for (off = 0; off < used; off += r.hl + r.slen) {
		rec_parse(d + off, &r);
		memcpy(key + r.shared, d + off + r.hl, r.slen);
		klen = (size_t)r.shared + r.slen;
		if (r.dead)
			continue;
		j = find_koff(b, etag_index_hash(ix, key, klen),
		    koff_make(blk, off));
		if (j != NONE)
			idx[nidx++] = j;
	}
	j = 0;
	for (off = 0; off < used && j < nidx; off += r.hl + r.slen) {
		d = b->blocks[blk].data;	/* blocks may move */
		rec_parse(d + off, &r);
		memcpy(key + r.shared, d + off + r.hl, r.slen);
		klen = (size_t)r.shared + r.slen;
		if (r.dead)
			continue;
		if (entry_at(b, idx[j])->koff != koff_make(blk, off))
			continue;	/* no entry found in pass 1 */
		if (rec_append(ix, b, key, klen, &koff) == -1)
			break;
		entry_at(b, idx[j++])->koff = koff;
		b->blocks[blk].data[off] |= 1;
		b->blocks[blk].dead += r.hl + r.slen;
	}
	free(idx);
	if (b->blocks[blk].dead == b->blocks[blk].used)
		block_free(ix, b, blk);
}

/* Flag record koff dead; compact or free its block when worth it. */
static void
rec_kill(struct etag_index *ix, struct bucket *b, uint32_t koff)
{
	uint32_t	 blk = koff >> 16;
	struct block	*bl = &b->blocks[blk];
	struct rec	 r;

	rec_parse(bl->data + (koff & 0xffff), &r);
	bl->data[koff & 0xffff] |= 1;
	bl->dead += r.hl + r.slen;
	if (bl->dead == bl->used)
		block_free(ix, b, blk);
	else if (bl->dead > bl->used / 2)
		block_compact(ix, b, blk);
}

/* Call fn for every live key of b, in arena order, until it returns
 * non-zero; returns that value, or 0. */
int
etag_index_walk(const struct bucket *b,
    int (*fn)(void *arg, const char *key), void *arg)
{
	const unsigned char *d;
	char		 key[KEY_MAX + 1];
	struct rec	 r;
	uint32_t	 blk, off;
	int		 rc = 0;

	for (blk = 0; blk < b->nblocks && rc == 0; blk++) {
		d = b->blocks[blk].data;
		if (d == NULL)
			continue;
		for (off = 0; off < b->blocks[blk].used && rc == 0;
		    off += r.hl + r.slen) {
			rec_parse(d + off, &r);
			memcpy(key + r.shared, d + off + r.hl, r.slen);
			if (r.dead)
				continue;
			key[r.shared + r.slen] = '\0';
			rc = fn(arg, key);
		}
	}
	return rc;
}

/* Compact every block of b that holds dead records. */
void
etag_index_compact(struct etag_index *ix, struct bucket *b)
{
	uint32_t	 blk;

	for (blk = 0; blk < b->nblocks; blk++)
		if (b->blocks[blk].data != NULL && b->blocks[blk].dead > 0)
			block_compact(ix, b, blk);
}

/* Entry e's key into out (KEY_MAX bytes, no NUL added); its length. */
size_t
etag_index_entry_key(const struct bucket *b, const struct entry *e,
    char *out)
{
	return rec_decode(b, e->koff, out);
}

/* --- buckets and entries ------------------------------------------------ */

static void
entry_clear_raw(struct etag_index *ix, struct entry *e)
{
	char	*raw;

	if (e->flags & E_RAW) {
		raw = entry_raw(e);
		ix->bytes -= strlen(raw) + 1;
		free(raw);
		e->flags &= (uint8_t)~E_RAW;
	}
}

/* Free everything a bucket holds but its name. */
static void
bucket_empty(struct etag_index *ix, struct bucket *b)
{
	uint32_t	 i;

	for (i = 0; i < b->n; i++)
		entry_clear_raw(ix, entry_at(b, i));
	ix->bytes -= (size_t)b->segs_cap * sizeof(*b->segs) +
	    (size_t)b->ecap * sizeof(struct entry) +
	    (size_t)b->blocks_cap * sizeof(*b->blocks);
	if (b->slots != NULL)
		ix->bytes -= ((size_t)b->mask + 1) * sizeof(*b->slots);
	for (i = 0; i < b->nsegs; i++)
		free(b->segs[i]);
	for (i = 0; i < b->nblocks; i++) {
		ix->bytes -= b->blocks[i].cap;
		free(b->blocks[i].data);
	}
	free(b->segs);
	free(b->blocks);
	free(b->slots);
	b->segs = NULL;
	b->blocks = NULL;
	b->slots = NULL;
	b->mask = b->nsegs = b->segs_cap = b->ecap = b->n = 0;
	b->nblocks = b->blocks_cap = 0;
	b->free_block = b->tail = b->last_off = NONE;
	b->since_restart = 0;
}

struct bucket *
etag_index_bucket_find(const struct etag_index *ix, const char *name)
{
	size_t	 i;

	for (i = 0; i < ix->nbk; i++)
		if (strcmp(ix->bk[i]->name, name) == 0)
			return ix->bk[i];
	return NULL;
}

struct bucket *
etag_index_bucket_get(struct etag_index *ix, const char *name)
{
	struct bucket	*b, **bk;
	size_t		 cap;

	b = etag_index_bucket_find(ix, name);
	if (b != NULL)
		return b;
	if (ix->nbk == ix->bk_cap) {
		cap = ix->bk_cap == 0 ? 4 : ix->bk_cap * 2;
		bk = realloc(ix->bk, cap * sizeof(*bk));
		if (bk == NULL)
			return NULL;
		ix->bytes += (cap - ix->bk_cap) * sizeof(*bk);
		ix->bk = bk;
		ix->bk_cap = cap;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->name = strdup(name);
	if (b->name == NULL) {
		free(b);
		return NULL;
	}
	b->free_block = b->tail = b->last_off = NONE;
	ix->bk[ix->nbk++] = b;
	ix->bytes += sizeof(*b) + strlen(name) + 1;
	return b;
}

void
etag_index_buckets_free(struct etag_index *ix)
{
	size_t	 i;

	for (i = 0; i < ix->nbk; i++) {
		bucket_empty(ix, ix->bk[i]);
		ix->bytes -= sizeof(*ix->bk[i]) + strlen(ix->bk[i]->name) + 1;
		free(ix->bk[i]->name);
		free(ix->bk[i]);
	}
	ix->bytes -= ix->bk_cap * sizeof(*ix->bk);
	free(ix->bk);
	ix->bk = NULL;
	ix->nbk = ix->bk_cap = 0;
}

/* 1 when entry e holds the ETag v. */
int
etag_index_entry_matches(const struct entry *e, const struct etag_val *v)
{
	if (v->raw)
		return (e->flags & E_RAW) && strcmp(entry_raw(e), v->s) == 0;
	return !(e->flags & E_RAW) && e->parts == v->parts &&
	    memcmp(e->etag, v->md5, MD5_KEPT) == 0;
}

static void
meta_put(unsigned char out[8], uint64_t d)
{
	int	 i;

	for (i = 7; i >= 0; i--, d >>= 8)
		out[i] = (unsigned char)d;
}

/*
 * Set e to ETag v (raw: its copy, owned from now on) learned at t.  meta:
 * what is known of the metadata; NULL (an ETag alone, as a listing shows
 * it) keeps the digest e had when its ETag is the same, and forgets it
 * otherwise: other bytes say nothing of the headers.
 */
static void
entry_set(struct etag_index *ix, struct entry *e, const struct etag_val *v,
    char *raw, uint64_t t, int from_listing, const struct s3_meta *meta)
{
	uint8_t		 keep = 0;

	if (meta == NULL && etag_index_entry_matches(e, v))
		keep = e->flags & (E_META | E_REDIR);
	entry_clear_raw(ix, e);
	e->learned = (uint32_t)t;
	e->learned_hi = (uint8_t)(t >> 32);
	e->flags = (uint8_t)((from_listing ? E_LISTING : 0) | keep);
	if (meta != NULL && meta->known) {
		e->flags |= E_META | (meta->redirect ? E_REDIR : 0);
		meta_put(e->meta, meta->digest);
	} else if (!keep)
		memset(e->meta, 0, sizeof(e->meta));
	if (v->raw) {
		e->flags |= E_RAW;
		memcpy(e->etag, &raw, sizeof(raw));
		e->parts = 0;
		ix->bytes += strlen(raw) + 1;
	} else {
		memcpy(e->etag, v->md5, MD5_KEPT);
		e->parts = v->parts;
	}
}

/* Forget entry idx, at slot pos. */
void
etag_index_entry_remove(struct etag_index *ix, struct bucket *b,
    uint32_t idx, uint32_t pos)
{
	struct entry	*e = entry_at(b, idx);
	uint32_t	 koff = e->koff, last = b->n - 1, nslots, h;

	entry_clear_raw(ix, e);
	slot_clear(ix, b, pos);
	if (idx != last) {
		h = entry_hash(ix, b, last);
		b->slots[slot_of(b, last, h)] = slot_make(idx, h);
		*e = *entry_at(b, last);
	}
	b->n--;
	rec_kill(ix, b, koff);
	if (b->n == 0) {
		bucket_empty(ix, b);
		return;
	}
	entries_trim(ix, b);
	nslots = b->mask + 1;
	if (nslots > INDEX_MIN && b->n < nslots / 8)
		(void)slots_resize(ix, b, nslots / 2);
}

/* Forget entry idx, wherever its slot is. */
void
etag_index_entry_drop(struct etag_index *ix, struct bucket *b, uint32_t idx)
{
	etag_index_entry_remove(ix, b, idx, slot_of(b, idx,
	    entry_hash(ix, b, idx)));
}

/* put() with the lock held (or during open()).  0, or -1. */
int
etag_index_put_locked(struct etag_index *ix, const char *bucket,
    const char *key, size_t len, uint32_t h, const struct etag_val *v,
    const struct s3_meta *meta, int64_t now, int from_listing)
{
	struct bucket	*b;
	struct entry	*e;
	char		*raw = NULL;
	uint64_t	 t = clamp_time(now);
	uint32_t	 idx, pos, koff, nslots;

	if (v->raw) {
		raw = strdup(v->s);
		if (raw == NULL)
			return -1;
	}
	b = etag_index_bucket_get(ix, bucket);
	if (b == NULL)
		goto fail;
	idx = etag_index_find(b, h, key, len, NULL);
	if (idx != NONE) {
		e = entry_at(b, idx);
		/* An older observation never replaces a newer one, nor a
		 * listing a write response of the same second. */
		if ((uint64_t)entry_time(e) > t ||
		    ((uint64_t)entry_time(e) == t && from_listing &&
		    !(e->flags & E_LISTING))) {
			free(raw);
			return 0;
		}
		entry_set(ix, e, v, raw, t, from_listing, meta);
		return 0;
	}
	nslots = b->slots == NULL ? 0 : b->mask + 1;
	if (((uint64_t)b->n + 1) * 4 > (uint64_t)nslots * 3 &&
	    slots_resize(ix, b, nslots == 0 ? INDEX_MIN : nslots * 2) == -1)
		goto fail;
	if (entries_reserve(ix, b) == -1 ||
	    rec_append(ix, b, key, len, &koff) == -1)
		goto fail;
	idx = b->n++;
	e = entry_at(b, idx);
	memset(e, 0, sizeof(*e));
	e->koff = koff;
	entry_set(ix, e, v, raw, t, from_listing, meta);
	for (pos = h & b->mask; b->slots[pos] != 0; pos = (pos + 1) & b->mask)
		;
	b->slots[pos] = slot_make(idx, h);
	if (ix->max_bytes > 0 && ix->bytes > ix->max_bytes)
		etag_index_evict(ix);
	return 0;
fail:
	free(raw);
	errno = ENOMEM;
	return -1;
}
