/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util: small helpers shared by several modules: clocks, request ids,
 * host:port and URL splitting.  Thread-safe.
 */
#ifndef S3I_UTIL_H
#define S3I_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, seconds and milliseconds since the epoch. */
int64_t	util_now(void);
int64_t	util_now_ms(void);
/* Monotonic milliseconds, for durations and deadlines. */
int64_t	util_mono_ms(void);

/* 16 upper-case hex characters, as S3's x-amz-request-id; out[17]. */
void	util_request_id(char out[17]);

/*
 * Split "host:port", "[v6]:port" into host (without brackets) and port.
 * Returns 0, or -1 when malformed.
 */
/* A loopback host: localhost, 127/8 or ::1. */
int	util_is_loopback(const char *host);
/* The any-address: 0.0.0.0, :: or empty. */
int	util_is_wildcard(const char *host);
int	util_split_hostport(const char *, char *host, size_t hostsz,
	    unsigned *port);

/*
 * Split "scheme://host[:port]" into scheme ("http"/"https"), host and
 * port (default 80/443).  Returns 0, or -1 when malformed.
 */
int	util_split_url(const char *, char *scheme, size_t schemesz,
	    char *host, size_t hostsz, unsigned *port);

/* 1 when s equals (case-insensitively) one of the ','-separated tokens of
 * list, spaces around tokens ignored. */
int	util_token_in(const char *list, const char *s);

/*
 * A listening TCP socket on "host:port" (non-blocking, close-on-exec,
 * SO_REUSEADDR; an IPv6 address listens for IPv6 only).  Returns the
 * descriptor, or -1 with why in err: the system's reason and what it
 * usually means (in use, not permitted, no such address, cannot resolve),
 * and errno set.
 */
int	util_listen(const char *hostport, int backlog, char *err,
	    size_t errsz);

/*
 * util_listen()'s socket, with the parts of its failure apart (check-config
 * --online tells the causes apart by port): 0 with the socket in *fd; an
 * errno of socket, bind or listen; or -1 with why in why for an address
 * that is not host:port or does not resolve.  *port is set once parsed.
 */
int	util_bind(const char *hostport, int backlog, int *fd, unsigned *port,
	    char *why, size_t whysz);

/*
 * The UTF-8 sequence at s (NUL-terminated): its length (1-4) with its code
 * point in *cp, or 0 when s does not start a well-formed one (RFC 3629: no
 * over-long form, no surrogate, nothing past U+10FFFF, no cut sequence).
 * *s must not be NUL.
 */
size_t	util_utf8_next(const char *s, uint32_t *cp);

#endif
