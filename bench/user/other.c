// SPDX-License-Identifier: GPL-2.0
/*
 * The workloads that are not a queue: the sequencer against a broadcast
 * over SPSC rte_rings, the work-stealing deque (owner alone against an
 * array stack, then with thieves), the thread pool on a fork/join
 * mergesort against the same sort in one thread, and the cache-line
 * round trip that puts the two-thread numbers in scale.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <valgrind/callgrind.h>

#include "lfq.h"
#include "bench.h"

#define BURST_MAX	32
#define CONSUMERS_MAX	4
/* Items carry their sequence number scrambled, so that a zeroed slot fails. */
#define ITEM(s)		((uint64_t)(s) ^ 0x5a5a5a5a5a5a5a5aULL)

static void *xalloc(size_t size)
{
	void *p = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (!p) {
		fprintf(stderr, "lfq_bench: out of memory\n");
		exit(1);
	}
	memset(p, 0, size);
	return p;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "lfq_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* ---- 1 producer, N consumers that each see every item ---- */

struct bcast {
	const struct bench_case *c;
	struct lfq_ring *seq;
	struct rte_ring *rings[CONSUMERS_MAX];	/* the fan-out */
	uint64_t produced_sum;
};

struct bcast_arg {
	struct bcast *b;
	unsigned int id;	/* 0 the producer, then consumers 1..N */
	uint64_t count, sum;
	bool bad;
} __attribute__((aligned(64)));

static void bcast_got(struct bcast_arg *a, uint64_t v)
{
	if (v != ITEM(a->count)) {
		if (!a->bad)
			fprintf(stderr, "lfq_bench: %s consumer %u: item %#llx, expected %#llx\n",
				a->b->c->impl, a->id, (unsigned long long)v,
				(unsigned long long)ITEM(a->count));
		a->bad = true;
	}
	a->count++;
	a->sum += bench_mix(v);
}

static void *seq_thread(void *p)
{
	struct bcast_arg *a = p;
	struct bcast *b = a->b;
	uint64_t items = b->c->items, s, first, avail, sum = 0;
	unsigned int burst = b->c->burst, n, fails = 0;
	struct lfq_seq_consumer c;
	int ret;

	if (a->id == 0) {
		bench_wait_start();
		for (s = 0; s < items;) {
			n = items - s < burst ? items - s : burst;
			ret = lfq_seq_try_claim_up_to(b->seq, n, &first);
			if (ret <= 0) {
				bench_backoff(&fails);
				continue;
			}
			fails = 0;
			for (s = first; s < first + ret; s++) {
				*(uint64_t *)lfq_seq_elem(b->seq, s) = ITEM(s);
				sum += bench_mix(ITEM(s));
			}
			lfq_seq_publish(b->seq, s - 1);
		}
		b->produced_sum = sum;
		return NULL;
	}
	ret = lfq_seq_join(b->seq, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &c);
	if (ret)
		die("lfq_seq_join", ret);
	bench_wait_start();
	/* a burst of 1 takes one item at a time, as the fan-out does */
	for (s = 0; s < items && !a->bad;) {
		if (lfq_seq_try_wait(&c, s, &avail)) {
			bench_backoff(&fails);
			continue;
		}
		fails = 0;
		if (avail - s >= burst)
			avail = s + burst - 1;
		for (; s <= avail; s++)
			bcast_got(a, *(uint64_t *)lfq_seq_elem(b->seq, s));
		lfq_seq_done(&c, avail);
	}
	lfq_seq_leave(&c);
	return NULL;
}

static void *fanout_thread(void *p)
{
	struct bcast_arg *a = p;
	struct bcast *b = a->b;
	uint64_t items = b->c->items, s, v[BURST_MAX], sum = 0;
	unsigned int burst = b->c->burst, n, i, k, done, fails = 0;

	bench_wait_start();
	if (a->id == 0) {
		for (s = 0; s < items; s += k) {
			for (k = 0; k < burst && s + k < items; k++) {
				v[k] = ITEM(s + k);
				sum += bench_mix(v[k]);
			}
			for (i = 0; i < b->c->consumers; i++)
				for (done = 0; done < k; done += n) {
					n = rte_ring_sp_enqueue_burst_elem(b->rings[i],
						&v[done], 8, k - done, NULL);
					if (!n)
						bench_backoff(&fails);
					else
						fails = 0;
				}
		}
		b->produced_sum = sum;
		return NULL;
	}
	while (a->count < items && !a->bad) {
		n = rte_ring_sc_dequeue_burst_elem(b->rings[a->id - 1], v, 8, burst, NULL);
		if (!n) {
			bench_backoff(&fails);
			continue;
		}
		fails = 0;
		for (i = 0; i < n; i++)
			bcast_got(a, v[i]);
	}
	return NULL;
}

static bool bcast_run(const struct bench_case *c, bool seq, uint64_t *ops, double *ns)
{
	struct lfq_create p = {
		.type = LFQ_RING_SEQ, .capacity = c->capacity, .elem_size = 8,
		.policy = LFQ_SEQ_SINGLE,
	};
	struct bench_threads t = { .fn = seq ? seq_thread : fanout_thread };
	struct bcast_arg args[1 + CONSUMERS_MAX];
	struct bcast b = { .c = c };
	unsigned int i, n = 1 + c->consumers;
	bool ok = true;
	ssize_t size;
	int ret;

	memset(args, 0, sizeof(args));
	if (seq) {
		ret = lfq_ring_create(&b.seq, &p, LFQ_MEM_HEAP);
		if (ret)
			die("lfq_ring_create", ret);
	} else {
		size = rte_ring_get_memsize_elem(8, c->capacity);
		for (i = 0; i < c->consumers; i++) {
			b.rings[i] = xalloc(size);
			ret = rte_ring_init(b.rings[i], "fanout", c->capacity,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (ret)
				die("rte_ring_init", ret);
		}
	}
	for (i = 0; i < n; i++) {
		args[i].b = &b;
		args[i].id = i;
	}
	t.n = n;
	t.args = args;
	t.arg_size = sizeof(args[0]);
	*ns = bench_run_threads(&t);
	*ops = c->items;
	for (i = 1; i < n; i++) {
		if (!args[i].bad && (args[i].count != c->items || args[i].sum != b.produced_sum))
			fprintf(stderr, "lfq_bench: %s consumer %u: %llu items of %llu, checksum %s\n",
				c->impl, i, (unsigned long long)args[i].count,
				(unsigned long long)c->items,
				args[i].sum == b.produced_sum ? "ok" : "wrong");
		ok &= !args[i].bad && args[i].count == c->items &&
			args[i].sum == b.produced_sum;
	}
	if (seq)
		lfq_ring_destroy(b.seq);
	for (i = 0; i < c->consumers; i++)
		free(b.rings[i]);
	return ok;
}

bool bench_seq_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	return bcast_run(c, true, ops, ns);
}

bool bench_fanout_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	return bcast_run(c, false, ops, ns);
}

/*
 * The sequencer in one thread, for instr.sh: claim up to burst sequences,
 * write and publish them, then, as the ring's one consumer, wait for
 * them, read them and finish them.
 */
bool bench_seq_single_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct lfq_create p = {
		.type = LFQ_RING_SEQ, .capacity = c->capacity, .elem_size = 8,
		.policy = LFQ_SEQ_SINGLE,
	};
	uint64_t s = 0, i, first, avail, bad = 0;
	struct lfq_seq_consumer sc;
	struct lfq_ring *ring;
	double t0;
	int n, ret;

	ret = lfq_ring_create(&ring, &p, LFQ_MEM_HEAP);
	if (ret)
		die("lfq_ring_create", ret);
	ret = lfq_seq_join(ring, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN, &sc);
	if (ret)
		die("lfq_seq_join", ret);
	t0 = bench_now_ns();
	CALLGRIND_START_INSTRUMENTATION;
	while (s < c->items && !bad) {
		n = lfq_seq_try_claim_up_to(ring, c->items - s < c->burst ?
					    c->items - s : c->burst, &first);
		if (n <= 0 || first != s) {
			bad++;
			break;
		}
		for (i = s; i < s + n; i++)
			*(uint64_t *)lfq_seq_elem(ring, i) = ITEM(i);
		lfq_seq_publish(ring, s + n - 1);
		if (lfq_seq_try_wait(&sc, s + n - 1, &avail) || avail != s + n - 1) {
			bad++;
			break;
		}
		for (; s <= avail; s++)
			bad += *(uint64_t *)lfq_seq_elem(ring, s) != ITEM(s);
		lfq_seq_done(&sc, avail);
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	*ns = bench_now_ns() - t0;
	*ops = s;
	lfq_seq_leave(&sc);
	lfq_ring_destroy(ring);
	if (bad)
		fprintf(stderr, "lfq_bench: seq single: %llu bad items\n",
			(unsigned long long)bad);
	return !bad && s == c->items;
}

/* ---- the deque ---- */

static struct lfq_ring *deque_create(unsigned int capacity)
{
	struct lfq_create p = {
		.type = LFQ_RING_WSDEQUE, .capacity = capacity, .elem_size = 8,
	};
	struct lfq_ring *ring;
	int ret = lfq_ring_create(&ring, &p, LFQ_MEM_HEAP);

	if (ret)
		die("lfq_ring_create", ret);
	return ring;
}

/*
 * push+pop pairs by the owner alone; the loop between callgrind's start
 * and stop for instr.sh (a few no-op instructions outside valgrind)
 */
bool bench_deque_owner_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct lfq_ring *ring = deque_create(c->capacity);
	struct lfq_wsdeque_worker w;
	uint64_t i, v, bad = 0;
	double t0;

	lfq_wsdeque_worker(ring, &w);
	t0 = bench_now_ns();
	CALLGRIND_START_INSTRUMENTATION;
	for (i = 0; i < c->items; i++) {
		v = ITEM(i);
		if (lfq_wsdeque_push(&w, &v) || lfq_wsdeque_pop(&w, &v) || v != ITEM(i))
			bad++;
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	*ns = bench_now_ns() - t0;
	*ops = c->items;
	lfq_ring_destroy(ring);
	if (bad)
		fprintf(stderr, "lfq_bench: deque owner: %llu bad push/pop pairs\n",
			(unsigned long long)bad);
	return !bad;
}

/* the same on a plain array used as a stack */
bool bench_stack_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	uint64_t *stack = xalloc(c->capacity * sizeof(*stack));
	/* volatile: the compiler must not fold the pair away */
	volatile unsigned int top = 0;
	uint64_t i, v, bad = 0;
	double t0;

	t0 = bench_now_ns();
	CALLGRIND_START_INSTRUMENTATION;
	for (i = 0; i < c->items; i++) {
		v = ITEM(i);
		if (top == c->capacity)
			bad++;
		else
			stack[top++] = v;
		v = top ? stack[--top] : 0;
		if (v != ITEM(i))
			bad++;
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	*ns = bench_now_ns() - t0;
	*ops = c->items;
	free(stack);
	return !bad;
}

struct steal {
	const struct bench_case *c;
	struct lfq_ring *ring;
	uint8_t *taken;			/* times each item was taken */
	_Atomic uint64_t total;		/* taken, flushed when a taker finds none */
};

struct steal_arg {
	struct steal *s;
	unsigned int id;		/* 0 the owner, then thieves */
	uint64_t count;
	bool bad;
} __attribute__((aligned(64)));

static void steal_got(struct steal_arg *a, uint64_t v)
{
	uint64_t i = ITEM(v);

	if (i >= a->s->c->items) {
		a->bad = true;
		return;
	}
	a->s->taken[i]++;
	a->count++;
}

/*
 * The owner pushes the items 32 at a time and pops 16 after each 32, then
 * pops what is left; thieves steal one at a time all along.
 */
static void *steal_thread(void *p)
{
	struct steal_arg *a = p;
	struct steal *s = a->s;
	uint64_t items = s->c->items, next = 0, v, flushed = 0;
	unsigned int i, fails = 0;
	int ret;

	if (a->id == 0) {
		struct lfq_wsdeque_worker w;

		lfq_wsdeque_worker(s->ring, &w);
		bench_wait_start();
		while (next < items) {
			for (i = 0; i < 32 && next < items; i++) {
				v = ITEM(next);
				if (lfq_wsdeque_push(&w, &v))
					break;
				next++;
			}
			for (i = 0; i < 16 && !lfq_wsdeque_pop(&w, &v); i++)
				steal_got(a, v);
		}
		while (!lfq_wsdeque_pop(&w, &v))
			steal_got(a, v);
		atomic_fetch_add(&s->total, a->count);
		return NULL;
	} else {
		struct lfq_wsdeque_stealer st;

		lfq_wsdeque_stealer(s->ring, &st);
		bench_wait_start();
		for (;;) {
			ret = lfq_wsdeque_steal(&st, &v);
			if (!ret) {
				steal_got(a, v);
				fails = 0;
				continue;
			}
			if (ret != -EAGAIN && ret != -EBUSY) {
				fprintf(stderr, "lfq_bench: steal: %s\n", strerror(-ret));
				a->bad = true;
				break;
			}
			atomic_fetch_add(&s->total, a->count - flushed);
			flushed = a->count;
			if (atomic_load(&s->total) >= items || a->bad)
				break;
			bench_backoff(&fails);
		}
	}
	return NULL;
}

bool bench_deque_steal_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct steal s = { .c = c, .ring = deque_create(c->capacity) };
	struct steal_arg args[1 + CONSUMERS_MAX];
	struct bench_threads t = { .fn = steal_thread, .n = 1 + c->consumers };
	uint64_t i, once = 0, count = 0;
	bool ok = true;

	s.taken = xalloc(c->items);
	memset(args, 0, sizeof(args));
	for (i = 0; i < t.n; i++) {
		args[i].s = &s;
		args[i].id = i;
	}
	t.args = args;
	t.arg_size = sizeof(args[0]);
	*ns = bench_run_threads(&t);
	*ops = c->items;
	for (i = 0; i < t.n; i++) {
		ok &= !args[i].bad;
		count += args[i].count;
	}
	for (i = 0; i < c->items; i++)
		once += s.taken[i] == 1;
	if (!ok || once != c->items || count != c->items) {
		fprintf(stderr, "lfq_bench: deque steal: %llu of %llu items taken exactly once, %llu takes\n",
			(unsigned long long)once, (unsigned long long)c->items,
			(unsigned long long)count);
		ok = false;
	}
	free(s.taken);
	lfq_ring_destroy(s.ring);
	return ok;
}

/* ---- fork/join mergesort on the pool ---- */

#define SORT_LEAF	8192	/* below this a task sorts in place, serially */

static void merge(uint32_t *a, uint32_t *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	while (i < h && j < n)
		tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

static void msort(uint32_t *a, uint32_t *tmp, size_t n)
{
	size_t i, j;
	uint32_t x;

	if (n <= 32) {
		for (i = 1; i < n; i++) {
			x = a[i];
			for (j = i; j && a[j - 1] > x; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	msort(a, tmp, n / 2);
	msort(a + n / 2, tmp + n / 2, n - n / 2);
	merge(a, tmp, n);
}

struct sort_task {
	struct lfq_pool *pool;
	uint32_t *a, *tmp;
	size_t n;
};

static void sort_task(void *p)
{
	struct sort_task *t = p, l, r;
	struct lfq_group g;

	if (t->n <= SORT_LEAF) {
		msort(t->a, t->tmp, t->n);
		return;
	}
	l = (struct sort_task){ t->pool, t->a, t->tmp, t->n / 2 };
	r = (struct sort_task){ t->pool, t->a + t->n / 2, t->tmp + t->n / 2,
				t->n - t->n / 2 };
	lfq_group_init(&g);
	lfq_pool_spawn(t->pool, &g, sort_task, &l);
	lfq_pool_spawn(t->pool, &g, sort_task, &r);
	lfq_group_wait(t->pool, &g);
	merge(t->a, t->tmp, t->n);
}

struct sort_data {
	uint32_t *a, *tmp;
	uint64_t sum, xor;
};

static void sort_fill(struct sort_data *d, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	d->a = xalloc(n * sizeof(*d->a));
	d->tmp = xalloc(n * sizeof(*d->tmp));
	d->sum = d->xor = 0;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d->a[i] = x;
		d->sum += d->a[i];
		d->xor ^= d->a[i];
	}
}

static bool sort_check(struct sort_data *d, size_t n, const char *impl)
{
	uint64_t sum = 0, xor = 0;
	size_t i, unsorted = 0;

	for (i = 0; i < n; i++) {
		sum += d->a[i];
		xor ^= d->a[i];
		unsorted += i && d->a[i - 1] > d->a[i];
	}
	free(d->a);
	free(d->tmp);
	if (unsorted || sum != d->sum || xor != d->xor) {
		fprintf(stderr, "lfq_bench: %s: %zu unsorted pairs, checksum %s\n",
			impl, unsorted, sum == d->sum && xor == d->xor ? "ok" : "wrong");
		return false;
	}
	return true;
}

bool bench_pool_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct sort_data d;
	struct sort_task root;
	struct lfq_pool *pool;
	struct lfq_group g;
	double t0;
	int ret;

	sort_fill(&d, c->items);
	ret = lfq_pool_create(&pool, c->producers, 1024);
	if (ret)
		die("lfq_pool_create", ret);
	root = (struct sort_task){ pool, d.a, d.tmp, c->items };
	t0 = bench_now_ns();
	lfq_group_init(&g);
	ret = lfq_pool_spawn(pool, &g, sort_task, &root);
	if (ret)
		die("lfq_pool_spawn", ret);
	lfq_group_wait(pool, &g);
	*ns = bench_now_ns() - t0;
	*ops = c->items;
	lfq_pool_destroy(pool);
	return sort_check(&d, c->items, c->impl);
}

bool bench_serial_sort_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct sort_data d;
	double t0;

	sort_fill(&d, c->items);
	t0 = bench_now_ns();
	msort(d.a, d.tmp, c->items);
	*ns = bench_now_ns() - t0;
	*ops = c->items;
	return sort_check(&d, c->items, c->impl);
}

/* ---- two threads ping-ponging one cache line ---- */

struct pingpong {
	_Atomic uint64_t line __attribute__((aligned(64)));
	uint64_t rounds;
};

struct pingpong_arg {
	struct pingpong *pp;
	unsigned int id;
};

/* thread 0 turns 2i into 2i + 1, thread 1 turns that into 2i + 2 */
static void *pingpong_thread(void *p)
{
	struct pingpong_arg *a = p;
	struct pingpong *pp = a->pp;
	uint64_t i;

	bench_wait_start();
	for (i = 0; i < pp->rounds; i++) {
		while (atomic_load_explicit(&pp->line, memory_order_acquire) != 2 * i + a->id)
			bench_relax();
		atomic_store_explicit(&pp->line, 2 * i + a->id + 1, memory_order_release);
	}
	return NULL;
}

bool bench_pingpong_run(const struct bench_case *c, uint64_t *ops, double *ns)
{
	struct pingpong *pp = xalloc(sizeof(*pp));
	struct pingpong_arg args[2] = { { pp, 0 }, { pp, 1 } };
	struct bench_threads t = {
		.fn = pingpong_thread, .n = 2, .args = args, .arg_size = sizeof(args[0]),
	};
	bool ok;

	pp->rounds = c->items;
	*ns = bench_run_threads(&t);
	*ops = c->items;
	ok = atomic_load(&pp->line) == 2 * c->items;
	free(pp);
	return ok;
}
