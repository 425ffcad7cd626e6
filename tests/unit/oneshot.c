/* SPDX-License-Identifier: Apache-2.0 */
/* oneshot: see oneshot.h. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strndup without autoconf's */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oneshot.h"

int
oneshot_listen(unsigned *port, int do_listen)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void *
oneshot_run(void *arg)
{
	struct oneshot	*o = arg;
	const char	*cl, *end;
	size_t		 want = 0, off = 0;
	ssize_t		 n;
	int		 c;

	c = accept(o->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	for (;;) {
		if (o->req_len >= sizeof(o->req) - 1)
			break;
		/* Silent: read until the client gives up and closes. */
		n = read(c, o->req + o->req_len, sizeof(o->req) - 1 -
		    o->req_len);
		if (n <= 0)
			break;
		o->req_len += (size_t)n;
		o->req[o->req_len] = '\0';
		if (o->head_len == 0) {
			end = strstr(o->req, "\r\n\r\n");
			if (end == NULL)
				continue;
			o->head_len = (size_t)(end - o->req) + 4;
			cl = strstr(o->req, "\r\nContent-Length: ");
			if (cl != NULL && cl < end)
				want = strtoul(cl + 18, NULL, 10);
		}
		if (o->answer != NULL && o->req_len >= o->head_len + want)
			break;
	}
	while (o->answer != NULL && off < o->answer_len) {
		n = write(c, o->answer + off, o->answer_len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(c);
	return NULL;
}

void
oneshot_start(struct oneshot *o, const char *answer, size_t len)
{
	memset(o, 0, sizeof(*o));
	o->fd = oneshot_listen(&o->port, 1);
	o->answer = answer;
	o->answer_len = len;
	assert_int_equal(pthread_create(&o->thread, NULL, oneshot_run, o), 0);
}

void
oneshot_join(struct oneshot *o)
{
	pthread_join(o->thread, NULL);
	close(o->fd);
}

char *
oneshot_header(const struct oneshot *o, const char *name)
{
	const char	*p, *e, *head_end = o->req + o->head_len;
	size_t		 n = strlen(name);

	for (p = strstr(o->req, "\r\n"); p != NULL && p + 2 < head_end;
	    p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) != 0 || p[2 + n] != ':')
			continue;
		p += 2 + n + 1;
		while (*p == ' ')
			p++;
		e = strstr(p, "\r\n");
		return strndup(p, (size_t)(e - p));
	}
	return NULL;
}
