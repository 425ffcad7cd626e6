/* SPDX-License-Identifier: Apache-2.0 */
/* s3_err: see s3_err.h. */
#include "config.h"

#include <stddef.h>

#include "s3_err.h"

static const struct {
	unsigned	 status;
	const char	*code;
	int		 retry;
	const char	*message;
} table[S3_ERR__COUNT] = {
	[S3_OK] = { 200, "OK", 0, "OK" },
#define S3E(name, st, cd, rt, msg) [S3_ERR_##name] = { st, cd, rt, msg },
#include "s3_err_table.h"
#undef S3E
};

unsigned
s3_err_status(enum s3_err e)
{
	return (unsigned)e < S3_ERR__COUNT ? table[e].status : 500;
}

const char *
s3_err_code(enum s3_err e)
{
	return (unsigned)e < S3_ERR__COUNT ? table[e].code : "InternalError";
}

const char *
s3_err_message(enum s3_err e)
{
	return (unsigned)e < S3_ERR__COUNT ? table[e].message : "";
}

int
s3_err_is_retryable(enum s3_err e)
{
	return (unsigned)e < S3_ERR__COUNT ? table[e].retry : 0;
}

int
s3_xml_escape(struct buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&apos;");
			break;
		case '\t':
		case '\n':
		case '\r':
			buf_putc(b, (char)*p);
			break;
		default:
			if (*p >= 0x20 && *p != 0x7f)
				buf_putc(b, (char)*p);
			break;
		}
	}
	return buf_ok(b) ? 0 : -1;
}

static void
element(struct buf *b, const char *name, const char *text)
{
	buf_printf(b, "<%s>", name);
	s3_xml_escape(b, text != NULL ? text : "");
	buf_printf(b, "</%s>", name);
}

int
s3_err_xml(struct buf *b, enum s3_err e, const char *message,
    const char *resource, const char *request_id,
    const struct s3_err_extra *extras, size_t n_extras)
{
	size_t	 i;

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
	element(b, "Code", s3_err_code(e));
	element(b, "Message", message != NULL ? message : s3_err_message(e));
	for (i = 0; i < n_extras; i++)
		element(b, extras[i].name, extras[i].value);
	element(b, "Resource", resource);
	element(b, "RequestId", request_id);
	buf_puts(b, "</Error>");
	return buf_ok(b) ? 0 : -1;
}
