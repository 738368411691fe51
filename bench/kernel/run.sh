#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/kernel/run.sh OUTDIR: the kernel benchmark (make bench-kernel).
# Boots the VM (selftests/vm/vm.sh) with lfq.ko, lfq_test.ko,
# lfq_bench.ko and xbench, runs bench/kernel/vm-bench.sh there, sends its
# progress lines to stderr, and writes OUTDIR/kernel.txt, kernel.csv and
# kernel-syscalls.csv (bench/kernel/table.awk), kernel.png (if gnuplot is
# installed) and kernel-raw.txt (every run). The VM's console log stays
# in OUTDIR/kernel-vm/.
#
# Sizes (environment): BENCH_REPS (5), BENCH_KERNEL_ITEMS (items per
# producer and run of lfq_bench.ko, 200000), BENCH_XITEMS (items per run
# of xbench, 20000). XBENCH: the static xbench binary.
#
# Exits non-zero if the VM failed or any run failed; the tables are
# written either way, with the failed runs marked FAIL.
set -uo pipefail

out=${1:?usage: $0 OUTDIR}
here=$(dirname "$0")
mkdir -p "$out/kernel-vm"
params=$out/kernel-vm/params
echo "reps=${BENCH_REPS:-5} items=${BENCH_KERNEL_ITEMS:-200000}" \
	"xitems=${BENCH_XITEMS:-20000}" >"$params"

start=$SECONDS
# TCG boots in seconds; the runs are sized to take a few minutes.
bash selftests/vm/vm.sh -t 900 "$out/kernel-vm" "$here/vm-bench.sh" \
	lfq.ko selftests/kmod/lfq_test.ko bench/kernel/lfq_bench.ko \
	"${XBENCH:?}" "$params" |
	awk '/^rep\|/ { print; fflush(); next }
	     # progress, and with V=1 the console and vm.sh markers: stderr only
	     /^# \[/ || /^<[0-9]+>\[/ || /^LFQ-VM-/ {
		print > "/dev/stderr"; fflush("/dev/stderr"); next }
	     { if (!/^# /) $0 = "# " $0
	       print; print > "/dev/stderr"; fflush() }' \
	>"$out/kernel-raw.txt"
rc=$?
secs=$((SECONDS - start))

awk -f "$here/table.awk" -v csv="$out/kernel.csv" \
	-v xcsv="$out/kernel-syscalls.csv" -v secs="$secs" \
	-v reps="${BENCH_REPS:-5}" -v items="${BENCH_KERNEL_ITEMS:-200000}" \
	-v xitems="${BENCH_XITEMS:-20000}" \
	"$out/kernel-raw.txt" >"$out/kernel.txt" || rc=1
grep -q '|FAIL' "$out/kernel-raw.txt" && rc=1

# kernel.png, if gnuplot is there (make bench-user installs it): each
# row's median Mops/s, min to max as an error bar, groups side by side.
if command -v gnuplot >/dev/null && [ -s "$out/kernel.csv" ]; then
	awk -F, 'NR > 1 { g = $1 " " $3 " b" $6
		if (g != last) { x++; last = g }
		printf "%d\t%s\t%s\t%s\t\"%s: %s\"\n", ++x, $8, $9, $10, g, $2 }' \
		"$out/kernel.csv" >"$out/kernel-vm/plot.dat"
	gnuplot <<-EOF || echo "bench-kernel: gnuplot failed" >&2
		set terminal pngcairo size 1800,800 font ",9"
		set output "$out/kernel.png"
		set title "lfq kernel benchmark, QEMU TCG (only ratios within one run count)"
		set ylabel "Mops/s (median, min..max over reps)"
		set xtics rotate by 60 right
		set style fill solid 0.5
		set boxwidth 0.8
		set grid ytics
		set key off
		plot "$out/kernel-vm/plot.dat" using 1:2:xtic(5) with boxes, \
			"" using 1:2:3:4 with yerrorbars lc rgb "black" pt 0
	EOF
fi
cat "$out/kernel.txt"
echo "bench-kernel: $out/kernel.txt, $out/kernel.csv (${secs}s in the VM)" >&2
exit $rc
