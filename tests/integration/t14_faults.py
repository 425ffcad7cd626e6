#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t14_faults: what a client sees when the upstream or CloudFront misbehave,
and that no acknowledged write is left uninvalidated (DESIGN §1, §4, §7).

    boto3 / raw HTTP --> s3inval --> bad_upstream --> sigv4_verifier --> moto
                            |
                            +--> fake_cloudfront (stopped and restarted)

The upstream is tests/fixtures/bad_upstream.py: a raw-socket HTTP/1.1
server that, per request (a "fault-MODE" segment in the key, or a control
rule), closes the connection mid response body, stalls mid body, resets
mid request body, never answers, answers bytes that are not HTTP, answers
a truncated response head, or answers 200 and then dribbles the body; the
rest it passes through to the SigV4 verifier in front of moto, so every
request that is forwarded is still checked for its signature.  The
daemon's upstream.timeout is 2 s, so "never answers" becomes 503 quickly.

Each fault asserts what the client gets (a proper S3 <Error> with a
RequestId, or a transfer that visibly breaks: Content-Length promised,
connection closed short, boto3 raising) and that the daemon keeps serving.
A write the client saw fail must not be journaled; every write it saw
succeed is in a ledger, and the last checks ask CloudFront (the fake,
which keeps every CreateInvalidation it received) that each of them was
invalidated and none of the failed ones.

CloudFront "down for minutes, then back" is compressed to about 16 s: 503
ServiceUnavailable on every call for ~6 s (the fake's fail_503_next), then
the fake process stopped (connection refused) for ~10 s, then a fresh fake
started on the same port.  The daemon's retry_base is 200 ms and retry_max
2 s, so it makes about as many attempts in those 16 s (~9) as it would
over ~4 minutes with its defaults (1 s doubling up to 5 min).  Writes go
on succeeding (journaled), /status shows the retries, and once CloudFront
is back every acknowledged path is invalidated, each batch under one
CallerReference that made exactly one invalidation.

Not here, because they have their own scripts: the journal's disk full
(t09_journal_full: RLIMIT_FSIZE on the daemon, 503 and nothing lost) and
kill -9 loops while writing (t08_crash: 20 kills, every acknowledged write
invalidated, no batch created twice).
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import socket
    import time
    import urllib.parse
    import s3itest
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t14_faults"
BUCKET = "faults"
DIST = "E14FAULTS"
BUDGET = 165
UP_TIMEOUT = 2.0        # [upstream] timeout
SLACK = 3.0             # the daemon polls once a second; ASan is slower

CF = {"quiet_period": "300ms", "max_delay": "2s", "poll_interval": "300ms",
      "retry_base": "200ms", "retry_max": "2s",
      "max_requests_per_second": "20", "timeout": "5s",
      "wildcard_threshold": "100000"}


def quote_key(key):
    return urllib.parse.quote(key.encode("utf-8"), safe="-_.~/")


def short(obj, n=1500):
    s = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True,
                                                    default=str)
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


class Ctx:
    """The stack and the ledger of writes."""

    def __init__(self, t, ws):
        self.t = t
        self.ws = ws
        self.moto, self.moto_url = s3itest.start_moto(ws.logdir)
        self.verifier = s3itest.start_verifier(ws.logdir, self.moto_url)
        self.bad = s3itest.start_bad_upstream(ws.logdir, self.verifier.url)
        self.fake = s3itest.start_fake_cloudfront(
            ws.logdir, distributions=[DIST], complete_after_ms=300)
        self.fake_states = []       # states of fakes that were stopped
        self.conf = s3itest.write_config(
            ws.logdir, self.bad.url,
            sections={"bucket *": None,
                      "bucket " + BUCKET: {"distributions": DIST}},
            upstream__timeout="%ds" % UP_TIMEOUT,
            upstream__connect_timeout="2s",
            log__level="debug",
            **{"cloudfront__" + k: v for k, v in
               dict(CF, endpoint=self.fake.url).items()})
        self.d = s3itest.start_s3inval(self.conf, None, ws.logdir)
        self.url = self.d.url
        self.admin = self.d.admin_url
        self.direct = s3itest.moto_client(self.moto_url)
        self.direct.create_bucket(Bucket=BUCKET)
        # No SDK retries: each call is one request the test can account
        # for (botocore's "max_attempts" here counts retries).
        self.s3 = s3itest.s3_client(self.url, max_attempts=0,
                                    read_timeout=30)
        self.acked = {}         # key -> time the client saw its 2xx
        self.failed = set()     # keys whose write the client saw fail
        self.direct.put_object(Bucket=BUCKET, Key="src/ok.txt",
                               Body=b"known bytes\n")

    # --- requests -----------------------------------------------------

    def raw(self, method, key, body=b"", headers=None, timeout=30):
        """A hand-signed request: (status, headers, body, seconds)."""
        path = "/%s/%s" % (BUCKET, quote_key(key)) if key is not None \
            else "/%s" % BUCKET
        h = s3itest.sign_request(method, self.url + path, body,
                                 headers=headers)
        t0 = time.time()
        st, hd, data = s3itest.http_request(
            self.url, method, path, body=body if method in ("PUT", "POST")
            else None, headers=h, timeout=timeout)
        return st, hd, data, time.time() - t0

    def put_ok(self, key, body=b"ok"):
        """PutObject that must succeed: in the ledger."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        self.acked[key] = time.time()

    def outcome(self, key, status):
        """Book a write the test expected to fail by what the client
        saw: a 2xx is an acknowledged write whatever the test wanted (the
        case itself reports that), so the ledger asks for its
        invalidation like any other."""
        if status is not None and 200 <= status < 300:
            self.failed.discard(key)
            self.acked[key] = time.time()
        else:
            self.failed.add(key)

    def writes_recorded(self):
        return s3itest.admin_status(self.admin)["invalidation"][
            "writes_recorded"]

    def healthy(self):
        """(ok, diag): the daemon runs and a pass-through GET works."""
        if not self.d.alive():
            return False, "s3inval exited with %s:\n%s" % (
                self.d.proc.returncode, s3itest.tail(self.d.log_path))
        try:
            got = self.s3.get_object(Bucket=BUCKET,
                                     Key="src/ok.txt")["Body"].read()
        except Exception as e:
            return False, "a normal GET afterwards failed: %r" % (e,)
        return got == b"known bytes\n", "normal GET afterwards: %r" % got

    def s3_error_ok(self, st, hd, body, status=503,
                    codes=("ServiceUnavailable",)):
        """(ok, problems): an S3 <Error> with that status and code whose
        <RequestId> is the x-amz-request-id header."""
        problems = []
        if st != status:
            problems.append("status %r, want %d" % (st, status))
        err = s3itest.parse_s3_error(body)
        if err is None:
            problems.append("body is no S3 <Error>: %r" % body[:300])
            err = {}
        elif err.get("Code") not in codes:
            problems.append("<Code> %r, want %s" % (err.get("Code"), codes))
        if not err.get("RequestId") or \
                err.get("RequestId") != hd.get("x-amz-request-id"):
            problems.append("<RequestId> %r vs x-amz-request-id %r" % (
                err.get("RequestId"), hd.get("x-amz-request-id")))
        return not problems, problems


def run(t, ws):
    cx = Ctx(t, ws)
    sec_upstream(cx)
    sec_cloudfront(cx)
    sec_final(cx)
    t.check("s3inval exits 0 on SIGTERM", lambda: (
        s3itest.stop(cx.d) == 0, s3itest.tail(cx.d.log_path)))


# --- the upstream misbehaves ------------------------------------------------

def sec_upstream(cx):
    t = cx.t
    size, cut = MiB, 256 * 1024

    # 1. GET: the upstream promises 1 MiB, sends 256 KiB and closes.
    def get_close_mid_body():
        key = "fault-close-mid-body/get.bin"
        s = socket.create_connection(("127.0.0.1", cx.d.port), 10)
        path = "/%s/%s" % (BUCKET, key)
        h = s3itest.sign_request("GET", cx.url + path)
        req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (
            path, cx.d.port, "".join("%s: %s\r\n" % kv for kv in h.items()))
        try:
            s.sendall(req.encode())
            st, hdrs, body, raw = s3itest.read_raw_response(
                s, 15, read_until_close=True)
        finally:
            s.close()
        clen = dict(hdrs).get("content-length")
        te = dict(hdrs).get("transfer-encoding")
        problems = []
        if st != 200:
            problems.append("status %r" % st)
        if clen is not None and clen != str(size):
            problems.append("Content-Length %r, want %d (the upstream's)" % (
                clen, size))
        if clen is None and te == "chunked" and body.endswith(b"0\r\n\r\n"):
            problems.append("chunked body ended with the last chunk: "
                            "a silent short object")
        if len(body) >= size:
            problems.append("got %d bytes" % len(body))
        try:
            got = cx.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            problems.append("boto3 read %d bytes without an error" % len(
                got))
            boto = "no error"
        except Exception as e:
            boto = "%s: %s" % (type(e).__name__, str(e)[:300])
        ok, diag = cx.healthy()
        if not ok:
            problems.append(diag)
        return not problems, "%s\nraw: status %r, headers %r, %d body " \
            "bytes before the close\nboto3: %s" % (
                "\n".join(problems), st, hdrs, len(body), boto)
    t.case("GET, upstream closes mid-body (1 MiB promised, 256 KiB sent): "
           "the client sees Content-Length 1048576 and a connection "
           "closed short, boto3 raises; the daemon serves on",
           get_close_mid_body)

    # 2. GET: 64 KiB of the body, then silence.
    def get_stall_mid_body():
        key = "fault-stall-mid-body/get.bin"
        t0 = time.time()
        try:
            got = cx.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            res = "boto3 read %d bytes without an error" % len(got)
            raised = False
        except Exception as e:
            res = "%s: %s" % (type(e).__name__, str(e)[:300])
            raised = True
        dt = time.time() - t0
        ok, diag = cx.healthy()
        return (raised and dt < UP_TIMEOUT + SLACK and ok), \
            "%s after %.2fs\n%s" % (res, dt, diag)
    t.case("GET, upstream stalls mid-body: the transfer is aborted within "
           "upstream.timeout (2 s) + 3 s, boto3 raises; the daemon serves "
           "on", get_stall_mid_body)

    # 3. PUT: the upstream resets the connection mid request body.
    def put_close_mid_request():
        out, good = [], True
        w0 = cx.writes_recorded()
        for key, n in (("fault-close-mid-request/big.bin", 4 * MiB),
                       ("fault-close-mid-request/small.bin", 1000)):
            st, hd, body, dt = cx.raw("PUT", key, b"p" * n)
            cx.outcome(key, st)
            ok, problems = cx.s3_error_ok(st, hd, body)
            in_moto = s3itest.moto_object(cx.moto_url, BUCKET, key)
            if in_moto is not None:
                ok = False
                problems.append("moto holds %d bytes" % len(in_moto))
            good = good and ok
            out.append("%d bytes: status %r in %.2fs %s %s" % (
                n, st, dt, problems, body[:300]))
        w1 = cx.writes_recorded()
        ok, diag = cx.healthy()
        good = good and ok and w1 == w0
        seen = [r for r in cx.bad.requests()
                if "close-mid-request" in r["target"]]
        return good, "%s\nwrites_recorded %d -> %d\n%s\nupstream saw: %s" % (
            "\n".join(out), w0, w1, diag, short(seen))
    t.case("PUT 4 MiB and 1 KB, upstream resets mid request body: 503 "
           "ServiceUnavailable S3 XML after the body (never a 2xx, no "
           "half-sent answer), nothing stored, nothing journaled",
           put_close_mid_request)

    # 4. Never answers.
    def stall():
        out, good = [], True
        w0 = cx.writes_recorded()
        for method, key, body in (("GET", "fault-stall/get.bin", b""),
                                  ("PUT", "fault-stall/put.bin", b"s" * 100)):
            st, hd, data, dt = cx.raw(method, key, body)
            if method == "PUT":
                cx.outcome(key, st)
            ok, problems = cx.s3_error_ok(st, hd, data)
            if not UP_TIMEOUT - 0.5 <= dt <= UP_TIMEOUT + SLACK:
                ok = False
                problems.append("answered after %.2fs, want %.1f..%.1f" % (
                    dt, UP_TIMEOUT - 0.5, UP_TIMEOUT + SLACK))
            good = good and ok
            out.append("%s: %r in %.2fs %s %s" % (method, st, dt, problems,
                                                 data[:200]))
        w1 = cx.writes_recorded()
        ok, diag = cx.healthy()
        return good and ok and w1 == w0, "%s\nwrites_recorded %d -> %d\n" \
            "%s" % ("\n".join(out), w0, w1, diag)
    t.case("upstream accepts and never answers: GET and PUT get 503 "
           "ServiceUnavailable S3 XML after upstream.timeout (2 s, within "
           "+3 s), the PUT not journaled", stall)

    def fault_503(desc, mode, expect_codes=("ServiceUnavailable",)):
        def fn():
            out, good = [], True
            w0 = cx.writes_recorded()
            for method, body in (("GET", b""), ("PUT", b"g" * 100)):
                key = "fault-%s/%s.bin" % (mode, method.lower())
                st, hd, data, dt = cx.raw(method, key, body)
                if method == "PUT":
                    cx.outcome(key, st)
                ok, problems = cx.s3_error_ok(st, hd, data,
                                              codes=expect_codes)
                good = good and ok
                out.append("%s %s: status %r in %.2fs %s; headers %r; "
                           "body %r" % (method, key, st, dt, problems, hd,
                                        data[:200]))
            w1 = cx.writes_recorded()
            if w1 != w0:
                good = False
                out.append("journaled %d write(s)" % (w1 - w0))
            ok, diag = cx.healthy()
            return good and ok, "%s\nwrites_recorded %d -> %d\n%s" % (
                "\n".join(out), w0, w1, diag)
        t.case(desc, fn)

    # 5-6.
    fault_503("upstream answers bytes that are not HTTP: GET and PUT get "
              "503 ServiceUnavailable S3 XML, nothing journaled", "garbage")
    fault_503("upstream answers a truncated response head ('HTTP/1.1 200 "
              "OK', a header, half a header, close): GET and PUT get 503 "
              "ServiceUnavailable S3 XML, nothing journaled",
              "truncated-head")

    # 7. DeleteObjects: 200, then the result body cut short.
    def delete_objects_cut():
        keys = ["dobj/a.txt", "dobj/b.txt"]
        for k in keys:
            cx.direct.put_object(Bucket=BUCKET, Key=k, Body=b"d")
        cx.bad.rules({"mode": "close_mid_body", "count": 1,
                      "match": r"^POST /%s\?delete" % BUCKET,
                      "size": 4000, "cut": 300})
        w0 = cx.writes_recorded()
        try:
            r = cx.s3.delete_objects(Bucket=BUCKET, Delete={
                "Objects": [{"Key": k} for k in keys]})
            res = "no error: %s" % short(r, 500)
            st = r["ResponseMetadata"]["HTTPStatusCode"]
            code = None
        except Exception as e:
            resp = getattr(e, "response", {}) or {}
            st = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = resp.get("Error", {}).get("Code")
            res = "%s: %s" % (type(e).__name__, str(e)[:300])
        for k in keys:
            cx.outcome(k, st)
        w1 = cx.writes_recorded()
        hit = [r for r in cx.bad.requests() if r["mode"] == "close_mid_body"
               and r["method"] == "POST"]
        ok, diag = cx.healthy()
        return (st == 503 and code == "ServiceUnavailable" and w1 == w0
                and len(hit) == 1 and ok), "%s\nwrites_recorded %d -> %d\n" \
            "upstream: %s\n%s" % (res, w0, w1, short(hit), diag)
    t.case("DeleteObjects answered 200 with its result body cut short: 503 "
           "ServiceUnavailable (the deleted keys cannot be known), nothing "
           "journaled", delete_objects_cut)

    # 8. PutObject: 200 head at once, the body dribbles for 4 s.
    def put_slow_body():
        key = "fault-slow-body/put.txt"
        w0 = cx.writes_recorded()
        st, hd, data, dt = cx.raw("PUT", key, b"slow")
        w1 = cx.writes_recorded()
        cx.outcome(key, st)
        ok, diag = cx.healthy()
        return (st == 200 and dt < 2.0 and w1 == w0 + 1 and ok), \
            "status %r in %.2fs, body %r\nwrites_recorded %d -> %d\n%s" % (
                st, dt, data[:200], w0, w1, diag)
    t.case("PutObject answered 200 then a slow body: the client gets 200 "
           "at once (< 2 s, the body of a PUT answer is not waited for), "
           "journaled", put_slow_body)

    # 9. CopyObject: 200 head, its XML dribbles in over 4 s (progress every
    # 0.5 s, under the 2 s timeout).
    def copy_slow_body():
        key = "fault-slow-body/copy.txt"
        w0 = cx.writes_recorded()
        st, hd, data, dt = cx.raw("PUT", key, headers={
            "x-amz-copy-source": "%s/src/ok.txt" % BUCKET})
        w1 = cx.writes_recorded()
        cx.outcome(key, st)
        ok, diag = cx.healthy()
        return (st == 200 and b"<CopyObjectResult" in data and dt >= 3.0
                and w1 == w0 + 1 and ok), "status %r in %.2fs, body %r\n" \
            "writes_recorded %d -> %d\n%s" % (st, dt, data[:300], w0, w1,
                                              diag)
    t.case("CopyObject answered 200 then its XML over 4 s (progress every "
           "0.5 s): the daemon reads it all (200-with-Error check), 200, "
           "journaled", copy_slow_body)

    # 10. CopyObject: 200 head, then silence.
    def copy_stall():
        key = "fault-stall-mid-body/copy.txt"
        cx.bad.rules({"mode": "stall_mid_body", "count": 1, "cut": 0,
                      "size": 300, "match": r"^PUT /%s/%s" % (BUCKET, key)})
        w0 = cx.writes_recorded()
        st, hd, data, dt = cx.raw("PUT", key, headers={
            "x-amz-copy-source": "%s/src/ok.txt" % BUCKET})
        cx.outcome(key, st)
        w1 = cx.writes_recorded()
        ok, problems = cx.s3_error_ok(st, hd, data)
        if dt > UP_TIMEOUT + SLACK:
            ok = False
            problems.append("took %.2fs" % dt)
        h_ok, diag = cx.healthy()
        return ok and h_ok and w1 == w0, "status %r in %.2fs %s\nbody %r\n" \
            "writes_recorded %d -> %d\n%s" % (st, dt, problems, data[:300],
                                              w0, w1, diag)
    t.case("CopyObject answered a 200 head, then nothing: 503 "
           "ServiceUnavailable after upstream.timeout (a 200 may still be "
           "an <Error>), not journaled", copy_stall)

    # 11. Plain requests after all that, through the same daemon.
    def normal_after():
        problems = []
        for i in range(5):
            key = "after/normal-%d.txt" % i
            cx.put_ok(key, b"normal %d" % i)
            got = cx.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            if got != b"normal %d" % i:
                problems.append("%s read back %r" % (key, got))
        cx.s3.delete_object(Bucket=BUCKET, Key="after/normal-4.txt")
        cx.acked["after/normal-4.txt"] = time.time()
        listed = cx.s3.list_objects_v2(Bucket=BUCKET, Prefix="after/")
        n = listed.get("KeyCount")
        if n != 4:
            problems.append("listed %r objects under after/" % n)
        v = cx.verifier.stats()
        if v["rejected"] != 0:
            problems.append("the verifier rejected %d request(s): %s" % (
                v["rejected"], short(v["last_rejects"], 800)))
        return not problems and cx.d.alive(), "\n".join(problems) or \
            "ok; verifier %s" % short(v, 300)
    t.case("afterwards: PUT, GET, DELETE, List work through the same "
           "daemon; every forwarded request was correctly signed "
           "(verifier)", normal_after)

    # 12. The ledger so far.
    def ledger_now():
        st, doc = s3itest.admin_flush(cx.admin, 30)
        state = cx.fake.state()
        return ledger_check(cx, [state], st, doc)
    t.case("flush?wait: every write acknowledged so far is invalidated, "
           "none of the failed ones", ledger_now)


def covers(pattern, path):
    """The planner may widen paths to folder/* (or /*): exact, or a
    wildcard's prefix, as in t07/t08."""
    if pattern == path:
        return True
    return pattern.endswith("*") and path.startswith(pattern[:-1])


def covering(states, path):
    """The ids of the invalidations (over fake states) covering path."""
    return [inv["id"] for s in states for inv in s["invalidations"]
            if any(covers(p, path) for p in inv["paths"])]


def ledger_check(cx, states, st=None, doc=None):
    missing = sorted("/" + k for k in cx.acked
                     if not covering(states, "/" + k))
    # A failed write's path may be swept up by a wildcard planned for
    # its neighbours; only an exact path is a journaled failed write.
    exact = {p for s in states for inv in s["invalidations"]
             for p in inv["paths"]}
    wrong = sorted("/" + k for k in cx.failed - set(cx.acked)
                   if "/" + k in exact)
    ok = not missing and not wrong and (st is None or st == 200)
    return ok, "flush: %r %s\n%d acknowledged, %d failed writes\n" \
        "acknowledged but not invalidated: %s\nfailed but invalidated: " \
        "%s" % (st, short(doc, 400), len(cx.acked), len(cx.failed),
                missing[:20], wrong[:20])


# --- CloudFront down for "minutes", then back -------------------------------

def dist_status(cx):
    s = s3itest.admin_status(cx.admin)["invalidation"]
    for d in s["distributions"]:
        if d["id"] == DIST:
            return d, s
    raise AssertionError("/status has no %s: %s" % (DIST, short(s)))


def sec_cloudfront(cx):
    t = cx.t
    shared = {"outage_keys": []}

    def write_during(prefix, n, spacing):
        """n PUTs spaced out; returns the failures."""
        bad = []
        for i in range(n):
            key = "%s/page-%02d.html" % (prefix, i)
            try:
                cx.put_ok(key, b"during the outage %d" % i)
                shared["outage_keys"].append(key)
            except Exception as e:
                bad.append((key, repr(e)[:200]))
            time.sleep(spacing)
        return bad

    # 13. 503 on every call.
    def cf_503():
        cx.fake.configure(fail_503_next=1000000)
        d0, _ = dist_status(cx)
        w0 = cx.writes_recorded()
        bad = write_during("outage503", 10, 0.5)
        w1 = cx.writes_recorded()
        time.sleep(1.0)
        d1, _ = dist_status(cx)
        shared["d_503"] = d1
        fails = cx.fake.state()["counts"]["failed_503"]
        return (not bad and w1 == w0 + 10 and fails >= 2
                and d1["batches_retried"] > d0["batches_retried"]
                and d1["last_error"] != ""
                and d1["paths_pending"] + d1["batches_waiting"] > 0), \
            "failed PUTs %s\nwrites_recorded %d -> %d\nfake answered 503 " \
            "%d times\n/status before %s\n/status after %s" % (
                bad, w0, w1, fails, short(d0), short(d1))
    t.case("CloudFront answers 503 to everything (~6 s): 10 PUTs through "
           "the proxy all 200 and journaled; /status: batches_retried "
           "grows, last_error set, work pending", cf_503)

    # 14. The fake process is gone: connection refused.
    def cf_gone():
        cx.fake_states.append(cx.fake.state())
        rc = s3itest.stop(cx.fake)
        d0 = shared.get("d_503") or dist_status(cx)[0]
        w0 = cx.writes_recorded()
        bad = write_during("outage-gone", 10, 0.5)
        w1 = cx.writes_recorded()
        time.sleep(5.0)
        d1, _ = dist_status(cx)
        shared["d_gone"] = d1
        return (not bad and w1 == w0 + 10
                and d1["batches_retried"] > d0["batches_retried"]
                and d1["last_error"] != ""), \
            "fake stopped (exit %r)\nfailed PUTs %s\nwrites_recorded %d -> " \
            "%d\n/status then %s\n/status now %s" % (
                rc, bad, w0, w1, short(d0), short(d1))
    t.case("CloudFront process stopped (connection refused, ~10 s more): "
           "10 more PUTs all 200 and journaled; /status: retries go on, "
           "last_error set", cf_gone)

    # 15. Back on the same port, fresh.
    def cf_back():
        cx.fake = s3itest.start_fake_cloudfront_at(
            cx.ws.logdir, cx.fake.port, distributions=[DIST],
            complete_after_ms=300, name="fake_cloudfront-back")
        t0 = time.time()
        st, doc = s3itest.admin_flush(cx.admin, 45)
        dt = time.time() - t0
        state = cx.fake.state()
        want = ["/" + k for k in shared["outage_keys"]]
        missing = [p for p in want if not covering([state], p)]
        d1, _ = dist_status(cx)
        return (st == 200 and len(want) == 20 and not missing
                and d1["paths_pending"] == 0), "flush %r in %.1fs: %s\n" \
            "outage writes %d, not invalidated %s\n/status %s" % (
                st, dt, short(doc, 400), len(want), missing, short(d1))
    t.case("CloudFront back on the same port: flush?wait completes and "
           "every write acknowledged during the outage is invalidated",
           cf_back)

    # 16. CallerReferences.
    def refs():
        before = cx.fake_states[-1] if cx.fake_states else None
        after = cx.fake.state()
        creates = (before["creates"] if before else []) + after["creates"]
        by_ref = {}
        for c in creates:
            if c["caller_reference"] is None:
                continue
            by_ref.setdefault(c["caller_reference"], set()).add(
                tuple(sorted(c["paths"] or [])))
        varied = {r: len(v) for r, v in by_ref.items() if len(v) > 1}
        invs = {}
        for inv in after["invalidations"] + (before["invalidations"]
                                             if before else []):
            invs.setdefault(inv["caller_reference"], []).append(inv["id"])
        dup = {r: v for r, v in invs.items() if len(v) > 1}
        # a batch refused with 503 before the fake went away keeps its
        # reference: the same reference is created once it is back
        refused = {c["caller_reference"] for c in (before or {}).get(
            "creates", []) if c["status"] == 503}
        made_after = {i["caller_reference"] for i in after["invalidations"]}
        lost = sorted(refused - made_after - {
            i["caller_reference"] for i in before["invalidations"]}) \
            if before else []
        ok = not varied and not dup and not lost and refused
        return ok, "%d references; sent with different paths: %s\n" \
            "references with more than one invalidation: %s\nrefused with " \
            "503 (%d) and never created once back: %s" % (
                len(by_ref), varied, dup, len(refused), lost)
    t.case("each batch kept its CallerReference through 503s and the "
           "outage (same paths every time), was created once CloudFront "
           "was back, and each reference made exactly one invalidation",
           refs)


def sec_final(cx):
    t = cx.t

    def everything():
        states = list(cx.fake_states) + [cx.fake.state()]
        return ledger_check(cx, states)
    t.check("over the whole run: every acknowledged write (%s) is "
            "invalidated, no write the client saw fail is"
            % "PUT, Copy, Delete", everything)

    def signed_ok():
        v = cx.verifier.stats()
        c = cx.fake.state()["counts"]
        return (v["seen"] > 0 and v["rejected"] == 0
                and c["signature_rejected"] == 0), \
            "verifier %s\nfake counts %s" % (short(v, 600), short(c))
    t.check("every request that reached the verifier and the fake was "
            "correctly signed", signed_ok)

    def asan_clean():
        text = cx.d.log_text()
        bad = [ln for ln in text.splitlines()
               if "ERROR: AddressSanitizer" in ln or "runtime error:" in ln
               or "LeakSanitizer" in ln]
        return cx.d.alive() and not bad, "%s\n%s" % (
            bad[:5], s3itest.tail(cx.d.log_path, 20))
    t.check("the daemon is still running, no sanitizer report in its log",
            asan_clean)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=BUDGET))
