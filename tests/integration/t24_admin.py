#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t24_admin: the admin listener against hostile and careless clients
(issue 14, items 3 and 5) and the CLI that asks it (issue 11, items 3
and 5), through the real binary.

Daemon A (no token, CloudFront = moto): every endpoint refuses a Host that
does not name the listen address or a name in admin_hosts (421, counted,
logged at most once per 10 s) and serves the ones that do; a body gets 413; /healthz answers 200
within a second while 64 idle and 64 one-byte-a-second connections are
open, and those are closed once their head is 10 s late; past 256
connections the listener answers 503 with Retry-After; `s3inval flush -c
FILE --wait` and `healthcheck -c FILE` find admin_listen in FILE alone.

Daemon B (token in admin_token_file, CloudFront unreachable): no or a wrong
token gets 401 with WWW-Authenticate on every endpoint, the right one
works; the CLI sends it from -c FILE, from S3INVAL_SERVER_ADMIN_TOKEN(_FILE)
alone (the container's HEALTHCHECK), and says which token was wrong;
`flush --wait` running out says what is pending (exit 1); SIGTERM during a
`flush --wait=600` stops the daemon in seconds.  Once it is down, `flush`
names the URL and where the address came from (exit 3).  What flush makes
of the daemon's JSON (a "failed" array of distributions, an answer that is
not JSON) is checked against a stand-in listener.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import signal
    import socket
    import subprocess
    import threading
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t24_admin"
BUCKET = "adm-bucket"
TOKEN = "t24-0123456789abcdef0123456789abcdef"
ENDPOINTS = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
             ("GET", "/status"), ("POST", "/flush")]


def raw(port, data, timeout=10):
    """Send bytes, read until the server closes; the whole answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    except socket.timeout:
        return out
    finally:
        s.close()


def request(port, method, path, host=None, headers=(), version="1.1"):
    """(status, {header: value}, body) of one request sent raw; host
    None: none at all."""
    lines = ["%s %s HTTP/%s" % (method, path, version)]
    if host is not None:
        lines.append("Host: " + host)
    lines += list(headers) + ["Connection: close"]
    if method == "POST":
        lines.append("Content-Length: 0")
    ans = raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    head, _, body = ans.partition(b"\r\n\r\n")
    hl = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", hl[0] if hl else "")
    hdrs = {}
    for h in hl[1:]:
        k, _, v = h.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return (int(m.group(1)) if m else None), hdrs, body


def metric(port, name, host):
    st, _, body = request(port, "GET", "/metrics", host,
                          ["Authorization: Bearer " + TOKEN])
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def cli(args, env=None, timeout=60):
    """(rc, stdout, stderr) of s3inval ARGS with env over a clean one."""
    r = subprocess.run([s3itest.S3INVAL_BIN] + args, capture_output=True,
                       text=True, timeout=timeout,
                       env=s3itest.clean_env(env))
    return r.returncode, r.stdout, r.stderr


def show(rc, out, err):
    return "rc %s\nstdout: %s\nstderr: %s" % (rc, out[-2000:], err[-2000:])


def closed_by_peer(s):
    s.settimeout(0.2)
    try:
        return s.recv(100) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


class Stub(threading.Thread):
    """An admin listener stand-in answering POST /flush with a canned
    status and body, to check what the CLI makes of the daemon's JSON."""

    def __init__(self):
        import http.server
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(stub.body)))
                self.end_headers()
                self.wfile.write(stub.body)

            def log_message(self, *args):
                pass
        super().__init__(daemon=True)
        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.status, self.body = 200, b""

    def run(self):
        self.srv.serve_forever()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def cli_reads_json(t):
    stub = Stub()
    stub.start()
    url = "http://127.0.0.1:%d" % stub.port
    try:
        def failing():
            stub.status, stub.body = 200, json.dumps({
                "done": False, "paths_pending": 3, "batches_open": 0,
                "waited_ms": 5, "stopping": True, "failed": [
                    {"distribution": "E24GONE", "paths": 3,
                     "reason": "NoSuchDistribution", "gives_up_in_s": 60},
                    "E24DENIED: AccessDenied"]}).encode()
            rc, out, err = cli(["flush", "--admin", url])
            return (rc == 1 and "E24GONE" in err and "NoSuchDistribution"
                    in err and "E24DENIED: AccessDenied" in err and
                    "stopping" in err), show(rc, out, err)
        t.case("flush prints each distribution of the JSON's \"failed\" "
               "array (and that the daemon is stopping) and exits 1",
               failing)

        def none_failing():
            stub.status, stub.body = 200, b'{"done":true,"paths_pending":' \
                b'0,"batches_open":0,"waited_ms":0,"failed":[]}'
            rc, out, err = cli(["flush", "--admin", url, "--wait=1"])
            return rc == 0 and err == "", show(rc, out, err)
        t.case("an empty \"failed\" array: exit 0, nothing on stderr",
               none_failing)

        def not_json():
            stub.status, stub.body = 200, b"<html>a proxy page</html>"
            rc, out, err = cli(["flush", "--admin", url])
            stub.status, stub.body = 500, b"boom\nsecond line"
            rc2, out2, err2 = cli(["flush", "--admin", url])
            return (rc == 4 and "JSON" in err and rc2 == 4 and
                    "answered 500: boom" in err2 and "second" not in err2), \
                show(rc, out, err) + show(rc2, out2, err2)
        t.case("an answer that is not the daemon's JSON, or an error "
               "status: exit 4 with the status and first line", not_json)
    finally:
        stub.stop()


def run(t, ws):
    cli_reads_json(t)
    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t24")
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)

    # === daemon A: no token, CloudFront at moto ===========================
    aport = s3itest.free_port()
    conf_a = s3itest.write_config(
        ws.logdir, moto_url, admin_port=aport, name="a.conf",
        state_dir=ws.path("state-a"), server__admin_hosts="s3inval-svc",
        sections={"bucket " + BUCKET: {"distributions": dist}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50")
    a = s3itest.start_s3inval(conf_a, None, ws.logdir, name="s3inval-a")
    s3itest.wait_port(aport, a)     # it starts after the S3 listener
    hp = "127.0.0.1:%d" % aport

    def bad_hosts():
        bad = []
        for method, path in ENDPOINTS:
            for host in ("evil.example:%d" % aport, "evil.example",
                         "s3inval-svc.evil.example:%d" % aport,
                         "127.0.0.1:%d" % (aport + 1), "localhost.:%d" %
                         aport, "127.0.0.1.nip.io:%d" % aport, None):
                st, h, body = request(aport, method, path, host,
                                      version="1.0" if host is None else
                                      "1.1")
                if st != 421 or b"Host" not in body:
                    bad.append((method, path, host, st, body[:80]))
        return not bad, bad
    t.case("every endpoint answers 421 to a Host that does not name the "
           "admin listener (a rebinding name, another port, none)",
           bad_hosts)

    def good_hosts():
        bad = []
        for host in (hp, "127.0.0.1", "localhost:%d" % aport, "localhost",
                     "[::1]:%d" % aport, "s3inval-svc:%d" % aport):
            for method, path in ENDPOINTS:
                if path == "/readyz":
                    continue        # 503 here: the upstream is moto
                st, _, body = request(aport, method, path, host)
                if st != 200:
                    bad.append((method, path, host, st, body[:80]))
        return not bad, bad
    t.case("the listen address, bare or with its port, localhost, [::1] "
           "and a name in admin_hosts are served on every endpoint",
           good_hosts)

    def refusals_counted():
        n = metric(aport, 's3inval_admin_refused_total{reason="host"}', hp)
        log = a.log_text()
        lines = [ln for ln in log.splitlines()
                 if "admin_refused" in ln and "reason=host" in ln]
        return (n == 7 * len(ENDPOINTS) and 1 <= len(lines) <= 2
                and "evil.example" in log), "counted %s; log lines %s" % (
                    n, lines)
    t.case("Host refusals are counted (s3inval_admin_refused_total) and "
           "logged at most once per 10 s", refusals_counted)

    def body_refused():
        st, _, body = request(aport, "GET", "/healthz", hp,
                              ["Content-Length: 5"])
        st2, _, _ = request(aport, "POST", "/flush", hp,
                            ["Transfer-Encoding: chunked"])
        return st == 413 and st2 == 413, (st, st2, body)
    t.case("a request with a body (Content-Length or chunked) gets 413",
           body_refused)

    def methods():
        got = {}
        for m, path in (("POST", "/healthz"), ("PUT", "/metrics"),
                        ("DELETE", "/status"), ("POST", "/readyz"),
                        ("GET", "/flush")):
            st, h, _ = request(aport, m, path, hp)
            got[m + " " + path] = (st, h.get("allow"))
        st, _, _ = request(aport, "GET", "/nosuch", hp)
        ok = all(st == 405 and allow for st, allow in got.values())
        return ok and st == 404, (got, st)
    t.case("a known endpoint with another method: 405 with Allow; an "
           "unknown path: 404", methods)

    # --- idle and slow clients ---------------------------------------------
    idle = [socket.create_connection(("127.0.0.1", aport), 5)
            for _ in range(64)]
    slow = [socket.create_connection(("127.0.0.1", aport), 5)
            for _ in range(64)]
    msg = ("GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Pad: %s" % (
        hp, "p" * 60)).encode()
    stop = threading.Event()

    def trickle():
        for i in range(len(msg)):
            for s in slow:
                try:
                    s.send(msg[i:i + 1])
                except OSError:
                    pass
            if stop.wait(1.0):
                return
    tr = threading.Thread(target=trickle, daemon=True)
    tr.start()
    t_open = time.time()
    time.sleep(2.5)

    def healthz_fast():
        times = []
        for _ in range(5):
            t0 = time.time()
            st, _, _ = request(aport, "GET", "/healthz", hp)
            times.append((st, round(time.time() - t0, 3)))
            time.sleep(0.3)
        return all(st == 200 and dt < 1.0 for st, dt in times), times
    t.case("/healthz answers 200 within a second with 64 idle and 64 "
           "one-byte-a-second connections open", healthz_fast)

    def healthcheck_busy():
        t0 = time.time()
        rc, out, err = cli(["healthcheck", "-c", conf_a], timeout=20)
        return rc == 0 and time.time() - t0 < 3, show(rc, out, err)
    t.case("s3inval healthcheck -c FILE: exit 0 meanwhile", healthcheck_busy)

    def cut_late():
        # The head is due 10 s after the connection opened.
        time.sleep(max(0, t_open + 12.5 - time.time()))
        ni = sum(closed_by_peer(s) for s in idle)
        ns = sum(closed_by_peer(s) for s in slow)
        n = metric(aport, "s3inval_admin_timed_out_total", hp)
        return ni == 64 and ns == 64 and n is not None and n >= 128, \
            "idle closed %d, trickling closed %d, counted %s" % (ni, ns, n)
    t.case("idle and trickling connections are closed once their head is "
           "10 s late, and counted", cut_late)
    stop.set()
    tr.join()
    for s in idle + slow:
        s.close()

    def over_limit():
        socks = []
        try:
            for _ in range(300):
                socks.append(socket.create_connection(("127.0.0.1", aport),
                                                      5))
            time.sleep(0.5)
            busy = []
            for s in socks[250:]:
                s.settimeout(0.5)
                try:
                    busy.append(s.recv(300))
                except OSError:
                    busy.append(b"")
            n503 = 0
            for b in busy:
                head, _, body = b.partition(b"\r\n\r\n")
                m = re.search(rb"\r\nContent-Length: (\d+)(\r\n|$)", head)
                if (head.startswith(b"HTTP/1.1 503") and m and
                        b"\r\nRetry-After: 1" in head and
                        int(m.group(1)) == len(body)):
                    n503 += 1
        finally:
            for s in socks:
                s.close()
        time.sleep(0.5)
        n = metric(aport, 's3inval_admin_refused_total{reason="limit"}', hp)
        return 40 <= n503 <= n <= 50, "503s %d of the last 50, counted " \
            "%s" % (n503, n)
    t.case("past 256 connections, the listener answers 503 with "
           "Retry-After, and counts them", over_limit)

    # --- the CLI with admin_listen only in FILE ----------------------------
    s3 = s3itest.s3_client(a.url)
    s3.put_object(Bucket=BUCKET, Key="page.html", Body=b"<p>1</p>")

    def flush_c_wait():
        rc, out, err = cli(["flush", "-c", conf_a, "--wait=30"], timeout=60)
        try:
            doc = json.loads(out)
        except ValueError:
            doc = {}
        paths = s3itest.moto_invalidated_paths(cf, dist)
        return (rc == 0 and doc.get("done") is True and
                "/page.html" in paths), show(rc, out, err) + \
            "\nmoto: %s" % sorted(paths)
    t.case("s3inval flush -c FILE --wait: admin_listen from FILE alone, "
           "exit 0 once CloudFront has it", flush_c_wait)

    def healthcheck_c():
        rc, out, err = cli(["healthcheck", "-c", conf_a])
        rc2, out2, err2 = cli(["healthcheck", "--admin", "http://" + hp])
        return rc == 0 and rc2 == 0, show(rc, out, err) + show(rc2, out2,
                                                               err2)
    t.case("s3inval healthcheck -c FILE and --admin URL: exit 0",
           healthcheck_c)
    s3itest.stop(a)

    # === daemon B: a token in a file, CloudFront unreachable ==============
    tokfile = ws.path("admin.token")
    with open(tokfile, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tokfile, 0o600)
    bport = s3itest.free_port()
    bhp = "127.0.0.1:%d" % bport
    conf_b = s3itest.write_config(
        ws.logdir, moto_url, admin_port=bport, name="b.conf",
        state_dir=ws.path("state-b"),
        sections={"bucket " + BUCKET: {"distributions": "E24UNREACHABLE"}},
        server__admin_token_file=tokfile,
        cloudfront__endpoint="http://127.0.0.1:%d" % s3itest.free_port(),
        cloudfront__quiet_period="200ms", cloudfront__retry_base="200ms")
    b = s3itest.start_s3inval(conf_b, None, ws.logdir, name="s3inval-b")
    s3itest.wait_port(bport, b)

    def token_needed():
        bad = []
        for method, path in ENDPOINTS:
            for hdrs in ([], ["Authorization: Bearer wrong-" + TOKEN],
                         ["Authorization: Bearer " + TOKEN[:-1]],
                         ["Authorization: Basic " + TOKEN],
                         ["Authorization: Bearer " + TOKEN,
                          "Authorization: Bearer " + TOKEN]):
                st, h, _ = request(bport, method, path, bhp, hdrs)
                if st != 401 or "bearer" not in h.get(
                        "www-authenticate", "").lower():
                    bad.append((method, path, hdrs[:1], st, h))
        return not bad, bad[:5]
    t.case("with admin_token_file: no, a wrong, a repeated token get 401 "
           "with WWW-Authenticate on every endpoint", token_needed)

    def token_works():
        bad = []
        for method, path in ENDPOINTS:
            if path == "/readyz":
                continue
            st, _, body = request(bport, method, path, bhp,
                                  ["Authorization: Bearer " + TOKEN])
            if st != 200:
                bad.append((method, path, st, body[:80]))
        st, _, _ = request(bport, "GET", "/status", "evil.example",
                           ["Authorization: Bearer " + TOKEN])
        if st != 421:
            bad.append(("right token, wrong Host", st))
        return not bad and TOKEN not in b.log_text(), bad
    t.case("the right token is served (and a wrong Host is still refused); "
           "the token is never logged", token_works)

    def cli_token_from_file():
        rc, out, err = cli(["flush", "-c", conf_b])
        rc2, out2, err2 = cli(["healthcheck", "-c", conf_b])
        return rc == 0 and rc2 == 0 and '"done"' in out, \
            show(rc, out, err) + show(rc2, out2, err2)
    t.case("s3inval flush -c FILE and healthcheck -c FILE send the token "
           "from admin_token_file", cli_token_from_file)

    def healthcheck_env():
        # The container's HEALTHCHECK: no file, the environment only,
        # with and without a client defined there.
        client = {"S3INVAL_CLIENT_ACCESS_KEY_ID": "AKIDT24",
                  "S3INVAL_CLIENT_SECRET_ACCESS_KEY": "x" * 40,
                  "S3INVAL_CLIENT_BUCKETS": "*:rw",
                  "S3INVAL_BUCKET_NAME": "*"}
        res = []
        for env in ({"S3INVAL_SERVER_ADMIN_TOKEN": TOKEN},
                    {"S3INVAL_SERVER_ADMIN_TOKEN_FILE": tokfile},
                    dict(client, S3INVAL_SERVER_ADMIN_TOKEN=TOKEN),
                    dict(client, S3INVAL_SERVER_ADMIN_TOKEN_FILE=tokfile)):
            env["S3INVAL_SERVER_ADMIN_LISTEN"] = bhp
            rc, out, err = cli(["healthcheck"], env)
            res.append((rc, err.strip()[:300]))
        rc, out, err = cli(["healthcheck"], {
            "S3INVAL_SERVER_ADMIN_LISTEN": bhp})
        return all(r[0] == 0 for r in res) and rc == 1 and "401" in err, \
            "%s; without a token: %s" % (res, show(rc, out, err))
    t.case("s3inval healthcheck with the address and token from the "
           "environment alone (the image's HEALTHCHECK): 0; no token: 1",
           healthcheck_env)

    def flush_no_token():
        rc, out, err = cli(["flush", "--admin", "http://" + bhp])
        return (rc == 4 and "401" in err and "admin_token" in err and
                bhp in err), show(rc, out, err)
    t.case("flush without the token: exit 4, says the daemon wants "
           "server.admin_token", flush_no_token)

    def flush_wrong_token():
        wrong = s3itest.write_config(
            ws.logdir, moto_url, admin_port=bport, name="wrong.conf",
            state_dir=ws.path("state-b"),
            server__admin_token="wrong-" + TOKEN)
        rc, out, err = cli(["flush", "-c", wrong])
        return (rc == 4 and "401" in err and "wrong.conf" in err and
                "not the daemon's" in err and "wrong-" not in err), \
            show(rc, out, err)
    t.case("flush with a wrong token: exit 4, names where the token came "
           "from, never prints it", flush_wrong_token)

    s3 = s3itest.s3_client(b.url)
    s3.put_object(Bucket=BUCKET, Key="a/b.html", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="c.html", Body=b"y")

    def flush_timeout():
        # Once the worker holds the batch: a flush in the moment it plans
        # can answer done (inval_worker's race, reported), not our subject.
        deadline = time.time() + 20
        while "invalidation_retry" not in b.log_text() and \
                time.time() < deadline:
            time.sleep(0.1)
        rc, out, err = cli(["flush", "-c", conf_b, "--wait=2"], timeout=60)
        m = re.search(r"not all Completed within 2 s: (\d+) path\(s\) "
                      r"pending, (\d+) batch\(es\) open", err)
        return (rc == 1 and m is not None and
                int(m.group(1)) + int(m.group(2)) >= 1 and
                '"done":false' in out.replace(" ", "")), show(rc, out, err)
    t.case("flush --wait=2 with CloudFront unreachable: exit 1, says what "
           "is still pending or open", flush_timeout)

    def sigterm_during_wait():
        p = subprocess.Popen([s3itest.S3INVAL_BIN, "flush", "-c", conf_b,
                              "--wait=600"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=s3itest.clean_env())
        try:
            time.sleep(1.5)
            t0 = time.time()
            os.kill(b.pid, signal.SIGTERM)
            try:
                b.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
            dt = time.time() - t0
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
        return (b.proc.returncode == 0 and dt < 10 and p.returncode != 0), \
            "daemon rc %s after %.1fs; flush %s" % (
                b.proc.returncode, dt, show(p.returncode, out, err))
    t.case("SIGTERM while a flush --wait=600 waits: the daemon exits 0 in "
           "seconds, the flush fails", sigterm_during_wait)
    s3itest.stop(b)

    def daemon_down():
        rc, out, err = cli(["flush", "-c", conf_b])
        rc2, out2, err2 = cli(["flush", "-c", conf_b], {
            "S3INVAL_SERVER_ADMIN_LISTEN": bhp})
        return (rc == 3 and bhp in err and "b.conf" in err and
                re.search(r"connect", err, re.I) and rc2 == 3 and
                "S3INVAL_SERVER_ADMIN_LISTEN" in err2), \
            show(rc, out, err) + show(rc2, out2, err2)
    t.case("with the daemon down, flush exits 3 naming the URL and where "
           "the address came from (the file, the environment)", daemon_down)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=240))
