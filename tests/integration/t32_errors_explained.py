#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t32_errors_explained: errors that say what to do (issue 11, build item 6).

- A bucket the proxy does not serve: AccessDenied whose message names the
  bucket and the section to add (not NoSuchBucket: the bucket may exist).
- Every 403 logs which check refused it (the request line's detail=).
- An upstream that does not answer as S3 does (a web server at a wrong
  endpoint) makes /readyz fail, saying so; moto's answer is ready.
- A listen address in use is refused at start naming the cause.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import http.server
    import re
    import socket
    import subprocess
    import threading
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t32_errors_explained"
BUCKET = "explained"


class NotS3(http.server.BaseHTTPRequestHandler):
    """A web server at a wrong endpoint: 404 pages, no S3 anywhere."""

    def do_GET(self):
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


def run(t, ws):
    from botocore.exceptions import ClientError

    moto, moto_url = s3itest.start_moto(ws.logdir)
    conf = s3itest.write_config(
        ws.logdir, moto_url,
        sections={"bucket *": None, "bucket " + BUCKET: {}})
    cfg = s3itest.read_config(conf)
    admin = "http://" + cfg["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    s3itest.moto_client(moto_url).create_bucket(Bucket="elsewhere")
    s3 = s3itest.s3_client(d.url)
    reader = s3itest.s3_client(d.url, access_key=s3itest.READER_AK,
                               secret_key=s3itest.READER_SK)

    def unserved():
        try:
            s3.get_object(Bucket="elsewhere", Key="x")
        except ClientError as e:
            err = e.response["Error"]
            msg = err.get("Message", "")
            return (err.get("Code") == "AccessDenied" and
                    "[bucket elsewhere]" in msg), str(err)
        return False, "answered 200"
    t.case("a bucket not served: AccessDenied naming [bucket elsewhere]",
           unserved)

    def logged_403():
        try:
            reader.put_object(Bucket=BUCKET, Key="no.txt", Body=b"no")
            return False, "the reader could write"
        except ClientError as e:
            if e.response["Error"].get("Code") != "AccessDenied":
                return False, str(e.response["Error"])
        bad = s3itest.s3_client(d.url, secret_key="x" * 40)
        try:
            bad.get_object(Bucket=BUCKET, Key="x")
        except ClientError:
            pass
        log = d.log_text()
        lines = [ln for ln in log.splitlines()
                 if "event=request" in ln and "status=403" in ln]
        why = [ln for ln in lines if "detail=" in ln]
        right = any("right" in ln for ln in why)
        sig = any("signature" in ln.lower() for ln in why)
        return (len(lines) >= 2 and len(why) == len(lines) and right and
                sig), "\n".join(lines)
    t.case("every 403 logs which check refused it (the missing right; the "
           "signature)", logged_403)

    st, _, body = s3itest.http_request(admin + "/readyz")
    t.ok(st == 200, "/readyz: moto answers as S3 does: ready",
         "%s %r" % (st, body))

    # A web server where S3 should be.
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotS3)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        port = srv.server_address[1]
        conf2 = s3itest.write_config(
            ws.logdir, "http://127.0.0.1:%d" % port, name="nots3.conf",
            state_dir=os.path.join(ws.logdir, "state-nots3"))
        admin2 = "http://" + s3itest.read_config(conf2)["server"][
            "admin_listen"]
        d2 = s3itest.start_s3inval(conf2, None, ws.logdir, name="nots3")
        st, _, body = s3itest.http_request(admin2 + "/readyz")
        t.ok(st == 503 and b"not as S3 does" in body and
             b"upstream.endpoint" in body, "/readyz: an upstream that is "
             "not S3 is not ready, and it says why", "%s %r" % (st, body))
        s3itest.stop(d2)
    finally:
        srv.shutdown()

    # The S3 port taken by someone else.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        conf3 = s3itest.write_config(
            ws.logdir, moto_url, name="busy.conf",
            port=busy.getsockname()[1],
            state_dir=os.path.join(ws.logdir, "state-busy"))
        r = subprocess.run([s3itest.S3INVAL_BIN, "-f", "-c", conf3],
                           capture_output=True, text=True, timeout=20,
                           env=s3itest.daemon_env())
        out = r.stdout + r.stderr
        t.ok(r.returncode != 0 and re.search(
             r"server\.listen: cannot listen on 127\.0\.0\.1:\d+: Address "
             r"already in use: another process listens there", out),
             "a listen address in use: refused at start naming the cause",
             "exit %s: %s" % (r.returncode, out[-600:]))
    finally:
        busy.close()
    t.ok(d.alive(), "s3inval still running", s3itest.tail(d.log_path))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=120))
