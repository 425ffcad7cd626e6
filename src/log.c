/* SPDX-License-Identifier: Apache-2.0 */
/* log: see log.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "jstr.h"
#include "log.h"
#include "util.h"

static atomic_int	 log_fd = 2;
static int		 log_json;
static atomic_int	 log_level = LOG_INFO;
static char		 log_path[4096];
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	"error", "warn", "info", "debug"
};

static int
open_file(void)
{
	return open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_init(int json, enum log_level level, const char *file)
{
	int	 fd;

	log_json = json;
	atomic_store(&log_level, (int)level);
	if (file == NULL || file[0] == '\0') {
		log_path[0] = '\0';
		return 0;
	}
	if (strlen(file) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(log_path, file);
	fd = open_file();
	if (fd == -1)
		return -1;
	atomic_store(&log_fd, fd);
	return 0;
}

int
log_reopen(void)
{
	int	 fd, old;

	if (log_path[0] == '\0')
		return 0;
	pthread_mutex_lock(&log_lock);
	fd = open_file();
	if (fd != -1) {
		old = atomic_exchange(&log_fd, fd);
		if (old > 2)
			close(old);
	}
	pthread_mutex_unlock(&log_lock);
	return fd == -1 ? -1 : 0;
}

void
log_fini(void)
{
	int	 old;

	old = atomic_exchange(&log_fd, 2);
	if (old > 2)
		close(old);
}

int
log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

/* "2026-11-27T10:00:00.123Z" */
static void
stamp(char *out, size_t sz)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sz, "%s.%03dZ", t, (int)(ts.tv_nsec / 1000000) % 1000);
}

/*
 * Append len bytes of s as text: control bytes and bytes that are not
 * part of well-formed UTF-8 as \xHH, a backslash and (when quote) a
 * double quote escaped.  Nothing a key holds can end the line, forge a
 * field or reach the file as invalid UTF-8.
 */
static void
text_escape(struct buf *b, const char *s, int quote)
{
	uint32_t	 cp;
	size_t		 n;

	for (; *s != '\0'; s += n) {
		n = util_utf8_next(s, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f) {
			buf_printf(b, "\\x%02x", (unsigned char)*s);
			n = 1;
		} else if (cp == '\\' || (quote && cp == '"'))
			buf_printf(b, "\\%c", (char)cp);
		else
			buf_append(b, s, n);
	}
}

/* Text values: quoted when they hold a space, a quote, a backslash, a
 * control byte or invalid UTF-8, so a key cannot forge a field or a
 * line. */
static void
text_str(struct buf *b, const char *s)
{
	const char	*p;
	uint32_t	 cp;
	size_t		 n;
	int		 quote = (*s == '\0');

	for (p = s; *p != '\0' && !quote; p += n) {
		n = util_utf8_next(p, &cp);
		quote = n == 0 || cp <= 0x20 || cp == '"' || cp == 0x7f ||
		    cp == '\\';
	}
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	text_escape(b, s, 1);
	buf_putc(b, '"');
}

static void
emit(struct buf *b)
{
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	if (!buf_ok(b))
		return;
	buf_putc(b, '\n');
	fd = atomic_load(&log_fd);
	while (off < b->len) {
		n = write(fd, b->data + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

/* Set key of o to v (taken); 0, or -1 when v is NULL or o refuses it. */
static int
put(json_t *o, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(o, key, v) == -1 ? -1 : 0;
}

/*
 * One JSON line through jansson: {"time","level", then "msg" or "event"
 * and the fields}.  Strings go through jstr_new(), so invalid UTF-8 is
 * escaped, never written raw.  A field named like one of the first three
 * is left out rather than overwrite it.
 */
static void
emit_json(enum log_level level, const char *msg, const char *event,
    const struct log_field *f, int n)
{
	struct buf	 b;
	json_t		*o;
	char		 t[40], *text = NULL;
	int		 i, bad = 0;

	buf_init(&b);
	stamp(t, sizeof(t));
	o = json_object();
	bad = o == NULL;
	bad = bad || put(o, "time", json_string(t)) == -1;
	bad = bad || put(o, "level", json_string(level_names[level])) == -1;
	if (msg != NULL)
		bad = bad || put(o, "msg", jstr_new(msg)) == -1;
	else
		bad = bad || put(o, "event", jstr_new(event)) == -1;
	for (i = 0; i < n && !bad; i++) {
		if (json_object_get(o, f[i].key) != NULL)
			continue;
		bad = put(o, f[i].key, f[i].is_num ?
		    json_integer((json_int_t)f[i].num) : jstr_new(f[i].str)) ==
		    -1;
	}
	if (!bad)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		buf_puts(&b, text);
		emit(&b);
	}
	free(text);
	json_decref(o);
	buf_fini(&b);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	struct buf	 b, m;
	va_list		 ap;
	char		 t[40];

	if (!log_enabled(level))
		return;
	buf_init(&b);
	buf_init(&m);
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	if (log_json)
		emit_json(level, buf_str(&m), NULL, NULL, 0);
	else {
		stamp(t, sizeof(t));
		buf_printf(&b, "%s %s ", t, level_names[level]);
		text_escape(&b, buf_str(&m), 0);
		emit(&b);
	}
	buf_fini(&m);
	buf_fini(&b);
}

void
log_event(enum log_level level, const char *event, const struct log_field *f,
    int n)
{
	struct buf	 b;
	char		 t[40];
	int		 i;

	if (!log_enabled(level))
		return;
	if (log_json) {
		emit_json(level, NULL, event, f, n);
		return;
	}
	buf_init(&b);
	stamp(t, sizeof(t));
	buf_printf(&b, "%s %s event=%s", t, level_names[level], event);
	for (i = 0; i < n; i++) {
		buf_printf(&b, " %s=", f[i].key);
		if (f[i].is_num)
			buf_printf(&b, "%lld", (long long)f[i].num);
		else
			text_str(&b, f[i].str != NULL ? f[i].str : "-");
	}
	emit(&b);
	buf_fini(&b);
}
