// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of liblfq's sequencer: every operation and every error,
 * single-threaded and deterministic except for the wake-up tests.
 *
 * The fixture seq runs each test on both policies (LFQ_SEQ_SINGLE,
 * LFQ_SEQ_MULTI) and on two kinds of memory whose shared words the test
 * reaches: heap memory handed to lfq_ring_create_mem() (variants *_mem)
 * and a memfd ring mapped a second time (*_memfd). Geometry and the
 * wake-up tests also run on lfq_ring_create(LFQ_MEM_HEAP) rings. The
 * ring header (struct lfq_seq_hdr) is at info.desc_size; inside it the
 * slot of sequence s is at info.slots_off + (s & (capacity - 1)) *
 * info.slot_stride, its 8-byte marker then its element, and the barriers
 * (struct lfq_seq_barrier) are at info.claims_off (<linux/lfq.h>).
 *
 * Elements hold a pattern of their sequence, checked byte for byte. A
 * refused call must change no byte of the ring region and show consumers
 * nothing new. Corruption is a scribble on the shared words, as a buggy
 * or hostile peer would leave them.
 *
 * Threaded tests are bounded by alarm(): a lost wake-up kills the test
 * with SIGALRM, a failure, instead of hanging.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lfq.h"

/*
 * unit_util.h moves items with nothing but a ring; a sequencer's items
 * are read through a consumer. UNIT_POP reads through the popper of its
 * ring, joined beforehand (popper_join()) so that it sees the first item.
 */
#define POPPERS		2

static struct lfq_seq_consumer poppers[POPPERS];

static struct lfq_seq_consumer *popper_of(const struct lfq_ring *r)
{
	unsigned int i;

	for (i = 0; i < POPPERS; i++)
		if (poppers[i].ring == r)
			return &poppers[i];
	return NULL;
}

static int popper_join(struct lfq_ring *r, uint32_t wait)
{
	struct lfq_seq_consumer *c = popper_of(NULL);

	return c ? lfq_seq_join(r, LFQ_SEQ_PRODUCER, wait, c) : -EBUSY;
}

static void popper_leave(struct lfq_ring *r)
{
	struct lfq_seq_consumer *c = popper_of(r);

	if (!c)
		return;
	lfq_seq_leave(c);
	memset(c, 0, sizeof(*c));
}

/* One 8-byte item: claim, write in place, publish. */
static int push_item(struct lfq_ring *r, const uint64_t *v)
{
	uint64_t s;
	int ret = lfq_seq_claim_one(r, &s, -1);

	if (ret)
		return ret;
	memcpy(lfq_seq_elem(r, s), v, sizeof(*v));
	return lfq_seq_publish(r, s);
}

/* The popper's next item: wait for it, read it in place, finish it. */
static int pop_item(struct lfq_ring *r, uint64_t *v)
{
	struct lfq_seq_consumer *c = popper_of(r);
	uint64_t s, avail;
	int ret;

	if (!c)
		return -ENOENT;
	s = c->seq + 1;
	ret = lfq_seq_wait(c, s, &avail, -1);
	if (ret)
		return ret;
	memcpy(v, lfq_seq_elem(r, s), sizeof(*v));
	return lfq_seq_done(c, s);
}

/* The ring under test, for unit_util.h. */
#define UNIT_TYPE		LFQ_RING_SEQ
#define UNIT_HDR		struct lfq_seq_hdr
#define UNIT_PUSH(r, e)		push_item(r, e)
#define UNIT_POP(r, e)		pop_item(r, e)
#include "unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

static const uint32_t waits[] = {
	LFQ_SEQ_WAIT_SPIN, LFQ_SEQ_WAIT_YIELD, LFQ_SEQ_WAIT_BLOCK,
};

static const char *const wait_names[] = {
	[LFQ_SEQ_WAIT_SPIN] = "spin", [LFQ_SEQ_WAIT_YIELD] = "yield",
	[LFQ_SEQ_WAIT_BLOCK] = "block",
};

static int seq_ring(struct test_ring *t, int kind, uint32_t policy,
		    uint32_t capacity, uint32_t elem_size)
{
	struct lfq_create p = ring_params(capacity, elem_size);

	p.policy = policy;
	return test_ring_create(t, kind, &p);
}

static bool multi(const struct test_ring *t)
{
	return t->info->policy == LFQ_SEQ_MULTI;
}

static struct lfq_seq_barrier *barrier_at(const struct test_ring *t,
					  uint32_t id)
{
	return (struct lfq_seq_barrier *)((uint8_t *)t->hdr +
					  t->info->claims_off) + id;
}

static uint64_t *marker_at(const struct test_ring *t, uint64_t s)
{
	return (uint64_t *)((uint8_t *)t->hdr + t->info->slots_off +
			    (s & (t->info->capacity - 1)) * t->info->slot_stride);
}

static uint8_t pattern(uint64_t s, uint32_t i)
{
	return (uint8_t)(s * 131 + i * 7 + (i >> 8) + 1);
}

/* Write the element of s, claimed, with its pattern. */
static void fill(struct lfq_ring *r, uint64_t s)
{
	uint32_t es = lfq_ring_info(r)->elem_size, i;
	uint8_t *e = lfq_seq_elem(r, s);

	for (i = 0; i < es; i++)
		e[i] = pattern(s, i);
}

/* Does the element of s hold the pattern of s, every byte? */
static bool filled(const struct lfq_ring *r, uint64_t s)
{
	uint32_t es = lfq_ring_info(r)->elem_size, i;
	const uint8_t *e = lfq_seq_elem(r, s);

	for (i = 0; i < es; i++)
		if (e[i] != pattern(s, i))
			return false;
	return true;
}

/* n items, each claimed, filled and published alone: the first sequence. */
static uint64_t produce(struct __test_metadata *_metadata, struct lfq_ring *r,
			unsigned int n)
{
	uint64_t s, first = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lfq_seq_try_claim_one(r, &s)) TH_LOG("item %u", i);
		if (!i)
			first = s;
		fill(r, s);
		ASSERT_EQ(0, lfq_seq_publish(r, s));
	}
	return first;
}

/* Consumer c joins r, following follows and waiting as wait. */
static void join(struct __test_metadata *_metadata, struct lfq_ring *r,
		 uint32_t follows, uint32_t wait, struct lfq_seq_consumer *c)
{
	ASSERT_EQ(0, lfq_seq_join(r, follows, wait, c));
}

/*
 * Consumer c reads everything up to upto, which must be available now,
 * checks each element and finishes them.
 */
static void take(struct __test_metadata *_metadata, struct lfq_seq_consumer *c,
		 uint64_t upto)
{
	uint64_t s, avail;

	ASSERT_EQ(0, lfq_seq_try_wait(c, upto, &avail));
	ASSERT_LE(upto, avail);
	for (s = c->seq + 1; s != upto + 1; s++) {
		EXPECT_TRUE(filled(c->ring, s)) TH_LOG("sequence %" PRIu64, s);
	}
	ASSERT_EQ(0, lfq_seq_done(c, upto));
}

static void *snapshot(const struct test_ring *t)
{
	void *copy = malloc(t->info->ring_size);

	if (copy)
		memcpy(copy, t->hdr, t->info->ring_size);
	return copy;
}

/* call must return want and change no byte of the ring region. */
#define EXPECT_REFUSED(t, want, call) do {				\
	void *before_ = snapshot(t);					\
									\
	ASSERT_NE(NULL, before_);					\
	EXPECT_EQ(want, call) TH_LOG("%s", #call);			\
	EXPECT_EQ(0, memcmp(before_, (t)->hdr, (t)->info->ring_size))	\
		TH_LOG("%s changed the ring", #call);			\
	free(before_);							\
} while (0)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the fixture: both policies, on heap and on memfd memory ------------ */

FIXTURE(seq) {
	struct test_ring t;
};

FIXTURE_VARIANT(seq) {
	uint32_t policy;
	int kind;
};

FIXTURE_VARIANT_ADD(seq, single_mem) {
	.policy = LFQ_SEQ_SINGLE, .kind = T_MEM,
};

FIXTURE_VARIANT_ADD(seq, single_memfd) {
	.policy = LFQ_SEQ_SINGLE, .kind = T_MEMFD,
};

FIXTURE_VARIANT_ADD(seq, multi_mem) {
	.policy = LFQ_SEQ_MULTI, .kind = T_MEM,
};

FIXTURE_VARIANT_ADD(seq, multi_memfd) {
	.policy = LFQ_SEQ_MULTI, .kind = T_MEMFD,
};

/* Every test starts on a ring of 4 slots of 16 bytes. */
FIXTURE_SETUP(seq)
{
	ASSERT_EQ(0, seq_ring(&self->t, variant->kind, variant->policy, 4, 16));
}

FIXTURE_TEARDOWN(seq)
{
	test_ring_free(&self->t);
}

/* Make the fixture's ring again with another geometry. */
static void reshape(struct __test_metadata *_metadata, struct test_ring *t,
		    const FIXTURE_VARIANT(seq) *variant, uint32_t capacity,
		    uint32_t elem_size)
{
	test_ring_free(t);
	ASSERT_EQ(0, seq_ring(t, variant->kind, variant->policy, capacity,
			      elem_size));
}

/* ---- geometry ----------------------------------------------------------- */

/*
 * A slot is an 8-byte marker and the element, in whole cache lines; the
 * barriers follow the slots, one per claim record; an element is 8-byte
 * aligned, 8 bytes into its slot, and sequence s uses slot s & mask.
 */
static void expect_seq_geometry(struct __test_metadata *_metadata, int kind,
				uint32_t policy, uint32_t cap, uint32_t es)
{
	uint64_t stride = LFQ_STRIDE(LFQ_SEQ_SLOT_HDR, es), s, claims_end;
	struct lfq_create p = ring_params(cap, es);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	const struct lfq_info *i;
	struct test_ring t;
	uint8_t *e0;

	p.policy = policy;
	ASSERT_EQ(0, test_ring_create(&t, kind, &p));
	i = t.info;
	EXPECT_EQ(LFQ_RING_SEQ, i->type);
	EXPECT_EQ(policy, i->policy);
	EXPECT_EQ(cap, i->capacity);
	EXPECT_EQ(es, i->elem_size);
	EXPECT_EQ(stride, i->slot_stride);
	EXPECT_LE(LFQ_SEQ_SLOT_HDR + es, i->slot_stride);
	EXPECT_EQ(0, i->slot_stride % LFQ_CACHELINE);
	EXPECT_EQ(LFQ_SEQ_SLOTS_OFF, i->slots_off);
	EXPECT_EQ(LFQ_SEQ_SLOTS_OFF + cap * stride, i->claims_off);
	EXPECT_EQ(LFQ_CLAIMS, i->nr_claims);
	claims_end = i->claims_off + LFQ_CLAIMS * sizeof(struct lfq_seq_barrier);
	EXPECT_LE(claims_end, i->ring_size);
	EXPECT_GT(claims_end + page, i->ring_size);
	EXPECT_EQ(0, i->ring_size % page);
	EXPECT_EQ((ssize_t)(i->desc_size + i->ring_size), lfq_ring_mem_size(&p));
	e0 = lfq_seq_elem(t.ring, 0);
	for (s = 0; s < 2 * cap; s++) {
		uint8_t *e = lfq_seq_elem(t.ring, s);

		EXPECT_EQ(0, (uintptr_t)e % 8);
		EXPECT_EQ((s & (cap - 1)) * stride, (uint64_t)(e - e0));
		/* a byte written there is the one after the marker of s */
		*e = (uint8_t)(s + 1);
		if (t.hdr)
			EXPECT_EQ(*e, *((uint8_t *)marker_at(&t, s) +
					LFQ_SEQ_SLOT_HDR));
	}
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

TEST(create_lays_out_slots_with_an_eight_byte_marker)
{
	const uint32_t caps[] = { 2, 4, 1024 };
	const uint32_t sizes[] = { 1, 8, 56, 57, 100, 4096 };
	unsigned int c, s, kind;
	uint32_t policy;

	/* the marker counts: 56 bytes fill a line, 57 take two */
	EXPECT_EQ(64, LFQ_STRIDE(LFQ_SEQ_SLOT_HDR, 56));
	EXPECT_EQ(128, LFQ_STRIDE(LFQ_SEQ_SLOT_HDR, 57));
	EXPECT_EQ(sizeof(struct lfq_claim), sizeof(struct lfq_seq_barrier));
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++)
		for (kind = 0; kind < T_KINDS; kind++)
			for (c = 0; c < 3; c++)
				for (s = 0; s < 6; s++)
					expect_seq_geometry(_metadata, kind, policy,
							    caps[c], sizes[s]);
}

TEST(other_policies_and_ring_types_are_refused)
{
	const uint32_t bad[] = { 2, 3, UINT32_MAX };
	struct lfq_create p = ring_params(4, 8);
	struct lfq_seq_consumer c;
	struct lfq_ring *r = NULL;
	uint64_t s, avail;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		p.policy = bad[i];
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	/* a ring of another type is no sequencer, nor is no ring */
	p = ring_params(4, 8);
	p.type = LFQ_RING_VYUKOV;
	ASSERT_EQ(0, lfq_ring_create(&r, &p, LFQ_MEM_HEAP));
	EXPECT_EQ(-EINVAL, lfq_seq_try_claim_one(r, &s));
	EXPECT_EQ(-EINVAL, lfq_seq_claim_up_to(r, 1, &s, 0));
	EXPECT_EQ(-EINVAL, lfq_seq_publish(r, 0));
	EXPECT_EQ(-EINVAL, lfq_seq_publish_range(r, 0, 0));
	EXPECT_EQ(-EINVAL, lfq_seq_join(r, LFQ_SEQ_PRODUCER,
					LFQ_SEQ_WAIT_SPIN, &c));
	EXPECT_EQ(NULL, lfq_seq_elem(r, 0));
	lfq_ring_destroy(r);
	EXPECT_EQ(-EINVAL, lfq_seq_try_claim_one(NULL, &s));
	EXPECT_EQ(-EINVAL, lfq_seq_publish(NULL, 0));
	EXPECT_EQ(-EINVAL, lfq_seq_join(NULL, LFQ_SEQ_PRODUCER,
					LFQ_SEQ_WAIT_SPIN, &c));
	EXPECT_EQ(-EINVAL, lfq_seq_try_wait(NULL, 0, &avail));
	EXPECT_EQ(-EINVAL, lfq_seq_done(NULL, 0));
	EXPECT_EQ(NULL, lfq_seq_elem(NULL, 0));
	lfq_seq_leave(NULL);
}

/*
 * A memfd ring describes itself, policy included, and a handle attached
 * to it shares the barriers: a consumer joined through one holds back
 * the producer of the other, and sees what it publishes.
 */
TEST(memfd_describes_itself_and_attach_shares_the_barriers)
{
	struct lfq_create p = ring_params(4, 24);
	struct lfq_ring *a = NULL, *b = NULL;
	struct lfq_seq_consumer c;
	uint64_t s;

	p.policy = LFQ_SEQ_MULTI;
	memfd_ring_attached(_metadata, &p, &a, &b);
	join(_metadata, b, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c);
	produce(_metadata, a, 4);
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(a, &s));
	take(_metadata, &c, 3);
	EXPECT_EQ(0, lfq_seq_try_claim_one(a, &s));
	EXPECT_EQ(4, s);
	lfq_seq_leave(&c);
	lfq_ring_destroy(b);
	lfq_ring_destroy(a);
}

/*
 * A new ring stands before sequence 0: cursor and gate LFQ_SEQ_INITIAL,
 * head 0, every marker 0, every barrier free, nobody waiting.
 */
TEST_F(seq, new_ring_stands_before_sequence_zero)
{
	struct test_ring *t = &self->t;
	uint32_t i;

	EXPECT_EQ(0, offsetof(struct lfq_seq_hdr, cursor));
	EXPECT_EQ(64, offsetof(struct lfq_seq_hdr, head));
	EXPECT_EQ(72, offsetof(struct lfq_seq_hdr, gate));
	EXPECT_EQ(LFQ_SEQ_SLOTS_OFF, sizeof(struct lfq_seq_hdr));
	EXPECT_EQ(LFQ_SEQ_INITIAL, t->hdr->cursor);
	EXPECT_EQ(LFQ_SEQ_INITIAL, t->hdr->gate);
	EXPECT_EQ(0, t->hdr->head);
	EXPECT_EQ(0, t->hdr->not_empty.waiters);
	EXPECT_EQ(0, t->hdr->not_full.waiters);
	for (i = 0; i < t->info->capacity; i++) {
		EXPECT_EQ(0, *marker_at(t, i));
	}
	for (i = 0; i < t->info->nr_claims; i++) {
		EXPECT_EQ(LFQ_SEQ_FREE, barrier_at(t, i)->state);
		EXPECT_EQ(0, barrier_at(t, i)->seq);
	}
}

/* ---- claim -------------------------------------------------------------- */

/*
 * Sequences count from 0 through every claim form; the up_to forms return
 * how many and the first. Publishing moves the cursor (SINGLE) or sets
 * each marker to s + 1 (MULTI, SINGLE leaves markers 0).
 */
TEST_F(seq, claims_count_from_zero_and_return_count_and_first)
{
	struct test_ring *t = &self->t;
	uint64_t s = 99, first = 99;

	reshape(_metadata, t, variant, 8, 16);
	ASSERT_EQ(0, lfq_seq_try_claim_one(t->ring, &s));
	EXPECT_EQ(0, s);
	EXPECT_EQ(1, t->hdr->head);
	ASSERT_EQ(0, lfq_seq_publish(t->ring, 0));
	ASSERT_EQ(0, lfq_seq_claim_one(t->ring, &s, -1));
	EXPECT_EQ(1, s);
	ASSERT_EQ(0, lfq_seq_publish(t->ring, 1));
	EXPECT_EQ(3, lfq_seq_try_claim_up_to(t->ring, 3, &first));
	EXPECT_EQ(2, first);
	EXPECT_EQ(2, lfq_seq_claim_up_to(t->ring, 2, &first, 0));
	EXPECT_EQ(5, first);
	EXPECT_EQ(7, t->hdr->head);
	ASSERT_EQ(0, lfq_seq_publish_range(t->ring, 2, 6));
	for (s = 0; s < 7; s++) {
		EXPECT_EQ(multi(t) ? s + 1 : 0, *marker_at(t, s));
	}
	EXPECT_EQ(multi(t) ? LFQ_SEQ_INITIAL : 6, t->hdr->cursor);
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

/*
 * With a consumer that has finished nothing, the producers have exactly
 * a ring: claim_up_to returns what is left, then the try_ forms are
 * -ENOSPC and the waiting ones time out, claiming nothing. Each sequence
 * the consumer finishes gives one back.
 */
TEST_F(seq, claims_stop_a_ring_ahead_of_the_slowest_barrier)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t first, s;
	double t0, ms;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c);
	produce(_metadata, t->ring, 3);
	EXPECT_EQ(1, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(3, first);
	fill(t->ring, 3);
	ASSERT_EQ(0, lfq_seq_publish(t->ring, 3));
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_up_to(t->ring, 2, &first));
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	EXPECT_EQ(-ETIMEDOUT, lfq_seq_claim_one(t->ring, &s, 0));
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_seq_claim_up_to(t->ring, 3, &first, 20));
	ms = now_ms() - t0;
	EXPECT_LE(20, ms);
	EXPECT_GT(5000, ms);
	EXPECT_EQ(4, t->hdr->head);
	/* the gate a refused claim stores is the consumer's barrier */
	EXPECT_EQ(LFQ_SEQ_INITIAL, t->hdr->gate);
	take(_metadata, &c, 1);
	EXPECT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

TEST_F(seq, bad_claim_arguments_are_refused)
{
	struct test_ring *t = &self->t;
	uint64_t s = 7;

	EXPECT_REFUSED(t, -E2BIG, lfq_seq_try_claim_up_to(t->ring, 5, &s));
	EXPECT_REFUSED(t, -E2BIG, lfq_seq_claim_up_to(t->ring, 5, &s, -1));
	EXPECT_REFUSED(t, -E2BIG, lfq_seq_claim_up_to(t->ring, UINT32_MAX, &s, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_claim_up_to(t->ring, 0, &s));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_claim_up_to(t->ring, 0, &s, -1));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_claim_up_to(t->ring, 1, NULL));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_claim_up_to(t->ring, 1, NULL, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_claim_one(t->ring, NULL));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_claim_one(t->ring, NULL, -1));
	EXPECT_EQ(7, s);
}

/* Nobody to wait for: a producer that publishes what it claims never stops. */
TEST_F(seq, a_ring_without_consumers_never_holds_a_publishing_producer)
{
	struct test_ring *t = &self->t;
	uint64_t first, s, next = 0;
	int n;

	while (next < 40) {
		ASSERT_EQ(0, lfq_seq_claim_one(t->ring, &s, 0));
		ASSERT_EQ(next++, s);
		ASSERT_EQ(0, lfq_seq_publish(t->ring, s));
		n = lfq_seq_try_claim_up_to(t->ring, 4, &first);
		ASSERT_EQ(4, n);
		ASSERT_EQ(next, first);
		next += 4;
		ASSERT_EQ(0, lfq_seq_publish_range(t->ring, first, next - 1));
	}
	EXPECT_EQ(next, t->hdr->head);
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

/*
 * A claimed slot is its producer's until it publishes: no other claim
 * gets that slot meanwhile, so nobody writes it a ring later under the
 * producer's feet, nor can a consumer read a later sequence there.
 */
TEST_F(seq, claim_never_reuses_the_slot_of_an_unpublished_claim)
{
	struct test_ring *t = &self->t;
	uint32_t cap = t->info->capacity, n = 0;
	uint64_t held, s, last = 0, avail;
	struct lfq_seq_consumer c;

	/* no consumer: claims stop a ring after the one held */
	ASSERT_EQ(0, lfq_seq_try_claim_one(t->ring, &held));
	while (n < cap && !lfq_seq_try_claim_one(t->ring, &s)) {
		last = s;
		n++;
	}
	EXPECT_GT(held + cap, last)
		TH_LOG("sequence %" PRIu64 " claimed, in the slot of %" PRIu64
		       ", claimed and not yet published", last, held);
	if (!multi(t))
		return;	/* SINGLE publishes in order: held first */

	/*
	 * MULTI, and a consumer that joins while held is claimed: it starts
	 * after held (the last claimed), and must read what was published
	 * for every later sequence, whatever the holder writes.
	 */
	reshape(_metadata, t, variant, 4, 16);
	ASSERT_EQ(0, lfq_seq_try_claim_one(t->ring, &held));
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	EXPECT_EQ(held, c.seq);
	for (n = 0; n < cap && !lfq_seq_try_claim_one(t->ring, &s); n++) {
		fill(t->ring, s);
		ASSERT_EQ(0, lfq_seq_publish(t->ring, s));
	}
	fill(t->ring, held);
	lfq_seq_publish(t->ring, held);
	ASSERT_EQ(0, lfq_seq_try_wait(&c, c.seq + 1, &avail));
	for (s = c.seq + 1; s != avail + 1; s++) {
		EXPECT_TRUE(filled(t->ring, s))
			TH_LOG("sequence %" PRIu64 " holds what the producer of %"
			       PRIu64 " wrote", s, held);
	}
}

/* ---- publish ------------------------------------------------------------ */

/*
 * SINGLE: publishing s publishes every claim up to s. MULTI: each claim
 * is published alone, in any order, and consumers see the contiguous
 * prefix.
 */
TEST_F(seq, publish_shows_consumers_the_contiguous_prefix)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t first, s, avail;

	reshape(_metadata, t, variant, 8, 16);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	ASSERT_EQ(4, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	ASSERT_EQ(0, first);
	for (s = 0; s < 4; s++)
		fill(t->ring, s);
	if (!multi(t)) {
		ASSERT_EQ(0, lfq_seq_publish(t->ring, 1));
		EXPECT_EQ(1, t->hdr->cursor);
		ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
		EXPECT_EQ(1, avail);
		ASSERT_EQ(0, lfq_seq_publish_range(t->ring, 2, 3));
		EXPECT_EQ(3, t->hdr->cursor);
	} else {
		ASSERT_EQ(0, lfq_seq_publish(t->ring, 2));
		EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 0, &avail));
		ASSERT_EQ(0, lfq_seq_publish(t->ring, 0));
		ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
		EXPECT_EQ(0, avail);
		ASSERT_EQ(0, lfq_seq_publish(t->ring, 3));
		EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 1, &avail));
		ASSERT_EQ(0, lfq_seq_publish(t->ring, 1));
		EXPECT_EQ(LFQ_SEQ_INITIAL, t->hdr->cursor);
	}
	/* past the batch it was given, a wait looks again */
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 2, &avail));
	EXPECT_EQ(3, avail);
	take(_metadata, &c, 3);
}

/*
 * Publishing what is not claimed, what is already published, an empty
 * or reversed range, or (SINGLE) out of order: -EINVAL, no byte of the
 * ring changed, and the consumer sees nothing new. The claims stay
 * publishable.
 */
TEST_F(seq, bad_publishes_return_einval_and_change_nothing)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t first, avail;

	reshape(_metadata, t, variant, 8, 16);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	produce(_metadata, t->ring, 2);
	ASSERT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 2, &first));
	ASSERT_EQ(2, first);
	fill(t->ring, 2);
	fill(t->ring, 3);
	/* never claimed */
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 4));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 100));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 4, 4));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 2, 4));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, LFQ_SEQ_INITIAL));
	/* published already, alone or with claims */
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 1));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 1, 2));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 0, 3));
	/* reversed */
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 3, 2));
	/* SINGLE: 3 before 2 */
	if (!multi(t))
		EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish_range(t->ring, 3, 3));
	take(_metadata, &c, 1);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 2, &avail));
	ASSERT_EQ(0, lfq_seq_publish_range(t->ring, 2, 3));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 2, &avail));
	EXPECT_EQ(3, avail);
	take(_metadata, &c, 3);
	/* MULTI: a claim more than a ring back cannot be published */
	if (multi(t)) {
		EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 3));
		produce(_metadata, t->ring, 8);
		EXPECT_REFUSED(t, -EINVAL, lfq_seq_publish(t->ring, 3));
	}
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

/* ---- consumers ---------------------------------------------------------- */

/*
 * try_wait returns the last sequence available (a batch), remembers it,
 * and is -EAGAIN when the sequence is not there yet.
 */
TEST_F(seq, try_wait_returns_the_batch_end_or_eagain)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t avail = 0;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_YIELD, &c);
	EXPECT_EQ(LFQ_SEQ_INITIAL, c.seq);
	EXPECT_EQ(LFQ_SEQ_INITIAL, c.avail);
	EXPECT_EQ(LFQ_SEQ_PRODUCER, c.follows);
	EXPECT_EQ(LFQ_SEQ_WAIT_YIELD, c.wait);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 0, &avail));
	EXPECT_EQ(0, avail);
	produce(_metadata, t->ring, 3);
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
	EXPECT_EQ(2, avail);
	EXPECT_EQ(2, c.avail);
	EXPECT_EQ(LFQ_SEQ_INITIAL, c.seq);
	avail = 0;
	ASSERT_EQ(0, lfq_seq_wait(&c, 1, &avail, 0));
	EXPECT_EQ(2, avail);
	take(_metadata, &c, 2);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 3, &avail));
	EXPECT_EQ(-ETIMEDOUT, lfq_seq_wait(&c, 3, &avail, 0));
}

/*
 * A wait names a sequence the consumer can get: after its last finished
 * one and at most a ring ahead. Anything else is -EINVAL and changes
 * neither the consumer nor the ring.
 */
TEST_F(seq, wait_outside_the_consumers_ring_is_einval)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c, copy;
	uint64_t avail;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	produce(_metadata, t->ring, 3);
	take(_metadata, &c, 1);
	copy = c;
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_wait(&c, 1, &avail));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_wait(&c, 0, &avail));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_wait(&c, 1 + 4 + 1, &avail));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_wait(&c, LFQ_SEQ_INITIAL, &avail));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_wait(&c, 1, &avail, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_wait(&c, 6, &avail, -1));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_try_wait(&c, 2, NULL));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_wait(&c, 2, NULL, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_wait(NULL, 2, &avail, 0));
	EXPECT_EQ(0, memcmp(&copy, &c, sizeof(c)));
	/* the edges: the next one, and a ring ahead */
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 2, &avail));
	EXPECT_EQ(2, avail);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 1 + 4, &avail));
}

/*
 * Every strategy times out: at once with timeout 0, after the time asked
 * for otherwise, leaving no sleeper counted.
 */
TEST_F(seq, wait_times_out_with_every_strategy)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	unsigned int w;
	uint64_t avail;
	double t0, ms;

	EXPECT_EQ(-EINVAL, lfq_seq_join(t->ring, LFQ_SEQ_PRODUCER,
					LFQ_SEQ_WAIT_BLOCK + 1, &c));
	EXPECT_EQ(-EINVAL, lfq_seq_join(t->ring, LFQ_SEQ_PRODUCER,
					LFQ_SEQ_WAIT_BLOCK, NULL));
	for (w = 0; w < 3; w++) {
		join(_metadata, t->ring, LFQ_SEQ_PRODUCER, waits[w], &c);
		EXPECT_EQ(waits[w], c.wait);
		EXPECT_EQ(-ETIMEDOUT, lfq_seq_wait(&c, c.seq + 1, &avail, 0))
			TH_LOG("%s", wait_names[waits[w]]);
		t0 = now_ms();
		EXPECT_EQ(-ETIMEDOUT, lfq_seq_wait(&c, c.seq + 1, &avail, 30))
			TH_LOG("%s", wait_names[waits[w]]);
		ms = now_ms() - t0;
		EXPECT_LE(30, ms) TH_LOG("%s", wait_names[waits[w]]);
		EXPECT_GT(5000, ms) TH_LOG("%s", wait_names[waits[w]]);
		EXPECT_EQ(0, t->hdr->not_empty.waiters);
		/* and a wait that need not wait returns at once */
		produce(_metadata, t->ring, 1);
		ASSERT_EQ(0, lfq_seq_wait(&c, c.seq + 1, &avail, 0));
		take(_metadata, &c, avail);
		lfq_seq_leave(&c);
	}
}

/*
 * done publishes the consumer's barrier and gives the producer its slots
 * back. A barrier moved backwards, to where it is, or past what the
 * consumer's waits made available is -EINVAL, and nothing changes.
 */
TEST_F(seq, done_moves_the_barrier_forward_within_what_was_available)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c, copy;
	uint64_t avail, first, s;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c);
	EXPECT_EQ(LFQ_SEQ_ACTIVE, barrier_at(t, c.id)->state);
	EXPECT_EQ(LFQ_SEQ_INITIAL, barrier_at(t, c.id)->seq);
	produce(_metadata, t->ring, 4);
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, 0));  /* nothing waited for */
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
	ASSERT_EQ(3, avail);
	ASSERT_EQ(0, lfq_seq_done(&c, 1));
	EXPECT_EQ(1, c.seq);
	EXPECT_EQ(1, barrier_at(t, c.id)->seq);
	EXPECT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	copy = c;
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, 1));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, 0));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, LFQ_SEQ_INITIAL));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, 4));  /* claimed, not published */
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(&c, 1000));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_done(NULL, 2));
	EXPECT_EQ(0, memcmp(&copy, &c, sizeof(c)));
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	/* the rest of the batch, in two steps */
	ASSERT_EQ(0, lfq_seq_done(&c, 2));
	ASSERT_EQ(0, lfq_seq_done(&c, 3));
	EXPECT_EQ(3, barrier_at(t, c.id)->seq);
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

/*
 * Multicast: every consumer sees every item; the producer is held by the
 * slowest, freed by its done, and by its leave.
 */
TEST_F(seq, every_consumer_sees_every_item_and_the_slowest_holds_the_producer)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c[4];
	uint64_t first, s;
	unsigned int i, lap;

	for (i = 0; i < 4; i++)
		join(_metadata, t->ring, LFQ_SEQ_PRODUCER, waits[i % 3], &c[i]);
	for (i = 0; i < 4; i++)
		for (lap = 0; lap < i; lap++) {
			EXPECT_NE(c[lap].id, c[i].id);
		}
	produce(_metadata, t->ring, 4);
	for (i = 0; i < 3; i++)
		take(_metadata, &c[i], 3);
	/* three have finished the ring; the fourth holds it */
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	take(_metadata, &c[3], 1);
	EXPECT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	fill(t->ring, 4);
	fill(t->ring, 5);
	ASSERT_EQ(0, lfq_seq_publish_range(t->ring, 4, 5));
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	/* the slowest leaves: the producer runs to the next slowest */
	lfq_seq_leave(&c[3]);
	EXPECT_EQ(LFQ_SEQ_FREE, barrier_at(t, c[3].id)->state);
	EXPECT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(6, first);
	fill(t->ring, 6);
	fill(t->ring, 7);
	ASSERT_EQ(0, lfq_seq_publish_range(t->ring, 6, 7));
	/* two more laps for the three left, each reading every item */
	for (lap = 0; lap < 2; lap++) {
		for (i = 0; i < 3; i++)
			take(_metadata, &c[i], 7 + 4 * lap);
		produce(_metadata, t->ring, 4);
	}
	EXPECT_EQ(0, lfq_ring_errors(t->ring));
}

/*
 * A consumer that joins late starts after the top: the last sequence
 * published (SINGLE) or claimed (MULTI). It sees exactly what comes
 * after, and holds the producer from there.
 */
TEST_F(seq, late_joiner_starts_after_the_top_and_sees_exactly_the_later_items)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c, d;
	uint64_t avail, s, held;

	produce(_metadata, t->ring, 5);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c);
	EXPECT_EQ(4, c.seq);
	EXPECT_EQ(4, barrier_at(t, c.id)->seq);
	EXPECT_EQ(LFQ_SEQ_ACTIVE, barrier_at(t, c.id)->state);
	EXPECT_EQ(LFQ_SEQ_PRODUCER, barrier_at(t, c.id)->follows);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 5, &avail));
	produce(_metadata, t->ring, 4);
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 5, &avail));
	EXPECT_EQ(8, avail);
	take(_metadata, &c, 8);

	/* a claim in flight: SINGLE starts before it, MULTI after it */
	ASSERT_EQ(0, lfq_seq_try_claim_one(t->ring, &held));
	ASSERT_EQ(9, held);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &d);
	EXPECT_EQ(multi(t) ? held : held - 1, d.seq);
	fill(t->ring, held);
	ASSERT_EQ(0, lfq_seq_publish(t->ring, held));
	produce(_metadata, t->ring, 1);
	ASSERT_EQ(0, lfq_seq_try_wait(&d, d.seq + 1, &avail));
	EXPECT_EQ(10, avail);
	take(_metadata, &d, 10);
	take(_metadata, &c, 10);
}

/*
 * A pipeline: B follows A and sees only what A has finished; B, the
 * slowest, holds the producer. When A leaves, B's waits are -EPIPE
 * (what it had already been given stays readable).
 */
TEST_F(seq, follower_sees_only_what_its_stage_finished)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer a, b;
	uint64_t avail, s;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_YIELD, &a);
	join(_metadata, t->ring, a.id, LFQ_SEQ_WAIT_BLOCK, &b);
	EXPECT_EQ(a.id, b.follows);
	EXPECT_EQ(a.id, barrier_at(t, b.id)->follows);
	produce(_metadata, t->ring, 4);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&b, 0, &avail));
	take(_metadata, &a, 1);
	ASSERT_EQ(0, lfq_seq_try_wait(&b, 0, &avail));
	EXPECT_EQ(1, avail);
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&b, 2, &avail));
	take(_metadata, &a, 3);
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	take(_metadata, &b, 2);
	EXPECT_EQ(0, lfq_seq_try_claim_one(t->ring, &s));
	fill(t->ring, s);
	ASSERT_EQ(0, lfq_seq_publish(t->ring, s));
	lfq_seq_leave(&a);
	EXPECT_EQ(0, lfq_seq_try_wait(&b, 3, &avail));
	EXPECT_EQ(3, avail);
	EXPECT_EQ(-EPIPE, lfq_seq_try_wait(&b, 4, &avail));
	EXPECT_EQ(-EPIPE, lfq_seq_wait(&b, 4, &avail, -1));
	take(_metadata, &b, 3);
}

/*
 * The stage a follower followed left; another consumer took its barrier.
 * The follower still gets -EPIPE: it must not see what the newcomer
 * says is finished, which its own stage never processed.
 */
TEST_F(seq, follower_of_a_stage_that_left_stays_epipe_when_its_barrier_is_reused)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer a, b, n;
	uint64_t avail;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &a);
	join(_metadata, t->ring, a.id, LFQ_SEQ_WAIT_SPIN, &b);
	produce(_metadata, t->ring, 2);
	lfq_seq_leave(&a);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &n);
	ASSERT_EQ(a.id, n.id);	/* the first free barrier: a's */
	EXPECT_EQ(-EPIPE, lfq_seq_try_wait(&b, 0, &avail))
		TH_LOG("the follower was given up to %" PRIu64
		       ", which no stage of its own finished", avail);
}

/*
 * A consumer follows the producers or an active barrier; a free, joining
 * or corrupt one, or an index past the barriers, is -EINVAL. There are
 * LFQ_CLAIMS barriers: the next join is -EBUSY, until one leaves.
 */
TEST_F(seq, join_refuses_missing_stages_and_a_sixty_fifth_consumer)
{
	static struct lfq_seq_consumer c[LFQ_CLAIMS];
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer d;
	uint64_t seen[LFQ_CLAIMS / 64] = { 0 };
	uint32_t i, id;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c[0]);
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_join(t->ring, c[0].id + 1,
						LFQ_SEQ_WAIT_SPIN, &d));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_join(t->ring, LFQ_CLAIMS,
						LFQ_SEQ_WAIT_SPIN, &d));
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_join(t->ring, LFQ_SEQ_PRODUCER - 1,
						LFQ_SEQ_WAIT_SPIN, &d));
	barrier_at(t, c[0].id)->state = LFQ_SEQ_JOINING;
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_join(t->ring, c[0].id,
						LFQ_SEQ_WAIT_SPIN, &d));
	barrier_at(t, c[0].id)->state = 7;
	EXPECT_REFUSED(t, -EINVAL, lfq_seq_join(t->ring, c[0].id,
						LFQ_SEQ_WAIT_SPIN, &d));
	barrier_at(t, c[0].id)->state = LFQ_SEQ_ACTIVE;

	for (i = 1; i < LFQ_CLAIMS; i++) {
		ASSERT_EQ(0, lfq_seq_join(t->ring, c[i - 1].id,
					  LFQ_SEQ_WAIT_SPIN, &c[i]))
			TH_LOG("consumer %u", i);
	}
	for (i = 0; i < LFQ_CLAIMS; i++) {
		ASSERT_GT(LFQ_CLAIMS, c[i].id);
		EXPECT_FALSE(seen[c[i].id / 64] & 1ULL << c[i].id % 64);
		seen[c[i].id / 64] |= 1ULL << c[i].id % 64;
	}
	EXPECT_REFUSED(t, -EBUSY, lfq_seq_join(t->ring, LFQ_SEQ_PRODUCER,
					       LFQ_SEQ_WAIT_SPIN, &d));
	id = c[17].id;
	lfq_seq_leave(&c[17]);
	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &d);
	EXPECT_EQ(id, d.id);
}

/* ---- corruption --------------------------------------------------------- */

/* The ring full: four items nobody has read, the gate still initial. */
static void fill_up(struct __test_metadata *_metadata, struct test_ring *t)
{
	produce(_metadata, t->ring, t->info->capacity);
	ASSERT_EQ(LFQ_SEQ_INITIAL, t->hdr->gate);
}

/*
 * A barrier ahead of the producers: SINGLE counts it (no consumer gets
 * past the cursor); MULTI cannot tell it from a consumer of items
 * claimed since the producer read head, and only clamps it. Either way
 * the claim goes on, as if the consumer stood at the top.
 */
TEST_F(seq, barrier_ahead_of_the_producers_is_clamped)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t first;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	fill_up(_metadata, t);
	barrier_at(t, c.id)->seq = 3 + 100;
	EXPECT_EQ(4, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	EXPECT_EQ(3, t->hdr->gate);
	if (!multi(t))
		EXPECT_EQ(1, lfq_ring_errors(t->ring));
}

/*
 * An active barrier more than a ring behind: counted, and clamped to a
 * ring behind, which holds the producer as a full ring does (the safe
 * guess) without going below. The consumer's next done heals it.
 */
TEST_F(seq, barrier_more_than_a_ring_behind_is_counted_and_clamped)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer c;
	uint64_t first, s;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	fill_up(_metadata, t);
	barrier_at(t, c.id)->seq = 3 - 4 - 5;
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(t->ring, &s));
	EXPECT_EQ(1, lfq_ring_errors(t->ring));
	EXPECT_EQ(3 - 4, t->hdr->gate);
	take(_metadata, &c, 1);
	EXPECT_EQ(2, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	EXPECT_EQ(1, lfq_ring_errors(t->ring));
}

/* A barrier in a state that does not exist: counted and ignored. */
TEST_F(seq, barrier_with_a_bad_state_is_counted_and_skipped)
{
	struct test_ring *t = &self->t;
	uint64_t first;

	fill_up(_metadata, t);
	barrier_at(t, 5)->state = 7;
	barrier_at(t, 5)->seq = LFQ_SEQ_INITIAL - 100;
	EXPECT_EQ(4, lfq_seq_try_claim_up_to(t->ring, 4, &first));
	EXPECT_EQ(4, first);
	EXPECT_EQ(1, lfq_ring_errors(t->ring));
	EXPECT_EQ(3, t->hdr->gate);
}

/*
 * What a consumer follows says more than a ring is available (a stage's
 * barrier, or SINGLE's cursor, scribbled ahead): counted, and clamped to
 * a ring past what the consumer finished.
 */
TEST_F(seq, available_past_a_ring_is_counted_and_clamped)
{
	struct test_ring *t = &self->t;
	struct lfq_seq_consumer a, b;
	uint64_t avail;

	join(_metadata, t->ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &a);
	join(_metadata, t->ring, a.id, LFQ_SEQ_WAIT_SPIN, &b);
	produce(_metadata, t->ring, 2);
	take(_metadata, &a, 0);
	barrier_at(t, a.id)->seq = 0 + 4 + 10;
	ASSERT_EQ(0, lfq_seq_try_wait(&b, 0, &avail));
	EXPECT_EQ(LFQ_SEQ_INITIAL + 4, avail);
	EXPECT_EQ(1, lfq_ring_errors(t->ring));
	if (multi(t))
		return;
	t->hdr->cursor = 0 + 4 + 7;
	ASSERT_EQ(0, lfq_seq_try_wait(&a, 2, &avail));
	EXPECT_EQ(0 + 4, avail);
	EXPECT_EQ(2, lfq_ring_errors(t->ring));
}

/* ---- laps --------------------------------------------------------------- */

/*
 * Many laps of rings of 2 and 4 slots of 72-byte elements (two cache
 * lines with the marker), two consumers: the producer claims what it
 * may, 1..capacity at a time, and publishes in one go or piece by
 * piece; the consumers take random parts of what is available and check
 * every byte of every element. Nothing is lost, nothing read twice, and
 * the producer never writes a slot a consumer has not finished.
 */
TEST_F(seq, many_laps_on_tiny_rings_keep_every_byte)
{
	const uint32_t caps[] = { 2, 4 };
	struct test_ring *t = &self->t;
	unsigned int k, i;

	for (k = 0; k < 2; k++) {
		uint32_t cap = caps[k];
		struct lfq_seq_consumer c[2];
		uint64_t x = 11 + k, next = 0, first, s, avail, upto;
		int n;

		reshape(_metadata, t, variant, cap, 72);
		ASSERT_EQ(128, t->info->slot_stride);
		for (i = 0; i < 2; i++)
			join(_metadata, t->ring, LFQ_SEQ_PRODUCER, waits[i], &c[i]);
		while (next < 3000) {
			n = lfq_seq_try_claim_up_to(t->ring, 1 + rnd(&x) % cap,
						    &first);
			if (n > 0) {
				ASSERT_EQ(next, first);
				for (s = first; s != first + n; s++)
					fill(t->ring, s);
				if (rnd(&x) % 2) {
					ASSERT_EQ(0, lfq_seq_publish_range(
						t->ring, first, first + n - 1));
				} else {
					for (s = first; s != first + n; s++) {
						ASSERT_EQ(0, lfq_seq_publish(t->ring, s));
					}
				}
				next += (uint64_t)n;
			} else {
				ASSERT_EQ(-ENOSPC, n);
			}
			i = rnd(&x) % 2;
			if (lfq_seq_try_wait(&c[i], c[i].seq + 1, &avail))
				continue;
			/* a random part of the batch, checked, finished */
			upto = c[i].seq + 1 + rnd(&x) % (avail - c[i].seq);
			take(_metadata, &c[i], upto);
			ASSERT_GE(c[i].seq + cap, next - 1);
		}
		for (i = 0; i < 2; i++) {
			if (c[i].seq != next - 1)
				take(_metadata, &c[i], next - 1);
		}
		EXPECT_EQ(0, lfq_ring_errors(t->ring));
	}
}

/* ---- waiting ------------------------------------------------------------ */

/*
 * For an unjoined handle: POLLOUT when a sequence can be claimed, POLLIN
 * when some consumer is behind the producers.
 */
TEST(wait_begin_reports_seq_readiness_and_counts_waiters)
{
	uint32_t policy;

	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		struct lfq_seq_consumer c;
		struct test_ring t;

		ASSERT_EQ(0, seq_ring(&t, T_MEM, policy, 2, 8));
		expect_wait_counts_on_empty(_metadata, &t);
		join(_metadata, t.ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c);
		EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
		lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
		produce(_metadata, t.ring, 1);
		EXPECT_EQ(POLLIN | POLLOUT,
			  lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
		lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
		produce(_metadata, t.ring, 1);
		EXPECT_EQ(POLLIN, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
		lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
		take(_metadata, &c, 1);
		EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
		lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
		expect_wait_refuses_other_events(_metadata, &t);
		test_ring_free(&t);
	}
}

/*
 * The hand-off threads of unit_util.h: a consumer sleeping in wait (or
 * spinning, or yielding) gets each item published, on every kind of
 * memory and both policies.
 */
TEST(blocked_wait_is_woken_by_publish)
{
	unsigned int kind, w, i;
	uint64_t x = 7, v, s;
	uint32_t policy;

	alarm(60);
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		for (kind = 0; kind < T_KINDS; kind++) {
			for (w = 0; w < 3; w++) {
				uint32_t wait = waits[w];
				struct handoff h;
				struct test_ring t;
				uint32_t *waiters = NULL;

				/* spinners are quick to test: on the heap only */
				if (wait != LFQ_SEQ_WAIT_BLOCK && kind != T_HEAP)
					continue;
				ASSERT_EQ(0, seq_ring(&t, kind, policy, 4, 8));
				ASSERT_EQ(0, popper_join(t.ring, wait));
				if (t.hdr && wait == LFQ_SEQ_WAIT_BLOCK)
					waiters = &t.hdr->not_empty.waiters;
				ASSERT_EQ(0, handoff_start(&h, t.ring,
							   handoff_popper));
				for (i = 0; i < h.n; i++) {
					handoff_wait(&h, i, waiters, &x);
					v = i;
					if (i % 3) {
						ASSERT_EQ(0, push_item(t.ring, &v));
						continue;
					}
					ASSERT_EQ(0, lfq_seq_try_claim_one(t.ring, &s));
					memcpy(lfq_seq_elem(t.ring, s), &v, sizeof(v));
					ASSERT_EQ(0, lfq_seq_publish_range(t.ring, s, s));
				}
				EXPECT_EQ(0, handoff_join(&h))
					TH_LOG("%s %s %s", kind_names[kind],
					       policy ? "multi" : "single",
					       wait_names[wait]);
				if (t.hdr)
					EXPECT_EQ(0, t.hdr->not_empty.waiters);
				popper_leave(t.ring);
				test_ring_free(&t);
			}
		}
	}
	alarm(0);
}

/* A producer sleeping in claim, a ring ahead of the consumer, is woken by done. */
TEST(blocked_claim_is_woken_by_done)
{
	unsigned int kind, i;
	uint64_t x = 9, v;
	uint32_t policy;

	alarm(60);
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		for (kind = 0; kind < T_KINDS; kind++) {
			struct handoff h;
			struct test_ring t;
			uint32_t *waiters;

			ASSERT_EQ(0, seq_ring(&t, kind, policy, 2, 8));
			ASSERT_EQ(0, popper_join(t.ring, LFQ_SEQ_WAIT_BLOCK));
			for (v = 0; v < 2; v++) {
				ASSERT_EQ(0, push_item(t.ring, &v));
			}
			waiters = t.hdr ? &t.hdr->not_full.waiters : NULL;
			ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_pusher));
			for (i = 0; i < h.n; i++) {
				/* the helper's claim of i + 2 now waits for us */
				handoff_wait(&h, i, waiters, &x);
				ASSERT_EQ(0, pop_item(t.ring, &v));
				ASSERT_EQ(i, v);
			}
			EXPECT_EQ(0, handoff_join(&h))
				TH_LOG("%s %s", kind_names[kind],
				       policy ? "multi" : "single");
			for (i = h.n; i < h.n + 2; i++) {
				ASSERT_EQ(0, pop_item(t.ring, &v));
				EXPECT_EQ(i, v);
			}
			if (t.hdr)
				EXPECT_EQ(0, t.hdr->not_full.waiters);
			popper_leave(t.ring);
			test_ring_free(&t);
		}
	}
	alarm(0);
}

/*
 * Across processes on one memfd: the parent joins a consumer on each ring
 * before the fork, so that neither misses the first item; the child pops
 * through the one of the ring it reads, its barrier being in the shared
 * memory, with its own handle of that ring.
 */
static struct lfq_ring *echo_to;

static int echo_seq_items(struct lfq_ring *in, struct lfq_ring *out)
{
	struct lfq_seq_consumer *c = popper_of(echo_to);

	if (lfq_ring_info(in)->type != LFQ_RING_SEQ || !c)
		return 5;
	c->ring = in;
	return echo_items(in, out);
}

TEST(blocked_wait_on_memfd_is_woken_from_another_process)
{
	uint32_t policy;

	alarm(60);
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		struct lfq_create p = ring_params(2, 8);
		struct lfq_ring *from = NULL;

		p.policy = policy;
		echo_to = NULL;
		ASSERT_EQ(0, lfq_ring_create(&echo_to, &p, LFQ_MEM_MEMFD));
		ASSERT_EQ(0, lfq_ring_create(&from, &p, LFQ_MEM_MEMFD));
		ASSERT_EQ(0, popper_join(echo_to, LFQ_SEQ_WAIT_BLOCK));
		ASSERT_EQ(0, popper_join(from, LFQ_SEQ_WAIT_BLOCK));
		echo_across_fork(_metadata, echo_to, from, echo_seq_items);
		popper_leave(from);
		popper_leave(echo_to);
		lfq_ring_destroy(echo_to);
		lfq_ring_destroy(from);
	}
	alarm(0);
}

/*
 * A follower asleep on its stage is woken by the stage's done, and by
 * its leave, after which its wait returns -EPIPE.
 */
struct follower {
	struct lfq_seq_consumer c;
	unsigned int n;			/* items to take */
	_Atomic unsigned int taken;
	_Atomic int last;		/* what its last wait returned */
	pthread_t tid;
};

static void *follow(void *arg)
{
	struct follower *f = arg;
	uint64_t avail, v;
	int ret;

	for (;;) {
		ret = lfq_seq_wait(&f->c, f->c.seq + 1, &avail, -1);
		atomic_store(&f->last, ret);
		if (ret)
			return NULL;
		memcpy(&v, lfq_seq_elem(f->c.ring, f->c.seq + 1), sizeof(v));
		if (v != f->c.seq + 1 || lfq_seq_done(&f->c, f->c.seq + 1))
			return NULL;
		atomic_fetch_add(&f->taken, 1);
	}
}

TEST(sleeping_follower_is_woken_by_its_stage_and_by_its_leave)
{
	unsigned int kind, i;
	uint64_t x = 5, v;

	alarm(60);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct lfq_seq_consumer *a;
		struct follower f = { .n = 500 };
		struct test_ring t;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_new(&t, kind, 4, 8));
		ASSERT_EQ(0, popper_join(t.ring, LFQ_SEQ_WAIT_YIELD));
		a = popper_of(t.ring);
		join(_metadata, t.ring, a->id, LFQ_SEQ_WAIT_BLOCK, &f.c);
		waiters = t.hdr ? &t.hdr->not_empty.waiters : NULL;
		ASSERT_EQ(0, pthread_create(&f.tid, NULL, follow, &f));
		for (i = 0; i < f.n; i++) {
			v = i;
			ASSERT_EQ(0, push_item(t.ring, &v));
			/* the follower sleeps now or soon; wake it with a done */
			if (waiters && i % 2)
				wait_for_sleeper(waiters);
			else if (rnd(&x) % 2)
				usleep(rnd(&x) % 100);
			ASSERT_EQ(0, pop_item(t.ring, &v));
			ASSERT_EQ(i, v);
			while (atomic_load(&f.taken) < i + 1 && !atomic_load(&f.last))
				sched_yield();
			ASSERT_EQ(0, atomic_load(&f.last)) TH_LOG("item %u", i);
		}
		if (waiters)
			wait_for_sleeper(waiters);
		popper_leave(t.ring);
		pthread_join(f.tid, NULL);
		EXPECT_EQ(-EPIPE, atomic_load(&f.last)) TH_LOG("%s", kind_names[kind]);
		EXPECT_EQ(f.n, atomic_load(&f.taken));
		lfq_seq_leave(&f.c);
		test_ring_free(&t);
	}
	alarm(0);
}

/* ring_new() and both_mems of unit_util.h: every memory, default policy. */
TEST(single_is_the_default_policy_on_every_memory)
{
	unsigned int b;

	for (b = 0; b < 2; b++) {
		struct lfq_ring *r = ring_new(8, 8, both_mems[b]);

		ASSERT_NE(NULL, r);
		EXPECT_EQ(LFQ_SEQ_SINGLE, lfq_ring_info(r)->policy);
		lfq_ring_destroy(r);
	}
}

TEST_HARNESS_MAIN
