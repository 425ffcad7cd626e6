# SPDX-License-Identifier: Apache-2.0
"""boto3 and botocore: S3 clients to s3inval (or moto), and requests
signed by hand for the cases no SDK sends (through
tests/fixtures/fixture_sigv4.py, which the fixtures check with)."""

import hashlib

from .keys import DEPLOY_AK, DEPLOY_SK, REGION
from .layout import fixture_module


def s3_client(endpoint, access_key=DEPLOY_AK, secret_key=DEPLOY_SK,
              max_attempts=1, verify=None, **config):
    """A boto3 S3 client, path-style, SigV4 (presigned URLs too: boto3's
    default for those is SigV2), no retries by default (a retry would hide
    a proxy error).  verify: the CA file of an https endpoint."""
    import boto3
    from botocore.config import Config
    config.setdefault("signature_version", "s3v4")   # presign too
    config.setdefault("connect_timeout", 10)
    config.setdefault("read_timeout", 60)
    cfg = Config(s3={"addressing_style": "path"},
                 retries={"max_attempts": max_attempts, "mode": "standard"},
                 **config)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, region_name=REGION, config=cfg,
        verify=verify)


def s3_client_tls(endpoint, ca_file, access_key=DEPLOY_AK,
                  secret_key=DEPLOY_SK, max_attempts=1, **config):
    """s3_client() for an https endpoint trusting ca_file."""
    return s3_client(endpoint, access_key, secret_key, max_attempts,
                     verify=ca_file, **config)


def sign_request(method, url, body=b"", headers=None, access_key=DEPLOY_AK,
                 secret_key=DEPLOY_SK, region=REGION, when=None,
                 payload_hash=None):
    """The headers of a SigV4 header-signed S3 request, signed by botocore
    (S3SigV4Auth, as the verifier checks).

    url: the URL exactly as it goes on the wire (path already
    percent-encoded); headers: extra headers to sign; when: a datetime to
    sign at instead of now; payload_hash: the x-amz-content-sha256 value
    to sign (default: the SHA-256 of body).  Returns a dict, Host not
    included (http.client sends the URL's host:port, which is what was
    signed)."""
    req = fixture_module("fixture_sigv4").sign_request(
        method, url, body, headers, access_key, secret_key, region,
        when=when, host=False,
        payload=hashlib.sha256(body or b"").hexdigest()
        if payload_hash is None else payload_hash)
    return dict(req.headers.items())


def presign_url(method, url, expires=300, access_key=DEPLOY_AK,
                secret_key=DEPLOY_SK, region=REGION, when=None):
    """A SigV4 presigned URL for url (path already percent-encoded),
    signed by botocore with any X-Amz-Expires (boto3's
    generate_presigned_url checks nothing either, but this one also takes
    a frozen clock)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method=method, url=url)
    with fixture_module("fixture_sigv4").frozen_clock(when):
        S3SigV4QueryAuth(Credentials(access_key, secret_key), "s3", region,
                         expires=expires).add_auth(req)
    return req.url
