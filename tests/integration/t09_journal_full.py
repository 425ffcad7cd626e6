#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t09_journal_full: a journal that cannot be written gives the client 503
(so SDKs retry) and loses nothing once space returns (DESIGN §4); /readyz
answers 503 from the first failed append until one succeeds again, which
it finds out by itself once space returns (issue 13, item 4).

The running daemon's file size limit (RLIMIT_FSIZE, set with prlimit on its
PID; the daemon ignores SIGXFSZ) is lowered to the journal's current size,
so every append fails with EFBIG, as on a full disk; then it is raised
again.  CloudFront is moto's.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import resource
    import subprocess
    import time
    import traceback
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t09_journal_full"
BUCKET = "full-bucket"


def run(t, ws):
    from botocore.exceptions import ClientError

    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t09")
    conf = s3itest.write_config(
        ws.logdir, moto_url,
        sections={"bucket " + BUCKET: {"distributions": dist}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__wildcard_threshold="1000")
    cfg = s3itest.read_config(conf)
    admin = "http://" + cfg["server"]["admin_listen"]
    journal = os.path.join(cfg["server"]["state_dir"], "journal")
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    s3 = s3itest.s3_client(d.url)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    acked = []

    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key="before/%d.html" % i, Body=b"b")
        acked.append("before/%d.html" % i)

    soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE)
    size = os.path.getsize(journal)
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size, hard))

    refused = []
    for i in range(3):
        key = "during/%d.html" % i
        try:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"d")
            acked.append(key)
        except ClientError as e:
            refused.append((key, e.response["ResponseMetadata"][
                "HTTPStatusCode"], e.response["Error"]["Code"]))
    t.ok(len(refused) == 3 and all(s == 503 and c == "ServiceUnavailable"
                                   for _, s, c in refused),
         "with the journal unwritable, writes get 503 ServiceUnavailable",
         "refused: %s" % refused)
    t.ok(d.alive(), "the daemon survives the failed appends (no SIGXFSZ)",
         s3itest.tail(d.log_path))
    rs, _, rbody = s3itest.http_request(admin + "/readyz")
    t.ok(rs == 503 and b"journal" in rbody,
         "/readyz answers 503 while the journal cannot be appended",
         "%d %r" % (rs, rbody))
    t.ok(os.path.getsize(journal) == size,
         "no partial record is left in the journal",
         "size %d, before %d" % (os.path.getsize(journal), size))
    try:
        s3.get_object(Bucket=BUCKET, Key="before/0.html")["Body"].read()
        reads_ok = True
    except ClientError as e:
        reads_ok = e
    t.ok(reads_ok is True, "reads still work meanwhile", str(reads_ok))

    # Space returns: /readyz sees it without any write coming in (a load
    # balancer sends none while it is not ready), then the client's
    # retries succeed and are journaled.
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    ready = []
    for _ in range(30):
        rs, _, rbody = s3itest.http_request(admin + "/readyz")
        ready.append(rs)
        if rs == 200:
            break
        time.sleep(0.2)
    t.ok(ready[-1] == 200, "/readyz is ready again once an append "
         "succeeds (its own probe, at most one a second)", str(ready))
    for key, _, _ in refused:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"d")
        acked.append(key)

    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30", "--admin",
                        admin], capture_output=True, text=True, timeout=60)
    paths = s3itest.moto_invalidated_paths(cf, dist)
    missing = ["/" + k for k in acked if "/" + k not in paths]
    t.ok(r.returncode == 0 and not missing,
         "once space returns, every acknowledged write is invalidated",
         "flush rc %d %s; missing %s" % (r.returncode, r.stdout, missing))

    with urllib.request.urlopen(admin + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    errs = [line for line in text.splitlines()
            if line.startswith("s3inval_journal_errors_total ")]
    t.ok(errs and int(errs[0].split()[1]) >= 3,
         "/metrics counts the journal errors", str(errs))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=120))
