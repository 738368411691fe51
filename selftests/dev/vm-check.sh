#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module tests of make check, run inside the VM: selftests/vm/vm.sh
# copies this script to /lfq/test.sh beside lfq.ko, lfq_test.ko and the
# static test programs, and fails the run on any oops or warning on the
# console.
#
#   1. insmod lfq.ko
#   2. insmod lfq_test.ko: its in-kernel tests and kthread stress print KTAP
#      (copied here from dmesg) and fail the load on any failure; if they
#      do, the peer is loaded again with the stress skipped so that the
#      tests below still run
#   3. lfq_dev_test: the /dev/lfq and peer kselftests
#   4. turn_dev_test: the turn ring's kselftests (claim records, repairs,
#      kill -9 of participants, LFQ_IOC_WAIT, scribblers)
#   5. mpsc_dev_test: the MPSC log ring's kselftests (kernel threads,
#      timer, hrtimer and NMI logging to a user consumer in epoll, the
#      policies, kill -9 of participants, corrupt rings, forged claims)
#   6. seq_dev_test: the sequencer's kselftests (consumer processes with
#      barriers of their own, kthread producers, consumers and pipeline
#      stages, kill -9 of consumers, poll, garbage barriers, scribblers)
#   7. wsdeque_dev_test: the deque's kselftests (kernel thieves beside
#      user thieves stealing from a user owner, exactly once between
#      them; a dead owner's items; garbage top and bottom)
#   8. vyukov_stress, turn_stress, mpsc_stress, seq_stress and
#      wsdeque_stress on the /dev/lfq backend
#   9. two turn_dev_test modes that single-step or kill a participant at
#      an exact instant: a claim record never names a ticket its owner
#      does not hold, and a sleeper killed in LFQ_IOC_WAIT is uncounted
#  10. rmmod: refused while a job fd, a ring fd, a ring mapping or a ring
#      with a repair pending is open, done once they are gone
#
# Every result is a TAP line at column 0; the exit status is 1 if anything
# failed.

n=0
failed=0

# tap STATUS DESCRIPTION
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

# The KTAP of the last load of lfq_test (busybox insmod retries a failed
# finit_module with init_module, so a failed load prints it twice).
peer_ktap() {
	dmesg | sed -n 's/^\[[^]]*\] lfq_test: //p' |
		awk '/^KTAP version/ { n = 0 } { line[n++] = $0 }
		     END { for (i = 0; i < n; i++) print line[i] }'
}

# hold MODE [PROGRAM]: start "PROGRAM MODE" (lfq_dev_test), wait until it
# holds what it holds.
hold() {
	rm -f /tmp/held
	./"${2:-lfq_dev_test}" "$1" /tmp/held &
	holder=$!
	i=0
	while [ ! -e /tmp/held ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e /tmp/held ]
}

unhold() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

# refused MODULE: rmmod fails and the module is still there.
refused() {
	! rmmod "$1" 2>/dev/null && grep -q "^$1 " /proc/modules
}

start=$(date +%s)

insmod ./lfq.ko
tap $? "insmod lfq.ko"
[ -c /dev/lfq ]
tap $? "/dev/lfq is a character device"

t0=$(date +%s)
insmod ./lfq_test.ko
rc=$?
peer_ktap
tap $rc "insmod lfq_test.ko: in-kernel API tests and kthread stress ($(($(date +%s) - t0))s)"
if [ $rc -ne 0 ]; then
	insmod ./lfq_test.ko stress=0
	tap $? "insmod lfq_test.ko stress=0 (for the tests below)"
fi
[ -c /dev/lfq_test ]
tap $? "/dev/lfq_test is a character device"

t0=$(date +%s)
./lfq_dev_test
tap $? "lfq_dev_test: all kselftests passed ($(($(date +%s) - t0))s)"

if [ -x ./turn_dev_test ]; then
	t0=$(date +%s)
	./turn_dev_test
	tap $? "turn_dev_test: all kselftests passed ($(($(date +%s) - t0))s)"
fi

if [ -x ./mpsc_dev_test ]; then
	t0=$(date +%s)
	./mpsc_dev_test
	tap $? "mpsc_dev_test: all kselftests passed ($(($(date +%s) - t0))s)"
fi

if [ -x ./seq_dev_test ]; then
	t0=$(date +%s)
	./seq_dev_test
	tap $? "seq_dev_test: all kselftests passed ($(($(date +%s) - t0))s)"
fi

if [ -x ./wsdeque_dev_test ]; then
	t0=$(date +%s)
	./wsdeque_dev_test
	tap $? "wsdeque_dev_test: all kselftests passed ($(($(date +%s) - t0))s)"
fi

# the same stress bodies on /dev/lfq rings (TCG is slow: a tenth of the items)
for ring in vyukov turn mpsc seq wsdeque; do
	[ -x ./${ring}_stress ] || continue
	t0=$(date +%s)
	LFQ_TEST_BACKENDS=dev LFQ_STRESS_SCALE=0.1 ./${ring}_stress
	tap $? "${ring}_stress on /dev/lfq rings ($(($(date +%s) - t0))s)"
done

if [ -x ./turn_dev_test ]; then
	./turn_dev_test claim-window
	tap $? "turn: a claim record, single-stepped through a push, never names a ticket its owner does not hold"
	./turn_dev_test waiters-leak
	tap $? "a participant killed asleep in LFQ_IOC_WAIT is taken off the need-wakeup count"
fi

# A job fd pins lfq_test; ring fds and mappings pin lfq.
if hold hold-job; then
	refused lfq_test
	tap $? "rmmod lfq_test refused while a job fd is open"
else
	tap 1 "lfq_dev_test hold-job"
fi
unhold
rmmod lfq_test
tap $? "rmmod lfq_test once the job fd is closed"

for mode in hold hold-map hold-repair; do
	what="ring fd" prog=lfq_dev_test
	[ $mode = hold-map ] && what="ring mapping (its fd closed)"
	if [ $mode = hold-repair ]; then
		[ -x ./turn_dev_test ] || continue
		what="turn ring with a repair pending" prog=turn_dev_test
	fi
	if hold $mode $prog; then
		refused lfq
		tap $? "rmmod lfq refused while a $what is open"
	else
		tap 1 "$prog $mode"
	fi
	unhold
done
rmmod lfq
tap $? "rmmod lfq once the last ring is gone"
[ ! -e /dev/lfq ]
tap $? "/dev/lfq is gone"

echo "# vm-check: $n checks, $(($(date +%s) - start))s"
exit $failed
