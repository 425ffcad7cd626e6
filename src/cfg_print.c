/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_print: the effective configuration as INI, every key of the table
 * in its order, secrets masked; what it prints loads again as the same
 * configuration (fuzz_cfg checks).  Values are written in their own
 * syntax (cfg_value.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_table.h"
#include "cfg_value.h"

#define MASK		"********"

/* ", "-separated items that load back as g: "blog:rw, blog:admin". */
static void
fmt_grant(struct buf *b, const struct cfg_grant *g, int first)
{
	static const char *const rw[] = { NULL, "r", "w", "rw" };
	unsigned	 low = g->rights & 3u;

	if (!first)
		buf_puts(b, ", ");
	if (low != 0)
		buf_printf(b, "%s:%s", g->bucket, rw[low]);
	if (g->rights & CFG_RIGHT_BIT(CFG_RIGHT_ADMIN))
		buf_printf(b, "%s%s:admin", low != 0 ? ", " : "", g->bucket);
}

static void
fmt_value(struct buf *b, const struct keydef *kd, const void *base)
{
	const void		*field;
	char *const		*items;
	const struct cfg_grant	*grants;
	const char		*s;
	size_t			 i, n;

	field = field_ptr(base, kd->off);
	switch (kd->type) {
	case T_SECRET:
		/* Unset shows as empty: nothing is hidden. */
		s = *(char *const *)field;
		if (s != NULL && *s != '\0')
			buf_puts(b, MASK);
		break;
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_BUCKET:
	case T_PREFIX:
		s = *(char *const *)field;
		buf_puts(b, s != NULL ? s : "");
		break;
	case T_DURATION:
		cfg_value_fmt_duration(b, *(const int64_t *)field);
		break;
	case T_SIZE:
		cfg_value_fmt_size(b, *(const uint64_t *)field);
		break;
	case T_UINT:
		buf_printf(b, "%u", *(const unsigned *)field);
		break;
	case T_DOUBLE:
		cfg_value_fmt_double(b, *(const double *)field);
		break;
	case T_BOOL:
		buf_puts(b, *(const int *)field ? "yes" : "no");
		break;
	case T_ENUM:
		cfg_value_enum_name(b, kd->choices, *(const int *)field);
		break;
	case T_IDS:
	case T_NAMES:
		items = *(char **const *)field;
		n = *(const size_t *)field_ptr(base, kd->noff);
		for (i = 0; i < n; i++)
			buf_printf(b, "%s%s", i > 0 ? ", " : "", items[i]);
		break;
	case T_GRANTS:
		grants = *(struct cfg_grant *const *)field;
		n = *(const size_t *)field_ptr(base, kd->noff);
		for (i = 0; i < n; i++)
			fmt_grant(b, &grants[i], i == 0);
		break;
	}
}

static void
print_keys(FILE *fp, enum scope sc, const void *base)
{
	const char	*section;
	struct buf	 b;
	size_t		 k;

	buf_init(&b);
	section = NULL;
	for (k = 0; k < K__COUNT; k++) {
		if (cfg_keys[k].scope != sc)
			continue;
		if (sc == SCOPE_GLOBAL && (section == NULL ||
		    strcmp(section, cfg_keys[k].section) != 0)) {
			section = cfg_keys[k].section;
			fprintf(fp, "\n[%s]\n", section);
		}
		buf_reset(&b);
		fmt_value(&b, &cfg_keys[k], base);
		if (b.len > 0)
			fprintf(fp, "%s = %s\n", cfg_keys[k].name, buf_str(&b));
		else
			fprintf(fp, "%s =\n", cfg_keys[k].name);
	}
	buf_fini(&b);
}

void
cfg_print(const struct cfg *c, FILE *fp)
{
	size_t	 i;

	if (c == NULL)
		return;
	fputs("; s3inval: the effective configuration, secrets masked\n", fp);
	print_keys(fp, SCOPE_GLOBAL, c);
	for (i = 0; i < c->n_clients; i++) {
		fprintf(fp, "\n[client %s]\n", c->clients[i].name);
		print_keys(fp, SCOPE_CLIENT, &c->clients[i]);
	}
	for (i = 0; i < c->n_buckets; i++) {
		fprintf(fp, "\n[bucket %s]\n", c->buckets[i].name);
		print_keys(fp, SCOPE_BUCKET, &c->buckets[i]);
	}
}
