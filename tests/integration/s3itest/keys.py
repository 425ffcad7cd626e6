# SPDX-License-Identifier: Apache-2.0
"""The keys every test uses, and the environments they are handed in.

    client (aws-cli, boto3) --client keys--> s3inval --upstream keys-->
        sigv4_verifier --> moto_server
"""

import os

REGION = "us-east-1"

# Client keys: what aws-cli / boto3 use against s3inval.
DEPLOY_AK = "AKIDDEPLOYEXAMPLE01"
DEPLOY_SK = "deploySecretKeyEXAMPLE0123456789abcdefgh"
READER_AK = "AKIDREADEREXAMPLE1"
READER_SK = "readerSecretKeyEXAMPLE0123456789abcdefgh"
# Upstream keys: what s3inval signs with; only the verifier knows them.
UPSTREAM_AK = "AKIDUPSTREAMEXAMPLE1"
UPSTREAM_SK = "upstreamSecretKeyEXAMPLE0123456789abcdef"
assert len(DEPLOY_SK) == len(READER_SK) == len(UPSTREAM_SK) == 40


def clean_env(extra=None):
    """os.environ without AWS_* / S3INVAL_* variables, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "S3INVAL_"))}
    env.update(extra or {})
    return env


def daemon_env(extra=None):
    """s3inval's environment: upstream credentials = the verifier's keys."""
    env = clean_env({
        "AWS_ACCESS_KEY_ID": UPSTREAM_AK,
        "AWS_SECRET_ACCESS_KEY": UPSTREAM_SK,
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.update(extra or {})
    return env


def credential_free_env(home, extra=None):
    """An environment with no AWS credential source at all: clean_env(),
    no proxy variables, HOME=home (no ~/.aws there), the shared files
    pointed at paths that do not exist, IMDS disabled; then extra (a value
    of None removes the variable)."""
    env = {k: v for k, v in clean_env().items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy")}
    env.update({"HOME": home,
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(
                    home, "no-such-credentials"),
                "AWS_CONFIG_FILE": os.path.join(home, "no-such-config"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env
