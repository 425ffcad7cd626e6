#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t11_signed_chunks: signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-
PAYLOAD and -PAYLOAD-TRAILER), built by tests/fixtures/chunked_client.py
and sent over plain HTTP to s3inval (client keys DEPLOY_AK/DEPLOY_SK), in
front of the SigV4 verifier and moto_server.

Good uploads (each 200, the object in moto byte-identical, and what went
upstream as the contract says):
- signed, no trailer: sent decoded, Content-Length = decoded length,
  x-amz-content-sha256 UNSIGNED-PAYLOAD, aws-chunked gone from
  Content-Encoding (gzip,aws-chunked keeps gzip);
- signed with a CRC32C, CRC64NVME, SHA256 or CRC32 trailer, and unsigned
  with a trailer: re-framed as STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
  Content-Length, the same trailer, whose checksum the verifier checks;
- chunks of 1 byte, 64 KiB and 8 MiB (a 20 MiB object); Content-Length
  (signed or not) and Transfer-Encoding: chunked; bodies written in a few
  bytes at a time; four uploads in parallel.
Refused uploads (a new key each; the S3 error code; the object absent in
moto; nothing forwarded by the verifier, nothing it had to reject: the
proxy gives up short of the upstream length): tampered chunk data,
tampered chunk signature (first, middle), tampered final signature,
tampered trailer value (BadDigest), tampered trailer signature, truncated
body or, with a trailer, no closing empty line (IncompleteBody; without
a trailer s3inval tolerates its absence), a bad hex chunk size or
a chunk over 16 MiB (InvalidChunkSizeError), a decoded length that lies
either way, a trailer missing, renamed or twice (InvalidRequest).  SigV4a
streaming, STREAMING-FOO (501 NotImplemented), a wrong secret
(SignatureDoesNotMatch) and a read-only key (AccessDenied): the verifier
saw nothing.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gzip
    import hashlib
    import json
    import s3itest
    from s3itest import MiB
    cc = s3itest.fixture_module("chunked_client")
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest/chunked_client: %r" % (e,))
    sys.exit(1)

NAME = "t11_signed_chunks"
BUCKET = "s3inval-it-chunks"
BUDGET = 120
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = cc.UNSIGNED_TRAILER


def data_of(size, seed):
    """size bytes, different per seed, not compressible to nothing."""
    block = hashlib.sha256(b"seed %d" % seed).digest() * 2048   # 64 KiB
    out = bytearray()
    i = 0
    while len(out) < size:
        out += b"<%d:%d>" % (seed, i) + block
        i += 1
    return bytes(out[:size])


def run(t, ws):
    stack = s3itest.Stack(ws)
    v = stack.verifier
    moto = s3itest.moto_client(stack.moto_url)
    keys_seen = set()

    def show(d):
        d = dict(d)
        d.pop("last_accepted", None)
        d.pop("last_rejects", None)
        d.pop("last_aborts", None)
        return json.dumps(d, sort_keys=True)

    def upload(key, data, ak=s3itest.DEPLOY_AK, sk=s3itest.DEPLOY_SK,
               **kw):
        """chunked_client.put through the proxy: (Result, verifier delta,
        the verifier's summary of the last accepted request or None)."""
        assert key not in keys_seen, key
        keys_seen.add(key)
        s0 = v.stats()
        r = cc.put(stack.url, BUCKET, key, data, ak, sk,
                   timeout=t.remaining(60), **kw)
        s1 = v.stats()
        d = s3itest.stats_delta(s0, s1)
        last = s1["last_accepted"][-1] if d["forwarded"] and \
            s1["last_accepted"] else None
        return r, d, last

    def res(r):
        return "status %s code %s error %s\nbody %r" % (
            r.status, r.code, r.error, r.body[:600])

    def in_moto(key, data):
        got = s3itest.moto_object(stack.moto_url, BUCKET, key)
        if got == data:
            return True, "identical"
        return False, "moto holds %s, want %d bytes" % (
            "nothing" if got is None else "%d bytes" % len(got), len(data))

    def good(key, data, upstream, trailer=None, **kw):
        """A case: 200, identical in moto, and the upstream request as
        the contract says.  upstream: "decoded" or "reframed"."""
        def fn():
            r, d, last = upload(key, data, **kw)
            same, diag = in_moto(key, data)
            last = last or {}
            if upstream == "decoded":
                shape = (last.get("payload") == UNSIGNED
                         and last.get("content_length") == len(data)
                         and "aws-chunked" not in (
                             last.get("content_encoding") or "")
                         and d["streaming_seen"] == 0)
            else:
                shape = (last.get("payload") == STREAMING
                         and last.get("trailer") == trailer
                         and last.get("decoded_length") == len(data)
                         and "aws-chunked" in (
                             last.get("content_encoding") or "")
                         and d["streaming_seen"] == 1
                         and d["trailers"] == {trailer: 1})
            return (r.status == 200 and same and shape
                    and d["forwarded"] == 1 and d["rejected"] == 0), \
                "%s\n%s\nverifier delta %s\nupstream request %s" % (
                    res(r), diag, show(d), json.dumps(last, sort_keys=True))
        return fn

    def refused(key, data, status, code, **kw):
        """A case: the S3 error, nothing stored, nothing forwarded."""
        def fn():
            r, d, last = upload(key, data, **kw)
            present = s3itest.moto_object(stack.moto_url, BUCKET, key)
            return (r.status == status and r.code == code
                    and present is None and d["forwarded"] == 0
                    and d["rejected"] == 0), \
                "want %d %s\n%s\nmoto holds %s\nverifier delta %s\n%s" % (
                    status, code, res(r),
                    "nothing" if present is None else "%d bytes"
                    % len(present), show(d), json.dumps(
                        v.stats()["last_aborts"][-1:] +
                        v.stats()["last_rejects"][-1:]))
        return fn

    def mb():
        s3 = s3itest.s3_client(stack.url)
        s3.create_bucket(Bucket=BUCKET)
        return BUCKET in [b["Name"] for b in moto.list_buckets()["Buckets"]]
    if not t.case("create_bucket through the proxy", mb):
        moto.create_bucket(Bucket=BUCKET)

    SIG, SIGT = cc.SIGNED, cc.SIGNED_TRAILER
    d300k = data_of(300 * 1024 + 5, 1)

    # --- good ---------------------------------------------------------
    t.case("signed, no trailer, 64 KiB chunks (300 KiB): 200, identical; "
           "upstream decoded, UNSIGNED-PAYLOAD, Content-Length = decoded",
           good("ok/signed 64k.bin", d300k, "decoded", mode=SIG,
                chunk_size=64 * 1024))
    t.case("signed + CRC32C trailer, 64 KiB chunks: 200, identical; "
           "upstream STREAMING-UNSIGNED-PAYLOAD-TRAILER with the trailer",
           good("ok/trailer crc32c.bin", data_of(200 * 1024, 2), "reframed",
                "x-amz-checksum-crc32c", mode=SIGT, checksum="crc32c",
                chunk_size=64 * 1024))
    t.case("signed + CRC64NVME trailer, 16 KiB chunks: 200, identical, "
           "re-framed",
           good("ok/trailer crc64nvme.bin", data_of(100 * 1024 + 3, 3),
                "reframed", "x-amz-checksum-crc64nvme", mode=SIGT,
                checksum="crc64nvme", chunk_size=16 * 1024))
    t.case("signed + SHA256 trailer, 64 KiB chunks: 200, identical, "
           "re-framed",
           good("ok/trailer sha256.bin", data_of(150 * 1024, 4), "reframed",
                "x-amz-checksum-sha256", mode=SIGT, checksum="sha256",
                chunk_size=64 * 1024))
    t.case("signed + SHA1 trailer: 200, identical, re-framed",
           good("ok/trailer sha1.bin", data_of(70000, 5), "reframed",
                "x-amz-checksum-sha1", mode=SIGT, checksum="sha1",
                chunk_size=8192))
    t.case("signed, 1-byte chunks (600 bytes): 200, identical",
           good("ok/one byte chunks.txt", data_of(600, 6), "decoded",
                mode=SIG, chunk_size=1))
    t.case("signed + CRC32 trailer, 1-byte chunks (300 bytes): 200, "
           "identical",
           good("ok/one byte trailer.txt", data_of(300, 7), "reframed",
                "x-amz-checksum-crc32", mode=SIGT, checksum="crc32",
                chunk_size=1))
    t.case("signed + CRC32 trailer, 8 MiB chunks (20 MiB object): 200, "
           "identical, re-framed",
           good("ok/twenty MiB 8m chunks.bin", data_of(20 * MiB, 8),
                "reframed", "x-amz-checksum-crc32", mode=SIGT,
                checksum="crc32", chunk_size=8 * MiB))
    t.case("signed, no trailer, 8 MiB chunks (20 MiB object): 200, "
           "identical, decoded",
           good("ok/twenty MiB 8m plain.bin", data_of(20 * MiB + 1, 9),
                "decoded", mode=SIG, chunk_size=8 * MiB))
    t.case("signed + CRC32 trailer over Transfer-Encoding: chunked (as "
           "aws-cli frames it): 200, identical, re-framed with a "
           "Content-Length",
           good("ok/te chunked.bin", data_of(250 * 1024, 10), "reframed",
                "x-amz-checksum-crc32", mode=SIGT, checksum="crc32",
                chunk_size=64 * 1024, send_content_length=False))
    t.case("STREAMING-UNSIGNED-PAYLOAD-TRAILER (CRC32C) over http: 200, "
           "identical, re-framed",
           good("ok/unsigned trailer.bin", data_of(130 * 1024, 11),
                "reframed", "x-amz-checksum-crc32c", mode=STREAMING,
                checksum="crc32c", chunk_size=64 * 1024))
    t.case("signed + CRC32 trailer, 4 KiB chunks, sent in 13-byte writes: "
           "200, identical, re-framed",
           good("ok/dribbled.bin", data_of(20000, 13), "reframed",
                "x-amz-checksum-crc32", mode=SIGT, checksum="crc32",
                chunk_size=4096, piece=13))
    t.case("signed, 3 KiB chunks, Transfer-Encoding in 5-byte writes: 200, "
           "identical, decoded",
           good("ok/dribbled te.bin", data_of(9000, 14), "decoded",
                mode=SIG, chunk_size=3072, send_content_length=False,
                piece=5))

    def parallel():
        import concurrent.futures
        items = [("ok/parallel %d.bin" % i, data_of(3 * MiB + i, 40 + i))
                 for i in range(4)]
        for k, _ in items:
            keys_seen.add(k)

        def one(item):
            k, data = item
            return cc.put(stack.url, BUCKET, k, data, s3itest.DEPLOY_AK,
                          s3itest.DEPLOY_SK, timeout=t.remaining(60),
                          mode=SIGT if len(data) % 2 else SIG,
                          checksum="sha256" if len(data) % 2 else None,
                          chunk_size=MiB)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(one, items))
        bad = [(k, r.status, r.code, in_moto(k, data)[1])
               for (k, data), r in zip(items, results)
               if r.status != 200 or not in_moto(k, data)[0]]
        return not bad, bad
    t.case("4 signed uploads of 3 MiB in parallel (1 MiB chunks, with and "
           "without trailer): all 200, identical", parallel)

    t.case("signed, empty object: 200, identical",
           good("ok/empty", b"", "decoded", mode=SIG, chunk_size=65536))

    gz = gzip.compress(data_of(90 * 1024, 12), mtime=0)

    def gzip_kept():
        fn = good("ok/gzip.bin.gz", gz, "decoded", mode=SIG,
                  chunk_size=32 * 1024, content_encoding="gzip,aws-chunked")
        ok, diag = fn()
        last = v.stats()["last_accepted"][-1]
        h = moto.head_object(Bucket=BUCKET, Key="ok/gzip.bin.gz")
        return (ok and last.get("content_encoding") == "gzip"
                and h.get("ContentEncoding") == "gzip"), \
            "%s\nmoto ContentEncoding %r" % (diag, h.get("ContentEncoding"))
    t.case("signed, Content-Encoding gzip,aws-chunked: upstream gets "
           "Content-Encoding gzip, object identical", gzip_kept)

    # --- refused ------------------------------------------------------
    d256k = data_of(256 * 1024, 20)     # 4 chunks of 64 KiB
    c64 = 64 * 1024
    t.case("tampered chunk data (chunk 2 of 4): 403 SignatureDoesNotMatch, "
           "nothing stored",
           refused("bad/chunk data", d256k, 403, "SignatureDoesNotMatch",
                   mode=SIG, chunk_size=c64, tamper_chunk_data=1))
    t.case("tampered signature of the first chunk: 403 "
           "SignatureDoesNotMatch, nothing stored",
           refused("bad/first sig", d256k, 403, "SignatureDoesNotMatch",
                   mode=SIGT, checksum="crc32c", chunk_size=c64,
                   tamper_chunk_sig=0))
    t.case("tampered signature of a middle chunk: 403 "
           "SignatureDoesNotMatch, nothing stored",
           refused("bad/middle sig", d256k, 403, "SignatureDoesNotMatch",
                   mode=SIG, chunk_size=c64, tamper_chunk_sig=2))
    t.case("tampered final (zero-size) chunk signature: 403 "
           "SignatureDoesNotMatch, nothing stored",
           refused("bad/final sig", d256k, 403, "SignatureDoesNotMatch",
                   mode=SIG, chunk_size=c64, tamper_final_sig=True))
    t.case("tampered final chunk signature with a trailer: 403 "
           "SignatureDoesNotMatch, nothing stored",
           refused("bad/final sig trailer", d256k, 403,
                   "SignatureDoesNotMatch", mode=SIGT, checksum="sha256",
                   chunk_size=c64, tamper_final_sig=True))
    wrong = cc.checksum_b64("crc32c", d256k + b"!")
    t.case("tampered trailer value (validly signed): 400 BadDigest, "
           "nothing stored",
           refused("bad/trailer value", d256k, 400, "BadDigest", mode=SIGT,
                   checksum="crc32c", chunk_size=c64, trailer_value=wrong))
    t.case("wrong checksum in an unsigned trailer: 400 BadDigest, nothing "
           "stored",
           refused("bad/unsigned trailer value", d256k, 400, "BadDigest",
                   mode=STREAMING, checksum="crc64nvme", chunk_size=c64,
                   trailer_value=cc.checksum_b64("crc64nvme", b"other")))
    t.case("tampered trailer signature: 403 SignatureDoesNotMatch, nothing "
           "stored",
           refused("bad/trailer sig", d256k, 403, "SignatureDoesNotMatch",
                   mode=SIGT, checksum="crc32c", chunk_size=c64,
                   tamper_trailer_sig=True))
    # body cut inside chunk 2's data; Content-Length says what is sent
    cut = 2 * (c64 + 90) + 1000
    t.case("truncated body (ends inside a chunk): 400 IncompleteBody, "
           "nothing stored",
           refused("bad/truncated", d256k, 400, "IncompleteBody", mode=SIG,
                   chunk_size=c64, truncate=cut))
    t.case("truncated body over Transfer-Encoding: chunked: 400 "
           "IncompleteBody, nothing stored",
           refused("bad/truncated te", d256k, 400, "IncompleteBody",
                   mode=SIGT, checksum="crc32", chunk_size=c64,
                   truncate=cut, send_content_length=False))
    t.case("decoded length declared larger than the data: 400 "
           "InvalidRequest, nothing stored",
           refused("bad/length lie up", d256k, 400, "InvalidRequest",
                   mode=SIGT, checksum="crc32", chunk_size=c64,
                   decoded_length=len(d256k) + 1))
    t.case("decoded length declared smaller than the data: 400 "
           "InvalidRequest, nothing stored",
           refused("bad/length lie down", d256k, 400, "InvalidRequest",
                   mode=SIG, chunk_size=c64,
                   decoded_length=len(d256k) - 1))

    def bad_hex():
        key = "bad/hex size"
        keys_seen.add(key)
        p = cc.ChunkedPut(stack.url, cc.key_path(BUCKET, key), d256k,
                          s3itest.DEPLOY_AK, s3itest.DEPLOY_SK, mode=SIG,
                          chunk_size=c64).build()
        assert p.body.startswith(b"10000;")
        p.body = b"1000g;" + p.body[6:]        # same length, not hex
        s0 = v.stats()
        r = p.send(timeout=t.remaining(60))
        d = s3itest.stats_delta(s0, v.stats())
        present = s3itest.moto_object(stack.moto_url, BUCKET, key)
        return (r.status == 400 and r.code == "InvalidChunkSizeError"
                and present is None and d["forwarded"] == 0
                and d["rejected"] == 0), "%s\nverifier delta %s" % (
                    res(r), show(d))
    t.case("chunk size not hex: 400 InvalidChunkSizeError, nothing stored",
           bad_hex)

    def edited(key, edit, status, code, mode=STREAMING, checksum="crc32"):
        """An upload (default unsigned-trailer) over Transfer-Encoding (so
        no signed length) whose framed body edit() changes."""
        def fn():
            keys_seen.add(key)
            p = cc.ChunkedPut(stack.url, cc.key_path(BUCKET, key), d256k,
                              s3itest.DEPLOY_AK, s3itest.DEPLOY_SK,
                              mode=mode, checksum=checksum,
                              chunk_size=c64,
                              send_content_length=False).build()
            body = edit(p.body)
            assert body != p.body
            p.body = body
            s0 = v.stats()
            r = p.send(timeout=t.remaining(60))
            d = s3itest.stats_delta(s0, v.stats())
            present = s3itest.moto_object(stack.moto_url, BUCKET, key)
            return (r.status == status and r.code == code
                    and present is None and d["forwarded"] == 0
                    and d["rejected"] == 0), "%s\nverifier delta %s" % (
                        res(r), show(d))
        return fn
    crc = cc.checksum_b64("crc32", d256k).encode()
    t.case("trailer missing (final chunk, then the empty line): 400 "
           "InvalidRequest, nothing stored",
           edited("bad/no trailer",
                  lambda b: b.replace(b"x-amz-checksum-crc32:" + crc +
                                      b"\r\n", b""),
                  400, "InvalidRequest"))
    t.case("trailer other than x-amz-trailer declares: 400 InvalidRequest, "
           "nothing stored",
           edited("bad/renamed trailer",
                  lambda b: b.replace(
                      b"x-amz-checksum-crc32:" + crc,
                      b"x-amz-checksum-sha1:" + cc.checksum_b64(
                          "sha1", d256k).encode()),
                  400, "InvalidRequest"))
    t.case("trailer twice: 400 InvalidRequest, nothing stored",
           edited("bad/trailer twice",
                  lambda b: b.replace(
                      b"x-amz-checksum-crc32:" + crc + b"\r\n",
                      (b"x-amz-checksum-crc32:" + crc + b"\r\n") * 2),
                  400, "InvalidRequest"))

    # The final zero-size chunk is "0;chunk-signature=SIG\r\n" and then
    # the empty line (the AWS example's 66824 bytes include it).  Without
    # a trailer, s3inval tolerates a body that stops before that empty
    # line (aws_chunked_decode_finish: "Lenient"): every byte and every
    # signature, the final one included, has been checked by then.
    def lenient_final_crlf():
        key = "ok/no final crlf"
        keys_seen.add(key)
        p = cc.ChunkedPut(stack.url, cc.key_path(BUCKET, key), d256k,
                          s3itest.DEPLOY_AK, s3itest.DEPLOY_SK, mode=SIG,
                          chunk_size=c64, send_content_length=False).build()
        assert p.body.endswith(b"\r\n\r\n")
        p.body = p.body[:-2]
        r = p.send(timeout=t.remaining(60))
        same, diag = in_moto(key, d256k)
        return r.status == 200 and same, "%s\n%s" % (res(r), diag)
    t.case("signed, no trailer, body without the closing empty line: "
           "tolerated (the final signature checked), 200, identical",
           lenient_final_crlf)
    t.case("signed + trailer, body without the closing empty line: 400 "
           "IncompleteBody, nothing stored",
           edited("bad/no final crlf trailer", lambda b: b[:-2], 400,
                  "IncompleteBody", mode=SIGT, checksum="crc32"))

    t.case("signed + CRC32 trailer, Content-Length sent but not signed "
           "(as in the AWS example): 200, identical",
           good("ok/unsigned length.bin", data_of(100000, 15), "reframed",
                "x-amz-checksum-crc32", mode=SIGT, checksum="crc32",
                chunk_size=c64, sign_content_length=False))

    t.case("one 17 MiB chunk (over the 16 MiB limit): 400 "
           "InvalidChunkSizeError, nothing stored",
           refused("bad/huge chunk", data_of(17 * MiB, 31), 400,
                   "InvalidChunkSizeError", mode=SIG, chunk_size=17 * MiB))

    def not_forwarded(key, status, code, **kw):
        def fn():
            r, d, last = upload(key, d256k, mode=SIGT, checksum="crc32",
                                chunk_size=c64, **kw)
            present = s3itest.moto_object(stack.moto_url, BUCKET, key)
            return (r.status == status and r.code == code
                    and d["seen"] == 0 and present is None), \
                "%s\nverifier delta %s" % (res(r), show(d))
        return fn
    t.case("wrong secret (bad seed signature): 403 SignatureDoesNotMatch, "
           "the verifier saw nothing",
           not_forwarded("bad/wrong secret", 403, "SignatureDoesNotMatch",
                         sk="w" * 40))
    t.case("read-only key: 403 AccessDenied, the verifier saw nothing",
           not_forwarded("bad/reader", 403, "AccessDenied",
                         ak=s3itest.READER_AK, sk=s3itest.READER_SK))

    def not_implemented(mode, key):
        def fn():
            r, d, last = upload(key, data_of(5000, 30), mode=mode,
                                chunk_size=1024)
            present = s3itest.moto_object(stack.moto_url, BUCKET, key)
            return (r.status == 501 and r.code == "NotImplemented"
                    and d["seen"] == 0 and present is None), \
                "%s\nverifier delta %s" % (res(r), show(d))
        return fn
    t.case("x-amz-content-sha256 %s: 501 NotImplemented, the verifier saw "
           "nothing" % cc.SIGV4A,
           not_implemented(cc.SIGV4A, "bad/sigv4a"))
    t.case("x-amz-content-sha256 STREAMING-FOO: 501 NotImplemented, the "
           "verifier saw nothing",
           not_implemented("STREAMING-FOO", "bad/foo"))

    # --- invariants -----------------------------------------------------
    def verifier_clean():
        s = v.stats()
        return (s["forwarded"] > 0 and s["rejected"] == 0
                and s["upstream_errors"] == 0), show(s) + "\n" + \
            json.dumps(s["last_rejects"])
    t.check("verifier: every upstream request correctly signed and framed "
            "(rejected == 0)", verifier_clean)
    t.check("s3inval still running", stack.proxy_alive)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=BUDGET))
