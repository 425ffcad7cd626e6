/* SPDX-License-Identifier: Apache-2.0 */
/*
 * credentials: the proxy's own AWS credentials, for the upstream bucket and
 * CloudFront.  The sources are tried in the order of the AWS SDKs' default
 * chain (AWS SDKs and Tools Reference Guide, "Standardized credential
 * providers"); the first one configured wins:
 *
 *  1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and maybe
 *     AWS_SESSION_TOKEN;
 *  2. shared files: profile AWS_PROFILE (default "default") in
 *     AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials, section [NAME]),
 *     then in AWS_CONFIG_FILE (~/.aws/config, [profile NAME] or
 *     [default]): static keys, or web_identity_token_file + role_arn;
 *  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (and
 *     AWS_ROLE_SESSION_NAME) exchanged at STS AssumeRoleWithWebIdentity
 *     (endpoint AWS_ENDPOINT_URL_STS, else regional for AWS_REGION, else
 *     https://sts.amazonaws.com);
 *  4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *     http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN as Authorization;
 *  5. EC2 IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT, unless
 *     AWS_EC2_METADATA_DISABLED=true).
 *
 * Sources 3-5 (and a profile with a web identity) give temporary
 * credentials: credentials_init() fetches the first set and starts a
 * background refresher thread that swaps in a new set before the current
 * one expires; credentials_fini() stops it.
 *
 * Threads: credentials_init() and credentials_fini() run on the main
 * thread while no other thread uses this module.  In between,
 * credentials_get(), credentials_source() and credentials_status() may be
 * called from any thread: they copy the current set under a mutex, never do
 * network or file I/O and never block on a refresh.  The copy belongs to
 * the caller, who wipes it with credentials_wipe().  The credentials_*
 * parsers below are pure (no I/O, no globals) and are what the unit tests
 * and fuzzers hit.
 */
#ifndef S3I_CREDENTIALS_H
#define S3I_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

struct credentials {
	char	access_key_id[129];
	char	secret_access_key[129];
	char	session_token[8192];	/* "" when none */
	char	source[160];		/* "environment", "profile NAME", ... */
	int64_t	expiration;		/* Unix seconds; 0 = does not expire */
};

enum credentials_kind {
	CREDENTIALS_NONE = 0,
	CREDENTIALS_ENV,
	CREDENTIALS_PROFILE,
	CREDENTIALS_WEB_IDENTITY,
	CREDENTIALS_CONTAINER,
	CREDENTIALS_IMDS
};

/* What /status shows: no secret in it. */
struct credentials_status {
	enum credentials_kind kind;
	char	source[160];
	char	access_key_id[129];
	int64_t	expiration;		/* 0 = does not expire */
	int64_t	last_refresh;		/* Unix seconds of the current set */
	int64_t	next_refresh;		/* 0 when nothing is refreshed */
	uint64_t refreshes;		/* successful refreshes since init */
	uint64_t failures;		/* failed attempts since init */
	char	last_error[256];	/* of the last failed attempt, or "" */
};

/* Resolve from envp (NULL-terminated "NAME=value"), install the set and,
 * for temporary credentials, start the refresher.  Returns 0, or -1 with a
 * reason in err. */
int	credentials_init(char *const *envp, char *err, size_t errsz);
/* Copy the current set.  -1 when there is none or it has expired. */
int	credentials_get(struct credentials *);
void	credentials_wipe(struct credentials *);
/* Stop the refresher, wipe the set.  Safe to call without init. */
void	credentials_fini(void);
/* The current source in out ("" before init); returns its kind. */
enum credentials_kind credentials_source(char *out, size_t n);
int	credentials_status(struct credentials_status *);
const char *credentials_kind_name(enum credentials_kind);

/* For tests: resolve (network sources included) without installing. */
int	credentials_resolve(char *const *envp, struct credentials *,
	    char *err, size_t errsz);
/* For tests: which source envp selects, without network I/O (IMDS is the
 * fallback unless disabled).  desc: what it is, for logs; -1 and err
 * when the configuration is wrong or nothing is left. */
int	credentials_select(char *const *envp, enum credentials_kind *,
	    char *desc, size_t descsz, char *err, size_t errsz);

/* --- pure parsers --------------------------------------------------- */

/* The string member name of the JSON object in json[0..len), read by
 * jansson: 1 and its value (NUL-terminated UTF-8) in out; 0 when absent;
 * -1 when the document is not one well-formed JSON object (RFC 8259,
 * valid UTF-8, nesting within jansson's JSON_PARSER_MAX_DEPTH), has a
 * name twice, holds a \u0000, or the value is not a string or does not
 * fit in outsz. */
int	credentials_json_get(const char *json, size_t len, const char *name,
	    char *out, size_t outsz);
/* A container or IMDS answer (AccessKeyId, SecretAccessKey, Token,
 * Expiration; Code, when present, must be "Success").  0 or -1 + err. */
int	credentials_parse_json(const char *json, size_t len,
	    struct credentials *, char *err, size_t errsz);
/* An STS AssumeRoleWithWebIdentity answer.  0 or -1 + err (with the STS
 * error code and message of an <ErrorResponse>). */
int	credentials_parse_sts(const char *xml, size_t len,
	    struct credentials *, char *err, size_t errsz);
/* ISO 8601 UTC "2026-11-27T10:00:00Z" (fraction and +hh:mm allowed) to
 * Unix seconds.  0 or -1. */
int	credentials_parse_time(const char *, int64_t *);
/* Key of section in a shared credentials/config file text: 1 and the
 * value in out; 0 when absent; -1 when too long.  key NULL: 1 when the
 * section exists.  Section names are compared after collapsing the blanks
 * of "profile   NAME"; keys case-insensitively. */
int	credentials_profile_get(const char *text, size_t len,
	    const char *section, const char *key, char *out, size_t outsz);
/* When to refresh, at time now, a set fetched at fetched that expires at
 * expiration (0: never): min(5 minutes, half its lifetime) before it
 * expires, every 15 minutes when it does not.  After failures failed
 * attempts in a row: a backoff of 1, 2, 4 ... 60 s, at most a quarter of
 * what is left, at most 5 s once expired.  Unix seconds, >= now + 1. */
int64_t	credentials_next_refresh(int64_t now, int64_t fetched,
	    int64_t expiration, unsigned failures);

#endif
