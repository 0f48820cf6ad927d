#!/usr/bin/env bash
# GRUB for UEFI and legacy BIOS from one GPT disk, made with grub-mkimage (no grub-install,
# no loop devices, no root). Sourced by build.sh; also used by the Buildroot post-image step.
# shellcheck shell=bash

GRUB_MODULES=(part_gpt fat ext2 squash4 normal linux boot loadenv regexp test echo
    configfile serial terminal search)
# Where genimage.cfg puts the BIOS boot partition: 1 MiB = sector 2048.
BIOS_CORE_LBA=2048

# make_esp_tree GRUBCFG DIR: DIR/EFI/BOOT with BOOTX64.EFI, grub.cfg and grubenv.
make_esp_tree() {
    local cfg=$1 dir=$2
    mkdir -p "$dir/EFI/BOOT"
    grub-mkimage -O x86_64-efi -o "$dir/EFI/BOOT/BOOTX64.EFI" -p /EFI/BOOT \
        "${GRUB_MODULES[@]}" efi_gop
    cp "$cfg" "$dir/EFI/BOOT/grub.cfg"
    grub-editenv "$dir/EFI/BOOT/grubenv" create
    grub-editenv "$dir/EFI/BOOT/grubenv" set RMSC_SLOT=A
}

# le64 N: N as 8 little-endian bytes (printf escapes), for patching sector pointers.
le64() {
    local n=$1 i out=""
    for i in 0 1 2 3 4 5 6 7; do
        out+=$(printf '\\x%02x' $(((n >> (8 * i)) & 255)))
    done
    printf '%s' "$out"
}

# make_bios_core OUT: core.img whose first sector (diskboot) loads the rest from
# BIOS_CORE_LBA+1 - what grub-install's blocklist would have said.
make_bios_core() {
    local out=$1
    grub-mkimage -O i386-pc -o "$out" -p '(hd0,gpt2)/EFI/BOOT' biosdisk "${GRUB_MODULES[@]}"
    # shellcheck disable=SC2059 # the format is the escaped bytes
    printf "$(le64 $((BIOS_CORE_LBA + 1)))" |
        dd of="$out" bs=1 seek=$((0x1f4)) conv=notrunc status=none
    [ "$(stat -c %s "$out")" -le $((1024 * 1024)) ] || die "core.img is larger than its partition"
}

# install_bios_mbr DISK: GRUB's boot.img code (440 bytes, leaving the protective MBR's
# partition table alone) pointing at core.img's first sector.
install_bios_mbr() {
    local disk=$1 boot tmp
    boot=/usr/lib/grub/i386-pc/boot.img
    tmp=$(mktemp)
    cp "$boot" "$tmp"
    # shellcheck disable=SC2059
    printf "$(le64 "$BIOS_CORE_LBA")" | dd of="$tmp" bs=1 seek=$((0x5c)) conv=notrunc status=none
    dd if="$tmp" of="$disk" bs=440 count=1 conv=notrunc status=none
    rm -f "$tmp"
}
