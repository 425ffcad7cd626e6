#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/chunked_rss.sh [SIZE]: the proxy's peak RSS while it takes one
# aws-chunked upload (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32
# trailer, 1 MiB chunks, as aws-cli and boto3 send over HTTPS), decodes and
# checks it, and re-frames it upstream.  The body is generated and framed
# as it is sent (nothing of SIZE is held by the client either); the
# upstream is nginx with DAV, which stores what it gets.  Default 2g.
# Prints the transfer rate, the proxy's VmHWM, and PASS/FAIL for the
# 32 MiB target; exit 0 regardless (a report), 1 when it cannot run.
set -eu
# shellcheck disable=SC2034 # read by lib.sh
bench_name=chunked
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

size=$(bench_parse_size "${1:-${SIZE:-2g}}")
bench_init 1048576
bench_nginx_dav
bench_s3inval "http://127.0.0.1:$nginx_port"
idle_kib=$(bench_status_kib "$proxy_pid" VmRSS)
bench_reset_hwm "$proxy_pid" || true

out=$(python3 - "$proxy_port" "$size" <<'PY'
import base64, http.client, os, sys, time, zlib
port, size = int(sys.argv[1]), int(sys.argv[2])
chunk = 1 << 20
block = os.urandom(chunk)
name = "x-amz-checksum-crc32"
n_full, rest = divmod(size, chunk)
def framed_len():
    total = n_full * (len("%x" % chunk) + 2 + chunk + 2)
    if rest:
        total += len("%x" % rest) + 2 + rest + 2
    return total + 3 + len(name) + 1 + 8 + 2 + 2     # 0\r\n name:b64\r\n \r\n
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
c.putrequest("PUT", "/bench/chunked.bin", skip_accept_encoding=True)
for k, v in (("Content-Length", str(framed_len())),
             ("Content-Encoding", "aws-chunked"),
             ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
             ("x-amz-decoded-content-length", str(size)),
             ("x-amz-trailer", name),
             ("x-amz-sdk-checksum-algorithm", "CRC32")):
    c.putheader(k, v)
c.endheaders()
t0 = time.time()
crc = 0
for i in range(n_full + (1 if rest else 0)):
    n = chunk if i < n_full else rest
    data = block[:n]
    crc = zlib.crc32(data, crc)
    c.send(b"%x\r\n" % n + data + b"\r\n")
value = base64.b64encode(crc.to_bytes(4, "big")).decode()
c.send(("0\r\n%s:%s\r\n\r\n" % (name, value)).encode())
r = c.getresponse()
r.read()
dt = time.time() - t0
print("%d %.1f" % (r.status, size / dt / 1e6))
PY
) || bench_die "the upload client failed"
status=${out%% *}
rate=${out#* }
hwm_kib=$(bench_status_kib "$proxy_pid" VmHWM)
stored=$(stat -c %s "$bench_work/root/bench/chunked.bin" 2>/dev/null || echo 0)
bench_machine
echo "aws-chunked upload of $size bytes (1 MiB chunks, CRC32 trailer), status $status, $rate MB/s"
echo "upstream stored $stored bytes (re-framed aws-chunked, 64 KiB chunks)"
echo "proxy RSS idle $((idle_kib / 1024)) MiB; peak (VmHWM) $(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
case $status in 2??) ok=1 ;; *) ok=0 ;; esac
if [ "$ok" = 1 ] && [ "$hwm_kib" -lt 32768 ]; then
	echo "target: peak RSS < 32 MiB for a $size aws-chunked upload: PASS"
else
	echo "target: peak RSS < 32 MiB for a $size aws-chunked upload: FAIL"
fi
exit 0
