// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress of the Vyukov ring on every backend (heap, memfd, /dev/lfq), with
 * the shared body of stress_impl.h: SPSC, MPSC, SPMC and MPMC, blocking,
 * try_ and burst verbs, capacities 1024 and 64 (the small one goes full
 * and empty all the time, so the wake-up paths run), element sizes 24
 * (sizeof(struct lfq_test_item)), 64 and 100.
 *
 * Test names are vyukov_stress.<variant>.<backend>; variant names read
 * <producers x consumers>_<verb>_c<capacity>_e<elem size>.
 */
#define _GNU_SOURCE
#include "stress_impl.h"

static int vyukov_create(struct lfq_ring **ringp, const struct stress_cfg *cfg,
			 enum lfq_mem mem)
{
	struct lfq_create p = {
		.type = LFQ_RING_VYUKOV,
		.capacity = cfg->capacity,
		.elem_size = cfg->elem_size,
	};

	return lfq_ring_create(ringp, &p, mem);
}

static const struct stress_hooks vyukov_hooks = {
	.name		= "vyukov",
	.create		= vyukov_create,
	.push		= lfq_vyukov_push,
	.pop		= lfq_vyukov_pop,
	.try_push	= lfq_vyukov_try_push,
	.try_pop	= lfq_vyukov_try_pop,
	.push_burst	= lfq_vyukov_push_burst,
	.pop_burst	= lfq_vyukov_pop_burst,
	.try_push_burst	= lfq_vyukov_try_push_burst,
	.try_pop_burst	= lfq_vyukov_try_pop_burst,
	.size		= lfq_vyukov_size,
};

STRESS_TESTS(vyukov_stress, vyukov_hooks)

#define K	1024ULL
#define M	(1024ULL * 1024ULL)

#define VARIANT(name, p, c, v, cap, es, n)				\
	FIXTURE_VARIANT_ADD(vyukov_stress, name) {			\
		.cfg = {						\
			.producers = (p), .consumers = (c), .verb = (v), \
			.capacity = (cap), .elem_size = (es), .items = (n), \
		},							\
	}

/* SPSC */
VARIANT(1x1_block_c1024_e24,	1, 1, STRESS_BLOCK,	1024, 24, 256 * K);
VARIANT(1x1_try_c64_e64,	1, 1, STRESS_TRY,	64, 64, 256 * K);
VARIANT(1x1_burst_c64_e100,	1, 1, STRESS_BURST,	64, 100, 256 * K);
/* MPSC */
VARIANT(4x1_block_c64_e24,	4, 1, STRESS_BLOCK,	64, 24, 128 * K);
VARIANT(4x1_try_c1024_e100,	4, 1, STRESS_TRY,	1024, 100, 256 * K);
VARIANT(4x1_tryburst_c64_e64,	4, 1, STRESS_TRY_BURST,	64, 64, 256 * K);
/* SPMC */
VARIANT(1x4_block_c64_e64,	1, 4, STRESS_BLOCK,	64, 64, 128 * K);
VARIANT(1x4_try_c1024_e24,	1, 4, STRESS_TRY,	1024, 24, 256 * K);
VARIANT(1x4_burst_c1024_e100,	1, 4, STRESS_BURST,	1024, 100, 256 * K);
/* MPMC, at least 1M items natively */
VARIANT(4x4_block_c1024_e24,	4, 4, STRESS_BLOCK,	1024, 24, M);
VARIANT(4x4_block_c64_e100,	4, 4, STRESS_BLOCK,	64, 100, M);
VARIANT(4x4_try_c64_e24,	4, 4, STRESS_TRY,	64, 24, M);
VARIANT(4x4_try_c1024_e64,	4, 4, STRESS_TRY,	1024, 64, M);
VARIANT(4x4_burst_c64_e64,	4, 4, STRESS_BURST,	64, 64, M);
VARIANT(4x4_burst_c1024_e24,	4, 4, STRESS_BURST,	1024, 24, M);
VARIANT(4x4_tryburst_c64_e100,	4, 4, STRESS_TRY_BURST,	64, 100, M);

TEST_HARNESS_MAIN
