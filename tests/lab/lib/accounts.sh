# shellcheck shell=bash disable=SC2034  # variables here are read by lab.sh
# The lab's directory content: accounts, groups, SPNs, encryption types and
# keytabs, created idempotently through samba-tool and ldbmodify on the
# local sam.ldb (no network, so it can run while samba is starting).
#
# Expects LAB_CONF (smb.conf), LAB_SAM (sam.ldb), LAB_BASE_DN, LAB_REALM,
# LAB_USER_PASSWORD, LAB_KEYTAB_DIR and LAB_DC_ADDR to be set.

# One line per account: sam|kind|spn|enctypes|keytab|group (one direct group
# or empty). msDS-SupportedEncryptionTypes 24 = AES128+AES256, 4 = RC4 only.
# Without it Samba exports an RC4-only keytab for an SPN, hence 24 everywhere
# except the account that exists to test RC4 refusal.
LAB_ACCOUNTS=(
    "svc-rmsconnector|user|HTTP/rmsconnector.contoso.test|24|connector.keytab|"
    "svc-rc4|user|HTTP/rc4.contoso.test|4|rc4-only.keytab|"
    "EXCH01|computer||24|EXCH01.keytab|Exchange Servers"
    "EXCH02|computer||24|EXCH02.keytab|Exchange Servers"
    "EXCH03|computer||24|EXCH03.keytab|Exchange Nested"
    "FS01|computer||24|FS01.keytab|File Servers"
    "ROGUE01|computer||24|ROGUE01.keytab|"
    "svc-spapppool|user||24|svc-spapppool.keytab|SharePoint Servers"
    "svc-spcentral|user||24|svc-spcentral.keytab|SharePoint Servers"
    "alice|user||24|alice.keytab|"
)

# Groups in creation order, each with the group it is a direct member of.
# "Exchange Nested" sits inside "Exchange Servers" so EXCH03$ is a member
# only transitively, which is what the nested-group tests need.
LAB_GROUPS=(
    "Exchange Servers|"
    "Exchange Nested|Exchange Servers"
    "SharePoint Servers|"
    "File Servers|"
)

# Runs samba-tool quietly on this lab's config; its chatter is shown only
# when it fails.
lab_samba_tool() {
    local out
    if ! out="$(samba-tool "$@" --configfile="$LAB_CONF" 2>&1)"; then
        printf '%s\n' "$out" >&2
        lab_die "samba-tool $1 $2 failed"
    fi
}

# ldbsearch on the local sam.ldb with LDIF continuation lines unfolded, so
# long DNs and values can be matched line by line.
lab_ldbsearch() {
    ldbsearch -H "$LAB_SAM" "$@" 2>/dev/null |
        awk 'NR > 1 && /^ / { line = line substr($0, 2); next }
             { if (NR > 1) print line; line = $0 }
             END { print line }'
}

# Prints the DN an account of the given kind gets in the default containers.
lab_account_dn() {
    local sam="$1" kind="$2"
    case "$kind" in
    computer) printf 'CN=%s,CN=Computers,%s' "$sam" "$LAB_BASE_DN" ;;
    *) printf 'CN=%s,CN=Users,%s' "$sam" "$LAB_BASE_DN" ;;
    esac
}

# Prints the sAMAccountName of an account (computers end in '$').
lab_account_sam() {
    local sam="$1" kind="$2"
    if [[ "$kind" == "computer" ]]; then
        printf '%s$' "$sam"
    else
        printf '%s' "$sam"
    fi
}

# Prints every sAMAccountName in the directory, one a line.
lab_existing_sams() {
    lab_ldbsearch -b "$LAB_BASE_DN" '(|(objectClass=user)(objectClass=group))' sAMAccountName |
        sed -n 's/^sAMAccountName: //p'
}

lab_ensure_groups() {
    local existing="$1" entry name
    for entry in "${LAB_GROUPS[@]}"; do
        name="${entry%%|*}"
        if ! grep -qxF "$name" <<<"$existing"; then
            lab_samba_tool group add "$name"
        fi
    done
}

lab_ensure_accounts() {
    local existing="$1" entry sam kind rest
    for entry in "${LAB_ACCOUNTS[@]}"; do
        IFS='|' read -r sam kind rest <<<"$entry"
        if grep -qxF "$(lab_account_sam "$sam" "$kind")" <<<"$existing"; then
            continue
        fi
        if [[ "$kind" == "computer" ]]; then
            # `computer add` makes a disabled account without a password,
            # whose keytab export would silently be empty.
            lab_samba_tool computer add "$sam"
            lab_samba_tool user setpassword "${sam}\$" --newpassword="$LAB_USER_PASSWORD"
            lab_samba_tool user enable "${sam}\$"
        else
            # svc-rc4 gets a password of its own: RC4 keys are unsalted, so with a
            # shared password its key would also decrypt the connector's tickets and the
            # "ticket for another SPN" test would prove nothing.
            local password="$LAB_USER_PASSWORD"
            [[ "$sam" == "svc-rc4" ]] && password="${LAB_USER_PASSWORD}-rc4"
            lab_samba_tool user create "$sam" "$password"
        fi
    done
}

# One ldbmodify for every SPN and encryption type: replace makes it
# idempotent and one process is much faster than one samba-tool per change.
lab_apply_attributes() {
    local entry sam kind spn enctypes rest
    {
        for entry in "${LAB_ACCOUNTS[@]}"; do
            IFS='|' read -r sam kind spn enctypes rest <<<"$entry"
            printf 'dn: %s\nchangetype: modify\n' "$(lab_account_dn "$sam" "$kind")"
            printf 'replace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: %s\n' "$enctypes"
            if [[ -n "$spn" ]]; then
                printf -- '-\nreplace: servicePrincipalName\nservicePrincipalName: %s\n' "$spn"
                # As `ktpass /princ` does for the connector's account: the SPN is also
                # its UPN, so the appliance can use its keytab as a client too (directory
                # browse). svc-rc4 keeps none, to test that failure's message.
                if [[ "$sam" == "svc-rmsconnector" ]]; then
                    printf -- '-\nreplace: userPrincipalName\nuserPrincipalName: %s@%s\n' "$spn" "$LAB_REALM"
                fi
            fi
            printf '\n'
        done
    } | ldbmodify -H "$LAB_SAM" >/dev/null
}

# The SASL GSSAPI client asks for ldap/<host of the URL>; the lab's URL is
# an IP address (no DNS), so the DC account carries that SPN as well.
lab_ensure_dc_spn() {
    local dc_sam="${LAB_DC_HOSTNAME^^}\$" spn="ldap/${LAB_DC_ADDR}"
    if ! lab_ldbsearch -b "$LAB_BASE_DN" "(sAMAccountName=${dc_sam})" servicePrincipalName |
        grep -qxF "servicePrincipalName: ${spn}"; then
        lab_samba_tool spn add "$spn" "$dc_sam"
    fi
}

# Adds MEMBER_SAM to GROUP unless it already is a direct member.
lab_group_add() {
    local group="$1" member_sam="$2"
    if ! lab_is_direct_member "$group" "$member_sam"; then
        lab_samba_tool group addmembers "$group" "$member_sam"
    fi
}

lab_group_remove() {
    local group="$1" member_sam="$2"
    if lab_is_direct_member "$group" "$member_sam"; then
        lab_samba_tool group removemembers "$group" "$member_sam"
    fi
}

lab_is_direct_member() {
    local group="$1" member_sam="$2" group_dn
    group_dn="$(lab_ldbsearch -b "$LAB_BASE_DN" "(&(objectClass=group)(sAMAccountName=${group}))" dn |
        sed -n 's/^dn: //p')"
    [[ -n "$group_dn" ]] || lab_die "no group named '${group}'"
    lab_ldbsearch -b "$LAB_BASE_DN" "(&(sAMAccountName=${member_sam})(memberOf=${group_dn}))" dn |
        grep -q '^dn: '
}

lab_ensure_memberships() {
    local entry name parent sam kind spn enctypes keytab group
    for entry in "${LAB_GROUPS[@]}"; do
        IFS='|' read -r name parent <<<"$entry"
        if [[ -n "$parent" ]]; then
            lab_group_add "$parent" "$name"
        fi
    done
    for entry in "${LAB_ACCOUNTS[@]}"; do
        IFS='|' read -r sam kind spn enctypes keytab group <<<"$entry"
        if [[ -n "$group" ]]; then
            lab_group_add "$group" "$(lab_account_sam "$sam" "$kind")"
        fi
    done
}

# Exports each keytab afresh through a temporary file (exportkeytab appends
# to an existing file) and fails if a keytab came out empty.
lab_export_keytabs() {
    local entry sam kind spn enctypes keytab rest principal tmp
    mkdir -p "$LAB_KEYTAB_DIR"
    for entry in "${LAB_ACCOUNTS[@]}"; do
        IFS='|' read -r sam kind spn enctypes keytab rest <<<"$entry"
        principal="${spn:-$(lab_account_sam "$sam" "$kind")}"
        tmp="${LAB_KEYTAB_DIR}/.${keytab}.tmp"
        rm -f "$tmp"
        lab_samba_tool domain exportkeytab "$tmp" --principal="$principal"
        if ! klist -k "$tmp" 2>/dev/null | grep -q '@'; then
            rm -f "$tmp"
            lab_die "keytab export for ${principal} wrote no key"
        fi
        # An AES-only account (enctypes 24) gets an AES-only keytab, as `ktpass /crypto
        # AES256-SHA1` writes it: Samba also exports the RC4 (NT hash) key of an account
        # that has a userPrincipalName.
        if [[ "$enctypes" == "24" ]]; then
            lab_keytab_drop_rc4 "$tmp"
        fi
        chmod 0600 "$tmp"
        mv -f "$tmp" "${LAB_KEYTAB_DIR}/${keytab}"
    done
}

# Rewrites KEYTAB without its arcfour-hmac entries (MIT ktutil; slots deleted from the
# highest down so the numbering of the rest does not move).
lab_keytab_drop_rc4() {
    local keytab="$1" slots script slot
    slots="$(printf 'rkt %s\nlist -e\n' "$keytab" | ktutil 2>/dev/null |
        awk '/arcfour-hmac/ { print $1 }' | sort -rn)"
    [[ -n "$slots" ]] || return 0
    rm -f "${keytab}.aes"
    script="rkt ${keytab}"$'\n'
    for slot in $slots; do
        script+="delent ${slot}"$'\n'
    done
    script+="wkt ${keytab}.aes"$'\n'
    printf '%s' "$script" | ktutil >/dev/null 2>&1 || lab_die "ktutil could not rewrite ${keytab}"
    mv -f "${keytab}.aes" "$keytab"
}

# Prints the computer/user form of an account name given as a tests would:
# "EXCH01", "EXCH01$", "svc-spapppool" or a group name.
lab_resolve_sam() {
    local wanted="$1" entry sam kind rest
    for entry in "${LAB_ACCOUNTS[@]}"; do
        IFS='|' read -r sam kind rest <<<"$entry"
        if [[ "${wanted%\$}" == "$sam" ]]; then
            lab_account_sam "$sam" "$kind"
            return 0
        fi
    done
    printf '%s' "$wanted"
}

lab_populate() {
    local existing
    existing="$(lab_existing_sams)"
    lab_ensure_groups "$existing"
    lab_ensure_accounts "$existing"
    lab_apply_attributes
    lab_ensure_dc_spn
    lab_ensure_memberships
    lab_export_keytabs
}
