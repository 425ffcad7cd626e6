/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sigv4: sigv4 against the AWS SigV4 test suite (the cases that hold
 * for S3, in tests/data/aws-signing-test-suite) with the fixed clock each
 * case gives, in both header and presigned (query) form; the S3 streaming
 * seed, chunk and trailer signatures (tests/data/s3-streaming-vectors.json);
 * and tables for encoding, canonical query and request, Authorization and
 * credential parsing, dates and comparisons.  Data is found under
 * $TOP_SRCDIR (default ".").
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "sigv4.h"
#include "uri.h"

#define SUITE_DIR	"tests/data/aws-signing-test-suite/v4"
#define STREAM_JSON	"tests/data/s3-streaming-vectors.json"
#define MAX_HEADERS	16
#define NAME_MAX_LEN	64

/* --- files ------------------------------------------------------------ */

/* The whole file under $TOP_SRCDIR, NUL-terminated; NULL when missing. */
static char *
slurp(const char *rel, size_t *lenp)
{
	struct buf	 path, data;
	const char	*top;
	char		 chunk[4096];
	FILE		*f = NULL;
	size_t		 n;
	char		*ret = NULL;

	buf_init(&path);
	buf_init(&data);
	top = getenv("TOP_SRCDIR");
	if (top == NULL || *top == '\0')
		top = ".";
	buf_printf(&path, "%s/%s", top, rel);
	f = fopen(buf_str(&path), "rb");
	if (f == NULL)
		goto out;
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), f);
		if (n == 0)
			break;
		buf_append(&data, chunk, n);
	}
	if (ferror(f) || !buf_ok(&data))
		goto out;
	if (lenp != NULL)
		*lenp = data.len;
	ret = buf_take(&data);
out:
	if (f != NULL)
		fclose(f);
	buf_fini(&path);
	buf_fini(&data);
	return ret;
}

static char *
slurp_case(const char *name, const char *file)
{
	char	 rel[512];
	char	*s;

	snprintf(rel, sizeof(rel), "%s/%s/%s", SUITE_DIR, name, file);
	s = slurp(rel, NULL);
	if (s == NULL)
		fail_msg("cannot read %s (set TOP_SRCDIR)", rel);
	return s;
}

/* Expected-value files may or may not end in a newline. */
static void
chomp(char *s)
{
	size_t	 n;

	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* --- a tiny JSON reader: only the few flat fields the vectors use ------ */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Just past the ':' of the first "key": at or after from; NULL if none. */
static const char *
json_key(const char *from, const char *key)
{
	char		 pat[128];
	const char	*p, *q;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	for (p = strstr(from, pat); p != NULL; p = strstr(p + 1, pat)) {
		q = skip_ws(p + strlen(pat));
		if (*q == ':')
			return skip_ws(q + 1);
	}
	return NULL;
}

/* A string literal (unescaped) or a bare literal at *pp; advances *pp. */
static int
json_value(const char **pp, char *out, size_t sz)
{
	const char	*p;
	size_t		 n = 0;
	char		 c;

	p = skip_ws(*pp);
	if (*p != '"') {
		while (*p != '\0' && strchr(",}] \t\r\n", *p) == NULL) {
			if (n + 1 >= sz)
				return -1;
			out[n++] = *p++;
		}
		out[n] = '\0';
		*pp = p;
		return n > 0 ? 0 : -1;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\0' || n + 1 >= sz)
			return -1;
		c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
			case '/':
				c = *p;
				break;
			default:
				return -1;
			}
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*pp = p + 1;
	return 0;
}

/* A copy of the object value of "key", so lookups stay inside it. */
static char *
json_object(const char *from, const char *key)
{
	const char	*start, *p;
	char		*copy;
	int		 depth = 0, in_str = 0;
	size_t		 len;

	start = json_key(from, key);
	if (start == NULL || *start != '{')
		return NULL;
	for (p = start; *p != '\0'; p++) {
		if (in_str) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_str = 0;
		} else if (*p == '"')
			in_str = 1;
		else if (*p == '{')
			depth++;
		else if (*p == '}') {
			depth--;
			if (depth == 0)
				break;
		}
	}
	if (*p != '}')
		return NULL;
	len = (size_t)(p - start) + 1;
	copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, start, len);
	copy[len] = '\0';
	return copy;
}

static int
json_get(const char *from, const char *key, char *out, size_t sz)
{
	const char	*p;

	p = json_key(from, key);
	if (p == NULL)
		return -1;
	return json_value(&p, out, sz);
}

static void
json_need(const char *from, const char *key, char *out, size_t sz)
{
	if (json_get(from, key, out, sz) == -1)
		fail_msg("JSON field \"%s\" missing or too long", key);
}

/* --- one AWS test-suite case ------------------------------------------- */

struct vcontext {
	char	akid[64];
	char	secret[128];
	char	token[1024];
	char	region[64];
	char	service[64];
	char	timestamp[32];
	char	expires[16];
	int	have_token;
	int	sign_body;
	int	omit_token;
};

struct vrequest {
	char			*text;		/* request.txt, cut in place */
	const char		*method;
	const char		*path;
	const char		*query;		/* "" when none */
	const char		*body;		/* "" when none */
	struct sigv4_header	 h[MAX_HEADERS];
	size_t			 nh;
};

static void
load_context(const char *name, struct vcontext *c)
{
	char	*json;
	char	 flag[16];

	memset(c, 0, sizeof(*c));
	json = slurp_case(name, "context.json");
	json_need(json, "access_key_id", c->akid, sizeof(c->akid));
	json_need(json, "secret_access_key", c->secret, sizeof(c->secret));
	json_need(json, "region", c->region, sizeof(c->region));
	json_need(json, "service", c->service, sizeof(c->service));
	json_need(json, "timestamp", c->timestamp, sizeof(c->timestamp));
	json_need(json, "expiration_in_seconds", c->expires,
	    sizeof(c->expires));
	c->have_token = json_get(json, "token", c->token,
	    sizeof(c->token)) == 0;
	c->sign_body = json_get(json, "sign_body", flag, sizeof(flag)) == 0 &&
	    strcmp(flag, "true") == 0;
	c->omit_token = json_get(json, "omit_session_token", flag,
	    sizeof(flag)) == 0 && strcmp(flag, "true") == 0;
	free(json);
}

/*
 * "METHOD target HTTP/1.1", then "Name:value" lines (a line starting with
 * a space or tab continues the previous value, kept raw for sigv4 to
 * fold), then an empty line and the body.  The target may hold spaces.
 */
static void
load_request(const char *name, struct vrequest *r)
{
	char	*p, *eol, *sp, *q, *colon, *end;

	memset(r, 0, sizeof(*r));
	r->text = slurp_case(name, "request.txt");
	r->query = "";
	r->body = "";

	p = r->text;
	eol = strchr(p, '\n');
	assert_non_null(eol);
	*eol = '\0';
	sp = strchr(p, ' ');
	assert_non_null(sp);
	*sp = '\0';
	r->method = p;
	r->path = sp + 1;
	sp = strrchr(sp + 1, ' ');
	assert_non_null(sp);
	*sp = '\0';
	q = strchr(r->path, '?');
	if (q != NULL) {
		*q = '\0';
		r->query = q + 1;
	}

	p = eol + 1;
	while (*p != '\0') {
		if (*p == '\n') {
			r->body = p + 1;
			break;
		}
		end = strchr(p, '\n');
		while (end != NULL && (end[1] == ' ' || end[1] == '\t'))
			end = strchr(end + 1, '\n');
		colon = strchr(p, ':');
		assert_non_null(colon);
		assert_true(end == NULL || colon < end);
		assert_true(r->nh < MAX_HEADERS);
		*colon = '\0';
		r->h[r->nh].name = p;
		r->h[r->nh].value = colon + 1;
		r->nh++;
		if (end == NULL)
			break;
		*end = '\0';
		p = end + 1;
	}
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* "a;b;c": every header name, lower-cased, sorted, each once. */
static void
signed_list(char *out, size_t sz, const struct sigv4_header *h, size_t n)
{
	char	 names[MAX_HEADERS][NAME_MAX_LEN];
	size_t	 i, j;

	assert_true(n <= MAX_HEADERS);
	for (i = 0; i < n; i++) {
		assert_true(strlen(h[i].name) < NAME_MAX_LEN);
		for (j = 0; h[i].name[j] != '\0'; j++)
			names[i][j] = (char)(h[i].name[j] >= 'A' &&
			    h[i].name[j] <= 'Z' ? h[i].name[j] - 'A' + 'a' :
			    h[i].name[j]);
		names[i][j] = '\0';
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (out[0] != '\0')
			strncat(out, ";", sz - strlen(out) - 1);
		strncat(out, names[i], sz - strlen(out) - 1);
	}
	assert_true(strlen(out) + 1 < sz);
}

/*
 * Canonical request, string to sign and signature of one form of a case,
 * each compared with the suite's file <form>-<what>.txt.
 */
static void
check_form(const char *name, const char *form, const struct vrequest *r,
    const struct sigv4_header *h, size_t nh, const char *query,
    const char *omit, const char *amz_date, const char *scope,
    const unsigned char key[SIGV4_KEY_LEN], char sig[SIGV4_HEX_LEN + 1],
    char *signed_headers, size_t shsz)
{
	struct sigv4_request	 req;
	struct buf		 uri, cq, creq, sts;
	char			 payload[SIGV4_HEX_LEN + 1];
	char			 file[64];
	char			*want;

	buf_init(&uri);
	buf_init(&cq);
	buf_init(&creq);
	buf_init(&sts);

	signed_list(signed_headers, shsz, h, nh);
	assert_int_equal(sigv4_canonical_uri(&uri, r->path, strlen(r->path)),
	    0);
	assert_int_equal(sigv4_canonical_query(&cq, query, omit), 0);
	sigv4_sha256_hex(payload, r->body, strlen(r->body));

	memset(&req, 0, sizeof(req));
	req.method = r->method;
	req.canonical_uri = buf_str(&uri);
	req.canonical_query = buf_str(&cq);
	req.headers = h;
	req.n_headers = nh;
	req.signed_headers = signed_headers;
	req.payload_hash = payload;
	assert_int_equal(sigv4_canonical_request(&creq, &req), 0);
	snprintf(file, sizeof(file), "%s-canonical-request.txt", form);
	want = slurp_case(name, file);
	chomp(want);
	assert_string_equal(buf_str(&creq), want);
	free(want);

	assert_int_equal(sigv4_string_to_sign(&sts, amz_date, scope,
	    buf_str(&creq), creq.len), 0);
	snprintf(file, sizeof(file), "%s-string-to-sign.txt", form);
	want = slurp_case(name, file);
	chomp(want);
	assert_string_equal(buf_str(&sts), want);
	free(want);

	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	snprintf(file, sizeof(file), "%s-signature.txt", form);
	want = slurp_case(name, file);
	chomp(want);
	assert_string_equal(sig, want);
	assert_true(sigv4_equal(sig, want));
	free(want);

	buf_fini(&uri);
	buf_fini(&cq);
	buf_fini(&creq);
	buf_fini(&sts);
}

/* The Authorization line of header-signed-request.txt parses back. */
static void
check_authorization(const char *name, const struct vcontext *c,
    const char *date8, const char *signed_headers, const char *sig)
{
	struct sigv4_auth	 auth;
	char			*text, *line, *eol;

	text = slurp_case(name, "header-signed-request.txt");
	line = strstr(text, "\nAuthorization:");
	assert_non_null(line);
	line += strlen("\nAuthorization:");
	eol = strchr(line, '\n');
	if (eol != NULL)
		*eol = '\0';
	assert_int_equal(sigv4_parse_authorization(line, &auth), 0);
	assert_string_equal(auth.cred.access_key_id, c->akid);
	assert_string_equal(auth.cred.date, date8);
	assert_string_equal(auth.cred.region, c->region);
	assert_string_equal(auth.cred.service, c->service);
	assert_string_equal(auth.signed_headers, signed_headers);
	assert_string_equal(auth.signature, sig);
	free(text);
}

static void
test_vector(void **state)
{
	const char		*name = *state;
	struct vcontext		 c;
	struct vrequest		 r;
	struct sigv4_header	 h[MAX_HEADERS];
	struct buf		 scope, cred, q;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 amz[32], date8[9], back[17];
	char			 sig[SIGV4_HEX_LEN + 1];
	char			 payload[SIGV4_HEX_LEN + 1];
	char			 sh[512];
	int64_t			 now;
	size_t			 i, j, nh;

	buf_init(&scope);
	buf_init(&cred);
	buf_init(&q);
	load_context(name, &c);
	load_request(name, &r);

	/* The fixed clock: "2015-08-30T12:36:00Z" -> "20150830T123600Z". */
	for (i = 0, j = 0; c.timestamp[i] != '\0' && j + 1 < sizeof(amz); i++)
		if (c.timestamp[i] != '-' && c.timestamp[i] != ':')
			amz[j++] = c.timestamp[i];
	amz[j] = '\0';
	assert_int_equal(sigv4_parse_amz_date(amz, &now), 0);
	sigv4_format_amz_date(back, now);
	assert_string_equal(back, amz);
	memcpy(date8, amz, 8);
	date8[8] = '\0';

	sigv4_signing_key(key, c.secret, date8, c.region, c.service);
	assert_int_equal(sigv4_scope(&scope, date8, c.region, c.service), 0);
	sigv4_sha256_hex(payload, r.body, strlen(r.body));

	/*
	 * Header form, as the suite signs it: X-Amz-Date is added, then the
	 * session token unless it is to be added after signing, then
	 * X-Amz-Content-Sha256 when the body is signed; every header is signed.
	 */
	nh = r.nh;
	memcpy(h, r.h, nh * sizeof(h[0]));
	assert_true(nh + 3 <= MAX_HEADERS);
	h[nh].name = "X-Amz-Date";
	h[nh++].value = amz;
	if (c.have_token && !c.omit_token) {
		h[nh].name = "X-Amz-Security-Token";
		h[nh++].value = c.token;
	}
	if (c.sign_body) {
		h[nh].name = "X-Amz-Content-Sha256";
		h[nh++].value = payload;
	}
	check_form(name, "header", &r, h, nh, r.query, NULL, amz,
	    buf_str(&scope), key, sig, sh, sizeof(sh));
	check_authorization(name, &c, date8, sh, sig);

	/*
	 * Query form: the request's own headers are signed, and the X-Amz-*
	 * parameters join the query as a presigned URL carries them, each
	 * value URI-encoded; X-Amz-Signature is there too, to be omitted.
	 */
	signed_list(sh, sizeof(sh), r.h, r.nh);
	buf_printf(&cred, "%s/%s", c.akid, buf_str(&scope));
	if (*r.query != '\0')
		buf_printf(&q, "%s&", r.query);
	buf_puts(&q, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
	assert_int_equal(uri_encode(&q, buf_str(&cred), cred.len, 0),
	    0);
	buf_printf(&q, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", amz);
	assert_int_equal(uri_encode(&q, sh, strlen(sh), 0), 0);
	buf_printf(&q, "&X-Amz-Expires=%s", c.expires);
	if (c.have_token && !c.omit_token) {
		buf_puts(&q, "&X-Amz-Security-Token=");
		assert_int_equal(uri_encode(&q, c.token,
		    strlen(c.token), 0), 0);
	}
	buf_puts(&q, "&X-Amz-Signature=");
	buf_puts(&q, SIGV4_EMPTY_SHA256);
	assert_true(buf_ok(&q));
	check_form(name, "query", &r, r.h, r.nh, buf_str(&q),
	    "X-Amz-Signature", amz, buf_str(&scope), key, sig, sh, sizeof(sh));

	free(r.text);
	buf_fini(&scope);
	buf_fini(&cred);
	buf_fini(&q);
}

/* --- S3 streaming (aws-chunked) signatures ----------------------------- */

static void
check_stream_mode(const char *json, const char *mode, const char *amz,
    const char *scope, const unsigned char key[SIGV4_KEY_LEN],
    const long *sizes, size_t nsizes, int has_trailer)
{
	struct buf	 sts;
	const char	*p;
	char		*obj;
	char		 creq[4096], want[SIGV4_HEX_LEN + 1];
	char		 prev[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];
	char		 hash[SIGV4_HEX_LEN + 1], trailer[256];
	char		*data;
	size_t		 i;

	buf_init(&sts);
	obj = json_object(json, mode);
	assert_non_null(obj);

	/* Seed: the ordinary SigV4 signature of the request. */
	json_need(obj, "canonical_request", creq, sizeof(creq));
	json_need(obj, "seed", want, sizeof(want));
	assert_int_equal(sigv4_string_to_sign(&sts, amz, scope, creq,
	    strlen(creq)), 0);
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	assert_string_equal(sig, want);

	/* Each chunk chains on the previous signature. */
	memcpy(prev, sig, sizeof(prev));
	p = json_key(obj, "chunks");
	assert_non_null(p);
	assert_int_equal(*p, '[');
	p++;
	for (i = 0; i < nsizes; i++) {
		assert_int_equal(json_value(&p, want, sizeof(want)), 0);
		p = skip_ws(p);
		if (*p == ',')
			p++;
		data = malloc((size_t)sizes[i] + 1);
		assert_non_null(data);
		memset(data, 'a', (size_t)sizes[i]);
		sigv4_sha256_hex(hash, data, (size_t)sizes[i]);
		free(data);
		buf_reset(&sts);
		buf_printf(&sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s",
		    amz, scope, prev, SIGV4_EMPTY_SHA256, hash);
		sigv4_sign(sig, key, buf_str(&sts), sts.len);
		assert_string_equal(sig, want);
		memcpy(prev, sig, sizeof(prev));
	}

	/* The trailer chains on the final (empty) chunk's signature. */
	assert_int_equal(json_get(obj, "trailer", trailer,
	    sizeof(trailer)) == 0, has_trailer);
	if (has_trailer) {
		json_need(obj, "trailer_signature", want, sizeof(want));
		sigv4_sha256_hex(hash, trailer, strlen(trailer));
		buf_reset(&sts);
		buf_printf(&sts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s",
		    amz, scope, prev, hash);
		sigv4_sign(sig, key, buf_str(&sts), sts.len);
		assert_string_equal(sig, want);
	}
	free(obj);
	buf_fini(&sts);
}

static void
test_streaming(void **state)
{
	struct sigv4_credential	 cred;
	struct buf		 credstr;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 akid[64], secret[128], amz[32], scope[128];
	long			 sizes[8];
	size_t			 nsizes = 0;
	const char		*p;
	char			*json, *end;
	int64_t			 t;

	(void)state;
	buf_init(&credstr);
	json = slurp(STREAM_JSON, NULL);
	if (json == NULL)
		fail_msg("cannot read %s (set TOP_SRCDIR)", STREAM_JSON);
	json_need(json, "access_key_id", akid, sizeof(akid));
	json_need(json, "secret_access_key", secret, sizeof(secret));
	json_need(json, "x_amz_date", amz, sizeof(amz));
	json_need(json, "scope", scope, sizeof(scope));
	assert_int_equal(sigv4_parse_amz_date(amz, &t), 0);

	p = json_key(json, "chunk_sizes");
	assert_non_null(p);
	assert_int_equal(*p, '[');
	p++;
	for (;;) {
		p = skip_ws(p);
		if (*p == ']')
			break;
		assert_true(nsizes < sizeof(sizes) / sizeof(sizes[0]));
		sizes[nsizes++] = strtol(p, &end, 10);
		assert_true(end != p);
		p = skip_ws(end);
		if (*p == ',')
			p++;
	}
	assert_int_equal(nsizes, 3);

	/* The scope, taken apart by the credential parser. */
	buf_printf(&credstr, "%s/%s", akid, scope);
	assert_int_equal(sigv4_parse_credential(buf_str(&credstr), &cred), 0);
	assert_memory_equal(cred.date, amz, 8);
	sigv4_signing_key(key, secret, cred.date, cred.region, cred.service);

	check_stream_mode(json, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", amz,
	    scope, key, sizes, nsizes, 0);
	check_stream_mode(json, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	    amz, scope, key, sizes, nsizes, 1);
	free(json);
	buf_fini(&credstr);
}

/* --- encoding ----------------------------------------------------------- */

static const struct {
	const char	*raw;
	const char	*want;
} uri_good[] = {
	{ "", "/" },
	{ "/", "/" },
	{ "/b/my%20key", "/b/my%20key" },
	{ "/b/my key", "/b/my%20key" },
	{ "/b/a+b", "/b/a%2Bb" },
	{ "/b/a%2Bb", "/b/a%2Bb" },
	{ "/b/a%2bb", "/b/a%2Bb" },
	{ "/b/a~b", "/b/a~b" },
	{ "/b/a%7Eb", "/b/a~b" },
	{ "/b/(x)", "/b/%28x%29" },
	{ "/b/%28x%29", "/b/%28x%29" },
	{ "/b/wow!", "/b/wow%21" },
	{ "/b/*.html", "/b/%2A.html" },
	{ "/b/it's", "/b/it%27s" },
	{ "/b/a&b=c", "/b/a%26b%3Dc" },
	{ "/b/100%25", "/b/100%25" },
	{ "/b/100%2525", "/b/100%2525" },
	{ "/b/caf%C3%A9", "/b/caf%C3%A9" },
	{ "/b/caf%c3%a9", "/b/caf%C3%A9" },
	{ "/b/caf\xc3\xa9", "/b/caf%C3%A9" },
	{ "/b//k", "/b//k" },
	{ "/b/./k", "/b/./k" },
	{ "/b/../k", "/b/../k" },
	{ "/b/a%2Fb", "/b/a/b" },
	{ "/b/-._~09AZaz", "/b/-._~09AZaz" },
	{ "/b/k:@$,;", "/b/k%3A%40%24%2C%3B" },
	{ "/b/a?b#c", "/b/a%3Fb%23c" },
	{ "/b/\x7f\xff", "/b/%7F%FF" },
};

static const char *const uri_bad[] = {
	"/b/%G1", "/b/%1G", "/b/%2", "/b/%", "/b/%%41", "%zz", "/b/a%2",
};

static void
test_canonical_uri(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(uri_good) / sizeof(uri_good[0]); i++) {
		buf_reset(&b);
		assert_int_equal(sigv4_canonical_uri(&b, uri_good[i].raw,
		    strlen(uri_good[i].raw)), 0);
		assert_string_equal(buf_str(&b), uri_good[i].want);
	}
	/* A NUL byte inside the key is encoded, not a terminator. */
	buf_reset(&b);
	assert_int_equal(sigv4_canonical_uri(&b, "/b/a%00b", 8), 0);
	assert_string_equal(buf_str(&b), "/b/a%00b");

	/* A bad escape fails and leaves the buffer as it was. */
	for (i = 0; i < sizeof(uri_bad) / sizeof(uri_bad[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "keep");
		assert_int_equal(sigv4_canonical_uri(&b, uri_bad[i],
		    strlen(uri_bad[i])), -1);
		assert_string_equal(buf_str(&b), "keep");
	}
	buf_fini(&b);
}

static const struct {
	const char	*raw;
	const char	*omit;
	const char	*want;
} query_good[] = {
	{ "", NULL, "" },
	{ "b=2&a=1", NULL, "a=1&b=2" },
	{ "a=2&a=1", NULL, "a=1&a=2" },
	{ "acl", NULL, "acl=" },
	{ "a=", NULL, "a=" },
	{ "uploads&prefix=x", NULL, "prefix=x&uploads=" },
	{ "a=b+c", NULL, "a=b%2Bc" },
	{ "a=b%2Bc", NULL, "a=b%2Bc" },
	{ "a=b%20c", NULL, "a=b%20c" },
	{ "a=b c", NULL, "a=b%20c" },
	{ "a=%7e", NULL, "a=~" },
	{ "a=x/y", NULL, "a=x%2Fy" },
	{ "a=b=c", NULL, "a=b%3Dc" },
	{ "a-b=1&a=2", NULL, "a=2&a-b=1" },
	{ "aB=3&a=2&A=4", NULL, "A=4&a=2&aB=3" },
	{ "a=1&&b=2&", NULL, "a=1&b=2" },
	{ "Z=1&%E1%88%B4=bar", NULL, "%E1%88%B4=bar&Z=1" },
	{ "prefix=a%2Fb&delimiter=%2F", NULL, "delimiter=%2F&prefix=a%2Fb" },
	{ "list-type=2&prefix=&encoding-type=url", NULL,
	    "encoding-type=url&list-type=2&prefix=" },
	{ "X-Amz-Signature=abc&b=1", "X-Amz-Signature", "b=1" },
	{ "b=1&X-Amz-Signature=abc", "X-Amz-Signature", "b=1" },
	{ "x-amz-signature=abc&b=1", "X-Amz-Signature",
	    "b=1&x-amz-signature=abc" },
	{ "X-Amz-%53ignature=abc&b=1", "X-Amz-Signature", "b=1" },
	{ "X-Amz-Signature", "X-Amz-Signature", "" },
	{ "X-Amz-Signature=1&X-Amz-Signature=2", "X-Amz-Signature", "" },
	{ "X-Amz-Signatures=1", "X-Amz-Signature", "X-Amz-Signatures=1" },
};

static const char *const query_bad[] = {
	"a=%G1", "%2=b", "a=1&b=%", "a=%4",
};

static void
test_canonical_query(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(query_good) / sizeof(query_good[0]); i++) {
		buf_reset(&b);
		assert_int_equal(sigv4_canonical_query(&b, query_good[i].raw,
		    query_good[i].omit), 0);
		assert_string_equal(buf_str(&b), query_good[i].want);
	}
	for (i = 0; i < sizeof(query_bad) / sizeof(query_bad[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "keep");
		assert_int_equal(sigv4_canonical_query(&b, query_bad[i], NULL),
		    -1);
		assert_string_equal(buf_str(&b), "keep");
	}
	buf_fini(&b);
}

/* --- canonical request -------------------------------------------------- */

static const struct sigv4_header creq_headers[] = {
	{ "Host", "example.com" },
	{ "X-Amz-Date", "20150830T123600Z" },
	{ "X-Multi", "  a \t b  " },
	{ "x-multi", "c\r\n d" },
	{ "X-Empty", "" },
	{ "X-Fold", "one\n  two\n\tthree" },
};

static void
test_canonical_request(void **state)
{
	static const char *const bad[] = {
		"host;x-missing", "Host;x-amz-date", "x-amz-date;host",
		"host;host", "", "host;", ";host", "host;;x-amz-date",
	};
	struct sigv4_request	 r;
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b);
	memset(&r, 0, sizeof(r));
	r.method = "PUT";
	r.canonical_uri = "/b/k";
	r.canonical_query = "a=1";
	r.headers = creq_headers;
	r.n_headers = sizeof(creq_headers) / sizeof(creq_headers[0]);
	r.signed_headers = "host;x-amz-date;x-empty;x-fold;x-multi";
	r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	assert_int_equal(sigv4_canonical_request(&b, &r), 0);
	assert_string_equal(buf_str(&b),
	    "PUT\n/b/k\na=1\n"
	    "host:example.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "x-empty:\n"
	    "x-fold:one two three\n"
	    "x-multi:a b,c d\n"
	    "\n"
	    "host;x-amz-date;x-empty;x-fold;x-multi\n"
	    "UNSIGNED-PAYLOAD");

	/* Headers not listed are not signed. */
	buf_reset(&b);
	r.signed_headers = "host";
	assert_int_equal(sigv4_canonical_request(&b, &r), 0);
	assert_string_equal(buf_str(&b),
	    "PUT\n/b/k\na=1\nhost:example.com\n\nhost\nUNSIGNED-PAYLOAD");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "keep");
		r.signed_headers = bad[i];
		assert_int_equal(sigv4_canonical_request(&b, &r), -2);
		assert_string_equal(buf_str(&b), "keep");
	}
	buf_fini(&b);
}

/* --- keys, hashes, comparisons ------------------------------------------ */

static void
test_signing_key(void **state)
{
	static const size_t lens[] = { 0, 1, 40, 59, 60, 61, 64, 200, 5000 };
	unsigned char	 key[SIGV4_KEY_LEN], k[SIGV4_KEY_LEN];
	unsigned char	 ref[SIGV4_KEY_LEN];
	char		 hex[2 * SIGV4_KEY_LEN + 1];
	char		*secret, *aws4;
	unsigned int	 n;
	size_t		 i;

	(void)state;
	/* AWS General Reference, "Examples of how to derive a signing key". */
	sigv4_signing_key(key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "20120215", "us-east-1", "iam");
	sigv4_hex(hex, key, sizeof(key));
	assert_string_equal(hex,
	    "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");

	/* Secrets of every length against plain HMAC on "AWS4"+secret
	 * (long keys take the pre-hash path). */
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		secret = malloc(lens[i] + 1);
		aws4 = malloc(lens[i] + 5);
		assert_non_null(secret);
		assert_non_null(aws4);
		memset(secret, 'k', lens[i]);
		secret[lens[i]] = '\0';
		memcpy(aws4, "AWS4", 4);
		memcpy(aws4 + 4, secret, lens[i] + 1);
		assert_non_null(HMAC(EVP_sha256(), aws4, (int)(lens[i] + 4),
		    (const unsigned char *)"20150830", 8, k, &n));
		assert_non_null(HMAC(EVP_sha256(), k, 32,
		    (const unsigned char *)"eu-west-1", 9, ref, &n));
		assert_non_null(HMAC(EVP_sha256(), ref, 32,
		    (const unsigned char *)"s3", 2, k, &n));
		assert_non_null(HMAC(EVP_sha256(), k, 32,
		    (const unsigned char *)"aws4_request", 12, ref, &n));
		sigv4_signing_key(key, secret, "20150830", "eu-west-1", "s3");
		assert_memory_equal(key, ref, sizeof(ref));
		free(secret);
		free(aws4);
	}
}

static void
test_hashes(void **state)
{
	static const unsigned char d[] = { 0x00, 0x0f, 0xa5, 0xff };
	char	 out[SIGV4_HEX_LEN + 1];
	char	 hex[9];
	struct buf b;

	(void)state;
	sigv4_sha256_hex(out, "", 0);
	assert_string_equal(out, SIGV4_EMPTY_SHA256);
	sigv4_sha256_hex(out, NULL, 0);
	assert_string_equal(out, SIGV4_EMPTY_SHA256);
	sigv4_sha256_hex(out, "abc", 3);
	assert_string_equal(out,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sigv4_hex(hex, d, sizeof(d));
	assert_string_equal(hex, "000fa5ff");

	buf_init(&b);
	assert_int_equal(sigv4_scope(&b, "20150830", "us-east-1", "service"),
	    0);
	assert_string_equal(buf_str(&b),
	    "20150830/us-east-1/service/aws4_request");
	buf_reset(&b);
	assert_int_equal(sigv4_string_to_sign(&b, "20150830T123600Z",
	    "20150830/us-east-1/service/aws4_request", "", 0), 0);
	assert_string_equal(buf_str(&b), "AWS4-HMAC-SHA256\n20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n" SIGV4_EMPTY_SHA256);
	buf_fini(&b);
}

static void
test_sign_hmac(void **state)
{
	unsigned char	 key[SIGV4_KEY_LEN], mac[SIGV4_KEY_LEN];
	char		 out[SIGV4_HEX_LEN + 1], want[SIGV4_HEX_LEN + 1];
	unsigned int	 n;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key),
	    (const unsigned char *)"message", 7, mac, &n));
	sigv4_hex(want, mac, sizeof(mac));
	sigv4_sign(out, key, "message", 7);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), SIGV4_HEX_LEN);
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(sigv4_equal("abc", "abc"));
	assert_true(sigv4_equal("", ""));
	assert_true(sigv4_equal(SIGV4_EMPTY_SHA256, SIGV4_EMPTY_SHA256));
	assert_false(sigv4_equal("abc", "abd"));
	assert_false(sigv4_equal("abc", "Abc"));
	assert_false(sigv4_equal("abc", "abcd"));
	assert_false(sigv4_equal("abcd", "abc"));
	assert_false(sigv4_equal("", "a"));
	assert_false(sigv4_equal(NULL, "a"));
	assert_false(sigv4_equal("a", NULL));
	assert_false(sigv4_equal(NULL, NULL));
}

static void
test_is_hex_hash(void **state)
{
	(void)state;
	assert_true(sigv4_is_hex_hash(SIGV4_EMPTY_SHA256));
	assert_true(sigv4_is_hex_hash("E3B0C44298FC1C149AFBF4C8996FB924"
	    "27AE41E4649B934CA495991B7852B855"));
	assert_false(sigv4_is_hex_hash("e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b85"));
	assert_false(sigv4_is_hex_hash(SIGV4_EMPTY_SHA256 "5"));
	assert_false(sigv4_is_hex_hash("g3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"));
	assert_false(sigv4_is_hex_hash("e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b85 "));
	assert_false(sigv4_is_hex_hash(SIGV4_UNSIGNED_PAYLOAD));
	assert_false(sigv4_is_hex_hash("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
	assert_false(sigv4_is_hex_hash(""));
	assert_false(sigv4_is_hex_hash(NULL));
}

/* --- credential and Authorization parsing ------------------------------ */

#define GOOD_CRED	"AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define GOOD_SH		"host;x-amz-date"
#define GOOD_SIG \
	"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

static void
test_parse_credential(void **state)
{
	static const char *const bad[] = {
		"", "AKID/20150830/us-east-1/s3",
		"AKID/20150830/us-east-1/s3/aws4_request/x",
		"AKID/20150830/us-east-1/s3/aws4_request/",
		"/20150830/us-east-1/s3/aws4_request",
		"AKID//us-east-1/s3/aws4_request",
		"AKID/20150830//s3/aws4_request",
		"AKID/20150830/us-east-1//aws4_request",
		"AKID/20150830/us-east-1/s3/",
		"AKID/2015083/us-east-1/s3/aws4_request",
		"AKID/201508300/us-east-1/s3/aws4_request",
		"AKID/2015083a/us-east-1/s3/aws4_request",
		"AKID/20151301/us-east-1/s3/aws4_request",
		"AKID/20150832/us-east-1/s3/aws4_request",
		"AKID/20150229/us-east-1/s3/aws4_request",
		"AKID/20150830/us-east-1/s3/aws4_requests",
		"AKID/20150830/us-east-1/s3/AWS4_REQUEST",
		"AK ID/20150830/us-east-1/s3/aws4_request",
		"AKID/20150830/us-east-1/s3/aws4_request ",
		"AKID/20150830/us\teast/s3/aws4_request",
	};
	struct sigv4_credential	 c;
	char			 s[512], fill[200];
	size_t			 i;

	(void)state;
	assert_int_equal(sigv4_parse_credential(GOOD_CRED, &c), 0);
	assert_string_equal(c.access_key_id, "AKIDEXAMPLE");
	assert_string_equal(c.date, "20150830");
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.service, "service");
	assert_int_equal(sigv4_parse_credential(
	    "A/20160229/r/s3/aws4_request", &c), 0);
	assert_string_equal(c.date, "20160229");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sigv4_parse_credential(bad[i], &c), -1);
		assert_string_equal(c.access_key_id, "");
	}
	assert_int_equal(sigv4_parse_credential(NULL, &c), -1);

	/* Part lengths: the largest that fit, and one more. */
	memset(fill, 'x', sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = '\0';
	snprintf(s, sizeof(s), "%.*s/20150830/r/s/aws4_request", 128, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), 0);
	assert_int_equal(strlen(c.access_key_id), 128);
	snprintf(s, sizeof(s), "%.*s/20150830/r/s/aws4_request", 129, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), -1);
	snprintf(s, sizeof(s), "A/20150830/%.*s/s/aws4_request", 64, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), 0);
	assert_int_equal(strlen(c.region), 64);
	snprintf(s, sizeof(s), "A/20150830/%.*s/s/aws4_request", 65, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), -1);
	snprintf(s, sizeof(s), "A/20150830/r/%.*s/aws4_request", 32, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), 0);
	assert_int_equal(strlen(c.service), 32);
	snprintf(s, sizeof(s), "A/20150830/r/%.*s/aws4_request", 33, fill);
	assert_int_equal(sigv4_parse_credential(s, &c), -1);
}

static const char *const auth_good[] = {
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ",SignedHeaders=" GOOD_SH
	    ",Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Signature=" GOOD_SIG ", Credential=" GOOD_CRED
	    ", SignedHeaders=" GOOD_SH,
	"  AWS4-HMAC-SHA256   Credential=" GOOD_CRED " ,  SignedHeaders="
	    GOOD_SH ",\tSignature=" GOOD_SIG "  ",
};

static const char *const auth_bad[] = {
	"",
	"AWS4-HMAC-SHA256",
	"AWS4-HMAC-SHA256 ",
	"AWS4-HMAC-SHA1 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"aws4-hmac-sha256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256,Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	/* missing parts */
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH,
	"AWS4-HMAC-SHA256 SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", Signature=" GOOD_SIG,
	/* duplicate parts */
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", Credential=" GOOD_CRED
	    ", SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG ", Signature=" GOOD_SIG,
	/* empty and unknown parts, stray separators */
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=, Signature="
	    GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=, SignedHeaders=" GOOD_SH ", Signature="
	    GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG ",",
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ",, SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG ", Foo=bar",
	"AWS4-HMAC-SHA256 credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders " GOOD_SH
	    ", Signature=" GOOD_SIG,
	/* spaces where they do not belong */
	"AWS4-HMAC-SHA256 Credential = " GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20150830/us-east-1/service/"
	    "aws4_request, SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=host; "
	    "x-amz-date, Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED " SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG,
	/* bad credential */
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service,"
	    " SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20151330/us-east-1/service/"
	    "aws4_request, SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
	    "aws4_requests, SignedHeaders=" GOOD_SH ", Signature=" GOOD_SIG,
	/* bad signature */
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
	    "2260956d9b8aae1d763fbf3",
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=" GOOD_SIG "0",
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=5FA00FA31553B73EBF1942676E86291E8372FF2A"
	    "2260956D9B8AAE1D763FBF31",
	"AWS4-HMAC-SHA256 Credential=" GOOD_CRED ", SignedHeaders=" GOOD_SH
	    ", Signature=gfa00fa31553b73ebf1942676e86291e8372ff2a"
	    "2260956d9b8aae1d763fbf31",
};

static void
test_parse_authorization(void **state)
{
	struct sigv4_auth	 a;
	struct buf		 big;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(auth_good) / sizeof(auth_good[0]); i++) {
		memset(&a, 'x', sizeof(a));
		assert_int_equal(sigv4_parse_authorization(auth_good[i], &a),
		    0);
		assert_string_equal(a.cred.access_key_id, "AKIDEXAMPLE");
		assert_string_equal(a.cred.date, "20150830");
		assert_string_equal(a.cred.region, "us-east-1");
		assert_string_equal(a.cred.service, "service");
		assert_string_equal(a.signed_headers, GOOD_SH);
		assert_string_equal(a.signature, GOOD_SIG);
	}
	for (i = 0; i < sizeof(auth_bad) / sizeof(auth_bad[0]); i++) {
		if (sigv4_parse_authorization(auth_bad[i], &a) != -1)
			fail_msg("accepted: %s", auth_bad[i]);
		assert_string_equal(a.signature, "");
	}
	assert_int_equal(sigv4_parse_authorization(NULL, &a), -1);

	/* SignedHeaders longer than the struct holds. */
	buf_init(&big);
	buf_puts(&big, "AWS4-HMAC-SHA256 Credential=" GOOD_CRED
	    ", SignedHeaders=host");
	for (i = 0; i < 200; i++)
		buf_printf(&big, ";x-h%03zu", i);
	buf_puts(&big, ", Signature=" GOOD_SIG);
	assert_int_equal(sigv4_parse_authorization(buf_str(&big), &a), -1);
	buf_fini(&big);
}

/* --- dates --------------------------------------------------------------- */

static const struct {
	const char	*s;
	int64_t		 t;
} date_good[] = {
	{ "19700101T000000Z", 0 },
	{ "19691231T235959Z", -1 },
	{ "20150830T123600Z", 1440938160 },
	{ "20000229T120000Z", 951825600 },
	{ "20240229T235959Z", 1709251199 },
	{ "21000301T000000Z", 4107542400 },
	{ "19000301T000000Z", -2203891200 },
	{ "16000229T000000Z", -11670998400 },
	{ "20380119T031408Z", 2147483648 },
	{ "00000101T000000Z", -62167219200 },
	{ "99991231T235959Z", 253402300799 },
};

static const char *const date_bad[] = {
	"", "2015083T123600Z", "20150830T123600", "20150830T1236000Z",
	"20150830t123600Z", "20150830T123600z", "20150830 123600Z",
	"2015-08-30T12:36:00Z", "20150830T123600Z ", " 20150830T123600Z",
	"+0150830T123600Z", "2015083aT123600Z", "20150830T12360aZ",
	"20151301T000000Z", "20150001T000000Z", "20150100T000000Z",
	"20150132T000000Z", "20150431T000000Z", "19000229T000000Z",
	"20230229T000000Z", "21000229T000000Z", "20150830T240000Z",
	"20150830T236000Z", "20150830T235960Z", "20150830T-10000Z",
};

static void
test_amz_date(void **state)
{
	char		 out[17], ref[32];
	int64_t		 t, step, back;
	struct tm	*tm;
	time_t		 tt;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(date_good) / sizeof(date_good[0]); i++) {
		t = 12345;
		assert_int_equal(sigv4_parse_amz_date(date_good[i].s, &t), 0);
		assert_int_equal(t, date_good[i].t);
		sigv4_format_amz_date(out, date_good[i].t);
		assert_string_equal(out, date_good[i].s);
	}
	for (i = 0; i < sizeof(date_bad) / sizeof(date_bad[0]); i++) {
		t = 12345;
		if (sigv4_parse_amz_date(date_bad[i], &t) != -1)
			fail_msg("accepted: \"%s\"", date_bad[i]);
		assert_int_equal(t, 12345);
	}
	assert_int_equal(sigv4_parse_amz_date(NULL, &t), -1);

	/* Beyond four year digits the format clamps. */
	sigv4_format_amz_date(out, INT64_MIN);
	assert_string_equal(out, "00000101T000000Z");
	sigv4_format_amz_date(out, INT64_MAX);
	assert_string_equal(out, "99991231T235959Z");

	/* Round trip over the whole range, in odd steps. */
	step = 9876541;
	for (t = -62167219200; t <= 253402300799; t += step) {
		sigv4_format_amz_date(out, t);
		assert_int_equal(sigv4_parse_amz_date(out, &back), 0);
		assert_int_equal(back, t);
	}

	/* Against gmtime(), under a time zone that is not UTC. */
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	for (t = -2208988800; t <= 4102444800; t += 86399 * 13) {
		tt = (time_t)t;
		tm = gmtime(&tt);
		assert_non_null(tm);
		strftime(ref, sizeof(ref), "%Y%m%dT%H%M%SZ", tm);
		sigv4_format_amz_date(out, t);
		assert_string_equal(out, ref);
	}
	assert_int_equal(sigv4_parse_amz_date("20150830T123600Z", &t), 0);
	assert_int_equal(t, 1440938160);
	unsetenv("TZ");
	tzset();
}

/* --- the table ----------------------------------------------------------- */

/*
 * The AWS suite's cases that hold for S3.  The "-normalized" twins of the
 * "-unnormalized" cases are left out on purpose: S3 never normalises the
 * path (see sigv4.h).
 */
#define VECTOR(n) \
	{ .name = (n), .test_func = test_vector, \
	  .initial_state = (void *)(uintptr_t)(n) }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		VECTOR("get-header-key-duplicate"),
		VECTOR("get-header-value-multiline"),
		VECTOR("get-header-value-order"),
		VECTOR("get-header-value-trim"),
		VECTOR("get-relative-relative-unnormalized"),
		VECTOR("get-relative-unnormalized"),
		VECTOR("get-slash-dot-slash-unnormalized"),
		VECTOR("get-slash-pointless-dot-unnormalized"),
		VECTOR("get-slash-unnormalized"),
		VECTOR("get-slashes-unnormalized"),
		VECTOR("get-space-unnormalized"),
		VECTOR("get-unreserved"),
		VECTOR("get-utf8"),
		VECTOR("get-vanilla"),
		VECTOR("get-vanilla-empty-query-key"),
		VECTOR("get-vanilla-query"),
		VECTOR("get-vanilla-query-order-encoded"),
		VECTOR("get-vanilla-query-order-key-case"),
		VECTOR("get-vanilla-query-unreserved"),
		VECTOR("get-vanilla-utf8-query"),
		VECTOR("get-vanilla-with-session-token"),
		VECTOR("post-header-key-case"),
		VECTOR("post-header-key-sort"),
		VECTOR("post-header-value-case"),
		VECTOR("post-sts-header-after"),
		VECTOR("post-sts-header-before"),
		VECTOR("post-vanilla"),
		VECTOR("post-vanilla-empty-query-value"),
		VECTOR("post-vanilla-query"),
		VECTOR("post-x-www-form-urlencoded"),
		VECTOR("post-x-www-form-urlencoded-parameters"),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_canonical_uri),
		cmocka_unit_test(test_canonical_query),
		cmocka_unit_test(test_canonical_request),
		cmocka_unit_test(test_signing_key),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_sign_hmac),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_is_hex_hash),
		cmocka_unit_test(test_parse_credential),
		cmocka_unit_test(test_parse_authorization),
		cmocka_unit_test(test_amz_date),
	};

	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
