// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Sequencer, userspace twin of kmod/sequencer.c: the same functions and
 * labels, plus barriers taken without the module on heap and memfd
 * rings. A
 * sequencer coordinates producers and any number of consumers over a
 * ring of slots, as the LMAX Disruptor does: the producer claims
 * sequences, writes their slots in place and publishes them; each
 * consumer waits for a sequence, reads every slot up to the last one
 * available (a batch), and publishes the last sequence it has finished
 * in its own barrier (struct lfq_seq_barrier). Every consumer sees every
 * item (multicast). A consumer may follow another consumer's barrier
 * instead of the producer: a pipeline stage sees only what the stage
 * before it has finished.
 *
 * Sequences are 64-bit, compared by signed difference, and start at 0;
 * LFQ_SEQ_INITIAL ("one before zero") is where cursor and a barrier
 * joined before the first publish stand.
 *
 * LFQ_SEQ_SINGLE: one producer; publishing s publishes every sequence
 * up to s by moving hdr->cursor. LFQ_SEQ_MULTI: producers claim with a
 * CAS on hdr->head and publish each slot's marker; consumers see the
 * highest sequence up to which every marker is published.
 *
 * The producers never claim s while an active barrier stands before
 * s - capacity. They keep a lower bound of the barriers in hdr->gate
 * and look at the barriers only when the bound stops them (seq_scan()).
 *
 * Ordering (the same labels in user/sequencer.c, the model in
 * selftests/model/sequencer.pml and Documentation/sequencer.rst)::
 *
 *   producer                           consumer
 *   (C) gate = acquire(hdr->gate)      (A) acquire(cursor, marker or the
 *       if short: seq_scan():              followed barrier): available
 *       (G) smp_mb, then acquire of    read the slots up to it
 *           every barrier, and         (B) release(barrier->seq, s)
 *       (C) release(hdr->gate, min)    (W2) smp_mb, waiters of both
 *   (L) MULTI: acquire of the marker       directions
 *       a lap before each slot
 *   claim: head += n
 *   write the slots
 *   (P) release(cursor or markers)     joining consumer
 *   (W2) smp_mb, waiters               state = JOINING, seq = top
 *                                      (J) smp_mb, then top again:
 *                                          seq = top, state = ACTIVE
 *
 * Pairs::
 *
 *   (P) pairs with (A): a slot is read only after it was written, and
 *       with (L): a MULTI slot is written again only after the
 *       sequence a lap before is published.
 *   (B) pairs with the acquire loads in (G), and (C) hands them on to
 *       the producers that use the cached gate: a slot is written again
 *       only after every consumer has finished reading it.
 *   (G) pairs with (J): a scan that misses a joining barrier ran before
 *       the joiner's smp_mb, so the joiner reads a top at least the one
 *       the scan bounded the gate with, and starts after it.
 *   (W2) pairs with (W1) in __lfq_wait() and the poll path: a sleeper
 *       that announced itself before the publish is woken; a waker that
 *       finds no sleeper makes no syscall (the need-wakeup flag).
 *
 * Nothing here trusts the shared words: a barrier ahead of the
 * producers or more than a ring behind them is counted as corrupt and
 * clamped, every index is masked, and every loop is bounded.
 */
#include <errno.h>
#include <poll.h>

#include "internal.h"

#define min(a, b)	((a) < (b) ? (a) : (b))

struct seq_claim_op {
	u32 n;
	u64 *first;
};

struct seq_wait_op {
	struct lfq_seq_consumer *c;
	u64 seq;
	u64 *avail;
};

static struct lfq_seq_barrier *seq_barrier(const struct lfq_ring *ring,
					   u32 id)
{
	return (struct lfq_seq_barrier *)((u8 *)ring->hdr +
					  ring->info.claims_off) + id;
}

static u64 *seq_marker(const struct lfq_ring *ring, u64 seq)
{
	return lfq_slot(ring, seq);
}

static bool seq_multi(const struct lfq_ring *ring)
{
	return ring->info.policy == LFQ_SEQ_MULTI;
}

/*
 * The highest sequence a barrier may stand at: the cursor (SINGLE), or
 * the last sequence claimed (MULTI), for a head the caller read.
 */
static u64 seq_top(const struct lfq_ring *ring, u64 head)
{
	struct lfq_seq_hdr *hdr = ring->hdr;

	if (seq_multi(ring))
		return head - 1;
	return READ_ONCE(hdr->cursor);
}

/*
 * The slowest barrier, bounded by top. An active barrier more than a
 * ring behind top is corrupt, and so, for the producer of a SINGLE ring
 * (whose top is its own cursor), is an active one ahead of top:
 * counted, and clamped so that the ring goes on. A bad state is counted
 * and skipped. Others (MULTI producers, pollers) read a top that may be
 * older than the barriers, and clamp silently.
 */
static u64 seq_slowest(struct lfq_ring *ring, u64 top, bool producer)
{
	u64 min = top;
	u32 i;

	for (i = 0; i < ring->info.nr_claims; i++) {
		struct lfq_seq_barrier *b = seq_barrier(ring, i);
		u32 state = smp_load_acquire(&b->state);
		u64 seq;

		if (state == LFQ_SEQ_FREE)
			continue;
		/* G: pairs with B in seq_done() */
		seq = smp_load_acquire(&b->seq);
		if (state != LFQ_SEQ_JOINING && state != LFQ_SEQ_ACTIVE) {
			lfq_ring_corrupt(ring);
			continue;
		}
		if ((s64)(seq - top) > 0) {
			/* a JOINING seq may be its last owner's, or zero */
			if (producer && !seq_multi(ring) &&
			    state == LFQ_SEQ_ACTIVE)
				lfq_ring_corrupt(ring);
			seq = top;
		} else if (state == LFQ_SEQ_ACTIVE &&
			   (s64)(top - seq) > (s64)ring->capacity) {
			lfq_ring_corrupt(ring);
			seq = top - ring->capacity;
		}
		if ((s64)(seq - min) < 0)
			min = seq;
	}
	return min;
}

/* The producers' look at the barriers: store their minimum as the gate. */
static u64 seq_scan(struct lfq_ring *ring, u64 head)
{
	struct lfq_seq_hdr *hdr = ring->hdr;
	u64 min;

	/*
	 * G: pairs with J in seq_activate(): our top was read or stored
	 * before this barrier, so a joiner that we miss reads a top at
	 * least ours after its own, and starts after the gate we store.
	 */
	smp_mb();
	min = seq_slowest(ring, seq_top(ring, head), true);
	/* C: pairs with C in seq_try_claim(), handing on G */
	smp_store_release(&hdr->gate, min);
	return min;
}

/* Sequences claimable from head, for a gate: 0..capacity. */
static u32 seq_room(const struct lfq_ring *ring, u64 head, u64 gate)
{
	s64 room = (s64)(gate + ring->capacity - (head - 1));

	if (room <= 0)
		return 0;
	return room > ring->capacity ? ring->capacity : (u32)room;
}

/*
 * MULTI: how many of the room sequences from head have a slot that the
 * sequence a lap before has left. Barriers keep producers off slots
 * that consumers have not finished, but not off one whose producer has
 * yet to publish: with no consumer that gates it (none, or only ones
 * that joined later), a producer could otherwise lap a slower one.
 */
static u32 seq_unlapped(const struct lfq_ring *ring, u64 head, u32 room)
{
	u64 prev;
	u32 i;

	for (i = 0; i < room; i++) {
		if (head + i < ring->capacity)
			continue;
		prev = head + i - ring->capacity;
		/* L: pairs with P in seq_publish(): we write after its writer */
		if (smp_load_acquire(seq_marker(ring, prev)) != prev + 1)
			break;
	}
	return i;
}

/* Claim 1..n sequences from head: how many, or -ENOSPC, -EBUSY. */
static int seq_try_claim(struct lfq_ring *ring, u32 n, u64 *first)
{
	struct lfq_seq_hdr *hdr = ring->hdr;
	u64 head = READ_ONCE(hdr->head);
	unsigned int tries;
	u32 room;

	for (tries = 0; tries < LFQ_TRY_RETRIES; tries++) {
		/* C: pairs with C in seq_scan() */
		room = seq_room(ring, head, smp_load_acquire(&hdr->gate));
		if (room < n)
			room = seq_room(ring, head, seq_scan(ring, head));
		if (!room)
			return -ENOSPC;
		room = min(room, n);
		if (!seq_multi(ring)) {
			WRITE_ONCE(hdr->head, head + room);
			*first = head;
			return room;
		}
		/* a producer a lap behind is about to publish: a lost race */
		room = seq_unlapped(ring, head, room);
		if (room && try_cmpxchg_relaxed(&hdr->head, &head, head + room)) {
			*first = head;
			return room;
		}
		if (!room)
			head = READ_ONCE(hdr->head);
	}
	return -EBUSY;
}

/*
 * Publish first..last, claimed and not yet published: SINGLE in order
 * (first right after the cursor), MULTI any claimed range of at most a
 * ring. A range that breaks the rules is -EINVAL and changes nothing.
 */
static int seq_publish(struct lfq_ring *ring, u64 first, u64 last)
{
	struct lfq_seq_hdr *hdr = ring->hdr;
	u64 head = READ_ONCE(hdr->head);
	u64 seq;

	if ((s64)(last - first) < 0 || (s64)(head - 1 - last) < 0)
		return -EINVAL;
	if (!seq_multi(ring)) {
		if (first != READ_ONCE(hdr->cursor) + 1)
			return -EINVAL;
		/* P: pairs with A in seq_available() */
		smp_store_release(&hdr->cursor, last);
	} else {
		if ((s64)(head - first) > (s64)ring->capacity)
			return -EINVAL;
		for (seq = first; seq != last + 1; seq++)
			if (READ_ONCE(*seq_marker(ring, seq)) == seq + 1)
				return -EINVAL;
		for (seq = first; seq != last + 1; seq++)
			/* P: pairs with A in seq_available() */
			smp_store_release(seq_marker(ring, seq), seq + 1);
	}
	/* W2, in lfq_wake(): pairs with W1 in __lfq_wait() and the poll path */
	lfq_wake(ring, LFQ_NOT_EMPTY);
	return 0;
}

/*
 * The last sequence available to a consumer that follows follows (of
 * generation gen) and has everything up to from - 1: from - 1 if nothing
 * more, never more than limit. -EPIPE if the consumer it follows has
 * left, even if its barrier has been taken again since.
 */
static int seq_available(struct lfq_ring *ring, u32 follows, u32 gen,
			 u64 from, u64 limit, u64 *avail)
{
	struct lfq_seq_hdr *hdr = ring->hdr;
	struct lfq_seq_barrier *b;
	u64 seq;

	if (follows != LFQ_SEQ_PRODUCER) {
		b = seq_barrier(ring, follows);
		if (smp_load_acquire(&b->gen) != gen)
			return -EPIPE;
		/* A: pairs with B in seq_done(), and with V in seq_activate() */
		seq = smp_load_acquire(&b->seq);
		/* seq was still that consumer's if it is still there, after */
		if (smp_load_acquire(&b->state) != LFQ_SEQ_ACTIVE ||
		    READ_ONCE(b->gen) != gen)
			return -EPIPE;
	} else if (!seq_multi(ring)) {
		/* A: pairs with P in seq_publish() */
		seq = smp_load_acquire(&hdr->cursor);
	} else {
		/* A: pairs with P in seq_publish(), one marker at a time */
		for (seq = from; seq != limit + 1; seq++)
			if (smp_load_acquire(seq_marker(ring, seq)) != seq + 1)
				break;
		seq--;
	}
	if ((s64)(seq - limit) > 0) {
		/* ahead of what its producer or stage may have: corrupt */
		lfq_ring_corrupt(ring);
		seq = limit;
	}
	*avail = (s64)(seq - (from - 1)) < 0 ? from - 1 : seq;
	return 0;
}

static int seq_try_wait(struct lfq_ring *ring, struct lfq_seq_consumer *c,
			u64 seq, u64 *avail)
{
	u64 got;
	int ret;

	if ((s64)(c->avail - seq) >= 0) {
		*avail = c->avail;
		return 0;
	}
	ret = seq_available(ring, c->follows, c->follows_gen, c->avail + 1,
			    c->seq + ring->capacity, &got);
	if (ret)
		return ret;
	c->avail = got;
	if ((s64)(got - seq) < 0)
		return -EAGAIN;
	*avail = got;
	return 0;
}

/* The consumer has finished every sequence up to seq. */
static void seq_done(struct lfq_seq_consumer *c, u64 seq)
{
	struct lfq_ring *ring = c->ring;

	c->seq = seq;
	/* B: pairs with G in seq_scan() and A in seq_available() */
	smp_store_release(&seq_barrier(ring, c->id)->seq, seq);
	/* W2, in lfq_wake_all(): producers, and consumers that follow us */
	lfq_wake_all(ring);
}

/*
 * Make barrier id, ours, a consumer's that follows follows (of
 * generation gen) and starts after the top it reads: the last sequence
 * published (SINGLE) or claimed (MULTI) when it joined.
 */
static u64 seq_activate(struct lfq_ring *ring, u32 id, u32 follows, u32 gen)
{
	struct lfq_seq_hdr *hdr = ring->hdr;
	struct lfq_seq_barrier *b = seq_barrier(ring, id);
	u64 top;

	/* ours now: followers of the one before us must see that first */
	WRITE_ONCE(b->gen, READ_ONCE(b->gen) + 1);
	WRITE_ONCE(b->follows, follows);
	WRITE_ONCE(b->follows_gen, gen);
	/*
	 * V: pairs with A in seq_available(): a follower that reads this
	 * seq sees our gen. Provisional, but a bound already: tops only grow.
	 */
	smp_store_release(&b->seq, seq_top(ring, READ_ONCE(hdr->head)));
	smp_store_release(&b->state, LFQ_SEQ_JOINING);
	/* J: pairs with G in seq_scan() */
	smp_mb();
	top = seq_top(ring, READ_ONCE(hdr->head));
	smp_store_release(&b->seq, top);
	smp_store_release(&b->state, LFQ_SEQ_ACTIVE);
	/* the provisional seq may have held a producer back */
	lfq_wake(ring, LFQ_NOT_FULL);
	return top;
}

/*
 * The owner of barrier id is gone (lfq_seq_leave()): free the barrier,
 * so that it holds nobody back.
 */
static void lfq_seq_leave_rec(struct lfq_ring *ring, unsigned int id)
{
	smp_store_release(&seq_barrier(ring, id)->state, LFQ_SEQ_FREE);
	/* W2, in lfq_wake_all(): producers, and followers, who get -EPIPE */
	lfq_wake_all(ring);
}

/* Our barrier's index: that of our claim record on /dev/lfq rings. */
static int seq_id(const struct lfq_ring *ring)
{
	return (int)((struct lfq_seq_barrier *)ring->claim - seq_barrier(ring, 0));
}

/*
 * Take a barrier: on a /dev/lfq ring the claim record of a joined ring
 * fd, which the module frees when the fd goes, however this process
 * ends; on other rings any free one, by CAS.
 */
static int seq_take(struct lfq_ring *ring)
{
	u32 i, free;
	int ret;

	if (ring->mem == LFQ_MEM_DEV) {
		ret = lfq_ring_join(ring);
		return ret ? ret : seq_id(ring);
	}
	for (i = 0; i < ring->info.nr_claims; i++) {
		free = LFQ_SEQ_FREE;
		/* no partner: seq_activate() orders what follows */
		if (try_cmpxchg_relaxed(&seq_barrier(ring, i)->state, &free,
					LFQ_SEQ_JOINING))
			return i;
	}
	return -EBUSY;
}

static int seq_claim_op(struct lfq_ring *ring, void *arg)
{
	struct seq_claim_op *op = arg;

	return seq_try_claim(ring, op->n, op->first);
}

static int seq_wait_op(struct lfq_ring *ring, void *arg)
{
	struct seq_wait_op *op = arg;

	return seq_try_wait(ring, op->c, op->seq, op->avail);
}

static int seq_check(const struct lfq_ring *ring)
{
	if (!ring || ring->info.type != LFQ_RING_SEQ)
		return -EINVAL;
	return 0;
}

static int seq_check_n(const struct lfq_ring *ring, u32 n, const u64 *first)
{
	int ret = seq_check(ring);

	if (ret)
		return ret;
	if (!n || !first)
		return -EINVAL;
	return n > ring->capacity ? -E2BIG : 0;
}

/* A wait for seq must be for a sequence the consumer can ever get. */
static int seq_check_wait(const struct lfq_seq_consumer *c, u64 seq,
			  const u64 *avail)
{
	int ret;

	if (!c || !avail)
		return -EINVAL;
	ret = seq_check(c->ring);
	if (ret)
		return ret;
	if ((s64)(seq - c->seq) <= 0 ||
	    (s64)(seq - c->seq) > (s64)c->ring->capacity)
		return -EINVAL;
	return 0;
}

int lfq_seq_try_claim_up_to(struct lfq_ring *ring, u32 n, u64 *first)
{
	int ret = seq_check_n(ring, n, first);

	if (ret)
		return ret;
	ret = seq_try_claim(ring, n, first);
	return ret == -EBUSY ? -ENOSPC : ret;
}

int lfq_seq_claim_up_to(struct lfq_ring *ring, u32 n, u64 *first,
			int timeout_ms)
{
	struct seq_claim_op op = { .n = n, .first = first };
	int ret = seq_check_n(ring, n, first);

	return ret ? ret : __lfq_wait(ring, LFQ_NOT_FULL, seq_claim_op, &op,
				      timeout_ms);
}

int lfq_seq_try_claim_one(struct lfq_ring *ring, u64 *seq)
{
	int ret = lfq_seq_try_claim_up_to(ring, 1, seq);

	return ret < 0 ? ret : 0;
}

int lfq_seq_claim_one(struct lfq_ring *ring, u64 *seq, int timeout_ms)
{
	int ret = lfq_seq_claim_up_to(ring, 1, seq, timeout_ms);

	return ret < 0 ? ret : 0;
}

void *lfq_seq_elem(const struct lfq_ring *ring, u64 seq)
{
	if (seq_check(ring))
		return NULL;
	return (u8 *)lfq_slot(ring, seq) + LFQ_SEQ_SLOT_HDR;
}

int lfq_seq_publish_range(struct lfq_ring *ring, u64 first, u64 last)
{
	int ret = seq_check(ring);

	return ret ? ret : seq_publish(ring, first, last);
}

int lfq_seq_publish(struct lfq_ring *ring, u64 seq)
{
	struct lfq_seq_hdr *hdr;
	int ret = seq_check(ring);

	if (ret)
		return ret;
	hdr = ring->hdr;
	if (seq_multi(ring))
		return seq_publish(ring, seq, seq);
	return seq_publish(ring, READ_ONCE(hdr->cursor) + 1, seq);
}

int lfq_seq_join(struct lfq_ring *ring, u32 follows, u32 wait,
		 struct lfq_seq_consumer *c)
{
	int id, ret = seq_check(ring);
	u32 gen = 0;

	if (ret)
		return ret;
	if (!c || wait > LFQ_SEQ_WAIT_BLOCK)
		return -EINVAL;
	if (follows != LFQ_SEQ_PRODUCER) {
		if (follows >= ring->info.nr_claims)
			return -EINVAL;
		/* the generation first: a later owner's state fails the wait */
		gen = smp_load_acquire(&seq_barrier(ring, follows)->gen);
		if (smp_load_acquire(&seq_barrier(ring, follows)->state) !=
		    LFQ_SEQ_ACTIVE)
			return -EINVAL;
	}
	id = seq_take(ring);
	if (id < 0)
		return id;
	c->ring = ring;
	c->id = id;
	if (follows == (u32)id) {
		/* the consumer to follow has left, and we took its barrier */
		lfq_seq_leave(c);
		return -EINVAL;
	}
	c->follows = follows;
	c->follows_gen = gen;
	c->wait = wait;
	c->seq = seq_activate(ring, id, follows, gen);
	c->avail = c->seq;
	return 0;
}

void lfq_seq_leave(struct lfq_seq_consumer *c)
{
	if (!c || seq_check(c->ring))
		return;
	lfq_seq_leave_rec(c->ring, c->id);
	if (c->ring->mem == LFQ_MEM_DEV)
		lfq_ring_unjoin(c->ring);
}

int lfq_seq_try_wait(struct lfq_seq_consumer *c, u64 seq, u64 *avail)
{
	int ret = seq_check_wait(c, seq, avail);

	return ret ? ret : seq_try_wait(c->ring, c, seq, avail);
}

int lfq_seq_wait(struct lfq_seq_consumer *c, u64 seq, u64 *avail,
		 int timeout_ms)
{
	struct seq_wait_op op = { .c = c, .seq = seq, .avail = avail };
	int ret = seq_check_wait(c, seq, avail);

	if (ret)
		return ret;
	if (c->wait == LFQ_SEQ_WAIT_BLOCK)
		return __lfq_wait(c->ring, LFQ_NOT_EMPTY, seq_wait_op, &op,
				  timeout_ms);
	return __lfq_spin(c->ring, seq_wait_op, &op, timeout_ms,
			  c->wait == LFQ_SEQ_WAIT_YIELD);
}

int lfq_seq_done(struct lfq_seq_consumer *c, u64 seq)
{
	if (!c || seq_check(c->ring))
		return -EINVAL;
	if ((s64)(seq - c->seq) <= 0 || (s64)(seq - c->avail) > 0)
		return -EINVAL;
	seq_done(c, seq);
	return 0;
}

void lfq_seq_init(struct lfq_ring *ring)
{
	struct lfq_seq_hdr *hdr = ring->hdr;

	hdr->cursor = LFQ_SEQ_INITIAL;
	hdr->gate = LFQ_SEQ_INITIAL;
}

/*
 * Readable for a joined handle when its barrier's next sequence is
 * available, for others when any consumer is behind the producers;
 * writable when a sequence can be claimed. A hint.
 */
short lfq_seq_poll(struct lfq_ring *ring)
{
	int rec = ring->claim ? seq_id(ring) : -1;
	struct lfq_seq_hdr *hdr = ring->hdr;
	u64 head = READ_ONCE(hdr->head);
	u64 top = seq_top(ring, head);
	u64 gate = seq_slowest(ring, top, false);
	short mask = 0;

	if (rec >= 0) {
		struct lfq_seq_barrier *b = seq_barrier(ring, rec);
		u32 follows = READ_ONCE(b->follows);
		u64 seq = READ_ONCE(b->seq), avail;

		/* ready, or gone: either way a wait has news */
		if (READ_ONCE(b->state) == LFQ_SEQ_ACTIVE &&
		    (follows == LFQ_SEQ_PRODUCER || follows < ring->info.nr_claims) &&
		    (seq_available(ring, follows, READ_ONCE(b->follows_gen),
				   seq + 1, seq + ring->capacity, &avail) ||
		     avail != seq))
			mask |= POLLIN;
	} else if (gate != top) {
		mask |= POLLIN;
	}
	if (seq_room(ring, head, gate))
		mask |= POLLOUT;
	return mask;
}
