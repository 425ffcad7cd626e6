#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t21_distributions: distributions that change (issue 13, item 5).

CloudFront is tests/fixtures/fake_cloudfront.py, knowing only some ids
(another answers 404 NoSuchDistribution) and answering AccessDenied on
demand; the S3 upstream is moto directly.

- A wrong distribution id: `s3inval flush --wait=30` returns at once, not
  done, naming the distribution, its paths and NoSuchDistribution, instead
  of waiting 30 s.  Then the id is fixed in the configuration and the
  daemon restarted: the old batch is dropped with a warning naming the
  distribution and its paths, the writes still in the journal go to the
  distribution that serves the bucket now, and `flush --wait` is clean.
- A bucket served by a good and a refusing distribution: the flush waits
  for the good one's invalidation to complete, then reports the other.
- AccessDenied: reported the same way; once lifted, the next flush asks
  again at once and waits for the work to complete.
- cloudfront.give_up_after (2 s here): the refused paths are dropped with
  an error line, counted (s3inval_paths_given_up_total), the flush is
  clean, and a restart does not bring them back.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import subprocess
    import time
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t21_distributions"
D_WRONG, D_RIGHT = "E21WRONGID", "E21RIGHTID"
D_OK, D_NOPE, D_GONE = "E21GOOD", "E21NOPE", "E21GONE"
KNOWN = [D_RIGHT, D_OK]
CF = {"quiet_period": "200ms", "max_delay": "1s", "poll_interval": "200ms",
      "retry_base": "200ms", "retry_max": "1s",
      "max_requests_per_second": "20", "wildcard_threshold": "100000"}


def flush(admin, wait=30):
    """`s3inval flush --wait=S`: (rc, answer JSON or None, output, secs)."""
    t0 = time.time()
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=%d" % wait,
                        "--admin", admin], capture_output=True, text=True,
                       timeout=wait + 30)
    took = time.time() - t0
    ans = None
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                ans = json.loads(line)
            except ValueError:
                pass
    return r.returncode, ans, (r.stdout + r.stderr).strip(), took


def dstat(admin, dist):
    for d in s3itest.admin_status(admin)["invalidation"]["distributions"]:
        if d["id"] == dist:
            return d
    return None


def metric(admin, name):
    with urllib.request.urlopen(admin + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def paths_at(fake, dist):
    return {p for i in fake.state()["invalidations"]
            if i["distribution"] == dist for p in i["paths"]}


class Daemon:
    """One state_dir and admin port across restarts; the config rewritten
    for each start."""

    def __init__(self, ws, moto_url, fake, name, buckets, **cf):
        self.ws, self.moto_url, self.fake, self.name = ws, moto_url, fake, name
        self.dir = ws.path(name)
        os.makedirs(self.dir)
        self.port = s3itest.free_port()
        self.admin_port = s3itest.free_port()
        self.admin = "http://127.0.0.1:%d" % self.admin_port
        self.cf = dict(CF, **cf)
        self.runs = 0
        self.d = None
        self.configure(buckets)

    def configure(self, buckets):
        over = {"cloudfront__" + k: v for k, v in self.cf.items()}
        self.conf = s3itest.write_config(
            self.dir, self.moto_url, port=self.port,
            admin_port=self.admin_port,
            sections={"bucket " + b: {"distributions": ", ".join(ds)}
                      for b, ds in buckets.items()},
            cloudfront__endpoint=self.fake.url, **over)

    def start(self):
        self.runs += 1
        self.d = s3itest.start_s3inval(self.conf, None, self.dir,
                                       name="s3inval-%d" % self.runs)
        s3itest.wait_port(self.admin_port, self.d)  # after the S3 one
        self.s3 = s3itest.s3_client(self.d.url)
        return self.d

    def stop(self):
        return s3itest.stop(self.d, grace=20)

    def put(self, bucket, keys):
        for k in keys:
            self.s3.put_object(Bucket=bucket, Key=k, Body=b"x")

    def log(self):
        return self.d.log_text()


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    fake = s3itest.start_fake_cloudfront(ws.logdir, distributions=KNOWN,
                                         complete_after_ms=300)
    direct = s3itest.moto_client(moto_url)
    for b in ("fix-bucket", "mixed-bucket", "gone-bucket"):
        direct.create_bucket(Bucket=b)

    # --- a wrong id, then fixed -----------------------------------------
    dm = Daemon(ws, moto_url, fake, "fix", {"fix-bucket": [D_WRONG]},
                give_up_after="1h")
    dm.start()
    keys = ["fix/a.html", "fix/b.html", "fix/c.html"]
    dm.put("fix-bucket", keys)
    rc, ans, out, took = flush(dm.admin, 30)
    failed = (ans or {}).get("failed") or []
    t.ok(rc != 0 and ans is not None and ans["done"] is False and took < 10
         and len(failed) == 1 and failed[0]["distribution"] == D_WRONG and
         failed[0]["paths"] == 3 and
         "NoSuchDistribution" in failed[0]["reason"] and
         failed[0]["gives_up_in_s"] > 3000,
         "wrong id: flush --wait=30 returns at once, not done, naming the "
         "distribution, its 3 paths and NoSuchDistribution",
         "rc %d in %.1fs: %s" % (rc, took, out))
    d = dstat(dm.admin, D_WRONG)
    t.ok(d and "NoSuchDistribution" in d["refused"] and
         d["batches_waiting"] >= 1 and d["gives_up_in_s"] > 3000,
         "wrong id: /status shows it refused, its batch still pending",
         json.dumps(d))
    t.ok(re.search(r"event=distribution_refused distribution=%s "
                   r"code=NoSuchDistribution" % D_WRONG, dm.log()),
         "wrong id: one error line when it starts refusing",
         s3itest.tail(dm.d.log_path))
    dm.stop()
    dm.configure({"fix-bucket": [D_RIGHT]})
    dm.start()
    warn = [ln for ln in dm.log().splitlines()
            if "distribution_removed" in ln]
    t.ok(len(warn) == 1 and " warn " in warn[0] and D_WRONG in warn[0]
         and "paths_dropped=3" in warn[0] and "batches_dropped=1" in warn[0],
         "fixed id, restarted: the old batch is dropped with a warning "
         "naming the distribution and its paths", "\n".join(warn) or
         s3itest.tail(dm.d.log_path))
    rc, ans, out, took = flush(dm.admin, 30)
    t.ok(rc == 0 and ans and ans["done"] and not ans["failed"],
         "fixed id: the next flush --wait is clean (exit 0)",
         "rc %d in %.1fs: %s" % (rc, took, out))
    want = set(s3itest.keys_paths(keys))
    t.ok(want <= paths_at(fake, D_RIGHT),
         "fixed id: the writes still in the journal went to the "
         "distribution that serves the bucket now",
         "%s at %s: %s" % (sorted(want), D_RIGHT,
                           sorted(paths_at(fake, D_RIGHT))))
    dm.put("fix-bucket", ["fix/later.html"])
    rc, ans, out, took = flush(dm.admin, 30)
    t.ok(rc == 0 and "/fix/later.html" in paths_at(fake, D_RIGHT),
         "fixed id: new writes are invalidated there too", out)
    dm.stop()

    # --- a good and a refusing distribution; AccessDenied --------------
    dm = Daemon(ws, moto_url, fake, "mixed",
                {"mixed-bucket": [D_OK, D_NOPE]}, give_up_after="1h")
    dm.start()
    fake.configure(complete_after_ms=1500)
    dm.put("mixed-bucket", ["m/one.html", "m/two.html"])
    rc, ans, out, took = flush(dm.admin, 30)
    done_ok = [i for i in fake.state()["invalidations"]
               if i["distribution"] == D_OK and i["status"] == "Completed"]
    failed = (ans or {}).get("failed") or []
    t.ok(rc != 0 and ans and not ans["done"] and done_ok and took < 15 and
         [f["distribution"] for f in failed] == [D_NOPE] and
         failed[0]["paths"] == 2,
         "good and refusing: the flush waits for the good one's "
         "invalidation to complete, then reports the refusing one",
         "rc %d in %.1fs: %s; completed at %s: %d" % (
             rc, took, out, D_OK, len(done_ok)))
    fake.configure(complete_after_ms=300, access_denied=True)
    dm.put("mixed-bucket", ["m/three.html"])
    rc, ans, out, took = flush(dm.admin, 30)
    failed = {f["distribution"]: f for f in (ans or {}).get("failed") or []}
    t.ok(rc != 0 and took < 10 and D_OK in failed and
         "AccessDenied" in failed[D_OK]["reason"],
         "AccessDenied: reported as failed with the reason, at once",
         "rc %d in %.1fs: %s" % (rc, took, out))
    fake.configure(access_denied=False)
    rc, ans, out, took = flush(dm.admin, 30)
    failed = [f["distribution"] for f in (ans or {}).get("failed") or []]
    t.ok(rc != 0 and failed == [D_NOPE] and
         "/m/three.html" in paths_at(fake, D_OK) and took < 10,
         "AccessDenied lifted: the flush asks again at once and waits for "
         "the work to complete (only the unknown id still failed)",
         "rc %d in %.1fs: %s" % (rc, took, out))
    dm.stop()

    # --- give_up_after ---------------------------------------------------
    dm = Daemon(ws, moto_url, fake, "giveup", {"gone-bucket": [D_GONE]},
                give_up_after="2s")
    dm.start()
    dm.put("gone-bucket", ["g/x.html", "g/y.html"])
    deadline = time.time() + 20
    while time.time() < deadline and "distribution_given_up" not in dm.log():
        time.sleep(0.2)
    line = [ln for ln in dm.log().splitlines()
            if "distribution_given_up" in ln]
    t.ok(len(line) == 1 and " error " in line[0] and D_GONE in line[0] and
         "paths_dropped=2" in line[0] and "NoSuchDistribution" in line[0],
         "give_up_after: the refused paths are dropped with an error line",
         "\n".join(line) or s3itest.tail(dm.d.log_path))
    d = dstat(dm.admin, D_GONE)
    given = metric(dm.admin, 's3inval_paths_given_up_total{distribution="%s"}'
                   % D_GONE)
    rc, ans, out, took = flush(dm.admin, 10)
    t.ok(d and d["paths_pending"] == 0 and d["batches_waiting"] == 0 and
         d["paths_given_up"] == 2 and given == 2 and rc == 0,
         "give_up_after: nothing left pending, counted, flush clean",
         "%s; metric %s; flush rc %d %s" % (json.dumps(d), given, rc, out))
    dm.stop()
    dm.start()
    rc, ans, out, took = flush(dm.admin, 10)
    d = dstat(dm.admin, D_GONE)
    t.ok(rc == 0 and (d is None or d["batches_waiting"] == 0) and
         "resumed" not in dm.log(),
         "give_up_after: a restart does not bring them back",
         "flush rc %d %s; %s" % (rc, out, json.dumps(d)))
    dm.stop()


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=180))
