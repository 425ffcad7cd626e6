# SPDX-License-Identifier: Apache-2.0
"""
awscli_scenario: the aws-cli scenario of t03 (v1) and t04 (v2), one
scenario for two clients: through s3inval with auth.mode = sigv4, against
moto_server behind the SigV4 verifier: s3 mb; s3 sync of 200 files (nested
folders, index.html, special-character keys); a 50 MiB multipart upload;
edits and sync --delete; s3 cp S3->S3 small (CopyObject) and 50 MiB
(UploadPartCopy); s3 ls; s3api head-object; ranged get-object; s3api
delete-objects; s3 rm --recursive; s3 rb; a read-only key and a wrong
secret refused without anything going upstream.  After each write step
the bucket, listed and read directly from moto, equals the local tree byte
for byte; at the end the verifier has rejected nothing and the daemon
exits 0 on SIGTERM.
"""

import hashlib
import json
import os
import re
import shutil

import s3itest
from s3itest import (MiB, READER_AK, READER_SK, compare_bucket, edit_tree,
                     make_site_tree, moto_client, remove_from_tree,
                     repair_bucket, run_aws, stop, tail, tree_digest,
                     verifier_lines, write_big_file, write_file)

BUDGET = 170     # seconds; about 30 s when all is well


def run(t, ws, version):
    """The scenario with aws-cli v`version`."""
    exe, why = s3itest.find_aws(version)
    if exe is None:
        t.missing_tool("aws-cli v%d scenario" % version, why)
        return
    t.diag("using %s (%s)" % (exe, why))
    steps(t, ws, s3itest.Stack(ws), version)


def steps(t, ws, stack, version):
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
