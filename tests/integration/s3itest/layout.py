# SPDX-License-Identifier: Apache-2.0
"""Where things are: the source and build trees, the daemon, the fixtures,
the test data.

make check sets TOP_SRCDIR, TOP_BUILDDIR and S3I_BIN; run by hand, the
defaults are derived from this file's place in the source tree."""

import importlib
import os
import sys

# tests/integration: the scripts and this package
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.dirname(
    os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR") or TOP_SRCDIR
S3INVAL_BIN = os.environ.get("S3I_BIN") or os.path.join(
    TOP_BUILDDIR, "s3inval")

FIXTURES = os.path.join(TOP_SRCDIR, "tests", "fixtures")
if not os.path.isdir(FIXTURES):
    FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
VERIFIER = os.path.join(FIXTURES, "sigv4_verifier.py")
FAKE_CLOUDFRONT = os.path.join(FIXTURES, "fake_cloudfront.py")
BAD_UPSTREAM = os.path.join(FIXTURES, "bad_upstream.py")
FAKE_AWS_METADATA = os.path.join(FIXTURES, "fake_aws_metadata.py")


def data_path(*parts):
    """A file of tests/data (test vectors, cases)."""
    return os.path.join(TOP_SRCDIR, "tests", "data", *parts)


def fixture_module(name):
    """Import tests/fixtures/<name>.py (e.g. "chunked_client")."""
    if FIXTURES not in sys.path:
        sys.path.insert(0, FIXTURES)
    return importlib.import_module(name)
