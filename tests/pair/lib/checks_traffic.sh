# shellcheck shell=bash
# Checks 1, 3 and 4 of issue 6: balanced traffic, SIGTERM under load, kill -9 under load.

PAIR_LOAD_SECS="${PAIR_LOAD_SECS:-10}"
# When the stop (SIGTERM or kill -9) hits appliance A, counted from the start of the load.
PAIR_STOP_AT_SECS="${PAIR_STOP_AT_SECS:-3}"

# rejoin a: restarts an appliance after a stop and waits until it is ready and HAProxy sends
# it traffic again. Sets REJOIN_SECS ("never" when it did not come back). Runs in the main
# shell (never in $(...)) so the new pid is recorded for cleanup.
rejoin() {
    local which="$1" t0
    t0="$(now_ms)"
    REJOIN_SECS=never
    appliance_start "$which"
    poll_until 60 0.2 appliance_is_ready "$which" || return 0
    poll_until 20 0.2 hap_up "$which" || return 0
    REJOIN_SECS="$(awk -v ms="$(($(now_ms) - t0))" 'BEGIN { printf "%.1f", ms / 1000 }')"
}

# Check 1: traffic spreads over both with zero errors.
check_spread() {
    local out="$STATE/load/spread.txt" a0 b0 ra0 rb0 a1 b1 ra1 rb1
    a0="$(hap_sessions a)"
    b0="$(hap_sessions b)"
    ra0="$(relayed_total a)"
    rb0="$(relayed_total b)"
    load_start "$PAIR_LOAD_SECS" "$out"
    load_wait $((PAIR_LOAD_SECS + 20))
    a1="$(hap_sessions a)"
    b1="$(hap_sessions b)"
    ra1="$(relayed_total a)"
    rb1="$(relayed_total b)"
    local calls ok bad
    read -r calls ok bad <<<"$(load_count "$out")"
    local da=$((a1 - a0)) db=$((b1 - b0)) rla=$((ra1 - ra0)) rlb=$((rb1 - rb0))
    local total=$((da + db)) share_a=0 rate
    ((total > 0)) && share_a=$((100 * da / total))
    rate="$(awk -v n="$calls" -v ms="$(load_duration_ms "$out")" \
        'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print 0 }')"
    local details
    details="${calls} calls (${rate}/s, $(load_worker_count) callers), ${bad} failed;"
    details+=" HAProxy conns A=${da} B=${db} (A ${share_a}%); relayed A=${rla} B=${rlb}"
    if ((bad == 0 && calls >= 20 && share_a >= 35 && share_a <= 65 &&
        rla > 0 && rlb > 0 && rla + rlb == ok)); then
        record_result 1 "traffic spreads over both, zero errors" PASS "$details"
    else
        load_failures "$out" | head -20 >&2
        record_result 1 "traffic spreads over both, zero errors" FAIL "$details"
    fi
}

# Watches A's /readyz after SIGTERM: prints when it first answered 503 and when it stopped
# answering at all (ms after the signal), so "not ready first, then gone" is measured.
watch_drain() { # T0_MS OUTFILE
    local t0="$1" out="$2" code first503="" gone="" now i
    for ((i = 0; i < 300; i++)); do
        code="$(http_code "http://${ADDR_A}:80/readyz" --max-time 1)"
        now="$(now_ms)"
        if [[ "$code" == 503 && -z "$first503" ]]; then first503=$((now - t0)); fi
        if [[ "$code" == 000 ]]; then
            gone=$((now - t0))
            break
        fi
        sleep 0.05
    done
    printf '%s %s\n' "${first503:--}" "${gone:--}" >"$out"
}

# Check 3: SIGTERM of A under load, zero failed requests.
check_sigterm() {
    local out="$STATE/load/sigterm.txt" pid t_sig t_exit drain
    load_start "$PAIR_LOAD_SECS" "$out"
    sleep "$PAIR_STOP_AT_SECS" # the load runs meanwhile; this is its schedule, not a wait
    pid="${PIDS[appliance-a]}"
    t_sig="$(now_ms)"
    watch_drain "$t_sig" "$STATE/load/sigterm-drain.txt" &
    local watcher=$!
    kill -TERM "$pid" 2>/dev/null || true
    local exited=1 rc=0
    poll_until 30 0.1 pid_gone "$pid" || exited=0
    t_exit="$(now_ms)"
    wait "$pid" 2>/dev/null || rc=$?
    unset 'PIDS[appliance-a]'
    wait "$watcher" 2>/dev/null || true
    load_wait $((PAIR_LOAD_SECS + 20))
    local calls ok bad n503 gone
    read -r calls ok bad <<<"$(load_count "$out")"
    read -r n503 gone <"$STATE/load/sigterm-drain.txt"
    drain=$((t_exit - t_sig))
    rejoin a
    local back="$REJOIN_SECS"
    local details="${calls} calls, ${bad} failed; A not ready after ${n503} ms,"
    details+=" caller port closed after ${gone} ms, exited (rc ${rc}) after ${drain} ms; back in ${back} s"
    if ((exited == 1 && rc == 0 && bad == 0 && calls >= 20)) && [[ "$n503" != - && "$back" != never ]]; then
        record_result 3 "SIGTERM of A under load: zero failures" PASS "$details"
    else
        load_failures "$out" | head -20 >&2
        record_result 3 "SIGTERM of A under load: zero failures" FAIL "$details"
    fi
}

# Check 4: kill -9 of A under load. Failures only among calls in flight on A at the kill,
# none afterwards; A restarts and serves again.
check_kill9() {
    local out="$STATE/load/kill9.txt" pid t_kill t_dead
    load_start "$PAIR_LOAD_SECS" "$out"
    sleep "$PAIR_STOP_AT_SECS" # the load's schedule, not a wait for a condition
    pid="${PIDS[appliance-a]}"
    t_kill="$(now_ms)"
    kill -KILL "$pid" 2>/dev/null || true
    # stderr off while reaping: bash would otherwise print its own "Killed" job notice.
    {
        poll_until 10 0.05 pid_gone "$pid" || true
        t_dead="$(now_ms)"
        wait "$pid" || true
    } 2>/dev/null
    unset 'PIDS[appliance-a]'
    load_wait $((PAIR_LOAD_SECS + 20))
    local calls ok bad bad_before c_after bad_after
    read -r calls ok bad <<<"$(load_count "$out")"
    # In flight at the kill = started before the process was gone. Only those may fail.
    read -r _ _ bad_before <<<"$(load_count "$out" 0 "$t_dead")"
    read -r c_after _ bad_after <<<"$(load_count "$out" "$t_dead")"
    local inflight_limit
    inflight_limit="$(load_worker_count)"
    local s0 back s1
    s0="$(hap_sessions a)"
    rejoin a
    back="$REJOIN_SECS"
    # Rejoined = HAProxy hands A connections again and A answers them.
    local out2="$STATE/load/kill9-rejoin.txt" r_calls r_bad
    load_start 4 "$out2"
    load_wait 30
    s1="$(hap_sessions a)"
    read -r r_calls _ r_bad <<<"$(load_count "$out2")"
    local details="${calls} calls; ${bad_before} failed in flight at the kill"
    details+=" (limit ${inflight_limit}), ${bad_after} of ${c_after} after it;"
    details+=" A back in ${back} s, then took $((s1 - s0)) conns, ${r_bad} of ${r_calls} failed"
    if ((bad_before <= inflight_limit && bad_after == 0 && c_after >= 10 &&
        s1 - s0 > 0 && r_bad == 0)) && [[ "$back" != never ]]; then
        record_result 4 "kill -9 of A under load: in-flight only" PASS "$details"
    else
        load_failures "$out" | head -20 >&2
        record_result 4 "kill -9 of A under load: in-flight only" FAIL "$details"
    fi
    note "kill at ${t_kill}, process gone at ${t_dead} (+$((t_dead - t_kill)) ms)"
}
