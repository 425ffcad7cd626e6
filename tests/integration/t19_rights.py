#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t19_rights: rights that match the work (issue 14, build item 4; DESIGN §9:
r, w, rw, admin).  Through the real binary, with boto3, aws-cli v1 and
aws-cli v2, against moto behind the SigV4 verifier:

- rw: PutBucketPolicy, PutBucketAcl, PutBucketCors, PutBucketWebsite and
  DeleteBucket get 403 AccessDenied naming the admin right, and nothing
  reaches the upstream (the verifier sees no request; moto's bucket keeps
  no policy, ACL, CORS or website and still exists).
- rw, admin: the same five work, and CreateBucket goes upstream.
- w alone can put, not get; r alone can get, not put; each 403 names the
  missing right.
- CreateBucket of its own bucket by an rw key is answered as S3 answers
  the bucket's owner, without forwarding: 409 BucketAlreadyOwnedByYou
  outside us-east-1; 200 in us-east-1.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t19_rights"
BUCKET = "t19-blog"
KEYS = {
    "rw": ("AKIDT19RW0000000001", "t19RwSecretKeyEXAMPLE0123456789abcdefghi",
           "*:rw"),
    "admin": ("AKIDT19ADMIN0000001", "t19AdminSecretKeyEXAMPLE0123456789abcde",
              "*:rw, *:admin"),
    "w": ("AKIDT19WONLY0000001", "t19WSecretKeyEXAMPLE0123456789abcdefghij",
          BUCKET + ":w"),
    "r": ("AKIDT19RONLY0000001", "t19RSecretKeyEXAMPLE0123456789abcdefghij",
          BUCKET + ":r"),
}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET}]})
CORS = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
WEBSITE = {"IndexDocument": {"Suffix": "index.html"}}

# The five bucket-level writes of the issue, as boto3 calls and as aws-cli
# arguments; "empty" stands for the bucket DeleteBucket may remove.
BOTO = [
    ("PutBucketPolicy", lambda s3, b: s3.put_bucket_policy(
        Bucket=b, Policy=POLICY)),
    ("PutBucketAcl", lambda s3, b: s3.put_bucket_acl(
        Bucket=b, ACL="public-read")),
    ("PutBucketCors", lambda s3, b: s3.put_bucket_cors(
        Bucket=b, CORSConfiguration=CORS)),
    ("PutBucketWebsite", lambda s3, b: s3.put_bucket_website(
        Bucket=b, WebsiteConfiguration=WEBSITE)),
    ("DeleteBucket", lambda s3, b: s3.delete_bucket(Bucket=b)),
]
CLI = [
    ("PutBucketPolicy", ["s3api", "put-bucket-policy", "--policy", POLICY]),
    ("PutBucketAcl", ["s3api", "put-bucket-acl", "--acl", "public-read"]),
    ("PutBucketCors", ["s3api", "put-bucket-cors", "--cors-configuration",
                       json.dumps(CORS)]),
    ("PutBucketWebsite", ["s3api", "put-bucket-website",
                          "--website-configuration", json.dumps(WEBSITE)]),
    ("DeleteBucket", ["s3api", "delete-bucket"]),
]


class Ctx:
    def __init__(self, ws):
        sections = {"client reader": None}
        for name, (ak, sk, grants) in KEYS.items():
            sections["client " + name] = {"access_key_id": ak,
                                          "secret_access_key": sk,
                                          "buckets": grants}
        self.stack = s3itest.Stack(ws, config_sections=sections)
        self.url = self.stack.url
        self.direct = s3itest.moto_client(self.stack.moto_url)
        self.direct.create_bucket(Bucket=BUCKET)
        self.aws_log = ws.path("aws.log")

    def s3(self, who):
        ak, sk, _ = KEYS[who]
        return s3itest.s3_client(self.url, ak, sk)

    def seen(self):
        return self.stack.verifier.stats()["seen"]

    def aws(self, version, who, args):
        ak, sk, _ = KEYS[who]
        return s3itest.run_aws(version, args, endpoint=self.url,
                               log_path=self.aws_log, timeout=120, env={
                                   "AWS_ACCESS_KEY_ID": ak,
                                   "AWS_SECRET_ACCESS_KEY": sk,
                                   "AWS_MAX_ATTEMPTS": "1"})

    def untouched(self):
        """moto's bucket as it was made: (ok, what was found)."""
        found = []
        for what, call in (
                ("policy", lambda: self.direct.get_bucket_policy(
                    Bucket=BUCKET)),
                ("cors", lambda: self.direct.get_bucket_cors(Bucket=BUCKET)),
                ("website", lambda: self.direct.get_bucket_website(
                    Bucket=BUCKET))):
            try:
                call()
                found.append(what)
            except self.direct.exceptions.ClientError:
                pass
        grants = self.direct.get_bucket_acl(Bucket=BUCKET)["Grants"]
        if any(g["Grantee"].get("URI", "").endswith("/AllUsers")
               for g in grants):
            found.append("public ACL")
        names = [b["Name"] for b in self.direct.list_buckets()["Buckets"]]
        if BUCKET not in names:
            found.append("bucket deleted")
        return not found, found


def denied(msg, right, op=None):
    """An AccessDenied message names the right (and the operation)."""
    return ("needs the %s right" % right) in msg and (op is None or op in
                                                     msg)


def run(t, ws):
    from botocore.exceptions import ClientError
    cx = Ctx(ws)
    versions = []
    for v in (1, 2):
        exe, why = s3itest.find_aws(v)
        if exe is None:
            t.missing_tool("aws-cli v%d" % v, why)
        else:
            versions.append(v)

    # --- rw never reaches bucket configuration -----------------------------
    def rw_boto3(op, call):
        def fn():
            n0 = cx.seen()
            try:
                call(cx.s3("rw"), BUCKET)
                return False, "%s succeeded with rw" % op
            except ClientError as e:
                err = e.response["Error"]
                st = e.response["ResponseMetadata"]["HTTPStatusCode"]
            return (st == 403 and err["Code"] == "AccessDenied" and
                    denied(err.get("Message", ""), "admin", op) and
                    cx.seen() == n0), (st, err, n0, cx.seen())
        return fn
    for op, call in BOTO:
        t.case("boto3, rw: %s is 403 AccessDenied naming admin, nothing "
               "forwarded" % op, rw_boto3(op, call))

    def rw_cli(version, op, args):
        def fn():
            n0 = cx.seen()
            rc, out, err = cx.aws(version, "rw", args + ["--bucket", BUCKET])
            return (rc != 0 and "AccessDenied" in err and
                    denied(err, "admin", op) and cx.seen() == n0), \
                "rc %d\n%s%s\nupstream %d -> %d" % (rc, out, err, n0,
                                                    cx.seen())
        return fn
    for v in versions:
        for op, args in CLI:
            t.case("aws-cli v%d, rw: %s is AccessDenied naming admin, "
                   "nothing forwarded" % (v, op), rw_cli(v, op, args))

    t.case("after all that, moto's bucket has no policy, CORS, website or "
           "public ACL, and exists", cx.untouched)
    t.case("the verifier saw none of those requests", lambda: (
        not s3itest.verifier_lines(
            cx.stack, r"^\S+ (PUT|DELETE) /%s(\?(policy|acl|cors|website)"
            r"\S*)? " % BUCKET), "see verifier-requests.log"))

    # --- CreateBucket of its own bucket, by rw ------------------------------
    def create_own():
        n0 = cx.seen()
        try:
            r = cx.s3("rw").create_bucket(Bucket=BUCKET)
            st, code = r["ResponseMetadata"]["HTTPStatusCode"], None
        except ClientError as e:
            st = e.response["ResponseMetadata"]["HTTPStatusCode"]
            code = e.response["Error"]["Code"]
        cx.own = (st, code)
        return ((st, code) in ((409, "BucketAlreadyOwnedByYou"),
                               (200, None)) and cx.seen() == n0), \
            (st, code, n0, cx.seen())
    t.case("boto3, rw: CreateBucket of its bucket is answered as its owner "
           "(409 BucketAlreadyOwnedByYou or 200), not forwarded", create_own)
    st, code = getattr(cx, "own", (None, None))
    t.ok(st == 200 and code is None, "in us-east-1 the owner's answer is "
         "200 OK (S3's legacy answer)", (st, code))

    def create_own_eu():
        conf = s3itest.write_config(
            ws.logdir, cx.stack.verifier.url, name="eu.conf",
            state_dir=ws.path("state-eu"), upstream__region="eu-west-1",
            sections={"client reader": None,
                      "client rw": {"access_key_id": KEYS["rw"][0],
                                    "secret_access_key": KEYS["rw"][1],
                                    "buckets": KEYS["rw"][2]}})
        d = s3itest.start_s3inval(conf, None, ws.logdir, name="s3inval-eu")
        n0 = cx.seen()
        s3 = s3itest.s3_client(d.url, KEYS["rw"][0], KEYS["rw"][1])
        try:
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
                "LocationConstraint": "eu-west-1"})
            got = (200, None)
        except ClientError as e:
            got = (e.response["ResponseMetadata"]["HTTPStatusCode"],
                   e.response["Error"]["Code"])
        s3itest.stop(d)
        return got == (409, "BucketAlreadyOwnedByYou") and \
            cx.seen() == n0, (got, n0, cx.seen())
    t.case("upstream in eu-west-1, rw: CreateBucket of its bucket is 409 "
           "BucketAlreadyOwnedByYou, not forwarded", create_own_eu)

    def rw_still_deploys():
        s3 = cx.s3("rw")
        s3.put_object(Bucket=BUCKET, Key="rw/page.html", Body=b"<p>rw</p>")
        data = s3.get_object(Bucket=BUCKET, Key="rw/page.html")["Body"] \
            .read()
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
            {"Key": "rw/page.html"}]})
        return data == b"<p>rw</p>", data
    t.case("boto3, rw: put, get and DeleteObjects still work", rw_still_deploys)

    # --- with admin they work ------------------------------------------------
    def admin_boto3():
        s3 = cx.s3("admin")
        cx.direct.create_bucket(Bucket="t19-empty-boto3")
        n0 = cx.seen()
        for op, call in BOTO:
            call(s3, "t19-empty-boto3" if op == "DeleteBucket" else BUCKET)
        pol = json.loads(cx.direct.get_bucket_policy(Bucket=BUCKET)["Policy"])
        web = cx.direct.get_bucket_website(Bucket=BUCKET)
        cors = cx.direct.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
        names = [b["Name"] for b in cx.direct.list_buckets()["Buckets"]]
        return (pol["Statement"][0]["Action"] == "s3:GetObject" and
                web["IndexDocument"]["Suffix"] == "index.html" and cors and
                "t19-empty-boto3" not in names and cx.seen() - n0 >= 5), \
            (pol, web, cors, names, cx.seen() - n0)
    t.case("boto3, rw + admin: the five work (policy, ACL, CORS and website "
           "set at moto, the bucket deleted)", admin_boto3)

    def admin_cli(version):
        def fn():
            empty = "t19-empty-v%d" % version
            cx.direct.create_bucket(Bucket=empty)
            cx.direct.delete_bucket_policy(Bucket=BUCKET)
            out = []
            for op, args in CLI:
                b = empty if op == "DeleteBucket" else BUCKET
                rc, so, se = cx.aws(version, "admin", args + ["--bucket", b])
                out.append((op, rc, se.strip()[-300:]))
            names = [b["Name"] for b in cx.direct.list_buckets()["Buckets"]]
            pol = cx.direct.get_bucket_policy(Bucket=BUCKET)["Policy"]
            return (all(rc == 0 for _, rc, _ in out) and empty not in names
                    and "s3:GetObject" in pol), out
        return fn
    for v in versions:
        t.case("aws-cli v%d, rw + admin: the five work" % v, admin_cli(v))

    def admin_creates():
        n0 = len(s3itest.verifier_lines(cx.stack, r"PUT /t19-new "))
        cx.s3("admin").create_bucket(Bucket="t19-new")
        names = [b["Name"] for b in cx.direct.list_buckets()["Buckets"]]
        n1 = len(s3itest.verifier_lines(cx.stack, r"PUT /t19-new "))
        return "t19-new" in names and n1 > n0, (names, n0, n1)
    t.case("boto3, admin: CreateBucket goes upstream and creates it",
           admin_creates)

    # --- w alone puts, r alone gets ----------------------------------------
    def w_puts_not_gets():
        s3 = cx.s3("w")
        s3.put_object(Bucket=BUCKET, Key="w/put.txt", Body=b"from w")
        stored = cx.direct.get_object(Bucket=BUCKET, Key="w/put.txt")[
            "Body"].read()
        n0 = cx.seen()
        try:
            s3.get_object(Bucket=BUCKET, Key="w/put.txt")
            return False, "w could read"
        except ClientError as e:
            err = e.response["Error"]
        return (stored == b"from w" and err["Code"] == "AccessDenied" and
                denied(err["Message"], "r", "GetObject") and
                cx.seen() == n0), (stored, err)
    t.case("boto3, w: PutObject works; GetObject is AccessDenied naming r, "
           "not forwarded", w_puts_not_gets)

    def w_cli(version):
        def fn():
            src = ws.scratch_path("w-v%d.txt" % version)
            with open(src, "wb") as f:
                f.write(b"cli w %d" % version)
            key = "s3://%s/w/cli-v%d.txt" % (BUCKET, version)
            rc1, o1, e1 = cx.aws(version, "w", ["s3", "cp", src, key])
            n0 = cx.seen()
            rc2, o2, e2 = cx.aws(version, "w", ["s3", "cp", key, "-"])
            stored = cx.direct.get_object(
                Bucket=BUCKET, Key="w/cli-v%d.txt" % version)["Body"].read()
            return (rc1 == 0 and stored == b"cli w %d" % version and
                    rc2 != 0 and ("403" in e2 or "AccessDenied" in e2 or
                                  "Forbidden" in e2) and cx.seen() == n0), \
                "cp up rc %d %s\ncp down rc %d %s" % (rc1, e1, rc2, e2)
        return fn
    for v in versions:
        t.case("aws-cli v%d, w: s3 cp up works, s3 cp down is refused, not "
               "forwarded" % v, w_cli(v))

    def r_gets_not_puts():
        s3 = cx.s3("r")
        data = s3.get_object(Bucket=BUCKET, Key="w/put.txt")["Body"].read()
        n0 = cx.seen()
        try:
            s3.put_object(Bucket=BUCKET, Key="r/no.txt", Body=b"no")
            return False, "r could write"
        except ClientError as e:
            err = e.response["Error"]
        return (data == b"from w" and err["Code"] == "AccessDenied" and
                denied(err["Message"], "w", "PutObject") and
                cx.seen() == n0), (data, err)
    t.case("boto3, r: GetObject works; PutObject is AccessDenied naming w, "
           "not forwarded", r_gets_not_puts)

    t.check("verifier: every upstream request correctly signed",
            cx.stack.verifier_clean)
    t.check("s3inval still running", cx.stack.proxy_alive)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=300))
