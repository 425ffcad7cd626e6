#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t03_awscli_v1: the aws-cli v1 scenario (see s3itest.awscli_suite) through s3inval
with auth.mode = sigv4, against moto_server behind the SigV4 verifier:
s3 mb; s3 sync of 200 files (nested folders, index.html, special-character
keys); a 50 MiB multipart upload; edits and sync --delete; s3 cp S3->S3
small (CopyObject) and 50 MiB (UploadPartCopy); s3 ls; s3api head-object;
ranged get-object; s3api delete-objects; s3 rm --recursive; s3 rb.  After
each write step the bucket, listed and read directly from moto, equals the
local tree byte for byte; at the end the verifier has rejected nothing.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(s3itest.awscli_suite(1, "t03_awscli_v1"))
