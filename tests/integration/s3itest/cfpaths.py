# SPDX-License-Identifier: Apache-2.0
"""The CloudFront paths a write must invalidate, computed here
independently of the C code: CloudFront encodes RFC 1738 unsafe and
non-ASCII bytes, '*' and '?' too (Developer Guide, "Specifying the
objects to invalidate")."""


SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
           b"$-_.+!'(),;/:@=&")


def cf_encode(path):
    return "".join(chr(b) if b in SAFE else "%%%02X" % b
                   for b in path.encode("utf-8"))


def key_paths(key, origin="", index=("index.html",)):
    if origin:
        prefix = origin.strip("/") + "/"
        if not key.startswith(prefix):
            return set()
        key = key[len(prefix):]
    p = "/" + key
    out = {cf_encode(p)}
    last = key.rsplit("/", 1)[-1]
    if last in index:
        out.add(cf_encode(p[:len(p) - len(last)]))
    return out


def keys_paths(keys, origin=""):
    out = set()
    for k in keys:
        out |= key_paths(k, origin)
    return out
