/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the append-only, group-committed record of what must still be
 * invalidated; see journal.h and DESIGN §4.  This file owns the commit
 * thread, appends, compaction and close.  The record format is
 * journal_codec.c's; journal_open() and its replay are journal_replay.c's.
 * It does not know what a record means: the worker decides what is
 * pending.
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

#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "journal.h"
#include "journal_int.h"
#include "state_file.h"

/* Keep at most this much idle queue memory after a large group. */
#define SPARE_KEEP		(1024 * 1024)

/* --- file helpers ------------------------------------------------------ */

/*
 * Read into rp or write from wp (the other is NULL) exactly len bytes at
 * off: one loop for both directions.  Returns 0, or -1 with errno set;
 * an end of file (the file shrank under us: not ours alone) is EIO.
 */
static int
pio_all(int fd, unsigned char *rp, const unsigned char *wp, size_t len,
    uint64_t off)
{
	ssize_t	 n;
	size_t	 done = 0;

	while (done < len) {
		if (rp != NULL)
			n = pread(fd, rp + done, len - done,
			    (off_t)(off + done));
		else
			n = pwrite(fd, wp + done, len - done,
			    (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int
journal_pread_all(int fd, unsigned char *p, size_t len, uint64_t off)
{
	return pio_all(fd, p, NULL, len, off);
}

static int
pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	return pio_all(fd, NULL, p, len, off);
}

static int
bytes_add(struct journal_bytes *b, const void *p, size_t n)
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
bytes_free(struct journal_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* --- the commit thread: start, and stop at close ---------------------- */

static void	*commit_main(void *);

/* The commit thread, with every signal blocked: signals are main.c's. */
int
journal_commit_start(struct journal *j)
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

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	/* What is queued is written, and its callers told, first. */
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_signal(&j->cv_commit);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	assert(!j->busy && j->head == NULL);
	journal_write_clean(j);
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
deliver_group(struct journal *j, struct journal_entry *list, int err)
{
	struct journal_entry	*e;

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
commit_group(struct journal *j, struct journal_entry **done)
{
	struct journal_bytes	 grp;
	struct journal_entry	*e;
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
	struct journal_entry	*done;
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
	struct journal_entry	*e;
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
		if (journal_encode_seq(&sb, j->last_seq) == -1)
			err = errno;
		b = &sb;
	} else if (type == JOURNAL_WRITE && j->last_seq == UINT64_MAX) {
		/* Found by fuzzing: a replayed seq at the top would wrap to
		 * 0, which an earlier batch seems to cover.  Refused. */
		err = EOVERFLOW;
	} else if (type == JOURNAL_WRITE) {
		/* Under the lock: seq order is file order. */
		s = j->last_seq + 1;
		journal_seal_write(b, 0, crc, s);
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
	if (journal_encode(&b, rec, &crc) == -1 ||
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
	if (enqueue(j, NULL, JOURNAL_TYPE_SEQ, 0, sync_done, &sw, &seq) == -1) {
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
		if (journal_encode_full(&b, &recs[i]) == -1) {
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
	if (journal_encode_seq(&hb, j->last_seq) == -1)
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
	if (err == 0 && (pwrite_all(fd, hb.data, hb.len, 0) == -1 ||
	    pwrite_all(fd, b.data, b.len, hb.len) == -1 ||
	    fdatasync(fd) == -1))
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
