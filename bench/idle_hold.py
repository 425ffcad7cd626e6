#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/idle_hold.py PORT N: open N keep-alive connections to 127.0.0.1:
PORT, send one GET on each and read its answer, then hold them all idle
until a line arrives on stdin.  Prints "held K" once K are open and
answered (K < N when some failed, with why on the next lines)."""

import selectors
import socket
import sys


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    send = len(sys.argv) < 4 or sys.argv[3] != "silent"
    req = (b"GET /bench/idle HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
    sel = selectors.DefaultSelector()
    socks, errors, answered = [], {}, 0
    for i in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), 10)
            socks.append(s)
            if not send:
                continue
            s.sendall(req)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, b"")
        except OSError as e:
            errors[str(e)] = errors.get(str(e), 0) + 1
        # Keep the backlog from overflowing: read answers as we go.
        for key, _ in sel.select(0):
            answered += read_answer(sel, key)
    if not send:
        answered = len(socks)
    while answered < len(socks):
        ready = sel.select(10)
        if not ready:
            break
        for key, _ in ready:
            answered += read_answer(sel, key)
    print("held %d of %d" % (answered, n), flush=True)
    for e, c in errors.items():
        print("%d: %s" % (c, e), flush=True)
    sys.stdin.readline()
    for s in socks:
        s.close()


def read_answer(sel, key):
    """1 once this socket's whole answer (head and Content-Length) is in;
    it is then left open, unregistered."""
    s = key.fileobj
    try:
        data = key.data + s.recv(65536)
    except BlockingIOError:
        return 0
    except OSError:
        sel.unregister(s)
        return 0
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        sel.modify(s, selectors.EVENT_READ, data)
        return 0
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
    if len(body) < clen:
        sel.modify(s, selectors.EVENT_READ, data)
        return 0
    sel.unregister(s)
    return 1


if __name__ == "__main__":
    main()
