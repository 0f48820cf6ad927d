# shellcheck shell=bash disable=SC2034  # variables here are read by lab.sh
# Samba DC lifecycle for lab.sh: provision, configure, start, wait, stop.
#
# Every path Samba uses is under LAB_DC_DIR so that several labs and a
# system samba never collide ("samba is already running" otherwise).

# Provisions the domain once; a directory left half-done by an interrupted
# provision is wiped and redone, since samba-tool cannot resume one.
lab_provision() {
    local marker="${LAB_DC_DIR}/.provisioned"
    if [[ -f "$marker" ]]; then
        return 0
    fi
    rm -rf -- "$LAB_DC_DIR"
    mkdir -p "${LAB_DC_DIR}/run" "${LAB_DC_DIR}/log"
    lab_log "provisioning ${LAB_REALM} in ${LAB_DC_DIR} (about 10 s)"
    local d="$LAB_DC_DIR"
    if ! ip netns exec "$LAB_NETNS" samba-tool domain provision \
        --targetdir="$d" \
        --realm="$LAB_REALM" \
        --domain="$LAB_DOMAIN" \
        --server-role=dc \
        --dns-backend=NONE \
        --use-rfc2307 \
        --adminpass="$LAB_ADMIN_PASSWORD" \
        --host-name="$LAB_DC_HOSTNAME" \
        --option="interfaces=lo ${LAB_DC_ADDR}/30" \
        --option="bind interfaces only=yes" \
        --option="pid directory=${d}/run" \
        --option="log file=${d}/log/samba.log" \
        --option="ncalrpc dir=${d}/run/ncalrpc" \
        --option="winbindd socket directory=${d}/run/winbindd" \
        --option="ntp signd socket directory=${d}/run/ntp_signd" \
        --option="usershare path=${d}/usershares" \
        --option="smb passwd file=${d}/private/smbpasswd" \
        --option="load printers=no" \
        --option="printcap name=/dev/null" \
        --option="disable spoolss=yes" \
        >"${d}/log/provision.log" 2>&1; then
        tail -n 20 "${d}/log/provision.log" >&2
        lab_die "provisioning failed (log: ${d}/log/provision.log)"
    fi
    touch "$marker"
}

# Adjusts smb.conf on every start: the namespace address may have changed,
# and only the services a KDC + LDAP server needs are run (no smbd, DNS,
# replication or winbindd: faster start, fewer ports).
lab_configure_samba() {
    local tab=$'\t'
    sed -i \
        -e "s|^${tab}interfaces = .*|${tab}interfaces = lo ${LAB_DC_ADDR}/30|" \
        -e "s|^${tab}server services = .*|${tab}server services = rpc, ldap, cldap, kdc|" \
        "$LAB_CONF"
    grep -qF "interfaces = lo ${LAB_DC_ADDR}/30" "$LAB_CONF" ||
        lab_die "could not set interfaces in ${LAB_CONF}"
}

# Prints the pid of this lab's samba and succeeds only while it runs. The
# executable and the namespace are checked so a recycled pid is never taken
# for samba (its command line is useless: samba rewrites its process title).
lab_samba_pid() {
    local pid exe
    [[ -f "$LAB_PID_FILE" ]] || return 1
    pid="$(tr -dc '0-9' <"$LAB_PID_FILE")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || return 1
    [[ "${exe##*/}" == "samba" ]] || return 1
    [[ "$(ip netns identify "$pid" 2>/dev/null)" == "$LAB_NETNS" ]] || return 1
    printf '%s' "$pid"
}

# Starts samba inside the namespace, detached from the caller: its own
# session (a test runner's Ctrl-C or process-group kill does not reach it)
# and no inherited pipes or lock fd (a caller reading our stdout sees EOF
# at once). -F keeps samba in the foreground without -i's console logging,
# so the pid setsid leaves behind is samba's; --debug-stdout puts the log in
# samba.out.
lab_start_samba() {
    if LAB_SAMBA_PID="$(lab_samba_pid)"; then
        lab_log "samba already running (pid ${LAB_SAMBA_PID})"
        return 0
    fi
    rm -f "$LAB_PID_FILE"
    mkdir -p "$(dirname "$LAB_SAMBA_LOG")"
    setsid ip netns exec "$LAB_NETNS" \
        samba -F -M single --debug-stdout -s "$LAB_CONF" \
        </dev/null >>"$LAB_SAMBA_LOG" 2>&1 9>&- &
    LAB_SAMBA_PID=$!
}

# Polls until the KDC (88) and LDAP (389) answer on the namespace address,
# failing early with the log tail if samba died.
lab_wait_samba() {
    local port rc
    for port in 88 389; do
        rc=0
        lab_wait_tcp "$LAB_DC_ADDR" "$port" 60 "$LAB_SAMBA_PID" || rc=$?
        if ((rc != 0)); then
            tail -n 20 "$LAB_SAMBA_LOG" >&2 || true
            if ((rc == 2)); then
                lab_die "samba exited during start-up (log: ${LAB_SAMBA_LOG})"
            fi
            lab_die "port ${port} on ${LAB_DC_ADDR} not open after 60 s (log: ${LAB_SAMBA_LOG})"
        fi
    done
    LAB_SAMBA_PID="$(lab_samba_pid)" || lab_die "samba is up but wrote no pid file"
}

# Stops this lab's samba by its pid file (TERM, then KILL after 10 s) and
# then any other process still inside the lab's own namespace.
lab_stop_samba() {
    local pid
    if pid="$(lab_samba_pid)"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! lab_wait_exit "$pid" 10; then
            lab_log "samba ${pid} ignored TERM for 10 s, killing it"
            kill -KILL "$pid" 2>/dev/null || true
            lab_wait_exit "$pid" 5 || lab_die "samba ${pid} did not exit"
        fi
    fi
    if lab_netns_exists; then
        local leftover
        for leftover in $(ip netns pids "$LAB_NETNS" 2>/dev/null); do
            kill -KILL "$leftover" 2>/dev/null || true
            lab_wait_exit "$leftover" 5 || true
        done
    fi
    rm -f "$LAB_PID_FILE"
}
