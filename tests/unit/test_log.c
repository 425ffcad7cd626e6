/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_log: what reaches the log file, for keys holding anything.
 *
 * - util_utf8_next(): well-formed sequences of 1-4 bytes, and what RFC
 *   3629 refuses (over-long forms, surrogates, past U+10FFFF, stray
 *   continuation bytes, cut sequences).
 * - jstr_new(): valid text kept exactly (controls included, a parser
 *   gives it back), each invalid byte as \xhh.
 * - log_event()/log_msg() in JSON: every line parses (jansson's own
 *   parser, which refuses invalid UTF-8), and gives back each key, raw
 *   0xFF and control bytes escaped as promised; numbers stay numbers; a
 *   field cannot overwrite time, level or event.
 * - the same in text: one line per call, whatever the key holds; a value
 *   with a space, quote, control byte or invalid UTF-8 is quoted and
 *   escaped.
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
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "jstr.h"
#include "log.h"
#include "util.h"

static const struct {
	const char	*in;
	size_t		 len;		/* 0: invalid */
	uint32_t	 cp;
} utf8_rows[] = {
	{ "a", 1, 0x61 },
	{ "\x01", 1, 0x01 },
	{ "\x7f", 1, 0x7f },
	{ "\xc3\xa9", 2, 0xe9 },
	{ "\xe6\x97\xa5", 3, 0x65e5 },
	{ "\xef\xbf\xbf", 3, 0xffff },
	{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
	{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	{ "\xff", 0, 0 },
	{ "\xfe", 0, 0 },
	{ "\x80", 0, 0 },
	{ "\xbf", 0, 0 },
	{ "\xc0\xaf", 0, 0 },		/* over-long '/' */
	{ "\xc1\xbf", 0, 0 },
	{ "\xe0\x80\xaf", 0, 0 },	/* over-long */
	{ "\xed\xa0\x80", 0, 0 },	/* surrogate U+D800 */
	{ "\xf0\x80\x80\xaf", 0, 0 },	/* over-long */
	{ "\xf4\x90\x80\x80", 0, 0 },	/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xc3", 0, 0 },		/* cut at the string's end */
	{ "\xe6\x97", 0, 0 },
	{ "\xe6\x97x", 0, 0 },
	{ "\xc3(", 0, 0 },
};

static void
test_utf8_next(void **state)
{
	uint32_t	 cp;
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]); i++) {
		cp = 0xdeadbeef;
		n = util_utf8_next(utf8_rows[i].in, &cp);
		if (n != utf8_rows[i].len)
			print_message("# row %zu: %zu\n", i, n);
		assert_int_equal(n, utf8_rows[i].len);
		if (n > 0)
			assert_int_equal(cp, utf8_rows[i].cp);
	}
}

/* What jstr_new() makes of in, as a parser reads it back. */
static const struct {
	const char	*in;
	const char	*back;
} jstr_rows[] = {
	{ "plain/key.html", "plain/key.html" },
	{ "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
	{ "tab\tnl\ncr\rbel\x07" "del\x7f", "tab\tnl\ncr\rbel\x07" "del\x7f" },
	{ "quote\"back\\slash", "quote\"back\\slash" },
	{ "raw\xff" "byte", "raw\\xffbyte" },
	{ "\xc3(", "\\xc3(" },
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },
	{ "ends\xe6\x97", "ends\\xe6\\x97" },
	{ "", "" },
};

static void
test_jstr(void **state)
{
	json_t		*j;
	json_error_t	 e;
	char		*dump;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(jstr_rows) / sizeof(jstr_rows[0]); i++) {
		j = jstr_new(jstr_rows[i].in);
		assert_non_null(j);
		assert_string_equal(json_string_value(j), jstr_rows[i].back);
		/* Written and read again: the same string. */
		dump = json_dumps(j, JSON_ENCODE_ANY);
		assert_non_null(dump);
		json_decref(j);
		j = json_loads(dump, JSON_DECODE_ANY, &e);
		assert_non_null(j);
		assert_string_equal(json_string_value(j), jstr_rows[i].back);
		json_decref(j);
		free(dump);
	}
	j = jstr_new(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

/* jstr_dump(): appended, compact, keys in the order they were set (not
 * sorted), invalid UTF-8 escaped by jstr_new; a failed json_pack is -1. */
static void
test_jstr_dump(void **state)
{
	struct buf	 b;
	json_t		*o;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "x=");
	o = json_pack("{s:I,s:o,s:[f,b]}", "z", (json_int_t)7, "a",
	    jstr_new("k\xff\n"), "m", 0.015, 1);
	assert_int_equal(jstr_dump(&b, o), 0);
	assert_string_equal(buf_str(&b),
	    "x={\"z\":7,\"a\":\"k\\\\xff\\n\",\"m\":[0.015,true]}");
	json_decref(o);
	assert_int_equal(jstr_dump(&b, json_pack("{s:o}", "a", NULL)), -1);
	buf_fini(&b);
}

/* --- the log file ------------------------------------------------------ */

static const char *const keys[] = {
	"index.html",
	"a b/\"quoted\"\\back.html",
	"nl\nforged event=request status=200",
	"ctl\x01\x1f\x7f.txt",
	"raw\xff\xfe.bin",
	"caf\xc3\xa9/\xe6\x97\xa5.html",
	"cut\xe6\x97",
	"",
};

/* The file's lines; *n gets their count. */
static char **
read_lines(const char *path, size_t *n)
{
	FILE	*f = fopen(path, "r");
	char	**v = NULL, *line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;

	assert_non_null(f);
	*n = 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		assert_true(len > 0 && line[len - 1] == '\n');
		line[len - 1] = '\0';
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return v;
}

static void
free_lines(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

static char *
temp_path(void)
{
	char	*p = strdup("/tmp/test_log.XXXXXX");
	int	 fd = mkstemp(p);

	assert_true(fd >= 0);
	close(fd);
	return p;
}

/* What jstr_new() gives for s: the value the JSON log must hold. */
static char *
expected(const char *s)
{
	struct buf	 b;

	buf_init(&b);
	assert_int_equal(jstr_utf8(&b, s), 0);
	return b.data != NULL ? buf_take(&b) : strdup("");
}

static void
test_json_lines(void **state)
{
	char		*path = temp_path(), **lines, *want;
	json_t		*o;
	json_error_t	 e;
	size_t		 n, i;

	(void)state;
	assert_int_equal(log_init(1, LOG_DEBUG, path), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		log_event(LOG_INFO, "request", (struct log_field[]){
		    LOG_STR("method", "PUT"), LOG_STR("key", keys[i]),
		    LOG_NUM("status", 200), LOG_NUM("bytes", -1),
		    LOG_STR("event", "forged"), LOG_STR("none", NULL) }, 6);
	log_msg(LOG_WARN, "cannot map key %s: \"%d\"", keys[4], 7);
	log_msg(LOG_DEBUG, "two\nlines");
	log_fini();

	lines = read_lines(path, &n);
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]) + 2);
	for (i = 0; i < n; i++) {
		/* jansson's parser refuses invalid UTF-8 and raw controls. */
		o = json_loads(lines[i], JSON_REJECT_DUPLICATES, &e);
		if (o == NULL)
			print_message("# line %zu: %s: %s\n", i, e.text,
			    lines[i]);
		assert_non_null(o);
		assert_non_null(json_string_value(json_object_get(o,
		    "time")));
		if (i < sizeof(keys) / sizeof(keys[0])) {
			want = expected(keys[i]);
			assert_string_equal(json_string_value(
			    json_object_get(o, "key")), want);
			free(want);
			assert_string_equal(json_string_value(
			    json_object_get(o, "event")), "request");
			assert_string_equal(json_string_value(
			    json_object_get(o, "level")), "info");
			assert_int_equal(json_integer_value(
			    json_object_get(o, "status")), 200);
			assert_int_equal(json_integer_value(
			    json_object_get(o, "bytes")), -1);
			assert_string_equal(json_string_value(
			    json_object_get(o, "none")), "");
		}
		json_decref(o);
	}
	/* The order of the fields is the caller's. */
	assert_true(strncmp(lines[0], "{\"time\":", 8) == 0);
	assert_non_null(strstr(lines[0], "\"level\":\"info\",\"event\":"
	    "\"request\",\"method\":\"PUT\",\"key\":\"index.html\""));
	/* Raw 0xff never reaches the file. */
	assert_non_null(strstr(lines[4], "raw\\\\xff\\\\xfe.bin"));
	assert_null(strchr(lines[4], '\xff'));
	o = json_loads(lines[n - 2], 0, &e);
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "cannot map key raw\\xff\\xfe.bin: \"7\"");
	json_decref(o);
	o = json_loads(lines[n - 1], 0, &e);
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "two\nlines");
	json_decref(o);
	free_lines(lines, n);
	unlink(path);
	free(path);
}

static void
test_text_lines(void **state)
{
	char	*path = temp_path(), **lines;
	size_t	 n, i;

	(void)state;
	assert_int_equal(log_init(0, LOG_INFO, path), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		log_event(LOG_INFO, "request", (struct log_field[]){
		    LOG_STR("key", keys[i]), LOG_NUM("status", 200) }, 2);
	log_msg(LOG_INFO, "key %s\nforged line", keys[4]);
	log_msg(LOG_DEBUG, "not at info");
	log_fini();

	lines = read_lines(path, &n);
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]) + 1);
	for (i = 0; i < n; i++) {
		assert_null(strchr(lines[i], '\xff'));
		assert_null(strchr(lines[i], '\x01'));
		assert_null(strchr(lines[i], '\x7f'));
	}
	assert_non_null(strstr(lines[0], " event=request key=index.html "
	    "status=200"));
	assert_non_null(strstr(lines[1],
	    " key=\"a b/\\\"quoted\\\"\\\\back.html\" status=200"));
	assert_non_null(strstr(lines[2], " key=\"nl\\x0aforged event=request "
	    "status=200\" status=200"));
	assert_non_null(strstr(lines[3], " key=\"ctl\\x01\\x1f\\x7f.txt\""));
	assert_non_null(strstr(lines[4], " key=\"raw\\xff\\xfe.bin\""));
	assert_non_null(strstr(lines[5],
	    " key=caf\xc3\xa9/\xe6\x97\xa5.html status"));
	assert_non_null(strstr(lines[6], " key=\"cut\\xe6\\x97\""));
	assert_non_null(strstr(lines[7], " key=\"\" status=200"));
	assert_non_null(strstr(lines[8],
	    " info key raw\\xff\\xfe.bin\\x0aforged line"));
	free_lines(lines, n);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_next),
		cmocka_unit_test(test_jstr),
		cmocka_unit_test(test_jstr_dump),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_text_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
