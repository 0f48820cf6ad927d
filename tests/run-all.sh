#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the unit, property and end-to-end
# tests (cloud stand-in and connector over real sockets), a short run of every fuzz target,
# the release-feature check, and the AD lab self-test. One command, as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# Incremental state only pays off across edits; in a one-shot run it is gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fuzz_seconds="${RMSC_FUZZ_SECONDS:-10}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
# RMSC_PRUNE_BUILDS=1 (set by .ci/run) deletes each build once its tests have run, so the
# run fits on a machine with little free disk. Off by default: a developer keeps the builds.
prune_builds="${RMSC_PRUNE_BUILDS:-0}"

# Every step says how much disk is left, so a run that fills the disk shows where.
step() {
    printf '\n== %s (%s free)\n' "$*" "$(df -h --output=avail "$PWD" 2>/dev/null | tail -n 1 | tr -d ' ')"
}
prune() {
    if [ "$prune_builds" = 1 ]; then
        echo "pruning $* (RMSC_PRUNE_BUILDS=1)"
        rm -rf "$@"
    fi
}

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the release binary has no test-only identity source"
if cargo tree -p rmsc-connectord -e features --locked 2>/dev/null | grep -q 'test-identity'; then
    echo "rmsc-connectord pulls in the test-identity feature" >&2
    exit 1
fi

# The Kerberos end-to-end tests need the Samba AD lab: one lab for the whole run, taken down
# on exit. Where it can run (root, Samba installed) its absence is a failure, not a skip.
lab_dir=""
cleanup() {
    if [ -n "$lab_dir" ]; then
        tests/lab/lab.sh down "$lab_dir" --purge >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ] && command -v samba-tool >/dev/null 2>&1; then
    step "AD lab for the Kerberos tests"
    lab_dir="$(mktemp -d /tmp/rmsc-lab.XXXXXX)"
    tests/lab/lab.sh up "$lab_dir"
    export RMSC_LAB_DIR="$lab_dir" RMSC_LAB_REQUIRED=1
else
    echo "no AD lab (needs root and Samba): the Kerberos tests report SKIPPED"
fi

step "unit, property and end-to-end tests"
cargo nextest run --workspace --locked --no-fail-fast
prune "$target_dir/debug"

step "fuzz targets (${fuzz_seconds}s each)"
firmware/fuzz/run-all.sh "$fuzz_seconds"
prune firmware/fuzz/target

step "release binaries for the pair, browser and image tests"
cargo build --release --locked -p rmsc-connectord -p rmsc-cloud-standin
release="$target_dir/release"

step "paired appliances behind HAProxy (network namespaces, Samba DC, Kerberos callers)"
if [ -n "$lab_dir" ] && command -v haproxy >/dev/null 2>&1; then
    # A 25 s cloud outage is enough to cross the pair's shortened staleness limit.
    PAIR_BIN="$release" \
        PAIR_OUTAGE_SECS="${PAIR_OUTAGE_SECS:-25}" tests/pair/run.sh
else
    echo "skipped: needs root, Samba and HAProxy (tests/lab/install-deps.sh)"
fi

step "admin web UI in Chromium against the real connector, stand-in and Samba DC"
if [ -n "$lab_dir" ] && [ -x /usr/bin/chromium ] && command -v npm >/dev/null 2>&1; then
    RMSC_E2E_NO_BUILD=1 tests/ui/run-e2e.sh
else
    echo "skipped: needs root, Samba, /usr/bin/chromium and npm (.ci/run installs them)"
fi

step "the appliance image: build, boot in QEMU with UEFI and BIOS, check from the host"
if [ "$(id -u)" -eq 0 ] && command -v qemu-system-x86_64 >/dev/null 2>&1 &&
    command -v genimage >/dev/null 2>&1 && [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
    image_out="$(mktemp -d /tmp/rmsc-image.XXXXXX)"
    RMSC_DAEMON="$release/rmsconnector" RMSC_STANDIN="$release/rmsc-cloud-standin" \
        image/test-boot.sh "$image_out"
    rm -rf "$image_out"
else
    echo "skipped: needs root, QEMU, OVMF and genimage (image/install-deps.sh)"
fi

step "AD lab self-test (Samba DC in a network namespace)"
if [ "$(id -u)" -eq 0 ] && command -v samba-tool >/dev/null 2>&1; then
    tests/lab/selftest.sh
else
    echo "skipped: needs root and Samba (tests/lab/install-deps.sh)"
fi
