/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_table: see cfg_table.h.  The table is checked against the structs
 * of cfg.h at compile time; a value is parsed by its key's type
 * (cfg_value.c), checked against the key's upper bound (every number has
 * one: cfg_keys.h), and stored in its field, a list item by item.
 * Problems are reported through the loader (cfg.c).
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_loader.h"
#include "cfg_table.h"
#include "cfg_value.h"

/* Section name (the table's first column) -> scope and struct. */
#define SCOPE_server		SCOPE_GLOBAL
#define SCOPE_upstream		SCOPE_GLOBAL
#define SCOPE_auth		SCOPE_GLOBAL
#define SCOPE_cloudfront	SCOPE_GLOBAL
#define SCOPE_log		SCOPE_GLOBAL
#define SCOPE_client		SCOPE_CLIENT
#define SCOPE_bucket		SCOPE_BUCKET
#define STRUCT_server		struct cfg
#define STRUCT_upstream		struct cfg
#define STRUCT_auth		struct cfg
#define STRUCT_cloudfront	struct cfg
#define STRUCT_log		struct cfg
#define STRUCT_client		struct cfg_client
#define STRUCT_bucket		struct cfg_bucket

/*
 * Check at compile time that each field has the C type its key's type
 * stores, so the table and the structs in cfg.h cannot drift apart.  An
 * enum is compatible with some integer type of int's size.
 */
#define KIND(e) _Generic((e),						\
	char *: 1, int64_t: 2, uint64_t: 3, unsigned int: 4,		\
	double: 5, int: 6, char **: 7, struct cfg_grant *: 8,		\
	default: 0)
#define IS_STRING(e)	(KIND(e) == 1)
#define IS_NONEMPTY(e)	(KIND(e) == 1)
#define IS_WORD(e)	(KIND(e) == 1)
#define IS_HOSTPORT(e)	(KIND(e) == 1)
#define IS_URL(e)	(KIND(e) == 1)
#define IS_HOST(e)	(KIND(e) == 1)
#define IS_SECRET(e)	(KIND(e) == 1)
#define IS_BUCKET(e)	(KIND(e) == 1)
#define IS_PREFIX(e)	(KIND(e) == 1)
#define IS_DURATION(e)	(KIND(e) == 2)
#define IS_SIZE(e)	(KIND(e) == 3)
#define IS_UINT(e)	(KIND(e) == 4)
#define IS_DOUBLE(e)	(KIND(e) == 5)
#define IS_BOOL(e)	(KIND(e) == 6)
#define IS_ENUM(e)	(sizeof(e) == sizeof(int) &&			\
			    (KIND(e) == 4 || KIND(e) == 6))
#define IS_IDS(e)	(KIND(e) == 7)
#define IS_NAMES(e)	(KIND(e) == 7)
#define IS_GRANTS(e)	(KIND(e) == 8)

#define CFG_KEY(s, k, t, f, d, ch, desc)				\
	_Static_assert(IS_##t(((STRUCT_##s *)0)->f),			\
	    #s "." #k ": field type does not match " #t);
#define CFG_LIST(s, k, t, f, d, desc)					\
	_Static_assert(IS_##t(((STRUCT_##s *)0)->f) &&			\
	    sizeof(((STRUCT_##s *)0)->n_##f) == sizeof(size_t),		\
	    #s "." #k ": field type does not match " #t);
#include "cfg_keys.h"

_Static_assert(sizeof(enum cfg_auth_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_addressing) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(int), "enum size");

/* Each numeric type's upper bound, for keys that name none. */
static const struct {
	enum ktype	 type;
	const char	*max;
} type_max[] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)
#define CFG_LIST(s, k, t, f, d, desc)
#define CFG_TYPE_MAX(t, max)	{ T_##t, max },
#include "cfg_keys.h"
};

const struct keydef cfg_keys[K__COUNT] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)				\
	{ #s, #k, SCOPE_##s, T_##t, offsetof(STRUCT_##s, f), 0,		\
	    d, ch, desc },
#define CFG_LIST(s, k, t, f, d, desc)					\
	{ #s, #k, SCOPE_##s, T_##t, offsetof(STRUCT_##s, f),		\
	    offsetof(STRUCT_##s, n_##f), d, NULL, desc },
#include "cfg_keys.h"
};

/* The table's name for a [server]-like section, or NULL. */
const char *
cfg_table_section(const char *s, size_t n)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (cfg_keys[k].scope == SCOPE_GLOBAL &&
		    strlen(cfg_keys[k].section) == n &&
		    strncmp(cfg_keys[k].section, s, n) == 0)
			return cfg_keys[k].section;
	return NULL;
}

int
cfg_table_find(enum scope sc, const char *section, const char *name)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (cfg_keys[k].scope == sc &&
		    strcmp(cfg_keys[k].section, section) == 0 &&
		    strcmp(cfg_keys[k].name, name) == 0)
			return (int)k;
	return -1;
}

static void
free_secret(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s) && *s != '\t')
			return 1;
	return 0;
}

static void
set_string(const struct keydef *kd, void *base, char *v)
{
	char	**sp;

	sp = field_ptr(base, kd->off);
	if (kd->type == T_SECRET)
		free_secret(*sp);
	else
		free(*sp);
	*sp = v;
}

static void
free_field(const struct keydef *kd, void *base)
{
	char			***lp;
	struct cfg_grant	**gp;
	size_t			*np, i;

	switch (kd->type) {
	case T_IDS:
	case T_NAMES:
		lp = field_ptr(base, kd->off);
		np = field_ptr(base, kd->noff);
		for (i = 0; i < *np; i++)
			free((*lp)[i]);
		free(*lp);
		*lp = NULL;
		*np = 0;
		break;
	case T_GRANTS:
		gp = field_ptr(base, kd->off);
		np = field_ptr(base, kd->noff);
		for (i = 0; i < *np; i++)
			free((*gp)[i].bucket);
		free(*gp);
		*gp = NULL;
		*np = 0;
		break;
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_SECRET:
	case T_BUCKET:
	case T_PREFIX:
		set_string(kd, base, NULL);
		break;
	case T_DURATION:
	case T_SIZE:
	case T_UINT:
	case T_DOUBLE:
	case T_BOOL:
	case T_ENUM:
		break;
	}
}

void
cfg_table_free_fields(enum scope sc, void *base)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (cfg_keys[k].scope == sc)
			free_field(&cfg_keys[k], base);
}

/* One item of a list key; 0, or -1 after reporting. */
static int
add_item(struct loader *ld, const struct keydef *kd, void *base,
    const char *item, size_t n, const struct origin *at)
{
	char			***lp, **items, *name;
	struct cfg_grant	**gp, *grants;
	const char		*colon;
	size_t			*np, i, nlen;
	unsigned		 rights;

	np = field_ptr(base, kd->noff);
	if (kd->type == T_IDS || kd->type == T_NAMES) {
		if (kd->type == T_IDS) {
			for (i = 0; i < n; i++)
				if (!isalnum((unsigned char)item[i]))
					break;
			if (i < n || n > 128) {
				cfg_report(ld, at, "bad %s item \"%.*s\": "
				    "expected a CloudFront distribution id, "
				    "as E2EXAMPLE1", kd->name, (int)n, item);
				return -1;
			}
		} else if (!cfg_value_word(item, n) ||
		    memchr(item, '/', n) != NULL ||
		    (n == 1 && item[0] == '.') ||
		    (n == 2 && item[0] == '.' && item[1] == '.')) {
			cfg_report(ld, at, "bad %s item \"%.*s\": expected a "
			    "file name, as index.html", kd->name, (int)n, item);
			return -1;
		}
		name = cfg_xstrndup(ld, item, n);
		if (name == NULL)
			return -1;
		lp = field_ptr(base, kd->off);
		items = realloc(*lp, (*np + 1) * sizeof(*items));
		if (items == NULL) {
			free(name);
			cfg_report_oom(ld);
			return -1;
		}
		items[(*np)++] = name;
		*lp = items;
		return 0;
	}

	/* T_GRANTS: "bucket:RIGHT"; a bucket named again adds rights. */
	colon = memchr(item, ':', n);
	if (colon == NULL) {
		cfg_report(ld, at, "bad %s item \"%.*s\": expected "
		    "bucket:RIGHT, RIGHT one of r, w, rw or admin", kd->name,
		    (int)n, item);
		return -1;
	}
	nlen = (size_t)(colon - item);
	rights = cfg_value_rights(colon + 1, n - nlen - 1);
	if (rights == 0) {
		cfg_report(ld, at, "bad %s item \"%.*s\": the right must be r "
		    "(read), w (write objects), rw (both) or admin (bucket "
		    "configuration)", kd->name, (int)n, item);
		return -1;
	}
	if (!(nlen == 1 && item[0] == '*') && !cfg_value_bucket(item, nlen)) {
		cfg_report(ld, at, "bad %s item \"%.*s\": \"%.*s\" is not a "
		    "bucket name or *", kd->name, (int)n, item, (int)nlen,
		    item);
		return -1;
	}
	gp = field_ptr(base, kd->off);
	for (i = 0; i < *np; i++) {
		if (strlen((*gp)[i].bucket) != nlen ||
		    strncmp((*gp)[i].bucket, item, nlen) != 0)
			continue;
		if ((rights & ~(*gp)[i].rights) == 0) {
			cfg_report(ld, at, "bucket \"%.*s\" appears twice in "
			    "%s: \"%.*s\" adds no right", (int)nlen, item,
			    kd->name, (int)n, item);
			return -1;
		}
		(*gp)[i].rights |= rights;
		return 0;
	}
	name = cfg_xstrndup(ld, item, nlen);
	if (name == NULL)
		return -1;
	grants = realloc(*gp, (*np + 1) * sizeof(*grants));
	if (grants == NULL) {
		free(name);
		cfg_report_oom(ld);
		return -1;
	}
	grants[*np].bucket = name;
	grants[*np].rights = rights;
	(*np)++;
	*gp = grants;
	return 0;
}

static int
set_list(struct loader *ld, const struct keydef *kd, void *base,
    const char *text, int append, const struct origin *at)
{
	const char	*p, *item, *end;
	size_t		 n, len;
	int		 rc;

	if (!append)
		free_field(kd, base);
	p = text;
	while (isspace((unsigned char)*p))
		p++;
	/* A trailing comma is fine: the list may go on the next line. */
	len = strlen(p);
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len > 0 && p[len - 1] == ',')
		len--;
	if (len == 0)
		return 0;
	rc = 0;
	for (;;) {
		n = strcspn(p, ",");
		if (n > len)
			n = len;
		item = p;
		end = p + n;
		while (item < end && isspace((unsigned char)*item))
			item++;
		while (end > item && isspace((unsigned char)end[-1]))
			end--;
		if (end == item) {
			cfg_report(ld, at, "bad %s: empty item in the list",
			    kd->name);
			rc = -1;
		} else if (add_item(ld, kd, base, item,
		    (size_t)(end - item), at) == -1)
			rc = -1;
		if (n >= len)
			break;
		p += n + 1;
		len -= n + 1;
	}
	return rc;
}

/* A numeric key's upper bound, as text in the key's own syntax. */
static const char *
key_max(const struct keydef *kd)
{
	size_t	 i;

	if (kd->choices != NULL)
		return kd->choices;
	for (i = 0; i < sizeof(type_max) / sizeof(type_max[0]); i++)
		if (type_max[i].type == kd->type)
			return type_max[i].max;
	return NULL;
}

/*
 * 1 when v (parsed as kd's type) is above kd's upper bound, with why in
 * buf; 0 when it is not.  The bound is read with the value's own parser,
 * so "64k" means here what it means in the file.
 */
static int
above_max(const struct keydef *kd, const void *v, char *buf, size_t size)
{
	const char	*max = key_max(kd);
	int64_t		 ms;
	uint64_t	 n;
	unsigned	 u;
	double		 d;
	int		 above;

	if (max == NULL)
		return 0;
	switch (kd->type) {
	case T_DURATION:
		above = cfg_parse_duration(max, &ms) == -1 ||
		    *(const int64_t *)v > ms;
		break;
	case T_SIZE:
		above = cfg_parse_size(max, &n) == -1 ||
		    *(const uint64_t *)v > n;
		break;
	case T_UINT:
		above = cfg_value_uint(max, &u) == -1 ||
		    *(const unsigned *)v > u;
		break;
	case T_DOUBLE:
		above = cfg_value_double(max, &d) == -1 ||
		    *(const double *)v > d;
		break;
	default:
		return 0;
	}
	if (above)
		snprintf(buf, size, "must be at most %s", max);
	return above;
}

/*
 * Parse text as key kd's type and store it in base (the struct cfg,
 * cfg_client or cfg_bucket).  append: a continuation line adds to a list.
 * Returns 0, or -1 after reporting the problem at at.
 */
int
cfg_table_set(struct loader *ld, const struct keydef *kd, void *base,
    const char *text, int append, const struct origin *at)
{
	struct buf	 b;
	const char	*why;
	char		*norm, over[128];
	void		*field;
	union {				/* a number, parsed */
		int64_t		 ms;
		uint64_t	 size;
		unsigned	 u;
		double		 d;
		int		 i;	/* BOOL, ENUM */
	} v;

	why = NULL;
	norm = NULL;
	field = field_ptr(base, kd->off);
	if (has_ctl(text)) {
		cfg_report(ld, at, "bad %s: the value contains a control "
		    "character", kd->name);
		return -1;
	}
	switch (kd->type) {
	case T_IDS:
	case T_NAMES:
	case T_GRANTS:
		return set_list(ld, kd, base, text, append, at);
	case T_STRING:
		break;
	case T_NONEMPTY:
		if (*text == '\0')
			why = "must not be empty";
		break;
	case T_SECRET:
		/* An optional secret (server.admin_token) may be empty:
		 * none.  A client's never is. */
		if (*text == '\0' && kd->scope != SCOPE_GLOBAL)
			why = "must not be empty";
		break;
	case T_WORD:
		if (!cfg_value_word(text, strlen(text)))
			why = "expected one word without spaces";
		break;
	case T_HOSTPORT:
		why = cfg_value_hostport(text);
		break;
	case T_URL:
		why = cfg_value_url(text, &norm);
		if (why == NULL && norm == NULL) {
			cfg_report_oom(ld);
			return -1;
		}
		break;
	case T_HOST:
		why = cfg_value_host(text);
		break;
	case T_BUCKET:
		if (*text != '\0' && !cfg_value_bucket(text, strlen(text)))
			why = "expected a bucket name (letters, digits, "
			    "'.', '-', '_')";
		break;
	case T_PREFIX:
		why = cfg_value_prefix(text, &norm);
		if (why == NULL && norm == NULL) {
			cfg_report_oom(ld);
			return -1;
		}
		break;
	case T_DURATION:
		if (cfg_parse_duration(text, &v.ms) == -1)
			why = "expected a duration: a whole number and ms, s, "
			    "m, h or d, as 500ms, 5s or 2m";
		break;
	case T_SIZE:
		if (cfg_parse_size(text, &v.size) == -1)
			why = "expected a size: a whole number of bytes, or "
			    "with k, m, g or t, as 64k or 1g";
		break;
	case T_UINT:
		if (cfg_value_uint(text, &v.u) == -1)
			why = "expected a whole number";
		break;
	case T_DOUBLE:
		if (cfg_value_double(text, &v.d) == -1)
			why = "expected a number, as 0.5";
		break;
	case T_BOOL:
		if (cfg_value_bool(text, &v.i) == -1)
			why = "expected yes or no";
		break;
	case T_ENUM:
		v.i = cfg_value_enum(kd->choices, text);
		if (v.i == -1) {
			buf_init(&b);
			buf_puts(&b, "expected ");
			cfg_value_enum_expected(&b, kd->choices);
			cfg_report(ld, at, "bad %s \"%s\": %s", kd->name, text,
			    buf_str(&b));
			buf_fini(&b);
			return -1;
		}
		break;
	}
	/* A number is also held to its key's upper bound. */
	if (why == NULL && above_max(kd, &v, over, sizeof(over)))
		why = over;
	if (why != NULL) {
		if (kd->type == T_SECRET)
			cfg_report(ld, at, "bad %s: %s", kd->name, why);
		else
			cfg_report(ld, at, "bad %s \"%s\": %s", kd->name, text,
			    why);
		free(norm);
		return -1;
	}
	switch (kd->type) {
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_SECRET:
	case T_BUCKET:
	case T_PREFIX:
		if (norm == NULL)
			norm = cfg_xstrdup(ld, text);
		if (norm == NULL)
			return -1;
		set_string(kd, base, norm);
		break;
	case T_DURATION:
		*(int64_t *)field = v.ms;
		break;
	case T_SIZE:
		*(uint64_t *)field = v.size;
		break;
	case T_UINT:
		*(unsigned *)field = v.u;
		break;
	case T_DOUBLE:
		*(double *)field = v.d;
		break;
	case T_BOOL:
	case T_ENUM:
		*(int *)field = v.i;
		break;
	case T_IDS:
	case T_NAMES:
	case T_GRANTS:
		break;		/* set_list() stored them */
	}
	return 0;
}

void
cfg_table_defaults(struct loader *ld, enum scope sc, void *base)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (cfg_keys[k].scope == sc && cfg_keys[k].def != NULL)
			cfg_table_set(ld, &cfg_keys[k], base, cfg_keys[k].def,
			    0, NULL);
}
