/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_keys.h: every configuration key, once.  The parser, the defaults, the
 * environment names (S3INVAL_<SECTION>_<KEY>), cfg_print() and cfg_free()
 * all come from this table; config/s3inval.conf.example is checked against
 * it by tests/unit/test_cfg.c.
 *
 * No include guard: the includer defines both macros, includes this file,
 * and the file undefines them again (CFG_TYPE_MAX, optional, too).
 *
 * CFG_KEY(section, key, type, field, default, choices, description)
 *	One value kept in field of the section's struct: struct cfg for
 *	server, upstream, auth, cloudfront and log; struct cfg_client for
 *	client; struct cfg_bucket for bucket.  choices lists an ENUM's names
 *	in the order of its C enum ("virtual|path").  For DURATION, SIZE,
 *	UINT and DOUBLE it is the key's upper bound, written as a value
 *	("64k"), or NULL for its type's bound (CFG_TYPE_MAX below); NULL for
 *	other types.  A NULL default means "none": required, or worked out
 *	after loading.
 * CFG_LIST(section, key, type, field, default, description)
 *	A comma-separated list: field points to the items and n_<field>
 *	counts them.
 *
 * Types: STRING (any text), NONEMPTY, WORD (no spaces), HOSTPORT, URL
 * (http[s]://host[:port]), HOST (a host name or empty), DURATION, SIZE,
 * UINT, DOUBLE, BOOL, ENUM, SECRET (never printed), BUCKET (a bucket name
 * or empty), PREFIX (an origin path); lists: IDS (CloudFront ids), NAMES
 * (file names), GRANTS (bucket:RIGHT, RIGHT r, w, rw or admin).
 *
 * Keys of one section stay together: cfg_print() follows this order.
 *
 * CFG_TYPE_MAX(type, max)
 *	Every number has an upper bound (issue 14: max_header_size = 8g
 *	took 1.5 GB of memory, 64g reset every connection): a key's own
 *	(its choices column), else its type's, here.  A larger value is an
 *	error; s3inval.conf(5) and the example show each key's bound.
 */

#ifndef CFG_TYPE_MAX
#define CFG_TYPE_MAX(type, max)
#endif
CFG_TYPE_MAX(DURATION, "1d")
CFG_TYPE_MAX(SIZE, "1g")
CFG_TYPE_MAX(UINT, "1000000")
CFG_TYPE_MAX(DOUBLE, "1000000")

/* [server] */
CFG_KEY(server, listen, HOSTPORT, server.listen, "127.0.0.1:8080", NULL,
    "S3 API address, host:port; HTTPS when tls_cert and tls_key are set")
CFG_KEY(server, admin_listen, HOSTPORT, server.admin_listen,
    "127.0.0.1:9090", NULL,
    "admin address (/healthz /readyz /metrics /status /flush)")
CFG_KEY(server, admin_allow_remote, BOOL, server.admin_allow_remote, "no",
    NULL, "allow admin_listen on a non-loopback address (set a token too)")
CFG_KEY(server, admin_hosts, STRING, server.admin_hosts, "", NULL,
    "other names a request's Host may give the admin listener, as s3inval")
CFG_KEY(server, admin_token, SECRET, server.admin_token, "", NULL,
    "bearer token every admin request must carry (never printed)")
CFG_KEY(server, admin_token_file, STRING, server.admin_token_file, "", NULL,
    "absolute path of a file holding admin_token instead, read at start")
CFG_KEY(server, state_dir, NONEMPTY, server.state_dir, "/var/lib/s3inval",
    NULL, "directory of the journal and learned state")
CFG_KEY(server, virtual_host_base, HOST, server.virtual_host_base, "", NULL,
    "e.g. s3.local serves bucket.s3.local/key; empty: path-style only")
CFG_KEY(server, tls_cert, STRING, server.tls_cert, "", NULL,
    "PEM certificate chain file for HTTPS (needs tls_key)")
CFG_KEY(server, tls_key, STRING, server.tls_key, "", NULL,
    "PEM private key file for HTTPS (needs tls_cert)")
CFG_KEY(server, max_header_size, SIZE, server.max_header_size, "8k", "64k",
    "largest request line plus headers accepted (S3's own limit is 8 KB)")
CFG_KEY(server, spool_max, SIZE, server.spool_max, "1g", "5g",
    "most bytes of one request body the proxy may spool")
CFG_KEY(server, client_timeout, DURATION, server.client_timeout_ms, "60s",
    NULL, "close a connection idle, or slow to send a head, this long")
CFG_KEY(server, max_connections, UINT, server.max_connections, "1024",
    "65536", "most client connections at once; past it requests get 503")
CFG_KEY(server, min_rate, SIZE, server.min_rate, "1k", "1g",
    "slowest body upload or answer download, bytes a second over 10 s "
    "(0: none)")
CFG_KEY(server, threads, UINT, server.threads, "0", "64",
    "event-loop threads serving clients (0: one per core)")
CFG_KEY(server, shutdown_grace, DURATION, server.shutdown_grace_ms, "20s",
    NULL, "on SIGTERM, how long in-flight requests may take to finish")
CFG_KEY(server, index_max_memory, SIZE, server.index_max_memory, "256m",
    "16g", "most memory the ETag index may use (oldest entries go first)")

/* [upstream] */
CFG_KEY(upstream, endpoint, URL, upstream.endpoint,
    "https://s3.us-east-1.amazonaws.com", NULL,
    "the S3 service, scheme://host[:port]")
CFG_KEY(upstream, region, WORD, upstream.region, "us-east-1", NULL,
    "region of the upstream buckets, used to sign requests")
CFG_KEY(upstream, addressing, ENUM, upstream.addressing, "virtual",
    "virtual|path",
    "virtual (bucket.host/key) or path (host/bucket/key) upstream")
CFG_KEY(upstream, connect_timeout, DURATION, upstream.connect_timeout_ms,
    "5s", NULL, "give up connecting to the upstream after this long")
CFG_KEY(upstream, timeout, DURATION, upstream.timeout_ms, "30s", NULL,
    "give up on an upstream transfer without progress for this long")

/* [auth] */
CFG_KEY(auth, mode, ENUM, auth.mode, "sigv4", "sigv4|none",
    "sigv4: clients sign with a [client] key; none: trusted network only")
CFG_KEY(auth, max_skew, DURATION, auth.max_skew_ms, "15m", NULL,
    "largest clock difference accepted in a client's signature")

/* [cloudfront] */
CFG_KEY(cloudfront, endpoint, URL, cloudfront.endpoint,
    "https://cloudfront.amazonaws.com", NULL,
    "the CloudFront API, scheme://host[:port]")
CFG_KEY(cloudfront, quiet_period, DURATION, cloudfront.quiet_period_ms, "5s",
    NULL, "submit once no write came for this long...")
CFG_KEY(cloudfront, max_delay, DURATION, cloudfront.max_delay_ms, "60s",
    NULL, "...but at most this long after the first pending write")
CFG_KEY(cloudfront, wildcard_threshold, UINT, cloudfront.wildcard_threshold,
    "5", NULL, "changed paths in one folder that turn it into folder/*")
CFG_KEY(cloudfront, max_requests_per_second, DOUBLE,
    cloudfront.max_requests_per_second, "0.5", NULL,
    "rate limit on CloudFront API calls")
CFG_KEY(cloudfront, monthly_free_paths, UINT, cloudfront.monthly_free_paths,
    "1000", NULL, "free invalidation paths a month; near it, fewer paths")
CFG_KEY(cloudfront, poll_interval, DURATION, cloudfront.poll_interval_ms,
    "10s", NULL, "how often a running invalidation is checked")
CFG_KEY(cloudfront, retry_base, DURATION, cloudfront.retry_base_ms, "1s",
    NULL, "first retry delay after throttling or an error; doubles")
CFG_KEY(cloudfront, retry_max, DURATION, cloudfront.retry_max_ms, "5m",
    NULL, "longest retry delay")
CFG_KEY(cloudfront, timeout, DURATION, cloudfront.timeout_ms, "30s", NULL,
    "give up on one CloudFront API call after this long")
CFG_KEY(cloudfront, give_up_after, DURATION, cloudfront.give_up_after_ms,
    "24h", "7d",
    "keep paths refused with NoSuchDistribution or AccessDenied this long")
CFG_KEY(cloudfront, flush_on_shutdown, BOOL, cloudfront.flush_on_shutdown,
    "no", NULL, "on SIGTERM, submit pending paths (within shutdown_grace)")
CFG_KEY(cloudfront, eviction_weight, DOUBLE, cloudfront.eviction_weight,
    "0.05", NULL,
    "what evicting one unchanged object costs, in paths, when planning")
CFG_KEY(cloudfront, monthly_budget_usd, DOUBLE,
    cloudfront.monthly_budget_usd, "0", NULL,
    "month's invalidation budget in USD; near it, wider paths (0: none)")

/* [log] */
CFG_KEY(log, format, ENUM, log.format, "text", "text|json",
    "text or json, one line per event")
CFG_KEY(log, level, ENUM, log.level, "info", "error|warn|info|debug",
    "error, warn, info or debug")
CFG_KEY(log, file, STRING, log.file, "", NULL,
    "log file (reopened on SIGHUP); empty: stderr")

/* [client NAME] */
CFG_KEY(client, access_key_id, WORD, access_key_id, NULL, NULL,
    "the access key id the client signs with (required)")
CFG_KEY(client, secret_access_key, SECRET, secret_access_key, NULL, NULL,
    "its secret access key (required; never printed)")
CFG_LIST(client, buckets, GRANTS, grants, "",
    "rights per bucket, comma-separated: name:r|w|rw|admin; * = any")

/* [bucket NAME], NAME as clients use it; [bucket *]: any bucket as itself */
CFG_KEY(bucket, upstream_bucket, BUCKET, upstream_bucket, NULL, NULL,
    "the real bucket upstream; default: NAME ([bucket *]: the request's)")
CFG_LIST(bucket, distributions, IDS, distributions, "",
    "ids of the CloudFront distributions serving it, comma-separated")
CFG_KEY(bucket, origin_path, PREFIX, origin_path, "", NULL,
    "the distributions' origin path, stripped from keys")
CFG_LIST(bucket, index_documents, NAMES, index_documents, "index.html",
    "index documents, comma-separated: a/index.html also clears a/")
CFG_KEY(bucket, index_without_slash, BOOL, index_without_slash, "no", NULL,
    "a/index.html also clears a (without the slash)")
CFG_KEY(bucket, index, ENUM, index, "learn", "learn|off",
    "learn: keep ETags and served headers seen in reads and writes; "
    "off: keep none")
CFG_KEY(bucket, index_max_age, DURATION, index_max_age_ms, "1h", "30d",
    "trust a learned ETag this long (objects change behind our back)")
CFG_KEY(bucket, skip_unchanged, BOOL, skip_unchanged, "yes", NULL,
    "no invalidation for a write of the same bytes and served headers")

#undef CFG_KEY
#undef CFG_LIST
#undef CFG_TYPE_MAX
