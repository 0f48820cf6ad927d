#!/usr/bin/env bash
# Samba AD domain controller in a private network namespace, for tests.
#
# Usage:
#   lab.sh up STATE_DIR                      provision (once) and start the lab
#   lab.sh down STATE_DIR [--purge]          stop it; --purge also deletes STATE_DIR
#   lab.sh status STATE_DIR                  exit 0 when running, 3 when not
#   lab.sh kinit STATE_DIR ACCOUNT           get a ticket from ACCOUNT's keytab and
#                                            print `export` lines for its ccache
#   lab.sh add-to-group STATE_DIR ACCOUNT GROUP
#   lab.sh remove-from-group STATE_DIR ACCOUNT GROUP
#
# Everything lives under STATE_DIR; the namespace, veth and /30 are derived
# from its path so several labs can run at once. See README.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

LAB_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=lib/common.sh
source "${LAB_HOME}/lib/common.sh"
# shellcheck source=lib/accounts.sh
source "${LAB_HOME}/lib/accounts.sh"
# shellcheck source=lib/samba.sh
source "${LAB_HOME}/lib/samba.sh"

LAB_MARKER=".rmsc-lab"

usage() {
    sed -n '3,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

lab_require_root() {
    [[ "$(id -u)" -eq 0 ]] || lab_die "must run as root (network namespaces, samba)"
    local tool
    for tool in ip samba samba-tool ldbsearch ldbmodify kinit klist kvno ldapsearch; do
        command -v "$tool" >/dev/null ||
            lab_die "'${tool}' is missing: run tests/lab/install-deps.sh"
    done
    [[ -x "$LAB_PYTHON" ]] || lab_die "${LAB_PYTHON} is missing: run tests/lab/install-deps.sh"
}

# Sets every LAB_* variable of a lab from STATE_DIR. With "create", makes the
# directory; otherwise it must exist and be a lab directory.
lab_context() {
    local dir="$1" mode="${2:-}"
    [[ -n "$dir" ]] || usage
    if [[ "$mode" == "create" ]]; then
        mkdir -p "$dir"
    fi
    [[ -d "$dir" ]] || lab_die "no such state directory: ${dir}"
    LAB_STATE_DIR="$(lab_realdir "$dir")"
    if [[ "$mode" != "create" && ! -f "${LAB_STATE_DIR}/${LAB_MARKER}" ]]; then
        lab_die "${LAB_STATE_DIR} is not a lab state directory (no ${LAB_MARKER})"
    fi
    local hash
    hash="$(lab_hash "$LAB_STATE_DIR")"
    lab_names "$hash"
    LAB_HASH="$hash"
    LAB_REALM="$LAB_REALM_DEFAULT"
    LAB_DOMAIN="$LAB_DOMAIN_DEFAULT"
    LAB_DNS_DOMAIN="$LAB_DNS_DOMAIN_DEFAULT"
    LAB_BASE_DN="$LAB_BASE_DN_DEFAULT"
    LAB_DC_HOSTNAME="$LAB_DC_HOSTNAME_DEFAULT"
    LAB_DC_DIR="${LAB_STATE_DIR}/dc"
    LAB_CONF="${LAB_DC_DIR}/etc/smb.conf"
    LAB_SAM="${LAB_DC_DIR}/private/sam.ldb"
    LAB_PID_FILE="${LAB_DC_DIR}/run/samba.pid"
    LAB_SAMBA_LOG="${LAB_DC_DIR}/log/samba.out"
    LAB_KRB5_CONF="${LAB_STATE_DIR}/krb5.conf"
    LAB_KEYTAB_DIR="${LAB_STATE_DIR}/keytabs"
    LAB_CCACHE_DIR="${LAB_STATE_DIR}/ccache"
    LAB_CONNECTOR_SPN="HTTP/rmsconnector.contoso.test"
    LAB_CONNECTOR_PRINCIPAL="${LAB_CONNECTOR_SPN}@${LAB_REALM}"
    LAB_CONNECTOR_KEYTAB="${LAB_KEYTAB_DIR}/connector.keytab"
    LAB_RC4_PRINCIPAL="HTTP/rc4.contoso.test@${LAB_REALM}"
    LAB_RC4_KEYTAB="${LAB_KEYTAB_DIR}/rc4-only.keytab"
    if [[ -f "${LAB_STATE_DIR}/net.env" ]]; then
        # shellcheck source=/dev/null
        source "${LAB_STATE_DIR}/net.env"
    fi
    if [[ -f "${LAB_STATE_DIR}/secrets.env" ]]; then
        # shellcheck source=/dev/null
        source "${LAB_STATE_DIR}/secrets.env"
    fi
}

# Serialises commands on one state directory (two `up`s racing would both
# provision). fd 9 is closed for samba so the lock dies with lab.sh.
lab_lock() {
    exec 9>"${LAB_STATE_DIR}/.lock"
    flock -w 300 9 || lab_die "another lab.sh holds ${LAB_STATE_DIR}/.lock"
}

lab_netns_exists() {
    ip netns list | awk '{print $1}' | grep -qxF "$LAB_NETNS"
}

lab_veth_exists() {
    ip link show "$LAB_VETH_HOST" >/dev/null 2>&1
}

# Creates (or completes) the namespace, its loopback and the veth pair.
lab_net_up() {
    if ! lab_veth_exists || [[ -z "${LAB_DC_ADDR:-}" ]]; then
        # Deterministic from the hash, so a restarted lab usually gets the
        # same addresses back; moves on only if the host took that /30.
        lab_pick_subnet "$LAB_HASH"
    fi
    printf 'LAB_HOST_ADDR=%s\nLAB_DC_ADDR=%s\n' "$LAB_HOST_ADDR" "$LAB_DC_ADDR" \
        >"${LAB_STATE_DIR}/net.env"
    if ! lab_netns_exists; then
        ip netns add "$LAB_NETNS"
    fi
    ip -n "$LAB_NETNS" link set lo up
    if ! lab_veth_exists; then
        ip link add "$LAB_VETH_HOST" type veth peer name "$LAB_VETH_NS" netns "$LAB_NETNS"
    fi
    ip addr replace "${LAB_HOST_ADDR}/30" dev "$LAB_VETH_HOST"
    ip link set "$LAB_VETH_HOST" up
    ip -n "$LAB_NETNS" addr replace "${LAB_DC_ADDR}/30" dev "$LAB_VETH_NS"
    ip -n "$LAB_NETNS" link set "$LAB_VETH_NS" up
}

lab_net_down() {
    if lab_veth_exists; then
        ip link del "$LAB_VETH_HOST"
    fi
    if lab_netns_exists; then
        ip netns del "$LAB_NETNS"
    fi
}

# A private krb5.conf: the connector and the MIT tools find the KDC by IP,
# never through DNS. The realm block must span several lines (a one-line
# block is ignored). TCP only (udp_preference_limit = 1) because tickets
# with a PAC outgrow a UDP datagram and the retry only adds latency.
# rc4-hmac stays permitted so tests can obtain an RC4 ticket and check that
# the connector itself refuses it.
lab_write_krb5_conf() {
    cat >"${LAB_KRB5_CONF}.tmp" <<EOF
[libdefaults]
    default_realm = ${LAB_REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1
    permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac
    default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac
    default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac

[realms]
    ${LAB_REALM} = {
        kdc = ${LAB_DC_ADDR}
        admin_server = ${LAB_DC_ADDR}
        kpasswd_server = ${LAB_DC_ADDR}
    }

[domain_realm]
    .${LAB_DNS_DOMAIN} = ${LAB_REALM}
    ${LAB_DNS_DOMAIN} = ${LAB_REALM}
EOF
    mv -f "${LAB_KRB5_CONF}.tmp" "$LAB_KRB5_CONF"
}

# Exports the facts inventory.py copies into lab.env and lab.json.
lab_export_facts() {
    export LAB_STATE_DIR LAB_NETNS LAB_VETH_HOST LAB_DC_ADDR LAB_HOST_ADDR LAB_REALM \
        LAB_DOMAIN LAB_DNS_DOMAIN LAB_BASE_DN LAB_DC_HOSTNAME LAB_KRB5_CONF LAB_KEYTAB_DIR \
        LAB_CCACHE_DIR LAB_ADMIN_PASSWORD LAB_USER_PASSWORD LAB_CONNECTOR_SPN \
        LAB_CONNECTOR_PRINCIPAL LAB_CONNECTOR_KEYTAB LAB_RC4_PRINCIPAL LAB_RC4_KEYTAB
    export LAB_LDAP_URL="ldap://${LAB_DC_ADDR}"
    export LAB_KDC="${LAB_DC_ADDR}:88"
}

# Rewrites lab.env and lab.json from the directory's current state.
lab_inventory() {
    local args=() entry sam kind spn enctypes keytab rest name
    for entry in "${LAB_GROUPS[@]}"; do
        name="${entry%%|*}"
        args+=("group|${name}||")
    done
    for entry in "${LAB_ACCOUNTS[@]}"; do
        IFS='|' read -r sam kind spn enctypes keytab rest <<<"$entry"
        sam="$(lab_account_sam "$sam" "$kind")"
        args+=("${kind}|${sam}|${spn:-$sam}@${LAB_REALM}|${keytab}")
    done
    lab_export_facts
    "$LAB_PYTHON" "${LAB_HOME}/lib/inventory.py" "$LAB_STATE_DIR" "$LAB_CONF" "${args[@]}"
}

cmd_up() {
    lab_require_root
    lab_context "${1:-}" create
    lab_lock
    local started=$SECONDS
    touch "${LAB_STATE_DIR}/${LAB_MARKER}"
    mkdir -p "$LAB_KEYTAB_DIR" "$LAB_CCACHE_DIR"
    if [[ -z "${LAB_ADMIN_PASSWORD:-}" ]]; then
        LAB_ADMIN_PASSWORD="$(lab_random_password)"
        LAB_USER_PASSWORD="$(lab_random_password)"
        (
            umask 077
            printf 'LAB_ADMIN_PASSWORD=%s\nLAB_USER_PASSWORD=%s\n' \
                "$LAB_ADMIN_PASSWORD" "$LAB_USER_PASSWORD" >"${LAB_STATE_DIR}/secrets.env"
        )
    fi
    lab_net_up
    lab_write_krb5_conf
    lab_provision
    lab_configure_samba
    lab_start_samba
    # Populating uses the local sam.ldb, so it overlaps samba's start-up.
    lab_populate
    lab_wait_samba
    lab_inventory
    lab_log "up in $((SECONDS - started)) s: DC ${LAB_DC_ADDR} in netns ${LAB_NETNS};" \
        "source ${LAB_STATE_DIR}/lab.env"
}

cmd_down() {
    local dir="${1:-}" purge="${2:-}"
    [[ -z "$purge" || "$purge" == "--purge" ]] || usage
    lab_require_root
    lab_context "$dir"
    lab_lock
    lab_stop_samba
    lab_net_down
    if [[ "$purge" == "--purge" ]]; then
        rm -rf -- "$LAB_STATE_DIR"
        lab_log "down, ${LAB_STATE_DIR} deleted"
    else
        lab_log "down (files kept in ${LAB_STATE_DIR})"
    fi
}

cmd_status() {
    lab_context "${1:-}"
    local pid ok=0
    if lab_netns_exists; then
        echo "netns ${LAB_NETNS}: present"
    else
        echo "netns ${LAB_NETNS}: absent"
        ok=3
    fi
    if pid="$(lab_samba_pid)"; then
        echo "samba: running (pid ${pid})"
    else
        echo "samba: stopped"
        ok=3
    fi
    local port
    for port in 88 389; do
        if [[ -n "${LAB_DC_ADDR:-}" ]] && lab_wait_tcp "$LAB_DC_ADDR" "$port" 1; then
            echo "${LAB_DC_ADDR}:${port}: open"
        else
            echo "${LAB_DC_ADDR:-?}:${port}: closed"
            ok=3
        fi
    done
    return "$ok"
}

cmd_kinit() {
    lab_context "${1:-}"
    local account="${2:-}"
    [[ -n "$account" ]] || usage
    local name="${account%\$}"
    local keytab="${LAB_KEYTAB_DIR}/${name}.keytab"
    [[ -f "$keytab" ]] || lab_die "no keytab for ${account}: ${keytab}"
    local principal
    principal="$(klist -k "$keytab" | awk '/@/ { print $2; exit }')"
    local ccache="FILE:${LAB_CCACHE_DIR}/${name}"
    mkdir -p "$LAB_CCACHE_DIR"
    KRB5_CONFIG="$LAB_KRB5_CONF" KRB5CCNAME="$ccache" kinit -k -t "$keytab" "$principal" ||
        lab_die "kinit ${principal} failed"
    printf 'export KRB5_CONFIG=%q\nexport KRB5CCNAME=%q\n' "$LAB_KRB5_CONF" "$ccache"
}

cmd_group() {
    local op="$1"
    lab_require_root
    lab_context "${2:-}"
    lab_lock
    local account="${3:-}" group="${4:-}"
    [[ -n "$account" && -n "$group" ]] || usage
    local sam
    sam="$(lab_resolve_sam "$account")"
    if [[ "$op" == "add" ]]; then
        lab_group_add "$group" "$sam"
    else
        lab_group_remove "$group" "$sam"
    fi
    lab_inventory
}

main() {
    local cmd="${1:-}"
    [[ $# -ge 1 ]] && shift
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    kinit) cmd_kinit "$@" ;;
    add-to-group) cmd_group add "$@" ;;
    remove-from-group) cmd_group remove "$@" ;;
    *) usage ;;
    esac
}

main "$@"
