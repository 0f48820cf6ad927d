#!/usr/bin/env bash
# The deliverables made from the raw disk: compressed raw, qcow2, OVA, VHDX. VM formats are
# 64 GiB sparse disks; the appliance grows its data partition into the space on first boot.
# Sourced by build.sh.
# shellcheck shell=bash

VM_DISK_GIB=64

# make_formats RAW OUTDIR NAME OVF_TEMPLATE
make_formats() {
    local raw=$1 out=$2 name=$3 template=$4 vmdk ovf sha_vmdk sha_ovf
    say "raw.xz"
    xz -T2 -6 -c "$raw" > "$out/$name.raw.xz"
    say "qcow2"
    qemu-img convert -f raw -O qcow2 -c "$raw" "$out/$name.qcow2"
    qemu-img resize -q "$out/$name.qcow2" "${VM_DISK_GIB}G"
    say "vhdx (Hyper-V Gen 2)"
    qemu-img convert -f qcow2 -O vhdx -o subformat=dynamic "$out/$name.qcow2" "$out/$name.vhdx"
    say "ova (stream-optimized vmdk + ovf + manifest)"
    vmdk="$name-disk1.vmdk"
    ovf="$name.ovf"
    qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic \
        "$out/$name.qcow2" "$out/$vmdk"
    sed -e "s/@NAME@/$name/g" -e "s/@VMDK@/$vmdk/g" \
        -e "s/@VMDK_SIZE@/$(stat -c %s "$out/$vmdk")/g" \
        -e "s/@DISK_GIB@/$VM_DISK_GIB/g" \
        -e "s/@VERSION@/$RELEASE/g" "$template" > "$out/$ovf"
    sha_ovf=$(sha256sum "$out/$ovf" | cut -d' ' -f1)
    sha_vmdk=$(sha256sum "$out/$vmdk" | cut -d' ' -f1)
    printf 'SHA256(%s)= %s\nSHA256(%s)= %s\n' "$ovf" "$sha_ovf" "$vmdk" "$sha_vmdk" > "$out/$name.mf"
    # The OVF must come first in the archive, then the disk, then the manifest.
    (cd "$out" && tar --format=ustar -cf "$name.ova" "$ovf" "$vmdk" "$name.mf")
}
