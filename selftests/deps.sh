#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/deps.sh GROUP...: make sure the Debian 12 packages a step needs
# are installed. As root, install the missing ones from Debian's archive;
# otherwise print the one apt-get line to run and fail. Quiet when nothing
# is missing.
#
#   build    compiler, libc headers and static libc, pkg-config; the
#            kselftest headers (from linux-source) for tests and lfq_test.ko
#   modules  the headers of Debian's current kernel (linux-headers-amd64
#            pulls the newest linux-headers-*-amd64), kmod
#   vm       QEMU, busybox, cpio: the VM runner
#   model    spin (and gcc, which compiles its verifiers)
#   bench    the peers of the benchmarks (DPDK's rte_ring, Concurrency
#            Kit's ck_ring), gnuplot for the plots, valgrind for the
#            instruction counts
set -euo pipefail

declare -A pkgs=(
	[build]="gcc make libc6-dev pkg-config xz-utils linux-source-6.1"
	[modules]="gcc make linux-headers-amd64 kmod"
	[vm]="qemu-system-x86 busybox-static cpio"
	[model]="spin gcc"
	[bench]="gcc make pkg-config libdpdk-dev libck-dev gnuplot-nox valgrind"
)

[ $# -gt 0 ] || { echo "usage: $0 {${!pkgs[*]}}..." >&2; exit 2; }

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for group in "$@"; do
	[ -n "${pkgs[$group]:-}" ] ||
		{ echo "deps.sh: unknown group '$group' (${!pkgs[*]})" >&2; exit 2; }
	for pkg in ${pkgs[$group]}; do
		installed "$pkg" || missing+=("$pkg")
	done
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
	echo "lfq: missing packages; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "lfq: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Without recommends: qemu-system-x86 would pull a GUI, linux-source a
# toolchain. Its firmware (seabios, ipxe-qemu, qemu-system-data) are
# hard dependencies and still come.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
