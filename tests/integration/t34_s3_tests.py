#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t34_s3_tests: the three ceph/s3-tests cases that failed through the first
release, redone with boto3, aws-cli v1 (`aws`) and aws-cli v2
(`/usr/bin/aws`) through the real binary, moto behind the SigV4 verifier
(issue 13, "Transparency"; s3-tests itself cannot be installed here).

- test_object_set_get_metadata_none_to_empty: PutObject of "bar" with
  x-amz-meta-meta1 set to the empty string into a new bucket; GetObject
  gives meta1 back, empty.
- test_object_set_get_metadata_overwrite_to_empty: meta1 "oldmeta", read
  back; then the same key with meta1 "", read back empty.
- test_buckets_create_then_list: five buckets created through the proxy
  are all in its ListBuckets.

The empty header must reach the upstream as S3 would get it from the
client: present, empty and signed (in SignedHeaders); the verifier
recomputes every upstream signature, so a header dropped from the request
but left in SignedHeaders, or signed with a value other than the one sent,
is a rejection there.  ListBuckets is the upstream's list, filtered: a
client granted two buckets, one of them an alias ([bucket NAME] with
upstream_bucket), sees exactly those two, under the names it uses.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import json
    import re
    import uuid
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

NAME = "t34_s3_tests"
LIMITED_AK = "AKIDLIMITEDEXAMPLE01"
LIMITED_SK = "limitedSecretKeyEXAMPLE0123456789abcdef"
SEEN_A = "s3t-limited-a"          # granted by its own name
ALIAS = "s3t-limited-alias"       # granted; upstream it is REAL
REAL = "s3t-limited-real"
HIDDEN = "s3t-limited-hidden"     # upstream, not granted


def new_bucket_name(prefix):
    """s3-tests' get_new_bucket_name(): a prefix and a random part."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


class Boto3:
    """The s3-tests calls, made with boto3 (what s3-tests itself uses)."""

    label = "boto3"

    def __init__(self, url, ak=s3itest.DEPLOY_AK, sk=s3itest.DEPLOY_SK):
        self.c = s3itest.s3_client(url, ak, sk)

    def create_bucket(self, name):
        self.c.create_bucket(Bucket=name)

    def put(self, bucket, meta):
        self.c.put_object(Bucket=bucket, Key="foo", Body="bar",
                          Metadata={"meta1": meta})

    def get_meta(self, bucket):
        r = self.c.get_object(Bucket=bucket, Key="foo")
        if r["Body"].read() != b"bar":
            raise AssertionError("GetObject did not give the bytes back")
        return r["Metadata"]

    def list_buckets(self):
        return [b["Name"] for b in self.c.list_buckets()["Buckets"]]


class AwsCli:
    """The same calls with aws-cli v1 or v2 (s3api, JSON output)."""

    def __init__(self, version, url, log_path, scratch,
                 ak=s3itest.DEPLOY_AK, sk=s3itest.DEPLOY_SK):
        self.version = version
        self.label = "aws-cli v%d" % version
        self.url = url
        self.log_path = log_path
        self.scratch = scratch
        self.env = {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk}

    def aws(self, *args):
        rc, out, err = s3itest.run_aws(self.version, list(args) + [
            "--output", "json"], env=self.env, endpoint=self.url,
            log_path=self.log_path, timeout=120)
        if rc != 0:
            raise AssertionError("aws %s: rc %d\n%s%s" % (
                " ".join(args), rc, out, err))
        return json.loads(out) if out.strip() else {}

    def create_bucket(self, name):
        self.aws("s3api", "create-bucket", "--bucket", name)

    def put(self, bucket, meta):
        body = os.path.join(self.scratch, "bar")
        with open(body, "wb") as f:
            f.write(b"bar")
        # The shorthand "meta1=" is an empty value (checked on the wire
        # below), as s3-tests' Metadata={'meta1': ''}.
        self.aws("s3api", "put-object", "--bucket", bucket, "--key", "foo",
                 "--body", body, "--metadata", "meta1=" + meta)

    def get_meta(self, bucket):
        out = os.path.join(self.scratch, "foo.out")
        r = self.aws("s3api", "get-object", "--bucket", bucket, "--key",
                     "foo", out)
        with open(out, "rb") as f:
            if f.read() != b"bar":
                raise AssertionError("get-object did not give the bytes "
                                     "back")
        return r.get("Metadata", {})

    def list_buckets(self):
        return [b["Name"] for b in self.aws("s3api", "list-buckets")
                .get("Buckets", [])]


def upstream_puts(stack, bucket):
    """The header blocks of the PutObject requests of bucket/foo that
    reached the verifier, as [{name lower: value}]."""
    out = []
    text = "\n".join(stack.verifier.log_lines())
    for m in re.finditer(r"^\S+ PUT /%s/foo HTTP/\S+ from \S+\n((?:    .*"
                         r"\n?)*)" % re.escape(bucket), text, re.M):
        hdrs = {}
        for line in m.group(1).splitlines():
            k, _, v = line.strip().partition(":")
            hdrs[k.lower()] = v.strip()
        out.append(hdrs)
    return out


def signed_empty(stack, bucket):
    """(ok, diag): the last PutObject of bucket/foo upstream carried
    x-amz-meta-meta1, empty, and signed it."""
    puts = upstream_puts(stack, bucket)
    if not puts:
        return False, "no PUT /%s/foo in the verifier's log" % bucket
    h = puts[-1]
    signed = re.search(r"SignedHeaders=([^,\s]+)", h.get("authorization",
                                                          ""))
    ok = h.get("x-amz-meta-meta1") == "" and signed is not None and \
        "x-amz-meta-meta1" in signed.group(1).split(";")
    return ok, "upstream headers: %r" % h


def scenario(t, stack, client, tag):
    """The three s3-tests cases with one client."""
    label = client.label

    def none_to_empty():
        b = new_bucket_name("s3t-%s-none" % tag)
        client.create_bucket(b)
        client.put(b, "")
        got = client.get_meta(b)
        ok, diag = signed_empty(stack, b)
        return got == {"meta1": ""} and ok, "metadata read back %r; %s" % (
            got, diag)
    t.case("%s: test_object_set_get_metadata_none_to_empty (meta1 '' "
           "stored, read back empty, signed upstream)" % label,
           none_to_empty)

    def overwrite_to_empty():
        b = new_bucket_name("s3t-%s-over" % tag)
        client.create_bucket(b)
        client.put(b, "oldmeta")
        first = client.get_meta(b)
        client.put(b, "")
        second = client.get_meta(b)
        ok, diag = signed_empty(stack, b)
        return first == {"meta1": "oldmeta"} and second == {"meta1": ""} \
            and ok, "read back %r then %r; %s" % (first, second, diag)
    t.case("%s: test_object_set_get_metadata_overwrite_to_empty" % label,
           overwrite_to_empty)

    def create_then_list():
        names = [new_bucket_name("s3t-%s-list" % tag) for _ in range(5)]
        for n in names:
            client.create_bucket(n)
        listed = client.list_buckets()
        upstream = [b["Name"] for b in s3itest.moto_client(
            stack.moto_url).list_buckets()["Buckets"]]
        missing = [n for n in names if n not in listed]
        return not missing and all(n in upstream for n in names), \
            "not listed through the proxy: %r; listed %r" % (missing,
                                                            listed)
    t.case("%s: test_buckets_create_then_list (5 buckets created through "
           "the proxy are listed)" % label, create_then_list)


def run(t, ws):
    stack = s3itest.Stack(ws, config_sections={
        "client limited": {"access_key_id": LIMITED_AK,
                           "secret_access_key": LIMITED_SK,
                           "buckets": "%s:r, %s:rw" % (SEEN_A, ALIAS)},
        "bucket " + ALIAS: {"upstream_bucket": REAL}})
    direct = s3itest.moto_client(stack.moto_url)
    for b in (SEEN_A, REAL, HIDDEN):
        direct.create_bucket(Bucket=b)
    aws_log = ws.path("aws.log")
    clients = [(Boto3(stack.url), "b3", Boto3(stack.url, LIMITED_AK,
                                              LIMITED_SK))]
    for v in (1, 2):
        exe, why = s3itest.find_aws(v)
        if exe is None:
            t.missing_tool("aws-cli v%d scenario" % v, why)
            continue
        scratch = ws.scratch_path("v%d" % v)
        os.makedirs(scratch)
        clients.append((AwsCli(v, stack.url, aws_log, scratch), "v%d" % v,
                        AwsCli(v, stack.url, aws_log, scratch, LIMITED_AK,
                               LIMITED_SK)))
    for client, tag, limited in clients:
        scenario(t, stack, client, tag)

        def filtered(limited=limited, client=client):
            mine = sorted(limited.list_buckets())
            everyone = client.list_buckets()
            return mine == sorted([SEEN_A, ALIAS]) and \
                HIDDEN in everyone and REAL in everyone, \
                "limited client sees %r; deploy client sees %r" % (
                    mine, everyone)
        t.case("%s: ListBuckets is filtered to the buckets a client may "
               "read, under its names (%s, and %s for upstream %s)" % (
                   client.label, SEEN_A, ALIAS, REAL), filtered)
    t.case("the verifier rejected no upstream signature",
           stack.verifier_clean)


if __name__ == "__main__":
    sys.exit(s3itest.main(NAME, run, budget=300))
