# SPDX-License-Identifier: Apache-2.0
"""moto_server: started on a free port, reset, read directly (it checks
no signature), and its CloudFront distributions and invalidations."""

import hashlib
import os
import shutil
import time

from .daemon import write_config
from .procs import StartError, free_port, spawn, tail, wait_port
from .rawhttp import http_request
from .sdk import s3_client
from .trees import MiB, tree_digest


def start_moto(logdir, timeout=30.0):
    """moto_server on a free port: returns (Proc, url) once it answers."""
    exe = shutil.which("moto_server")
    if exe is None:
        raise StartError("moto_server not found on PATH")
    port = free_port()
    p = spawn("moto", [exe, "-H", "127.0.0.1", "-p", str(port)], logdir,
              url_port=port)
    wait_port(port, p, timeout)
    deadline = time.time() + timeout
    while True:
        try:
            st, _, _ = http_request(p.url + "/moto-api/", timeout=5)
            if st < 500:
                break
        except OSError:
            pass
        if time.time() > deadline or not p.alive():
            raise StartError("moto_server not answering; log:\n%s"
                             % tail(p.log_path))
        time.sleep(0.1)
    return p, p.url


def reset_moto(url):
    st, _, body = http_request(url + "/moto-api/reset", "POST")
    if st != 200:
        raise RuntimeError("moto reset: %d %r" % (st, body[:200]))


def moto_client(moto_url):
    """boto3 straight to moto (it checks no signature: any keys).  It
    validates no response checksum: the bytes are what we compare, and a
    mismatch must be reported as one, not raised."""
    return s3_client(moto_url, "AKIDDIRECTTOMOTO0000", "x" * 40,
                     max_attempts=3,
                     response_checksum_validation="when_required",
                     request_checksum_calculation="when_required")


def moto_object(moto_url, bucket, key):
    """The bytes of bucket/key as moto holds them, or None when absent."""
    c = moto_client(moto_url)
    try:
        return c.get_object(Bucket=bucket, Key=key)["Body"].read()
    except c.exceptions.NoSuchKey:
        return None


def bucket_digest(moto_url, bucket):
    """{key: (size, sha256)} of every object, listed and read from moto."""
    c = moto_client(moto_url)
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = c.get_object(Bucket=bucket, Key=o["Key"])["Body"]
            h = hashlib.sha256()
            n = 0
            for chunk in iter(lambda: body.read(MiB), b""):
                h.update(chunk)
                n += len(chunk)
            if n != o["Size"]:
                raise RuntimeError("moto listed %r as %d bytes, read %d" % (
                    o["Key"], o["Size"], n))
            out[o["Key"]] = (n, h.hexdigest())
    return out


def moto_distribution(moto_url, name, origin_path="", domain=None):
    """A CloudFront distribution created at moto for an S3 origin `name`
    (domain: another origin DomainName; origin_path: its OriginPath);
    returns (boto3 cloudfront client to moto, distribution id)."""
    import boto3
    cf = boto3.client("cloudfront", endpoint_url=moto_url,
                      aws_access_key_id="moto", aws_secret_access_key="moto",
                      region_name="us-east-1")
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": "s3itest-" + name,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "o", "DomainName": domain or name + ".s3.amazonaws.com",
            "OriginPath": origin_path,
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0, "ForwardedValues": {
                "QueryString": False, "Cookies": {"Forward": "none"}}},
        "Comment": "", "Enabled": True})["Distribution"]["Id"]
    return cf, dist


def moto_invalidated_paths(cf, dist):
    """Every path of every invalidation moto holds for dist, as a set."""
    out = set()
    for s in cf.list_invalidations(DistributionId=dist)[
            "InvalidationList"].get("Items", []):
        inv = cf.get_invalidation(DistributionId=dist, Id=s["Id"])
        out |= set(inv["Invalidation"]["InvalidationBatch"]["Paths"]
                   .get("Items", []))
    return out


def moto_cf_config(dir, moto_url, bucket, dist, name, **overrides):
    """write_config() for a daemon in front of moto that invalidates
    bucket's writes at moto's distribution dist quickly (quiet period and
    polling 200 ms, 50 calls/s); overrides as for write_config()."""
    kw = dict(cloudfront__endpoint=moto_url,
              cloudfront__quiet_period="200ms",
              cloudfront__poll_interval="200ms",
              cloudfront__max_requests_per_second="50")
    kw.update(overrides)
    return write_config(dir, moto_url, name=name,
                        sections={"bucket " + bucket: {"distributions":
                                                       dist}}, **kw)


def compare_bucket(moto_url, bucket, root, prefix=""):
    """(equal, diag): the bucket read from moto vs the local tree."""
    want = tree_digest(root, prefix) if root is not None else {}
    got = bucket_digest(moto_url, bucket)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if not (missing or extra or differ):
        return True, "%d objects equal" % len(want)
    lines = ["bucket %s (moto) differs from %s: %d missing, %d extra, "
             "%d differ (%d objects expected, %d present)" % (
                 bucket, root, len(missing), len(extra), len(differ),
                 len(want), len(got))]
    for what, keys in (("missing", missing), ("extra", extra)):
        for k in keys[:10]:
            lines.append("  %s: %r" % (what, k))
        if len(keys) > 10:
            lines.append("  ... %d more %s" % (len(keys) - 10, what))
    for k in differ[:10]:
        lines.append("  differs: %r local %d bytes %s, moto %d bytes %s" % (
            k, want[k][0], want[k][1][:12], got[k][0], got[k][1][:12]))
    return False, "\n".join(lines)


def repair_bucket(moto_url, bucket, root, prefix=""):
    """Make the bucket equal the local tree, directly in moto, so that one
    failed step does not fail every later one."""
    c = moto_client(moto_url)
    want = tree_digest(root, prefix) if root is not None else {}
    got = bucket_digest(moto_url, bucket)
    for k in set(got) - set(want):
        c.delete_object(Bucket=bucket, Key=k)
    for k, v in want.items():
        if got.get(k) != v:
            with open(os.path.join(root, k[len(prefix):]), "rb") as f:
                c.put_object(Bucket=bucket, Key=k, Body=f,
                             ContentType="application/octet-stream")
