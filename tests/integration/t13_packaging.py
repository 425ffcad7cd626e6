#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t13_packaging: what ships, checked without a Docker engine.

(a) `make install DESTDIR=...` of the build tree puts the binary, both man
    pages and the docs where automake's configured paths say, and the
    installed binary runs.
(b) docker/build-steps.sh ci: the image's build steps (autogen, configure
    --prefix=/usr, make, the unit tests, make install) from a copy of the
    Docker build context; the installed binary runs; its runtime package
    list is non-empty and installed here; the context is what .dockerignore
    lets through (a second, independent reading of it).
(c) docker/Dockerfile, statically: every stage on the same Debian point
    release (debian:12.N-slim), every COPY and RUN names files in the
    context, HEALTHCHECK `s3inval healthcheck`, non-root USER, EXPOSE 8080
    9090, VOLUME /var/lib/s3inval, ENTRYPOINT [s3inval] CMD [-f], defaults
    in a file (docker/s3inval.conf), no S3INVAL_* ENV.  (t26_container
    builds and runs the image with podman.)
(d) docker/build-steps.sh lint: dockerfile-utils and shellcheck are clean.
(e) docker/compose.yaml parses and is wired up; the s3inval service's
    environment is a valid configuration (check-config).
(f) config/s3inval.service: the hardening asked for; systemd-analyze verify.
(g) The container's contract on the host: moto, the compose file's setup
    step, the daemon started as the image's ENTRYPOINT + CMD with the
    compose environment, the image's HEALTHCHECK command, the compose demo
    step (aws s3 sync of demo/site, an invalidation at moto), SIGTERM.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import shlex
    import shutil
    import signal
    import subprocess
    import time
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

try:
    import yaml
except ImportError:
    yaml = None

NAME = "t13_packaging"
SRC = s3itest.TOP_SRCDIR
BUILD = s3itest.TOP_BUILDDIR
STEPS = os.path.join(SRC, "docker", "build-steps.sh")
DOCKERFILE = os.path.join(SRC, "docker", "Dockerfile")
COMPOSE = os.path.join(SRC, "docker", "compose.yaml")
UNIT = os.path.join(SRC, "config", "s3inval.service")
DEMO_DIST = "EDEMOEXAMPLE01"

# What the compose demo's setup step writes to /etc/s3inval/s3inval.conf.
SETUP_CONF = "[bucket demo-blog]\ndistributions = %s\n"


def scenario(t, ws):
    st = {}
    install_cases(t, ws, st)
    build_steps_cases(t, ws, st)
    dockerfile_cases(t, ws, st)
    lint_case(t, ws)
    compose_cases(t, ws, st)
    unit_cases(t, ws, st)
    contract_cases(t, ws, st)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def sub_env(extra=None):
    """The environment of a sub-make: no jobserver of the parent make."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update(extra or {})
    return env


def run(argv, timeout=60, env=None, cwd=None, stdin=None):
    """(rc, stdout, stderr) as text; rc -1 on a time-out."""
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout,
                           env=env, cwd=cwd, input=stdin,
                           stdin=None if stdin is not None
                           else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace") + \
            "\n(timed out after %ds)" % timeout
    return r.returncode, r.stdout.decode("utf-8", "replace"), \
        r.stderr.decode("utf-8", "replace")


def show(rc, out, err, n=3000):
    return "rc=%r\nstdout:\n%s\nstderr:\n%s" % (rc, out[-n:], err[-n:])


def make_vars(builddir, names):
    """{name: value} of make variables of a configured build directory."""
    prog = "print-vars:\n" + "".join(
        "\t@echo '%s=$(%s)'\n" % (n, n) for n in names)
    rc, out, err = run(["make", "-s", "--no-print-directory", "-C",
                        builddir, "-f", "Makefile", "-f", "-",
                        "print-vars"], env=sub_env(),
                       stdin=prog.encode())
    if rc != 0:
        raise RuntimeError("make print-vars in %s: %s" % (
            builddir, show(rc, out, err)))
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        vals[k] = v.strip()
    return vals


def makefile_am_var(name):
    """The words of a variable of Makefile.am, read as text."""
    with open(os.path.join(SRC, "Makefile.am"), encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^%s\s*=(.*)$" % re.escape(name), text, re.M)
    return m.group(1).split() if m else []


def files_under(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


# --- .dockerignore, read as Docker does (moby/patternmatcher) --------------

def _pattern_rx(pat):
    """A .dockerignore pattern as a regex on a slash-separated path."""
    parts = [p for p in pat.split("/") if p not in ("", ".")]
    rx = ""
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        if seg == "**":
            rx += ".*" if last else "(?:.*/)?"
            continue
        s = ""
        j = 0
        while j < len(seg):
            c = seg[j]
            if c == "*":
                s += "[^/]*"
            elif c == "?":
                s += "[^/]"
            elif c == "[":
                k = seg.find("]", j + 1)
                if k == -1:
                    s += re.escape(c)
                else:
                    cls = seg[j + 1:k]
                    if cls.startswith("!") or cls.startswith("^"):
                        cls = "^" + cls[1:]
                    s += "[" + cls + "]"
                    j = k
            elif c == "\\" and j + 1 < len(seg):
                j += 1
                s += re.escape(seg[j])
            else:
                s += re.escape(c)
            j += 1
        rx += s + ("" if last else "/")
    return re.compile("^" + rx + "$")


def dockerignore_rules():
    rules = []
    with open(os.path.join(SRC, ".dockerignore"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            neg = line.startswith("!")
            pat = line[1:].strip() if neg else line
            pat = os.path.normpath(pat.lstrip("/"))
            rules.append((neg, _pattern_rx(pat)))
    return rules


def docker_excludes(rel, rules):
    """True when Docker leaves rel (a file path) out of the context: the
    last pattern matching it or one of its parent directories decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for neg, rx in rules:
        if any(rx.match(p) for p in prefixes):
            excluded = not neg
    return excluded


def docker_context(rules):
    return {f for f in files_under(SRC) if not docker_excludes(f, rules)}


# --- Dockerfile --------------------------------------------------------------

def parse_dockerfile(path):
    """[(stage index, INSTRUCTION, argument text, line number)]."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out, stage, buf, start = [], -1, "", 0
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if not buf:
            start = i
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        instr, _, args = buf.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stage += 1
        out.append((stage, instr, args.strip(), start))
        buf = ""
    return out


def exec_form(args):
    """The argv of a JSON (exec) form, or None for the shell form."""
    if args.startswith("["):
        try:
            v = json.loads(args)
        except ValueError:
            return None
        return v if isinstance(v, list) else None
    return None


def healthcheck_argv(df):
    for _, instr, args, _ in df:
        if instr != "HEALTHCHECK":
            continue
        m = re.search(r"\bCMD\s+(.*)$", args)
        if not m:
            return None
        argv = exec_form(m.group(1).strip())
        return argv if argv is not None else ["sh", "-c", m.group(1)]
    return None


def entrypoint_argv(df, what="ENTRYPOINT"):
    argv = None
    for stage, instr, args, _ in df:
        if instr == what and stage == last_stage(df):
            argv = exec_form(args) or ["sh", "-c", args]
    return argv


def default_argv(df):
    """What `docker run IMAGE` runs: ENTRYPOINT then CMD."""
    return (entrypoint_argv(df) or []) + (entrypoint_argv(df, "CMD") or [])


def last_stage(df):
    return max(s for s, _, _, _ in df)


def stage_names(df):
    names = {}
    for stage, instr, args, _ in df:
        if instr == "FROM":
            m = re.search(r"\s+AS\s+(\S+)\s*$", args, re.I)
            if m:
                names[m.group(1).lower()] = stage
    return names


def final_env(df):
    env = {}
    for stage, instr, args, _ in df:
        if instr == "ENV" and stage == last_stage(df):
            for tok in shlex.split(args):
                if "=" in tok:
                    k, _, v = tok.partition("=")
                    env[k] = v
    return env


# --- compose -----------------------------------------------------------------

def load_compose():
    with open(COMPOSE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def env_dict(env):
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    out = {}
    for item in env or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def compose_daemon_env(doc, upstream, listen, admin, state):
    """The s3inval service's environment for a run on this host: listeners
    on free loopback ports, endpoints at `upstream`, state in `state`; the
    rest as the compose file has it."""
    env = env_dict(doc["services"]["s3inval"].get("environment"))
    for k in list(env):
        if k.endswith("_ENDPOINT") and k.startswith("S3INVAL_"):
            env[k] = upstream
    env["S3INVAL_SERVER_LISTEN"] = listen
    env["S3INVAL_SERVER_ADMIN_LISTEN"] = admin
    env["S3INVAL_SERVER_STATE_DIR"] = state
    env.update({"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return s3itest.clean_env(env)


# ---------------------------------------------------------------------------
# (a) make install
# ---------------------------------------------------------------------------

def install_cases(t, ws, st):
    dest = ws.scratch_path("install")
    names = ["prefix", "bindir", "mandir", "docdir", "PACKAGE",
             "systemdsystemunitdir", "sysconfdir"]
    st["vars"] = None

    def install():
        rc, out, err = run(["make", "-s", "-C", BUILD, "install",
                            "DESTDIR=" + dest], timeout=120, env=sub_env())
        st["vars"] = make_vars(BUILD, names)
        return rc == 0, show(rc, out, err)
    t.case("make -C $TOP_BUILDDIR install DESTDIR=<tmp>: exit 0", install)

    def paths():
        v = st["vars"]
        if v is None:
            return False, "make install did not run"
        prefix = v["prefix"]
        want = {
            v["bindir"] + "/s3inval",
            v["mandir"] + "/man8/s3inval.8",
            v["mandir"] + "/man5/s3inval.conf.5",
            v["docdir"] + "/README.md",
            v["docdir"] + "/COPYING",
            v["docdir"] + "/s3inval.conf.example",
        }
        # The systemd unit, when the build installs one: under the prefix,
        # Type=notify, naming the installed binary and the file it reads
        # (sysconfdir), ConfigurationDirectory= only when that is /etc
        # (systemd puts it nowhere else).  The man page names that file.
        unit_ok = True
        unit_why = []
        unitdir = v.get("systemdsystemunitdir")
        if unitdir:
            want.add(unitdir + "/s3inval.service")
            conf = "%s/s3inval/s3inval.conf" % v["sysconfdir"]
            try:
                with open(os.path.normpath(
                        dest + "/" + unitdir + "/s3inval.service"),
                        encoding="utf-8") as f:
                    unit = f.read()
            except OSError:
                unit = ""
            checks = [
                ("ExecStart", "\nExecStart=%s/s3inval -f -c %s\n" % (
                    v["bindir"], conf) in unit),
                ("Type=notify", "\nType=notify\n" in unit),
                ("ConfigurationDirectory only with /etc",
                 ("\nConfigurationDirectory=s3inval\n" in unit) ==
                 (v["sysconfdir"] == "/etc")),
                ("unit dir under the prefix",
                 unitdir.startswith(prefix + "/")),
            ]
            try:
                with open(dest + v["mandir"] + "/man8/s3inval.8",
                          encoding="utf-8") as f:
                    checks.append(("s3inval(8) names " + conf,
                                   ".I %s\n" % conf in f.read()))
            except OSError:
                checks.append(("s3inval(8) installed", False))
            unit_why = [what for what, ok in checks if not ok]
            unit_ok = not unit_why
        std = {prefix + "/bin", prefix + "/share/man",
               prefix + "/share/doc/s3inval"}
        # normpath keeps a leading "//": strip it first.
        got = {os.path.normpath("/" + f.lstrip("/"))
               for f in files_under(dest)}
        want_abs = {os.path.normpath("/" + w.lstrip("/")) for w in want}
        missing = sorted(want_abs - got)
        extra = sorted(got - want_abs)
        diag = "prefix %s bindir %s mandir %s docdir %s\nmissing %r\n" \
            "also installed %r" % (prefix, v["bindir"], v["mandir"],
                                   v["docdir"], missing, extra)
        if not unit_ok:
            diag += "\nthe installed unit and man page: %s" % unit_why
        if {v["bindir"], v["mandir"], v["docdir"]} != std:
            diag += "\n(note: not automake's default layout under %s)" \
                % prefix
        return not missing and unit_ok, diag
    t.case("installs bin/s3inval, share/man/man8/s3inval.8, "
           "share/man/man5/s3inval.conf.5, share/doc/s3inval/{README.md,"
           "COPYING,s3inval.conf.example} at automake's configured paths; "
           "the unit under the prefix, Type=notify, with the build's paths",
           paths)

    def runs():
        v = st["vars"]
        if v is None:
            return False, "make install did not run"
        exe = dest + v["bindir"] + "/s3inval"
        rc, out, err = run([exe, "--version"])
        return (rc == 0 and re.match(r"^s3inval \d+\.\d+\.\d+\s*$", out)
                is not None), show(rc, out, err)
    t.case("the installed binary runs: --version", runs)


# ---------------------------------------------------------------------------
# (b) docker/build-steps.sh ci
# ---------------------------------------------------------------------------

def build_steps_cases(t, ws, st):
    dest = ws.scratch_path("image-root")
    work = ws.scratch_path("build-steps")
    st["image_root"] = None
    st["ci_out"] = ""

    def ci():
        left = int(t.remaining(330))
        rc, out, err = run(["sh", STEPS, "ci", dest, work], timeout=left,
                           env=sub_env({"JOBS": "2"}))
        st["ci_out"] = out + err
        with open(ws.path("build-steps-ci.log"), "w", encoding="utf-8") as f:
            f.write(out + err)
        ok = rc == 0 and os.path.exists(dest + "/usr/bin/s3inval")
        if ok:
            st["image_root"] = dest
        return ok, show(rc, out, err)
    t.case("docker/build-steps.sh ci <tmp>: autogen, configure "
           "--prefix=/usr, make, unit tests, make install; exit 0", ci)

    def installed():
        if st["image_root"] is None:
            return False, "build-steps did not install"
        want = ["usr/bin/s3inval", "usr/share/man/man8/s3inval.8",
                "usr/share/man/man5/s3inval.conf.5",
                "usr/share/doc/s3inval/README.md",
                "usr/share/doc/s3inval/COPYING",
                "usr/share/doc/s3inval/s3inval.conf.example"]
        missing = [w for w in want if not os.path.isfile(
            os.path.join(dest, w))]
        rc, out, err = run([dest + "/usr/bin/s3inval", "--version"])
        return not missing and rc == 0, "missing %r\n%s" % (
            missing, show(rc, out, err))
    t.case("the image tree has /usr/bin/s3inval (runs --version), its man "
           "pages and /usr/share/doc/s3inval/*", installed)

    def unit_list():
        m = re.search(r"make check of the unit tests: (.*)$", st["ci_out"],
                      re.M)
        got = m.group(1).split() if m else None
        want = makefile_am_var("UNIT_TESTS")
        totals = re.search(r"# TOTAL: *(\d+) # PASS: *(\d+) # FAIL: *(\d+)"
                           r" # ERROR: *(\d+)", st["ci_out"])
        ok = (got == want and bool(want) and totals is not None
              and int(totals.group(1)) > 0
              and totals.group(3) == "0" and totals.group(4) == "0")
        return ok, "ran %r\nMakefile.am UNIT_TESTS %r\ntotals %r" % (
            got, want, totals.group(0) if totals else None)
    t.case("build-steps ran exactly Makefile.am's UNIT_TESTS, none failed",
           unit_list)

    def packages():
        path = dest + ".packages"
        try:
            with open(path, encoding="utf-8") as f:
                pkgs = f.read().split()
        except OSError as e:
            return False, "no package list: %s" % e
        bad = []
        for p in pkgs:
            rc, out, err = run(["dpkg-query", "-W", "-f=${Status}", p])
            if rc != 0 or "ok installed" not in out:
                bad.append("%s: %s" % (p, (out + err).strip()))
        rc, out, err = run(["ldd", dest + "/usr/bin/s3inval"])
        unresolved = [ln for ln in out.splitlines() if "not found" in ln]
        return (bool(pkgs) and not bad and rc == 0 and not unresolved), \
            "packages %r\nnot installed: %r\nldd unresolved: %r" % (
                pkgs, bad, unresolved)
    t.case("runtime package list (ldd + dpkg -S) is non-empty and every "
           "package is installed here (dpkg)", packages)

    def context():
        d = ws.scratch_path("context")
        rc, out, err = run(["sh", STEPS, "context", d], timeout=60)
        if rc != 0:
            return False, show(rc, out, err)
        copied = files_under(d)
        want = docker_context(dockerignore_rules())
        must = {"configure.ac", "Makefile.am", "autogen.sh", "src/main.c",
                "docker/build-steps.sh", "COPYING", "README.md",
                "config/s3inval.conf.example", "man/s3inval.8"}
        leaked = sorted(f for f in copied if f.startswith(
            (".git/", "build/", "tests/integration/logs/"))
            or f.endswith((".o", ".a")))
        return (copied == want and must <= copied and not leaked), \
            "only build-steps: %r\nonly Docker's reading: %r\nmissing " \
            "%r\nleaked %r" % (sorted(copied - want)[:20],
                               sorted(want - copied)[:20],
                               sorted(must - copied), leaked[:20])
    t.case("build-steps' context copy is exactly what Docker sends per "
           ".dockerignore (no .git, build/, objects, logs)", context)


# ---------------------------------------------------------------------------
# (c) Dockerfile
# ---------------------------------------------------------------------------

def dockerfile_cases(t, ws, st):
    df = parse_dockerfile(DOCKERFILE)
    st["df"] = df
    final = last_stage(df)

    def stages():
        froms = [a for _, i, a, _ in df if i == "FROM"]
        names = stage_names(df)
        build = names.get("build")
        runs_b = " ".join(a for s, i, a, _ in df if s == build and i == "RUN")
        runs_f = " ".join(a for s, i, a, _ in df if s == final and i == "RUN")
        copies_f = [a for s, i, a, _ in df if s == final and i == "COPY"]
        m = re.search(r"docker/build-steps\.sh build (\S+) (\S+)", runs_b)
        pkglist = m.group(2) if m else None
        gets_list = any(re.search(r"--from=build\s+%s\s" % re.escape(
            pkglist or "?"), c) for c in copies_f)
        problems = []
        bases = {f.split()[0] for f in froms}
        if len(froms) < 2 or len(bases) != 1 or not re.match(
                r"^debian:\d+\.\d+-slim(@sha256:[0-9a-f]{64})?$",
                min(bases)):
            problems.append("stages %r: want >= 2, all on one Debian point "
                            "release (debian:12.N-slim)" % froms)
        if build is None or m is None:
            problems.append("no 'build' stage running docker/build-steps.sh"
                            " build DESTDIR PKGLIST")
        if not gets_list:
            problems.append("the runtime stage does not COPY --from=build "
                            "the package list %r" % pkglist)
        if not re.search(r"apt-get install[^&;]*--no-install-recommends",
                         runs_f) or "<" not in runs_f:
            problems.append("the runtime stage does not apt-get install "
                            "--no-install-recommends the list")
        if "/var/lib/apt/lists" not in runs_f:
            problems.append("the runtime stage keeps apt's lists")
        if re.search(r"-dev\b", runs_f):
            problems.append("a -dev package in the runtime stage")
        return not problems, "\n".join(problems)
    t.case("Dockerfile: stages on one pinned debian:12.N-slim; the build "
           "stage runs build-steps; "
           "the runtime stage installs the build stage's package list only",
           stages)

    def references():
        rules = dockerignore_rules()
        names = stage_names(df)
        top_dirs = {d for d in os.listdir(SRC)
                    if os.path.isdir(os.path.join(SRC, d))}
        problems, seen = [], []
        for stage, instr, args, line in df:
            if instr in ("COPY", "ADD"):
                toks = shlex.split(args)
                flags = [x for x in toks if x.startswith("--")]
                srcs = [x for x in toks if not x.startswith("--")][:-1]
                frm = [f.split("=", 1)[1] for f in flags
                       if f.startswith("--from=")]
                for s in srcs:
                    seen.append(s)
                    if frm:
                        other = names.get(frm[0].lower())
                        text = " ".join(a for st_, i, a, _ in df
                                        if st_ == other and i == "RUN")
                        if other is None or s.rstrip("/") not in text:
                            problems.append("line %d: %s is not made by "
                                            "stage %s" % (line, s, frm[0]))
                        continue
                    rel = os.path.normpath(s)
                    if not os.path.exists(os.path.join(SRC, rel)):
                        problems.append("line %d: COPY %s: no such file in "
                                        "the repo" % (line, s))
                    elif rel != "." and docker_excludes(rel, rules):
                        problems.append("line %d: COPY %s: excluded by "
                                        ".dockerignore" % (line, s))
            elif instr == "RUN":
                # Relative paths whose first part is a top-level directory
                # of the repo (absolute ones are the image's own).
                for tok in re.findall(r"(?<![\w./$-])[\w.][\w./-]*/[\w./-]+",
                                      args):
                    tok = os.path.normpath(tok)
                    if tok.split("/")[0] not in top_dirs:
                        continue
                    seen.append(tok)
                    if not os.path.isfile(os.path.join(SRC, tok)):
                        problems.append("line %d: RUN names %s: no such "
                                        "file" % (line, tok))
                    elif docker_excludes(tok, rules):
                        problems.append("line %d: RUN names %s: excluded "
                                        "by .dockerignore" % (line, tok))
        return not problems and bool(seen), "checked %r\n%s" % (
            seen, "\n".join(problems))
    t.case("every COPY source and every repo path a RUN names exists and is "
           "in the build context; COPY --from paths are made by that stage",
           references)

    def health():
        argv = healthcheck_argv(df)
        return argv is not None and argv[:2] == ["s3inval", "healthcheck"], \
            "HEALTHCHECK CMD %r" % (argv,)
    t.case("HEALTHCHECK runs 's3inval healthcheck' (exec form)", health)

    def user():
        users = [a for s, i, a, _ in df if i == "USER" and s == final]
        runs = " ".join(a for s, i, a, _ in df if s == final and i == "RUN")
        if not users:
            return False, "no USER in the final stage"
        u = users[-1].split(":")[0]
        uid = re.search(r"useradd[^&;]*--uid\s+(\d+)[^&;]*\s(\S+)\s*(?:&&|$)",
                        runs)
        ok = u not in ("root", "0") and uid is not None and \
            u in (uid.group(1), uid.group(2))
        return ok, "USER %r; useradd %r" % (
            users[-1], uid.groups() if uid else None)
    t.case("the final USER is the non-root user the image creates (fixed "
           "uid)", user)

    def ports():
        exp = set()
        vols = []
        for s, i, a, _ in df:
            if s != final:
                continue
            if i == "EXPOSE":
                exp.update(p.split("/")[0] for p in a.split())
            if i == "VOLUME":
                v = exec_form(a)
                vols += v if v is not None else a.split()
        env = [k for k in final_env(df) if k.startswith("S3INVAL_")]
        ep = entrypoint_argv(df)
        cmd = entrypoint_argv(df, "CMD")
        ok = ({"8080", "9090"} <= exp and "/var/lib/s3inval" in vols
              and ep == ["s3inval"] and cmd == ["-f"] and not env)
        return ok, "EXPOSE %r VOLUME %r ENTRYPOINT %r CMD %r ENV %r" % (
            sorted(exp), vols, ep, cmd, env)
    t.case("EXPOSE 8080 9090, VOLUME /var/lib/s3inval, ENTRYPOINT "
           "[s3inval] CMD [-f] (IMAGE --version works), no S3INVAL_* ENV "
           "(it would override a mounted file)", ports)

    def defaults_file():
        copies = [shlex.split(a) for s, i, a, _ in df
                  if s == final and i == "COPY"]
        src = [c[-2] for c in copies if len(c) >= 2 and
               c[-1] == "/etc/s3inval/s3inval.conf"]
        if not src:
            return False, "no COPY to /etc/s3inval/s3inval.conf"
        conf = os.path.join(SRC, src[0])
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        # Valid (with a client added, as every deployment does) and
        # listening on every interface of the container.
        env = s3itest.clean_env({
            "S3INVAL_CLIENT_ACCESS_KEY_ID": "AKIDT13DEFAULTS00001",
            "S3INVAL_CLIENT_SECRET_ACCESS_KEY": "t13-defaults-secret",
            "S3INVAL_CLIENT_BUCKETS": "*:rw"})
        rc, out, err = run([bin_for_contract(st), "check-config", "-c",
                            conf], env=env)
        listen = re.search(r"^listen = (\S+)$", out, re.M)
        return rc == 0 and listen is not None and \
            listen.group(1) == "0.0.0.0:8080", "%s\n%s" % (
                text, show(rc, out, err))
    t.case("the image's defaults are a file (docker/s3inval.conf -> "
           "/etc/s3inval/s3inval.conf): valid, listen = 0.0.0.0:8080",
           defaults_file)


# ---------------------------------------------------------------------------
# (d) lint
# ---------------------------------------------------------------------------

def lint_case(t, ws):
    desc = ("docker/build-steps.sh lint: dockerfile-utils (npm) and "
            "shellcheck report nothing")
    if shutil.which("npm") is None:
        t.missing_tool(desc, "npm not found: the Dockerfile linter "
                       "(dockerfile-utils, npm) cannot be installed")
        return
    rc, out, err = run(["sh", STEPS, "lint"], timeout=int(t.remaining(120)),
                       env=sub_env())
    if rc == 3:
        t.missing_tool(desc, "a linter could not be had: " + (
            out + err).strip()[-500:])
        return
    t.ok(rc == 0, desc, show(rc, out, err))


# ---------------------------------------------------------------------------
# (e) compose
# ---------------------------------------------------------------------------

def compose_cases(t, ws, st):
    st["compose"] = None

    def parses():
        if yaml is None:
            # A minimal structural check: the top-level key and the four
            # services at the first indentation level under it.
            with open(COMPOSE, encoding="utf-8") as f:
                text = f.read()
            m = re.search(r"^services:\n((?:[ #].*\n|\n)*)", text, re.M)
            names = re.findall(r"^  ([\w-]+):", m.group(1), re.M) if m \
                else []
            return {"moto", "setup", "s3inval", "demo"} <= set(names), \
                "no yaml module; services found %r" % names
        doc = load_compose()
        st["compose"] = doc
        sv = doc.get("services", {})
        problems = []
        if set(sv) != {"moto", "setup", "s3inval", "demo"}:
            problems.append("services %r" % sorted(sv))
        moto = sv.get("moto", {})
        cmd = " ".join(moto.get("command") or [])
        if moto.get("image") != "python:3.11-slim" or \
                "moto[server]" not in cmd or \
                "moto_server -H 0.0.0.0 -p 5000" not in cmd:
            problems.append("moto: %r %r" % (moto.get("image"), cmd))
        s3 = sv.get("s3inval", {})
        b = s3.get("build", {})
        ctx = os.path.normpath(os.path.join(os.path.dirname(COMPOSE),
                                            b.get("context", ".")))
        if ctx != os.path.normpath(SRC) or not os.path.isfile(
                os.path.join(ctx, b.get("dockerfile", "Dockerfile"))) or \
                b.get("dockerfile") != "docker/Dockerfile":
            problems.append("s3inval.build %r -> %s" % (b, ctx))
        want_dep = {
            "setup": {"moto": "service_healthy"},
            "s3inval": {"moto": "service_healthy",
                        "setup": "service_completed_successfully"},
            "demo": {"s3inval": "service_healthy"},
        }
        for name, deps in want_dep.items():
            got = {k: (v or {}).get("condition") for k, v in
                   (sv.get(name, {}).get("depends_on") or {}).items()}
            if got != deps:
                problems.append("%s.depends_on %r, want %r" % (
                    name, got, deps))
        for name in ("moto", "s3inval"):
            if not (sv.get(name, {}).get("healthcheck") or {}).get("test"):
                problems.append("%s has no healthcheck" % name)
        test = (s3.get("healthcheck") or {}).get("test") or []
        if test[1:3] != ["s3inval", "healthcheck"]:
            problems.append("s3inval healthcheck %r" % test)
        env = env_dict(s3.get("environment"))
        for k, v in (("S3INVAL_UPSTREAM_ENDPOINT", "http://moto:5000"),
                     ("S3INVAL_CLOUDFRONT_ENDPOINT", "http://moto:5000"),
                     ("S3INVAL_CLIENT_BUCKETS", "demo-blog:rw")):
            if env.get(k) != v:
                problems.append("s3inval %s=%r" % (k, env.get(k)))
        if not env.get("S3INVAL_CLIENT_ACCESS_KEY_ID"):
            problems.append("s3inval has no client key")
        for name, svc in sv.items():
            for vol in svc.get("volumes") or []:
                src = str(vol).split(":")[0]
                if src.startswith((".", "/")) and not os.path.exists(
                        os.path.join(os.path.dirname(COMPOSE), src)):
                    problems.append("%s: volume %s: no such path" % (
                        name, src))
        return not problems, "\n".join(problems)
    t.case("compose.yaml parses (YAML) with services moto, setup, s3inval, "
           "demo; build, depends_on conditions, healthchecks wired", parses)

    def config_valid():
        doc = st["compose"]
        if doc is None:
            return False, "compose.yaml not loaded (no yaml module?)"
        conf = ws.path("compose-setup.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(SETUP_CONF % DEMO_DIST)
        closed = "http://127.0.0.1:%d" % s3itest.free_port()
        env = compose_daemon_env(
            doc, closed, "127.0.0.1:%d" % s3itest.free_port(),
            "127.0.0.1:%d" % s3itest.free_port(), ws.scratch_path("state0"))
        exe = bin_for_contract(st)
        rc, out, err = run([exe, "check-config", "-c", conf], env=env)
        secret = env.get("S3INVAL_CLIENT_SECRET_ACCESS_KEY", "?")
        ok = (rc == 0 and "[bucket demo-blog]" in out and DEMO_DIST in out
              and "demo-blog:rw" in out.replace(" ", "")
              and secret not in out + err)
        return ok, show(rc, out, err)
    t.case("the compose s3inval environment + the setup step's file is a "
           "valid configuration (check-config exit 0, secret masked)",
           config_valid)


def bin_for_contract(st):
    """The image's binary when build-steps made it, else the build's."""
    root = st.get("image_root")
    if root and os.access(root + "/usr/bin/s3inval", os.X_OK):
        return root + "/usr/bin/s3inval"
    return s3itest.S3INVAL_BIN


# ---------------------------------------------------------------------------
# (f) systemd unit
# ---------------------------------------------------------------------------

REQUIRED_UNIT = [
    ("Type", "notify"), ("WatchdogSec", "60s"),
    ("User", "s3inval"), ("Group", "s3inval"),
    ("StateDirectory", "s3inval"), ("ConfigurationDirectory", "s3inval"),
    ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("PrivateDevices", "yes"),
    ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"), ("ProtectControlGroups", "yes"),
    ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ("RestrictNamespaces", "yes"), ("LockPersonality", "yes"),
    ("MemoryDenyWriteExecute", "yes"),
    ("SystemCallFilter", "@system-service"), ("CapabilityBoundingSet", ""),
    ("ExecStart", "/usr/bin/s3inval -f -c /etc/s3inval/s3inval.conf"),
    ("ExecReload", "/bin/kill -HUP $MAINPID"), ("Restart", "on-failure"),
]


def unit_cases(t, ws, st):
    def directives():
        with open(UNIT, encoding="utf-8") as f:
            lines = f.read().splitlines()
        got, sec = {}, None
        for ln in lines:
            ln = ln.strip()
            if not ln or ln.startswith(("#", ";")):
                continue
            if ln.startswith("["):
                sec = ln
                continue
            k, _, v = ln.partition("=")
            got.setdefault((sec, k.strip()), []).append(v.strip())
        missing = [(k, v) for k, v in REQUIRED_UNIT
                   if v not in got.get(("[Service]", k), [])]
        stop = got.get(("[Service]", "TimeoutStopSec"), ["0"])[-1]
        m = re.match(r"^(\d+)s?$", stop)
        # server.shutdown_grace defaults to 20 s: stop must wait longer.
        grace_ok = m is not None and 20 < int(m.group(1)) <= 120
        return not missing and grace_ok, "missing %r\nTimeoutStopSec %r" \
            % (missing, stop)
    t.case("s3inval.service: User/Group s3inval, State/Configuration"
           "Directory, the hardening directives, ExecStart/ExecReload, "
           "TimeoutStopSec over the 20 s shutdown grace", directives)

    def verify():
        sa = shutil.which("systemd-analyze")
        exe = bin_for_contract(st)
        d = ws.scratch_path("unit")
        # The man pages named by Documentation= are checked too: point man
        # at the repo's, laid out as man expects.
        man = os.path.join(d, "man")
        for sec, page in (("8", "s3inval.8"), ("5", "s3inval.conf.5")):
            os.makedirs(os.path.join(man, "man" + sec), exist_ok=True)
            shutil.copy(os.path.join(SRC, "man", page),
                        os.path.join(man, "man" + sec, page))
        with open(UNIT, encoding="utf-8") as f:
            text = f.read()
        unit = os.path.join(d, "s3inval.service")
        with open(unit, "w", encoding="utf-8") as f:
            f.write(text.replace("/usr/bin/s3inval", exe))
        env = dict(os.environ, MANPATH=man)
        rc, out, err = run([sa, "verify", unit], env=env, cwd=d)
        diag = "ExecStart rewritten to %s\n%s" % (exe, show(rc, out, err))
        ok = rc == 0 and not (out + err).strip()
        rc2, out2, err2 = run([sa, "security", "--offline=yes", unit],
                              cwd=d)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)",
                      out2 + err2)
        if m:
            diag += "\nsecurity exposure %s (of 10)" % m.group(1)
            ok = ok and float(m.group(1)) <= 2.0
        else:
            diag += "\n(systemd-analyze security --offline: no result)"
        return ok, diag
    desc = ("systemd-analyze verify s3inval.service: clean (ExecStart at "
            "the built binary), security exposure <= 2.0")
    if shutil.which("systemd-analyze") is None:
        t.missing_tool(desc, "systemd-analyze not found (Debian package "
                       "systemd)")
    else:
        t.case(desc, verify)


# ---------------------------------------------------------------------------
# (g) the container's contract, on the host
# ---------------------------------------------------------------------------

def contract_cases(t, ws, st):
    descs = [
        "compose setup step (its own script): a distribution at moto, "
        "[bucket demo-blog] written to the config file",
        "daemon started as the image's ENTRYPOINT + CMD with the compose "
        "environment: the image's HEALTHCHECK command exits 0",
        "compose demo step: aws s3 sync of demo/site through the proxy; "
        "an invalidation with the site's paths appears at moto",
        "SIGTERM: exit 0 within the compose stop_grace_period; then the "
        "HEALTHCHECK command exits 1",
    ]
    why = s3itest.missing_peers()
    # The demo container runs aws-cli v1 (pip); v2 does the same job.
    aws, info1 = s3itest.find_aws(1)
    aws_why = None
    if aws is None:
        aws, info2 = s3itest.find_aws(2)
        if aws is None:
            aws_why = "%s; %s" % (info1, info2)
    if yaml is None:
        why = ((why + "; ") if why else "") + "no python yaml module"
    if why or aws_why:
        for d in descs:
            t.missing_tool(d, "; ".join(x for x in (why, aws_why) if x))
        return
    doc = st.get("compose")
    df = st["df"]
    if doc is None:
        t.ok(False, "container contract", "compose.yaml did not load")
        return
    demo_py = env_dict(doc["services"]["setup"]["environment"])["DEMO_PY"]
    try:
        moto, moto_url = s3itest.start_moto(ws.logdir)
    except Exception as e:
        t.ok(False, "container contract", "moto_server did not start: %s"
             % e)
        return
    conf = ws.path("etc-s3inval.conf")
    port, admin = s3itest.free_port(), s3itest.free_port()
    denv = compose_daemon_env(doc, moto_url, "127.0.0.1:%d" % port,
                              "127.0.0.1:%d" % admin,
                              ws.scratch_path("state"))
    exe = bin_for_contract(st)
    py_env = s3itest.clean_env({"MOTO_URL": moto_url, "DEMO_CONF": conf,
                                "PYTHONDONTWRITEBYTECODE": "1"})
    daemon = {}

    def setup():
        rc, out, err = run([sys.executable, "-c", demo_py, "setup"],
                           env=py_env, timeout=60)
        with open(ws.path("setup.log"), "w", encoding="utf-8") as f:
            f.write(out + err)
        try:
            with open(conf, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            return False, "%s\n%s" % (e, show(rc, out, err))
        m = re.search(r"^distributions = (\S+)$", text, re.M)
        if not m:
            return False, text
        import boto3
        c = boto3.client("cloudfront", endpoint_url=moto_url,
                         region_name="us-east-1", aws_access_key_id="moto",
                         aws_secret_access_key="moto")
        c.get_distribution(Id=m.group(1))
        return rc == 0 and "[bucket demo-blog]" in text, show(rc, out, err)
    if not t.case(descs[0], setup):
        for d in descs[1:]:
            t.ok(False, d, "the setup step failed")
        return

    def health(timeout=20.0):
        argv = healthcheck_argv(df)
        argv = [exe if a == "s3inval" else a for a in argv]
        return run(argv, env=denv, timeout=timeout)

    def start():
        ep = default_argv(df)
        argv = [exe if a == "s3inval" else a for a in ep] + ["-c", conf]
        p = s3itest.spawn("s3inval", argv, ws.logdir, denv)
        daemon["p"] = p
        s3itest.wait_port(port, p, 20)
        deadline = time.time() + 15
        while True:
            rc, out, err = health(10)
            if rc == 0 or time.time() > deadline or not p.alive():
                break
            time.sleep(0.2)
        return rc == 0, "argv %r\nhealthcheck %s\ndaemon log:\n%s" % (
            argv, show(rc, out, err), s3itest.tail(p.log_path))
    if not t.case(descs[1], start):
        for d in descs[2:]:
            t.ok(False, d, "the daemon did not start")
        return

    def demo():
        env = dict(py_env)
        env.update({
            "S3INVAL_URL": "http://127.0.0.1:%d" % port,
            "DEMO_SITE": os.path.join(SRC, "demo", "site"),
            "PATH": os.path.dirname(aws) + os.pathsep + env.get("PATH", ""),
        })
        denv_demo = env_dict(doc["services"]["demo"]["environment"])
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_DEFAULT_REGION"):
            env[k] = denv_demo[k]
        env.update({"AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})
        rc, out, err = run([sys.executable, "-c", demo_py, "demo"],
                           env=env, timeout=int(t.remaining(120)))
        with open(ws.path("demo.log"), "w", encoding="utf-8") as f:
            f.write(out + err)
        inval = [ln for ln in out.splitlines()
                 if re.match(r"^  \S+ \S+  /", ln)]
        # "/index.html" itself, or a wildcard covering it: the planner may
        # rightly send "/*" when the whole site changed (a first deploy).
        paths = [p for ln in inval for p in ln.split()[2:]]
        ok = rc == 0 and any(p == "/index.html" or (p.endswith("*") and
                                                   "/index.html".startswith(
                                                       p[:-1]))
                             for p in paths)
        return ok, "invalidations %r\n%s\ndaemon log:\n%s" % (
            inval, show(rc, out, err), s3itest.tail(daemon["p"].log_path))
    t.case(descs[2], demo)

    def sigterm():
        p = daemon["p"]
        grace = str(doc["services"]["s3inval"].get("stop_grace_period",
                                                   "10s"))
        m = re.match(r"^(\d+)s$", grace)
        limit = int(m.group(1)) if m else 10
        t0 = time.time()
        os.kill(p.pid, signal.SIGTERM)
        try:
            rc = p.proc.wait(limit)
        except subprocess.TimeoutExpired:
            rc = None
        dt = time.time() - t0
        s3itest.stop(p)
        hrc, hout, herr = health(10)
        return rc == 0 and hrc == 1, "daemon exit %r after %.1fs (limit " \
            "%ds); healthcheck afterwards %s" % (rc, dt, limit,
                                                 show(hrc, hout, herr))
    t.case(descs[3], sigterm)
    s3itest.stop(moto)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, scenario, budget=420, peers=False))
