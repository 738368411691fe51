// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the work-stealing deque (LFQ_RING_WSDEQUE), a bounded
 * Chase-Lev deque: wsd_push(), wsd_pop() and wsd_steal() of
 * kmod/wsdeque.c and user/wsdeque.c, with their labels T, R, F1, F2, S,
 * A and X, on x86-TSO store buffers, one shared access per step, checked
 * exhaustively by selftests/model/check.sh.
 *
 * model: 1 owner (9 calls, any mix of push and pop, 4 items) x 2 thieves,
 * model: capacity 2, x86-TSO store buffers
 * checks: safety liveness
 * mutants: BUG_NO_F1 BUG_NO_F2 BUG_NO_LAST_CAS BUG_KEEP_COPY
 * mutants: BUG_PUSH_NO_FULL BUG_NO_RESTORE BUG_COPY_AFTER_CAS
 * mutants: BUG_PUBLISH_EARLY
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The algorithm (the comment at the top of kmod/wsdeque.c is the
 * reference; the labels are its labels)
 *
 *   push   b = bottom; (T) t = acquire(top); corrupt unless b - t in
 *          -1..CAP; -ENOSPC if b - t >= CAP; write slot b; (R)
 *          release(bottom, b + 1).
 *   pop    b = bottom - 1; bottom = b; (F1) smp_mb; t = top; corrupt
 *          unless b - t in -1..CAP; t > b: bottom = b + 1, -EAGAIN;
 *          t < b: take slot b; t == b: (X) CAS top t -> t + 1, take slot
 *          b if it won (else -EAGAIN), then bottom = b + 1.
 *   steal  (S) t = acquire(top); (F2) smp_mb; (A) b = acquire(bottom);
 *          b - t outside -1..CAP: -EBUSY if top has moved from t, else
 *          corrupt; t >= b: -EAGAIN; copy slot t; (X) CAS top t -> t + 1,
 *          -EBUSY if it lost, and the copy is dropped.
 *
 * What is modelled
 *
 *   The owner makes NOPS == 9 calls, each a push or a pop, chosen at
 *   each call, and pushes items 1, 2, ... up to NITEMS == 4 of them (a
 *   push that finds the deque full pushes nothing, and the next push
 *   tries the same item again). So every such program of 9 calls is
 *   run: pushes into a full deque, pops of an empty one, pops that meet
 *   a thief on the last element, positions 0..3, that is two laps of
 *   both slots, written again while thieves may hold copies of them.
 *   Two thieves steal until the owner has finished and the deque is
 *   empty, as an application stops its workers once the work is done (a
 *   ghost look at the words, not a step of the algorithm). A thief's
 *   -EAGAIN and -EBUSY are an immediate call again. steal_batch() is
 *   steals in a row and adds nothing here.
 *
 *   Each atomic block holds ONE access to a shared word (a CAS counts as
 *   one), or one store into the owner's buffer, and otherwise local work
 *   and ghost bookkeeping. The owner is the only writer of bottom and of
 *   the slots, so its loads of them are no step of their own: they
 *   return its own last store wherever it is, and are folded into its
 *   next step. Positions start at 0 and never reach the s64 wrap; the
 *   empty pop of a fresh deque takes bottom to -1 for a while.
 *
 *   Left out: lfq_wsdeque_len() and poll (loads only), the -EINVAL
 *   checks, corrupt words written by someone else (the corruption checks
 *   are asserted never to fire), element sizes (an element is one word:
 *   its value).
 *
 * Memory model: x86-TSO
 *
 *   The owner's stores (the slot and bottom in push, bottom in pop) go
 *   into its FIFO store buffer, which drains to memory, oldest first, at
 *   any time (process drain()). It has room for every store of the
 *   run (two a call at most), so it is never full: no store waits for a
 *   drain. The owner's loads of its own words look into its buffer first
 *   (own_load()). smp_mb() (F1) waits until the buffer is empty; the CAS
 *   of X is a locked instruction, which drains it first. A release store
 *   is a plain store and an acquire load a plain load on x86. Thieves
 *   store nothing but by CAS on top, so their buffers stay empty: top
 *   lives in memory only.
 *
 *   F2 has nothing to drain on x86: a thief stores nothing before it, and
 *   TSO never reorders loads with loads, nor does it let two thieves see
 *   two stores in different orders (multi-copy atomicity). So dropping F2
 *   changes nothing on x86, and cannot be caught here as such. What F2
 *   forbids elsewhere (POWER, not multi-copy atomic): a thief sees
 *   another thief's CAS of top, yet an old bottom from before the owner's
 *   pop stored bottom - 1, while the owner's load after F1 still saw top
 *   before that CAS. The outcome is the one of a thief that loads bottom
 *   before top, which is how BUG_NO_F2 models it (as BUG_NO_G does in
 *   sequencer.pml), though S, an acquire, keeps that order by itself:
 *   the mutant stands for the outcome, not for the way POWER gets there.
 *
 * Properties
 *
 *   - every item pushed is taken exactly once, by the owner or one thief:
 *     none twice (ghost taken[], asserted at each take), none lost
 *     (checked at the end), none taken that was not pushed;
 *   - what is taken at position p is the item pushed at p (ghost at[]):
 *     no stale copy is ever kept; a thief's copy, read before its CAS,
 *     counts only if the CAS won;
 *   - the last element has one winner: when the owner's CAS of X loses,
 *     a thief has taken that element;
 *   - no corruption is ever seen (wsd_sane() holds at every check, or
 *     top moved on, for a thief);
 *   - at the end the deque is empty and quiet: top == bottom, nothing
 *     buffered; no deadlock (the safety search's end states);
 *   - liveness: under weak fairness there is no cycle at all (there are
 *     no progress labels). The owner makes a bounded number of calls and
 *     waits for nothing but the drain, and a thief's -EBUSY means that
 *     another took an item, so the one fair cycle possible is thieves
 *     spinning forever, after the owner has finished, on a deque that
 *     never empties. Without the thieves' stop, this search fails.
 *
 * Mutants
 *
 *   BUG_NO_F1           no smp_mb() in pop: its store of bottom stays in
 *                       the buffer while it loads top and takes slot b as
 *                       t < b, and thieves that see the old bottom steal
 *                       up to slot b too: a duplicate
 *   BUG_NO_F2           a thief loads bottom before top (above): it
 *                       sees a span below -1 with top unchanged and
 *                       counts a corruption, or, that check aside, steals
 *                       the item the owner popped
 *   BUG_NO_LAST_CAS     the owner takes the last element (t == b) as any
 *                       other, without the CAS of X
 *   BUG_KEEP_COPY       a thief keeps its copy when its CAS loses
 *   BUG_PUSH_NO_FULL    push without the capacity check
 *   BUG_NO_RESTORE      pop leaves bottom at b when it takes nothing or
 *                       the last element
 *   BUG_COPY_AFTER_CAS  a thief copies the slot after its CAS: the owner
 *                       may have written the slot again meanwhile (T)
 *   BUG_PUBLISH_EARLY   push stores bottom (R) before the slot
 *
 *   Not a mutant: in pop's last-element path, restoring bottom before
 *   the CAS instead of after it is harmless. The CAS alone decides who
 *   wins, and the owner stores nothing else in between.
 */

#define CAP		2		/* ring->capacity */
#define NOPS		9		/* the owner's calls */
#define NITEMS		4		/* the items it pushes, at most */
#define SB		(2 * NOPS)	/* the owner's store buffer: never full */

#define SLOT(p)		((p) % CAP)	/* p >= 0: lfq_slot() */
#define BOTTOM		CAP		/* mem[] of bottom, after the slots */
/* wsd_sane(): a span bottom - top that a correct ring can hold */
#define SANE(n)		((n) >= -1 && (n) <= CAP)

/*
 * _nr_pr once init is alone: the liveness search's never claim (np_)
 * counts as a process
 */
#ifdef CHECK_LIVENESS
#define ALONE		2
#else
#define ALONE		1
#endif

/* memory: the slots' elements (0: never written), then bottom */
short mem[CAP + 1];
short top;			/* hdr->top: written by CAS only */

/* the owner's store buffer: sb_n stores, oldest first */
byte sb_n;
byte sb_addr[SB];		/* index into mem[] */
short sb_val[SB];

/* ghost state: checked, never read by the algorithm */
byte at[NITEMS];		/* the item last pushed at each position */
byte npushed;			/* items 1..npushed are pushed */
bit taken[NITEMS + 1];
bit owner_done;

/* a store of the owner, into its buffer */
inline store(a, v)
{
	assert(sb_n < SB);		/* never full */
	sb_addr[sb_n] = a;
	sb_val[sb_n] = v;
	sb_n++
}

/* a load of the owner: its newest buffered store to mem[a], else memory */
inline own_load(a, v)
{
	v = mem[a];
	for (k : 0 .. SB - 1) {
		if
		:: k < sb_n && sb_addr[k] == a -> v = sb_val[k]
		:: else
		fi
	}
	k = 0
}

/* the item v was taken at position p */
inline take(p, v)
{
	assert(v != 0);			/* a pushed item */
	assert(!taken[v]);		/* taken once */
	assert(v == at[p]);		/* the item pushed at p, not stale */
	taken[v] = 1
}

proctype owner()
{
	byte pc, v, k;
	short b, t;

Next:
	atomic {
		if
		:: pc == NOPS -> goto Done
		:: pc < NOPS -> pc++; goto Pop	/* wsd_pop() */
		:: pc < NOPS && npushed < NITEMS -> pc++	/* wsd_push() */
		fi;
		/* push: b = READ_ONCE(bottom); T: t = smp_load_acquire(&top) */
		own_load(BOTTOM, b);
		t = top;
		assert(SANE(b - t));		/* lfq_ring_corrupt(): never */
#ifndef BUG_PUSH_NO_FULL
		if
		:: b - t >= CAP -> b = 0; t = 0; goto Next	/* -ENOSPC */
		:: else
		fi;
#endif
		t = 0
	}
#ifdef BUG_PUBLISH_EARLY
	atomic { store(BOTTOM, b + 1) }
#endif
	/* wsd_store(ring, b, elem) */
	atomic { store(SLOT(b), npushed + 1); at[b] = npushed + 1 }
	atomic {
#ifndef BUG_PUBLISH_EARLY
		/* R: smp_store_release(&bottom, b + 1) */
		store(BOTTOM, b + 1);
#endif
		npushed++;
		b = 0;
		goto Next
	}

Pop:
	atomic {
		/* b = READ_ONCE(bottom) - 1; WRITE_ONCE(bottom, b) */
		own_load(BOTTOM, b);
		b--;
		store(BOTTOM, b)
	}
	atomic {
#ifndef BUG_NO_F1
		/* F1: smp_mb(): the store of bottom reaches memory first */
		sb_n == 0 ->
#endif
		t = top;			/* READ_ONCE(top) */
		assert(SANE(b - t));		/* lfq_ring_corrupt(): never */
		if
		:: t > b -> goto Restore	/* empty: -EAGAIN */
#ifdef BUG_NO_LAST_CAS
		:: t <= b ->
#else
		:: t < b ->
#endif
			/* wsd_load(ring, b, elem): no thief comes down to b */
			own_load(SLOT(b), v);
			take(b, v);
			b = 0;
			t = 0;
			v = 0;
			goto Next
		:: else
		fi
	}
	atomic {
		/* the last one. X: try_cmpxchg(&top, &t, t + 1), locked */
		sb_n == 0 ->
		if
		:: top == t ->
			top = t + 1;
			own_load(SLOT(b), v);
			take(b, v)
		:: else ->
			/* -EAGAIN: a thief took it; one winner */
			assert(taken[at[b]])
		fi;
		t = 0;
		v = 0
	}
Restore:
	atomic {
#ifndef BUG_NO_RESTORE
		/* WRITE_ONCE(bottom, b + 1) */
		store(BOTTOM, b + 1);
#endif
		b = 0;
		t = 0;
		goto Next
	}
Done:
	owner_done = 1
}

/* The owner's store buffer drains to memory, oldest store first. */
proctype drain()
{
	byte k;

	do
	:: d_step {
		sb_n > 0 ->
		mem[sb_addr[0]] = sb_val[0];
		for (k : 1 .. SB - 1) {
			sb_addr[k - 1] = sb_addr[k];
			sb_val[k - 1] = sb_val[k]
		}
		sb_addr[SB - 1] = 0;
		sb_val[SB - 1] = 0;
		sb_n--;
		k = 0
	   }
	:: owner_done && sb_n == 0 -> break
	od
}

/* A thief: wsd_steal() until the owner is done and the deque empty. */
proctype thief()
{
	short t, b;
	byte v;

Steal:
	atomic {
		if
		:: owner_done && sb_n == 0 && top >= mem[BOTTOM] -> goto Done
		:: else
		fi;
#ifdef BUG_NO_F2
		b = mem[BOTTOM]			/* A before S */
#else
		/* S: t = smp_load_acquire(&top) */
		t = top
#endif
	}
	atomic {
#ifdef BUG_NO_F2
		t = top;
#else
		/*
		 * F2: smp_mb(): nothing to drain, a thief stores nothing.
		 * A: b = smp_load_acquire(&bottom)
		 */
		b = mem[BOTTOM];
#endif
		if
		:: !SANE(b - t) -> goto Recheck
		:: t >= b -> t = 0; b = 0; goto Steal	/* -EAGAIN */
		:: else -> b = 0
		fi
	}
#ifndef BUG_COPY_AFTER_CAS
	/* wsd_load(ring, t, elem): a copy, kept only if the CAS wins */
	atomic { v = mem[SLOT(t)] }
#endif
	atomic {
		/* X: try_cmpxchg(&top, &t, t + 1), locked */
		if
		:: top == t ->
			top = t + 1;
#ifdef BUG_COPY_AFTER_CAS
			v = at[t];		/* ghost: the item it won */
#endif
			take(t, v);
#ifdef BUG_COPY_AFTER_CAS
			goto Late
#endif
		:: else ->				/* -EBUSY */
#ifdef BUG_KEEP_COPY
			take(t, v)
#else
			skip				/* the copy is dropped */
#endif
		fi;
		t = 0;
		v = 0;
		goto Steal
	}
#ifdef BUG_COPY_AFTER_CAS
Late:
	atomic {
		/* the copy, after the CAS: is it still the item it won? */
		assert(mem[SLOT(t)] == v);
		t = 0;
		v = 0;
		goto Steal
	}
#endif
Recheck:
	atomic {
		/* the span is not sane: top moved on while we looked? */
		assert(top != t);		/* else lfq_ring_corrupt(): never */
		t = 0;
		b = 0;
		goto Steal			/* -EBUSY */
	}
Done:
	skip
}

init
{
	byte i;

	atomic {
		run drain();
		run owner();
		run thief();
		run thief()
	}
	_nr_pr == ALONE;
	d_step {
		assert(sb_n == 0 && top == mem[BOTTOM]);	/* empty, quiet */
		for (i : 1 .. NITEMS) {
			assert(taken[i] == (i <= npushed))	/* none lost */
		}
		i = 0
	}
}
