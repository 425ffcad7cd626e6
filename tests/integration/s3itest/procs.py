# SPDX-License-Identifier: Apache-2.0
"""Processes and ports.

Every process started here is stopped by PID (SIGTERM, then SIGKILL after
5 s): by the script, by Workspace.finish(), at exit, and on SIGTERM,
SIGINT or SIGHUP to the script itself."""

import atexit
import os
import signal
import socket
import subprocess
import sys
import time

_started = []          # every Proc still to stop, in start order
_cleanups = []         # what else goes at exit or on a signal (on_exit)


class StartError(Exception):
    """A server did not come up; str() says why (with its log's tail)."""


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_text(path):
    """A file's text, or "" when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


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
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        try:
            os.kill(proc.pid, sig)
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


def stop_all():
    for p in reversed(list(_started)):
        stop(p)


def on_exit(fn):
    """Call fn() at exit and on a fatal signal, after stop_all()."""
    _cleanups.append(fn)


def _at_exit():
    stop_all()
    for fn in _cleanups:
        fn()


def _on_signal(signum, frame):
    _at_exit()
    print("Bail out! killed by signal %d" % signum)
    sys.stdout.flush()
    os._exit(128 + signum)


atexit.register(_at_exit)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def spawn(name, argv, logdir, env=None, cls=Proc, url_port=None):
    """Start argv with stdout+stderr to logdir/name.log; registered.

    cls: the Proc subclass to return; url_port: the port it will serve
    on 127.0.0.1 (sets .url and .port)."""
    log_path = os.path.join(logdir, name + ".log")
    logf = open(log_path, "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, env=env,
                                close_fds=True)
    finally:
        logf.close()
    p = cls(name, proc, log_path)
    if url_port is not None:
        p.url, p.port = "http://127.0.0.1:%d" % url_port, url_port
    _started.append(p)
    return p


def run_to_end(name, argv, env=None, stdin=b"", timeout=30, cwd=None):
    """Run argv to completion, output captured: (rc, stdout, stderr) as
    bytes.  A signal to the script stops it too; a run past timeout is
    stopped and reported as rc -1."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd)
    p = Proc(name, proc, None)
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
    return rc, out, err


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
