/* SPDX-License-Identifier: Apache-2.0 */
/* log: see log.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

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

static void
stamp(struct buf *b)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_json)
		buf_printf(b, "{\"time\":\"%s.%03ldZ\"", t, ts.tv_nsec / 1000000);
	else
		buf_printf(b, "%s.%03ldZ", t, ts.tv_nsec / 1000000);
}

static void
json_str(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

/* Text values: quoted when they hold a space, quote or control byte, so a
 * key cannot forge a field or a line. */
static void
text_str(struct buf *b, const char *s)
{
	const unsigned char *p;
	int	 quote = (*s == '\0');

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == '"' || *p == 0x7f || *p == '\\')
			quote = 1;
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else
			buf_putc(b, (char)*p);
	}
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

void
log_msg(enum log_level level, const char *fmt, ...)
{
	struct buf	 b, m;
	va_list		 ap;

	if (!log_enabled(level))
		return;
	buf_init(&b);
	buf_init(&m);
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	stamp(&b);
	if (log_json) {
		buf_printf(&b, ",\"level\":\"%s\",\"msg\":", level_names[level]);
		json_str(&b, buf_str(&m));
		buf_putc(&b, '}');
	} else {
		buf_printf(&b, " %s ", level_names[level]);
		buf_puts(&b, buf_str(&m));
	}
	emit(&b);
	buf_fini(&m);
	buf_fini(&b);
}

void
log_event(enum log_level level, const char *event, const struct log_field *f,
    int n)
{
	struct buf	 b;
	int		 i;

	if (!log_enabled(level))
		return;
	buf_init(&b);
	stamp(&b);
	if (log_json)
		buf_printf(&b, ",\"level\":\"%s\",\"event\":\"%s\"",
		    level_names[level], event);
	else
		buf_printf(&b, " %s event=%s", level_names[level], event);
	for (i = 0; i < n; i++) {
		if (log_json) {
			buf_printf(&b, ",\"%s\":", f[i].key);
			if (f[i].is_num)
				buf_printf(&b, "%lld", (long long)f[i].num);
			else
				json_str(&b, f[i].str != NULL ? f[i].str : "");
		} else {
			buf_printf(&b, " %s=", f[i].key);
			if (f[i].is_num)
				buf_printf(&b, "%lld", (long long)f[i].num);
			else
				text_str(&b, f[i].str != NULL ? f[i].str : "-");
		}
	}
	if (log_json)
		buf_putc(&b, '}');
	emit(&b);
	buf_fini(&b);
}
