/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_aws_chunked: libFuzzer target for the aws-chunked decoder and
 * encoder (src/aws_chunked_decode.c, src/aws_chunked_encode.c), in every
 * mode, with the input cut at pseudo-random points.
 *
 * The input is an 8-byte header, then a body:
 *
 *   byte 0  bits 0-1: mode: 0 STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
 *           1 ...-PAYLOAD-TRAILER, 2 STREAMING-UNSIGNED-PAYLOAD-TRAILER,
 *           3 raw: an out-of-range mode; built: unsigned through the
 *           encoder.  bit 7: built (below); bit 6: built, then one byte
 *           flipped; bit 5: built with the length of bytes 4-7.
 *   byte 1  x-amz-trailer, mod 9: none, crc32, crc32c, crc64nvme, sha1,
 *           sha256, "X-Amz-Checksum-CRC32", "x-amz-checksum-md5", "".
 *   byte 2  max_chunk, mod 8: default, 1, 7, 64, 1024, 8192, 65536, 16
 *           (built: also the size of the chunks).
 *   byte 3  seeds the generator that cuts the input and picks the flip.
 *   4-7     x-amz-decoded-content-length, little-endian (all ones:
 *           UINT64_MAX).
 *
 * Raw (bit 7 clear): the body goes to the decoder as sent by a client,
 * with the signing key, date, scope and seed signatures of the AWS
 * examples in ../shared/testdata/s3-streaming-vectors.json, so the
 * examples rebuilt in the seed corpus verify.  It is decoded whole, in
 * random pieces and (when short) byte by byte: the verdict, the error and
 * the bytes emitted must not depend on the cut; never more than the
 * decoded length comes out, exactly that on success; an error sticks.
 *
 * Built (bit 7 set): the body is data.  The target frames it itself in the
 * chosen mode, signs each chunk and the trailer (AWS string to sign, made
 * here from sigv4.h primitives, not from aws_chunked_decode.c) or, in
 * mode 3, frames it with aws_chunked_encode() and checks
 * aws_chunked_encoded_length().  A correct body must decode to exactly the
 * data and trailer; with bit 5 a wrong decoded length must fail; with one
 * byte flipped (bit 6) the decoder may only accept when what it emits is
 * still exactly the data: corruption never passes.
 *
 * Deterministic: no I/O, no clock; the generator is seeded by the input.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws_chunked.h"
#include "crc.h"
#include "sigv4.h"

#define HDR		8
#define DATE		"20130524T000000Z"
#define SCOPE		"20130524/us-east-1/s3/aws4_request"
#define SECRET		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SEED_SIGNED	\
	"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SEED_TRAILER	\
	"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
#define BUILT_MAX	16384	/* data bytes framed by the target */
#define BUILT_MAX_SMALL	512	/* ... with chunks under 64 bytes */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned char key[SIGV4_KEY_LEN];

static const char *const trailers[] = {
	NULL, "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
	"x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
	"x-amz-checksum-sha256", "X-Amz-Checksum-CRC32",
	"x-amz-checksum-md5", ""
};
static const size_t max_chunks[] = { 0, 1, 7, 64, 1024, 8192, 65536, 16 };

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_aws_chunked: broken promise: %s\n",
		    what);
		abort();
	}
}

static uint64_t
next(uint64_t *s)
{
	uint64_t	 z;

	/* splitmix64 */
	z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A piece length: mostly small, sometimes large. */
static size_t
piece(uint64_t *s, size_t left)
{
	uint64_t	 r = next(s);
	size_t		 n;

	n = (size_t)(r >> 8) % (r & 1 ? 4096 : 17) + 1;
	return n < left ? n : left;
}

/* base64 of the big-endian digest of data, as the trailer carries it. */
static void
checksum(const char *name, const unsigned char *data, size_t len,
    char out[64])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	uint64_t	 c64;
	uint32_t	 c32;
	int		 i;

	if (strcmp(name, "x-amz-checksum-crc32") == 0 ||
	    strcmp(name, "x-amz-checksum-crc32c") == 0) {
		c32 = strcmp(name, "x-amz-checksum-crc32") == 0 ?
		    crc32_ieee(0, data, len) : crc32c(0, data, len);
		for (i = 0; i < 4; i++)
			md[i] = (unsigned char)(c32 >> (24 - 8 * i));
		mdlen = 4;
	} else if (strcmp(name, "x-amz-checksum-crc64nvme") == 0) {
		c64 = crc64_nvme(0, data, len);
		for (i = 0; i < 8; i++)
			md[i] = (unsigned char)(c64 >> (56 - 8 * i));
		mdlen = 8;
	} else
		must(EVP_Digest(data, len, md, &mdlen,
		    strcmp(name, "x-amz-checksum-sha1") == 0 ? EVP_sha1() :
		    EVP_sha256(), NULL) == 1, "digest");
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char body_crc32[] = "sK4Y7A==";
	static const char body_crc32c[] = "sOO8/Q==";
	unsigned char	*a;
	char		 v[64];

	sigv4_signing_key(key, SECRET, "20130524", "us-east-1", "s3");
	/* The checksums the built bodies rely on, against the vectors. */
	a = malloc(66560);
	must(a != NULL, "malloc");
	memset(a, 'a', 66560);
	checksum("x-amz-checksum-crc32", a, 66560, v);
	must(strcmp(v, body_crc32) == 0, "crc32 of the AWS example");
	checksum("x-amz-checksum-crc32c", a, 66560, v);
	must(strcmp(v, body_crc32c) == 0, "crc32c of the AWS example");
	must(crc64_nvme(0, "123456789", 9) == 0xae8b14860a799888u,
	    "crc64nvme check value");
	free(a);
	return 0;
}

/* --- one decode --------------------------------------------------------- */

struct outcome {
	int		 ok;		/* decode and finish both 0 */
	enum s3_err	 err;
	uint64_t	 emitted;
	uint64_t	 hash;		/* FNV-1a of the bytes emitted */
	unsigned char	*copy;		/* the bytes, when kept */
	size_t		 copy_len;
	size_t		 copy_cap;
	char		 tname[64];
	char		 tvalue[128];
};

static int
emit(void *arg, const char *data, size_t len)
{
	struct outcome	*o = arg;
	unsigned char	*np;
	size_t		 i;

	must(data != NULL && len > 0, "emit gets bytes");
	for (i = 0; i < len; i++)
		o->hash = (o->hash ^ (unsigned char)data[i]) *
		    0x100000001b3u;
	o->emitted += len;
	if (o->copy_cap > 0) {
		if (o->copy_len + len > o->copy_cap) {
			np = realloc(o->copy, o->copy_len + len);
			must(np != NULL, "realloc");
			o->copy = np;
			o->copy_cap = o->copy_len + len;
		}
		memcpy(o->copy + o->copy_len, data, len);
		o->copy_len += len;
	}
	return 0;
}

/* cut: 0 whole, 1 random pieces, 2 byte by byte.  Returns -1 when the
 * parameters were refused. */
static int
decode(const struct ac_params *p, const unsigned char *body, size_t len,
    int cut, uint64_t seed, int keep, struct outcome *o)
{
	struct ac_decoder	*d;
	enum s3_err		 err, again;
	const char		*msg, *n, *v;
	size_t			 off, k;
	int			 rc = 0;

	memset(o, 0, sizeof(*o));
	o->hash = 0xcbf29ce484222325u;
	if (keep) {
		o->copy_cap = len + 1;
		o->copy = malloc(o->copy_cap);
		must(o->copy != NULL, "malloc");
	}
	d = aws_chunked_decoder_new(p, &err, &msg);
	if (d == NULL) {
		must(err != S3_OK && msg != NULL, "a refusal says why");
		o->err = err;
		return -1;
	}
	for (off = 0; off < len && rc == 0; off += k) {
		k = cut == 0 ? len : cut == 2 ? 1 : piece(&seed, len - off);
		rc = aws_chunked_decode(d, (const char *)body + off, k, emit,
		    o);
	}
	if (rc == 0)
		rc = aws_chunked_decode_finish(d);
	o->ok = rc == 0;
	o->err = aws_chunked_decoder_error(d, &msg);
	if (o->ok) {
		must(o->err == S3_OK, "success has no error");
		must(o->emitted == aws_chunked_decoded(d), "decoded count");
		n = aws_chunked_trailer_name(d);
		v = aws_chunked_trailer_value(d);
		must((n == NULL) == (v == NULL), "trailer name and value");
		if (p->mode == AC_SIGNED)
			must(n == NULL, "no trailer without -TRAILER");
		else
			must(n != NULL, "a trailer with -TRAILER");
		if (n != NULL) {
			snprintf(o->tname, sizeof(o->tname), "%s", n);
			snprintf(o->tvalue, sizeof(o->tvalue), "%s", v);
		}
	} else {
		must(o->err != S3_OK && msg != NULL, "failure has an error");
		/* The first error sticks. */
		must(aws_chunked_decode(d, "0\r\n", 3, emit, o) == -1 &&
		    aws_chunked_decode_finish(d) == -1, "error is sticky");
		again = aws_chunked_decoder_error(d, NULL);
		must(again == o->err, "the same error again");
	}
	must(o->emitted <= p->decoded_length,
	    "never more than x-amz-decoded-content-length");
	if (o->ok)
		must(o->emitted == p->decoded_length,
		    "exactly x-amz-decoded-content-length");
	aws_chunked_decoder_free(d);
	return 0;
}

static void
same(const struct outcome *a, const struct outcome *b, const char *what)
{
	if (a->ok != b->ok || a->err != b->err || a->emitted != b->emitted ||
	    a->hash != b->hash || strcmp(a->tname, b->tname) != 0 ||
	    strcmp(a->tvalue, b->tvalue) != 0) {
		fprintf(stderr, "fuzz_aws_chunked: %s: ok %d/%d err %d/%d "
		    "emitted %llu/%llu\n", what, a->ok, b->ok, (int)a->err,
		    (int)b->err, (unsigned long long)a->emitted,
		    (unsigned long long)b->emitted);
		must(0, "the verdict does not depend on the cut");
	}
}

static void
params(struct ac_params *p, int mode, const char *trailer, uint64_t dlen,
    size_t max_chunk)
{
	memset(p, 0, sizeof(*p));
	p->mode = (enum ac_mode)mode;
	p->trailer = trailer;
	p->decoded_length = dlen;
	p->max_chunk = max_chunk;
	memcpy(p->signing_key, key, sizeof(key));
	p->amz_date = DATE;
	p->scope = SCOPE;
	p->seed_signature = mode == AC_SIGNED_TRAILER ? SEED_TRAILER :
	    SEED_SIGNED;
}

static void
raw(const uint8_t *h, const unsigned char *body, size_t len)
{
	struct ac_params	 p;
	struct outcome		 whole, cut;
	uint64_t		 dlen;
	int			 mode;

	mode = (h[0] & 3) == 3 ? 7 : h[0] & 3;
	dlen = (uint64_t)h[4] | (uint64_t)h[5] << 8 | (uint64_t)h[6] << 16 |
	    (uint64_t)h[7] << 24;
	if (dlen == 0xffffffffu)
		dlen = UINT64_MAX;
	params(&p, mode, trailers[h[1] % 9], dlen, max_chunks[h[2] % 8]);
	if (decode(&p, body, len, 0, 0, 0, &whole) == -1)
		return;
	decode(&p, body, len, 1, h[3], 0, &cut);
	same(&whole, &cut, "whole vs random pieces");
	if (len <= 2048) {
		decode(&p, body, len, 2, 0, 0, &cut);
		same(&whole, &cut, "whole vs byte by byte");
	}
}

/* --- built bodies ------------------------------------------------------- */

struct out {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static void
add(struct out *o, const void *p, size_t n)
{
	unsigned char	*np;
	size_t		 cap;

	if (n > o->cap - o->len) {
		cap = o->cap > 0 ? o->cap : 256;
		while (cap - o->len < n)
			cap *= 2;
		np = realloc(o->p, cap);
		must(np != NULL, "realloc");
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
adds(struct out *o, const char *s)
{
	add(o, s, strlen(s));
}

static int
add_emit(void *arg, const char *data, size_t len)
{
	add(arg, data, len);
	return 0;
}

/* AWS4-HMAC-SHA256-PAYLOAD / -TRAILER string to sign, signed; the result
 * becomes prev. */
static void
sign(const char *alg, char prev[SIGV4_HEX_LEN + 1], const char *hash)
{
	char	 sts[512], sig[SIGV4_HEX_LEN + 1];
	int	 n;

	if (strcmp(alg, "AWS4-HMAC-SHA256-PAYLOAD") == 0)
		n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s\n%s", alg,
		    DATE, SCOPE, prev, SIGV4_EMPTY_SHA256, hash);
	else
		n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s", alg,
		    DATE, SCOPE, prev, hash);
	must(n > 0 && (size_t)n < sizeof(sts), "string to sign fits");
	sigv4_sign(sig, key, sts, (size_t)n);
	memcpy(prev, sig, sizeof(sig));
}

static void
chunk(struct out *o, int mode, char prev[SIGV4_HEX_LEN + 1],
    const unsigned char *data, size_t n)
{
	char	 line[128], hash[SIGV4_HEX_LEN + 1];

	if (mode == AC_UNSIGNED_TRAILER)
		snprintf(line, sizeof(line), "%zx\r\n", n);
	else {
		sigv4_sha256_hex(hash, data, n);
		sign("AWS4-HMAC-SHA256-PAYLOAD", prev, hash);
		snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", n,
		    prev);
	}
	adds(o, line);
	if (n > 0) {
		add(o, data, n);
		adds(o, "\r\n");
	}
}

static void
built(const uint8_t *h, const unsigned char *data, size_t len)
{
	struct ac_params	 p;
	struct ac_encoder	*e;
	struct outcome		 res;
	struct out		 body = { 0 };
	const char		*tname;
	char			 prev[SIGV4_HEX_LEN + 1], value[64];
	char			 text[256], hash[SIGV4_HEX_LEN + 1];
	uint64_t		 seed = h[3], dlen;
	size_t			 csize, off, n;
	int			 mode, sel, flip, wrong_len;

	value[0] = '\0';
	text[0] = '\0';
	mode = h[0] & 3;
	flip = (h[0] & 0x40) != 0;
	wrong_len = (h[0] & 0x20) != 0;
	sel = h[2] % 8;
	csize = sel == 0 ? 8192 : max_chunks[sel];
	if (len > (csize < 64 ? BUILT_MAX_SMALL : BUILT_MAX))
		len = csize < 64 ? BUILT_MAX_SMALL : BUILT_MAX;
	/* The trailer: a known checksum, as the SDKs send it. */
	tname = trailers[1 + h[1] % 5];
	if (mode == AC_SIGNED)
		tname = NULL;
	else
		checksum(tname, data, len, value);

	memcpy(prev, mode == AC_SIGNED_TRAILER ? SEED_TRAILER : SEED_SIGNED,
	    sizeof(prev));
	if (mode == 3) {
		e = aws_chunked_encoder_new(csize);
		must(e != NULL, "encoder");
		for (off = 0; off < len; off += n) {
			n = piece(&seed, len - off);
			must(aws_chunked_encode(e, (const char *)data + off, n,
			    add_emit, &body) == 0, "encode");
		}
		must(aws_chunked_encode_finish(e, tname, value, add_emit,
		    &body) == 0, "encode_finish");
		aws_chunked_encoder_free(e);
		must(body.len == aws_chunked_encoded_length(len, csize, tname,
		    strlen(value)), "aws_chunked_encoded_length is exact");
		mode = AC_UNSIGNED_TRAILER;
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < csize ? len - off : csize;
			chunk(&body, mode, prev, data + off, n);
		}
		chunk(&body, mode, prev, NULL, 0);
		if (mode != AC_SIGNED) {
			snprintf(text, sizeof(text), "%s:%s\n", tname, value);
			adds(&body, tname);
			adds(&body, ":");
			adds(&body, value);
			adds(&body, "\r\n");
		}
		if (mode == AC_SIGNED_TRAILER) {
			sigv4_sha256_hex(hash, text, strlen(text));
			sign("AWS4-HMAC-SHA256-TRAILER", prev, hash);
			adds(&body, "x-amz-trailer-signature:");
			adds(&body, prev);
			adds(&body, "\r\n");
		}
		adds(&body, "\r\n");
	}

	dlen = len;
	if (wrong_len)
		dlen = (uint64_t)h[4] | (uint64_t)h[5] << 8 |
		    (uint64_t)h[6] << 16 | (uint64_t)h[7] << 24;
	if (flip)
		body.p[next(&seed) % body.len] ^=
		    (unsigned char)(1 + next(&seed) % 255);
	params(&p, mode, tname, dlen, sel == 0 ? 0 : csize);
	must(decode(&p, body.p, body.len, 1, seed, 1, &res) == 0,
	    "consistent parameters are taken");
	if (res.ok) {
		must(res.emitted == len && res.copy_len == len &&
		    (len == 0 || memcmp(res.copy, data, len) == 0),
		    "what is accepted is exactly the data sent");
		if (tname != NULL)
			must(strcmp(res.tname, tname) == 0 &&
			    strcmp(res.tvalue, value) == 0,
			    "the trailer as sent");
	}
	if (!flip)
		must(res.ok == (dlen == len),
		    "a well-made body decodes, with its length only");
	free(res.copy);
	free(body.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR)
		return 0;
	if (data[0] & 0x80)
		built(data, data + HDR, size - HDR);
	else
		raw(data, data + HDR, size - HDR);
	return 0;
}
