/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index: see etag_index.h.
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
 * max_bytes (as counted by etag_index_bytes(): what the index allocated,
 * without malloc's overhead): after a put() takes the index past it,
 * entries are dropped oldest learn time first, across buckets (histograms
 * of learn times narrowed down to the second; ties in that second go in
 * table order), and the arena blocks they leave dead are compacted, until
 * the index is under 7/8 of max_bytes.  That costs a few passes over the
 * entries, once per max_bytes / 8 of growth.
 *
 * Freshness: put() never replaces an entry learned later than now, nor a
 * write response's entry with a read's (a listing, a HEAD) of the same
 * second: a listing that streams for a while must not undo a write made
 * meanwhile.  A put() with an ETag alone (a listing) keeps the digest of
 * an entry with the same ETag, and drops it for another ETag.  del()
 * keeps no tombstone, so a listing read before a delete and still
 * streaming after it can teach the deleted key again with its old ETag:
 * callers bound that, like any staleness, with not_before.
 *
 * File (ETAG_INDEX_FILE in dir), little-endian: "S3IETAG\n", u32 version
 * (3), u32 0; per bucket 'B', varint name length, name, varint entries,
 * varint listed_at, then each entry: varint shared bytes with the
 * previous key of the bucket, varint suffix length, suffix, u8 flags,
 * then the first 8 bytes of the MD5 and varint parts, or u8 length and
 * the raw ETag, then (flag E_META) the 8-byte digest, then varint learn
 * time; at the
 * end 'E', varint entries in all, u32 CRC-32C of every byte before it.
 * Version 2 (16 bytes of MD5, no digests, no E_META flag) loads with
 * every digest unknown.
 * A file that is foreign, of another version, truncated, over-long or
 * fails its checksum is ignored whole: the index starts empty.  The file
 * is read only if it is a regular file reached without a symlink, and
 * written to a mkstemp() name in dir, then renamed over it: nothing
 * planted in state_dir is followed or truncated.
 *
 * The learner: a libxml2 push parser with SAX2 callbacks, no network, no
 * DTD (a DOCTYPE stops it), no entity but the five predefined ones.  It
 * keeps only the text of the element being read (at most 4 KiB: S3 keys
 * are at most 1024 bytes, 3072 URL-encoded) and a 256 KiB queue of keys
 * that wait for the encoding to be known, below (keys that do not fit in
 * it are not learned).  It stops for good on
 * malformed XML, on a root other than ListBucketResult (or
 * ListBucketResultV2), on an EncodingType other than "url", or when 1 MiB
 * arrives without a single XML event (libxml2 would buffer it whole).  It
 * only adds and updates: a listing is partial (Prefix, MaxKeys, pages),
 * so a key missing from it says nothing.
 *
 * EncodingType: S3 sends it near the top (after MaxKeys, before the first
 * Contents), but the API reference lists it after Contents and moto
 * (5.x, which serialises in that order) sends it after the last
 * Contents.  So the learner does not assume an order: a key read before
 * EncodingType is known is learned at once when it has no '%' and no
 * '+' (it decodes to itself either way), else it waits in the queue;
 * EncodingType url decodes and learns the queue; the end of the root
 * without one learns it as is.  A document cut before either learns
 * nothing of the queue.  Decoding follows S3's form encoding: '+' is a
 * space, then %XX; a key that decodes to a NUL byte or has a bad escape is
 * skipped.
 *
 * Locking: one rwlock.  same(), count(), bytes(), each() and save()'s
 * serialisation read; put() and del() write.  each() calls fn with the
 * read lock held: fn may call same(), count(), bytes() and each() on the
 * same index (a thread-local flag skips the lock), while put() and del()
 * from fn fail (-1, errno EDEADLK) or do nothing, since they would change
 * what each() walks.  save() writes under the read lock and syncs after it.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/entities.h>
#include <openssl/rand.h>

#include "buf.h"
#include "crc.h"
#include "etag_index.h"
#include "sigv4.h"

/* Measured, see above: bytes per key of site-like paths, listing order. */
#define ETAG_INDEX_BYTES_PER_KEY	64

#define TAG_BITS	6
#define TAG_MASK	((1u << TAG_BITS) - 1)
#define ENTRIES_MAX	((1u << (32 - TAG_BITS)) - 2)
#define INDEX_MIN	16u
#define SEG_SHIFT	12
#define SEG_N		(1u << SEG_SHIFT)
#define SEG0_MIN	16u
#define BLOCK_SIZE	65536u
#define BLOCK_FIRST	1024u
#define BLOCKS_MAX	65536u
#define REC_HDR_MAX	9u
#define RESTART		16u
#define KEY_MAX		4096u
#define RAW_MAX		64u
#define TIME_MAX	((INT64_C(1) << 40) - 1)
#define NONE		UINT32_MAX

#define MD5_KEPT	8u	/* bytes of an MD5 ETag kept: 64 bits */
#define E_RAW		0x01	/* etag.raw, not etag.md5 */
#define E_LISTING	0x02	/* learned from a read (listing, HEAD) */
#define E_META		0x04	/* meta holds the s3_meta digest */
#define E_REDIR		0x08	/* that metadata has a redirect location */
#define E_V2		(E_RAW | E_LISTING)	/* flags of a version 2 file */

#define FILE_MAGIC	"S3IETAG\n"
#define TMP_X		6u	/* mkstemp()'s XXXXXX */
#define UPLOADS_MAX	1024u	/* uploads remembered at once */
#define UPLOAD_ID_MAX	1024u
#define FILE_VERSION	3u	/* 2: a bucket's listed_at; 3: digests */
#define FILE_VERSION_OLD 2u	/* loaded with every digest unknown */
#define NAME_MAX_LEN	1024u

/* 28 bytes: no pointer member, so no 8-byte alignment. */
struct entry {
	uint32_t	 koff;		/* record: block << 16 | offset */
	uint32_t	 learned;	/* learn time, bits 0-31 */
	uint16_t	 parts;		/* multipart part count, 0: single */
	uint8_t		 flags;		/* E_* */
	uint8_t		 learned_hi;	/* learn time, bits 32-39 */
	unsigned char	 etag[MD5_KEPT]; /* MD5's first bytes, or E_RAW: a
					 * char * (memcpy) */
	unsigned char	 meta[8];	/* E_META: digest, big-endian */
};

_Static_assert(sizeof(struct entry) == 28, "struct entry is 28 bytes");
_Static_assert(sizeof(char *) <= MD5_KEPT, "a pointer fits in etag");

struct block {
	unsigned char	*data;		/* NULL: a free block number */
	uint32_t	 used;		/* bytes of records */
	uint32_t	 cap;		/* bytes allocated */
	uint32_t	 dead;		/* bytes of dead records */
	uint32_t	 next_free;
};

struct bucket {
	char		*name;
	int64_t		 listed_at;	/* last complete listing seen; 0: none */
	uint32_t	*slots;		/* (entry + 1) << TAG_BITS | tag */
	uint32_t	 mask;		/* slots - 1; slots NULL: 0 */
	struct entry	**segs;
	uint32_t	 nsegs, segs_cap;
	uint32_t	 ecap;		/* entries allocated */
	uint32_t	 n;		/* entries in use */
	struct block	*blocks;
	uint32_t	 nblocks, blocks_cap;
	uint32_t	 free_block;	/* stack of free block numbers */
	uint32_t	 tail;		/* block appended to, or NONE */
	uint32_t	 last_off;	/* last record of the tail block */
	uint32_t	 since_restart;	/* records since a whole one */
};

struct etag_index {
	pthread_rwlock_t lock;		/* guards everything below */
	struct bucket	**bk;
	size_t		 nbk, bk_cap;
	size_t		 bytes;
	size_t		 max_bytes;	/* immutable */
	char		*dir;		/* immutable; NULL: not saved */
	uint64_t	 sip[2];	/* immutable */
	pthread_mutex_t	 save_mu;	/* one save at a time */
	int		 swept;		/* under save_mu: stale files gone */
	struct upload	*up;		/* UPLOADS_MAX, on first use */
	size_t		 up_next;	/* the slot filled next: the oldest */
};

/* A multipart upload created through the proxy, until completed. */
struct upload {
	char		*s;		/* "id\0bucket\0key"; NULL: free */
	size_t		 len;		/* bytes allocated for s */
	struct s3_meta	 meta;
};

/* A parsed ETag. */
struct etag_val {
	int		 raw;
	uint16_t	 parts;
	unsigned char	 md5[16];
	char		 s[RAW_MAX + 1];
};

/* The index whose each() this thread is inside, if any. */
static _Thread_local const struct etag_index *tl_iter;

/* --- small helpers ------------------------------------------------------ */

static size_t
put_uvarint(unsigned char *p, uint64_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

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
static uint32_t
key_hash(const struct etag_index *ix, const char *key, size_t len)
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * An ETag as S3 sends it: "md5", "md5-N", quoted or not; any other form
 * of 1 to 64 printable ASCII characters is kept raw.  0, or -1.
 */
static int
etag_parse(const char *in, struct etag_val *v)
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
	for (i = 0; i < 32 && i < len && hexval((unsigned char)p[i]) >= 0;
	    i++)
		;
	if (i == 32 && (len == 32 || (p[32] == '-' && len > 33 &&
	    len <= 38 && p[33] != '0'))) {
		for (i = 33; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			parts = parts * 10 + (unsigned long)(p[i] - '0');
		if (len == 32 || (i == len && parts <= UINT16_MAX)) {
			for (i = 0; i < 16; i++)
				v->md5[i] = (unsigned char)(
				    hexval((unsigned char)p[2 * i]) << 4 |
				    hexval((unsigned char)p[2 * i + 1]));
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

static char *
entry_raw(const struct entry *e)
{
	char	*p;

	memcpy(&p, e->etag, sizeof(p));
	return p;
}

static int64_t
entry_time(const struct entry *e)
{
	return (int64_t)((uint64_t)e->learned_hi << 32 | e->learned);
}

/* --- entries and slots -------------------------------------------------- */

static struct entry *
entry_at(const struct bucket *b, uint32_t i)
{
	return &b->segs[i >> SEG_SHIFT][i & (SEG_N - 1)];
}

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

	return key_hash(ix, key, rec_decode(b, entry_at(b, idx)->koff, key));
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

struct rec {
	uint32_t	 shared, slen, back, hl;
	int		 dead;
};

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

static uint32_t
find(const struct bucket *b, uint32_t h, const char *key, size_t len,
    uint32_t *slotp)
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
		if (rec_equal(b, e->koff, key, len)) {
			if (slotp != NULL)
				*slotp = pos;
			return slot_idx(s);
		}
	}
	return NONE;
}

static uint32_t
find_koff(const struct bucket *b, uint32_t h, uint32_t koff)
{
	const struct entry *e;
	uint32_t	 pos, s, tag = h >> (32 - TAG_BITS);

	for (pos = h & b->mask; b->slots[pos] != 0;
	    pos = (pos + 1) & b->mask) {
		s = b->slots[pos];
		if ((s & TAG_MASK) != tag)
			continue;
		e = entry_at(b, slot_idx(s));
		if (e->koff == koff)
			return slot_idx(s);
	}
	return NONE;
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
		j = find_koff(b, key_hash(ix, key, klen),
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

/* --- buckets ------------------------------------------------------------ */

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

static struct bucket *
bucket_find(const struct etag_index *ix, const char *name)
{
	size_t	 i;

	for (i = 0; i < ix->nbk; i++)
		if (strcmp(ix->bk[i]->name, name) == 0)
			return ix->bk[i];
	return NULL;
}

static struct bucket *
bucket_get(struct etag_index *ix, const char *name)
{
	struct bucket	*b, **bk;
	size_t		 cap;

	b = bucket_find(ix, name);
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

static void
buckets_free(struct etag_index *ix)
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
static int
entry_matches(const struct entry *e, const struct etag_val *v)
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

static uint64_t
meta_get(const unsigned char in[8])
{
	uint64_t	 d = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		d = d << 8 | in[i];
	return d;
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

	if (meta == NULL && entry_matches(e, v))
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
static void
entry_remove(struct etag_index *ix, struct bucket *b, uint32_t idx,
    uint32_t pos)
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

static void evict(struct etag_index *);

/* put() with the lock held (or during open()).  0, or -1. */
static int
put_locked(struct etag_index *ix, const char *bucket, const char *key,
    size_t len, uint32_t h, const struct etag_val *v,
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
	b = bucket_get(ix, bucket);
	if (b == NULL)
		goto fail;
	idx = find(b, h, key, len, NULL);
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
		evict(ix);
	return 0;
fail:
	free(raw);
	errno = ENOMEM;
	return -1;
}

/* --- eviction ----------------------------------------------------------- */

#define EVICT_BINS	256

/*
 * Drop the least recently learned entries of every bucket until the index
 * is under 7/8 of max_bytes: estimate how many entries that takes from the
 * mean cost of one, find the learn time that many are older than with a
 * histogram narrowed down to one second (at most 5 passes over the
 * entries: times have 40 bits), drop them (ties within that second in
 * table order), then compact the blocks they left dead.  A few rounds, as
 * the estimate is only a mean.
 */
static void
evict(struct etag_index *ix)
{
	size_t		 target = ix->max_bytes - ix->max_bytes / 8;
	size_t		 total, need, per, cum, hist[EVICT_BINS];
	uint64_t	 a, w, width, t;
	struct bucket	*b;
	uint32_t	 i, blk;
	size_t		 k, cut;
	int		 round;

	for (round = 0; round < 8 && ix->bytes > target; round++) {
		total = 0;
		for (k = 0; k < ix->nbk; k++)
			total += ix->bk[k]->n;
		if (total == 0)
			break;
		per = ix->bytes / total;
		if (per == 0)
			per = 1;
		need = (ix->bytes - target + per - 1) / per;
		if (need > total)
			need = total;
		/* Entries older than a go whole; need more from [a, a+w). */
		a = 0;
		w = (uint64_t)TIME_MAX + 1;
		do {
			width = (w + EVICT_BINS - 1) / EVICT_BINS;
			memset(hist, 0, sizeof(hist));
			for (k = 0; k < ix->nbk; k++) {
				b = ix->bk[k];
				for (i = 0; i < b->n; i++) {
					t = (uint64_t)entry_time(
					    entry_at(b, i));
					if (t >= a && t - a < w)
						hist[(t - a) / width]++;
				}
			}
			for (cut = 0, cum = 0; cut < EVICT_BINS - 1 &&
			    cum + hist[cut] < need; cut++)
				cum += hist[cut];
			need -= cum;
			a += cut * width;
			w = width;
		} while (width > 1);
		for (k = 0; k < ix->nbk; k++) {
			b = ix->bk[k];
			for (i = b->n; i-- > 0;) {
				t = (uint64_t)entry_time(entry_at(b, i));
				if (t > a)
					continue;
				if (t == a) {
					if (need == 0)
						continue;
					need--;
				}
				entry_remove(ix, b, i, slot_of(b, i,
				    entry_hash(ix, b, i)));
				if (i > b->n)
					i = b->n;
			}
			for (blk = 0; blk < b->nblocks; blk++)
				if (b->blocks[blk].data != NULL &&
				    b->blocks[blk].dead > 0)
					block_compact(ix, b, blk);
		}
	}
}

/* --- the API ------------------------------------------------------------ */

/* Read lock, unless this thread is inside this index's each().  Returns
 * whether it locked. */
static int
lock_read(struct etag_index *ix)
{
	if (tl_iter == ix)
		return 0;
	pthread_rwlock_rdlock(&ix->lock);
	return 1;
}

static void
unlock_if(struct etag_index *ix, int locked)
{
	if (locked)
		pthread_rwlock_unlock(&ix->lock);
}

static int load(struct etag_index *);

struct etag_index *
etag_index_open(const char *dir, size_t max_bytes)
{
	struct etag_index *ix;
	unsigned char	 seed[16];
	struct timespec	 ts;
	size_t		 i;

	ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return NULL;
	if (pthread_rwlock_init(&ix->lock, NULL) != 0) {
		free(ix);
		return NULL;
	}
	if (pthread_mutex_init(&ix->save_mu, NULL) != 0) {
		pthread_rwlock_destroy(&ix->lock);
		free(ix);
		return NULL;
	}
	if (dir != NULL) {
		ix->dir = strdup(dir);
		if (ix->dir == NULL) {
			etag_index_close(ix);
			return NULL;
		}
	}
	ix->max_bytes = max_bytes;
	ix->bytes = sizeof(*ix);
	if (RAND_bytes(seed, sizeof(seed)) != 1) {
		/* Weaker, but the index still works. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		memset(seed, 0, sizeof(seed));
		memcpy(seed, &ts, sizeof(ts) < 16 ? sizeof(ts) : 16);
		seed[15] ^= (unsigned char)(uintptr_t)ix;
	}
	for (i = 0; i < 8; i++) {
		ix->sip[0] = ix->sip[0] << 8 | seed[i];
		ix->sip[1] = ix->sip[1] << 8 | seed[8 + i];
	}
	xmlInitParser();
	if (ix->dir != NULL)
		(void)load(ix);
	return ix;
}

static void
upload_clear(struct etag_index *ix, struct upload *u)
{
	if (u->s == NULL)
		return;
	ix->bytes -= u->len;
	free(u->s);
	u->s = NULL;
	u->len = 0;
}

void
etag_index_close(struct etag_index *ix)
{
	size_t	 i;

	if (ix == NULL)
		return;
	for (i = 0; ix->up != NULL && i < UPLOADS_MAX; i++)
		upload_clear(ix, &ix->up[i]);
	free(ix->up);
	buckets_free(ix);
	free(ix->dir);
	pthread_mutex_destroy(&ix->save_mu);
	pthread_rwlock_destroy(&ix->lock);
	free(ix);
}

/* put() and put_meta(): meta NULL for an ETag alone. */
static int
put_any(struct etag_index *ix, const char *bucket, const char *key,
    const char *etag, const struct s3_meta *meta, int64_t now,
    int from_listing)
{
	struct etag_val	 v;
	size_t		 len;
	uint32_t	 h;
	int		 rc;

	if (ix == NULL || bucket == NULL || key == NULL) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(key);
	if (len > KEY_MAX - 1 || etag_parse(etag, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (tl_iter == ix) {
		errno = EDEADLK;
		return -1;
	}
	h = key_hash(ix, key, len);
	pthread_rwlock_wrlock(&ix->lock);
	rc = put_locked(ix, bucket, key, len, h, &v, meta, now,
	    from_listing);
	pthread_rwlock_unlock(&ix->lock);
	return rc;
}

int
etag_index_put(struct etag_index *ix, const char *bucket, const char *key,
    const char *etag, int64_t now, int from_listing)
{
	return put_any(ix, bucket, key, etag, NULL, now, from_listing);
}

int
etag_index_put_meta(struct etag_index *ix, const char *bucket,
    const char *key, const char *etag, const struct s3_meta *meta,
    int64_t now, int from_read)
{
	static const struct s3_meta unknown;

	return put_any(ix, bucket, key, etag, meta != NULL ? meta : &unknown,
	    now, from_read);
}

void
etag_index_del(struct etag_index *ix, const char *bucket, const char *key)
{
	struct bucket	*b;
	size_t		 len;
	uint32_t	 h, idx, pos;

	if (ix == NULL || bucket == NULL || key == NULL || tl_iter == ix)
		return;
	len = strlen(key);
	h = key_hash(ix, key, len);
	pthread_rwlock_wrlock(&ix->lock);
	b = bucket_find(ix, bucket);
	if (b != NULL) {
		idx = find(b, h, key, len, &pos);
		if (idx != NONE)
			entry_remove(ix, b, idx, pos);
	}
	pthread_rwlock_unlock(&ix->lock);
}

int
etag_index_lookup(struct etag_index *ix, const char *bucket,
    const char *key, const char *etag, int64_t not_before,
    struct s3_meta *meta)
{
	const struct bucket *b;
	const struct entry *e;
	struct etag_val	 v;
	size_t		 len;
	uint32_t	 h, idx;
	int		 locked, same = 0;

	if (meta != NULL)
		memset(meta, 0, sizeof(*meta));
	if (ix == NULL || bucket == NULL || key == NULL ||
	    etag_parse(etag, &v) == -1)
		return 0;
	len = strlen(key);
	h = key_hash(ix, key, len);
	locked = lock_read(ix);
	b = bucket_find(ix, bucket);
	idx = b != NULL ? find(b, h, key, len, NULL) : NONE;
	if (idx != NONE) {
		e = entry_at(b, idx);
		same = entry_time(e) >= not_before && entry_matches(e, &v);
		if (same && meta != NULL && (e->flags & E_META)) {
			meta->known = 1;
			meta->redirect = (e->flags & E_REDIR) != 0;
			meta->digest = meta_get(e->meta);
		}
	}
	unlock_if(ix, locked);
	return same;
}

int
etag_index_same(struct etag_index *ix, const char *bucket, const char *key,
    const char *etag, int64_t not_before)
{
	return etag_index_lookup(ix, bucket, key, etag, not_before, NULL);
}

int
etag_index_each(struct etag_index *ix, const char *bucket,
    int (*fn)(void *arg, const char *key), void *arg)
{
	const struct etag_index *outer;
	const struct bucket *b;
	const unsigned char *d;
	char		 key[KEY_MAX + 1];
	struct rec	 r;
	uint32_t	 blk, off;
	int		 locked, rc = 0;

	if (ix == NULL || bucket == NULL || fn == NULL)
		return 0;
	locked = lock_read(ix);
	outer = tl_iter;
	tl_iter = ix;
	b = bucket_find(ix, bucket);
	for (blk = 0; b != NULL && blk < b->nblocks && rc == 0; blk++) {
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
	tl_iter = outer;
	unlock_if(ix, locked);
	return rc;
}

size_t
etag_index_count(struct etag_index *ix, const char *bucket)
{
	const struct bucket *b;
	size_t		 n = 0;
	int		 locked;

	if (ix == NULL || bucket == NULL)
		return 0;
	locked = lock_read(ix);
	b = bucket_find(ix, bucket);
	if (b != NULL)
		n = b->n;
	unlock_if(ix, locked);
	return n;
}

void
etag_index_mark_listed(struct etag_index *ix, const char *bucket,
    int64_t now)
{
	struct bucket	*b;

	if (ix == NULL || bucket == NULL || tl_iter == ix)
		return;
	pthread_rwlock_wrlock(&ix->lock);
	b = bucket_get(ix, bucket);
	if (b != NULL && now > b->listed_at)
		b->listed_at = now;
	pthread_rwlock_unlock(&ix->lock);
}

int64_t
etag_index_listed_at(struct etag_index *ix, const char *bucket)
{
	const struct bucket *b;
	int64_t		 t = 0;
	int		 locked;

	if (ix == NULL || bucket == NULL)
		return 0;
	locked = lock_read(ix);
	b = bucket_find(ix, bucket);
	if (b != NULL)
		t = b->listed_at;
	unlock_if(ix, locked);
	return t;
}

/* The slot of upload id of bucket/key, or NULL. */
static struct upload *
upload_find(struct etag_index *ix, const char *bucket, const char *key,
    const char *id)
{
	struct upload	*u;
	const char	*b;
	size_t		 i;

	for (i = 0; ix->up != NULL && i < UPLOADS_MAX; i++) {
		u = &ix->up[i];
		if (u->s == NULL || strcmp(u->s, id) != 0)
			continue;
		b = u->s + strlen(u->s) + 1;
		if (strcmp(b, bucket) == 0 &&
		    strcmp(b + strlen(b) + 1, key) == 0)
			return u;
	}
	return NULL;
}

int
etag_index_upload_put(struct etag_index *ix, const char *bucket,
    const char *key, const char *upload_id, const struct s3_meta *meta)
{
	struct upload	*u;
	size_t		 il, bl, kl;
	char		*s;
	int		 rc = 0;

	if (ix == NULL || bucket == NULL || key == NULL ||
	    upload_id == NULL || meta == NULL || !meta->known) {
		errno = EINVAL;
		return -1;
	}
	il = strlen(upload_id);
	bl = strlen(bucket);
	kl = strlen(key);
	if (il == 0 || il > UPLOAD_ID_MAX || bl > NAME_MAX_LEN ||
	    kl > KEY_MAX - 1) {
		errno = EINVAL;
		return -1;
	}
	if (tl_iter == ix) {
		errno = EDEADLK;
		return -1;
	}
	s = malloc(il + bl + kl + 3);
	if (s == NULL)
		return -1;
	memcpy(s, upload_id, il + 1);
	memcpy(s + il + 1, bucket, bl + 1);
	memcpy(s + il + bl + 2, key, kl + 1);
	pthread_rwlock_wrlock(&ix->lock);
	if (ix->up == NULL) {
		ix->up = calloc(UPLOADS_MAX, sizeof(*ix->up));
		if (ix->up == NULL) {
			free(s);
			rc = -1;
			goto out;
		}
		ix->bytes += UPLOADS_MAX * sizeof(*ix->up);
	}
	u = upload_find(ix, bucket, key, upload_id);
	if (u == NULL) {
		/* The oldest goes: an upload never completed, most likely. */
		u = &ix->up[ix->up_next];
		ix->up_next = (ix->up_next + 1) % UPLOADS_MAX;
	}
	upload_clear(ix, u);
	u->s = s;
	u->len = il + bl + kl + 3;
	u->meta = *meta;
	ix->bytes += u->len;
out:
	pthread_rwlock_unlock(&ix->lock);
	if (rc == -1)
		errno = ENOMEM;
	return rc;
}

int
etag_index_upload_take(struct etag_index *ix, const char *bucket,
    const char *key, const char *upload_id, struct s3_meta *meta)
{
	struct upload	*u;
	int		 found = 0;

	if (meta != NULL)
		memset(meta, 0, sizeof(*meta));
	if (ix == NULL || bucket == NULL || key == NULL ||
	    upload_id == NULL || tl_iter == ix)
		return 0;
	pthread_rwlock_wrlock(&ix->lock);
	u = upload_find(ix, bucket, key, upload_id);
	if (u != NULL) {
		if (meta != NULL)
			*meta = u->meta;
		upload_clear(ix, u);
		found = 1;
	}
	pthread_rwlock_unlock(&ix->lock);
	return found;
}

size_t
etag_index_bytes(struct etag_index *ix)
{
	size_t	 n;
	int	 locked;

	if (ix == NULL)
		return 0;
	locked = lock_read(ix);
	n = ix->bytes;
	unlock_if(ix, locked);
	return n;
}

/* --- persistence -------------------------------------------------------- */

struct wr {
	FILE		*f;
	uint32_t	 crc;
	int		 err;
};

static void
wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->err || n == 0)
		return;
	if (fwrite(p, 1, n, w->f) != n) {
		w->err = errno != 0 ? errno : EIO;
		return;
	}
	w->crc = crc32c(w->crc, p, n);
}

static void
wr_uvarint(struct wr *w, uint64_t v)
{
	unsigned char	 b[10];

	wr_bytes(w, b, put_uvarint(b, v));
}

static void
wr_u32(struct wr *w, uint32_t v)
{
	unsigned char	 b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	wr_bytes(w, b, 4);
}

static void
wr_bucket(struct wr *w, const struct bucket *b)
{
	char		 key[KEY_MAX], prev[KEY_MAX];
	const struct entry *e;
	size_t		 len, plen = 0, shared, nl = strlen(b->name);
	uint32_t	 i;
	unsigned char	 fl;

	wr_bytes(w, "B", 1);
	wr_uvarint(w, nl);
	wr_bytes(w, b->name, nl);
	wr_uvarint(w, b->n);
	wr_uvarint(w, b->listed_at > 0 ? (uint64_t)b->listed_at : 0);
	for (i = 0; i < b->n && !w->err; i++) {
		e = entry_at(b, i);
		len = rec_decode(b, e->koff, key);
		for (shared = 0; shared < len && shared < plen &&
		    key[shared] == prev[shared]; shared++)
			;
		wr_uvarint(w, shared);
		wr_uvarint(w, len - shared);
		wr_bytes(w, key + shared, len - shared);
		fl = e->flags;
		wr_bytes(w, &fl, 1);
		if (e->flags & E_RAW) {
			fl = (unsigned char)strlen(entry_raw(e));
			wr_bytes(w, &fl, 1);
			wr_bytes(w, entry_raw(e), fl);
		} else {
			wr_bytes(w, e->etag, MD5_KEPT);
			wr_uvarint(w, e->parts);
		}
		if (e->flags & E_META)
			wr_bytes(w, e->meta, sizeof(e->meta));
		wr_uvarint(w, (uint64_t)entry_time(e));
		memcpy(prev, key, len);
		plen = len;
	}
}

/*
 * Remove what a save cut short left behind (a crash between mkstemp()
 * and rename()): temporary files of this index's name, and the fixed
 * ".tmp" name of older versions.  unlink() removes a symlink itself,
 * never what it points to.  Once per index: only one process owns
 * state_dir, so any such file is stale.
 */
static void
remove_stale(struct etag_index *ix)
{
	static const char prefix[] = ETAG_INDEX_FILE ".";
	const size_t	 plen = sizeof(prefix) - 1;
	const char	*sfx;
	struct dirent	*de;
	DIR		*d;
	size_t		 i, n;

	if (ix->swept)
		return;
	ix->swept = 1;
	d = opendir(ix->dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		sfx = de->d_name + plen;
		n = strlen(sfx);
		for (i = 0; i < n && isalnum((unsigned char)sfx[i]); i++)
			;
		if ((i == n && n == TMP_X) || strcmp(sfx, "tmp") == 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int
etag_index_save(struct etag_index *ix)
{
	struct buf	 tmp, path;
	struct wr	 w;
	size_t		 k, total = 0;
	int		 fd = -1, dfd = -1, err = 0, locked = 0, made = 0;

	if (ix == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ix->dir == NULL)
		return 0;	/* nowhere to save: in memory only */
	if (tl_iter == ix) {
		errno = EDEADLK;
		return -1;
	}
	memset(&w, 0, sizeof(w));
	buf_init(&tmp);
	buf_init(&path);
	buf_printf(&tmp, "%s/%s.XXXXXX", ix->dir, ETAG_INDEX_FILE);
	buf_printf(&path, "%s/%s", ix->dir, ETAG_INDEX_FILE);
	if (!buf_ok(&tmp) || !buf_ok(&path)) {
		buf_fini(&tmp);
		buf_fini(&path);
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&ix->save_mu);
	remove_stale(ix);
	/* A fresh name, created exclusively (0600): a file or symlink
	 * planted in state_dir is never opened, let alone truncated. */
	fd = mkstemp(tmp.data);
	if (fd == -1) {
		err = errno;
		goto out;
	}
	made = 1;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	w.f = fdopen(fd, "wb");
	if (w.f == NULL) {
		err = errno;
		goto out;
	}
	fd = -1;
	wr_bytes(&w, FILE_MAGIC, 8);
	wr_u32(&w, FILE_VERSION);
	wr_u32(&w, 0);
	pthread_rwlock_rdlock(&ix->lock);
	locked = 1;
	for (k = 0; k < ix->nbk && !w.err; k++) {
		if (ix->bk[k]->n == 0)
			continue;
		wr_bucket(&w, ix->bk[k]);
		total += ix->bk[k]->n;
	}
	pthread_rwlock_unlock(&ix->lock);
	locked = 0;
	wr_bytes(&w, "E", 1);
	wr_uvarint(&w, total);
	wr_u32(&w, w.crc);
	if (w.err) {
		err = w.err;
		goto out;
	}
	if (fflush(w.f) != 0 || fsync(fileno(w.f)) == -1) {
		err = errno;
		goto out;
	}
	if (fclose(w.f) != 0) {
		w.f = NULL;
		err = errno;
		goto out;
	}
	w.f = NULL;
	if (rename(buf_str(&tmp), buf_str(&path)) == -1) {
		err = errno;
		goto out;
	}
	dfd = open(ix->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		err = errno;
out:
	if (locked)
		pthread_rwlock_unlock(&ix->lock);
	if (w.f != NULL)
		fclose(w.f);
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (err != 0 && made)
		(void)unlink(buf_str(&tmp));	/* ENOENT past the rename */
	pthread_mutex_unlock(&ix->save_mu);
	buf_fini(&tmp);
	buf_fini(&path);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

struct rd {
	FILE		*f;
	uint32_t	 crc;
};

static int
rd_bytes(struct rd *r, void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (fread(p, 1, n, r->f) != n)
		return -1;
	r->crc = crc32c(r->crc, p, n);
	return 0;
}

static int
rd_uvarint(struct rd *r, uint64_t *v)
{
	unsigned char	 c;
	unsigned	 shift = 0;

	*v = 0;
	do {
		if (shift > 63 || rd_bytes(r, &c, 1) == -1)
			return -1;
		*v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	return 0;
}

/* Load dir/ETAG_INDEX_FILE into the (empty) index; on any doubt about it,
 * leave the index empty.  0, or -1. */
static int
load(struct etag_index *ix)
{
	struct buf	 path;
	struct rd	 r;
	struct etag_val	 v;
	struct s3_meta	 meta;
	struct stat	 st;
	char		 name[NAME_MAX_LEN + 1], key[KEY_MAX];
	char		 raw[RAW_MAX + 1];
	unsigned char	 hdr[16], c, fl, crc[4], md[8];
	uint64_t	 nl, n, i, shared, slen, parts, t, total = 0, want;
	uint64_t	 listed;
	struct bucket	*lb;
	size_t		 klen;
	uint32_t	 sum, version;
	uint8_t		 fl_ok;
	int		 rc = -1, fd;

	buf_init(&path);
	buf_printf(&path, "%s/%s", ix->dir, ETAG_INDEX_FILE);
	memset(&r, 0, sizeof(r));
	/* A regular file, never through a symlink (nor a FIFO planted in
	 * state_dir, which would block the start). */
	fd = buf_ok(&path) ? open(buf_str(&path), O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC) : -1;
	buf_fini(&path);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		r.f = fdopen(fd, "rb");
	if (r.f == NULL) {
		close(fd);
		return -1;
	}
	if (rd_bytes(&r, hdr, 16) == -1 || memcmp(hdr, FILE_MAGIC, 8) != 0)
		goto out;
	version = hdr[8] | hdr[9] << 8 | hdr[10] << 16 |
	    (uint32_t)hdr[11] << 24;
	if (version != FILE_VERSION && version != FILE_VERSION_OLD)
		goto out;
	/* Version 2 kept no digest: every one is unknown (fail safe). */
	fl_ok = version == FILE_VERSION ? E_V2 | E_META | E_REDIR : E_V2;
	for (;;) {
		if (rd_bytes(&r, &c, 1) == -1)
			goto out;
		if (c == 'E')
			break;
		if (c != 'B' || rd_uvarint(&r, &nl) == -1 || nl == 0 ||
		    nl > NAME_MAX_LEN || rd_bytes(&r, name, nl) == -1 ||
		    memchr(name, '\0', nl) != NULL ||
		    rd_uvarint(&r, &n) == -1 || rd_uvarint(&r, &listed) == -1 ||
		    listed > TIME_MAX)
			goto out;
		name[nl] = '\0';
		lb = bucket_get(ix, name);
		if (lb == NULL)
			goto out;
		lb->listed_at = (int64_t)listed;
		klen = 0;
		for (i = 0; i < n; i++) {
			if (rd_uvarint(&r, &shared) == -1 || shared > klen ||
			    rd_uvarint(&r, &slen) == -1 ||
			    shared + slen > KEY_MAX - 1 ||
			    rd_bytes(&r, key + shared, slen) == -1 ||
			    rd_bytes(&r, &fl, 1) == -1 || (fl & ~fl_ok) != 0 ||
			    (fl & (E_META | E_REDIR)) == E_REDIR)
				goto out;
			klen = shared + slen;
			memset(&v, 0, sizeof(v));
			if (fl & E_RAW) {
				if (rd_bytes(&r, &c, 1) == -1 || c == 0 ||
				    c > RAW_MAX || rd_bytes(&r, raw, c) == -1)
					goto out;
				raw[c] = '\0';
				if (etag_parse(raw, &v) == -1 || !v.raw)
					goto out;
			} else if (rd_bytes(&r, v.md5, version ==
			    FILE_VERSION ? MD5_KEPT : 16) == -1 ||
			    rd_uvarint(&r, &parts) == -1 ||
			    parts > UINT16_MAX)
				goto out;
			else
				v.parts = (uint16_t)parts;
			memset(&meta, 0, sizeof(meta));
			if (fl & E_META) {
				if (rd_bytes(&r, md, sizeof(md)) == -1)
					goto out;
				meta.known = 1;
				meta.redirect = (fl & E_REDIR) != 0;
				meta.digest = meta_get(md);
			}
			if (rd_uvarint(&r, &t) == -1 || t > TIME_MAX ||
			    memchr(key, '\0', klen) != NULL)
				goto out;
			if (put_locked(ix, name, key, klen,
			    key_hash(ix, key, klen), &v, &meta, (int64_t)t,
			    fl & E_LISTING) == -1)
				goto out;
		}
		total += n;
	}
	if (rd_uvarint(&r, &want) == -1 || want != total)
		goto out;
	sum = r.crc;
	if (fread(crc, 1, 4, r.f) != 4 || (crc[0] | crc[1] << 8 |
	    crc[2] << 16 | (uint32_t)crc[3] << 24) != sum ||
	    fgetc(r.f) != EOF)
		goto out;
	rc = 0;
out:
	fclose(r.f);
	if (rc == -1)
		buckets_free(ix);
	return rc;
}

/* --- the learner -------------------------------------------------------- */

#define TEXT_MAX	4096	/* one element's text */
#define PENDING_MAX	(256 * 1024)
#define STALL_MAX	(1024 * 1024)	/* bytes fed without an event */
#define FEED_PIECE	65536

enum cap { CAP_NONE, CAP_KEY, CAP_ETAG, CAP_ENC, CAP_PREFIX, CAP_TRUNC,
	CAP_DELIM };
enum enc { ENC_UNKNOWN, ENC_URL };

struct etag_learner {
	struct etag_index *ix;
	char		*bucket;
	int64_t		 now;
	xmlParserCtxtPtr ctxt;
	size_t		 learned;
	int		 stop;		/* learn nothing more */
	int		 depth;
	int		 in_contents;
	enum cap	 cap;
	int		 cap_depth;
	int		 cap_bad;	/* text over TEXT_MAX or a child */
	struct buf	 text;
	struct buf	 key, etag;
	int		 have_key, have_etag, contents_bad;
	enum enc	 enc;
	struct buf	 pending;	/* key NUL etag NUL ... */
	size_t		 stall;
	/* A complete listing: no Prefix, no Delimiter, IsTruncated false
	 * (the last page of a whole-bucket listing, as aws s3 sync makes). */
	int		 prefix_set, delim_set, truncated;
};

static void
learn(struct etag_learner *l, const char *key, size_t klen, const char *etag,
    int url)
{
	struct buf	 plus, dec;
	size_t		 i;

	if (!url) {
		if (etag_index_put(l->ix, l->bucket, key, etag, l->now,
		    1) == 0)
			l->learned++;
		return;
	}
	/* S3 form-encodes: '+' is a space, a literal '+' is %2B. */
	buf_init(&plus);
	buf_init(&dec);
	buf_append(&plus, key, klen);
	if (buf_ok(&plus)) {
		for (i = 0; i < plus.len; i++)
			if (plus.data[i] == '+')
				plus.data[i] = ' ';
		if (sigv4_uri_decode(&dec, plus.data, plus.len) == 0 &&
		    buf_ok(&dec) && dec.len > 0 &&
		    strlen(dec.data) == dec.len &&
		    etag_index_put(l->ix, l->bucket, dec.data, etag, l->now,
		    1) == 0)
			l->learned++;
	}
	buf_fini(&plus);
	buf_fini(&dec);
}

static void
pending_flush(struct etag_learner *l, int url)
{
	const char	*p = l->pending.data, *end;
	size_t		 kl;

	/* Nothing queued: data is NULL (and NULL + 0 is undefined). */
	end = p != NULL ? p + l->pending.len : NULL;
	while (p != NULL && p < end) {
		kl = strlen(p);
		learn(l, p, kl, p + kl + 1, url);
		p += kl + 1;
		p += strlen(p) + 1;
	}
	buf_fini(&l->pending);
	buf_init(&l->pending);
}

static void
halt(struct etag_learner *l)
{
	l->stop = 1;
	buf_fini(&l->pending);
	buf_init(&l->pending);
	if (l->ctxt != NULL)
		xmlStopParser(l->ctxt);
}

static void
contents_end(struct etag_learner *l)
{
	const char	*k = buf_str(&l->key);

	if (l->contents_bad || !l->have_key || !l->have_etag ||
	    l->key.len == 0)
		return;
	if (l->enc == ENC_URL)
		learn(l, k, l->key.len, buf_str(&l->etag), 1);
	else if (strpbrk(k, "%+") == NULL)
		/* Decodes to itself whatever the encoding turns out. */
		learn(l, k, l->key.len, buf_str(&l->etag), 0);
	else if (l->pending.len + l->key.len + l->etag.len + 2 <=
	    PENDING_MAX) {
		buf_append(&l->pending, k, l->key.len + 1);
		buf_append(&l->pending, buf_str(&l->etag), l->etag.len + 1);
		if (!buf_ok(&l->pending)) {
			buf_fini(&l->pending);
			buf_init(&l->pending);
		}
	}
}

static int
is(const xmlChar *name, const char *want)
{
	return strcmp((const char *)name, want) == 0;
}

static void
trim(struct buf *b)
{
	size_t	 i = 0, n = b->len;

	if (b->data == NULL)
		return;
	while (n > 0 && strchr(" \t\r\n", b->data[n - 1]) != NULL)
		n--;
	while (i < n && strchr(" \t\r\n", b->data[i]) != NULL)
		i++;
	memmove(b->data, b->data + i, n - i);
	b->len = n - i;
	b->data[b->len] = '\0';
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct etag_learner *l = ctx;

	(void)prefix;
	(void)uri;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_attributes;
	(void)nb_defaulted;
	(void)attributes;
	l->stall = 0;
	if (l->stop)
		return;
	l->depth++;
	if (l->cap != CAP_NONE) {
		l->cap_bad = 1;
		return;
	}
	if (l->depth == 1) {
		/* Until it says otherwise, a listing is taken as partial. */
		l->truncated = 1;
		if (!is(localname, "ListBucketResult") &&
		    !is(localname, "ListBucketResultV2"))
			halt(l);
	} else if (l->depth == 2 && is(localname, "Contents")) {
		l->in_contents = 1;
		l->have_key = l->have_etag = l->contents_bad = 0;
		buf_reset(&l->key);
		buf_reset(&l->etag);
	} else if (l->depth == 2 && is(localname, "EncodingType")) {
		l->cap = CAP_ENC;
	} else if (l->depth == 2 && is(localname, "Prefix")) {
		l->cap = CAP_PREFIX;
	} else if (l->depth == 2 && is(localname, "Delimiter")) {
		l->cap = CAP_DELIM;
	} else if (l->depth == 2 && is(localname, "IsTruncated")) {
		l->cap = CAP_TRUNC;
	} else if (l->depth == 3 && l->in_contents && is(localname, "Key")) {
		l->cap = CAP_KEY;
	} else if (l->depth == 3 && l->in_contents && is(localname, "ETag")) {
		l->cap = CAP_ETAG;
	}
	if (l->cap != CAP_NONE) {
		l->cap_depth = l->depth;
		l->cap_bad = 0;
		buf_reset(&l->text);
	}
}

static void
capture_end(struct etag_learner *l)
{
	struct buf	*dst = NULL;
	int		*have = NULL;

	if (!buf_ok(&l->text)) {
		l->cap_bad = 1;
		buf_fini(&l->text);
		buf_init(&l->text);
	}
	switch (l->cap) {
	case CAP_KEY:
		dst = &l->key;
		have = &l->have_key;
		break;
	case CAP_ETAG:
		trim(&l->text);
		dst = &l->etag;
		have = &l->have_etag;
		break;
	case CAP_ENC:
		trim(&l->text);
		if (l->cap_bad || strcmp(buf_str(&l->text), "url") != 0) {
			/* Keys in an encoding we do not know. */
			halt(l);
		} else if (l->enc != ENC_URL) {
			l->enc = ENC_URL;
			pending_flush(l, 1);
		}
		break;
	case CAP_PREFIX:
		trim(&l->text);
		l->prefix_set = l->cap_bad || l->text.len > 0;
		break;
	case CAP_DELIM:
		trim(&l->text);
		l->delim_set = l->cap_bad || l->text.len > 0;
		break;
	case CAP_TRUNC:
		trim(&l->text);
		l->truncated = l->cap_bad ||
		    strcmp(buf_str(&l->text), "false") != 0;
		break;
	case CAP_NONE:
		break;
	}
	if (dst != NULL) {
		if (*have || l->cap_bad)
			l->contents_bad = 1;
		buf_reset(dst);
		buf_append(dst, buf_str(&l->text), l->text.len);
		if (!buf_ok(dst)) {
			buf_fini(dst);
			buf_init(dst);
			l->contents_bad = 1;
		}
		*have = 1;
	}
	l->cap = CAP_NONE;
	l->cap_bad = 0;
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct etag_learner *l = ctx;

	(void)localname;
	(void)prefix;
	(void)uri;
	l->stall = 0;
	if (l->stop)
		return;
	if (l->cap != CAP_NONE && l->depth == l->cap_depth)
		capture_end(l);
	else if (l->depth == 2 && l->in_contents) {
		contents_end(l);
		l->in_contents = 0;
	} else if (l->depth == 1) {
		/* The whole listing, without EncodingType: keys as is. */
		if (l->enc == ENC_UNKNOWN)
			pending_flush(l, 0);
		if (!l->prefix_set && !l->delim_set && !l->truncated)
			etag_index_mark_listed(l->ix, l->bucket, l->now);
		l->stop = 1;
	}
	l->depth--;
}

static void
sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct etag_learner *l = ctx;

	l->stall = 0;
	if (l->stop || l->cap == CAP_NONE || l->cap_bad || len <= 0)
		return;
	if (l->text.len + (size_t)len > TEXT_MAX) {
		l->cap_bad = 1;
		return;
	}
	buf_append(&l->text, ch, (size_t)len);
}

static xmlEntityPtr
sax_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static void
sax_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	/* A listing has no DOCTYPE: whoever sent one is not S3. */
	halt(ctx);
}

#if LIBXML_VERSION >= 21200
static void
sax_serror(void *ctx, const xmlError *err)
#else
static void
sax_serror(void *ctx, xmlErrorPtr err)
#endif
{
	(void)ctx;
	(void)err;
}

struct etag_learner *
etag_learner_new(struct etag_index *ix, const char *bucket, int64_t now)
{
	struct etag_learner *l;
	xmlSAXHandler	 sax;

	if (ix == NULL || bucket == NULL)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->ix = ix;
	l->now = now;
	buf_init(&l->text);
	buf_init(&l->key);
	buf_init(&l->etag);
	buf_init(&l->pending);
	l->bucket = strdup(bucket);
	if (l->bucket == NULL)
		goto fail;
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start;
	sax.endElementNs = sax_end;
	sax.characters = sax_text;
	sax.cdataBlock = sax_text;
	sax.getEntity = sax_entity;
	sax.internalSubset = sax_subset;
	sax.serror = sax_serror;
	l->ctxt = xmlCreatePushParserCtxt(&sax, l, NULL, 0, "listing.xml");
	if (l->ctxt == NULL)
		goto fail;
	xmlCtxtUseOptions(l->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	return l;
fail:
	etag_learner_free(l);
	return NULL;
}

void
etag_learner_feed(struct etag_learner *l, const char *p, size_t n)
{
	size_t	 k;

	if (l == NULL || l->ctxt == NULL)
		return;
	while (n > 0 && !l->stop) {
		k = n < FEED_PIECE ? n : FEED_PIECE;
		l->stall += k;
		if (xmlParseChunk(l->ctxt, p, (int)k, 0) != 0 ||
		    !l->ctxt->wellFormed)
			halt(l);
		else if (l->stall > STALL_MAX)
			halt(l);
		p += k;
		n -= k;
	}
	if (l->stop) {
		/* Done or given up: let libxml2's memory go now. */
		xmlFreeParserCtxt(l->ctxt);
		l->ctxt = NULL;
		buf_fini(&l->text);
		buf_fini(&l->key);
		buf_fini(&l->etag);
		buf_fini(&l->pending);
	}
}

size_t
etag_learner_count(const struct etag_learner *l)
{
	return l == NULL ? 0 : l->learned;
}

void
etag_learner_free(struct etag_learner *l)
{
	if (l == NULL)
		return;
	if (l->ctxt != NULL)
		xmlFreeParserCtxt(l->ctxt);
	buf_fini(&l->text);
	buf_fini(&l->key);
	buf_fini(&l->etag);
	buf_fini(&l->pending);
	free(l->bucket);
	free(l);
}
