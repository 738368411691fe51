/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * One stress body for every lfq ring and every backend, after DPDK's
 * app/test/test_ring_stress_impl.h: a ring file fills in struct
 * stress_hooks (create, push/pop and their try_ and _burst forms, size),
 * declares its FIXTURE_VARIANTs (producers x consumers, verb, capacity,
 * element size, items) and expands STRESS_TESTS() for the backends:
 *
 *   heap   producers and consumers are threads of one process
 *   memfd  producers are threads of a forked child that attaches the
 *          inherited memfd with lfq_ring_attach(); consumers in the parent
 *   dev    the same on a /dev/lfq ring fd (SKIP when there is no device)
 *
 * Rings with reserve/commit verbs (in place) may also fill in the
 * _reserve and _commit hooks: the STRESS_RESERVE and STRESS_TRY_RESERVE
 * verbs then write and check each item in its slot, between the two.
 * STRESS_MIXED picks a verb at random for every operation, among those
 * whose hooks are there.
 *
 * Producers write lfq_test_item_make() items with per-producer sequence
 * numbers 0..n-1. Invariants:
 *
 *   well-formed  lfq_test_item_bad() == 0 for every popped item
 *   no duplicate a seen bit per (producer, seq), set with fetch_or
 *   no loss      every seen bit is set at the end
 *   order        per consumer, the seq of each producer strictly increases
 *   conservation produced == consumed == items, the ring empty at the end
 *                (try_pop -EAGAIN, size 0), lfq_ring_errors() == 0
 *   no hang      a watchdog: a run where nothing moves for a while (lost
 *                wake-up, lost item) fails with the progress counters,
 *                it never stalls CI
 *
 * Diagnostics only, never asserted: how often a try_ failed, and how
 * often it failed while size() (sampled right after the failure) said
 * the ring was neither empty nor full (a lost race, or a ring whose
 * tries can fail in between, as the turn ring's do).
 *
 * Consumers take tickets before they pop, so a blocking pop(-1) only ever
 * waits for an item that some producer still has to push: nobody needs a
 * poison pill, and a consumer stuck in pop(-1) is a bug.
 *
 * A ring whose items the verbs above cannot move (records of varying
 * length, a policy that drops items when the ring is full) brings thread
 * bodies of its own (the producer, consumer and verify hooks) and keeps
 * the rest: the backends, the watchdog, the seen bits and the per-producer
 * order of stress_check(), the empty ring at the end. Its verify hook
 * replaces "no loss" and "produced == consumed == items" with what the
 * ring promises instead.
 *
 * Environment:
 *   LFQ_STRESS_SCALE    float, default 1: scales every item count
 *   LFQ_STRESS_TIMEOUT  seconds, default 10: the watchdog fails a run in
 *                       which no item moved for that long
 *   LFQ_STRESS_DEADLINE seconds, default 300: and one that takes longer
 *   LFQ_TEST_BACKENDS   comma list of heap,memfd,dev; default all
 *
 * Under ThreadSanitizer and ASan the item counts are divided further
 * (STRESS_SANITIZER_DIV) so that a run stays within the same time.
 *
 * The clock, the environment, the backends chosen, the random numbers
 * and the record of failures are in stress_util.h, for stress tests with
 * bodies of their own (seq_stress.c).
 */
#ifndef LFQ_STRESS_IMPL_H
#define LFQ_STRESS_IMPL_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "stress_util.h"


#if defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZER	"tsan"
#define STRESS_SANITIZER_DIV	16.0
#elif defined(__SANITIZE_ADDRESS__)
#define STRESS_SANITIZER	"asan"
#define STRESS_SANITIZER_DIV	4.0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_SANITIZER	"tsan"
#define STRESS_SANITIZER_DIV	16.0
#elif __has_feature(address_sanitizer)
#define STRESS_SANITIZER	"asan"
#define STRESS_SANITIZER_DIV	4.0
#endif
#endif
#ifndef STRESS_SANITIZER
#define STRESS_SANITIZER	"native"
#define STRESS_SANITIZER_DIV	1.0
#endif

#define STRESS_MAX_THREADS	16	/* per side */
#define STRESS_BURST_MAX	32
#define STRESS_REF_SIZE		64	/* bytes of a reservation, opaque */

/* How the threads move items. */
enum stress_verb {
	STRESS_BLOCK,		/* push/pop, timeout -1 */
	STRESS_TRY,		/* try_push/try_pop, retried after a failure */
	STRESS_BURST,		/* push_burst/pop_burst of 1..32, timeout -1 */
	STRESS_TRY_BURST,	/* try_push_burst/try_pop_burst of 1..32 */
	STRESS_RESERVE,		/* push_reserve/pop_reserve, wait, commit */
	STRESS_TRY_RESERVE,	/* the same without waiting, retried */
	STRESS_MIXED,		/* any of the above that the ring has, per op */
	STRESS_NR_VERBS,
};

/* One FIXTURE_VARIANT. */
struct stress_cfg {
	unsigned int producers;
	unsigned int consumers;
	enum stress_verb verb;
	unsigned int capacity;
	unsigned int elem_size;		/* >= sizeof(struct lfq_test_item) */
	uint64_t items;			/* in all, natively at scale 1 */
	unsigned int policy;		/* struct lfq_create.policy */
	unsigned int mode;		/* the ring's own, for its own bodies */
};

struct stress_state;

/*
 * What a ring file provides. create() makes a ring on the given memory;
 * the verbs have the liblfq signatures and return values (0 or a count,
 * negative errno; -ENOSPC full and -EAGAIN empty for the try_ forms).
 */
struct stress_hooks {
	const char *name;
	int (*create)(struct lfq_ring **ringp, const struct stress_cfg *cfg,
		      enum lfq_mem mem);
	int (*push)(struct lfq_ring *ring, const void *elem, int timeout_ms);
	int (*pop)(struct lfq_ring *ring, void *elem, int timeout_ms);
	int (*try_push)(struct lfq_ring *ring, const void *elem);
	int (*try_pop)(struct lfq_ring *ring, void *elem);
	int (*push_burst)(struct lfq_ring *ring, const void *elems,
			  unsigned int n, int timeout_ms);
	int (*pop_burst)(struct lfq_ring *ring, void *elems, unsigned int n,
			 int timeout_ms);
	int (*try_push_burst)(struct lfq_ring *ring, const void *elems,
			      unsigned int n);
	int (*try_pop_burst)(struct lfq_ring *ring, void *elems,
			     unsigned int n);
	uint64_t (*size)(const struct lfq_ring *ring);
	/*
	 * In place, optional: reserve one slot (try: -ENOSPC when full,
	 * -EAGAIN when empty, instead of waiting), point *elem at the
	 * element in it and fill ref (STRESS_REF_SIZE bytes, 8-aligned);
	 * commit(ref) hands the slot on. 0 or a negative errno.
	 */
	int (*push_reserve)(struct lfq_ring *ring, bool try, void **elem,
			    void *ref);
	int (*push_commit)(struct lfq_ring *ring, const void *ref);
	int (*pop_reserve)(struct lfq_ring *ring, bool try, void **elem,
			   void *ref);
	int (*pop_commit)(struct lfq_ring *ring, const void *ref);
	/*
	 * Optional, together: thread bodies of the ring's own, which take a
	 * struct stress_thread and report as the body's do (moved counters,
	 * refused, stress_check(), stress_fail(), done), and the checks
	 * that replace the body's "no loss" and counts, given how many
	 * items no consumer saw. The verb is theirs to read.
	 */
	void *(*producer)(void *arg);
	void *(*consumer)(void *arg);
	void (*verify)(struct __test_metadata *_metadata,
		       struct stress_state *st, struct lfq_ring *ring,
		       uint64_t missing);
	/*
	 * The producers of a slot's next lap are ordered after its last
	 * one only through the consumer (it frees the slot, they acquire
	 * tail), not through the slot: with the consumer in the other
	 * process (memfd, dev) ThreadSanitizer cannot see that order and
	 * reports every reuse of a slot, so it skips those runs.
	 */
	bool ordered_by_consumer;
};

/* Counters of one thread, on its own cache line. */
struct stress_count {
	_Atomic uint64_t moved;		/* items pushed or popped */
	_Atomic uint64_t failed_tries;	/* try_ calls that moved nothing */
	_Atomic uint64_t failed_midway;	/* ... while 0 < size() < capacity */
	_Atomic uint64_t refused;	/* own bodies: items a lossy ring refused */
} __attribute__((aligned(64)));

/*
 * Everything both processes see: in a MAP_SHARED anonymous mapping, so the
 * producer child of the memfd and dev backends reports through it too.
 */
struct stress_state {
	const struct stress_hooks *hooks;
	const struct stress_cfg *cfg;
	unsigned int producers, consumers, elem_size;
	uint64_t per_producer;		/* items of each producer */
	uint64_t total;			/* per_producer * producers */
	uint64_t words;			/* seen-bitmap words per producer */
	_Atomic uint64_t *seen;		/* consumers only: parent memory */

	_Atomic uint64_t tickets;	/* items no consumer has claimed yet */
	_Atomic unsigned int done;	/* threads that finished */
	struct stress_failures failures;

	struct stress_count prod[STRESS_MAX_THREADS];
	struct stress_count cons[STRESS_MAX_THREADS];
};

struct stress_thread {
	struct stress_state *st;
	struct lfq_ring *ring;
	unsigned int id;
	pthread_t tid;
};

/* TAP diagnostic on stdout, flushed: the harness child ends in _exit(). */
static void stress_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void stress_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static bool stress_is_burst(enum stress_verb verb)
{
	return verb == STRESS_BURST || verb == STRESS_TRY_BURST;
}

static bool stress_is_try(enum stress_verb verb)
{
	return verb == STRESS_TRY || verb == STRESS_TRY_BURST ||
	       verb == STRESS_TRY_RESERVE || verb == STRESS_MIXED;
}

static bool stress_is_reserve(enum stress_verb verb)
{
	return verb == STRESS_RESERVE || verb == STRESS_TRY_RESERVE;
}

/* Does the ring have the hooks of verb (for STRESS_MIXED: of any)? */
static bool stress_has_verb(const struct stress_hooks *h,
			    enum stress_verb verb)
{
	switch (verb) {
	case STRESS_BLOCK:
		return h->push && h->pop;
	case STRESS_TRY:
		return h->try_push && h->try_pop;
	case STRESS_BURST:
		return h->push_burst && h->pop_burst;
	case STRESS_TRY_BURST:
		return h->try_push_burst && h->try_pop_burst;
	case STRESS_RESERVE:
	case STRESS_TRY_RESERVE:
		return h->push_reserve && h->push_commit && h->pop_reserve &&
		       h->pop_commit;
	case STRESS_MIXED:
		return true;
	default:
		return false;
	}
}

/* Would a thread of this variant ever move a burst? */
static bool stress_may_burst(const struct stress_state *st)
{
	enum stress_verb v = st->cfg->verb;

	return stress_is_burst(v) ||
	       (v == STRESS_MIXED &&
		(stress_has_verb(st->hooks, STRESS_BURST) ||
		 stress_has_verb(st->hooks, STRESS_TRY_BURST)));
}

/* The verb of the next operation: the variant's, or a random one. */
static enum stress_verb stress_pick(const struct stress_state *st,
				    uint64_t *x)
{
	enum stress_verb v = st->cfg->verb;

	if (v != STRESS_MIXED)
		return v;
	do
		v = (enum stress_verb)(stress_rand(x) % STRESS_MIXED);
	while (!stress_has_verb(st->hooks, v));
	return v;
}

/* A try_ moved nothing: count it, and whether the ring was in between. */
static void stress_failed_try(const struct stress_state *st,
			      struct lfq_ring *ring, struct stress_count *c)
{
	uint64_t size = st->hooks->size(ring);

	atomic_fetch_add_explicit(&c->failed_tries, 1, memory_order_relaxed);
	if (size > 0 && size < st->cfg->capacity)
		atomic_fetch_add_explicit(&c->failed_midway, 1,
					  memory_order_relaxed);
}

/*
 * One push or pop in verb (not a _RESERVE one): the count moved (>= 1),
 * 0 when a try_ found the ring full or empty, or a negative errno that
 * is a bug.
 */
static int stress_push(const struct stress_state *st, struct lfq_ring *ring,
		       enum stress_verb verb, const void *buf, unsigned int n)
{
	const struct stress_hooks *h = st->hooks;
	int ret;

	switch (verb) {
	case STRESS_BLOCK:
		ret = h->push(ring, buf, -1);
		return ret ? ret : 1;
	case STRESS_TRY:
		ret = h->try_push(ring, buf);
		return ret == -ENOSPC ? 0 : ret ? ret : 1;
	case STRESS_BURST:
		return h->push_burst(ring, buf, n, -1);
	case STRESS_TRY_BURST:
		ret = h->try_push_burst(ring, buf, n);
		return ret == -ENOSPC ? 0 : ret;
	default:
		return -EINVAL;
	}
}

static int stress_pop(const struct stress_state *st, struct lfq_ring *ring,
		      enum stress_verb verb, void *buf, unsigned int n)
{
	const struct stress_hooks *h = st->hooks;
	int ret;

	switch (verb) {
	case STRESS_BLOCK:
		ret = h->pop(ring, buf, -1);
		return ret ? ret : 1;
	case STRESS_TRY:
		ret = h->try_pop(ring, buf);
		return ret == -EAGAIN ? 0 : ret ? ret : 1;
	case STRESS_BURST:
		return h->pop_burst(ring, buf, n, -1);
	case STRESS_TRY_BURST:
		ret = h->try_pop_burst(ring, buf, n);
		return ret == -EAGAIN ? 0 : ret;
	default:
		return -EINVAL;
	}
}

/*
 * Elements of a burst lie elem_size apart, so with odd sizes they are not
 * 8-byte aligned; the item helpers want struct lfq_test_item alignment.
 * Build and check items in aligned scratch memory and copy.
 */
static void stress_make(uint8_t *dst, uint64_t *scratch, unsigned int es,
			unsigned int producer, uint64_t seq)
{
	lfq_test_item_make(scratch, es, producer, seq);
	memcpy(dst, scratch, es);
}

/*
 * A thread that holds a reservation sometimes lets the others run first:
 * a stalled participant, whose slot the next lap has to wait for.
 */
static void stress_hold(uint64_t *x)
{
	if (stress_rand(x) % 16 == 0)
		sched_yield();
}

/* A _RESERVE verb: write the item of (producer, seq) in its slot. */
static int stress_push_in_place(const struct stress_state *st,
				struct lfq_ring *ring, enum stress_verb verb,
				uint64_t *scratch, unsigned int producer,
				uint64_t seq, uint64_t *x)
{
	const struct stress_hooks *h = st->hooks;
	bool try = verb == STRESS_TRY_RESERVE;
	uint64_t ref[STRESS_REF_SIZE / sizeof(uint64_t)];
	void *elem;
	int ret;

	ret = h->push_reserve(ring, try, &elem, ref);
	if (ret)
		return try && ret == -ENOSPC ? 0 : ret;
	stress_make(elem, scratch, st->elem_size, producer, seq);
	stress_hold(x);
	ret = h->push_commit(ring, ref);
	return ret ? ret : 1;
}

static void *stress_producer(void *arg)
{
	struct stress_thread *t = arg;
	struct stress_state *st = t->st;
	struct stress_count *c = &st->prod[t->id];
	unsigned int es = st->elem_size, max, i, n;
	uint64_t seq = 0, x = 0x9e3779b97f4a7c15ULL * (t->id + 1);
	uint64_t *scratch = NULL;
	enum stress_verb verb;
	uint8_t *buf = NULL;
	int ret;

	max = stress_may_burst(st) ? STRESS_BURST_MAX : 1;
	buf = malloc((size_t)max * es);
	scratch = malloc(es + 8);
	if (!buf || !scratch) {
		stress_fail(st, "producer %u: out of memory", t->id);
		goto out;
	}
	while (seq < st->per_producer) {
		verb = stress_pick(st, &x);
		n = stress_is_burst(verb) ? 1 + stress_rand(&x) % max : 1;
		if (n > st->per_producer - seq)
			n = (unsigned int)(st->per_producer - seq);
		if (stress_is_reserve(verb)) {
			ret = stress_push_in_place(st, t->ring, verb, scratch,
						   t->id, seq, &x);
		} else {
			for (i = 0; i < n; i++)
				stress_make(buf + (size_t)i * es, scratch, es,
					    t->id, seq + i);
			ret = stress_push(st, t->ring, verb, buf, n);
		}
		if (ret == 0) {
			stress_failed_try(st, t->ring, c);
			sched_yield();
			continue;
		}
		if (ret < 0 || (unsigned int)ret > n) {
			stress_fail(st, "producer %u: push of %u at seq %" PRIu64
				    " returned %d", t->id, n, seq, ret);
			break;
		}
		seq += (unsigned int)ret;
		atomic_store_explicit(&c->moved, seq, memory_order_relaxed);
	}
out:
	free(scratch);
	free(buf);
	atomic_fetch_add(&st->done, 1);
	return NULL;
}

/* Take up to want tickets: items that some producer will push. */
static unsigned int stress_claim(struct stress_state *st, unsigned int want)
{
	uint64_t left = atomic_load_explicit(&st->tickets, memory_order_relaxed);
	uint64_t k;

	do {
		if (left == 0)
			return 0;
		k = left < want ? left : want;
	} while (!atomic_compare_exchange_weak(&st->tickets, &left, left - k));
	return (unsigned int)k;
}

/*
 * Check one popped item of len bytes (scratch holds as many) against every
 * invariant a single pop can break; false if it is no item of this run.
 */
static bool stress_check(struct stress_state *st, unsigned int consumer,
			 int64_t *last, const void *elem, unsigned int len,
			 uint64_t *scratch)
{
	const struct lfq_test_item *it = (const void *)scratch;
	uint64_t bit, old;
	unsigned int p;

	memcpy(scratch, elem, len);
	if (lfq_test_item_bad(scratch, len, st->producers)) {
		stress_fail(st, "consumer %u: malformed item of %u bytes: "
			    "magic %#x producer %u seq %" PRIu64, consumer,
			    len, it->magic, it->producer, (uint64_t)it->seq);
		return false;
	}
	p = it->producer;
	if (it->seq >= st->per_producer) {
		stress_fail(st, "consumer %u: producer %u seq %" PRIu64
			    " out of range", consumer, p, (uint64_t)it->seq);
		return false;
	}
	if ((int64_t)it->seq <= last[p])
		stress_fail(st, "consumer %u: producer %u seq %" PRIu64
			    " after seq %" PRId64, consumer, p,
			    (uint64_t)it->seq, last[p]);
	last[p] = (int64_t)it->seq;
	bit = 1ULL << (it->seq % 64);
	old = atomic_fetch_or_explicit(&st->seen[p * st->words + it->seq / 64],
				       bit, memory_order_relaxed);
	if (old & bit)
		stress_fail(st, "consumer %u: duplicate producer %u seq %"
			    PRIu64, consumer, p, (uint64_t)it->seq);
	return true;
}

/*
 * A _RESERVE verb: check the item in its slot, then scribble over it
 * before the commit: the slot is ours until then, and a second reader
 * of the same slot would find the scribble (a malformed item).
 */
static int stress_pop_in_place(struct stress_state *st, struct lfq_ring *ring,
			       enum stress_verb verb, unsigned int consumer,
			       int64_t *last, uint64_t *scratch, uint64_t *x)
{
	const struct stress_hooks *h = st->hooks;
	bool try = verb == STRESS_TRY_RESERVE;
	uint64_t ref[STRESS_REF_SIZE / sizeof(uint64_t)];
	void *elem;
	int ret;

	ret = h->pop_reserve(ring, try, &elem, ref);
	if (ret)
		return try && ret == -EAGAIN ? 0 : ret;
	stress_check(st, consumer, last, elem, st->elem_size, scratch);
	memset(elem, 0x5a, st->elem_size);
	stress_hold(x);
	ret = h->pop_commit(ring, ref);
	return ret ? ret : 1;
}

static void *stress_consumer(void *arg)
{
	struct stress_thread *t = arg;
	struct stress_state *st = t->st;
	struct stress_count *c = &st->cons[t->id];
	unsigned int es = st->elem_size, max, want, k, got, i;
	uint64_t moved = 0, x = 0xbf58476d1ce4e5b9ULL * (t->id + 1);
	int64_t *last = NULL;
	uint64_t *scratch = NULL;
	enum stress_verb verb;
	uint8_t *buf = NULL;
	int ret;

	max = stress_may_burst(st) ? STRESS_BURST_MAX : 1;
	buf = malloc((size_t)max * es);
	scratch = malloc(es + 8);
	last = malloc(st->producers * sizeof(*last));
	if (!buf || !scratch || !last) {
		stress_fail(st, "consumer %u: out of memory", t->id);
		goto out;
	}
	for (i = 0; i < st->producers; i++)
		last[i] = -1;
	for (;;) {
		verb = stress_pick(st, &x);
		want = stress_is_burst(verb) ? 1 + stress_rand(&x) % max : 1;
		k = stress_claim(st, want);
		if (!k)
			break;
		/* STRESS_MIXED: a new verb for every pop, even a retried one */
		for (got = 0; got < k; verb = stress_pick(st, &x)) {
			if (stress_is_reserve(verb))
				ret = stress_pop_in_place(st, t->ring, verb,
							  t->id, last, scratch,
							  &x);
			else
				ret = stress_pop(st, t->ring, verb, buf,
						 k - got);
			if (ret == 0) {
				stress_failed_try(st, t->ring, c);
				sched_yield();
				continue;
			}
			if (ret < 0 || (unsigned int)ret > k - got) {
				stress_fail(st, "consumer %u: pop of %u returned %d",
					    t->id, k - got, ret);
				goto out;
			}
			for (i = 0; !stress_is_reserve(verb) &&
				    i < (unsigned int)ret; i++)
				stress_check(st, t->id, last,
					     buf + (size_t)i * es, es, scratch);
			got += (unsigned int)ret;
			moved += (unsigned int)ret;
			atomic_store_explicit(&c->moved, moved,
					      memory_order_relaxed);
		}
	}
out:
	free(last);
	free(scratch);
	free(buf);
	atomic_fetch_add(&st->done, 1);
	return NULL;
}

static int stress_start(struct stress_state *st, struct stress_thread *t,
			struct lfq_ring *ring, unsigned int id,
			void *(*fn)(void *))
{
	t->st = st;
	t->ring = ring;
	t->id = id;
	return pthread_create(&t->tid, NULL, fn, t);
}

/*
 * The producer process of the memfd and dev backends: attach the inherited
 * fd, check that it is the same ring, run the producers, report through
 * the shared state and the exit status (0 ok, 2 attach, 3 threads).
 */
static void __attribute__((noreturn))
stress_producer_process(struct stress_state *st, pid_t parent, int fd,
			const struct lfq_info *want)
{
	struct stress_thread th[STRESS_MAX_THREADS];
	const struct lfq_info *info;
	struct lfq_ring *ring;
	unsigned int i;
	int ret;

	/* the parent's watchdog may kill it, its death must not leave us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	ret = lfq_ring_attach(&ring, fd);
	if (ret) {
		stress_fail(st, "producer process: lfq_ring_attach: %s",
			    strerror(-ret));
		_exit(2);
	}
	info = lfq_ring_info(ring);
	if (info->type != want->type || info->capacity != want->capacity ||
	    info->elem_size != want->elem_size ||
	    info->slot_stride != want->slot_stride ||
	    info->ring_size != want->ring_size ||
	    info->slots_off != want->slots_off) {
		stress_fail(st, "producer process: attached ring differs");
		_exit(2);
	}
	for (i = 0; i < st->producers; i++) {
		if (stress_start(st, &th[i], ring, i,
				 st->hooks->producer ?: stress_producer)) {
			stress_fail(st, "producer process: pthread_create");
			_exit(3);
		}
	}
	for (i = 0; i < st->producers; i++)
		pthread_join(th[i].tid, NULL);
	lfq_ring_destroy(ring);
	_exit(0);
}

static uint64_t stress_sum(const struct stress_count *c, unsigned int n,
			   bool tries)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		s += atomic_load(tries ? &c[i].failed_tries : &c[i].moved);
	return s;
}

static uint64_t stress_sum_midway(const struct stress_count *c, unsigned int n)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		s += atomic_load(&c[i].failed_midway);
	return s;
}

/* Where every thread is: for a watchdog or an early failure report. */
static void stress_progress(struct __test_metadata *_metadata,
			    struct stress_state *st, struct lfq_ring *ring)
{
	unsigned int i;

	for (i = 0; i < st->producers; i++)
		TH_LOG("producer %u pushed %" PRIu64 " of %" PRIu64
		       " (refused %" PRIu64 ")", i,
		       atomic_load(&st->prod[i].moved), st->per_producer,
		       atomic_load(&st->prod[i].refused));
	for (i = 0; i < st->consumers; i++)
		TH_LOG("consumer %u popped %" PRIu64, i,
		       atomic_load(&st->cons[i].moved));
	if (!st->hooks->consumer)
		TH_LOG("unclaimed %" PRIu64 " of %" PRIu64,
		       atomic_load(&st->tickets), st->total);
	TH_LOG("ring size %" PRIu64 ", %u of %u threads done, ring errors %"
	       PRIu64, st->hooks->size(ring), atomic_load(&st->done),
	       st->producers + st->consumers, lfq_ring_errors(ring));
	if (atomic_load(&st->failures.n))
		TH_LOG("%u failures, first: %s", atomic_load(&st->failures.n),
		       st->failures.first);
}

/*
 * A hang or a dead producer process: say where everything stood and end
 * the test child now. Threads may still sit in the ring, so nothing is
 * freed; the harness reports exit status 1 as a failure.
 */
static void __attribute__((noreturn))
stress_abort(struct __test_metadata *_metadata, struct stress_state *st,
	     struct lfq_ring *ring, pid_t child, const char *why)
{
	TH_LOG("%s", why);
	stress_progress(_metadata, st, ring);
	if (child > 0)
		kill(child, SIGKILL);
	fflush(stdout);
	fflush(stderr);
	_exit(KSFT_FAIL);
}

static const char *const stress_verb_names[] = {
	[STRESS_BLOCK] = "push/pop",
	[STRESS_TRY] = "try_push/try_pop",
	[STRESS_BURST] = "push_burst/pop_burst",
	[STRESS_TRY_BURST] = "try_push_burst/try_pop_burst",
	[STRESS_RESERVE] = "push_reserve/pop_reserve+commit",
	[STRESS_TRY_RESERVE] = "try_push_reserve/try_pop_reserve+commit",
	[STRESS_MIXED] = "mixed verbs",
};

/* The body: one run of cfg on backend, every invariant checked. */
static void stress_run(struct __test_metadata *_metadata,
		       const struct stress_hooks *hooks,
		       const struct stress_cfg *cfg,
		       enum stress_backend backend)
{
	const char *bname = stress_backend_names[backend];
	struct stress_thread prod[STRESS_MAX_THREADS];
	struct stress_thread cons[STRESS_MAX_THREADS];
	double scale, stall, deadline, start, secs, grace = 0, last_change;
	uint64_t moved, last_moved = 0;
	uint64_t produced, consumed, missing = 0, word, full;
	struct lfq_ring *ring = NULL;
	unsigned int i, nthreads;
	struct stress_state *st;
	pid_t child = 0;
	char elem[4096];
	int ret, status;

	if (!stress_backend_enabled(bname))
		SKIP(return, "%s: not in LFQ_TEST_BACKENDS", bname);
	if (backend != STRESS_HEAP && hooks->ordered_by_consumer &&
	    !strcmp(STRESS_SANITIZER, "tsan"))
		SKIP(return, "%s: TSan cannot see the producers' order, which "
		     "goes through the consumer's process", bname);
	ASSERT_GE(cfg->producers, 1);
	ASSERT_LE(cfg->producers, STRESS_MAX_THREADS);
	ASSERT_GE(cfg->consumers, 1);
	ASSERT_LE(cfg->consumers, STRESS_MAX_THREADS);
	ASSERT_GE(cfg->elem_size, sizeof(struct lfq_test_item));
	ASSERT_LE(cfg->elem_size, sizeof(elem));
	ASSERT_TRUE(cfg->verb < STRESS_NR_VERBS &&
		    (hooks->producer || stress_has_verb(hooks, cfg->verb)))
		TH_LOG("%s has no hooks for verb %d", hooks->name, cfg->verb);

	ret = hooks->create(&ring, cfg, stress_backend_mem[backend]);
	if (backend == STRESS_DEV &&
	    (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO))
		SKIP(return, "dev: no /dev/lfq (%s)", strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("create on %s: %s", bname, strerror(-ret));

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	scale = stress_env_double("LFQ_STRESS_SCALE", 1.0) /
		STRESS_SANITIZER_DIV;
	stall = stress_env_double("LFQ_STRESS_TIMEOUT", 10.0);
	deadline = stress_env_double("LFQ_STRESS_DEADLINE", 300.0);
	st->hooks = hooks;
	st->cfg = cfg;
	st->producers = cfg->producers;
	st->consumers = cfg->consumers;
	st->elem_size = cfg->elem_size;
	st->per_producer = (uint64_t)((double)cfg->items * scale /
				      cfg->producers + 0.5);
	if (st->per_producer < 1)
		st->per_producer = 1;
	st->total = st->per_producer * cfg->producers;
	st->words = (st->per_producer + 63) / 64;
	st->seen = calloc(st->words * cfg->producers, sizeof(*st->seen));
	ASSERT_NE(NULL, st->seen);
	atomic_store(&st->tickets, st->total);
	nthreads = cfg->producers + cfg->consumers;

	/*
	 * A second watchdog for what the loop below cannot see (the main
	 * thread stuck itself): SIGALRM kills the test child. The loop
	 * re-arms it whenever items move.
	 */
	alarm((unsigned int)stall + 30);
	start = last_change = stress_now();
	if (backend == STRESS_HEAP) {
		for (i = 0; i < cfg->producers; i++)
			ASSERT_EQ(0, stress_start(st, &prod[i], ring, i,
					hooks->producer ?: stress_producer));
	} else {
		pid_t parent = getpid();

		fflush(stdout);
		fflush(stderr);
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0)
			stress_producer_process(st, parent, lfq_ring_fd(ring),
						lfq_ring_info(ring));
	}
	for (i = 0; i < cfg->consumers; i++)
		ASSERT_EQ(0, stress_start(st, &cons[i], ring, i,
					  hooks->consumer ?: stress_consumer));

	/*
	 * The watchdog: every thread done and the child reaped, with items
	 * moving all along. A slow machine (a VM without KVM) only takes
	 * longer; a run where nothing moves for stall seconds is stuck.
	 */
	while (atomic_load(&st->done) < nthreads || child > 0) {
		double now = stress_now();

		moved = stress_sum(st->prod, cfg->producers, false) +
			stress_sum(st->cons, cfg->consumers, false);
		if (moved != last_moved) {
			last_moved = moved;
			last_change = now;
			alarm((unsigned int)stall + 30);
		}

		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				char why[128];

				snprintf(why, sizeof(why),
					 "producer process died: status %#x",
					 status);
				stress_abort(_metadata, st, ring, 0, why);
			}
		}
		if (now - last_change > stall)
			stress_abort(_metadata, st, ring, child,
				     "watchdog: no item moved for "
				     "LFQ_STRESS_TIMEOUT seconds (lost wake-up, "
				     "lost item, or livelock)");
		if (now - start > deadline)
			stress_abort(_metadata, st, ring, child,
				     "watchdog: the run took longer than "
				     "LFQ_STRESS_DEADLINE seconds");
		/* a thread gave up: the others may wait forever, don't */
		if (atomic_load(&st->failures.n)) {
			if (!grace)
				grace = now + 1.0;
			else if (now > grace)
				stress_abort(_metadata, st, ring, child,
					     "a thread failed, the run cannot end");
		}
		usleep(1000);
	}
	secs = stress_now() - start;
	alarm(0);
	if (backend == STRESS_HEAP)
		for (i = 0; i < cfg->producers; i++)
			pthread_join(prod[i].tid, NULL);
	for (i = 0; i < cfg->consumers; i++)
		pthread_join(cons[i].tid, NULL);

	EXPECT_EQ(0, atomic_load(&st->failures.n))
		TH_LOG("first failure: %s", st->failures.first);

	/* no loss: every (producer, seq) was seen; own bodies say how many */
	for (i = 0; i < cfg->producers; i++) {
		uint64_t w;

		for (w = 0; w < st->words; w++) {
			word = atomic_load(&st->seen[i * st->words + w]);
			full = w + 1 < st->words || st->per_producer % 64 == 0 ?
			       ~0ULL : (1ULL << (st->per_producer % 64)) - 1;
			if (word == full)
				continue;
			if (!missing && !hooks->verify)
				TH_LOG("first lost item: producer %u seq %"
				       PRIu64, i,
				       w * 64 + __builtin_ctzll(~word & full));
			missing += (uint64_t)__builtin_popcountll(~word & full);
		}
	}
	produced = stress_sum(st->prod, cfg->producers, false);
	consumed = stress_sum(st->cons, cfg->consumers, false);
	if (hooks->verify) {
		hooks->verify(_metadata, st, ring, missing);
	} else {
		EXPECT_EQ(0, missing) TH_LOG("%" PRIu64 " items lost", missing);
		/* count conservation */
		EXPECT_EQ(st->total, produced);
		EXPECT_EQ(st->total, consumed);
		EXPECT_EQ(0, atomic_load(&st->tickets));
	}

	/* the ring is empty and sane at the end */
	EXPECT_EQ(-EAGAIN, hooks->try_pop(ring, elem));
	EXPECT_EQ(0, hooks->size(ring));
	EXPECT_EQ(0, lfq_ring_errors(ring));

	stress_diag("%s/%s %ux%u %s cap %u elem %u [%s]: %" PRIu64
		    " items in %.3f s (%.2f M/s)", hooks->name, bname,
		    cfg->producers, cfg->consumers, stress_verb_names[cfg->verb],
		    cfg->capacity, cfg->elem_size, STRESS_SANITIZER,
		    consumed, secs, secs > 0 ? (double)consumed / secs / 1e6 : 0);
	if (stress_is_try(cfg->verb))
		stress_diag("%s/%s failed tries (full/empty or lost race, "
			    "retried): push %" PRIu64 " pop %" PRIu64
			    " per item %.3f", hooks->name, bname,
			    stress_sum(st->prod, cfg->producers, true),
			    stress_sum(st->cons, cfg->consumers, true),
			    (double)(stress_sum(st->prod, cfg->producers, true) +
				     stress_sum(st->cons, cfg->consumers, true)) /
			    (double)(consumed ? consumed : 1));
	if (stress_is_try(cfg->verb)) {
		uint64_t pf = stress_sum(st->prod, cfg->producers, true);
		uint64_t cf = stress_sum(st->cons, cfg->consumers, true);
		uint64_t pm = stress_sum_midway(st->prod, cfg->producers);
		uint64_t cm = stress_sum_midway(st->cons, cfg->consumers);

		stress_diag("%s/%s failed tries with 0 < size < capacity "
			    "(informational): push %" PRIu64 " (%.1f%% of "
			    "its failures) pop %" PRIu64 " (%.1f%%), per item "
			    "%.4f", hooks->name, bname,
			    pm, pf ? 100.0 * (double)pm / (double)pf : 0.0,
			    cm, cf ? 100.0 * (double)cm / (double)cf : 0.0,
			    (double)(pm + cm) / (double)(consumed ? consumed : 1));
	}

	free(st->seen);
	munmap(st, sizeof(*st));
	lfq_ring_destroy(ring);
}

/*
 * The fixture of a ring: FIXTURE_VARIANT(fix) holds a struct stress_cfg
 * named cfg, and one test per backend runs every variant.
 */
#define STRESS_TESTS(fix, hooks)					\
	FIXTURE(fix) {							\
		int unused;						\
	};								\
	FIXTURE_VARIANT(fix) {						\
		struct stress_cfg cfg;					\
	};								\
	FIXTURE_SETUP(fix) {}						\
	FIXTURE_TEARDOWN(fix) {}					\
	STRESS_BACKEND_TESTS(fix, stress_run, &(hooks), &variant->cfg)

#endif /* LFQ_STRESS_IMPL_H */
