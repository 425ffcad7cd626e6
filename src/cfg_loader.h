/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_loader: the state of one cfg_load() (cfg.c), shared by the files
 * that fill it: cfg_ini.c (the file), cfg_env.c (the environment),
 * cfg_table.c (values into fields), cfg_check.c (the whole).  Problems are
 * reported through it, each with where its value came from.  Private to
 * the cfg_*.c files.
 */
#ifndef S3I_CFG_LOADER_H
#define S3I_CFG_LOADER_H

#include <stddef.h>
#include <stdio.h>

#include <ini.h>

#include "cfg.h"
#include "cfg_table.h"

#define ENV_NAME_MAX	64

/* Where a value came from, for messages. */
struct origin {
	int		 line;		/* line of the file, or 0 */
	const char	*env;		/* "NAME=value" in envp, or NULL */
};

/* A [client] or [bucket] while loading; parallel to the cfg's array. */
struct ent {
	struct origin	 at;		/* its section header */
	struct origin	 o[K__COUNT];	/* where each of its keys was set */
};

enum ctx {
	CTX_NONE,		/* before the first section */
	CTX_SKIP,		/* in a section already reported as bad */
	CTX_GLOBAL,
	CTX_CLIENT,
	CTX_BUCKET
};

enum line_kind {
	L_BLANK,		/* empty, a comment, or already reported */
	L_SECTION,
	L_KEY,
	L_CONT,			/* indented: continues the previous value */
	L_BAD
};

struct loader {
	struct cfg	*c;
	FILE		*errs;		/* may be NULL */
	const char	*path;		/* NULL: no file */
	int		 nerr;
	int		 oom;		/* "out of memory" reported */

	/* The file, read whole, and the line reader libinih calls. */
	char		*data;
	size_t		 len;
	size_t		 pos;		/* next byte to read */
	int		 lineno;
	int		 first_bad;	/* first syntax error we reported */
	int		 inih_prev;	/* libinih has a name to continue */
	enum line_kind	 kind;		/* of the line just read */
	char		 cont[INI_MAX_LINE]; /* a continuation's value */

	/* Where keys go. */
	enum ctx	 ctx;
	const char	*section;	/* CTX_GLOBAL: its name, from keys[] */
	size_t		 ent;		/* CTX_CLIENT, CTX_BUCKET: index */
	int		 prev;		/* key a continuation extends, or -1 */

	struct origin	 o[K__COUNT];	/* the global keys */
	struct ent	*cm;		/* c->clients */
	struct ent	*bm;		/* c->buckets */
};

void	cfg_report(struct loader *, const struct origin *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	cfg_report_oom(struct loader *);	/* once per load */
char	*cfg_xstrndup(struct loader *, const char *, size_t);
char	*cfg_xstrdup(struct loader *, const char *);
/* "line 12" or "S3INVAL_X", for "first at ..." */
void	cfg_origin_str(const struct origin *, char *buf, size_t size);
int	cfg_origin_set(const struct origin *);	/* by the file or env */
const char *cfg_ent_name(const struct cfg *, enum scope, size_t i);
void	*cfg_ent_base(const struct cfg *, enum scope, size_t i);
int	cfg_add_ent(struct loader *, enum scope, const char *name, size_t n,
	    const struct origin *at, size_t *idx);

int	cfg_ini_load(struct loader *);			/* cfg_ini.c */
void	cfg_env_load(struct loader *, char *const *envp); /* cfg_env.c */
void	cfg_check_all(struct loader *);		/* cfg_check.c */

#endif
