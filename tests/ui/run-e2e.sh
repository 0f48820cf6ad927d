#!/usr/bin/env bash
# Runs the admin web UI's browser tests against the REAL connector, end to end, with one
# command: the AD lab (Samba), the cloud stand-in, a fresh `rmsconnector` with Kerberos caller
# authentication, then tests/ui/run.sh (the wizard and every page in Chromium), a
# Kerberos-authenticated SOAP call from the lab's EXCH01$ through the connector (issue 4's
# "done when"), and finally a second connector that joins the first with a pairing code in
# the browser (tests/ui/pairing.test.mjs) and serves the same Kerberos call (issue 6). Every wait is a poll with a deadline; every process started here is stopped
# on exit; every port is picked by the kernel (port 0).
#
# Usage (root, Debian 12, /usr/bin/chromium, node+npm, tests/lab/install-deps.sh done):
#   tests/ui/run-e2e.sh
#
# Environment (all optional):
#   RMSC_LAB_DIR       a running AD lab to use (CI starts one); otherwise a private lab is
#                      brought up in a temporary directory and taken down (purged) on exit
#   RMSC_ARTIFACTS     screenshots, downloads and logs (default tests/ui/artifacts)
#   RMSC_E2E_NO_BUILD  set to 1 to use the binaries already in target/release
#   RMSC_E2E_BUILD_ROOT  another checkout to build and run instead of this one (its web-ui/
#                      is what the browser sees); CARGO_TARGET_DIR is honoured
#   RMSC_KEEP_WORK     set to 1 to keep the temporary directory (configs, data, logs)
# Exit status: 0 when every stage passed, 1 otherwise (the summary says which).
set -euo pipefail

UI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$UI_DIR/../.." && pwd -P)"
LAB_SH="$ROOT/tests/lab/lab.sh"
# The source tree to build and run (default: this one); another checkout can stand in while
# this one is mid-change.
BUILD_ROOT="${RMSC_E2E_BUILD_ROOT:-$ROOT}"
BIN="${CARGO_TARGET_DIR:-$BUILD_ROOT/target}/release"
CONNECTOR_NAME="rmsconnector.contoso.test"
export RMSC_ARTIFACTS="${RMSC_ARTIFACTS:-$UI_DIR/artifacts}"
export CARGO_TERM_COLOR=never

work="$(mktemp -d "${TMPDIR:-/tmp}/rmsc-ui-e2e.XXXXXX")"
pids=()
current=""
own_lab=""
results=()
# shellcheck source=tests/ui/lib/e2e-common.sh
source "$UI_DIR/lib/e2e-common.sh"

# Stops what this script started (TERM, then KILL after a deadline), keeps the logs with the
# artifacts, takes a private lab down, prints the summary. Runs on every exit.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # A signal or an unexpected error ends the run before its stages say so themselves.
    if [[ $status -ne 0 ]] && ! any_failed; then record FAIL "run ended early (exit status $status)"; fi
    if [[ -n "$current" ]]; then stop_tree "$current"; fi
    stop_processes 15 "${pids[@]}"
    mkdir -p "$RMSC_ARTIFACTS/logs"
    cp -f "$work"/*.log "$work"/*.out "$work"/*.toml "$RMSC_ARTIFACTS/logs/" 2>/dev/null || true
    if [[ -n "$own_lab" ]]; then
        "$LAB_SH" down "$own_lab" --purge >/dev/null 2>&1 || log "could not take the lab down: $own_lab"
    fi
    print_summary
    if [[ "${RMSC_KEEP_WORK:-}" == 1 ]]; then
        log "kept $work"
    else
        rm -rf -- "$work"
    fi
    if [[ $status -eq 0 ]] && any_failed; then status=1; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The default artifacts directory holds only this script's output: start it afresh so the
# screenshots are this run's. A directory given in RMSC_ARTIFACTS is left as it is.
if [[ "$RMSC_ARTIFACTS" == "$UI_DIR/artifacts" ]]; then rm -rf -- "$RMSC_ARTIFACTS"; fi
mkdir -p "$RMSC_ARTIFACTS"
[[ -x /usr/bin/chromium || -x "${RMSC_CHROMIUM:-}" ]] || fail_stage prerequisites "no Chromium (apt-get install -y chromium)"
for tool in node npm curl jq kinit; do
    command -v "$tool" >/dev/null || fail_stage prerequisites "'$tool' is missing"
done

# 1. Node dependencies (playwright-core), from the lock file.
if [[ ! -d "$UI_DIR/node_modules/playwright-core" ]]; then
    log "npm ci"
    run_waiting npm ci --prefix "$UI_DIR" --no-audit --no-fund || fail_stage npm "npm ci failed"
fi
record PASS "node dependencies"

# 2. The AD lab.
if [[ -n "${RMSC_LAB_DIR:-}" ]]; then
    lab_dir="$RMSC_LAB_DIR"
    "$LAB_SH" status "$lab_dir" >/dev/null || fail_stage lab "RMSC_LAB_DIR=$lab_dir is not running"
else
    lab_dir="$work/lab"
    own_lab="$lab_dir"
    log "bringing up a private AD lab in $lab_dir"
    run_waiting "$LAB_SH" up "$lab_dir" >"$work/lab.log" 2>&1 || fail_stage lab "lab.sh up failed (see logs/lab.log)"
fi
# shellcheck source=/dev/null
source "$lab_dir/lab.env"
record PASS "AD lab ($lab_dir)"

# 3. Build, then the cloud stand-in.
if [[ "${RMSC_E2E_NO_BUILD:-}" != 1 ]]; then
    log "cargo build --release (the shared target directory may be locked by another build)"
    run_waiting cargo build --manifest-path "$BUILD_ROOT/Cargo.toml" --release --locked \
        -p rmsc-connectord -p rmsc-cloud-standin ||
        fail_stage build "cargo build failed"
fi
record PASS "build"

"$BIN/rmsc-cloud-standin" --listen 127.0.0.1:0 --state-dir "$work/standin" \
    >"$work/standin.out" 2>"$work/standin.log" &
pids+=($!)
poll 30 "the stand-in to listen" grep -q '^standin listening on ' "$work/standin.out" ||
    fail_stage standin "the stand-in did not start (see logs/standin.log)"
standin_url="$(sed -n 's/^standin listening on //p' "$work/standin.out" | head -1)"
record PASS "cloud stand-in at $standin_url"

# 4. A fresh connector, Kerberos for callers, everything on loopback port 0.
write_connector_config "$work/connector.toml" "$work" "$standin_url" "$LAB_LDAP_URL"
start_connector connector "$work/connector.toml" "$work/data"
admin_url="$started_admin_url"
http_addr="$started_http_addr"
setup_code="$started_setup_code"
record PASS "connector: admin $admin_url, callers http://$http_addr"

# 5. The browser tests.
log "tests/ui/run.sh against $admin_url"
ui_status=0
RMSC_ADMIN_URL="$admin_url" RMSC_SETUP_CODE="$setup_code" RMSC_STANDIN_URL="$standin_url" \
    RMSC_LAB_DIR="$lab_dir" RMSC_CONNECTOR_NAME="$CONNECTOR_NAME" \
    run_waiting "$UI_DIR/run.sh" > >(tee "$work/ui-tests.log") 2>&1 || ui_status=$?
# tee runs on its own; run.sh's last line says the log is complete.
poll 10 "the test log to be complete" grep -q '^screenshots: ' "$work/ui-tests.log" || true
collect_ui_results "$work/ui-tests.log" "$ui_status"

# 6. A Kerberos-authenticated SOAP call from EXCH01$ (a member of Exchange Servers).
kerberos_soap_check "$lab_dir" "$admin_url" "$http_addr"

# 7. A second appliance joins the first one with a pairing code, in the browser, then serves
# the same Kerberos call (issue 6). Needs the first one set up by the wizard test.
if [[ "$ui_status" -eq 0 ]]; then
    pairing_stage "$lab_dir" "$standin_url" "$admin_url"
else
    record SKIP "pairing: not run, the first connector's browser tests failed"
fi
