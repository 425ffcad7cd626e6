# SPDX-License-Identifier: Apache-2.0
"""The whole stack most scripts test through:

    client (aws-cli, boto3) --client keys--> s3inval --upstream keys-->
        sigv4_verifier --> moto_server
"""

import json
import os

from .daemon import make_tls_cert, need_binary, start_s3inval, write_config
from .fakes import start_verifier
from .moto import start_moto
from .procs import tail


class Stack:
    """moto + verifier + s3inval, as one test uses them."""

    def __init__(self, ws, config_sections=None, daemon_extra_env=None,
                 **config_overrides):
        self.ws = ws
        need_binary()
        self.moto, self.moto_url = start_moto(ws.logdir)
        self.verifier = start_verifier(ws.logdir, self.moto_url)
        # A second stack in one workspace gets its own file, state_dir
        # (one process per state_dir) and log.
        n = getattr(ws, "stacks", 0)
        ws.stacks = n + 1
        suffix = "-%d" % n if n else ""
        self.config_path = write_config(
            ws.logdir, self.verifier.url, sections=config_sections,
            name="s3inval%s.conf" % suffix,
            state_dir=os.path.join(ws.logdir, "state" + suffix),
            **config_overrides)
        self.s3inval = start_s3inval(self.config_path, daemon_extra_env,
                                     ws.logdir, name="s3inval" + suffix)
        self.url = self.s3inval.url

    def verifier_clean(self):
        """(ok, diag): seen > 0 and rejected == 0."""
        s = self.verifier.stats()
        return (s["seen"] > 0 and s["rejected"] == 0,
                json.dumps(s, indent=1, ensure_ascii=False))

    def proxy_alive(self):
        d = self.s3inval
        return d.alive(), "s3inval exited with %s; log tail:\n%s" % (
            d.proc.returncode, tail(d.log_path))


def https_stack(ws, **kw):
    """A Stack whose client listener is HTTPS (server.tls_cert/tls_key =
    a fresh self-signed certificate in the log dir).  stack.url is the
    https:// URL and stack.ca_file the certificate to trust."""
    cert, key = make_tls_cert(ws.logdir)
    stack = Stack(ws, server__tls_cert=cert, server__tls_key=key, **kw)
    stack.url = "https://127.0.0.1:%d" % stack.s3inval.port
    stack.ca_file = cert
    return stack
