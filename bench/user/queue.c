// SPDX-License-Identifier: GPL-2.0
/*
 * The queue workloads: the queue-shaped lfq rings (Vyukov, turn, the MPSC
 * log ring where its shape fits) against rte_ring (MP/MC, HTS, RTS, SP/SC),
 * ck_ring (SPSC, MPMC) and a single-threaded array ring.
 *
 * Every queue sits behind the same small adapter (try push, try pop, and
 * their bursts), and the thread loops are instantiated once per queue with
 * the queue's kind a constant, so that the compiler drops the dispatch and
 * inlines what each library lets it inline (rte_ring and ck_ring are
 * header-only; liblfq's calls stay calls, as they are for its users).
 *
 * Items: word 0 is the producer id << 48 | its sequence number; a 64-byte
 * item also carries ~word 0 in its last word, so that a torn copy shows.
 * Producers sum bench_mix() of what they push, consumers of what they pop,
 * and each consumer checks that every producer's sequence numbers rise
 * (every queue here is FIFO). The run checks the count and the sums.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <ck_ring.h>
#include <valgrind/callgrind.h>

#include "lfq.h"
#include "bench.h"

#define BURST_MAX	32
#define PRODUCERS_MAX	8
#define SEQ_MASK	((1ULL << 48) - 1)

/*
 * Burst calls: rte_ring's and lfq vyukov's are native, lfq mpsc pops with
 * peek_burst, the others loop.
 */
const struct bench_queue_info bench_queues[Q_NR] = {
	[Q_LFQ_VYUKOV]	= { "lfq vyukov", true,  true,  true,  true },
	[Q_LFQ_TURN]	= { "lfq turn",   true,  true,  true,  true },
	/* pushes loop, pops take a burst in place with peek_burst */
	[Q_LFQ_MPSC]	= { "lfq mpsc",   true,  true,  false, true },
	[Q_RTE_MPMC]	= { "rte mp/mc",  false, true,  true,  true },
	[Q_RTE_HTS]	= { "rte hts",    false, true,  true,  true },
	[Q_RTE_RTS]	= { "rte rts",    false, true,  true,  true },
	[Q_RTE_SPSC]	= { "rte sp/sc",  false, false, false, true },
	[Q_CK_SPSC]	= { "ck spsc",    false, false, false, true },
	[Q_CK_MPMC]	= { "ck mpmc",    false, true,  true,  true },
	[Q_ARRAY]	= { "array",      false, false, false, false },
};

/* ck_ring's typed rings copy elements of a fixed type. */
struct e8 {
	uint64_t w;
};

struct e64 {
	uint64_t w[8];
};

CK_RING_PROTOTYPE(e8, e8)
CK_RING_PROTOTYPE(e64, e64)

struct bq {
	struct ck_ring ck;	/* cache-line padded inside */
	int kind;
	unsigned int esz;
	unsigned int mask;
	struct lfq_ring *lfq;
	struct rte_ring *rte;
	void *buf;		/* ck's and the array's slots */
	uint64_t head, tail;	/* the array's */
};

static int bq_create(struct bq *q, int kind, unsigned int cap, unsigned int esz)
{
	struct lfq_create p = { .capacity = cap, .elem_size = esz };
	unsigned int flags = 0;
	ssize_t size;

	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->esz = esz;
	q->mask = cap - 1;
	switch (kind) {
	case Q_LFQ_VYUKOV:
	case Q_LFQ_TURN:
	case Q_LFQ_MPSC:
		p.type = kind == Q_LFQ_VYUKOV ? LFQ_RING_VYUKOV :
			 kind == Q_LFQ_TURN ? LFQ_RING_TURN : LFQ_RING_MPSC;
		/* BLOCK: a full ring's try_push fails without counting a drop */
		if (kind == Q_LFQ_MPSC)
			p.policy = LFQ_MPSC_BLOCK;
		return lfq_ring_create(&q->lfq, &p, LFQ_MEM_HEAP);
	case Q_RTE_SPSC:
		flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
		goto rte;
	case Q_RTE_HTS:
		flags = RING_F_MP_HTS_ENQ | RING_F_MC_HTS_DEQ;
		goto rte;
	case Q_RTE_RTS:
		flags = RING_F_MP_RTS_ENQ | RING_F_MC_RTS_DEQ;
		goto rte;
	case Q_RTE_MPMC:
rte:
		/*
		 * Without RING_F_EXACT_SZ: cap slots holding cap - 1 items,
		 * the memory of an lfq ring of cap; rte_ring_init() on our
		 * memory needs no rte_eal_init().
		 */
		size = rte_ring_get_memsize_elem(esz, cap);
		if (size < 0)
			return size;
		q->rte = aligned_alloc(128, (size + 127) & ~127);
		if (!q->rte)
			return -ENOMEM;
		/* faulted in before the clock starts, as lfq's init writes its slots */
		memset(q->rte, 0, size);
		return rte_ring_init(q->rte, "bench", cap, flags);
	case Q_CK_SPSC:
	case Q_CK_MPMC:
	case Q_ARRAY:
		/* ck_ring too holds cap - 1 items; the array cap */
		q->buf = aligned_alloc(64, (size_t)cap * esz);
		if (!q->buf)
			return -ENOMEM;
		memset(q->buf, 0, (size_t)cap * esz);
		ck_ring_init(&q->ck, cap);
		return 0;
	}
	return -EINVAL;
}

static void bq_destroy(struct bq *q)
{
	if (q->lfq)
		lfq_ring_destroy(q->lfq);
	free(q->rte);
	free(q->buf);
}

static inline __attribute__((always_inline))
void ecpy(void *dst, const void *src, unsigned int esz)
{
	if (esz == 8)
		memcpy(dst, src, 8);
	else
		memcpy(dst, src, 64);
}

static inline __attribute__((always_inline))
bool bq_push(struct bq *q, const int kind, const void *e)
{
	switch (kind) {
	case Q_ARRAY:
		if (q->head - q->tail > q->mask)
			return false;
		ecpy((char *)q->buf + (q->head & q->mask) * q->esz, e, q->esz);
		q->head++;
		return true;
	case Q_LFQ_VYUKOV:
		return lfq_vyukov_try_push(q->lfq, e) == 0;
	case Q_LFQ_TURN:
		return lfq_turn_try_push(q->lfq, e) == 0;
	case Q_LFQ_MPSC:
		return lfq_mpsc_try_push(q->lfq, e, q->esz) == 0;
	case Q_RTE_MPMC:
	case Q_RTE_HTS:
	case Q_RTE_RTS:
	case Q_RTE_SPSC:
		/* dispatches on the ring's sync type, like the burst */
		return rte_ring_enqueue_elem(q->rte, (void *)e, q->esz) == 0;
	case Q_CK_SPSC:
		if (q->esz == 8)
			return ck_ring_enqueue_spsc_e8(&q->ck, q->buf, (void *)e);
		return ck_ring_enqueue_spsc_e64(&q->ck, q->buf, (void *)e);
	case Q_CK_MPMC:
		if (q->esz == 8)
			return ck_ring_enqueue_mpmc_e8(&q->ck, q->buf, (void *)e);
		return ck_ring_enqueue_mpmc_e64(&q->ck, q->buf, (void *)e);
	}
	return false;
}

static inline __attribute__((always_inline))
bool bq_pop(struct bq *q, const int kind, void *e)
{
	switch (kind) {
	case Q_ARRAY:
		if (q->head == q->tail)
			return false;
		ecpy(e, (char *)q->buf + (q->tail & q->mask) * q->esz, q->esz);
		q->tail++;
		return true;
	case Q_LFQ_VYUKOV:
		return lfq_vyukov_try_pop(q->lfq, e) == 0;
	case Q_LFQ_TURN:
		return lfq_turn_try_pop(q->lfq, e) == 0;
	case Q_LFQ_MPSC:
		return lfq_mpsc_try_pop(q->lfq, e, q->esz) > 0;
	case Q_RTE_MPMC:
	case Q_RTE_HTS:
	case Q_RTE_RTS:
	case Q_RTE_SPSC:
		return rte_ring_dequeue_elem(q->rte, e, q->esz) == 0;
	case Q_CK_SPSC:
		if (q->esz == 8)
			return ck_ring_dequeue_spsc_e8(&q->ck, q->buf, e);
		return ck_ring_dequeue_spsc_e64(&q->ck, q->buf, e);
	case Q_CK_MPMC:
		/* fails only when empty; trydequeue also fails on a lost race */
		if (q->esz == 8)
			return ck_ring_dequeue_mpmc_e8(&q->ck, q->buf, e);
		return ck_ring_dequeue_mpmc_e64(&q->ck, q->buf, e);
	}
	return false;
}

/* Up to n elements: the number moved, 0 when full. */
static inline __attribute__((always_inline))
unsigned int bq_push_burst(struct bq *q, const int kind, const void *e,
			   unsigned int n)
{
	unsigned int i;
	int ret;

	switch (kind) {
	case Q_LFQ_VYUKOV:
		ret = lfq_vyukov_try_push_burst(q->lfq, e, n);
		return ret > 0 ? ret : 0;
	case Q_RTE_MPMC:
	case Q_RTE_HTS:
	case Q_RTE_RTS:
	case Q_RTE_SPSC:
		return rte_ring_enqueue_burst_elem(q->rte, e, q->esz, n, NULL);
	}
	for (i = 0; i < n; i++)
		if (!bq_push(q, kind, (const char *)e + i * q->esz))
			break;
	return i;
}

static inline __attribute__((always_inline))
unsigned int bq_pop_burst(struct bq *q, const int kind, void *e, unsigned int n)
{
	struct lfq_mpsc_res res[BURST_MAX];
	unsigned int i;
	int ret;

	switch (kind) {
	case Q_LFQ_VYUKOV:
		ret = lfq_vyukov_try_pop_burst(q->lfq, e, n);
		return ret > 0 ? ret : 0;
	case Q_LFQ_MPSC:
		/* read in place, then free the batch with one release */
		ret = lfq_mpsc_peek_burst(q->lfq, res, n);
		if (ret <= 0)
			return 0;
		for (i = 0; i < (unsigned int)ret; i++)
			ecpy((char *)e + i * q->esz, res[i].data, q->esz);
		lfq_mpsc_release(q->lfq, &res[ret - 1]);
		return ret;
	case Q_RTE_MPMC:
	case Q_RTE_HTS:
	case Q_RTE_RTS:
	case Q_RTE_SPSC:
		return rte_ring_dequeue_burst_elem(q->rte, e, q->esz, n, NULL);
	}
	for (i = 0; i < n; i++)
		if (!bq_pop(q, kind, (char *)e + i * q->esz))
			break;
	return i;
}

/* ---- items and their checks ---- */

struct verify {
	uint64_t count;
	uint64_t sum;
	uint64_t last[PRODUCERS_MAX];	/* last sequence + 1 seen per producer */
	bool bad;
};

static inline void item_make(uint64_t *e, unsigned int esz, unsigned int pid,
			     uint64_t seq)
{
	e[0] = (uint64_t)pid << 48 | seq;
	if (esz == 64)
		e[7] = ~e[0];
}

static inline __attribute__((always_inline))
void item_check(struct verify *v, const uint64_t *e, unsigned int esz)
{
	unsigned int pid = e[0] >> 48;
	uint64_t seq = e[0] & SEQ_MASK;

	if (pid >= PRODUCERS_MAX || seq < v->last[pid] ||
	    (esz == 64 && e[7] != ~e[0])) {
		if (!v->bad)
			fprintf(stderr, "lfq_bench: bad item %#llx after seq %llu of producer %u\n",
				(unsigned long long)e[0],
				(unsigned long long)v->last[pid < PRODUCERS_MAX ? pid : 0],
				pid);
		v->bad = true;
		return;
	}
	v->last[pid] = seq + 1;
	v->sum += bench_mix(e[0]);
	v->count++;
}

/* ---- the threads of a run ---- */

/*
 * A run ends after per_producer items from each producer or at bench_stop
 * (the time limit), whichever comes first: where the threads outnumber the
 * CPUs, a ring whose producers or consumers finish in order (rte_ring
 * MP/MC, ck_ring MPMC) waits a whole time slice for a preempted one at
 * every turn, and would not finish within the hour. Consumers stop once
 * every producer is done and they have taken all that was produced, or
 * at bench_stop; what they left is drained after the run, untimed, and
 * counted in the check but not in the throughput.
 */
struct qrun {
	struct bq q;
	const struct bench_case *c;
	uint64_t per_producer;
	_Atomic uint64_t consumed;	/* flushed by consumers that find it empty */
	_Atomic uint64_t produced;
	_Atomic uint64_t produced_sum;
	_Atomic unsigned int producers_done;
};

struct qarg {
	struct qrun *r;
	unsigned int id;
	bool producer;
	struct verify v;
} __attribute__((aligned(64)));

static inline __attribute__((always_inline))
void producer(struct qarg *a, const int kind)
{
	struct qrun *r = a->r;
	unsigned int esz = r->q.esz, burst = r->c->burst, n, i, fails = 0;
	uint64_t e[BURST_MAX * 8] = { 0 };
	uint64_t seq = 0, sum = 0;

	bench_wait_start();
	while (seq < r->per_producer) {
		n = burst;
		if (r->per_producer - seq < n)
			n = r->per_producer - seq;
		for (i = 0; i < n; i++)
			item_make(&e[i * esz / 8], esz, a->id, seq + i);
		/* what is pushed counts: a full ring at bench_stop stays full */
		for (i = 0; i < n && !atomic_load_explicit(&bench_stop, memory_order_relaxed);) {
			unsigned int k = burst == 1 ? bq_push(&r->q, kind, e) :
				bq_push_burst(&r->q, kind, &e[i * esz / 8], n - i);

			if (!k) {
				bench_backoff(&fails);
				continue;
			}
			fails = 0;
			for (k += i; i < k; i++)
				sum += bench_mix(e[i * esz / 8]);
		}
		seq += i;
		if (i < n)
			break;
	}
	atomic_fetch_add(&r->produced_sum, sum);
	atomic_fetch_add(&r->produced, seq);
	atomic_fetch_add(&r->producers_done, 1);
}

static inline __attribute__((always_inline))
void consumer(struct qarg *a, const int kind)
{
	struct qrun *r = a->r;
	unsigned int esz = r->q.esz, burst = r->c->burst, n, i, fails = 0;
	uint64_t e[BURST_MAX * 8];
	uint64_t unflushed = 0;

	bench_wait_start();
	/* stops at bench_stop too: bench_queue_run() drains the rest */
	while (!atomic_load_explicit(&bench_stop, memory_order_relaxed)) {
		n = burst == 1 ? bq_pop(&r->q, kind, e) :
			bq_pop_burst(&r->q, kind, e, burst);
		if (n) {
			for (i = 0; i < n; i++)
				item_check(&a->v, &e[i * esz / 8], esz);
			unflushed += n;
			fails = 0;
			continue;
		}
		/* empty: account for what we took, and stop once all are taken */
		if (unflushed) {
			atomic_fetch_add(&r->consumed, unflushed);
			unflushed = 0;
		}
		/* done before produced: producers add produced first */
		if (a->v.bad || (atomic_load(&r->producers_done) == r->c->producers &&
				 atomic_load(&r->consumed) >= atomic_load(&r->produced)))
			break;
		bench_backoff(&fails);
	}
}

/* push+pop pairs (or bursts) in one thread */
static inline __attribute__((always_inline))
void single(struct qarg *a, const int kind, bool instr)
{
	struct qrun *r = a->r;
	unsigned int esz = r->q.esz, burst = r->c->burst, n, i;
	uint64_t in[BURST_MAX * 8] = { 0 }, out[BURST_MAX * 8];
	uint64_t seq = 0, sum = 0;

	if (instr)
		CALLGRIND_START_INSTRUMENTATION;
	while (seq < r->per_producer) {
		for (i = 0; i < burst; i++) {
			item_make(&in[i * esz / 8], esz, 0, seq + i);
			sum += bench_mix(in[i * esz / 8]);
		}
		if (burst == 1) {
			n = bq_push(&r->q, kind, in) && bq_pop(&r->q, kind, out);
		} else {
			n = bq_push_burst(&r->q, kind, in, burst);
			if (n != burst || bq_pop_burst(&r->q, kind, out, burst) != n)
				n = 0;
		}
		if (!n) {
			a->v.bad = true;
			fprintf(stderr, "lfq_bench: %s: push/pop of an empty ring failed\n",
				bench_queues[kind].name);
			break;
		}
		for (i = 0; i < burst; i++)
			item_check(&a->v, &out[i * esz / 8], esz);
		seq += burst;
	}
	if (instr)
		CALLGRIND_STOP_INSTRUMENTATION;
	atomic_fetch_add(&r->produced_sum, sum);
	r->produced = seq;
}

#define QUEUE_THREAD(k)						\
static void *thread_##k(void *p)				\
{								\
	struct qarg *a = p;					\
								\
	if (a->r->c->consumers == 0) {				\
		bench_wait_start();				\
		single(a, k, false);				\
	} else if (a->producer)					\
		producer(a, k);					\
	else							\
		consumer(a, k);					\
	return NULL;						\
}

QUEUE_THREAD(Q_ARRAY)
QUEUE_THREAD(Q_LFQ_VYUKOV)
QUEUE_THREAD(Q_LFQ_TURN)
QUEUE_THREAD(Q_LFQ_MPSC)
QUEUE_THREAD(Q_RTE_MPMC)
QUEUE_THREAD(Q_RTE_HTS)
QUEUE_THREAD(Q_RTE_RTS)
QUEUE_THREAD(Q_RTE_SPSC)
QUEUE_THREAD(Q_CK_SPSC)
QUEUE_THREAD(Q_CK_MPMC)

static void *(*const queue_threads[Q_NR])(void *) = {
	[Q_ARRAY] = thread_Q_ARRAY,
	[Q_LFQ_VYUKOV] = thread_Q_LFQ_VYUKOV,
	[Q_LFQ_TURN] = thread_Q_LFQ_TURN,
	[Q_LFQ_MPSC] = thread_Q_LFQ_MPSC,
	[Q_RTE_MPMC] = thread_Q_RTE_MPMC,
	[Q_RTE_HTS] = thread_Q_RTE_HTS,
	[Q_RTE_RTS] = thread_Q_RTE_RTS,
	[Q_RTE_SPSC] = thread_Q_RTE_SPSC,
	[Q_CK_SPSC] = thread_Q_CK_SPSC,
	[Q_CK_MPMC] = thread_Q_CK_MPMC,
};

/* What the consumers left at bench_stop, popped in one thread. */
static void drain(struct bq *q, struct verify *v)
{
	uint64_t e[8];

	switch (q->kind) {
#define DRAIN_CASE(k)						\
	case k:							\
		while (bq_pop(q, k, e))				\
			item_check(v, e, q->esz);		\
		break;
	DRAIN_CASE(Q_LFQ_VYUKOV)
	DRAIN_CASE(Q_LFQ_TURN)
	DRAIN_CASE(Q_LFQ_MPSC)
	DRAIN_CASE(Q_RTE_MPMC)
	DRAIN_CASE(Q_RTE_HTS)
	DRAIN_CASE(Q_RTE_RTS)
	DRAIN_CASE(Q_RTE_SPSC)
	DRAIN_CASE(Q_CK_SPSC)
	DRAIN_CASE(Q_CK_MPMC)
	DRAIN_CASE(Q_ARRAY)
#undef DRAIN_CASE
	}
}

/*
 * A run: producers and consumers alternate in thread order (p0 c0 p1 c1
 * ...), so that with threads pinned round-robin a producer and a consumer
 * of a pair sit on different CPUs. With no consumers, one thread pushes
 * and pops.
 */
bool bench_queue_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	unsigned int np = c->producers, nc = c->consumers, n = np + nc, i, pi, ci;
	struct bench_threads t = { .fn = queue_threads[c->kind] };
	struct verify left = { 0 };
	struct qarg *args;
	struct qrun *r;
	uint64_t sum = 0, count = 0;
	bool ok = true;
	int ret;

	r = aligned_alloc(128, (sizeof(*r) + 127) & ~(size_t)127);
	args = aligned_alloc(64, sizeof(*args) * n);
	if (!r || !args) {
		fprintf(stderr, "lfq_bench: out of memory\n");
		exit(1);
	}
	memset(r, 0, sizeof(*r));
	memset(args, 0, sizeof(*args) * n);
	ret = bq_create(&r->q, c->kind, c->capacity, c->elem);
	if (ret) {
		fprintf(stderr, "lfq_bench: %s: create: %s\n", c->impl, strerror(-ret));
		exit(1);
	}
	r->c = c;
	r->per_producer = c->items / np;
	for (i = 0, pi = 0, ci = 0; i < n; i++) {
		bool prod = nc == 0 || (pi < np && (i % 2 == 0 || ci >= nc));

		args[i].r = r;
		args[i].producer = prod;
		args[i].id = prod ? pi++ : ci++;
	}
	t.n = n;
	t.args = args;
	t.arg_size = sizeof(*args);
	*ns = bench_run_threads(&t);
	for (i = 0; i < n; i++) {
		if (args[i].producer && nc)
			continue;
		count += args[i].v.count;
		sum += args[i].v.sum;
		ok &= !args[i].v.bad;
	}
	*ops = count;
	drain(&r->q, &left);
	count += left.count;
	sum += left.sum;
	ok &= !left.bad;
	if (ok && (count != r->produced || sum != r->produced_sum)) {
		fprintf(stderr, "lfq_bench: %s: %llu items of %llu, checksum %s\n",
			c->impl, (unsigned long long)count,
			(unsigned long long)r->produced,
			sum == r->produced_sum ? "ok" : "wrong");
		ok = false;
	}
	bq_destroy(&r->q);
	free(args);
	free(r);
	return ok;
}

bool bench_queue_instr(int kind, unsigned int capacity, unsigned int elem,
		       unsigned int burst, uint64_t items)
{
	struct bench_case c = {
		.impl = bench_queues[kind].name, .producers = 1, .capacity = capacity,
		.elem = elem, .burst = burst, .items = items, .kind = kind,
	};
	struct qarg a = { 0 };
	struct qrun r = { 0 };
	int ret = bq_create(&r.q, kind, capacity, elem);

	if (ret) {
		fprintf(stderr, "lfq_bench: %s: create: %s\n", c.impl, strerror(-ret));
		return false;
	}
	r.c = &c;
	a.r = &r;
	/* a first pass untimed: the instrumented one sees warm rings */
	r.per_producer = items;
	switch (kind) {
#define INSTR_CASE(k)					\
	case k:						\
		single(&a, k, false);			\
		memset(&a.v, 0, sizeof(a.v));		\
		r.produced_sum = 0;			\
		single(&a, k, true);			\
		break;
	INSTR_CASE(Q_ARRAY)
	INSTR_CASE(Q_LFQ_VYUKOV)
	INSTR_CASE(Q_LFQ_TURN)
	INSTR_CASE(Q_LFQ_MPSC)
	INSTR_CASE(Q_RTE_MPMC)
	INSTR_CASE(Q_RTE_HTS)
	INSTR_CASE(Q_RTE_RTS)
	INSTR_CASE(Q_RTE_SPSC)
	INSTR_CASE(Q_CK_SPSC)
	INSTR_CASE(Q_CK_MPMC)
	}
	bq_destroy(&r.q);
	return !a.v.bad && a.v.count == items && a.v.sum == r.produced_sum;
}
