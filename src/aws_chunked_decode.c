/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_chunked_decode: the S3 streaming payload decoded and checked as it
 * arrives (see aws_chunked.h).  The encoder is aws_chunked_encode.c.
 *
 * The framing and signatures follow the Amazon S3 API Reference,
 * "Signature Calculations for the Authorization Header: Transferring
 * Payload in Multiple Chunks (Chunked Upload) (AWS Signature Version 4)"
 * and its trailing-headers variant; the checksums the S3 User Guide,
 * "Checking object integrity" (base64 of the big-endian digest).
 *
 * The decoder is a state machine that takes any number of bytes at a
 * time.  Chunk header and trailer lines are gathered in one line buffer of
 * AC_MAX_LINE bytes (CRLF included) and parsed only once complete, so a
 * verdict never depends on where the input was cut.  Chunk data moves in
 * runs, never byte by byte.  Unsigned, data goes out as it arrives and
 * the trailer checksum is the integrity check.  Signed, a chunk is hashed
 * as it arrives and held (one chunk, at most max_chunk bytes) until its
 * last byte, then its signature is checked and only then is it emitted;
 * a chunk that arrives whole in one piece is emitted from the caller's
 * buffer without a copy.  (The CRLF after the data is checked next: the
 * signature covers the data, not the framing.)  max_chunk bounds chunks in
 * every mode.  No byte beyond x-amz-decoded-content-length is ever
 * emitted: a chunk that would exceed it is refused at its header.  The
 * signed trailer text is the declared name in lower case, ':', the value
 * without the blanks around it, '\n'.
 *
 * Lenient where real SDKs differ and integrity does not suffer: hex sizes
 * in either case and with leading zeros; no 8 KiB minimum chunk size;
 * blanks around a trailer value; in STREAMING-AWS4-HMAC-SHA256-PAYLOAD the
 * empty line after the final chunk may be missing; one extra CRLF after
 * the end.  Strict where integrity matters: CRLF line ends; the only chunk
 * extension is chunk-signature, and only when signed; exactly one
 * trailer, the one x-amz-trailer declares; exact signatures (compared in
 * constant time) and checksums.
 *
 * No globals but const tables; each decoder has one owner.
 * The copied signing key is wiped when the decoder is freed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ascii.h"
#include "aws_chunked.h"
#include "crc.h"
#include "hex.h"

#define CHUNK_ALG	"AWS4-HMAC-SHA256-PAYLOAD"
#define TRAILER_ALG	"AWS4-HMAC-SHA256-TRAILER"
#define TRAILER_SIG	"x-amz-trailer-signature"
#define CHUNK_SIG_EXT	"chunk-signature="
#define CK_NAME_MAX	32	/* longest checksum name, and NUL */
#define CK_VALUE_MAX	64	/* longer than any base64 digest */

enum state {
	ST_HEADER,	/* a chunk header line */
	ST_DATA,	/* chunk data: remaining bytes to come */
	ST_DATA_CR,	/* the CRLF after chunk data */
	ST_DATA_LF,
	ST_END,		/* AC_SIGNED: the empty line after chunk 0 */
	ST_TRAILER,	/* trailer lines, up to an empty line */
	ST_DONE,	/* complete; one more CRLF is tolerated */
	ST_DONE_LF,
	ST_CLOSED,	/* complete, extra CRLF seen: nothing may follow */
	ST_ERROR
};

static const struct {
	const char	*name;
	enum ac_checksum ck;
	size_t		 b64_len;
} checksums[] = {
	{ "x-amz-checksum-crc32",	AC_CK_CRC32,		8 },
	{ "x-amz-checksum-crc32c",	AC_CK_CRC32C,		8 },
	{ "x-amz-checksum-crc64nvme",	AC_CK_CRC64NVME,	12 },
	{ "x-amz-checksum-sha1",	AC_CK_SHA1,		28 },
	{ "x-amz-checksum-sha256",	AC_CK_SHA256,		44 },
};

#define N_CHECKSUMS	(sizeof(checksums) / sizeof(checksums[0]))

struct ac_decoder {
	enum ac_mode	 mode;
	enum state	 state;
	enum s3_err	 err;
	const char	*msg;

	uint64_t	 decoded_length;	/* promised by the client */
	uint64_t	 announced;		/* chunk sizes so far */
	uint64_t	 emitted;
	size_t		 max_chunk;
	int		 stream;		/* emit before the check */
	size_t		 chunk_len;		/* the current chunk */
	size_t		 remaining;		/* its bytes to come */

	char		 line[AC_MAX_LINE];	/* no CRLF, NUL added */
	size_t		 line_len;

	/* Signed modes. */
	unsigned char	 key[SIGV4_KEY_LEN];
	char		 prev_sig[SIGV4_HEX_LEN + 1];
	char		 chunk_sig[SIGV4_HEX_LEN + 1];
	char		*scope_part;		/* "date\nscope\n" */
	size_t		 scope_part_len;
	char		*sts;			/* string to sign */
	size_t		 sts_cap;
	EVP_MD_CTX	*chunk_md;		/* SHA-256 of the chunk */
	char		*hold;			/* chunk, until verified */
	size_t		 hold_len;
	size_t		 hold_cap;

	/* The trailer and its checksum over the decoded bytes. */
	enum ac_checksum ck;
	char		 ck_name[CK_NAME_MAX];	/* declared, lower */
	uint32_t	 crc32;
	uint64_t	 crc64;
	EVP_MD_CTX	*ck_md;			/* SHA-1, SHA-256 */
	char		 ck_value[CK_VALUE_MAX + 1]; /* as received */
	int		 have_value;
	char		 trailer_sig[SIGV4_HEX_LEN + 1];
	int		 have_trailer_sig;
	int		 trailer_ok;
};

/* --- small helpers ---------------------------------------------------- */

/* Table index of a checksum header name (any case), or -1. */
static int
checksum_index(const char *name, size_t len)
{
	size_t	 i, k;

	for (i = 0; i < N_CHECKSUMS; i++) {
		if (strlen(checksums[i].name) != len)
			continue;
		for (k = 0; k < len; k++)
			if (ascii_lower((unsigned char)name[k]) !=
			    (unsigned char)checksums[i].name[k])
				break;
		if (k == len)
			return (int)i;
	}
	return -1;
}

static size_t
put(char *dst, size_t off, const char *s, size_t len)
{
	memcpy(dst + off, s, len);
	return off + len;
}

/* --- mode and checksum names ------------------------------------------ */

int
aws_chunked_mode(const char *content_sha256, enum ac_mode *mode)
{
	enum ac_mode	 m;

	if (content_sha256 == NULL)
		return -1;
	if (strcmp(content_sha256, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0)
		m = AC_SIGNED;
	else if (strcmp(content_sha256,
	    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0)
		m = AC_SIGNED_TRAILER;
	else if (strcmp(content_sha256,
	    "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0)
		m = AC_UNSIGNED_TRAILER;
	else
		return -1;
	if (mode != NULL)
		*mode = m;
	return 0;
}

enum ac_checksum
aws_chunked_checksum(const char *trailer_name)
{
	int	 i;

	if (trailer_name == NULL)
		return AC_CK_NONE;
	i = checksum_index(trailer_name, strlen(trailer_name));
	return i == -1 ? AC_CK_NONE : checksums[i].ck;
}

size_t
aws_chunked_checksum_b64_len(enum ac_checksum ck)
{
	size_t	 i;

	for (i = 0; i < N_CHECKSUMS; i++)
		if (checksums[i].ck == ck)
			return checksums[i].b64_len;
	return 0;
}

/* --- decoder: errors, checksum, signatures ---------------------------- */

/* The first error sticks: every later call answers it again. */
static int
reject(struct ac_decoder *d, enum s3_err err, const char *msg)
{
	d->state = ST_ERROR;
	d->err = err;
	d->msg = msg;
	return -1;
}

static int
ck_update(struct ac_decoder *d, const char *p, size_t n)
{
	switch (d->ck) {
	case AC_CK_CRC32:
		d->crc32 = crc32_ieee(d->crc32, p, n);
		break;
	case AC_CK_CRC32C:
		d->crc32 = crc32c(d->crc32, p, n);
		break;
	case AC_CK_CRC64NVME:
		d->crc64 = crc64_nvme(d->crc64, p, n);
		break;
	case AC_CK_SHA1:
	case AC_CK_SHA256:
		if (EVP_DigestUpdate(d->ck_md, p, n) != 1)
			return -1;
		break;
	case AC_CK_NONE:
		break;
	}
	return 0;
}

/* base64 of the big-endian digest into out (CK_VALUE_MAX + 1 bytes). */
static int
ck_final(struct ac_decoder *d, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;
	int		 i;

	switch (d->ck) {
	case AC_CK_CRC32:
	case AC_CK_CRC32C:
		for (i = 0; i < 4; i++)
			md[i] = (unsigned char)(d->crc32 >> (24 - 8 * i));
		len = 4;
		break;
	case AC_CK_CRC64NVME:
		for (i = 0; i < 8; i++)
			md[i] = (unsigned char)(d->crc64 >> (56 - 8 * i));
		len = 8;
		break;
	case AC_CK_SHA1:
	case AC_CK_SHA256:
		if (EVP_DigestFinal_ex(d->ck_md, md, &len) != 1)
			return -1;
		break;
	case AC_CK_NONE:
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)out, md, (int)len);
	return 0;
}

/*
 * alg "\n" date "\n" scope "\n" prev "\n" [hash1 "\n"] hash2 into d->sts;
 * returns its length.  sts_cap was sized for the longest at creation.
 */
static size_t
string_to_sign(struct ac_decoder *d, const char *alg, const char *hash1,
    const char *hash2)
{
	size_t	 off = 0;

	off = put(d->sts, off, alg, strlen(alg));
	off = put(d->sts, off, "\n", 1);
	off = put(d->sts, off, d->scope_part, d->scope_part_len);
	off = put(d->sts, off, d->prev_sig, SIGV4_HEX_LEN);
	off = put(d->sts, off, "\n", 1);
	if (hash1 != NULL) {
		off = put(d->sts, off, hash1, SIGV4_HEX_LEN);
		off = put(d->sts, off, "\n", 1);
	}
	off = put(d->sts, off, hash2, SIGV4_HEX_LEN);
	return off;
}

/* The chunk signature over hex(sha256(data)); on success it becomes the
 * previous signature of the next chunk (or of the trailer). */
static int
check_chunk_sig(struct ac_decoder *d, const char *data_sha256)
{
	char	 expect[SIGV4_HEX_LEN + 1];
	size_t	 len;

	len = string_to_sign(d, CHUNK_ALG, SIGV4_EMPTY_SHA256, data_sha256);
	sigv4_sign(expect, d->key, d->sts, len);
	if (!sigv4_equal(expect, d->chunk_sig))
		return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
		    "The chunk signature does not match");
	memcpy(d->prev_sig, d->chunk_sig, sizeof(d->prev_sig));
	return 0;
}

/* Verified bytes to the checksum and to the caller. */
static int
deliver(struct ac_decoder *d, const char *p, size_t n, ac_emit_fn emit,
    void *arg)
{
	if (n == 0)
		return 0;
	if (ck_update(d, p, n) == -1)
		return reject(d, S3_ERR_INTERNAL_ERROR, "Checksum failure");
	if (emit != NULL && emit(arg, p, n) != 0)
		return reject(d, S3_ERR_INTERNAL_ERROR,
		    "The decoded data could not be passed on");
	d->emitted += n;
	return 0;
}

/* --- decoder: lines --------------------------------------------------- */

/*
 * Gather a line into d->line.  Returns 1 when it is complete (CRLF
 * stripped, NUL-terminated, length in line_len), 0 when more input is
 * needed, -1 on error; *used says how much of in was taken.  The length
 * limit counts every byte before the LF, so where the input was cut does
 * not matter.
 */
static int
take_line(struct ac_decoder *d, const char *in, size_t len, size_t *used)
{
	const char	*lf;
	size_t		 n;

	lf = memchr(in, '\n', len);
	n = lf != NULL ? (size_t)(lf - in) : len;
	if (n > sizeof(d->line) - 1 - d->line_len)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "An aws-chunked header or trailer line is too long");
	memcpy(d->line + d->line_len, in, n);
	d->line_len += n;
	if (lf == NULL) {
		*used = len;
		return 0;
	}
	*used = n + 1;
	if (d->line_len == 0 || d->line[d->line_len - 1] != '\r') {
		if (d->state == ST_HEADER)
			return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
			    "A chunk header does not end with CRLF");
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "An aws-chunked trailer line does not end with CRLF");
	}
	d->line_len--;
	d->line[d->line_len] = '\0';
	return 1;
}

/* The zero-size chunk: the end of the data. */
static int
final_chunk(struct ac_decoder *d)
{
	if (d->mode != AC_UNSIGNED_TRAILER &&
	    check_chunk_sig(d, SIGV4_EMPTY_SHA256) == -1)
		return -1;
	if (d->announced != d->decoded_length)
		return reject(d, S3_ERR_INVALID_REQUEST, "The aws-chunked body "
		    "is shorter than x-amz-decoded-content-length");
	d->state = d->mode == AC_SIGNED ? ST_END : ST_TRAILER;
	return 0;
}

/* "hex-size" CRLF, or "hex-size;chunk-signature=SIG" CRLF when signed. */
static int
parse_header(struct ac_decoder *d)
{
	const char	*p = d->line;
	const char	*end = d->line + d->line_len;
	const size_t	 ext_len = sizeof(CHUNK_SIG_EXT) - 1;
	uint64_t	 size = 0;
	int		 v;

	for (; p < end; p++) {
		v = hex_value((unsigned char)*p);
		if (v == -1)
			break;
		if (size > (UINT64_MAX >> 4))
			return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
			    "A chunk is larger than allowed");
		size = size * 16 + (uint64_t)v;
		if (size > d->max_chunk)
			return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
			    "A chunk is larger than allowed");
	}
	if (p == d->line)
		return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
		    "A chunk size is not hexadecimal");
	if (p < end && *p != ';')
		return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
		    "A chunk size is followed by garbage");
	if (d->mode == AC_UNSIGNED_TRAILER) {
		if (p < end)
			return reject(d, S3_ERR_INVALID_REQUEST,
			    "Chunk extensions in an unsigned payload");
	} else {
		if (p == end)
			return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
			    "A chunk signature is missing");
		p++;
		if ((size_t)(end - p) < ext_len ||
		    memcmp(p, CHUNK_SIG_EXT, ext_len) != 0)
			return reject(d, S3_ERR_INVALID_REQUEST,
			    "Unexpected chunk extension");
		p += ext_len;
		if (end - p != SIGV4_HEX_LEN ||
		    hex_span(p, SIGV4_HEX_LEN) != SIGV4_HEX_LEN)
			return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
			    "A chunk signature is malformed");
		memcpy(d->chunk_sig, p, SIGV4_HEX_LEN);
		d->chunk_sig[SIGV4_HEX_LEN] = '\0';
	}
	if (size > d->decoded_length - d->announced)
		return reject(d, S3_ERR_INVALID_REQUEST, "The aws-chunked body "
		    "is longer than x-amz-decoded-content-length");
	d->announced += size;
	d->chunk_len = (size_t)size;
	d->remaining = (size_t)size;
	if (size == 0)
		return final_chunk(d);
	if (d->mode != AC_UNSIGNED_TRAILER) {
		if (!d->stream && d->hold_cap < d->chunk_len) {
			free(d->hold);
			d->hold_cap = 0;
			d->hold = malloc(d->chunk_len);
			if (d->hold == NULL)
				return reject(d, S3_ERR_INTERNAL_ERROR,
				    "Out of memory");
			d->hold_cap = d->chunk_len;
		}
		d->hold_len = 0;
		if (EVP_DigestInit_ex(d->chunk_md, EVP_sha256(), NULL) != 1)
			return reject(d, S3_ERR_INTERNAL_ERROR,
			    "SHA-256 failure");
	}
	d->state = ST_DATA;
	return 0;
}

/* "name:value", name any case, value with optional blanks around. */
static int
parse_trailer_line(struct ac_decoder *d)
{
	char		*name = d->line;
	char		*end = d->line + d->line_len;
	char		*colon, *v, *ve, *q;
	size_t		 nlen, vlen;

	colon = memchr(name, ':', d->line_len);
	if (colon == NULL || colon == name)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "A malformed aws-chunked trailer line");
	for (q = name; q < colon; q++) {
		if (!ascii_is_tchar((unsigned char)*q))
			return reject(d, S3_ERR_INVALID_REQUEST,
			    "A malformed aws-chunked trailer line");
		*q = (char)ascii_lower((unsigned char)*q);
	}
	nlen = (size_t)(colon - name);
	v = colon + 1;
	while (v < end && ascii_is_ows((unsigned char)*v))
		v++;
	ve = end;
	while (ve > v && ascii_is_ows((unsigned char)ve[-1]))
		ve--;
	for (q = v; q < ve; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			return reject(d, S3_ERR_INVALID_REQUEST,
			    "A malformed aws-chunked trailer line");
	vlen = (size_t)(ve - v);

	if (nlen == sizeof(TRAILER_SIG) - 1 &&
	    memcmp(name, TRAILER_SIG, nlen) == 0) {
		if (d->mode != AC_SIGNED_TRAILER)
			return reject(d, S3_ERR_INVALID_REQUEST, "A trailer "
			    "signature in a payload without one");
		if (d->have_trailer_sig)
			return reject(d, S3_ERR_INVALID_REQUEST,
			    "The trailer signature came twice");
		if (vlen != SIGV4_HEX_LEN || hex_span(v, vlen) != vlen)
			return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
			    "The trailer signature is malformed");
		memcpy(d->trailer_sig, v, vlen);
		d->trailer_sig[vlen] = '\0';
		d->have_trailer_sig = 1;
		return 0;
	}
	if (d->have_trailer_sig)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "A trailer came after the trailer signature");
	if (nlen != strlen(d->ck_name) || memcmp(name, d->ck_name, nlen) != 0) {
		if (checksum_index(name, nlen) != -1)
			return reject(d, S3_ERR_INVALID_REQUEST, "The checksum "
			    "trailer is not the one x-amz-trailer declares");
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "A trailer that x-amz-trailer does not declare");
	}
	if (d->have_value)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "The checksum trailer came twice");
	if (vlen > CK_VALUE_MAX)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "The checksum trailer's value is malformed");
	memcpy(d->ck_value, v, vlen);
	d->ck_value[vlen] = '\0';
	d->have_value = 1;
	return 0;
}

/* The empty line after the trailers: every trailer check. */
static int
end_trailer(struct ac_decoder *d)
{
	char	 text[CK_NAME_MAX + CK_VALUE_MAX + 2];
	char	 hash[SIGV4_HEX_LEN + 1], expect[SIGV4_HEX_LEN + 1];
	char	 value[CK_VALUE_MAX + 1];
	size_t	 len;

	if (!d->have_value)
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "The trailer x-amz-trailer declares is missing");
	if (d->mode == AC_SIGNED_TRAILER) {
		if (!d->have_trailer_sig)
			return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
			    "The trailer signature is missing");
		/* The signed trailer text: each trailer "name:value\n". */
		len = put(text, 0, d->ck_name, strlen(d->ck_name));
		len = put(text, len, ":", 1);
		len = put(text, len, d->ck_value, strlen(d->ck_value));
		len = put(text, len, "\n", 1);
		sigv4_sha256_hex(hash, text, len);
		len = string_to_sign(d, TRAILER_ALG, NULL, hash);
		sigv4_sign(expect, d->key, d->sts, len);
		if (!sigv4_equal(expect, d->trailer_sig))
			return reject(d, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
			    "The trailer signature does not match");
	}
	if (strlen(d->ck_value) != aws_chunked_checksum_b64_len(d->ck))
		return reject(d, S3_ERR_INVALID_REQUEST,
		    "The checksum trailer's value is malformed");
	if (ck_final(d, value) == -1)
		return reject(d, S3_ERR_INTERNAL_ERROR, "Checksum failure");
	if (strcmp(value, d->ck_value) != 0)
		return reject(d, S3_ERR_BAD_DIGEST, "The checksum in the "
		    "trailer does not match the data received");
	d->trailer_ok = 1;
	d->state = ST_DONE;
	return 0;
}

static int
line_done(struct ac_decoder *d)
{
	int	 r = -1;

	switch (d->state) {
	case ST_HEADER:
		r = parse_header(d);
		break;
	case ST_END:
		if (d->line_len == 0) {
			d->state = ST_DONE;
			r = 0;
		} else
			r = reject(d, S3_ERR_INVALID_REQUEST,
			    "Unexpected data after the final chunk");
		break;
	case ST_TRAILER:
		if (d->line_len == 0)
			r = end_trailer(d);
		else
			r = parse_trailer_line(d);
		break;
	default:
		r = reject(d, S3_ERR_INTERNAL_ERROR, "aws_chunked: bad state");
		break;
	}
	d->line_len = 0;
	return r;
}

/* --- decoder: data ---------------------------------------------------- */

static int
take_data(struct ac_decoder *d, const char *in, size_t len, size_t *used,
    ac_emit_fn emit, void *arg)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hash[SIGV4_HEX_LEN + 1];
	const char	*src = in;
	size_t		 n;

	n = len < d->remaining ? len : d->remaining;
	*used = n;
	d->remaining -= n;
	if (d->mode == AC_UNSIGNED_TRAILER) {
		if (deliver(d, in, n, emit, arg) == -1)
			return -1;
	} else {
		if (EVP_DigestUpdate(d->chunk_md, in, n) != 1)
			return reject(d, S3_ERR_INTERNAL_ERROR,
			    "SHA-256 failure");
		if (d->stream) {
			if (deliver(d, in, n, emit, arg) == -1)
				return -1;
		} else if (d->hold_len == 0 && d->remaining == 0)
			src = in;	/* the whole chunk: no copy */
		else {
			memcpy(d->hold + d->hold_len, in, n);
			d->hold_len += n;
			src = d->hold;
		}
		if (d->remaining == 0) {
			if (EVP_DigestFinal_ex(d->chunk_md, md, &mdlen) != 1 ||
			    mdlen != SIGV4_HEX_LEN / 2)
				return reject(d, S3_ERR_INTERNAL_ERROR,
				    "SHA-256 failure");
			hex_encode(hash, md, mdlen);
			if (check_chunk_sig(d, hash) == -1)
				return -1;
			d->hold_len = 0;
			if (!d->stream &&
			    deliver(d, src, d->chunk_len, emit, arg) == -1)
				return -1;
		}
	}
	if (d->remaining == 0)
		d->state = ST_DATA_CR;
	return 0;
}

/* The CRLF after data, and the optional CRLF after the end. */
static int
take_byte(struct ac_decoder *d, char c)
{
	switch (d->state) {
	case ST_DATA_CR:
	case ST_DATA_LF:
		if (c != (d->state == ST_DATA_CR ? '\r' : '\n'))
			return reject(d, S3_ERR_INVALID_CHUNK_SIZE,
			    "Chunk data is not followed by CRLF");
		d->state = d->state == ST_DATA_CR ? ST_DATA_LF : ST_HEADER;
		return 0;
	case ST_DONE:
	case ST_DONE_LF:
		if (c != (d->state == ST_DONE ? '\r' : '\n'))
			break;
		d->state = d->state == ST_DONE ? ST_DONE_LF : ST_CLOSED;
		return 0;
	default:
		break;
	}
	return reject(d, S3_ERR_INVALID_REQUEST,
	    "Data after the end of the aws-chunked body");
}

/* --- decoder: public -------------------------------------------------- */

struct ac_decoder *
aws_chunked_decoder_new(const struct ac_params *p, enum s3_err *err,
    const char **msg)
{
	struct ac_decoder	*d = NULL;
	enum s3_err		 e = S3_ERR_INTERNAL_ERROR;
	const char		*m = "Out of memory";
	const char		*t = NULL;
	size_t			 tlen = 0, dlen, slen, i;
	int			 ci;

	if (p == NULL) {
		m = "aws_chunked: no parameters";
		goto fail;
	}
	if (p->mode != AC_SIGNED && p->mode != AC_SIGNED_TRAILER &&
	    p->mode != AC_UNSIGNED_TRAILER) {
		m = "aws_chunked: unknown mode";
		goto fail;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto fail;
	d->mode = p->mode;
	d->state = ST_HEADER;
	d->decoded_length = p->decoded_length;
	d->max_chunk = p->max_chunk != 0 ? p->max_chunk : AC_MAX_CHUNK_DEFAULT;
	d->stream = p->stream;

	/*
	 * x-amz-trailer: one known checksum name, any case, nothing around
	 * it (the HTTP layer trims blanks), exactly as aws_chunked_checksum()
	 * reads it, so that callers sizing the re-encoded body with it agree.
	 */
	if (p->trailer != NULL) {
		t = p->trailer;
		tlen = strlen(t);
	}
	e = S3_ERR_INVALID_REQUEST;
	if (tlen > 0) {
		ci = checksum_index(t, tlen);
		if (ci == -1) {
			m = "x-amz-trailer names no supported checksum";
			goto fail;
		}
		d->ck = checksums[ci].ck;
		for (i = 0; i < tlen; i++)
			d->ck_name[i] = (char)ascii_lower((unsigned char)t[i]);
		d->ck_name[tlen] = '\0';
	}
	if (d->mode == AC_SIGNED && d->ck != AC_CK_NONE) {
		m = "x-amz-trailer needs a -TRAILER x-amz-content-sha256";
		goto fail;
	}
	if (d->mode != AC_SIGNED && d->ck == AC_CK_NONE) {
		m = "This x-amz-content-sha256 needs x-amz-trailer";
		goto fail;
	}

	if (d->mode != AC_UNSIGNED_TRAILER) {
		if (p->amz_date == NULL || p->scope == NULL ||
		    p->seed_signature == NULL || *p->amz_date == '\0' ||
		    *p->scope == '\0' ||
		    !sigv4_is_hex_hash(p->seed_signature)) {
			m = "A signed aws-chunked payload needs a verified "
			    "request signature";
			goto fail;
		}
		e = S3_ERR_INTERNAL_ERROR;
		m = "Out of memory";
		memcpy(d->key, p->signing_key, sizeof(d->key));
		memcpy(d->prev_sig, p->seed_signature, SIGV4_HEX_LEN);
		d->prev_sig[SIGV4_HEX_LEN] = '\0';
		dlen = strlen(p->amz_date);
		slen = strlen(p->scope);
		d->scope_part_len = dlen + 1 + slen + 1;
		d->scope_part = malloc(d->scope_part_len);
		if (d->scope_part == NULL)
			goto fail;
		i = put(d->scope_part, 0, p->amz_date, dlen);
		i = put(d->scope_part, i, "\n", 1);
		i = put(d->scope_part, i, p->scope, slen);
		put(d->scope_part, i, "\n", 1);
		/* alg \n scope_part prev \n hash \n hash */
		d->sts_cap = sizeof(CHUNK_ALG) + d->scope_part_len +
		    3 * (SIGV4_HEX_LEN + 1);
		d->sts = malloc(d->sts_cap);
		d->chunk_md = EVP_MD_CTX_new();
		if (d->sts == NULL || d->chunk_md == NULL)
			goto fail;
	}
	e = S3_ERR_INTERNAL_ERROR;
	m = "Out of memory";
	if (d->ck == AC_CK_SHA1 || d->ck == AC_CK_SHA256) {
		d->ck_md = EVP_MD_CTX_new();
		if (d->ck_md == NULL)
			goto fail;
		if (EVP_DigestInit_ex(d->ck_md, d->ck == AC_CK_SHA1 ?
		    EVP_sha1() : EVP_sha256(), NULL) != 1) {
			m = "Digest failure";
			goto fail;
		}
	}
	if (err != NULL)
		*err = S3_OK;
	if (msg != NULL)
		*msg = NULL;
	return d;
fail:
	aws_chunked_decoder_free(d);
	if (err != NULL)
		*err = e;
	if (msg != NULL)
		*msg = m;
	return NULL;
}

void
aws_chunked_decoder_free(struct ac_decoder *d)
{
	if (d == NULL)
		return;
	OPENSSL_cleanse(d->key, sizeof(d->key));
	EVP_MD_CTX_free(d->chunk_md);
	EVP_MD_CTX_free(d->ck_md);
	free(d->hold);
	free(d->sts);
	free(d->scope_part);
	free(d);
}

int
aws_chunked_decode(struct ac_decoder *d, const char *in, size_t len,
    ac_emit_fn emit, void *arg)
{
	size_t	 used;
	int	 r;

	if (d == NULL)
		return -1;
	if (d->state == ST_ERROR)
		return -1;
	if (in == NULL && len > 0)
		return reject(d, S3_ERR_INTERNAL_ERROR,
		    "aws_chunked: no input");
	while (len > 0) {
		used = 0;
		switch (d->state) {
		case ST_HEADER:
		case ST_END:
		case ST_TRAILER:
			r = take_line(d, in, len, &used);
			if (r == 1)
				r = line_done(d);
			break;
		case ST_DATA:
			r = take_data(d, in, len, &used, emit, arg);
			break;
		case ST_DATA_CR:
		case ST_DATA_LF:
		case ST_DONE:
		case ST_DONE_LF:
		case ST_CLOSED:
			r = take_byte(d, *in);
			used = 1;
			break;
		default:
			r = -1;
			break;
		}
		if (r == -1)
			return -1;
		in += used;
		len -= used;
	}
	return 0;
}

int
aws_chunked_decode_finish(struct ac_decoder *d)
{
	if (d == NULL)
		return -1;
	switch (d->state) {
	case ST_DONE:
	case ST_CLOSED:
		return 0;
	case ST_END:
		/* Lenient: the last empty line of the signed mode. */
		if (d->line_len == 0) {
			d->state = ST_DONE;
			return 0;
		}
		break;
	case ST_ERROR:
		return -1;
	default:
		break;
	}
	return reject(d, S3_ERR_INCOMPLETE_BODY,
	    "The aws-chunked body ended before its end");
}

enum s3_err
aws_chunked_decoder_error(const struct ac_decoder *d, const char **msg)
{
	if (d == NULL) {
		if (msg != NULL)
			*msg = "aws_chunked: no decoder";
		return S3_ERR_INTERNAL_ERROR;
	}
	if (msg != NULL)
		*msg = d->state == ST_ERROR ? d->msg : NULL;
	return d->state == ST_ERROR ? d->err : S3_OK;
}

const char *
aws_chunked_trailer_name(const struct ac_decoder *d)
{
	if (d == NULL || !d->trailer_ok || d->state == ST_ERROR)
		return NULL;
	return d->ck_name;
}

const char *
aws_chunked_trailer_value(const struct ac_decoder *d)
{
	if (d == NULL || !d->trailer_ok || d->state == ST_ERROR)
		return NULL;
	return d->ck_value;
}

uint64_t
aws_chunked_decoded(const struct ac_decoder *d)
{
	return d != NULL ? d->emitted : 0;
}
