/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_chunked_encode: decoded bytes framed again as
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER (see aws_chunked.h), with fixed-size
 * chunks, so its length is known before the first byte
 * (aws_chunked_encoded_length()) and the upstream gets a Content-Length.
 * It signs nothing and checks nothing: the decoder
 * (aws_chunked_decode.c) has.
 *
 * No globals; each encoder has one owner.  An emit that fails makes the
 * encoder fail from then on.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_chunked.h"

struct ac_encoder {
	size_t		 chunk;
	char		*hold;			/* a partial chunk */
	size_t		 held;
	int		 failed;		/* emit failed: sticky */
	int		 closed;		/* trailer written */
};

/* "hex\r\n" + n + "\r\n" */
static uint64_t
framed_len(uint64_t n)
{
	uint64_t	 digits = 1;

	while (digits < 16 && (n >> (4 * digits)) != 0)
		digits++;
	return digits + 2 + n + 2;
}

uint64_t
aws_chunked_encoded_length(uint64_t decoded_len, size_t chunk,
    const char *trailer_name, size_t value_len)
{
	uint64_t	 len;

	if (chunk == 0)
		return 0;
	len = decoded_len / chunk * framed_len(chunk);
	if (decoded_len % chunk != 0)
		len += framed_len(decoded_len % chunk);
	len += 3;					/* "0\r\n" */
	if (trailer_name != NULL)
		len += strlen(trailer_name) + 1 + value_len + 2;
	return len + 2;					/* "\r\n" */
}

struct ac_encoder *
aws_chunked_encoder_new(size_t chunk)
{
	struct ac_encoder	*e = NULL;

	if (chunk == 0)
		goto fail;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto fail;
	e->chunk = chunk;
	e->hold = malloc(chunk);
	if (e->hold == NULL)
		goto fail;
	return e;
fail:
	aws_chunked_encoder_free(e);
	return NULL;
}

void
aws_chunked_encoder_free(struct ac_encoder *e)
{
	if (e == NULL)
		return;
	free(e->hold);
	free(e);
}

static int
put_out(struct ac_encoder *e, const char *p, size_t n, ac_emit_fn emit,
    void *arg)
{
	if (e->failed)
		return -1;
	if (n > 0 && emit(arg, p, n) != 0) {
		e->failed = 1;
		return -1;
	}
	return 0;
}

/* One data chunk: "hex\r\n" data "\r\n". */
static int
frame(struct ac_encoder *e, const char *data, size_t n, ac_emit_fn emit,
    void *arg)
{
	char	 head[2 * sizeof(size_t) + 3];
	int	 hl;

	hl = snprintf(head, sizeof(head), "%zx\r\n", n);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		e->failed = 1;
		return -1;
	}
	if (put_out(e, head, (size_t)hl, emit, arg) == -1 ||
	    put_out(e, data, n, emit, arg) == -1 ||
	    put_out(e, "\r\n", 2, emit, arg) == -1)
		return -1;
	return 0;
}

int
aws_chunked_encode(struct ac_encoder *e, const char *data, size_t len,
    ac_emit_fn emit, void *arg)
{
	size_t	 n;

	if (e == NULL || emit == NULL || e->failed || e->closed ||
	    (data == NULL && len > 0))
		return -1;
	while (len > 0) {
		if (e->held == 0 && len >= e->chunk) {
			/* A whole chunk in the input: no copy. */
			if (frame(e, data, e->chunk, emit, arg) == -1)
				return -1;
			data += e->chunk;
			len -= e->chunk;
			continue;
		}
		n = e->chunk - e->held;
		if (n > len)
			n = len;
		memcpy(e->hold + e->held, data, n);
		e->held += n;
		data += n;
		len -= n;
		if (e->held == e->chunk) {
			e->held = 0;
			if (frame(e, e->hold, e->chunk, emit, arg) == -1)
				return -1;
		}
	}
	return 0;
}

int
aws_chunked_encode_flush_data(struct ac_encoder *e, ac_emit_fn emit,
    void *arg)
{
	size_t	 n;

	if (e == NULL || emit == NULL || e->failed || e->closed)
		return -1;
	if (e->held == 0)
		return 0;
	n = e->held;
	e->held = 0;
	return frame(e, e->hold, n, emit, arg);
}

int
aws_chunked_encode_trailer(struct ac_encoder *e, const char *trailer_name,
    const char *trailer_value, ac_emit_fn emit, void *arg)
{
	if (trailer_value == NULL)
		trailer_value = "";
	/* Data still held goes first, so the framing stays whole. */
	if (aws_chunked_encode_flush_data(e, emit, arg) == -1)
		return -1;
	if (put_out(e, "0\r\n", 3, emit, arg) == -1)
		return -1;
	if (trailer_name != NULL &&
	    (put_out(e, trailer_name, strlen(trailer_name), emit, arg) == -1 ||
	    put_out(e, ":", 1, emit, arg) == -1 ||
	    put_out(e, trailer_value, strlen(trailer_value), emit, arg) == -1 ||
	    put_out(e, "\r\n", 2, emit, arg) == -1))
		return -1;
	if (put_out(e, "\r\n", 2, emit, arg) == -1)
		return -1;
	e->closed = 1;
	return 0;
}

int
aws_chunked_encode_finish(struct ac_encoder *e, const char *trailer_name,
    const char *trailer_value, ac_emit_fn emit, void *arg)
{
	if (aws_chunked_encode_flush_data(e, emit, arg) == -1)
		return -1;
	return aws_chunked_encode_trailer(e, trailer_name, trailer_value,
	    emit, arg);
}
