/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index: see etag_index.h.  This file is the API and its locking;
 * the store is etag_index_store.c, eviction etag_index_evict.c, the file
 * etag_index_file.c, uploads etag_index_upload.c, the listing learner
 * etag_learner.c.
 *
 * Locking: one rwlock.  same(), count(), bytes(), each() and save()'s
 * serialisation read; put() and del() write.  each() calls fn with the
 * read lock held: fn may call same(), count(), bytes() and each() on the
 * same index (a thread-local flag skips the lock), while put() and del()
 * from fn fail (-1, errno EDEADLK) or do nothing, since they would change
 * what each() walks.  save() writes under the read lock and syncs after it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <openssl/rand.h>

#include "etag_index_store.h"

/* The index whose each() this thread is inside, if any. */
static _Thread_local const struct etag_index *tl_iter;

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

int
etag_index_in_each(const struct etag_index *ix)
{
	return tl_iter == ix;
}

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
		(void)etag_index_load(ix);
	return ix;
}

void
etag_index_close(struct etag_index *ix)
{
	if (ix == NULL)
		return;
	etag_index_uploads_free(ix);
	etag_index_buckets_free(ix);
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
	if (len > KEY_MAX - 1 || etag_index_parse_etag(etag, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (tl_iter == ix) {
		errno = EDEADLK;
		return -1;
	}
	h = etag_index_hash(ix, key, len);
	pthread_rwlock_wrlock(&ix->lock);
	rc = etag_index_put_locked(ix, bucket, key, len, h, &v, meta, now,
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
	h = etag_index_hash(ix, key, len);
	pthread_rwlock_wrlock(&ix->lock);
	b = etag_index_bucket_find(ix, bucket);
	if (b != NULL) {
		idx = etag_index_find(b, h, key, len, &pos);
		if (idx != NONE)
			etag_index_entry_remove(ix, b, idx, pos);
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
	    etag_index_parse_etag(etag, &v) == -1)
		return 0;
	len = strlen(key);
	h = etag_index_hash(ix, key, len);
	locked = lock_read(ix);
	b = etag_index_bucket_find(ix, bucket);
	idx = b != NULL ? etag_index_find(b, h, key, len, NULL) : NONE;
	if (idx != NONE) {
		e = entry_at(b, idx);
		same = entry_time(e) >= not_before &&
		    etag_index_entry_matches(e, &v);
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
	int		 locked, rc = 0;

	if (ix == NULL || bucket == NULL || fn == NULL)
		return 0;
	locked = lock_read(ix);
	outer = tl_iter;
	tl_iter = ix;
	b = etag_index_bucket_find(ix, bucket);
	if (b != NULL)
		rc = etag_index_walk(b, fn, arg);
	tl_iter = outer;
	unlock_if(ix, locked);
	return rc;
}

/* A bucket's entry count and (listed_at, may be NULL) last complete
 * listing, under the read lock; 0 and 0 for a bucket the index does not
 * know. */
static size_t
bucket_stat(struct etag_index *ix, const char *bucket, int64_t *listed_at)
{
	const struct bucket *b;
	size_t		 n = 0;
	int		 locked;

	if (listed_at != NULL)
		*listed_at = 0;
	if (ix == NULL || bucket == NULL)
		return 0;
	locked = lock_read(ix);
	b = etag_index_bucket_find(ix, bucket);
	if (b != NULL) {
		n = b->n;
		if (listed_at != NULL)
			*listed_at = b->listed_at;
	}
	unlock_if(ix, locked);
	return n;
}

size_t
etag_index_count(struct etag_index *ix, const char *bucket)
{
	return bucket_stat(ix, bucket, NULL);
}

void
etag_index_mark_listed(struct etag_index *ix, const char *bucket,
    int64_t now)
{
	struct bucket	*b;

	if (ix == NULL || bucket == NULL || tl_iter == ix)
		return;
	pthread_rwlock_wrlock(&ix->lock);
	b = etag_index_bucket_get(ix, bucket);
	if (b != NULL && now > b->listed_at)
		b->listed_at = now;
	pthread_rwlock_unlock(&ix->lock);
}

int64_t
etag_index_listed_at(struct etag_index *ix, const char *bucket)
{
	int64_t	 t;

	(void)bucket_stat(ix, bucket, &t);
	return t;
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
