/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_file: the ETag index on disk: etag_index_save() writes it,
 * etag_index_load() reads it back when the index opens.  The format and
 * how it is written and read; nothing of how entries are kept in memory
 * (etag_index_store.c).
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
#include <unistd.h>
#include <sys/stat.h>

#include "buf.h"
#include "crc.h"
#include "etag_index_store.h"
#include "le.h"

#define E_V2		(E_RAW | E_LISTING)	/* flags of a version 2 file */

#define FILE_MAGIC	"S3IETAG\n"
#define TMP_X		6u	/* mkstemp()'s XXXXXX */
#define FILE_VERSION	3u	/* 2: a bucket's listed_at; 3: digests */
#define FILE_VERSION_OLD 2u	/* loaded with every digest unknown */

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
	unsigned char	 b[4];

	le_put32(b, v);
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
		len = etag_index_entry_key(b, e, key);
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
	if (etag_index_in_each(ix)) {
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
int
etag_index_load(struct etag_index *ix)
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
	version = le_get32(hdr + 8);
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
		lb = etag_index_bucket_get(ix, name);
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
				if (etag_index_parse_etag(raw, &v) == -1 ||
				    !v.raw)
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
			if (etag_index_put_locked(ix, name, key, klen,
			    etag_index_hash(ix, key, klen), &v, &meta,
			    (int64_t)t, fl & E_LISTING) == -1)
				goto out;
		}
		total += n;
	}
	if (rd_uvarint(&r, &want) == -1 || want != total)
		goto out;
	sum = r.crc;
	if (fread(crc, 1, 4, r.f) != 4 || le_get32(crc) != sum ||
	    fgetc(r.f) != EOF)
		goto out;
	rc = 0;
out:
	fclose(r.f);
	if (rc == -1)
		etag_index_buckets_free(ix);
	return rc;
}
