/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: the configuration: an INI file (libinih) and S3INVAL_* environment
 * overrides, checked against one table of keys (cfg_keys.h).
 *
 * cfg_load() reports every problem it finds in one pass, each as
 * "file:line: message" (or "env S3INVAL_X: message"), and returns the
 * count.  The result is immutable once loaded and shared read-only by all
 * threads; cfg_free() releases it and wipes the secrets.
 *
 * Durations are kept in milliseconds, sizes in bytes.
 */
#ifndef S3I_CFG_H
#define S3I_CFG_H

#include <stdint.h>
#include <stdio.h>

#define CFG_DEFAULT_PATH	SYSCONFDIR "/s3inval/s3inval.conf"
/* Largest configuration file read; only regular files are (issue 13). */
#define CFG_FILE_MAX		(1024 * 1024)

enum cfg_auth_mode {
	CFG_AUTH_SIGV4 = 0,
	CFG_AUTH_NONE
};

enum cfg_addressing {
	CFG_ADDR_VIRTUAL = 0,
	CFG_ADDR_PATH
};

enum cfg_index {
	CFG_INDEX_LEARN = 0,
	CFG_INDEX_OFF
};

enum cfg_log_format {
	CFG_LOG_TEXT = 0,
	CFG_LOG_JSON
};

/* Ordered by severity; matches log.h's levels. */
enum cfg_log_level {
	CFG_LOG_ERROR = 0,
	CFG_LOG_WARN,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG
};

/*
 * The rights a [client] buckets item grants (DESIGN §9: "blog:rw,
 * blog:admin"): r reads; w object writes and deletes, multipart included;
 * rw both; admin bucket-level writes (policy, ACL, CORS, website, ...,
 * CreateBucket, DeleteBucket) and operations s3inval does not know.  Which
 * operation needs which is s3_op_table.h's.
 */
enum cfg_right {
	CFG_RIGHT_R = 0,
	CFG_RIGHT_W,
	CFG_RIGHT_ADMIN
};
#define CFG_RIGHT_BIT(r)	(1u << (r))

/* One bucket of a client's buckets list; items naming the same bucket
 * ("blog:rw, blog:admin") are merged into one grant. */
struct cfg_grant {
	char		*bucket;	/* client-facing name, or "*" */
	unsigned	 rights;	/* CFG_RIGHT_BIT()s */
};

/* [client NAME] */
struct cfg_client {
	char		*name;
	char		*access_key_id;
	char		*secret_access_key;	/* secret: never printed */
	struct cfg_grant *grants;
	size_t		 n_grants;
};

/* [bucket NAME]; NAME "*" serves any bucket as itself. */
struct cfg_bucket {
	char	 *name;
	char	 *upstream_bucket;	/* default: name ("*": the request's) */
	char	**distributions;
	size_t	  n_distributions;
	char	 *origin_path;		/* "" or "/prefix" without trailing / */
	char	**index_documents;	/* default: "index.html" */
	size_t	  n_index_documents;
	int	  index_without_slash;
	enum cfg_index	 index;
	int64_t	  index_max_age_ms;
	int	  skip_unchanged;
};

struct cfg {
	char	*path;			/* file loaded, or NULL */
	unsigned char file_sha256[32];	/* of its bytes (cfg_same_file()) */

	struct {
		char	*listen;		/* host:port */
		char	*admin_listen;		/* host:port */
		int	 admin_allow_remote;
		char	*admin_hosts;		/* "a, b": more Host names */
		char	*admin_token;		/* secret; "" = none */
		char	*admin_token_file;	/* "" = none */
		char	*state_dir;
		char	*virtual_host_base;	/* "" = path-style only */
		char	*tls_cert;
		char	*tls_key;
		uint64_t max_header_size;	/* request line + headers */
		uint64_t spool_max;		/* chunked body spool bound */
		int64_t	 client_timeout_ms;	/* idle client connection */
		unsigned max_connections;
		uint64_t min_rate;		/* bytes/s, 0: none */
		unsigned threads;		/* 0: one per core */
		int64_t	 shutdown_grace_ms;
		uint64_t index_max_memory;
	} server;

	struct {
		char	*endpoint;		/* scheme://host[:port] */
		char	*region;
		enum cfg_addressing addressing;
		int64_t	 connect_timeout_ms;
		int64_t	 timeout_ms;		/* no progress for this long */
	} upstream;

	struct {
		enum cfg_auth_mode mode;
		int64_t	 max_skew_ms;
	} auth;

	struct {
		char	*endpoint;
		int64_t	 quiet_period_ms;
		int64_t	 max_delay_ms;
		unsigned wildcard_threshold;
		double	 max_requests_per_second;
		unsigned monthly_free_paths;
		int64_t	 poll_interval_ms;
		int64_t	 retry_base_ms;
		int64_t	 retry_max_ms;
		int64_t	 timeout_ms;
		int64_t	 give_up_after_ms;	/* a refusing distribution */
		int	 flush_on_shutdown;
		double	 eviction_weight;
		double	 monthly_budget_usd;
	} cloudfront;

	struct {
		enum cfg_log_format format;
		enum cfg_log_level level;
		char	*file;			/* "" = stderr */
	} log;

	struct cfg_client *clients;
	size_t	 n_clients;
	struct cfg_bucket *buckets;
	size_t	 n_buckets;
};

/*
 * Load path (NULL: defaults and environment only) with the overrides in
 * envp (a NULL-terminated "NAME=value" array, as environ).  Every problem
 * found goes to errs, one line each; returns how many there were.  *out is
 * set only when that count is 0; the caller frees it with cfg_free().
 */
/* The file to load: opt (-c FILE) when given, else CFG_DEFAULT_PATH when
 * it is readable, else NULL (defaults and environment only). */
const char *cfg_path(const char *opt);

int	cfg_load(const char *path, char *const *envp, FILE *errs,
	    struct cfg **out);
void	cfg_free(struct cfg *);

/* 1 when a and b were loaded from the same file with the same bytes (or
 * both from no file): in one process, whose environment does not change,
 * they are the same configuration (SIGHUP keeps the one it has). */
int	cfg_same_file(const struct cfg *a, const struct cfg *b);

/* The effective configuration as INI, secrets masked. */
void	cfg_print(const struct cfg *, FILE *);

/* The [bucket] for a client-facing name: exact name first, then "*". */
const struct cfg_bucket *cfg_bucket_find(const struct cfg *, const char *);

/* The client with this access key id, or NULL. */
const struct cfg_client *cfg_client_find(const struct cfg *, const char *);

/* 1 when the client holds right for bucket, by a grant naming it or "*"
 * (the rights of both add up).  NULL client or bucket: 0. */
int	cfg_client_may(const struct cfg_client *, const char *bucket,
	    enum cfg_right);

/* "500ms", "5s", "2m", "1h", "1d" (a bare number is seconds) -> ms. */
int	cfg_parse_duration(const char *, int64_t *ms);
/* "512", "64k", "8m", "1g" (binary multiples) -> bytes. */
int	cfg_parse_size(const char *, uint64_t *);

#endif
