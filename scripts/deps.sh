#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what building and testing s3inval needs on Debian 12, when it is
# missing.  Idempotent: does nothing when everything is there.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libssl-dev libxml2-dev
libinih-dev libjansson-dev libsystemd-dev libcmocka-dev awscli nginx-light wrk
apache2-utils valgrind clang python3 curl ca-certificates"

# apt_missing WHAT [apt-get install options]: the packages of $WHAT that are
# not installed yet, if any.
apt_missing() {
	missing=""
	for p in $1; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	shift
	echo "deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" \
	    $missing >/dev/null
}

apt_missing "$PKGS"

# promtool, for tests/integration/t36_metrics.py (`promtool check metrics`
# on /metrics): Debian ships it in the prometheus package.  The server comes
# with it; where systemd runs, apt starts it on :9090, the admin listener's
# default port, so a fresh install here stops and disables it again.
if ! command -v promtool >/dev/null 2>&1; then
	apt_missing "prometheus" --no-install-recommends
	if [ -d /run/systemd/system ]; then
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || :
	fi
fi

# The container lane (scripts/test.sh, tests/integration/t26_container.py):
# rootful podman on runc, and debootstrap for the image's base, since no
# image registry is reachable.  Without recommends: buildah, fuse-overlayfs,
# slirp4netns and uidmap serve rootless podman, which the lane does not use.
# S3INVAL_NO_CONTAINER=1 skips the lane and these.
CONTAINER_PKGS="podman runc debootstrap containernetworking-plugins"
[ "${S3INVAL_NO_CONTAINER:-}" = "1" ] ||
    apt_missing "$CONTAINER_PKGS" --no-install-recommends

# The Python peers (aws-cli v1, boto3, moto_server) come with the machine's
# Python; pip has no index here, so they are checked, not installed.
fail=0
for tool in aws moto_server; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "deps: $tool not found on PATH" >&2
		fail=1
	}
done
python3 -c 'import boto3, botocore, moto' 2>/dev/null || {
	echo "deps: python3 cannot import boto3, botocore and moto" >&2
	fail=1
}
[ -x /usr/bin/aws ] || { echo "deps: /usr/bin/aws (aws-cli v2) missing" >&2; fail=1; }
if [ "$fail" -ne 0 ]; then
	if [ "${CI:-}" = "true" ]; then
		echo "deps: a peer tool is missing (CI=true: that is a failure)" >&2
		exit 1
	fi
	echo "deps: some peer tools are missing: their tests will be skipped" >&2
fi
exit 0
