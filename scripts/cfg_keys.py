#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Read src/cfg_keys.h, the single table of configuration keys, for the
documentation tools and tests: keys() yields (kind, section, key, type,
default, choices, description); for a number, choices is its own upper
bound or None, and upper_bound() gives the bound that applies.  Used by
scripts/gen-man-conf.py and tests/integration/t00_docs.py."""

import os
import re


def _args(text, start):
    """Split the macro arguments starting after '(' at start."""
    args, cur, depth, i, instr = [], [], 0, start, False
    while i < len(text):
        c = text[i]
        if instr:
            cur.append(c)
            if c == "\\":
                cur.append(text[i + 1])
                i += 1
            elif c == '"':
                instr = False
        elif c == '"':
            instr = True
            cur.append(c)
        elif c == "(":
            depth += 1
            cur.append(c)
        elif c == ")":
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    raise ValueError("unbalanced macro")


def _str(arg):
    if arg == "NULL":
        return None
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', arg))


NUMERIC = ("DURATION", "SIZE", "UINT", "DOUBLE")


def _table(top):
    top = top or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(top, "src", "cfg_keys.h"), encoding="utf-8").read()
    # Comments start lines here; a "/*" inside a string is text.
    return re.sub(r"^[ \t]*/\*.*?\*/", "", text, flags=re.S | re.M)


def type_max(top=None):
    """{type: upper bound text} from the CFG_TYPE_MAX rows."""
    text = _table(top)
    out = {}
    for m in re.finditer(r"^CFG_TYPE_MAX\(", text, re.M):
        typ, bound = _args(text, m.end())
        out[typ] = _str(bound)
    return out


def upper_bound(row, top=None):
    """The upper bound of a keys() row, as text, or None (not a number)."""
    _kind, _sec, _key, typ, _default, choices, _desc = row
    if typ not in NUMERIC:
        return None
    return choices or type_max(top)[typ]


def keys(top=None):
    text = _table(top)
    for m in re.finditer(r"\bCFG_(KEY|LIST)\(", text):
        a = _args(text, m.end())
        if m.group(1) == "KEY":
            sec, key, typ, _field, default, choices, desc = a
        else:
            sec, key, typ, _field, default, desc = a
            choices = "NULL"
        yield (m.group(1), sec, key, typ, _str(default), _str(choices),
               _str(desc))


if __name__ == "__main__":
    for row in keys():
        print(row)
