/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_req: see s3_req.h.  Operation names follow the S3 API Reference.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "s3_req.h"
#include "sigv4.h"

static const char *const op_names[S3_OP__COUNT] = {
#define X(e, s) [S3_OP_##e] = s,
	S3_OPS(X)
#undef X
};

const char *
s3_op_name(enum s3_op op)
{
	return (unsigned)op < S3_OP__COUNT ? op_names[op] : "Other";
}

int
s3_op_needs_write(enum s3_op op)
{
	switch (op) {
	case S3_OP_LIST_BUCKETS:
	case S3_OP_HEAD_BUCKET:
	case S3_OP_LIST_OBJECTS:
	case S3_OP_LIST_UPLOADS:
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT:
	case S3_OP_LIST_PARTS:
	case S3_OP_OPTIONS:
		return 0;
	default:
		return 1;
	}
}

void
s3_req_fini(struct s3_req *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	free(r->path);
	free(r->query);
	free(r->bucket);
	free(r->key);
	for (i = 0; i < r->n_params; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	free(r->params);
	memset(r, 0, sizeof(*r));
}

const char *
s3_req_param(const struct s3_req *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->n_params; i++)
		if (strcmp(r->params[i].name, name) == 0)
			return r->params[i].value;
	return NULL;
}

int
s3_bucket_name_valid(const char *s)
{
	size_t	 n, i, dots = 0, digits = 0;

	n = strlen(s);
	if (n < 3 || n > 63)
		return 0;
	if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			dots++;
			if (s[i + 1] == '.')
				return 0;
		} else if (isdigit(c))
			digits++;
		else if (!(c >= 'a' && c <= 'z') && c != '-')
			return 0;
	}
	/* Not formatted as an IP address (192.168.5.4). */
	if (dots == 3 && digits + dots == n)
		return 0;
	return 1;
}

static char *
decode(const char *s, size_t len)
{
	struct buf	 b;

	buf_init(&b);
	/* A NUL inside a name or key would truncate it later: refused. */
	if (sigv4_uri_decode(&b, s, len) == -1 ||
	    (b.len > 0 && memchr(b.data, '\0', b.len) != NULL)) {
		buf_fini(&b);
		return NULL;
	}
	return buf_take(&b);
}

static int
parse_query(struct s3_req *r)
{
	const char	*p, *amp, *eq, *end;
	struct s3_param	*np;

	for (p = r->query; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		np = realloc(r->params, (r->n_params + 1) * sizeof(*np));
		if (np == NULL)
			return -1;
		r->params = np;
		np = &r->params[r->n_params];
		memset(np, 0, sizeof(*np));
		eq = memchr(p, '=', (size_t)(amp - p));
		end = eq != NULL ? eq : amp;
		np->name = decode(p, (size_t)(end - p));
		np->has_value = eq != NULL;
		np->value = eq != NULL ? decode(eq + 1, (size_t)(amp - eq - 1)) :
		    strdup("");
		r->n_params++;
		if (np->name == NULL || np->value == NULL)
			return -1;
	}
	return 0;
}

static int
has(const struct s3_req *r, const char *name)
{
	return s3_req_param(r, name) != NULL;
}

static enum s3_op
classify(const struct s3_req *r, const char *m, int copy)
{
	if (strcmp(m, "OPTIONS") == 0)
		return S3_OP_OPTIONS;
	if (r->bucket == NULL)
		return strcmp(m, "GET") == 0 ? S3_OP_LIST_BUCKETS : S3_OP_OTHER;
	if (r->key == NULL) {
		if (strcmp(m, "GET") == 0) {
			if (has(r, "uploads"))
				return S3_OP_LIST_UPLOADS;
			if (r->n_params == 0 || has(r, "list-type") ||
			    has(r, "prefix") || has(r, "delimiter") ||
			    has(r, "marker") || has(r, "max-keys") ||
			    has(r, "encoding-type") ||
			    has(r, "continuation-token") ||
			    has(r, "start-after") || has(r, "fetch-owner"))
				return S3_OP_LIST_OBJECTS;
			return S3_OP_BUCKET_OTHER;
		}
		if (strcmp(m, "POST") == 0 && has(r, "delete"))
			return S3_OP_DELETE_OBJECTS;
		if (r->n_params == 0 && strcmp(m, "PUT") == 0)
			return S3_OP_CREATE_BUCKET;
		if (r->n_params == 0 && strcmp(m, "DELETE") == 0)
			return S3_OP_DELETE_BUCKET;
		if (r->n_params == 0 && strcmp(m, "HEAD") == 0)
			return S3_OP_HEAD_BUCKET;
		return S3_OP_BUCKET_OTHER;
	}
	if (strcmp(m, "PUT") == 0) {
		if (has(r, "partNumber") && has(r, "uploadId"))
			return copy ? S3_OP_UPLOAD_PART_COPY : S3_OP_UPLOAD_PART;
		if (has(r, "acl") || has(r, "tagging") || has(r, "retention") ||
		    has(r, "legal-hold") || has(r, "uploadId"))
			return S3_OP_OBJECT_OTHER;
		return copy ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
	}
	if (strcmp(m, "POST") == 0) {
		if (has(r, "uploads"))
			return S3_OP_CREATE_MPU;
		if (has(r, "uploadId"))
			return S3_OP_COMPLETE_MPU;
		return S3_OP_OBJECT_OTHER;
	}
	if (strcmp(m, "DELETE") == 0) {
		if (has(r, "uploadId"))
			return S3_OP_ABORT_MPU;
		if (has(r, "tagging"))
			return S3_OP_OBJECT_OTHER;
		return S3_OP_DELETE_OBJECT;
	}
	if (strcmp(m, "GET") == 0) {
		if (has(r, "uploadId"))
			return S3_OP_LIST_PARTS;
		if (has(r, "acl") || has(r, "tagging") || has(r, "attributes") ||
		    has(r, "retention") || has(r, "legal-hold") ||
		    has(r, "torrent"))
			return S3_OP_OBJECT_OTHER;
		return S3_OP_GET_OBJECT;
	}
	if (strcmp(m, "HEAD") == 0)
		return S3_OP_HEAD_OBJECT;
	return S3_OP_OTHER;
}

/* The Host header without its port, lower-cased, into out. */
static int
host_name(const char *host, char *out, size_t outsz)
{
	size_t	 n, i;
	const char *colon;

	if (host[0] == '[')
		return -1;	/* an IPv6 literal is never a virtual host */
	colon = strrchr(host, ':');
	n = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (n == 0 || n >= outsz)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)host[i]);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';	/* "bucket.s3.local." */
	return 0;
}

static const char *const methods[] = {
	"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"
};

enum s3_err
s3_req_parse(struct s3_req *r, const char *method, const char *raw_target,
    const char *host, const char *vhost_base, int has_copy_source)
{
	const char	*q, *p, *slash;
	char		 h[256];
	size_t		 i, hl, bl;
	int		 known = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i]) == 0)
			known = 1;
	if (!known)
		return S3_ERR_METHOD_NOT_ALLOWED;
	/* Origin-form only: an absolute URI ("http://host/...") or "*" must
	 * never choose where we connect (RFC 9112 §3.2). */
	if (raw_target == NULL || raw_target[0] != '/')
		return S3_ERR_INVALID_URI;
	for (p = raw_target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return S3_ERR_INVALID_URI;
	q = strchr(raw_target, '?');
	r->path = q != NULL ? strndup(raw_target, (size_t)(q - raw_target)) :
	    strdup(raw_target);
	r->query = strdup(q != NULL ? q + 1 : "");
	if (r->path == NULL || r->query == NULL)
		return S3_ERR_INTERNAL_ERROR;
	if (parse_query(r) == -1)
		return S3_ERR_INVALID_URI;

	p = r->path + 1;
	if (vhost_base != NULL && vhost_base[0] != '\0' && host != NULL &&
	    host_name(host, h, sizeof(h)) == 0) {
		hl = strlen(h);
		bl = strlen(vhost_base);
		if (hl > bl + 1 && h[hl - bl - 1] == '.' &&
		    strcasecmp(h + hl - bl, vhost_base) == 0) {
			r->virtual_host = 1;
			r->bucket = strndup(h, hl - bl - 1);
			if (r->bucket == NULL)
				return S3_ERR_INTERNAL_ERROR;
		}
	}
	if (!r->virtual_host && *p != '\0') {
		slash = strchr(p, '/');
		r->bucket = decode(p, slash != NULL ? (size_t)(slash - p) :
		    strlen(p));
		if (r->bucket == NULL)
			return S3_ERR_INVALID_URI;
		p = slash != NULL ? slash + 1 : p + strlen(p);
	}
	if (*p != '\0') {
		r->key = decode(p, strlen(p));
		if (r->key == NULL)
			return S3_ERR_INVALID_URI;
	}
	if (r->bucket != NULL && !s3_bucket_name_valid(r->bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	r->op = classify(r, method, has_copy_source);
	return S3_OK;
}
