# SPDX-License-Identifier: GPL-2.0
#
# awk -f table.awk -v csv=FILE -v xcsv=XFILE [-v secs=S reps=R items=N xitems=X] RAW
#
# RAW: the lines of bench/kernel/vm-bench.sh, as bench/kernel/run.sh kept
# them: "# note" lines and one line per run,
#
#   rep|workload|impl|threads|cap|elem|burst|rep|ops|nsecs|ok[|syscalls|ioctls]
#
# (threads: PxC, or 1; cap 0: not bounded, llist). Prints kernel.txt,
# the columns of the userspace benchmark's table (bench/user/main.c), and
# writes FILE, the CSV of the common format: one row per workload,
# threads, burst and impl, with the median, min and max over its reps,
# and threads as the number of threads. Groups are workload, threads and
# burst, in the order they came; ratio is each row's median against the
# group's first row's, "~" in front when the row's min..max overlaps the
# first row's, "-" for llist (unbounded: not comparable). A group with
# more threads than the VM has vCPUs gets an "oversubscribed" line. Rows
# with syscall counts (xbench) get a table of their own with syscalls and
# ioctls per item, also written to XFILE.

function sort(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
}

function median(a, n) {
	sort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function nthreads(shape,    pc) {
	return split(shape, pc, "x") == 2 ? pc[1] + pc[2] : shape
}

# The ratio column: med against the first row's median ref, marked.
function ratio(name, med, lo, hi, ref, reflo, refhi) {
	if (name == "llist")
		return "-"
	if (ref <= 0)
		return "0"
	return sprintf("%s%.2f", lo <= refhi && hi >= reflo ? "~" : "", med / ref)
}

# The table of groups gi whose rows have syscall counts (cross = 1) or not.
function table(cross,    gi, g, j, k, n, r, a, b, c, d, med, ref, reflo, refhi, rat, ns, sm,
	       im, extra, nt) {
	printf "%-14s %-24s %5s %6s %4s %5s %9s %9s %9s %8s %6s %s%s\n",
	       "workload", "impl", "thr", "cap", "elem", "burst", "Mops/s", "min", "max",
	       "ns/op", "ratio", cross ? "sysc/op ioctl/op " : "", "ok"
	for (gi = 1; gi <= ngroups; gi++) {
		g = groups[gi]
		if (gcross[g] != cross)
			continue
		for (j = 1; j <= nimpl[g]; j++) {
			k = g SUBSEP impl[g, j]
			n = nreps[k]
			for (r = 1; r <= n; r++) {
				a[r] = mops[k, r]
				b[r] = nsop[k, r]
				c[r] = sys[k, r]
				d[r] = ioc[k, r]
			}
			med = median(a, n)
			ns = median(b, n)
			if (j == 1) {
				ref = med; reflo = a[1]; refhi = a[n]
				rat = sprintf("%.2f", 1)
			} else {
				rat = ratio(impl[g, j], med, a[1], a[n], ref, reflo, refhi)
			}
			extra = ""
			if (cross) {
				sm = median(c, n)
				im = median(d, n)
				extra = sprintf("%7.3f %8.3f ", sm, im)
				printf "%s,%s,%d,%s,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n",
				       gname[g], impl[g, j], nthreads(gthr[g]), burst[k], n,
				       sm, c[1], c[n], im, d[1], d[n] > xcsv
			}
			printf "%-14s %-24s %5s %6s %4s %5s %9.3f %9.3f %9.3f %8.1f %6s %s%s\n",
			       gname[g], impl[g, j], gthr[g], cap[k] ? cap[k] : "-", elem[k],
			       burst[k], med, a[1], a[n], ns, rat, extra, ok[k] ? "ok" : "FAIL"
			printf "%s,%s,%d,%s,%s,%s,%d,%.4f,%.4f,%.4f,%.1f,%s\n",
			       gname[g], impl[g, j], nthreads(gthr[g]), cap[k], elem[k],
			       burst[k], n, med, a[1], a[n], ns, ok[k] ? "ok" : "FAIL" > csv
		}
		nt = nthreads(gthr[g])
		if (vcpus && nt > vcpus)
			print "  oversubscribed: " nt " threads on " vcpus " vCPUs"
		print ""
	}
}

BEGIN {
	FS = "|"
	if (csv == "" || xcsv == "") {
		print "table.awk: -v csv=FILE -v xcsv=XFILE" > "/dev/stderr"
		exit 2
	}
}

/^# vm: / {
	vm = substr($0, 7)
	if (match(vm, /[0-9]+ vCPUs/))
		vcpus = substr(vm, RSTART, RLENGTH) + 0
}
/^# / && !/^# vm: / { notes[++nnotes] = substr($0, 3) }

/^rep\|/ {
	g = $2 SUBSEP $4 SUBSEP $7
	if (!(g in gseen)) {
		gseen[g] = 1
		groups[++ngroups] = g
		gname[g] = $2; gthr[g] = $4
		gcross[g] = NF >= 13
	}
	k = g SUBSEP $3
	if (!(k in kseen)) {
		kseen[k] = 1
		nimpl[g]++
		impl[g, nimpl[g]] = $3
		cap[k] = $5; elem[k] = $6; burst[k] = $7
		ok[k] = 1
	}
	n = ++nreps[k]
	mops[k, n] = $10 > 0 ? $9 * 1000 / $10 : 0
	nsop[k, n] = $9 > 0 ? $10 / $9 : 0
	if ($11 != "ok")
		ok[k] = 0
	if (NF >= 13) {
		sys[k, n] = $9 > 0 ? $12 / $9 : 0
		ioc[k, n] = $9 > 0 ? $13 / $9 : 0
	}
}

END {
	if (ngroups == 0) {
		print "table.awk: no runs in the input" > "/dev/stderr"
		exit 1
	}
	print "lfq kernel benchmark: Mops/s = million items moved per second (a push and its pop),"
	print "median/min/max of " reps " interleaved reps; ratio: the median against the group's"
	print "first row. Kernel rows: lfq_bench.ko, kernel threads, " items " items per producer"
	print "and run. Cross-boundary rows: xbench, a user thread against a kernel thread, " xitems
	print "items per run. " secs "s in the VM: " vm
	print ""
	print "QEMU software emulation (TCG, no KVM) distorts absolute speed, and by different"
	print "amounts for different instructions: only ratios within this run count, never"
	print "the Mops/s themselves. Even those ratios, between code with different"
	print "instruction mixes (lfq's atomics against kfifo's and ptr_ring's spinlocks), say"
	print "how the queues compare under this emulator, not on hardware. Two-thread numbers"
	print "on the 2-vCPU VM depend on vCPU placement (kernel thread i is bound to vCPU"
	print "i mod 2, producers first) and on how the host places QEMU's vCPU threads,"
	print "beside whatever else it runs. A group marked \"oversubscribed\" runs more"
	print "threads than there are vCPUs: a waiting thread yield()s to one on its vCPU, so"
	print "these rows time the scheduler and yield() as much as the queue."
	print ""
	print "ratio: \"~1.03\" means the row's min..max overlaps the first row's: within the"
	print "noise of this run, not a difference. llist rows have \"-\": llist is unbounded"
	print "and its consumer takes everything there is with one xchg (llist_del_all()), so"
	print "it never waits on a full queue and its consumer pays one atomic per batch."
	print ""
	print "Every run checks the count, a checksum and per-producer order where the queue"
	print "promises it; a FAIL row is a wrong result, whatever its speed. broadcast: ops"
	print "are items published, each seen by every consumer; deque steal: items the owner"
	print "pushed, popped by it (one every second push) or stolen. Locking: a side of"
	print "kfifo or ptr_ring with one user takes no lock, one with several takes a plain"
	print "spinlock (kfifo_*_spinlocked_noirqsave, ptr_ring_produce/consume); lfq's rings"
	print "take none."
	for (i = 1; i <= nnotes; i++)
		print "note: " notes[i]
	print ""
	printf "workload,impl,threads,capacity,elem_size,burst,reps,mops_median," \
	       "mops_min,mops_max,ns_per_op_median,verified\n" > csv
	table(0)

	print "Cross-boundary: a user thread (liblfq on a /dev/lfq ring, pinned to vCPU 0)"
	print "against an lfq_test.ko kernel thread (its job interface cannot pin it: the"
	print "scheduler puts it on the other vCPU while both are busy). need-wakeup: liblfq"
	print "wakes the other side only when it sleeps; wake-always: the user side adds an"
	print "LFQ_IOC_WAKE after every push (pop) call, the kernel side keeps need-wakeup."
	print "sysc/op and ioctl/op (LFQ_IOC_WAKE wake-ups, LFQ_IOC_WAIT sleeps) are exact"
	print "counts per item: perf counters on the raw_syscalls:sys_enter tracepoint (one"
	print "filtered on id == SYS_ioctl) for the user thread, around its loop only. The"
	print "user's blocking calls have no timeout, so they never read the clock: every"
	print "syscall counted is one of those ioctls (sysc/op = ioctl/op)."
	print ""
	print "workload,impl,threads,burst,reps,syscalls_per_item_median," \
	      "syscalls_per_item_min,syscalls_per_item_max,ioctls_per_item_median," \
	      "ioctls_per_item_min,ioctls_per_item_max" > xcsv
	table(1)
}
