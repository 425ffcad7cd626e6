#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t12_credentials: s3inval's own AWS credentials, from each source of the
chain, and their refresh before expiry.

    boto3 --client keys--> s3inval --keys of the source--> sigv4_verifier
        --keys-from fake_aws_metadata /__fake/issued --> moto_server

For each source, s3inval starts with ONLY that source in its environment
(no AWS_* of ours, HOME without ~/.aws, the shared files pointed at missing
paths, IMDS disabled unless it is the source), objects are put and read
back through it, and the verifier must have verified them with the keys of
that source (the fixed upstream key, or keys fake_aws_metadata.py issued):
environment; shared credentials file (AWS_PROFILE, a 1,100-character
session token); config file ([profile NAME]); web identity (STS
AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS); container FULL_URI with
AWS_CONTAINER_AUTHORIZATION_TOKEN and with _TOKEN_FILE; IMDSv2 at
AWS_EC2_METADATA_SERVICE_ENDPOINT.  RELATIVE_URI cannot be faked on
loopback (its host is fixed, 169.254.170.2); it shares the FULL_URI code
path (the same fetch, only the URL differs) and its selection is covered by
tests/unit/test_credentials.c.

Start-up failures: a wrong container token, a plain-http FULL_URI to a
non-loopback host, IMDS disabled by AWS_EC2_METADATA_DISABLED=true, and no
source at all (IMDS on a closed port) each make the daemon exit non-zero at
start with a clear message, quickly.

Refresh: fake_aws_metadata issues sets that live 20 s; three daemons (web
identity, container, IMDS) serve a stream of PUTs and GETs for 32 s while
their sets are refreshed in the background (10 s before expiry), one
refresh round failing first (fail_sources: once per service).  Every
request succeeds, each daemon was verified with at least three different
access key ids, no request took 2 s or more (the refresh never blocks a
request), and the verifier (which refuses an expired key with
ExpiredToken) rejected nothing.  When every refresh fails, a set that
expired is no longer used: requests fail in s3inval (none goes upstream),
and succeed again within seconds of the service coming back.  No secret,
token or Authorization value appears in any daemon log.  TAP; exit status
as t05.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hashlib
    import re
    import threading
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t12_credentials"
BUCKET = "s3inval-it-credentials"
ROLE_ARN = "arn:aws:iam::123456789012:role/s3inval-t12"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0MTIifQ.t12-web-identity-sig"
CTOKEN = "Bearer t12-container-token-0123456789abcdef"
WRONG_CTOKEN = "Bearer t12-wrong-token-fedcba9876543210"
LIFETIME = 20           # seconds, for the refresh phase
STREAM_S = 32           # seconds of traffic: three refreshes each


class Env:
    """moto, fake_aws_metadata, the verifier accepting the fake's keys."""

    def __init__(self, ws):
        self.ws = ws
        self.moto, self.moto_url = s3itest.start_moto(ws.logdir)
        self.fake = s3itest.start_fake_metadata(
            ws.logdir, lifetime=3600, role_arn=ROLE_ARN,
            web_identity_token=WEB_TOKEN, container_token=CTOKEN)
        self.verifier = s3itest.start_verifier_keys_from(
            ws.logdir, self.moto_url, self.fake.url + "/__fake/issued")
        s3itest.moto_client(self.moto_url).create_bucket(Bucket=BUCKET)
        self.home = ws.scratch_path("home")
        os.makedirs(self.home)
        self.daemons = []       # every daemon started, for the log checks
        self.logs = []          # and every start-up failure's output

    def write(self, name, text):
        path = self.ws.scratch_path(name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def config(self, label):
        return s3itest.write_config(
            self.ws.logdir, self.verifier.url, name=label + ".conf",
            state_dir=self.ws.path(label + "-state"))

    def env(self, extra):
        return s3itest.credential_free_env(self.home, extra)

    def start(self, label, extra):
        d = s3itest.start_s3inval_env(self.config(label), self.env(extra),
                                      self.ws.logdir, name="s3inval-" +
                                      label)
        self.daemons.append(d)
        return d

    def start_fails(self, label, extra, timeout=15):
        rc, dt, out = s3itest.run_s3inval_to_exit(
            self.config(label), self.env(extra), self.ws.logdir,
            name="s3inval-" + label, timeout=timeout)
        self.logs.append(out)
        return rc, dt, out

    def keys_used(self, before):
        """{access key id: requests} the verifier accepted since before
        (a stats() snapshot)."""
        after = self.verifier.stats()["access_keys"]
        return {k: n - before.get(k, 0) for k, n in after.items()
                if n - before.get(k, 0) > 0}

    def issued_by(self, source):
        return {c["AccessKeyId"] for c in self.fake.issued()
                if c["source"] == source}

    def fake_requests(self, since):
        return [r for r in self.fake.state()["requests"] if r["t"] >= since]


def exercise(d, label, n=3):
    """Put n objects through d and read them back: (ok, diag)."""
    s3 = s3itest.s3_client(d.url)
    bad = []
    for i in range(n):
        body = hashlib.sha256(("%s-%d" % (label, i)).encode()).digest() * \
            (4 ** i * 32)
        key = "%s/object-%d" % (label, i)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if got != body:
            bad.append((key, len(body), len(got)))
    listed = [o["Key"] for o in s3.list_objects_v2(
        Bucket=BUCKET, Prefix=label + "/").get("Contents", [])]
    return not bad and len(listed) == n, "bad %r listed %r" % (bad, listed)


def source_case(t, env, desc, label, extra, want_keys, log_rx):
    """Start s3inval with only extra as its source; put/get through it;
    the verifier must have seen only want_keys() (called after); the log
    must match log_rx; SIGTERM exits 0."""
    def fn():
        before = env.verifier.stats()["access_keys"]
        d = env.start(label, extra)
        good, diag = exercise(d, label)
        used = env.keys_used(before)
        want = want_keys()
        log = d.log_text()
        rc = s3itest.stop(d)
        return (good and used and set(used) <= want
                and re.search(log_rx, log) is not None and rc == 0), (
                    "%s\nkeys used %r, expected among %r\nexit %r\n"
                    "log:\n%s" % (diag, used, sorted(want), rc,
                                  s3itest.tail(d.log_path, 15)))
    return t.case(desc, fn)


def run(t, ws):
    env = Env(ws)
    fake = env.fake

    # --- one source at a time ----------------------------------------

    source_case(t, env, "environment: AWS_ACCESS_KEY_ID/SECRET signs the "
                "upstream requests", "env",
                {"AWS_ACCESS_KEY_ID": s3itest.UPSTREAM_AK,
                 "AWS_SECRET_ACCESS_KEY": s3itest.UPSTREAM_SK},
                lambda: {s3itest.UPSTREAM_AK},
                r"credentials: using environment: key \.\.\.")

    prof = fake.issue("profile")
    cred_file = env.write("credentials", (
        "# t12: the default profile must not be used\n"
        "[default]\naws_access_key_id = AKIDNOTTHEDEFAULT\n"
        "aws_secret_access_key = notTheDefaultSecret\n\n"
        "[t12-prof]\naws_access_key_id = %s\n"
        "aws_secret_access_key = %s\naws_session_token = %s\n" % (
            prof["AccessKeyId"], prof["SecretAccessKey"], prof["Token"])))
    source_case(t, env, "shared credentials file, AWS_PROFILE, a %d-"
                "character session token" % len(prof["Token"]), "profile",
                {"AWS_SHARED_CREDENTIALS_FILE": cred_file,
                 "AWS_PROFILE": "t12-prof"},
                lambda: {prof["AccessKeyId"]},
                r"credentials: using profile t12-prof: .* with a session "
                r"token")

    cprof = fake.issue("profile-config")
    conf_file = env.write("config", (
        "[default]\nregion = us-east-1\n\n"
        "[profile   t12-cfg]\nregion = us-east-1\n"
        "s3 =\n  max_concurrent_requests = 4\n"
        "aws_access_key_id=%s\r\naws_secret_access_key=%s\r\n"
        "aws_session_token=%s\r\n" % (
            cprof["AccessKeyId"], cprof["SecretAccessKey"],
            cprof["Token"])))
    source_case(t, env, "config file [profile NAME] (CRLF, nested block)",
                "config", {"AWS_CONFIG_FILE": conf_file,
                           "AWS_PROFILE": "t12-cfg"},
                lambda: {cprof["AccessKeyId"]},
                r"credentials: using profile t12-cfg")

    wi_file = env.write("web-identity-token", WEB_TOKEN + "\n")
    wi_env = {"AWS_WEB_IDENTITY_TOKEN_FILE": wi_file,
              "AWS_ROLE_ARN": ROLE_ARN,
              "AWS_ROLE_SESSION_NAME": "s3inval-t12",
              "AWS_ENDPOINT_URL_STS": fake.url}
    t0 = time.time()
    ok = source_case(t, env, "web identity: STS AssumeRoleWithWebIdentity "
                     "(unsigned, token file, role ARN, session name)",
                     "sts", wi_env, lambda: env.issued_by("sts"),
                     r"credentials: using web identity \(%s\): .* expires "
                     % re.escape(ROLE_ARN))
    if ok:
        sts = [r for r in env.fake_requests(t0) if r["endpoint"] == "sts"]
        if not sts or sts[0]["status"] != 200:
            t.diag("STS requests: %r" % sts)

    container_url = fake.url + "/container/v2/credentials/t12-task"
    source_case(t, env, "container FULL_URI with "
                "AWS_CONTAINER_AUTHORIZATION_TOKEN", "container",
                {"AWS_CONTAINER_CREDENTIALS_FULL_URI": container_url,
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN": CTOKEN},
                lambda: env.issued_by("container"),
                r"credentials: using container http://127\.0\.0\.1:\d+/"
                r"container/v2/credentials/t12-task")

    ctoken_file = env.write("container-token", CTOKEN + "\n")
    source_case(t, env, "container FULL_URI with "
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "container-file",
                {"AWS_CONTAINER_CREDENTIALS_FULL_URI": container_url,
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": ctoken_file},
                lambda: env.issued_by("container"),
                r"credentials: using container ")

    def imds():
        t1 = time.time()
        before = env.verifier.stats()["access_keys"]
        d = env.start("imds", {
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url})
        good, diag = exercise(d, "imds")
        used = env.keys_used(before)
        reqs = [r for r in env.fake_requests(t1)
                if r["endpoint"].startswith("imds")]
        rc = s3itest.stop(d)
        order = [(r["method"], r["endpoint"], r["status"]) for r in reqs]
        return (good and used and set(used) <= env.issued_by("imds")
                and order[:3] == [("PUT", "imds-token", 200),
                                  ("GET", "imds-role", 200),
                                  ("GET", "imds-creds", 200)]
                and all(r["status"] != 401 for r in reqs)
                and rc == 0), "%s\nused %r\nIMDS requests %r\nlog:\n%s" % (
                    diag, used, order, s3itest.tail(d.log_path, 10))
    t.case("IMDSv2: token PUT first, then role and credentials with the "
           "token; never a token-less GET", imds)

    # --- start-up failures ---------------------------------------------

    def wrong_token():
        rc, dt, out = env.start_fails("container-wrong", {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": container_url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": WRONG_CTOKEN})
        return (rc not in (None, 0) and "HTTP 403" in out
                and "container" in out and "wrong-token" not in out
                and dt < 10), "exit %r after %.1fs:\n%s" % (rc, dt, out)
    t.case("container endpoint refuses the token: exit non-zero at start, "
           "HTTP 403 named, token not printed", wrong_token)

    def not_loopback():
        n0 = fake.state()["counts"].get("container", 0)
        rc, dt, out = env.start_fails("container-remote", {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI":
                "http://192.0.2.10:8080/container/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": CTOKEN})
        n1 = fake.state()["counts"].get("container", 0)
        return (rc not in (None, 0) and "loopback" in out and dt < 5
                and n1 == n0 and CTOKEN not in out), \
            "exit %r after %.1fs:\n%s" % (rc, dt, out)
    t.case("plain-http FULL_URI to a non-loopback host refused at start "
           "(no request made)", not_loopback)

    def imds_disabled():
        n0 = fake.state()["counts"].get("imds-token", 0)
        rc, dt, out = env.start_fails("imds-disabled", {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url})
        n1 = fake.state()["counts"].get("imds-token", 0)
        return (rc not in (None, 0) and n1 == n0
                and "no AWS credentials found" in out
                and "AWS_EC2_METADATA_DISABLED" in out and dt < 5), \
            "exit %r after %.1fs, IMDS token requests %d:\n%s" % (
                rc, dt, n1 - n0, out)
    t.case("AWS_EC2_METADATA_DISABLED=true: IMDS never asked, exit "
           "non-zero with the sources tried", imds_disabled)

    def no_source():
        closed = s3itest.free_port()
        rc, dt, out = env.start_fails("no-source", {
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT":
                "http://127.0.0.1:%d" % closed})
        return (rc not in (None, 0) and "no AWS credentials found" in out
                and "AWS_ACCESS_KEY_ID" in out and "IMDS" in out
                and dt < 5), "exit %r after %.1fs:\n%s" % (rc, dt, out)
    t.case("no source at all: exit non-zero within 5 s, naming what was "
           "tried", no_source)

    # --- refresh under traffic -----------------------------------------

    fake.configure(lifetime_s=LIFETIME)
    refresh = {}
    specs = [("rot-sts", "sts", wi_env),
             ("rot-container", "container",
              {"AWS_CONTAINER_CREDENTIALS_FULL_URI": container_url,
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": CTOKEN}),
             ("rot-imds", "imds",
              {"AWS_EC2_METADATA_DISABLED": None,
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url})]

    def start_rotating():
        for label, source, extra in specs:
            d = env.start(label, extra)
            s3 = s3itest.s3_client(d.url)
            s3.put_object(Bucket=BUCKET, Key=label + "/warm-up", Body=b"w")
            refresh[label] = {"daemon": d, "source": source, "s3": s3,
                              "lat": [], "errors": [], "n": 0}
        return True
    started = t.case("three daemons with 20-second credentials (web "
                     "identity, container, IMDS)", start_rotating)

    def stream(label):
        r = refresh[label]
        s3 = r["s3"]
        deadline = time.time() + STREAM_S
        i = 0
        while time.time() < deadline:
            body = (b"%s %06d " % (label.encode(), i)) * 2000
            key = "%s/stream-%d" % (label, i % 20)
            for op in ("put", "get"):
                a = time.time()
                try:
                    if op == "put":
                        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                    else:
                        got = s3.get_object(Bucket=BUCKET,
                                            Key=key)["Body"].read()
                        if got != body:
                            raise RuntimeError("read back %d bytes, want "
                                               "%d" % (len(got), len(body)))
                except Exception as e:  # recorded, checked below
                    r["errors"].append("%s %s: %r" % (op, key, e))
                r["lat"].append(time.time() - a)
                r["n"] += 1
            i += 1
            time.sleep(0.05)

    before = env.verifier.stats()["access_keys"]
    if started:
        threads = [threading.Thread(target=stream, args=(label,),
                                    daemon=True) for label in refresh]
        for th in threads:
            th.start()
        # After the first refresh round (~10 s), make the next one fail
        # once per daemon (per service): the retry (1 s backoff) must
        # succeed while the old set, valid 10 s more, keeps serving.
        time.sleep(13)
        fake.configure(fail_sources={r["source"]: 1
                                     for r in refresh.values()})
        for th in threads:
            th.join(STREAM_S + 30)
    used = env.keys_used(before)
    issued = {c["AccessKeyId"]: c["source"] for c in fake.issued()}

    def rotation(label):
        def fn():
            r = refresh[label]
            mine = sorted(k for k in used if issued.get(k) == r["source"])
            log = r["daemon"].log_text()
            refreshed = len(re.findall(r"credentials: refreshed from ", log))
            worst = max(r["lat"]) if r["lat"] else None
            return (not r["errors"] and r["n"] >= 40 and len(mine) >= 3
                    and refreshed >= 2 and worst is not None
                    # A request waiting on a refresh would take the
                    # fetch's timeout; 5 s leaves room for a loaded
                    # machine under sanitizers (2 s was seen at 2.05).
                    and worst < 5.0), (
                        "%d requests, errors %r\nworst latency %s s\n"
                        "keys used %r\nrefreshes logged %d\nlog tail:\n%s"
                        % (r["n"], r["errors"][:5], worst, mine, refreshed,
                           s3itest.tail(r["daemon"].log_path, 12)))
        return fn
    for label, source, _ in specs:
        if label in refresh:
            t.case("%s: %d s of PUT/GET across refreshes: all succeed, "
                   ">= 3 key ids, no request >= 5 s" % (source, STREAM_S),
                   rotation(label))
        else:
            t.ok(False, "%s: refresh under traffic" % source,
                 "the daemon did not start")

    def failed_refresh_kept():
        logs = {label: r["daemon"].log_text() for label, r in
                refresh.items()}
        failed = {label: bool(re.search(
            r"credentials: refresh from .* failed \(.*HTTP 500.*\); "
            r"keeping the current set .* retry 1 in 1s", log))
            for label, log in logs.items()}
        return (refresh and all(failed.values())
                and not any(r["errors"] for r in refresh.values())), \
            "failure logged and retried per daemon: %r" % failed
    t.case("a failed refresh keeps the current set and is retried with "
           "backoff (requests unaffected)", failed_refresh_kept)

    def stops():
        out = []
        for label, r in refresh.items():
            a = time.time()
            rc = s3itest.stop(r["daemon"])
            out.append((label, rc, round(time.time() - a, 2)))
        return (out and all(rc == 0 and dt < 3 for _, rc, dt in out)), out
    t.case("SIGTERM: each exits 0 within 3 s (the refresher stops at once)",
           stops)

    # --- expiry: no refresh succeeds ---------------------------------------

    def expiry():
        """Sets of 6 s, every refresh failing: requests succeed while the
        set is valid, then fail in s3inval (never sent upstream with an
        expired key: the verifier would refuse it), and succeed again
        soon after the service recovers."""
        fake.configure(lifetime_s=6)
        s3 = None
        try:
            d = env.start("expiry", {
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": container_url,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": CTOKEN})
            fake.configure(fail_sources={"container": 1000})
            s3 = s3itest.s3_client(d.url)
            seen0 = env.verifier.stats()["seen"]

            def put(i):
                try:
                    s3.put_object(Bucket=BUCKET, Key="expiry/%d" % i,
                                  Body=b"e")
                    return 200
                except Exception as e:  # botocore ClientError
                    return getattr(e, "response", {}).get(
                        "ResponseMetadata", {}).get("HTTPStatusCode", -1)
            before = put(0)
            time.sleep(7.5)         # the set has expired
            during = [put(i) for i in (1, 2)]
            seen1 = env.verifier.stats()["seen"]
            fake.configure(fail_sources={"container": 0})
            t1 = time.time()
            after = None
            while time.time() - t1 < 12:
                after = put(3)
                if after == 200:
                    break
                time.sleep(0.5)
            recovered = time.time() - t1
            log = d.log_text()
            rc = s3itest.stop(d)
            return (before == 200 and all(s >= 500 for s in during)
                    and seen1 == seen0 + 1 and after == 200
                    and recovered < 8 and rc == 0
                    and re.search(r"error credentials: the set from "
                                  r"container .* expired at ", log)), (
                "before %r during %r after %r in %.1fs; upstream requests "
                "while expired: %d; exit %r\nlog:\n%s" % (
                    before, during, after, recovered, seen1 - seen0 - 1,
                    rc, s3itest.tail(d.log_path, 12)))
        finally:
            fake.configure(fail_sources={"container": 0}, lifetime_s=3600)
    t.case("expired set, refresh failing: requests fail in s3inval (none "
           "sent with the expired key), then recover", expiry)

    # --- invariants -----------------------------------------------------

    def verifier_clean():
        s = env.verifier.stats()
        return (s["seen"] > 0 and s["rejected"] == 0), \
            "seen %d rejected %d: %r" % (s["seen"], s["rejected"],
                                         s["last_rejects"][:5])
    t.check("verifier: every upstream request signed with a valid, "
            "unexpired key (rejected == 0)", verifier_clean)

    def no_secrets():
        texts = [d.log_text() for d in env.daemons] + env.logs
        secrets = [s3itest.UPSTREAM_SK, WEB_TOKEN, CTOKEN, WRONG_CTOKEN,
                   CTOKEN.split()[1], WRONG_CTOKEN.split()[1]]
        for c in fake.issued():
            secrets += [c["SecretAccessKey"], c["Token"], c["Token"][:24],
                        c["Token"][-24:]]
        leaks = sorted({s[:6] + "..." for s in secrets for text in texts
                        if s in text})
        auth = [line for text in texts for line in text.splitlines()
                if "authorization" in line.lower()
                or "x-amz-security-token" in line.lower()]
        return (len(texts) >= 10 and not leaks and not auth), \
            "%d logs; leaked %r; lines %r" % (len(texts), leaks, auth[:5])
    t.check("no secret, session token, web identity or container token, "
            "nor Authorization value in any daemon log", no_secrets)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=150))
