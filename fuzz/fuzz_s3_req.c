/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_s3_req: libFuzzer target for s3_req_parse() (src/s3_req.c).
 *
 * The input is an HTTP request head as a client sends it:
 *
 *	METHOD SP request-target [SP HTTP/1.1] LF
 *	Name: value LF			(Host, x-amz-copy-source, ...)
 *
 * The method, the target, the Host header and whether x-amz-copy-source is
 * present go to s3_req_parse() as http_front.c passes them, once for each
 * kind of server.virtual_host_base (none, "", and two real ones).  What a
 * successful parse promises is checked: a path starting with '/', a valid
 * bucket name, a virtual-host bucket only when a base is configured, a key
 * of at most S3_KEY_MAX bytes, every parameter findable by name, an
 * operation in range and never a refused one, its right and change in
 * range, a name for it; a refusal (NotImplemented) says why, and a write
 * never hides as a read (a request that is not GET, HEAD or OPTIONS is
 * never UnknownRead).  s3_req_fini() is safe twice.  A broken promise
 * aborts, so libFuzzer keeps the input.
 *
 * Deterministic: no I/O, no clock, no globals.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3_req.h"

#define MAX_HEADERS	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct head {
	char		*copy;		/* the input, cut into strings */
	const char	*method;
	const char	*target;
	const char	*names[MAX_HEADERS];
	const char	*values[MAX_HEADERS];
	size_t		 n;
};

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_s3_req: broken promise: %s\n", what);
		abort();
	}
}

/* Cut the next line off *p (LF, an optional CR before it dropped). */
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

/* Request line and headers, as libmicrohttpd hands them over: names as
 * sent, values without blanks around them. */
static int
parse_head(struct head *h, const uint8_t *data, size_t size)
{
	char	*p, *line, *colon, *v, *e;

	memset(h, 0, sizeof(*h));
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
		h->names[h->n] = line;
		h->values[h->n] = v;
		h->n++;
	}
	return 0;
}

static const char *
header(const struct head *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->names[i], name) == 0)
			return h->values[i];
	return NULL;
}

static void
check(const struct s3_req *r, const char *host, const char *vhost_base)
{
	char	 d[64];
	size_t	 i;

	must(r->path != NULL && r->path[0] == '/', "path starts with '/'");
	must(r->query != NULL, "query is set");
	must(strchr(r->path, '?') == NULL, "path holds no '?'");
	if (r->bucket != NULL)
		must(s3_bucket_name_valid(r->bucket), "bucket name is valid");
	if (r->virtual_host) {
		must(r->bucket != NULL, "virtual host gives a bucket");
		must(vhost_base != NULL && *vhost_base != '\0' &&
		    host != NULL, "virtual host only with a base and Host");
	}
	if (r->key != NULL)
		must(r->bucket != NULL, "a key only under a bucket");
	for (i = 0; i < r->n_params; i++) {
		must(r->params[i].name != NULL && r->params[i].value != NULL,
		    "parameter strings are set");
		must(s3_req_param(r, r->params[i].name) != NULL,
		    "parameter is found by name");
		must(r->params[i].has_value || *r->params[i].value == '\0',
		    "parameter without '=' has an empty value");
	}
	must((unsigned)r->op < S3_OP__COUNT, "operation in range");
	must(s3_op_name(r->op) != NULL, "operation has a name");
	must(s3_op_right(r->op) <= S3_RIGHT_ADMIN, "a right, never refused");
	must(s3_op_change(r->op) <= S3_CHG_BUCKET, "change in range");
	if (r->key != NULL)
		must(strlen(r->key) <= S3_KEY_MAX, "a key S3 can store");
	if (r->op == S3_OP_UNKNOWN_READ)
		must(strcmp(r->method, "GET") == 0 ||
		    strcmp(r->method, "HEAD") == 0 ||
		    strcmp(r->method, "OPTIONS") == 0, "a write is no read");
	s3_req_describe(r, d, sizeof(d));
	must(memchr(d, '\0', sizeof(d)) != NULL && d[0] != '\0',
	    "described");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = {
		NULL, "", "s3.local", "s3.amazonaws.com"
	};
	struct head	 h;
	struct s3_req	 r;
	const char	*host;
	enum s3_err	 e;
	size_t		 i;
	int		 copy;

	if (parse_head(&h, data, size) == 0) {
		host = header(&h, "host");
		copy = header(&h, "x-amz-copy-source") != NULL;
		for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
			e = s3_req_parse(&r, h.method, h.target, host,
			    bases[i], copy ? S3_HDR_COPY_SOURCE : 0);
			if (e == S3_OK)
				check(&r, host, bases[i]);
			if (e == S3_ERR_NOT_IMPLEMENTED)
				must(r.message != NULL && s3_op_right(r.op) ==
				    S3_RIGHT_REFUSED, "a refusal says why");
			s3_req_fini(&r);
			s3_req_fini(&r);
		}
	}
	free(h.copy);
	return 0;
}
