# SPDX-License-Identifier: Apache-2.0
"""aws-cli: v1 (`aws` on PATH, from pip) and v2 (/usr/bin/aws, Debian),
found, versioned and run with the client keys."""

import os
import re
import time

from .keys import DEPLOY_AK, DEPLOY_SK, REGION, clean_env
from .procs import StartError, run_to_end

_aws_cache = {}


def _aws_version(path):
    env = clean_env({"AWS_CONFIG_FILE": "/dev/null",
                     "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    try:
        rc, out, err = run_to_end("aws --version", [path, "--version"],
                                  env, timeout=60)
    except OSError:
        return ""
    if rc == -1:
        return ""
    return (out + err).decode("utf-8", "replace").strip()


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
    rc, out, err = run_to_end("aws", argv, aws_env(extra=env),
                              timeout=timeout, cwd=cwd)
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
