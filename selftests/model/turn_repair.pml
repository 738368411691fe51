// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the repair of a dead ticket holder on the turn ring
 * (LFQ_RING_TURN): when a participant dies holding a ticket, the kernel
 * reads its claim record (struct lfq_claim) at the release of its fd
 * (lfq_ring_leave(), kmod/ring.c) and hands the ticket's turn on
 * (lfq_turn_repair(), kmod/turn.c), marking a producer's slot
 * LFQ_TURN_SKIPPED or dropping a consumer's item. The record is two
 * words, pos and state, that the participant writes one at a time; the
 * model has both, store by store, and a death between any two steps.
 * Checked exhaustively by selftests/model/check.sh; the ring itself is
 * turn.pml's, whose header describes the algorithm and the steps (the
 * same labels are used here).
 *
 * model: 1P + 2C alive, 1P + 1C killed at any step, capacity 2, 2 laps
 * checks: safety liveness
 * mutants: NO_REPAIR BUG_SKIP_READ BUG_SKIP_NO_RELEASE BUG_TRY_SKIP_NO_CAS
 * mutants: BUG_REPAIR_NO_WAIT BUG_REPAIR_NO_SKIP BUG_DROP_NO_WAIT
 * mutants: BUG_REPAIR_MOVED_ON BUG_CLEAR_POS_FIRST BUG_HOLD_STATE_FIRST
 * mutants: BUG_REPAIR_PENDING
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The claim record
 *
 *   A participant that owns a claim record (LFQ_IOC_JOIN, which leaves
 *   it IDLE with pos 0) writes it around every ticket, in program order
 *   (turn_claim() and turn_hold(), user/turn.c), one WRITE_ONCE() each:
 *
 *     take      state = PUSH_PENDING (POP_PENDING); the ticket's RMW
 *               (fetch_add, or the try's CAS) gives t; pos = t;
 *               state = PUSH (POP)            __turn_push_reserve(),
 *               __turn_pop_reserve(), turn_try_push_claim(),
 *               turn_try_pop_claim()
 *     done      publish (B) or release (D); state = IDLE, pos left as it
 *               was                            turn_push_done(),
 *               turn_pop_done(), lfq_turn_push_commit(),
 *               lfq_turn_pop_commit()
 *     no luck   a try that finds nothing: state = IDLE, and the caller
 *               tries again from PENDING
 *     skipped   a pop that meets a skipped slot releases it (D) and goes
 *               back to PENDING for its next ticket; a try_pop releases
 *               it inside its search, still PENDING
 *
 *   pos changes only while the state is PENDING, so whatever step the
 *   participant dies at, a PUSH or POP record names the ticket it took
 *   last: held, or handed on already. A try stays PENDING through its
 *   whole search, and records its ticket only once it has one to use.
 *
 * The repair
 *
 *   When the participant's fd is released (close, exit, kill -9: at some
 *   time after the death), lfq_ring_leave() copies the record once:
 *
 *     IDLE        nothing;
 *     *_PENDING   it may or may not have taken a ticket: nothing is
 *                 repaired, lfq_desc.unresolved++. Dead after its RMW,
 *                 it leaves its ticket stalled for good, by design;
 *     PUSH, POP   lfq_repair_work() calls lfq_turn_repair(pos) until it
 *                 no longer says -EAGAIN, backing off, never waiting in
 *                 between.
 *
 *   lfq_turn_repair(t): a t at or past head (PUSH) or tail (POP) was
 *   never handed out: a scribbled record, lfq_desc.errors++, nothing
 *   repaired. Else, with want == 2 * lap(t) for PUSH, 2 * lap(t) + 1 for
 *   POP, and dif = (READ_ONCE(turn) & ~SKIP) - want:
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
 *   dif == 0 is a safe test only because the record names a ticket the
 *   participant took: a record naming another's ticket (the old clear,
 *   pos = 0 before state = IDLE: BUG_CLEAR_POS_FIRST) repairs that
 *   ticket under its live holder.
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
 *     producer 1   killed: pushes one item with push or try_push (the
 *                  model's choice), trying again while try_push finds
 *                  the ring full, and is killed after any of its steps,
 *                  or before the first, or ends once its record is IDLE
 *                  again
 *     consumer 0   alive: pop, one item per unit of budget
 *     consumer 1   alive: try_pop until it gets one, per unit of budget
 *     consumer 2   killed: holds one unit of budget from the start; pops
 *                  one item with pop or try_pop (the model's choice) as a
 *                  live consumer does, skipped slots included, and is
 *                  killed after any of its steps, or before the first,
 *                  or ends once its record is IDLE again
 *
 *   so at most ITEMS + 1 == 4 tickets go through head, and at most as
 *   many through tail: 2 laps of each slot. The budget (stress_claim() of
 *   the stress tests) is the ITEMS items of the live producer: a consumer
 *   takes a unit, then tickets until it gets an item, so every run ends
 *   (unless a death stalls the ring, below). An item can stay in the
 *   ring at the end, with no unit left for it: when the killed producer's
 *   item was published after all, or the killed consumer's unit went
 *   unused.
 *
 *   The killed participants' records are local variables pos and state
 *   of their proctypes, each store a step of its own in the code's order
 *   (the labels ClaimPending, HoldPos, HoldState, ClaimIdle for push and
 *   pop, TryClaimPending and TryClaimIdle around a try, and the RMW's
 *   FetchAndIncrementHead, FetchAndIncrementTail or CAS between), and a
 *   death may follow any step (DIE), the ring's too: inside the take,
 *   between the last publish or release and IDLE, between a released
 *   skipped slot and the next PENDING. A death right after a step that
 *   only reads (the waits, the tries' loads) is the death right before
 *   it, the same state once the dead one's locals are reset, so those
 *   steps have none.
 *
 *   The death's step also does lfq_ring_leave()'s copy of the record
 *   (LEAVE): nobody writes the record after the death, so the copy is
 *   the same at any later time, and unresolved is only read by the
 *   checks. The repair (RepairLoadTurn, then RepairPublishSkip for a
 *   producer's ticket or RepairReleaseTurn for a consumer's, or nothing:
 *   Repaired) runs in the killed participant's proctype: its steps
 *   interleave with everyone else's at any time after the death, as an
 *   fd release at an arbitrary later time and delayed work do (and,
 *   under weak fairness, eventually). Its -EAGAIN retries are a guard,
 *   like every wait here; its loads of the counter and of the turn are
 *   one step (the counter only grows, and its test only matters to a
 *   record that names a ticket not handed out). The two repairs are
 *   independent of each other, as in lfq_repair_work(), which tries
 *   every dead record on each pass and never waits for one.
 *
 *   Stalls. A death in *_PENDING after the RMW (DIE_STALL: after the
 *   fetch_add or the CAS, after pos = t, and in a try_pop holding a
 *   skipped slot it has not released) leaves a ticket that nobody will
 *   hand on: its slot stalls for good, then everybody behind it. The
 *   safety search has these deaths: the live producer (init) watches
 *   for the end of all moves (timeout), and asserts that it comes only
 *   after such a death, counted in unresolved; the waits of the others,
 *   and the repairs, are valid end states (end_ labels) for that, and
 *   init, never blocked without its timeout, still ends every run. The
 *   liveness search leaves these deaths out (a live try_pop spins for
 *   ever on a stalled ring: a cycle without progress, by design), and
 *   has every other one.
 *
 *   Not modelled: scribbled records (the kernel's test for them is, and
 *   never fires: errors == 0); the reserve and commit calls, whose
 *   record and turn stores are push's and pop's (the commit's CAS is the
 *   store B or D for a single committer); the -EIO exits of the waits
 *   (IDLE, then the error); the parking of the repair's retries; the
 *   record's memory ordering: it is written in program order (barrier()
 *   in turn_claim(), turn_hold()) and read after the death.
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
 *   - a repair stores only for a ticket that its dead participant took
 *     and had not handed on (ghost held[]), and no record is scribbled;
 *   - accounting, at the end: the killed producer's ticket, if it took
 *     one, was skipped (skipped == 1), or published, or taken in PENDING
 *     and left; a ticket held at a death was repaired unless it was
 *     taken in PENDING (ghost stuck[]), and unresolved counts those;
 *     dropped counts the items whose slot a repair released unread;
 *     every item published was popped once by a live consumer, or
 *     dropped, or taken by the killed consumer before its release, or is
 *     still in the ring, published and unclaimed, between tail and head
 *     or held in PENDING by the killed consumer (popped + dropped + taken
 *     + left + kept == ITEMS + published by the killed producer); each
 *     slot stands at the turn of its first ticket not handed on: free
 *     for its next ticket, or published, or held in PENDING, and any
 *     later ticket of it was taken by the killed producer in PENDING;
 *   - no deadlock: every run ends with all processes at their end, the
 *     repairs included, or stalls only after a death in PENDING that had
 *     taken its ticket (init's timeout, above);
 *   - liveness: under weak fairness, no cycle without progress (an
 *     element written or read, a SKIP slot released, a repair's store).
 *
 * Mutants
 *
 *   NO_REPAIR            no repair at all: the documented stalled ticket
 *                        (expected to fail: a stall with nothing
 *                        unresolved)
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
 *   BUG_CLEAR_POS_FIRST  the clear writes pos = 0 before state = IDLE (the
 *                        old turn_claim(IDLE)): dead between the two, a
 *                        participant leaves PUSH 0 or POP 0, and the
 *                        kernel repairs ticket 0 under its live holder
 *   BUG_HOLD_STATE_FIRST turn_hold() writes state before pos: dead between
 *                        the two, the record names the previous pos
 *   BUG_REPAIR_PENDING   the kernel repairs the pos of a *_PENDING record
 *                        as if it were held
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

/* struct lfq_claim's state (LFQ_CLAIM_*) */
#define IDLE		0	/* holds nothing */
#define PUSH_PENDING	1	/* about to take a producer ticket */
#define PUSH		2	/* holds producer ticket pos */
#define POP_PENDING	3	/* about to take a consumer ticket */
#define POP		4	/* holds consumer ticket pos */

/* the ghost state's index of a killed participant */
#define KP		0	/* the killed producer */
#define KC		1	/* the killed consumer */

/*
 * A killed participant's death: after any of its steps, the model's
 * choice, or when it ends. DIE_STALL is a death in *_PENDING after the
 * ticket's RMW: the ticket stalls the ring for good, by design (the
 * kernel cannot know it). The safety search has those deaths and checks
 * that a stall comes only after one; the liveness search leaves them
 * out: on a stalled ring a live try_pop spins for ever, which would be
 * a cycle without progress, by design.
 */
#define DIE \
	if \
	:: LEAVE \
	:: skip \
	fi
#ifndef CHECK_LIVENESS
#define STALLS
#endif
#ifdef STALLS
#define DIE_STALL	DIE
#else
#define DIE_STALL	skip
#endif

/*
 * lfq_ring_leave(), at the release of the dead one's fd: it copies the
 * record, which no longer changes after the death, so the copy is taken
 * in the step of the death (the rest of the proctype's state is reset:
 * nothing else of it lives on). IDLE: nothing to do. *_PENDING: whether
 * it took a ticket is unknown; lfq_desc.unresolved++, nothing repaired.
 * PUSH or POP: lfq_repair_work() repairs pos, at any later time. ME is
 * the proctype's killed participant, KP or KC.
 */
#define LEAVE \
	h = 0; retries = 0; skip_it = 0; ahead = 0; tried = 0; \
	if \
	:: state == IDLE -> FORGET; goto Repaired \
	:: state == PUSH_PENDING || state == POP_PENDING -> \
		unresolved++; \
		stuck[ME] = (held[ME] != 0); \
		LEAVE_PENDING \
	:: state == PUSH || state == POP -> goto RepairLoadTurn \
	fi
#ifdef BUG_REPAIR_PENDING
#define LEAVE_PENDING	goto RepairLoadTurn		/* repairs pos all the same */
#else
#define LEAVE_PENDING	FORGET; goto Repaired
#endif

/* the kernel is done with the record, which is free again: no state apart */
#define FORGET		pos = 0; state = IDLE

/*
 * _nr_pr once init is alone: the liveness search's never claim (np_)
 * counts as a process
 */
#ifdef CHECK_LIVENESS
#define ALONE		2
#else
#define ALONE		1
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
byte unresolved;		/* deaths in *_PENDING */
byte errors;			/* lfq_ring_corrupt(): scribbled records */

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
 * [KP] and [KC]: 1 + the ticket the killed one holds, from the RMW that
 * took it to its B or D, or to its repair's R; and that it died holding
 * it in PENDING, so that nobody hands it on
 */
byte held[2];
bit  stuck[2];

/*
 * The killed producer: claims one ticket with push or try_push, writing
 * its claim record one store per step in the order of user/turn.c, and
 * is killed after any step (before its first one too), or ends after its
 * record is IDLE again. After the death, at the release of its fd, the
 * kernel reads the record and repairs what it names.
 */
#define ME KP
proctype doomed_pusher()
{
	byte h;				/* the ticket tried, then held */
	byte retries;
	bit skip_it;			/* unused: LEAVE resets it */
	bit ahead;			/* the turn loaded is past h's */
	bit tried;			/* h came from try_push: its turn is there */
	/* its claim record, as LFQ_IOC_JOIN left it: IDLE, pos 0 */
	byte pos;
	byte state;

	if
	:: LEAVE			/* before its first claim */
	:: goto ClaimPending		/* lfq_turn_push() */
	:: goto TryClaimPending		/* lfq_turn_try_push() */
	fi;

ClaimPending:
	atomic {
		/* __turn_push_reserve(): turn_claim(PUSH_PENDING) */
		state = PUSH_PENDING;
		DIE
	}
FetchAndIncrementHead:
	atomic {
		/* pos = fetch_add_relaxed(&hdr->head, 1) */
		h = head;
		head++;
		held[KP] = h + 1;
		DIE_STALL			/* PENDING, holding h */
	}
HoldPos:
	atomic {
#ifndef BUG_HOLD_STATE_FIRST
		/* turn_hold(): WRITE_ONCE(c->pos, pos) */
		pos = h;
		DIE_STALL			/* PENDING, holding h */
#else
		state = PUSH;			/* names the previous pos */
		DIE
#endif
	}
HoldState:
	atomic {
#ifndef BUG_HOLD_STATE_FIRST
		/* WRITE_ONCE(c->state, PUSH) */
		state = PUSH;
#else
		pos = h;
#endif
		DIE;				/* before A, or before the write */
		if
		:: tried -> tried = 0; goto StoreValue	/* A was in the try */
		:: else
		fi
	}
end_wait:
WaitTurn:
	atomic {
		/* turn_wait_op(): A */
		if
		:: VAL(turn[SLOT(h)]) == PUSH_TURN(h)
		:: VAL(turn[SLOT(h)]) > PUSH_TURN(h) -> assert(0)	/* -EIO: never */
		fi
	}
StoreValue:
	atomic {
		/* memcpy(slot->data, elem, elem_size) */
		assert(!occupied[SLOT(h)]);		/* no overwrite */
		data[SLOT(h)] = DITEM;
		occupied[SLOT(h)] = 1;
		at[h] = DITEM;
		DIE				/* before B */
	}
PublishTurn:
	atomic {
		/* B: turn_publish(): smp_store_release(&slot->turn, 2 * lap + 1) */
		turn[SLOT(h)] = POP_TURN(h);
		d_published = 1;
		held[KP] = 0;
		DIE				/* the record still says PUSH h */
	}
#ifdef BUG_CLEAR_POS_FIRST
ClearPos:
	atomic {
		pos = 0;			/* the old clear: PUSH 0 */
		DIE
	}
#endif
ClaimIdle:
	atomic {
		/* turn_push_done(): turn_claim(IDLE), pos as it was */
		state = IDLE;
		LEAVE				/* it ends: exit, or a kill */
	}

TryClaimPending:
	atomic {
		/* turn_try_push_claim(): turn_claim(PUSH_PENDING) */
		state = PUSH_PENDING;
		DIE
	}
GetHead:
	atomic {
		/* __turn_try_push() */
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
			h = 0; retries = 0; goto TryClaimIdle	/* -ENOSPC */
		:: else -> ahead = 0; h = head; NEXT_RETRY(TryClaimIdle, LoadTurn)
		fi
	}
CAS:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->head, &h, h + 1) */
		if
		:: head == h -> head = h + 1; retries = 0;
			held[KP] = h + 1;
			tried = 1;
			DIE_STALL;		/* PENDING, holding h */
			goto HoldPos		/* turn_hold(PUSH, h) */
		:: else -> h = head; NEXT_RETRY(TryClaimIdle, LoadTurn)
		fi
	}
TryClaimIdle:
#ifdef BUG_CLEAR_POS_FIRST
	atomic {
		pos = 0;
		DIE
	}
#endif
	atomic {
		/* -ENOSPC or -EBUSY: turn_claim(IDLE); the caller tries again */
		state = IDLE;
		DIE;
		goto TryClaimPending
	}

end_repair:
RepairLoadTurn:
#ifdef NO_REPAIR
	FORGET; goto Repaired;
#else
	atomic {
		/*
		 * lfq_turn_repair(): pos at or past head was never handed
		 * out, a scribbled record: lfq_ring_corrupt(), nothing
		 * repaired; else T = READ_ONCE(slot->turn)
		 */
		if
		:: pos >= head -> errors++; FORGET; goto Repaired
		:: pos < head && REPAIR_NOW(VAL(turn[SLOT(pos)]), PUSH_TURN(pos)) ->
			goto RepairPublishSkip
		:: pos < head && REPAIR_DONE(VAL(turn[SLOT(pos)]), PUSH_TURN(pos)) ->
			FORGET; goto Repaired
		fi	/* else -EAGAIN: lfq_repair_work() comes back later */
	}
progress_repair:
RepairPublishSkip:
	atomic {
		/* only a ticket that it held and did not publish */
		assert(held[KP] == pos + 1);
		/* R: smp_store_release(&slot->turn, (2 * lap + 1) | LFQ_TURN_SKIPPED) */
#ifdef BUG_REPAIR_NO_SKIP
		turn[SLOT(pos)] = POP_TURN(pos);
#else
		turn[SLOT(pos)] = POP_TURN(pos) | SKIP;
#endif
		skipped++;
		if
		:: at[pos] == DITEM ->		/* what it wrote is garbage now */
			occupied[SLOT(pos)] = 0;
			at[pos] = 0
		:: else
		fi;
		held[KP] = 0;
		FORGET
	}
#endif
Repaired:
	skip
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
end_wait:
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
 * The killed consumer: holds one unit of budget; claims tickets with pop
 * or try_pop as a live consumer does, until it holds an item, writing its
 * claim record one store per step in the order of user/turn.c, and is
 * killed after any step (before its first one too), or ends after its
 * record is IDLE again. After the death, at the release of its fd, the
 * kernel reads the record and repairs what it names.
 */
#undef ME
#define ME KC
proctype doomed_popper()
{
	byte h;				/* the ticket tried, then held */
	byte retries;
	bit skip_it;
	bit ahead;			/* the turn loaded is past h's */
	bit tried;			/* h came from try_pop: its item is there */
	/* its claim record, as LFQ_IOC_JOIN left it: IDLE, pos 0 */
	byte pos;
	byte state;

	if
	:: LEAVE			/* before its first claim */
	:: goto ClaimPending		/* lfq_turn_pop() */
	:: goto TryClaimPending		/* lfq_turn_try_pop() */
	fi;

ClaimPending:
	atomic {
		/* __turn_pop_reserve(): turn_claim(POP_PENDING) */
		state = POP_PENDING;
		DIE
	}
FetchAndIncrementTail:
	atomic {
		/* pos = fetch_add_relaxed(&hdr->tail, 1) */
		h = tail;
		tail++;
		held[KC] = h + 1;
		DIE_STALL			/* PENDING, holding h */
	}
HoldPos:
	atomic {
#ifndef BUG_HOLD_STATE_FIRST
		/* turn_hold(): WRITE_ONCE(c->pos, pos) */
		pos = h;
		DIE_STALL			/* PENDING, holding h */
#else
		state = POP;			/* names the previous pos */
		DIE
#endif
	}
HoldState:
	atomic {
#ifndef BUG_HOLD_STATE_FIRST
		/* WRITE_ONCE(c->state, POP) */
		state = POP;
#else
		pos = h;
#endif
		DIE;				/* before C, or before the read */
		if
		:: tried -> tried = 0; goto LoadValue	/* C was in the try */
		:: else
		fi
	}
end_wait:
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
		held[KC] = 0;
		skip_it = 0;
		DIE;				/* the record still says POP h */
		goto ClaimPending		/* and a new ticket */
	}

TryClaimPending:
	atomic {
		/* turn_try_pop_claim(): turn_claim(POP_PENDING) */
		state = POP_PENDING;
		DIE
	}
GetTail:
	atomic {
		/* __turn_try_pop() */
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
			h = 0; retries = 0; goto TryClaimIdle	/* -EAGAIN */
		:: else -> ahead = 0; h = tail; NEXT_RETRY(TryClaimIdle, LoadTurn)
		fi
	}
CAS:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->tail, &h, h + 1) */
		if
		:: tail == h -> tail = h + 1;
			held[KC] = h + 1;
			DIE_STALL;		/* PENDING, holding h */
			if
			:: skip_it -> goto TryReleaseSkipped
			:: else -> retries = 0; tried = 1;
				goto HoldPos	/* turn_hold(POP, h) */
			fi
		:: else -> h = tail; skip_it = 0; NEXT_RETRY(TryClaimIdle, LoadTurn)
		fi
	}
TryReleaseSkipped:
	atomic {
		/* D: turn_release() of the skipped slot, inside __turn_try_pop() */
#ifndef BUG_SKIP_NO_RELEASE
		turn[SLOT(h)] = FREE_TURN(h);
#endif
		held[KC] = 0;
		skip_it = 0;
		h++;
		DIE;				/* PENDING, holding nothing */
		NEXT_RETRY(TryClaimIdle, LoadTurn)
	}
TryClaimIdle:
#ifdef BUG_CLEAR_POS_FIRST
	atomic {
		pos = 0;
		DIE
	}
#endif
	atomic {
		/* -EAGAIN or -EBUSY: turn_claim(IDLE); the caller tries again */
		state = IDLE;
		DIE;
		goto TryClaimPending
	}

LoadValue:
	atomic {
		/* memcpy(elem, slot->data, elem_size) */
		assert(occupied[SLOT(h)]);		/* a published item */
		assert(data[SLOT(h)] == at[h]);		/* the one written for h */
		assert(at[h] != 0);
		DIE				/* before D */
	}
ReleaseTurn:
	atomic {
		/* D: turn_release(): smp_store_release(&slot->turn, 2 * lap + 2) */
		turn[SLOT(h)] = FREE_TURN(h);
		assert(fate[at[h]] == 0);
		fate[at[h]] = TAKEN;
		occupied[SLOT(h)] = 0;
		at[h] = 0;
		held[KC] = 0;
		DIE				/* the record still says POP h */
	}
#ifdef BUG_CLEAR_POS_FIRST
ClearPos:
	atomic {
		pos = 0;			/* the old clear: POP 0 */
		DIE
	}
#endif
ClaimIdle:
	atomic {
		/* turn_pop_done(): turn_claim(IDLE), pos as it was */
		state = IDLE;
		LEAVE				/* it ends: exit, or a kill */
	}

end_repair:
RepairLoadTurn:
#ifdef NO_REPAIR
	FORGET; goto Repaired;
#else
	atomic {
		/*
		 * lfq_turn_repair(): pos at or past tail was never handed
		 * out, a scribbled record: lfq_ring_corrupt(), nothing
		 * repaired; else T = READ_ONCE(slot->turn)
		 */
		if
		:: pos >= tail -> errors++; FORGET; goto Repaired
		:: pos < tail && DROP_NOW(VAL(turn[SLOT(pos)]), POP_TURN(pos)) ->
			skip_it = turn[SLOT(pos)] / SKIP;
			goto RepairReleaseTurn
		:: pos < tail && REPAIR_DONE(VAL(turn[SLOT(pos)]), POP_TURN(pos)) ->
			FORGET; goto Repaired
		fi	/* else -EAGAIN: lfq_repair_work() comes back later */
	}
progress_repair:
RepairReleaseTurn:
	atomic {
		/* only a ticket that it held and did not release */
		assert(held[KC] == pos + 1);
		/* R: turn_release(): smp_store_release(&slot->turn, 2 * lap + 2) */
		turn[SLOT(pos)] = FREE_TURN(pos);
		if
		:: !skip_it ->
			dropped++;			/* the item is lost */
			assert(at[pos] != 0);
			assert(fate[at[pos]] == 0);
			fate[at[pos]] = DROPPED
		:: else
		fi;
		occupied[SLOT(pos)] = 0;
		at[pos] = 0;
		skip_it = 0;
		held[KC] = 0;
		FORGET
	}
#endif
Repaired:
	skip
}

/*
 * init is the live producer too (a sixth process would be one too many
 * for the liveness search: pan's weak fairness takes at most 6, its
 * never claim included): it starts the others, pushes 1 .. ITEMS in
 * order with push, then checks the end state; or, if nobody can move any
 * more, the stall.
 */
init
{
	byte sent;			/* items pushed so far */
	byte t;				/* the ticket held */
	byte i, s, left, kept, popped, lost, taken, prev;

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
		:: timeout -> goto Stalled	/* nobody can move */
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
	if
	:: _nr_pr == ALONE		/* everyone has ended, the repairs too */
	:: timeout -> goto Stalled	/* nobody can move */
	fi;
	d_step {
		assert(tail <= head && budget == 0);
		assert(errors == 0);		/* no record named a ticket not taken */
		/*
		 * the killed producer's ticket, if it took one: skipped,
		 * published, or taken in PENDING (nobody repaired it)
		 */
		assert(skipped + d_published + stuck[KP] == head - ITEMS);
		/* a ticket held at a death is repaired, unless unresolved */
		assert(held[KP] == 0 || stuck[KP]);
		assert(held[KC] == 0 || stuck[KC]);
		assert(unresolved >= stuck[KP] + stuck[KC]);

		/*
		 * each slot stands at the turn of its first ticket not handed
		 * on: every ticket before tail was released, but the one of
		 * a consumer killed in PENDING
		 */
		for (s : 0 .. C - 1) {
			t = s;
			do
			:: t < tail && !(stuck[KC] && t + 1 == held[KC]) -> t = t + C
			:: else -> break
			od;
			if
			:: t >= head ->			/* free for its next ticket */
				assert(turn[s] == PUSH_TURN(t) && !occupied[s])
			:: t < head && stuck[KP] && t + 1 == held[KP] ->
				/* its producer was killed in PENDING */
				assert(turn[s] == PUSH_TURN(t) && !occupied[s])
			:: else ->			/* published, unclaimed */
				assert(VAL(turn[s]) == POP_TURN(t));
				if
				:: turn[s] & SKIP -> assert(!occupied[s])
				:: else ->
					assert(occupied[s] && data[s] == at[t]);
					assert(at[t] != 0 && fate[at[t]] == 0);
					if
					:: t < tail -> kept++	/* by the stuck consumer */
					:: else -> left++
					fi
				fi
			fi;
			/* any later ticket of the slot: its producer was killed in PENDING */
			t = t + C;
			do
			:: t < head -> assert(t >= tail && stuck[KP] && t + 1 == held[KP]); t = t + C
			:: else -> break
			od
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
		assert(popped + lost + taken + left + kept == ITEMS + d_published);
		i = 0; s = 0; t = 0; left = 0; kept = 0; popped = 0; lost = 0;
		taken = 0; prev = 0; sent = 0
	}
	goto End;
Stalled:
	/*
	 * The ring stalls for good: only after a death in PENDING that had
	 * taken its ticket, which the kernel counted as unresolved. (A stall
	 * in which a live try_pop spins is no deadlock, and no timeout: the
	 * liveness search, which has none of those deaths, would find any
	 * as a cycle without progress.)
	 */
	atomic {
		assert(stuck[KP] || stuck[KC]);
		assert(unresolved > 0);
		assert(errors == 0);
		t = 0; sent = 0
	}
End:
	skip
}
