#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build every libFuzzer target in fuzz/ with clang, straight from src/*.c
# (-fsanitize=fuzzer,address,undefined; no configure needed: a minimal
# config.h is written into the build folder), then run each one for a
# bounded time on a copy of its seed corpus fuzz/corpus/<target>/.  The
# repository is never written to: everything goes to build/fuzz/.
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 20); 0 only replays the seeds
#   FUZZ_TARGETS  targets to run, e.g. "auth cfg" (default: every fuzz/*.c)
#   FUZZ_OUT      build and run folder (default build/fuzz)
#   CC            the clang to use (default clang)
#   JOBS          parallel compiles (default 2)
#
# Prints, per target, the executions reached, the time, the corpus size and
# the result; then a markdown table "target | seconds | executions"; the
# last line is "N passed, N failed" (one per target).  Exits non-zero when a
# target does not build, crashes, leaks, times out, runs out of memory,
# trips a sanitizer, breaks a promise it checks (see fuzz/README.md) or
# leaves files in its TMPDIR; the input that did it is kept in
# build/fuzz/artifacts/<target>/ and printed with the report.
set -u
top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

secs=${FUZZ_SECONDS:-20}
out=${FUZZ_OUT:-$top/build/fuzz}
cc=${CC:-clang}
jobs=${JOBS:-2}
pass=0
fail=0
table=""

case $secs in
''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number" >&2; exit 2 ;;
esac

# Largest input per target: a request head with a small aws-chunked body;
# a connection's bytes (heads and bodies) for http_frame;
# the AWS streaming examples rebuilt whole (66,560 bytes of data); XML
# answers; config files; a journal of a few records.
max_len() {
	case $1 in
	s3_req)		echo 4096 ;;
	sigv4)		echo 4096 ;;
	auth)		echo 70000 ;;
	aws_chunked)	echo 70000 ;;
	s3_xml)		echo 16384 ;;
	cloudfront)	echo 16384 ;;
	cfg)		echo 8192 ;;
	journal)	echo 16384 ;;
	http_frame)	echo 16384 ;;
	*)		echo 4096 ;;
	esac
}

apt_install() {
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "fuzz: installing: $*"
	$sudo apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" \
	    >/dev/null
}

# --- tools --------------------------------------------------------------

command -v "$cc" >/dev/null 2>&1 || apt_install clang
command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc not found" >&2; exit 1; }
command -v pkg-config >/dev/null 2>&1 || apt_install pkg-config

mkdir -p "$out/include" "$out/obj" "$out/bin" "$out/artifacts" "$out/run" ||
    exit 1

# libFuzzer's runtime is packaged apart from clang on Debian
# (libclang-rt-14-dev for clang 14).
fuzzer_links() {
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ return (int)(n & 0) + (d == NULL); }' >"$out/probe.c"
	"$cc" -fsanitize=fuzzer,address,undefined "$out/probe.c" \
	    -o "$out/probe" >"$out/probe.log" 2>&1
}
if ! fuzzer_links; then
	major=$("$cc" -dumpversion | cut -d. -f1)
	apt_install "libclang-rt-$major-dev" || apt_install "libfuzzer-$major-dev"
	if ! fuzzer_links; then
		echo "fuzz: $cc cannot link -fsanitize=fuzzer:" >&2
		cat "$out/probe.log" >&2
		exit 1
	fi
fi
rm -f "$out/probe" "$out/probe.c" "$out/probe.log"

# pkg-config module -> Debian package
mods="libcurl:libcurl4-openssl-dev libcrypto:libssl-dev
libxml-2.0:libxml2-dev inih:libinih-dev libmicrohttpd:libmicrohttpd-dev
gnutls:libgnutls28-dev jansson:libjansson-dev libsystemd:libsystemd-dev"
missing=""
for m in $mods; do
	pkg-config --exists "${m%%:*}" || missing="$missing ${m#*:}"
done
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing
modules="libcurl libcrypto libxml-2.0 inih libmicrohttpd gnutls jansson
libsystemd"
# shellcheck disable=SC2086
pkg_cflags=$(pkg-config --cflags $modules) || exit 1
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $modules) || exit 1

# --- build --------------------------------------------------------------

version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
cat >"$out/include/config.h" <<EOF
/* Written by scripts/fuzz.sh: what the sources in src/ take from autoconf's
 * config.h.  _GNU_SOURCE comes on the command line. */
#define PACKAGE "s3inval"
#define PACKAGE_NAME "s3inval"
#define PACKAGE_TARNAME "s3inval"
#define PACKAGE_VERSION "${version:-0}"
#define PACKAGE_STRING "s3inval ${version:-0}"
#define PACKAGE_BUGREPORT ""
#define PACKAGE_URL ""
#define VERSION "${version:-0}"
#define SYSCONFDIR "/etc"
#define LOCALSTATEDIR "/var"
EOF

FZ_CC=$cc
FZ_CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -pthread -D_GNU_SOURCE
-I$out/include -I$top/src
-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
-fsanitize=address,undefined -fno-sanitize-recover=undefined $pkg_cflags"
FZ_OBJ=$out/obj
export FZ_CC FZ_CFLAGS FZ_OBJ

echo "=== fuzz: building with $("$cc" --version | head -n1)"
rm -f "$out"/obj/*.o "$out"/obj/*.err "$out/libs3inval-fuzz.a"
# Every module but main.c, instrumented for coverage; the linker takes
# what each target needs.  A module that does not compile is reported
# and left out: only the targets that need it fail.
# shellcheck disable=SC2016
for f in src/*.c; do
	[ "$f" = src/main.c ] || echo "$f"
done | xargs -P "$jobs" -n 1 sh -c '
	o="$FZ_OBJ/$(basename "$1" .c).o"
	# shellcheck disable=SC2086
	$FZ_CC $FZ_CFLAGS -fsanitize=fuzzer-no-link -c "$1" -o "$o" \
	    2>"$o.err" || { echo "fuzz: $1 does not compile:"; \
	    cat "$o.err"; rm -f "$o"; }' sh
ar rcs "$out/libs3inval-fuzz.a" "$out"/obj/*.o || exit 1

targets=${FUZZ_TARGETS:-$(for f in fuzz/fuzz_*.c; do
	basename "$f" .c | sed 's/^fuzz_//'
done)}

# --- run ----------------------------------------------------------------

# tmpfs when there is one: fuzz_journal fsyncs on every input.
tmp_base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp_base=/dev/shm

report() {
	# The sanitizer or libFuzzer report, from its first line.
	pat='^==[0-9]*== *ERROR\|runtime error:\|ALARM:\|out-of-memory'
	pat="$pat"'\|deadly signal\|broken promise'
	sed -n "/$pat/,\$p" "$1" |
	    grep -v '^#[0-9]*\s*\(NEW\|REDUCE\|pulse\|INITED\)' |
	    grep -v '^0x\|^Base64: \|^stat::\|^MS: ' | head -n 80
}

for t in $targets; do
	bin="$out/bin/fuzz_$t"
	run="$out/run/$t"
	art="$out/artifacts/$t"
	echo "=== fuzz_$t"
	rm -f "$bin"
	# shellcheck disable=SC2086
	if ! $cc $FZ_CFLAGS -Werror -fsanitize=fuzzer "fuzz/fuzz_$t.c" \
	    "$out/libs3inval-fuzz.a" $pkg_libs -o "$bin" \
	    >"$out/bin/fuzz_$t.build.log" 2>&1; then
		echo "fuzz_$t: build FAILED"
		cat "$out/bin/fuzz_$t.build.log"
		fail=$((fail + 1))
		table="$table
| fuzz_$t | 0 | build failed |"
		continue
	fi
	rm -rf "$run" "$art"
	mkdir -p "$run/corpus" "$art"
	seeds=0
	if [ -d "fuzz/corpus/$t" ]; then
		cp fuzz/corpus/"$t"/* "$run/corpus/" 2>/dev/null
	fi
	# The framing table's rows are fuzz_http_frame's seeds.
	if [ "$t" = http_frame ]; then
		python3 scripts/http-frame-seeds.py "$run/corpus" >/dev/null
	fi
	seeds=$(find "$run/corpus" -type f | wc -l)
	tmp=$(mktemp -d "$tmp_base/s3inval-fuzz-$t.XXXXXX") || exit 1
	if [ "$secs" -eq 0 ]; then
		limit="-runs=0"
	else
		limit="-max_total_time=$secs"
	fi
	start=$(date +%s)
	TMPDIR=$tmp \
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    timeout $((secs + 300)) "$bin" "$limit" -max_len="$(max_len "$t")" \
	    -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	    -artifact_prefix="$art/" "$run/corpus" >"$run/log" 2>&1
	rc=$?
	end=$(date +%s)
	left=$(find "$tmp" -mindepth 1 | wc -l)
	rm -rf "$tmp"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" |
	    tail -n1)
	files=$(find "$run/corpus" -type f | wc -l)
	kib=$(find "$run/corpus" -type f -printf '%s\n' |
	    awk '{ n += $1 } END { printf "%d", (n + 1023) / 1024 }')
	nart=$(find "$art" -type f | wc -l)
	result=pass
	if [ "$rc" -ne 0 ] || [ "$nart" -ne 0 ]; then
		if grep -q 'LeakSanitizer' "$run/log"; then
			result="FAILED (leak)"
		elif grep -q 'runtime error:' "$run/log"; then
			result="FAILED (undefined behaviour)"
		elif grep -q 'ERROR: AddressSanitizer' "$run/log"; then
			result="FAILED (address error)"
		elif grep -q 'ALARM: working on the last Unit' "$run/log"; then
			result="FAILED (timeout)"
		elif grep -q 'out-of-memory\|malloc(.*) exceeds limit' "$run/log"; then
			result="FAILED (out of memory)"
		elif grep -q 'broken promise' "$run/log"; then
			result="FAILED (broken promise)"
		elif [ "$rc" -eq 124 ]; then
			result="FAILED (hung: killed after $((secs + 300)) s)"
		else
			result="FAILED (crash, exit $rc)"
		fi
	fi
	# A crash leaves its input's temporary files; a clean run must not.
	if [ "$left" -ne 0 ] && [ "$result" = pass ]; then
		result="FAILED (left $left file(s) in its TMPDIR)"
	fi
	echo "fuzz_$t: ${execs:-0} executions in $((end - start)) s," \
	    "corpus $seeds -> $files files ($kib KiB), result: $result"
	if [ "$result" = pass ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		report "$run/log"
		for a in "$art"/*; do
			[ -e "$a" ] || continue
			echo "artifact: $a ($(wc -c <"$a") bytes)"
			echo "  reproduce: $bin $a"
			od -A d -c "$a" | head -n 8 | sed 's/^/  /'
		done
		echo "log: $run/log"
	fi
	table="$table
| fuzz_$t | $((end - start)) | ${execs:-0} |"
done

echo
echo "| target | seconds | executions |"
echo "|---|---:|---:|"
echo "$table" | sed '/^$/d'
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
