# shellcheck shell=bash
# The pair's processes: the Samba AD lab, the cloud stand-in with a forwarder into each
# appliance namespace, the caller HTTPS certificate, and the process bookkeeping that lets
# cleanup end exactly what the harness started.

# shellcheck disable=SC2034 # these three are used by appliances.sh and load.sh
CONNECTOR_NAME="rmsconnector.contoso.test"
# shellcheck disable=SC2034
ADMIN_UPN="admin@contoso.test"
# The stand-in's built-in administrator; the password holds every character the original
# refused, on purpose.
# shellcheck disable=SC2034
ADMIN_PASSWORD='Adm1n&<>"'"'"'pass'

declare -A PIDS=()
# Start order of the names in PIDS; cleanup stops in reverse (HAProxy and the appliances
# before the cloud, so the appliances do not log a cloud outage while stopping).
declare -a PID_ORDER=()

# start_in NAME NS OUT ERR CMD...: starts CMD in namespace NS (`ip netns exec` execs, so the
# recorded pid is the program itself and signals reach it directly).
start_in() {
    local name="$1" ns="$2" out="$3" err="$4"
    shift 4
    ip netns exec "$ns" "$@" >"$out" 2>"$err" &
    PIDS[$name]=$!
    PID_ORDER+=("$name")
}

# stop_pid PID SECONDS: TERM, then KILL when it has not exited within SECONDS.
stop_pid() {
    local pid="$1" seconds="$2"
    kill -TERM "$pid" 2>/dev/null || return 0
    if ! poll_until "$seconds" 0.1 pid_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

stop_all_processes() {
    local name ns pid i
    for ((i = ${#PID_ORDER[@]} - 1; i >= 0; i--)); do
        name="${PID_ORDER[$i]}"
        [[ -n "${PIDS[$name]:-}" ]] || continue
        stop_pid "${PIDS[$name]}" 5
        unset "PIDS[$name]"
    done
    PIDS=()
    PID_ORDER=()
    # Backstop: children our processes forked (socat per connection) live in our own
    # namespaces and nowhere else, so their ids come from `ip netns pids` of those.
    for ns in "${NS_A:-}" "${NS_B:-}" "${NS_CLOUD:-}" "${NS_LB:-}"; do
        [ -n "$ns" ] || continue
        ns_exists "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
}

# ---- tools ---------------------------------------------------------------------------

# HAProxy and socat come from Debian; installed only when missing (needs root, like the lab).
ensure_tools() {
    local missing=() tool
    for tool in haproxy socat curl jq openssl ip ss; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) && return 0
    say "installing ${missing[*]} from Debian"
    local pkgs=() t
    for t in "${missing[@]}"; do
        case "$t" in
        ip | ss) pkgs+=(iproute2) ;;
        *) pkgs+=("$t") ;;
        esac
    done
    apt-get install -y -qq "${pkgs[@]}" >/dev/null ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq "${pkgs[@]}" >/dev/null; } ||
        die "could not install ${pkgs[*]}"
}

# ---- the AD lab ----------------------------------------------------------------------

LAB_STARTED_HERE=0

lab_start() {
    if [[ -n "${RMSC_LAB_DIR:-}" ]]; then
        LAB_DIR="$RMSC_LAB_DIR"
        "$REPO/tests/lab/lab.sh" status "$LAB_DIR" >/dev/null 2>&1 ||
            "$REPO/tests/lab/lab.sh" up "$LAB_DIR" >"$STATE/logs/lab-up.log" 2>&1 ||
            die "the lab in RMSC_LAB_DIR=$LAB_DIR did not start; see $STATE/logs/lab-up.log"
    else
        LAB_DIR="$STATE/ad"
        mkdir -p "$LAB_DIR"
        LAB_STARTED_HERE=1
        "$REPO/tests/lab/lab.sh" up "$LAB_DIR" >"$STATE/logs/lab-up.log" 2>&1 ||
            die "the lab did not start; see $STATE/logs/lab-up.log"
    fi
    # shellcheck source=/dev/null
    . "$LAB_DIR/lab.env"
}

lab_stop() {
    if ((LAB_STARTED_HERE == 1)); then
        "$REPO/tests/lab/lab.sh" down "$LAB_DIR" --purge >/dev/null 2>&1 || true
    fi
}

# caller_ccache ACCOUNT COPIES: a TGT and the connector's service ticket for ACCOUNT, copied
# into COPIES private caches ($STATE/cc/ACCOUNT-N), so parallel callers never share a file.
caller_ccache() {
    local account="$1" copies="$2" n
    "$REPO/tests/lab/lab.sh" kinit "$LAB_DIR" "$account" >/dev/null || die "kinit $account failed"
    # lab.sh kinit writes the cache here (see tests/lab/README.md).
    local cc="${LAB_CCACHE_DIR}/${account%\$}"
    KRB5_CONFIG="$LAB_KRB5_CONF" KRB5CCNAME="FILE:$cc" kvno -q "HTTP/${CONNECTOR_NAME}" >/dev/null ||
        die "no service ticket for $account"
    mkdir -p "$STATE/cc"
    for ((n = 1; n <= copies; n++)); do
        cp "$cc" "$STATE/cc/${account}-${n}"
    done
}

# ---- the caller HTTPS certificate ----------------------------------------------------

# The HTTPS certificate for the connector name, from a private CA the callers trust. Only A
# gets it (by upload, as an administrator would); B receives it by joining. `generation`
# makes another one for the rotation check.
make_caller_certificate() {
    local dir="$STATE/tls" generation="${1:-1}" out
    mkdir -p "$dir"
    if [[ ! -f "$dir/ca.pem" ]]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=Pair Test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    fi
    out="$dir/connector-$generation"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=${CONNECTOR_NAME}" -keyout "$out.key" -out "$out.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$CONNECTOR_NAME" >"$dir/ext.cnf"
    openssl x509 -req -in "$out.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$out.pem" 2>/dev/null
    chmod 600 "$dir"/*.key
    if [[ "$generation" == 1 ]]; then
        cat "$out.pem" "$dir/ca.pem" "$out.key" >"$dir/bundle.pem"
    else
        cat "$out.pem" "$dir/ca.pem" "$out.key" >"$dir/bundle-$generation.pem"
    fi
    chmod 600 "$dir"/bundle*.pem
}

# ---- the cloud stand-in --------------------------------------------------------------

# The stand-in's TLS certificate names only loopback, so it listens on every address of the
# cloud namespace and each appliance namespace gets a plain TCP forwarder on 127.0.0.1:PORT
# to it (TLS stays end to end). The forwarder's connect timeout keeps an outage short to see.
standin_start() {
    mkdir -p "$STATE/standin"
    start_in standin "$NS_CLOUD" "$STATE/logs/standin.out" "$STATE/logs/standin.log" \
        "$BIN/rmsc-cloud-standin" --listen 0.0.0.0:0 --state-dir "$STATE/standin"
    wait_for_line "$STATE/logs/standin.out" '^standin listening on' 20 ||
        die "the stand-in did not start; see $STATE/logs/standin.log"
    CLOUD_URL="$(sed -n 's/^standin listening on //p' "$STATE/logs/standin.out" | head -1)"
    CLOUD_PORT="${CLOUD_URL##*:}"
    local ns
    for ns in "$NS_A" "$NS_B"; do
        start_in "fwd-${ns##*-}" "$ns" /dev/null "$STATE/logs/fwd-${ns##*-}.log" \
            socat "TCP-LISTEN:${CLOUD_PORT},bind=127.0.0.1,reuseaddr,fork" \
            "TCP:${ADDR_CLOUD}:${CLOUD_PORT},connect-timeout=3"
        poll_until 10 0.1 listening_in "$ns" "127.0.0.1:${CLOUD_PORT}" ||
            die "the cloud forwarder in $ns did not start"
    done
}

# listening_in NS ADDR:PORT
listening_in() {
    ip netns exec "$1" ss -Hltn "src $2" 2>/dev/null | grep -q .
}
