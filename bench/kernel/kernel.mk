# SPDX-License-Identifier: GPL-2.0
#
# make bench-kernel: lfq's rings timed in the kernel (lfq_bench.ko) and
# across the user/kernel boundary (xbench), in the QEMU VM. Included by
# the Makefile, which sets BENCH_DIR; writes kernel.txt, kernel.csv,
# kernel-syscalls.csv and kernel.png there (bench/kernel/run.sh says
# more). Sizes: BENCH_REPS, BENCH_KERNEL_ITEMS, BENCH_XITEMS; QUICK=1:
# few items, to try it.

XBENCH := $(B)/static/bench/xbench

$(XBENCH): bench/kernel/xbench.c $(LIB_HDRS) selftests/kmod/lfq_test.h \
		selftests/lfq_test_item.h $(B)/static/liblfq.a
	$(msg) LD "$@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) $(CFLAGS_static) $(LDFLAGS_static) $< \
		$(B)/static/liblfq.a -o $@

.PHONY: bench-kernel
bench-kernel: deps-build deps-modules deps-vm
	$(Q)$(MAKE) modules $(XBENCH) $(BENCH_DIR)/machine.txt
	$(msg) BENCH "kernel, in the VM -> $(BENCH_DIR)"
	$(Q)XBENCH=$(XBENCH) $(if $(filter 1,$(QUICK)),BENCH_KERNEL_ITEMS=10000 \
		BENCH_XITEMS=2000) bash bench/kernel/run.sh $(BENCH_DIR)
