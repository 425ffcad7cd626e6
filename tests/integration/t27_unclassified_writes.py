#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t27_unclassified_writes: what a successful write changed, when s3inval is
not told plainly (issue 13, "A table of every S3 operation").  Through the
real binary, with moto as S3 and as CloudFront; every case ends with
`s3inval flush --wait` and compares the paths of the invalidations moto
recorded since the case began.

    client --> s3inval --> bad_upstream --> sigv4_verifier --> moto

bad_upstream passes everything through but what a case tells it to answer
itself: a 200 whose body cannot be read, a DeleteObjects answer that says
<EncodingType>url</EncodingType>, an operation s3inval does not know that
succeeds.

- PUT /bucket/key?uploadId=x without partNumber: moto stores an object;
  it is an operation the table does not know: admin only, the key
  invalidated, logged once per operation name, counted.
- A browser-form POST /bucket: 501 NotImplemented, nothing forwarded.
- A CopyObject 200 that cannot be parsed: the client gets it as it came,
  the destination key is invalidated, logged and counted as a fallback.
- A DeleteObjects answer that cannot be read: every key the request named.
- DeleteObjects?encoding-type=url against moto, which answers raw keys:
  "a+b.html" stays "/a+b.html" (it was "/a%20b.html"); an answer that
  does say url is decoded.
- A 1,025-byte key: 400 KeyTooLongError, nothing forwarded; 1,024 is fine.
- Bucket-level changes (an unknown one that succeeds, PutBucketWebsite):
  one "/*".
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import base64
    import hashlib
    import re
    import subprocess
    import urllib.parse
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t27_unclassified_writes"
BUCKET = "t27-site"
RW_AK = "AKIDT27RWONLY000001"
RW_SK = "t27RwOnlySecretKeyEXAMPLE0123456789abcde"


class Ctx:
    def __init__(self, ws):
        self.ws = ws
        self.moto, self.moto_url = s3itest.start_moto(ws.logdir)
        self.verifier = s3itest.start_verifier(ws.logdir, self.moto_url)
        self.bad = s3itest.start_bad_upstream(ws.logdir, self.verifier.url)
        self.cf, self.dist = s3itest.moto_distribution(self.moto_url, "t27")
        conf = s3itest.write_config(
            ws.logdir, self.bad.url,
            sections={"bucket *": None,
                      "bucket " + BUCKET: {"distributions": self.dist},
                      "client rwonly": {"access_key_id": RW_AK,
                                        "secret_access_key": RW_SK,
                                        "buckets": BUCKET + ":rw"}},
            cloudfront__endpoint=self.moto_url,
            cloudfront__quiet_period="200ms",
            cloudfront__poll_interval="200ms",
            cloudfront__max_requests_per_second="50",
            cloudfront__wildcard_threshold="1000")
        self.d = s3itest.start_s3inval(conf, None, ws.logdir)
        self.url = self.d.url
        self.direct = s3itest.moto_client(self.moto_url)
        self.direct.create_bucket(Bucket=BUCKET)

    def raw(self, method, target, body=b"", headers=None, ak=None,
            sk=None, sign=True):
        """One request, hand-signed (or not): (status, headers, body)."""
        h = dict(headers or {})
        if sign:
            h = s3itest.sign_request(
                method, self.url + target, body, headers=h,
                access_key=ak or s3itest.DEPLOY_AK,
                secret_key=sk or s3itest.DEPLOY_SK)
        return s3itest.http_request(
            self.url, method, target,
            body=body if method in ("PUT", "POST") else None, headers=h)

    def ids(self):
        items = self.cf.list_invalidations(DistributionId=self.dist)[
            "InvalidationList"].get("Items", [])
        return {i["Id"] for i in items}

    def flush_new(self, before):
        """`s3inval flush --wait`, then the paths of every invalidation
        moto recorded that is not in before (ids): (ok, paths, diag)."""
        r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=30",
                            "--admin", self.d.admin_url],
                           capture_output=True, text=True, timeout=60)
        paths = set()
        for i in self.ids() - before:
            inv = self.cf.get_invalidation(DistributionId=self.dist, Id=i)
            paths |= set(inv["Invalidation"]["InvalidationBatch"]["Paths"]
                         .get("Items", []))
        return r.returncode == 0, paths, "flush rc %d %s %s" % (
            r.returncode, r.stdout.strip(), r.stderr.strip())

    def metric(self, name):
        with urllib.request.urlopen(self.d.admin_url + "/metrics",
                                    timeout=10) as resp:
            text = resp.read().decode()
        m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
        return int(m.group(1)) if m else None

    def seen(self):
        """Requests that reached the verifier, and bad_upstream."""
        return self.verifier.stats()["seen"], len(self.bad.requests())

    def log(self):
        return s3itest.tail(self.d.log_path, 10 ** 9)


def q(key):
    return urllib.parse.quote(key.encode("utf-8"), safe="-_.~/")


def delete_body(keys):
    objs = "".join("<Object><Key>%s</Key></Object>" % k.replace(
        "&", "&amp;").replace("<", "&lt;") for k in keys)
    body = ('<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://'
            's3.amazonaws.com/doc/2006-03-01/">%s</Delete>' % objs).encode()
    return body, {"Content-MD5": base64.b64encode(
        hashlib.md5(body).digest()).decode()}


def err_code(body):
    e = s3itest.parse_s3_error(body) or {}
    return e.get("Code"), e.get("Message", "")


def run(t, ws):
    cx = Ctx(ws)
    cx.direct.put_object(Bucket=BUCKET, Key="src.html", Body=b"<p>src</p>")

    # --- PUT ?uploadId without partNumber -------------------------------
    def upload_id_rw():
        n0 = cx.seen()
        st, _, body = cx.raw("PUT", "/%s/rw-up.html?uploadId=x" % BUCKET,
                             b"hello", ak=RW_AK, sk=RW_SK)
        code, msg = err_code(body)
        stored = "Contents" in cx.direct.list_objects_v2(
            Bucket=BUCKET, Prefix="rw-up.html")
        return (st == 403 and code == "AccessDenied" and "admin" in msg
                and cx.seen() == n0 and not stored), (st, body, n0,
                                                       cx.seen())
    t.case("PUT key?uploadId (no partNumber) with rw: 403 AccessDenied "
           "naming admin, nothing forwarded", upload_id_rw)

    def upload_id_admin():
        before = cx.ids()
        m0 = cx.metric("s3inval_unclassified_writes_total")
        res = [cx.raw("PUT", "/%s/%s?uploadId=x" % (BUCKET, k), b"hello")[0]
               for k in ("up.html", "up2.html")]
        stored = [c["Key"] for c in cx.direct.list_objects_v2(
            Bucket=BUCKET, Prefix="up").get("Contents", [])]
        ok, paths, diag = cx.flush_new(before)
        m1 = cx.metric("s3inval_unclassified_writes_total")
        logged = cx.log().count("event=unclassified_write")
        return (res == [200, 200] and sorted(stored) == ["up.html",
                                                         "up2.html"]
                and ok and {"/up.html", "/up2.html"} <= paths
                and m1 - m0 == 2 and logged == 1
                and 'operation="PUT object?uploadId"' in cx.log()), \
            "status %s stored %s paths %s metric %s->%s logged %d %s" % (
                res, stored, sorted(paths), m0, m1, logged, diag)
    t.case("PUT key?uploadId (no partNumber) with admin: moto stores it, "
           "its key is invalidated, counted twice, logged once", 
           upload_id_admin)

    # --- a browser-form POST ----------------------------------------------
    def form_post():
        n0 = cx.seen()
        boundary = "----s3inval-t27"
        body = ("--%s\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
                "form.html\r\n--%s\r\nContent-Disposition: form-data; "
                "name=\"file\"; filename=\"form.html\"\r\nContent-Type: "
                "text/html\r\n\r\n<p>form</p>\r\n--%s--\r\n" % (
                    boundary, boundary, boundary)).encode()
        st, _, data = cx.raw("POST", "/%s" % BUCKET, body, headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary},
            sign=False)
        code, msg = err_code(data)
        stored = "Contents" in cx.direct.list_objects_v2(
            Bucket=BUCKET, Prefix="form.html")
        return (st == 501 and code == "NotImplemented" and
                "Browser-form" in msg and cx.seen() == n0 and
                not stored), (st, data, n0, cx.seen())
    t.case("browser-form POST /bucket: 501 NotImplemented saying why, "
           "nothing forwarded, nothing stored", form_post)

    # --- a CopyObject 200 that cannot be parsed -------------------------
    def copy_unreadable():
        before = cx.ids()
        f0 = cx.metric("s3inval_write_fallbacks_total")
        cx.bad.rules({"mode": "slow_body", "match": r"^PUT /%s/copy-dst" %
                      BUCKET, "body": "<CopyObjectResult><ETag>",
                      "pieces": 1, "interval": 0})
        st, _, body = cx.raw("PUT", "/%s/copy-dst.html" % BUCKET, b"",
                             headers={"x-amz-copy-source":
                                      "%s/src.html" % BUCKET})
        ok, paths, diag = cx.flush_new(before)
        f1 = cx.metric("s3inval_write_fallbacks_total")
        return (st == 200 and body == b"<CopyObjectResult><ETag>" and ok
                and "/copy-dst.html" in paths and f1 - f0 == 1 and
                "event=write_fallback op=CopyObject" in cx.log()), \
            "status %d body %r paths %s fallbacks %s->%s %s" % (
                st, body, sorted(paths), f0, f1, diag)
    t.case("CopyObject answered 200 with a body that does not parse: the "
           "client gets it, the destination key is invalidated, logged and "
           "counted", copy_unreadable)

    # --- a DeleteObjects answer that cannot be read ----------------------
    def delete_unreadable():
        before = cx.ids()
        keys = ["del/a.html", "del/b c.html", "del/caf\u00e9&.html"]
        cx.bad.rules({"mode": "slow_body", "match": r"^POST /%s\?delete" %
                      BUCKET, "body": "<html>502 Bad Gateway</html>",
                      "pieces": 1, "interval": 0})
        body, h = delete_body(keys)
        st, _, data = cx.raw("POST", "/%s?delete" % BUCKET, body, h)
        ok, paths, diag = cx.flush_new(before)
        want = s3itest.keys_paths(keys)
        return (st == 200 and data == b"<html>502 Bad Gateway</html>" and
                ok and want <= paths), "status %d paths %s want %s %s" % (
                    st, sorted(paths), sorted(want), diag)
    t.case("DeleteObjects answered with a body that cannot be read: every "
           "key the request named is invalidated", delete_unreadable)

    # --- encoding-type both ways -----------------------------------------
    def encoding_raw():
        before = cx.ids()
        cx.direct.put_object(Bucket=BUCKET, Key="enc/a+b.html", Body=b"x")
        body, h = delete_body(["enc/a+b.html"])
        st, _, data = cx.raw("POST", "/%s?delete&encoding-type=url" %
                             BUCKET, body, h)
        ok, paths, diag = cx.flush_new(before)
        gone = "Contents" not in cx.direct.list_objects_v2(
            Bucket=BUCKET, Prefix="enc/")
        return (st == 200 and b"<EncodingType>" not in data and gone and ok
                and paths == {"/enc/a+b.html"}), \
            "status %d answer %r paths %s %s" % (st, data, sorted(paths),
                                                 diag)
    t.case("DeleteObjects?encoding-type=url to moto (raw keys, no "
           "EncodingType in its answer): /enc/a+b.html, not /enc/a%20b.html",
           encoding_raw)

    def encoding_url():
        before = cx.ids()
        answer = ("<DeleteResult><EncodingType>url</EncodingType><Deleted>"
                  "<Key>enc2/c%2Bd.html</Key></Deleted><Deleted><Key>"
                  "enc2/e+f.html</Key></Deleted></DeleteResult>")
        cx.bad.rules({"mode": "slow_body", "match": r"^POST /%s\?delete" %
                      BUCKET, "body": answer, "pieces": 1, "interval": 0})
        body, h = delete_body(["enc2/c+d.html", "enc2/e f.html"])
        st, _, _ = cx.raw("POST", "/%s?delete&encoding-type=url" % BUCKET,
                          body, h)
        ok, paths, diag = cx.flush_new(before)
        return (st == 200 and ok and paths == {"/enc2/c+d.html",
                                               "/enc2/e%20f.html"}), \
            "status %d paths %s %s" % (st, sorted(paths), diag)
    t.case("a DeleteObjects answer saying <EncodingType>url</EncodingType> "
           "is decoded: /enc2/c+d.html and /enc2/e%20f.html", encoding_url)

    # --- keys over 1,024 bytes -------------------------------------------
    def key_too_long():
        from botocore.exceptions import ClientError
        n0 = cx.seen()
        st, _, body = cx.raw("PUT", "/%s/%s" % (BUCKET, "k" * 1025), b"x")
        code, _ = err_code(body)
        s3 = s3itest.s3_client(cx.url, max_attempts=0)
        try:
            s3.put_object(Bucket=BUCKET, Key="\u00e9" * 513, Body=b"x")
            boto = None
        except ClientError as e:
            boto = e.response["Error"]["Code"]
        return (st == 400 and code == "KeyTooLongError" and
                boto == "KeyTooLongError" and cx.seen() == n0), \
            "raw %d %s, boto3 %s, upstream %s -> %s" % (st, code, boto, n0,
                                                        cx.seen())
    t.case("a 1,025-byte key (and 513 two-byte characters): 400 "
           "KeyTooLongError, nothing forwarded", key_too_long)

    def key_1024():
        before = cx.ids()
        key = "long/" + "k" * 1019
        st, _, _ = cx.raw("PUT", "/%s/%s" % (BUCKET, key), b"x")
        ok, paths, diag = cx.flush_new(before)
        return (st == 200 and ok and "/" + key in paths), \
            "status %d %s %s" % (st, sorted(p[:40] for p in paths), diag)
    t.case("a 1,024-byte key is stored and invalidated", key_1024)

    # --- the whole bucket -------------------------------------------------
    def unknown_bucket_write():
        before = cx.ids()
        m0 = cx.metric("s3inval_unclassified_writes_total")
        cx.bad.rules({"mode": "slow_body", "match": r"^PUT /%s\?brandNew" %
                      BUCKET, "body": "", "pieces": 1, "interval": 0})
        st, _, _ = cx.raw("PUT", "/%s?brandNew=1" % BUCKET, b"<x/>")
        ok, paths, diag = cx.flush_new(before)
        m1 = cx.metric("s3inval_unclassified_writes_total")
        return (st == 200 and ok and paths == {"/*"} and m1 - m0 == 1 and
                'operation="PUT bucket?brandNew"' in cx.log()), \
            "status %d paths %s metric %s->%s %s" % (st, sorted(paths), m0,
                                                     m1, diag)
    t.case("a bucket-level operation s3inval does not know succeeds: one "
           "/*, logged, counted", unknown_bucket_write)

    def website():
        before = cx.ids()
        s3 = s3itest.s3_client(cx.url)
        s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}})
        ok, paths, diag = cx.flush_new(before)
        return ok and paths == {"/*"}, "paths %s %s" % (sorted(paths), diag)
    t.case("PutBucketWebsite (admin): one /*", website)

    t.check("the verifier rejected nothing", lambda: (
        cx.verifier.stats()["rejected"] == 0, cx.verifier.stats()))
    t.check("s3inval still running", lambda: (cx.d.alive(), cx.log()[-3000:]))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=240))
