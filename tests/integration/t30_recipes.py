#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t30_recipes: the README's CI recipes run (issue 11, item 7), so they
cannot rot.

Each recipe is the YAML block after a `<!-- recipe: NAME -->` line of
README.md (github-actions, gitlab-ci).  It is parsed as YAML, and what a CI
service would do with it is done here with the real binary against moto
behind the SigV4 verifier (for S3) and moto's CloudFront:

- the service container: `s3inval -f` (the image's ENTRYPOINT and CMD)
  with the service's env / variables, as written;
- each step (GitHub `run:`; GitLab `script:` lines, in one shell): run by
  bash -e with the job's env / variables, as written; a GitHub step
  `docker exec ${{ job.services.s3inval.id }} CMD` runs CMD with the
  service's environment; a GitLab job whose image is s3inval's (the
  pre-flight) runs with its own variables while no daemon runs;
- `s3inval` on PATH is the build's binary, `aws` is aws-cli v2 (or v1),
  `curl` is curl.

What stands for the world outside (and only this), in every string of the
recipe: the secrets and CI/CD variables (DEPLOY_CLIENT_SECRET, the
UPSTREAM_AWS_* keys = the verifier's, DEPLOY_ADMIN_TOKEN), the upstream
endpoint (the verifier), the distribution id (moto's), the ports (free
ones: localhost:8080, s3inval:8080 -> 127.0.0.1:P; 0.0.0.0:9090 ->
127.0.0.1:A, and the name s3inval:A through curl --connect-to, so the
admin listener still sees the Host the job sends), `make site` (a
generated site in public/).  What the image gives the service is given as
environment: its file's listen (127.0.0.1:P here) and state_dir (a scratch
folder), the admin address when the recipe leaves it (127.0.0.1:A), and
CloudFront at moto (S3INVAL_CLOUDFRONT_ENDPOINT); /etc/s3inval/s3inval.conf
is a scratch copy of the image's file.

Checked per recipe: every secret a recipe uses is in the README's table of
secrets; every step exits 0 (the pre-flight with every check OK, the sync,
the flush, which waits for Completed); the bucket then holds the site; the
invalidation reached moto.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import re
    import secrets
    import shutil
    import subprocess
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t30_recipes"
BUCKET = "blog"
REGION = "eu-west-1"
README = os.path.join(s3itest.TOP_SRCDIR, "README.md")
EXEC = "docker exec ${{ job.services.s3inval.id }} "
IMAGE_CONF = "/etc/s3inval/s3inval.conf"


def recipes():
    """{name: yaml text} of the marked blocks of README.md."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    out = {}
    for m in re.finditer(r"^<!-- recipe: (\S+) -->\n```yaml\n(.*?)^```\n"
                         r"<!-- /recipe -->$", text, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out, text


def secret_table(readme):
    """The names in the table of secrets of the README's recipes section."""
    sec = readme[readme.index("### Recipes"):readme.index("<!-- recipe:")]
    names = set()
    for a, b in re.findall(r"^\| `([A-Z0-9_]+)`(?:, `([A-Z0-9_]+)`)?", sec,
                           re.M):
        names |= {a, b}
    return names - {""}


class World:
    """What stands for the outside, and the substitutions into recipes."""

    def __init__(self, ws, name, moto_url, verifier_url, dist):
        self.ws = ws
        self.job = ws.scratch_path("job-" + name)
        s3itest.make_site_tree(os.path.join(self.job, "public"), n_files=30)
        self.moto_url = moto_url
        self.port = s3itest.free_port()
        self.admin = s3itest.free_port()
        self.secrets = {
            "DEPLOY_CLIENT_SECRET": secrets.token_urlsafe(30)[:40],
            "UPSTREAM_AWS_ACCESS_KEY_ID": s3itest.UPSTREAM_AK,
            "UPSTREAM_AWS_SECRET_ACCESS_KEY": s3itest.UPSTREAM_SK,
            "DEPLOY_ADMIN_TOKEN": secrets.token_urlsafe(24),
        }
        self.image_conf = ws.path("image-s3inval.conf")
        with open(self.image_conf, "w", encoding="utf-8") as f:
            f.write("[server]\nlisten = 0.0.0.0:8080\n")
        self.subs = [
            ("https://s3.eu-west-1.amazonaws.com", verifier_url),
            ("E2EXAMPLE1", dist),
            ("http://localhost:8080", "http://127.0.0.1:%d" % self.port),
            ("http://s3inval:8080", "http://127.0.0.1:%d" % self.port),
            ("0.0.0.0:9090", "127.0.0.1:%d" % self.admin),
            ("s3inval:9090", "s3inval:%d" % self.admin),
            (IMAGE_CONF, self.image_conf),
        ]
        for k, v in self.secrets.items():
            self.subs.append(("${{ secrets.%s }}" % k, v))
        self.bin = ws.scratch_path("bin-" + name)
        os.makedirs(self.bin)
        os.symlink(s3itest.S3INVAL_BIN, os.path.join(self.bin, "s3inval"))
        aws, _ = s3itest.find_aws(2)
        if aws is None:
            aws, _ = s3itest.find_aws(1)
        self.aws = aws
        self.path = os.pathsep.join([self.bin, os.path.dirname(aws or "/"),
                                     os.environ.get("PATH", "")])

    def sub(self, s):
        s = str(s)
        for old, new in self.subs:
            s = s.replace(old, new)
        return s

    def gitlab_vars(self, vs):
        """GitLab's expansion of $NAME in variables: the CI/CD ones."""
        return {k: re.sub(r"\$(\w+)", lambda m: self.secrets.get(
            m.group(1), m.group(0)), self.sub(v)) for k, v in vs.items()}

    def base_env(self, extra):
        env = s3itest.clean_env({
            "PATH": self.path, "HOME": self.ws.scratch_path(),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
            "LC_ALL": "C.UTF-8"})
        env.update(extra)
        return env

    def service_env(self, name, vs):
        """The service container's environment: its variables, as written,
        over what the image gives."""
        image = {
            "S3INVAL_SERVER_LISTEN": "127.0.0.1:%d" % self.port,
            "S3INVAL_SERVER_ADMIN_LISTEN": "127.0.0.1:%d" % self.admin,
            "S3INVAL_SERVER_STATE_DIR": self.ws.scratch_path(
                "state-" + name),
            "S3INVAL_CLOUDFRONT_ENDPOINT": self.moto_url,
        }
        image.update(vs)
        return self.base_env(image)

    def shell(self, script, env, log):
        """bash -e: (rc, output).  curl reaches the service's alias."""
        prelude = ('curl() { command curl --connect-to "s3inval:%d:'
                   '127.0.0.1:%d" "$@"; }\n' % (self.admin, self.admin))
        p = subprocess.run(["bash", "-e", "-c", prelude + script], env=env,
                           cwd=self.job,
                           capture_output=True, timeout=300)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        with open(self.ws.path(log), "w", encoding="utf-8") as f:
            f.write("$ %s\nrc=%d\n%s" % (script, p.returncode, out))
        return p.returncode, out


def start_service(world, name, env):
    """`s3inval -f` as the image runs it, until both listeners accept."""
    cfg = env.copy()
    d = s3itest.spawn("service-" + name, [s3itest.S3INVAL_BIN, "-f"],
                      world.ws.logdir, cfg)
    s3itest.wait_port(world.port, d, 20)
    s3itest.wait_port(world.admin, d, 20)
    return d


def check_result(t, world, name, cf, dist, steps_ok, diag):
    ok, why = s3itest.compare_bucket(world.moto_url, BUCKET,
                                     os.path.join(world.job, "public"))
    t.ok(steps_ok and ok, "%s: every step exits 0; the bucket holds the "
         "site" % name, "%s\n%s" % (diag, why))
    paths = s3itest.moto_invalidated_paths(cf, dist)
    t.ok(any(p == "/index.html" or (p.endswith("*") and
                                    "/index.html".startswith(p[:-1]))
             for p in paths),
         "%s: the invalidation reached CloudFront (moto) before the flush "
         "step returned" % name, "paths %r" % sorted(paths)[:20])


def github(t, world, doc, cf, dist):
    job = doc["jobs"]["deploy"]
    svc = job["services"]["s3inval"]
    senv = world.service_env("gh", {k: world.sub(v) for k, v in
                                    svc["env"].items()})
    jenv = world.base_env({k: world.sub(v) for k, v in job["env"].items()})
    d = start_service(world, "gh", senv)
    results, diag = [], []
    for step in job["steps"]:
        if "uses" in step:
            continue
        run = step["run"]
        name = step.get("name", run)
        if run.strip() == "make site":
            continue        # the site is already in public/
        if run.startswith(EXEC):
            rc, out = world.shell(world.sub(run[len(EXEC):]), senv,
                                  "gh-%s.log" % len(results))
        else:
            rc, out = world.shell(world.sub(run), jenv,
                                  "gh-%s.log" % len(results))
        results.append((name, rc))
        diag.append("--- %s: rc %d\n%s" % (name, rc, out[-1500:]))
        if name == "Pre-flight":
            t.ok(rc == 0 and re.search(r"^OK +bucket blog: reachable", out,
                                       re.M) and
                 not re.search(r"^(FAIL|WARN|SKIP) ", out, re.M),
                 "github-actions: the pre-flight step (check-config "
                 "--online in the running service) passes, every check OK",
                 out)
    s3itest.stop(d)
    check_result(t, world, "github-actions", cf, dist,
                 [n for n, _ in results] == ["Pre-flight", "Upload",
                                             "Wait for CloudFront"] and
                 all(rc == 0 for _, rc in results),
                 "\n".join(diag) + "\ndaemon:\n" + s3itest.tail(d.log_path))


def gitlab(t, world, doc, cf, dist):
    pre, dep = doc["preflight"], doc["deploy"]
    # The pre-flight job runs in s3inval's image, with no daemon.
    # A job's environment holds the project's CI/CD variables too.
    penv = world.service_env("gl-pre", dict(world.secrets,
                                            **world.gitlab_vars(
                                                pre["variables"])))
    rc, out = world.shell("\n".join(world.sub(x) for x in pre["script"]),
                          penv, "gl-preflight.log")
    t.ok(rc == 0 and re.search(r"^OK +listen .*: bindable", out, re.M) and
         not re.search(r"^(FAIL|WARN|SKIP) ", out, re.M),
         "gitlab-ci: the preflight job (check-config --online in the "
         "image, no daemon yet) passes, every check OK", out)
    svc = dep["services"][0]
    senv = world.service_env("gl", world.gitlab_vars(svc["variables"]))
    # A job's variables and the CI/CD variables are in its environment.
    jenv = world.base_env(dict(world.secrets, **world.gitlab_vars(
        dep.get("variables") or {})))
    d = start_service(world, "gl", senv)
    rc, out = world.shell("\n".join(world.sub(x) for x in dep["script"]),
                          jenv, "gl-deploy.log")
    s3itest.stop(d)
    check_result(t, world, "gitlab-ci", cf, dist, rc == 0,
                 "rc %d\n%s\ndaemon:\n%s" % (rc, out[-3000:],
                                             s3itest.tail(d.log_path)))


def run(t, ws):
    import boto3
    try:
        import yaml
    except ImportError:
        t.missing_tool("the recipes, read as YAML", "no python yaml module "
                       "(Debian: python3-yaml)")
        return
    found, readme = recipes()
    t.ok(set(found) == {"github-actions", "gitlab-ci"},
         "README.md marks the two recipes (<!-- recipe: NAME --> before a "
         "yaml block)", "found %r" % sorted(found))
    listed = secret_table(readme)
    for name, text in sorted(found.items()):
        used = set(re.findall(r"\$\{\{ secrets\.(\w+) \}\}", text)) | \
            set(re.findall(r"\$([A-Z][A-Z0-9_]+)\b", text))
        t.ok(used and used <= listed,
             "%s: every secret it uses is in the README's table of secrets "
             "(%s)" % (name, ", ".join(sorted(used))),
             "used %r, listed %r" % (sorted(used), sorted(listed)))

    moto, moto_url = s3itest.start_moto(ws.logdir)
    verifier = s3itest.start_verifier(ws.logdir, moto_url, region=REGION)
    for name, fn in (("github-actions", github), ("gitlab-ci", gitlab)):
        # Each recipe deploys to an empty bucket in the recipes' region.
        s3itest.reset_moto(moto_url)
        boto3.client("s3", endpoint_url=moto_url, region_name=REGION,
                     aws_access_key_id="moto",
                     aws_secret_access_key="moto").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={
                "LocationConstraint": REGION})
        cf, dist = s3itest.moto_distribution(moto_url, BUCKET)
        world = World(ws, name, moto_url, verifier.url, dist)
        fn(t, world, yaml.safe_load(found[name]), cf, dist)
    s3itest.stop(verifier)
    s3itest.stop(moto)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=300))
