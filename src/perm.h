/* SPDX-License-Identifier: Apache-2.0 */
/*
 * perm: warnings about what other users of this machine may change
 * (issue 13): the configuration file (client keys, where writes go),
 * server.state_dir (the journal) and the AWS shared credentials and config
 * files (the proxy's own keys).  Warnings only, never a refusal: volumes
 * such as a Kubernetes emptyDir are 0777 and serve one process.
 *
 * Only what exists is looked at: a missing file, or a path that is not a
 * regular file (AWS_SHARED_CREDENTIALS_FILE=/dev/null), draws nothing.
 */
#ifndef S3I_PERM_H
#define S3I_PERM_H

#include <stddef.h>

#include "cfg.h"

/* Called once per warning with a sentence (no trailing newline). */
typedef void perm_warn_fn(void *arg, const char *msg);

/* Every warning about cfg's file and state_dir, and about the AWS shared
 * files the environment points at (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE, else under $HOME/.aws). */
void	perm_check(const struct cfg *, perm_warn_fn *, void *arg);

/*
 * 1, with a sentence in buf, when others may write path: its mode has o+w,
 * or, for a file, its directory has o+w without the sticky bit (they may
 * replace it).  A directory with o+w counts even when sticky: others may
 * create names in it.  0 when not, or when path is not a regular file
 * (is_dir 0) or a directory (is_dir 1).  what names it ("configuration
 * file").
 */
int	perm_others_may_write(const char *what, const char *path, int is_dir,
	    char *buf, size_t size);

#endif
