// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the repair of a dead ticket holder on the turn ring
 * (LFQ_RING_TURN): when a participant dies holding a ticket, the kernel
 * reads its claim record (struct lfq_claim) at the release of its fd
 * (lfq_ring_leave(), kmod/ring.c) and hands the ticket's turn on
 * (lfq_turn_repair(), kmod/turn.c), marking a producer's slot
 * LFQ_TURN_SKIPPED or dropping a consumer's item. Checked exhaustively
 * by selftests/model/check.sh; the ring itself is turn.pml's, whose
 * header describes the algorithm and the steps (the same labels are
 * used here).
 *
 * model: 1P + 2C alive, 1P + 1C killed holding a ticket, capacity 2, 2 laps
 * checks: safety liveness
 * mutants: NO_REPAIR BUG_SKIP_READ BUG_SKIP_NO_RELEASE BUG_TRY_SKIP_NO_CAS
 * mutants: BUG_REPAIR_NO_WAIT BUG_REPAIR_NO_SKIP BUG_DROP_NO_WAIT
 * mutants: BUG_REPAIR_MOVED_ON
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The repair
 *
 *   A participant that owns a claim record (LFQ_IOC_JOIN) writes it
 *   around every ticket (turn_claim(), user/turn.c): PENDING, take a
 *   ticket t, pos = t and state = PUSH or POP, publish or release the
 *   slot, IDLE. try_push and try_pop stay PENDING through their whole
 *   search and record the ticket only once they hold one to use. When
 *   the participant's fd is released (close, exit, kill -9: at some time
 *   after the death), the kernel copies the record; for PUSH t or POP t,
 *   lfq_repair_work() calls lfq_turn_repair() until it no longer says
 *   -EAGAIN, backing off, never waiting in between. With want ==
 *   2 * lap(t) for PUSH, 2 * lap(t) + 1 for POP, and
 *   dif = (READ_ONCE(turn) & ~SKIP) - want:
 *
 *     dif < 0   -EAGAIN: the slot has not come round yet (the previous
 *               lap's consumer, or t's producer, is not done);
 *     dif > 0   nothing to do: the participant published or released
 *               after all, and died before its record was IDLE again;
 *     dif == 0  the slot waits for the dead one, and nobody else writes
 *               its turn. PUSH t: (R) release turn =
 *               (2 * lap(t) + 1) | SKIP, lfq_desc.skipped++; the consumer
 *               of t sees SKIP, reads nothing, releases the slot
 *               (turn = 2 * lap(t) + 2) and looks further: pop takes a
 *               new ticket, try_pop goes on with the next one. POP t: (R)
 *               release turn = 2 * lap(t) + 2; the item in the slot, if
 *               SKIP is not set, is lost: lfq_desc.dropped++.
 *
 *   Its steps are the labels Killed, RepairLoadTurn (the -EAGAIN retries
 *   are a guard, like every wait here), then RepairPublishSkip for a
 *   producer's ticket or RepairReleaseTurn for a consumer's, or nothing
 *   (Repaired).
 *
 *   Without the repair, the dead ticket stalls its slot for good: the
 *   consumer of a dead producer's ticket waits for ever, then everybody
 *   behind it; a dead consumer's slot is never free for the next lap.
 *   The mutant NO_REPAIR shows it: the model must fail without the
 *   repair.
 *
 * What is modelled
 *
 *   The ring of turn.pml, C == 2 slots, with the SKIP branches of pop and
 *   try_pop, and five participants:
 *
 *     producer 0   alive: pushes ITEMS == 3 items with push. It is init,
 *                  which also checks the end state: a sixth process is
 *                  one too many for pan's weak fairness (its limit
 *                  counts the liveness search's never claim).
 *     producer 1   killed: takes one ticket, with push (fetch_add) or
 *                  try_push (its CAS succeeded), the model's choice, and
 *                  is killed holding it: before writing its element,
 *                  after writing it, or after publishing it (B) but
 *                  before its record is IDLE again
 *     consumer 0   alive: pop, one item per unit of budget
 *     consumer 1   alive: try_pop until it gets one, per unit of budget
 *     consumer 2   killed: holds one unit of budget from the start; takes
 *                  tickets with pop or try_pop (the model's choice) as a
 *                  live consumer does, and is killed holding its last
 *                  one: before reading its item (with pop, also holding a
 *                  skipped slot), after reading it, or after releasing
 *                  it (D) but before its record is IDLE again (with pop,
 *                  also after releasing a skipped slot)
 *
 *   so ITEMS + 1 == 4 tickets go through head, and at most as many
 *   through tail: 2 laps of each slot. The budget (stress_claim() of the
 *   stress tests) is the ITEMS items of the live producer: a consumer
 *   takes a unit, then tickets until it gets an item, so every run ends.
 *   An item can stay in the ring at the end, with no unit left for it:
 *   when the killed producer's item was published after all, or the
 *   killed consumer's unit went unused.
 *
 *   The claim record only ever holds the ticket of its own participant,
 *   and the kernel reads it only after the death, so the record is the
 *   killed process's local ticket, written in the step that takes the
 *   ticket. The repair runs in the killed participant's proctype, after
 *   its death: its steps interleave with everyone else's at any time
 *   after the death, as an fd release at an arbitrary later time and
 *   delayed work do (and, under weak fairness, eventually). The two
 *   repairs are independent of each other, as in lfq_repair_work(),
 *   which tries every dead record on each pass and never waits for one.
 *
 *   Not modelled: a death between PENDING and the recorded ticket (the
 *   fetch_add, or the whole of a try, skipped slots released included):
 *   the kernel cannot tell whether a ticket was taken, repairs nothing
 *   and counts lfq_desc.unresolved; a ticket taken there stalls as
 *   without repair (NO_REPAIR). Nor is the record itself: that it is
 *   written in program order around the ticket (barrier() in
 *   turn_claim()) and read once, after the death.
 *
 *   As in turn.pml: one ring access per atomic step, waits are guards,
 *   Promela is sequentially consistent (acquire and release are not
 *   checked as orderings), tickets and turns start at 0 and do not wrap,
 *   SKIP is bit 7 of a byte here.
 *
 * Properties
 *
 *   - a live consumer reads only a published item, the one written for
 *     its ticket (ghost at[], occupied[]), never a skipped slot's
 *     contents (the repair of a producer's ticket discards its element);
 *   - no duplicate, and nothing popped that was dropped (ghost fate[]);
 *   - per-producer FIFO at each consumer (local last[]) and across
 *     consumers on the tickets (ghost popped_at[], at the end);
 *   - no slot is overwritten while it holds an unconsumed element;
 *   - the -EIO paths of the waits and tries are never taken;
 *   - accounting, at the end: skipped == 1 unless the killed producer
 *     had published (then 0); dropped counts the items whose slot a
 *     repair released unread; every item published was popped once by a
 *     live consumer, or dropped, or taken by the killed consumer before
 *     its release, or is still in the ring between tail and head,
 *     published and unclaimed (popped + dropped + taken + left ==
 *     ITEMS + published by the killed producer); every slot at or after
 *     head is free for its next ticket;
 *   - no deadlock: every run ends with all processes at their end, the
 *     repairs included (the safety search's end-state check);
 *   - liveness: under weak fairness, no cycle without progress (an
 *     element written or read, a SKIP slot released, a repair's store).
 *
 * Mutants
 *
 *   NO_REPAIR            no repair at all: the documented stalled ticket
 *                        (expected to fail: a deadlock)
 *   BUG_SKIP_READ        consumers ignore SKIP and read the slot
 *   BUG_SKIP_NO_RELEASE  a consumer that meets SKIP takes another ticket
 *                        without releasing the slot (no D)
 *   BUG_TRY_SKIP_NO_CAS  try_pop releases a SKIP slot without claiming it
 *                        (CAS) first: "there is nothing to take"
 *   BUG_REPAIR_NO_WAIT   the repair of a producer's ticket stores at
 *                        dif < 0 too: without waiting for 2 * lap(t)
 *   BUG_REPAIR_NO_SKIP   ... stores 2 * lap(t) + 1 without SKIP
 *   BUG_DROP_NO_WAIT     the repair of a consumer's ticket stores at
 *                        dif < 0 too: without waiting for 2 * lap(t) + 1
 *   BUG_REPAIR_MOVED_ON  both repairs store at dif > 0 too: they repair a
 *                        ticket whose owner finished before dying
 */

#define C		2		/* ring capacity, a power of two */
#define MASK		(C - 1)
#ifndef ITEMS
#define ITEMS		3		/* items of the live producer */
#endif
#define TICKETS		(ITEMS + 1)	/* and one of the killed producer */
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

/* the live producer's items are 1 .. ITEMS; the killed one's is DITEM */
#define DITEM		(ITEMS + 1)

/* fate[] of an item */
#define POPPED		1	/* by a live consumer */
#define DROPPED		2	/* released unread by a repair: lfq_desc.dropped */
#define TAKEN		3	/* read and released by the killed consumer */

/*
 * lfq_turn_repair(): with dif = (turn & ~SKIP) - want, store at dif == 0
 * (the slot waits for the dead one), nothing to do at dif > 0 (the
 * participant finished after all), -EAGAIN and later again at dif < 0.
 * REPAIR_NOW is for a producer's ticket (want = 2 * lap), DROP_NOW for a
 * consumer's (want = 2 * lap + 1).
 */
#if defined(BUG_REPAIR_NO_WAIT)
#define REPAIR_NOW(v, want)	((v) <= (want))		/* dif <= 0 */
#elif defined(BUG_REPAIR_MOVED_ON)
#define REPAIR_NOW(v, want)	((v) >= (want))		/* dif >= 0 */
#else
#define REPAIR_NOW(v, want)	((v) == (want))
#endif
#if defined(BUG_DROP_NO_WAIT)
#define DROP_NOW(v, want)	((v) <= (want))
#elif defined(BUG_REPAIR_MOVED_ON)
#define DROP_NOW(v, want)	((v) >= (want))
#else
#define DROP_NOW(v, want)	((v) == (want))
#endif
#ifdef BUG_REPAIR_MOVED_ON
#define REPAIR_DONE(v, want)	0
#else
#define REPAIR_DONE(v, want)	((v) > (want))
#endif

/* a SKIP turn as consumers read it */
#ifdef BUG_SKIP_READ
#define SKIPPED(T)	0				/* ignored */
#else
#define SKIPPED(T)	((T) / SKIP)
#endif

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

/* lfq_desc: the kernel's counters */
byte skipped;
byte dropped;

/* the test: items the live consumers may still claim; the killed
 * consumer holds one unit from the start */
byte budget = ITEMS - 1;

/* ghost state: checked, never read by the algorithm */
bit  occupied[C];		/* the slot holds an unconsumed element */
byte at[TICKETS];		/* the element written at each ticket, until gone */
byte fate[DITEM + 1];		/* POPPED, DROPPED, TAKEN, or 0 */
byte popped_at[ITEMS + 1];	/* 1 + the ticket at which it was popped */
bit  d_published;		/* the killed producer published its item */

/*
 * The killed producer: takes one ticket h with push or try_push and is
 * killed holding it: before its element write, before its publish (B),
 * or after it but before its record is back to IDLE. The kernel then
 * repairs the ticket, at the release of its fd.
 */
proctype doomed_pusher()
{
	byte h;				/* the ticket tried, then held */
	byte retries;
	bit ahead;			/* the turn loaded is past h's */

	if
	:: goto FetchAndIncrementHead	/* lfq_turn_push() */
	:: goto GetHead			/* lfq_turn_try_push() */
	fi;

FetchAndIncrementHead:
	atomic {
		/* claim PUSH_PENDING; h = fetch_add_relaxed(&hdr->head, 1);
		 * claim PUSH h */
		h = head;
		head++;
		if
		:: goto Killed			/* while it waits for its turn */
		:: skip
		fi
	}
WaitTurn:
	atomic {
		/* turn_wait_op(): A */
		if
		:: VAL(turn[SLOT(h)]) == PUSH_TURN(h) -> goto StoreValue
		:: VAL(turn[SLOT(h)]) > PUSH_TURN(h) -> assert(0)	/* -EIO: never */
		fi
	}

GetHead:
	atomic {
		/* claim PUSH_PENDING; __turn_try_push() */
		h = head				/* READ_ONCE(hdr->head) */
	}
LoadTurn:
	atomic {
		/* A */
		if
		:: turn[SLOT(h)] == PUSH_TURN(h) -> goto CAS
		:: else -> ahead = VAL(turn[SLOT(h)]) > PUSH_TURN(h); goto ReloadHead
		fi
	}
ReloadHead:
	atomic {
		if
		:: head == h ->
			assert(!ahead);			/* -EIO: never */
			retries = 0; h = 0; goto GetHead	/* -ENOSPC */
		:: else -> ahead = 0; h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
CAS:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->head, &h, h + 1); claim PUSH h */
		if
		:: head == h -> head = h + 1; retries = 0;
			if
			:: goto Killed		/* right after its claim */
			:: skip
			fi
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}

StoreValue:
	atomic {
		/* memcpy(slot->data, elem, elem_size) */
		assert(!occupied[SLOT(h)]);		/* no overwrite */
		data[SLOT(h)] = DITEM;
		occupied[SLOT(h)] = 1;
		at[h] = DITEM;
		if
		:: goto Killed			/* before B */
		:: skip
		fi
	}
PublishTurn:
	atomic {
		/* B: turn_publish(): smp_store_release(&slot->turn, 2 * lap + 1) */
		turn[SLOT(h)] = POP_TURN(h);
		d_published = 1
		/* killed before turn_claim(IDLE): the record still says PUSH h */
	}

Killed:	/* at the release of its fd, lfq_ring_leave() finds PUSH h */
#ifndef NO_REPAIR
RepairLoadTurn:
	atomic {
		/* lfq_turn_repair(): T = READ_ONCE(slot->turn) */
		if
		:: REPAIR_NOW(VAL(turn[SLOT(h)]), PUSH_TURN(h)) -> goto RepairPublishSkip
		:: REPAIR_DONE(VAL(turn[SLOT(h)]), PUSH_TURN(h)) -> goto Repaired
		fi	/* else -EAGAIN: lfq_repair_work() comes back later */
	}
progress_repair:
RepairPublishSkip:
	atomic {
		/* R: smp_store_release(&slot->turn, (2 * lap + 1) | LFQ_TURN_SKIPPED) */
#ifdef BUG_REPAIR_NO_SKIP
		turn[SLOT(h)] = POP_TURN(h);
#else
		turn[SLOT(h)] = POP_TURN(h) | SKIP;
#endif
		skipped++;
		if
		:: at[h] == DITEM ->		/* what it wrote is garbage now */
			occupied[SLOT(h)] = 0;
			at[h] = 0
		:: else
		fi
	}
Repaired:
#endif
	h = 0
}

/*
 * A live consumer: pops one item per unit of budget it takes, with pop,
 * and checks every item it reads.
 */
proctype popper()
{
	byte last;			/* 1 + sequence of the last item read */
	byte t;				/* the ticket held */
	byte item;
	bit skip_it;

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
WaitTurn:
	atomic {
		/* C: T = smp_load_acquire(&slot->turn); pairs with B */
		if
		:: VAL(turn[SLOT(t)]) == POP_TURN(t) -> skip_it = SKIPPED(turn[SLOT(t)])
		:: VAL(turn[SLOT(t)]) > POP_TURN(t) -> assert(0)	/* -EIO: never */
		fi;				/* else: wait */
		if
		:: skip_it -> goto ReleaseSkipped	/* no item: the producer died */
		:: else
		fi
	}
progress_load:
LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
		item = data[SLOT(t)];
		assert(occupied[SLOT(t)]);		/* a published item */
		assert(item != 0 && item == at[t]);	/* the one written for t */
		assert(fate[item] == 0);		/* no duplicate, not dropped */
		occupied[SLOT(t)] = 0;
		at[t] = 0;
		fate[item] = POPPED;
#ifndef CHECK_LIVENESS
		if
		:: item <= ITEMS ->
			assert(item > last);		/* per-producer FIFO */
			last = item;
			popped_at[item] = t + 1
		:: else
		fi;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
		/* D: smp_store_release(&slot->turn, 2 * lap + 2); pairs with A */
		turn[SLOT(t)] = FREE_TURN(t);
		t = 0;
		goto StartDequeue			/* return the item */
	}
progress_skip:
ReleaseSkipped:
	atomic {
#ifndef BUG_SKIP_NO_RELEASE
		/* D */
		turn[SLOT(t)] = FREE_TURN(t);
#endif
		t = 0;
		skip_it = 0;
		goto FetchAndIncrementTail		/* a new ticket */
	}
Done:
	skip
}

/*
 * A live consumer: pops one item per unit of budget it takes, calling
 * try_pop until it gets one, and checks every item it reads.
 */
proctype trypopper()
{
	byte last;			/* 1 + sequence of the last item read */
	byte h;				/* the ticket tried, then held */
	byte retries, item;
	bit skip_it;
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
		h = tail				/* READ_ONCE(hdr->tail) */
	}
LoadTurn:
	atomic {
		/* C: T = smp_load_acquire(&slot->turn); pairs with B */
		if
		:: VAL(turn[SLOT(h)]) == POP_TURN(h) ->
			skip_it = SKIPPED(turn[SLOT(h)]);
#ifdef BUG_TRY_SKIP_NO_CAS
			if
			:: skip_it -> goto ReleaseSkipped
			:: else
			fi;
#endif
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
			:: skip_it -> goto ReleaseSkipped	/* no item */
			:: else -> retries = 0
			fi
		:: else -> h = tail; skip_it = 0; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
progress_load:
LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
		item = data[SLOT(h)];
		assert(occupied[SLOT(h)]);		/* a published item */
		assert(item != 0 && item == at[h]);	/* the one written for h */
		assert(fate[item] == 0);		/* no duplicate, not dropped */
		occupied[SLOT(h)] = 0;
		at[h] = 0;
		fate[item] = POPPED;
#ifndef CHECK_LIVENESS
		if
		:: item <= ITEMS ->
			assert(item > last);		/* per-producer FIFO */
			last = item;
			popped_at[item] = h + 1
		:: else
		fi;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
		/* D: smp_store_release(&slot->turn, 2 * lap + 2); pairs with A */
		turn[SLOT(h)] = FREE_TURN(h);
		h = 0;
		goto TryDequeue				/* return the item */
	}
progress_skip:
ReleaseSkipped:
	atomic {
#ifndef BUG_SKIP_NO_RELEASE
		/* D */
		turn[SLOT(h)] = FREE_TURN(h);
#endif
		skip_it = 0;
		h++;					/* the tail the CAS left */
		NEXT_RETRY(GetTail, LoadTurn)
	}
Done:
	skip
}

/*
 * The killed consumer: holds one unit of budget, takes tickets with pop or
 * try_pop until it holds an item (or, with pop, a skipped slot), and is
 * killed holding its last ticket: before reading, before its release
 * (D), or after it but before its record is back to IDLE. The kernel
 * then repairs the ticket, at the release of its fd.
 */
proctype doomed_popper()
{
	byte h;				/* the ticket tried, then held */
	byte retries;
	bit skip_it;
	bit ahead;			/* the turn loaded is past h's */

	if
	:: goto FetchAndIncrementTail	/* lfq_turn_pop() */
	:: goto GetTail			/* lfq_turn_try_pop() */
	fi;

FetchAndIncrementTail:
	atomic {
		/* claim POP_PENDING; h = fetch_add_relaxed(&hdr->tail, 1);
		 * claim POP h */
		h = tail;
		tail++;
		if
		:: goto Killed			/* while it waits, or before D */
		:: skip
		fi
	}
WaitTurn:
	atomic {
		/* turn_wait_op(): C */
		if
		:: VAL(turn[SLOT(h)]) == POP_TURN(h) -> skip_it = SKIPPED(turn[SLOT(h)])
		:: VAL(turn[SLOT(h)]) > POP_TURN(h) -> assert(0)	/* -EIO: never */
		fi;
		if
		:: skip_it -> goto ReleaseSkipped
		:: else -> goto LoadValue
		fi
	}
ReleaseSkipped:
	atomic {
		/* D: turn_release() of the skipped slot */
#ifndef BUG_SKIP_NO_RELEASE
		turn[SLOT(h)] = FREE_TURN(h);
#endif
		skip_it = 0;
		if
		:: goto Killed		/* before the next PENDING: still POP h */
		:: goto FetchAndIncrementTail	/* a new ticket */
		fi
	}

GetTail:
	atomic {
		/* claim POP_PENDING; __turn_try_pop() */
		h = tail				/* READ_ONCE(hdr->tail) */
	}
LoadTurn:
	atomic {
		/* C */
		if
		:: VAL(turn[SLOT(h)]) == POP_TURN(h) ->
			skip_it = SKIPPED(turn[SLOT(h)]);
			goto CAS
		:: else -> ahead = VAL(turn[SLOT(h)]) > POP_TURN(h); goto ReloadTail
		fi
	}
ReloadTail:
	atomic {
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
		:: tail == h -> tail = h + 1; retries = 0;
			if
			:: skip_it -> goto TryReleaseSkipped	/* still PENDING */
			:: !skip_it -> goto Killed	/* claim POP h; killed */
			:: !skip_it -> goto LoadValue	/* claim POP h */
			fi
		:: else -> h = tail; skip_it = 0; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
TryReleaseSkipped:
	atomic {
		/* D: turn_release() of the skipped slot, inside __turn_try_pop() */
#ifndef BUG_SKIP_NO_RELEASE
		turn[SLOT(h)] = FREE_TURN(h);
#endif
		skip_it = 0;
		h++;
		NEXT_RETRY(GetTail, LoadTurn)
	}

LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
		assert(occupied[SLOT(h)]);		/* a published item */
		assert(data[SLOT(h)] == at[h]);		/* the one written for h */
		assert(at[h] != 0);
		if
		:: goto Killed			/* before D */
		:: skip
		fi
	}
ReleaseTurn:
	atomic {
		/* D: turn_release(): smp_store_release(&slot->turn, 2 * lap + 2) */
		turn[SLOT(h)] = FREE_TURN(h);
		assert(fate[at[h]] == 0);
		fate[at[h]] = TAKEN;
		occupied[SLOT(h)] = 0;
		at[h] = 0
		/* killed before turn_claim(IDLE): the record still says POP h */
	}

Killed:	/* at the release of its fd, lfq_ring_leave() finds POP h */
#ifndef NO_REPAIR
RepairLoadTurn:
	atomic {
		/* lfq_turn_repair(): T = READ_ONCE(slot->turn) */
		if
		:: DROP_NOW(VAL(turn[SLOT(h)]), POP_TURN(h)) ->
			skip_it = turn[SLOT(h)] / SKIP;
			goto RepairReleaseTurn
		:: REPAIR_DONE(VAL(turn[SLOT(h)]), POP_TURN(h)) -> goto Repaired
		fi	/* else -EAGAIN: lfq_repair_work() comes back later */
	}
progress_repair:
RepairReleaseTurn:
	atomic {
		/* R: turn_release(): smp_store_release(&slot->turn, 2 * lap + 2) */
		turn[SLOT(h)] = FREE_TURN(h);
		if
		:: !skip_it ->
			dropped++;			/* the item is lost */
			assert(at[h] != 0);
			assert(fate[at[h]] == 0);
			fate[at[h]] = DROPPED
		:: else
		fi;
		occupied[SLOT(h)] = 0;
		at[h] = 0;
		skip_it = 0
	}
Repaired:
#endif
	h = 0
}

/*
 * init is the live producer too (a sixth process would be one too many
 * for the liveness search: pan's weak fairness takes at most 6, its
 * never claim included): it starts the others, pushes 1 .. ITEMS in
 * order with push, then checks the end state.
 */
init
{
	byte sent;			/* items pushed so far */
	byte t;				/* the ticket held */
	byte i, left, popped, lost, taken, prev;

	/* the ring as created: head == tail == 0, every turn 0 */
	atomic {
		run doomed_pusher();
		run popper();
		run trypopper();
		run doomed_popper()
	}

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
		/* A: T = smp_load_acquire(&slot->turn); pairs with D */
		if
		:: turn[SLOT(t)] == PUSH_TURN(t)
		:: VAL(turn[SLOT(t)]) > PUSH_TURN(t) -> assert(0)	/* -EIO: never */
		fi				/* else: wait */
	}
progress_store:
StoreValue:
	atomic {
		/* memcpy(slot->data, elem, elem_size) */
		assert(!occupied[SLOT(t)]);		/* no overwrite */
		data[SLOT(t)] = sent + 1;
		occupied[SLOT(t)] = 1;
		at[t] = sent + 1
	}
PublishTurn:
	atomic {
		/* B: smp_store_release(&slot->turn, 2 * lap + 1); pairs with C */
		turn[SLOT(t)] = POP_TURN(t);
		t = 0;
		sent++;
		goto StartEnqueue
	}
Done:
	/* everyone has ended, the repairs too */
	_nr_pr == 1;
	d_step {
		assert(head == TICKETS && tail <= head && budget == 0);
		/* the killed producer's ticket: skipped unless it was published */
		assert(skipped + d_published == 1);

		/* the tickets not taken: published, and the items unclaimed */
		for (t : tail .. head - 1) {
			assert(VAL(turn[SLOT(t)]) == POP_TURN(t));
			if
			:: turn[SLOT(t)] & SKIP
			:: else ->
				assert(occupied[SLOT(t)]);
				assert(at[t] != 0 && fate[at[t]] == 0);
				left++
			fi
		}
		/* the other slots: free for their next ticket */
		for (t : head .. tail + C - 1) {
			assert(!occupied[SLOT(t)]);
			assert(turn[SLOT(t)] == PUSH_TURN(t))
		}

		/*
		 * every item published was popped once by a live consumer,
		 * or dropped, or taken by the killed consumer, or is still
		 * there; the live producer's in order
		 */
		for (i : 1 .. DITEM) {
			if
			:: fate[i] == POPPED -> popped++;
#ifndef CHECK_LIVENESS
				if
				:: i <= ITEMS ->
					assert(popped_at[i] > prev);	/* per-producer FIFO */
					prev = popped_at[i]
				:: else
				fi
#endif
			:: fate[i] == DROPPED -> lost++
			:: fate[i] == TAKEN -> taken++
			:: else
			fi
		}
		assert(lost == dropped && dropped + taken <= 1);
		assert(popped + lost + taken + left == ITEMS + d_published);
		i = 0; t = 0; left = 0; popped = 0; lost = 0; taken = 0; prev = 0;
		sent = 0
	}
}
