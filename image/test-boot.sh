#!/usr/bin/env bash
# Boot test of the appliance image: builds it if needed, checks every output format, then
# boots the qcow2 (on a 64 GiB copy-on-write disk) with UEFI (OVMF), reboots it from the
# console menu and then through the admin API, and boots the same disk again with legacy
# BIOS (SeaBIOS). From the host it checks /healthz through port forwards, the admin API and
# registration against the cloud stand-in, that /data survives reboots and has grown, and the
# idle memory. Prints a table.
#
# Usage: image/test-boot.sh [OUTDIR]   (default: target/image; RMSC_REBUILD=1 forces a build)
#   RMSC_STANDIN=path   the stand-in binary (default: built with cargo)
# shellcheck disable=SC2015 # pass never fails, so "cond && pass || fail" is an if-else
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
need qemu-system-x86_64 qemu-img python3 curl tar
out=${1:-$repo/target/image}
name=rmsc-appliance
tmp=$(mktemp -d /tmp/rmsc-boot-test.XXXXXX)
qemu_pid=""
standin_pid=""
result=""
kvm_usable=1     # cleared after the first failed KVM attempt: the next boot goes straight to TCG
admin_api=""     # "present" or "absent", probed once
failures=0
declare -a rows=()

cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null
    wait 2>/dev/null || true
    if [ "$failures" -eq 0 ]; then rm -rf "$tmp"; else echo "logs kept in $tmp" >&2; fi
}
trap cleanup EXIT INT TERM

pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'SKIP %s\n' "$*"; }
row() { rows+=("$(printf '%-28s %s' "$1" "$2")"); }

# poll SECONDS COMMAND...: retries COMMAND every half second until it succeeds or time is up.
poll() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" > /dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

if [ "${RMSC_REBUILD:-0}" = 1 ] || [ ! -e "$out/$name.qcow2" ]; then
    "$here/build.sh" "$out"
fi

echo "== output formats"
for file in "$name.qcow2" "$name.vhdx" "$name-disk1.vmdk"; do
    if qemu-img check -q "$out/$file" > "$tmp/check.log" 2>&1; then
        pass "qemu-img check $file"
    elif grep -qi "not supported\|doesn't support" "$tmp/check.log"; then
        # Not every format has a consistency check; info must still read it.
        qemu-img info "$out/$file" > /dev/null && pass "qemu-img info $file (no check for this format)" ||
            fail "qemu-img info $file"
    else
        fail "qemu-img check $file: $(cat "$tmp/check.log")"
    fi
    size=$(qemu-img info --output=json "$out/$file" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
    [ "$size" -eq $((64 << 30)) ] && pass "$file is a 64 GiB disk" || fail "$file virtual size $size"
done
xz -t "$out/$name.raw.xz" && pass "raw.xz intact" || fail "raw.xz corrupt"
mkdir -p "$tmp/ova"
if python3 "$here/test/check_ova.py" "$out/$name.ova" "$tmp/ova"; then pass "OVA"; else fail "OVA"; fi
qemu-img info "$tmp/ova/$name-disk1.vmdk" | grep -q streamOptimized &&
    pass "OVA disk is stream-optimized" || fail "OVA disk format"
compressed=$(stat -c %s "$out/$name.raw.xz")
[ "$compressed" -le $((64 << 20)) ] && pass "compressed image $((compressed >> 20)) MiB <= 64 MiB" ||
    fail "compressed image $((compressed >> 20)) MiB > 64 MiB"
row "raw.xz" "$((compressed >> 20)) MiB"
for file in "$name.qcow2" "$name.vhdx" "$name.ova"; do
    row "${file#"$name".}" "$(($(stat -c %s "$out/$file") >> 20)) MiB"
done

echo "== cloud stand-in"
standin=${RMSC_STANDIN:-}
if [ -z "$standin" ]; then
    (cd "$repo" && cargo build --release --locked -q -p rmsc-cloud-standin)
    standin="$repo/target/release/rmsc-cloud-standin"
fi
"$standin" --listen 127.0.0.1:0 --state-dir "$tmp/standin" > "$tmp/standin.out" 2> "$tmp/standin.log" &
standin_pid=$!
poll 30 grep -q '^standin listening on' "$tmp/standin.out" || { fail "stand-in did not start"; exit 1; }
cloud_url=$(sed -n 's/^standin listening on //p' "$tmp/standin.out" | head -n 1)
cloud_port=${cloud_url##*:}
pass "stand-in at $cloud_url"

# The provisioning seed: the connector talks to the stand-in, whose certificate names
# 127.0.0.1, so the appliance relays its loopback port to QEMU's guestfwd address. No NTP:
# the lab has no network beyond the host.
mkdir -p "$tmp/seed"
cat > "$tmp/seed/connector.toml" <<TOML
data_dir = "/data/rmsc"
cloud_url = "$cloud_url"
cloud_ca_file = "/data/settings/cloud-ca.pem"
admin_socket = "/run/rmsc/admin.sock"

[callers]
http = ["0.0.0.0:80"]
https = ["0.0.0.0:443"]

[ops]
listen = "127.0.0.1:9464"

[system]
helper_socket = "/run/rmsc-system/system.sock"
TOML
cp "$tmp/standin/ca.pem" "$tmp/seed/cloud-ca.pem"
printf 'MODE=dhcp\nHOSTNAME=rmsconnector\nNTP=""\n' > "$tmp/seed/network.env"
echo "$cloud_port 10.0.2.100 443" > "$tmp/seed/lab-forward"

qemu-img create -q -f qcow2 -b "$out/$name.qcow2" -F qcow2 "$tmp/disk.qcow2" 64G
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/vars.fd"
read -r port_http port_https port_admin < <(python3 "$here/test/freeport.py" 3)

# start_vm FIRMWARE ACCEL LOG: boots the test disk; sets qemu_pid.
start_vm() {
    local firmware=$1 accel=$2 log=$3
    local -a args=(-machine q35 -accel "$accel" -m 1024 -smp 2 -display none
        -drive "file=$tmp/disk.qcow2,if=virtio,format=qcow2"
        -chardev "socket,id=ser0,path=$tmp/serial.sock,server=on,wait=off,logfile=$log"
        -serial chardev:ser0
        -nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port_http-:80,hostfwd=tcp:127.0.0.1:$port_https-:443,hostfwd=tcp:127.0.0.1:$port_admin-:8443,guestfwd=tcp:10.0.2.100:443-cmd:python3 $here/test/fwd.py 127.0.0.1 $cloud_port")
    for file in connector.toml cloud-ca.pem network.env lab-forward; do
        args+=(-fw_cfg "name=opt/rmsc/$file,file=$tmp/seed/$file")
    done
    if [ "$firmware" = uefi ]; then
        args+=(-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
            -drive "if=pflash,format=raw,file=$tmp/vars.fd")
    fi
    rm -f "$tmp/serial.sock"
    qemu-system-x86_64 "${args[@]}" > "$log.qemu" 2>&1 &
    qemu_pid=$!
}

# boot FIRMWARE LOG: tries KVM briefly (on these machines KVM guests can die with an
# emulation failure), else TCG; sets result to "ACCEL SECONDS" (seconds until /healthz
# answers on port 80). Not run in a subshell: qemu_pid must reach cleanup.
boot() {
    local firmware=$1 log=$2 started accel
    for accel in kvm tcg; do
        if [ "$accel" = kvm ] && { [ ! -w /dev/kvm ] || [ "$kvm_usable" = 0 ]; }; then continue; fi
        started=$(date +%s.%N)
        start_vm "$firmware" "$accel" "$log"
        if [ "$accel" = kvm ]; then
            # On these machines KVM guests can stop with "KVM internal error" (QEMU stays
            # alive, paused) or hang in the kernel: KVM counts only if init's first message
            # arrives within 40 s (about 5 s when KVM works), else TCG takes over.
            if ! poll 40 grep -aq 'rmsc: ' "$log" || grep -q 'KVM internal error' "$log.qemu"; then
                echo "KVM did not boot; using TCG" >&2
                kvm_usable=0
                stop_vm
                continue
            fi
        fi
        if poll 300 curl -sf "http://127.0.0.1:$port_http/healthz"; then
            result="$accel $(python3 -c "import time; print(round(time.time() - $started, 1))")"
            return 0
        fi
        return 1
    done
    return 1
}

# console_status LOG: picks "1) Status" on the serial console, waits for the report.
console_status() {
    local log=$1 before
    before=$(grep -c -- '--- end of status ---' "$log" 2>/dev/null || true)
    python3 "$here/test/serial.py" "$tmp/serial.sock" 1
    poll 60 bash -c "[ \$(grep -c -- '--- end of status ---' '$log') -gt $before ]" || return 1
    tac "$log" | sed -n '/--- end of status ---/,/--- status ---/p' | tac | tr -d '\r'
}

status_value() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" <<< "$2" | tail -n 1; }

stop_vm() {
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}

admin_checks() {
    local phase=$1 log=$2 code
    # The admin listener starts with the daemon, which already answers /healthz: 30 s is ample.
    if [ -z "$admin_api" ]; then
        admin_api=absent
        poll 30 bash -c "[ \"\$(python3 '$here/test/admin_flow.py' probe https://127.0.0.1:$port_admin)\" = present ]" &&
            admin_api=present
    fi
    if [ "$admin_api" = absent ]; then
        skip "admin API not in this build (nothing answers HTTPS on 8443): setup, registration, SOAP relay and config-kept checks ($phase)"
        return 0
    fi
    if [ "$phase" = setup ]; then
        # The console redraws within 10 s of the daemon writing console.env: poll for it.
        poll 40 bash -c "tr -d '\\r' < '$log' | grep -q '^ *Setup code: '" || true
        code=$(tr -d '\r' < "$log" | sed -n 's/^ *Setup code: *//p' | tail -n 1)
        [ -n "$code" ] || { fail "no setup code on the console"; return 0; }
        if python3 "$here/test/admin_flow.py" setup "https://127.0.0.1:$port_admin" "$code"; then
            pass "setup + cloud sign-in + registration through the admin API"
        else
            fail "admin API setup"
        fi
        kerberos_setup
        soap_relay_check "$phase"
    else
        if python3 "$here/test/admin_flow.py" check "https://127.0.0.1:$port_admin"; then
            pass "configuration kept across reboot (admin password, registration)"
        else
            fail "configuration lost across reboot"
        fi
        soap_relay_check "$phase"
    fi
}

# The SOAP relay needs a Kerberos caller: the AD lab (tests/lab, $RMSC_LAB_DIR) runs on the
# host. The guest needs no route to the DC (accepting a ticket is offline, with the keytab);
# the host gets EXCH01$'s ticket from the lab's KDC and calls the forwarded caller port.
lab_env=""
if [ -n "${RMSC_LAB_DIR:-}" ] && [ -f "$RMSC_LAB_DIR/lab.env" ] &&
    "$repo/tests/lab/lab.sh" status "$RMSC_LAB_DIR" >/dev/null 2>&1; then
    lab_env="$RMSC_LAB_DIR/lab.env"
fi

kerberos_setup() {
    [ -n "$lab_env" ] || return 0
    # shellcheck disable=SC1090
    . "$lab_env"
    if python3 "$here/test/admin_flow.py" kerberos "https://127.0.0.1:$port_admin" \
        "$LAB_CONNECTOR_KEYTAB" "$LAB_SID_EXCHANGE_SERVERS"; then
        pass "keytab upload and authorization through the admin API"
    else
        fail "keytab upload or authorization through the admin API"
    fi
}

soap_call_vm() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 --negotiate -u : \
        --resolve "rmsconnector.contoso.test:$port_http:127.0.0.1" \
        -H 'content-type: text/xml; charset=utf-8' \
        -H 'soapaction: "http://microsoft.com/DRM/CertificationService/Certify"' \
        --data '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Certify xmlns="http://microsoft.com/DRM/CertificationService"/></soap:Body></soap:Envelope>' \
        "http://rmsconnector.contoso.test:$port_http/_wmcs/certification/ServerCertification.asmx"
}

soap_ok() { [ "$(soap_call_vm)" = 200 ]; }

soap_relay_check() {
    local phase=$1
    if [ -z "$lab_env" ]; then
        skip "SOAP relay end to end ($phase): needs the AD lab for a Kerberos caller (RMSC_LAB_DIR; tests/run-all.sh starts one)"
        return 0
    fi
    local exports
    exports=$("$repo/tests/lab/lab.sh" kinit "$RMSC_LAB_DIR" EXCH01) || { fail "kinit EXCH01 in the lab"; return 0; }
    # Until the authorization has reached the appliance's list (a long-poll), calls get 403.
    if (eval "$exports" && poll 30 soap_ok); then
        pass "SOAP relay end to end ($phase): EXCH01\$ with a Kerberos ticket, relayed to the stand-in, 200"
    else
        fail "SOAP relay end to end ($phase): last status $(eval "$exports" && soap_call_vm)"
    fi
}

# api_reboot LOG: a reboot asked for through the admin API (the daemon, unprivileged, asks
# the root system helper, which asks init): the VM goes down, comes back with its
# configuration, and the boot counter on /data moved on.
api_reboot() {
    local log=$1 before started status boots
    echo "== reboot through the admin API"
    if [ "$admin_api" != present ]; then
        skip "reboot through the admin API: no admin API in this build"
        return 0
    fi
    status=$(console_status "$log") || true
    before=$(status_value "boots" "$status")
    if ! python3 "$here/test/admin_flow.py" reboot "https://127.0.0.1:$port_admin"; then
        fail "admin API reboot request"
        return 0
    fi
    poll 60 bash -c "! curl -sf http://127.0.0.1:$port_http/healthz" ||
        { fail "did not go down after the admin API reboot"; return 0; }
    started=$(date +%s)
    if poll 300 curl -sf "http://127.0.0.1:$port_http/healthz"; then
        pass "back after the admin API reboot ($(($(date +%s) - started)) s)"
        row "UEFI API reboot-to-ready" "$(($(date +%s) - started)) s"
        admin_checks check "$log"
        status=$(console_status "$log") || true
        boots=$(status_value "boots" "$status")
        [ -n "$before" ] && [ "$boots" = $((before + 1)) ] &&
            pass "admin API reboot kept /data (boot $boots)" || fail "boot count ${boots:-?} after the admin API reboot (before: ${before:-?})"
    else
        fail "not back after the admin API reboot"
    fi
}

echo "== boot 1: UEFI on a 64 GiB disk"
if boot uefi "$tmp/serial-uefi.log"; then
    pass "UEFI boot: /healthz answers after ${result#* } s (${result%% *})"
    row "UEFI boot-to-ready" "${result#* } s (${result%% *})"
    admin_checks setup "$tmp/serial-uefi.log"
    sleep 5 # let the first-boot work settle before measuring idle memory
    if status=$(console_status "$tmp/serial-uefi.log"); then
        echo "$status"
        mem=$(status_value "memory used" "$status")
        data=$(status_value "data partition" "$status")
        boots=$(status_value "boots" "$status")
        row "idle memory used" "${mem:-?} MiB (1 GiB VM)"
        row "data partition" "${data:-?} MiB"
        [ -n "$mem" ] && [ "$mem" -lt 128 ] && pass "idle memory $mem MiB < 128 MiB" || fail "idle memory ${mem:-?} MiB"
        [ -n "$data" ] && [ "$data" -gt 60000 ] && pass "data partition grew to $data MiB" || fail "data partition ${data:-?} MiB did not grow"
        [ "$boots" = 1 ] && pass "first boot" || fail "boot count $boots on the first boot"
    else
        fail "no status from the console menu"
    fi
    echo "== reboot from the console menu"
    python3 "$here/test/serial.py" "$tmp/serial.sock" 5
    poll 60 bash -c "! curl -sf http://127.0.0.1:$port_http/healthz" || fail "did not go down on reboot"
    started=$(date +%s)
    if poll 300 curl -sf "http://127.0.0.1:$port_http/healthz"; then
        pass "back after reboot ($(($(date +%s) - started)) s)"
        row "UEFI reboot-to-ready" "$(($(date +%s) - started)) s"
        admin_checks check "$tmp/serial-uefi.log"
        status=$(console_status "$tmp/serial-uefi.log") || true
        boots=$(status_value "boots" "$status")
        [ "$boots" = 2 ] && pass "data partition survived the reboot (boot 2)" || fail "boot count ${boots:-?} after reboot"
    else
        fail "not back after reboot"
    fi
    api_reboot "$tmp/serial-uefi.log"
    stop_vm
else
    fail "UEFI boot: /healthz did not answer; serial log: $tmp/serial-uefi.log"
    tail -n 30 "$tmp/serial-uefi.log" | tr -d '\r'
    stop_vm
fi

echo "== boot 2: legacy BIOS, same disk"
if boot bios "$tmp/serial-bios.log"; then
    pass "BIOS boot: /healthz answers after ${result#* } s (${result%% *})"
    row "BIOS boot-to-ready" "${result#* } s (${result%% *})"
    admin_checks check "$tmp/serial-bios.log"
    if status=$(console_status "$tmp/serial-bios.log"); then
        boots=$(status_value "boots" "$status")
        data=$(status_value "data partition" "$status")
        [ -n "$boots" ] && [ "$boots" -ge 2 ] && pass "BIOS boot sees the same data (boot $boots)" || fail "boot count ${boots:-?}"
        [ -n "$data" ] && [ "$data" -gt 60000 ] && pass "data partition still $data MiB" || fail "data partition ${data:-?} MiB"
    else
        fail "no status from the console menu (BIOS)"
    fi
    stop_vm
else
    fail "BIOS boot: /healthz did not answer; serial log: $tmp/serial-bios.log"
    tail -n 30 "$tmp/serial-bios.log" | tr -d '\r'
    stop_vm
fi

echo
echo "== results"
printf '%s\n' "${rows[@]}"
echo
if [ "$failures" -eq 0 ]; then
    echo "image boot test: all checks passed"
else
    echo "image boot test: $failures check(s) failed"
    exit 1
fi
