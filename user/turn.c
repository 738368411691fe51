// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Turn bounded MPMC queue, userspace twin of kmod/turn.c.
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
 * Ordering (the same labels in kmod/turn.c, the models in
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
 *   (R) in lfq_turn_repair(), kmod/turn.c, stands in for a dead
 *       participant's (B) or (D), and pairs as they do.
 *   (S) in lfq_span() (internal.h), for size(), orders its tail load
 *       before its head load.
 *   (W2) pairs with (W1) in __lfq_wait(), as in user/vyukov.c.
 *
 * head and tail only hand out tickets, so taking one is relaxed: the
 * element is handed over through the slot's turn.
 *
 * Blocking push and pop take their ticket first (fetch_add) and then
 * wait for its turn, spinning and then sleeping (__lfq_wait()), as the
 * design does; they cannot give a ticket back, so they have no timeout.
 * A joined handle (lfq_ring_join()) writes its claim record around every
 * ticket, so that the module can repair the ticket if we die holding it.
 */
#include <errno.h>
#include <poll.h>

#include "internal.h"

struct turn_slot {
	u64 turn;
	u8 data[];
};

struct turn_op {
	const void *src;
	void *dst;
};

/* The turn a blocking call waits for, and the value it found. */
struct turn_wait {
	struct turn_slot *slot;
	u64 want;
	u64 turn;
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
	/* B: pairs with C in __turn_try_pop() and turn_wait_op() */
	smp_store_release(&slot->turn, turn);
	lfq_wake(ring, LFQ_NOT_EMPTY);
}

/* Give the slot of a read element to the next lap's producer. */
static void turn_release(struct lfq_ring *ring, struct turn_slot *slot, u64 turn)
{
	/* D: pairs with A in __turn_try_push() and turn_wait_op() */
	smp_store_release(&slot->turn, turn);
	lfq_wake(ring, LFQ_NOT_FULL);
}

/*
 * Tell the module what this participant holds (struct lfq_claim). It
 * reads the record only after we are gone, so program order is all it
 * needs: barrier() keeps the compiler from moving the record's stores
 * across the ticket's RMW and the turn's store around them. Whatever
 * instant we die at, the record must name no ticket we do not hold:
 * state alone moves to IDLE or PENDING, and pos is written while the
 * state still says PENDING, before the state that names it.
 */
static void turn_claim(struct lfq_ring *ring, u32 state)
{
	struct lfq_claim *c = ring->claim;

	if (!c)
		return;
	barrier();
	WRITE_ONCE(c->state, state);
	barrier();
}

static void turn_hold(struct lfq_ring *ring, u32 state, u64 pos)
{
	struct lfq_claim *c = ring->claim;

	if (!c)
		return;
	barrier();
	WRITE_ONCE(c->pos, pos);
	barrier();
	WRITE_ONCE(c->state, state);
	barrier();
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

/*
 * Is the turn a blocking call waits for there? Its ticket is taken, so
 * a turn ahead of it means somebody else wrote our slot: corruption.
 */
static int turn_wait_op(struct lfq_ring *ring, void *arg)
{
	struct turn_wait *w = arg;
	s64 dif;

	/* A, C: pair with D and B (R) for the ticket we wait with */
	w->turn = smp_load_acquire(&w->slot->turn);
	dif = turn_dif(w->turn, w->want);
	if (dif > 0)
		return lfq_ring_corrupt(ring);
	return dif < 0 ? -EAGAIN : 0;
}

/* Take the next ticket from head and wait for its turn. */
static int __turn_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_wait w;
	u64 pos;
	int ret;

	turn_claim(ring, LFQ_CLAIM_PUSH_PENDING);
	/* no barrier: head is a ticket counter, (A) orders the slot */
	pos = fetch_add_relaxed(&hdr->head, 1);
	turn_hold(ring, LFQ_CLAIM_PUSH, pos);
	w.slot = lfq_slot(ring, pos);
	w.want = turn_of(ring, pos);
	ret = __lfq_wait(ring, LFQ_NOT_FULL, turn_wait_op, &w, -1);
	if (ret) {
		turn_claim(ring, LFQ_CLAIM_IDLE);
		return ret;
	}
	ref->elem = w.slot->data;
	ref->ticket = pos;
	return 0;
}

/*
 * Take the next ticket from tail and wait for its turn; skip the tickets
 * of producers that died (their slots hold no item).
 */
static int __turn_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_wait w;
	u64 pos;
	int ret;

	for (;;) {
		turn_claim(ring, LFQ_CLAIM_POP_PENDING);
		/* no barrier: tail is a ticket counter, (C) orders the slot */
		pos = fetch_add_relaxed(&hdr->tail, 1);
		turn_hold(ring, LFQ_CLAIM_POP, pos);
		w.slot = lfq_slot(ring, pos);
		w.want = turn_of(ring, pos) + 1;
		ret = __lfq_wait(ring, LFQ_NOT_EMPTY, turn_wait_op, &w, -1);
		if (ret) {
			turn_claim(ring, LFQ_CLAIM_IDLE);
			return ret;
		}
		if (!(w.turn & LFQ_TURN_SKIPPED))
			break;
		turn_release(ring, w.slot, w.want + 1);
	}
	ref->elem = w.slot->data;
	ref->ticket = pos;
	return 0;
}

/* A try under the claim record: PENDING around the ticket's CAS. */
static int turn_try_push_claim(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret;

	turn_claim(ring, LFQ_CLAIM_PUSH_PENDING);
	ret = __turn_try_push(ring, ref);
	if (ret) {
		turn_claim(ring, LFQ_CLAIM_IDLE);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	turn_hold(ring, LFQ_CLAIM_PUSH, ref->ticket);
	return 0;
}

static int turn_try_pop_claim(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret;

	turn_claim(ring, LFQ_CLAIM_POP_PENDING);
	ret = __turn_try_pop(ring, ref);
	if (ret) {
		turn_claim(ring, LFQ_CLAIM_IDLE);
		return ret == -EBUSY ? -EAGAIN : ret;
	}
	turn_hold(ring, LFQ_CLAIM_POP, ref->ticket);
	return 0;
}

/* Publish our reservation and drop the claim. */
static void turn_push_done(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	turn_publish(ring, lfq_slot(ring, ref->ticket),
		     turn_of(ring, ref->ticket) + 1);
	turn_claim(ring, LFQ_CLAIM_IDLE);
}

static void turn_pop_done(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	turn_release(ring, lfq_slot(ring, ref->ticket),
		     turn_of(ring, ref->ticket) + 2);
	turn_claim(ring, LFQ_CLAIM_IDLE);
}

static int turn_check(const struct lfq_ring *ring, const void *p)
{
	if (!ring || ring->info.type != LFQ_RING_TURN || !p)
		return -EINVAL;
	return 0;
}

/*
 * A joined handle has one claim record, so it holds one ticket at a
 * time: it takes none while its record names one (-EBUSY), and commits
 * only the one it names.
 */
static int turn_check_take(const struct lfq_ring *ring, const void *p)
{
	int ret = turn_check(ring, p);

	if (!ret && ring->claim &&
	    READ_ONCE(ring->claim->state) != LFQ_CLAIM_IDLE)
		return -EBUSY;
	return ret;
}

static int turn_check_commit(const struct lfq_ring *ring,
			     const struct lfq_turn_ref *ref, u32 state)
{
	int ret = turn_check(ring, ref);

	if (!ret && ring->claim &&
	    (READ_ONCE(ring->claim->state) != state ||
	     READ_ONCE(ring->claim->pos) != ref->ticket))
		return -EINVAL;
	return ret;
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

int lfq_turn_try_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check_take(ring, ref);

	return ret ? ret : turn_try_push_claim(ring, ref);
}

int lfq_turn_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check_take(ring, ref);

	return ret ? ret : __turn_push_reserve(ring, ref);
}

int lfq_turn_push_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr;
	int ret = turn_check_commit(ring, ref, LFQ_CLAIM_PUSH);

	if (ret)
		return ret;
	hdr = ring->hdr;
	ret = turn_commit(ring, ref, &hdr->head, turn_of(ring, ref->ticket));
	if (ret)
		return ret;
	turn_claim(ring, LFQ_CLAIM_IDLE);
	lfq_wake(ring, LFQ_NOT_EMPTY);
	return 0;
}

int lfq_turn_try_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check_take(ring, ref);

	return ret ? ret : turn_try_pop_claim(ring, ref);
}

int lfq_turn_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref)
{
	int ret = turn_check_take(ring, ref);

	return ret ? ret : __turn_pop_reserve(ring, ref);
}

int lfq_turn_pop_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref)
{
	struct lfq_turn_hdr *hdr;
	int ret = turn_check_commit(ring, ref, LFQ_CLAIM_POP);

	if (ret)
		return ret;
	hdr = ring->hdr;
	ret = turn_commit(ring, ref, &hdr->tail, turn_of(ring, ref->ticket) + 1);
	if (ret)
		return ret;
	turn_claim(ring, LFQ_CLAIM_IDLE);
	lfq_wake(ring, LFQ_NOT_FULL);
	return 0;
}

/* The copying forms: take a ticket with reserve, copy, publish or release. */
typedef int (*turn_reserve_fn)(struct lfq_ring *ring, struct lfq_turn_ref *ref);

static int turn_push_copy(struct lfq_ring *ring, const void *elem,
			  turn_reserve_fn reserve)
{
	struct lfq_turn_ref ref;
	int ret = turn_check_take(ring, elem);

	if (!ret)
		ret = reserve(ring, &ref);
	if (ret)
		return ret;
	memcpy(ref.elem, elem, ring->elem_size);
	turn_push_done(ring, &ref);
	return 0;
}

static int turn_pop_copy(struct lfq_ring *ring, void *elem,
			 turn_reserve_fn reserve)
{
	struct lfq_turn_ref ref;
	int ret = turn_check_take(ring, elem);

	if (!ret)
		ret = reserve(ring, &ref);
	if (ret)
		return ret;
	memcpy(elem, ref.elem, ring->elem_size);
	turn_pop_done(ring, &ref);
	return 0;
}

int lfq_turn_try_push(struct lfq_ring *ring, const void *elem)
{
	return turn_push_copy(ring, elem, turn_try_push_claim);
}

int lfq_turn_push(struct lfq_ring *ring, const void *elem)
{
	return turn_push_copy(ring, elem, __turn_push_reserve);
}

int lfq_turn_try_pop(struct lfq_ring *ring, void *elem)
{
	return turn_pop_copy(ring, elem, turn_try_pop_claim);
}

int lfq_turn_pop(struct lfq_ring *ring, void *elem)
{
	return turn_pop_copy(ring, elem, __turn_pop_reserve);
}

uint64_t lfq_turn_size(const struct lfq_ring *ring)
{
	const struct lfq_turn_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}

bool lfq_turn_empty(const struct lfq_ring *ring)
{
	return lfq_turn_size(ring) == 0;
}

bool lfq_turn_full(const struct lfq_ring *ring)
{
	return lfq_turn_size(ring) == ring->capacity;
}

/*
 * Readable when the slot at tail holds its turn's item, writable when
 * the slot at head is free for its turn. A hint without barriers.
 */
short lfq_turn_poll(struct lfq_ring *ring)
{
	struct lfq_turn_hdr *hdr = ring->hdr;
	struct turn_slot *slot;
	short mask = 0;
	u64 pos;

	pos = READ_ONCE(hdr->tail);
	slot = lfq_slot(ring, pos);
	if ((READ_ONCE(slot->turn) & ~LFQ_TURN_SKIPPED) == turn_of(ring, pos) + 1)
		mask |= POLLIN;
	pos = READ_ONCE(hdr->head);
	slot = lfq_slot(ring, pos);
	if (READ_ONCE(slot->turn) == turn_of(ring, pos))
		mask |= POLLOUT;
	return mask;
}
