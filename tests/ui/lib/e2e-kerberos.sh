# shellcheck shell=bash
# e2e-kerberos.sh: the last stage of run-e2e.sh: a caller with a real Kerberos ticket (the
# lab's EXCH01$, a member of "Exchange Servers") calls the connector over HTTP Negotiate, as
# an Exchange server would: GET /_wmcs/GetRmsoUri.aspx and one SOAP POST to publish.asmx.
# Expects the helpers of e2e-common.sh and the LAB_* variables of lab.env.

# The administrator password the browser tests set (tests/ui/lib/harness.mjs).
admin_password() {
    local default=$'Ui-test &<>"\' pass 42'
    printf '%s' "${RMSC_ADMIN_PASSWORD:-$default}"
}

# admin_call METHOD URL [JSON]: the admin API with the session in $work/admin.cookies;
# prints the body, fails on an HTTP error.
admin_call() {
    local method="$1" url="$2" body="${3:-}"
    local args=(--silent --show-error --fail-with-body --insecure --max-time 30
        --cookie "$work/admin.cookies" --cookie-jar "$work/admin.cookies"
        -H 'accept: application/json' -X "$method")
    if [[ "$method" != GET ]]; then args+=(-H "x-csrf-token: ${csrf_token:-}"); fi
    if [[ -n "$body" ]]; then args+=(-H 'content-type: application/json' --data-binary "$body"); fi
    curl "${args[@]}" "$url"
}

# ensure_exchange_authorized ADMIN_URL [LABEL]: the wizard adds "Exchange Servers" from a
# directory search; when it did not get that far, add the group (with the SID the lab reports)
# through the API so the Kerberos call still proves the relay path. Says which happened.
ensure_exchange_authorized() {
    local admin_url="$1" label="${2:+ on $2}" sid="${LAB_SID_EXCHANGE_SERVERS:-}" login answer
    [[ -n "$sid" ]] || { log "lab.env has no LAB_SID_EXCHANGE_SERVERS"; return 1; }
    : >"$work/admin.cookies"
    login="$(jq -cn --arg u "${RMSC_ADMIN_USER:-admin}" --arg p "$(admin_password)" \
        '{username: $u, password: $p}')"
    answer="$(admin_call POST "$admin_url/api/v1/session" "$login")" || {
        log "admin sign-in failed: $answer"
        return 1
    }
    csrf_token="$(jq -r '.csrf_token' <<<"$answer")"
    answer="$(admin_call GET "$admin_url/api/v1/authorized")" || return 1
    if jq -e --arg sid "$sid" '.entries[] | select(.sid == $sid and .role == "exchange")' \
        <<<"$answer" >/dev/null; then
        record PASS "Exchange Servers ($sid) is authorized as Exchange$label (added by the wizard)"
        return 0
    fi
    answer="$(admin_call POST "$admin_url/api/v1/authorized" "$(jq -cn --arg sid "$sid" \
        '{account: "CONTOSO\\Exchange Servers", sid: $sid, kind: "group", role: "exchange"}')")" || {
        log "adding Exchange Servers failed: $answer"
        return 1
    }
    record PASS "Exchange Servers ($sid) authorized through the API$label (the wizard did not add it)"
}

# soap_publish_request: a SOAP 1.1 AcquireIssuanceLicense request (the shape of
# rmsc_cloud_standin::sample_request for publish.asmx's first operation).
soap_publish_request() {
    local ns="http://microsoft.com/DRM/PublishingService"
    printf '%s' '<?xml version="1.0" encoding="utf-8"?>' \
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"' \
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' \
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema">' \
        "<soap:Header><VersionData xmlns=\"$ns\">" \
        '<MinimumVersion>1.0.0.0</MinimumVersion><MaximumVersion>1.0.0.0</MaximumVersion>' \
        '</VersionData></soap:Header>' \
        "<soap:Body><AcquireIssuanceLicense xmlns=\"$ns\"/></soap:Body></soap:Envelope>"
}

# negotiate_call OUT_FILE CURL_ARGS...: curl with HTTP Negotiate as the ticket in KRB5CCNAME,
# to the connector by its SPN host name (resolved to the loopback caller port). Prints the
# HTTP status.
negotiate_call() {
    local out="$1"
    shift
    curl --silent --show-error --max-time 30 --negotiate -u : \
        --resolve "$CONNECTOR_NAME:$caller_port:127.0.0.1" \
        -o "$out" -w '%{http_code}' "$@"
}

# try_get_rmso_uri BASE: one GET of the GetRmsoUri page; sets `code`; true on 200.
try_get_rmso_uri() {
    code="$(negotiate_call "$work/getrmsouri.out" "$1/_wmcs/GetRmsoUri.aspx")"
    [[ "$code" == 200 ]]
}

# try_publish BASE: one SOAP POST to publish.asmx; sets `code`; true on 200.
try_publish() {
    code="$(negotiate_call "$work/publish.out" -X POST \
        -H 'content-type: text/xml; charset=utf-8' \
        -H 'soapaction: "http://microsoft.com/DRM/PublishingService/AcquireIssuanceLicense"' \
        --data-binary "@$work/publish-request.xml" \
        "$1/_wmcs/licensing/publish.asmx")"
    [[ "$code" == 200 ]]
}

# kerberos_soap_check LAB_DIR ADMIN_URL HTTP_ADDR [LABEL]: LABEL (e.g. "appliance B") names
# the connector in the result lines when there are several.
kerberos_soap_check() {
    local lab_dir="$1" admin_url="$2" http_addr="$3" label="${4:-}" exports code base
    local stage="kerberos${label:+ ($label)}" suffix="${label:+-${label##* }}"
    caller_port="${http_addr##*:}"
    base="http://$CONNECTOR_NAME:$caller_port"
    if ! ensure_exchange_authorized "$admin_url" "$label"; then
        record FAIL "$stage: could not make sure Exchange Servers is authorized"
        return 0
    fi
    exports="$("$LAB_SH" kinit "$lab_dir" EXCH01 2>"$work/kinit.log")" || {
        record FAIL "$stage: lab.sh kinit EXCH01 failed (see logs/kinit.log)"
        return 0
    }
    (
        eval "$exports"
        export KRB5_CONFIG KRB5CCNAME
        klist >"$work/klist.log" 2>&1 || true

        # The GetRmsoUri page: Kerberos-authenticated, answers the tenant's RMS URL.
        code=000
        poll 30 "GetRmsoUri.aspx to answer 200" try_get_rmso_uri "$base" || true
        if [[ "$code" == 200 ]] && grep -q '^https://' "$work/getrmsouri.out"; then
            echo "PASS  $stage: GET /_wmcs/GetRmsoUri.aspx as EXCH01\$ -> 200 $(head -c 200 "$work/getrmsouri.out")"
        else
            echo "FAIL  $stage: GET /_wmcs/GetRmsoUri.aspx as EXCH01\$ -> $code $(head -c 300 "$work/getrmsouri.out" 2>/dev/null | tr '\n' ' ')"
        fi

        # One SOAP call, relayed to the cloud stand-in. The list sync may lag the add by a
        # moment, hence the poll.
        soap_publish_request >"$work/publish-request.xml"
        code=000
        poll 30 "publish.asmx to answer 200" try_publish "$base" || true
        cp -f "$work/publish.out" "$RMSC_ARTIFACTS/kerberos-publish-response$suffix.xml" 2>/dev/null || true
        if [[ "$code" == 200 ]] && grep -q 'AcquireIssuanceLicenseResponse' "$work/publish.out"; then
            echo "PASS  $stage: POST /_wmcs/licensing/publish.asmx (AcquireIssuanceLicense) as EXCH01\$ -> 200"
        else
            echo "FAIL  $stage: POST /_wmcs/licensing/publish.asmx as EXCH01\$ -> $code $(head -c 300 "$work/publish.out" 2>/dev/null | tr '\n' ' ')"
        fi
    ) >"$work/kerberos-results.txt"
    local line
    while IFS= read -r line; do results+=("$line"); done <"$work/kerberos-results.txt"
}
