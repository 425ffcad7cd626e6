/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_frame: see http_frame.h.
 *
 * The walk: the request line is "METHOD\0TARGET\0HTTP/1.x" then its line
 * end; each field line is "NAME\0" (the colon), optional SP/HTAB, the
 * value, then its line end; the head ends with an empty line.  A CR LF
 * line end is two NUL bytes, a bare LF one.  Every field the list gives
 * must start exactly where the previous line ended; anything between is
 * a byte MHD did not account for (a NUL that cut a value short, a folded
 * line) and is refused.
 *
 * What this cannot see: MHD turns a CR, an LF, a field's colon and a
 * NUL byte alike into NUL, so where a line end has a NUL byte or a line
 * of a lone colon next to it *and* a bare LF, the count of NULs can be
 * that of CR LF ("a\0\n", "\n:\n", "a\0\r\n\n" leave the bytes of
 * "a\r\n" and "a\r\n\r\n"); a line starting with either also ends the
 * head for MHD.  Every such pattern needs a bare LF (with CR LF line ends
 * the counts never match), so a front proxy that rejects bare LF, or also
 * ends a line there, is not misled; see README "Security".
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdarg.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <gnutls/gnutls.h>

#include "ascii.h"
#include "http_frame.h"

static const struct {
	const char	*name;
	unsigned	 status;
	enum s3_err	 err;
	int		 close;
	const char	*source;
	const char	*msg;
} rules[] = {
	{ "OK", 200, S3_OK, 0, "", "" },
#define HFR(name, status, err, close, source, msg) \
	{ #name, status, S3_ERR_##err, close, source, msg },
#include "http_frame_table.h"
#undef HFR
};

/* Fields a request carries once: framing, the target's authority and
 * everything SigV4 reads as one value (the first of two would be checked
 * and the second forwarded or trusted elsewhere). */
static const char *const singletons[] = {
	"host", "authorization", "x-amz-date", "date",
	"x-amz-content-sha256", "x-amz-security-token",
	"x-amz-decoded-content-length", "x-amz-copy-source",
	"x-amz-trailer", "content-md5", "expect", NULL
};

/* Fields a Connection header may not name: the proxy reads them itself,
 * so dropping them as hop-by-hop would forward a different request. */
static const char *const end_to_end[] = {
	"host", "authorization", "content-length", "transfer-encoding",
	"content-encoding", "content-md5", "content-type", "expect", "date",
	NULL
};

static int
rule_ok(enum http_frame_rule r)
{
	return (unsigned)r < sizeof(rules) / sizeof(rules[0]);
}

const char *
http_frame_name(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].name : "?";
}

unsigned
http_frame_status(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].status : 400;
}

enum s3_err
http_frame_error(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].err : S3_ERR_INVALID_REQUEST;
}

int
http_frame_closes(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].close : 1;
}

const char *
http_frame_source(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].source : "";
}

const char *
http_frame_message(enum http_frame_rule r)
{
	return rule_ok(r) ? rules[r].msg : "";
}

/* --- helpers -------------------------------------------------------------- */

/* Where p lies in the head, as an offset; -1 outside (end included). */
static int
offset_of(const struct http_frame_head *h, const char *p, size_t *off)
{
	uintptr_t	 b = (uintptr_t)h->raw, q = (uintptr_t)p;

	if (p == NULL || q < b || q - b > h->raw_len)
		return -1;
	*off = (size_t)(q - b);
	return 0;
}

/* s (n bytes) equals the lower-case literal lit, ignoring case. */
static int
ieq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* The index in list of the name s (n bytes), or -1. */
static int
in_list(const char *const *list, const char *s, size_t n)
{
	int	 i;

	for (i = 0; list[i] != NULL; i++)
		if (ieq(s, n, list[i]))
			return i;
	return -1;
}

/* A field value less its leading and trailing whitespace. */
static void
trim(const char **v, size_t *n)
{
	while (*n > 0 && ascii_is_ows((unsigned char)**v)) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ascii_is_ows((unsigned char)(*v)[*n - 1]))
		(*n)--;
}

static enum http_frame_rule
fail(struct http_frame_verdict *v, enum http_frame_rule r, const char *field)
{
	v->rule = r;
	v->field = field;
	return r;
}

/* --- the layout ----------------------------------------------------------- */

/*
 * The line end between a line's last byte (at `from`) and the next line
 * (at `to`); last: the next "line" is the end of the head, so the empty
 * line's end is in the gap too.  Only NUL bytes may be there: two per
 * CR LF, one per bare LF.
 */
static enum http_frame_rule
line_end(const struct http_frame_head *h, size_t from, size_t to, int last)
{
	size_t	 i, k;

	if (to < from || to - from == 0)
		return HTTP_FRAME_LAYOUT;
	k = to - from;
	for (i = from; i < to; i++) {
		if (h->raw[i] == '\0')
			continue;
		/* After a CR LF, a line whose colon comes first: MHD takes
		 * the colon's NUL for the empty line and ends the head. */
		if (i == from + 3 && k >= 4 && h->raw[from + 2] == '\0')
			return HTTP_FRAME_FIELD_NAME;
		return HTTP_FRAME_NUL;		/* a value cut short */
	}
	if (k == (last ? 4u : 2u))
		return HTTP_FRAME_OK;
	if (k < (last ? 4u : 2u))
		return k == 1 && last ? HTTP_FRAME_LAYOUT : HTTP_FRAME_BARE_LF;
	return HTTP_FRAME_NUL;			/* NUL bytes of their own */
}

static enum http_frame_rule
target_rule(const char *t)
{
	const unsigned char	*p;

	if (t[0] != '/')
		return HTTP_FRAME_TARGET_FORM;
	for (p = (const unsigned char *)t; *p != '\0'; p++) {
		if (*p == '\r')
			return HTTP_FRAME_BARE_CR;
		if (*p <= 0x20 || *p == 0x7f || *p == '#')
			return HTTP_FRAME_TARGET_FORM;
	}
	return HTTP_FRAME_OK;
}

/* The request line; *end: the offset of its line end. */
static enum http_frame_rule
request_line(const struct http_frame_head *h, size_t *end)
{
	const char	*raw = h->raw;
	size_t		 m = 0, voff, tstart, traw;
	enum http_frame_rule r;

	while (m < h->raw_len && raw[m] != '\0')
		m++;
	if (m == 0 || m >= h->raw_len)
		return HTTP_FRAME_LAYOUT;
	for (size_t i = 0; i < m; i++)
		if (!ascii_is_tchar((unsigned char)raw[i]))
			return raw[i] == '\r' ? HTTP_FRAME_BARE_CR :
			    HTTP_FRAME_METHOD;
	if (offset_of(h, h->version, &voff) == -1 || voff < m + 2 ||
	    h->raw_len - voff < 9 || raw[voff - 1] != '\0' ||
	    strncmp(h->version, "HTTP/1.", 7) != 0 ||
	    h->version[7] < '0' || h->version[7] > '9' || raw[voff + 8] != '\0')
		return HTTP_FRAME_LAYOUT;
	tstart = m + 1;
	traw = voff - 1 - tstart;
	/* MHD skips extra spaces before the target and reads a target
	 * with a NUL as a shorter one; both show as a length mismatch. */
	if (raw[tstart] == ' ' || raw[tstart] == '\t')
		return HTTP_FRAME_REQUEST_LINE;
	if (h->target == NULL || strlen(h->target) > traw || traw == 0)
		return HTTP_FRAME_LAYOUT;
	if (strlen(h->target) < traw)
		return HTTP_FRAME_NUL;
	r = target_rule(h->target);
	if (r != HTTP_FRAME_OK)
		return r;
	*end = voff + 8;
	return HTTP_FRAME_OK;
}

/* One field line at offset `at`; *end: the offset of its line end. */
static enum http_frame_rule
field_line(const struct http_frame_head *h, const struct http_frame_field *f,
    size_t at, size_t *end)
{
	size_t	 noff, voff, i;

	/* MHD moves the name of a field continued on the next line
	 * (process_broken_line appends the continuation to it). */
	if (offset_of(h, f->name, &noff) == -1 ||
	    offset_of(h, f->value, &voff) == -1)
		return HTTP_FRAME_OBS_FOLD;
	if (noff != at || f->name_len > h->raw_len - noff ||
	    noff + f->name_len >= h->raw_len ||
	    h->raw[noff + f->name_len] != '\0' || voff < noff + f->name_len + 1 ||
	    f->value_len > h->raw_len - voff)
		return HTTP_FRAME_LAYOUT;
	if (f->name_len == 0)
		return HTTP_FRAME_FIELD_NAME;
	if (ascii_is_ows((unsigned char)f->name[0]))
		return HTTP_FRAME_OBS_FOLD;
	if (ascii_is_ows((unsigned char)f->name[f->name_len - 1]))
		return HTTP_FRAME_SPACE_BEFORE_COLON;
	for (i = 0; i < f->name_len; i++) {
		if (f->name[i] == '\r')
			return HTTP_FRAME_BARE_CR;
		if (!ascii_is_tchar((unsigned char)f->name[i]))
			return HTTP_FRAME_FIELD_NAME;
	}
	for (i = noff + f->name_len + 1; i < voff; i++)
		if (!ascii_is_ows((unsigned char)h->raw[i]))
			return HTTP_FRAME_LAYOUT;
	for (i = 0; i < f->value_len; i++) {
		unsigned char c = (unsigned char)f->value[i];

		if (c == '\r')
			return HTTP_FRAME_BARE_CR;
		if (c == '\0')
			return HTTP_FRAME_NUL;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return HTTP_FRAME_CONTROL;
	}
	*end = voff + f->value_len;
	return HTTP_FRAME_OK;
}

static enum http_frame_rule
layout(const struct http_frame_head *h, struct http_frame_verdict *v)
{
	size_t		 end = 0, next, i;
	enum http_frame_rule r;

	r = request_line(h, &end);
	if (r != HTTP_FRAME_OK)
		return fail(v, r, NULL);
	for (i = 0; i < h->n_fields; i++) {
		if (offset_of(h, h->fields[i].name, &next) == -1)
			return fail(v, HTTP_FRAME_OBS_FOLD, NULL);
		r = line_end(h, end, next, 0);
		if (r == HTTP_FRAME_OK)
			r = field_line(h, &h->fields[i], next, &end);
		if (r != HTTP_FRAME_OK)
			return fail(v, r, NULL);
	}
	r = line_end(h, end, h->raw_len, 1);
	return r != HTTP_FRAME_OK ? fail(v, r, NULL) : HTTP_FRAME_OK;
}

/* --- the fields ----------------------------------------------------------- */

/* host [":" port] (RFC 9112 §3.2, RFC 3986 §3.2.2); empty is allowed. */
static int
host_valid(const char *s, size_t n)
{
	size_t	 i = 0, digits;

	if (n > 0 && s[0] == '[') {
		while (i < n && s[i] != ']')
			if (strchr("[0123456789abcdefABCDEF:.vV", s[i++]) == NULL)
				return 0;
		if (i == n)
			return 0;
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') ||
			    strchr("-._~%!$&'()*+,;=", s[i]) != NULL) ||
			    s[i] == '\0')
				return 0;
	}
	if (i == n)
		return 1;
	if (s[i++] != ':')
		return 0;
	for (digits = 0; i < n; i++, digits++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return digits <= 5;
}

/* A name that, with '_' read as '-', is a field we frame or
 * authenticate by ("Content_Length", "Transfer_Encoding"): some servers
 * in front map one to the other. */
static const char *
alias_of(const char *name, size_t n)
{
	static const char *const watched[] = {
		"content-length", "transfer-encoding", "host",
		"authorization", "x-amz-date", "x-amz-content-sha256",
		"x-amz-security-token", "x-amz-decoded-content-length",
		"content-encoding", "connection", "expect", NULL
	};
	char	 low[40];
	size_t	 i;
	int	 under = 0, j;

	if (n >= sizeof(low))
		return NULL;
	for (i = 0; i < n; i++) {
		low[i] = name[i] == '_' ? '-' : name[i];
		under |= name[i] == '_';
	}
	j = under ? in_list(watched, low, n) : -1;
	return j >= 0 ? watched[j] : NULL;
}

static enum http_frame_rule
content_length(const char *s, size_t n, struct http_frame_verdict *v)
{
	uint64_t	 x = 0;
	size_t		 i;

	trim(&s, &n);
	if (n == 0)
		return HTTP_FRAME_CL_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HTTP_FRAME_CL_INVALID;
		if (x > HTTP_FRAME_MAX_LENGTH)
			return HTTP_FRAME_CL_TOO_LARGE;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > HTTP_FRAME_MAX_LENGTH)
		return HTTP_FRAME_CL_TOO_LARGE;
	v->has_length = 1;
	v->length = x;
	return HTTP_FRAME_OK;
}

/* A Connection value naming a field in end_to_end or any x-amz-*. */
static const char *
connection_names(const char *s, size_t n)
{
	const char	*t, *e = s + n;
	size_t		 tn;
	int		 j;

	while (s < e) {
		t = s;
		while (s < e && *s != ',')
			s++;
		tn = (size_t)(s - t);
		trim(&t, &tn);
		j = in_list(end_to_end, t, tn);
		if (j >= 0)
			return end_to_end[j];
		if (tn >= 6 && strncasecmp(t, "x-amz-", 6) == 0)
			return "x-amz-*";
		if (s < e)
			s++;
	}
	return NULL;
}

static enum http_frame_rule
fields(const struct http_frame_head *h, struct http_frame_verdict *v)
{
	const struct http_frame_field *f, *cl = NULL, *te = NULL;
	size_t		 counts[sizeof(singletons) / sizeof(singletons[0])];
	size_t		 i, n_cl = 0, n_te = 0, n_host = 0, vn;
	const char	*vs, *alias, *named;
	int		 j, http10 = h->version[7] == '0';
	enum http_frame_rule r;

	memset(counts, 0, sizeof(counts));
	for (i = 0; i < h->n_fields; i++) {
		f = &h->fields[i];
		alias = alias_of(f->name, f->name_len);
		if (alias != NULL)
			return fail(v, HTTP_FRAME_FIELD_NAME_ALIAS, alias);
		j = in_list(singletons, f->name, f->name_len);
		if (j >= 0 && ++counts[j] > 1)
			return fail(v, HTTP_FRAME_DUPLICATE_FIELD,
			    singletons[j]);
		if (ieq(f->name, f->name_len, "content-length")) {
			n_cl++;
			cl = f;
		} else if (ieq(f->name, f->name_len, "transfer-encoding")) {
			n_te++;
			te = f;
		} else if (ieq(f->name, f->name_len, "connection")) {
			named = connection_names(f->value, f->value_len);
			if (named != NULL)
				return fail(v, HTTP_FRAME_CONNECTION_OPTION,
				    named);
		} else if (ieq(f->name, f->name_len, "host")) {
			n_host++;
			vs = f->value;
			vn = f->value_len;
			trim(&vs, &vn);
			if (!host_valid(vs, vn))
				return fail(v, HTTP_FRAME_HOST_INVALID,
				    "host");
		}
	}
	if (!http10 && n_host == 0)
		return fail(v, HTTP_FRAME_HOST_MISSING, "host");
	if (n_te > 0) {
		if (http10)
			return fail(v, HTTP_FRAME_TE_HTTP10,
			    "transfer-encoding");
		if (n_cl > 0)
			return fail(v, HTTP_FRAME_CL_WITH_TE, "content-length");
		if (n_te > 1)
			return fail(v, HTTP_FRAME_TE_DUPLICATE,
			    "transfer-encoding");
		vs = te->value;
		vn = te->value_len;
		trim(&vs, &vn);
		if (!ieq(vs, vn, "chunked"))
			return fail(v, HTTP_FRAME_TE_CODING,
			    "transfer-encoding");
		v->chunked = 1;
		v->close_after = 1;
	}
	if (n_cl > 1)
		return fail(v, HTTP_FRAME_CL_DUPLICATE, "content-length");
	if (cl != NULL) {
		r = content_length(cl->value, cl->value_len, v);
		if (r != HTTP_FRAME_OK)
			return fail(v, r, "content-length");
	}
	return HTTP_FRAME_OK;
}

enum http_frame_rule
http_frame_check(const struct http_frame_head *h, struct http_frame_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (h == NULL || h->raw == NULL || h->raw_len == 0 ||
	    (h->n_fields > 0 && h->fields == NULL))
		return fail(v, HTTP_FRAME_LAYOUT, NULL);
	if (layout(h, v) != HTTP_FRAME_OK)
		return v->rule;
	return fields(h, v) != HTTP_FRAME_OK ? v->rule : HTTP_FRAME_OK;
}

enum http_frame_rule
http_frame_preflight(const struct http_frame_verdict *v)
{
	if (v->chunked || (v->has_length && v->length > 0))
		return HTTP_FRAME_PREFLIGHT_BODY;
	return HTTP_FRAME_OK;
}

/* --- libmicrohttpd --------------------------------------------------------- */

struct collect {
	struct http_frame_field	*f;
	size_t			 n, cap;
	int			 failed;
};

static enum MHD_Result
collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct collect		*c = cls;
	struct http_frame_field	*nf;
	size_t			 cap;

	(void)kind;
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 32;
		nf = realloc(c->f, cap * sizeof(*nf));
		if (nf == NULL) {
			c->failed = 1;
			return MHD_NO;
		}
		c->f = nf;
		c->cap = cap;
	}
	c->f[c->n].name = key;
	c->f[c->n].name_len = key != NULL ? key_size : 0;
	c->f[c->n].value = value != NULL ? value : "";
	c->f[c->n].value_len = value != NULL ? value_size : 0;
	c->n++;
	return MHD_YES;
}

enum http_frame_rule
http_frame_check_mhd(struct MHD_Connection *c, const char *method,
    const char *version, const char *target, struct http_frame_verdict *v,
    int *queued)
{
	const union MHD_ConnectionInfo *ci;
	struct http_frame_head	 h;
	struct collect		 col;
	enum http_frame_rule	 r;

	*queued = 0;
	memset(v, 0, sizeof(*v));
	/* MHD refused the head itself and queued its own answer: adding
	 * ours would write a second status line. */
	if (MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS) !=
	    NULL) {
		*queued = 1;
		return HTTP_FRAME_OK;
	}
	ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL || method == NULL || version == NULL)
		return fail(v, HTTP_FRAME_LAYOUT, NULL);
	memset(&col, 0, sizeof(col));
	if (MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_field,
	    &col) < 0 || col.failed) {
		free(col.f);
		return fail(v, HTTP_FRAME_LAYOUT, NULL);
	}
	memset(&h, 0, sizeof(h));
	h.raw = method;
	h.raw_len = ci->header_size;
	h.version = version;
	h.target = target;
	h.fields = col.f;
	h.n_fields = col.n;
	r = http_frame_check(&h, v);
	free(col.f);
	return r;
}

/* --- TLS ------------------------------------------------------------------ */

static ssize_t
guard_pull(gnutls_transport_ptr_t tr, void *buf, size_t n)
{
	struct http_frame_tls_guard	*g = tr;
	ssize_t				 r;
	size_t				 take;
	uint32_t			 len;

	r = recv(g->fd, buf, n, 0);
	if (r <= 0 || g->done)
		return r;
	g->pulled += (uint64_t)r;
	if (g->head_n < sizeof(g->head)) {
		take = sizeof(g->head) - g->head_n;
		if (take > (size_t)r)
			take = (size_t)r;
		memcpy(g->head + g->head_n, buf, take);
		g->head_n += take;
	}
	/* A handshake record whose first message is a ClientHello: its
	 * length is known before its bytes are. */
	if (g->head_n == sizeof(g->head) && g->head[0] == 22 &&
	    g->head[5] == 1) {
		len = (uint32_t)g->head[6] << 16 | (uint32_t)g->head[7] << 8 |
		    g->head[8];
		if (len > HTTP_FRAME_TLS_HANDSHAKE_MAX)
			goto refuse;
	}
	if (g->pulled > HTTP_FRAME_TLS_BUDGET)
		goto refuse;
	return r;
refuse:
	errno = ECONNRESET;
	return -1;
}

static ssize_t
guard_push(gnutls_transport_ptr_t tr, const void *buf, size_t n)
{
	struct http_frame_tls_guard	*g = tr;

	return send(g->fd, buf, n, MSG_NOSIGNAL);
}

static int
guard_pull_timeout(gnutls_transport_ptr_t tr, unsigned int ms)
{
	struct http_frame_tls_guard	*g = tr;
	struct pollfd			 p = { g->fd, POLLIN, 0 };

	return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

/* The client's Finished: the handshake is over, the budget no longer
 * applies. */
static int
guard_finished(gnutls_session_t s, unsigned int htype, unsigned when,
    unsigned int incoming, const gnutls_datum_t *msg)
{
	struct http_frame_tls_guard	*g = gnutls_transport_get_ptr(s);

	(void)htype;
	(void)when;
	(void)msg;
	if (incoming && g != NULL)
		g->done = 1;
	return 0;
}

int
http_frame_tls_guard(struct MHD_Connection *c, struct http_frame_tls_guard *g)
{
	const union MHD_ConnectionInfo *ci, *fd;
	gnutls_session_t		 s;

	memset(g, 0, sizeof(*g));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || ci->tls_session == NULL || fd == NULL)
		return -1;
	s = (gnutls_session_t)ci->tls_session;
	g->fd = fd->connect_fd;
	gnutls_handshake_set_max_packet_length(s, HTTP_FRAME_TLS_HANDSHAKE_MAX);
	gnutls_transport_set_ptr(s, g);
	gnutls_transport_set_push_function(s, guard_push);
	gnutls_transport_set_pull_function(s, guard_pull);
	gnutls_transport_set_pull_timeout_function(s, guard_pull_timeout);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_FINISHED,
	    GNUTLS_HOOK_POST, guard_finished);
	return 0;
}
