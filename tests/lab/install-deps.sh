#!/usr/bin/env bash
# Installs the Debian packages the Samba AD lab needs; safe to run again.
#
# Usage: tests/lab/install-deps.sh [--with-shellcheck]
#
# Runs apt-get only when a package is missing, so a second run costs a
# dpkg query and nothing else. Needs root (the lab itself needs root too,
# for network namespaces).
set -euo pipefail

# What the lab uses, and why:
#   samba samba-ad-dc winbind   the domain controller itself (KDC, LDAP)
#   samba-ad-provision          provisioning templates; NOT pulled in when
#                               recommends are off, and `samba-tool domain
#                               provision` then fails with "File ... not found"
#   krb5-user                   kinit, kvno, klist on the host side
#   ldap-utils                  ldapsearch for checks
#   libsasl2-modules-gssapi-mit SASL GSSAPI for ldapsearch -Y GSSAPI
#   libkrb5-dev libgssapi-krb5-2 headers and runtime for the Rust GSSAPI code
#   libclang-dev                libgssapi-sys generates its bindings with bindgen
#   faketime                    a caller with a wrong clock (Kerberos clock-skew test)
#   haproxy socat curl          the load-balanced pair test (tests/pair) and the demo
#   iproute2                    ip netns / veth
#   ldb-tools                   ldbmodify/ldbsearch against sam.ldb
#   procps                      pgrep/ps used by status checks
PACKAGES=(
    samba
    samba-ad-dc
    samba-ad-provision
    samba-dsdb-modules
    samba-vfs-modules
    winbind
    krb5-user
    ldap-utils
    ldb-tools
    libsasl2-modules-gssapi-mit
    libkrb5-dev
    libgssapi-krb5-2
    libclang-dev
    faketime
    haproxy
    socat
    curl
    iproute2
    procps
)
if [[ "${1:-}" == "--with-shellcheck" ]]; then
    PACKAGES+=(shellcheck)
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-deps.sh: must run as root (apt-get)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps.sh: installing ${missing[*]}"
apt-get update -qq
# --no-install-recommends keeps the image small; samba-ad-provision is listed
# explicitly above because it is only a recommend of samba-ad-dc.
# krb5-config asks for a default realm in a debconf prompt; noninteractive
# frontend answers with the default and the lab writes its own krb5.conf.
apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
