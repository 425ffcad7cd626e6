/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_value: the syntax of one configuration value, read and written:
 * numbers, durations, sizes, booleans, enums, host:port, URLs, host names,
 * bucket names, origin paths, grant rights.  Pure: no I/O, no globals, no
 * knowledge of keys or sections (cfg_table.c says which key takes which
 * syntax).  Private to the cfg_*.c files; cfg_parse_duration() and
 * cfg_parse_size() are cfg.h's.
 *
 * The checks return NULL when the text is good, else what is wrong, for
 * a message.  Those that normalise (url, prefix) set *norm to a string
 * the caller frees; *norm NULL with a NULL return means out of memory.
 */
#ifndef S3I_CFG_VALUE_H
#define S3I_CFG_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

int	cfg_value_uint(const char *, unsigned *);
int	cfg_value_double(const char *, double *);	/* plain decimal */
int	cfg_value_bool(const char *, int *);	/* yes/no, true/false, ... */
/* Index of s in "a|b|c", or -1. */
int	cfg_value_enum(const char *choices, const char *s);
/* Writes the i-th name of "a|b|c" to b. */
void	cfg_value_enum_name(struct buf *, const char *choices, int idx);
/* "virtual or path", "error, warn, info or debug" */
void	cfg_value_enum_expected(struct buf *, const char *choices);

const char *cfg_value_hostport(const char *);
const char *cfg_value_url(const char *, char **norm);
const char *cfg_value_host(const char *);
const char *cfg_value_prefix(const char *, char **norm);
/* 1 when the n bytes at s are a bucket name, a word (no blanks). */
int	cfg_value_bucket(const char *, size_t n);
int	cfg_value_word(const char *, size_t n);
/* The rights of a grant's RIGHT (r, w, rw, admin), or 0. */
unsigned cfg_value_rights(const char *, size_t n);

/* The shortest text that reads back the same: "5s", "64k", "0.5". */
void	cfg_value_fmt_duration(struct buf *, int64_t ms);
void	cfg_value_fmt_size(struct buf *, uint64_t);
void	cfg_value_fmt_double(struct buf *, double);

#endif
