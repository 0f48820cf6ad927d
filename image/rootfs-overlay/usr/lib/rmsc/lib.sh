#!/bin/sh
# Shared helpers of the appliance's init scripts (busybox ash). Sourced, never run.
# shellcheck shell=sh

# shellcheck disable=SC2034 # used by the scripts that source this file
SETTINGS=/data/settings
# shellcheck disable=SC2034
DATA_DIR=/data/rmsc
# The daemon's configuration in force: the seed's override when there is one.
# shellcheck disable=SC2034
ACTIVE_CONFIG=/run/rmsc-config.toml

log() {
    # Both the console (so a person watching the boot sees it) and syslog (kept on /data).
    echo "rmsc: $*" > /dev/console 2>/dev/null
    logger -t rmsc-init "$*" 2>/dev/null || true
}

# Prints /dev/NAME of the partition whose GPT label is $1 (PARTNAME in the kernel's uevent);
# labels rather than numbers keep the scripts independent of the disk's driver and order.
part_by_label() {
    for uevent in /sys/class/block/*/uevent; do
        if grep -qx "PARTNAME=$1" "$uevent" 2>/dev/null; then
            dev=${uevent%/uevent}
            echo "/dev/${dev##*/}"
            return 0
        fi
    done
    return 1
}

# Prints the disk that holds partition /dev/$1 and its partition number, e.g. "/dev/vda 5".
disk_of_part() {
    name=${1#/dev/}
    parent=$(readlink -f "/sys/class/block/$name/..")
    echo "/dev/${parent##*/} $(cat "/sys/class/block/$name/partition")"
}

# Reads KEY=VALUE settings (the format the console and the admin API write) with defaults
# from the root file system; values are taken literally, never executed.
network_setting() {
    key=$1
    for file in "$SETTINGS/network.env" /etc/rmsc/network.env; do
        [ -r "$file" ] || continue
        line=$(grep -E "^$key=" "$file" | tail -n 1)
        if [ -n "$line" ]; then
            value=${line#*=}
            value=${value#\"}
            value=${value%\"}
            echo "$value"
            return 0
        fi
    done
    echo ""
}

# Sets the host name and the 127.0.1.1 line of /run/hosts (rcS writes the first version).
apply_hostname() {
    hostname "$1"
    echo "$1" > /run/hostname
    {
        cat /etc/hosts.base
        [ -r "$SETTINGS/hosts" ] && cat "$SETTINGS/hosts"
        printf '127.0.1.1\t%s\n' "$1"
    } > /run/hosts.new && mv /run/hosts.new /run/hosts
}

first_nic() {
    for path in /sys/class/net/*; do
        nic=${path##*/}
        [ "$nic" = lo ] && continue
        [ -e "$path/device" ] || continue
        echo "$nic"
        return 0
    done
    return 1
}

ipv4_address() {
    nic=$(first_nic) || return 1
    ip -4 -o addr show dev "$nic" 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
}
