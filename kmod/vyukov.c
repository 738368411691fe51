// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: Vyukov bounded MPMC queue
 *
 * Kernel twin of user/vyukov.c: the same functions and labels, line for line.
 *
 * D. Vyukov, "Bounded MPMC queue" (1024cores.net, 2011): every slot carries
 * a sequence number that says which position it is ready for, so producers
 * and consumers meet only on the slot they use and on one counter each::
 *
 *   slot of position p:  seq == p          free, a producer may claim p
 *                        seq == p + 1      holds the item of p
 *                        seq == p + cap    free again, for the next lap
 *
 * Ordering (the same labels in user/vyukov.c, the model in
 * selftests/model/vyukov.pml, and Documentation/vyukov.rst)::
 *
 *   producer                              consumer
 *   pos = head              (no barrier)  pos = tail              (no barrier)
 *   (A) seq = acquire(slot.seq)           (C) seq = acquire(slot.seq)
 *       free if seq == pos                    ready if seq == pos + 1
 *   CAS head pos -> pos + k   (relaxed)   CAS tail pos -> pos + k   (relaxed)
 *   write the element                     read the element
 *   (B) release(slot.seq, pos + 1)        (D) release(slot.seq, pos + cap)
 *   (W2) smp_mb, load not_empty.waiters   (W2) smp_mb, load not_full.waiters
 *
 * Pairs::
 *
 *   (A) pairs with (D): a producer overwrites a slot only after the
 *       consumer of the previous lap has finished reading it.
 *   (B) pairs with (C): a consumer reads an element only after its
 *       producer has finished writing it.
 *   (S) in lfq_span() (internal.h), for size(), orders its tail load
 *       before its head load.
 *   (W2) pairs with (W1) in __lfq_wait(), user/ring.c or kmod/ring.c (and
 *       in lfq_ring_wait_begin() for event loops on a ring fd): the
 *       sleeper stores waiters then loads the ring, the waker stores the
 *       ring then loads waiters. Store->load order needs a full barrier on
 *       both sides (release/acquire allow it to reorder); with it, either
 *       the sleeper sees the item or the waker sees the sleeper.
 *
 * head and tail only hand out positions: their CAS is relaxed, because the
 * element itself is handed over through the slot's seq.
 */
#include <linux/export.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

struct vyukov_slot {
	u64 seq;
	u8 data[];
};

struct vyukov_op {
	const void *src;
	void *dst;
	unsigned int n;
};

void lfq_vyukov_init(struct lfq_ring *ring)
{
	u64 i;

	for (i = 0; i < ring->capacity; i++)
		((struct vyukov_slot *)lfq_slot(ring, i))->seq = i;
}

/*
 * Check seq against want, the value a ready slot has. A correct ring never
 * shows seq more than a lap behind want: seqs only grow, and when pos was
 * read the slot already held at least the previous lap's value.
 */
static int vyukov_not_ready(struct lfq_ring *ring, s64 dif, int busy)
{
	if (unlikely(dif < -(s64)ring->capacity))
		return lfq_ring_corrupt(ring);
	return dif < 0 ? busy : -EBUSY;
}

/* Claim up to n free slots from head and fill them. */
static int __vyukov_push(struct lfq_ring *ring, const u8 *src, unsigned int n)
{
	struct lfq_vyukov_hdr *hdr = ring->hdr;
	struct vyukov_slot *slot;
	unsigned int retries, i, k;
	u64 pos, seq;
	s64 dif = 0;

	/* no barrier: head is a claim counter, (A) orders the slot */
	pos = READ_ONCE(hdr->head);
	for (retries = 0; retries < LFQ_TRY_RETRIES; retries++) {
		for (k = 0; k < n; k++) {
			slot = lfq_slot(ring, pos + k);
			/* A: pairs with D in __vyukov_pop() */
			seq = smp_load_acquire(&slot->seq);
			/* unsigned subtraction, signed result: wrap-safe */
			dif = (s64)(seq - (pos + k));
			if (dif != 0)
				break;
		}
		if (k == 0) {
			int ret = vyukov_not_ready(ring, dif, -ENOSPC);

			if (ret != -EBUSY)
				return ret;
			/* another producer took pos: start from its head */
			pos = READ_ONCE(hdr->head);
			continue;
		}
		/* on failure pos is the current head: retry from there */
		if (try_cmpxchg_relaxed(&hdr->head, &pos, pos + k))
			goto claimed;
	}
	return -EBUSY;

claimed:
	for (i = 0; i < k; i++) {
		slot = lfq_slot(ring, pos + i);
		memcpy(slot->data, src + (size_t)i * ring->elem_size,
		       ring->elem_size);
		/* B: pairs with C in __vyukov_pop() */
		smp_store_release(&slot->seq, pos + i + 1);
	}
	lfq_wake(ring, LFQ_NOT_EMPTY);
	return k;
}

/* Claim up to n ready slots from tail and empty them. */
static int __vyukov_pop(struct lfq_ring *ring, u8 *dst, unsigned int n)
{
	struct lfq_vyukov_hdr *hdr = ring->hdr;
	struct vyukov_slot *slot;
	unsigned int retries, i, k;
	u64 pos, seq;
	s64 dif = 0;

	/* no barrier: tail is a claim counter, (C) orders the slot */
	pos = READ_ONCE(hdr->tail);
	for (retries = 0; retries < LFQ_TRY_RETRIES; retries++) {
		for (k = 0; k < n; k++) {
			slot = lfq_slot(ring, pos + k);
			/* C: pairs with B in __vyukov_push() */
			seq = smp_load_acquire(&slot->seq);
			dif = (s64)(seq - (pos + k + 1));
			if (dif != 0)
				break;
		}
		if (k == 0) {
			int ret = vyukov_not_ready(ring, dif, -EAGAIN);

			if (ret != -EBUSY)
				return ret;
			pos = READ_ONCE(hdr->tail);
			continue;
		}
		if (try_cmpxchg_relaxed(&hdr->tail, &pos, pos + k))
			goto claimed;
	}
	return -EBUSY;

claimed:
	for (i = 0; i < k; i++) {
		slot = lfq_slot(ring, pos + i);
		memcpy(dst + (size_t)i * ring->elem_size, slot->data,
		       ring->elem_size);
		/* D: pairs with A in __vyukov_push() */
		smp_store_release(&slot->seq, pos + i + ring->mask + 1);
	}
	lfq_wake(ring, LFQ_NOT_FULL);
	return k;
}

static int vyukov_push_op(struct lfq_ring *ring, void *arg)
{
	struct vyukov_op *op = arg;

	return __vyukov_push(ring, op->src, op->n);
}

static int vyukov_pop_op(struct lfq_ring *ring, void *arg)
{
	struct vyukov_op *op = arg;

	return __vyukov_pop(ring, op->dst, op->n);
}

static int vyukov_check(const struct lfq_ring *ring, unsigned int n)
{
	if (!ring || ring->info.type != LFQ_RING_VYUKOV || n == 0)
		return -EINVAL;
	return 0;
}

/**
 * lfq_vyukov_try_push_burst() - push up to @n elements without waiting
 * @ring: a LFQ_RING_VYUKOV ring
 * @elems: @n elements of the ring's element size, back to back
 * @n: how many to push, at least 1
 *
 * Context: any context; never sleeps.
 * Return: how many elements were pushed (1..@n), -ENOSPC if the ring is
 * full or LFQ_TRY_RETRIES races were lost, -EIO if the shared ring is
 * corrupt, -EINVAL if @ring is not a Vyukov ring or @n is 0.
 */
int lfq_vyukov_try_push_burst(struct lfq_ring *ring, const void *elems,
			      unsigned int n)
{
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	ret = __vyukov_push(ring, elems, n);
	return ret == -EBUSY ? -ENOSPC : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_try_push_burst, LFQ);

/**
 * lfq_vyukov_try_pop_burst() - pop up to @n elements without waiting
 * @ring: a LFQ_RING_VYUKOV ring
 * @elems: room for @n elements of the ring's element size
 * @n: how many to pop, at least 1
 *
 * Context: any context; never sleeps.
 * Return: how many elements were popped (1..@n), -EAGAIN if the ring is
 * empty or LFQ_TRY_RETRIES races were lost, -EIO if the shared ring is
 * corrupt, -EINVAL if @ring is not a Vyukov ring or @n is 0.
 */
int lfq_vyukov_try_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n)
{
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	ret = __vyukov_pop(ring, elems, n);
	return ret == -EBUSY ? -EAGAIN : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_try_pop_burst, LFQ);

/**
 * lfq_vyukov_push_burst() - push up to @n elements, waiting for space
 * @ring: a LFQ_RING_VYUKOV ring
 * @elems: @n elements of the ring's element size, back to back
 * @n: how many to push, at least 1
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Spins briefly, then sleeps interruptibly on the ring's wait queue until
 * a consumer (kernel or user) frees a slot.
 *
 * Context: process context; may sleep.
 * Return: how many elements were pushed (1..@n), -ETIMEDOUT, -EINTR on a
 * signal or kthread_stop(), -EIO if the shared ring is corrupt, -EINVAL
 * (also for a negative @timeout).
 */
int lfq_vyukov_push_burst(struct lfq_ring *ring, const void *elems,
			  unsigned int n, long timeout)
{
	struct vyukov_op op = { .src = elems, .n = n };
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	if (timeout < 0)
		return -EINVAL;
	return __lfq_wait(ring, LFQ_NOT_FULL, vyukov_push_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_push_burst, LFQ);

/**
 * lfq_vyukov_pop_burst() - pop up to @n elements, waiting for one
 * @ring: a LFQ_RING_VYUKOV ring
 * @elems: room for @n elements of the ring's element size
 * @n: how many to pop, at least 1
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context; may sleep.
 * Return: how many elements were popped (1..@n), -ETIMEDOUT, -EINTR on a
 * signal or kthread_stop(), -EIO if the shared ring is corrupt, -EINVAL
 * (also for a negative @timeout).
 */
int lfq_vyukov_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n,
			 long timeout)
{
	struct vyukov_op op = { .dst = elems, .n = n };
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	if (timeout < 0)
		return -EINVAL;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, vyukov_pop_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_pop_burst, LFQ);

/**
 * lfq_vyukov_try_push() - push one element without waiting
 * @ring: a LFQ_RING_VYUKOV ring
 * @elem: the element, of the ring's element size
 *
 * Context: any context; never sleeps.
 * Return: 0, or as lfq_vyukov_try_push_burst().
 */
int lfq_vyukov_try_push(struct lfq_ring *ring, const void *elem)
{
	int ret = lfq_vyukov_try_push_burst(ring, elem, 1);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_try_push, LFQ);

/**
 * lfq_vyukov_try_pop() - pop one element without waiting
 * @ring: a LFQ_RING_VYUKOV ring
 * @elem: room for one element of the ring's element size
 *
 * Context: any context; never sleeps.
 * Return: 0, or as lfq_vyukov_try_pop_burst().
 */
int lfq_vyukov_try_pop(struct lfq_ring *ring, void *elem)
{
	int ret = lfq_vyukov_try_pop_burst(ring, elem, 1);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_try_pop, LFQ);

/**
 * lfq_vyukov_push() - push one element, waiting for space
 * @ring: a LFQ_RING_VYUKOV ring
 * @elem: the element, of the ring's element size
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context; may sleep.
 * Return: 0, or as lfq_vyukov_push_burst().
 */
int lfq_vyukov_push(struct lfq_ring *ring, const void *elem, long timeout)
{
	int ret = lfq_vyukov_push_burst(ring, elem, 1, timeout);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_push, LFQ);

/**
 * lfq_vyukov_pop() - pop one element, waiting for one
 * @ring: a LFQ_RING_VYUKOV ring
 * @elem: room for one element of the ring's element size
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context; may sleep.
 * Return: 0, or as lfq_vyukov_pop_burst().
 */
int lfq_vyukov_pop(struct lfq_ring *ring, void *elem, long timeout)
{
	int ret = lfq_vyukov_pop_burst(ring, elem, 1, timeout);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_pop, LFQ);

/**
 * lfq_vyukov_size() - number of items in the ring
 * @ring: a LFQ_RING_VYUKOV ring
 *
 * Items between tail and head, claimed-but-unpublished ones included.
 * Exact when the ring is quiet, a snapshot otherwise.
 *
 * Context: any context.
 * Return: 0..capacity.
 */
u64 lfq_vyukov_size(const struct lfq_ring *ring)
{
	const struct lfq_vyukov_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_size, LFQ);

/**
 * lfq_vyukov_empty() - whether lfq_vyukov_size() is 0
 * @ring: a LFQ_RING_VYUKOV ring
 *
 * Context: any context.
 * Return: true if empty.
 */
bool lfq_vyukov_empty(const struct lfq_ring *ring)
{
	return lfq_vyukov_size(ring) == 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_empty, LFQ);

/**
 * lfq_vyukov_full() - whether lfq_vyukov_size() is the capacity
 * @ring: a LFQ_RING_VYUKOV ring
 *
 * Context: any context.
 * Return: true if full.
 */
bool lfq_vyukov_full(const struct lfq_ring *ring)
{
	return lfq_vyukov_size(ring) == ring->capacity;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_full, LFQ);

/**
 * lfq_vyukov_drain() - hand every remaining item to @fn and free its slot
 * @ring: a LFQ_RING_VYUKOV ring
 * @fn: called with each element in place, oldest first
 * @arg: passed to @fn
 *
 * Single-threaded: for shutdown, when no producer or consumer runs, so
 * tail is written without a CAS. Bounded by the capacity.
 *
 * Context: any context; as @fn allows.
 * Return: the number of items drained, or -EINVAL.
 */
long lfq_vyukov_drain(struct lfq_ring *ring,
		      void (*fn)(void *elem, void *arg), void *arg)
{
	struct lfq_vyukov_hdr *hdr;
	struct vyukov_slot *slot;
	u64 tail, n;

	if (vyukov_check(ring, 1) || !fn)
		return -EINVAL;
	hdr = ring->hdr;
	tail = READ_ONCE(hdr->tail);
	for (n = 0; n < ring->capacity; n++) {
		slot = lfq_slot(ring, tail + n);
		/* C: pairs with B in __vyukov_push() */
		if (smp_load_acquire(&slot->seq) != tail + n + 1)
			break;
		fn(slot->data, arg);
		/* D: pairs with A in __vyukov_push() */
		smp_store_release(&slot->seq, tail + n + ring->mask + 1);
	}
	WRITE_ONCE(hdr->tail, tail + n);
	return (long)n;
}
EXPORT_SYMBOL_NS_GPL(lfq_vyukov_drain, LFQ);

/*
 * Readable when the slot at tail holds its item, writable when the slot at
 * head is free for it: exactly when a try would not fail for lack of items
 * or space. A hint read without barriers; the caller's try decides.
 */
__poll_t lfq_vyukov_poll(struct lfq_ring *ring, int rec)
{
	struct lfq_vyukov_hdr *hdr = ring->hdr;
	struct vyukov_slot *slot;
	__poll_t mask = 0;
	u64 pos;

	pos = READ_ONCE(hdr->tail);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->seq) == pos + 1)
		mask |= EPOLLIN | EPOLLRDNORM;
	pos = READ_ONCE(hdr->head);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->seq) == pos)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void lfq_vyukov_show(struct seq_file *m, struct lfq_ring *ring)
{
	const struct lfq_vyukov_hdr *hdr = ring->hdr;

	seq_printf(m, "lfq-head:\t%llu\n", READ_ONCE(hdr->head));
	seq_printf(m, "lfq-tail:\t%llu\n", READ_ONCE(hdr->tail));
}
