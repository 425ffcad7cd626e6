/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aws_chunked: the aws-chunked decoder and encoder.
 *
 * Bodies are built here by a small, separate encoder that signs chunks
 * with sigv4.h as an SDK would (Amazon S3 API Reference, "Transferring
 * Payload in Multiple Chunks" and its trailer variant), so every mode is
 * covered.  Its output is first checked against the AWS documentation's
 * example ($TOP_SRCDIR/tests/data/s3-streaming-vectors.json: seed, chunk
 * and trailer signatures, CRC32 and CRC32C of 66560 bytes of 'a'); the
 * trailer checksums are computed here independently (bit-at-a-time CRCs,
 * one-shot digests, our own base64).  Every body is also decoded in
 * pieces of random size (seeded, reproducible): the output and the verdict
 * must not depend on the cuts.  Malformed bodies must fail with their S3
 * error and emit exactly what was verified before the fault; in signed
 * modes no byte of a chunk may be emitted before its signature is checked.
 * The encoder is checked for its exact length and by round trips through
 * the decoder.  Throughput is printed as a TAP diagnostic, never asserted.
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

#include "aws_chunked.h"
#include "buf.h"
#include "crc.h"
#include "s3_err.h"
#include "sigv4.h"

#define VECTORS		"tests/data/s3-streaming-vectors.json"
#define M_SIGNED	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define M_TRAILER	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#define CK32		"x-amz-checksum-crc32"
#define CK32C		"x-amz-checksum-crc32c"
#define CK64		"x-amz-checksum-crc64nvme"
#define CKSHA1		"x-amz-checksum-sha1"
#define CKSHA256	"x-amz-checksum-sha256"
#define DOC_LEN		66560
#define SIG_LEN		SIGV4_HEX_LEN

/* What the tests take from the vectors file. */
struct ctx {
	unsigned char	 key[SIGV4_KEY_LEN];
	char		 date[32];
	char		 scope[64];
	char		 seed[SIG_LEN + 1];		/* no trailer */
	char		 seed_t[SIG_LEN + 1];		/* with trailer */
	char		 sigs[3][SIG_LEN + 1];
	char		 sigs_t[3][SIG_LEN + 1];
	char		 trailer_text[64];
	char		 tsig[SIG_LEN + 1];
	char		 crc32[16];
	char		 crc32c[16];
	char		 crc64_input[16];
	char		 crc64_hex[24];
};

/* A body made by the test encoder. */
struct tbody {
	struct buf	 b;
	size_t		 n;		/* chunks, the final one included */
	char		(*sig)[SIG_LEN + 1];	/* as computed (not as sent) */
	size_t		*data_end;	/* offset after chunk i's data, before
					 * its CRLF */
	uint64_t	*dec_end;	/* decoded bytes after chunk i */
	char		 value[80];	/* the trailer value sent */
	char		 ttext[128];	/* the signed trailer text */
	char		 tsig[SIG_LEN + 1];
};

struct spec {
	enum ac_mode	 mode;
	const unsigned char *data;
	size_t		 len;
	size_t		 chunk;		/* bytes per chunk, when no sizes */
	const size_t	*sizes;		/* explicit sizes; sum = len */
	size_t		 nsizes;
	const char	*tname;		/* trailer name; NULL: none */
	const char	*tvalue;	/* NULL: the right value */
	const char	*seed;		/* NULL: the context's seed */
	size_t		 bad_sig;	/* 1-based chunk sent with a bad sig */
	int		 bad_tsig;
};

/* Collects the decoder's output; checks when it comes. */
struct sink {
	struct buf	 out;
	size_t		 calls;
	size_t		 fail_at;	/* 1-based call that fails; 0 never */
	const struct tbody *tb;		/* signed: check emission order */
	size_t		 fed;		/* input given so far */
	int		 bad_order;
};

struct res {
	int		 rc;
	enum s3_err	 err;
	uint64_t	 decoded;
	char		 tname[64];
	char		 tvalue[80];
};

enum feed { FEED_WHOLE, FEED_BYTES, FEED_SMALL, FEED_RANDOM };

/* --- helpers ------------------------------------------------------- */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static unsigned char *
random_data(size_t n, uint64_t seed)
{
	unsigned char	*p;
	size_t		 i;

	p = malloc(n > 0 ? n : 1);
	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd(&seed) >> 56);
	return p;
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bit-at-a-time CRCs, reflected, init and xorout all ones. */
static uint32_t
ref_crc32(uint32_t poly, const unsigned char *p, size_t n)
{
	uint32_t	 crc = 0xffffffffU;
	size_t		 i;
	int		 k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
	}
	return ~crc;
}

static uint64_t
ref_crc64(const unsigned char *p, size_t n)
{
	uint64_t	 crc = ~0ULL;
	size_t		 i;
	int		 k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ?
			    (crc >> 1) ^ 0x9a6c9329ac4bc9b5ULL : crc >> 1;
	}
	return ~crc;
}

/* RFC 4648 base64 with padding, written out here. */
static void
b64(const unsigned char *in, size_t n, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		 i, o = 0;
	uint32_t	 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static void
be_bytes(unsigned char *out, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

/* The x-amz-checksum-* value of data, computed independently. */
static void
ref_value(enum ac_checksum ck, const unsigned char *p, size_t n, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	switch (ck) {
	case AC_CK_CRC32:
		be_bytes(md, ref_crc32(0xedb88320U, p, n), 4);
		mdlen = 4;
		break;
	case AC_CK_CRC32C:
		be_bytes(md, ref_crc32(0x82f63b78U, p, n), 4);
		mdlen = 4;
		break;
	case AC_CK_CRC64NVME:
		be_bytes(md, ref_crc64(p, n), 8);
		mdlen = 8;
		break;
	case AC_CK_SHA1:
	case AC_CK_SHA256:
		assert_int_equal(EVP_Digest(p, n, md, &mdlen,
		    ck == AC_CK_SHA1 ? EVP_sha1() : EVP_sha256(), NULL), 1);
		break;
	case AC_CK_NONE:
		fail_msg("no checksum");
		break;
	}
	b64(md, mdlen, out);
}

/* --- the vectors --------------------------------------------------- */

static char *
slurp(const char *rel)
{
	struct buf	 path, data;
	const char	*top;
	char		 chunk[4096];
	FILE		*f;
	size_t		 n;

	buf_init(&path);
	buf_init(&data);
	top = getenv("TOP_SRCDIR");
	if (top == NULL || *top == '\0')
		top = ".";
	buf_printf(&path, "%s/%s", top, rel);
	f = fopen(buf_str(&path), "rb");
	if (f == NULL)
		fail_msg("cannot open %s (set TOP_SRCDIR)", buf_str(&path));
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), f);
		if (n == 0)
			break;
		buf_append(&data, chunk, n);
	}
	fclose(f);
	buf_fini(&path);
	assert_true(buf_ok(&data) && data.len > 0);
	return buf_take(&data);
}

/*
 * The JSON string value of key, searched after "section": (from the start
 * when NULL); item idx of an array when idx >= 0.  Enough JSON for the
 * vectors file: the escapes \n, \" and \\.
 */
static void
json_str(const char *doc, const char *section, const char *key, int idx,
    char *out, size_t outsz)
{
	char		 pat[128];
	const char	*p = doc;
	size_t		 o = 0;
	int		 i;
	char		 c;

	if (section != NULL) {
		snprintf(pat, sizeof(pat), "\"%s\":", section);
		p = strstr(doc, pat);
		assert_non_null(p);
		p += strlen(pat);
	}
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(p, pat);
	if (p == NULL)
		fail_msg("no \"%s\" in the vectors", key);
	p += strlen(pat);
	for (i = 0; i < idx; i++) {
		p = strchr(p, '"');
		assert_non_null(p);
		p = strchr(p + 1, '"');
		assert_non_null(p);
		p++;
	}
	p = strchr(p, '"');
	assert_non_null(p);
	for (p++; *p != '"'; p++) {
		assert_true(*p != '\0');
		c = *p;
		if (c == '\\') {
			p++;
			c = *p == 'n' ? '\n' : *p;
		}
		assert_true(o + 1 < outsz);
		out[o++] = c;
	}
	out[o] = '\0';
}

static void
load_ctx(struct ctx *c)
{
	char	*doc;
	char	 secret[64], akid[32];
	int	 i;

	memset(c, 0, sizeof(*c));
	doc = slurp(VECTORS);
	json_str(doc, NULL, "access_key_id", -1, akid, sizeof(akid));
	json_str(doc, NULL, "secret_access_key", -1, secret, sizeof(secret));
	json_str(doc, NULL, "x_amz_date", -1, c->date, sizeof(c->date));
	json_str(doc, NULL, "scope", -1, c->scope, sizeof(c->scope));
	json_str(doc, M_SIGNED, "seed", -1, c->seed, sizeof(c->seed));
	json_str(doc, M_TRAILER, "seed", -1, c->seed_t, sizeof(c->seed_t));
	for (i = 0; i < 3; i++) {
		json_str(doc, M_SIGNED, "chunks", i, c->sigs[i],
		    sizeof(c->sigs[i]));
		json_str(doc, M_TRAILER, "chunks", i, c->sigs_t[i],
		    sizeof(c->sigs_t[i]));
	}
	json_str(doc, M_TRAILER, "trailer", -1, c->trailer_text,
	    sizeof(c->trailer_text));
	json_str(doc, M_TRAILER, "trailer_signature", -1, c->tsig,
	    sizeof(c->tsig));
	json_str(doc, "checksums_of_body", "crc32", -1, c->crc32,
	    sizeof(c->crc32));
	json_str(doc, "checksums_of_body", "crc32c", -1, c->crc32c,
	    sizeof(c->crc32c));
	json_str(doc, "crc64nvme_check", "input", -1, c->crc64_input,
	    sizeof(c->crc64_input));
	json_str(doc, "crc64nvme_check", "value_hex", -1, c->crc64_hex,
	    sizeof(c->crc64_hex));
	free(doc);
	assert_int_equal(strlen(c->date), 16);
	/* The scope's date, region and service make the key. */
	{
		char	 d8[9], region[32];
		const char *s1, *s2;

		memcpy(d8, c->scope, 8);
		d8[8] = '\0';
		s1 = strchr(c->scope, '/');
		assert_non_null(s1);
		s2 = strchr(s1 + 1, '/');
		assert_non_null(s2);
		assert_true((size_t)(s2 - s1 - 1) < sizeof(region));
		memcpy(region, s1 + 1, (size_t)(s2 - s1 - 1));
		region[s2 - s1 - 1] = '\0';
		sigv4_signing_key(c->key, secret, d8, region, "s3");
	}
	assert_true(sigv4_is_hex_hash(c->seed));
	assert_true(sigv4_is_hex_hash(c->seed_t));
	assert_true(sigv4_is_hex_hash(c->tsig));
}

static void
params(struct ac_params *p, const struct ctx *c, enum ac_mode mode,
    const char *trailer, uint64_t dlen, const char *seed)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->trailer = trailer;
	p->decoded_length = dlen;
	memcpy(p->signing_key, c->key, sizeof(p->signing_key));
	p->amz_date = c->date;
	p->scope = c->scope;
	p->seed_signature = seed != NULL ? seed :
	    (mode == AC_SIGNED ? c->seed : c->seed_t);
}

/* --- the test encoder ---------------------------------------------- */

static void
sign_chunk(const struct ctx *c, const char *prev, const void *data,
    size_t len, char *out)
{
	struct buf	 sts;
	char		 h[SIG_LEN + 1];

	buf_init(&sts);
	sigv4_sha256_hex(h, data, len);
	buf_printf(&sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s",
	    c->date, c->scope, prev, SIGV4_EMPTY_SHA256, h);
	assert_true(buf_ok(&sts));
	sigv4_sign(out, c->key, sts.data, sts.len);
	buf_fini(&sts);
}

static void
sign_trailer(const struct ctx *c, const char *prev, const char *text,
    char *out)
{
	struct buf	 sts;
	char		 h[SIG_LEN + 1];

	buf_init(&sts);
	sigv4_sha256_hex(h, text, strlen(text));
	buf_printf(&sts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s",
	    c->date, c->scope, prev, h);
	assert_true(buf_ok(&sts));
	sigv4_sign(out, c->key, sts.data, sts.len);
	buf_fini(&sts);
}

static void
spoil(char *sig)
{
	sig[10] = sig[10] == 'a' ? 'b' : 'a';
}

static void
build(struct tbody *tb, const struct spec *sp, const struct ctx *c)
{
	const char	*prev;
	char		 sent[SIG_LEN + 1];
	size_t		 nchunks, i, off = 0, sz;
	int		 is_signed = sp->mode != AC_UNSIGNED_TRAILER;

	memset(tb, 0, sizeof(*tb));
	buf_init(&tb->b);
	if (sp->sizes != NULL)
		nchunks = sp->nsizes;
	else
		nchunks = sp->len / sp->chunk + (sp->len % sp->chunk != 0);
	tb->n = nchunks + 1;
	tb->sig = calloc(tb->n, sizeof(*tb->sig));
	tb->data_end = calloc(tb->n, sizeof(*tb->data_end));
	tb->dec_end = calloc(tb->n, sizeof(*tb->dec_end));
	assert_true(tb->sig != NULL && tb->data_end != NULL &&
	    tb->dec_end != NULL);
	prev = sp->seed != NULL ? sp->seed :
	    (sp->mode == AC_SIGNED ? c->seed : c->seed_t);
	for (i = 0; i < tb->n; i++) {
		if (i == nchunks)
			sz = 0;
		else if (sp->sizes != NULL)
			sz = sp->sizes[i];
		else
			sz = sp->len - off < sp->chunk ? sp->len - off :
			    sp->chunk;
		assert_true(off + sz <= sp->len);
		buf_printf(&tb->b, "%zx", sz);
		if (is_signed) {
			sign_chunk(c, prev, sp->data + off, sz, tb->sig[i]);
			memcpy(sent, tb->sig[i], sizeof(sent));
			if (sp->bad_sig == i + 1)
				spoil(sent);
			buf_printf(&tb->b, ";chunk-signature=%s", sent);
			prev = tb->sig[i];
		}
		buf_puts(&tb->b, "\r\n");
		buf_append(&tb->b, sp->data + off, sz);
		off += sz;
		tb->data_end[i] = tb->b.len;
		tb->dec_end[i] = off;
		if (sz > 0)
			buf_puts(&tb->b, "\r\n");
	}
	assert_int_equal(off, sp->len);
	if (sp->tname != NULL) {
		if (sp->tvalue != NULL)
			snprintf(tb->value, sizeof(tb->value), "%s",
			    sp->tvalue);
		else
			ref_value(aws_chunked_checksum(sp->tname), sp->data,
			    sp->len, tb->value);
		snprintf(tb->ttext, sizeof(tb->ttext), "%s:%s\n", sp->tname,
		    tb->value);
		buf_printf(&tb->b, "%s:%s\r\n", sp->tname, tb->value);
		if (sp->mode == AC_SIGNED_TRAILER) {
			sign_trailer(c, prev, tb->ttext, tb->tsig);
			memcpy(sent, tb->tsig, sizeof(sent));
			if (sp->bad_tsig)
				spoil(sent);
			buf_printf(&tb->b, "x-amz-trailer-signature:%s\r\n",
			    sent);
		}
	}
	buf_puts(&tb->b, "\r\n");
	assert_true(buf_ok(&tb->b));
}

static void
tbody_fini(struct tbody *tb)
{
	buf_fini(&tb->b);
	free(tb->sig);
	free(tb->data_end);
	free(tb->dec_end);
}

/* A copy of b with the first "from" replaced by "to". */
static void
replaced(struct buf *out, const struct buf *b, const char *from,
    const char *to)
{
	const char	*p;

	p = memmem(b->data, b->len, from, strlen(from));
	if (p == NULL)
		fail_msg("\"%s\" not in the body", from);
	buf_init(out);
	buf_append(out, b->data, (size_t)(p - b->data));
	buf_puts(out, to);
	p += strlen(from);
	buf_append(out, p, b->len - (size_t)(p - b->data));
	assert_true(buf_ok(out));
}

/* --- running the decoder ------------------------------------------- */

static int
sink_emit(void *arg, const char *data, size_t len)
{
	struct sink	*s = arg;
	uint64_t	 allowed = 0;
	size_t		 i;
	int		 boundary = 0;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at)
		return -1;
	assert_true(len > 0);
	buf_append(&s->out, data, len);
	if (s->tb != NULL) {
		/* Only whole chunks whose last byte was already fed. */
		for (i = 0; i < s->tb->n; i++) {
			if (s->tb->data_end[i] <= s->fed)
				allowed = s->tb->dec_end[i];
			if (s->tb->dec_end[i] == s->out.len)
				boundary = 1;
		}
		if (s->out.len > allowed || !boundary)
			s->bad_order = 1;
	}
	return 0;
}

static size_t
piece(uint64_t *rng, enum feed how, size_t left)
{
	size_t	 n;

	switch (how) {
	case FEED_WHOLE:
		n = left;
		break;
	case FEED_BYTES:
		n = 1;
		break;
	case FEED_SMALL:
		n = (size_t)(rnd(rng) % 18);	/* empty pieces too */
		break;
	case FEED_RANDOM:
	default:
		if (rnd(rng) % 4 == 0)
			n = (size_t)(rnd(rng) % (left + 1));
		else
			n = (size_t)(rnd(rng) % 5000);
		break;
	}
	return n < left ? n : left;
}

static void
decode(const struct ac_params *p, const char *body, size_t len,
    enum feed how, uint64_t *rng, struct sink *s, struct res *r)
{
	struct ac_decoder	*d;
	enum s3_err		 e = S3_OK;
	const char		*m = NULL;
	const char		*t;
	size_t			 off = 0, n;
	int			 rc = 0;

	memset(r, 0, sizeof(*r));
	d = aws_chunked_decoder_new(p, &e, &m);
	if (d == NULL)
		fail_msg("decoder_new: %s: %s", s3_err_code(e), m);
	while (off < len && rc == 0) {
		n = piece(rng, how, len - off);
		s->fed = off + n;
		rc = aws_chunked_decode(d, body + off, n, sink_emit, s);
		off += n;
	}
	if (rc == 0)
		rc = aws_chunked_decode_finish(d);
	r->rc = rc;
	r->err = aws_chunked_decoder_error(d, &m);
	assert_true((rc == 0) == (r->err == S3_OK));
	assert_true((rc == 0) == (m == NULL));
	r->decoded = aws_chunked_decoded(d);
	t = aws_chunked_trailer_name(d);
	if (t != NULL)
		snprintf(r->tname, sizeof(r->tname), "%s", t);
	t = aws_chunked_trailer_value(d);
	if (t != NULL)
		snprintf(r->tvalue, sizeof(r->tvalue), "%s", t);
	aws_chunked_decoder_free(d);
}

/*
 * Decode body whole, byte by byte (unless big), in small and in random
 * pieces: every run must end with err and exactly want as output; with
 * tb, emission order is checked as well.  Returns the last result.
 */
static void
check(const char *label, const struct ac_params *p, const void *body,
    size_t len,
    enum s3_err err, const void *want, size_t want_len,
    const struct tbody *tb, int runs, struct res *last)
{
	struct sink	 s;
	struct res	 r;
	uint64_t	 rng = 0x5eed0000ULL + len;
	enum feed	 how;
	int		 i;

	for (i = 0; i < runs; i++) {
		if (i == 0)
			how = FEED_WHOLE;
		else if (i == 1 && len <= (1U << 20))
			how = FEED_BYTES;
		else
			how = i % 3 == 2 ? FEED_SMALL : FEED_RANDOM;
		if (how == FEED_SMALL && len > (1U << 20))
			how = FEED_RANDOM;
		memset(&s, 0, sizeof(s));
		buf_init(&s.out);
		s.tb = tb;
		decode(p, body, len, how, &rng, &s, &r);
		if (r.err != err)
			fail_msg("%s: run %d (feed %d): %s, expected %s",
			    label != NULL ? label : "body", i, (int)how,
			    s3_err_code(r.err), s3_err_code(err));
		if (s.out.len != want_len)
			fail_msg("%s: run %d (feed %d): %zu bytes out, "
			    "expected %zu", label != NULL ? label : "body", i,
			    (int)how, s.out.len, want_len);
		if (want_len > 0)
			assert_memory_equal(s.out.data, want, want_len);
		assert_true(r.decoded == want_len);
		assert_int_equal(s.bad_order, 0);
		buf_fini(&s.out);
	}
	if (last != NULL)
		*last = r;
}

#define RUNS	8

/* --- names and parameters ------------------------------------------ */

static void
test_mode_names(void **state)
{
	enum ac_mode	 m = AC_SIGNED;

	(void)state;
	assert_int_equal(aws_chunked_mode(M_SIGNED, &m), 0);
	assert_int_equal(m, AC_SIGNED);
	assert_int_equal(aws_chunked_mode(M_TRAILER, &m), 0);
	assert_int_equal(m, AC_SIGNED_TRAILER);
	assert_int_equal(aws_chunked_mode("STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	    &m), 0);
	assert_int_equal(m, AC_UNSIGNED_TRAILER);
	assert_int_equal(aws_chunked_mode(
	    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", &m), -1);
	assert_int_equal(aws_chunked_mode(
	    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", &m), -1);
	assert_int_equal(aws_chunked_mode("STREAMING-UNSIGNED-PAYLOAD", &m),
	    -1);
	assert_int_equal(aws_chunked_mode("UNSIGNED-PAYLOAD", &m), -1);
	assert_int_equal(aws_chunked_mode(SIGV4_EMPTY_SHA256, &m), -1);
	assert_int_equal(aws_chunked_mode(
	    "streaming-aws4-hmac-sha256-payload", &m), -1);
	assert_int_equal(aws_chunked_mode("", &m), -1);
	assert_int_equal(aws_chunked_mode(NULL, &m), -1);

	assert_int_equal(aws_chunked_checksum(CK32), AC_CK_CRC32);
	assert_int_equal(aws_chunked_checksum("X-Amz-Checksum-CRC32C"),
	    AC_CK_CRC32C);
	assert_int_equal(aws_chunked_checksum(CK64), AC_CK_CRC64NVME);
	assert_int_equal(aws_chunked_checksum("X-AMZ-CHECKSUM-SHA1"),
	    AC_CK_SHA1);
	assert_int_equal(aws_chunked_checksum(CKSHA256), AC_CK_SHA256);
	assert_int_equal(aws_chunked_checksum("x-amz-checksum-md5"),
	    AC_CK_NONE);
	assert_int_equal(aws_chunked_checksum("x-amz-checksum-crc32 "),
	    AC_CK_NONE);
	assert_int_equal(aws_chunked_checksum("content-md5"), AC_CK_NONE);
	assert_int_equal(aws_chunked_checksum(""), AC_CK_NONE);
	assert_int_equal(aws_chunked_checksum(NULL), AC_CK_NONE);

	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_CRC32), 8);
	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_CRC32C), 8);
	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_CRC64NVME), 12);
	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_SHA1), 28);
	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_SHA256), 44);
	assert_int_equal(aws_chunked_checksum_b64_len(AC_CK_NONE), 0);
}

static void
expect_new_fails(const struct ac_params *p, enum s3_err want)
{
	struct ac_decoder	*d;
	enum s3_err		 e = S3_OK;
	const char		*m = NULL;

	d = aws_chunked_decoder_new(p, &e, &m);
	assert_null(d);
	assert_int_equal(e, want);
	assert_non_null(m);
}

static void
test_params(void **state)
{
	struct ctx		 c;
	struct ac_params	 p;
	struct ac_decoder	*d;
	enum s3_err		 e;
	const char		*m;
	char			 bad_seed[SIG_LEN + 1];

	(void)state;
	load_ctx(&c);
	expect_new_fails(NULL, S3_ERR_INTERNAL_ERROR);
	/* Trailer modes need one known trailer. */
	params(&p, &c, AC_UNSIGNED_TRAILER, NULL, 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_SIGNED_TRAILER, "", 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_UNSIGNED_TRAILER, "x-amz-checksum-md5", 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32 "," CK32C, 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	/* The untrailed mode takes none. */
	params(&p, &c, AC_SIGNED, CK32, 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	/* Signed modes need date, scope and a hex seed. */
	params(&p, &c, AC_SIGNED, NULL, 0, NULL);
	p.seed_signature = NULL;
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_SIGNED_TRAILER, CK32, 0, NULL);
	p.amz_date = NULL;
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_SIGNED_TRAILER, CK32, 0, NULL);
	p.scope = "";
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	memcpy(bad_seed, c.seed, sizeof(bad_seed));
	bad_seed[5] = 'g';
	params(&p, &c, AC_SIGNED, NULL, 0, bad_seed);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_SIGNED, NULL, 0, "abc");
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);
	params(&p, &c, AC_SIGNED, NULL, 0, NULL);
	p.mode = (enum ac_mode)7;
	expect_new_fails(&p, S3_ERR_INTERNAL_ERROR);

	/* Blanks are the HTTP layer's to trim, as for
	 * aws_chunked_checksum(). */
	params(&p, &c, AC_UNSIGNED_TRAILER, " " CK32, 0, NULL);
	expect_new_fails(&p, S3_ERR_INVALID_REQUEST);

	/* Good ones; the unsigned mode needs no signing material. */
	params(&p, &c, AC_UNSIGNED_TRAILER, "X-Amz-Checksum-CRC32", 0, NULL);
	p.amz_date = p.scope = p.seed_signature = NULL;
	e = S3_ERR_SLOW_DOWN;
	m = "x";
	d = aws_chunked_decoder_new(&p, &e, &m);
	assert_non_null(d);
	assert_int_equal(e, S3_OK);
	assert_null(m);
	assert_int_equal(aws_chunked_decoder_error(d, &m), S3_OK);
	assert_null(aws_chunked_trailer_name(d));	/* not yet */
	assert_int_equal(aws_chunked_decode(d, "0\r\n", 3, NULL, NULL), 0);
	assert_int_equal(aws_chunked_decode(d, NULL, 0, NULL, NULL), 0);
	assert_int_equal(aws_chunked_decode(d,
	    "x-amz-checksum-crc32:AAAAAA==\r\n\r\n", 33, NULL, NULL), 0);
	assert_int_equal(aws_chunked_decode_finish(d), 0);
	assert_int_equal(aws_chunked_decode_finish(d), 0);
	assert_string_equal(aws_chunked_trailer_name(d), CK32);
	assert_string_equal(aws_chunked_trailer_value(d), "AAAAAA==");
	assert_true(aws_chunked_decoded(d) == 0);
	aws_chunked_decoder_free(d);
	aws_chunked_decoder_free(NULL);
	assert_int_equal(aws_chunked_decoder_error(NULL, NULL),
	    S3_ERR_INTERNAL_ERROR);
	assert_int_equal(aws_chunked_decode(NULL, "0", 1, NULL, NULL), -1);
	assert_int_equal(aws_chunked_decode_finish(NULL), -1);
	assert_null(aws_chunked_trailer_name(NULL));
	assert_true(aws_chunked_decoded(NULL) == 0);
	/* The new error row. */
	assert_int_equal(s3_err_status(S3_ERR_INVALID_CHUNK_SIZE), 400);
	assert_string_equal(s3_err_code(S3_ERR_INVALID_CHUNK_SIZE),
	    "InvalidChunkSizeError");
}

/* --- the AWS documentation example --------------------------------- */

static void
test_aws_doc_signed(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	unsigned char		*a;
	struct res		 r;
	size_t			 i;

	(void)state;
	load_ctx(&c);
	a = malloc(DOC_LEN);
	assert_non_null(a);
	memset(a, 'a', DOC_LEN);
	memset(&sp, 0, sizeof(sp));
	sp.mode = AC_SIGNED;
	sp.data = a;
	sp.len = DOC_LEN;
	sp.chunk = 65536;
	build(&tb, &sp, &c);
	/* Our test encoder makes the documented signatures and length. */
	assert_int_equal(tb.n, 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(tb.sig[i], c.sigs[i]);
	assert_int_equal(tb.b.len, 66824);	/* the doc's Content-Length */
	assert_non_null(memmem(tb.b.data, tb.b.len,
	    "10000;chunk-signature=", 22));
	assert_non_null(memmem(tb.b.data, tb.b.len,
	    "\r\n400;chunk-signature=", 22));
	params(&p, &c, AC_SIGNED, NULL, DOC_LEN, NULL);
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, &tb, RUNS, &r);
	assert_int_equal(r.tname[0], '\0');
	/* The same body under the other seed fails at the first chunk. */
	params(&p, &c, AC_SIGNED, NULL, DOC_LEN, c.seed_t);
	check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
	    NULL, 0, NULL, 3, NULL);
	/* A different key too. */
	params(&p, &c, AC_SIGNED, NULL, DOC_LEN, NULL);
	p.signing_key[0] ^= 1;
	check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
	    NULL, 0, NULL, 3, NULL);
	/* Lenient: the final empty line may be missing, one more CRLF may
	 * follow; but no more than that. */
	params(&p, &c, AC_SIGNED, NULL, DOC_LEN, NULL);
	check(NULL, &p, tb.b.data, tb.b.len - 2, S3_OK, a, DOC_LEN, NULL, 3,
	    NULL);
	buf_puts(&tb.b, "\r\n");
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, NULL, 3, NULL);
	buf_puts(&tb.b, "\r\n");
	check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_INVALID_REQUEST, a, DOC_LEN,
	    NULL, 3, NULL);
	tbody_fini(&tb);
	free(a);
}

static void
test_aws_doc_signed_trailer(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct buf		 mut;
	unsigned char		*a;
	struct res		 r;
	size_t			 i;

	(void)state;
	load_ctx(&c);
	a = malloc(DOC_LEN);
	assert_non_null(a);
	memset(a, 'a', DOC_LEN);
	memset(&sp, 0, sizeof(sp));
	sp.mode = AC_SIGNED_TRAILER;
	sp.data = a;
	sp.len = DOC_LEN;
	sp.chunk = 65536;
	sp.tname = CK32C;
	build(&tb, &sp, &c);
	assert_string_equal(tb.value, c.crc32c);	/* "sOO8/Q==" */
	assert_string_equal(tb.value, "sOO8/Q==");
	assert_string_equal(tb.ttext, c.trailer_text);
	for (i = 0; i < 3; i++)
		assert_string_equal(tb.sig[i], c.sigs_t[i]);
	assert_string_equal(tb.tsig, c.tsig);
	params(&p, &c, AC_SIGNED_TRAILER, CK32C, DOC_LEN, NULL);
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, &tb, RUNS, &r);
	assert_string_equal(r.tname, CK32C);
	assert_string_equal(r.tvalue, "sOO8/Q==");
	/* Trailer name in another case, blanks around the value: fine. */
	replaced(&mut, &tb.b, "x-amz-checksum-crc32c:sOO8/Q==",
	    "X-Amz-Checksum-CRC32C: sOO8/Q== ");
	check(NULL, &p, mut.data, mut.len, S3_OK, a, DOC_LEN, NULL, 3, &r);
	assert_string_equal(r.tname, CK32C);
	assert_string_equal(r.tvalue, "sOO8/Q==");
	buf_fini(&mut);
	/* One extra CRLF after the end. */
	buf_puts(&tb.b, "\r\n");
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, NULL, 3, NULL);
	tbody_fini(&tb);

	/* The same data, unsigned, with the documented CRC32 and CRC32C. */
	sp.mode = AC_UNSIGNED_TRAILER;
	sp.tname = CK32;
	sp.chunk = 1 << 20;
	build(&tb, &sp, &c);
	assert_string_equal(tb.value, c.crc32);		/* "sK4Y7A==" */
	assert_string_equal(tb.value, "sK4Y7A==");
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32, DOC_LEN, NULL);
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, NULL, RUNS, &r);
	assert_string_equal(r.tvalue, "sK4Y7A==");
	replaced(&mut, &tb.b, "sK4Y7A==", "sK4Y7B==");
	check(NULL, &p, mut.data, mut.len, S3_ERR_BAD_DIGEST, a, DOC_LEN, NULL,
	    3, NULL);
	buf_fini(&mut);
	tbody_fini(&tb);
	sp.tname = CK32C;
	build(&tb, &sp, &c);
	assert_string_equal(tb.value, "sOO8/Q==");
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32C, DOC_LEN, NULL);
	check(NULL, &p, tb.b.data, tb.b.len, S3_OK, a, DOC_LEN, NULL, 3, NULL);
	tbody_fini(&tb);
	free(a);
}

/* --- checksums ----------------------------------------------------- */

static void
test_crc64nvme(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct res		 r;
	unsigned char		 be[8];
	static const char	 hexd[] = "0123456789abcdef";
	const char		*h;
	char			 want[16];
	uint64_t		 v = 0;
	size_t			 i;
	int			 mode;

	(void)state;
	load_ctx(&c);
	assert_string_equal(c.crc64_input, "123456789");
	for (i = 0; i < strlen(c.crc64_hex); i++) {
		h = strchr(hexd, c.crc64_hex[i]);
		assert_non_null(h);
		v = v << 4 | (uint64_t)(h - hexd);
	}
	assert_true(v == 0xae8b14860a799888ULL);
	assert_true(crc64_nvme(0, "123456789", 9) == v);
	assert_true(ref_crc64((const unsigned char *)"123456789", 9) == v);
	be_bytes(be, v, 8);
	b64(be, 8, want);
	assert_string_equal(want, "rosUhgp5mIg=");
	for (mode = 0; mode < 2; mode++) {
		memset(&sp, 0, sizeof(sp));
		sp.mode = mode == 0 ? AC_UNSIGNED_TRAILER : AC_SIGNED_TRAILER;
		sp.data = (const unsigned char *)c.crc64_input;
		sp.len = 9;
		sp.chunk = 4;
		sp.tname = CK64;
		sp.tvalue = want;
		build(&tb, &sp, &c);
		params(&p, &c, sp.mode, CK64, 9, NULL);
		check(NULL, &p, tb.b.data, tb.b.len, S3_OK, "123456789", 9,
		    NULL, RUNS, &r);
		assert_string_equal(r.tvalue, "rosUhgp5mIg=");
		tbody_fini(&tb);
		sp.tvalue = "rosUhgp5mIh=";
		build(&tb, &sp, &c);
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_BAD_DIGEST,
		    "123456789", 9, NULL, 3, NULL);
		tbody_fini(&tb);
	}
}

/* One algorithm, one length, one mode: right, wrong and malformed. */
static void
checksum_case(const struct ctx *c, const char *name, size_t len,
    enum ac_mode mode, uint64_t seed)
{
	static const char too_long[] =
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AA";	/* 66: longer than any base64 digest */
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct buf		 mut;
	struct res		 r;
	unsigned char		*data;
	char			 wrong[80];

	data = random_data(len, seed);
	memset(&sp, 0, sizeof(sp));
	sp.mode = mode;
	sp.data = data;
	sp.len = len;
	sp.chunk = 8192;
	sp.tname = name;
	build(&tb, &sp, c);
	params(&p, c, mode, name, len, NULL);
	check(name, &p, tb.b.data, tb.b.len, S3_OK, data, len, NULL, 3, &r);
	assert_string_equal(r.tname, name);
	assert_string_equal(r.tvalue, tb.value);
	/* One base64 digit off: a different digest. */
	snprintf(wrong, sizeof(wrong), "%s", tb.value);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	tbody_fini(&tb);
	sp.tvalue = wrong;
	build(&tb, &sp, c);
	check(name, &p, tb.b.data, tb.b.len, S3_ERR_BAD_DIGEST, data, len,
	    NULL, 2, NULL);
	/* Malformed values, too short and too long (unsigned: no trailer
	 * signature to get in the way). */
	if (mode == AC_UNSIGNED_TRAILER) {
		replaced(&mut, &tb.b, wrong, "AAAA");
		check(name, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST,
		    data, len, NULL, 1, NULL);
		buf_fini(&mut);
		replaced(&mut, &tb.b, wrong, too_long);
		check(name, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST,
		    data, len, NULL, 1, NULL);
		buf_fini(&mut);
	}
	tbody_fini(&tb);
	free(data);
}

static void
test_all_checksums(void **state)
{
	static const struct {
		const char	*name;
		enum ac_checksum ck;
		const char	*check;		/* of "123456789" */
	} algs[] = {
		{ CK32,		AC_CK_CRC32,	"y/Q5Jg==" },
		{ CK32C,	AC_CK_CRC32C,	"4waSgw==" },
		{ CK64,		AC_CK_CRC64NVME, "rosUhgp5mIg=" },
		{ CKSHA1,	AC_CK_SHA1,
		    "98O8HYCOBHMq32eZZczDTKeuNEE=" },
		{ CKSHA256,	AC_CK_SHA256,
		    "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=" },
	};
	static const size_t lens[] = { 0, 1, 9, 100, 8192, 70001 };
	struct ctx	 c;
	char		 v[80];
	size_t		 a, l;

	(void)state;
	load_ctx(&c);
	for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		ref_value(algs[a].ck, (const unsigned char *)"123456789", 9,
		    v);
		assert_string_equal(v, algs[a].check);
		assert_int_equal(strlen(v),
		    aws_chunked_checksum_b64_len(algs[a].ck));
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			checksum_case(&c, algs[a].name, lens[l],
			    AC_UNSIGNED_TRAILER, 1000 + a * 10 + l);
			checksum_case(&c, algs[a].name, lens[l],
			    AC_SIGNED_TRAILER, 2000 + a * 10 + l);
		}
	}
}

/* --- malformed bodies ---------------------------------------------- */

/* Unsigned bodies, literal: "hello" has CRC32 NhCmhg==. */
#define HELLO_TRAILER	"x-amz-checksum-crc32:NhCmhg==\r\n"
#define HELLO_OK	"5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n"

static void
test_malformed_unsigned(void **state)
{
	static const struct {
		const char	*body;
		uint64_t	 dlen;
		size_t		 max_chunk;
		enum s3_err	 err;
		const char	*out;
	} t[] = {
		{ HELLO_OK, 5, 0, S3_OK, "hello" },
		{ "00005\r\nhello\r\n00\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_OK, "hello" },
		{ "2\r\nhe\r\n3\r\nllo\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_OK, "hello" },
		{ HELLO_OK "\r\n", 5, 0, S3_OK, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:\tNhCmhg== \r\n"
		    "\r\n", 5, 0, S3_OK, "hello" },
		{ "5\r\nhello\r\n0\r\nX-AMZ-CHECKSUM-CRC32:NhCmhg==\r\n\r\n",
		    5, 0, S3_OK, "hello" },
		/* Sizes. */
		{ "zz\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "5x\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "5 \r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ " 5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "-5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "0x5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "5\r\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "5\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "fffffffffffffffffffff\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ "5;chunk-signature=abc\r\nhello\r\n0\r\n" HELLO_TRAILER
		    "\r\n", 5, 0, S3_ERR_INVALID_REQUEST, "" },
		{ "5;x=y\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_REQUEST, "" },
		/* Over max_chunk, or just at it. */
		{ HELLO_OK, 5, 4, S3_ERR_INVALID_CHUNK_SIZE, "" },
		{ HELLO_OK, 5, 5, S3_OK, "hello" },
		/* Data not followed by CRLF. */
		{ "5\r\nhelloX\r\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "hello" },
		{ "5\r\nhello\n0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "hello" },
		{ "5\r\nhello\r0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "hello" },
		{ "5\r\nhello0\r\n" HELLO_TRAILER "\r\n", 5, 0,
		    S3_ERR_INVALID_CHUNK_SIZE, "hello" },
		/* Decoded length. */
		{ HELLO_OK, 6, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ HELLO_OK, 4, 0, S3_ERR_INVALID_REQUEST, "" },
		{ "2\r\nhe\r\n3\r\nllo\r\n0\r\n" HELLO_TRAILER "\r\n", 4, 0,
		    S3_ERR_INVALID_REQUEST, "he" },
		/* Trailers. */
		{ "5\r\nhello\r\n0\r\n\r\n", 5, 0, S3_ERR_INVALID_REQUEST,
		    "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32c:mnG7TA==\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc33:NhCmhg==\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-meta-a:b\r\n" HELLO_TRAILER "\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\n" HELLO_TRAILER HELLO_TRAILER "\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\n" HELLO_TRAILER "x-amz-trailer-signature:"
		    "0000000000000000000000000000000000000000000000000000000000"
		    "000000\r\n\r\n", 5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32 NhCmhg==\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\n:NhCmhg==\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32 :NhCmhg==\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\x01\r\n"
		    "\r\n", 5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhh==\r\n\r\n",
		    5, 0, S3_ERR_BAD_DIGEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg=\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:\r\n\r\n",
		    5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		/* Early ends: finish says IncompleteBody. */
		{ "", 5, 0, S3_ERR_INCOMPLETE_BODY, "" },
		{ "5", 5, 0, S3_ERR_INCOMPLETE_BODY, "" },
		{ "5\r\nhel", 5, 0, S3_ERR_INCOMPLETE_BODY, "hel" },
		{ "5\r\nhello", 5, 0, S3_ERR_INCOMPLETE_BODY, "hello" },
		{ "5\r\nhello\r\n", 5, 0, S3_ERR_INCOMPLETE_BODY, "hello" },
		{ "5\r\nhello\r\n0\r\n", 5, 0, S3_ERR_INCOMPLETE_BODY,
		    "hello" },
		{ "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:Nh", 5, 0,
		    S3_ERR_INCOMPLETE_BODY, "hello" },
		{ "5\r\nhello\r\n0\r\n" HELLO_TRAILER, 5, 0,
		    S3_ERR_INCOMPLETE_BODY, "hello" },
		{ "5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r", 5, 0,
		    S3_ERR_INCOMPLETE_BODY, "hello" },
		{ HELLO_OK "\r", 5, 0, S3_ERR_INCOMPLETE_BODY, "hello" },
		/* After the end. */
		{ HELLO_OK "x", 5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ HELLO_OK "\r\n\r\n", 5, 0, S3_ERR_INVALID_REQUEST,
		    "hello" },
		{ HELLO_OK "\n", 5, 0, S3_ERR_INVALID_REQUEST, "hello" },
		{ HELLO_OK "5\r\nhello\r\n", 5, 0, S3_ERR_INVALID_REQUEST,
		    "hello" },
	};
	struct ctx		 c;
	struct ac_params	 p;
	char			 label[32];
	size_t			 i;

	(void)state;
	load_ctx(&c);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		params(&p, &c, AC_UNSIGNED_TRAILER, CK32, t[i].dlen, NULL);
		p.max_chunk = t[i].max_chunk;
		snprintf(label, sizeof(label), "case %zu", i);
		check(label, &p, t[i].body, strlen(t[i].body), t[i].err,
		    t[i].out, strlen(t[i].out), NULL, RUNS, NULL);
	}
}

/* Line limit: AC_MAX_LINE bytes with the CRLF is the longest line. */
static void
test_line_limit(void **state)
{
	struct ctx		 c;
	struct ac_params	 p;
	struct buf		 b;
	size_t			 extra;

	(void)state;
	load_ctx(&c);
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32, 5, NULL);
	for (extra = 0; extra < 2; extra++) {
		/* A chunk header of leading zeros. */
		buf_init(&b);
		while (b.len < AC_MAX_LINE - 3 + extra)
			buf_putc(&b, '0');
		buf_puts(&b, "5\r\nhello\r\n0\r\n" HELLO_TRAILER "\r\n");
		check(NULL, &p, b.data, b.len, extra == 0 ? S3_OK :
		    S3_ERR_INVALID_REQUEST, "hello", extra == 0 ? 5 : 0, NULL,
		    RUNS, NULL);
		buf_fini(&b);
		/* A trailer line padded with blanks. */
		buf_init(&b);
		buf_puts(&b, "5\r\nhello\r\n0\r\n"
		    "x-amz-checksum-crc32:NhCmhg==");
		while (b.len - 13 < AC_MAX_LINE - 2 + extra)
			buf_putc(&b, ' ');
		buf_puts(&b, "\r\n\r\n");
		check(NULL, &p, b.data, b.len, extra == 0 ? S3_OK :
		    S3_ERR_INVALID_REQUEST, "hello", 5, NULL, RUNS, NULL);
		buf_fini(&b);
	}
	/* A long line without any LF at all. */
	buf_init(&b);
	while (b.len < 3 * AC_MAX_LINE)
		buf_putc(&b, '1');
	check(NULL, &p, b.data, b.len, S3_ERR_INVALID_REQUEST, "", 0, NULL,
	    RUNS, NULL);
	buf_fini(&b);
}

static void
test_malformed_signed(void **state)
{
	static const size_t sizes[] = { 1000, 1, 4096, 77, 3000 };
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb, tb2;
	struct ac_params	 p;
	struct buf		 mut;
	char			 from[256], to[520];
	unsigned char		*data;
	size_t			 len = 1000 + 1 + 4096 + 77 + 3000, i;
	int			 m;
	enum ac_mode		 mode;

	(void)state;
	load_ctx(&c);
	data = random_data(len, 77);
	for (m = 0; m < 2; m++) {
		mode = m == 0 ? AC_SIGNED : AC_SIGNED_TRAILER;
		memset(&sp, 0, sizeof(sp));
		sp.mode = mode;
		sp.data = data;
		sp.len = len;
		sp.sizes = sizes;
		sp.nsizes = 5;
		sp.tname = mode == AC_SIGNED ? NULL : CKSHA256;
		params(&p, &c, mode, sp.tname, len, NULL);
		build(&tb, &sp, &c);
		check(NULL, &p, tb.b.data, tb.b.len, S3_OK, data, len, &tb,
		    RUNS, NULL);
		tbody_fini(&tb);

		/* A wrong signature on each chunk in turn, the final one
		 * included: exactly the chunks before it come out. */
		for (i = 1; i <= 6; i++) {
			sp.bad_sig = i;
			build(&tb, &sp, &c);
			check(NULL, &p, tb.b.data, tb.b.len,
			    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data,
			    tb.dec_end[i - 1] - (i <= 5 ? sizes[i - 1] : 0),
			    &tb, RUNS, NULL);
			tbody_fini(&tb);
		}
		sp.bad_sig = 0;

		/* Chunks replayed out of order: the chain breaks. */
		build(&tb, &sp, &c);
		{
			struct buf	 swapped;
			size_t		 a0 = tb.data_end[0] + 2;
			size_t		 a1 = tb.data_end[1] + 2;
			size_t		 a2 = tb.data_end[2] + 2;

			buf_init(&swapped);
			buf_append(&swapped, tb.b.data, a0);
			buf_append(&swapped, tb.b.data + a1, a2 - a1);
			buf_append(&swapped, tb.b.data + a0, a1 - a0);
			buf_append(&swapped, tb.b.data + a2, tb.b.len - a2);
			check(NULL, &p, swapped.data, swapped.len,
			    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data, 1000, NULL,
			    RUNS, NULL);
			buf_fini(&swapped);
		}
		/* Header forms. */
		snprintf(from, sizeof(from), "3e8;chunk-signature=%s\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, "3e8\r\n");
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, "", 0, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "3e8;chunk-signatur=%s\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST, "",
		    0, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "3e8;chunk-signature=%s;x=y\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, "", 0, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "3e8;chunk-signature=%.63s\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, "", 0, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "3E8;chunk-signature=%s\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len, S3_OK, data, len, NULL, 3,
		    NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "3e8x;chunk-signature=%s\r\n",
		    tb.sig[0]);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_CHUNK_SIZE,
		    "", 0, NULL, RUNS, NULL);
		buf_fini(&mut);
		/* Body ends before the final chunk. */
		check(NULL, &p, tb.b.data, tb.data_end[4],
		    S3_ERR_INCOMPLETE_BODY, data, len, NULL, RUNS, NULL);
		check(NULL, &p, tb.b.data, tb.data_end[4] + 2,
		    S3_ERR_INCOMPLETE_BODY, data, len, NULL, RUNS, NULL);
		check(NULL, &p, tb.b.data, tb.data_end[4] - 5,
		    S3_ERR_INCOMPLETE_BODY, data, tb.dec_end[3], NULL, RUNS,
		    NULL);
		/* Decoded length off either way. */
		params(&p, &c, mode, sp.tname, len + 1, NULL);
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_INVALID_REQUEST,
		    data, len, NULL, RUNS, NULL);
		params(&p, &c, mode, sp.tname, len - 1, NULL);
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_INVALID_REQUEST,
		    data, tb.dec_end[3], NULL, RUNS, NULL);
		params(&p, &c, mode, sp.tname, len, NULL);
		/* max_chunk below the largest chunk: refused at its header,
		 * after the chunks before it. */
		p.max_chunk = 4095;
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_INVALID_CHUNK_SIZE,
		    data, 1001, NULL, RUNS, NULL);
		p.max_chunk = 4096;
		check(NULL, &p, tb.b.data, tb.b.len, S3_OK, data, len, NULL, 3,
		    NULL);
		p.max_chunk = 0;
		tbody_fini(&tb);

		if (mode == AC_SIGNED) {
			/* Trailers where none is declared. */
			build(&tb, &sp, &c);
			mut = tb.b;
			mut.len -= 2;
			buf_init(&tb.b);
			buf_append(&tb.b, mut.data, mut.len);
			buf_puts(&tb.b, CK32 ":AAAAAA==\r\n\r\n");
			buf_fini(&mut);
			check(NULL, &p, tb.b.data, tb.b.len,
			    S3_ERR_INVALID_REQUEST, data, len, NULL, RUNS,
			    NULL);
			tbody_fini(&tb);
			continue;
		}

		/* Trailer signature wrong, missing, twice, misplaced. */
		sp.bad_tsig = 1;
		build(&tb, &sp, &c);
		check(NULL, &p, tb.b.data, tb.b.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data, len, NULL, RUNS,
		    NULL);
		tbody_fini(&tb);
		sp.bad_tsig = 0;
		build(&tb, &sp, &c);
		snprintf(from, sizeof(from), "x-amz-trailer-signature:%s\r\n",
		    tb.tsig);
		replaced(&mut, &tb.b, from, "");
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data, len, NULL, RUNS,
		    NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "%s%s", from, from);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST, data,
		    len, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(from, sizeof(from), CKSHA256 ":%s\r\n"
		    "x-amz-trailer-signature:%s\r\n", tb.value, tb.tsig);
		snprintf(to, sizeof(to), "x-amz-trailer-signature:%s\r\n"
		    CKSHA256 ":%s\r\n", tb.tsig, tb.value);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST, data,
		    len, NULL, RUNS, NULL);
		buf_fini(&mut);
		snprintf(to, sizeof(to), "x-amz-trailer-signature:%.63s\r\n",
		    tb.tsig);
		snprintf(from, sizeof(from), "x-amz-trailer-signature:%s\r\n",
		    tb.tsig);
		replaced(&mut, &tb.b, from, to);
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data, len, NULL, RUNS,
		    NULL);
		buf_fini(&mut);
		/* Trailer missing altogether (signature of nothing). */
		snprintf(from, sizeof(from), CKSHA256 ":%s\r\n", tb.value);
		replaced(&mut, &tb.b, from, "");
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST, data,
		    len, NULL, RUNS, NULL);
		buf_fini(&mut);
		/* Renamed to another checksum (signed as such). */
		replaced(&mut, &tb.b, CKSHA256 ":", CKSHA1 ":");
		check(NULL, &p, mut.data, mut.len, S3_ERR_INVALID_REQUEST, data,
		    len, NULL, RUNS, NULL);
		buf_fini(&mut);
		/* Body ends inside the trailer. */
		check(NULL, &p, tb.b.data, tb.b.len - 2, S3_ERR_INCOMPLETE_BODY,
		    data, len, NULL, RUNS, NULL);
		tbody_fini(&tb);
		/* A wrong checksum correctly signed: BadDigest. */
		sp.tvalue = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
		build(&tb, &sp, &c);
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_BAD_DIGEST, data,
		    len, NULL, RUNS, NULL);
		/* The value altered after signing: the signature fails. */
		sp.tvalue = NULL;
		build(&tb2, &sp, &c);
		replaced(&mut, &tb2.b, tb2.value, tb.value);
		check(NULL, &p, mut.data, mut.len,
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH, data, len, NULL, RUNS,
		    NULL);
		buf_fini(&mut);
		tbody_fini(&tb2);
		tbody_fini(&tb);
		sp.tvalue = NULL;
	}
	free(data);
}

/* --- emission ------------------------------------------------------ */

/* Signed: a bad first chunk emits nothing, even fed byte by byte. */
static void
test_emit_signed(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct sink		 s;
	struct res		 r;
	unsigned char		*data;
	uint64_t		 rng = 1;
	size_t			 len = 20000;

	(void)state;
	load_ctx(&c);
	data = random_data(len, 5);
	memset(&sp, 0, sizeof(sp));
	sp.mode = AC_SIGNED_TRAILER;
	sp.data = data;
	sp.len = len;
	sp.chunk = 8192;
	sp.tname = CK32;
	sp.bad_sig = 1;
	build(&tb, &sp, &c);
	params(&p, &c, AC_SIGNED_TRAILER, CK32, len, NULL);
	memset(&s, 0, sizeof(s));
	buf_init(&s.out);
	decode(&p, tb.b.data, tb.b.len, FEED_BYTES, &rng, &s, &r);
	assert_int_equal(r.err, S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	assert_int_equal(s.calls, 0);
	buf_fini(&s.out);
	tbody_fini(&tb);

	/* Good body byte by byte: one emit per chunk, each right after the
	 * chunk's last byte (the sink checks the order). */
	sp.bad_sig = 0;
	build(&tb, &sp, &c);
	memset(&s, 0, sizeof(s));
	buf_init(&s.out);
	s.tb = &tb;
	decode(&p, tb.b.data, tb.b.len, FEED_BYTES, &rng, &s, &r);
	assert_int_equal(r.err, S3_OK);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.bad_order, 0);
	buf_fini(&s.out);

	/* An emit failure: InternalError, and it sticks. */
	{
		struct ac_decoder	*d;
		struct sink		 f;

		memset(&f, 0, sizeof(f));
		buf_init(&f.out);
		f.fail_at = 2;
		d = aws_chunked_decoder_new(&p, NULL, NULL);
		assert_non_null(d);
		assert_int_equal(aws_chunked_decode(d, tb.b.data, tb.b.len,
		    sink_emit, &f), -1);
		assert_int_equal(aws_chunked_decoder_error(d, NULL),
		    S3_ERR_INTERNAL_ERROR);
		assert_true(aws_chunked_decoded(d) == 8192);
		assert_int_equal(aws_chunked_decode(d, "", 0, sink_emit, &f),
		    -1);
		assert_int_equal(aws_chunked_decode_finish(d), -1);
		assert_int_equal(aws_chunked_decoder_error(d, NULL),
		    S3_ERR_INTERNAL_ERROR);
		assert_null(aws_chunked_trailer_value(d));
		aws_chunked_decoder_free(d);
		buf_fini(&f.out);
	}
	tbody_fini(&tb);
	free(data);
}

/* Unsigned: data streams out as it comes, and errors stick. */
static void
test_emit_unsigned(void **state)
{
	struct ctx		 c;
	struct ac_params	 p;
	struct ac_decoder	*d;
	struct sink		 s;
	const char		*body = HELLO_OK;
	const char		*m = NULL;
	size_t			 i;

	(void)state;
	load_ctx(&c);
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32, 5, NULL);
	d = aws_chunked_decoder_new(&p, NULL, NULL);
	assert_non_null(d);
	memset(&s, 0, sizeof(s));
	buf_init(&s.out);
	for (i = 0; i < 3 + 3; i++)
		assert_int_equal(aws_chunked_decode(d, body + i, 1, sink_emit,
		    &s), 0);
	assert_int_equal(s.out.len, 3);		/* "5\r\nhel" */
	assert_true(aws_chunked_decoded(d) == 3);
	assert_int_equal(aws_chunked_decode(d, "lo\r\nz\r\n", 7, sink_emit,
	    &s), -1);
	assert_int_equal(aws_chunked_decoder_error(d, &m),
	    S3_ERR_INVALID_CHUNK_SIZE);
	assert_non_null(m);
	assert_int_equal(aws_chunked_decode(d, "0\r\n", 3, sink_emit, &s),
	    -1);
	assert_int_equal(aws_chunked_decode_finish(d), -1);
	assert_int_equal(aws_chunked_decoder_error(d, NULL),
	    S3_ERR_INVALID_CHUNK_SIZE);
	assert_int_equal(s.out.len, 5);
	aws_chunked_decoder_free(d);
	buf_fini(&s.out);
}

/* --- random splits ------------------------------------------------- */

static void
test_random_splits(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct sink		 s0, s;
	struct res		 r0, r;
	unsigned char		*a;
	uint64_t		 rng = 0xfeedULL;
	int			 body, i;

	(void)state;
	load_ctx(&c);
	a = malloc(DOC_LEN);
	assert_non_null(a);
	memset(a, 'a', DOC_LEN);
	for (body = 0; body < 6; body++) {
		memset(&sp, 0, sizeof(sp));
		sp.data = a;
		sp.len = DOC_LEN;
		sp.chunk = 65536;
		switch (body) {
		case 0:
			sp.mode = AC_SIGNED;
			break;
		case 1:
			sp.mode = AC_SIGNED_TRAILER;
			sp.tname = CK32C;
			break;
		case 2:
			sp.mode = AC_UNSIGNED_TRAILER;
			sp.tname = CK32;
			sp.chunk = 1000;
			break;
		case 3:
			sp.mode = AC_SIGNED_TRAILER;
			sp.tname = CK32C;
			sp.bad_sig = 2;
			break;
		case 4:
			sp.mode = AC_UNSIGNED_TRAILER;
			sp.tname = CK64;
			sp.tvalue = "AAAAAAAAAAA=";
			sp.chunk = 3000;
			break;
		default:
			sp.mode = AC_SIGNED_TRAILER;
			sp.tname = CKSHA1;
			sp.chunk = 4096;
			sp.bad_tsig = 1;
			break;
		}
		build(&tb, &sp, &c);
		params(&p, &c, sp.mode, sp.tname, DOC_LEN, NULL);
		memset(&s0, 0, sizeof(s0));
		buf_init(&s0.out);
		decode(&p, tb.b.data, tb.b.len, FEED_WHOLE, &rng, &s0, &r0);
		for (i = 0; i < 120; i++) {
			memset(&s, 0, sizeof(s));
			buf_init(&s.out);
			if (sp.mode != AC_UNSIGNED_TRAILER)
				s.tb = &tb;
			decode(&p, tb.b.data, tb.b.len, i == 0 ? FEED_BYTES :
			    (i % 4 == 0 ? FEED_SMALL : FEED_RANDOM), &rng, &s,
			    &r);
			assert_int_equal(r.rc, r0.rc);
			assert_int_equal(r.err, r0.err);
			assert_true(r.decoded == r0.decoded);
			assert_string_equal(r.tvalue, r0.tvalue);
			assert_int_equal(s.out.len, s0.out.len);
			if (s.out.len > 0)
				assert_memory_equal(s.out.data, s0.out.data,
				    s.out.len);
			assert_int_equal(s.bad_order, 0);
			buf_fini(&s.out);
		}
		print_message("# body %d: %s, %zu bytes out\n", body,
		    r0.err == S3_OK ? "ok" : s3_err_code(r0.err), s0.out.len);
		buf_fini(&s0.out);
		tbody_fini(&tb);
	}
	free(a);
}

/* --- chunk size extremes ------------------------------------------- */

static void
test_one_byte_chunks(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	unsigned char		*data;
	size_t			 len = 3000;
	int			 m;

	(void)state;
	load_ctx(&c);
	data = random_data(len, 11);
	for (m = 0; m < 3; m++) {
		memset(&sp, 0, sizeof(sp));
		sp.mode = (enum ac_mode)m;
		sp.data = data;
		sp.len = len;
		sp.chunk = 1;
		sp.tname = sp.mode == AC_SIGNED ? NULL : CK32C;
		build(&tb, &sp, &c);
		assert_int_equal(tb.n, len + 1);
		params(&p, &c, sp.mode, sp.tname, len, NULL);
		check(NULL, &p, tb.b.data, tb.b.len, S3_OK, data, len,
		    sp.mode == AC_UNSIGNED_TRAILER ? NULL : &tb, 4, NULL);
		tbody_fini(&tb);
	}
	free(data);
}

static void
test_8mib_chunk(void **state)
{
	static const size_t sizes[] = { 8 << 20, 100 };
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	unsigned char		*data;
	size_t			 len = (8 << 20) + 100;
	int			 m;

	(void)state;
	load_ctx(&c);
	data = random_data(len, 8);
	for (m = 0; m < 3; m++) {
		memset(&sp, 0, sizeof(sp));
		sp.mode = (enum ac_mode)m;
		sp.data = data;
		sp.len = len;
		sp.sizes = sizes;
		sp.nsizes = 2;
		sp.tname = sp.mode == AC_SIGNED ? NULL : CKSHA256;
		build(&tb, &sp, &c);
		params(&p, &c, sp.mode, sp.tname, len, NULL);
		check(NULL, &p, tb.b.data, tb.b.len, S3_OK, data, len,
		    sp.mode == AC_UNSIGNED_TRAILER ? NULL : &tb, 4, NULL);
		p.max_chunk = (8 << 20) - 1;
		check(NULL, &p, tb.b.data, tb.b.len, S3_ERR_INVALID_CHUNK_SIZE,
		    "", 0, NULL, 2, NULL);
		tbody_fini(&tb);
	}
	free(data);
}

/* --- encoder ------------------------------------------------------- */

static int
enc_emit(void *arg, const char *data, size_t len)
{
	struct buf	*b = arg;

	assert_true(len > 0);
	return buf_append(b, data, len) == 0 ? 0 : -1;
}

static int
enc_fail(void *arg, const char *data, size_t len)
{
	int	*left = arg;

	(void)data;
	(void)len;
	return (*left)-- > 0 ? 0 : -1;
}

static void
encode(size_t chunk, const unsigned char *data, size_t len, uint64_t *rng,
    const char *name, const char *value, int split_finish, struct buf *out)
{
	struct ac_encoder	*e;
	size_t			 off = 0, n;

	e = aws_chunked_encoder_new(chunk);
	assert_non_null(e);
	buf_init(out);
	while (off < len) {
		n = piece(rng, rnd(rng) % 2 ? FEED_SMALL : FEED_RANDOM,
		    len - off);
		assert_int_equal(aws_chunked_encode(e, (const char *)data +
		    off, n, enc_emit, out), 0);
		off += n;
	}
	if (split_finish) {
		assert_int_equal(aws_chunked_encode_flush_data(e, enc_emit,
		    out), 0);
		assert_int_equal(aws_chunked_encode_trailer(e, name, value,
		    enc_emit, out), 0);
	} else
		assert_int_equal(aws_chunked_encode_finish(e, name, value,
		    enc_emit, out), 0);
	/* Closed: no more data. */
	assert_int_equal(aws_chunked_encode(e, "x", 1, enc_emit, out), -1);
	aws_chunked_encoder_free(e);
	assert_true(buf_ok(out));
}

static void
test_encoder_literal(void **state)
{
	struct buf	 out;
	uint64_t	 rng = 3;
	char		 v[16];
	const char	*want = "5\r\nhello\r\n5\r\n worl\r\n1\r\nd\r\n0\r\n"
	    "x-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

	(void)state;
	ref_value(AC_CK_CRC32, (const unsigned char *)"hello world", 11, v);
	assert_string_equal(v, "DUoRhQ==");
	encode(5, (const unsigned char *)"hello world", 11, &rng, CK32, v, 0,
	    &out);
	assert_string_equal(buf_str(&out), want);
	assert_true(aws_chunked_encoded_length(11, 5, CK32, 8) == out.len);
	buf_fini(&out);
	/* Empty body, no trailer. */
	encode(5, (const unsigned char *)"", 0, &rng, NULL, NULL, 1, &out);
	assert_string_equal(buf_str(&out), "0\r\n\r\n");
	assert_true(aws_chunked_encoded_length(0, 5, NULL, 0) == 5);
	buf_fini(&out);
	/* Lower-case hex. */
	{
		unsigned char	 z[0xab];

		memset(z, 'z', sizeof(z));
		encode(0xab, z, sizeof(z), &rng, CK32, "AAAAAA==", 0, &out);
		assert_memory_equal(out.data, "ab\r\nzzz", 7);
		buf_fini(&out);
	}
	assert_true(aws_chunked_encoded_length(10, 0, NULL, 0) == 0);
	assert_null(aws_chunked_encoder_new(0));
	aws_chunked_encoder_free(NULL);
	/* Emit failures stick. */
	{
		struct ac_encoder	*e;
		int			 left = 1;

		e = aws_chunked_encoder_new(2);
		assert_non_null(e);
		assert_int_equal(aws_chunked_encode(e, "abcd", 4, enc_fail,
		    &left), -1);
		left = 100;
		assert_int_equal(aws_chunked_encode(e, "ab", 2, enc_fail,
		    &left), -1);
		assert_int_equal(aws_chunked_encode_finish(e, CK32,
		    "AAAAAA==", enc_fail, &left), -1);
		aws_chunked_encoder_free(e);
	}
}

static void
test_encoder_round_trip(void **state)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 16, 100, 1000, 8192 };
	struct ctx		 c;
	struct ac_params	 p;
	struct buf		 out, out2;
	struct res		 r;
	unsigned char		*data;
	uint64_t		 rng = 99;
	size_t			 ci, li, chunk, len, lens[48], nlens;
	char			 v[16];

	(void)state;
	load_ctx(&c);
	data = random_data(3 * 8192 + 10, 4);
	for (ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
		chunk = chunks[ci];
		nlens = 0;
		for (len = 0; len < 20; len++)
			lens[nlens++] = len;
		lens[nlens++] = chunk - 1;
		lens[nlens++] = chunk;
		lens[nlens++] = chunk + 1;
		lens[nlens++] = 2 * chunk - 1;
		lens[nlens++] = 2 * chunk;
		lens[nlens++] = 2 * chunk + 1;
		lens[nlens++] = 3 * chunk + 5;
		lens[nlens++] = 255;
		lens[nlens++] = 256;
		lens[nlens++] = 4097;
		for (li = 0; li < nlens; li++) {
			len = lens[li];
			ref_value(AC_CK_CRC32, data, len, v);
			encode(chunk, data, len, &rng, CK32, v, 0, &out);
			assert_true(aws_chunked_encoded_length(len, chunk,
			    CK32, strlen(v)) == out.len);
			encode(chunk, data, len, &rng, CK32, v, 1, &out2);
			assert_int_equal(out.len, out2.len);
			assert_memory_equal(out.data, out2.data, out.len);
			buf_fini(&out2);
			params(&p, &c, AC_UNSIGNED_TRAILER, CK32, len, NULL);
			check(NULL, &p, out.data, out.len, S3_OK, data, len,
			    NULL, len < 300 ? 3 : 2, &r);
			assert_string_equal(r.tvalue, v);
			buf_fini(&out);
			/* And without a trailer, the length still holds. */
			encode(chunk, data, len, &rng, NULL, NULL, 0, &out);
			assert_true(aws_chunked_encoded_length(len, chunk,
			    NULL, 0) == out.len);
			buf_fini(&out);
		}
	}
	free(data);
}

/* --- throughput ---------------------------------------------------- */

static int
count_emit(void *arg, const char *data, size_t len)
{
	uint64_t	*n = arg;

	(void)data;
	*n += len;
	return 0;
}

static double
time_decode(const struct ac_params *p, const struct buf *b, size_t piece_len,
    uint64_t want)
{
	struct ac_decoder	*d;
	uint64_t		 n = 0;
	size_t			 off, k;
	double			 t0, dt;

	t0 = now_s();
	d = aws_chunked_decoder_new(p, NULL, NULL);
	assert_non_null(d);
	for (off = 0; off < b->len; off += k) {
		k = b->len - off < piece_len ? b->len - off : piece_len;
		assert_int_equal(aws_chunked_decode(d, b->data + off, k,
		    count_emit, &n), 0);
	}
	assert_int_equal(aws_chunked_decode_finish(d), 0);
	aws_chunked_decoder_free(d);
	dt = now_s() - t0;
	assert_true(n == want);
	return (double)want / dt / 1e6;
}

static void
test_speed(void **state)
{
	struct ctx		 c;
	struct spec		 sp;
	struct tbody		 tb;
	struct ac_params	 p;
	struct buf		 enc;
	struct ac_encoder	*e;
	unsigned char		*data, be[4];
	size_t			 len = 64 << 20, off;
	double			 t0, dt;
	char			 v[16];

	(void)state;
	load_ctx(&c);
	data = random_data(len, 64);
	be_bytes(be, crc32_ieee(0, data, len), 4);
	b64(be, 4, v);

	memset(&sp, 0, sizeof(sp));
	sp.mode = AC_UNSIGNED_TRAILER;
	sp.data = data;
	sp.len = len;
	sp.chunk = 1 << 20;
	sp.tname = CK32;
	sp.tvalue = v;
	build(&tb, &sp, &c);
	params(&p, &c, AC_UNSIGNED_TRAILER, CK32, len, NULL);
	print_message("# decode unsigned, crc32, 1 MiB chunks, 64 KiB "
	    "pieces: %.0f MB/s\n", time_decode(&p, &tb.b, 65536, len));
	tbody_fini(&tb);

	sp.mode = AC_SIGNED_TRAILER;
	sp.tvalue = NULL;
	sp.tname = CK32C;
	be_bytes(be, crc32c(0, data, len), 4);
	b64(be, 4, v);
	sp.tvalue = v;
	build(&tb, &sp, &c);
	params(&p, &c, AC_SIGNED_TRAILER, CK32C, len, NULL);
	print_message("# decode signed, crc32c, 1 MiB chunks, 64 KiB "
	    "pieces: %.0f MB/s\n", time_decode(&p, &tb.b, 65536, len));
	print_message("# decode signed, crc32c, 1 MiB chunks, whole: "
	    "%.0f MB/s\n", time_decode(&p, &tb.b, tb.b.len, len));
	tbody_fini(&tb);

	sp.mode = AC_SIGNED;
	sp.tname = NULL;
	sp.tvalue = NULL;
	sp.chunk = 64 << 10;
	build(&tb, &sp, &c);
	params(&p, &c, AC_SIGNED, NULL, len, NULL);
	print_message("# decode signed, 64 KiB chunks, 16 KiB pieces: "
	    "%.0f MB/s\n", time_decode(&p, &tb.b, 16384, len));
	tbody_fini(&tb);

	buf_init(&enc);
	t0 = now_s();
	e = aws_chunked_encoder_new(1 << 20);
	assert_non_null(e);
	for (off = 0; off < len; off += 65536 - 7)
		assert_int_equal(aws_chunked_encode(e, (const char *)data +
		    off, len - off < 65536 - 7 ? len - off : 65536 - 7,
		    enc_emit, &enc), 0);
	assert_int_equal(aws_chunked_encode_finish(e, CK32, "AAAAAA==",
	    enc_emit, &enc), 0);
	dt = now_s() - t0;
	aws_chunked_encoder_free(e);
	assert_true(enc.len == aws_chunked_encoded_length(len, 1 << 20, CK32,
	    8));
	print_message("# encode, 1 MiB chunks, into a buffer: %.0f MB/s\n",
	    (double)len / dt / 1e6);
	buf_fini(&enc);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_aws_doc_signed),
		cmocka_unit_test(test_aws_doc_signed_trailer),
		cmocka_unit_test(test_crc64nvme),
		cmocka_unit_test(test_all_checksums),
		cmocka_unit_test(test_malformed_unsigned),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_malformed_signed),
		cmocka_unit_test(test_emit_signed),
		cmocka_unit_test(test_emit_unsigned),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_one_byte_chunks),
		cmocka_unit_test(test_8mib_chunk),
		cmocka_unit_test(test_encoder_literal),
		cmocka_unit_test(test_encoder_round_trip),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests_name("aws_chunked", tests, NULL, NULL);
}
