/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_chunked: the S3 streaming payload ("Content-Encoding: aws-chunked"),
 * decoded and encoded on the fly.  Pure: no I/O, no globals, no clock.
 *
 * Decoder (Amazon S3 API Reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in Multiple Chunks" and its
 * trailer variant): the body is chunks "hex-size[;chunk-signature=SIG]\r\n"
 * DATA "\r\n", a final zero-size chunk, then, in trailer modes, trailer
 * lines "name:value\r\n" (and, signed, "x-amz-trailer-signature:SIG\r\n")
 * and an empty line.
 *  - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: each chunk signature is
 *    HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n"
 *    previous signature "\n" hex(sha256("")) "\n" hex(sha256(data))), the
 *    first previous signature being the seed (the request's own).  A
 *    chunk's data is emitted only after its signature checks, so the
 *    decoder holds at most one chunk (max_chunk bounds it); with
 *    params.stream it is emitted as it arrives and checked at its end.
 *  - STREAMING-UNSIGNED-PAYLOAD-TRAILER: no chunk signatures; data is
 *    emitted as it arrives; the trailer checksum is the integrity check.
 *  - The trailer named by x-amz-trailer (x-amz-checksum-crc32, -crc32c,
 *    -crc64nvme, -sha1, -sha256) must come, alone, and its value (base64
 *    of the big-endian digest) must match the decoded bytes; signed, the
 *    trailer signature is HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n"
 *    scope "\n" final chunk signature "\n" hex(sha256(trailer lines, each
 *    "name:value\n"))).
 *  - The decoded length must equal x-amz-decoded-content-length.
 *  - Lenient where nothing is at stake: a signed body without trailer may
 *    omit the empty line after its final chunk (every signature has been
 *    checked by then), and one extra CRLF at the very end is accepted.
 * Input may come in pieces of any size; results do not depend on how it is
 * cut.  After the first error every call fails with the same error.
 *
 * Encoder: re-frames decoded bytes as STREAMING-UNSIGNED-PAYLOAD-TRAILER
 * with fixed-size chunks, so the framed length is known in advance
 * (aws_chunked_encoded_length) and the upstream gets a Content-Length.
 */
#ifndef S3I_AWS_CHUNKED_H
#define S3I_AWS_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "s3_err.h"
#include "sigv4.h"

#define AC_MAX_LINE		4096		/* chunk header, trailer line */
#define AC_MAX_CHUNK_DEFAULT	(16 * 1024 * 1024)

enum ac_mode {
	AC_SIGNED = 0,		/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	AC_SIGNED_TRAILER,	/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
	AC_UNSIGNED_TRAILER	/* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};

enum ac_checksum {
	AC_CK_NONE = 0,
	AC_CK_CRC32,
	AC_CK_CRC32C,
	AC_CK_CRC64NVME,
	AC_CK_SHA1,
	AC_CK_SHA256
};

/*
 * The x-amz-content-sha256 value -> mode.  Returns 0, or -1 for any other
 * value (SigV4a "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]" and
 * unknown STREAMING-* included: the caller answers 501).
 */
int	aws_chunked_mode(const char *content_sha256, enum ac_mode *);

/* "x-amz-checksum-crc32" (any case) -> AC_CK_CRC32 ...; AC_CK_NONE when
 * the name is not a known checksum header. */
enum ac_checksum aws_chunked_checksum(const char *trailer_name);

/* Length of base64(digest) for the algorithm: 8, 8, 12, 28, 44. */
size_t	aws_chunked_checksum_b64_len(enum ac_checksum);

struct ac_params {
	enum ac_mode	 mode;
	const char	*trailer;	/* x-amz-trailer value, NULL: none */
	uint64_t	 decoded_length; /* x-amz-decoded-content-length */
	size_t		 max_chunk;	/* 0: AC_MAX_CHUNK_DEFAULT */
	/* Signed modes: emit a chunk's data as it arrives and check its
	 * signature at its end (a bad one fails the decoder then), instead
	 * of holding the chunk until it is verified.  For a caller that
	 * holds back the end of the body until decode_finish() passed, so
	 * that nothing unverified is ever committed: memory then stays
	 * bounded whatever the chunk size. */
	int		 stream;
	/* Signed modes: the request's signing key, X-Amz-Date, credential
	 * scope and signature (the seed).  The key is copied and wiped on
	 * free. */
	unsigned char	 signing_key[SIGV4_KEY_LEN];
	const char	*amz_date;
	const char	*scope;
	const char	*seed_signature;
};

struct ac_decoder;

/* Called with decoded bytes, in order.  Return 0, or -1 to stop (the
 * decoder then fails with S3_ERR_INTERNAL_ERROR unless the caller knows
 * better). */
typedef int (*ac_emit_fn)(void *arg, const char *data, size_t len);

/* NULL when out of memory, or when params are inconsistent (a trailer
 * mode without a known trailer, a signed mode without key/date/scope/seed);
 * *err then says which S3 error to answer. */
struct ac_decoder *aws_chunked_decoder_new(const struct ac_params *,
	    enum s3_err *err, const char **msg);
void	aws_chunked_decoder_free(struct ac_decoder *);

/* Feed input.  Returns 0, or -1 with the error in
 * aws_chunked_decoder_error(). */
int	aws_chunked_decode(struct ac_decoder *, const char *in, size_t len,
	    ac_emit_fn, void *arg);

/* End of input.  Returns 0 when the body was complete and every check
 * passed (final chunk seen, trailer present and matching, trailer
 * signature, decoded length), -1 otherwise. */
int	aws_chunked_decode_finish(struct ac_decoder *);

/* The error after a -1: BadDigest (checksum), SignatureDoesNotMatch
 * (chunk or trailer signature), IncompleteBody (input ended early),
 * InvalidChunkSizeError (bad hex size, size over max_chunk, missing CRLF),
 * InvalidRequest (trailer missing, undeclared, renamed or twice; decoded
 * length mismatch; line too long), InternalError (emit failed). */
enum s3_err aws_chunked_decoder_error(const struct ac_decoder *,
	    const char **msg);

/* After a successful finish: the trailer's header name (lower case) and
 * value as received, for re-sending; NULL without a trailer. */
const char *aws_chunked_trailer_name(const struct ac_decoder *);
const char *aws_chunked_trailer_value(const struct ac_decoder *);
/* Bytes emitted so far. */
uint64_t aws_chunked_decoded(const struct ac_decoder *);

/* --- encoder --------------------------------------------------------- */

struct ac_encoder;

/* chunk: data bytes per chunk (the last may be shorter). */
struct ac_encoder *aws_chunked_encoder_new(size_t chunk);
void	aws_chunked_encoder_free(struct ac_encoder *);

/* The framed length of decoded_len bytes in chunks of chunk bytes, a
 * final zero chunk and one trailer line "name:value" of value_len. */
uint64_t aws_chunked_encoded_length(uint64_t decoded_len, size_t chunk,
	    const char *trailer_name, size_t value_len);

/* Frame data; full chunks go to emit, a partial one is kept (at most
 * chunk bytes held).  Returns 0, or -1 when emit failed. */
int	aws_chunked_encode(struct ac_encoder *, const char *data, size_t len,
	    ac_emit_fn, void *arg);

/* Emit the partial chunk, the final zero chunk, the trailer line and the
 * closing empty line. */
int	aws_chunked_encode_finish(struct ac_encoder *, const char *trailer_name,
	    const char *trailer_value, ac_emit_fn, void *arg);

/* The same as encode_finish, split: only the held partial chunk ... */
int	aws_chunked_encode_flush_data(struct ac_encoder *, ac_emit_fn,
	    void *arg);
/* ... then only the final chunk and trailer: lets the caller hold the
 * trailer back until the decoder's checks passed. */
int	aws_chunked_encode_trailer(struct ac_encoder *,
	    const char *trailer_name, const char *trailer_value,
	    ac_emit_fn, void *arg);

#endif
