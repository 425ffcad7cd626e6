# SPDX-License-Identifier: Apache-2.0
"""Local trees for sync tests, their digests, and the bucket (as moto
holds it) compared with them."""

import hashlib
import os
import random

MiB = 1 << 20

SPECIAL_NAMES = ["a b.txt", "plus+sign.txt", "tilde~.txt", "paren(1).txt",
                 "bang!.txt", "star*.txt", "quote'.txt", "amp&.txt",
                 "eq=.txt", "pct%.txt", "caf\u00e9.txt", "\u65e5\u672c.txt"]


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_big_file(path, size, seed=1):
    """size bytes written in 1 MiB blocks: one random MiB, each block
    stamped with its index so that no two parts of a multipart upload are
    alike (a misordered part changes the hash)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    base = random.Random(seed).randbytes(MiB)
    with open(path, "wb") as f:
        left, i = size, 0
        while left > 0:
            block = (b"<block %08d seed %d>" % (i, seed)) + base
            block = block[:min(MiB, left)]
            f.write(block)
            left -= len(block)
            i += 1
    return path


def make_site_tree(root, n_files=200, seed=7):
    """A static site of exactly n_files files in nested folders: index.html
    at the root and in most folders, assets of assorted sizes (0 bytes to
    ~64 KiB, text and binary) and the special-character names
    (SPECIAL_NAMES, at the root and in a folder with a space).  Returns
    the list of relative paths."""
    rng = random.Random(seed)
    files = {}

    def add(rel, data):
        if len(files) < n_files:
            files[rel] = data

    def page(title):
        return ("<!doctype html><html><head><title>%s</title></head><body>"
                "<h1>%s</h1><p>%s</p></body></html>\n" % (
                    title, title, "lorem ipsum " * rng.randint(1, 200))
                ).encode()

    add("index.html", page("home"))
    add("empty.txt", b"")
    for name in SPECIAL_NAMES:
        add(name, ("special %s\n" % name).encode() * rng.randint(1, 50))
        add("dir with space/" + name, ("nested %s\n" % name).encode())
    add("dir with space/index.html", page("space"))
    add("caf\u00e9/index.html", page("caf\u00e9"))
    add("about/index.html", page("about"))
    add("about/team/index.html", page("team"))
    i = 0
    while len(files) < n_files:
        year = 2020 + i % 5
        kind = i % 4
        if kind == 0:
            add("blog/%d/post-%03d/index.html" % (year, i), page("p%d" % i))
        elif kind == 1:
            add("blog/%d/post-%03d/img/photo-%d.jpg" % (year, i - 1, i),
                rng.randbytes(rng.randint(100, 64 << 10)))
        elif kind == 2:
            add("assets/css/style-%03d.css" % i,
                ("body{margin:%dpx}\n" % i).encode() * rng.randint(1, 300))
        else:
            add("assets/js/deep/er/app-%03d.js" % i,
                ("console.log(%d);\n" % i).encode() * rng.randint(1, 300))
        i += 1
    for rel, data in files.items():
        write_file(os.path.join(root, rel), data)
    return sorted(files)


def edit_tree(root, seed=11):
    """Edits for `sync --delete`: change (and grow) 10 files, add 6 (two
    with special names), delete 10 (special names are kept: later steps
    use them).  Returns (changed, added, deleted)."""
    rng = random.Random(seed)
    rels = sorted(tree_digest(root))
    rels = [r for r in rels if not r.startswith("big/")]
    rng.shuffle(rels)
    changed = rels[:10]
    deleted = [r for r in rels[10:]
               if r.rsplit("/", 1)[-1] not in SPECIAL_NAMES][:10]
    for rel in changed:
        with open(os.path.join(root, rel), "ab") as f:
            f.write(b"\n<!-- edited %d -->\n" % rng.randint(0, 10 ** 9))
    for rel in deleted:
        os.unlink(os.path.join(root, rel))
    added = ["new/index.html", "new/page two.html", "new/plus+one.txt",
             "new/\u65e5\u672c/index.html", "blog/2030/post-new/index.html",
             "assets/new.bin"]
    for rel in added:
        write_file(os.path.join(root, rel),
                   rng.randbytes(rng.randint(1, 20000)))
    return changed, added, deleted


def remove_from_tree(root, rel):
    os.unlink(os.path.join(root, rel))
    d = os.path.dirname(os.path.join(root, rel))
    while d != root and os.path.isdir(d) and not os.listdir(d):
        os.rmdir(d)
        d = os.path.dirname(d)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(root, prefix=""):
    """{key: (size, sha256)} of a local tree (keys use '/')."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for fn in filenames:
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            out[prefix + rel] = (os.path.getsize(full), file_sha256(full))
    return out
