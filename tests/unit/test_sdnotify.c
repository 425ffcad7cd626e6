/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sdnotify: what systemd hears, on a datagram socket of our own as
 * $NOTIFY_SOCKET: READY=1 with its status, STOPPING=1, and the watchdog's
 * WATCHDOG=1 pings only while "the admin listener" (a socket here) gives
 * an HTTP answer to GET /healthz, with the bearer token when one is set:
 * a listener that accepts and never answers gets no pings.  Without
 * $NOTIFY_SOCKET or WATCHDOG_USEC nothing is sent and no thread starts.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cfg.h"
#include "log.h"
#include "sdnotify.h"
#include "util.h"

#define TOKEN	"test-sdnotify-token-0123456789"

/* $NOTIFY_SOCKET: a bound datagram socket. */
static int
notify_socket(char *path, size_t sz)
{
	struct sockaddr_un	 sa;
	struct timeval		 tv = { 0, 100000 };
	int			 fd;

	snprintf(path, sz, "/tmp/test_sdnotify.%ld.sock", (long)getpid());
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	return fd;
}

/* Count the datagrams equal to want (NULL: any) within ms. */
static int
count(int fd, const char *want, int ms, char *last, size_t lastsz)
{
	char	 buf[512];
	ssize_t	 n;
	int64_t	 end = util_mono_ms() + ms;
	int	 c = 0;

	while (util_mono_ms() < end) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (last != NULL)
			snprintf(last, lastsz, "%s", buf);
		if (want == NULL || strcmp(buf, want) == 0)
			c++;
	}
	return c;
}

/* A listener on 127.0.0.1; *port gets its port. */
static int
listener(unsigned *port)
{
	struct sockaddr_in	 sa;
	struct timeval		 tv = { 0, 200000 };
	socklen_t		 sl = sizeof(sa);
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* accept() wakes up to see a->stop. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The admin listener's stand-in: answers 200 to each request and notes
 * whether the token came with it. */
struct admin {
	int		 fd;
	pthread_t	 thread;
	int		 answered;
	int		 with_token;
	int		 stop;
};

static void *
admin_run(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\nok\n";
	struct admin	*a = arg;
	char		 req[2048];
	ssize_t		 n;
	int		 c;

	while (!a->stop) {
		c = accept(a->fd, NULL, NULL);
		if (c < 0)
			continue;
		n = read(c, req, sizeof(req) - 1);
		if (n > 0) {
			req[n] = '\0';
			if (strstr(req, "GET /healthz ") != NULL &&
			    strstr(req, "Authorization: Bearer " TOKEN "\r\n")
			    != NULL)
				a->with_token++;
			if (write(c, ok, sizeof(ok) - 1) > 0)
				a->answered++;
		}
		close(c);
	}
	return NULL;
}

static struct cfg *
cfg_for(unsigned port, const char *token)
{
	static char	 listen_s[64], tok[64], file[1];
	static struct cfg c;

	memset(&c, 0, sizeof(c));
	snprintf(listen_s, sizeof(listen_s), "127.0.0.1:%u", port);
	snprintf(tok, sizeof(tok), "%s", token);
	c.server.admin_listen = listen_s;
	c.server.admin_token = tok;
	c.server.admin_token_file = file;
	return &c;
}

static void
test_ready_stopping(void **state)
{
	char	 path[108], last[512] = "";
	int	 fd;

	(void)state;
	fd = notify_socket(path, sizeof(path));
	sdnotify_ready("listening on 127.0.0.1:8080");
	assert_int_equal(count(fd, NULL, 300, last, sizeof(last)), 1);
	assert_string_equal(last, "READY=1\nSTATUS=listening on "
	    "127.0.0.1:8080");
	sdnotify_stopping();
	assert_int_equal(count(fd, NULL, 300, last, sizeof(last)), 1);
	assert_non_null(strstr(last, "STOPPING=1\n"));

	/* Not under systemd: nothing, and no watchdog. */
	unsetenv("NOTIFY_SOCKET");
	sdnotify_ready("x");
	assert_int_equal(count(fd, NULL, 300, NULL, 0), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "400000", 1), 0);
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	close(fd);
	unlink(path);
}

static void
test_watchdog_pings_while_answered(void **state)
{
	struct admin	 a;
	char		 path[108];
	unsigned	 port;
	int		 fd, n;

	(void)state;
	fd = notify_socket(path, sizeof(path));
	memset(&a, 0, sizeof(a));
	a.fd = listener(&port);
	assert_int_equal(pthread_create(&a.thread, NULL, admin_run, &a), 0);

	/* No WATCHDOG_USEC: no thread, nothing sent. */
	assert_int_equal(sdnotify_watchdog_start(cfg_for(port, TOKEN)), 0);
	assert_int_equal(count(fd, NULL, 600, NULL, 0), 0);
	sdnotify_watchdog_stop();

	assert_int_equal(setenv("WATCHDOG_USEC", "400000", 1), 0);
	assert_int_equal(sdnotify_watchdog_usec(), 400000);
	assert_int_equal(sdnotify_watchdog_start(cfg_for(port, TOKEN)), 0);
	/* Every 200 ms: 5 in a second, give or take the scheduler. */
	n = count(fd, "WATCHDOG=1", 1100, NULL, 0);
	sdnotify_watchdog_stop();
	assert_true(n >= 3 && n <= 7);
	assert_true(a.answered >= n);
	assert_int_equal(a.with_token, a.answered);
	/* Stopped: no more. */
	assert_int_equal(count(fd, NULL, 500, NULL, 0), 0);

	a.stop = 1;
	pthread_join(a.thread, NULL);
	close(a.fd);
	unsetenv("WATCHDOG_USEC");
	close(fd);
	unlink(path);
}

static void
test_watchdog_silent_when_stuck(void **state)
{
	char		 path[108];
	unsigned	 port;
	int		 fd, lfd;

	(void)state;
	fd = notify_socket(path, sizeof(path));
	/* Accepts (the kernel's backlog) and never answers: stuck. */
	lfd = listener(&port);
	assert_int_equal(setenv("WATCHDOG_USEC", "400000", 1), 0);
	assert_int_equal(sdnotify_watchdog_start(cfg_for(port, "")), 0);
	assert_int_equal(count(fd, "WATCHDOG=1", 1200, NULL, 0), 0);
	sdnotify_watchdog_stop();
	close(lfd);

	/* Nobody listening at all: no pings either. */
	assert_int_equal(sdnotify_watchdog_start(cfg_for(port, "")), 0);
	assert_int_equal(count(fd, "WATCHDOG=1", 800, NULL, 0), 0);
	sdnotify_watchdog_stop();
	unsetenv("WATCHDOG_USEC");
	close(fd);
	unlink(path);
}

/* Whatever a failed assertion skipped: no watchdog, no environment. */
static int
teardown(void **state)
{
	(void)state;
	sdnotify_watchdog_stop();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ready_stopping, teardown),
		cmocka_unit_test_teardown(test_watchdog_pings_while_answered,
		    teardown),
		cmocka_unit_test_teardown(test_watchdog_silent_when_stuck,
		    teardown),
	};
	int	 rc;

	/* The watchdog's warnings would interleave with TAP. */
	log_init(0, LOG_ERROR, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
