// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the MPSC log ring (LFQ_RING_MPSC) with the OVERWRITE
 * policy: producers that find the ring full free the oldest record
 * unread (mpsc_drop()), under the taker lock that the consumer holds
 * while it reads a record, in kmod/mpsc_log.c and user/mpsc_log.c, one
 * shared access per step, checked exhaustively by
 * selftests/model/check.sh. mpsc.pml has the DISCARD and BLOCK policies
 * and describes the ring, the steps and what both models leave out.
 *
 * model: 2P x 1C, capacity 2, records of 1 slot; then capacity 4,
 * model: records of 1 and 2..3 slots; OVERWRITE
 * checks: safety liveness
 * mutants: BUG_LOCK_NO_CAS BUG_DROP_NO_LOCK BUG_UNLOCK_EARLY BUG_PEEK_UNLOCKS
 * mutants: BUG_DROP_UNCOMMITTED
 * mutants: BUG_CHECK_OUTSIDE_LOOP BUG_RESET_AFTER_TAIL BUG_TAIL_BEFORE_READ
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The overwrite (the big comment of kmod/mpsc_log.c is the reference)
 *
 *   Takers, the consumer and overwriting producers, take and free records
 *   at tail under the taker lock hdr->taker, which is only ever tried:
 *   (L) an acquire CAS from 0, (U) a release store of 0.
 *
 *   overwriter In __mpsc_reserve(), when (A) finds pos + slots - t >
 *              capacity on an OVERWRITE ring, mpsc_drop(): try the lock
 *              (held: -EAGAIN); t = READ_ONCE(tail); mpsc_take(t): (C)
 *              seq == t + 1 ready, t: -EAGAIN, another value -EIO; read
 *              len and slots, -EIO if they do not fit; then mpsc_free(t,
 *              t + slots) (the resets of seq and slots, then (D)), count
 *              it in hdr->overwritten, and unlock (U). Whatever
 *              mpsc_drop() returned but -EIO, the producer reloads head
 *              and retries; out of retries (the lock held by the
 *              consumer, or the oldest record not committed yet) -EBUSY,
 *              which mpsc_try_reserve() makes -ENOSPC, counted in
 *              hdr->dropped.
 *   consumer   try_pop: try the lock (held: -EBUSY); pos =
 *              READ_ONCE(tail); mpsc_take(pos) as above (-EAGAIN:
 *              unlock); tag the record TAKEN (a plain store, under the
 *              lock); copy the payload; mpsc_release(): its checks, the
 *              resets, (D), and, holding no record at the new tail,
 *              unlock (U). The consumer holds the lock while it holds the
 *              record, so no overwriter frees it under the reader.
 *
 *   (L) pairs with (U): a taker sees tail and the resets as the last
 *   taker left them. Under the lock tail is fresh, so a taker never
 *   looks at the seq of a stale position, which may lie inside the
 *   payload of a newer record (a payload runs over the headers of the
 *   slots it takes).
 *
 * What is modelled
 *
 *   Two phases, one after the other, each from a new ring, with two
 *   producers calling lfq_mpsc_try_push() (lfq_mpsc_push() is the same
 *   on an OVERWRITE ring: it never waits) and the consumer calling
 *   lfq_mpsc_try_pop() until every record is popped, dropped or
 *   overwritten (it reads hdr->dropped and hdr->overwritten for that, as
 *   a test would, in the step of its L):
 *
 *     1. capacity 2, 3 records of 1 slot per producer;
 *     2. capacity 4, 2 records per producer, producer 0's SHORT (1
 *        slot) and producer 1's LONG (mpsc.pml's kinds: 2 slots, 3 at
 *        the last slot of the lap).
 *
 *   The steps are mpsc.pml's, one shared access each, and the
 *   overwriter's: its L, its load of tail, its C, its header read, its
 *   resets, its D and its U. The count in hdr->overwritten, an atomic
 *   add that no step of the algorithm reads, is folded into the step of
 *   D. Retries are capped at RETRY_LIMIT == 3: a producer of a LONG
 *   record may have to drop two records before its own fits.
 *
 *   A payload covers the seq of the slots after its header (or of the
 *   slots from 0, when it wraps). Payloads hold any bytes; of the values
 *   the seq of a position q inside a payload may then hold, the model
 *   writes PAYLOAD (no state) or q - capacity + 1, what a taker that
 *   looked at the stale position q - capacity would take for a committed
 *   record (the other values a taker tells apart, q - capacity and
 *   TAKEN, send it back with -EAGAIN or -EIO). The len and slots there
 *   keep their stale values. With the lock no taker looks there; without
 *   it (BUG_DROP_NO_LOCK, BUG_LOCK_NO_CAS) one does.
 *
 *   Left out, besides what mpsc.pml leaves out: the claim records that
 *   user/mpsc_log.c writes around a take, and the repair of a taker that
 *   died holding the lock.
 *
 * Properties
 *
 *   mpsc.pml's (no position reserved twice; no slot read, by the consumer
 *   or an overwriter, while a producer writes it; every record popped was
 *   pushed and committed, at its position, once; per-producer order;
 *   commit and release never fail; no -EIO), and:
 *
 *   - a record is popped or overwritten, never both, and only a written
 *     record is overwritten (ghost at[], cleared by whoever takes it);
 *   - conservation at the end of each phase: popped + dropped +
 *     overwritten == pushed, head == tail, the lock free, every slot free
 *     for its next position;
 *   - no deadlock, and under weak fairness no cycle without a commit, a
 *     pop, a drop or an overwrite (liveness).
 *
 * Mutants
 *
 *   BUG_LOCK_NO_CAS        both kinds of taker try the lock by load,
 *                          compare, store: two can hold it
 *   BUG_DROP_NO_LOCK       mpsc_drop() without the lock: the overwriter
 *                          races with the consumer (and a stale tail)
 *   BUG_UNLOCK_EARLY       mpsc_drop() unlocks before it frees
 *   BUG_PEEK_UNLOCKS       the consumer unlocks when it takes the record,
 *                          not when it releases it
 *   BUG_DROP_UNCOMMITTED   mpsc_drop() frees a reserved record (seq ==
 *                          t) as well as a committed one
 *   BUG_CHECK_OUTSIDE_LOOP as in mpsc.pml
 *   BUG_RESET_AFTER_TAIL   as in mpsc.pml, for the consumer and the
 *                          overwriter
 *   BUG_TAIL_BEFORE_READ   as in mpsc.pml
 */

#define MAXC		4		/* the largest capacity of the phases */
#define NPROD		2
#define ITEMS		3		/* records per producer, at most */
#define MAXPOS		12		/* positions handed out, at most */
#ifndef RETRY_LIMIT
#define RETRY_LIMIT	3		/* LFQ_TRY_RETRIES; 3: two drops, a CAS */
#endif

#define TAKEN		128		/* LFQ_MPSC_TAKEN | MPSC_ME */
#define PAYLOAD		64		/* payload bytes over a seq: no state */

/* record kinds: their len, the stride abstract (mpsc.pml) */
#define SHORT		1		/* len <= stride - 16: one slot */
#define MEDIUM		2		/* stride - 16 < len <= stride */
#define LONG		3		/* stride < len <= 2 * stride - 16 */

#define SLOT(p)		((p) & (cap - 1))
/* mpsc_slots(): the positions a record of kind k takes at p */
#define NSLOTS(p, k)	((k) == SHORT -> 1 : \
			 (SLOT(p) + 2 <= cap -> 2 : cap - SLOT(p) + (k) - 1))
/* mpsc_wraps(): the payload starts at slot 0 */
#define WRAPS(p, n)	(SLOT(p) + (n) > cap)
/* the first position whose seq the payload covers */
#define PFIRST(p, n)	(WRAPS(p, n) -> (p) + cap - SLOT(p) : (p) + 1)
/* mpsc_fits(), for the kinds of this model */
#define FITS(p, k, n)	((k) >= SHORT && (k) <= LONG && (n) == NSLOTS(p, k))

/* an item is producer * ITEMS + its sequence + 1; 0 is "never written" */
#define ITEM(pr, i)	((pr) * ITEMS + (i) + 1)
#define PROD_OF(it)	(((it) - 1) / ITEMS)
#define SEQ_OF(it)	(((it) - 1) % ITEMS)

/*
 * Out of __mpsc_reserve() with -EBUSY, which mpsc_try_reserve() makes
 * -ENOSPC: the record is dropped.
 */
#define FULL \
	n = 0; \
	pos = 0; \
	goto Drop

/*
 * "continue" in the loop of __mpsc_reserve(), from its acquire of tail
 * (A); out of retries, -EBUSY. BUG_CHECK_OUTSIDE_LOOP goes back to the
 * CAS instead, without the capacity check.
 */
#ifdef BUG_CHECK_OUTSIDE_LOOP
#define RESERVE_RETRY \
	retries++; \
	if \
	:: retries < RETRY_LIMIT -> n = NSLOTS(pos, k); goto CAS \
	:: else -> retries = 0; FULL \
	fi
#else
#define RESERVE_RETRY \
	retries++; \
	n = 0; \
	if \
	:: retries < RETRY_LIMIT -> goto LoadTail \
	:: else -> retries = 0; FULL \
	fi
#endif

/* the ring: struct lfq_mpsc_hdr, and each slot's header and payload */
byte cap;			/* ring->capacity of this phase */
byte total;			/* records its producers push */
byte head;
byte tail;
byte taker;			/* hdr->taker: 0, or 1 for LFQ_MPSC_TAKEN | MPSC_ME */
byte dropped;			/* hdr->dropped */
byte overwritten;		/* hdr->overwritten */
byte seq[MAXC];
byte rlen[MAXC];		/* rec->len: the record's kind */
byte rslots[MAXC];		/* rec->slots */
byte data[MAXC];		/* the payload, in the record's last slot */

/* ghost state: checked, never read by the algorithm */
byte popped;			/* records the consumer copied out */
bit  own[MAXC];			/* a record takes the slot: header write .. D */
bit  wr[MAXC];			/* its producer writes it: header write .. B */
byte at[MAXPOS];		/* the item written at each position, until taken */

/* mpsc_unlock(): U: smp_store_release(&hdr->taker, 0); pairs with L */
#define UNLOCK \
	taker = 0

/*
 * The end of mpsc_free(ring, from, from + m), after the resets: D, and
 * the positions are free for the next lap.
 */
inline free_tail(from, m)
{
	/* D: smp_store_release(&hdr->tail, to); pairs with A in __mpsc_reserve() */
	tail = from + m;
	for (j : from .. from + m - 1) {
		own[SLOT(j)] = 0
	}
	j = 0
}

/*
 * Producer id pushes ITEM(id, 0 .. items - 1), records of kind k, in
 * order, with lfq_mpsc_try_push() on an OVERWRITE ring.
 */
proctype producer(byte id; byte k; byte items)
{
	byte i;				/* records pushed or dropped so far */
	byte pos, t, n, l, p, j, retries;

ReadHead:
	atomic {
		if
		:: i == items -> goto Done		/* all pushed */
		:: else
		fi;
		/* no barrier: head only hands out positions, (B) publishes them */
		pos = head				/* READ_ONCE(hdr->head) */
	}
#ifdef BUG_CHECK_OUTSIDE_LOOP
	/* the check once, then a loop of CASes that never checks again */
	atomic {
		n = NSLOTS(pos, k);
		t = tail;				/* A */
		assert(pos - t <= cap);			/* -EIO: never */
		if
		:: pos + n - t > cap -> t = 0; n = 0; goto DropLock
		:: else -> t = 0; goto CAS
		fi
	}
#endif
LoadTail:
	atomic {
		n = NSLOTS(pos, k);			/* mpsc_slots() */
		/* A: t = smp_load_acquire(&hdr->tail); pairs with D in mpsc_free() */
		t = tail;
		if
		:: pos < t -> t = 0; goto StaleHead	/* pos went stale */
		:: else
		fi;
		assert(pos - t <= cap);			/* -EIO: never */
		if
		:: pos + n - t > cap -> t = 0; n = 0; goto DropLock	/* mpsc_drop() */
		:: else -> t = 0
		fi
	}
CAS:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->head, &pos, pos + slots) */
		if
		:: head == pos -> head = pos + n; retries = 0; goto WriteHeader
		:: else -> pos = head; RESERVE_RETRY	/* pos: the current head */
		fi
	}
StaleHead:
	atomic {
		/* prev = pos; pos = READ_ONCE(hdr->head) */
		assert(head != pos);			/* -EIO: never */
		pos = head;
		RESERVE_RETRY
	}
ReloadHead:
	atomic {
		/* after mpsc_drop(): pos = READ_ONCE(hdr->head); continue */
		pos = head;
		RESERVE_RETRY
	}
progress_drop:
Drop:
	atomic {
		/* mpsc_try_reserve(): lfq_ring_count(ring, &hdr->dropped) */
		dropped++;
		i++;
		goto ReadHead
	}

	/* mpsc_drop(): free the oldest record unread */
DropLock:
#if defined(BUG_LOCK_NO_CAS)
	/* a load, a compare, then a plain store: not one instruction */
	atomic {
		if
		:: taker == 0
		:: else -> goto ReloadHead		/* -EAGAIN */
		fi
	}
	atomic { taker = 1 }
#elif !defined(BUG_DROP_NO_LOCK)
	atomic {
		/* mpsc_lock(): L: try_cmpxchg_acquire(&hdr->taker, ...); pairs with U */
		if
		:: taker == 0 -> taker = 1
		:: else -> goto ReloadHead		/* -EAGAIN */
		fi
	}
#endif
DropLoadTail:
	atomic {
		t = tail				/* READ_ONCE(hdr->tail) */
	}
DropLoadSeq:
	atomic {
		/* mpsc_take(): C: seq = smp_load_acquire(&rec->seq); pairs with B */
		if
		:: seq[SLOT(t)] == t + 1
#ifdef BUG_DROP_UNCOMMITTED
		:: seq[SLOT(t)] == t
#else
		:: seq[SLOT(t)] == t -> t = 0; goto DropUnlock	/* -EAGAIN */
#endif
		:: else -> assert(0)			/* -EIO: never */
		fi
	}
DropReadHeader:
	atomic {
		/* len = READ_ONCE(rec->len); slots = READ_ONCE(rec->slots) */
		assert(!wr[SLOT(t)]);			/* not being written */
		l = rlen[SLOT(t)];
		n = rslots[SLOT(t)];
		assert(FITS(t, l, n));			/* mpsc_fits(), or -EIO */
		l = 0;
		assert(at[t] != 0);			/* not popped, not dropped */
		at[t] = 0;				/* lost unread */
		p = t
	}
#ifdef BUG_UNLOCK_EARLY
	atomic { UNLOCK }			/* U above the free */
#endif
#ifdef BUG_RESET_AFTER_TAIL
	atomic { free_tail(t, n) }		/* D above the resets */
#endif
DropReset:	/* mpsc_free(ring, t, t + slots) */
	atomic {
		/* WRITE_ONCE(rec->seq, p + capacity); WRITE_ONCE(rec->slots, 0) */
		seq[SLOT(p)] = p + cap;
		rslots[SLOT(p)] = 0;
		p++;
		if
		:: p < t + n -> goto DropReset
		:: else -> p = 0
		fi
	}
progress_overwrite:
	atomic {
#ifndef BUG_RESET_AFTER_TAIL
		free_tail(t, n);
#endif
		/* lfq_ring_count(ring, &hdr->overwritten) */
		overwritten++;
		t = 0;
		n = 0
	}
DropUnlock:
	atomic {
#if !defined(BUG_UNLOCK_EARLY) && !defined(BUG_DROP_NO_LOCK)
		UNLOCK;
#endif
		goto ReloadHead
	}

WriteHeader:
	atomic {
		/* rec->len = len; rec->slots = slots */
		for (t : pos .. pos + n - 1) {
			assert(!own[SLOT(t)]);		/* reserved once */
			own[SLOT(t)] = 1;
			wr[SLOT(t)] = 1
		}
		t = 0;
		rlen[SLOT(pos)] = k;
		rslots[SLOT(pos)] = n
	}
WritePayload:
	atomic {
		/* memcpy(res.data, src, len): any bytes over the seq it covers */
		for (t : PFIRST(pos, n) .. pos + n - 1) {
			if
			:: seq[SLOT(t)] = PAYLOAD
			:: t >= cap -> seq[SLOT(t)] = t - cap + 1
			fi
		}
		t = 0;
		data[SLOT(pos + n - 1)] = ITEM(id, i);
		at[pos] = ITEM(id, i)
	}
progress_commit:
	atomic {
		/* B: try_cmpxchg_release(&rec->seq, &seq, pos + 1); pairs with C */
		assert(seq[SLOT(pos)] == pos);		/* -EINVAL: never */
		seq[SLOT(pos)] = pos + 1;
		for (t : pos .. pos + n - 1) {
			wr[SLOT(t)] = 0
		}
		t = 0;
		i++;
		pos = 0;
		n = 0;
		goto ReadHead
	}
Done:
	skip
}

/* the consumer's copy of the record at pos: memcpy(op->dst, res.data, res.len) */
inline read_payload()
{
	item = data[SLOT(pos + n - 1)];
	assert(!wr[SLOT(pos + n - 1)]);		/* written and committed */
	assert(item != 0 && item == at[pos]);	/* the record at pos, once */
	at[pos] = 0;
	popped++;
#ifndef CHECK_LIVENESS
	assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]);	/* per-producer order */
	last[PROD_OF(item)] = SEQ_OF(item) + 1;
#endif
	item = 0
}

/*
 * The consumer pops with lfq_mpsc_try_pop(), calling again after
 * -EAGAIN or -EBUSY, until every record is popped, dropped or
 * overwritten.
 */
proctype consumer()
{
	byte last[NPROD];		/* 1 + sequence of the last item popped, per producer */
	byte pos, l, n, item, p, j;

Lock:
	atomic {
		if
		:: popped + dropped + overwritten == total -> goto Done
		:: else
		fi;
#ifdef BUG_LOCK_NO_CAS
		if
		:: taker == 0
		:: else -> goto Lock			/* -EBUSY */
		fi
	}
	atomic {
		taker = 1
#else
		/* L: try_cmpxchg_acquire(&hdr->taker, &free, TAKEN | ME); pairs with U */
		if
		:: taker == 0 -> taker = 1
		:: else -> goto Lock			/* -EBUSY */
		fi
#endif
	}
LoadTail:
	atomic {
		/* ours to move while we hold the lock */
		pos = tail				/* READ_ONCE(hdr->tail) */
	}
LoadSeq:
	atomic {
		/* mpsc_take(): C: seq = smp_load_acquire(&rec->seq); pairs with B */
		if
		:: seq[SLOT(pos)] == pos + 1
		:: seq[SLOT(pos)] == pos -> goto Unlock	/* -EAGAIN */
		:: else -> assert(0)			/* -EIO: never */
		fi
	}
ReadHeader:
	atomic {
		/* len = READ_ONCE(rec->len); slots = READ_ONCE(rec->slots) */
		assert(!wr[SLOT(pos)]);			/* not being written */
		l = rlen[SLOT(pos)];
		n = rslots[SLOT(pos)];
		assert(FITS(pos, l, n));		/* mpsc_fits(), or -EIO */
		l = 0
	}
Take:
	atomic {
		/* WRITE_ONCE(mpsc_rec(ring, pos)->seq, LFQ_MPSC_TAKEN | MPSC_ME) */
		seq[SLOT(pos)] = TAKEN
	}
#ifdef BUG_PEEK_UNLOCKS
	atomic { UNLOCK }			/* the lock given back at peek */
#endif
#ifndef BUG_TAIL_BEFORE_READ
progress_pop:
	atomic { read_payload() }
#endif
Release:
	atomic {
		/*
		 * mpsc_release(): from = READ_ONCE(hdr->tail); its other loads
		 * (taker, and the seq and slots of our record) read words that
		 * only the lock holder writes: they pass, -EINVAL never.
		 */
		p = tail;
		assert(p == pos);			/* res->pos < tail: -EINVAL */
		assert(taker == 1);			/* !mpsc_locked(): -EINVAL */
		assert(seq[SLOT(pos)] == TAKEN && rslots[SLOT(pos)] == n)
	}
#ifdef BUG_RESET_AFTER_TAIL
	atomic { free_tail(pos, n) }		/* D above the resets */
#endif
Reset:	/* mpsc_free(ring, from, end) */
	atomic {
		/* WRITE_ONCE(rec->seq, p + capacity); WRITE_ONCE(rec->slots, 0) */
		seq[SLOT(p)] = p + cap;
		rslots[SLOT(p)] = 0;
		p++;
		if
		:: p < pos + n -> goto Reset
		:: else -> p = 0
		fi
	}
#if defined(BUG_TAIL_BEFORE_READ)
	atomic { free_tail(pos, n) }
progress_pop:
	atomic { read_payload() }		/* after D */
#elif !defined(BUG_RESET_AFTER_TAIL)
	atomic { free_tail(pos, n) }
#endif
	atomic {
		/* READ_ONCE(mpsc_rec(ring, end)->seq): we hold no record there */
		assert(seq[SLOT(pos + n)] != TAKEN)
	}
#ifdef BUG_PEEK_UNLOCKS
	atomic {
		pos = 0;				/* unlocked at the take */
		n = 0;
		goto Lock				/* return */
	}
#endif
Unlock:
	atomic {
		UNLOCK;
		pos = 0;
		n = 0;
		goto Lock				/* return */
	}
Done:
	skip
}

/*
 * A new ring of capacity c (lfq_mpsc_init(): slot p free for position p),
 * for the given number of records.
 */
inline new_ring(c, records)
{
	cap = c;
	total = records;
	head = 0;
	tail = 0;
	taker = 0;
	dropped = 0;
	overwritten = 0;
	popped = 0;
	for (i : 0 .. MAXC - 1) {
		seq[i] = i;
		rlen[i] = 0;
		rslots[i] = 0;
		data[i] = 0;
		own[i] = 0;
		wr[i] = 0
	}
	for (i : 0 .. MAXPOS - 1) {
		at[i] = 0
	}
}

/* everyone of the phase has ended: conservation, the ring empty and free */
inline check_end()
{
	assert(popped + dropped + overwritten == total);
	for (i : 0 .. MAXPOS - 1) {
		assert(at[i] == 0)			/* every record written was taken */
	}
	assert(head == tail && taker == 0);
	for (i : 0 .. cap - 1) {
		assert(!own[i] && !wr[i]);
		assert(seq[SLOT(head + i)] == head + i)
	}
}

/*
 * _nr_pr once init is alone: the liveness search's never claim (np_)
 * counts as a process
 */
#ifdef CHECK_LIVENESS
#define ALONE		2
#else
#define ALONE		1
#endif

init
{
	byte i;

	/* phase 1: capacity 2, records of 1 slot */
	atomic {
		new_ring(2, 6);
		run producer(0, SHORT, 3);
		run producer(1, SHORT, 3);
		run consumer();
		i = 0
	}
	_nr_pr == ALONE;
	d_step {
		check_end();
		i = 0
	}

	/* phase 2: capacity 4, records of 1 and 2..3 slots */
	atomic {
		new_ring(4, 4);
		run producer(0, SHORT, 2);
		run producer(1, LONG, 2);
		run consumer();
		i = 0
	}
	_nr_pr == ALONE;
	d_step {
		check_end();
		i = 0
	}
}
