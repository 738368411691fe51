// SPDX-License-Identifier: GPL-2.0
/*
 * xbench: the cross-boundary half of the kernel benchmark, run in the VM
 * by bench/kernel/vm-bench.sh once lfq.ko and lfq_test.ko are loaded.
 *
 *   xbench [-r REPS] [-n ITEMS]
 *
 * On a /dev/lfq ring (liblfq, LFQ_MEM_DEV), one user thread and one
 * lfq_test.ko kernel thread (a job, selftests/kmod/lfq_test.h) move ITEMS
 * lfq_test_item items:
 *
 *   user->kernel  the user pushes (blocking push), the kernel pops
 *   kernel->user  the kernel pushes, the user pops (blocking pop)
 *
 * each in two variants:
 *
 *   need-wakeup   liblfq's own wake-up: a push (pop) makes the
 *                 LFQ_IOC_WAKE syscall only when the other side counted
 *                 itself asleep in the ring's waiters word
 *   wake-always   the user side adds an LFQ_IOC_WAKE after every push
 *                 (pop), as a ring without the need-wakeup flag would
 *                 have to; the kernel side keeps its need-wakeup
 *
 * with one item per call, and on a Vyukov ring also BURST items per call
 * (push_burst/pop_burst on both sides: a wake-up per call, not per item).
 *
 * The user thread is pinned to CPU 0. The job's kernel thread cannot be
 * pinned through lfq_test.ko's interface: the scheduler puts it on the
 * other vCPU while both are busy. The user's blocking calls wait without
 * a timeout, so that none reads the clock (a syscall on a VM's hpet); a
 * watchdog (alarm, RUN_LIMIT_S) fails the run and ends xbench instead if
 * a job dies and leaves the user waiting.
 *
 * Syscalls are counted exactly: perf counters on the
 * raw_syscalls:sys_enter tracepoint for this thread, enabled around the
 * user's loop only, one for every syscall and one filtered to ioctl (the
 * LFQ_IOC_WAKE wake-ups and LFQ_IOC_WAIT sleeps); the counters' own
 * ioctls are taken off with a calibration of an empty enable/disable.
 *
 * Every run is checked: the kernel consumer's result (every item once,
 * in order, well-formed), or, for kernel->user, each item the user pops
 * (well-formed, the next seq) and the kernel producer's result.
 *
 * Prints the lines bench/kernel/table.awk reads, "rep|" plus the fields
 * of lfq_bench.ko's lines, syscalls and ioctls, and "# " progress lines.
 * Exits 1 if a run failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "lfq.h"
#include "selftests/kmod/lfq_test.h"
#include "selftests/lfq_test_item.h"

#define CAPACITY	1024
#define ELEM		((uint32_t)sizeof(struct lfq_test_item))
#define WAIT_MS		20000	/* the job ends when nothing moved for this long */
#define RUN_LIMIT_S	120	/* a run that takes longer fails xbench */
#define BURST		16
#define STR(x)		STR_(x)
#define STR_(x)		#x

struct xcase {
	const char *workload;
	uint32_t type;
	const char *ring;
	int to_kernel;		/* the user produces */
	int wake_always;
	unsigned int burst;	/* items per call, on both sides (Vyukov only) */
};

static const struct xcase cases[] = {
	{ "user->kernel", LFQ_RING_VYUKOV, "lfq vyukov", 1, 0, 1 },
	{ "user->kernel", LFQ_RING_VYUKOV, "lfq vyukov", 1, 1, 1 },
	{ "user->kernel", LFQ_RING_TURN, "lfq turn", 1, 0, 1 },
	{ "user->kernel", LFQ_RING_TURN, "lfq turn", 1, 1, 1 },
	{ "user->kernel", LFQ_RING_VYUKOV, "lfq vyukov", 1, 0, BURST },
	{ "user->kernel", LFQ_RING_VYUKOV, "lfq vyukov", 1, 1, BURST },
	{ "kernel->user", LFQ_RING_VYUKOV, "lfq vyukov", 0, 0, 1 },
	{ "kernel->user", LFQ_RING_VYUKOV, "lfq vyukov", 0, 1, 1 },
	{ "kernel->user", LFQ_RING_TURN, "lfq turn", 0, 0, 1 },
	{ "kernel->user", LFQ_RING_TURN, "lfq turn", 0, 1, 1 },
	{ "kernel->user", LFQ_RING_VYUKOV, "lfq vyukov", 0, 0, BURST },
	{ "kernel->user", LFQ_RING_VYUKOV, "lfq vyukov", 0, 1, BURST },
};

#define NR_CASES	(sizeof(cases) / sizeof(cases[0]))

/* Counters of every syscall and of ioctls, in one perf group. */
static int perf_fd[2] = { -1, -1 };
static uint64_t perf_base[2];	/* what an empty enable/disable counts */

/* The FAIL line of the run under way, for the watchdog to print. */
static char fail_line[256];
static size_t fail_len;

static void watchdog(int sig)
{
	static const char msg[] = "xbench: run timed out\n";
	/* exit 1 whatever the writes did */
	bool ok = write(STDOUT_FILENO, fail_line, fail_len) == (ssize_t)fail_len &&
		  write(STDERR_FILENO, msg, sizeof(msg) - 1) > 0;

	(void)sig;
	(void)ok;
	_exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int perf_open(void)
{
	static const char *const ids[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	struct perf_event_attr attr;
	unsigned long long id = 0;
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2 && !id; i++) {
		f = fopen(ids[i], "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &id) != 1)
			id = 0;
		fclose(f);
	}
	if (!id) {
		fprintf(stderr, "xbench: no raw_syscalls:sys_enter tracepoint (tracefs)\n");
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.size = sizeof(attr);
	attr.config = id;
	attr.disabled = 1;
	for (i = 0; i < 2; i++) {
		perf_fd[i] = syscall(SYS_perf_event_open, &attr, 0, -1,
				     i ? perf_fd[0] : -1, 0);
		if (perf_fd[i] < 0) {
			perror("xbench: perf_event_open");
			return -1;
		}
		attr.disabled = 0;	/* the group leader switches both */
	}
	if (ioctl(perf_fd[1], PERF_EVENT_IOC_SET_FILTER, "id == " STR(SYS_ioctl))) {
		perror("xbench: PERF_EVENT_IOC_SET_FILTER");
		return -1;
	}
	return 0;
}

static void perf_start(void)
{
	ioctl(perf_fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
	ioctl(perf_fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

/* Syscalls and ioctls since perf_start(): 0, or -1 if a read failed. */
static int perf_stop(uint64_t n[2])
{
	unsigned int i;

	ioctl(perf_fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	for (i = 0; i < 2; i++) {
		if (read(perf_fd[i], &n[i], sizeof(n[i])) != sizeof(n[i])) {
			perror("xbench: reading a perf counter");
			return -1;
		}
		n[i] -= perf_base[i];
	}
	return 0;
}

static int start_job(int dev, struct lfq_ring *ring, int role, unsigned int burst,
		     uint64_t items)
{
	struct lfq_test_job job = {
		.ring_fd = lfq_ring_fd(ring),
		.role = role,
		.threads = 1,
		.burst = burst,
		.items = items,
		/* consume: one producer to expect; produce: its id, 0 */
		.producers = role == LFQ_TEST_CONSUME,
		.timeout_ms = WAIT_MS,
	};

	return ioctl(dev, LFQ_TEST_IOC_START, &job);
}

/* wake-always: the wake-up a ring without need-wakeup makes every call. */
static int wake(struct lfq_ring *ring, unsigned long dir)
{
	return ioctl(lfq_ring_fd(ring), LFQ_IOC_WAKE, dir) < 0 ? -errno : 0;
}

/* Items pushed (1..n), or a negative errno. */
static int push(const struct xcase *c, struct lfq_ring *ring, const void *elems,
		unsigned int n)
{
	int ret;

	if (c->type == LFQ_RING_TURN)
		ret = lfq_turn_push(ring, elems) ?: 1;
	else if (n == 1)
		ret = lfq_vyukov_push(ring, elems, -1) ?: 1;
	else
		ret = lfq_vyukov_push_burst(ring, elems, n, -1);
	if (ret > 0 && c->wake_always)
		return wake(ring, LFQ_WAKE_NOT_EMPTY) ?: ret;
	return ret;
}

/* Items popped (1..n), or a negative errno. */
static int pop(const struct xcase *c, struct lfq_ring *ring, void *elems,
	       unsigned int n)
{
	int ret;

	if (c->type == LFQ_RING_TURN)
		ret = lfq_turn_pop(ring, elems) ?: 1;
	else if (n == 1)
		ret = lfq_vyukov_pop(ring, elems, -1) ?: 1;
	else
		ret = lfq_vyukov_pop_burst(ring, elems, n, -1);
	if (ret > 0 && c->wake_always)
		return wake(ring, LFQ_WAKE_NOT_FULL) ?: ret;
	return ret;
}

/* One run; 0 if everything checked out. */
static int run(int dev, const struct xcase *c, uint64_t items, uint64_t *nsecs,
	       uint64_t syscalls[2])
{
	struct lfq_create params = {
		.type = c->type,
		.capacity = CAPACITY,
		.elem_size = ELEM,
	};
	unsigned char elems[BURST][ELEM];
	struct lfq_test_result res;
	struct lfq_ring *ring;
	uint64_t t0, s = 0, bad = 0;
	unsigned int i, k;
	int job, ret;

	ret = lfq_ring_create(&ring, &params, LFQ_MEM_DEV);
	if (ret) {
		fprintf(stderr, "xbench: lfq_ring_create: %s\n", strerror(-ret));
		return -1;
	}
	t0 = now_ns();
	job = start_job(dev, ring, c->to_kernel ? LFQ_TEST_CONSUME : LFQ_TEST_PRODUCE,
			c->burst, items);
	if (job < 0) {
		perror("xbench: LFQ_TEST_IOC_START");
		lfq_ring_destroy(ring);
		return -1;
	}
	perf_start();
	while (s < items) {
		k = items - s < c->burst ? items - s : c->burst;
		if (c->to_kernel) {
			for (i = 0; i < k; i++)
				lfq_test_item_make(elems[i], ELEM, 0, s + i);
			ret = push(c, ring, elems, k);
			if (ret < 0)
				break;
		} else {
			ret = pop(c, ring, elems, k);
			if (ret < 0)
				break;
			for (i = 0; i < (unsigned int)ret; i++)
				if (lfq_test_item_bad(elems[i], ELEM, 1) ||
				    lfq_test_item_get(elems[i]).seq != s + i)
					bad++;
		}
		s += ret;
		ret = 0;
	}
	if (perf_stop(syscalls) && !ret)
		ret = -EIO;
	if (ioctl(job, LFQ_TEST_IOC_RESULT, &res)) {
		if (!ret)
			ret = -errno;
		perror("xbench: LFQ_TEST_IOC_RESULT");
	}
	*nsecs = now_ns() - t0;
	close(job);
	lfq_ring_destroy(ring);
	if (ret) {
		fprintf(stderr, "xbench: %s %s: %s at item %llu\n", c->workload, c->ring,
			strerror(-ret), (unsigned long long)s);
		return -1;
	}
	if (bad || res.error || res.moved != items || res.malformed || res.duplicates ||
	    res.misordered || res.missing || res.ring_errors) {
		fprintf(stderr,
			"xbench: %s %s: %llu bad popped, job: error %d moved %llu malformed %llu duplicates %llu misordered %llu missing %llu\n",
			c->workload, c->ring, (unsigned long long)bad, res.error,
			(unsigned long long)res.moved, (unsigned long long)res.malformed,
			(unsigned long long)res.duplicates,
			(unsigned long long)res.misordered,
			(unsigned long long)res.missing);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long reps = 5, items = 20000, rep, i, n = 0;
	int opt, dev, failed = 0;
	cpu_set_t cpus;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			reps = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			items = strtoul(optarg, NULL, 0);
		else
			goto usage;
	}
	if (optind != argc || !reps || !items || items > LFQ_TEST_MAX_ITEMS)
		goto usage;
	dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("xbench: /dev/lfq_test");
		return 1;
	}
	/* CPU 0; the scheduler moves the job's kernel thread to the other */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		perror("xbench: sched_setaffinity");
		return 1;
	}
	if (perf_open())
		return 1;
	perf_start();
	if (perf_stop(perf_base))
		return 1;
	signal(SIGALRM, watchdog);

	/* interleaved: rep 1 of every case, then rep 2, ... */
	for (rep = 1; rep <= reps; rep++) {
		for (i = 0; i < NR_CASES; i++) {
			const struct xcase *c = &cases[i];
			const char *how = c->wake_always ? "wake-always" : "need-wakeup";
			uint64_t nsecs = 0, syscalls[2] = { 0, 0 };
			int ret;

			printf("# [%3lu/%lu] %s 1x1 cap %u elem %u burst %u: %s %s rep %lu/%lu\n",
			       ++n, reps * NR_CASES, c->workload, CAPACITY, ELEM, c->burst,
			       c->ring, how, rep, reps);
			fflush(stdout);
			ret = snprintf(fail_line, sizeof(fail_line),
				       "rep|%s|%s %s|1x1|%u|%u|%u|%lu|%lu|0|FAIL|0|0\n",
				       c->workload, c->ring, how, CAPACITY, ELEM, c->burst, rep,
				       items);
			fail_len = ret > 0 && ret < (int)sizeof(fail_line) ? ret : 0;
			alarm(RUN_LIMIT_S);
			ret = run(dev, c, items, &nsecs, syscalls);
			alarm(0);
			printf("rep|%s|%s %s|1x1|%u|%u|%u|%lu|%lu|%llu|%s|%llu|%llu\n",
			       c->workload, c->ring, how, CAPACITY, ELEM, c->burst, rep,
			       items, (unsigned long long)nsecs, ret ? "FAIL" : "ok",
			       (unsigned long long)syscalls[0],
			       (unsigned long long)syscalls[1]);
			fflush(stdout);
			failed |= !!ret;
		}
	}
	return failed;
usage:
	fprintf(stderr, "usage: xbench [-r REPS] [-n ITEMS]\n");
	return 2;
}
