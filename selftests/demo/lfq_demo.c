// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_demo: the Vyukov ring moving items across the boundary, one line per
 * path with items/s and a verdict:
 *
 *   user -> kernel     this process pushes, lfq_test.ko kthreads pop
 *   kernel -> user     lfq_test.ko kthreads push, this process pops
 *   process <-> process  a child pushes, this process pops, same ring fd
 *
 * Every item is checked on arrival (well formed, per-producer order, no
 * duplicate, no loss); a path that loses or garbles anything says FAILED
 * and the program exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"

#define ELEM_SIZE	64
#define CAPACITY	256

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int report(const char *path, unsigned long long items, double secs,
		  const char *problem)
{
	printf("%-22s %10llu items  %12.0f items/s  %s%s\n", path, items,
	       secs > 0 ? items / secs : 0.0, problem ? "FAILED: " : "verified",
	       problem ? problem : "");
	return problem ? 1 : 0;
}

static int create_ring(struct lfq_ring **ring)
{
	struct lfq_create p = {
		.type = LFQ_RING_VYUKOV,
		.capacity = CAPACITY,
		.elem_size = ELEM_SIZE,
	};

	return lfq_ring_create(ring, &p, LFQ_MEM_DEV);
}

/* Pop n items of one producer and check them; NULL if all is well. */
static const char *consume(struct lfq_ring *ring, unsigned long long n)
{
	unsigned char elem[ELEM_SIZE];
	const struct lfq_test_item *it = (const void *)elem;
	unsigned long long i;

	for (i = 0; i < n; i++) {
		if (lfq_vyukov_pop(ring, elem, 10000))
			return "timed out waiting for an item";
		if (lfq_test_item_bad(elem, ELEM_SIZE, 1))
			return "malformed item";
		if (it->seq != i)
			return "item lost, duplicated or out of order";
	}
	if (lfq_vyukov_try_pop(ring, elem) != -EAGAIN)
		return "more items than were pushed";
	return NULL;
}

static int produce(struct lfq_ring *ring, unsigned long long n)
{
	unsigned char elem[ELEM_SIZE];
	unsigned long long i;
	int ret;

	for (i = 0; i < n; i++) {
		lfq_test_item_make(elem, ELEM_SIZE, 0, i);
		ret = lfq_vyukov_push(ring, elem, 10000);
		if (ret)
			return ret;
	}
	return 0;
}

/* Start kernel threads of lfq_test.ko on our ring fd. */
static int start_job(struct lfq_ring *ring, unsigned int role,
		     unsigned long long n)
{
	struct lfq_test_job job = {
		.ring_fd = lfq_ring_fd(ring), .role = role, .threads = 1,
		.burst = 1, .items = n, .producers = role == LFQ_TEST_CONSUME,
		.timeout_ms = 10000,
	};
	int dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -errno;
	fd = ioctl(dev, LFQ_TEST_IOC_START, &job);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

/* What the kernel threads of a job saw: NULL if all is well. */
static const char *job_verdict(int job, unsigned long long n)
{
	struct lfq_test_result r;
	int ret = ioctl(job, LFQ_TEST_IOC_RESULT, &r);

	close(job);
	if (ret)
		return "no result from the kernel job";
	if (r.error)
		return strerror(-r.error);
	if (r.moved != n || r.malformed || r.duplicates || r.misordered ||
	    r.missing)
		return "the kernel saw lost, duplicated, garbled or misordered items";
	return NULL;
}

static int user_to_kernel(unsigned long long n)
{
	const char *problem = NULL;
	struct lfq_ring *ring;
	int job, ret;
	double t0;

	ret = create_ring(&ring);
	if (ret)
		return report("user -> kernel", 0, 0, strerror(-ret));
	t0 = now();
	job = start_job(ring, LFQ_TEST_CONSUME, n);
	if (job < 0)
		problem = strerror(-job);
	else if ((ret = produce(ring, n)))
		problem = strerror(-ret);
	if (job >= 0) {
		const char *verdict = job_verdict(job, n);

		problem = problem ? problem : verdict;
	}
	lfq_ring_destroy(ring);
	return report("user -> kernel", n, now() - t0, problem);
}

static int kernel_to_user(unsigned long long n)
{
	const char *problem;
	struct lfq_ring *ring;
	int job, ret;
	double t0;

	ret = create_ring(&ring);
	if (ret)
		return report("kernel -> user", 0, 0, strerror(-ret));
	t0 = now();
	job = start_job(ring, LFQ_TEST_PRODUCE, n);
	if (job < 0) {
		lfq_ring_destroy(ring);
		return report("kernel -> user", 0, 0, strerror(-job));
	}
	problem = consume(ring, n);
	if (!problem)
		problem = job_verdict(job, n);
	else
		close(job);
	lfq_ring_destroy(ring);
	return report("kernel -> user", n, now() - t0, problem);
}

static int process_to_process(unsigned long long n)
{
	struct lfq_ring *ring;
	const char *problem;
	int status, ret;
	double t0;
	pid_t pid;

	ret = create_ring(&ring);
	if (ret)
		return report("process <-> process", 0, 0, strerror(-ret));
	t0 = now();
	pid = fork();
	if (pid == 0) {
		struct lfq_ring *child;

		/* the child attaches through the inherited ring fd */
		ret = lfq_ring_attach(&child, lfq_ring_fd(ring));
		_exit(ret || produce(child, n) ? 1 : 0);
	}
	problem = consume(ring, n);
	waitpid(pid, &status, 0);
	if (!problem && (!WIFEXITED(status) || WEXITSTATUS(status)))
		problem = "producer process failed";
	lfq_ring_destroy(ring);
	return report("process <-> process", n, now() - t0, problem);
}

int main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	int failed = 0;

	printf("Vyukov MPMC ring, capacity %u, %u-byte items, one /dev/lfq ring per path\n",
	       CAPACITY, ELEM_SIZE);
	failed |= user_to_kernel(n);
	failed |= kernel_to_user(n);
	failed |= process_to_process(n);
	return failed;
}
