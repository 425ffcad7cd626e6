/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_sts: web identity credentials from STS.  SDKREF (AWS SDKs and
 * Tools Reference Guide) "Assume role credential provider" (settings
 * web_identity_token_file, role_arn, role_session_name and
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME); AWS
 * STS API Reference, "AssumeRoleWithWebIdentity" (unsigned Query API
 * call, Version 2011-06-15, WebIdentityToken up to 20,000 characters,
 * RoleSessionName [\w+=,.@-]{2,64}); SDKREF "Service-specific endpoints"
 * (AWS_ENDPOINT_URL_STS) and "AWS STS Regional endpoints" (regional by
 * default; AWS_STS_REGIONAL_ENDPOINTS=legacy: global).  The token file is
 * read again at every refresh (it is rotated).  The answer is XML, read
 * by libxml2 with no network, no DTD and no entity.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "cred.h"
#include "util.h"

#define WEB_TOKEN_MAX		20000		/* STS WebIdentityToken */
#define STS_ERR_MAX		160		/* of an STS error message */
/* STS over TLS, and it may ask the identity provider: more time than the
 * local agents get. */
#define STS_CONNECT_MS		5000
#define STS_TOTAL_MS		10000
#define STS_GLOBAL		"https://sts.amazonaws.com"

static const xmlNode *
xchild(const xmlNode *n, const char *name)
{
	const xmlNode	*c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The text of element n (text and CDATA children only: an entity
 * reference is refused, never expanded).  0, or -1 when absent, holding
 * anything else, or too long. */
static int
xtext(const xmlNode *n, char *out, size_t outsz)
{
	const xmlNode	*c;
	size_t		 len = 0, k;

	out[0] = '\0';
	if (n == NULL)
		return -1;
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if ((c->type != XML_TEXT_NODE &&
		    c->type != XML_CDATA_SECTION_NODE) || c->content == NULL)
			return -1;
		k = strlen((const char *)c->content);
		if (k >= outsz - len)
			return -1;
		memcpy(out + len, c->content, k);
		len += k;
		out[len] = '\0';
	}
	return 0;
}

/* Wipe every text of the tree before it is freed: it held secrets. */
static void
xwipe(xmlNode *n)
{
	for (; n != NULL; n = n->next) {
		if ((n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) && n->content != NULL)
			OPENSSL_cleanse(n->content,
			    strlen((const char *)n->content));
		xwipe(n->children);
	}
}

int
credentials_parse_sts(const char *xml, size_t len, struct credentials *c,
    char *err, size_t errsz)
{
	xmlDocPtr	 doc = NULL;
	const xmlNode	*root, *cr, *e;
	char		 exp[64], code[64], msg[STS_ERR_MAX + 1];
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	/* STS never sends a DTD: refuse one, so no entity is declared,
	 * expanded or fetched whatever the parser would do. */
	if (len == 0 || len > CRED_BODY_MAX ||
	    memmem(xml, len, "<!DOCTYPE", 9) != NULL ||
	    memmem(xml, len, "<!ENTITY", 8) != NULL) {
		cred_seterr(err, errsz, "the STS answer is empty, too long or "
		    "has a DTD");
		goto out;
	}
	doc = xmlReadMemory(xml, (int)len, "sts.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL) {
		cred_seterr(err, errsz, "the STS answer is not XML");
		goto out;
	}
	if (strcmp((const char *)root->name, "ErrorResponse") == 0) {
		e = xchild(root, "Error");
		if (xtext(xchild(e, "Code"), code, sizeof(code)) == -1)
			snprintf(code, sizeof(code), "?");
		if (xtext(xchild(e, "Message"), msg, sizeof(msg)) == -1)
			msg[0] = '\0';
		cred_sanitize(code, 40);
		cred_sanitize(msg, STS_ERR_MAX);
		cred_seterr(err, errsz, "STS error %s%s%s", code,
		    msg[0] != '\0' ? ": " : "", msg);
		goto out;
	}
	cr = xchild(xchild(root, "AssumeRoleWithWebIdentityResult"),
	    "Credentials");
	if (strcmp((const char *)root->name,
	    "AssumeRoleWithWebIdentityResponse") != 0 || cr == NULL ||
	    xtext(xchild(cr, "AccessKeyId"), c->access_key_id,
	    sizeof(c->access_key_id)) == -1 ||
	    xtext(xchild(cr, "SecretAccessKey"), c->secret_access_key,
	    sizeof(c->secret_access_key)) == -1 ||
	    xtext(xchild(cr, "SessionToken"), c->session_token,
	    sizeof(c->session_token)) == -1 ||
	    xtext(xchild(cr, "Expiration"), exp, sizeof(exp)) == -1 ||
	    credentials_parse_time(exp, &c->expiration) == -1) {
		cred_seterr(err, errsz, "the STS answer has no complete "
		    "AssumeRoleWithWebIdentityResult/Credentials (AccessKeyId, "
		    "SecretAccessKey, SessionToken, Expiration)");
		goto out;
	}
	if (cred_check_set(c, err, errsz) == -1)
		goto out;
	rc = 0;
out:
	if (doc != NULL) {
		xwipe(doc->children);
		xmlFreeDoc(doc);
	}
	if (rc == -1)
		credentials_wipe(c);
	return rc;
}

static int
session_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n < 2 || n > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("_+=,.@-", *s) == NULL)
			return 0;
	return 1;
}

/* Web identity settings: from the environment or from a profile. */
int
cred_sts_select(char *const *envp, struct cred_src *s,
    const char *token_file, const char *role_arn, const char *session,
    const char *via, char *err, size_t errsz)
{
	const char	*ep, *region, *mode;
	int		 n;

	s->kind = CREDENTIALS_WEB_IDENTITY;
	if (cred_copy(s->token_file, sizeof(s->token_file), token_file) == -1 ||
	    cred_copy(s->role_arn, sizeof(s->role_arn), role_arn) == -1 ||
	    !cred_printable(role_arn)) {
		cred_seterr(err, errsz, "web identity: the token file path or "
		    "role ARN is too long or not printable");
		return -1;
	}
	if (session != NULL) {
		if (!session_name_ok(session)) {
			cred_seterr(err, errsz, "web identity: the role "
			    "session name must be 2-64 characters of "
			    "[A-Za-z0-9_+=,.@-]");
			return -1;
		}
		snprintf(s->session_name, sizeof(s->session_name), "%s",
		    session);
	} else
		snprintf(s->session_name, sizeof(s->session_name),
		    "s3inval-%lld", (long long)util_now());
	ep = cred_env_val(envp, "AWS_ENDPOINT_URL_STS");
	region = cred_env_val(envp, "AWS_REGION");
	if (region == NULL)
		region = cred_env_val(envp, "AWS_DEFAULT_REGION");
	mode = cred_env_val(envp, "AWS_STS_REGIONAL_ENDPOINTS");
	if (ep != NULL) {
		if (cred_base_url(ep, s->sts_url, sizeof(s->sts_url)) == -1) {
			cred_seterr(err, errsz, "AWS_ENDPOINT_URL_STS is not "
			    "an http(s) URL");
			return -1;
		}
	} else if (region != NULL && (mode == NULL ||
	    strcasecmp(mode, "legacy") != 0)) {
		if (strlen(region) > 32 ||
		    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(region)) {
			cred_seterr(err, errsz, "AWS_REGION is not a region "
			    "name");
			return -1;
		}
		snprintf(s->sts_url, sizeof(s->sts_url),
		    "https://sts.%s.amazonaws.com%s", region,
		    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	} else
		snprintf(s->sts_url, sizeof(s->sts_url), "%s", STS_GLOBAL);
	n = snprintf(s->desc, sizeof(s->desc), "web identity%s%s (%s)",
	    via != NULL ? " of " : "", via != NULL ? via : "", role_arn);
	if (n < 0 || (size_t)n >= sizeof(s->desc))
		snprintf(s->desc + sizeof(s->desc) - 5, 5, "...)");
	return 0;
}

/* Append URL-encoded "&name=value" to b; -1 when it does not fit. */
static int
form_add(CURL *e, char *b, size_t bsz, size_t *len, const char *name,
    const char *value)
{
	char	*esc;
	size_t	 n;
	int	 rc = -1;

	esc = curl_easy_escape(e, value, 0);
	if (esc == NULL)
		return -1;
	n = strlen(esc);
	if (*len + strlen(name) + n + 3 < bsz) {
		*len += (size_t)snprintf(b + *len, bsz - *len, "%s%s=%s",
		    *len > 0 ? "&" : "", name, esc);
		rc = 0;
	}
	OPENSSL_cleanse(esc, n);
	curl_free(esc);
	return rc;
}

int
cred_sts_fetch(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	static const char *const accept[] = { "Accept: text/xml", NULL };
	struct http_call hc;
	CURL		*e = NULL;
	char		*tok = NULL, *body = NULL, why[256];
	size_t		 toklen = 0, bsz = 3 * WEB_TOKEN_MAX + 4096, len = 0;
	int		 rc = -1;

	if (cred_read_token(s->token_file, WEB_TOKEN_MAX, "web identity token "
	    "file", &tok, &toklen, err, errsz) == -1)
		goto out;
	e = curl_easy_init();
	body = malloc(bsz);
	if (e == NULL || body == NULL ||
	    form_add(e, body, bsz, &len, "Action",
	    "AssumeRoleWithWebIdentity") == -1 ||
	    form_add(e, body, bsz, &len, "Version", "2011-06-15") == -1 ||
	    form_add(e, body, bsz, &len, "RoleArn", s->role_arn) == -1 ||
	    form_add(e, body, bsz, &len, "RoleSessionName",
	    s->session_name) == -1 ||
	    form_add(e, body, bsz, &len, "WebIdentityToken", tok) == -1) {
		cred_seterr(err, errsz, "cannot build the STS request");
		goto out;
	}
	cred_call_init(&hc, "POST", s->sts_url, STS_CONNECT_MS,
	    STS_TOTAL_MS);
	hc.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	hc.headers = accept;
	hc.body = body;
	hc.body_len = len;
	http_call_perform(&hc, an);
	if (an->failed) {
		cred_seterr(err, errsz, "STS %s: %s", s->sts_url,
		    cred_call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		if (credentials_parse_sts(buf_str(&an->body), an->body.len, c,
		    why, sizeof(why)) == 0) {
			credentials_wipe(c);
			snprintf(why, sizeof(why), "no STS error document");
		}
		cred_seterr(err, errsz, "STS %s AssumeRoleWithWebIdentity: "
		    "HTTP %ld: %s", s->sts_url, an->status, why);
		*retry = http_answer_retryable(an) ||
		    strstr(why, "IDPCommunicationError") != NULL;
		goto out;
	}
	if (credentials_parse_sts(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		cred_seterr(err, errsz, "STS %s: %s", s->sts_url, why);
		goto out;
	}
	rc = 0;
out:
	cred_free_secret(tok, toklen + 1);
	cred_free_secret(body, bsz);
	curl_easy_cleanup(e);
	return rc;
}
