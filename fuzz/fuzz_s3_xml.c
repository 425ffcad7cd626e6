/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_s3_xml: libFuzzer target for the S3 documents s3inval reads
 * (src/s3_xml.c): the input is a response body as the upstream sends it
 * (a DeleteResult, a CopyObjectResult or CompleteMultipartUploadResult, an
 * <Error>, with or without the whitespace S3 pads slow answers with), or
 * a DeleteObjects request body as a client sends it (<Delete>).
 *
 * It goes to s3_xml_is_error(), s3_xml_deleted_keys(),
 * s3_xml_delete_request(), and s3_xml_result_etag() with output buffers of
 * several sizes.  Checked: the count returned is the number of keys
 * appended, every key is a string, a document that yields keys is not
 * taken for an <Error>, an empty body is unreadable, the same body parses
 * the same twice, quiet is 0 or 1; an ETag is a non-empty string that fits
 * its buffer, the same whatever the buffer size it fits in, and nothing is
 * written past the size given.  libxml2 is initialised once, as main.c does
 * through cloudfront_init(); no network, no files, no clock.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "inval_map.h"
#include "s3_xml.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_s3_xml: broken promise: %s\n", what);
		abort();
	}
}

/* libxml2 prints some errors (encodings, I/O) despite XML_PARSE_NOERROR;
 * here they would only bury the reports. */
static void
quiet(void *ctx, const char *fmt, ...)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

static void
etag(const char *doc, size_t size)
{
	static const size_t sizes[] = { 1, 2, 8, 34, 64, 256, 1024 };
	char	 first[1024], out[1024 + 1];
	size_t	 i, n;
	int	 rc, have = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		memset(out, 0x5a, sizeof(out));
		rc = s3_xml_result_etag(doc, size, out, n);
		must(out[n] == 0x5a, "nothing written past outsz");
		if (rc != 0)
			continue;
		must(memchr(out, '\0', n) != NULL && out[0] != '\0',
		    "an ETag is a non-empty string within outsz");
		if (!have) {
			memcpy(first, out, strlen(out) + 1);
			have = 1;
		} else
			must(strcmp(first, out) == 0,
			    "the same ETag whatever the buffer");
	}
}

/* Keys appended by fn (one of the two key parsers) after one already
 * there: the count is what was appended, every key a string. */
static int
keys(const char *doc, size_t size, int request, int *quiet)
{
	struct strvec	 v;
	size_t		 i, before;
	int		 n;

	strvec_init(&v);
	/* Appends: start with one key already there. */
	must(strvec_push(&v, "already/there") == 0, "push");
	before = v.n;
	n = request ? s3_xml_delete_request(doc, size, &v, quiet) :
	    s3_xml_deleted_keys(doc, size, &v);
	must(n >= -1, "count or -1");
	if (n >= 0) {
		must(v.n == before + (size_t)n,
		    "the count is what was appended");
		must(strcmp(v.v[0], "already/there") == 0,
		    "earlier keys stay");
		for (i = before; i < v.n; i++)
			must(v.v[i] != NULL, "keys are strings");
	}
	strvec_fini(&v);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*doc = (const char *)data;
	int		 err, n, quiet = -1, quiet2 = -1;

	err = s3_xml_is_error(doc, size);
	must(err >= -1 && err <= 1, "is_error is -1, 0 or 1");
	if (size == 0)
		must(err == -1, "an empty body is unreadable");
	n = keys(doc, size, 0, NULL);
	must(keys(doc, size, 0, NULL) == n, "the same twice");
	if (n > 0)
		must(err == 0, "a DeleteResult is no <Error>");
	n = keys(doc, size, 1, &quiet);
	must(keys(doc, size, 1, &quiet2) == n && quiet == quiet2,
	    "the same twice");
	must(quiet == 0 || quiet == 1, "quiet is 0 or 1");
	if (n > 0)
		must(err == 0, "a Delete is no <Error>");
	etag(doc, size);
	return 0;
}
