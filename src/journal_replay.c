/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal_replay: journal_open(), which replays the file past damage and
 * sorts what it could not read; and the clean-stop marker that lets it
 * tell damage from a crash's torn tail.  See journal.h for the rules
 * (damaged, garbage, torn; journal.clean and journal.lost) and DESIGN §4.
 * The record format is journal_codec.c's; the commit thread, started at
 * the end of a good open, is journal.c's.
 *
 * The header CRC is what lets replay find its way after damage: a header
 * that checks out gives the record's true length, so a bad payload is
 * skipped whole (a key inside it that happens to look like a record is
 * never read as one), and a search for the next magic after a bad header
 * accepts only a candidate whose header and payload both check out.
 * Inside a damaged region only a fully good record ends the damage.
 *
 * Threads: journal_open() runs alone, before the commit thread exists.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "journal.h"
#include "journal_int.h"
#include "state_file.h"

#define JOURNAL_TMP		"journal.tmp"	/* the first release's */
#define SCAN_CHUNK		65536
#define CLEAN_HEAD		"s3inval journal clean stop\n"

/* What probe() found at an offset. */
enum probe_kind {
	P_OK,		/* a good record, parsed */
	P_BAD,		/* no record that checks out starts here */
	P_BADPAYLOAD,	/* a good header, a bad payload: length known */
	P_TORN,		/* a good header, the record runs past the end */
	P_UNPARSED	/* checksums good, payload not ours to read */
};

static const char *const probe_why[] = {
	"", "no valid record header", "payload checksum mismatch",
	"record cut short", "checksummed record that does not parse"
};

struct scan {
	struct journal		*j;
	uint64_t		 end;		/* replay stops here */
	unsigned char		*pl;		/* payload buffer */
	size_t			 plcap;
	unsigned char		*chunk;		/* for next_magic() */
	uint64_t		 len;		/* of the record probed */
	struct journal_rec	 rec;		/* P_OK */
	struct journal_store	*st;		/* P_OK */
	int			 seq_only;	/* P_OK: an internal SEQ */
};

/* The regions replay could not read. */
struct damage {
	uint64_t	 n, bytes;
	uint64_t	 first_off, last_off, last_len;
	const char	*first_why;
	uint64_t	 open_off;		/* of the region being read */
	const char	*open_why;
	int		 open;
};

static void
damage_open(struct damage *d, uint64_t off, const char *why)
{
	if (d->open)
		return;
	d->open = 1;
	d->open_off = off;
	d->open_why = why;
}

static void
damage_close(struct damage *d, uint64_t end)
{
	if (!d->open)
		return;
	d->open = 0;
	if (d->n++ == 0) {
		d->first_off = d->open_off;
		d->first_why = d->open_why;
	}
	d->last_off = d->open_off;
	d->last_len = end - d->open_off;
	d->bytes += d->last_len;
}

/*
 * Look at the record that may start at off.  Returns 0 with *kind set
 * (and, for P_OK, sc->rec and sc->st, which the caller frees), or -1 on a
 * read error or lack of memory, with a message in err.
 */
static int
probe(struct scan *sc, uint64_t off, enum probe_kind *kind, char *err,
    size_t errsz)
{
	unsigned char	 h[JOURNAL_HDR_SIZE], *np;
	uint64_t	 avail = sc->end - off;
	size_t		 n, hlen;
	uint32_t	 plen, pcrc;

	*kind = P_BAD;
	sc->st = NULL;
	n = avail < sizeof(h) ? (size_t)avail : sizeof(h);
	if (n < JOURNAL_HDR1_SIZE)
		return 0;
	if (journal_pread_all(sc->j->fd, h, n, off) == -1)
		goto ioerr;
	hlen = journal_header(h, n, &plen, &pcrc);
	if (hlen == 0)
		return 0;
	if (plen > avail - hlen) {
		/* Only a header with a CRC of its own vouches for the
		 * length; a first release's in a short file is no record. */
		if (hlen == JOURNAL_HDR_SIZE)
			*kind = P_TORN;
		return 0;
	}
	sc->len = hlen + (uint64_t)plen;
	if (plen > sc->plcap) {
		np = realloc(sc->pl, plen);
		if (np == NULL) {
			snprintf(err, errsz, "record at %llu: %s",
			    (unsigned long long)off, strerror(ENOMEM));
			return -1;
		}
		sc->pl = np;
		sc->plcap = plen;
	}
	if (journal_pread_all(sc->j->fd, sc->pl, plen, off + hlen) == -1)
		goto ioerr;
	if (crc32c(0, sc->pl, plen) != pcrc) {
		*kind = hlen == JOURNAL_HDR_SIZE ? P_BADPAYLOAD : P_BAD;
		return 0;
	}
	if (journal_decode(sc->pl, plen, &sc->rec, &sc->st,
	    &sc->seq_only) == -1) {
		*kind = P_UNPARSED;
		return 0;
	}
	*kind = P_OK;
	return 0;
ioerr:
	snprintf(err, errsz, "read at %llu: %s", (unsigned long long)off,
	    strerror(errno));
	return -1;
}

/* The first offset at or after from where a magic starts (the whole four
 * bytes before sc->end), or sc->end.  Returns 0, or -1 on a read error. */
static int
next_magic(struct scan *sc, uint64_t from, uint64_t *out, char *err,
    size_t errsz)
{
	const unsigned char	*p, *q;
	uint64_t		 pos = from;
	size_t			 n;

	while (sc->end >= 4 && pos <= sc->end - 4) {
		n = sc->end - pos < SCAN_CHUNK ? (size_t)(sc->end - pos) :
		    SCAN_CHUNK;
		if (journal_pread_all(sc->j->fd, sc->chunk, n, pos) == -1) {
			snprintf(err, errsz, "read at %llu: %s",
			    (unsigned long long)pos, strerror(errno));
			return -1;
		}
		for (p = sc->chunk; p + 4 <= sc->chunk + n; p = q + 1) {
			q = memmem(p, (size_t)(sc->chunk + n - p), "S3I", 3);
			if (q == NULL || q + 4 > sc->chunk + n)
				break;
			if (journal_is_magic(q)) {
				*out = pos + (uint64_t)(q - sc->chunk);
				return 0;
			}
		}
		/* The last 3 bytes again: a magic may straddle chunks. */
		pos += n - 3;
	}
	*out = sc->end;
	return 0;
}

/* Hand one good record to fn and note its sequence numbers. */
static int
deliver(struct journal *j, struct scan *sc, journal_replay_fn fn, void *arg)
{
	const struct journal_rec *rec = &sc->rec;

	if (sc->seq_only) {
		if (rec->seq > j->last_seq)
			j->last_seq = rec->seq;
		return 0;
	}
	if (rec->type == JOURNAL_WRITE && rec->seq > j->last_seq)
		j->last_seq = rec->seq;
	if (rec->type == JOURNAL_BATCH && rec->upto_seq > j->last_seq)
		j->last_seq = rec->upto_seq;
	if (fn != NULL && fn(arg, rec) == -1)
		return -1;
	j->st.records_replayed++;
	return 0;
}

/*
 * Replay fd from 0 to end, past damage (see the top of this file).
 * Returns 0 with *good the end of the last good record and dm the regions
 * that could not be read, or -1 with a message in err (nothing changed).
 */
static int
replay(struct journal *j, uint64_t end, journal_replay_fn fn, void *arg,
    uint64_t *good, struct damage *dm, char *err, size_t errsz)
{
	struct scan	 sc;
	enum probe_kind	 kind;
	uint64_t	 off = 0;
	int		 boundary = 1, rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(dm, 0, sizeof(*dm));
	sc.j = j;
	sc.end = end;
	sc.chunk = malloc(SCAN_CHUNK);
	if (sc.chunk == NULL) {
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		goto out;
	}
	*good = 0;
	while (off < end) {
		if (probe(&sc, off, &kind, err, errsz) == -1)
			goto out;
		if (kind == P_OK) {
			damage_close(dm, off);
			if (deliver(j, &sc, fn, arg) == -1) {
				snprintf(err, errsz, "replay of the record at "
				    "%llu failed", (unsigned long long)off);
				goto out;
			}
			journal_store_free(sc.st);
			sc.st = NULL;
			off += sc.len;
			*good = off;
			boundary = 1;
			continue;
		}
		if (kind == P_UNPARSED && boundary) {
			snprintf(err, errsz, "record at %llu has a valid "
			    "checksum but cannot be parsed (written by another "
			    "version?); not truncating",
			    (unsigned long long)off);
			goto out;
		}
		damage_open(dm, off, probe_why[kind]);
		/* Where a record must begin, a header that checks out says
		 * where the next one does; anywhere else, search.  (A good
		 * header running past the end is searched through: it may
		 * be a stray one with good records after it.) */
		if (boundary && kind == P_BADPAYLOAD) {
			off += sc.len;
			continue;
		}
		boundary = 0;
		if (next_magic(&sc, off + 1, &off, err, errsz) == -1)
			goto out;
	}
	damage_close(dm, end);
	rc = 0;
out:
	journal_store_free(sc.st);
	free(sc.pl);
	free(sc.chunk);
	return rc;
}

/*
 * The clean-stop marker: 0 none, 1 with the size in *size, 2 there but
 * unreadable (then nothing can be assumed of the file's end).
 */
static int
read_clean(const char *dir, uint64_t *size)
{
	char			 text[128], *end;
	const char		*p;
	unsigned long long	 v;

	if (state_file_read(dir, JOURNAL_CLEAN, text, sizeof(text)) == -1)
		return errno == ENOENT ? 0 : 2;
	if (strncmp(text, CLEAN_HEAD, strlen(CLEAN_HEAD)) != 0)
		return 2;
	p = text + strlen(CLEAN_HEAD);
	if (strncmp(p, "size ", 5) != 0 || p[5] < '0' || p[5] > '9')
		return 2;
	errno = 0;
	v = strtoull(p + 5, &end, 10);
	if (errno != 0 || strcmp(end, "\n") != 0)
		return 2;
	*size = v;
	return 1;
}

/* Append ", " and a printf'd part to st->damage. */
static void
describe(struct journal_stats *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
describe(struct journal_stats *st, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(st->damage);

	if (n > 0 && n + 2 < sizeof(st->damage)) {
		memcpy(st->damage + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(st->damage + n, sizeof(st->damage) - n, fmt, ap);
	va_end(ap);
}

/*
 * Sort what replay could not read into damaged, garbage and torn (see
 * journal.h); clean is read_clean()'s answer.
 */
static void
classify(struct journal_stats *st, const struct damage *dm, int clean,
    uint64_t csize, uint64_t fsize)
{
	uint64_t	 lost_bytes = dm->bytes, n_lost = dm->n;

	st->clean_start = clean == 1;
	if (clean == 0 && dm->n > 0 && dm->last_off + dm->last_len == fsize) {
		st->bytes_torn = dm->last_len;
		lost_bytes -= dm->last_len;
		n_lost--;
	}
	if (n_lost > 0)
		describe(st, "%llu bytes unreadable in %llu place%s from "
		    "offset %llu (%s)", (unsigned long long)lost_bytes,
		    (unsigned long long)n_lost, n_lost == 1 ? "" : "s",
		    (unsigned long long)dm->first_off, dm->first_why);
	st->bytes_damaged = lost_bytes;
	st->bytes_dropped = dm->bytes;
	if (clean == 1 && fsize < csize) {
		st->bytes_damaged += csize - fsize;
		describe(st, "the file ends at %llu, %llu bytes short of its "
		    "size at the clean stop", (unsigned long long)fsize,
		    (unsigned long long)(csize - fsize));
	}
	if (clean == 1 && fsize > csize) {
		st->bytes_garbage = fsize - csize;
		st->bytes_dropped += st->bytes_garbage;
		describe(st, "%llu bytes after the clean stop's end at %llu "
		    "(not written by s3inval)",
		    (unsigned long long)st->bytes_garbage,
		    (unsigned long long)csize);
	}
	if (clean == 2)
		describe(st, "the clean-stop marker is unreadable");
	if (st->bytes_torn > 0)
		describe(st, "a torn tail of %llu bytes at offset %llu (the "
		    "last write before a crash, never acknowledged)",
		    (unsigned long long)st->bytes_torn,
		    (unsigned long long)dm->last_off);
	if (st->bytes_damaged > 0)
		st->lost = 1;
}

int
journal_open(const char *dir, journal_replay_fn fn, void *arg,
    struct journal **out, char *err, size_t errsz)
{
	struct journal	*j = NULL;
	struct damage	 dm;
	struct stat	 sb;
	uint64_t	 good = 0, csize = 0, fsize, end;
	char		 msg[256], lost_text[8];
	int		 rc = -1, clean, lost_before;

	*out = NULL;
	msg[0] = '\0';
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->dir = strdup(dir)) == NULL) {
		snprintf(msg, sizeof(msg), "%s", strerror(ENOMEM));
		goto out;
	}
	j->dirfd = -1;
	j->fd = -1;
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	/* Never through a symlink planted in state_dir (issue 13). */
	j->fd = openat(j->dirfd, JOURNAL_FILE,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd == -1 || fstat(j->fd, &sb) == -1) {
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(msg, sizeof(msg), "not a regular file");
		goto out;
	}
	/* What a compaction or a marker's writer that died left behind. */
	(void)unlinkat(j->dirfd, JOURNAL_TMP, 0);
	state_file_clean(dir, JOURNAL_FILE);
	state_file_clean(dir, JOURNAL_CLEAN);
	state_file_clean(dir, JOURNAL_LOST);

	fsize = (uint64_t)sb.st_size;
	clean = read_clean(dir, &csize);
	lost_before = state_file_read(dir, JOURNAL_LOST, lost_text,
	    sizeof(lost_text)) != -1 || errno != ENOENT;
	/* After a clean stop, what lies past its end is not ours. */
	end = clean == 1 && csize < fsize ? csize : fsize;
	if (replay(j, end, fn, arg, &good, &dm, msg, sizeof(msg)) == -1)
		goto out;
	classify(&j->st, &dm, clean, csize, fsize);
	if (lost_before && !j->st.lost)
		describe(&j->st, "a recovery from earlier damage was not "
		    "finished");
	/* Remember the loss before anything that shows it is cut off. */
	if (j->st.lost && !lost_before && state_file_write(dir, JOURNAL_LOST,
	    j->st.damage, strlen(j->st.damage)) == -1) {
		snprintf(msg, sizeof(msg), "cannot record the damage found "
		    "(%s) in %s: %s", j->st.damage, JOURNAL_LOST,
		    strerror(errno));
		goto out;
	}
	if (lost_before)
		j->st.lost = 1;
	if (good < fsize) {
		if (ftruncate(j->fd, (off_t)good) == -1 || fsync(j->fd) == -1) {
			snprintf(msg, sizeof(msg), "truncating at %llu: %s",
			    (unsigned long long)good, strerror(errno));
			goto out;
		}
	}
	/* A stale marker would misread the next start's file. */
	if (clean != 0 && state_file_remove(dir, JOURNAL_CLEAN) == -1) {
		snprintf(msg, sizeof(msg), "cannot remove %s: %s",
		    JOURNAL_CLEAN, strerror(errno));
		goto out;
	}
	/* The file may be new: make its directory entry durable before the
	 * first append is acknowledged. */
	if (fsync(j->dirfd) == -1) {
		snprintf(msg, sizeof(msg), "fsync: %s", strerror(errno));
		goto out;
	}
	j->size = good;
	j->st.size = good;
	j->tail = &j->head;
	if (journal_commit_start(j) == -1) {
		snprintf(msg, sizeof(msg), "cannot start the commit thread");
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	if (rc == -1) {
		if (msg[0] == '\0')
			snprintf(msg, sizeof(msg), "out of resources");
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s/%s: %s", dir, JOURNAL_FILE,
			    msg);
	}
	if (j != NULL) {
		if (j->fd != -1)
			close(j->fd);
		if (j->dirfd != -1)
			close(j->dirfd);
		free(j->dir);
		free(j);
	}
	return rc;
}


/* Every record is synced (the commit thread has ended): say how long the
 * file is, so that the next open can tell damage from a crash. */
void
journal_write_clean(struct journal *j)
{
	char	 text[128];
	int	 n;

	n = snprintf(text, sizeof(text), CLEAN_HEAD "size %llu\n",
	    (unsigned long long)j->size);
	(void)state_file_write(j->dir, JOURNAL_CLEAN, text, (size_t)n);
}
