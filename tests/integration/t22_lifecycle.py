#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t22_lifecycle: the process itself (issue 13, build item 1).

- Started without -f, the daemon detaches before any thread exists: the
  command returns 0 once it serves, the lock in state_dir names the
  detached PID, and a write is invalidated (`s3inval flush --wait`
  completes, moto as CloudFront).  Before: the worker thread was lost in
  daemon()'s fork and flush --wait timed out.
- 1,000 SIGHUPs during traffic, then SIGTERM: exit 0, the stop lines in
  the log, the storm answered by a few reloads, and no acknowledged write
  lost (all invalidated after a restart).
- SIGHUP, SIGTERM and SIGINT back to back in every order, and a storm of
  SIGHUPs, never kill the process uncleanly (before: 143 and 129).
- /dev/zero and a FIFO as the configuration: check-config and the daemon
  refuse them at once (exit 2); a SIGHUP with the file replaced by a FIFO
  or /dev/zero keeps the daemon serving.
- SIGTERM during an admin flush?wait=60 stops within shutdown_grace + 1 s
  (needs inval_quiesce() in the stop sequence).
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import itertools
    import re
    import signal
    import subprocess
    import threading
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t22_lifecycle"
BUCKET = "life-bucket"
SIGNAMES = {signal.SIGHUP: "HUP", signal.SIGTERM: "TERM",
            signal.SIGINT: "INT"}


# --- detached daemons, killed at the end ------------------------------------

_detached = []


def kill_detached():
    for pid in _detached:
        if s3itest.pid_alive(pid):
            s3itest.send_signal(pid, signal.SIGKILL)
            s3itest.wait_gone(pid, 5)


# --- scenarios ---------------------------------------------------------------

def detached(t, ws, moto_url, cf, dist):
    """Without -f: back at once, serving, and invalidating."""
    log = ws.path("detached.log")
    conf = s3itest.moto_cf_config(ws.logdir, moto_url, BUCKET, dist,
                                  "detached.conf",
                                  state_dir=ws.path("state-detached"),
                                  log__file=log)
    cfg = s3itest.read_config(conf)
    state = cfg["server"]["state_dir"]
    admin = "http://" + cfg["server"]["admin_listen"]
    port = int(cfg["server"]["listen"].rsplit(":", 1)[1])
    p = s3itest.spawn("s3inval-detached", [s3itest.S3INVAL_BIN, "-c", conf],
                      ws.logdir, s3itest.daemon_env())
    try:
        rc = p.proc.wait(30)
    except subprocess.TimeoutExpired:
        rc = None
    pid = s3itest.lock_pid(state)
    if pid:
        _detached.append(pid)

    def returns():
        try:
            s3itest.http_request(admin + "/healthz", timeout=5)
            up = True
        except OSError as e:
            up = repr(e)
        return (rc == 0 and up is True and pid is not None
                and pid != p.pid and s3itest.pid_alive(pid)), \
            "rc %r, healthz %s, lock names %r (the parent was %d)\n%s" % (
                rc, up, pid, p.pid, s3itest.read_text(log)[-2000:])
    if not t.case("without -f: the command exits 0 once the daemon serves; "
                  "state_dir/lock names the detached PID", returns):
        return

    def invalidates():
        s3 = s3itest.s3_client("http://127.0.0.1:%d" % port)
        keys = ["detached/%d.html" % i for i in range(3)]
        for k in keys:
            s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
        r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30",
                            "--admin", admin], capture_output=True,
                           text=True, timeout=60)
        paths = s3itest.moto_invalidated_paths(cf, dist)
        missing = ["/" + k for k in keys if "/" + k not in paths]
        return r.returncode == 0 and not missing, \
            "flush rc %d %s %s; missing %s\n%s" % (
                r.returncode, r.stdout, r.stderr, missing,
                s3itest.read_text(log)[-2000:])
    t.case("the detached daemon invalidates: flush --wait completes, moto "
           "holds the paths", invalidates)

    def stops():
        s3itest.send_signal(pid, signal.SIGTERM)
        gone = s3itest.wait_gone(pid, 10)
        text = s3itest.read_text(log)
        return gone and "SIGTERM: stopping" in text and \
            re.search(r"info stopped$", text, re.M) is not None, \
            "gone %s\n%s" % (gone, text[-1500:])
    t.case("SIGTERM stops the detached daemon (stop lines in log.file)",
           stops)


def hup_storm_traffic(t, ws, moto_url, cf, dist):
    """1,000 SIGHUPs while writes go on, then SIGTERM."""
    conf = s3itest.moto_cf_config(ws.logdir, moto_url, BUCKET, dist,
                                  "storm.conf",
                                  state_dir=ws.path("state-storm"))
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-storm")
    s3 = s3itest.s3_client(d.url)
    acked, failed = [], []
    stop = threading.Event()

    def traffic():
        i = 0
        while not stop.is_set():
            key = "storm/%04d.html" % i
            i += 1
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"s")
                acked.append(key)
            except Exception as e:
                failed.append((key, repr(e)))

    th = threading.Thread(target=traffic)
    th.start()
    time.sleep(0.3)
    sent = 0
    try:
        for _ in range(1000):
            sent += s3itest.send_signal(d.pid, signal.SIGHUP)
            time.sleep(0.002)
        time.sleep(0.3)
    finally:
        stop.set()
        th.join(60)
    s3itest.send_signal(d.pid, signal.SIGTERM)
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        rc = None
    text = d.log_text()
    reloads = re.findall(r"SIGHUP \((\d+) signals?\)", text)
    t.ok(rc == 0 and "SIGTERM: stopping" in text and
         re.search(r"info stopped$", text, re.M) and not failed and
         len(acked) > 10,
         "1,000 SIGHUPs during traffic, then SIGTERM: exit 0 with the stop "
         "lines, every write answered",
         "rc %r; %d acked, failed %s\n%s" % (rc, len(acked), failed[:5],
                                             text[-2000:]))
    t.ok(sent == 1000 and 1 <= len(reloads) <= 50,
         "the storm is answered by a few reloads, not one per signal",
         "%d signals, %d reloads: %s" % (sent, len(reloads), reloads))

    # No lost write: a restart on the same state_dir invalidates them all.
    d2 = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-storm2")
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=60",
                        "--admin", admin], capture_output=True, text=True,
                       timeout=90)
    paths = s3itest.moto_invalidated_paths(cf, dist)
    covered = "/*" in paths or "/storm/*" in paths
    missing = [k for k in acked if "/" + k not in paths and not covered]
    t.ok(r.returncode == 0 and not missing,
         "no write lost: every acknowledged key is invalidated after the "
         "restart", "flush rc %d %s; %d missing: %s" % (
             r.returncode, r.stdout, len(missing), missing[:10]))
    s3itest.stop(d2)


def every_order(t, ws, moto_url):
    """SIGHUP, SIGTERM, SIGINT back to back, in every order."""
    results = []
    for order in itertools.permutations(
            [signal.SIGHUP, signal.SIGTERM, signal.SIGINT]):
        names = "-".join(SIGNAMES[s] for s in order)
        conf = s3itest.write_config(ws.logdir, moto_url,
                                    name="order-%s.conf" % names)
        d = s3itest.start_s3inval(conf, None, ws.logdir,
                                  name="s3inval-" + names)
        for s in order:
            s3itest.send_signal(d.pid, s)
        try:
            rc = d.proc.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        text = d.log_text()
        results.append((names, rc, "stopping" in text and
                        re.search(r"info stopped$", text, re.M) is not None))
        s3itest.stop(d)
    bad = [r for r in results if r[1] != 0 or not r[2]]
    t.ok(len(results) == 6 and not bad,
         "SIGHUP, SIGTERM and SIGINT back to back in all 6 orders: exit 0 "
         "after a graceful stop", "bad (order, rc, stop lines): %s" % bad)


def hup_flood(t, ws, moto_url):
    """SIGHUPs as fast as they can be sent: still serving, then SIGINT."""
    conf = s3itest.write_config(ws.logdir, moto_url, name="flood.conf")
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-flood")
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    for _ in range(5000):
        s3itest.send_signal(d.pid, signal.SIGHUP)
    time.sleep(1.5)
    alive = d.alive()
    try:
        st, _, _ = s3itest.http_request(admin + "/healthz", timeout=5)
    except OSError as e:
        st = repr(e)
    s3itest.send_signal(d.pid, signal.SIGINT)
    try:
        rc = d.proc.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
    t.ok(alive and st == 200 and rc == 0,
         "a storm of 5,000 SIGHUPs: still serving, then SIGINT exits 0",
         "alive %s, healthz %s, rc %r\n%s" % (alive, st, rc,
                                              d.log_text()[-1500:]))


def not_regular(t, ws, moto_url):
    """/dev/zero and a FIFO as the configuration."""
    fifo = ws.scratch_path("config.fifo")
    os.mkfifo(fifo)

    def check_config(path):
        t0 = time.time()
        rc, out, err = s3itest.run_s3inval(["check-config", "-c", path],
                                           timeout=10)
        return rc, time.time() - t0, err

    def refused(path, what):
        def fn():
            rc, dt, err = check_config(path)
            return (rc == 2 and dt < 1.0 and "%s: cannot read %s: a "
                    "configuration file must be a regular file" % (
                        path, what) in err), \
                "rc %r after %.2fs: %s" % (rc, dt, err)
        return fn
    t.case("check-config -c /dev/zero: exit 2 within a second, a clear "
           "error", refused("/dev/zero", "a character device"))
    t.case("check-config -c FIFO: exit 2 within a second, a clear error",
           refused(fifo, "a FIFO"))

    def daemon_refuses():
        t0 = time.time()
        rc, dt, out = s3itest.run_s3inval_to_exit(
            fifo, s3itest.daemon_env(), ws.logdir, name="s3inval-fifo",
            timeout=10)
        return rc == 2 and dt < 1.5 and "a FIFO" in out, \
            "rc %r after %.2fs: %s" % (rc, time.time() - t0, out)
    t.case("the daemon with -c FIFO: exit 2 at once", daemon_refuses)

    # SIGHUP while the configuration is a FIFO, then /dev/zero.
    conf = s3itest.write_config(ws.logdir, moto_url, name="hup-fifo.conf")
    good = open(conf).read()
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-hupfifo")
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    s3 = s3itest.s3_client(d.url)
    s3itest.moto_client(moto_url).create_bucket(Bucket="hup-fifo")
    served = []
    for swap in ("fifo", "zero"):
        os.unlink(conf)
        if swap == "fifo":
            os.mkfifo(conf)
        else:
            os.symlink("/dev/zero", conf)
        s3itest.send_signal(d.pid, signal.SIGHUP)
        time.sleep(1.5)
        try:
            s3.put_object(Bucket="hup-fifo", Key=swap + ".txt", Body=b"1")
            st, _, _ = s3itest.http_request(admin + "/healthz", timeout=5)
            served.append((swap, d.alive() and st == 200))
        except Exception as e:
            served.append((swap, repr(e)))
        os.unlink(conf)
        with open(conf, "w") as f:
            f.write(good)
    text = d.log_text()
    logged = len(re.findall(r"a configuration file must be a regular file",
                            text))
    t.ok(all(ok is True for _, ok in served) and logged >= 2,
         "SIGHUP with the file replaced by a FIFO, then by /dev/zero: the "
         "daemon keeps serving and logs why the file was not read",
         "served %s, %d error lines\n%s" % (served, logged, text[-1500:]))
    s3itest.stop(d)


def stop_during_flush_wait(t, ws, moto_url):
    """SIGTERM while an admin flush?wait=60 waits: shutdown_grace + 1 s."""
    grace = 2
    conf = s3itest.write_config(
        ws.logdir, moto_url, name="flushwait.conf",
        sections={"bucket " + BUCKET: {"distributions": "E1NEVERDONE"}},
        # CloudFront that never answers: the flush waits its 60 s.
        cloudfront__endpoint="http://127.0.0.1:%d" % s3itest.free_port(),
        cloudfront__quiet_period="100ms", cloudfront__retry_base="1s",
        server__shutdown_grace="%ds" % grace)
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-wait")
    s3itest.s3_client(d.url).put_object(Bucket=BUCKET, Key="w.html",
                                        Body=b"w")
    answer = {}

    def flush():
        try:
            answer["r"] = s3itest.admin_flush(admin, wait=60)
        except Exception as e:
            answer["r"] = repr(e)

    th = threading.Thread(target=flush)
    th.start()
    time.sleep(1.0)
    t0 = time.time()
    s3itest.send_signal(d.pid, signal.SIGTERM)
    try:
        rc = d.proc.wait(70)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.time() - t0
    th.join(10)
    t.ok(rc == 0 and took <= grace + 1,
         "SIGTERM during a 60 s admin flush wait: exit 0 within "
         "shutdown_grace + 1 s",
         "rc %r after %.1fs (grace %ds); the flush got %s\n%s" % (
             rc, took, grace, answer.get("r"), d.log_text()[-1500:]))
    r = answer.get("r")
    t.ok(isinstance(r, tuple) and isinstance(r[1], dict) and
         r[1].get("done") is False,
         "the waiting flush is answered with what is still pending, not "
         "cut off", "the flush got %r" % (r,))


def run(t, ws):
    try:
        moto, moto_url = s3itest.start_moto(ws.logdir)
        cf, dist = s3itest.moto_distribution(moto_url, "t22")
        s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
        detached(t, ws, moto_url, cf, dist)
        hup_storm_traffic(t, ws, moto_url, cf, dist)
        every_order(t, ws, moto_url)
        hup_flood(t, ws, moto_url)
        not_regular(t, ws, moto_url)
        stop_during_flush_wait(t, ws, moto_url)
    finally:
        kill_detached()


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=240))
