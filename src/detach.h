/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detach: run in the background (s3inval without -f), as daemon(3) does,
 * but with the parent waiting for the child's word: the parent exits 0
 * once the child calls detach_ready() (it is serving), or with the
 * child's exit status when the child fails first.  `s3inval -c FILE` in a
 * script or an init system thus reports a failed start instead of 0 and
 * a dead daemon.
 *
 * fork() keeps only the calling thread: detach_start() must run before any
 * thread exists (issue 13: the worker thread was lost so, and nothing was
 * ever invalidated).  The child keeps the working directory (relative
 * paths in the configuration keep their meaning), the signal mask and
 * every descriptor (log file, state_dir lock); it leaves the terminal's
 * session, and its standard input is /dev/null.
 */
#ifndef S3I_DETACH_H
#define S3I_DETACH_H

/* Fork.  Returns 0 in the child; the parent never returns (it exits).
 * -1 (errno) when there is no child. */
int	detach_start(void);

/*
 * In the child: start-up is done.  Standard output, and standard error
 * unless keep_stderr (the log goes there), go to /dev/null; the parent
 * exits 0.  Does nothing in a process that did not detach.
 */
void	detach_ready(int keep_stderr);

#endif
