// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the MPSC log ring (LFQ_RING_MPSC) with the DISCARD and
 * BLOCK policies: __mpsc_reserve(), the writes of a reservation and
 * mpsc_commit(), and the consumer's try_pop (mpsc_lock(), __mpsc_peek()
 * of one record, the copy, mpsc_release(), mpsc_free(), mpsc_unlock())
 * of kmod/mpsc_log.c and user/mpsc_log.c, one shared access per step,
 * checked exhaustively by selftests/model/check.sh. mpsc_overwrite.pml
 * has the OVERWRITE policy.
 *
 * model: 3P x 1C, capacity 2, records of 1 slot; then capacity 4,
 * model: records of 1, 2 and 2..3 slots; DISCARD and BLOCK
 * checks: safety liveness
 * mutants: BUG_CHECK_OUTSIDE_LOOP BUG_CHECK_ONE_SLOT BUG_NO_HEAD_CAS
 * mutants: BUG_PUBLISH_EARLY BUG_TAKE_UNCOMMITTED BUG_TAIL_BEFORE_READ
 * mutants: BUG_RESET_AFTER_TAIL BUG_RESET_FIRST_ONLY
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The algorithm (the big comment of kmod/mpsc_log.c is the reference)
 *
 *   head and tail are free-running positions; a record takes `slots`
 *   consecutive positions from pos, its header (seq, len, slots) in the
 *   slot of pos, its payload after the header and over the following
 *   slots, their seq fields included, or from slot 0 when it would run
 *   past the end of the lap (mpsc_slots(): the record then also takes
 *   the positions up to the end of the lap). The seq of a record's first
 *   slot is its state: pos free, pos + 1 committed, TAKEN held by the
 *   consumer, pos + capacity freed (free for the next lap).
 *
 *   producer   pos = READ_ONCE(head); loop: slots = mpsc_slots(pos, len);
 *              (A) t = acquire(tail); pos < t: pos = READ_ONCE(head),
 *              -EIO if it did not move, retry; pos - t > capacity: -EIO;
 *              pos + slots - t > capacity: -ENOSPC; CAS head pos -> pos +
 *              slots, or retry from the head the CAS saw. Out of retries:
 *              -EBUSY. Then it writes the header and the payload, and
 *              commits: (B) CAS seq pos -> pos + 1, release.
 *   consumer   (L) try the taker lock hdr->taker, an acquire CAS from 0
 *              (held: -EBUSY); pos = READ_ONCE(tail); mpsc_take(pos): (C)
 *              seq = acquire(rec(pos).seq); pos: unlock, -EAGAIN; pos +
 *              1: read len and slots (-EIO if they do not fit); another
 *              value: -EIO. Tag the record TAKEN (a plain store, under
 *              the lock), copy the payload, then mpsc_release(): from =
 *              READ_ONCE(tail) and its checks, reset the seq and slots of
 *              every position from..end - 1 (seq = p + capacity), (D)
 *              release tail = end, and, holding no record at end, (U)
 *              unlock, a release store of 0. Only overwriters contend
 *              for the lock (mpsc_overwrite.pml): here -EBUSY and -EIO
 *              are asserted never to happen.
 *
 *   (A) pairs with (D): a producer writes positions only after their
 *   last reader has finished with them and reset their seq. (B) pairs
 *   with (C): the header and payload are read after they were written.
 *   (L) pairs with (U): a taker sees tail and the resets as the last
 *   taker left them. The labels are in comments at the steps below.
 *
 * What is modelled
 *
 *   Two phases, one after the other, each from a new ring, with three
 *   producers and the consumer:
 *
 *     1. capacity 2, 2 records of 1 slot per producer (the issue's
 *        configuration);
 *     2. capacity 4, producer 0's 2 records MEDIUM (2 slots at any
 *        position: at the last slot of the lap, its header there and
 *        its payload from slot 0), producer 1's 2 records LONG (2 slots,
 *        but 3 at the last slot of the lap: a padding position, then a
 *        payload over slots 0 and 1), as mpsc_slots() counts them for
 *        stride < len + 16 <= 2 * stride, and producer 2's 1 record
 *        SHORT (1 slot).
 *
 *   The phases run one after the other, so that their state spaces add
 *   up instead of multiplying. In both, producer 0 calls lfq_mpsc_push()
 *   on a BLOCK ring: after -ENOSPC or -EBUSY it waits and tries the same
 *   record again (__lfq_wait()). Producers 1 and 2 call
 *   lfq_mpsc_try_push() on a DISCARD ring: the record is dropped and
 *   counted in hdr->dropped. Both policies take the same path in
 *   __mpsc_reserve(), so one ring serves both kinds of caller. The
 *   consumer calls lfq_mpsc_try_pop() until every record is popped or
 *   dropped: it reads hdr->dropped for that, as a test would, in the
 *   step of its L (the algorithm never reads hdr->dropped).
 *
 *   Each atomic block holds exactly ONE access to the ring (a CAS
 *   counts as one) and otherwise local work and ghost bookkeeping only:
 *   the load of head, the acquire of tail (A, with the capacity check,
 *   which is local), the CAS on head, the header write (len and slots,
 *   one step), the payload write, the commit (B), the count of a drop;
 *   the consumer's lock CAS (L), its load of tail, the acquire of seq
 *   (C), the header read (len and slots), the tag, the payload read, the
 *   load of tail in mpsc_release() (its other loads read words only the
 *   lock holder writes), the reset of each position (seq and slots, which
 *   only the lock holder reads before D), the release of tail (D), the
 *   load of the seq at the new tail, and the unlock (U).
 *   Retries are capped at RETRY_LIMIT == 2 instead of LFQ_TRY_RETRIES:
 *   the caller calls again after -EBUSY, which starts from head again
 *   just as a further retry would, and 2 takes every way out of the
 *   loop. A wait (BLOCK, or the consumer after -EAGAIN) is an
 *   immediate call again: every interleaving a sleep allows.
 *
 *   Positions are bytes from 0 and do not wrap (at most 11 here); the
 *   signed differences of the code are exact while positions are less
 *   than 2^63 apart. The payload is one byte, in the record's last
 *   position's slot; the seq of each other position the payload covers
 *   is overwritten with PAYLOAD, a value no reader takes for a state
 *   (which bytes the payload leaves there does not matter here: with no
 *   overwriter, nobody reads the seq of a position inside a live
 *   record). len is the record's kind, the ring's stride left abstract.
 *
 *   Left out: memory ordering (Promela is sequentially consistent: the
 *   labels' pairing is argued in kmod/mpsc_log.c and
 *   Documentation/mpsc_log.rst). The mutants show what the reorderings
 *   that the labels forbid would break: BUG_PUBLISH_EARLY (the payload
 *   write past B), BUG_TAKE_UNCOMMITTED (the reads above C),
 *   BUG_TAIL_BEFORE_READ and BUG_RESET_AFTER_TAIL (the read or the
 *   resets past D, which is also what the header write above A would
 *   do). Also left out: the wake-ups (W1/W2, wake.pml's); the checks of
 *   mpsc_commit() and mpsc_release() that only reject bad input (they
 *   read fields nobody else writes while the caller holds the record;
 *   asserted never to fail where cheap); records of length 0 and the
 *   repair of dead participants (claim records, and R, the repair's
 *   stand-in for a dead producer's B); peek_burst of more than one
 *   record; -EMSGSIZE; the OVERWRITE policy (mpsc_overwrite.pml).
 *
 * Properties
 *
 *   - no position is reserved twice: a producer's header write finds its
 *     positions free (ghost own[], set at the header write, cleared when
 *     D frees them);
 *   - the consumer never reads a slot while a producer writes it (ghost
 *     wr[], from the header write to B; asserted at the header read and
 *     at the payload read);
 *   - every record popped was pushed and committed, and is the one
 *     written at the position it was popped from, popped once (ghost
 *     at[], cleared by the pop);
 *   - per-producer order at the consumer (local last[]);
 *   - commit and release never fail, and the -EIO paths are never
 *     taken;
 *   - at the end of each phase: popped + hdr->dropped == pushed, every
 *     record written was popped, head == tail, and every slot is free
 *     for its next position (seq == p);
 *   - no deadlock (the safety search's end states), and under weak
 *     fairness no cycle without a commit, a drop or a pop (liveness:
 *     the safety search cannot see a consumer or a BLOCK producer that
 *     retries for ever).
 *
 *   last[] only records history; the liveness search (CHECK_LIVENESS)
 *   leaves it out.
 *
 * Mutants
 *
 *   BUG_CHECK_OUTSIDE_LOOP the capacity check done once before the CAS
 *                          loop: a failed CAS retries without it
 *   BUG_CHECK_ONE_SLOT     the capacity check counts every record as
 *                          one slot
 *   BUG_NO_HEAD_CAS        head claimed by load, compare, store
 *   BUG_PUBLISH_EARLY      B before the payload write
 *   BUG_TAKE_UNCOMMITTED   the consumer takes seq == pos (reserved, not
 *                          committed) as ready
 *   BUG_TAIL_BEFORE_READ   the consumer frees (resets, D) before it
 *                          reads the payload
 *   BUG_RESET_AFTER_TAIL   mpsc_free() moves tail before the resets
 *   BUG_RESET_FIRST_ONLY   mpsc_free() resets only the record's first
 *                          position: a stale payload stays in a seq
 */

#define MAXC		4		/* the largest capacity of the phases */
#define NPROD		3
#define ITEMS		2		/* records per producer, at most */
#define MAXPOS		12		/* positions handed out, at most */
#ifndef RETRY_LIMIT
#define RETRY_LIMIT	2		/* LFQ_TRY_RETRIES; 2 takes every exit */
#endif

#define TAKEN		128		/* LFQ_MPSC_TAKEN | MPSC_ME */
#define PAYLOAD		64		/* payload bytes over a seq: no state */

/* record kinds: their len, the stride abstract */
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
 * Out of __mpsc_reserve() with -ENOSPC, or -EBUSY that mpsc_try_reserve()
 * makes -ENOSPC: producer 0 (BLOCK) waits and tries the same record
 * again, the others (DISCARD) drop it.
 */
#define FULL \
	n = 0; \
	pos = 0; \
	if \
	:: id == 0 -> goto ReadHead \
	:: else -> goto Drop \
	fi

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
byte seq[MAXC];
byte rlen[MAXC];		/* rec->len: the record's kind */
byte rslots[MAXC];		/* rec->slots */
byte data[MAXC];		/* the payload, in the record's last slot */

/* ghost state: checked, never read by the algorithm */
byte popped;			/* records the consumer copied out */
bit  own[MAXC];			/* a record takes the slot: header write .. D */
bit  wr[MAXC];			/* its producer writes it: header write .. B */
byte at[MAXPOS];		/* the item written at each position, until popped */

/*
 * Producer id pushes ITEM(id, 0 .. items - 1), records of kind k, in
 * order: producer 0 with lfq_mpsc_push() on a BLOCK ring, the others
 * with lfq_mpsc_try_push() on a DISCARD ring.
 */
proctype producer(byte id; byte k; byte items)
{
	byte i;				/* records pushed or dropped so far */
	byte pos, t, n, retries;

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
		:: pos + n - t > cap -> t = 0; FULL
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
#ifdef BUG_CHECK_ONE_SLOT
		:: pos + 1 - t > cap -> t = 0; FULL
#else
		:: pos + n - t > cap -> t = 0; FULL	/* -ENOSPC */
#endif
		:: else -> t = 0
		fi
	}
CAS:
	/* try_cmpxchg_relaxed(&hdr->head, &pos, pos + slots) */
#ifdef BUG_NO_HEAD_CAS
	/* a load, a compare, then a plain store: not one instruction */
	atomic {
		if
		:: head == pos -> goto SetHead
		:: else -> pos = head; RESERVE_RETRY
		fi
	}
SetHead:
	atomic {
		head = pos + n;
		retries = 0;
		goto WriteHeader
	}
#else
	atomic {
		if
		:: head == pos -> head = pos + n; retries = 0; goto WriteHeader
		:: else -> pos = head; RESERVE_RETRY	/* pos: the current head */
		fi
	}
#endif
StaleHead:
	atomic {
		/* prev = pos; pos = READ_ONCE(hdr->head) */
		assert(head != pos);			/* -EIO: never */
		pos = head;
		RESERVE_RETRY
	}
progress_drop:
Drop:
	atomic {
		/* DISCARD: lfq_ring_count(ring, &hdr->dropped) */
		dropped++;
		i++;
		goto ReadHead
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
#ifdef BUG_PUBLISH_EARLY
	atomic {
		seq[SLOT(pos)] = pos + 1		/* B above the payload write */
	}
#endif
WritePayload:
	atomic {
		/* memcpy(res.data, src, len): over the seq of the slots it covers */
		for (t : PFIRST(pos, n) .. pos + n - 1) {
			seq[SLOT(t)] = PAYLOAD
		}
		t = 0;
		data[SLOT(pos + n - 1)] = ITEM(id, i);
		at[pos] = ITEM(id, i)
	}
progress_commit:
	atomic {
#ifndef BUG_PUBLISH_EARLY
		/* B: try_cmpxchg_release(&rec->seq, &seq, pos + 1); pairs with C */
		assert(seq[SLOT(pos)] == pos);		/* -EINVAL: never */
		seq[SLOT(pos)] = pos + 1;
#endif
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

/* the end of mpsc_free(): D, and the positions are free for the next lap */
inline free_tail()
{
	/* D: smp_store_release(&hdr->tail, to); pairs with A in __mpsc_reserve() */
	tail = pos + n;
	for (j : pos .. pos + n - 1) {
		own[SLOT(j)] = 0
	}
	j = 0
}

/*
 * The consumer pops with lfq_mpsc_try_pop(), calling again after
 * -EAGAIN, until every record is popped or dropped.
 */
proctype consumer()
{
	byte last[NPROD];		/* 1 + sequence of the last item popped, per producer */
	byte pos, k, n, item, p, j;

Lock:
	atomic {
		if
		:: popped + dropped == total -> goto Done	/* all popped or dropped */
		:: else
		fi;
		/* L: try_cmpxchg_acquire(&hdr->taker, &free, TAKEN | ME); pairs with U */
		assert(taker == 0);			/* -EBUSY: only overwriters */
		taker = 1
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
#ifdef BUG_TAKE_UNCOMMITTED
		:: seq[SLOT(pos)] == pos
#else
		:: seq[SLOT(pos)] == pos -> goto Unlock	/* -EAGAIN */
#endif
		:: else -> assert(0)			/* -EIO: never */
		fi
	}
ReadHeader:
	atomic {
		/* len = READ_ONCE(rec->len); slots = READ_ONCE(rec->slots) */
		assert(!wr[SLOT(pos)]);			/* not being written */
		k = rlen[SLOT(pos)];
		n = rslots[SLOT(pos)];
		assert(FITS(pos, k, n));		/* mpsc_fits(), or -EIO */
		k = 0
	}
Take:
	atomic {
		/* WRITE_ONCE(mpsc_rec(ring, pos)->seq, LFQ_MPSC_TAKEN | MPSC_ME) */
		seq[SLOT(pos)] = TAKEN
	}
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
		assert(p == pos && taker == 1);
		assert(seq[SLOT(pos)] == TAKEN && rslots[SLOT(pos)] == n)
	}
#ifdef BUG_RESET_AFTER_TAIL
	atomic { free_tail() }			/* D above the resets */
#endif
Reset:	/* mpsc_free(ring, from, end) */
	atomic {
		/* WRITE_ONCE(rec->seq, p + capacity); WRITE_ONCE(rec->slots, 0) */
		seq[SLOT(p)] = p + cap;
		rslots[SLOT(p)] = 0;
		p++;
		if
#ifndef BUG_RESET_FIRST_ONLY
		:: p < pos + n -> goto Reset
#endif
		:: else -> p = 0
		fi
	}
#if defined(BUG_TAIL_BEFORE_READ)
	atomic { free_tail() }
progress_pop:
	atomic { read_payload() }		/* after D */
#elif !defined(BUG_RESET_AFTER_TAIL)
	atomic { free_tail() }
#endif
	atomic {
		/* READ_ONCE(mpsc_rec(ring, end)->seq): we hold no record there */
		assert(seq[SLOT(pos + n)] != TAKEN)
	}
Unlock:
	atomic {
		/* U: smp_store_release(&hdr->taker, 0); pairs with L */
		taker = 0;
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
	dropped = 0;
	popped = 0;
	taker = 0;
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
	assert(popped + dropped == total);
	for (i : 0 .. MAXPOS - 1) {
		assert(at[i] == 0)			/* every record written was popped */
	}
	assert(head == tail);
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
		run producer(0, SHORT, 2);
		run producer(1, SHORT, 2);
		run producer(2, SHORT, 2);
		run consumer();
		i = 0
	}
	_nr_pr == ALONE;
	d_step {
		check_end();
		i = 0
	}

	/* phase 2: capacity 4, records of 2, 2..3 and 1 slots */
	atomic {
		new_ring(4, 5);
		run producer(0, MEDIUM, 2);
		run producer(1, LONG, 2);
		run producer(2, SHORT, 1);
		run consumer();
		i = 0
	}
	_nr_pr == ALONE;
	d_step {
		check_end();
		i = 0
	}
}
