#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/user/machine.sh: what the numbers of a benchmark run were taken on,
# for BENCH_DIR/machine.txt.
set -uo pipefail

pkgver() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}

echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:       $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "cpus:      $(nproc) online of $(nproc --all)"
echo "kernel:    $(uname -srm)"
echo "compiler:  $(${CC:-cc} --version | head -n 1)"
echo "libdpdk:   $(pkgver libdpdk-dev)"
echo "libck:     $(pkgver libck-dev)"
echo "valgrind:  $(pkgver valgrind)"
echo "lfq:       $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null ||
	echo "unknown (not a git checkout)")"
echo "virt:      $(systemd-detect-virt 2>/dev/null || echo unknown)"
