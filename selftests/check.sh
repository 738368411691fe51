#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: run every test step, count TAP results, print one summary.
#
# Steps: the userspace tests natively, under ThreadSanitizer and under
# ASan+UBSan; the spin models; the VM (lfq.ko, the peer module's KTAP,
# the /dev/lfq kselftests and stress, the console scan). Each step's output
# is kept in build/results/<step>.log. A step's result lines are the TAP
# lines at column 0 ("ok N ...", "not ok N ...", "... # SKIP"); a step that
# exits nonzero without reporting a failure, or reports nothing at all,
# counts as one failure, so a crash or a silent binary cannot pass.
#
# The last line is "N passed, N failed, N skipped"; the exit status is 1 if
# anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
B=build
R=$B/results
rm -rf "$R"
mkdir -p "$R"

total_pass=0 total_fail=0 total_skip=0

# step NAME COMMAND...: run it, log it, count its TAP lines.
step() {
	local name=$1 log rc pass fail skip start secs
	shift
	log=$R/${name//\//_}.log
	start=$SECONDS
	printf '  %-32s ' "$name"
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$((SECONDS - start))
	pass=$(grep -cE "^ok [0-9]+" "$log")
	skip=$(grep -E '^ok [0-9]+' "$log" | grep -ciE '# *SKIP')
	pass=$((pass - skip))
	fail=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		fail=1
	elif [ $((pass + fail + skip)) -eq 0 ]; then
		echo "not ok - $name reported no test" >>"$log"
		fail=1
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	if [ "$fail" -eq 0 ]; then
		printf 'PASS  %4d passed, %d skipped (%ds)\n' "$pass" "$skip" "$secs"
	else
		printf 'FAIL  %4d passed, %d failed, %d skipped (%ds), see %s\n' \
			"$pass" "$fail" "$skip" "$secs" "$log"
		grep -E '^not ok' "$log" | sed 's/^/        /' | head -n 20
		# the sanitizer or harness report right before a failure helps most
		grep -E 'WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error:|^vm: ' \
			"$log" | sed 's/^/        /' | head -n 10
	fi
}

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1 abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"

echo "lfq: userspace tests (native, ThreadSanitizer, ASan+UBSan)"
for variant in native tsan asan; do
	for t in "$B/$variant/tests"/*; do
		[ -x "$t" ] || continue
		# TSan needs the classic address-space layout on kernels with
		# high mmap randomisation; setarch -R gives it.
		if [ "$variant" = tsan ]; then
			step "$variant/$(basename "$t")" setarch "$(uname -m)" -R "$t"
		else
			step "$variant/$(basename "$t")" "$t"
		fi
	done
done

echo "lfq: spin models"
step model bash selftests/model/check.sh

echo "lfq: VM (Debian kernel in QEMU, panic_on_warn)"
step vm bash selftests/vm/vm.sh -t 1500 "$B/vm-check" selftests/dev/vm-check.sh \
	lfq.ko selftests/kmod/lfq_test.ko "$B"/static/tests/*

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
