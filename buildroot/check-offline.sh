#!/usr/bin/env bash
# Checks the external tree as far as possible without building Buildroot: the scripts are
# lint-clean, every file the defconfig and the package refer to exists, and the package's
# cargo invocation builds the same binary as image/build.sh. With BUILDROOT=path (a
# Buildroot checkout) it also runs `make rmsc_x86_64_defconfig` and checks every symbol of
# the defconfig survived (an unknown or unmet symbol is dropped silently by kconfig).
# shellcheck disable=SC2015 # ok never fails, so "cond && ok || bad" is an if-else
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
failures=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }

if shellcheck -x "$here"/board/rmsc/x86_64/*.sh; then ok "shellcheck board scripts"; else bad "shellcheck"; fi
for file in external.desc external.mk Config.in configs/rmsc_x86_64_defconfig \
    package/rmsconnector/Config.in package/rmsconnector/rmsconnector.mk; do
    [ -f "$here/$file" ] && ok "$file" || bad "missing $file"
done
grep -q '^name: RMSC$' "$here/external.desc" && ok "external name RMSC" || bad "external.desc name"
# Every $(BR2_EXTERNAL_RMSC_PATH)/... path in the defconfig must exist.
# shellcheck disable=SC2016 # the $(...) is Buildroot's make variable, matched literally
while read -r path; do
    [ -e "$here/$path" ] && ok "defconfig refers to $path" || bad "defconfig refers to missing $path"
done < <(grep -o '\$(BR2_EXTERNAL_RMSC_PATH)/[^" ]*' "$here/configs/rmsc_x86_64_defconfig" |
    sed 's|\$(BR2_EXTERNAL_RMSC_PATH)/||' | sort -u)
# Files the board scripts take from image/.
for path in image/initramfs/init image/grub/grub.cfg image/genimage.cfg image/lib/boot.sh \
    image/lib/formats.sh image/lib/common.sh image/ova/appliance.ovf.in image/rootfs-overlay/etc/inittab; do
    [ -e "$repo/$path" ] && ok "shared $path" || bad "missing shared $path"
done
# The package builds the crate image/build.sh builds, by the same name.
grep -q -- '-p rmsc-connectord' "$here/package/rmsconnector/rmsconnector.mk" &&
    grep -q -- '-p rmsc-connectord' "$repo/image/build.sh" &&
    grep -q '^name = "rmsconnector"' "$repo/firmware/rmsc-connectord/Cargo.toml" &&
    ok "package builds rmsc-connectord's rmsconnector binary, like image/build.sh" ||
    bad "package and image/build.sh build different binaries"

if [ -n "${BUILDROOT:-}" ]; then
    out=$(mktemp -d)
    make -s -C "$BUILDROOT" O="$out" BR2_EXTERNAL="$here" rmsc_x86_64_defconfig > "$out/make.log" 2>&1 ||
        { cat "$out/make.log"; bad "make rmsc_x86_64_defconfig"; }
    while IFS= read -r line; do
        case "$line" in '' | '#'*) continue ;; esac
        grep -qxF "$line" "$out/.config" && ok "kconfig kept ${line%%=*}" || bad "kconfig dropped: $line"
    done < "$here/configs/rmsc_x86_64_defconfig"
    rm -rf "$out"
fi
[ "$failures" -eq 0 ] && echo "buildroot offline check: all passed" || { echo "buildroot offline check: $failures failed"; exit 1; }
