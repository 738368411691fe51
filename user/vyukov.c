// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Vyukov bounded MPMC queue, userspace twin of kmod/vyukov.c.
 *
 * D. Vyukov, "Bounded MPMC queue" (1024cores.net, 2011): every slot carries
 * a sequence number that says which position it is ready for, so producers
 * and consumers meet only on the slot they use and on one counter each::
 *
 *   slot of position p:  seq == p          free, a producer may claim p
 *                        seq == p + 1      holds the item of p
 *                        seq == p + cap    free again, for the next lap
 *
 * Ordering (the same labels in kmod/vyukov.c, the model in
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
#include <errno.h>
#include <poll.h>

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

/* Up to n elements; >0 pushed, -ENOSPC full or retry limit reached. */
int lfq_vyukov_try_push_burst(struct lfq_ring *ring, const void *elems,
			      unsigned int n)
{
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	ret = __vyukov_push(ring, elems, n);
	return ret == -EBUSY ? -ENOSPC : ret;
}

/* Up to n elements; >0 popped, -EAGAIN empty or retry limit reached. */
int lfq_vyukov_try_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n)
{
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	ret = __vyukov_pop(ring, elems, n);
	return ret == -EBUSY ? -EAGAIN : ret;
}

/* Waits until at least one element is pushed; returns how many (1..n). */
int lfq_vyukov_push_burst(struct lfq_ring *ring, const void *elems,
			  unsigned int n, int timeout_ms)
{
	struct vyukov_op op = { .src = elems, .n = n };
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_FULL, vyukov_push_op, &op, timeout_ms);
}

/* Waits until at least one element is popped; returns how many (1..n). */
int lfq_vyukov_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n,
			 int timeout_ms)
{
	struct vyukov_op op = { .dst = elems, .n = n };
	int ret = vyukov_check(ring, n);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, vyukov_pop_op, &op, timeout_ms);
}

int lfq_vyukov_try_push(struct lfq_ring *ring, const void *elem)
{
	int ret = lfq_vyukov_try_push_burst(ring, elem, 1);

	return ret < 0 ? ret : 0;
}

int lfq_vyukov_try_pop(struct lfq_ring *ring, void *elem)
{
	int ret = lfq_vyukov_try_pop_burst(ring, elem, 1);

	return ret < 0 ? ret : 0;
}

int lfq_vyukov_push(struct lfq_ring *ring, const void *elem, int timeout_ms)
{
	int ret = lfq_vyukov_push_burst(ring, elem, 1, timeout_ms);

	return ret < 0 ? ret : 0;
}

int lfq_vyukov_pop(struct lfq_ring *ring, void *elem, int timeout_ms)
{
	int ret = lfq_vyukov_pop_burst(ring, elem, 1, timeout_ms);

	return ret < 0 ? ret : 0;
}

/*
 * Items between tail and head, claimed-but-unpublished ones included.
 * Exact when the ring is quiet, a snapshot otherwise.
 */
uint64_t lfq_vyukov_size(const struct lfq_ring *ring)
{
	const struct lfq_vyukov_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}

bool lfq_vyukov_empty(const struct lfq_ring *ring)
{
	return lfq_vyukov_size(ring) == 0;
}

bool lfq_vyukov_full(const struct lfq_ring *ring)
{
	return lfq_vyukov_size(ring) == ring->capacity;
}

/*
 * Hand every remaining item, oldest first, to fn in place, then free its
 * slot. Single-threaded: for shutdown, when no producer or consumer runs,
 * so tail is written without a CAS. Bounded by the capacity.
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

/*
 * Readable when the slot at tail holds its item, writable when the slot at
 * head is free for it: exactly when a try would not fail for lack of items
 * or space. A hint read without barriers; the caller's try decides.
 */
short lfq_vyukov_poll(struct lfq_ring *ring)
{
	struct lfq_vyukov_hdr *hdr = ring->hdr;
	struct vyukov_slot *slot;
	short mask = 0;
	u64 pos;

	pos = READ_ONCE(hdr->tail);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->seq) == pos + 1)
		mask |= POLLIN | POLLRDNORM;
	pos = READ_ONCE(hdr->head);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->seq) == pos)
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}
