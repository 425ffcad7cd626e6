/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_store: the ETag index's in-memory key store (see
 * etag_index_store.c), private to the etag_index_*.c files: the layout of
 * the index, its buckets and entries, and the operations on them the
 * other files share.  Nothing here locks: callers hold the index's lock
 * (etag_index.c says which) or own the index alone (while it opens).
 * Not part of the index's API: that is etag_index.h.
 */
#ifndef S3I_ETAG_INDEX_STORE_H
#define S3I_ETAG_INDEX_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "etag_index.h"
#include "s3_meta.h"

#define SEG_SHIFT	12
#define SEG_N		(1u << SEG_SHIFT)
#define KEY_MAX		4096u
#define RAW_MAX		64u
#define TIME_MAX	((INT64_C(1) << 40) - 1)
#define NONE		UINT32_MAX

#define MD5_KEPT	8u	/* bytes of an MD5 ETag kept: 64 bits */
#define E_RAW		0x01	/* etag.raw, not etag.md5 */
#define E_LISTING	0x02	/* learned from a read (listing, HEAD) */
#define E_META		0x04	/* meta holds the s3_meta digest */
#define E_REDIR		0x08	/* that metadata has a redirect location */
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
	int64_t		 listed_at;	/* last complete listing; 0: none */
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
	struct upload	*up;		/* etag_index_upload.c's */
	size_t		 up_next;	/* the slot filled next: the oldest */
};

/* A parsed ETag. */
struct etag_val {
	int		 raw;
	uint16_t	 parts;
	unsigned char	 md5[16];
	char		 s[RAW_MAX + 1];
};

static inline size_t
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

static inline char *
entry_raw(const struct entry *e)
{
	char	*p;

	memcpy(&p, e->etag, sizeof(p));
	return p;
}

static inline int64_t
entry_time(const struct entry *e)
{
	return (int64_t)((uint64_t)e->learned_hi << 32 | e->learned);
}

static inline struct entry *
entry_at(const struct bucket *b, uint32_t i)
{
	return &b->segs[i >> SEG_SHIFT][i & (SEG_N - 1)];
}

static inline uint64_t
meta_get(const unsigned char in[8])
{
	uint64_t	 d = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		d = d << 8 | in[i];
	return d;
}

/* etag_index_store.c: ETags, keys and entries. */
int	etag_index_parse_etag(const char *, struct etag_val *);
uint32_t etag_index_hash(const struct etag_index *, const char *key,
	    size_t len);
int	etag_index_entry_matches(const struct entry *,
	    const struct etag_val *);
size_t	etag_index_entry_key(const struct bucket *, const struct entry *,
	    char *out);
struct bucket *etag_index_bucket_find(const struct etag_index *,
	    const char *name);
struct bucket *etag_index_bucket_get(struct etag_index *, const char *name);
void	etag_index_buckets_free(struct etag_index *);
uint32_t etag_index_find(const struct bucket *, uint32_t h, const char *key,
	    size_t len, uint32_t *slotp);
int	etag_index_put_locked(struct etag_index *, const char *bucket,
	    const char *key, size_t len, uint32_t h, const struct etag_val *,
	    const struct s3_meta *, int64_t now, int from_listing);
void	etag_index_entry_remove(struct etag_index *, struct bucket *,
	    uint32_t idx, uint32_t pos);
void	etag_index_entry_drop(struct etag_index *, struct bucket *,
	    uint32_t idx);
void	etag_index_compact(struct etag_index *, struct bucket *);
int	etag_index_walk(const struct bucket *,
	    int (*fn)(void *arg, const char *key), void *arg);

/* etag_index.c: 1 when this thread is inside ix's etag_index_each(). */
int	etag_index_in_each(const struct etag_index *);
/* etag_index_evict.c: back under max_bytes. */
void	etag_index_evict(struct etag_index *);
/* etag_index_file.c: load dir/ETAG_INDEX_FILE into an empty index. */
int	etag_index_load(struct etag_index *);
/* etag_index_upload.c: forget every upload. */
void	etag_index_uploads_free(struct etag_index *);

#endif
