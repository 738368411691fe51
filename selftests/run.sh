#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: show every ring moving items across the boundary (user->kernel,
# kernel->user, process<->process, and each ring's own cases), one line
# each with items/s and a verdict: selftests/demo/lfq_demo.c.
#
# By default in a VM booting Debian's kernel for the installed headers;
# with --host (make run HOST=1) on the running kernel, which must be able
# to load the modules built against KDIR (needs root).
set -euo pipefail

cd "$(dirname "$0")/.."
B=build
files=(lfq.ko selftests/kmod/lfq_test.ko "$B/static/tests/lfq_demo"
	selftests/demo/demo.sh)

if [ "${1:-}" = --host ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "lfq: make run HOST=1 loads modules: run it as root" >&2
		exit 1
	fi
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	cp "${files[@]}" "$dir"
	cd "$dir"
	exec sh ./demo.sh
fi

echo "lfq: booting the Debian kernel of $(basename "$KDIR") in QEMU (software emulation)"
exec bash selftests/vm/vm.sh -t 600 "$B/vm-run" selftests/demo/demo.sh "${files[@]}"
