/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_profile: the shared credentials and config files (AWS CLI User
 * Guide, "Configuration and credential file settings"): in the
 * credentials file a profile is [NAME], in the config file [profile NAME]
 * except [default]; '#' and ';' start a comment line; an indented line
 * continues the setting above it (nested "s3 =" blocks).  Keys found in
 * the credentials file win.  Read with our own reader, not inih: inih's
 * default 200-byte lines cut session tokens short.  A profile that asks
 * for a provider we do not have (credential_process, SSO, role_arn with
 * source_profile or credential_source) is an error at start, not
 * silently skipped.  A profile with role_arn and web_identity_token_file
 * is a web identity (cred_sts.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "cred.h"

#define PROFILE_FILE_MAX	(1024 * 1024)

/* [a, b) with the blanks around it removed. */
static void
trim(const char **a, const char **b)
{
	while (*a < *b && (**a == ' ' || **a == '\t' || **a == '\r'))
		(*a)++;
	while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t' ||
	    (*b)[-1] == '\r'))
		(*b)--;
}

/* The section header text [a, b) names want, blanks collapsed. */
static int
section_is(const char *a, const char *b, const char *want)
{
	int	 blank = 0;

	trim(&a, &b);
	for (; a < b; a++) {
		if (*a == ' ' || *a == '\t') {
			blank = 1;
			continue;
		}
		if (blank) {
			if (*want != ' ')
				return 0;
			want++;
			blank = 0;
		}
		if (*want == '\0' || *want != *a)
			return 0;
		want++;
	}
	return *want == '\0';
}

int
credentials_profile_get(const char *text, size_t len, const char *section,
    const char *key, char *out, size_t outsz)
{
	const char	*p = text, *end = text + len, *eol, *a, *b, *eq, *ka,
			*kb;
	size_t		 klen = key != NULL ? strlen(key) : 0, vlen;
	int		 in = 0, found = 0, toolong = 0, after_key = 0;
	int		 indented;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		a = p;
		b = eol;
		p = eol < end ? eol + 1 : end;
		indented = a < b && (*a == ' ' || *a == '\t');
		trim(&a, &b);
		if (a == b || *a == '#' || *a == ';')
			continue;
		if (*a == '[') {
			after_key = 0;
			in = b[-1] == ']' && b - a >= 2 &&
			    section_is(a + 1, b - 1, section);
			if (in && key == NULL)
				return 1;
			continue;
		}
		/* An indented line continues the setting above (a nested
		 * block such as "s3 =" or a multi-line value). */
		if (indented && after_key)
			continue;
		eq = memchr(a, '=', (size_t)(b - a));
		if (eq == NULL)
			continue;
		after_key = 1;
		if (!in || key == NULL)
			continue;
		ka = a;
		kb = eq;
		trim(&ka, &kb);
		if ((size_t)(kb - ka) != klen ||
		    strncasecmp(ka, key, klen) != 0)
			continue;
		a = eq + 1;
		trim(&a, &b);
		vlen = (size_t)(b - a);
		found = 1;
		toolong = out == NULL || vlen >= outsz;
		if (!toolong) {
			memcpy(out, a, vlen);
			out[vlen] = '\0';
		}
	}
	if (toolong) {
		if (out != NULL)
			OPENSSL_cleanse(out, outsz);
		return -1;
	}
	return found;
}

struct pfile {
	const char	*path;
	char		*text;		/* secret; NULL when missing */
	size_t		 len;
	char		 section[300];
	int		 has;		/* the profile's section is there */
};

/* key of the profile in f: 1, 0, -1 (too long: error in err). */
static int
pget(const struct pfile *f, const char *key, char *out, size_t outsz,
    char *err, size_t errsz)
{
	int	 rc;

	if (outsz > 0)
		out[0] = '\0';
	if (!f->has)
		return 0;
	rc = credentials_profile_get(f->text, f->len, f->section, key, out,
	    outsz);
	if (rc == -1)
		cred_seterr(err, errsz, "%s: [%s] %s is too long", f->path,
		    f->section, key);
	return rc;
}

static int
pfile_load(struct pfile *f, const char *path, const char *section,
    char *err, size_t errsz)
{
	f->path = path;
	if (cred_copy(f->section, sizeof(f->section), section) == -1) {
		cred_seterr(err, errsz, "profile name too long");
		return -1;
	}
	if (cred_read_file(path, PROFILE_FILE_MAX, &f->text, &f->len) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		cred_seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	f->has = credentials_profile_get(f->text, f->len, section, NULL,
	    NULL, 0) == 1;
	return 0;
}

/* The shared files.  1 when the profile gave a source, 0 when the chain
 * goes on, -1 on error. */
int
cred_profile_select(char *const *envp, struct cred_src *s,
    struct credentials *c, char *err, size_t errsz)
{
	static const char *const unsupported[] = {
		"credential_process", "sso_session", "sso_start_url",
		"source_profile", "credential_source"
	};
	struct pfile	 cf, kf;	/* config file, credentials file */
	const struct pfile *fs[2];
	const char	*home, *profile, *path;
	char		 defc[PATH_MAX], defk[PATH_MAX], section[300];
	char		*v = NULL, *arn = NULL, *tf = NULL;
	size_t		 vsz = 4096, k;
	int		 rc = -1, i, a, b, t, named;

	memset(&cf, 0, sizeof(cf));
	memset(&kf, 0, sizeof(kf));
	home = cred_env_val(envp, "HOME");
	profile = cred_env_val(envp, "AWS_PROFILE");
	named = profile != NULL;
	if (profile == NULL)
		profile = "default";
	if (strlen(profile) > 200) {
		cred_seterr(err, errsz, "AWS_PROFILE is too long");
		goto out;
	}
	path = cred_env_val(envp, "AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && home != NULL) {
		snprintf(defk, sizeof(defk), "%s/.aws/credentials", home);
		path = defk;
	}
	if (path != NULL && pfile_load(&kf, path, profile, err, errsz) == -1)
		goto out;
	path = cred_env_val(envp, "AWS_CONFIG_FILE");
	if (path == NULL && home != NULL) {
		snprintf(defc, sizeof(defc), "%s/.aws/config", home);
		path = defc;
	}
	if (strcmp(profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", profile);
	if (path != NULL && pfile_load(&cf, path, section, err, errsz) == -1)
		goto out;
	if (!cf.has && cf.text != NULL && strcmp(profile, "default") == 0) {
		/* "[profile default]" is accepted too. */
		snprintf(cf.section, sizeof(cf.section), "profile default");
		cf.has = credentials_profile_get(cf.text, cf.len, cf.section,
		    NULL, NULL, 0) == 1;
	}
	snprintf(s->tried, sizeof(s->tried), "profile \"%s\" in %s or %s",
	    profile, kf.path != NULL ? kf.path : "(no credentials file)",
	    cf.path != NULL ? cf.path : "(no config file)");
	if (!kf.has && !cf.has) {
		if (named) {
			cred_seterr(err, errsz, "AWS_PROFILE is \"%s\", but no "
			    "such profile is in %s or %s", profile,
			    kf.path != NULL ? kf.path : "(no credentials file)",
			    cf.path != NULL ? cf.path : "(no config file)");
			goto out;
		}
		rc = 0;
		goto out;
	}
	v = malloc(vsz);
	arn = malloc(vsz);
	tf = malloc(vsz);
	if (v == NULL || arn == NULL || tf == NULL) {
		cred_seterr(err, errsz, "out of memory");
		goto out;
	}
	/* Static keys: the credentials file first, then the config file. */
	fs[0] = &kf;
	fs[1] = &cf;
	for (i = 0; i < 2; i++) {
		memset(c, 0, sizeof(*c));
		a = pget(fs[i], "aws_access_key_id", c->access_key_id,
		    sizeof(c->access_key_id), err, errsz);
		b = pget(fs[i], "aws_secret_access_key", c->secret_access_key,
		    sizeof(c->secret_access_key), err, errsz);
		t = pget(fs[i], "aws_session_token", c->session_token,
		    sizeof(c->session_token), err, errsz);
		if (a == -1 || b == -1 || t == -1)
			goto out;
		if (c->access_key_id[0] == '\0' &&
		    c->secret_access_key[0] == '\0')
			continue;
		if (c->access_key_id[0] == '\0' ||
		    c->secret_access_key[0] == '\0') {
			cred_seterr(err, errsz, "%s: [%s] has only one of "
			    "aws_access_key_id and aws_secret_access_key",
			    fs[i]->path, fs[i]->section);
			goto out;
		}
		if (cred_check_set(c, err, errsz) == -1) {
			cred_seterr(err, errsz, "%s: [%s]: the keys are not "
			    "printable ASCII", fs[i]->path, fs[i]->section);
			goto out;
		}
		s->kind = CREDENTIALS_PROFILE;
		snprintf(s->desc, sizeof(s->desc), "profile %s", profile);
		rc = 1;
		goto out;
	}
	credentials_wipe(c);
	/* Providers we do not have: an error, not a silent fallback. */
	for (i = 0; i < 2; i++)
		for (k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]);
		    k++) {
			a = pget(fs[i], unsupported[k], v, vsz, err, errsz);
			if (a == -1)
				goto out;
			if (a == 1) {
				cred_seterr(err, errsz, "%s: [%s] uses %s, "
				    "which s3inval does not support: use "
				    "static keys, web_identity_token_file or "
				    "another source of the chain", fs[i]->path,
				    fs[i]->section, unsupported[k]);
				goto out;
			}
		}
	/* A web identity: each setting from the credentials file, else
	 * from the config file. */
	arn[0] = tf[0] = v[0] = '\0';
	for (i = 1; i >= 0; i--) {
		if (pget(fs[i], "role_arn", s->url, sizeof(s->url), err,
		    errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(arn, vsz, "%s", s->url);
		if (pget(fs[i], "web_identity_token_file", s->url,
		    sizeof(s->url), err, errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(tf, vsz, "%s", s->url);
		if (pget(fs[i], "role_session_name", s->url, sizeof(s->url),
		    err, errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(v, vsz, "%s", s->url);
	}
	s->url[0] = '\0';
	if (arn[0] == '\0' && tf[0] == '\0') {
		rc = 0;
		goto out;
	}
	if (arn[0] == '\0' || tf[0] == '\0') {
		cred_seterr(err, errsz, "profile \"%s\": role_arn and "
		    "web_identity_token_file go together", profile);
		goto out;
	}
	snprintf(section, sizeof(section), "profile %s", profile);
	if (cred_sts_select(envp, s, tf, arn, v[0] != '\0' ? v : NULL,
	    section, err, errsz) == -1)
		goto out;
	rc = 1;
out:
	cred_free_secret(v, vsz);
	cred_free_secret(arn, vsz);
	cred_free_secret(tf, vsz);
	cred_free_secret(kf.text, kf.len + 1);
	cred_free_secret(cf.text, cf.len + 1);
	if (rc != 1)
		credentials_wipe(c);
	return rc;
}
