#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t36_metrics: /metrics as Prometheus reads it (issue 11 item 5, issue 10
item 5).  boto3 writes and reads through the daemon (auth.mode = sigv4)
to moto behind the SigV4 verifier; the writes are invalidated at moto's
CloudFront.  Then:

- `promtool check metrics` (Debian's prometheus package) finds no problem
  in the scrape; under CI=true a missing promtool is a failure;
- the scrape is src/metrics_table.h: every row's series is there with its
  HELP and TYPE, and nothing else is;
- the counters moved with the traffic (requests by operation, body bytes,
  the upstream's latency histogram, writes journaled, batches sent);
- the process_* series, as the Prometheus client libraries give them, are
  this daemon's: its start time between launching it and the scrape, its
  resident memory and descriptors as /proc/PID says;
- /status is JSON a strict parser reads, keeps its keys, and lists the
  paths of the batches that went out: all of a small one, the first 100
  of one of 120 paths with its count (issue 11 item 5).
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import shutil
    import json
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t36_metrics"
BUCKET = "metrics-blog"
KEYS = ["index.html", "a/index.html", "a/b.css", "img/c d.png",
        "caf\u00e9.html"]
MANY = ["many/%03d.html" % i for i in range(120)]
LISTED = 100            # paths /status lists per batch (RECENT_PATHS)
BODY = b"<p>hello</p>\n" * 40

SAMPLE_RX = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
ROW_RX = re.compile(r'^(?:DIST_)?METRIC\(\s*\w+,\s*(\w+),\s*"([^"]+)"',
                    re.M)


def table():
    """{name: type} from src/metrics_table.h, the one list of series."""
    path = os.path.join(s3itest.TOP_SRCDIR, "src", "metrics_table.h")
    with open(path, encoding="utf-8") as f:
        return {name: typ.lower() for typ, name in ROW_RX.findall(f.read())}


def scrape(admin):
    st, _, body = s3itest.http_request(admin + "/metrics")
    if st != 200:
        raise AssertionError("GET /metrics: %d %r" % (st, body[:300]))
    return body.decode("utf-8")


def parse(text):
    """(samples {(name, frozenset(labels)): float}, help {name: text},
    type {name: type})."""
    samples, helps, types = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, h = line[7:].partition(" ")
            helps[name] = h
        elif line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            types[name] = typ
        elif line and not line.startswith("#"):
            m = SAMPLE_RX.match(line)
            if m is None:
                raise AssertionError("not a sample line: %r" % line)
            labels = frozenset(LABEL_RX.findall(m.group(3) or ""))
            samples[(m.group(1), labels)] = float(m.group(4))
    return samples, helps, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def family(sample_name, types):
    """The series a sample belongs to (a histogram's _bucket, _sum and
    _count belong to it)."""
    if sample_name in types:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[:-len(suffix)]
        if sample_name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return None


def promtool_check(t, text):
    exe = shutil.which("promtool")
    if exe is None:
        t.missing_tool("promtool check metrics finds no problem",
                       "promtool not found (Debian: apt-get install "
                       "prometheus; scripts/deps.sh installs it)")
        return
    r = subprocess.run([exe, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    t.ok(r.returncode == 0 and r.stdout.strip() == "" and
         r.stderr.strip() == "", "promtool check metrics finds no problem",
         "rc %d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout,
                                            r.stderr))


def check_table(text):
    rows = table()
    samples, helps, types = parse(text)
    bad = []
    for name, typ in sorted(rows.items()):
        if name not in helps or types.get(name) != typ:
            bad.append("%s: HELP %r TYPE %r, table says %s" % (
                name, helps.get(name), types.get(name), typ))
        if text.count("# TYPE %s " % name) != 1:
            bad.append("%s: TYPE written %d times" % (
                name, text.count("# TYPE %s " % name)))
    for name in sorted(set(types) - set(rows)):
        bad.append("%s: rendered, not in metrics_table.h" % name)
    for sname, _ in samples:
        if family(sname, types) not in rows:
            bad.append("sample %s: no row in metrics_table.h" % sname)
    return not bad and len(rows) > 30, "\n".join(bad) or \
        "%d rows" % len(rows)


def proc_status(pid, field):
    """A "Field: N kB" line of /proc/PID/status, in bytes."""
    with open("/proc/%d/status" % pid, encoding="utf-8") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def check_process(d, samples, launched):
    now = time.time()
    pid = d.proc.pid
    fds = len(os.listdir("/proc/%d/fd" % pid))
    rss = proc_status(pid, "VmRSS")
    v = {k[0]: x for k, x in samples.items() if k[0].startswith("process_")}
    diag = "launched %.1f, scraped by %.1f, /proc: %d fds, VmRSS %d\n%r" % (
        launched, now, fds, rss, v)
    ok = (launched - 2 <= v.get("process_start_time_seconds", 0) <= now and
          0 < v.get("process_resident_memory_bytes", 0) and
          rss / 4 < v["process_resident_memory_bytes"] < rss * 4 and
          v.get("process_virtual_memory_bytes", 0) >=
          v["process_resident_memory_bytes"] and
          0 < v.get("process_open_fds", 0) <= v.get("process_max_fds", 0) and
          abs(v["process_open_fds"] - fds) <= 8 and
          v.get("process_cpu_seconds_total", -1) >= 0)
    return ok, diag


def status(admin):
    """GET /status, parsed strictly (UTF-8, no NaN, no duplicate keys)."""
    st, _, body = s3itest.http_request(admin + "/status")
    if st != 200:
        raise AssertionError("GET /status: %d %r" % (st, body[:300]))

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise AssertionError("duplicate keys %r" % keys)
        return dict(pairs)

    def no_constant(c):
        raise AssertionError("not JSON: %s" % c)
    return json.loads(body.decode("utf-8", errors="strict"),
                      object_pairs_hook=no_dups, parse_constant=no_constant)


STATUS_KEYS = {"paths_pending", "batches_open", "writes_recorded",
               "journal_errors", "month", "journal", "distributions",
               "recent_batches"}
DIST_KEYS = {"id", "paths_pending", "batches_waiting", "batches_in_progress",
             "file_paths_in_progress", "wildcards_in_progress", "paths_month",
             "batches_sent", "batches_retried", "batches_failed",
             "paths_rejected", "keys_unchanged", "needless_evictions",
             "last_rejected", "last_error", "refused_for_s", "gives_up_in_s",
             "paths_given_up", "refused"}
BATCH_KEYS = {"batch", "distribution", "paths", "wildcards",
              "invalidation_id", "state", "created", "completed", "note",
              "first_paths"}


def check_status(doc, dist, want):
    """The keys are all there; the batches whose paths are in want list
    them: min(count, LISTED) each, want in all (more than LISTED paths
    went out in one batch: the quiet period is longer than the gaps
    between the writes, and flush sends them at once)."""
    inv = doc["invalidation"]
    bad = []
    for name, keys, got in [
            ("top", {"version", "uptime_s", "invalidation"}, doc),
            ("invalidation", STATUS_KEYS, inv),
            ("distribution", DIST_KEYS, inv["distributions"][0])] + [
            ("batch", BATCH_KEYS, b) for b in inv["recent_batches"]]:
        if keys - set(got):
            bad.append("%s lacks %s" % (name, sorted(keys - set(got))))
    mine = [b for b in inv["recent_batches"]
            if set(b["first_paths"]) & want]
    seen = set()
    for b in mine:
        seen |= set(b["first_paths"])
        if b["distribution"] != dist or \
                len(b["first_paths"]) != min(b["paths"], LISTED) or \
                b["state"] != "completed" or not b["invalidation_id"]:
            bad.append("batch %r" % {k: v for k, v in b.items()
                                     if k != "first_paths"})
    total = sum(b["paths"] for b in mine)
    if len(want) > LISTED and not any(b["paths"] > LISTED for b in mine):
        bad.append("no batch of more than %d paths: not cut" % LISTED)
    if seen - want or total != len(want) or \
            (len(want) <= LISTED and seen != want):
        bad.append("listed %d of %d paths (%d counted); not asked: %r" % (
            len(seen), len(want), total, sorted(seen - want)[:5]))
    return not bad, "\n".join(bad) + "\n" + json.dumps(
        inv["recent_batches"], indent=1)[:3000]


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    cf, dist = s3itest.moto_distribution(moto_url, "t36")
    conf = s3itest.write_config(
        ws.logdir, verifier.url,
        sections={"bucket " + BUCKET: {"distributions": dist,
                                        "index": "off"}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="2s",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__wildcard_threshold="1000")
    launched = time.time()
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    admin = d.admin_url
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    before = parse(scrape(admin))[0]

    s3 = s3itest.s3_client(d.url)
    for k in KEYS:
        s3.put_object(Bucket=BUCKET, Key=k, Body=BODY)
    got = [s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in KEYS]
    s3.list_objects_v2(Bucket=BUCKET)
    st, flushed = s3itest.admin_flush(admin, wait=60)
    t.ok(st == 200 and flushed and flushed.get("done") and
         got == [BODY] * len(KEYS), "the writes went through and were "
         "invalidated", "flush %s %r" % (st, flushed))

    text = scrape(admin)
    with open(ws.path("metrics.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    promtool_check(t, text)
    t.case("every series is a row of metrics_table.h, and every row is "
           "rendered with its HELP and TYPE", check_table, text)

    after = parse(text)[0]

    def moved(name, want, **labels):
        delta = value(after, name, **labels) - value(before, name, **labels)
        return delta, want(delta)

    n = len(KEYS)
    checks = [
        ("s3inval_requests_total", lambda x: x == n,
         {"op": "PutObject", "status": "2xx"}),
        ("s3inval_requests_total", lambda x: x == n,
         {"op": "GetObject", "status": "2xx"}),
        ("s3inval_request_bytes_total", lambda x: x >= n * len(BODY), {}),
        ("s3inval_response_bytes_total", lambda x: x >= n * len(BODY), {}),
        ("s3inval_upstream_duration_seconds_count",
         lambda x: x >= 2 * n + 1, {}),
        ("s3inval_upstream_connections_total", lambda x: x >= 1, {}),
        ("s3inval_writes_recorded_total", lambda x: x == n, {}),
        ("s3inval_keys_recorded_total", lambda x: x == n, {}),
        ("s3inval_batches_sent_total", lambda x: x >= 1,
         {"distribution": dist}),
        ("s3inval_month_paths", lambda x: x >= n, {"distribution": dist}),
    ]
    bad = []
    for name, want, labels in checks:
        delta, ok = moved(name, want, **labels)
        if not ok:
            bad.append("%s%r moved by %g" % (name, labels, delta))
    t.ok(not bad, "the counters moved with the traffic", "\n".join(bad))
    t.ok(value(after, "s3inval_paths_pending") == 0 and
         value(after, "s3inval_client_connections") >= 0,
         "gauges: nothing pending after the flush, connections not below "
         "zero")
    t.case("process_* are the daemon's own figures", check_process, d,
           after, launched)
    small = s3itest.keys_paths(KEYS)
    t.case("/status parses and lists the paths of the batch that went out",
           lambda: check_status(status(admin), dist, small))

    for k in MANY:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"m")
    st, flushed = s3itest.admin_flush(admin, wait=60)
    many = s3itest.keys_paths(MANY)
    t.ok(st == 200 and flushed and flushed.get("done") and
         many <= s3itest.moto_invalidated_paths(cf, dist),
         "120 more writes were invalidated", "flush %s %r" % (st, flushed))
    t.case("/status lists the first %d paths of a batch of 120, and its "
           "count" % LISTED, lambda: check_status(status(admin), dist, many))
    t.case("the verifier rejected nothing", lambda: (
        verifier.stats()["rejected"] == 0, str(verifier.stats())))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run))
