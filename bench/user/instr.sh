#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/user/instr.sh LFQ_BENCH BENCH_DIR: instructions per item moved
# through every queue in one thread (a push and its pop, as in the "st"
# workload), and through the deque's owner end and an array stack, counted by callgrind between lfq_bench's
# CALLGRIND_START_INSTRUMENTATION and STOP around the loop, so that setup
# is not counted, after an uninstrumented pass that warms a queue. The
# table goes to stdout and BENCH_DIR/instr.txt. Unlike timings, these
# counts are exact and repeatable.
set -euo pipefail

bin=$1
dir=$2
items=65536
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dir"

count() {	# KIND ELEM BURST: instructions per item
	local out=$tmp/cg.out ir args

	case $1 in
	w*)	# the deque and the array stack: 8-byte items, no burst
		[ "$2 $3" = "8 1" ] || { echo -; return 0; }
		args=(--instr-deque "${1#w}" "$items") ;;
	s*)	# the sequencer: 8-byte items
		[ "$2" = 8 ] || { echo -; return 0; }
		args=(--instr-seq "$3" "$items") ;;
	*)	args=(--instr "$1" 1024 "$2" "$3" "$items") ;;
	esac
	rm -f "$out"
	if ! valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
		"$bin" "${args[@]}" >"$tmp/log" 2>&1; then
		echo FAIL
		return 1
	fi
	ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")
	awk -v ir="$ir" -v n="$items" 'BEGIN { printf("%.1f", ir / n) }'
}

out() {
	printf "$@" | tee -a "$dir/instr.txt"
}

failed=0
: > "$dir/instr.txt"
out "lfq userspace: instructions per item moved in one thread (its push and its pop),\n"
out "callgrind, capacity 1024, %s items after a warm-up pass; lfq calls are real\n" "$items"
out "calls into liblfq (compiled with the same flags), rte_ring and ck_ring inline.\n"
out "burst 32: rte_ring and lfq vyukov native, lfq mpsc pops with peek_burst,\n"
out "others loop over single calls. The counts include the harness's work per item\n"
out "(making, summing and checking it), the same for every impl: the array ring is the floor.\n\n"
out "%-14s %12s %12s %12s %12s\n" impl "elem 8" "elem 8 b32" "elem 64" "elem 64 b32"
while read -r kind name; do
	row=()
	for cfg in "8 1" "8 32" "64 1" "64 32"; do
		# shellcheck disable=SC2086
		v=$(count "$kind" $cfg) || failed=1
		row+=("$v")
	done
	out "%-14s %12s %12s %12s %12s\n" "$name" "${row[@]}"
done < <("$bin" --list)
exit $failed
