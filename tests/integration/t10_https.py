#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t10_https: s3inval's client listener on HTTPS (server.tls_cert/tls_key, a
self-signed P-256 certificate made here) in front of the SigV4 verifier
and moto_server, driven by the real clients with AWS_CA_BUNDLE / verify=:

- aws-cli v1 and boto3 send PutObject and UploadPart over https as
  Transfer-Encoding: chunked + Content-Encoding: aws-chunked with
  x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER and an
  x-amz-checksum-crc32 trailer.  s3inval decodes that and re-frames it for
  the upstream, with a Content-Length; the verifier parses the framing
  strictly and checks the trailer checksum, and counts what it accepted
  (stats: streaming_seen, trailers), which proves the clients really sent
  aws-chunked and the proxy really re-framed it;
- with AWS_REQUEST_CHECKSUM_CALCULATION=when_required (request_checksum_
  calculation) there is no trailer and no aws-chunked (botocore then signs
  the payload's SHA-256 even over https: no checksum header, see
  S3SigV4Auth._should_sha256_sign_payload);
- aws-cli v2 (Debian's) sends UNSIGNED-PAYLOAD + Content-MD5, no
  aws-chunked (the verifier checks the Content-MD5);
- tests/fixtures/chunked_client.py over https: a signed upload with a
  CRC32C trailer goes through; one with a wrong CRC32 trailer is refused
  (BadDigest) and nothing is stored.
Every object read back directly from moto is byte-identical; downloads
go through the proxy with checksum validation; the verifier rejected
nothing and saw no aborted body.

moto 5.2 keeps the value of an aws-chunked checksum trailer only when the
request also has x-amz-sdk-checksum-algorithm (aws-cli v1 and boto3 send
it; it does not check the value): so a right ChecksumCRC32 from HeadObject
/ GetObject with ChecksumMode ENABLED shows the trailer went through the
proxy's re-framing unchanged.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hashlib
    import json
    import socket
    import ssl
    import zlib
    import base64
    import s3itest
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t10_https"
BUCKET = "s3inval-it-https"
BUDGET = 170
STREAMING = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
CRC32 = "x-amz-checksum-crc32"


def crc32_b64(data):
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(
        4, "big")).decode()


def run(t, ws):
    stack = s3itest.https_stack(ws)
    ca = stack.ca_file
    v = stack.verifier
    aws_log = ws.path("aws.log")
    local = ws.scratch_path("files")
    os.makedirs(local)

    def snap():
        return v.stats()

    def delta(before):
        return s3itest.stats_delta(before, v.stats())

    def show(d):
        d = dict(d)
        d.pop("last_accepted", None)
        return json.dumps(d, sort_keys=True)

    def recent(n):
        """The verifier's last n accepted requests, one line each."""
        return "\n".join(json.dumps(a, sort_keys=True)
                         for a in v.stats()["last_accepted"][-n:])

    def moto_is(key, data):
        got = s3itest.moto_object(stack.moto_url, BUCKET, key)
        if got == data:
            return True, None
        return False, "moto holds %s for %r, want %d bytes %s" % (
            "nothing" if got is None else "%d bytes %s" % (
                len(got), hashlib.sha256(got).hexdigest()[:16]),
            key, len(data), hashlib.sha256(data).hexdigest()[:16])

    def aws(version, *args, env=None, timeout=120):
        e = {"AWS_CA_BUNDLE": ca}
        e.update(env or {})
        return s3itest.run_aws(version, list(args), env=e,
                               endpoint=stack.url, log_path=aws_log,
                               timeout=t.remaining(timeout))

    def cmd(rc, out, err):
        return "rc=%d\nstdout: %s\nstderr: %s" % (rc, out[-2000:],
                                                  err[-2000:])

    def make(name, size, seed):
        path = os.path.join(local, name)
        if size >= MiB:
            s3itest.write_big_file(path, size, seed)
        else:
            s3itest.write_file(path, (b"%s seed %d\n" % (
                name.encode(), seed)) * (size // 20 + 1))
            with open(path, "r+b") as f:
                f.truncate(size)
        with open(path, "rb") as f:
            return path, f.read()

    # --- the listener ---------------------------------------------------

    def tls_listener():
        ctx = ssl.create_default_context(cafile=ca)
        with socket.create_connection(("127.0.0.1", stack.s3inval.port),
                                      10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as tls:
                version = tls.version()
                peer = tls.getpeercert()
        # plain HTTP to the TLS port gets no HTTP answer
        try:
            st, _, _ = s3itest.http_request(
                "http://127.0.0.1:%d/" % stack.s3inval.port, timeout=5)
        except Exception as e:
            st = repr(e)
        return (version in ("TLSv1.2", "TLSv1.3") and peer
                and not (isinstance(st, int) and st < 400)), (version, peer,
                                                              st)
    t.case("client listener speaks TLS with our certificate (plain HTTP "
           "gets no S3 answer)", tls_listener)

    # --- aws-cli v1 -----------------------------------------------------

    v1, v1why = s3itest.find_aws(1)

    def v1_case(desc, fn):
        if v1 is None:
            t.missing_tool(desc, v1why)
        else:
            t.case(desc, fn)

    def mb():
        rc, out, err = aws(1, "s3", "mb", "s3://" + BUCKET)
        names = [b["Name"] for b in s3itest.moto_client(stack.moto_url)
                 .list_buckets()["Buckets"]]
        return rc == 0 and BUCKET in names, cmd(rc, out, err)
    if v1 is None or not t.case("aws-cli v1: s3 mb over https", mb):
        if v1 is None:
            t.missing_tool("aws-cli v1: s3 mb over https", v1why)
        s3itest.moto_client(stack.moto_url).create_bucket(Bucket=BUCKET)

    small_path, small = make("small file.txt", 200 * 1024 + 17, 1)

    def v1_cp_small():
        s0 = snap()
        rc, out, err = aws(1, "s3", "cp", small_path,
                           "s3://%s/v1/small file.txt" % BUCKET)
        d = delta(s0)
        same, diag = moto_is("v1/small file.txt", small)
        return (rc == 0 and same and d["streaming_seen"] == 1
                and d["trailers"] == {CRC32: 1} and d["rejected"] == 0), \
            "%s\n%s\nverifier delta: %s\n%s" % (cmd(rc, out, err), diag,
                                                 show(d), recent(2))
    v1_case("aws-cli v1: s3 cp 200 KiB: aws-chunked re-framed upstream "
            "(1 STREAMING-UNSIGNED-PAYLOAD-TRAILER, crc32 trailer checked), "
            "byte-identical in moto", v1_cp_small)

    big_path, big = make("fifty MiB.bin", 50 * MiB, 2)

    def v1_cp_big():
        s0 = snap()
        rc, out, err = aws(1, "s3", "cp", big_path,
                           "s3://%s/v1/fifty MiB.bin" % BUCKET)
        d = delta(s0)
        same, diag = moto_is("v1/fifty MiB.bin", big)
        parts = [a for a in v.stats()["last_accepted"]
                 if "partNumber=" in a["path"]]
        return (rc == 0 and same and d["streaming_seen"] >= 7
                and d["trailers"].get(CRC32, 0) >= 7
                and d["rejected"] == 0), \
            "%s\n%s\nverifier delta: %s\nparts: %s" % (
                cmd(rc, out, err), diag, show(d),
                json.dumps(parts[-8:], sort_keys=True))
    v1_case("aws-cli v1: s3 cp 50 MiB (multipart, CRC32 trailer per part, "
            ">= 7 aws-chunked parts), byte-identical", v1_cp_big)

    tree = ws.scratch_path("tree")
    names = s3itest.make_site_tree(tree, 12, seed=3)

    def v1_sync():
        s0 = snap()
        rc, out, err = aws(1, "s3", "sync", tree,
                           "s3://%s/site/" % BUCKET)
        d = delta(s0)
        got = {k: val for k, val in s3itest.bucket_digest(
            stack.moto_url, BUCKET).items() if k.startswith("site/")}
        want = s3itest.tree_digest(tree, "site/")
        return (rc == 0 and got == want
                and d["streaming_seen"] == len(names)
                and d["rejected"] == 0), \
            "%s\n%d files, moto has %d equal: %s\nverifier delta: %s" % (
                cmd(rc, out, err), len(want), len(got), got == want,
                show(d))
    v1_case("aws-cli v1: s3 sync of %d files: each upload aws-chunked, "
            "the bucket equals the tree" % len(names), v1_sync)

    def v1_get_checksum():
        dest = ws.scratch_path("get-small.out")
        rc, out, err = aws(1, "s3api", "get-object", "--bucket", BUCKET,
                           "--key", "v1/small file.txt", "--checksum-mode",
                           "ENABLED", dest)
        try:
            meta = json.loads(out)
        except ValueError:
            meta = {}
        got = open(dest, "rb").read() if os.path.exists(dest) else None
        ck = meta.get("ChecksumCRC32")
        return (rc == 0 and got == small and ck == crc32_b64(small)), \
            "%s\nChecksumCRC32 %r, want %r" % (cmd(rc, out, err), ck,
                                               crc32_b64(small))
    v1_case("aws-cli v1: s3api get-object --checksum-mode ENABLED: bytes "
            "identical, the trailer's ChecksumCRC32 kept", v1_get_checksum)

    def v1_cp_down():
        dest = ws.scratch_path("down-big.out")
        rc, out, err = aws(1, "s3", "cp", "s3://%s/v1/fifty MiB.bin"
                           % BUCKET, dest)
        ok = rc == 0 and os.path.exists(dest) and \
            s3itest.file_sha256(dest) == hashlib.sha256(big).hexdigest()
        if os.path.exists(dest):
            os.unlink(dest)
        return ok, cmd(rc, out, err)
    v1_case("aws-cli v1: s3 cp down 50 MiB over https, identical",
            v1_cp_down)

    def v1_head_checksum():
        rc, out, err = aws(1, "s3api", "head-object", "--bucket", BUCKET,
                           "--key", "v1/small file.txt", "--checksum-mode",
                           "ENABLED")
        try:
            meta = json.loads(out)
        except ValueError:
            meta = {}
        ck = meta.get("ChecksumCRC32")
        return (rc == 0 and meta.get("ContentLength") == len(small)
                and ck == crc32_b64(small)), \
            "%s\nChecksumCRC32 %r, want %r" % (cmd(rc, out, err), ck,
                                               crc32_b64(small))
    v1_case("aws-cli v1: s3api head-object --checksum-mode ENABLED: "
            "ContentLength, ChecksumCRC32 of the trailer", v1_head_checksum)

    def v1_when_required():
        path, data = make("when required.txt", 70000, 4)
        s0 = snap()
        rc, out, err = aws(1, "s3", "cp", path,
                           "s3://%s/v1/when required.txt" % BUCKET,
                           env={"AWS_REQUEST_CHECKSUM_CALCULATION":
                                "when_required"})
        d = delta(s0)
        same, diag = moto_is("v1/when required.txt", data)
        t.diag("aws-cli v1 when_required: payload modes upstream %s"
               % json.dumps(d["payloads"], sort_keys=True))
        return (rc == 0 and same and d["streaming_seen"] == 0
                and not d["trailers"] and d["rejected"] == 0), \
            "%s\n%s\nverifier delta: %s" % (cmd(rc, out, err), diag,
                                             show(d))
    v1_case("aws-cli v1 with AWS_REQUEST_CHECKSUM_CALCULATION="
            "when_required: no aws-chunked, byte-identical", v1_when_required)

    # --- boto3 ----------------------------------------------------------

    s3 = s3itest.s3_client_tls(stack.url, ca)

    def b3_put():
        data = os.urandom(300 * 1024) + b"boto3"
        s0 = snap()
        r = s3.put_object(Bucket=BUCKET, Key="boto3/put one.bin", Body=data)
        d = delta(s0)
        same, diag = moto_is("boto3/put one.bin", data)
        return (same and d["streaming_seen"] == 1
                and d["trailers"] == {CRC32: 1}
                and r.get("ChecksumCRC32") == crc32_b64(data)), \
            "%s\nverifier delta: %s\n%s\nresponse %r" % (
                diag, show(d), recent(1), {k: val for k, val in r.items()
                                           if k != "ResponseMetadata"})
    t.case("boto3: put_object 300 KiB over https: aws-chunked re-framed, "
           "byte-identical", b3_put)

    def b3_put_sha256():
        data = os.urandom(100 * 1024)
        want = base64.b64encode(hashlib.sha256(data).digest()).decode()
        s0 = snap()
        s3.put_object(Bucket=BUCKET, Key="boto3/sha256.bin", Body=data,
                      ChecksumAlgorithm="SHA256")
        d = delta(s0)
        same, diag = moto_is("boto3/sha256.bin", data)
        h = s3.head_object(Bucket=BUCKET, Key="boto3/sha256.bin",
                           ChecksumMode="ENABLED")
        return (same and d["streaming_seen"] == 1
                and d["trailers"] == {"x-amz-checksum-sha256": 1}
                and h.get("ChecksumSHA256") == want), \
            "%s\nverifier delta: %s\nChecksumSHA256 %r want %r" % (
                diag, show(d), h.get("ChecksumSHA256"), want)
    t.case("boto3: put_object ChecksumAlgorithm SHA256 over https: "
           "x-amz-checksum-sha256 trailer re-framed and kept, identical",
           b3_put_sha256)

    def b3_upload_big():
        from boto3.s3.transfer import TransferConfig
        s0 = snap()
        s3.upload_file(big_path, BUCKET, "boto3/fifty.bin",
                       Config=TransferConfig(multipart_threshold=8 * MiB,
                                             multipart_chunksize=8 * MiB,
                                             max_concurrency=4))
        d = delta(s0)
        same, diag = moto_is("boto3/fifty.bin", big)
        return (same and d["streaming_seen"] >= 7
                and d["trailers"].get(CRC32, 0) >= 7
                and d["rejected"] == 0), "%s\nverifier delta: %s" % (
                    diag, show(d))
    t.case("boto3: upload_file 50 MiB (multipart, >= 7 aws-chunked parts), "
           "byte-identical", b3_upload_big)

    def b3_get_checksum():
        r = s3.get_object(Bucket=BUCKET, Key="boto3/put one.bin",
                          ChecksumMode="ENABLED")
        body = r["Body"].read()
        want = s3itest.moto_object(stack.moto_url, BUCKET,
                                   "boto3/put one.bin")
        ck = r.get("ChecksumCRC32")
        return (body == want and ck == crc32_b64(body)), (len(body), ck)
    t.case("boto3: get_object ChecksumMode ENABLED over https: identical, "
           "ChecksumCRC32 of the trailer (validated by botocore)",
           b3_get_checksum)

    def b3_when_required():
        from boto3.s3.transfer import TransferConfig
        c = s3itest.s3_client_tls(stack.url, ca,
                                  request_checksum_calculation="when_required")
        data = os.urandom(100 * 1024)
        path, mid = make("twenty.bin", 20 * MiB, 5)
        s0 = snap()
        c.put_object(Bucket=BUCKET, Key="boto3/wr small.bin", Body=data)
        c.upload_file(path, BUCKET, "boto3/wr twenty.bin",
                      Config=TransferConfig(multipart_threshold=8 * MiB,
                                            multipart_chunksize=8 * MiB,
                                            max_concurrency=4))
        d = delta(s0)
        s1, d1 = moto_is("boto3/wr small.bin", data)
        s2, d2 = moto_is("boto3/wr twenty.bin", mid)
        os.unlink(path)
        t.diag("when_required: payload modes upstream %s" % json.dumps(
            d["payloads"], sort_keys=True))
        return (s1 and s2 and d["streaming_seen"] == 0 and not d["trailers"]
                and d["rejected"] == 0), "%s %s\nverifier delta: %s" % (
                    d1, d2, show(d))
    t.case("boto3 request_checksum_calculation=when_required: put_object "
           "and 20 MiB upload_file without aws-chunked, identical",
           b3_when_required)

    # --- aws-cli v2 (Debian) --------------------------------------------

    v2, v2why = s3itest.find_aws(2)

    def v2_case(desc, fn):
        if v2 is None:
            t.missing_tool(desc, v2why)
        else:
            t.case(desc, fn)

    def v2_cp_up():
        s0 = snap()
        rc1, o1, e1 = aws(2, "s3", "cp", small_path,
                          "s3://%s/v2/small file.txt" % BUCKET)
        rc2, o2, e2 = aws(2, "s3", "cp", big_path,
                          "s3://%s/v2/fifty MiB.bin" % BUCKET)
        d = delta(s0)
        a, da = moto_is("v2/small file.txt", small)
        b, db = moto_is("v2/fifty MiB.bin", big)
        t.diag("aws-cli v2: payload modes upstream %s" % json.dumps(
            d["payloads"], sort_keys=True))
        return (rc1 == 0 and rc2 == 0 and a and b
                and d["streaming_seen"] == 0 and d["rejected"] == 0), \
            "%s\n%s\n%s %s\nverifier delta: %s" % (
                cmd(rc1, o1, e1), cmd(rc2, o2, e2), da, db, show(d))
    v2_case("aws-cli v2: s3 cp 200 KiB and 50 MiB over https (no "
            "aws-chunked; Content-MD5 checked upstream), identical",
            v2_cp_up)

    def v2_cp_down():
        dest = ws.scratch_path("down-v2.out")
        rc, out, err = aws(2, "s3", "cp", "s3://%s/v2/fifty MiB.bin"
                           % BUCKET, dest)
        ok = rc == 0 and os.path.exists(dest) and \
            s3itest.file_sha256(dest) == hashlib.sha256(big).hexdigest()
        if os.path.exists(dest):
            os.unlink(dest)
        return ok, cmd(rc, out, err)
    v2_case("aws-cli v2: s3 cp down 50 MiB over https, identical",
            v2_cp_down)

    # --- a hand-signed aws-chunked upload over https ---------------------

    def signed_chunks_tls():
        cc = s3itest.fixture_module("chunked_client")
        data = os.urandom(300 * 1024)
        s0 = snap()
        r = cc.put(stack.url, BUCKET, "signed/over tls.bin", data,
                   s3itest.DEPLOY_AK, s3itest.DEPLOY_SK, ca_file=ca,
                   mode=cc.SIGNED_TRAILER, checksum="crc32c",
                   chunk_size=64 * 1024, send_content_length=False,
                   timeout=t.remaining(60))
        d = delta(s0)
        same, diag = moto_is("signed/over tls.bin", data)
        return (r.status == 200 and same and d["streaming_seen"] == 1
                and d["trailers"] == {"x-amz-checksum-crc32c": 1}), \
            "status %s %s %s\n%s\nverifier delta: %s" % (
                r.status, r.error, r.body[:300], diag, show(d))
    t.case("chunked_client: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
           "(CRC32C) over https with Transfer-Encoding, identical, "
           "re-framed", signed_chunks_tls)

    def bad_checksum_tls():
        cc = s3itest.fixture_module("chunked_client")
        data = os.urandom(300 * 1024)
        s0 = snap()
        r = cc.put(stack.url, BUCKET, "signed/bad checksum.bin", data,
                   s3itest.DEPLOY_AK, s3itest.DEPLOY_SK, ca_file=ca,
                   mode=cc.UNSIGNED_TRAILER, checksum="crc32",
                   trailer_value=crc32_b64(data + b"x"),
                   chunk_size=64 * 1024, send_content_length=False,
                   timeout=t.remaining(60))
        d = delta(s0)
        got = s3itest.moto_object(stack.moto_url, BUCKET,
                                  "signed/bad checksum.bin")
        return (r.status == 400 and r.code == "BadDigest" and got is None
                and d["forwarded"] == 0 and d["rejected"] == 0), \
            "status %s %s %s\nmoto: %s\nverifier delta: %s" % (
                r.status, r.error, r.body[:300],
                None if got is None else len(got), show(d))
    t.case("chunked_client over https: wrong CRC32 in the trailer: 400 "
           "BadDigest, nothing stored", bad_checksum_tls)

    # --- invariants -----------------------------------------------------

    def verifier_totals():
        s = v.stats()
        # The BadDigest upload may have reached the verifier and been
        # given up by the proxy (counted as aborted, perhaps a moment
        # after the client's answer), or not: no other body was cut.
        aborts = {a["path"] for a in s["last_aborts"]}
        return (s["streaming_seen"] > 0 and s["rejected"] == 0
                and s["aborted"] <= 1
                and aborts <= {"/%s/signed/bad%%20checksum.bin" % BUCKET}
                and s["upstream_errors"] == 0), \
            "%s\n%s" % (show(s), json.dumps(s["last_aborts"]))
    t.check("verifier: aws-chunked seen upstream, nothing rejected, "
            "nothing aborted but the BadDigest upload", verifier_totals)

    def chunk_shape():
        """Every aws-chunked body upstream has fixed-size chunks (the
        proxy's contract: the last one may be shorter)."""
        odd = [a for a in v.stats()["last_accepted"]
               if a["payload"] == STREAMING and not a.get("uniform_chunks")]
        sizes = sorted({a.get("chunk_size") for a in v.stats()[
            "last_accepted"] if a["payload"] == STREAMING})
        t.diag("upstream aws-chunk sizes seen: %s" % sizes)
        return not odd, odd
    t.check("upstream aws-chunked bodies have fixed-size chunks",
            chunk_shape)
    t.check("s3inval still running", stack.proxy_alive)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=BUDGET))
