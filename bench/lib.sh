# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# bench/lib.sh: helpers shared by the bench scripts (sourced, not run).
#
# It starts the peers of a bench on free loopback ports (nginx with the DAV
# module as the upstream bucket, s3inval in front of it), samples a
# process's memory, and stops everything it started, by PID, on exit.
# Everything lives in one work directory ($bench_work) that is removed at
# the end unless BENCH_KEEP=1.
#
# Callers set bench_name before sourcing, then call bench_init.  Functions
# return results in the variables their comments name.
# shellcheck disable=SC2034

bench_top=$(cd "$(dirname "$0")/.." && pwd)
bench_pids=""
bench_work=""

bench_log() { printf '%s: %s\n' "${bench_name:-bench}" "$*" >&2; }
bench_die() { bench_log "$*"; exit 1; }

# Size argument: 2g, 512m, 64k or bytes (binary units), to bytes.
bench_parse_size() {
	case $1 in
	*[gG]) n=${1%?}; m=1073741824 ;;
	*[mM]) n=${1%?}; m=1048576 ;;
	*[kK]) n=${1%?}; m=1024 ;;
	*) n=$1; m=1 ;;
	esac
	case $n in
	'' | *[!0-9]*) return 1 ;;
	esac
	echo $((n * m))
}

bench_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_wait_port() {
	i=0
	while ! python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || bench_die "port $1 never opened"
		sleep 0.1
	done
}

# Free KiB in the file system holding $1.
bench_free_kib() { df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

# Make the work directory in the first candidate with need_bytes free:
# $BENCH_TMP, /tmp, /work/tmp.
bench_pick_dir() {
	need_kib=$(($1 / 1024 + 65536))
	for d in ${BENCH_TMP:-} /tmp /work/tmp; do
		[ -n "$d" ] || continue
		if [ ! -d "$d" ]; then
			mkdir -p "$d" 2>/dev/null || continue
		fi
		free=$(bench_free_kib "$d")
		[ -n "$free" ] || continue
		if [ "$free" -ge "$need_kib" ]; then
			echo "$d"
			return 0
		fi
		bench_log "$d: $((free / 1024)) MiB free, need $((need_kib / 1024)) MiB"
	done
	return 1
}

bench_cleanup() {
	for p in $bench_pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $bench_pids; do
		wait "$p" 2>/dev/null || true
	done
	bench_pids=""
	if [ -n "$bench_work" ] && [ -d "$bench_work" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			bench_log "kept $bench_work"
		else
			rm -rf "$bench_work"
		fi
	fi
}

# bench_init NEED_BYTES: work directory, traps.
bench_init() {
	dir=$(bench_pick_dir "$1") || bench_die "no directory with enough free space"
	bench_work=$(mktemp -d "$dir/s3inval-${bench_name:-bench}.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

bench_bin() {
	bin=${S3INVAL:-$bench_top/build/dev/s3inval}
	[ -x "$bin" ] || bench_die "no $bin: build it (see bench/README.md) or set S3INVAL"
	echo "$bin"
}

# bench_nginx_dav: nginx storing PUT bodies under $bench_work/root
# (location /), with $bench_nginx_extra (more locations, e.g. a sink; empty
# by default) added to its server block.  Sets nginx_port and nginx_pid.
bench_nginx_dav() {
	command -v nginx >/dev/null || bench_die "nginx not found (Debian: nginx-light)"
	nginx_port=$(bench_port)
	d=$bench_work/nginx
	mkdir -p "$d/tmp" "$bench_work/root"
	# Workers must write the root: run them as the invoking user.
	user=""
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$d/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp;
	# Write PUT bodies to disk in 1 MiB pieces, not 16 KiB.
	client_body_buffer_size 1m;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$nginx_port;
		root $bench_work/root;
		client_max_body_size 0;
		location / {
			dav_methods PUT DELETE;
			create_full_put_path on;
		}
${bench_nginx_extra:-}
	}
}
EOF
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" &
	nginx_pid=$!
	bench_pids="$bench_pids $nginx_pid"
	bench_wait_port "$nginx_port"
}

# bench_nginx_proxy UPSTREAM-PORT [WORKERS] [LOCATION-CONF]: nginx as a
# reverse proxy to 127.0.0.1:UPSTREAM-PORT, the reference s3inval is
# compared with: upstream keep-alive, request bodies streamed
# (proxy_request_buffering off), responses through memory buffers only (no
# temp file), no access log, WORKERS worker processes (default 2), nginx's
# default buffer sizes unless LOCATION-CONF (directives added to its
# location /) says otherwise.  Sets nginxp_port and nginxp_pid.
bench_nginx_proxy() {
	command -v nginx >/dev/null || bench_die "nginx not found (Debian: nginx-light)"
	nginxp_port=$(bench_port)
	d=$bench_work/nginx-proxy
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<EOF
worker_processes ${2:-2};
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	keepalive_requests 100000;
	upstream bench_up {
		server 127.0.0.1:$1;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$nginxp_port;
		client_max_body_size 0;
		location / {
			proxy_pass http://bench_up;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_request_buffering off;
			proxy_max_temp_file_size 0;
${3:-}
		}
	}
}
EOF
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" &
	nginxp_pid=$!
	bench_pids="$bench_pids $nginxp_pid"
	bench_wait_port "$nginxp_port"
}

# The worker processes of an nginx master (PIDs, one a line).
bench_children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

# bench_s3inval ENDPOINT: s3inval with auth none in front of ENDPOINT.
# Sets proxy_port, admin_port and proxy_pid.
bench_s3inval() {
	bench_s3inval_start s3inval "$1" '[auth]
mode = none

[bucket *]'
}

# bench_s3inval_start NAME ENDPOINT CONF: an s3inval in front of ENDPOINT
# (path addressing), on free ports, state in $bench_work/NAME.state, log
# in $bench_work/NAME.log, with CONF (the [auth], [cloudfront], [client]
# and [bucket] sections) after [server], [upstream] and [log].  Its own
# AWS credentials are throw-away ones (bench-key/bench-secret).
# Sets proxy_port, admin_port and proxy_pid.
bench_s3inval_start() {
	bin=$(bench_bin) || exit 1
	# What ran, taken now: the file may be rebuilt during the bench.
	bench_bin_info="$bin ($("$bin" --version 2>&1 | head -1), built $(date -u -r "$bin" '+%Y-%m-%d %H:%M:%S UTC'))"
	proxy_port=$(bench_port)
	admin_port=$(bench_port)
	mkdir -p "$bench_work/$1.state"
	cat >"$bench_work/$1.conf" <<EOF
[server]
listen = 127.0.0.1:$proxy_port
admin_listen = 127.0.0.1:$admin_port
state_dir = $bench_work/$1.state

[upstream]
endpoint = $2
addressing = path
region = us-east-1

[log]
level = ${BENCH_LOG_LEVEL:-warn}

$3
EOF
	AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null \
	    "$bin" -f -c "$bench_work/$1.conf" 2>"$bench_work/$1.log" &
	proxy_pid=$!
	bench_pids="$bench_pids $proxy_pid"
	bench_wait_port "$proxy_port"
}

# A /proc/PID/status field in KiB (VmRSS, VmHWM).
bench_status_kib() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Reset the peak RSS (VmHWM) of PID; 0 when the kernel allowed it.
bench_reset_hwm() { echo 5 2>/dev/null >"/proc/$1/clear_refs"; }

# bench_rss_start PID: sample VmRSS every 0.2 s in the background until
# bench_rss_stop, which sets rss_max to the largest sample in KiB.  Call
# both from the same shell (not in $(...)): the stop waits for the sampler.
bench_rss_start() {
	rss_out=$bench_work/rss.$$
	rm -f "$rss_out" "$rss_out.stop"
	(
		max=0
		while [ ! -e "$rss_out.stop" ]; do
			while read -r k v _; do
				if [ "$k" = VmRSS: ]; then
					[ "$v" -gt "$max" ] && max=$v
					break
				fi
			done <"/proc/$1/status" 2>/dev/null || break
			sleep 0.2
		done
		echo "$max" >"$rss_out"
	) &
	rss_pid=$!
}

bench_rss_stop() {
	: >"$rss_out.stop"
	wait "$rss_pid" 2>/dev/null || true
	rss_max=$(cat "$rss_out" 2>/dev/null || echo 0)
	rm -f "$rss_out" "$rss_out.stop"
}

# Process CPU time as "user system", in clock ticks.  (The command name,
# field 2, has no space for the processes we look at.)
bench_cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null; }

bench_machine() {
	model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)
	echo "machine: $(nproc) CPUs, ${model:-unknown CPU}, $mem RAM, Linux $(uname -r)"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "tools:   $(curl --version | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //')"
	[ -n "${bench_bin_info:-}" ] && echo "binary:  $bench_bin_info"
	rev=$(git -C "$bench_top" describe --always --dirty 2>/dev/null) &&
	    echo "source:  git $rev (the tree now, not necessarily the binary's)"
}
