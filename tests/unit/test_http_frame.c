/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of http_frame: every row of the framing table
 * (tests/data/http_frame_cases.txt) is split into lines and fields the
 * way libmicrohttpd 0.9.75 does it in place (mhd_like(), after
 * connection.c: get_next_header_line, parse_initial_message_line,
 * process_header_line, process_broken_line, parse_connection_headers),
 * and the checker must name the row's rule.  Every rule of
 * http_frame_table.h must be some row's rule; the layouts MHD never
 * produces are checked by hand (fail closed).  fuzz/fuzz_http_frame.c
 * runs the same checker behind a real MHD.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "buf.h"
#include "http_frame.h"
#include "s3_err.h"

#define HEAD_MAX	4096	/* request bytes taken per row */
#define POOL		HEAD_MAX	/* where moved (folded) names go */

/* --- the rows ------------------------------------------------------------- */

struct row {
	char	 name[64];
	char	 rule[40];
	char	 answer[16];
	char	*req;
	size_t	 len;
};

static struct row	*rows;
static size_t		 n_rows;

/* \r \n \t \\ \xHH; anything else is taken as it is. */
static size_t
unescape(const char *s, char *out)
{
	size_t	 n = 0;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'r') {
			out[n++] = '\r';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'n') {
			out[n++] = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 't') {
			out[n++] = '\t';
			s += 2;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && isxdigit(
		    (unsigned char)s[2]) && isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], '\0' };

			out[n++] = (char)strtoul(hex, NULL, 16);
			s += 4;
		} else
			out[n++] = *s++;
	}
	return n;
}

static void
load_rows(void)
{
	struct buf	 path;
	const char	*top;
	char		 line[8192], *p, *f[3];
	FILE		*fp;
	size_t		 cap = 0;
	int		 i;

	buf_init(&path);
	top = getenv("TOP_SRCDIR");
	if (top == NULL || *top == '\0')
		top = ".";
	buf_printf(&path, "%s/tests/data/http_frame_cases.txt", top);
	fp = fopen(buf_str(&path), "r");
	buf_fini(&path);
	if (fp == NULL) {
		fprintf(stderr, "cannot open tests/data/http_frame_cases.txt "
		    "(set TOP_SRCDIR)\n");
		exit(1);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		p = line;
		for (i = 0; i < 3; i++) {
			p += strspn(p, " \t");
			f[i] = p;
			p += strcspn(p, " \t");
			if (*p != '\0')
				*p++ = '\0';
		}
		p += strspn(p, " \t");
		if (n_rows == cap) {
			cap = cap ? cap * 2 : 64;
			rows = realloc(rows, cap * sizeof(*rows));
			if (rows == NULL)
				exit(1);
		}
		memset(&rows[n_rows], 0, sizeof(rows[n_rows]));
		snprintf(rows[n_rows].name, sizeof(rows[n_rows].name), "%s",
		    f[0]);
		snprintf(rows[n_rows].rule, sizeof(rows[n_rows].rule), "%s",
		    f[1]);
		snprintf(rows[n_rows].answer, sizeof(rows[n_rows].answer),
		    "%s", f[2]);
		rows[n_rows].req = malloc(strlen(p) + 1);
		if (rows[n_rows].req == NULL)
			exit(1);
		rows[n_rows].len = unescape(p, rows[n_rows].req);
		n_rows++;
	}
	fclose(fp);
}

/* --- libmicrohttpd's in-place parse, as a test double --------------------- */

struct mangled {
	char			 buf[HEAD_MAX + POOL];
	size_t			 len;		/* request bytes in buf */
	size_t			 pool;		/* next free byte after them */
	size_t			 method;	/* the request line */
	size_t			 head_size;
	const char		*version;
	char			 target[HEAD_MAX];
	struct http_frame_field	 f[128];
	size_t			 n;
	int			 refused;	/* MHD cannot split it */
	unsigned		 mhd_status;	/* parse_connection_headers */
};

/* The next line from *pos: CR LF or a bare LF end it and become NULs; a
 * CR alone does not end it.  Returns its offset, or -1 when none. */
static long
next_line(struct mangled *m, size_t *pos, size_t *len)
{
	size_t	 i;

	for (i = *pos; i < m->len; i++) {
		if (m->buf[i] == '\r' && i + 1 < m->len &&
		    m->buf[i + 1] == '\n') {
			size_t start = *pos;

			*len = i - start;
			m->buf[i] = m->buf[i + 1] = '\0';
			*pos = i + 2;
			return (long)start;
		}
		if (m->buf[i] == '\n') {
			size_t start = *pos;

			*len = i - start;
			m->buf[i] = '\0';
			*pos = i + 1;
			return (long)start;
		}
	}
	return -1;
}

static int
request_line(struct mangled *m, char *line, size_t len)
{
	char	*uri, *hv, *end = line + len, *q;
	size_t	 vlen;

	uri = memchr(line, ' ', len);
	if (uri == NULL)
		return -1;
	*uri++ = '\0';
	while (uri < end && *uri == ' ')
		uri++;
	if (uri == end)
		return -1;			/* no version */
	hv = end - 1;
	while (*hv == ' ' && hv > uri)
		hv--;
	while (*hv != ' ' && hv > uri)
		hv--;
	if (hv <= uri)
		return -1;
	*hv = '\0';
	m->version = hv + 1;
	vlen = (size_t)(end - m->version);
	if (vlen != 8 || strncmp(m->version, "HTTP/1.", 7) != 0 ||
	    m->version[7] < '0' || m->version[7] > '9')
		return -1;
	if (memchr(uri, ' ', (size_t)(hv - uri)) != NULL)
		return -1;			/* strict: space in the URI */
	snprintf(m->target, sizeof(m->target), "%s", uri);
	q = memchr(uri, '?', (size_t)(hv - uri));
	if (q != NULL)
		*q = '\0';			/* arguments parsed in place */
	return 0;
}

static int
header_line(char *line, char **colon)
{
	char	*c = strchr(line, ':');

	if (c == NULL)
		return -1;
	*c++ = '\0';
	while (*c == ' ' || *c == '\t')
		c++;
	*colon = c;
	return 0;
}

static const char *
find_field(const struct mangled *m, const char *name)
{
	size_t	 i;

	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->f[i].name, name) == 0)
			return m->f[i].value;
	return NULL;
}

/* parse_connection_headers: Host, then Content-Length unless there is a
 * Transfer-Encoding. */
static void
connection_headers(struct mangled *m)
{
	const char	*cl;
	size_t		 i;
	uint64_t	 x = 0;

	if (m->version[7] != '0' && find_field(m, "host") == NULL) {
		m->mhd_status = 400;
		return;
	}
	if (find_field(m, "transfer-encoding") != NULL)
		return;
	cl = find_field(m, "content-length");
	if (cl == NULL)
		return;
	for (i = 0; cl[i] >= '0' && cl[i] <= '9'; i++) {
		if (x > (UINT64_MAX - 9) / 10) {
			m->mhd_status = 413;
			return;
		}
		x = x * 10 + (uint64_t)(cl[i] - '0');
	}
	if (i == 0 || cl[i] != '\0')
		m->mhd_status = 400;
}

static void
mhd_like(struct mangled *m, const char *req, size_t len)
{
	size_t	 pos = 0, ll, last_len;
	long	 start;
	char	*line, *last = NULL, *colon = NULL, *tmp;
	int	 last_seen = 0;

	memset(m, 0, sizeof(*m));
	assert_true(len <= HEAD_MAX);
	memcpy(m->buf, req, len);
	m->len = len;
	m->pool = HEAD_MAX;
	do {					/* empty lines before it */
		start = next_line(m, &pos, &ll);
		if (start < 0)
			goto refused;
	} while (m->buf[start] == '\0');
	m->method = (size_t)start;
	if (request_line(m, m->buf + start, ll) == -1)
		goto refused;
	for (;;) {
		start = next_line(m, &pos, &ll);
		if (start < 0)
			goto refused;
		line = m->buf + start;
		if (last != NULL && (line[0] == ' ' || line[0] == '\t')) {
			/* obs-fold: the continuation joins the *name* in a
			 * new block; the old one is zeroed */
			tmp = line;
			while (*tmp == ' ' || *tmp == '\t')
				tmp++;
			last_len = strlen(last);
			assert_true(m->pool + last_len + strlen(tmp) + 1 <=
			    sizeof(m->buf));
			memcpy(m->buf + m->pool, last, last_len);
			memcpy(m->buf + m->pool + last_len, tmp,
			    strlen(tmp) + 1);
			memset(last, 0, last_len + 1);
			last = m->buf + m->pool;
			m->pool += last_len + strlen(tmp) + 1;
			continue;
		}
		if (last != NULL) {
			assert_true(m->n < sizeof(m->f) / sizeof(m->f[0]));
			m->f[m->n].name = last;
			m->f[m->n].name_len = strlen(last);
			m->f[m->n].value = colon;
			m->f[m->n].value_len = strlen(colon);
			m->n++;
			last = NULL;
		}
		if (line[0] == '\0')
			break;			/* the empty line (or a NUL) */
		if (header_line(line, &colon) == -1)
			goto refused;
		/* After a field, MHD looks at the line again once its colon
		 * is a NUL: an empty name reads as the empty line. */
		if (last_seen && line[0] == '\0')
			break;
		last = line;
		last_seen = 1;
	}
	m->head_size = pos - m->method;
	connection_headers(m);
	return;
refused:
	m->refused = 1;
}

static enum http_frame_rule
check_mangled(const struct mangled *m, struct http_frame_verdict *v)
{
	struct http_frame_head	 h;

	memset(&h, 0, sizeof(h));
	h.raw = m->buf + m->method;
	h.raw_len = m->head_size;
	h.version = m->version;
	h.target = m->target;
	h.fields = m->f;
	h.n_fields = m->n;
	return http_frame_check(&h, v);
}

/* --- the tests ------------------------------------------------------------ */

static enum http_frame_rule
rule_named(const char *name)
{
	int	 r;

	for (r = 0; r < HTTP_FRAME__COUNT; r++)
		if (strcmp(http_frame_name((enum http_frame_rule)r), name) == 0)
			return (enum http_frame_rule)r;
	fail_msg("unknown rule %s", name);
	return HTTP_FRAME__COUNT;
}

/* Each row: the rule, and what the answer column says of MHD. */
static void
test_rows(void **state)
{
	struct mangled			*m;
	struct http_frame_verdict	 v;
	enum http_frame_rule		 want, got;
	size_t				 i;
	unsigned			 mhd;

	(void)state;
	m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_true(n_rows >= 40);
	for (i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];

		mhd_like(m, r->req, r->len);
		if (strcmp(r->rule, "-") == 0) {
			if (!m->refused)
				fail_msg("%s: MHD would split this head",
				    r->name);
			continue;
		}
		if (m->refused)
			fail_msg("%s: MHD would not split this head", r->name);
		mhd = strncmp(r->answer, "mhd:", 4) == 0 ?
		    (unsigned)atoi(r->answer + 4) : 0;
		if (m->mhd_status != mhd)
			fail_msg("%s: MHD's own answer %u, the table says %s",
			    r->name, m->mhd_status, r->answer);
		want = rule_named(r->rule);
		got = check_mangled(m, &v);
		if (want == HTTP_FRAME_PREFLIGHT_BODY && got == HTTP_FRAME_OK)
			got = http_frame_preflight(&v);
		if (got != want)
			fail_msg("%s: rule %s, want %s", r->name,
			    http_frame_name(got), r->rule);
		if (got != v.rule && want != HTTP_FRAME_PREFLIGHT_BODY)
			fail_msg("%s: verdict rule %s differs", r->name,
			    http_frame_name(v.rule));
	}
	free(m);
}

/* Every rule is some row's (LAYOUT: see test_layout), and every row's
 * answer is coherent with its rule. */
static void
test_table(void **state)
{
	int		 r, seen;
	size_t		 i;

	(void)state;
	assert_string_equal(http_frame_name(HTTP_FRAME_OK), "OK");
	for (r = 1; r < HTTP_FRAME__COUNT; r++) {
		enum http_frame_rule fr = (enum http_frame_rule)r;

		assert_int_equal(http_frame_status(fr), 400);
		assert_int_equal(s3_err_status(http_frame_error(fr)), 400);
		assert_true(http_frame_closes(fr));
		assert_true(strlen(http_frame_message(fr)) > 10);
		assert_true(strlen(http_frame_source(fr)) > 5);
		if (fr == HTTP_FRAME_LAYOUT)
			continue;
		seen = 0;
		for (i = 0; i < n_rows; i++)
			if (strcmp(rows[i].rule, http_frame_name(fr)) == 0)
				seen++;
		if (seen == 0)
			fail_msg("rule %s has no row", http_frame_name(fr));
	}
	for (i = 0; i < n_rows; i++) {
		const char *a = rows[i].answer;

		if (strcmp(a, "frame") == 0 && (strcmp(rows[i].rule, "OK") == 0
		    || strcmp(rows[i].rule, "-") == 0))
			fail_msg("%s: answered by the checker, yet no rule",
			    rows[i].name);
		if (strncmp(a, "auth", 4) == 0 && strcmp(rows[i].rule, "OK"))
			fail_msg("%s: past the checks, yet rule %s",
			    rows[i].name, rows[i].rule);
		if (strcmp(a, "frame") && strcmp(a, "auth") &&
		    strcmp(a, "auth-close") && strncmp(a, "mhd:", 4))
			fail_msg("%s: unknown answer %s", rows[i].name, a);
	}
	assert_int_equal(http_frame_status((enum http_frame_rule)999), 400);
	assert_true(http_frame_closes((enum http_frame_rule)999));
}

/* What a good head tells the front. */
static void
test_verdict(void **state)
{
	static const struct {
		const char	*req;
		int		 has_length;
		uint64_t	 length;
		int		 chunked;
	} cases[] = {
		{ "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
		    1, 5, 0 },
		{ "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: "
		    "5497558138880\r\n\r\n", 1, HTTP_FRAME_MAX_LENGTH, 0 },
		{ "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: "
		    "0005\r\n\r\n", 1, 5, 0 },
		{ "PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n", 0, 0, 1 },
		{ "GET /b/k?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n", 0, 0, 0 },
		{ "GET /b/k HTTP/1.0\r\n\r\n", 0, 0, 0 },
		{ "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: "
		    "keep-alive, Upgrade\r\n\r\n", 0, 0, 0 },
		{ "GET / HTTP/1.1\r\nHost: \r\n\r\n", 0, 0, 0 },
	};
	struct mangled			*m;
	struct http_frame_verdict	 v;
	size_t				 i;

	(void)state;
	m = malloc(sizeof(*m));
	assert_non_null(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mhd_like(m, cases[i].req, strlen(cases[i].req));
		assert_false(m->refused);
		if (check_mangled(m, &v) != HTTP_FRAME_OK)
			fail_msg("case %zu: %s (%s)", i,
			    http_frame_name(v.rule), v.field ? v.field : "-");
		assert_int_equal(v.has_length, cases[i].has_length);
		assert_true(v.length == cases[i].length);
		assert_int_equal(v.chunked, cases[i].chunked);
		assert_int_equal(v.close_after, cases[i].chunked);
		assert_null(v.field);
		assert_int_equal(http_frame_preflight(&v),
		    cases[i].chunked || cases[i].length > 0 ?
		    HTTP_FRAME_PREFLIGHT_BODY : HTTP_FRAME_OK);
	}
	free(m);
}

/* Heads MHD would never hand over: refused, never read past. */
static void
test_layout(void **state)
{
	static const char good[] = "GET\0/b/k\0HTTP/1.1\0\0Host\0 h\0\0\0\0";
	struct http_frame_field		 f = { good + 19, 4, good + 25, 1 };
	struct http_frame_head		 h;
	struct http_frame_verdict	 v;
	char				 bad[sizeof(good)];

	(void)state;
	memset(&h, 0, sizeof(h));
	h.raw = good;
	h.raw_len = sizeof(good) - 1;
	h.version = good + 9;
	h.target = "/b/k";
	h.fields = &f;
	h.n_fields = 1;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_OK);

	assert_int_equal(http_frame_check(NULL, &v), HTTP_FRAME_LAYOUT);
	h.version = good + 30;			/* past the head */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.version = "HTTP/1.1";			/* elsewhere */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.version = good + 9;
	h.target = "/b/kk";			/* longer than the line */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.target = NULL;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.target = "/b/k";
	h.raw_len -= 1;				/* the end cut short */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_BARE_LF);
	h.raw_len -= 3;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.raw_len = sizeof(good) - 1;
	f.value = good + 24;			/* the value is not where MHD
						 * put it */
	f.value_len = 2;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_OK);
	f.value = good + 21;			/* overlapping the name */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	f.value = good + 25;
	f.value_len = 1;
	f.name = good + 20;			/* a field not at a line: */
	f.name_len = 3;				/* bytes nobody accounts for */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_NUL);
	f.name = good + 19;
	f.name_len = 4;
	h.fields = NULL;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	h.fields = &f;
	memcpy(bad, good, sizeof(good));
	bad[23] = 'x';				/* no NUL for the colon */
	h.raw = bad;
	h.version = bad + 9;
	f.name = bad + 19;
	f.value = bad + 25;
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	memcpy(bad, good, sizeof(good));
	bad[24] = 'x';				/* not whitespace before it */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	memcpy(bad, good, sizeof(good));
	bad[17] = 'x';				/* no line end after version */
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
	memcpy(bad, good, sizeof(good));
	memcpy(bad + 9, "HTTP/2.0", 8);
	assert_int_equal(http_frame_check(&h, &v), HTTP_FRAME_LAYOUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_layout),
	};
	int	 rc;
	size_t	 i;

	load_rows();
	rc = cmocka_run_group_tests_name("http_frame", tests, NULL, NULL);
	for (i = 0; i < n_rows; i++)
		free(rows[i].req);
	free(rows);
	return rc;
}
