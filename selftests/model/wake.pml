// SPDX-License-Identifier: GPL-2.0
/*
 * Promela model of the need-wakeup protocol between a sleeper and a
 * waker: __lfq_wait() and lfq_wake() of user/ring.c and kmod/ring.c, with
 * the labels F, W1 and W2 of those files and of user/vyukov.c, on x86-TSO
 * store buffers. Checked exhaustively by selftests/model/check.sh.
 *
 * model: 1 producer, 2 consumers, K = 3 items, x86-TSO store buffers
 * checks: safety
 * mutants: BUG_NO_W1 BUG_NO_W2 BUG_NO_RECHECK BUG_SEQ_LATE
 *
 * check.sh reads the three lines above (see its header, and vyukov.pml).
 *
 * The protocol, for one direction (consumers waiting for items)
 *
 *   sleeper, __lfq_wait()                 waker, lfq_wake() after a push
 *   try_op() says empty (-EAGAIN)         publish: release(slot.seq)  (B)
 *   (F)  seq = acquire(futex)             (W2) smp_mb()
 *        waiters += 1       (atomic RMW)       if (waiters == 0) return
 *   (W1) smp_mb()                              futex += 1  (atomic RMW, F)
 *        try_op() again: the recheck           futex_wake(futex, all)
 *        if still empty: futex_wait(futex, seq)
 *        waiters -= 1       (atomic RMW)
 *
 *   W1 and W2 make a store-buffering pair: the sleeper stores waiters then
 *   loads the ring, the waker stores the ring then loads waiters. With both
 *   barriers, either the recheck sees the item or the waker sees the
 *   sleeper. In the second case futex_wait() either sleeps before
 *   futex += 1 (and futex_wake() wakes it) or comes after it (and finds
 *   futex != seq, so returns at once), because seq was read before the
 *   announcement (F).
 *
 *   On /dev/lfq rings the sleeper sleeps on the ring's wait queue instead:
 *   prepare_to_wait() in kmod/ring.c, poll_wait() inside poll() in
 *   user/ring.c, then the ring is looked at again (try_op() or the poll
 *   mask), then schedule(). "Sleep only if no wake came since the
 *   registration" is what futex_wait(futex, seq) does with seq read at F,
 *   so this model covers both; registering after the last look at the ring
 *   is the mutant BUG_SEQ_LATE.
 *
 * Memory model: x86-TSO
 *
 *   Each thread's plain stores go into its own FIFO store buffer, which
 *   drains to memory, oldest first, at any time (process drain). A load
 *   reads the thread's own newest buffered value of the word if there is
 *   one, else memory. smp_mb() waits until the thread's buffer is empty.
 *   An atomic RMW (waiters += 1, waiters -= 1, futex += 1, the CAS on the
 *   tail) waits until the buffer is empty and then reads and writes memory
 *   in one step, as an x86 locked instruction does. Loads are never
 *   reordered with loads, nor stores with stores (FIFO).
 *
 *   Only the producer makes plain stores that matter here: the release
 *   store of each slot's seq (B). A release store is a plain store on
 *   x86, and on weaker architectures a release store is still free to
 *   pass a later load: only a full barrier stops that. Its buffer only
 *   ever holds the stores of pub (below), each one the previous value
 *   plus 1, so the buffer is exactly the run of values pub_mem + 1 ..
 *   pub_new: the pair (pub_mem, pub_new) is the buffer, and a drain is
 *   pub_mem++. The consumers' one shared plain store, D, frees a slot for
 *   the NOT_FULL direction, which is not modelled, so their buffers stay
 *   empty, except in the mutant BUG_NO_W1 (whose weak RMW leaves the
 *   relaxed tail CAS unordered too: it does not drain the buffer).
 *
 *   The model is conservative for weaker memory models too, in the one
 *   respect that matters here: a store may be delayed past later loads
 *   unless a full barrier comes in between. Loads in program order and
 *   the same-address orderings hold on every architecture Linux runs on
 *   (acquire loads, coherence).
 *
 * The ring, kept abstract
 *
 *   One producer pushes K items into a ring large enough for all of them
 *   (so it never waits, and the NOT_FULL direction is not modelled); two
 *   consumers pop until all K items are claimed. As in __vyukov_pop():
 *
 *     pub    how many items are published: the slot of position t holds
 *            its item (seq == t + 1) iff pub > t. Written by the producer
 *            with a plain store, one at a time: pub_new in its buffer,
 *            pub_mem in memory.
 *     taken  the tail: positions claimed so far, by CAS.
 *
 *   try_pop(): t = READ_ONCE(tail); (C) is the slot of t published?
 *   if not, -EAGAIN; else CAS tail t -> t + 1, -EBUSY if another consumer
 *   won. Three steps, each its own shared access, so every interleaving
 *   that matters is explored. The element copy and D do not touch the
 *   words of this protocol and are left out. The LFQ_SPIN_LIMIT spins
 *   before the first announcement are retries like any other: one
 *   try_pop() stands for them.
 *
 *   A consumer stops once every item is claimed (taken == K), as an
 *   application would once its work is done. A consumer asleep at that
 *   point has done nothing wrong: no wake for it will ever come, because
 *   nothing more is pushed. So, once taken == K, init plays the application
 *   shutting down: futex += 1 and futex_wake(all), unconditionally. This
 *   cannot hide a lost wake-up: a consumer asleep while an item waits
 *   unclaimed keeps taken < K forever, so init never gets there.
 *
 * Properties
 *
 *   - no lost wake-up: no invalid end state. Every process either ends or
 *     waits at an end label (the drain process); a consumer stuck in
 *     futex_wait(), or init stuck waiting for taken == K, is an error.
 *     With the shutdown above, an end state in which a consumer sleeps is
 *     one where an item was published, nobody will claim it, and every
 *     consumer sleeps: a lost wake-up;
 *   - every item is claimed exactly once (ghost claimed[], asserted at
 *     each claim and at the end).
 *
 *   Only the safety search is run: the state graph has no cycle at all
 *   (pub, taken and futex only grow; a consumer's pass through its loop
 *   either claims an item, loses the CAS to one that did, or meets a
 *   futex += 1 - else it sleeps), so a protocol that loses a wake-up can
 *   only show as an end state with a sleeper. A liveness search (pan -l
 *   with no progress label, so that every cycle counts) finds none in the
 *   model or in any mutant.
 *
 * Mutants
 *
 *   BUG_NO_W1       no smp_mb() after waiters += 1. On x86 the locked
 *                   RMW of waiters += 1 drains the store buffer by itself,
 *                   so dropping W1 alone changes nothing there; the
 *                   mutant also makes the increment an RMW that is atomic
 *                   but not ordered: a store-buffer entry that adds 1 to
 *                   memory when it drains. That is what the kernel's
 *                   atomic_inc() (kmod/ring.c) gives: the Linux memory
 *                   model promises no ordering for it, and arm64 runs it
 *                   as a STADD that a later load can pass. Nor does C11
 *                   promise that a seq_cst RMW (atomic_add_u32() in
 *                   user/barrier.h) is ordered before a later acquire or
 *                   relaxed load of another word. That is why the code
 *                   keeps an explicit W1 (in kmod/ring.c, prepare_to_wait()
 *                   between the two is a full barrier too, through
 *                   set_current_state()). Conversely, as nothing happens
 *                   between the increment and W1, "unordered RMW, then
 *                   W1" and "locked RMW" behave the same, so the passing
 *                   model also covers architectures whose RMW is no
 *                   barrier.
 *   BUG_NO_W2       no smp_mb() in lfq_wake(): the publish sits in the
 *                   producer's store buffer while it reads waiters == 0.
 *   BUG_NO_RECHECK  sleep right after announcing, without try_op() again.
 *   BUG_SEQ_LATE    read the futex word (F) after the recheck, not before
 *                   announcing: a wake between the recheck and F is lost.
 */

#ifndef K
#define K		3		/* items */
#endif
#define NCONS		2		/* consumers */

/* try_pop() results */
#define OK		0		/* claimed an item */
#define EAGAIN		1		/* empty: -EAGAIN */
#define EBUSY		2		/* lost the CAS: -EBUSY */
#define DONE		3		/* all K items claimed: stop */

/* the ring (abstract) */
byte pub_mem;			/* items published, in memory */
byte pub_new;			/* the producer's: pub_mem+1 .. pub_new buffered */
byte taken;			/* hdr->tail: items claimed */

/* struct lfq_wait not_empty */
byte waiters;
byte futex;

/* the kernel's futex queue: consumer id sleeps in futex_wait() */
bit asleep[NCONS];

#ifdef BUG_NO_W1
/* pending unordered waiters += 1 in consumer id's store buffer */
bit wbuf[NCONS];
#define WBUF_EMPTY(id)	(wbuf[id] == 0)
#else
#define WBUF_EMPTY(id)	true		/* no plain store of a consumer is modelled */
#endif

/* ghost: item t was claimed */
bit claimed[K];

/*
 * try_pop(), __vyukov_pop() in short: each atomic block holds one shared
 * access and local work only. ret: OK, EAGAIN, EBUSY or DONE.
 */
inline try_pop(t, ret)
{
	atomic {
		t = taken;				/* READ_ONCE(hdr->tail) */
		if
		:: t == K -> ret = DONE; t = 0		/* the application stops */
		:: else -> ret = OK
		fi
	}
	if
	:: ret == OK ->
		atomic {
			/* C: seq = smp_load_acquire(&slot->seq), seq == t + 1? */
			if
			:: pub_mem > t
			:: else -> ret = EAGAIN; t = 0
			fi
		}
	:: else
	fi;
	if
	:: ret == OK ->
		atomic {
			/* try_cmpxchg_relaxed(&hdr->tail, &t, t + 1) */
			if
			:: taken == t ->
				taken = t + 1;
				assert(!claimed[t]);	/* claimed once */
				claimed[t] = 1
			:: else -> ret = EBUSY
			fi;
			t = 0
		}
	:: else
	fi
}

/* futex_wake(&futex, INT_MAX): wake every sleeper */
inline futex_wake_all(i)
{
	d_step {
		for (i : 0 .. NCONS - 1) {
			asleep[i] = 0
		}
		i = 0
	}
}

/* A consumer: lfq_vyukov_pop() until all K items are claimed. */
proctype consumer(byte id)
{
	byte t, ret, seq;

again:
	try_pop(t, ret);
	if
	:: ret == OK -> goto again		/* popped one; pop the next */
	:: ret == EBUSY -> goto again		/* lost a race: never sleep */
	:: ret == DONE -> goto done
	:: ret == EAGAIN
	fi;

	/* __lfq_wait(): announce, recheck, sleep */
#ifndef BUG_SEQ_LATE
	/* F: seq = smp_load_acquire(&w->futex); pairs with futex += 1 */
	seq = futex;
#endif
#ifdef BUG_NO_W1
	/* waiters += 1, atomic but unordered: into the store buffer */
	wbuf[id] = 1;
#else
	/* atomic_add_u32(&w->waiters, 1): a locked RMW */
	atomic { WBUF_EMPTY(id) -> waiters++ }
	/* W1: smp_mb(); pairs with W2 */
	WBUF_EMPTY(id);
#endif
#ifdef BUG_NO_RECHECK
	ret = EAGAIN;				/* sleeps on the first try_pop() */
#else
	try_pop(t, ret);			/* ret = try_op(ring, arg) */
#endif
#ifdef BUG_SEQ_LATE
	seq = futex;				/* F after the recheck */
#endif
	if
	:: ret == EAGAIN ->
		/* futex_wait(&w->futex, seq): check and block, atomically */
		atomic {
			if
			:: futex == seq -> asleep[id] = 1
			:: else				/* -EAGAIN: a wake came */
			fi
		}
		asleep[id] == 0			/* until futex_wake() */
	:: else
	fi;
	/* atomic_add_u32(&w->waiters, -1): a locked RMW */
	atomic { WBUF_EMPTY(id) -> waiters--; seq = 0 }
	if
	:: ret == DONE -> goto done
	:: else -> goto again			/* popped, lost a race, or woken */
	fi;
done:
	skip
}

/* The producer: lfq_vyukov_push() of K items, each followed by lfq_wake(). */
proctype producer()
{
	byte i, w;

	do
	:: pub_new < K ->
		/* B: smp_store_release(&slot->seq, pos + 1): a plain store */
		pub_new++;
		/* lfq_wake(ring, LFQ_NOT_EMPTY) */
#ifndef BUG_NO_W2
		/* W2: smp_mb(); pairs with W1 */
		pub_mem == pub_new;
#endif
		w = waiters;			/* READ_ONCE(w->waiters) */
		if
		:: w != 0 ->
			w = 0;
			/* F: atomic_add_u32(&w->futex, 1): a locked RMW */
			atomic { pub_mem == pub_new -> futex++ }
			futex_wake_all(i)
		:: else
		fi
	:: else -> break
	od
}

/* The store buffers drain to memory, oldest store first, at any time. */
proctype drain()
{
end:	do
	:: atomic { pub_mem < pub_new -> pub_mem++ }
#ifdef BUG_NO_W1
	:: atomic { wbuf[0] -> wbuf[0] = 0; waiters++ }
	:: atomic { wbuf[1] -> wbuf[1] = 0; waiters++ }
#endif
	od
}

init
{
	byte i;

	atomic {
		assert(NCONS == 2);		/* drain() has one line per consumer */
		run drain();
		run producer();
		for (i : 0 .. NCONS - 1) {
			run consumer(i)
		}
		i = 0
	}

	/* all items claimed: not reached if a wake-up was lost */
	taken == K;
	d_step {
		for (i : 0 .. K - 1) {
			assert(claimed[i])
		}
		i = 0
	}

	/* the application shuts down: wake whoever still waits */
	futex++;
	futex_wake_all(i)
}
