/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cfg: libFuzzer target for cfg_load() (src/cfg*.c, with libinih).
 *
 * The input is a configuration file, then optionally a NUL byte and an
 * environment: NUL-separated "NAME=value" strings (S3INVAL_* overrides),
 * as environ holds them.  The file is written to a temporary folder made
 * once under $TMPDIR and removed at exit; cfg_load() reads it with that
 * environment; its messages go to /dev/null.
 *
 * Checked: a configuration comes back exactly when no problem was
 * reported; each bucket and client is found by its own name and key;
 * each client may do what its grants say; and, for a file without
 * environment, what cfg_print() writes loads again without a problem and
 * prints the same (secrets are masked both times).  cfg_parse_duration()
 * and cfg_parse_size() also get every value of the environment.
 *
 * Deterministic: no network, no clock; the real environment is never read.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

#define MAX_ENV		64

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[4096];
static char	 conf[4200];
static char	 reprint[4200];
static FILE	*devnull;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cfg: broken promise: %s\n", what);
		abort();
	}
}

static void
cleanup(void)
{
	unlink(conf);
	unlink(reprint);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp;

	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fuzz_cfg.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	must(mkdtemp(dir) != NULL, "mkdtemp in $TMPDIR");
	snprintf(conf, sizeof(conf), "%s/s3inval.conf", dir);
	snprintf(reprint, sizeof(reprint), "%s/printed.conf", dir);
	atexit(cleanup);
	devnull = fopen("/dev/null", "w");
	must(devnull != NULL, "/dev/null");
	return 0;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE	*f;

	f = fopen(path, "w");
	must(f != NULL, "the temporary file can be written");
	must(fwrite(p, 1, n, f) == n, "fwrite");
	must(fclose(f) == 0, "fclose");
}

/* cfg_print() into memory; caller frees. */
static char *
print(const struct cfg *c, size_t *len)
{
	char	*text = NULL;
	FILE	*f;

	f = open_memstream(&text, len);
	must(f != NULL, "open_memstream");
	cfg_print(c, f);
	must(fclose(f) == 0, "fclose");
	return text;
}

static void
lookups(const struct cfg *c)
{
	const struct cfg_client	*cl;
	enum cfg_right		 r;
	size_t			 i, k;

	for (i = 0; i < c->n_buckets; i++)
		must(cfg_bucket_find(c, c->buckets[i].name) ==
		    &c->buckets[i], "a bucket is found by its name");
	for (i = 0; i < c->n_clients; i++) {
		cl = &c->clients[i];
		must(cfg_client_find(c, cl->access_key_id) == cl,
		    "a client is found by its key");
		for (k = 0; k < cl->n_grants; k++) {
			must(cl->grants[k].rights != 0 &&
			    (cl->grants[k].rights & ~7u) == 0,
			    "a grant holds rights, known ones");
			if (strcmp(cl->grants[k].bucket, "*") == 0)
				continue;
			for (r = CFG_RIGHT_R; r <= CFG_RIGHT_ADMIN; r++)
				if (cl->grants[k].rights & CFG_RIGHT_BIT(r))
					must(cfg_client_may(cl,
					    cl->grants[k].bucket, r),
					    "a grant allows its rights");
		}
	}
	(void)cfg_bucket_find(c, "blog");
	(void)cfg_client_find(c, "AKIDEXAMPLE");
}

/* print(load(file)) loads, and prints the same. */
static void
round_trip(const struct cfg *c)
{
	char *const	 noenv[] = { NULL };
	struct cfg	*again = NULL;
	char		*one, *two;
	size_t		 n1, n2;
	int		 errs;

	one = print(c, &n1);
	write_file(reprint, one, n1);
	errs = cfg_load(reprint, noenv, stderr, &again);
	if (errs != 0) {
		fprintf(stderr, "fuzz_cfg: the printed configuration:\n%s",
		    one);
		must(0, "what cfg_print() writes loads again");
	}
	two = print(again, &n2);
	if (n1 != n2 || memcmp(one, two, n1) != 0) {
		fprintf(stderr, "fuzz_cfg: printed first:\n%s\nthen:\n%s",
		    one, two);
		must(0, "a reloaded configuration prints the same");
	}
	free(one);
	free(two);
	cfg_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nul, *p, *end = data + size;
	char		*env[MAX_ENV + 1], *eq;
	struct cfg	*c = NULL;
	size_t		 n = 0, len, i;
	int64_t		 ms;
	uint64_t	 bytes;
	int		 errs;

	nul = memchr(data, '\0', size);
	write_file(conf, data, nul != NULL ? (size_t)(nul - data) : size);
	for (p = nul != NULL ? nul + 1 : end; p < end && n < MAX_ENV;
	    p += len + 1) {
		len = strnlen((const char *)p, (size_t)(end - p));
		env[n] = malloc(len + 1);
		must(env[n] != NULL, "malloc");
		memcpy(env[n], p, len);
		env[n][len] = '\0';
		n++;
	}
	env[n] = NULL;
	for (i = 0; i < n; i++) {
		eq = strchr(env[i], '=');
		if (eq != NULL) {
			(void)cfg_parse_duration(eq + 1, &ms);
			(void)cfg_parse_size(eq + 1, &bytes);
		}
	}

	errs = cfg_load(conf, env, devnull, &c);
	must(errs >= 0, "a count of problems");
	must((errs == 0) == (c != NULL),
	    "a configuration exactly when there is no problem");
	if (c != NULL) {
		lookups(c);
		if (n == 0)
			round_trip(c);
	}
	cfg_free(c);
	for (i = 0; i < n; i++)
		free(env[i]);
	return 0;
}
