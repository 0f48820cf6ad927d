#!/usr/bin/env bash
# Builds the RMS Connector Appliance image offline from Debian 12 binary packages, the
# connector's release binary and the shared rootfs overlay. No root, no loop devices.
#
# Usage: image/build.sh OUTDIR
#   RMSC_DAEMON=path     use this rmsconnector binary instead of building it
#   RMSC_IMAGE_CACHE=dir where downloaded .deb files are kept (default ~/.cache/rmsc-image)
# Outputs in OUTDIR: rmsc-appliance.{raw.xz,qcow2,vhdx,ova} (+ .ovf/.mf/-disk1.vmdk that the
# OVA holds), manifest.txt (package versions, checksums), build.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/packages.sh
. "$here/lib/packages.sh"
# shellcheck source=lib/rootfs.sh
. "$here/lib/rootfs.sh"
# shellcheck source=lib/boot.sh
. "$here/lib/boot.sh"
# shellcheck source=lib/formats.sh
. "$here/lib/formats.sh"

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
NAME=rmsc-appliance
WORK="$OUT/work"
CACHE=${RMSC_IMAGE_CACHE:-$HOME/.cache/rmsc-image}
MANIFEST="$WORK/packages.txt"
export CACHE MANIFEST
need apt-get apt-cache dpkg-deb objdump depmod modprobe cpio xz mksquashfs mke2fs genimage \
    grub-mkimage grub-editenv mcopy mkdosfs qemu-img sha256sum
started=$(date +%s)
exec > >(tee "$OUT/build.log") 2>&1

rm -rf "$WORK"
mkdir -p "$WORK/sysroot" "$WORK/kernel" "$WORK/images" "$CACHE"
: > "$MANIFEST"

daemon=${RMSC_DAEMON:-}
if [ -z "$daemon" ]; then
    say "building rmsconnector (release)"
    (cd "$repo" && cargo build --release --locked -p rmsc-connectord)
    daemon="$repo/target/release/rmsconnector"
fi
[ -x "$daemon" ] || die "no daemon binary at $daemon"
RELEASE="$("$daemon" --version 2>/dev/null | awk '{ print $NF }')"
RELEASE=${RELEASE:-unknown}
export RELEASE

say "fetching Debian packages into $CACHE"
kernel_pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-amd64"
extract_pkg "$CACHE" "$WORK/kernel" "$MANIFEST" "$kernel_pkg"
for pkg in busybox-static libc6 libgcc-s1 e2fsprogs fdisk util-linux openntpd; do
    extract_pkg "$CACHE" "$WORK/sysroot" "$MANIFEST" "$pkg"
done
kver=$(basename "$(find "$WORK/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)")

say "kernel $kver: selecting modules"
select_modules "$WORK/kernel" "$kver" "$here/modules.list" "$WORK/modules"

say "staging the root file system"
stage_rootfs "$WORK/sysroot" "$kver" "$daemon" "$here/rootfs-overlay" "$WORK/modules" \
    "$WORK/rootfs" "$RELEASE"
cp "$WORK/kernel/boot/vmlinuz-$kver" "$WORK/rootfs/boot/vmlinuz"
make_initramfs "$WORK/sysroot" "$WORK/modules" "$here/initramfs/init" "$WORK/rootfs/boot/initramfs.img"

say "squashfs root (slot A)"
mksquashfs "$WORK/rootfs" "$WORK/images/rootfs.squashfs" -comp xz -all-root -noappend -quiet \
    > /dev/null
[ "$(stat -c %s "$WORK/images/rootfs.squashfs")" -le $((256 * 1024 * 1024)) ] ||
    die "the root file system is larger than its 256 MiB slot"

say "data partition (grown on first boot)"
mkdir -p "$WORK/data-skel/rmsc" "$WORK/data-skel/settings" "$WORK/data-skel/log"
# 4 KiB blocks: the default for a 64 MiB file system is 1 KiB, poor once grown to 64 GiB.
mke2fs -q -t ext4 -b 4096 -L data -i 65536 -d "$WORK/data-skel" "$WORK/images/data.ext4" 64M

say "boot loaders (UEFI + BIOS)"
make_esp_tree "$here/grub/grub.cfg" "$WORK/images"
make_bios_core "$WORK/images/bios-core.img"

say "disk (genimage)"
mkdir -p "$WORK/genimage-root" "$WORK/genimage-tmp"
genimage --config "$here/genimage.cfg" --rootpath "$WORK/genimage-root" \
    --tmppath "$WORK/genimage-tmp" --inputpath "$WORK/images" --outputpath "$WORK/images" \
    > "$WORK/genimage.log" 2>&1 || { cat "$WORK/genimage.log"; die "genimage failed"; }
install_bios_mbr "$WORK/images/disk.img"
cp --sparse=always "$WORK/images/disk.img" "$OUT/$NAME.raw"

make_formats "$OUT/$NAME.raw" "$OUT" "$NAME" "$here/ova/appliance.ovf.in"
rm -f "$OUT/$NAME.raw"

{
    echo "# RMS Connector Appliance $RELEASE, built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# kernel $kver; Debian packages (name version):"
    sort "$MANIFEST"
    echo "# rootfs.squashfs $(stat -c %s "$WORK/images/rootfs.squashfs") bytes"
    echo "# outputs (sha256):"
    (cd "$OUT" && sha256sum "$NAME".raw.xz "$NAME".qcow2 "$NAME".vhdx "$NAME".ova)
} > "$OUT/manifest.txt"
say "done in $(($(date +%s) - started)) s:"
ls -l "$OUT"/"$NAME".* >&2
