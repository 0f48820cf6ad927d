#!/usr/bin/env bash
# Issue 6, tested: two appliances behind HAProxy on one virtual address named as the
# connector, with the Samba AD lab, the cloud stand-in and Kerberos-authenticated callers,
# all in network namespaces of its own. Runs the six checks, prints PASS/FAIL with numbers
# and a summary table, exits non-zero when any check fails, and removes everything on exit.
#
# Usage: tests/pair/run.sh [STATE_DIR]     (root; default: a new /tmp/rmscpair.XXXXXX)
#
# Environment (all optional):
#   RMSC_LAB_DIR=DIR            use (and leave running) this AD lab instead of a private one
#   PAIR_OUTAGE_SECS=60         length of the cloud outage of check 5 (at least the minimum
#                               printed, which follows from the long poll and staleness)
#   PAIR_LOAD_SECS=10           length of each load phase
#   PAIR_WORKERS_PER_CALLER=2   parallel curl loops per simulated server
#   PAIR_EDIT_ROUNDS=5          simultaneous edit pairs of check 6
#   PAIR_LONG_POLL_SECS=10 PAIR_MAX_STALENESS_SECS=15 PAIR_CLOUD_TIMEOUT_MS=5000
#   PAIR_KEEP_STATE=1           keep STATE_DIR (logs) even when every check passed
#   PAIR_CHECKS="1 2 6 8 3 4 5 7" which checks to run, in this order (7: the appliance list
#                               of the UI; 8: B joined by pairing code, certificate rotation)
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
# shellcheck source=lib/checks_traffic.sh
source "$HERE/lib/checks_traffic.sh"
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

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    pair_cleanup
    if ((rc == 0)) && [[ "${PAIR_KEEP_STATE:-0}" != 1 ]]; then
        rm -rf "$STATE"
    else
        printf 'state and logs kept in %s\n' "$STATE" >&2
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

minimum="$(outage_minimum_secs)"
((PAIR_OUTAGE_SECS >= minimum)) ||
    die "PAIR_OUTAGE_SECS=${PAIR_OUTAGE_SECS} is shorter than ${minimum} s (staleness ${PAIR_MAX_STALENESS_SECS} s, long poll ${PAIR_LONG_POLL_SECS} s + cloud timeout ${PAIR_CLOUD_TIMEOUT_MS} ms, + 5 s)"

pair_preflight
started="$(now_ms)"
pair_setup

for check in ${PAIR_CHECKS:-1 2 6 8 3 4 5 7}; do
    case "$check" in
    1) say "check 1: traffic spreads over both (${PAIR_LOAD_SECS} s of load)" && check_spread ;;
    2) say "check 2: authorization added on A, honoured by B" && check_propagation ;;
    3) say "check 3: SIGTERM of A under load" && check_sigterm ;;
    4) say "check 4: kill -9 of A under load" && check_kill9 ;;
    5) say "check 5: the cloud unreachable" && check_outage ;;
    6) say "check 6: simultaneous edits on A and B" && check_concurrent_edits ;;
    7) say "check 7: the tenant's appliances as the UI lists them" && check_listing ;;
    8) say "check 8: B joined with a pairing code; rotation on A reaches B" && check_join_and_rotation ;;
    *) die "unknown check $check" ;;
    esac
done

print_summary
printf '\n%d of %d checks failed; %s s in all (setup included)\n' "$FAILED_CHECKS" "${#RESULT_ROWS[@]}" \
    "$(awk -v ms="$(($(now_ms) - started))" 'BEGIN { printf "%.0f", ms / 1000 }')"
((FAILED_CHECKS == 0))
