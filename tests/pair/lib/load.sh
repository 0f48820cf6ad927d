# shellcheck shell=bash
# Simulated callers: Exchange (EXCH01$, over HTTPS), SharePoint (svc-spapppool) and a file
# server (FS01$), each a few sequential curl loops with real Kerberos tickets from the
# Samba KDC, one new connection per call (so every call is balanced and authenticated
# anew). Each call is one line in a result file: start_ms end_ms worker http_code.

PAIR_WORKERS_PER_CALLER="${PAIR_WORKERS_PER_CALLER:-2}"
# account:scheme of the simulated servers.
CALLERS=("EXCH01:https" "svc-spapppool:http" "FS01:http")

SOAP_ENVELOPE='<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Certify xmlns="http://microsoft.com/DRM/CertificationService"/></soap:Body></soap:Envelope>'

declare -a LOAD_PIDS=()

# soap_call CCACHE SCHEME ADDRESS: one Kerberos-authenticated Certify call to the connector
# name resolved to ADDRESS; prints the HTTP status (000 when the call failed outright).
soap_call() {
    local cc="$1" scheme="$2" address="$3" port=80 code
    local tls=()
    if [[ "$scheme" == https ]]; then
        port=443
        tls=(--cacert "$STATE/tls/ca.pem")
    fi
    code="$(KRB5_CONFIG="$LAB_KRB5_CONF" KRB5CCNAME="FILE:$cc" curl -s -o /dev/null \
        -w '%{http_code}' --max-time 10 --negotiate -u : "${tls[@]}" \
        --resolve "${CONNECTOR_NAME}:${port}:${address}" \
        -H 'content-type: text/xml; charset=utf-8' \
        -H 'soapaction: "http://microsoft.com/DRM/CertificationService/Certify"' \
        --data "$SOAP_ENVELOPE" \
        "${scheme}://${CONNECTOR_NAME}:${port}/_wmcs/certification/ServerCertification.asmx" \
        2>/dev/null)" || true
    printf '%s\n' "${code:-000}"
}

# load_worker NAME CCACHE SCHEME SECONDS MAXCALLS OUT: calls until SECONDS or MAXCALLS.
load_worker() {
    local name="$1" cc="$2" scheme="$3" seconds="$4" max="$5" out="$6" i t0 t1 code
    local end=$(($(now_ms) + seconds * 1000))
    for ((i = 0; i < max; i++)); do
        t0="$(now_ms)"
        ((t0 < end)) || break
        code="$(soap_call "$cc" "$scheme" "$VIP")"
        t1="$(now_ms)"
        printf '%s %s %s %s\n' "$t0" "$t1" "$name" "$code" >>"$out"
    done
}

# load_start SECONDS OUT: starts every worker in the background.
load_start() {
    local seconds="$1" out="$2" entry account scheme n
    : >"$out"
    LOAD_PIDS=()
    for entry in "${CALLERS[@]}"; do
        account="${entry%%:*}"
        scheme="${entry##*:}"
        for ((n = 1; n <= PAIR_WORKERS_PER_CALLER; n++)); do
            load_worker "${account}-${n}" "$STATE/cc/${account}-${n}" "$scheme" \
                "$seconds" 100000 "$out" &
            LOAD_PIDS+=($!)
        done
    done
}

load_worker_count() {
    printf '%s\n' "$((${#CALLERS[@]} * PAIR_WORKERS_PER_CALLER))"
}

# load_wait SECONDS: waits for the workers; each ends by itself within its time plus one
# call's --max-time, so SECONDS is only the backstop.
load_wait() {
    local pid deadline=$(($(now_ms) + $1 * 1000))
    for pid in "${LOAD_PIDS[@]}"; do
        while ! pid_gone "$pid" && (($(now_ms) < deadline)); do sleep 0.2; done
        pid_gone "$pid" || kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    LOAD_PIDS=()
}

# load_stop: ends running workers (cleanup on exit).
load_stop() {
    local pid
    for pid in "${LOAD_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    LOAD_PIDS=()
}

# load_count FILE [FROM_MS [TO_MS]]: "calls ok failed" of the calls started in [FROM, TO).
load_count() {
    awk -v from="${2:-0}" -v to="${3:-99999999999999}" '
        $1 >= from && $1 < to { n++; if ($4 == "200") ok++; else bad++ }
        END { printf "%d %d %d\n", n, ok, bad }' "$1"
}

# load_failures FILE: the failed calls, for the log.
load_failures() {
    awk '$4 != "200"' "$1"
}

# load_duration_ms FILE: from the first call's start to the last call's end.
load_duration_ms() {
    awk 'NR == 1 || $1 < s { s = $1 } $2 > e { e = $2 } END { print e - s }' "$1"
}
