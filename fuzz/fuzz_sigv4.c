/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sigv4: libFuzzer target for the SigV4 parsers and canonical forms
 * (src/sigv4.c), each fed text a client controls.  The first input byte
 * picks the function, the rest is its input:
 *
 *   'A'  sigv4_parse_authorization(): an Authorization header value
 *   'C'  sigv4_parse_credential(): an X-Amz-Credential value
 *   'D'  sigv4_parse_amz_date() (and sigv4_format_amz_date() of the
 *        first 8 bytes as a time)
 *   'Q'  sigv4_canonical_query(): a raw query string, also with
 *        X-Amz-Signature omitted as for presigned URLs
 *   'U'  sigv4_canonical_uri(): a raw path
 *   'E'  uri_encode() / uri_decode() / uri_decode_form() of raw bytes
 *   'R'  sigv4_canonical_request(), string to sign, key and signature:
 *        lines method, signed headers, payload hash, then "name:value"
 *   any other: A, C, D, Q and U on the rest.
 *
 * Checked beyond "no crash": what parses prints back to the same text and
 * parses again to the same struct; a date formats back to itself and a
 * time survives formatting (clamped to years 0000-9999); the canonical
 * query and URI are made of unreserved characters and %XX only, are
 * canonical already (a second pass changes nothing) and never keep the
 * omitted parameter; decoding undoes encoding; a failed call leaves the
 * caller's buffer as it was.  Pure: no I/O, no clock.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sigv4.h"
#include "uri.h"

#define KEEP	"kept:"		/* what a buffer holds before each call */
#define MAX_HEADERS	32

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_sigv4: broken promise: %s\n", what);
		abort();
	}
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
is_upper_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Only unreserved characters, %XX (upper-case) and the characters in
 * also. */
static int
encoded_only(const char *s, size_t n, const char *also)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (is_unreserved((unsigned char)s[i]) ||
		    (s[i] != '\0' && strchr(also, s[i]) != NULL))
			continue;
		if (s[i] != '%' || i + 2 >= n ||
		    !is_upper_hex((unsigned char)s[i + 1]) ||
		    !is_upper_hex((unsigned char)s[i + 2]))
			return 0;
		i += 2;
	}
	return 1;
}

static void
prefill(struct buf *b)
{
	buf_init(b);
	must(buf_puts(b, KEEP) == 0, "buf_puts");
}

static void
kept(const struct buf *b, const char *what)
{
	must(b->len == strlen(KEEP) && strcmp(buf_str(b), KEEP) == 0, what);
}

static void
authorization(const char *s)
{
	struct sigv4_auth	 a, b;
	static const struct sigv4_auth zero;
	char			 text[2048];
	int			 n;

	if (sigv4_parse_authorization(s, &a) == -1) {
		must(memcmp(&a, &zero, sizeof(a)) == 0,
		    "a failed parse leaves the struct empty");
		return;
	}
	must(strlen(a.signature) == SIGV4_HEX_LEN &&
	    is_lower_hex(a.signature, SIGV4_HEX_LEN), "a lower-hex signature");
	must(a.signed_headers[0] != '\0', "signed headers are there");
	must(a.cred.access_key_id[0] != '\0' && a.cred.region[0] != '\0' &&
	    a.cred.service[0] != '\0' && strlen(a.cred.date) == 8,
	    "every credential part is there");
	n = snprintf(text, sizeof(text), "AWS4-HMAC-SHA256 Credential=%s/%s/"
	    "%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
	    a.cred.access_key_id, a.cred.date, a.cred.region,
	    a.cred.service, a.signed_headers, a.signature);
	must(n > 0 && (size_t)n < sizeof(text), "fits");
	must(sigv4_parse_authorization(text, &b) == 0 &&
	    memcmp(&a, &b, sizeof(a)) == 0,
	    "the header printed back parses to the same");
}

static void
credential(const char *s)
{
	struct sigv4_credential	 c;
	char			 text[512];

	if (sigv4_parse_credential(s, &c) == -1)
		return;
	snprintf(text, sizeof(text), "%s/%s/%s/%s/aws4_request",
	    c.access_key_id, c.date, c.region, c.service);
	must(strcmp(text, s) == 0, "the credential prints back as sent");
}

static void
date(const char *s, const uint8_t *raw, size_t n)
{
	const int64_t	 lo = -62167219200;	/* 0000-01-01T00:00:00Z */
	const int64_t	 hi = 253402300799;	/* 9999-12-31T23:59:59Z */
	char		 out[17];
	int64_t		 t, back;
	uint64_t	 u = 0;
	size_t		 i;

	if (sigv4_parse_amz_date(s, &t) == 0) {
		sigv4_format_amz_date(out, t);
		must(strcmp(out, s) == 0, "a date formats back to itself");
	}
	if (n >= 8) {
		for (i = 0; i < 8; i++)
			u |= (uint64_t)raw[i] << (8 * i);
		memcpy(&t, &u, sizeof(t));
		sigv4_format_amz_date(out, t);
		must(strlen(out) == 16, "a formatted date is 16 characters");
		must(sigv4_parse_amz_date(out, &back) == 0,
		    "a formatted date parses");
		must(back == (t < lo ? lo : t > hi ? hi : t),
		    "a time survives formatting, clamped");
	}
}

static void
query(const char *s, const char *omit)
{
	struct buf	 b, again;
	const char	*out, *p, *amp;
	size_t		 n;

	prefill(&b);
	if (sigv4_canonical_query(&b, s, omit) == -1) {
		kept(&b, "a failed canonical query leaves the buffer");
		buf_fini(&b);
		return;
	}
	must(strncmp(buf_str(&b), KEEP, strlen(KEEP)) == 0, "appends");
	out = buf_str(&b) + strlen(KEEP);
	n = b.len - strlen(KEEP);
	must(encoded_only(out, n, "=&"), "canonical query characters");
	for (p = out; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		must(memchr(p, '=', (size_t)(amp - p)) != NULL,
		    "every parameter has '='");
		if (omit != NULL)
			must(!((size_t)(amp - p) > strlen(omit) &&
			    strncmp(p, omit, strlen(omit)) == 0 &&
			    p[strlen(omit)] == '='),
			    "the omitted parameter is gone");
	}
	prefill(&again);
	must(sigv4_canonical_query(&again, out, omit) == 0 &&
	    strcmp(buf_str(&again) + strlen(KEEP), out) == 0,
	    "a canonical query is canonical");
	buf_fini(&again);
	buf_fini(&b);
}

static void
uri(const char *s, size_t len)
{
	struct buf	 b, again;
	const char	*out;
	size_t		 n;

	prefill(&b);
	if (sigv4_canonical_uri(&b, s, len) == -1) {
		kept(&b, "a failed canonical URI leaves the buffer");
		buf_fini(&b);
		return;
	}
	out = buf_str(&b) + strlen(KEEP);
	n = b.len - strlen(KEEP);
	must(n > 0, "a canonical URI is never empty");
	must(encoded_only(out, n, "/"), "canonical URI characters");
	prefill(&again);
	must(sigv4_canonical_uri(&again, out, n) == 0 &&
	    strcmp(buf_str(&again) + strlen(KEEP), out) == 0,
	    "a canonical URI is canonical");
	buf_fini(&again);
	buf_fini(&b);
}

/* Form decoding is decoding with each '+' made a space first. */
static void
form(const uint8_t *raw, size_t n)
{
	struct buf	 plus, want, got;
	size_t		 i;

	buf_init(&plus);
	buf_init(&want);
	buf_init(&got);
	buf_append(&plus, raw, n);
	must(buf_ok(&plus), "memory");
	for (i = 0; i < plus.len; i++)
		if (plus.data[i] == '+')
			plus.data[i] = ' ';
	must(uri_decode(&want, buf_str(&plus), plus.len) == 0 &&
	    uri_decode_form(&got, (const char *)raw, n) == 0 &&
	    got.len == want.len &&
	    (got.len == 0 || memcmp(got.data, want.data, got.len) == 0),
	    "form decoding is '+' as a space, then decoding");
	buf_fini(&plus);
	buf_fini(&want);
	buf_fini(&got);
}

static void
coding(const uint8_t *raw, size_t n)
{
	struct buf	 enc, dec, dec2;
	int		 slash;

	for (slash = 0; slash <= 1; slash++) {
		buf_init(&enc);
		buf_init(&dec);
		must(uri_encode(&enc, (const char *)raw, n, slash) == 0,
		    "encode");
		must(encoded_only(buf_str(&enc), enc.len, slash ? "/" : ""),
		    "encoded characters");
		must(uri_decode(&dec, buf_str(&enc), enc.len) == 0 &&
		    dec.len == n && (n == 0 || memcmp(dec.data, raw, n) == 0),
		    "decoding undoes encoding");
		buf_fini(&enc);
		buf_fini(&dec);
	}
	prefill(&dec);
	if (uri_decode(&dec, (const char *)raw, n) == -1) {
		kept(&dec, "a failed decode leaves the buffer");
		buf_fini(&dec);
		return;
	}
	form(raw, n);
	buf_init(&enc);
	buf_init(&dec2);
	must(uri_encode(&enc, buf_str(&dec) + strlen(KEEP),
	    dec.len - strlen(KEEP), 0) == 0 &&
	    uri_decode(&dec2, buf_str(&enc), enc.len) == 0 &&
	    dec2.len == dec.len - strlen(KEEP) && (dec2.len == 0 ||
	    memcmp(dec2.data, dec.data + strlen(KEEP), dec2.len) == 0),
	    "decode, encode, decode is the first decode");
	buf_fini(&enc);
	buf_fini(&dec);
	buf_fini(&dec2);
}

static char *
cut(char **p)
{
	char	*line = *p, *lf;

	if (line == NULL)
		return NULL;
	lf = strchr(line, '\n');
	if (lf != NULL) {
		*lf = '\0';
		*p = lf + 1;
	} else
		*p = NULL;
	return line;
}

static void
request(char *text)
{
	struct sigv4_header	 h[MAX_HEADERS];
	struct sigv4_request	 r;
	struct buf		 creq, scope, sts;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 sig[SIGV4_HEX_LEN + 1];
	char			*p = text, *line, *colon;
	const char		*s;
	size_t			 n = 0, lines;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.method = cut(&p);
	r.signed_headers = cut(&p);
	r.payload_hash = cut(&p);
	if (r.signed_headers == NULL || r.payload_hash == NULL)
		return;
	while ((line = cut(&p)) != NULL && n < MAX_HEADERS) {
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		h[n].name = line;
		h[n].value = colon + 1;
		n++;
	}
	r.canonical_uri = "/";
	r.canonical_query = "";
	r.headers = h;
	r.n_headers = n;
	prefill(&creq);
	rc = sigv4_canonical_request(&creq, &r);
	must(rc == 0 || rc == -1 || rc == -2, "0, -1 or -2");
	if (rc != 0) {
		kept(&creq, "a failed canonical request leaves the buffer");
		buf_fini(&creq);
		return;
	}
	s = buf_str(&creq) + strlen(KEEP);
	must(strncmp(s, r.method, strlen(r.method)) == 0 &&
	    s[strlen(r.method)] == '\n', "starts with the method");
	must(creq.len - strlen(KEEP) >= strlen(r.payload_hash) &&
	    strcmp(buf_str(&creq) + creq.len - strlen(r.payload_hash),
	    r.payload_hash) == 0, "ends with the payload hash");
	for (lines = 0, p = (char *)s; *p != '\0'; p++)
		lines += *p == '\n';
	for (n = 1, line = (char *)r.signed_headers; *line != '\0'; line++)
		n += *line == ';';
	/* method, URI, query, one per signed header (values have no LF
	 * here), blank, signed headers */
	must(lines == 3 + n + 2, "one line per signed header");

	buf_init(&scope);
	buf_init(&sts);
	must(sigv4_scope(&scope, "20130524", "us-east-1", "s3") == 0, "scope");
	must(sigv4_string_to_sign(&sts, "20130524T000000Z", buf_str(&scope),
	    s, creq.len - strlen(KEEP)) == 0, "string to sign");
	sigv4_signing_key(key, r.payload_hash, "20130524", "us-east-1", "s3");
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	must(strlen(sig) == SIGV4_HEX_LEN && is_lower_hex(sig, SIGV4_HEX_LEN),
	    "a signature is 64 lower-hex digits");
	must(sigv4_is_hex_hash(sig) && sigv4_equal(sig, sig),
	    "a signature equals itself");
	buf_fini(&scope);
	buf_fini(&sts);
	buf_fini(&creq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*raw;
	char		*s;
	size_t		 n;

	if (size < 1)
		return 0;
	raw = data + 1;
	n = size - 1;
	s = malloc(n + 1);
	must(s != NULL, "malloc");
	memcpy(s, raw, n);
	s[n] = '\0';
	switch (data[0]) {
	case 'A':
		authorization(s);
		break;
	case 'C':
		credential(s);
		break;
	case 'D':
		date(s, raw, n);
		break;
	case 'Q':
		query(s, NULL);
		query(s, "X-Amz-Signature");
		break;
	case 'U':
		uri((const char *)raw, n);
		break;
	case 'E':
		coding(raw, n);
		break;
	case 'R':
		request(s);
		break;
	default:
		authorization(s);
		credential(s);
		date(s, raw, n);
		query(s, NULL);
		uri(s, strlen(s));
		break;
	}
	free(s);
	return 0;
}
