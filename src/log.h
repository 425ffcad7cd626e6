/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one line per event, text or JSON, to stderr or a file.
 *
 * JSON lines are built and written by jansson, strings through jstr.h:
 * each line parses, and a byte of a key that is not valid UTF-8 is
 * written as \xhh, never raw.  Text lines escape control bytes and
 * invalid UTF-8 the same way (\xhh), and quote a value that holds a
 * space, a quote or a backslash, so a key cannot forge a field or a line.
 *
 * Each line is formatted in the caller's stack/heap and written with a
 * single write(2), so lines from concurrent threads never interleave.
 * log_reopen() (SIGHUP) swaps the file descriptor atomically.  Nothing here
 * knows what a secret is: callers never pass one.
 */
#ifndef S3I_LOG_H
#define S3I_LOG_H

#include <stdint.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

/* One field of a structured line: "key=value" in text, "key":value in
 * JSON.  A NULL str with is_num set prints num. */
struct log_field {
	const char	*key;
	const char	*str;
	int64_t		 num;
	int		 is_num;
};

#define LOG_STR(k, v)	{ (k), (v), 0, 0 }
#define LOG_NUM(k, v)	{ (k), NULL, (int64_t)(v), 1 }

/* json: 0 text, 1 JSON; file NULL or "" = stderr.  Returns 0 or -1. */
int	log_init(int json, enum log_level, const char *file);
int	log_reopen(void);
void	log_fini(void);
int	log_enabled(enum log_level);

void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* An event with fields: "event=NAME k=v ..." */
void	log_event(enum log_level, const char *event,
	    const struct log_field *, int n);

#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
