#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh: `make bench`, s3inval against nginx as a reverse proxy.
#
# Starts on free loopback ports, in one run:
#   - an upstream nginx (bench_nginx_dav): DAV for the large objects, a
#     sink under /bench/ (PUT answered 200 and discarded, GET answered a
#     1 KiB body), and a CloudFront invalidation API stand-in;
#   - nginx as a reverse proxy to it (bench_nginx_proxy: 2 workers,
#     upstream keep-alive, proxy_request_buffering off): the reference;
#   - s3inval with auth.mode = none and [bucket *] (no distribution);
#   - s3inval with auth.mode = sigv4, a client key and [bucket bench] with
#     a distribution, so every write is verified and journaled (fdatasync)
#     before it is answered.
# Then:
#   1. 1 KiB PUT and GET, CONNS (64) connections, DURATION (10 s) each:
#      direct to the sink, through nginx and through s3inval (auth none)
#      with wrk; through nginx and through s3inval (SigV4 + journal) with
#      bench/loadgen (built here from bench/loadgen.c and src/sigv4.c),
#      which pre-signs distinct requests.  Ratios are to nginx measured
#      with the same tool.
#   2. Latency p50/p99 at concurrency 1, loadgen -c1, for every path.
#   3. A BIG (1 GiB) PUT and GET with curl, direct, through nginx and
#      through s3inval: MB/s, and the proxies' peak RSS.
# It prints one table with ratios to nginx, the targets with PASS/FAIL and
# the machine.  Exit 0 even when a target fails (a report, not a test);
# exit 1 only when the bench cannot run.
#
# Env: BENCH_QUICK=1 (3 s runs, 1 round), BENCH_DURATION (s), BENCH_LAT_
# DURATION (s), BENCH_CONNECTIONS, BENCH_THREADS, BENCH_BIG (size, 1g;
# 0 skips), REPEAT and BIG_REPEAT (rounds, best kept), TARGET_RSS_MIB, S3INVAL, BENCH_TMP,
# BENCH_KEEP, BENCH_LOG_LEVEL, BENCH_NGINX_CONF, LOADGEN; see
# bench/README.md.
set -eu
# shellcheck disable=SC2034 # read by lib.sh
bench_name=run
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	dur=${BENCH_DURATION:-3}
	lat_dur=${BENCH_LAT_DURATION:-2}
	repeat=${REPEAT:-1}
	big_repeat=${BIG_REPEAT:-1}
else
	dur=${BENCH_DURATION:-10}
	lat_dur=${BENCH_LAT_DURATION:-5}
	repeat=${REPEAT:-2}
	big_repeat=${BIG_REPEAT:-3}
fi
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
big_arg=${BENCH_BIG:-1g}
big=$(bench_parse_size "$big_arg") || bench_die "bad BENCH_BIG '$big_arg' (e.g. 1g, 256m, 0)"
target_rss=${TARGET_RSS_MIB:-32}
hz=$(getconf CLK_TCK)

for t in wrk nginx curl python3; do
	command -v "$t" >/dev/null || bench_die "$t not found (Debian: wrk nginx-light curl python3)"
done
if [ -z "${LOADGEN:-}" ]; then
	command -v "${CC:-cc}" >/dev/null || bench_die "${CC:-cc} not found: set CC or LOADGEN"
fi
bin=$(bench_bin) || exit 1

# The source of the big object plus one stored copy.
bench_init $((2 * big))
bench_log "work directory $bench_work"

# --- loadgen ----------------------------------------------------------------
# $LOADGEN when given (e.g. built by make), else built here with cc.
# config.h: the one of the build the measured binary comes from, else the
# source tree's, else a minimal one (sigv4.c and the helpers it calls only
# need _GNU_SOURCE from it).
loadgen=${LOADGEN:-}
if [ -z "$loadgen" ]; then
	cfgdir=""
	for d in "$(dirname "$bin")" "$bench_top" "$bench_top/build/dev"; do
		if [ -f "$d/config.h" ]; then
			cfgdir=$d
			break
		fi
	done
	if [ -z "$cfgdir" ]; then
		cfgdir=$bench_work
		echo '#define _GNU_SOURCE 1' >"$cfgdir/config.h"
	fi
	loadgen=$bench_work/loadgen
	crypto_libs=$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
	# shellcheck disable=SC2086 # flags, split on purpose
	"${CC:-cc}" -std=c11 -O2 -pthread -I"$cfgdir" -I"$bench_top/src" \
	    -o "$loadgen" "$bench_top/bench/loadgen.c" "$bench_top/src/sigv4.c" \
	    "$bench_top/src/uri.c" "$bench_top/src/hex.c" "$bench_top/src/date.c" \
	    "$bench_top/src/ascii.c" \
	    "$bench_top/src/buf.c" $crypto_libs 2>"$bench_work/loadgen.cc.log" ||
	    bench_die "cannot build bench/loadgen: $(head -5 "$bench_work/loadgen.cc.log")"
fi
[ -x "$loadgen" ] || bench_die "no loadgen at $loadgen"

# --- peers ------------------------------------------------------------------
# A 1 KiB body for the sink's GET answers.
body1k=$(awk 'BEGIN { for (i = 0; i < 1024; i++) printf "%c", 97 + i % 26 }')
cf_xmlns=http://cloudfront.amazonaws.com/doc/2020-05-31/
bench_nginx_extra="
		# The sink: bucket \"bench\".
		location /bench/ {
			access_log off;
			if (\$request_method = PUT) {
				return 200;
			}
			return 200 \"$body1k\";
		}
		# CloudFront CreateInvalidation and GetInvalidation.
		location ~ ^/2020-05-31/distribution/[A-Za-z0-9]+/invalidation\$ {
			default_type text/xml;
			return 201 '<?xml version=\"1.0\" encoding=\"UTF-8\"?><Invalidation xmlns=\"$cf_xmlns\"><Id>IBENCH0000001</Id><Status>InProgress</Status><CreateTime>2024-01-01T00:00:00Z</CreateTime></Invalidation>';
		}
		location ~ ^/2020-05-31/distribution/[A-Za-z0-9]+/invalidation/ {
			default_type text/xml;
			return 200 '<?xml version=\"1.0\" encoding=\"UTF-8\"?><Invalidation xmlns=\"$cf_xmlns\"><Id>IBENCH0000001</Id><Status>Completed</Status><CreateTime>2024-01-01T00:00:00Z</CreateTime></Invalidation>';
		}"
bench_nginx_dav
up=http://127.0.0.1:$nginx_port
bench_nginx_proxy "$nginx_port" 2 "${BENCH_NGINX_CONF:-}"
ngx=http://127.0.0.1:$nginxp_port

# Auth none: one instance for the request rates, a fresh one for the big
# objects, so that its peak RSS is what streaming costs and not what 64
# connection threads left behind.
bench_s3inval_start s3inval-none "$up" '[auth]
mode = none

[bucket *]'
none_port=$proxy_port
none_pid=$proxy_pid
none=http://127.0.0.1:$none_port
bench_s3inval "$up"
big_pid=$proxy_pid
bigp=http://127.0.0.1:$proxy_port

ak=AKIDBENCHCLIENT00001
sk=bench-client-secret-key-0000000000000000000
# quiet_period and max_delay of an hour: the worker plans nothing while
# the bench runs; the final flush submits everything once.
bench_s3inval_start s3inval-sigv4 "$up" "[auth]
mode = sigv4

[cloudfront]
endpoint = $up
quiet_period = 1h
max_delay = 1h
max_requests_per_second = 100
poll_interval = 1s

[client bench]
access_key_id = $ak
secret_access_key = $sk
buckets = bench:rw

[bucket bench]
distributions = EBENCH0000001"
sig_port=$proxy_port
sig_pid=$proxy_pid
sig_admin=$admin_port
sig=http://127.0.0.1:$sig_port
state_fs=$(df -PT "$bench_work" | awk 'NR == 2 { print $2 }')

# --- helpers ----------------------------------------------------------------
printf 'wrk.method = "PUT"\nwrk.body = string.rep("a", 1024)\n' >"$bench_work/put.lua"

# CPU ticks (user + system) of a list of PIDs.
ticks() {
	for p in "$@"; do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s + 0 }'
}

# The PIDs whose CPU a scenario charges to its proxy.
proxy_pids() {
	case $1 in
	direct) echo "" ;;
	nginx) bench_children "$nginxp_pid" ;;
	none) echo "$none_pid" ;;
	sigv4) echo "$sig_pid" ;;
	esac
}

# wrk METHOD URL: sets rps, p50, p99 (ms), errs, nreq.
run_wrk() {
	lua=""
	[ "$1" = PUT ] && lua="-s $bench_work/put.lua"
	# shellcheck disable=SC2086 # $lua is empty or two words
	out=$(wrk -t"$threads" -c"$conns" -d"${dur}s" --latency $lua "$2" 2>&1) || out=""
	# shellcheck disable=SC2046 # five numbers, split on purpose
	set -- $(echo "$out" | awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		if (v ~ /m$/) return v * 60000
		return v + 0
	}
	/^Requests\/sec:/ { rps = $2 }
	/ requests in / { n = $1 }
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { e += $NF }
	/Socket errors:/ { gsub(",", ""); e += $4 + $6 + $8 + $10 }
	END { printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, e, n }')
	rps=$1 p50=$2 p99=$3 errs=$4 nreq=$5
}

# loadgen METHOD URL CONNS THREADS SECONDS [SIGN]: sets rps, p50, p99,
# errs, nreq.  SIGN=1 signs with the bench client's key.
run_lg() {
	a=""
	[ "${6:-0}" = 1 ] && a="-k $ak -s $sk"
	# shellcheck disable=SC2086
	out=$("$loadgen" -m "$1" -c "$3" -t "$4" -d "$5" -n 20000 $a "$2" 2>>"$bench_work/loadgen.log") ||
	    out=""
	# shellcheck disable=SC2046 # five numbers, split on purpose
	set -- $(echo "$out" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%.0f %.3f %.3f %d %d\n", v["rps"], v["p50_ms"], v["p99_ms"], v["errors"], v["requests"]
	}')
	rps=${1:-0} p50=${2:-0} p99=${3:-0} errs=${4:-0} nreq=${5:-0}
}

rows=$bench_work/rows
: >"$rows"

# scenario METHOD PATH TOOL ROUND: one 64-connection run; appends
# "METHOD PATH TOOL rps p50 p99 errors cpu_us_per_req" to $rows.
scenario() {
	m=$1 path=$2 tool=$3 round=$4
	case $path in
	direct) base=$up ;;
	nginx) base=$ngx ;;
	none) base=$none ;;
	sigv4) base=$sig ;;
	esac
	pids=$(proxy_pids "$path")
	# shellcheck disable=SC2086
	c0=$(ticks $pids)
	if [ "$tool" = wrk ]; then
		run_wrk "$m" "$base/bench/obj"
	else
		sign=0
		[ "$path" = sigv4 ] && sign=1
		run_lg "$m" "$base/bench/r$round-$m" "$conns" "$threads" "$dur" "$sign"
	fi
	# shellcheck disable=SC2086
	c1=$(ticks $pids)
	cpu=-
	if [ -n "$pids" ] && [ "$nreq" -gt 0 ]; then
		cpu=$(awk -v t="$((c1 - c0))" -v hz="$hz" -v n="$nreq" 'BEGIN { printf "%.0f", t / hz / n * 1e6 }')
	fi
	bench_log "  $m $path ($tool): $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errs, proxy CPU $cpu us/req"
	echo "$m $path $tool $rps $p50 $p99 $errs $cpu" >>"$rows"
}

# --- sanity -----------------------------------------------------------------
# One request through every path, so that a broken set-up shows here and
# not as a table of zeros.
for u in "$up" "$ngx" "$none"; do
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$bench_work/put.lua" "$u/bench/sanity") || code=000
	[ "$code" = 200 ] || bench_die "PUT $u/bench/sanity: HTTP $code"
	n=$(curl -sS -o /dev/null -w '%{size_download}' "$u/bench/sanity") || n=0
	[ "$n" = 1024 ] || bench_die "GET $u/bench/sanity: $n bytes, not 1024"
done
for m in PUT GET; do
	out=$("$loadgen" -m "$m" -c 1 -t 1 -d 0.3 -n 1 -k "$ak" -s "$sk" "$sig/bench/sanity" 2>&1) || out=""
	case $out in
	"requests=0 "*) ok=0 ;;
	*" errors=0 "*) ok=1 ;;
	*) ok=0 ;;
	esac
	[ "$ok" = 1 ] || bench_die "signed $m through s3inval failed: $out; $(tail -3 "$bench_work/s3inval-sigv4.log")"
done

load0=$(cut -d' ' -f1 /proc/loadavg)

# --- 1. requests/s at CONNS connections ---------------------------------------
bench_log "1 KiB requests: $conns connections, $dur s each, $repeat round(s)"
i=0
while [ $i -lt "$repeat" ]; do
	for m in PUT GET; do
		# Alternate the order between rounds, so drift hits all alike.
		if [ $((i % 2)) = 0 ]; then
			list="direct:wrk nginx:wrk none:wrk nginx:loadgen sigv4:loadgen"
		else
			list="sigv4:loadgen nginx:loadgen none:wrk nginx:wrk direct:wrk"
		fi
		for s in $list; do
			scenario "$m" "${s%:*}" "${s#*:}" "$i"
		done
	done
	i=$((i + 1))
done

# --- 2. latency at concurrency 1 ------------------------------------------
lat=$bench_work/lat
: >"$lat"
bench_log "latency at concurrency 1: loadgen -c1, $lat_dur s each"
for m in PUT GET; do
	for path in direct nginx none sigv4; do
		case $path in
		direct) base=$up ;;
		nginx) base=$ngx ;;
		none) base=$none ;;
		sigv4) base=$sig ;;
		esac
		sign=0
		[ "$path" = sigv4 ] && sign=1
		run_lg "$m" "$base/bench/c1-$m" 1 1 "$lat_dur" "$sign"
		bench_log "  $m $path c1: p50 $p50 ms, p99 $p99 ms ($rps req/s, errors $errs)"
		echo "$m $path $p50 $p99 $rps $errs" >>"$lat"
	done
done

# What the journal did (sigv4 instance), before the flush adds to it.
metric() {
	curl -sS "http://127.0.0.1:$sig_admin/metrics" 2>/dev/null |
	    awk -v k="$1" '$1 == k { print $2; exit }'
}
j_writes=$(metric s3inval_writes_recorded_total)
j_syncs=$(metric s3inval_journal_syncs_total)
j_errors=$(metric s3inval_journal_errors_total)

# --- 3. big objects -------------------------------------------------------------
big_rows=$bench_work/big
: >"$big_rows"
hwm_ok=0
big_idle=0
if [ "$big" -gt 0 ]; then
	bench_log "big object: $big bytes ($big_arg), curl, $big_repeat round(s)"
	src=$bench_work/big.bin
	stored=$bench_work/root/dav/big.bin
	head -c "$big" /dev/urandom >"$src"
	# Warm up every path (bucket folder, pooled upstream connections),
	# then one untimed full-size PUT: the first large write of a run is
	# much slower (fresh page-cache memory) and would penalise whichever
	# transfer comes first (see transfer.sh).
	for u in "$up" "$ngx" "$bigp"; do
		curl -sS -o /dev/null -H Expect: -T "$bench_work/put.lua" "$u/dav/warm"
		curl -sS -o /dev/null "$u/dav/warm"
	done
	curl -sS -o /dev/null -H Expect: -T "$src" "$up/dav/big.bin"
	big_idle=$(bench_status_kib "$big_pid" VmRSS)
	bench_reset_hwm "$big_pid" && hwm_ok=1

	# xfer KIND PATH: one transfer; sets bps, rss_kib (the proxy's peak
	# RSS during it: VmHWM reset before, else the 0.2 s samples), cpu.
	xfer() {
		case $2 in
		direct) base=$up pids="" ;;
		nginx) base=$ngx pids=$(proxy_pids nginx) ;;
		none) base=$bigp pids=$big_pid ;;
		esac
		for p in $pids; do
			bench_reset_hwm "$p" || true
		done
		# shellcheck disable=SC2086
		c0=$(ticks $pids)
		[ "$2" = none ] && bench_rss_start "$big_pid"
		if [ "$1" = PUT ]; then
			rm -f "$stored"
			sync
			out=$(curl -sS -o /dev/null -H Expect: -T "$src" \
			    -w '%{http_code} %{size_upload} %{time_total}' "$base/dav/big.bin") ||
			    out="000 0 1"
		else
			sync
			out=$(curl -sS -o /dev/null \
			    -w '%{http_code} %{size_download} %{time_total}' "$base/dav/big.bin") ||
			    out="000 0 1"
		fi
		rss_kib=0
		if [ "$2" = none ]; then
			bench_rss_stop
			rss_kib=$rss_max
		fi
		for p in $pids; do
			h=$(bench_status_kib "$p" VmHWM)
			if [ "$2" = none ] && [ "$hwm_ok" = 0 ]; then
				continue	# no reset: VmHWM is the run's
			fi
			[ "${h:-0}" -gt "$rss_kib" ] && rss_kib=$h
		done
		# shellcheck disable=SC2086
		c1=$(ticks $pids)
		cpu=$(awk -v t="$((c1 - c0))" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')
		[ -n "$pids" ] || cpu=-
		# shellcheck disable=SC2086 # three numbers, split on purpose
		set -- "$1" "$2" $out
		bps=$(awk -v n="$4" -v t="$5" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
		if [ "$3" != 200 ] && [ "$3" != 201 ] && [ "$3" != 204 ] || [ "$4" != "$big" ]; then
			bench_log "  $1 $2: HTTP $3, $4 of $big bytes"
			bps=0
		fi
		bench_log "  $1 $2: $(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }') MB/s, proxy RSS $((rss_kib / 1024)) MiB, CPU $cpu s"
	}
	for k in PUT GET; do
		i=0
		while [ $i -lt "$big_repeat" ]; do
			if [ $((i % 2)) = 0 ]; then
				list="direct nginx none"
			else
				list="none nginx direct"
			fi
			for path in $list; do
				xfer "$k" "$path"
				echo "$k $path $bps $rss_kib $cpu" >>"$big_rows"
			done
			i=$((i + 1))
		done
	done
	rm -f "$src"
fi
load1=$(cut -d' ' -f1 /proc/loadavg)
none_hwm=$(bench_status_kib "$none_pid" VmHWM)
sig_hwm=$(bench_status_kib "$sig_pid" VmHWM)
big_hwm=$(bench_status_kib "$big_pid" VmHWM)

# The journaled writes reach "CloudFront": one flush, waited for.
flush=$(curl -sS -X POST "http://127.0.0.1:$sig_admin/flush?wait=30" 2>/dev/null) || flush=""
alive=yes
for p in "$none_pid" "$sig_pid" "$big_pid"; do
	kill -0 "$p" 2>/dev/null || alive="no (PID $p died: see the logs with BENCH_KEEP=1)"
done

# --- report ---------------------------------------------------------------------
echo
bench_machine
echo "tools:   $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), bench/loadgen (epoll, $threads threads)"
echo "load:    1-min load average $load0 before the measures, $load1 after (other work on the machine skews them)"
echo "journal: state_dir on $state_fs; ${j_writes:-?} writes journaled in ${j_syncs:-?} fdatasyncs, ${j_errors:-?} errors; final flush: ${flush:-no answer}"
echo
echo "1 KiB objects, $conns connections, $dur s, best of $repeat; ratio = req/s / nginx's with the same tool;"
echo "us/req = the proxy's CPU (user+sys) per request; c1 p50/p99 = loadgen at concurrency 1, $lat_dur s, ms"
awk -v lat="$lat" '
BEGIN {
	while ((getline l < lat) > 0) {
		split(l, f, " ")
		c1p50[f[1] " " f[2]] = f[3]; c1p99[f[1] " " f[2]] = f[4]
	}
	name["direct"] = "direct to the sink"
	name["nginx"] = "via nginx (reference)"
	name["none"] = "via s3inval, auth none"
	name["sigv4"] = "via s3inval, SigV4+journal"
}
{
	k = $1 " " $2 " " $3
	if (!(k in best) || $4 > best[k]) {
		best[k] = $4; p50[k] = $5; p99[k] = $6; err[k] = $7; cpu[k] = $8
	}
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
}
END {
	printf "%-36s %-7s %8s %6s %7s %7s %6s %7s %7s %7s\n", "scenario", "tool",
	    "req/s", "ratio", "p50 ms", "p99 ms", "errors", "us/req", "c1 p50", "c1 p99"
	for (i = 1; i <= n; i++) {
		split(order[i], f, " ")
		ref = f[1] " nginx " f[3]
		r = (ref in best && best[ref] > 0) ? sprintf("%.2f", best[order[i]] / best[ref]) : "-"
		if (f[2] == "direct") r = r "*"
		c = f[1] " " f[2]
		printf "%-36s %-7s %8d %6s %7.2f %7.2f %6d %7s %7.3f %7.3f\n",
		    f[1] " 1 KiB " name[f[2]], f[3], best[order[i]], r, p50[order[i]],
		    p99[order[i]], err[order[i]], cpu[order[i]], c1p50[c], c1p99[c]
		ratio[order[i]] = r
	}
	print "(* direct is no proxy at all: the ceiling of the machine, not a target)"
}' "$rows" | tee "$bench_work/table"

if [ "$big" -gt 0 ]; then
	echo
	echo "$big_arg object ($big bytes), curl, one transfer at a time, best of $big_repeat; MB/s = 10^6 bytes/s;"
	echo "RSS = the proxy's peak (VmHWM reset before each transfer; nginx: its largest worker); CPU = proxy user+sys s"
	awk -v hwm_ok="$hwm_ok" '
	BEGIN {
		name["direct"] = "direct to nginx (DAV)"
		name["nginx"] = "via nginx (reference)"
		name["none"] = "via s3inval, auth none"
	}
	{
		k = $1 " " $2
		if (!(k in best) || $3 > best[k]) { best[k] = $3; cpu[k] = $5 }
		if ($4 > rss[k]) rss[k] = $4
		if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	}
	END {
		printf "%-36s %8s %6s %12s %7s\n", "transfer", "MB/s", "ratio", "peak RSS MiB", "CPU s"
		for (i = 1; i <= n; i++) {
			split(order[i], f, " ")
			ref = f[1] " nginx"
			r = best[ref] > 0 ? sprintf("%.2f", best[order[i]] / best[ref]) : "-"
			if (f[2] == "direct") r = r "*"
			m = f[2] == "direct" ? "-" : sprintf("%.1f", rss[order[i]] / 1024)
			printf "%-36s %8.0f %6s %12s %7s\n", f[1] " " name[f[2]],
			    best[order[i]] / 1e6, r, m, cpu[order[i]]
		}
	}' "$big_rows" | tee "$bench_work/big_table"
fi

echo
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "s3inval peak RSS (VmHWM) over the whole run: auth none $(mib "$none_hwm") MiB and SigV4 $(mib "$sig_hwm") MiB"
echo "after $conns connections; the big-object instance $(mib "$big_hwm") MiB (idle $(mib "$big_idle") MiB)."
echo "Proxies alive at the end: $alive"

# --- targets ----------------------------------------------------------------------
echo
echo "targets:"
verdict() {	# LABEL VALUE OP LIMIT
	awk -v l="$1" -v v="$2" -v op="$3" -v lim="$4" 'BEGIN {
		if (v == "" || v == "-") { printf "  %-52s %8s  FAIL (not measured)\n", l, "-"; exit }
		ok = op == ">=" ? v + 0 >= lim + 0 : v + 0 < lim + 0
		printf "  %-52s %8s  %s\n", l, v, ok ? "PASS" : "FAIL"
	}'
}
ratio_of() {	# METHOD PATH TOOL -> best ratio to nginx with TOOL
	awk -v m="$1" -v p="$2" -v t="$3" '
	$1 == m && $3 == t && $2 == p && $4 > b { b = $4 }
	$1 == m && $3 == t && $2 == "nginx" && $4 > r { r = $4 }
	END { if (r > 0) printf "%.2f", b / r; else print "-" }' "$rows"
}
big_ratio() {
	awk -v m="$1" '
	$1 == m && $2 == "none" && $3 > b { b = $3 }
	$1 == m && $2 == "nginx" && $3 > r { r = $3 }
	END { if (r > 0) printf "%.2f", b / r; else print "-" }' "$big_rows"
}
verdict "PUT req/s, auth none >= 1.0x nginx (wrk)" "$(ratio_of PUT none wrk)" ">=" 1.0
verdict "GET req/s, auth none >= 1.0x nginx (wrk)" "$(ratio_of GET none wrk)" ">=" 1.0
verdict "PUT req/s, SigV4 + journal >= 0.7x nginx (loadgen)" "$(ratio_of PUT sigv4 loadgen)" ">=" 0.7
verdict "GET req/s, SigV4 >= 0.7x nginx (loadgen)" "$(ratio_of GET sigv4 loadgen)" ">=" 0.7
if [ "$big" -gt 0 ]; then
	verdict "$big_arg PUT MB/s >= 0.9x nginx" "$(big_ratio PUT)" ">=" 0.9
	verdict "$big_arg GET MB/s >= 0.9x nginx" "$(big_ratio GET)" ">=" 0.9
	peak=$(awk '$2 == "none" && $4 > m { m = $4 } END { printf "%.1f", m / 1024 }' "$big_rows")
	verdict "peak RSS during $big_arg transfers < $target_rss MiB" "$peak" "<" "$target_rss"
fi
exit 0
