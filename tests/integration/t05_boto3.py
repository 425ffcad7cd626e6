#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t05_boto3: boto3 through s3inval (auth.mode = sigv4) against moto_server
behind the SigV4 verifier: put/get/head/list/delete, multipart, copy,
delete_objects, and presigned GET and PUT URLs (made by boto3 with the
client keys for the proxy's URL, fetched with http.client).  Every
response carries x-amz-request-id; the bucket read directly from moto
holds exactly what was written; the verifier rejected nothing.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hashlib
    import io
    import random
    import time
    import urllib.parse
    import s3itest
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest/boto3: %r" % (e,))
    sys.exit(1)

NAME = "t05_boto3"
BUCKET = "s3inval-it-boto3"
KEYS = ["index.html", "dir/sub dir/index.html"] + s3itest.SPECIAL_NAMES + \
    ["dir with space/" + n for n in s3itest.SPECIAL_NAMES[:4]]


def run(t, ws):
    from botocore.exceptions import ClientError
    stack = s3itest.Stack(ws)

    s3 = s3itest.s3_client(stack.url)
    reader = s3itest.s3_client(stack.url, s3itest.READER_AK,
                               s3itest.READER_SK)
    direct = s3itest.moto_client(stack.moto_url)
    responses = []      # (client, operation, status, headers)

    def hook(name, client):
        def after_call(http_response, parsed, model, **kw):
            responses.append((name, model.name, http_response.status_code,
                              {k.lower(): v for k, v in
                               http_response.headers.items()}))
        client.meta.events.register("after-call.s3", after_call)
    hook("deploy", s3)
    hook("reader", reader)

    expected = {}       # key -> bytes, what the bucket must hold

    def bucket_equals():
        got = s3itest.bucket_digest(stack.moto_url, BUCKET)
        want = {k: (len(v), hashlib.sha256(v).hexdigest())
                for k, v in expected.items()}
        if got == want:
            return True, None
        return False, "missing %r\nextra %r\ndiffer %r" % (
            sorted(set(want) - set(got))[:10],
            sorted(set(got) - set(want))[:10],
            sorted(k for k in set(got) & set(want)
                   if got[k] != want[k])[:10])

    def upstream_count():
        return stack.verifier.stats()["seen"]

    def presigned_fetch(url, method="GET", body=None, headers=None):
        """(status, headers, body) of a presigned URL, fetched as is."""
        u = urllib.parse.urlsplit(url)
        return s3itest.http_request(
            "http://%s" % u.netloc, method, u.path + "?" + u.query,
            body=body, headers=headers or {})

    def create():
        s3.create_bucket(Bucket=BUCKET)
        names = [b["Name"] for b in direct.list_buckets()["Buckets"]]
        return BUCKET in names, names
    if not t.case("create_bucket", create):
        direct.create_bucket(Bucket=BUCKET)

    def put_keys():
        bad = []
        for i, k in enumerate(KEYS):
            data = ("object %d %s\n" % (i, k)).encode() * (i + 1)
            r = s3.put_object(Bucket=BUCKET, Key=k, Body=data,
                              ContentType="text/plain")
            expected[k] = data
            if r["ResponseMetadata"]["HTTPStatusCode"] != 200 or \
                    r["ETag"].strip('"') != hashlib.md5(data).hexdigest():
                bad.append((k, r["ResponseMetadata"]))
        same, diag = bucket_equals()
        return same and not bad, "%s\n%r" % (diag, bad)
    t.case("put_object of %d keys (special characters, UTF-8)" % len(KEYS),
           put_keys)

    def get_keys():
        bad = [k for k in KEYS
               if s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()
               != expected[k]]
        return not bad, bad
    t.case("get_object returns every key's bytes", get_keys)

    def head_and_range():
        k = "caf\u00e9.txt"
        h = s3.head_object(Bucket=BUCKET, Key=k)
        r = s3.get_object(Bucket=BUCKET, Key=k, Range="bytes=2-9")
        body = r["Body"].read()
        return (h["ContentLength"] == len(expected[k])
                and h["ContentType"] == "text/plain"
                and body == expected[k][2:10]
                and r["ResponseMetadata"]["HTTPStatusCode"] == 206), (h, body)
    t.case("head_object and ranged get_object", head_and_range)

    def listing():
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, PaginationConfig={"PageSize": 5}):
            keys += [o["Key"] for o in page.get("Contents", [])]
        r = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir with space/",
                               Delimiter="/")
        r1 = s3.list_objects(Bucket=BUCKET, Delimiter="/")
        cps = sorted(p["Prefix"] for p in r1.get("CommonPrefixes", []))
        return (sorted(keys) == sorted(expected)
                and len(r.get("Contents", [])) == 4
                and cps == ["dir with space/", "dir/"]), (keys, cps)
    t.case("list_objects_v2 paginated, prefix/delimiter; list_objects",
           listing)

    def no_such_key():
        try:
            s3.get_object(Bucket=BUCKET, Key="no such/key+")
            return False, "no error"
        except ClientError as e:
            return (e.response["Error"]["Code"] == "NoSuchKey"
                    and e.response["ResponseMetadata"]["HTTPStatusCode"]
                    == 404), e.response
    t.case("NoSuchKey passes through (404)", no_such_key)

    def multipart():
        from boto3.s3.transfer import TransferConfig
        base = random.Random(5).randbytes(MiB)
        data = b"".join((b"<block %06d>" % i + base)[:MiB]
                        for i in range(20))
        tc = TransferConfig(multipart_threshold=8 * MiB,
                            multipart_chunksize=8 * MiB, max_concurrency=4)
        k = "big/twenty MiB+\u00e9.bin"
        s3.upload_fileobj(io.BytesIO(data), BUCKET, k, Config=tc)
        expected[k] = data
        return bucket_equals()
    t.case("upload_fileobj 20 MiB (multipart, 4 parts in parallel)",
           multipart)

    def download():
        from boto3.s3.transfer import TransferConfig
        tc = TransferConfig(multipart_threshold=8 * MiB,
                            multipart_chunksize=8 * MiB, max_concurrency=4)
        k = "big/twenty MiB+\u00e9.bin"
        out = io.BytesIO()
        s3.download_fileobj(BUCKET, k, out, Config=tc)
        return out.getvalue() == expected[k], "%d bytes" % len(
            out.getvalue())
    t.case("download_fileobj 20 MiB (HEAD, then ranged GETs in parallel)",
           download)

    def get_throughput():
        """A plain GET of 20 MiB, read for at most 10 s: loopback moves
        hundreds of MiB/s, so a floor of 4 MiB/s only catches a stall in
        the proxy's streaming (ending early also checks that s3inval
        copes with a client that goes away mid-body)."""
        k = "big/twenty MiB+\u00e9.bin"
        t0 = time.time()
        body = s3.get_object(Bucket=BUCKET, Key=k)["Body"]
        n = 0
        while time.time() - t0 < 10:
            chunk = body.read(256 * 1024)
            if not chunk:
                break
            n += len(chunk)
        dt = time.time() - t0
        body.close()
        rate = n / MiB / dt
        return (n == len(expected[k]) or rate >= 4), \
            "%.1f MiB of %.0f in %.1fs: %.2f MiB/s" % (
                n / MiB, len(expected[k]) / MiB, dt, rate)
    t.case("GET of 20 MiB streams at >= 4 MiB/s", get_throughput)

    def copy():
        k = "copies/copy of plus+sign.txt"
        r = s3.copy_object(Bucket=BUCKET, Key=k, CopySource={
            "Bucket": BUCKET, "Key": "plus+sign.txt"})
        expected[k] = expected["plus+sign.txt"]
        same, diag = bucket_equals()
        return same and "CopyObjectResult" in r, diag
    t.case("copy_object (special-character source and destination)", copy)

    def delete_one():
        for k in ["a b.txt", "\u65e5\u672c.txt"]:
            r = s3.delete_object(Bucket=BUCKET, Key=k)
            if r["ResponseMetadata"]["HTTPStatusCode"] != 204:
                return False, r["ResponseMetadata"]
            del expected[k]
        return bucket_equals()
    t.case("delete_object (2 keys)", delete_one)

    def delete_many():
        keys = ["amp&.txt", "eq=.txt", "pct%.txt", "quote'.txt",
                "dir with space/plus+sign.txt", "no-such-key"]
        r = s3.delete_objects(Bucket=BUCKET, Delete={
            "Objects": [{"Key": k} for k in keys]})
        for k in keys:
            expected.pop(k, None)
        same, diag = bucket_equals()
        deleted = sorted(d["Key"] for d in r.get("Deleted", []))
        return same and deleted == sorted(keys) and not r.get("Errors"), \
            "%s\n%r" % (diag, r)
    t.case("delete_objects (6 keys, one absent)", delete_many)

    # presigned GET
    def presigned_get(key):
        def fn():
            url = s3.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": key},
                ExpiresIn=300)
            st, hdrs, body = presigned_fetch(url)
            return (st == 200 and body == expected[key]
                    and "x-amz-request-id" in hdrs), (url, st, hdrs,
                                                      body[:300])
        return fn
    for key in ["index.html", "dir with space/a b.txt", "caf\u00e9.txt"]:
        t.case("presigned GET %r" % key, presigned_get(key))

    # presigned PUT
    def presigned_put(key, data):
        def fn():
            url = s3.generate_presigned_url(
                "put_object", Params={"Bucket": BUCKET, "Key": key},
                ExpiresIn=300)
            st, hdrs, body = presigned_fetch(url, "PUT", data)
            if st == 200:
                expected[key] = data
            same, diag = bucket_equals()
            return (st == 200 and same and "x-amz-request-id" in hdrs), (
                url, st, hdrs, body[:300], diag)
        return fn
    t.case("presigned PUT with a body",
           presigned_put("presigned/put.bin", os.urandom(300 * 1024)))
    t.case("presigned PUT, special-character key",
           presigned_put("presigned/a b+c~\u65e5.txt", b"hello presigned"))

    def presigned_tampered():
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "index.html"},
            ExpiresIn=300)
        sig = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[
            "X-Amz-Signature"][0]
        bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
        n0 = upstream_count()
        st, hdrs, body = presigned_fetch(bad)
        n1 = upstream_count()
        return (st == 403 and b"SignatureDoesNotMatch" in body
                and n1 == n0), (st, body[:300], n1 - n0)
    t.case("tampered presigned URL: 403 SignatureDoesNotMatch, nothing "
           "forwarded", presigned_tampered)

    def presigned_expired():
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "index.html"},
            ExpiresIn=1)
        time.sleep(2.1)
        n0 = upstream_count()
        st, hdrs, body = presigned_fetch(url)
        n1 = upstream_count()
        return (st == 403 and b"AccessDenied" in body and n1 == n0), (
            st, body[:300], n1 - n0)
    t.case("expired presigned URL: 403 AccessDenied, nothing forwarded",
           presigned_expired)

    def reader_rights():
        got = reader.get_object(Bucket=BUCKET, Key="index.html")["Body"] \
            .read()
        n0 = upstream_count()
        try:
            reader.put_object(Bucket=BUCKET, Key="reader.txt", Body=b"no")
            return False, "reader could write"
        except ClientError as e:
            code = e.response["Error"]["Code"]
        n1 = upstream_count()
        return (got == expected["index.html"] and code == "AccessDenied"
                and n1 == n0), (code, n1 - n0)
    t.case("reader key: get_object allowed, put_object AccessDenied",
           reader_rights)

    def reader_presigned_put():
        url = reader.generate_presigned_url(
            "put_object", Params={"Bucket": BUCKET, "Key": "reader.txt"},
            ExpiresIn=300)
        n0 = upstream_count()
        st, hdrs, body = presigned_fetch(url, "PUT", b"nope")
        n1 = upstream_count()
        return (st == 403 and b"AccessDenied" in body and n1 == n0), (
            st, body[:300])
    t.case("reader key: presigned PUT AccessDenied", reader_presigned_put)

    def wrong_secret():
        bad = s3itest.s3_client(stack.url, s3itest.DEPLOY_AK, "y" * 40)
        n0 = upstream_count()
        try:
            bad.put_object(Bucket=BUCKET, Key="evil.txt", Body=b"evil")
            return False, "accepted"
        except ClientError as e:
            code = e.response["Error"]["Code"]
        n1 = upstream_count()
        return code == "SignatureDoesNotMatch" and n1 == n0, (code,
                                                             n1 - n0)
    t.case("wrong secret: SignatureDoesNotMatch, nothing forwarded",
           wrong_secret)

    def request_ids():
        missing = [(c, op, st) for c, op, st, h in responses
                   if not h.get("x-amz-request-id")]
        return (len(responses) > 30 and not missing), \
            "%d responses, %d without x-amz-request-id: %r" % (
                len(responses), len(missing), missing[:15])
    t.case("x-amz-request-id on every response seen by boto3",
           request_ids)

    t.check("bucket in moto equals everything written", bucket_equals)
    t.check("verifier: every upstream request correctly signed (seen > 0, "
            "rejected == 0)", stack.verifier_clean)
    t.check("s3inval still running", stack.proxy_alive)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=170))
