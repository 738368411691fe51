// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress of the turn ring on every backend (heap, memfd, /dev/lfq), with
 * the shared body of stress_impl.h: SPSC, MPSC, SPMC and MPMC, with the
 * blocking verbs (a ticket from fetch_add, then a wait for its turn), the
 * try_ verbs (a CAS on a ready ticket), reserve/commit in place (blocking
 * and try_), and every verb mixed at random per operation, so that CAS
 * tickets and fetch_add tickets race on the same counters. The turn ring
 * has no bursts.
 *
 * Capacities are small (2, 4, 64) so that every slot's turn goes round
 * thousands of times and the slot at head or tail is often still held
 * by the previous lap; the reserve verbs sometimes yield while they hold
 * a slot (a stalled participant).
 *
 * The try_ variants print how often a try failed while size(), sampled
 * right after the failure, said the ring was neither empty nor full: the
 * turn ring's tries can fail then (the slot at head still holds the
 * previous lap's item, the slot at tail is still being written). The
 * count is informational, never asserted; it also counts failures after
 * which the ring moved before the sample.
 *
 * Test names are turn_stress.<variant>.<backend>; variant names read
 * <producers x consumers>_<verb>_c<capacity>_e<elem size>.
 */
#define _GNU_SOURCE
#include "stress_impl.h"

_Static_assert(sizeof(struct lfq_turn_ref) <= STRESS_REF_SIZE,
	       "a turn reservation fits the stress body's ref");

static int turn_create(struct lfq_ring **ringp, const struct stress_cfg *cfg,
		       enum lfq_mem mem)
{
	struct lfq_create p = {
		.type = LFQ_RING_TURN,
		.capacity = cfg->capacity,
		.elem_size = cfg->elem_size,
	};

	return lfq_ring_create(ringp, &p, mem);
}

/* The body always waits forever (-1), which is all the turn ring does. */
static int turn_push(struct lfq_ring *ring, const void *elem, int timeout_ms)
{
	(void)timeout_ms;
	return lfq_turn_push(ring, elem);
}

static int turn_pop(struct lfq_ring *ring, void *elem, int timeout_ms)
{
	(void)timeout_ms;
	return lfq_turn_pop(ring, elem);
}

static int turn_push_reserve(struct lfq_ring *ring, bool try, void **elem,
			     void *ref)
{
	struct lfq_turn_ref *r = ref;
	int ret = try ? lfq_turn_try_push_reserve(ring, r) :
			lfq_turn_push_reserve(ring, r);

	if (!ret)
		*elem = r->elem;
	return ret;
}

static int turn_push_commit(struct lfq_ring *ring, const void *ref)
{
	return lfq_turn_push_commit(ring, ref);
}

static int turn_pop_reserve(struct lfq_ring *ring, bool try, void **elem,
			    void *ref)
{
	struct lfq_turn_ref *r = ref;
	int ret = try ? lfq_turn_try_pop_reserve(ring, r) :
			lfq_turn_pop_reserve(ring, r);

	if (!ret)
		*elem = r->elem;
	return ret;
}

static int turn_pop_commit(struct lfq_ring *ring, const void *ref)
{
	return lfq_turn_pop_commit(ring, ref);
}

static const struct stress_hooks turn_hooks = {
	.name		= "turn",
	.create		= turn_create,
	.push		= turn_push,
	.pop		= turn_pop,
	.try_push	= lfq_turn_try_push,
	.try_pop	= lfq_turn_try_pop,
	.size		= lfq_turn_size,
	.push_reserve	= turn_push_reserve,
	.push_commit	= turn_push_commit,
	.pop_reserve	= turn_pop_reserve,
	.pop_commit	= turn_pop_commit,
};

STRESS_TESTS(turn_stress, turn_hooks)

#define K	1024ULL
#define M	(1024ULL * 1024ULL)

#define VARIANT(name, p, c, v, cap, es, n)				\
	FIXTURE_VARIANT_ADD(turn_stress, name) {			\
		.cfg = {						\
			.producers = (p), .consumers = (c), .verb = (v), \
			.capacity = (cap), .elem_size = (es), .items = (n), \
		},							\
	}

/* SPSC */
VARIANT(1x1_block_c2_e24,	1, 1, STRESS_BLOCK,		2, 24, 32 * K);
VARIANT(1x1_try_c4_e64,		1, 1, STRESS_TRY,		4, 64, 128 * K);
VARIANT(1x1_reserve_c64_e100,	1, 1, STRESS_RESERVE,		64, 100, 128 * K);
VARIANT(1x1_tryreserve_c2_e24,	1, 1, STRESS_TRY_RESERVE,	2, 24, 64 * K);
/* MPSC */
VARIANT(4x1_block_c4_e24,	4, 1, STRESS_BLOCK,		4, 24, 16 * K);
VARIANT(4x1_try_c2_e64,		4, 1, STRESS_TRY,		2, 64, 64 * K);
VARIANT(4x1_tryreserve_c64_e24,	4, 1, STRESS_TRY_RESERVE,	64, 24, 256 * K);
VARIANT(4x1_mixed_c4_e100,	4, 1, STRESS_MIXED,		4, 100, 32 * K);
/* SPMC */
VARIANT(1x4_block_c64_e64,	1, 4, STRESS_BLOCK,		64, 64, 48 * K);
VARIANT(1x4_try_c4_e24,		1, 4, STRESS_TRY,		4, 24, 64 * K);
VARIANT(1x4_reserve_c4_e4096,	1, 4, STRESS_RESERVE,		4, 4096, 16 * K);
VARIANT(1x4_mixed_c2_e24,	1, 4, STRESS_MIXED,		2, 24, 24 * K);
/* MPMC, with a run of 1M items natively */
VARIANT(4x4_block_c2_e24,	4, 4, STRESS_BLOCK,		2, 24, 32 * K);
VARIANT(4x4_block_c64_e100,	4, 4, STRESS_BLOCK,		64, 100, 128 * K);
VARIANT(4x4_try_c4_e24,		4, 4, STRESS_TRY,		4, 24, 128 * K);
VARIANT(4x4_try_c64_e64,	4, 4, STRESS_TRY,		64, 64, M);
VARIANT(4x4_reserve_c4_e64,	4, 4, STRESS_RESERVE,		4, 64, 24 * K);
VARIANT(4x4_tryreserve_c64_e24,	4, 4, STRESS_TRY_RESERVE,	64, 24, 512 * K);
VARIANT(4x4_mixed_c2_e24,	4, 4, STRESS_MIXED,		2, 24, 24 * K);
VARIANT(4x4_mixed_c64_e64,	4, 4, STRESS_MIXED,		64, 64, 128 * K);

TEST_HARNESS_MAIN
