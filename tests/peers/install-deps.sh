#!/usr/bin/env bash
# Installs the peers the benchmark compares the connector with (issue 7); safe to run again.
#
# Usage: tests/peers/install-deps.sh
#
# Runs apt-get only when a package is missing. The packages' own services are never started:
# the benchmark runs each peer itself, on 127.0.0.1 only, from generated configurations
# (tests/peers/*.conf.in), so the Debian default sites must not bind port 80 on every address.
set -euo pipefail

# What the benchmark uses, and why:
#   nginx                       the plain TLS reverse proxy (upper bound for a proxy)
#   apache2                     httpd 2.4: event MPM, mod_ssl, mod_proxy_http, mod_ldap,
#                               mod_authnz_ldap (all in the apache2 package on Debian)
#   libapache2-mod-auth-gssapi  Kerberos (SPNEGO) for Apache
#   libsasl2-modules-gssapi-mit ldapsearch -Y GSSAPI, used to give the bind account a password
#   ldap-utils krb5-user        ldapsearch/ldapmodify, kinit
PACKAGES=(
    nginx
    apache2
    libapache2-mod-auth-gssapi
    libsasl2-modules-gssapi-mit
    ldap-utils
    krb5-user
)

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
    echo "install-deps.sh: nothing to install"
    exit 0
fi

# Keep the packages' postinst from starting nginx/apache2 on 0.0.0.0:80: a policy-rc.d that
# says "no" (101), put in place only if the host has none, and removed afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    made_policy=1
fi
cleanup() {
    if [[ "$made_policy" -eq 1 ]]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
# With systemd the units may still have been enabled and started; stop them if so.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now nginx apache2 2>/dev/null || true
fi
