/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index: the last known ETag of each key, per bucket, and the digest
 * of its served headers (s3_meta) when known, so that a write that stores
 * the same bytes with the same headers again (a fresh CI build re-uploads
 * every file) needs no invalidation, and so that the planner knows which
 * unchanged objects a wildcard would evict.
 *
 * ETags are learned from ListObjects/ListObjectsV2 responses passing
 * through the proxy (parsed as they stream: the listing is never held
 * whole), from write responses and from HEAD/GET responses; digests only
 * from writes and HEAD/GET responses (a listing shows no headers: it
 * keeps the digest of a key whose ETag it confirms, and drops it when the
 * ETag differs).  Each entry keeps when it was learned and whether from a
 * read, because an object may change behind the proxy's back: a caller
 * trusts an entry only while it is fresh.
 *
 * Memory: keys are stored once, interned per bucket, with 64 bits of the
 * MD5 when the ETag is one (multipart ETags "md5-N" keep their part
 * count; etag_index_store.c says why 64 bits are enough), the 8-byte
 * digest and the learn time: see ETAG_INDEX_BYTES_PER_KEY.  Persistence: one
 * file in state_dir, rewritten atomically (mkstemp, write, fsync, rename)
 * by etag_index_save(); a damaged file is ignored (the index is a cache),
 * and a file of the version before digests loads with every digest
 * unknown.
 *
 * Threads: every function may be called from any thread (one internal
 * lock); the learner is owned by one request.
 */
#ifndef S3I_ETAG_INDEX_H
#define S3I_ETAG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "s3_meta.h"

#define ETAG_INDEX_FILE		"etag-index"

struct etag_index;

/* Open the index, loading dir/ETAG_INDEX_FILE when it is there and sound.
 * max_bytes bounds its memory (0: unbounded); past it, the least recently
 * learned entries are dropped.  NULL on allocation failure. */
struct etag_index *etag_index_open(const char *dir, size_t max_bytes);
void	etag_index_close(struct etag_index *);	/* does not save */
int	etag_index_save(struct etag_index *);	/* 0, or -1 with errno */

/* Remember (or replace) key's ETag as of now; etag as S3 sends it,
 * quoted or not.  from_listing: learned from a listing (0: from a write
 * response).  The digest known for key stays when the ETag is the same
 * and is forgotten otherwise.  Returns 0, or -1 on a malformed ETag or no
 * memory. */
int	etag_index_put(struct etag_index *, const char *bucket,
	    const char *key, const char *etag, int64_t now, int from_listing);

/*
 * The same with what is known of the object's headers: meta (NULL or not
 * known: unknown) replaces the digest whatever the ETag.  from_read: seen
 * in a HEAD/GET response (or a probe), which, like a listing, never
 * replaces a write's entry of the same second; 0: a write.
 */
int	etag_index_put_meta(struct etag_index *, const char *bucket,
	    const char *key, const char *etag, const struct s3_meta *meta,
	    int64_t now, int from_read);
/* Forget key (it was deleted). */
void	etag_index_del(struct etag_index *, const char *bucket,
	    const char *key);

/*
 * 1 when key is known with this ETag (an MD5 ETag: its first 64 bits and
 * part count; any other form exactly) and the entry was learned at
 * or after not_before; 0 otherwise (unknown, different, or too old).
 */
int	etag_index_same(struct etag_index *, const char *bucket,
	    const char *key, const char *etag, int64_t not_before);

/* The same, and *meta (may be NULL) set to the digest known with that
 * ETag (meta->known 0 when none is, or when the result is 0). */
int	etag_index_lookup(struct etag_index *, const char *bucket,
	    const char *key, const char *etag, int64_t not_before,
	    struct s3_meta *meta);

/* Call fn for every key of bucket (in no particular order) until it
 * returns non-zero; returns that value, or 0. */
int	etag_index_each(struct etag_index *, const char *bucket,
	    int (*fn)(void *arg, const char *key), void *arg);

size_t	etag_index_count(struct etag_index *, const char *bucket);

/*
 * When the proxy last saw a complete listing of bucket (no Prefix, no
 * Delimiter, IsTruncated false), or 0: only then does the index know the
 * bucket's whole key set, which a cost-aware plan needs (unknown objects
 * under a wildcard would be evicted uncounted).  The learner marks it.
 */
void	etag_index_mark_listed(struct etag_index *, const char *bucket,
	    int64_t now);
int64_t	etag_index_listed_at(struct etag_index *, const char *bucket);
size_t	etag_index_bytes(struct etag_index *);	/* memory in use */

/*
 * Multipart uploads: the digest of the headers a CreateMultipartUpload
 * named (they become the object's at CompleteMultipartUpload), by
 * UploadId, bucket and key.  In memory only, the last UPLOADS_MAX (1024)
 * at most: an upload forgotten (restart, too many at once) completes
 * with its headers unknown, so it counts as changed.
 *
 * upload_put(): meta must be known; 0, or -1.  upload_take(): 1 and *meta
 * (removed from the index) when the upload is known, 0 otherwise.
 */
int	etag_index_upload_put(struct etag_index *, const char *bucket,
	    const char *key, const char *upload_id, const struct s3_meta *);
int	etag_index_upload_take(struct etag_index *, const char *bucket,
	    const char *key, const char *upload_id, struct s3_meta *);

/*
 * The learner: feed it a ListObjects or ListObjectsV2 response body as it
 * streams by; it records each <Contents> Key/ETag pair (URL-decoding keys
 * when the listing says <EncodingType>url</EncodingType>) with time now.
 * Bounded memory whatever the listing's size; a malformed document stops
 * learning quietly (what was learned stays: every entry is a real pair).
 */
struct etag_learner;

struct etag_learner *etag_learner_new(struct etag_index *,
	    const char *bucket, int64_t now);
void	etag_learner_feed(struct etag_learner *, const char *, size_t);
/* Entries learned so far. */
size_t	etag_learner_count(const struct etag_learner *);
void	etag_learner_free(struct etag_learner *);

#endif
