// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of liblfq's work-stealing deque: every operation and every
 * error, single-threaded and deterministic except for the hand-off
 * tests at the end.
 *
 * The fixture wsd runs each test on a heap deque, on a memfd deque
 * mapped a second time and on one in caller memory
 * (lfq_ring_create_mem()); the last two let the test see the shared
 * words: struct lfq_wsdeque_hdr at info.desc_size, and inside it the
 * element of position p at info.slots_off + (p & (capacity - 1)) *
 * info.slot_stride, with no slot header (<linux/lfq.h>).
 *
 * A model of the deque says what each call must do: the values at the
 * positions top..bottom - 1, of which pop takes the newest, steal the
 * oldest and steal_batch the oldest min(n, half rounded up). After
 * every call the model's positions are the ring's and its length is
 * lfq_wsdeque_len(). Elements hold a pattern of their value, checked
 * byte for byte, and the buffers a call fills hold another pattern
 * before it, so that a call that copies nothing is caught.
 *
 * A refused call must change no byte of the ring region. Corruption is
 * a scribble on top or bottom, as a buggy or hostile peer would leave
 * them.
 *
 * Threaded tests are bounded by alarm(): a lost item or a thief that
 * never wins kills the test with SIGALRM, a failure, instead of hanging.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>

#include "lfq.h"

/*
 * unit_util.h moves 8-byte items with nothing but a ring, waiting as
 * long as it takes: here one attempt after another. The pusher is the
 * deque's owner, the popper a thief.
 */
static int push_item(struct lfq_ring *r, const uint64_t *v)
{
	struct lfq_wsdeque_worker w;
	int ret = lfq_wsdeque_worker(r, &w);

	if (ret)
		return ret;
	while ((ret = lfq_wsdeque_push(&w, v)) == -ENOSPC)
		sched_yield();
	return ret;
}

static int steal_item(struct lfq_ring *r, uint64_t *v)
{
	struct lfq_wsdeque_stealer s;
	int ret = lfq_wsdeque_stealer(r, &s);

	if (ret)
		return ret;
	while ((ret = lfq_wsdeque_steal(&s, v)) == -EAGAIN || ret == -EBUSY)
		sched_yield();
	return ret;
}

/* The ring under test, for unit_util.h. */
#define UNIT_TYPE		LFQ_RING_WSDEQUE
#define UNIT_HDR		struct lfq_wsdeque_hdr
#define UNIT_PUSH(r, e)		push_item(r, e)
#define UNIT_POP(r, e)		steal_item(r, e)
#include "unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

#define CAP_MAX		1024	/* the largest deque of these tests */
#define ES_MAX		128	/* and its largest element */

static const uint32_t sizes[] = { 1, 8, 13, 64, 100 };

static uint8_t pattern(uint64_t v, uint32_t i)
{
	return (uint8_t)(v * 131 + i * 7 + 1);
}

static void fill(uint8_t *e, uint32_t es, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < es; i++)
		e[i] = pattern(v, i);
}

/* Does e hold the pattern of v, every byte? */
static bool holds(const uint8_t *e, uint32_t es, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < es; i++)
		if (e[i] != pattern(v, i))
			return false;
	return true;
}

/* A deque, its two handles, and its model. */
struct deque {
	struct test_ring t;
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
	uint32_t cap, es;
	uint64_t vals[CAP_MAX];		/* the value of position p at p % cap */
	int64_t top, bottom;
	uint64_t next;			/* the value the next push writes */
	uint64_t errors;		/* what lfq_ring_errors() must say */
};

static int deque_new(struct deque *d, int kind, uint32_t cap, uint32_t es)
{
	int ret;

	memset(d, 0, sizeof(*d));
	if (cap > CAP_MAX || es > ES_MAX)
		return -E2BIG;
	ret = test_ring_new(&d->t, kind, cap, es);
	if (ret)
		return ret;
	d->cap = cap;
	d->es = es;
	ret = lfq_wsdeque_worker(d->t.ring, &d->w);
	return ret ? ret : lfq_wsdeque_stealer(d->t.ring, &d->s);
}

static int64_t model_len(const struct deque *d)
{
	return d->bottom - d->top;
}

static uint64_t *model_val(struct deque *d, int64_t pos)
{
	return &d->vals[(uint64_t)pos % d->cap];
}

/* The element of pos in the ring region, which the test must see. */
static uint8_t *slot_at(const struct deque *d, int64_t pos)
{
	return (uint8_t *)d->t.hdr + d->t.info->slots_off +
	       ((uint64_t)pos & (d->cap - 1)) * d->t.info->slot_stride;
}

/* The ring region, or NULL where the test does not see it (heap). */
static void *snapshot(const struct test_ring *t)
{
	void *copy;

	if (!t->hdr)
		return NULL;
	copy = malloc(t->info->ring_size);
	if (copy)
		memcpy(copy, t->hdr, t->info->ring_size);
	return copy;
}

/* call must return want and change no byte of the ring region. */
#define EXPECT_REFUSED(t, want, call) do {				\
	void *before_ = snapshot(t);					\
									\
	ASSERT_TRUE(before_ || !(t)->hdr);				\
	EXPECT_EQ(want, call) TH_LOG("%s", #call);			\
	if (before_) {							\
		EXPECT_EQ(0, memcmp(before_, (t)->hdr,			\
				    (t)->info->ring_size))		\
			TH_LOG("%s changed the ring", #call);		\
	}								\
	free(before_);							\
} while (0)

/* The ring agrees with the model: positions, length, errors. */
static void expect_model(struct __test_metadata *_metadata,
			 const struct deque *d)
{
	EXPECT_EQ((uint64_t)model_len(d), lfq_wsdeque_len(d->t.ring));
	EXPECT_EQ(d->errors, lfq_ring_errors(d->t.ring));
	if (!d->t.hdr)
		return;
	EXPECT_EQ(d->top, d->t.hdr->top);
	EXPECT_EQ(d->bottom, d->t.hdr->bottom);
}

/* Push the next value, or be refused with -ENOSPC when the model is full. */
static void do_push(struct __test_metadata *_metadata, struct deque *d)
{
	uint8_t e[ES_MAX];

	fill(e, d->es, d->next);
	if (model_len(d) == d->cap) {
		EXPECT_REFUSED(&d->t, -ENOSPC, lfq_wsdeque_push(&d->w, e));
	} else {
		ASSERT_EQ(0, lfq_wsdeque_push(&d->w, e));
		*model_val(d, d->bottom++) = d->next++;
	}
	expect_model(_metadata, d);
}

/*
 * Take one element with pop (the newest) or steal (the oldest), or be
 * refused with -EAGAIN when the model is empty.
 */
static void do_take(struct __test_metadata *_metadata, struct deque *d,
		    bool pop)
{
	uint8_t e[ES_MAX];
	uint64_t want;

	if (!model_len(d)) {
		if (pop)
			EXPECT_REFUSED(&d->t, -EAGAIN, lfq_wsdeque_pop(&d->w, e));
		else
			EXPECT_REFUSED(&d->t, -EAGAIN,
				       lfq_wsdeque_steal(&d->s, e));
		expect_model(_metadata, d);
		return;
	}
	want = pop ? *model_val(d, d->bottom - 1) : *model_val(d, d->top);
	fill(e, d->es, ~want);
	ASSERT_EQ(0, pop ? lfq_wsdeque_pop(&d->w, e) :
			   lfq_wsdeque_steal(&d->s, e));
	EXPECT_TRUE(holds(e, d->es, want))
		TH_LOG("%s of value %" PRIu64 ", %u bytes",
		       pop ? "pop" : "steal", want, d->es);
	/* the owner takes the last one as a thief would, with a CAS on top */
	if (pop && model_len(d) > 1)
		d->bottom--;
	else
		d->top++;
	expect_model(_metadata, d);
}

static void do_pop(struct __test_metadata *_metadata, struct deque *d)
{
	do_take(_metadata, d, true);
}

static void do_steal(struct __test_metadata *_metadata, struct deque *d)
{
	do_take(_metadata, d, false);
}

/*
 * steal_batch of up to n: the oldest min(n, half rounded up), in
 * order, and not a byte of the buffer past them; -EAGAIN when empty.
 */
static void do_batch(struct __test_metadata *_metadata, struct deque *d,
		     unsigned int n)
{
	static uint8_t buf[(CAP_MAX + 1) * ES_MAX];
	int64_t len = model_len(d);
	unsigned int want, i;
	size_t end;

	ASSERT_GE(CAP_MAX + 1, n);
	memset(buf, 0x5a, sizeof(buf));
	if (!len) {
		EXPECT_REFUSED(&d->t, -EAGAIN,
			       lfq_wsdeque_steal_batch(&d->s, buf, n));
		expect_model(_metadata, d);
		return;
	}
	want = (len + 1) / 2 < n ? (unsigned int)((len + 1) / 2) : n;
	ASSERT_EQ((int)want, lfq_wsdeque_steal_batch(&d->s, buf, n))
		TH_LOG("%u of %" PRId64, n, len);
	for (i = 0; i < want; i++) {
		EXPECT_TRUE(holds(buf + (size_t)i * d->es, d->es,
				  *model_val(d, d->top + i)))
			TH_LOG("element %u of a batch of %u, %u bytes", i, want,
			       d->es);
	}
	for (end = (size_t)want * d->es; end < (size_t)n * d->es; end++) {
		ASSERT_EQ(0x5a, buf[end]) TH_LOG("byte %zu past the batch", end);
	}
	d->top += want;
	expect_model(_metadata, d);
}

/* Take everything with pops, then find it empty. */
static void drain(struct __test_metadata *_metadata, struct deque *d)
{
	while (model_len(d))
		do_pop(_metadata, d);
	do_pop(_metadata, d);
}

/* ---- the fixture: heap, memfd and caller memory ------------------------- */

FIXTURE(wsd) {
	struct deque d;
};

FIXTURE_VARIANT(wsd) {
	int kind;
};

FIXTURE_VARIANT_ADD(wsd, heap) {
	.kind = T_HEAP,
};

FIXTURE_VARIANT_ADD(wsd, memfd) {
	.kind = T_MEMFD,
};

FIXTURE_VARIANT_ADD(wsd, mem) {
	.kind = T_MEM,
};

/* Every test starts on a deque of 8 slots of 16 bytes. */
FIXTURE_SETUP(wsd)
{
	ASSERT_EQ(0, deque_new(&self->d, variant->kind, 8, 16));
}

FIXTURE_TEARDOWN(wsd)
{
	test_ring_free(&self->d.t);
}

/* Make the fixture's deque again with another geometry. */
static void reshape(struct __test_metadata *_metadata, struct deque *d,
		    const FIXTURE_VARIANT(wsd) *variant, uint32_t cap,
		    uint32_t es)
{
	test_ring_free(&d->t);
	ASSERT_EQ(0, deque_new(d, variant->kind, cap, es));
}

/* ---- handles and geometry ----------------------------------------------- */

/*
 * Handles are for deques only, and every call refuses what is not a
 * deque's handle or has nowhere to copy, changing nothing.
 */
TEST(handles_refuse_other_ring_types_and_null)
{
	struct lfq_wsdeque_worker w = { NULL }, none_w = { NULL }, vw;
	struct lfq_wsdeque_stealer s = { NULL }, none_s = { NULL }, vs;
	struct lfq_create p = ring_params(4, 8);
	struct lfq_ring *r = NULL, *dq;
	uint64_t v = 7;

	p.type = LFQ_RING_VYUKOV;
	ASSERT_EQ(0, lfq_ring_create(&r, &p, LFQ_MEM_HEAP));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_worker(r, &w));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_stealer(r, &s));
	EXPECT_EQ(NULL, w.ring);
	EXPECT_EQ(NULL, s.ring);
	EXPECT_EQ(-EINVAL, lfq_wsdeque_worker(NULL, &w));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_stealer(NULL, &s));
	EXPECT_EQ(0, lfq_wsdeque_len(r));
	EXPECT_EQ(0, lfq_wsdeque_len(NULL));
	/* handles of another ring type, made by hand */
	vw.ring = r;
	vs.ring = r;
	EXPECT_EQ(-EINVAL, lfq_wsdeque_push(&vw, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_pop(&vw, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal(&vs, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal_batch(&vs, &v, 1));
	EXPECT_EQ(0, lfq_vyukov_size(r));
	lfq_ring_destroy(r);

	dq = ring_new(4, 8, LFQ_MEM_HEAP);
	ASSERT_NE(NULL, dq);
	EXPECT_EQ(-EINVAL, lfq_wsdeque_worker(dq, NULL));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_stealer(dq, NULL));
	ASSERT_EQ(0, lfq_wsdeque_worker(dq, &w));
	ASSERT_EQ(0, lfq_wsdeque_stealer(dq, &s));
	EXPECT_EQ(dq, w.ring);
	EXPECT_EQ(dq, s.ring);
	ASSERT_EQ(0, lfq_wsdeque_push(&w, &v));
	/* no handle, a handle of no ring, nowhere to copy, n == 0 */
	EXPECT_EQ(-EINVAL, lfq_wsdeque_push(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_pop(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal(NULL, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal_batch(NULL, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_push(&none_w, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_pop(&none_w, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal(&none_s, &v));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal_batch(&none_s, &v, 1));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_push(&w, NULL));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_pop(&w, NULL));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal(&s, NULL));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal_batch(&s, NULL, 1));
	EXPECT_EQ(-EINVAL, lfq_wsdeque_steal_batch(&s, &v, 0));
	/* the element pushed is still the only one */
	EXPECT_EQ(1, lfq_wsdeque_len(dq));
	v = 0;
	EXPECT_EQ(0, lfq_wsdeque_steal(&s, &v));
	EXPECT_EQ(7, v);
	EXPECT_EQ(-EAGAIN, lfq_wsdeque_pop(&w, &v));
	EXPECT_EQ(0, lfq_ring_errors(dq));
	lfq_ring_destroy(dq);
}

/* A deque has one policy, 0, and the other creation rules of every ring. */
TEST(other_policies_and_bad_geometry_are_refused)
{
	struct lfq_create p = ring_params(4, 8);

	p.policy = 1;
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(3, 8);
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, 0);
	expect_all_refuse(_metadata, &p, -EINVAL);
	p = ring_params(4, LFQ_ELEM_MAX + 1);
	expect_all_refuse(_metadata, &p, -EINVAL);
}

/*
 * Slots hold the element alone, in whole cache lines, from
 * LFQ_WSDEQUE_SLOTS_OFF; a new deque has top and bottom 0 and nobody
 * waiting; the element of position p is in slot p & (capacity - 1), a
 * lap later too.
 */
static void expect_wsd_geometry(struct __test_metadata *_metadata, int kind,
				uint32_t cap, uint32_t es)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct lfq_create p = ring_params(cap, es);
	const struct lfq_info *i;
	struct deque d;
	uint32_t k;

	ASSERT_EQ(0, deque_new(&d, kind, cap, es));
	i = d.t.info;
	EXPECT_EQ(LFQ_RING_WSDEQUE, i->type);
	EXPECT_EQ(0, i->policy);
	EXPECT_EQ(cap, i->capacity);
	EXPECT_EQ(es, i->elem_size);
	EXPECT_EQ(LFQ_STRIDE(LFQ_WSDEQUE_SLOT_HDR, es), i->slot_stride);
	EXPECT_EQ(LFQ_WSDEQUE_SLOTS_OFF, i->slots_off);
	EXPECT_EQ(0, i->claims_off);
	EXPECT_EQ(0, i->nr_claims);
	EXPECT_LE(LFQ_WSDEQUE_SLOTS_OFF + (uint64_t)cap * i->slot_stride,
		  i->ring_size);
	EXPECT_EQ(0, i->ring_size % page);
	EXPECT_EQ((ssize_t)(i->desc_size + i->ring_size), lfq_ring_mem_size(&p));
	if (d.t.hdr) {
		EXPECT_EQ(0, d.t.hdr->top);
		EXPECT_EQ(0, d.t.hdr->bottom);
		EXPECT_EQ(0, d.t.hdr->not_empty.waiters);
		EXPECT_EQ(0, d.t.hdr->not_full.waiters);
	}
	for (k = 0; k < cap; k++)
		do_push(_metadata, &d);
	for (k = 0; d.t.hdr && k < cap; k++) {
		EXPECT_TRUE(holds(slot_at(&d, k), es, k)) TH_LOG("slot %u", k);
	}
	do_steal(_metadata, &d);
	do_push(_metadata, &d);
	if (d.t.hdr) {
		EXPECT_TRUE(holds(slot_at(&d, cap), es, cap));
	}
	test_ring_free(&d.t);
}

TEST(create_lays_out_slots_without_a_header)
{
	const uint32_t caps[] = { 2, 4, 1024 };
	unsigned int c, s, kind;

	EXPECT_EQ(0, offsetof(struct lfq_wsdeque_hdr, top));
	EXPECT_EQ(64, offsetof(struct lfq_wsdeque_hdr, bottom));
	EXPECT_EQ(LFQ_WSDEQUE_SLOTS_OFF, sizeof(struct lfq_wsdeque_hdr));
	for (kind = 0; kind < T_KINDS; kind++)
		for (c = 0; c < 3; c++)
			for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
				expect_wsd_geometry(_metadata, kind, caps[c],
						    sizes[s]);
}

/*
 * A memfd deque describes itself, and a handle attached to it shares
 * the deque: what one owner pushes, a thief of the other takes.
 */
TEST(memfd_describes_itself_and_attach_shares_the_deque)
{
	struct lfq_ring *a = NULL, *b = NULL;
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
	struct lfq_desc desc;
	uint64_t v;

	a = ring_new(4, 8, LFQ_MEM_MEMFD);
	ASSERT_NE(NULL, a);
	expect_memfd_describes_itself(_metadata, a, &desc);
	EXPECT_EQ(0, desc.info.nr_claims);
	ASSERT_EQ(0, lfq_ring_attach(&b, lfq_ring_fd(a)));
	ASSERT_EQ(0, lfq_wsdeque_worker(a, &w));
	ASSERT_EQ(0, lfq_wsdeque_stealer(b, &s));
	for (v = 10; v < 13; v++) {
		ASSERT_EQ(0, lfq_wsdeque_push(&w, &v));
	}
	EXPECT_EQ(3, lfq_wsdeque_len(b));
	ASSERT_EQ(0, lfq_wsdeque_steal(&s, &v));
	EXPECT_EQ(10, v);
	ASSERT_EQ(0, lfq_wsdeque_pop(&w, &v));
	EXPECT_EQ(12, v);
	EXPECT_EQ(1, lfq_wsdeque_len(b));
	lfq_ring_destroy(b);
	lfq_ring_destroy(a);
}

/* ---- the operations, one at a time ------------------------------------- */

/* The owner alone: newest first, however pushes and pops interleave. */
TEST_F(wsd, owner_pops_newest_first)
{
	struct deque *d = &self->d;
	unsigned int i;

	for (i = 0; i < d->cap; i++)
		do_push(_metadata, d);
	for (i = 0; i < 3; i++)
		do_pop(_metadata, d);
	do_push(_metadata, d);
	do_push(_metadata, d);
	drain(_metadata, d);
	EXPECT_EQ(d->cap + 2, d->next);
}

/* A thief alone: oldest first, around a lap. */
TEST_F(wsd, thief_steals_oldest_first)
{
	struct deque *d = &self->d;
	unsigned int i;

	for (i = 0; i < d->cap; i++)
		do_push(_metadata, d);
	for (i = 0; i < d->cap / 2; i++)
		do_steal(_metadata, d);
	for (i = 0; i < d->cap / 2; i++)
		do_push(_metadata, d);
	while (model_len(d))
		do_steal(_metadata, d);
	do_steal(_metadata, d);
	EXPECT_EQ(d->cap + d->cap / 2, d->top);
}

/* A full deque refuses a push until a pop or a steal makes room. */
TEST_F(wsd, push_to_full_is_enospc_until_one_is_taken)
{
	struct deque *d = &self->d;
	unsigned int i;

	for (i = 0; i < d->cap; i++)
		do_push(_metadata, d);
	ASSERT_EQ(d->cap, model_len(d));
	do_push(_metadata, d);
	do_push(_metadata, d);
	do_steal(_metadata, d);
	do_push(_metadata, d);
	ASSERT_EQ(d->cap, model_len(d));
	do_push(_metadata, d);
	do_pop(_metadata, d);
	do_push(_metadata, d);
	do_push(_metadata, d);
	EXPECT_EQ(d->cap + 2, d->next);
}

/* An empty deque, new or emptied, refuses pop, steal and steal_batch. */
TEST_F(wsd, pop_and_steal_on_empty_are_eagain)
{
	struct deque *d = &self->d;

	do_pop(_metadata, d);
	do_steal(_metadata, d);
	do_batch(_metadata, d, 1);
	do_batch(_metadata, d, d->cap);
	do_push(_metadata, d);
	do_push(_metadata, d);
	do_pop(_metadata, d);
	do_steal(_metadata, d);
	ASSERT_EQ(1, d->top);
	do_pop(_metadata, d);
	do_steal(_metadata, d);
	do_batch(_metadata, d, 3);
}

/*
 * From every length, a batch of every n takes min(n, half rounded up)
 * of the oldest; n == 0 is refused, even with elements there.
 */
TEST_F(wsd, steal_batch_takes_at_most_half_rounded_up)
{
	struct deque *d = &self->d;
	uint8_t buf[ES_MAX];
	unsigned int len, n, i;

	for (len = 1; len <= d->cap; len++) {
		for (n = 1; n <= d->cap + 1; n++) {
			for (i = 0; i < len; i++)
				do_push(_metadata, d);
			do_batch(_metadata, d, n);
			drain(_metadata, d);
		}
	}
	do_push(_metadata, d);
	EXPECT_REFUSED(&d->t, -EINVAL, lfq_wsdeque_steal_batch(&d->s, buf, 0));
	expect_model(_metadata, d);
}

/* ---- laps and interleavings --------------------------------------------- */

/*
 * Many laps of deques of 2 and 4 slots, every element size, random
 * pushes, pops, steals and batches: every call as the model says, every
 * byte of every element.
 */
TEST_F(wsd, many_laps_on_tiny_deques_keep_every_byte)
{
	const uint32_t caps[] = { 2, 4 };
	struct deque *d = &self->d;
	unsigned int c, s, i;

	for (c = 0; c < 2; c++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint64_t x = 17 + c * 8 + s;

			reshape(_metadata, d, variant, caps[c], sizes[s]);
			for (i = 0; i < 4000; i++) {
				uint32_t r = rnd(&x) % 20;

				if (r < 9)
					do_push(_metadata, d);
				else if (r < 13)
					do_pop(_metadata, d);
				else if (r < 17)
					do_steal(_metadata, d);
				else
					do_batch(_metadata, d,
						 1 + rnd(&x) % (caps[c] + 1));
			}
			/* the thieves went round many times */
			EXPECT_LT(100 * caps[c], d->top);
			drain(_metadata, d);
		}
	}
}

/*
 * Every sequence of five calls among push, pop, steal and a batch of
 * up to the capacity, from an empty, a half full and a full deque of 2
 * slots of 13 bytes; the positions run on across the sequences.
 */
TEST_F(wsd, every_short_interleaving_from_every_length)
{
	struct deque *d = &self->d;
	unsigned int len, seq, k, i;

	reshape(_metadata, d, variant, 2, 13);
	for (len = 0; len <= 2; len++) {
		for (seq = 0; seq < 4 * 4 * 4 * 4 * 4; seq++) {
			drain(_metadata, d);
			for (i = 0; i < len; i++)
				do_push(_metadata, d);
			for (k = seq, i = 0; i < 5; i++, k /= 4) {
				switch (k % 4) {
				case 0:
					do_push(_metadata, d);
					break;
				case 1:
					do_pop(_metadata, d);
					break;
				case 2:
					do_steal(_metadata, d);
					break;
				default:
					do_batch(_metadata, d, 2);
				}
			}
		}
	}
}

/* ---- corruption --------------------------------------------------------- */

/*
 * call, on a deque whose top and bottom a peer scribbled: returns want,
 * changes no byte, and counts one error.
 */
#define EXPECT_CORRUPT(d, top, bottom, want, call) do {			\
	uint64_t errors_ = lfq_ring_errors((d)->t.ring);		\
									\
	(d)->t.hdr->top = (top);					\
	(d)->t.hdr->bottom = (bottom);					\
	EXPECT_REFUSED(&(d)->t, want, call);				\
	EXPECT_EQ(errors_ + 1, lfq_ring_errors((d)->t.ring))		\
		TH_LOG("%s: one error, top %" PRId64 " bottom %" PRId64,	\
		       #call, (int64_t)(top), (int64_t)(bottom));	\
} while (0)

/*
 * With bottom - top scribbled outside -1..capacity: pop and push say
 * -EIO, steal and steal_batch find nothing, each call counted once and
 * changing no byte; len is clamped. Written back, the deque goes on as
 * before.
 */
static void expect_scribble_refused(struct __test_metadata *_metadata,
				    struct deque *d, int64_t top,
				    int64_t bottom)
{
	/* as a wrapping subtraction: the words may be far apart */
	int64_t delta = (int64_t)((uint64_t)bottom - (uint64_t)top);
	uint8_t e[ES_MAX * 2];

	EXPECT_CORRUPT(d, top, bottom, -EIO, lfq_wsdeque_pop(&d->w, e));
	EXPECT_CORRUPT(d, top, bottom, -EIO, lfq_wsdeque_push(&d->w, e));
	EXPECT_CORRUPT(d, top, bottom, -EAGAIN, lfq_wsdeque_steal(&d->s, e));
	EXPECT_CORRUPT(d, top, bottom, -EAGAIN,
		       lfq_wsdeque_steal_batch(&d->s, e, 2));
	EXPECT_EQ(delta < 0 ? 0 : d->cap, lfq_wsdeque_len(d->t.ring))
		TH_LOG("bottom - top %" PRId64, delta);
	d->t.hdr->top = d->top;
	d->t.hdr->bottom = d->bottom;
	d->errors = lfq_ring_errors(d->t.ring);
	expect_model(_metadata, d);
}

/* Deques of 4 slots of 8 bytes holding two elements, at top 1. */
static void scribble_each_kind(struct __test_metadata *_metadata,
			       const int64_t *deltas, unsigned int n)
{
	int kind;

	for (kind = T_MEMFD; kind <= T_MEM; kind++) {
		struct deque d;
		unsigned int i;

		ASSERT_EQ(0, deque_new(&d, kind, 4, 8));
		do_push(_metadata, &d);
		do_push(_metadata, &d);
		do_push(_metadata, &d);
		do_steal(_metadata, &d);
		for (i = 0; i < n; i++) {
			/* one word moved, then the other */
			expect_scribble_refused(_metadata, &d, d.top,
						d.top + deltas[i]);
			expect_scribble_refused(_metadata, &d,
						d.bottom - deltas[i], d.bottom);
		}
		do_steal(_metadata, &d);
		do_pop(_metadata, &d);
		do_pop(_metadata, &d);
		test_ring_free(&d.t);
	}
}

TEST(scribbled_positions_are_refused_and_counted)
{
	static const int64_t deltas[] = {
		4 + 1, 4 + 2, 4 + 1000, INT32_MAX, -2, -3, -1000, INT32_MIN,
	};

	scribble_each_kind(_metadata, deltas, sizeof(deltas) / sizeof(deltas[0]));
}

/*
 * Positions so far apart that their difference does not fit in 64
 * bits: refused the same, and (under UBSan) with no signed overflow on
 * the way, since the words are a peer's to scribble.
 */
TEST(scribbled_positions_far_apart_are_refused)
{
	int kind;

	for (kind = T_MEMFD; kind <= T_MEM; kind++) {
		struct deque d;

		ASSERT_EQ(0, deque_new(&d, kind, 4, 8));
		do_push(_metadata, &d);
		expect_scribble_refused(_metadata, &d, INT64_MAX - 1,
					INT64_MIN + 5);
		expect_scribble_refused(_metadata, &d, INT64_MIN + 1,
					INT64_MAX - 5);
		do_pop(_metadata, &d);
		test_ring_free(&d.t);
	}
}

/* ---- waiting and polling ------------------------------------------------ */

/*
 * Nothing wakes a deque's waiters, but wait_begin counts them and says
 * what is ready: POLLIN with an element, POLLOUT with room.
 */
TEST(wait_begin_reports_deque_readiness_and_counts_waiters)
{
	short both = POLLIN | POLLOUT;
	struct deque d;

	ASSERT_EQ(0, deque_new(&d, T_MEM, 2, 8));
	expect_wait_counts_on_empty(_metadata, &d.t);
	do_push(_metadata, &d);
	EXPECT_EQ(both, lfq_ring_wait_begin(d.t.ring, both));
	lfq_ring_wait_end(d.t.ring, both);
	do_push(_metadata, &d);
	EXPECT_EQ(POLLIN, lfq_ring_wait_begin(d.t.ring, both));
	lfq_ring_wait_end(d.t.ring, both);
	do_batch(_metadata, &d, 2);
	do_pop(_metadata, &d);
	EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(d.t.ring, both));
	lfq_ring_wait_end(d.t.ring, both);
	expect_wait_refuses_other_events(_metadata, &d.t);
	test_ring_free(&d.t);
}

/* ---- two threads, two processes ----------------------------------------- */

/*
 * unit_util.h's hand-off: the owner pushes item i once the thief has
 * stolen i - 1, after a random pause or none, so every steal races for
 * the deque's only element, on every kind of memory.
 */
TEST(thief_takes_each_item_as_it_is_pushed)
{
	uint64_t x = 5, v;
	unsigned int kind, i;

	alarm(60);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring t;

		ASSERT_EQ(0, test_ring_new(&t, kind, 4, 8));
		ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_popper));
		for (i = 0; i < h.n; i++) {
			handoff_wait(&h, i, NULL, &x);
			v = i;
			ASSERT_EQ(0, push_item(t.ring, &v));
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		EXPECT_EQ(0, lfq_wsdeque_len(t.ring));
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * The owner (the helper thread, after the main thread filled the deque
 * of 2) pushes item i + 2 into a full deque until the thief's steal of
 * item i makes room.
 */
TEST(full_deque_takes_a_push_once_a_thief_made_room)
{
	uint64_t x = 9, v;
	unsigned int kind, i;

	alarm(60);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct handoff h;
		struct test_ring t;

		ASSERT_EQ(0, test_ring_new(&t, kind, 2, 8));
		for (v = 0; v < 2; v++) {
			ASSERT_EQ(0, push_item(t.ring, &v));
		}
		ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_pusher));
		for (i = 0; i < h.n; i++) {
			handoff_wait(&h, i, NULL, &x);
			ASSERT_EQ(0, steal_item(t.ring, &v));
			ASSERT_EQ(i, v);
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		for (i = h.n; i < h.n + 2; i++) {
			ASSERT_EQ(0, steal_item(t.ring, &v));
			EXPECT_EQ(i, v);
		}
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * Two memfd deques between two processes: each owns the one it pushes
 * to and steals from the other's, each item echoed back.
 */
TEST(owner_and_thief_in_two_processes_echo_items)
{
	unsigned int m;

	alarm(60);
	for (m = 0; m < 2; m++) {
		struct lfq_ring *to = ring_new(2 << m, 8, LFQ_MEM_MEMFD);
		struct lfq_ring *from = ring_new(2 << m, 8, both_mems[1]);

		ASSERT_NE(NULL, to);
		ASSERT_NE(NULL, from);
		echo_across_fork(_metadata, to, from, echo_items);
		EXPECT_EQ(0, lfq_wsdeque_len(to));
		EXPECT_EQ(0, lfq_wsdeque_len(from));
		lfq_ring_destroy(from);
		lfq_ring_destroy(to);
	}
	alarm(0);
}

TEST_HARNESS_MAIN
