#!/usr/bin/env bash
# The lab, for a person to watch: builds and starts the cloud stand-in, the Samba AD domain
# controller (when this machine can run it: root + Samba) and the connector, registers the
# connector through its own command line, installs the domain's keytab, authorizes the lab's
# Exchange, SharePoint and file-server accounts, makes one Kerberos-authenticated SOAP call,
# prints the addresses (admin web UI included) and serves until Ctrl-C. All on loopback and
# inside a network namespace.
#
# Usage: tests/demo.sh [STATE_DIR]   (default: ./lab-state)
#        tests/demo.sh --pair [STATE_DIR]   two appliances behind HAProxy on one virtual
#        address (B joined to A with a pairing code), the Samba DC and simulated Exchange,
#        SharePoint and file-server callers: tests/pair/demo.sh (root, HAProxy)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
if [ "${1:-}" = "--pair" ]; then
    shift
    echo "== building (release)"
    cargo build --release --locked -p rmsc-cloud-standin -p rmsc-connectord
    exec tests/pair/demo.sh "$@"
fi
state="$(mkdir -p "${1:-lab-state}" && cd "${1:-lab-state}" && pwd)"
export CARGO_TERM_COLOR=never

kerberos=0
if [ "$(id -u)" -eq 0 ] && command -v samba-tool >/dev/null 2>&1; then
    kerberos=1
fi

echo "== building (release)"
cargo build --release --locked -p rmsc-cloud-standin -p rmsc-connectord -p rmsc-e2e --bins
bin="$repo/target/release"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$kerberos" -eq 1 ]; then "$repo/tests/lab/lab.sh" down "$state/ad" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

wait_for_line() { # FILE PATTERN: poll with a deadline (20 s)
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

if [ "$kerberos" -eq 1 ]; then
    echo "== starting the Samba AD domain controller (CONTOSO.TEST) in a network namespace"
    mkdir -p "$state/ad"
    "$repo/tests/lab/lab.sh" up "$state/ad"
    # shellcheck source=/dev/null
    . "$state/ad/lab.env"
    identity="kerberos"
    daemon="$bin/rmsconnector"
else
    echo "!! not root or no Samba: callers are identified by a test header instead of Kerberos"
    identity="test-header"
    daemon="$bin/rmsc-e2e-daemon"
fi

echo "== starting the cloud stand-in"
"$bin/rmsc-cloud-standin" --listen 127.0.0.1:0 --state-dir "$state/standin" > "$state/standin.out" 2> "$state/standin.log" &
pids+=($!)
wait_for_line "$state/standin.out" '^standin listening on' || { echo "stand-in did not start; see $state/standin.log" >&2; exit 1; }
cloud_url="$(sed -n 's/^standin listening on //p' "$state/standin.out" | head -1)"

cat > "$state/connector.toml" <<TOML
data_dir = "$state/data"
cloud_url = "$cloud_url"
cloud_ca_file = "$state/standin/ca.pem"
admin_socket = "$state/admin.sock"
identity = "$identity"
drain_delay_ms = 500

[callers]
http = ["127.0.0.1:0"]
https = ["127.0.0.1:0"]

[kerberos]
runtime_dir = "$state/run"

[admin]
listen = ["127.0.0.1:0"]

[ops]
listen = "127.0.0.1:0"
TOML

echo "== starting the connector"
KRB5_CONFIG="${LAB_KRB5_CONF:-/etc/krb5.conf}" "$daemon" serve --config "$state/connector.toml" > "$state/connector.out" 2> "$state/connector.log" &
pids+=($!)
wait_for_line "$state/connector.out" listening || { echo "connector did not start; see $state/connector.log" >&2; exit 1; }
addresses="$(head -1 "$state/connector.out")"
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])["listening"][sys.argv[2]]; print(v[0] if isinstance(v,list) else v)' "$addresses" "$1"; }
http="$(field http)"; https="$(field https)"; ops="$(field ops)"; admin="$(field admin)"

cli() { "$daemon" --socket "$state/admin.sock" "$@"; }
echo "== signing in and registering through the command line"
printf '%s\n' 'Adm1n&<>"'"'"'pass' | cli signin --user admin@contoso.test --password-stdin
cli register --name rmsconnector.contoso.test > /dev/null

if [ "$kerberos" -eq 1 ]; then
    echo "== installing the domain's keytab and authorizing the lab's servers by SID"
    cli keytab upload "$LAB_CONNECTOR_KEYTAB" > /dev/null
    cli authorize add --account 'CONTOSO\Exchange Servers' --sid "$LAB_SID_EXCHANGE_SERVERS" --kind group --role exchange > /dev/null
    cli authorize add --account 'CONTOSO\SharePoint Servers' --sid "$LAB_SID_SHAREPOINT_SERVERS" --kind group --role sharepoint > /dev/null
    cli authorize add --account 'CONTOSO\File Servers' --sid "$LAB_SID_FILE_SERVERS" --kind group --role fileserver > /dev/null
    port="${http##*:}"
    echo "== a Kerberos-authenticated call as EXCH01\$ (ticket from the Samba KDC)"
    for _ in $(seq 50); do
        code="$(
            eval "$("$repo/tests/lab/lab.sh" kinit "$state/ad" EXCH01)"
            curl -s -o "$state/first-call.xml" -w '%{http_code}' --negotiate -u : \
                --resolve "rmsconnector.contoso.test:${port}:127.0.0.1" \
                "http://rmsconnector.contoso.test:${port}/_wmcs/certification/ServerCertification.asmx" \
                -H 'content-type: text/xml; charset=utf-8' \
                -H 'soapaction: "http://microsoft.com/DRM/CertificationService/Certify"' \
                --data '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Certify xmlns="http://microsoft.com/DRM/CertificationService"/></soap:Body></soap:Envelope>'
        )" || true
        [ "$code" = "200" ] && break
        sleep 0.2   # the authorization reaches the relay through the list sync
    done
    echo "   HTTP $code ($(head -c 120 "$state/first-call.xml")...)"
else
    cli authorize add --account 'CONTOSO\Exchange Servers' --sid S-1-5-21-1111-2222-3333-1100 --kind group --role exchange > /dev/null
fi

setup_code="$(sed -n 's/^SETUP_CODE=//p' "$state/data/console.env" 2>/dev/null || true)"
cat <<INFO

The lab is running (state in $state).
  admin web UI        https://$admin/   (self-signed; one-time setup code: ${setup_code:-already used})
  cloud stand-in      $cloud_url   (device sign-in page: $cloud_url/device)
  connector HTTP      http://$http/_wmcs/certification/servercertification.asmx
  connector HTTPS     https://$https/_wmcs/certification/servercertification.asmx (self-signed)
  metrics / readiness http://$ops/metrics   http://$ops/readyz
  admin CLI           $daemon --socket $state/admin.sock status
INFO
if [ "$kerberos" -eq 1 ]; then
cat <<INFO
  AD domain           CONTOSO.TEST, KDC $LAB_KDC (krb5.conf: $LAB_KRB5_CONF)

Call as any lab server (EXCH01, EXCH03 (nested group), FS01, svc-spapppool, ROGUE01 (refused)):
  eval "\$(tests/lab/lab.sh kinit $state/ad FS01)"
  curl --negotiate -u : --resolve rmsconnector.contoso.test:${http##*:}:127.0.0.1 \\
    http://rmsconnector.contoso.test:${http##*:}/_wmcs/GetRmsoUri.aspx
INFO
fi
echo
echo "Press Ctrl-C to stop."
wait
