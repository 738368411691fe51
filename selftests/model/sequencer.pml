// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the sequencer (LFQ_RING_SEQ): seq_try_claim() with
 * its cached gate and seq_scan(), the element writes, seq_publish(),
 * seq_try_wait() and seq_available(), the consumer's reads and
 * seq_done(), and the barrier take and seq_activate() of a consumer that
 * joins while the producers run, of kmod/sequencer.c and
 * user/sequencer.c, one shared access per step, checked exhaustively by
 * selftests/model/check.sh.
 *
 * model: SINGLE 1P x 2C; SINGLE 1P x 1C + a late joiner, x86-TSO;
 * model: SINGLE 1P x a 2-stage pipeline; MULTI 2P x a late joiner;
 * model: capacity 2
 * checks: safety liveness
 * mutants: BUG_IGNORE_GATE BUG_PUBLISH_EARLY BUG_DONE_EARLY
 * mutants: BUG_FOLLOW_CURSOR BUG_SKIP_JOINING BUG_NO_J BUG_JOIN_PROVISIONAL
 * mutants: BUG_NO_G BUG_ROOM_OUTSIDE_LOOP BUG_MARKER_EARLY BUG_MARKER_SKIP
 * mutants: BUG_NO_LAP
 *
 * check.sh reads the lines above (see its header, and vyukov.pml).
 *
 * The algorithm (the comment at the top of kmod/sequencer.c is the
 * reference; the labels are its labels)
 *
 *   producer   seq_try_claim(n): head = READ_ONCE(hdr->head); up to
 *              LFQ_TRY_RETRIES times: (C) room from acquire(hdr->gate);
 *              if room < n, seq_scan(): (G) smp_mb, top (SINGLE: the
 *              cursor, MULTI: head - 1), then for each barrier an acquire
 *              of its state and, unless FREE, of its seq (G, pairs with
 *              B); min of the seqs and top, clamped (a seq ahead of top:
 *              top; an ACTIVE one more than a ring behind: top - capacity;
 *              the SINGLE producer counts both as corruption if ACTIVE,
 *              a MULTI one only the second); (C) release(hdr->gate, min); room from
 *              min. room == 0: -ENOSPC. Claim min(room, n): SINGLE a plain
 *              store of head; MULTI seq_unlapped(): (L) acquire of the
 *              marker a lap before each sequence, room up to the first
 *              not published (none: head again, retry), then a CAS of
 *              head (on failure: retry with the head the CAS saw). Out of
 *              retries: -EBUSY. Write the slots, then publish: (P)
 *              SINGLE release(cursor, last), MULTI release(marker of s,
 *              s + 1) for each s; (W2) smp_mb in lfq_wake().
 *   consumer   seq_try_wait(seq): if its cached avail >= seq, done;
 *              else seq_available(): (A) acquire of the cursor (SINGLE),
 *              of the markers from avail + 1 up to the first unpublished
 *              one (MULTI), or of the followed barrier's state and seq
 *              (a pipeline stage); clamped to c.seq + capacity (beyond:
 *              corruption). Read the slots c.seq + 1 .. avail (a batch),
 *              then seq_done(s): (B) release(barrier seq, s); (W2) smp_mb.
 *   joiner     takes a FREE barrier: lfq_ring_join() (the kernel's
 *              consumers, /dev/lfq rings) leaves its state FREE;
 *              seq_take() (liblfq on heap and memfd rings) CASes it to
 *              JOINING, the barrier's old seq still there. Then
 *              seq_activate(): WRITE_ONCE(seq, top); release(state,
 *              JOINING); (J) smp_mb; top again; release(seq, top);
 *              release(state, ACTIVE); (W2) smp_mb in lfq_wake(). The
 *              consumer starts after that top.
 *
 *   (P) pairs with (A): a slot is read after it was written, and with
 *   (L): a MULTI slot is written only after the producer of the
 *   sequence a lap before has published it. (B) pairs with (G) and (C)
 *   hands it on: a slot is written again only after every consumer has
 *   finished with it. (G) pairs with (J): a scan that misses a joining
 *   barrier read its top before the joiner's J, so the joiner's top is
 *   at least the one the gate was bounded by.
 *
 * What is modelled
 *
 *   Four phases, one after the other, each from a new ring of capacity
 *   CAP == 2 (so that their state spaces add up):
 *
 *     1. SINGLE, one producer, two consumers joined before the start
 *        (as join before the first publish leaves them: ACTIVE, seq ==
 *        LFQ_SEQ_INITIAL), 5 sequences: 2.5 laps;
 *     2. SINGLE, one producer, consumer 0 joined before the start, and
 *        consumer 1 joining at any moment, either way (lfq_ring_join()
 *        or seq_take()), 5 sequences, on x86-TSO store buffers (below);
 *     3. SINGLE, one producer and a pipeline: consumer 0 follows the
 *        producer, consumer 1 follows consumer 0, 4 sequences;
 *     4. MULTI, two producers claiming 2 sequences each, and one
 *        consumer joining at any moment with lfq_ring_join() (before the
 *        first claim, it sees all 4), on x86-TSO store buffers. (Taken
 *        by seq_take(), a JOINING barrier with an old seq only holds
 *        MULTI producers back: its seq is clamped to their top.)
 *
 *   Producers claim 1 or 2 sequences a call (try_claim_up_to(), or
 *   claim_one()). The SINGLE producer may claim again before it
 *   publishes, and publishes either the next sequence alone or all it
 *   has written (publish(seq) publishes up to seq); a -ENOSPC while it
 *   holds unpublished sequences makes it publish them (an application
 *   that would wait for room instead waits for itself). Consumers read a
 *   batch slot by slot and may finish (seq_done()) after any slot of it,
 *   at the latest after its last. A wait (claim_one(), wait()) is an
 *   immediate call again: every interleaving a sleep allows; the wake
 *   protocol (W1/W2, futex words) is wake.pml's. Retries of the MULTI CAS
 *   are capped at RETRY_LIMIT == 2, as in the other models: -EBUSY makes
 *   the caller start again from head, as a further retry would.
 *
 *   Each atomic block holds ONE access to a shared word (a CAS counts as
 *   one) and otherwise local work and ghost bookkeeping. Words only one
 *   process writes are read by it without a step of their own: the
 *   SINGLE producer's head, cursor and gate (nobody else writes them; a
 *   poller's scan reads barriers only and stores no gate), a barrier's
 *   state where it cannot change (consumers joined before the start).
 *
 *   Sequences are small (0..4) and never wrap; LFQ_SEQ_INITIAL is -1.
 *   The element of the slot of s is s + 1 once written for s, 0 never
 *   written: a read of s checks that its slot holds s's element.
 *
 *   Left out: lfq_seq_leave() (FREE again, -EPIPE for followers),
 *   pollers (lfq_seq_poll() reads the barriers and stores nothing), the
 *   wake-ups, the -EINVAL checks of bad arguments, corrupt shared words
 *   (the clamps are asserted never to be needed), and the wrap of u64
 *   sequences.
 *
 * Memory model
 *
 *   Phases 2 and 4 run the joiner on x86-TSO: its plain and release
 *   stores go into a FIFO store buffer that drains to memory, oldest
 *   first, at any time (process drain()); smp_mb() waits until it is
 *   empty; a CAS is a locked instruction, which drains it first. The
 *   stores of seq_activate() are fixed by the program: seq =
 *   provisional, state = JOINING, then seq = top, state = ACTIVE; the
 *   buffer is the run j_drained .. j_issued - 1 of them. The joiner
 *   never reads its own barrier, so no load looks into the buffer.
 *   Without J, its load of top passes its JOINING store (BUG_NO_J): the
 *   store->load reordering that only a full barrier forbids, on every
 *   architecture. Under sequential consistency BUG_NO_J passes.
 *
 *   The other stores need no buffer: every publish (P) and every seq_done()
 *   (B) is followed by W2, an smp_mb() in lfq_wake() or lfq_wake_all(),
 *   with no shared access in between, so a buffered P or B drains before
 *   its thread does anything else and a reader that misses it is the one
 *   of the same interleaving with P or B later. The element writes come
 *   before P, and a store buffer keeps them in that order. The MULTI CAS
 *   of head is a locked instruction.
 *
 *   So G has nothing to do for the SINGLE producer, on any
 *   architecture: its top is its own cursor, and its last store of it
 *   was followed by W2, which is the full barrier that J pairs with.
 *   For a MULTI producer, G keeps its load of head (another producer's
 *   CAS) before its loads of the barriers: a load before loads, which
 *   x86 never reorders. BUG_NO_G is what weaker architectures (arm64,
 *   POWER) may do without G: the barrier loads satisfied before the
 *   load of head.
 *
 * Properties
 *
 *   - a consumer reads s only after s was written: the slot of s holds
 *     s's element at the read (and not the element of s - CAP, or of
 *     s + CAP: not overwritten before it read it);
 *   - the producer never writes the slot of s while a consumer has
 *     started and not finished s - CAP (ghost g_read[], the last
 *     sequence the consumer has read; g_live[], its start is known);
 *   - nor while another producer still writes it: the producer of
 *     s - CAP has published it (ghost g_wr[], MULTI), and a consumer
 *     never reads a slot that a producer writes;
 *   - a pipeline stage reads s only after the stage it follows has read
 *     s (ghost g_read[] of that stage);
 *   - each consumer reads its sequences in order, each once, from its
 *     start to the last sequence, and stops there (g_read[] at the end);
 *   - no corruption is ever counted or clamped (lfq_ring_corrupt());
 *     only the MULTI scan's silent clamp of a barrier ahead of its top;
 *   - no deadlock (the safety search's end states: every process ends),
 *     and under weak fairness no cycle without a publish or a read
 *     (liveness: spinning waiters that never get anywhere).
 *
 * Mutants
 *
 *   BUG_IGNORE_GATE        the SINGLE producer claims n whatever the room
 *   BUG_PUBLISH_EARLY      P before the element writes (SINGLE)
 *   BUG_DONE_EARLY         B of the batch before its reads
 *   BUG_FOLLOW_CURSOR      a pipeline stage reads the cursor, not the
 *                          barrier of the stage it follows
 *   BUG_SKIP_JOINING       seq_scan() skips JOINING barriers as FREE
 *   BUG_NO_J               no smp_mb() (J) in seq_activate()
 *   BUG_JOIN_PROVISIONAL   the joiner starts at its provisional top
 *                          instead of reading top again after J
 *   BUG_NO_G               no smp_mb() (G) in seq_scan(), on a weaker
 *                          architecture: the barrier loads before the
 *                          load of head (MULTI)
 *   BUG_ROOM_OUTSIDE_LOOP  MULTI: after a failed CAS, claim at the new
 *                          head with the room of the old one
 *   BUG_MARKER_EARLY       MULTI: P (the marker) before the write
 *   BUG_MARKER_SKIP        MULTI: the consumer's scan of the markers
 *                          goes past an unpublished one
 *   BUG_NO_LAP             MULTI: no L, seq_unlapped() lets every
 *                          sequence of the room be claimed
 */

#define CAP		2		/* ring->capacity */
#define NB		2		/* barriers (LFQ_CLAIMS), of which nb used */
#ifndef RETRY_LIMIT
#define RETRY_LIMIT	2		/* LFQ_TRY_RETRIES; 2 takes every exit */
#endif

#define SINGLE		0		/* LFQ_SEQ_SINGLE */
#define MULTI		1		/* LFQ_SEQ_MULTI */
#define INITIAL		(-1)		/* LFQ_SEQ_INITIAL */
#define FREE		0		/* LFQ_SEQ_FREE */
#define JOINING		1		/* LFQ_SEQ_JOINING */
#define ACTIVE		2		/* LFQ_SEQ_ACTIVE */
#define PRODUCER	255		/* LFQ_SEQ_PRODUCER */

/* how a consumer joins */
#define JOINED		0		/* before the start */
#define KERNEL_TAKE	1		/* now, with lfq_ring_join() */
#define USER_TAKE	2		/* now, with seq_take() */
#define EITHER_TAKE	3		/* now, either way */

#define SLOT(s)		((s) % CAP)	/* s >= 0 */
#define ELEM(s)		((s) + 1)	/* the element written for s */
/* seq_room(): sequences claimable from head h for gate g, 0..CAP */
#define ROOM(h, g)	((g) + CAP - ((h) - 1) <= 0 -> 0 : \
			 ((g) + CAP - ((h) - 1) > CAP -> CAP : \
			  (g) + CAP - ((h) - 1)))
/* seq_top() for a head the caller read */
#define TOP(h)		(policy == MULTI -> (h) - 1 : cursor)

/*
 * _nr_pr once init is alone: the liveness search's never claim (np_)
 * counts as a process
 */
#ifdef CHECK_LIVENESS
#define ALONE		2
#else
#define ALONE		1
#endif

/* the ring: struct lfq_seq_hdr, the slots, the barriers */
byte policy;			/* of this phase */
short last;			/* the last sequence of this phase */
byte nb;			/* barriers in use in this phase */
short cursor;			/* hdr->cursor (SINGLE) */
short head;			/* hdr->head */
short gate;			/* hdr->gate */
short marker[CAP];		/* each slot's marker (MULTI) */
byte data[CAP];			/* each slot's element */
short bseq[NB];			/* barrier->seq */
byte bstate[NB];		/* barrier->state */

/* the joiner's store buffer: its stores j_drained .. j_issued - 1 */
byte jid;			/* its barrier */
byte j_issued;
byte j_drained;
short j_prov;			/* the provisional seq it stores */
short j_top;			/* the seq it stores with ACTIVE */

/* ghost state: checked, never read by the algorithm */
short g_read[NB];		/* the last sequence the consumer has read */
bit g_live[NB];			/* its start is known: g_read[] counts */
bit g_wr[CAP];			/* MULTI: a producer writes the slot, until P */

/* one of 1..min(CAP, left) sequences to ask for */
inline choose_n(n, left)
{
	if
	:: n = 1
	:: left >= 2 -> n = 2
	fi
}

/* the element write of s: nobody still reads what the slot holds */
inline write_slot(s)
{
	for (i : 0 .. nb - 1) {
		/* the slot held s - CAP: every started consumer has read it */
		assert(!g_live[i] || s - CAP <= g_read[i])
	}
	i = 0;
	/* and the producer of s - CAP has published it */
	assert(!g_wr[SLOT(s)]);
	g_wr[SLOT(s)] = (policy == MULTI);
	data[SLOT(s)] = ELEM(s)
}

/*
 * The body of seq_slowest() for barrier i, after the load of its state
 * st and of its seq sq: fold it into min, for a top.
 */
inline slowest(st, sq, top, min)
{
	if
	:: st == FREE
#ifdef BUG_SKIP_JOINING
	:: st == JOINING
#endif
	:: else ->
		assert(st == JOINING || st == ACTIVE);	/* never a bad state */
		if
		:: sq > top ->
			/* an ACTIVE one ahead of the SINGLE producer's cursor */
			assert(policy == MULTI || st != ACTIVE);	/* lfq_ring_corrupt(): never */
			sq = top
		:: else ->
			/* an ACTIVE barrier a ring behind top: lfq_ring_corrupt() */
			assert(st != ACTIVE || top - sq <= CAP)	/* never */
		fi;
		if
		:: sq < min -> min = sq
		:: else
		fi
	fi;
	st = 0;
	sq = 0
}

/*
 * The loop of seq_slowest(), from barrier i == 0 with min == top: the
 * acquire of each barrier's state, then, unless FREE, of its seq; then
 * on to ScanEnd. Called at label Scan.
 */
inline scan_barriers()
{
	atomic {
		/* state = smp_load_acquire(&b->state) */
		st = bstate[i];
		if
		:: st == FREE ->
			i++;
			if
			:: i == nb -> goto ScanEnd
			:: else -> goto Scan
			fi
		:: else
		fi
	}
	atomic {
		/* G: seq = smp_load_acquire(&b->seq); pairs with B */
		sq = bseq[i];
		slowest(st, sq, top, min);
		i++;
		if
		:: i == nb -> goto ScanEnd
		:: else -> goto Scan
		fi
	}
}

/*
 * The SINGLE producer: claims and writes sequences 0..last, publishes
 * them, in the ways an application may (above).
 */
proctype single_producer()
{
	short s, top, min, sq;
	byte n, room, i, st;

Next:
	atomic {
		/* head, cursor and gate are ours: reading them is no step */
		if
		:: head <= last -> choose_n(n, last + 1 - head)
		:: cursor < head - 1 -> goto Publish
		:: head > last && cursor == last -> goto Done
		fi;
		/* seq_try_claim(): C: room from smp_load_acquire(&hdr->gate) */
		room = ROOM(head, gate);
		if
		:: room >= n -> goto Take
		:: else
		fi;
		/*
		 * seq_scan(): G: smp_mb(): nothing to drain, W2 did it; the
		 * top is our own cursor
		 */
		top = cursor;
		min = top;
		i = 0
	}
Scan:	scan_barriers();
ScanEnd:
	atomic {
		/* C: smp_store_release(&hdr->gate, min) */
		gate = min;
		room = ROOM(head, min);
		top = 0;
		min = 0;
		i = 0;
#ifdef BUG_IGNORE_GATE
		room = n;
#endif
		if
		:: room == 0 && cursor < head - 1 -> goto Publish	/* -ENOSPC */
		:: room == 0 && cursor == head - 1 -> goto Next	/* -ENOSPC: wait */
		:: else
		fi
	}
Take:
	atomic {
		/* WRITE_ONCE(hdr->head, head + room) */
		if
		:: room > n -> room = n
		:: else
		fi;
		s = head;
		head = head + room;
		n = 0;
		room = 0;
#ifdef BUG_PUBLISH_EARLY
		cursor = head - 1;			/* P before the writes */
#endif
	}
progress_write:
	atomic {
		/* memcpy(lfq_seq_elem(ring, s), ...) */
		write_slot(s);
		s++;
		if
		:: s < head -> goto progress_write
		:: else -> s = 0; goto Next
		fi
	}
Publish:
	atomic {
		/* P: smp_store_release(&hdr->cursor, s); then W2 */
		if
		:: cursor = cursor + 1
		:: cursor + 1 < head - 1 -> cursor = head - 1
		fi;
		goto Next
	}
Done:
	skip
}

/* the end of a turn of the loop of seq_try_claim() that claimed nothing */
inline next_try()
{
	tries++;
	if
#ifdef BUG_ROOM_OUTSIDE_LOOP
	:: tries < RETRY_LIMIT -> goto Cas
#else
	:: tries < RETRY_LIMIT -> goto Gate
#endif
	:: else -> goto Start			/* -EBUSY: call again */
	fi
}

/*
 * A MULTI producer: claims and writes items sequences, publishing each
 * claim as a range.
 */
proctype multi_producer(byte items)
{
	short h, first, s, top, min, sq;
	byte n, room, i, st, k, tries;
#ifdef BUG_NO_G
	byte st0;
	short sq0;
#endif

Start:
	atomic {
		if
		:: k == items -> goto Done
		:: else
		fi;
		choose_n(n, items - k);
		tries = 0;
#ifndef BUG_NO_G
		h = head				/* READ_ONCE(hdr->head) */
#endif
	}
#ifdef BUG_NO_G
	/*
	 * Without G, the acquire loads of the scan may be satisfied before
	 * the plain load of head that comes first: load the barrier (phase
	 * 4 has one) before head.
	 */
	atomic { st0 = bstate[0] }
	atomic { sq0 = bseq[0] }
	atomic { h = head }
#endif
Gate:
	atomic {
		/* C: room from smp_load_acquire(&hdr->gate); pairs with C */
		room = ROOM(h, gate);
		if
		:: room >= n -> room = n; goto Lap
		:: else
		fi;
		/* seq_scan(): G: smp_mb(), nothing to drain; top = head - 1 */
		top = h - 1;
		min = top;
		i = 0;
#ifdef BUG_NO_G
		st = st0;
		sq = sq0;
		slowest(st, sq, top, min);
		goto ScanEnd
#endif
	}
Scan:	scan_barriers();
ScanEnd:
	atomic {
		/* C: smp_store_release(&hdr->gate, min) */
		gate = min;
		room = ROOM(h, min);
		top = 0;
		min = 0;
		i = 0;
		if
		:: room == 0 -> goto Start		/* -ENOSPC: wait, call again */
		:: room > n -> room = n
		:: else
		fi
	}
Lap:
	atomic {
		/*
		 * seq_unlapped(): L: the marker of the sequence a lap before
		 * each, smp_load_acquire(); pairs with P
		 */
		if
		:: i < room && (h + i < CAP ||
				marker[SLOT(h + i)] == h + i - CAP + 1) ->
			i++;
			goto Lap
		:: else
		fi;
#ifndef BUG_NO_LAP
		room = i;
#endif
		i = 0;
		if
		:: room == 0 -> goto Reread
		:: else
		fi
	}
Cas:
	atomic {
		/* try_cmpxchg_relaxed(&hdr->head, &h, h + room) */
		if
		:: head == h -> head = h + room
		:: else -> h = head; next_try()
		fi;
		first = h;
		s = h
	}
#ifdef BUG_MARKER_EARLY
Early:
	atomic {
		marker[SLOT(s)] = s + 1;		/* P before the writes */
		if
		:: s < first + room - 1 -> s++; goto Early
		:: else -> s = first
		fi
	}
#endif
progress_write:
	atomic {
		/* memcpy(lfq_seq_elem(ring, s), ...) */
		write_slot(s);
		if
		:: s < first + room - 1 -> s++; goto progress_write
		:: else -> s = first
		fi
	}
Publish:
	atomic {
#ifndef BUG_MARKER_EARLY
		/* P: smp_store_release(seq_marker(ring, s), s + 1) */
		marker[SLOT(s)] = s + 1;
#endif
		g_wr[SLOT(s)] = 0;
		if
		:: s < first + room - 1 -> s++; goto Publish
		:: else
		fi;
		/* W2 */
		k = k + room;
		s = 0;
		first = 0;
		h = 0;
		room = 0;
		goto Start
	}
Reread:
	atomic {
		h = head;				/* READ_ONCE(hdr->head) */
		next_try()
	}
Done:
	skip
}

/* one of the joiner's stores, in program order */
inline jstore(k)
{
	if
	:: k == 0 -> bseq[jid] = j_prov		/* WRITE_ONCE(b->seq, top) */
	:: k == 1 -> bstate[jid] = JOINING	/* release(&b->state, JOINING) */
	:: k == 2 -> bseq[jid] = j_top		/* release(&b->seq, top) */
	:: k == 3 -> bstate[jid] = ACTIVE	/* release(&b->state, ACTIVE) */
	fi
}

/* the joiner's store buffer drains to memory, oldest store first */
proctype drain()
{
	do
	:: atomic { j_drained < j_issued -> jstore(j_drained); j_drained++ }
	:: j_drained == 4 -> break
	od
}

/*
 * The end of seq_try_wait() once seq_available() has loaded got, the
 * last sequence available: -EAGAIN (wait and call again), or the batch
 * cseq + 1 .. avail to read.
 */
inline wait_got()
{
	/* beyond c->seq + capacity: lfq_ring_corrupt(), never */
	assert(got <= cseq + CAP);
	if
	:: got > avail -> avail = got
	:: else -> got = 0; goto Wait		/* -EAGAIN */
	fi;
	got = 0;
	s = cseq + 1;
#ifdef BUG_DONE_EARLY
	bseq[id] = avail;			/* B before the reads */
#endif
	goto progress_read
}

/*
 * One marker of the MULTI scan of seq_available(), from got, up to
 * c->seq + capacity, until the first one not published.
 */
inline marker_step()
{
	if
	:: got <= cseq + CAP && marker[SLOT(got)] == got + 1 ->
		got++;
		goto Marker
#ifdef BUG_MARKER_SKIP
	:: got < cseq + CAP && marker[SLOT(got)] != got + 1 &&
	   marker[SLOT(got + 1)] == got + 2 ->
		got = got + 2;			/* over the unpublished one */
		goto Marker
#endif
	:: else ->
		got--;
		wait_got()
	fi
}

/*
 * Consumer id of barrier id, following the producers (PRODUCER) or the
 * barrier of consumer follows: joined before the start, or joining when
 * it runs, the way join says. It reads up to last.
 */
proctype consumer(byte id; byte follows; byte join)
{
	short cseq = INITIAL;		/* c->seq: finished up to */
	short avail;			/* c->avail */
	short got, s, prov;

	if
	:: join != JOINED ->
		/*
		 * Take the barrier: lfq_ring_join() (the kernel, and /dev/lfq
		 * rings) leaves its state FREE until seq_activate() stores
		 * JOINING; seq_take() of user/sequencer.c (heap and memfd
		 * rings) CASes it from FREE to JOINING first, a locked
		 * instruction, while its seq is still the old one (0 here:
		 * zeroed memory).
		 */
		if
		:: join != USER_TAKE
		:: join != KERNEL_TAKE ->
			atomic { bstate[jid] == FREE -> bstate[jid] = JOINING }
		fi;
		/* seq_activate(): the stores go into the store buffer */
		atomic {
			/* WRITE_ONCE(b->seq, seq_top(ring, READ_ONCE(hdr->head))) */
			prov = TOP(head);
			j_prov = prov;
			j_issued = 2			/* and state = JOINING */
		}
		atomic {
#ifndef BUG_NO_J
			/* J: smp_mb(); pairs with G in seq_scan() */
			j_drained == j_issued;
#endif
			/* top = seq_top(ring, READ_ONCE(hdr->head)) */
			cseq = TOP(head);
#ifdef BUG_JOIN_PROVISIONAL
			cseq = prov;
#endif
			j_top = cseq;
			j_issued = 4;			/* seq = top, state = ACTIVE */
			g_read[id] = cseq;
			g_live[id] = 1;
			prov = 0
		}
		/* W2 in lfq_wake(), the end of lfq_seq_join() */
		j_drained == j_issued
	:: else
	fi;
	avail = cseq;
Wait:
	atomic {
		if
		:: cseq == last -> goto Done
		:: else
		fi;
		/* seq_try_wait(c, cseq + 1): what it has already seen */
		if
		:: avail > cseq -> s = cseq + 1; goto progress_read
		:: else
		fi;
		/* seq_available() */
		if
		:: follows != PRODUCER ->
			/* the followed stage never leaves: its state stays ACTIVE */
			assert(bstate[follows] == ACTIVE);
#ifdef BUG_FOLLOW_CURSOR
			got = cursor
#else
			/* A: smp_load_acquire(&b->seq); pairs with B */
			got = bseq[follows]
#endif
		:: follows == PRODUCER && policy == SINGLE ->
			/* A: smp_load_acquire(&hdr->cursor); pairs with P */
			got = cursor
		:: else ->
			/* A: smp_load_acquire(seq_marker(ring, s)); pairs with P */
			got = avail + 1;
			marker_step()
		fi;
		wait_got()
	}
Marker:
	atomic { marker_step() }
progress_read:
	atomic {
		/* the element of s, lfq_seq_elem(ring, s) */
		assert(data[SLOT(s)] == ELEM(s));	/* written, not overwritten */
		assert(!g_wr[SLOT(s)]);			/* and not being written */
		assert(follows == PRODUCER || g_read[follows] >= s);
		assert(s == g_read[id] + 1);		/* in order, once */
		g_read[id] = s;
		if
		:: s < avail -> s++; goto progress_read
		:: s < avail			/* seq_done() early */
		:: s == avail
		fi
	}
	atomic {
		/* seq_done(): B: smp_store_release(&b->seq, s); then W2 */
		cseq = s;
#ifndef BUG_DONE_EARLY
		bseq[id] = s;
#endif
		s = 0;
		goto Wait
	}
Done:
	skip
}

/* A new ring for a phase: sequences 0..l, nbar barriers in use. */
inline new_ring(pol, l, nbar)
{
	policy = pol;
	last = l;
	nb = nbar;
	cursor = INITIAL;
	head = 0;
	gate = INITIAL;
	for (i : 0 .. CAP - 1) {
		marker[i] = 0;
		data[i] = 0;
		g_wr[i] = 0
	}
	for (i : 0 .. NB - 1) {
		bseq[i] = 0;			/* zeroed memory */
		bstate[i] = FREE;
		g_read[i] = INITIAL;
		g_live[i] = 0
	}
	j_issued = 0;
	j_drained = 0;
	j_prov = 0;
	j_top = 0;
	i = 0
}

/* consumer id joined before the start: as seq_activate() left it */
inline joined(id)
{
	bseq[id] = INITIAL;
	bstate[id] = ACTIVE;
	g_live[id] = 1
}

/* everyone of the phase has ended: everything published and read */
inline check_end()
{
	assert(head == last + 1);
	assert(policy == MULTI || cursor == last);
	for (i : 0 .. nb - 1) {
		assert(g_read[i] == last && bseq[i] == last)
	}
	for (i : 0 .. CAP - 1) {
		assert(policy == SINGLE || marker[SLOT(last - i)] == last - i + 1);
		assert(!g_wr[i])
	}
	i = 0
}

init
{
	byte i;

	/* 1: SINGLE, two consumers from the start */
	atomic {
		new_ring(SINGLE, 4, 2);
		joined(0);
		joined(1);
		run single_producer();
		run consumer(0, PRODUCER, JOINED);
		run consumer(1, PRODUCER, JOINED)
	}
	_nr_pr == ALONE;
	d_step { check_end() }

	/* 2: SINGLE, consumer 1 joins while the producer runs */
	atomic {
		new_ring(SINGLE, 4, 2);
		joined(0);
		jid = 1;
		run single_producer();
		run consumer(0, PRODUCER, JOINED);
		run consumer(1, PRODUCER, EITHER_TAKE);
		run drain()
	}
	_nr_pr == ALONE;
	d_step { check_end() }

	/* 3: SINGLE, consumer 1 follows consumer 0 */
	atomic {
		new_ring(SINGLE, 3, 2);
		joined(0);
		joined(1);
		run single_producer();
		run consumer(0, PRODUCER, JOINED);
		run consumer(1, 0, JOINED)
	}
	_nr_pr == ALONE;
	d_step { check_end() }

	/* 4: MULTI, two producers, the consumer joins while they run */
	atomic {
		new_ring(MULTI, 3, 1);
		jid = 0;
		run multi_producer(2);
		run multi_producer(2);
		run consumer(0, PRODUCER, KERNEL_TAKE);
		run drain()
	}
	_nr_pr == ALONE;
	d_step { check_end() }
}
