/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_inval_map: keys to CloudFront paths, table-driven: origin paths,
 * index documents, the encoding of every character CloudFront wants
 * encoded (Developer Guide, "Specifying the objects to invalidate") and of
 * the ones it wants left alone, the 4,000-character limit; and the strvec
 * helpers.
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

#include "buf.h"
#include "inval_map.h"

static const char *const idx_default[] = { "index.html" };
static const char *const idx_several[] = {
	"index.html", "index.htm", "default.htm"
};

enum idx { IDX_DEFAULT, IDX_SEVERAL, IDX_NONE };

struct row {
	const char	*origin;
	enum idx	 idx;
	int		 without_slash;
	const char	*key;
	const char	*want[4];	/* NULL-terminated, in emit order */
};

#define D	IDX_DEFAULT
#define S	IDX_SEVERAL

static const struct row rows[] = {
	/* Plain and nested keys. */
	{ "", D, 0, "a.html", { "/a.html" } },
	{ "", D, 0, "2018/12/08/fire-and-motion.html",
	    { "/2018/12/08/fire-and-motion.html" } },
	{ "", D, 0, "rss.xml", { "/rss.xml" } },
	{ "", D, 0, "a/", { "/a/" } },
	{ "", D, 0, "a//b", { "/a//b" } },

	/* Index documents (the seed: cached under dir/ too). */
	{ "", D, 0, "index.html", { "/index.html", "/" } },
	{ "", D, 0, "a/index.html", { "/a/index.html", "/a/" } },
	{ "", D, 0, "a/b/index.html", { "/a/b/index.html", "/a/b/" } },
	{ "", D, 0, "a/b/myindex.html", { "/a/b/myindex.html" } },
	{ "", D, 0, "a/b/index.html.bak", { "/a/b/index.html.bak" } },
	{ "", D, 0, "a/index.htm", { "/a/index.htm" } },
	{ "", D, 0, "index.html/x", { "/index.html/x" } },
	{ "", IDX_NONE, 0, "a/index.html", { "/a/index.html" } },
	{ "", S, 0, "a/index.htm", { "/a/index.htm", "/a/" } },
	{ "", S, 0, "default.htm", { "/default.htm", "/" } },
	{ "", S, 0, "a/b/index.html", { "/a/b/index.html", "/a/b/" } },
	{ "", S, 0, "a/b/default.html", { "/a/b/default.html" } },
	{ "", D, 1, "a/b/index.html",
	    { "/a/b/index.html", "/a/b/", "/a/b" } },
	{ "", D, 1, "index.html", { "/index.html", "/" } },
	{ "", S, 1, "x/default.htm", { "/x/default.htm", "/x/", "/x" } },
	{ "", D, 1, "a/b/c.html", { "/a/b/c.html" } },
	{ "", D, 0, "caf\xc3\xa9/index.html",
	    { "/caf%C3%A9/index.html", "/caf%C3%A9/" } },

	/* Origin paths. */
	{ "/site", D, 0, "site/a.html", { "/a.html" } },
	{ "/site", D, 0, "site/x/y.css", { "/x/y.css" } },
	{ "/site", D, 0, "site", { NULL } },
	{ "/site", D, 0, "siteX/a", { NULL } },
	{ "/site", D, 0, "sit", { NULL } },
	{ "/site", D, 0, "other/a.html", { NULL } },
	{ "/site", D, 0, "/site/a.html", { NULL } },
	{ "/site", D, 0, "site/", { "/" } },
	{ "/site", D, 0, "site/site/a", { "/site/a" } },
	{ "/site", D, 0, "site/index.html", { "/index.html", "/" } },
	{ "/site", D, 1, "site/b/index.html",
	    { "/b/index.html", "/b/", "/b" } },
	{ "/site", D, 1, "site/index.html", { "/index.html", "/" } },
	{ "/site/", D, 0, "site/a.html", { "/a.html" } },
	{ "site", D, 0, "site/a.html", { "/a.html" } },
	{ "/", D, 0, "a.html", { "/a.html" } },
	{ "/a/b", D, 0, "a/b/c", { "/c" } },
	{ "/a/b", D, 0, "a/bc", { NULL } },
	{ "/a/b", D, 0, "a/c/d", { NULL } },
	{ "/caf\xc3\xa9", D, 0, "caf\xc3\xa9/x y", { "/x%20y" } },

	/* RFC 1738 unsafe characters: encoded, upper-case hex. */
	{ "", D, 0, "a b", { "/a%20b" } },
	{ "", D, 0, "a<b", { "/a%3Cb" } },
	{ "", D, 0, "a>b", { "/a%3Eb" } },
	{ "", D, 0, "a\"b", { "/a%22b" } },
	{ "", D, 0, "a#b", { "/a%23b" } },
	{ "", D, 0, "a%b", { "/a%25b" } },
	{ "", D, 0, "a%20b", { "/a%2520b" } },
	{ "", D, 0, "a{b", { "/a%7Bb" } },
	{ "", D, 0, "a}b", { "/a%7Db" } },
	{ "", D, 0, "a|b", { "/a%7Cb" } },
	{ "", D, 0, "a\\b", { "/a%5Cb" } },
	{ "", D, 0, "a^b", { "/a%5Eb" } },
	{ "", D, 0, "a~b", { "/a%7Eb" } },
	{ "", D, 0, "a[b", { "/a%5Bb" } },
	{ "", D, 0, "a]b", { "/a%5Db" } },
	{ "", D, 0, "a`b", { "/a%60b" } },
	/* Never a wildcard, never a query. */
	{ "", D, 0, "a*", { "/a%2A" } },
	{ "", D, 0, "*", { "/%2A" } },
	{ "", D, 0, "a/*", { "/a/%2A" } },
	{ "", D, 0, "a?b=c", { "/a%3Fb=c" } },
	/* Everything else stays. */
	{ "", D, 0, "a+b", { "/a+b" } },
	{ "", D, 0, "a(b)!c", { "/a(b)!c" } },
	{ "", D, 0, "it's", { "/it's" } },
	{ "", D, 0, "a&b=c", { "/a&b=c" } },
	{ "", D, 0, "$-_.+!'(),;:@=&", { "/$-_.+!'(),;:@=&" } },
	{ "", D, 0, "ABCXYZabcxyz0189", { "/ABCXYZabcxyz0189" } },
	{ "", D, 0, "a b+c~(!)*'&=%.txt",
	    { "/a%20b+c%7E(!)%2A'&=%25.txt" } },
	/* Non-ASCII and control bytes. */
	{ "", D, 0, "caf\xc3\xa9", { "/caf%C3%A9" } },
	{ "", D, 0, "\xe2\x82\xac/\xff", { "/%E2%82%AC/%FF" } },
	{ "", D, 0, "a\x01" "b\x1f" "c\x7f", { "/a%01b%1Fc%7F" } },
	{ "", D, 0, "tab\there\nnl\r", { "/tab%09here%0Anl%0D" } },

	/* Odd keys. */
	{ "", D, 0, "/", { "//" } },
	{ "", D, 0, "/a", { "//a" } },
	/* The whole bucket: everything any distribution of it serves. */
	{ "", D, 0, "", { "/*" } },
	{ "/site", D, 0, "", { "/*" } },
};

#undef D
#undef S

static void
cfg_for(struct inval_map_cfg *cfg, const struct row *r)
{
	cfg->origin_path = r->origin;
	switch (r->idx) {
	case IDX_DEFAULT:
		cfg->index_documents = idx_default;
		cfg->n_index_documents = 1;
		break;
	case IDX_SEVERAL:
		cfg->index_documents = idx_several;
		cfg->n_index_documents = 3;
		break;
	default:
		cfg->index_documents = NULL;
		cfg->n_index_documents = 0;
		break;
	}
	cfg->index_without_slash = r->without_slash;
}

static void
test_table(void **state)
{
	struct inval_map_cfg	 cfg;
	struct strvec		 out;
	size_t			 i, j, nwant;
	int			 rc, too_long, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cfg_for(&cfg, &rows[i]);
		strvec_init(&out);
		/* Appends: what is already there stays. */
		assert_int_equal(strvec_push(&out, "/keep"), 0);
		too_long = 0;
		rc = inval_map_key(&cfg, rows[i].key, &out, &too_long);
		for (nwant = 0; nwant < 4 && rows[i].want[nwant] != NULL;
		    nwant++)
			;
		if (rc != (int)nwant || out.n != nwant + 1 || too_long) {
			print_error("row %zu key \"%s\": rc %d, %zu paths, "
			    "too_long %d; want %zu\n", i, rows[i].key, rc,
			    out.n - 1, too_long, nwant);
			bad++;
		}
		for (j = 0; j < nwant && j + 1 < out.n; j++) {
			if (strcmp(out.v[j + 1], rows[i].want[j]) != 0) {
				print_error("row %zu key \"%s\": path %zu is "
				    "\"%s\", want \"%s\"\n", i, rows[i].key, j,
				    out.v[j + 1], rows[i].want[j]);
				bad++;
			}
		}
		assert_string_equal(out.v[0], "/keep");
		strvec_fini(&out);
	}
	assert_int_equal(bad, 0);
}

/* n copies of c, then tail; the caller frees. */
static char *
repeat(char c, size_t n, const char *tail)
{
	char	*s;

	s = malloc(n + strlen(tail) + 1);
	assert_non_null(s);
	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

static void
test_too_long(void **state)
{
	struct inval_map_cfg	 cfg;
	struct strvec		 out;
	struct buf		 b;
	char			*key, *want, *b1, *b2;
	int			 too_long;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.origin_path = "";
	cfg.index_documents = idx_default;
	cfg.n_index_documents = 1;
	strvec_init(&out);

	/* 3,999 bytes: the path is exactly 4,000 and fits. */
	key = repeat('k', INVAL_PATH_MAX - 1, "");
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_int_equal(strlen(out.v[0]), INVAL_PATH_MAX);
	assert_int_equal(too_long, 0);
	free(key);
	strvec_fini(&out);

	/* One more: no folder but the root. */
	key = repeat('k', INVAL_PATH_MAX, "");
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_string_equal(out.v[0], "/*");
	assert_int_equal(too_long, 1);
	free(key);
	strvec_fini(&out);

	/* A 5,000-byte key in a short folder. */
	key = repeat('x', 5000, "");
	memcpy(key, "d1/d2/", 6);
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_string_equal(out.v[0], "/d1/d2/*");
	assert_int_equal(too_long, 1);
	free(key);
	strvec_fini(&out);

	/* Long folders: the deepest whose wildcard still fits. */
	b1 = repeat('a', 3900, "/");
	b2 = repeat('b', 100, "/c");
	buf_init(&b);
	buf_puts(&b, b1);
	buf_puts(&b, b2);
	key = buf_take(&b);
	assert_non_null(key);
	buf_putc(&b, '/');
	buf_puts(&b, b1);
	buf_putc(&b, '*');
	want = buf_take(&b);
	assert_non_null(want);
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_int_equal(strlen(out.v[0]), 3903);
	assert_string_equal(out.v[0], want);
	assert_int_equal(too_long, 1);
	free(b1);
	free(b2);
	free(key);
	free(want);
	strvec_fini(&out);

	/* A folder "/" + 3,998 bytes + "/": its wildcard is 4,001. */
	key = repeat('f', 3998, "/g");
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_string_equal(out.v[0], "/*");
	free(key);
	strvec_fini(&out);
	/* ... and with 3,997 bytes it is exactly 4,000. */
	key = repeat('f', 3997, "/gg");
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_int_equal(strlen(out.v[0]), INVAL_PATH_MAX);
	assert_int_equal(out.v[0][INVAL_PATH_MAX - 1], '*');
	assert_int_equal(out.v[0][INVAL_PATH_MAX - 2], '/');
	free(key);
	strvec_fini(&out);

	/* Short in bytes, long once encoded: 1,400 spaces are 4,200. */
	key = repeat(' ', 1400, "");
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_string_equal(out.v[0], "/*");
	assert_int_equal(too_long, 1);
	free(key);
	strvec_fini(&out);

	/* An index document in a long folder: the file's path does not
	 * fit, the folder's does; deeper still, neither fits, and their
	 * common wildcard comes once. */
	key = repeat('e', 3990, "/index.html");
	memcpy(key, "d/", 2);
	too_long = 0;
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 2);
	assert_int_equal(strlen(out.v[0]), 3993);
	assert_string_equal(out.v[0] + 3991, "/*");
	assert_int_equal(strlen(out.v[1]), 3992);
	assert_memory_equal(out.v[0], out.v[1], 3992);
	assert_int_equal(too_long, 1);
	free(key);
	strvec_fini(&out);
	key = repeat('e', 4100, "/index.html");
	memcpy(key, "d/", 2);
	assert_int_equal(inval_map_key(&cfg, key, &out, &too_long), 1);
	assert_string_equal(out.v[0], "/d/*");
	free(key);
	strvec_fini(&out);

	/* too_long may be NULL. */
	key = repeat('z', 4500, "");
	assert_int_equal(inval_map_key(&cfg, key, &out, NULL), 1);
	assert_string_equal(out.v[0], "/*");
	free(key);
	strvec_fini(&out);

	/* The encoder alone. */
	buf_init(&b);
	assert_int_equal(inval_path_encode(&b, "a b/c*d", 7), 0);
	assert_string_equal(buf_str(&b), "a%20b/c%2Ad");
	assert_int_equal(inval_path_encode(&b, "xyz", 2), 0);
	assert_string_equal(buf_str(&b), "a%20b/c%2Adxy");
	assert_int_equal(inval_path_encode(&b, "\0", 1), 0);
	assert_string_equal(buf_str(&b), "a%20b/c%2Adxy%00");
	buf_fini(&b);
}

static void
test_strvec(void **state)
{
	struct strvec	 sv;
	char		*s;
	size_t		 i;
	char		 name[32];

	(void)state;
	strvec_init(&sv);
	assert_int_equal(sv.n, 0);
	strvec_sort_unique(&sv);
	assert_int_equal(sv.n, 0);
	assert_int_equal(strvec_push(&sv, "/b"), 0);
	assert_int_equal(strvec_push(&sv, "/a"), 0);
	assert_int_equal(strvec_push(&sv, "/b"), 0);
	s = malloc(3);
	assert_non_null(s);
	memcpy(s, "/c", 3);
	assert_int_equal(strvec_push_take(&sv, s), 0);
	assert_ptr_equal(sv.v[3], s);
	assert_int_equal(strvec_push_take(&sv, NULL), -1);
	assert_int_equal(strvec_push(&sv, "/a"), 0);
	assert_int_equal(sv.n, 5);
	strvec_sort_unique(&sv);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "/a");
	assert_string_equal(sv.v[1], "/b");
	assert_string_equal(sv.v[2], "/c");
	/* Growth past the first allocations. */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(name, sizeof(name), "/%04zu", 999 - i);
		assert_int_equal(strvec_push(&sv, name), 0);
	}
	strvec_sort_unique(&sv);
	assert_int_equal(sv.n, 1003);
	assert_string_equal(sv.v[0], "/0000");
	assert_string_equal(sv.v[999], "/0999");
	assert_string_equal(sv.v[1002], "/c");
	strvec_fini(&sv);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v);
	strvec_fini(&sv);
	strvec_fini(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_strvec),
	};

	return cmocka_run_group_tests_name("inval_map", tests, NULL, NULL);
}
