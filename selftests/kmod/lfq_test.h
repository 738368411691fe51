/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/lfq_test, the ioctls of the test peer lfq_test.ko: attach kernel
 * producer or consumer threads (a job) to a ring fd of the caller (a
 * Vyukov, turn, MPSC or sequencer ring, or thieves on a work-stealing
 * deque) and collect what they saw.
 *
 *   job = ioctl(dev, LFQ_TEST_IOC_START, &job)   a new job fd (close-on-exec)
 *   ioctl(job, LFQ_TEST_IOC_STOP)                ends the threads' work now
 *   ioctl(job, LFQ_TEST_IOC_RESULT, &result)     waits for the end
 *   poll(job, POLLIN)                            readable once it has ended
 *   close(job)                                   stops the threads
 *
 * A job holds its own reference to the ring, so it runs on even when the
 * caller has closed and unmapped every ring fd. It ends when its threads
 * are done, on the first error, when nothing moved for timeout_ms, or at
 * deadline_ms, whichever comes first; closing the job fd stops it at once.
 * RESULT on a non-blocking job fd fails with EAGAIN until the job ended.
 *
 * Producers write lfq_test_item.h items: thread i has producer id
 * producers + i and writes seq 0..items-1. Consumers expect producer ids
 * 0..producers-1 with items each and check every item: well-formed, never
 * seen before (a bitmap shared by the job's threads), and, per consumer
 * thread, in increasing seq order for each producer.
 *
 * On a Vyukov ring a call of burst n is one lfq_vyukov_push_burst() or
 * lfq_vyukov_pop_burst(). The turn ring has no burst calls, so there a
 * call of burst n is one blocking lfq_turn_push() (pop) followed by up
 * to n - 1 lfq_turn_try_push() (try_pop) until one fails: 1..n items, as
 * a Vyukov burst moves. With LFQ_TEST_F_RESERVE every item of a turn
 * ring is written or read in its slot instead, between
 * lfq_turn_*_reserve() and lfq_turn_*_commit() (the consumer copies the
 * item out before its commit and checks the copy); a commit that fails
 * (the slot was scribbled) counts as -EIO.
 * Kernel threads never hold a ticket while they sleep (see kmod/turn.c),
 * so a job never leaves a hole in a turn ring, however it ends.
 *
 * MPSC rings: every record is one item of elem_size bytes. A producer's
 * call of burst n is one lfq_mpsc_push() (with LFQ_TEST_F_RESERVE:
 * lfq_mpsc_reserve(), the item written in place, lfq_mpsc_commit()),
 * which waits on a BLOCK ring, then up to n - 1 lfq_mpsc_try_push()
 * (try_reserve) until one fails. A record the ring refuses (-ENOSPC: a
 * full DISCARD or OVERWRITE ring) is pushed again, same seq, after a
 * tick, so that consumers can still expect every item; hdr->dropped
 * counts the refusals. A consume job has exactly one thread, which takes
 * bursts with lfq_mpsc_peek_burst() and frees them with
 * lfq_mpsc_release() (copying each item out first), or pops one record
 * with lfq_mpsc_pop() (which sleeps) when burst is 1 or none is ready; a
 * record that is not elem_size bytes long counts as malformed.
 * LFQ_TEST_F_RESERVE changes only the producers. On an OVERWRITE ring the
 * producers free records unread, counted in hdr->overwritten: the
 * consumer ends once the items it took plus hdr->overwritten reach
 * items * producers, and reports those as missing, so it wants a new ring
 * of its own. LFQ_TEST_F_IRQ adds producers in interrupt context (below).
 *
 * Sequencer rings (LFQ_RING_SEQ): a produce job's call of burst n is
 * one lfq_seq_claim_up_to(n) (which waits while the slowest barrier is
 * a ring behind), the 1..n items written in place, and one
 * lfq_seq_publish_range(); a LFQ_SEQ_SINGLE ring takes one produce
 * thread. In a consume job every thread is a consumer of its own
 * (multicast): START joins each thread's barrier (lfq_seq_join(),
 * following @follows, waiting the @wait way) before it returns, so
 * every item published after START reaches every thread; the barriers
 * taken are the lowest free ones, in thread order. A thread waits for
 * the next sequence, checks the batch (at most burst items) in place and
 * finishes it with lfq_seq_done(). Each thread expects every item of
 * every producer, each producer's in seq order (a repeat counts as
 * duplicate, a gap as misordered, what never came as missing); moved and
 * missing add up the threads' counts. LFQ_TEST_F_STAMP (one thread): a
 * consume thread, once it has checked an item, stamps it in place (check
 * = ~check) for the stage after it; LFQ_TEST_F_STAMPED: a consume thread
 * expects stamped items (the stage before it stamped them), counting
 * others as malformed. A thread that ends short (an error, the timeout
 * or deadline, close) leaves its barrier at once: it holds back no
 * producer, and its followers get -EPIPE. One that finished its items
 * keeps its barrier, at its last sequence, until the job fd is closed,
 * so that a stage following it can still read up to there.
 *
 * Work-stealing deques (LFQ_RING_WSDEQUE) take consume jobs only: every
 * thread is a thief, stealing one item a call with lfq_wsdeque_steal(),
 * or up to burst with lfq_wsdeque_steal_batch(), checked as on the other
 * rings (the bitmap, and each thread's items in seq order per producer:
 * steals take the oldest). The owner, a user program, pushes and pops
 * at the bottom, so nobody knows beforehand how many items the thieves
 * will get: they steal until LFQ_TEST_IOC_STOP (or close), which the
 * owner calls once it has drained the deque itself; missing counts the
 * items the thieves never saw, which the owner should have popped, and
 * checksum adds up their check words, so that the owner can tell that
 * the two sides took every item exactly once between them. A thread
 * finding the deque empty looks again after a short sleep; the timeout
 * ends the job as for the other rings when the owner stalls.
 *
 * Errors of START: EFAULT (bad pointer), EINVAL (nonzero reserved field,
 * unknown flag or role, a count out of range, not an lfq ring fd, a ring
 * whose elements cannot hold a test item, LFQ_TEST_F_RESERVE on a ring
 * that is not a turn or MPSC ring, LFQ_TEST_F_IRQ on a ring that is not
 * an MPSC ring or with role consume, a consume job on an MPSC ring with
 * more than one thread; follows or wait nonzero but on a sequencer
 * consume job, wait above LFQ_SEQ_WAIT_BLOCK, follows neither
 * LFQ_SEQ_PRODUCER nor an active barrier; LFQ_TEST_F_STAMP or _STAMPED
 * but on a sequencer consume job, LFQ_TEST_F_STAMP with more than one
 * thread; more than one produce thread on a LFQ_SEQ_SINGLE ring; a
 * produce job on a deque), E2BIG
 * (the consumer's bitmap, items * producers bits, is above
 * LFQ_TEST_MAX_SEEN; sequencer consumers need none), EBUSY (too few free
 * barriers on a sequencer ring for the threads), EBADF, ENOMEM.
 * STOP on a job fd never fails; unknown ioctls fail with ENOTTY.
 */
#ifndef _LFQ_TEST_H
#define _LFQ_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* struct lfq_test_job.role */
#define LFQ_TEST_PRODUCE	1
#define LFQ_TEST_CONSUME	2

/*
 * struct lfq_test_job.flags
 * LFQ_TEST_F_SURVIVE_EIO: a thread that finds the ring corrupt (-EIO)
 * counts it in io_errors, sleeps a tick and carries on until its items,
 * timeout or deadline, instead of ending the job: for rings that a test
 * corrupts on purpose.
 */
#define LFQ_TEST_F_SURVIVE_EIO	(1U << 0)
/* Turn and MPSC rings: move every item in place, reserve and commit. */
#define LFQ_TEST_F_RESERVE	(1U << 1)
/*
 * MPSC rings, role produce: besides its threads, the job produces from
 * three interrupt sources at once, each with its own producer id and
 * items items: a timer_list (softirq, id producers + threads, up to 16
 * items a jiffy), an hrtimer (hardirq, id producers + threads + 1, an
 * item every 100 us) and NMIs (id producers + threads + 2, an item per
 * NMI). A kernel thread of the job sends the NMIs to its own CPU (an x86
 * IPI with NMI_VECTOR), one at a time about every 100 us, and waits for
 * each: one that has not come after 10 ms ends the job with -ETIMEDOUT.
 * Each firing pushes with lfq_mpsc_try_push() and keeps a refused item
 * for its next firing. producers + threads + 3 <= LFQ_TEST_MAX_PRODUCERS.
 */
#define LFQ_TEST_F_IRQ		(1U << 2)
/* Sequencer rings, role consume: stamp checked items; expect stamped ones. */
#define LFQ_TEST_F_STAMP	(1U << 3)
#define LFQ_TEST_F_STAMPED	(1U << 4)
#define LFQ_TEST_F_ALL		(LFQ_TEST_F_SURVIVE_EIO | LFQ_TEST_F_RESERVE | \
				 LFQ_TEST_F_IRQ | LFQ_TEST_F_STAMP | \
				 LFQ_TEST_F_STAMPED)

/* Index of struct lfq_test_result.ctx_moved: the context of a push. */
#define LFQ_TEST_CTX_TASK	0
#define LFQ_TEST_CTX_SOFTIRQ	1
#define LFQ_TEST_CTX_HARDIRQ	2
#define LFQ_TEST_CTX_NMI	3
#define LFQ_TEST_NR_CTX		4

#define LFQ_TEST_MAX_THREADS	16
#define LFQ_TEST_MAX_BURST	32
#define LFQ_TEST_MAX_PRODUCERS	64		/* producer ids 0..63 */
#define LFQ_TEST_MAX_ITEMS	(1ULL << 24)	/* per producer */
#define LFQ_TEST_MAX_SEEN	(1ULL << 28)	/* consumer bitmap bits */
#define LFQ_TEST_MAX_MS		600000U		/* timeout_ms, deadline_ms */
#define LFQ_TEST_MAX_PAUSE_US	100000U

/**
 * struct lfq_test_job - LFQ_TEST_IOC_START argument
 * @ring_fd:	(in) a ring fd of the caller, from LFQ_IOC_CREATE
 * @role:	(in) LFQ_TEST_PRODUCE or LFQ_TEST_CONSUME
 * @threads:	(in) kernel threads, 1..LFQ_TEST_MAX_THREADS
 * @burst:	(in) items per push or pop call, 1..LFQ_TEST_MAX_BURST
 * @items:	(in) items per producer, 1..LFQ_TEST_MAX_ITEMS: produce: each
 *		thread writes that many; consume: the job expects that many
 *		from each of @producers producers
 * @producers:	(in) produce: the producer id of thread 0, and
 *		@producers + @threads <= LFQ_TEST_MAX_PRODUCERS; consume: the
 *		number of producers to expect, 1..LFQ_TEST_MAX_PRODUCERS
 * @timeout_ms:	(in) end the job when no thread moved an item for this
 *		long, 1..LFQ_TEST_MAX_MS; a blocked thread waits this long
 * @deadline_ms:(in) end the job this long after it started, whatever it
 *		is doing, 1..LFQ_TEST_MAX_MS; 0 for LFQ_TEST_MAX_MS
 * @flags:	(in) LFQ_TEST_F_*
 * @pause_every:(in) each thread sleeps @pause_us after every @pause_every
 *		items it moved, so that its peers run dry and sleep; 0: never
 * @pause_us:	(in) 1..LFQ_TEST_MAX_PAUSE_US if @pause_every, else 0
 * @follows:	(in) sequencer consume jobs: LFQ_SEQ_PRODUCER or the index
 *		of the barrier the job's consumers follow; 0 otherwise
 * @wait:	(in) sequencer consume jobs: LFQ_SEQ_WAIT_SPIN, _YIELD or
 *		_BLOCK (kmod/lfq.h), how the consumers wait; 0 otherwise
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
	__u32 deadline_ms;
	__u32 flags;
	__u32 pause_every;
	__u32 pause_us;
	__u32 follows;
	__u32 wait;
	__u64 __resv[1];
};

/**
 * struct lfq_test_result - LFQ_TEST_IOC_RESULT output
 * @moved:	items pushed (produce) or popped (consume)
 * @malformed:	popped items that were not well-formed items from one of
 *		the expected producers with a seq below items
 * @duplicates:	popped items seen before
 * @misordered:	popped items whose seq was not above the last one the same
 *		consumer thread saw from the same producer
 * @missing:	consume: expected items never seen
 * @ring_errors:lfq_ring_errors() of the ring when the job ended
 * @io_errors:	-EIO returns the threads survived (LFQ_TEST_F_SURVIVE_EIO)
 * @nsecs:	from the start to the end of the last thread
 * @error:	the error that ended the job (negative errno: -ETIMEDOUT for
 *		the timeout or deadline, -EIO, -ENOMEM), or 0 if every thread
 *		finished its work
 * @__pad:	zero
 * @ctx_moved:	produce: items pushed in each context (LFQ_TEST_CTX_*),
 *		as in_nmi(), in_hardirq(), in_serving_softirq() said at the
 *		push; they add up to @moved
 * @checksum:	consume: the sum (mod 2^64) of the check words of the
 *		well-formed items taken, repeats included
 * @__resv:	zero
 */
struct lfq_test_result {
	__u64 moved;
	__u64 malformed;
	__u64 duplicates;
	__u64 misordered;
	__u64 missing;
	__u64 ring_errors;
	__u64 io_errors;
	__u64 nsecs;
	__s32 error;
	__u32 __pad;
	__u64 ctx_moved[LFQ_TEST_NR_CTX];
	__u64 checksum;
	__u64 __resv[1];
};

#define LFQ_TEST_IOC_MAGIC	0xB8	/* lfq's, from 0x40 on */
/* On /dev/lfq_test: returns a new job fd. */
#define LFQ_TEST_IOC_START	_IOW(LFQ_TEST_IOC_MAGIC, 0x40, struct lfq_test_job)
/* On a job fd. */
#define LFQ_TEST_IOC_RESULT	_IOR(LFQ_TEST_IOC_MAGIC, 0x41, struct lfq_test_result)
/* Threads end at their next look, as if done; the result tells what they did. */
#define LFQ_TEST_IOC_STOP	_IO(LFQ_TEST_IOC_MAGIC, 0x42)

#endif /* _LFQ_TEST_H */
