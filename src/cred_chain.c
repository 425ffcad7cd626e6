/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_chain: which source, and its first set.  The order is the AWS
 * SDKs' default chain (SDKREF, "Standardized credential providers"; see
 * credentials.h): environment, shared files, web identity, container,
 * IMDS.  Environment: SDKREF "AWS access keys"; an access key id without
 * a secret (or the reverse) is an error, as in the SDKs, not a reason to
 * look further.  A temporary source is tried a few times (the SDKs retry
 * the container endpoint; IMDS gets one attempt so that a host outside
 * EC2 fails fast).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cred.h"
#include "log.h"
#include "util.h"

static int
select_src(char *const *envp, struct cred_src *s, struct credentials *c,
    char *err, size_t errsz)
{
	const char	*akid, *secret, *token, *tf, *arn;
	int		 r;

	memset(c, 0, sizeof(*c));
	s->kind = CREDENTIALS_NONE;
	akid = cred_env_val(envp, "AWS_ACCESS_KEY_ID");
	secret = cred_env_val(envp, "AWS_SECRET_ACCESS_KEY");
	token = cred_env_val(envp, "AWS_SESSION_TOKEN");
	if (akid != NULL || secret != NULL) {
		if (akid == NULL || secret == NULL) {
			cred_seterr(err, errsz, "%s is set without %s",
			    akid != NULL ? "AWS_ACCESS_KEY_ID" :
			    "AWS_SECRET_ACCESS_KEY", akid != NULL ?
			    "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			return -1;
		}
		if (cred_copy(c->access_key_id, sizeof(c->access_key_id),
		    akid) || cred_copy(c->secret_access_key,
		    sizeof(c->secret_access_key), secret) ||
		    cred_copy(c->session_token, sizeof(c->session_token),
		    token != NULL ? token : "") ||
		    cred_check_set(c, err, errsz) == -1) {
			cred_seterr(err, errsz, "AWS_ACCESS_KEY_ID, "
			    "AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN is too "
			    "long or not printable ASCII");
			credentials_wipe(c);
			return -1;
		}
		s->kind = CREDENTIALS_ENV;
		snprintf(s->desc, sizeof(s->desc), "environment");
		return 0;
	}
	r = cred_profile_select(envp, s, c, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	tf = cred_env_val(envp, "AWS_WEB_IDENTITY_TOKEN_FILE");
	arn = cred_env_val(envp, "AWS_ROLE_ARN");
	if (tf != NULL && arn != NULL)
		return cred_sts_select(envp, s, tf, arn,
		    cred_env_val(envp, "AWS_ROLE_SESSION_NAME"), NULL, err,
		    errsz);
	if (tf != NULL || arn != NULL)
		log_warn("credentials: %s is set without %s: web identity "
		    "skipped", tf != NULL ? "AWS_WEB_IDENTITY_TOKEN_FILE" :
		    "AWS_ROLE_ARN", tf != NULL ? "AWS_ROLE_ARN" :
		    "AWS_WEB_IDENTITY_TOKEN_FILE");
	r = cred_container_select(envp, s, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	r = cred_imds_select(envp, s, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	cred_seterr(err, errsz, "no AWS credentials found: not in the "
	    "environment (AWS_ACCESS_KEY_ID), no %s, no web identity "
	    "(AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) or container "
	    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) settings, "
	    "and EC2 IMDS is disabled (AWS_EC2_METADATA_DISABLED)", s->tried);
	return -1;
}

int
credentials_select(char *const *envp, enum credentials_kind *kind,
    char *desc, size_t descsz, char *err, size_t errsz)
{
	struct cred_src		*s;
	struct credentials	 c;
	int			 rc = -1;

	*kind = CREDENTIALS_NONE;
	if (descsz > 0)
		desc[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		cred_seterr(err, errsz, "out of memory");
		return -1;
	}
	if (select_src(envp, s, &c, err, errsz) == 0) {
		*kind = s->kind;
		snprintf(desc, descsz, "%s", s->desc);
		rc = 0;
	}
	credentials_wipe(&c);
	cred_free_secret((char *)s, sizeof(*s));
	return rc;
}

/* One attempt at a temporary source.  *retry: worth another attempt. */
int
cred_fetch(const struct cred_src *s, struct credentials *c, char *err,
    size_t errsz, int *retry)
{
	struct http_answer	 an;
	int			 rc = -1;

	memset(c, 0, sizeof(*c));
	*retry = 0;
	http_answer_init(&an);
	switch (s->kind) {
	case CREDENTIALS_WEB_IDENTITY:
		rc = cred_sts_fetch(s, &an, c, err, errsz, retry);
		break;
	case CREDENTIALS_CONTAINER:
		rc = cred_container_fetch(s, &an, c, err, errsz, retry);
		break;
	case CREDENTIALS_IMDS:
		rc = cred_imds_fetch(s, &an, c, err, errsz, retry);
		break;
	default:
		cred_seterr(err, errsz, "nothing to fetch");
		break;
	}
	http_answer_fini(&an);
	if (rc == 0)
		snprintf(c->source, sizeof(c->source), "%s", s->desc);
	else
		credentials_wipe(c);
	return rc;
}

int
cred_temporary(enum credentials_kind k)
{
	return k == CREDENTIALS_WEB_IDENTITY || k == CREDENTIALS_CONTAINER ||
	    k == CREDENTIALS_IMDS;
}

/* Select, then fetch with a few attempts (SDKs retry the container
 * endpoint; IMDS gets one so that a non-EC2 host fails fast). */
int
cred_resolve(char *const *envp, struct cred_src *s, struct credentials *c,
    char *err, size_t errsz)
{
	struct timespec	 ts;
	char		 why[512];
	int		 i, attempts, retry;

	if (select_src(envp, s, c, err, errsz) == -1)
		return -1;
	if (!cred_temporary(s->kind)) {
		snprintf(c->source, sizeof(c->source), "%s", s->desc);
		return 0;
	}
	xmlInitParser();
	attempts = s->kind == CREDENTIALS_IMDS ? 1 :
	    s->kind == CREDENTIALS_CONTAINER ? 3 : 2;
	for (i = 0; i < attempts; i++) {
		if (i > 0) {
			ts.tv_sec = 0;
			ts.tv_nsec = 250000000L * i;
			nanosleep(&ts, NULL);
		}
		if (cred_fetch(s, c, why, sizeof(why), &retry) == 0) {
			if (c->expiration != 0 && c->expiration <= util_now()) {
				cred_seterr(err, errsz, "%s: the credentials "
				    "expired already (clock skew?)", s->desc);
				credentials_wipe(c);
				return -1;
			}
			return 0;
		}
		if (!retry)
			break;
	}
	if (s->kind == CREDENTIALS_IMDS)
		cred_seterr(err, errsz, "no AWS credentials found: not in the "
		    "environment (AWS_ACCESS_KEY_ID), no %s, no web identity "
		    "or container settings, and %s (outside EC2, set "
		    "AWS_EC2_METADATA_DISABLED=true)", s->tried, why);
	else
		cred_seterr(err, errsz, "%s", why);
	return -1;
}

int
credentials_resolve(char *const *envp, struct credentials *c, char *err,
    size_t errsz)
{
	struct cred_src	*s;
	int		 rc, curl;

	memset(c, 0, sizeof(*c));
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		cred_seterr(err, errsz, "out of memory");
		return -1;
	}
	curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	rc = cred_resolve(envp, s, c, err, errsz);
	if (curl)
		curl_global_cleanup();
	cred_free_secret((char *)s, sizeof(*s));
	return rc;
}
