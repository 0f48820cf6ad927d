#!/usr/bin/env bash
# Helpers shared by the host-side image scripts. Sourced, never run.
# shellcheck shell=bash

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" > /dev/null || die "$tool is missing: run image/install-deps.sh"
    done
}
