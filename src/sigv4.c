/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigv4: AWS Signature Version 4, pure (see sigv4.h).
 *
 * No I/O, no globals, no clock.  Text goes into caller-owned struct bufs;
 * a function that fails leaves the caller's buffer as it found it.  The
 * only secret material made here (the "AWS4"+secret key and the
 * intermediate HMAC keys) lives on the stack and is wiped before return.
 * Date arithmetic is date.c's (days from civil), so nothing depends on TZ.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ascii.h"
#include "date.h"
#include "hex.h"
#include "sigv4.h"
#include "uri.h"

/*
 * SHA-256, fetched once.  EVP_sha256() is fetched again, under a lock, on
 * every use in OpenSSL 3: with a signature per request on every loop
 * thread that is a cost and a point of contention.
 */
static pthread_once_t	 md_once = PTHREAD_ONCE_INIT;
static EVP_MD		*md_fetched;

static void
md_fetch(void)
{
	md_fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

const EVP_MD *
sigv4_md(void)
{
	pthread_once(&md_once, md_fetch);
	return md_fetched != NULL ? md_fetched : EVP_sha256();
}

#define SHA256_BLOCK	64		/* HMAC-SHA256 block size */
#define SCOPE_TERM	"aws4_request"

/* One query parameter, encoded: offsets into one buffer, then pointers. */
struct qparam {
	size_t		 noff, nlen;
	size_t		 voff, vlen;
	const char	*name;
	const char	*value;
};

/* Whitespace inside header values, obsolete line folding (CRLF SP) too. */
static int
is_value_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Undo what a failed call appended, so errors leave the buffer as it was. */
static void
rewind_to(struct buf *b, size_t len)
{
	if (b->data != NULL && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/*
 * The end of every function here that appends to b: all or nothing.
 * What it appended since start stays when rc is 0 and b is whole (no
 * allocation failed on the way); otherwise b goes back to start.
 * Returns the result, 0 or -1.
 */
static int
settle(struct buf *b, size_t start, int rc)
{
	if (rc == 0 && !buf_ok(b))
		rc = -1;
	if (rc != 0)
		rewind_to(b, start);
	return rc;
}

/* Byte-wise comparison of two counted strings, shorter first on a tie. */
static int
cmp_counted(const char *a, size_t alen, const char *b, size_t blen)
{
	int	 c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return 0;
}

/* Transitional: see sigv4.h. */
int
sigv4_uri_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	return uri_encode(b, s, len, keep_slash);
}

int
sigv4_uri_decode(struct buf *b, const char *s, size_t len)
{
	return uri_decode(b, s, len);
}

/*
 * S3 signs the path as the object key is: decoded once and encoded once,
 * where other services encode twice, and never normalised (AWS SigV4 test
 * suite, normalize-path: "you do not normalize URI paths for requests to
 * Amazon S3"; a key may hold "//" or "/./").
 */
int
sigv4_canonical_uri(struct buf *b, const char *raw_path, size_t len)
{
	struct buf	 dec;
	size_t		 start;
	int		 rc = -1;

	buf_init(&dec);
	start = b->len;
	if (len == 0) {
		if (buf_putc(b, '/') == -1)
			goto out;
		rc = 0;
		goto out;
	}
	if (uri_decode(&dec, raw_path, len) == -1)
		goto out;
	if (uri_encode(b, buf_str(&dec), dec.len, 1) == -1)
		goto out;
	rc = 0;
out:
	rc = settle(b, start, rc);
	buf_fini(&dec);
	return rc;
}

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam	*x = a, *y = b;
	int			 c;

	c = cmp_counted(x->name, x->nlen, y->name, y->nlen);
	if (c != 0)
		return c;
	return cmp_counted(x->value, x->vlen, y->value, y->vlen);
}

/*
 * Decode and re-encode one "name[=value]" segment into enc, as q.
 * Returns 1 when added, 0 when it is the omitted parameter, -1 on a
 * malformed escape or when out of memory.
 */
static int
add_param(struct buf *enc, struct buf *tmp, struct qparam *q,
    const char *seg, size_t seglen, const char *omit)
{
	const char	*eq;
	size_t		 nlen;

	eq = memchr(seg, '=', seglen);
	nlen = eq != NULL ? (size_t)(eq - seg) : seglen;

	buf_reset(tmp);
	if (uri_decode(tmp, seg, nlen) == -1)
		return -1;
	if (omit != NULL && tmp->len == strlen(omit) &&
	    memcmp(buf_str(tmp), omit, tmp->len) == 0)
		return 0;
	q->noff = enc->len;
	if (uri_encode(enc, buf_str(tmp), tmp->len, 0) == -1)
		return -1;
	q->nlen = enc->len - q->noff;

	/* "name" without '=' is "name=". */
	buf_reset(tmp);
	if (eq != NULL &&
	    uri_decode(tmp, eq + 1, seglen - nlen - 1) == -1)
		return -1;
	q->voff = enc->len;
	if (uri_encode(enc, buf_str(tmp), tmp->len, 0) == -1)
		return -1;
	q->vlen = enc->len - q->voff;
	return 1;
}

/*
 * Empty segments ("a=1&&b=2", a trailing '&') carry no parameter and are
 * skipped.  Only the first '=' splits name from value.  Sorting compares
 * the encoded name, then the encoded value, byte by byte ("a" < "a-b").
 */
int
sigv4_canonical_query(struct buf *b, const char *raw_query, const char *omit)
{
	struct buf	 enc, tmp;
	struct qparam	*q = NULL;
	const char	*seg, *amp;
	size_t		 n, k, i, seglen, start;
	int		 added, rc = -1;

	buf_init(&enc);
	buf_init(&tmp);
	start = b->len;

	n = 1;
	for (seg = raw_query; *seg != '\0'; seg++)
		if (*seg == '&')
			n++;
	q = calloc(n, sizeof(*q));
	if (q == NULL)
		goto out;

	k = 0;
	for (seg = raw_query;; seg = amp + 1) {
		amp = strchr(seg, '&');
		seglen = amp != NULL ? (size_t)(amp - seg) : strlen(seg);
		if (seglen > 0) {
			added = add_param(&enc, &tmp, &q[k], seg, seglen, omit);
			if (added == -1)
				goto out;
			k += (size_t)added;
		}
		if (amp == NULL)
			break;
	}

	/* enc no longer grows: offsets can become pointers. */
	for (i = 0; i < k; i++) {
		q[i].name = buf_str(&enc) + q[i].noff;
		q[i].value = buf_str(&enc) + q[i].voff;
	}
	qsort(q, k, sizeof(*q), qparam_cmp);
	for (i = 0; i < k; i++) {
		if (i > 0)
			buf_putc(b, '&');
		buf_append(b, q[i].name, q[i].nlen);
		buf_putc(b, '=');
		buf_append(b, q[i].value, q[i].vlen);
	}
	rc = 0;
out:
	rc = settle(b, start, rc);
	free(q);
	buf_fini(&enc);
	buf_fini(&tmp);
	return rc;
}

/* Value trimmed, every inner run of whitespace folded to one space. */
static void
append_folded(struct buf *b, const char *v)
{
	const char	*p, *word;
	int		 first = 1;

	p = v;
	for (;;) {
		while (*p != '\0' && is_value_space((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && !is_value_space((unsigned char)*p))
			p++;
		if (!first)
			buf_putc(b, ' ');
		buf_append(b, word, (size_t)(p - word));
		first = 0;
	}
}

/* Does header name h equal the lower-case name n[0..nlen), ignoring case? */
static int
header_name_is(const char *h, const char *n, size_t nlen)
{
	size_t	 i;

	for (i = 0; i < nlen; i++)
		if (h[i] == '\0' || ascii_lower((unsigned char)h[i]) !=
		    (unsigned char)n[i])
			return 0;
	return h[nlen] == '\0';
}

/*
 * An empty signed_headers, or an empty name in it (";;", a leading or
 * trailing ';'), is malformed too: -2.  Names must be strictly ascending,
 * so a repeated name is rejected rather than emitted twice.
 */
int
sigv4_canonical_request(struct buf *b, const struct sigv4_request *r)
{
	const char	*name, *prev = NULL;
	size_t		 nlen, prev_len = 0, i, start;
	int		 found, rc = -1;

	start = b->len;
	buf_puts(b, r->method);
	buf_putc(b, '\n');
	buf_puts(b, r->canonical_uri);
	buf_putc(b, '\n');
	buf_puts(b, r->canonical_query);
	buf_putc(b, '\n');

	name = r->signed_headers;
	for (;;) {
		nlen = strcspn(name, ";");
		if (nlen == 0) {
			rc = -2;
			goto out;
		}
		for (i = 0; i < nlen; i++) {
			if (name[i] >= 'A' && name[i] <= 'Z') {
				rc = -2;
				goto out;
			}
		}
		if (prev != NULL &&
		    cmp_counted(prev, prev_len, name, nlen) >= 0) {
			rc = -2;
			goto out;
		}

		buf_append(b, name, nlen);
		buf_putc(b, ':');
		found = 0;
		for (i = 0; i < r->n_headers; i++) {
			if (r->headers[i].name == NULL ||
			    !header_name_is(r->headers[i].name, name, nlen))
				continue;
			/* Repeated headers: values in arrival order. */
			if (found)
				buf_putc(b, ',');
			append_folded(b, r->headers[i].value != NULL ?
			    r->headers[i].value : "");
			found = 1;
		}
		if (!found) {
			rc = -2;
			goto out;
		}
		buf_putc(b, '\n');

		prev = name;
		prev_len = nlen;
		if (name[nlen] == '\0')
			break;
		name += nlen + 1;
	}

	buf_putc(b, '\n');
	buf_puts(b, r->signed_headers);
	buf_putc(b, '\n');
	buf_puts(b, r->payload_hash);
	rc = 0;
out:
	rc = settle(b, start, rc);
	return rc;
}

int
sigv4_scope(struct buf *b, const char *date8, const char *region,
    const char *service)
{
	size_t	 start;

	start = b->len;
	buf_puts(b, date8);
	buf_putc(b, '/');
	buf_puts(b, region);
	buf_putc(b, '/');
	buf_puts(b, service);
	buf_puts(b, "/" SCOPE_TERM);
	return settle(b, start, 0);
}

int
sigv4_string_to_sign(struct buf *b, const char *amz_date, const char *scope,
    const char *creq, size_t creq_len)
{
	char	 hash[SIGV4_HEX_LEN + 1];
	size_t	 start;

	start = b->len;
	sigv4_sha256_hex(hash, creq, creq_len);
	if (hash[0] == '\0')
		return -1;
	buf_puts(b, SIGV4_ALGORITHM "\n");
	buf_puts(b, amz_date);
	buf_putc(b, '\n');
	buf_puts(b, scope);
	buf_putc(b, '\n');
	buf_puts(b, hash);
	return settle(b, start, 0);
}

/* HMAC-SHA256 (RFC 2104) on the fetched digest; keys here are never
 * longer than one block. */
static int
hmac_sha256(unsigned char out[SIGV4_KEY_LEN], const void *key, size_t keylen,
    const void *msg, size_t len)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	 k[SHA256_BLOCK], ih[SIGV4_KEY_LEN];
	unsigned int	 n = 0;
	size_t		 i;
	int		 rc = -1;

	if (keylen > sizeof(k))
		return -1;
	if (msg == NULL)
		msg = "";
	memset(k, 0, sizeof(k));
	memcpy(k, key, keylen);
	for (i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL ||
	    EVP_DigestInit_ex2(ctx, sigv4_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, k, sizeof(k)) != 1 ||
	    EVP_DigestUpdate(ctx, msg, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, ih, &n) != 1 || n != sizeof(ih))
		goto out;
	for (i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36 ^ 0x5c;
	if (EVP_DigestInit_ex2(ctx, sigv4_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, k, sizeof(k)) != 1 ||
	    EVP_DigestUpdate(ctx, ih, sizeof(ih)) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != SIGV4_KEY_LEN)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ih, sizeof(ih));
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * RFC 2104 hashes a key longer than the block before use; doing it here for
 * a long "AWS4"+secret gives the same HMAC without copying the secret into
 * a heap buffer.
 */
static int
prehash_key(unsigned char out[SIGV4_KEY_LEN], const char *secret,
    size_t slen)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned int	 mdlen = 0;
	int		 rc = -1;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		goto out;
	if (EVP_DigestInit_ex2(ctx, sigv4_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, "AWS4", 4) != 1 ||
	    EVP_DigestUpdate(ctx, secret, slen) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &mdlen) != 1 ||
	    mdlen != SIGV4_KEY_LEN)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * The API has no error return: should OpenSSL fail (out of memory), the
 * key becomes random bytes, so no one can predict a signature made with
 * it and a verification against it fails instead of passing.
 */
void
sigv4_signing_key(unsigned char key[SIGV4_KEY_LEN], const char *secret,
    const char *date8, const char *region, const char *service)
{
	unsigned char	 k0[SHA256_BLOCK];
	unsigned char	 k1[SIGV4_KEY_LEN], k2[SIGV4_KEY_LEN];
	size_t		 slen, k0len;
	int		 ok = 0;

	slen = strlen(secret);
	if (slen <= sizeof(k0) - 4) {
		memcpy(k0, "AWS4", 4);
		memcpy(k0 + 4, secret, slen);
		k0len = 4 + slen;
	} else {
		if (prehash_key(k0, secret, slen) == -1)
			goto out;
		k0len = SIGV4_KEY_LEN;
	}
	if (hmac_sha256(k1, k0, k0len, date8, strlen(date8)) == -1)
		goto out;
	if (hmac_sha256(k2, k1, sizeof(k1), region, strlen(region)) == -1)
		goto out;
	if (hmac_sha256(k1, k2, sizeof(k2), service, strlen(service)) == -1)
		goto out;
	if (hmac_sha256(key, k1, sizeof(k1), SCOPE_TERM,
	    sizeof(SCOPE_TERM) - 1) == -1)
		goto out;
	ok = 1;
out:
	if (!ok && RAND_priv_bytes(key, SIGV4_KEY_LEN) != 1)
		memset(key, 0, SIGV4_KEY_LEN);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
}

/* On failure out is "", which matches no signature (sigv4_equal). */
void
sigv4_sign(char out[SIGV4_HEX_LEN + 1], const unsigned char key[SIGV4_KEY_LEN],
    const char *msg, size_t len)
{
	unsigned char	 mac[SIGV4_KEY_LEN];

	if (hmac_sha256(mac, key, SIGV4_KEY_LEN, msg, len) == -1) {
		out[0] = '\0';
		goto out;
	}
	hex_encode(out, mac, sizeof(mac));
out:
	OPENSSL_cleanse(mac, sizeof(mac));
}

/* On failure out is "". */
void
sigv4_sha256_hex(char out[SIGV4_HEX_LEN + 1], const void *data, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (data == NULL)
		data = "";
	if (EVP_Digest(data, len, md, &mdlen, sigv4_md(), NULL) != 1 ||
	    mdlen != SIGV4_HEX_LEN / 2) {
		out[0] = '\0';
		return;
	}
	hex_encode(out, md, mdlen);
}

void
sigv4_hex(char *out, const unsigned char *digest, size_t len)
{
	hex_encode(out, digest, len);
}

int
sigv4_is_hex_hash(const char *s)
{
	if (s == NULL)
		return 0;
	return hex_span(s, SIGV4_HEX_LEN) == SIGV4_HEX_LEN &&
	    s[SIGV4_HEX_LEN] == '\0';
}

int
sigv4_equal(const char *a, const char *b)
{
	size_t	 len;

	if (a == NULL || b == NULL)
		return 0;
	len = strlen(a);
	if (strlen(b) != len)
		return 0;
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* --- X-Amz-Date: yyyymmddThhmmssZ, UTC (the arithmetic is date.c's) - */

static int
valid_date8(const char *s)
{
	int	 y, m, d;

	y = date_digits(s, 4);
	m = date_digits(s + 4, 2);
	d = date_digits(s + 6, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= date_days_in_month(y, m);
}

int
sigv4_parse_amz_date(const char *s, int64_t *out)
{
	int	 y, mo, d, h, mi, sec;

	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	if (!valid_date8(s))
		return -1;
	y = date_digits(s, 4);
	mo = date_digits(s + 4, 2);
	d = date_digits(s + 6, 2);
	h = date_digits(s + 9, 2);
	mi = date_digits(s + 11, 2);
	sec = date_digits(s + 13, 2);
	/* No leap seconds: AWS dates never carry one. */
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return -1;
	*out = date_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	return 0;
}

static void
put_digits(char *out, int64_t v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Times outside 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z are clamped
 * to that range: the format has four year digits.
 */
void
sigv4_format_amz_date(char out[17], int64_t t)
{
	int64_t	 lo, hi, days, secs, y;
	int	 m, d;

	lo = date_days_from_civil(0, 1, 1) * 86400;
	hi = date_days_from_civil(9999, 12, 31) * 86400 + 86399;
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	date_civil_from_days(days, &y, &m, &d);
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, secs / 3600, 2);
	put_digits(out + 11, secs / 60 % 60, 2);
	put_digits(out + 13, secs % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

/* --- parsing the Authorization header and the credential scope ------- */

/* Every byte visible ASCII: no spaces, controls or 8-bit bytes. */
static int
all_visible(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static void
copy_part(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int
sigv4_parse_credential(const char *s, struct sigv4_credential *c)
{
	const char	*part[5], *p;
	size_t		 plen[5];
	int		 i;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		goto bad;
	p = s;
	for (i = 0; i < 5; i++) {
		part[i] = p;
		plen[i] = strcspn(p, "/");
		if (plen[i] == 0 || !all_visible(p, plen[i]))
			goto bad;
		p += plen[i];
		if (i < 4) {
			if (*p != '/')
				goto bad;
			p++;
		}
	}
	if (*p != '\0')
		goto bad;
	if (plen[0] >= sizeof(c->access_key_id) ||
	    plen[1] != 8 || !valid_date8(part[1]) ||
	    plen[2] >= sizeof(c->region) ||
	    plen[3] >= sizeof(c->service) ||
	    plen[4] != sizeof(SCOPE_TERM) - 1 ||
	    memcmp(part[4], SCOPE_TERM, plen[4]) != 0)
		goto bad;
	copy_part(c->access_key_id, part[0], plen[0]);
	copy_part(c->date, part[1], plen[1]);
	copy_part(c->region, part[2], plen[2]);
	copy_part(c->service, part[3], plen[3]);
	return 0;
bad:
	memset(c, 0, sizeof(*c));
	return -1;
}

static int
is_sp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_name(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(s, name, len) == 0;
}

/*
 * Component names are matched exactly; an unknown component, an empty
 * one ("a,,b", a trailing ','), an empty value or a value holding spaces
 * is malformed.  The signature must be 64 lower-case hex digits, as every
 * SigV4 signer sends it.
 */
int
sigv4_parse_authorization(const char *s, struct sigv4_auth *a)
{
	char		 cred[sizeof(a->cred.access_key_id) + 128];
	const char	*p, *val;
	size_t		 clen, end, nlen, vlen, alg_len, i;
	int		 have_cred = 0, have_sh = 0, have_sig = 0;

	memset(a, 0, sizeof(*a));
	if (s == NULL)
		goto bad;
	p = s;
	while (is_sp(*p))
		p++;
	alg_len = strlen(SIGV4_ALGORITHM);
	if (strncmp(p, SIGV4_ALGORITHM, alg_len) != 0 || !is_sp(p[alg_len]))
		goto bad;
	p += alg_len;

	for (;;) {
		while (is_sp(*p))
			p++;
		clen = strcspn(p, ",");
		end = clen;
		while (end > 0 && is_sp(p[end - 1]))
			end--;
		val = memchr(p, '=', end);
		if (val == NULL)
			goto bad;
		nlen = (size_t)(val - p);
		val++;
		vlen = end - nlen - 1;
		if (vlen == 0 || !all_visible(val, vlen))
			goto bad;

		if (is_name(p, nlen, "Credential")) {
			if (have_cred || vlen >= sizeof(cred))
				goto bad;
			copy_part(cred, val, vlen);
			if (sigv4_parse_credential(cred, &a->cred) == -1)
				goto bad;
			have_cred = 1;
		} else if (is_name(p, nlen, "SignedHeaders")) {
			if (have_sh || vlen >= sizeof(a->signed_headers))
				goto bad;
			copy_part(a->signed_headers, val, vlen);
			have_sh = 1;
		} else if (is_name(p, nlen, "Signature")) {
			if (have_sig || vlen != SIGV4_HEX_LEN)
				goto bad;
			for (i = 0; i < vlen; i++)
				if (!((val[i] >= '0' && val[i] <= '9') ||
				    (val[i] >= 'a' && val[i] <= 'f')))
					goto bad;
			copy_part(a->signature, val, vlen);
			have_sig = 1;
		} else
			goto bad;

		p += clen;
		if (*p == '\0')
			break;
		p++;
	}
	if (!have_cred || !have_sh || !have_sig)
		goto bad;
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return -1;
}

/* --- signing an outgoing request --------------------------------------- */

void
sigv4_key_cache_wipe(struct sigv4_key_cache *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

static void
cached_key(struct sigv4_key_cache *c, const struct sigv4_outgoing *o,
    const char *date8, unsigned char key[SIGV4_KEY_LEN])
{
	if (c == NULL) {
		sigv4_signing_key(key, o->secret_access_key, date8, o->region,
		    o->service);
		return;
	}
	if (!c->valid || strcmp(c->akid, o->access_key_id) != 0 ||
	    strcmp(c->date, date8) != 0 || strcmp(c->region, o->region) != 0 ||
	    strcmp(c->service, o->service) != 0) {
		sigv4_signing_key(c->key, o->secret_access_key, date8,
		    o->region, o->service);
		snprintf(c->akid, sizeof(c->akid), "%s", o->access_key_id);
		snprintf(c->date, sizeof(c->date), "%s", date8);
		snprintf(c->region, sizeof(c->region), "%s", o->region);
		snprintf(c->service, sizeof(c->service), "%s", o->service);
		c->valid = 1;
	}
	memcpy(key, c->key, SIGV4_KEY_LEN);
}

static int
cmp_name(const void *a, const void *b)
{
	const struct sigv4_header *ha = a, *hb = b;

	return strcmp(ha->name, hb->name);
}

int
sigv4_sign_request(const struct sigv4_outgoing *o,
    struct sigv4_key_cache *cache, char amz_date[17], struct buf *auth)
{
	struct sigv4_header	*sh = NULL;
	struct sigv4_request	 sr;
	struct buf		 lower, names, creq, scope, sts;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 date8[9], sig[SIGV4_HEX_LEN + 1];
	size_t			 i, j, n = 0, *off = NULL;
	int			 rc = -1;

	buf_init(&lower);
	buf_init(&names);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	/* One allocation each for what a request's signature needs. */
	buf_reserve(&lower, 512);
	buf_reserve(&names, 256);
	buf_reserve(&creq, 2048);
	buf_reserve(&sts, 256);
	buf_reserve(auth, 512);
	sigv4_format_amz_date(amz_date, o->now);
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';

	/* Lower-case names, in one buffer (offsets: it may move). */
	sh = calloc(o->n_headers + 4, sizeof(*sh));
	off = calloc(o->n_headers + 1, sizeof(*off));
	if (sh == NULL || off == NULL)
		goto out;
	for (i = 0; i < o->n_headers; i++) {
		const char *p = o->headers[i].name;
		size_t	 k, nl = strlen(p);
		char	*q;

		if (nl == 0)
			goto out;
		off[i] = lower.len;
		buf_append(&lower, p, nl + 1);
		if (!buf_ok(&lower))
			goto out;
		q = lower.data + off[i];
		for (k = 0; k < nl; k++)
			if (q[k] >= 'A' && q[k] <= 'Z')
				q[k] = (char)(q[k] + 32);
	}
	if (!buf_ok(&lower) && o->n_headers > 0)
		goto out;
	for (i = 0; i < o->n_headers; i++) {
		sh[n].name = lower.data + off[i];
		sh[n++].value = o->headers[i].value;
	}
	sh[n].name = "host";
	sh[n++].value = o->host;
	sh[n].name = "x-amz-content-sha256";
	sh[n++].value = o->payload_hash;
	sh[n].name = "x-amz-date";
	sh[n++].value = amz_date;
	if (o->session_token != NULL && o->session_token[0] != '\0') {
		sh[n].name = "x-amz-security-token";
		sh[n++].value = o->session_token;
	}
	/* Stable: duplicates keep their order, as the canonical request
	 * joins them in order. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp_name(&sh[j - 1], &sh[j]) > 0; j--) {
			struct sigv4_header t = sh[j];

			sh[j] = sh[j - 1];
			sh[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(sh[i].name, sh[i - 1].name) == 0)
			continue;
		if (names.len > 0)
			buf_putc(&names, ';');
		buf_puts(&names, sh[i].name);
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = o->method;
	sr.canonical_uri = o->canonical_uri;
	sr.canonical_query = o->canonical_query;
	sr.headers = sh;
	sr.n_headers = n;
	sr.signed_headers = buf_str(&names);
	sr.payload_hash = o->payload_hash;
	if (!buf_ok(&names) || sigv4_canonical_request(&creq, &sr) != 0 ||
	    sigv4_scope(&scope, date8, o->region, o->service) != 0 ||
	    sigv4_string_to_sign(&sts, amz_date, buf_str(&scope),
	    buf_str(&creq), creq.len) != 0)
		goto out;
	cached_key(cache, o, date8, key);
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	OPENSSL_cleanse(key, sizeof(key));
	buf_puts(auth, SIGV4_ALGORITHM " Credential=");
	buf_puts(auth, o->access_key_id);
	buf_putc(auth, '/');
	buf_puts(auth, buf_str(&scope));
	buf_puts(auth, ", SignedHeaders=");
	buf_puts(auth, buf_str(&names));
	buf_puts(auth, ", Signature=");
	buf_puts(auth, sig);
	rc = buf_ok(auth) ? 0 : -1;
out:
	free(sh);
	free(off);
	buf_fini(&lower);
	buf_fini(&names);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	return rc;
}
