#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
year_of_deploys: a year of deploys of a static blog, replayed through
s3inval into moto with plain `aws s3 sync` and with `--size-only`, and the
invalidation bill of s3inval next to the strategies people use today.

The blog (seeded, so every run builds the same bytes): ~150 posts at the
start of the year (posts/YYYY/MM/slug/index.html, images under
posts/YYYY/MM/slug/img/), a paginated front page (index.html,
page/N/index.html, 10 posts a page: a new post shifts every page), tag pages
(tags/NAME/index.html, tags/NAME/page/N/index.html) and tag feeds
(tags/NAME/index.xml), a tag list, an archive, rss.xml, atom.xml,
sitemap.xml, an about page, 404.html, robots.txt, a favicon, a logo and
fingerprinted assets (css/site.HASH.css, js/site.HASH.js: a layout change
renames them, as Hugo's resources.Fingerprint does).  Post pages link to
the previous and next post, so a new post also changes the one before it.

The year: 52 weekly deploys (--quick: 12): new posts, typo fixes (one post
page; some keep the size, some do not), an about-page edit, one layout
change (every HTML page, assets renamed), one deleted post, no-op rebuilds.
Every deploy is a fresh build: every file is written again with a new
mtime, as a CI build does, whether or not its bytes changed.

Each case (plain, size-only) gets a fresh moto (S3 + CloudFront) and a
fresh s3inval; the site as it stood before the year is put into the bucket
directly; then every deploy is `aws s3 sync --delete [--size-only]` (aws-cli
v1) through the proxy and `s3inval flush --wait`, and the invalidations
moto recorded are read back.  Since the seed bypassed the proxy, the first
deploy finds ETags (from the sync's listing) but no served headers: every
upload in it counts as changed (issue 13), later ones are known.  Ground truth is the bucket itself (ETags
listed straight from moto before and after each deploy) and the builds.

Strategies, per deploy, summed over the year:
  s3inval          the paths it sent (measured, from moto)
  per-object       every key the sync uploaded or deleted, plus /dir/ for
                   dir/index.html (the seed's Lambda)
  /* per deploy    one path whenever the sync wrote anything (hugo deploy)
  depth-cut-to-8   s3deploy's reduction applied to the per-object paths
plus two references from the bucket's real changes: the exact changed
paths, and depth-cut-to-8 of those (s3deploy diffs by MD5 itself).

A needless eviction is an object unchanged in the bucket (same ETag before
and after) with a URL covered by a path of the deploy; stale is an object
changed or deleted in the bucket with a URL not covered.  Objects' URLs are
/KEY, and /DIR/ too for DIR/index.html (as s3inval maps them).

Usage: bench/year_of_deploys.py [--quick] [--deploys N]
       [--cases plain,size-only] [--seed S] [--posts N] [--s3inval PATH]
       [--keep] [--verbose]
Progress goes to stderr, the tables to stdout.  Exit 0 whether or not a
target is met; 1 only when the bench cannot run.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUCKET = "blog"
PER_PAGE = 10
FEED_ITEMS = 20
TAG_FEED_ITEMS = 15
SUMMARY_WORDS = 30
DEPTH_CUT_MAX = 8       # s3deploy: at most 8 paths, else "/*"

# ---------------------------------------------------------------------------
# the blog
# ---------------------------------------------------------------------------

WORDS = """
cache cloud edge origin bucket object header latency request response proxy
deploy build static site page index feed sitemap layout theme asset script
style image folder prefix wildcard path query cookie signature region key
secret token policy role lambda function event queue batch journal worker
limit quota price month budget invoice metric counter gauge histogram trace
log error retry backoff timeout socket stream buffer chunk byte checksum hash
digest etag version branch commit merge rebase release tag label note draft
post reader writer author editor review typo fix change update refresh stale
fresh expire evict purge hit miss warm cold ratio percent median tail spike
load memory thread process kernel syscall file inode mount disk network route
packet frame server client browser mobile desktop screen font color grid flex
the a an and or but with without for from into over under between through
when while after before because although since until unless whether every
some many few most all none each other another same different small large
quick slow simple hard easy cheap costly plain clear subtle obvious careful
""".split()

TAGS = ["aws", "cloudfront", "s3", "caching", "static-sites", "hugo",
        "terraform", "lambda", "python", "go", "c", "linux", "nginx",
        "http", "dns", "tls", "ci", "security", "emacs", "databases"]
TAG_WEIGHTS = [14, 11, 10, 9, 8, 6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 2, 2, 2, 1, 1]


class Post:
    def __init__(self, rng, day, taken, seed):
        self.date = day
        n = rng.randint(3, 7)
        title = [rng.choice(WORDS) for _ in range(n)]
        self.title = " ".join(title).capitalize()
        slug = "-".join(title[:6])
        base, i = slug, 2
        while (day.year, slug) in taken:
            slug = "%s-%d" % (base, i)
            i += 1
        taken.add((day.year, slug))
        self.slug = slug
        k = rng.choice([1, 1, 2, 2, 2, 3])
        tags = set()
        while len(tags) < k:
            tags.add(rng.choices(TAGS, TAG_WEIGHTS)[0])
        self.tags = sorted(tags)
        self.paras = [[rng.choice(WORDS) for _ in range(rng.randint(25, 80))]
                      for _ in range(rng.randint(4, 12))]
        # Images: deterministic bytes per post, never edited.
        irng = random.Random("%s:img:%s:%s" % (seed, day.isoformat(), slug))
        self.images = [irng.randbytes(irng.randint(1500, 6000))
                       for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3]))]

    @property
    def dir(self):
        return "posts/%04d/%02d/%s/" % (self.date.year, self.date.month,
                                        self.slug)

    @property
    def url(self):
        return "/" + self.dir

    def words(self):
        return [w for p in self.paras for w in p]

    def summary(self):
        return " ".join(self.words()[:SUMMARY_WORDS]) + " ..."


CSS = {
    1: "body{font:16px/1.5 Georgia,serif;max-width:42em;margin:auto}"
       "header{border-bottom:1px solid #ccc}nav a{margin-right:1em}"
       "article img{max-width:100%}.tags a{color:#960}",
    2: ":root{--fg:#222;--bg:#fdfdfd;--accent:#0a6}"
       "@media(prefers-color-scheme:dark){:root{--fg:#ddd;--bg:#161616}}"
       "body{font:17px/1.6 system-ui,sans-serif;color:var(--fg);"
       "background:var(--bg);max-width:46em;margin:auto;padding:0 1em}"
       ".site-header{display:flex;justify-content:space-between}"
       ".menu a{margin-left:1.2em}article img{max-width:100%;"
       "border-radius:4px}.tags a{color:var(--accent)}",
}
JS = {
    1: "document.querySelectorAll('a[href^=http]').forEach(function(a){"
       "a.rel='noopener'});",
    2: "document.querySelectorAll('a[href^=http]').forEach(a=>{"
       "a.rel='noopener';a.target='_blank'});document.documentElement."
       "dataset.js='1';",
}


class Blog:
    """The site's sources; build() renders every file, as bytes."""

    def __init__(self, seed, n_posts):
        self.seed = seed
        self.rng = random.Random("%s:blog" % seed)
        self.taken = set()
        self.layout = 1
        self.about_rev = 1
        start, end = date(2019, 1, 7), date(2025, 12, 20)
        days = sorted(self.rng.sample(range((end - start).days), n_posts))
        self.posts = [Post(self.rng, start + timedelta(d), self.taken, seed)
                      for d in days]
        self.last_day = end

    # --- edits -------------------------------------------------------------

    def new_post(self, day):
        self.posts.append(Post(self.rng, day, self.taken, self.seed))
        self.posts.sort(key=lambda p: (p.date, p.slug))
        return "new post " + self.posts[-1].dir

    def _body_word(self, p):
        """(paragraph, index) of a word past the summary, 4+ letters."""
        skip = SUMMARY_WORDS
        spots = []
        for i, para in enumerate(p.paras):
            for j, w in enumerate(para):
                if skip > 0:
                    skip -= 1
                    continue
                if len(w) >= 4 and w[1] != w[2]:
                    spots.append((i, j))
        return self.rng.choice(spots)

    def typo_fix(self, same_size):
        """One word of an older post's body: two letters swapped (same
        size) or a word added (not).  Only that post's page changes."""
        p = self.rng.choice(self.posts[:-3])
        i, j = self._body_word(p)
        w = p.paras[i][j]
        if same_size:
            p.paras[i][j] = w[0] + w[2] + w[1] + w[3:]
        else:
            p.paras[i].insert(j, self.rng.choice(WORDS))
        return "typo fix (%s) %s" % ("same size" if same_size else "longer",
                                     p.dir)

    def about_edit(self):
        self.about_rev += 1
        return "about page edit"

    def new_layout(self):
        self.layout = 2
        return "layout change"

    def delete_post(self):
        p = self.rng.choice(self.posts[10:-10])
        self.posts.remove(p)
        return "deleted post " + p.dir

    # --- rendering ---------------------------------------------------------

    def assets(self):
        css = CSS[self.layout].encode()
        js = JS[self.layout].encode()
        return {"css/site.%s.css" % hashlib.md5(css).hexdigest()[:10]: css,
                "js/site.%s.js" % hashlib.md5(js).hexdigest()[:10]: js}

    def page(self, title, body, names):
        css = [k for k in names if k.endswith(".css")][0]
        js = [k for k in names if k.endswith(".js")][0]
        if self.layout == 1:
            head = ('<!doctype html>\n<html lang="en"><head><meta charset='
                    '"utf-8"><title>%s | Cache Notes</title>\n<link rel='
                    '"stylesheet" href="/%s"><script defer src="/%s"></script>'
                    '<link rel="alternate" type="application/rss+xml" href='
                    '"/rss.xml"></head>\n<body><header><a href="/">Cache '
                    'Notes</a>\n<nav><a href="/archives/">Archives</a> <a '
                    'href="/tags/">Tags</a> <a href="/about/">About</a> <a '
                    'href="/rss.xml">RSS</a></nav></header>\n<main>\n'
                    % (title, css, js))
            foot = ('</main>\n<footer>Written by a person; no cookies.'
                    '</footer></body></html>\n')
        else:
            head = ('<!doctype html>\n<html lang="en"><head><meta charset='
                    '"utf-8"><meta name="viewport" content="width=device-width'
                    ',initial-scale=1"><title>%s - Cache Notes</title>\n'
                    '<link rel="stylesheet" href="/%s"><script defer '
                    'src="/%s"></script><link rel="alternate" type="'
                    'application/atom+xml" href="/atom.xml"><link rel="icon" '
                    'href="/favicon.ico"></head>\n<body><header class="'
                    'site-header"><a class="logo" href="/"><img src="/img/'
                    'logo.png" alt="">Cache Notes</a>'
                    '\n<nav class="menu"><a href="/archives/">Archive</a><a '
                    'href="/tags/">Topics</a><a href="/about/">About</a><a '
                    'href="/atom.xml">Feed</a></nav></header>\n<main id='
                    '"content">\n' % (title, css, js))
            foot = ('</main>\n<footer class="site-footer"><p>Written by a '
                    'person. No cookies, no trackers.</p><p><a href="#content"'
                    '>Back to top</a></p></footer></body></html>\n')
        return (head + body + foot).encode()

    def listing(self, posts):
        out = []
        for p in posts:
            out.append('<article><h2><a href="%s">%s</a></h2><time>%s</time>'
                       '<p>%s</p></article>\n' % (p.url, p.title,
                                                  p.date.isoformat(),
                                                  p.summary()))
        return "".join(out)

    def paginated(self, files, base, title, posts, names, sitemap):
        """base: "" or "tags/NAME/"; newest first, PER_PAGE a page."""
        n_pages = max(1, (len(posts) + PER_PAGE - 1) // PER_PAGE)
        for i in range(n_pages):
            chunk = posts[i * PER_PAGE:(i + 1) * PER_PAGE]
            nav = '<nav class="pages">Page %d of %d' % (i + 1, n_pages)
            if i > 0:
                nav += ' <a href="/%s%s">newer</a>' % (
                    base, "" if i == 1 else "page/%d/" % i)
            if i + 1 < n_pages:
                nav += ' <a href="/%spage/%d/">older</a>' % (base, i + 2)
            nav += "</nav>\n"
            key = base + ("index.html" if i == 0 else
                          "page/%d/index.html" % (i + 1))
            files[key] = self.page(title, "<h1>%s</h1>\n" % title +
                                   self.listing(chunk) + nav, names)
            sitemap.append(("/" + key[:-len("index.html")],
                            chunk[0].date if chunk else self.last_day))

    def feed(self, title, link, posts):
        items = "".join(
            "<item><title>%s</title><link>https://cache.example%s</link>"
            "<guid>https://cache.example%s</guid><pubDate>%s</pubDate>"
            "<description>%s</description></item>\n" % (
                p.title, p.url, p.url, p.date.isoformat(), p.summary())
            for p in posts)
        return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
                '<channel><title>%s</title><link>https://cache.example%s'
                '</link><lastBuildDate>%s</lastBuildDate>\n%s</channel>'
                '</rss>\n'
                % (title, link, posts[0].date.isoformat() if posts else "",
                   items)).encode()

    def build(self):
        files = {}
        names = self.assets()
        files.update(names)
        newest = sorted(self.posts, key=lambda p: (p.date, p.slug),
                        reverse=True)
        sitemap = []
        # Posts, with their neighbours.
        chrono = newest[::-1]
        for i, p in enumerate(chrono):
            body = ['<article><h1>%s</h1><time>%s</time><p class="tags">' %
                    (p.title, p.date.isoformat())]
            body += ['<a href="/tags/%s/">%s</a> ' % (t, t) for t in p.tags]
            body.append("</p>\n")
            for k, para in enumerate(p.paras):
                body.append("<p>%s</p>\n" % " ".join(para))
                if k < len(p.images):
                    body.append('<img src="img/fig-%d.jpg" alt="figure %d">\n'
                                % (k + 1, k + 1))
            body.append("</article>\n<nav class=\"post-nav\">")
            if i > 0:
                body.append('<a href="%s">&larr; %s</a> ' % (
                    chrono[i - 1].url, chrono[i - 1].title))
            if i + 1 < len(chrono):
                body.append('<a href="%s">%s &rarr;</a>' % (
                    chrono[i + 1].url, chrono[i + 1].title))
            body.append("</nav>\n")
            files[p.dir + "index.html"] = self.page(p.title, "".join(body),
                                                    names)
            sitemap.append((p.url, p.date))
            for k, img in enumerate(p.images):
                files[p.dir + "img/fig-%d.jpg" % (k + 1)] = img
        # Front page and its pages.
        self.paginated(files, "", "Cache Notes", newest, names, sitemap)
        # Tags: pages, feeds, the list.
        by_tag = {}
        for p in newest:
            for t in p.tags:
                by_tag.setdefault(t, []).append(p)
        for t, ps in sorted(by_tag.items()):
            self.paginated(files, "tags/%s/" % t, "Posts tagged %s" % t, ps,
                           names, sitemap)
            files["tags/%s/index.xml" % t] = self.feed(
                "Cache Notes: %s" % t, "/tags/%s/" % t, ps[:TAG_FEED_ITEMS])
        files["tags/index.html"] = self.page("Tags", "<h1>Tags</h1><ul>\n" +
                                             "".join(
            '<li><a href="/tags/%s/">%s</a> (%d)</li>\n' % (t, t, len(ps))
            for t, ps in sorted(by_tag.items())) + "</ul>\n", names)
        sitemap.append(("/tags/", newest[0].date))
        # Archive by year.
        arch, year = ["<h1>Archives</h1>\n"], None
        for p in newest:
            if p.date.year != year:
                year = p.date.year
                arch.append("<h2>%d</h2>\n" % year)
            arch.append('<p><time>%s</time> <a href="%s">%s</a></p>\n' % (
                p.date.isoformat(), p.url, p.title))
        files["archives/index.html"] = self.page("Archives", "".join(arch),
                                                 names)
        sitemap.append(("/archives/", newest[0].date))
        # Other pages.
        arng = random.Random("%s:about:%d" % (self.seed, self.about_rev))
        about = "".join("<p>%s</p>\n" % " ".join(
            arng.choice(WORDS) for _ in range(60)) for _ in range(3))
        files["about/index.html"] = self.page(
            "About", "<h1>About</h1>\n" + about, names)
        sitemap.append(("/about/", date(2019, 1, 1)))
        files["404.html"] = self.page("Not found", "<h1>Not found</h1><p>"
                                      "Try the <a href=\"/archives/\">archive"
                                      "</a>.</p>\n", names)
        files["robots.txt"] = (b"User-agent: *\nAllow: /\nSitemap: "
                               b"https://cache.example/sitemap.xml\n")
        srng = random.Random("%s:static" % self.seed)
        files["favicon.ico"] = srng.randbytes(1150)
        files["img/logo.png"] = srng.randbytes(4200)
        # Feeds and sitemap.
        files["rss.xml"] = self.feed("Cache Notes", "/", newest[:FEED_ITEMS])
        files["atom.xml"] = (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.'
            'w3.org/2005/Atom"><title>Cache Notes</title><updated>%s'
            '</updated>\n%s</feed>\n' % (newest[0].date.isoformat(), "".join(
                '<entry><title>%s</title><link href="https://cache.example%s"'
                '/><id>https://cache.example%s</id><updated>%s</updated>'
                '<summary>%s</summary></entry>\n' % (
                    p.title, p.url, p.url, p.date.isoformat(), p.summary())
                for p in newest[:FEED_ITEMS]))).encode()
        files["sitemap.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://'
            'www.sitemaps.org/schemas/sitemap/0.9">\n%s</urlset>\n' % "".join(
                "<url><loc>https://cache.example%s</loc><lastmod>%s</lastmod>"
                "</url>\n" % (u, d.isoformat()) for u, d in sorted(sitemap))
        ).encode()
        return files


def schedule(n, quick):
    """The deploys of the year: a list of lists of edits."""
    if quick:
        plan = [["post"], ["typo-same"], ["post"], ["noop"],
                ["post", "typo-longer"], ["layout"], ["post"], ["delete"],
                ["post"], ["typo-same"], ["noop"], ["post"]]
        return plan[:n]
    plan = []
    for week in range(1, 53):
        if week == 27:
            ev = ["layout"]
        elif week == 41:
            ev = ["delete"]
        elif week in (9, 20, 33, 47):
            ev = ["noop"]
        elif week in (5, 16, 23, 37, 50):
            ev = ["typo-same" if week % 2 else "typo-longer"]
        elif week in (12, 30, 44):
            ev = ["post", "typo-same" if week % 4 else "typo-longer"]
        elif week == 14:
            ev = ["post", "about"]
        else:
            ev = ["post"]
        plan.append(ev)
    while len(plan) < n:
        plan.append(["post"])
    return plan[:n]


def apply_edits(blog, edits, week):
    day = date(2026, 1, 5) + timedelta(7 * (week - 1))
    what = []
    for e in edits:
        if e == "post":
            what.append(blog.new_post(day))
        elif e == "typo-same":
            what.append(blog.typo_fix(True))
        elif e == "typo-longer":
            what.append(blog.typo_fix(False))
        elif e == "about":
            what.append(blog.about_edit())
        elif e == "layout":
            what.append(blog.new_layout())
        elif e == "delete":
            what.append(blog.delete_post())
        elif e == "noop":
            what.append("rebuild, nothing changed")
    return "; ".join(what)


def kind_of(edits):
    """What a deploy counts as, in the per-kind table: its biggest edit."""
    for k in ("layout", "delete", "post"):
        if k in edits:
            return {"post": "new post", "delete": "deleted post",
                    "layout": "layout change"}[k]
    if any(e.startswith("typo") or e == "about" for e in edits):
        return "typo fix"       # a one-page edit
    return "no-op rebuild"


# ---------------------------------------------------------------------------
# paths and strategies
# ---------------------------------------------------------------------------

def urls(key):
    """The URLs CloudFront caches an object under (as s3inval maps it with
    index_documents = index.html)."""
    out = ["/" + key]
    if key == "index.html" or key.endswith("/index.html"):
        out.append("/" + key[:-len("index.html")])
    return out


class Cover:
    """Does a set of invalidation paths cover a URL?"""

    def __init__(self, paths):
        self.exact = set(p for p in paths if not p.endswith("*"))
        self.wild = [p[:-1] for p in paths if p.endswith("*")]
        self.all = "" in self.wild

    def __call__(self, url):
        return self.all or url in self.exact or any(
            url.startswith(w) for w in self.wild)


def cut_to(path, depth):
    """s3deploy's cut: drop the last segment and keep the first
    max(1, depth - 1) folders, as a wildcard."""
    folders = path[1:].split("/")[:-1]
    return "/" + "/".join(folders[:max(1, depth - 1)]) + "/*"


def depth_cut(paths, limit=DEPTH_CUT_MAX):
    """s3deploy (bep/s3deploy, "reduce the invalidation paths to at most
    8, else /*"): while more than limit distinct paths remain, cut every
    path deeper than d to depth d, for d from the deepest down to 1; paths
    its own wildcards cover are kept (only identical strings merge); more
    than limit paths left at the top level, or a "/*" among them: "/*"."""
    ps = sorted(set(paths))
    if not ps:
        return []
    if len(ps) > limit:
        for d in range(max(p.count("/") for p in ps), 0, -1):
            ps = sorted(set(cut_to(p, d) if p.count("/") > d else p
                            for p in ps))
            if len(ps) <= limit:
                break
        if len(ps) > limit:
            return ["/*"]
    return ["/*"] if "/*" in ps else ps


def score(paths, unchanged, changed):
    """(billable paths, needless evictions, stale objects)."""
    if not paths:
        return 0, 0, len(changed)
    cov = Cover(paths)
    evicted = sum(1 for k in unchanged if any(cov(u) for u in urls(k)))
    stale = sum(1 for k in changed if not all(cov(u) for u in urls(k)))
    return len(paths), evicted, stale


STRATEGIES = [
    ("s3inval", "s3inval (measured)"),
    ("object", "per-object (seed's Lambda)"),
    ("all", "/* per deploy (hugo deploy)"),
    ("cut8", "depth-cut-to-8 (s3deploy)"),
]
REFERENCES = [
    ("exact", "ref: exact changed paths"),
    ("cut8c", "ref: depth-cut-to-8 of changed"),
]


def strategy_paths(uploaded, deleted, changed_keys):
    written = sorted(set(uploaded) | set(deleted))
    obj = sorted(set(u for k in written for u in urls(k)))
    exact = sorted(set(u for k in changed_keys for u in urls(k)))
    return {"object": obj,
            "all": ["/*"] if written else [],
            "cut8": depth_cut(obj),
            "exact": exact,
            "cut8c": depth_cut(exact)}


# ---------------------------------------------------------------------------
# the replay
# ---------------------------------------------------------------------------

def log(msg):
    sys.stderr.write("year_of_deploys: %s\n" % msg)
    sys.stderr.flush()


def md5(b):
    return hashlib.md5(b).hexdigest()


def write_tree(root, files):
    """A fresh build: the tree is removed and every file written again,
    all with a new mtime (ahead of any upload so far, so that plain sync
    re-uploads everything, as after a CI build)."""
    shutil.rmtree(root, ignore_errors=True)
    for key, data in files.items():
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    t = time.time() + 2
    for key in files:
        os.utime(os.path.join(root, key), (t, t))


def bucket_etags(s3):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            out[o["Key"]] = o["ETag"].strip('"')
    return out


PLAN_FIELDS = ("keys_changed", "keys_unchanged_skipped", "paths_exact",
               "paths_wildcard", "needless_evictions")


def plan_lines(log_path, offset):
    """event=plan lines of the daemon's log from offset: (sums, offset)."""
    sums = dict((f, 0) for f in PLAN_FIELDS)
    sums["batches"] = 0
    sums["writes_unchanged"] = 0
    try:
        with open(log_path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return sums, offset
    for line in data.decode("utf-8", "replace").splitlines():
        if re.search(r'\bunchanged"?[=:]"?(yes|true)', line):
            sums["writes_unchanged"] += 1
        if "event=plan" not in line and '"event":"plan"' not in line:
            continue
        sums["batches"] += 1
        for f in PLAN_FIELDS:
            m = re.search(r'\b%s"?[=:]"?(-?\d+)' % f, line)
            if m:
                sums[f] += int(m.group(1))
    return sums, offset + len(data)


def run_case(s3itest, args, case, workdir):
    """Replay the year for one case; returns the per-deploy records."""
    logdir = os.path.join(workdir, case)
    os.makedirs(logdir)
    root = os.path.join(logdir, "public")
    moto, moto_url = s3itest.start_moto(logdir)
    cf, dist = s3itest.moto_distribution(moto_url, BUCKET)
    s3 = s3itest.moto_client(moto_url)
    s3.create_bucket(Bucket=BUCKET)

    blog = Blog(args.seed, args.posts)
    plan = schedule(args.deploys, args.quick)
    # The free tier is per month: a year replayed in minutes would spend a
    # year's allowance in one month, so give the run the months it spans.
    months = max(1, round(len(plan) * 12 / 52))
    # Before the year: the site as it stands, put in the bucket directly.
    build = blog.build()
    write_tree(root, build)
    rc, out, err = s3itest.run_aws(1, ["s3", "sync", root, "s3://" + BUCKET,
                                       "--no-progress", "--only-show-errors"],
                                   endpoint=moto_url)
    if rc != 0:
        raise RuntimeError("seeding the bucket: rc %d %s %s" % (rc, out, err))
    before = bucket_etags(s3)
    if len(before) != len(build):
        raise RuntimeError("seeded %d objects of %d" % (len(before),
                                                         len(build)))

    conf = s3itest.write_config(
        logdir, moto_url,
        sections={"bucket " + BUCKET: {"distributions": dist}},
        cloudfront__endpoint=moto_url,
        # One deploy, one batch: only the flush after the sync submits.
        cloudfront__quiet_period="60s", cloudfront__max_delay="10m",
        cloudfront__poll_interval="200ms",
        cloudfront__max_requests_per_second="100",
        cloudfront__monthly_free_paths=str(1000 * months))
    admin = "http://" + s3itest.read_config(conf)["server"]["admin_listen"]
    d = s3itest.start_s3inval(conf, None, logdir)
    log_off = 0
    seen = set()
    records = []
    sync_args = ["s3", "sync", root, "s3://" + BUCKET, "--delete",
                 "--no-progress"]
    if case == "size-only":
        sync_args.append("--size-only")
    try:
        for week, edits in enumerate(plan, 1):
            t0 = time.time()
            what = apply_edits(blog, edits, week)
            prev_build, build = build, blog.build()
            write_tree(root, build)
            rc, out, err = s3itest.run_aws(1, sync_args, endpoint=d.url,
                                           timeout=900)
            if rc != 0:
                raise RuntimeError("deploy %d: aws s3 sync rc %d\n%s\n%s" % (
                    week, rc, out[-2000:], err[-2000:]))
            uploaded = re.findall(r"^upload: .* to s3://%s/(\S+)$" % BUCKET,
                                  out, re.M)
            deleted = re.findall(r"^delete: s3://%s/(\S+)$" % BUCKET, out,
                                 re.M)
            t_sync = time.time() - t0
            r = subprocess.run([s3itest.S3INVAL_BIN, "flush", "--wait=600",
                                "--admin", admin], capture_output=True,
                               text=True, timeout=700)
            if r.returncode != 0:
                raise RuntimeError("deploy %d: flush: %s %s" % (
                    week, r.stdout, r.stderr))
            sent = []
            for s in cf.list_invalidations(DistributionId=dist)[
                    "InvalidationList"].get("Items", []):
                if s["Id"] in seen:
                    continue
                seen.add(s["Id"])
                inv = cf.get_invalidation(DistributionId=dist, Id=s["Id"])
                sent += inv["Invalidation"]["InvalidationBatch"]["Paths"].get(
                    "Items", [])
            plan_sums, log_off = plan_lines(d.log_path, log_off)
            after = bucket_etags(s3)
            # Ground truth, from the bucket.
            modified = set(k for k in after if k in before and
                           after[k] != before[k])
            gone = set(before) - set(after)
            new = set(after) - set(before)
            unchanged = set(k for k in after if k in before and
                            after[k] == before[k])
            # From the builds: edits the sync did not ship this deploy.
            edited = set(k for k in build if k in prev_build and
                         build[k] != prev_build[k])
            unshipped = set(k for k in edited if after.get(k) != md5(build[k]))
            diverged = sum(1 for k in build if after.get(k) != md5(build[k]))
            paths = strategy_paths(uploaded, deleted, modified | gone | new)
            paths["s3inval"] = sent
            rec = {"week": week, "kind": kind_of(edits), "what": what,
                   "files": len(build), "uploaded": len(uploaded),
                   "deleted": len(deleted), "modified": len(modified),
                   "gone": len(gone), "new": len(new),
                   "unshipped": len(unshipped), "diverged": diverged,
                   "plan": plan_sums, "s3inval_paths": sorted(sent),
                   "seconds": time.time() - t0, "sync_seconds": t_sync}
            for key, _ in STRATEGIES + REFERENCES:
                rec[key] = score(paths[key], unchanged, modified | gone)
            records.append(rec)
            s = rec["s3inval"]
            log("[%s] %2d/%d %-13s files %d, sync up %d del %d, bucket "
                "changed %d (+%d -%d), unshipped %d | s3inval %d paths "
                "(%d wild), %d evicted, %d stale | writes skipped %d | "
                "per-object %d | %.1fs (sync %.1fs)" % (
                    case, week, len(plan), rec["kind"], len(build),
                    len(uploaded), len(deleted), len(modified), len(new),
                    len(gone), len(unshipped), s[0],
                    sum(1 for p in sent if p.endswith("*")), s[1], s[2],
                    plan_sums["writes_unchanged"], rec["object"][0],
                    rec["seconds"], t_sync))
            if args.verbose:
                log("    %s; s3inval sent: %s" % (what, " ".join(
                    sorted(sent)) if len(sent) <= 40 else
                    "%d paths" % len(sent)))
            before = after
    finally:
        s3itest.stop(d)
        s3itest.stop(moto)
    return records, months


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------

def fmt_int(n):
    return "{:,}".format(n)


def report(case, records, months, out, quick=False):
    n = len(records)
    tot = {}
    for key, _ in STRATEGIES + REFERENCES:
        tot[key] = [sum(r[key][i] for r in records) for i in range(3)]
    obj_paths = tot["object"][0]
    all_evict = tot["all"][1]
    title = {"plain": "aws s3 sync --delete",
             "size-only": "aws s3 sync --delete --size-only"}[case]
    out.write("\n## %s: %d deploys (%s)\n\n" % (title, n, ", ".join(
        "%d %s" % (c, k) for k, c in count_kinds(records))))
    out.write("objects %d -> %d; the sync uploaded %s and deleted %s; the "
              "bucket changed %s objects (%s modified, %s new, %s deleted)\n"
              % (records[0]["files"] - records[0]["new"] + records[0]["gone"],
                 records[-1]["files"],
                 fmt_int(sum(r["uploaded"] for r in records)),
                 fmt_int(sum(r["deleted"] for r in records)),
                 fmt_int(sum(r["modified"] + r["new"] + r["gone"]
                             for r in records)),
                 fmt_int(sum(r["modified"] for r in records)),
                 fmt_int(sum(r["new"] for r in records)),
                 fmt_int(sum(r["gone"] for r in records))))
    unshipped = sum(r["unshipped"] for r in records)
    out.write("edits the sync never uploaded: %d (still differing from the "
              "build after the last deploy: %d)\n\n" % (
                  unshipped, records[-1]["diverged"]))
    hdr = ("| strategy | billable paths (year) | needless evictions (year) "
           "| stale | paths / per-object | evictions / /*'s |\n"
           "| --- | ---: | ---: | ---: | ---: | ---: |\n")
    out.write(hdr)
    for key, name in STRATEGIES + REFERENCES:
        p, e, s = tot[key]
        ratio = "%.4f" % (p / obj_paths) if obj_paths else "-"
        if obj_paths and p:
            ratio += " (1/%.0f)" % (obj_paths / p) if p < obj_paths else ""
        pct = "%.1f%%" % (100.0 * e / all_evict) if all_evict else "-"
        out.write("| %s | %s | %s | %d | %s | %s |\n" % (
            name, fmt_int(p), fmt_int(e), s, ratio, pct))
    p, e, s = tot["s3inval"]
    out.write("\n")
    if case == "plain":
        lim = obj_paths / 20.0
        out.write("target: s3inval paths <= per-object / 20: %d <= %.1f: %s\n"
                  % (p, lim, "PASS" if p <= lim else "FAIL"))
    lim = all_evict * 0.05
    out.write("target: s3inval needless evictions < 5%% of /*'s: %d < %.1f: "
              "%s\n" % (e, lim, "PASS" if e < lim else "FAIL"))
    out.write("check: s3inval stale objects = 0: %d: %s\n" % (
        s, "PASS" if s == 0 else "FAIL"))
    if quick:
        out.write("(--quick packs the layout change into 12 deploys, not 52: "
                  "its evictions weigh about 4 times more against /*'s; the "
                  "targets are for the full year)\n")
    # By kind of deploy.
    out.write("\n| kind of deploy | deploys | s3inval paths | s3inval "
              "evictions | per-object paths | depth-cut-to-8 paths | "
              "exact changed paths | writes skipped as unchanged |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    for k, c in count_kinds(records):
        rs = [r for r in records if r["kind"] == k]
        out.write("| %s | %d | %s | %s | %s | %s | %s | %s |\n" % (
            k, c, fmt_int(sum(r["s3inval"][0] for r in rs)),
            fmt_int(sum(r["s3inval"][1] for r in rs)),
            fmt_int(sum(r["object"][0] for r in rs)),
            fmt_int(sum(r["cut8"][0] for r in rs)),
            fmt_int(sum(r["exact"][0] for r in rs)),
            fmt_int(sum(r["plan"]["writes_unchanged"] for r in rs))))
    out.write("\n(free paths per month set to %d x %d months; seconds: %.0f)\n"
              % (1000, months, sum(r["seconds"] for r in records)))
    out.flush()
    return tot


def count_kinds(records):
    order = ["new post", "typo fix", "layout change", "deleted post",
             "no-op rebuild"]
    return [(k, sum(1 for r in records if r["kind"] == k)) for k in order
            if any(r["kind"] == k for r in records)]


def per_deploy(case, records, out):
    out.write("\n### %s, per deploy\n\n| # | kind | uploaded | changed | "
              "s3inval paths | evicted | per-object | cut-to-8 | exact | "
              "plan: changed/skipped/exact/wild/evict |\n"
              "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| --- |\n" % case)
    for r in records:
        pl = r["plan"]
        out.write("| %d | %s | %d | %d | %d | %d | %d | %d | %d | %s |\n" % (
            r["week"], r["kind"], r["uploaded"] + r["deleted"],
            r["modified"] + r["new"] + r["gone"], r["s3inval"][0],
            r["s3inval"][1], r["object"][0], r["cut8"][0], r["exact"][0],
            "/".join(str(pl[f]) for f in PLAN_FIELDS)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="12 deploys with one of each kind")
    ap.add_argument("--deploys", type=int, default=None)
    ap.add_argument("--cases", default="plain,size-only")
    ap.add_argument("--seed", default="2026")
    ap.add_argument("--posts", type=int, default=150)
    ap.add_argument("--s3inval", default=os.environ.get("S3INVAL") or
                    os.path.join(TOP, "build", "dev", "s3inval"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs, configs, trees)")
    ap.add_argument("--verbose", action="store_true",
                    help="the paths s3inval sent, and a per-deploy table")
    args = ap.parse_args()
    if args.deploys is None:
        args.deploys = 12 if args.quick else 52
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in ("plain", "size-only"):
            ap.error("unknown case %r (plain, size-only)" % c)

    os.environ["S3I_BIN"] = os.path.abspath(args.s3inval)
    os.environ.setdefault("TOP_SRCDIR", TOP)
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    import s3itest
    why = s3itest.missing_peers()
    exe, aws_version = s3itest.find_aws(1)    # (None, why) when missing
    if why or exe is None or not os.access(args.s3inval, os.X_OK):
        log("cannot run: %s" % "; ".join(x for x in (
            why, aws_version if exe is None else None,
            None if os.access(args.s3inval, os.X_OK) else
            "%s is not executable" % args.s3inval) if x))
        return 1
    workdir = tempfile.mkdtemp(prefix="year-of-deploys-",
                               dir=os.environ.get("BENCH_TMP") or None)
    out = sys.stdout
    rev = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    out.write("# a year of deploys of a static blog (seed %s, %d posts at the "
              "start, %d deploys)\n" % (args.seed, args.posts, args.deploys))
    out.write("s3inval %s (built %s), tree %s, %s, moto %s, %s; %s\n" % (
        args.s3inval, time.strftime("%Y-%m-%d %H:%M", time.localtime(
            os.path.getmtime(args.s3inval))), rev or "?", aws_version,
        moto_version(), time.strftime("%Y-%m-%d"), "load %.1f" %
        os.getloadavg()[0]))
    failed = 0
    try:
        for case in cases:
            try:
                records, months = run_case(s3itest, args, case, workdir)
            except Exception as e:  # report, go on with the next case
                log("[%s] aborted: %s" % (case, e))
                out.write("\n## %s: aborted: %s\n" % (case, e))
                failed += 1
                continue
            report(case, records, months, out, args.quick)
            if args.verbose:
                per_deploy(case, records, out)
    finally:
        s3itest.stop_all()
        if args.keep:
            log("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed == len(cases) else 0


def moto_version():
    try:
        import moto
        return moto.__version__
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
