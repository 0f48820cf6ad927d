#!/usr/bin/env bash
# Self-test of the AD lab: brings two labs up in temporary directories,
# checks them with the MIT Kerberos and OpenLDAP tools from the host side,
# then tears them down. Ends with "N passed, M failed"; exits 1 on failure.
#
# Usage: tests/lab/selftest.sh          (root; run install-deps.sh first)
# Set LAB_SELFTEST_KEEP=1 to leave the labs up for inspection.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
LAB="${HERE}/lab.sh"
IN_CHAIN="1.2.840.113556.1.4.1941"
PASSED=0
FAILED=0
WORK=""
STARTED=$SECONDS

# Runs a command as one check; its output is shown only when it fails.
check() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        PASSED=$((PASSED + 1))
        printf 'ok   %s\n' "$name"
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL %s\n' "$name"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/     | /'
    fi
}

cleanup() {
    local dir
    if [[ -n "$WORK" && "${LAB_SELFTEST_KEEP:-0}" != "1" ]]; then
        for dir in "${WORK}/a" "${WORK}/b"; do
            if [[ -f "${dir}/.rmsc-lab" ]]; then
                "$LAB" down "$dir" --purge >/dev/null 2>&1 || true
            fi
        done
        rm -rf -- "$WORK"
    fi
}
trap cleanup EXIT

# Loads one lab's lab.env into this shell, replacing the previous one.
use_lab() {
    local dir="$1" key
    for key in $(compgen -v LAB_); do
        [[ "$key" == LAB_SELFTEST_KEEP ]] || unset "$key"
    done
    # shellcheck source=/dev/null
    source "${dir}/lab.env"
    export KRB5_CONFIG="$LAB_KRB5_CONF"
    export KRB5CCNAME="FILE:${dir}/ccache/selftest"
    unset KRB5_KTNAME KRB5_CLIENT_KTNAME
}

kinit_keytab() {
    kinit -k -t "${LAB_KEYTAB_DIR}/$1.keytab" "$2"
}

# ldapsearch with the current ticket, no system ldap.conf, unwrapped LDIF.
ldap_gssapi() {
    LDAPNOINIT=1 ldapsearch -N -LLL -Q -Y GSSAPI -o ldif-wrap=no \
        -H "$LAB_LDAP_URL" -b "$LAB_BASE_DN" "$@"
}

dn_of() {
    /usr/bin/python3 -c 'import json,sys
for a in json.load(open(sys.argv[1]))["accounts"]:
    if a["sam"] == sys.argv[2]: print(a["dn"])' "${LAB_STATE_DIR}/lab.json" "$1"
}

# True when only RC4 (arcfour) keys are in a keytab.
only_rc4() {
    local listing
    listing="$(klist -k -e "$1" | awk '/@/')"
    [[ -n "$listing" ]] && ! grep -qv 'arcfour-hmac' <<<"$listing"
}

has_aes256_no_rc4() {
    local listing
    listing="$(klist -k -e -t "$1")"
    grep -q 'aes256-cts-hmac-sha1-96' <<<"$listing" && ! grep -q 'arcfour' <<<"$listing"
}

finds_exchange_servers() {
    ldap_gssapi '(sAMAccountName=Exchange Servers)' dn |
        grep -qx "dn: CN=Exchange Servers,CN=Users,${LAB_BASE_DN}"
}

transitive_members_of() {
    ldap_gssapi "(memberOf:${IN_CHAIN}:=$(dn_of "$1"))" sAMAccountName |
        sed -n 's/^sAMAccountName: //p'
}

is_transitive_member() {
    transitive_members_of "$1" | grep -qxF "$2"
}

not_transitive_member() {
    ! is_transitive_member "$1" "$2"
}

groups_of_exch03() {
    ldap_gssapi "(member:${IN_CHAIN}:=$(dn_of 'EXCH03$'))" sAMAccountName |
        grep -qx 'sAMAccountName: Exchange Servers'
}

service_ticket_is() {
    klist -e | grep -A1 "$1" | grep -q "Etype (skey, tkt): $2, $2"
}

ns_loopback_serves_kdc() {
    ip netns exec "$LAB_NETNS" timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/88'
}

env_complete() {
    local key
    for key in LAB_NETNS LAB_DC_ADDR LAB_HOST_ADDR LAB_REALM LAB_DOMAIN LAB_BASE_DN \
        LAB_KRB5_CONF LAB_KEYTAB_DIR LAB_ADMIN_PASSWORD LAB_LDAP_URL LAB_SID_EXCHANGE_SERVERS \
        LAB_SID_EXCHANGE_NESTED LAB_SID_EXCH01 LAB_SID_EXCH02 LAB_SID_EXCH03 LAB_SID_FS01 \
        LAB_SID_ROGUE01 LAB_SID_SVC_RMSCONNECTOR LAB_SID_SVC_RC4 LAB_SID_SVC_SPAPPPOOL \
        LAB_SID_SVC_SPCENTRAL LAB_SID_ALICE; do
        [[ -n "${!key:-}" ]] || {
            echo "missing ${key}"
            return 1
        }
    done
}

json_matches_env() {
    /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["env"]["LAB_SID_EXCH01"] == sys.argv[2]
sams = {a["sam"]: a for a in d["accounts"]}
assert sams["EXCH03$"]["transitive_groups"] == ["Exchange Nested", "Exchange Servers"], sams["EXCH03$"]
assert sams["ROGUE01$"]["groups"] == []
assert sams["Exchange Servers"]["type"] == "group"' "${LAB_STATE_DIR}/lab.json" "$LAB_SID_EXCH01"
}

kinit_helper_works() {
    local exports
    exports="$("$LAB" kinit "$LAB_STATE_DIR" EXCH02)"
    (eval "$exports" && klist | grep -q 'EXCH02\$@CONTOSO.TEST')
}

every_caller_keytab_kinits() {
    local spec
    for spec in 'EXCH01:EXCH01$' 'EXCH02:EXCH02$' 'EXCH03:EXCH03$' 'FS01:FS01$' \
        'ROGUE01:ROGUE01$' 'svc-spapppool:svc-spapppool' 'svc-spcentral:svc-spcentral' \
        'alice:alice'; do
        KRB5CCNAME="FILE:${LAB_CCACHE_DIR}/selftest-all" \
            kinit_keytab "${spec%%:*}" "${spec#*:}@${LAB_REALM}" || return 1
    done
}

lab_is_down() {
    ! ip netns list | awk '{print $1}' | grep -qxF "$1" &&
        ! ip link show "$2" >/dev/null 2>&1 &&
        [[ -f "$3/lab.env" ]]
}

[[ "$(id -u)" -eq 0 ]] || {
    echo "selftest.sh: must run as root" >&2
    exit 1
}
WORK="$(mktemp -d /tmp/rmsc-lab-selftest.XXXXXX)"

# Two labs at once, as parallel test binaries would do.
t0=$SECONDS
"$LAB" up "${WORK}/a" >"${WORK}/up-a.log" 2>&1 &
pid_a=$!
"$LAB" up "${WORK}/b" >"${WORK}/up-b.log" 2>&1 &
pid_b=$!
rc_a=0 && wait "$pid_a" || rc_a=$?
rc_b=0 && wait "$pid_b" || rc_b=$?
echo "two labs up in $((SECONDS - t0)) s"
check "lab a comes up" test "$rc_a" -eq 0
check "lab b comes up" test "$rc_b" -eq 0
if ((rc_a != 0 || rc_b != 0)); then
    tail -n 20 "${WORK}/up-a.log" "${WORK}/up-b.log" >&2
    echo "${PASSED} passed, $((FAILED + 1)) failed"
    exit 1
fi

use_lab "${WORK}/b"
NETNS_B="$LAB_NETNS"
DC_B="$LAB_DC_ADDR"
use_lab "${WORK}/a"
check "labs use distinct namespaces and addresses" \
    test "$NETNS_B" != "$LAB_NETNS" -a "$DC_B" != "$LAB_DC_ADDR"
check "status reports running" "$LAB" status "$LAB_STATE_DIR"
check "lab.env has every key and SID" env_complete
check "lab.json matches lab.env" json_matches_env
check "KDC also listens on the namespace loopback" ns_loopback_serves_kdc

check "kinit -k EXCH01\$ with EXCH01.keytab" kinit_keytab EXCH01 "EXCH01\$@${LAB_REALM}"
check "kvno HTTP/rmsconnector.contoso.test" kvno "$LAB_CONNECTOR_SPN"
check "connector service ticket is aes256" \
    service_ticket_is "$LAB_CONNECTOR_PRINCIPAL" aes256-cts-hmac-sha1-96
check "connector.keytab has aes256 and no rc4" has_aes256_no_rc4 "$LAB_CONNECTOR_KEYTAB"
check "connector.keytab decrypts the service ticket" \
    kvno -k "$LAB_CONNECTOR_KEYTAB" "$LAB_CONNECTOR_SPN"
check "ldapsearch GSSAPI finds Exchange Servers" finds_exchange_servers
check "EXCH03\$ is a transitive member of Exchange Servers" \
    is_transitive_member "Exchange Servers" 'EXCH03$'
check "Exchange Servers is among EXCH03\$'s transitive groups" groups_of_exch03
check "ROGUE01\$ is not a member of Exchange Servers" \
    not_transitive_member "Exchange Servers" 'ROGUE01$'
check "rc4-only.keytab has only rc4-hmac" only_rc4 "$LAB_RC4_KEYTAB"
check "RC4 service gets an rc4 ticket" bash -c "kvno HTTP/rc4.contoso.test &&
    klist -e | grep -A1 'HTTP/rc4.contoso.test' | grep -q arcfour-hmac"
check "rc4-only.keytab decrypts its ticket" kvno -k "$LAB_RC4_KEYTAB" HTTP/rc4.contoso.test
check "every caller keytab gets a TGT" every_caller_keytab_kinits
check "lab.sh kinit prints a usable ccache" kinit_helper_works

check "remove-from-group" "$LAB" remove-from-group "$LAB_STATE_DIR" EXCH03 "Exchange Nested"
check "EXCH03\$ no longer a transitive member" \
    not_transitive_member "Exchange Servers" 'EXCH03$'
check "add-to-group" "$LAB" add-to-group "$LAB_STATE_DIR" 'EXCH03$' "Exchange Nested"
check "EXCH03\$ a transitive member again" \
    is_transitive_member "Exchange Servers" 'EXCH03$'

t0=$SECONDS
check "second up is idempotent" "$LAB" up "$LAB_STATE_DIR"
echo "second up in $((SECONDS - t0)) s"
check "kvno still valid after second up" kvno -k "$LAB_CONNECTOR_KEYTAB" "$LAB_CONNECTOR_SPN"

use_lab "${WORK}/b"
check "lab b's KDC serves lab b's keytab" kinit_keytab EXCH01 "EXCH01\$@${LAB_REALM}"
check "lab b rejects lab a's keytab" \
    bash -c "! kinit -k -t '${WORK}/a/keytabs/EXCH01.keytab' 'EXCH01\$@${LAB_REALM}'"

if [[ "${LAB_SELFTEST_KEEP:-0}" != "1" ]]; then
    use_lab "${WORK}/a"
    check "down lab a" "$LAB" down "$LAB_STATE_DIR"
    check "lab a's namespace and veth are gone, files kept" \
        lab_is_down "$LAB_NETNS" "$LAB_VETH_HOST" "$LAB_STATE_DIR"
    check "status reports stopped" bash -c "! '$LAB' status '$LAB_STATE_DIR'"
    check "down --purge lab b" "$LAB" down "${WORK}/b" --purge
    check "lab b's directory is gone" test ! -e "${WORK}/b"
fi

echo "selftest took $((SECONDS - STARTED)) s"
echo "${PASSED} passed, ${FAILED} failed"
((FAILED == 0))
