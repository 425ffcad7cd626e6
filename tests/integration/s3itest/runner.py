# SPDX-License-Identifier: Apache-2.0
"""A script's life: its workspace (logs kept on failure, scratch always
removed) and main(), which runs its scenario with a TAP and stops
everything it started.

Logs of every process go to tests/integration/logs/<test-name>/ under the
build tree; they are removed when the script passes (S3INVAL_KEEP_LOGS=1
keeps them) and kept otherwise."""

import os
import shutil
import sys
import tempfile
import traceback

from . import procs
from .layout import TOP_BUILDDIR
from .tap import TAP

_scratch_dirs = []    # generated trees, removed at exit whatever happens


def _remove_scratch():
    for d in _scratch_dirs:
        shutil.rmtree(d, ignore_errors=True)


procs.on_exit(_remove_scratch)


class Workspace:
    """tests/integration/logs/<name>/ (kept on failure) and a scratch dir
    for generated trees (always removed)."""

    def __init__(self, name):
        self.name = name
        self.logdir = os.path.join(TOP_BUILDDIR, "tests", "integration",
                                   "logs", name)
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.scratch = tempfile.mkdtemp(prefix="s3itest-%s-" % name)
        _scratch_dirs.append(self.scratch)

    def path(self, *parts):
        return os.path.join(self.logdir, *parts)

    def scratch_path(self, *parts):
        return os.path.join(self.scratch, *parts)

    def finish(self, passed):
        procs.stop_all()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if passed and os.environ.get("S3INVAL_KEEP_LOGS") != "1":
            shutil.rmtree(self.logdir, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(self.logdir))  # only when empty
            except OSError:
                pass
        else:
            sys.stdout.write("# logs kept in %s\n" % self.logdir)
            sys.stdout.flush()


def missing_peers():
    """Why the common peers (moto_server, boto3) are unusable, or None."""
    why = []
    if shutil.which("moto_server") is None:
        why.append("moto_server not on PATH")
    try:
        import boto3  # noqa: F401
    except ImportError as e:
        why.append("boto3 not importable (%s)" % e)
    return "; ".join(why) or None


def main(name, run, budget=120, peers=True):
    """The whole of a test script's main(): run(t, ws) with a TAP whose
    plan is printed at the end, a Workspace whose logs stay when anything
    failed, and everything started stopped.  peers: the scenario needs
    moto_server and boto3 (missing_peers(); a scenario that needs more
    checks it itself, with t.missing_tool()).  Returns the exit status:
    sys.exit(s3itest.main(NAME, run))."""
    t = TAP(budget=budget)
    ws = Workspace(name)
    try:
        why = missing_peers() if peers else None
        if why:
            t.missing_tool(name, why)
        else:
            run(t, ws)
            if t.n == 0:
                t.ok(False, name, "the scenario reported no test")
    except Exception:
        t.ok(False, "aborted", traceback.format_exc())
    finally:
        code = t.done()
        ws.finish(t.passed())
    return code
