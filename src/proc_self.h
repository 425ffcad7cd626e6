/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc_self: the process's own figures for /metrics' process_* series, as
 * the Prometheus client libraries read them on Linux: /proc/self/stat (CPU
 * time, memory, start), /proc/stat's btime, /proc/self/fd and
 * RLIMIT_NOFILE.
 */
#ifndef S3I_PROC_SELF_H
#define S3I_PROC_SELF_H

#include <stdint.h>

struct proc_self {
	double		 cpu_seconds;	/* user + system */
	uint64_t	 resident_bytes;
	uint64_t	 virtual_bytes;
	double		 start_time;	/* Unix time, seconds */
	uint64_t	 open_fds;
	uint64_t	 max_fds;	/* the soft limit */
};

/* Fill *ps.  Returns 0, or -1 when /proc cannot be read (not Linux, not
 * mounted): then nothing of *ps is meaningful. */
int	proc_self_read(struct proc_self *ps);

/* The /proc/self/stat line's part (CPU, memory, start) with the kernel's
 * clock ticks per second, page size and boot time (Unix seconds).  Returns
 * 0, or -1 when the line is not one.  (For the unit tests.) */
int	proc_self_parse_stat(const char *line, long ticks, long page,
	    uint64_t boot_time, struct proc_self *ps);

#endif
