#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t06_invalidation: from writes through s3inval to invalidations at moto's
CloudFront (DESIGN §3-§5).  Distributions are created at moto; buckets are
configured with them (one with an origin path).  After each step,
`s3inval flush --wait` and the invalidations moto recorded since the last
step must hold exactly the expected paths, computed here independently of
the C code: index documents, origin path, CloudFront encoding of special
characters, deletes included; nothing for reads, UploadPart, aborted
uploads, failed writes, buckets without distributions, or a
CompleteMultipartUpload / CopyObject answered 200 with an <Error>.
The wildcard threshold is set high so the paths are exact here; the
planner has its own tests.
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
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t06_invalidation"

cf_encode = s3itest.cf_encode
key_paths = s3itest.key_paths
keys_paths = s3itest.keys_paths


TREE = {
    "index.html": b"<h1>home</h1>",
    "about.html": b"about",
    "rss.xml": b"<rss/>",
    "css/site.css": b"body{}",
    "posts/2026/hello/index.html": b"hello",
    "posts/2026/second/index.html": b"second",
    "posts/2026/second/img one.png": b"\x89PNG" * 50,
    "tags/c/index.html": b"tag c",
    "dirA/a1.txt": b"a1", "dirA/a2.txt": b"a2", "dirA/sub/a3.txt": b"a3",
    "dirA/sub/index.html": b"a-index",
}
for _n in s3itest.SPECIAL_NAMES:
    TREE["special/" + _n] = ("special " + _n).encode()


class CF:
    """moto's CloudFront, read directly."""

    def __init__(self, moto_url):
        import boto3
        self.c = boto3.client("cloudfront", endpoint_url=moto_url,
                              aws_access_key_id="moto",
                              aws_secret_access_key="moto",
                              region_name="us-east-1")
        self.seen = {}

    def create_distribution(self, name):
        r = self.c.create_distribution(DistributionConfig={
            "CallerReference": "t06-" + name,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "o", "DomainName": name + ".s3.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0, "ForwardedValues": {
                    "QueryString": False, "Cookies": {"Forward": "none"}}},
            "Comment": "", "Enabled": True})
        return r["Distribution"]["Id"]

    def all(self, dist):
        """[(id, caller_reference, [paths])] of every invalidation."""
        out = []
        items = self.c.list_invalidations(DistributionId=dist)[
            "InvalidationList"].get("Items", [])
        for s in items:
            inv = self.c.get_invalidation(DistributionId=dist,
                                          Id=s["Id"])["Invalidation"]
            b = inv["InvalidationBatch"]
            out.append((inv["Id"], b["CallerReference"],
                        b["Paths"].get("Items", [])))
        return out

    def new(self, dist):
        """Invalidations created since the last call, as a list."""
        seen = self.seen.setdefault(dist, set())
        out = [x for x in self.all(dist) if x[0] not in seen]
        seen.update(x[0] for x in out)
        return out


def flush(admin):
    r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30",
                        "--admin", admin], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


def run(t, ws):
    import boto3  # noqa: F401  (missing_peers checked it)
    from botocore.exceptions import ClientError

    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf = CF(moto_url)
    d_site = cf.create_distribution("site")
    d_sub = cf.create_distribution("sub")
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    conf = s3itest.write_config(
        ws.logdir, verifier.url,
        # index = off: this test checks the mapping and the pipeline, with
        # exact paths; planning with a learned index is t17's.
        sections={"bucket site-bucket": {"distributions": d_site,
                                         "index": "off"},
                  "bucket sub-bucket": {"distributions": d_sub,
                                        "index": "off",
                                        "origin_path": "/www"}},
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="500ms",
        cloudfront__max_delay="5s", cloudfront__poll_interval="500ms",
        cloudfront__max_requests_per_second="50",
        cloudfront__wildcard_threshold="100000")
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    env = s3itest.aws_env()
    site = ws.scratch_path("site")
    for rel, data in TREE.items():
        s3itest.write_file(os.path.join(site, rel), data)
    s3 = s3itest.s3_client(d.url)

    def aws(*args):
        rc, out, err = s3itest.run_aws(1, list(args), env=env,
                                       endpoint=d.url)
        if rc != 0:
            raise AssertionError("aws %s: rc %d\n%s%s" % (
                " ".join(args), rc, out, err))

    def step(desc, dist, expect, fn, batches=None):
        def run_step():
            fn()
            rc, out = flush(admin)
            if rc != 0:
                return False, "flush: rc %d: %s" % (rc, out)
            new = cf.new(dist)
            got = set()
            for _, _, paths in new:
                got |= set(paths)
            diag = "expected %s\ngot %s\nbatches %d" % (
                sorted(expect), sorted(got), len(new))
            if got != expect:
                return False, diag
            if batches is not None and len(new) != batches:
                return False, "want %d batch(es): %s" % (batches, diag)
            return True, diag
        t.case(desc, run_step)

    aws("s3", "mb", "s3://site-bucket")
    aws("s3", "mb", "s3://sub-bucket")
    aws("s3", "mb", "s3://nodist-bucket")

    step("sync of a tree: index documents, special characters encoded",
         d_site, keys_paths(TREE), lambda: aws(
             "s3", "sync", site, "s3://site-bucket"))

    def sub_sync():
        aws("s3", "sync", site, "s3://sub-bucket/www")
        aws("s3", "cp", os.path.join(site, "about.html"),
            "s3://sub-bucket/other/about.html")
    step("origin path /www stripped; keys outside it need nothing",
         d_sub, keys_paths(("www/" + k for k in TREE), "/www"), sub_sync)

    # Alone, so the quiet period cannot merge it with paths: a write
    # that maps to nothing must not leave a distribution waiting.
    step("a write only outside the origin path: nothing, flush completes",
         d_sub, set(), lambda: aws(
             "s3", "cp", os.path.join(site, "about.html"),
             "s3://sub-bucket/other/alone.html"))

    one = ws.scratch_path("one.html")
    s3itest.write_file(one, b"one")
    step("s3 cp of one file", d_site, {"/one.html"},
         lambda: aws("s3", "cp", one, "s3://site-bucket/one.html"))

    big = ws.scratch_path("big.bin")
    s3itest.write_big_file(big, 20 * MiB)
    step("multipart upload (CompleteMultipartUpload)", d_site,
         {"/big%20file.bin"},
         lambda: aws("s3", "cp", big, "s3://site-bucket/big file.bin"))

    step("S3->S3 copy invalidates the destination", d_site,
         {"/copy/one.html"},
         lambda: aws("s3", "cp", "s3://site-bucket/one.html",
                     "s3://site-bucket/copy/one.html"))

    def edit_and_sync_delete():
        with open(os.path.join(site, "about.html"), "ab") as f:
            f.write(b" changed and longer")
        with open(os.path.join(site, "posts/2026/hello/index.html"),
                  "ab") as f:
            f.write(b" edited")
        os.unlink(os.path.join(site, "rss.xml"))
        os.unlink(os.path.join(site, "special/a b.txt"))
        aws("s3", "sync", "--delete", site, "s3://site-bucket")
    # sync --delete also removes what is not in the local tree.
    step("edits and sync --delete (one DeleteObject per key)", d_site,
         keys_paths(["about.html", "posts/2026/hello/index.html",
                     "rss.xml", "special/a b.txt", "one.html",
                     "big file.bin", "copy/one.html"]),
         edit_and_sync_delete)

    dir_a = [k for k in TREE if k.startswith("dirA/")]
    step("rm --recursive: every key, all in one batch", d_site,
         keys_paths(dir_a),
         lambda: aws("s3", "rm", "--recursive", "s3://site-bucket/dirA/"),
         batches=1)

    deleted = []

    def delete_objects():
        r = s3.delete_objects(Bucket="site-bucket", Delete={"Objects": [
            {"Key": "css/site.css"}, {"Key": "special/eq=.txt"},
            {"Key": "never-existed.html"}]})
        deleted.extend(x["Key"] for x in r.get("Deleted", []))
        if not deleted:
            raise AssertionError("delete_objects deleted nothing: %r" % r)
    step("boto3 delete_objects: the keys the response lists as Deleted",
         d_site, keys_paths(["css/site.css", "special/eq=.txt",
                             "never-existed.html"]), delete_objects)

    def reads():
        aws("s3", "ls", "--recursive", "s3://site-bucket")
        s3.head_object(Bucket="site-bucket", Key="about.html")
        s3.get_object(Bucket="site-bucket", Key="about.html", Range="bytes=0-3")
        s3.list_objects_v2(Bucket="site-bucket", Prefix="posts/")
        aws("s3", "cp", "s3://site-bucket/about.html", ws.scratch_path("x"))
    step("reads invalidate nothing", d_site, set(), reads)

    def parts_only():
        up = s3.create_multipart_upload(Bucket="site-bucket", Key="mpu.bin")
        s3.upload_part(Bucket="site-bucket", Key="mpu.bin", PartNumber=1,
                       UploadId=up["UploadId"], Body=b"x" * (5 * MiB))
        s3.abort_multipart_upload(Bucket="site-bucket", Key="mpu.bin",
                                  UploadId=up["UploadId"])
    step("CreateMultipartUpload, UploadPart, Abort invalidate nothing",
         d_site, set(), parts_only)

    def failed_writes():
        try:
            s3.copy_object(Bucket="site-bucket", Key="bad-copy.html",
                           CopySource={"Bucket": "site-bucket",
                                       "Key": "no-such-source.html"})
            raise AssertionError("copy from a missing source succeeded")
        except ClientError:
            pass
        s3.put_object(Bucket="nodist-bucket", Key="x.html", Body=b"x")
        try:
            s3.put_object(Bucket="not-configured-x", Key="y", Body=b"y")
        except ClientError:
            pass
    step("failed writes and buckets without distributions: nothing",
         d_site, set(), failed_writes)

    def quirk(body):
        req = urllib.request.Request(verifier.url + "/__verifier/quirk",
                                     data=json.dumps(body).encode(),
                                     method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def complete_with_error():
        # Every attempt (botocore retries InternalError) gets the quirk.
        quirk({"complete_200_error": 20})
        try:
            up = s3.create_multipart_upload(Bucket="site-bucket",
                                            Key="quirk.bin")
            p = s3.upload_part(Bucket="site-bucket", Key="quirk.bin",
                               PartNumber=1, UploadId=up["UploadId"],
                               Body=b"q" * 1024)
            try:
                s3.complete_multipart_upload(
                    Bucket="site-bucket", Key="quirk.bin",
                    UploadId=up["UploadId"], MultipartUpload={"Parts": [
                        {"PartNumber": 1, "ETag": p["ETag"]}]})
                raise AssertionError("200-with-Error taken as success")
            except ClientError as e:
                if e.response["Error"]["Code"] != "InternalError":
                    raise
        finally:
            quirk({})
    step("CompleteMultipartUpload answered 200 with <Error>: nothing",
         d_site, set(), complete_with_error)

    def copy_with_error():
        quirk({"copy_200_error": 20})
        try:
            try:
                s3.copy_object(Bucket="site-bucket", Key="quirk-copy.html",
                               CopySource={"Bucket": "site-bucket",
                                           "Key": "about.html"})
                raise AssertionError("200-with-Error taken as success")
            except ClientError as e:
                if e.response["Error"]["Code"] != "InternalError":
                    raise
        finally:
            quirk({})
    step("CopyObject answered 200 with <Error>: nothing", d_site, set(),
         copy_with_error)

    def unique_refs():
        refs = [r for dist in (d_site, d_sub) for _, r, _ in cf.all(dist)]
        return len(refs) == len(set(refs)) and len(refs) > 0, \
            "caller references: %s" % refs
    t.case("every batch has its own CallerReference", unique_refs)

    def metrics():
        with urllib.request.urlopen(admin + "/metrics", timeout=10) as r:
            text = r.read().decode()
        sent = [line for line in text.splitlines()
                if line.startswith("s3inval_batches_sent_total{")]
        ok = any(line.split()[-1] != "0" for line in sent) and \
            "s3inval_journal_errors_total 0" in text
        return ok, "\n".join(sent)
    t.case("/metrics counts the batches sent, no journal errors", metrics)

    def verifier_clean():
        s = verifier.stats()
        return s["seen"] > 0 and s["rejected"] == 0, json.dumps(s)
    t.case("every upstream request was signed correctly", verifier_clean)

    def alive():
        return d.alive(), s3itest.tail(d.log_path)
    t.case("the daemon is still running", alive)
    return d


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=170))
