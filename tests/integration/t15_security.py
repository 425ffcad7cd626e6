#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t15_security: what must never get through the proxy (DESIGN §1, §2, §8;
README "Security").  What t02_errors already covers is not repeated here
(wrong secret, unknown key, past skew, expired presign, X-Amz-Expires over
7 days, foreign bucket, read-only client, anonymous, SigV2, 20 KiB header,
CR LF in a key, absolute-form target, CONNECT, upstream down); this script
adds:

- auth: a presigned URL not valid yet (X-Amz-Date 20 min ahead, past the
  15 min skew), a header-signed request 20 min in the future, a GET
  presign replayed as a PUT, unsigned x-amz-* headers on a signed request
  (S3 refuses those: "There were headers present in the request which were
  not signed"; a proxy that re-signs everything it forwards must too); a
  foreign bucket reached through x-amz-copy-source (CopyObject and
  UploadPartCopy by a client that may not read it: the proxy's own
  credentials would read it);
- where the proxy connects: Host headers naming other hosts with
  virtual-host addressing on (server.virtual_host_base = s3.test) -- a
  decoy listener must see no connection, everything forwarded reaches the
  configured upstream with its own Host; a read-only client through a
  virtual host;
- "." and ".." in keys, raw and percent-encoded: the upstream request
  keeps them literally, encoded once, never resolved (the verifier's
  request log shows the exact target), no local file is touched; "." and
  ".." as bucket names ([bucket *]) are refused;
- header injection on raw sockets, on a correctly signed PUT (the extra
  header unsigned, so the signature cannot be what stops it; a separate
  daemon, so a desynchronised upstream connection cannot disturb the other
  cases): CR in an x-amz-meta-x value, CR in a header name, an obs-fold
  continuation line, whitespace before the colon (RFC 9112 §5.1, §5.2: a
  server MUST reject these with 400, or for obs-fold replace it with SP),
  a bare LF (allowed as a line end: two clean headers, or 400); and that
  after a request with a CR in a header name the next requests through
  that daemon still get their own answers (a forwarded head the upstream
  misparses leaves the body on the pooled connection, in front of the
  next request: three rounds, as reuse is libcurl's choice);
- limits: a chunked body over server.spool_max (64k here) is 400
  EntityTooLarge, nothing forwarded, no spool file left, the connection
  still usable; a 20 KiB request target and a 200 KiB header (beyond
  libmicrohttpd's own buffer) are refused, nothing forwarded;
- slow and idle clients: 20 slowloris connections (one header byte a
  second) do not slow a normal client (every request < 2 s) and are closed
  after server.client_timeout (3 s here); silent connections too; 1,000
  idle connections (server.max_connections 1200, RLIMIT_NOFILE raised) do
  not block new requests, and the daemon's descriptors fall back when they
  close (/proc/PID/fd);
- the admin listener refuses "[::]" and this host's non-loopback address
  without server.admin_allow_remote (t01 covers 0.0.0.0), and binds
  0.0.0.0 with it;
- secrets: every daemon of this script runs with log.level = debug and an
  upstream session token; at the end every daemon log under the build
  tree's tests/integration/logs/ (this script's and any kept by other
  scripts), and `s3inval check-config` output, are searched for every
  secret and session token the test sources define (module-level
  constants named *_SK, *SECRET*, *TOKEN* in tests/integration/*.py and
  tests/fixtures/*.py) and for "Signature=" followed by 64 hex digits.
  Files that are not a daemon's (moto, verifier and fake CloudFront logs,
  whose request logs hold Authorization headers on purpose, aws-cli logs,
  configs) are left out and listed.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ast
    import datetime
    import glob
    import http.client
    import json
    import re
    import resource
    import select
    import socket
    import threading
    import time
    import urllib.parse
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t15_security"
BUCKET = "blog"
BUDGET = 165
VHOST = "s3.test"
CLIENT_TIMEOUT = 3
# The upstream session token the daemons sign with (the verifier checks
# it); one more secret for the grep.
SESSION_TOKEN = "t15SessionTokenEXAMPLE/ZmFrZS10b2tlbi0wMTIzNDU2Nzg5+abc=="
# A client that may write blog and nothing else.
WRITER_AK = "AKIDWRITEREXAMPLE015"
WRITER_SK = "writerSecretKeyEXAMPLE0123456789abcdefgh"
IDLE_CONNECTIONS = 1000
SLOW_CONNECTIONS = 20

HEX64_SIG = re.compile(rb"Signature=[0-9a-fA-F]{64}")
DAEMON_LINE = re.compile(
    r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) |'
    r'\{"time":"[^"]+","level":")')


def quote_key(key):
    return urllib.parse.quote(key.encode("utf-8"), safe="-_.~/")


def short(obj, n=1500):
    s = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True,
                                                    default=str)
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


def error_check(st, hdrs, body, status, codes):
    """(ok, problems): status, <Code> in codes, <RequestId> equal to the
    x-amz-request-id header (as t02)."""
    if isinstance(codes, str):
        codes = (codes,)
    if isinstance(status, int):
        status = (status,)
    if isinstance(hdrs, list):
        hdrs = dict(hdrs)
    problems = []
    if st not in status:
        problems.append("status %r, want %s" % (st, status))
    err = s3itest.parse_s3_error(body)
    if err is None:
        problems.append("body is no S3 <Error>: %r" % body[:300])
        err = {}
    elif err.get("Code") not in codes:
        problems.append("<Code> %r, want %s" % (err.get("Code"), codes))
    rid, hid = err.get("RequestId"), hdrs.get("x-amz-request-id")
    if err and (not rid or rid != hid):
        problems.append("<RequestId> %r vs x-amz-request-id %r" % (rid, hid))
    return not problems, problems


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def non_loopback_ipv4():
    """This host's address on its default route, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.255", 9))     # no packet is sent
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


class Ctx:
    def __init__(self, t, ws):
        self.t = t
        self.ws = ws
        self.moto, self.moto_url = s3itest.start_moto(ws.logdir)
        self.verifier = s3itest.start_verifier(
            ws.logdir, self.moto_url, session_token=SESSION_TOKEN)
        self.env = {"AWS_SESSION_TOKEN": SESSION_TOKEN}
        self.conf = s3itest.write_config(
            ws.logdir, self.verifier.url,
            sections={"client reader": {"buckets": "blog:r"},
                      "client writer": {"access_key_id": WRITER_AK,
                                        "secret_access_key": WRITER_SK,
                                        "buckets": "blog:rw"}},
            server__client_timeout="%ds" % CLIENT_TIMEOUT,
            server__spool_max="64k",
            server__virtual_host_base=VHOST,
            log__level="debug")
        self.d = s3itest.start_s3inval(self.conf, self.env, ws.logdir)
        self.daemons = [self.d]
        self.url = self.d.url
        self.port = self.d.port
        self.direct = s3itest.moto_client(self.moto_url)
        self.direct.create_bucket(Bucket=BUCKET)
        self.direct.put_object(Bucket=BUCKET, Key="auth/x.txt",
                               Body=b"hello")
        self.s3 = s3itest.s3_client(self.url, max_attempts=0)
        self.state_dir = s3itest.read_config(self.conf)["server"][
            "state_dir"]

    def seen(self):
        return self.verifier.stats()["seen"]

    def daemon(self, name, **overrides):
        """Another daemon in front of the same verifier."""
        conf = s3itest.write_config(
            self.ws.logdir, self.verifier.url, name=name + ".conf",
            state_dir=self.ws.path("state-" + name),
            sections={"client reader": {"buckets": "blog:r"}},
            **dict({"log__level": "debug"}, **overrides))
        d = s3itest.start_s3inval(conf, self.env, self.ws.logdir, name=name)
        d.conf = conf
        self.daemons.append(d)
        return d

    def send(self, method, path, headers=None, body=None, port=None,
             timeout=30):
        return s3itest.http_request(
            "http://127.0.0.1:%d" % (port or self.port), method, path,
            body=body, headers=headers or {}, timeout=timeout)

    def refused(self, desc, request, status, codes):
        """A case: request() -> (status, headers, body) must be that S3
        error and forward nothing."""
        def fn():
            n0 = self.seen()
            st, hdrs, body = request()
            n1 = self.seen()
            ok, problems = error_check(st, hdrs, body, status, codes)
            if n1 != n0:
                ok = False
                problems.append("%d request(s) forwarded upstream" % (
                    n1 - n0))
            return ok, "%s\nstatus %r\nheaders %r\nbody %r" % (
                "\n".join(problems), st, hdrs, body[:1200])
        return self.t.case(desc, fn)

    def upstream_requests(self, path):
        """[(request line, [(header, value)], outcome line)] the verifier
        logged for exactly this target path."""
        out, cur = [], None
        rx = re.compile(r"^\S+ (\S+) (\S+) HTTP/\d\.\d from ")
        done = re.compile(r"^\S+ (\S+) (\S+) (\d{3}) ")
        for line in self.verifier.log_lines():
            m = rx.match(line)
            if m:
                cur = None
                if urllib.parse.urlsplit(m.group(2)).path == path:
                    cur = [line, [], None]
                    out.append(cur)
                continue
            if cur is not None and line.startswith("    "):
                k, _, v = line[4:].partition(":")
                cur[1].append((k, v.strip()))
                continue
            m = done.match(line)
            if m and cur is not None and \
                    urllib.parse.urlsplit(m.group(2)).path == path:
                cur[2] = line
                cur = None
        return out


def run(t, ws):
    cx = Ctx(t, ws)
    sec_auth(cx)
    sec_hosts(cx)
    sec_dots(cx)
    sec_injection(cx)
    sec_limits(cx)
    sec_slow(cx)
    sec_idle(cx)
    sec_admin(cx)
    sec_final(cx)


# --- authentication ---------------------------------------------------------

def sec_auth(cx):
    t = cx.t
    path = "/%s/auth/x.txt" % BUCKET
    now = datetime.datetime.now(datetime.timezone.utc)

    def presign_future():
        problems = []
        far = s3itest.presign_url("GET", cx.url + path, expires=3600,
                                  when=now + datetime.timedelta(minutes=20))
        near = s3itest.presign_url("GET", cx.url + path, expires=3600,
                                   when=now + datetime.timedelta(minutes=5))
        n0 = cx.seen()
        u = urllib.parse.urlsplit(far)
        st, hd, body = cx.send("GET", u.path + "?" + u.query)
        n1 = cx.seen()
        ok, more = error_check(st, hd, body, 403, "AccessDenied")
        problems += more
        if n1 != n0:
            problems.append("the future presign was forwarded")
        u = urllib.parse.urlsplit(near)
        st2, hd2, body2 = cx.send("GET", u.path + "?" + u.query)
        if st2 != 200 or body2 != b"hello" or cx.seen() != n1 + 1:
            problems.append("a presign 5 min ahead (within max_skew) "
                            "answered %r %r" % (st2, body2[:300]))
        return not problems, "%s\n20 min ahead: %r %r" % (
            "\n".join(problems), st, body[:500])
    t.case("presigned URL not valid yet (X-Amz-Date 20 min ahead, past the "
           "15 min skew): 403 AccessDenied, nothing forwarded; 5 min ahead "
           "is accepted", presign_future)

    def header_future():
        h = s3itest.sign_request("GET", cx.url + path,
                                 when=now + datetime.timedelta(minutes=20))
        return cx.send("GET", path, h)
    cx.refused("header-signed request dated 20 min in the future: 403 "
               "RequestTimeTooSkewed, nothing forwarded", header_future, 403,
               "RequestTimeTooSkewed")

    def presign_as_put():
        url = s3itest.presign_url("GET", cx.url + path, expires=300)
        u = urllib.parse.urlsplit(url)
        return cx.send("PUT", u.path + "?" + u.query, body=b"overwritten")
    cx.refused("a GET presigned URL replayed as a PUT: 403 "
               "SignatureDoesNotMatch, nothing forwarded", presign_as_put,
               403, "SignatureDoesNotMatch")

    def unsigned_amz():
        key = "auth/unsigned-amz.txt"
        p = "/%s/%s" % (BUCKET, key)
        body = b"signed body"
        h = s3itest.sign_request("PUT", cx.url + p, body)
        h["x-amz-acl"] = "public-read"          # not in SignedHeaders
        h["x-amz-meta-evil"] = "unsigned"
        n0 = cx.seen()
        st, hd, rbody = cx.send("PUT", p, h, body)
        n1 = cx.seen()
        ok, problems = error_check(st, hd, rbody, (400, 403),
                                   ("AccessDenied", "InvalidRequest",
                                    "SignatureDoesNotMatch"))
        up = cx.upstream_requests(p)
        if n1 != n0:
            ok = False
            signed = [v for r in up for k, v in r[1]
                      if k.lower() == "authorization"]
            problems.append("forwarded upstream, the proxy signing the "
                            "client's unsigned headers: %s" % signed[-1:])
        return ok, "%s\nstatus %r body %r" % ("\n".join(problems), st,
                                              rbody[:600])
    t.case("signed PUT plus unsigned x-amz-acl: public-read and "
           "x-amz-meta-evil: refused (S3: headers present that were not "
           "signed), nothing forwarded", unsigned_amz)

    def copy_from_foreign():
        cx.direct.create_bucket(Bucket="private")
        cx.direct.put_object(Bucket="private", Key="secret.txt",
                             Body=b"top secret")
        w = s3itest.s3_client(cx.url, WRITER_AK, WRITER_SK, max_attempts=0)
        problems, rows = [], []

        def attempt(what, fn):
            n0 = cx.seen()
            try:
                r = fn()
                st = r["ResponseMetadata"]["HTTPStatusCode"]
                code = None
            except Exception as e:
                resp = getattr(e, "response", {}) or {}
                st = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = resp.get("Error", {}).get("Code")
            fwd = cx.seen() - n0
            rows.append("%s: %r %s, %d forwarded" % (what, st, code, fwd))
            return st, code, fwd
        st, code, fwd = attempt("GetObject private/secret.txt", lambda:
                                w.get_object(Bucket="private",
                                             Key="secret.txt"))
        if st != 403 or fwd:
            problems.append("the writer may read private directly")
        st, code, fwd = attempt(
            "CopyObject private/secret.txt -> blog/stolen.txt",
            lambda: w.copy_object(Bucket=BUCKET, Key="copy/stolen.txt",
                                  CopySource="private/secret.txt"))
        if st != 403 or code != "AccessDenied" or fwd:
            problems.append("CopyObject from a bucket the client may not "
                            "read was not refused")
        mpu = cx.direct.create_multipart_upload(Bucket=BUCKET,
                                                Key="copy/stolen-part.txt")
        st, code, fwd = attempt(
            "UploadPartCopy private/secret.txt -> blog/stolen-part.txt",
            lambda: w.upload_part_copy(
                Bucket=BUCKET, Key="copy/stolen-part.txt", PartNumber=1,
                UploadId=mpu["UploadId"], CopySource="private/secret.txt"))
        if st != 403 or code != "AccessDenied" or fwd:
            problems.append("UploadPartCopy from a bucket the client may "
                            "not read was not refused")
        stolen = s3itest.moto_object(cx.moto_url, BUCKET, "copy/stolen.txt")
        if stolen is not None:
            problems.append("blog/copy/stolen.txt holds %r" % stolen)
        return not problems, "\n".join(problems + rows)
    t.case("a client with blog:rw only: CopyObject and UploadPartCopy with "
           "x-amz-copy-source in a bucket it may not read (private/...) "
           "are 403 AccessDenied, nothing forwarded, nothing copied",
           copy_from_foreign)


# --- where the proxy connects ----------------------------------------------

class Decoy:
    """A listener that counts connections: it must see none."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while not self.stop.is_set():
            if readable(self.sock, 0.1):
                try:
                    c, _ = self.sock.accept()
                    self.accepted += 1
                    c.close()
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.th.join(2)
        self.sock.close()


def sec_hosts(cx):
    t = cx.t
    vhost_up = "127.0.0.1:%d" % cx.verifier.port

    def hosts():
        decoy = Decoy()
        D = decoy.port
        cases = [
            ("127.0.0.1:%d" % D, "/%s/auth/x.txt" % BUCKET),
            ("localhost:%d" % D, "/%s/auth/x.txt" % BUCKET),
            ("evil.example:%d" % D, "/%s/auth/x.txt" % BUCKET),
            ("blog.%s:%d" % (VHOST, D), "/auth/x.txt"),
            ("blog.%s" % VHOST, "/auth/x.txt"),
            ("127.0.0.1.%s:%d" % (VHOST, D), "/auth/x.txt"),
            ("blog.%s@127.0.0.1:%d" % (VHOST, D), "/auth/x.txt"),
        ]
        rows, problems = [], []
        try:
            for host, path in cases:
                h = s3itest.sign_request("GET", "http://%s%s" % (host, path))
                h["Host"] = host
                n0 = cx.seen()
                lines0 = len(cx.verifier.log_lines())
                st, hd, body = cx.send("GET", path, h)
                n1 = cx.seen()
                new = cx.verifier.log_lines()[lines0:]
                hosts_up = [ln.split(":", 1)[1].strip() for ln in new
                            if ln.lower().startswith("    host:")]
                rows.append("Host %-36s %s -> %r %r; upstream Host %s" % (
                    host, path, st, body[:80], hosts_up))
                if n1 != n0 and any(hu != vhost_up for hu in hosts_up):
                    problems.append("%s: the upstream saw Host %s" % (
                        host, hosts_up))
                if n1 == n0 and not (400 <= (st or 0) < 500 and
                                     s3itest.parse_s3_error(body)):
                    problems.append("%s: not forwarded, yet %r %r" % (
                        host, st, body[:200]))
                if host.startswith("blog.%s" % VHOST) and "@" not in host \
                        and (st != 200 or body != b"hello"):
                    problems.append("%s: virtual host of bucket blog "
                                    "answered %r %r" % (host, st,
                                                        body[:200]))
            time.sleep(0.3)
        finally:
            decoy.close()
        if decoy.accepted:
            problems.append("the decoy on port %d accepted %d connection(s)"
                            % (D, decoy.accepted))
        return not problems, "%s\n%s" % ("\n".join(problems),
                                         "\n".join(rows))
    t.case("Host headers naming other hosts (127.0.0.1:DECOY, localhost, "
           "evil.example, blog.s3.test:DECOY, 127.0.0.1.s3.test, userinfo "
           "@): the decoy sees no connection, whatever is forwarded goes to "
           "the configured upstream with its Host", hosts)

    def reader_vhost():
        problems = []
        for host, method, path, body in (
                ("other.%s:%d" % (VHOST, cx.port), "GET", "/auth/x.txt",
                 None),
                ("blog.%s:%d" % (VHOST, cx.port), "PUT", "/auth/x.txt",
                 b"reader")):
            h = s3itest.sign_request(method, "http://%s%s" % (host, path),
                                     body or b"",
                                     access_key=s3itest.READER_AK,
                                     secret_key=s3itest.READER_SK)
            h["Host"] = host
            n0 = cx.seen()
            st, hd, rbody = cx.send(method, path, h, body)
            ok, more = error_check(st, hd, rbody, 403, "AccessDenied")
            if cx.seen() != n0:
                more.append("forwarded")
            problems += ["%s %s %s: %s" % (host, method, path, m)
                         for m in more]
        return not problems, "\n".join(problems)
    t.case("read-only client (blog:r) through virtual hosts: GET "
           "other.s3.test and PUT blog.s3.test are 403 AccessDenied, "
           "nothing forwarded", reader_vhost)


# --- dots -------------------------------------------------------------------

def sec_dots(cx):
    t = cx.t
    canary = "/tmp/s3inval-t15-canary-%d" % os.getpid()

    def put_raw(raw_path, upstream_path, body=b"dots"):
        """PUT on raw_path (as sent), signed as the proxy canonicalises
        it (= the path it must send upstream)."""
        h = s3itest.sign_request("PUT", cx.url + upstream_path, body)
        st, hd, rbody = cx.send("PUT", raw_path, h, body)
        got = [r[0] for r in cx.upstream_requests(upstream_path)]
        return st, rbody, got

    def check(pairs):
        problems, rows = [], []
        for raw_path, want in pairs:
            st, rbody, got = put_raw(raw_path, want)
            rows.append("%s -> %r; upstream request lines %s" % (
                raw_path, st, [g.split(" ", 1)[1] for g in got]))
            if not got:
                problems.append("%s: no upstream request with the exact "
                                "target %s (answer %r %r)" % (
                                    raw_path, want, st, rbody[:200]))
            if st is None or st >= 500:
                problems.append("%s: %r" % (raw_path, st))
        if os.path.exists(canary):
            problems.append("%s exists: a key reached the file system" %
                            canary)
        leftovers = [f for f in os.listdir(cx.state_dir)
                     if f not in ("journal", "instance-id") and
                     not f.startswith("journal")]
        return problems, rows, leftovers

    def literal():
        pairs = [("/%s/dots/a/../b.txt" % BUCKET,) * 2,
                 ("/%s/../escape-t15.txt" % BUCKET,) * 2,
                 ("/%s/dots/./c.txt" % BUCKET,) * 2,
                 ("/%s/dots/.." % BUCKET,) * 2,
                 ("/%s/../../../../..%s" % (BUCKET, canary),) * 2]
        problems, rows, left = check(pairs)
        return not problems, "%s\n%s\nstate_dir: %s" % (
            "\n".join(problems), "\n".join(rows), left)
    t.case("keys with . and .. segments (a/../b, ../escape, ./c, .., "
           "../../../../../tmp/CANARY): forwarded with exactly that target, "
           "never resolved; no local file created", literal)

    def encoded():
        pairs = [("/%s/dots/e/%%2e%%2e/f.txt" % BUCKET,
                  "/%s/dots/e/../f.txt" % BUCKET),
                 ("/%s/dots/%%2E%%2E/g.txt" % BUCKET,
                  "/%s/dots/../g.txt" % BUCKET),
                 ("/%s/dots/%%2e/h.txt" % BUCKET,
                  "/%s/dots/./h.txt" % BUCKET),
                 ("/%s/..%%2F..%%2Fetc%%2Fpasswd" % BUCKET,
                  "/%s/../../etc/passwd" % BUCKET),
                 ("/%s/dots/%%252e%%252e/i.txt" % BUCKET,
                  "/%s/dots/%%252e%%252e/i.txt" % BUCKET)]
        problems, rows, left = check(pairs)
        return not problems, "%s\n%s" % ("\n".join(problems),
                                         "\n".join(rows))
    t.case("percent-encoded dots (%2e%2e, %2E%2E, %2e, ..%2F..%2F, and a "
           "literal %2e%2e sent as %252e%252e): decoded once and re-encoded "
           "once upstream, never resolved", encoded)

    def bucket_dots():
        problems = []
        for p in ("/../x.txt", "/./x.txt", "/%2e%2e/x.txt", "/%2E/x.txt",
                  "/.."):
            h = s3itest.sign_request("GET", cx.url + p)
            n0 = cx.seen()
            st, hd, body = cx.send("GET", p, h)
            ok, more = error_check(st, hd, body, 400, "InvalidBucketName")
            if cx.seen() != n0:
                more.append("forwarded")
            problems += ["%s: %s" % (p, m) for m in more]
        return not problems, "\n".join(problems)
    t.case("bucket names . and .. with [bucket *] (/../x, /./x, /%2e%2e/x, "
           "/%2E/x, /..): 400 InvalidBucketName, nothing forwarded",
           bucket_dots)


# --- header injection -------------------------------------------------------

def sec_injection(cx):
    t = cx.t
    n = [0]

    def raw_put(d, extra):
        """A correctly signed PUT with extra raw header bytes (unsigned)
        before the blank line: (status, body, path, forwarded requests)."""
        n[0] += 1
        path = "/%s/inject/case-%d.txt" % (BUCKET, n[0])
        body = b"inject"
        h = s3itest.sign_request("PUT", d.url + path, body)
        lines = ["PUT %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % d.port,
                 "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in h.items()]
        req = ("\r\n".join(lines) + "\r\n").encode() + extra + \
            b"\r\nConnection: close\r\n\r\n" + body
        n0 = cx.seen()
        st, hdrs, rbody, raw = s3itest.raw_exchange(d.port, req, timeout=15)
        time.sleep(0.1)
        n1 = cx.seen()
        return st, hdrs, rbody, path, n1 - n0

    def upstream_view(path):
        reqs = cx.upstream_requests(path)
        names = [k for r in reqs for k, _ in r[1]]
        signed = [m.group(1) for r in reqs for k, v in r[1]
                  if k.lower() == "authorization"
                  for m in [re.search(r"SignedHeaders=([^,]*)", v)] if m]
        return reqs, names, signed

    def refused_400(desc, extra, allow_clean_forward=None):
        """400 and nothing forwarded; or, when allow_clean_forward(names,
        signed) says so, a forward whose headers are clean."""
        def fn():
            # A daemon per case: a request the upstream misparses can
            # leave its connection out of step for the next request.
            d = cx.daemon("s3inval-inject-%d" % (n[0] + 1))
            try:
                st, hdrs, rbody, path, fwd = raw_put(d, extra)
            finally:
                s3itest.stop(d)
            reqs, names, signed = upstream_view(path)
            problems = []
            if fwd == 0:
                ok, more = error_check(st, hdrs, rbody, 400, (
                    "InvalidArgument", "InvalidRequest", "BadRequest",
                    "MalformedHeader", "InvalidHeader"))
                problems += more
            else:
                bad_signed = [s for s in signed if not re.match(
                    r"^[a-z0-9-]+(;[a-z0-9-]+)*$", s)]
                good = allow_clean_forward is not None and \
                    allow_clean_forward(names, signed) and not bad_signed \
                    and st == 200
                if not good:
                    problems.append("forwarded upstream (%d request(s)): "
                                    "SignedHeaders %s; header names %s; "
                                    "verifier: %s" % (
                                        fwd, signed, names,
                                        [r[2] for r in reqs]))
            return not problems, "%s\nanswer %r %r" % (
                "\n".join(problems), st, rbody[:400])
        t.case(desc, fn)

    refused_400("x-amz-meta-x value with a bare CR ('a CR x-amz-meta-"
                "injected: 1'): 400, nothing forwarded",
                b"x-amz-meta-x: a\rx-amz-meta-injected: 1")
    refused_400("a header name with a bare CR ('X-Name CR X-Injected: 1'): "
                "400, nothing forwarded", b"X-Name\rX-Injected: 1")
    refused_400("an obs-fold continuation line ('X-Fold: a' CRLF SP "
                "'X-Injected: 1'): 400, or forwarded unfolded as one header "
                "(RFC 9112 5.2); never a header named from the "
                "continuation", b"X-Fold: a\r\n X-Injected: 1",
                lambda names, signed: "X-Fold" in names and not any(
                    "injected" in n.lower() for n in names))
    refused_400("whitespace between a header name and its colon ('X-Sp : "
                "a'): 400 (RFC 9112 5.1), nothing forwarded", b"X-Sp : a")
    refused_400("a bare LF in a header value ('X-Val: a' LF 'X-Injected: "
                "1'): 400, or two clean headers upstream (a bare LF may end "
                "a line, RFC 9112 2.2)", b"X-Val: a\nX-Injected: 1",
                lambda names, signed: "X-Val" in names and
                "X-Injected" in names)

    def desync():
        # Whether the next request reuses the upstream connection is up to
        # libcurl's pool: three rounds, so that a desync shows in nearly
        # every run while the bug is there (and never once it is fixed).
        d = cx.daemon("s3inval-inject-desync")
        rounds = []
        try:
            for _ in range(3):
                st, hdrs, rbody, path, fwd = raw_put(
                    d, b"X-Name\rX-Injected: 1")
                answers = []
                for _ in range(2):
                    p = "/%s/auth/x.txt" % BUCKET
                    st2, _, b2 = s3itest.http_request(
                        d.url, "GET", p, headers=s3itest.sign_request(
                            "GET", d.url + p), timeout=15)
                    answers.append((st2, b2[:160]))
                rounds.append((st, fwd, answers))
        finally:
            s3itest.stop(d)
        ok = all(a == (200, b"hello") for r in rounds for a in r[2])
        return ok, "\n".join(
            "request with a CR in a header name: %r, forwarded %d; the "
            "next GETs (other connections) got %s" % r for r in rounds)
    t.case("after a request with a CR in a header name, the next requests "
           "through the same daemon still get their own answers (no "
           "upstream connection left out of step)", desync)


# --- limits -----------------------------------------------------------------

def sec_limits(cx):
    t = cx.t

    def chunked_too_big():
        key = "limits/chunked-too-big.bin"
        path = "/%s/%s" % (BUCKET, key)
        h = s3itest.sign_request("PUT", cx.url + path,
                                 payload_hash="UNSIGNED-PAYLOAD")
        h["Transfer-Encoding"] = "chunked"
        n0 = cx.seen()
        c = http.client.HTTPConnection("127.0.0.1", cx.port, timeout=30)
        problems = []
        try:
            t0 = time.time()
            c.request("PUT", path, body=iter([b"c" * 16384] * 13),
                      headers=h, encode_chunked=True)
            r = c.getresponse()
            body = r.read()
            dt = time.time() - t0
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            ok, more = error_check(r.status, hdrs, body, 400,
                                   "EntityTooLarge")
            problems += more
            # the same connection, unless the proxy said it closes it
            if hdrs.get("connection", "").lower() != "close":
                h2 = s3itest.sign_request("GET", cx.url + "/%s/auth/x.txt"
                                          % BUCKET)
                c.request("GET", "/%s/auth/x.txt" % BUCKET, headers=h2)
                r2 = c.getresponse()
                b2 = r2.read()
                if r2.status != 200 or b2 != b"hello":
                    problems.append("the next request on the connection: "
                                    "%r %r" % (r2.status, b2[:200]))
                n_after = 1
            else:
                n_after = 0
        finally:
            c.close()
        if cx.seen() != n0 + n_after:
            problems.append("%d request(s) forwarded" % (
                cx.seen() - n0 - n_after))
        spools = [f for f in os.listdir(cx.state_dir)
                  if f.startswith("spool")]
        if spools:
            problems.append("spool files left: %s" % spools)
        if s3itest.moto_object(cx.moto_url, BUCKET, key) is not None:
            problems.append("the object exists in moto")
        return not problems, "%s\n%.2fs; %r %r" % ("\n".join(problems), dt,
                                                   hdrs, body[:400])
    t.case("chunked PUT of 208 KiB with server.spool_max = 64k: 400 "
           "EntityTooLarge, nothing forwarded, no spool file left, the "
           "connection still serves the next request", chunked_too_big)

    def big_heads():
        problems, rows = [], []
        # Just over max_header_size (8k): our S3 answer.  Far over it,
        # past the connection's buffer (max_header_size + 2k): libmicro-
        # httpd's own 414/431, and the connection closed.
        p = "/%s/%s" % (BUCKET, "k" * 8300)
        h = s3itest.sign_request("GET", cx.url + p)
        n0 = cx.seen()
        st, hd, body = cx.send("GET", p, h)
        ok, more = error_check(st, hd, body, 400,
                               ("RequestHeaderSectionTooLarge",
                                "KeyTooLongError", "InvalidURI"))
        problems += ["8.1 KiB target: " + m for m in more]
        rows.append("8.1 KiB target: %r %r" % (st, body[:200]))
        p = "/%s/%s" % (BUCKET, "k" * 20000)
        h = s3itest.sign_request("GET", cx.url + p)
        try:
            st, hd, body = cx.send("GET", p, h)
        except OSError as e:
            st, hd, body = None, {}, repr(e).encode()
        if st not in (400, 414, 431, None):
            problems.append("20 KiB target: status %r" % st)
        rows.append("20 KiB target: %r %r" % (st, body[:200]))
        h = s3itest.sign_request("GET", cx.url + "/%s/auth/x.txt" % BUCKET,
                                 headers={"X-Pad": "p" * (200 * 1024)})
        try:
            st, hd, body = cx.send("GET", "/%s/auth/x.txt" % BUCKET, h)
        except OSError as e:     # closed while we were still sending
            st, hd, body = None, {}, repr(e).encode()
        rows.append("200 KiB header: %r %r (S3 XML: %s)" % (
            st, body[:160], s3itest.parse_s3_error(body) is not None))
        if st not in (400, 431, None):
            problems.append("200 KiB header: status %r" % st)
        if cx.seen() != n0:
            problems.append("%d forwarded" % (cx.seen() - n0))
        if not cx.d.alive():
            problems.append("the daemon died")
        st, _, body = cx.send("GET", "/%s/auth/x.txt" % BUCKET,
                              s3itest.sign_request(
                                  "GET", cx.url + "/%s/auth/x.txt" % BUCKET))
        if st != 200:
            problems.append("a normal GET afterwards: %r" % st)
        return not problems, "\n".join(problems + rows)
    t.case("a request target just over max_header_size (8k) is 400 S3 "
           "XML; 20 KiB targets and 200 KiB headers (past the connection's "
           "buffer) are refused 400/414/431 or closed; nothing forwarded, "
           "the daemon serves on", big_heads)


# --- slow and idle clients --------------------------------------------------

def sec_slow(cx):
    t = cx.t
    res = {}

    def slowloris():
        prefix = ("GET /%s/auth/x.txt HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  "X-Slow: " % (BUCKET, cx.port)).encode() + b"s" * 200
        slow = [socket.create_connection(("127.0.0.1", cx.port), 5)
                for _ in range(SLOW_CONNECTIONS)]
        silent = [socket.create_connection(("127.0.0.1", cx.port), 5)
                  for _ in range(3)]
        t0 = time.time()
        closed = {}             # index -> seconds after t0
        silent_closed = {}
        lat, errors = [], []
        stop = threading.Event()

        c = s3itest.s3_client(cx.url, max_attempts=0, read_timeout=10)
        c.get_object(Bucket=BUCKET, Key="auth/x.txt")["Body"].read()

        def normal():
            while not stop.is_set():
                a = time.time()
                try:
                    got = c.get_object(Bucket=BUCKET,
                                       Key="auth/x.txt")["Body"].read()
                    if got != b"hello":
                        errors.append("read %r" % got)
                except Exception as e:
                    errors.append(repr(e)[:200])
                lat.append((round(a - t0, 2), round(time.time() - a, 3)))
                stop.wait(0.2)
        th = threading.Thread(target=normal, daemon=True)
        th.start()

        def gone(s):
            # readable: EOF, a reset or an answer (a 408): the proxy is
            # done with this connection
            return readable(s)
        try:
            i = 0
            while time.time() - t0 < CLIENT_TIMEOUT + 7:
                for k, s in enumerate(slow):
                    if k in closed:
                        continue
                    if gone(s):
                        closed[k] = time.time() - t0
                        continue
                    try:
                        s.send(prefix[i:i + 1])
                    except OSError:
                        closed[k] = time.time() - t0
                for k, s in enumerate(silent):
                    if k not in silent_closed and gone(s):
                        silent_closed[k] = time.time() - t0
                i += 1
                time.sleep(1.0)
        finally:
            stop.set()
            th.join(15)
            for s in slow + silent:
                s.close()
        res.update(closed=closed, silent=silent_closed, lat=lat,
                   errors=errors, sent=i)
        return res

    def normal_ok():
        r = slowloris()
        worst = max(d for _, d in r["lat"]) if r["lat"] else None
        return (r["lat"] and worst < 2.0 and not r["errors"]), \
            "%d normal GETs, slowest %.3fs, errors %s\n(start s, " \
            "seconds): %s" % (len(r["lat"]), worst or -1, r["errors"][:5],
                              r["lat"])
    t.case("20 slowloris connections (one header byte a second, ~10 s): a "
           "normal client's GETs keep succeeding, each < 2 s", normal_ok)

    def slow_closed():
        if not res:
            return False, "needs the case before"
        c = res["closed"]
        late = [k for k in range(SLOW_CONNECTIONS)
                if c.get(k, 1e9) > CLIENT_TIMEOUT + 5]
        return not late, "%d of %d slow connections still open after " \
            "%.0fs (each sent %d bytes, one a second; server.client_timeout" \
            " %ds); closed at %s" % (len(late), SLOW_CONNECTIONS,
                                     CLIENT_TIMEOUT + 7, res["sent"],
                                     CLIENT_TIMEOUT,
                                     sorted(round(v, 1) for v in c.values()))
    t.case("... and the slowloris connections are closed within "
           "server.client_timeout (3 s) + 5 s, whatever they trickle",
           slow_closed)

    def silent_closed():
        if not res:
            return False, "needs the case before"
        c = res["silent"]
        ok = len(c) == 3 and all(CLIENT_TIMEOUT - 1 <= v <=
                                 CLIENT_TIMEOUT + 5 for v in c.values())
        return ok, "silent connections closed at %s" % sorted(
            round(v, 1) for v in c.values())
    t.case("connections that send nothing are closed after "
           "server.client_timeout (3 s, within +5 s)", silent_closed)


def sec_idle(cx):
    t = cx.t
    res = {}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE_CONNECTIONS + 400
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (min(max(want, 4096), hard), hard))
        except (ValueError, OSError):
            pass
    soft2, _ = resource.getrlimit(resource.RLIMIT_NOFILE)

    def held():
        if soft2 < want:
            return False, "RLIMIT_NOFILE soft %d hard %d: cannot hold %d " \
                "connections" % (soft2, hard, IDLE_CONNECTIONS)
        d = cx.daemon("s3inval-idle", server__max_connections=1200,
                      server__client_timeout="60s")
        res["d"] = d
        base = fd_count(d.pid)
        res["base"] = base
        socks = []
        t0 = time.time()
        try:
            for _ in range(IDLE_CONNECTIONS):
                socks.append(socket.create_connection(("127.0.0.1", d.port),
                                                      10))
            opened = time.time() - t0
            deadline = time.time() + 30
            # (base may count a descriptor the daemon had open only at
            # start: a tolerance of 10)
            while fd_count(d.pid) < base + IDLE_CONNECTIONS - 10 and \
                    time.time() < deadline:
                time.sleep(0.2)
            peak = fd_count(d.pid)
            lat, errs = [], []
            path = "/%s/auth/x.txt" % BUCKET
            for i in range(10):
                a = time.time()
                try:
                    st, _, body = s3itest.http_request(
                        d.url, "GET", path, headers=s3itest.sign_request(
                            "GET", d.url + path), timeout=10)
                    if st != 200 or body != b"hello":
                        errs.append((st, body[:100]))
                except Exception as e:
                    errs.append(repr(e)[:200])
                lat.append(time.time() - a)
            c = s3itest.s3_client(d.url, max_attempts=0)
            a = time.time()
            c.put_object(Bucket=BUCKET, Key="idle/new.txt", Body=b"new")
            lat.append(time.time() - a)
            alive = sum(1 for s in socks if not _peer_closed(s))
        finally:
            for s in socks:
                s.close()
        res["closed_at"] = time.time()
        ok = (peak >= base + IDLE_CONNECTIONS - 10 and not errs
              and max(lat) < 2.0 and alive == IDLE_CONNECTIONS)
        return ok, "opened %d connections in %.1fs; daemon fds %d -> %d; " \
            "%d still open when the requests ran; new requests: slowest " \
            "%.3fs, errors %s" % (len(socks), opened, base, peak, alive,
                                  max(lat), errs[:3])
    t.case("1,000 idle connections held open (max_connections 1200): new "
           "requests (10 GETs, a boto3 PUT) succeed, each < 2 s", held)

    def released():
        d = res.get("d")
        if d is None:
            return False, "needs the case before"
        base = res["base"]
        deadline = time.time() + 20
        while fd_count(d.pid) > base + 10 and time.time() < deadline:
            time.sleep(0.2)
        now = fd_count(d.pid)
        took = time.time() - res["closed_at"]
        alive = d.alive()
        s3itest.stop(d)
        return now <= base + 10 and alive, "daemon fds: %d at start, %d " \
            "%.1fs after the clients closed" % (base, now, took)
    t.case("... and when they close, the daemon's descriptors fall back "
           "(/proc/PID/fd within 10 of the start)", released)


def readable(s, timeout=0.0):
    """poll(), not select(): descriptors here go past FD_SETSIZE."""
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(p.poll(int(timeout * 1000)))


def _peer_closed(s):
    if not readable(s):
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# --- the admin listener -----------------------------------------------------

def sec_admin(cx):
    t = cx.t

    def admin():
        problems, rows = [], []
        ip = non_loopback_ipv4()
        addrs = ["[::]:%d" % s3itest.free_port()]
        if ip:
            addrs.append("%s:%d" % (ip, s3itest.free_port()))
        for a in addrs:
            conf = s3itest.write_config(
                cx.ws.logdir, cx.verifier.url, name="admin-remote.conf",
                state_dir=cx.ws.path("state-admin"), server__admin_listen=a)
            t0 = time.time()
            rc, out, err = s3itest.run_s3inval(
                ["-f", "-c", conf], env=s3itest.daemon_env(cx.env),
                timeout=10)
            dt = time.time() - t0
            with open(cx.ws.path("s3inval-admin-refused.log"), "a") as f:
                f.write(out + err)
            rows.append("%s: rc %d in %.1fs: %s" % (a, rc, dt,
                                                    (out + err)[-300:]))
            if rc in (0, -1) or "admin_allow_remote" not in out + err:
                problems.append("admin_listen %s was not refused" % a)
        port = s3itest.free_port()
        d = cx.daemon("s3inval-admin-allowed",
                      server__admin_listen="0.0.0.0:%d" % port,
                      server__admin_allow_remote="yes")
        try:
            st, _, body = s3itest.http_request(
                "http://127.0.0.1:%d/healthz" % port, timeout=10)
        except OSError as e:
            st, body = None, repr(e).encode()
        finally:
            s3itest.stop(d)
        rows.append("0.0.0.0:%d with admin_allow_remote: /healthz %r" % (
            port, st))
        if st != 200:
            problems.append("0.0.0.0 with admin_allow_remote = yes: "
                            "/healthz %r %r" % (st, body[:200]))
        return not problems, "\n".join(problems + rows)
    t.case("admin_listen [::]:PORT and this host's own address are refused "
           "at start (names admin_allow_remote); 0.0.0.0 with "
           "admin_allow_remote = yes binds and answers /healthz", admin)


# --- secrets and the end ----------------------------------------------------

def secret_constants():
    """{value: "file:NAME"} of the module-level string constants of the
    test sources whose names say they are secrets."""
    rx = re.compile(r"(^|_)(SK|SECRET|SECRETS|TOKEN|PASSWORD)(_|$)|SECRET",
                    re.I)
    # names that say secret but hold a recipe for one
    not_secret = re.compile(r"ALPHABET|CHARS|PATTERN|_RX$|_RE$|FORMAT",
                            re.I)
    files = glob.glob(os.path.join(s3itest.HERE, "*.py")) + \
        glob.glob(os.path.join(s3itest.FIXTURES, "*.py"))
    out = {}
    for f in sorted(files):
        try:
            tree = ast.parse(open(f, encoding="utf-8").read(), f)
        except (OSError, SyntaxError):
            continue
        for node in tree.body:
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and rx.search(target.id) \
                        and not not_secret.search(target.id) \
                        and isinstance(node.value, ast.Constant) \
                        and isinstance(node.value.value, str) \
                        and len(node.value.value) >= 8:
                    out.setdefault(node.value.value, "%s:%s" % (
                        os.path.basename(f), target.id))
    for name in ("DEPLOY_SK", "READER_SK", "UPSTREAM_SK"):
        out.setdefault(getattr(s3itest, name), "s3itest:" + name)
    out.setdefault(SESSION_TOKEN, "t15:SESSION_TOKEN")
    return out


def is_daemon_log(path):
    name = os.path.basename(path)
    if not name.endswith(".log"):
        return False
    if name.startswith("s3inval"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if DAEMON_LINE.match(line):
                    return True
                if i > 200:
                    break
    except OSError:
        return False
    return False


def sec_final(cx):
    t = cx.t

    def secrets():
        # Make sure the daemon has logged all it will (stopped, flushed).
        for d in cx.daemons:
            if d is not cx.d and d.alive():
                s3itest.stop(d)
        rc, out, err = s3itest.run_s3inval(
            ["check-config", "-c", cx.conf], env=s3itest.daemon_env(cx.env))
        with open(cx.ws.path("s3inval-check-config.log"), "w") as f:
            f.write(out + err)
        root = os.path.join(s3itest.TOP_BUILDDIR, "tests", "integration",
                            "logs")
        checked, skipped, hits = [], [], []
        wanted = secret_constants()
        for dirpath, _, files in os.walk(root):
            for fn in sorted(files):
                p = os.path.join(dirpath, fn)
                rel = os.path.relpath(p, root)
                if not is_daemon_log(p):
                    skipped.append(rel)
                    continue
                try:
                    with open(p, "rb") as f:
                        data = f.read(64 << 20)
                except OSError:
                    continue
                checked.append(rel)
                for value, where in wanted.items():
                    if value.encode() in data:
                        hits.append("%s: secret %s" % (rel, where))
                for m in HEX64_SIG.finditer(data):
                    hits.append("%s: %r" % (rel, m.group(0)[:30]))
        mine = [c for c in checked if c.startswith(NAME + os.sep)]
        text = cx.d.log_text()
        debug = sum(1 for ln in text.splitlines() if " debug " in ln)
        t.diag("secret grep: %d values (%s); %d daemon logs checked (%d of "
               "this script); %d other files left out: %s" % (
                   len(wanted), ", ".join(sorted(set(wanted.values()))),
                   len(checked), len(mine), len(skipped),
                   ", ".join(skipped[:40])))
        ok = not hits and len(mine) >= 3 and debug > 0 and rc == 0
        return ok, "hits: %s\nthis script's daemon logs: %s\ndebug lines " \
            "in the main daemon's log: %d\ncheck-config rc %d" % (
                hits[:20], mine, debug, rc)
    t.check("no secret, session token or 'Signature=<64 hex>' in any daemon "
            "log of the suite (log.level = debug here) or in check-config "
            "output", secrets)

    def verifier_clean():
        s = cx.verifier.stats()
        others = [r for r in s["last_rejects"]
                  if "/inject/" not in (r.get("path") or "")]
        return s["seen"] > 0 and not others, short(s, 2000)
    t.check("verifier: every forwarded request correctly signed (the "
            "injection daemon's garbled requests aside)", verifier_clean)

    def ends():
        text = cx.d.log_text()
        bad = [ln for ln in text.splitlines()
               if "ERROR: AddressSanitizer" in ln or "runtime error:" in ln]
        alive = cx.d.alive()
        rc = s3itest.stop(cx.d)
        return alive and rc == 0 and not bad, "alive %s, exit %r, %s" % (
            alive, rc, bad[:5])
    t.check("the main daemon ran throughout, no sanitizer report, exits 0 "
            "on SIGTERM", ends)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=BUDGET))
