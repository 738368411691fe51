#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for make check (selftests/vm/vm.sh copies it to
# /lfq/test.sh beside lfq.ko, lfq_test.ko and the static test programs).
# Every line of result is TAP at column 0; the exit status is nonzero if
# anything failed.

n=0
failed=0
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}
run() {
	"$@"
	rc=$?
	[ $rc -eq 0 ] || failed=1
}

insmod ./lfq.ko
tap $? "insmod lfq.ko"
[ -c /dev/lfq ]
tap $? "/dev/lfq exists"

# The peer's in-kernel tests and kthread stress run at load and print
# KTAP; a failed check fails the load.
insmod ./lfq_test.ko
rc=$?
dmesg | sed -n 's/^\[[^]]*\] lfq_test: //p' | grep -E '^(not )?ok [0-9]+ '
tap $rc "insmod lfq_test.ko: in-kernel API tests and kthread stress"

run ./lfq_dev_test
if [ -x ./vyukov_stress ]; then
	# the same stress body on /dev/lfq rings (TCG is slow: a tenth of the items)
	LFQ_TEST_BACKENDS=dev LFQ_STRESS_SCALE=0.1 run ./vyukov_stress
fi

# rmmod is refused while a ring fd is open, and works once it is closed.
rmmod lfq_test
tap $? "rmmod lfq_test"
./lfq_dev_test hold /tmp/holding &
holder=$!
i=0
while [ ! -e /tmp/holding ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
rmmod lfq 2>/dev/null
[ $? -ne 0 ] && grep -q '^lfq ' /proc/modules
tap $? "rmmod lfq refused while a ring fd is open"
kill $holder
wait $holder 2>/dev/null
rmmod lfq
tap $? "rmmod lfq once the last ring fd is closed"

exit $failed
