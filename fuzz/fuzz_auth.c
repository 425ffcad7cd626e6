/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_auth: libFuzzer target for auth_check() (src/auth.c), fed a whole
 * request as http_front.c sees it:
 *
 *	METHOD SP request-target [SP HTTP/1.1] LF
 *	Name: value LF			(Host, Authorization, X-Amz-Date, ...)
 *	LF
 *	body				(aws-chunked, when streaming)
 *
 * The head goes through s3_req_parse() (bucket, operation) and then
 * auth_check(): SigV4 in the Authorization header, or presigned in the
 * query; once with auth.mode = sigv4 and once with auth.mode = none.  When
 * a header-signed request verifies with a STREAMING-* payload, the body
 * goes to the aws-chunked decoder chained from the request's signature, in
 * pieces cut at pseudo-random points, as start_streaming() does.
 *
 * The configuration is loaded once, with cfg_load() from a file written to
 * $TMPDIR and removed at once: two clients, the key of the AWS streaming
 * examples (../shared/testdata/s3-streaming-vectors.json) and the key of
 * the AWS SigV4 test suite.  The clock is fixed at the examples' date,
 * 2013-05-24T00:00:00Z, so the seeds signed then verify; nothing reads the
 * real clock, the network or the environment.
 *
 * Checked: an accepted request has a client holding the right its
 * operation needs (s3_op_table.h), a consistent payload mode and
 * NUL-terminated fields; a refused one leaves a message or the strings S3
 * reports; the decoder never emits more than x-amz-decoded-content-length.
 * A broken promise aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "aws_chunked.h"
#include "cfg.h"
#include "s3_req.h"
#include "sigv4.h"

#define MAX_HEADERS	64
#define NOW		1369353600	/* 20130524T000000Z */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char conf_text[] =
    "[server]\n"
    "virtual_host_base = s3.amazonaws.com\n"
    "[auth]\n"
    "mode = %s\n"
    "max_skew = 15m\n"
    "[client example]\n"
    "access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    "secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    "buckets = examplebucket:rw, blog:r\n"
    "[client suite]\n"
    "access_key_id = AKIDEXAMPLE\n"
    "secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
    "buckets = *:rw\n"
    "[bucket examplebucket]\n"
    "[bucket blog]\n";

static struct cfg *cfg_sigv4;
static struct cfg *cfg_none;

struct head {
	char		*copy;		/* the input, cut into strings */
	const char	*method;
	const char	*target;
	struct sigv4_header h[MAX_HEADERS];
	size_t		 n;
	const uint8_t	*body;		/* into the input */
	size_t		 body_len;
};

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_auth: broken promise: %s\n", what);
		abort();
	}
}

static struct cfg *
load(const char *mode)
{
	char *const	 env[] = { NULL };
	struct cfg	*c = NULL;
	const char	*tmp;
	char		 path[4096];
	FILE		*f;
	int		 fd;

	tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/fuzz_auth.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	fd = mkstemp(path);
	must(fd != -1, "mkstemp in $TMPDIR");
	f = fdopen(fd, "w");
	must(f != NULL, "fdopen");
	fprintf(f, conf_text, mode);
	fclose(f);
	if (cfg_load(path, env, stderr, &c) != 0)
		c = NULL;
	unlink(path);
	must(c != NULL, "the fixed configuration loads");
	return c;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cfg_sigv4 = load("sigv4");
	cfg_none = load("none");
	return 0;
}

static char *
next_line(char **p)
{
	char	*line = *p, *lf;
	size_t	 n;

	if (line == NULL)
		return NULL;
	lf = strchr(line, '\n');
	if (lf != NULL) {
		*lf = '\0';
		*p = lf + 1;
	} else
		*p = NULL;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

/* The head as libmicrohttpd hands it over (names as sent, values without
 * blanks around them); the body is what follows the empty line. */
static int
parse_head(struct head *h, const uint8_t *data, size_t size)
{
	const uint8_t	*blank;
	char		*p, *line, *colon, *v, *e;
	size_t		 i;

	memset(h, 0, sizeof(*h));
	for (i = 0, blank = NULL; i + 1 < size && blank == NULL; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n')
			blank = data + i + 2;
		else if (data[i] == '\n' && data[i + 1] == '\r' &&
		    i + 2 < size && data[i + 2] == '\n')
			blank = data + i + 3;
	}
	if (blank != NULL) {
		h->body = blank;
		h->body_len = size - (size_t)(blank - data);
		size = (size_t)(blank - data);
	}
	h->copy = malloc(size + 1);
	if (h->copy == NULL)
		return -1;
	memcpy(h->copy, data, size);
	h->copy[size] = '\0';
	p = h->copy;
	line = next_line(&p);
	h->method = line;
	v = strchr(line, ' ');
	if (v == NULL)
		return -1;
	*v++ = '\0';
	h->target = v;
	e = strchr(v, ' ');
	if (e != NULL)
		*e = '\0';
	while ((line = next_line(&p)) != NULL && *line != '\0' &&
	    h->n < MAX_HEADERS) {
		colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		h->h[h->n].name = line;
		h->h[h->n].value = v;
		h->n++;
	}
	return 0;
}

static int
nul_within(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
is_hex64(const char *s)
{
	size_t	 i;

	for (i = 0; i < SIGV4_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[SIGV4_HEX_LEN] == '\0';
}

struct sink {
	uint64_t	 n;
};

static int
count(void *arg, const char *data, size_t len)
{
	struct sink	*s = arg;

	must(data != NULL && len > 0, "emit gets bytes");
	s->n += len;
	return 0;
}

/* The body through the decoder, as start_streaming() sets it up. */
static void
stream(const struct head *h, const struct auth_result *r)
{
	struct ac_params	 p;
	struct ac_decoder	*d;
	struct sink		 s = { 0 };
	enum ac_mode		 mode;
	enum s3_err		 err;
	const char		*dl, *msg;
	char			*end;
	uint64_t		 seed;
	size_t			 off, piece;

	if (aws_chunked_mode(r->streaming, &mode) == -1)
		return;
	if (mode != AC_UNSIGNED_TRAILER && r->seed_signature[0] == '\0')
		return;
	dl = auth_header(h->h, h->n, "x-amz-decoded-content-length");
	if (dl == NULL || *dl == '\0' || *dl == '-')
		return;
	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.trailer = auth_header(h->h, h->n, "x-amz-trailer");
	p.decoded_length = strtoull(dl, &end, 10);
	if (*end != '\0')
		return;
	memcpy(p.signing_key, r->signing_key, sizeof(p.signing_key));
	p.amz_date = r->amz_date;
	p.scope = r->scope;
	p.seed_signature = r->seed_signature;
	d = aws_chunked_decoder_new(&p, &err, &msg);
	if (d == NULL) {
		must(err != S3_OK && msg != NULL, "a refusal says why");
		return;
	}
	/* Pieces of 1..64 bytes from a generator seeded by the length: the
	 * same input is always cut the same way. */
	seed = h->body_len * 2654435761u + 1;
	for (off = 0; off < h->body_len; off += piece) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		piece = 1 + (size_t)(seed >> 58);
		if (piece > h->body_len - off)
			piece = h->body_len - off;
		if (aws_chunked_decode(d, (const char *)h->body + off, piece,
		    count, &s) == -1)
			break;
	}
	if (off >= h->body_len && aws_chunked_decode_finish(d) == 0)
		must(s.n == p.decoded_length,
		    "a complete body has the decoded length");
	else
		must(aws_chunked_decoder_error(d, &msg) != S3_OK,
		    "a failed body has an error");
	must(s.n <= p.decoded_length, "never more than the decoded length");
	aws_chunked_decoder_free(d);
}

/* The client holds the right s3_op_table.h asks of the operation. */
static int
may(const struct cfg_client *cl, const struct s3_req *s3)
{
	switch (s3_op_right(s3->op)) {
	case S3_RIGHT_NONE:
		return 1;
	case S3_RIGHT_R:
		return cfg_client_may(cl, s3->bucket, CFG_RIGHT_R);
	case S3_RIGHT_W:
		return cfg_client_may(cl, s3->bucket, CFG_RIGHT_W);
	case S3_RIGHT_ADMIN:
		return cfg_client_may(cl, s3->bucket, CFG_RIGHT_ADMIN);
	default:
		return 0;
	}
}

static void
check(const struct cfg *cfg, const struct head *h, const struct s3_req *s3,
    const struct auth_input *ai)
{
	struct auth_result	 r;
	enum s3_err		 e;

	e = auth_check(cfg, ai, NOW, &r);
	must(nul_within(r.access_key_id, sizeof(r.access_key_id)) &&
	    nul_within(r.payload_hash, sizeof(r.payload_hash)) &&
	    nul_within(r.streaming, sizeof(r.streaming)) &&
	    nul_within(r.seed_signature, sizeof(r.seed_signature)) &&
	    nul_within(r.amz_date, sizeof(r.amz_date)) &&
	    nul_within(r.scope, sizeof(r.scope)) &&
	    nul_within(r.signature_provided, sizeof(r.signature_provided)),
	    "result strings are NUL-terminated");
	if (r.message != NULL)
		must(strlen(r.message) > 0, "a message is not empty");
	if (e == S3_ERR_SIGNATURE_DOES_NOT_MATCH)
		must(r.string_to_sign != NULL && r.canonical_request != NULL,
		    "a signature mismatch reports what was signed");
	if (e == S3_OK) {
		if (cfg->auth.mode == CFG_AUTH_SIGV4) {
			must(r.client != NULL, "sigv4: a client");
			must(strcmp(r.client->access_key_id,
			    r.access_key_id) == 0, "the client of the key");
			if (s3->bucket != NULL)
				must(may(r.client, s3), "the client may do it");
			if (!r.presigned)
				must(is_hex64(r.seed_signature),
				    "header auth: the seed signature");
		} else
			must(r.client == NULL, "auth none: no client");
		switch (r.payload) {
		case AUTH_PAYLOAD_UNSIGNED:
			break;
		case AUTH_PAYLOAD_HEX:
			must(is_hex64(r.payload_hash), "payload hash is hex");
			break;
		case AUTH_PAYLOAD_STREAMING:
			must(strncmp(r.streaming, "STREAMING-", 10) == 0,
			    "streaming mode named");
			stream(h, &r);
			break;
		default:
			must(0, "payload mode in range");
		}
	}
	auth_result_fini(&r);
	auth_result_fini(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct head		 h;
	struct s3_req		 s3;
	struct auth_input	 ai;

	memset(&s3, 0, sizeof(s3));
	if (parse_head(&h, data, size) == 0 &&
	    s3_req_parse(&s3, h.method, h.target,
	    auth_header(h.h, h.n, "host"),
	    cfg_sigv4->server.virtual_host_base,
	    auth_header(h.h, h.n, "x-amz-copy-source") != NULL ?
	    S3_HDR_COPY_SOURCE : 0) == S3_OK) {
		memset(&ai, 0, sizeof(ai));
		ai.method = h.method;
		ai.raw_path = s3.path;
		ai.raw_query = s3.query;
		ai.headers = h.h;
		ai.n_headers = h.n;
		ai.bucket = s3.bucket;
		ai.s3 = &s3;
		check(cfg_sigv4, &h, &s3, &ai);
		check(cfg_none, &h, &s3, &ai);
	}
	s3_req_fini(&s3);
	free(h.copy);
	return 0;
}
