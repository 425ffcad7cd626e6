/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_upload: the headers of multipart uploads created through the
 * proxy, by UploadId, until they complete (etag_index.h: "Multipart
 * uploads").  In memory only, a ring of UPLOADS_MAX; nothing of ETags or
 * keys' entries (etag_index_store.c).  Locks the index as its API does.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "etag_index_store.h"

#define UPLOADS_MAX	1024u	/* uploads remembered at once */
#define UPLOAD_ID_MAX	1024u

/* A multipart upload created through the proxy, until completed. */
struct upload {
	char		*s;		/* "id\0bucket\0key"; NULL: free */
	size_t		 len;		/* bytes allocated for s */
	struct s3_meta	 meta;
};

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
etag_index_uploads_free(struct etag_index *ix)
{
	size_t	 i;

	for (i = 0; ix->up != NULL && i < UPLOADS_MAX; i++)
		upload_clear(ix, &ix->up[i]);
	free(ix->up);
	ix->up = NULL;
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
	if (etag_index_in_each(ix)) {
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
	    upload_id == NULL || etag_index_in_each(ix))
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
