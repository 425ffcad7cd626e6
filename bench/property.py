#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
bench/property.py: the property of tests/integration/t31_property.py
(every key's last acknowledged change is covered by an invalidation
CloudFront received after it, through random writes, kill -9 at random
points and a damaged journal), run longer and with several seeds.

    bench/property.py                       # 3 rounds of 2,000 operations
    BENCH_PROPERTY_ROUNDS=1 PROPERTY_SEED=42 bench/property.py   # replay

Each round is one seeded run of t31's code on its own stack (moto, the
SigV4 verifier, fake_cloudfront, the daemon); it prints the checks of the
round as PASS/FAIL lines, then one table of all rounds.  A failing
round's logs are kept (the path is printed), with its seed to replay it.
A report, not a test: the exit status is 0 whatever the checks say, 1
only when the bench cannot run (no daemon, no moto_server or boto3).

Environment:
  S3INVAL                the daemon (default build/dev/s3inval, then
                         build/s3inval)
  BENCH_PROPERTY_ROUNDS  rounds (default 3)
  PROPERTY_SEED          the first round's seed (default random; the next
                         rounds take seed+1, seed+2, ...)
  PROPERTY_STEPS         operations per round (default 2000)
  PROPERTY_STOPS         stops (kill -9 or SIGTERM) per round (default 40)
  PROPERTY_CHECKS        flushes checked during a round (default 30)
  BENCH_TMP              where logs go (default a new folder in /tmp)
"""

import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def binary():
    b = os.environ.get("S3INVAL")
    if b:
        return b
    for cand in ("build/dev/s3inval", "build/s3inval"):
        p = os.path.join(TOP, cand)
        if os.access(p, os.X_OK):
            return p
    return os.path.join(TOP, "build/dev/s3inval")


def main():
    exe = binary()
    if not os.access(exe, os.X_OK):
        print("bench/property.py: no daemon at %s (set S3INVAL)" % exe)
        return 1
    work = os.environ.get("BENCH_TMP") or tempfile.mkdtemp(
        prefix="s3inval-property-")
    os.environ.update({"S3I_BIN": exe, "TOP_SRCDIR": TOP,
                       "TOP_BUILDDIR": work})
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    import s3itest
    import t31_property as prop
    why = s3itest.missing_peers()
    if why:
        print("bench/property.py: cannot run: %s" % why)
        return 1
    rounds = prop.env_int("BENCH_PROPERTY_ROUNDS", 3)
    seed = os.environ.get("PROPERTY_SEED", "").strip()
    seed = int(seed) if seed else random.SystemRandom().randrange(1 << 31)
    steps = prop.env_int("PROPERTY_STEPS", 2000)
    stops = prop.env_int("PROPERTY_STOPS", 40)
    checks = prop.env_int("PROPERTY_CHECKS", 30)
    print("binary:  %s" % exe)
    print("rounds:  %d of %d operations, %d stops, %d flushes checked; "
          "seeds %d..%d" % (rounds, steps, stops, checks, seed,
                            seed + rounds - 1))
    print("logs:    %s (kept for failing rounds)" % work)
    rows = []
    for n in range(rounds):
        s = seed + n
        print("\n--- round %d, seed %d (replay: PROPERTY_SEED=%d "
              "BENCH_PROPERTY_ROUNDS=1)" % (n + 1, s, s))
        sys.stdout.flush()
        ws = s3itest.Workspace("property-%d" % s)
        t0 = time.time()
        try:
            results, summary = prop.run_property(ws, s, steps, stops, checks)
        except Exception as e:  # noqa: BLE001 (a round that broke)
            results, summary = [(False, "the round ran to its end",
                                 repr(e))], {}
        ok = all(r[0] for r in results)
        for good, desc, diag in results:
            print("%s %s" % ("PASS" if good else "FAIL", desc))
            if not good and diag:
                for line in str(diag).splitlines()[:10]:
                    print("     " + line)
        ws.finish(ok)
        if not ok:
            print("     logs kept in %s" % ws.logdir)
        rows.append((s, ok, time.time() - t0, summary))
    print("\n%-11s %-4s %6s %5s %6s %5s %7s %6s %5s %3s %5s" % (
        "seed", "ok", "secs", "ops", "acked", "stops", "damaged",
        "invals", "paths", "/*", "ambig"))
    for s, ok, secs, sm in rows:
        dmg = sum(1 for d in sm.get("damage", []) if d != "none")
        print("%-11d %-4s %6.0f %5d %6d %5d %7d %6d %5d %3d %5d" % (
            s, "yes" if ok else "NO", secs, sm.get("steps", 0),
            sm.get("acked_changes", 0), sum(sm.get("stops", {}).values()),
            dmg, sm.get("invalidations", 0), sm.get("paths", 0),
            sm.get("stars", 0), sm.get("ambiguous", 0)))
    print("\n%d of %d rounds held the property" % (
        sum(1 for r in rows if r[1]), len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
