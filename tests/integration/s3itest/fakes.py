# SPDX-License-Identifier: Apache-2.0
"""The fixtures of tests/fixtures started as processes, and their control
APIs: the SigV4 verifier in front of moto, the misbehaving upstream, the
fake CloudFront and the fake AWS credential services."""

import os
import re
import sys
import time

from .keys import REGION, UPSTREAM_AK, UPSTREAM_SK
from .layout import BAD_UPSTREAM, FAKE_AWS_METADATA, FAKE_CLOUDFRONT, VERIFIER
from .procs import Proc, StartError, free_port, spawn, stop, tail, wait_port
from .rawhttp import json_request


class ControlAPI(Proc):
    """A fixture with a JSON control API under CONTROL_PREFIX (unsigned;
    not counted as API requests)."""

    CONTROL_PREFIX = None

    def control(self, method, what, payload=None):
        st, doc = json_request(self.url + self.CONTROL_PREFIX + what, method,
                               payload)
        if st != 200:
            raise RuntimeError("%s %s %s: %d %r" % (
                self.name, method, what, st, doc))
        return doc


def start_fixture(cls, name, script, args, logdir, port=None, timeout=20.0):
    """tests/fixtures/SCRIPT as a process of class cls on port (default:
    a free one): `python3 SCRIPT --port PORT ARGS...` (the verifier's
    option is --listen-port), its output to logdir/NAME.log; returns it
    once the port accepts connections."""
    port = port or free_port()
    opt = "--listen-port" if script == VERIFIER else "--port"
    argv = [sys.executable, script, opt, str(port)] + list(args)
    p = spawn(name, argv, logdir, None, cls, port)
    wait_port(port, p, timeout)
    return p


# --- the SigV4 verifier in front of moto ------------------------------------

class Verifier(ControlAPI):
    """tests/fixtures/sigv4_verifier.py: its admin API and request log."""

    CONTROL_PREFIX = "/__verifier/"
    request_log = None

    def stats(self):
        return self.control("GET", "stats")

    def reset(self):
        return self.control("POST", "reset")

    def log_lines(self):
        try:
            with open(self.request_log, encoding="utf-8",
                      errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []


def start_verifier(logdir, upstream, access_key=UPSTREAM_AK,
                   secret_key=UPSTREAM_SK, region=REGION, session_token=None,
                   keys_from=None, timeout=20.0):
    """The SigV4 verifier in front of upstream (moto's URL), checking the
    signatures of access_key (default: the upstream keys s3inval signs
    with); keys_from: see start_verifier_keys_from().  Its request log
    (with each request's headers, unless keys_from) is
    logdir/verifier-requests.log."""
    request_log = os.path.join(logdir, "verifier-requests.log")
    args = ["--upstream", upstream, "--access-key", access_key,
            "--secret-key", secret_key, "--region", region,
            "--log", request_log]
    args += ["--keys-from", keys_from] if keys_from else ["--log-headers"]
    if session_token:
        args += ["--session-token", session_token]
    v = start_fixture(Verifier, "verifier", VERIFIER, args, logdir,
                      timeout=timeout)
    v.request_log = request_log
    return v


def start_verifier_keys_from(logdir, upstream, keys_from, timeout=20.0):
    """start_verifier() that also accepts every key listed by keys_from
    (sigv4_verifier.py --keys-from; e.g. FakeMetadata.url +
    "/__fake/issued"), each with its own token until it expires."""
    return start_verifier(logdir, upstream, keys_from=keys_from,
                          timeout=timeout)


def verifier_lines(stack, pattern):
    """The verifier's request-log lines matching the regex pattern."""
    rx = re.compile(pattern)
    return [line for line in stack.verifier.log_lines() if rx.search(line)]


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


# --- the misbehaving upstream -----------------------------------------------

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
    return start_fixture(BadUpstream, "bad_upstream", BAD_UPSTREAM, [
        "--upstream", upstream,
        "--log", os.path.join(logdir, "bad-upstream-requests.log")],
        logdir, timeout=timeout)


# --- the fake CloudFront ----------------------------------------------------

class FakeCloudFront(ControlAPI):
    """tests/fixtures/fake_cloudfront.py: its control API."""

    CONTROL_PREFIX = "/__fake/"

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


def _fake_cloudfront_args(logdir, distributions, complete_after_ms,
                          access_key, secret_key, session_token):
    args = ["--access-key", access_key, "--secret-key", secret_key,
            "--complete-after-ms", str(int(complete_after_ms)),
            "--log", os.path.join(logdir, "fake-cloudfront-requests.log")]
    if session_token:
        args += ["--session-token", session_token]
    for d in distributions or ():
        args += ["--distribution", d]
    return args


def start_fake_cloudfront(logdir, distributions=None, complete_after_ms=1000,
                          access_key=UPSTREAM_AK, secret_key=UPSTREAM_SK,
                          session_token=None, timeout=20.0):
    """fake_cloudfront.py on a free port, checking the signatures of
    access_key (default: the upstream keys s3inval signs with, see
    daemon_env()); distributions: the ids it knows (default: any).
    Its request log is logdir/fake-cloudfront-requests.log."""
    return start_fixture(FakeCloudFront, "fake_cloudfront", FAKE_CLOUDFRONT,
                         _fake_cloudfront_args(
                             logdir, distributions, complete_after_ms,
                             access_key, secret_key, session_token),
                         logdir, timeout=timeout)


def start_fake_cloudfront_at(logdir, port, distributions=None,
                             complete_after_ms=1000, access_key=UPSTREAM_AK,
                             secret_key=UPSTREAM_SK, session_token=None,
                             name="fake_cloudfront", timeout=20.0):
    """start_fake_cloudfront() on a given port (e.g. the port of one that
    was stopped: CloudFront "coming back"); fresh state.  Binding is
    retried until timeout (the old socket may linger)."""
    args = _fake_cloudfront_args(logdir, distributions, complete_after_ms,
                                 access_key, secret_key, session_token)
    deadline = time.time() + timeout
    while True:
        f = None
        try:
            f = start_fixture(FakeCloudFront, name, FAKE_CLOUDFRONT, args,
                              logdir, port,
                              max(1.0, deadline - time.time()))
            f.state()       # it answers: not some other process's port
            if not f.alive():
                raise StartError("fake_cloudfront exited: %s"
                                 % tail(f.log_path))
            return f
        except (StartError, RuntimeError, OSError):
            if f is not None:
                stop(f)
            if time.time() > deadline:
                raise
            time.sleep(0.3)


# --- the AWS credential services: STS, container, IMDS ----------------------

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
    args = ["--lifetime", str(int(lifetime)),
            "--log", os.path.join(logdir, "fake-aws-metadata-requests.log")]
    for opt, v in (("--role-arn", role_arn),
                   ("--web-identity-token", web_identity_token),
                   ("--container-token", container_token)):
        if v is not None:
            args += [opt, v]
    return start_fixture(FakeMetadata, "fake_aws_metadata",
                         FAKE_AWS_METADATA, args, logdir, timeout=timeout)
