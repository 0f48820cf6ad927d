# shellcheck shell=bash
# Checks 2, 5 and 6 of issue 6: the shared list (propagation, concurrent edits) and the
# cloud outage.

PAIR_OUTAGE_SECS="${PAIR_OUTAGE_SECS:-60}"
PAIR_EDIT_ROUNDS="${PAIR_EDIT_ROUNDS:-5}"

# Check 2: an authorization added on A is honoured by B within 5 s. ROGUE01$ is refused
# until A's CLI authorizes it; B is then called directly (not through HAProxy).
check_propagation() {
    local cc="$STATE/cc/ROGUE01-1" before t0 t_cli t_ok="" code=""
    before="$(soap_call "$cc" http "$ADDR_B")"
    t0="$(now_ms)"
    cli a authorize add --account 'CONTOSO\ROGUE01$' --sid "$LAB_SID_ROGUE01" \
        --kind computer --role fileserver >"$STATE/logs/propagation-add.json" ||
        warn "authorize add on A failed"
    t_cli="$(now_ms)"
    local deadline=$((t0 + 10000))
    while (($(now_ms) < deadline)); do
        code="$(soap_call "$cc" http "$ADDR_B")"
        if [[ "$code" == 200 ]]; then
            t_ok="$(now_ms)"
            break
        fi
        sleep 0.05
    done
    local details="B answered ROGUE01\$ ${before} before;"
    if [[ -n "$t_ok" ]]; then
        local ms=$((t_ok - t0))
        details+=" 200 ${ms} ms after the add on A (the CLI itself took $((t_cli - t0)) ms)"
        if [[ "$before" != 200 ]] && ((ms <= 5000)); then
            record_result 2 "authorization added on A honoured by B <= 5 s" PASS "$details"
        else
            record_result 2 "authorization added on A honoured by B <= 5 s" FAIL "$details"
        fi
    else
        details+=" still ${code} 10 s after the add on A"
        record_result 2 "authorization added on A honoured by B <= 5 s" FAIL "$details"
    fi
    cli a authorize remove "$LAB_SID_ROGUE01" >/dev/null 2>&1 || warn "could not remove ROGUE01\$ again"
}

# edit_when_go WHICH N: waits for the start signal, then adds one entry through WHICH's CLI.
edit_when_go() {
    local which="$1" n="$2"
    local base=7000
    [[ "$which" == b ]] && base=8000
    poll_until 10 0.005 test -e "$STATE/edits/go-$n" || return 1
    cli "$which" authorize add --account "CONTOSO\\pair-${which}-${n}" \
        --sid "S-1-5-21-1000-2000-3000-$((base + n))" \
        --kind account --role sharepoint >"$STATE/edits/${which}-${n}.json" 2>&1
}

# all_edits_on WHICH: true when WHICH enforces every entry of the concurrent-edit check.
all_edits_on() {
    local sids n
    sids="$(list_sids "$1")"
    for ((n = 1; n <= PAIR_EDIT_ROUNDS; n++)); do
        grep -qx "S-1-5-21-1000-2000-3000-$((7000 + n))" <<<"$sids" || return 1
        grep -qx "S-1-5-21-1000-2000-3000-$((8000 + n))" <<<"$sids" || return 1
    done
}

# Check 6: two simultaneous edits of the list from A and B: both survive. Repeated a few
# rounds so the edits really collide (If-Match conflicts) at least once.
check_concurrent_edits() {
    mkdir -p "$STATE/edits"
    local n failed_cli=0 pa pb v0 v1
    v0="$(cli a authorize list | jq -r '.version')"
    for ((n = 1; n <= PAIR_EDIT_ROUNDS; n++)); do
        edit_when_go a "$n" &
        pa=$!
        edit_when_go b "$n" &
        pb=$!
        touch "$STATE/edits/go-$n"
        wait "$pa" || failed_cli=$((failed_cli + 1))
        wait "$pb" || failed_cli=$((failed_cli + 1))
    done
    local on_a=0 on_b=0
    poll_until 10 0.2 all_edits_on a && on_a=1
    poll_until 10 0.2 all_edits_on b && on_b=1
    v1="$(cli a authorize list | jq -r '.version')"
    local details="$((2 * PAIR_EDIT_ROUNDS)) edits in ${PAIR_EDIT_ROUNDS} simultaneous pairs,"
    details+=" ${failed_cli} refused; all present on A: ${on_a}, on B: ${on_b};"
    details+=" list version ${v0} -> ${v1}"
    if ((failed_cli == 0 && on_a == 1 && on_b == 1 && v1 - v0 == 2 * PAIR_EDIT_ROUNDS)); then
        record_result 6 "simultaneous edits on A and B both survive" PASS "$details"
    else
        record_result 6 "simultaneous edits on A and B both survive" FAIL "$details"
    fi
}

# The shortest outage in which both effects must show: the list goes stale after
# max_staleness, and a long poll in flight fails after long_poll + cloud timeout.
outage_minimum_secs() {
    local a=$PAIR_MAX_STALENESS_SECS b=$((PAIR_LONG_POLL_SECS + PAIR_CLOUD_TIMEOUT_MS / 1000))
    printf '%s\n' "$(((a > b ? a : b) + 5))"
}

# Check 5: the cloud unreachable for PAIR_OUTAGE_SECS: both report not ready (/readyz 503)
# with event 3001, and recover on their own once it is back.
check_outage() {
    local e_a0 e_b0 t_down t_end now nr_a="" nr_b="" ev_a="" ev_b=""
    e_a0="$(events_count a 3001)"
    e_b0="$(events_count b 3001)"
    cloud_link down
    t_down="$(now_ms)"
    t_end=$((t_down + PAIR_OUTAGE_SECS * 1000))
    note "cloud link down for ${PAIR_OUTAGE_SECS} s"
    while now="$(now_ms)" && ((now < t_end)); do
        [[ -z "$nr_a" ]] && appliance_not_ready a && nr_a=$((now - t_down))
        [[ -z "$nr_b" ]] && appliance_not_ready b && nr_b=$((now - t_down))
        [[ -z "$ev_a" ]] && (($(events_count a 3001) > e_a0)) && ev_a=$((now - t_down))
        [[ -z "$ev_b" ]] && (($(events_count b 3001) > e_b0)) && ev_b=$((now - t_down))
        sleep 0.5
    done
    # Still not ready at the end of the outage (not a flap).
    local still=1
    appliance_not_ready a || still=0
    appliance_not_ready b || still=0
    cloud_link up
    local t_up rec_a="" rec_b=""
    t_up="$(now_ms)"
    note "cloud link up again"
    while now="$(now_ms)" && ((now < t_up + 60000)); do
        [[ -z "$rec_a" ]] && appliance_is_ready a && rec_a=$((now - t_up))
        [[ -z "$rec_b" ]] && appliance_is_ready b && rec_b=$((now - t_up))
        [[ -n "$rec_a" && -n "$rec_b" ]] && break
        sleep 0.2
    done
    local serves=0 t_serve=""
    if poll_until 30 0.2 vip_call_ok; then
        serves=1
        t_serve=$(($(now_ms) - t_up))
    fi
    local details="outage ${PAIR_OUTAGE_SECS} s: not ready after A ${nr_a:--} ms, B ${nr_b:--} ms;"
    details+=" event 3001 after A ${ev_a:--} ms, B ${ev_b:--} ms; recovered A ${rec_a:--} ms,"
    details+=" B ${rec_b:--} ms after the cloud returned; calls through the VIP again after ${t_serve:--} ms"
    if [[ -n "$nr_a" && -n "$nr_b" && -n "$ev_a" && -n "$ev_b" && -n "$rec_a" && -n "$rec_b" ]] &&
        ((still == 1 && serves == 1)); then
        record_result 5 "cloud unreachable: not ready + 3001, recover" PASS "$details"
    else
        record_result 5 "cloud unreachable: not ready + 3001, recover" FAIL "$details (still not ready at end: ${still})"
    fi
}

vip_call_ok() {
    [[ "$(soap_call "$STATE/cc/FS01-1" http "$VIP")" == 200 ]]
}

# listing_complete WHICH: WHICH's view of the tenant's appliances names A and B, each with a
# version, an address, a recent last_seen and healthy = true. Prints what it saw.
listing_complete() {
    local now
    now="$(date +%s)"
    admin_get "$1" /api/v1/appliances >"$STATE/logs/appliances-$1.json" 2>/dev/null || return 1
    jq -e --argjson now "$now" '
        [.[] | select(.name == "appliance-a" or .name == "appliance-b")
             | select((.version // "") != "" and (.address // "") != ""
                      and ($now - (.last_seen // 0)) <= 30 and .healthy == true)]
        | length == 2' "$STATE/logs/appliances-$1.json" >/dev/null
}

# Check 7 (issue 6, "the UI lists every appliance of the tenant with version, address, last
# seen and health").
check_listing() {
    local ok=0
    if poll_until 15 0.5 listing_complete a && listing_complete b; then ok=1; fi
    local seen
    seen="$(jq -r '[.[] | "\(.name): version \(.version // "-"), address \"\(.address // "")\", last_seen \(.last_seen // "-"), healthy \(.healthy // "-")"] | join("; ")' \
        "$STATE/logs/appliances-a.json" 2>/dev/null || echo "no answer")"
    if ((ok == 1)); then
        record_result 7 "UI lists both appliances with every field" PASS "$seen"
    else
        record_result 7 "UI lists both appliances with every field" FAIL "$seen"
    fi
}

# check 8: B joined with a pairing code and serves A's certificate; a new certificate
# uploaded on A reaches B within 5 s, and callers through the VIP keep verifying it.
check_join_and_rotation() {
    local fa fb details ok=1 t0 waited
    fa="$(certificate_fingerprint a)"
    fb="$(certificate_fingerprint b)"
    if [[ -z "$fa" || "$fa" != "$fb" ]]; then
        record_result 8 "B joined by code; a rotation on A reaches B" FAIL "after joining: A ${fa:-none}, B ${fb:-none}"
        return
    fi
    details="B joined with a code and serves A's certificate ${fa:0:11}...; $(jq -r '"keytab received: \(.keytab_installed)"' "$STATE/logs/b-join.json" 2>/dev/null)"
    make_caller_certificate 2
    cli a certificate upload "$STATE/tls/bundle-2.pem" >"$STATE/logs/a-certificate-2.json" ||
        { record_result 8 "B joined by code; a rotation on A reaches B" FAIL "upload on A failed"; return; }
    local new
    new="$(certificate_fingerprint a)"
    t0="$(now_ms)"
    rotated_on_b() { [[ "$(certificate_fingerprint b)" == "$new" ]]; }
    if poll_until 5 0.1 rotated_on_b; then
        waited=$(($(now_ms) - t0))
        details="$details; new certificate on B ${waited} ms after the upload on A"
    else
        ok=0
        details="$details; B still serves $(certificate_fingerprint b | cut -c1-11)... 5 s after the rotation"
    fi
    vip_https_ok() { [[ "$(soap_call "$STATE/cc/EXCH01-1" https "$VIP")" == 200 ]]; }
    if ((ok == 1)) && ! poll_until 10 0.2 vip_https_ok; then
        ok=0
        details="$details; HTTPS calls through the VIP fail after the rotation"
    fi
    if ((ok == 1)); then
        record_result 8 "B joined by code; a rotation on A reaches B" PASS "$details"
    else
        record_result 8 "B joined by code; a rotation on A reaches B" FAIL "$details"
    fi
}
