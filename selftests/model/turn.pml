// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the turn ring (LFQ_RING_TURN), a ticket MPMC queue in
 * the manner of E. Rigtorp's MPMCQueue: kmod/turn.c and user/turn.c, the
 * blocking push and pop of userspace and the try_ forms, one step per
 * shared-memory access, checked exhaustively by selftests/model/check.sh.
 * turn_repair.pml models the kernel's repair of the tickets of dead
 * participants (LFQ_TURN_SKIPPED, lfq_turn_repair()).
 *
 * model: 2P x 2C, capacity 2, 3 laps, blocking and try_ on each side
 * checks: safety liveness
 * mutants: BUG_PUBLISH_EARLY BUG_READ_EARLY BUG_RELEASE_EARLY
 * mutants: BUG_PUSH_TURN BUG_POP_TURN BUG_RELEASE_TURN BUG_NO_CAS
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The algorithm
 *
 *   C, the capacity, is a power of two. head and tail are free-running
 *   ticket counters; the slot of ticket t is t & (C - 1), its lap
 *   lap(t) = t / C. Every slot has a u64 turn, 0 at creation, and bit 63
 *   of it is LFQ_TURN_SKIPPED (SKIP). For ticket t the slot is
 *
 *     the producer's   when turn == 2 * lap(t)
 *     the consumer's   when (turn & ~SKIP) == 2 * lap(t) + 1
 *     the next lap's   when turn == 2 * lap(t) + 2 == 2 * lap(t + C)
 *
 *   push       userspace's lfq_turn_push(): __turn_push_reserve(),
 *              the element write, turn_push_done(). t = fetch_add(head,
 *              1); wait (turn_wait_op()) until (A) acquire(turn) & ~SKIP
 *              == 2 * lap(t); write the element; (B) release(turn) =
 *              2 * lap(t) + 1. A turn past 2 * lap(t) means a corrupt
 *              ring (-EIO).
 *   try_push   __turn_try_push(), the write, turn_publish(): the kernel's
 *              push and lfq_turn_try_push() on both sides. h = head; up
 *              to LFQ_TRY_RETRIES times: if (A) turn of h == 2 * lap(h),
 *              CAS head from h to h + 1: on success write and publish (B)
 *              as push does, on failure h = the head the CAS saw; else
 *              re-read head: changed, h = the new head; unchanged, -EIO if
 *              the turn was past 2 * lap(h), else -ENOSPC. Out of
 *              retries: -EBUSY.
 *   pop        userspace's lfq_turn_pop(): __turn_pop_reserve(), the
 *              element read, turn_pop_done(). t = fetch_add(tail, 1); wait
 *              until (C) (acquire(turn) & ~SKIP) == 2 * lap(t) + 1; read
 *              the element unless SKIP is set; (D) release(turn) =
 *              2 * lap(t) + 2; after a SKIP, take a new ticket.
 *   try_pop    __turn_try_pop(), the read, turn_release(): as try_push,
 *              on tail, for 2 * lap(h) + 1 (ignoring SKIP), -EAGAIN when
 *              empty. A claimed SKIP slot is released (D) and the search
 *              goes on with h + 1, the tail the CAS left, which counts as
 *              a retry.
 *
 *   The claim records that participants write around their tickets, and
 *   the wake-ups of turn_publish() and turn_release() (W2), are not
 *   shared state of this model: turn_repair.pml has the records.
 *
 *   (A) pairs with (D): a producer writes the slot only after the
 *   previous lap's consumer has read it. (B) pairs with (C): a consumer
 *   reads the element only after its producer has written it.
 *
 * The steps, one state per atomic step (the labels of the proctypes
 * below; a state is named after the step taken from it):
 *
 * @startuml
 * hide empty description
 * state "push" as push {
 *   state "StartEnqueue" as push_Start
 *   state "FetchAndIncrementHead" as push_Fetch
 *   state "WaitTurn" as push_Wait
 *   state "StoreValue" as push_Store
 *   state "PublishTurn" as push_Publish
 *   [*] --> push_Start
 *   push_Start --> push_Fetch : push(item)
 *   push_Fetch --> push_Wait : t = fetch_add(head, 1)
 *   push_Wait --> push_Wait : (A) turn < 2*lap(t): wait
 *   push_Wait --> push_Store : (A) turn == 2*lap(t)
 *   push_Store --> push_Publish : slot.data = item
 *   push_Publish --> [*] : (B) turn = 2*lap(t) + 1; return 0
 * }
 * state "try_push" as tpush {
 *   state "TryEnqueue" as tpush_Start
 *   state "GetHead" as tpush_Head
 *   state "LoadTurn" as tpush_Turn
 *   state "CAS" as tpush_CAS
 *   state "ReloadHead" as tpush_Reload
 *   state "StoreValue" as tpush_Store
 *   state "PublishTurn" as tpush_Publish
 *   [*] --> tpush_Start
 *   tpush_Start --> tpush_Head : try_push(item)
 *   tpush_Head --> tpush_Turn : h = head
 *   tpush_Turn --> tpush_CAS : (A) turn == 2*lap(h)
 *   tpush_Turn --> tpush_Reload : (A) turn != 2*lap(h)
 *   tpush_CAS --> tpush_Store : CAS(head, h, h + 1) succeeded
 *   tpush_CAS --> tpush_Turn : CAS failed: h = head seen; retry
 *   tpush_Reload --> tpush_Turn : head != h: h = head; retry
 *   tpush_Reload --> [*] : head == h: -ENOSPC
 *   tpush_CAS --> [*] : out of retries: -EBUSY
 *   tpush_Reload --> [*] : out of retries: -EBUSY
 *   tpush_Store --> tpush_Publish : slot.data = item
 *   tpush_Publish --> [*] : (B) turn = 2*lap(h) + 1; return 0
 * }
 * state "pop" as pop {
 *   state "StartDequeue" as pop_Start
 *   state "FetchAndIncrementTail" as pop_Fetch
 *   state "WaitTurn" as pop_Wait
 *   state "LoadValue" as pop_Load
 *   state "ReleaseTurn" as pop_Release
 *   [*] --> pop_Start
 *   pop_Start --> pop_Fetch : pop()
 *   pop_Fetch --> pop_Wait : t = fetch_add(tail, 1)
 *   pop_Wait --> pop_Wait : (C) turn & ~SKIP < 2*lap(t) + 1: wait
 *   pop_Wait --> pop_Load : (C) turn == 2*lap(t) + 1
 *   pop_Wait --> pop_Release : (C) turn == (2*lap(t) + 1) | SKIP
 *   pop_Load --> pop_Release : item = slot.data
 *   pop_Release --> [*] : (D) turn = 2*lap(t) + 2; return item
 *   pop_Release --> pop_Fetch : (D) turn = 2*lap(t) + 2; skipped
 * }
 * state "try_pop" as tpop {
 *   state "TryDequeue" as tpop_Start
 *   state "GetTail" as tpop_Tail
 *   state "LoadTurn" as tpop_Turn
 *   state "CAS" as tpop_CAS
 *   state "ReloadTail" as tpop_Reload
 *   state "LoadValue" as tpop_Load
 *   state "ReleaseTurn" as tpop_Release
 *   [*] --> tpop_Start
 *   tpop_Start --> tpop_Tail : try_pop()
 *   tpop_Tail --> tpop_Turn : h = tail
 *   tpop_Turn --> tpop_CAS : (C) turn & ~SKIP == 2*lap(h) + 1
 *   tpop_Turn --> tpop_Reload : (C) turn & ~SKIP != 2*lap(h) + 1
 *   tpop_CAS --> tpop_Load : CAS(tail, h, h + 1) succeeded
 *   tpop_CAS --> tpop_Release : CAS succeeded, SKIP set
 *   tpop_CAS --> tpop_Turn : CAS failed: h = tail seen; retry
 *   tpop_Reload --> tpop_Turn : tail != h: h = tail; retry
 *   tpop_Reload --> [*] : tail == h: -EAGAIN
 *   tpop_CAS --> [*] : out of retries: -EBUSY
 *   tpop_Reload --> [*] : out of retries: -EBUSY
 *   tpop_Load --> tpop_Release : item = slot.data
 *   tpop_Release --> [*] : (D) turn = 2*lap(h) + 2; return item
 *   tpop_Release --> tpop_Turn : (D) turn = 2*lap(h) + 2; skipped: h + 1; retry
 *   tpop_Release --> [*] : skipped, out of retries: -EBUSY
 * }
 * @enduml
 *
 *   [*] at the end is the call's return. The caller of the model then
 *   calls again: with its next item (StartEnqueue, TryEnqueue) or a new
 *   unit of budget (StartDequeue, TryDequeue) after a success, and
 *   straight from GetHead or GetTail, with the same item, after -ENOSPC,
 *   -EAGAIN or -EBUSY. The self-loops of WaitTurn are the waits.
 *
 *   Each atomic block of a producer or consumer holds exactly ONE access
 *   to the ring (a fetch_add or a CAS, one instruction, counts as one),
 *   followed by local work only: arithmetic, ghost bookkeeping and the
 *   jump to the next state. Its atomicity hides no interleaving of the
 *   real code; it only keeps Spin from storing the local steps as states
 *   of their own. StartEnqueue and TryEnqueue touch no shared memory
 *   (the caller picks its next item, or stops); StartDequeue and
 *   TryDequeue take one unit of the test's budget (below).
 *
 * What is modelled
 *
 *   Two producers each push ITEMS == 3 items and two consumers pop all
 *   TOTAL == 6 of them through a ring of C == 2 slots: each slot is used
 *   TOTAL / C == 3 times (3 laps). Producer 0 uses the blocking push,
 *   producer 1 calls try_push until it succeeds; consumer 0 uses the
 *   blocking pop, consumer 1 calls try_pop until it gets an item. A
 *   try_ call that fails (-ENOSPC, -EAGAIN, -EBUSY) is called again with
 *   the same item, as a caller that waits would.
 *
 *   As the stress tests do (stress_claim()), a consumer first takes one
 *   unit of a shared budget of TOTAL items, and only then a ticket: a
 *   blocking pop never takes a ticket that no producer will fill, so
 *   every run ends. Consumers stop when the budget is spent.
 *
 *   A blocking wait for a turn is a guard: the process blocks until the
 *   turn is the one it waits for. A load that sees another turn changes
 *   nothing, so this allows every interleaving a spinning or sleeping
 *   waiter allows; the wake protocol itself (__lfq_wait(), the futex
 *   words, W1/W2) is wake.pml's and is not modelled. A ring that can
 *   never make progress shows as an invalid end state (everyone
 *   blocked: the safety search) or as a non-progress cycle (try_ callers
 *   retrying for ever: the liveness search).
 *   Retries are capped at RETRY_LIMIT == 2 instead of LFQ_TRY_RETRIES:
 *   the caller calls again after -EBUSY, which re-reads head or tail
 *   just as a further retry would, and 2 takes every way out of the loop.
 *
 *   Promela is sequentially consistent, so the acquire/release pairs are
 *   not checked as memory orderings. The mutants BUG_PUBLISH_EARLY,
 *   BUG_READ_EARLY and BUG_RELEASE_EARLY do what dropping B, C or D
 *   would allow (the element access moved across the turn access); the
 *   search shows that each such reordering breaks the queue. Dropping A
 *   would let the element write pass the load of turn (load-to-store
 *   reordering) and land while the previous lap's consumer still reads:
 *   the overwrite that BUG_RELEASE_EARLY shows from the consumer's side.
 *
 *   Tickets and turns start at 0, as after creation, and stay small
 *   (tickets up to TOTAL, turns up to 2 * TOTAL / C); they do not wrap.
 *   Every test of a turn is an equality with a value computed from the
 *   ticket, except the -EIO check (a turn past the awaited one), which
 *   is asserted never to hold. SKIP is bit 7 of a byte here; no turn of
 *   this model comes near it. Not modelled: the wrap of a u64 ticket,
 *   and 2 * lap(t) growing into bit 63 (at t == 2^63 for capacity 2),
 *   both centuries away at 10^9 tickets a second.
 *   The SKIP branches of pop and try_pop are here as in the code but are
 *   never taken: nobody dies in this model. turn_repair.pml takes them.
 *
 * Properties
 *
 *   - no slot is overwritten while it holds an unconsumed item (ghost
 *     occupied[], asserted at the producer's element write);
 *   - a consumer reads only a published item (asserted at its read), and
 *     the item read at ticket t is the one written at ticket t (ghost
 *     at[]): items encode producer and sequence (ITEM());
 *   - no duplicate: no item is consumed twice (ghost seen[]);
 *   - no loss: at the end every item was consumed, head == tail ==
 *     TOTAL, and every slot is free for its next ticket (turn ==
 *     2 * lap of it);
 *   - per-producer FIFO at each consumer: a consumer sees one producer's
 *     items in increasing sequence (local last[]);
 *   - per-producer FIFO across consumers, on the tickets: the tickets at
 *     which one producer's items were popped increase with the producer's
 *     sequence (ghost popped_at[], checked at the end);
 *   - the -EIO paths of push and pop (a turn past the awaited one) are
 *     never taken;
 *   - no deadlock: every run ends with all processes at their end (the
 *     safety search's end-state check);
 *   - liveness: under weak fairness there is no cycle without progress
 *     (an element written or read): no livelock of the try_ loops.
 *
 *   last[] and popped_at[] only record history; the liveness search
 *   (CHECK_LIVENESS) leaves them out, the safety search checks them.
 *
 * Mutants
 *
 *   BUG_PUBLISH_EARLY  B before the element write (B without release)
 *   BUG_READ_EARLY     pop reads the element before C (C without acquire)
 *   BUG_RELEASE_EARLY  D before the element read (D without release)
 *   BUG_PUSH_TURN      a producer also takes turn 2 * lap - 1, the
 *                      previous lap's consumer turn (off by one)
 *   BUG_POP_TURN       a consumer waits for 2 * lap, the producer's turn,
 *                      instead of 2 * lap + 1 (off by one)
 *   BUG_RELEASE_TURN   D stores 2 * lap + 1 instead of 2 * lap + 2
 *   BUG_NO_CAS         try_push claims head by load, compare, store
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
#define RETRY_LIMIT	2		/* LFQ_TRY_RETRIES; 2 takes every exit */
#endif

/* LFQ_TURN_SKIPPED is bit 63 of the u64 turn; bit 7 of the byte here */
#define SKIP		128
#define VAL(T)		((T) & (SKIP - 1))	/* turn & ~SKIP */
#define SLOT(t)		((t) & MASK)
#define LAP(t)		((t) / C)
#define PUSH_TURN(t)	(2 * LAP(t))		/* the slot is t's producer's */
#define POP_TURN(t)	(2 * LAP(t) + 1)	/* the slot is t's consumer's */
#define FREE_TURN(t)	(2 * LAP(t) + 2)	/* == PUSH_TURN(t + C) */

/* an item is producer * ITEMS + its sequence + 1; 0 is "never written" */
#define ITEM(pr, k)	((pr) * ITEMS + (k) + 1)
#define PROD_OF(it)	(((it) - 1) / ITEMS)
#define SEQ_OF(it)	(((it) - 1) % ITEMS)

/* A: turn T says the slot of t is free for t's producer */
#ifdef BUG_PUSH_TURN
#define PUSH_READY(T, t)	((T) == PUSH_TURN(t) || (T) + 1 == PUSH_TURN(t))
#else
#define PUSH_READY(T, t)	((T) == PUSH_TURN(t))
#endif

/* C: turn T says the slot of t holds t's item (or a SKIP) */
#ifdef BUG_POP_TURN
#define POP_READY(T, t)		(VAL(T) == PUSH_TURN(t))
#else
#define POP_READY(T, t)		(VAL(T) == POP_TURN(t))
#endif

/* D: the turn a consumer leaves in the slot of t, for the next lap */
#ifdef BUG_RELEASE_TURN
#define RELEASED(t)		POP_TURN(t)		/* forgets the lap */
#else
#define RELEASED(t)		FREE_TURN(t)
#endif

/*
 * The end of one turn of a try_ loop: another retry from state loop, or,
 * out of retries, -EBUSY and the caller calls again from state again.
 */
#define NEXT_RETRY(again, loop) \
	retries++; \
	if \
	:: retries < RETRY_LIMIT -> goto loop \
	:: else -> retries = 0; h = 0; goto again \
	fi

/* the ring: struct lfq_turn_hdr and the slots' turn and data */
byte head;
byte tail;
byte turn[C];
byte data[C];

/* the test: items that a consumer may still claim (stress_claim()) */
byte budget = TOTAL;

/* ghost state: checked, never read by the algorithm */
bit  occupied[C];		/* the slot holds an unconsumed item */
byte at[TOTAL];			/* the item written at each ticket, until read */
bit  seen[TOTAL + 1];		/* the item was consumed */
byte popped_at[TOTAL + 1];	/* 1 + the ticket at which it was consumed */

/* Producer id pushes ITEM(id, 0 .. ITEMS - 1) in order with push. */
proctype pusher(byte id)
{
	byte sent;			/* items pushed so far */
	byte t;				/* the ticket held */

StartEnqueue:
	atomic {
		if
		:: sent == ITEMS -> goto Done
		:: else
		fi
	}
FetchAndIncrementHead:
	atomic {
		/* t = fetch_add_relaxed(&hdr->head, 1) */
		t = head;
		head++
	}
WaitTurn:
	atomic {
		/* turn_wait_op(): A: T = smp_load_acquire(&slot->turn) */
		if
		:: PUSH_READY(VAL(turn[SLOT(t)]), t)
		:: !PUSH_READY(VAL(turn[SLOT(t)]), t) &&
		   VAL(turn[SLOT(t)]) > PUSH_TURN(t) ->
			assert(0)			/* -EIO: never */
		fi				/* else -EAGAIN: wait */
	}
#ifdef BUG_PUBLISH_EARLY
	/* B above the element write, as without the release */
	atomic { turn[SLOT(t)] = POP_TURN(t) }
#endif
progress_store:
StoreValue:
	atomic {
		/* memcpy(slot->data, elem, elem_size) */
		assert(!occupied[SLOT(t)]);		/* no overwrite */
		data[SLOT(t)] = ITEM(id, sent);
		occupied[SLOT(t)] = 1;
		at[t] = ITEM(id, sent)
	}
PublishTurn:
	atomic {
#ifndef BUG_PUBLISH_EARLY
		/* B: smp_store_release(&slot->turn, 2 * lap + 1); pairs with C */
		turn[SLOT(t)] = POP_TURN(t);
#endif
		t = 0;
		sent++;
		goto StartEnqueue
	}
Done:
	skip
}

/* Producer id pushes ITEM(id, 0 .. ITEMS - 1) in order with try_push. */
proctype trypusher(byte id)
{
	byte sent;			/* items pushed so far */
	byte h;				/* the ticket tried, then held */
	byte retries;
	bit ahead;			/* the turn loaded is past h's */

TryEnqueue:
	atomic {
		if
		:: sent == ITEMS -> goto Done
		:: else
		fi
	}
GetHead:
	atomic {
		/* no barrier: head is a ticket counter, (A) orders the slot */
		h = head				/* READ_ONCE(hdr->head) */
	}
LoadTurn:
	atomic {
		/* A: T = smp_load_acquire(&slot->turn); pairs with D */
		if
		:: PUSH_READY(turn[SLOT(h)], h) -> goto CAS
		:: else -> ahead = VAL(turn[SLOT(h)]) > PUSH_TURN(h); goto ReloadHead
		fi
	}
ReloadHead:
	atomic {
		/* prev = h; h = READ_ONCE(hdr->head) */
		if
		:: head == h ->
			assert(!ahead);			/* -EIO: never */
			retries = 0; h = 0; goto GetHead	/* -ENOSPC */
		:: else -> ahead = 0; h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
CAS:
	/* try_cmpxchg_relaxed(&hdr->head, &h, h + 1) */
#ifdef BUG_NO_CAS
	/* a load, a compare, then a plain store: not one instruction */
	atomic {
		if
		:: head == h -> goto SetHead
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
SetHead:
	atomic {
		head = h + 1;
		retries = 0
	}
#else
	atomic {
		if
		:: head == h -> head = h + 1; retries = 0
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)	/* h = current head */
		fi
	}
#endif
#ifdef BUG_PUBLISH_EARLY
	atomic { turn[SLOT(h)] = POP_TURN(h) }
#endif
progress_store:
StoreValue:
	atomic {
		/* memcpy(slot->data, elem, elem_size) */
		assert(!occupied[SLOT(h)]);		/* no overwrite */
		data[SLOT(h)] = ITEM(id, sent);
		occupied[SLOT(h)] = 1;
		at[h] = ITEM(id, sent)
	}
PublishTurn:
	atomic {
#ifndef BUG_PUBLISH_EARLY
		/* B: smp_store_release(&slot->turn, 2 * lap + 1); pairs with C */
		turn[SLOT(h)] = POP_TURN(h);
#endif
		h = 0;
		sent++;
		goto TryEnqueue
	}
Done:
	skip
}

/*
 * Consumer id pops one item per unit of budget it takes, with pop, and
 * checks every item it reads.
 */
proctype popper(byte id)
{
	byte last[NPROD];		/* 1 + sequence of the last item read, per producer */
	byte t;				/* the ticket held */
	byte item;
	bit skipped;

StartDequeue:
	atomic {
		/* stress_claim(): an item that some producer will push */
		if
		:: budget == 0 -> goto Done
		:: else -> budget--
		fi
	}
FetchAndIncrementTail:
	atomic {
		/* t = fetch_add_relaxed(&hdr->tail, 1) */
		t = tail;
		tail++
	}
#ifdef BUG_READ_EARLY
	/* the element read above C, as without the acquire */
	atomic { item = data[SLOT(t)] }
#endif
WaitTurn:
	atomic {
		/* turn_wait_op(): C: T = smp_load_acquire(&slot->turn) */
		if
		:: POP_READY(turn[SLOT(t)], t) -> skipped = turn[SLOT(t)] / SKIP
		:: !POP_READY(turn[SLOT(t)], t) && VAL(turn[SLOT(t)]) > POP_TURN(t) ->
			assert(0)			/* -EIO: never */
		fi;				/* else -EAGAIN: wait */
		if
		:: skipped -> goto ReleaseTurn	/* no item: the producer died */
		:: else
		fi
	}
#ifdef BUG_RELEASE_EARLY
	/* D above the element read, as without the release */
	atomic { turn[SLOT(t)] = RELEASED(t) }
#endif
progress_load:
LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
#ifndef BUG_READ_EARLY
		item = data[SLOT(t)];
#endif
		assert(occupied[SLOT(t)]);		/* a published item */
		assert(item == at[t]);			/* the one written for t */
		assert(!seen[item]);			/* no duplicate */
		occupied[SLOT(t)] = 0;
		at[t] = 0;
		seen[item] = 1;
#ifndef CHECK_LIVENESS
		assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]); /* per-producer FIFO */
		last[PROD_OF(item)] = SEQ_OF(item) + 1;
		popped_at[item] = t + 1;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
#ifndef BUG_RELEASE_EARLY
		/* D: smp_store_release(&slot->turn, 2 * lap + 2); pairs with A */
		turn[SLOT(t)] = RELEASED(t);
#endif
		t = 0;
		if
		:: skipped -> skipped = 0; goto FetchAndIncrementTail	/* a new ticket */
		:: else -> goto StartDequeue			/* return the item */
		fi
	}
Done:
	skip
}

/*
 * Consumer id pops one item per unit of budget it takes, calling try_pop
 * until it gets one, and checks every item it reads.
 */
proctype trypopper(byte id)
{
	byte last[NPROD];		/* 1 + sequence of the last item read, per producer */
	byte h;				/* the ticket tried, then held */
	byte retries, item;
	bit skipped;
	bit ahead;			/* the turn loaded is past h's */

TryDequeue:
	atomic {
		/* stress_claim(): an item that some producer will push */
		if
		:: budget == 0 -> goto Done
		:: else -> budget--
		fi
	}
GetTail:
	atomic {
		/* no barrier: tail is a ticket counter, (C) orders the slot */
		h = tail				/* READ_ONCE(hdr->tail) */
	}
LoadTurn:
	atomic {
		/* C: T = smp_load_acquire(&slot->turn); pairs with B */
		if
		:: POP_READY(turn[SLOT(h)], h) ->
			skipped = turn[SLOT(h)] / SKIP;
			goto CAS
		:: else -> ahead = VAL(turn[SLOT(h)]) > POP_TURN(h); goto ReloadTail
		fi
	}
ReloadTail:
	atomic {
		/* prev = h; h = READ_ONCE(hdr->tail) */
		if
		:: tail == h ->
			assert(!ahead);			/* -EIO: never */
			retries = 0; h = 0; goto GetTail	/* -EAGAIN */
		:: else -> ahead = 0; h = tail; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
CAS:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->tail, &h, h + 1) */
		if
		:: tail == h -> tail = h + 1;
			if
			:: skipped -> goto ReleaseTurn	/* no item: the producer died */
			:: else -> retries = 0
			fi
		:: else -> h = tail; skipped = 0; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
progress_load:
LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
		item = data[SLOT(h)];
		assert(occupied[SLOT(h)]);		/* a published item */
		assert(item == at[h]);			/* the one written for h */
		assert(!seen[item]);			/* no duplicate */
		occupied[SLOT(h)] = 0;
		at[h] = 0;
		seen[item] = 1;
#ifndef CHECK_LIVENESS
		assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]); /* per-producer FIFO */
		last[PROD_OF(item)] = SEQ_OF(item) + 1;
		popped_at[item] = h + 1;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
		/* D: smp_store_release(&slot->turn, 2 * lap + 2); pairs with A */
		turn[SLOT(h)] = RELEASED(h);
		if
		:: skipped -> skipped = 0; h++; NEXT_RETRY(GetTail, LoadTurn)
		:: else -> h = 0; goto TryDequeue		/* return the item */
		fi
	}
Done:
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

	/* the ring as created: head == tail == 0, every turn 0 */
	atomic {
		run pusher(0);
		run trypusher(1);
		run popper(0);
		run trypopper(1)
	}

	/* everyone has ended: no loss, order per producer, ring empty */
	_nr_pr == ALONE;
	d_step {
		assert(head == TOTAL && tail == TOTAL && budget == 0);
		for (i : 0 .. NPROD - 1) {
			for (k : 0 .. ITEMS - 1) {
				assert(seen[ITEM(i, k)]);
#ifndef CHECK_LIVENESS
				assert(k == 0 ||
				       popped_at[ITEM(i, k)] > popped_at[ITEM(i, k - 1)])
#endif
			}
		}
		/* every slot free for its next ticket */
		for (i : 0 .. C - 1) {
			assert(!occupied[SLOT(head + i)]);
			assert(turn[SLOT(head + i)] == PUSH_TURN(head + i))
		}
		i = 0;
		k = 0
	}
}
