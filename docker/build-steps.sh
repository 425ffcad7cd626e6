#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The build steps of the container image, in one place: the Dockerfile's
# build stage runs them, and so does CI on the host (tests/integration/
# t13_packaging.py), so a green CI proves the steps the image is built by.
#
#   build-steps.sh deps
#       Install the build dependencies with apt when they are missing.
#   build-steps.sh build DESTDIR [PKGLIST]
#       From the source tree this script lives in: deps, ./autogen.sh,
#       configure (--prefix=/usr --sysconfdir=/etc --localstatedir=/var)
#       in build/release, make, make check of the unit tests only (the
#       names are read from Makefile.am's UNIT_TESTS, through make), and
#       make install DESTDIR=DESTDIR.  With PKGLIST, also write the runtime
#       package list there (see runtime-deps).
#   build-steps.sh runtime-deps BINARY
#       Print, one a line, the Debian packages that hold the shared
#       libraries BINARY needs (its DT_NEEDED entries, resolved by ldd,
#       owned per dpkg -S).  The image's runtime stage installs exactly
#       these.
#   build-steps.sh ci DESTDIR [WORKDIR]
#       What CI runs: copy the Docker build context (this tree less what
#       .dockerignore excludes) to WORKDIR/src (default: a new temporary
#       directory), run "build DESTDIR DESTDIR.packages" there, and check
#       that the installed binary runs.  The checkout itself is not touched.
#   build-steps.sh context DIR
#       Copy the Docker build context (see ci) to DIR.
#   build-steps.sh base-image
#       Print the image docker/Dockerfile's stages start from (every FROM
#       must name the same one).
#   build-steps.sh podman-base
#       For podman on a machine that reaches Debian's mirror but no image
#       registry: make that base with debootstrap (--variant=minbase, the
#       suite and point release its tag names, with the official image's
#       apt sources) and import it into podman under the base's full name
#       (docker.io/library/debian:TAG), so that "podman build --pull=never"
#       of the unchanged Dockerfile finds it.  Needs root, debootstrap and
#       podman.  The root tree is kept as a tarball in $S3INVAL_BASE_CACHE
#       (default /var/tmp/s3inval-base: a directory of the caller's own,
#       mode 0700, keyed by suite, point release and architecture) and
#       made again with S3INVAL_BASE_REFRESH=1; an image imported by an
#       earlier run under the same label is kept as it is.
#   build-steps.sh lint
#       Lint docker/Dockerfile with dockerfile-utils (npm, installed into
#       build/lint-cache or $S3INVAL_LINT_CACHE) and the shell scripts of
#       docker/ with shellcheck (Debian, installed when missing).  Exit
#       status 0 clean, 1 problems, 3 a linter could not be had.
#
# Environment: JOBS (make -j, default 2); DEBIAN_MIRROR (podman-base,
# default http://deb.debian.org/debian).  POSIX sh; needs Debian's apt and
# dpkg for deps and runtime-deps.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
jobs=${JOBS:-2}

# What building and the unit tests need (a subset of scripts/deps.sh: no
# peer tools, no test servers).
BUILD_PKGS="build-essential autoconf automake libtool pkg-config
libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libssl-dev libxml2-dev
libinih-dev libjansson-dev libsystemd-dev libcmocka-dev"

# dockerfile-utils: the validator of the Dockerfile language server, pure
# JavaScript from npm.  hadolint, a Haskell binary, is in neither Debian nor
# npm (npm's "hadolint" only wraps a binary it expects to find).
LINTER="dockerfile-utils@0.16.3"

say() { echo "build-steps: $*"; }
die() { echo "build-steps: $*" >&2; exit 1; }

# A sub-make of "make check" must not inherit the parent's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES 2>/dev/null || true

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

apt_install() {
	missing=""
	for p in "$@"; do
		installed "$p" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	say "installing:$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
}

cmd_deps() {
	command -v dpkg-query >/dev/null 2>&1 ||
	    die "dpkg-query not found: deps needs Debian (or install by hand:" \
	    "$(echo "$BUILD_PKGS" | tr '\n' ' '))"
	# shellcheck disable=SC2086
	apt_install $BUILD_PKGS
}

# The value of make variable $2 in the configured build directory $1.
make_var() {
	# shellcheck disable=SC2016 # $(VAR) is make's, not the shell's
	printf 'print-var:\n\t@echo $(%s)\n' "$2" |
	    make -s --no-print-directory -C "$1" -f Makefile -f - print-var
}

cmd_build() {
	[ $# -ge 1 ] || die "usage: build DESTDIR [PKGLIST]"
	destdir=$1
	pkglist=${2:-}
	case $destdir in /*) ;; *) destdir=$(pwd)/$destdir ;; esac
	case $pkglist in ""|/*) ;; *) pkglist=$(pwd)/$pkglist ;; esac

	cmd_deps
	pkg-config --exists cmocka ||
	    die "cmocka not found by pkg-config: the unit tests cannot build"
	cd "$top"
	say "autogen"
	./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; die "autogen failed"; }
	bdir=$top/build/release
	rm -rf "$bdir"
	mkdir -p "$bdir"
	cd "$bdir"
	say "configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var"
	"$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	    >configure.out 2>&1 ||
	    { tail -n 40 configure.out; die "configure failed"; }
	say "make -j$jobs"
	make -j"$jobs" >make.out 2>&1 ||
	    { tail -n 60 make.out; die "make failed"; }
	unit=$(make_var "$bdir" UNIT_TESTS)
	[ -n "$unit" ] || die "Makefile.am defines no UNIT_TESTS"
	say "make check of the unit tests: $unit"
	if ! make -j"$jobs" check TESTS="$unit" >check.out 2>&1; then
		grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.out || true
		[ -f test-suite.log ] && head -n 200 test-suite.log
		die "unit tests failed"
	fi
	grep -E '^# (TOTAL|PASS|FAIL|ERROR):' check.out | tr '\n' ' '
	echo
	say "make install DESTDIR=$destdir"
	make install DESTDIR="$destdir" >install.out 2>&1 ||
	    { tail -n 40 install.out; die "make install failed"; }
	bin=$destdir$(make_var "$bdir" bindir)/s3inval
	[ -x "$bin" ] || die "$bin was not installed"
	if [ -n "$pkglist" ]; then
		cmd_runtime_deps "$bin" >"$pkglist"
		say "runtime packages ($pkglist): $(tr '\n' ' ' <"$pkglist")"
	fi
}

# The package owning $1, a library path as ldd prints it.  With Debian's
# merged /usr, dpkg may know the file under /lib or under /usr/lib.
owner() {
	for f in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
		[ -n "$f" ] || continue
		p=$(dpkg-query -S "$f" 2>/dev/null | grep -v '^diversion ' |
		    head -n1) || continue
		[ -n "$p" ] || continue
		echo "${p%%:*}"
		return 0
	done
	return 1
}

cmd_runtime_deps() {
	[ $# -eq 1 ] || die "usage: runtime-deps BINARY"
	bin=$1
	[ -x "$bin" ] || die "$bin: not an executable"
	command -v readelf >/dev/null 2>&1 || die "readelf (binutils) not found"
	needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	[ -n "$needed" ] || die "$bin: no DT_NEEDED entries (static?)"
	libs=$(ldd "$bin") || die "ldd $bin failed"
	out=""
	for so in $needed; do
		path=$(echo "$libs" | awk -v so="$so" \
		    '$1 == so && $2 == "=>" { print $3; exit }')
		case $path in
		/*) ;;
		*) die "ldd cannot resolve $so for $bin" ;;
		esac
		pkg=$(owner "$path") || die "no Debian package owns $path ($so)"
		out="$out$pkg
"
	done
	printf '%s' "$out" | sort -u
}

# .dockerignore as Docker reads it, for the patterns this project uses:
# root-relative paths and globs, a leading "/" or trailing "/" ignored, a
# leading "**/" for any depth, "!" for an exception; the last pattern that
# matches a file decides, and a pattern matching a directory matches
# everything below it.  (A shell glob's "*" also matches "/", which Go's
# filepath.Match does not: keep patterns to one level or use "**/".)
load_ignore() {
	IGNORE=$(sed -e 's/[[:space:]]*$//' -e '/^$/d' -e '/^#/d' \
	    "$top/.dockerignore")
}

ignored() {
	f=$1
	res=1
	while IFS= read -r pat; do
		neg=0
		case $pat in "!"*) neg=1; pat=${pat#!} ;; esac
		pat=${pat#/}
		pat=${pat%/}
		hit=0
		# shellcheck disable=SC2254 # the pattern is meant as a glob
		case $pat in
		"**/"*)
			rest=${pat#\*\*/}
			case $f in $rest|$rest/*|*/$rest|*/$rest/*) hit=1 ;; esac
			;;
		*)
			case $f in $pat|$pat/*) hit=1 ;; esac
			;;
		esac
		[ $hit -eq 1 ] && res=$neg
	done <<EOT
$IGNORE
EOT
	return $res
}

cmd_context() {
	[ $# -eq 1 ] || die "usage: context DIR"
	[ -f "$top/.dockerignore" ] || die "$top/.dockerignore is missing"
	load_ignore
	mkdir -p "$1"
	list=$(mktemp)
	(cd "$top" && find . \( -type f -o -type l \) -print) | sed 's|^\./||' |
	    LC_ALL=C sort | while IFS= read -r f; do
		ignored "$f" || printf '%s\n' "$f"
	done >"$list"
	(cd "$top" && tar -cf - -T "$list") | (cd "$1" && tar -xf -)
	say "context: $(wc -l <"$list") files copied to $1"
	rm -f "$list"
}

cmd_ci() {
	[ $# -ge 1 ] || die "usage: ci DESTDIR [WORKDIR]"
	destdir=$1
	case $destdir in /*) ;; *) destdir=$(pwd)/$destdir ;; esac
	work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/s3inval-build-steps.XXXXXX")}
	case $work in /*) ;; *) work=$(pwd)/$work ;; esac
	rm -rf "$work/src"
	cmd_context "$work/src"
	sh "$work/src/docker/build-steps.sh" build "$destdir" \
	    "$destdir.packages"
	"$destdir/usr/bin/s3inval" --version ||
	    die "the installed binary does not run"
	say "ok: $destdir/usr/bin/s3inval; runtime packages in" \
	    "$destdir.packages; sources in $work/src"
}

# --- the base image, for podman without a registry ----------------------

cmd_base_image() {
	# The first word after FROM that is not a --flag, of every FROM.
	bases=$(awk 'toupper($1) == "FROM" {
		for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break }
	    }' "$here/Dockerfile" | sort -u)
	[ -n "$bases" ] || die "docker/Dockerfile has no FROM"
	[ "$(echo "$bases" | wc -l)" -eq 1 ] ||
	    die "docker/Dockerfile: stages on different bases:" \
	    "$(echo "$bases" | tr '\n' ' ')"
	echo "$bases"
}

# Debian's code name of major release $1.
suite_of() {
	case $1 in
	11) echo bullseye ;;
	12) echo bookworm ;;
	13) echo trixie ;;
	*) die "no Debian code name known for release $1" ;;
	esac
}

# A cache directory we may trust: a real directory of our own that nobody
# else can write.  Anything else is refused (a shared /var/tmp).
safe_dir() {
	[ -L "$1" ] && return 1
	[ -d "$1" ] || mkdir -m 0700 "$1" 2>/dev/null || return 1
	[ "$(stat -c %u "$1")" = "$(id -u)" ] || return 1
	case $(stat -c %A "$1") in
	?????w????|????????w?) return 1 ;;
	esac
	return 0
}

# Unmount whatever a failed debootstrap left mounted under $1.
umount_under() {
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
	    sort -r | while IFS= read -r m; do umount -l "$m" || true; done
}

# debootstrap suite $1 into tarball $2 (with the official image's apt
# sources, apt settings and dpkg exclusions), noting when the mirror's point release is not
# $3, the one the Dockerfile pins.
make_base_tarball() {
	suite=$1
	out=$2
	want=$3
	mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	work=$(mktemp -d "$(dirname "$out")/root.XXXXXX")
	t0=$(date +%s)
	say "debootstrap --variant=minbase $suite ($mirror)"
	if ! debootstrap --variant=minbase "$suite" "$work/fs" "$mirror" \
	    >"$work/debootstrap.log" 2>&1; then
		tail -n 30 "$work/debootstrap.log" >&2
		umount_under "$work"
		rm -rf --one-file-system "$work"
		die "debootstrap failed"
	fi
	umount_under "$work"
	got=$(cat "$work/fs/etc/debian_version")
	[ "$got" = "$want" ] || say "note: the mirror's $suite is $got," \
	    "the Dockerfile pins $want: this base is $got"
	fs=$work/fs
	rm -f "$fs/etc/apt/sources.list"
	cat >"$fs/etc/apt/sources.list.d/debian.sources" <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	cat >"$fs/etc/dpkg/dpkg.cfg.d/docker" <<EOT
# as in the official -slim images
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOT
	# apt keeps no .deb files, caches or translations: the image's own
	# apt-get installs leave what they leave on the real base.
	clean='rm -f /var/cache/apt/archives/*.deb'
	clean="$clean /var/cache/apt/archives/partial/*.deb"
	clean="$clean /var/cache/apt/*.bin || true"
	cat >"$fs/etc/apt/apt.conf.d/docker-clean" <<EOT
DPkg::Post-Invoke { "$clean"; };
APT::Update::Post-Invoke { "$clean"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOT
	echo 'Acquire::Languages "none";' \
	    >"$fs/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Acquire::GzipIndexes "true";' \
	    >"$fs/etc/apt/apt.conf.d/docker-gzip-indexes"
	echo 'APT::AutoRemove::SuggestsImportant "false";' \
	    >"$fs/etc/apt/apt.conf.d/docker-autoremove-suggests"
	rm -rf "$fs/var/lib/apt/lists/"* "$fs/var/cache/apt/"*.bin \
	    "$fs/var/cache/apt/archives/"*.deb
	tar --numeric-owner -C "$fs" -cf "$out.tmp" . ||
	    die "cannot write $out.tmp"
	mv "$out.tmp" "$out"
	rm -rf --one-file-system "$work"
	say "base tree made in $(($(date +%s) - t0)) s: $out"
}

cmd_podman_base() {
	for tool in podman debootstrap; do
		command -v "$tool" >/dev/null 2>&1 ||
		    die "$tool not found (apt-get install $tool)"
	done
	[ "$(id -u)" -eq 0 ] || die "podman-base needs root (debootstrap)"
	base=$(cmd_base_image)
	ref=${base%%@*}
	[ "$ref" = "$base" ] || say "note: $base names a digest; a local" \
	    "base cannot have it: importing as $ref"
	repo=${ref%:*}
	tag=${ref##*:}
	[ "$repo" != "$ref" ] || die "$base: no tag"
	case $repo in
	debian|docker.io/library/debian) full=docker.io/library/debian:$tag ;;
	*) die "$base: podman-base makes Debian bases only" ;;
	esac
	case $tag in
	[0-9]*.[0-9]*-slim) release=${tag%-slim} ;;
	*) die "$base: not a point release tag (debian:12.N-slim)" ;;
	esac
	suite=$(suite_of "${release%%.*}")
	arch=$(dpkg --print-architecture)
	label="debootstrap --variant=minbase $suite $release $arch"
	if podman image exists "$full" && [ "$(podman image inspect \
	    --format '{{index .Labels "org.s3inval.base"}}' "$full")" = \
	    "$label" ]; then
		say "$full: already imported ($label)"
		return 0
	fi
	cache=${S3INVAL_BASE_CACHE:-/var/tmp/s3inval-base}
	if ! safe_dir "$cache"; then
		say "note: $cache is not a private directory of uid" \
		    "$(id -u): not caching the base"
		cache=$(mktemp -d)
		# shellcheck disable=SC2064 # expand now: the path is fixed
		trap "rm -rf --one-file-system '$cache'" EXIT
	fi
	tarball=$cache/debian-$suite-$release-minbase-$arch.tar
	if [ -L "$tarball" ] || { [ -e "$tarball" ] &&
	    [ "$(stat -c %u "$tarball")" != "$(id -u)" ]; }; then
		die "$tarball: not a file of our own"
	fi
	if [ -f "$tarball" ] && [ "${S3INVAL_BASE_REFRESH:-}" != 1 ]; then
		say "base tree from the cache: $tarball"
	else
		make_base_tarball "$suite" "$tarball" "$release"
	fi
	# The official image's PATH and CMD; the label marks our own import.
	path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	podman import --quiet --change "ENV PATH=$path" \
	    --change 'CMD ["bash"]' \
	    --change "LABEL org.s3inval.base=\"$label\"" \
	    --message "$label" "$tarball" "$full" >/dev/null ||
	    die "podman import of $tarball failed"
	say "imported $tarball as $full"
}

# Exit status 0: clean; 1: problems found; 3: a linter could not be had.
cmd_lint() {
	cache=${S3INVAL_LINT_CACHE:-$top/build/lint-cache}
	if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
		# A read-only tree (make distcheck): a throw-away cache.
		cache=$(mktemp -d)
		# shellcheck disable=SC2064 # expand now: the path is fixed
		trap "rm -rf '$cache'" EXIT
	fi
	lint=$cache/node_modules/.bin/dockerfile-utils
	if [ ! -x "$lint" ]; then
		command -v npm >/dev/null 2>&1 || { echo "build-steps: npm not" \
		    "found: cannot install $LINTER (apt-get install npm)" >&2
		    exit 3; }
		say "npm install $LINTER into $cache"
		npm install --prefix "$cache" --no-audit --no-fund \
		    --loglevel=error "$LINTER" >/dev/null || { echo \
		    "build-steps: npm install $LINTER failed" >&2; exit 3; }
	fi
	rc=0
	# dockerfile-utils exits 0 even on problems: any output is one.
	out=$("$lint" lint "$here/Dockerfile" 2>&1) || rc=1
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
	say "dockerfile-utils lint docker/Dockerfile: $([ $rc -eq 0 ] &&
	    echo clean || echo PROBLEMS)"
	apt_install shellcheck || { echo "build-steps: cannot install" \
	    "shellcheck" >&2; exit 3; }
	src=0
	for f in "$here"/*.sh; do
		shellcheck -s sh "$f" || src=1
	done
	say "shellcheck docker/*.sh: $([ $src -eq 0 ] && echo clean ||
	    echo PROBLEMS)"
	[ $rc -eq 0 ] && [ $src -eq 0 ]
}

[ $# -ge 1 ] || die "usage: $0 deps | build DESTDIR [PKGLIST] |" \
    "runtime-deps BINARY | ci DESTDIR [WORKDIR] | context DIR |" \
    "base-image | podman-base | lint"
mode=$1
shift
case $mode in
deps)		cmd_deps "$@" ;;
build)		cmd_build "$@" ;;
runtime-deps)	cmd_runtime_deps "$@" ;;
context)	cmd_context "$@" ;;
ci)		cmd_ci "$@" ;;
base-image)	cmd_base_image "$@" ;;
podman-base)	cmd_podman_base "$@" ;;
lint)		cmd_lint "$@" ;;
*)		die "unknown mode '$mode'" ;;
esac
