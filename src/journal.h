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
 * File format: each record is a 12-byte header (magic "S3IJ", payload
 * length, CRC-32C of the payload, little-endian) and a payload.  On open,
 * records are replayed in order until the first one that is torn
 * (truncated) or corrupt; the file is truncated there.
 *
 * Durability: journal_append() returns only when the record is on disk
 * (fdatasync).  Concurrent appenders share one write and one fdatasync
 * (group commit: the first waiting appender leads, the others wait on a
 * condition variable).  When writing fails (disk full, I/O error, file size
 * limit), the partial write is truncated away, every appender of that
 * group gets -1 with errno set, and later appends try again.
 *
 * Threads: all functions but journal_open/journal_close may be called
 * from any thread.  Strings passed in are copied before return.
 */
#ifndef S3I_JOURNAL_H
#define S3I_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_FILE		"journal"
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
	uint64_t	 records_replayed;
	uint64_t	 bytes_dropped;		/* torn or corrupt tail */
	uint64_t	 size;			/* bytes in the file now */
	uint64_t	 appends;
	uint64_t	 syncs;			/* fdatasync calls */
	uint64_t	 errors;
	uint64_t	 compactions;
};

/*
 * Open (creating) dir/journal, replay it through fn, drop a torn tail.
 * Returns 0, or -1 with a message in err.
 */
int	journal_open(const char *dir, journal_replay_fn fn, void *arg,
	    struct journal **out, char *err, size_t errsz);
void	journal_close(struct journal *);

/* Append one record durably.  For JOURNAL_WRITE, rec->seq is set.
 * Returns 0, or -1 (errno set). */
int	journal_append(struct journal *, struct journal_rec *rec);

/* Replace the journal with exactly these records (WRITE keep their seq).
 * Appends wait meanwhile.  Returns 0, or -1 (the old file stays). */
int	journal_compact(struct journal *, const struct journal_rec *recs,
	    size_t n);

/* The next WRITE sequence number will be greater than this. */
uint64_t journal_last_seq(struct journal *);
void	journal_get_stats(struct journal *, struct journal_stats *);

/* Serialise/parse one payload (pure; for tests and fuzzing).  parse
 * returns 0, or -1 when malformed; *rec's pointers then point into
 * storage owned by *store, freed with journal_rec_store_free(). */
struct journal_store;
int	journal_parse_payload(const unsigned char *, size_t,
	    struct journal_rec *, struct journal_store **store);
void	journal_store_free(struct journal_store *);

#endif
