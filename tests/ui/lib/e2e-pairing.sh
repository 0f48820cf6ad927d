# shellcheck shell=bash
# e2e-pairing.sh: the pairing stage of run-e2e.sh (issue 6): a second, fresh connector of the
# same tenant (own data directory, admin socket, Kerberos runtime directory and ports; the same
# stand-in and lab) joins the first one in the browser (tests/ui/pairing.test.mjs); then the
# lab's EXCH01$ calls through the second one with a real Kerberos ticket, which works only with
# the keytab it received. Expects the helpers of e2e-common.sh and e2e-kerberos.sh.

# pairing_stage LAB_DIR STANDIN_URL FIRST_ADMIN_URL
pairing_stage() {
    local lab_dir="$1" standin_url="$2" first_admin_url="$3" status=0
    local dir="$work/b"
    mkdir -p "$dir"
    write_connector_config "$work/connector-b.toml" "$dir" "$standin_url" "$LAB_LDAP_URL" \
        "rmsc-e2e-02.contoso.test" "$work/standin/ca.pem"
    start_connector connector-b "$work/connector-b.toml" "$dir/data"
    local second_admin_url="$started_admin_url" second_http_addr="$started_http_addr"
    record PASS "second connector: admin $second_admin_url, callers http://$second_http_addr"

    log "tests/ui/pairing.test.mjs: A $first_admin_url, B $second_admin_url"
    printf '== pairing.test.mjs\n' >"$work/ui-pairing.log"
    RMSC_ADMIN_URL="$first_admin_url" RMSC_SECOND_ADMIN_URL="$second_admin_url" \
        RMSC_SECOND_SETUP_CODE="$started_setup_code" RMSC_STANDIN_URL="$standin_url" \
        RMSC_LAB_DIR="$lab_dir" RMSC_CONNECTOR_NAME="$CONNECTOR_NAME" \
        run_waiting node --test-reporter=spec "$UI_DIR/pairing.test.mjs" \
        >>"$work/ui-pairing.log" 2>&1 || status=$?
    cat "$work/ui-pairing.log" >&2
    collect_ui_results "$work/ui-pairing.log" "$status" tests/ui/pairing.test.mjs
    if [[ "$status" -ne 0 ]]; then
        record SKIP "kerberos (appliance B): not run, the second appliance did not join"
        return 0
    fi
    kerberos_soap_check "$lab_dir" "$second_admin_url" "$second_http_addr" "appliance B"
}
