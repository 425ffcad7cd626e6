#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t17_frugal: a fresh CI build re-uploads every file (new mtimes), so a
per-object invalidator pays for the whole site on every deploy.  s3inval
learns each key's ETag from the listing every `aws s3 sync` makes first,
skips writes that store the same bytes again, and plans with what it knows
of the site (DESIGN §6, the frugal-invalidation issue).

A blog is synced through the proxy; then rebuilt (every file rewritten with
a new mtime) with three pages really changed and synced again with plain
`aws s3 sync`: the new invalidations cover those pages and evict no
unchanged object.  Then a layout change touches every page: a handful of
paths at most ("/*" or what is cheaper).  /metrics and /status show the
unchanged writes; `s3inval plan` prints the figures too.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import subprocess
    import time
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t17_frugal"
BUCKET = "frugal-blog"


def covers(pattern, path):
    return pattern == path or (pattern.endswith("*") and
                               path.startswith(pattern[:-1]))


def site_files():
    files = {"index.html": "<h1>blog</h1>", "rss.xml": "<rss/>",
             "css/site.css": "body{}", "about/index.html": "about"}
    for y in (2024, 2025, 2026):
        for i in range(12):
            files["posts/%d/post-%02d/index.html" % (y, i)] = \
                "<p>post %d %d</p>" % (y, i)
    for tag in ("c", "aws", "cdn", "http", "go"):
        files["tags/%s/index.html" % tag] = "tag " + tag
    return files


def paths_of(key):
    p = ["/" + key]
    if key.endswith("index.html"):
        p.append("/" + key[:-len("index.html")])
    return p


def write_site(root, files, layout):
    for rel, body in files.items():
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("<html><!-- layout %s -->%s</html>" % (layout, body))
    # A fresh build: every mtime new, so aws s3 sync uploads everything.
    t = time.time() + 5
    for rel in files:
        os.utime(os.path.join(root, rel), (t, t))


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t17")
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    conf = s3itest.write_config(
        ws.logdir, moto_url,
        sections={"bucket " + BUCKET: {"distributions": dist}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="500ms",
        cloudfront__poll_interval="300ms",
        cloudfront__max_requests_per_second="50")
    cfg = s3itest.read_config(conf)
    admin = "http://" + cfg["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    env = s3itest.aws_env()
    root = ws.scratch_path("public")
    files = site_files()
    all_paths = set(p for k in files for p in paths_of(k))
    seen = set()

    def sync_and_flush():
        rc, out, err = s3itest.run_aws(1, ["s3", "sync", root,
                                           "s3://" + BUCKET], env=env,
                                       endpoint=d.url)
        if rc != 0:
            raise AssertionError("sync rc %d: %s %s" % (rc, out, err))
        r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30",
                            "--admin", admin], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("flush: %s %s" % (r.stdout, r.stderr))
        new = []
        for s in cf.list_invalidations(DistributionId=dist)[
                "InvalidationList"].get("Items", []):
            if s["Id"] in seen:
                continue
            seen.add(s["Id"])
            inv = cf.get_invalidation(DistributionId=dist, Id=s["Id"])
            new += inv["Invalidation"]["InvalidationBatch"]["Paths"].get(
                "Items", [])
        return out, new

    write_site(root, files, "A")
    out, first = sync_and_flush()
    t.ok(all(any(covers(p, q) for p in first) for q in all_paths),
         "first deploy: every page covered", "paths: %s" % first)

    # A fresh build: same bytes everywhere but three pages.
    changed = ["posts/2026/post-03/index.html", "about/index.html",
               "rss.xml"]
    for k in changed:
        files[k] += " (edited)"
    write_site(root, files, "A")
    out, second = sync_and_flush()
    uploads = out.count("upload:")
    want = set(p for k in changed for p in paths_of(k))
    unchanged = all_paths - want
    evicted = sorted(q for q in unchanged
                     if any(covers(p, q) for p in second))
    t.ok(uploads == len(files), "the rebuilt site was re-uploaded whole by "
         "plain aws s3 sync (new mtimes)", "uploads: %d of %d" %
         (uploads, len(files)))
    t.ok(all(any(covers(p, q) for p in second) for q in want),
         "the three changed pages are invalidated",
         "want %s\ngot %s" % (sorted(want), second))
    t.ok(not evicted and len(second) <= len(want),
         "nothing unchanged is invalidated, no more paths than the "
         "changed ones", "paths %s\nevicted %s" % (second, evicted[:10]))

    with urllib.request.urlopen(admin + "/status", timeout=10) as r:
        st = json.loads(r.read())
    dd = [x for x in st["invalidation"]["distributions"]
          if x["id"] == dist][0]
    t.ok(dd["keys_unchanged"] >= len(files) - len(changed),
         "/status counts the writes skipped as unchanged",
         json.dumps(dd))

    # A layout change: every page differs.
    write_site(root, files, "B")
    out, third = sync_and_flush()
    t.ok(len(third) <= 3 and all(any(covers(p, q) for p in third)
                                 for q in all_paths),
         "a layout change touching every page: a handful of paths at most",
         "paths (%d): %s" % (len(third), third[:20]))

    s3itest.stop(d)         # SIGTERM: the daemon saves its index
    r = subprocess.run([s3itest.S3INVAL_BIN, "plan", "-c", conf,
                        "--bucket", BUCKET], input="\n".join(changed),
                       capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 0 and "evicted" in r.stdout,
         "s3inval plan prints paths and figures (evictions, with the "
         "index the daemon saved at stop)", r.stdout + r.stderr)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=170))
