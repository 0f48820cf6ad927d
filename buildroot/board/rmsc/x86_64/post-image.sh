#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Buildroot post-image: the same disk as image/build.sh - GRUB for UEFI and BIOS, the
# shared genimage layout, then the same VM formats. Arguments: BINARIES_DIR.
set -euo pipefail
images=$1
shared="$(cd "$(dirname "$0")/../../../../image" && pwd)"
# shellcheck source=../../../../image/lib/common.sh
. "$shared/lib/common.sh"
# shellcheck source=../../../../image/lib/boot.sh
. "$shared/lib/boot.sh"
# shellcheck source=../../../../image/lib/formats.sh
. "$shared/lib/formats.sh"
export PATH="$HOST_DIR/bin:$HOST_DIR/sbin:$PATH"

# Buildroot names the squashfs rootfs.squashfs already; the data partition starts empty.
mkdir -p "$images/data-skel/rmsc" "$images/data-skel/settings" "$images/data-skel/log"
rm -f "$images/data.ext4"
mke2fs -q -t ext4 -b 4096 -L data -i 65536 -d "$images/data-skel" "$images/data.ext4" 64M
make_esp_tree "$shared/grub/grub.cfg" "$images"
make_bios_core "$images/bios-core.img"
rm -rf "$images/genimage.tmp"
genimage --config "$shared/genimage.cfg" --rootpath "$TARGET_DIR" \
    --tmppath "$images/genimage.tmp" --inputpath "$images" --outputpath "$images"
install_bios_mbr "$images/disk.img"
RELEASE=$(cat "$TARGET_DIR/etc/rmsc-release")
export RELEASE
make_formats "$images/disk.img" "$images" rmsc-appliance "$shared/ova/appliance.ovf.in"
