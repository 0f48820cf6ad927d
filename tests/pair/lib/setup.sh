# shellcheck shell=bash
# Brings the whole pair up (and down): shared by run.sh (the checks) and demo.sh (to watch).
# Expects REPO, BIN and STATE to be set by the caller.

pair_preflight() {
    [[ "$(id -u)" -eq 0 ]] || die "must run as root (network namespaces, the Samba lab)"
    command -v samba-tool >/dev/null 2>&1 ||
        die "Samba is missing: run tests/lab/install-deps.sh first"
    ((BASH_VERSINFO[0] >= 5)) || die "needs bash 5 (EPOCHREALTIME)"
    ensure_tools
    local b
    for b in rmsconnector rmsc-cloud-standin; do
        [[ -x "$BIN/$b" ]] || die "$BIN/$b is missing: cargo build --release --locked -p rmsc-connectord -p rmsc-cloud-standin"
    done
}

PAIR_UP=0

# pair_setup: everything from namespaces to two registered, ready appliances behind HAProxy.
pair_setup() {
    local t0
    t0="$(now_ms)"
    mkdir -p "$STATE/logs" "$STATE/load"
    pair_names "$STATE"
    pair_pick_subnet
    PAIR_UP=1
    say "network: namespaces rmscpair-${PAIR_HASH}-{lb,a,b,cloud}, VIP ${VIP}, fabric ${FABRIC}"
    pair_net_up
    say "Samba AD lab (CONTOSO.TEST)"
    lab_start
    note "KDC ${LAB_KDC}, krb5.conf ${LAB_KRB5_CONF}"
    say "caller certificate for ${CONNECTOR_NAME} (private CA)"
    make_caller_certificate
    say "cloud stand-in in ${NS_CLOUD}"
    standin_start
    note "$CLOUD_URL (from the appliances), ${ADDR_CLOUD}:${CLOUD_PORT} on the fabric"
    local which
    for which in a b; do
        say "appliance ${which^^} in $(appliance_ns "$which") at $(appliance_addr "$which")"
        appliance_start "$which"
        appliance_setup "$which"
    done
    say "authorizing the lab's Exchange, SharePoint and file-server groups (CLI on A)"
    cli a authorize add --account 'CONTOSO\Exchange Servers' --sid "$LAB_SID_EXCHANGE_SERVERS" \
        --kind group --role exchange >/dev/null
    cli a authorize add --account 'CONTOSO\SharePoint Servers' --sid "$LAB_SID_SHAREPOINT_SERVERS" \
        --kind group --role sharepoint >/dev/null
    cli a authorize add --account 'CONTOSO\File Servers' --sid "$LAB_SID_FILE_SERVERS" \
        --kind group --role fileserver >/dev/null
    for which in a b; do
        poll_until 60 0.2 appliance_is_ready "$which" ||
            die "appliance ${which^^} is not ready: $(http_code "http://$(appliance_addr "$which"):$OPS_PORT/readyz")"
    done
    say "HAProxy in ${NS_LB} on ${VIP}:80 and :443 (TCP mode, roundrobin, /readyz checks)"
    haproxy_start
    poll_until 20 0.2 hap_up a || die "HAProxy does not see A up"
    poll_until 20 0.2 hap_up b || die "HAProxy does not see B up"
    say "Kerberos tickets for the simulated callers"
    local entry
    for entry in "${CALLERS[@]}"; do
        caller_ccache "${entry%%:*}" "$PAIR_WORKERS_PER_CALLER"
    done
    caller_ccache ROGUE01 1
    poll_until 20 0.2 vip_call_ok || die "a Kerberos call through the VIP does not succeed"
    note "set up in $(awk -v ms="$(($(now_ms) - t0))" 'BEGIN { printf "%.1f", ms / 1000 }') s"
}

pair_cleanup() {
    load_stop
    stop_all_processes
    if ((PAIR_UP == 1)); then
        pair_net_down
        lab_stop
    fi
}
