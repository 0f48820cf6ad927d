#!/usr/bin/env bash
# Runs the browser tests of the admin web UI against a running connector.
#
#   RMSC_ADMIN_URL    admin listener of a fresh connector, e.g. https://127.0.0.1:8443
#   RMSC_SETUP_CODE   its setup code (from <data_dir>/console.env)
#   RMSC_STANDIN_URL  base URL of the cloud stand-in the connector talks to
#   RMSC_LAB_DIR      AD lab directory (keytabs/connector.keytab, keytabs/rc4-only.keytab)
#   RMSC_ARTIFACTS    where screenshots and downloads go (default tests/ui/artifacts)
#   RMSC_CHROMIUM     browser binary (default /usr/bin/chromium)
#
# The wizard test runs first and sets the administrator password that the others use, so
# the connector must be fresh (setup required) when this starts.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
for name in RMSC_ADMIN_URL RMSC_SETUP_CODE RMSC_STANDIN_URL RMSC_LAB_DIR; do
    [ -n "${!name:-}" ] || missing+=("$name")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "run.sh: set ${missing[*]}" >&2
    exit 2
fi
browser="${RMSC_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$browser" ]; then
    echo "run.sh: $browser not found (apt-get install -y chromium)" >&2
    exit 2
fi
for keytab in connector.keytab rc4-only.keytab; do
    [ -r "$RMSC_LAB_DIR/keytabs/$keytab" ] || { echo "run.sh: $RMSC_LAB_DIR/keytabs/$keytab missing" >&2; exit 2; }
done
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund
fi
export RMSC_ARTIFACTS="${RMSC_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$RMSC_ARTIFACTS"

status=0
for suite in units.test.mjs wizard.test.mjs signin.test.mjs pages.test.mjs; do
    echo "== $suite"
    if ! node --test-reporter=spec "$suite"; then
        status=1
        # Everything after the wizard needs the account it creates.
        [ "$suite" = wizard.test.mjs ] && break
    fi
done
echo "screenshots: $RMSC_ARTIFACTS"
exit "$status"
