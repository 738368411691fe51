#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel benchmark, run inside the VM: selftests/vm/vm.sh copies this
# script to /lfq/test.sh beside lfq.ko, lfq_test.ko, lfq_bench.ko and
# xbench. Prints what bench/kernel/table.awk reads:
#
#   # ...        a note or progress line (run.sh sends these to stderr)
#   rep|...      one run (lfq_bench.ko and xbench print the same fields)
#
# The sizes come from ./params, if run.sh put one there (shell
# assignments: reps=5 items=200000 xitems=20000).
#
# Exits 1 if anything failed to load or any run failed.

failed=0
reps=5 items=200000 xitems=20000
[ -r ./params ] && . ./params

echo "# vm: $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, clocksource" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"

insmod ./lfq.ko || { echo "# insmod lfq.ko failed"; exit 1; }
insmod ./lfq_test.ko stress=0 || { echo "# insmod lfq_test.ko failed"; exit 1; }

# One load per workload group (group=G): insmod runs it in the foreground
# and returns when its cases are done, with nothing else running in the
# VM meanwhile; the log is relayed after each load (dmesg -c hands over
# each line once), so progress comes a group at a time. The module's
# last line, "done: group G/NG: R runs, F failed", says how many groups
# there are and whether any run of this one failed.
g=1 ng=1 runs=0 fails=0 num='\([0-9]*\)'
while [ "$g" -le "$ng" ]; do
	dmesg -c >/dev/null
	if ! insmod ./lfq_bench.ko group="$g" reps="$reps" items="$items"; then
		echo "# insmod lfq_bench.ko group=$g failed"
		failed=1
		break
	fi
	dmesg -c | sed -n 's/^\[[^]]*\] lfq_bench: //p' >/tmp/group.log
	rmmod lfq_bench
	sed -e 's/^\[/# [/' -e 's/^FAIL/# FAIL/' -e 's/^done:/# [done]/' /tmp/group.log
	set -- $(sed -n "s|^done: group $num/$num: $num runs, $num failed\$|\\2 \\3 \\4|p" \
		/tmp/group.log)
	if [ $# -ne 3 ]; then
		echo "# lfq_bench.ko group=$g: no done line"
		failed=1
		break
	fi
	ng=$1 runs=$((runs + $2)) fails=$((fails + $3))
	g=$((g + 1))
done
echo "# lfq_bench.ko: $runs runs, $fails failed"
[ "$fails" -eq 0 ] || failed=1

# xbench counts syscalls on the raw_syscalls:sys_enter tracepoint.
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
./xbench -r "$reps" -n "$xitems" || failed=1

rmmod lfq_test
rmmod lfq
exit $failed
