/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_online: the live checks of `s3inval check-config --online`
 * (DESIGN §9, issue 11): what a configuration that parses may still get
 * wrong about the world it runs in, found before a deploy rather than by
 * it.  One line per check, each OK or what is wrong and what to do:
 *
 *  - state_dir: writable (a file created with O_EXCL, written, synced and
 *    removed; the parent when it does not exist yet), its free space, and
 *    whether a running s3inval holds its lock;
 *  - listen and admin_listen: bindable (both at once, so two addresses
 *    that collide are seen), the cause named when not;
 *  - the upstream credentials: resolved through the AWS chain (which
 *    source and key id; never the secret);
 *  - each upstream bucket: a signed HeadBucket, told apart as reachable,
 *    403, 404, another region, unreachable, or not S3 at all (an answer
 *    without any of S3's x-amz-* headers);
 *  - the clock against the upstream's Date (warned over a minute, failed
 *    over 15 minutes, where S3 refuses signatures);
 *  - each distribution: GetDistribution, and whether an origin is the
 *    bucket and its OriginPath is the bucket's origin_path (warnings).
 *
 * What it does not do: change anything it looks at (the probe file is
 * removed, a missing state_dir is not created, sockets are closed), or
 * check what only a request shows (object permissions, a client's keys).
 *
 * Runs on the CLI's thread; it starts the credentials module (and its
 * refresher, for temporary credentials) and the CloudFront client, and
 * stops both before it returns.  The check_* helpers below are pure.
 */
#ifndef S3I_CHECK_ONLINE_H
#define S3I_CHECK_ONLINE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "http_call.h"

enum check_level {
	CHECK_OK = 0,
	CHECK_WARN,		/* works, but likely not as meant */
	CHECK_FAIL,		/* the daemon would not work */
	CHECK_SKIP		/* could not be checked: an earlier failure */
};

/* Clock skew bounds, seconds: a warning past the first; S3 refuses
 * requests signed more than 15 minutes off ("RequestTimeTooSkewed"). */
#define CHECK_SKEW_WARN_S	60
#define CHECK_SKEW_FAIL_S	(15 * 60)
/* Free space in state_dir below which it fails, and is warned about. */
#define CHECK_FREE_FAIL		(1024 * 1024)
#define CHECK_FREE_WARN		(100 * 1024 * 1024)

/* One line: the level and "what: verdict; what to do". */
typedef void check_line_fn(void *arg, enum check_level, const char *line);

/*
 * Every check of cfg, in the order above; envp is the environment the
 * daemon would get (for the AWS credential chain).  Returns how many
 * checks failed (CHECK_FAIL).
 */
int	check_online_run(const struct cfg *, char *const *envp,
	    check_line_fn *, void *arg);

const char *check_level_name(enum check_level);

/* --- pure parts, for tests ------------------------------------------- */

/* What a bind() or listen() error err on port means, and what to do. */
const char *check_bind_cause(int err, unsigned port);

/*
 * 1 when an origin's DomainName names the S3 bucket: BUCKET.s3.amazonaws
 * .com and its regional, dual-stack and website forms, or BUCKET.HOST
 * where HOST is the upstream endpoint's host (virtual-hosted S3 elsewhere:
 * MinIO, Ceph...).  Case-insensitive.
 */
int	check_origin_is_bucket(const char *domain, const char *bucket,
	    const char *endpoint_host);

/* The level of a clock that is skew seconds off. */
enum check_level check_skew_level(int64_t skew);

/* The level of free bytes in state_dir (and of free inodes, files; -1
 * when the file system does not count them). */
enum check_level check_free_level(uint64_t bytes, int64_t files);

/*
 * A HeadBucket answer judged: level, and in msg what it means and what to
 * do ("reachable", "403: ...").  region: upstream.region; skew: the clock
 * check's result in seconds (a 403 past CHECK_SKEW_FAIL_S is blamed on
 * it).  url: what was asked, for the message.
 */
enum check_level check_head_bucket(const struct http_answer *,
	    const char *region, int64_t skew, const char *url, char *msg,
	    size_t msgsz);

#endif
