#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make run: load lfq.ko and its peer (stress skipped: this is a demo, not
# the test suite), then move items across the boundary.
set -e
insmod ./lfq.ko
insmod ./lfq_test.ko stress=0
echo "lfq.ko loaded: /dev/lfq, kernel peer lfq_test.ko: /dev/lfq_test"
grep -q hypervisor /proc/cpuinfo &&
	echo "(in a VM: under QEMU software emulation absolute rates are far below native)"
./lfq_demo "${LFQ_DEMO_ITEMS:-200000}"
