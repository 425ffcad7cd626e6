/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_env: S3INVAL_<SECTION>_<KEY> environment overrides, after the file:
 * a global key replaces the file's, S3INVAL_BUCKET_NAME and
 * S3INVAL_BUCKET_<KEY> add one bucket, S3INVAL_CLIENT_<KEY> one client
 * named "env".  Names come from the table (cfg_table.c); nothing of the
 * file (cfg_ini.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfg_loader.h"
#include "cfg_table.h"
#include "cfg_value.h"

#define ENV_PREFIX	"S3INVAL_"

static void
env_name(const struct keydef *kd, char *buf, size_t size)
{
	size_t	 i;

	snprintf(buf, size, "%s%s_%s", ENV_PREFIX, kd->section, kd->name);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

/* The key whose S3INVAL_ name is the n bytes at name, or -1. */
static int
env_key(const char *name, size_t n)
{
	char	 buf[ENV_NAME_MAX];
	size_t	 k;

	for (k = 0; k < K__COUNT; k++) {
		env_name(&cfg_keys[k], buf, sizeof(buf));
		if (strlen(buf) == n && strncmp(buf, name, n) == 0)
			return (int)k;
	}
	return -1;
}

/* The keys of scope sc that vars holds (S3INVAL_BUCKET_<KEY> or
 * S3INVAL_CLIENT_<KEY>), set on entry idx of that scope. */
static void
env_set(struct loader *ld, enum scope sc, size_t idx, const char **vars)
{
	struct origin	 at = { 0, NULL };
	struct ent	*m;
	void		*base;
	size_t		 k;

	m = sc == SCOPE_CLIENT ? &ld->cm[idx] : &ld->bm[idx];
	base = cfg_ent_base(ld->c, sc, idx);
	for (k = 0; k < K__COUNT; k++) {
		if (cfg_keys[k].scope != sc || vars[k] == NULL)
			continue;
		at.env = vars[k];
		m->o[k] = at;
		cfg_table_set(ld, &cfg_keys[k], base,
		    strchr(vars[k], '=') + 1, 0, &at);
	}
}

/* S3INVAL_BUCKET_NAME and S3INVAL_BUCKET_<KEY>: one more bucket. */
static void
env_bucket(struct loader *ld, const char *namevar, const char **vars)
{
	struct origin	 at = { 0, NULL };
	const char	*name;
	size_t		 k, idx;

	if (namevar == NULL) {
		for (k = 0; k < K__COUNT; k++) {
			if (cfg_keys[k].scope != SCOPE_BUCKET ||
			    vars[k] == NULL)
				continue;
			at.env = vars[k];
			cfg_report(ld, &at, "needs S3INVAL_BUCKET_NAME too");
		}
		return;
	}
	at.env = namevar;
	name = strchr(namevar, '=') + 1;
	if (!cfg_value_bucket(name, strlen(name)) && strcmp(name, "*") != 0) {
		cfg_report(ld, &at, "bad bucket name \"%s\": use letters, "
		    "digits, '.', '-' and '_', or *", name);
		return;
	}
	if (cfg_add_ent(ld, SCOPE_BUCKET, name, strlen(name), &at, &idx) == 0)
		env_set(ld, SCOPE_BUCKET, idx, vars);
}

/* S3INVAL_CLIENT_<KEY>: one client named "env". */
static void
env_client(struct loader *ld, const char **vars)
{
	struct origin	 at = { 0, NULL };
	size_t		 k, idx;

	for (k = 0; k < K__COUNT && at.env == NULL; k++)
		if (cfg_keys[k].scope == SCOPE_CLIENT && vars[k] != NULL)
			at.env = vars[k];
	if (at.env == NULL)
		return;
	if (cfg_add_ent(ld, SCOPE_CLIENT, "env", 3, &at, &idx) == 0)
		env_set(ld, SCOPE_CLIENT, idx, vars);
}

/*
 * S3INVAL_<SECTION>_<KEY> overrides the file.  The first of two equal
 * names wins, as with getenv().
 */
void
cfg_env_load(struct loader *ld, char *const *envp)
{
	struct origin	 at = { 0, NULL };
	const char	*bvars[K__COUNT], *cvars[K__COUNT], *bname;
	const char	*e, *eq;
	size_t		 i, n;
	int		 k;

	memset(bvars, 0, sizeof(bvars));
	memset(cvars, 0, sizeof(cvars));
	bname = NULL;
	for (i = 0; envp[i] != NULL; i++) {
		e = envp[i];
		if (strncmp(e, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
			continue;
		eq = strchr(e, '=');
		if (eq == NULL)
			continue;
		n = (size_t)(eq - e);
		at.env = e;
		if (n == strlen("S3INVAL_BUCKET_NAME") &&
		    strncmp(e, "S3INVAL_BUCKET_NAME", n) == 0) {
			if (bname == NULL)
				bname = e;
			continue;
		}
		k = env_key(e, n);
		if (k == -1) {
			cfg_report(ld, &at, "unknown variable (S3INVAL_* names "
			    "are configuration keys: give other variables "
			    "another prefix)");
			continue;
		}
		switch (cfg_keys[k].scope) {
		case SCOPE_GLOBAL:
			if (ld->o[k].env != NULL)
				break;
			ld->o[k] = at;
			cfg_table_set(ld, &cfg_keys[k], ld->c, eq + 1, 0, &at);
			break;
		case SCOPE_CLIENT:
			if (cvars[k] == NULL)
				cvars[k] = e;
			break;
		case SCOPE_BUCKET:
			if (bvars[k] == NULL)
				bvars[k] = e;
			break;
		}
	}
	env_bucket(ld, bname, bvars);
	env_client(ld, cvars);
}
