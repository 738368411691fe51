#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/user/plot.sh BENCH_DIR: the plots of BENCH_DIR/user.csv, as PNGs
# into BENCH_DIR:
#
#   user-threads.png   Mops/s against threads (capacity 1024, 8-byte items,
#                      no burst): N producers x 1, 1 x N consumers, N x N
#   user-capacity.png  Mops/s against capacity (8-byte items, no burst)
#
# A median per point; the tables say how far the reps spread.
set -euo pipefail

dir=$1
csv=$dir/user.csv
tmp=$(mktemp -d)
trap "rm -rf $tmp" EXIT

# blocks NAME WORKLOAD AWK-FILTER AWK-X: one gnuplot data block per impl
# ("impl" then "x y" rows) from the rows the filter keeps, into
# $tmp/NAME.dat, and the number of blocks into $tmp/NAME.n. Only impls that
# WORKLOAD has are kept, so that the SPSC-only peers do not stand alone
# at 1 in the plots of more threads. The y axis is logarithmic: medians of
# 0 (a peer that moved nearly nothing before the time limit) are left out.
# Each impl keeps its colour (linetype: its rank in the CSV) throughout.
blocks() {
	awk -F, -v name="$2" -v out="$tmp/$1" "
		NR == 1 { next }
		!(\$2 in lt) { lt[\$2] = ++nlt }
		\$1 == name { want[\$2] = 1 }
		($3) && \$8 > 0 {
			if (!(\$2 in x))
				order[m++] = \$2
			x[\$2] = x[\$2] sprintf(\"%s %s\\n\", $4, \$8)
		}
		END {
			n = 0
			for (i = 0; i < m; i++) {
				impl = order[i]
				if (!(impl in want))
					continue
				printf(\"\\\"%s\\\"\\n%s\\n\\n\", impl, x[impl]) > (out \".dat\")
				printf(\"%d \", lt[impl]) > (out \".lt\")
				n++
			}
			print n > (out \".n\")
		}" "$csv"
}

q='$4 == 1024 && $5 == 8 && $6 == 1'
blocks mpsc mpsc "(\$1 == \"mpsc\" || \$1 == \"spsc\") && $q" '$3 - 1'
blocks spmc spmc "(\$1 == \"spmc\" || \$1 == \"spsc\") && $q" '$3 - 1'
blocks mpmc mpmc "(\$1 == \"mpmc\" || \$1 == \"spsc\") && $q" '$3 / 2'
for w in st spsc mpsc mpmc; do
	blocks "cap-$w" "$w" "\$1 == \"$w\" && \$5 == 8 && \$6 == 1 && (\$1 != \"mpsc\" || \$3 == 3) &&
		(\$1 != \"mpmc\" || \$3 == 4)" '$4'
done

panel() {	# NAME TITLE XLABEL
	local n
	n=$(cat "$tmp/$1.n")
	[ "$n" -gt 0 ] || { echo "set title '$2 (no data)'; plot 1 notitle"; return; }
	echo "set title '$2'; set xlabel '$3'"
	echo "lts = '$(cat "$tmp/$1.lt")'"
	echo "plot for [i=0:$((n - 1))] '$tmp/$1.dat' index i using 1:2 \\"
	echo "	with linespoints lt (word(lts, i + 1) + 0) title columnheader(1)"
}

{
	echo "set terminal pngcairo size 1500,500 font ',10'"
	echo "set output '$dir/user-threads.png'"
	# ten colours that differ, for up to ten impls
	i=1
	for c in 1f77b4 ff7f0e 2ca02c d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf; do
		echo "set linetype $i lc rgb '#$c' pt $i"
		i=$((i + 1))
	done
	echo "set multiplot layout 1,3 title 'lfq userspace: Mops/s (median) against threads," \
		"capacity 1024, 8-byte items, no burst; 2-CPU VM, threads > 2 share CPUs'"
	echo "set logscale y; set ylabel 'Mops/s'; set grid; set key top right font ',8'"
	echo "set xtics (1, 2, 4); set xrange [0.8:4.2]"
	panel mpsc 'N producers x 1 consumer' 'N'
	panel spmc '1 producer x N consumers' 'N'
	panel mpmc 'N producers x N consumers' 'N'
	echo "unset multiplot"
	echo "set terminal pngcairo size 1200,900 font ',10'"
	echo "set output '$dir/user-capacity.png'"
	echo "set multiplot layout 2,2 title 'lfq userspace: Mops/s (median) against capacity," \
		"8-byte items, no burst'"
	echo "set logscale x 2; set xtics (1024, 65536); set xrange [700:96000]"
	panel cap-st 'one thread, push+pop pairs' 'capacity'
	panel cap-spsc 'SPSC 1x1' 'capacity'
	panel cap-mpsc 'MPSC 2x1' 'capacity'
	panel cap-mpmc 'MPMC 2x2' 'capacity'
	echo "unset multiplot"
} > "$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "  PLOT     $dir/user-threads.png $dir/user-capacity.png"
