#!/usr/bin/env bash
# Runs every fuzz target of this crate for N seconds each (default 20) with cargo-fuzz on
# nightly. Every target runs even if an earlier one crashes; the exit status is non-zero
# when any target crashed, timed out or failed to build. Crash inputs land in
# artifacts/<target>/, the growing corpus in corpus/<target>/ (both git-ignored).
#
# Usage: firmware/fuzz/run-all.sh [seconds-per-target]
# Needs: rustup nightly toolchain and `cargo install cargo-fuzz`.
set -uo pipefail

seconds="${1:-20}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here" || exit 2

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz on the nightly toolchain is required: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  exit 2
fi

targets="$(cargo +nightly fuzz list --fuzz-dir "$here")" || exit 2
failed=()
for target in $targets; do
  echo "=== fuzzing $target for ${seconds}s"
  mkdir -p "corpus/$target"
  # Seeds are read-only extra corpus directories; new inputs go to corpus/<target>.
  dirs=("corpus/$target")
  if [ -d "seeds/$target" ]; then dirs+=("seeds/$target"); fi
  # A dictionary per target, or per family: dicts/<target>.dict, else dicts/<prefix>.dict
  # with <prefix> the name up to the first underscore (soap_envelope -> soap.dict).
  dict=()
  for candidate in "dicts/$target.dict" "dicts/${target%%_*}.dict"; do
    if [ -f "$candidate" ]; then dict=("-dict=$here/$candidate"); break; fi
  done
  if ! cargo +nightly fuzz run --fuzz-dir "$here" "$target" "${dirs[@]}" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      "${dict[@]}" -print_final_stats=1; then
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (inputs in $here/artifacts/)" >&2
  exit 1
fi
echo "all fuzz targets ran ${seconds}s without a crash"
