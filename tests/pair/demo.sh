#!/usr/bin/env bash
# The pair for a person to watch: the same topology as run.sh (two appliances behind
# HAProxy on one virtual address named as the connector, the Samba AD lab, the cloud
# stand-in), with the simulated Exchange, SharePoint and file-server callers sending a
# gentle stream of Kerberos-authenticated calls. Prints the addresses and how to send calls;
# a line every few seconds shows how the calls spread. Ctrl-C stops and removes everything.
#
# Usage: tests/pair/demo.sh [STATE_DIR]     (root; default: a new /tmp/rmscpair.XXXXXX)
#   PAIR_DEMO_HOURS=8   the traffic and the status line stop by themselves after this long
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
export LC_ALL=C
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
BIN="${PAIR_BIN:-$REPO/target/release}"

# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/net.sh
source "$HERE/lib/net.sh"
# shellcheck source=lib/services.sh
source "$HERE/lib/services.sh"
# shellcheck source=lib/appliances.sh
source "$HERE/lib/appliances.sh"
# shellcheck source=lib/load.sh
source "$HERE/lib/load.sh"
# shellcheck source=lib/checks_cloud.sh
source "$HERE/lib/checks_cloud.sh"
# shellcheck source=lib/setup.sh
source "$HERE/lib/setup.sh"

if [[ -n "${1:-}" ]]; then
    mkdir -p "$1"
    STATE="$(cd "$1" && pwd -P)"
else
    STATE="$(mktemp -d /tmp/rmscpair.XXXXXX)"
fi
# One curl loop per simulated server is plenty to watch.
PAIR_WORKERS_PER_CALLER=1
HOURS="${PAIR_DEMO_HOURS:-8}"

on_exit() {
    trap - EXIT INT TERM
    echo
    say "stopping"
    pair_cleanup
    printf 'logs kept in %s\n' "$STATE"
}
trap on_exit EXIT
trap 'exit 0' INT TERM

# A slower caller than run.sh's: one call per simulated server every half second.
demo_caller() { # NAME CCACHE SCHEME SECONDS
    local end=$(($(now_ms) + $4 * 1000)) i t0 code
    for ((i = 0; i < 1000000; i++)); do
        t0="$(now_ms)"
        ((t0 < end)) || break
        code="$(soap_call "$2" "$3" "$VIP")"
        printf '%s %s %s %s\n' "$t0" "$(now_ms)" "$1" "$code" >>"$STATE/load/demo.txt"
        sleep 0.5
    done
}

pair_preflight
pair_setup

: >"$STATE/load/demo.txt"
for entry in "${CALLERS[@]}"; do
    demo_caller "${entry%%:*}" "$STATE/cc/${entry%%:*}-1" "${entry##*:}" $((HOURS * 3600)) &
    LOAD_PIDS+=($!)
done

cat <<INFO

The pair is running (state and logs in $STATE).
  virtual address    ${VIP} = ${CONNECTOR_NAME}, ports 80 and 443 (HAProxy, TCP mode)
  HAProxy stats      http://${VIP}:8404/
  appliance A        callers http://${ADDR_A}/  ops http://${ADDR_A}:${OPS_PORT}/readyz  admin UI https://${ADDR_A}:${ADMIN_PORT}/
  appliance B        callers http://${ADDR_B}/  ops http://${ADDR_B}:${OPS_PORT}/readyz  admin UI https://${ADDR_B}:${ADMIN_PORT}/
  setup codes        A: $(sed -n 's/^SETUP_CODE=//p' "$STATE/a/data/console.env" 2>/dev/null || echo -)  B: $(sed -n 's/^SETUP_CODE=//p' "$STATE/b/data/console.env" 2>/dev/null || echo -)
  admin CLI          $BIN/rmsconnector --socket $STATE/a/admin.sock status   (b/admin.sock for B)
  cloud stand-in     ${ADDR_CLOUD}:${CLOUD_PORT} in namespace ${NS_CLOUD}
  AD domain          CONTOSO.TEST, KDC ${LAB_KDC} (krb5.conf ${LAB_KRB5_CONF})

Send a call yourself, as any lab server (EXCH01, FS01, svc-spapppool; ROGUE01 is refused):
  eval "\$(tests/lab/lab.sh kinit ${LAB_DIR} FS01)"
  curl --negotiate -u : --resolve ${CONNECTOR_NAME}:80:${VIP} \\
    -H 'content-type: text/xml; charset=utf-8' \\
    -H 'soapaction: "http://microsoft.com/DRM/CertificationService/Certify"' \\
    --data '${SOAP_ENVELOPE}' \\
    http://${CONNECTOR_NAME}/_wmcs/certification/ServerCertification.asmx

Try: kill -TERM ${PIDS[appliance-a]} (appliance A) and watch B take every call.
Press Ctrl-C to stop.

INFO

# The status line: calls so far, failures, and connections per appliance from HAProxy.
end=$(($(now_ms) + HOURS * 3600 * 1000))
while (($(now_ms) < end)); do
    read -r calls ok bad <<<"$(load_count "$STATE/load/demo.txt")"
    printf '%s  calls %d (ok %d, failed %d)  HAProxy conns A %s (%s)  B %s (%s)\n' \
        "$(date +%T)" "$calls" "$ok" "$bad" "$(hap_sessions a)" "$(hap_field appliances_http a status)" \
        "$(hap_sessions b)" "$(hap_field appliances_http b status)"
    sleep 5
done
