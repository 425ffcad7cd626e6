/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_etag_index: libFuzzer target for what the ETag index reads
 * (src/etag_index_file.c, src/etag_learner.c): its file in state_dir
 * (left by an earlier run, a crash, a bad disk, the version before
 * digests) and the listings that pass through the proxy.
 *
 * The first input byte says what the rest is:
 *   0  an index file, as is;
 *   1  the same, with the CRC-32C at its end recomputed by this target
 *      (so the entries are parsed, not stopped by the checksum);
 *   2  a ListObjects/ListObjectsV2 body, fed to the learner whole, then
 *      to a fresh index in pieces whose sizes come from the body's bytes.
 *
 * A file goes into a fresh folder under $TMPDIR, made and removed for each
 * input, and is opened with etag_index_open().  Checked: whatever loads
 * saves, and the saved file loads and saves again to the same bytes (the
 * format round-trips, digests included); a listing fed whole or in pieces
 * teaches the same index (compared as saved files), and never more keys
 * than it learned entries.  Nothing is left in the folder but the index.
 *
 * Deterministic: learn times are fixed, no network, no threads.
 */
#include "config.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "crc.h"
#include "etag_index.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_etag_index: broken promise: %s\n", what);
		abort();
	}
}

static void
quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

struct tmp {
	char	 dir[256];
	char	 path[300];
};

static void
tmp_make(struct tmp *t)
{
	const char	*base = getenv("TMPDIR");

	if (base == NULL || *base == '\0' || strlen(base) > 200)
		base = "/tmp";
	snprintf(t->dir, sizeof(t->dir), "%s/fzei.XXXXXX", base);
	must(mkdtemp(t->dir) != NULL, "mkdtemp in $TMPDIR");
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, ETAG_INDEX_FILE);
}

static void
tmp_remove(struct tmp *t)
{
	DIR		*d;
	struct dirent	*de;
	int		 others = 0;

	d = opendir(t->dir);
	must(d != NULL, "the folder is there");
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, ETAG_INDEX_FILE) != 0)
			others++;
	closedir(d);
	must(others == 0, "nothing but the index is left");
	unlink(t->path);
	must(rmdir(t->dir) == 0, "the temporary folder is left empty");
}

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE		*f = fopen(path, "rb");
	unsigned char	*p = NULL;
	long		 sz;

	*n = 0;
	if (f == NULL)
		return NULL;
	sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)sz + 1);
		if (p != NULL && fread(p, 1, (size_t)sz, f) == (size_t)sz)
			*n = (size_t)sz;
	}
	fclose(f);
	return p;
}

static void
spit(const char *path, const void *p, size_t n)
{
	FILE	*f = fopen(path, "wb");

	must(f != NULL, "write the file");
	must(n == 0 || fwrite(p, 1, n, f) == n, "write the file");
	must(fclose(f) == 0, "write the file");
}

/* Open dir, save, and return the file it saved. */
static unsigned char *
load_save(struct tmp *t, size_t *n)
{
	struct etag_index *ix = etag_index_open(t->dir, 0);

	must(ix != NULL, "open");
	must(etag_index_save(ix) == 0, "what loads saves");
	etag_index_close(ix);
	return slurp(t->path, n);
}

static void
file(const uint8_t *data, size_t size, int fix_crc)
{
	struct tmp	 t;
	unsigned char	*p, *a, *b;
	size_t		 na, nb;
	uint32_t	 c;

	tmp_make(&t);
	p = malloc(size + 1);
	must(p != NULL, "memory");
	memcpy(p, data, size);
	if (fix_crc && size >= 4) {
		c = crc32c(0, p, size - 4);
		p[size - 4] = (unsigned char)c;
		p[size - 3] = (unsigned char)(c >> 8);
		p[size - 2] = (unsigned char)(c >> 16);
		p[size - 1] = (unsigned char)(c >> 24);
	}
	spit(t.path, p, size);
	free(p);
	a = load_save(&t, &na);
	b = load_save(&t, &nb);
	must(a != NULL && b != NULL && na == nb && memcmp(a, b, na) == 0,
	    "the saved file round-trips");
	free(a);
	free(b);
	tmp_remove(&t);
}

/* Learn a listing into a fresh index in dir t; its saved file. */
static unsigned char *
learn(struct tmp *t, const uint8_t *data, size_t size, int pieces,
    size_t *n)
{
	struct etag_index *ix;
	struct etag_learner *l;
	size_t		 i, k;
	unsigned char	*out;

	unlink(t->path);
	ix = etag_index_open(t->dir, 0);
	must(ix != NULL, "open");
	l = etag_learner_new(ix, "bucket", 1000);
	must(l != NULL, "learner");
	for (i = 0; i < size; i += k) {
		k = pieces ? 1 + data[i] % 61 : size;
		if (k > size - i)
			k = size - i;
		etag_learner_feed(l, (const char *)data + i, k);
	}
	must(etag_index_count(ix, "bucket") <= etag_learner_count(l),
	    "no more keys than learned entries");
	etag_learner_free(l);
	must(etag_index_save(ix) == 0, "save");
	etag_index_close(ix);
	out = slurp(t->path, n);
	must(out != NULL, "read back");
	return out;
}

static void
listing(const uint8_t *data, size_t size)
{
	struct tmp	 t;
	unsigned char	*a, *b;
	size_t		 na, nb;

	tmp_make(&t);
	a = learn(&t, data, size, 0, &na);
	b = learn(&t, data, size, 1, &nb);
	must(na == nb && memcmp(a, b, na) == 0,
	    "whole or in pieces, the same index");
	free(a);
	free(b);
	tmp_remove(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		file(data + 1, size - 1, 0);
		break;
	case 1:
		file(data + 1, size - 1, 1);
		break;
	default:
		listing(data + 1, size - 1);
		break;
	}
	return 0;
}
