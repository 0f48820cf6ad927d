#!/usr/bin/env bash
# Buildroot post-build: gives the target what image/build.sh gives the Debian-based root -
# the kernel and an initramfs in /boot (GRUB reads them from the squashfs slot) and the
# release name. Arguments: TARGET_DIR (Buildroot passes it first).
set -euo pipefail
target=$1
shared="$(dirname "$0")/../../../../image"

mkdir -p "$target/boot" "$target/data" "$target/var/empty" "$target/var/lib"
[ -e "$target/boot/bzImage" ] && mv "$target/boot/bzImage" "$target/boot/vmlinuz"
ln -sfn /run/openntpd "$target/var/lib/openntpd"
echo "${BR2_VERSION_FULL:-buildroot}" > "$target/etc/rmsc-release"

# The initramfs: the target's busybox and the shared init script.
initramfs=$(mktemp -d)
mkdir -p "$initramfs"/{bin,sbin,proc,sys,dev,newroot,lib}
cp "$target/bin/busybox" "$initramfs/bin/busybox"
for applet in $("$target/bin/busybox" --list-full 2>/dev/null || true); do
    ln -sf /bin/busybox "$initramfs/$applet" 2>/dev/null || true
done
# Buildroot's busybox is dynamically linked: bring its libraries along.
cp -a "$target/lib/." "$initramfs/lib/"
[ -d "$target/lib/modules" ] && cp -a "$target/lib/modules" "$initramfs/lib/"
install -m 0755 "$shared/initramfs/init" "$initramfs/init"
(cd "$initramfs" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    xz -9 --check=crc32 > "$target/boot/initramfs.img"
rm -rf "$initramfs"
