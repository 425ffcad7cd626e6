#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t23_state_dir: one owner per state_dir, and what lives in it (issue 13,
build items 1 and 6).

- A second instance on the same state_dir refuses to start, naming the
  PID that holds it (with -f and detached, the message on the terminal
  even when the log goes to a file); after kill -9 of the first, a new
  one starts at once.  Detached, the lock names the detached PID.
- A symbolic or hard link planted in state_dir under a name the daemon
  creates is never followed: its target is unchanged.  The names tested
  here are the ones this branch makes safe (SAFE_NAMES); every file the
  daemon leaves in state_dir must be listed in KNOWN_NAMES, so that a new
  one cannot appear untested.  state_dir itself as a symbolic link owned
  by another user is not followed.
- Warnings, at start and from check-config, when the configuration,
  state_dir or the AWS credentials file is writable by others; none when
  they are not; the daemon still starts.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import signal
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t23_state_dir"
BUCKET = "sd-bucket"

# Files the daemon creates in state_dir, with their temporary names.
# SAFE_NAMES: opened without following links, and a planted link refused
# at start (tested below).  The others are the journal's, the index's and
# the worker's: written through mkstemp() and rename(), read without
# following links, planted links tested by t20_journal_damage.py (journal,
# markers, worker files) and test_etag_index (the index).
SAFE_NAMES = ["lock"]
OTHER_NAMES = ["journal", "journal.clean", "journal.lost", "etag-index",
               "instance-id", "usage"]
KNOWN_NAMES = SAFE_NAMES + OTHER_NAMES
# mkstemp() names: random, nothing to plant.
KNOWN_PATTERNS = [r"^spool\.[A-Za-z0-9]{6}$"]


def second_instance(t, ws, moto_url):
    state = ws.path("state-shared")
    conf1 = s3itest.write_config(ws.logdir, moto_url, name="first.conf",
                                 state_dir=state)
    conf2 = s3itest.write_config(ws.logdir, moto_url, name="second.conf",
                                 state_dir=state)
    conf3 = s3itest.write_config(ws.logdir, moto_url, name="third.conf",
                                 state_dir=state,
                                 log__file=ws.path("third.log"))
    first = s3itest.start_s3inval(conf1, None, ws.logdir, name="first")

    def refuses(args, conf, name, holder):
        def fn():
            t0 = time.time()
            p = s3itest.spawn(name, [s3itest.S3INVAL_BIN] + args +
                              ["-c", conf], ws.logdir, s3itest.daemon_env())
            try:
                rc = p.proc.wait(10)
            except subprocess.TimeoutExpired:
                rc = None
            dt = time.time() - t0
            s3itest.stop(p)
            out = p.log_text()
            want = "server.state_dir %s is in use by s3inval PID %d" % (
                state, holder)
            return (rc not in (0, None) and dt < 3 and want in out
                    and s3itest.pid_alive(holder)), \
                "rc %r after %.1fs; want %r in:\n%s" % (rc, dt, want, out)
        return fn
    t.case("a second instance (-f) on the same state_dir refuses to start, "
           "naming the holder's PID",
           refuses(["-f"], conf2, "second-f", first.pid))
    t.case("so does a detached one whose log goes to a file: the message "
           "is on its terminal",
           refuses([], conf3, "second-detached", first.pid))

    def after_kill9():
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait(10)
        t0 = time.time()
        try:
            d = s3itest.start_s3inval(conf2, None, ws.logdir,
                                      name="after-kill9", timeout=10)
        except s3itest.StartError as e:
            return False, str(e)
        dt = time.time() - t0
        ok = dt < 3 and s3itest.lock_pid(state) == d.pid
        s3itest.stop(d)
        return ok, "started in %.1fs; lock names %r, daemon %d" % (
            dt, s3itest.lock_pid(state), d.pid)
    t.case("after kill -9 of the holder, a new instance starts at once and "
           "the lock names it", after_kill9)

    def detached_names_child():
        p = s3itest.spawn("detached", [s3itest.S3INVAL_BIN, "-c", conf3],
                          ws.logdir, s3itest.daemon_env())
        rc = p.proc.wait(20)
        pid = s3itest.lock_pid(state)
        try:
            ok = rc == 0 and pid not in (None, p.pid) and \
                s3itest.pid_alive(pid)
            # The refusal must name the detached PID, not the parent's.
            ok2, diag = refuses(["-f"], conf2, "after-detached", pid)()
            return ok and ok2, "rc %r, lock %r, parent %d\n%s" % (
                rc, pid, p.pid, diag)
        finally:
            if pid:
                s3itest.send_signal(pid, signal.SIGTERM)
                s3itest.wait_gone(pid, 10)
    t.case("detached, the lock names the daemon's PID (not its parent's), "
           "and that is the PID a second instance names", detached_names_child)


def planted_links(t, ws, moto_url):
    def try_start(name, state, plant):
        os.makedirs(state, exist_ok=True)
        target = ws.path(name + "-target")
        with open(target, "w") as f:
            f.write("precious\n")
        plant(target)
        conf = s3itest.write_config(ws.logdir, moto_url, name=name + ".conf",
                                    state_dir=state)
        rc, dt, out = s3itest.run_s3inval_to_exit(
            conf, s3itest.daemon_env(), ws.logdir, name=name, timeout=10)
        return s3itest.read_text(target) == "precious\n", rc, out

    results = []
    for fname in SAFE_NAMES:
        for kind in ("symlink", "hardlink"):
            state = ws.path("state-%s-%s" % (kind, fname))
            link = os.path.join(state, fname)

            def plant(target, link=link, kind=kind):
                (os.symlink if kind == "symlink" else os.link)(target, link)
            unchanged, rc, out = try_start("plant-%s-%s" % (kind, fname),
                                           state, plant)
            results.append((fname, kind, unchanged, rc, out))
    bad = [(f, k, u, rc, out[-300:]) for f, k, u, rc, out in results
           if not u or rc in (0, None) or "remove it" not in out]
    t.ok(results and not bad,
         "a symbolic or hard link planted in state_dir as %s is never "
         "followed (target unchanged, a clear refusal)" %
         ", ".join(SAFE_NAMES), "bad: %s" % bad)

    def stranger_link():
        if os.geteuid() != 0:
            return True, "not root: cannot give a link another owner"
        real = ws.path("state-real")
        os.makedirs(real, exist_ok=True)
        link = ws.path("state-via-link")
        os.symlink(real, link)
        os.lchown(link, 4321, 4321)
        conf = s3itest.write_config(ws.logdir, moto_url,
                                    name="stranger.conf", state_dir=link)
        rc, dt, out = s3itest.run_s3inval_to_exit(
            conf, s3itest.daemon_env(), ws.logdir, name="stranger",
            timeout=10)
        return (rc not in (0, None) and "owned by uid 4321" in out and
                os.listdir(real) == []), \
            "rc %r; %s in the target: %s" % (rc, out, os.listdir(real))
    t.case("state_dir as a symbolic link owned by another user is not "
           "followed", stranger_link)


def known_files(t, ws, moto_url, cf, dist):
    """Every file the daemon leaves in state_dir is a known name."""
    state = ws.path("state-inventory")
    conf = s3itest.moto_cf_config(ws.logdir, moto_url, BUCKET, dist,
                                  "inventory.conf", state_dir=state)
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, ws.logdir, name="inventory")
    s3 = s3itest.s3_client(d.url)
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key="inv/%d.html" % i, Body=b"i")
    s3.list_objects_v2(Bucket=BUCKET)
    s3itest.admin_flush(admin, wait=30)
    s3itest.stop(d)
    names = sorted(os.listdir(state))
    unknown = [n for n in names if n not in KNOWN_NAMES and not any(
        re.match(p, n) for p in KNOWN_PATTERNS)]
    t.ok("lock" in names and not unknown,
         "every file the daemon leaves in state_dir is a known name (so "
         "each is tested for planted links)",
         "files %s; unknown %s" % (names, unknown))


def warnings(t, ws, moto_url):
    state = ws.path("state-perm")
    os.makedirs(state, exist_ok=True)
    creds = ws.path("aws-credentials")
    with open(creds, "w") as f:
        f.write("[default]\naws_access_key_id = AKIDIGNORED\n"
                "aws_secret_access_key = ignored\n")
    conf = s3itest.write_config(ws.logdir, moto_url, name="perm.conf",
                                state_dir=state)
    env = s3itest.daemon_env({"AWS_SHARED_CREDENTIALS_FILE": creds})
    want = [("configuration file %s is writable by others" % conf),
            ("server.state_dir %s is writable by others" % state),
            ("AWS credentials file %s is writable by others" % creds)]

    def check_config():
        return s3itest.run_s3inval(["check-config", "-c", conf], env=env)

    os.chmod(conf, 0o644)
    os.chmod(state, 0o750)
    os.chmod(creds, 0o600)
    rc, out, err = check_config()
    t.ok(rc == 0 and "warning" not in err,
         "check-config: no warning when others may write nothing",
         "rc %d: %s" % (rc, err))

    os.chmod(conf, 0o666)
    os.chmod(state, 0o777)
    os.chmod(creds, 0o666)
    rc, out, err = check_config()
    missing = [w for w in want if w not in err]
    t.ok(rc == 0 and not missing,
         "check-config warns (exit 0) about a config, state_dir and AWS "
         "credentials file writable by others",
         "rc %d; missing %s\n%s" % (rc, missing, err))

    def daemon():
        d = s3itest.start_s3inval(conf, {"AWS_SHARED_CREDENTIALS_FILE":
                                         creds}, ws.logdir, name="perm")
        text = d.log_text()
        s3itest.stop(d)
        missing = [w for w in want if w not in text]
        return not missing and re.search(r" warn server\.state_dir ",
                                         text), \
            "missing %s\n%s" % (missing, text)
    t.case("the daemon starts, and logs the same warnings", daemon)
    os.chmod(conf, 0o644)


def run(t, ws):
    moto, moto_url = s3itest.start_moto(ws.logdir)
    cf, dist = s3itest.moto_distribution(moto_url, "t23")
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    second_instance(t, ws, moto_url)
    planted_links(t, ws, moto_url)
    known_files(t, ws, moto_url, cf, dist)
    warnings(t, ws, moto_url)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=150))
