# shellcheck shell=bash disable=SC2034  # variables here are read by lab.sh
# Shared helpers for lab.sh: naming derived from STATE_DIR, logging, waits.
#
# Sourced by lab.sh and selftest.sh; defines functions and constants only,
# so sourcing it has no side effects.

LAB_REALM_DEFAULT="CONTOSO.TEST"
LAB_DOMAIN_DEFAULT="CONTOSO"
LAB_DNS_DOMAIN_DEFAULT="contoso.test"
LAB_BASE_DN_DEFAULT="DC=contoso,DC=test"
LAB_DC_HOSTNAME_DEFAULT="dc1"

# Samba's python bindings live in the Debian python; a pyenv or venv python3
# earlier on PATH cannot import them, so always name the interpreter.
LAB_PYTHON="/usr/bin/python3"

lab_log() {
    printf 'lab: %s\n' "$*" >&2
}

lab_die() {
    printf 'lab: error: %s\n' "$*" >&2
    exit 1
}

# Prints the absolute, symlink-free path of an existing directory.
lab_realdir() {
    (cd "$1" && pwd -P)
}

# Prints the sha256 hex digest of the canonical STATE_DIR path; every name
# and address of one lab is derived from it so that labs in different
# directories never share a namespace, a veth or a subnet.
lab_hash() {
    printf '%s' "$1" | sha256sum | cut -c1-64
}

# Sets LAB_NETNS and LAB_VETH_HOST / LAB_VETH_NS for a state directory.
# Interface names are limited to 15 characters: "rl" + 8 hex + one letter.
lab_names() {
    local hash="$1"
    local id="${hash:0:8}"
    LAB_NETNS="rmsclab-${id}"
    LAB_VETH_HOST="rl${id}h"
    LAB_VETH_NS="rl${id}n"
}

# True when an IPv4 address or route of the host already covers this /30.
lab_subnet_taken() {
    local net="$1" host_addr="$2" dc_addr="$3"
    if ip -o -4 addr show | grep -qE " (${host_addr//./\\.}|${dc_addr//./\\.})/"; then
        return 0
    fi
    [[ -n "$(ip -4 route show "${net}/30" 2>/dev/null)" ]]
}

# Sets LAB_HOST_ADDR and LAB_DC_ADDR: a /30 in 169.254.0.0/16 picked from
# the hash, moving to the next /30 while the host already uses one.
# Third octets 0 and 255 are reserved by RFC 3927, and 169 is skipped so a
# lab route can never shadow the 169.254.169.254 metadata address.
lab_pick_subnet() {
    local hash="$1"
    local octet=$((16#${hash:8:2} % 254 + 1))
    local block=$((16#${hash:10:2} % 64))
    local tries net host_addr dc_addr
    for ((tries = 0; tries < 256; tries++)); do
        if ((octet == 169)); then
            octet=170
        fi
        net="169.254.${octet}.$((block * 4))"
        host_addr="169.254.${octet}.$((block * 4 + 1))"
        dc_addr="169.254.${octet}.$((block * 4 + 2))"
        if ! lab_subnet_taken "$net" "$host_addr" "$dc_addr"; then
            LAB_HOST_ADDR="$host_addr"
            LAB_DC_ADDR="$dc_addr"
            return 0
        fi
        block=$(((block + 1) % 64))
        if ((block == 0)); then
            octet=$((octet % 254 + 1))
        fi
    done
    lab_die "no free /30 in 169.254.0.0/16 for the lab veth"
}

# Polls a TCP port until it accepts a connection or the deadline passes.
# Usage: lab_wait_tcp ADDR PORT DEADLINE_SECONDS [PID_TO_WATCH]
lab_wait_tcp() {
    local addr="$1" port="$2" limit="$3" pid="${4:-}"
    local deadline=$((SECONDS + limit))
    while ((SECONDS < deadline)); do
        if timeout 1 bash -c "exec 3<>/dev/tcp/${addr}/${port}" 2>/dev/null; then
            return 0
        fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        sleep 0.2
    done
    return 1
}

# Polls until a process has exited or the deadline passes.
lab_wait_exit() {
    local pid="$1" limit="$2"
    local deadline=$((SECONDS + limit))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Prints 24 random hex characters followed by "Aa1" so the result always
# meets the AD complexity rule (three character classes) and never needs
# quoting in lab.env.
lab_random_password() {
    printf '%sAa1' "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
}
