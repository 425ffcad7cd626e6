/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_proc_self: the process_* figures: /proc/self/stat lines parsed
 * (command names holding ')' and spaces, short and broken lines), and the
 * live read of this very process (memory, start time, descriptors).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "proc_self.h"

#define TAIL	" S 1 1234 1234 0 -1 4194560 1000 0 0 0 150 50 0 0 20 0 4 0 " \
	"500000 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0"

static const struct {
	const char	*line;
	long		 ticks, page;
	int		 rc;
	double		 cpu, start;
	uint64_t	 vsize, rss;
} rows[] = {
	{ "1234 (s3inval)" TAIL, 100, 4096, 0, 2.0, 1700005000.0,
	    123456789, 8388608 },
	/* The name may hold ") " and "(": fields follow the last ')'. */
	{ "1234 (a) b (c) S x)" TAIL, 100, 4096, 0, 2.0, 1700005000.0,
	    123456789, 8388608 },
	{ "1234 (s3inval)" TAIL, 1000, 65536, 0, 0.2, 1700000500.0,
	    123456789, 134217728 },
	{ "1234 s3inval" TAIL, 100, 4096, -1, 0, 0, 0, 0 },	/* no ')' */
	{ "1234 (s3inval) S 1 1234 1234 0 -1 4194560 1000", 100, 4096, -1,
	    0, 0, 0, 0 },					/* short */
	{ "1234 (s3inval) S 1 x 1234 0 -1 4194560 1000 0 0 0 150 50 0 0 20 "
	    "0 4 0 500000 123456789 2048", 100, 4096, -1, 0, 0, 0, 0 },
	{ "1234 (s3inval)" TAIL, 0, 4096, -1, 0, 0, 0, 0 },	/* no ticks */
	{ "", 100, 4096, -1, 0, 0, 0, 0 },
};

static void
test_parse(void **state)
{
	struct proc_self	 ps;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ps = (struct proc_self){ 0 };
		if (proc_self_parse_stat(rows[i].line, rows[i].ticks,
		    rows[i].page, 1700000000, &ps) != rows[i].rc)
			fail_msg("row %zu: rc not %d", i, rows[i].rc);
		if (rows[i].rc != 0)
			continue;
		assert_float_equal(ps.cpu_seconds, rows[i].cpu, 1e-9);
		assert_float_equal(ps.start_time, rows[i].start, 1e-6);
		assert_int_equal(ps.virtual_bytes, rows[i].vsize);
		assert_int_equal(ps.resident_bytes, rows[i].rss);
	}
}

/* This process: started within the last hour, some memory, and one more
 * descriptor counted once one more is open. */
static void
test_live(void **state)
{
	struct proc_self	 ps, ps2;
	double			 now = (double)time(NULL);
	int			 fd;

	(void)state;
	assert_int_equal(proc_self_read(&ps), 0);
	assert_true(ps.resident_bytes > 0);
	assert_true(ps.virtual_bytes >= ps.resident_bytes);
	assert_true(ps.start_time > now - 3600 && ps.start_time < now + 2);
	assert_true(ps.cpu_seconds >= 0);
	assert_true(ps.open_fds > 0 && ps.open_fds <= ps.max_fds);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(proc_self_read(&ps2), 0);
	assert_int_equal(ps2.open_fds, ps.open_fds + 1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
