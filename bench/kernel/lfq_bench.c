// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_bench.ko: time lfq's rings in the kernel against the kernel's own
 * queues on the same workloads, with kthreads. Everything runs at insmod
 * (module parameters below): every workload group, or only group N
 * (group=N, from 1), and the last log line says how many runs failed
 * (moved something wrong, or could not run); the load itself succeeds,
 * because busybox's insmod would load a failed module a second time.
 * bench/kernel/vm-bench.sh loads it once per group and relays the log
 * after each load, so that nothing but the benchmark runs while it times;
 * bench/kernel/table.awk turns the lines into the tables.
 *
 * Implementations (each element is a u64; llist nodes carry one):
 *
 *   vyukov, turn, mpsc (the log ring, BLOCK policy, one consumer), seq
 *   (the sequencer: SINGLE with one producer, MULTI with more; one
 *   consumer, or one per consumer thread in broadcast), wsdeque (owner and
 *   thieves), kfifo, ptr_ring, llist (llist_add, llist_del_all +
 *   llist_reverse_order: unbounded, MPSC), kfifo fanout (broadcast: one
 *   kfifo per consumer, the producer puts every item into each).
 *
 * kfifo and ptr_ring follow one locking rule: a side with one user takes
 * no lock (kfifo_in/out, __ptr_ring_produce/__ptr_ring_consume), a side
 * with several takes a plain spinlock (kfifo_{in,out}_spinlocked_noirqsave,
 * ptr_ring_produce/ptr_ring_consume), as lfq's rings take no lock at all.
 *
 * Workloads, each with a burst (items per call where the API takes
 * several; other implementations loop over single calls):
 *
 *   st      one thread pushes a batch of 32 items, then pops them
 *   spsc, mpsc, mpmc  P producer and C consumer threads; a consumer
 *           ends when it finds the queue empty after it saw every
 *           producer done
 *   broadcast  one producer, C consumers that each see every item
 *   deque steal  the owner pushes, and pops one itself after every second
 *           push (and whenever the deque is full); thieves steal the rest
 *
 * The names are those of the userspace benchmark (bench/user/main.c).
 *
 * Thread i is bound to the (i mod n)-th of the n online CPUs, producers
 * first, so that the two sides of spsc sit on different CPUs. A thread
 * that finds the queue full or empty spins a little, then yield()s: on a
 * two-CPU VM a peer may share its CPU. A run that has not ended after
 * 30 s fails. A run's time goes from the first thread's start (after the
 * common go) to the last one's end.
 *
 * Every run is checked: item count, a checksum over every item taken,
 * each item well-formed (a known producer, a seq below items), and per
 * producer order where the queue promises it (everything but wsdeque,
 * per consumer thread). Ops are items through the queue: P * items, and
 * items for st, broadcast (items published, each seen by every
 * consumer) and deque steal.
 *
 * Log lines (pr_info, "lfq_bench: " first):
 *   [ n/N] ...                                    progress
 *   rep|workload|impl|threads|cap|elem|burst|rep|ops|nsecs|ok|FAIL
 *                                                 one run (cap 0: llist)
 *   done: group G/NG: R runs, F failed            the end (G 0: all)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kfifo.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/ptr_ring.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "kmod/lfq.h"

static unsigned int reps = 5;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "repetitions of each case, interleaved (default 5)");
static unsigned long items = 200000;
module_param(items, ulong, 0444);
MODULE_PARM_DESC(items, "items per producer and run, at most 1 << 24 (default 200000)");
static unsigned int capacity = 1024;
module_param(capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "slots of every bounded queue, a power of two (default 1024)");
static unsigned int group;
module_param(group, uint, 0444);
MODULE_PARM_DESC(group, "run only this workload group, from 1 (default 0: all)");

#define MAX_BURST	16
#define MAX_THREADS	4
#define SINGLE_BATCH	32
#define RUN_TIMEOUT	(30 * HZ)
#define MAX_ITEMS	(1UL << 24)
/* An item: its producer + 1 above SEQ_BITS, its seq below. */
#define SEQ_BITS	40

enum impl {
	I_VYUKOV, I_TURN, I_MPSC, I_SEQ, I_WSDEQUE,
	I_KFIFO, I_PTR_RING, I_LLIST, I_KFIFO_FANOUT, NR_IMPLS
};

static const char *const impl_names[NR_IMPLS] = {
	[I_VYUKOV] = "lfq vyukov", [I_TURN] = "lfq turn", [I_MPSC] = "lfq mpsc",
	[I_SEQ] = "lfq seq", [I_WSDEQUE] = "lfq wsdeque", [I_KFIFO] = "kfifo",
	[I_PTR_RING] = "ptr_ring", [I_LLIST] = "llist",
	[I_KFIFO_FANOUT] = "kfifo fanout",
};

enum shape { SINGLE, QUEUE, BCAST, DEQUE };

struct workload {
	const char *name;
	enum shape shape;
	u32 nprod;		/* producers (the owner, for deque) */
	u32 ncons;		/* consumers (thieves, for deque) */
	u32 burst;
	int impls[NR_IMPLS];	/* ends at the first -1 */
};

#define END	-1

/* lfq rings first in every group: the table's ratios are to the first row. */
static const struct workload workloads[] = {
	{ "st", SINGLE, 1, 0, 1, { I_VYUKOV, I_TURN, I_MPSC, I_SEQ, I_WSDEQUE,
				      I_KFIFO, I_PTR_RING, I_LLIST, END } },
	{ "st", SINGLE, 1, 0, 16, { I_VYUKOV, I_MPSC, I_SEQ, I_KFIFO, I_PTR_RING,
				       I_LLIST, END } },
	{ "spsc", QUEUE, 1, 1, 1, { I_VYUKOV, I_TURN, I_MPSC, I_SEQ, I_KFIFO,
				   I_PTR_RING, I_LLIST, END } },
	{ "spsc", QUEUE, 1, 1, 16, { I_VYUKOV, I_MPSC, I_SEQ, I_KFIFO, I_PTR_RING,
				    I_LLIST, END } },
	{ "mpsc", QUEUE, 2, 1, 1, { I_VYUKOV, I_TURN, I_MPSC, I_SEQ, I_KFIFO,
				   I_PTR_RING, I_LLIST, END } },
	{ "mpmc", QUEUE, 2, 2, 1, { I_VYUKOV, I_TURN, I_KFIFO, I_PTR_RING, END } },
	{ "mpmc", QUEUE, 2, 2, 16, { I_VYUKOV, I_KFIFO, I_PTR_RING, END } },
	{ "broadcast", BCAST, 1, 2, 1, { I_SEQ, I_KFIFO_FANOUT, END } },
	{ "broadcast", BCAST, 1, 2, 16, { I_SEQ, I_KFIFO_FANOUT, END } },
	{ "deque steal", DEQUE, 1, 1, 1, { I_WSDEQUE, I_KFIFO, I_PTR_RING, END } },
	{ "deque steal", DEQUE, 1, 1, 8, { I_WSDEQUE, I_KFIFO, I_PTR_RING, END } },
};

struct llnode {
	struct llist_node node;
	u64 val;
};

struct run;

struct thread {
	struct run *run;
	struct task_struct *task;
	struct completion exited;
	ktime_t start, end;
	u32 id;			/* producer id, or consumer index */
	bool producer;		/* the owner, for deque */
	bool thief;
	struct lfq_seq_consumer sc;
	struct lfq_wsdeque_stealer stealer;
	struct llist_node *taken;	/* llist: taken, not yet popped */
	struct lfq_mpsc_res res[MAX_BURST];
	void *ptrs[MAX_BURST];
	u64 buf[MAX_BURST];
	s64 last[MAX_THREADS];	/* per producer: the last seq taken */
	u64 count, sum, bad;
	int err;
};

struct run {
	const struct workload *w;
	enum impl impl;
	u64 ops;		/* items through the queue */
	bool ordered;
	bool lock_in, lock_out;	/* kfifo, ptr_ring: several users on that side */
	struct lfq_ring *ring;
	struct lfq_wsdeque_worker worker;
	DECLARE_KFIFO_PTR(fifo, u64);
	DECLARE_KFIFO_PTR(fan[MAX_THREADS], u64);
	spinlock_t in_lock, out_lock;
	struct ptr_ring pr;
	struct llist_head ll;
	struct llnode *nodes;	/* items per producer */
	struct completion go;
	atomic_t producing;	/* producers not done yet */
	bool abort;
	unsigned long deadline;
	struct thread t[MAX_THREADS];
	u32 nthreads;
};

/* Producer p's seq s: nonzero (ptr_ring stores it as a pointer). */
static inline u64 item_val(u32 p, u64 s)
{
	return ((u64)(p + 1) << SEQ_BITS) | s;
}

static inline u64 item_seq(u64 v)
{
	return v & ((1ULL << SEQ_BITS) - 1);
}

/* The producer of v; U64_MAX for 0, which no producer writes. */
static inline u64 item_producer(u64 v)
{
	return (v >> SEQ_BITS) - 1;
}

static inline u64 item_mix(u64 v)
{
	v ^= v >> 31;
	v *= 0xbf58476d1ce4e5b9ULL;
	return v ^ (v >> 29);
}

/* Items pushed: 1..n, 0 if the queue is full, or a negative errno. */
static int q_push(struct run *r, struct thread *t, const u64 *v, u32 n)
{
	u32 i, k;
	int ret;

	switch (r->impl) {
	case I_VYUKOV:
		if (n == 1)
			ret = lfq_vyukov_try_push(r->ring, v) ?: 1;
		else
			ret = lfq_vyukov_try_push_burst(r->ring, v, n);
		return ret == -ENOSPC ? 0 : ret;
	case I_TURN:
		for (i = 0; i < n; i++) {
			ret = lfq_turn_try_push(r->ring, &v[i]);
			if (ret)
				return ret == -ENOSPC ? i : ret;
		}
		return n;
	case I_MPSC:
		for (i = 0; i < n; i++) {
			ret = lfq_mpsc_try_push(r->ring, &v[i], sizeof(*v));
			if (ret)
				return ret == -ENOSPC ? i : ret;
		}
		return n;
	case I_SEQ: {
		u64 first;

		ret = lfq_seq_try_claim_up_to(r->ring, n, &first);
		if (ret <= 0)
			return ret == -ENOSPC ? 0 : ret;
		for (i = 0; i < ret; i++)
			*(u64 *)lfq_seq_elem(r->ring, first + i) = v[i];
		k = ret;
		ret = lfq_seq_publish_range(r->ring, first, first + k - 1);
		return ret ? ret : k;
	}
	case I_WSDEQUE:
		for (i = 0; i < n; i++) {
			ret = lfq_wsdeque_push(&r->worker, &v[i]);
			if (ret)
				return ret == -ENOSPC ? i : ret;
		}
		return n;
	case I_KFIFO:
		if (r->lock_in)
			return kfifo_in_spinlocked_noirqsave(&r->fifo, v, n, &r->in_lock);
		return kfifo_in(&r->fifo, v, n);
	case I_PTR_RING:
		for (i = 0; i < n; i++) {
			void *p = (void *)(uintptr_t)v[i];

			ret = r->lock_in ? ptr_ring_produce(&r->pr, p) :
				__ptr_ring_produce(&r->pr, p);
			if (ret)
				return i;
		}
		return n;
	case I_LLIST:
		for (i = 0; i < n; i++) {
			struct llnode *nd = &r->nodes[t->id * items + item_seq(v[i])];

			nd->val = v[i];
			llist_add(&nd->node, &r->ll);
		}
		return n;
	case I_KFIFO_FANOUT:
		k = n;
		for (i = 0; i < r->w->ncons; i++)
			k = min(k, kfifo_avail(&r->fan[i]));
		for (i = 0; i < r->w->ncons && k; i++)
			kfifo_in(&r->fan[i], v, k);
		return k;
	default:
		return -EINVAL;
	}
}

/*
 * Items popped into v: 1..n; 0 if the queue is empty; -EBUSY if it is not
 * but a race was lost (look again); or another negative errno. Vyukov and
 * turn tell lost races from an empty ring only after LFQ_TRY_RETRIES of
 * them (-EAGAIN either way): that costs the ending of run_consumer()
 * nothing, as a consumer loses a race only to another that took an item
 * and so looks again itself.
 */
static int q_pop(struct run *r, struct thread *t, u64 *v, u32 n)
{
	u32 i;
	int ret;

	switch (r->impl) {
	case I_VYUKOV:
		if (n == 1)
			ret = lfq_vyukov_try_pop(r->ring, v) ?: 1;
		else
			ret = lfq_vyukov_try_pop_burst(r->ring, v, n);
		return ret == -EAGAIN ? 0 : ret;
	case I_TURN:
		for (i = 0; i < n; i++) {
			ret = lfq_turn_try_pop(r->ring, &v[i]);
			if (ret)
				return ret == -EAGAIN ? i : ret;
		}
		return n;
	case I_MPSC:
		if (n == 1) {
			ret = lfq_mpsc_try_pop(r->ring, v, sizeof(*v));
			if (ret == -EAGAIN)
				return 0;
			if (ret < 0)
				return ret;
			return ret == (int)sizeof(*v) ? 1 : -EMSGSIZE;
		}
		ret = lfq_mpsc_peek_burst(r->ring, t->res, n);
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0)
			return ret;
		for (i = 0; i < ret; i++) {
			if (t->res[i].len != sizeof(*v))
				return -EMSGSIZE;
			memcpy(&v[i], t->res[i].data, sizeof(*v));
		}
		n = ret;
		ret = lfq_mpsc_release(r->ring, &t->res[n - 1]);
		return ret ?: n;
	case I_SEQ: {
		u64 avail;

		ret = lfq_seq_try_wait(&t->sc, t->sc.seq + 1, &avail);
		if (ret)
			return ret == -EAGAIN ? 0 : ret;
		n = min_t(u64, n, avail - t->sc.seq);
		for (i = 0; i < n; i++)
			v[i] = *(u64 *)lfq_seq_elem(r->ring, t->sc.seq + 1 + i);
		ret = lfq_seq_done(&t->sc, t->sc.seq + n);
		return ret ?: n;
	}
	case I_WSDEQUE:
		if (!t->thief)
			ret = lfq_wsdeque_pop(&r->worker, v) ?: 1;
		else if (n == 1)
			ret = lfq_wsdeque_steal(&t->stealer, v) ?: 1;
		else
			ret = lfq_wsdeque_steal_batch(&t->stealer, v, n);
		return ret == -EAGAIN ? 0 : ret;
	case I_KFIFO:
		if (r->lock_out)
			return kfifo_out_spinlocked_noirqsave(&r->fifo, v, n, &r->out_lock);
		return kfifo_out(&r->fifo, v, n);
	case I_PTR_RING:
		if (n == 1) {
			void *p = r->lock_out ? ptr_ring_consume(&r->pr) :
				__ptr_ring_consume(&r->pr);

			v[0] = (uintptr_t)p;
			return !!p;
		}
		if (r->lock_out)
			ret = ptr_ring_consume_batched(&r->pr, t->ptrs, n);
		else
			ret = __ptr_ring_consume_batched(&r->pr, t->ptrs, n);
		for (i = 0; i < ret; i++)
			v[i] = (uintptr_t)t->ptrs[i];
		return ret;
	case I_LLIST:
		if (!t->taken) {
			t->taken = llist_del_all(&r->ll);
			if (!t->taken)
				return 0;
			t->taken = llist_reverse_order(t->taken);
		}
		for (i = 0; i < n && t->taken; i++) {
			v[i] = container_of(t->taken, struct llnode, node)->val;
			t->taken = t->taken->next;
		}
		return i;
	case I_KFIFO_FANOUT:
		return kfifo_out(&r->fan[t->id], v, n);
	default:
		return -EINVAL;
	}
}

/* Check and account for n items a thread took. */
static void take(struct run *r, struct thread *t, const u64 *v, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		u64 p = item_producer(v[i]), s = item_seq(v[i]);

		t->count++;
		t->sum += item_mix(v[i]);
		if (p >= r->w->nprod || s >= items) {
			t->bad++;
			continue;
		}
		if (r->ordered && (s64)s <= t->last[p])
			t->bad++;
		t->last[p] = s;
	}
}

/*
 * Nothing to do: spin a little, then let a peer on this CPU run. yield(),
 * not a sleep: a sleep would time wake-ups rather than the queue, and a
 * kernel with voluntary preemption would otherwise leave a peer bound to
 * the same CPU waiting for the tick. checkpatch warns against yield()
 * because it promises nothing; here it need not: the peer is bound to
 * this CPU and runnable, which is exactly the case yield() hands over in.
 */
static bool backoff(struct run *r, u32 *fails)
{
	if (READ_ONCE(r->abort))
		return false;
	if (++*fails % 32) {
		cpu_relax();
		return true;
	}
	if (time_after(jiffies, r->deadline)) {
		WRITE_ONCE(r->abort, true);
		return false;
	}
	yield();
	return true;
}

/* A producer is done: its pushes are seen by whoever sees this. */
static void producer_done(struct run *r)
{
	smp_mb__before_atomic();
	atomic_dec(&r->producing);
}

static int run_producer(struct run *r, struct thread *t)
{
	u32 fails = 0, k, i;
	u64 s = 0;
	int ret;

	while (s < items) {
		cond_resched();
		k = min_t(u64, r->w->burst, items - s);
		for (i = 0; i < k; i++)
			t->buf[i] = item_val(t->id, s + i);
		ret = q_push(r, t, t->buf, k);
		if (ret < 0)
			return ret;
		if (ret) {
			s += ret;
			continue;
		}
		if (!backoff(r, &fails))
			return -ETIMEDOUT;
	}
	producer_done(r);
	return 0;
}

/*
 * Take items until the end: in broadcast, every item (each consumer sees
 * all); else until the queue is empty at a look made after every producer
 * was seen done, with no shared count that every pop would have to bump.
 */
static int run_consumer(struct run *r, struct thread *t)
{
	bool bcast = r->w->shape == BCAST, last_look = false;
	u32 fails = 0;
	int ret;

	while (!bcast || t->count < items) {
		cond_resched();
		ret = q_pop(r, t, t->buf, r->w->burst);
		if (ret > 0) {
			take(r, t, t->buf, ret);
			continue;
		}
		if (ret && ret != -EBUSY)
			return ret;
		if (!ret && !bcast) {
			if (last_look)
				return 0;
			/* pairs with producer_done() */
			last_look = !atomic_read_acquire(&r->producing);
			if (last_look)
				continue;
		}
		if (!backoff(r, &fails))
			return -ETIMEDOUT;
	}
	return 0;
}

/* The deque's owner: pushes everything, keeps some for itself. */
static int run_owner(struct run *r, struct thread *t)
{
	u64 s = 0, v;
	int ret;

	while (s < items) {
		cond_resched();
		v = item_val(t->id, s);
		ret = q_push(r, t, &v, 1);
		if (ret < 0)
			return ret;
		s += ret;
		if (ret && s % 2)
			continue;
		ret = q_pop(r, t, &v, 1);
		if (ret > 0)
			take(r, t, &v, 1);
		else if (ret && ret != -EBUSY)
			return ret;
	}
	producer_done(r);
	return run_consumer(r, t);
}

static int single_lost(struct run *r, const char *how, u64 seq)
{
	pr_info("FAIL st %s burst %u: queue %s at item %llu\n",
		impl_names[r->impl], r->w->burst, how, seq);
	return -EBADMSG;
}

/*
 * One thread alone: fill a batch, then drain it, in calls of burst. A
 * push that finds the queue full, or a pop that finds it empty before the
 * batch is out, lost items: the run fails at once.
 */
static int run_single(struct run *r, struct thread *t)
{
	u32 burst = r->w->burst, fails = 0, k, i, done;
	u64 s = 0;
	int ret;

	while (s < items) {
		u32 batch = min_t(u64, SINGLE_BATCH, items - s);

		cond_resched();
		for (done = 0; done < batch; done += ret) {
			k = min(burst, batch - done);
			for (i = 0; i < k; i++)
				t->buf[i] = item_val(0, s + done + i);
			ret = q_push(r, t, t->buf, k);
			if (ret < 0)
				return ret;
			if (!ret)
				return single_lost(r, "full", s + done);
		}
		for (done = 0; done < batch; done += ret) {
			ret = q_pop(r, t, t->buf, min(burst, batch - done));
			if (!ret)
				return single_lost(r, "empty", s + done);
			if (ret == -EBUSY) {
				if (!backoff(r, &fails))
					return -ETIMEDOUT;
				ret = 0;
				continue;
			}
			if (ret < 0)
				return ret;
			take(r, t, t->buf, ret);
		}
		s += batch;
	}
	return 0;
}

static int bench_thread(void *arg)
{
	struct thread *t = arg;
	struct run *r = t->run;
	int ret;

	wait_for_completion(&r->go);
	t->start = ktime_get();
	if (r->w->shape == SINGLE)
		ret = run_single(r, t);
	else if (r->w->shape == DEQUE && t->producer)
		ret = run_owner(r, t);
	else if (t->producer)
		ret = run_producer(r, t);
	else
		ret = run_consumer(r, t);
	t->end = ktime_get();
	t->err = ret;
	if (ret)
		WRITE_ONCE(r->abort, true);
	kthread_complete_and_exit(&t->exited, 0);
}

static int q_create(struct run *r)
{
	const struct workload *w = r->w;
	struct lfq_create c = {
		.capacity = capacity,
		.elem_size = sizeof(u64),
	};
	u32 i;
	int ret;

	switch (r->impl) {
	case I_VYUKOV:
		c.type = LFQ_RING_VYUKOV;
		break;
	case I_TURN:
		c.type = LFQ_RING_TURN;
		break;
	case I_MPSC:
		c.type = LFQ_RING_MPSC;
		c.policy = LFQ_MPSC_BLOCK;
		break;
	case I_SEQ:
		c.type = LFQ_RING_SEQ;
		c.policy = w->nprod > 1 ? LFQ_SEQ_MULTI : LFQ_SEQ_SINGLE;
		break;
	case I_WSDEQUE:
		c.type = LFQ_RING_WSDEQUE;
		break;
	case I_KFIFO:
		spin_lock_init(&r->in_lock);
		spin_lock_init(&r->out_lock);
		return kfifo_alloc(&r->fifo, capacity, GFP_KERNEL);
	case I_PTR_RING:
		return ptr_ring_init(&r->pr, capacity, GFP_KERNEL);
	case I_LLIST:
		init_llist_head(&r->ll);
		r->nodes = vmalloc(array_size(w->nprod * items, sizeof(*r->nodes)));
		return r->nodes ? 0 : -ENOMEM;
	case I_KFIFO_FANOUT:
		for (i = 0; i < w->ncons; i++) {
			ret = kfifo_alloc(&r->fan[i], capacity, GFP_KERNEL);
			if (ret) {
				while (i--)
					kfifo_free(&r->fan[i]);
				return ret;
			}
		}
		return 0;
	default:
		return -EINVAL;
	}
	r->ring = lfq_ring_create(&c);
	if (IS_ERR(r->ring))
		return PTR_ERR(r->ring);
	ret = r->impl == I_WSDEQUE ? lfq_wsdeque_worker(r->ring, &r->worker) : 0;
	if (ret)
		lfq_ring_put(r->ring);
	return ret;
}

static void q_destroy(struct run *r)
{
	u32 i;

	switch (r->impl) {
	case I_KFIFO:
		kfifo_free(&r->fifo);
		break;
	case I_PTR_RING:
		ptr_ring_cleanup(&r->pr, NULL);
		break;
	case I_LLIST:
		vfree(r->nodes);
		break;
	case I_KFIFO_FANOUT:
		for (i = 0; i < r->w->ncons; i++)
			kfifo_free(&r->fan[i]);
		break;
	default:
		lfq_ring_put(r->ring);
	}
}

/* A thread with a sequencer barrier of its own: every consumer, and st's. */
static bool seq_consumer(const struct run *r, const struct thread *t)
{
	return r->impl == I_SEQ && (!t->producer || r->w->shape == SINGLE);
}

/* Per-thread setup: sequencer consumers join, thieves get a handle. */
static int thread_setup(struct run *r, struct thread *t)
{
	memset(t->last, 0xff, sizeof(t->last));
	if (seq_consumer(r, t))
		return lfq_seq_join(r->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &t->sc);
	if (r->impl == I_WSDEQUE && t->thief)
		return lfq_wsdeque_stealer(r->ring, &t->stealer);
	return 0;
}

/* Checksum of every item of one producer set. */
static u64 expected_sum(u32 nprod)
{
	u64 sum = 0, s;
	u32 p;

	for (p = 0; p < nprod; p++) {
		for (s = 0; s < items; s++) {
			sum += item_mix(item_val(p, s));
			if (!(s % 65536))
				cond_resched();
		}
	}
	return sum;
}

/* Items through the queue in one run: what ns/op and Mops/s count. */
static u64 case_ops(const struct workload *w)
{
	if (w->shape == QUEUE)
		return w->nprod * items;
	return items;
}

/* One run of one case: 0 or why it failed, and how long it took. */
static int bench_run(struct run *r, u64 want_sum, u64 *nsecs)
{
	const struct workload *w = r->w;
	u32 i, nthreads = w->shape == SINGLE ? 1 : w->nprod + w->ncons;
	u64 count = 0, sum = 0, bad = 0, want = r->ops;
	ktime_t start = KTIME_MAX, end = 0;
	int ret, err = 0;

	/* broadcast: each consumer takes every item */
	if (w->shape == BCAST) {
		want *= w->ncons;
		want_sum *= w->ncons;
	}
	r->ordered = r->impl != I_WSDEQUE;
	r->lock_in = w->nprod > 1;
	r->lock_out = w->ncons + (w->shape == DEQUE) > 1;
	r->abort = false;
	atomic_set(&r->producing, w->nprod);
	init_completion(&r->go);
	ret = q_create(r);
	if (ret)
		return ret;

	r->nthreads = 0;
	for (i = 0; i < nthreads; i++) {
		struct thread *t = &r->t[i];

		memset(t, 0, sizeof(*t));
		t->run = r;
		t->producer = i < w->nprod;
		t->thief = w->shape == DEQUE && !t->producer;
		t->id = t->producer ? i : i - w->nprod;
		init_completion(&t->exited);
		ret = thread_setup(r, t);
		if (ret)
			break;
		t->task = kthread_create(bench_thread, t, "lfq_bench/%u", i);
		if (IS_ERR(t->task)) {
			ret = PTR_ERR(t->task);
			if (seq_consumer(r, t))
				lfq_seq_leave(&t->sc);
			break;
		}
		kthread_bind(t->task, cpumask_nth(i % num_online_cpus(), cpu_online_mask));
		wake_up_process(t->task);
		r->nthreads++;
	}
	r->deadline = jiffies + RUN_TIMEOUT;
	if (ret)
		WRITE_ONCE(r->abort, true);
	complete_all(&r->go);

	for (i = 0; i < r->nthreads; i++) {
		struct thread *t = &r->t[i];

		wait_for_completion(&t->exited);
		if (ktime_before(t->start, start))
			start = t->start;
		if (ktime_after(t->end, end))
			end = t->end;
		err = err ?: t->err;
		count += t->count;
		sum += t->sum;
		bad += t->bad;
		if (seq_consumer(r, t))
			lfq_seq_leave(&t->sc);
	}
	q_destroy(r);
	*nsecs = r->nthreads ? ktime_to_ns(ktime_sub(end, start)) : 0;
	if (ret || err)
		return ret ?: err;
	if (bad || sum != want_sum || count != want) {
		pr_info("FAIL %s %s burst %u: took %llu of %llu, %llu bad or misordered, checksum %s\n",
			w->name, impl_names[r->impl], w->burst, count, want, bad,
			sum == want_sum ? "ok" : "wrong");
		return -EBADMSG;
	}
	return 0;
}

static int __init lfq_bench_init(void)
{
	u32 nw = ARRAY_SIZE(workloads), cases = 0, n = 0, runs = 0, failed = 0;
	u64 sums[MAX_THREADS + 1] = { 0 };
	u32 wi, k, rep;
	struct run *r;

	if (!reps || !items || items > MAX_ITEMS || !is_power_of_2(capacity) ||
	    capacity < SINGLE_BATCH || capacity > (1U << 20) || group > nw)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	for (k = 1; k <= MAX_THREADS; k++)
		sums[k] = expected_sum(k);
	/* progress counts over every group, so that per-group loads add up */
	for (wi = 0; wi < nw; wi++) {
		for (k = 0; workloads[wi].impls[k] != END; k++) {
			cases += reps;
			if (group && wi + 1 < group)
				n += reps;
		}
	}

	/* interleaved: rep 1 of every impl of a group, then rep 2, ... */
	for (wi = 0; wi < nw; wi++) {
		const struct workload *w = &workloads[wi];
		char thr[16];

		if (group && wi + 1 != group)
			continue;
		if (w->shape == SINGLE)
			snprintf(thr, sizeof(thr), "1");
		else
			snprintf(thr, sizeof(thr), "%ux%u", w->nprod, w->ncons);
		r->w = w;
		r->ops = case_ops(w);
		for (rep = 1; rep <= reps; rep++) {
			for (k = 0; w->impls[k] != END; k++) {
				u64 nsecs = 0;
				int ret;

				r->impl = w->impls[k];
				pr_info("[%3u/%u] %s %s cap %u elem 8 burst %u: %s rep %u/%u\n",
					++n, cases, w->name, thr, capacity, w->burst,
					impl_names[r->impl], rep, reps);
				ret = bench_run(r, sums[w->nprod], &nsecs);
				pr_info("rep|%s|%s|%s|%u|8|%u|%u|%llu|%llu|%s\n", w->name,
					impl_names[r->impl], thr,
					r->impl == I_LLIST ? 0 : capacity, w->burst, rep, r->ops,
					nsecs, ret ? "FAIL" : "ok");
				if (ret && ret != -EBADMSG)
					pr_info("FAIL %s %s %s burst %u rep %u: error %d\n",
						w->name, thr, impl_names[r->impl], w->burst, rep,
						ret);
				runs++;
				failed += !!ret;
			}
		}
	}
	kfree(r);
	pr_info("done: group %u/%u: %u runs, %u failed\n", group, nw, runs, failed);
	return 0;
}

static void __exit lfq_bench_exit(void)
{
}

module_init(lfq_bench_init);
module_exit(lfq_bench_exit);
MODULE_DESCRIPTION("lfq rings against kfifo, ptr_ring and llist, timed in the kernel");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(LFQ);
