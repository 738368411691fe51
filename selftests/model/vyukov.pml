// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the Vyukov bounded MPMC queue: __vyukov_push() and
 * __vyukov_pop() of kmod/vyukov.c and user/vyukov.c, line for line,
 * checked exhaustively by selftests/model/check.sh.
 *
 * model: 2P x 2C, capacity 2, 3 laps, bursts of 1 and 2
 * checks: safety liveness
 * mutants: BUG_PUBLISH_EARLY BUG_READ_EARLY BUG_RELEASE_EARLY
 * mutants: BUG_RELEASE_SEQ BUG_FULL_CHECK BUG_NO_CAS BUG_CORRUPT_BOUND
 * mutants: BUG_BURST_NO_K
 *
 * check.sh reads the lines above: "model:" describes the
 * configuration, "checks:" lists the searches (safety: assertions and
 * invalid end states; liveness: non-progress cycles under weak fairness),
 * "mutants:" lists macros that each break the algorithm on purpose; with
 * each one, some search must fail. It builds each search with
 * -DCHECK_SAFETY or -DCHECK_LIVENESS.
 *
 * What is modelled
 *
 *   Two producers each push ITEMS == 3 items and two consumers pop until
 *   all TOTAL == 6 items are claimed, through a ring of C == 2 slots:
 *   each slot is used TOTAL / C == 3 times (3 laps).
 *
 *   Producer 0 and consumer 0 move one element per call, like the
 *   blocking lfq_vyukov_push() and lfq_vyukov_pop() (__lfq_wait() around
 *   __vyukov_push/pop(ring, elem, 1)). Producer 1 and consumer 1 move up
 *   to 2 per call, like a caller looping on lfq_vyukov_try_push_burst()
 *   and lfq_vyukov_try_pop_burst(): producer 1 asks for 2 then for what is
 *   left, and any call may take fewer than it asked for (partial burst).
 *   Blocking or not comes down to "call again until it succeeds".
 *
 *   The wake protocol is NOT modelled: the spin-then-sleep of
 *   __lfq_wait(), its waiters counter, the W1/W2 full barriers and the
 *   recheck before sleeping. A wait is an immediate retry, which allows
 *   every interleaving a real sleep allows, but a lost wake-up cannot be
 *   found here. Since no statement of a producer or consumer ever
 *   blocks, a ring that can never make progress shows up as a
 *   non-progress cycle (the liveness search), not as an invalid end
 *   state: the safety search's end-state check cannot fail here, and
 *   does not replace the liveness search.
 *
 *   Each access to shared memory is its own step, so every interleaving
 *   between them is explored: the load of head or tail, the acquire load
 *   of a slot's seq (A, C), the CAS, the element write or read, the
 *   release store of seq (B, D). Each atomic block of the producer and
 *   consumer holds exactly ONE shared access (the CAS, one cmpxchg
 *   instruction, compares and writes) followed by local work only:
 *   arithmetic, ghost bookkeeping and the jump to the next access. Its
 *   atomicity hides no interleaving of the real code; it only keeps Spin
 *   from storing the local steps as states of their own.
 *   Retries are capped at RETRY_LIMIT == 2 instead of LFQ_TRY_RETRIES ==
 *   64: the caller calls again after -EBUSY, which re-reads head or tail
 *   just as a further retry would, and 2 takes both ways out of the loop.
 *
 *   Promela is sequentially consistent, so the acquire/release pairs are
 *   not checked as memory orderings. The mutants BUG_PUBLISH_EARLY,
 *   BUG_READ_EARLY and BUG_RELEASE_EARLY do what dropping B, C or D
 *   would allow (the element access reordered across the seq access); the
 *   search shows that each such reordering breaks the queue.
 *
 * Positions
 *
 *   The code's positions are free-running u64 compared by signed
 *   difference. Here they are 4-bit counters (mod PMOD) compared the same
 *   way, starting at START, just below the wrap, so head, tail and the
 *   seqs all wrap during the run. The start state (head == tail == START,
 *   the slot of position START + i holding seq START + i) is the state
 *   lfq_vyukov_init() reaches after START items went through a quiet
 *   ring. The signed difference is exact while no two live values are
 *   PMOD / 2 apart, which init asserts (TOTAL + C <= PMOD / 2); for u64
 *   that takes 2^63 positions.
 *
 * Properties
 *
 *   - no slot is overwritten while it holds an unconsumed item (ghost
 *     occupied[], asserted at the producer's element write);
 *   - a consumer reads only a published item (asserted at its read);
 *   - no duplicate: no item is consumed twice (ghost seen[]);
 *   - no loss: at the end every item was consumed, and the ring is back
 *     to its quiet state (every slot free for its next position);
 *   - FIFO: the item read at position p is the item written at position
 *     p (ghost at[]);
 *   - per-producer FIFO at each consumer: a consumer sees one producer's
 *     items in increasing sequence (local last[]);
 *   - per-producer FIFO across consumers, on the claim position: two
 *     consumers may finish their reads in either order, so the order of
 *     reads proves nothing across consumers; but the positions at which
 *     one producer's items were claimed (tail CAS) increase with the
 *     producer's sequence (ghost popped_at[], checked at the end);
 *   - the -EIO path of vyukov_not_ready() (dif < -capacity) is never
 *     taken, and its bound is tight (mutant BUG_CORRUPT_BOUND);
 *   - liveness: under weak fairness there is no cycle in which no position
 *     is claimed: no deadlock or livelock while items remain to move;
 *   - termination: as only TOTAL claims can happen, it follows that every
 *     fair run ends with all processes at their end, where init checks
 *     the final state.
 *
 *   last[] and popped_at[] only record history, and triple the state
 *   space; the liveness search (CHECK_LIVENESS) leaves them out, the
 *   safety search checks them.
 *
 * Mutants
 *
 *   BUG_PUBLISH_EARLY  B before the element write (B without release)
 *   BUG_READ_EARLY     element read before C (C without acquire)
 *   BUG_RELEASE_EARLY  D before the element read (D without release)
 *   BUG_RELEASE_SEQ    D stores pos + 1 instead of pos + mask + 1
 *   BUG_FULL_CHECK     a producer claims on dif <= 0, not dif == 0
 *   BUG_NO_CAS         head claimed by load, compare, store
 *   BUG_CORRUPT_BOUND  -EIO on dif <= -capacity instead of <
 *   BUG_BURST_NO_K     a burst checks the slot of pos, not pos + k
 */

#define C		2		/* ring capacity, a power of two */
#define MASK		(C - 1)
#define NPROD		2
#define NCONS		2
#ifndef ITEMS
#define ITEMS		3		/* items per producer */
#endif
#define TOTAL		(NPROD * ITEMS)
#ifndef RETRY_LIMIT
#define RETRY_LIMIT	2		/* LFQ_TRY_RETRIES is 64; 2 takes both exits */
#endif

#define PMOD		16		/* positions are 4-bit counters */
#define START		13		/* positions 13 14 15 0 1 2: they wrap */

#define WRAP(x)		(((x) + PMOD) % PMOD)
/* (s64)(a - b) for 4-bit counters: in [-PMOD/2, PMOD/2) */
#define SDIFF(a, b)	((((a) - (b)) + PMOD + PMOD / 2) % PMOD - PMOD / 2)
/* lfq_slot(ring, p) is slot p & mask */
#define SLOT(p)		((p) & MASK)
/* ghost index of position p: 0 .. TOTAL */
#define NTH(p)		SDIFF(p, START)

/* an item is producer * ITEMS + its sequence + 1; 0 is "never written" */
#define ITEM(pr, k)	((pr) * ITEMS + (k) + 1)
#define PROD_OF(it)	(((it) - 1) / ITEMS)
#define SEQ_OF(it)	(((it) - 1) % ITEMS)

/* elements per call: 1 for process 0, 2 for process 1 */
#define BURST(id)	((id) + 1)
#define MIN(a, b)	((a) < (b) -> (a) : (b))

/* A: the slot of pos + k is free for it */
#ifdef BUG_FULL_CHECK
#define FREE(dif)	((dif) <= 0)			/* ignores a full ring */
#else
#define FREE(dif)	((dif) == 0)
#endif

/* vyukov_not_ready(): dif < -capacity means the shared ring is corrupt */
#ifdef BUG_CORRUPT_BOUND
#define CORRUPT(dif)	((dif) <= -C)			/* off by one */
#else
#define CORRUPT(dif)	((dif) < -C)
#endif

/* D: the seq a consumer leaves in the slot of pos, for the next lap */
#ifdef BUG_RELEASE_SEQ
#define FREED(pos)	WRAP((pos) + 1)			/* forgets the lap */
#else
#define FREED(pos)	WRAP((pos) + MASK + 1)
#endif

/*
 * "continue" in the retry loop: for (retries = 0; retries < LFQ_TRY_RETRIES;
 * retries++), which starts the scan over (k = 0). Out of retries the call
 * returns -EBUSY and the caller calls again (label again).
 */
#define NEXT_RETRY(again) \
	k = 0; \
	retries++; \
	if \
	:: retries < RETRY_LIMIT -> goto retry \
	:: else -> retries = 0; goto again \
	fi

/* the ring: struct lfq_vyukov_hdr and the slots' seq and data */
byte head;
byte tail;
byte seq[C];
byte data[C];

/* ghost state: checked, never read by the algorithm */
bit  occupied[C];		/* the slot holds an unconsumed item */
byte at[TOTAL];			/* the item written at each position, until read */
bit  seen[TOTAL + 1];		/* the item was consumed */
byte popped_at[TOTAL + 1];	/* 1 + NTH(position at which it was claimed) */

/*
 * Producer id pushes ITEM(id, 0 .. ITEMS - 1) in order, BURST(id) at a
 * time: producer 0 one by one, like lfq_vyukov_push(); producer 1 in
 * bursts of 2, like a caller retrying lfq_vyukov_try_push_burst() with
 * whatever is left to push.
 */
proctype producer(byte id)
{
	byte sent;			/* items pushed so far */
	byte n, pos, retries, k, i;
	short dif;

push:	/* __vyukov_push(ring, &ITEM(id, sent), n) */
	atomic {
		n = MIN(BURST(id), ITEMS - sent);
		/* no barrier: head is a claim counter, (A) orders the slot */
		pos = head;				/* READ_ONCE(hdr->head) */
		retries = 0
	}
retry:	/* for (k = 0; k < n; k++): is the slot of pos + k free? */
	atomic {
#ifdef BUG_BURST_NO_K
		/* checks the slot of pos n times over */
		dif = SDIFF(seq[SLOT(pos)], pos);
#else
		/* A: seq = smp_load_acquire(&slot->seq); pairs with D */
		dif = SDIFF(seq[SLOT(pos + k)], WRAP(pos + k));
#endif
		if
		:: FREE(dif) && k + 1 < n -> k++; dif = 0; goto retry
		:: FREE(dif) -> k++; dif = 0; goto cas	/* k == n */
		:: !FREE(dif) && k > 0 -> dif = 0; goto cas	/* break */
		:: !FREE(dif) && k == 0 && dif < 0 ->
			/* vyukov_not_ready(): -EIO if dif < -capacity */
			assert(!CORRUPT(dif));		/* never -EIO */
			dif = 0;
			goto push			/* -ENOSPC: wait, call again */
		:: !FREE(dif) && k == 0 && dif > 0 ->
			dif = 0;
			goto reload
		fi
	}
reload:
	atomic {
		/* another producer took pos: start from its head */
		pos = head;				/* READ_ONCE(hdr->head) */
		NEXT_RETRY(push)
	}
cas:
	/* try_cmpxchg_relaxed(&hdr->head, &pos, pos + k) */
#ifdef BUG_NO_CAS
	/* a load, a compare, then a plain store: not one instruction */
	atomic {
		if
		:: head == pos -> goto set_head
		:: else -> pos = head; NEXT_RETRY(push)
		fi
	}
set_head:
	atomic {
		head = WRAP(pos + k);
		goto progress_claimed
	}
#else
	atomic {
		if
		:: head == pos -> head = WRAP(pos + k); goto progress_claimed
		:: else -> pos = head; NEXT_RETRY(push)	/* pos = current head */
		fi
	}
#endif
progress_claimed:	/* claimed: (a progress label for the liveness search) */
copy:	/* for (i = 0; i < k; i++) */
#ifdef BUG_PUBLISH_EARLY
	/* B above the element write, as without the release */
	atomic { seq[SLOT(pos + i)] = WRAP(pos + i + 1) }
#endif
	atomic {
		/* memcpy(slot->data, src + i * elem_size, elem_size) */
		assert(!occupied[SLOT(pos + i)]);	/* no overwrite */
		data[SLOT(pos + i)] = ITEM(id, sent + i);
		occupied[SLOT(pos + i)] = 1;
		at[NTH(WRAP(pos + i))] = ITEM(id, sent + i)
	}
	atomic {
#ifndef BUG_PUBLISH_EARLY
		/* B: smp_store_release(&slot->seq, pos + i + 1); pairs with C */
		seq[SLOT(pos + i)] = WRAP(pos + i + 1);
#endif
		i++;
		if
		:: i < k -> goto copy
		:: else
		fi;
		/* return k; the caller goes on with the rest */
		sent = sent + k;
		pos = 0;
		k = 0;
		i = 0;
		if
		:: sent < ITEMS -> goto push
		:: else					/* done: end */
		fi
	}
}

/*
 * Consumer id pops until all TOTAL items are claimed, BURST(id) at most
 * at a time: consumer 0 one by one, like lfq_vyukov_pop(); consumer 1 up
 * to 2 at a time, like a caller retrying lfq_vyukov_try_pop_burst(). It
 * checks every item it reads.
 */
proctype consumer(byte id)
{
	byte last[NPROD];		/* 1 + sequence of the last item read, per producer */
	byte n, pos, retries, k, i, item;
	short dif;

pop:	/* __vyukov_pop(ring, &item, n) */
	atomic {
		n = BURST(id);
		/* no barrier: tail is a claim counter, (C) orders the slot */
		pos = tail;				/* READ_ONCE(hdr->tail) */
		retries = 0;
		/* the caller stops once every item has been claimed */
		if
		:: NTH(pos) == TOTAL -> n = 0; pos = 0; goto done
		:: else
		fi
	}
retry:	/* for (k = 0; k < n; k++): does the slot of pos + k hold its item? */
#ifdef BUG_READ_EARLY
	/* the first element read above its C, as without the acquire */
	atomic {
		if
		:: k == 0 -> item = data[SLOT(pos)]
		:: else
		fi
	}
#endif
	atomic {
		/* C: seq = smp_load_acquire(&slot->seq); pairs with B */
		dif = SDIFF(seq[SLOT(pos + k)], WRAP(pos + k + 1));
		if
		:: dif == 0 && k + 1 < n -> k++; goto retry
		:: dif == 0 -> k++; goto cas		/* k == n */
		:: dif != 0 && k > 0 -> dif = 0; goto cas	/* break */
		:: dif < 0 && k == 0 ->
			assert(!CORRUPT(dif));		/* never -EIO */
			dif = 0;
			item = 0;
			goto pop			/* -EAGAIN: wait, call again */
		:: dif > 0 && k == 0 ->
			dif = 0;
			item = 0;
			goto reload
		fi
	}
reload:
	atomic {
		/* another consumer took pos: start from its tail */
		pos = tail;				/* READ_ONCE(hdr->tail) */
		NEXT_RETRY(pop)
	}
cas:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->tail, &pos, pos + k) */
		if
		:: tail == pos -> tail = WRAP(pos + k); goto progress_claimed
		:: else -> pos = tail; item = 0; NEXT_RETRY(pop)	/* pos = current tail */
		fi
	}
progress_claimed:	/* claimed: (a progress label for the liveness search) */
copy:	/* for (i = 0; i < k; i++) */
#ifdef BUG_RELEASE_EARLY
	/* D above the element read, as without the release */
	atomic { seq[SLOT(pos + i)] = FREED(WRAP(pos + i)) }
#endif
	atomic {
		/* memcpy(dst + i * elem_size, slot->data, elem_size) */
#ifdef BUG_READ_EARLY
		if
		:: i > 0 -> item = data[SLOT(pos + i)]	/* only the first was early */
		:: else
		fi;
#else
		item = data[SLOT(pos + i)];
#endif
		assert(occupied[SLOT(pos + i)]);	/* a published item */
		assert(item == at[NTH(WRAP(pos + i))]);	/* FIFO: the one written there */
		assert(!seen[item]);			/* no duplicate */
		occupied[SLOT(pos + i)] = 0;
		at[NTH(WRAP(pos + i))] = 0;
		seen[item] = 1;
#ifndef CHECK_LIVENESS
		assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]); /* per-producer FIFO */
		last[PROD_OF(item)] = SEQ_OF(item) + 1;
		popped_at[item] = NTH(WRAP(pos + i)) + 1;
#endif
		item = 0
	}
	atomic {
#ifndef BUG_RELEASE_EARLY
		/* D: smp_store_release(&slot->seq, pos + i + mask + 1); pairs with A */
		seq[SLOT(pos + i)] = FREED(WRAP(pos + i));
#endif
		i++;
		if
		:: i < k -> goto copy
		:: else
		fi;
		/* return k; the caller pops again */
		pos = 0;
		k = 0;
		i = 0;
		goto pop
	}
done:
	skip
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
	byte i, k;

	atomic {
		assert(TOTAL + C <= PMOD / 2);	/* the signed difference is exact */

		/* lfq_vyukov_init(), then START items through a quiet ring */
		head = START;
		tail = START;
		for (i : 0 .. C - 1) {
			seq[SLOT(WRAP(START + i))] = WRAP(START + i)
		}

		for (i : 0 .. NPROD - 1) {
			run producer(i)
		}
		for (i : 0 .. NCONS - 1) {
			run consumer(i)
		}
		i = 0
	}

	/* everyone has ended: no loss, claim order per producer, ring empty */
	_nr_pr == ALONE;
	d_step {
		assert(NTH(head) == TOTAL && NTH(tail) == TOTAL);
		for (i : 0 .. NPROD - 1) {
			for (k : 0 .. ITEMS - 1) {
				assert(seen[ITEM(i, k)]);
#ifndef CHECK_LIVENESS
				assert(k == 0 ||
				       popped_at[ITEM(i, k)] > popped_at[ITEM(i, k - 1)])
#endif
			}
		}
		for (i : 0 .. C - 1) {
			assert(!occupied[i]);
			assert(seq[i] == WRAP(head + (i - SLOT(head) + C) % C))
		}
		i = 0;
		k = 0
	}
}
