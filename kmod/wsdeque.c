// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: work-stealing deque
 *
 * Kernel twin of user/wsdeque.c: the same functions and labels. A
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
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

/*
 * The element of pos in and out. A thief's copy may race with the
 * owner's next write to the slot after a wrap; the thief then loses its
 * CAS and drops the copy.
 */
static void wsd_store(const struct lfq_ring *ring, s64 pos, const void *elem)
{
	memcpy(lfq_slot(ring, (u64)pos), elem, ring->elem_size);
}

static void wsd_load(const struct lfq_ring *ring, s64 pos, void *elem)
{
	memcpy(elem, lfq_slot(ring, (u64)pos), ring->elem_size);
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
	want = min_t(s64, n, (len + 1) / 2);
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

/**
 * lfq_wsdeque_worker() - the owner's handle of a deque
 * @ring: a LFQ_RING_WSDEQUE ring
 * @w: the handle to fill in
 *
 * One owner per deque: only it may push and pop, from one thread at a
 * time.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if @ring is not a deque.
 */
int lfq_wsdeque_worker(struct lfq_ring *ring, struct lfq_wsdeque_worker *w)
{
	int ret = wsd_check(ring, w);

	if (!ret)
		w->ring = ring;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_worker, LFQ);

/**
 * lfq_wsdeque_stealer() - a thief's handle of a deque
 * @ring: a LFQ_RING_WSDEQUE ring
 * @s: the handle to fill in
 *
 * Any number of thieves, in any context, may steal with one handle.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if @ring is not a deque.
 */
int lfq_wsdeque_stealer(struct lfq_ring *ring, struct lfq_wsdeque_stealer *s)
{
	int ret = wsd_check(ring, s);

	if (!ret)
		s->ring = ring;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_stealer, LFQ);

/**
 * lfq_wsdeque_push() - push an element at the bottom
 * @w: the owner's handle
 * @elem: elem_size bytes to copy in
 *
 * Context: any context; the owner's thread.
 * Return: 0, -ENOSPC if the deque is full, -EIO if the shared words are
 * corrupt, -EINVAL.
 */
int lfq_wsdeque_push(struct lfq_wsdeque_worker *w, const void *elem)
{
	int ret = w ? wsd_check(w->ring, elem) : -EINVAL;

	return ret ? ret : wsd_push(w->ring, elem);
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_push, LFQ);

/**
 * lfq_wsdeque_pop() - pop the newest element, at the bottom
 * @w: the owner's handle
 * @elem: elem_size bytes to copy out to
 *
 * Context: any context; the owner's thread.
 * Return: 0, -EAGAIN if the deque is empty (or a thief took the last
 * element), -EIO if the shared words are corrupt, -EINVAL.
 */
int lfq_wsdeque_pop(struct lfq_wsdeque_worker *w, void *elem)
{
	int ret = w ? wsd_check(w->ring, elem) : -EINVAL;

	return ret ? ret : wsd_pop(w->ring, elem);
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_pop, LFQ);

/**
 * lfq_wsdeque_steal() - steal the oldest element, at the top
 * @s: a thief's handle
 * @elem: elem_size bytes to copy out to
 *
 * Context: any context.
 * Return: 0, -EAGAIN if the deque is empty (or its shared words are
 * corrupt, which is counted), -EBUSY if another thief or the owner won
 * the race for it: try again. -EINVAL.
 */
int lfq_wsdeque_steal(struct lfq_wsdeque_stealer *s, void *elem)
{
	int ret = s ? wsd_check(s->ring, elem) : -EINVAL;

	return ret ? ret : wsd_steal(s->ring, elem);
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_steal, LFQ);

/**
 * lfq_wsdeque_steal_batch() - steal up to n of the oldest elements
 * @s: a thief's handle
 * @elems: room for @n elements of elem_size bytes
 * @n: at most this many; never more than half of what the deque holds
 *     (rounded up), so that the owner keeps work too
 *
 * One steal at a time, each decided by its own CAS: the owner may pop
 * meanwhile.
 *
 * Context: any context.
 * Return: elements stolen (1..@n), or as lfq_wsdeque_steal() if none.
 */
int lfq_wsdeque_steal_batch(struct lfq_wsdeque_stealer *s, void *elems,
			    unsigned int n)
{
	int ret = s ? wsd_check(s->ring, elems) : -EINVAL;

	if (!ret && !n)
		ret = -EINVAL;
	return ret ? ret : wsd_steal_batch(s->ring, elems, n);
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_steal_batch, LFQ);

/**
 * lfq_wsdeque_len() - elements in a deque
 * @ring: a LFQ_RING_WSDEQUE ring
 *
 * A snapshot, clamped to 0..capacity.
 *
 * Context: any context.
 * Return: elements, or 0 if @ring is not a deque.
 */
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
	return clamp_t(s64, n, 0, ring->capacity);
}
EXPORT_SYMBOL_NS_GPL(lfq_wsdeque_len, LFQ);

/*
 * Readable when the deque holds an element, writable when not full: a
 * look, since nothing wakes a poller.
 */
__poll_t lfq_wsdeque_poll(struct lfq_ring *ring, int rec)
{
	u64 n = lfq_wsdeque_len(ring);
	__poll_t mask = 0;

	if (n)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (n < ring->capacity)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void lfq_wsdeque_show(struct seq_file *m, struct lfq_ring *ring)
{
	const struct lfq_wsdeque_hdr *hdr = ring->hdr;

	seq_printf(m, "lfq-top:\t%lld\n", READ_ONCE(hdr->top));
	seq_printf(m, "lfq-bottom:\t%lld\n", READ_ONCE(hdr->bottom));
}
