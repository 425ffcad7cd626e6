/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin: the operator's listener (DESIGN §8) on server.admin_listen:
 * GET /healthz, GET /readyz, GET /metrics (Prometheus text), GET /status
 * (JSON), POST /flush[?wait=SECONDS][&strict=1].  It has no
 * authentication, so it binds to loopback unless admin_allow_remote.
 * libmicrohttpd, one thread per connection (a flush may wait).
 */
#ifndef S3I_ADMIN_H
#define S3I_ADMIN_H

#include "cfg.h"

struct admin;

struct admin *admin_start(const struct cfg *);
void	admin_stop(struct admin *);

/* 1 when host is a loopback address or "localhost". */
int	admin_is_loopback(const char *host);

#endif
