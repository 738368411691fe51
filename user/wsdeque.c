// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Work-stealing deque, userspace twin of kmod/wsdeque.c: the same
 * functions and labels. A
 * bounded Chase-Lev deque: one owner pushes and pops at the bottom
 * (LIFO), any number of thieves steal at the top (FIFO), with the
 * orderings of Lê, Pop, Cohen and Zappa Nardelli (PPoPP 2013). The
 * owner holds a Worker handle, thieves a Stealer, so that the types say
 * who may call what.
 *
 * Ordering (the same labels in user/wsdeque.c, the model in
 * selftests/model/wsdeque.pml and Documentation/wsdeque.rst)::
 *
 *   owner push                     owner pop
 *   b = bottom, (T) t = acq(top)   b = bottom - 1; bottom = b
 *   full if b - t >= capacity      (F1) smp_mb
 *   write slot b                   t = top
 *   (R) release(bottom, b + 1)     t < b: take slot b
 *                                  t == b: the last one: (X) CAS top
 *                                  t..t + 1 -> bottom = b + 1
 *                                  t > b: empty, bottom = b + 1
 *   thief steal
 *   (S) t = acquire(top)
 *   (F2) smp_mb
 *   (A) b = acquire(bottom)
 *   t < b: copy slot t, then (X) CAS top t -> t + 1; lost: -EBUSY
 *
 * Pairs::
 *
 *   (R) pairs with (A): a thief that sees bottom past t sees slot t.
 *   (F1) pairs with (F2): pop's store of bottom and steal's load of top
 *       on one side, steal's load of top and load of bottom on the
 *       other. Without F1 the store may pass pop's load of top (store
 *       buffering, which x86 does), and the owner and a thief both take
 *       the last element; release then acquire does not order a store
 *       before a later load.
 *   (X) the CASes on top, fully ordered, decide the last element and
 *       every steal: one winner.
 *   (T) pairs with (X): push writes a slot only after the thief that
 *       held it a lap before has moved top past it, so the owner
 *       overwrites a slot only after its last thief copied it out.
 *
 * A thief copies the slot before its CAS and keeps the copy only if
 * the CAS wins: after a wrap the owner may be writing that slot again.
 *
 * Nothing here sleeps or wakes: push, pop and steal are each a bounded
 * attempt, and a scheduler parks its idle workers itself. poll() on a
 * deque's fd says what it holds now, but no push wakes a poller.
 *
 * The owner must not trust top, nor a thief bottom, when userspace
 * shares the ring: the kernel checks bottom - top against the capacity
 * and treats a ring outside it as corrupt (-EIO for the owner; for a
 * thief, empty), counting it.
 */
#include <errno.h>
#include <poll.h>

#include "internal.h"

/*
 * The element of pos in and out. A thief's copy may race with the
 * owner's next write to the slot after a wrap; the thief then loses its
 * CAS and drops the copy. In C11 that race must be on atomics, so both
 * sides copy 8-byte words relaxed (slots are 8-byte aligned), and the
 * tail bytes one at a time.
 */
static void wsd_store(const struct lfq_ring *ring, s64 pos, const void *elem)
{
	u8 *slot = lfq_slot(ring, (u64)pos);
	const u8 *src = elem;
	u32 i = 0;
	u64 w;

	for (; i + 8 <= ring->elem_size; i += 8) {
		memcpy(&w, src + i, 8);
		WRITE_ONCE(*(u64 *)(slot + i), w);
	}
	for (; i < ring->elem_size; i++)
		WRITE_ONCE(slot[i], src[i]);
}

static void wsd_load(const struct lfq_ring *ring, s64 pos, void *elem)
{
	u8 *slot = lfq_slot(ring, (u64)pos);
	u8 *dst = elem;
	u32 i = 0;
	u64 w;

	for (; i + 8 <= ring->elem_size; i += 8) {
		w = READ_ONCE(*(u64 *)(slot + i));
		memcpy(dst + i, &w, 8);
	}
	for (; i < ring->elem_size; i++)
		dst[i] = READ_ONCE(slot[i]);
}

/*
 * Position arithmetic wraps: the words may be anything a peer wrote, and
 * a signed overflow must not be undefined behaviour.
 */
static s64 wsd_span(s64 b, s64 t)
{
	return (s64)((u64)b - (u64)t);
}

static s64 wsd_next(s64 pos)
{
	return (s64)((u64)pos + 1);
}

/*
 * Whether a span is one a correct ring can show: 0..capacity to push,
 * -1..capacity - 1 to pop (after its decrement of bottom), -1..capacity
 * to a thief (which may see the owner's pop under way).
 */
static bool wsd_sane(s64 n, s64 lo, s64 hi)
{
	return n >= lo && n <= hi;
}

static int wsd_push(struct lfq_ring *ring, const void *elem)
{
	struct lfq_wsdeque_hdr *hdr = ring->hdr;
	s64 b = READ_ONCE(hdr->bottom);
	/* T: pairs with X in wsd_pop() and wsd_steal() */
	s64 t = smp_load_acquire(&hdr->top);

	if (!wsd_sane(wsd_span(b, t), 0, ring->capacity))
		return lfq_ring_corrupt(ring);
	if (wsd_span(b, t) == (s64)ring->capacity)
		return -ENOSPC;
	wsd_store(ring, b, elem);
	/* R: pairs with A in wsd_steal() */
	smp_store_release(&hdr->bottom, wsd_next(b));
	return 0;
}

static int wsd_pop(struct lfq_ring *ring, void *elem)
{
	struct lfq_wsdeque_hdr *hdr = ring->hdr;
	s64 b = wsd_span(READ_ONCE(hdr->bottom), 1);
	s64 t;
	int ret = 0;

	WRITE_ONCE(hdr->bottom, b);
	/* F1: pairs with F2 in wsd_steal(): the store above before the load */
	smp_mb();
	t = READ_ONCE(hdr->top);
	if (!wsd_sane(wsd_span(b, t), -1, ring->capacity - 1)) {
		WRITE_ONCE(hdr->bottom, wsd_next(b));
		return lfq_ring_corrupt(ring);
	}
	if (t > b) {
		/* empty */
		WRITE_ONCE(hdr->bottom, wsd_next(b));
		return -EAGAIN;
	}
	if (t < b) {
		wsd_load(ring, b, elem);
		return 0;
	}
	/* the last one: the thieves may want it too. X: one winner */
	if (!try_cmpxchg(&hdr->top, &t, wsd_next(t)))
		ret = -EAGAIN;
	/* ours now: no thief reads slot b once top has passed it */
	if (!ret)
		wsd_load(ring, b, elem);
	WRITE_ONCE(hdr->bottom, wsd_next(b));
	return ret;
}

static int wsd_steal(struct lfq_ring *ring, void *elem)
{
	struct lfq_wsdeque_hdr *hdr = ring->hdr;
	/* S: pairs with X in other thieves and the owner's pop */
	s64 t = smp_load_acquire(&hdr->top);
	s64 b;

	/* F2: pairs with F1 in wsd_pop() */
	smp_mb();
	/* A: pairs with R in wsd_push() */
	b = smp_load_acquire(&hdr->bottom);
	if (!wsd_sane(wsd_span(b, t), -1, ring->capacity)) {
		/* top moved on while we looked: a lost race */
		if (READ_ONCE(hdr->top) != t)
			return -EBUSY;
		/* the owner's words are the owner's: we take nothing */
		lfq_ring_corrupt(ring);
		return -EAGAIN;
	}
	if (t >= b)
		return -EAGAIN;
	/* a copy, kept only if the CAS says slot t was still ours to take */
	wsd_load(ring, t, elem);
	/* X: pairs with T in wsd_push() */
	if (!try_cmpxchg(&hdr->top, &t, wsd_next(t)))
		return -EBUSY;
	return 0;
}

/*
 * Up to n steals, at most half of what was there, one CAS each; always
 * one at least, which checks the ring.
 */
static int wsd_steal_batch(struct lfq_ring *ring, void *elems, unsigned int n)
{
	struct lfq_wsdeque_hdr *hdr = ring->hdr;
	s64 t = READ_ONCE(hdr->top);
	s64 len = wsd_span(READ_ONCE(hdr->bottom), t);
	unsigned int i, want;
	int ret = -EAGAIN;

	/* a hint: top first, so that pushes since can only add */
	if (len <= 0)
		len = 1;
	if (len > ring->capacity)
		len = ring->capacity;
	want = (len + 1) / 2 < (s64)n ? (unsigned int)((len + 1) / 2) : n;
	for (i = 0; i < want; i++) {
		ret = wsd_steal(ring, (u8 *)elems + (size_t)i * ring->elem_size);
		if (ret)
			break;
	}
	return i ? (int)i : ret;
}

static int wsd_check(const struct lfq_ring *ring, const void *p)
{
	if (!ring || ring->info.type != LFQ_RING_WSDEQUE || !p)
		return -EINVAL;
	return 0;
}

int lfq_wsdeque_worker(struct lfq_ring *ring, struct lfq_wsdeque_worker *w)
{
	int ret = wsd_check(ring, w);

	if (!ret)
		w->ring = ring;
	return ret;
}

int lfq_wsdeque_stealer(struct lfq_ring *ring, struct lfq_wsdeque_stealer *s)
{
	int ret = wsd_check(ring, s);

	if (!ret)
		s->ring = ring;
	return ret;
}

int lfq_wsdeque_push(struct lfq_wsdeque_worker *w, const void *elem)
{
	int ret = w ? wsd_check(w->ring, elem) : -EINVAL;

	return ret ? ret : wsd_push(w->ring, elem);
}

int lfq_wsdeque_pop(struct lfq_wsdeque_worker *w, void *elem)
{
	int ret = w ? wsd_check(w->ring, elem) : -EINVAL;

	return ret ? ret : wsd_pop(w->ring, elem);
}

int lfq_wsdeque_steal(struct lfq_wsdeque_stealer *s, void *elem)
{
	int ret = s ? wsd_check(s->ring, elem) : -EINVAL;

	return ret ? ret : wsd_steal(s->ring, elem);
}

int lfq_wsdeque_steal_batch(struct lfq_wsdeque_stealer *s, void *elems,
			    unsigned int n)
{
	int ret = s ? wsd_check(s->ring, elems) : -EINVAL;

	if (!ret && !n)
		ret = -EINVAL;
	return ret ? ret : wsd_steal_batch(s->ring, elems, n);
}

u64 lfq_wsdeque_len(const struct lfq_ring *ring)
{
	const struct lfq_wsdeque_hdr *hdr;
	s64 n, t;

	if (!ring || ring->info.type != LFQ_RING_WSDEQUE)
		return 0;
	hdr = ring->hdr;
	/* S: the thieves' top first: n never undercounts */
	t = smp_load_acquire(&hdr->top);
	n = wsd_span(READ_ONCE(hdr->bottom), t);
	return n < 0 ? 0 : n > ring->capacity ? ring->capacity : (u64)n;
}

/*
 * Readable when the deque holds an element, writable when not full: a
 * look, since nothing wakes a poller.
 */
short lfq_wsdeque_poll(struct lfq_ring *ring)
{
	u64 n = lfq_wsdeque_len(ring);
	short mask = 0;

	if (n)
		mask |= POLLIN;
	if (n < ring->capacity)
		mask |= POLLOUT;
	return mask;
}
