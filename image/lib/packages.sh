#!/usr/bin/env bash
# Debian binary packages for the image: downloaded with apt-get into a cache (nothing is
# installed on the build host), extracted with dpkg-deb into one staging tree, every exact
# version recorded. Sourced by build.sh.
# shellcheck shell=bash

# fetch_deb CACHE PKG: prints the path of PKG's candidate .deb, downloading it if needed.
fetch_deb() {
    local cache=$1 pkg=$2 version file
    version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
    if [ -z "$version" ] || [ "$version" = "(none)" ]; then
        die "no Debian package $pkg (apt-get update?)"
    fi
    file=$(find "$cache" -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" | head -n 1)
    if [ -z "$file" ]; then
        (cd "$cache" && apt-get download -q "$pkg=$version" > /dev/null 2>&1) ||
            die "apt-get download $pkg=$version failed"
        file=$(find "$cache" -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" | head -n 1)
    fi
    [ -n "$file" ] || die "downloaded $pkg but cannot find its .deb"
    echo "$file"
}

# extract_pkg CACHE SYSROOT MANIFEST PKG: unpacks PKG into SYSROOT once and records it.
extract_pkg() {
    local cache=$1 sysroot=$2 manifest=$3 pkg=$4 deb
    grep -q "^$pkg " "$manifest" 2>/dev/null && return 0
    deb=$(fetch_deb "$cache" "$pkg")
    dpkg-deb -x "$deb" "$sysroot"
    printf '%s %s\n' "$pkg" "$(dpkg-deb -f "$deb" Version)" >> "$manifest"
}

# find_lib SYSROOT SONAME: prints the library's path inside SYSROOT, if it is there.
find_lib() {
    local sysroot=$1 soname=$2 dir
    for dir in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 usr/lib; do
        if [ -e "$sysroot/$dir/$soname" ]; then
            echo "$sysroot/$dir/$soname"
            return 0
        fi
    done
    return 1
}

# copy_lib_closure CACHE SYSROOT MANIFEST DEST ELF...: copies every shared library the ELF
# files need (recursively) from SYSROOT to DEST/lib/x86_64-linux-gnu. A library missing from
# SYSROOT is looked up in the build host's package database (the binary was linked against
# it there) and that package is fetched, so new dependencies of the daemon (MIT krb5's
# libgssapi_krb5) come along without editing a list.
copy_lib_closure() {
    local cache=$1 sysroot=$2 manifest=$3 dest=$4
    shift 4
    local -a queue=("$@")
    local -A seen=()
    local elf soname path pkg
    mkdir -p "$dest/lib/x86_64-linux-gnu" "$dest/lib64"
    while [ "${#queue[@]}" -gt 0 ]; do
        elf=${queue[0]}
        queue=("${queue[@]:1}")
        while read -r soname; do
            [ -n "$soname" ] || continue
            [ -n "${seen[$soname]:-}" ] && continue
            seen[$soname]=1
            if ! path=$(find_lib "$sysroot" "$soname"); then
                pkg=$(dpkg -S "$soname" 2>/dev/null | grep -E "x86_64-linux-gnu/$soname\$" |
                    head -n 1 | cut -d: -f1)
                [ -n "$pkg" ] || die "$soname (needed by ${elf##*/}) belongs to no known package"
                extract_pkg "$cache" "$sysroot" "$manifest" "$pkg"
                path=$(find_lib "$sysroot" "$soname") || die "$pkg does not provide $soname"
            fi
            cp -L "$path" "$dest/lib/x86_64-linux-gnu/$soname"
            queue+=("$dest/lib/x86_64-linux-gnu/$soname")
        done < <(objdump -p "$elf" | awk '$1 == "NEEDED" { print $2 }')
    done
    # The dynamic loader is named by path (PT_INTERP), not by NEEDED.
    cp -L "$(find_lib "$sysroot" ld-linux-x86-64.so.2)" "$dest/lib/x86_64-linux-gnu/"
    ln -sf ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$dest/lib64/ld-linux-x86-64.so.2"
}

# select_modules KROOT KVER LIST DEST: copies the listed kernel modules and everything they
# depend on from the extracted kernel package KROOT into DEST, then indexes them (depmod).
select_modules() {
    local kroot=$1 kver=$2 list=$3 dest=$4 name line file
    depmod -b "$kroot" "$kver"
    mkdir -p "$dest/lib/modules/$kver"
    # shellcheck disable=SC2013 # the list is words (module names), several to a line
    for name in $(sed 's/#.*//' "$list"); do
        line=$(modprobe --show-depends -d "$kroot" -S "$kver" "$name" 2>&1) ||
            die "kernel module $name: $line"
        while read -r kind file _; do
            [ "$kind" = insmod ] || continue
            mkdir -p "$dest/$(dirname "${file#"$kroot"}")"
            cp "$file" "$dest/${file#"$kroot"}"
        done <<< "$line"
    done
    cp "$kroot/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$dest/lib/modules/$kver/"
    depmod -b "$dest" "$kver"
}
