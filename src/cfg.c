/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: load the configuration (see cfg.h): an INI file read by libinih,
 * then the S3INVAL_* environment, checked against the table of keys in
 * cfg_keys.h.  This file runs a load and reports its problems, and holds
 * the lookups; the rest is in one file a concern:
 *
 *   cfg_table.c   the table of keys; values stored by their key's type
 *   cfg_value.c   the syntax of one value, read and written
 *   cfg_ini.c     the file: read whole, lines, sections, keys
 *   cfg_env.c     the environment overrides
 *   cfg_check.c   checks of the configuration as a whole
 *   cfg_print.c   the effective configuration as INI
 *
 * One pass reports every problem as "file:line: message" ("env NAME:
 * message" for the environment, "file: message" when no single line is to
 * blame), so an operator fixes a file in one go.  Every number has an
 * upper bound (cfg_keys.h).
 *
 * These files do no I/O other than reading the file and writing to the
 * streams they are given, and keep no globals: tests load many
 * configurations side by side.  The secrets pass through our buffers and
 * libinih's line buffer; both are wiped.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cfg.h"
#include "cfg_loader.h"
#include "cfg_table.h"

void
cfg_report(struct loader *ld, const struct origin *at, const char *fmt, ...)
{
	va_list	 ap;

	ld->nerr++;
	if (ld->errs == NULL)
		return;
	if (at != NULL && at->line > 0 && ld->path != NULL)
		fprintf(ld->errs, "%s:%d: ", ld->path, at->line);
	else if (at != NULL && at->env != NULL)
		fprintf(ld->errs, "env %.*s: ", (int)strcspn(at->env, "="),
		    at->env);
	else if (ld->path != NULL)
		fprintf(ld->errs, "%s: ", ld->path);
	else
		fputs("config: ", ld->errs);
	va_start(ap, fmt);
	vfprintf(ld->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ld->errs);
}

void
cfg_report_oom(struct loader *ld)
{
	if (!ld->oom)
		cfg_report(ld, NULL, "out of memory");
	ld->oom = 1;
}

char *
cfg_xstrndup(struct loader *ld, const char *s, size_t n)
{
	char	*p;

	p = malloc(n + 1);
	if (p == NULL) {
		cfg_report_oom(ld);
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
cfg_xstrdup(struct loader *ld, const char *s)
{
	return cfg_xstrndup(ld, s, strlen(s));
}

/* "line 12" or "S3INVAL_X", for "first at ..." */
void
cfg_origin_str(const struct origin *o, char *buf, size_t size)
{
	if (o->line > 0)
		snprintf(buf, size, "line %d", o->line);
	else if (o->env != NULL)
		snprintf(buf, size, "%.*s", (int)strcspn(o->env, "="),
		    o->env);
	else
		snprintf(buf, size, "the defaults");
}

int
cfg_origin_set(const struct origin *o)
{
	return o->line > 0 || o->env != NULL;
}

const char *
cfg_ent_name(const struct cfg *c, enum scope sc, size_t i)
{
	return sc == SCOPE_CLIENT ? c->clients[i].name : c->buckets[i].name;
}

void *
cfg_ent_base(const struct cfg *c, enum scope sc, size_t i)
{
	if (sc == SCOPE_CLIENT)
		return &c->clients[i];
	return &c->buckets[i];
}

/*
 * A new [client NAME] or [bucket NAME] with its defaults; sets *idx.
 * Returns 0, or -1 after reporting a duplicate name or no memory.
 */
int
cfg_add_ent(struct loader *ld, enum scope sc, const char *name, size_t n,
    const struct origin *at, size_t *idx)
{
	struct cfg		*c = ld->c;
	struct cfg_client	*cl;
	struct cfg_bucket	*bk;
	struct ent		*meta, **mp;
	const char		*kind;
	char			*copy, where[ENV_NAME_MAX];
	size_t			 i, count;

	kind = sc == SCOPE_CLIENT ? "client" : "bucket";
	count = sc == SCOPE_CLIENT ? c->n_clients : c->n_buckets;
	mp = sc == SCOPE_CLIENT ? &ld->cm : &ld->bm;
	for (i = 0; i < count; i++) {
		if (strlen(cfg_ent_name(c, sc, i)) == n &&
		    strncmp(cfg_ent_name(c, sc, i), name, n) == 0) {
			cfg_origin_str(&(*mp)[i].at, where, sizeof(where));
			cfg_report(ld, at, "[%s %.*s] is defined twice (first "
			    "at %s)", kind, (int)n, name, where);
			return -1;
		}
	}
	copy = cfg_xstrndup(ld, name, n);
	if (copy == NULL)
		return -1;
	meta = realloc(*mp, (count + 1) * sizeof(*meta));
	if (meta == NULL)
		goto oom;
	*mp = meta;
	memset(&meta[count], 0, sizeof(meta[count]));
	meta[count].at = *at;
	if (sc == SCOPE_CLIENT) {
		cl = realloc(c->clients, (count + 1) * sizeof(*cl));
		if (cl == NULL)
			goto oom;
		c->clients = cl;
		memset(&cl[count], 0, sizeof(cl[count]));
		cl[count].name = copy;
		c->n_clients++;
	} else {
		bk = realloc(c->buckets, (count + 1) * sizeof(*bk));
		if (bk == NULL)
			goto oom;
		c->buckets = bk;
		memset(&bk[count], 0, sizeof(bk[count]));
		bk[count].name = copy;
		c->n_buckets++;
	}
	cfg_table_defaults(ld, sc, cfg_ent_base(c, sc, count));
	*idx = count;
	return 0;
oom:
	free(copy);
	cfg_report_oom(ld);
	return -1;
}

const char *
cfg_path(const char *opt)
{
	if (opt != NULL)
		return opt;
	if (access(CFG_DEFAULT_PATH, R_OK) == 0)
		return CFG_DEFAULT_PATH;
	return NULL;
}

int
cfg_load(const char *path, char *const *envp, FILE *errs, struct cfg **out)
{
	static char *const	 noenv[] = { NULL };
	struct loader		*ld;
	int			 nerr, unread = 0;

	*out = NULL;
	/* Large (line and I/O buffers): keep it off the stack. */
	ld = calloc(1, sizeof(*ld));
	if (ld == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: out of memory\n",
			    path != NULL ? path : "config");
		return 1;
	}
	ld->errs = errs;
	ld->path = path;
	ld->prev = -1;
	ld->c = calloc(1, sizeof(*ld->c));
	if (ld->c == NULL) {
		cfg_report_oom(ld);
		goto out;
	}
	cfg_table_defaults(ld, SCOPE_GLOBAL, ld->c);
	if (path != NULL) {
		ld->c->path = cfg_xstrdup(ld, path);
		unread = cfg_ini_load(ld) == -1;
	}
	cfg_env_load(ld, envp != NULL ? envp : noenv);
	/* Checks of the whole are noise about a file never read. */
	if (!ld->oom && !unread)
		cfg_check_all(ld);
out:
	nerr = ld->nerr;
	if (nerr == 0) {
		*out = ld->c;
		ld->c = NULL;
	}
	cfg_free(ld->c);
	free(ld->cm);
	free(ld->bm);
	OPENSSL_cleanse(ld->cont, sizeof(ld->cont));
	free(ld);
	return nerr;
}

void
cfg_free(struct cfg *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	cfg_table_free_fields(SCOPE_GLOBAL, c);
	for (i = 0; i < c->n_clients; i++) {
		cfg_table_free_fields(SCOPE_CLIENT, &c->clients[i]);
		free(c->clients[i].name);
	}
	free(c->clients);
	for (i = 0; i < c->n_buckets; i++) {
		cfg_table_free_fields(SCOPE_BUCKET, &c->buckets[i]);
		free(c->buckets[i].name);
	}
	free(c->buckets);
	free(c->path);
	free(c);
}

int
cfg_same_file(const struct cfg *a, const struct cfg *b)
{
	if (a == NULL || b == NULL)
		return 0;
	if (a->path == NULL || b->path == NULL)
		return a->path == b->path;
	return strcmp(a->path, b->path) == 0 &&
	    memcmp(a->file_sha256, b->file_sha256,
	    sizeof(a->file_sha256)) == 0;
}

/* ---- lookups ------------------------------------------------------- */

const struct cfg_bucket *
cfg_bucket_find(const struct cfg *c, const char *name)
{
	const struct cfg_bucket	*any;
	size_t			 i;

	if (c == NULL || name == NULL)
		return NULL;
	any = NULL;
	for (i = 0; i < c->n_buckets; i++) {
		if (strcmp(c->buckets[i].name, name) == 0)
			return &c->buckets[i];
		if (strcmp(c->buckets[i].name, "*") == 0)
			any = &c->buckets[i];
	}
	return any;
}

const struct cfg_client *
cfg_client_find(const struct cfg *c, const char *access_key_id)
{
	size_t	 i;

	if (c == NULL || access_key_id == NULL)
		return NULL;
	for (i = 0; i < c->n_clients; i++)
		if (c->clients[i].access_key_id != NULL &&
		    strcmp(c->clients[i].access_key_id, access_key_id) == 0)
			return &c->clients[i];
	return NULL;
}

int
cfg_client_may(const struct cfg_client *cl, const char *bucket,
    enum cfg_right right)
{
	const struct cfg_grant	*g;
	unsigned		 held = 0;
	size_t			 i;

	if (cl == NULL || bucket == NULL)
		return 0;
	for (i = 0; i < cl->n_grants; i++) {
		g = &cl->grants[i];
		if (strcmp(g->bucket, bucket) == 0 ||
		    strcmp(g->bucket, "*") == 0)
			held |= g->rights;
	}
	return (held & CFG_RIGHT_BIT(right)) != 0;
}
