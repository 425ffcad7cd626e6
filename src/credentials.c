/* SPDX-License-Identifier: Apache-2.0 */
/*
 * credentials: see credentials.h.  File formats: AWS CLI User Guide,
 * "Configuration and credential file settings": in the credentials file a
 * profile is [NAME]; in the config file [profile NAME], except [default].
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <openssl/crypto.h>

#include "credentials.h"

static pthread_mutex_t	 cred_lock = PTHREAD_MUTEX_INITIALIZER;
static struct credentials cred_current;
static int		 cred_ready;

static const char *
env_get(char *const *envp, const char *name)
{
	size_t	 n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int
copy(char *dst, size_t dstsz, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

struct profile_scan {
	const char		*section;	/* wanted section name */
	struct credentials	*out;
	int			 found;
	int			 toolong;
};

static int
profile_cb(void *u, const char *section, const char *name, const char *value)
{
	struct profile_scan	*ps = u;
	int			 rc = 0;

	if (strcmp(section, ps->section) != 0)
		return 1;
	if (strcmp(name, "aws_access_key_id") == 0) {
		rc = copy(ps->out->access_key_id,
		    sizeof(ps->out->access_key_id), value);
		ps->found |= 1;
	} else if (strcmp(name, "aws_secret_access_key") == 0) {
		rc = copy(ps->out->secret_access_key,
		    sizeof(ps->out->secret_access_key), value);
		ps->found |= 2;
	} else if (strcmp(name, "aws_session_token") == 0)
		rc = copy(ps->out->session_token,
		    sizeof(ps->out->session_token), value);
	if (rc == -1)
		ps->toolong = 1;
	return 1;
}

static int
from_file(const char *path, const char *section, struct credentials *c)
{
	struct profile_scan	 ps = { section, c, 0, 0 };
	FILE			*f;

	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	ini_parse_file(f, profile_cb, &ps);
	fclose(f);
	if (ps.toolong)
		return -1;
	return ps.found == 3 ? 1 : 0;
}

int
credentials_resolve(char *const *envp, struct credentials *c, char *err,
    size_t errsz)
{
	const char	*akid, *secret, *token, *home, *profile, *path;
	char		 def[4096], section[300];
	int		 rc;

	memset(c, 0, sizeof(*c));
	akid = env_get(envp, "AWS_ACCESS_KEY_ID");
	secret = env_get(envp, "AWS_SECRET_ACCESS_KEY");
	token = env_get(envp, "AWS_SESSION_TOKEN");
	if (akid != NULL && *akid != '\0' && secret != NULL && *secret != '\0') {
		if (copy(c->access_key_id, sizeof(c->access_key_id), akid) ||
		    copy(c->secret_access_key, sizeof(c->secret_access_key),
		    secret) || copy(c->session_token, sizeof(c->session_token),
		    token != NULL ? token : "")) {
			snprintf(err, errsz, "environment credentials too long");
			return -1;
		}
		copy(c->source, sizeof(c->source), "environment");
		return 0;
	}
	home = env_get(envp, "HOME");
	profile = env_get(envp, "AWS_PROFILE");
	if (profile == NULL || *profile == '\0')
		profile = "default";

	path = env_get(envp, "AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && home != NULL) {
		snprintf(def, sizeof(def), "%s/.aws/credentials", home);
		path = def;
	}
	if (path != NULL) {
		rc = from_file(path, profile, c);
		if (rc != 0)
			goto found;
	}
	path = env_get(envp, "AWS_CONFIG_FILE");
	if (path == NULL && home != NULL) {
		snprintf(def, sizeof(def), "%s/.aws/config", home);
		path = def;
	}
	if (path != NULL) {
		if (strcmp(profile, "default") == 0)
			snprintf(section, sizeof(section), "default");
		else
			snprintf(section, sizeof(section), "profile %s",
			    profile);
		rc = from_file(path, section, c);
		if (rc != 0)
			goto found;
	}
	snprintf(err, errsz, "no AWS credentials for the upstream: set "
	    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in "
	    "the shared credentials file (profile \"%s\")", profile);
	return -1;
found:
	if (rc == -1) {
		snprintf(err, errsz, "credentials of profile \"%s\" too long",
		    profile);
		credentials_wipe(c);
		return -1;
	}
	snprintf(c->source, sizeof(c->source), "profile %.40s", profile);
	return 0;
}

int
credentials_init(char *const *envp, char *err, size_t errsz)
{
	struct credentials	 c;

	if (credentials_resolve(envp, &c, err, errsz) == -1)
		return -1;
	pthread_mutex_lock(&cred_lock);
	cred_current = c;
	cred_ready = 1;
	pthread_mutex_unlock(&cred_lock);
	credentials_wipe(&c);
	return 0;
}

int
credentials_get(struct credentials *c)
{
	int	 ok;

	pthread_mutex_lock(&cred_lock);
	ok = cred_ready;
	if (ok)
		*c = cred_current;
	pthread_mutex_unlock(&cred_lock);
	return ok ? 0 : -1;
}

void
credentials_wipe(struct credentials *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

void
credentials_fini(void)
{
	pthread_mutex_lock(&cred_lock);
	credentials_wipe(&cred_current);
	cred_ready = 0;
	pthread_mutex_unlock(&cred_lock);
}
