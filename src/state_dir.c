/* SPDX-License-Identifier: Apache-2.0 */
/* state_dir: see state_dir.h. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state_dir.h"

/*
 * How long a second instance waits for the holder's PID: the holder takes
 * the lock, then writes (and its child, after a fork, writes again).
 */
#define PID_WAIT_MS	500

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/*
 * The directory name in dirfd, made when missing.  A symbolic link is
 * followed only when root or our user owns it; one owned by anybody else
 * sets *stranger to its owner and fails with ELOOP.  Returns a descriptor
 * or -1 (errno).
 */
static int
open_component(int dirfd, const char *name, long *stranger)
{
	struct stat	 st;
	int		 fd;

	fd = openat(dirfd, name, DIR_FLAGS | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dirfd, name, 0750) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, DIR_FLAGS | O_NOFOLLOW);
	}
	if (fd != -1 || (errno != ELOOP && errno != ENOTDIR))
		return fd;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISLNK(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		*stranger = (long)st.st_uid;
		errno = ELOOP;
		return -1;
	}
	return openat(dirfd, name, DIR_FLAGS);
}

/* path, created as needed, one component at a time.  Returns a
 * descriptor, or -1 with a message in err. */
static int
open_dir(const char *path, char *err, size_t errsz)
{
	char		 name[NAME_MAX + 1];
	const char	*p;
	size_t		 n;
	long		 stranger = -1;
	int		 fd, nfd;

	fd = open(*path == '/' ? "/" : ".", DIR_FLAGS);
	if (fd == -1)
		snprintf(err, errsz, "server.state_dir %s: %s", path,
		    strerror(errno));
	for (p = path; fd != -1; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			return fd;
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			nfd = -1;
		} else {
			memcpy(name, p, n);
			name[n] = '\0';
			nfd = open_component(fd, name, &stranger);
		}
		if (nfd == -1 && stranger != -1)
			snprintf(err, errsz, "server.state_dir %s: %.*s is a "
			    "symbolic link owned by uid %ld, not root nor "
			    "this user: not followed", path,
			    (int)(p + n - path), path, stranger);
		else if (nfd == -1)
			snprintf(err, errsz, "server.state_dir %s: %.*s: %s",
			    path, (int)(p + n - path), path, strerror(errno));
		close(fd);
		fd = nfd;
	}
	return -1;
}

/* The PID written in the lock file, or 0; waits a little for one. */
static long
holder(int fd)
{
	char	 buf[32];
	ssize_t	 n;
	long	 pid;
	int	 waited;

	for (waited = 0; waited <= PID_WAIT_MS; waited += 20) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid > 0)
			return pid;
		usleep(20000);
	}
	return 0;
}

int
state_dir_lock(const char *path, char *err, size_t errsz)
{
	struct stat	 st;
	long		 pid;
	int		 dfd, fd = -1;

	dfd = open_dir(path, err, errsz);
	if (dfd == -1)
		return -1;
	fd = openat(dfd, STATE_DIR_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errsz, "%s/%s is a symbolic link, and "
			    "s3inval follows none in state_dir: remove it",
			    path, STATE_DIR_LOCK_FILE);
		else
			snprintf(err, errsz, "cannot open %s/%s: %s", path,
			    STATE_DIR_LOCK_FILE, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s/%s: %s", path, STATE_DIR_LOCK_FILE,
		    strerror(errno));
		goto fail;
	}
	/* A hard link would have us write into its other name. */
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		snprintf(err, errsz, "%s/%s is %s: remove it", path,
		    STATE_DIR_LOCK_FILE, S_ISREG(st.st_mode) ?
		    "a file with other hard links" : "not a regular file");
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errsz, "cannot lock %s/%s: %s", path,
			    STATE_DIR_LOCK_FILE, strerror(errno));
			goto fail;
		}
		pid = holder(fd);
		if (pid > 0)
			snprintf(err, errsz, "server.state_dir %s is in use "
			    "by s3inval PID %ld (it holds %s/%s): one process "
			    "per state_dir", path, pid, path,
			    STATE_DIR_LOCK_FILE);
		else
			snprintf(err, errsz, "server.state_dir %s is in use "
			    "by another process (it holds %s/%s): one process "
			    "per state_dir", path, path, STATE_DIR_LOCK_FILE);
		goto fail;
	}
	if (state_dir_set_pid(fd) == -1) {
		snprintf(err, errsz, "cannot write %s/%s: %s", path,
		    STATE_DIR_LOCK_FILE, strerror(errno));
		goto fail;
	}
	close(dfd);
	return fd;
fail:
	if (fd != -1)
		close(fd);
	close(dfd);
	return -1;
}

int
state_dir_set_pid(int lockfd)
{
	char	 buf[32];
	int	 n;

	/* Written over the old PID, then cut: a reader never sees the file
	 * empty, and a line ends the number. */
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (pwrite(lockfd, buf, (size_t)n, 0) != n)
		return -1;
	return ftruncate(lockfd, n);
}
