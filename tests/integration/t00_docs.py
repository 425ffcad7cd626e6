#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
t00_docs: the documentation says what the code does.  Every configuration
key of src/cfg_keys.h is in s3inval.conf(5) (which must be what
scripts/gen-man-conf.py makes of the table now) and in
config/s3inval.conf.example; every subcommand and option of `--help` is in
s3inval(8); the README gives the two set-up commands and they exist.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3itest  # noqa: E402

TOP = s3itest.TOP_SRCDIR
sys.path.insert(0, os.path.join(TOP, "scripts"))
import cfg_keys  # noqa: E402


def read(*p):
    with open(os.path.join(TOP, *p), encoding="utf-8") as f:
        return f.read()


def run(t, ws):
    keys = list(cfg_keys.keys())
    man5 = read("man", "s3inval.conf.5")
    gen = subprocess.run([sys.executable, os.path.join(TOP, "scripts",
                                                       "gen-man-conf.py")],
                         capture_output=True, text=True)
    t.ok(gen.returncode == 0 and gen.stdout == man5,
         "man/s3inval.conf.5 is what scripts/gen-man-conf.py makes now",
         gen.stderr or "regenerate: python3 scripts/gen-man-conf.py > "
         "man/s3inval.conf.5")
    missing = [k[2] for k in keys
               if not re.search(r"^\.BR? %s\b" % re.escape(k[2]), man5,
                                re.M)]
    t.ok(len(keys) > 30 and not missing,
         "every key of cfg_keys.h is in s3inval.conf(5)",
         "%d keys; missing %s" % (len(keys), missing))
    example = read("config", "s3inval.conf.example")
    missing = [k[2] for k in keys
               if not re.search(r"^#?%s =" % re.escape(k[2]), example,
                                re.M)]
    t.ok(not missing, "every key is in config/s3inval.conf.example",
         "missing %s" % missing)
    r = subprocess.run([s3itest.S3INVAL_BIN, "check-config", "-c",
                        os.path.join(TOP, "config", "s3inval.conf.example")],
                       capture_output=True, text=True,
                       env=s3itest.clean_env())
    t.ok(r.returncode == 0, "config/s3inval.conf.example passes "
         "check-config as shipped", r.stderr[-800:])
    helptext = subprocess.run([s3itest.S3INVAL_BIN, "--help"],
                              capture_output=True, text=True).stdout
    man8 = read("man", "s3inval.8").replace("\\-", "-")
    words = sorted(set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*|check-config|"
                                  r"flush|plan)\b", helptext)))
    missing = [w for w in words if w not in man8]
    t.ok(len(words) >= 6 and not missing,
         "every subcommand and option of --help is in s3inval(8)",
         "words %s; missing %s" % (words, missing))
    readme = read("README.md")
    cmds = re.findall(r"^\s*(?:\$ )?(sh scripts/\S+)", readme, re.M)
    t.ok("sh scripts/demo.sh" in cmds and "sh scripts/test.sh" in cmds and
         all(os.path.exists(os.path.join(TOP, c.split()[1])) for c in cmds),
         "the README's two set-up commands exist", "found %s" % cmds)
    ci = read(".ci", "run")
    t.ok("scripts/test.sh" in ci, ".ci/run runs the README's test command",
         ci)

    # doc/ARCHITECTURE.md is the map: every file of src/ named in it, and
    # every src-like name in it a file.
    arch = read("doc", "ARCHITECTURE.md")
    files = set(n for n in os.listdir(os.path.join(TOP, "src"))
                if n.endswith((".c", ".h")))
    named = set(re.findall(r"`([a-z0-9_]+\.[ch])`", arch))
    t.ok(files == named, "doc/ARCHITECTURE.md names every file of src/ "
         "and no other", "not in the map: %s\nnot in src/: %s" % (
             sorted(files - named), sorted(named - files)))


if __name__ == "__main__":
    sys.exit(s3itest.main("t00_docs", run, peers=False))
