#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t02_errors: negative cases through s3inval (auth.mode = sigv4, only
[bucket blog] configured) in front of the SigV4 verifier and moto_server.
Requests a client library would not make are signed here with botocore
(S3SigV4Auth, as the verifier checks) and sent with http.client or raw
sockets.  Each error case checks the HTTP status, the S3 XML <Code>, that
<RequestId> is present and equals the x-amz-request-id header and, where
the proxy must refuse before forwarding, that the verifier's "seen"
counter did not move.  Then the framing cases that must work: a chunked
PUT is spooled and sent with a Content-Length, 50 PUTs on one client
reuse a few upstream connections.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import datetime
    import email.utils
    import hashlib
    import http.client
    import random
    import re
    import time
    import urllib.parse
    import s3itest
    from s3itest import MiB
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t02_errors"
BUCKET = "blog"
# The key of the upload the proxy must abort: the verifier sees part of
# its body and rejects it, the only rejection allowed in this script.
MISMATCH_KEY = "mismatch/body-b.bin"


def quote_key(key):
    return urllib.parse.quote(key.encode("utf-8"), safe="-_.~/")


def error_check(st, hdrs, body, status, codes, need=()):
    """(ok, problems): status, <Code> in codes, <RequestId> equal to the
    x-amz-request-id header, and the elements in need present."""
    if isinstance(codes, str):
        codes = (codes,)
    if isinstance(status, int):
        status = (status,)
    if isinstance(hdrs, list):
        hdrs = dict(hdrs)
    problems = []
    if st not in status:
        problems.append("status %r, want %s" % (st, status))
    err = s3itest.parse_s3_error(body)
    if err is None:
        problems.append("body is no S3 <Error> document")
        err = {}
    elif err.get("Code") not in codes:
        problems.append("<Code> %r, want %s" % (err.get("Code"), codes))
    rid = err.get("RequestId")
    hid = hdrs.get("x-amz-request-id")
    if not rid:
        problems.append("no <RequestId>")
    if not hid:
        problems.append("no x-amz-request-id header")
    if rid and hid and rid != hid:
        problems.append("<RequestId> %r != x-amz-request-id %r" % (rid, hid))
    for n in need:
        if not err.get(n):
            problems.append("no <%s>" % n)
    return not problems, problems, err


def report(problems, st, hdrs, body, extra=""):
    if isinstance(hdrs, list):
        hdrs = dict(hdrs)
    return "%s\nstatus %r\nheaders %r\nbody %r%s" % (
        "\n".join(problems), st, hdrs, body[:1500], extra)


def run(t, ws):
    from botocore.exceptions import ClientError
    stack = s3itest.Stack(ws, config_sections={
        "bucket *": None, "bucket blog": {},
        "client reader": {"buckets": "blog:r"}})

    direct = s3itest.moto_client(stack.moto_url)
    direct.create_bucket(Bucket=BUCKET)
    s3 = s3itest.s3_client(stack.url)
    base = stack.url
    port = stack.s3inval.port
    vport = stack.verifier.port

    def seen():
        return stack.verifier.stats()["seen"]

    def send(method, path, headers=None, body=None, url=None, timeout=30):
        return s3itest.http_request(url or base, method, path, body=body,
                                    headers=headers or {}, timeout=timeout)

    def refused_case(desc, request, status, codes, need=(),
                     forwarded=False):
        """request() -> (status, headers, body); the error is checked and,
        unless forwarded, the verifier must have seen nothing."""
        def fn():
            n0 = seen()
            st, hdrs, body = request()
            n1 = seen()
            ok, problems, _ = error_check(st, hdrs, body, status, codes, need)
            if not forwarded and n1 != n0:
                ok = False
                problems.append("%d request(s) forwarded upstream" % (
                    n1 - n0))
            return ok, report(problems, st, hdrs, body)
        return t.case(desc, fn)

    def signed(method, key, body=b"", bucket=BUCKET, **kw):
        path = "/%s/%s" % (bucket, quote_key(key))
        headers = s3itest.sign_request(method, base + path, body, **kw)
        return path, headers

    # --- authentication ---------------------------------------------------

    def wrong_secret():
        path, h = signed("PUT", "auth/wrong-secret.txt", b"evil",
                         secret_key="w" * 40)
        return send("PUT", path, h, b"evil")
    refused_case("wrong secret: 403 SignatureDoesNotMatch with "
                 "<StringToSign> and <CanonicalRequest>, nothing forwarded",
                 wrong_secret, 403, "SignatureDoesNotMatch",
                 need=("StringToSign", "CanonicalRequest"))

    def unknown_key():
        path, h = signed("GET", "auth/x.txt",
                         access_key="AKIDNOSUCHKEY0000001")
        return send("GET", path, h)
    refused_case("unknown access key: 403 InvalidAccessKeyId, nothing "
                 "forwarded", unknown_key, 403, "InvalidAccessKeyId")

    def skewed():
        when = datetime.datetime.now(datetime.timezone.utc) - \
            datetime.timedelta(minutes=20)
        path, h = signed("GET", "auth/x.txt", when=when)
        if not h.get("X-Amz-Date", "").startswith(
                when.strftime("%Y%m%dT%H%M")):
            raise AssertionError("the clock was not frozen: %r" % h)
        return send("GET", path, h)
    refused_case("X-Amz-Date 20 minutes old (correctly signed then): 403 "
                 "RequestTimeTooSkewed, nothing forwarded", skewed, 403,
                 "RequestTimeTooSkewed")

    def expired():
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "auth/x.txt"},
            ExpiresIn=1)
        time.sleep(2.1)
        u = urllib.parse.urlsplit(url)
        return send("GET", u.path + "?" + u.query)
    refused_case("expired presigned URL: 403 AccessDenied, nothing "
                 "forwarded", expired, 403, "AccessDenied")

    def too_long():
        url = s3itest.presign_url("GET", base + "/%s/auth/x.txt" % BUCKET,
                                  expires=604801)
        if "X-Amz-Expires=604801" not in url:
            raise AssertionError("presign_url made %r" % url)
        u = urllib.parse.urlsplit(url)
        return send("GET", u.path + "?" + u.query)
    refused_case("presigned X-Amz-Expires 604801 (> 7 days): 400 "
                 "AuthorizationQueryParametersError, nothing forwarded",
                 too_long, 400, "AuthorizationQueryParametersError")

    def other_bucket():
        n0 = seen()
        path, h = signed("GET", "x.txt", bucket="other")
        st, hdrs, body = send("GET", path, h)
        ok, problems, err = error_check(st, hdrs, body, 403, "AccessDenied")
        # Not NoSuchBucket (the bucket may exist): what to configure.
        if "[bucket other]" not in (err.get("Message") or ""):
            ok = False
            problems.append("the message does not name [bucket other]")
        if seen() != n0:
            ok = False
            problems.append("forwarded upstream")
        return ok, report(problems, st, hdrs, body)
    t.case("bucket not configured ('other'; only [bucket blog]): 403 "
           "AccessDenied naming the section to add, nothing forwarded",
           other_bucket)

    # the reader: an object to read first
    s3.put_object(Bucket=BUCKET, Key="reader/readable.txt", Body=b"readable")

    def reader_put():
        path, h = signed("PUT", "reader/written.txt", b"no",
                         access_key=s3itest.READER_AK,
                         secret_key=s3itest.READER_SK)
        return send("PUT", path, h, b"no")
    refused_case("read-only client (buckets = blog:r) PUT: 403 "
                 "AccessDenied, nothing forwarded", reader_put, 403,
                 "AccessDenied")

    def reader_get():
        reader = s3itest.s3_client(stack.url, s3itest.READER_AK,
                                   s3itest.READER_SK)
        n0 = seen()
        r = reader.get_object(Bucket=BUCKET, Key="reader/readable.txt")
        data = r["Body"].read()
        return (data == b"readable" and seen() == n0 + 1), (
            data, r["ResponseMetadata"])
    t.case("read-only client GET works (forwarded)", reader_get)

    def anonymous():
        return send("GET", "/%s/reader/readable.txt" % BUCKET)
    refused_case("anonymous request: 403 AccessDenied, nothing forwarded",
                 anonymous, 403, "AccessDenied")

    def sigv2():
        def fn():
            n0 = seen()
            st, hdrs, body = send(
                "GET", "/%s/reader/readable.txt" % BUCKET, {
                    "Date": email.utils.formatdate(usegmt=True),
                    "Authorization": "AWS %s:c2lnbmF0dXJlIHYy"
                    % s3itest.DEPLOY_AK})
            n1 = seen()
            ok, problems, err = error_check(st, hdrs, body, 400,
                                            "InvalidRequest")
            if "Signature Version 4" not in err.get("Message", ""):
                ok = False
                problems.append("<Message> does not mention Signature "
                                "Version 4")
            if n1 != n0:
                ok = False
                problems.append("forwarded upstream")
            return ok, report(problems, st, hdrs, body)
        return fn
    t.case("SigV2 Authorization 'AWS AKID:sig': 400 InvalidRequest "
           "mentioning Signature Version 4, nothing forwarded", sigv2())

    def streaming():
        data = b"hello streaming"
        chunk = b"%x;chunk-signature=%s\r\n%s\r\n" % (len(data), b"0" * 64,
                                                     data) + \
            b"0;chunk-signature=%s\r\n\r\n" % (b"0" * 64)
        path, h = signed(
            "PUT", "stream/s.txt", chunk,
            payload_hash="STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
            headers={"Content-Encoding": "aws-chunked",
                     "X-Amz-Decoded-Content-Length": str(len(data))})
        return send("PUT", path, h, chunk)
    # SigV4 streaming is decoded and checked (t11); SigV4a streaming is
    # not supported and must never be forwarded raw.
    refused_case("x-amz-content-sha256 STREAMING-AWS4-ECDSA-P256-SHA256-"
                 "PAYLOAD (SigV4a streaming): 501 NotImplemented, nothing "
                 "forwarded", streaming, 501, "NotImplemented")

    # --- the body -----------------------------------------------------------

    def sha_mismatch():
        rng = random.Random(2)
        body_a = rng.randbytes(MiB)
        body_b = bytearray(body_a)
        body_b[-1] ^= 0xFF      # the very last byte differs
        body_b = bytes(body_b)
        path, h = signed("PUT", MISMATCH_KEY, body_a)
        st, hdrs, body = send("PUT", path, h, body_b)
        ok, problems, _ = error_check(st, hdrs, body, 400,
                                      "XAmzContentSHA256Mismatch")
        time.sleep(0.5)     # let an upload that went through land
        try:
            direct.head_object(Bucket=BUCKET, Key=MISMATCH_KEY)
            ok = False
            problems.append("the object exists in moto: the upstream "
                            "transfer was not aborted")
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
                raise
        return ok, report(problems, st, hdrs, body)
    t.case("body differs from its signed x-amz-content-sha256 (same "
           "length): 400 XAmzContentSHA256Mismatch and no object in moto",
           sha_mismatch)

    def expect_bad_sig():
        body = b"x" * 1000
        path, h = signed("PUT", "expect/bad.txt", body,
                         secret_key="e" * 40)
        lines = ["PUT %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port,
                 "Content-Length: %d" % len(body), "Expect: 100-continue"]
        lines += ["%s: %s" % kv for kv in h.items()]
        n0 = seen()
        st, hdrs, rbody, raw = s3itest.raw_exchange(
            port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"),
            timeout=10)
        n1 = seen()
        ok, problems, _ = error_check(st, hdrs, rbody, 403,
                                      "SignatureDoesNotMatch")
        if raw.startswith(b"HTTP/1.1 100") or b"100 Continue" in raw:
            ok = False
            problems.append("the proxy sent 100 Continue")
        if n1 != n0:
            ok = False
            problems.append("forwarded upstream")
        return ok, report(problems, st, hdrs, rbody,
                          "\nraw start %r" % raw[:200])
    t.case("Expect: 100-continue with a bad signature: 403 answered before "
           "the body, no 100 Continue, nothing forwarded", expect_bad_sig)

    def big_header():
        path, h = signed("GET", "reader/readable.txt",
                         headers={"X-Pad": "p" * (8 * 1024 + 200)})
        return send("GET", path, h)
    refused_case("a head just over max_header_size (8k, S3's limit): 400 "
                 "RequestHeaderSectionTooLarge, nothing forwarded",
                 big_header, 400, "RequestHeaderSectionTooLarge")

    def injection():
        key = "inject/a\r\nX-Injected-Hdr: evil"
        body = b"injected?"
        path, h = signed("PUT", key, body)
        if "%0D%0A" not in path:
            raise AssertionError("path %r" % path)
        n0 = seen()
        st, hdrs, rbody = send("PUT", path, h, body)
        n1 = seen()
        problems = []
        # What reached the verifier for this key: its request lines.
        upstream = [ln for ln in stack.verifier.log_lines()
                    if re.search(r" PUT /%s/inject/\S* \d{3} " % BUCKET, ln)]
        if st == 200:
            try:
                got = direct.get_object(Bucket=BUCKET, Key=key)["Body"] \
                    .read()
            except ClientError as e:
                got = e.response["Error"]
            if got != body:
                problems.append("200 but moto holds %r under the literal "
                                "key" % (got,))
        elif st == 400:
            ok, more, _ = error_check(st, hdrs, rbody, 400, (
                "InvalidURI", "InvalidArgument", "InvalidRequest",
                "KeyTooLongError", "InvalidObjectName"))
            problems += more
            if n1 != n0:
                problems.append("400, yet forwarded upstream")
        elif not (n1 == n0 + 1 and len(upstream) == 1
                  and "/a%0D%0AX-Injected-Hdr" in upstream[0]
                  and " %d " % st in upstream[0]):
            # moto_server cannot store a key with CR or LF (its router
            # answers 404 to such a path, even from boto3 directly): a
            # forwarded request, CR LF still percent-encoded, whose
            # answer passed through unchanged is the third good outcome.
            problems.append("status %r: want 200 (literal key), 400, or "
                            "the upstream's own answer to the encoded "
                            "path; upstream saw %r" % (st, upstream))
        injected = [ln for ln in stack.verifier.log_lines()
                    if re.match(r"^\s+x-injected-hdr\s*:", ln, re.I)]
        if injected:
            problems.append("the verifier saw an injected header: %r"
                            % injected)
        return not problems, report(problems, st, hdrs, rbody)
    t.case("key with %0D%0A (CR LF) in the path: refused 400, stored "
           "under the literal key, or forwarded still encoded; no split "
           "header upstream", injection)

    def absolute_form():
        req = ("GET http://127.0.0.1:%d/%s/reader/readable.txt HTTP/1.1\r\n"
               "Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
               % (vport, BUCKET, port)).encode()
        st, hdrs, body, raw = s3itest.raw_exchange(port, req)
        return st, hdrs, body
    refused_case("absolute-form target 'GET http://127.0.0.1:VERIFIER/"
                 "blog/x': 400 InvalidURI, nothing forwarded",
                 absolute_form, 400, "InvalidURI")

    def connect():
        req = ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Connection: close\r\n\r\n" % (vport, vport)).encode()
        st, hdrs, body, raw = s3itest.raw_exchange(port, req)
        return st, hdrs, body
    refused_case("CONNECT 127.0.0.1:VERIFIER: 405 or 400 with S3 XML, "
                 "nothing forwarded", connect, (405, 400),
                 ("MethodNotAllowed", "InvalidURI", "InvalidRequest",
                  "InvalidArgument"))

    def upstream_down():
        closed = s3itest.free_port()
        conf = s3itest.write_config(
            ws.logdir, "http://127.0.0.1:%d" % closed,
            name="upstream-down.conf", state_dir=ws.path("state-down"),
            sections={"bucket *": None, "bucket blog": {}})
        d = s3itest.start_s3inval(conf, name="s3inval-down")
        try:
            url = d.url
            path = "/%s/reader/readable.txt" % BUCKET
            h = s3itest.sign_request("GET", url + path)
            t0 = time.time()
            st, hdrs, body = send("GET", path, h, url=url, timeout=20)
            dt = time.time() - t0
            ok, problems, _ = error_check(st, hdrs, body, 503,
                                          "ServiceUnavailable")
            if dt >= 10:
                ok = False
                problems.append("took %.1fs" % dt)
            return ok, report(problems, st, hdrs, body, "\n%.2fs" % dt)
        finally:
            s3itest.stop(d)
    t.case("upstream down (closed port): 503 ServiceUnavailable with S3 "
           "XML in < 10 s", upstream_down)

    # --- framing that must work -------------------------------------------

    def chunked_put():
        rng = random.Random(3)
        data = rng.randbytes(300 * 1024 + 17)
        key = "chunked/spooled.bin"
        path, h = signed("PUT", key, payload_hash="UNSIGNED-PAYLOAD")
        h["Transfer-Encoding"] = "chunked"
        sizes, off, pieces = [1, 4096, 65536, 100000, 7], 0, []
        while off < len(data):
            n = sizes[len(pieces) % len(sizes)]
            pieces.append(data[off:off + n])
            off += n
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            c.request("PUT", path, body=iter(pieces), headers=h,
                      encode_chunked=True)
            r = c.getresponse()
            rbody = r.read()
            st = r.status
        finally:
            c.close()
        if st != 200:
            return False, "status %d: %r" % (st, rbody[:1000])
        got = direct.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return got == data, "moto holds %d bytes (sha256 %s), sent %d " \
            "(sha256 %s)" % (len(got), hashlib.sha256(got).hexdigest()[:16],
                             len(data), hashlib.sha256(data).hexdigest()[:16])
    t.case("chunked Transfer-Encoding PUT (UNSIGNED-PAYLOAD, no "
           "Content-Length): 200, byte-identical in moto", chunked_put)

    def keep_alive():
        client = s3itest.s3_client(stack.url)
        for i in range(50):
            client.put_object(Bucket=BUCKET, Key="keepalive/k-%02d" % i,
                              Body=b"keep-alive %d\n" % i)
        ports = s3itest.verifier_peer_ports(
            stack, r"^PUT /%s/keepalive/k-\d\d$" % BUCKET)
        listed = direct.list_objects_v2(Bucket=BUCKET, Prefix="keepalive/")
        n_obj = listed.get("KeyCount", 0)
        return (len(ports) == 50 and len(set(ports)) <= 5
                and n_obj == 50), \
            "%d PUTs logged by the verifier over %d connections %r; " \
            "%d objects in moto" % (len(ports), len(set(ports)),
                                    sorted(set(ports))[:20], n_obj)
    t.case("keep-alive: 50 sequential PUTs on one boto3 client use at most "
           "5 upstream connections (verifier's peer ports)", keep_alive)

    # --- invariants ---------------------------------------------------------

    def rejected_only_aborted():
        s = stack.verifier.stats()
        mine = [r for r in s["last_rejects"]
                if quote_key(MISMATCH_KEY) in (r.get("path") or "")]
        return s["seen"] > 0 and s["rejected"] == len(mine) <= 1, s
    t.check("verifier: every forwarded request correctly signed (its only "
            "rejection: the aborted mismatched upload, if it saw it)",
            rejected_only_aborted)
    t.check("s3inval still running", stack.proxy_alive)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=110))
