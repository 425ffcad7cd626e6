# SPDX-License-Identifier: Apache-2.0
"""TAP for automake's tap-driver: one line per test, the plan at the end.

The plan is printed after the last test (TAP allows it there), so no
script counts its cases by hand; a failing test is a "not ok" line, which
the driver counts as one FAIL in make check's summary.  CI=true turns a
missing peer tool from a skip into a failure."""

import os
import sys
import time
import traceback

CI = os.environ.get("CI", "").lower() == "true"


class TAP:
    """TAP output for automake's tap-driver.

    t = TAP(); t.ok(cond, desc, diag); t.case(desc, fn) runs fn and
    reports an exception as a failure; t.section(fn, ...) runs a part of
    a scenario; t.skip(desc, reason); t.todo(cond, desc, reason): a test
    that waits on work elsewhere; t.missing_tool(desc, reason): skip on a
    laptop, failure in CI; t.done() prints the plan, after the last test
    (TAP allows it at the end: nobody counts cases by hand) and returns
    the exit status; t.passed() -> every test ok.
    """

    def __init__(self, out=None, budget=None):
        """budget: seconds; case() runs nothing once it is spent (a hung
        proxy must not hang make check for an hour)."""
        self.out = out or sys.stdout
        self.n = 0
        self.failed = 0
        self.bailed = 0
        self._done = False
        self.deadline = time.time() + budget if budget else None

    def remaining(self, cap=None):
        """Seconds left in the budget (cap: at most that many)."""
        left = self.deadline - time.time() if self.deadline else 1e9
        return max(1.0, min(left, cap or left))

    def _print(self, s):
        self.out.write(s + "\n")
        self.out.flush()

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            self._print("# " + line)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        desc = desc.replace("#", "\\#").replace("\n", " ")
        self._print("%s %d - %s" % ("ok" if cond else "not ok", self.n,
                                    desc))
        if not cond:
            self.failed += 1
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def skip(self, desc, reason):
        self.n += 1
        self._print("ok %d - %s # SKIP %s" % (self.n, desc, reason))

    def todo(self, cond, desc, reason, diag=None):
        """A test of behaviour that waits on work elsewhere (reason):
        "not ok ... # TODO" does not fail the run; once it passes, the
        tap driver reports XPASS, which does: drop the mark then."""
        self.n += 1
        desc = desc.replace("#", "\\#").replace("\n", " ")
        self._print("%s %d - %s # TODO %s" % ("ok" if cond else "not ok",
                                              self.n, desc, reason))
        if not cond and diag is not None:
            self.diag(diag)
        return bool(cond)

    def missing_tool(self, desc, reason):
        if CI:
            return self.ok(False, desc, "%s (CI=true: a missing peer tool "
                           "is a failure)" % reason)
        self.skip(desc, reason)
        return False

    def case(self, desc, fn, *args, **kwargs):
        """Run fn; a result of True/False or (bool, diag); an exception is
        a failure with its traceback.  Returns the boolean."""
        if self.deadline and time.time() > self.deadline:
            return self.ok(False, desc, "not run: the script's time budget "
                           "is spent (an earlier step was too slow?)")
        return self.check(desc, fn, *args, **kwargs)

    def check(self, desc, fn, *args, **kwargs):
        """case() regardless of the time budget (quick final checks)."""
        try:
            r = fn(*args, **kwargs)
        except Exception as e:
            # The test's own frames and the error; not the SDK's insides.
            tb = traceback.extract_tb(e.__traceback__)
            mine = [f for f in tb if "site-packages" not in f.filename
                    and not (f.name == "check" and os.path.abspath(
                        f.filename) == os.path.abspath(__file__))]
            lines = traceback.format_list(mine[-4:]) + \
                traceback.format_exception_only(type(e), e)
            return self.ok(False, desc, "".join(lines).rstrip())
        if isinstance(r, tuple):
            return self.ok(r[0], desc, r[1] if len(r) > 1 else None)
        return self.ok(bool(r), desc)

    def section(self, fn, *args):
        """Run one part of a scenario (fn(*args) reports its own lines);
        if it dies half-way, one failure carries its traceback and the
        scenario goes on with the next part."""
        try:
            fn(*args)
        except Exception:
            self.ok(False, "%s: aborted" % fn.__name__,
                    traceback.format_exc())

    def bail(self, reason):
        self._print("Bail out! " + reason.replace("\n", " | "))
        self.bailed += 1

    def passed(self):
        return self.failed == 0 and self.bailed == 0

    def done(self):
        """Print the plan (once) and return the exit status: 0, failures
        or not (the TAP lines carry them; a non-zero status would make
        the automake driver count the script as an ERROR on top), 1 when
        the run bailed out."""
        if not self._done:
            self._print("1..%d" % self.n)
            self._done = True
        return 1 if self.bailed else 0
