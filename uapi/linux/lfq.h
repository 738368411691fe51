/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lfq: bounded lock-free rings shared by the kernel and userspace.
 *
 * This header is the whole ABI: ioctls, ring types, and the layout of the
 * memory that /dev/lfq ring fds map. It holds no logic. Both lfq.ko and
 * liblfq compile against it and pin every offset with static asserts.
 *
 * Device model
 *   /dev/lfq only creates: LFQ_IOC_CREATE returns a new ring fd
 *   (close-on-exec). On a ring fd: LFQ_IOC_INFO, LFQ_IOC_WAKE,
 *   LFQ_IOC_WAIT, LFQ_IOC_JOIN, mmap of the two regions below,
 *   poll/epoll, and /proc/<pid>/fdinfo.
 *
 * Regions (mmap offsets are cookies, as in io_uring)
 *   LFQ_OFF_DESC  one page, read-only: struct lfq_desc (geometry + counters
 *                 the kernel writes). Magic and ABI version at offset 0.
 *   LFQ_OFF_RING  read-write, info.ring_size bytes: the ring header
 *                 (positions and wait words, each owner on its own 64-byte
 *                 line) followed at info.slots_off by capacity slots of
 *                 info.slot_stride bytes, then, for ring types that have
 *                 them, info.nr_claims claim records at info.claims_off.
 *   A memfd ring from liblfq has the same two regions at file offsets
 *   0 and info.desc_size, and says so in the descriptor's *_off fields.
 *
 * Slots
 *   slot_stride = LFQ_STRIDE(slot header, elem_size): the ring's slot header
 *   plus the element, rounded up to a multiple of 64 bytes, so a slot never
 *   shares a cache line with its neighbour. Elements are 1..LFQ_ELEM_MAX bytes
 *   and start 8-byte aligned right after the slot header.
 *
 * Positions
 *   All positions are 64-bit and free-running; the slot of position p is
 *   p & (capacity - 1). Positions are compared by signed difference, so they
 *   never need to be reset (2^63 operations would take centuries).
 *
 * Verbs
 *   try_  one attempt that never sleeps; _burst up to n items;
 *   push/pop for the queues. Errors are negative errno values:
 *   -ENOSPC full, -EAGAIN empty, -ETIMEDOUT, -EINTR, -EINVAL, -E2BIG,
 *   -EIO (the shared memory holds values no correct ring can hold).
 */
#ifndef _UAPI_LINUX_LFQ_H
#define _UAPI_LINUX_LFQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LFQ_MAGIC		0x2151464cU	/* "LFQ!" in little-endian memory */
#define LFQ_ABI_VERSION		1U

#define LFQ_CACHELINE		64U
#define LFQ_ELEM_MAX		65536U		/* bytes per element */
#define LFQ_CAPACITY_MAX	(1U << 30)	/* slots; also limited by max_ring_bytes */

/* Stride of a slot: its header plus the element, in whole cache lines. */
#define LFQ_STRIDE(hdr, elem) \
	((((hdr) + (elem)) + LFQ_CACHELINE - 1) & ~(__u64)(LFQ_CACHELINE - 1))

/* Ring types (struct lfq_create.type). */
#define LFQ_RING_VYUKOV		1U	/* bounded MPMC, per-slot sequence */
#define LFQ_RING_TURN		2U	/* bounded MPMC, tickets and per-slot turn */
#define LFQ_RING_MPSC		3U	/* MPSC log ring: records, reserve/commit */
#define LFQ_RING_SEQ		4U	/* sequencer: claim/publish, barriers */
#define LFQ_RING_WSDEQUE	5U	/* Chase-Lev work-stealing deque */

/* Creation flags (struct lfq_create.flags): none defined yet. */
#define LFQ_F_ALL		0U

/* mmap offsets of the regions of a ring fd. */
#define LFQ_OFF_DESC		0x00000000ULL
#define LFQ_OFF_RING		0x10000000ULL

/* LFQ_IOC_WAKE argument and poll directions. */
#define LFQ_WAKE_NOT_EMPTY	(1U << 0)	/* wake consumers: items were pushed */
#define LFQ_WAKE_NOT_FULL	(1U << 1)	/* wake producers: space was freed */
#define LFQ_WAKE_ALL		(LFQ_WAKE_NOT_EMPTY | LFQ_WAKE_NOT_FULL)

/**
 * struct lfq_create - LFQ_IOC_CREATE argument
 * @type:	(in) LFQ_RING_*
 * @flags:	(in) LFQ_F_*; must be zero today
 * @capacity:	(in) slots, a power of two, 2..LFQ_CAPACITY_MAX
 * @elem_size:	(in) bytes per element, 1..LFQ_ELEM_MAX
 * @policy:	(in) ring-specific policy: LFQ_MPSC_* for LFQ_RING_MPSC,
 *		LFQ_SEQ_* for LFQ_RING_SEQ, 0 for the other types
 * @__pad:	must be zero
 * @__resv:	must be zero
 */
struct lfq_create {
	__u32 type;
	__u32 flags;
	__u32 capacity;
	__u32 elem_size;
	__u32 policy;
	__u32 __pad;
	__u64 __resv[3];
};

/**
 * struct lfq_info - geometry of a ring (LFQ_IOC_INFO, and offset 0 of the
 * descriptor region)
 * @magic:	(out) LFQ_MAGIC
 * @abi_version:(out) LFQ_ABI_VERSION
 * @type:	(out) LFQ_RING_*
 * @flags:	(out) creation flags
 * @capacity:	(out) slots
 * @elem_size:	(out) bytes per element
 * @slot_stride:(out) bytes from one slot to the next, see LFQ_STRIDE()
 * @policy:	(out) creation policy
 * @desc_off:	(out) mmap offset of the descriptor region
 * @desc_size:	(out) its length in bytes
 * @ring_off:	(out) mmap offset of the ring region
 * @ring_size:	(out) its length in bytes
 * @slots_off:	(out) offset of slot 0 inside the ring region
 * @claims_off:	(out) offset of the claim records inside the ring region,
 *		0 if the type has none
 * @nr_claims:	(out) how many claim records; 0 if the type has none
 * @__pad:	zero
 * @__resv:	zero
 */
struct lfq_info {
	__u32 magic;
	__u32 abi_version;
	__u32 type;
	__u32 flags;
	__u32 capacity;
	__u32 elem_size;
	__u32 slot_stride;
	__u32 policy;
	__u64 desc_off;
	__u64 desc_size;
	__u64 ring_off;
	__u64 ring_size;
	__u64 slots_off;
	__u64 claims_off;
	__u32 nr_claims;
	__u32 __pad;
	__u64 __resv[1];
};

/**
 * struct lfq_desc - the read-only descriptor region
 * @info:	geometry, as LFQ_IOC_INFO returns it
 * @skipped:	tickets of producers that died before publishing, which
 *		the kernel marked LFQ_TURN_SKIPPED so consumers skip them
 * @dropped:	items that a dead consumer had claimed; the kernel released
 *		their slots unread
 * @unresolved:	claims that died between announcing a claim and recording
 *		its ticket (LFQ_CLAIM_*_PENDING): the kernel cannot tell whether
 *		a ticket was taken, so it repairs nothing and counts it here
 * @__resv0:	zero
 * @errors:	times the kernel found the ring's shared words corrupt
 * @__resv1:	zero
 *
 * Every counter is written by the kernel only, and is always 0 without
 * the module.
 */
struct lfq_desc {
	struct lfq_info info;
	__u64 skipped;
	__u64 dropped;
	__u64 unresolved;
	__u64 __resv0;
	__u64 errors;
	__u64 __resv1[7];
};

/**
 * struct lfq_wait - one wait condition, on its own cache line
 * @waiters:	number of sleepers on this condition: the need-wakeup flag.
 *		A waker that finds it zero makes no syscall.
 * @futex:	bumped by every wake-up that finds a sleeper: the futex word
 *		of heap and memfd rings, and what LFQ_IOC_WAIT waits on for
 *		/dev/lfq rings
 * @__pad:	zero
 */
struct lfq_wait {
	__u32 waiters;
	__u32 futex;
	__u32 __pad[14];
};

/**
 * struct lfq_vyukov_hdr - head of the ring region of LFQ_RING_VYUKOV
 * @head:	next position to push; written by producers only
 * @tail:	next position to pop; written by consumers only
 * @not_empty:	consumers sleeping until an item is pushed
 * @not_full:	producers sleeping until a slot is freed
 *
 * Slots follow at LFQ_VYUKOV_SLOTS_OFF. Each slot starts with a __u64
 * sequence (the slot header) and holds the element from byte 8:
 * the slot of position p is free for p when seq == p, holds the item of p
 * when seq == p + 1, and is free for p + capacity once the item is popped.
 */
struct lfq_vyukov_hdr {
	__u64 head;
	__u64 __pad_head[7];
	__u64 tail;
	__u64 __pad_tail[7];
	struct lfq_wait not_empty;
	struct lfq_wait not_full;
};

#define LFQ_VYUKOV_SLOT_HDR	8U
#define LFQ_VYUKOV_SLOTS_OFF	256U

/**
 * struct lfq_turn_hdr - head of the ring region of LFQ_RING_TURN
 * @head:	next producer ticket; taken by fetch_add or CAS
 * @tail:	next consumer ticket; taken by fetch_add or CAS
 * @not_empty:	consumers sleeping until a turn they wait for comes
 * @not_full:	producers sleeping until a turn they wait for comes
 *
 * Slots follow at LFQ_TURN_SLOTS_OFF. Each slot starts with a __u64 turn
 * and holds the element from byte 8. For ticket t, lap = t / capacity:
 * the slot of t is the producer's when turn == 2 * lap, the consumer's
 * when turn == 2 * lap + 1, and the next lap's producer's at 2 * lap + 2.
 * LFQ_TURN_SKIPPED in a consumer's turn says the producer died before
 * writing (the kernel's repair wrote it): the consumer releases the slot
 * and takes another ticket.
 */
struct lfq_turn_hdr {
	__u64 head;
	__u64 __pad_head[7];
	__u64 tail;
	__u64 __pad_tail[7];
	struct lfq_wait not_empty;
	struct lfq_wait not_full;
};

#define LFQ_TURN_SLOT_HDR	8U
#define LFQ_TURN_SLOTS_OFF	256U
#define LFQ_TURN_SKIPPED	(1ULL << 63)

/**
 * struct lfq_claim - a participant's claim record, on its own cache line
 * @pos:	the ticket held, for LFQ_CLAIM_PUSH and LFQ_CLAIM_POP
 * @state:	LFQ_CLAIM_*
 * @slots:	LFQ_RING_MPSC: positions the reservation at @pos takes;
 *		zero for the other types
 * @__resv:	zero
 *
 * In the spirit of robust futex lists: a participant that owns a record
 * (LFQ_IOC_JOIN) writes it around every claim, in its own program order:
 *
 *	state = *_PENDING;  take a ticket t;  pos = t;  state = PUSH/POP;
 *	... publish or release the slot ...;  state = IDLE
 *
 * pos changes only while state is *_PENDING, so that the record never
 * names a ticket the participant does not hold, whenever it dies. So a
 * record covers one ticket at a time: liblfq's joined handles take no
 * second ticket before the first is published or released. The record
 * belongs to the fd's holder: an fd inherited across fork() keeps it (and
 * defers its repair) until the last holder is gone.
 *
 * When the participant's fd is released (close, exit, kill -9), the
 * kernel reads the record and repairs a ticket left in PUSH or POP state,
 * counting it in lfq_desc.skipped or lfq_desc.dropped.
 */
struct lfq_claim {
	__u64 pos;
	__u32 state;
	__u32 slots;
	__u64 __resv[6];
};

#define LFQ_CLAIM_IDLE		0U	/* holds nothing */
#define LFQ_CLAIM_PUSH_PENDING	1U	/* about to take a producer ticket */
#define LFQ_CLAIM_PUSH		2U	/* holds producer ticket pos */
#define LFQ_CLAIM_POP_PENDING	3U	/* about to take a consumer ticket */
#define LFQ_CLAIM_POP		4U	/* holds consumer ticket pos */

#define LFQ_CLAIMS		64U	/* claim records of TURN and MPSC rings,
						 * barriers of SEQ rings */

/* struct lfq_create.policy of LFQ_RING_MPSC: what a full ring does. */
#define LFQ_MPSC_DISCARD	0U	/* refuse the new record, count it */
#define LFQ_MPSC_BLOCK		1U	/* the producer waits for space */
#define LFQ_MPSC_OVERWRITE	2U	/* drop the oldest records, count them */

/**
 * struct lfq_mpsc_hdr - head of the ring region of LFQ_RING_MPSC
 * @head:	next position to reserve; producers move it by CAS
 * @tail:	position of the oldest record not yet freed; moved by the
 *		taker (the consumer, or an overwriting producer)
 * @taker:	the taker lock: 0, or LFQ_MPSC_TAKEN | id while the holder of
 *		claim record id (LFQ_MPSC_NOBODY: one without a record) takes
 *		and frees records at tail. Only ever tried, never waited for.
 * @not_empty:	the consumer sleeping until a record is committed
 * @not_full:	producers (LFQ_MPSC_BLOCK) sleeping until space is freed
 * @dropped:	records refused because the ring was full
 *		(LFQ_MPSC_DISCARD), counted by their producers
 * @overwritten:records dropped unread to make room (LFQ_MPSC_OVERWRITE),
 *		counted by the producers that dropped them
 * @__pad_cnt:	zero
 *
 * Records follow at LFQ_MPSC_SLOTS_OFF. A record takes one or more
 * consecutive positions; its first slot starts with struct lfq_mpsc_rec
 * and the payload follows it, running on over the following slots
 * (their headers included). A payload that would run past the last slot
 * starts at slot 0 instead, so that it is always contiguous: the record
 * then also takes the positions up to the end of the lap.
 */
struct lfq_mpsc_hdr {
	__u64 head;
	__u64 __pad_head[7];
	__u64 tail;
	__u64 taker;
	__u64 __pad_tail[6];
	struct lfq_wait not_empty;
	struct lfq_wait not_full;
	__u64 dropped;
	__u64 overwritten;
	__u64 __pad_cnt[6];
};

/**
 * struct lfq_mpsc_rec - header of a record, at the start of its first slot
 * @seq:	the state of the record at position p (below)
 * @len:	payload bytes; 0 for no payload (the consumer skips it)
 * @slots:	positions the record takes, 1..capacity - 1
 *
 * seq of the slot of position p::
 *
 *   p                      free for p (the slot was freed a lap ago)
 *   p + 1                  a committed record starts at p
 *   LFQ_MPSC_TAKEN | id    the record at p is held by the consumer
 *                          that holds the taker lock (hdr->taker)
 *   p + capacity           freed: free for p + capacity
 *
 * A record's payload starts right after this header when the whole
 * record fits before the end of the lap ((p & (capacity - 1)) + slots
 * <= capacity), and at slot 0 otherwise.
 */
struct lfq_mpsc_rec {
	__u64 seq;
	__u32 len;
	__u32 slots;
};

#define LFQ_MPSC_SLOT_HDR	16U
#define LFQ_MPSC_SLOTS_OFF	320U
#define LFQ_MPSC_TAKEN		(1ULL << 63)
#define LFQ_MPSC_NOBODY		0xffffU

/* struct lfq_create.policy of LFQ_RING_SEQ: who claims. */
#define LFQ_SEQ_SINGLE		0U	/* one producer: publishes hdr->cursor */
#define LFQ_SEQ_MULTI		1U	/* producers claim by CAS, publish slots */

/* Sequence numbers start at 0; "one before zero" is the initial value. */
#define LFQ_SEQ_INITIAL		(~0ULL)

/**
 * struct lfq_seq_hdr - head of the ring region of LFQ_RING_SEQ
 * @cursor:	LFQ_SEQ_SINGLE: the last sequence published (every
 *		sequence up to it is); LFQ_SEQ_INITIAL before the first.
 *		Written by the producer only. Unused by LFQ_SEQ_MULTI.
 * @head:	the next sequence to claim; the producer's (SINGLE), moved
 *		by CAS (MULTI)
 * @gate:	a lower bound of every active barrier's sequence, cached
 *		by producers: they claim up to @gate + capacity without
 *		looking at the barriers
 * @not_empty:	consumers sleeping until a sequence they wait for is
 *		published or finished by the barrier they follow
 * @not_full:	producers sleeping until the slowest barrier moves
 *
 * Slots follow at LFQ_SEQ_SLOTS_OFF, each a __u64 marker then the
 * element: with LFQ_SEQ_MULTI the marker of the slot of sequence s is
 * s + 1 once s is published; LFQ_SEQ_SINGLE leaves it zero. Barriers
 * follow the slots, at info.claims_off: info.nr_claims records of
 * struct lfq_seq_barrier. The producers never claim sequence s while an
 * active barrier has not passed s - capacity.
 */
struct lfq_seq_hdr {
	__u64 cursor;
	__u64 __pad_cursor[7];
	__u64 head;
	__u64 gate;
	__u64 __pad_head[6];
	struct lfq_wait not_empty;
	struct lfq_wait not_full;
};

#define LFQ_SEQ_SLOT_HDR	8U
#define LFQ_SEQ_SLOTS_OFF	256U

/**
 * struct lfq_seq_barrier - a consumer's sequence barrier, on its own line
 * @seq:	the last sequence the consumer has finished with; written
 *		by the consumer only, and only forward
 * @state:	LFQ_SEQ_FREE, LFQ_SEQ_JOINING or LFQ_SEQ_ACTIVE
 * @follows:	whose sequences the consumer waits for: LFQ_SEQ_PRODUCER,
 *		or the index of the barrier of the consumer before it in a
 *		pipeline
 * @gen:	bumped by each consumer that takes the barrier, before it
 *		writes anything else: who owns it now
 * @follows_gen:the @gen of the followed barrier when this consumer
 *		joined: a follower whose stage left and whose barrier was
 *		taken again sees it changed, and gets -EPIPE
 * @__resv:	zero
 *
 * Same size and place as struct lfq_claim: on /dev/lfq rings a barrier
 * is the claim record of a joined ring fd (LFQ_IOC_JOIN), and the kernel
 * frees it when that fd is released, however its consumer ended.
 */
struct lfq_seq_barrier {
	__u64 seq;
	__u32 state;
	__u32 follows;
	__u32 gen;
	__u32 follows_gen;
	__u64 __resv[5];
};

#define LFQ_SEQ_FREE		0U	/* no consumer */
#define LFQ_SEQ_JOINING		1U	/* seq is provisional; still gates */
#define LFQ_SEQ_ACTIVE		2U	/* seq is the consumer's */
#define LFQ_SEQ_PRODUCER	0xffffffffU	/* follows: the producers */

/**
 * struct lfq_wsdeque_hdr - head of the ring region of LFQ_RING_WSDEQUE
 * @top:	the oldest element: thieves take it with a CAS, and so does
 *		the owner for the last one
 * @bottom:	one past the newest element; written by the owner only
 * @not_empty:	sleepers until an element is pushed (poll)
 * @not_full:	sleepers until an element is taken (poll)
 *
 * Slots follow at LFQ_WSDEQUE_SLOTS_OFF and hold the element alone (no
 * slot header): the element of position p is in slot p & (capacity - 1)
 * while top <= p < bottom. The owner pushes and pops at bottom (LIFO),
 * thieves steal at top (FIFO). bottom - top is 0..capacity on a correct
 * ring; top and bottom are signed 64-bit positions from 0.
 */
struct lfq_wsdeque_hdr {
	__s64 top;
	__u64 __pad_top[7];
	__s64 bottom;
	__u64 __pad_bottom[7];
	struct lfq_wait not_empty;
	struct lfq_wait not_full;
};

#define LFQ_WSDEQUE_SLOT_HDR	0U
#define LFQ_WSDEQUE_SLOTS_OFF	256U

/**
 * struct lfq_wait_req - LFQ_IOC_WAIT argument: a futex on a ring fd
 * @dir:	LFQ_WAKE_NOT_EMPTY or LFQ_WAKE_NOT_FULL, one of them
 * @seq:	the value of that direction's lfq_wait.futex the caller read
 *		before its last look at the ring
 * @timeout_ms:	-1 forever, 0 no sleep, or milliseconds
 * @__pad:	zero
 *
 * Sleeps until the futex word differs from @seq: every waker (kernel
 * code and LFQ_IOC_WAKE) bumps it before it wakes, so a wake-up between
 * the caller's look and its sleep is never lost. The caller has counted
 * itself in the direction's waiters (the need-wakeup protocol); a caller
 * killed while it sleeps here is taken off that count by the kernel. A module cannot FUTEX_WAKE a user address, so /dev/lfq rings
 * sleep here instead.
 */
struct lfq_wait_req {
	__u32 dir;
	__u32 seq;
	__s32 timeout_ms;
	__u32 __pad;
};

#define LFQ_IOC_MAGIC		0xB8
/* On /dev/lfq: returns a new ring fd. */
#define LFQ_IOC_CREATE		_IOW(LFQ_IOC_MAGIC, 0x01, struct lfq_create)
/* On a ring fd. */
#define LFQ_IOC_INFO		_IOR(LFQ_IOC_MAGIC, 0x02, struct lfq_info)
#define LFQ_IOC_WAKE		_IO(LFQ_IOC_MAGIC, 0x03)	/* arg: LFQ_WAKE_* */
#define LFQ_IOC_WAIT		_IOW(LFQ_IOC_MAGIC, 0x04, struct lfq_wait_req)
/* Returns a new ring fd that owns a claim record; its index in *arg. */
#define LFQ_IOC_JOIN		_IOR(LFQ_IOC_MAGIC, 0x05, __u32)

#endif /* _UAPI_LINUX_LFQ_H */
