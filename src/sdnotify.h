/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdnotify: the daemon's word to systemd (sd_notify(3) through libsystemd),
 * for the unit's Type=notify: READY=1 once the listeners are up, so that
 * `systemctl start` returns only then (and units ordered after s3inval
 * start after it serves); STOPPING=1 when a stop begins; WATCHDOG=1
 * pings when the unit sets WatchdogSec=.
 *
 * Without $NOTIFY_SOCKET (not under systemd, or Type=exec) every call does
 * nothing.  libsystemd sends one datagram per call and keeps no state.
 *
 * The watchdog: a thread pings every half of WatchdogSec=, but only after
 * the admin listener answered GET /healthz (with the bearer token when one
 * is set) within a quarter of it: any HTTP answer proves its poll thread
 * alive; none means the daemon is stuck, and systemd restarts it after
 * WatchdogSec= without pings (Restart=on-failure).  The pings stop before
 * the admin listener does.
 *
 * Threads: sdnotify_watchdog_start() and _stop() from the main thread; the
 * others from any thread.
 */
#ifndef S3I_SDNOTIFY_H
#define S3I_SDNOTIFY_H

#include <stdint.h>

#include "cfg.h"

/* READY=1, with status (a line for `systemctl status`). */
void	sdnotify_ready(const char *status);
/* STOPPING=1. */
void	sdnotify_stopping(void);

/* The watchdog interval systemd asked for, in microseconds; 0 when none
 * (no WatchdogSec=, or not for this process). */
uint64_t sdnotify_watchdog_usec(void);

/* Start the pinging thread when systemd asked for a watchdog.  Returns 0
 * (also when there is nothing to do), or -1 after logging why. */
int	sdnotify_watchdog_start(const struct cfg *);
/* Stop it; safe without a start. */
void	sdnotify_watchdog_stop(void);

#endif
