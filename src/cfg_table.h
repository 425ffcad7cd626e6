/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_table: the table of configuration keys (cfg_keys.h) made into data
 * the cfg_*.c files share: each key's section, name, type, field and
 * default, found by name, and a value stored into (or freed from) its
 * field by its type.  Private to the cfg_*.c files.
 */
#ifndef S3I_CFG_TABLE_H
#define S3I_CFG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

enum ktype {
	T_STRING,
	T_NONEMPTY,
	T_WORD,
	T_HOSTPORT,
	T_URL,
	T_HOST,
	T_DURATION,
	T_SIZE,
	T_UINT,
	T_DOUBLE,
	T_BOOL,
	T_ENUM,
	T_SECRET,
	T_BUCKET,
	T_PREFIX,
	T_IDS,
	T_NAMES,
	T_GRANTS
};

enum scope {
	SCOPE_GLOBAL,
	SCOPE_CLIENT,
	SCOPE_BUCKET
};

enum key_id {
#define CFG_KEY(s, k, t, f, d, ch, desc)	K_##s##_##k,
#define CFG_LIST(s, k, t, f, d, desc)		K_##s##_##k,
#include "cfg_keys.h"
	K__COUNT
};

struct keydef {
	const char	*section;
	const char	*name;
	enum scope	 scope;
	enum ktype	 type;
	size_t		 off;		/* of the value in its struct */
	size_t		 noff;		/* lists: of the count */
	const char	*def;		/* default text, or NULL */
	const char	*choices;	/* ENUM "a|b|c"; numbers: max */
	const char	*desc;
};

extern const struct keydef cfg_keys[K__COUNT];

static inline void *
field_ptr(const void *base, size_t off)
{
	return (char *)(uintptr_t)base + off;
}

/* The table's name for a [server]-like section of n bytes at s, or NULL. */
const char *cfg_table_section(const char *s, size_t n);
/* The index of key name in section (of scope sc), or -1. */
int	cfg_table_find(enum scope sc, const char *section, const char *name);

struct loader;
struct origin;
int	cfg_table_set(struct loader *, const struct keydef *, void *base,
	    const char *text, int append, const struct origin *at);
void	cfg_table_defaults(struct loader *, enum scope, void *base);
void	cfg_table_free_fields(enum scope, void *base);

#endif
