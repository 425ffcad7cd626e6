#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t03_awscli_v1: the aws-cli scenario of awscli_scenario.py with aws-cli
v1, the one pip installs as `aws` on PATH.
"""

import os
import sys

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import awscli_scenario
    import s3itest
except Exception as e:  # a broken library must still speak TAP
    print("Bail out! cannot import s3itest: %r" % (e,))
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(s3itest.main("t03_awscli_v1",
                          lambda t, ws: awscli_scenario.run(t, ws, 1),
                          budget=awscli_scenario.BUDGET))
