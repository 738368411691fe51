// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MPSC log ring, userspace twin of kmod/mpsc_log.c: the same functions
 * and labels, plus the claim record of a joined handle. Any
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
 * the consumer at its record (the ring has no holes to skip). A joined
 * handle (lfq_ring_join()) writes its claim record around every
 * reservation and every take, so that the module repairs what it held
 * if it dies: its reservation becomes a record without payload, the
 * records it took are freed. Its takes are tagged with its record's
 * index (LFQ_MPSC_TAKEN | id), so that the module knows which are its.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>

#include "internal.h"

#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))

struct mpsc_push_op {
	const void *src;
	u32 len;
};

struct mpsc_pop_op {
	void *dst;
	size_t size;
};

/* The owner tag of our takes: our claim record's index, if joined. */
static u32 mpsc_me(const struct lfq_ring *ring)
{
	const struct lfq_claim *claims;

	if (!ring->claim)
		return LFQ_MPSC_NOBODY;
	claims = (const struct lfq_claim *)((const u8 *)ring->hdr +
					    ring->info.claims_off);
	return (u32)(ring->claim - claims);
}

/*
 * Tell the module what this participant holds (struct lfq_claim), as
 * user/turn.c does: it reads the record only after we are gone, so
 * program order is all it needs, and barrier() keeps the compiler from
 * moving the record's stores across the ring's. A reservation's pos and
 * slots are written while the state says PUSH_PENDING. A taker says POP
 * with no slots before it tries the taker lock (the module repairs only
 * a POP whose holder holds the lock), then pos = tail, then slots to
 * cover each record before it takes it: the module frees what of
 * pos..pos + slots tail has not passed.
 */
static void mpsc_claim(struct lfq_ring *ring, u32 state)
{
	struct lfq_claim *c = ring->claim;

	if (!c)
		return;
	barrier();
	WRITE_ONCE(c->state, state);
	barrier();
}

static void mpsc_hold(struct lfq_ring *ring, u32 state, u64 pos, u32 slots)
{
	struct lfq_claim *c = ring->claim;

	if (!c)
		return;
	barrier();
	WRITE_ONCE(c->pos, pos);
	WRITE_ONCE(c->slots, slots);
	barrier();
	WRITE_ONCE(c->state, state);
	barrier();
}

/* A taker's record: it holds (or is taking) slots positions from pos. */
static void mpsc_claim_slots(struct lfq_ring *ring, u32 slots)
{
	struct lfq_claim *c = ring->claim;

	if (!c)
		return;
	barrier();
	WRITE_ONCE(c->slots, slots);
	barrier();
}

/* Count in one of the shared header's counters. */
static void mpsc_count(__u64 *counter)
{
	fetch_add_relaxed(counter, 1);
}

static struct lfq_mpsc_rec *mpsc_rec(const struct lfq_ring *ring, u64 pos)
{
	return lfq_slot(ring, pos);
}

/* The longest payload: a record of half the ring fits at any position. */
static u32 mpsc_max_len(const struct lfq_ring *ring)
{
	u64 max = (u64)(ring->capacity / 2) * ring->stride - LFQ_MPSC_SLOT_HDR;

	return max < INT_MAX ? (u32)max : INT_MAX;
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
		return (u32)n;
	return (u32)(ring->capacity - off + DIV_ROUND_UP(len, ring->stride));
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
				   LFQ_MPSC_TAKEN | mpsc_me(ring));
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

	return READ_ONCE(hdr->taker) == (LFQ_MPSC_TAKEN | mpsc_me(ring));
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

	/* our claim record says PUSH_PENDING, and POP while we hold the lock */
	mpsc_hold(ring, LFQ_CLAIM_POP, 0, 0);
	if (!mpsc_lock(ring)) {
		mpsc_claim(ring, LFQ_CLAIM_PUSH_PENDING);
		return -EAGAIN;
	}
	t = READ_ONCE(hdr->tail);
	mpsc_hold(ring, LFQ_CLAIM_POP, t, 0);
	ret = mpsc_take(ring, t, &len, &slots);
	if (!ret) {
		mpsc_claim_slots(ring, slots);
		mpsc_free(ring, t, t + slots);
		if (len)
			mpsc_count(&hdr->overwritten);
	}
	mpsc_unlock(ring);
	if (ret == -EIO)
		lfq_ring_corrupt(ring);
	mpsc_claim(ring, LFQ_CLAIM_PUSH_PENDING);
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

/* A reservation under the claim record: PENDING around the CAS on head. */
static int mpsc_reserve_claim(struct lfq_ring *ring, u32 len,
			      struct lfq_mpsc_res *res)
{
	int ret;

	mpsc_claim(ring, LFQ_CLAIM_PUSH_PENDING);
	ret = __mpsc_reserve(ring, len, res);
	if (ret) {
		mpsc_claim(ring, LFQ_CLAIM_IDLE);
		return ret;
	}
	mpsc_hold(ring, LFQ_CLAIM_PUSH, res->pos, res->slots);
	return 0;
}

/* A try: -ENOSPC when full, counted as a drop unless the ring blocks. */
static int mpsc_try_reserve(struct lfq_ring *ring, u32 len,
			    struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	int ret = mpsc_reserve_claim(ring, len, res);

	if (ret == -EBUSY)
		ret = -ENOSPC;
	if (ret == -ENOSPC && ring->info.policy != LFQ_MPSC_BLOCK)
		mpsc_count(&hdr->dropped);
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
	u64 pos, first;
	u32 len, slots;
	int ret = 0;

	if (!mpsc_lock(ring))
		return -EBUSY;
	/* ours to move while we hold the lock */
	first = pos = READ_ONCE(hdr->tail);
	mpsc_hold(ring, LFQ_CLAIM_POP, first, 0);
	while (got < n) {
		ret = mpsc_take(ring, pos, &len, &slots);
		if (ret || (got && !len))
			break;
		if (len <= size)
			mpsc_claim_slots(ring, (u32)(pos + slots - first));
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
		WRITE_ONCE(mpsc_rec(ring, pos)->seq, LFQ_MPSC_TAKEN | mpsc_me(ring));
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
		if (READ_ONCE(rec->seq) != (LFQ_MPSC_TAKEN | mpsc_me(ring)) || !slots)
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
	if (READ_ONCE(mpsc_rec(ring, end)->seq) != (LFQ_MPSC_TAKEN | mpsc_me(ring)))
		mpsc_unlock(ring);
	return 0;
}

/* Commit under the claim record: only the reservation it names. */
static int mpsc_commit_claim(struct lfq_ring *ring,
			     const struct lfq_mpsc_res *res)
{
	int ret;

	if (ring->claim && (READ_ONCE(ring->claim->state) != LFQ_CLAIM_PUSH ||
			    READ_ONCE(ring->claim->pos) != res->pos))
		return -EINVAL;
	ret = mpsc_commit(ring, res);
	if (!ret)
		mpsc_claim(ring, LFQ_CLAIM_IDLE);
	return ret;
}

/* Takes under the claim record: POP while we hold the taker lock. */
static int mpsc_peek_claim(struct lfq_ring *ring, struct lfq_mpsc_res *res,
			   unsigned int n, size_t size)
{
	int ret;

	mpsc_hold(ring, LFQ_CLAIM_POP, 0, 0);
	ret = __mpsc_peek(ring, res, n, size);

	if (ret <= 0)
		mpsc_claim(ring, LFQ_CLAIM_IDLE);
	return ret;
}

/* Our claim goes with the taker lock, after our last record. */
static int mpsc_release_claim(struct lfq_ring *ring,
			      const struct lfq_mpsc_res *res)
{
	int ret = mpsc_release(ring, res);

	if (!ret && !mpsc_locked(ring))
		mpsc_claim(ring, LFQ_CLAIM_IDLE);
	return ret;
}

static int mpsc_push_op(struct lfq_ring *ring, void *arg)
{
	struct mpsc_push_op *op = arg;
	struct lfq_mpsc_res res;
	int ret = mpsc_reserve_claim(ring, op->len, &res);

	if (ret)
		return ret;
	memcpy(res.data, op->src, op->len);
	return mpsc_commit_claim(ring, &res);
}

static int mpsc_reserve_op(struct lfq_ring *ring, void *arg)
{
	struct lfq_mpsc_res *res = arg;

	return mpsc_reserve_claim(ring, res->len, res);
}

static int mpsc_pop_op(struct lfq_ring *ring, void *arg)
{
	struct mpsc_pop_op *op = arg;
	struct lfq_mpsc_res res;
	int ret = mpsc_peek_claim(ring, &res, 1, op->size);

	if (ret < 0)
		return ret;
	memcpy(op->dst, res.data, res.len);
	mpsc_release_claim(ring, &res);
	return (int)res.len;
}

static int mpsc_check(const struct lfq_ring *ring, const void *p)
{
	if (!ring || ring->info.type != LFQ_RING_MPSC || !p)
		return -EINVAL;
	return 0;
}

/*
 * A joined handle has one claim record, so it holds one reservation, or
 * one batch of taken records, at a time: -EBUSY while its record names
 * one.
 */
static int mpsc_check_take(const struct lfq_ring *ring, const void *p)
{
	int ret = mpsc_check(ring, p);

	if (!ret && ring->claim &&
	    READ_ONCE(ring->claim->state) != LFQ_CLAIM_IDLE)
		return -EBUSY;
	return ret;
}

static int mpsc_check_len(const struct lfq_ring *ring, const void *p,
			  u32 len)
{
	int ret = mpsc_check_take(ring, p);

	if (ret)
		return ret;
	if (!len)
		return -EINVAL;
	return len > mpsc_max_len(ring) ? -E2BIG : 0;
}

uint32_t lfq_mpsc_max_len(const struct lfq_ring *ring)
{
	if (!ring || ring->info.type != LFQ_RING_MPSC)
		return 0;
	return mpsc_max_len(ring);
}

int lfq_mpsc_try_reserve(struct lfq_ring *ring, uint32_t len,
			 struct lfq_mpsc_res *res)
{
	int ret = mpsc_check_len(ring, res, len);

	return ret ? ret : mpsc_try_reserve(ring, len, res);
}

int lfq_mpsc_reserve(struct lfq_ring *ring, uint32_t len,
		     struct lfq_mpsc_res *res, int timeout_ms)
{
	int ret = mpsc_check_len(ring, res, len);

	if (ret)
		return ret;
	if (ring->info.policy != LFQ_MPSC_BLOCK)
		return mpsc_try_reserve(ring, len, res);
	res->len = len;
	return __lfq_wait(ring, LFQ_NOT_FULL, mpsc_reserve_op, res, timeout_ms);
}

int lfq_mpsc_commit(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	if (mpsc_check(ring, res))
		return -EINVAL;
	return mpsc_commit_claim(ring, res);
}

int lfq_mpsc_try_push(struct lfq_ring *ring, const void *data, uint32_t len)
{
	struct lfq_mpsc_res res;
	int ret = mpsc_check_len(ring, data, len);

	if (!ret)
		ret = mpsc_try_reserve(ring, len, &res);
	if (ret)
		return ret;
	memcpy(res.data, data, len);
	return mpsc_commit_claim(ring, &res);
}

int lfq_mpsc_push(struct lfq_ring *ring, const void *data, uint32_t len,
		  int timeout_ms)
{
	struct mpsc_push_op op = { .src = data, .len = len };
	int ret = mpsc_check_len(ring, data, len);

	if (ret)
		return ret;
	if (ring->info.policy != LFQ_MPSC_BLOCK)
		return lfq_mpsc_try_push(ring, data, len);
	return __lfq_wait(ring, LFQ_NOT_FULL, mpsc_push_op, &op, timeout_ms);
}

int lfq_mpsc_peek_burst(struct lfq_ring *ring, struct lfq_mpsc_res *res,
			unsigned int n)
{
	int ret = mpsc_check_take(ring, res);

	if (ret)
		return ret;
	if (!n)
		return -EINVAL;
	return mpsc_peek_claim(ring, res, n, UINT32_MAX);
}

int lfq_mpsc_peek(struct lfq_ring *ring, struct lfq_mpsc_res *res)
{
	int ret = lfq_mpsc_peek_burst(ring, res, 1);

	return ret < 0 ? ret : 0;
}

int lfq_mpsc_release(struct lfq_ring *ring, const struct lfq_mpsc_res *res)
{
	if (mpsc_check(ring, res))
		return -EINVAL;
	return mpsc_release_claim(ring, res);
}

int lfq_mpsc_try_pop(struct lfq_ring *ring, void *buf, size_t size)
{
	struct mpsc_pop_op op = { .dst = buf, .size = size };
	int ret = mpsc_check_take(ring, buf);

	return ret ? ret : mpsc_pop_op(ring, &op);
}

int lfq_mpsc_pop(struct lfq_ring *ring, void *buf, size_t size,
		 int timeout_ms)
{
	struct mpsc_pop_op op = { .dst = buf, .size = size };
	int ret = mpsc_check_take(ring, buf);

	if (ret)
		return ret;
	return __lfq_wait(ring, LFQ_NOT_EMPTY, mpsc_pop_op, &op, timeout_ms);
}

uint64_t lfq_mpsc_size(const struct lfq_ring *ring)
{
	const struct lfq_mpsc_hdr *hdr = ring->hdr;

	return lfq_span(ring, &hdr->head, &hdr->tail);
}

int lfq_mpsc_stats(const struct lfq_ring *ring, struct lfq_mpsc_stats *stats)
{
	const struct lfq_mpsc_hdr *hdr;

	if (mpsc_check(ring, stats))
		return -EINVAL;
	hdr = ring->hdr;
	stats->dropped = READ_ONCE(hdr->dropped);
	stats->overwritten = READ_ONCE(hdr->overwritten);
	return 0;
}

/* Slot p starts free for position p. */
void lfq_mpsc_init(struct lfq_ring *ring)
{
	u64 pos;

	for (pos = 0; pos < ring->capacity; pos++)
		mpsc_rec(ring, pos)->seq = pos;
}

/*
 * Readable when a record is committed at tail, writable when a slot is
 * free. A hint without barriers.
 */
short lfq_mpsc_poll(struct lfq_ring *ring)
{
	struct lfq_mpsc_hdr *hdr = ring->hdr;
	short mask = 0;
	u64 pos = READ_ONCE(hdr->tail);

	if (READ_ONCE(mpsc_rec(ring, pos)->seq) == pos + 1)
		mask |= POLLIN;
	if (lfq_span(ring, &hdr->head, &hdr->tail) < ring->capacity)
		mask |= POLLOUT;
	return mask;
}
