#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and run every test: once with warnings as
# errors, once under AddressSanitizer and UndefinedBehaviorSanitizer.
# The last line is "N passed, N failed"; the exit status is non-zero on any
# failure.  Logs of failed tests stay in build/*/test-suite.log and
# build/*/tests/integration/logs/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-2}
pass=0
fail=0
status=0

sh scripts/deps.sh || exit 1
./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }

count() {
	# Sum the automake test-suite.log summary of build dir $1.
	log="$1/test-suite.log"
	if [ ! -f "$log" ]; then
		fail=$((fail + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	s=$(sed -n 's/^# SKIP: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	f=$(sed -n 's/^# FAIL: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	x=$(sed -n 's/^# XPASS: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	e=$(sed -n 's/^# ERROR: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0} + ${x:-0} + ${e:-0}))
	skipped=$((skipped + ${s:-0}))
}
skipped=0

lane() {
	name=$1
	shift
	tests=""
	case "${*:-}" in
	*TESTS_OVERRIDE=*)
		tests=$(printf '%s\n' "$@" | sed -n 's/^TESTS_OVERRIDE=//p')
		set -- $(printf '%s\n' "$@" | grep -v '^TESTS_OVERRIDE=')
		;;
	esac
	dir="build/$name"
	echo "=== lane $name: configure $*"
	rm -rf "$dir"
	mkdir -p "$dir"
	(
		cd "$dir" &&
		"$top/configure" --enable-werror "$@" >configure.out 2>&1 &&
		make -j"$jobs" >make.out 2>&1
	) || {
		echo "lane $name: build failed"
		tail -n 40 "$dir/configure.out" "$dir/make.out" 2>/dev/null
		fail=$((fail + 1))
		status=1
		return
	}
	if [ -n "$tests" ]; then
		(cd "$dir" && make -j"$jobs" check TESTS="$tests" >check.out 2>&1) || status=1
	else
		(cd "$dir" && make -j"$jobs" check >check.out 2>&1) || status=1
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.out" | sed "s/^/[$name] /"
	if grep -qE '^(FAIL|ERROR|XPASS):' "$dir/check.out"; then
		echo "--- lane $name: failures (from $dir/test-suite.log)"
		sed -n '/^FAIL\|^ERROR/,+60p' "$dir/test-suite.log" | head -n 200
	fi
	count "$dir"
}

# Another run of some tests in a lane's build dir: $1 lane, $2 name,
# $3 tests, $4 extra make arguments (e.g. LOG_COMPILER).
rerun() {
	dir="build/$1"
	name=$2
	[ -f "$dir/Makefile" ] || return
	echo "=== $name"
	(cd "$dir" && eval "make -j\"$jobs\" check TEST_SUITE_LOG=$name.log TESTS=\"$3\" ${4:-}" \
	    >"$name.out" 2>&1) || status=1
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/$name.out" | sed "s/^/[$name] /"
	if grep -qE '^(FAIL|ERROR|XPASS):' "$dir/$name.out"; then
		echo "--- $name: failures (from $dir/$name.log)"
		sed -n '/^FAIL\|^ERROR/,+40p' "$dir/$name.log" | head -n 120
	fi
	log="$dir/$name.log"
	p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	f=$(sed -n 's/^# FAIL: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	e=$(sed -n 's/^# ERROR: *\([0-9]*\).*/\1/p' "$log" | head -n1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0} + ${e:-0}))
	[ -f "$log" ] || fail=$((fail + 1))
}

lane main

# The container: docker/Dockerfile built with podman and run (t26, in the
# main lane's build dir; root, a few minutes; the debootstrapped base is
# cached in /var/tmp/s3inval-base).  S3INVAL_NO_CONTAINER=1 skips it.
if [ "${S3INVAL_NO_CONTAINER:-}" != "1" ]; then
	t0=$(date +%s)
	rerun main container "tests/integration/t26_container.py"
	echo "[container] lane: $(($(date +%s) - t0)) s"
fi

if [ "${S3INVAL_NO_SANITIZERS:-}" != "1" ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    lane asan --enable-sanitizers=address,undefined

	# valgrind memcheck on every unit test (the main lane's binaries).
	unit=$(make -s -C build/main print-unit-tests 2>/dev/null)
	rerun main valgrind "$unit" \
	    "LOG_COMPILER='valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite'"

	# ThreadSanitizer on the threaded parts: the journal's group commit,
	# the index, and the worker driven through the daemon.
	TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
	    lane tsan --enable-sanitizers=thread \
	    TESTS_OVERRIDE="tests/unit/test_journal tests/unit/test_etag_index tests/integration/t07_fake_cloudfront.py tests/integration/t08_crash.py"

	# make distcheck: the tarball holds everything it needs, builds out
	# of tree, installs and uninstalls cleanly.  Its own check runs the
	# unit tests and the CLI and docs checks (the rest ran above).
	echo "=== distcheck"
	if (cd build/main && make distcheck \
	    TESTS="$unit tests/integration/t00_docs.py tests/integration/t01_cli.py" \
	    >distcheck.out 2>&1); then
		echo "[distcheck] PASS: make distcheck"
		pass=$((pass + 1))
	else
		echo "[distcheck] FAIL: make distcheck (build/main/distcheck.out)"
		tail -n 40 build/main/distcheck.out
		fail=$((fail + 1))
		status=1
	fi

	# libFuzzer on every parser of outside input, bounded.
	if [ -f scripts/fuzz.sh ]; then
		echo "=== fuzz"
		FUZZ_SECONDS=${FUZZ_SECONDS:-15} sh scripts/fuzz.sh >build/fuzz.out 2>&1 || status=1
		tail -n 40 build/fuzz.out
		line=$(tail -n 1 build/fuzz.out)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
		f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
		if [ -z "$p" ]; then
			fail=$((fail + 1))
		else
			pass=$((pass + p))
			fail=$((fail + f))
		fi
	fi
fi

[ "$fail" -eq 0 ] || status=1
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failures"
	fail=$((fail + skipped))
	status=1
fi
echo "$pass passed, $fail failed"
exit $status
