#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t26_container: docker/Dockerfile built and run for real, with podman.

No Docker engine and no image registry are reachable where CI runs, but
Debian's mirror is: `docker/build-steps.sh podman-base` makes the base the
Dockerfile names (debian:12.N-slim) with debootstrap and imports it under
that name (cached in /var/tmp/s3inval-base), then podman builds the
unchanged Dockerfile (`--isolation=chroot --format docker --pull=never`)
and runs the image (runc, cgroupfs, host network: the container reaches
moto and the SigV4 verifier on 127.0.0.1).

Checked: the image's metadata (HEALTHCHECK kept, uid 10001, no S3INVAL_*
ENV, ENTRYPOINT s3inval with CMD -f); `IMAGE --version`, `IMAGE
check-config` (the image's defaults file, then with S3INVAL_* variables
only), `IMAGE plan`; a daemon configured by a mounted file whose listen
wins over the image's defaults, running as uid 10001; aws-cli syncs a site
through it into moto; `podman exec ... s3inval flush --wait` submits the
invalidation of every path; `podman healthcheck run` passes; `podman stop`
(SIGTERM) ends it with status 0 and the stop lines in its log.

Run by scripts/test.sh's container lane (not by make check's default
list: it needs root, podman and a few minutes).  Needs root, podman, runc,
debootstrap (scripts/deps.sh installs them), moto, boto3 and aws-cli.
S3INVAL_KEEP_LOGS=1 also keeps the image.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import resource
    import shutil
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t26_container"
SRC = s3itest.TOP_SRCDIR
STEPS = os.path.join(SRC, "docker", "build-steps.sh")
IMAGE = "localhost/s3inval:t26"
CONTAINER = "s3inval-t26"
BUCKET = "site-t26"
# runc on cgroupfs: this machine has no systemd for podman to talk to.
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
CONF_IN_IMAGE = "/etc/s3inval/s3inval.conf"


def run_cmd(argv, timeout=60, stdin=None, log=None):
    """(rc, stdout, stderr) as text, rc -1 on a time-out.  With log, the
    output goes to that file as it comes (a build takes minutes), after
    the command line, and comes back as stdout."""
    t0 = time.time()
    rc, out, err, start = -1, b"", b"", 0
    logf = open(log, "ab") if log else None
    try:
        if logf:
            logf.write(("$ %s\n" % " ".join(argv)).encode())
            logf.flush()
            start = logf.tell()
        r = subprocess.run(argv, timeout=timeout, input=stdin,
                           env=s3itest.clean_env(),
                           stdout=logf or subprocess.PIPE,
                           stderr=subprocess.STDOUT if logf
                           else subprocess.PIPE,
                           stdin=None if stdin is not None
                           else subprocess.DEVNULL)
        rc, out, err = r.returncode, r.stdout or b"", r.stderr or b""
    except subprocess.TimeoutExpired as e:
        rc, out, err = -1, e.stdout or b"", (e.stderr or b"") + \
            b"\n(timed out after %ds)" % timeout
    finally:
        if logf:
            logf.write(("# rc=%d in %.1fs\n" % (
                rc, time.time() - t0)).encode())
            logf.close()
    if log:
        with open(log, "rb") as f:
            f.seek(start)
            out = f.read()
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8",
                                                          "replace")


def show(rc, out, err, n=3000):
    return "rc=%r\nstdout:\n%s\nstderr:\n%s" % (rc, out[-n:], err[-n:])


def podman(*args, **kw):
    return run_cmd(PODMAN + list(args), **kw)


def run_flags():
    """What `podman run` needs here beyond the defaults: podman asks for
    RLIMIT_NOFILE and RLIMIT_NPROC above this VM's hard limits, which runc
    cannot raise (no CAP_SYS_RESOURCE), so ask for what there is; and no
    healthcheck timer (podman makes those with systemd, absent here):
    `podman healthcheck run` runs the image's HEALTHCHECK instead."""
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
    return ["--ulimit", "nofile=%d:%d" % (nofile, nofile),
            "--ulimit", "nproc=%d:%d" % (nproc, nproc),
            "--health-interval", "disable"]


def missing_tools():
    why = []
    if os.geteuid() != 0:
        why.append("not root (rootful podman and debootstrap)")
    for tool in ("podman", "runc", "debootstrap"):
        if shutil.which(tool) is None:
            why.append("%s not found (scripts/deps.sh installs it)" % tool)
    return "; ".join(why) or None


def image_ids():
    """Every image's full ID, as `podman image inspect` prints it."""
    rc, out, err = podman("images", "-a", "--no-trunc", "--format",
                          "{{.ID}}")
    if rc != 0:
        return set()
    return {i.split(":", 1)[-1] for i in out.split()}


def covered(path, invalidated):
    """path is in an invalidation, or under one of its wildcards."""
    return path in invalidated or any(
        w.endswith("*") and path.startswith(w[:-1]) for w in invalidated)


def run(t, ws):
    why = missing_tools()
    aws_v = 2
    aws, info = s3itest.find_aws(aws_v)
    if aws is None:
        aws_v = 1
        aws, info = s3itest.find_aws(aws_v)
    if aws is None:
        why = ((why + "; ") if why else "") + info
    if why:
        t.missing_tool("the container lane", why)
        return
    times = {}
    podman("rm", "-f", "-t", "0", CONTAINER)
    podman("rmi", "-f", IMAGE)
    before = image_ids()
    try:
        scenario(t, ws, times, aws_v)
    finally:
        podman("rm", "-f", "-t", "0", CONTAINER)
        keep = os.environ.get("S3INVAL_KEEP_LOGS") == "1"
        # Everything this run made but the base (the cache) goes.
        base = times.get("base_id")
        new = sorted(image_ids() - before - {base})
        if new and not keep:
            podman("rmi", "-f", *new)
        t.diag("timing: %s" % ", ".join(
            "%s %.0f s" % (k, v) for k, v in times.items()
            if isinstance(v, float)))


def scenario(t, ws, times, aws_v):
    base_log = ws.path("base.log")
    build_log = ws.path("build.log")

    # --- the base and the build ----------------------------------------
    t0 = time.time()
    rc, out, err = run_cmd(["sh", STEPS, "base-image"])
    base = out.strip()
    m = re.match(r"^debian:(\d+)\.(\d+)-slim$", base)
    t.ok(rc == 0 and m is not None,
         "the Dockerfile's stages start from one Debian point release "
         "(debian:12.N-slim)", show(rc, out, err))
    rc, out, err = run_cmd(["sh", STEPS, "podman-base"],
                           timeout=int(t.remaining(900)), log=base_log)
    times["base"] = time.time() - t0
    full = "docker.io/library/" + base
    irc, iout, _ = podman("image", "inspect", "--format", "{{.Id}}", full)
    times["base_id"] = iout.strip()
    if not t.ok(rc == 0 and irc == 0,
                "the base is made with debootstrap (or taken from the "
                "cache) and imported as %s" % full,
                show(rc, out, err) + "\n" + s3itest.tail(base_log)):
        return
    t.diag("\n".join(ln for ln in out.splitlines()
                      if ln.startswith("build-steps:")))

    t0 = time.time()
    rc, out, err = podman(
        "build", "--isolation=chroot", "--format", "docker",
        "--pull=never", "--layers=false", "-f",
        os.path.join(SRC, "docker", "Dockerfile"), "-t", IMAGE, SRC,
        timeout=int(t.remaining(1500)), log=build_log)
    times["build"] = time.time() - t0
    if not t.ok(rc == 0, "podman build --format docker of docker/Dockerfile"
                " (the image's build steps and unit tests inside)",
                show(rc, out[-1500:], err[-3000:])):
        return

    # --- the image's metadata ------------------------------------------
    def metadata():
        rc, out, err = podman("image", "inspect", IMAGE)
        if rc != 0:
            return False, show(rc, out, err)
        img = json.loads(out)[0]
        cfg = img.get("Config") or {}
        hc = img.get("Healthcheck") or cfg.get("Healthcheck") or {}
        env = [e for e in cfg.get("Env") or [] if e.startswith("S3INVAL_")]
        problems = []
        if "docker" not in img.get("ManifestType", ""):
            problems.append("ManifestType %r" % img.get("ManifestType"))
        if (hc.get("Test") or [])[1:3] != ["s3inval", "healthcheck"]:
            problems.append("HEALTHCHECK %r (lost: not --format docker?)"
                            % hc)
        if cfg.get("User") != "10001:10001":
            problems.append("User %r" % cfg.get("User"))
        if cfg.get("Entrypoint") != ["s3inval"] or cfg.get("Cmd") != ["-f"]:
            problems.append("Entrypoint %r Cmd %r" % (
                cfg.get("Entrypoint"), cfg.get("Cmd")))
        if env:
            problems.append("the image sets %r" % env)
        if "/var/lib/s3inval" not in (cfg.get("Volumes") or {}):
            problems.append("Volumes %r" % cfg.get("Volumes"))
        return not problems, "\n".join(problems)
    t.case("the image (docker format) keeps its HEALTHCHECK (s3inval "
           "healthcheck), runs as 10001:10001, sets no S3INVAL_* "
           "variable, ENTRYPOINT [s3inval] CMD [-f], VOLUME "
           "/var/lib/s3inval", metadata)

    flags = run_flags()
    rc, out, err = podman("run", "--rm", *flags, "--entrypoint", "cat",
                          IMAGE, "/etc/debian_version")
    t.diag("the image's /etc/debian_version: %s (tag %s)" % (
        out.strip() or err.strip(), base))

    # --- subcommands -----------------------------------------------------

    def version():
        rc, out, err = podman("run", "--rm", *flags, IMAGE, "--version")
        hrc, hout, _ = run_cmd([s3itest.S3INVAL_BIN, "--version"])
        return rc == 0 and hrc == 0 and out.strip() == hout.strip() and \
            out.startswith("s3inval "), "image: %s\nthis build: %s" % (
                show(rc, out, err), hout.strip())
    t.case("IMAGE --version prints the version (exit 0)", version)

    def check_defaults():
        # The image's own file only: it is read (the error names it) and
        # lacks what every deployment adds.
        rc, out, err = podman("run", "--rm", *flags, IMAGE, "check-config")
        return rc == 2 and CONF_IN_IMAGE in err and "[client]" in err, \
            show(rc, out, err)
    t.case("IMAGE check-config reads the image's %s and says what is "
           "missing (exit 2: no [client])" % CONF_IN_IMAGE, check_defaults)

    env_only = {
        "S3INVAL_UPSTREAM_ENDPOINT": "http://127.0.0.1:9",
        "S3INVAL_UPSTREAM_ADDRESSING": "path",
        "S3INVAL_CLIENT_ACCESS_KEY_ID": s3itest.DEPLOY_AK,
        "S3INVAL_CLIENT_SECRET_ACCESS_KEY": s3itest.DEPLOY_SK,
        "S3INVAL_CLIENT_BUCKETS": BUCKET + ":rw",
        "S3INVAL_BUCKET_NAME": BUCKET,
        "S3INVAL_BUCKET_DISTRIBUTIONS": "EEXAMPLET26",
    }
    env_flags = [a for k, v in sorted(env_only.items())
                 for a in ("-e", "%s=%s" % (k, v))]

    def check_env():
        rc, out, err = podman("run", "--rm", *flags, *env_flags, IMAGE,
                              "check-config")
        ok = (rc == 0 and re.search(r"^listen = 0\.0\.0\.0:8080$", out,
                                    re.M) is not None
              and "endpoint = http://127.0.0.1:9" in out
              and "[bucket %s]" % BUCKET in out
              and s3itest.DEPLOY_SK not in out + err)
        return ok, show(rc, out, err)
    t.case("IMAGE check-config with S3INVAL_* variables only: valid, listen "
           "0.0.0.0:8080 from the image's file, the variables applied, the "
           "secret masked", check_env)

    def plan():
        rc, out, err = podman("run", "--rm", "-i", *flags, *env_flags,
                              IMAGE, "plan", "--bucket", BUCKET,
                              stdin=b"blog/index.html\n")
        paths = set(out.split())
        return rc == 0 and {"/blog/", "/blog/index.html"} <= paths, \
            show(rc, out, err)
    t.case("IMAGE plan reads keys on stdin and prints their paths", plan)

    # --- the daemon, configured by a mounted file ------------------------
    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url)
    cf, dist = s3itest.moto_distribution(moto_url, BUCKET)
    s3itest.moto_client(moto_url).create_bucket(Bucket=BUCKET)
    port, admin = s3itest.free_port(), s3itest.free_port()
    conf = s3itest.write_config(
        ws.scratch, verifier.url, port=port, admin_port=admin,
        sections={"bucket " + BUCKET: {"distributions": dist},
                  "client reader": None, "bucket *": None},
        server__state_dir=None, cloudfront__endpoint=moto_url,
        cloudfront__quiet_period="60s", cloudfront__max_delay="120s",
        cloudfront__poll_interval="200ms")
    os.chmod(conf, 0o644)
    shutil.copy(conf, ws.path("s3inval.conf"))
    daemon_env = {
        # The proxy's own keys: what the verifier accepts.
        "AWS_ACCESS_KEY_ID": s3itest.UPSTREAM_AK,
        "AWS_SECRET_ACCESS_KEY": s3itest.UPSTREAM_SK,
        # Where `s3inval healthcheck` (the HEALTHCHECK) and `flush` find
        # the admin address whether or not they read the file (issue 11,
        # item 3); the file says the same.
        "S3INVAL_SERVER_ADMIN_LISTEN": "127.0.0.1:%d" % admin,
    }
    argv = PODMAN + ["run", "--rm", "--name", CONTAINER, "--network",
                     "host", *flags,
                     "-v", "%s:%s:ro" % (conf, CONF_IN_IMAGE)]
    for k, v in sorted(daemon_env.items()):
        argv += ["-e", "%s=%s" % (k, v)]
    argv.append(IMAGE)
    t0 = time.time()
    # Attached, as a process of ours: its exit status is the container's,
    # and s3itest stops it (podman passes the signal on) if we die.
    d = s3itest.spawn("container", argv, ws.logdir, s3itest.clean_env())

    def started():
        # Only the file names this port: an image ENV (or default) would
        # have it listen elsewhere.
        s3itest.wait_port(port, d, 60)
        return True
    if not t.case("a mounted file's listen (127.0.0.1:%d) wins over the "
                  "image's defaults (0.0.0.0:8080): the daemon listens "
                  "there" % port, started):
        return
    times["start"] = time.time() - t0

    def uid():
        rc, out, err = podman("inspect", "--format", "{{.State.Pid}}",
                              CONTAINER)
        pid = out.strip()
        with open("/proc/%s/status" % pid, encoding="utf-8") as f:
            status = f.read()
        with open("/proc/%s/comm" % pid, encoding="utf-8") as f:
            comm = f.read().strip()
        ids = {k: v.split() for k, v in re.findall(
            r"^(Uid|Gid):\s*(.*)$", status, re.M)}
        return comm == "s3inval" and ids.get("Uid") == ["10001"] * 4 and \
            ids.get("Gid") == ["10001"] * 4, "pid %s comm %r %r" % (
                pid, comm, ids)
    t.case("the daemon runs as uid and gid 10001 (every id, seen from the "
           "host's /proc)", uid)

    site = ws.scratch_path("site")
    keys = s3itest.make_site_tree(site, n_files=40)
    proxy = "http://127.0.0.1:%d" % port

    def sync():
        rc, out, err = s3itest.run_aws(
            aws_v, ["s3", "sync", site, "s3://" + BUCKET, "--no-progress"],
            endpoint=proxy, log_path=ws.path("aws.log"), timeout=180)
        same, diag = s3itest.compare_bucket(moto_url, BUCKET, site)
        return rc == 0 and same, "%s\n%s" % (diag, show(rc, out, err))
    t.case("aws-cli v%d syncs a site of %d files through the container "
           "into the bucket (moto, behind the SigV4 verifier)" % (
               aws_v, len(keys)), sync)

    def flush():
        early = s3itest.moto_invalidated_paths(cf, dist)
        t1 = time.time()
        rc, out, err = podman("exec", CONTAINER, "s3inval", "flush",
                              "--wait=60", timeout=90)
        times["flush"] = time.time() - t1
        got = s3itest.moto_invalidated_paths(cf, dist)
        want = s3itest.keys_paths(keys)
        missing = sorted(p for p in want if not covered(p, got))
        ok = (not early and rc == 0 and '"done":true' in out.replace(
            " ", "") and not missing)
        return ok, "before the flush %r\nafter %r\nmissing %r\n%s" % (
            sorted(early), sorted(got), missing[:10], show(rc, out, err))
    t.case("podman exec ... s3inval flush --wait=60: nothing invalidated "
           "before it (quiet_period 60 s), every synced path after",
           flush)

    def health():
        rc, out, err = podman("healthcheck", "run", CONTAINER, timeout=30)
        return rc == 0, show(rc, out, err)
    t.case("podman healthcheck run: the image's HEALTHCHECK passes", health)

    def stop():
        t1 = time.time()
        rc, out, err = podman("stop", "-t", "30", CONTAINER, timeout=60)
        try:
            status = d.proc.wait(30)
        except subprocess.TimeoutExpired:
            status = None
        dt = time.time() - t1
        times["stop"] = dt
        log = d.log_text()
        ok = (rc == 0 and status == 0 and dt < 30
              and re.search(r"SIGTERM: stopping$", log, re.M)
              and re.search(r"\bstopped$", log, re.M))
        return ok, "exit status %r after %.1f s\n%s\nlog:\n%s" % (
            status, dt, show(rc, out, err), log[-2000:])
    t.case("podman stop (SIGTERM): the container exits 0 within the grace "
           "period, its log ending with 'SIGTERM: stopping' and "
           "'stopped'", stop)
    s3itest.stop(d)
    s3itest.stop(verifier)
    s3itest.stop(moto)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=1800))
