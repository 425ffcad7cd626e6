/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_req: see s3_req.h.  The operations, their rights and what they change
 * come from s3_op_table.h; names follow the S3 API Reference.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "s3_req.h"
#include "uri.h"

enum method {
	M_NONE = 0, M_GET, M_HEAD, M_PUT, M_POST, M_DELETE, M_OPTIONS
};

/* Indexed by enum method. */
static const char *const methods[] = {
	NULL, "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"
};
#define N_METHODS	(sizeof(methods) / sizeof(methods[0]))

enum target {
	T_ANY = 0, T_SVC, T_BKT, T_OBJ
};

static const struct op_row {
	const char	*name;
	enum method	 method;
	enum target	 target;
	const char	*sub;
	const char	*sub2;
	unsigned	 hdr;
	enum s3_right	 right;
	enum s3_change	 change;
	unsigned	 flags;
	const char	*refusal;
} rows[S3_OP__COUNT] = {
#define S3OP(e, n, m, t, s1, s2, h, r, c, f, why) [S3_OP_##e] = {	\
	n, M_##m, T_##t, s1, s2, h, S3_RIGHT_##r, S3_CHG_##c, f, why },
#include "s3_op_table.h"
};

/*
 * Query parameters S3 documents as an operation's arguments rather than as
 * what names it (botocore's model, "location": "querystring"): left over
 * on a write they do not make it another operation.  Also every
 * "response-*" override and every "X-Amz-*" (presigned URLs, hoisted
 * headers).
 */
static const char *const plain_params[] = {
	"bucket-region", "continuation-token", "delimiter", "encoding-type",
	"fetch-owner", "id", "key-marker", "marker", "max-buckets",
	"max-directory-buckets", "max-keys", "max-parts", "max-uploads",
	"part-number-marker", "prefix", "start-after", "upload-id-marker",
	"version-id-marker", "versionId", "x-id"
};

static const struct op_row *
row(enum s3_op op)
{
	return &rows[(unsigned)op < S3_OP__COUNT ? op : S3_OP_UNKNOWN];
}

const char *
s3_op_name(enum s3_op op)
{
	return row(op)->name;
}

enum s3_right
s3_op_right(enum s3_op op)
{
	return row(op)->right;
}

enum s3_change
s3_op_change(enum s3_op op)
{
	return row(op)->change;
}

unsigned
s3_op_flags(enum s3_op op)
{
	return row(op)->flags;
}

const char *
s3_op_refusal(enum s3_op op)
{
	return row(op)->refusal;
}

const char *
s3_right_name(enum s3_right r)
{
	switch (r) {
	case S3_RIGHT_R:
		return "r";
	case S3_RIGHT_W:
		return "w";
	case S3_RIGHT_ADMIN:
		return "admin";
	default:
		return "";
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
	if (uri_decode(&b, s, len) == -1 ||
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

static int
is_plain(const char *name)
{
	size_t	 i;

	if (strncasecmp(name, "x-amz-", 6) == 0 ||
	    strncmp(name, "response-", 9) == 0)
		return 1;
	for (i = 0; i < sizeof(plain_params) / sizeof(plain_params[0]); i++)
		if (strcmp(name, plain_params[i]) == 0)
			return 1;
	return 0;
}

/* GET, HEAD and OPTIONS change nothing, whatever their parameters. */
static int
is_safe(enum method m)
{
	return m == M_GET || m == M_HEAD || m == M_OPTIONS;
}

static enum target
target_of(const struct s3_req *r)
{
	if (r->bucket == NULL)
		return T_SVC;
	return r->key == NULL ? T_BKT : T_OBJ;
}

/* 1 when parameter name is neither one of w's own nor plain. */
static int
stray(const struct op_row *w, const char *name)
{
	if ((w->sub != NULL && strcmp(name, w->sub) == 0) ||
	    (w->sub2 != NULL && strcmp(name, w->sub2) == 0))
		return 0;
	return !is_plain(name);
}

/* The row a request is (see s3_op_table.h, "How a request is matched"). */
static enum s3_op
classify(const struct s3_req *r, enum method m, unsigned hdrs)
{
	const struct op_row	*w;
	enum target		 t = target_of(r);
	size_t			 op, i;
	int			 score, best_score = -1, tie = 0;
	enum s3_op		 best = S3_OP_UNKNOWN;

	for (op = 0; op < S3_OP__COUNT; op++) {
		w = &rows[op];
		if (w->method == M_NONE || w->method != m ||
		    (w->target != T_ANY && w->target != t) ||
		    (w->sub != NULL && !has(r, w->sub)) ||
		    (w->sub2 != NULL && !has(r, w->sub2)) ||
		    (w->hdr & ~hdrs) != 0)
			continue;
		score = (w->sub != NULL) + (w->sub2 != NULL) + (w->hdr != 0);
		if (score > best_score) {
			best = (enum s3_op)op;
			best_score = score;
			tie = 0;
		} else if (score == best_score)
			tie = 1;
	}
	if (best_score < 0 || tie)
		return is_safe(m) ? S3_OP_UNKNOWN_READ : S3_OP_UNKNOWN;
	if (!is_safe(m))
		for (i = 0; i < r->n_params; i++)
			if (stray(&rows[best], r->params[i].name))
				return S3_OP_UNKNOWN;
	return best;
}

void
s3_req_describe(const struct s3_req *r, char *out, size_t outsz)
{
	static const char *const what[] = {
		[T_ANY] = "?", [T_SVC] = "service", [T_BKT] = "bucket",
		[T_OBJ] = "object"
	};
	size_t	 i, n;
	int	 first = 1;

	if (outsz == 0)
		return;
	if (r->op != S3_OP_UNKNOWN && r->op != S3_OP_UNKNOWN_READ) {
		snprintf(out, outsz, "%s", s3_op_name(r->op));
		return;
	}
	snprintf(out, outsz, "%s %s", r->method != NULL ? r->method : "?",
	    what[target_of(r)]);
	for (i = 0; i < r->n_params; i++) {
		if (is_plain(r->params[i].name))
			continue;
		n = strlen(out);
		snprintf(out + n, outsz - n, "%c%s", first ? '?' : '&',
		    r->params[i].name);
		first = 0;
	}
}

unsigned
s3_req_owned_bucket_status(const char *region, const char *bucket,
    char *location, size_t locsz)
{
	int	 n;

	if (region == NULL || strcmp(region, "us-east-1") != 0)
		return 409;
	if (locsz > 0) {
		n = snprintf(location, locsz, "/%s", bucket);
		if (n < 0 || (size_t)n >= locsz)
			location[0] = '\0';
	}
	return 200;
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

enum s3_err
s3_req_parse(struct s3_req *r, const char *method, const char *raw_target,
    const char *host, const char *vhost_base, unsigned hdrs)
{
	const char	*q, *p, *slash;
	char		 h[256];
	size_t		 i, hl, bl;
	enum method	 m = M_NONE;

	memset(r, 0, sizeof(*r));
	for (i = 1; i < N_METHODS && method != NULL; i++)
		if (strcmp(method, methods[i]) == 0)
			m = (enum method)i;
	if (m == M_NONE)
		return S3_ERR_METHOD_NOT_ALLOWED;
	r->method = methods[m];
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
	/* S3 Object Lambda's one call is made on the service, not a bucket
	 * (its path is no bucket name): named, then refused below. */
	if (!r->virtual_host && m == M_POST &&
	    strcmp(r->path, "/WriteGetObjectResponse") == 0)
		p += strlen(p);
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
	r->op = classify(r, m, hdrs);
	/* Stored, such a key could never be journaled (issue 13). */
	if (r->key != NULL && strlen(r->key) > S3_KEY_MAX)
		return S3_ERR_KEY_TOO_LONG;
	if (s3_op_right(r->op) == S3_RIGHT_REFUSED) {
		r->message = s3_op_refusal(r->op);
		return S3_ERR_NOT_IMPLEMENTED;
	}
	return S3_OK;
}
