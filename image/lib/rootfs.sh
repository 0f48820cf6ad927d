#!/usr/bin/env bash
# Stages the root file system and the initramfs from the extracted packages, the daemon
# binary and the shared overlay. Sourced by build.sh.
# shellcheck shell=bash

# link_applets ROOT: busybox provides the userland; one symlink per applet.
link_applets() {
    local root=$1 applet
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
    for applet in $("$root/bin/busybox" --list-full); do
        [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
    done
}

# stage_rootfs SYSROOT KVER DAEMON OVERLAY MODULES_ROOT ROOT RELEASE
stage_rootfs() {
    local sysroot=$1 kver=$2 daemon=$3 overlay=$4 modroot=$5 root=$6 release=$7 tool
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,run,tmp,data,boot,root,var/empty}
    cp "$sysroot/bin/busybox" "$root/bin/busybox"
    link_applets "$root"
    # Full e2fsprogs, sfdisk and partx replace busybox's reduced mke2fs/fdisk for the data partition.
    for tool in sbin/e2fsck sbin/resize2fs sbin/mke2fs sbin/sfdisk usr/bin/partx; do
        rm -f "$root/sbin/${tool##*/}" "$root/usr/bin/${tool##*/}" "$root/bin/${tool##*/}"
        cp "$sysroot/$tool" "$root/sbin/${tool##*/}"
    done
    cp "$sysroot/etc/mke2fs.conf" "$root/etc/mke2fs.conf"
    cp "$sysroot/usr/sbin/ntpd" "$root/usr/sbin/ntpd"
    # openntpd keeps its drift file and control socket here; the root is read-only.
    mkdir -p "$root/var/lib"
    ln -s /run/openntpd "$root/var/lib/openntpd"
    ln -s /data/log "$root/var/log"
    install -m 0755 "$daemon" "$root/usr/bin/rmsconnector"
    copy_lib_closure "$CACHE" "$sysroot" "$MANIFEST" "$root" \
        "$root/usr/bin/rmsconnector" "$root/usr/sbin/ntpd" "$root"/sbin/{e2fsck,resize2fs,mke2fs,sfdisk,partx}
    # MIT krb5 loads plugins at run time when the daemon links it.
    if [ -d "$sysroot/usr/lib/x86_64-linux-gnu/krb5" ] && objdump -p "$daemon" | grep -q krb5; then
        mkdir -p "$root/usr/lib/x86_64-linux-gnu"
        cp -a "$sysroot/usr/lib/x86_64-linux-gnu/krb5" "$root/usr/lib/x86_64-linux-gnu/"
    fi
    cp -a "$modroot/lib/modules" "$root/lib/"
    cp -a "$overlay/." "$root/"
    echo "$release" > "$root/etc/rmsc-release"
    chmod 0600 "$root/etc/shadow"
    # Nothing may be writable at run time; the scripts must be executable for init.
    chmod -R go-w "$root"
    echo "$kver" > "$root/boot/kernel-release"
}

# make_initramfs SYSROOT MODULES_ROOT INIT OUT: busybox, the modules, the init script.
make_initramfs() {
    local sysroot=$1 modroot=$2 init=$3 out=$4 dir
    dir=$(mktemp -d)
    mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,newroot,lib}
    cp "$sysroot/bin/busybox" "$dir/bin/busybox"
    link_applets "$dir"
    cp -a "$modroot/lib/modules" "$dir/lib/"
    install -m 0755 "$init" "$dir/init"
    # The kernel's xz decoder only accepts CRC32 checks.
    (cd "$dir" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        xz -9 --check=crc32 > "$out"
    rm -rf "$dir"
}
