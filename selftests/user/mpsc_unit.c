// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of liblfq's MPSC log ring: every operation, every policy and
 * every error, on heap rings mostly, and on caller-memory
 * (lfq_ring_create_mem) and memfd rings where the layout matters.
 *
 * Tests that need the shared words (layout, skip records, forged
 * reservations, corruption, the wake-up tests that wait for a sleeper to
 * announce itself) use caller memory or map the memfd a second time: the
 * ring header is at info.desc_size, the record header of position p at
 * info.slots_off + (p & (capacity - 1)) * info.slot_stride inside it
 * (struct lfq_mpsc_rec, <linux/lfq.h>).
 *
 * Where a sequence of records matters, a model of the ring says what
 * each call must do: the positions a record takes (the uapi header's
 * rule), what a full ring does under each policy, which records an
 * overwrite drops. Payloads are a pattern of the record's id, checked
 * byte for byte.
 *
 * A dead producer is emulated as the module's repair leaves it: a
 * reservation never committed whose header says len 0, its slots, and
 * seq = pos + 1.
 *
 * Threaded tests are bounded by alarm(): a lost wake-up kills the test
 * with SIGALRM, a failure, instead of hanging.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>

#include "lfq.h"

/* The items of unit_util.h's hand-off and echo helpers: 8-byte records. */
static int push_item(struct lfq_ring *r, const uint64_t *v)
{
	return lfq_mpsc_push(r, v, sizeof(*v), -1);
}

static int pop_item(struct lfq_ring *r, uint64_t *v)
{
	int ret = lfq_mpsc_pop(r, v, sizeof(*v), -1);

	if (ret < 0)
		return ret;
	return ret == sizeof(*v) ? 0 : -EPROTO;
}

/* The ring under test, for unit_util.h. */
#define UNIT_TYPE		LFQ_RING_MPSC
#define UNIT_HDR		struct lfq_mpsc_hdr
#define UNIT_PUSH(r, e)		push_item(r, e)
#define UNIT_POP(r, e)		pop_item(r, e)
#include "unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

#define BUF_MAX		4096	/* longer than any record of these tests */

static const uint32_t policies[] = {
	LFQ_MPSC_DISCARD, LFQ_MPSC_BLOCK, LFQ_MPSC_OVERWRITE,
};

static const char *const policy_names[] = {
	[LFQ_MPSC_DISCARD] = "discard", [LFQ_MPSC_BLOCK] = "block",
	[LFQ_MPSC_OVERWRITE] = "overwrite",
};

static struct lfq_create mpsc_params(uint32_t capacity, uint32_t elem_size,
				     uint32_t policy)
{
	struct lfq_create p = ring_params(capacity, elem_size);

	p.policy = policy;
	return p;
}

static struct lfq_ring *mpsc_new(uint32_t capacity, uint32_t elem_size,
				 uint32_t policy)
{
	struct lfq_create p = mpsc_params(capacity, elem_size, policy);
	struct lfq_ring *r = NULL;

	if (lfq_ring_create(&r, &p, LFQ_MEM_HEAP))
		return NULL;
	return r;
}

static int test_ring_policy(struct test_ring *t, int kind, uint32_t capacity,
			    uint32_t elem_size, uint32_t policy)
{
	struct lfq_create p = mpsc_params(capacity, elem_size, policy);

	return test_ring_create(t, kind, &p);
}

/* The record header at the slot of pos, in the test's view of the ring. */
static struct lfq_mpsc_rec *rec_at(const struct test_ring *t, uint64_t pos)
{
	return (void *)((uint8_t *)t->hdr + t->info->slots_off +
			(pos & (t->info->capacity - 1)) * t->info->slot_stride);
}

/* Slot 0, where the payload of a record that wraps starts. */
static void *slot0(const struct test_ring *t)
{
	return rec_at(t, 0);
}

/* Where the payload of a record at pos starts if it does not wrap. */
static void *payload_at(const struct test_ring *t, uint64_t pos)
{
	return (uint8_t *)rec_at(t, pos) + LFQ_MPSC_SLOT_HDR;
}

static uint8_t pattern(uint64_t id, size_t i)
{
	return (uint8_t)(id * 131 + i * 7 + (i >> 8) + 1);
}

static void fill(void *buf, size_t n, uint64_t id)
{
	uint8_t *b = buf;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = pattern(id, i);
}

static bool filled(const void *buf, size_t n, uint64_t id)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != pattern(id, i))
			return false;
	return true;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct lfq_mpsc_stats stats_of(const struct lfq_ring *r)
{
	struct lfq_mpsc_stats s = { UINT64_MAX, UINT64_MAX };

	lfq_mpsc_stats(r, &s);
	return s;
}

/* One record of len bytes in and out again: head and tail move on. */
static void pass_record(struct __test_metadata *_metadata, struct lfq_ring *r,
			uint32_t len)
{
	uint8_t buf[BUF_MAX];

	fill(buf, len, 0);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, len));
	ASSERT_EQ((int)len, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
}

/* Move an empty ring on with one-slot records until head == pos. */
static void seek_empty(struct __test_metadata *_metadata,
		       const struct test_ring *t, uint64_t pos)
{
	while (t->hdr->head != pos)
		pass_record(_metadata, t->ring, 1);
	ASSERT_EQ(pos, t->hdr->tail);
}

/* ---- a model of the ring ------------------------------------------------ */

/*
 * Positions a record of len bytes takes at pos, by the rule of the uapi
 * header: its header and payload in whole slots, or, if they would run
 * past the end of the lap, the rest of the lap and a payload from slot 0.
 */
static uint32_t model_slots(uint32_t cap, uint32_t stride, uint64_t pos,
			    uint32_t len)
{
	uint64_t off = pos & (cap - 1);
	uint64_t n = (len + LFQ_MPSC_SLOT_HDR + stride - 1) / stride;

	if (off + n <= cap)
		return (uint32_t)n;
	return (uint32_t)(cap - off + (len + stride - 1) / stride);
}

static bool model_wraps(uint32_t cap, uint64_t pos, uint32_t slots)
{
	return (pos & (cap - 1)) + slots > cap;
}

#define MODEL_RECS	64

struct model_rec {
	uint64_t id;
	uint64_t pos;
	uint32_t len;
	uint32_t slots;
};

struct model {
	uint32_t cap, stride, policy;
	uint64_t head, tail;
	struct model_rec q[MODEL_RECS];	/* records head..tail, oldest first */
	unsigned int first, n;
	uint64_t dropped, overwritten;
};

static void model_init(struct model *m, const struct lfq_ring *r)
{
	const struct lfq_info *i = lfq_ring_info(r);

	memset(m, 0, sizeof(*m));
	m->cap = i->capacity;
	m->stride = i->slot_stride;
	m->policy = i->policy;
}

static const struct model_rec *model_front(const struct model *m)
{
	return m->n ? &m->q[m->first] : NULL;
}

static const struct model_rec *model_last(const struct model *m)
{
	return &m->q[(m->first + m->n - 1) % MODEL_RECS];
}

static void model_pop(struct model *m)
{
	m->tail += m->q[m->first].slots;
	m->first = (m->first + 1) % MODEL_RECS;
	m->n--;
}

static bool model_fits(const struct model *m, uint32_t len)
{
	return m->head + model_slots(m->cap, m->stride, m->head, len) -
	       m->tail <= m->cap;
}

/*
 * What a try at a record of len bytes must do: 0, the record queued as
 * id (an overwriting ring dropping the oldest records to make room), or
 * -ENOSPC, counted as dropped unless the ring blocks.
 */
static int model_push(struct model *m, uint64_t id, uint32_t len)
{
	uint32_t slots = model_slots(m->cap, m->stride, m->head, len);
	struct model_rec *rec;

	while (m->head + slots - m->tail > m->cap) {
		if (m->policy != LFQ_MPSC_OVERWRITE) {
			if (m->policy == LFQ_MPSC_DISCARD)
				m->dropped++;
			return -ENOSPC;
		}
		model_pop(m);
		m->overwritten++;
	}
	rec = &m->q[(m->first + m->n++) % MODEL_RECS];
	rec->id = id;
	rec->pos = m->head;
	rec->len = len;
	rec->slots = slots;
	m->head += slots;
	return 0;
}

/* The ways to push: copy or in place, trying or waiting. */
enum { P_TRY, P_WAIT, P_RESERVE, P_RESERVE_WAIT, P_VERBS };

static int push_by(struct lfq_ring *r, int verb, const void *buf, uint32_t len,
		   int timeout_ms, struct lfq_mpsc_res *res)
{
	int ret;

	if (verb == P_TRY)
		return lfq_mpsc_try_push(r, buf, len);
	if (verb == P_WAIT)
		return lfq_mpsc_push(r, buf, len, timeout_ms);
	ret = verb == P_RESERVE ? lfq_mpsc_try_reserve(r, len, res) :
				  lfq_mpsc_reserve(r, len, res, timeout_ms);
	if (ret)
		return ret;
	memcpy(res->data, buf, len);
	return lfq_mpsc_commit(r, res);
}

/*
 * Push record id of len bytes with verb, and check that the ring did what
 * the model says; the waiting verbs do not wait for room on a full BLOCK
 * ring (timeout 0: -ETIMEDOUT). The return value of the push.
 */
static int push_check(struct __test_metadata *_metadata, struct lfq_ring *r,
		      struct model *m, uint64_t id, uint32_t len, int verb)
{
	static uint8_t buf[BUF_MAX];
	struct lfq_mpsc_res res = { 0 };
	bool wait = verb == P_WAIT || verb == P_RESERVE_WAIT;
	int want = model_push(m, id, len), ret;

	fill(buf, len, id);
	if (want && wait && m->policy == LFQ_MPSC_BLOCK) {
		ret = push_by(r, verb, buf, len, 0, &res);
		want = -ETIMEDOUT;
	} else {
		ret = push_by(r, verb, buf, len, -1, &res);
	}
	EXPECT_EQ(want, ret) TH_LOG("record %" PRIu64 " of %u bytes, verb %d",
				    id, len, verb);
	if (!ret && (verb == P_RESERVE || verb == P_RESERVE_WAIT)) {
		EXPECT_EQ(model_last(m)->pos, res.pos);
		EXPECT_EQ(model_last(m)->slots, res.slots);
		EXPECT_EQ(len, res.len);
	}
	return ret;
}

/*
 * The ways to pop: copy with try or wait into a buffer longer than the
 * record, in place, or into one byte too few first and then just enough.
 */
enum { Q_TRY, Q_WAIT, Q_PEEK, Q_SMALL, Q_VERBS };

/*
 * Pop the oldest record with verb and check it is the model's, byte for
 * byte, with nothing copied past its length; on an empty ring, check the
 * verb says so. The return value of the pop.
 */
static int pop_check(struct __test_metadata *_metadata, struct lfq_ring *r,
		     struct model *m, int verb)
{
	static uint8_t buf[BUF_MAX + 1];
	const struct model_rec *want = model_front(m);
	struct lfq_mpsc_res res;
	int ret;

	memset(buf, 0xee, sizeof(buf));
	switch (verb) {
	case Q_TRY:
		ret = lfq_mpsc_try_pop(r, buf, want ? want->len + 64 : BUF_MAX);
		break;
	case Q_WAIT:
		ret = lfq_mpsc_pop(r, buf, BUF_MAX, want ? -1 : 0);
		break;
	case Q_PEEK:
		ret = lfq_mpsc_peek(r, &res);
		if (ret)
			break;
		if (want) {
			EXPECT_EQ(want->pos, res.pos);
			EXPECT_EQ(want->slots, res.slots);
		}
		memcpy(buf, res.data, res.len);
		ret = (int)res.len;
		EXPECT_EQ(0, lfq_mpsc_release(r, &res));
		break;
	default:
		if (want) {
			EXPECT_EQ(-EMSGSIZE, lfq_mpsc_try_pop(r, buf,
							      want->len - 1));
			EXPECT_EQ(0xee, buf[0]);
		}
		ret = lfq_mpsc_try_pop(r, buf, want ? want->len : BUF_MAX);
		break;
	}
	if (!want) {
		EXPECT_EQ(verb == Q_WAIT ? -ETIMEDOUT : -EAGAIN, ret);
		return ret;
	}
	EXPECT_EQ((int)want->len, ret) TH_LOG("record %" PRIu64 ", verb %d",
					      want->id, verb);
	if (ret == (int)want->len) {
		EXPECT_TRUE(filled(buf, want->len, want->id))
			TH_LOG("record %" PRIu64 " of %u bytes", want->id,
			       want->len);
		EXPECT_EQ(0xee, buf[want->len]);
	}
	model_pop(m);
	return ret;
}

/* ---- geometry and layout ------------------------------------------------ */

/*
 * A new ring of cap slots of elem bytes under policy, on mem: the geometry
 * of an MPSC ring (claim records after the slots), the longest record
 * half the slots less the record header, nothing in it, nothing counted.
 */
static void expect_mpsc_geometry(struct __test_metadata *_metadata,
				 uint32_t cap, uint32_t elem, uint32_t policy,
				 enum lfq_mem mem)
{
	struct lfq_create p = mpsc_params(cap, elem, policy);
	uint64_t stride = LFQ_STRIDE(LFQ_MPSC_SLOT_HDR, elem), claims_end;
	long page = sysconf(_SC_PAGESIZE);
	const struct lfq_info *i;
	struct lfq_mpsc_stats st;
	struct lfq_ring *r = NULL;

	ASSERT_EQ(0, lfq_ring_create(&r, &p, mem))
		TH_LOG("cap %u elem %u policy %u", cap, elem, policy);
	i = lfq_ring_info(r);
	EXPECT_EQ(LFQ_RING_MPSC, i->type);
	EXPECT_EQ(policy, i->policy);
	EXPECT_EQ(cap, i->capacity);
	EXPECT_EQ(elem, i->elem_size);
	EXPECT_EQ(stride, i->slot_stride);
	EXPECT_EQ(320, i->slots_off);
	EXPECT_EQ(LFQ_MPSC_SLOTS_OFF, i->slots_off);
	EXPECT_EQ(LFQ_CLAIMS, i->nr_claims);
	EXPECT_EQ(320 + cap * stride, i->claims_off);
	claims_end = i->claims_off + LFQ_CLAIMS * sizeof(struct lfq_claim);
	EXPECT_LE(claims_end, i->ring_size);
	EXPECT_GT(claims_end + page, i->ring_size);
	EXPECT_EQ((ssize_t)(i->desc_size + i->ring_size), lfq_ring_mem_size(&p));
	EXPECT_EQ(cap / 2 * stride - 16, lfq_mpsc_max_len(r));
	EXPECT_EQ(0, lfq_mpsc_size(r));
	ASSERT_EQ(0, lfq_mpsc_stats(r, &st));
	EXPECT_EQ(0, st.dropped);
	EXPECT_EQ(0, st.overwritten);
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

TEST(create_accepts_every_policy_and_reports_the_mpsc_layout)
{
	const uint32_t caps[] = { 2, 4, 64, 1024 };
	const uint32_t sizes[] = { 1, 8, 48, 49, 100, 4096 };
	unsigned int pol, c, s, b;

	for (pol = 0; pol < 3; pol++)
		for (c = 0; c < 4; c++)
			for (s = 0; s < 6; s++)
				for (b = 0; b < 2; b++)
					expect_mpsc_geometry(_metadata, caps[c],
							     sizes[s], policies[pol],
							     both_mems[b]);
	/* policies beyond OVERWRITE do not exist */
	{
		const uint32_t bad[] = { 3, 4, UINT32_MAX };
		struct lfq_create p;

		for (s = 0; s < 3; s++) {
			p = mpsc_params(8, 8, bad[s]);
			expect_all_refuse(_metadata, &p, -EINVAL);
		}
		p = mpsc_params(3, 8, LFQ_MPSC_BLOCK);
		expect_all_refuse(_metadata, &p, -EINVAL);
		p = mpsc_params(8, 0, LFQ_MPSC_BLOCK);
		expect_all_refuse(_metadata, &p, -EINVAL);
	}
	/* no records in the other ring types */
	{
		struct lfq_create p = mpsc_params(8, 8, 0);
		struct lfq_ring *r = NULL;

		p.type = LFQ_RING_TURN;
		ASSERT_EQ(0, lfq_ring_create(&r, &p, LFQ_MEM_HEAP));
		EXPECT_EQ(0, lfq_mpsc_max_len(r));
		lfq_ring_destroy(r);
		p.type = LFQ_RING_VYUKOV;
		ASSERT_EQ(0, lfq_ring_create(&r, &p, LFQ_MEM_HEAP));
		EXPECT_EQ(0, lfq_mpsc_max_len(r));
		lfq_ring_destroy(r);
		EXPECT_EQ(0, lfq_mpsc_max_len(NULL));
	}
}

/*
 * A memfd ring describes itself, policy included, and a handle attached
 * to it shares the records and the counters.
 */
TEST(memfd_describes_itself_and_attach_shares_records_and_counters)
{
	struct lfq_create p = mpsc_params(4, 8, LFQ_MPSC_OVERWRITE);
	struct lfq_ring *a = NULL, *b = NULL;
	uint8_t buf[BUF_MAX];
	uint64_t id;

	memfd_ring_attached(_metadata, &p, &a, &b);
	EXPECT_EQ(lfq_mpsc_max_len(a), lfq_mpsc_max_len(b));
	/* five one-slot records through a: b overwrote none, a one */
	for (id = 0; id < 5; id++) {
		fill(buf, 20, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(id % 2 ? a : b, buf, 20));
	}
	EXPECT_EQ(1, stats_of(b).overwritten);
	EXPECT_EQ(4, lfq_mpsc_size(b));
	for (id = 1; id < 5; id++) {
		ASSERT_EQ(20, lfq_mpsc_try_pop(id % 2 ? b : a, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, 20, id));
	}
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(a, buf, sizeof(buf)));
	lfq_ring_destroy(b);
	lfq_ring_destroy(a);
}

/*
 * A new ring: head, tail, wait words and counters zero, the header laid
 * out as struct lfq_mpsc_hdr says, slot p free for position p, every
 * claim record idle. The first reservation's payload follows the record
 * header in slot 0; commit publishes it as seq 1.
 */
TEST(new_ring_is_laid_out_as_the_uapi_says)
{
	unsigned int kind;

	EXPECT_EQ(64, offsetof(struct lfq_mpsc_hdr, tail));
	EXPECT_EQ(128, offsetof(struct lfq_mpsc_hdr, not_empty));
	EXPECT_EQ(192, offsetof(struct lfq_mpsc_hdr, not_full));
	EXPECT_EQ(256, offsetof(struct lfq_mpsc_hdr, dropped));
	EXPECT_EQ(264, offsetof(struct lfq_mpsc_hdr, overwritten));
	EXPECT_EQ(LFQ_MPSC_SLOTS_OFF, sizeof(struct lfq_mpsc_hdr));
	EXPECT_EQ(LFQ_MPSC_SLOT_HDR, sizeof(struct lfq_mpsc_rec));
	EXPECT_EQ(8, offsetof(struct lfq_mpsc_rec, len));
	EXPECT_EQ(12, offsetof(struct lfq_mpsc_rec, slots));
	for (kind = T_MEMFD; kind < T_KINDS; kind++) {
		struct lfq_mpsc_res res;
		const struct lfq_claim *claims;
		struct test_ring t;
		uint64_t i;

		ASSERT_EQ(0, test_ring_policy(&t, kind, 16, 40, LFQ_MPSC_BLOCK));
		EXPECT_EQ(0, t.hdr->head);
		EXPECT_EQ(0, t.hdr->tail);
		EXPECT_EQ(0, t.hdr->not_empty.waiters);
		EXPECT_EQ(0, t.hdr->not_full.waiters);
		EXPECT_EQ(0, t.hdr->dropped);
		EXPECT_EQ(0, t.hdr->overwritten);
		for (i = 0; i < 16; i++)
			EXPECT_EQ(i, rec_at(&t, i)->seq);
		claims = (const void *)((uint8_t *)t.hdr + t.info->claims_off);
		for (i = 0; i < t.info->nr_claims; i++) {
			EXPECT_EQ(LFQ_CLAIM_IDLE, claims[i].state);
			EXPECT_EQ(0, claims[i].pos);
			EXPECT_EQ(0, claims[i].slots);
		}
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 30, &res));
		EXPECT_EQ(0, res.pos);
		EXPECT_EQ(1, res.slots);
		EXPECT_EQ(30, res.len);
		if (kind == T_MEM)
			EXPECT_EQ(payload_at(&t, 0), res.data);
		EXPECT_EQ(0, (uintptr_t)res.data % 8);
		EXPECT_EQ(0, rec_at(&t, 0)->seq);	/* not published yet */
		EXPECT_EQ(30, rec_at(&t, 0)->len);
		EXPECT_EQ(1, rec_at(&t, 0)->slots);
		EXPECT_EQ(1, t.hdr->head);
		fill(res.data, 30, 7);
		ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &res));
		EXPECT_EQ(1, rec_at(&t, 0)->seq);
		/* the payload is where the test's own view says */
		EXPECT_TRUE(filled(payload_at(&t, 0), 30, 7));
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
	struct lfq_create p = mpsc_params(8, 24, LFQ_MPSC_OVERWRITE);
	ssize_t size = lfq_ring_mem_size(&p);
	uint8_t *mem, *desc_copy, *claims_copy, guard[512], buf[BUF_MAX];
	const struct lfq_info *info;
	struct lfq_mpsc_res res[4];
	struct lfq_ring *r = NULL;
	void *alloc = NULL;
	size_t claims_len;
	uint32_t len;
	uint64_t i;
	int n;

	ASSERT_LT(0, size);
	ASSERT_EQ(0, posix_memalign(&alloc, 4096, (size_t)size + sizeof(guard)));
	mem = alloc;
	memset(guard, 0xa5, sizeof(guard));
	memcpy(mem + size, guard, sizeof(guard));
	ASSERT_EQ(0, lfq_ring_create_mem(&r, &p, mem, (size_t)size));
	info = lfq_ring_info(r);
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
		len = 1 + i * 7 % 200;
		fill(buf, len, i);
		ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, len));
		ASSERT_EQ(0, lfq_mpsc_push(r, buf, 1 + i % 40, -1));
		ASSERT_EQ(0, lfq_mpsc_reserve(r, 1 + i % 3, &res[0], -1));
		ASSERT_EQ(0, lfq_mpsc_commit(r, &res[0]));
		ASSERT_LT(0, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		n = lfq_mpsc_peek_burst(r, res, 4);
		if (n > 0)
			ASSERT_EQ(0, lfq_mpsc_release(r, &res[n - 1]));
	}
	EXPECT_LT(0, stats_of(r).overwritten);
	EXPECT_EQ(0, memcmp(desc_copy, mem, info->desc_size));
	EXPECT_EQ(0, memcmp(claims_copy, mem + info->desc_size + info->claims_off,
			    claims_len));
	EXPECT_EQ(0, memcmp(guard, mem + size, sizeof(guard)));
	lfq_ring_destroy(r);
	free(claims_copy);
	free(desc_copy);
	free(mem);
}

/* ---- records of every length -------------------------------------------- */

static uint32_t gcd(uint32_t a, uint32_t b)
{
	return b ? gcd(b, a % b) : a;
}

/*
 * Every length 1..max_len, pushed and popped by copy (and in place) on
 * small rings: each pop returns the oldest record, its length and its
 * bytes, and copies nothing past it; size() counts the positions in use.
 * The lengths come in the order 1 + 37k mod max_len, every one once,
 * long and short mixed, so that records start at every offset and wrap.
 */
TEST(every_length_round_trips_in_fifo_order)
{
	const uint32_t caps[] = { 2, 4, 8 };
	const uint32_t elems[] = { 8, 100 };
	unsigned int c, e;

	for (c = 0; c < 3; c++) {
		for (e = 0; e < 2; e++) {
			struct lfq_ring *r = mpsc_new(caps[c], elems[e],
						      LFQ_MPSC_DISCARD);
			unsigned int wraps = 0, pops = 0;
			uint32_t max, len, k;
			struct model m;

			ASSERT_NE(NULL, r);
			max = lfq_mpsc_max_len(r);
			ASSERT_GE(BUF_MAX, max);
			ASSERT_EQ(1, gcd(37, max));
			model_init(&m, r);
			for (k = 0; k < max; k++) {
				len = 1 + k * 37 % max;
				while (!model_fits(&m, len))
					pop_check(_metadata, r, &m, pops++ % Q_VERBS);
				ASSERT_EQ(0, push_check(_metadata, r, &m, len, len,
							len % P_VERBS))
					TH_LOG("cap %u elem %u", caps[c], elems[e]);
				wraps += model_wraps(m.cap, model_last(&m)->pos,
						     model_last(&m)->slots);
				EXPECT_EQ(m.head - m.tail, lfq_mpsc_size(r));
			}
			while (m.n)
				pop_check(_metadata, r, &m, pops++ % Q_VERBS);
			pop_check(_metadata, r, &m, Q_TRY);
			pop_check(_metadata, r, &m, Q_WAIT);
			EXPECT_EQ(0, lfq_mpsc_size(r));
			/* on two slots every record fits in one */
			if (caps[c] > 2)
				EXPECT_LT(0, wraps);
			EXPECT_EQ(0, stats_of(r).dropped);
			EXPECT_EQ(0, lfq_ring_errors(r));
			lfq_ring_destroy(r);
		}
	}
}

/*
 * A reservation of len bytes at head, on an empty ring: it takes the
 * positions the uapi rule says, its payload follows its header or, if it
 * would run past the last slot, starts at slot 0; writing it leaves its
 * own header and the next position's alone; size() counts its
 * positions; popping it frees every one of them (seq = p + capacity),
 * payload included. Whether it wrapped.
 */
static bool expect_reservation_laid_out(struct __test_metadata *_metadata,
					const struct test_ring *t, uint32_t len,
					uint64_t id)
{
	uint32_t cap = t->info->capacity;
	uint64_t pos = t->hdr->head, p;
	uint32_t slots = model_slots(cap, t->info->slot_stride, pos, len);
	bool wrap = model_wraps(cap, pos, slots);
	struct lfq_mpsc_res res;
	uint8_t buf[BUF_MAX];

	ASSERT_EQ(0, lfq_mpsc_try_reserve(t->ring, len, &res));
	ASSERT_EQ(pos, res.pos);
	ASSERT_EQ(slots, res.slots) TH_LOG("len %u at %" PRIu64, len, pos);
	ASSERT_GT(cap, res.slots);
	ASSERT_EQ(len, res.len);
	ASSERT_EQ(wrap ? slot0(t) : payload_at(t, pos), res.data)
		TH_LOG("len %u at %" PRIu64, len, pos);
	ASSERT_EQ(slots, lfq_mpsc_size(t->ring));
	fill(res.data, len, id);
	ASSERT_EQ(pos, rec_at(t, pos)->seq);
	ASSERT_EQ(len, rec_at(t, pos)->len);
	ASSERT_EQ(slots, rec_at(t, pos)->slots);
	ASSERT_EQ(pos + slots, rec_at(t, pos + slots)->seq);
	ASSERT_EQ(0, lfq_mpsc_commit(t->ring, &res));
	ASSERT_EQ(pos + 1, rec_at(t, pos)->seq);
	ASSERT_EQ((int)len, lfq_mpsc_try_pop(t->ring, buf, len));
	ASSERT_TRUE(filled(buf, len, id));
	for (p = pos; p < pos + slots; p++)
		ASSERT_EQ(p + cap, rec_at(t, p)->seq);
	ASSERT_EQ(pos + slots, t->hdr->tail);
	return wrap;
}

/* Every length at every offset of the lap: so max_len fits anywhere. */
TEST(reservations_at_every_offset_are_laid_out_as_the_uapi_says)
{
	const uint32_t caps[] = { 4, 8 };
	const uint32_t elems[] = { 8, 100 };
	unsigned int c, e;

	for (c = 0; c < 2; c++) {
		for (e = 0; e < 2; e++) {
			uint32_t cap = caps[c], max, len, off;
			unsigned int wraps = 0;
			struct test_ring t;
			uint64_t id = 0;

			ASSERT_EQ(0, test_ring_new(&t, T_MEM, cap, elems[e]));
			max = lfq_mpsc_max_len(t.ring);
			for (len = 1; len <= max; len++) {
				for (off = 0; off < cap; off++) {
					seek_empty(_metadata, &t, t.hdr->head +
						   ((off - t.hdr->head) & (cap - 1)));
					wraps += expect_reservation_laid_out(_metadata,
									     &t, len,
									     id++);
				}
			}
			EXPECT_LT(0, wraps);
			EXPECT_EQ(0, lfq_ring_errors(t.ring));
			test_ring_free(&t);
		}
	}
}

/* ---- refused arguments -------------------------------------------------- */

/*
 * Too long (-E2BIG), empty (-EINVAL), NULL pointers and rings of another
 * type (-EINVAL): refused before anything happens, under every policy
 * (a BLOCK ring must not wait for room a record can never have), and
 * not counted as drops.
 */
TEST(bad_lengths_null_pointers_and_other_ring_types_are_refused)
{
	struct lfq_mpsc_res res = { 0 };
	uint8_t buf[BUF_MAX];
	struct lfq_mpsc_stats st;
	unsigned int pol, i;

	alarm(10);
	for (pol = 0; pol < 3; pol++) {
		struct lfq_ring *r = mpsc_new(8, 8, policies[pol]);
		uint32_t max, len, too_long[3];

		ASSERT_NE(NULL, r);
		max = lfq_mpsc_max_len(r);
		too_long[0] = max + 1;
		too_long[1] = max + 1000;
		too_long[2] = UINT32_MAX;
		fill(buf, 5, 1);
		ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 5));
		for (i = 0; i < 3; i++) {
			len = too_long[i];
			EXPECT_EQ(-E2BIG, lfq_mpsc_try_reserve(r, len, &res));
			EXPECT_EQ(-E2BIG, lfq_mpsc_reserve(r, len, &res, -1));
			EXPECT_EQ(-E2BIG, lfq_mpsc_try_push(r, buf, len));
			EXPECT_EQ(-E2BIG, lfq_mpsc_push(r, buf, len, -1));
		}
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_reserve(r, 0, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_reserve(r, 0, &res, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_push(r, buf, 0));
		EXPECT_EQ(-EINVAL, lfq_mpsc_push(r, buf, 0, -1));
		EXPECT_EQ(NULL, res.data);	/* never filled in */

		EXPECT_EQ(-EINVAL, lfq_mpsc_try_reserve(NULL, 5, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_reserve(NULL, 5, &res, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_commit(NULL, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_push(NULL, buf, 5));
		EXPECT_EQ(-EINVAL, lfq_mpsc_push(NULL, buf, 5, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek(NULL, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek_burst(NULL, &res, 1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_release(NULL, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_pop(NULL, buf, sizeof(buf)));
		EXPECT_EQ(-EINVAL, lfq_mpsc_pop(NULL, buf, sizeof(buf), -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_stats(NULL, &st));

		EXPECT_EQ(-EINVAL, lfq_mpsc_try_reserve(r, 5, NULL));
		EXPECT_EQ(-EINVAL, lfq_mpsc_reserve(r, 5, NULL, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_commit(r, NULL));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_push(r, NULL, 5));
		EXPECT_EQ(-EINVAL, lfq_mpsc_push(r, NULL, 5, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek(r, NULL));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek_burst(r, NULL, 1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek_burst(r, &res, 0));
		EXPECT_EQ(-EINVAL, lfq_mpsc_release(r, NULL));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_pop(r, NULL, sizeof(buf)));
		EXPECT_EQ(-EINVAL, lfq_mpsc_pop(r, NULL, sizeof(buf), -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_stats(r, NULL));

		/* the record is still there, alone, and nothing counted */
		ASSERT_EQ(0, lfq_mpsc_stats(r, &st));
		EXPECT_EQ(0, st.dropped);
		EXPECT_EQ(0, st.overwritten);
		EXPECT_EQ(1, lfq_mpsc_size(r));
		EXPECT_EQ(5, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, 5, 1));
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		/* max_len itself is fine */
		fill(buf, max, 2);
		EXPECT_EQ(0, lfq_mpsc_push(r, buf, max, -1));
		EXPECT_EQ((int)max, lfq_mpsc_pop(r, buf, max, -1));
		EXPECT_TRUE(filled(buf, max, 2));
		lfq_ring_destroy(r);
	}

	/* MPSC verbs on a turn ring and on a Vyukov ring */
	for (i = 0; i < 2; i++) {
		struct lfq_create p = ring_params(4, 8);
		struct lfq_ring *o = NULL;
		uint64_t x = 5;

		p.type = i ? LFQ_RING_VYUKOV : LFQ_RING_TURN;
		ASSERT_EQ(0, lfq_ring_create(&o, &p, LFQ_MEM_HEAP));
		ASSERT_EQ(0, i ? lfq_vyukov_try_push(o, &x) :
				 lfq_turn_try_push(o, &x));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_reserve(o, 5, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_reserve(o, 5, &res, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_commit(o, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_push(o, buf, 5));
		EXPECT_EQ(-EINVAL, lfq_mpsc_push(o, buf, 5, -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek(o, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_peek_burst(o, &res, 1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_release(o, &res));
		EXPECT_EQ(-EINVAL, lfq_mpsc_try_pop(o, buf, sizeof(buf)));
		EXPECT_EQ(-EINVAL, lfq_mpsc_pop(o, buf, sizeof(buf), -1));
		EXPECT_EQ(-EINVAL, lfq_mpsc_stats(o, &st));
		/* untouched */
		x = 0;
		ASSERT_EQ(0, i ? lfq_vyukov_try_pop(o, &x) :
				 lfq_turn_try_pop(o, &x));
		EXPECT_EQ(5, x);
		lfq_ring_destroy(o);
	}
	alarm(0);
}

/*
 * A buffer shorter than the record: -EMSGSIZE from try_pop and pop
 * alike (pop does not wait for a record that fits), nothing copied, and
 * the record stays for a pop with a buffer that fits.
 */
TEST(pop_into_a_small_buffer_is_emsgsize_and_the_record_stays)
{
	struct lfq_ring *r = mpsc_new(8, 8, LFQ_MPSC_DISCARD);
	uint8_t buf[BUF_MAX], none[BUF_MAX];

	ASSERT_NE(NULL, r);
	alarm(10);
	fill(buf, 100, 1);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 100));
	fill(buf, 3, 2);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 3));
	EXPECT_EQ(3, lfq_mpsc_size(r));		/* two slots and one */
	memset(buf, 0xee, sizeof(buf));
	memset(none, 0xee, sizeof(none));
	EXPECT_EQ(-EMSGSIZE, lfq_mpsc_try_pop(r, buf, 99));
	EXPECT_EQ(-EMSGSIZE, lfq_mpsc_try_pop(r, buf, 0));
	EXPECT_EQ(-EMSGSIZE, lfq_mpsc_pop(r, buf, 99, -1));
	EXPECT_EQ(-EMSGSIZE, lfq_mpsc_pop(r, buf, 99, 0));
	EXPECT_EQ(0, memcmp(buf, none, sizeof(buf)));
	EXPECT_EQ(3, lfq_mpsc_size(r));
	EXPECT_EQ(100, lfq_mpsc_try_pop(r, buf, 100));
	EXPECT_TRUE(filled(buf, 100, 1));
	EXPECT_EQ(-EMSGSIZE, lfq_mpsc_try_pop(r, buf, 2));
	EXPECT_EQ(3, lfq_mpsc_pop(r, buf, 3, -1));
	EXPECT_TRUE(filled(buf, 3, 2));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(r, buf, 0));
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_pop(r, buf, sizeof(buf), 0));
	EXPECT_EQ(0, stats_of(r).dropped);
	EXPECT_EQ(0, lfq_ring_errors(r));
	alarm(0);
	lfq_ring_destroy(r);
}

/* ---- in place: reserve/commit, peek/release ----------------------------- */

/*
 * Records written in place and committed out of order are read in
 * reservation order, in place: peek hands out the very bytes the
 * producer wrote. A record not committed yet holds back the ones after
 * it; the consumer holding a record cannot take another (-EBUSY).
 */
TEST(reserve_commit_in_place_then_peek_and_release)
{
	const uint32_t lens[] = { 10, 300, 50 };
	struct lfq_ring *r = mpsc_new(16, 100, LFQ_MPSC_DISCARD);
	struct lfq_mpsc_res in[3], out[4];
	uint8_t buf[BUF_MAX];
	uint64_t used = 0;
	int i;

	ASSERT_NE(NULL, r);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lfq_mpsc_try_reserve(r, lens[i], &in[i]));
		EXPECT_EQ(used, in[i].pos);
		used += in[i].slots;
		fill(in[i].data, lens[i], i);
	}
	EXPECT_EQ(3, in[1].slots);		/* 300 + 16 bytes in 128-byte slots */
	EXPECT_EQ(used, lfq_mpsc_size(r));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_peek(r, &out[0]));
	ASSERT_EQ(0, lfq_mpsc_commit(r, &in[2]));
	ASSERT_EQ(0, lfq_mpsc_commit(r, &in[1]));
	/* two committed, but the first is still being written */
	EXPECT_EQ(-EAGAIN, lfq_mpsc_peek(r, &out[0]));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_peek_burst(r, out, 4));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
	ASSERT_EQ(0, lfq_mpsc_commit(r, &in[0]));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lfq_mpsc_peek(r, &out[0]));
		EXPECT_EQ(in[i].data, out[0].data);
		EXPECT_EQ(in[i].pos, out[0].pos);
		EXPECT_EQ(in[i].slots, out[0].slots);
		EXPECT_EQ(lens[i], out[0].len);
		EXPECT_TRUE(filled(out[0].data, lens[i], i));
		/* held: no second take until it is released */
		EXPECT_EQ(-EBUSY, lfq_mpsc_peek(r, &out[1]));
		EXPECT_EQ(-EBUSY, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		EXPECT_EQ(used, lfq_mpsc_size(r));
		ASSERT_EQ(0, lfq_mpsc_release(r, &out[0]));
		used -= in[i].slots;
		EXPECT_EQ(used, lfq_mpsc_size(r));
	}
	EXPECT_EQ(-EAGAIN, lfq_mpsc_peek(r, &out[0]));

	/* a reservation in the middle holds back the records after it */
	fill(buf, 5, 10);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 5));
	ASSERT_EQ(0, lfq_mpsc_reserve(r, 7, &in[0], -1));
	fill(buf, 9, 12);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 9));
	ASSERT_EQ(1, lfq_mpsc_peek_burst(r, out, 4));
	EXPECT_TRUE(filled(out[0].data, 5, 10));
	ASSERT_EQ(0, lfq_mpsc_release(r, &out[0]));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_peek_burst(r, out, 4));
	fill(in[0].data, 7, 11);
	ASSERT_EQ(0, lfq_mpsc_commit(r, &in[0]));
	ASSERT_EQ(2, lfq_mpsc_peek_burst(r, out, 4));
	EXPECT_TRUE(filled(out[0].data, 7, 11));
	EXPECT_TRUE(filled(out[1].data, 9, 12));
	ASSERT_EQ(0, lfq_mpsc_release(r, &out[1]));
	EXPECT_EQ(0, lfq_mpsc_size(r));
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/*
 * peek_burst takes up to n records of mixed lengths at once. Releasing
 * the middle one frees it and those before it, and only them: the
 * producers can use their positions, the records after it stay held and
 * intact, and the next take finds the oldest of them held (-EBUSY)
 * until the last one is released.
 */
TEST(peek_burst_takes_mixed_lengths_and_release_frees_up_to_the_one_named)
{
	const uint32_t lens[] = { 1, 48, 49, 200, 7, 112 };
	struct lfq_ring *r = mpsc_new(16, 8, LFQ_MPSC_DISCARD);
	struct lfq_mpsc_res res[8], more;
	uint8_t buf[BUF_MAX];
	struct model m;
	uint64_t id = 0;
	int i, n;

	ASSERT_NE(NULL, r);
	model_init(&m, r);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, push_check(_metadata, r, &m, id++, lens[i], P_TRY));
	EXPECT_EQ(11, lfq_mpsc_size(r));	/* 1 + 1 + 2 + 4 + 1 + 2 */
	ASSERT_EQ(2, lfq_mpsc_peek_burst(r, res, 2));
	ASSERT_EQ(0, lfq_mpsc_release(r, &res[1]));
	model_pop(&m);
	model_pop(&m);
	n = lfq_mpsc_peek_burst(r, res, 8);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++) {
		const struct model_rec *want = &m.q[(m.first + i) % MODEL_RECS];

		EXPECT_EQ(want->pos, res[i].pos);
		EXPECT_EQ(want->slots, res[i].slots);
		EXPECT_EQ(want->len, res[i].len);
		EXPECT_TRUE(filled(res[i].data, want->len, want->id));
	}
	/* the middle one: records 2 and 3 freed, 4 and 5 still held */
	ASSERT_EQ(0, lfq_mpsc_release(r, &res[1]));
	model_pop(&m);
	model_pop(&m);
	EXPECT_EQ(res[2].pos, m.tail);
	EXPECT_EQ(m.head - m.tail, lfq_mpsc_size(r));
	EXPECT_EQ(-EBUSY, lfq_mpsc_peek(r, &more));
	EXPECT_EQ(-EBUSY, lfq_mpsc_peek_burst(r, res, 8));
	EXPECT_EQ(-EBUSY, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
	/* the freed positions take new records until the ring is full */
	while (model_fits(&m, 60))
		ASSERT_EQ(0, push_check(_metadata, r, &m, id++, 60, P_RESERVE));
	EXPECT_EQ(-ENOSPC, push_check(_metadata, r, &m, id++, 60, P_TRY));
	EXPECT_EQ(m.head - m.tail, lfq_mpsc_size(r));
	EXPECT_LT(res[0].pos + 16, m.head);	/* a lap on, in 2 and 3's slots */
	EXPECT_TRUE(filled(res[2].data, lens[4], 4));
	EXPECT_TRUE(filled(res[3].data, lens[5], 5));
	/* the last one frees the rest */
	ASSERT_EQ(0, lfq_mpsc_release(r, &res[3]));
	model_pop(&m);
	model_pop(&m);
	while (m.n)
		pop_check(_metadata, r, &m, Q_PEEK);
	pop_check(_metadata, r, &m, Q_TRY);
	EXPECT_EQ(1, stats_of(r).dropped);
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/* ---- policies ----------------------------------------------------------- */

/*
 * DISCARD: a record that does not fit is refused by every verb, the
 * waiting ones included (-ENOSPC at once), and counted once each; what
 * was accepted comes out, in order.
 */
TEST(discard_refuses_records_that_do_not_fit_and_counts_each)
{
	struct lfq_ring *r = mpsc_new(8, 8, LFQ_MPSC_DISCARD);
	struct lfq_mpsc_res res = { .data = NULL, .pos = 77 };
	uint8_t buf[BUF_MAX];
	struct model m;
	uint64_t id = 0;
	int verb;

	ASSERT_NE(NULL, r);
	alarm(10);
	model_init(&m, r);
	for (id = 0; id < 8; id++)
		ASSERT_EQ(0, push_check(_metadata, r, &m, id, 10, id % P_VERBS));
	fill(buf, 10, 99);
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_push(r, buf, 10));
	EXPECT_EQ(-ENOSPC, lfq_mpsc_push(r, buf, 10, -1));
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_reserve(r, 10, &res));
	EXPECT_EQ(-ENOSPC, lfq_mpsc_reserve(r, 10, &res, -1));
	EXPECT_EQ(NULL, res.data);		/* untouched */
	EXPECT_EQ(77, res.pos);
	EXPECT_EQ(4, stats_of(r).dropped);
	EXPECT_EQ(8, lfq_mpsc_size(r));
	m.dropped = 4;
	/* one slot free: a two-slot record still does not fit */
	pop_check(_metadata, r, &m, Q_TRY);
	for (verb = 0; verb < P_VERBS; verb++)
		EXPECT_EQ(-ENOSPC, push_check(_metadata, r, &m, id++, 100, verb));
	EXPECT_EQ(0, push_check(_metadata, r, &m, id++, 48, P_WAIT));
	pop_check(_metadata, r, &m, Q_PEEK);
	pop_check(_metadata, r, &m, Q_WAIT);
	EXPECT_EQ(0, push_check(_metadata, r, &m, id++, 100, P_RESERVE_WAIT));
	EXPECT_EQ(m.dropped, stats_of(r).dropped);
	EXPECT_EQ(8, m.dropped);
	while (m.n)
		pop_check(_metadata, r, &m, Q_SMALL);
	pop_check(_metadata, r, &m, Q_TRY);
	EXPECT_EQ(0, stats_of(r).overwritten);
	EXPECT_EQ(0, lfq_ring_errors(r));
	alarm(0);
	lfq_ring_destroy(r);
}

/*
 * BLOCK: the tries refuse a record that does not fit (-ENOSPC) without
 * counting it; the waiting verbs wait up to their timeout (0: no sleep)
 * and then give up with -ETIMEDOUT, leaving no waiter counted; so does a
 * pop on an empty ring.
 */
TEST(block_refuses_tries_uncounted_and_times_out_when_full)
{
	struct lfq_mpsc_res res;
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	double t0, waited;
	uint64_t id;

	alarm(10);
	ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 4, 8, LFQ_MPSC_BLOCK));
	for (id = 0; id < 4; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_push(t.ring, buf, 8, -1));
	}
	fill(buf, 8, 4);
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_push(t.ring, buf, 8));
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_reserve(t.ring, 8, &res));
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_push(t.ring, buf, 8, 0));
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_reserve(t.ring, 8, &res, 0));
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_push(t.ring, buf, 8, 30));
	waited = now_ms() - t0;
	EXPECT_LE(30, waited);
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_reserve(t.ring, 8, &res, 30));
	waited = now_ms() - t0;
	EXPECT_LE(30, waited);
	EXPECT_EQ(0, t.hdr->not_full.waiters);
	EXPECT_EQ(0, stats_of(t.ring).dropped);
	EXPECT_EQ(4, t.hdr->head);		/* no position taken */
	for (id = 0; id < 4; id++) {
		ASSERT_EQ(8, lfq_mpsc_pop(t.ring, buf, sizeof(buf), -1));
		EXPECT_TRUE(filled(buf, 8, id));
	}
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_pop(t.ring, buf, sizeof(buf), 0));
	t0 = now_ms();
	EXPECT_EQ(-ETIMEDOUT, lfq_mpsc_pop(t.ring, buf, sizeof(buf), 20));
	waited = now_ms() - t0;
	EXPECT_LE(20, waited);
	EXPECT_EQ(0, t.hdr->not_empty.waiters);
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	alarm(0);
	test_ring_free(&t);
}

struct blocked {
	struct lfq_ring *ring;
	uint64_t id;
	uint32_t len;
	bool in_place;
	int ret;
};

/* Push record id of len bytes on a full BLOCK ring, waiting for room. */
static void *blocked_push(void *arg)
{
	struct blocked *b = arg;
	struct lfq_mpsc_res res;
	uint8_t buf[BUF_MAX];

	if (!b->in_place) {
		fill(buf, b->len, b->id);
		b->ret = lfq_mpsc_push(b->ring, buf, b->len, -1);
		return NULL;
	}
	b->ret = lfq_mpsc_reserve(b->ring, b->len, &res, -1);
	if (b->ret)
		return NULL;
	fill(res.data, b->len, b->id);
	b->ret = lfq_mpsc_commit(b->ring, &res);
	return NULL;
}

/*
 * BLOCK: a push (a reservation) on a full ring sleeps until the
 * consumer frees room, then goes in after the records already there.
 * The main thread frees room only once the helper has announced its
 * sleep, so the helper has waited; the join says it finished. A
 * two-slot reservation needs both positions freed at once.
 */
TEST(block_push_waits_until_the_consumer_frees_room)
{
	struct lfq_mpsc_res res[2];
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	unsigned int round;
	uint64_t id = 0;

	alarm(10);
	ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 4, 8, LFQ_MPSC_BLOCK));
	for (id = 0; id < 4; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	}
	for (round = 0; round < 2; round++) {
		struct blocked b = {
			.ring = t.ring, .id = id, .in_place = round,
			.len = round ? 100 : 8, .ret = 1,
		};
		uint64_t head = t.hdr->head;
		pthread_t tid;

		ASSERT_EQ(0, pthread_create(&tid, NULL, blocked_push, &b));
		wait_for_sleeper(&t.hdr->not_full.waiters);
		EXPECT_EQ(head, __atomic_load_n(&t.hdr->head, __ATOMIC_RELAXED));
		EXPECT_EQ(4, lfq_mpsc_size(t.ring));
		if (!round) {
			ASSERT_EQ(8, lfq_mpsc_pop(t.ring, buf, sizeof(buf), -1));
			EXPECT_TRUE(filled(buf, 8, 0));
		} else {
			/* records 1 and 2 go at once: one slot would not do */
			ASSERT_EQ(2, lfq_mpsc_peek_burst(t.ring, res, 2));
			EXPECT_TRUE(filled(res[0].data, 8, 1));
			EXPECT_TRUE(filled(res[1].data, 8, 2));
			ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[1]));
		}
		ASSERT_EQ(0, pthread_join(tid, NULL));
		EXPECT_EQ(0, b.ret);
		id++;
	}
	/* the waiting records came last, in the order they were pushed */
	for (id = 3; id < 6; id++) {
		int len = id == 5 ? 100 : 8;

		ASSERT_EQ(len, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, len, id)) TH_LOG("record %" PRIu64, id);
	}
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_EQ(0, t.hdr->not_full.waiters);
	EXPECT_EQ(0, stats_of(t.ring).dropped);
	alarm(0);
	test_ring_free(&t);
}

/*
 * OVERWRITE: while the consumer holds nothing, every push succeeds and
 * drops the oldest records it needs the room of, exactly those the
 * model drops, each counted once. By hand first: on four one-slot
 * positions, record 4 drops record 0; record 5, of two slots, drops 1
 * and 2; records 3, 4 and 5 are left. Then random lengths and pops.
 */
TEST(overwrite_drops_exactly_the_oldest_records)
{
	const uint32_t caps[] = { 4, 8, 16 };
	unsigned int c, i;
	uint8_t buf[BUF_MAX];
	uint64_t id, x = 11;

	{
		struct lfq_ring *r = mpsc_new(4, 8, LFQ_MPSC_OVERWRITE);

		ASSERT_NE(NULL, r);
		for (id = 0; id < 6; id++) {
			fill(buf, id == 5 ? 100 : 8, id);
			ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, id == 5 ? 100 : 8));
		}
		EXPECT_EQ(3, stats_of(r).overwritten);
		EXPECT_EQ(0, stats_of(r).dropped);
		EXPECT_EQ(4, lfq_mpsc_size(r));
		for (id = 3; id < 6; id++) {
			ASSERT_EQ(id == 5 ? 100 : 8,
				  lfq_mpsc_try_pop(r, buf, sizeof(buf)));
			EXPECT_TRUE(filled(buf, id == 5 ? 100 : 8, id));
		}
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		lfq_ring_destroy(r);
	}
	for (c = 0; c < 3; c++) {
		struct lfq_ring *r = mpsc_new(caps[c], 8, LFQ_MPSC_OVERWRITE);
		struct model m;
		uint32_t max;

		ASSERT_NE(NULL, r);
		model_init(&m, r);
		max = lfq_mpsc_max_len(r);
		for (id = 0, i = 0; i < 3000; i++) {
			if (rnd(&x) % 4) {
				ASSERT_EQ(0, push_check(_metadata, r, &m, id++,
							1 + rnd(&x) % max,
							rnd(&x) % P_VERBS));
			} else {
				pop_check(_metadata, r, &m, rnd(&x) % Q_VERBS);
			}
			ASSERT_EQ(m.overwritten, stats_of(r).overwritten)
				TH_LOG("cap %u step %u", caps[c], i);
		}
		EXPECT_LT(100, m.overwritten);
		while (m.n)
			pop_check(_metadata, r, &m, Q_TRY);
		pop_check(_metadata, r, &m, Q_TRY);
		EXPECT_EQ(0, stats_of(r).dropped);
		EXPECT_EQ(0, lfq_ring_errors(r));
		lfq_ring_destroy(r);
	}
}

/*
 * OVERWRITE cannot drop the oldest record while the consumer holds it
 * (peek) or its producer has not committed it: a push that needs its
 * room fails with -ENOSPC, counted as dropped, and the held record stays
 * intact. Once it is released (committed), pushes overwrite again.
 */
TEST(overwrite_gives_up_on_an_oldest_record_held_or_not_committed)
{
	struct lfq_ring *r = mpsc_new(4, 8, LFQ_MPSC_OVERWRITE);
	struct lfq_mpsc_res held, pending;
	uint8_t buf[BUF_MAX];
	struct model m;
	uint64_t id;
	int verb;

	ASSERT_NE(NULL, r);
	model_init(&m, r);
	for (id = 0; id < 4; id++)
		ASSERT_EQ(0, push_check(_metadata, r, &m, id, 40, P_TRY));
	ASSERT_EQ(0, lfq_mpsc_peek(r, &held));
	EXPECT_EQ(0, held.pos);
	for (verb = 0; verb < P_VERBS; verb++) {
		fill(buf, 8, 99);
		EXPECT_EQ(-ENOSPC, push_by(r, verb, buf, 8, -1, &pending));
		EXPECT_EQ(verb + 1, stats_of(r).dropped);
	}
	EXPECT_EQ(0, stats_of(r).overwritten);
	EXPECT_EQ(4, lfq_mpsc_size(r));
	EXPECT_TRUE(filled(held.data, 40, 0));
	/* released: one slot free, no overwrite needed */
	ASSERT_EQ(0, lfq_mpsc_release(r, &held));
	model_pop(&m);
	ASSERT_EQ(0, push_check(_metadata, r, &m, id++, 8, P_TRY));
	EXPECT_EQ(0, stats_of(r).overwritten);
	/* full again; the next push overwrites record 1 */
	ASSERT_EQ(0, push_check(_metadata, r, &m, id++, 8, P_WAIT));
	EXPECT_EQ(1, stats_of(r).overwritten);
	while (m.n)
		pop_check(_metadata, r, &m, Q_TRY);

	/* the oldest record is a reservation not committed yet */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(r, 8, &pending));
	for (id = 10; id < 13; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 8));
	}
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_push(r, buf, 8));
	EXPECT_EQ(5, stats_of(r).dropped);
	EXPECT_EQ(1, stats_of(r).overwritten);
	fill(pending.data, 8, 9);
	ASSERT_EQ(0, lfq_mpsc_commit(r, &pending));
	fill(buf, 8, 13);
	ASSERT_EQ(0, lfq_mpsc_try_push(r, buf, 8));	/* drops record 9 */
	EXPECT_EQ(2, stats_of(r).overwritten);
	for (id = 10; id < 14; id++) {
		ASSERT_EQ(8, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, 8, id));
	}
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(r, buf, sizeof(buf)));
	EXPECT_EQ(0, lfq_ring_errors(r));
	lfq_ring_destroy(r);
}

/*
 * A single thread's random pushes (every verb, every length) and pops
 * under each policy, the model saying what each must return: at the end,
 * every record pushed was popped, or refused and counted as dropped, or
 * overwritten and counted as such; on a BLOCK ring the refused tries
 * are nobody's drops.
 */
TEST(counters_conserve_records_under_every_policy)
{
	unsigned int pol, i;

	for (pol = 0; pol < 3; pol++) {
		struct lfq_ring *r = mpsc_new(8, 8, policies[pol]);
		uint64_t x = 5 + pol, pushes = 0, refused = 0, popped = 0;
		struct lfq_mpsc_stats st;
		struct model m;
		uint32_t max;
		int ret;

		ASSERT_NE(NULL, r);
		model_init(&m, r);
		max = lfq_mpsc_max_len(r);
		for (i = 0; i < 4000; i++) {
			if (rnd(&x) % 5 < 3) {
				ret = push_check(_metadata, r, &m, pushes++,
						 1 + rnd(&x) % max, rnd(&x) % P_VERBS);
				refused += ret != 0;
			} else {
				popped += pop_check(_metadata, r, &m,
						    rnd(&x) % Q_VERBS) > 0;
			}
		}
		while (m.n)
			popped += pop_check(_metadata, r, &m, Q_TRY) > 0;
		ASSERT_EQ(0, lfq_mpsc_stats(r, &st));
		EXPECT_EQ(m.dropped, st.dropped);
		EXPECT_EQ(m.overwritten, st.overwritten);
		if (policies[pol] == LFQ_MPSC_BLOCK) {
			EXPECT_EQ(0, st.dropped);
			EXPECT_EQ(pushes, popped + refused);
		} else {
			EXPECT_EQ(refused, st.dropped);
			EXPECT_EQ(pushes, popped + st.dropped + st.overwritten)
				TH_LOG("%s", policy_names[policies[pol]]);
		}
		EXPECT_LT(0, refused + st.overwritten);
		EXPECT_EQ(0, lfq_mpsc_size(r));
		EXPECT_EQ(0, lfq_ring_errors(r));
		lfq_ring_destroy(r);
	}
}

/* ---- waiting ------------------------------------------------------------ */

TEST(wait_begin_reports_mpsc_readiness_and_counts_waiters)
{
	struct lfq_mpsc_res res;
	struct test_ring t;
	uint64_t v = 1;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 2, 8));
	expect_wait_counts_on_empty(_metadata, &t);
	/* a reservation: nothing to read yet, room for one more */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &res));
	EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &res));
	EXPECT_EQ(POLLIN | POLLOUT, lfq_ring_wait_begin(t.ring, POLLIN | POLLOUT));
	lfq_ring_wait_end(t.ring, POLLIN | POLLOUT);
	ASSERT_EQ(0, push_item(t.ring, &v));
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
			ASSERT_EQ(0, i % 3 ? lfq_mpsc_try_push(t.ring, &v, 8) :
					     push_item(t.ring, &v));
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		EXPECT_EQ(0, lfq_mpsc_size(t.ring));
		if (t.hdr)
			EXPECT_EQ(0, t.hdr->not_empty.waiters);
		test_ring_free(&t);
	}
	alarm(0);
}

TEST(blocked_push_is_woken_by_pop_on_a_block_ring)
{
	unsigned int kind, i;
	uint64_t x = 9, v;

	alarm(30);
	for (kind = 0; kind < T_KINDS; kind++) {
		struct lfq_mpsc_res res;
		struct handoff h;
		struct test_ring t;
		uint32_t *waiters;

		ASSERT_EQ(0, test_ring_policy(&t, kind, 2, 8, LFQ_MPSC_BLOCK));
		for (v = 0; v < 2; v++)
			ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, &v, 8));
		waiters = t.hdr ? &t.hdr->not_full.waiters : NULL;
		ASSERT_EQ(0, handoff_start(&h, t.ring, handoff_pusher));
		for (i = 0; i < h.n; i++) {
			/* the helper's push i + 2 now finds the ring full */
			handoff_wait(&h, i, waiters, &x);
			if (i % 3) {
				ASSERT_EQ(0, pop_item(t.ring, &v));
			} else {
				ASSERT_EQ(0, lfq_mpsc_peek(t.ring, &res));
				memcpy(&v, res.data, sizeof(v));
				ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res));
			}
			ASSERT_EQ(i, v);
		}
		EXPECT_EQ(0, handoff_join(&h)) TH_LOG("%s", kind_names[kind]);
		for (i = h.n; i < h.n + 2; i++) {
			ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, &v, sizeof(v)));
			EXPECT_EQ(i, v);
		}
		EXPECT_EQ(0, stats_of(t.ring).dropped);
		if (t.hdr)
			EXPECT_EQ(0, t.hdr->not_full.waiters);
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * Across processes on one memfd: a child attaches the inherited fd and
 * echoes every record back on a second ring; both sides sleep in pop().
 * The child checks first that it attached an MPSC ring (exit 5).
 */
static int echo_mpsc_items(struct lfq_ring *in, struct lfq_ring *out)
{
	if (lfq_ring_info(in)->type != LFQ_RING_MPSC)
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
	echo_across_fork(_metadata, to, from, echo_mpsc_items);
	alarm(0);
	lfq_ring_destroy(to);
	lfq_ring_destroy(from);
}

/* ---- bad commits and releases ------------------------------------------- */

/*
 * A bad commit or release returns -EINVAL, leaves the ring region exactly
 * as it was (byte for byte) and counts no corruption.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   const struct test_ring *t, bool commit,
			   const struct lfq_mpsc_res *res, const char *what)
{
	size_t n = t->info->ring_size;
	uint64_t errors = lfq_ring_errors(t->ring);
	uint8_t *before = malloc(n);

	ASSERT_NE(NULL, before);
	memcpy(before, t->hdr, n);
	if (commit) {
		EXPECT_EQ(-EINVAL, lfq_mpsc_commit(t->ring, res))
			TH_LOG("commit of %s", what);
	} else {
		EXPECT_EQ(-EINVAL, lfq_mpsc_release(t->ring, res))
			TH_LOG("release of %s", what);
	}
	EXPECT_EQ(0, memcmp(before, t->hdr, n)) TH_LOG("%s changed the ring",
						       what);
	EXPECT_EQ(errors, lfq_ring_errors(t->ring));
	free(before);
}

/* A copy of res at another position, its data where the ring would put it. */
static struct lfq_mpsc_res res_at(const struct test_ring *t,
				  const struct lfq_mpsc_res *res, uint64_t pos)
{
	struct lfq_mpsc_res f = *res;

	f.pos = pos;
	f.data = payload_at(t, pos);
	return f;
}

/*
 * Commit twice, commit of a reservation from the last lap, of positions
 * consumed or never handed out, with the wrong slots, length or data:
 * all -EINVAL, and the one real reservation commits and pops as it was.
 */
TEST(commit_twice_stale_or_forged_returns_einval_and_changes_nothing)
{
	struct lfq_mpsc_res stale, cur, next, f;
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	uint64_t pos, local;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	pass_record(_metadata, t.ring, 1);
	/* a reservation at position 1, committed (twice) and popped */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &stale));
	EXPECT_EQ(1, stale.pos);
	fill(stale.data, 8, 1);
	ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &stale));
	expect_refused(_metadata, &t, true, &stale, "a reservation, twice");
	ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	expect_refused(_metadata, &t, true, &stale, "a consumed reservation");
	/* a lap later, positions 9 and 10 are pending, 9 in the same slot */
	seek_empty(_metadata, &t, 9);
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &cur));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &next));
	pos = cur.pos;
	ASSERT_EQ(9, pos);
	fill(cur.data, 8, 2);
	fill(next.data, 8, 3);
	expect_refused(_metadata, &t, true, &stale,
		       "a reservation of the last lap, same slot");
	/* positions: head and beyond (freed: their slots say 0) */
	EXPECT_EQ(0, rec_at(&t, pos + 2)->slots);
	f = res_at(&t, &cur, pos + 2);
	expect_refused(_metadata, &t, true, &f, "position head");
	f = res_at(&t, &cur, pos + 4);
	expect_refused(_metadata, &t, true, &f, "position head + 2");
	f = res_at(&t, &cur, pos + 8);
	expect_refused(_metadata, &t, true, &f, "a lap later, same slot");
	f = res_at(&t, &cur, pos - 1);
	expect_refused(_metadata, &t, true, &f, "a consumed position");
	f = res_at(&t, &cur, pos ^ (1ULL << 63));
	expect_refused(_metadata, &t, true, &f, "position + 2^63");
	/* slots and length */
	f = cur;
	f.slots = 2;		/* below head, as if it took 10 too */
	expect_refused(_metadata, &t, true, &f, "slots 2 for 1");
	f.slots = 0;
	expect_refused(_metadata, &t, true, &f, "slots 0");
	f.slots = 8;
	expect_refused(_metadata, &t, true, &f, "slots == capacity");
	f.slots = UINT32_MAX;
	expect_refused(_metadata, &t, true, &f, "slots UINT32_MAX");
	f = cur;
	f.len = t.info->slot_stride - LFQ_MPSC_SLOT_HDR + 1;
	expect_refused(_metadata, &t, true, &f, "len beyond its slot");
	/* data */
	f = cur;
	f.data = (uint8_t *)cur.data + 1;
	expect_refused(_metadata, &t, true, &f, "data + 1");
	f.data = rec_at(&t, pos);
	expect_refused(_metadata, &t, true, &f, "data at the record header");
	f.data = payload_at(&t, pos + 1);
	expect_refused(_metadata, &t, true, &f, "the next slot's data");
	f.data = slot0(&t);
	expect_refused(_metadata, &t, true, &f, "data at slot 0");
	f.data = NULL;
	expect_refused(_metadata, &t, true, &f, "NULL data");
	f.data = &local;
	expect_refused(_metadata, &t, true, &f, "data off the ring");
	/* nothing was published meanwhile */
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, lfq_mpsc_commit(t.ring, NULL));
	EXPECT_EQ(-EINVAL, lfq_mpsc_commit(NULL, &cur));

	ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &cur));
	ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &next));
	expect_refused(_metadata, &t, true, &cur, "a reservation twice");
	ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_TRUE(filled(buf, 8, 2));
	ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_TRUE(filled(buf, 8, 3));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * Inside a pending reservation there are positions that look free: the
 * positions a wrapping record takes up to the end of the lap hold no
 * payload, and those of its payload hold the seq of the last lap (and
 * slots 0, from their free) until the producer writes there. The ring never handed them out:
 * a commit naming one must be -EINVAL and must not publish it.
 */
TEST(commit_of_a_position_inside_a_pending_reservation_returns_einval)
{
	struct lfq_mpsc_res res, f;
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	uint64_t pos;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	seek_empty(_metadata, &t, 8 + 5);	/* one-slot records so far */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 200, &res));
	pos = res.pos;
	ASSERT_EQ(13, pos);
	ASSERT_EQ(7, res.slots);		/* 3 to the end, 4 from slot 0 */
	ASSERT_EQ(slot0(&t), res.data);
	ASSERT_EQ(pos + 1, rec_at(&t, pos + 1)->seq);
	ASSERT_EQ(0, rec_at(&t, pos + 1)->slots);
	f = res_at(&t, &res, pos + 1);
	f.len = 8;
	f.slots = 1;
	expect_refused(_metadata, &t, true, &f,
		       "a position between a wrapping header and the lap's end");
	f = res_at(&t, &res, pos + 3);
	f.len = 8;
	f.slots = 1;
	expect_refused(_metadata, &t, true, &f,
		       "a payload position not written yet");
	fill(res.data, 200, 3);
	ASSERT_EQ(0, lfq_mpsc_commit(t.ring, &res));
	ASSERT_EQ(200, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_TRUE(filled(buf, 200, 3));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	test_ring_free(&t);
}

/*
 * Release twice, of a record taken in the last lap, of records never
 * taken or free, with the wrong position, slots or data: all -EINVAL,
 * and the records held and not held stay as they were.
 */
TEST(release_twice_untaken_stale_or_forged_returns_einval_and_changes_nothing)
{
	struct lfq_mpsc_res stale, held[2], f;
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	uint64_t id, pos, local;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	fill(buf, 8, 0);
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	ASSERT_EQ(0, lfq_mpsc_peek(t.ring, &stale));
	ASSERT_EQ(0, lfq_mpsc_release(t.ring, &stale));
	expect_refused(_metadata, &t, false, &stale, "a record released");
	/* a lap later: records 8 and 9 held, 10 committed, 11 free */
	seek_empty(_metadata, &t, 8);
	for (id = 8; id < 11; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	}
	ASSERT_EQ(2, lfq_mpsc_peek_burst(t.ring, held, 2));
	pos = held[1].pos;
	ASSERT_EQ(9, pos);
	expect_refused(_metadata, &t, false, &stale,
		       "a record of the last lap, same slot, held again");
	f = res_at(&t, &held[1], pos + 1);
	expect_refused(_metadata, &t, false, &f, "a record never taken");
	f = res_at(&t, &held[1], pos + 2);
	expect_refused(_metadata, &t, false, &f, "a free position");
	f = res_at(&t, &held[1], pos + 8);
	expect_refused(_metadata, &t, false, &f, "a lap later, same slot");
	f = res_at(&t, &held[1], pos - 8);
	expect_refused(_metadata, &t, false, &f, "a lap earlier, same slot");
	f = res_at(&t, &held[1], pos ^ (1ULL << 63));
	expect_refused(_metadata, &t, false, &f, "position + 2^63");
	f = held[1];
	f.slots = 2;
	expect_refused(_metadata, &t, false, &f, "slots 2 for 1");
	f.slots = 0;
	expect_refused(_metadata, &t, false, &f, "slots 0");
	f = held[1];
	f.data = (uint8_t *)held[1].data + 1;
	expect_refused(_metadata, &t, false, &f, "data + 1");
	f.data = slot0(&t);
	expect_refused(_metadata, &t, false, &f, "data at slot 0");
	f.data = NULL;
	expect_refused(_metadata, &t, false, &f, "NULL data");
	f.data = &local;
	expect_refused(_metadata, &t, false, &f, "data off the ring");
	EXPECT_EQ(-EINVAL, lfq_mpsc_release(t.ring, NULL));
	EXPECT_EQ(-EINVAL, lfq_mpsc_release(NULL, &held[1]));
	EXPECT_EQ(-EINVAL, lfq_mpsc_commit(t.ring, &held[1]));
	/* the held records are intact, and go with the second's release */
	EXPECT_TRUE(filled(held[0].data, 8, 8));
	EXPECT_TRUE(filled(held[1].data, 8, 9));
	ASSERT_EQ(0, lfq_mpsc_release(t.ring, &held[1]));
	expect_refused(_metadata, &t, false, &held[0],
		       "a record freed with the one after it");
	expect_refused(_metadata, &t, false, &held[1], "a record twice");
	ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_TRUE(filled(buf, 8, 10));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/*
 * The positions a held record's payload covers are no record: a release
 * naming one must be -EINVAL even when the payload bytes there read as
 * a taken record header (a log record may hold any bytes).
 */
TEST(release_of_a_position_inside_a_held_record_returns_einval)
{
	struct lfq_mpsc_res held[2], f;
	struct lfq_mpsc_rec fake = {
		.seq = LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY, .len = 1, .slots = 4,
	};
	uint8_t buf[BUF_MAX];
	struct test_ring t;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	/* three slots; slot 1's header lies at payload offset 48 */
	fill(buf, 150, 1);
	memcpy(buf + t.info->slot_stride - LFQ_MPSC_SLOT_HDR, &fake,
	       sizeof(fake));
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 150));
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 20));
	ASSERT_EQ(2, lfq_mpsc_peek_burst(t.ring, held, 2));
	ASSERT_EQ(3, held[0].slots);
	/* its end would be past the second record, still held */
	f = res_at(&t, &held[0], 1);
	f.slots = 4;
	f.len = 1;
	expect_refused(_metadata, &t, false, &f,
		       "a position inside a held record's payload");
	EXPECT_TRUE(filled(held[1].data, 20, 1));
	ASSERT_EQ(0, lfq_mpsc_release(t.ring, &held[1]));
	EXPECT_EQ(0, lfq_mpsc_size(t.ring));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/* ---- skip records ------------------------------------------------------- */

/*
 * What the module's repair publishes for a producer that died holding a
 * reservation (lfq_mpsc_repair() in kmod/mpsc_log.c): len 0, its slots,
 * then seq = pos + 1 with release order.
 */
static void publish_skip(const struct test_ring *t,
			 const struct lfq_mpsc_res *res)
{
	struct lfq_mpsc_rec *rec = rec_at(t, res->pos);

	rec->len = 0;
	rec->slots = res->slots;
	__atomic_store_n(&rec->seq, res->pos + 1, __ATOMIC_RELEASE);
}

/*
 * A dead producer's record, one slot or wrapping, alone, in a row, or in
 * the middle of a burst: the consumer frees it on the way and returns
 * the next record; a skip record after a taken one ends the batch. Its
 * positions are freed for the next lap, and nothing is counted.
 */
TEST(consumer_skips_a_dead_producers_record)
{
	unsigned int kind;

	alarm(10);
	for (kind = T_MEMFD; kind < T_KINDS; kind++) {
		struct lfq_mpsc_res dead[4], res[4];
		uint8_t buf[BUF_MAX];
		struct test_ring t;
		uint64_t p;
		int i;

		ASSERT_EQ(0, test_ring_new(&t, kind, 8, 8));
		fill(buf, 5, 1);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 5));
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 10, &dead[0]));
		fill(buf, 100, 2);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 100));
		ASSERT_EQ(5, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, 5, 1));
		/* the dead reservation holds back the record after it */
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
		publish_skip(&t, &dead[0]);
		ASSERT_EQ(100, lfq_mpsc_pop(t.ring, buf, sizeof(buf), -1))
			TH_LOG("%s", kind_names[kind]);
		EXPECT_TRUE(filled(buf, 100, 2));
		EXPECT_EQ(dead[0].pos + 8, rec_at(&t, dead[0].pos)->seq);
		EXPECT_EQ(t.hdr->head, t.hdr->tail);
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));

		/* a wrapping one: its header at offset 6, payload at slot 0 */
		seek_empty(_metadata, &t, 8 + 6);
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 200, &dead[0]));
		ASSERT_EQ(6, dead[0].slots);
		fill(buf, 20, 3);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 20));
		publish_skip(&t, &dead[0]);
		ASSERT_EQ(0, lfq_mpsc_peek(t.ring, &res[0]));
		EXPECT_EQ(dead[0].pos + 6, res[0].pos);
		EXPECT_TRUE(filled(res[0].data, 20, 3));
		ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[0]));
		for (p = dead[0].pos; p < dead[0].pos + 6; p++)
			EXPECT_EQ(p + 8, rec_at(&t, p)->seq);

		/* two in a row, a record, one more, a record */
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 1, &dead[1]));
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 60, &dead[2]));
		fill(buf, 30, 4);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 30));
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 9, &dead[3]));
		fill(buf, 40, 5);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 40));
		for (i = 1; i < 4; i++)
			publish_skip(&t, &dead[i]);
		ASSERT_EQ(1, lfq_mpsc_peek_burst(t.ring, res, 4));
		EXPECT_TRUE(filled(res[0].data, 30, 4));
		ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[0]));
		ASSERT_EQ(1, lfq_mpsc_peek_burst(t.ring, res, 4));
		EXPECT_TRUE(filled(res[0].data, 40, 5));
		ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[0]));
		/* only a skip record: freed, and the ring is empty */
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 9, &dead[0]));
		publish_skip(&t, &dead[0]);
		EXPECT_EQ(-EAGAIN, lfq_mpsc_peek(t.ring, &res[0]));
		EXPECT_EQ(t.hdr->head, t.hdr->tail);
		EXPECT_EQ(0, stats_of(t.ring).dropped);
		EXPECT_EQ(0, stats_of(t.ring).overwritten);
		EXPECT_EQ(0, lfq_ring_errors(t.ring));
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * Behind more skip records than one try walks, try_pop gives up
 * (-EAGAIN or -EBUSY) having freed some, and later tries go on from
 * there to the record.
 */
TEST(try_pop_behind_many_skip_records_makes_progress)
{
	struct lfq_mpsc_res dead;
	uint8_t buf[BUF_MAX];
	unsigned int calls = 0, i;
	struct test_ring t;
	uint64_t tail;
	int ret;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 256, 8));
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &dead));
		publish_skip(&t, &dead);
	}
	fill(buf, 8, 42);
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	do {
		tail = t.hdr->tail;
		ret = lfq_mpsc_try_pop(t.ring, buf, sizeof(buf));
		calls++;
		if (ret < 0) {
			EXPECT_TRUE(ret == -EAGAIN || ret == -EBUSY);
			ASSERT_LT(tail, t.hdr->tail);	/* progress */
		}
	} while (ret < 0 && calls < 201);
	ASSERT_EQ(8, ret);
	EXPECT_TRUE(filled(buf, 8, 42));
	EXPECT_EQ(201, t.hdr->tail);
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	test_ring_free(&t);
}

/* An overwrite drops a skip record without counting it: nothing was lost. */
TEST(overwrite_frees_a_skip_record_without_counting_it)
{
	struct lfq_mpsc_res dead;
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	uint64_t id;

	ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 4, 8, LFQ_MPSC_OVERWRITE));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(t.ring, 8, &dead));
	for (id = 1; id < 4; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	}
	publish_skip(&t, &dead);
	fill(buf, 8, 4);
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	EXPECT_EQ(0, stats_of(t.ring).overwritten);
	EXPECT_EQ(0, stats_of(t.ring).dropped);
	for (id = 1; id < 5; id++) {
		ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
		EXPECT_TRUE(filled(buf, 8, id));
	}
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
	test_ring_free(&t);
}

/* ---- corruption --------------------------------------------------------- */

/*
 * head more than a lap ahead of tail: no correct ring holds that. Every
 * producer verb, under every policy, returns -EIO at once (no wait on a
 * BLOCK ring), counted, and nothing counted as dropped; put back, the
 * ring works.
 */
TEST(head_more_than_a_lap_past_tail_is_eio_for_producers)
{
	const uint64_t ahead[] = { 9, 1000, 1ULL << 62 };
	struct lfq_mpsc_res res;
	uint8_t buf[BUF_MAX];
	unsigned int pol, a;

	alarm(10);
	for (pol = 0; pol < 3; pol++) {
		for (a = 0; a < 3; a++) {
			struct test_ring t;
			uint64_t head;
			int verb;

			ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 8, 8, policies[pol]));
			fill(buf, 8, 1);
			ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
			head = t.hdr->head;
			t.hdr->head = t.hdr->tail + ahead[a];
			for (verb = 0; verb < P_VERBS; verb++) {
				EXPECT_EQ(-EIO, push_by(t.ring, verb, buf, 8, -1, &res))
					TH_LOG("%s, head + %" PRIu64 ", verb %d",
					       policy_names[policies[pol]], ahead[a],
					       verb);
				EXPECT_EQ(verb + 1, lfq_ring_errors(t.ring));
			}
			EXPECT_EQ(8, lfq_mpsc_size(t.ring));	/* clamped */
			EXPECT_EQ(0, stats_of(t.ring).dropped);
			EXPECT_EQ(0, stats_of(t.ring).overwritten);
			t.hdr->head = head;
			ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
			EXPECT_TRUE(filled(buf, 8, 1));
			ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
			test_ring_free(&t);
		}
	}
	alarm(0);
}

/*
 * tail past head: no correct ring holds that either (tail only moves
 * over records below head). The producers must say -EIO, counted, not
 * that the ring is full, and must not spin until their deadline; the
 * consumer finds nothing to take.
 */
TEST(tail_past_head_is_eio_for_producers)
{
	struct lfq_mpsc_res res;
	uint8_t buf[BUF_MAX];
	unsigned int pol;

	alarm(10);
	for (pol = 0; pol < 3; pol++) {
		struct test_ring t;
		double t0;
		int ret;

		ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 8, 8, policies[pol]));
		pass_record(_metadata, t.ring, 8);
		t.hdr->tail = t.hdr->head + 3;
		fill(buf, 8, 1);
		EXPECT_EQ(-EIO, lfq_mpsc_try_push(t.ring, buf, 8))
			TH_LOG("%s", policy_names[policies[pol]]);
		EXPECT_EQ(-EIO, lfq_mpsc_try_reserve(t.ring, 8, &res));
		t0 = now_ms();
		EXPECT_EQ(-EIO, lfq_mpsc_push(t.ring, buf, 8, 200));
		EXPECT_GT(100, now_ms() - t0);
		EXPECT_EQ(3, lfq_ring_errors(t.ring));
		EXPECT_EQ(0, stats_of(t.ring).dropped);
		ret = lfq_mpsc_try_pop(t.ring, buf, sizeof(buf));
		EXPECT_TRUE(ret == -EAGAIN || ret == -EIO) TH_LOG("pop: %d", ret);
		EXPECT_EQ(0, lfq_mpsc_size(t.ring));
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * A committed record whose header no correct producer writes: slots 0
 * or a lap or more, a length its slots cannot hold (one slot, several,
 * or wrapped to slot 0). Every consumer verb returns -EIO at once,
 * counted, and leaves it committed; an overwriting producer that needs
 * its room returns -EIO too, dropping nothing. Put back, the ring works.
 */
TEST(corrupt_record_header_is_eio_for_consumer_and_overwriter)
{
	const struct {
		uint32_t off, len;	/* the record: its offset and length */
		uint32_t bad_len, bad_slots;
		const char *what;
	} cases[] = {
		{ 0, 8,   8,   0,	   "slots 0" },
		{ 0, 8,   8,   8,	   "slots == capacity" },
		{ 0, 8,   8,   11,	   "slots past capacity" },
		{ 0, 8,   8,   UINT32_MAX, "slots UINT32_MAX" },
		{ 0, 8,   49,  1,	   "len past its one slot" },
		{ 2, 100, 113, 2,	   "len past its two slots" },
		{ 7, 100, 129, 3,	   "len past its wrapped payload" },
		{ 2, 8,   UINT32_MAX, 1,   "len UINT32_MAX" },
	};
	struct lfq_mpsc_res res[2];
	uint8_t buf[BUF_MAX];
	unsigned int c;

	alarm(10);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct lfq_mpsc_rec *rec, good;
		struct test_ring t;
		uint64_t pos, id;

		ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 8, 8,
					      LFQ_MPSC_OVERWRITE));
		seek_empty(_metadata, &t, cases[c].off);
		pos = t.hdr->head;
		fill(buf, cases[c].len, 0);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, cases[c].len));
		for (id = 1; t.hdr->head - t.hdr->tail < 8; id++) {
			fill(buf, 8, id);
			ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
		}
		rec = rec_at(&t, pos);
		good = *rec;
		rec->len = cases[c].bad_len;
		rec->slots = cases[c].bad_slots;
		EXPECT_EQ(-EIO, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)))
			TH_LOG("%s", cases[c].what);
		EXPECT_EQ(-EIO, lfq_mpsc_pop(t.ring, buf, sizeof(buf), -1));
		EXPECT_EQ(-EIO, lfq_mpsc_peek(t.ring, res));
		EXPECT_EQ(-EIO, lfq_mpsc_peek_burst(t.ring, res, 2));
		EXPECT_EQ(4, lfq_ring_errors(t.ring));
		EXPECT_EQ(pos + 1, rec->seq);
		EXPECT_EQ(pos, t.hdr->tail);
		/* full: the next push would have to drop it */
		fill(buf, 8, id);
		EXPECT_EQ(-EIO, lfq_mpsc_try_push(t.ring, buf, 8))
			TH_LOG("%s", cases[c].what);
		EXPECT_EQ(5, lfq_ring_errors(t.ring));
		EXPECT_EQ(0, stats_of(t.ring).overwritten);
		EXPECT_EQ(0, stats_of(t.ring).dropped);
		EXPECT_EQ(pos + 1, rec->seq);
		/* put back: the push drops it, the rest come out */
		*rec = good;
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
		EXPECT_EQ(1, stats_of(t.ring).overwritten);
		for (id = 1; lfq_mpsc_size(t.ring); id++) {
			ASSERT_EQ(8, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)));
			EXPECT_TRUE(filled(buf, 8, id));
		}
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * seq at tail that is neither free, committed nor taken (a value of a
 * lap to come, or garbage): the consumer returns -EIO, counted; an
 * overwriter cannot drop it either.
 */
TEST(corrupt_seq_at_tail_is_eio_for_the_consumer)
{
	const uint64_t bad[] = { 2, 8, 9, 17, 12345 };	/* for position 0 */
	uint8_t buf[BUF_MAX];
	unsigned int b;

	alarm(10);
	for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		struct lfq_mpsc_res res;
		struct test_ring t;
		uint64_t id;
		int ret;

		ASSERT_EQ(0, test_ring_policy(&t, T_MEM, 8, 8,
					      LFQ_MPSC_OVERWRITE));
		for (id = 0; id < 8; id++) {
			fill(buf, 8, id);
			ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
		}
		rec_at(&t, 0)->seq = bad[b];
		EXPECT_EQ(-EIO, lfq_mpsc_try_pop(t.ring, buf, sizeof(buf)))
			TH_LOG("seq %" PRIu64, bad[b]);
		EXPECT_EQ(-EIO, lfq_mpsc_peek(t.ring, &res));
		EXPECT_EQ(-EIO, lfq_mpsc_pop(t.ring, buf, sizeof(buf), -1));
		EXPECT_EQ(3, lfq_ring_errors(t.ring));
		ret = lfq_mpsc_try_push(t.ring, buf, 8);
		EXPECT_TRUE(ret == -EIO || ret == -ENOSPC) TH_LOG("push: %d", ret);
		EXPECT_EQ(0, stats_of(t.ring).overwritten);
		EXPECT_EQ(bad[b], rec_at(&t, 0)->seq);
		EXPECT_EQ(0, t.hdr->tail);
		test_ring_free(&t);
	}
	alarm(0);
}

/*
 * A corrupt record after good ones ends a burst before it, with no
 * error yet; the next take, which starts at it, reports it.
 */
TEST(corrupt_record_after_a_good_one_ends_the_burst)
{
	struct lfq_mpsc_res res[3];
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	uint64_t id;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	for (id = 0; id < 3; id++) {
		fill(buf, 8, id);
		ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	}
	rec_at(&t, 1)->slots = 0;
	ASSERT_EQ(1, lfq_mpsc_peek_burst(t.ring, res, 3));
	EXPECT_EQ(0, lfq_ring_errors(t.ring));
	ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[0]));
	EXPECT_EQ(-EIO, lfq_mpsc_peek_burst(t.ring, res, 3));
	EXPECT_EQ(1, lfq_ring_errors(t.ring));
	rec_at(&t, 1)->slots = 1;
	ASSERT_EQ(2, lfq_mpsc_peek_burst(t.ring, res, 3));
	EXPECT_TRUE(filled(res[0].data, 8, 1));
	EXPECT_TRUE(filled(res[1].data, 8, 2));
	ASSERT_EQ(0, lfq_mpsc_release(t.ring, &res[1]));
	test_ring_free(&t);
}

/*
 * A committed record whose slots run past head: no correct producer
 * writes that (a record lies below head). Either the consumer refuses it
 * (-EIO), or, having taken it and moved tail past head, the producers
 * must say so (-EIO) instead of reporting a full ring forever.
 */
TEST(committed_record_running_past_head_is_caught)
{
	uint8_t buf[BUF_MAX];
	struct test_ring t;
	int ret;

	ASSERT_EQ(0, test_ring_new(&t, T_MEM, 8, 8));
	fill(buf, 8, 1);
	ASSERT_EQ(0, lfq_mpsc_try_push(t.ring, buf, 8));
	rec_at(&t, 0)->slots = 3;
	ret = lfq_mpsc_try_pop(t.ring, buf, sizeof(buf));
	if (ret != -EIO) {
		EXPECT_EQ(8, ret);
		TH_LOG("taken: head %" PRIu64 ", tail %" PRIu64, t.hdr->head,
		       t.hdr->tail);
		EXPECT_EQ(-EIO, lfq_mpsc_try_push(t.ring, buf, 8));
	}
	EXPECT_LE(1, lfq_ring_errors(t.ring));
	EXPECT_EQ(0, stats_of(t.ring).dropped);
	test_ring_free(&t);
}

TEST_HARNESS_MAIN
