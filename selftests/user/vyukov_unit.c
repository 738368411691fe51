// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of liblfq's Vyukov ring: every operation and every error, on
 * heap rings mostly, and on memfd and caller-memory (lfq_ring_create_mem)
 * rings where the backend matters.
 *
 * Tests that need the shared words (the corruption and retry-limit tests,
 * and the wake-up tests that wait for a sleeper to announce itself) use
 * caller memory or map the memfd themselves: the ring header is at
 * info.desc_size, the slots at info.slots_off inside it (<linux/lfq.h>).
 *
 * Threaded tests are bounded by alarm(): a lost wake-up kills the test
 * with SIGALRM, a failure, instead of hanging.
 */
#define _GNU_SOURCE
/* The ring under test, for unit_util.h. */
#define UNIT_TYPE		LFQ_RING_VYUKOV
#define UNIT_HDR		struct lfq_vyukov_hdr
#define UNIT_PUSH(r, e)		lfq_vyukov_push(r, e, -1)
#define UNIT_POP(r, e)		lfq_vyukov_pop(r, e, -1)
#include "unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

/* The sequence word of the slot of pos, in a ring region at hdr. */
static uint64_t *slot_seq(void *hdr, const struct lfq_info *info, uint64_t pos)
{
	return (uint64_t *)((uint8_t *)hdr + info->slots_off +
			    (pos & (info->capacity - 1)) * info->slot_stride);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- geometry ------------------------------------------------------------ */

TEST(create_heap_reports_geometry)
{
	struct lfq_ring *r = ring_new(16, 24, LFQ_MEM_HEAP);
	const struct lfq_info *i;
	long page = sysconf(_SC_PAGESIZE);

	ASSERT_NE(NULL, r);
	i = lfq_ring_info(r);
	EXPECT_EQ(LFQ_MAGIC, i->magic);
	EXPECT_EQ(LFQ_ABI_VERSION, i->abi_version);
	EXPECT_EQ(LFQ_RING_VYUKOV, i->type);
	EXPECT_EQ(0, i->flags);
	EXPECT_EQ(16, i->capacity);
	EXPECT_EQ(24, i->elem_size);
	EXPECT_EQ(64, i->slot_stride);
	EXPECT_EQ(0, i->policy);
	EXPECT_EQ(page, i->desc_size);
	EXPECT_EQ(i->desc_size, i->ring_off);
	EXPECT_EQ(LFQ_VYUKOV_SLOTS_OFF, i->slots_off);
	EXPECT_EQ(0, i->ring_size % page);
	EXPECT_LE(i->slots_off + 16ULL * i->slot_stride, i->ring_size);
	EXPECT_EQ(-1, lfq_ring_fd(r));
	EXPECT_EQ(0, lfq_ring_errors(r));
	EXPECT_EQ(0, lfq_vyukov_size(r));
	EXPECT_TRUE(lfq_vyukov_empty(r));
	EXPECT_FALSE(lfq_vyukov_full(r));
	lfq_ring_destroy(r);
}

TEST(create_memfd_describes_itself_in_its_first_page)
{
	struct lfq_ring *r = ring_new(8, 100, LFQ_MEM_MEMFD);
	struct lfq_desc desc;

	ASSERT_NE(NULL, r);
	expect_memfd_describes_itself(_metadata, r, &desc);
	lfq_ring_destroy(r);
}

/* ---- basic semantics ------------------------------------------------------ */

TEST(fifo_order_single_thread)
{
	unsigned int kind;
	uint64_t v, i;

	for (kind = 0; kind < T_KINDS; kind++) {
		struct test_ring t;
		struct lfq_ring *r;

		ASSERT_EQ(0, test_ring_new(&t, kind, 8, sizeof(v)));
		r = t.ring;
		for (i = 0; i < 8; i++) {
			v = 1000 + i;
			ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
		}
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
			EXPECT_EQ(1000 + i, v);
		}
		/* the blocking forms behave the same when they need not wait */
		for (i = 0; i < 8; i++) {
			v = 2000 + i;
			ASSERT_EQ(0, lfq_vyukov_push(r, &v, -1));
		}
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(0, lfq_vyukov_pop(r, &v, -1));
			EXPECT_EQ(2000 + i, v);
		}
		test_ring_free(&t);
	}
}

TEST(push_full_returns_enospc)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	uint64_t v, i;

	ASSERT_NE(NULL, r);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, lfq_vyukov_try_push(r, &i));
	EXPECT_TRUE(lfq_vyukov_full(r));
	v = 99;
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(r, &v));
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(r, &v));
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push_burst(r, &v, 1));
	EXPECT_EQ(4, lfq_vyukov_size(r));
	/* the failed pushes left the contents alone */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
		EXPECT_EQ(i, v);
	}
	/* one slot freed: exactly one push fits again */
	ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
	ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
	lfq_ring_destroy(r);
}

TEST(pop_empty_returns_eagain)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	uint64_t v = 7;

	ASSERT_NE(NULL, r);
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(r, &v));
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop_burst(r, &v, 1));
	EXPECT_EQ(7, v);	/* untouched */
	ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
	ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
	v = 8;
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(r, &v));
	EXPECT_EQ(8, v);
	EXPECT_TRUE(lfq_vyukov_empty(r));
	lfq_ring_destroy(r);
}

TEST(wraparound_many_laps_keeps_values)
{
	uint64_t x = 1, next_in = 0, next_out = 0, v;
	unsigned int cycle, k, i;
	struct lfq_ring *r;

	/* capacity 4: 10000 cycles of 1..4 items is thousands of laps */
	r = ring_new(4, 8, LFQ_MEM_HEAP);
	ASSERT_NE(NULL, r);
	for (cycle = 0; cycle < 10000; cycle++) {
		k = 1 + rnd(&x) % 4;
		for (i = 0; i < k; i++) {
			v = next_in++ * 0x9e3779b97f4a7c15ULL;
			ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
		}
		EXPECT_EQ(k, lfq_vyukov_size(r));
		for (i = 0; i < k; i++) {
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
			ASSERT_EQ(next_out++ * 0x9e3779b97f4a7c15ULL, v);
		}
		ASSERT_EQ(-EAGAIN, lfq_vyukov_try_pop(r, &v));
	}
	lfq_ring_destroy(r);

	/* the smallest ring, one-byte elements, never empty between pushes */
	r = ring_new(2, 1, LFQ_MEM_HEAP);
	ASSERT_NE(NULL, r);
	{
		uint8_t b = 0, out;

		ASSERT_EQ(0, lfq_vyukov_try_push(r, &b));
		for (cycle = 1; cycle < 10000; cycle++) {
			b = (uint8_t)cycle;
			ASSERT_EQ(0, lfq_vyukov_try_push(r, &b));
			ASSERT_EQ(-ENOSPC, lfq_vyukov_try_push(r, &b));
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, &out));
			ASSERT_EQ((uint8_t)(cycle - 1), out);
		}
	}
	lfq_ring_destroy(r);
}

/* ---- bursts --------------------------------------------------------------- */

TEST(try_push_burst_partial_when_nearly_full_returns_count)
{
	struct lfq_ring *r = ring_new(8, 8, LFQ_MEM_HEAP);
	uint64_t in[8], out[8], i;

	ASSERT_NE(NULL, r);
	for (i = 0; i < 8; i++)
		in[i] = 100 + i;
	ASSERT_EQ(6, lfq_vyukov_try_push_burst(r, in, 6));
	/* two free slots: two of five go in, the first two */
	EXPECT_EQ(2, lfq_vyukov_try_push_burst(r, in + 6, 5));
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push_burst(r, in, 3));
	EXPECT_TRUE(lfq_vyukov_full(r));
	ASSERT_EQ(8, lfq_vyukov_try_pop_burst(r, out, 8));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(100 + i, out[i]);
	lfq_ring_destroy(r);
}

TEST(try_pop_burst_partial_when_nearly_empty_returns_count)
{
	struct lfq_ring *r = ring_new(8, 8, LFQ_MEM_HEAP);
	uint64_t in[3] = { 7, 8, 9 }, out[8];

	ASSERT_NE(NULL, r);
	memset(out, 0xee, sizeof(out));
	ASSERT_EQ(3, lfq_vyukov_try_push_burst(r, in, 3));
	EXPECT_EQ(3, lfq_vyukov_try_pop_burst(r, out, 8));
	EXPECT_EQ(7, out[0]);
	EXPECT_EQ(8, out[1]);
	EXPECT_EQ(9, out[2]);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, out[3]);	/* not written past */
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop_burst(r, out, 8));
	lfq_ring_destroy(r);
}

TEST(blocking_bursts_move_what_fits_without_waiting_for_more)
{
	struct lfq_ring *r = ring_new(8, 8, LFQ_MEM_HEAP);
	uint64_t in[10], out[10], i;

	ASSERT_NE(NULL, r);
	for (i = 0; i < 10; i++)
		in[i] = i;
	ASSERT_EQ(6, lfq_vyukov_push_burst(r, in, 6, -1));
	/* two fit: returns 2 at once, even with an infinite timeout */
	EXPECT_EQ(2, lfq_vyukov_push_burst(r, in + 6, 4, -1));
	EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push_burst(r, in, 4, 0));
	EXPECT_EQ(5, lfq_vyukov_pop_burst(r, out, 5, -1));
	EXPECT_EQ(3, lfq_vyukov_pop_burst(r, out + 5, 10, -1));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(i, out[i]);
	EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop_burst(r, out, 4, 0));
	lfq_ring_destroy(r);
}

TEST(bursts_keep_fifo_across_bursts_and_laps)
{
	struct lfq_ring *r = ring_new(16, 12, LFQ_MEM_HEAP);
	uint32_t in[32][3], out[32][3];
	uint64_t x = 42;
	uint32_t next_in = 0, next_out = 0;
	unsigned int round, i, n;
	int k;

	ASSERT_NE(NULL, r);
	for (round = 0; round < 5000; round++) {
		n = 1 + rnd(&x) % 20;
		for (i = 0; i < n; i++) {
			in[i][0] = next_in + i;
			in[i][1] = ~(next_in + i);
			in[i][2] = round;
		}
		k = rnd(&x) & 1 ? lfq_vyukov_try_push_burst(r, in, n) :
				  lfq_vyukov_push_burst(r, in, n, 0);
		if (k == -ENOSPC || k == -ETIMEDOUT) {
			ASSERT_TRUE(lfq_vyukov_full(r));
		} else {
			ASSERT_LE(1, k);
			ASSERT_GE((int)n, k);
			next_in += (uint32_t)k;
		}
		n = 1 + rnd(&x) % 20;
		k = rnd(&x) & 1 ? lfq_vyukov_try_pop_burst(r, out, n) :
				  lfq_vyukov_pop_burst(r, out, n, 0);
		if (k == -EAGAIN || k == -ETIMEDOUT) {
			ASSERT_TRUE(lfq_vyukov_empty(r));
			continue;
		}
		ASSERT_LE(1, k);
		ASSERT_GE((int)n, k);
		for (i = 0; i < (unsigned int)k; i++, next_out++) {
			ASSERT_EQ(next_out, out[i][0]);
			ASSERT_EQ(~next_out, out[i][1]);
		}
		ASSERT_EQ(next_in - next_out, lfq_vyukov_size(r));
	}
	EXPECT_LT(1000, next_out);
	lfq_ring_destroy(r);
}

TEST(zero_count_burst_returns_einval)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	uint64_t v[4] = { 1, 2, 3, 4 };

	ASSERT_NE(NULL, r);
	ASSERT_EQ(2, lfq_vyukov_try_push_burst(r, v, 2));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push_burst(r, v, 0));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push_burst(r, v, 0, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop_burst(r, v, 0));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop_burst(r, v, 0, -1));
	EXPECT_EQ(2, lfq_vyukov_size(r));
	lfq_ring_destroy(r);
}

/* ---- timeouts ------------------------------------------------------------- */

TEST(timeout_zero_on_full_and_empty_returns_etimedout)
{
	unsigned int b;
	uint64_t v = 1;

	for (b = 0; b < 2; b++) {
		struct lfq_ring *r = ring_new(2, 8, both_mems[b]);

		ASSERT_NE(NULL, r);
		EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop(r, &v, 0));
		EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop_burst(r, &v, 1, 0));
		ASSERT_EQ(0, lfq_vyukov_push(r, &v, 0));
		ASSERT_EQ(0, lfq_vyukov_push(r, &v, 0));
		EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push(r, &v, 0));
		EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push_burst(r, &v, 1, 0));
		EXPECT_EQ(2, lfq_vyukov_size(r));
		lfq_ring_destroy(r);
	}
}

/* Only a lower bound: a loaded machine may take any time longer. */
TEST(small_timeout_on_full_and_empty_waits_then_etimedout)
{
	const int timeouts[] = { 20, 50 };
	unsigned int b, t;
	uint64_t v[2] = { 1, 2 };
	double t0, ms;

	for (b = 0; b < 2; b++) {
		struct lfq_ring *r = ring_new(2, 8, both_mems[b]);

		ASSERT_NE(NULL, r);
		for (t = 0; t < 2; t++) {
			int to = timeouts[t];

			t0 = now_ms();
			EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop(r, v, to));
			ms = now_ms() - t0;
			EXPECT_LE(to * 0.8, ms) TH_LOG("pop(%d ms) took %.2f ms", to, ms);

			t0 = now_ms();
			EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop_burst(r, v, 2, to));
			ms = now_ms() - t0;
			EXPECT_LE(to * 0.8, ms) TH_LOG("pop_burst(%d ms) took %.2f ms", to, ms);

			ASSERT_EQ(2, lfq_vyukov_try_push_burst(r, v, 2));
			t0 = now_ms();
			EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push(r, v, to));
			ms = now_ms() - t0;
			EXPECT_LE(to * 0.8, ms) TH_LOG("push(%d ms) took %.2f ms", to, ms);

			t0 = now_ms();
			EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push_burst(r, v, 2, to));
			ms = now_ms() - t0;
			EXPECT_LE(to * 0.8, ms) TH_LOG("push_burst(%d ms) took %.2f ms", to, ms);
			ASSERT_EQ(2, lfq_vyukov_try_pop_burst(r, v, 2));
		}
		lfq_ring_destroy(r);
	}
}

/* ---- wake-ups ------------------------------------------------------------- */

/* The hand-off threads of unit_util.h, on a ring of each kind. */

TEST(blocked_pop_is_woken_by_push)
{
	unsigned int kind, i;
	uint64_t x = 7, v;

	alarm(20);	/* a lost wake-up ends here (SIGALRM), as a failure */
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring a;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_new(&a, kind, 4, 8));
		waiters = a.hdr ? &a.hdr->not_empty.waiters : NULL;
		ASSERT_EQ(0, handoff_start(&h, a.ring, handoff_popper));
		for (i = 0; i < h.n; i++) {
			handoff_wait(&h, i, waiters, &x);
			v = i;
			ASSERT_EQ(0, lfq_vyukov_push(a.ring, &v, -1));
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		EXPECT_TRUE(lfq_vyukov_empty(a.ring));
		if (a.hdr)
			EXPECT_EQ(0, a.hdr->not_empty.waiters);
		test_ring_free(&a);
	}
	alarm(0);
}

TEST(blocked_push_is_woken_by_pop)
{
	unsigned int kind, i;
	uint64_t x = 9, v;

	alarm(20);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring a;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_new(&a, kind, 2, 8));
		for (v = 0; v < 2; v++)
			ASSERT_EQ(0, lfq_vyukov_try_push(a.ring, &v));
		waiters = a.hdr ? &a.hdr->not_full.waiters : NULL;
		ASSERT_EQ(0, handoff_start(&h, a.ring, handoff_pusher));
		for (i = 0; i < h.n; i++) {
			/* the helper's push i + 2 now finds the ring full */
			handoff_wait(&h, i, waiters, &x);
			ASSERT_EQ(0, lfq_vyukov_pop(a.ring, &v, -1));
			ASSERT_EQ(i, v);
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		for (i = h.n; i < h.n + 2; i++) {
			ASSERT_EQ(0, lfq_vyukov_try_pop(a.ring, &v));
			EXPECT_EQ(i, v);
		}
		if (a.hdr)
			EXPECT_EQ(0, a.hdr->not_full.waiters);
		test_ring_free(&a);
	}
	alarm(0);
}

/*
 * Across processes on one memfd: a child attaches the inherited fd and
 * echoes every item back on a second ring; both sides sleep in pop(-1).
 */
TEST(blocked_pop_on_memfd_is_woken_from_another_process)
{
	struct lfq_ring *to = ring_new(4, 8, LFQ_MEM_MEMFD);
	struct lfq_ring *from = ring_new(4, 8, LFQ_MEM_MEMFD);

	ASSERT_NE(NULL, to);
	ASSERT_NE(NULL, from);
	alarm(20);
	echo_across_fork(_metadata, to, from, echo_items);
	alarm(0);
	lfq_ring_destroy(to);
	lfq_ring_destroy(from);
}

TEST(wait_begin_reports_ready_events_and_counts_waiters)
{
	struct test_ring m;
	uint64_t v = 1;

	ASSERT_EQ(0, test_ring_new(&m, T_MEM, 2, 8));
	expect_wait_counts_on_empty(_metadata, &m);
	ASSERT_EQ(0, lfq_vyukov_try_push(m.ring, &v));
	ASSERT_EQ(0, lfq_vyukov_try_push(m.ring, &v));
	EXPECT_EQ(POLLIN, lfq_ring_wait_begin(m.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(m.ring, POLLIN | POLLOUT);
	expect_wait_refuses_other_events(_metadata, &m);
	test_ring_free(&m);
}

/* ---- size, empty, full, drain ---------------------------------------------- */

TEST(size_empty_full_exact_at_every_fill_level)
{
	struct lfq_ring *r = ring_new(16, 8, LFQ_MEM_HEAP);
	unsigned int lap, k;
	uint64_t v = 0;

	ASSERT_NE(NULL, r);
	/* from position 0, then from positions in the middle of later laps */
	for (lap = 0; lap < 3; lap++) {
		for (k = 0; k <= 16; k++) {
			EXPECT_EQ(k, lfq_vyukov_size(r));
			EXPECT_EQ(k == 0, lfq_vyukov_empty(r));
			EXPECT_EQ(k == 16, lfq_vyukov_full(r));
			if (k < 16)
				ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
		}
		for (k = 16; k > 0; k--) {
			EXPECT_EQ(k, lfq_vyukov_size(r));
			EXPECT_FALSE(lfq_vyukov_empty(r));
			EXPECT_EQ(k == 16, lfq_vyukov_full(r));
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
		}
		EXPECT_EQ(0, lfq_vyukov_size(r));
		EXPECT_TRUE(lfq_vyukov_empty(r));
		for (k = 0; k < 7 + lap; k++) {
			ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
		}
	}
	lfq_ring_destroy(r);
}

struct collect {
	uint64_t v[64];
	unsigned int n;
	void *arg_seen;
};

static void collect_fn(void *elem, void *arg)
{
	struct collect *c = arg;

	c->arg_seen = arg;
	if (c->n < 64)
		memcpy(&c->v[c->n], elem, sizeof(uint64_t));
	c->n++;
}

TEST(drain_returns_remaining_in_order_and_leaves_ring_usable)
{
	struct lfq_ring *r = ring_new(8, 8, LFQ_MEM_HEAP);
	struct collect c = { .n = 0 };
	uint64_t v, i;

	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, lfq_vyukov_drain(r, collect_fn, &c));
	EXPECT_EQ(0, c.n);
	/* move the positions off zero so the drain crosses the wrap */
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, lfq_vyukov_try_push(r, &i));
		ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
	}
	for (i = 0; i < 5; i++) {
		v = 500 + i;
		ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
	}
	EXPECT_EQ(5, lfq_vyukov_drain(r, collect_fn, &c));
	ASSERT_EQ(5, c.n);
	EXPECT_EQ(&c, c.arg_seen);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(500 + i, c.v[i]);
	EXPECT_EQ(0, lfq_vyukov_size(r));
	EXPECT_TRUE(lfq_vyukov_empty(r));
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(r, &v));

	/* usable: a full lap in and out again, then a full ring drained */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, lfq_vyukov_try_push(r, &i));
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(r, &v));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
		EXPECT_EQ(i, v);
	}
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, lfq_vyukov_try_push(r, &i));
	c.n = 0;
	EXPECT_EQ(8, lfq_vyukov_drain(r, collect_fn, &c));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(i, c.v[i]);
	EXPECT_EQ(0, lfq_vyukov_size(r));
	EXPECT_EQ(-EINVAL, lfq_vyukov_drain(r, NULL, NULL));
	EXPECT_EQ(-EINVAL, lfq_vyukov_drain(NULL, collect_fn, &c));
	lfq_ring_destroy(r);
}

/* ---- parameters ------------------------------------------------------------ */

TEST(invalid_capacity_returns_einval)
{
	const uint32_t bad[] = { 0, 1, 3, 6, 1000, LFQ_CAPACITY_MAX + 1,
				 LFQ_CAPACITY_MAX << 1, UINT32_MAX };
	struct lfq_create p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = ring_params(bad[i], 8);
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	/* the limits themselves are fine (sizes only: 2^30 slots is 64 GiB) */
	p = ring_params(2, 8);
	EXPECT_LT(0, lfq_ring_mem_size(&p));
	p = ring_params(LFQ_CAPACITY_MAX, 8);
	EXPECT_LT(0, lfq_ring_mem_size(&p));
}

TEST(invalid_elem_size_returns_einval)
{
	const uint32_t bad[] = { 0, LFQ_ELEM_MAX + 1, UINT32_MAX };
	struct lfq_create p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = ring_params(4, bad[i]);
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
}

TEST(elem_sizes_work_and_stride_is_whole_cachelines)
{
	const uint32_t sizes[] = { 1, 7, 8, 56, 57, 4096, LFQ_ELEM_MAX };
	unsigned int s, b, i;
	uint8_t *in, *out;

	in = malloc(3 * (size_t)LFQ_ELEM_MAX);
	out = malloc(3 * (size_t)LFQ_ELEM_MAX);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t es = sizes[s];

		for (b = 0; b < 2; b++) {
			struct lfq_ring *r = ring_new(4, es, both_mems[b]);
			const struct lfq_info *info;

			ASSERT_NE(NULL, r) TH_LOG("elem_size %u", es);
			info = lfq_ring_info(r);
			EXPECT_EQ(es, info->elem_size);
			EXPECT_EQ(LFQ_STRIDE(LFQ_VYUKOV_SLOT_HDR, es),
				  info->slot_stride);
			EXPECT_EQ(0, info->slot_stride % 64);
			EXPECT_LE(8 + es, info->slot_stride);
			EXPECT_GT(8 + es + 64, info->slot_stride);
			EXPECT_LE(info->slots_off + 4ULL * info->slot_stride,
				  info->ring_size);
			/* three distinct elements, packed, through a burst */
			for (i = 0; i < 3 * es; i++)
				in[i] = (uint8_t)(i * 7 + es + i / es);
			memset(out, 0, 3 * (size_t)es);
			ASSERT_EQ(3, lfq_vyukov_try_push_burst(r, in, 3));
			ASSERT_EQ(0, lfq_vyukov_try_pop(r, out));
			ASSERT_EQ(2, lfq_vyukov_pop_burst(r, out + es, 4, 0));
			EXPECT_EQ(0, memcmp(in, out, 3 * (size_t)es))
				TH_LOG("elem_size %u", es);
			lfq_ring_destroy(r);
		}
	}
	free(in);
	free(out);
}

TEST(nonzero_reserved_unknown_flags_type_policy_return_einval)
{
	struct lfq_create p;
	unsigned int i;

	p = ring_params(4, 8);
	p.__pad = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	for (i = 0; i < 3; i++) {
		p = ring_params(4, 8);
		p.__resv[i] = 1ULL << 63;
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	p = ring_params(4, 8);
	p.flags = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p.flags = 1U << 31;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, 8);
	p.policy = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p.policy = UINT32_MAX;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, 8);
	p.type = 0;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p.type = 99;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p.type = UINT32_MAX;
	expect_all_refuse(_metadata, &p, -EINVAL);
}

TEST(null_arguments_and_unknown_memory_return_einval)
{
	struct lfq_create p = ring_params(4, 8);
	struct lfq_ring *r = NULL;
	uint64_t v = 0;

	EXPECT_EQ(-EINVAL, lfq_ring_create(NULL, &p, LFQ_MEM_HEAP));
	EXPECT_EQ(-EINVAL, lfq_ring_create(&r, NULL, LFQ_MEM_HEAP));
	EXPECT_EQ(-EINVAL, lfq_ring_create(&r, &p, (enum lfq_mem)7));
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(-EINVAL, lfq_ring_attach(NULL, 0));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push(NULL, &v, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop(NULL, &v, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push_burst(NULL, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop_burst(NULL, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push_burst(NULL, &v, 1, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop_burst(NULL, &v, 1, -1));
	lfq_ring_destroy(NULL);
}

/*
 * A handle whose type is not LFQ_RING_VYUKOV: only one ring type exists
 * today, so change the validated copy lfq_ring_info() points into.
 */
TEST(vyukov_op_on_other_ring_type_returns_einval)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	struct lfq_info *info;
	struct collect c = { .n = 0 };
	uint64_t v = 5;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, lfq_vyukov_try_push(r, &v));
	info = (struct lfq_info *)lfq_ring_info(r);
	info->type = LFQ_RING_TURN;
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push(r, &v));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop(r, &v));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push(r, &v, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop(r, &v, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push_burst(r, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop_burst(r, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push_burst(r, &v, 1, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop_burst(r, &v, 1, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_drain(r, collect_fn, &c));
	info->type = LFQ_RING_VYUKOV;
	EXPECT_EQ(1, lfq_vyukov_size(r));
	ASSERT_EQ(0, lfq_vyukov_try_pop(r, &v));
	EXPECT_EQ(5, v);
	lfq_ring_destroy(r);
}

TEST(mem_size_bad_params_return_einval_good_ones_the_layout)
{
	const uint32_t caps[] = { 2, 64, 1024 };
	const uint32_t sizes[] = { 1, 24, 100, 4096 };
	struct lfq_create p = ring_params(3, 8);
	unsigned int c, s;

	EXPECT_EQ(-EINVAL, lfq_ring_mem_size(&p));
	p = ring_params(4, 0);
	EXPECT_EQ(-EINVAL, lfq_ring_mem_size(&p));
	for (c = 0; c < 3; c++) {
		for (s = 0; s < 4; s++) {
			struct lfq_ring *r;
			const struct lfq_info *i;

			p = ring_params(caps[c], sizes[s]);
			r = ring_new(caps[c], sizes[s], LFQ_MEM_HEAP);
			ASSERT_NE(NULL, r);
			i = lfq_ring_info(r);
			EXPECT_EQ((ssize_t)(i->desc_size + i->ring_size),
				  lfq_ring_mem_size(&p));
			lfq_ring_destroy(r);
		}
	}
}

TEST(create_mem_too_small_enospc_misaligned_einval)
{
	struct lfq_create p = ring_params(8, 8);
	struct lfq_ring *r = NULL;
	ssize_t size = lfq_ring_mem_size(&p);
	uint8_t *mem, guard[256];
	void *alloc = NULL;
	uint64_t v[3] = { 1, 2, 3 };
	unsigned int off;

	ASSERT_LT(0, size);
	ASSERT_EQ(0, posix_memalign(&alloc, 4096, (size_t)size + 4096));
	mem = alloc;
	EXPECT_EQ(-ENOSPC, lfq_ring_create_mem(&r, &p, mem, (size_t)size - 1));
	EXPECT_EQ(-ENOSPC, lfq_ring_create_mem(&r, &p, mem, 0));
	for (off = 1; off < 64; off += off < 8 ? 1 : 8)
		EXPECT_EQ(-EINVAL, lfq_ring_create_mem(&r, &p, mem + off,
						       (size_t)size))
			TH_LOG("offset %u", off);
	EXPECT_EQ(-EINVAL, lfq_ring_create_mem(&r, &p, NULL, (size_t)size));
	EXPECT_EQ(-EINVAL, lfq_ring_create_mem(&r, NULL, mem, (size_t)size));
	EXPECT_EQ(-EINVAL, lfq_ring_create_mem(NULL, &p, mem, (size_t)size));
	EXPECT_EQ(NULL, r);

	/* cache-line alignment is enough; nothing is written past size */
	memset(guard, 0xa5, sizeof(guard));
	memset(mem + 64 + size, 0xa5, sizeof(guard));
	memset(mem, 0xff, (size_t)size + 64);
	ASSERT_EQ(0, lfq_ring_create_mem(&r, &p, mem + 64, (size_t)size));
	EXPECT_EQ(-1, lfq_ring_fd(r));
	ASSERT_EQ(0, lfq_vyukov_try_push(r, v));
	ASSERT_EQ(0, lfq_vyukov_try_push(r, v + 1));
	ASSERT_EQ(0, lfq_vyukov_try_pop(r, v + 2));
	EXPECT_EQ(1, v[2]);
	EXPECT_EQ(1, lfq_vyukov_size(r));
	EXPECT_EQ(0, memcmp(guard, mem + 64 + size, sizeof(guard)));
	/* the descriptor page holds the info, as in a memfd */
	EXPECT_EQ(0, memcmp(lfq_ring_info(r), mem + 64, sizeof(struct lfq_info)));
	lfq_ring_destroy(r);
	free(mem);
}

/* ---- the retry limit and corruption ----------------------------------------- */

/*
 * head moved back under a pushed item: the slot at head is neither free
 * (seq == pos) nor a lap behind (full). try_push must give up after its
 * bounded retries, as -ENOSPC, not spin; a timed push must time out.
 */
TEST(stale_head_try_push_gives_up_with_enospc)
{
	struct test_ring m;
	uint64_t v = 1;
	double t0, ms;

	ASSERT_EQ(0, test_ring_new(&m, T_MEM, 4, 8));
	ASSERT_EQ(0, lfq_vyukov_try_push(m.ring, &v));
	ASSERT_EQ(1, m.hdr->head);
	m.hdr->head = 0;
	alarm(10);
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(m.ring, &v));
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push_burst(m.ring, &v, 1));
	EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push(m.ring, &v, 0));
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_push(m.ring, &v, 30));
	ms = now_ms() - t0;
	EXPECT_LE(20, ms);
	alarm(0);
	/* a lost race is not corruption */
	EXPECT_EQ(0, lfq_ring_errors(m.ring));
	/* put head back: the ring works again */
	m.hdr->head = 1;
	ASSERT_EQ(0, lfq_vyukov_try_pop(m.ring, &v));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, lfq_vyukov_try_push(m.ring, &v));
	test_ring_free(&m);
}

TEST(stale_tail_try_pop_gives_up_with_eagain)
{
	struct test_ring m;
	uint64_t v[2] = { 1, 2 };
	double t0, ms;

	ASSERT_EQ(0, test_ring_new(&m, T_MEM, 4, 8));
	ASSERT_EQ(2, lfq_vyukov_try_push_burst(m.ring, v, 2));
	ASSERT_EQ(0, lfq_vyukov_try_pop(m.ring, v));
	/* tail back on the slot already popped: seq is a lap ahead */
	m.hdr->tail = 0;
	alarm(10);
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop_burst(m.ring, v, 2));
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_vyukov_pop(m.ring, v, 30));
	ms = now_ms() - t0;
	EXPECT_LE(20, ms);
	alarm(0);
	EXPECT_EQ(0, lfq_ring_errors(m.ring));
	m.hdr->tail = 1;
	ASSERT_EQ(0, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(2, v[0]);
	test_ring_free(&m);
}

/*
 * Positions five laps ahead of the slots' seqs: no correct ring shows a
 * seq more than a lap behind. Every verb returns -EIO at once (the
 * blocking ones too, they must not wait on a broken ring) and
 * lfq_ring_errors() counts each.
 */
TEST(slot_seq_more_than_a_lap_behind_returns_eio_and_counts)
{
	struct test_ring m;
	uint64_t v[2] = { 1, 2 }, pos;

	ASSERT_EQ(0, test_ring_new(&m, T_MEM, 4, 8));
	m.hdr->head = m.hdr->tail = 5 * 4;
	alarm(10);
	EXPECT_EQ(-EIO, lfq_vyukov_try_push(m.ring, v));
	EXPECT_EQ(1, lfq_ring_errors(m.ring));
	EXPECT_EQ(-EIO, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(2, lfq_ring_errors(m.ring));
	EXPECT_EQ(-EIO, lfq_vyukov_push(m.ring, v, -1));
	EXPECT_EQ(-EIO, lfq_vyukov_pop(m.ring, v, -1));
	EXPECT_EQ(-EIO, lfq_vyukov_push_burst(m.ring, v, 2, -1));
	EXPECT_EQ(-EIO, lfq_vyukov_pop_burst(m.ring, v, 2, -1));
	EXPECT_EQ(-EIO, lfq_vyukov_try_push_burst(m.ring, v, 2));
	EXPECT_EQ(-EIO, lfq_vyukov_try_pop_burst(m.ring, v, 2));
	EXPECT_EQ(8, lfq_ring_errors(m.ring));
	alarm(0);
	test_ring_free(&m);

	/*
	 * The boundary. push at pos: seq == pos - cap is a slot whose
	 * producer of the last lap has claimed it but not published yet
	 * (full, not corrupt); pos - cap - 1 is corrupt. pop at pos:
	 * seq == pos - cap + 1 is a slot whose consumer of the last lap has
	 * not released it yet (empty); pos - cap is corrupt (tail passed
	 * pos - cap, so its item was published).
	 */
	ASSERT_EQ(0, test_ring_new(&m, T_MEM, 4, 8));
	pos = 5 * 4 + 1;
	m.hdr->head = m.hdr->tail = pos;
	*slot_seq(m.hdr, m.info, pos) = pos - 4 + 1;
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(m.ring, v));
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(0, lfq_ring_errors(m.ring));
	*slot_seq(m.hdr, m.info, pos) = pos - 4;
	EXPECT_EQ(-ENOSPC, lfq_vyukov_try_push(m.ring, v));
	EXPECT_EQ(0, lfq_ring_errors(m.ring));
	EXPECT_EQ(-EIO, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(1, lfq_ring_errors(m.ring));
	*slot_seq(m.hdr, m.info, pos) = pos - 4 - 1;
	EXPECT_EQ(-EIO, lfq_vyukov_try_push(m.ring, v));
	EXPECT_EQ(-EIO, lfq_vyukov_try_pop(m.ring, v));
	EXPECT_EQ(3, lfq_ring_errors(m.ring));
	/* repaired: the slot free for pos again */
	*slot_seq(m.hdr, m.info, pos) = pos;
	ASSERT_EQ(0, lfq_vyukov_try_push(m.ring, v));
	ASSERT_EQ(0, lfq_vyukov_try_pop(m.ring, v + 1));
	EXPECT_EQ(1, v[1]);
	EXPECT_EQ(3, lfq_ring_errors(m.ring));
	test_ring_free(&m);
}

/* ---- sharing ----------------------------------------------------------------- */

TEST(memfd_attach_shares_the_ring)
{
	struct lfq_ring *a = ring_new(8, 24, LFQ_MEM_MEMFD), *b = NULL;
	uint8_t in[24], out[24];
	int i;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, lfq_ring_attach(&b, lfq_ring_fd(a)));
	ASSERT_NE(NULL, b);
	EXPECT_NE(lfq_ring_fd(a), lfq_ring_fd(b));	/* its own fd */
	EXPECT_EQ(0, memcmp(lfq_ring_info(a), lfq_ring_info(b),
			    sizeof(struct lfq_info)));
	for (i = 0; i < 20; i++) {
		memset(in, i, sizeof(in));
		ASSERT_EQ(0, lfq_vyukov_try_push(i % 2 ? a : b, in));
		EXPECT_EQ(1, lfq_vyukov_size(a));
		EXPECT_EQ(1, lfq_vyukov_size(b));
		ASSERT_EQ(0, lfq_vyukov_try_pop(i % 2 ? b : a, out));
		EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	}
	/* b stays valid when a goes */
	memset(in, 0x5a, sizeof(in));
	ASSERT_EQ(0, lfq_vyukov_try_push(a, in));
	lfq_ring_destroy(a);
	ASSERT_EQ(0, lfq_vyukov_try_pop(b, out));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(b, out));
	lfq_ring_destroy(b);
}

/* A memfd of size bytes starting with data, sealed like a ring's. */
static int memfd_with(const void *data, size_t len, size_t size, bool seal)
{
	int fd = memfd_create("lfq-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) ||
	    (len && pwrite(fd, data, len, 0) != (ssize_t)len) ||
	    (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Attach must refuse fd with a negative errno, and leave fd open. */
static void expect_attach_refused(struct __test_metadata *_metadata, int fd,
				  const char *what)
{
	struct lfq_ring *r = NULL;
	int ret;

	ASSERT_LE(0, fd) TH_LOG("%s", what);
	ret = lfq_ring_attach(&r, fd);
	EXPECT_GT(0, ret) TH_LOG("%s: attach returned %d", what, ret);
	EXPECT_EQ(NULL, r) TH_LOG("%s", what);
	EXPECT_LE(0, fcntl(fd, F_GETFD)) TH_LOG("%s: fd closed", what);
	if (ret == 0)
		lfq_ring_destroy(r);
	close(fd);
}

TEST(attach_rejects_what_is_not_a_ring)
{
	struct lfq_ring *good = ring_new(8, 24, LFQ_MEM_MEMFD), *r = NULL;
	const struct lfq_info *gi;
	struct lfq_desc desc;
	uint8_t *page;
	int pfd[2];
	size_t full;

	ASSERT_NE(NULL, good);
	gi = lfq_ring_info(good);
	full = gi->desc_size + gi->ring_size;
	page = calloc(1, gi->desc_size);
	ASSERT_NE(NULL, page);
	ASSERT_EQ(sizeof(desc), pread(lfq_ring_fd(good), &desc, sizeof(desc), 0));

	EXPECT_EQ(-EBADF, lfq_ring_attach(&r, -1));
	EXPECT_EQ(-EBADF, lfq_ring_attach(&r, 12345));
	ASSERT_EQ(0, pipe(pfd));
	close(pfd[1]);
	expect_attach_refused(_metadata, pfd[0], "pipe");
	expect_attach_refused(_metadata, open("/dev/null", O_RDWR), "/dev/null");
	expect_attach_refused(_metadata, memfd_with(NULL, 0, 0, true), "empty memfd");
	expect_attach_refused(_metadata, memfd_with(NULL, 0, 100, true),
			      "100-byte memfd");
	expect_attach_refused(_metadata, memfd_with(NULL, 0, full, true),
			      "zeroed memfd (bad magic)");
	/* a real descriptor over too little memory */
	expect_attach_refused(_metadata,
			      memfd_with(&desc, sizeof(desc), gi->desc_size, true),
			      "descriptor page only");
	expect_attach_refused(_metadata,
			      memfd_with(&desc, sizeof(desc), full - 1, true),
			      "one byte short");
	{
		struct lfq_desc d = desc;

		d.info.magic ^= 1;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "bad magic");
		d = desc;
		d.info.abi_version++;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "other ABI version");
		d = desc;
		d.info.slot_stride += 64;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "stride disagrees with elem_size");
		d = desc;
		d.info.capacity = 6;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "capacity not a power of two");
		d = desc;
		d.info.type = 0;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "unknown type");
		d = desc;
		d.info.ring_off = 0;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "ring over the descriptor");
		d = desc;
		d.info.ring_size *= 2;
		expect_attach_refused(_metadata, memfd_with(&d, sizeof(d), full, true),
				      "ring_size disagrees");
	}
	/* and the real one, copied whole, attaches */
	{
		uint8_t *all = malloc(full);
		int fd;

		ASSERT_NE(NULL, all);
		ASSERT_EQ((ssize_t)full, pread(lfq_ring_fd(good), all, full, 0));
		/* not sealed against shrinking: a peer could SIGBUS us */
		expect_attach_refused(_metadata, memfd_with(all, full, full, false),
				      "unsealed copy");
		fd = memfd_with(all, full, full, true);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, lfq_ring_attach(&r, fd));
		EXPECT_EQ(8, lfq_ring_info(r)->capacity);
		lfq_ring_destroy(r);
		close(fd);
		free(all);
	}
	free(page);
	lfq_ring_destroy(good);
}

TEST_HARNESS_MAIN
