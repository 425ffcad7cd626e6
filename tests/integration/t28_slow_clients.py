#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t28_slow_clients: slow and surplus clients cost the proxy nothing lasting
(issue 14, build item 3): a signed body trickled one byte every few
seconds is cut at server.min_rate; a reader that does not read is cut the
same way; a head sent slowly is cut at client_timeout; while all that goes
on, other clients are served at once; past server.max_connections a
request gets 503 with Retry-After, is logged and counted.

Through the real binary with raw sockets; moto behind the SigV4 verifier.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import socket
    import threading
    import time
    import urllib.request
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t28_slow_clients"
BUCKET = "slow-bucket"
BIG = 48 * 1024 * 1024


def metric(admin, name):
    with urllib.request.urlopen(admin + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def closed(sock, within):
    """Wait until the peer closes (EOF or reset), draining what comes;
    returns the seconds it took, or None."""
    t0 = time.time()
    sock.settimeout(0.5)
    while time.time() - t0 < within:
        try:
            if not sock.recv(65536):
                return time.time() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.time() - t0
    return None


def signed_head(d, method, key, body_len, extra=None):
    url = "%s/%s/%s" % (d.url, BUCKET, key)
    hdrs = s3itest.sign_request(method, url, body=b"",
                                payload_hash="UNSIGNED-PAYLOAD",
                                headers=extra or {})
    host = d.url.split("://", 1)[1]
    lines = ["%s /%s/%s HTTP/1.1" % (method, BUCKET, key),
             "Host: %s" % host]
    lines += ["%s: %s" % (k, v) for k, v in hdrs.items()
              if k.lower() != "host"]
    if body_len is not None:
        lines.append("Content-Length: %d" % body_len)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def quick_put(s3, key):
    t0 = time.time()
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"fast")
    return time.time() - t0


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    conf = s3itest.write_config(
        ws.logdir, verifier.url, server__client_timeout="4s",
        server__min_rate="1k", server__max_connections="12")
    cfg = s3itest.read_config(conf)
    admin = "http://" + cfg["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir)
    port = int(d.url.rsplit(":", 1)[1])
    direct = s3itest.moto_client(moto_url)
    direct.create_bucket(Bucket=BUCKET)
    direct.put_object(Bucket=BUCKET, Key="big.bin", Body=os.urandom(BIG))
    s3 = s3itest.s3_client(d.url)
    quick_put(s3, "warm")
    cut0 = metric(admin, "s3inval_client_connections_cut_slow_total") or 0

    # A signed PUT whose body trickles in, one byte every 3 s.
    slow_put = socket.create_connection(("127.0.0.1", port), 10)
    slow_put.sendall(signed_head(d, "PUT", "trickle.bin", 1000))
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            try:
                slow_put.send(b"x")
            except OSError:
                return
            stop.wait(3)
    th = threading.Thread(target=trickle)
    th.start()

    # A GET of 48 MiB whose reader takes 256 bytes every 2 s (a small
    # receive buffer so the kernel does not soak it all up; reading a
    # little keeps libmicrohttpd's own idle timeout from firing first).
    slow_get = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow_get.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    slow_get.connect(("127.0.0.1", port))
    slow_get.sendall(signed_head(d, "GET", "big.bin", None))
    got = [0]

    def sip():
        # Sip for 30 s: a cut comes at the second window (~20 s), the
        # first one passing on what the kernel's buffers took.
        slow_get.settimeout(1)
        t0 = time.time()
        while not stop.is_set() and time.time() - t0 < 30:
            try:
                b = slow_get.recv(256)
            except socket.timeout:
                continue
            except OSError:
                return
            if not b:
                return
            got[0] += len(b)
            stop.wait(2)
    th2 = threading.Thread(target=sip)
    th2.start()

    # A head that never completes.
    slow_head = socket.create_connection(("127.0.0.1", port), 10)
    slow_head.sendall(b"GET /%s/x HTTP/1.1\r\nHost: a\r\n" % BUCKET.encode())

    lat = []
    t0 = time.time()
    while time.time() - t0 < 6:
        lat.append(quick_put(s3, "other-%d" % len(lat)))
    t.ok(max(lat) < 2.0, "while slow clients hang on, other clients are "
         "served at once (%d PUTs, slowest %.2f s)" % (len(lat), max(lat)))

    took = closed(slow_head, 15)
    t.ok(took is not None, "a head not complete within client_timeout "
         "(4 s) is cut", "still open after 15 s")
    took = closed(slow_put, 30)
    t.ok(took is not None, "a body trickling at 1 byte / 3 s is cut at "
         "min_rate (1k over 10 s)", "still open after 30 s")
    th2.join(40)
    stop.set()
    th.join(5)
    # Then read as fast as we can: once the proxy cut the connection only
    # what our own receive buffer holds is left before the reset.  Had it
    # not, 40 MiB more would come.
    drained, reset = 0, False
    slow_get.settimeout(5)
    while drained < 4 * 1024 * 1024:
        try:
            b = slow_get.recv(65536)
        except OSError:
            reset = True
            break
        if not b:
            reset = True
            break
        drained += len(b)
    t.ok(reset and drained < 1024 * 1024, "a reader taking 128 bytes a "
         "second is cut at min_rate (a reset after %d buffered bytes)"
         % drained, "drained %d bytes, reset %s" % (drained, reset))
    for s in (slow_put, slow_get, slow_head):
        s.close()
    cut1 = metric(admin, "s3inval_client_connections_cut_slow_total")
    t.ok(cut1 is not None and cut1 - cut0 >= 2, "/metrics counts the "
         "connections cut below min_rate (the body and the reader)",
         "before %s after %s" % (cut0, cut1))
    keys = [o["Key"] for o in direct.list_objects_v2(
        Bucket=BUCKET).get("Contents", [])]
    t.ok("trickle.bin" not in keys, "the trickled object was never stored",
         str(sorted(keys))[:300])

    # max_connections = 12: hold 12 idle connections, then ask.
    held = [socket.create_connection(("127.0.0.1", port), 10)
            for _ in range(12)]
    time.sleep(0.3)
    status, hdrs, body = s3itest.http_request(
        d.url + "/" + BUCKET + "/warm", timeout=10)[:3]
    h = dict(hdrs)
    t.ok(status == 503 and h.get("retry-after") == "1" and
         b"ServiceUnavailable" in body, "past max_connections: 503 "
         "ServiceUnavailable with Retry-After", "%s %s %r" % (status, h,
                                                               body[:200]))
    refused = metric(admin, "s3inval_client_connections_refused_total")
    t.ok(refused is not None and refused >= 1, "/metrics counts the "
         "refusal", str(refused))
    t.ok("server.max_connections (12) reached" in d.log_text(),
         "the refusal is logged")
    for s in held:
        s.close()
    time.sleep(0.5)
    t.ok(quick_put(s3, "after") < 2.0, "once they are gone, clients are "
         "served again")
    t.ok(verifier.stats().get("rejected", 0) == 0, "the verifier rejected "
         "nothing", str(verifier.stats()))
    t.ok(d.alive(), "s3inval still running", s3itest.tail(d.log_path))


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=180))
