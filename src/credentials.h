/* SPDX-License-Identifier: Apache-2.0 */
/*
 * credentials: the proxy's own AWS credentials, for the upstream bucket and
 * CloudFront.  Sources, in the AWS SDKs' order: the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the
 * shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials) and config file (AWS_CONFIG_FILE, default
 * ~/.aws/config) for profile AWS_PROFILE (default "default").
 *
 * Thread-safe: credentials_get() copies the current set under a lock into
 * the caller's struct, which the caller wipes with credentials_wipe().
 */
#ifndef S3I_CREDENTIALS_H
#define S3I_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

struct credentials {
	char	access_key_id[129];
	char	secret_access_key[129];
	char	session_token[4096];	/* "" when none */
	char	source[64];		/* "environment", "profile NAME" */
};

/* Resolve from envp (NULL-terminated "NAME=value").  Returns 0, or -1 with
 * a reason in err. */
int	credentials_init(char *const *envp, char *err, size_t errsz);
int	credentials_get(struct credentials *);
void	credentials_wipe(struct credentials *);
void	credentials_fini(void);

/* For tests: resolve without installing. */
int	credentials_resolve(char *const *envp, struct credentials *,
	    char *err, size_t errsz);

#endif
