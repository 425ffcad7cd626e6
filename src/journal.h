/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the durable record of what must still be invalidated
 * (DESIGN §4).  An append-only file in server.state_dir.
 *
 * Records: WRITE (a write's bucket and keys; the journal assigns its
 * sequence number), BATCH (an invalidation batch, recorded before it is
 * first sent, with its CallerReference), ACCEPTED (CloudFront's
 * invalidation id for a batch), COMPLETED (the batch is done).  The journal
 * does not interpret them: the worker decides what is pending and hands the
 * live records back to journal_compact(), which replaces the file
 * atomically (write, fsync, rename, fsync the folder), so the file stays
 * bounded by what is pending.
 *
 * File format: each record is a 16-byte header (magic "S3I2", payload
 * length, CRC-32C of the payload, CRC-32C of those first 12 bytes; little-
 * endian) and a payload.  Files of the first release (12-byte headers,
 * magic "S3IJ", no header CRC) are still read; whatever is written now is
 * in the new form, and the first compaction rewrites the rest.
 *
 * Damage (issue 13: "a damaged journal invalidates more, never less").
 * Replay reads every record it can: a record whose checksums fail is
 * skipped, by its length when its header checks out, otherwise by scanning
 * for the next magic whose header and payload both check out, so one bad
 * record never hides the good ones after it.  What replay could not read
 * is one of three things, and the file alone cannot say which; a marker
 * does:
 *
 *   journal.clean  written by journal_close() (a clean stop) with the
 *                  journal's size, read and removed by journal_open().
 *
 * - With the marker, the file must be exactly that size and every record
 *   good.  Damage anywhere, or a file shorter than recorded, may have
 *   taken acknowledged records: "lost".  Bytes past the recorded size
 *   were not written by s3inval (it had stopped): "garbage", dropped and
 *   counted but nothing is lost, since every record up to the recorded
 *   size is there.
 * - Without it the last run crashed (or was killed).  Damage that reaches
 *   the end of the file, with no good record after it, is the torn tail
 *   of the last group commit, whose fdatasync never returned, so no
 *   appender was told it succeeded: "torn", dropped, not lost.  Damage
 *   with a good record after it lay inside acknowledged data: "lost".
 *   A kill -9 leaves only a torn tail (a write(2) cut short leaves a
 *   prefix of the group), so restarts after crashes invalidate nothing
 *   extra.
 *
 * When anything was lost the open says so (journal_stats.lost) and the
 * caller must cover it (the worker invalidates each distribution whole,
 * one wildcard path each).  Before the damaged bytes may go, that must
 * itself be durable; so a second marker is written first:
 *
 *   journal.lost   written by journal_open() before it changes anything,
 *                  removed only after the next successful
 *                  journal_compact() has put the caller's covering
 *                  records in place of the damaged file.
 *
 * While journal.lost exists every open reports lost again, so a crash at
 * any moment of the recovery repeats it instead of forgetting it.  The
 * torn tail and the garbage are cut off at open; damage inside the file
 * stays until that compaction (appends go after the last good record).
 *
 * A checksummed record that does not parse where a record must begin was
 * written by another version or a bug: the open fails and the file is left
 * alone.  A read error also fails the open without changing anything.
 *
 * Durability: a record is on disk (fdatasync) before its appender is
 * told.  One commit thread per journal writes: concurrent appends share
 * one write and one fdatasync (group commit).  journal_append_async()
 * queues a record and returns; its callback runs on the commit thread
 * once the group is synced or has failed.  journal_append() is that plus
 * a wait.  When writing fails (disk full, I/O error, file size limit),
 * the partial write is truncated away, every record of that group fails
 * with the errno, and later appends try again.
 *
 * Files: the journal is opened with O_NOFOLLOW; temporaries (compaction,
 * markers) are new files with random names (state_file.h).
 *
 * Threads: all functions but journal_open/journal_close may be called
 * from any thread; callbacks run on the commit thread, in file order, and
 * may queue more records (journal_append_async) but must not wait for one
 * (journal_append, journal_probe, journal_compact): that would wait for
 * the thread that runs them.  Strings passed in are copied before return.
 * The commit thread runs with every signal blocked.
 */
#ifndef S3I_JOURNAL_H
#define S3I_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_FILE		"journal"
#define JOURNAL_CLEAN		"journal.clean"	/* marker of a clean stop */
#define JOURNAL_LOST		"journal.lost"	/* a recovery in progress */
#define JOURNAL_MAX_STR		4096	/* bucket, id, reference, key, path */
#define JOURNAL_MAX_ITEMS	100000	/* keys or paths in one record */

enum journal_type {
	JOURNAL_WRITE = 1,
	JOURNAL_BATCH = 2,
	JOURNAL_ACCEPTED = 3,
	JOURNAL_COMPLETED = 4
};

struct journal_rec {
	enum journal_type	 type;
	uint64_t		 seq;		/* WRITE: set by journal_append */
	const char		*bucket;	/* WRITE: client-facing name */
	const char *const	*items;		/* WRITE: keys; BATCH: paths */
	size_t			 n_items;
	uint64_t		 batch_id;	/* BATCH, ACCEPTED, COMPLETED */
	const char		*distribution;	/* BATCH */
	const char		*caller_reference; /* BATCH */
	uint64_t		 upto_seq;	/* BATCH: covers writes <= this */
	const char		*invalidation_id; /* ACCEPTED */
};

struct journal;

/* Called for each valid record on open; pointers are valid only during the
 * call.  Return 0 to go on, -1 to stop the open with an error. */
typedef int (*journal_replay_fn)(void *arg, const struct journal_rec *);

struct journal_stats {
	/* What the open found (see above). */
	uint64_t	 records_replayed;
	uint64_t	 bytes_dropped;		/* of the file, not replayed */
	uint64_t	 bytes_damaged;		/* may have held acknowledged
						 * records (+ bytes missing) */
	uint64_t	 bytes_garbage;		/* after a clean stop */
	uint64_t	 bytes_torn;		/* a crash's unacked tail */
	int		 clean_start;		/* journal.clean was there */
	int		 lost;			/* to cover, until compacted */
	char		 damage[200];		/* what, where, why; or "" */

	uint64_t	 size;			/* bytes in the file now */
	uint64_t	 appends;
	uint64_t	 syncs;			/* fdatasync calls */
	uint64_t	 errors;
	uint64_t	 compactions;
	int		 failing;		/* the last write failed */
};

/*
 * Open (creating) dir/journal, replay it through fn, classify and cut off
 * what could not be read (above).  Returns 0, or -1 with a message in err
 * (the files are then as they were).
 */
int	journal_open(const char *dir, journal_replay_fn fn, void *arg,
	    struct journal **out, char *err, size_t errsz);
/* Close; on success the clean-stop marker records the size. */
void	journal_close(struct journal *);

/* Told once a queued record is on disk (err 0) or its group failed
 * (err an errno).  seq: a WRITE's, else 0. */
typedef void (*journal_done_fn)(void *arg, uint64_t seq, int err);

/*
 * Queue one record (copied) without waiting.  A WRITE gets its seq at
 * once, in rec->seq.  Returns 0, and fn(arg, seq, err) is then called
 * exactly once, from the commit thread; or -1 with errno set (EINVAL,
 * EOVERFLOW: no seq left, ENOMEM), and fn is never called.  fn may be
 * NULL.
 */
int	journal_append_async(struct journal *, struct journal_rec *rec,
	    journal_done_fn fn, void *arg);

/* Append one record durably: journal_append_async() and a wait.  For
 * JOURNAL_WRITE, rec->seq is set.  Returns 0, or -1 (errno set). */
int	journal_append(struct journal *, struct journal_rec *rec);

/* Append an internal record that replay skips, durably: whether the
 * journal can be written now (a failed write sets stats.failing, a good
 * one clears it).  Returns 0, or -1 with errno set. */
int	journal_probe(struct journal *);

/* Replace the journal with exactly these records (WRITE keep their seq).
 * Appends wait meanwhile.  Returns 0, or -1 (the old file stays).  After
 * an open that reported lost, the records must cover the loss: the first
 * success removes journal.lost. */
int	journal_compact(struct journal *, const struct journal_rec *recs,
	    size_t n);

/* The next WRITE sequence number will be greater than this. */
uint64_t journal_last_seq(struct journal *);
void	journal_get_stats(struct journal *, struct journal_stats *);

/* Serialise/parse one payload (pure; for tests and fuzzing).  parse
 * returns 0, or -1 when malformed; *rec's pointers then point into
 * storage owned by *store, freed with journal_store_free(). */
struct journal_store;
int	journal_parse_payload(const unsigned char *, size_t,
	    struct journal_rec *, struct journal_store **store);
void	journal_store_free(struct journal_store *);

#endif
