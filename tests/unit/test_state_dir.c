/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_state_dir: state_dir creation and lock, and perm's warnings.
 *
 * The lock: taken once, refused to a second taker naming our PID (flock()
 * locks belong to the open file description, so a second open in this
 * same process conflicts, as a second process would), free again once the
 * first descriptor is closed; missing parents created.  Links: a symbolic
 * or hard link planted as the lock file is refused and its target left
 * unchanged; a symbolic link on the way owned by another user is not
 * followed (needs root to make one; skipped otherwise), one we own is.
 * perm: table-driven over modes of a file, its directory and a directory.
 *
 * Everything lives under a mkdtemp() directory, removed at the end.
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "perm.h"
#include "state_dir.h"

static char	 tmpdir[256];

static int
setup(void **state)
{
	const char	*t;

	(void)state;
	t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_state_dir.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	 cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
path_of(const char *name)
{
	char	*p;

	p = malloc(512);
	assert_non_null(p);
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static void
write_text(const char *path, const char *text)
{
	FILE	*fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_text(const char *path)
{
	static char	 buf[256];
	FILE		*fp;
	size_t		 n;

	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_lock(void **state)
{
	char	*dir, *lock, err[1024], want[128];
	int	 fd, fd2;

	(void)state;
	/* Parents are made too. */
	dir = path_of("a/b/state");
	fd = state_dir_lock(dir, err, sizeof(err));
	if (fd == -1)
		fail_msg("%s", err);
	lock = path_of("a/b/state/" STATE_DIR_LOCK_FILE);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(read_text(lock), want);

	/* A second taker is refused, and told who holds it. */
	assert_int_equal(state_dir_lock(dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "is in use by s3inval PID %ld ",
	    (long)getpid());
	if (strstr(err, want) == NULL)
		fail_msg("want \"%s\" in: %s", want, err);

	/* The PID is written over a longer one, and cut. */
	write_text(lock, "123456789012\n");
	assert_int_equal(state_dir_set_pid(fd), 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(read_text(lock), want);

	/* Closed: free again at once. */
	close(fd);
	fd2 = state_dir_lock(dir, err, sizeof(err));
	if (fd2 == -1)
		fail_msg("%s", err);
	close(fd2);
	free(lock);
	free(dir);
}

/* A link planted as the lock file: refused, its target unchanged. */
static void
test_planted(void **state)
{
	static const struct {
		const char	*dir;
		int		 hard;
		const char	*says;
	} rows[] = {
		{ "sym", 0, "is a symbolic link" },
		{ "hard", 1, "a file with other hard links" },
	};
	char	*dir, *lock, *target, err[1024];
	size_t	 i;

	(void)state;
	target = path_of("precious");
	write_text(target, "precious\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		dir = path_of(rows[i].dir);
		assert_int_equal(mkdir(dir, 0700), 0);
		lock = malloc(600);
		assert_non_null(lock);
		snprintf(lock, 600, "%s/%s", dir, STATE_DIR_LOCK_FILE);
		if (rows[i].hard)
			assert_int_equal(link(target, lock), 0);
		else
			assert_int_equal(symlink(target, lock), 0);
		assert_int_equal(state_dir_lock(dir, err, sizeof(err)), -1);
		if (strstr(err, rows[i].says) == NULL)
			fail_msg("%s: want \"%s\" in: %s", rows[i].dir,
			    rows[i].says, err);
		assert_string_equal(read_text(target), "precious\n");
		free(lock);
		free(dir);
	}
	free(target);
}

/* A symbolic link on the way: followed when ours, not when a stranger's. */
static void
test_dir_links(void **state)
{
	char	*real, *link1, *link2, *sub, err[1024];
	int	 fd;

	(void)state;
	real = path_of("real");
	assert_int_equal(mkdir(real, 0700), 0);
	link1 = path_of("ours");
	assert_int_equal(symlink(real, link1), 0);
	fd = state_dir_lock(link1, err, sizeof(err));
	if (fd == -1)
		fail_msg("%s", err);
	close(fd);

	if (geteuid() != 0) {
		/* Only root can give a link another owner. */
		free(real);
		free(link1);
		skip();
	}
	link2 = path_of("theirs");
	assert_int_equal(symlink(real, link2), 0);
	assert_int_equal(lchown(link2, 4321, 4321), 0);
	sub = path_of("theirs/below");
	assert_int_equal(state_dir_lock(sub, err, sizeof(err)), -1);
	if (strstr(err, "theirs is a symbolic link owned by uid 4321") ==
	    NULL)
		fail_msg("%s", err);
	free(real);
	free(link1);
	free(link2);
	free(sub);
}

static void
test_perm(void **state)
{
	static const struct {
		const char	*name;
		int		 is_dir;
		mode_t		 mode;		/* of the file or directory */
		mode_t		 parent;	/* of its directory */
		const char	*says;		/* NULL: no warning */
	} rows[] = {
		{ "f1", 0, 0644, 0755, NULL },
		{ "f2", 0, 0666, 0755, "is writable by others (mode 0666)" },
		{ "f3", 0, 0640, 0777, "others may write (mode 0777, not "
		    "sticky): they may replace it" },
		{ "f4", 0, 0640, 01777, NULL },
		{ "d1", 1, 0750, 0755, NULL },
		{ "d2", 1, 0777, 0755, "is writable by others (mode 0777)" },
		/* Sticky or not, others may plant names in it. */
		{ "d3", 1, 01777, 0755, "is writable by others (mode 1777)" },
	};
	char	*parent, *path, msg[1024];
	size_t	 i;
	int	 r;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		parent = path_of(rows[i].name);
		assert_int_equal(mkdir(parent, 0700), 0);
		path = malloc(600);
		assert_non_null(path);
		snprintf(path, 600, "%s/x", parent);
		if (rows[i].is_dir)
			assert_int_equal(mkdir(path, 0700), 0);
		else
			write_text(path, "x");
		assert_int_equal(chmod(path, rows[i].mode), 0);
		assert_int_equal(chmod(parent, rows[i].parent), 0);
		msg[0] = '\0';
		r = perm_others_may_write("thing", path, rows[i].is_dir, msg,
		    sizeof(msg));
		if (rows[i].says == NULL && r != 0)
			fail_msg("%s: unexpected warning: %s", rows[i].name,
			    msg);
		if (rows[i].says != NULL && (r != 1 || strncmp(msg, "thing ",
		    6) != 0 || strstr(msg, rows[i].says) == NULL))
			fail_msg("%s: want \"%s\", got %d \"%s\"",
			    rows[i].name, rows[i].says, r, msg);
		/* The wrong kind, or nothing there: no word. */
		assert_int_equal(perm_others_may_write("thing", path,
		    !rows[i].is_dir, msg, sizeof(msg)), 0);
		chmod(parent, 0700);
		free(path);
		free(parent);
	}
	assert_int_equal(perm_others_may_write("thing", "/nonexistent/x", 0,
	    msg, sizeof(msg)), 0);
	/* A device is not a file to warn about (AWS_..._FILE=/dev/null). */
	assert_int_equal(perm_others_may_write("thing", "/dev/null", 0, msg,
	    sizeof(msg)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_planted),
		cmocka_unit_test(test_dir_links),
		cmocka_unit_test(test_perm),
	};

	umask(022);
	return cmocka_run_group_tests_name("state_dir", tests, setup,
	    teardown);
}
