// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: MPSC log ring
 *
 * Kernel twin of user/mpsc_log.c: the same functions and labels. Any
 * number of producers reserve records, write them in place and commit
 * them; one consumer reads them in place (peek/release) or copies them
 * out (pop). Built for asynchronous logging: producers never wait on
 * each other, and kernel producers may log from any context, NMI
 * included.
 *
 * A record takes one or more consecutive positions (struct lfq_mpsc_rec
 * in the uapi header): a header in its first slot, then a contiguous
 * payload. The seq of the first slot says the record's state::
 *
 *   seq == pos                  free: nothing committed at pos yet
 *   seq == pos + 1              committed
 *   seq == LFQ_MPSC_TAKEN | id  held by the consumer, to read in place
 *   seq == pos + capacity       freed: free for the next lap
 *
 * Freeing a record resets the seq of every position it took, payload
 * included, so that a stale payload can never look like a committed
 * header.
 *
 * Producers reserve with a CAS on head whose capacity check
 * (head + slots - tail <= capacity) is inside the loop: a full ring
 * takes no position, so the consumer never waits on a hole. What a full
 * ring does is the ring's policy: LFQ_MPSC_DISCARD refuses the record
 * and counts it in hdr->dropped, LFQ_MPSC_BLOCK lets lfq_mpsc_reserve()
 * sleep, LFQ_MPSC_OVERWRITE frees the oldest committed record unread
 * and counts it in hdr->overwritten.
 *
 * Takers, the consumer and overwriting producers, take and free records
 * at tail under hdr->taker, a lock that is only ever tried: a taker
 * that finds it held gives up (-EBUSY, or a refused record), so nobody,
 * in NMI or not, ever waits for a user who holds it. The lock is what
 * lets a taker trust tail: a payload runs over the headers of the slots
 * it takes, so a taker that looked at the record of a stale tail could
 * read payload as a header.
 *
 * Ordering (the same labels in user/mpsc_log.c, the model in
 * selftests/model/mpsc.pml and Documentation/mpsc_log.rst)::
 *
 *   producer                            taker (consumer, overwriter)
 *   (A) t = acquire(tail)               (L) lock taker (acquire CAS)
 *       CAS head (relaxed), if it fits      t = tail
 *   write header and payload            (C) seq = acquire(rec(t).seq)
 *   (B) release(rec.seq, pos + 1)           ready if seq == t + 1
 *   (W2) smp_mb, load tail, waiters     read the payload (consumer)
 *                                       reset the seq of each position
 *                                       (D) release(tail, t + slots)
 *                                       (U) unlock taker (release)
 *
 * Pairs::
 *
 *   (A) pairs with (D): a producer writes positions only after their
 *       last reader has finished with them and reset their seq.
 *   (B) pairs with (C): the payload is read only after it was written.
 *   (L) pairs with (U): a taker sees tail, and the resets, as the last
 *       taker left them.
 *   (R) in lfq_mpsc_repair() stands in for a dead producer's (B).
 *   (W2) pairs with (W1) in __lfq_wait() and the poll path: a commit
 *       wakes the consumer only if the consumer has caught up with it
 *       (tail == pos), so wake-ups are self-paced and none is lost.
 *   (S) in lfq_span() orders size()'s loads, as for the other rings.
 *
 * A reservation's header (len, slots) and payload are plain stores
 * ordered by (B); the resets of seq are ordered by (D).
 *
 * Progress: a producer that stalls between reserve and commit stalls
 * the consumer at its record (the ring has no holes to skip). Kernel
 * code must not sleep in between on a ring that userspace shares; a
 * user producer that dies in between is repaired from its claim record.
 */
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

/* The owner tag of kernel takers: kernel code holds no claim record. */
#define MPSC_ME		LFQ_MPSC_NOBODY

struct mpsc_push_op {
	const void *src;
	u32 len;
};

struct mpsc_pop_op {
	void *dst;
	size_t size;
};

static struct lfq_mpsc_rec *mpsc_rec(const struct lfq_ring *ring, u64 pos)
{
	return lfq_slot(ring, pos);
}

/* The longest payload: a record of half the ring fits at any position. */
static u32 mpsc_max_len(const struct lfq_ring *ring)
{
	u64 max = (u64)(ring->capacity / 2) * ring->stride - LFQ_MPSC_SLOT_HDR;

	return min_t(u64, max, INT_MAX);
}

/*
 * Positions a record of len bytes takes at pos: its header and payload,
 * or, if that would run past the end of the lap, the rest of the lap
 * and a payload from slot 0.
 */
static u32 mpsc_slots(const struct lfq_ring *ring, u64 pos, u32 len)
{
	u64 off = pos & ring->mask;
	u64 n;

	if (likely(len <= ring->stride - LFQ_MPSC_SLOT_HDR))
		return 1;
	n = DIV_ROUND_UP((u64)len + LFQ_MPSC_SLOT_HDR, ring->stride);
	if (off + n <= ring->capacity)
		return n;
	return ring->capacity - off + DIV_ROUND_UP(len, ring->stride);
}

static bool mpsc_wraps(const struct lfq_ring *ring, u64 pos, u32 slots)
{
	return (pos & ring->mask) + slots > ring->capacity;
}

static void *mpsc_payload(const struct lfq_ring *ring, u64 pos, u32 slots)
{
	if (mpsc_wraps(ring, pos, slots))
		return ring->slots;
	return (u8 *)mpsc_rec(ring, pos) + LFQ_MPSC_SLOT_HDR;
}

/* Whether a header read from the shared ring describes a record we can read. */
static bool mpsc_fits(const struct lfq_ring *ring, u64 pos, u32 len, u32 slots)
{
	u64 room;

	if (!slots || slots >= ring->capacity)
		return false;
	if (mpsc_wraps(ring, pos, slots))
		room = ((pos & ring->mask) + slots - ring->capacity) *
		       (u64)ring->stride;
	else
		room = (u64)slots * ring->stride - LFQ_MPSC_SLOT_HDR;
	return len <= room;
}

/* Wake the consumer if it waits at the record just committed at pos. */
static void mpsc_wake_consumer(struct lfq_ring *ring, u64 pos)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;

	/* W2, in lfq_wake_at(): pairs with W1 in __lfq_wait() and the poll path */
	lfq_wake_at(ring, LFQ_NOT_EMPTY, &hdr->tail, pos);
}

/*
 * Free the positions from..to-1, taken by us: reset their seq for the
 * next lap, and their slots, so that a commit naming a position inside
 * a later reservation finds no record there, then move tail past them.
 */
static void mpsc_free(struct lfq_ring *ring, u64 from, u64 to)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	struct lfq_mpsc_rec *rec;
	u64 pos;

	for (pos = from; pos != to; pos++) {
		rec = mpsc_rec(ring, pos);
		WRITE_ONCE(rec->seq, pos + ring->capacity);
		WRITE_ONCE(rec->slots, 0);
	}
	/* D: pairs with A in __mpsc_reserve() */
	smp_store_release(&hdr->tail, to);
	/* BLOCK producers, and whoever polls for POLLOUT */
	lfq_wake(ring, LFQ_NOT_FULL);
}

/* Try the taker lock; a holder takes and frees records at tail. */
static bool mpsc_lock(struct lfq_ring *ring)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	u64 free = 0;

	/* L: pairs with U in mpsc_unlock(): tail as the last taker left it */
	return try_cmpxchg_acquire(&hdr->taker, &free,
				   LFQ_MPSC_TAKEN | MPSC_ME);
}

static void mpsc_unlock(struct lfq_ring *ring)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;

	/* U: pairs with L in mpsc_lock() */
	smp_store_release(&hdr->taker, 0);
}

static bool mpsc_locked(const struct lfq_ring *ring)
{
	const struct lfq_mpsc_hdr *hdr = ring->hdr;

	return READ_ONCE(hdr->taker) == (LFQ_MPSC_TAKEN | MPSC_ME);
}

/*
 * The header of the record committed at pos, with the taker lock held
 * (pos is tail, or follows records we hold): 0, -EAGAIN if nothing is
 * committed there yet, -EIO (for the caller to count: a burst that
 * stops at a corrupt record reports it with the next call).
 */
static int mpsc_take(struct lfq_ring *ring, u64 pos, u32 *len, u32 *slots)
{
	struct lfq_mpsc_rec *rec = mpsc_rec(ring, pos);
	u64 seq;

	/* C: pairs with B in mpsc_commit() and R in lfq_mpsc_repair() */
	seq = smp_load_acquire(&rec->seq);
	if (seq != pos + 1)
		return seq == pos ? -EAGAIN : -EIO;
	*len = READ_ONCE(rec->len);
	*slots = READ_ONCE(rec->slots);
	return mpsc_fits(ring, pos, *len, *slots) ? 0 : -EIO;
}

/*
 * LFQ_MPSC_OVERWRITE: free the oldest record unread. -EAGAIN if that
 * cannot be done now: the consumer holds the taker lock, or the oldest
 * record is not committed yet (its producer is writing it).
 */
static int mpsc_drop(struct lfq_ring *ring)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	u32 len, slots;
	int ret;
	u64 t;

	if (!mpsc_lock(ring))
		return -EAGAIN;
	t = READ_ONCE(hdr->tail);
	ret = mpsc_take(ring, t, &len, &slots);
	if (!ret) {
		mpsc_free(ring, t, t + slots);
		if (len)
			lfq_ring_count(ring, &hdr->overwritten);
	}
	mpsc_unlock(ring);
	if (ret == -EIO)
		lfq_ring_corrupt(ring);
	return ret;
}

/*
 * Reserve the positions of a record of len bytes at head, if they fit
 * behind tail, and write its header. A full ring takes no position; an
 * LFQ_MPSC_OVERWRITE ring drops its oldest record and tries again.
 */
static int __mpsc_reserve(struct lfq_ring *ring, u32 len,
			  struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	struct lfq_mpsc_rec *rec;
	unsigned int retries;
	u64 pos, prev, tail;
	s64 used;
	u32 slots;
	int ret;

	/* no barrier: head only hands out positions, (B) publishes them */
	pos = READ_ONCE(hdr->head);
	for (retries = 0; retries < LFQ_TRY_RETRIES; retries++) {
		slots = mpsc_slots(ring, pos, len);
		/* A: pairs with D in mpsc_free() */
		tail = smp_load_acquire(&hdr->tail);
		used = (s64)(pos - tail);
		if (unlikely(used < 0)) {
			/* pos went stale while tail moved on, or tail passed head */
			prev = pos;
			pos = READ_ONCE(hdr->head);
			if (pos == prev)
				return lfq_ring_corrupt(ring);
			continue;
		}
		if (unlikely(used > ring->capacity))
			return lfq_ring_corrupt(ring);
		if (used + slots > ring->capacity) {
			if (ring->info.policy != LFQ_MPSC_OVERWRITE)
				return -ENOSPC;
			ret = mpsc_drop(ring);
			if (ret == -EIO)
				return ret;
			pos = READ_ONCE(hdr->head);
			continue;
		}
		/* on failure pos is the current head: retry from there */
		if (try_cmpxchg_relaxed(&hdr->head, &pos, pos + slots))
			goto reserved;
	}
	return -EBUSY;

reserved:
	rec = mpsc_rec(ring, pos);
	rec->len = len;
	rec->slots = slots;
	res->data = mpsc_payload(ring, pos, slots);
	res->len = len;
	res->slots = slots;
	res->pos = pos;
	return 0;
}

/* A try: -ENOSPC when full, counted as a drop unless the ring blocks. */
static int mpsc_try_reserve(struct lfq_ring *ring, u32 len,
			    struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	int ret = __mpsc_reserve(ring, len, res);

	if (ret == -EBUSY)
		ret = -ENOSPC;
	if (ret == -ENOSPC && ring->info.policy != LFQ_MPSC_BLOCK)
		lfq_ring_count(ring, &hdr->dropped);
	return ret;
}

/*
 * Publish a reservation: its seq goes from pos to pos + 1, if the ring
 * handed it out (below head, as reserved) and it waits for its commit.
 * -EINVAL otherwise.
 */
static int mpsc_commit(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	struct lfq_mpsc_rec *rec = mpsc_rec(ring, res->pos);
	u64 seq = res->pos;

	if (!mpsc_fits(ring, res->pos, res->len, res->slots) ||
	    res->data != mpsc_payload(ring, res->pos, res->slots) ||
	    READ_ONCE(rec->slots) != res->slots ||
	    (s64)(READ_ONCE(hdr->head) - (res->pos + res->slots)) < 0)
		return -EINVAL;
	/*
	 * B: pairs with C in mpsc_take(). A CAS, so that
	 * of two racing commits of one reservation only one publishes.
	 */
	if (!try_cmpxchg_release(&rec->seq, &seq, res->pos + 1))
		return -EINVAL;
	mpsc_wake_consumer(ring, res->pos);
	return 0;
}

/*
 * Take up to n committed records from tail for reading, into res[]:
 * their count, or -EAGAIN if none is committed at tail, -EBUSY if an
 * overwriting producer holds the taker lock (or we do: records taken
 * and not released) or LFQ_TRY_RETRIES records without payload were
 * freed on the way, -EMSGSIZE if the payload is longer than size (it
 * stays in the ring), -EIO. Records without payload met before the
 * first record taken are freed; one after it ends the batch. We keep the
 * taker lock while we hold records.
 */
static int __mpsc_peek(struct lfq_ring *ring, struct lfq_mpsc_res *res,
		       unsigned int n, size_t size)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	unsigned int got = 0, skipped = 0;
	u32 len, slots;
	int ret = 0;
	u64 pos;

	if (!mpsc_lock(ring))
		return -EBUSY;
	/* ours to move while we hold the lock */
	pos = READ_ONCE(hdr->tail);
	while (got < n) {
		ret = mpsc_take(ring, pos, &len, &slots);
		if (ret || (got && !len))
			break;
		if (!len) {
			if (skipped++ == LFQ_TRY_RETRIES) {
				ret = -EBUSY;
				break;
			}
			mpsc_free(ring, pos, pos + slots);
			pos += slots;
			continue;
		}
		if (len > size) {
			ret = -EMSGSIZE;
			break;
		}
		WRITE_ONCE(mpsc_rec(ring, pos)->seq, LFQ_MPSC_TAKEN | MPSC_ME);
		res[got].data = mpsc_payload(ring, pos, slots);
		res[got].len = len;
		res[got].slots = slots;
		res[got].pos = pos;
		got++;
		pos += slots;
	}
	if (got)
		return got;
	mpsc_unlock(ring);
	return ret == -EIO ? lfq_ring_corrupt(ring) : ret;
}

/*
 * Free the records taken up to and including res: res must be one we
 * hold, named as the ring handed it out. Walk our records from tail to
 * it, so that a position inside one of them (whose payload may look like
 * anything) is not taken for a record. The taker lock goes with the
 * last record we hold.
 */
static int mpsc_release(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	u64 tail = READ_ONCE(hdr->tail);
	u64 end = res->pos + res->slots;
	struct lfq_mpsc_rec *rec;
	u64 pos = tail;
	u32 slots;

	if (!mpsc_locked(ring) || (s64)(res->pos - tail) < 0 ||
	    (s64)(end - tail) > ring->capacity ||
	    res->data != mpsc_payload(ring, res->pos, res->slots))
		return -EINVAL;
	for (;;) {
		rec = mpsc_rec(ring, pos);
		slots = READ_ONCE(rec->slots);
		if (READ_ONCE(rec->seq) != (LFQ_MPSC_TAKEN | MPSC_ME) || !slots)
			return -EINVAL;
		if (pos == res->pos)
			break;
		pos += slots;
		if ((s64)(res->pos - pos) < 0)
			return -EINVAL;
	}
	if (slots != res->slots)
		return -EINVAL;
	mpsc_free(ring, tail, end);
	if (READ_ONCE(mpsc_rec(ring, end)->seq) != (LFQ_MPSC_TAKEN | MPSC_ME))
		mpsc_unlock(ring);
	return 0;
}

static int mpsc_push_op(struct lfq_ring *ring, void *arg)
{
	struct mpsc_push_op *op = arg;
	struct lfq_mpsc_res res;
	int ret = __mpsc_reserve(ring, op->len, &res);

	if (ret)
		return ret;
	memcpy(res.data, op->src, op->len);
	return mpsc_commit(ring, &res);
}

static int mpsc_reserve_op(struct lfq_ring *ring, void *arg)
{
	struct lfq_mpsc_res *res = arg;

	return __mpsc_reserve(ring, res->len, res);
}

static int mpsc_pop_op(struct lfq_ring *ring, void *arg)
{
	struct mpsc_pop_op *op = arg;
	struct lfq_mpsc_res res;
	int ret = __mpsc_peek(ring, &res, 1, op->size);

	if (ret < 0)
		return ret;
	memcpy(op->dst, res.data, res.len);
	mpsc_release(ring, &res);
	return res.len;
}

static int mpsc_check(const struct lfq_ring *ring, const void *p,
		      long timeout)
{
	if (!ring || ring->info.type != LFQ_RING_MPSC || !p || timeout < 0)
		return -EINVAL;
	return 0;
}

static int mpsc_check_len(const struct lfq_ring *ring, const void *p,
			  u32 len, long timeout)
{
	int ret = mpsc_check(ring, p, timeout);

	if (ret)
		return ret;
	if (!len)
		return -EINVAL;
	return len > mpsc_max_len(ring) ? -E2BIG : 0;
}

/**
 * lfq_mpsc_max_len() - the longest record a ring takes
 * @ring: a LFQ_RING_MPSC ring
 *
 * Half the ring's slots less one header (so that a record fits at any
 * position, wrap included), and at most INT_MAX. A record of up to
 * elem_size bytes takes one slot.
 *
 * Context: any context.
 * Return: bytes, or 0 if @ring is not an MPSC ring.
 */
u32 lfq_mpsc_max_len(const struct lfq_ring *ring)
{
	if (!ring || ring->info.type != LFQ_RING_MPSC)
		return 0;
	return mpsc_max_len(ring);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_max_len, LFQ);

/**
 * lfq_mpsc_try_reserve() - reserve a record to write in place
 * @ring: a LFQ_RING_MPSC ring
 * @len: payload bytes, 1..lfq_mpsc_max_len()
 * @res: filled with the payload (@res->data, contiguous) and position
 *
 * Write the payload, then lfq_mpsc_commit(). Until then the consumer
 * waits at this record: commit soon, and do not sleep in between on a
 * ring that userspace shares. When the ring is full: a DISCARD ring
 * counts the record in hdr->dropped, an OVERWRITE ring frees its oldest
 * records (counted in hdr->overwritten) unless the consumer or their
 * producer holds them, a BLOCK ring just fails.
 *
 * Context: any context, NMI included; never sleeps.
 * Return: 0, -ENOSPC if the ring is full (or LFQ_TRY_RETRIES races were
 * lost), -E2BIG if @len exceeds lfq_mpsc_max_len(), -EIO if the shared
 * ring is corrupt, -EINVAL.
 */
int lfq_mpsc_try_reserve(struct lfq_ring *ring, u32 len,
			 struct lfq_mpsc_res *res)
{
	int ret = mpsc_check_len(ring, res, len, 0);

	return ret ? ret : mpsc_try_reserve(ring, len, res);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_try_reserve, LFQ);

/**
 * lfq_mpsc_reserve() - reserve a record, waiting for space
 * @ring: a LFQ_RING_MPSC ring
 * @len: payload bytes, 1..lfq_mpsc_max_len()
 * @res: filled as by lfq_mpsc_try_reserve()
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * On a BLOCK ring, waits until the consumer frees enough space: spins
 * briefly, then sleeps interruptibly. Other rings never wait: this is
 * lfq_mpsc_try_reserve().
 *
 * Context: process context on a BLOCK ring; may sleep.
 * Return: 0, -ETIMEDOUT, -EINTR on a signal or kthread_stop(), or as
 * lfq_mpsc_try_reserve().
 */
int lfq_mpsc_reserve(struct lfq_ring *ring, u32 len, struct lfq_mpsc_res *res,
		     long timeout)
{
	int ret = mpsc_check_len(ring, res, len, timeout);

	if (ret)
		return ret;
	if (ring->info.policy != LFQ_MPSC_BLOCK)
		return mpsc_try_reserve(ring, len, res);
	res->len = len;
	return __lfq_wait(ring, LFQ_NOT_FULL, mpsc_reserve_op, res, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_reserve, LFQ);

/**
 * lfq_mpsc_commit() - publish a record written in place
 * @ring: a LFQ_RING_MPSC ring
 * @res: from lfq_mpsc_try_reserve() or lfq_mpsc_reserve(), unchanged
 *
 * Wakes the consumer if it sleeps waiting for this very record.
 *
 * Context: any context, NMI included; never sleeps.
 * Return: 0, or -EINVAL if @res is not a reservation of @ring waiting
 * for its commit (committed already, never handed out, or scribbled).
 */
int lfq_mpsc_commit(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	if (mpsc_check(ring, res, 0))
		return -EINVAL;
	return mpsc_commit(ring, res);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_commit, LFQ);

/**
 * lfq_mpsc_try_push() - log a record by copy
 * @ring: a LFQ_RING_MPSC ring
 * @data: the payload
 * @len: its bytes, 1..lfq_mpsc_max_len()
 *
 * lfq_mpsc_try_reserve(), a copy, lfq_mpsc_commit().
 *
 * Context: any context, NMI included; never sleeps.
 * Return: 0, or as lfq_mpsc_try_reserve().
 */
int lfq_mpsc_try_push(struct lfq_ring *ring, const void *data, u32 len)
{
	struct lfq_mpsc_res res;
	int ret = mpsc_check_len(ring, data, len, 0);

	if (!ret)
		ret = mpsc_try_reserve(ring, len, &res);
	if (ret)
		return ret;
	memcpy(res.data, data, len);
	return mpsc_commit(ring, &res);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_try_push, LFQ);

/**
 * lfq_mpsc_push() - log a record by copy, waiting for space
 * @ring: a LFQ_RING_MPSC ring
 * @data: the payload
 * @len: its bytes, 1..lfq_mpsc_max_len()
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Context: process context on a BLOCK ring; may sleep.
 * Return: 0, or as lfq_mpsc_reserve().
 */
int lfq_mpsc_push(struct lfq_ring *ring, const void *data, u32 len,
		  long timeout)
{
	struct mpsc_push_op op = { .src = data, .len = len };
	int ret = mpsc_check_len(ring, data, len, timeout);

	if (ret)
		return ret;
	if (ring->info.policy != LFQ_MPSC_BLOCK)
		return lfq_mpsc_try_push(ring, data, len);
	return __lfq_wait(ring, LFQ_NOT_FULL, mpsc_push_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_push, LFQ);

/**
 * lfq_mpsc_peek_burst() - take up to @n records to read in place
 * @ring: a LFQ_RING_MPSC ring
 * @res: room for @n records: payload, length and position of each
 * @n: records wanted, 1 or more
 *
 * For the ring's one consumer. The records stay in the ring, held
 * against overwriting (the consumer keeps the taker lock), until
 * lfq_mpsc_release() of the last one: keep them briefly on an OVERWRITE
 * ring, whose producers refuse records meanwhile.
 * Records of dead producers (no payload) are freed on the way.
 *
 * Context: any context; never sleeps. One consumer at a time.
 * Return: records taken, 1..@n; -EAGAIN if none is committed yet (the
 * next may be still being written); -EBUSY if an overwriting producer
 * holds the taker lock, or LFQ_TRY_RETRIES records without payload were
 * freed, both for a moment, or if the consumer still holds records it
 * took; -EIO if the shared ring is corrupt; -EINVAL.
 */
int lfq_mpsc_peek_burst(struct lfq_ring *ring, struct lfq_mpsc_res *res,
			unsigned int n)
{
	if (mpsc_check(ring, res, 0) || !n)
		return -EINVAL;
	return __mpsc_peek(ring, res, n, U32_MAX);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_peek_burst, LFQ);

/**
 * lfq_mpsc_peek() - take the oldest record to read in place
 * @ring: a LFQ_RING_MPSC ring
 * @res: filled with its payload, length and position
 *
 * Context: any context; never sleeps. One consumer at a time.
 * Return: 0, or as lfq_mpsc_peek_burst().
 */
int lfq_mpsc_peek(struct lfq_ring *ring, struct lfq_mpsc_res *res)
{
	int ret = lfq_mpsc_peek_burst(ring, res, 1);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_peek, LFQ);

/**
 * lfq_mpsc_release() - free records read in place
 * @ring: a LFQ_RING_MPSC ring
 * @res: the last record to free, from lfq_mpsc_peek() or
 *	 lfq_mpsc_peek_burst(), unchanged; it and every record taken
 *	 before it are freed
 *
 * Context: any context; never sleeps. One consumer at a time.
 * Return: 0, or -EINVAL if @res is not a record the consumer holds.
 */
int lfq_mpsc_release(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	if (mpsc_check(ring, res, 0))
		return -EINVAL;
	return mpsc_release(ring, res);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_release, LFQ);

/**
 * lfq_mpsc_try_pop() - copy out and free the oldest record
 * @ring: a LFQ_RING_MPSC ring
 * @buf: room for @size bytes
 * @size: bytes at @buf
 *
 * Context: any context; never sleeps. One consumer at a time.
 * Return: the record's length, -EMSGSIZE if it is longer than @size (it
 * stays in the ring), or as lfq_mpsc_peek_burst(), -EBUSY included.
 */
int lfq_mpsc_try_pop(struct lfq_ring *ring, void *buf, size_t size)
{
	struct mpsc_pop_op op = { .dst = buf, .size = size };

	if (mpsc_check(ring, buf, 0))
		return -EINVAL;
	return mpsc_pop_op(ring, &op);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_try_pop, LFQ);

/**
 * lfq_mpsc_pop() - copy out and free the oldest record, waiting for one
 * @ring: a LFQ_RING_MPSC ring
 * @buf: room for @size bytes
 * @size: bytes at @buf
 * @timeout: jiffies to wait, 0..MAX_SCHEDULE_TIMEOUT (forever)
 *
 * Sleeps until a producer commits the record the consumer waits at.
 *
 * Context: process context; may sleep. One consumer at a time.
 * Return: the record's length, -ETIMEDOUT, -EINTR on a signal or
 * kthread_stop(), -EMSGSIZE, -EIO, -EINVAL.
 */
int lfq_mpsc_pop(struct lfq_ring *ring, void *buf, size_t size, long timeout)
{
	struct mpsc_pop_op op = { .dst = buf, .size = size };
	int ret = mpsc_check(ring, buf, timeout);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, mpsc_pop_op, &op, timeout);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_pop, LFQ);

/**
 * lfq_mpsc_size() - positions in use
 * @ring: a LFQ_RING_MPSC ring
 *
 * Positions between tail and head, clamped to 0..capacity: records
 * reserved and not yet freed, each counted by the slots it takes.
 *
 * Context: any context.
 * Return: 0..capacity.
 */
u64 lfq_mpsc_size(const struct lfq_ring *ring)
{
	const struct lfq_mpsc_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_size, LFQ);

/**
 * lfq_mpsc_stats() - what a full ring cost
 * @ring: a LFQ_RING_MPSC ring
 * @stats: filled with the shared header's counters
 *
 * The counters live in the ring, where user producers count too: a
 * user who scribbles them garbles only them.
 *
 * Context: any context.
 */
void lfq_mpsc_stats(const struct lfq_ring *ring, struct lfq_mpsc_stats *stats)
{
	const struct lfq_mpsc_hdr *hdr = ring->hdr;

	stats->dropped = READ_ONCE(hdr->dropped);
	stats->overwritten = READ_ONCE(hdr->overwritten);
}
EXPORT_SYMBOL_NS_GPL(lfq_mpsc_stats, LFQ);

/* Slot p starts free for position p. */
void lfq_mpsc_init(struct lfq_ring *ring)
{
	u64 pos;

	for (pos = 0; pos < ring->capacity; pos++)
		mpsc_rec(ring, pos)->seq = pos;
}

/*
 * A producer that died holding a reservation: publish it as a record
 * without payload, which the consumer skips.
 */
static int mpsc_repair_push(struct lfq_ring *ring, u64 pos, u32 slots)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	struct lfq_mpsc_rec *rec = mpsc_rec(ring, pos);

	if (!slots || slots >= ring->capacity ||
	    (s64)(READ_ONCE(hdr->head) - (pos + slots)) < 0)
		return lfq_ring_corrupt(ring);
	/* committed after all, or already consumed */
	if (READ_ONCE(rec->seq) != pos)
		return 0;
	WRITE_ONCE(rec->len, 0);
	WRITE_ONCE(rec->slots, slots);
	/* R: pairs with C, as B would */
	smp_store_release(&rec->seq, pos + 1);
	lfq_ring_count(ring, &ring->desc->skipped);
	mpsc_wake_consumer(ring, pos);
	return 0;
}

/*
 * A taker that died holding the taker lock had taken, or was taking,
 * the records from pos to pos + slots: free what of them tail has not
 * passed yet, and the lock. It may have died inside a free, which
 * resets positions from tail on before it moves tail: those are freed
 * already.
 */
static int mpsc_repair_take(struct lfq_ring *ring, u64 pos, u32 slots,
			    unsigned int id)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	u64 tail = READ_ONCE(hdr->tail);
	u64 head = READ_ONCE(hdr->head);
	u64 end = pos + slots, at = tail;
	struct lfq_mpsc_rec *rec;
	unsigned int lost = 0;
	u32 len, n;
	int ret = 0;

	if (READ_ONCE(hdr->taker) != (LFQ_MPSC_TAKEN | id))
		return 0;
	if (slots > ring->capacity || (s64)(head - end) < 0) {
		ret = lfq_ring_corrupt(ring);
	} else if ((s64)(tail - pos) >= 0) {
		while ((s64)(end - at) > 0) {
			rec = mpsc_rec(ring, at);
			if (READ_ONCE(rec->seq) == at + ring->capacity) {
				at++;
				continue;
			}
			len = READ_ONCE(rec->len);
			n = READ_ONCE(rec->slots);
			if (!mpsc_fits(ring, at, len, n) ||
			    (s64)(head - (at + n)) < 0) {
				ret = lfq_ring_corrupt(ring);
				break;
			}
			lost += !!len;
			at += n;
		}
		if (at != tail)
			mpsc_free(ring, tail, at);
	}
	/* the lock was the dead taker's */
	mpsc_unlock(ring);
	while (lost--)
		lfq_ring_count(ring, &ring->desc->dropped);
	return ret;
}

int lfq_mpsc_repair(struct lfq_ring *ring, unsigned int id)
{
	const struct lfq_rec *r = &ring->recs[id];

	if (r->claim == LFQ_CLAIM_PUSH)
		return mpsc_repair_push(ring, r->pos, r->slots);
	return mpsc_repair_take(ring, r->pos, r->slots, id);
}

/*
 * Readable when a record is committed at tail, writable when a slot is
 * free. A hint without barriers.
 */
__poll_t lfq_mpsc_poll(struct lfq_ring *ring, int rec)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	__poll_t mask = 0;
	u64 pos = READ_ONCE(hdr->tail);

	if (READ_ONCE(mpsc_rec(ring, pos)->seq) == pos + 1)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (lfq_span(ring, &hdr->head, &hdr->tail) < ring->capacity)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void lfq_mpsc_show(struct seq_file *m, struct lfq_ring *ring)
{
	static const char *const policy[] = { "discard", "block", "overwrite" };
	const struct lfq_mpsc_hdr *hdr = ring->hdr;

	seq_printf(m, "lfq-policy:\t%s\n", policy[ring->info.policy]);
	seq_printf(m, "lfq-head:\t%llu\n", READ_ONCE(hdr->head));
	seq_printf(m, "lfq-tail:\t%llu\n", READ_ONCE(hdr->tail));
	seq_printf(m, "lfq-dropped:\t%llu\n", READ_ONCE(hdr->dropped));
	seq_printf(m, "lfq-overwritten:\t%llu\n", READ_ONCE(hdr->overwritten));
}
