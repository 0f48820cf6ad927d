# shellcheck shell=bash
# The two appliances (A and B) and HAProxy in front of them.

# Timings of the appliances, chosen so the checks finish in minutes. The product defaults
# (long poll 20 s, staleness 45 s, cloud timeout 30 s) only stretch the outage check.
PAIR_LONG_POLL_SECS="${PAIR_LONG_POLL_SECS:-10}"
PAIR_MAX_STALENESS_SECS="${PAIR_MAX_STALENESS_SECS:-15}"
PAIR_CLOUD_TIMEOUT_MS="${PAIR_CLOUD_TIMEOUT_MS:-5000}"
PAIR_DRAIN_DELAY_MS="${PAIR_DRAIN_DELAY_MS:-2000}"
OPS_PORT=9464
ADMIN_PORT=8443

# appliance_addr a|b
appliance_addr() {
    case "$1" in
    a) printf '%s\n' "$ADDR_A" ;;
    b) printf '%s\n' "$ADDR_B" ;;
    *) die "no appliance $1" ;;
    esac
}

appliance_ns() {
    case "$1" in
    a) printf '%s\n' "$NS_A" ;;
    b) printf '%s\n' "$NS_B" ;;
    *) die "no appliance $1" ;;
    esac
}

# cli a|b ARGS...: the appliance's own command line over its admin socket (a Unix socket
# crosses network namespaces, so the host runs it).
cli() {
    local which="$1"
    shift
    "$BIN/rmsconnector" --socket "$STATE/$which/admin.sock" "$@"
}

# admin_get a|b PATH: an admin API read over the socket (for routes the CLI has no verb for).
admin_get() {
    curl -s --max-time 5 --unix-socket "$STATE/$1/admin.sock" "http://appliance$2"
}

appliance_write_config() {
    local which="$1" addr
    addr="$(appliance_addr "$which")"
    mkdir -p "$STATE/$which"
    cat >"$STATE/$which/connector.toml" <<TOML
data_dir = "$STATE/$which/data"
cloud_url = "$CLOUD_URL"
cloud_ca_file = "$STATE/standin/ca.pem"
admin_socket = "$STATE/$which/admin.sock"
appliance_name = "appliance-$which"
identity = "kerberos"
shutdown_grace_secs = 10
drain_delay_ms = $PAIR_DRAIN_DELAY_MS

[callers]
http = ["$addr:80"]
https = ["$addr:443"]

[cloud]
connect_timeout_ms = 3000
response_timeout_ms = $PAIR_CLOUD_TIMEOUT_MS

[sync]
long_poll_secs = $PAIR_LONG_POLL_SECS
max_staleness_secs = $PAIR_MAX_STALENESS_SECS
heartbeat_secs = 5

[ops]
listen = "$addr:$OPS_PORT"

[kerberos]
runtime_dir = "$STATE/$which/run"

[admin]
listen = ["$addr:$ADMIN_PORT"]
TOML
}

# appliance_start a|b: starts (or restarts) the daemon and waits until it reports its
# listeners. Each start logs to its own serve-N files.
appliance_start() {
    local which="$1" ns n=1
    ns="$(appliance_ns "$which")"
    [[ -f "$STATE/$which/connector.toml" ]] || appliance_write_config "$which"
    while [[ -e "$STATE/logs/$which-serve-$n.out" ]]; do n=$((n + 1)); done
    local out="$STATE/logs/$which-serve-$n.out"
    start_in "appliance-$which" "$ns" "$out" "$STATE/logs/$which-serve-$n.log" \
        env KRB5_CONFIG="$LAB_KRB5_CONF" RUST_LOG="${PAIR_RUST_LOG:-info}" \
        "$BIN/rmsconnector" serve --config "$STATE/$which/connector.toml"
    wait_for_line "$out" listening 30 ||
        die "appliance $which did not start; see $STATE/logs/$which-serve-$n.log"
}

# appliance_setup a|b: what an administrator does on a fresh appliance, through its CLI.
# A: cloud sign-in, registration under the connector name, the domain's keytab and the HTTPS
# certificate. B joins A's connector with a pairing code shown on A: it receives the name,
# the certificate and the keytab from A, encrypted to its own key, so nobody copies them.
appliance_setup() {
    local which="$1"
    printf '%s\n' "$ADMIN_PASSWORD" | cli "$which" signin --user "$ADMIN_UPN" --password-stdin \
        >"$STATE/logs/$which-signin.json" || die "sign-in on $which failed"
    if [[ "$which" == a ]]; then
        cli a register --name "$CONNECTOR_NAME" >"$STATE/logs/a-register.json" ||
            die "registration of A failed"
        cli a keytab upload "$LAB_CONNECTOR_KEYTAB" >"$STATE/logs/a-keytab.json" ||
            die "keytab upload on A failed"
        cli a certificate upload "$STATE/tls/bundle.pem" >"$STATE/logs/a-certificate.json" ||
            die "certificate upload on A failed"
        return
    fi
    local code
    code="$(cli a pairing start | jq -r '.code')"
    [[ "$code" =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] ||
        die "A showed no pairing code: $code"
    note "A shows the pairing code $code; B joins with it"
    cli "$which" join --code "$code" >"$STATE/logs/$which-join.json" ||
        die "$which could not join with the pairing code: $(cat "$STATE/logs/$which-join.json")"
}

# certificate_fingerprint a|b: the SHA-256 fingerprint of the HTTPS certificate it serves.
certificate_fingerprint() {
    cli "$1" certificate status 2>/dev/null | jq -r '.fingerprint_sha256 // empty' 2>/dev/null
}

appliance_readyz() { # a|b -> the HTTP status of /readyz on the ops port
    http_code "http://$(appliance_addr "$1"):$OPS_PORT/readyz"
}

appliance_is_ready() { [[ "$(appliance_readyz "$1")" == "200" ]]; }
appliance_not_ready() { [[ "$(appliance_readyz "$1")" == "503" ]]; }

# relayed_total a|b: caller requests relayed so far (the appliance's own counter).
relayed_total() {
    curl -s --max-time 3 "http://$(appliance_addr "$1"):$OPS_PORT/metrics" 2>/dev/null |
        awk '/^rmsc_requests_total\{/ && /outcome="relayed"/ {s += $NF} END {print s + 0}'
}

# events_count a|b ID: how many events with ID the appliance holds.
events_count() {
    cli "$1" events --id "$2" --limit 1000 2>/dev/null | jq 'length' 2>/dev/null || echo 0
}

# list_sids a|b: the SIDs of the authorized list as the appliance enforces it, one a line.
list_sids() {
    cli "$1" authorize list 2>/dev/null | jq -r '.entries[]?.sid // empty' 2>/dev/null
}

# ---- HAProxy -------------------------------------------------------------------------

# TCP mode: a caller's connection stays on one appliance for its whole life, which is what
# HTTP Negotiate needs (the appliance authenticates the connection once, then trusts the
# requests that follow on it). HTTP mode would let HAProxy mix requests of one client
# connection over both appliances or reuse one authenticated server connection for
# another client. TCP mode also leaves TLS end to end. Health checks are HTTP against
# /readyz on the caller ports themselves (200 ready, 503 not), every 200 ms.
haproxy_write_config() {
    cat >"$STATE/haproxy.cfg" <<CFG
global
    stats socket $STATE/haproxy.sock mode 600 level admin
    stats timeout 10s
    maxconn 4000

defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A connection refused by a dead appliance is retried on the other one; in TCP mode a
    # retry only happens before any byte was forwarded, so it is always safe.
    retries 3
    option redispatch 1
    default-server inter 200ms fastinter 200ms downinter 500ms fall 2 rise 2

frontend callers_http
    bind $VIP:80
    default_backend appliances_http

frontend callers_https
    bind $VIP:443
    default_backend appliances_https

backend appliances_http
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host $CONNECTOR_NAME
    http-check expect status 200
    server a $ADDR_A:80 check
    server b $ADDR_B:80 check

backend appliances_https
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host $CONNECTOR_NAME
    http-check expect status 200
    server a $ADDR_A:443 check check-ssl verify none
    server b $ADDR_B:443 check check-ssl verify none

listen stats
    mode http
    bind $VIP:8404
    stats enable
    stats uri /
    stats refresh 2s
CFG
}

haproxy_start() {
    haproxy_write_config
    haproxy -c -q -f "$STATE/haproxy.cfg" || die "HAProxy refused $STATE/haproxy.cfg"
    start_in haproxy "$NS_LB" "$STATE/logs/haproxy.out" "$STATE/logs/haproxy.log" \
        haproxy -db -f "$STATE/haproxy.cfg"
    poll_until 10 0.1 test -S "$STATE/haproxy.sock" || die "HAProxy did not start"
}

# hap_field BACKEND SERVER FIELD: one column of HAProxy's `show stat` (by header name).
hap_field() {
    printf 'show stat\n' | socat -t 2 - "UNIX-CONNECT:$STATE/haproxy.sock" 2>/dev/null |
        awk -F, -v be="$1" -v sv="$2" -v f="$3" '
            NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
            $1 == be && $2 == sv { print $(col[f]); exit }'
}

# hap_sessions SERVER: connections HAProxy gave SERVER over both backends.
hap_sessions() {
    local http https
    http="$(hap_field appliances_http "$1" stot)"
    https="$(hap_field appliances_https "$1" stot)"
    printf '%s\n' "$((${http:-0} + ${https:-0}))"
}

# hap_up SERVER: true when both backends consider SERVER up.
hap_up() {
    [[ "$(hap_field appliances_http "$1" status)" == UP* ]] &&
        [[ "$(hap_field appliances_https "$1" status)" == UP* ]]
}
