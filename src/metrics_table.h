/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics_table: every series of /metrics, one row each (issue 10).  The
 * row names the series in code (M_ID, enum metric in metrics.h) and gives
 * /metrics its name, type, help and labels (metrics_head, metrics_put).
 *
 *   METRIC(ID, TYPE, NAME, LABELS, HELP)
 *     TYPE: COUNTER, GAUGE or HISTOGRAM.  LABELS: the label names, comma
 *     separated, "" for none.
 *   DIST_METRIC(ID, TYPE, NAME, HELP)
 *     A figure the worker keeps per distribution (struct dist's
 *     count[DM_ID], under worker.mtx), labelled by distribution.  Where
 *     DIST_METRIC is not defined it is a METRIC with that label.
 *
 * Names follow the Prometheus conventions
 * (https://prometheus.io/docs/practices/naming/): the unit, in base units
 * and plural, as the last word before _total (_seconds, _bytes, _usd);
 * _total on every counter and on nothing else.  A rename breaks users'
 * dashboards: list it in the README's "Metrics" section.
 *
 * Who holds the value, by group below: metrics.c (metrics_add), the
 * upstream, the worker, the admin listener, the process (proc_self.c).
 */
#ifndef DIST_METRIC
#define DIST_METRIC(id, type, name, help) \
	METRIC(id, type, name, "distribution", help)
#define S3I_DIST_METRIC_DEFAULT
#endif

/* The front: metrics.c holds them. */
METRIC(REQUESTS, COUNTER, "s3inval_requests_total", "op,status",
    "S3 requests answered, by operation and status class.")
METRIC(UNCLASSIFIED_WRITES, COUNTER, "s3inval_unclassified_writes_total", "",
    "Successful writes of an operation s3inval does not know, invalidated "
    "by their key or bucket.")
METRIC(WRITE_FALLBACKS, COUNTER, "s3inval_write_fallbacks_total", "",
    "Successful writes whose answer could not be read, invalidated by what "
    "the request could have changed.")
METRIC(WRITES_HEADERS_CHANGED, COUNTER,
    "s3inval_writes_headers_changed_total", "",
    "Writes of the bytes a key had, with other served headers: invalidated.")
METRIC(WRITES_HEADERS_UNKNOWN, COUNTER,
    "s3inval_writes_headers_unknown_total", "",
    "Writes of the bytes a key had, whose served headers could not be "
    "compared: invalidated.")
METRIC(REQUEST_BYTES, COUNTER, "s3inval_request_bytes_total", "",
    "Body bytes received from clients.")
METRIC(RESPONSE_BYTES, COUNTER, "s3inval_response_bytes_total", "",
    "Body bytes sent to clients.")
METRIC(UPSTREAM_DURATION, HISTOGRAM, "s3inval_upstream_duration_seconds", "",
    "Time from the start of an upstream request to its response head.")
METRIC(CLIENT_CONNECTIONS, GAUGE, "s3inval_client_connections", "",
    "Client connections open now.")
METRIC(CLIENT_CONNECTIONS_REFUSED, COUNTER,
    "s3inval_client_connections_refused_total", "",
    "Requests answered 503 (or connections closed) past "
    "server.max_connections.")
METRIC(CLIENT_CONNECTIONS_CUT_SLOW, COUNTER,
    "s3inval_client_connections_cut_slow_total", "",
    "Connections closed for a head slower than client_timeout or a body or "
    "answer slower than min_rate.")

/* The upstream: upstream.c counts them. */
METRIC(UPSTREAM_CONNECTIONS, COUNTER, "s3inval_upstream_connections_total",
    "", "Connections opened to the upstream.")

/* The worker (worker_status.c renders them, under worker.mtx). */
METRIC(WRITES_RECORDED, COUNTER, "s3inval_writes_recorded_total", "",
    "Writes journaled for invalidation.")
METRIC(KEYS_RECORDED, COUNTER, "s3inval_keys_recorded_total", "",
    "Keys journaled.")
METRIC(PATHS_PENDING, GAUGE, "s3inval_paths_pending", "",
    "Paths waiting for their quiet period.")
METRIC(BATCHES_OPEN, GAUGE, "s3inval_batches_open", "",
    "Batches not yet Completed.")
DIST_METRIC(BATCHES_SENT, COUNTER, "s3inval_batches_sent_total",
    "Invalidation batches CloudFront accepted.")
DIST_METRIC(BATCHES_RETRIED, COUNTER, "s3inval_batches_retried_total",
    "Retries after throttling or errors.")
DIST_METRIC(BATCHES_FAILED, COUNTER, "s3inval_batches_failed_total",
    "Batches refused (kept pending unless a path was invalid).")
DIST_METRIC(PATHS_REJECTED, COUNTER, "s3inval_paths_rejected_total",
    "Paths CloudFront refused as invalid.")
DIST_METRIC(KEYS_UNCHANGED, COUNTER, "s3inval_keys_unchanged_total",
    "Writes that stored the same ETag again: not invalidated.")
DIST_METRIC(NEEDLESS_EVICTIONS, COUNTER, "s3inval_needless_evictions_total",
    "Unchanged objects the plans' wildcards evicted (as far as known).")
DIST_METRIC(PATHS_GIVEN_UP, COUNTER, "s3inval_paths_given_up_total",
    "Paths dropped after the distribution refused them "
    "(NoSuchDistribution, AccessDenied) for give_up_after.")
METRIC(MONTH_PATHS, GAUGE, "s3inval_month_paths", "distribution",
    "Paths submitted this calendar month (UTC).")
METRIC(MONTH_COST, GAUGE, "s3inval_month_cost_usd", "",
    "Estimated invalidation cost this calendar month (UTC), in USD: "
    "cloudfront.monthly_free_paths free, then $0.005 a path.")
METRIC(INDEX_BYTES, GAUGE, "s3inval_index_bytes", "",
    "Memory of the ETag index.")
METRIC(JOURNAL_BYTES, GAUGE, "s3inval_journal_bytes", "",
    "Journal size.")
METRIC(JOURNAL_SYNCS, COUNTER, "s3inval_journal_syncs_total", "",
    "fdatasync calls (group commit shares them).")
METRIC(JOURNAL_ERRORS, COUNTER, "s3inval_journal_errors_total", "",
    "Journal writes that failed.")
METRIC(JOURNAL_DAMAGED_BYTES, COUNTER, "s3inval_journal_damaged_bytes_total",
    "", "Journal bytes found damaged at start (unreadable, missing, or "
    "written after a clean stop).")
METRIC(JOURNAL_TORN_BYTES, COUNTER, "s3inval_journal_torn_bytes_total", "",
    "Journal bytes of an unacknowledged write a crash cut short, dropped at "
    "start.")

/* The admin listener (admin.c). */
METRIC(ADMIN_REFUSED, COUNTER, "s3inval_admin_refused_total", "reason",
    "Admin requests and connections refused, by reason.")
METRIC(ADMIN_TIMED_OUT, COUNTER, "s3inval_admin_timed_out_total", "",
    "Admin connections closed idle, or slow to send a head or read an "
    "answer.")
METRIC(ADMIN_CONNECTIONS, GAUGE, "s3inval_admin_connections", "",
    "Admin connections open.")

/* The process, as the Prometheus client libraries name it (proc_self.c). */
METRIC(PROCESS_CPU, COUNTER, "process_cpu_seconds_total", "",
    "Total user and system CPU time spent in seconds.")
METRIC(PROCESS_RESIDENT_MEMORY, GAUGE, "process_resident_memory_bytes", "",
    "Resident memory size in bytes.")
METRIC(PROCESS_VIRTUAL_MEMORY, GAUGE, "process_virtual_memory_bytes", "",
    "Virtual memory size in bytes.")
METRIC(PROCESS_OPEN_FDS, GAUGE, "process_open_fds", "",
    "Number of open file descriptors.")
METRIC(PROCESS_MAX_FDS, GAUGE, "process_max_fds", "",
    "Maximum number of open file descriptors.")
METRIC(PROCESS_START_TIME, GAUGE, "process_start_time_seconds", "",
    "Start time of the process since unix epoch in seconds.")

#ifdef S3I_DIST_METRIC_DEFAULT
#undef DIST_METRIC
#undef S3I_DIST_METRIC_DEFAULT
#endif
