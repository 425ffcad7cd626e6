/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal_int: what the journal's own files share; nothing outside
 * journal*.c includes it (the API is journal.h).
 *
 *   journal_codec.c   the record format: encoding, decoding, headers
 *   journal_replay.c  journal_open(): replay past damage, the markers
 *   journal.c         the commit thread, appends, compaction, close
 *
 * Threads: struct journal's comments say which fields are shared under
 * mu; the codec is pure and takes no lock.
 */
#ifndef S3I_JOURNAL_INT_H
#define S3I_JOURNAL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "journal.h"

#define JOURNAL_HDR_SIZE	16
#define JOURNAL_HDR1_SIZE	12		/* the first release's */
#define JOURNAL_TYPE_SEQ	0x80

/* A growable byte array (the commit thread's queues). */
struct journal_bytes {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

/* One queued record's caller: told when its group is on disk. */
struct journal_entry {
	struct journal_entry	*next;
	journal_done_fn		 fn;
	void			*arg;
	uint64_t		 seq;		/* a WRITE's, else 0 */
};

struct journal {
	/* Set by journal_open, then read only (fd: see busy). */
	int		 dirfd;
	char		*dir;

	pthread_t	 thread;	/* the commit thread */
	int		 thread_up;

	/* Shared, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_commit;	/* the commit thread waits on it */
	pthread_cond_t	 cv_idle;	/* compactions wait on it */
	int		 fd;		/* switched by compaction, under busy */
	int		 busy;		/* a group or a compaction owns fd */
	int		 compact_wait;	/* compactions waiting for busy */
	int		 stop;		/* journal_close(): drain and end */
	int		 dir_dirty;	/* fsync dirfd before the next ack */
	uint64_t	 size;		/* end of the last durable record */
	uint64_t	 last_seq;
	struct journal_bytes pend;	/* encoded records of the next group */
	struct journal_bytes spare;	/* the previous group's, emptied */
	struct journal_entry *head, **tail; /* the next group's callers */
	struct journal_stats st;	/* st.lost: journal.lost exists */
};

/* journal_codec.c: pure. */
int		journal_encode(struct buf *, const struct journal_rec *,
		    uint32_t *crc);
void		journal_seal_write(struct buf *, size_t start, uint32_t crc,
		    uint64_t seq);
int		journal_encode_full(struct buf *, const struct journal_rec *);
int		journal_encode_seq(struct buf *, uint64_t last_seq);
int		journal_decode(const unsigned char *, size_t,
		    struct journal_rec *, struct journal_store **,
		    int *seq_only);
size_t		journal_header(const unsigned char *h, size_t n,
		    uint32_t *plen, uint32_t *pcrc);
int		journal_is_magic(const unsigned char *p);

/* journal_replay.c */
void		journal_write_clean(struct journal *);

/* journal.c */
int		journal_pread_all(int fd, unsigned char *, size_t,
		    uint64_t off);
int		journal_commit_start(struct journal *);

#endif
