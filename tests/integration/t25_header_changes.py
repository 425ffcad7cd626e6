#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t25_header_changes: what CloudFront serves is the bytes and the headers,
so a write that keeps the bytes but changes a served header (Cache-Control,
Content-Type, x-amz-meta-*, ...) is invalidated, while a true re-upload of
the same bytes and headers is still skipped (issue 13, build item 2).

Through the real binary, moto as S3 and CloudFront; after each write
`s3inval flush --wait`, then the invalidations moto recorded since the
last step are read back.  Clients: boto3 (PutObject, CopyObject with
REPLACE and COPY, multipart), aws-cli v1 (`s3 cp --cache-control`,
`s3 sync`) and v2 (`s3 cp --cache-control`), over http and over https
(aws-chunked uploads).  Objects put into moto
directly are unknown to the proxy until a HEAD through it shows their
headers.  A restart keeps what was learned (the index file).
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import subprocess
    import time
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t25_header_changes"
BUCKET = "hdr-site"
PAGE = b"<html><h1>the same bytes every time</h1></html>"


class Steps:
    """A write, a flush, and the paths CloudFront got for it."""

    def __init__(self, t, ws, moto_url):
        self.t = t
        self.ws = ws
        self.moto_url = moto_url
        self.cf, self.dist = s3itest.moto_distribution(moto_url, "t25")
        self.seen = set()
        self.admin = None

    def flush(self):
        r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30",
                            "--admin", self.admin], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("flush: %s %s" % (r.stdout, r.stderr))

    def new_paths(self):
        """Paths of the invalidations moto recorded since the last call."""
        self.flush()
        new = []
        items = self.cf.list_invalidations(DistributionId=self.dist)[
            "InvalidationList"].get("Items", [])
        for s in items:
            if s["Id"] in self.seen:
                continue
            self.seen.add(s["Id"])
            inv = self.cf.get_invalidation(DistributionId=self.dist,
                                           Id=s["Id"])
            new += inv["Invalidation"]["InvalidationBatch"]["Paths"].get(
                "Items", [])
        return sorted(new)

    def expect(self, desc, action, paths, under=None):
        """Run action; the step's invalidations must be exactly paths
        ([] for a skipped write), or, with under, cover them all with
        paths under that folder (the planner may choose a wildcard)."""
        action()
        got = self.new_paths()
        if under is None:
            ok = got == sorted(paths)
        else:
            ok = all(any(covers(p, q) for p in got) for q in paths) and \
                all(p.startswith(under) for p in got)
        self.t.ok(ok, desc, "want %s, got %s" % (sorted(paths), got))
        return got


def covers(pattern, path):
    return pattern == path or (pattern.endswith("*") and
                               path.startswith(pattern[:-1]))


def moto_head(moto, key):
    h = moto.head_object(Bucket=BUCKET, Key=key)
    return h.get("CacheControl"), h.get("ContentType"), h.get("Metadata")


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    st = Steps(t, ws, moto_url)
    direct = s3itest.moto_client(moto_url)
    direct.create_bucket(Bucket=BUCKET)
    conf = s3itest.write_config(
        ws.logdir, moto_url,
        sections={"bucket " + BUCKET: {"distributions": st.dist}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__wildcard_threshold="1000")
    cfg = s3itest.read_config(conf)
    st.admin = "http://" + cfg["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    s3 = s3itest.s3_client(d.url)

    def put(key, **kw):
        return lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=PAGE,
                                     **kw)

    # --- boto3 PutObject: the same bytes, other headers ----------------
    st.expect("a new key is invalidated",
              put("page.html", ContentType="text/html",
                  CacheControl="max-age=31536000"), ["/page.html"])
    st.expect("the same bytes and headers again are skipped",
              put("page.html", ContentType="text/html",
                  CacheControl="max-age=31536000"), [])
    st.expect("the same bytes with Cache-Control max-age=60 are "
              "invalidated",
              put("page.html", ContentType="text/html",
                  CacheControl="max-age=60"), ["/page.html"])
    t.ok(moto_head(direct, "page.html")[0] == "max-age=60",
         "moto holds the new header", repr(moto_head(direct, "page.html")))
    st.expect("the same bytes with another Content-Type are invalidated",
              put("page.html", ContentType="text/plain",
                  CacheControl="max-age=60"), ["/page.html"])
    st.expect("the same bytes with an x-amz-meta-* added are invalidated",
              put("page.html", ContentType="text/plain",
                  CacheControl="max-age=60", Metadata={"owner": "web"}),
              ["/page.html"])
    st.expect("...and again, same bytes and headers, skipped",
              put("page.html", ContentType="text/plain",
                  CacheControl="max-age=60", Metadata={"owner": "web"}),
              [])

    # --- CopyObject -----------------------------------------------------
    st.expect("an in-place CopyObject with REPLACE and a new "
              "Cache-Control is invalidated",
              lambda: s3.copy_object(
                  Bucket=BUCKET, Key="page.html",
                  CopySource={"Bucket": BUCKET, "Key": "page.html"},
                  MetadataDirective="REPLACE", ContentType="text/html",
                  CacheControl="no-cache"), ["/page.html"])
    t.ok(moto_head(direct, "page.html")[:2] == ("no-cache", "text/html"),
         "moto holds the copied headers", repr(moto_head(direct,
                                                         "page.html")))
    st.expect("the same REPLACE again (nothing served changes) is skipped",
              lambda: s3.copy_object(
                  Bucket=BUCKET, Key="page.html",
                  CopySource={"Bucket": BUCKET, "Key": "page.html"},
                  MetadataDirective="REPLACE", ContentType="text/html",
                  CacheControl="no-cache"), [])
    st.expect("a source with other headers (new key)",
              put("src/long.html", ContentType="text/html",
                  CacheControl="max-age=999"), ["/src/long.html"])
    st.expect("CopyObject (COPY) of the same bytes with the source's other "
              "headers is invalidated",
              lambda: s3.copy_object(
                  Bucket=BUCKET, Key="page.html",
                  CopySource={"Bucket": BUCKET, "Key": "src/long.html"}),
              ["/page.html"])
    st.expect("CopyObject (COPY) again from the same source is skipped",
              lambda: s3.copy_object(
                  Bucket=BUCKET, Key="page.html",
                  CopySource={"Bucket": BUCKET, "Key": "src/long.html"}),
              [])
    direct.put_object(Bucket=BUCKET, Key="src/direct.html", Body=PAGE,
                      ContentType="text/html", CacheControl="max-age=999")
    st.expect("CopyObject (COPY) from a source the proxy never saw is "
              "invalidated, headers unknown",
              lambda: s3.copy_object(
                  Bucket=BUCKET, Key="page.html",
                  CopySource={"Bucket": BUCKET, "Key": "src/direct.html"}),
              ["/page.html"])

    # --- learned from a HEAD through the proxy ---------------------------
    direct.put_object(Bucket=BUCKET, Key="headed.html", Body=PAGE,
                      ContentType="text/html", CacheControl="max-age=300",
                      Metadata={"build": "7"})
    st.expect("an object put behind the proxy's back: the first write of "
              "the same bytes is invalidated (headers unknown, even after "
              "a listing showed its ETag)",
              lambda: (s3.list_objects_v2(Bucket=BUCKET),
                       put("headed.html", ContentType="text/html",
                           CacheControl="max-age=300",
                           Metadata={"build": "7"})()),
              ["/headed.html"])
    direct.put_object(Bucket=BUCKET, Key="headed2.html", Body=PAGE,
                      ContentType="text/html", CacheControl="max-age=300",
                      Metadata={"build": "7"})
    h = s3.head_object(Bucket=BUCKET, Key="headed2.html")
    t.ok(h["CacheControl"] == "max-age=300",
         "a HEAD through the proxy shows the object's headers", repr(h))
    st.expect("after that HEAD, the identical PUT is skipped",
              put("headed2.html", ContentType="text/html",
                  CacheControl="max-age=300", Metadata={"build": "7"}), [])
    direct.put_object(Bucket=BUCKET, Key="got.html", Body=PAGE,
                      CacheControl="max-age=300")
    s3.get_object(Bucket=BUCKET, Key="got.html")["Body"].read()
    st.expect("a GET teaches the same (no Content-Type sent: S3's "
              "binary/octet-stream default on both sides)",
              put("got.html", CacheControl="max-age=300"), [])
    s3.head_object(Bucket=BUCKET, Key="got.html")
    st.expect("after a HEAD, a PUT of the same bytes with other headers "
              "is invalidated",
              put("got.html", CacheControl="max-age=301"), ["/got.html"])

    # --- multipart: CreateMultipartUpload's headers reach Complete -------
    def mpu(key, cc):
        def go():
            u = s3.create_multipart_upload(Bucket=BUCKET, Key=key,
                                           ContentType="text/html",
                                           CacheControl=cc)
            p = s3.upload_part(Bucket=BUCKET, Key=key, PartNumber=1,
                               UploadId=u["UploadId"], Body=PAGE)
            s3.complete_multipart_upload(
                Bucket=BUCKET, Key=key, UploadId=u["UploadId"],
                MultipartUpload={"Parts": [{"PartNumber": 1,
                                            "ETag": p["ETag"]}]})
        return go
    st.expect("a multipart upload of a new key is invalidated",
              mpu("big.html", "max-age=60"), ["/big.html"])
    st.expect("the same multipart upload (bytes and headers) is skipped",
              mpu("big.html", "max-age=60"), [])
    st.expect("the same parts with another Cache-Control are invalidated",
              mpu("big.html", "no-store"), ["/big.html"])

    # --- aws-cli ---------------------------------------------------------
    env = s3itest.aws_env()
    src = ws.scratch_path("cli.html")
    with open(src, "wb") as f:
        f.write(PAGE)

    def cp(version, cc):
        def go():
            rc, out, err = s3itest.run_aws(
                version, ["s3", "cp", src, "s3://%s/cli.html" % BUCKET,
                          "--cache-control", cc], env=env, endpoint=d.url,
                log_path=ws.path("aws.log"))
            if rc != 0:
                raise AssertionError("aws s3 cp: %s %s" % (out, err))
        return go
    st.expect("aws s3 cp (v1) of a new key is invalidated",
              cp(1, "max-age=10"), ["/cli.html"])
    st.expect("aws s3 cp (v1) of the same file and --cache-control is "
              "skipped", cp(1, "max-age=10"), [])
    st.expect("aws s3 cp (v1) of the same file with another "
              "--cache-control is invalidated",
              cp(1, "max-age=20"), ["/cli.html"])
    st.expect("aws s3 cp (v2) of the same file and --cache-control is "
              "skipped", cp(2, "max-age=20"), [])
    st.expect("aws s3 cp (v2) with another --cache-control is invalidated",
              cp(2, "max-age=30"), ["/cli.html"])

    root = ws.scratch_path("site")
    files = {"index.html": b"<h1>home</h1>", "a.css": b"body{}",
             "b/c.js": b"var c;", "b/index.html": b"<p>b</p>"}
    for rel, body in files.items():
        s3itest.write_file(os.path.join(root, rel), body)

    def sync(*extra):
        def go():
            # A fresh build: every mtime new, so sync uploads everything.
            t0 = time.time() + 5
            for rel in files:
                os.utime(os.path.join(root, rel), (t0, t0))
                t0 += 1
            rc, out, err = s3itest.run_aws(
                1, ["s3", "sync", root, "s3://%s/site" % BUCKET] +
                list(extra), env=env, endpoint=d.url,
                log_path=ws.path("aws.log"))
            if rc != 0 or out.count("upload:") != len(files):
                raise AssertionError("aws s3 sync: %s %s" % (out, err))
        return go
    site = ["/site/a.css", "/site/b/c.js", "/site/b/index.html",
            "/site/b/", "/site/index.html", "/site/"]
    st.expect("aws s3 sync of a new site: every page", sync(), site,
              under="/site/")
    st.expect("aws s3 sync of the rebuilt site (same bytes, same "
              "headers): nothing", sync(), [])
    st.expect("aws s3 sync with --cache-control added: every page again",
              sync("--cache-control", "max-age=600"), site, under="/site/")
    st.expect("...and the same sync once more: nothing",
              sync("--cache-control", "max-age=600"), [])

    # --- counted -----------------------------------------------------------
    with urllib.request.urlopen(st.admin + "/metrics", timeout=10) as r:
        text = r.read().decode()
    got = dict(re.findall(r"^(s3inval_writes_headers_\w+_total) (\d+)$",
                          text, re.M))
    t.ok(int(got.get("s3inval_writes_headers_changed_total", 0)) >= 8 and
         int(got.get("s3inval_writes_headers_unknown_total", 0)) >= 2,
         "/metrics counts the writes invalidated for their headers "
         "(changed, and unknown: fail closed)", repr(got))
    t.ok("headers_unknown" in d.log_text(),
         "a write whose headers could not be compared is logged",
         s3itest.tail(d.log_path))

    # --- a restart keeps the digests (the index file, version 3) ---------
    s3itest.stop(d)
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-2")
    s3 = s3itest.s3_client(d.url)
    st.expect("after a restart, the same bytes and headers are still "
              "skipped",
              put("headed2.html", ContentType="text/html",
                  CacheControl="max-age=300", Metadata={"build": "7"}), [])
    st.expect("...and a header change still invalidated",
              put("headed2.html", ContentType="text/html",
                  CacheControl="max-age=301", Metadata={"build": "7"}),
              ["/headed2.html"])
    log = d.log_text()
    t.ok("unchanged=yes" in log and "unchanged=no" in log,
         "the request log says which writes were skipped",
         s3itest.tail(d.log_path))

    # --- over https: aws-chunked framing is not a served header ----------
    # aws-cli v1 and boto3 send uploads as Content-Encoding: aws-chunked
    # (with the client's own coding first: "gzip,aws-chunked"); S3 stores
    # the coding without it, so re-uploads stay skipped.
    s3itest.stop(d)
    cert, key = s3itest.make_tls_cert(ws.logdir)
    tls_dir = ws.path("tls")
    os.makedirs(tls_dir)
    tconf = s3itest.write_config(
        tls_dir, moto_url, state_dir=cfg["server"]["state_dir"],
        sections={"bucket " + BUCKET: {"distributions": st.dist}},
        server__tls_cert=cert, server__tls_key=key,
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__wildcard_threshold="1000")
    st.admin = "http://" + s3itest.read_config(tconf)["server"][
        "admin_listen"]
    d = s3itest.start_s3inval(tconf, None, ws.logdir, name="s3inval-tls")
    url = "https://127.0.0.1:%d" % d.port

    def cp_tls(cc, *extra):
        def go():
            rc, out, err = s3itest.run_aws(
                1, ["s3", "cp", src, "s3://%s/tls.html" % BUCKET,
                    "--cache-control", cc] + list(extra),
                env={"AWS_CA_BUNDLE": cert}, endpoint=url,
                log_path=ws.path("aws.log"))
            if rc != 0:
                raise AssertionError("aws s3 cp: %s %s" % (out, err))
        return go
    st.expect("https, aws s3 cp (v1, aws-chunked): a new key",
              cp_tls("max-age=10"), ["/tls.html"])
    st.expect("https, aws s3 cp (v1, aws-chunked) again: skipped",
              cp_tls("max-age=10"), [])
    st.expect("https, --content-encoding gzip added (gzip,aws-chunked): "
              "invalidated", cp_tls("max-age=10", "--content-encoding",
                                    "gzip"), ["/tls.html"])
    t.ok(direct.head_object(Bucket=BUCKET, Key="tls.html").get(
        "ContentEncoding") == "gzip", "moto stores the coding as gzip",
        repr(direct.head_object(Bucket=BUCKET, Key="tls.html")))
    st.expect("https, the same with gzip again: skipped",
              cp_tls("max-age=10", "--content-encoding", "gzip"), [])
    s3t = s3itest.s3_client_tls(url, cert)
    st.expect("https, boto3 PutObject of the same bytes and headers: "
              "skipped",
              lambda: s3t.put_object(Bucket=BUCKET, Key="tls.html",
                                     Body=PAGE, ContentType="text/html",
                                     CacheControl="max-age=10",
                                     ContentEncoding="gzip"), [])
    st.expect("https, boto3 with another Cache-Control: invalidated",
              lambda: s3t.put_object(Bucket=BUCKET, Key="tls.html",
                                     Body=PAGE, ContentType="text/html",
                                     CacheControl="max-age=11",
                                     ContentEncoding="gzip"),
              ["/tls.html"])


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=240))
