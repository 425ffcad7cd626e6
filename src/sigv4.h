/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigv4: AWS Signature Version 4, pure.
 *
 * Canonical URI and query, canonical request, string to sign, signing key,
 * signature, and parsing of the Authorization header and of presigned-URL
 * parameters.  No I/O, no globals, no clock: callers pass the time in, so the
 * AWS signing test suite runs against a fixed clock.
 *
 * S3 rules (AWS "Signature Calculations for the Authorization Header",
 * "Create a canonical request"): the path is URI-encoded once and never
 * normalised; query names and values are URI-encoded and sorted by name,
 * then value; header values are trimmed and inner runs of spaces folded.
 *
 * Thread-safe: every function works only on its arguments.  Functions that
 * produce text append to a caller-owned struct buf.  Secrets (secret keys,
 * signing keys) are never copied into buffers these functions return.
 */
#ifndef S3I_SIGV4_H
#define S3I_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_HEX_LEN		64		/* hex SHA-256 / signature */
#define SIGV4_KEY_LEN		32		/* raw signing key */
#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request header as received: any case, value untrimmed. */
struct sigv4_header {
	const char	*name;
	const char	*value;
};

/* What a canonical request is made of. */
struct sigv4_request {
	const char	*method;		/* "GET" */
	const char	*canonical_uri;		/* already encoded */
	const char	*canonical_query;	/* already canonical, may be "" */
	const struct sigv4_header *headers;	/* every header, duplicates ok */
	size_t		 n_headers;
	const char	*signed_headers;	/* "host;x-amz-date", lower, sorted */
	const char	*payload_hash;		/* hex, UNSIGNED-PAYLOAD, ... */
};

/* A parsed credential scope: AKID/yyyymmdd/region/service/aws4_request. */
struct sigv4_credential {
	char	access_key_id[129];
	char	date[9];			/* yyyymmdd */
	char	region[65];
	char	service[33];
};

/* A parsed "Authorization: AWS4-HMAC-SHA256 ..." header. */
struct sigv4_auth {
	struct sigv4_credential cred;
	char	signed_headers[1024];		/* as sent: "host;x-amz-date" */
	char	signature[SIGV4_HEX_LEN + 1];	/* lower-case hex */
};

/*
 * uri_encode() and uri_decode() (uri.h), which new code calls: these stay
 * while http_front.c and upstream.c call them.  SigV4's UriEncode is
 * uri_encode(): unreserved characters stay, every other byte is %XX.
 */
int	sigv4_uri_encode(struct buf *, const char *s, size_t len,
	    int keep_slash);
int	sigv4_uri_decode(struct buf *, const char *s, size_t len);

/*
 * The S3 canonical URI of a raw request path as it came on the wire
 * ("/bucket/my%20key"): decoded once, then encoded once with '/' kept,
 * never normalised ("//" and "/./" stay).  An empty path is "/".
 * Returns 0, or -1 on a malformed escape or when out of memory.
 */
int	sigv4_canonical_uri(struct buf *, const char *raw_path, size_t len);

/*
 * The canonical query string of a raw query (the part after '?', without
 * '?'; may be empty): split on '&', each name and value decoded then
 * re-encoded, "name" without '=' taken as "name=", sorted by encoded name
 * then encoded value, joined with '&'.  A parameter whose decoded name
 * equals omit (case-sensitive; NULL for none) is left out: pass
 * "X-Amz-Signature" when verifying a presigned URL.
 * Returns 0, or -1 on a malformed escape or when out of memory.
 */
int	sigv4_canonical_query(struct buf *, const char *raw_query,
	    const char *omit);

/*
 * The canonical request:
 *   method \n uri \n query \n canonical headers \n signed headers \n hash
 * Canonical headers: for each name in signed_headers, every header of that
 * name (case-insensitive) in arrival order, values trimmed, inner runs of
 * whitespace folded to one space (obsolete line folding included), joined
 * with ','; as "name:value\n".
 * Returns 0, -1 when out of memory, -2 when signed_headers names a header
 * that is not present or is not lower-case and sorted.
 */
int	sigv4_canonical_request(struct buf *, const struct sigv4_request *);

/* "yyyymmdd/region/service/aws4_request" */
int	sigv4_scope(struct buf *, const char *date8, const char *region,
	    const char *service);

/*
 * AWS4-HMAC-SHA256 \n amz_date \n scope \n hex(sha256(canonical request))
 */
int	sigv4_string_to_sign(struct buf *, const char *amz_date,
	    const char *scope, const char *creq, size_t creq_len);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
 * "aws4_request") */
void	sigv4_signing_key(unsigned char key[SIGV4_KEY_LEN], const char *secret,
	    const char *date8, const char *region, const char *service);

/* hex(HMAC-SHA256(key, msg)); out gets 64 chars and a NUL. */
void	sigv4_sign(char out[SIGV4_HEX_LEN + 1],
	    const unsigned char key[SIGV4_KEY_LEN], const char *msg, size_t len);

/* SHA-256 for EVP_DigestInit_ex2(), fetched once (thread-safe): cheaper
 * than EVP_sha256(), which OpenSSL 3 fetches again on every use. */
const EVP_MD *sigv4_md(void);

/* hex(SHA-256(data)) */
void	sigv4_sha256_hex(char out[SIGV4_HEX_LEN + 1], const void *data,
	    size_t len);

/*
 * Binary digest to lower-case hex; out needs 2 * len + 1 bytes.  The same
 * as hex_encode() (hex.h), which new code calls: this stays while
 * http_front.c and inval_worker.c call it for digests that are not SigV4's.
 */
void	sigv4_hex(char *out, const unsigned char *digest, size_t len);

/* 1 when s is exactly 64 lower- or upper-case hex digits. */
int	sigv4_is_hex_hash(const char *s);

/* Constant-time equality of two NUL-terminated strings of equal length;
 * 0 when lengths differ. */
int	sigv4_equal(const char *a, const char *b);

/*
 * Parse "AKID/yyyymmdd/region/service/aws4_request".
 * Returns 0, or -1 when malformed (wrong part count, empty part, bad date,
 * over-long part, last part not "aws4_request").
 */
int	sigv4_parse_credential(const char *, struct sigv4_credential *);

/*
 * Parse an Authorization header value "AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=..." (components in any order, separated by
 * ',' with optional spaces).  Returns 0, or -1 when malformed or when a
 * component is missing or duplicated.
 */
int	sigv4_parse_authorization(const char *, struct sigv4_auth *);

/*
 * Parse "yyyymmddThhmmssZ" into seconds since the epoch (UTC).
 * Returns 0, or -1 when malformed.
 */
int	sigv4_parse_amz_date(const char *, int64_t *);

/* Format seconds since the epoch as "yyyymmddThhmmssZ"; out needs 17. */
void	sigv4_format_amz_date(char out[17], int64_t);

/* --- signing an outgoing request (one entry point for every caller) --- */

/*
 * Signing keys are derived once per access key, day, region and service.
 * A cache belongs to one thread (or its owner serialises access); it holds
 * a secret-derived key: sigv4_key_cache_wipe() before it is freed.
 */
struct sigv4_key_cache {
	char		 akid[129];
	char		 date[9];
	char		 region[65];
	char		 service[33];
	unsigned char	 key[SIGV4_KEY_LEN];
	int		 valid;
};

void	sigv4_key_cache_wipe(struct sigv4_key_cache *);

/*
 * An outgoing request (AWS General Reference, "Create a signed AWS API
 * request").  Signed: every header in headers (any case; names are
 * lower-cased and sorted, duplicates joined), plus host, x-amz-date,
 * x-amz-content-sha256 and, when session_token is set,
 * x-amz-security-token.  The caller sends those four as given here and
 * in amz_date.
 */
struct sigv4_outgoing {
	const char		*method;
	const char		*host;		/* Host header as sent */
	const char		*canonical_uri;	/* encoded once */
	const char		*canonical_query; /* canonical, may be "" */
	const struct sigv4_header *headers;	/* others to sign */
	size_t			 n_headers;
	const char		*payload_hash;	/* hex, UNSIGNED-PAYLOAD, ... */
	const char		*region;
	const char		*service;
	const char		*access_key_id;
	const char		*secret_access_key;
	const char		*session_token;	/* NULL or "": none */
	int64_t			 now;		/* seconds since the epoch */
};

/*
 * Sign: auth gets the Authorization header's value, amz_date the
 * X-Amz-Date to send.  cache may be NULL.  Returns 0, or -1 when out of
 * memory or when a header name is empty.
 */
int	sigv4_sign_request(const struct sigv4_outgoing *,
	    struct sigv4_key_cache *, char amz_date[17], struct buf *auth);

#endif
