# shellcheck shell=bash
# Shared helpers of the pair harness: logging, clocks, bounded polls, the result table.
# Sourced by run.sh and demo.sh; defines functions and nothing else runs here.

# Milliseconds since the epoch, without forking `date` (bash 5's EPOCHREALTIME). The
# harness exports LC_ALL=C so the decimal separator is always a dot.
now_ms() {
    local t="${EPOCHREALTIME/./}"
    printf '%s\n' "$((t / 1000))"
}

say() { printf '== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
warn() { printf '!! %s\n' "$*" >&2; }
die() {
    printf 'pair: %s\n' "$*" >&2
    exit 1
}

# poll_until SECONDS INTERVAL CMD...: runs CMD until it succeeds or SECONDS pass.
# Every wait of the harness goes through here (or through an explicit deadline), never
# through a bare sleep that hopes something happened.
poll_until() {
    local seconds="$1" interval="$2"
    shift 2
    local deadline=$(($(now_ms) + seconds * 1000))
    while true; do
        if "$@"; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            return 1
        fi
        sleep "$interval"
    done
}

# wait_for_line FILE PATTERN SECONDS
wait_for_line() {
    poll_until "$3" 0.1 grep -qs -- "$2" "$1"
}

# pid_gone PID: true once the process no longer exists (or is a zombie awaiting wait).
pid_gone() {
    local state
    [[ -r "/proc/$1/stat" ]] || return 0
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [[ -z "$state" || "$state" == "Z" ]]
}

# http_code URL [curl args...]: the status of a plain GET, 000 when nothing answered.
http_code() {
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$url" 2>/dev/null || true
}

# The summary: one row per check, filled in as checks finish.
declare -a RESULT_ROWS=()
FAILED_CHECKS=0

# record_result ID TITLE PASS|FAIL|GAP DETAILS (GAP: a product gap shown, not counted)
record_result() {
    local id="$1" title="$2" verdict="$3" details="$4"
    RESULT_ROWS+=("${id}|${title}|${verdict}|${details}")
    if [[ "$verdict" == "FAIL" ]]; then
        FAILED_CHECKS=$((FAILED_CHECKS + 1))
    fi
    printf '%s  check %s: %s - %s\n' "$verdict" "$id" "$title" "$details"
}

print_summary() {
    local row id title verdict details
    printf '\n%-3s %-6s %-46s %s\n' "#" "result" "check" "numbers"
    printf '%s\n' "--- ------ ---------------------------------------------- -------"
    for row in "${RESULT_ROWS[@]}"; do
        IFS='|' read -r id title verdict details <<<"$row"
        printf '%-3s %-6s %-46s %s\n' "$id" "$verdict" "$title" "$details"
    done
}
