#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t01_cli: the binary's interface (DESIGN §9).  --version and --help;
check-config on a good file (every section printed, secrets masked), on a
bad one (every problem as FILE:LINE in one pass, exit 2) and from the
environment alone (S3INVAL_* overrides, one bucket and one client);
`plan` (the worker's mapping and planning as a dry run); `flush` against
nothing and with a bad --wait; the refusal of a remote admin listener.
Then a running daemon (moto + verifier + s3inval): the admin endpoints,
`s3inval flush [--wait]` against it, and exit 0 within 5 s of SIGTERM.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import signal
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t01_cli"

SECRET = "cliSecretKeyEXAMPLEdoNotPrint0123456789ab"
ENV_SECRET = "envSecretKeyEXAMPLEdoNotPrint0123456789ab"

GOOD = """\
; t01_cli: a good configuration
[server]
listen = 127.0.0.1:%(port)d
admin_listen = 127.0.0.1:%(admin)d
state_dir = %(state)s

[upstream]
endpoint = http://127.0.0.1:%(closed)d
region = us-east-1
addressing = path

[auth]
mode = sigv4

[client deploy]
access_key_id = AKIDCLIEXAMPLE000001
secret_access_key = %(secret)s
buckets = blog:rw

[cloudfront]
wildcard_threshold = 5

[bucket blog]
distributions = E1
origin_path = /site
index_documents = index.html

[log]
level = info
"""

# Four problems on known lines (1-based), and one good client so that
# nothing but these is wrong.
BAD = """\
[server]
listen = 127.0.0.1:8080
colour = blue
[cloudfront]
quiet_period = 5 parsecs
[frobnicate]
x = 1
[upstream]
addressing = sideways
[client deploy]
access_key_id = AKIDCLIEXAMPLE000001
secret_access_key = %(secret)s
buckets = *:rw
"""
BAD_LINES = [(3, "colour"), (5, "quiet_period"), (6, "frobnicate"),
             (9, "addressing")]

PLAN_KEYS = ["site/index.html", "site/posts/a/index.html", "other/x.html",
             "site/a b.html"]
PLAN_PATHS = ["/", "/index.html", "/posts/a/", "/posts/a/index.html",
              "/a%20b.html"]


def run(t, ws):
    if not os.access(s3itest.S3INVAL_BIN, os.X_OK):
        t.ok(False, "s3inval binary", "S3I_BIN %s is missing or not "
             "executable" % s3itest.S3INVAL_BIN)
        return
    cli_cases(t, ws)
    why = s3itest.missing_peers()
    if why:
        t.missing_tool("running daemon (admin endpoints, flush, SIGTERM)",
                       why)
        return
    daemon_cases(t, ws, s3itest.Stack(ws))


def show(rc, out, err):
    return "rc=%r\nstdout:\n%s\nstderr:\n%s" % (rc, out[-3000:], err[-3000:])


def sections(text):
    """{section: {key: value}} of check-config's INI output."""
    out, sec = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            sec = m.group(1).strip()
            out.setdefault(sec, {})
        elif "=" in line and sec is not None:
            k, v = line.split("=", 1)
            out[sec][k.strip()] = v.strip()
    return out


def plan_output(out):
    """{distribution: [paths]} of `s3inval plan` output."""
    res, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^# distribution (\S+?):?(\s|$)", line)
        if m:
            cur = m.group(1)
            res.setdefault(cur, [])
        elif line.startswith("#") or not line.strip():
            continue
        elif cur is not None:
            res[cur].append(line.strip())
    return res


def cli_cases(t, ws):
    closed = s3itest.free_port()
    good = ws.path("good.conf")
    with open(good, "w", encoding="utf-8") as f:
        f.write(GOOD % {"port": s3itest.free_port(),
                        "admin": s3itest.free_port(),
                        "state": ws.path("state"), "closed": closed,
                        "secret": SECRET})
    bad = ws.path("bad.conf")
    with open(bad, "w", encoding="utf-8") as f:
        f.write(BAD % {"secret": SECRET})
    run = s3itest.run_s3inval

    def version():
        rc, out, err = run(["--version"])
        return (rc == 0 and re.match(r"^s3inval \d+\.\d+\.\d+\s*$", out)
                is not None), show(rc, out, err)
    t.case("--version prints 's3inval X.Y.Z', exit 0", version)

    def help_():
        rc, out, err = run(["--help"])
        text = out + err
        missing = [w for w in ("run", "check-config", "flush", "plan")
                   if not re.search(r"\b%s\b" % re.escape(w), text)]
        return rc == 0 and not missing, "missing %r\n%s" % (
            missing, show(rc, out, err))
    t.case("--help lists run, check-config, flush and plan, exit 0", help_)

    def check_good():
        rc, out, err = run(["check-config", "-c", good])
        secs = sections(out)
        want = ["server", "upstream", "auth", "cloudfront", "log",
                "client deploy", "bucket blog"]
        missing = [s for s in want if s not in secs]
        b = secs.get("bucket blog", {})
        good_ = (rc == 0 and not missing
                 and secs.get("upstream", {}).get("region") == "us-east-1"
                 and b.get("distributions") == "E1"
                 and b.get("origin_path") == "/site")
        return good_, "missing sections %r\n%s" % (missing,
                                                   show(rc, out, err))
    t.case("check-config GOOD: exit 0, INI with every section", check_good)

    def masked():
        rc, out, err = run(["check-config", "-c", good])
        secs = sections(out)
        shown = secs.get("client deploy", {}).get("secret_access_key")
        return (rc == 0 and SECRET not in out and SECRET not in err
                and "********" in out and shown == "********"), \
            "secret shown as %r; secret in stdout %s, in stderr %s\n%s" % (
                shown, SECRET in out, SECRET in err, show(rc, out, err))
    t.case("check-config masks the client secret (never printed, "
           "'********' instead)", masked)

    def check_bad():
        rc, out, err = run(["check-config", "-c", bad])
        problems = []
        for line, word in BAD_LINES:
            rx = re.compile(r"^%s:%d: .*%s" % (re.escape(bad), line,
                                               re.escape(word)), re.M)
            n = len(rx.findall(err))
            if n != 1:
                problems.append("%d '%s:%d: ...%s...' lines, want 1" % (
                    n, bad, line, word))
        others = [ln for ln in err.splitlines()
                  if re.match(r"^%s:\d+: " % re.escape(bad), ln)
                  and not any(ln.startswith("%s:%d: " % (bad, n))
                              for n, _ in BAD_LINES)]
        if others:
            problems.append("unexpected problems reported: %r" % others)
        if SECRET in out + err:
            problems.append("the secret was printed")
        return rc == 2 and not problems, "\n".join(problems) + "\n" + \
            show(rc, out, err)
    t.case("check-config BAD: exit 2, one FILE:LINE: message per problem "
           "(unknown key, bad duration, unknown section, bad enum), all "
           "in one pass", check_bad)

    def env_region():
        rc, out, err = run(["check-config", "-c", good], env=s3itest.clean_env(
            {"S3INVAL_UPSTREAM_REGION": "eu-west-1"}))
        region = sections(out).get("upstream", {}).get("region")
        return rc == 0 and region == "eu-west-1", "region %r\n%s" % (
            region, show(rc, out, err))
    t.case("S3INVAL_UPSTREAM_REGION=eu-west-1 overrides the file's region",
           env_region)

    def env_unknown():
        rc, out, err = run(["check-config", "-c", good],
                           env=s3itest.clean_env({"S3INVAL_FOO": "1"}))
        return rc == 2 and "S3INVAL_FOO" in err, show(rc, out, err)
    t.case("an unknown S3INVAL_FOO variable is an error (exit 2, named)",
           env_unknown)

    def env_only():
        env = s3itest.clean_env({
            "S3INVAL_BUCKET_NAME": "envbucket",
            "S3INVAL_BUCKET_DISTRIBUTIONS": "EENV1, EENV2",
            "S3INVAL_CLIENT_ACCESS_KEY_ID": "AKIDENVEXAMPLE000001",
            "S3INVAL_CLIENT_SECRET_ACCESS_KEY": ENV_SECRET,
            "S3INVAL_CLIENT_BUCKETS": "envbucket:rw"})
        rc, out, err = run(["check-config"], env=env)
        secs = sections(out)
        bk = secs.get("bucket envbucket", {})
        clients = [v for k, v in secs.items() if k.startswith("client")]
        cl = clients[0] if len(clients) == 1 else {}
        dists = [d.strip() for d in bk.get("distributions", "").split(",")]
        return (rc == 0 and dists == ["EENV1", "EENV2"]
                and cl.get("access_key_id") == "AKIDENVEXAMPLE000001"
                and cl.get("secret_access_key") == "********"
                and cl.get("buckets", "").replace(" ", "") == "envbucket:rw"
                and ENV_SECRET not in out + err), \
            "bucket %r clients %r\n%s" % (bk, clients, show(rc, out, err))
    t.case("check-config without -c: S3INVAL_BUCKET_* defines a bucket, "
           "S3INVAL_CLIENT_* a client (secret masked)", env_only)

    def plan(keys, env=None):
        return run(["plan", "-c", good, "--bucket", "blog"],
                   stdin="".join(k + "\n" for k in keys),
                   env=s3itest.clean_env(env))

    def plan_mapping(env, want):
        def fn():
            rc, out, err = plan(PLAN_KEYS, env)
            got = plan_output(out)
            return (rc == 0 and list(got) == ["E1"]
                    and sorted(got["E1"]) == sorted(want)), \
                "want %r\n%s" % (sorted(want), show(rc, out, err))
        return fn
    # The mapping alone: a threshold no folder reaches.
    t.case("plan --bucket blog, wildcard_threshold 10 (env): index "
           "documents, origin path, encoding, key outside the origin "
           "path", plan_mapping({"S3INVAL_CLOUDFRONT_WILDCARD_THRESHOLD":
                                 "10"}, PLAN_PATHS))
    # The same with the file's threshold 5: inval_plan.h counts the
    # entries directly in a folder ("/", "/index.html", "/a%20b.html" at
    # the root; "/posts/a/" and its index.html in posts/a/): no collapse.
    t.case("plan --bucket blog, wildcard_threshold 5: exactly "
           "/ /index.html /posts/a/ /posts/a/index.html /a%20b.html",
           plan_mapping(None, PLAN_PATHS))

    def plan_collapse():
        keys = ["site/folder/page-%d.html" % i for i in range(6)]
        rc, out, err = plan(keys)
        got = plan_output(out)
        return (rc == 0 and got == {"E1": ["/folder/*"]}), show(rc, out, err)
    t.case("plan: 6 files in one folder collapse to /folder/*",
           plan_collapse)

    def flush_closed():
        t0 = time.time()
        rc, out, err = run(["flush", "--admin",
                            "http://127.0.0.1:%d" % closed], timeout=30)
        dt = time.time() - t0
        return (rc not in (0, -1) and str(closed) in err
                and re.search(r"connect|refused", err, re.I) is not None
                and dt < 15), "%.1fs\n%s" % (dt, show(rc, out, err))
    t.case("flush --admin http://127.0.0.1:<closed port>: non-zero exit, "
           "a clear message", flush_closed)

    def flush_bad_wait():
        rc, out, err = run(["flush", "--wait=abc", "--admin",
                            "http://127.0.0.1:%d" % closed])
        return rc == 2 and "wait" in err, show(rc, out, err)
    t.case("flush --wait=abc: exit 2", flush_bad_wait)

    def remote_admin():
        conf = s3itest.write_config(
            ws.logdir, "http://127.0.0.1:%d" % closed,
            admin_port=1, name="remote-admin.conf",
            server__admin_listen="0.0.0.0:%d" % s3itest.free_port())
        t0 = time.time()
        rc, out, err = run(["-f", "-c", conf], env=s3itest.daemon_env(),
                           timeout=10)
        dt = time.time() - t0
        return (rc not in (0, -1) and dt < 10
                and "admin_allow_remote" in out + err), "%.1fs\n%s" % (
                    dt, show(rc, out, err))
    t.case("the daemon refuses admin_listen 0.0.0.0:PORT without "
           "admin_allow_remote (quick non-zero exit, names the key)",
           remote_admin)


def daemon_cases(t, ws, stack):
    admin = stack.s3inval.admin_url
    run = s3itest.run_s3inval

    def get(path, method="GET"):
        return s3itest.http_request(admin + path, method, timeout=10)

    def status_ok(path):
        def fn():
            st, h, body = get(path)
            return st == 200, (st, h, body[:500])
        return fn
    t.case("GET /healthz: 200", status_ok("/healthz"))
    t.case("GET /readyz: 200", status_ok("/readyz"))

    def metrics():
        s3 = s3itest.s3_client(stack.url)
        s3.list_buckets()
        st, h, body = get("/metrics")
        text = body.decode("utf-8", "replace")
        return (st == 200 and "s3inval_requests_total" in text
                and re.search(r"^# TYPE \S+ (counter|gauge|histogram|"
                              r"summary|untyped)$", text, re.M)
                is not None), (st, text[:2000])
    t.case("GET /metrics after one request: s3inval_requests_total and "
           "'# TYPE' lines", metrics)

    def status_json():
        st, h, body = get("/status")
        try:
            doc = json.loads(body)
        except ValueError as e:
            return False, "not JSON (%s): %r" % (e, body[:500])
        return (st == 200 and isinstance(doc, dict)
                and "invalidation" in doc), (st, body[:1000])
    t.case("GET /status: JSON with 'invalidation'", status_json)

    def post_flush():
        st, h, body = get("/flush", "POST")
        try:
            doc = json.loads(body)
        except ValueError as e:
            return False, "not JSON (%s): %r" % (e, body[:500])
        return st == 200 and "done" in doc, (st, body[:500])
    t.case("POST /flush: JSON with 'done'", post_flush)

    def cli_flush(args):
        def fn():
            rc, out, err = run(["flush"] + args + ["--admin", admin],
                               timeout=30)
            return rc == 0, show(rc, out, err)
        return fn
    t.case("s3inval flush --admin http://127.0.0.1:ADMINPORT: exit 0",
           cli_flush([]))
    t.case("s3inval flush --wait=5 --admin ...: exit 0 (nothing pending)",
           cli_flush(["--wait=5"]))

    def sigterm():
        d = stack.s3inval
        os.kill(d.pid, signal.SIGTERM)
        t0 = time.time()
        try:
            rc = d.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        dt = time.time() - t0
        s3itest.stop(d)
        return rc == 0, "exit status %r after %.1fs; log tail:\n%s" % (
            rc, dt, s3itest.tail(d.log_path))
    t.check("SIGTERM: the daemon exits 0 within 5 s", sigterm)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=110, peers=False))
