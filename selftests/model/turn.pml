// SPDX-License-Identifier: GPL-2.0
/* placeholder: see below */
#define C		2
#define MASK		(C - 1)
#define NPROD		2
#define NCONS		2
#ifndef ITEMS
#define ITEMS		3
#endif
#define TOTAL		(NPROD * ITEMS)
#ifndef RETRY_LIMIT
#define RETRY_LIMIT	2
#endif

#define SKIP		128
#define VAL(T)		((T) & (SKIP - 1))
#define SLOT(t)		((t) & MASK)
#define LAP(t)		((t) / C)
#define PUSH_TURN(t)	(2 * LAP(t))
#define POP_TURN(t)	(2 * LAP(t) + 1)
#define FREE_TURN(t)	(2 * LAP(t) + 2)

#define ITEM(pr, k)	((pr) * ITEMS + (k) + 1)
#define PROD_OF(it)	(((it) - 1) / ITEMS)
#define SEQ_OF(it)	(((it) - 1) % ITEMS)

#ifdef BUG_PUSH_TURN
#define PUSH_READY(T, t)	((T) == PUSH_TURN(t) || (T) + 1 == PUSH_TURN(t))
#else
#define PUSH_READY(T, t)	((T) == PUSH_TURN(t))
#endif
#ifdef BUG_POP_TURN
#define POP_READY(T, t)		(VAL(T) == PUSH_TURN(t))
#else
#define POP_READY(T, t)		(VAL(T) == POP_TURN(t))
#endif
#ifdef BUG_RELEASE_TURN
#define RELEASED(t)		POP_TURN(t)
#else
#define RELEASED(t)		FREE_TURN(t)
#endif

byte head;
byte tail;
byte turn[C];
byte data[C];
byte budget = TOTAL;

bit  occupied[C];
byte at[TOTAL];
bit  seen[TOTAL + 1];
byte popped_at[TOTAL + 1];

#define NEXT_RETRY(again, loop) \
	retries++; \
	if \
	:: retries < RETRY_LIMIT -> goto loop \
	:: else -> retries = 0; h = 0; goto again \
	fi


proctype pusher(byte id)
{
	byte sent, t, T;

StartEnqueue:
	atomic {
		if
		:: sent == ITEMS -> goto Done
		:: else
		fi
	}
FetchAndIncrementHead:
	atomic {
		t = head;
		head++
	}
WaitTurn:
	atomic {
		if
		:: PUSH_READY(turn[SLOT(t)], t)
		:: !PUSH_READY(turn[SLOT(t)], t) && turn[SLOT(t)] > PUSH_TURN(t) ->
			assert(0)
		fi
	}
#ifdef BUG_PUBLISH_EARLY
	atomic { turn[SLOT(t)] = POP_TURN(t) }
#endif
StoreValue:
	atomic {
		assert(!occupied[SLOT(t)]);
		data[SLOT(t)] = ITEM(id, sent);
		occupied[SLOT(t)] = 1;
		at[t] = ITEM(id, sent)
	}
PublishTurn:
	atomic {
#ifndef BUG_PUBLISH_EARLY
		turn[SLOT(t)] = POP_TURN(t);
#endif
		t = 0;
		sent++;
	}
	goto StartEnqueue;
Done:
	skip
}

proctype trypusher(byte id)
{
	byte sent, h, t, retries;

TryEnqueue:
	atomic {
		if
		:: sent == ITEMS -> goto Done
		:: else
		fi
	}
GetHead:
	atomic {
		h = head
	}
LoadTurn:
	atomic {
		if
		:: PUSH_READY(turn[SLOT(h)], h) -> goto CAS
		:: else -> goto ReloadHead
		fi
	}
ReloadHead:
	atomic {
		if
		:: head == h -> retries = 0; h = 0; goto GetHead
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
#ifdef BUG_NO_CAS
CAS:
	atomic {
		if
		:: head == h -> goto SetHead
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
SetHead:
	atomic {
		head = h + 1;
		t = h; h = 0; retries = 0
	}
#else
CAS:
	atomic {
		if
		:: head == h -> head = h + 1; t = h; h = 0; retries = 0
		:: else -> h = head; NEXT_RETRY(GetHead, LoadTurn)
		fi
	}
#endif
#ifdef BUG_PUBLISH_EARLY
	atomic { turn[SLOT(t)] = POP_TURN(t) }
#endif
StoreValue:
	atomic {
		assert(!occupied[SLOT(t)]);
		data[SLOT(t)] = ITEM(id, sent);
		occupied[SLOT(t)] = 1;
		at[t] = ITEM(id, sent)
	}
PublishTurn:
	atomic {
#ifndef BUG_PUBLISH_EARLY
		turn[SLOT(t)] = POP_TURN(t);
#endif
		t = 0;
		sent++;
	}
	goto TryEnqueue;
Done:
	skip
}


proctype popper(byte id)
{
	byte last[NPROD];
	byte t, item;
	bit skipped;

StartDequeue:
	atomic {
		if
		:: budget == 0 -> goto Done
		:: else -> budget--
		fi
	}
FetchAndIncrementTail:
	atomic {
		t = tail;
		tail++
	}
#ifdef BUG_READ_EARLY
	atomic { item = data[SLOT(t)] }
#endif
WaitTurn:
	atomic {
		if
		:: POP_READY(turn[SLOT(t)], t) -> skipped = turn[SLOT(t)] / SKIP
		:: !POP_READY(turn[SLOT(t)], t) && VAL(turn[SLOT(t)]) > POP_TURN(t) ->
			assert(0)
		fi;
		if
		:: skipped -> goto ReleaseTurn
		:: else
		fi
	}
#ifdef BUG_RELEASE_EARLY
	atomic { turn[SLOT(t)] = RELEASED(t) }
#endif
LoadValue:
	atomic {
#ifdef BUG_READ_EARLY
		skip;
#else
		item = data[SLOT(t)];
#endif
		assert(occupied[SLOT(t)]);
		assert(item == at[t]);
		assert(!seen[item]);
		occupied[SLOT(t)] = 0;
		at[t] = 0;
		seen[item] = 1;
#ifndef CHECK_LIVENESS
		assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]);
		last[PROD_OF(item)] = SEQ_OF(item) + 1;
		popped_at[item] = t + 1;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
#ifndef BUG_RELEASE_EARLY
		turn[SLOT(t)] = RELEASED(t);
#endif
		t = 0;
		if
		:: skipped -> skipped = 0; goto FetchAndIncrementTail
		:: else -> goto StartDequeue
		fi
	}
Done:
	skip
}

proctype trypopper(byte id)
{
	byte last[NPROD];
	byte h, t, item, retries;
	bit skipped;

TryDequeue:
	atomic {
		if
		:: budget == 0 -> goto Done
		:: else -> budget--
		fi
	}
GetTail:
	atomic {
		h = tail
	}
LoadTurn:
	atomic {
		if
		:: POP_READY(turn[SLOT(h)], h) -> skipped = turn[SLOT(h)] / SKIP; goto CAS
		:: else -> goto ReloadTail
		fi
	}
ReloadTail:
	atomic {
		if
		:: tail == h -> retries = 0; h = 0; goto GetTail
		:: else -> h = tail; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
CAS:
	atomic {
		if
		:: tail == h -> tail = h + 1; t = h;
			if
			:: skipped -> goto ReleaseTurn
			:: else -> h = 0; retries = 0
			fi
		:: else -> h = tail; skipped = 0; NEXT_RETRY(GetTail, LoadTurn)
		fi
	}
LoadValue:
	atomic {
#ifdef BUG_READ_EARLY
		skip;
#else
		item = data[SLOT(t)];
#endif
		assert(occupied[SLOT(t)]);
		assert(item == at[t]);
		assert(!seen[item]);
		occupied[SLOT(t)] = 0;
		at[t] = 0;
		seen[item] = 1;
#ifndef CHECK_LIVENESS
		assert(SEQ_OF(item) + 1 > last[PROD_OF(item)]);
		last[PROD_OF(item)] = SEQ_OF(item) + 1;
		popped_at[item] = t + 1;
#endif
		item = 0
	}
ReleaseTurn:
	atomic {
		turn[SLOT(t)] = RELEASED(t);
		t = 0;
		if
		:: skipped -> skipped = 0; h++; NEXT_RETRY(GetTail, LoadTurn)
		:: else -> goto TryDequeue
		fi
	}
Done:
	skip
}

init
{
	byte i, k;

	atomic {
		run pusher(0);
		run trypusher(1);
		run popper(0);
		run trypopper(1)
	}
	_nr_pr == 1;
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
		for (i : 0 .. C - 1) {
			assert(!occupied[SLOT(head + i)]);
			assert(turn[SLOT(head + i)] == PUSH_TURN(head + i))
		}
		i = 0;
		k = 0
	}
}
