// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_test.ko: the kernel peer of lfq.ko, written only against its exported
 * symbols (namespace LFQ), as another subsystem would be.
 *
 * At load it tests the in-kernel API of the five rings (bad parameters,
 * full and empty rings, bursts, drain, timeouts, wake-ups between kernel
 * threads, -EINTR on kthread_stop() and on a signal; for the turn ring
 * also reserve and commit in place, forged and double commits, held
 * reservations, skipped and corrupt slots; for the MPSC ring records of
 * every length and wrapping ones, peek_burst and release, forged commits
 * and releases, the three policies, records without payload, corrupt
 * headers, a producer in hardirq; for the sequencer claim, publish, wait
 * and done with one producer and many, every refusal, multicast, late
 * joins, pipelines, the three ways to wait, scribbled barriers, and its
 * jobs; for the work-stealing deque its handles, LIFO pops, FIFO steals,
 * steal_batch, laps, odd element sizes and scribbled top and bottom) and
 * runs a kthread stress of each ring (producers x consumers on small
 * capacities, so that both sides sleep and wake each other; MPSC
 * producers also in softirq, hardirq and NMI; sequencer pipelines; a
 * deque's owner against its thieves, and the race for its last element),
 * prints KTAP, and fails the load with -EINVAL if any check failed
 * (kselftest_module.h, as lib/test_strscpy.c).
 *
 * The turn and MPSC tests reach a slot's header through a reservation:
 * the ABI (uapi/linux/lfq.h) puts it in the LFQ_TURN_SLOT_HDR or
 * LFQ_MPSC_SLOT_HDR bytes before the element, and the slots
 * LFQ_TURN_SLOTS_OFF or LFQ_MPSC_SLOTS_OFF bytes after the ring header;
 * the sequencer tests find theirs from lfq_seq_elem() the same way.
 * The deque's API gives no such pointer: its tests map a deque that
 * insmod creates on /dev/lfq, as a scribbling process would.
 * That is the layout any user of the ring sees, not lfq.ko's internals.
 *
 * Its misc device /dev/lfq_test then lets userspace attach jobs of kernel
 * producer or consumer threads to a ring fd (see lfq_test.h): user->kernel
 * and kernel->user transfers, rings that outlive their fds, and rings that
 * userspace corrupts on purpose.
 *
 * Every job is bounded: its threads stop at its deadline, after timeout_ms
 * without progress, on the first error, or when the job fd is closed
 * (kthread_stop()); the job fd pins the module, so rmmod waits for none of
 * them. A thread only ever touches its own copy of an element, or a slot
 * it holds (reserved, claimed, or waited for and not yet finished).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/irq_vectors.h>
#include <asm/nmi.h>

#include "kmod/lfq.h"
#include "selftests/lfq_test_item.h"
#include "selftests/kmod/lfq_test.h"
#include "kselftest_module.h"

static bool stress = true;
module_param(stress, bool, 0444);
MODULE_PARM_DESC(stress, "Run the kthread stress at load (default true)");

static unsigned int scale = 1;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "Multiply the load-time stress item counts (default 1)");

/* ---- jobs: kernel threads on one ring ------------------------------------ */

struct job;

/* The interrupt-context producers of an LFQ_TEST_F_IRQ job. */
enum {
	IRQ_TIMER,			/* timer_list: softirq */
	IRQ_HRTIMER,			/* hrtimer: hardirq */
	IRQ_NMI,			/* NMIs to our own CPU */
	IRQ_NR,
};

/*
 * The timer_list fires every jiffy and pushes up to IRQ_TIMER_BATCH
 * items, the hrtimer fires every IRQ_HRTIMER_PERIOD and pushes one.
 */
#define IRQ_TIMER_BATCH		16
#define IRQ_HRTIMER_PERIOD	ns_to_ktime(100 * NSEC_PER_USEC)
/* NMIs go out one at a time, this often; each must arrive this soon. */
#define IRQ_NMI_PERIOD_US	100
#define IRQ_NMI_WAIT_US		10000

struct irq_src {
	struct job *job;
	u32 id;				/* producer id */
	u64 seq;			/* next item: refused ones stay */
	u8 *buf;			/* the item, elem_size bytes */
};

struct job_thread {
	struct job *job;
	struct task_struct *task;
	unsigned int index;
	u64 since_pause;		/* items moved since the last pause */
	/* sequencer consume: the thread's consumer, joined by job_start() */
	struct lfq_seq_consumer c;
	u64 seq_end;			/* its last sequence: done there */
	bool joined;
};

struct job {
	struct lfq_ring *ring;
	struct lfq_test_job p;
	u32 type;			/* LFQ_RING_* */
	u32 policy;			/* LFQ_MPSC_* of an MPSC ring */
	u32 elem_size;
	u64 total;			/* consume: items * producers */
	unsigned long timeout;		/* jiffies without progress */
	unsigned long deadline;		/* jiffies */
	unsigned long last_progress;	/* jiffies */
	/* p.threads, then the irq thread of LFQ_TEST_F_IRQ */
	struct job_thread threads[LFQ_TEST_MAX_THREADS + 1];
	unsigned int nr_tasks;
	atomic_t running;
	bool stopping;			/* end now: a failure, close, IOC_STOP */
	struct delayed_work watchdog;	/* kicks every thread at the deadline */
	bool ended;			/* every thread is done */
	wait_queue_head_t wq;		/* for ended */
	atomic64_t moved, malformed, duplicates, misordered, io_errors;
	atomic64_t missing;		/* sequencer consume: counted as we go */
	atomic64_t checksum;		/* consume: check words of items taken */
	atomic64_t ctx_moved[LFQ_TEST_NR_CTX];
	atomic64_t refused;		/* MPSC: refusals hdr->dropped counts */
	atomic_t error;
	unsigned long *seen;		/* consume (not sequencer): total bits */
	u64 start_ns, end_ns;
	u64 ring_errors;		/* lfq_ring_errors() at the end */

	/* LFQ_TEST_F_IRQ */
	struct irq_src irq[IRQ_NR];
	struct timer_list timer;
	struct hrtimer hrtimer;
	bool irq_off;			/* the timers stop re-arming */
};

/*
 * Wake every thread of the job out of a blocking lfq call: they allow
 * SIGUSR1, and lfq's blocking calls return -EINTR on a signal.
 */
static void job_kick(struct job *job)
{
	unsigned int i;

	for (i = 0; i < job->nr_tasks; i++)
		if (job->threads[i].task)
			send_sig(SIGUSR1, job->threads[i].task, 1);
}

static void job_stop(struct job *job)
{
	WRITE_ONCE(job->stopping, true);
	job_kick(job);
}

/*
 * The deadline holds even while a thread is inside an lfq call whose own
 * timeout runs late (a ring that userspace garbles can keep a blocking
 * call retrying): a kick makes it return -EINTR, and the thread then
 * finds its time up.
 */
static void job_watchdog(struct work_struct *work)
{
	job_kick(container_of(to_delayed_work(work), struct job, watchdog));
}

static void job_fail(struct job *job, int err)
{
	atomic_cmpxchg(&job->error, 0, err);
	job_stop(job);
}

static bool job_expired(struct job *job)
{
	return time_after_eq(jiffies, job->deadline);
}

static bool job_stalled(struct job *job)
{
	return time_after(jiffies, READ_ONCE(job->last_progress) + job->timeout);
}

/* How long the next blocking call may wait; 0 once the deadline passed. */
static long job_slice(struct job *job)
{
	unsigned long now = jiffies;

	if (time_after_eq(now, job->deadline))
		return 0;
	return min(job->timeout, job->deadline - now);
}

/* The context we run in, as struct lfq_test_result.ctx_moved counts it. */
static unsigned int job_ctx(void)
{
	if (in_nmi())
		return LFQ_TEST_CTX_NMI;
	if (in_hardirq())
		return LFQ_TEST_CTX_HARDIRQ;
	if (in_serving_softirq())
		return LFQ_TEST_CTX_SOFTIRQ;
	return LFQ_TEST_CTX_TASK;
}

/* n items moved: any context, NMI included. */
static void job_count(struct job *job, int n)
{
	atomic64_add(n, &job->moved);
	if (job->p.role == LFQ_TEST_PRODUCE)
		atomic64_add(n, &job->ctx_moved[job_ctx()]);
	WRITE_ONCE(job->last_progress, jiffies);
}

/* An MPSC ring refused a record: count it where the ring counts it too. */
static void job_refused(struct job *job)
{
	if (job->policy != LFQ_MPSC_BLOCK)
		atomic64_inc(&job->refused);
}

static void job_moved(struct job_thread *t, int n)
{
	struct job *job = t->job;

	job_count(job, n);
	if (!job->p.pause_every)
		return;
	t->since_pause += n;
	if (t->since_pause >= job->p.pause_every) {
		t->since_pause = 0;
		usleep_range(job->p.pause_us, job->p.pause_us + 50);
	}
}

/*
 * What a blocking call's result means for the thread: > 0 items moved,
 * 0 look again (a kick, a wait that timed out while others progress, a
 * survived -EIO, a record an MPSC ring refused), < 0 the thread ends
 * with that error (-EINTR: stopped).
 */
static int job_step(struct job *job, int ret)
{
	if (ret > 0)
		return ret;
	switch (ret) {
	case -EINTR:
		if (kthread_should_stop())
			return -EINTR;
		flush_signals(current);
		return 0;
	case -ETIMEDOUT:
		return job_expired(job) || job_stalled(job) ? -ETIMEDOUT : 0;
	case -EIO:
		atomic64_inc(&job->io_errors);
		if (!(job->p.flags & LFQ_TEST_F_SURVIVE_EIO))
			return -EIO;
		if (job_expired(job) || job_stalled(job))
			return -ETIMEDOUT;
		schedule_timeout_interruptible(1);
		return 0;
	case -ENOSPC:
		/* a full DISCARD or OVERWRITE ring: the same item, a tick later */
		if (job_expired(job) || job_stalled(job))
			return -ETIMEDOUT;
		schedule_timeout_interruptible(1);
		return 0;
	}
	return ret;
}

/*
 * Check one popped item, this thread's private copy, against what we saw.
 * Consumers that share the items mark them in the job's bitmap; a
 * sequencer consumer sees every item itself, each producer's in order, so
 * last[] alone tells a repeat (duplicate) from a gap (misordered, and
 * what it skipped is missing).
 */
static void job_check(struct job *job, s64 *last, const void *elem)
{
	struct lfq_test_item it = lfq_test_item_get(elem);
	u64 items = job->p.items;
	s64 prev;

	if (lfq_test_item_bad(elem, job->elem_size, job->p.producers) ||
	    it.seq >= items) {
		atomic64_inc(&job->malformed);
		return;
	}
	atomic64_add(it.check, &job->checksum);
	prev = last[it.producer];
	if (job->seen) {
		if (test_and_set_bit(it.producer * items + it.seq, job->seen))
			atomic64_inc(&job->duplicates);
		if ((s64)it.seq <= prev)
			atomic64_inc(&job->misordered);
	} else if ((s64)it.seq <= prev) {
		atomic64_inc(&job->duplicates);
		return;
	} else if ((s64)it.seq != prev + 1) {
		atomic64_inc(&job->misordered);
		atomic64_add(it.seq - prev - 1, &job->missing);
	}
	last[it.producer] = it.seq;
}

/*
 * A commit that fails: the slot under our reservation no longer holds the
 * turn we reserved it at, which only a scribbler can do.
 */
static int job_commit_ret(int ret)
{
	return ret ? -EIO : 0;
}

/*
 * MPSC: one lfq_mpsc_push() (lfq_mpsc_reserve() and commit) that waits
 * on a BLOCK ring, then try_ ones until one fails; a record the ring
 * refuses is -ENOSPC.
 */
static int job_mpsc_push(struct job_thread *t, u8 *buf, unsigned int n,
			 u64 seq, long slice)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index, size = job->elem_size;
	struct lfq_mpsc_res res;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		if (!(job->p.flags & LFQ_TEST_F_RESERVE)) {
			ret = i ? lfq_mpsc_try_push(job->ring, buf + i * size, size) :
				  lfq_mpsc_push(job->ring, buf, size, slice);
		} else {
			ret = i ? lfq_mpsc_try_reserve(job->ring, size, &res) :
				  lfq_mpsc_reserve(job->ring, size, &res, slice);
			if (!ret) {
				lfq_test_item_make(res.data, size, id, seq + i);
				ret = job_commit_ret(lfq_mpsc_commit(job->ring,
								     &res));
			}
		}
		if (ret == -ENOSPC)
			job_refused(job);
		if (ret)
			return i ? i : ret;
	}
	return n;
}

/*
 * Sequencer: claim 1..n sequences, make their items in place, publish
 * them. A publish refused right after our claim means a scribbled ring.
 */
static int job_seq_push(struct job_thread *t, unsigned int n, u64 seq,
			long slice)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index;
	u64 first;
	int got, i;

	got = lfq_seq_claim_up_to(job->ring, n, &first, slice);
	if (got < 0)
		return got;
	for (i = 0; i < got; i++)
		lfq_test_item_make(lfq_seq_elem(job->ring, first + i),
				   job->elem_size, id, seq + i);
	return lfq_seq_publish_range(job->ring, first, first + got - 1) ?
	       -EIO : got;
}

/* Whether producers make their items in the ring rather than in buf. */
static bool job_in_place(const struct job *job)
{
	return job->p.flags & LFQ_TEST_F_RESERVE || job->type == LFQ_RING_SEQ;
}

/*
 * Push 1..n items of buf (made by the caller) or, job_in_place(), items
 * made in their slots: as lfq_vyukov_push_burst() returns.
 */
static int job_push(struct job_thread *t, u8 *buf, unsigned int n, u64 seq,
		    long slice)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index, size = job->elem_size;
	struct lfq_turn_ref ref;
	unsigned int i;
	int ret;

	if (job->type == LFQ_RING_VYUKOV)
		return lfq_vyukov_push_burst(job->ring, buf, n, slice);
	if (job->type == LFQ_RING_MPSC)
		return job_mpsc_push(t, buf, n, seq, slice);
	if (job->type == LFQ_RING_SEQ)
		return job_seq_push(t, n, seq, slice);
	for (i = 0; i < n; i++) {
		if (!(job->p.flags & LFQ_TEST_F_RESERVE)) {
			ret = i ? lfq_turn_try_push(job->ring, buf + i * size) :
				  lfq_turn_push(job->ring, buf, slice);
		} else {
			ret = i ? lfq_turn_try_push_reserve(job->ring, &ref) :
				  lfq_turn_push_reserve(job->ring, &ref, slice);
			if (!ret) {
				lfq_test_item_make(ref.elem, size, id, seq + i);
				ret = job_commit_ret(lfq_turn_push_commit(job->ring,
									  &ref));
			}
		}
		if (ret)
			return i ? i : ret;
	}
	return n;
}

/*
 * Our copy of an MPSC record: a record that is not one item long is
 * zeroed, which job_check() counts as malformed.
 */
static void job_mpsc_copy(struct job *job, u8 *dst, const void *src, u32 len)
{
	if (len == job->elem_size)
		memcpy(dst, src, len);
	else
		memset(dst, 0, job->elem_size);
}

/*
 * MPSC, the ring's one consumer: up to n records taken in place with
 * lfq_mpsc_peek_burst(), copied out and freed by one lfq_mpsc_release()
 * of the last; when none is ready, or n is 1, one lfq_mpsc_pop(), which
 * sleeps until a record is committed.
 */
static int job_mpsc_pop(struct job *job, struct lfq_mpsc_res *res, u8 *buf,
			unsigned int n, long slice)
{
	u32 size = job->elem_size;
	int got, i, ret;

	if (n > 1) {
		got = lfq_mpsc_peek_burst(job->ring, res, n);
		if (got > 0) {
			for (i = 0; i < got; i++)
				job_mpsc_copy(job, buf + i * size, res[i].data,
					      res[i].len);
			/* refused: the record was scribbled under us */
			ret = lfq_mpsc_release(job->ring, &res[got - 1]);
			return ret ? -EIO : got;
		}
		if (got != -EAGAIN && got != -EBUSY)
			return got;
	}
	ret = lfq_mpsc_pop(job->ring, buf, size, slice);
	if (ret >= 0) {
		if (ret != size)
			memset(buf, 0, size);
		return 1;
	}
	if (ret != -EMSGSIZE)
		return ret;
	/* longer than an item: take it in place to drop it */
	ret = lfq_mpsc_peek(job->ring, res);
	if (ret)
		return ret == -EAGAIN || ret == -EBUSY ? 0 : ret;
	job_mpsc_copy(job, buf, res->data, res->len);
	return lfq_mpsc_release(job->ring, res) ? -EIO : 1;
}

/* Pop 1..n items into buf, as lfq_vyukov_pop_burst() returns. */
static int job_pop(struct job *job, struct lfq_mpsc_res *res, u8 *buf,
		   unsigned int n, long slice)
{
	u32 size = job->elem_size;
	struct lfq_turn_ref ref;
	unsigned int i;
	int ret;

	if (job->type == LFQ_RING_VYUKOV)
		return lfq_vyukov_pop_burst(job->ring, buf, n, slice);
	if (job->type == LFQ_RING_MPSC)
		return job_mpsc_pop(job, res, buf, n, slice);
	for (i = 0; i < n; i++) {
		if (!(job->p.flags & LFQ_TEST_F_RESERVE)) {
			ret = i ? lfq_turn_try_pop(job->ring, buf + i * size) :
				  lfq_turn_pop(job->ring, buf, slice);
		} else {
			ret = i ? lfq_turn_try_pop_reserve(job->ring, &ref) :
				  lfq_turn_pop_reserve(job->ring, &ref, slice);
			if (!ret) {
				/* our own copy, before the slot goes back */
				memcpy(buf + i * size, ref.elem, size);
				ret = job_commit_ret(lfq_turn_pop_commit(job->ring,
									 &ref));
			}
		}
		if (ret)
			return i ? i : ret;
	}
	return n;
}

static int job_produce(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index, size = job->elem_size;
	unsigned int i, n;
	u64 seq = 0;
	long slice;
	int ret;

	while (seq < job->p.items) {
		if (READ_ONCE(job->stopping))
			return 0;
		slice = job_slice(job);
		if (!slice)
			return -ETIMEDOUT;
		n = min_t(u64, job->p.burst, job->p.items - seq);
		if (!job_in_place(job))
			for (i = 0; i < n; i++)
				lfq_test_item_make(buf + i * size, size, id,
						   seq + i);
		ret = job_step(job, job_push(t, buf, n, seq, slice));
		if (ret < 0)
			return ret;
		seq += ret;
		if (ret)
			job_moved(t, ret);
	}
	return 0;
}

/*
 * Whether every item is in, whichever thread popped it. On an MPSC ring
 * the items that producers overwrote are in too: it counts them in
 * hdr->overwritten, and they are never seen (missing).
 */
static bool job_all_in(struct job *job)
{
	u64 in = atomic64_read(&job->moved);
	struct lfq_mpsc_stats st;

	if (job->type == LFQ_RING_MPSC) {
		lfq_mpsc_stats(job->ring, &st);
		in += st.overwritten;
	}
	return in >= job->total;
}

static int job_consume(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	struct lfq_mpsc_res *res;
	unsigned int i;
	long slice;
	s64 *last;
	int ret = -ENOMEM;

	last = kmalloc_array(job->p.producers, sizeof(*last), GFP_KERNEL);
	res = kmalloc_array(job->p.burst, sizeof(*res), GFP_KERNEL);
	if (!last || !res)
		goto out;
	for (i = 0; i < job->p.producers; i++)
		last[i] = -1;
	ret = 0;
	while (!READ_ONCE(job->stopping) && !job_all_in(job)) {
		slice = job_slice(job);
		if (!slice) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = job_step(job, job_pop(job, res, buf, job->p.burst, slice));
		if (ret < 0)
			break;
		for (i = 0; i < ret; i++)
			job_check(job, last, buf + i * job->elem_size);
		if (ret)
			job_moved(t, ret);
		ret = 0;
	}
out:
	kfree(res);
	kfree(last);
	/* the others may sleep for an item that will never come */
	if (!ret)
		job_kick(job);
	return ret;
}

static void job_seq_leave(struct job_thread *t)
{
	if (t->joined)
		lfq_seq_leave(&t->c);
	t->joined = false;
}

/*
 * Check a sequencer item in place, through our copy in buf (unstamped
 * for job_check() if LFQ_TEST_F_STAMPED), then with LFQ_TEST_F_STAMP
 * flip the ring's check word for the stage after us. Elements and buf
 * are 8-byte aligned.
 */
static void job_seq_check(struct job *job, s64 *last, u8 *buf, void *elem)
{
	const size_t off = offsetof(struct lfq_test_item, check);
	u64 check;

	memcpy(buf, elem, job->elem_size);
	check = *(u64 *)(buf + off);
	if (job->p.flags & LFQ_TEST_F_STAMPED)
		*(u64 *)(buf + off) = ~check;
	job_check(job, last, buf);
	if (job->p.flags & LFQ_TEST_F_STAMP)
		WRITE_ONCE(*(u64 *)((u8 *)elem + off), ~check);
}

/*
 * Sequencer: the thread's own consumer takes every sequence up to its
 * seq_end, in batches of at most burst, each checked in place and then
 * finished. An item a thread never got is missing for that thread.
 */
static int job_seq_consume(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	struct lfq_seq_consumer *c = &t->c;
	u64 avail, n, s;
	unsigned int i;
	long slice;
	s64 *last;
	int ret = 0;

	last = kmalloc_array(job->p.producers, sizeof(*last), GFP_KERNEL);
	if (!last)
		return -ENOMEM;
	for (i = 0; i < job->p.producers; i++)
		last[i] = -1;
	while (c->seq != t->seq_end && !READ_ONCE(job->stopping)) {
		slice = job_slice(job);
		if (!slice) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = lfq_seq_wait(c, c->seq + 1, &avail, slice);
		if (ret) {
			ret = job_step(job, ret);
			if (ret < 0)
				break;
			continue;
		}
		n = min3(avail - c->seq, t->seq_end - c->seq, (u64)job->p.burst);
		for (s = c->seq + 1; s != c->seq + n + 1; s++)
			job_seq_check(job, last, buf, lfq_seq_elem(job->ring, s));
		ret = lfq_seq_done(c, c->seq + n);
		if (ret)
			break;
		job_moved(t, n);
	}
	for (i = 0; i < job->p.producers; i++)
		atomic64_add(job->p.items - 1 - last[i], &job->missing);
	kfree(last);
	return ret;
}

/*
 * Deque thieves steal until the job stops: the owner, a user program,
 * drains the deque itself before it stops the job, so nothing is left
 * behind. A lost race (-EBUSY) is tried again at once, and so is an
 * empty deque for WSD_IDLE_SPINS looks in a row (thieves are at the top
 * while the owner pops the last items), then after a short sleep each.
 */
#define WSD_IDLE_SPINS	64

static int job_wsd_steal(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	struct lfq_wsdeque_stealer s;
	unsigned int i, idle = 0;
	s64 *last;
	int ret;

	ret = lfq_wsdeque_stealer(job->ring, &s);
	if (ret)
		return ret;
	last = kmalloc_array(job->p.producers, sizeof(*last), GFP_KERNEL);
	if (!last)
		return -ENOMEM;
	for (i = 0; i < job->p.producers; i++)
		last[i] = -1;
	while (!READ_ONCE(job->stopping)) {
		if (job_expired(job) || job_stalled(job)) {
			ret = -ETIMEDOUT;
			break;
		}
		if (job->p.burst > 1)
			ret = lfq_wsdeque_steal_batch(&s, buf, job->p.burst);
		else
			ret = lfq_wsdeque_steal(&s, buf) ?: 1;
		if (ret == -EAGAIN || ret == -EBUSY) {
			if (ret == -EAGAIN && ++idle >= WSD_IDLE_SPINS)
				usleep_range(50, 100);
			else
				cond_resched();
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		idle = 0;
		for (i = 0; i < ret; i++)
			job_check(job, last, buf + i * job->elem_size);
		job_moved(t, ret);
		ret = 0;
	}
	kfree(last);
	return ret;
}

/* ---- LFQ_TEST_F_IRQ: producers in interrupt context ---------------------- */

static bool irq_src_done(const struct irq_src *src)
{
	return READ_ONCE(src->seq) >= src->job->p.items;
}

static bool irq_done(const struct job *job)
{
	unsigned int i;

	for (i = 0; i < IRQ_NR; i++)
		if (!irq_src_done(&job->irq[i]))
			return false;
	return true;
}

/*
 * One push of an interrupt source, in any context, NMI included: true if
 * its next item went in. A refused item stays for the next firing. Any
 * other error ends the job through the irq thread: job_fail() sends
 * signals, which we may not do here.
 */
static bool irq_push(struct irq_src *src)
{
	struct job *job = src->job;
	int ret;

	if (irq_src_done(src) || READ_ONCE(job->stopping))
		return false;
	lfq_test_item_make(src->buf, job->elem_size, src->id, src->seq);
	ret = lfq_mpsc_try_push(job->ring, src->buf, job->elem_size);
	if (!ret) {
		WRITE_ONCE(src->seq, src->seq + 1);
		job_count(job, 1);
		return true;
	}
	if (ret == -ENOSPC)
		job_refused(job);
	else if (ret == -EIO && job->p.flags & LFQ_TEST_F_SURVIVE_EIO)
		atomic64_inc(&job->io_errors);
	else
		atomic_cmpxchg(&job->error, 0, ret);
	return false;
}

/* Softirq: a few items every jiffy. */
static void irq_timer_fn(struct timer_list *timer)
{
	struct job *job = from_timer(job, timer, timer);
	unsigned int i;

	for (i = 0; i < IRQ_TIMER_BATCH; i++)
		if (!irq_push(&job->irq[IRQ_TIMER]))
			break;
	if (!irq_src_done(&job->irq[IRQ_TIMER]) && !READ_ONCE(job->irq_off))
		mod_timer(timer, jiffies + 1);
}

/* Hardirq: one item every IRQ_HRTIMER_PERIOD. */
static enum hrtimer_restart irq_hrtimer_fn(struct hrtimer *timer)
{
	struct job *job = container_of(timer, struct job, hrtimer);

	irq_push(&job->irq[IRQ_HRTIMER]);
	if (irq_src_done(&job->irq[IRQ_HRTIMER]) || READ_ONCE(job->irq_off))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, IRQ_HRTIMER_PERIOD);
	return HRTIMER_RESTART;
}

/*
 * The NMI source a CPU's irq thread asked its own CPU an NMI for. Only
 * that CPU reads or writes its slot (the thread with preemption off, the
 * handler in the NMI), so the this_cpu ops need no lock.
 */
static DEFINE_PER_CPU(struct irq_src *, nmi_req);

/* Claims only the NMIs we sent: the others are not ours to swallow. */
static int lfq_test_nmi(unsigned int type, struct pt_regs *regs)
{
	struct irq_src *src = this_cpu_xchg(nmi_req, NULL);

	if (!src)
		return NMI_DONE;
	irq_push(src);
	return NMI_HANDLED;
}

/* One NMI handler for every job that sends NMIs, registered while any does. */
static DEFINE_MUTEX(nmi_lock);
static unsigned int nmi_users;

static int nmi_get(void)
{
	int ret = 0;

	mutex_lock(&nmi_lock);
	if (!nmi_users)
		ret = register_nmi_handler(NMI_LOCAL, lfq_test_nmi, 0, "lfq_test");
	if (!ret)
		nmi_users++;
	mutex_unlock(&nmi_lock);
	return ret;
}

/* unregister_nmi_handler() waits for handlers running on other CPUs. */
static void nmi_put(void)
{
	mutex_lock(&nmi_lock);
	if (!--nmi_users)
		unregister_nmi_handler(NMI_LOCAL, "lfq_test");
	mutex_unlock(&nmi_lock);
}

/*
 * Send our own CPU an NMI that pushes src's next item, and wait for it
 * there: its handler interrupts us, so once the request is gone the
 * handler is done with src. apic->send_IPI_self() cannot send NMIs on
 * x2APIC (its self-IPI register takes fixed vectors only), a mask of our
 * own CPU can. -ETIMEDOUT if the NMI never came: the request is taken
 * back, and an NMI that comes after all finds nothing to claim.
 */
static int irq_send_nmi(struct irq_src *src)
{
	unsigned int us;
	int ret = 0;

	preempt_disable();
	this_cpu_write(nmi_req, src);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	for (us = 0; this_cpu_read(nmi_req); us++) {
		if (us == IRQ_NMI_WAIT_US) {
			if (this_cpu_cmpxchg(nmi_req, src, NULL) == src)
				ret = -ETIMEDOUT;
			break;
		}
		udelay(1);
	}
	preempt_enable();
	return ret;
}

/*
 * The irq thread of an LFQ_TEST_F_IRQ job: it starts the timers, sends
 * the NMIs, and when the three sources are done (or the job ends) stops
 * them all before it ends itself, so that no interrupt outlives the job.
 */
static int job_irq(struct job *job)
{
	struct irq_src *nmi = &job->irq[IRQ_NMI];
	int ret;

	ret = nmi_get();
	if (ret)
		return ret;
	mod_timer(&job->timer, jiffies + 1);
	hrtimer_start(&job->hrtimer, IRQ_HRTIMER_PERIOD, HRTIMER_MODE_REL_HARD);
	while (!irq_done(job)) {
		/* a source failed (or a thread did: job_fail() again is harmless) */
		ret = atomic_read(&job->error);
		if (ret || READ_ONCE(job->stopping))
			break;
		if (job_expired(job) || job_stalled(job)) {
			ret = -ETIMEDOUT;
			break;
		}
		if (irq_src_done(nmi)) {
			usleep_range(1000, 2000);
			continue;
		}
		ret = irq_send_nmi(nmi);
		if (ret)
			break;
		usleep_range(IRQ_NMI_PERIOD_US, 2 * IRQ_NMI_PERIOD_US);
	}
	WRITE_ONCE(job->irq_off, true);
	del_timer_sync(&job->timer);
	hrtimer_cancel(&job->hrtimer);
	nmi_put();
	return ret;
}

/*
 * A thread that has done its work waits for kthread_stop(), so that its
 * owner can stop it whether or not it has finished. TASK_IDLE: signals
 * (the watchdog's kicks) do not wake it, and it counts in no load average.
 */
static int park_until_stopped(void)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int job_thread_fn(void *arg)
{
	struct job_thread *t = arg;
	struct job *job = t->job;
	u8 *buf;
	int ret;

	allow_signal(SIGUSR1);
	if (t->index == job->p.threads) {
		ret = job_irq(job);
	} else {
		buf = kvmalloc_array(job->p.burst, job->elem_size, GFP_KERNEL);
		if (!buf)
			ret = -ENOMEM;
		else if (job->p.role == LFQ_TEST_PRODUCE)
			ret = job_produce(t, buf);
		else if (job->type == LFQ_RING_SEQ)
			ret = job_seq_consume(t, buf);
		else if (job->type == LFQ_RING_WSDEQUE)
			ret = job_wsd_steal(t, buf);
		else
			ret = job_consume(t, buf);
		kvfree(buf);
	}
	if (ret < 0 && ret != -EINTR)
		job_fail(job, ret);
	/*
	 * A sequencer consumer that ends short (failed, stopped) stops
	 * holding back the producers, and its followers get -EPIPE. One
	 * that finished keeps its barrier, at its last sequence, until the
	 * job is freed: a stage after it may still be reading up to there.
	 */
	if (t->joined && t->c.seq != t->seq_end)
		job_seq_leave(t);
	if (atomic_dec_and_test(&job->running)) {
		job->end_ns = ktime_get_ns();
		job->ring_errors = lfq_ring_errors(job->ring);
		/* pairs with the acquire in job_ended() */
		smp_store_release(&job->ended, true);
		wake_up_all(&job->wq);
	}
	/* park until job_free() stops us */
	return park_until_stopped();
}

static bool job_ended(struct job *job)
{
	return smp_load_acquire(&job->ended);
}

/* Stop the threads (if still running), drop the ring, free the job. */
static void job_free(struct job *job)
{
	unsigned int i;

	/* no kick may reach a thread after kthread_stop() */
	cancel_delayed_work_sync(&job->watchdog);
	job_stop(job);
	/* the irq thread stops its interrupts before it ends */
	for (i = 0; i < job->nr_tasks; i++) {
		if (job->threads[i].task)
			kthread_stop(job->threads[i].task);
		/* a thread that finished, or never ran */
		job_seq_leave(&job->threads[i]);
	}
	kvfree(job->irq[0].buf);
	kvfree(job->seen);
	lfq_ring_put(job->ring);
	kfree(job);
}

/* The checks of a job's parameters that depend on its ring. */
static int job_check_ring(const struct lfq_test_job *p,
			  const struct lfq_info *info)
{
	bool consume = p->role == LFQ_TEST_CONSUME;
	bool seq = info->type == LFQ_RING_SEQ;
	bool wsd = info->type == LFQ_RING_WSDEQUE;

	if (info->type < LFQ_RING_VYUKOV || info->type > LFQ_RING_WSDEQUE ||
	    info->elem_size < sizeof(struct lfq_test_item) ||
	    (wsd && !consume) ||
	    (p->flags & LFQ_TEST_F_RESERVE &&
	     (info->type == LFQ_RING_VYUKOV || seq || wsd)) ||
	    (p->flags & LFQ_TEST_F_IRQ && info->type != LFQ_RING_MPSC) ||
	    (consume && info->type == LFQ_RING_MPSC && p->threads != 1))
		return -EINVAL;
	if ((seq && consume) ? p->wait > LFQ_SEQ_WAIT_BLOCK : p->follows || p->wait)
		return -EINVAL;
	/* two stamping threads would flip each item twice */
	if ((p->flags & (LFQ_TEST_F_STAMP | LFQ_TEST_F_STAMPED) &&
	     !(seq && consume)) ||
	    (p->flags & LFQ_TEST_F_STAMP && p->threads > 1))
		return -EINVAL;
	if (seq && !consume && info->policy == LFQ_SEQ_SINGLE && p->threads > 1)
		return -EINVAL;
	/* sequencer consumers check the order alone: no bitmap */
	if (consume && !seq && p->items * p->producers > LFQ_TEST_MAX_SEEN)
		return -E2BIG;
	return 0;
}

/*
 * Start a job on ring, whose reference the job takes over (and drops on
 * failure). p has passed job_check_params().
 */
static struct job *job_start(struct lfq_ring *ring, const struct lfq_test_job *p)
{
	const struct lfq_info *info = lfq_ring_info(ring);
	struct job *job;
	unsigned int i;
	long left;
	int ret;

	ret = job_check_ring(p, info);
	if (ret)
		goto err_put_ring;
	ret = -ENOMEM;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		goto err_put_ring;
	job->ring = ring;
	job->p = *p;
	job->type = info->type;
	job->policy = info->policy;
	job->elem_size = info->elem_size;
	job->timeout = msecs_to_jiffies(p->timeout_ms);
	job->nr_tasks = p->threads + !!(p->flags & LFQ_TEST_F_IRQ);
	init_waitqueue_head(&job->wq);
	INIT_DELAYED_WORK(&job->watchdog, job_watchdog);
	atomic_set(&job->running, job->nr_tasks);
	job->total = p->items * p->producers;
	if (p->role == LFQ_TEST_CONSUME && job->type != LFQ_RING_SEQ) {
		job->seen = kvzalloc(BITS_TO_LONGS(job->total) * sizeof(long),
				     GFP_KERNEL);
		if (!job->seen)
			goto err_free_job;
	}
	/* every item published from now on reaches every consumer */
	if (p->role == LFQ_TEST_CONSUME && job->type == LFQ_RING_SEQ) {
		for (i = 0; i < p->threads; i++) {
			struct job_thread *t = &job->threads[i];

			ret = lfq_seq_join(ring, p->follows, p->wait, &t->c);
			if (ret)
				goto err_free_job;
			t->joined = true;
			t->seq_end = t->c.seq + job->total;
		}
		ret = -ENOMEM;
	}
	if (p->flags & LFQ_TEST_F_IRQ) {
		u8 *buf = kvmalloc_array(IRQ_NR, job->elem_size, GFP_KERNEL);

		if (!buf)
			goto err_free_job;
		for (i = 0; i < IRQ_NR; i++) {
			job->irq[i].job = job;
			job->irq[i].id = p->producers + p->threads + i;
			job->irq[i].buf = buf + i * job->elem_size;
		}
		timer_setup(&job->timer, irq_timer_fn, 0);
		hrtimer_init(&job->hrtimer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_HARD);
		job->hrtimer.function = irq_hrtimer_fn;
	}
	for (i = 0; i < job->nr_tasks; i++) {
		struct task_struct *task;

		job->threads[i].job = job;
		job->threads[i].index = i;
		task = kthread_create(job_thread_fn, &job->threads[i],
				      "lfq_test/%c%u", i == p->threads ? 'i' :
				      p->role == LFQ_TEST_PRODUCE ? 'p' : 'c', i);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto err_free_job;
		}
		job->threads[i].task = task;
	}
	job->start_ns = ktime_get_ns();
	job->last_progress = jiffies;
	job->deadline = jiffies + msecs_to_jiffies(p->deadline_ms ?:
						   LFQ_TEST_MAX_MS);
	for (i = 0; i < job->nr_tasks; i++)
		wake_up_process(job->threads[i].task);
	left = (long)(job->deadline - jiffies);
	schedule_delayed_work(&job->watchdog, max(left, 0L));
	return job;

err_free_job:
	/* threads never woken exit at kthread_stop() without running */
	job_free(job);
	return ERR_PTR(ret);
err_put_ring:
	lfq_ring_put(ring);
	return ERR_PTR(ret);
}

static void job_result(struct job *job, struct lfq_test_result *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->moved = atomic64_read(&job->moved);
	r->malformed = atomic64_read(&job->malformed);
	r->duplicates = atomic64_read(&job->duplicates);
	r->misordered = atomic64_read(&job->misordered);
	if (job->seen)
		r->missing = job->total - bitmap_weight(job->seen, job->total);
	else
		r->missing = atomic64_read(&job->missing);
	r->ring_errors = job->ring_errors;
	r->io_errors = atomic64_read(&job->io_errors);
	r->nsecs = job->end_ns - job->start_ns;
	r->error = atomic_read(&job->error);
	r->checksum = atomic64_read(&job->checksum);
	for (i = 0; i < LFQ_TEST_NR_CTX; i++)
		r->ctx_moved[i] = atomic64_read(&job->ctx_moved[i]);
}

static int job_check_params(const struct lfq_test_job *p)
{
	if (p->__resv[0] || p->flags & ~LFQ_TEST_F_ALL)
		return -EINVAL;
	if (p->role != LFQ_TEST_PRODUCE && p->role != LFQ_TEST_CONSUME)
		return -EINVAL;
	if (!p->threads || p->threads > LFQ_TEST_MAX_THREADS ||
	    !p->burst || p->burst > LFQ_TEST_MAX_BURST ||
	    !p->items || p->items > LFQ_TEST_MAX_ITEMS ||
	    !p->timeout_ms || p->timeout_ms > LFQ_TEST_MAX_MS ||
	    p->deadline_ms > LFQ_TEST_MAX_MS ||
	    p->pause_us > LFQ_TEST_MAX_PAUSE_US ||
	    !p->pause_every != !p->pause_us)
		return -EINVAL;
	if (p->role == LFQ_TEST_PRODUCE) {
		/* u64: producers + threads cannot wrap */
		if ((u64)p->producers + p->threads +
		    (p->flags & LFQ_TEST_F_IRQ ? IRQ_NR : 0) > LFQ_TEST_MAX_PRODUCERS)
			return -EINVAL;
		return 0;
	}
	if (!p->producers || p->producers > LFQ_TEST_MAX_PRODUCERS ||
	    p->flags & LFQ_TEST_F_IRQ)
		return -EINVAL;
	return 0;
}

/* ---- job fds -------------------------------------------------------------- */

static long job_ioctl_result(struct file *file, void __user *arg)
{
	struct job *job = file->private_data;
	struct lfq_test_result r;
	int ret;

	if (!job_ended(job)) {
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(job->wq, job_ended(job));
		if (ret)
			return ret;
	}
	job_result(job, &r);
	if (copy_to_user(arg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

static long job_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case LFQ_TEST_IOC_RESULT:
		return job_ioctl_result(file, (void __user *)arg);
	case LFQ_TEST_IOC_STOP:
		job_stop(file->private_data);
		return 0;
	}
	return -ENOTTY;
}

static __poll_t job_poll(struct file *file, poll_table *wait)
{
	struct job *job = file->private_data;

	poll_wait(file, &job->wq, wait);
	return job_ended(job) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int job_release(struct inode *inode, struct file *file)
{
	job_free(file->private_data);
	return 0;
}

static const struct file_operations job_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= job_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= job_poll,
	.release	= job_release,
	.llseek		= noop_llseek,
};

static long lfq_test_ioctl_start(void __user *arg)
{
	struct lfq_test_job p;
	struct lfq_ring *ring;
	struct job *job;
	int ret, fd;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	ret = job_check_params(&p);
	if (ret)
		return ret;
	ring = lfq_ring_get_fd(p.ring_fd);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	job = job_start(ring, &p);
	if (IS_ERR(job))
		return PTR_ERR(job);
	fd = anon_inode_getfd("[lfq_test_job]", &job_fops, job,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		job_free(job);
	return fd;
}

static long lfq_test_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	switch (cmd) {
	case LFQ_TEST_IOC_START:
		return lfq_test_ioctl_start((void __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations lfq_test_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lfq_test_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice lfq_test_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lfq_test",
	.fops	= &lfq_test_fops,
	.mode	= 0600,
};

/* ---- load-time tests, KTAP ------------------------------------------------ */

KSTM_MODULE_GLOBALS();
static unsigned int ktap_n __initdata;

#define CHECK(cond, fmt, ...) do {					\
	bool __ok = (cond);						\
									\
	KSTM_CHECK_ZERO(!__ok);						\
	pr_info("%sok %u - " fmt "\n", __ok ? "" : "not ",		\
		++ktap_n, ##__VA_ARGS__);				\
} while (0)

static struct lfq_ring *__init make_typed(u32 type, u32 policy, u32 capacity,
					  u32 elem_size)
{
	struct lfq_create c = {
		.type = type,
		.capacity = capacity,
		.elem_size = elem_size,
		.policy = policy,
	};

	return lfq_ring_create(&c);
}

static struct lfq_ring *__init make_ring(u32 capacity, u32 elem_size)
{
	return make_typed(LFQ_RING_VYUKOV, 0, capacity, elem_size);
}

static struct lfq_ring *__init make_turn(u32 capacity, u32 elem_size)
{
	return make_typed(LFQ_RING_TURN, 0, capacity, elem_size);
}

static void __init test_create(void)
{
	static const struct {
		const char *what;
		struct lfq_create c;
		int err;
	} bad[] __initconst = {
		{ "type 0", { .type = 0, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "type 99", { .type = 99, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "unknown flag", { .type = LFQ_RING_VYUKOV, .flags = 1, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "policy 1", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "nonzero __pad", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "nonzero __resv[2]", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .__resv = { 0, 0, 1 } }, -EINVAL },
		{ "capacity 0", { .type = LFQ_RING_VYUKOV, .capacity = 0, .elem_size = 8 }, -EINVAL },
		{ "capacity 1", { .type = LFQ_RING_VYUKOV, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 3", { .type = LFQ_RING_VYUKOV, .capacity = 3, .elem_size = 8 }, -EINVAL },
		{ "capacity 2^31", { .type = LFQ_RING_VYUKOV, .capacity = 1U << 31, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "element size LFQ_ELEM_MAX + 1", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = LFQ_ELEM_MAX + 1 }, -EINVAL },
		{ "LFQ_CAPACITY_MAX slots (above max_ring_bytes)", { .type = LFQ_RING_VYUKOV, .capacity = LFQ_CAPACITY_MAX, .elem_size = 1 }, -E2BIG },
		{ "4 GiB (above max_ring_bytes)", { .type = LFQ_RING_VYUKOV, .capacity = 1U << 16, .elem_size = LFQ_ELEM_MAX }, -E2BIG },
	};
	const struct lfq_info *info;
	struct lfq_ring *ring;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ring = lfq_ring_create(&bad[i].c);
		CHECK(PTR_ERR_OR_ZERO(ring) == bad[i].err,
		      "create: %s is %d (%d)", bad[i].what, bad[i].err,
		      PTR_ERR_OR_ZERO(ring));
		if (!IS_ERR(ring))
			lfq_ring_put(ring);
	}

	ring = make_ring(16, 100);
	CHECK(!IS_ERR(ring), "create: capacity 16, 100-byte elements");
	if (IS_ERR(ring))
		return;
	info = lfq_ring_info(ring);
	CHECK(info->magic == LFQ_MAGIC && info->abi_version == LFQ_ABI_VERSION &&
	      info->type == LFQ_RING_VYUKOV && info->capacity == 16 &&
	      info->elem_size == 100 &&
	      info->slot_stride == LFQ_STRIDE(LFQ_VYUKOV_SLOT_HDR, 100) &&
	      info->slots_off == LFQ_VYUKOV_SLOTS_OFF &&
	      info->ring_size >= info->slots_off + 16ULL * info->slot_stride,
	      "lfq_ring_info() reports the geometry");
	/* a second reference keeps the ring alive after the first put */
	lfq_ring_get(ring);
	lfq_ring_put(ring);
	CHECK(lfq_vyukov_empty(ring) && lfq_ring_errors(ring) == 0,
	      "lfq_ring_get(): the ring lives until the last put");
	lfq_ring_put(ring);

	CHECK(PTR_ERR(lfq_ring_get_fd(-1)) == -EBADF,
	      "lfq_ring_get_fd(-1) is -EBADF");
	CHECK(PTR_ERR(lfq_ring_get_fd(INT_MAX)) == -EBADF,
	      "lfq_ring_get_fd(INT_MAX) is -EBADF");
}

static u64 drained __initdata;

static void __init drain_fn(void *elem, void *arg)
{
	const u64 *v = elem;

	if (*v == drained)
		drained++;
}

static void __init test_try_ops(void)
{
	struct lfq_ring *ring;
	unsigned long start;
	u64 v, buf[8];
	int i, ret, ok;

	ring = make_ring(4, sizeof(u64));
	CHECK(!IS_ERR(ring), "create: capacity 4, 8-byte elements");
	if (IS_ERR(ring))
		return;
	CHECK(lfq_vyukov_try_pop(ring, &v) == -EAGAIN && lfq_vyukov_empty(ring) &&
	      !lfq_vyukov_full(ring) && lfq_vyukov_size(ring) == 0,
	      "try_pop on an empty ring is -EAGAIN; empty, size 0");
	start = jiffies;
	ret = lfq_vyukov_pop(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "pop on an empty ring waits its timeout, then -ETIMEDOUT (%d)", ret);
	CHECK(lfq_vyukov_pop(ring, &v, 0) == -ETIMEDOUT,
	      "pop with timeout 0 on an empty ring is -ETIMEDOUT");
	CHECK(lfq_vyukov_pop(ring, &v, -1) == -EINVAL &&
	      lfq_vyukov_push_burst(ring, buf, 1, -2) == -EINVAL,
	      "a negative timeout is -EINVAL");
	for (ok = 1, v = 0; v < 4; v++)
		ok &= lfq_vyukov_try_push(ring, &v) == 0 &&
		      lfq_vyukov_size(ring) == v + 1;
	CHECK(ok, "try_push fills the ring, size counts");
	CHECK(lfq_vyukov_try_push(ring, &v) == -ENOSPC && lfq_vyukov_full(ring) &&
	      !lfq_vyukov_empty(ring),
	      "try_push on a full ring is -ENOSPC; full");
	start = jiffies;
	ret = lfq_vyukov_push(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "push on a full ring waits its timeout, then -ETIMEDOUT (%d)", ret);
	CHECK(lfq_vyukov_push_burst(ring, buf, 2, 1) == -ETIMEDOUT,
	      "push_burst on a full ring is -ETIMEDOUT");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= lfq_vyukov_try_pop(ring, &v) == 0 && v == i;
	CHECK(ok, "try_pop returns the items in FIFO order");

	for (i = 0; i < 8; i++)
		buf[i] = 100 + i;
	ret = lfq_vyukov_try_push_burst(ring, buf, 8);
	CHECK(ret == 4, "try_push_burst of 8 into 4 free slots pushes 4 (%d)", ret);
	ret = lfq_vyukov_try_pop_burst(ring, buf, 3);
	CHECK(ret == 3 && buf[0] == 100 && buf[1] == 101 && buf[2] == 102,
	      "try_pop_burst of 3 pops the 3 oldest (%d)", ret);
	ret = lfq_vyukov_pop_burst(ring, buf, 8, 1);
	CHECK(ret == 1 && buf[0] == 103,
	      "pop_burst of 8 with 1 item returns it at once (%d)", ret);
	for (i = 0; i < 3; i++)
		buf[i] = 200 + i;
	ret = lfq_vyukov_push_burst(ring, buf, 3, 1);
	CHECK(ret == 3, "push_burst of 3 into an empty ring pushes 3 (%d)", ret);
	drained = 200;
	CHECK(lfq_vyukov_drain(ring, drain_fn, NULL) == 3 && drained == 203 &&
	      lfq_vyukov_empty(ring) && lfq_vyukov_try_pop(ring, &v) == -EAGAIN,
	      "drain hands over the rest in order and empties the ring");
	CHECK(lfq_vyukov_drain(ring, drain_fn, NULL) == 0,
	      "drain of an empty ring is 0");
	CHECK(lfq_vyukov_try_pop_burst(ring, buf, 0) == -EINVAL &&
	      lfq_vyukov_try_push_burst(ring, buf, 0) == -EINVAL &&
	      lfq_vyukov_pop_burst(ring, buf, 0, 1) == -EINVAL &&
	      lfq_vyukov_drain(ring, NULL, NULL) == -EINVAL,
	      "a burst of 0 or a NULL drain function is -EINVAL");
	/* many laps: the sequences must keep working past the capacity */
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_vyukov_try_push(ring, &v) == 0 &&
		     lfq_vyukov_try_pop(ring, buf) == 0 && buf[0] == v;
	CHECK(ok, "1000 laps of push and pop");
	CHECK(lfq_ring_errors(ring) == 0, "no ring errors");
	lfq_ring_put(ring);
}

/* One kernel thread blocked in a push or pop. */
enum blocked_op {
	VY_PUSH,
	VY_POP,
	TURN_PUSH,
	TURN_POP,
	TURN_PUSH_RESERVE,		/* then writes value and commits */
	TURN_POP_RESERVE,		/* then reads value and commits */
	MPSC_POP,			/* a record of 8 bytes */
	MPSC_RESERVE,			/* 8 bytes, then writes value, commits */
	SEQ_CLAIM,			/* one sequence: value */
	SEQ_WAIT,			/* c's next sequence: value is avail */
};

struct blocked {
	struct lfq_ring *ring;
	enum blocked_op op;
	struct lfq_seq_consumer *c;	/* SEQ_WAIT: set by the caller */
	u64 value;
	int ret;
	bool slept;			/* seen in the need-wakeup word */
	struct completion started, done;
	struct task_struct *task;
};

static int blocked_call(struct blocked *b)
{
	struct lfq_mpsc_res res;
	struct lfq_turn_ref ref;
	int ret;

	switch (b->op) {
	case VY_PUSH:
		return lfq_vyukov_push(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case VY_POP:
		return lfq_vyukov_pop(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_PUSH:
		return lfq_turn_push(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_POP:
		return lfq_turn_pop(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_PUSH_RESERVE:
		ret = lfq_turn_push_reserve(b->ring, &ref, MAX_SCHEDULE_TIMEOUT);
		if (ret)
			return ret;
		memcpy(ref.elem, &b->value, sizeof(b->value));
		return lfq_turn_push_commit(b->ring, &ref);
	case TURN_POP_RESERVE:
		ret = lfq_turn_pop_reserve(b->ring, &ref, MAX_SCHEDULE_TIMEOUT);
		if (ret)
			return ret;
		memcpy(&b->value, ref.elem, sizeof(b->value));
		return lfq_turn_pop_commit(b->ring, &ref);
	case MPSC_POP:
		ret = lfq_mpsc_pop(b->ring, &b->value, sizeof(b->value),
				   MAX_SCHEDULE_TIMEOUT);
		return ret == sizeof(b->value) ? 0 : ret;
	case MPSC_RESERVE:
		ret = lfq_mpsc_reserve(b->ring, sizeof(b->value), &res,
				       MAX_SCHEDULE_TIMEOUT);
		if (ret)
			return ret;
		memcpy(res.data, &b->value, sizeof(b->value));
		return lfq_mpsc_commit(b->ring, &res);
	case SEQ_CLAIM:
		return lfq_seq_claim_one(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case SEQ_WAIT:
		return lfq_seq_wait(b->c, b->c->seq + 1, &b->value,
				    MAX_SCHEDULE_TIMEOUT);
	}
	return -EINVAL;
}

static int blocked_fn(void *arg)
{
	struct blocked *b = arg;

	allow_signal(SIGUSR1);
	complete(&b->started);
	b->ret = blocked_call(b);
	complete(&b->done);
	return park_until_stopped();
}

/*
 * Start b's thread and let it go to sleep in the ring: until it counts
 * itself in the ring's need-wakeup word w if we can see it (turn and MPSC
 * rings), else for 50 ms. Either way a wake-up that comes early is not lost, the
 * call just never slept.
 */
static int __init blocked_start_on(struct blocked *b, struct lfq_ring *ring,
				   enum blocked_op op, u64 value,
				   const struct lfq_wait *w)
{
	unsigned long end;

	b->ring = ring;
	b->op = op;
	b->value = value;
	b->ret = 1;
	b->slept = false;
	init_completion(&b->started);
	init_completion(&b->done);
	b->task = kthread_run(blocked_fn, b, "lfq_test/blocked");
	if (IS_ERR(b->task))
		return PTR_ERR(b->task);
	wait_for_completion(&b->started);
	if (!w) {
		msleep(50);	/* past the spins, asleep on the wait queue */
		return 0;
	}
	for (end = jiffies + 5 * HZ; time_before(jiffies, end); msleep(1)) {
		if (completion_done(&b->done))
			break;
		if (READ_ONCE(w->waiters)) {
			b->slept = true;
			break;
		}
	}
	return 0;
}

static int __init blocked_start(struct blocked *b, struct lfq_ring *ring,
				bool push, u64 value)
{
	return blocked_start_on(b, ring, push ? VY_PUSH : VY_POP, value, NULL);
}

/* Whether b's call returned within 5 s; stops its thread. */
static bool __init blocked_end(struct blocked *b)
{
	bool done = wait_for_completion_timeout(&b->done, 5 * HZ);

	kthread_stop(b->task);
	return done;
}

static void __init test_blocking(void)
{
	struct lfq_ring *ring;
	struct blocked b;
	bool done;
	u64 v;
	int i;

	ring = make_ring(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "blocking: create ring");
		return;
	}
	if (!blocked_start(&b, ring, false, 0)) {
		v = 42;
		lfq_vyukov_try_push(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.ret == 0 && b.value == 42,
		      "a pop sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	for (v = 0; v < 4; v++)
		lfq_vyukov_try_push(ring, &v);
	if (!blocked_start(&b, ring, true, 7)) {
		lfq_vyukov_try_pop(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.ret == 0 && v == 0,
		      "a push sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		for (i = 1; i <= 4; i++)
			done &= lfq_vyukov_try_pop(ring, &v) == 0 &&
				v == (i < 4 ? i : 7);
		CHECK(done, "the woken push lands after the others");
	}
	if (!blocked_start(&b, ring, false, 0)) {
		kthread_stop(b.task);
		CHECK(completion_done(&b.done) && b.ret == -EINTR,
		      "kthread_stop() ends a sleeping pop with -EINTR (%d)",
		      b.ret);
	}
	for (v = 0; v < 4; v++)
		lfq_vyukov_try_push(ring, &v);
	if (!blocked_start(&b, ring, true, 7)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.ret == -EINTR && lfq_vyukov_size(ring) == 4,
		      "a signal ends a sleeping push with -EINTR (%d)", b.ret);
	}
	CHECK(lfq_ring_errors(ring) == 0, "blocking: no ring errors");
	lfq_ring_put(ring);
}

/* ---- the turn ring -------------------------------------------------------- */

/*
 * The shared words of a ring, found from an element (or payload) in slot
 * pos & mask through the ABI layout: the element follows the slot's
 * header of slot_hdr bytes, slot 0 is info->slots_off bytes after the
 * ring header.
 */
struct ring_view {
	union {
		struct lfq_turn_hdr *turn;
		struct lfq_mpsc_hdr *mpsc;
	};
	u8 *slots;
	u32 stride;
	u64 mask;
	u32 capacity;
};

static struct ring_view __init ring_view(struct lfq_ring *ring, void *elem,
					 u64 pos, u32 slot_hdr)
{
	const struct lfq_info *info = lfq_ring_info(ring);
	struct ring_view v = {
		.stride = info->slot_stride,
		.mask = info->capacity - 1,
		.capacity = info->capacity,
	};

	v.slots = (u8 *)elem - slot_hdr - (pos & v.mask) * v.stride;
	v.turn = (void *)(v.slots - info->slots_off);
	return v;
}

static struct ring_view __init turn_view(struct lfq_ring *ring,
					 const struct lfq_turn_ref *ref)
{
	return ring_view(ring, ref->elem, ref->ticket, LFQ_TURN_SLOT_HDR);
}

static u64 *__init turn_word(const struct ring_view *v, u64 pos)
{
	return (u64 *)(v->slots + (pos & v->mask) * v->stride);
}

/* 2 * lap of ticket pos: the turn at which its producer may write. */
static u64 __init turn_lap2(const struct ring_view *v, u64 pos)
{
	return pos / v->capacity * 2;
}

/* What lfq_turn_repair() stores for a producer that died holding pos. */
static void __init turn_skip(const struct ring_view *v, u64 pos)
{
	smp_store_release(turn_word(v, pos),
			  (turn_lap2(v, pos) + 1) | LFQ_TURN_SKIPPED);
}

static void __init test_turn_api(void)
{
	struct lfq_create c = {
		.type = LFQ_RING_TURN, .capacity = 4, .elem_size = 8, .policy = 1,
	};
	struct lfq_turn_ref ref = { 0 };
	const struct lfq_info *info;
	struct lfq_ring *ring, *vy;
	u64 v = 0, buf[2];
	bool ok;

	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "turn: create with policy 1 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	c.policy = 0;
	c.capacity = 12;
	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "turn: create with capacity 12 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);

	ring = make_turn(8, 100);
	CHECK(!IS_ERR(ring), "turn: create capacity 8, 100-byte elements");
	if (IS_ERR(ring))
		return;
	info = lfq_ring_info(ring);
	CHECK(info->magic == LFQ_MAGIC && info->abi_version == LFQ_ABI_VERSION &&
	      info->type == LFQ_RING_TURN && info->capacity == 8 &&
	      info->elem_size == 100 && info->policy == 0 &&
	      info->slot_stride == LFQ_STRIDE(LFQ_TURN_SLOT_HDR, 100) &&
	      info->slots_off == LFQ_TURN_SLOTS_OFF &&
	      info->claims_off == info->slots_off + 8ULL * info->slot_stride &&
	      info->nr_claims == LFQ_CLAIMS &&
	      info->desc_size == PAGE_SIZE &&
	      info->ring_size == PAGE_ALIGN(info->claims_off +
					    LFQ_CLAIMS * sizeof(struct lfq_claim)),
	      "turn: lfq_ring_info() reports the geometry and %u claim records",
	      info->nr_claims);
	CHECK(lfq_turn_empty(ring) && !lfq_turn_full(ring) &&
	      lfq_turn_size(ring) == 0, "turn: a new ring is empty, size 0");
	lfq_ring_put(ring);

	ring = make_turn(4, 8);
	vy = make_ring(4, 8);
	if (IS_ERR(ring) || IS_ERR(vy)) {
		CHECK(false, "turn: create rings for the API checks");
		goto out;
	}
	ok = lfq_turn_try_push(vy, &v) == -EINVAL &&
	     lfq_turn_push(vy, &v, 1) == -EINVAL &&
	     lfq_turn_try_pop(vy, &v) == -EINVAL &&
	     lfq_turn_pop(vy, &v, 1) == -EINVAL &&
	     lfq_turn_try_push_reserve(vy, &ref) == -EINVAL &&
	     lfq_turn_push_reserve(vy, &ref, 1) == -EINVAL &&
	     lfq_turn_push_commit(vy, &ref) == -EINVAL &&
	     lfq_turn_try_pop_reserve(vy, &ref) == -EINVAL &&
	     lfq_turn_pop_reserve(vy, &ref, 1) == -EINVAL &&
	     lfq_turn_pop_commit(vy, &ref) == -EINVAL;
	CHECK(ok, "turn: every lfq_turn_*() call on a Vyukov ring is -EINVAL");
	ok = lfq_vyukov_try_push(ring, &v) == -EINVAL &&
	     lfq_vyukov_push(ring, &v, 1) == -EINVAL &&
	     lfq_vyukov_try_pop(ring, &v) == -EINVAL &&
	     lfq_vyukov_pop(ring, &v, 1) == -EINVAL &&
	     lfq_vyukov_try_push_burst(ring, buf, 2) == -EINVAL &&
	     lfq_vyukov_pop_burst(ring, buf, 2, 1) == -EINVAL &&
	     lfq_vyukov_drain(ring, drain_fn, NULL) == -EINVAL;
	CHECK(ok, "turn: lfq_vyukov_*() calls on a turn ring are -EINVAL");
	ok = lfq_turn_try_push(NULL, &v) == -EINVAL &&
	     lfq_turn_pop(NULL, &v, 1) == -EINVAL &&
	     lfq_turn_push_reserve(NULL, &ref, 1) == -EINVAL &&
	     lfq_turn_pop_commit(NULL, &ref) == -EINVAL &&
	     lfq_turn_try_push(ring, NULL) == -EINVAL &&
	     lfq_turn_push(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_try_pop(ring, NULL) == -EINVAL &&
	     lfq_turn_pop(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_try_push_reserve(ring, NULL) == -EINVAL &&
	     lfq_turn_pop_reserve(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_push_commit(ring, NULL) == -EINVAL &&
	     lfq_turn_pop_commit(ring, NULL) == -EINVAL;
	CHECK(ok, "turn: a NULL ring, element or reservation is -EINVAL");
	ok = lfq_turn_push(ring, &v, -1) == -EINVAL &&
	     lfq_turn_pop(ring, &v, -1) == -EINVAL &&
	     lfq_turn_push_reserve(ring, &ref, -2) == -EINVAL &&
	     lfq_turn_pop_reserve(ring, &ref, LONG_MIN) == -EINVAL;
	CHECK(ok, "turn: a negative timeout is -EINVAL");
	CHECK(lfq_turn_empty(ring) && lfq_ring_errors(ring) == 0 &&
	      lfq_vyukov_empty(vy) && lfq_ring_errors(vy) == 0,
	      "turn: refused calls leave both rings untouched");
out:
	if (!IS_ERR(vy))
		lfq_ring_put(vy);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

static void __init test_turn_try_ops(void)
{
	struct lfq_turn_ref ref;
	struct lfq_ring *ring;
	unsigned long start;
	u64 v, x;
	int ret, i, ok;

	ring = make_turn(4, sizeof(u64));
	CHECK(!IS_ERR(ring), "turn: create capacity 4, 8-byte elements");
	if (IS_ERR(ring))
		return;
	CHECK(lfq_turn_try_pop(ring, &v) == -EAGAIN &&
	      lfq_turn_try_pop_reserve(ring, &ref) == -EAGAIN &&
	      lfq_turn_empty(ring) && !lfq_turn_full(ring),
	      "turn: try_pop and try_pop_reserve on an empty ring are -EAGAIN");
	start = jiffies;
	ret = lfq_turn_pop(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "turn: pop on an empty ring waits its timeout, then -ETIMEDOUT (%d)",
	      ret);
	CHECK(lfq_turn_pop(ring, &v, 0) == -ETIMEDOUT &&
	      lfq_turn_pop_reserve(ring, &ref, 1) == -ETIMEDOUT,
	      "turn: pop with timeout 0 and pop_reserve with 1 on an empty ring are -ETIMEDOUT");
	for (ok = 1, v = 0; v < 4; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0 &&
		      lfq_turn_size(ring) == v + 1;
	CHECK(ok, "turn: try_push fills the ring, size counts");
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_try_push_reserve(ring, &ref) == -ENOSPC &&
	      lfq_turn_full(ring) && !lfq_turn_empty(ring) &&
	      lfq_turn_size(ring) == 4,
	      "turn: try_push and try_push_reserve on a full ring are -ENOSPC; full");
	start = jiffies;
	ret = lfq_turn_push(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "turn: push on a full ring waits its timeout, then -ETIMEDOUT (%d)",
	      ret);
	CHECK(lfq_turn_push(ring, &v, 0) == -ETIMEDOUT &&
	      lfq_turn_push_reserve(ring, &ref, 1) == -ETIMEDOUT &&
	      lfq_turn_size(ring) == 4,
	      "turn: push with timeout 0 and push_reserve with 1 on a full ring are -ETIMEDOUT, and take no ticket");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= lfq_turn_try_pop(ring, &x) == 0 && x == i;
	CHECK(ok && lfq_turn_empty(ring),
	      "turn: try_pop returns the items in FIFO order");
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_turn_try_push(ring, &v) == 0 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == v;
	CHECK(ok, "turn: 1000 laps of try_push and try_pop");
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_turn_push(ring, &v, 0) == 0 &&
		     lfq_turn_push(ring, &v, 1) == 0 &&
		     lfq_turn_pop(ring, &x, 0) == 0 && x == v &&
		     lfq_turn_pop(ring, &x, 1) == 0 && x == v;
	CHECK(ok, "turn: 1000 laps of push and pop that never wait");
	CHECK(lfq_ring_errors(ring) == 0, "turn: no ring errors");
	lfq_ring_put(ring);
}

/* Reserve and commit in place; commits that are not owed are refused. */
static void __init test_turn_reserve(void)
{
	struct lfq_turn_ref r0, r1, r2, p0, forged;
	struct lfq_ring *ring;
	struct ring_view tv;
	u64 v, x;
	bool ok;
	int i;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn reserve: create ring");
		return;
	}
	CHECK(lfq_turn_try_push_reserve(ring, &r0) == 0 && r0.ticket == 0 &&
	      r0.elem, "turn: try_push_reserve takes ticket 0");
	if (r0.ticket != 0 || !r0.elem)
		goto out;
	tv = turn_view(ring, &r0);
	CHECK(READ_ONCE(tv.turn->head) == 1 && READ_ONCE(*turn_word(&tv, 0)) == 0 &&
	      lfq_turn_size(ring) == 1 && lfq_turn_try_pop(ring, &x) == -EAGAIN,
	      "turn: a reservation holds its ticket (head 1, size 1) and is not poppable before its commit");
	memcpy(r0.elem, &(u64){ 0xabc }, sizeof(u64));
	forged = r0;
	forged.elem = (u8 *)r0.elem + 8;
	ok = lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged = r0;
	forged.ticket += 4;		/* the same slot, a lap later */
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged = r0;
	forged.ticket += 1;		/* another slot, this element */
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged.elem = NULL;
	forged.ticket = 0;
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	ok &= lfq_turn_pop_commit(ring, &r0) == -EINVAL;
	CHECK(ok && READ_ONCE(*turn_word(&tv, 0)) == 0,
	      "turn: forged push commits (other element, lap, slot, NULL; a pop commit of a push) are -EINVAL and change nothing");
	CHECK(lfq_turn_push_commit(ring, &r0) == 0 &&
	      READ_ONCE(*turn_word(&tv, 0)) == 1,
	      "turn: push_commit publishes the slot (turn 1)");
	CHECK(lfq_turn_push_commit(ring, &r0) == -EINVAL,
	      "turn: a second push_commit of the same reservation is -EINVAL");
	CHECK(lfq_turn_try_pop_reserve(ring, &p0) == 0 && p0.ticket == 0 &&
	      p0.elem == r0.elem && *(u64 *)p0.elem == 0xabc &&
	      READ_ONCE(tv.turn->tail) == 1,
	      "turn: try_pop_reserve hands out the item in its slot");
	forged = p0;
	forged.ticket += 4;
	CHECK(lfq_turn_push_commit(ring, &p0) == -EINVAL &&
	      lfq_turn_pop_commit(ring, &forged) == -EINVAL &&
	      READ_ONCE(*turn_word(&tv, 0)) == 1,
	      "turn: a push commit of a pop reservation and a forged pop commit are -EINVAL");
	CHECK(lfq_turn_pop_commit(ring, &p0) == 0 &&
	      READ_ONCE(*turn_word(&tv, 0)) == 2 &&
	      lfq_turn_pop_commit(ring, &p0) == -EINVAL && lfq_turn_empty(ring),
	      "turn: pop_commit gives the slot to the next lap (turn 2); a second one is -EINVAL");

	/* commits out of order, items in ticket order */
	ok = lfq_turn_push_reserve(ring, &r1, 1) == 0 &&
	     lfq_turn_push_reserve(ring, &r2, 1) == 0 &&
	     r1.ticket == 1 && r2.ticket == 2;
	CHECK(ok, "turn: push_reserve takes tickets 1 and 2");
	if (!ok)
		goto out;
	memcpy(r1.elem, &(u64){ 1 }, sizeof(u64));
	memcpy(r2.elem, &(u64){ 2 }, sizeof(u64));
	CHECK(lfq_turn_push_commit(ring, &r2) == 0 &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN &&
	      lfq_turn_pop(ring, &x, 2) == -ETIMEDOUT &&
	      lfq_turn_size(ring) == 2,
	      "turn: ticket 2 committed before ticket 1 waits behind it: pop times out");
	CHECK(lfq_turn_push_commit(ring, &r1) == 0 &&
	      lfq_turn_pop(ring, &x, 1) == 0 && x == 1 &&
	      lfq_turn_pop_reserve(ring, &p0, 1) == 0 && *(u64 *)p0.elem == 2 &&
	      lfq_turn_pop_commit(ring, &p0) == 0,
	      "turn: once ticket 1 commits both come out in ticket order");

	/* a pop reservation holds its slot back from the next lap */
	for (ok = true, v = 3; v < 7; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0;
	ok &= lfq_turn_pop_reserve(ring, &p0, 1) == 0 && p0.ticket == 3;
	for (i = 0; i < 3; i++)
		ok &= lfq_turn_try_pop(ring, &x) == 0 && x == 4 + i;
	CHECK(ok && lfq_turn_empty(ring), "turn: tickets 3..6 pushed, 3 reserved by a consumer, 4..6 popped");
	v = 7;
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_push(ring, &v, 2) == -ETIMEDOUT &&
	      READ_ONCE(tv.turn->head) == 7,
	      "turn: ticket 7 waits for the slot ticket 3 still holds: -ENOSPC, -ETIMEDOUT, no ticket taken");
	CHECK(lfq_turn_pop_commit(ring, &p0) == 0 &&
	      lfq_turn_try_push(ring, &v) == 0 &&
	      lfq_turn_try_pop(ring, &x) == 0 && x == 7,
	      "turn: pop_commit of ticket 3 lets ticket 7 in");
	CHECK(lfq_ring_errors(ring) == 0, "turn reserve: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Slots marked skipped (a dead producer's, as a repair leaves them). */
static void __init test_turn_skipped(void)
{
	struct lfq_turn_ref r, r2, r3;
	struct lfq_ring *ring;
	struct ring_view tv;
	u64 v, x;
	bool ok;
	int i;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn skipped: create ring");
		return;
	}
	v = 10;
	ok = lfq_turn_try_push(ring, &v) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 1;
	v = 12;
	ok &= lfq_turn_try_push(ring, &v) == 0;
	CHECK(ok, "turn: ticket 0 pushed, 1 reserved, 2 pushed");
	if (!ok)
		goto out;
	tv = turn_view(ring, &r);
	turn_skip(&tv, 1);
	CHECK(lfq_turn_size(ring) == 3 && lfq_turn_try_pop(ring, &x) == 0 &&
	      x == 10 && lfq_turn_try_pop(ring, &x) == 0 && x == 12,
	      "turn: pops pass over the skipped ticket 1");
	CHECK(READ_ONCE(tv.turn->tail) == 3 && READ_ONCE(*turn_word(&tv, 1)) == 2 &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN,
	      "turn: the skipped slot was released for the next lap (tail 3, turn 2)");
	CHECK(lfq_turn_push_commit(ring, &r) == -EINVAL,
	      "turn: the skipped reservation can no longer be committed");

	/* a skipped ticket at the tail with nothing behind it */
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 3;
	turn_skip(&tv, 3);
	CHECK(ok && lfq_turn_pop(ring, &x, 2) == -ETIMEDOUT &&
	      READ_ONCE(tv.turn->tail) == 4 && READ_ONCE(*turn_word(&tv, 3)) == 2,
	      "turn: a pop releases a skipped ticket at the tail, then times out on the empty ring");
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 4;
	turn_skip(&tv, 4);
	CHECK(ok && READ_ONCE(*turn_word(&tv, 4)) == (3 | LFQ_TURN_SKIPPED) &&
	      lfq_turn_try_pop_reserve(ring, &r) == -EAGAIN &&
	      READ_ONCE(tv.turn->tail) == 5 && READ_ONCE(*turn_word(&tv, 4)) == 4,
	      "turn: so does try_pop_reserve, in the next lap");

	/* several in a row, then an item */
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r2) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r3) == 0 && r3.ticket == 7;
	v = 99;
	ok &= lfq_turn_try_push(ring, &v) == 0;
	turn_skip(&tv, 5);
	turn_skip(&tv, 6);
	turn_skip(&tv, 7);
	CHECK(ok && lfq_turn_pop_reserve(ring, &r, 1) == 0 && r.ticket == 8 &&
	      *(u64 *)r.elem == 99 && lfq_turn_pop_commit(ring, &r) == 0,
	      "turn: pop_reserve passes over three skipped tickets to ticket 8");
	for (ok = true, i = 0; i < 100 && ok; i++) {
		v = i;
		ok = lfq_turn_try_push(ring, &v) == 0 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == v;
	}
	CHECK(ok && lfq_turn_empty(ring) && lfq_ring_errors(ring) == 0,
	      "turn: 100 laps more over the once-skipped slots, no ring errors");
out:
	lfq_ring_put(ring);
}

/* Turns that no correct ring holds: -EIO at once, counted. */
static void __init test_turn_corrupt(void)
{
	struct lfq_turn_ref r;
	struct lfq_ring *ring;
	struct ring_view tv;
	u64 v = 1, x, errors;
	unsigned long start;
	bool ok;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn corrupt: create ring");
		return;
	}
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_push_commit(ring, &r) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0;
	if (!ok) {
		CHECK(false, "turn corrupt: one item through");
		goto out;
	}
	tv = turn_view(ring, &r);
	/* the slot at tail and head (ticket 1) says lap 3 */
	WRITE_ONCE(*turn_word(&tv, 1), 6);
	errors = lfq_ring_errors(ring);
	start = jiffies;
	ok = lfq_turn_try_pop(ring, &x) == -EIO &&
	     lfq_turn_pop(ring, &x, HZ) == -EIO &&
	     lfq_turn_try_pop_reserve(ring, &r) == -EIO &&
	     lfq_turn_pop_reserve(ring, &r, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 4,
	      "turn: a turn laps ahead at the tail is -EIO for every pop, counted");
	ok = lfq_turn_try_push(ring, &v) == -EIO &&
	     lfq_turn_push(ring, &v, HZ) == -EIO &&
	     lfq_turn_try_push_reserve(ring, &r) == -EIO &&
	     lfq_turn_push_reserve(ring, &r, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 8 &&
	      time_before(jiffies, start + HZ),
	      "turn: and at the head for every push, at once (no waiting)");
	WRITE_ONCE(*turn_word(&tv, 1), 0);
	ok = lfq_turn_try_push(ring, &v) == 0 && lfq_turn_try_pop(ring, &x) == 0;
	CHECK(ok, "turn: the ring works again once the turn is right");
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 2;
	WRITE_ONCE(*turn_word(&tv, 2), 4);
	CHECK(ok && lfq_turn_push_commit(ring, &r) == -EINVAL &&
	      READ_ONCE(*turn_word(&tv, 2)) == 4,
	      "turn: a reservation whose slot was scribbled cannot be committed");
	WRITE_ONCE(*turn_word(&tv, 2), 0);
	ok = lfq_turn_push_commit(ring, &r) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0;
	for (v = 0; v < 8; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == v;
	CHECK(ok && READ_ONCE(tv.turn->head) == 11,
	      "turn: and can be once its turn is back");
	/* head moved a lap back: the slot at head is a lap ahead of it */
	WRITE_ONCE(tv.turn->head, 7);
	errors = lfq_ring_errors(ring);
	CHECK(lfq_turn_try_push(ring, &v) == -EIO &&
	      lfq_ring_errors(ring) == errors + 1,
	      "turn: a head moved a lap back is -EIO");
	WRITE_ONCE(tv.turn->tail, 7);
	CHECK(lfq_turn_try_pop(ring, &x) == -EIO,
	      "turn: so is a tail moved a lap back");
	/* moved a lap ahead: the slots are not there yet, which is no error */
	WRITE_ONCE(tv.turn->head, 15);
	WRITE_ONCE(tv.turn->tail, 15);
	errors = lfq_ring_errors(ring);
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN &&
	      lfq_turn_push(ring, &v, 1) == -ETIMEDOUT &&
	      lfq_ring_errors(ring) == errors,
	      "turn: head and tail moved a lap ahead look full and empty: -ENOSPC, -EAGAIN, -ETIMEDOUT");
out:
	lfq_ring_put(ring);
}

static void __init test_turn_blocking(void)
{
	struct lfq_turn_ref r, p;
	struct lfq_wait *ne, *nf;
	struct lfq_ring *ring;
	struct ring_view tv;
	struct blocked b;
	u64 v, x, head;
	bool done, ok;

	ring = make_turn(2, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn blocking: create ring");
		return;
	}
	/* find the shared words: one item through */
	if (lfq_turn_try_push_reserve(ring, &r) || lfq_turn_push_commit(ring, &r) ||
	    lfq_turn_try_pop(ring, &x)) {
		CHECK(false, "turn blocking: one item through");
		goto out;
	}
	tv = turn_view(ring, &r);
	ne = &tv.turn->not_empty;
	nf = &tv.turn->not_full;

	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		v = 42;
		lfq_turn_try_push(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == 0 && b.value == 42,
		      "turn: a pop sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	if (!blocked_start_on(&b, ring, TURN_POP_RESERVE, 0, ne)) {
		v = 43;
		lfq_turn_push(ring, &v, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == 0 && b.value == 43,
		      "turn: a pop_reserve sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	if (!blocked_start_on(&b, ring, TURN_PUSH, 7, nf)) {
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0,
		      "turn: a push sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == 7;
		CHECK(ok, "turn: the woken push lands after the others");
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	if (!blocked_start_on(&b, ring, TURN_PUSH_RESERVE, 8, nf)) {
		ok = lfq_turn_pop(ring, &x, 1) == 0 && x == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0,
		      "turn: a push_reserve sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == 8;
		CHECK(ok, "turn: the reserved item lands after the others");
	}

	/* a pop sleeping behind a reservation is woken by its commit */
	v = 21;
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_try_push(ring, &v) == 0;
	if (ok && !blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		memcpy(r.elem, &(u64){ 20 }, sizeof(u64));
		ok = lfq_turn_push_commit(ring, &r) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == 20 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == 21,
		      "turn: a pop sleeping behind an uncommitted push is woken by its commit (%d)",
		      b.ret);
	}
	/* a push sleeping on a slot that a consumer still reads */
	for (v = 30; v < 32; v++)
		lfq_turn_try_push(ring, &v);
	ok = lfq_turn_try_pop_reserve(ring, &p) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0 && x == 31 && lfq_turn_empty(ring);
	if (ok && !blocked_start_on(&b, ring, TURN_PUSH, 32, nf)) {
		ok = *(u64 *)p.elem == 30 && lfq_turn_pop_commit(ring, &p) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == 32,
		      "turn: a push sleeping on a slot held by the last lap's consumer is woken by its pop_commit (%d)",
		      b.ret);
	}
	/* a skipped ticket, then an item: the sleeping pop gets the item */
	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		ok = lfq_turn_try_push_reserve(ring, &r) == 0;
		turn_skip(&tv, r.ticket);
		v = 50;
		ok &= lfq_turn_try_push(ring, &v) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.ret == 0 && b.value == 50 &&
		      lfq_turn_empty(ring),
		      "turn: a sleeping pop passes over a skipped ticket to the next item (%d)",
		      b.ret);
	}

	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		kthread_stop(b.task);
		CHECK(b.slept && completion_done(&b.done) && b.ret == -EINTR,
		      "turn: kthread_stop() ends a sleeping pop with -EINTR (%d)",
		      b.ret);
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	head = READ_ONCE(tv.turn->head);
	if (!blocked_start_on(&b, ring, TURN_PUSH_RESERVE, 7, nf)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == -EINTR &&
		      READ_ONCE(tv.turn->head) == head && lfq_turn_size(ring) == 2,
		      "turn: a signal ends a sleeping push_reserve with -EINTR, holding no ticket (%d)",
		      b.ret);
	}
	ok = lfq_turn_try_pop(ring, &x) == 0 && x == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
	     lfq_turn_try_pop(ring, &x) == -EAGAIN;
	CHECK(ok && READ_ONCE(nf->waiters) == 0 && READ_ONCE(ne->waiters) == 0,
	      "turn: no hole behind the interrupted calls, no waiter left counted");
	CHECK(lfq_ring_errors(ring) == 0, "turn blocking: no ring errors");
out:
	lfq_ring_put(ring);
}

/* ---- the MPSC log ring ---------------------------------------------------- */

static struct lfq_ring *__init make_mpsc(u32 policy, u32 capacity,
					 u32 elem_size)
{
	return make_typed(LFQ_RING_MPSC, policy, capacity, elem_size);
}

/* An MPSC ring's view, from a record that does not wrap. */
static struct ring_view __init mpsc_view(struct lfq_ring *ring,
					 const struct lfq_mpsc_res *res)
{
	return ring_view(ring, res->data, res->pos, LFQ_MPSC_SLOT_HDR);
}

static struct lfq_mpsc_rec *__init mpsc_rec_at(const struct ring_view *v,
					       u64 pos)
{
	return (void *)(v->slots + (pos & v->mask) * v->stride);
}

static u64 __init mpsc_seq(const struct ring_view *v, u64 pos)
{
	return READ_ONCE(mpsc_rec_at(v, pos)->seq);
}

/* The payload of a record that starts at pos and does not wrap. */
static void *__init mpsc_payload_at(const struct ring_view *v, u64 pos)
{
	return (u8 *)mpsc_rec_at(v, pos) + LFQ_MPSC_SLOT_HDR;
}

/*
 * Positions a record of len bytes takes at pos, by the ABI: its header
 * and payload in consecutive slots, or if they would run past the end of
 * the lap, the rest of the lap and the payload from slot 0.
 */
static u32 __init mpsc_slots_for(const struct ring_view *v, u64 pos, u32 len)
{
	u32 n = DIV_ROUND_UP(len + LFQ_MPSC_SLOT_HDR, v->stride);
	u32 off = pos & v->mask;

	if (off + n <= v->capacity)
		return n;
	return v->capacity - off + DIV_ROUND_UP(len, v->stride);
}

/* Test record n: len bytes, each differing from its neighbours'. */
static void mpsc_fill(void *p, u64 n, u32 len)
{
	u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++)
		b[i] = (u8)(n * 131 + i * 7 + 1);
}

static bool __init mpsc_holds(const void *p, u64 n, u32 len)
{
	const u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++)
		if (b[i] != (u8)(n * 131 + i * 7 + 1))
			return false;
	return true;
}

/* Big enough for the longest record of the rings below. */
static u8 mpsc_in[512] __initdata, mpsc_out[512] __initdata;

/* try_push test record n of len bytes. */
static int __init mpsc_put(struct lfq_ring *ring, u64 n, u32 len)
{
	mpsc_fill(mpsc_in, n, len);
	return lfq_mpsc_try_push(ring, mpsc_in, len);
}

/* Whether try_pop pops test record n of len bytes. */
static bool __init mpsc_got(struct lfq_ring *ring, u64 n, u32 len)
{
	return lfq_mpsc_try_pop(ring, mpsc_out, sizeof(mpsc_out)) == len &&
	       mpsc_holds(mpsc_out, n, len);
}

static struct lfq_mpsc_stats __init mpsc_stats(struct lfq_ring *ring)
{
	struct lfq_mpsc_stats st;

	lfq_mpsc_stats(ring, &st);
	return st;
}

static void __init test_mpsc_api(void)
{
	struct lfq_create c = {
		.type = LFQ_RING_MPSC, .capacity = 8, .elem_size = 8, .policy = 3,
	};
	struct lfq_mpsc_res res = { 0 }, burst[2];
	struct lfq_turn_ref ref;
	const struct lfq_info *info;
	struct lfq_mpsc_stats st;
	struct lfq_ring *ring, *vy;
	u64 v = 0;
	u32 max;
	bool ok;

	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "mpsc: create with policy 3 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	c.policy = LFQ_MPSC_OVERWRITE;
	ring = lfq_ring_create(&c);
	CHECK(!IS_ERR(ring), "mpsc: create capacity 8, 8-byte elements, OVERWRITE");
	if (IS_ERR(ring))
		return;
	info = lfq_ring_info(ring);
	max = lfq_mpsc_max_len(ring);
	st = mpsc_stats(ring);
	CHECK(info->type == LFQ_RING_MPSC && info->capacity == 8 &&
	      info->elem_size == 8 && info->policy == LFQ_MPSC_OVERWRITE &&
	      info->slot_stride == LFQ_STRIDE(LFQ_MPSC_SLOT_HDR, 8) &&
	      info->slots_off == LFQ_MPSC_SLOTS_OFF &&
	      info->claims_off == info->slots_off + 8ULL * info->slot_stride &&
	      info->nr_claims == LFQ_CLAIMS,
	      "mpsc: lfq_ring_info() reports the geometry, the policy and %u claim records",
	      info->nr_claims);
	CHECK(max == 4 * info->slot_stride - LFQ_MPSC_SLOT_HDR &&
	      lfq_mpsc_size(ring) == 0 && !st.dropped && !st.overwritten,
	      "mpsc: a new ring is empty, no drops; max_len is half the ring less a header (%u)",
	      max);
	lfq_ring_put(ring);

	ring = make_mpsc(LFQ_MPSC_DISCARD, 8, 8);
	vy = make_ring(4, 8);
	if (IS_ERR(ring) || IS_ERR(vy)) {
		CHECK(false, "mpsc: create rings for the API checks");
		goto out;
	}
	max = lfq_mpsc_max_len(ring);
	ok = lfq_mpsc_max_len(vy) == 0 && lfq_mpsc_max_len(NULL) == 0 &&
	     lfq_mpsc_try_reserve(vy, 8, &res) == -EINVAL &&
	     lfq_mpsc_reserve(vy, 8, &res, 1) == -EINVAL &&
	     lfq_mpsc_commit(vy, &res) == -EINVAL &&
	     lfq_mpsc_try_push(vy, &v, 8) == -EINVAL &&
	     lfq_mpsc_push(vy, &v, 8, 1) == -EINVAL &&
	     lfq_mpsc_peek(vy, &res) == -EINVAL &&
	     lfq_mpsc_peek_burst(vy, burst, 2) == -EINVAL &&
	     lfq_mpsc_release(vy, &res) == -EINVAL &&
	     lfq_mpsc_try_pop(vy, &v, 8) == -EINVAL &&
	     lfq_mpsc_pop(vy, &v, 8, 1) == -EINVAL;
	CHECK(ok, "mpsc: every lfq_mpsc_*() call on a Vyukov ring is -EINVAL, max_len 0");
	ok = lfq_vyukov_try_push(ring, &v) == -EINVAL &&
	     lfq_vyukov_pop(ring, &v, 1) == -EINVAL &&
	     lfq_vyukov_drain(ring, drain_fn, NULL) == -EINVAL &&
	     lfq_turn_try_push(ring, &v) == -EINVAL &&
	     lfq_turn_pop_reserve(ring, &ref, 1) == -EINVAL;
	CHECK(ok, "mpsc: lfq_vyukov_*() and lfq_turn_*() calls on an MPSC ring are -EINVAL");
	ok = lfq_mpsc_try_reserve(NULL, 8, &res) == -EINVAL &&
	     lfq_mpsc_push(NULL, &v, 8, 1) == -EINVAL &&
	     lfq_mpsc_commit(NULL, &res) == -EINVAL &&
	     lfq_mpsc_peek(NULL, &res) == -EINVAL &&
	     lfq_mpsc_release(NULL, &res) == -EINVAL &&
	     lfq_mpsc_try_pop(NULL, &v, 8) == -EINVAL &&
	     lfq_mpsc_try_reserve(ring, 8, NULL) == -EINVAL &&
	     lfq_mpsc_reserve(ring, 8, NULL, 1) == -EINVAL &&
	     lfq_mpsc_commit(ring, NULL) == -EINVAL &&
	     lfq_mpsc_try_push(ring, NULL, 8) == -EINVAL &&
	     lfq_mpsc_push(ring, NULL, 8, 1) == -EINVAL &&
	     lfq_mpsc_peek(ring, NULL) == -EINVAL &&
	     lfq_mpsc_peek_burst(ring, NULL, 2) == -EINVAL &&
	     lfq_mpsc_peek_burst(ring, burst, 0) == -EINVAL &&
	     lfq_mpsc_release(ring, NULL) == -EINVAL &&
	     lfq_mpsc_try_pop(ring, NULL, 8) == -EINVAL &&
	     lfq_mpsc_pop(ring, NULL, 8, 1) == -EINVAL;
	CHECK(ok, "mpsc: a NULL ring, payload, reservation or buffer, or a burst of 0, is -EINVAL");
	ok = lfq_mpsc_try_reserve(ring, 0, &res) == -EINVAL &&
	     lfq_mpsc_reserve(ring, 0, &res, 1) == -EINVAL &&
	     lfq_mpsc_try_push(ring, &v, 0) == -EINVAL &&
	     lfq_mpsc_push(ring, &v, 0, 1) == -EINVAL;
	CHECK(ok, "mpsc: a record of 0 bytes is -EINVAL");
	ok = lfq_mpsc_reserve(ring, 8, &res, -1) == -EINVAL &&
	     lfq_mpsc_push(ring, &v, 8, -2) == -EINVAL &&
	     lfq_mpsc_pop(ring, &v, 8, LONG_MIN) == -EINVAL;
	CHECK(ok, "mpsc: a negative timeout is -EINVAL");
	ok = lfq_mpsc_try_reserve(ring, max + 1, &res) == -E2BIG &&
	     lfq_mpsc_reserve(ring, max + 1, &res, 1) == -E2BIG &&
	     lfq_mpsc_try_push(ring, mpsc_in, max + 1) == -E2BIG &&
	     lfq_mpsc_push(ring, mpsc_in, max + 1, 1) == -E2BIG &&
	     lfq_mpsc_try_reserve(ring, U32_MAX, &res) == -E2BIG;
	CHECK(ok, "mpsc: a record above max_len (%u) is -E2BIG", max);
	st = mpsc_stats(ring);
	CHECK(lfq_mpsc_size(ring) == 0 && !st.dropped && !st.overwritten &&
	      lfq_mpsc_try_pop(ring, &v, 8) == -EAGAIN &&
	      lfq_ring_errors(ring) == 0 && lfq_vyukov_empty(vy) &&
	      lfq_ring_errors(vy) == 0,
	      "mpsc: refused calls leave both rings untouched");
	CHECK(mpsc_put(ring, 1, max) == 0 && mpsc_got(ring, 1, max) &&
	      lfq_mpsc_size(ring) == 0,
	      "mpsc: a record of max_len bytes goes through");
out:
	if (!IS_ERR(vy))
		lfq_ring_put(vy);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

/* Records of every length, by copy and in place, on a DISCARD ring. */
static void __init test_mpsc_try_ops(void)
{
	struct lfq_mpsc_res res, burst[4];
	struct lfq_mpsc_stats st;
	struct lfq_ring *ring;
	struct ring_view v;
	unsigned long start;
	u64 n, size, head;
	u32 len, max, one;
	int ret;
	bool ok;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 8, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc try: create ring");
		return;
	}
	CHECK(lfq_mpsc_try_pop(ring, mpsc_out, sizeof(mpsc_out)) == -EAGAIN &&
	      lfq_mpsc_peek(ring, &res) == -EAGAIN &&
	      lfq_mpsc_peek_burst(ring, burst, 4) == -EAGAIN,
	      "mpsc: try_pop, peek and peek_burst on an empty ring are -EAGAIN");
	start = jiffies;
	ret = lfq_mpsc_pop(ring, mpsc_out, sizeof(mpsc_out), 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "mpsc: pop on an empty ring waits its timeout, then -ETIMEDOUT (%d)",
	      ret);
	CHECK(lfq_mpsc_pop(ring, mpsc_out, sizeof(mpsc_out), 0) == -ETIMEDOUT,
	      "mpsc: pop with timeout 0 on an empty ring is -ETIMEDOUT");

	/* record 0 shows the ring; then one slot full, and two slots */
	ok = lfq_mpsc_try_reserve(ring, 1, &res) == 0 && res.pos == 0;
	if (!ok) {
		CHECK(false, "mpsc try: reserve position 0");
		goto out;
	}
	v = mpsc_view(ring, &res);
	one = v.stride - LFQ_MPSC_SLOT_HDR;
	mpsc_fill(res.data, 0, 1);
	ok = lfq_mpsc_commit(ring, &res) == 0 && lfq_mpsc_size(ring) == 1 &&
	     mpsc_put(ring, 1, one) == 0 && lfq_mpsc_size(ring) == 2 &&
	     mpsc_put(ring, 2, one + 1) == 0 && lfq_mpsc_size(ring) == 4;
	CHECK(ok, "mpsc: records of 1 and %u bytes take one slot, of %u two; size counts slots",
	      one, one + 1);
	ok = mpsc_got(ring, 0, 1) && mpsc_got(ring, 1, one) &&
	     lfq_mpsc_try_pop(ring, mpsc_out, one) == -EMSGSIZE &&
	     lfq_mpsc_pop(ring, mpsc_out, one, 1) == -EMSGSIZE &&
	     lfq_mpsc_size(ring) == 2 && mpsc_got(ring, 2, one + 1);
	CHECK(ok, "mpsc: try_pop returns them in order; a buffer too small is -EMSGSIZE and the record stays");

	/* fill it with one-slot records */
	head = READ_ONCE(v.mpsc->head);
	for (ok = true, n = 3; n < 11; n++)
		ok &= mpsc_put(ring, n, 8) == 0;
	start = jiffies;
	ok &= mpsc_put(ring, 11, 8) == -ENOSPC &&
	      lfq_mpsc_push(ring, mpsc_in, 8, HZ) == -ENOSPC &&
	      lfq_mpsc_try_reserve(ring, 8, &res) == -ENOSPC &&
	      lfq_mpsc_reserve(ring, 8, &res, HZ) == -ENOSPC &&
	      mpsc_put(ring, 11, one + 1) == -ENOSPC;
	st = mpsc_stats(ring);
	CHECK(ok && time_before(jiffies, start + HZ) && st.dropped == 5 &&
	      !st.overwritten && lfq_mpsc_size(ring) == 8 &&
	      READ_ONCE(v.mpsc->head) == head + 8,
	      "mpsc discard: a full ring refuses every push and reserve at once (-ENOSPC), each counted in dropped (%llu)",
	      st.dropped);
	for (ok = true, n = 3; n < 11; n++)
		ok &= mpsc_got(ring, n, 8);
	CHECK(ok && lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EAGAIN,
	      "mpsc: the ring empties in order");

	/* laps of every length, pushed and popped every way there is */
	max = lfq_mpsc_max_len(ring);
	for (ok = true, n = 0; n < 1000 && ok; n++) {
		len = 1 + n * 37 % max;
		switch (n % 3) {
		case 0:
			ok = mpsc_put(ring, n, len) == 0;
			break;
		case 1:
			mpsc_fill(mpsc_in, n, len);
			ok = lfq_mpsc_push(ring, mpsc_in, len, 1) == 0;
			break;
		case 2:
			ok = lfq_mpsc_reserve(ring, len, &res, 0) == 0;
			if (ok) {
				mpsc_fill(res.data, n, len);
				ok = lfq_mpsc_commit(ring, &res) == 0;
			}
			break;
		}
		size = lfq_mpsc_size(ring);
		ok &= size == mpsc_slots_for(&v, READ_ONCE(v.mpsc->tail), len);
		switch (n / 3 % 3) {
		case 0:
			ok &= mpsc_got(ring, n, len);
			break;
		case 1:
			ok &= lfq_mpsc_pop(ring, mpsc_out, len, 0) == len &&
			      mpsc_holds(mpsc_out, n, len);
			break;
		case 2:
			ok &= lfq_mpsc_peek(ring, &res) == 0 && res.len == len &&
			      mpsc_holds(res.data, n, len) &&
			      lfq_mpsc_release(ring, &res) == 0;
			break;
		}
	}
	st = mpsc_stats(ring);
	CHECK(ok && lfq_mpsc_size(ring) == 0 && st.dropped == 5,
	      "mpsc: 1000 laps of records of 1..%u bytes, wrapping, by every push and pop (%llu)",
	      max, n);
	CHECK(lfq_ring_errors(ring) == 0, "mpsc try: no ring errors");
out:
	lfq_ring_put(ring);
}

/* A record that would run past the end of the lap takes its payload from slot 0. */
static void __init test_mpsc_wrap(void)
{
	struct lfq_mpsc_res res;
	struct lfq_ring *ring;
	struct ring_view v;
	u32 max, slots;
	bool ok, wraps;
	u64 n, pos;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 8, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc wrap: create ring");
		return;
	}
	ok = lfq_mpsc_try_reserve(ring, 8, &res) == 0 && res.pos == 0;
	if (!ok) {
		CHECK(false, "mpsc wrap: reserve position 0");
		goto out;
	}
	v = mpsc_view(ring, &res);
	mpsc_fill(res.data, 0, 8);
	ok = lfq_mpsc_commit(ring, &res) == 0 && mpsc_got(ring, 0, 8);
	for (n = 1; n < 7; n++)
		ok &= mpsc_put(ring, n, 8) == 0 && mpsc_got(ring, n, 8);
	/* at position 7, the last slot of the lap */
	ok &= lfq_mpsc_try_reserve(ring, 100, &res) == 0 && res.pos == 7;
	CHECK(ok && res.len == 100 && res.slots == 1 + DIV_ROUND_UP(100, v.stride) &&
	      res.data == v.slots && lfq_mpsc_size(ring) == res.slots &&
	      READ_ONCE(v.mpsc->head) == 7 + res.slots &&
	      READ_ONCE(mpsc_rec_at(&v, 7)->len) == 100 &&
	      READ_ONCE(mpsc_rec_at(&v, 7)->slots) == res.slots &&
	      mpsc_seq(&v, 7) == 7,
	      "mpsc: a 100-byte record at the lap's last slot takes it and the slots of its payload, from slot 0 (%u)",
	      res.slots);
	mpsc_fill(res.data, 7, 100);
	ok = lfq_mpsc_commit(ring, &res) == 0 && mpsc_seq(&v, 7) == 8 &&
	     mpsc_got(ring, 7, 100);
	CHECK(ok && READ_ONCE(v.mpsc->tail) == 10 && mpsc_seq(&v, 7) == 15 &&
	      mpsc_seq(&v, 8) == 16 && mpsc_seq(&v, 9) == 17,
	      "mpsc: it pops whole, and frees every slot it took for the next lap");

	/* the longest record at every offset */
	max = lfq_mpsc_max_len(ring);
	for (ok = true, n = 0; n < v.capacity && ok; n++) {
		while (ok && (READ_ONCE(v.mpsc->head) & v.mask) != n)
			ok = mpsc_put(ring, n, 8) == 0 && mpsc_got(ring, n, 8);
		pos = READ_ONCE(v.mpsc->head);
		slots = mpsc_slots_for(&v, pos, max);
		wraps = (pos & v.mask) + slots > v.capacity;
		ok = lfq_mpsc_try_reserve(ring, max, &res) == 0 &&
		     res.pos == pos && res.slots == slots && slots < v.capacity &&
		     res.data == (wraps ? v.slots : mpsc_payload_at(&v, pos));
		if (!ok)
			break;
		mpsc_fill(res.data, n, max);
		ok = lfq_mpsc_commit(ring, &res) == 0 && mpsc_got(ring, n, max);
	}
	CHECK(ok && lfq_mpsc_size(ring) == 0,
	      "mpsc: a record of max_len (%u) fits at every offset, in under a lap", max);
	CHECK(lfq_ring_errors(ring) == 0, "mpsc wrap: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Records taken in place: peek_burst holds them until their release. */
static void __init test_mpsc_peek(void)
{
	struct lfq_mpsc_res r[4], c, res, forged;
	const u64 taken = LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY;
	struct lfq_mpsc_rec *rec;
	struct lfq_ring *ring;
	struct ring_view v;
	bool ok;
	int ret;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 8, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc peek: create ring");
		return;
	}
	ok = mpsc_put(ring, 0, 10) == 0 && mpsc_put(ring, 1, 20) == 0 &&
	     lfq_mpsc_try_reserve(ring, 30, &c) == 0 && c.pos == 2;
	if (!ok) {
		CHECK(false, "mpsc peek: records 0..2");
		goto out;
	}
	v = mpsc_view(ring, &c);
	mpsc_fill(c.data, 2, 30);
	ok = lfq_mpsc_commit(ring, &c) == 0;
	ret = lfq_mpsc_peek_burst(ring, r, 2);
	CHECK(ok && ret == 2 && r[0].pos == 0 && r[0].len == 10 &&
	      r[0].data == mpsc_payload_at(&v, 0) && mpsc_holds(r[0].data, 0, 10) &&
	      r[1].pos == 1 && r[1].len == 20 && mpsc_holds(r[1].data, 1, 20) &&
	      mpsc_seq(&v, 0) == taken && mpsc_seq(&v, 1) == taken &&
	      READ_ONCE(v.mpsc->tail) == 0 && lfq_mpsc_size(ring) == 3,
	      "mpsc: peek_burst of 2 takes the two oldest in place (seq TAKEN | NOBODY) and frees nothing (%d)",
	      ret);
	CHECK(lfq_mpsc_peek(ring, &res) == -EBUSY &&
	      lfq_mpsc_try_pop(ring, mpsc_out, sizeof(mpsc_out)) == -EBUSY,
	      "mpsc: while the consumer holds them, peek and try_pop are -EBUSY");
	forged = r[1];
	forged.slots++;
	ok = lfq_mpsc_release(ring, &forged) == -EINVAL;
	forged = r[1];
	forged.data = (u8 *)forged.data + 1;
	ok &= lfq_mpsc_release(ring, &forged) == -EINVAL;
	forged = r[1];
	forged.pos += v.capacity;
	ok &= lfq_mpsc_release(ring, &forged) == -EINVAL;
	ok &= lfq_mpsc_release(ring, &c) == -EINVAL;
	CHECK(ok && READ_ONCE(v.mpsc->tail) == 0 && mpsc_seq(&v, 1) == taken &&
	      mpsc_seq(&v, 2) == 3 && lfq_mpsc_size(ring) == 3,
	      "mpsc: forged releases (slots, payload, lap; a record not taken) are -EINVAL and change nothing");
	CHECK(lfq_mpsc_release(ring, &r[0]) == 0 &&
	      READ_ONCE(v.mpsc->tail) == 1 && mpsc_seq(&v, 0) == v.capacity &&
	      mpsc_seq(&v, 1) == taken && lfq_mpsc_peek(ring, &res) == -EBUSY,
	      "mpsc: release of the first frees it alone, for the next lap (seq %u)",
	      v.capacity);
	CHECK(lfq_mpsc_release(ring, &r[0]) == -EINVAL &&
	      READ_ONCE(v.mpsc->tail) == 1,
	      "mpsc: a second release of it is -EINVAL");
	ok = lfq_mpsc_release(ring, &r[1]) == 0 &&
	     lfq_mpsc_peek_burst(ring, r, 4) == 1 && r[0].pos == 2 &&
	     mpsc_holds(r[0].data, 2, 30) && lfq_mpsc_release(ring, &r[0]) == 0;
	CHECK(ok && lfq_mpsc_peek(ring, &res) == -EAGAIN &&
	      lfq_mpsc_size(ring) == 0,
	      "mpsc: a burst of 4 takes the one record left");

	ok = mpsc_put(ring, 3, 8) == 0 && mpsc_put(ring, 4, 40) == 0 &&
	     mpsc_put(ring, 5, 8) == 0 && lfq_mpsc_peek_burst(ring, r, 4) == 3;
	CHECK(ok && lfq_mpsc_release(ring, &r[2]) == 0 &&
	      lfq_mpsc_size(ring) == 0 && READ_ONCE(v.mpsc->tail) == 6 &&
	      lfq_mpsc_release(ring, &r[0]) == -EINVAL &&
	      lfq_mpsc_release(ring, &r[1]) == -EINVAL,
	      "mpsc: release of a burst's last record frees the whole burst");

	/* an uncommitted record ends a burst and holds back those behind it */
	ok = mpsc_put(ring, 6, 8) == 0 &&
	     lfq_mpsc_try_reserve(ring, 8, &c) == 0 && c.pos == 7 &&
	     mpsc_put(ring, 8, 8) == 0;
	CHECK(ok && lfq_mpsc_peek_burst(ring, r, 4) == 1 && r[0].pos == 6 &&
	      lfq_mpsc_release(ring, &r[0]) == 0 &&
	      lfq_mpsc_peek(ring, &res) == -EAGAIN &&
	      lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EAGAIN,
	      "mpsc: a burst stops at an uncommitted record, which holds back the one behind it");
	mpsc_fill(c.data, 7, 8);
	ok = lfq_mpsc_commit(ring, &c) == 0 &&
	     lfq_mpsc_peek_burst(ring, r, 4) == 2 &&
	     r[0].pos == 7 && mpsc_holds(r[0].data, 7, 8) &&
	     r[1].pos == 8 && mpsc_holds(r[1].data, 8, 8);
	CHECK(ok && lfq_mpsc_release(ring, &r[1]) == 0,
	      "mpsc: its commit lets both out, in order");

	/* a record without payload, as the repair publishes a dead producer's */
	ok = lfq_mpsc_try_reserve(ring, 8, &c) == 0 && c.pos == 9 &&
	     mpsc_put(ring, 10, 8) == 0;
	rec = mpsc_rec_at(&v, 9);
	WRITE_ONCE(rec->len, 0);
	/* as R in lfq_mpsc_repair() publishes it: len before seq */
	smp_store_release(&rec->seq, 10);
	CHECK(ok && lfq_mpsc_peek(ring, &res) == 0 && res.pos == 10 &&
	      mpsc_holds(res.data, 10, 8) && READ_ONCE(v.mpsc->tail) == 10 &&
	      mpsc_seq(&v, 9) == 9 + v.capacity &&
	      lfq_mpsc_release(ring, &res) == 0,
	      "mpsc: peek frees a record without payload (a repaired one) on its way to the next");
	CHECK(lfq_mpsc_commit(ring, &c) == -EINVAL &&
	      mpsc_seq(&v, 9) == 9 + v.capacity,
	      "mpsc: the repaired reservation can no longer be committed");
	CHECK(lfq_ring_errors(ring) == 0, "mpsc peek: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Reserve and commit; commits that are not owed are refused. */
static void __init test_mpsc_commit(void)
{
	struct lfq_mpsc_res r, r1, r2, p, forged;
	struct lfq_ring *ring;
	struct ring_view v;
	bool ok;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 4, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc commit: create ring");
		return;
	}
	CHECK(lfq_mpsc_try_reserve(ring, 8, &r) == 0 && r.pos == 0 &&
	      r.len == 8 && r.slots == 1 && r.data,
	      "mpsc: try_reserve takes position 0");
	if (r.pos != 0 || !r.data)
		goto out;
	v = mpsc_view(ring, &r);
	CHECK(READ_ONCE(v.mpsc->head) == 1 && mpsc_seq(&v, 0) == 0 &&
	      READ_ONCE(mpsc_rec_at(&v, 0)->len) == 8 &&
	      READ_ONCE(mpsc_rec_at(&v, 0)->slots) == 1 &&
	      lfq_mpsc_size(ring) == 1 &&
	      lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EAGAIN,
	      "mpsc: a reservation holds its position (head 1, size 1) with its header written, and is not poppable before its commit");
	mpsc_fill(r.data, 0, 8);
	forged = r;
	forged.data = (u8 *)r.data + 8;
	ok = lfq_mpsc_commit(ring, &forged) == -EINVAL;
	forged = r;
	forged.slots = 2;
	ok &= lfq_mpsc_commit(ring, &forged) == -EINVAL;
	forged = r;
	forged.pos += v.capacity;		/* the same slot, a lap later */
	ok &= lfq_mpsc_commit(ring, &forged) == -EINVAL;
	forged = r;
	forged.pos = 1;				/* never handed out */
	forged.data = mpsc_payload_at(&v, 1);
	ok &= lfq_mpsc_commit(ring, &forged) == -EINVAL;
	forged = r;
	forged.len = v.stride - LFQ_MPSC_SLOT_HDR + 1;	/* more than its slot */
	ok &= lfq_mpsc_commit(ring, &forged) == -EINVAL;
	forged = r;
	forged.data = NULL;
	ok &= lfq_mpsc_commit(ring, &forged) == -EINVAL;
	ok &= lfq_mpsc_release(ring, &r) == -EINVAL;
	CHECK(ok && mpsc_seq(&v, 0) == 0 && READ_ONCE(v.mpsc->head) == 1,
	      "mpsc: forged commits (payload, slots, lap, position, length, NULL) and a release of a reservation are -EINVAL and change nothing");
	CHECK(lfq_mpsc_commit(ring, &r) == 0 && mpsc_seq(&v, 0) == 1,
	      "mpsc: commit publishes the record (seq 1)");
	CHECK(lfq_mpsc_commit(ring, &r) == -EINVAL && mpsc_seq(&v, 0) == 1,
	      "mpsc: a second commit of it is -EINVAL");
	ok = lfq_mpsc_peek(ring, &p) == 0 && lfq_mpsc_commit(ring, &r) == -EINVAL;
	CHECK(ok && mpsc_seq(&v, 0) == (LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY) &&
	      lfq_mpsc_release(ring, &p) == 0,
	      "mpsc: so is one while the consumer holds it");
	CHECK(lfq_mpsc_commit(ring, &r) == -EINVAL &&
	      mpsc_seq(&v, 0) == v.capacity && READ_ONCE(v.mpsc->head) == 1 &&
	      READ_ONCE(v.mpsc->tail) == 1,
	      "mpsc: and one after it was consumed (the slot is the next lap's)");

	/* commits out of order, records in position order */
	ok = lfq_mpsc_try_reserve(ring, 8, &r1) == 0 &&
	     lfq_mpsc_reserve(ring, 8, &r2, 1) == 0 &&
	     r1.pos == 1 && r2.pos == 2;
	CHECK(ok, "mpsc: try_reserve and reserve take positions 1 and 2");
	if (!ok)
		goto out;
	mpsc_fill(r1.data, 1, 8);
	mpsc_fill(r2.data, 2, 8);
	CHECK(lfq_mpsc_commit(ring, &r2) == 0 &&
	      lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EAGAIN &&
	      lfq_mpsc_pop(ring, mpsc_out, 8, 2) == -ETIMEDOUT &&
	      lfq_mpsc_size(ring) == 2,
	      "mpsc: position 2 committed before position 1 waits behind it: pop times out");
	CHECK(lfq_mpsc_commit(ring, &r1) == 0 &&
	      lfq_mpsc_pop(ring, mpsc_out, 8, 1) == 8 && mpsc_holds(mpsc_out, 1, 8) &&
	      lfq_mpsc_pop(ring, mpsc_out, 8, 1) == 8 && mpsc_holds(mpsc_out, 2, 8),
	      "mpsc: once position 1 commits both come out in position order");
	CHECK(lfq_ring_errors(ring) == 0, "mpsc commit: no ring errors");
out:
	lfq_ring_put(ring);
}

/* What a full BLOCK or OVERWRITE ring does. */
static void __init test_mpsc_policies(void)
{
	struct lfq_mpsc_res r, p;
	struct lfq_mpsc_stats st;
	struct lfq_ring *ring;
	struct ring_view v;
	unsigned long start;
	bool ok;
	u64 n;
	int ret;

	ring = make_mpsc(LFQ_MPSC_BLOCK, 4, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc block: create ring");
		return;
	}
	for (ok = true, n = 0; n < 4; n++)
		ok &= mpsc_put(ring, n, 8) == 0;
	start = jiffies;
	ok &= mpsc_put(ring, 4, 8) == -ENOSPC &&
	      lfq_mpsc_try_reserve(ring, 8, &r) == -ENOSPC &&
	      mpsc_put(ring, 4, 60) == -ENOSPC;
	ret = lfq_mpsc_push(ring, mpsc_in, 8, 2);
	st = mpsc_stats(ring);
	CHECK(ok && ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2) &&
	      !st.dropped && !st.overwritten,
	      "mpsc block: a full ring refuses try_push and try_reserve (-ENOSPC, not counted); push waits its timeout (%d)",
	      ret);
	CHECK(lfq_mpsc_reserve(ring, 8, &r, 0) == -ETIMEDOUT &&
	      lfq_mpsc_reserve(ring, 8, &r, 1) == -ETIMEDOUT &&
	      lfq_mpsc_push(ring, mpsc_in, 8, 0) == -ETIMEDOUT &&
	      lfq_mpsc_size(ring) == 4,
	      "mpsc block: reserve and push with timeouts 0 and 1 are -ETIMEDOUT and take no position");
	for (ok = true, n = 0; n < 4; n++)
		ok &= mpsc_got(ring, n, 8);
	CHECK(ok && lfq_ring_errors(ring) == 0,
	      "mpsc block: the records come out in order, no ring errors");
	lfq_ring_put(ring);

	ring = make_mpsc(LFQ_MPSC_OVERWRITE, 4, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc overwrite: create ring");
		return;
	}
	ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0 && r.pos == 0;
	if (!ok) {
		CHECK(false, "mpsc overwrite: reserve position 0");
		goto out;
	}
	v = mpsc_view(ring, &r);
	mpsc_fill(r.data, 0, 8);
	ok = lfq_mpsc_commit(ring, &r) == 0;
	for (n = 1; n < 4; n++)
		ok &= mpsc_put(ring, n, 8) == 0;
	ok &= mpsc_put(ring, 4, 8) == 0;
	st = mpsc_stats(ring);
	CHECK(ok && st.overwritten == 1 && !st.dropped &&
	      READ_ONCE(v.mpsc->tail) == 1 && lfq_mpsc_size(ring) == 4,
	      "mpsc overwrite: a push into a full ring frees the oldest record unread, counted in overwritten");
	ok = mpsc_put(ring, 5, 60) == 0;	/* two slots, at 5 and 6 */
	st = mpsc_stats(ring);
	CHECK(ok && st.overwritten == 3 && READ_ONCE(v.mpsc->tail) == 3 &&
	      READ_ONCE(v.mpsc->head) == 7,
	      "mpsc overwrite: a two-slot record frees as many as it needs (%llu overwritten)",
	      st.overwritten);
	CHECK(mpsc_got(ring, 3, 8) && mpsc_got(ring, 4, 8) &&
	      mpsc_got(ring, 5, 60) &&
	      lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EAGAIN,
	      "mpsc overwrite: the survivors come out in order");

	/* the oldest still being written cannot be freed */
	ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0 && r.pos == 7;
	for (n = 8; n < 11; n++)
		ok &= mpsc_put(ring, n, 8) == 0;
	ok &= mpsc_put(ring, 11, 8) == -ENOSPC;
	st = mpsc_stats(ring);
	CHECK(ok && st.dropped == 1 && st.overwritten == 3 &&
	      READ_ONCE(v.mpsc->tail) == 7 && lfq_mpsc_size(ring) == 4,
	      "mpsc overwrite: an uncommitted oldest record is not freed: -ENOSPC, counted in dropped");
	mpsc_fill(r.data, 7, 8);
	ok = lfq_mpsc_commit(ring, &r) == 0 && mpsc_put(ring, 11, 8) == 0;
	st = mpsc_stats(ring);
	CHECK(ok && st.overwritten == 4 && READ_ONCE(v.mpsc->tail) == 8,
	      "mpsc overwrite: once committed, it is");
	/* nor one the consumer holds */
	ok = lfq_mpsc_peek(ring, &p) == 0 && p.pos == 8 &&
	     mpsc_put(ring, 12, 8) == -ENOSPC;
	st = mpsc_stats(ring);
	CHECK(ok && st.dropped == 2 && st.overwritten == 4 &&
	      READ_ONCE(v.mpsc->tail) == 8 && mpsc_holds(p.data, 8, 8),
	      "mpsc overwrite: nor is one the consumer holds: -ENOSPC, dropped, and the held record intact");
	ok = lfq_mpsc_release(ring, &p) == 0 && mpsc_put(ring, 12, 8) == 0;
	for (n = 9; n < 13; n++)
		ok &= mpsc_got(ring, n, 8);
	st = mpsc_stats(ring);
	CHECK(ok && st.overwritten == 4 && st.dropped == 2,
	      "mpsc overwrite: after its release the push fits without freeing anything");
	CHECK(lfq_ring_errors(ring) == 0, "mpsc overwrite: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Record headers and positions that no correct ring holds: -EIO, counted. */
static void __init test_mpsc_corrupt(void)
{
	struct lfq_mpsc_res r, burst[2];
	struct lfq_mpsc_rec *rec;
	struct lfq_ring *ring;
	struct ring_view v;
	unsigned long start;
	u64 errors, head;
	bool ok;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 4, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc corrupt: create ring");
		return;
	}
	ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0 && r.pos == 0;
	if (!ok) {
		CHECK(false, "mpsc corrupt: reserve position 0");
		goto out;
	}
	v = mpsc_view(ring, &r);
	mpsc_fill(r.data, 0, 8);
	ok = lfq_mpsc_commit(ring, &r) == 0 && mpsc_got(ring, 0, 8) &&
	     mpsc_put(ring, 1, 8) == 0;
	rec = mpsc_rec_at(&v, 1);
	WRITE_ONCE(rec->slots, v.capacity);
	errors = lfq_ring_errors(ring);
	start = jiffies;
	ok &= lfq_mpsc_try_pop(ring, mpsc_out, 8) == -EIO &&
	      lfq_mpsc_peek(ring, &r) == -EIO &&
	      lfq_mpsc_peek_burst(ring, burst, 2) == -EIO &&
	      lfq_mpsc_pop(ring, mpsc_out, 8, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 4 &&
	      time_before(jiffies, start + HZ) && READ_ONCE(v.mpsc->tail) == 1,
	      "mpsc: a committed record that says it takes the whole ring is -EIO for every pop, at once, counted");
	WRITE_ONCE(rec->slots, 1);
	WRITE_ONCE(rec->len, v.stride - LFQ_MPSC_SLOT_HDR + 1);
	ok = lfq_mpsc_try_pop(ring, mpsc_out, sizeof(mpsc_out)) == -EIO;
	WRITE_ONCE(rec->len, 8);
	CHECK(ok && mpsc_got(ring, 1, 8),
	      "mpsc: so is one whose length runs past its slots; it pops once its header is right");
	ok = mpsc_put(ring, 2, 8) == 0;
	rec = mpsc_rec_at(&v, 2);
	WRITE_ONCE(rec->seq, 4);		/* neither free, committed nor taken */
	ok &= lfq_mpsc_peek(ring, &r) == -EIO;
	WRITE_ONCE(rec->seq, 3);
	CHECK(ok && mpsc_got(ring, 2, 8),
	      "mpsc: a seq at the tail that no state has is -EIO");

	/* head more than a lap past tail */
	head = READ_ONCE(v.mpsc->head);
	WRITE_ONCE(v.mpsc->head, head + v.capacity + 1);
	errors = lfq_ring_errors(ring);
	ok = mpsc_put(ring, 3, 8) == -EIO &&
	     lfq_mpsc_push(ring, mpsc_in, 8, HZ) == -EIO &&
	     lfq_mpsc_try_reserve(ring, 8, &r) == -EIO &&
	     lfq_mpsc_reserve(ring, 8, &r, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 4 && !mpsc_stats(ring).dropped,
	      "mpsc: a head more than a lap past the tail is -EIO for every push, not a drop");
	WRITE_ONCE(v.mpsc->head, head);
	CHECK(mpsc_put(ring, 3, 8) == 0 && mpsc_got(ring, 3, 8),
	      "mpsc: the ring works again once head is right");
	lfq_ring_put(ring);

	/* an overwriter that finds the oldest record scribbled */
	ring = make_mpsc(LFQ_MPSC_OVERWRITE, 4, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc corrupt: create OVERWRITE ring");
		return;
	}
	ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0 && r.pos == 0;
	if (!ok) {
		CHECK(false, "mpsc corrupt: reserve position 0 of OVERWRITE");
		goto out;
	}
	v = mpsc_view(ring, &r);
	mpsc_fill(r.data, 0, 8);
	ok = lfq_mpsc_commit(ring, &r) == 0;
	ok &= mpsc_put(ring, 1, 8) == 0 && mpsc_put(ring, 2, 8) == 0 &&
	      mpsc_put(ring, 3, 8) == 0;
	rec = mpsc_rec_at(&v, 0);
	WRITE_ONCE(rec->slots, 0);
	errors = lfq_ring_errors(ring);
	ok &= mpsc_put(ring, 4, 8) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 1 &&
	      !mpsc_stats(ring).overwritten && READ_ONCE(v.mpsc->tail) == 0,
	      "mpsc overwrite: a scribbled oldest record is -EIO for the overwriter, and stays");
	WRITE_ONCE(rec->slots, 1);
	CHECK(mpsc_put(ring, 4, 8) == 0 && mpsc_stats(ring).overwritten == 1 &&
	      mpsc_got(ring, 1, 8),
	      "mpsc overwrite: once its header is right it is overwritten");
out:
	lfq_ring_put(ring);
}

static void __init test_mpsc_blocking(void)
{
	struct lfq_wait *ne, *nf;
	struct lfq_mpsc_res r, p;
	struct lfq_ring *ring;
	struct ring_view v;
	struct blocked b;
	u64 x, head;
	bool done, ok;

	ring = make_mpsc(LFQ_MPSC_BLOCK, 2, 8);
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc blocking: create ring");
		return;
	}
	/* find the shared words: one record through */
	if (lfq_mpsc_try_reserve(ring, 8, &r) || lfq_mpsc_commit(ring, &r) ||
	    lfq_mpsc_try_pop(ring, &x, 8) != 8) {
		CHECK(false, "mpsc blocking: one record through");
		goto out;
	}
	v = mpsc_view(ring, &r);
	ne = &v.mpsc->not_empty;
	nf = &v.mpsc->not_full;

	if (!blocked_start_on(&b, ring, MPSC_POP, 0, ne)) {
		ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0;
		if (ok) {
			memcpy(r.data, &(u64){ 42 }, 8);
			ok = lfq_mpsc_commit(ring, &r) == 0;
		}
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == 42,
		      "mpsc: a pop sleeping on an empty ring is woken by a commit (%d)",
		      b.ret);
	}
	/* behind an uncommitted record, the one its commit wakes */
	ok = lfq_mpsc_try_reserve(ring, 8, &r) == 0 &&
	     lfq_mpsc_try_push(ring, &(u64){ 21 }, 8) == 0;
	if (ok && !blocked_start_on(&b, ring, MPSC_POP, 0, ne)) {
		memcpy(r.data, &(u64){ 20 }, 8);
		ok = lfq_mpsc_commit(ring, &r) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == 20 &&
		      lfq_mpsc_try_pop(ring, &x, 8) == 8 && x == 21,
		      "mpsc: a pop sleeping behind an uncommitted record is woken by its commit (%d)",
		      b.ret);
	}
	ok = lfq_mpsc_try_push(ring, &(u64){ 30 }, 8) == 0 &&
	     lfq_mpsc_try_push(ring, &(u64){ 31 }, 8) == 0;
	if (ok && !blocked_start_on(&b, ring, MPSC_RESERVE, 7, nf)) {
		ok = lfq_mpsc_peek(ring, &p) == 0 && !memcmp(p.data, &(u64){ 30 }, 8) &&
		     lfq_mpsc_release(ring, &p) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0,
		      "mpsc block: a reserve sleeping on a full ring is woken by a release (%d)",
		      b.ret);
		ok = lfq_mpsc_try_pop(ring, &x, 8) == 8 && x == 31 &&
		     lfq_mpsc_try_pop(ring, &x, 8) == 8 && x == 7;
		CHECK(ok, "mpsc block: the woken reserve's record lands after the others");
	}

	if (!blocked_start_on(&b, ring, MPSC_POP, 0, ne)) {
		kthread_stop(b.task);
		CHECK(b.slept && completion_done(&b.done) && b.ret == -EINTR,
		      "mpsc: kthread_stop() ends a sleeping pop with -EINTR (%d)",
		      b.ret);
	}
	ok = lfq_mpsc_try_push(ring, &(u64){ 0 }, 8) == 0 &&
	     lfq_mpsc_try_push(ring, &(u64){ 1 }, 8) == 0;
	head = READ_ONCE(v.mpsc->head);
	if (ok && !blocked_start_on(&b, ring, MPSC_RESERVE, 7, nf)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == -EINTR &&
		      READ_ONCE(v.mpsc->head) == head && lfq_mpsc_size(ring) == 2,
		      "mpsc block: a signal ends a sleeping reserve with -EINTR, holding no position (%d)",
		      b.ret);
	}
	ok = lfq_mpsc_try_pop(ring, &x, 8) == 8 && x == 0 &&
	     lfq_mpsc_try_pop(ring, &x, 8) == 8 && x == 1 &&
	     lfq_mpsc_try_pop(ring, &x, 8) == -EAGAIN;
	CHECK(ok && READ_ONCE(nf->waiters) == 0 && READ_ONCE(ne->waiters) == 0,
	      "mpsc: no record behind the interrupted calls, no waiter left counted");
	CHECK(lfq_ring_errors(ring) == 0 && !mpsc_stats(ring).dropped,
	      "mpsc blocking: no ring errors, no drops");
out:
	lfq_ring_put(ring);
}

/*
 * A producer in hardirq context: an hrtimer that logs records 0..count-1
 * of varied lengths, keeping a refused one for its next expiry.
 */
struct hardirq_log {
	struct hrtimer timer;
	struct lfq_ring *ring;
	u64 n, count;
	u64 refused;
	u64 not_hardirq;		/* expiries that were not in hardirq */
	int error;
	u8 buf[128];
};

static u32 hardirq_len(u64 n)
{
	return 1 + n * 29 % 100;
}

static enum hrtimer_restart hardirq_log_fn(struct hrtimer *timer)
{
	struct hardirq_log *l = container_of(timer, struct hardirq_log, timer);
	u32 len = hardirq_len(l->n);
	int ret;

	if (!in_hardirq())
		l->not_hardirq++;
	mpsc_fill(l->buf, l->n, len);
	ret = lfq_mpsc_try_push(l->ring, l->buf, len);
	if (!ret)
		WRITE_ONCE(l->n, l->n + 1);
	else if (ret == -ENOSPC)
		l->refused++;
	else
		WRITE_ONCE(l->error, ret);
	if (l->n == l->count || l->error)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void __init test_mpsc_hardirq(void)
{
	struct hardirq_log *l;
	struct lfq_ring *ring;
	u64 i;
	int ret = 0;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	ring = make_mpsc(LFQ_MPSC_DISCARD, 8, 32);
	if (IS_ERR(ring) || !l) {
		CHECK(false, "mpsc hardirq: create ring");
		goto out;
	}
	l->ring = ring;
	l->count = 2000;
	hrtimer_init(&l->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	l->timer.function = hardirq_log_fn;
	hrtimer_start(&l->timer, 0, HRTIMER_MODE_REL_HARD);
	for (i = 0; i < l->count; i++) {
		ret = lfq_mpsc_pop(ring, mpsc_out, sizeof(mpsc_out), HZ);
		if (ret != hardirq_len(i) || !mpsc_holds(mpsc_out, i, ret))
			break;
	}
	hrtimer_cancel(&l->timer);
	CHECK(i == l->count && !l->not_hardirq && !l->error &&
	      mpsc_stats(ring).dropped == l->refused &&
	      lfq_mpsc_size(ring) == 0 && lfq_ring_errors(ring) == 0,
	      "mpsc: %llu records of 1..100 bytes from an hrtimer in hardirq, popped in order by a sleeping consumer (popped %llu, last %d, error %d, refused %llu = dropped %llu, not in hardirq %llu)",
	      l->count, i, ret, l->error, l->refused, mpsc_stats(ring).dropped,
	      l->not_hardirq);
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	kfree(l);
}

/*
 * An LFQ_TEST_F_IRQ job freed (its fd closed) while its interrupts fire
 * into a full ring: once job_free() returns, nothing pushes any more.
 */
static void __init test_mpsc_irq_stop(void)
{
	struct lfq_test_job p = {
		.role = LFQ_TEST_PRODUCE, .threads = 1, .burst = 1,
		.items = LFQ_TEST_MAX_ITEMS, .flags = LFQ_TEST_F_IRQ,
		.timeout_ms = 10000, .deadline_ms = 10000,
	};
	u8 item[sizeof(struct lfq_test_item)];
	u64 dropped, n = 0, bad = 0;
	unsigned long end;
	struct lfq_ring *ring;
	struct job *job;
	int ret;

	ring = make_mpsc(LFQ_MPSC_DISCARD, 16, sizeof(item));
	if (IS_ERR(ring)) {
		CHECK(false, "mpsc irq stop: create ring");
		return;
	}
	job = job_start(lfq_ring_get(ring), &p);
	if (IS_ERR(job)) {
		CHECK(false, "mpsc irq stop: start job (%ld)", PTR_ERR(job));
		goto out;
	}
	/* until the sources have knocked on the full ring a while */
	end = jiffies + 5 * HZ;
	while (mpsc_stats(ring).dropped < 1000 && time_before(jiffies, end))
		msleep(1);
	job_free(job);
	dropped = mpsc_stats(ring).dropped;
	msleep(20);
	while ((ret = lfq_mpsc_try_pop(ring, item, sizeof(item))) > 0) {
		n++;
		bad += ret != sizeof(item) ||
		       lfq_test_item_bad(item, sizeof(item), 1 + IRQ_NR);
	}
	CHECK(dropped >= 1000 && mpsc_stats(ring).dropped == dropped &&
	      n == 16 && !bad && !READ_ONCE(nmi_users) &&
	      lfq_ring_errors(ring) == 0,
	      "mpsc: freeing an irq job stops its thread, timer, hrtimer and NMIs at once (dropped %llu, then %llu; %llu items, %llu bad)",
	      dropped, mpsc_stats(ring).dropped, n, bad);
out:
	lfq_ring_put(ring);
}

/* ---- the sequencer -------------------------------------------------------- */

static struct lfq_ring *__init make_seq(u32 policy, u32 capacity)
{
	return make_typed(LFQ_RING_SEQ, policy, capacity, sizeof(u64));
}

/*
 * The shared words of a sequencer ring, through the ABI layout: the
 * header LFQ_SEQ_SLOT_HDR + slots_off bytes before element 0, the
 * barriers claims_off bytes after the header.
 */
static struct lfq_seq_hdr *__init seq_hdr(struct lfq_ring *ring)
{
	return (void *)((u8 *)lfq_seq_elem(ring, 0) - LFQ_SEQ_SLOT_HDR -
			lfq_ring_info(ring)->slots_off);
}

static struct lfq_seq_barrier *__init seq_bar(struct lfq_ring *ring, u32 id)
{
	return (struct lfq_seq_barrier *)((u8 *)seq_hdr(ring) +
					  lfq_ring_info(ring)->claims_off) + id;
}

/* What test sequence s holds: each differs from its neighbours and laps. */
static u64 seq_value(u64 s)
{
	return s * 3 + 1;
}

/* Claim up to n without waiting, write them, publish them: how many. */
static int __init seq_put(struct lfq_ring *ring, u32 n)
{
	u64 first, s;
	int got = lfq_seq_try_claim_up_to(ring, n, &first);

	if (got <= 0)
		return got;
	for (s = first; s != first + got; s++)
		*(u64 *)lfq_seq_elem(ring, s) = seq_value(s);
	return lfq_seq_publish_range(ring, first, first + got - 1) ?: got;
}

/*
 * Whether c finds c->seq + 1..last available (and maybe more), each
 * holding its value, and finishes them.
 */
static bool __init seq_take(struct lfq_seq_consumer *c, u64 last)
{
	u64 avail, s;

	if (lfq_seq_try_wait(c, last, &avail) || (s64)(avail - last) < 0)
		return false;
	for (s = c->seq + 1; s != last + 1; s++)
		if (*(u64 *)lfq_seq_elem(c->ring, s) != seq_value(s))
			return false;
	return !lfq_seq_done(c, last);
}

static void __init test_seq_api(void)
{
	struct lfq_create cr = {
		.type = LFQ_RING_SEQ, .capacity = 8, .elem_size = 12, .policy = 2,
	};
	struct lfq_seq_consumer c = { 0 };
	const struct lfq_info *info;
	struct lfq_seq_hdr *hdr;
	struct lfq_ring *ring, *vy;
	u64 s = 0, v = 0;
	bool ok;

	ring = lfq_ring_create(&cr);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "seq: create with policy 2 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	cr.policy = LFQ_SEQ_MULTI;
	ring = lfq_ring_create(&cr);
	vy = make_ring(4, 8);
	if (IS_ERR(ring) || IS_ERR(vy)) {
		CHECK(false, "seq: create rings for the API checks");
		goto out;
	}
	info = lfq_ring_info(ring);
	hdr = seq_hdr(ring);
	CHECK(info->type == LFQ_RING_SEQ && info->capacity == 8 &&
	      info->elem_size == 12 && info->policy == LFQ_SEQ_MULTI &&
	      info->slot_stride == LFQ_STRIDE(LFQ_SEQ_SLOT_HDR, 12) &&
	      info->slots_off == LFQ_SEQ_SLOTS_OFF &&
	      info->claims_off == info->slots_off + 8ULL * info->slot_stride &&
	      info->nr_claims == LFQ_CLAIMS,
	      "seq: lfq_ring_info() reports the geometry, the policy and %u barriers",
	      info->nr_claims);
	for (ok = true; s < 8; s++)
		ok &= IS_ALIGNED((unsigned long)lfq_seq_elem(ring, s), 8);
	CHECK(ok && lfq_seq_elem(ring, 8) == lfq_seq_elem(ring, 0) &&
	      hdr->cursor == LFQ_SEQ_INITIAL && hdr->gate == LFQ_SEQ_INITIAL &&
	      hdr->head == 0 && seq_bar(ring, 0)->state == LFQ_SEQ_FREE,
	      "seq: a new ring: cursor and gate LFQ_SEQ_INITIAL, head 0, barriers free; elements 8-byte aligned, one per slot");
	ok = lfq_seq_elem(vy, 0) == NULL &&
	     lfq_seq_try_claim_one(vy, &s) == -EINVAL &&
	     lfq_seq_claim_one(vy, &s, 1) == -EINVAL &&
	     lfq_seq_try_claim_up_to(vy, 1, &s) == -EINVAL &&
	     lfq_seq_claim_up_to(vy, 1, &s, 1) == -EINVAL &&
	     lfq_seq_publish(vy, 0) == -EINVAL &&
	     lfq_seq_publish_range(vy, 0, 0) == -EINVAL &&
	     lfq_seq_join(vy, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c) == -EINVAL &&
	     lfq_vyukov_try_push(ring, &v) == -EINVAL;
	CHECK(ok, "seq: every lfq_seq_*() call on a Vyukov ring is -EINVAL, lfq_seq_elem() NULL; a Vyukov call on a sequencer ring is -EINVAL");
	ok = lfq_seq_try_claim_up_to(ring, 0, &s) == -EINVAL &&
	     lfq_seq_try_claim_up_to(ring, 9, &s) == -E2BIG &&
	     lfq_seq_claim_up_to(ring, 9, &s, 1) == -E2BIG &&
	     lfq_seq_claim_up_to(ring, 1, NULL, 1) == -EINVAL &&
	     lfq_seq_claim_one(ring, &s, -1) == -EINVAL &&
	     lfq_seq_try_claim_one(NULL, &s) == -EINVAL;
	CHECK(ok && hdr->head == 0,
	      "seq: claiming 0 or no first is -EINVAL, more than the capacity -E2BIG, a negative timeout -EINVAL");
	ok = lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK + 1, &c) == -EINVAL &&
	     lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, NULL) == -EINVAL &&
	     lfq_seq_join(ring, LFQ_CLAIMS, LFQ_SEQ_WAIT_BLOCK, &c) == -EINVAL &&
	     lfq_seq_join(ring, 5, LFQ_SEQ_WAIT_BLOCK, &c) == -EINVAL &&
	     lfq_seq_wait(NULL, 0, &v, 1) == -EINVAL &&
	     lfq_seq_try_wait(NULL, 0, &v) == -EINVAL &&
	     lfq_seq_done(NULL, 0) == -EINVAL;
	CHECK(ok && seq_bar(ring, 0)->state == LFQ_SEQ_FREE,
	      "seq: joining with an unknown wait, no consumer, or following a barrier out of range or free is -EINVAL; NULL consumers are -EINVAL");
	if (!lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c)) {
		CHECK(lfq_seq_wait(&c, 0, NULL, 1) == -EINVAL &&
		      lfq_seq_wait(&c, 0, &v, -1) == -EINVAL,
		      "seq: a wait without avail or with a negative timeout is -EINVAL");
		lfq_seq_leave(&c);
	}
out:
	if (!IS_ERR(vy))
		lfq_ring_put(vy);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

/* One producer: claim, publish in order, wait, done, and every refusal. */
static void __init test_seq_single(void)
{
	struct lfq_seq_consumer c;
	struct lfq_seq_barrier *bar;
	struct lfq_seq_hdr *hdr;
	struct lfq_ring *ring;
	unsigned long start;
	u64 s, avail;
	int ret;
	bool ok;

	ring = make_seq(LFQ_SEQ_SINGLE, 4);
	if (IS_ERR(ring) ||
	    lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c)) {
		CHECK(false, "seq single: create ring, join");
		goto out;
	}
	hdr = seq_hdr(ring);
	bar = seq_bar(ring, c.id);
	CHECK(c.id == 0 && c.seq == LFQ_SEQ_INITIAL &&
	      bar->state == LFQ_SEQ_ACTIVE && bar->seq == LFQ_SEQ_INITIAL &&
	      bar->follows == LFQ_SEQ_PRODUCER,
	      "seq single: a consumer joined before the first publish takes barrier 0, active at LFQ_SEQ_INITIAL");
	start = jiffies;
	ret = lfq_seq_wait(&c, 0, &avail, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2) &&
	      lfq_seq_wait(&c, 0, &avail, 0) == -ETIMEDOUT &&
	      lfq_seq_try_wait(&c, 0, &avail) == -EAGAIN,
	      "seq single: nothing published: wait waits its timeout, then -ETIMEDOUT; try_wait is -EAGAIN (%d)",
	      ret);
	CHECK(lfq_seq_try_wait(&c, LFQ_SEQ_INITIAL, &avail) == -EINVAL &&
	      lfq_seq_wait(&c, 4, &avail, 1) == -EINVAL &&
	      lfq_seq_try_wait(&c, 3, &avail) == -EAGAIN,
	      "seq single: a wait for the last finished sequence, or more than a ring past it, is -EINVAL");

	ret = lfq_seq_try_claim_up_to(ring, 3, &s);
	ok = ret == 3 && s == 0;
	for (s = 0; s < 3; s++)
		*(u64 *)lfq_seq_elem(ring, s) = seq_value(s);
	ok &= lfq_seq_publish(ring, 3) == -EINVAL &&
	      lfq_seq_publish_range(ring, 1, 2) == -EINVAL &&
	      lfq_seq_publish_range(ring, 1, 0) == -EINVAL &&
	      lfq_seq_publish_range(ring, 0, 3) == -EINVAL;
	CHECK(ok && hdr->cursor == LFQ_SEQ_INITIAL && hdr->head == 3 &&
	      lfq_seq_try_wait(&c, 0, &avail) == -EAGAIN,
	      "seq single: claim_up_to(3) claims 0..2; publishing unclaimed 3, out of order or backwards is -EINVAL and publishes nothing");
	ok = !lfq_seq_publish(ring, 1) && lfq_seq_publish(ring, 0) == -EINVAL &&
	     lfq_seq_publish(ring, 1) == -EINVAL &&
	     lfq_seq_publish_range(ring, 1, 2) == -EINVAL;
	CHECK(ok && hdr->cursor == 1 && !lfq_seq_try_wait(&c, 0, &avail) &&
	      avail == 1,
	      "seq single: publish(1) publishes 0 and 1, one batch for the consumer; publishing either again is -EINVAL");
	ok = lfq_seq_done(&c, LFQ_SEQ_INITIAL) == -EINVAL &&
	     lfq_seq_done(&c, 2) == -EINVAL;
	CHECK(ok && c.seq == LFQ_SEQ_INITIAL && bar->seq == LFQ_SEQ_INITIAL,
	      "seq single: done at or before the last finished, or past what a wait made available, is -EINVAL and moves nothing");
	ok = *(u64 *)lfq_seq_elem(ring, 0) == seq_value(0) &&
	     !lfq_seq_done(&c, 0) && bar->seq == 0 &&
	     lfq_seq_done(&c, 0) == -EINVAL && seq_take(&c, 1);
	CHECK(ok && c.seq == 1 && bar->seq == 1,
	      "seq single: done publishes the barrier: the batch finished in two steps, holding its values");

	/* the consumer at 1: the producer may claim up to 5 */
	ok = !lfq_seq_publish(ring, 2) && seq_put(ring, 4) == 3;
	ok &= lfq_seq_try_claim_one(ring, &s) == -ENOSPC &&
	      lfq_seq_try_claim_up_to(ring, 2, &s) == -ENOSPC;
	start = jiffies;
	ret = lfq_seq_claim_one(ring, &s, 2);
	CHECK(ok && ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2) &&
	      hdr->head == 6 && hdr->cursor == 5,
	      "seq single: the producer claims up to a ring past the barrier (3 of 4), then -ENOSPC, and claim waits its timeout (%d)",
	      ret);
	ok = seq_take(&c, 5) && seq_put(ring, 4) == 4 && seq_take(&c, 9);
	lfq_seq_leave(&c);
	CHECK(ok && bar->state == LFQ_SEQ_FREE && seq_put(ring, 4) == 4 &&
	      seq_put(ring, 4) == 4,
	      "seq single: the ring goes round; once the consumer left, nothing holds the producer back");
	CHECK(lfq_ring_errors(ring) == 0, "seq single: no ring errors");
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

/* Many producers: each sequence published alone, in any order. */
static void __init test_seq_multi(void)
{
	struct lfq_seq_consumer c, late;
	struct lfq_ring *ring;
	u64 a, b, avail;
	bool ok;

	ring = make_seq(LFQ_SEQ_MULTI, 4);
	if (IS_ERR(ring) ||
	    lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c)) {
		CHECK(false, "seq multi: create ring, join");
		goto out;
	}
	ok = !lfq_seq_try_claim_one(ring, &a) && !lfq_seq_claim_one(ring, &b, 1) &&
	     a == 0 && b == 1;
	*(u64 *)lfq_seq_elem(ring, 0) = seq_value(0);
	*(u64 *)lfq_seq_elem(ring, 1) = seq_value(1);
	ok &= !lfq_seq_publish(ring, 1);
	CHECK(ok && lfq_seq_try_wait(&c, 0, &avail) == -EAGAIN,
	      "seq multi: two producers claim 0 and 1; 1 published first is not available while 0 is not");
	ok = lfq_seq_publish(ring, 1) == -EINVAL && lfq_seq_publish(ring, 2) == -EINVAL &&
	     lfq_seq_publish_range(ring, 0, 1) == -EINVAL &&
	     lfq_seq_publish_range(ring, 1, 0) == -EINVAL;
	CHECK(ok && lfq_seq_try_wait(&c, 0, &avail) == -EAGAIN,
	      "seq multi: publishing 1 again, unclaimed 2, a range holding 1, or backwards is -EINVAL and publishes nothing");
	CHECK(!lfq_seq_publish(ring, 0) && seq_take(&c, 1),
	      "seq multi: once 0 is published the consumer gets 0..1 as one batch");
	/* 2..5: sequence 1's slot now holds 5 */
	ok = seq_put(ring, 4) == 4 && lfq_seq_publish(ring, 1) == -EINVAL &&
	     lfq_seq_publish_range(ring, 1, 2) == -EINVAL;
	CHECK(ok && seq_take(&c, 5),
	      "seq multi: publishing a sequence a ring back, in the slot of a newer one, is -EINVAL and leaves it be");
	/* claimed, not published: a late consumer starts after it */
	ok = !lfq_seq_try_claim_one(ring, &a) && a == 6 &&
	     !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &late);
	if (ok) {
		*(u64 *)lfq_seq_elem(ring, 6) = seq_value(6);
		ok = late.seq == 6 && late.id == 1 && !lfq_seq_publish(ring, 6) &&
		     seq_take(&c, 6) && lfq_seq_try_wait(&late, 7, &avail) == -EAGAIN &&
		     seq_put(ring, 1) == 1 && seq_take(&late, 7) && seq_take(&c, 7);
		lfq_seq_leave(&late);
	}
	CHECK(ok, "seq multi: a late consumer starts after the last claimed sequence (6), published or not");
	lfq_seq_leave(&c);
	CHECK(lfq_ring_errors(ring) == 0, "seq multi: no ring errors");
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

static struct lfq_seq_consumer seq_many[LFQ_CLAIMS + 1] __initdata;

/* Several consumers: late joins, multicast, a pipeline, -EPIPE, -EBUSY. */
static void __init test_seq_consumers(void)
{
	struct lfq_seq_consumer *a = &seq_many[0], *b = &seq_many[1],
				*d = &seq_many[2];
	struct lfq_ring *ring;
	unsigned int n;
	u64 avail, s;
	bool ok;

	ring = make_seq(LFQ_SEQ_SINGLE, 4);
	if (IS_ERR(ring)) {
		CHECK(false, "seq consumers: create ring");
		return;
	}
	/* published 0..2, claimed 3: a late consumer starts after 2 */
	ok = seq_put(ring, 3) == 3 && !lfq_seq_try_claim_one(ring, &s) &&
	     !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, a);
	CHECK(ok && a->seq == 2 && a->id == 0,
	      "seq single: a late consumer starts after the last published sequence (2), not the last claimed (3)");
	*(u64 *)lfq_seq_elem(ring, 3) = seq_value(3);
	ok = !lfq_seq_publish(ring, 3) && seq_take(a, 3) &&
	     !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_YIELD, b) &&
	     !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, d) &&
	     seq_put(ring, 4) == 4 && seq_take(a, 7) && seq_take(b, 5);
	/* d has taken nothing: the producer waits for the slowest */
	ok &= lfq_seq_try_claim_one(ring, &s) == -ENOSPC && seq_take(d, 5) &&
	      seq_put(ring, 4) == 2 && seq_take(d, 9) && seq_take(b, 9) &&
	      seq_take(a, 9);
	CHECK(ok, "seq multicast: three consumers each get every sequence; the producer waits for the slowest");
	lfq_seq_leave(a);
	lfq_seq_leave(b);
	lfq_seq_leave(d);

	/* a pipeline: b follows a */
	ok = !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, a) &&
	     !lfq_seq_join(ring, a->id, LFQ_SEQ_WAIT_BLOCK, b) &&
	     seq_bar(ring, b->id)->follows == a->id && seq_put(ring, 2) == 2;
	ok &= lfq_seq_try_wait(b, 10, &avail) == -EAGAIN &&
	      !lfq_seq_try_wait(a, 10, &avail) && avail == 11 &&
	      !lfq_seq_done(a, 10) && !lfq_seq_try_wait(b, 10, &avail) &&
	      avail == 10;
	CHECK(ok, "seq chain: b following a sees only what a finished: nothing, then 10 of 10..11");
	ok = !lfq_seq_done(a, 11) && seq_take(b, 11) && seq_put(ring, 4) == 4 &&
	     seq_take(a, 15) && lfq_seq_try_claim_one(ring, &s) == -ENOSPC &&
	     seq_take(b, 15) && seq_put(ring, 1) == 1 && seq_take(a, 16);
	CHECK(ok, "seq chain: the producer waits for the last stage, b, not for a");
	lfq_seq_leave(a);
	ok = lfq_seq_try_wait(b, 16, &avail) == -EPIPE &&
	     lfq_seq_wait(b, 16, &avail, HZ) == -EPIPE &&
	     lfq_seq_join(ring, a->id, LFQ_SEQ_WAIT_BLOCK, d) == -EINVAL;
	CHECK(ok, "seq chain: once a left, b's waits are -EPIPE at once, and joining behind a is -EINVAL");
	lfq_seq_leave(b);
	CHECK(seq_put(ring, 4) == 4 && seq_put(ring, 4) == 4 &&
	      lfq_ring_errors(ring) == 0,
	      "seq chain: with both gone nothing holds the producer back; no ring errors");

	for (n = 0; n <= LFQ_CLAIMS; n++)
		if (lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK,
				 &seq_many[n]))
			break;
	ok = n == LFQ_CLAIMS &&
	     lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK,
			  &seq_many[n]) == -EBUSY;
	if (ok) {
		lfq_seq_leave(&seq_many[10]);
		ok = !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK,
				   &seq_many[10]) && seq_many[10].id == 10;
	}
	CHECK(ok, "seq: %u consumers join, one more is -EBUSY; a barrier left is the next one taken",
	      n);
	while (n--)
		lfq_seq_leave(&seq_many[n]);
	lfq_ring_put(ring);
}

/* The three ways to wait, their timeouts, and sleepers woken or stopped. */
static void __init test_seq_blocking(void)
{
	static const char *const how[] __initconst = { "spin", "yield", "block" };
	struct lfq_seq_consumer c, f;
	struct lfq_wait *ne, *nf;
	struct lfq_seq_hdr *hdr;
	struct lfq_ring *ring;
	unsigned long start;
	struct blocked b;
	u64 avail, head;
	bool done, ok;
	u32 w;
	int ret;

	ring = make_seq(LFQ_SEQ_SINGLE, 4);
	if (IS_ERR(ring)) {
		CHECK(false, "seq blocking: create ring");
		return;
	}
	hdr = seq_hdr(ring);
	ne = &hdr->not_empty;
	nf = &hdr->not_full;
	for (w = LFQ_SEQ_WAIT_SPIN; w <= LFQ_SEQ_WAIT_BLOCK; w++) {
		if (lfq_seq_join(ring, LFQ_SEQ_PRODUCER, w, &c)) {
			CHECK(false, "seq wait %s: join", how[w]);
			continue;
		}
		start = jiffies;
		ret = lfq_seq_wait(&c, c.seq + 1, &avail, 2);
		ok = ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2) &&
		     lfq_seq_wait(&c, c.seq + 1, &avail, 0) == -ETIMEDOUT &&
		     seq_put(ring, 1) == 1 &&
		     !lfq_seq_wait(&c, c.seq + 1, &avail, HZ) &&
		     avail == c.seq + 1 && !lfq_seq_done(&c, avail);
		CHECK(ok, "seq wait %s: waits its timeout, then -ETIMEDOUT; returns once published (%d)",
		      how[w], ret);
		b.c = &c;
		if (!blocked_start_on(&b, ring, SEQ_WAIT, 0,
				      w == LFQ_SEQ_WAIT_BLOCK ? ne : NULL)) {
			kthread_stop(b.task);
			CHECK(completion_done(&b.done) && b.ret == -EINTR &&
			      (w != LFQ_SEQ_WAIT_BLOCK || b.slept),
			      "seq wait %s: kthread_stop() ends it with -EINTR (%d)",
			      how[w], b.ret);
		}
		lfq_seq_leave(&c);
	}

	if (lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c)) {
		CHECK(false, "seq blocking: join");
		goto out;
	}
	b.c = &c;
	if (!blocked_start_on(&b, ring, SEQ_WAIT, 0, ne)) {
		ok = seq_put(ring, 1) == 1;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == c.seq + 1 &&
		      seq_take(&c, b.value),
		      "seq: a consumer sleeping for its next sequence is woken by the publish (%d)",
		      b.ret);
	}
	ok = seq_put(ring, 4) == 4;
	head = hdr->head;
	if (ok && !blocked_start_on(&b, ring, SEQ_CLAIM, 0, nf)) {
		ok = seq_take(&c, c.seq + 1);
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == head,
		      "seq: a producer sleeping on a full ring is woken by the consumer's done (%d)",
		      b.ret);
		*(u64 *)lfq_seq_elem(ring, b.value) = seq_value(b.value);
		CHECK(!lfq_seq_publish(ring, b.value) && seq_take(&c, b.value),
		      "seq: what it claimed reaches the consumer, after the others");
	}
	ok = seq_put(ring, 4) == 4;
	head = hdr->head;
	if (ok && !blocked_start_on(&b, ring, SEQ_CLAIM, 0, nf)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == -EINTR && hdr->head == head,
		      "seq: a signal ends a sleeping claim with -EINTR, claiming nothing (%d)",
		      b.ret);
	}
	if (!seq_take(&c, hdr->cursor) ||
	    lfq_seq_join(ring, c.id, LFQ_SEQ_WAIT_BLOCK, &f)) {
		CHECK(false, "seq blocking: join a follower");
		lfq_seq_leave(&c);
		goto out;
	}
	b.c = &f;
	if (!blocked_start_on(&b, ring, SEQ_WAIT, 0, ne)) {
		ok = seq_put(ring, 1) == 1 && !completion_done(&b.done) &&
		     seq_take(&c, c.seq + 1);
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == c.seq &&
		      seq_take(&f, c.seq),
		      "seq: a follower sleeping for its next sequence is woken by its leader's done, not the publish (%d)",
		      b.ret);
	}
	ret = blocked_start_on(&b, ring, SEQ_WAIT, 0, ne);
	lfq_seq_leave(&c);
	if (!ret) {
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == -EPIPE,
		      "seq: a sleeping follower is woken by its leader's leave: -EPIPE (%d)",
		      b.ret);
	}
	lfq_seq_leave(&f);
	CHECK(!ne->waiters && !nf->waiters && lfq_ring_errors(ring) == 0,
	      "seq blocking: no waiter left counted, no ring errors");
out:
	lfq_ring_put(ring);
}

/* Barriers scribbled: counted, clamped or skipped, and the ring goes on. */
static void __init test_seq_corrupt(void)
{
	struct lfq_seq_consumer c, d;
	struct lfq_seq_barrier *bar;
	struct lfq_seq_hdr *hdr;
	struct lfq_ring *ring;
	u64 errors, avail, s;
	bool ok;

	ring = make_seq(LFQ_SEQ_SINGLE, 4);
	if (IS_ERR(ring) ||
	    lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c)) {
		CHECK(false, "seq corrupt: create ring, join");
		goto out;
	}
	hdr = seq_hdr(ring);
	bar = seq_bar(ring, c.id);
	ok = seq_put(ring, 4) == 4 && seq_take(&c, 1);
	WRITE_ONCE(bar->seq, hdr->cursor + 10);
	errors = lfq_ring_errors(ring);
	ok &= seq_put(ring, 1) == 1;
	CHECK(ok && lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: a barrier ahead of the cursor is counted and clamped to it; the producer goes on");
	CHECK(seq_take(&c, 4) && bar->seq == 4,
	      "seq corrupt: the consumer's next done rights its barrier");

	ok = seq_put(ring, 4) == 4;
	WRITE_ONCE(bar->seq, hdr->cursor - 7);
	errors = lfq_ring_errors(ring);
	ok &= lfq_seq_try_claim_one(ring, &s) == -ENOSPC;
	CHECK(ok && lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: a barrier more than a ring behind is counted, and clamped to a ring behind: -ENOSPC, no overwrite");
	CHECK(seq_take(&c, 8) && seq_put(ring, 1) == 1 && seq_take(&c, 9) &&
	      lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: once the consumer moves the ring works, and counts nothing more");

	if (lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &d)) {
		CHECK(false, "seq corrupt: join a second consumer");
		goto leave;
	}
	ok = seq_put(ring, 4) == 4 && seq_take(&c, 13) &&
	     lfq_seq_try_claim_one(ring, &s) == -ENOSPC;
	WRITE_ONCE(seq_bar(ring, d.id)->state, 7);
	errors = lfq_ring_errors(ring);
	ok &= seq_put(ring, 1) == 1;
	CHECK(ok && lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: a barrier in no known state is counted and skipped: it holds the producer back no more");
	lfq_seq_leave(&d);

	/* the cursor far ahead: the consumer's batch stops a ring past it */
	s = hdr->cursor;
	WRITE_ONCE(hdr->cursor, s + 100);
	errors = lfq_ring_errors(ring);
	ok = !lfq_seq_try_wait(&c, c.seq + 1, &avail) && avail == c.seq + 4;
	CHECK(ok && lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: a cursor more than a ring ahead of a consumer is counted and clamped to a ring");
	WRITE_ONCE(hdr->cursor, s);
	/* its cached batch is poisoned: a fresh consumer goes on */
	lfq_seq_leave(&c);
	ok = !lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c) &&
	     c.seq == s && seq_put(ring, 2) == 2 && seq_take(&c, s + 2);
	CHECK(ok && lfq_ring_errors(ring) == errors + 1,
	      "seq corrupt: once the cursor is right the ring works, counting nothing more");
leave:
	lfq_seq_leave(&c);
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

/* Whether barriers 0..n-1 are free: no consumer holds the producers back. */
static bool __init seq_bars_free(struct lfq_ring *ring, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (READ_ONCE(seq_bar(ring, i)->state) != LFQ_SEQ_FREE)
			return false;
	return true;
}

/*
 * Whether START refuses each job on a LFQ_SEQ_SINGLE ring that differs
 * from good (a consume job) in one way, with the error it should.
 */
static bool __init seq_bad_jobs(struct lfq_ring *ring,
				const struct lfq_test_job *good)
{
	static const struct {
		u32 role, threads, flags, follows, wait;
		int err;
	} bad[] __initconst = {
		{ LFQ_TEST_CONSUME, 1, 0, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK + 1, -EINVAL },
		{ LFQ_TEST_CONSUME, 1, 0, 7, 0, -EINVAL },		/* a free barrier */
		{ LFQ_TEST_CONSUME, 1, 0, LFQ_CLAIMS, 0, -EINVAL },
		{ LFQ_TEST_CONSUME, 1, LFQ_TEST_F_RESERVE, LFQ_SEQ_PRODUCER, 0, -EINVAL },
		{ LFQ_TEST_CONSUME, 2, LFQ_TEST_F_STAMP, LFQ_SEQ_PRODUCER, 0, -EINVAL },
		{ LFQ_TEST_PRODUCE, 1, LFQ_TEST_F_STAMP, 0, 0, -EINVAL },
		{ LFQ_TEST_PRODUCE, 1, LFQ_TEST_F_STAMPED, 0, 0, -EINVAL },
		{ LFQ_TEST_PRODUCE, 1, 0, LFQ_SEQ_PRODUCER, 0, -EINVAL },
		{ LFQ_TEST_PRODUCE, 1, 0, 0, LFQ_SEQ_WAIT_BLOCK, -EINVAL },
		{ LFQ_TEST_PRODUCE, 2, 0, 0, 0, -EINVAL },		/* SINGLE */
	};
	struct lfq_test_job p;
	struct job *job;
	unsigned int i, n;
	bool ok = true;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		p = *good;
		p.role = bad[i].role;
		p.threads = bad[i].threads;
		p.flags = bad[i].flags;
		p.follows = bad[i].follows;
		p.wait = bad[i].wait;
		job = job_start(lfq_ring_get(ring), &p);
		if (PTR_ERR_OR_ZERO(job) != bad[i].err) {
			pr_info("# seq bad job %u: %d, not %d\n", i,
				PTR_ERR_OR_ZERO(job), bad[i].err);
			ok = false;
		}
		if (!IS_ERR(job))
			job_free(job);
	}
	/* two barriers left for three threads */
	for (n = 0; n < LFQ_CLAIMS - 2; n++)
		if (lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK,
				 &seq_many[n]))
			break;
	p = *good;
	p.threads = 3;
	job = job_start(lfq_ring_get(ring), &p);
	ok &= n == LFQ_CLAIMS - 2 && PTR_ERR_OR_ZERO(job) == -EBUSY;
	if (!IS_ERR(job))
		job_free(job);
	while (n--)
		lfq_seq_leave(&seq_many[n]);
	return ok && seq_bars_free(ring, LFQ_CLAIMS);
}

/*
 * Consume jobs: START takes the barriers in thread order; a thread that
 * fails leaves at once, one that finished keeps its barrier until the job
 * is freed, and freeing a job whose threads wait ends them at once.
 */
static void __init test_seq_jobs(void)
{
	struct lfq_test_job p = {
		.role = LFQ_TEST_CONSUME, .threads = 3, .burst = 2, .items = 4,
		.producers = 1, .timeout_ms = 10000, .deadline_ms = 10000,
		.follows = LFQ_SEQ_PRODUCER, .wait = LFQ_SEQ_WAIT_SPIN,
	};
	struct job *spin = ERR_PTR(-EINVAL), *block = ERR_PTR(-EINVAL);
	struct lfq_test_result r;
	struct lfq_ring *ring;
	unsigned long start;
	struct job *job;
	bool ok;

	ring = make_typed(LFQ_RING_SEQ, LFQ_SEQ_SINGLE, 4,
			  sizeof(struct lfq_test_item));
	if (IS_ERR(ring)) {
		CHECK(false, "seq jobs: create ring");
		return;
	}
	CHECK(seq_bad_jobs(ring, &p),
	      "seq jobs: START refuses every job the sequencer cannot run: -EINVAL, -EBUSY with too few barriers");
	spin = job_start(lfq_ring_get(ring), &p);
	p.threads = 1;
	p.wait = LFQ_SEQ_WAIT_BLOCK;
	block = job_start(lfq_ring_get(ring), &p);
	if (IS_ERR(spin) || IS_ERR(block)) {
		CHECK(false, "seq jobs: start two consume jobs");
		goto out;
	}
	ok = spin->threads[0].c.id == 0 && spin->threads[1].c.id == 1 &&
	     spin->threads[2].c.id == 2 && block->threads[0].c.id == 3;
	CHECK(ok, "seq jobs: START joins each thread, the lowest free barriers in thread order");
	msleep(20);
	start = jiffies;
	job_free(spin);
	job_free(block);
	spin = block = ERR_PTR(-EINVAL);
	CHECK(time_before(jiffies, start + HZ / 2) && seq_bars_free(ring, 4),
	      "seq jobs: freeing jobs whose spin and block threads wait ends them at once, their barriers free (%u ms)",
	      jiffies_to_msecs(jiffies - start));

	p.timeout_ms = 50;
	p.threads = 2;
	job = job_start(lfq_ring_get(ring), &p);
	if (IS_ERR(job)) {
		CHECK(false, "seq jobs: start a job that times out");
		goto out;
	}
	wait_event_idle(job->wq, job_ended(job));
	job_result(job, &r);
	CHECK(r.error == -ETIMEDOUT && !r.moved && r.missing == 2 * p.items &&
	      seq_bars_free(ring, 2),
	      "seq jobs: threads that time out leave their barriers before the job is freed (error %d, missing %llu)",
	      r.error, r.missing);
	job_free(job);

	p.timeout_ms = 10000;
	p.threads = 1;
	job = job_start(lfq_ring_get(ring), &p);
	if (IS_ERR(job)) {
		CHECK(false, "seq jobs: start a job that finishes");
		goto out;
	}
	p.role = LFQ_TEST_PRODUCE;
	p.producers = 0;
	p.follows = 0;
	p.wait = 0;
	spin = job_start(lfq_ring_get(ring), &p);
	wait_event_idle(job->wq, job_ended(job));
	job_result(job, &r);
	ok = !IS_ERR(spin) && !r.error && r.moved == p.items && !r.missing &&
	     seq_bar(ring, 0)->state == LFQ_SEQ_ACTIVE &&
	     seq_bar(ring, 0)->seq == seq_hdr(ring)->cursor;
	job_free(job);
	CHECK(ok && seq_bars_free(ring, 1),
	      "seq jobs: a thread that finished keeps its barrier at its last sequence until the job is freed");
out:
	if (!IS_ERR(spin))
		job_free(spin);
	if (!IS_ERR(block))
		job_free(block);
	lfq_ring_put(ring);
}

/*
 * Sequencer: producers x consumers kthreads (jobs) on one kernel ring.
 * Multicast: one consume job, a consumer per thread. A chain: consumers
 * stages of one thread each, each following the one before; stage i
 * expects the items stamped iff i is odd and flips them for the next, so
 * that a stage that read a slot before the stage it follows finished
 * it, or after a producer wrote it again, finds it malformed. Every
 * consumer gets every item exactly once and in order; then, their jobs
 * freed, every barrier is free and the head is where the items put it.
 */
static void __init test_seq_stress(u32 policy, u32 producers, u32 consumers,
				   bool chain, u32 capacity, u32 burst,
				   u32 wait, u64 items)
{
	static const char *const how[] __initconst = { "spin", "yield", "block" };
	struct lfq_test_job p = {
		.role = LFQ_TEST_CONSUME, .threads = chain ? 1 : consumers,
		.burst = burst, .items = items * scale, .producers = producers,
		.timeout_ms = 5000, .deadline_ms = 120000,
		.follows = LFQ_SEQ_PRODUCER, .wait = wait,
	};
	u32 stages = chain ? consumers : 1, i;
	struct job *jobs[LFQ_TEST_MAX_THREADS + 1];
	struct lfq_test_result r = { 0 }, c = { 0 };
	u64 total = p.items * producers, head = 0, errors = 0, s;
	struct lfq_ring *ring;
	int err = 0;
	bool quiet = false;

	for (i = 0; i <= stages; i++)
		jobs[i] = ERR_PTR(-EINVAL);
	ring = make_typed(LFQ_RING_SEQ, policy, capacity,
			  sizeof(struct lfq_test_item));
	if (IS_ERR(ring))
		goto out;
	for (i = 0; i < stages; i++) {
		if (chain)
			p.flags = (i % 2 ? LFQ_TEST_F_STAMPED : 0) |
				  (i + 1 < stages ? LFQ_TEST_F_STAMP : 0);
		jobs[i] = job_start(lfq_ring_get(ring), &p);
		if (IS_ERR(jobs[i]))
			goto out;
		p.follows = jobs[i]->threads[0].c.id;
	}
	p.role = LFQ_TEST_PRODUCE;
	p.threads = producers;
	p.producers = 0;
	p.flags = 0;
	p.follows = 0;
	p.wait = 0;
	jobs[stages] = job_start(lfq_ring_get(ring), &p);
	if (IS_ERR(jobs[stages]))
		goto out;
	/* the producers last: r is theirs */
	for (i = 0; i <= stages; i++) {
		wait_event_idle(jobs[i]->wq, job_ended(jobs[i]));
		job_result(jobs[i], &r);
		err = err ?: r.error;
		if (i < stages) {
			c.moved += r.moved;
			c.malformed += r.malformed;
			c.duplicates += r.duplicates;
			c.misordered += r.misordered;
			c.missing += r.missing;
		}
	}
	/* their threads finished: freeing the jobs frees their barriers */
	for (i = 0; i < stages; i++) {
		job_free(jobs[i]);
		jobs[i] = ERR_PTR(-EINVAL);
	}
	head = seq_hdr(ring)->head;
	errors = lfq_ring_errors(ring);
	quiet = seq_bars_free(ring, LFQ_CLAIMS) && head == total &&
		(policy == LFQ_SEQ_MULTI || seq_hdr(ring)->cursor == total - 1) &&
		lfq_seq_try_claim_up_to(ring, capacity, &s) == capacity;
out:
	CHECK(!err && r.moved == total && c.moved == total * consumers &&
	      !c.malformed && !c.duplicates && !c.misordered && !c.missing &&
	      !errors && quiet,
	      "seq %s %s stress %ux%u capacity %u burst %u, %s waits: %llu items in %llu ms (error %d, produced %llu, malformed %llu, dup %llu, order %llu, missing %llu; ring errors %llu, head %llu, quiet %d)",
	      policy == LFQ_SEQ_MULTI ? "multi" : "single",
	      chain ? "chain" : "multicast", producers, consumers, capacity,
	      burst, how[wait], c.moved, r.nsecs / NSEC_PER_MSEC, err, r.moved,
	      c.malformed, c.duplicates, c.misordered, c.missing, errors, head,
	      quiet);
	for (i = 0; i <= stages; i++)
		if (!IS_ERR(jobs[i]))
			job_free(jobs[i]);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}
/*
 * Producers x consumers kthreads on one kernel ring, every invariant.
 * On an MPSC ring: nothing lost but what an OVERWRITE ring counted as
 * overwritten, every refusal counted in dropped, and with
 * LFQ_TEST_F_IRQ every item of the interrupt sources in its context.
 * Producers pause 100 us every pause_every items if it is not 0.
 */
static void __init stress_ring(const struct lfq_create *c, const char *name,
			       u32 flags, u32 producers, u32 consumers,
			       u32 burst, u64 items, u32 pause_every)
{
	struct lfq_test_job p = {
		.role = LFQ_TEST_PRODUCE, .threads = producers, .burst = burst,
		.items = items * scale, .producers = 0, .flags = flags,
		.timeout_ms = 5000, .deadline_ms = 120000,
		.pause_every = pause_every, .pause_us = pause_every ? 100 : 0,
	};
	u64 irq_items = flags & LFQ_TEST_F_IRQ ? p.items : 0;
	u32 sources = producers + (irq_items ? IRQ_NR : 0);
	struct job *prod = ERR_PTR(-EINVAL), *cons = ERR_PTR(-EINVAL);
	struct lfq_mpsc_stats st = { 0 };
	u64 total = p.items * sources;
	struct lfq_test_result rp, rc;
	struct lfq_ring *ring;
	u64 lost, refused;
	bool empty, ctx_ok;
	void *v;

	v = kmalloc(c->elem_size, GFP_KERNEL);
	ring = lfq_ring_create(c);
	if (IS_ERR(ring) || !v) {
		CHECK(false, "%s stress %ux%u: create ring", name, producers,
		      consumers);
		goto out;
	}
	lfq_ring_get(ring);		/* one reference per job */
	prod = job_start(ring, &p);
	p.role = LFQ_TEST_CONSUME;
	p.threads = consumers;
	p.producers = sources;
	p.flags = flags & ~LFQ_TEST_F_IRQ;
	p.pause_every = 0;
	p.pause_us = 0;
	lfq_ring_get(ring);
	cons = job_start(ring, &p);
	if (IS_ERR(prod) || IS_ERR(cons)) {
		CHECK(false, "%s stress %ux%u: start jobs", name, producers,
		      consumers);
		goto out;
	}
	wait_event_idle(prod->wq, job_ended(prod));
	wait_event_idle(cons->wq, job_ended(cons));
	job_result(prod, &rp);
	job_result(cons, &rc);
	refused = atomic64_read(&prod->refused);
	/* it must be empty now */
	if (c->type == LFQ_RING_TURN) {
		empty = lfq_turn_empty(ring) && lfq_turn_try_pop(ring, v) == -EAGAIN;
	} else if (c->type == LFQ_RING_MPSC) {
		empty = lfq_mpsc_size(ring) == 0 &&
			lfq_mpsc_try_pop(ring, v, c->elem_size) == -EAGAIN;
		lfq_mpsc_stats(ring, &st);
	} else {
		empty = lfq_vyukov_empty(ring) && lfq_vyukov_try_pop(ring, v) == -EAGAIN;
	}
	lost = c->policy == LFQ_MPSC_OVERWRITE ? st.overwritten : 0;
	ctx_ok = rp.ctx_moved[LFQ_TEST_CTX_TASK] == p.items * producers &&
		 rp.ctx_moved[LFQ_TEST_CTX_SOFTIRQ] == irq_items &&
		 rp.ctx_moved[LFQ_TEST_CTX_HARDIRQ] == irq_items &&
		 rp.ctx_moved[LFQ_TEST_CTX_NMI] == irq_items;
	CHECK(!rp.error && !rc.error && rp.moved == total &&
	      rc.moved + lost == total && rc.missing == lost &&
	      st.overwritten == lost && st.dropped == refused && ctx_ok &&
	      !rc.malformed && !rc.duplicates && !rc.misordered &&
	      !rc.ring_errors && empty,
	      "%s stress %ux%u capacity %u burst %u elem %u: %llu items in %llu ms (errors %d/%d, pushed %llu: task %llu softirq %llu hardirq %llu nmi %llu; malformed %llu, dup %llu, order %llu, missing %llu, overwritten %llu, dropped %llu of %llu refused, ring errors %llu, empty %d)",
	      name, producers, consumers, c->capacity, burst, c->elem_size,
	      rc.moved, rc.nsecs / NSEC_PER_MSEC, rp.error, rc.error, rp.moved,
	      rp.ctx_moved[LFQ_TEST_CTX_TASK], rp.ctx_moved[LFQ_TEST_CTX_SOFTIRQ],
	      rp.ctx_moved[LFQ_TEST_CTX_HARDIRQ], rp.ctx_moved[LFQ_TEST_CTX_NMI],
	      rc.malformed, rc.duplicates, rc.misordered, rc.missing,
	      st.overwritten, st.dropped, refused, rc.ring_errors, empty);
out:
	if (!IS_ERR(prod))
		job_free(prod);
	if (!IS_ERR(cons))
		job_free(cons);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	kfree(v);
}

static void __init test_stress(u32 type, u32 flags, u32 producers,
			       u32 consumers, u32 capacity, u32 burst,
			       u32 elem_size, u64 items)
{
	struct lfq_create c = {
		.type = type, .capacity = capacity, .elem_size = elem_size,
	};
	const char *name = type == LFQ_RING_TURN ?
			   (flags & LFQ_TEST_F_RESERVE ? "turn reserve" : "turn") :
			   "vyukov";

	stress_ring(&c, name, flags, producers, consumers, burst, items, 0);
}

/*
 * MPSC: the ring's one consumer, test items; flags name the shape.
 * Producers on an OVERWRITE ring pause now and then, so that the
 * consumer takes records too, not only the overwriters.
 */
static void __init test_mpsc_stress(u32 policy, u32 flags, u32 producers,
				    u32 capacity, u32 burst, u64 items)
{
	static const char *const policies[] __initconst = {
		"discard", "block", "overwrite",
	};
	struct lfq_create c = {
		.type = LFQ_RING_MPSC, .capacity = capacity,
		.elem_size = sizeof(struct lfq_test_item), .policy = policy,
	};
	char name[48];

	snprintf(name, sizeof(name), "mpsc %s%s%s", policies[policy],
		 flags & LFQ_TEST_F_RESERVE ? " reserve" : "",
		 flags & LFQ_TEST_F_IRQ ? " irq" : "");
	stress_ring(&c, name, flags, producers, 1, burst, items,
		    policy == LFQ_MPSC_OVERWRITE ? capacity / 2 : 0);
}

/* ---- the work-stealing deque ---------------------------------------------- */

static struct lfq_ring *__init make_wsd(u32 capacity, u32 elem_size)
{
	return make_typed(LFQ_RING_WSDEQUE, 0, capacity, elem_size);
}

/* Both handles of a deque of u64 elements. */
struct wsd {
	struct lfq_ring *ring;
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
};

/* A deque of capacity u64 elements and its handles; wsd_close() drops it. */
static int __init wsd_open(struct wsd *d, u32 capacity)
{
	d->ring = make_wsd(capacity, sizeof(u64));
	if (IS_ERR(d->ring))
		return PTR_ERR(d->ring);
	return lfq_wsdeque_worker(d->ring, &d->w) ?:
	       lfq_wsdeque_stealer(d->ring, &d->s);
}

static void __init wsd_close(struct wsd *d)
{
	if (!IS_ERR_OR_NULL(d->ring))
		lfq_ring_put(d->ring);
}

/* Push first..first + n - 1: whether every push took. */
static bool __init wsd_push_n(struct wsd *d, u64 first, u32 n)
{
	u64 v;

	for (v = first; v != first + n; v++)
		if (lfq_wsdeque_push(&d->w, &v))
			return false;
	return true;
}

/* Whether n pops give first + n - 1 down to first: newest first. */
static bool __init wsd_pops(struct wsd *d, u64 first, u32 n)
{
	u64 v;

	while (n--)
		if (lfq_wsdeque_pop(&d->w, &v) || v != first + n)
			return false;
	return true;
}

/* Whether n steals give first up to first + n - 1: oldest first. */
static bool __init wsd_steals(struct wsd *d, u64 first, u32 n)
{
	u64 v, i;

	for (i = 0; i < n; i++)
		if (lfq_wsdeque_steal(&d->s, &v) || v != first + i)
			return false;
	return true;
}

/* Whether the deque is empty to every look: len, pop, steal, steal_batch. */
static bool __init wsd_empty(struct wsd *d)
{
	u64 v[2];

	return !lfq_wsdeque_len(d->ring) &&
	       lfq_wsdeque_pop(&d->w, v) == -EAGAIN &&
	       lfq_wsdeque_steal(&d->s, v) == -EAGAIN &&
	       lfq_wsdeque_steal_batch(&d->s, v, 2) == -EAGAIN;
}

static void __init test_wsd_api(void)
{
	struct lfq_create c = {
		.type = LFQ_RING_WSDEQUE, .capacity = 4, .elem_size = 12,
		.policy = 1,
	};
	struct lfq_wsdeque_worker w, wvy = { 0 }, wnull = { 0 };
	struct lfq_wsdeque_stealer s, svy = { 0 }, snull = { 0 };
	const struct lfq_info *info;
	struct lfq_ring *ring, *vy;
	u64 v[4] = { 0 };
	bool ok;

	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL,
	      "wsdeque: create with policy 1 is -EINVAL (%d)",
	      PTR_ERR_OR_ZERO(ring));
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	ring = make_wsd(4, 12);
	vy = make_ring(4, sizeof(u64));
	if (IS_ERR(ring) || IS_ERR(vy)) {
		CHECK(false, "wsdeque api: create rings");
		goto out;
	}
	info = lfq_ring_info(ring);
	CHECK(info->type == LFQ_RING_WSDEQUE && info->capacity == 4 &&
	      info->elem_size == 12 &&
	      info->slot_stride == LFQ_STRIDE(LFQ_WSDEQUE_SLOT_HDR, 12) &&
	      info->slots_off == LFQ_WSDEQUE_SLOTS_OFF && !info->nr_claims,
	      "wsdeque: lfq_ring_info() reports the geometry, slots without a header after the deque's");
	ok = lfq_wsdeque_worker(vy, &w) == -EINVAL &&
	     lfq_wsdeque_stealer(vy, &s) == -EINVAL &&
	     lfq_wsdeque_worker(NULL, &w) == -EINVAL &&
	     lfq_wsdeque_stealer(NULL, &s) == -EINVAL &&
	     lfq_wsdeque_worker(ring, NULL) == -EINVAL &&
	     lfq_wsdeque_stealer(ring, NULL) == -EINVAL;
	CHECK(ok, "wsdeque: worker and stealer of another ring type, of NULL or into NULL are -EINVAL");
	ok = !lfq_wsdeque_worker(ring, &w) && w.ring == ring &&
	     !lfq_wsdeque_stealer(ring, &s) && s.ring == ring;
	CHECK(ok, "wsdeque: worker and stealer of a deque");
	/* handles the caller filled in itself, on a vyukov ring or none */
	wvy.ring = vy;
	svy.ring = vy;
	ok = lfq_wsdeque_push(&wvy, v) == -EINVAL &&
	     lfq_wsdeque_pop(&wvy, v) == -EINVAL &&
	     lfq_wsdeque_steal(&svy, v) == -EINVAL &&
	     lfq_wsdeque_steal_batch(&svy, v, 1) == -EINVAL &&
	     lfq_wsdeque_push(&wnull, v) == -EINVAL &&
	     lfq_wsdeque_steal(&snull, v) == -EINVAL &&
	     lfq_wsdeque_push(NULL, v) == -EINVAL &&
	     lfq_wsdeque_pop(NULL, v) == -EINVAL &&
	     lfq_wsdeque_steal(NULL, v) == -EINVAL &&
	     lfq_wsdeque_steal_batch(NULL, v, 1) == -EINVAL &&
	     lfq_wsdeque_len(NULL) == 0;
	CHECK(ok && lfq_vyukov_empty(vy),
	      "wsdeque: every call through a handle of another ring type, of no ring or NULL is -EINVAL");
	ok = !lfq_wsdeque_push(&w, v) && lfq_wsdeque_push(&w, NULL) == -EINVAL &&
	     lfq_wsdeque_pop(&w, NULL) == -EINVAL &&
	     lfq_wsdeque_steal(&s, NULL) == -EINVAL &&
	     lfq_wsdeque_steal_batch(&s, NULL, 1) == -EINVAL &&
	     lfq_wsdeque_steal_batch(&s, v, 0) == -EINVAL;
	CHECK(ok && lfq_wsdeque_len(ring) == 1,
	      "wsdeque: a NULL element or a steal_batch of 0 is -EINVAL and takes nothing");
	ok = !lfq_vyukov_try_push(vy, v) && lfq_wsdeque_len(vy) == 0;
	CHECK(ok && lfq_ring_errors(ring) == 0,
	      "wsdeque: lfq_wsdeque_len() of another ring type is 0; no ring errors");
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	if (!IS_ERR(vy))
		lfq_ring_put(vy);
}

/* Push and pop, steal, steal_batch, full and empty, on capacity 8. */
static void __init test_wsd_ops(void)
{
	/* held elements, steal_batch n: got */
	static const struct {
		u32 held, n, got;
	} batch[] __initconst = {
		{ 1, 8, 1 }, { 4, 8, 2 }, { 5, 8, 3 }, { 8, 8, 4 }, { 7, 2, 2 },
		{ 8, 1, 1 },
	};
	u64 v, buf[9], first = 100;
	unsigned int i, j;
	struct wsd d;
	int ret;
	bool ok;

	if (wsd_open(&d, 8)) {
		CHECK(false, "wsdeque ops: create ring");
		goto out;
	}
	CHECK(wsd_empty(&d), "wsdeque: a new deque is empty: len 0, pop, steal and steal_batch -EAGAIN");
	ok = true;
	for (v = 0; v < 8; v++)
		ok &= !lfq_wsdeque_push(&d.w, &v) && lfq_wsdeque_len(d.ring) == v + 1;
	CHECK(ok && lfq_wsdeque_push(&d.w, &v) == -ENOSPC &&
	      lfq_wsdeque_len(d.ring) == 8,
	      "wsdeque: push fills it, len counts; a push on a full deque is -ENOSPC");
	CHECK(wsd_pops(&d, 6, 2) && lfq_wsdeque_len(d.ring) == 6,
	      "wsdeque: pop takes the newest: LIFO");
	CHECK(wsd_steals(&d, 0, 2) && lfq_wsdeque_len(d.ring) == 4,
	      "wsdeque: steal takes the oldest: FIFO");
	v = 8;
	ok = !lfq_wsdeque_push(&d.w, &v) && wsd_steals(&d, 2, 4) &&
	     wsd_pops(&d, 8, 1);
	CHECK(ok && wsd_empty(&d),
	      "wsdeque: a push after steals lands at the bottom; taken from both ends it is empty");

	for (i = 0; i < ARRAY_SIZE(batch); i++) {
		memset(buf, 0xff, sizeof(buf));
		ok = wsd_push_n(&d, first, batch[i].held);
		ret = lfq_wsdeque_steal_batch(&d.s, buf, batch[i].n);
		ok &= ret == batch[i].got && buf[ret] == ~0ULL &&
		      lfq_wsdeque_len(d.ring) == batch[i].held - ret;
		for (j = 0; ok && j < ret; j++)
			ok = buf[j] == first + j;
		CHECK(ok && wsd_pops(&d, first + ret, batch[i].held - ret) &&
		      wsd_empty(&d),
		      "wsdeque: steal_batch of %u from %u takes the %u oldest, in order (%d)",
		      batch[i].n, batch[i].held, batch[i].got, ret);
		first += batch[i].held;
	}
	CHECK(lfq_ring_errors(d.ring) == 0, "wsdeque ops: no ring errors");
out:
	wsd_close(&d);
}

/*
 * Many laps on capacities 2 and 4: each round fills the deque, pops one
 * and steals the rest, so top and bottom both move capacity - 1 a round
 * and every slot in turn is the first.
 */
static void __init test_wsd_wrap(void)
{
	u32 cap, round;
	struct wsd d;
	u64 v;
	bool ok;

	for (cap = 2; cap <= 4; cap *= 2) {
		ok = !wsd_open(&d, cap);
		for (v = 0, round = 0; ok && round < 8 * cap; round++, v += cap)
			ok = wsd_push_n(&d, v, cap) &&
			     lfq_wsdeque_push(&d.w, &v) == -ENOSPC &&
			     lfq_wsdeque_len(d.ring) == cap &&
			     wsd_pops(&d, v + cap - 1, 1) &&
			     wsd_steals(&d, v, cap - 1) && wsd_empty(&d);
		CHECK(ok && lfq_ring_errors(d.ring) == 0,
		      "wsdeque: capacity %u, %u laps of fill, pop and steal (%u rounds)",
		      cap, 8 * (cap - 1), round);
		wsd_close(&d);
	}
}

/*
 * 13-byte elements, which no word copy fits: every byte of every one,
 * through pop, steal and steal_batch over laps, and not a byte more.
 */
static void __init test_wsd_odd_elem(void)
{
	enum { SIZE = 13, CAP = 4 };
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
	u8 in[SIZE], out[CAP * SIZE + 1];
	struct lfq_ring *ring;
	u64 n, base;
	bool ok = true;

	ring = make_wsd(CAP, SIZE);
	if (IS_ERR(ring) || lfq_wsdeque_worker(ring, &w) ||
	    lfq_wsdeque_stealer(ring, &s)) {
		CHECK(false, "wsdeque 13-byte elements: create ring");
		goto out;
	}
	for (base = 0; ok && base < 6 * CAP; base += CAP) {
		for (n = base; n < base + CAP; n++) {
			mpsc_fill(in, n, SIZE);
			ok &= !lfq_wsdeque_push(&w, in);
		}
		/* a byte past what each call should write stays 0xa5 */
		memset(out, 0xa5, sizeof(out));
		ok &= !lfq_wsdeque_pop(&w, out) &&
		      mpsc_holds(out, base + 3, SIZE) && out[SIZE] == 0xa5;
		ok &= lfq_wsdeque_steal_batch(&s, out, CAP) == 2 &&
		      mpsc_holds(out, base, SIZE) &&
		      mpsc_holds(out + SIZE, base + 1, SIZE) &&
		      out[2 * SIZE] == 0xa5;
		ok &= !lfq_wsdeque_steal(&s, out) &&
		      mpsc_holds(out, base + 2, SIZE) &&
		      mpsc_holds(out + SIZE, base + 1, SIZE);
		ok &= lfq_wsdeque_len(ring) == 0;
	}
	CHECK(ok && lfq_ring_errors(ring) == 0,
	      "wsdeque: 13-byte elements keep every byte through pop, steal and steal_batch, over 6 laps");
out:
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

/*
 * A deque whose shared words we can scribble. Its kernel API gives no
 * pointer into the ring (it has no lfq_seq_elem()), so we reach them as
 * a scribbling process would: the load-time tests run in insmod, which
 * creates the deque on /dev/lfq, attaches it with lfq_ring_get_fd() and
 * maps its ring region; we pin the first page to write it from here.
 * The ABI (uapi/linux/lfq.h) puts struct lfq_wsdeque_hdr at offset 0 of
 * the ring region and the slots LFQ_WSDEQUE_SLOTS_OFF after it, with no
 * slot header.
 */
struct wsd_mapped {
	struct wsd d;
	struct lfq_wsdeque_hdr *hdr;
	struct page *page;
	unsigned long map;
};

/* Create the deque on /dev/lfq: the ring fd, in insmod's table. */
static int __init wsd_create_fd(u32 capacity)
{
	struct lfq_create c = {
		.type = LFQ_RING_WSDEQUE, .capacity = capacity,
		.elem_size = sizeof(u64),
	};
	unsigned long arg;
	struct file *dev;
	long fd;

	dev = filp_open("/dev/lfq", O_RDWR, 0);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	/* LFQ_IOC_CREATE copies its argument in from user memory */
	arg = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(arg)) {
		fd = arg;
	} else {
		fd = copy_to_user((void __user *)arg, &c, sizeof(c)) ? -EFAULT :
		     dev->f_op->unlocked_ioctl(dev, LFQ_IOC_CREATE, arg);
		vm_munmap(arg, PAGE_SIZE);
	}
	filp_close(dev, NULL);
	return fd;
}

static int __init wsd_map(struct wsd_mapped *m, u32 capacity)
{
	struct file *file;
	int fd, ret;

	m->d.ring = ERR_PTR(-ENODEV);
	m->map = 0;
	m->page = NULL;
	if (!current->mm)
		return -ENODEV;
	fd = wsd_create_fd(capacity);
	if (fd < 0)
		return fd;
	m->d.ring = lfq_ring_get_fd(fd);
	file = fget(fd);
	/* the mapping and our reference keep the ring: no fd is left behind */
	close_fd(fd);
	if (IS_ERR(m->d.ring) || !file) {
		if (file)
			fput(file);
		return -EBADF;
	}
	m->map = vm_mmap(file, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 lfq_ring_info(m->d.ring)->ring_off);
	fput(file);
	if (IS_ERR_VALUE(m->map)) {
		ret = m->map;
		m->map = 0;
		return ret;
	}
	if (get_user_pages_fast(m->map, 1, FOLL_WRITE, &m->page) != 1) {
		m->page = NULL;
		return -EFAULT;
	}
	m->hdr = page_address(m->page);
	return lfq_wsdeque_worker(m->d.ring, &m->d.w) ?:
	       lfq_wsdeque_stealer(m->d.ring, &m->d.s);
}

/* The element in the slot of position p; the first page holds 4 slots. */
static u64 __init wsd_slot(const struct wsd_mapped *m, s64 p)
{
	const struct lfq_info *info = lfq_ring_info(m->d.ring);

	return *(u64 *)((u8 *)m->hdr + LFQ_WSDEQUE_SLOTS_OFF +
			(p & (info->capacity - 1)) * info->slot_stride);
}

static void __init wsd_unmap(struct wsd_mapped *m)
{
	if (m->page)
		put_page(m->page);
	if (m->map)
		vm_munmap(m->map, PAGE_SIZE);
	wsd_close(&m->d);
}

/*
 * With bottom - top scribbled to a span no deque holds: the owner's push
 * and pop are -EIO, a thief's steal and steal_batch take nothing
 * (-EAGAIN), each counted once, and the words stay as scribbled. Pop
 * has a check of its own: it looks at bottom - 1.
 */
static void __init wsd_refuses(struct wsd_mapped *m, const char *what)
{
	s64 top = READ_ONCE(m->hdr->top), bottom = READ_ONCE(m->hdr->bottom);
	u64 errors = lfq_ring_errors(m->d.ring), v[2] = { 0 };
	bool ok;
	int ret;

	ok = lfq_wsdeque_push(&m->d.w, v) == -EIO &&
	     lfq_wsdeque_steal(&m->d.s, v) == -EAGAIN &&
	     lfq_wsdeque_steal_batch(&m->d.s, v, 2) == -EAGAIN;
	CHECK(ok && lfq_ring_errors(m->d.ring) == errors + 3 &&
	      READ_ONCE(m->hdr->top) == top &&
	      READ_ONCE(m->hdr->bottom) == bottom,
	      "wsdeque corrupt: %s: push -EIO, steal and steal_batch -EAGAIN, each counted (%llu)",
	      what, lfq_ring_errors(m->d.ring) - errors);
	errors = lfq_ring_errors(m->d.ring);
	ret = lfq_wsdeque_pop(&m->d.w, v);
	CHECK(ret == -EIO && lfq_ring_errors(m->d.ring) == errors + 1 &&
	      READ_ONCE(m->hdr->top) == top &&
	      READ_ONCE(m->hdr->bottom) == bottom,
	      "wsdeque corrupt: %s: pop -EIO, counted, bottom put back (%d, bottom moved %lld)",
	      what, ret, READ_ONCE(m->hdr->bottom) - bottom);
}

static void __init test_wsd_corrupt(void)
{
	struct wsd_mapped m;
	s64 top, bottom;
	u64 errors, v;
	int ret;
	bool ok;

	ret = wsd_map(&m, 4);
	if (ret) {
		CHECK(false, "wsdeque corrupt: create on /dev/lfq and map (%d)", ret);
		goto out;
	}
	/* positions 3..5 held, in slots 3, 0 and 1 */
	ok = wsd_push_n(&m.d, 0, 4) && wsd_steals(&m.d, 0, 3) &&
	     wsd_push_n(&m.d, 4, 2);
	top = READ_ONCE(m.hdr->top);
	bottom = READ_ONCE(m.hdr->bottom);
	CHECK(ok && top == 3 && bottom == 6 && wsd_slot(&m, 3) == 3 &&
	      wsd_slot(&m, 4) == 4 && wsd_slot(&m, 5) == 5 &&
	      wsd_slot(&m, 2) == 2,
	      "wsdeque: the mapped ring holds top and bottom, and element p in slot p & (capacity - 1), LFQ_WSDEQUE_SLOTS_OFF after them");

	WRITE_ONCE(m.hdr->bottom, top + 5);
	wsd_refuses(&m, "bottom - top of capacity + 1");
	WRITE_ONCE(m.hdr->bottom, bottom);
	WRITE_ONCE(m.hdr->top, bottom + 2);
	wsd_refuses(&m, "bottom - top of -2");
	WRITE_ONCE(m.hdr->top, top);
	WRITE_ONCE(m.hdr->bottom, bottom);
	errors = lfq_ring_errors(m.d.ring);
	CHECK(wsd_pops(&m.d, 5, 1) && wsd_steals(&m.d, 3, 1) &&
	      lfq_ring_errors(m.d.ring) == errors,
	      "wsdeque corrupt: with its words put back the deque works again, counting nothing more");

	/* the edges: a full deque, and an owner between its pop's stores */
	v = 9;
	ok = wsd_push_n(&m.d, 6, 3) && lfq_wsdeque_push(&m.d.w, &v) == -ENOSPC;
	top = READ_ONCE(m.hdr->top);
	bottom = READ_ONCE(m.hdr->bottom);
	WRITE_ONCE(m.hdr->bottom, top - 1);
	ok &= lfq_wsdeque_steal(&m.d.s, &v) == -EAGAIN &&
	      !lfq_wsdeque_len(m.d.ring);
	WRITE_ONCE(m.hdr->bottom, bottom);
	CHECK(ok && wsd_steals(&m.d, 4, 1) && wsd_pops(&m.d, 6, 3) &&
	      lfq_ring_errors(m.d.ring) == errors,
	      "wsdeque corrupt: neither a full deque nor bottom one below top (a pop under way) is counted");
out:
	wsd_unmap(&m);
}

/*
 * kthreads on one deque of u64 items 0..items - 1: threads[0] the
 * owner, the others thieves. Whoever takes an item marks its bit in
 * seen: a bit set twice is a duplicate, a bit never set a loss. A
 * thief's items come in increasing order: top only grows, and an item
 * at a higher position was pushed after the one the thief took before.
 *
 * The stress: the owner pushes every item, pops after every third push
 * and when the deque is full, then pops what is left; thieves steal (the
 * last with steal_batch of batch) until the owner is done and the deque
 * empty. The race (race set): one thief, the two on two CPUs; the owner
 * pushes one item, lets the thief go, pops, and waits for the thief's
 * steal to end before the next: each item is the last one, and exactly
 * one of the two must win it. On two CPUs both must win some: else the
 * two never met.
 *
 * With more than one CPU the owner has the first to itself and the
 * thieves share the others, so that it always meets a thief.
 */
struct wsd_stress {
	struct wsd d;
	u64 items;
	unsigned long *seen;
	bool race;
	bool owner_done;		/* nothing more will be pushed */
	bool failed;			/* a thread ended on an error */
	u64 round, acked;		/* race: items out, items the thief saw */
	u32 delay;			/* race: the owner's spins before its pop */
	unsigned long deadline;		/* jiffies */
	struct completion go;		/* every thread created: start */
	atomic64_t duplicates, bad;
};

struct wsd_thread {
	struct wsd_stress *st;
	struct task_struct *task;
	struct completion done;
	unsigned int index;		/* 0: the owner */
	u32 batch;			/* a thief's steal_batch n; 0: steal */
	u64 taken, misordered;
	u64 lost;			/* a thief's steals that lost a CAS */
	s64 last;			/* the last item a thief took */
	int err;
};

static void wsd_take(struct wsd_thread *t, u64 v)
{
	struct wsd_stress *st = t->st;

	t->taken++;
	if (v >= st->items) {
		atomic64_inc(&st->bad);
		return;
	}
	if (test_and_set_bit(v, st->seen))
		atomic64_inc(&st->duplicates);
	if (t->index && (s64)v <= t->last)
		t->misordered++;
	t->last = v;
}

/* One pop: -EAGAIN (empty, or a thief won the last item) is no error. */
static int wsd_owner_pop(struct wsd_thread *t)
{
	int ret;
	u64 v;

	ret = lfq_wsdeque_pop(&t->st->d.w, &v);
	if (!ret)
		wsd_take(t, v);
	return ret == -EAGAIN ? 0 : ret;
}

/* Race: spin until *word reaches n, the other thread fails, or the deadline. */
static int wsd_wait(struct wsd_stress *st, u64 *word, u64 n)
{
	while (smp_load_acquire(word) < n) {
		if (READ_ONCE(st->failed))
			return -ECANCELED;
		if (time_after(jiffies, st->deadline))
			return -ETIMEDOUT;
		cond_resched();
		cpu_relax();
	}
	return 0;
}

/*
 * Race: the item is out; let the thief go, pop after a delay that
 * follows the contest (longer after we won, shorter after the thief
 * did, so that our pop keeps meeting its steal), and wait for the
 * thief's steal to end.
 */
static int wsd_race_round(struct wsd_thread *t, u64 n)
{
	struct wsd_stress *st = t->st;
	u64 taken = t->taken;
	u32 i;
	int ret;

	/* pairs with the acquire in the thief's wsd_wait() */
	smp_store_release(&st->round, n);
	for (i = 0; i < st->delay; i++)
		cpu_relax();
	ret = wsd_owner_pop(t) ?: wsd_wait(st, &st->acked, n);
	if (t->taken != taken)
		st->delay++;
	else if (st->delay)
		st->delay--;
	return ret;
}

static int wsd_owner(struct wsd_thread *t)
{
	struct wsd_stress *st = t->st;
	u64 i = 0;
	int ret = 0;

	while (i < st->items && !ret) {
		if (time_after(jiffies, st->deadline))
			return -ETIMEDOUT;
		ret = lfq_wsdeque_push(&st->d.w, &i);
		if (ret == -ENOSPC) {
			ret = wsd_owner_pop(t);
		} else if (ret) {
			break;
		} else if (st->race) {
			ret = wsd_race_round(t, ++i);
		} else if (++i % 3 == 0) {
			ret = wsd_owner_pop(t);
		}
	}
	/* the rest; once a pop finds nothing, nothing is left */
	while (!ret && lfq_wsdeque_len(st->d.ring))
		ret = wsd_owner_pop(t);
	return ret;
}

/* One steal (or steal_batch): what it took, or -EAGAIN, or an error. */
static int wsd_thief_steal(struct wsd_thread *t)
{
	struct wsd_stress *st = t->st;
	u64 buf[8];
	int i, ret;

	for (;;) {
		ret = t->batch ? lfq_wsdeque_steal_batch(&st->d.s, buf, t->batch) :
				 lfq_wsdeque_steal(&st->d.s, buf);
		if (ret != -EBUSY)
			break;
		t->lost++;
	}
	for (i = 0; i < (t->batch ? ret : !ret); i++)
		wsd_take(t, buf[i]);
	return ret;
}

static int wsd_thief(struct wsd_thread *t)
{
	struct wsd_stress *st = t->st;
	bool done;
	u64 n;
	int ret;

	for (n = 1; !st->race || n <= st->items; n++) {
		if (st->race) {
			ret = wsd_wait(st, &st->round, n);
			if (ret)
				return ret;
		} else if (time_after(jiffies, st->deadline)) {
			return -ETIMEDOUT;
		}
		/* pairs with the release in wsd_thread_fn() */
		done = smp_load_acquire(&st->owner_done);
		ret = wsd_thief_steal(t);
		if (ret < 0 && ret != -EAGAIN)
			return ret;
		if (st->race)
			smp_store_release(&st->acked, n);
		else if (ret == -EAGAIN && done)
			return 0;
		else if (ret == -EAGAIN)
			cond_resched();
	}
	return 0;
}

static int wsd_thread_fn(void *arg)
{
	struct wsd_thread *t = arg;

	wait_for_completion(&t->st->go);
	if (t->index) {
		t->err = wsd_thief(t);
	} else {
		t->err = wsd_owner(t);
		smp_store_release(&t->st->owner_done, true);
	}
	if (t->err)
		WRITE_ONCE(t->st->failed, true);
	complete(&t->done);
	return park_until_stopped();
}

/* The CPU of thread i: the owner (0) the first, thieves the others in turn. */
static unsigned int __init wsd_cpu(unsigned int i)
{
	unsigned int k = i ? 1 + (i - 1) % (num_online_cpus() - 1) : 0, cpu;

	for_each_online_cpu(cpu)
		if (!k--)
			break;
	return cpu;
}

static void __init test_wsd_stress(u32 capacity, u32 thieves, u32 batch,
				   u64 items, bool race)
{
	struct wsd_stress st = { .items = items * scale, .race = race };
	struct wsd_thread th[4];
	u64 owner = 0, stolen = 0, lost = 0, misordered = 0, missing, start, ms;
	bool bound = num_online_cpus() > 1, empty = false;
	unsigned int i, started = 0;
	int err;

	st.seen = bitmap_zalloc(st.items, GFP_KERNEL);
	err = st.seen ? wsd_open(&st.d, capacity) : -ENOMEM;
	st.deadline = jiffies + 60 * HZ;
	init_completion(&st.go);
	for (i = 0; !err && i <= thieves && i < ARRAY_SIZE(th); i++) {
		th[i] = (struct wsd_thread){
			.st = &st, .index = i, .last = -1,
			.batch = i && i == thieves ? batch : 0,
		};
		init_completion(&th[i].done);
		th[i].task = kthread_create(wsd_thread_fn, &th[i], "lfq_test/wsd%u", i);
		if (IS_ERR(th[i].task)) {
			err = PTR_ERR(th[i].task);
			/* the threads started must not wait for this one */
			WRITE_ONCE(st.failed, true);
			break;
		}
		if (bound)
			kthread_bind(th[i].task, wsd_cpu(i));
		wake_up_process(th[i].task);
		started++;
	}
	start = ktime_get_ns();
	complete_all(&st.go);
	for (i = 0; i < started; i++) {
		wait_for_completion(&th[i].done);
		kthread_stop(th[i].task);
		/* the first error, not the -ECANCELED it caused */
		if (!err || err == -ECANCELED)
			err = th[i].err ?: err;
		lost += th[i].lost;
		if (i)
			stolen += th[i].taken;
		else
			owner = th[i].taken;
		misordered += th[i].misordered;
	}
	ms = (ktime_get_ns() - start) / NSEC_PER_MSEC;
	missing = st.seen ? st.items - bitmap_weight(st.seen, st.items) : st.items;
	if (!err)
		empty = wsd_empty(&st.d) && !lfq_ring_errors(st.d.ring);
	CHECK(!err && owner + stolen == st.items && !missing &&
	      !atomic64_read(&st.duplicates) && !atomic64_read(&st.bad) &&
	      !misordered && empty && (!race || !bound || (owner && stolen)),
	      "wsdeque %s capacity %u, owner + %u thieves (steal_batch %u): %llu items in %llu ms (error %d, owner took %llu, thieves %llu, lost %llu CAS; dup %lld, bad %lld, missing %llu, thief order %llu, empty %d)",
	      race ? "last-element race" : "stress", capacity, thieves, batch,
	      st.items, ms, err, owner, stolen, lost,
	      atomic64_read(&st.duplicates), atomic64_read(&st.bad), missing,
	      misordered, empty);
	wsd_close(&st.d);
	bitmap_free(st.seen);
}

static void __init selftest(void)
{
	pr_info("KTAP version 1\n");
	test_create();
	test_try_ops();
	test_blocking();
	test_turn_api();
	test_turn_try_ops();
	test_turn_reserve();
	test_turn_skipped();
	test_turn_corrupt();
	test_turn_blocking();
	test_mpsc_api();
	test_mpsc_try_ops();
	test_mpsc_wrap();
	test_mpsc_peek();
	test_mpsc_commit();
	test_mpsc_policies();
	test_mpsc_corrupt();
	test_mpsc_blocking();
	test_mpsc_hardirq();
	test_mpsc_irq_stop();
	test_seq_api();
	test_seq_single();
	test_seq_multi();
	test_seq_consumers();
	test_seq_blocking();
	test_seq_corrupt();
	test_seq_jobs();
	test_wsd_api();
	test_wsd_ops();
	test_wsd_wrap();
	test_wsd_odd_elem();
	test_wsd_corrupt();
	if (stress) {
		const u32 vy = LFQ_RING_VYUKOV, turn = LFQ_RING_TURN;
		const u32 item = sizeof(struct lfq_test_item);
		const u32 inplace = LFQ_TEST_F_RESERVE, irq = LFQ_TEST_F_IRQ;
		const u32 single = LFQ_SEQ_SINGLE, multi = LFQ_SEQ_MULTI;

		test_stress(vy, 0, 1, 1, 64, 1, item, 100000);
		test_stress(vy, 0, 2, 2, 8, 1, 64, 50000);
		test_stress(vy, 0, 4, 4, 64, 8, 100, 25000);
		test_stress(vy, 0, 2, 1, 2, 1, item, 20000);
		test_stress(vy, 0, 1, 3, 8, 4, 4096, 5000);
		test_stress(turn, 0, 1, 1, 64, 1, item, 50000);
		test_stress(turn, 0, 2, 2, 8, 1, 64, 25000);
		test_stress(turn, 0, 4, 4, 64, 8, 100, 12500);
		test_stress(turn, 0, 2, 1, 2, 1, item, 10000);
		test_stress(turn, 0, 1, 3, 8, 4, 4096, 5000);
		test_stress(turn, inplace, 2, 2, 2, 1, item, 10000);
		test_stress(turn, inplace, 3, 3, 16, 4, 200, 10000);
		test_stress(turn, inplace, 1, 2, 2, 2, 64, 10000);
		test_mpsc_stress(LFQ_MPSC_DISCARD, 0, 4, 256, 4, 20000);
		test_mpsc_stress(LFQ_MPSC_BLOCK, inplace, 4, 8, 1, 20000);
		test_mpsc_stress(LFQ_MPSC_OVERWRITE, 0, 4, 32, 8, 20000);
		test_mpsc_stress(LFQ_MPSC_DISCARD, irq, 2, 64, 8, 5000);
		test_seq_stress(single, 1, 1, false, 64, 8, LFQ_SEQ_WAIT_SPIN, 20000);
		test_seq_stress(single, 1, 2, false, 8, 4, LFQ_SEQ_WAIT_YIELD, 10000);
		test_seq_stress(single, 1, 3, false, 4, 1, LFQ_SEQ_WAIT_BLOCK, 5000);
		test_seq_stress(single, 1, 4, false, 16, 8, LFQ_SEQ_WAIT_BLOCK, 10000);
		test_seq_stress(multi, 4, 2, false, 8, 4, LFQ_SEQ_WAIT_BLOCK, 2500);
		test_seq_stress(single, 1, 3, true, 16, 8, LFQ_SEQ_WAIT_BLOCK, 5000);
		test_seq_stress(multi, 2, 2, true, 8, 4, LFQ_SEQ_WAIT_YIELD, 2500);
		test_wsd_stress(8, 2, 0, 200000, false);
		test_wsd_stress(64, 3, 4, 200000, false);
		test_wsd_stress(2, 2, 2, 100000, false);
		test_wsd_stress(2, 1, 0, 20000, true);
	}
	pr_info("1..%u\n", ktap_n);
}

static int __init lfq_test_init(void)
{
	int ret;

	selftest();
	ret = kstm_report(total_tests, failed_tests, skipped_tests);
	if (ret)
		return ret;
	return misc_register(&lfq_test_misc);
}

static void __exit lfq_test_exit(void)
{
	misc_deregister(&lfq_test_misc);
}

module_init(lfq_test_init);
module_exit(lfq_test_exit);

MODULE_DESCRIPTION("lfq test peer: in-kernel tests and kernel threads on user rings");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(LFQ);
