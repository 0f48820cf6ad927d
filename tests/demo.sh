#!/usr/bin/env bash
# The lab, for a person to watch: builds and starts the cloud stand-in and a connector
# registered to it (signed in through the connector's own command line), authorizes a sample
# Exchange group, prints the addresses and serves until Ctrl-C. Everything is on loopback.
#
# Usage: tests/demo.sh [STATE_DIR]   (default: ./lab-state)
set -euo pipefail
cd "$(dirname "$0")/.."
state="$(mkdir -p "${1:-lab-state}" && cd "${1:-lab-state}" && pwd)"
export CARGO_TERM_COLOR=never

echo "== building (release)"
# The demo identifies callers with a plain test header, so it runs the test build of the
# daemon; the appliance image ships rmsconnector, which cannot do that.
cargo build --release --locked -p rmsc-cloud-standin -p rmsc-e2e --bins
bin="$(pwd)/target/release"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "== starting the cloud stand-in"
"$bin/rmsc-cloud-standin" --listen 127.0.0.1:0 --state-dir "$state/standin" > "$state/standin.out" 2> "$state/standin.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^standin listening on' "$state/standin.out" 2>/dev/null && break; sleep 0.1; done
cloud_url="$(sed -n 's/^standin listening on //p' "$state/standin.out" | head -1)"
[ -n "$cloud_url" ] || { echo "stand-in did not start; see $state/standin.log" >&2; exit 1; }

cat > "$state/connector.toml" <<TOML
data_dir = "$state/data"
cloud_url = "$cloud_url"
cloud_ca_file = "$state/standin/ca.pem"
admin_socket = "$state/admin.sock"
identity = "test-header"
drain_delay_ms = 500

[callers]
http = ["127.0.0.1:0"]
https = ["127.0.0.1:0"]

[admin]
listen = ["127.0.0.1:0"]

[ops]
listen = "127.0.0.1:0"
TOML

echo "== starting the connector"
"$bin/rmsc-e2e-daemon" serve --config "$state/connector.toml" > "$state/connector.out" 2> "$state/connector.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$state/connector.out" 2>/dev/null && break; sleep 0.1; done
addresses="$(head -1 "$state/connector.out")"
[ -n "$addresses" ] || { echo "connector did not start; see $state/connector.log" >&2; exit 1; }

cli() { "$bin/rmsc-e2e-daemon" --socket "$state/admin.sock" "$@"; }
echo "== signing in and registering through the command line"
printf '%s\n' 'Adm1n&<>"'"'"'pass' | cli signin --user admin@contoso.test --password-stdin
cli register --name rmsconnector.contoso.test > /dev/null
cli authorize add --account 'CONTOSO\Exchange Servers' --sid S-1-5-21-1111-2222-3333-1100 --kind group --role exchange > /dev/null
http="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["listening"]["http"][0])' "$addresses")"
https="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["listening"]["https"][0])' "$addresses")"
ops="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["listening"]["ops"])' "$addresses")"

cat <<INFO

The lab is running (state in $state).
  cloud stand-in      $cloud_url   (device sign-in page: $cloud_url/device)
  connector HTTP      http://$http/_wmcs/certification/servercertification.asmx
  connector HTTPS     https://$https/_wmcs/certification/servercertification.asmx (self-signed)
  metrics / readiness http://$ops/metrics   http://$ops/readyz
  admin CLI           $bin/rmsc-e2e-daemon --socket $state/admin.sock status

Try a relayed call as an Exchange server:
  curl -s http://$http/_wmcs/certification/ServerCertification.asmx \\
    -H 'content-type: text/xml; charset=utf-8' \\
    -H 'soapaction: "http://microsoft.com/DRM/CertificationService/Certify"' \\
    -H 'x-rmsc-test-identity: CONTOSO\\EXCH01\$;S-1-5-21-1111-2222-3333-2001;S-1-5-21-1111-2222-3333-1100' \\
    --data '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Certify xmlns="http://microsoft.com/DRM/CertificationService"/></soap:Body></soap:Envelope>'

Press Ctrl-C to stop.
INFO
wait
