/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oneshot: a test HTTP server in a thread, for the unit tests of the
 * clients (test_cloudfront, test_http_call): it accepts one connection,
 * keeps the request as it came (head and Content-Length body) and sends
 * a canned answer, or nothing until the client gives up.  Failures are
 * cmocka assertions.
 */
#ifndef S3I_TEST_ONESHOT_H
#define S3I_TEST_ONESHOT_H

#include <pthread.h>
#include <stddef.h>

/* A server that answers one request with a canned response. */
struct oneshot {
	int		 fd;		/* listening */
	unsigned	 port;
	const char	*answer;	/* the response; NULL: say nothing */
	size_t		 answer_len;
	char		 req[256 * 1024];
	size_t		 req_len;
	size_t		 head_len;	/* up to and with the blank line */
	pthread_t	 thread;
};

/* A loopback TCP socket on a free port (*port), listening or not (a port
 * that refuses connections while fd stays open). */
int	oneshot_listen(unsigned *port, int do_listen);
/* Listen and serve one request in a thread; answer NULL: say nothing. */
void	oneshot_start(struct oneshot *, const char *answer, size_t len);
/* Wait for the thread, close the listener. */
void	oneshot_join(struct oneshot *);
/* The value of a request header (any case), or NULL; caller frees. */
char	*oneshot_header(const struct oneshot *, const char *name);

#endif
