/* SPDX-License-Identifier: Apache-2.0 */
/* state_file: see state_file.h. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state_file.h"

int
state_file_tmp(const char *dir, const char *name, char *tmp, size_t tmpsz)
{
	int	 n;

	n = snprintf(tmp, tmpsz, "%s/%s.tmp.XXXXXX", dir, name);
	if (n < 0 || (size_t)n >= tmpsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

int
state_file_sync_dir(const char *dir)
{
	int	 fd, rc, err;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
state_file_write(const char *dir, const char *name, const void *data,
    size_t len)
{
	char	 tmp[4200], path[4200];
	int	 fd, err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = state_file_tmp(dir, name, tmp, sizeof(tmp));
	if (fd == -1)
		return -1;
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1)
		err = errno;
	if (close(fd) == -1 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) == -1)
		err = errno;
	if (err != 0) {
		(void)unlink(tmp);
		errno = err;
		return -1;
	}
	return state_file_sync_dir(dir);
}

ssize_t
state_file_read(const char *dir, const char *name, char *out, size_t size)
{
	struct stat	 sb;
	char		 path[4200];
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_NONBLOCK: a FIFO planted here must not hang the start. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	while (got + 1 < size) {
		n = read(fd, out + got, size - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	return (ssize_t)got;
}

int
state_file_remove(const char *dir, const char *name)
{
	char	 path[4200];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

void
state_file_clean(const char *dir, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	char		 prefix[300];
	size_t		 n;
	int		 dfd;

	n = (size_t)snprintf(prefix, sizeof(prefix), "%s.tmp.", name);
	if (n >= sizeof(prefix))
		return;
	d = opendir(dir);
	if (d == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, n) == 0 &&
		    strlen(de->d_name) == n + 6)
			(void)unlinkat(dfd, de->d_name, 0);
	closedir(d);
}
