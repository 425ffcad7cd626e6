#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t35_plan_agrees: `s3inval plan` and the worker give the same paths and
cost for the same keys and index (issue 10, "s3inval plan calls the very
function the worker calls": worker_plan_keys(), src/worker_plan.h).

A site is put into the bucket at moto directly (so nothing is invalidated
for it) and listed once through the proxy, so the ETag index knows the
whole key set; the daemon stops and saves its index.  Then, twice, the
same keys go to both sides: to `s3inval plan -c FILE --bucket NAME` on
stdin, and as writes through the proxy to the running daemon, whose
invalidations are read back from moto after `s3inval flush --wait`; the
month's figures from /status.

1. A normal month: four pages of a folder of 104 changed; evicting 100
   unchanged pages costs more than four paths, so both send the four.
2. A month at its free paths (state_dir/usage says 100 of 100 used, as a
   daemon that sent them would have saved it): evictions weigh a fiftieth,
   and one wildcard for the folder is cheaper.  The worker sends "/a/*".

`s3inval plan` calls worker_plan_keys() with the month's usage
(worker_usage_read()), the very planning the worker does, and prints the
budget's level it planned at ("budget LEVEL").
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t35_plan_agrees"
BUCKET = "agree-blog"
FREE = 100


def site():
    keys = ["a/f%03d.html" % i for i in range(104)]
    keys += ["index.html", "b/index.html", "css/site.css"]
    return keys


def invalidation_ids(cf, dist):
    return set(s["Id"] for s in cf.list_invalidations(
        DistributionId=dist)["InvalidationList"].get("Items", []))


def paths_of(cf, dist, ids):
    out = []
    for i in sorted(ids):
        inv = cf.get_invalidation(DistributionId=dist, Id=i)
        out += inv["Invalidation"]["InvalidationBatch"]["Paths"].get(
            "Items", [])
    return sorted(out)


def plan(conf, keys):
    """`s3inval plan` on keys: (paths, this plan's cost in USD or None,
    whether it prints the budget's level, the whole output)."""
    rc, out, err = s3itest.run_s3inval(["plan", "-c", conf, "--bucket",
                                        BUCKET], stdin="\n".join(keys) +
                                       "\n")
    if rc != 0:
        raise AssertionError("plan rc %d: %s %s" % (rc, out, err))
    head = [ln for ln in out.splitlines() if ln.startswith("#")]
    paths = sorted(ln for ln in out.splitlines()
                   if ln and not ln.startswith("#"))
    m = re.search(r"\$([0-9]+\.[0-9]+)", head[0]) if head else None
    cost = float(m.group(1)) if m else None
    return paths, cost, bool(head and "budget " in head[0]), out


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t33")
    direct = s3itest.moto_client(moto_url)
    direct.create_bucket(Bucket=BUCKET)
    for k in site():
        direct.put_object(Bucket=BUCKET, Key=k, Body=b"v1 " + k.encode())
    conf = s3itest.moto_cf_config(
        ws.logdir, moto_url, BUCKET, dist, "s3inval.conf",
        cloudfront__quiet_period="300ms",
        cloudfront__monthly_free_paths=str(FREE))
    cfg = s3itest.read_config(conf)
    admin = "http://" + cfg["server"]["admin_listen"]
    usage = os.path.join(cfg["server"]["state_dir"], "usage")

    # The index learns the whole key set from one listing through the
    # proxy, and is saved when the daemon stops.
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-learn")
    s3 = s3itest.s3_client(d.url)
    listed = s3.list_objects_v2(Bucket=BUCKET)
    s3itest.stop(d)
    t.ok(listed.get("KeyCount") == len(site()) and not
         listed.get("IsTruncated"), "the site was listed whole through the "
         "proxy", "KeyCount %s" % listed.get("KeyCount"))

    def deploy(name, keys):
        """The worker's side: writes through the proxy, flush, what moto
        recorded and what /status says of the month."""
        before = invalidation_ids(cf, dist)
        d = s3itest.start_s3inval(conf, None, ws.logdir, name=name)
        st0 = s3itest.admin_status(admin)["invalidation"]["month"]
        c = s3itest.s3_client(d.url)
        for k in keys:
            c.put_object(Bucket=BUCKET, Key=k, Body=b"v2 " + k.encode())
        r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=60",
                            "--admin", admin], capture_output=True,
                           text=True, timeout=90)
        if r.returncode != 0:
            raise AssertionError("flush: %s %s" % (r.stdout, r.stderr))
        st1 = s3itest.admin_status(admin)["invalidation"]["month"]
        s3itest.stop(d)
        paths = paths_of(cf, dist, invalidation_ids(cf, dist) - before)
        return paths, st0, st1

    # 1. A normal month.
    keys = ["a/f%03d.html" % i for i in range(4)]
    p_paths, p_cost, wired, out = plan(conf, keys)
    w_paths, st0, st1 = deploy("s3inval-normal", keys)
    w_cost = round(st1["estimated_cost_usd"] - st0["estimated_cost_usd"], 3)
    t.ok(w_paths == ["/" + k for k in keys],
         "normal month: the worker sends the four changed pages, not the "
         "folder (100 needless evictions cost more)", str(w_paths))
    t.ok(p_paths == w_paths, "normal month: plan gives the worker's paths",
         "plan %s\nworker %s\n%s" % (p_paths, w_paths, out))
    t.ok(wired and p_cost is not None and abs(p_cost - w_cost) < 1e-9,
         "normal month: plan gives the worker's cost ($%.3f)" % w_cost, out)

    # 2. The month's free paths used up, as a daemon would have saved it.
    month = time.strftime("%Y%m", time.gmtime())
    with open(usage, "w") as f:
        f.write("%s %s %d\n" % (month, dist, FREE))
    keys = ["a/f%03d.html" % i for i in range(10, 14)]
    p_paths, p_cost, wired, out = plan(conf, keys)
    w_paths, st0, st1 = deploy("s3inval-over", keys)
    w_cost = round(st1["estimated_cost_usd"] - st0["estimated_cost_usd"], 3)
    t.ok(w_paths == ["/a/*"] and st1["budget"] == "over" and
         st1["paths"] == FREE + 1 and abs(w_cost - 0.005) < 1e-9,
         "over the free paths: the worker sends one wildcard, billed "
         "$0.005", "paths %s; month before %s, after %s" % (w_paths, st0,
                                                           st1))
    t.ok(p_paths == w_paths, "over the free paths: plan gives the "
         "worker's paths (the budget weighs evictions less)",
         "plan %s\nworker %s\n%s" % (p_paths, w_paths, out))
    t.ok(wired and p_cost is not None and abs(p_cost - w_cost) < 1e-9,
         "over the free paths: plan gives the worker's cost ($%.3f)"
         % w_cost, out)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=180))
