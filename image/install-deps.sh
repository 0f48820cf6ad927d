#!/usr/bin/env bash
# Installs what image/build.sh and image/test-boot.sh need on a fresh Debian 12 machine.
# The packages that go INTO the image (kernel, busybox-static, glibc, krb5 libraries, ...) are
# not installed here: build.sh fetches them with `apt-get download` into its cache.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update only when the lists are missing or older than a day, so re-runs are quick.
stamp=/var/lib/apt/periodic/update-success-stamp
lists_fresh=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)
if [ -z "$lists_fresh" ] && [ ! -e "$stamp" ]; then
    apt-get update -q
elif [ -z "$lists_fresh" ]; then
    apt-get update -q
fi

packages=(
    # booting the image in the test, and converting it to VM formats (qemu-utils below)
    qemu-system-x86 ovmf
    # boot loaders for UEFI and legacy BIOS, built with grub-mkimage (no grub-install)
    grub-efi-amd64-bin grub-pc-bin grub-common
    # file systems without mounting
    squashfs-tools mtools dosfstools e2fsprogs genimage
    # initramfs, module dependency lists, package extraction
    cpio kmod xz-utils zstd dpkg fdisk
    # checks: shell lint, OVF parse, HTTP from the host
    shellcheck libxml2-utils curl python3 openssl
)
# The machine image may carry a newer qemu-utils from backports that Breaks Debian 12's
# qemu-system-x86; pin qemu-utils to the same version as qemu-system-x86 (allowing the
# downgrade), so the pair installs on both a stock Debian 12 and this machine image.
qemu_version=$(apt-cache policy qemu-system-x86 | sed -n 's/^ *Candidate: *//p')
if [ -z "$qemu_version" ] || [ "$qemu_version" = "(none)" ]; then
    echo "install-deps.sh: no qemu-system-x86 candidate; is apt-get update done?" >&2
    exit 1
fi
apt-get install -y -q --no-install-recommends --allow-downgrades \
    "qemu-utils=$qemu_version" "${packages[@]}"
