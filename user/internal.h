/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * liblfq internals: the ring handle and the wait/wake core, twin of
 * kmod/internal.h. The ring files (user/<ring>.c) see only this.
 */
#ifndef LFQ_USER_INTERNAL_H
#define LFQ_USER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "barrier.h"
#include "lfq.h"

/* Kernel type names, so that the twin files read the same. */
typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define S64_MAX		INT64_MAX

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Wait directions: index into ring->wait[], bit (1 << dir) in LFQ_WAKE_*. */
enum {
	LFQ_NOT_EMPTY,
	LFQ_NOT_FULL,
	LFQ_NR_WAIT,
};

/* A try operation gives up after this many lost races or stale positions. */
#define LFQ_TRY_RETRIES		64
/* A blocking operation retries this many times before it sleeps. */
#define LFQ_SPIN_LIMIT		128

struct lfq_ring {
	/* Read by every operation: geometry and the shared words. */
	void *hdr;			/* ring region: struct lfq_<type>_hdr */
	u8 *slots;			/* slot 0 */
	u64 mask;			/* capacity - 1 */
	u32 stride;			/* bytes per slot */
	u32 elem_size;
	u32 capacity;
	u32 order;			/* log2(capacity) */
	struct lfq_wait *wait[LFQ_NR_WAIT];
	struct lfq_claim *claim;	/* our claim record, once joined */

	/* Backend. */
	enum lfq_mem mem;		/* LFQ_MEM_*; caller memory is HEAP */
	int fd;				/* memfd or ring fd, -1 otherwise */
	int futex_flags;		/* FUTEX_PRIVATE_FLAG for heap rings */
	void *map;			/* heap: desc + ring; fds: desc */
	size_t map_size;
	bool free_map;			/* map came from posix_memalign() */
	void *ring_map;			/* fds: the ring region */
	int claim_fd;			/* the joined fd that owns claim, or -1 */
	struct lfq_ring *joined_next;	/* list of joined handles, for fork() */
	struct lfq_info info;		/* validated copy */
	atomic_ulong errors;		/* corruption seen by this process */
};

static inline void *lfq_slot(const struct lfq_ring *ring, u64 pos)
{
	return ring->slots + (pos & ring->mask) * ring->stride;
}

/*
 * Positions between tail and head, clamped to 0..capacity: the size of a
 * queue whose header starts with head and tail.
 */
static inline u64 lfq_span(const struct lfq_ring *ring, const __u64 *head,
			   const __u64 *tail)
{
	/*
	 * S: tail before head (no partner: both only grow), so the
	 * difference never undercounts; the clamp bounds the overcount.
	 */
	u64 t = smp_load_acquire(tail);
	s64 n = (s64)(READ_ONCE(*head) - t);

	if (n < 0)
		return 0;
	return (u64)n > ring->capacity ? ring->capacity : (u64)n;
}

typedef int (*lfq_try_fn)(struct lfq_ring *ring, void *arg);

int __lfq_wait(struct lfq_ring *ring, unsigned int dir, lfq_try_fn try_op,
	       void *arg, int timeout_ms);
int __lfq_spin(struct lfq_ring *ring, lfq_try_fn try_op, void *arg,
	       int timeout_ms, bool yielding);
void lfq_wake(struct lfq_ring *ring, unsigned int dir);
void lfq_wake_all(struct lfq_ring *ring);
void lfq_wake_at(struct lfq_ring *ring, unsigned int dir, const __u64 *at,
		 u64 pos);
int lfq_ring_corrupt(struct lfq_ring *ring);
void lfq_ring_unjoin(struct lfq_ring *ring);
int lfq_futex_wait(u32 *word, u32 val);
void lfq_futex_wake(u32 *word, int n);

/* Per-type hooks for ring.c. */
void lfq_vyukov_init(struct lfq_ring *ring);
short lfq_vyukov_poll(struct lfq_ring *ring);
short lfq_turn_poll(struct lfq_ring *ring);
void lfq_mpsc_init(struct lfq_ring *ring);
short lfq_mpsc_poll(struct lfq_ring *ring);
void lfq_seq_init(struct lfq_ring *ring);
short lfq_seq_poll(struct lfq_ring *ring);
short lfq_wsdeque_poll(struct lfq_ring *ring);

#endif /* LFQ_USER_INTERNAL_H */
