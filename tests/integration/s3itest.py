# SPDX-License-Identifier: Apache-2.0
"""
s3itest: the shared library of the integration tests.

A test script starts moto_server, the SigV4 verifier in front of it
(tests/fixtures/sigv4_verifier.py) and s3inval in front of that, all on
free loopback ports, drives them with real clients and prints TAP:

    client (aws-cli, boto3) --client keys--> s3inval --upstream keys-->
        sigv4_verifier --> moto_server

Every process started here is stopped by PID (SIGTERM, then SIGKILL after
5 s) in a finally block and again at exit.  Logs of every process go to
tests/integration/logs/<test-name>/ under the build tree; they are removed
when the script passes (S3INVAL_KEEP_LOGS=1 keeps them) and kept otherwise.

Environment: S3I_BIN (the daemon), TOP_SRCDIR, TOP_BUILDDIR (set by
make check; defaults are derived from this file), CI=true turns skips for
missing peer tools into failures.
"""

import atexit
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.dirname(
    os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR") or TOP_SRCDIR
S3INVAL_BIN = os.environ.get("S3I_BIN") or os.path.join(
    TOP_BUILDDIR, "s3inval")
VERIFIER = os.path.join(TOP_SRCDIR, "tests", "fixtures", "sigv4_verifier.py")
if not os.path.exists(VERIFIER):
    VERIFIER = os.path.join(os.path.dirname(HERE), "fixtures",
                            "sigv4_verifier.py")
CI = os.environ.get("CI", "").lower() == "true"
REGION = "us-east-1"

# Client keys: what aws-cli / boto3 use against s3inval.
DEPLOY_AK = "AKIDDEPLOYEXAMPLE01"
DEPLOY_SK = "deploySecretKeyEXAMPLE0123456789abcdefgh"
READER_AK = "AKIDREADEREXAMPLE1"
READER_SK = "readerSecretKeyEXAMPLE0123456789abcdefgh"
# Upstream keys: what s3inval signs with; only the verifier knows them.
UPSTREAM_AK = "AKIDUPSTREAMEXAMPLE1"
UPSTREAM_SK = "upstreamSecretKeyEXAMPLE0123456789abcdef"
assert len(DEPLOY_SK) == len(READER_SK) == len(UPSTREAM_SK) == 40

SPECIAL_NAMES = ["a b.txt", "plus+sign.txt", "tilde~.txt", "paren(1).txt",
                 "bang!.txt", "star*.txt", "quote'.txt", "amp&.txt",
                 "eq=.txt", "pct%.txt", "caf\u00e9.txt", "\u65e5\u672c.txt"]

MiB = 1 << 20

# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------

_started = []          # every Proc still to stop, in start order


class StartError(Exception):
    """A server did not come up; str() says why (with its log's tail)."""


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(no log: %s)" % e
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-n:])


class Proc:
    """A process we started, its log file and the URL it serves."""

    def __init__(self, name, proc, log_path, url=None, port=None):
        self.name = name
        self.proc = proc
        self.pid = proc.pid
        self.log_path = log_path
        self.url = url
        self.port = port

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop(self)

    def log_text(self):
        return tail(self.log_path, 10 ** 9)


def stop(p, grace=5.0):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL.

    Returns the exit status (or None when it was gone already)."""
    proc = p.proc if isinstance(p, Proc) else p
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
    for q in list(_started):
        if q.proc is proc:
            _started.remove(q)
    return proc.returncode


_scratch_dirs = []    # generated trees, removed at exit whatever happens


def stop_all():
    for p in reversed(list(_started)):
        stop(p)


def _remove_scratch():
    for d in _scratch_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_scratch)
atexit.register(stop_all)       # atexit runs in reverse: this one first


def _on_signal(signum, frame):
    stop_all()
    _remove_scratch()
    print("Bail out! killed by signal %d" % signum)
    sys.stdout.flush()
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def spawn(name, argv, logdir, env=None):
    """Start argv with stdout+stderr to logdir/name.log; registered."""
    log_path = os.path.join(logdir, name + ".log")
    logf = open(log_path, "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, env=env,
                                close_fds=True)
    finally:
        logf.close()
    p = Proc(name, proc, log_path)
    _started.append(p)
    return p


def wait_port(port, p, timeout=20.0):
    """Wait until 127.0.0.1:port accepts; StartError if p exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not p.alive():
            raise StartError("%s exited with status %s before listening on "
                             "port %d; its log:\n%s" % (
                                 p.name, p.proc.returncode, port,
                                 tail(p.log_path)))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise StartError("%s not listening on port %d after %.0fs; its log:\n%s"
                     % (p.name, port, timeout, tail(p.log_path)))


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


def missing_peers():
    """Why the common peers (moto_server, boto3) are unusable, or None."""
    why = []
    if shutil.which("moto_server") is None:
        why.append("moto_server not on PATH")
    try:
        import boto3  # noqa: F401
    except ImportError as e:
        why.append("boto3 not importable (%s)" % e)
    return "; ".join(why) or None


# --- moto ------------------------------------------------------------------

def start_moto(logdir, timeout=30.0):
    """moto_server on a free port: returns (Proc, url) once it answers."""
    exe = shutil.which("moto_server")
    if exe is None:
        raise StartError("moto_server not found on PATH")
    port = free_port()
    p = spawn("moto", [exe, "-H", "127.0.0.1", "-p", str(port)], logdir)
    p.port = port
    p.url = "http://127.0.0.1:%d" % port
    wait_port(port, p, timeout)
    deadline = time.time() + timeout
    while True:
        try:
            st, _, _ = http_request(p.url + "/moto-api/", timeout=5)
            if st < 500:
                break
        except OSError:
            pass
        if time.time() > deadline or not p.alive():
            raise StartError("moto_server not answering; log:\n%s"
                             % tail(p.log_path))
        time.sleep(0.1)
    return p, p.url


def reset_moto(url):
    st, _, body = http_request(url + "/moto-api/reset", "POST")
    if st != 200:
        raise RuntimeError("moto reset: %d %r" % (st, body[:200]))


# --- the verifier ----------------------------------------------------------

class Verifier(Proc):
    def stats(self):
        st, _, body = http_request(self.url + "/__verifier/stats")
        if st != 200:
            raise RuntimeError("verifier stats: %d" % st)
        return json.loads(body)

    def reset(self):
        http_request(self.url + "/__verifier/reset", "POST")

    def log_lines(self):
        try:
            with open(self.request_log, encoding="utf-8",
                      errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []


def start_verifier(logdir, upstream, access_key=UPSTREAM_AK,
                   secret_key=UPSTREAM_SK, region=REGION, session_token=None,
                   timeout=20.0):
    """The SigV4 verifier in front of upstream (moto's URL)."""
    port = free_port()
    request_log = os.path.join(logdir, "verifier-requests.log")
    argv = [sys.executable, VERIFIER, "--listen-port", str(port),
            "--upstream", upstream, "--access-key", access_key,
            "--secret-key", secret_key, "--region", region,
            "--log", request_log, "--log-headers"]
    if session_token:
        argv += ["--session-token", session_token]
    base = spawn("verifier", argv, logdir)
    v = Verifier(base.name, base.proc, base.log_path,
                 "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = v
    v.request_log = request_log
    wait_port(port, v, timeout)
    return v


# --- s3inval ---------------------------------------------------------------

def default_config(port, admin_port, upstream, state_dir):
    """The base configuration, as {section: {key: value}} (ordered)."""
    return {
        "server": {"listen": "127.0.0.1:%d" % port,
                   "admin_listen": "127.0.0.1:%d" % admin_port,
                   "state_dir": state_dir},
        "upstream": {"endpoint": upstream, "region": REGION,
                     "addressing": "path"},
        "auth": {"mode": "sigv4"},
        # The tests create and remove their buckets through the proxy:
        # bucket-level writes need admin (rw never reaches them).
        "client deploy": {"access_key_id": DEPLOY_AK,
                          "secret_access_key": DEPLOY_SK,
                          "buckets": "*:rw, *:admin"},
        "client reader": {"access_key_id": READER_AK,
                          "secret_access_key": READER_SK,
                          "buckets": "*:r"},
        "bucket *": {},
        "log": {"level": "info"},
    }


def write_config(dir, upstream, port=None, admin_port=None, state_dir=None,
                 sections=None, name="s3inval.conf", **overrides):
    """Write an s3inval INI config into dir; returns its path.

    upstream: the endpoint s3inval forwards to (the verifier's URL).
    port/admin_port: default free ports; state_dir: default dir/state.
    overrides: SECTION__KEY=value for sections without spaces, e.g.
        auth__mode="none", log__level="debug", cloudfront__endpoint=URL;
        a value of None removes the key.
    sections: exact section names, e.g. {"bucket blog": {"distributions":
        "E1"}, "client reader": None} (None removes the section; a dict
        is merged into it, creating it when new).
    """
    port = port or free_port()
    admin_port = admin_port or free_port()
    state_dir = state_dir or os.path.join(dir, "state")
    os.makedirs(state_dir, exist_ok=True)
    cfg = default_config(port, admin_port, upstream, state_dir)
    for k, v in overrides.items():
        if "__" not in k:
            raise TypeError("write_config: override %r is not SECTION__KEY"
                            % k)
        sec, key = k.split("__", 1)
        if v is None:
            cfg.get(sec, {}).pop(key, None)
        else:
            cfg.setdefault(sec, {})[key] = str(v)
    for sec, kv in (sections or {}).items():
        if kv is None:
            cfg.pop(sec, None)
        else:
            cfg.setdefault(sec, {})
            for key, v in kv.items():
                if v is None:
                    cfg[sec].pop(key, None)
                else:
                    cfg[sec][key] = str(v)
    path = os.path.join(dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("; written by tests/integration/s3itest.py\n")
        for sec, kv in cfg.items():
            f.write("\n[%s]\n" % sec)
            for key, v in kv.items():
                f.write("%s = %s\n" % (key, v))
    return path


def read_config(path):
    """{section: {key: value}} from an INI file written above."""
    out, sec = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(";", 1)[0].strip() if not line.lstrip() \
                .startswith(";") else ""
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                sec = line[1:-1].strip()
                out.setdefault(sec, {})
            elif "=" in line and sec is not None:
                k, v = line.split("=", 1)
                out[sec][k.strip()] = v.strip()
    return out


def clean_env(extra=None):
    """os.environ without AWS_* / S3INVAL_* variables, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "S3INVAL_"))}
    env.update(extra or {})
    return env


def daemon_env(extra=None):
    """s3inval's environment: upstream credentials = the verifier's keys."""
    env = clean_env({
        "AWS_ACCESS_KEY_ID": UPSTREAM_AK,
        "AWS_SECRET_ACCESS_KEY": UPSTREAM_SK,
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.update(extra or {})
    return env


class Daemon(Proc):
    admin_url = None
    config_path = None


def start_s3inval(config_path, env=None, logdir=None, name="s3inval",
                  args=None, timeout=20.0):
    """Run `$S3INVAL_BIN -f -c CONFIG` until its port accepts connections.

    env: extra variables over daemon_env().  Raises StartError (with the
    daemon's output) when the binary is missing or exits first."""
    if not os.path.isfile(S3INVAL_BIN) or not os.access(S3INVAL_BIN,
                                                        os.X_OK):
        raise StartError("S3INVAL_BIN %s is missing or not executable"
                         % S3INVAL_BIN)
    logdir = logdir or os.path.dirname(config_path)
    cfg = read_config(config_path)
    full_env = daemon_env(env)
    listen = full_env.get("S3INVAL_SERVER_LISTEN") or \
        cfg.get("server", {}).get("listen", "127.0.0.1:8080")
    admin = full_env.get("S3INVAL_SERVER_ADMIN_LISTEN") or \
        cfg.get("server", {}).get("admin_listen", "")
    port = int(listen.rsplit(":", 1)[1])
    argv = [S3INVAL_BIN, "-f", "-c", config_path] + list(args or [])
    base = spawn(name, argv, logdir, full_env)
    d = Daemon(base.name, base.proc, base.log_path,
               "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = d
    d.config_path = config_path
    if admin:
        d.admin_url = "http://" + admin
    wait_port(port, d, timeout)
    # The admin listener opens after the S3 one: a test that asks it
    # first must not race the daemon's start-up.
    host_port = admin.rsplit(":", 1)
    if admin and host_port[0] in ("127.0.0.1", "localhost", "0.0.0.0"):
        wait_port(int(host_port[1]), d, timeout)
    return d


# ---------------------------------------------------------------------------
# TAP
# ---------------------------------------------------------------------------

class TAP:
    """TAP output for automake's tap-driver.

    t = TAP(); t.ok(cond, desc, diag); t.case(desc, fn) runs fn and
    reports an exception as a failure; t.section(fn, ...) runs a part of
    a scenario; t.skip(desc, reason); t.todo(cond, desc, reason): a test
    that waits on work elsewhere; t.missing_tool(desc, reason): skip on a
    laptop, failure in CI; t.done() prints the plan, after the last test
    (TAP allows it at the end: nobody counts cases by hand) and returns
    the exit status; t.passed() -> every test ok.
    """

    def __init__(self, out=None, budget=None):
        """budget: seconds; case() runs nothing once it is spent (a hung
        proxy must not hang make check for an hour)."""
        self.out = out or sys.stdout
        self.n = 0
        self.failed = 0
        self.bailed = 0
        self._done = False
        self.deadline = time.time() + budget if budget else None

    def remaining(self, cap=None):
        """Seconds left in the budget (cap: at most that many)."""
        left = self.deadline - time.time() if self.deadline else 1e9
        return max(1.0, min(left, cap or left))

    def _print(self, s):
        self.out.write(s + "\n")
        self.out.flush()

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            self._print("# " + line)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        desc = desc.replace("#", "\\#").replace("\n", " ")
        self._print("%s %d - %s" % ("ok" if cond else "not ok", self.n,
                                    desc))
        if not cond:
            self.failed += 1
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def skip(self, desc, reason):
        self.n += 1
        self._print("ok %d - %s # SKIP %s" % (self.n, desc, reason))

    def todo(self, cond, desc, reason, diag=None):
        """A test of behaviour that waits on work elsewhere (reason):
        "not ok ... # TODO" does not fail the run; once it passes, the
        tap driver reports XPASS, which does: drop the mark then."""
        self.n += 1
        desc = desc.replace("#", "\\#").replace("\n", " ")
        self._print("%s %d - %s # TODO %s" % ("ok" if cond else "not ok",
                                              self.n, desc, reason))
        if not cond and diag is not None:
            self.diag(diag)
        return bool(cond)

    def missing_tool(self, desc, reason):
        if CI:
            return self.ok(False, desc, "%s (CI=true: a missing peer tool "
                           "is a failure)" % reason)
        self.skip(desc, reason)
        return False

    def case(self, desc, fn, *args, **kwargs):
        """Run fn; a result of True/False or (bool, diag); an exception is
        a failure with its traceback.  Returns the boolean."""
        if self.deadline and time.time() > self.deadline:
            return self.ok(False, desc, "not run: the script's time budget "
                           "is spent (an earlier step was too slow?)")
        return self.check(desc, fn, *args, **kwargs)

    def check(self, desc, fn, *args, **kwargs):
        """case() regardless of the time budget (quick final checks)."""
        try:
            r = fn(*args, **kwargs)
        except Exception as e:
            # The test's own frames and the error; not the SDK's insides.
            tb = traceback.extract_tb(e.__traceback__)
            mine = [f for f in tb if "site-packages" not in f.filename
                    and not (f.name == "check" and os.path.abspath(
                        f.filename) == os.path.abspath(__file__))]
            lines = traceback.format_list(mine[-4:]) + \
                traceback.format_exception_only(type(e), e)
            return self.ok(False, desc, "".join(lines).rstrip())
        if isinstance(r, tuple):
            return self.ok(r[0], desc, r[1] if len(r) > 1 else None)
        return self.ok(bool(r), desc)

    def section(self, fn, *args):
        """Run one part of a scenario (fn(*args) reports its own lines);
        if it dies half-way, one failure carries its traceback and the
        scenario goes on with the next part."""
        try:
            fn(*args)
        except Exception:
            self.ok(False, "%s: aborted" % fn.__name__,
                    traceback.format_exc())

    def bail(self, reason):
        self._print("Bail out! " + reason.replace("\n", " | "))
        self.bailed += 1

    def passed(self):
        return self.failed == 0 and self.bailed == 0

    def done(self):
        """Print the plan (once) and return the exit status: 0, failures
        or not (the TAP lines carry them; a non-zero status would make
        the automake driver count the script as an ERROR on top), 1 when
        the run bailed out."""
        if not self._done:
            self._print("1..%d" % self.n)
            self._done = True
        return 1 if self.bailed else 0


# ---------------------------------------------------------------------------
# logs and scratch space
# ---------------------------------------------------------------------------

class Workspace:
    """tests/integration/logs/<name>/ (kept on failure) and a scratch dir
    for generated trees (always removed)."""

    def __init__(self, name):
        self.name = name
        self.logdir = os.path.join(TOP_BUILDDIR, "tests", "integration",
                                   "logs", name)
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.scratch = tempfile.mkdtemp(prefix="s3itest-%s-" % name)
        _scratch_dirs.append(self.scratch)

    def path(self, *parts):
        return os.path.join(self.logdir, *parts)

    def scratch_path(self, *parts):
        return os.path.join(self.scratch, *parts)

    def finish(self, passed):
        stop_all()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if passed and os.environ.get("S3INVAL_KEEP_LOGS") != "1":
            shutil.rmtree(self.logdir, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(self.logdir))  # only when empty
            except OSError:
                pass
        else:
            sys.stdout.write("# logs kept in %s\n" % self.logdir)
            sys.stdout.flush()


def main(name, run, budget=120, peers=True):
    """The whole of a test script's main(): run(t, ws) with a TAP whose
    plan is printed at the end, a Workspace whose logs stay when anything
    failed, and everything started stopped.  peers: the scenario needs
    moto_server and boto3 (missing_peers(); a scenario that needs more
    checks it itself, with t.missing_tool()).  Returns the exit status:
    sys.exit(s3itest.main(NAME, run))."""
    t = TAP(budget=budget)
    ws = Workspace(name)
    try:
        why = missing_peers() if peers else None
        if why:
            t.missing_tool(name, why)
        else:
            run(t, ws)
            if t.n == 0:
                t.ok(False, name, "the scenario reported no test")
    except Exception:
        t.ok(False, "aborted", traceback.format_exc())
    finally:
        code = t.done()
        ws.finish(t.passed())
    return code


# ---------------------------------------------------------------------------
# aws-cli
# ---------------------------------------------------------------------------

_aws_cache = {}


def _aws_version(path):
    try:
        r = subprocess.run([path, "--version"], capture_output=True,
                           timeout=60, env=clean_env({
                               "AWS_CONFIG_FILE": "/dev/null",
                               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}))
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (r.stdout + r.stderr).decode("utf-8", "replace").strip()


def find_aws(version):
    """(path, version string) of aws-cli v1 (`aws` on PATH, pip) or v2
    (/usr/bin/aws, Debian), or (None, reason)."""
    if version in _aws_cache:
        return _aws_cache[version]
    want = "aws-cli/%d." % version
    if version == 2:
        candidates = ["/usr/bin/aws"]
    else:
        candidates = []
        for d in os.environ.get("PATH", "").split(os.pathsep):
            c = os.path.join(d or ".", "aws")
            if os.access(c, os.X_OK) and c not in candidates:
                candidates.append(c)
    found = (None, "aws-cli v%d not found (looked at %s)" % (
        version, ", ".join(candidates) or "PATH"))
    for c in candidates:
        if not os.access(c, os.X_OK):
            continue
        v = _aws_version(c)
        if v.startswith(want):
            found = (c, v.split()[0])
            break
    _aws_cache[version] = found
    return found


def aws_env(access_key=DEPLOY_AK, secret_key=DEPLOY_SK, extra=None):
    env = clean_env({
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "3",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    })
    env.update(extra or {})
    return env


def run_aws(version, args, env=None, endpoint=None, log_path=None,
            timeout=300, cwd=None):
    """Run aws-cli v1/v2 with the client (deploy) keys against endpoint.

    env: extra variables over aws_env(); returns (rc, stdout, stderr) as
    text.  When log_path is given, the command, rc and output are
    appended there."""
    exe, why = find_aws(version)
    if exe is None:
        raise StartError(why)
    argv = [exe] + list(args)
    if endpoint:
        argv += ["--endpoint-url", endpoint]
    argv += ["--cli-connect-timeout", "10", "--cli-read-timeout", "60"]
    t0 = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=aws_env(extra=env),
                            cwd=cwd, stdin=subprocess.DEVNULL)
    p = Proc("aws", proc, log_path)
    _started.append(p)      # so that a signal to us stops it too
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        stop(p)
        out, err = proc.communicate()
        rc = -1
        err = (err or b"") + b"\n(timed out after %ds)" % timeout
    finally:
        stop(p)
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write("$ %s\n# rc=%d in %.1fs\n%s%s\n" % (
                " ".join(_shq(a) for a in argv), rc, time.time() - t0,
                _indent(out, "> "), _indent(err, "! ")))
    return rc, out, err


def _shq(s):
    return s if re.match(r"^[\w@%+=:,./-]+$", s) else \
        "'" + s.replace("'", "'\\''") + "'"


def _indent(text, prefix):
    if not text:
        return ""
    lines = text.splitlines()
    if len(lines) > 60:
        lines = lines[:30] + ["... (%d lines)" % (len(lines) - 60)] + \
            lines[-30:]
    return "".join(prefix + line + "\n" for line in lines)


# ---------------------------------------------------------------------------
# boto3 clients and the bucket as moto holds it
# ---------------------------------------------------------------------------

def s3_client(endpoint, access_key=DEPLOY_AK, secret_key=DEPLOY_SK,
              max_attempts=1, **config):
    """A boto3 S3 client, path-style, SigV4 (presigned URLs too: boto3's
    default for those is SigV2), no retries by default (a retry would hide
    a proxy error)."""
    import boto3
    from botocore.config import Config
    config.setdefault("signature_version", "s3v4")   # presign too
    config.setdefault("connect_timeout", 10)
    config.setdefault("read_timeout", 60)
    cfg = Config(s3={"addressing_style": "path"},
                 retries={"max_attempts": max_attempts, "mode": "standard"},
                 **config)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, region_name=REGION, config=cfg)


def moto_client(moto_url):
    """boto3 straight to moto (it checks no signature: any keys).  It
    validates no response checksum: the bytes are what we compare, and a
    mismatch must be reported as one, not raised."""
    return s3_client(moto_url, "AKIDDIRECTTOMOTO0000", "x" * 40,
                     max_attempts=3,
                     response_checksum_validation="when_required",
                     request_checksum_calculation="when_required")


def bucket_digest(moto_url, bucket):
    """{key: (size, sha256)} of every object, listed and read from moto."""
    c = moto_client(moto_url)
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = c.get_object(Bucket=bucket, Key=o["Key"])["Body"]
            h = hashlib.sha256()
            n = 0
            for chunk in iter(lambda: body.read(MiB), b""):
                h.update(chunk)
                n += len(chunk)
            if n != o["Size"]:
                raise RuntimeError("moto listed %r as %d bytes, read %d" % (
                    o["Key"], o["Size"], n))
            out[o["Key"]] = (n, h.hexdigest())
    return out


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(root, prefix=""):
    """{key: (size, sha256)} of a local tree (keys use '/')."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for fn in filenames:
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            out[prefix + rel] = (os.path.getsize(full), file_sha256(full))
    return out


def compare_bucket(moto_url, bucket, root, prefix=""):
    """(equal, diag): the bucket read from moto vs the local tree."""
    want = tree_digest(root, prefix) if root is not None else {}
    got = bucket_digest(moto_url, bucket)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if not (missing or extra or differ):
        return True, "%d objects equal" % len(want)
    lines = ["bucket %s (moto) differs from %s: %d missing, %d extra, "
             "%d differ (%d objects expected, %d present)" % (
                 bucket, root, len(missing), len(extra), len(differ),
                 len(want), len(got))]
    for what, keys in (("missing", missing), ("extra", extra)):
        for k in keys[:10]:
            lines.append("  %s: %r" % (what, k))
        if len(keys) > 10:
            lines.append("  ... %d more %s" % (len(keys) - 10, what))
    for k in differ[:10]:
        lines.append("  differs: %r local %d bytes %s, moto %d bytes %s" % (
            k, want[k][0], want[k][1][:12], got[k][0], got[k][1][:12]))
    return False, "\n".join(lines)


def repair_bucket(moto_url, bucket, root, prefix=""):
    """Make the bucket equal the local tree, directly in moto, so that one
    failed step does not fail every later one."""
    c = moto_client(moto_url)
    want = tree_digest(root, prefix) if root is not None else {}
    got = bucket_digest(moto_url, bucket)
    for k in set(got) - set(want):
        c.delete_object(Bucket=bucket, Key=k)
    for k, v in want.items():
        if got.get(k) != v:
            with open(os.path.join(root, k[len(prefix):]), "rb") as f:
                c.put_object(Bucket=bucket, Key=k, Body=f,
                             ContentType="application/octet-stream")


# ---------------------------------------------------------------------------
# trees
# ---------------------------------------------------------------------------

def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_big_file(path, size, seed=1):
    """size bytes written in 1 MiB blocks: one random MiB, each block
    stamped with its index so that no two parts of a multipart upload are
    alike (a misordered part changes the hash)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    base = random.Random(seed).randbytes(MiB)
    with open(path, "wb") as f:
        left, i = size, 0
        while left > 0:
            block = (b"<block %08d seed %d>" % (i, seed)) + base
            block = block[:min(MiB, left)]
            f.write(block)
            left -= len(block)
            i += 1
    return path


def make_site_tree(root, n_files=200, seed=7):
    """A static site of exactly n_files files in nested folders: index.html
    at the root and in most folders, assets of assorted sizes (0 bytes to
    ~64 KiB, text and binary) and the special-character names
    (SPECIAL_NAMES, at the root and in a folder with a space).  Returns
    the list of relative paths."""
    rng = random.Random(seed)
    files = {}

    def add(rel, data):
        if len(files) < n_files:
            files[rel] = data

    def page(title):
        return ("<!doctype html><html><head><title>%s</title></head><body>"
                "<h1>%s</h1><p>%s</p></body></html>\n" % (
                    title, title, "lorem ipsum " * rng.randint(1, 200))
                ).encode()

    add("index.html", page("home"))
    add("empty.txt", b"")
    for name in SPECIAL_NAMES:
        add(name, ("special %s\n" % name).encode() * rng.randint(1, 50))
        add("dir with space/" + name, ("nested %s\n" % name).encode())
    add("dir with space/index.html", page("space"))
    add("caf\u00e9/index.html", page("caf\u00e9"))
    add("about/index.html", page("about"))
    add("about/team/index.html", page("team"))
    i = 0
    while len(files) < n_files:
        year = 2020 + i % 5
        kind = i % 4
        if kind == 0:
            add("blog/%d/post-%03d/index.html" % (year, i), page("p%d" % i))
        elif kind == 1:
            add("blog/%d/post-%03d/img/photo-%d.jpg" % (year, i - 1, i),
                rng.randbytes(rng.randint(100, 64 << 10)))
        elif kind == 2:
            add("assets/css/style-%03d.css" % i,
                ("body{margin:%dpx}\n" % i).encode() * rng.randint(1, 300))
        else:
            add("assets/js/deep/er/app-%03d.js" % i,
                ("console.log(%d);\n" % i).encode() * rng.randint(1, 300))
        i += 1
    for rel, data in files.items():
        write_file(os.path.join(root, rel), data)
    return sorted(files)


def edit_tree(root, seed=11):
    """Edits for `sync --delete`: change (and grow) 10 files, add 6 (two
    with special names), delete 10 (special names are kept: later steps
    use them).  Returns (changed, added, deleted)."""
    rng = random.Random(seed)
    rels = sorted(tree_digest(root))
    rels = [r for r in rels if not r.startswith("big/")]
    rng.shuffle(rels)
    changed = rels[:10]
    deleted = [r for r in rels[10:]
               if r.rsplit("/", 1)[-1] not in SPECIAL_NAMES][:10]
    for rel in changed:
        with open(os.path.join(root, rel), "ab") as f:
            f.write(b"\n<!-- edited %d -->\n" % rng.randint(0, 10 ** 9))
    for rel in deleted:
        os.unlink(os.path.join(root, rel))
    added = ["new/index.html", "new/page two.html", "new/plus+one.txt",
             "new/\u65e5\u672c/index.html", "blog/2030/post-new/index.html",
             "assets/new.bin"]
    for rel in added:
        write_file(os.path.join(root, rel),
                   rng.randbytes(rng.randint(1, 20000)))
    return changed, added, deleted


def remove_from_tree(root, rel):
    os.unlink(os.path.join(root, rel))
    d = os.path.dirname(os.path.join(root, rel))
    while d != root and os.path.isdir(d) and not os.listdir(d):
        os.rmdir(d)
        d = os.path.dirname(d)


# ---------------------------------------------------------------------------
# the whole stack
# ---------------------------------------------------------------------------

class Stack:
    """moto + verifier + s3inval, as one test uses them."""

    def __init__(self, ws, config_sections=None, daemon_extra_env=None,
                 **config_overrides):
        self.ws = ws
        if not os.access(S3INVAL_BIN, os.X_OK):
            raise StartError("S3INVAL_BIN %s is missing or not executable"
                             % S3INVAL_BIN)
        self.moto, self.moto_url = start_moto(ws.logdir)
        self.verifier = start_verifier(ws.logdir, self.moto_url)
        # A second stack in one workspace gets its own file, state_dir
        # (one process per state_dir) and log.
        n = getattr(ws, "stacks", 0)
        ws.stacks = n + 1
        suffix = "-%d" % n if n else ""
        self.config_path = write_config(
            ws.logdir, self.verifier.url, sections=config_sections,
            name="s3inval%s.conf" % suffix,
            state_dir=os.path.join(ws.logdir, "state" + suffix),
            **config_overrides)
        self.s3inval = start_s3inval(self.config_path, daemon_extra_env,
                                     ws.logdir, name="s3inval" + suffix)
        self.url = self.s3inval.url

    def verifier_clean(self):
        """(ok, diag): seen > 0 and rejected == 0."""
        s = self.verifier.stats()
        return (s["seen"] > 0 and s["rejected"] == 0,
                json.dumps(s, indent=1, ensure_ascii=False))

    def proxy_alive(self):
        d = self.s3inval
        return d.alive(), "s3inval exited with %s; log tail:\n%s" % (
            d.proc.returncode, tail(d.log_path))


def verifier_lines(stack, pattern):
    """The verifier's request-log lines matching the regex pattern."""
    rx = re.compile(pattern)
    return [line for line in stack.verifier.log_lines() if rx.search(line)]


# ---------------------------------------------------------------------------
# the aws-cli scenario, shared by t03 (v1) and t04 (v2)
# ---------------------------------------------------------------------------

SCRIPT_BUDGET = 170     # seconds; about 30 s when all is well


def awscli_suite(version, test_name):
    """The "Done when" scenario with aws-cli v`version`; returns the exit
    status.  Each step checks the command's exit code, then the bucket as
    moto holds it against the local tree, byte for byte."""
    def run(t, ws):
        exe, why = find_aws(version)
        if exe is None:
            t.missing_tool("aws-cli v%d scenario" % version, why)
            return
        t.diag("using %s (%s)" % (exe, why))
        _awscli_steps(t, ws, Stack(ws), version)
    return main(test_name, run, budget=SCRIPT_BUDGET)


def _awscli_steps(t, ws, stack, version):
    bucket = "s3inval-it-v%d" % version
    tree = ws.scratch_path("tree")
    out_dir = ws.scratch_path("out")
    os.makedirs(out_dir)
    aws_log = ws.path("aws-v%d.log" % version)

    def aws(*args, **kw):
        kw.setdefault("timeout", t.remaining(120))
        return run_aws(version, args, endpoint=stack.url, log_path=aws_log,
                       **kw)

    def cmd_ok(rc, out, err):
        return "rc=%d\nstdout: %s\nstderr: %s" % (rc, out[-3000:],
                                                  err[-3000:])

    def step(desc, run, check_tree=True):
        """run() -> (ok, diag) for the command; then the bucket check.  A
        step whose bucket differs is repaired in moto afterwards."""
        def body():
            good, diag = run()
            if not good:
                return False, diag
            if not check_tree:
                return True, None
            same, d = compare_bucket(stack.moto_url, bucket,
                                     tree if os.path.isdir(tree) else None)
            return same, d
        res = t.case(desc, body)
        if not res and check_tree:
            try:
                repair_bucket(stack.moto_url, bucket,
                              tree if os.path.isdir(tree) else None)
                t.diag("(bucket repaired directly in moto for later steps)")
            except Exception as e:
                t.diag("(repair failed: %r)" % e)
        return res

    # s3 mb
    def mb():
        rc, out, err = aws("s3", "mb", "s3://" + bucket)
        names = [b["Name"] for b in moto_client(stack.moto_url)
                 .list_buckets()["Buckets"]]
        return rc == 0 and bucket in names, cmd_ok(rc, out, err) + \
            "\nmoto buckets: %r" % names
    if not step("s3 mb s3://%s" % bucket, mb, check_tree=False):
        moto_client(stack.moto_url).create_bucket(Bucket=bucket)
        t.diag("(bucket created directly in moto for later steps)")

    # sync a 200-file tree
    make_site_tree(tree, 200)

    def sync1():
        rc, out, err = aws("s3", "sync", tree, "s3://%s/" % bucket)
        return rc == 0, cmd_ok(rc, out, err)
    step("s3 sync of 200 files (nested, index.html, special characters)",
         sync1)

    # a 50 MiB file: multipart
    big = os.path.join(tree, "big", "fifty MiB+.bin")
    write_big_file(big, 50 * MiB, seed=version)

    def cp_big():
        rx = r"PUT \S+\?(\S*&)?partNumber=\S* 200 OK [1-9]"
        n0 = len(verifier_lines(stack, rx))
        rc, out, err = aws("s3", "cp", big,
                           "s3://%s/big/fifty MiB+.bin" % bucket)
        parts = len(verifier_lines(stack, rx)) - n0
        return rc == 0 and parts >= 6, cmd_ok(rc, out, err) + \
            "\nUploadPart requests seen upstream: %d" % parts
    step("s3 cp of a 50 MiB file (multipart, 8 MiB parts)", cp_big)

    # edits and sync --delete
    changed, added, deleted = edit_tree(tree)

    def sync_delete():
        rc, out, err = aws("s3", "sync", "--delete", tree,
                           "s3://%s/" % bucket)
        dels = sum(1 for line in out.splitlines()
                   if line.startswith("delete:"))
        return rc == 0 and dels == len(deleted), cmd_ok(rc, out, err) + \
            "\ndeletes reported: %d of %d" % (dels, len(deleted))
    step("edits (%d changed, %d added, %d deleted) and s3 sync --delete" % (
        len(changed), len(added), len(deleted)), sync_delete)

    # S3 -> S3 copies
    def cp_small():
        src, dst = "a b.txt", "copies/a b (copy)+.txt"
        rc, out, err = aws("s3", "cp", "s3://%s/%s" % (bucket, src),
                           "s3://%s/%s" % (bucket, dst))
        write_file(os.path.join(tree, dst),
                   open(os.path.join(tree, src), "rb").read())
        return rc == 0, cmd_ok(rc, out, err)
    step("s3 cp S3->S3, small (CopyObject)", cp_small)

    def cp_big_s3():
        dst = "copies/fifty copy.bin"
        rx = r"PUT \S+\?(\S*&)?partNumber=\S* 200 OK 0 bytes up"
        n0 = len(verifier_lines(stack, rx))
        rc, out, err = aws("s3", "cp", "s3://%s/big/fifty MiB+.bin" % bucket,
                           "s3://%s/%s" % (bucket, dst))
        os.makedirs(os.path.join(tree, "copies"), exist_ok=True)
        shutil.copyfile(big, os.path.join(tree, dst))
        parts = len(verifier_lines(stack, rx)) - n0
        return rc == 0 and parts >= 6, cmd_ok(rc, out, err) + \
            "\nUploadPartCopy requests seen upstream: %d" % parts
    step("s3 cp S3->S3, 50 MiB (UploadPartCopy)", cp_big_s3)

    # s3 ls
    def ls_root():
        rc, out, err = aws("s3", "ls", "s3://%s/" % bucket)
        want_dirs = sorted({k.split("/")[0] + "/" for k in tree_digest(tree)
                            if "/" in k})
        want_files = sorted(k for k in tree_digest(tree) if "/" not in k)
        got_dirs, got_files = [], []
        for line in out.splitlines():
            m = re.match(r"^\s+PRE (.*)$", line)
            if m:
                got_dirs.append(m.group(1))
                continue
            parts = line.split(None, 3)
            if len(parts) == 4:
                got_files.append(parts[3])
        good = rc == 0 and sorted(got_dirs) == want_dirs and \
            sorted(got_files) == want_files
        return good, cmd_ok(rc, out, err) + "\nwant dirs %r files %r" % (
            want_dirs, want_files)
    step("s3 ls s3://bucket/ (delimiter listing)", ls_root,
         check_tree=False)

    def ls_recursive():
        rc, out, err = aws("s3", "ls", "--recursive", "s3://%s/" % bucket)
        got = {}
        for line in out.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4:
                got[parts[3]] = int(parts[2])
        want = {k: v[0] for k, v in tree_digest(tree).items()}
        diff = sorted(set(got.items()) ^ set(want.items()))[:10]
        return rc == 0 and got == want, cmd_ok(rc, out[-500:], err) + \
            "\n%d listed, %d expected; first differences %r" % (
                len(got), len(want), diff)
    step("s3 ls --recursive lists every key and size", ls_recursive,
         check_tree=False)

    # s3api head-object
    def head():
        bad = []
        for key in ["caf\u00e9.txt", "dir with space/plus+sign.txt",
                    "big/fifty MiB+.bin", "pct%.txt"]:
            rc, out, err = aws("s3api", "head-object", "--bucket", bucket,
                               "--key", key)
            size = os.path.getsize(os.path.join(tree, key))
            try:
                meta = json.loads(out)
            except ValueError:
                meta = {}
            if rc != 0 or meta.get("ContentLength") != size:
                bad.append((key, cmd_ok(rc, out, err)))
            if rc == 0 and not key.startswith("big/"):
                md5 = hashlib.md5(open(os.path.join(tree, key), "rb")
                                  .read()).hexdigest()
                if meta.get("ETag", "").strip('"') != md5:
                    bad.append((key, "ETag %r, local MD5 %s" % (
                        meta.get("ETag"), md5)))
        return not bad, "\n".join("%r: %s" % b for b in bad)
    step("s3api head-object (special keys, ContentLength, ETag)", head,
         check_tree=False)

    # ranged get-object
    def ranged():
        bad = []
        for key, a, b in [("big/fifty MiB+.bin", 1000, 9 * MiB + 4321),
                          ("big/fifty MiB+.bin", 50 * MiB - 100,
                           50 * MiB - 1),
                          ("quote'.txt", 3, 9)]:
            dest = os.path.join(out_dir, "range.out")
            if os.path.exists(dest):
                os.unlink(dest)
            rc, out, err = aws("s3api", "get-object", "--bucket", bucket,
                               "--key", key, "--range",
                               "bytes=%d-%d" % (a, b), dest)
            with open(os.path.join(tree, key), "rb") as f:
                f.seek(a)
                want = f.read(b - a + 1)
            got = open(dest, "rb").read() if os.path.exists(dest) else None
            try:
                meta = json.loads(out)
            except ValueError:
                meta = {}
            if rc != 0 or got != want or not str(
                    meta.get("ContentRange", "")).startswith(
                        "bytes %d-%d/" % (a, b)):
                bad.append((key, a, b, cmd_ok(rc, out, err),
                            None if got is None else len(got)))
        return not bad, "\n".join(repr(x) for x in bad)
    step("s3api get-object --range (big and special-key objects)", ranged,
         check_tree=False)

    # s3api delete-objects
    victims = ["plus+sign.txt", "amp&.txt", "eq=.txt", "pct%.txt",
               "\u65e5\u672c.txt", "dir with space/a b.txt",
               "dir with space/star*.txt", "copies/a b (copy)+.txt"]
    victims = [v for v in victims if os.path.exists(os.path.join(tree, v))]

    def delete_objects():
        spec = json.dumps({"Objects": [{"Key": k} for k in victims],
                           "Quiet": False}, ensure_ascii=False)
        spec_path = os.path.join(out_dir, "delete.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            f.write(spec)
        rc, out, err = aws("s3api", "delete-objects", "--bucket", bucket,
                           "--delete", "file://" + spec_path)
        for k in victims:
            remove_from_tree(tree, k)
        try:
            res = json.loads(out)
        except ValueError:
            res = {}
        deleted = sorted(d["Key"] for d in res.get("Deleted", []))
        return (rc == 0 and deleted == sorted(victims)
                and not res.get("Errors")), cmd_ok(rc, out, err)
    step("s3api delete-objects (%d keys, special characters)" % len(victims),
         delete_objects)

    # s3 rm --recursive
    def rm_recursive():
        rc, out, err = aws("s3", "rm", "--recursive", "s3://%s/" % bucket)
        shutil.rmtree(tree)
        return rc == 0, cmd_ok(rc, out[-2000:], err)
    step("s3 rm --recursive empties the bucket", rm_recursive)

    # the bucket itself: s3 rb
    def rb():
        rc, out, err = aws("s3", "rb", "s3://" + bucket)
        names = [b["Name"] for b in moto_client(stack.moto_url)
                 .list_buckets()["Buckets"]]
        return rc == 0 and bucket not in names, cmd_ok(rc, out, err)
    step("s3 rb removes the empty bucket", rb, check_tree=False)

    # a read-only client cannot write (and nothing goes upstream)
    def reader_denied():
        n0 = stack.verifier.stats()["seen"]
        rc, out, err = run_aws(version, ["s3", "mb", "s3://reader-bucket"],
                               endpoint=stack.url, log_path=aws_log,
                               timeout=t.remaining(60),
                               env={"AWS_ACCESS_KEY_ID": READER_AK,
                                    "AWS_SECRET_ACCESS_KEY": READER_SK,
                                    "AWS_MAX_ATTEMPTS": "1"})
        n1 = stack.verifier.stats()["seen"]
        return (rc != 0 and "AccessDenied" in err and n1 == n0), \
            cmd_ok(rc, out, err) + "\nupstream requests: %d" % (n1 - n0)
    step("reader key: s3 mb is AccessDenied, nothing forwarded",
         reader_denied, check_tree=False)

    # a wrong secret is refused by s3inval itself
    def wrong_secret():
        n0 = stack.verifier.stats()["seen"]
        rc, out, err = run_aws(version, ["s3", "ls"], endpoint=stack.url,
                               log_path=aws_log, timeout=t.remaining(60),
                               env={"AWS_SECRET_ACCESS_KEY": "x" * 40,
                                    "AWS_MAX_ATTEMPTS": "1"})
        n1 = stack.verifier.stats()["seen"]
        return (rc != 0 and "SignatureDoesNotMatch" in err and n1 == n0), \
            cmd_ok(rc, out, err) + "\nupstream requests: %d" % (n1 - n0)
    step("wrong client secret: SignatureDoesNotMatch, nothing forwarded",
         wrong_secret, check_tree=False)

    # invariants
    t.check("verifier: every upstream request correctly signed (seen > 0, "
            "rejected == 0)", stack.verifier_clean)
    t.check("s3inval still running", stack.proxy_alive)

    def stops():
        rc = stop(stack.s3inval)
        return rc == 0, "exit status %r after SIGTERM; log tail:\n%s" % (
            rc, tail(stack.s3inval.log_path))
    t.check("s3inval exits 0 on SIGTERM", stops)


# ---------------------------------------------------------------------------
# the CLI, hand-signed requests, raw HTTP and S3 error bodies (t01, t02)
# ---------------------------------------------------------------------------

def run_s3inval(args, env=None, stdin=None, timeout=30):
    """Run `$S3INVAL_BIN ARGS` to completion: (rc, stdout, stderr) as text.

    env: the whole environment (default clean_env(): no AWS_* or
    S3INVAL_* of the caller's); stdin: text or bytes.  A run past timeout
    is stopped and reported as rc -1."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    proc = subprocess.Popen([S3INVAL_BIN] + list(args),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env=clean_env() if env is None else env)
    p = Proc("s3inval-cli", proc, None)
    _started.append(p)
    try:
        out, err = proc.communicate(stdin or b"", timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        stop(p)
        out, err = proc.communicate()
        rc = -1
        err = (err or b"") + b"\n(timed out after %ds)" % timeout
    finally:
        stop(p)
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8",
                                                          "replace")


def _frozen_clock(when):
    """A context manager freezing botocore's signing clock at when (a
    datetime, naive UTC or aware), or doing nothing for None."""
    import contextlib
    import datetime
    from unittest import mock
    if when is None:
        return contextlib.nullcontext()
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return mock.patch("botocore.auth.get_current_datetime",
                      return_value=when)


def sign_request(method, url, body=b"", headers=None, access_key=DEPLOY_AK,
                 secret_key=DEPLOY_SK, region=REGION, when=None,
                 payload_hash=None):
    """The headers of a SigV4 header-signed S3 request, signed by botocore
    (S3SigV4Auth, as the verifier checks).

    url: the URL exactly as it goes on the wire (path already
    percent-encoded); headers: extra headers to sign; when: a datetime to
    sign at instead of now; payload_hash: the x-amz-content-sha256 value
    to sign (default: the SHA-256 of body).  Returns a dict, Host not
    included (http.client sends the URL's host:port, which is what was
    signed)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class Signer(S3SigV4Auth):
        def payload(self, request):
            if payload_hash is not None:
                return payload_hash
            return hashlib.sha256(body or b"").hexdigest()

    req = AWSRequest(method=method, url=url, data=body,
                     headers=dict(headers or {}))
    with _frozen_clock(when):
        Signer(Credentials(access_key, secret_key), "s3", region) \
            .add_auth(req)
    return {k: v for k, v in req.headers.items()}


def presign_url(method, url, expires=300, access_key=DEPLOY_AK,
                secret_key=DEPLOY_SK, region=REGION, when=None):
    """A SigV4 presigned URL for url (path already percent-encoded),
    signed by botocore with any X-Amz-Expires (boto3's
    generate_presigned_url checks nothing either, but this one also takes
    a frozen clock)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method=method, url=url)
    with _frozen_clock(when):
        S3SigV4QueryAuth(Credentials(access_key, secret_key), "s3", region,
                         expires=expires).add_auth(req)
    return req.url


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


def verifier_peer_ports(stack, request_rx):
    """The client ports (one per TCP connection into the verifier) of the
    requests the verifier logged whose request line ("METHOD TARGET")
    matches request_rx.  The verifier logs "METHOD TARGET HTTP/1.1 from
    IP:PORT" per request (--log-headers), so distinct ports are distinct
    upstream connections; the verifier itself keeps no such counter."""
    rx = re.compile(request_rx)
    line_rx = re.compile(r"^\S+ (\S+ \S+) HTTP/\d\.\d from [\d.]+:(\d+)$")
    ports = []
    for line in stack.verifier.log_lines():
        m = line_rx.match(line)
        if m and rx.search(m.group(1)):
            ports.append(int(m.group(2)))
    return ports


# ---------------------------------------------------------------------------
# the fake CloudFront (tests/fixtures/fake_cloudfront.py)
# ---------------------------------------------------------------------------

FAKE_CLOUDFRONT = os.path.join(TOP_SRCDIR, "tests", "fixtures",
                               "fake_cloudfront.py")
if not os.path.exists(FAKE_CLOUDFRONT):
    FAKE_CLOUDFRONT = os.path.join(os.path.dirname(HERE), "fixtures",
                                   "fake_cloudfront.py")


class FakeCloudFront(Proc):
    """The fake's control API (unsigned; not counted as API requests)."""

    def control(self, method, what, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        st, _, data = http_request(self.url + "/__fake/" + what, method,
                                   body=body, headers={
                                       "Content-Type": "application/json"})
        if st != 200:
            raise RuntimeError("fake_cloudfront %s %s: %d %r" % (
                method, what, st, data[:300]))
        return json.loads(data)

    def configure(self, **config):
        """POST /__fake/config: throttle_next, fail_503_next,
        complete_after_ms, access_denied, ...; returns the whole config."""
        return self.control("POST", "config", config)

    def state(self):
        return self.control("GET", "state")

    def complete(self, invalidation_id=None):
        """Complete one InProgress invalidation now (or every one)."""
        return self.control("POST", "complete", {"id": invalidation_id}
                            if invalidation_id else {})["completed"]

    def reset(self):
        return self.control("POST", "reset")


def start_fake_cloudfront(logdir, distributions=None, complete_after_ms=1000,
                          access_key=UPSTREAM_AK, secret_key=UPSTREAM_SK,
                          session_token=None, timeout=20.0):
    """fake_cloudfront.py on a free port, checking the signatures of
    access_key (default: the upstream keys s3inval signs with, see
    daemon_env()); distributions: the ids it knows (default: any).
    Its request log is logdir/fake-cloudfront-requests.log."""
    port = free_port()
    argv = [sys.executable, FAKE_CLOUDFRONT, "--port", str(port),
            "--access-key", access_key, "--secret-key", secret_key,
            "--complete-after-ms", str(int(complete_after_ms)),
            "--log", os.path.join(logdir, "fake-cloudfront-requests.log")]
    if session_token:
        argv += ["--session-token", session_token]
    for d in distributions or ():
        argv += ["--distribution", d]
    base = spawn("fake_cloudfront", argv, logdir)
    f = FakeCloudFront(base.name, base.proc, base.log_path,
                       "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = f
    wait_port(port, f, timeout)
    return f


def admin_status(admin_url):
    """GET /status of a daemon's admin listener, as a dict."""
    st, _, body = http_request(admin_url.rstrip("/") + "/status")
    if st != 200:
        raise RuntimeError("GET /status: %d %r" % (st, body[:300]))
    return json.loads(body)


def admin_flush(admin_url, wait=0):
    """POST /flush?wait=SECONDS: (HTTP status, the JSON answer or None)."""
    st, _, body = http_request(admin_url.rstrip("/") + "/flush?wait=%d"
                               % wait, "POST", body=b"",
                               timeout=wait + 30)
    try:
        return st, json.loads(body)
    except ValueError:
        return st, None


# ---------------------------------------------------------------------------
# HTTPS front and aws-chunked uploads (t10, t11)
# ---------------------------------------------------------------------------

FIXTURES = os.path.dirname(VERIFIER)


def fixture_module(name):
    """Import tests/fixtures/<name>.py (e.g. "chunked_client")."""
    if FIXTURES not in sys.path:
        sys.path.insert(0, FIXTURES)
    import importlib
    return importlib.import_module(name)


def make_tls_cert(dir, name="tls"):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost, valid
    2 days, written as dir/NAME-cert.pem and dir/NAME-key.pem: returns
    (cert, key).  Raises StartError when openssl fails."""
    cert = os.path.join(dir, name + "-cert.pem")
    key = os.path.join(dir, name + "-key.pem")
    exe = shutil.which("openssl")
    if exe is None:
        raise StartError("openssl not on PATH")
    r = subprocess.run(
        [exe, "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, timeout=60)
    if r.returncode != 0:
        raise StartError("openssl req failed: %s" % r.stderr.decode(
            "utf-8", "replace")[-2000:])
    return cert, key


def https_stack(ws, **kw):
    """A Stack whose client listener is HTTPS (server.tls_cert/tls_key =
    a fresh self-signed certificate in the log dir).  stack.url is the
    https:// URL and stack.ca_file the certificate to trust."""
    cert, key = make_tls_cert(ws.logdir)
    stack = Stack(ws, server__tls_cert=cert, server__tls_key=key, **kw)
    stack.url = "https://127.0.0.1:%d" % stack.s3inval.port
    stack.ca_file = cert
    return stack


def s3_client_tls(endpoint, ca_file, access_key=DEPLOY_AK,
                  secret_key=DEPLOY_SK, max_attempts=1, **config):
    """s3_client() for an https endpoint trusting ca_file."""
    import boto3
    from botocore.config import Config
    config.setdefault("signature_version", "s3v4")
    config.setdefault("connect_timeout", 10)
    config.setdefault("read_timeout", 60)
    cfg = Config(s3={"addressing_style": "path"},
                 retries={"max_attempts": max_attempts, "mode": "standard"},
                 **config)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, region_name=REGION, config=cfg,
        verify=ca_file)


def moto_object(moto_url, bucket, key):
    """The bytes of bucket/key as moto holds them, or None when absent."""
    c = moto_client(moto_url)
    try:
        return c.get_object(Bucket=bucket, Key=key)["Body"].read()
    except c.exceptions.NoSuchKey:
        return None


def stats_delta(before, after):
    """What the verifier counted between two stats() snapshots: the
    integer counters and the per-name dicts (payloads, trailers, ...) as
    differences, zero entries left out."""
    out = {}
    for k, v in after.items():
        if isinstance(v, int):
            out[k] = v - before.get(k, 0)
        elif isinstance(v, dict):
            d = {n: c - before.get(k, {}).get(n, 0) for n, c in v.items()}
            out[k] = {n: c for n, c in d.items() if c}
    return out


# ---------------------------------------------------------------------------
# faults and security (t14, t15): the misbehaving upstream, a CloudFront
# that goes away and comes back on the same port
# ---------------------------------------------------------------------------

BAD_UPSTREAM = os.path.join(FIXTURES, "bad_upstream.py")


class ControlAPI(Proc):
    """A fixture with a JSON control API under CONTROL_PREFIX."""

    CONTROL_PREFIX = None

    def control(self, method, what, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        st, _, data = http_request(self.url + self.CONTROL_PREFIX + what,
                                   method, body=body, headers={
                                       "Content-Type": "application/json"})
        if st != 200:
            raise RuntimeError("%s %s %s: %d %r" % (
                self.name, method, what, st, data[:300]))
        return json.loads(data)


class BadUpstream(ControlAPI):
    """tests/fixtures/bad_upstream.py: its control API."""

    CONTROL_PREFIX = "/__bad/"

    def rules(self, *rules):
        """Append rules ({"mode", "count", "match", params...})."""
        return self.control("POST", "rules", list(rules))["rules"]

    def reset(self):
        return self.control("POST", "reset")

    def requests(self):
        """Every request it saw: method, target, mode, body_read, ..."""
        return self.control("GET", "log")["requests"]


def start_bad_upstream(logdir, upstream, timeout=20.0):
    """bad_upstream.py on a free port, passing through to upstream (the
    verifier's URL) whatever it is not told to break.  Its request log is
    logdir/bad-upstream-requests.log."""
    port = free_port()
    argv = [sys.executable, BAD_UPSTREAM, "--port", str(port),
            "--upstream", upstream,
            "--log", os.path.join(logdir, "bad-upstream-requests.log")]
    base = spawn("bad_upstream", argv, logdir)
    b = BadUpstream(base.name, base.proc, base.log_path,
                    "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = b
    wait_port(port, b, timeout)
    return b


def start_fake_cloudfront_at(logdir, port, distributions=None,
                             complete_after_ms=1000, access_key=UPSTREAM_AK,
                             secret_key=UPSTREAM_SK, session_token=None,
                             name="fake_cloudfront", timeout=20.0):
    """start_fake_cloudfront() on a given port (e.g. the port of one that
    was stopped: CloudFront "coming back"); fresh state.  Binding is
    retried until timeout (the old socket may linger)."""
    argv = [sys.executable, FAKE_CLOUDFRONT, "--port", str(port),
            "--access-key", access_key, "--secret-key", secret_key,
            "--complete-after-ms", str(int(complete_after_ms)),
            "--log", os.path.join(logdir, "fake-cloudfront-requests.log")]
    if session_token:
        argv += ["--session-token", session_token]
    for d in distributions or ():
        argv += ["--distribution", d]
    deadline = time.time() + timeout
    while True:
        base = spawn(name, argv, logdir)
        f = FakeCloudFront(base.name, base.proc, base.log_path,
                           "http://127.0.0.1:%d" % port, port)
        _started[_started.index(base)] = f
        try:
            wait_port(port, f, max(1.0, deadline - time.time()))
            f.state()       # it answers: not some other process's port
            if not f.alive():
                raise StartError("fake_cloudfront exited: %s"
                                 % tail(f.log_path))
            return f
        except (StartError, RuntimeError, OSError):
            stop(f)
            if time.time() > deadline:
                raise
            time.sleep(0.3)


# ---------------------------------------------------------------------------
# the AWS credential chain (t12): fake STS / container / IMDS, a verifier
# that accepts the keys they issue, the daemon with an exact environment
# ---------------------------------------------------------------------------

FAKE_AWS_METADATA = os.path.join(FIXTURES, "fake_aws_metadata.py")


class FakeMetadata(ControlAPI):
    """tests/fixtures/fake_aws_metadata.py: its control API."""

    CONTROL_PREFIX = "/__fake/"

    def configure(self, **config):
        """POST /__fake/config: lifetime_s, fail_next, fail_status,
        delay_ms, container_token, role_arn, web_identity_token."""
        return self.control("POST", "config", config)

    def issued(self):
        """Every set issued, secrets included."""
        return self.control("GET", "issued")

    def issue(self, source="static"):
        """A new set issued directly (for profile/environment tests)."""
        return self.control("POST", "issue", {"source": source})

    def state(self):
        return self.control("GET", "state")


def start_fake_metadata(logdir, lifetime=3600, role_arn=None,
                        web_identity_token=None, container_token=None,
                        timeout=20.0):
    """fake_aws_metadata.py on a free port (STS at /, the container
    endpoint under /container/, IMDSv2 at /latest/...); its request log is
    logdir/fake-aws-metadata-requests.log."""
    port = free_port()
    argv = [sys.executable, FAKE_AWS_METADATA, "--port", str(port),
            "--lifetime", str(int(lifetime)),
            "--log", os.path.join(logdir, "fake-aws-metadata-requests.log")]
    for opt, v in (("--role-arn", role_arn),
                   ("--web-identity-token", web_identity_token),
                   ("--container-token", container_token)):
        if v is not None:
            argv += [opt, v]
    base = spawn("fake_aws_metadata", argv, logdir)
    f = FakeMetadata(base.name, base.proc, base.log_path,
                     "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = f
    wait_port(port, f, timeout)
    return f


def start_verifier_keys_from(logdir, upstream, keys_from, timeout=20.0):
    """start_verifier() that also accepts every key listed by keys_from
    (sigv4_verifier.py --keys-from; e.g. FakeMetadata.url +
    "/__fake/issued"), each with its own token until it expires."""
    port = free_port()
    request_log = os.path.join(logdir, "verifier-requests.log")
    argv = [sys.executable, VERIFIER, "--listen-port", str(port),
            "--upstream", upstream, "--access-key", UPSTREAM_AK,
            "--secret-key", UPSTREAM_SK, "--region", REGION,
            "--log", request_log, "--keys-from", keys_from]
    base = spawn("verifier", argv, logdir)
    v = Verifier(base.name, base.proc, base.log_path,
                 "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = v
    v.request_log = request_log
    wait_port(port, v, timeout)
    return v


def credential_free_env(home, extra=None):
    """An environment with no AWS credential source at all: clean_env(),
    no proxy variables, HOME=home (no ~/.aws there), the shared files
    pointed at paths that do not exist, IMDS disabled; then extra (a value
    of None removes the variable)."""
    env = {k: v for k, v in clean_env().items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy")}
    env.update({"HOME": home,
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(
                    home, "no-such-credentials"),
                "AWS_CONFIG_FILE": os.path.join(home, "no-such-config"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def start_s3inval_env(config_path, env, logdir, name="s3inval",
                      timeout=20.0):
    """start_s3inval() with exactly env as the daemon's environment (not
    daemon_env(): no upstream keys added)."""
    if not os.access(S3INVAL_BIN, os.X_OK):
        raise StartError("S3INVAL_BIN %s is missing or not executable"
                         % S3INVAL_BIN)
    cfg = read_config(config_path)
    port = int(cfg["server"]["listen"].rsplit(":", 1)[1])
    base = spawn(name, [S3INVAL_BIN, "-f", "-c", config_path], logdir,
                 dict(env))
    d = Daemon(base.name, base.proc, base.log_path,
               "http://127.0.0.1:%d" % port, port)
    _started[_started.index(base)] = d
    d.config_path = config_path
    admin = cfg["server"].get("admin_listen")
    if admin:
        d.admin_url = "http://" + admin
    wait_port(port, d, timeout)
    # The admin listener opens after the S3 one: a test that asks it
    # first must not race the daemon's start-up.
    host_port = admin.rsplit(":", 1)
    if admin and host_port[0] in ("127.0.0.1", "localhost", "0.0.0.0"):
        wait_port(int(host_port[1]), d, timeout)
    return d


def run_s3inval_to_exit(config_path, env, logdir, name="s3inval",
                        timeout=20.0):
    """Start the daemon with exactly env and wait for it to exit (a
    start-up failure): (exit status or None when it was still running
    after timeout and had to be stopped, seconds taken, its output)."""
    t0 = time.time()
    p = spawn(name, [S3INVAL_BIN, "-f", "-c", config_path], logdir,
              dict(env))
    try:
        rc = p.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        rc = None
    dt = time.time() - t0
    stop(p)
    return rc, dt, p.log_text()


# --- moto's CloudFront -------------------------------------------------------

def moto_distribution(moto_url, name):
    """A CloudFront distribution created at moto for an S3 origin `name`;
    returns (boto3 cloudfront client to moto, distribution id)."""
    import boto3
    cf = boto3.client("cloudfront", endpoint_url=moto_url,
                      aws_access_key_id="moto", aws_secret_access_key="moto",
                      region_name="us-east-1")
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": "s3itest-" + name,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "o", "DomainName": name + ".s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0, "ForwardedValues": {
                "QueryString": False, "Cookies": {"Forward": "none"}}},
        "Comment": "", "Enabled": True})["Distribution"]["Id"]
    return cf, dist


def moto_invalidated_paths(cf, dist):
    """Every path of every invalidation moto holds for dist, as a set."""
    out = set()
    for s in cf.list_invalidations(DistributionId=dist)[
            "InvalidationList"].get("Items", []):
        inv = cf.get_invalidation(DistributionId=dist, Id=s["Id"])
        out |= set(inv["Invalidation"]["InvalidationBatch"]["Paths"]
                   .get("Items", []))
    return out


# --- the expected CloudFront paths, computed independently of the C code ----

# CloudFront: RFC 1738 unsafe and non-ASCII bytes encoded, '*' and '?' too
# (Developer Guide, "Specifying the objects to invalidate").
SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
           b"$-_.+!'(),;/:@=&")


def cf_encode(path):
    return "".join(chr(b) if b in SAFE else "%%%02X" % b
                   for b in path.encode("utf-8"))


def key_paths(key, origin="", index=("index.html",)):
    if origin:
        prefix = origin.strip("/") + "/"
        if not key.startswith(prefix):
            return set()
        key = key[len(prefix):]
    p = "/" + key
    out = {cf_encode(p)}
    last = key.rsplit("/", 1)[-1]
    if last in index:
        out.add(cf_encode(p[:len(p) - len(last)]))
    return out


def keys_paths(keys, origin=""):
    out = set()
    for k in keys:
        out |= key_paths(k, origin)
    return out


# ---------------------------------------------------------------------------
# the process: detached daemons, state_dir's lock (t22, t23)
# ---------------------------------------------------------------------------

def moto_cf_config(dir, moto_url, bucket, dist, name, **overrides):
    """write_config() for a daemon in front of moto that invalidates
    bucket's writes at moto's distribution dist quickly (quiet period and
    polling 200 ms, 50 calls/s); overrides as for write_config()."""
    kw = dict(cloudfront__endpoint=moto_url,
              cloudfront__quiet_period="200ms",
              cloudfront__poll_interval="200ms",
              cloudfront__max_requests_per_second="50")
    kw.update(overrides)
    return write_config(dir, moto_url, name=name,
                        sections={"bucket " + bucket: {"distributions":
                                                       dist}}, **kw)


def read_text(path):
    """A file's text, or "" when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def pid_alive(pid):
    """True while pid runs; a zombie (a process that is not our child,
    left to an init that does not reap) counts as gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid, timeout):
    """Wait until pid is gone: True, or False after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def send_signal(pid, sig):
    """os.kill(), quiet when the process is gone already (a test then
    fails on its exit status, not on an exception).  True when sent."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def lock_pid(state_dir):
    """The PID written in state_dir/lock (its holder's), or None."""
    try:
        return int(read_text(os.path.join(state_dir, "lock")).split()[0])
    except (ValueError, IndexError):
        return None
