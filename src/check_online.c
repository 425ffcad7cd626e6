/* SPDX-License-Identifier: Apache-2.0 */
/* check_online: see check_online.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "cfg.h"
#include "check_online.h"
#include "cloudfront.h"
#include "credentials.h"
#include "http_call.h"
#include "state_dir.h"
#include "util.h"

#define CHECK_TIMEOUT_MS	15000L	/* a whole HeadBucket, at most */
#define CHECK_PROBE_ID		"S3INVALCHECK0"	/* an invalidation id no
						 * distribution has */

/* What the checks share. */
struct run {
	const struct cfg	*cfg;
	check_line_fn		*fn;
	void			*arg;
	int			 failed;
	long			 lock_pid;	/* state_dir's holder; -1:
						 * held, PID unknown; 0 none */
	int			 creds;		/* credentials resolved */
	int			 have_skew;
	int64_t			 skew;		/* seconds we are ahead */
	char			 scheme[8];	/* the upstream endpoint */
	char			 host[256];
	unsigned		 port;
	int			 default_port;
};

const char *
check_level_name(enum check_level lv)
{
	switch (lv) {
	case CHECK_OK:
		return "OK";
	case CHECK_WARN:
		return "WARN";
	case CHECK_FAIL:
		return "FAIL";
	case CHECK_SKIP:
		break;
	}
	return "SKIP";
}

static void line(struct run *, enum check_level, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static void
line(struct run *r, enum check_level lv, const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (lv == CHECK_FAIL)
		r->failed++;
	r->fn(r->arg, lv, buf_ok(&b) ? buf_str(&b) : "(out of memory)");
	buf_fini(&b);
}

/* "512 B", "12.3 MiB", "78.2 GiB" */
static void
human_size(char *out, size_t sz, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double	 v = (double)n;
	size_t	 i = 0;

	if (n < 1024) {
		snprintf(out, sz, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		i++;
	}
	snprintf(out, sz, "%.1f %s", v, unit[i]);
}

/* --- pure parts -------------------------------------------------------- */

const char *
check_bind_cause(int err, unsigned port)
{
	switch (err) {
	case EADDRINUSE:
		return "address in use: another process listens there "
		    "(ss -ltnp names it; another s3inval?)";
	case EACCES:
	case EPERM:
		return port < 1024 ? "not permitted: a port below 1024 needs "
		    "root or CAP_NET_BIND_SERVICE (the unit's "
		    "AmbientCapabilities=), or use a port above 1023" :
		    "not permitted (a security policy refuses it)";
	case EADDRNOTAVAIL:
		return "no such address on this machine: use one of its "
		    "addresses, 127.0.0.1, 0.0.0.0 or ::";
	case EAFNOSUPPORT:
		return "this address family (IPv6?) is not available here";
	default:
		return NULL;
	}
}

static int
ends_with_ci(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int
check_origin_is_bucket(const char *domain, const char *bucket,
    const char *endpoint_host)
{
	const char	*rest;
	size_t		 n = strlen(bucket);

	if (n == 0 || strncasecmp(domain, bucket, n) != 0 || domain[n] != '.')
		return 0;
	rest = domain + n + 1;
	/* s3.amazonaws.com, s3.REGION.amazonaws.com, s3-REGION...,
	 * s3.dualstack.REGION..., s3-website-REGION..., s3-website.REGION...
	 * (and .com.cn in China): the "S3 origin" forms CloudFront lists. */
	if ((strncasecmp(rest, "s3.", 3) == 0 ||
	    strncasecmp(rest, "s3-", 3) == 0) &&
	    (ends_with_ci(rest, ".amazonaws.com") ||
	    ends_with_ci(rest, ".amazonaws.com.cn")))
		return 1;
	return endpoint_host != NULL && *endpoint_host != '\0' &&
	    strcasecmp(rest, endpoint_host) == 0;
}

enum check_level
check_skew_level(int64_t skew)
{
	if (skew < 0)
		skew = -skew;
	if (skew > CHECK_SKEW_FAIL_S)
		return CHECK_FAIL;
	return skew > CHECK_SKEW_WARN_S ? CHECK_WARN : CHECK_OK;
}

enum check_level
check_free_level(uint64_t bytes, int64_t files)
{
	if (bytes < CHECK_FREE_FAIL || files == 0)
		return CHECK_FAIL;
	return bytes < CHECK_FREE_WARN ? CHECK_WARN : CHECK_OK;
}

enum check_level
check_head_bucket(const struct http_answer *an, const char *region,
    int64_t skew, const char *url, char *msg, size_t msgsz)
{
	const char	*br = an->bucket_region;
	int		 other_region = br[0] != '\0' &&
			    strcasecmp(br, region) != 0;

	if (an->failed && an->status == 0) {
		snprintf(msg, msgsz, "upstream unreachable at %s: %s; check "
		    "upstream.endpoint and the network (DNS, proxy, "
		    "firewall)", url, an->error);
		return CHECK_FAIL;
	}
	if (an->aws_headers == 0) {
		snprintf(msg, msgsz, "%s does not answer like S3 (HTTP %ld%s%s"
		    "%s, no x-amz-request-id): is upstream.endpoint an S3 "
		    "endpoint?", url, an->status, an->server[0] != '\0' ?
		    ", Server: " : "", an->server, an->content_type[0] != '\0'
		    && strncasecmp(an->content_type, "text/html", 9) == 0 ?
		    ", an HTML page" : "");
		return CHECK_FAIL;
	}
	switch (an->status) {
	case 200:
		if (other_region) {
			snprintf(msg, msgsz, "reachable, but the bucket is in "
			    "%s and upstream.region is %s: set region = %s",
			    br, region, br);
			return CHECK_WARN;
		}
		snprintf(msg, msgsz, "reachable (HeadBucket 200%s%s)",
		    br[0] != '\0' ? ", region " : "", br);
		return CHECK_OK;
	case 301:
	case 307:
	case 400:
		if (other_region) {
			snprintf(msg, msgsz, "HTTP %ld: the bucket is in %s, "
			    "upstream.region is %s: set region = %s (and the "
			    "endpoint, e.g. https://s3.%s.amazonaws.com)",
			    an->status, br, region, br, br);
			return CHECK_FAIL;
		}
		break;
	case 403:
		if (check_skew_level(skew) == CHECK_FAIL) {
			snprintf(msg, msgsz, "403 Forbidden, and the clock is "
			    "%lld s off the upstream's: S3 refuses signatures "
			    "over 15 minutes off; set the clock (NTP)",
			    (long long)skew);
			return CHECK_FAIL;
		}
		snprintf(msg, msgsz, "403 Forbidden: these credentials may "
		    "not use the bucket: allow them s3:ListBucket on it "
		    "(HeadBucket, listings) and s3:GetObject, s3:PutObject, "
		    "s3:DeleteObject on its objects");
		return CHECK_FAIL;
	case 404:
		snprintf(msg, msgsz, "404: no such bucket at %s: create it, "
		    "or name the right one (upstream_bucket = in its [bucket] "
		    "section)", url);
		return CHECK_FAIL;
	default:
		break;
	}
	snprintf(msg, msgsz, "HTTP %ld from %s%s%s", an->status, url,
	    other_region ? ", the bucket's region: " : "",
	    other_region ? br : "");
	return CHECK_FAIL;
}

/* --- state_dir --------------------------------------------------------- */

/* Who holds state_dir's lock: its PID, -1 when held but unreadable, 0
 * when nobody does.  A shared lock taken for an instant tells; a daemon
 * starting in that instant would see the directory in use. */
static long
lock_holder(const char *dir)
{
	char	 path[PATH_MAX], text[32];
	ssize_t	 n;
	long	 pid = 0;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_DIR_LOCK_FILE) >=
	    (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
		n = read(fd, text, sizeof(text) - 1);
		text[n > 0 ? n : 0] = '\0';
		pid = strtol(text, NULL, 10);
		if (pid <= 0)
			pid = -1;
	}
	close(fd);
	return pid;
}

static const char *
write_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "give the service's user write access to it (chown), "
		    "or choose another state_dir";
	case EROFS:
		return "it is on a read-only file system: mount a writable "
		    "volume there, or choose another state_dir";
	case ENOSPC:
	case EDQUOT:
		return "free some space, or choose another state_dir";
	case ENOTDIR:
	case ENOENT:
	case ELOOP:
		return "a part of the path is not a directory: fix state_dir";
	default:
		return "choose another state_dir";
	}
}

/* Create, write, sync and remove a file in dir.  0, or an errno. */
static int
probe_write(const char *dir)
{
	char	 path[PATH_MAX];
	int	 fd, err = 0, i;

	for (i = 0; i < 100; i++) {
		if (snprintf(path, sizeof(path), "%s/.check-online.%ld.%d",
		    dir, (long)getpid(), i) >= (int)sizeof(path))
			return ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return errno;
	if (write(fd, "s3inval\n", 8) != 8 || fsync(fd) == -1)
		err = errno != 0 ? errno : EIO;
	if (close(fd) == -1 && err == 0)
		err = errno;
	if (unlink(path) == -1 && err == 0)
		err = errno;
	return err;
}

/* Free bytes for an unprivileged user, and free inodes (-1: uncounted). */
static int
free_space(const char *dir, uint64_t *bytes, int64_t *files)
{
	struct statvfs	 sv;

	if (statvfs(dir, &sv) == -1)
		return -1;
	*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	*files = sv.f_files == 0 ? -1 : (int64_t)sv.f_favail;
	return 0;
}

static void
check_state_dir(struct run *r)
{
	const char	*dir = r->cfg->server.state_dir;
	const char	*as = geteuid() == 0 ? " (checked as root, who may "
			    "write anywhere: run this as the service's user to "
			    "check its rights)" : "";
	struct stat	 st;
	char		 anc[PATH_MAX], size[32], *slash;
	uint64_t	 bytes = 0;
	int64_t		 files = -1;
	enum check_level lv;
	int		 err;

	if (stat(dir, &st) == -1) {
		err = errno;
		if (err != ENOENT) {
			line(r, CHECK_FAIL, "state_dir %s: %s; %s", dir,
			    strerror(err), write_hint(err));
			return;
		}
		/* The daemon creates it: the nearest directory that exists
		 * must let it. */
		snprintf(anc, sizeof(anc), "%s", dir);
		do {
			slash = strrchr(anc, '/');
			if (slash == NULL)
				snprintf(anc, sizeof(anc), ".");
			else if (slash == anc)
				anc[1] = '\0';
			else
				*slash = '\0';
		} while (stat(anc, &st) == -1 && strcmp(anc, "/") != 0 &&
		    strcmp(anc, ".") != 0);
		if (!S_ISDIR(st.st_mode)) {
			line(r, CHECK_FAIL, "state_dir %s: does not exist, and "
			    "%s is not a directory; %s", dir, anc,
			    write_hint(ENOTDIR));
			return;
		}
		err = probe_write(anc);
		if (err != 0) {
			line(r, CHECK_FAIL, "state_dir %s: does not exist, and "
			    "it cannot be created in %s: %s; create it for "
			    "the service's user (install -d -o USER %s)%s",
			    dir, anc, strerror(err), dir, as);
			return;
		}
		lv = CHECK_OK;
		if (free_space(anc, &bytes, &files) == 0)
			lv = check_free_level(bytes, files);
		human_size(size, sizeof(size), bytes);
		line(r, lv, "state_dir %s: does not exist yet; the daemon "
		    "creates it in %s (writable, %s free)%s", dir, anc, size,
		    as);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		line(r, CHECK_FAIL, "state_dir %s: not a directory; %s", dir,
		    write_hint(ENOTDIR));
		return;
	}
	r->lock_pid = lock_holder(dir);
	err = probe_write(dir);
	if (err != 0) {
		line(r, CHECK_FAIL, "state_dir %s: cannot create and write a "
		    "file in it: %s; %s", dir, strerror(err), write_hint(err));
		return;
	}
	if (free_space(dir, &bytes, &files) == -1) {
		line(r, CHECK_FAIL, "state_dir %s: statvfs: %s", dir,
		    strerror(errno));
		return;
	}
	lv = check_free_level(bytes, files);
	human_size(size, sizeof(size), bytes);
	if (r->lock_pid != 0)
		line(r, lv, "state_dir %s: writable, %s free%s; in use by "
		    "the running s3inval (pid %ld holds its lock)", dir, size,
		    lv == CHECK_OK ? "" : files == 0 ? " (no free inodes)" :
		    " (too little: the journal needs room)", r->lock_pid);
	else
		line(r, lv, "state_dir %s: writable, %s free%s%s", dir, size,
		    lv == CHECK_OK ? "" : files == 0 ? " (no free inodes)" :
		    " (too little: the journal needs room)", as);
}

/* --- addresses --------------------------------------------------------- */

static void
check_addresses(struct run *r)
{
	const char	*key[2] = { "listen", "admin_listen" };
	const char	*addr[2];
	const char	*cause;
	char		 gai[300];
	unsigned	 port;
	int		 fd[2], i, err;

	addr[0] = r->cfg->server.listen;
	addr[1] = r->cfg->server.admin_listen;
	/* Both held at once: two addresses that collide fail the second.
	 * Bound and listened on as the daemon does. */
	for (i = 0; i < 2; i++) {
		err = util_bind(addr[i], 1, &fd[i], &port, gai, sizeof(gai));
		if (err == 0) {
			line(r, CHECK_OK, "%s %s: bindable", key[i], addr[i]);
			continue;
		}
		if (err == -1) {
			line(r, CHECK_FAIL, "%s %s: %s", key[i], addr[i], gai);
			continue;
		}
		if (err == EADDRINUSE && i == 1 && fd[0] != -1 &&
		    strcmp(addr[0], addr[1]) != 0) {
			/* Free before, taken by listen just now. */
			line(r, CHECK_FAIL, "%s %s: collides with listen %s: "
			    "give them different ports", key[i], addr[i],
			    addr[0]);
			continue;
		}
		if (err == EADDRINUSE && r->lock_pid != 0) {
			line(r, CHECK_OK, "%s %s: in use by the running "
			    "s3inval (pid %ld holds state_dir's lock)",
			    key[i], addr[i], r->lock_pid);
			continue;
		}
		cause = check_bind_cause(err, port);
		line(r, CHECK_FAIL, "%s %s: %s", key[i], addr[i],
		    cause != NULL ? cause : strerror(err));
	}
	for (i = 0; i < 2; i++)
		if (fd[i] != -1)
			close(fd[i]);
}

/* --- credentials ------------------------------------------------------- */

static void
check_credentials(struct run *r, char *const *envp)
{
	struct credentials_status st;
	char		 err[1024], exp[128] = "";
	int64_t		 left;

	if (credentials_init(envp, err, sizeof(err)) == -1) {
		/* The chain's message says what it tried and what to set. */
		line(r, CHECK_FAIL, "credentials: %s", err);
		return;
	}
	r->creds = 1;
	if (credentials_status(&st) == -1) {
		line(r, CHECK_OK, "credentials: resolved");
		return;
	}
	if (st.expiration != 0) {
		left = st.expiration - util_now();
		snprintf(exp, sizeof(exp), ", temporary: %lld min left, "
		    "refreshed before they expire", (long long)(left / 60));
	}
	if (strcmp(st.source, credentials_kind_name(st.kind)) == 0)
		line(r, CHECK_OK, "credentials: %s, access key %s%s", st.source,
		    st.access_key_id, exp);
	else
		line(r, CHECK_OK, "credentials: %s (%s), access key %s%s",
		    credentials_kind_name(st.kind), st.source,
		    st.access_key_id, exp);
}

/* --- buckets and the clock --------------------------------------------- */

/* HEAD the bucket (NULL: the endpoint itself, unsigned) into an; url
 * gets what was asked. */
static void
head(struct run *r, const char *bucket, struct http_answer *an,
    struct buf *url)
{
	const struct cfg	*cfg = r->cfg;
	struct credentials	 c;
	struct http_call	 hc;
	struct buf		 host, path, ct;
	int			 v6 = strchr(r->host, ':') != NULL;
	int			 virt = bucket != NULL &&
				    cfg->upstream.addressing ==
				    CFG_ADDR_VIRTUAL;

	memset(&c, 0, sizeof(c));
	buf_init(&host);
	buf_init(&path);
	buf_init(&ct);
	/* As upstream.c builds them: the bucket in the host name, the
	 * connection pinned to the endpoint. */
	if (virt) {
		buf_printf(&host, "%s.", bucket);
		buf_printf(&ct, "%s.%s:%u:%s:%u", bucket, r->host, r->port,
		    r->host, r->port);
	}
	buf_printf(&host, v6 ? "[%s]" : "%s", r->host);
	if (!r->default_port)
		buf_printf(&host, ":%u", r->port);
	buf_putc(&path, '/');
	if (bucket != NULL && !virt)
		buf_puts(&path, bucket);
	buf_printf(url, "%s://%s%s", r->scheme, buf_str(&host),
	    buf_str(&path));

	memset(&hc, 0, sizeof(hc));
	hc.method = "HEAD";
	hc.scheme = r->scheme;
	hc.host = buf_str(&host);
	hc.connect_to = virt ? buf_str(&ct) : NULL;
	hc.path = buf_str(&path);
	hc.connect_timeout_ms = (long)cfg->upstream.connect_timeout_ms;
	hc.timeout_ms = CHECK_TIMEOUT_MS;
	hc.body_max = 64 * 1024;
	if (bucket != NULL && credentials_get(&c) == 0) {
		hc.cred = &c;
		hc.region = cfg->upstream.region;
		hc.service = "s3";
	}
	hc.now = util_now();
	if (!buf_ok(&host) || !buf_ok(&path) || !buf_ok(&ct)) {
		an->failed = 1;
		snprintf(an->error, sizeof(an->error), "out of memory");
	} else
		http_call_perform(&hc, an);
	credentials_wipe(&c);
	buf_fini(&host);
	buf_fini(&path);
	buf_fini(&ct);
}

/* The first Date an answer gives sets the skew. */
static void
take_date(struct run *r, const struct http_answer *an)
{
	time_t	 t;

	if (r->have_skew || an->date[0] == '\0')
		return;
	t = curl_getdate(an->date, NULL);
	if (t == -1)
		return;
	r->skew = util_now() - (int64_t)t;
	r->have_skew = 1;
}

/* 1 when the bucket of b[i] was asked already for an earlier b[j]. */
static int
asked_before(const struct cfg *cfg, size_t i)
{
	size_t	 j;

	for (j = 0; j < i; j++)
		if (cfg->buckets[j].upstream_bucket != NULL &&
		    strcmp(cfg->buckets[j].upstream_bucket,
		    cfg->buckets[i].upstream_bucket) == 0)
			return 1;
	return 0;
}

static void
check_buckets(struct run *r)
{
	const struct cfg	*cfg = r->cfg;
	const struct cfg_bucket	*bk;
	struct http_answer	 an;
	struct buf		 url;
	enum check_level	 lv;
	char			 msg[1024];
	size_t			 i;
	int			 reached = 0;

	http_answer_init(&an);
	buf_init(&url);
	if (cfg->n_buckets == 0)
		line(r, CHECK_WARN, "buckets: no [bucket] section: every "
		    "request is refused (only configured buckets are served)");
	for (i = 0; i < cfg->n_buckets; i++) {
		bk = &cfg->buckets[i];
		if (bk->upstream_bucket == NULL) {
			line(r, CHECK_SKIP, "bucket *: any bucket a client "
			    "names, as itself: none to check");
			continue;
		}
		if (asked_before(cfg, i))
			continue;
		if (!r->creds) {
			line(r, CHECK_SKIP, "bucket %s: not checked: no "
			    "credentials", bk->upstream_bucket);
			continue;
		}
		buf_reset(&url);
		head(r, bk->upstream_bucket, &an, &url);
		take_date(r, &an);
		reached |= an.status != 0;
		lv = check_head_bucket(&an, cfg->upstream.region, r->skew,
		    buf_str(&url), msg, sizeof(msg));
		if (strcmp(bk->name, bk->upstream_bucket) == 0)
			line(r, lv, "bucket %s: %s", bk->name, msg);
		else
			line(r, lv, "bucket %s (upstream %s): %s", bk->name,
			    bk->upstream_bucket, msg);
	}
	if (!r->have_skew && !reached) {
		/* No bucket asked: the endpoint's own Date will do. */
		buf_reset(&url);
		head(r, NULL, &an, &url);
		take_date(r, &an);
	}
	if (!r->have_skew)
		line(r, CHECK_SKIP, "clock: not checked: no Date from the "
		    "upstream");
	else if (check_skew_level(r->skew) == CHECK_OK)
		line(r, CHECK_OK, "clock: %lld s off the upstream's Date",
		    (long long)(r->skew < 0 ? -r->skew : r->skew));
	else
		line(r, check_skew_level(r->skew), "clock: %lld s %s the "
		    "upstream's; S3 refuses signatures over 15 minutes off: "
		    "set the clock (NTP: timedatectl set-ntp true)",
		    (long long)(r->skew < 0 ? -r->skew : r->skew),
		    r->skew < 0 ? "behind" : "ahead of");
	http_answer_fini(&an);
	buf_fini(&url);
}

/* --- distributions ----------------------------------------------------- */

/*
 * GetDistribution was denied: GetInvalidation, which the daemon needs
 * anyway, of an id no distribution has tells whether the distribution
 * exists (NoSuchInvalidation) or not (NoSuchDistribution).
 */
static void
probe_denied(struct run *r, const char *what, const char *id,
    const char *bucket)
{
	struct cf_result	 res;

	cloudfront_get(id, CHECK_PROBE_ID, &res);
	if (strcmp(res.code, "NoSuchInvalidation") == 0)
		line(r, CHECK_WARN, "%s: exists (GetInvalidation answers), but "
		    "GetDistribution is denied, so its origin is not "
		    "checked: allow cloudfront:GetDistribution to check it",
		    what);
	else if (strcmp(res.code, "NoSuchDistribution") == 0)
		line(r, CHECK_FAIL, "%s: no such distribution at %s: fix "
		    "distributions = in [bucket %s]", what,
		    r->cfg->cloudfront.endpoint, bucket);
	else
		line(r, CHECK_FAIL, "%s: AccessDenied: these credentials may "
		    "not use this distribution (the daemon needs "
		    "cloudfront:CreateInvalidation and GetInvalidation): %s",
		    what, res.message);
}

/* The origin check of a distribution that exists. */
static void
judge_origins(struct run *r, const char *what,
    const struct cfg_bucket *bk, const struct cf_distribution *d)
{
	const char	*want = bk->origin_path != NULL ? bk->origin_path : "";
	const struct cf_origin *o = NULL;
	struct buf	 list;
	size_t		 i, n = d->n_origins < CF_ORIGINS_MAX ?
			    d->n_origins : CF_ORIGINS_MAX;

	buf_init(&list);
	if (bk->upstream_bucket == NULL) {
		line(r, CHECK_OK, "%s: exists (%s)", what, d->status);
		return;
	}
	for (i = 0; i < n && o == NULL; i++)
		if (check_origin_is_bucket(d->origins[i].domain,
		    bk->upstream_bucket, r->host))
			o = &d->origins[i];
	if (o == NULL) {
		for (i = 0; i < n; i++)
			buf_printf(&list, "%s%s", i > 0 ? ", " : "",
			    d->origins[i].domain);
		line(r, CHECK_WARN, "%s: no origin is bucket %s (origins: %s):"
		    " if it serves the bucket under another name, fine; else "
		    "fix distributions = in [bucket %s]", what,
		    bk->upstream_bucket, buf_ok(&list) && list.len > 0 ?
		    buf_str(&list) : "none", bk->name);
	} else if (strcmp(o->origin_path, want) != 0)
		line(r, CHECK_WARN, "%s: origin %s has OriginPath \"%s\" but "
		    "origin_path is \"%s\": keys would map to the wrong paths; "
		    "set origin_path = %s", what, o->domain, o->origin_path,
		    want, o->origin_path);
	else
		line(r, CHECK_OK, "%s: exists (%s%s), origin %s%s%s", what,
		    d->status, d->enabled ? "" : ", disabled", o->domain,
		    want[0] != '\0' ? ", origin path " : "", want);
	buf_fini(&list);
}

static int
start_cloudfront(struct run *r, struct cf_distribution **d)
{
	const struct cfg	*cfg = r->cfg;

	*d = malloc(sizeof(**d));
	if (*d != NULL && cloudfront_init(cfg->cloudfront.endpoint,
	    (long)cfg->cloudfront.timeout_ms) == 0)
		return 0;
	line(r, CHECK_FAIL, "cloudfront: cannot start a client for %s",
	    cfg->cloudfront.endpoint);
	free(*d);
	*d = NULL;
	return -1;
}

/* GetDistribution of id, for bucket bk, judged. */
static void
check_distribution(struct run *r, const char *what,
    const struct cfg_bucket *bk, const char *id, struct cf_distribution *d)
{
	const char		*ep = r->cfg->cloudfront.endpoint;
	struct cf_result	 res;

	cloudfront_get_distribution(id, d, &res);
	if (res.outcome == CF_OK)
		judge_origins(r, what, bk, d);
	else if (strcmp(res.code, "NoSuchDistribution") == 0)
		line(r, CHECK_FAIL, "%s: no such distribution at %s: fix "
		    "distributions = in [bucket %s]", what, ep, bk->name);
	else if (strncmp(res.code, "AccessDenied", 12) == 0)
		probe_denied(r, what, id, bk->name);
	else if (res.http_status == 0)
		line(r, CHECK_FAIL, "%s: CloudFront unreachable at %s: %s; "
		    "check cloudfront.endpoint and the network", what, ep,
		    res.message);
	else
		line(r, CHECK_FAIL, "%s: HTTP %ld %s%s%s", what,
		    res.http_status, res.code, res.code[0] != '\0' ? ": " : "",
		    res.message);
}

static void
check_distributions(struct run *r)
{
	const struct cfg	*cfg = r->cfg;
	const struct cfg_bucket	*bk;
	struct cf_distribution	*d = NULL;
	char			 what[300];
	size_t			 i, j;
	int			 started = 0;

	for (i = 0; i < cfg->n_buckets; i++) {
		bk = &cfg->buckets[i];
		for (j = 0; j < bk->n_distributions; j++) {
			snprintf(what, sizeof(what), "distribution %s (bucket "
			    "%s)", bk->distributions[j], bk->name);
			if (!r->creds) {
				line(r, CHECK_SKIP, "%s: not checked: no "
				    "credentials", what);
				continue;
			}
			if (!started && start_cloudfront(r, &d) == -1)
				return;
			started = 1;
			check_distribution(r, what, bk, bk->distributions[j],
			    d);
		}
	}
	if (started)
		cloudfront_fini();
	free(d);
}

int
check_online_run(const struct cfg *cfg, char *const *envp,
    check_line_fn *fn, void *arg)
{
	struct run	 r;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.fn = fn;
	r.arg = arg;
	if (util_split_url(cfg->upstream.endpoint, r.scheme, sizeof(r.scheme),
	    r.host, sizeof(r.host), &r.port) == -1) {
		line(&r, CHECK_FAIL, "upstream.endpoint %s: not a URL",
		    cfg->upstream.endpoint);
		return r.failed;
	}
	r.default_port = (strcasecmp(r.scheme, "http") == 0 && r.port == 80)
	    || (strcasecmp(r.scheme, "https") == 0 && r.port == 443);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		line(&r, CHECK_FAIL, "cannot start libcurl");
		return r.failed;
	}
	check_state_dir(&r);
	check_addresses(&r);
	check_credentials(&r, envp);
	check_buckets(&r);
	check_distributions(&r);
	credentials_fini();
	curl_global_cleanup();
	return r.failed;
}
