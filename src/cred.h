/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred: what the credential chain's files share, inside the module; its
 * callers include credentials.h only.  The chain is one family of files:
 *
 *   cred_chain.c    which source, in the SDKs' order; the environment;
 *                   fetching a temporary source with a few attempts
 *   cred_profile.c  the shared credentials and config files
 *   cred_sts.c      web identity: AssumeRoleWithWebIdentity at STS
 *   cred_imds.c     the container agent and EC2 instance metadata (JSON)
 *   cred_refresh.c  the current set, the refresher thread, fork
 *   cred_set.c      checks of a set, times, secret files, error text and
 *                   the HTTP call options every network source uses
 *
 * Every network call goes through http_call (one libcurl client for the
 * daemon's own calls); STS XML through libxml2, JSON through jansson.
 *
 * What the chain does not do: sign anything (callers sign with a copy of
 * the set), retry a request of a caller, or cache anything on disk.
 *
 * Secrets (keys, tokens, the web identity token, Authorization values,
 * file contents) live in buffers that are wiped before they are freed and
 * are never logged; logs name the source and the last four characters of
 * the access key id.
 *
 * Threads: a struct cred_src is written by a selector while only its
 * caller sees it, then read-only; the fetchers work on their arguments;
 * cred_stop is the one shared flag (see cred_refresh.c).
 */
#ifndef S3I_CRED_H
#define S3I_CRED_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "credentials.h"
#include "http_call.h"

#define CRED_BODY_MAX		(64 * 1024)	/* HTTP answer bytes kept */
#define CRED_AUTH_TOKEN_MAX	(16 * 1024)	/* container Authorization */

/* What to fetch again at each refresh: read-only once installed. */
struct cred_src {
	enum credentials_kind	 kind;
	char			 desc[160];	/* logs and status; no secret */
	/* web identity */
	char			 token_file[PATH_MAX];
	char			 role_arn[2048];
	char			 session_name[65];
	char			 sts_url[1024];
	/* container */
	char			 url[2048];
	char			 auth[CRED_AUTH_TOKEN_MAX];	/* secret */
	char			 auth_file[PATH_MAX];
	int			 peer_check;
	/* IMDS */
	char			 imds[1024];
	/* for the "nothing found" message */
	char			 tried[600];
};

/* Set by credentials_fini(): a fetch under way stops (http_call's
 * cancel), the refresher leaves. */
extern atomic_int	 cred_stop;

/* --- cred_set.c ------------------------------------------------------ */

/* An error message into err, cut to fit (messages name paths and URLs of
 * any length). */
void	cred_seterr(char *err, size_t errsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The value of name in envp when set and not empty, or NULL. */
const char *cred_env_val(char *const *envp, const char *name);
/* src into dst: 0, or -1 when it does not fit. */
int	cred_copy(char *dst, size_t dstsz, const char *src);
/* 1 when s is non-empty printable ASCII without blanks. */
int	cred_printable(const char *s);
/* 1 when s may be a header value: visible ASCII, inner blanks. */
int	cred_header_safe(const char *s);
/* 0 when the set can be signed with, or -1 + err. */
int	cred_check_set(const struct credentials *, char *err, size_t errsz);
/* Keep printable ASCII of s (text from a server), at most max bytes. */
void	cred_sanitize(char *s, size_t max);
/* Trim trailing blanks and line ends in place. */
void	cred_rtrim(char *s);
/* The whole file at path, NUL-terminated, in *out (the caller frees it
 * with cred_free_secret(*out, *lenp + 1)).  0; or -1 with errno (ENOENT
 * when missing, EFBIG over max). */
int	cred_read_file(const char *path, size_t max, char **out,
	    size_t *lenp);
/* Wipe n bytes of p, then free it; p may be NULL. */
void	cred_free_secret(char *p, size_t n);
/* A token file's content, trailing line ends removed, fit for a header;
 * 0, or -1 + err naming what and path. */
int	cred_read_token(const char *path, size_t max, const char *what,
	    char **out, size_t *lenp, char *err, size_t errsz);
/* An http(s) URL without user info or fragment into out, without a
 * trailing '/'; 0 or -1. */
int	cred_base_url(const char *url, char *out, size_t outsz);
/* hc set up for one of our calls to url: unsigned, the answer secret and
 * capped, cancelled by cred_stop. */
void	cred_call_init(struct http_call *hc, const char *method,
	    const char *url, long connect_ms, long total_ms);
/* Why the call got no answer, for an error message. */
const char *cred_call_error(const struct http_answer *);

/*
 * The sources.  A selector reads the environment (no network): 1 when
 * its source is configured (s filled), 0 when the chain goes on, -1 + err
 * when the settings are wrong.  A fetcher makes one attempt: 0 and c, or
 * -1 + err and *retry (worth another attempt); an is its scratch answer.
 */

/* --- cred_profile.c -------------------------------------------------- */
int	cred_profile_select(char *const *envp, struct cred_src *,
	    struct credentials *, char *err, size_t errsz);

/* --- cred_sts.c ------------------------------------------------------ */
/* Web identity from the environment or a profile (via names it, or
 * NULL): 0 or -1 + err. */
int	cred_sts_select(char *const *envp, struct cred_src *,
	    const char *token_file, const char *role_arn, const char *session,
	    const char *via, char *err, size_t errsz);
int	cred_sts_fetch(const struct cred_src *, struct http_answer *,
	    struct credentials *, char *err, size_t errsz, int *retry);

/* --- cred_imds.c ----------------------------------------------------- */
int	cred_container_select(char *const *envp, struct cred_src *,
	    char *err, size_t errsz);
int	cred_imds_select(char *const *envp, struct cred_src *, char *err,
	    size_t errsz);
int	cred_container_fetch(const struct cred_src *, struct http_answer *,
	    struct credentials *, char *err, size_t errsz, int *retry);
int	cred_imds_fetch(const struct cred_src *, struct http_answer *,
	    struct credentials *, char *err, size_t errsz, int *retry);

/* --- cred_chain.c ---------------------------------------------------- */
/* 1 for the sources whose sets expire and are fetched again. */
int	cred_temporary(enum credentials_kind);
/* One attempt at s's temporary source: 0 and c (c->source set), or -1 +
 * err and *retry. */
int	cred_fetch(const struct cred_src *, struct credentials *, char *err,
	    size_t errsz, int *retry);
/* Select, then fetch with a few attempts: 0 and c, or -1 + err. */
int	cred_resolve(char *const *envp, struct cred_src *,
	    struct credentials *, char *err, size_t errsz);

#endif
