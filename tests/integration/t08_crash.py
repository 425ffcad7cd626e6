#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t08_crash: kill -9 at random moments, 20 times, while clients write and
invalidations are pending or in progress; restart on the same state_dir
each time.  At the end every path of every write a client saw succeed is
invalidated, and no batch was created twice (DESIGN §4: a batch keeps its
CallerReference across restarts).

CloudFront is tests/fixtures/fake_cloudfront.py, which, like the real API
and unlike moto, keeps invalidations InProgress for a while and answers a
repeated CallerReference with the invalidation it already has.  The S3
upstream is moto directly: signatures are not the point here.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import random
    import signal
    import subprocess
    import threading
    import time
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t08_crash"
RUNS = 20
WRITERS = 6
DIST = "ECRASHTEST0001"
BUCKET = "crash-bucket"
FAKE = os.path.join(s3itest.TOP_SRCDIR, "tests", "fixtures",
                    "fake_cloudfront.py")


def covers(pattern, path):
    if pattern == path:
        return True
    return pattern.endswith("*") and path.startswith(pattern[:-1])


def start_fake(logdir):
    port = s3itest.free_port()
    argv = [sys.executable, FAKE, "--port", str(port),
            "--access-key", s3itest.UPSTREAM_AK,
            "--secret-key", s3itest.UPSTREAM_SK,
            "--complete-after-ms", "400", "--distribution", DIST,
            "--log", os.path.join(logdir, "fake-requests.log")]
    p = s3itest.spawn("fake_cloudfront", argv, logdir)
    s3itest.wait_port(port, p)
    return p, "http://127.0.0.1:%d" % port


def fake_state(url):
    with urllib.request.urlopen(url + "/__fake/state", timeout=10) as r:
        return json.loads(r.read())


def run(t, ws):
    rng = random.Random(int(os.environ.get("S3INVAL_CRASH_SEED", "0")) or
                        None)
    moto, moto_url = s3itest.start_moto(ws.logdir)
    fake, fake_url = start_fake(ws.logdir)
    port = s3itest.free_port()
    conf = s3itest.write_config(
        ws.logdir, moto_url, port=port,
        sections={"bucket " + BUCKET: {"distributions": DIST}},
        cloudfront__endpoint=fake_url, cloudfront__quiet_period="150ms",
        cloudfront__max_delay="1s", cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__retry_base="100ms", cloudfront__retry_max="1s",
        cloudfront__wildcard_threshold="1000")
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    state_dir = s3itest.read_config(conf)["server"]["state_dir"]
    acked = []
    lock = threading.Lock()
    kills = []

    direct = s3itest.moto_client(moto_url)
    direct.create_bucket(Bucket=BUCKET)

    for n in range(RUNS):
        d = s3itest.start_s3inval(conf, None, ws.logdir,
                                  name="s3inval-run%02d" % n)
        stop = threading.Event()

        def writer(tid):
            c = s3itest.s3_client(d.url, connect_timeout=2, read_timeout=10)
            i = 0
            while not stop.is_set():
                key = "r%02d/w%d/page-%d.html" % (n, tid, i)
                i += 1
                try:
                    c.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 100)
                except Exception:
                    if stop.is_set():
                        return
                    time.sleep(0.05)
                    continue
                with lock:
                    acked.append(key)

        threads = [threading.Thread(target=writer, args=(i,))
                   for i in range(WRITERS)]
        for th in threads:
            th.start()
        # The kill comes at a random point once this run's writers are
        # going (some writes acknowledged), however slow the machine is
        # to start them: a run killed before its first write tests
        # nothing.
        base = len(acked)
        deadline = time.time() + 20
        while len(acked) - base < 5 and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.3))
        os.kill(d.proc.pid, signal.SIGKILL)
        kills.append(time.time())
        stop.set()
        for th in threads:
            th.join(30)
        d.proc.wait(10)

    # The last start: everything journaled must go out.
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-final")
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=90", "--admin",
                        admin], capture_output=True, text=True, timeout=120)
    t.ok(r.returncode == 0, "after %d kill -9, flush --wait completes"
         % RUNS, r.stdout + r.stderr)

    st = fake_state(fake_url)
    invs = st["invalidations"]
    paths = [p for inv in invs for p in inv["paths"]]
    t.diag("%d writes acknowledged across %d runs; %d invalidations, %d "
           "create calls" % (len(acked), RUNS, len(invs),
                             len(st["creates"])))
    t.ok(len(acked) >= RUNS * 5, "clients saw writes succeed in the runs",
         "acknowledged: %d" % len(acked))

    missing = []
    for key in acked:
        want = "/" + key
        if not any(covers(p, want) for p in paths):
            missing.append(want)
    t.ok(not missing, "every acknowledged write is invalidated",
         "missing %d, e.g. %s" % (len(missing), missing[:10]))

    refs = {}
    for inv in invs:
        refs.setdefault((inv["distribution"], inv["caller_reference"]),
                        []).append(inv["id"])
    dup = {k: v for k, v in refs.items() if len(v) > 1}
    conflicts = [c for c in st["creates"]
                 if c.get("code") == "InvalidationBatchAlreadyExists"]
    t.ok(not dup and not conflicts, "no batch was created twice, no "
         "CallerReference reused for other paths",
         "duplicates %s; conflicts %s" % (dup, conflicts[:3]))
    resent = sum(1 for c in st["creates"] if c.get("status") == 201) - \
        len(invs)
    t.diag("creates answered with an existing invalidation (resent after a "
           "kill): %d" % resent)

    size = os.path.getsize(os.path.join(state_dir, "journal"))
    t.ok(size < 4 * 1024 * 1024, "the journal stays bounded",
         "journal: %d bytes" % size)

    t.ok(d.alive(), "the daemon runs after the last restart",
         s3itest.tail(d.log_path))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=200))
