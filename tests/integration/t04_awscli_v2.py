#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t04_awscli_v2: the aws-cli scenario of awscli_scenario.py with aws-cli
v2, Debian's /usr/bin/aws.
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
    sys.exit(s3itest.main("t04_awscli_v2",
                          lambda t, ws: awscli_scenario.run(t, ws, 2),
                          budget=awscli_scenario.BUDGET))
