// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of liblfq's turn ring: every operation and every error, on
 * heap rings mostly, and on memfd and caller-memory (lfq_ring_create_mem)
 * rings where the layout matters.
 *
 * Tests that need the shared words (skipped tickets, corruption, forged
 * reservations, clamping, the wake-up tests that wait for a sleeper to
 * announce itself) use caller memory or map the memfd a second time: the
 * ring header is at info.desc_size, slot p at info.slots_off +
 * (p & (capacity - 1)) * info.slot_stride inside it, its turn first and
 * the element from byte LFQ_TURN_SLOT_HDR (<linux/lfq.h>).
 *
 * A dead producer is emulated as the module would leave it: a ticket
 * taken from head with a raw fetch_add, and, once its slot comes round,
 * the turn (2 * lap + 1) | LFQ_TURN_SKIPPED.
 *
 * Threaded tests are bounded by alarm(): a lost wake-up kills the test
 * with SIGALRM, a failure, instead of hanging.
 */
#define _GNU_SOURCE
/* The ring under test, for unit_util.h. */
#define UNIT_TYPE		LFQ_RING_TURN
#define UNIT_HDR		struct lfq_turn_hdr
#define UNIT_PUSH(r, e)		lfq_turn_push(r, e)
#define UNIT_POP(r, e)		lfq_turn_pop(r, e)
#include "unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

/* The ring region, for memcmp() snapshots. */
static void *test_ring_region(const struct test_ring *t)
{
	return t->hdr;
}

static uint64_t *slot_turn(const struct test_ring *t, uint64_t pos)
{
	return (uint64_t *)((uint8_t *)t->hdr + t->info->slots_off +
			    (pos & (t->info->capacity - 1)) *
			    t->info->slot_stride);
}

static void *slot_elem(const struct test_ring *t, uint64_t pos)
{
	return (uint8_t *)slot_turn(t, pos) + LFQ_TURN_SLOT_HDR;
}

/*
 * Is elem, from a reservation of ticket pos, the element of pos's slot?
 * In caller memory the very address; through the library's own mapping
 * of a memfd, the same bytes: a mark written through one shows through
 * the other.
 */
static bool is_slot_elem(const struct test_ring *t, uint64_t pos, void *elem)
{
	volatile uint8_t *ours = slot_elem(t, pos), *theirs = elem;
	uint8_t save = *theirs;
	bool same;

	if (t->mem)
		return elem == slot_elem(t, pos);
	*theirs = (uint8_t)~*ours;
	same = *ours == *theirs;
	*theirs = save;
	return same;
}

/* 2 * lap of ticket pos: the turn at which its producer may write. */
static uint64_t turn_of(const struct test_ring *t, uint64_t pos)
{
	return pos / t->info->capacity * 2;
}

static uint64_t load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * A producer that took a ticket and died, as the module repairs it:
 * fetch_add on head, then, once the slot is free for that ticket, its
 * consumer's turn with LFQ_TURN_SKIPPED. The ticket, or UINT64_MAX if
 * its slot was not free for it (the test then fails).
 */
static uint64_t skip_ticket(const struct test_ring *t)
{
	uint64_t pos = __atomic_fetch_add(&t->hdr->head, 1, __ATOMIC_RELAXED);

	if (load64(slot_turn(t, pos)) != turn_of(t, pos))
		return UINT64_MAX;
	__atomic_store_n(slot_turn(t, pos),
			 (turn_of(t, pos) + 1) | LFQ_TURN_SKIPPED,
			 __ATOMIC_RELEASE);
	return pos;
}

/* Move head and tail of an empty ring to pos, with every turn to match. */
static void test_ring_seek(struct test_ring *t, uint64_t pos)
{
	uint64_t i;

	t->hdr->head = t->hdr->tail = pos;
	for (i = pos; i < pos + t->info->capacity; i++)
		*slot_turn(t, i) = turn_of(t, i);
}

static uint8_t pattern(uint64_t ticket, size_t i)
{
	return (uint8_t)(ticket * 131 + i * 7 + (i >> 8));
}

static void fill(void *elem, size_t n, uint64_t ticket)
{
	uint8_t *b = elem;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = pattern(ticket, i);
}

static bool filled(const void *elem, size_t n, uint64_t ticket)
{
	const uint8_t *b = elem;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != pattern(ticket, i))
			return false;
	return true;
}

/*
 * The verbs that move one item: try_, blocking, and in place with a
 * reservation, copied in or out and committed, taken with try_ or
 * waiting.
 */
enum { V_TRY, V_WAIT, V_TRY_RESERVE, V_RESERVE, V_VERBS };

/* Push *v with verb: 0, or the first error. */
static int push_by(struct lfq_ring *r, int verb, const uint64_t *v)
{
	struct lfq_turn_ref ref;
	int ret;

	if (verb == V_TRY)
		return lfq_turn_try_push(r, v);
	if (verb == V_WAIT)
		return lfq_turn_push(r, v);
	ret = verb == V_TRY_RESERVE ? lfq_turn_try_push_reserve(r, &ref) :
				      lfq_turn_push_reserve(r, &ref);
	if (ret)
		return ret;
	memcpy(ref.elem, v, sizeof(*v));
	return lfq_turn_push_commit(r, &ref);
}

/*
 * Pop into *v with verb: 0, or the first error. The reserve verbs store
 * the reservation's ticket in *ticket, if not NULL.
 */
static int pop_by(struct lfq_ring *r, int verb, uint64_t *v, uint64_t *ticket)
{
	struct lfq_turn_ref ref;
	int ret;

	if (verb == V_TRY)
		return lfq_turn_try_pop(r, v);
	if (verb == V_WAIT)
		return lfq_turn_pop(r, v);
	ret = verb == V_TRY_RESERVE ? lfq_turn_try_pop_reserve(r, &ref) :
				      lfq_turn_pop_reserve(r, &ref);
	if (ret)
		return ret;
	if (ticket)
		*ticket = ref.ticket;
	memcpy(v, ref.elem, sizeof(*v));
	return lfq_turn_pop_commit(r, &ref);
}

/* n items in and out again: head and tail move on by n. */
static void pass_items(struct __test_metadata *_metadata, struct lfq_ring *r,
		       uint64_t n)
{
	uint64_t i, v;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lfq_turn_try_push(r, &i));
		ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
	}
}

/*
 * An empty ring works: a full lap of items base, base + 1, ... goes in,
 * one more does not, and they come out in order.
 */
static void expect_full_lap(struct __test_metadata *_metadata,
			    struct lfq_ring *r, uint64_t base)
{
	uint32_t cap = lfq_ring_info(r)->capacity;
	uint64_t v, i;

	for (i = 0; i < cap; i++) {
		v = base + i;
		ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	}
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
	for (i = 0; i < cap; i++) {
		ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
		EXPECT_EQ(base + i, v);
	}
}

/* ---- geometry and layout ------------------------------------------------ */

TEST(create_reports_turn_geometry_and_claim_records)
{
	const uint32_t caps[] = { 2, 64, 1024 };
	const uint32_t sizes[] = { 1, 24, 56, 57, 100, 4096, LFQ_ELEM_MAX };
	long page = sysconf(_SC_PAGESIZE);
	unsigned int c, s, b;

	for (c = 0; c < 3; c++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (b = 0; b < 2; b++) {
				struct lfq_create p = ring_params(caps[c], sizes[s]);
				struct lfq_ring *r;
				const struct lfq_info *i;
				uint64_t stride, claims_end;

				if (caps[c] * (uint64_t)sizes[s] > (16 << 20))
					continue;
				r = ring_new(caps[c], sizes[s], both_mems[b]);
				ASSERT_NE(NULL, r) TH_LOG("cap %u elem %u",
							  caps[c], sizes[s]);
				i = lfq_ring_info(r);
				stride = LFQ_STRIDE(LFQ_TURN_SLOT_HDR, sizes[s]);
				EXPECT_EQ(LFQ_MAGIC, i->magic);
				EXPECT_EQ(LFQ_ABI_VERSION, i->abi_version);
				EXPECT_EQ(LFQ_RING_TURN, i->type);
				EXPECT_EQ(0, i->flags);
				EXPECT_EQ(0, i->policy);
				EXPECT_EQ(caps[c], i->capacity);
				EXPECT_EQ(sizes[s], i->elem_size);
				EXPECT_EQ(stride, i->slot_stride);
				EXPECT_EQ(0, i->slot_stride % 64);
				EXPECT_LE(8 + sizes[s], i->slot_stride);
				EXPECT_GT(8 + sizes[s] + 64, i->slot_stride);
				EXPECT_EQ(page, i->desc_size);
				EXPECT_EQ(i->desc_size, i->ring_off);
				EXPECT_EQ(LFQ_TURN_SLOTS_OFF, i->slots_off);
				/* claim records right after the slots */
				EXPECT_EQ(LFQ_CLAIMS, i->nr_claims);
				EXPECT_EQ(i->slots_off + caps[c] * stride,
					  i->claims_off);
				EXPECT_EQ(0, i->claims_off % 64);
				claims_end = i->claims_off + (uint64_t)LFQ_CLAIMS *
					     sizeof(struct lfq_claim);
				EXPECT_LE(claims_end, i->ring_size);
				EXPECT_GT(claims_end + page, i->ring_size);
				EXPECT_EQ(0, i->ring_size % page);
				EXPECT_EQ((ssize_t)(i->desc_size + i->ring_size),
					  lfq_ring_mem_size(&p));
				EXPECT_EQ(0, lfq_ring_errors(r));
				EXPECT_EQ(0, lfq_turn_size(r));
				EXPECT_TRUE(lfq_turn_empty(r));
				EXPECT_FALSE(lfq_turn_full(r));
				if (both_mems[b] == LFQ_MEM_HEAP) {
					EXPECT_EQ(-1, lfq_ring_fd(r));
				} else {
					EXPECT_LE(0, lfq_ring_fd(r));
				}
				lfq_ring_destroy(r);
			}
		}
	}
}

TEST(memfd_describes_itself_in_its_first_page_and_attach_agrees)
{
	struct lfq_ring *r = ring_new(8, 100, LFQ_MEM_MEMFD), *b = NULL;
	struct lfq_desc desc;

	ASSERT_NE(NULL, r);
	expect_memfd_describes_itself(_metadata, r, &desc);
	EXPECT_EQ(LFQ_CLAIMS, desc.info.nr_claims);
	EXPECT_EQ(0, desc.skipped);
	EXPECT_EQ(0, desc.dropped);
	EXPECT_EQ(0, desc.unresolved);
	ASSERT_EQ(0, lfq_ring_attach(&b, lfq_ring_fd(r)));
	EXPECT_EQ(0, memcmp(lfq_ring_info(r), lfq_ring_info(b),
			    sizeof(struct lfq_info)));
	EXPECT_EQ(LFQ_RING_TURN, lfq_ring_info(b)->type);
	lfq_ring_destroy(b);
	lfq_ring_destroy(r);
}

/*
 * A new ring is all zeroes: head, tail, wait words, every turn 0 (free
 * for the tickets of lap 0) and every claim record idle; the header
 * offsets are those of struct lfq_turn_hdr.
 */
TEST(new_ring_is_zeroed_and_laid_out_as_the_uapi_says)
{
	unsigned int kind;

	for (kind = T_MEMFD; kind < T_KINDS; kind++) {
		struct test_ring t;
		const struct lfq_claim *claims;
		uint64_t i;

		ASSERT_EQ(0, test_ring_new(&t, kind, 16, 40));
		EXPECT_EQ(0, t.hdr->head);
		EXPECT_EQ(0, t.hdr->tail);
		EXPECT_EQ(0, t.hdr->not_empty.waiters);
		EXPECT_EQ(0, t.hdr->not_empty.futex);
		EXPECT_EQ(0, t.hdr->not_full.waiters);
		EXPECT_EQ(0, t.hdr->not_full.futex);
		EXPECT_EQ(64, offsetof(struct lfq_turn_hdr, tail));
		EXPECT_EQ(128, offsetof(struct lfq_turn_hdr, not_empty));
		EXPECT_EQ(192, offsetof(struct lfq_turn_hdr, not_full));
		EXPECT_EQ(LFQ_TURN_SLOTS_OFF, sizeof(struct lfq_turn_hdr));
		EXPECT_EQ(64, sizeof(struct lfq_claim));
		for (i = 0; i < 16; i++)
			EXPECT_EQ(0, *slot_turn(&t, i));
		claims = (const void *)((uint8_t *)t.hdr + t.info->claims_off);
		for (i = 0; i < t.info->nr_claims; i++) {
			EXPECT_EQ(LFQ_CLAIM_IDLE, claims[i].state);
			EXPECT_EQ(0, claims[i].pos);
		}
		/* the element of slot p is where a reservation points */
		{
			struct lfq_turn_ref ref;

			ASSERT_EQ(0, lfq_turn_try_push_reserve(t.ring, &ref));
			EXPECT_EQ(0, ref.ticket);
			EXPECT_TRUE(is_slot_elem(&t, 0, ref.elem));
			EXPECT_EQ(0, (uintptr_t)ref.elem % 8);
			ASSERT_EQ(0, lfq_turn_push_commit(t.ring, &ref));
			EXPECT_EQ(1, *slot_turn(&t, 0));
			EXPECT_EQ(1, t.hdr->head);
		}
		test_ring_free(&t);
	}
}

/*
 * Operations write the ring region's header and slots only: the
 * descriptor, the claim records (a handle that never joined has none)
 * and the memory past the ring stay as they were.
 */
TEST(operations_write_only_header_and_slots)
{
	struct lfq_create p = ring_params(8, 24);
	ssize_t size = lfq_ring_mem_size(&p);
	uint8_t *mem, *desc_copy, *claims_copy, guard[512];
	const struct lfq_info *info;
	struct lfq_ring *r = NULL;
	struct lfq_turn_ref ref;
	void *alloc = NULL;
	size_t claims_len;
	uint64_t v[3] = { 0 }, i;

	ASSERT_LT(0, size);
	ASSERT_EQ(0, posix_memalign(&alloc, 4096, (size_t)size + sizeof(guard)));
	mem = alloc;
	memset(guard, 0xa5, sizeof(guard));
	memcpy(mem + size, guard, sizeof(guard));
	ASSERT_EQ(0, lfq_ring_create_mem(&r, &p, mem, (size_t)size));
	info = lfq_ring_info(r);
	EXPECT_EQ(-1, lfq_ring_fd(r));
	/* the descriptor page holds the info, as in a memfd */
	EXPECT_EQ(0, memcmp(info, mem, sizeof(*info)));
	desc_copy = malloc(info->desc_size);
	claims_len = info->ring_size - info->claims_off;
	claims_copy = malloc(claims_len);
	ASSERT_NE(NULL, desc_copy);
	ASSERT_NE(NULL, claims_copy);
	memcpy(desc_copy, mem, info->desc_size);
	memcpy(claims_copy, mem + info->desc_size + info->claims_off,
	       claims_len);
	for (i = 0; i < 100; i++) {
		v[0] = i;
		ASSERT_EQ(0, lfq_turn_try_push(r, v));
		ASSERT_EQ(0, lfq_turn_push(r, v));
		ASSERT_EQ(0, lfq_turn_push_reserve(r, &ref));
		memcpy(ref.elem, v, sizeof(v));
		ASSERT_EQ(0, lfq_turn_push_commit(r, &ref));
		ASSERT_EQ(0, lfq_turn_try_pop(r, v));
		ASSERT_EQ(0, lfq_turn_pop(r, v));
		ASSERT_EQ(0, lfq_turn_try_pop_reserve(r, &ref));
		ASSERT_EQ(0, lfq_turn_pop_commit(r, &ref));
		EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(r, v));
	}
	EXPECT_EQ(0, memcmp(desc_copy, mem, info->desc_size));
	EXPECT_EQ(0, memcmp(claims_copy, mem + info->desc_size + info->claims_off,
			    claims_len));
	EXPECT_EQ(0, memcmp(guard, mem + size, sizeof(guard)));
	lfq_ring_destroy(r);
	free(claims_copy);
	free(desc_copy);
	free(mem);
}

TEST(mem_size_counts_the_claim_records)
{
	const uint32_t caps[] = { 2, 64, 1024 };
	const uint32_t sizes[] = { 1, 24, 100, 4096 };
	long page = sysconf(_SC_PAGESIZE);
	unsigned int c, s;

	for (c = 0; c < 3; c++) {
		for (s = 0; s < 4; s++) {
			struct lfq_create p = ring_params(caps[c], sizes[s]);
			struct lfq_create v = p;
			uint64_t end = LFQ_TURN_SLOTS_OFF +
				       (uint64_t)caps[c] *
				       LFQ_STRIDE(LFQ_TURN_SLOT_HDR, sizes[s]) +
				       LFQ_CLAIMS * sizeof(struct lfq_claim);

			end = (end + page - 1) / page * page;
			EXPECT_EQ((ssize_t)(page + end), lfq_ring_mem_size(&p));
			/* the same geometry without claim records */
			v.type = LFQ_RING_VYUKOV;
			EXPECT_LE(lfq_ring_mem_size(&v), lfq_ring_mem_size(&p));
		}
	}
}

/* ---- basic semantics ---------------------------------------------------- */

TEST(fifo_order_single_thread_every_verb)
{
	unsigned int kind;
	uint64_t v, i;

	for (kind = 0; kind < T_KINDS; kind++) {
		struct test_ring t;

		ASSERT_EQ(0, test_ring_new(&t, kind, 8, sizeof(v)));
		for (i = 0; i < 8; i++) {
			v = 1000 + i;
			ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
		}
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
			EXPECT_EQ(1000 + i, v) TH_LOG("%s", kind_names[kind]);
		}
		/* the blocking forms, when they need not wait */
		for (i = 0; i < 8; i++) {
			v = 2000 + i;
			ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
		}
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
			EXPECT_EQ(2000 + i, v);
		}
		/* every verb interleaved: still one FIFO */
		for (i = 0; i < 8; i++) {
			v = 3000 + i;
			ASSERT_EQ(0, push_by(t.ring, i % V_VERBS, &v));
		}
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(0, pop_by(t.ring, (i + 1) % V_VERBS, &v, NULL));
			EXPECT_EQ(3000 + i, v);
		}
		EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
		if (t.hdr) {
			EXPECT_EQ(24, t.hdr->head);
			EXPECT_EQ(24, t.hdr->tail);
		}
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
}

TEST(try_push_fails_with_enospc_exactly_at_capacity)
{
	const uint32_t caps[] = { 2, 4, 64 };
	unsigned int c, lap;

	for (c = 0; c < 3; c++) {
		struct lfq_ring *r = ring_new(caps[c], 8, LFQ_MEM_HEAP);
		struct lfq_turn_ref ref = { .elem = NULL, .ticket = 77 };
		uint64_t v, i;

		ASSERT_NE(NULL, r);
		for (lap = 0; lap < 3; lap++) {
			for (i = 0; i < caps[c]; i++) {
				EXPECT_FALSE(lfq_turn_full(r));
				v = lap * 1000 + i;
				ASSERT_EQ(0, lfq_turn_try_push(r, &v))
					TH_LOG("cap %u lap %u push %" PRIu64,
					       caps[c], lap, i);
			}
			EXPECT_TRUE(lfq_turn_full(r));
			EXPECT_EQ(caps[c], lfq_turn_size(r));
			v = 99;
			EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
			EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
			EXPECT_EQ(-ENOSPC, lfq_turn_try_push_reserve(r, &ref));
			EXPECT_EQ(NULL, ref.elem);	/* untouched */
			EXPECT_EQ(77, ref.ticket);
			EXPECT_EQ(caps[c], lfq_turn_size(r));
			/* one slot freed: exactly one push fits again */
			ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
			EXPECT_EQ(lap * 1000, v);
			v = lap * 1000 + caps[c];
			ASSERT_EQ(0, lfq_turn_try_push(r, &v));
			EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
			/* the failed pushes left the contents alone */
			for (i = 1; i <= caps[c]; i++) {
				ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
				EXPECT_EQ(lap * 1000 + i, v);
			}
			EXPECT_TRUE(lfq_turn_empty(r));
		}
		EXPECT_EQ(0, lfq_ring_errors(r));
		lfq_ring_destroy(r);
	}
}

TEST(try_pop_on_empty_returns_eagain_and_writes_nothing)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	struct lfq_turn_ref ref = { .elem = &ref, .ticket = 5 };
	uint64_t v = 7;

	ASSERT_NE(NULL, r);
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(r, &v));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop_reserve(r, &ref));
	EXPECT_EQ(7, v);
	EXPECT_EQ(&ref, ref.elem);
	EXPECT_EQ(5, ref.ticket);
	ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
	v = 8;
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(r, &v));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop_reserve(r, &ref));
	EXPECT_EQ(8, v);
	EXPECT_TRUE(lfq_turn_empty(r));
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/*
 * Blocking push and pop take a ticket and wait for its turn; when the
 * turn is already there they return at once (alarm() catches a wait),
 * and they take consecutive tickets.
 */
TEST(blocking_push_and_pop_return_at_once_when_the_turn_is_there)
{
	struct test_ring t;
	uint64_t v, i;

	alarm(10);
	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	for (i = 0; i < 4 * 50; i++) {
		v = i;
		ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
		EXPECT_EQ(i + 1, t.hdr->head);
		if (i % 4 == 3) {
			uint64_t j;

			EXPECT_TRUE(lfq_turn_full(t.ring));
			for (j = i - 3; j <= i; j++) {
				ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
				EXPECT_EQ(j, v);
				EXPECT_EQ(j + 1, t.hdr->tail);
			}
		}
	}
	EXPECT_EQ(0, t.hdr->not_empty.waiters);
	EXPECT_EQ(0, t.hdr->not_full.waiters);
	EXPECT_EQ(0, t.hdr->not_empty.futex);	/* nobody ever slept */
	EXPECT_EQ(0, t.hdr->not_full.futex);
	alarm(0);
	test_ring_free(&t);
}

/*
 * Many laps: push and pop many times the capacity, so every slot's turn
 * goes round thousands of times; values and turns are checked.
 */
TEST(laps_wrap_turns_and_keep_values)
{
	uint64_t x = 1, next_in = 0, next_out = 0, v, i;
	unsigned int cycle, k, j;
	struct test_ring t;
	int verb;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	for (cycle = 0; cycle < 10000; cycle++) {
		k = 1 + rnd(&x) % 4;
		for (j = 0; j < k; j++) {
			v = next_in++ * 0x9e3779b97f4a7c15ULL;
			verb = rnd(&x) & 1 ? V_TRY : V_WAIT;
			ASSERT_EQ(0, push_by(t.ring, verb, &v));
		}
		EXPECT_EQ(k, lfq_turn_size(t.ring));
		for (j = 0; j < k; j++) {
			verb = rnd(&x) & 1 ? V_TRY : V_WAIT;
			ASSERT_EQ(0, pop_by(t.ring, verb, &v, NULL));
			ASSERT_EQ(next_out++ * 0x9e3779b97f4a7c15ULL, v);
		}
		ASSERT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
	}
	EXPECT_LT(4 * 2000, next_in);
	/* slot s was used by tickets s, s + 4, ... < next_in: 2 turns each */
	for (i = 0; i < 4; i++)
		EXPECT_EQ(2 * ((next_in - i + 3) / 4), *slot_turn(&t, i))
			TH_LOG("slot %" PRIu64, i);
	EXPECT_EQ(next_in, t.hdr->head);
	EXPECT_EQ(next_in, t.hdr->tail);
	test_ring_free(&t);

	/* the smallest ring, one-byte elements, never empty between pushes */
	{
		struct lfq_ring *r = ring_new(2, 1, LFQ_MEM_HEAP);
		uint8_t b = 0, out;

		ASSERT_NE(NULL, r);
		ASSERT_EQ(0, lfq_turn_try_push(r, &b));
		for (cycle = 1; cycle < 10000; cycle++) {
			b = (uint8_t)cycle;
			ASSERT_EQ(0, lfq_turn_try_push(r, &b));
			ASSERT_EQ(-ENOSPC, lfq_turn_try_push(r, &b));
			ASSERT_EQ(0, lfq_turn_try_pop(r, &out));
			ASSERT_EQ((uint8_t)(cycle - 1), out);
		}
		lfq_ring_destroy(r);
	}
}

/* Positions far from zero (laps in the 2^40s) need no reset. */
TEST(positions_far_from_zero_work)
{
	const uint64_t starts[] = { (1ULL << 42) + 3, (1ULL << 61) - 5 };
	unsigned int s;

	for (s = 0; s < 2; s++) {
		struct lfq_turn_ref ref;
		struct test_ring t;
		uint64_t v, i, pos = starts[s];

		ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
		test_ring_seek(&t, pos);
		EXPECT_EQ(0, lfq_turn_size(t.ring));
		EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
		for (i = 0; i < 8; i++) {
			v = i;
			ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
		}
		EXPECT_EQ(-ENOSPC, lfq_turn_try_push(t.ring, &v));
		EXPECT_TRUE(lfq_turn_full(t.ring));
		for (i = 0; i < 8 * 20; i++) {
			ASSERT_EQ(0, lfq_turn_pop_reserve(t.ring, &ref));
			EXPECT_EQ(pos + i, ref.ticket);
			memcpy(&v, ref.elem, sizeof(v));
			EXPECT_EQ(i, v);
			ASSERT_EQ(0, lfq_turn_pop_commit(t.ring, &ref));
			v = i + 8;
			ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
		}
		EXPECT_EQ(8, lfq_turn_size(t.ring));
		EXPECT_EQ(pos + 8 * 21, t.hdr->head);
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
}

/* ---- reserve and commit -------------------------------------------------- */

/*
 * In place, with the largest elements (LFQ_ELEM_MAX): the reservation
 * points into the slot of its ticket, the producer writes there, the
 * consumer reads the same bytes there, over several laps.
 */
TEST(reserve_commit_in_place_with_64k_elements)
{
	const size_t es = LFQ_ELEM_MAX;
	unsigned int kind;

	for (kind = T_MEMFD; kind < T_KINDS; kind++) {
		struct lfq_turn_ref in[4], out;
		struct test_ring t;
		uint64_t ticket = 0, popped = 0, lap, i;

		ASSERT_EQ(0, test_ring_new(&t, kind, 4, es));
		EXPECT_EQ(LFQ_STRIDE(LFQ_TURN_SLOT_HDR, es), t.info->slot_stride);
		for (lap = 0; lap < 4; lap++) {
			for (i = 0; i < 4; i++, ticket++) {
				if ((lap + i) % 2) {
					ASSERT_EQ(0, lfq_turn_push_reserve(t.ring,
									   &in[i]));
				} else {
					ASSERT_EQ(0, lfq_turn_try_push_reserve(
							     t.ring, &in[i]));
				}
				EXPECT_EQ(ticket, in[i].ticket);
				EXPECT_TRUE(is_slot_elem(&t, ticket, in[i].elem));
				EXPECT_EQ(0, (uintptr_t)in[i].elem % 8);
				fill(in[i].elem, es, ticket);
			}
			/* four reservations out: the ring is full, nothing readable */
			EXPECT_EQ(-ENOSPC, lfq_turn_try_push_reserve(t.ring, &out));
			EXPECT_EQ(-EAGAIN, lfq_turn_try_pop_reserve(t.ring, &out));
			for (i = 0; i < 4; i++)
				ASSERT_EQ(0, lfq_turn_push_commit(t.ring, &in[i]));
			for (i = 0; i < 4; i++, popped++) {
				if ((lap + i) % 2) {
					ASSERT_EQ(0, lfq_turn_pop_reserve(t.ring,
									  &out));
				} else {
					ASSERT_EQ(0, lfq_turn_try_pop_reserve(
							     t.ring, &out));
				}
				EXPECT_EQ(popped, out.ticket);
				EXPECT_EQ(in[i].elem, out.elem);
				EXPECT_TRUE(filled(out.elem, es, popped))
					TH_LOG("%s ticket %" PRIu64,
					       kind_names[kind], popped);
				ASSERT_EQ(0, lfq_turn_pop_commit(t.ring, &out));
			}
		}
		/* and through the copying verbs */
		{
			uint8_t *buf = malloc(es), *back = malloc(es);

			ASSERT_NE(NULL, buf);
			ASSERT_NE(NULL, back);
			fill(buf, es, 12345);
			ASSERT_EQ(0, lfq_turn_try_push(t.ring, buf));
			ASSERT_EQ(0, lfq_turn_push(t.ring, buf));
			ASSERT_EQ(0, lfq_turn_try_pop(t.ring, back));
			EXPECT_EQ(0, memcmp(buf, back, es));
			memset(back, 0, es);
			ASSERT_EQ(0, lfq_turn_pop(t.ring, back));
			EXPECT_EQ(0, memcmp(buf, back, es));
			free(back);
			free(buf);
		}
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
}

/*
 * Commits in any order publish in ticket order: a consumer sees ticket t
 * only once t itself is committed, whatever came after it.
 */
TEST(out_of_order_commits_publish_in_ticket_order)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	struct lfq_turn_ref ref[4];
	uint64_t v, i;

	ASSERT_NE(NULL, r);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lfq_turn_try_push_reserve(r, &ref[i]));
		v = 10 + i;
		memcpy(ref[i].elem, &v, sizeof(v));
	}
	EXPECT_EQ(3, lfq_turn_size(r));
	ASSERT_EQ(0, lfq_turn_push_commit(r, &ref[2]));
	ASSERT_EQ(0, lfq_turn_push_commit(r, &ref[1]));
	/* tickets 1 and 2 are in, but ticket 0 comes first */
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(r, &v));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop_reserve(r, &ref[3]));
	ASSERT_EQ(0, lfq_turn_push_commit(r, &ref[0]));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
		EXPECT_EQ(10 + i, v);
	}

	/* the same for consumers: slots come free in ticket order */
	for (i = 0; i < 4; i++) {
		v = 20 + i;
		ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	}
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(r, &ref[0]));
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(r, &ref[1]));
	ASSERT_EQ(0, lfq_turn_pop_commit(r, &ref[1]));
	/* the slot at head is ticket 0's, still being read */
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
	ASSERT_EQ(0, lfq_turn_pop_commit(r, &ref[0]));
	for (i = 0; i < 2; i++) {
		v = 30 + i;
		ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	}
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(r, &v));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
		EXPECT_EQ(i < 2 ? 22 + i : 30 + i - 2, v);
	}
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/*
 * A bad commit returns -EINVAL and leaves the ring region exactly as it
 * was (byte for byte), and the ring goes on working.
 */
static void expect_bad_commit(struct __test_metadata *_metadata,
			      const struct test_ring *t, bool push,
			      const struct lfq_turn_ref *ref, const char *what)
{
	size_t n = t->info->ring_size;
	uint8_t *before = malloc(n);

	ASSERT_NE(NULL, before);
	memcpy(before, test_ring_region(t), n);
	if (push) {
		EXPECT_EQ(-EINVAL, lfq_turn_push_commit(t->ring, ref))
			TH_LOG("push_commit: %s", what);
	} else {
		EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(t->ring, ref))
			TH_LOG("pop_commit: %s", what);
	}
	EXPECT_EQ(0, memcmp(before, test_ring_region(t), n))
		TH_LOG("%s changed the ring", what);
	free(before);
}

TEST(commit_twice_or_of_a_forged_ref_returns_einval_and_changes_nothing)
{
	struct lfq_turn_ref ref, bad, pref;
	struct test_ring t;
	uint64_t v;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	/* move into lap 2, so that tickets - capacity are real tickets */
	pass_items(_metadata, t.ring, 9);

	/* a push reservation waiting for its commit */
	ASSERT_EQ(0, lfq_turn_try_push_reserve(t.ring, &ref));
	EXPECT_EQ(9, ref.ticket);
	v = 0xabc;
	memcpy(ref.elem, &v, sizeof(v));
	bad = ref;
	bad.elem = (uint8_t *)ref.elem + 1;
	expect_bad_commit(_metadata, &t, true, &bad, "elem + 1");
	bad.elem = (uint8_t *)ref.elem - LFQ_TURN_SLOT_HDR;
	expect_bad_commit(_metadata, &t, true, &bad, "elem at the turn");
	bad.elem = (uint8_t *)ref.elem + t.info->slot_stride;
	expect_bad_commit(_metadata, &t, true, &bad, "next slot's elem");
	bad.elem = NULL;
	expect_bad_commit(_metadata, &t, true, &bad, "NULL elem");
	bad.elem = &v;
	expect_bad_commit(_metadata, &t, true, &bad, "elem off the ring");
	bad = ref;
	bad.ticket = ref.ticket + 4;
	expect_bad_commit(_metadata, &t, true, &bad, "ticket a lap later");
	bad.ticket = ref.ticket - 4;
	expect_bad_commit(_metadata, &t, true, &bad, "ticket a lap earlier");
	bad.ticket = ref.ticket - 8;
	expect_bad_commit(_metadata, &t, true, &bad, "ticket two laps earlier");
	bad.ticket = ref.ticket + 1;
	expect_bad_commit(_metadata, &t, true, &bad, "ticket + 1, same elem");
	bad.ticket = ref.ticket ^ (1ULL << 63);
	expect_bad_commit(_metadata, &t, true, &bad, "ticket + 2^63");
	/* a pending push is no pop to commit */
	expect_bad_commit(_metadata, &t, false, &ref, "a pending push ref");
	EXPECT_EQ(1, lfq_turn_size(t.ring));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));

	ASSERT_EQ(0, lfq_turn_push_commit(t.ring, &ref));
	expect_bad_commit(_metadata, &t, true, &ref, "push committed twice");

	/* a pop reservation waiting for its commit */
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(t.ring, &pref));
	EXPECT_EQ(9, pref.ticket);
	EXPECT_EQ(ref.elem, pref.elem);
	memcpy(&v, pref.elem, sizeof(v));
	EXPECT_EQ(0xabc, v);
	bad = pref;
	bad.elem = (uint8_t *)pref.elem + 8;
	expect_bad_commit(_metadata, &t, false, &bad, "pop elem + 8");
	bad.elem = (uint8_t *)pref.elem - t.info->slot_stride;
	expect_bad_commit(_metadata, &t, false, &bad, "previous slot's elem");
	bad = pref;
	bad.ticket = pref.ticket + 4;
	expect_bad_commit(_metadata, &t, false, &bad, "pop ticket a lap later");
	bad.ticket = pref.ticket - 4;
	expect_bad_commit(_metadata, &t, false, &bad,
			  "pop ticket a lap earlier");
	/* a pending pop is no push to commit */
	expect_bad_commit(_metadata, &t, true, &pref, "a pending pop ref");
	ASSERT_EQ(0, lfq_turn_pop_commit(t.ring, &pref));
	expect_bad_commit(_metadata, &t, false, &pref, "pop committed twice");
	expect_bad_commit(_metadata, &t, true, &pref,
			  "a committed pop ref, as a push");

	/* NULL ring or ref */
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(t.ring, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(t.ring, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(NULL, &ref));

	/* the ring still works: a full lap in and out */
	EXPECT_EQ(0, lfq_turn_size(t.ring));
	expect_full_lap(_metadata, t.ring, 500);
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * A ref whose ticket was never handed out is no reservation either, even
 * when it names the right slot: a push commit of ticket head (its slot
 * free) would publish an item that no producer holds, behind head's
 * back; a pop commit of a published ticket at or after tail would
 * release an item that nobody popped. Both must be -EINVAL and leave the
 * ring as it was.
 */
TEST(commit_of_a_ticket_never_handed_out_returns_einval)
{
	struct lfq_turn_ref ref, bad;
	struct test_ring t;
	uint64_t v = 1;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	/* producer: ticket 0 reserved; ticket 1 was never handed out */
	ASSERT_EQ(0, lfq_turn_try_push_reserve(t.ring, &ref));
	bad.ticket = ref.ticket + 1;
	bad.elem = slot_elem(&t, bad.ticket);
	expect_bad_commit(_metadata, &t, true, &bad,
			  "push ticket == head, its own elem");
	bad.ticket = ref.ticket + 3;
	bad.elem = slot_elem(&t, bad.ticket);
	expect_bad_commit(_metadata, &t, true, &bad,
			  "push ticket head + 2, its own elem");
	memcpy(ref.elem, &v, sizeof(v));
	ASSERT_EQ(0, lfq_turn_push_commit(t.ring, &ref));
	/* consumer: ticket 0 is published but nobody took it from tail */
	expect_bad_commit(_metadata, &t, false, &ref,
			  "pop of the committed push ref (ticket == tail)");
	v = 2;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	bad.ticket = 1;
	bad.elem = slot_elem(&t, 1);
	expect_bad_commit(_metadata, &t, false, &bad,
			  "pop ticket tail + 1, published");
	/* nothing was lost or published out of turn */
	EXPECT_EQ(2, lfq_turn_size(t.ring));
	EXPECT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(2, v);
	EXPECT_EQ(0, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/* ---- try can fail in between --------------------------------------------- */

/*
 * The turn ring's tries look at one slot: the one at head (tail). A try
 * may fail while the ring is neither full nor empty, and succeeds once
 * the holder of that slot's previous ticket is done with it.
 */
TEST(try_push_fails_while_not_full_until_the_slow_consumer_commits)
{
	struct lfq_turn_ref ref, other;
	struct test_ring t;
	uint64_t v, i;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, lfq_turn_try_push(t.ring, &i));
	/* a consumer takes ticket 0 and is slow to read it */
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(t.ring, &ref));
	EXPECT_EQ(0, ref.ticket);
	/* head is ticket 4, slot 0: still ticket 0's */
	EXPECT_EQ(3, lfq_turn_size(t.ring));
	EXPECT_FALSE(lfq_turn_full(t.ring));
	v = 4;
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push_reserve(t.ring, &other));
	EXPECT_EQ(0, lfq_ring_wait_begin(t.ring, POLLOUT));
	lfq_ring_wait_end(t.ring, POLLOUT);
	/* other consumers go on meanwhile */
	ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(2, lfq_turn_size(t.ring));
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));	/* not corruption */
	/* the slow consumer commits: head's slot is free */
	ASSERT_EQ(0, lfq_turn_pop_commit(t.ring, &ref));
	EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t.ring, POLLOUT));
	lfq_ring_wait_end(t.ring, POLLOUT);
	v = 4;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	v = 5;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	for (i = 2; i < 6; i++) {
		ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
		EXPECT_EQ(i, v);
	}
	test_ring_free(&t);
}

TEST(try_pop_fails_while_not_empty_until_the_slow_producer_commits)
{
	struct lfq_turn_ref ref;
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	uint64_t v;

	ASSERT_NE(NULL, r);
	/* a producer takes ticket 0 and is slow to write it */
	ASSERT_EQ(0, lfq_turn_push_reserve(r, &ref));
	v = 1;
	ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	v = 2;
	ASSERT_EQ(0, lfq_turn_push(r, &v));
	EXPECT_EQ(3, lfq_turn_size(r));
	EXPECT_FALSE(lfq_turn_empty(r));
	/* items 1 and 2 are in, but tail's slot is ticket 0's */
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(r, &v));
	EXPECT_EQ(0, lfq_ring_wait_begin(r, POLLIN));
	lfq_ring_wait_end(r, POLLIN);
	v = 0;
	memcpy(ref.elem, &v, sizeof(v));
	ASSERT_EQ(0, lfq_turn_push_commit(r, &ref));
	EXPECT_EQ(POLLIN | POLLOUT, lfq_ring_wait_begin(r, POLLIN | POLLOUT));
	lfq_ring_wait_end(r, POLLIN | POLLOUT);
	for (v = 0; v < 3; v++) {
		uint64_t got;

		ASSERT_EQ(0, lfq_turn_try_pop(r, &got));
		EXPECT_EQ(v, got);
	}
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/* ---- skipped tickets ------------------------------------------------------ */

/*
 * A dead producer's ticket, marked LFQ_TURN_SKIPPED: every pop releases
 * it (to the next lap's producer) and returns the next item, never the
 * skipped slot. On caller memory and on a memfd mapped a second time.
 */
TEST(pops_skip_a_dead_producers_ticket)
{
	unsigned int kind, verb;

	alarm(10);
	for (kind = T_MEMFD; kind < T_KINDS; kind++) {
		for (verb = 0; verb < V_VERBS; verb++) {
			struct test_ring t;
			uint64_t v, dead;

			ASSERT_EQ(0, test_ring_new(&t, kind, 4, 8));
			/* lap 1: positions 5.. */
			pass_items(_metadata, t.ring, 5);
			v = 100;
			ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
			dead = skip_ticket(&t);
			ASSERT_EQ(6, dead);
			EXPECT_EQ(3 | LFQ_TURN_SKIPPED, *slot_turn(&t, dead));
			v = 101;
			ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
			/* the skipped ticket still counts in size() */
			EXPECT_EQ(3, lfq_turn_size(t.ring));
			for (v = 100; v < 102; v++) {
				uint64_t got = 0, ticket;

				ASSERT_EQ(0, pop_by(t.ring, verb, &got, &ticket));
				if (verb == V_TRY_RESERVE || verb == V_RESERVE)
					EXPECT_NE(dead, ticket);
				EXPECT_EQ(v, got) TH_LOG("%s verb %u",
							 kind_names[kind], verb);
			}
			/* released for the next lap's producer, without the flag */
			EXPECT_EQ(4, *slot_turn(&t, dead));
			EXPECT_EQ(8, t.hdr->tail);
			EXPECT_EQ(0, lfq_turn_size(t.ring));
			EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
			/* and the next lap goes through the slot as usual */
			expect_full_lap(_metadata, t.ring, 0);
			EXPECT_EQ(0, lfq_ring_errors(t.ring));
			test_ring_free(&t);
		}
	}
	alarm(0);
}

TEST(skipped_tickets_in_a_row_and_alone)
{
	struct test_ring t;
	uint64_t v, i;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	test_ring_seek(&t, 5 * 4 + 2);		/* lap 5, slot 2 */
	/* three dead producers in a row, then an item */
	for (i = 0; i < 3; i++)
		ASSERT_NE(UINT64_MAX, skip_ticket(&t));
	v = 7;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	EXPECT_TRUE(lfq_turn_full(t.ring));
	EXPECT_EQ(POLLIN, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	v = 0;
	ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(7, v);
	EXPECT_EQ(5 * 4 + 6, t.hdr->tail);
	EXPECT_TRUE(lfq_turn_empty(t.ring));

	/* only skipped tickets: released, and the ring is empty */
	for (i = 0; i < 4; i++)
		ASSERT_NE(UINT64_MAX, skip_ticket(&t));
	EXPECT_EQ(4, lfq_turn_size(t.ring));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(t.hdr->head, t.hdr->tail);
	for (i = t.hdr->tail - 4; i < t.hdr->tail; i++)
		EXPECT_EQ(turn_of(&t, i) + 2, *slot_turn(&t, i));
	EXPECT_EQ(0, lfq_turn_size(t.ring));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
	/* usable: a full lap */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, lfq_turn_try_push(t.ring, &i));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
		EXPECT_EQ(i, v);
	}
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * A try_pop takes one ticket per try, skipped ones included: behind many
 * skipped tickets it may give up (-EAGAIN) after releasing a bounded
 * number of them, and a later try goes on from there.
 */
TEST(try_pop_behind_many_skipped_tickets_is_bounded_and_goes_on)
{
	struct test_ring t;
	uint64_t v = 0, i, tail;
	unsigned int calls = 0;
	int ret;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 256, 8));
	for (i = 0; i < 200; i++)
		ASSERT_NE(UINT64_MAX, skip_ticket(&t));
	v = 42;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	v = 0;
	alarm(10);
	do {
		tail = t.hdr->tail;
		ret = lfq_turn_try_pop(t.ring, &v);
		calls++;
		if (ret == -EAGAIN) {
			EXPECT_LT(tail, t.hdr->tail);	/* made progress */
		} else {
			ASSERT_EQ(0, ret);
		}
	} while (ret && calls < 201);
	alarm(0);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(42, v);
	/* one try did not walk all 200: its work is bounded */
	EXPECT_LT(1, calls);
	TH_LOG("item behind 200 skipped tickets came out at call %u", calls);
	EXPECT_EQ(201, t.hdr->tail);
	EXPECT_TRUE(lfq_turn_empty(t.ring));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * The slot at head still holds a skipped ticket of the previous lap that
 * no consumer has released: the ring is full there, not corrupt.
 */
TEST(try_push_on_an_unreleased_skipped_slot_is_enospc_not_eio)
{
	struct test_ring t;
	uint64_t v;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 2, 8));
	ASSERT_EQ(0, skip_ticket(&t));
	v = 1;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	/* head is ticket 2: slot 0, whose turn is 1 | SKIPPED */
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(1, v);
	v = 2;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	v = 3;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(-ENOSPC, lfq_turn_try_push(t.ring, &v));
	ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
	EXPECT_EQ(3, v);
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

struct popper {
	struct lfq_ring *ring;
	uint64_t v;
	_Atomic int ret;
	_Atomic int done;
};

static void *pop_thread(void *arg)
{
	struct popper *p = arg;

	atomic_store(&p->ret, lfq_turn_pop(p->ring, &p->v));
	atomic_store(&p->done, 1);
	return NULL;
}

/*
 * A consumer already waits in pop() on the ticket whose producer dies:
 * it releases that slot, takes the next ticket and returns its item.
 */
TEST(blocked_pop_skips_a_ticket_that_dies_under_it)
{
	struct popper p = { .ret = 1 };
	struct test_ring t;
	pthread_t tid;
	uint64_t v;

	alarm(10);
	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	p.ring = t.ring;
	ASSERT_EQ(0, pthread_create(&tid, NULL, pop_thread, &p));
	/* until it holds ticket 0 and sleeps on it */
	wait_for_sleeper(&t.hdr->not_empty.waiters);
	EXPECT_EQ(1, __atomic_load_n(&t.hdr->tail, __ATOMIC_RELAXED));
	EXPECT_EQ(0, lfq_turn_size(t.ring));	/* clamped: tail > head */
	ASSERT_EQ(0, skip_ticket(&t));
	usleep(1000);
	EXPECT_EQ(0, atomic_load(&p.done));	/* nothing to return yet */
	v = 55;
	ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
	pthread_join(tid, NULL);
	EXPECT_EQ(0, atomic_load(&p.ret));
	EXPECT_EQ(55, p.v);
	EXPECT_EQ(2, t.hdr->tail);
	EXPECT_EQ(2, *slot_turn(&t, 0));
	EXPECT_TRUE(lfq_turn_empty(t.ring));
	alarm(0);
	test_ring_free(&t);
}

/* ---- corruption ------------------------------------------------------------ */

/*
 * A turn ahead of the ticket that head (tail) stands on: nobody can have
 * written that slot yet, so the ring is corrupt. The try forms return
 * -EIO and take no ticket; lfq_ring_errors() counts each.
 */
TEST(turn_ahead_of_its_ticket_is_eio_and_counted)
{
	struct lfq_turn_ref ref;
	struct test_ring t;
	uint64_t v = 1;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	*slot_turn(&t, 0) = 2;		/* lap 1's producer turn, at lap 0 */
	EXPECT_EQ(-EIO, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(1, lfq_ring_errors(t.ring));
	EXPECT_EQ(-EIO, lfq_turn_try_push_reserve(t.ring, &ref));
	EXPECT_EQ(2, lfq_ring_errors(t.ring));
	EXPECT_EQ(-EIO, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(3, lfq_ring_errors(t.ring));
	EXPECT_EQ(-EIO, lfq_turn_try_pop_reserve(t.ring, &ref));
	EXPECT_EQ(4, lfq_ring_errors(t.ring));
	EXPECT_EQ(0, t.hdr->head);
	EXPECT_EQ(0, t.hdr->tail);
	EXPECT_EQ(1, v);
	/* repaired: the ring works again, and the count stays */
	*slot_turn(&t, 0) = 0;
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
	EXPECT_EQ(4, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * Every turn a slot can hold, seen from the ticket pos at head and at
 * tail (lap 5, so turn_of(pos) == 10), and what a try must say:
 *
 *   8, 9       the producer of pos - cap still writes / its item unread
 *   9 | S      its skipped ticket, not released yet
 *   10         free for pos's producer
 *   11         pos's item
 *   11 | S     pos skipped: a pop releases it and finds nothing after it
 *   12 and up  ahead of pos while head/tail stand on it: corrupt
 *   even | S   the skip bit on a producer's turn is never written: corrupt
 */
TEST(try_verdicts_for_every_turn_around_the_ticket)
{
	const uint64_t S = LFQ_TURN_SKIPPED;
	const uint64_t lap2 = 2 * 5;
	const struct {
		uint64_t turn;
		int push, pop;		/* 1: succeeds */
	} cases[] = {
		{ lap2 - 4,		-ENOSPC,	-EAGAIN },
		{ lap2 - 2,		-ENOSPC,	-EAGAIN },
		{ lap2 - 1,		-ENOSPC,	-EAGAIN },
		{ (lap2 - 1) | S,	-ENOSPC,	-EAGAIN },
		{ lap2,			1,		-EAGAIN },
		{ lap2 + 1,		-EIO,		1 },
		{ (lap2 + 1) | S,	-EIO,		-EAGAIN },
		{ lap2 + 2,		-EIO,		-EIO },
		{ (lap2 + 3) | S,	-EIO,		-EIO },
		{ lap2 + 100,		-EIO,		-EIO },
		{ (lap2 - 2) | S,	-EIO,		-EIO },
		{ lap2 | S,		-EIO,		-EIO },
	};
	unsigned int c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct test_ring t;
		uint64_t pos = 5 * 4 + 1, v = 9, errors = 0;
		int ret;

		ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
		test_ring_seek(&t, pos);
		*slot_turn(&t, pos) = cases[c].turn;
		ret = lfq_turn_try_push(t.ring, &v);
		EXPECT_EQ(cases[c].push == 1 ? 0 : cases[c].push, ret)
			TH_LOG("push at turn %#" PRIx64, cases[c].turn);
		if (cases[c].push == -EIO)
			errors++;
		EXPECT_EQ(errors, lfq_ring_errors(t.ring));
		EXPECT_EQ(pos + (ret == 0), t.hdr->head);

		/* pop from the same state (the push's ticket undone) */
		t.hdr->head = pos + 1;
		*slot_turn(&t, pos) = cases[c].turn;
		ret = lfq_turn_try_pop(t.ring, &v);
		EXPECT_EQ(cases[c].pop == 1 ? 0 : cases[c].pop, ret)
			TH_LOG("pop at turn %#" PRIx64, cases[c].turn);
		if (cases[c].pop == -EIO)
			errors++;
		EXPECT_EQ(errors, lfq_ring_errors(t.ring));
		if (cases[c].turn == ((lap2 + 1) | S)) {
			/* the skipped ticket was taken and released */
			EXPECT_EQ(pos + 1, t.hdr->tail);
			EXPECT_EQ(lap2 + 2, *slot_turn(&t, pos));
		} else {
			EXPECT_EQ(pos + (ret == 0), t.hdr->tail);
		}
		test_ring_free(&t);
	}
}

/*
 * The blocking verbs on a corrupt slot: they take their ticket, find a
 * turn ahead of it, and return -EIO at once instead of waiting.
 */
TEST(blocking_verbs_on_a_turn_ahead_return_eio_without_waiting)
{
	struct lfq_turn_ref ref;
	struct test_ring t;
	uint64_t v = 3;

	alarm(10);
	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 4, 8));
	*slot_turn(&t, 0) = 4;
	EXPECT_EQ(-EIO, lfq_turn_push(t.ring, &v));
	EXPECT_EQ(1, lfq_ring_errors(t.ring));
	EXPECT_EQ(-EIO, lfq_turn_pop(t.ring, &v));
	EXPECT_EQ(2, lfq_ring_errors(t.ring));
	*slot_turn(&t, 1) = 4 | LFQ_TURN_SKIPPED;
	EXPECT_EQ(-EIO, lfq_turn_push_reserve(t.ring, &ref));
	EXPECT_EQ(-EIO, lfq_turn_pop_reserve(t.ring, &ref));
	EXPECT_EQ(4, lfq_ring_errors(t.ring));
	EXPECT_EQ(3, v);
	EXPECT_EQ(0, t.hdr->not_empty.waiters);
	EXPECT_EQ(0, t.hdr->not_full.waiters);
	alarm(0);
	test_ring_free(&t);
}

/* ---- size, empty, full ------------------------------------------------------- */

TEST(size_empty_full_exact_at_every_fill_level)
{
	struct lfq_ring *r = ring_new(16, 8, LFQ_MEM_HEAP);
	unsigned int lap, k;
	uint64_t v = 0;

	ASSERT_NE(NULL, r);
	for (lap = 0; lap < 3; lap++) {
		for (k = 0; k <= 16; k++) {
			EXPECT_EQ(k, lfq_turn_size(r));
			EXPECT_EQ(k == 0, lfq_turn_empty(r));
			EXPECT_EQ(k == 16, lfq_turn_full(r));
			if (k < 16)
				ASSERT_EQ(0, lfq_turn_try_push(r, &v));
		}
		for (k = 16; k > 0; k--) {
			EXPECT_EQ(k, lfq_turn_size(r));
			EXPECT_FALSE(lfq_turn_empty(r));
			EXPECT_EQ(k == 16, lfq_turn_full(r));
			ASSERT_EQ(0, lfq_turn_try_pop(r, &v));
		}
		EXPECT_TRUE(lfq_turn_empty(r));
		pass_items(_metadata, r, 7 + lap);
	}
	lfq_ring_destroy(r);
}

/*
 * size() is head - tail clamped to 0..capacity: consumers waiting in
 * pop() hold tickets past head, producers waiting in push() hold tickets
 * a lap or more past tail.
 */
TEST(size_clamps_to_zero_and_to_capacity)
{
	struct test_ring t;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	test_ring_seek(&t, 1000);
	t.hdr->tail = 1003;			/* three waiting consumers */
	EXPECT_EQ(0, lfq_turn_size(t.ring));
	EXPECT_TRUE(lfq_turn_empty(t.ring));
	EXPECT_FALSE(lfq_turn_full(t.ring));
	t.hdr->tail = 1000 + (1ULL << 62);
	EXPECT_EQ(0, lfq_turn_size(t.ring));
	t.hdr->tail = 1000;
	t.hdr->head = 1008;
	EXPECT_EQ(8, lfq_turn_size(t.ring));
	EXPECT_TRUE(lfq_turn_full(t.ring));
	t.hdr->head = 1008 + 5;			/* five waiting producers */
	EXPECT_EQ(8, lfq_turn_size(t.ring));
	EXPECT_TRUE(lfq_turn_full(t.ring));
	EXPECT_FALSE(lfq_turn_empty(t.ring));
	t.hdr->head = 1000 + (1ULL << 62);
	EXPECT_EQ(8, lfq_turn_size(t.ring));
	t.hdr->head = 1007;
	EXPECT_EQ(7, lfq_turn_size(t.ring));
	EXPECT_FALSE(lfq_turn_full(t.ring));
	test_ring_free(&t);
}

/* ---- waiting ----------------------------------------------------------------- */

TEST(wait_begin_reports_turn_readiness_and_counts_waiters)
{
	struct lfq_turn_ref ref;
	struct test_ring t;
	uint64_t v = 1;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 2, 8));
	expect_wait_counts_on_empty(_metadata, &t);
	/* a reserved push: not readable yet, the next slot writable */
	ASSERT_EQ(0, lfq_turn_try_push_reserve(t.ring, &ref));
	EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	ASSERT_EQ(0, lfq_turn_push_commit(t.ring, &ref));
	EXPECT_EQ(POLLIN | POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
	EXPECT_EQ(POLLIN, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	expect_wait_refuses_other_events(_metadata, &t);
	test_ring_free(&t);
}

/* The hand-off threads of unit_util.h, on a ring of each kind. */

TEST(blocked_pop_is_woken_by_push)
{
	unsigned int kind, i;
	uint64_t x = 7, v;

	alarm(30);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring t;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_new(&t, kind, 4, 8));
		waiters = t.hdr ? &t.hdr->not_empty.waiters : NULL;
		ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_popper));
		for (i = 0; i < h.n; i++) {
			handoff_wait(&h, i, waiters, &x);
			v = i;
			ASSERT_EQ(0, push_by(t.ring, i % 3 ? V_TRY : V_WAIT, &v));
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		EXPECT_TRUE(lfq_turn_empty(t.ring));
		if (t.hdr)
			EXPECT_EQ(0, t.hdr->not_empty.waiters);
		test_ring_free(&t);
	}
	alarm(0);
}

TEST(blocked_push_is_woken_by_pop)
{
	unsigned int kind, i;
	uint64_t x = 9, v;

	alarm(30);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring t;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_new(&t, kind, 2, 8));
		for (v = 0; v < 2; v++)
			ASSERT_EQ(0, lfq_turn_try_push(t.ring, &v));
		waiters = t.hdr ? &t.hdr->not_full.waiters : NULL;
		ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_pusher));
		for (i = 0; i < h.n; i++) {
			/* the helper's push i + 2 now finds its slot taken */
			handoff_wait(&h, i, waiters, &x);
			ASSERT_EQ(0, pop_by(t.ring, i % 3 ? V_WAIT : V_RESERVE,
					    &v, NULL));
			ASSERT_EQ(i, v);
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		for (i = h.n; i < h.n + 2; i++) {
			ASSERT_EQ(0, lfq_turn_try_pop(t.ring, &v));
			EXPECT_EQ(i, v);
		}
		if (t.hdr)
			EXPECT_EQ(0, t.hdr->not_full.waiters);
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * Across processes on one memfd: a child attaches the inherited fd and
 * echoes every item back on a second ring; both sides sleep in pop().
 * The child checks first that it attached a turn ring (exit 5).
 */
static int echo_turn_items(struct lfq_ring *in, struct lfq_ring *out)
{
	if (lfq_ring_info(in)->type != LFQ_RING_TURN)
		return 5;
	return echo_items(in, out);
}

TEST(blocked_pop_on_memfd_is_woken_from_another_process)
{
	struct lfq_ring *to = ring_new(2, 8, LFQ_MEM_MEMFD);
	struct lfq_ring *from = ring_new(2, 8, LFQ_MEM_MEMFD);

	ASSERT_NE(NULL, to);
	ASSERT_NE(NULL, from);
	alarm(30);
	echo_across_fork(_metadata, to, from, echo_turn_items);
	alarm(0);
	lfq_ring_destroy(to);
	lfq_ring_destroy(from);
}

TEST(memfd_attach_shares_the_ring)
{
	struct lfq_ring *a = ring_new(4, 24, LFQ_MEM_MEMFD), *b = NULL;
	struct lfq_turn_ref ref;
	uint8_t in[24], out[24];
	int i;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, lfq_ring_attach(&b, lfq_ring_fd(a)));
	EXPECT_NE(lfq_ring_fd(a), lfq_ring_fd(b));
	for (i = 0; i < 20; i++) {
		memset(in, i, sizeof(in));
		/* reserved through one handle, seen through the other */
		ASSERT_EQ(0, lfq_turn_try_push_reserve(i % 2 ? a : b, &ref));
		memcpy(ref.elem, in, sizeof(in));
		EXPECT_EQ(1, lfq_turn_size(a));
		EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(a, out));
		ASSERT_EQ(0, lfq_turn_push_commit(i % 2 ? a : b, &ref));
		EXPECT_EQ(1, lfq_turn_size(b));
		ASSERT_EQ(0, lfq_turn_try_pop(i % 2 ? b : a, out));
		EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	}
	memset(in, 0x5a, sizeof(in));
	ASSERT_EQ(0, lfq_turn_push(a, in));
	lfq_ring_destroy(a);
	ASSERT_EQ(0, lfq_turn_pop(b, out));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(b, out));
	lfq_ring_destroy(b);
}

/* ---- claim records without the module --------------------------------------- */

TEST(join_is_eopnotsupp_without_the_module_and_repairs_read_zero)
{
	struct lfq_repairs rep;
	unsigned int kind;
	uint64_t v = 1;

	for (kind = 0; kind < T_KINDS; kind++) {
		struct test_ring t;

		ASSERT_EQ(0, test_ring_new(&t, kind, 4, 8));
		EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(t.ring))
			TH_LOG("%s", kind_names[kind]);
		EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(t.ring));
		memset(&rep, 0xff, sizeof(rep));
		ASSERT_EQ(0, lfq_ring_repairs(t.ring, &rep));
		EXPECT_EQ(0, rep.skipped);
		EXPECT_EQ(0, rep.dropped);
		EXPECT_EQ(0, rep.unresolved);
		EXPECT_EQ(-EINVAL, lfq_ring_repairs(t.ring, NULL));
		/* the ring works as before */
		ASSERT_EQ(0, lfq_turn_push(t.ring, &v));
		ASSERT_EQ(0, lfq_turn_pop(t.ring, &v));
		if (t.hdr) {
			/* a pop of a skipped ticket is no repair of ours */
			ASSERT_NE(UINT64_MAX, skip_ticket(&t));
			EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(t.ring, &v));
			ASSERT_EQ(0, lfq_ring_repairs(t.ring, &rep));
			EXPECT_EQ(0, rep.skipped);
		}
		test_ring_free(&t);
	}
	EXPECT_EQ(-EINVAL, lfq_ring_join(NULL));
	EXPECT_EQ(-EINVAL, lfq_ring_repairs(NULL, &rep));
	/* claim records are a turn ring's: a Vyukov ring has none */
	{
		struct lfq_create p = ring_params(4, 8);
		struct lfq_ring *r = NULL;

		p.type = LFQ_RING_VYUKOV;
		ASSERT_EQ(0, lfq_ring_create(&r, &p, LFQ_MEM_MEMFD));
		EXPECT_EQ(0, lfq_ring_info(r)->nr_claims);
		EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(r));
		lfq_ring_destroy(r);
	}
}

/* ---- parameters ---------------------------------------------------------------- */

TEST(invalid_turn_params_return_einval)
{
	const uint32_t bad_caps[] = { 0, 1, 3, 6, 1000, LFQ_CAPACITY_MAX + 1,
				      UINT32_MAX };
	const uint32_t bad_sizes[] = { 0, LFQ_ELEM_MAX + 1, UINT32_MAX };
	struct lfq_create p;
	unsigned int i;

	for (i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
		p = ring_params(bad_caps[i], 8);
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		p = ring_params(4, bad_sizes[i]);
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	p = ring_params(4, 8);
	p.policy = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, 8);
	p.flags = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, 8);
	p.__pad = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	for (i = 0; i < 3; i++) {
		p = ring_params(4, 8);
		p.__resv[i] = 1;
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	/* the limits themselves are fine (sizes only) */
	p = ring_params(2, LFQ_ELEM_MAX);
	EXPECT_LT(0, lfq_ring_mem_size(&p));
	p = ring_params(LFQ_CAPACITY_MAX, 1);
	EXPECT_LT(0, lfq_ring_mem_size(&p));
}

TEST(null_arguments_return_einval)
{
	struct lfq_ring *r = ring_new(4, 8, LFQ_MEM_HEAP);
	struct lfq_turn_ref ref = { 0 };
	uint64_t v = 1;

	ASSERT_NE(NULL, r);
	EXPECT_EQ(-EINVAL, lfq_turn_try_push(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_turn_push(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_turn_pop(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_turn_try_push_reserve(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_push_reserve(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop_reserve(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_reserve(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(NULL, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_try_push(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_push(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_pop(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_try_push_reserve(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_push_reserve(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop_reserve(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_reserve(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(r, NULL));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(r, NULL));
	/* none of it took a ticket */
	EXPECT_EQ(0, lfq_turn_size(r));
	ASSERT_EQ(0, lfq_turn_try_push(r, &v));
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(r, &ref));
	EXPECT_EQ(0, ref.ticket);
	ASSERT_EQ(0, lfq_turn_pop_commit(r, &ref));
	lfq_ring_destroy(r);
}

/* Turn verbs on a Vyukov ring and Vyukov verbs on a turn ring: -EINVAL. */
TEST(verbs_of_the_other_ring_type_return_einval)
{
	struct lfq_create p = ring_params(4, 8);
	struct lfq_ring *v = NULL, *t = ring_new(4, 8, LFQ_MEM_HEAP);
	struct lfq_turn_ref ref = { 0 };
	uint64_t x = 5;

	p.type = LFQ_RING_VYUKOV;
	ASSERT_EQ(0, lfq_ring_create(&v, &p, LFQ_MEM_HEAP));
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, lfq_vyukov_try_push(v, &x));
	ASSERT_EQ(0, lfq_turn_try_push(t, &x));
	alarm(10);
	EXPECT_EQ(-EINVAL, lfq_turn_try_push(v, &x));
	EXPECT_EQ(-EINVAL, lfq_turn_push(v, &x));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop(v, &x));
	EXPECT_EQ(-EINVAL, lfq_turn_pop(v, &x));
	EXPECT_EQ(-EINVAL, lfq_turn_try_push_reserve(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_push_reserve(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_try_pop_reserve(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_reserve(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(v, &ref));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push(t, &x));
	EXPECT_EQ(-EINVAL, lfq_vyukov_push(t, &x, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_pop(t, &x));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop(t, &x, -1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_try_push_burst(t, &x, 1));
	EXPECT_EQ(-EINVAL, lfq_vyukov_pop_burst(t, &x, 1, -1));
	alarm(0);
	EXPECT_EQ(5, x);
	/* both untouched */
	EXPECT_EQ(1, lfq_vyukov_size(v));
	EXPECT_EQ(1, lfq_turn_size(t));
	ASSERT_EQ(0, lfq_vyukov_try_pop(v, &x));
	EXPECT_EQ(5, x);
	ASSERT_EQ(0, lfq_turn_try_pop(t, &x));
	EXPECT_EQ(5, x);
	lfq_ring_destroy(v);
	lfq_ring_destroy(t);
}

TEST_HARNESS_MAIN
