#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t33_json_output: what s3inval writes as JSON parses, whatever the keys
hold (issue 11, item 5), through the real binary.

- The JSON log (log.format = json): requests whose keys hold control bytes
  (sent by boto3, percent-encoded) and a raw 0xFF byte (a hand-signed
  request whose path has %FF: no S3 client sends invalid UTF-8) give log
  lines that Python's json module parses from strictly decoded UTF-8, one
  line per request, with each key given back (an invalid byte as the four
  characters \\xff, as src/jstr.h promises) and nothing raw in the file.
- plan --json on keys with 0xFF and control bytes: one JSON document with
  the same figures and paths as the text output; the cost both ways, with
  the month's usage unknown (no state_dir/usage) and known (990 of 1,000
  free paths used: exactly the paths past 1,000 billed, $0.005 each).
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import http.client
    import json
    import re
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t33_json_output"
BUCKET = "json-bucket"
CTL_KEYS = ["ctl\x01\x1f.txt", "tab\there.txt", "nl\nforged.txt",
            "del\x7f.txt", "quote\"back\\slash.txt", "caf\u00e9.txt"]


def json_lines(path):
    """[dict] of the log file: every line must be strict UTF-8 JSON."""
    out, bad = [], []
    with open(path, "rb") as f:
        raw = f.read()
    for n, line in enumerate(raw.split(b"\n")):
        if not line:
            continue
        try:
            out.append(json.loads(line.decode("utf-8", "strict")))
        except (UnicodeDecodeError, ValueError) as e:
            bad.append("line %d: %s: %r" % (n + 1, e, line[:200]))
    return out, bad, raw


def plan_figures(out):
    """{dist: (keys, mapped, submit, exact, wildcards, [paths])} of text."""
    res, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^# distribution (\S+): (\d+) keys, (\d+) paths -> "
                     r"(\d+) to submit \((\d+) exact, (\d+) wildcard\)", line)
        if m:
            cur = m.group(1)
            res[cur] = [int(x) for x in m.groups()[1:]] + [[]]
        elif line.startswith("#"):
            continue
        elif cur is not None and line:
            res[cur][-1].append(line)
    return res


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    cf, dist = s3itest.moto_distribution(moto_url, BUCKET)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    logfile = ws.path("s3inval-json.log")
    conf = s3itest.write_config(
        ws.logdir, verifier.url,
        sections={"bucket " + BUCKET: {"distributions": dist}},
        log__format="json", log__file=logfile,
        cloudfront__endpoint=moto_url, cloudfront__quiet_period="200ms")
    d = s3itest.start_s3inval(conf, logdir=ws.logdir)
    s3 = s3itest.s3_client(d.url)

    # --- the JSON log -------------------------------------------------------
    from botocore.exceptions import ClientError
    statuses = {}
    for k in CTL_KEYS:
        # The log line is what is checked: moto may refuse a key (it
        # answers 404 to one with a newline); the line must say so.
        try:
            r = s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
        except ClientError as e:
            r = e.response
        statuses[k] = r["ResponseMetadata"]["HTTPStatusCode"]
    # A raw 0xFF byte in the key: %FF in a hand-signed path.
    raw_path = "/%s/raw%%FFbyte%%FE.bin" % BUCKET
    url = d.url + raw_path
    hdrs = s3itest.sign_request("HEAD", url)
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    c.request("HEAD", raw_path, headers=hdrs)
    raw_status = c.getresponse().status
    c.close()
    time.sleep(0.5)
    lines, bad, raw = json_lines(logfile)
    reqs = [x for x in lines if x.get("event") == "request"]
    t.ok(not bad and len(lines) > len(CTL_KEYS) and
         b"\xff" not in raw and b"\xfe" not in raw,
         "every line of the JSON log is strict UTF-8 JSON; no raw 0xFF or "
         "0xFE byte in the file", "\n".join(bad[:5]) or raw[-2000:])
    keys = [x.get("key") for x in reqs]
    wrong = [k for k in CTL_KEYS if keys.count(k) != 1 or
             [x.get("status") for x in reqs if x.get("key") == k] !=
             [statuses[k]]]
    t.ok(not wrong and statuses[CTL_KEYS[0]] == 200,
         "each control-byte key comes back exactly, from one request line "
         "with the status the client saw (a newline in a key forges no "
         "line)", "statuses %r\nwrong %r\nkeys %r" % (statuses, wrong,
                                                       keys))
    raw_lines = [x for x in reqs if x.get("method") == "HEAD" and
                 "raw" in (x.get("key") or "")]
    t.ok(len(raw_lines) == 1 and
         raw_lines[0]["key"] == "raw\\xffbyte\\xfe.bin" and
         raw_lines[0].get("status") == raw_status,
         "a raw 0xFF/0xFE key is logged with each invalid byte as \\xff, "
         "\\xfe (the status as answered, %d)" % raw_status,
         "%r" % raw_lines)
    s3itest.stop(d)
    lines, bad, raw = json_lines(logfile)
    t.ok(not bad and any(x.get("msg") == "stopped" for x in lines),
         "the log is still all JSON after the stop",
         "\n".join(bad[:5]))

    # --- plan --json -------------------------------------------------------
    keys_in = (b"index.html\nposts/a/index.html\nraw\xffkey.html\n"
               b"ctl\x01\x1fkey.html\ndel\x7f.html\ncaf\xc3\xa9.html\n")
    state = s3itest.read_config(conf)["server"]["state_dir"]
    usage = os.path.join(state, "usage")
    if os.path.exists(usage):
        os.unlink(usage)

    def plan(*extra):
        # No folder collapses: every path is seen on its own.
        rc, out, err = s3itest.run_s3inval(
            ["plan", "-c", conf, "--bucket", BUCKET] + list(extra),
            stdin=keys_in, env=s3itest.clean_env({
                "S3INVAL_CLOUDFRONT_WILDCARD_THRESHOLD": "1000"}))
        return rc, out, err

    rc, text, err = plan()
    rcj, js, errj = plan("--json")
    try:
        doc = json.loads(js)
    except ValueError as e:
        doc = None
        errj += "\nnot JSON: %s" % e
    fig = plan_figures(text)
    ok = rc == 0 and rcj == 0 and doc is not None and dist in fig
    if ok:
        dd = doc["distributions"][0]
        f = fig[dist]
        ok = (doc["bucket"] == BUCKET and doc["keys"] == f[0] == 6 and
              dd["distribution"] == dist and
              [dd["paths_mapped"], len(dd["submit"]), dd["exact"],
               dd["wildcards"]] == f[1:5] and dd["submit"] == f[5] and
              "/raw%FFkey.html" in dd["submit"] and
              "/ctl%01%1Fkey.html" in dd["submit"])
    t.ok(ok, "plan --json (keys with 0xFF and control bytes): valid JSON, "
         "the text output's figures and paths (raw%FF, %01%1F encoded)",
         "text:\n%s\n%s\njson:\n%s\n%s" % (text, err, js, errj))

    n = len(doc["distributions"][0]["submit"]) if doc else 0
    t.ok(doc is not None and doc["month"]["known"] is False and
         doc["cost_usd"] is None and
         abs(doc["distributions"][0]["cost_usd_past_free_tier"] -
             n * 0.005) < 1e-9 and
         re.search(r"; \$0\.000 while this month stays within its 1000 free "
                   r"paths, \$%.3f past them \(this month's usage is "
                   r"unknown: " % (n * 0.005), text) and
         "beyond the free tier" not in text,
         "without the daemon's usage file: the cost is said to be unknown "
         "(free within the tier, $0.005 a path past it), in text and JSON",
         text + js)

    month = time.strftime("%Y%m", time.gmtime())
    with open(usage, "w", encoding="utf-8") as f:
        f.write("%s %s 990\n%s EOTHER 5\n190001 %s 400\n" % (
            month, dist, month, dist))
    rc, text, err = plan()
    rcj, js, errj = plan("--json")
    doc = json.loads(js) if rcj == 0 else None
    billed = max(0, 995 + n - 1000)
    t.ok(rc == 0 and doc is not None and doc["month"]["known"] is True and
         doc["month"]["paths_used"] == 995 and
         doc["billable_paths"] == billed and
         abs(doc["cost_usd"] - billed * 0.005) < 1e-9 and
         re.search(r"; %d of them billable: \$%.3f \(this month 995 of its "
                   r"1000 free paths used before them" % (
                       billed, billed * 0.005), text),
         "with state_dir/usage at 995 of 1000 free paths this month: "
         "%d of %d paths billed, in text and JSON (other months ignored)" % (
             billed, n), text + js + err + errj)
    s3itest.stop(verifier)
    s3itest.stop(moto)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=180))
