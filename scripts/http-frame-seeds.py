#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write each row of the framing table (tests/data/http_frame_cases.txt)
as one file, named after the row, into the folder given: the seed corpus
of fuzz/fuzz_http_frame.c (scripts/fuzz.sh calls this), so the table
stays the one source of its rows."""
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1]
simple = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}
n = 0
with open(os.path.join(top, "tests", "data", "http_frame_cases.txt"),
          encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, _rule, _answer, req = line.split(None, 3)
        data, i = bytearray(), 0
        while i < len(req):
            if req[i] == "\\" and req[i + 1:i + 2] in simple:
                data += simple[req[i + 1]]
                i += 2
            elif req[i] == "\\" and re.match(r"x[0-9a-fA-F]{2}",
                                             req[i + 1:i + 4]):
                data.append(int(req[i + 2:i + 4], 16))
                i += 4
            else:
                data += req[i].encode("latin-1")
                i += 1
        with open(os.path.join(out, "row_" + name), "wb") as g:
            g.write(bytes(data))
        n += 1
print("http-frame-seeds: %d rows" % n)
