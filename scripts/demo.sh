#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The demo: install what is missing, build, start moto_server (S3 and
# CloudFront emulator) and s3inval in front of it on free loopback ports,
# sync a small site through the proxy with the real aws CLI, edit a page and
# sync again, and show what reached the bucket and which invalidations
# CloudFront received.  It always runs against the local emulator, whatever
# AWS credentials the shell has.  Ctrl-C stops everything it started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh scripts/deps.sh
if [ ! -x build/demo/s3inval ]; then
	./autogen.sh >/dev/null 2>&1
	mkdir -p build/demo
	(cd build/demo && "$top/configure" >/dev/null && make -j2 >/dev/null)
fi
bin="$top/build/demo/s3inval"
work=$(mktemp -d /tmp/s3inval-demo.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "demo: stopped; logs were in $work"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	i=0
	while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: port $1 never opened"; exit 1; }
		sleep 0.1
	done
}

moto_port=$(port)
proxy_port=$(port)
admin_port=$(port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids="$pids $!"
wait_port "$moto_port"
echo "demo: moto_server (S3 + CloudFront emulator) on 127.0.0.1:$moto_port"
cf() {
	AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_DEFAULT_REGION=us-east-1 \
	    python3 - "$moto_port" "$@" <<'PY'
import sys, boto3
port, cmd = sys.argv[1], sys.argv[2]
cf = boto3.client("cloudfront", endpoint_url="http://127.0.0.1:%s" % port)
if cmd == "create":
    r = cf.create_distribution(DistributionConfig={
        "CallerReference": "demo", "Comment": "s3inval demo", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName":
            "demo-blog.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3",
            "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
            "ForwardedValues": {"QueryString": False,
                                "Cookies": {"Forward": "none"}}}})
    print(r["Distribution"]["Id"])
else:
    dist = sys.argv[3]
    items = cf.list_invalidations(DistributionId=dist)["InvalidationList"]
    for s in reversed(items.get("Items", [])):
        i = cf.get_invalidation(DistributionId=dist, Id=s["Id"])
        b = i["Invalidation"]["InvalidationBatch"]
        print("  %s %s  %s" % (i["Invalidation"]["Id"],
              i["Invalidation"]["Status"], " ".join(b["Paths"]["Items"])))
PY
}
dist=$(cf create)
echo "demo: CloudFront distribution $dist (at moto)"

cat >"$work/s3inval.conf" <<CONF
[server]
listen = 127.0.0.1:$proxy_port
admin_listen = 127.0.0.1:$admin_port
state_dir = $work/state

[upstream]
endpoint = http://127.0.0.1:$moto_port
region = us-east-1
addressing = path

; The deploy key writes objects (rw); only the admin key may create the
; bucket or change its settings (admin).
[client deploy]
access_key_id = AKIDDEMODEPLOY000001
secret_access_key = demo-secret-key-for-the-local-proxy-only
buckets = demo-blog:rw

[client admin]
access_key_id = AKIDDEMOADMIN0000001
secret_access_key = demo-admin-key-for-the-local-proxy-only
buckets = demo-blog:admin

[bucket demo-blog]
distributions = $dist

[cloudfront]
endpoint = http://127.0.0.1:$moto_port
quiet_period = 1s
poll_interval = 1s
CONF

AWS_ACCESS_KEY_ID=upstream-demo-key AWS_SECRET_ACCESS_KEY=upstream-demo-secret \
AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null \
    "$bin" -f -c "$work/s3inval.conf" 2>"$work/s3inval.log" &
pids="$pids $!"
wait_port "$proxy_port"
echo "demo: s3inval on 127.0.0.1:$proxy_port -> moto (config $work/s3inval.conf)"

export AWS_ACCESS_KEY_ID=AKIDDEMODEPLOY000001
export AWS_SECRET_ACCESS_KEY=demo-secret-key-for-the-local-proxy-only
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
ep="--endpoint-url http://127.0.0.1:$proxy_port"
echo
echo "\$ aws s3 mb s3://demo-blog $ep    # with the admin key"
AWS_ACCESS_KEY_ID=AKIDDEMOADMIN0000001 \
AWS_SECRET_ACCESS_KEY=demo-admin-key-for-the-local-proxy-only \
    aws s3 mb s3://demo-blog $ep
cp -r demo/site "$work/site"
echo "\$ aws s3 sync demo/site s3://demo-blog $ep"
aws s3 sync "$work/site" s3://demo-blog $ep
echo "\$ aws s3 ls --recursive s3://demo-blog $ep"
aws s3 ls --recursive s3://demo-blog $ep
echo "\$ s3inval flush --wait=30"
"$bin" flush --wait=30 --admin "http://127.0.0.1:$admin_port"
echo
echo "demo: one page edited, synced again (aws s3 sync may re-upload more; s3inval invalidates only what changed):"
printf '<p>Edited.</p>\n' >>"$work/site/posts/2026/second-post/index.html"
aws s3 sync "$work/site" s3://demo-blog $ep
"$bin" flush --wait=30 --admin "http://127.0.0.1:$admin_port" >/dev/null
echo
echo "demo: invalidations CloudFront received (id, status, paths):"
cf list "$dist"
echo
echo "demo: the proxy's log:"
sed 's/^/  /' "$work/s3inval.log"
echo
if [ -t 0 ]; then
	echo "demo: running; try: aws s3 ls s3://demo-blog $ep   (Ctrl-C stops)"
	while :; do sleep 3600; done
fi
