/* SPDX-License-Identifier: Apache-2.0 */
/* util: see util.h. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "hex.h"
#include "util.h"

int64_t
util_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
util_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_request_id(char out[17])
{
	unsigned char	 r[8];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		/* Uniqueness, not secrecy, is what a request id needs. */
		uint64_t v = (uint64_t)util_mono_ms() ^ (uint64_t)random();

		memcpy(r, &v, sizeof(r));
	}
	hex_encode_upper(out, r, sizeof(r));
}

static int
parse_port(const char *s, unsigned *port)
{
	char		*end;
	unsigned long	 v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int
util_split_hostport(const char *s, char *host, size_t hostsz, unsigned *port)
{
	const char	*colon, *close;
	size_t		 n;

	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		n = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - s);
		if (memchr(s, ':', n) != NULL)
			return -1;
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	return parse_port(colon + 1, port);
}

int
util_split_url(const char *url, char *scheme, size_t schemesz, char *host,
    size_t hostsz, unsigned *port)
{
	const char	*p, *end;
	char		 hp[300];
	size_t		 n;

	p = strstr(url, "://");
	if (p == NULL || (size_t)(p - url) >= schemesz)
		return -1;
	memcpy(scheme, url, (size_t)(p - url));
	scheme[p - url] = '\0';
	if (strcasecmp(scheme, "http") == 0)
		*port = 80;
	else if (strcasecmp(scheme, "https") == 0)
		*port = 443;
	else
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	if (*end == '/' && end[1] == '\0')
		;	/* a trailing slash is harmless */
	else if (*end != '\0')
		return -1;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(hp) || memchr(p, '@', n) != NULL)
		return -1;
	memcpy(hp, p, n);
	hp[n] = '\0';
	if (hp[0] == '[' ? strstr(hp, "]:") != NULL : strchr(hp, ':') != NULL)
		return util_split_hostport(hp, host, hostsz, port);
	n = strlen(hp);
	if (hp[0] == '[') {
		if (hp[n - 1] != ']' || n - 2 >= hostsz)
			return -1;
		memcpy(host, hp + 1, n - 2);
		host[n - 2] = '\0';
		return 0;
	}
	if (n >= hostsz)
		return -1;
	memcpy(host, hp, n + 1);
	return 0;
}

int
util_token_in(const char *list, const char *s)
{
	const char	*p, *e;
	size_t		 n = strlen(s);

	for (p = list; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		e = p;
		while (*e != '\0' && *e != ',')
			e++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == n && strncasecmp(p, s, n) == 0)
			return 1;
		p = e;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

/* What an errno of bind() or listen() usually means here. */
static const char *
listen_hint(int err)
{
	switch (err) {
	case EADDRINUSE:
		return "another process listens there (another s3inval? "
		    "ss -ltnp shows which)";
	case EACCES:
		return "ports below 1024 need root or CAP_NET_BIND_SERVICE";
	case EADDRNOTAVAIL:
		return "no interface of this host has that address";
	case EAFNOSUPPORT:
		return "this host does not do that address family (IPv6 off?)";
	default:
		return "";
	}
}

int
util_bind(const char *hostport, int backlog, int *fd, unsigned *port,
    char *why, size_t whysz)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 host[256], port_s[8];
	int		 one = 1, rc, err = 0;

	*fd = -1;
	if (util_split_hostport(hostport, host, sizeof(host), port) == -1) {
		snprintf(why, whysz, "not host:port");
		return -1;
	}
	snprintf(port_s, sizeof(port_s), "%u", *port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port_s, &hints, &ai);
	if (rc != 0) {
		snprintf(why, whysz, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	*fd = socket(ai->ai_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd == -1) {
		err = errno;
		goto out;
	}
	setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(*fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(*fd, backlog) == -1)
		err = errno;
out:
	if (err != 0 && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	freeaddrinfo(ai);
	return err;
}

int
util_listen(const char *hostport, int backlog, char *err, size_t errsz)
{
	char		 why[300];
	unsigned	 port;
	int		 fd, e;

	e = util_bind(hostport, backlog, &fd, &port, why, sizeof(why));
	if (e == -1) {
		snprintf(err, errsz, "%s: %s", hostport, why);
		return -1;
	}
	if (e != 0) {
		snprintf(err, errsz, "cannot listen on %s: %s%s%s", hostport,
		    strerror(e), *listen_hint(e) != '\0' ? ": " : "",
		    listen_hint(e));
		errno = e;	/* for callers that tell the causes apart */
		return -1;
	}
	return fd;
}

size_t
util_utf8_next(const char *str, uint32_t *cp)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 more, i;

	if (*s < 0x80) {
		*cp = *s;
		return 1;
	}
	if (*s >= 0xC2 && *s <= 0xDF) {
		*cp = *s & 0x1F;
		more = 1;
	} else if (*s >= 0xE0 && *s <= 0xEF) {
		*cp = *s & 0x0F;
		more = 2;
	} else if (*s >= 0xF0 && *s <= 0xF4) {
		*cp = *s & 0x07;
		more = 3;
	} else
		return 0;
	for (i = 1; i <= more; i++) {
		/* A NUL ends the string: it is no continuation byte. */
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	if ((more == 2 && *cp < 0x800) || (more == 3 && *cp < 0x10000) ||
	    *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return more + 1;
}

int
util_is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
util_is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    *host == '\0';
}
