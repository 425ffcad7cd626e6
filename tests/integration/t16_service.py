#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t16_service: the daemon's service life (DESIGN §8).
SIGTERM while an upload is in flight: new connections are refused, the
upload completes and is acknowledged, its key is journaled and, with
cloudfront.flush_on_shutdown, invalidated before the exit, which is 0.
SIGHUP: log.file is reopened (logrotate moved it) and the [client] keys
are read again (a new key works, a removed one is refused); a broken file
changes nothing.  `s3inval healthcheck` exits 0 against a running daemon
and 1 against none.
systemd's Type=notify, with a datagram socket of our own as NOTIFY_SOCKET
(as systemd-notify's peer): READY=1 comes from the daemon's own PID once
both listeners accept, WATCHDOG=1 every half of WATCHDOG_USEC while the
admin listener answers (with its token: no refusal logged), STOPPING=1 at
SIGTERM, then exit 0.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import http.client
    import signal
    import socket
    import struct
    import subprocess
    import threading
    import time
    import s3itest
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t16_service"
BUCKET = "svc-bucket"


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t16")
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)

    # --- SIGTERM during an upload -----------------------------------------
    conf = s3itest.write_config(
        ws.logdir, moto_url, name="term.conf",
        sections={"bucket " + BUCKET: {"distributions": dist}},
        server__shutdown_grace="20s",
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="30s",
        cloudfront__max_delay="60s", cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__flush_on_shutdown="yes")
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-term")
    body = os.urandom(256 * 1024) * 160          # 40 MiB
    result = {}
    # By hand, so the upload is surely in flight when SIGTERM comes: the
    # head and the first MiB go before the signal, the rest after.
    url = d.url + "/" + BUCKET + "/in%20flight/big.bin"
    h = s3itest.sign_request("PUT", url, body, {
        "Content-Length": str(len(body))})
    host, port = d.url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.putrequest("PUT", "/" + BUCKET + "/in%20flight/big.bin",
                    skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(body[:MiB])
    time.sleep(0.5)
    t0 = time.time()
    os.kill(d.proc.pid, signal.SIGTERM)
    time.sleep(0.3)
    port = int(port)
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        refused = False
    except OSError:
        refused = True
    try:
        conn.send(body[MiB:])
        resp = conn.getresponse()
        resp.read()
        result["status"] = resp.status
    except Exception as e:
        result["error"] = repr(e)
    rc = d.proc.wait(30)
    took = time.time() - t0
    t.ok(refused, "after SIGTERM new connections are refused")
    t.ok(result.get("status") == 200,
         "the upload in flight completes and is acknowledged", str(result))
    t.ok(rc == 0 and took < 20, "the daemon exits 0 within shutdown_grace",
         "rc %s after %.1fs\n%s" % (rc, took, s3itest.tail(d.log_path)))
    obj = s3itest.moto_client(moto_url).get_object(
        Bucket=BUCKET, Key="in flight/big.bin")["Body"].read()
    t.ok(obj == body, "the object stored upstream is whole",
         "%d of %d bytes" % (len(obj), len(body)))
    t.ok("/in%20flight/big.bin" in s3itest.moto_invalidated_paths(cf, dist),
         "flush_on_shutdown: its invalidation was submitted before the exit",
         s3itest.tail(d.log_path))

    # --- SIGHUP --------------------------------------------------------------
    logfile = os.path.join(ws.logdir, "rotated.log")
    conf2 = s3itest.write_config(
        ws.logdir, moto_url, name="hup.conf",
        sections={"bucket " + BUCKET: {}}, log__file=logfile)
    d2 = s3itest.start_s3inval(conf2, None, ws.logdir, name="s3inval-hup")
    s3 = s3itest.s3_client(d2.url)
    s3.put_object(Bucket=BUCKET, Key="before-rotate.txt", Body=b"1")
    os.rename(logfile, logfile + ".1")
    # A new key and the reader's key removed, in the same file.
    text = open(conf2).read()
    text = text.replace("[client reader]", "[client rotated]").replace(
        s3itest.READER_AK, "AKIDROTATEDKEY000001").replace(
        s3itest.READER_SK, "rotatedSecretKey0123456789abcdefghijklmn")
    open(conf2, "w").write(text)
    os.kill(d2.proc.pid, signal.SIGHUP)
    time.sleep(0.5)
    s3.put_object(Bucket=BUCKET, Key="after-rotate.txt", Body=b"2")
    time.sleep(0.3)
    new_log = open(logfile).read() if os.path.exists(logfile) else ""
    old_log = open(logfile + ".1").read()
    t.ok("after-rotate.txt" in new_log and "before-rotate.txt" in old_log
         and "after-rotate.txt" not in old_log,
         "SIGHUP reopens log.file: new lines go to the new file",
         "new:\n%s\nold tail:\n%s" % (new_log[-800:], old_log[-400:]))
    rotated = s3itest.s3_client(d2.url, "AKIDROTATEDKEY000001",
                                "rotatedSecretKey0123456789abcdefghijklmn")
    try:
        rotated.get_object(Bucket=BUCKET, Key="after-rotate.txt")
        ok_new = True
    except Exception as e:
        ok_new = repr(e)
    t.ok(ok_new is True, "SIGHUP loads a new client key", str(ok_new))
    old = s3itest.s3_client(d2.url, s3itest.READER_AK, s3itest.READER_SK)
    try:
        old.get_object(Bucket=BUCKET, Key="after-rotate.txt")
        code = "accepted"
    except Exception as e:
        code = getattr(e, "response", {}).get("Error", {}).get("Code", e)
    t.ok(code == "InvalidAccessKeyId", "a removed key is refused after "
         "SIGHUP", str(code))
    open(conf2, "a").write("\n[nonsense]\nx = 1\n")
    os.kill(d2.proc.pid, signal.SIGHUP)
    time.sleep(0.5)
    try:
        rotated.get_object(Bucket=BUCKET, Key="after-rotate.txt")
        still = True
    except Exception as e:
        still = repr(e)
    t.ok(still is True and d2.alive(),
         "a broken file on SIGHUP changes nothing and keeps the daemon up",
         str(still))

    # --- healthcheck -------------------------------------------------------
    admin = "http://" + s3itest.read_config(conf2)["server"]["admin_listen"]
    up = subprocess.run([s3itest.S3INVAL_BIN, "healthcheck", "--admin",
                         admin], capture_output=True, text=True, timeout=20)
    down = subprocess.run([s3itest.S3INVAL_BIN, "healthcheck", "--admin",
                           "http://127.0.0.1:%d" % s3itest.free_port()],
                          capture_output=True, text=True, timeout=20)
    t.ok(up.returncode == 0 and down.returncode == 1,
         "s3inval healthcheck: 0 when /healthz answers, 1 when nothing does",
         "up %d %s; down %d %s" % (up.returncode, up.stderr,
                                   down.returncode, down.stderr))
    s3itest.stop(d2)
    notify_cases(t, ws, moto_url)


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def notify_cases(t, ws, moto_url):
    """Type=notify: what reaches NOTIFY_SOCKET, from whom and when."""
    path = ws.scratch_path("notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.settimeout(0.2)
    conf = s3itest.write_config(
        ws.logdir, moto_url, name="notify.conf",
        sections={"bucket " + BUCKET: {}},
        server__admin_token="t16-notify-token-0123456789")
    cfg = s3itest.read_config(conf)["server"]
    ports = [int(cfg[k].rsplit(":", 1)[1]) for k in ("listen",
                                                      "admin_listen")]
    got, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            pid = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", data[:12])[0]
            text = msg.decode("utf-8", "replace")
            # Whether the listeners accept at the moment READY=1 came.
            up = [accepts(p) for p in ports] if "READY=1" in text else None
            got.append((time.time(), pid, text, up))
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    d = s3itest.start_s3inval(conf, {"NOTIFY_SOCKET": path,
                                     "WATCHDOG_USEC": "1000000"},
                              ws.logdir, name="s3inval-notify")
    deadline = time.time() + 10
    while time.time() < deadline and not any("READY=1" in m[2]
                                             for m in got):
        time.sleep(0.05)
    ready = [m for m in got if "READY=1" in m[2]]
    t.ok(len(ready) == 1 and ready[0][1] == d.pid and ready[0][3] ==
         [True, True] and "STATUS=listening on" in ready[0][2],
         "READY=1 (with STATUS=) from the daemon's own PID, once both "
         "listeners accept", "messages %r, daemon pid %d" % (got, d.pid))
    time.sleep(2.6)
    t0 = ready[0][0] if ready else 0
    pings = [m for m in got if m[2] == "WATCHDOG=1" and m[1] == d.pid and
             m[0] >= t0]
    log = open(d.log_path, encoding="utf-8", errors="replace").read()
    t.ok(len(pings) >= 4 and "admin_refused" not in log,
         "WATCHDOG_USEC=1s: WATCHDOG=1 every 0.5 s while the admin "
         "listener answers (its token sent: no refusal logged)",
         "%d pings in 2.6 s: %r\nlog:\n%s" % (len(pings), got,
                                               s3itest.tail(d.log_path)))
    os.kill(d.pid, signal.SIGTERM)
    rc = d.proc.wait(30)
    time.sleep(0.3)
    stop.set()
    th.join(5)
    sock.close()
    stopping = [m for m in got if "STOPPING=1" in m[2]]
    t.ok(rc == 0 and len(stopping) == 1 and stopping[0][1] == d.pid,
         "SIGTERM: STOPPING=1 from the daemon, then exit 0",
         "rc %r, messages %r" % (rc, got[-5:]))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=150))
