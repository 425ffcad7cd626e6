#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/plan_bench.sh [N]: the planner against `sort -u` on N keys.
#
# Builds bench/plan_bench.c with src/inval_plan*.c, src/inval_map.c and
# the helpers they call (-O2; config.h from build/dev, else a minimal
# one generated here), writes N keys (default 1000000; or env N) of a
# synthetic static site, shuffled, then in one run times
#   sort -u KEYS   (LC_ALL=C: byte order, the planner's; GNU sort may use
#                   several threads, its CPU column adds them up)
#   the planner on the same keys mapped to CloudFront paths: the threshold
#   rule with every key changed, without and with CloudFront's limits
#   (3000 paths, 15 wildcards); the cost-aware DP with all of the site's
#   paths known, every key changed, then one key in ten changed (weight 1)
#   without limits, with 15 wildcards, with 3000 paths and 15 wildcards.
# Each figure is the best of REPEAT runs (default 3).  Prints the figures,
# each plan's ratio to the sort, and PASS/FAIL of "planning <= sort" (wall
# time).  Only inval_plan() is timed, not reading or mapping the keys (the
# "map" line).  The exit status is 0 even when the target is missed: this
# is a report, not a test; only a bench that could not run exits 1.
#
# Env: N, REPEAT, CC (default cc), BENCH_TMP (work directory parent;
# default /tmp), BENCH_KEEP=1 (keep the work directory).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-${N:-1000000}}
repeat=${REPEAT:-3}
cc=${CC:-cc}

log() { printf 'plan_bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

case $n in
'' | *[!0-9]*) die "bad N '$n'" ;;
esac
work=$(mktemp -d "${BENCH_TMP:-/tmp}/plan_bench.XXXXXX") ||
	die "cannot make a work directory"
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ -f "$top/build/dev/config.h" ]; then
	cfgdir=$top/build/dev
else
	cfgdir=$work
	printf '#define _GNU_SOURCE 1\n#define PACKAGE "s3inval"\n' \
	    >"$work/config.h"
fi
log "building with $cc (config.h from $cfgdir)"
"$cc" -std=c11 -O2 -I"$cfgdir" -I"$top/src" -o "$work/plan_bench" \
    "$top/bench/plan_bench.c" "$top"/src/inval_plan*.c \
    "$top/src/inval_map.c" "$top/src/strvec.c" "$top/src/uri.c" \
    "$top/src/hex.c" "$top/src/buf.c" -lcrypto ||
	die "build failed"

log "writing $n keys"
"$work/plan_bench" gen "$n" "$work/keys" || die "cannot write the keys"

log "timing sort -u and the planner, best of $repeat"
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)
{
	"$work/plan_bench" sort "$work/keys" "$repeat"
	"$work/plan_bench" run "$work/keys" "$repeat"
} >"$work/figures" || die "the bench failed"

echo "machine: $(nproc 2>/dev/null || echo ?) CPUs," \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo \
    2>/dev/null)"
echo "load average before: $load_before"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); git: $(git -C "$top" \
    rev-parse --short HEAD 2>/dev/null || echo -)"
echo "keys: $n ($(wc -c <"$work/keys") bytes)"
echo
awk '
$1 == "sort" { sw = $2; sc = $3 }
{ name[NR] = $1; wall[NR] = $2; cpu[NR] = $3; rest = ""
  for (i = 4; i <= NF; i++) rest = rest " " $i; det[NR] = rest }
END {
	printf "%-20s %8s %8s %7s  %-6s %s\n", "", "wall s", "cpu s",
	    "/sort", "", "detail"
	for (i = 1; i <= NR; i++) {
		plan = name[i] != "sort" && name[i] != "map"
		ratio = plan && sw > 0 ? sprintf("%.2f", wall[i] / sw) : "-"
		verdict = !plan ? "" : wall[i] <= sw ? "PASS" : "FAIL"
		printf "%-20s %8.3f %8.3f %7s  %-6s%s\n", name[i], wall[i],
		    cpu[i], ratio, verdict, det[i]
	}
}' "$work/figures"
echo
echo "target: planning <= sort -u (wall, each plan line): $(awk '
$1 == "sort" { sw = $2; next }
$1 != "map" { n++; if ($2 <= sw) ok++ }
END { printf "%s (%d of %d)", ok == n ? "PASS" : "FAIL", ok, n }' \
    "$work/figures")"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)
echo "load average after: $load_after"
exit 0
