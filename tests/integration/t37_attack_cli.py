#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t37_attack_cli: what a hostile review of the subcommands found, as
requirements (CLI only: no moto, no daemon).

- check-config (exit 0 = good, s3inval(8)) must not pass a configuration
  the daemon then refuses to start with: admin_listen equal to listen, or
  admin_listen on a non-loopback address without admin_allow_remote.
- plan's cost figures must stay sane whatever state_dir/usage holds (the
  file is the daemon's, but a torn or damaged one must not make a 1-path
  plan cost 1,001 billable paths, nor a partly numeric count be read as
  a smaller one): an unreadable count is "unknown", never garbage.
- The README's GitLab pre-flight job runs `s3inval check-config --online`
  in a job whose environment holds the project's CI/CD variables (the
  README's own table of secrets): none of them may make it fail as an
  unknown S3INVAL_ variable; one that does is named, with what to do.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t37_attack_cli"

CLIENT = ("[client a]\naccess_key_id = AKIDAAAAAAAAAAAAAAAA\n"
          "secret_access_key = " + "a" * 40 + "\nbuckets = blog:rw\n")


def conf(ws, name, text):
    path = ws.path(name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def check_config_agrees(t, ws):
    state = ws.scratch_path("state-cc")
    os.makedirs(state, exist_ok=True)
    p1, p2 = s3itest.free_port(), s3itest.free_port()
    cases = [
        ("admin_listen equal to listen",
         "listen = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\n" % (p1, p1)),
        ("admin_listen 0.0.0.0 without admin_allow_remote",
         "listen = 127.0.0.1:%d\nadmin_listen = 0.0.0.0:%d\n" % (p1, p2)),
    ]
    for what, server in cases:
        path = conf(ws, "cc.conf", "[server]\n%sstate_dir = %s\n%s"
                    "[bucket blog]\n" % (server, state, CLIENT))
        rc, out, err = s3itest.run_s3inval(["check-config", "-c", path])
        drc, dt, dout = s3itest.run_s3inval_to_exit(
            path, s3itest.daemon_env(), ws.logdir, name="cc-daemon",
            timeout=10)
        t.ok(not (rc == 0 and drc not in (None, 0)),
             "check-config does not pass what the daemon refuses: " + what,
             "check-config rc %d %s\ndaemon rc %s:\n%s"
             % (rc, err[-500:], drc, dout[-800:]))


def plan_usage(t, ws):
    state = ws.scratch_path("state-plan")
    os.makedirs(state, exist_ok=True)
    path = conf(ws, "plan.conf", "[server]\nstate_dir = %s\n%s"
                "[bucket blog]\ndistributions = E1PLAN\n" % (state, CLIENT))
    usage = os.path.join(state, "usage")
    month = time.strftime("%Y%m", time.gmtime())
    for what, text in (
            ("a count past 2^64", "%s E1PLAN 99999999999999999999\n" % month),
            ("a negative count", "%s E1PLAN -5\n" % month),
            ("a partly numeric count", "%s E1PLAN 43x9\n" % month),
            ("garbage", "garbage\n")):
        with open(usage, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out, err = s3itest.run_s3inval(
            ["plan", "-c", path, "--bucket", "blog", "--json"],
            stdin="index.htm\n")
        try:
            doc = json.loads(out)
            d = doc["distributions"][0]
            n = len(d["submit"])
            billable = d["billable_paths"]
            used = doc["month"]["paths_used"]
            sane = (billable is None or 0 <= billable <= n) and \
                (used is None or used >= 0) and \
                (doc["month"]["known"] is False or text.split()[-1].isdigit())
        except (ValueError, KeyError, IndexError, TypeError):
            sane, n, billable, used = False, None, None, None
        t.ok(rc == 0 and sane,
             "plan with %s in state_dir/usage: the month is unknown or "
             "sane, billable paths at most the plan's" % what,
             "rc %d paths %s billable %s used %s\n%s%s"
             % (rc, n, billable, used, out[-800:], err[-300:]))


def readme_secrets():
    """The names in the README's table of secrets (as t30 reads them)."""
    with open(os.path.join(s3itest.TOP_SRCDIR, "README.md"),
              encoding="utf-8") as f:
        readme = f.read()
    sec = readme[readme.index("### Recipes"):readme.index("<!-- recipe:")]
    names = set()
    for a, b in re.findall(r"^\| `([A-Z0-9_]+)`(?:, `([A-Z0-9_]+)`)?", sec,
                           re.M):
        names |= {a, b}
    return sorted(names - {""})


def gitlab_preflight_env(t, ws):
    state = ws.scratch_path("state-gl")
    os.makedirs(state, exist_ok=True)
    names = readme_secrets()
    env = {
        "S3INVAL_SERVER_STATE_DIR": state,
        "S3INVAL_BUCKET_NAME": "blog",
        "S3INVAL_BUCKET_DISTRIBUTIONS": "E2EXAMPLE1",
        "S3INVAL_CLIENT_ACCESS_KEY_ID": "AKIDCIDEPLOY00000001",
        "S3INVAL_CLIENT_SECRET_ACCESS_KEY": "s" * 40,
        "S3INVAL_CLIENT_BUCKETS": "blog:rw",
    }
    # the project's CI/CD variables, in every job's environment
    for n in names:
        env.setdefault(n, "v" * 40)
    rc, out, err = s3itest.run_s3inval(["check-config"],
                                       env=s3itest.clean_env(env))
    t.ok(len(names) >= 3 and rc == 0,
         "check-config in the README's GitLab pre-flight environment (its "
         "CI/CD variables %s present) loads" % ", ".join(names),
         "rc %d\n%s" % (rc, err[-800:]))

    # A variable of ours that is no key says what to do about it.
    env["S3INVAL_CLIENT_SECRET"] = "s" * 40
    rc, out, err = s3itest.run_s3inval(["check-config"],
                                       env=s3itest.clean_env(env))
    t.ok(rc == 2 and "S3INVAL_CLIENT_SECRET" in err and
         "another prefix" in err,
         "an S3INVAL_ variable that is no configuration key: exit 2, named, "
         "with what to do", "rc %d\n%s" % (rc, err[-800:]))


def usage_says_why(t, ws):
    """Bad usage names what was wrong, not only the usage line."""
    got = {}
    for argv, want in ((["flush", "--wait", "5"], "'='"),
                       (["plan", "keys.txt"], "'keys.txt'"),
                       (["healthcheck", "extra"], "'extra'")):
        rc, out, err = s3itest.run_s3inval(argv)
        got[" ".join(argv)] = (rc, err.splitlines()[:1])
        t.ok(rc == 2 and "unexpected argument" in err and want in err and
             "usage:" in err, "s3inval %s: exit 2, says what is unexpected"
             % " ".join(argv), "rc %d\n%s" % (rc, err[-500:]))


def run(t, ws):
    usage_says_why(t, ws)
    check_config_agrees(t, ws)
    plan_usage(t, ws)
    gitlab_preflight_env(t, ws)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=120, peers=False))
