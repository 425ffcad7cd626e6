# SPDX-License-Identifier: Apache-2.0
"""HTTP by hand: one request with http.client, a JSON one, raw bytes on a
socket, an already-signed request sent exactly as signed, S3 error
bodies."""

import http.client
import json
import re
import socket
import time
import urllib.parse


def http_request(url, method="GET", path=None, body=None, headers=None,
                 timeout=30):
    """One plain HTTP request; returns (status, headers dict lower, body)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        target = path if path is not None else (u.path or "/") + (
            "?" + u.query if u.query else "")
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def json_request(url, method="GET", payload=None, timeout=30):
    """A request with payload as its JSON body (none when None): (status,
    the JSON answer, or None when the answer is not JSON)."""
    body = json.dumps(payload).encode() if payload is not None else None
    st, _, data = http_request(url, method, body=body, headers={
        "Content-Type": "application/json"}, timeout=timeout)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, None


def send_signed(url, req, body=b"", chunked=False, extra=None, drop=(),
                timeout=30):
    """Send req (a botocore AWSRequest, signed) to url exactly as signed:
    its target, its headers and no others (no Host or Accept-Encoding of
    http.client's), then extra headers, minus the lower-case names in
    drop.  chunked: the body with Transfer-Encoding: chunked, else a
    Content-Length when there is a body or the method is PUT or POST.
    Returns (status, body)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        t = urllib.parse.urlsplit(req.url)
        c.putrequest(req.method, t.path + ("?" + t.query if t.query
                                           else ""),
                     skip_host=True, skip_accept_encoding=True)
        for k, v in list(req.headers.items()) + list((extra or {}).items()):
            if k.lower() not in drop:
                c.putheader(k, v)
        if chunked:
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            if body:
                c.send(b"%x\r\n%s\r\n" % (len(body), body))
            c.send(b"0\r\n\r\n")
        else:
            if body or req.method in ("PUT", "POST"):
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body or None)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def parse_s3_error(body):
    """{element: text} of an S3 <Error> XML body (Code, Message, RequestId,
    StringToSign, ...), or None when body is no such document."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, TypeError, ValueError):
        return None
    if root.tag.rsplit("}", 1)[-1] != "Error":
        return None
    return {child.tag.rsplit("}", 1)[-1]: (child.text or "")
            for child in root}


def raw_exchange(port, data, timeout=10.0, host="127.0.0.1",
                 read_until_close=False):
    """Send raw bytes to host:port and read one HTTP response.

    Returns (status, headers as a list of (name lower, value), body,
    raw bytes read).  The response is read until its Content-Length is
    complete (or the peer closes, or timeout); status is None when nothing
    parseable came back."""
    s = socket.create_connection((host, port), timeout)
    try:
        if data:
            s.sendall(data)
        return read_raw_response(s, timeout, read_until_close)
    finally:
        s.close()


def read_raw_response(sock, timeout=10.0, read_until_close=False):
    """One HTTP response from a socket: see raw_exchange()."""
    deadline = time.time() + timeout
    buf = b""
    status, hdrs, body_start = None, [], None
    while True:
        if body_start is None and b"\r\n\r\n" in buf:
            head, _, _ = buf.partition(b"\r\n\r\n")
            body_start = len(head) + 4
            lines = head.decode("latin-1").split("\r\n")
            m = re.match(r"^HTTP/\d\.\d (\d{3})", lines[0])
            status = int(m.group(1)) if m else None
            hdrs = [(k.strip().lower(), v.strip()) for k, _, v in
                    (line.partition(":") for line in lines[1:])]
        if body_start is not None and not read_until_close:
            clen = [v for k, v in hdrs if k == "content-length"]
            if clen and clen[0].isdigit() and \
                    len(buf) - body_start >= int(clen[0]):
                break
        left = deadline - time.time()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    body = buf[body_start:] if body_start is not None else b""
    return status, hdrs, body, buf
