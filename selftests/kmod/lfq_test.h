/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/lfq_test, the test peer's ioctls: attach kernel producer or consumer
 * threads to a ring fd of the caller and collect what they saw.
 *
 *   job = ioctl(dev, LFQ_TEST_IOC_START, &job)   a new job fd (cloexec)
 *   ioctl(job, LFQ_TEST_IOC_RESULT, &result)     waits for the end
 *   close(job)                                   stops the threads
 *
 * Producers write lfq_test_item.h items, ids first_id.., seq 0..items-1.
 * Consumers expect ids 0..producers-1, items of each, and check them.
 */
#ifndef _LFQ_TEST_H
#define _LFQ_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LFQ_TEST_PRODUCE	1
#define LFQ_TEST_CONSUME	2

#define LFQ_TEST_MAX_THREADS	16
#define LFQ_TEST_MAX_BURST	32
#define LFQ_TEST_MAX_ITEMS	(1ULL << 24)	/* per producer */

/**
 * struct lfq_test_job - LFQ_TEST_IOC_START argument
 * @ring_fd:	(in) a ring fd of the caller
 * @role:	(in) LFQ_TEST_PRODUCE or LFQ_TEST_CONSUME
 * @threads:	(in) kthreads, 1..LFQ_TEST_MAX_THREADS
 * @burst:	(in) items per call, 1..LFQ_TEST_MAX_BURST
 * @items:	(in) items per producer, 1..LFQ_TEST_MAX_ITEMS
 * @producers:	(in) produce: id of the first thread; consume: producer ids
 *		0..producers-1 to expect (1..64)
 * @timeout_ms:	(in) the job gives up after this long without progress
 * @__resv:	must be zero
 */
struct lfq_test_job {
	__s32 ring_fd;
	__u32 role;
	__u32 threads;
	__u32 burst;
	__u64 items;
	__u32 producers;
	__u32 timeout_ms;
	__u64 __resv[2];
};

/**
 * struct lfq_test_result - LFQ_TEST_IOC_RESULT output
 * @moved:	items pushed or popped
 * @malformed:	popped items that were not well-formed
 * @duplicates:	popped items seen before
 * @misordered:	popped items older than one already seen from the same
 *		producer by the same thread
 * @missing:	consume: expected items never seen
 * @ring_errors:lfq_ring_errors() at the end
 * @nsecs:	from start to the end of the last thread
 * @error:	first error a thread stopped on (negative errno), or 0
 * @__pad:	zero
 */
struct lfq_test_result {
	__u64 moved;
	__u64 malformed;
	__u64 duplicates;
	__u64 misordered;
	__u64 missing;
	__u64 ring_errors;
	__u64 nsecs;
	__s32 error;
	__u32 __pad;
};

#define LFQ_TEST_IOC_MAGIC	0xB8
#define LFQ_TEST_IOC_START	_IOW(LFQ_TEST_IOC_MAGIC, 0x40, struct lfq_test_job)
#define LFQ_TEST_IOC_RESULT	_IOR(LFQ_TEST_IOC_MAGIC, 0x41, struct lfq_test_result)

#endif /* _LFQ_TEST_H */
