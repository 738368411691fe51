// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: Turn bounded MPMC queue
 *
 * Kernel twin of user/turn.c: the same functions and labels, except for
 * how blocking calls wait (below).
 *
 * E. Rigtorp's MPMCQueue: producers and consumers take tickets from head
 * and tail; ticket t uses the slot t & mask in lap t / capacity, and the
 * slot's turn says whose go it is::
 *
 *   turn == 2 * lap          the producer of t may write
 *   turn == 2 * lap + 1      the consumer of t may read; with
 *                            LFQ_TURN_SKIPPED it holds no item
 *   turn == 2 * lap + 2      the producer of t + capacity may write
 *
 * Ordering (the same labels in user/turn.c, the models in
 * selftests/model/turn*.pml, and Documentation/turn.rst)::
 *
 *   producer                              consumer
 *   t = ticket from head     (relaxed)    t = ticket from tail     (relaxed)
 *   (A) turn = acquire(slot.turn)         (C) turn = acquire(slot.turn)
 *       ready if turn == 2 * lap              ready if turn == 2 * lap + 1
 *   write the element                     read the element
 *   (B) release(slot.turn, 2 * lap + 1)   (D) release(slot.turn, 2 * lap + 2)
 *   (W2) smp_mb, load not_empty.waiters   (W2) smp_mb, load not_full.waiters
 *
 * Pairs::
 *
 *   (A) pairs with (D): a producer overwrites a slot only after the
 *       consumer of the previous lap has finished reading it.
 *   (B) pairs with (C): a consumer reads an element only after its
 *       producer has finished writing it.
 *   (R) in lfq_turn_repair() stands in for a dead participant's (B) or
 *       (D), and pairs as they do.
 *   (S) in lfq_span() (internal.h), for size(), orders its tail load
 *       before its head load.
 *   (W2) pairs with (W1) in __lfq_wait(), as in kmod/vyukov.c.
 *
 * head and tail only hand out tickets, so taking one is relaxed: the
 * element is handed over through the slot's turn.
 *
 * Progress: a participant that stalls between its ticket and its publish
 * stalls the holders of later tickets on that slot. A try may therefore
 * fail while the ring is neither full nor empty: the slot at head (tail)
 * still holds the previous lap's item (is still being written).
 *
 * Tickets and the kernel: userspace's blocking push and pop take their
 * ticket first (fetch_add) and then wait for its turn, as the design
 * does. The kernel never holds a ticket while it sleeps: its blocking
 * calls wait in __lfq_wait() for the try form to succeed, and a try only
 * takes a ticket whose slot is ready. A user that stalls can delay a
 * kernel push or pop up to its timeout, but can never leave the kernel
 * holding a ticket it would have to abandon.
 */
#include <linux/export.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

struct turn_slot {
	u64 turn;
	u8 data[];
};

struct turn_op {
	const void *src;
	void *dst;
};

/* 2 * lap of ticket pos: the turn at which its producer may write. */
static u64 turn_of(const struct lfq_ring *ring, u64 pos)
{
	return (pos >> ring->order) << 1;
}

/*
 * How far turn is past want, the skip bit aside. LFQ_TURN_SKIPPED is only
 * ever set on a consumer's (odd) turn: on a producer's it is corruption,
 * and counts as ahead.
 */
static s64 turn_dif(u64 turn, u64 want)
{
	if ((turn & LFQ_TURN_SKIPPED) && !(turn & 1))
		return S64_MAX;
	return (s64)((turn & ~LFQ_TURN_SKIPPED) - want);
}

/* Give the slot of a written element to its consumer. */
static void turn_publish(struct lfq_ring *ring, struct turn_slot *slot, u64 turn)
{
	/* B: pairs with C in __turn_try_pop() and user/turn.c */
	smp_store_release(&slot->turn, turn);
	lfq_wake(ring, LFQ_NOT_EMPTY);
}

/* Give the slot of a read element to the next lap's producer. */
static void turn_release(struct lfq_ring *ring, struct turn_slot *slot, u64 turn)
{
	/* D: pairs with A in __turn_try_push() and user/turn.c */
	smp_store_release(&slot->turn, turn);
	lfq_wake(ring, LFQ_NOT_FULL);
}

/*
 * Take the ticket at head if its slot is free for it. A turn ahead of
 * that ticket while head stands still is impossible: nobody has written
 * the ticket's slot yet.
 */
static int __turn_try_push(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_slot *slot;
	unsigned int retries;
	u64 pos, prev, turn;

	/* no barrier: head is a ticket counter, (A) orders the slot */
	pos = READ_ONCE(hdr->head);
	for (retries = 0; retries < LFQ_TRY_RETRIES; retries++) {
		slot = lfq_slot(ring, pos);
		/* A: pairs with D in turn_release() and R in lfq_turn_repair() */
		turn = smp_load_acquire(&slot->turn);
		if (turn == turn_of(ring, pos)) {
			/* on failure pos is the current head: retry from there */
			if (try_cmpxchg_relaxed(&hdr->head, &pos, pos + 1))
				goto claimed;
			continue;
		}
		prev = pos;
		pos = READ_ONCE(hdr->head);
		if (pos != prev)
			continue;
		if (turn_dif(turn, turn_of(ring, pos)) > 0)
			return lfq_ring_corrupt(ring);
		return -ENOSPC;
	}
	return -EBUSY;

claimed:
	ref->elem = slot->data;
	ref->ticket = pos;
	return 0;
}

/*
 * Take the ticket at tail if its slot holds its item. A skipped ticket
 * (its producer died) is released and the search goes on.
 */
static int __turn_try_pop(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_slot *slot;
	unsigned int retries;
	u64 pos, prev, turn;
	s64 dif;

	/* no barrier: tail is a ticket counter, (C) orders the slot */
	pos = READ_ONCE(hdr->tail);
	for (retries = 0; retries < LFQ_TRY_RETRIES; retries++) {
		slot = lfq_slot(ring, pos);
		/* C: pairs with B in turn_publish() and R in lfq_turn_repair() */
		turn = smp_load_acquire(&slot->turn);
		dif = turn_dif(turn, turn_of(ring, pos) + 1);
		if (dif == 0) {
			if (!try_cmpxchg_relaxed(&hdr->tail, &pos, pos + 1))
				continue;
			if (!(turn & LFQ_TURN_SKIPPED))
				goto claimed;
			turn_release(ring, slot, turn_of(ring, pos) + 2);
			pos++;
			continue;
		}
		prev = pos;
		pos = READ_ONCE(hdr->tail);
		if (pos != prev)
			continue;
		return dif > 0 ? lfq_ring_corrupt(ring) : -EAGAIN;
	}
	return -EBUSY;

claimed:
	ref->elem = slot->data;
	ref->ticket = pos;
	return 0;
}

static int turn_push_op(struct lfq_ring *ring, void *arg)
{
	struct turn_op *op = arg;
	struct lfq_turn_ref ref;
	int ret = __turn_try_push(ring, &ref);

	if (ret)
		return ret;
	memcpy(ref.elem, op->src, ring->elem_size);
	turn_publish(ring, lfq_slot(ring, ref.ticket),
		     turn_of(ring, ref.ticket) + 1);
	return 0;
}

static int turn_pop_op(struct lfq_ring *ring, void *arg)
{
	struct turn_op *op = arg;
	struct lfq_turn_ref ref;
	int ret = __turn_try_pop(ring, &ref);

	if (ret)
		return ret;
	memcpy(op->dst, ref.elem, ring->elem_size);
	turn_release(ring, lfq_slot(ring, ref.ticket),
		     turn_of(ring, ref.ticket) + 2);
	return 0;
}

static int turn_push_reserve_op(struct lfq_ring *ring, void *arg)
{
	return __turn_try_push(ring, arg);
}

static int turn_pop_reserve_op(struct lfq_ring *ring, void *arg)
{
	return __turn_try_pop(ring, arg);
}

static int turn_check(const struct lfq_ring *ring, const void *p, long timeout)
{
	if (!ring || ring->info.type != LFQ_RING_TURN || !p || timeout < 0)
		return -EINVAL;
	return 0;
}

/*
 * Commit a reservation: move its slot's turn from turn to turn + 1, if
 * the ring handed it out (its ticket is below counter, head or tail) and
 * it still waits for its commit. -EINVAL otherwise.
 */
static int turn_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref,
		       const __u64 *counter, u64 turn)
{
	struct turn_slot *slot = lfq_slot(ring, ref->ticket);

	if (ref->elem != slot->data ||
	    (s64)(READ_ONCE(*counter) - ref->ticket) <= 0)
		return -EINVAL;
	/*
	 * B (push) or D (pop), pairing as in turn_publish() and
	 * turn_release(): a CAS, so that of two racing commits of one
	 * reservation only one moves the turn.
	 */
	if (!try_cmpxchg_release(&slot->turn, &turn, turn + 1))
		return -EINVAL;
	return 0;
}

/**
 * lfq_turn_try_push() - push one element without waiting
 * @ring: a LFQ_RING_TURN ring
 * @elem: the element, of the ring's element size
 *
 * Context: any context; never sleeps.
 * Return: 0, -ENOSPC if the slot at head is not free (the ring is full,
 * or the previous lap's consumer has not finished with it) or
 * LFQ_TRY_RETRIES races were lost, -EIO if the shared ring is corrupt,
 * -EINVAL if @ring is not a turn ring.
 */
int lfq_turn_try_push(struct lfq_ring *ring, const void *elem)
{
	struct turn_op op = { .src = elem };
	int ret = turn_check(ring, elem, 0);

	if (ret)
		return ret;
	ret = turn_push_op(ring, &op);
	return ret == -EBUSY ? -ENOSPC : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_try_push, LFQ);

/**
 * lfq_turn_push() - push one element, waiting for space
 * @ring: a LFQ_RING_TURN ring
 * @elem: the element, of the ring's element size
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Waits for lfq_turn_try_push() to succeed: spins briefly, then sleeps
 * interruptibly. Unlike userspace's lfq_turn_push(), it holds no ticket
 * while it waits, so it can give up without leaving a hole in the ring.
 *
 * Context: process context; may sleep.
 * Return: 0, -ETIMEDOUT, -EINTR on a signal or kthread_stop(), -EIO if
 * the shared ring is corrupt, -EINVAL (also for a negative @timeout).
 */
int lfq_turn_push(struct lfq_ring *ring, const void *elem, long timeout)
{
	struct turn_op op = { .src = elem };
	int ret = turn_check(ring, elem, timeout);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_FULL, turn_push_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_push, LFQ);

/**
 * lfq_turn_try_pop() - pop one element without waiting
 * @ring: a LFQ_RING_TURN ring
 * @elem: room for one element of the ring's element size
 *
 * Skipped tickets (of producers that died) are released on the way.
 *
 * Context: any context; never sleeps.
 * Return: 0, -EAGAIN if the slot at tail holds no item yet (the ring is
 * empty, or its producer has not finished) or LFQ_TRY_RETRIES races were
 * lost, -EIO if the shared ring is corrupt, -EINVAL if @ring is not a
 * turn ring.
 */
int lfq_turn_try_pop(struct lfq_ring *ring, void *elem)
{
	struct turn_op op = { .dst = elem };
	int ret = turn_check(ring, elem, 0);

	if (ret)
		return ret;
	ret = turn_pop_op(ring, &op);
	return ret == -EBUSY ? -EAGAIN : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_try_pop, LFQ);

/**
 * lfq_turn_pop() - pop one element, waiting for one
 * @ring: a LFQ_RING_TURN ring
 * @elem: room for one element of the ring's element size
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Waits for lfq_turn_try_pop() to succeed, holding no ticket meanwhile.
 *
 * Context: process context; may sleep.
 * Return: 0, -ETIMEDOUT, -EINTR on a signal or kthread_stop(), -EIO if
 * the shared ring is corrupt, -EINVAL (also for a negative @timeout).
 */
int lfq_turn_pop(struct lfq_ring *ring, void *elem, long timeout)
{
	struct turn_op op = { .dst = elem };
	int ret = turn_check(ring, elem, timeout);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, turn_pop_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_pop, LFQ);

/**
 * lfq_turn_try_push_reserve() - take a free slot to write in place
 * @ring: a LFQ_RING_TURN ring
 * @ref: filled with the slot's element and ticket
 *
 * Write the element through @ref->elem, then lfq_turn_push_commit().
 * Until then the ticket holds up the consumer of its slot (and, a lap
 * later, producers): commit soon, and never sleep in between on a ring
 * that userspace shares.
 *
 * Context: any context; never sleeps.
 * Return: 0, or as lfq_turn_try_push().
 */
int lfq_turn_try_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check(ring, ref, 0);

	if (ret)
		return ret;
	ret = __turn_try_push(ring, ref);
	return ret == -EBUSY ? -ENOSPC : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_try_push_reserve, LFQ);

/**
 * lfq_turn_push_reserve() - take a free slot to write in place, waiting
 * @ring: a LFQ_RING_TURN ring
 * @ref: filled with the slot's element and ticket
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context; may sleep.
 * Return: 0, or as lfq_turn_push().
 */
int lfq_turn_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref,
			  long timeout)
{
	int ret = turn_check(ring, ref, timeout);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_FULL, turn_push_reserve_op, ref,
			  timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_push_reserve, LFQ);

/**
 * lfq_turn_push_commit() - publish an element written in place
 * @ring: a LFQ_RING_TURN ring
 * @ref: from lfq_turn_push_reserve() or lfq_turn_try_push_reserve()
 *
 * Context: any context; never sleeps.
 * Return: 0, or -EINVAL if @ref is not a reservation of @ring waiting
 * for its commit (committed already, a ticket never handed out, or its
 * slot was scribbled).
 */
int lfq_turn_push_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr;
	int ret;

	if (turn_check(ring, ref, 0))
		return -EINVAL;
	hdr = ring->hdr;
	ret = turn_commit(ring, ref, &hdr->head, turn_of(ring, ref->ticket));
	if (!ret)
		lfq_wake(ring, LFQ_NOT_EMPTY);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_push_commit, LFQ);

/**
 * lfq_turn_try_pop_reserve() - take the next item to read in place
 * @ring: a LFQ_RING_TURN ring
 * @ref: filled with the slot's element and ticket
 *
 * Read the element through @ref->elem, then lfq_turn_pop_commit() gives
 * the slot back.
 *
 * Context: any context; never sleeps.
 * Return: 0, or as lfq_turn_try_pop().
 */
int lfq_turn_try_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check(ring, ref, 0);

	if (ret)
		return ret;
	ret = __turn_try_pop(ring, ref);
	return ret == -EBUSY ? -EAGAIN : ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_try_pop_reserve, LFQ);

/**
 * lfq_turn_pop_reserve() - take the next item to read in place, waiting
 * @ring: a LFQ_RING_TURN ring
 * @ref: filled with the slot's element and ticket
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context; may sleep.
 * Return: 0, or as lfq_turn_pop().
 */
int lfq_turn_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref,
			 long timeout)
{
	int ret = turn_check(ring, ref, timeout);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, turn_pop_reserve_op, ref,
			  timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_pop_reserve, LFQ);

/**
 * lfq_turn_pop_commit() - give back the slot of an item read in place
 * @ring: a LFQ_RING_TURN ring
 * @ref: from lfq_turn_pop_reserve() or lfq_turn_try_pop_reserve()
 *
 * Context: any context; never sleeps.
 * Return: 0, or -EINVAL if @ref is not a reservation of @ring waiting
 * for its commit.
 */
int lfq_turn_pop_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr;
	int ret;

	if (turn_check(ring, ref, 0))
		return -EINVAL;
	hdr = ring->hdr;
	ret = turn_commit(ring, ref, &hdr->tail, turn_of(ring, ref->ticket) + 1);
	if (!ret)
		lfq_wake(ring, LFQ_NOT_FULL);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_pop_commit, LFQ);

/**
 * lfq_turn_size() - number of items in the ring
 * @ring: a LFQ_RING_TURN ring
 *
 * Tickets between tail and head, clamped to 0..capacity: producers and
 * consumers that took a ticket and wait for its turn are counted too.
 * Exact when the ring is quiet, a snapshot otherwise.
 *
 * Context: any context.
 * Return: 0..capacity.
 */
u64 lfq_turn_size(const struct lfq_ring *ring)
{
	const struct lfq_turn_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_size, LFQ);

/**
 * lfq_turn_empty() - whether lfq_turn_size() is 0
 * @ring: a LFQ_RING_TURN ring
 *
 * Context: any context.
 * Return: true if empty.
 */
bool lfq_turn_empty(const struct lfq_ring *ring)
{
	return lfq_turn_size(ring) == 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_empty, LFQ);

/**
 * lfq_turn_full() - whether lfq_turn_size() is the capacity
 * @ring: a LFQ_RING_TURN ring
 *
 * Context: any context.
 * Return: true if full.
 */
bool lfq_turn_full(const struct lfq_ring *ring)
{
	return lfq_turn_size(ring) == ring->capacity;
}
EXPORT_SYMBOL_NS_GPL(lfq_turn_full, LFQ);

/*
 * Repair the ticket that the dead owner of claim record id held
 * (LFQ_CLAIM_PUSH or LFQ_CLAIM_POP): once its slot comes to its turn, do
 * what the participant would have done. A producer's slot becomes a
 * skipped item; a consumer's item is released unread. -EAGAIN while the
 * slot is not there yet, 0 when done or when the participant had
 * finished after all (the slot moved on), -EIO for a ticket that was
 * never handed out.
 */
int lfq_turn_repair(struct lfq_ring *ring, unsigned int id)
{
	u32 claim = ring->recs[id].claim;
	u64 pos = ring->recs[id].pos;
	struct lfq_turn_hdr *hdr = ring->hdr;
	const __u64 *counter = claim == LFQ_CLAIM_POP ? &hdr->tail : &hdr->head;
	struct turn_slot *slot = lfq_slot(ring, pos);
	u64 want = turn_of(ring, pos) + (claim == LFQ_CLAIM_POP);
	u64 turn;
	s64 dif;

	/* a ticket nobody has taken yet cannot be held: a scribbled record */
	if ((s64)(READ_ONCE(*counter) - pos) <= 0)
		return lfq_ring_corrupt(ring);
	turn = READ_ONCE(slot->turn);
	dif = turn_dif(turn, want);
	if (dif < 0)
		return -EAGAIN;
	if (dif > 0)
		return 0;
	/* the slot waits for the dead one: nobody else writes its turn */
	if (claim == LFQ_CLAIM_PUSH) {
		/* R: pairs with C, as B would */
		smp_store_release(&slot->turn, (want + 1) | LFQ_TURN_SKIPPED);
		lfq_ring_count(ring, &ring->desc->skipped);
		lfq_wake(ring, LFQ_NOT_EMPTY);
		return 0;
	}
	if (!(turn & LFQ_TURN_SKIPPED))
		lfq_ring_count(ring, &ring->desc->dropped);
	/* R: pairs with A, as D would */
	turn_release(ring, slot, want + 1);
	return 0;
}

/*
 * Readable when the slot at tail holds its turn's item, writable when
 * the slot at head is free for its turn. A hint without barriers.
 */
__poll_t lfq_turn_poll(struct lfq_ring *ring, int rec)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_slot *slot;
	__poll_t mask = 0;
	u64 pos;

	pos = READ_ONCE(hdr->tail);
	slot = lfq_slot(ring, pos);
	if ((READ_ONCE(slot->turn) & ~LFQ_TURN_SKIPPED) == turn_of(ring, pos) + 1)
		mask |= EPOLLIN | EPOLLRDNORM;
	pos = READ_ONCE(hdr->head);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->turn) == turn_of(ring, pos))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void lfq_turn_show(struct seq_file *m, struct lfq_ring *ring)
{
	const struct lfq_turn_hdr *hdr = ring->hdr;

	seq_printf(m, "lfq-head:\t%llu\n", READ_ONCE(hdr->head));
	seq_printf(m, "lfq-tail:\t%llu\n", READ_ONCE(hdr->tail));
}
