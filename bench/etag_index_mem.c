/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_mem: memory and speed of the ETag index at scale.
 *
 * The issue asks that a bucket of 1M keys fit in 100 MB.  This puts N keys
 * (default 1,000,000) into one bucket, each with an ETag (one in eight a
 * multipart "md5-N") and the digest of its served headers (as a write
 * through the proxy leaves it: every entry carries one, so the file is
 * its largest), and prints one line per key order:
 *
 *   order=listing keys=1000000 key_len_mean=60.2 rss_growth_mib=...
 *   bytes_per_key=... index_bytes_per_key=... put_s=... put_per_s=...
 *   lookup_s=... lookup_per_s=... found=1000000 save_s=... file_mib=...
 *   load_s=... target_100MB=PASS
 *
 * Orders, each in its own child process so one does not inherit another's
 * heap:
 *   listing    site-like paths (assets/..., images/2024/05/..., releases/
 *              v1.2.3/...), 40-80 bytes, 128 files per folder, folder by
 *              folder, sorted in each: the order a listing (and what
 *              `aws s3 sync` uploads after it) brings them.
 *   random     the same keys in a random order (writes from many clients).
 *   unrelated  60 random bytes per key, nothing shared: the worst case.
 *
 * RSS growth is VmRSS (/proc/self/status) after the puts minus before
 * them; keys are generated on the fly, so it is the index alone (and
 * malloc's own overhead).  index_bytes is etag_index_bytes().  Lookups are
 * N etag_index_lookup() calls on present keys, in a random order, each
 * found with its digest.  put_s and
 * lookup_s are net of making the keys and ETags (timed alone first).  Then
 * etag_index_save() into a mkdtemp folder (removed after) and a fresh
 * etag_index_open() of it are timed.  MB: 10^6 bytes, MiB: 2^20.
 *
 * Like the other benches this exits 0 when a target is missed: read the
 * output.  Build:
 *
 *   cc -O2 -pthread -D_GNU_SOURCE -I build/dev -I src \
 *       $(pkg-config --cflags libxml-2.0) bench/etag_index_mem.c \
 *       src/etag_index*.c src/etag_learner.c src/buf.c src/crc.c \
 *       src/hex.c src/uri.c \
 *       $(pkg-config --libs libxml-2.0) -lcrypto -o etag_index_mem
 *
 * Usage: etag_index_mem [-n keys] [listing|random|unrelated|all]
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etag_index.h"

enum order { ORDER_LISTING, ORDER_RANDOM, ORDER_UNRELATED };

static const char *const order_names[] = { "listing", "random", "unrelated" };

static const char *const tops[] = { "assets", "static", "images", "docs",
    "releases", "media/uploads", "build", "blog" };

static const char *const words[] = { "app", "vendor", "main", "runtime",
    "chunk", "index", "logo", "hero", "banner", "product", "thumb", "icon",
    "font", "style", "theme", "bundle", "react", "dom", "router", "polyfill",
    "analytics", "checkout", "cart", "search", "account", "profile",
    "settings", "gallery", "video", "poster", "manual", "guide",
    "reference", "api", "storage", "objects", "release", "notes",
    "changelog", "download", "linux", "darwin", "windows", "amd64", "arm64",
    "install", "setup", "quickstart", "faq", "pricing", "about", "contact",
    "team", "careers", "press", "legal", "privacy", "terms", "status",
    "support", "community", "events", "webinar", "report" };

static const char *const exts[] = { "js", "css", "png", "webp", "jpg",
    "html", "json", "svg", "woff2", "map", "txt", "tar.gz" };

#define NWORDS	(sizeof(words) / sizeof(words[0]))
#define NEXTS	(sizeof(exts) / sizeof(exts[0]))
#define PER_DIR	128

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Key i of the site-like set: folder i / PER_DIR, 40 to 80 bytes. */
static size_t
site_key(char *out, size_t sz, uint64_t i)
{
	uint64_t	 d = mix(i / PER_DIR + 1), f = mix(i + 0x9e3779b9);
	char		 dir[96];
	int		 n, m;

	switch (d % 4) {
	case 0:		/* static/app/v3.14.2/js/ */
		n = snprintf(dir, sizeof(dir), "%s/%s/v%u.%u.%u/%s/",
		    tops[d % 8], words[(d >> 8) % NWORDS],
		    (unsigned)(d >> 16) % 9, (unsigned)(d >> 20) % 30,
		    (unsigned)(i / PER_DIR) % 100, exts[(d >> 28) % 3]);
		break;
	case 1:		/* images/product/2024/05/ */
		n = snprintf(dir, sizeof(dir), "%s/%s/%u/%02u/",
		    tops[d % 8], words[(d >> 8) % NWORDS],
		    2015 + (unsigned)(d >> 16) % 11,
		    1 + (unsigned)(i / PER_DIR) % 12);
		break;
	case 2:		/* docs/guide/storage/objects/ */
		n = snprintf(dir, sizeof(dir), "%s/%s/%s/%s-%u/",
		    tops[d % 8], words[(d >> 8) % NWORDS],
		    words[(d >> 16) % NWORDS], words[(d >> 24) % NWORDS],
		    (unsigned)(i / PER_DIR) % 1000);
		break;
	default:	/* releases/2024/11/17/build-4711/ */
		n = snprintf(dir, sizeof(dir), "%s/%u/%02u/%02u/%s-%u/",
		    tops[d % 8], 2015 + (unsigned)(d >> 16) % 11,
		    1 + (unsigned)(d >> 20) % 12, 1 + (unsigned)(d >> 24) % 28,
		    words[(d >> 32) % NWORDS], (unsigned)(i / PER_DIR));
		break;
	}
	(void)n;
	/* name: word-word-hash.ext, shortened or lengthened into 40-80. */
	m = snprintf(out, sz, "%s%s-%s-%08" PRIx32 ".%s", dir,
	    words[f % NWORDS], words[(f >> 8) % NWORDS],
	    (uint32_t)(f >> 16), exts[(f >> 48) % NEXTS]);
	if (m > 80)
		m = snprintf(out, sz, "%s%s-%08" PRIx32 ".%s", dir,
		    words[f % NWORDS], (uint32_t)(f >> 16),
		    exts[(f >> 48) % NEXTS]);
	if (m < 40)
		m = snprintf(out, sz, "%s%s-%s-%s-%08" PRIx32 ".%s", dir,
		    words[f % NWORDS], words[(f >> 8) % NWORDS],
		    words[(f >> 40) % NWORDS], (uint32_t)(f >> 16),
		    exts[(f >> 48) % NEXTS]);
	if (m > 80) {
		out[80] = '\0';
		m = 80;
	}
	return (size_t)m;
}

static size_t
unrelated_key(char *out, uint64_t i)
{
	static const char abc[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	uint64_t	 x = mix(i + 1);
	size_t		 k;

	for (k = 0; k < 60; k++) {
		if (k % 8 == 0)
			x = mix(x + k);
		out[k] = abc[(x >> (8 * (k % 8))) % 64];
	}
	out[60] = '\0';
	return 60;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Put number i in listing order: S3 lists keys sorted, so within a folder
 * the names come sorted.  The PER_DIR keys of i's folder are made and
 * sorted once (the listing goes folder by folder).  Returns which
 * site_key() it is, so that lookups (in any order) can remake it alone.
 */
static uint64_t
listing_id(uint64_t i)
{
	static char	 names[PER_DIR][96], *sorted[PER_DIR];
	static uint64_t	 cached = UINT64_MAX;
	uint64_t	 d = i / PER_DIR, k;

	if (cached != d) {
		for (k = 0; k < PER_DIR; k++) {
			site_key(names[k], sizeof(names[k]), d * PER_DIR + k);
			sorted[k] = names[k];
		}
		qsort(sorted, PER_DIR, sizeof(sorted[0]), cmp_str);
		cached = d;
	}
	return d * PER_DIR + (uint64_t)(sorted[i % PER_DIR] - names[0]) / 96;
}

/* The key of id (site_key() or unrelated_key()). */
static size_t
key_of(enum order o, char *out, size_t sz, uint64_t id)
{
	if (o == ORDER_UNRELATED)
		return unrelated_key(out, id);
	return site_key(out, sz, id);
}

static void
etag_of(char *out, size_t sz, uint64_t i)
{
	uint64_t	 a = mix(i ^ UINT64_C(0xabcdef)), b = mix(a);

	if (i % 8 == 7)
		snprintf(out, sz, "\"%016" PRIx64 "%016" PRIx64 "-%u\"", a, b,
		    2 + (unsigned)(a % 200));
	else
		snprintf(out, sz, "\"%016" PRIx64 "%016" PRIx64 "\"", a, b);
}

/* A permutation of [0, n): i -> (a * i + c) mod n, a prime to n. */
static uint64_t
perm(uint64_t i, uint64_t n, uint64_t a)
{
	return (a * i + 12345) % n;
}

static uint64_t
perm_mult(uint64_t n)
{
	uint64_t	 a = 2654435761u % n, x, y, t;

	for (;; a++) {
		x = a;
		y = n;
		while (y != 0) {
			t = x % y;
			x = y;
			y = t;
		}
		if (x == 1 && a > 1)
			return a;
	}
}

static long
rss_kib(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Put number i of order o: which key. */
static uint64_t
put_id(enum order o, uint64_t i, uint64_t n, uint64_t a)
{
	if (o == ORDER_RANDOM)
		return perm(i, n, a);
	if (o == ORDER_LISTING && i / PER_DIR < n / PER_DIR)
		return listing_id(i);
	return i;
}

static int
run(enum order o, uint64_t n)
{
	struct etag_index *ix;
	char		 key[128], etag[80], dir[] = "/tmp/s3ie-bench.XXXXXX";
	char		 path[160];
	uint64_t	 i, j, a = perm_mult(n), found = 0, fails = 0;
	uint64_t	 klen = 0, loaded = 0, sink = 0;
	size_t		 kl, kmin = SIZE_MAX, kmax = 0;
	long		 before, after;
	double		 t0, put_s, look_s, save_s = -1, load_s = -1;
	double		 gen_put, gen_look;
	double		 growth, per_key;
	size_t		 ibytes;
	struct stat	 st;
	off_t		 fsize = -1;
	struct s3_meta	 meta = { 1, 0, 0 }, got;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, ETAG_INDEX_FILE);
	ix = etag_index_open(dir, 0);
	if (ix == NULL) {
		fprintf(stderr, "etag_index_open failed\n");
		rmdir(dir);
		return 1;
	}
	/* What making the keys and ETags costs alone, to subtract. */
	t0 = now_s();
	for (i = 0; i < n; i++) {
		j = put_id(o, i, n, a);
		kl = key_of(o, key, sizeof(key), j);
		etag_of(etag, sizeof(etag), j);
		klen += kl;
		kmin = kl < kmin ? kl : kmin;
		kmax = kl > kmax ? kl : kmax;
		sink += (uint64_t)key[kl / 2] + (uint64_t)etag[5];
	}
	gen_put = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		j = perm(i, n, a);
		kl = key_of(o, key, sizeof(key), j);
		etag_of(etag, sizeof(etag), j);
		sink += (uint64_t)key[kl / 2] + (uint64_t)etag[5];
	}
	gen_look = now_s() - t0;

	before = rss_kib();
	t0 = now_s();
	for (i = 0; i < n; i++) {
		j = put_id(o, i, n, a);
		key_of(o, key, sizeof(key), j);
		etag_of(etag, sizeof(etag), j);
		meta.digest = j * UINT64_C(0x9e3779b97f4a7c15);
		if (etag_index_put_meta(ix, "site-bucket", key, etag, &meta,
		    1000000 + (int64_t)(i / 1000), 0) == -1)
			fails++;
	}
	put_s = now_s() - t0;
	after = rss_kib();
	ibytes = etag_index_bytes(ix);

	t0 = now_s();
	for (i = 0; i < n; i++) {
		j = perm(i, n, a);
		key_of(o, key, sizeof(key), j);
		etag_of(etag, sizeof(etag), j);
		found += (uint64_t)(etag_index_lookup(ix, "site-bucket", key,
		    etag, 0, &got) && got.known &&
		    got.digest == j * UINT64_C(0x9e3779b97f4a7c15));
	}
	look_s = now_s() - t0;

	t0 = now_s();
	if (etag_index_save(ix) == 0)
		save_s = now_s() - t0;
	etag_index_close(ix);
	if (stat(path, &st) == 0)
		fsize = st.st_size;
	t0 = now_s();
	ix = etag_index_open(dir, 0);
	load_s = now_s() - t0;
	loaded = etag_index_count(ix, "site-bucket");
	etag_index_close(ix);
	unlink(path);
	rmdir(dir);

	growth = (double)(after - before) * 1024.0;
	per_key = growth / (double)n;
	put_s -= gen_put;
	look_s -= gen_look;
	printf("order=%s keys=%" PRIu64 " key_len_mean=%.1f key_len_min=%zu "
	    "key_len_max=%zu rss_growth_mib=%.1f rss_growth_mb=%.1f "
	    "bytes_per_key=%.1f index_bytes_per_key=%.1f put_s=%.2f "
	    "put_per_s=%.0f lookup_s=%.2f lookup_per_s=%.0f found=%" PRIu64
	    " put_fail=%" PRIu64 " save_s=%.2f file_mib=%.1f load_s=%.2f "
	    "loaded=%" PRIu64 " target_100MB=%s%s\n",
	    order_names[o], n, (double)klen / (double)n, kmin, kmax,
	    growth / 1048576.0, growth / 1e6, per_key,
	    (double)ibytes / (double)n, put_s, (double)n / put_s, look_s,
	    (double)n / look_s, found, fails, save_s,
	    fsize < 0 ? -1.0 : (double)fsize / 1048576.0, load_s, loaded,
	    per_key * 1000000.0 < 100e6 ? "PASS" : "MISS",
	    sink == 0 ? " (no keys?)" : "");
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t	 n = 1000000;
	int		 c, o, first = ORDER_LISTING, last = ORDER_UNRELATED;
	int		 status;
	pid_t		 pid;

	for (;;) {
		c = getopt(argc, argv, "n:");
		if (c == -1)
			break;
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: etag_index_mem [-n keys] "
			    "[listing|random|unrelated|all]\n");
			return 1;
		}
	}
	if (n < 1000)
		n = 1000;
	if (optind < argc && strcmp(argv[optind], "all") != 0) {
		for (o = 0; o <= ORDER_UNRELATED; o++)
			if (strcmp(argv[optind], order_names[o]) == 0)
				break;
		if (o > ORDER_UNRELATED) {
			fprintf(stderr, "unknown order %s\n", argv[optind]);
			return 1;
		}
		first = last = o;
	}
	for (o = first; o <= last; o++) {
		fflush(stdout);
		pid = fork();
		if (pid == -1) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(run((enum order)o, n));
		if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			fprintf(stderr, "order %s: failed\n", order_names[o]);
	}
	return 0;
}
