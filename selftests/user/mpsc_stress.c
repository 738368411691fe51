// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress of the MPSC log ring on every backend (heap, memfd, /dev/lfq),
 * with one consumer always (the ring has one), in two fixtures.
 *
 * mpsc_stress runs the shared body of stress_impl.h on LFQ_MPSC_BLOCK
 * rings, whose records are then the body's items (elem_size bytes, one
 * slot each): push/pop, try_push/try_pop, reserve/commit against
 * peek/release, their try_ forms, and every verb mixed at random, with
 * 1, 4 and 8 producers on capacities 2, 4 and 64. The invariants are
 * the body's: no loss, no duplicate, per-producer order, conservation.
 *
 * mpsc_records brings thread bodies of its own (stress_impl.h's
 * producer, consumer and verify hooks) for what fixed items on a BLOCK
 * ring cannot show:
 *
 *   - records of varying length (REC_VARLEN): from the item's header up
 *     to lfq_mpsc_max_len(), a function of (producer, seq), so that they
 *     take one slot or many and wrap round the end of the lap; the
 *     consumer checks the length and every byte;
 *   - the lossy policies: producers push each item once and count what
 *     the ring refused; the consumer cannot count to the total, so it
 *     stops when every producer is done and the ring is empty;
 *   - takes in place: peek, and peek_burst released by its last record.
 *
 * Its invariants: every record well-formed and of its length, no
 * duplicate, per producer strictly increasing seqs (gaps allowed), a
 * record held by the consumer unchanged until released, refusals ==
 * stats.dropped, items == popped + stats.dropped + stats.overwritten,
 * nothing dropped on a BLOCK ring and nothing overwritten on a DISCARD
 * one, the ring empty at the end.
 *
 * Under ThreadSanitizer only the heap runs go: producers order their
 * writes to a slot after its last lap's through the consumer, which on
 * memfd and dev is in the other process, out of TSan's sight.
 *
 * Test names are mpsc_stress.<variant>.<backend>, with variant names
 * <producers>x1_<verb>_c<capacity>_e<elem size>, and
 * mpsc_records.<variant>.<backend>, with variant names
 * <producers>x1_<policy>_<producer verb>_<take>_<fixed|var>_c<capacity>_e<elem size>.
 */
#define _GNU_SOURCE
#include "stress_impl.h"

_Static_assert(sizeof(struct lfq_mpsc_res) <= STRESS_REF_SIZE,
	       "an MPSC reservation fits the stress body's ref");

/* mpsc_records' cfg.mode: how the consumer takes records ... */
enum rec_take {
	REC_POP,	/* pop into a buffer of lfq_mpsc_max_len() bytes */
	REC_TRY_POP,	/* try_pop, yield when empty */
	REC_PEEK,	/* peek, check in place, scribble, release */
	REC_PEEK_BURST,	/* peek_burst of 1..32, release of the last */
	REC_MIXED,	/* any of the four, per take */
};

#define REC_TAKE	0x0f
/* ... and whether their length varies: elem_size bytes otherwise. */
#define REC_VARLEN	0x10

/* A consumer of a lossy ring waits this long, then sees if it is done. */
#define REC_WAIT_MS	20

static const char *const rec_take_names[] = {
	[REC_POP] = "pop",
	[REC_TRY_POP] = "try_pop",
	[REC_PEEK] = "peek",
	[REC_PEEK_BURST] = "peek_burst",
	[REC_MIXED] = "mixed",
};

static int mpsc_create(struct lfq_ring **ringp, const struct stress_cfg *cfg,
		       enum lfq_mem mem)
{
	struct lfq_create p = {
		.type = LFQ_RING_MPSC,
		.capacity = cfg->capacity,
		.elem_size = cfg->elem_size,
		.policy = cfg->policy,
	};

	if (cfg->consumers != 1)
		return -EINVAL;
	return lfq_ring_create(ringp, &p, mem);
}

static uint32_t mpsc_es(const struct lfq_ring *ring)
{
	return lfq_ring_info(ring)->elem_size;
}

static int mpsc_push(struct lfq_ring *ring, const void *elem, int timeout_ms)
{
	return lfq_mpsc_push(ring, elem, mpsc_es(ring), timeout_ms);
}

static int mpsc_try_push(struct lfq_ring *ring, const void *elem)
{
	return lfq_mpsc_try_push(ring, elem, mpsc_es(ring));
}

/* Pops return the length: another than the items' is a bug, -EBADMSG. */
static int mpsc_len_ok(const struct lfq_ring *ring, int ret)
{
	return ret < 0 ? ret : ret == (int)mpsc_es(ring) ? 0 : -EBADMSG;
}

static int mpsc_pop(struct lfq_ring *ring, void *elem, int timeout_ms)
{
	return mpsc_len_ok(ring, lfq_mpsc_pop(ring, elem, mpsc_es(ring),
					      timeout_ms));
}

static int mpsc_try_pop(struct lfq_ring *ring, void *elem)
{
	return mpsc_len_ok(ring, lfq_mpsc_try_pop(ring, elem, mpsc_es(ring)));
}

static int mpsc_push_reserve(struct lfq_ring *ring, bool try, void **elem,
			     void *ref)
{
	struct lfq_mpsc_res *res = ref;
	int ret = try ? lfq_mpsc_try_reserve(ring, mpsc_es(ring), res) :
			lfq_mpsc_reserve(ring, mpsc_es(ring), res, -1);

	if (!ret)
		*elem = res->data;
	return ret;
}

static int mpsc_push_commit(struct lfq_ring *ring, const void *ref)
{
	return lfq_mpsc_commit(ring, ref);
}

/*
 * Wait until a record is at tail, for the peeks, which never wait: a pop
 * into 0 bytes sleeps as pop does and, finding a record, leaves it where
 * it is (-EMSGSIZE). 0 when there is one or the time is up, or a negative
 * errno; a pop into 0 bytes that returns a record is a bug, -EPROTO.
 */
static int mpsc_wait_record(struct lfq_ring *ring, int timeout_ms)
{
	char none;
	int ret = lfq_mpsc_pop(ring, &none, 0, timeout_ms);

	if (ret == -EMSGSIZE || ret == -ETIMEDOUT)
		return 0;
	return ret < 0 ? ret : -EPROTO;
}

/*
 * The blocking form waits with mpsc_wait_record(); the record it saw is
 * the consumer's alone on a BLOCK ring, so the peek after it must succeed.
 */
static int mpsc_pop_reserve(struct lfq_ring *ring, bool try, void **elem,
			    void *ref)
{
	struct lfq_mpsc_res *res = ref;
	int ret = lfq_mpsc_peek(ring, res);

	if (ret == -EAGAIN && !try) {
		ret = mpsc_wait_record(ring, -1);
		if (!ret)
			ret = lfq_mpsc_peek(ring, res);
	}
	if (!ret && res->len != mpsc_es(ring))
		ret = -EBADMSG;
	if (!ret)
		*elem = res->data;
	return ret;
}

static int mpsc_pop_commit(struct lfq_ring *ring, const void *ref)
{
	return lfq_mpsc_release(ring, ref);
}

static const struct stress_hooks mpsc_hooks = {
	.name		= "mpsc",
	.create		= mpsc_create,
	.push		= mpsc_push,
	.pop		= mpsc_pop,
	.try_push	= mpsc_try_push,
	.try_pop	= mpsc_try_pop,
	.size		= lfq_mpsc_size,
	.push_reserve	= mpsc_push_reserve,
	.push_commit	= mpsc_push_commit,
	.pop_reserve	= mpsc_pop_reserve,
	.pop_commit	= mpsc_pop_commit,
	.ordered_by_consumer = true,
};

/*
 * The length of the record (producer p, seq): elem_size, or with
 * REC_VARLEN anything from the item's header up to max, on a scale picked
 * at random (a shift of 0..7), so that most records take one slot or a
 * few and some take up to half the ring.
 */
static uint32_t rec_len(const struct stress_state *st, uint32_t p,
			uint64_t seq, uint32_t max)
{
	uint32_t min = sizeof(struct lfq_test_item);
	uint64_t h = lfq_test_check(p, seq);

	if (!(st->cfg->mode & REC_VARLEN))
		return st->elem_size;
	return min + (uint32_t)((h >> 3) % (((max - min) >> (h & 7)) + 1));
}

/* Push the record (producer p, seq) of len bytes: 0 or a negative errno. */
static int rec_push(struct lfq_ring *ring, enum stress_verb verb,
		    uint8_t *buf, uint32_t len, unsigned int p, uint64_t seq,
		    uint64_t *x)
{
	struct lfq_mpsc_res res;
	int ret;

	switch (verb) {
	case STRESS_BLOCK:
		lfq_test_item_make(buf, len, p, seq);
		return lfq_mpsc_push(ring, buf, len, -1);
	case STRESS_TRY:
		lfq_test_item_make(buf, len, p, seq);
		return lfq_mpsc_try_push(ring, buf, len);
	case STRESS_RESERVE:
	case STRESS_TRY_RESERVE:
		ret = verb == STRESS_RESERVE ?
		      lfq_mpsc_reserve(ring, len, &res, -1) :
		      lfq_mpsc_try_reserve(ring, len, &res);
		if (ret)
			return ret;
		if (res.len != len)
			return -EPROTO;
		lfq_test_item_make(res.data, len, p, seq);
		/* a held reservation stalls the consumer and the overwriters */
		stress_hold(x);
		return lfq_mpsc_commit(ring, &res);
	default:
		return -EINVAL;
	}
}

static const char *const rec_verb_names[] = {
	[STRESS_BLOCK] = "push",
	[STRESS_TRY] = "try_push",
	[STRESS_RESERVE] = "reserve+commit",
	[STRESS_TRY_RESERVE] = "try_reserve+commit",
};

/*
 * Each item once on a lossy ring, refused or not; a BLOCK ring refuses
 * only the tries, which try again. moved counts the items done with,
 * refused the refusals.
 */
static void *rec_producer(void *arg)
{
	static const enum stress_verb verbs[] = {
		STRESS_BLOCK, STRESS_TRY, STRESS_RESERVE, STRESS_TRY_RESERVE,
	};
	struct stress_thread *t = arg;
	struct stress_state *st = t->st;
	struct stress_count *c = &st->prod[t->id];
	bool lossy = st->cfg->policy != LFQ_MPSC_BLOCK;
	uint32_t len, max = lfq_mpsc_max_len(t->ring);
	uint64_t seq = 0, refused = 0, x = 0x9e3779b97f4a7c15ULL * (t->id + 1);
	enum stress_verb verb;
	uint8_t *buf = malloc(max);
	int ret;

	if (!buf) {
		stress_fail(st, "producer %u: out of memory", t->id);
		goto out;
	}
	while (seq < st->per_producer) {
		verb = st->cfg->verb == STRESS_MIXED ?
		       verbs[stress_rand(&x) % 4] : st->cfg->verb;
		len = rec_len(st, t->id, seq, max);
		ret = rec_push(t->ring, verb, buf, len, t->id, seq, &x);
		if (ret == -ENOSPC && lossy) {
			atomic_store_explicit(&c->refused, ++refused,
					      memory_order_relaxed);
		} else if (ret == -ENOSPC && stress_is_try(verb)) {
			stress_failed_try(st, t->ring, c);
			sched_yield();
			continue;
		} else if (ret) {
			stress_fail(st, "producer %u: %s of %u bytes at seq %"
				    PRIu64 " returned %d", t->id,
				    rec_verb_names[verb], len, seq, ret);
			break;
		}
		atomic_store_explicit(&c->moved, ++seq, memory_order_relaxed);
		/*
		 * Nothing slows the producers of a lossy ring down: yield now
		 * and then, so that the consumer takes records while they
		 * drop others, on machines with few CPUs too.
		 */
		if (lossy)
			stress_hold(&x);
	}
out:
	free(buf);
	atomic_fetch_add(&st->done, 1);
	return NULL;
}

/* What the takes of the consumer of mpsc_records share. */
struct rec_consumer {
	struct stress_state *st;
	struct lfq_ring *ring;
	uint32_t max;		/* lfq_mpsc_max_len() */
	int wait_ms;		/* how long a take waits for a record */
	int64_t *last;		/* per producer, for stress_check() */
	uint64_t *scratch;	/* max bytes, for stress_check() */
	uint8_t *buf;		/* max bytes, to pop into */
	uint64_t x;		/* stress_rand() */
};

/* A record: an item of this run, of the length (producer, seq) says. */
static void rec_check(struct rec_consumer *rc, const void *data, uint32_t len)
{
	struct lfq_test_item it;
	uint32_t want;

	if (len < sizeof(it) || len > rc->max) {
		stress_fail(rc->st, "consumer: a record of %u bytes", len);
		return;
	}
	if (!stress_check(rc->st, 0, rc->last, data, len, rc->scratch))
		return;
	it = lfq_test_item_get(data);
	want = rec_len(rc->st, it.producer, it.seq, rc->max);
	if (len != want)
		stress_fail(rc->st, "consumer: producer %u seq %" PRIu64
			    " came in %u bytes, pushed in %u", it.producer,
			    (uint64_t)it.seq, len, want);
}

/*
 * Nothing to take now: the ring empty, the time up, or (on an OVERWRITE
 * ring only) the oldest record held by an overwriting producer.
 */
static bool rec_none(const struct rec_consumer *rc, int ret)
{
	return ret == -EAGAIN || (ret == -ETIMEDOUT && rc->wait_ms >= 0) ||
	       (ret == -EBUSY && rc->st->cfg->policy == LFQ_MPSC_OVERWRITE);
}

/* Copy a record out: 1, 0 if there was none, -1 after a failure. */
static int rec_pop(struct rec_consumer *rc, bool try)
{
	int ret = try ? lfq_mpsc_try_pop(rc->ring, rc->buf, rc->max) :
			lfq_mpsc_pop(rc->ring, rc->buf, rc->max, rc->wait_ms);

	if (rec_none(rc, ret))
		return 0;
	if (ret < 0) {
		stress_fail(rc->st, "consumer: %s returned %d",
			    try ? "try_pop" : "pop", ret);
		return -1;
	}
	rec_check(rc, rc->buf, (uint32_t)ret);
	return 1;
}

/*
 * Take up to n records in place (peek, or peek_burst), check each, let the
 * producers run a little, check that nobody wrote them meanwhile (an
 * overwriter included: they are ours until released), scribble over them
 * and release the last, which frees them all. The count, 0 if there was
 * none (after waiting for one), -1 after a failure.
 */
static int rec_peek(struct rec_consumer *rc, bool burst)
{
	struct lfq_mpsc_res res[STRESS_BURST_MAX];
	struct lfq_test_item it[STRESS_BURST_MAX];
	unsigned int n = burst ? 1 + stress_rand(&rc->x) % STRESS_BURST_MAX : 1;
	const char *what = burst ? "peek_burst" : "peek";
	int got, i, ret;

	got = burst ? lfq_mpsc_peek_burst(rc->ring, res, n) :
		      lfq_mpsc_peek(rc->ring, res);
	if (!burst && !got)
		got = 1;
	if (rec_none(rc, got)) {
		ret = mpsc_wait_record(rc->ring, rc->wait_ms);
		if (ret)
			stress_fail(rc->st, "consumer: pop into 0 bytes "
				    "returned %d", ret);
		return ret ? -1 : 0;
	}
	if (got <= 0 || (unsigned int)got > n) {
		stress_fail(rc->st, "consumer: %s of %u returned %d", what, n,
			    got);
		return -1;
	}
	for (i = 0; i < got; i++) {
		rec_check(rc, res[i].data, res[i].len);
		it[i] = lfq_test_item_get(res[i].data);
	}
	stress_hold(&rc->x);
	for (i = 0; i < got; i++) {
		if (memcmp(&it[i], res[i].data, sizeof(it[i])) ||
		    lfq_test_item_bad(res[i].data, res[i].len,
				      rc->st->producers))
			stress_fail(rc->st, "consumer: producer %u seq %" PRIu64
				    " at pos %" PRIu64 ", taken by %s, changed "
				    "before its release", it[i].producer,
				    (uint64_t)it[i].seq, (uint64_t)res[i].pos,
				    what);
		memset(res[i].data, 0x5a, res[i].len);
	}
	ret = lfq_mpsc_release(rc->ring, &res[got - 1]);
	if (ret) {
		stress_fail(rc->st, "consumer: release of the last of %d "
			    "returned %d", got, ret);
		return -1;
	}
	return got;
}

static int rec_take(struct rec_consumer *rc)
{
	enum rec_take take = rc->st->cfg->mode & REC_TAKE;

	if (take == REC_MIXED)
		take = stress_rand(&rc->x) % REC_MIXED;
	switch (take) {
	case REC_POP:
	case REC_TRY_POP:
		return rec_pop(rc, take == REC_TRY_POP);
	case REC_PEEK:
	case REC_PEEK_BURST:
		return rec_peek(rc, take == REC_PEEK_BURST);
	default:
		stress_fail(rc->st, "consumer: no take %d", take);
		return -1;
	}
}

/*
 * A BLOCK ring delivers every item: the consumer counts to the total and
 * waits forever for each, as the body's do, so that a lost wake-up hangs
 * (and the watchdog says so). A lossy ring's consumer cannot know how
 * many will come: it waits REC_WAIT_MS at a time, and stops when nothing
 * was there after every producer was done (done counts producers only
 * while the one consumer runs).
 */
static void *rec_consumer(void *arg)
{
	struct stress_thread *t = arg;
	struct stress_state *st = t->st;
	struct stress_count *c = &st->cons[t->id];
	bool block = st->cfg->policy == LFQ_MPSC_BLOCK, finished = false;
	struct rec_consumer rc = {
		.st = st,
		.ring = t->ring,
		.max = lfq_mpsc_max_len(t->ring),
		.wait_ms = block ? -1 : REC_WAIT_MS,
		.x = 0xbf58476d1ce4e5b9ULL,
	};
	uint64_t popped = 0;
	unsigned int i;
	int ret;

	rc.last = malloc(st->producers * sizeof(*rc.last));
	rc.scratch = malloc(rc.max + 8);
	rc.buf = malloc(rc.max);
	if (!rc.last || !rc.scratch || !rc.buf) {
		stress_fail(st, "consumer: out of memory");
		goto out;
	}
	for (i = 0; i < st->producers; i++)
		rc.last[i] = -1;
	while (!block || popped < st->total) {
		ret = rec_take(&rc);
		if (ret < 0)
			break;
		if (ret > 0) {
			popped += (unsigned int)ret;
			atomic_store_explicit(&c->moved, popped,
					      memory_order_relaxed);
			continue;
		}
		if (finished)
			break;
		finished = !block && atomic_load(&st->done) == st->producers;
		sched_yield();
	}
out:
	free(rc.buf);
	free(rc.scratch);
	free(rc.last);
	atomic_fetch_add(&st->done, 1);
	return NULL;
}

static void rec_verify(struct __test_metadata *_metadata,
		       struct stress_state *st, struct lfq_ring *ring,
		       uint64_t missing)
{
	uint64_t done = stress_sum(st->prod, st->producers, false);
	uint64_t popped = stress_sum(st->cons, st->consumers, false);
	unsigned int policy = st->cfg->policy, i;
	struct lfq_mpsc_stats s;
	uint64_t refused = 0;

	for (i = 0; i < st->producers; i++)
		refused += atomic_load(&st->prod[i].refused);
	ASSERT_EQ(0, lfq_mpsc_stats(ring, &s));

	/* every item pushed or refused, the seen bits as many as popped */
	EXPECT_EQ(st->total, done);
	EXPECT_EQ(st->total - popped, missing);
	/* the ring counts every refusal as dropped, and nothing else */
	EXPECT_EQ(refused, s.dropped);
	/* conservation: every item popped, refused or overwritten */
	EXPECT_EQ(st->total, popped + s.dropped + s.overwritten)
		TH_LOG("items %" PRIu64 " popped %" PRIu64 " dropped %" PRIu64
		       " overwritten %" PRIu64, st->total, popped, s.dropped,
		       s.overwritten);
	if (policy != LFQ_MPSC_OVERWRITE)
		EXPECT_EQ(0, s.overwritten);
	if (policy == LFQ_MPSC_BLOCK)
		EXPECT_EQ(0, s.dropped);
	stress_diag("%s policy %u take %s%s: %" PRIu64 " items, refused %"
		    PRIu64 ", overwritten %" PRIu64 ", popped %" PRIu64,
		    st->hooks->name, policy,
		    rec_take_names[st->cfg->mode & REC_TAKE],
		    st->cfg->mode & REC_VARLEN ? ", lengths vary" : "",
		    st->total, refused, s.overwritten, popped);
}

static const struct stress_hooks mpsc_rec_hooks = {
	.name		= "mpsc_records",
	.create		= mpsc_create,
	.try_pop	= mpsc_try_pop,
	.size		= lfq_mpsc_size,
	.producer	= rec_producer,
	.consumer	= rec_consumer,
	.verify		= rec_verify,
	.ordered_by_consumer = true,
};

STRESS_TESTS(mpsc_stress, mpsc_hooks)
STRESS_TESTS(mpsc_records, mpsc_rec_hooks)

#define K	1024ULL

#define VARIANT(name, p, v, cap, es, n)					\
	FIXTURE_VARIANT_ADD(mpsc_stress, name) {			\
		.cfg = {						\
			.producers = (p), .consumers = 1, .verb = (v),	\
			.capacity = (cap), .elem_size = (es), .items = (n), \
			.policy = LFQ_MPSC_BLOCK,			\
		},							\
	}

/* SPSC */
VARIANT(1x1_block_c2_e24,	1, STRESS_BLOCK,	2, 24, 32 * K);
VARIANT(1x1_try_c4_e64,		1, STRESS_TRY,		4, 64, 128 * K);
VARIANT(1x1_reserve_c64_e100,	1, STRESS_RESERVE,	64, 100, 64 * K);
VARIANT(1x1_tryreserve_c2_e24,	1, STRESS_TRY_RESERVE,	2, 24, 64 * K);
VARIANT(1x1_mixed_c4_e100,	1, STRESS_MIXED,	4, 100, 64 * K);
/* MPSC */
VARIANT(4x1_block_c4_e24,	4, STRESS_BLOCK,	4, 24, 32 * K);
VARIANT(4x1_try_c2_e64,		4, STRESS_TRY,		2, 64, 32 * K);
VARIANT(4x1_reserve_c4_e64,	4, STRESS_RESERVE,	4, 64, 16 * K);
VARIANT(4x1_tryreserve_c64_e24,	4, STRESS_TRY_RESERVE,	64, 24, 256 * K);
VARIANT(4x1_mixed_c64_e100,	4, STRESS_MIXED,	64, 100, 64 * K);
/* more producers than CPUs, on a small ring */
VARIANT(8x1_block_c64_e64,	8, STRESS_BLOCK,	64, 64, 64 * K);
VARIANT(8x1_try_c4_e24,		8, STRESS_TRY,		4, 24, 64 * K);
VARIANT(8x1_reserve_c2_e100,	8, STRESS_RESERVE,	2, 100, 16 * K);
VARIANT(8x1_tryreserve_c64_e64,	8, STRESS_TRY_RESERVE,	64, 64, 128 * K);
VARIANT(8x1_mixed_c4_e24,	8, STRESS_MIXED,	4, 24, 32 * K);

#define RECORDS(name, p, v, policy_, take, cap, es, n)			\
	FIXTURE_VARIANT_ADD(mpsc_records, name) {			\
		.cfg = {						\
			.producers = (p), .consumers = 1, .verb = (v),	\
			.capacity = (cap), .elem_size = (es), .items = (n), \
			.policy = LFQ_MPSC_##policy_, .mode = (take),	\
		},							\
	}

/* BLOCK: records of every length, none lost */
RECORDS(1x1_block_block_pop_var_c64_e24,	1, STRESS_BLOCK, BLOCK,
	REC_POP | REC_VARLEN, 64, 24, 64 * K);
RECORDS(4x1_block_reserve_peek_var_c64_e100,	4, STRESS_RESERVE, BLOCK,
	REC_PEEK | REC_VARLEN, 64, 100, 16 * K);
RECORDS(4x1_block_mixed_burst_var_c16_e64,	4, STRESS_MIXED, BLOCK,
	REC_PEEK_BURST | REC_VARLEN, 16, 64, 64 * K);
RECORDS(8x1_block_try_trypop_var_c4_e24,	8, STRESS_TRY, BLOCK,
	REC_TRY_POP | REC_VARLEN, 4, 24, 64 * K);
RECORDS(4x1_block_tryreserve_mixed_var_c64_e24,	4, STRESS_TRY_RESERVE, BLOCK,
	REC_MIXED | REC_VARLEN, 64, 24, 64 * K);
RECORDS(4x1_block_block_burst_fixed_c64_e24,	4, STRESS_BLOCK, BLOCK,
	REC_PEEK_BURST, 64, 24, 64 * K);
/* DISCARD: refused when full, counted */
RECORDS(1x1_discard_block_pop_fixed_c4_e24,	1, STRESS_BLOCK, DISCARD,
	REC_POP, 4, 24, 64 * K);
RECORDS(4x1_discard_try_burst_var_c64_e64,	4, STRESS_TRY, DISCARD,
	REC_PEEK_BURST | REC_VARLEN, 64, 64, 64 * K);
RECORDS(8x1_discard_reserve_peek_var_c16_e24,	8, STRESS_RESERVE, DISCARD,
	REC_PEEK | REC_VARLEN, 16, 24, 64 * K);
RECORDS(4x1_discard_mixed_mixed_var_c4_e100,	4, STRESS_MIXED, DISCARD,
	REC_MIXED | REC_VARLEN, 4, 100, 64 * K);
/* OVERWRITE: the oldest dropped unread, counted */
RECORDS(1x1_overwrite_block_pop_fixed_c2_e24,	1, STRESS_BLOCK, OVERWRITE,
	REC_POP, 2, 24, 64 * K);
RECORDS(4x1_overwrite_tryreserve_trypop_fixed_c4_e64, 4, STRESS_TRY_RESERVE,
	OVERWRITE, REC_TRY_POP, 4, 64, 64 * K);
RECORDS(4x1_overwrite_try_peek_var_c64_e24,	4, STRESS_TRY, OVERWRITE,
	REC_PEEK | REC_VARLEN, 64, 24, 64 * K);
RECORDS(4x1_overwrite_reserve_burst_var_c16_e64, 4, STRESS_RESERVE, OVERWRITE,
	REC_PEEK_BURST | REC_VARLEN, 16, 64, 64 * K);
RECORDS(8x1_overwrite_mixed_mixed_var_c4_e24,	8, STRESS_MIXED, OVERWRITE,
	REC_MIXED | REC_VARLEN, 4, 24, 64 * K);

TEST_HARNESS_MAIN
