# shellcheck shell=bash
# e2e-common.sh: helpers of run-e2e.sh: logging, the result list and its summary, polls with
# a deadline, stopping processes, a connector's configuration and start, the Kerberos SOAP
# check and the pairing stage. Expects `work`, `results`, `pids`, `BIN`, `BUILD_ROOT`,
# `LAB_SH` and `CONNECTOR_NAME` from run-e2e.sh.

log() { printf '[run-e2e %s] %s\n' "$(date +%T)" "$*" >&2; }

# record PASS|FAIL|SKIP TEXT: one line of the final summary.
record() { results+=("$1  $2"); }

# fail_stage NAME WHY: records the failure and exits (the EXIT trap cleans up).
fail_stage() {
    record FAIL "$1: $2"
    log "FAIL: $1: $2"
    exit 1
}

any_failed() {
    local line
    for line in "${results[@]}"; do
        [[ "$line" == FAIL* ]] && return 0
    done
    return 1
}

print_summary() {
    local line
    printf '\n==== run-e2e summary ====\n'
    for line in "${results[@]}"; do printf '%s\n' "$line"; done
    if any_failed; then printf 'RESULT: FAILED\n'; else printf 'RESULT: PASSED\n'; fi
    printf 'artifacts (screenshots, downloads, logs): %s\n' "$RMSC_ARTIFACTS"
}

# poll SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; 1 at the deadline.
poll() {
    local seconds="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            log "timed out after ${seconds} s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# Whether PID has exited (gone, or a zombie waiting to be reaped).
process_gone() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [[ -z "$state" || "$state" == Z* ]]
}

# stop_processes SECONDS PID...: TERM, a poll until each has exited, KILL after the deadline.
stop_processes() {
    local seconds="$1" pid
    shift
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        if ! poll "$seconds" "process $pid to exit" process_gone "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}

# Prints the descendants of PID, deepest first.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$child"
        echo "$child"
    done
}

# run_waiting COMMAND...: runs COMMAND in the background and waits for it, so that a signal
# to this script is handled at once (bash runs traps only between foreground commands);
# `current` names it for the cleanup meanwhile. Returns COMMAND's status.
run_waiting() {
    local status=0
    "$@" &
    current=$!
    wait "$current" || status=$?
    current=""
    return "$status"
}

# stop_tree PID: stops PID and everything it started (node and Chromium under run.sh).
stop_tree() {
    local all
    mapfile -t all < <(descendants "$1")
    stop_processes 10 "$1" "${all[@]}"
}

# The name of the daemon's directory section, when its configuration has one yet (the admin
# API is being completed; the section was added together with the directory-search route).
directory_section() {
    local config="$BUILD_ROOT/firmware/rmsc-connectord/src/config.rs"
    grep -qE '^\s*pub directory:' "$config" && grep -q 'ldap_urls' "$config"
}

# write_connector_config FILE DIR CLOUD_URL LDAP_URL [APPLIANCE_NAME [CLOUD_CA_FILE]]: a
# connector whose data, admin socket and Kerberos runtime directory are under DIR.
write_connector_config() {
    local file="$1" dir="$2" cloud_url="$3" ldap_url="$4"
    local name="${5:-rmsc-e2e-01.contoso.test}" ca_file="${6:-$2/standin/ca.pem}"
    cat >"$file" <<TOML
data_dir = "$dir/data"
cloud_url = "$cloud_url"
cloud_ca_file = "$ca_file"
admin_socket = "$dir/admin.sock"
appliance_name = "$name"
identity = "kerberos"
drain_delay_ms = 200
shutdown_grace_secs = 5

[callers]
http = ["127.0.0.1:0"]
https = ["127.0.0.1:0"]

[admin]
listen = ["127.0.0.1:0"]

[ops]
listen = "127.0.0.1:0"

[kerberos]
runtime_dir = "$dir/krb-run"
TOML
    if directory_section; then
        printf '\n[directory]\nldap_urls = ["%s"]\n' "$ldap_url" >>"$file"
    else
        log "the daemon has no [directory] configuration yet; directory search will be unavailable"
    fi
}

# start_connector LABEL CONFIG DATA_DIR: starts `rmsconnector serve` with CONFIG (output in
# $work/LABEL.out and .log), waits for its listeners and its setup code, and sets
# `started_admin_url`, `started_http_addr` and `started_setup_code`. Fails the stage if not.
start_connector() {
    local label="$1" config="$2" data_dir="$3" listening admin_addr
    KRB5_CONFIG="$LAB_KRB5_CONF" "$BIN/rmsconnector" serve --config "$config" \
        >"$work/$label.out" 2>"$work/$label.log" &
    pids+=($!)
    poll 60 "$label to listen" grep -q '"listening"' "$work/$label.out" ||
        fail_stage "$label" "the connector did not start (see logs/$label.log)"
    listening="$(grep -m1 '"listening"' "$work/$label.out")"
    admin_addr="$(jq -r '.listening.admin[0]' <<<"$listening")"
    started_http_addr="$(jq -r '.listening.http[0]' <<<"$listening")"
    poll 30 "the setup code of $label" grep -q '^SETUP_CODE=' "$data_dir/console.env" ||
        fail_stage "$label" "no SETUP_CODE in $data_dir/console.env"
    started_setup_code="$(sed -n 's/^SETUP_CODE=//p' "$data_dir/console.env" | head -1)"
    started_admin_url="https://$admin_addr"
}

# collect_ui_results LOG STATUS [WHAT]: one summary line per test of tests/ui/run.sh (from node's
# spec reporter: ✔ pass, ✖ fail, ﹣ skip with its reason), and the suite's exit status.
collect_ui_results() {
    local file="$1" status="$2" what="${3:-tests/ui/run.sh}" line
    while IFS= read -r line; do
        results+=("$line")
    done < <(awk '
        /^== / { suite = $2; counting = 1; next }
        /^ℹ tests / { counting = 0; next }
        !counting { next }
        /^[[:space:]]*✔ / { sub(/^[[:space:]]*✔ /, ""); sub(/ \([0-9.]+ms\)$/, ""); print "PASS  ui " suite ": " $0 }
        /^[[:space:]]*✖ / { sub(/^[[:space:]]*✖ /, ""); sub(/ \([0-9.]+ms\)$/, ""); print "FAIL  ui " suite ": " $0 }
        /^[[:space:]]*﹣ / { sub(/^[[:space:]]*﹣ /, ""); sub(/ \([0-9.]+ms\)/, ""); print "SKIP  ui " suite ": " $0 }
    ' "$file")
    if [[ "$status" -ne 0 ]]; then
        record FAIL "$what exited with $status"
    fi
}

# shellcheck source=tests/ui/lib/e2e-kerberos.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-kerberos.sh"
# shellcheck source=tests/ui/lib/e2e-pairing.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-pairing.sh"
