#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t20_journal_damage: a damaged journal invalidates more, never less
(issue 13, item 4; journal.h).

Each case writes 12 keys through s3inval (boto3) with a quiet period of an
hour, so they are still pending when the daemon is stopped cleanly
(SIGTERM); then the journal is damaged while it is down and the daemon
restarted with a short quiet period.  CloudFront is moto's; each case has
its own distribution and state_dir.

- one byte flipped in the middle, garbage appended, the file cut in the
  middle of a record: after the restart every acknowledged key is covered
  at CloudFront (a "/*" counts), the damage is logged (one line with the
  bytes, where and why) and counted (/metrics
  s3inval_journal_damaged_bytes_total, /status journal.damaged_bytes).
  A flip or a cut may have lost acknowledged keys: "/*" is sent.  Garbage
  after a clean stop loses nothing: every key keeps its own path, no "/*".
- the flipped byte again, and the restarted daemon is killed (-9) before
  it can reach CloudFront: the start after that still sends "/*".
- symlinks planted where the first release wrote fixed temporaries
  (usage.tmp, instance-id.tmp, journal.tmp) are never followed.
- kill -9 and a torn last write (half a record at the end, as a write cut
  short leaves it): a crash's torn tail is normal, so no "/*", nothing
  counted as damage; every key keeps its own path.
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
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t20_journal_damage"
BUCKET = "damage-bucket"
NKEYS = 12
SLOW = {"S3INVAL_CLOUDFRONT_QUIET_PERIOD": "1h",
        "S3INVAL_CLOUDFRONT_MAX_DELAY": "1h"}


def metric(admin, name):
    with urllib.request.urlopen(admin + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return None


def flush(admin, wait=30):
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=%d" % wait,
                        "--admin", admin], capture_output=True, text=True,
                       timeout=wait + 30)
    return r.returncode, (r.stdout + r.stderr).strip()


def wait_log(d, pattern, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if re.search(pattern, d.log_text()):
            return True
        time.sleep(0.1)
    return False


class Case:
    """One distribution, one state_dir, one config."""

    def __init__(self, ws, moto_url, name):
        self.name = name
        self.cf, self.dist = s3itest.moto_distribution(moto_url,
                                                       "t20-" + name)
        self.dir = ws.path(name)
        os.makedirs(self.dir)
        self.conf = s3itest.write_config(
            self.dir, moto_url,
            sections={"bucket " + BUCKET: {"distributions": self.dist}},
            cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms",
            cloudfront__max_delay="1s", cloudfront__poll_interval="200ms",
            cloudfront__max_requests_per_second="50",
            cloudfront__wildcard_threshold="1000")
        cfg = s3itest.read_config(self.conf)
        self.admin = "http://" + cfg["server"]["admin_listen"]
        self.state = cfg["server"]["state_dir"]
        self.journal = os.path.join(self.state, "journal")
        self.keys = ["%s/page-%02d.html" % (name, i) for i in range(NKEYS)]
        self.runs = 0

    def start(self, env=None):
        self.runs += 1
        d = s3itest.start_s3inval(self.conf, env, self.dir,
                                  name="s3inval-%d" % self.runs)
        # The admin listener starts after the S3 one.
        s3itest.wait_port(int(self.admin.rsplit(":", 1)[1]), d)
        return d

    def write_pending(self):
        """12 keys acknowledged and left pending; returns the daemon."""
        d = self.start(SLOW)
        s3 = s3itest.s3_client(d.url)
        for k in self.keys:
            s3.put_object(Bucket=BUCKET, Key=k, Body=b"v1 " + k.encode())
        return d

    def paths(self):
        return s3itest.moto_invalidated_paths(self.cf, self.dist)

    def uncovered(self):
        p = self.paths()
        if "/*" in p:
            return []
        return ["/" + k for k in self.keys if "/" + k not in p]


def stop_clean(t, c, d):
    rc = s3itest.stop(d, grace=20)
    t.ok(rc == 0 and os.path.exists(os.path.join(c.state, "journal.clean")),
         "%s: a clean stop with %d keys pending leaves journal.clean"
         % (c.name, NKEYS), "exit %s; state_dir %s" % (
             rc, sorted(os.listdir(c.state))))


def check_recovered(t, c, d, want_star, what):
    rc, out = flush(c.admin)
    missing = c.uncovered()
    star = "/*" in c.paths()
    t.ok(rc == 0 and not missing,
         "%s: after the restart every acknowledged key is covered at "
         "CloudFront" % what, "flush rc %d %s; uncovered %s" % (
             rc, out, missing))
    t.ok(star == want_star, "%s: %s" % (what, "/* sent (acknowledged "
         "records may be lost)" if want_star else "no /* (nothing lost): "
         "each key keeps its own path"), "paths %s" % sorted(c.paths()))
    st = s3itest.admin_status(c.admin)["invalidation"]["journal"]
    return st


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)

    # 1. One byte flipped in the middle; the first restart cannot reach
    # CloudFront and is killed (-9) once it logged the damage.
    c = Case(ws, moto_url, "flip")
    stop_clean(t, c, c.write_pending())
    data = bytearray(open(c.journal, "rb").read())
    mid = len(data) // 2
    data[mid] ^= 0x5a
    open(c.journal, "wb").write(bytes(data))
    d = c.start({"S3INVAL_CLOUDFRONT_ENDPOINT":
                 "http://127.0.0.1:%d" % s3itest.free_port()})
    logged = wait_log(d, r"journal_damaged")
    line = [ln for ln in d.log_text().splitlines()
            if "journal_damaged" in ln]
    t.ok(logged and line and re.search(r"bytes_dropped=\d+", line[0])
         and re.search(r"offset \d+ \((no valid record header|payload "
                       r"checksum mismatch)\)", line[0]),
         "flip: one error line says how many bytes were dropped, where "
         "and why", "\n".join(line) or s3itest.tail(d.log_path))
    t.ok(metric(c.admin, "s3inval_journal_damaged_bytes_total") > 0,
         "flip: /metrics counts the damaged bytes",
         str(metric(c.admin, "s3inval_journal_damaged_bytes_total")))
    st = s3itest.admin_status(c.admin)["invalidation"]["journal"]
    t.ok(st["damaged_bytes"] > 0 and st["lost"] and "offset" in
         st["damage"], "flip: /status shows the damage", json.dumps(st))
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait(10)
    d = c.start()
    check_recovered(t, c, d, True, "flip, then kill -9 before CloudFront "
                    "was reached")
    t.ok(not os.path.exists(os.path.join(c.state, "journal.lost")),
         "flip: the recovery ends (journal.lost removed by the "
         "compaction)", str(sorted(os.listdir(c.state))))
    s3itest.stop(d, grace=20)

    # 2. Garbage appended after the clean stop; symlinks planted in
    # state_dir where the first release wrote fixed temporaries.
    c = Case(ws, moto_url, "garbage")
    victim = ws.path("victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    planted = ["usage.tmp", "instance-id.tmp", "journal.tmp"]
    for name in planted:
        os.symlink(victim, os.path.join(c.state, name))
    stop_clean(t, c, c.write_pending())
    with open(c.journal, "ab") as f:
        f.write(os.urandom(777))
    d = c.start()
    st = check_recovered(t, c, d, False, "garbage appended")
    t.ok(st["damaged_bytes"] == 777 and not st["lost"] and
         metric(c.admin, "s3inval_journal_damaged_bytes_total") == 777 and
         re.search(r"journal_garbage.*bytes_dropped=777", d.log_text()),
         "garbage: logged and counted (777 bytes), nothing lost",
         json.dumps(st))
    s3itest.stop(d, grace=20)
    t.ok(open(victim).read() == "precious\n" and
         os.path.exists(os.path.join(c.state, "usage")) and
         not os.path.islink(os.path.join(c.state, "usage")),
         "symlinks planted in state_dir (%s) are never followed"
         % ", ".join(planted), "victim: %r; state_dir %s" % (
             open(victim).read(), sorted(os.listdir(c.state))))

    # 3. Cut in the middle of a record.
    c = Case(ws, moto_url, "cut")
    stop_clean(t, c, c.write_pending())
    size = os.path.getsize(c.journal)
    os.truncate(c.journal, size * 2 // 3)
    d = c.start()
    st = check_recovered(t, c, d, True, "cut mid-record")
    t.ok(st["damaged_bytes"] >= size - size * 2 // 3 and st["lost"] and
         re.search(r"journal_damaged.*short", d.log_text()),
         "cut: logged and counted", json.dumps(st))
    s3itest.stop(d, grace=20)

    # 4. kill -9, and a torn last write.
    c = Case(ws, moto_url, "torn")
    d = c.write_pending()
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait(10)
    data = open(c.journal, "rb").read()
    with open(c.journal, "ab") as f:
        f.write(data[:40])       # the head of a record, cut short
    t.ok(not os.path.exists(os.path.join(c.state, "journal.clean")),
         "torn: kill -9 leaves no journal.clean")
    d = c.start()
    st = check_recovered(t, c, d, False, "kill -9 with a torn tail")
    t.ok(st["damaged_bytes"] == 0 and st["torn_bytes"] == 40 and
         metric(c.admin, "s3inval_journal_damaged_bytes_total") == 0 and
         "journal_damaged" not in d.log_text(),
         "torn: not damage (torn_bytes 40, nothing counted as damaged)",
         json.dumps(st))
    s3itest.stop(d, grace=20)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=180))
