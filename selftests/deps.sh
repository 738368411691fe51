#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/deps.sh GROUP...: make sure the Debian packages a step needs are
# installed. As root, install the missing ones from Debian's archive;
# otherwise print the one apt-get line to run and fail. Quiet when nothing
# is missing.
#
#   build    compiler, libc headers, kselftest headers (linux-source)
#   modules  the headers of Debian's current kernel
#   vm       QEMU, busybox, cpio: the VM runner
#   model    spin
set -euo pipefail

pkgs_for() {
	case "$1" in
	build)		echo gcc make libc6-dev xz-utils linux-source-6.1 ;;
	modules)	echo gcc make kmod linux-headers-amd64 ;;
	vm)		echo qemu-system-x86 busybox-static cpio gzip xz-utils ;;
	model)		echo spin gcc ;;
	*)		echo "deps.sh: unknown group '$1'" >&2; exit 2 ;;
	esac
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for group in "$@"; do
	for pkg in $(pkgs_for "$group"); do
		installed "$pkg" || missing+=("$pkg")
	done
done
[ ${#missing[@]} -eq 0 ] && exit 0
# one line per package, once
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
	echo "lfq: missing packages; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "lfq: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
