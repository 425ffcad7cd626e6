/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_dir: server.state_dir made ready for one process (issue 13).
 *
 * Created when missing (mode 0750, parents too) without following a
 * symbolic link that someone else planted: a link on the way is followed
 * only when root or this process's user owns it, the rule of the kernel's
 * fs.protected_symlinks.
 *
 * Locked: flock() on STATE_DIR_LOCK_FILE in it, held for the life of the
 * process, makes a second s3inval on the same directory (an overlapping
 * restart, a rolling update on a shared volume) refuse to start, naming
 * the PID written in the file.  The lock belongs to the open file
 * description, so the child of a fork (detach.h) keeps it when the parent
 * exits, and the kernel drops it with the last process holding it: after
 * kill -9 a new instance starts at once.  The lock file is opened with
 * O_NOFOLLOW and must be a regular file with one link: a symbolic or hard
 * link planted there is refused, its target never written.
 *
 * Not thread-safe; called by main before any thread exists.
 */
#ifndef S3I_STATE_DIR_H
#define S3I_STATE_DIR_H

#include <stddef.h>

#define STATE_DIR_LOCK_FILE	"lock"

/*
 * Create path as needed and take its lock.  Returns the lock's descriptor
 * (keep it open for the life of the process), or -1 with a message in err:
 * for a directory in use, the holder's PID.
 */
int	state_dir_lock(const char *path, char *err, size_t errsz);

/* Write this process's PID into the lock file: after state_dir_lock() and
 * again in the child of a fork.  Returns 0 or -1 (errno). */
int	state_dir_set_pid(int lockfd);

#endif
