# SPDX-License-Identifier: GPL-2.0
#
# lfq: lfq.ko (through Kbuild), liblfq, tests, the VM runner.
#
#   make             modules + lib
#   make modules     lfq.ko and the test peer selftests/kmod/lfq_test.ko
#   make lib         build/lib/liblfq.{a,so} and liblfq.pc
#   make install     liblfq, headers, pkg-config (PREFIX, DESTDIR)
#   make check       every test; ends with "N passed, N failed, N skipped"
#   make run         the demo in a VM (HOST=1: on this kernel)
#   make clean
#
# Quiet unless V=1. Missing Debian packages are installed when run as
# root, otherwise the command to install them is printed.

# The headers of the running kernel if it has them, else the newest Debian
# linux-headers-*-amd64 installed (the VM boots that kernel).
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),$(shell \
	ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
	grep -Ev -- '-(rt|cloud)-amd64$$' | sort -V | tail -n 1))
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
B := build
LFQ_VERSION := 0.1.0
LFQ_SOVERSION := 0

ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg := @printf '  %-8s %s\n'
MAKEFLAGS += --no-print-directory
endif
export V
# Not while empty: on a fresh machine the headers come with deps-modules,
# after this parse, and the sub-makes that build must look again.
ifneq ($(KDIR),)
export KDIR
endif

CC ?= cc
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
USER_CFLAGS := -std=gnu11 $(WARN) -Iuapi -Iuser -pthread
TEST_CFLAGS := $(USER_CFLAGS) -I. -Iselftests -isystem $(B)/ksft

LIB_SRCS := $(wildcard user/*.c)
LIB_HDRS := $(wildcard user/*.h) uapi/linux/lfq.h
TEST_SRCS := $(wildcard selftests/user/*.c)
TEST_HDRS := $(wildcard selftests/user/*.h) $(wildcard selftests/dev/*.h) \
	selftests/lfq_test_item.h selftests/kmod/lfq_test.h
DEV_SRCS := $(wildcard selftests/dev/*.c selftests/demo/*.c)

# Test builds: native, ThreadSanitizer, ASan+UBSan, and static for the VM.
VARIANTS := native tsan asan static
CFLAGS_native := $(CFLAGS)
CFLAGS_tsan := -O1 -g -fsanitize=thread
CFLAGS_asan := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
CFLAGS_static := $(CFLAGS)
LDFLAGS_static := -static

.PHONY: all modules lib install modules_install check run clean $(DEPS) \
	tests $(addprefix tests-,$(VARIANTS))

all: modules lib

# Explicit, not a pattern rule: make skips pattern rules for phony targets.
DEPS := deps-build deps-modules deps-vm deps-model
$(DEPS):
	$(Q)bash selftests/deps.sh $(@:deps-%=%)

# ---- kernel modules --------------------------------------------------------

modules: deps-modules
	$(Q)test -n "$(KDIR)" || { echo "lfq: no kernel headers found; set KDIR" >&2; exit 1; }
	$(msg) KBUILD "$(notdir $(KDIR))"
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) KSFT_DIR=$(CURDIR)/$(B)/ksft \
		$(if $(filter 1,$(V)),V=1,-s) modules

# lfq_test.ko includes kselftest_module.h: extract it first.
modules: $(B)/ksft/kselftest_module.h

modules_install: modules
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# ---- kselftest headers, from Debian's linux-source at build time ----------

KSFT_HDRS := kselftest.h kselftest_harness.h kselftest_module.h
$(addprefix $(B)/ksft/,$(KSFT_HDRS)) &: | deps-build
	$(msg) EXTRACT "kselftest headers"
	$(Q)mkdir -p $(B)/ksft
	$(Q)tar=$$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n 1); \
	tar -xJf "$$tar" -C $(B)/ksft --strip-components=4 --wildcards \
		$(addprefix '*/tools/testing/selftests/,$(addsuffix ',$(KSFT_HDRS)))

# ---- liblfq ----------------------------------------------------------------

define variant_rules
$(B)/$(1)/obj/%.o: %.c $(LIB_HDRS) $(TEST_HDRS) $(addprefix $(B)/ksft/,$(KSFT_HDRS))
	$$(msg) CC "$$< [$(1)]"
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $(TEST_CFLAGS) $$(CFLAGS_$(1)) -c $$< -o $$@

$(B)/$(1)/liblfq.a: $(patsubst %.c,$(B)/$(1)/obj/%.o,$(LIB_SRCS))
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^

$(B)/$(1)/tests/%: $(B)/$(1)/obj/selftests/user/%.o $(B)/$(1)/liblfq.a
	$$(msg) LD "$$@"
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -pthread $$^ -o $$@

$(B)/$(1)/tests/%: $(B)/$(1)/obj/selftests/dev/%.o $(B)/$(1)/liblfq.a
	$$(msg) LD "$$@"
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -pthread $$^ -o $$@

$(B)/$(1)/tests/%: $(B)/$(1)/obj/selftests/demo/%.o $(B)/$(1)/liblfq.a
	$$(msg) LD "$$@"
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -pthread $$^ -o $$@

tests-$(1): $(patsubst selftests/user/%.c,$(B)/$(1)/tests/%,$(TEST_SRCS))
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))

# The VM also runs the /dev/lfq kselftests and demo, statically linked.
tests-static: $(addprefix $(B)/static/tests/,$(basename $(notdir $(DEV_SRCS))))

LIB_OBJS := $(patsubst %.c,$(B)/lib/obj/%.o,$(LIB_SRCS))

$(B)/lib/obj/%.o: %.c $(LIB_HDRS) | deps-build
	$(msg) CC "$<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(B)/lib/liblfq.a: $(LIB_OBJS)
	$(msg) AR "$@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/lib/liblfq.so.$(LFQ_VERSION): $(LIB_OBJS) user/liblfq.map
	$(msg) LD "$@"
	$(Q)$(CC) -shared -pthread -Wl,-soname,liblfq.so.$(LFQ_SOVERSION) \
		-Wl,--version-script=user/liblfq.map $(LIB_OBJS) -o $@

$(B)/lib/liblfq.so: $(B)/lib/liblfq.so.$(LFQ_VERSION)
	$(Q)ln -sf liblfq.so.$(LFQ_VERSION) $(B)/lib/liblfq.so.$(LFQ_SOVERSION)
	$(Q)ln -sf liblfq.so.$(LFQ_VERSION) $@

$(B)/lib/liblfq.pc: user/liblfq.pc.in Makefile
	$(msg) GEN "$@"
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(LFQ_VERSION)|' \
		$< > $@

lib: $(B)/lib/liblfq.a $(B)/lib/liblfq.so $(B)/lib/liblfq.pc

install: lib
	$(msg) INSTALL "$(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux
	$(Q)install -m 644 $(B)/lib/liblfq.a $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 755 $(B)/lib/liblfq.so.$(LFQ_VERSION) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf liblfq.so.$(LFQ_VERSION) $(DESTDIR)$(LIBDIR)/liblfq.so.$(LFQ_SOVERSION)
	$(Q)ln -sf liblfq.so.$(LFQ_VERSION) $(DESTDIR)$(LIBDIR)/liblfq.so
	$(Q)install -m 644 $(B)/lib/liblfq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(Q)install -m 644 user/lfq.h $(DESTDIR)$(INCLUDEDIR)/
	$(Q)install -m 644 uapi/linux/lfq.h $(DESTDIR)$(INCLUDEDIR)/linux/

# ---- tests and demo --------------------------------------------------------

tests: $(addprefix tests-,$(VARIANTS))

check: deps-build deps-modules deps-vm deps-model
	$(Q)$(MAKE) modules lib tests
	$(Q)bash selftests/check.sh

run: deps-build deps-modules $(if $(HOST),,deps-vm)
	$(Q)$(MAKE) modules tests-static
	$(Q)bash selftests/run.sh $(if $(HOST),--host)

clean:
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1 || true
	$(Q)rm -rf $(B)

# ---- benchmarks ------------------------------------------------------------
#
#   make bench          bench-user and bench-kernel, into one BENCH_DIR
#   make bench-user     build/bench/lfq_bench: tables, CSV and plots
#                       (QUICK=1: few items, to try it)
#   make bench-instr    instructions per push+pop under callgrind
#
# Timings, not tests: never part of make check. Every lfq ring and every
# peer is compiled with the same flags into lfq_bench; DPDK's headers want
# its -m flags, so everything gets them.

BENCH_DIR := $(or $(BENCH_DIR),$(B)/bench/$(shell date +%Y%m%d-%H%M%S))
export BENCH_DIR
BENCH_CFLAGS = -std=gnu11 $(WARN) -O2 -g $(shell pkg-config --cflags libdpdk) \
	-Iuapi -Iuser -pthread
BENCH_SRCS := $(wildcard bench/user/*.c)
BENCH_OBJS := $(patsubst %.c,$(B)/bench/obj/%.o,$(LIB_SRCS) $(BENCH_SRCS))

.PHONY: bench bench-user bench-instr deps-bench

# One after the other, even under -j: each would time the other's load.
bench:
	$(Q)$(MAKE) bench-user
	$(Q)$(MAKE) bench-kernel

deps-bench:
	$(Q)bash selftests/deps.sh bench

$(B)/bench/obj/%.o: %.c $(LIB_HDRS) bench/user/bench.h
	$(msg) CC "$< [bench]"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench/lfq_bench: $(BENCH_OBJS)
	$(msg) LD "$@"
	$(Q)$(CC) -pthread $^ -lrte_ring -lrte_eal -o $@

# Whoever of the parts runs first describes the machine.
$(BENCH_DIR)/machine.txt:
	$(Q)mkdir -p $(@D)
	$(Q)bash bench/user/machine.sh > $@

# The sub-make parses again once deps-bench has installed DPDK's pkg-config.
bench-user: deps-bench
	$(Q)$(MAKE) $(if $(filter 1,$(V)),,-s) $(B)/bench/lfq_bench $(BENCH_DIR)/machine.txt
	$(msg) BENCH "$(BENCH_DIR)"
	$(Q)$(B)/bench/lfq_bench $(if $(filter 1,$(QUICK)),-q) -o $(BENCH_DIR)
	$(Q)bash bench/user/plot.sh $(BENCH_DIR)

bench-instr: deps-bench
	$(Q)$(MAKE) $(if $(filter 1,$(V)),,-s) $(B)/bench/lfq_bench $(BENCH_DIR)/machine.txt
	$(Q)bash bench/user/instr.sh $(B)/bench/lfq_bench $(BENCH_DIR)

include bench/kernel/kernel.mk
