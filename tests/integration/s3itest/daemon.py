# SPDX-License-Identifier: Apache-2.0
"""s3inval itself: its configuration file, the daemon started and run to
exit, the CLI, the admin listener, its TLS certificate and state_dir."""

import json
import os
import shutil
import subprocess
import time

from .keys import (DEPLOY_AK, DEPLOY_SK, READER_AK, READER_SK, REGION,
                   clean_env, daemon_env)
from .layout import S3INVAL_BIN
from .procs import (Proc, StartError, free_port, read_text, run_to_end,
                    spawn, stop, wait_port)
from .rawhttp import http_request


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
        f.write("; written by s3itest.write_config()\n")
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


class Daemon(Proc):
    admin_url = None
    config_path = None


def need_binary():
    """StartError unless $S3INVAL_BIN is an executable file."""
    if not os.path.isfile(S3INVAL_BIN) or not os.access(S3INVAL_BIN,
                                                        os.X_OK):
        raise StartError("S3INVAL_BIN %s is missing or not executable"
                         % S3INVAL_BIN)


def start_s3inval(config_path, env=None, logdir=None, name="s3inval",
                  args=None, timeout=20.0, exact_env=False):
    """Run `$S3INVAL_BIN -f -c CONFIG` until its port accepts connections.

    env: extra variables over daemon_env(); with exact_env, the whole
    environment (no upstream keys added).  Raises StartError (with the
    daemon's output) when the binary is missing or exits first."""
    need_binary()
    logdir = logdir or os.path.dirname(config_path)
    cfg = read_config(config_path)
    full_env = dict(env) if exact_env else daemon_env(env)
    listen = full_env.get("S3INVAL_SERVER_LISTEN") or \
        cfg.get("server", {}).get("listen", "127.0.0.1:8080")
    admin = full_env.get("S3INVAL_SERVER_ADMIN_LISTEN") or \
        cfg.get("server", {}).get("admin_listen", "")
    port = int(listen.rsplit(":", 1)[1])
    argv = [S3INVAL_BIN, "-f", "-c", config_path] + list(args or [])
    d = spawn(name, argv, logdir, full_env, Daemon, port)
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


def start_s3inval_env(config_path, env, logdir, name="s3inval",
                      timeout=20.0):
    """start_s3inval() with exactly env as the daemon's environment (not
    daemon_env(): no upstream keys added)."""
    return start_s3inval(config_path, env, logdir, name, timeout=timeout,
                         exact_env=True)


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


def run_s3inval(args, env=None, stdin=None, timeout=30):
    """Run `$S3INVAL_BIN ARGS` to completion: (rc, stdout, stderr) as text.

    env: the whole environment (default clean_env(): no AWS_* or
    S3INVAL_* of the caller's); stdin: text or bytes.  A run past timeout
    is stopped and reported as rc -1."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    rc, out, err = run_to_end("s3inval-cli", [S3INVAL_BIN] + list(args),
                              clean_env() if env is None else env, stdin,
                              timeout)
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8",
                                                          "replace")


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


def lock_pid(state_dir):
    """The PID written in state_dir/lock (its holder's), or None."""
    try:
        return int(read_text(os.path.join(state_dir, "lock")).split()[0])
    except (ValueError, IndexError):
        return None
