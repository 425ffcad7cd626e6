/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_file: small files in server.state_dir, made so that nothing planted
 * there can redirect a write (issue 13, "Files in state_dir").
 *
 * A temporary is always a new file with a random name (mkstemp: O_CREAT |
 * O_EXCL, so a symlink or file already there is never opened), written,
 * fsync'd and renamed over its final name, then the folder is fsync'd.
 * Reads never follow a symlink.  No fixed temporary name, no O_TRUNC.
 *
 * Temporaries are named NAME.tmp.XXXXXX; state_file_clean() removes the
 * ones a crash left behind.  Thread-safe (no state).
 */
#ifndef S3I_STATE_FILE_H
#define S3I_STATE_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* A new, empty temporary for dir/name, open read-write; its path in tmp.
 * Returns the descriptor, or -1 with errno set. */
int	state_file_tmp(const char *dir, const char *name, char *tmp,
	    size_t tmpsz);

/* Replace dir/name with data, durably (see above).  Returns 0, or -1 with
 * errno set; the old file, if any, is then untouched. */
int	state_file_write(const char *dir, const char *name, const void *data,
	    size_t len);

/* Read dir/name (a regular file, not through a symlink) into out, at most
 * size - 1 bytes, NUL-terminated.  Returns the length, or -1 with errno
 * set (ENOENT when there is no such file). */
ssize_t	state_file_read(const char *dir, const char *name, char *out,
	    size_t size);

/* Remove dir/name; 0 when it is gone (or was not there), -1 with errno. */
int	state_file_remove(const char *dir, const char *name);

/* fsync the folder itself (a rename or unlink in it is then durable). */
int	state_file_sync_dir(const char *dir);

/* Remove the temporaries of dir/name that a crash left behind. */
void	state_file_clean(const char *dir, const char *name);

#endif
