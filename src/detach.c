/* SPDX-License-Identifier: Apache-2.0 */
/* detach: see detach.h. */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "detach.h"

/* The child's end of the pipe its parent waits on; -1 when none. */
static int	ready_fd = -1;

static void
to_null(int fd, int flags)
{
	int	 null;

	null = open("/dev/null", flags | O_CLOEXEC);
	if (null == -1)
		return;
	if (null != fd) {
		dup2(null, fd);
		close(null);
	}
}

/* In the parent: exit as the child says: 0 once it is ready, else with
 * its status. */
static void
wait_child(pid_t pid, int fd)
{
	sigset_t	 none;
	ssize_t		 n;
	char		 c;
	int		 st;

	/* The terminal's ^C reaches this process alone now (the child has
	 * its own session): let it end the wait. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	do
		n = read(fd, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n == 1)
		_exit(0);
	/* No word: the child failed (it said why in the log). */
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		_exit(0);
	fprintf(stderr, "s3inval: the daemon stopped before it was ready "
	    "(%s %d); its log says why\n", WIFEXITED(st) ? "exit status" :
	    "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

int
detach_start(void)
{
	pid_t	 pid;
	int	 p[2];

	if (pipe(p) == -1)
		return -1;
	/* Nothing buffered may be written twice. */
	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		wait_child(pid, p[0]);
	}
	close(p[0]);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	ready_fd = p[1];
	setsid();
	to_null(STDIN_FILENO, O_RDONLY);
	return 0;
}

void
detach_ready(int keep_stderr)
{
	if (ready_fd == -1)
		return;
	to_null(STDOUT_FILENO, O_WRONLY);
	if (!keep_stderr)
		to_null(STDERR_FILENO, O_WRONLY);
	while (write(ready_fd, "1", 1) == -1 && errno == EINTR)
		continue;
	close(ready_fd);
	ready_fd = -1;
}
