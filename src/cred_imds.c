/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_imds: the metadata services, whose answers are JSON.
 *
 * - Container: SDKREF "Container credential provider": RELATIVE_URI is
 *   appended to http://169.254.170.2; FULL_URI must be https or an http
 *   URL whose host is a loopback address, 169.254.170.2 (ECS) or
 *   169.254.170.23 / fd00:ec2::23 (EKS Pod Identity).  A host name is
 *   checked where it matters: the address curl actually connected to,
 *   before the request (and its Authorization token) is sent (http_call's
 *   peer_ok).  The token file wins over the token variable and is read at
 *   every refresh.
 * - IMDS: SDKREF "IMDS credential provider" and the Amazon EC2 User Guide,
 *   "Use the Instance Metadata Service to access instance metadata":
 *   IMDSv2 only (PUT /latest/api/token with
 *   X-aws-ec2-metadata-token-ttl-seconds, then GETs with
 *   X-aws-ec2-metadata-token); no IMDSv1 fallback: a token-less GET is
 *   what IMDSv2-only instances refuse, and newer SDKs dropped it too.
 *   1-second timeouts and one attempt, so that a machine outside EC2
 *   fails in about a second.  Link-local services never go through an
 *   HTTP proxy.
 * - Both answer JSON, read with jansson (the library the JSON log writes
 *   with), strictly: see credentials_json_get().  The strings of the
 *   parsed tree are wiped before it is freed; the lexer's own scratch
 *   buffer inside jansson is not reachable and is freed as is.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "cred.h"

#define IMDS_TOKEN_MAX		1024
/* An agent on the same host or link answers at once; outside EC2, IMDS
 * must fail in about a second (each of its calls). */
#define CONTAINER_CONNECT_MS	2000
#define CONTAINER_TOTAL_MS	5000
#define IMDS_TIMEOUT_MS		1000
#define ROLE_NAME_MAX		128

#define ECS_BASE		"http://169.254.170.2"
#define IMDS_BASE_V4		"http://169.254.169.254"
#define IMDS_BASE_V6		"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		"21600"		/* seconds, as the SDKs */
#define IMDS_CREDS_PATH		"/latest/meta-data/iam/security-credentials/"

/* Wipe every string of the tree before it is freed: it held secrets. */
static void
json_wipe(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (json_is_string(j))
		OPENSSL_cleanse((char *)json_string_value(j),
		    json_string_length(j));
	else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_wipe(v);
	}
}

int
credentials_json_get(const char *json, size_t len, const char *name,
    char *out, size_t outsz)
{
	json_error_t	 jerr;
	json_t		*doc = NULL, *v;
	size_t		 n;
	int		 rc = -1;

	if (out == NULL || outsz == 0 || json == NULL || name == NULL)
		return -1;
	out[0] = '\0';
	/* RFC 8259 strictly, as jansson reads it: one document, nothing
	 * after it, valid UTF-8, no \u0000; a name twice (anywhere) is
	 * ambiguous, so refused. */
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc))
		goto out;
	v = json_object_get(doc, name);
	if (v == NULL) {
		rc = 0;
		goto out;
	}
	n = json_string_length(v);
	if (!json_is_string(v) || n >= outsz)
		goto out;
	memcpy(out, json_string_value(v), n + 1);
	rc = 1;
out:
	if (doc != NULL) {
		json_wipe(doc);
		json_decref(doc);
	}
	if (rc != 1)
		OPENSSL_cleanse(out, outsz);
	if (rc == 0)
		out[0] = '\0';
	return rc;
}

int
credentials_parse_json(const char *json, size_t len, struct credentials *c,
    char *err, size_t errsz)
{
	char	 v[64];
	int	 rc;

	memset(c, 0, sizeof(*c));
	rc = credentials_json_get(json, len, "Code", v, sizeof(v));
	if (rc == -1)
		goto bad;
	if (rc == 1 && strcmp(v, "Success") != 0) {
		cred_sanitize(v, 40);
		cred_seterr(err, errsz, "the answer's Code is \"%s\", not "
		    "Success", v);
		goto fail;
	}
	if (credentials_json_get(json, len, "AccessKeyId", c->access_key_id,
	    sizeof(c->access_key_id)) != 1 ||
	    credentials_json_get(json, len, "SecretAccessKey",
	    c->secret_access_key, sizeof(c->secret_access_key)) != 1 ||
	    credentials_json_get(json, len, "Token", c->session_token,
	    sizeof(c->session_token)) == -1)
		goto bad;
	rc = credentials_json_get(json, len, "Expiration", v, sizeof(v));
	if (rc == -1 || (rc == 1 && credentials_parse_time(v,
	    &c->expiration) == -1))
		goto bad;
	if (cred_check_set(c, err, errsz) == -1)
		goto fail;
	return 0;
bad:
	cred_seterr(err, errsz, "the answer is not a JSON object with string "
	    "members AccessKeyId, SecretAccessKey and optional Token and "
	    "Expiration (ISO 8601)");
fail:
	credentials_wipe(c);
	return -1;
}

/* Addresses a plain-http FULL_URI may reach (SDKREF, "Container
 * credential provider"): loopback, the ECS and EKS Pod Identity agents. */
static int
peer_allowed(const char *ip)
{
	struct in_addr	 a4;
	struct in6_addr	 a6, eks6;
	uint32_t	 a;

	if (ip == NULL)
		return 0;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		a = ntohl(a4.s_addr);
		return (a >> 24) == 127 || a == 0xa9feaa02 || a == 0xa9feaa17;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		a = (uint32_t)a6.s6_addr[12] << 24 |
		    (uint32_t)a6.s6_addr[13] << 16 |
		    (uint32_t)a6.s6_addr[14] << 8 | a6.s6_addr[15];
		return (a >> 24) == 127 || a == 0xa9feaa02 || a == 0xa9feaa17;
	}
	if (inet_pton(AF_INET6, "fd00:ec2::23", &eks6) != 1)
		return 0;
	return memcmp(&a6, &eks6, sizeof(a6)) == 0;
}

/* FULL_URI: https anywhere; http only to an allowed host.  A literal
 * address is checked now; a name when curl has connected. */
static int
select_full_uri(const char *uri, struct cred_src *s, char *err, size_t errsz)
{
	CURLU	*u = NULL;
	char	*scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char	*user = NULL, ip[64];
	size_t	 n;
	int	 rc = -1;

	u = curl_url();
	if (u == NULL || !cred_printable(uri) ||
	    curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		cred_seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "not a URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		cred_seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI "
		    "has user information");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		cred_seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI "
		    "must be http or https");
		goto out;
	}
	if (strcmp(scheme, "http") == 0) {
		s->peer_check = 1;
		n = strlen(host);
		if (host[0] == '[' && n >= 2 && n - 2 < sizeof(ip)) {
			memcpy(ip, host + 1, n - 2);
			ip[n - 2] = '\0';
		} else
			snprintf(ip, sizeof(ip), "%s", host);
		if ((strchr(ip, ':') != NULL || strspn(ip, "0123456789.") ==
		    strlen(ip)) && !peer_allowed(ip)) {
			cred_seterr(err, errsz,
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI %s://%s: "
			    "plain http is only allowed to a loopback "
			    "address, 169.254.170.2 or the EKS Pod Identity "
			    "agent; use https", scheme, host);
			goto out;
		}
	}
	if (cred_copy(s->url, sizeof(s->url), uri) == -1) {
		cred_seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "too long");
		goto out;
	}
	snprintf(s->desc, sizeof(s->desc), "container %s://%s%s%s%.80s",
	    scheme, host, port != NULL ? ":" : "", port != NULL ? port : "",
	    path);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

int
cred_container_select(char *const *envp, struct cred_src *s, char *err,
    size_t errsz)
{
	const char	*rel, *full, *tok, *tokf;

	rel = cred_env_val(envp, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = cred_env_val(envp, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel == NULL && full == NULL)
		return 0;
	s->kind = CREDENTIALS_CONTAINER;
	if (rel != NULL) {
		/* Starts with '/': nothing can turn the fixed host into user
		 * information or another host. */
		if (rel[0] != '/' || !cred_printable(rel) ||
		    (size_t)snprintf(s->url, sizeof(s->url), "%s%s", ECS_BASE,
		    rel) >= sizeof(s->url)) {
			cred_seterr(err, errsz,
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a "
			    "path starting with '/'");
			return -1;
		}
		snprintf(s->desc, sizeof(s->desc), "container %s%.80s",
		    ECS_BASE, rel);
	} else if (select_full_uri(full, s, err, errsz) == -1)
		return -1;
	tokf = cred_env_val(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	tok = cred_env_val(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (tokf != NULL) {
		if (cred_copy(s->auth_file, sizeof(s->auth_file), tokf) == -1) {
			cred_seterr(err, errsz,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is too "
			    "long");
			return -1;
		}
	} else if (tok != NULL) {
		if (cred_copy(s->auth, sizeof(s->auth), tok) == -1 ||
		    !cred_header_safe(tok)) {
			cred_seterr(err, errsz,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long or "
			    "has a line break or another control character");
			return -1;
		}
	}
	return 1;
}

int
cred_imds_select(char *const *envp, struct cred_src *s, char *err, size_t errsz)
{
	const char	*dis, *ep, *mode;

	dis = cred_env_val(envp, "AWS_EC2_METADATA_DISABLED");
	if (dis != NULL && strcasecmp(dis, "true") == 0)
		return 0;
	ep = cred_env_val(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	mode = cred_env_val(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (ep == NULL)
		ep = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_BASE_V6 : IMDS_BASE_V4;
	if (cred_base_url(ep, s->imds, sizeof(s->imds)) == -1) {
		cred_seterr(err, errsz, "AWS_EC2_METADATA_SERVICE_ENDPOINT is "
		    "not an http(s) URL");
		return -1;
	}
	s->kind = CREDENTIALS_IMDS;
	snprintf(s->desc, sizeof(s->desc), "EC2 IMDS %.120s", s->imds);
	return 1;
}

int
cred_container_fetch(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	const char	*hdrs[3] = { NULL, NULL, NULL };
	struct http_call hc;
	char		*tok = NULL, *hdr = NULL, why[256], code[64];
	size_t		 toklen = 0, hsz = CRED_AUTH_TOKEN_MAX + 32, n = 0;
	int		 rc = -1;

	hdr = malloc(hsz);
	if (hdr == NULL) {
		cred_seterr(err, errsz, "out of memory");
		goto out;
	}
	if (s->auth_file[0] != '\0') {
		if (cred_read_token(s->auth_file, CRED_AUTH_TOKEN_MAX - 1,
		    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok, &toklen,
		    err, errsz) == -1)
			goto out;
		snprintf(hdr, hsz, "Authorization: %s", tok);
		hdrs[n++] = hdr;
	} else if (s->auth[0] != '\0') {
		snprintf(hdr, hsz, "Authorization: %s", s->auth);
		hdrs[n++] = hdr;
	}
	hdrs[n] = "Accept: application/json";
	cred_call_init(&hc, "GET", s->url, CONTAINER_CONNECT_MS,
	    CONTAINER_TOTAL_MS);
	hc.headers = hdrs;
	hc.direct = 1;
	hc.peer_ok = s->peer_check ? peer_allowed : NULL;
	http_call_perform(&hc, an);
	if (an->failed) {
		cred_seterr(err, errsz, "%s: %s", s->desc, cred_call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		if (credentials_json_get(buf_str(&an->body), an->body.len,
		    "code", code, sizeof(code)) != 1)
			code[0] = '\0';
		cred_sanitize(code, 40);
		cred_seterr(err, errsz, "%s: HTTP %ld%s%s", s->desc, an->status,
		    code[0] != '\0' ? " " : "", code);
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (credentials_parse_json(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		cred_seterr(err, errsz, "%s: %s", s->desc, why);
		goto out;
	}
	rc = 0;
out:
	cred_free_secret(tok, toklen + 1);
	cred_free_secret(hdr, hsz);
	return rc;
}

int
cred_imds_fetch(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	static const char *const ttl[] = {
		"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, NULL
	};
	const char	*hdrs[2] = { NULL, NULL };
	struct http_call hc;
	char		 url[1400], hdr[IMDS_TOKEN_MAX + 40];
	char		 role[ROLE_NAME_MAX + 1], why[256], none[1];
	char		*text;
	size_t		 n;
	int		 rc = -1;

	hdr[0] = '\0';
	/* The session token. */
	snprintf(url, sizeof(url), "%s/latest/api/token", s->imds);
	cred_call_init(&hc, "PUT", url, IMDS_TIMEOUT_MS, IMDS_TIMEOUT_MS);
	hc.headers = ttl;
	hc.direct = 1;
	http_call_perform(&hc, an);
	if (an->failed) {
		cred_seterr(err, errsz, "%s: PUT /latest/api/token: %s",
		    s->desc, cred_call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	none[0] = '\0';
	text = an->body.data != NULL ? an->body.data : none;
	cred_rtrim(text);
	if (an->status != 200 || an->body.len > IMDS_TOKEN_MAX ||
	    !cred_printable(text)) {
		cred_seterr(err, errsz, "%s: PUT /latest/api/token: HTTP %ld%s",
		    s->desc, an->status, an->status == 200 ?
		    " with a malformed token" : " (IMDSv2 unavailable)");
		*retry = http_answer_retryable(an);
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", text);
	/* The role name. */
	snprintf(url, sizeof(url), "%s%s", s->imds, IMDS_CREDS_PATH);
	hc.method = "GET";
	hdrs[0] = hdr;
	hc.headers = hdrs;
	http_call_perform(&hc, an);
	if (an->failed) {
		cred_seterr(err, errsz, "%s: GET %s: %s", s->desc,
		    IMDS_CREDS_PATH, cred_call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	none[0] = '\0';
	text = an->body.data != NULL ? an->body.data : none;
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	if (an->status != 200 || n == 0 || n > ROLE_NAME_MAX ||
	    strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789_+=,.@-") != n) {
		cred_seterr(err, errsz, "%s: GET %s: HTTP %ld%s", s->desc,
		    IMDS_CREDS_PATH, an->status, an->status == 404 ?
		    " (no IAM role is attached to this instance)" :
		    an->status == 200 ? " with a malformed role name" : "");
		*retry = http_answer_retryable(an);
		goto out;
	}
	memcpy(role, text, n + 1);
	/* The role's credentials. */
	snprintf(url, sizeof(url), "%s%s%s", s->imds, IMDS_CREDS_PATH, role);
	http_call_perform(&hc, an);
	if (an->failed) {
		cred_seterr(err, errsz, "%s: role %s: %s", s->desc, role,
		    cred_call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		cred_seterr(err, errsz, "%s: role %s: HTTP %ld", s->desc, role,
		    an->status);
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (credentials_parse_json(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		cred_seterr(err, errsz, "%s: role %s: %s", s->desc, role, why);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(hdr, sizeof(hdr));
	return rc;
}
