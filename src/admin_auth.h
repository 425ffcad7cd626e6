/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin_auth: who may use the admin listener (issue 14, item 5).
 *
 * Host check: a page in a browser on the same machine can make the browser
 * send requests to 127.0.0.1:9090 under a name it controls (DNS
 * rebinding); its requests then carry that name in Host.  So a request is
 * served only when its Host names the listen address itself: host:port as
 * configured, the bare host, localhost, 127.0.0.1 or [::1] (with the
 * listen port or none), or a name listed in server.admin_hosts (the
 * service name compose or CI gives the container).  A listener on a
 * wildcard address (0.0.0.0, ::) takes any IP literal: no DNS name can
 * rebind to one.
 *
 * Bearer token: server.admin_token, or the first line of
 * server.admin_token_file, read once (the daemon at start, the CLI on each
 * run).  Only a digest of it is kept for comparing, in constant time.
 *
 * Pure apart from admin_auth_token_get(), which reads the token file.  No
 * globals; thread-safe.  Tokens are never logged; buffers that held one
 * are wiped.
 */
#ifndef S3I_ADMIN_AUTH_H
#define S3I_ADMIN_AUTH_H

#include <stddef.h>

#define ADMIN_TOKEN_MIN		16
#define ADMIN_TOKEN_MAX		1024
#define ADMIN_DIGEST_LEN	32

/*
 * 1 when the Host header value host (NULL: none) names the listener on
 * listen ("host:port", "[v6]:port", as server.admin_listen), or is one
 * of the comma-separated names (server.admin_hosts; NULL: none), with
 * the listen port or none; else 0.
 */
int	admin_auth_host_ok(const char *listen, const char *names,
	    const char *host);

/*
 * NULL when tok is usable as a token: ADMIN_TOKEN_MIN to ADMIN_TOKEN_MAX
 * characters of RFC 6750's b64token (letters, digits, - . _ ~ + / and
 * trailing =), so it travels in a header unchanged; else why not.
 */
const char *admin_auth_token_invalid(const char *tok);

/*
 * The token from token (server.admin_token, may be NULL or "") or the file
 * named by file (server.admin_token_file, may be NULL or ""): *out is a
 * heap copy the caller wipes and frees (admin_auth_token_free), or NULL
 * when neither is set.  Returns 0, or -1 with a message in err (both set,
 * a relative path, an unreadable file, a bad token).
 */
int	admin_auth_token_get(const char *token, const char *file, char **out,
	    char *err, size_t errsz);
void	admin_auth_token_free(char *);

/* SHA-256 of tok, what admin_auth_bearer_ok() compares against. */
void	admin_auth_digest(const char *tok, unsigned char out[ADMIN_DIGEST_LEN]);

/*
 * 1 when the Authorization header value authz is "Bearer " and the token
 * whose digest is want; the comparison takes the same time wherever the
 * values differ.  0 otherwise (NULL: no header).
 */
int	admin_auth_bearer_ok(const unsigned char want[ADMIN_DIGEST_LEN],
	    const char *authz);

#endif
