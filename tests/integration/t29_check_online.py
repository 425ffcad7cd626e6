#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t29_check_online: `s3inval check-config --online` (DESIGN §9, issue 11)
against live services: moto behind the SigV4 verifier as the upstream (so
the HeadBucket is a correctly signed one) and moto's CloudFront.

A good setup passes (exit 0, every line OK, the credentials' source named,
the secret never printed); each broken part fails with exit 1 and a line
that names it: a distribution that does not exist, an unreachable upstream,
an upstream that is not S3, a bucket that does not exist, an unwritable
state_dir (a read-only bind mount in a private mount namespace when run as
root, a 0555 directory otherwise), a listen address in use, no
credentials, a clock 20 minutes off.  Warnings keep exit 0: an origin path
that differs from origin_path, a distribution with another bucket as
origin, a clock 2 minutes off.  A running daemon's own addresses are not
failures.  A configuration error is exit 2, before any live check.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import email.utils
    import http.server
    import re
    import shutil
    import socket
    import subprocess
    import threading
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t29_check_online"
BUCKET = "preflight-blog"
ORIGIN_PATH = "/site"


class FakeS3(http.server.BaseHTTPRequestHandler):
    """Answers every request with what the server's fields say: a status,
    S3's request id or not, a Date `skew` seconds off."""

    def do_HEAD(self):
        srv = self.server
        self.send_response_only(srv.status)
        self.send_header("Date", email.utils.formatdate(
            time.time() + srv.skew, usegmt=True))
        if srv.s3:
            self.send_header("x-amz-request-id", "T29FAKE")
            self.send_header("x-amz-bucket-region", "us-east-1")
        else:
            self.send_header("Server", "nginx")
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args):
        pass


def fake_s3(status, s3, skew=0):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    srv.status, srv.s3, srv.skew = status, s3, skew
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


def lines_of(out):
    """[(LEVEL, text)] of the check lines."""
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"^(OK|WARN|FAIL|SKIP) +(.*)$", out, re.M)]


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    _, good = s3itest.moto_distribution(moto_url, BUCKET,
                                        origin_path=ORIGIN_PATH)
    _, other = s3itest.moto_distribution(
        moto_url, "other", domain="another-bucket.s3.amazonaws.com")
    env = s3itest.daemon_env()

    def conf(name, upstream=None, dists=None, **kw):
        sections = {"bucket *": None, "bucket " + BUCKET: {
            "distributions": dists or good, "origin_path": ORIGIN_PATH}}
        for sec, kv in kw.pop("sections", {}).items():
            sections.setdefault(sec, {}).update(kv)
        return s3itest.write_config(
            ws.logdir, upstream or verifier.url, name=name,
            state_dir=ws.scratch_path(name + "-state"), sections=sections,
            cloudfront__endpoint=moto_url, **kw)

    def check(path, extra_env=None, argv_prefix=None):
        e = dict(env)
        e.update(extra_env or {})
        argv = ["check-config", "--online", "-c", path]
        if argv_prefix is None:
            rc, out, err = s3itest.run_s3inval(argv, env=e, timeout=60)
        else:
            p = subprocess.run(argv_prefix + [s3itest.S3INVAL_BIN] + argv,
                               env=e, capture_output=True, timeout=60)
            rc, out, err = p.returncode, p.stdout.decode(
                "utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        with open(ws.path(os.path.basename(path) + ".out"), "w",
                  encoding="utf-8") as f:
            f.write("rc=%d\n%s\n--- stderr\n%s" % (rc, out, err))
        return rc, out, err, lines_of(out)

    def diag(rc, out, err):
        return "rc=%r\n%s\nstderr:\n%s" % (rc, out, err)

    # --- a good setup ---------------------------------------------------
    path = conf("good.conf")
    before = verifier.stats()
    rc, out, err, ls = check(path)
    after = verifier.stats()
    what = " ".join(x for _, x in ls)
    t.ok(rc == 0 and ls and all(lv == "OK" for lv, _ in ls) and
         re.search(r"^OK +state_dir .*: (writable|does not exist yet)", out,
                   re.M) and
         re.search(r"^OK +listen .*: bindable", out, re.M) and
         re.search(r"^OK +admin_listen .*: bindable", out, re.M) and
         re.search(r"^OK +bucket %s: reachable" % BUCKET, out, re.M) and
         re.search(r"^OK +clock: ", out, re.M) and
         re.search(r"^OK +distribution %s \(bucket %s\): exists.*origin "
                   r"%s\.s3\.amazonaws\.com, origin path %s$" % (
                       good, BUCKET, BUCKET, ORIGIN_PATH), out, re.M),
         "a good setup: exit 0, one OK line per check (state_dir, listen, "
         "admin_listen, credentials, bucket, clock, distribution)",
         diag(rc, out, err))
    t.ok(re.search(r"^OK +credentials: environment, access key %s$" %
                   s3itest.UPSTREAM_AK, out, re.M) and
         s3itest.UPSTREAM_SK not in out + err and
         s3itest.DEPLOY_SK not in out + err,
         "the credentials line names the source and key id, never a secret",
         diag(rc, out, err))
    ak = s3itest.UPSTREAM_AK
    accepted = after["access_keys"].get(ak, 0) - \
        before["access_keys"].get(ak, 0)
    t.ok(accepted >= 1 and after["rejected"] == before["rejected"],
         "the HeadBucket reached the verifier correctly signed (accepted "
         "with the upstream key, nothing rejected)",
         "stats before %r after %r\n%s" % (before, after,
                                           "\n".join(verifier.log_lines()
                                                     [-5:])))

    # --- failures, each named --------------------------------------------
    rc, out, err, ls = check(conf("nodist.conf", dists="ENOSUCHDIST01"))
    t.ok(rc == 1 and re.search(
        r"^FAIL +distribution ENOSUCHDIST01 \(bucket %s\): no such "
        r"distribution at .*fix distributions = in \[bucket %s\]" % (
            BUCKET, BUCKET), out, re.M) and
         re.search(r"^OK +bucket %s: reachable" % BUCKET, out, re.M),
         "a distribution that does not exist: exit 1, FAIL naming it and "
         "the section to fix", diag(rc, out, err))

    closed = "http://127.0.0.1:%d" % s3itest.free_port()
    rc, out, err, ls = check(conf("unreach.conf", upstream=closed))
    t.ok(rc == 1 and re.search(r"^FAIL +bucket %s: upstream unreachable at "
                               r"%s/%s: " % (BUCKET, re.escape(closed),
                                             BUCKET), out, re.M) and
         re.search(r"^SKIP +clock: not checked", out, re.M),
         "an unreachable upstream: exit 1, FAIL 'upstream unreachable' "
         "with the URL", diag(rc, out, err))

    srv, url = fake_s3(404, s3=False)
    rc, out, err, ls = check(conf("nots3.conf", upstream=url))
    srv.shutdown()
    t.ok(rc == 1 and re.search(r"^FAIL +bucket %s: .* does not answer like "
                               r"S3 \(HTTP 404, Server: nginx" % BUCKET, out,
                               re.M),
         "an upstream that is not S3 (a bare 404): exit 1, 'does not answer "
         "like S3'", diag(rc, out, err))

    rc, out, err, ls = check(conf("nobucket.conf", sections={
        "bucket " + BUCKET: {"upstream_bucket": "no-such-bucket-t29"}}))
    t.ok(rc == 1 and re.search(r"^FAIL +bucket %s \(upstream "
                               r"no-such-bucket-t29\): 404: no such bucket"
                               % BUCKET, out, re.M),
         "a bucket that does not exist: exit 1, FAIL '404: no such bucket'",
         diag(rc, out, err))

    path = conf("rostate.conf")
    state = s3itest.read_config(path)["server"]["state_dir"]
    os.makedirs(state, exist_ok=True)
    if os.geteuid() == 0 and shutil.which("unshare"):
        how = "read-only bind mount, as root"
        rc, out, err, ls = check(path, argv_prefix=[
            "unshare", "-m", "sh", "-c",
            'mount --bind -o ro "$0" "$0" && exec "$@"', state])
    else:
        how = "mode 0555, not root"
        os.chmod(state, 0o555)
        rc, out, err, ls = check(path)
        os.chmod(state, 0o755)
    t.ok(rc == 1 and re.search(r"^FAIL +state_dir %s: cannot create and "
                               r"write a file in it: " % re.escape(state),
                               out, re.M) and
         not os.listdir(state),
         "an unwritable state_dir (%s): exit 1, FAIL naming it and why; "
         "no file left behind" % how, diag(rc, out, err))

    path = conf("inuse.conf")
    listen = s3itest.read_config(path)["server"]["listen"]
    host, port = listen.rsplit(":", 1)
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind((host, int(port)))
    busy.listen(1)
    rc, out, err, ls = check(path)
    busy.close()
    t.ok(rc == 1 and re.search(r"^FAIL +listen %s: address in use" %
                               re.escape(listen), out, re.M),
         "a listen address in use: exit 1, FAIL 'address in use'",
         diag(rc, out, err))

    nocred = s3itest.clean_env({
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"})
    rc, out, err = s3itest.run_s3inval(
        ["check-config", "--online", "-c", conf("nocred.conf")], env=nocred,
        timeout=60)
    t.ok(rc == 1 and re.search(r"^FAIL +credentials: ", out, re.M) and
         re.search(r"^SKIP +bucket %s: not checked" % BUCKET, out, re.M),
         "no credentials: exit 1, FAIL credentials, the buckets not checked",
         diag(rc, out, err))

    srv, url = fake_s3(200, s3=True, skew=-20 * 60)
    rc, out, err, ls = check(conf("skew20.conf", upstream=url))
    srv.shutdown()
    t.ok(rc == 1 and re.search(r"^FAIL +clock: 1[12]\d\d s ahead of the "
                               r"upstream's", out, re.M),
         "a clock 20 minutes ahead of the upstream's Date: exit 1, FAIL "
         "clock", diag(rc, out, err))

    # --- warnings keep exit 0 ---------------------------------------------
    srv, url = fake_s3(200, s3=True, skew=120)
    rc, out, err, ls = check(conf("skew2.conf", upstream=url))
    srv.shutdown()
    t.ok(rc == 0 and re.search(r"^WARN +clock: 1[12]\d s behind the "
                               r"upstream's", out, re.M),
         "a clock 2 minutes behind: WARN clock, exit 0", diag(rc, out, err))

    rc, out, err, ls = check(conf("originpath.conf", sections={
        "bucket " + BUCKET: {"origin_path": "/other"}}))
    t.ok(rc == 0 and re.search(
        r"^WARN +distribution %s \(bucket %s\): origin %s\.s3\.amazonaws\."
        r"com has OriginPath \"%s\" but origin_path is \"/other\".*set "
        r"origin_path = %s$" % (good, BUCKET, BUCKET, ORIGIN_PATH,
                                ORIGIN_PATH), out, re.M),
         "origin_path differs from the origin's OriginPath: WARN naming "
         "both, exit 0", diag(rc, out, err))

    rc, out, err, ls = check(conf("otherorigin.conf", dists=other))
    t.ok(rc == 0 and re.search(
        r"^WARN +distribution %s \(bucket %s\): no origin is bucket %s "
        r"\(origins: another-bucket\.s3\.amazonaws\.com\)" % (
            other, BUCKET, BUCKET), out, re.M),
         "a distribution whose origin is another bucket: WARN, exit 0",
         diag(rc, out, err))

    # --- a running daemon's own addresses ----------------------------------
    path = conf("running.conf")
    d = s3itest.start_s3inval(path, logdir=ws.logdir, name="s3inval-run")
    rc, out, err, ls = check(path)
    s3itest.stop(d)
    t.ok(rc == 0 and re.search(r"^OK +listen .*: in use by the running "
                               r"s3inval \(pid %d " % d.pid, out, re.M) and
         re.search(r"^OK +state_dir .*in use by the running s3inval", out,
                   re.M),
         "checked while the daemon runs: its addresses and state_dir are "
         "its own, exit 0", diag(rc, out, err))

    # --- a configuration error: exit 2, no live check ----------------------
    bad = ws.path("bad.conf")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("[server]\nlisten = nowhere\n")
    rc, out, err, ls = check(bad)
    t.ok(rc == 2 and not ls and re.search(r"bad\.conf:2: ", err),
         "a configuration error: exit 2, file:line, no live check",
         diag(rc, out, err))
    s3itest.stop(verifier)
    s3itest.stop(moto)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=240))
