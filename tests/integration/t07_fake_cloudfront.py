#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t07_fake_cloudfront: the invalidation worker against a CloudFront that
says no (DESIGN §4-§7).  Writes go through s3inval (boto3) to moto behind
the SigV4 verifier, as in t06; CloudFront is tests/fixtures/fake_cloudfront.py,
which checks the daemon's signatures, keeps invalidations InProgress for a
while, enforces the in-progress limits (3,000 file paths, 15 wildcards per
distribution), answers a repeated CallerReference with the invalidation it
has, and injects Throttling, 503 and AccessDenied on demand.

Each scenario has its own distribution ids, so the fake is never reset and
its state at the end holds the whole run: the last checks ask that every
written path was covered by an invalidation created after the write and
that no CallerReference made two invalidations.

Daemons (one config each, started and stopped in turn): "main" (20 calls/s,
exact paths): InProgress and polling, the fake's path rules, Throttling and
503 with backoff, 3,100 exact paths, AccessDenied; "pace" (2 calls/s);
"wild" (wildcard_threshold 2): wildcard capacity, and one wildcard with
3,000 file paths in one deploy (at most 3,000 paths a request); "gate":
CloudFront behind a pass-through in this script that can lose an answer
after the fake created the batch, hold it while the daemon is killed, or
refuse one path as InvalidArgument (the daemon's encoding satisfies every
path rule of the fake, which the "main" daemon shows, so nothing else can
make it bisect); "fresh1"/"fresh2": two empty state directories.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import datetime
    import http.client
    import http.server
    import json
    import math
    import re
    import signal
    import subprocess
    import threading
    import time
    import urllib.parse
    import xml.etree.ElementTree as ET
    from concurrent.futures import ThreadPoolExecutor
    from xml.sax.saxutils import escape as xml_escape
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t07_fake_cloudfront"
BUDGET = 160

D_HAPPY, D_SPECIAL, D_RETRY, D_BULK, D_DENY = (
    "E07HAPPY", "E07SPECIAL", "E07RETRY", "E07BULK", "E07DENY")
D_PACE = ["E07PACE1", "E07PACE2", "E07PACE3", "E07PACE4"]
D_WILD, D_MIX = "E07WILD", "E07MIX"
D_LOST, D_KILL, D_BISECT = "E07LOST", "E07KILL", "E07BISECT"
D_FRESH = "E07FRESH"
ALL_DISTS = [D_HAPPY, D_SPECIAL, D_RETRY, D_BULK, D_DENY] + D_PACE + [
    D_WILD, D_MIX, D_LOST, D_KILL, D_BISECT, D_FRESH]

# Every daemon: small delays so the run is quick (the brief of this test).
CF_BASE = {"quiet_period": "300ms", "max_delay": "5s",
           "poll_interval": "300ms", "retry_base": "200ms",
           "retry_max": "2s", "max_requests_per_second": "20",
           "wildcard_threshold": "100000", "timeout": "10s"}
RETRY_BASE, RETRY_MAX = 0.2, 2.0

cf_encode = s3itest.cf_encode
key_paths = s3itest.key_paths
keys_paths = s3itest.keys_paths


def covers(pattern, path):
    """inval_plan_covers(): exact, or a wildcard's prefix."""
    if pattern == path:
        return True
    return pattern.endswith("*") and path.startswith(pattern[:-1])


def ts(iso):
    """The fake's times ("2026-01-02T03:04:05.678Z", UTC) as epoch s."""
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def dist_of(path):
    m = re.search(r"/distribution/([^/?]+)/invalidation", path or "")
    return m.group(1) if m else None


def invs_of(st, dist):
    return [i for i in st["invalidations"] if i["distribution"] == dist]


def creates_of(st, dist):
    return [c for c in st["creates"] if c["distribution"] == dist]


def requests_of(st, dists):
    return [r for r in st["requests"] if dist_of(r["path"]) in dists]


def flush(admin, wait=30):
    """`s3inval flush --wait=S`: (rc, output, seconds it took, end time)."""
    t0 = time.time()
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=%d" % wait,
                        "--admin", admin], capture_output=True, text=True,
                       timeout=wait + 40)
    t1 = time.time()
    return r.returncode, (r.stdout + r.stderr).strip(), t1 - t0, t1


def dstat(admin, dist):
    s = s3itest.admin_status(admin)["invalidation"]
    for d in s["distributions"]:
        if d["id"] == dist:
            return d, s
    raise AssertionError("/status has no distribution %s: %s" % (
        dist, json.dumps(s)[:600]))


def wait_for(pred, timeout, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def short(obj, n=1500):
    s = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True)
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


def log_lines(proc, *needles):
    return [line for line in proc.log_text().splitlines()
            if all(n in line for n in needles)]


# ---------------------------------------------------------------------------
# the gate: a pass-through to the fake that can misbehave on purpose
# ---------------------------------------------------------------------------

def error_xml(code, message, kind="Sender"):
    """An answer in CloudFront's ErrorResponse shape (as the fake's)."""
    return ('<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.'
            'amazonaws.com/doc/2020-05-31/"><Error><Type>%s</Type><Code>%s'
            "</Code><Message>%s</Message></Error><RequestId>t07gate"
            "</RequestId></ErrorResponse>" % (kind, code, xml_escape(message))
            ).encode()


def parse_batch(body):
    """(CallerReference, [paths]) of an InvalidationBatch, or (None, None)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    ref, paths = None, []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "CallerReference":
            ref = el.text or ""
        elif tag == "Path":
            paths.append(el.text or "")
    return ref, paths


class Gate:
    """Between s3inval and the fake, per distribution: refuse a create
    holding a given path with 400 InvalidArgument (not forwarded); forward
    a create and answer 503 instead of the fake's 201 (the answer is lost
    after CloudFront created the batch); forward a create and hold the
    answer until released (the daemon is killed meanwhile).  Everything
    else is forwarded byte for byte, so the fake checks the daemon's own
    signature (the Host header is the one the daemon signed)."""

    HOP = ("connection", "keep-alive", "proxy-connection",
           "transfer-encoding", "te", "upgrade")

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.lock = threading.Lock()
        self.rules = {}
        self.log = []
        self.held = threading.Event()
        self.release = threading.Event()
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _any(self):
                gate.handle(self)

            do_GET = do_POST = _any

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def rule(self, dist, reject=None, lose=0, hold=0):
        with self.lock:
            self.rules[dist] = {"reject": set(reject or ()), "lose": lose,
                                "hold": hold}

    def creates(self, dist):
        with self.lock:
            return [dict(r) for r in self.log if r["dist"] == dist
                    and r["create"]]

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()

    def forward(self, h, body):
        c = http.client.HTTPConnection(self.upstream.hostname,
                                       self.upstream.port, timeout=30)
        try:
            c.putrequest(h.command, h.path, skip_host=True,
                         skip_accept_encoding=True)
            for k, v in h.headers.items():
                if k.lower() not in self.HOP:
                    c.putheader(k, v)
            c.endheaders(body if body else None)
            r = c.getresponse()
            data = r.read()
            keep = [(k, v) for k, v in r.getheaders()
                    if k.lower() in ("content-type", "location",
                                     "x-amzn-requestid")]
            return r.status, data, keep
        finally:
            c.close()

    def handle(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n > 0 else b""
        m = re.search(r"/distribution/([^/?]+)/invalidation(/[^/?]+)?$",
                      urllib.parse.urlsplit(h.path).path)
        dist = m.group(1) if m else None
        create = h.command == "POST" and m is not None and not m.group(2)
        ref, paths = parse_batch(body) if create else (None, None)
        rec = {"time": time.time(), "dist": dist, "create": create,
               "method": h.command, "ref": ref, "paths": paths,
               "action": "forward", "status": None}
        with self.lock:
            self.log.append(rec)
            rule = self.rules.get(dist)
            bad = [p for p in paths or () if rule and p in rule["reject"]]
            if create and bad:
                rec["action"] = "reject"
            elif create and rule and rule["lose"] > 0:
                rule["lose"] -= 1
                rec["action"] = "lose"
            elif create and rule and rule["hold"] > 0:
                rule["hold"] -= 1
                rec["action"] = "hold"
        try:
            if rec["action"] == "reject":
                status, data, hdrs = 400, error_xml(
                    "InvalidArgument", "Your request contains one or more "
                    "invalid invalidation paths: %r is refused by the t07 "
                    "gate." % bad[0]), [("Content-Type", "text/xml")]
            else:
                status, data, hdrs = self.forward(h, body)
                rec["upstream_status"] = status
                if rec["action"] == "lose":
                    status, data, hdrs = 503, error_xml(
                        "ServiceUnavailable", "t07 gate: the answer was "
                        "lost", "Receiver"), [("Content-Type", "text/xml")]
                elif rec["action"] == "hold":
                    self.held.set()
                    self.release.wait(30)
        except Exception as e:
            status, data, hdrs = 502, error_xml(
                "InternalError", "t07 gate: %r" % e, "Receiver"), []
        rec["status"] = status
        try:
            h.send_response(status)
            for k, v in hdrs:
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except OSError:
            rec["status"] = "client gone (%s)" % status


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------

class Ctx:
    """What the scenarios share: the stack, the daemons and a ledger of
    every write: (distribution, expected path, time sent, key)."""

    def __init__(self, t, ws):
        self.t = t
        self.ws = ws
        self.ledger = []
        self.not_delivered = set()     # (dist, path) refused on purpose
        self.exits = []                 # (daemon name, exit status)
        self.daemons = []

    def daemon(self, name, buckets, endpoint, conf=None, **cf):
        """Start s3inval "name" with {bucket: [dists]}; returns it with
        .admin, .s3 and .conf.  conf: restart on that config."""
        if conf is None:
            d = os.path.join(self.ws.logdir, name)
            os.makedirs(d, exist_ok=True)
            opts = dict(CF_BASE)
            opts.update({k: str(v) for k, v in cf.items()})
            opts["endpoint"] = endpoint
            conf = s3itest.write_config(
                d, self.verifier.url,
                sections={"bucket " + b: {"distributions": ", ".join(ds),
                                          "index": "off"}
                          for b, ds in buckets.items()},
                **{"cloudfront__" + k: v for k, v in opts.items()})
            direct = s3itest.moto_client(self.moto_url)
            have = {b["Name"] for b in direct.list_buckets()["Buckets"]}
            for b in buckets:
                if b not in have:
                    direct.create_bucket(Bucket=b)
        p = s3itest.start_s3inval(conf, None, os.path.dirname(conf),
                                  name=name)
        p.conf = conf
        p.s3 = s3itest.s3_client(p.url)
        p.admin = p.admin_url
        p.buckets = buckets
        self.daemons.append(p)
        return p

    def stop(self, p):
        rc = s3itest.stop(p)
        self.exits.append((p.name, rc))
        return rc

    def put(self, p, bucket, keys, body=b"t07"):
        """PutObject of every key through daemon p (8 threads); they go
        in the ledger for every distribution of the bucket."""
        t0 = time.time()

        def one(k):
            p.s3.put_object(Bucket=bucket, Key=k, Body=body)
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, keys))
        self.record(p.buckets[bucket], keys, t0)
        return t0

    def record(self, dists, keys, t0):
        for d in dists:
            for k in keys:
                for path in key_paths(k):
                    self.ledger.append((d, path, t0, k))


def run(t, ws):
    cx = Ctx(t, ws)
    moto, cx.moto_url = s3itest.start_moto(ws.logdir)
    cx.verifier = s3itest.start_verifier(ws.logdir, cx.moto_url)
    cx.fake = s3itest.start_fake_cloudfront(ws.logdir, ALL_DISTS,
                                            complete_after_ms=1000)
    t0 = time.time()
    t.section(sec_main, cx)
    t.section(sec_pace, cx)
    t.section(sec_wild, cx)
    t.section(sec_gate, cx)
    t.section(sec_fresh, cx)
    t.section(sec_final, cx)
    t.diag("scenarios took %.1fs" % (time.time() - t0))


# --- "main": InProgress, path rules, retries, 3,100 paths, AccessDenied ----

def sec_main(cx):
    t, fake = cx.t, cx.fake
    buckets = {"t07-happy": [D_HAPPY], "t07-special": [D_SPECIAL],
               "t07-retry": [D_RETRY], "t07-bulk": [D_BULK],
               "t07-deny": [D_DENY]}
    dm = cx.daemon("main", buckets, fake.url)
    happy = {}

    # 1. One batch, InProgress for 1.5 s, polled until Completed.
    def in_progress():
        fake.configure(complete_after_ms=1500)
        keys = ["happy/page%d.html" % i for i in range(6)] + [
            "happy/index.html"]
        want = keys_paths(keys)
        cx.put(dm, "t07-happy", keys)
        rc, out, took, t_end = flush(dm.admin, 30)
        st = fake.state()
        invs, creates = invs_of(st, D_HAPPY), creates_of(st, D_HAPPY)
        diag = "flush rc %d in %.2fs: %s\ninvalidations %s\ncreates %s" % (
            rc, took, out, short(invs), short(creates))
        if rc != 0 or '"done":true' not in out:
            return False, "flush --wait did not complete\n" + diag
        if len(invs) != 1 or len(creates) != 1 or creates[0]["status"] != 201:
            return False, "want one create and one invalidation\n" + diag
        inv = invs[0]
        happy["inv"] = inv
        if set(inv["paths"]) != want or len(inv["paths"]) != len(want):
            return False, "paths: want %s\n%s" % (sorted(want), diag)
        if inv["status"] != "Completed":
            return False, "the fake says %s\n%s" % (inv["status"], diag)
        created, completed = ts(inv["create_time"]), ts(inv["complete_time"])
        polls = [r for r in st["requests"] if r["method"] == "GET"
                 and inv["id"] in r["path"]]
        before = [r for r in polls if ts(r["time"]) < completed]
        after = [r for r in polls if ts(r["time"]) >= completed]
        diag += "\nInProgress %.2fs; %d polls (%d before Completed), " \
            "flush ended %.3fs after Completed" % (
                completed - created, len(polls), len(before),
                t_end - completed)
        if t_end < completed - 0.002:
            return False, "flush --wait returned before the fake said " \
                "Completed\n" + diag
        if not before or not after:
            return False, "want polls while InProgress and one that saw " \
                "Completed\n" + diag
        if len(polls) > 1.5 / 0.3 + 4:
            return False, "more polls than poll_interval allows\n" + diag
        return True, diag
    t.case("InProgress 1.5 s: one batch of 8 paths created once, polled "
           "every 300ms, flush --wait returns only after Completed",
           in_progress)

    # 2. /status agrees.
    def status_done():
        d, s = dstat(dm.admin, D_HAPPY)
        inv = happy.get("inv") or {}
        rec = [r for r in s["recent_batches"]
               if r["invalidation_id"] == inv.get("id")]
        ok = (d["batches_in_progress"] == 0 and d["batches_waiting"] == 0
              and d["file_paths_in_progress"] == 0
              and d["wildcards_in_progress"] == 0 and d["batches_sent"] == 1
              and d["batches_failed"] == 0 and d["last_error"] == ""
              and len(rec) == 1 and rec[0]["state"] == "completed"
              and rec[0]["paths"] == len(inv.get("paths", [])))
        return ok, "distribution %s\nrecent %s" % (short(d), short(rec))
    t.case("/status: that batch completed with the fake's id, nothing in "
           "progress or waiting", status_done)

    # 3. The daemon's paths never break a path rule of the fake.
    def path_rules():
        fake.configure(complete_after_ms=300)
        before = fake.state()["counts"]["invalid_batches"]
        names = s3itest.SPECIAL_NAMES + [
            "q?x=1.txt", "hash#frag.txt", "brace{}.txt", "caret^`|.txt",
            "lt<gt>.txt", 'dq".txt', "back\\slash.txt", "sq[1].txt",
            "tab\there.txt", "del\x7f.txt", "dir with space/index.html",
            "long/" + "\u00e9" * 480 + ".txt"]
        keys = ["special/" + n for n in names]
        want = keys_paths(keys)
        cx.put(dm, "t07-special", keys)
        rc, out, took, _ = flush(dm.admin, 30)
        st = fake.state()
        got = set(p for i in invs_of(st, D_SPECIAL) for p in i["paths"])
        refused = [c for c in creates_of(st, D_SPECIAL) if c["status"] != 201]
        ok = (rc == 0 and got == want and not refused
              and st["counts"]["invalid_batches"] == before)
        return ok, "flush rc %d: %s\nmissing %s\nunexpected %s\nrefused %s" \
            % (rc, out, sorted(want - got)[:10], sorted(got - want)[:10],
               short(refused))
    t.case("keys with space, %, *, ?, #, tab, DEL, non-ASCII, 1,000-byte "
           "names: every path passes the fake's rules, exactly as encoded",
           path_rules)

    # 4-5. Throttling x3 then 503 x2.
    retry = {}

    def throttled():
        fake.configure(complete_after_ms=300, throttle_next=3,
                       fail_503_next=2)
        keys = ["retry/a.html", "retry/b.css", "retry/c.js"]
        want = keys_paths(keys)
        cx.put(dm, "t07-retry", keys)
        rc, out, took, _ = flush(dm.admin, 30)
        st = fake.state()
        creates, invs = creates_of(st, D_RETRY), invs_of(st, D_RETRY)
        retry["creates"] = creates
        d, _ = dstat(dm.admin, D_RETRY)
        retry["status"] = d
        codes = [c["code"] for c in creates]
        refs = {c["caller_reference"] for c in creates}
        same_paths = {tuple(sorted(c["paths"] or [])) for c in creates}
        diag = "flush rc %d in %.2fs: %s\ncodes %s\nrefs %s\n" \
            "invalidations %s\n/status %s" % (rc, took, out, codes, refs,
                                              short(invs), short(d))
        ok = (rc == 0 and codes == ["Throttling"] * 3 +
              ["ServiceUnavailable"] * 2 + [None]
              and len(refs) == 1 and same_paths == {tuple(sorted(want))}
              and len(invs) == 1 and set(invs[0]["paths"]) == want
              and d["batches_retried"] == 5)
        return ok, diag
    t.case("Throttling x3 then 503 x2: six attempts with one "
           "CallerReference, one invalidation, /status batches_retried 5",
           throttled)

    def backoff():
        creates = retry.get("creates") or []
        if len(creates) != 6:
            return False, "needs the six attempts of the case before"
        times = [ts(c["time"]) for c in creates]
        gaps = [b - a for a, b in zip(times, times[1:])]
        rows, ok = [], True
        for i, g in enumerate(gaps, 1):
            d = min(RETRY_BASE * 2 ** (i - 1), RETRY_MAX)
            lo, hi = max(0.09, d / 2 - 0.01), d + 0.5
            good = lo <= g <= hi
            ok &= good
            rows.append("retry %d: gap %.3fs, backoff window [%.2f, %.2f]"
                        "%s" % (i, g, d / 2, d, "" if good else "  <-- out"))
        total = times[-1] - times[0]
        limit = sum(min(RETRY_BASE * 2 ** i, RETRY_MAX) for i in range(5))
        ok &= total <= limit + 1.0
        logged = [int(m.group(1)) for m in (
            re.search(r"retry_in_ms=(-?\d+)", line)
            for line in log_lines(dm, "invalidation_retry", D_RETRY)) if m]
        bad_log = [(i + 1, ms) for i, ms in enumerate(logged)
                   if not (min(RETRY_BASE * 2 ** i, RETRY_MAX) * 500 - 5
                           <= ms <= min(RETRY_BASE * 2 ** i, RETRY_MAX)
                           * 1000 + 5)]
        ok &= len(logged) == 5 and not bad_log
        return ok, "\n".join(rows) + "\ntotal %.2fs (at most %.1fs + 1s)" \
            "\nlogged retry_in_ms %s, outside [d/2, d]: %s" % (
                total, limit, logged, bad_log)
    t.case("retry gaps follow the backoff: 200ms doubling to 2s, jitter "
           "in [d/2, d], five invalidation_retry log lines", backoff)

    # 6. 3,100 exact paths: more than may be in progress at once.
    def bulk():
        fake.configure(complete_after_ms=1500)
        keys = ["bulk/k%04d.html" % i for i in range(3100)]
        chunks = [keys[i:i + 1000] for i in range(0, len(keys), 1000)]
        t0 = time.time()

        def delete(chunk):
            r = dm.s3.delete_objects(Bucket="t07-bulk", Delete={
                "Objects": [{"Key": k} for k in chunk], "Quiet": False})
            return [x["Key"] for x in r.get("Deleted", [])]
        with ThreadPoolExecutor(4) as ex:
            deleted = [k for part in ex.map(delete, chunks) for k in part]
        cx.record([D_BULK], deleted, t0)
        if sorted(deleted) != keys:
            return False, "DeleteObjects listed %d of %d keys as Deleted" % (
                len(deleted), len(keys))
        want = keys_paths(keys)
        rc, out, took, _ = flush(dm.admin, 60)
        st = fake.state()
        invs = sorted(invs_of(st, D_BULK), key=lambda i: ts(i["create_time"]))
        creates = creates_of(st, D_BULK)
        got = [p for i in invs for p in i["paths"]]
        rows, worst, waited = [], 0, False
        for j, inv in enumerate(invs):
            c = ts(inv["create_time"])
            running = [i for i in invs[:j]
                       if ts(i["complete_time"] or "9999-01-01T00:00:00.000Z")
                       > c]
            busy = sum(len(i["paths"]) for i in running) + len(inv["paths"])
            worst = max(worst, busy)
            if j > 0 and len(running) < j:
                waited = True
            rows.append("%s: %d paths, created %.2fs, completed %s, %d file "
                        "paths in progress with it" % (
                            inv["id"], len(inv["paths"]), c - t0,
                            inv["complete_time"], busy))
        limited = [c for c in creates
                   if c["code"] == "TooManyInvalidationsInProgress"]
        d, _ = dstat(dm.admin, D_BULK)
        diag = "flush rc %d in %.1fs: %s\n%s\nrefused for capacity: %d\n" \
            "/status %s" % (rc, took, out, "\n".join(rows), len(limited),
                            short(d))
        ok = (rc == 0 and set(got) == want and len(got) == len(want)
              and len(invs) >= 2 and all(len(i["paths"]) <= 3000
                                         for i in invs)
              and worst <= 3000 and waited and not limited
              and d["file_paths_in_progress"] == 0)
        return ok, diag
    t.case("3,100 exact paths (DeleteObjects x4): batches of <= 3,000, the "
           "rest created only after one Completed, never refused for "
           "capacity", bulk)

    # 7-8. AccessDenied, then allowed.
    def denied():
        fake.configure(complete_after_ms=300, access_denied=True)
        keys = ["deny/x.html", "deny/y.html"]
        cx.put(dm, "t07-deny", keys)
        rc, out, took, _ = flush(dm.admin, 3)
        st = fake.state()
        d, _ = dstat(dm.admin, D_DENY)
        tries = creates_of(st, D_DENY)
        diag = "flush --wait=3: rc %d in %.1fs: %s\n/status %s\ncreates %s" \
            % (rc, took, out, short(d), short(tries))
        ok = (rc != 0 and '"done":false' in out
              and d["batches_failed"] >= 1
              and "AccessDenied" in d["last_error"]
              and d["batches_waiting"] >= 1 and not invs_of(st, D_DENY)
              and tries and all(c["code"] == "AccessDenied" for c in tries)
              and len(tries) <= 3 / RETRY_MAX + 2)
        return ok, diag
    t.case("AccessDenied: the batch stays pending: flush --wait=3 not done, "
           "/status batches_failed and last_error AccessDenied, retried "
           "slowly", denied)

    def allowed():
        fake.configure(access_denied=False)
        rc, out, took, _ = flush(dm.admin, 20)
        st = fake.state()
        d, _ = dstat(dm.admin, D_DENY)
        invs = invs_of(st, D_DENY)
        want = keys_paths(["deny/x.html", "deny/y.html"])
        ok = (rc == 0 and len(invs) == 1 and set(invs[0]["paths"]) == want
              and took <= RETRY_MAX + 3 and d["batches_waiting"] == 0
              and d["batches_in_progress"] == 0)
        return ok, "flush rc %d in %.1fs: %s\ninvalidations %s\n/status %s" \
            % (rc, took, out, short(invs), short(d))
    t.case("AccessDenied lifted: the pending batch is delivered within "
           "retry_max (2s)", allowed)
    cx.stop(dm)


# --- "pace": max_requests_per_second = 2 -----------------------------------

def sec_pace(cx):
    t, fake = cx.t, cx.fake
    dm = cx.daemon("pace", {"t07-pace": D_PACE}, fake.url,
                   max_requests_per_second=2)

    def paced():
        fake.configure(complete_after_ms=800)
        keys = ["pace/a.html", "pace/b.html"]
        cx.put(dm, "t07-pace", keys)
        rc, out, took, _ = flush(dm.admin, 40)
        st = fake.state()
        reqs = requests_of(st, D_PACE)
        times = [ts(r["time"]) for r in reqs]
        gaps = [b - a for a, b in zip(times, times[1:])]
        invs = [i for d in D_PACE for i in invs_of(st, d)]
        rows = ["%s %s %s %s" % (r["time"], r["method"], r["path"],
                                 r["status"]) for r in reqs]
        diag = "flush rc %d in %.1fs: %s\n%d calls, gaps %s\n%s" % (
            rc, took, out, len(reqs), ["%.3f" % g for g in gaps],
            "\n".join(rows))
        ok = (rc == 0 and len(invs) == 4 and len(reqs) >= 8
              and all(g >= 0.45 for g in gaps)
              and all(r["status"] in (200, 201) for r in reqs))
        return ok, diag
    t.case("max_requests_per_second 2: four distributions' creates and "
           "polls, consecutive CloudFront calls >= 0.45 s apart", paced)
    cx.stop(dm)


# --- "wild": wildcard capacity ---------------------------------------------

def sec_wild(cx):
    t, fake = cx.t, cx.fake
    dm = cx.daemon("wild", {"t07-wild": [D_WILD], "t07-mix": [D_MIX]},
                   fake.url, wildcard_threshold=2)
    fake.configure(complete_after_ms=600000)    # completed on demand
    shared = {}

    def new_invs(n_known, n_more, timeout=10):
        return wait_for(lambda: (lambda i: i if len(i) >= n_known + n_more
                                 else None)(invs_of(fake.state(), D_WILD)),
                        timeout, 0.1)

    def nwild(inv):
        return sum(1 for p in inv["paths"] if p.endswith("*"))

    def sixteen():
        keys = ["p%02d/f/%s.html" % (i, x) for i in range(16) for x in "ab"]
        want = keys_paths(keys)
        cx.put(dm, "t07-wild", keys)
        s3itest.admin_flush(dm.admin, 0)
        invs = new_invs(0, 1)
        if not invs:
            return False, "no invalidation within 10s: %s" % short(
                fake.state()["creates"][-3:])
        time.sleep(0.5)         # anything else the daemon would send
        st = fake.state()
        invs = invs_of(st, D_WILD)
        prog = st["in_progress"].get(D_WILD, {})
        uncovered = [p for p in want
                     if not any(covers(q, p) for i in invs
                                for q in i["paths"])]
        diag = "invalidations %s\nin progress %s\nuncovered %s" % (
            short([i["paths"] for i in invs]), prog, uncovered[:10])
        ok = (all(nwild(i) <= 15 for i in invs) and not uncovered
              and prog.get("wildcard_paths", 0) <= 15
              and all(c["status"] == 201 for c in creates_of(st, D_WILD)))
        fake.complete()
        rc, out, _, _ = flush(dm.admin, 10)
        shared["n"] = len(invs_of(fake.state(), D_WILD))
        return ok and rc == 0, diag + "\nflush rc %d: %s" % (rc, out)
    t.case("16 folders of 2 files (threshold 2) in one deploy: the plan "
           "keeps <= 15 wildcards and covers every path", sixteen)

    def second_waits():
        n0 = shared.get("n", len(invs_of(fake.state(), D_WILD)))
        keys_a = ["q%02d/f/%s.html" % (i, x) for i in range(10) for x in "ab"]
        cx.put(dm, "t07-wild", keys_a)
        s3itest.admin_flush(dm.admin, 0)
        invs = new_invs(n0, 1)
        if not invs:
            return False, "deploy A not created within 10s"
        a = invs[n0]
        shared["a"] = a
        keys_b = ["q%02d/f/%s.html" % (i, x) for i in range(10, 18)
                  for x in "ab"]
        cx.put(dm, "t07-wild", keys_b)
        s3itest.admin_flush(dm.admin, 0)
        peak, samples = 0, 0
        end = time.time() + 1.5
        while time.time() < end:
            d, _ = dstat(dm.admin, D_WILD)
            peak = max(peak, d["wildcards_in_progress"])
            samples += 1
            time.sleep(0.1)
        st = fake.state()
        d, _ = dstat(dm.admin, D_WILD)
        invs = invs_of(st, D_WILD)
        limited = [c for c in creates_of(st, D_WILD)
                   if c["code"] == "TooManyInvalidationsInProgress"]
        diag = "A: %d wildcards (%s)\ninvalidations now %d (before A %d)\n" \
            "/status %s\npeak wildcards_in_progress %d over %d samples\n" \
            "refused for capacity %d" % (nwild(a), a["id"], len(invs), n0,
                                         short(d), peak, samples,
                                         len(limited))
        ok = (nwild(a) == 10 and len(invs) == n0 + 1 and peak <= 15
              and d["wildcards_in_progress"] == 10
              and d["batches_waiting"] == 1 and not limited)
        return ok, diag
    t.case("wildcard capacity: 10 wildcards in progress, a deploy of 8 "
           "more waits (18 > 15) without asking CloudFront", second_waits)

    def after_complete():
        a = shared.get("a")
        if a is None:
            return False, "needs deploy A of the case before"
        n_a = len(invs_of(fake.state(), D_WILD))
        fake.complete(a["id"])
        invs = new_invs(n_a, 1)
        st = fake.state()
        if not invs:
            return False, "deploy B not created within 10s of A's " \
                "completion; /status %s" % short(dstat(dm.admin, D_WILD)[0])
        a_done = ts([i for i in invs if i["id"] == a["id"]][0][
            "complete_time"])
        b = invs[n_a]
        limited = [c for c in creates_of(st, D_WILD)
                   if c["code"] == "TooManyInvalidationsInProgress"]
        fake.complete()
        rc, out, _, _ = flush(dm.admin, 10)
        diag = "B %s: %d wildcards, created %.3fs after A completed\n" \
            "refused for capacity %d\nflush rc %d: %s" % (
                b["id"], nwild(b), ts(b["create_time"]) - a_done,
                len(limited), rc, out)
        ok = (nwild(b) == 8 and ts(b["create_time"]) >= a_done - 0.002
              and not limited and rc == 0)
        return ok, diag
    t.case("... and is created once A Completed (never refused "
           "TooManyInvalidationsInProgress)", after_complete)

    # 3,000 file paths and one wildcard in one deploy: CloudFront takes
    # at most 3,000 paths a request (the fake: 413 BatchTooLarge).
    def mixed():
        fake.configure(complete_after_ms=1000)
        keys = ["m%04d/x.html" % i for i in range(3000)] + [
            "mw/a.html", "mw/b.html"]
        want = keys_paths(keys)
        t0 = time.time()

        def delete(chunk):
            r = dm.s3.delete_objects(Bucket="t07-mix", Delete={
                "Objects": [{"Key": k} for k in chunk], "Quiet": False})
            return [x["Key"] for x in r.get("Deleted", [])]
        with ThreadPoolExecutor(4) as ex:
            deleted = [k for part in ex.map(delete, [
                keys[i:i + 1000] for i in range(0, len(keys), 1000)])
                for k in part]
        cx.record([D_MIX], deleted, t0)
        rc, out, took, _ = flush(dm.admin, 30)
        st = fake.state()
        creates, invs = creates_of(st, D_MIX), invs_of(st, D_MIX)
        rows = ["%d paths (%d wildcards) -> %s %s" % (
            len(c["paths"] or []), sum(1 for p in c["paths"] or []
                                       if p.endswith("*")),
            c["status"], c["code"] or "") for c in creates]
        uncovered = [p for p in want if not any(
            covers(q, p) for i in invs for q in i["paths"])]
        too_big = [c for c in creates if len(c["paths"] or []) > 3000]
        warned = log_lines(dm, "splitting it to find the bad paths", D_MIX)
        ok = (rc == 0 and len(deleted) == len(keys) and not uncovered
              and not too_big)
        return ok, "flush rc %d in %.1fs: %s\ncreates:\n%s\nuncovered " \
            "%d\nlog: %s" % (rc, took, out, "\n".join(rows),
                             len(uncovered), warned)
    t.case("1 wildcard + 3,000 file paths in one deploy: every path "
           "delivered, no request over 3,000 paths (BatchTooLarge)", mixed)
    cx.stop(dm)


# --- "gate": lost answer, kill -9 in flight, InvalidArgument ---------------

def sec_gate(cx):
    t, fake = cx.t, cx.fake
    gate = Gate(fake.url)
    buckets = {"t07-lost": [D_LOST], "t07-kill": [D_KILL],
               "t07-bisect": [D_BISECT]}
    dm = cx.daemon("gate", buckets, gate.url)
    fake.configure(complete_after_ms=300)
    try:
        _sec_gate(cx, t, fake, gate, dm)
    finally:
        gate.close()


def _sec_gate(cx, t, fake, gate, dm):
    # 13. The fake created the batch, the answer never came back.
    def lost():
        gate.rule(D_LOST, lose=1)
        idem0 = fake.state()["counts"]["idempotent"]
        keys = ["lost/a.html", "lost/b.html"]
        want = keys_paths(keys)
        cx.put(dm, "t07-lost", keys)
        rc, out, took, _ = flush(dm.admin, 20)
        st = fake.state()
        creates, invs = creates_of(st, D_LOST), invs_of(st, D_LOST)
        seen = [(c["action"], c["status"]) for c in gate.creates(D_LOST)]
        refs = {c["caller_reference"] for c in creates}
        ok = (rc == 0 and len(creates) == 2 and len(refs) == 1
              and all(c["status"] == 201 for c in creates)
              and len(invs) == 1 and set(invs[0]["paths"]) == want
              and creates[1]["id"] == invs[0]["id"]
              and st["counts"]["idempotent"] == idem0 + 1
              and seen[:1] == [("lose", 503)])
        return ok, "flush rc %d: %s\ngate %s\nfake creates %s\n" \
            "invalidations %s" % (rc, out, seen, short(creates), short(invs))
    t.case("answer lost after the fake created the batch: the retry reuses "
           "the CallerReference, the fake returns the same invalidation",
           lost)

    # 14. kill -9 while the create is in flight, restart on the journal.
    def killed():
        gate.rule(D_KILL, hold=1)
        keys = ["kill/a.html", "kill/b.html", "kill/index.html"]
        want = keys_paths(keys)
        cx.put(dm, "t07-kill", keys)
        s3itest.admin_flush(dm.admin, 0)
        if not gate.held.wait(10):
            return False, "the create never reached the gate"
        made = invs_of(fake.state(), D_KILL)
        os.kill(dm.pid, signal.SIGKILL)
        dm.proc.wait(10)
        s3itest.stop(dm)
        gate.release.set()
        d2 = cx.daemon("gate-restarted", dm.buckets, None, conf=dm.conf)
        shared_gate["d"] = d2
        rc, out, took, _ = flush(d2.admin, 20)
        st = fake.state()
        creates, invs = creates_of(st, D_KILL), invs_of(st, D_KILL)
        refs = {c["caller_reference"] for c in creates}
        resumed = log_lines(d2, "unfinished batch")
        ok = (len(made) == 1 and rc == 0 and len(creates) == 2
              and len(refs) == 1 and len(invs) == 1
              and all(c["status"] == 201 for c in creates)
              and set(invs[0]["paths"]) == want
              and invs[0]["status"] == "Completed" and resumed)
        return ok, "created before the kill: %d\nflush after restart rc " \
            "%d in %.1fs: %s\nfake creates %s\ninvalidations %s\nresumed " \
            "log: %s" % (len(made), rc, took, out, short(creates),
                         short(invs), resumed)
    shared_gate = {}
    t.case("kill -9 while CloudFront answers the create: the restarted "
           "daemon resends the journaled batch with its CallerReference, "
           "one invalidation", killed)
    d = shared_gate.get("d")
    if d is None:       # the restart failed: start one for what follows
        if dm.alive():
            cx.stop(dm)
        d = cx.daemon("gate-restarted", dm.buckets, None, conf=dm.conf)

    # 15-16. One path refused as InvalidArgument among nine.
    bad = "/bisect/e.html"
    keys = ["bisect/%s.html" % c for c in "abcdefghi"]
    want = keys_paths(keys)
    cx.not_delivered.add((D_BISECT, bad))

    def bisected():
        gate.rule(D_BISECT, reject=[bad])
        cx.put(d, "t07-bisect", keys)
        rc, out, took, _ = flush(d.admin, 30)
        st = fake.state()
        calls = gate.creates(D_BISECT)
        invs = invs_of(st, D_BISECT)
        got = [p for i in invs for p in i["paths"]]
        n = len(want)
        lo, hi = 2 * math.floor(math.log2(n)) + 1, \
            2 * math.ceil(math.log2(n)) + 1
        rows = ["%d paths -> %s %s" % (len(c["paths"] or []), c["action"],
                                       c["status"]) for c in calls]
        ok = (rc == 0 and sorted(got) == sorted(want - {bad})
              and lo <= len(calls) <= hi
              and sum(1 for c in calls if c["action"] == "reject"
                      and c["paths"] == [bad]) == 1)
        return ok, "flush rc %d: %s\n%d create calls (want %d..%d for " \
            "n=%d):\n%s\ndelivered %s" % (rc, out, len(calls), lo, hi, n,
                                          "\n".join(rows), sorted(got))
    t.case("InvalidArgument for 1 path of 9: bisected, the 8 good paths "
           "invalidated once each, 2*log2(n)+1 create calls", bisected)

    def reported():
        ds, s = dstat(d.admin, D_BISECT)
        rejected = log_lines(d, "invalidation_rejected", bad)
        notes = [r for r in s["recent_batches"]
                 if r["distribution"] == D_BISECT]
        ok = (ds["paths_rejected"] == 1 and bad in ds["last_error"]
              and len(rejected) == 1)
        return ok, "/status %s\nrejected log lines %s\nrecent batches %s" % (
            short(ds), rejected, short(notes))
    t.case("InvalidArgument: /status paths_rejected 1, last_error names the "
           "path, one invalidation_rejected log line", reported)
    cx.stop(d)


# --- "fresh1"/"fresh2": CallerReferences of two empty state dirs -----------

def sec_fresh(cx):
    t, fake = cx.t, cx.fake
    fake.configure(complete_after_ms=300)

    def fresh():
        out = []
        for name, body in (("fresh1", b"version 1"), ("fresh2", b"version 2")):
            dm = cx.daemon(name, {"t07-fresh": [D_FRESH]}, fake.url)
            t0 = cx.put(dm, "t07-fresh", ["index.html"], body=body)
            rc, text, _, _ = flush(dm.admin, 20)
            out.append((name, t0, rc, text, log_lines(
                dm, "event=invalidation ", D_FRESH)))
            cx.stop(dm)
        st = fake.state()
        invs = invs_of(st, D_FRESH)
        creates = creates_of(st, D_FRESH)
        t2 = out[1][1]
        after = [i for i in invs if ts(i["create_time"]) >= t2 - 0.002]
        ok = (all(o[2] == 0 for o in out) and len(invs) == 2
              and len({i["caller_reference"] for i in invs}) == 2
              and len(after) == 1)
        return ok, "runs %s\nfake creates %s\ninvalidations %s\n" \
            "created after the second write: %d" % (
                short([(o[0], o[2], o[3], o[4]) for o in out]),
                short([(c["caller_reference"], c["status"], c["id"])
                       for c in creates]),
                short([(i["id"], i["caller_reference"], i["create_time"])
                       for i in invs]), len(after))
    t.case("two daemons with empty state dirs write index.html: two "
           "CallerReferences, two invalidations (no silent reuse)", fresh)


# --- the whole run ---------------------------------------------------------

def sec_final(cx):
    t, fake = cx.t, cx.fake
    st = fake.state()
    by_dist = {}
    for inv in st["invalidations"]:
        by_dist.setdefault(inv["distribution"], []).append(inv)

    def all_covered():
        missing = []
        for dist, path, t0, key in cx.ledger:
            if (dist, path) in cx.not_delivered:
                continue
            if not any(ts(i["create_time"]) >= t0 - 0.002 and
                       any(covers(q, path) for q in i["paths"])
                       for i in by_dist.get(dist, [])):
                missing.append((dist, path[:80], key[:60]))
        return not missing and cx.ledger, "%d (distribution, path) writes " \
            "in the ledger; not covered by an invalidation created after " \
            "the write: %d, e.g. %s" % (len(cx.ledger), len(missing),
                                        missing[:8])
    t.check("every written path is covered (exact or wildcard) by an "
            "invalidation created after the write", all_covered)

    def unique_refs():
        refs, sent = {}, {}
        for inv in st["invalidations"]:
            refs.setdefault((inv["distribution"], inv["caller_reference"]),
                            []).append(inv["id"])
        for c in st["creates"]:
            if c["paths"] is not None:
                sent.setdefault((c["distribution"], c["caller_reference"]),
                                set()).add(tuple(sorted(c["paths"])))
        dup = {k: v for k, v in refs.items() if len(v) > 1}
        varied = {k: len(v) for k, v in sent.items() if len(v) > 1}
        ok = (not dup and not varied and st["counts"]["conflicts"] == 0
              and len(refs) == len(st["invalidations"]))
        return ok, "%d invalidations, %d references, %d creates (%d " \
            "answered with an existing invalidation)\nduplicates %s\n" \
            "references sent with different paths %s" % (
                len(st["invalidations"]), len(refs), len(st["creates"]),
                st["counts"]["idempotent"], dup, varied)
    t.check("no CallerReference made two invalidations or carried two "
            "different batches", unique_refs)

    def clean():
        c = st["counts"]
        v = cx.verifier.stats()
        ok = (c["signature_rejected"] == 0 and c["no_such_distribution"] == 0
              and v["seen"] > 0 and v["rejected"] == 0)
        return ok, "fake counts %s\nverifier %s" % (json.dumps(c),
                                                    json.dumps(v))
    t.check("every CloudFront call was signed correctly (fake) and every "
            "upstream S3 request too (verifier)", clean)

    def exits():
        for p in list(cx.daemons):
            if p.alive():
                cx.stop(p)
        bad = [(n, rc) for n, rc in cx.exits if rc != 0 and n != "gate"]
        return not bad and cx.exits, "exit statuses %s (gate: killed " \
            "on purpose)" % cx.exits
    t.check("every daemon exited 0 on SIGTERM", exits)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=BUDGET))
