// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A small work-stealing thread pool on the Chase-Lev deque (user/wsdeque.c).
 * Userspace only: it has no kernel twin.
 *
 * Each worker thread owns a deque. A task spawned on a worker goes to
 * the bottom of its own deque; one spawned from outside the pool goes to
 * the injector, a Vyukov MPMC queue. A worker looks for work in its own
 * deque first (newest first: the task just spawned is hot in its cache),
 * then in the injector, then steals from the others, oldest first,
 * starting at a random victim each round. After LFQ_POOL_ROUNDS rounds
 * that find nothing it parks on a futex, and a spawn wakes one parked
 * worker.
 *
 * Parking is the need-wakeup protocol of the rings: a worker counts
 * itself in sleepers, then (W1) smp_mb, then looks at every deque and
 * the injector once more before it sleeps; a spawn pushes, then (W2)
 * smp_mb, then loads sleepers and wakes one only if some sleep. Each
 * side stores and then loads, so each needs the full barrier: without
 * them a worker could sleep past the task that was spawned as it parked.
 *
 * Groups count their tasks not yet finished: lfq_group_wait() returns
 * when the count is 0. A worker that waits runs tasks meanwhile (fork/join
 * nests without deadlock); a thread outside the pool sleeps on the
 * count's futex, which the task that brings it to 0 wakes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "internal.h"

/* Rounds of looking for work before a worker parks. */
#define LFQ_POOL_ROUNDS		64

struct lfq_task {
	void (*fn)(void *arg);
	void *arg;
	struct lfq_group *group;
};

struct lfq_worker {
	struct lfq_pool *pool;
	struct lfq_ring *deque;
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
	pthread_t tid;
	bool started;			/* tid is a thread to join */
	u64 rng;
};

struct lfq_pool {
	struct lfq_worker *workers;
	unsigned int nr;
	bool stop;
	struct lfq_ring *injector;
	u32 epoch;			/* futex of parked workers: bumped to wake */
	u32 sleepers;			/* parked workers: the need-wakeup flag */
};

/* The worker this thread is, if it is one. */
static __thread struct lfq_worker *pool_self;

static u32 pool_rand(struct lfq_worker *me)
{
	/* xorshift64*: cheap, per worker */
	me->rng ^= me->rng >> 12;
	me->rng ^= me->rng << 25;
	me->rng ^= me->rng >> 27;
	return (u32)((me->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static void pool_run(struct lfq_task *t)
{
	struct lfq_group *g = t->group;

	t->fn(t->arg);
	/*
	 * The last task of the group wakes its waiters. A waiter that saw
	 * the 0 first may have freed the group by then: a wake on a stale
	 * private futex wakes nobody, or costs someone a spurious wake-up.
	 */
	if (atomic_fetch_sub_explicit(__lfq_atomic(&g->pending), 1,
				      memory_order_acq_rel) == 1)
		lfq_futex_wake(&g->pending, INT_MAX);
}

/* One look at every deque and the injector: a task, or false. */
static bool pool_find(struct lfq_worker *me, struct lfq_task *t)
{
	struct lfq_pool *pool = me->pool;
	unsigned int i, start;
	int ret;

	if (lfq_wsdeque_pop(&me->w, t) == 0 ||
	    lfq_vyukov_try_pop(pool->injector, t) == 0)
		return true;
	start = pool_rand(me) % pool->nr;
	for (i = 0; i < pool->nr; i++) {
		struct lfq_worker *victim = &pool->workers[(start + i) % pool->nr];

		if (victim == me)
			continue;
		do {
			ret = lfq_wsdeque_steal(&victim->s, t);
		} while (ret == -EBUSY);
		if (!ret)
			return true;
	}
	return false;
}

/* Whether a task waits anywhere, for a worker about to park. */
static bool pool_has_work(const struct lfq_pool *pool)
{
	unsigned int i;

	if (lfq_vyukov_size(pool->injector))
		return true;
	for (i = 0; i < pool->nr; i++)
		if (lfq_wsdeque_len(pool->workers[i].deque))
			return true;
	return false;
}

static void pool_park(struct lfq_pool *pool)
{
	/* F: pairs with the increment in pool_wake() */
	u32 seq = smp_load_acquire(&pool->epoch);

	atomic_add_u32(&pool->sleepers, 1);
	/* W1: pairs with W2 in pool_wake() */
	smp_mb();
	if (!pool_has_work(pool) && !READ_ONCE(pool->stop))
		lfq_futex_wait(&pool->epoch, seq);
	atomic_add_u32(&pool->sleepers, (u32)-1);
}

/* A task was spawned: wake a parked worker, if one is parked. */
static void pool_wake(struct lfq_pool *pool, int n)
{
	/* W2: pairs with W1 in pool_park() */
	smp_mb();
	if (likely(!READ_ONCE(pool->sleepers)))
		return;
	atomic_add_u32(&pool->epoch, 1);
	lfq_futex_wake(&pool->epoch, n);
}

static void *pool_thread(void *arg)
{
	struct lfq_worker *me = arg;
	struct lfq_pool *pool = me->pool;
	unsigned int idle = 0;
	struct lfq_task t;

	pool_self = me;
	while (!READ_ONCE(pool->stop)) {
		if (pool_find(me, &t)) {
			pool_run(&t);
			idle = 0;
		} else if (++idle < LFQ_POOL_ROUNDS) {
			cpu_relax();
		} else {
			pool_park(pool);
			idle = 0;
		}
	}
	return NULL;
}

static int pool_ring(struct lfq_ring **ringp, u32 type, u32 capacity)
{
	struct lfq_create c = {
		.type = type,
		.capacity = capacity,
		.elem_size = sizeof(struct lfq_task),
	};

	return lfq_ring_create(ringp, &c, LFQ_MEM_HEAP);
}

int lfq_pool_create(struct lfq_pool **poolp, unsigned int threads,
		    unsigned int capacity)
{
	struct lfq_pool *pool;
	unsigned int i;
	int ret;

	if (!poolp || !threads || threads > LFQ_POOL_MAX_THREADS)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->workers = calloc(threads, sizeof(*pool->workers));
	if (!pool->workers) {
		free(pool);
		return -ENOMEM;
	}
	ret = pool_ring(&pool->injector, LFQ_RING_VYUKOV, capacity);
	for (i = 0; !ret && i < threads; i++) {
		struct lfq_worker *me = &pool->workers[i];

		ret = pool_ring(&me->deque, LFQ_RING_WSDEQUE, capacity);
		if (ret)
			break;
		lfq_wsdeque_worker(me->deque, &me->w);
		lfq_wsdeque_stealer(me->deque, &me->s);
		me->pool = pool;
		me->rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		pool->nr = i + 1;
	}
	for (i = 0; !ret && i < threads; i++) {
		ret = -pthread_create(&pool->workers[i].tid, NULL, pool_thread,
				      &pool->workers[i]);
		pool->workers[i].started = !ret;
	}
	if (ret) {
		lfq_pool_destroy(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

void lfq_pool_destroy(struct lfq_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	WRITE_ONCE(pool->stop, true);
	pool_wake(pool, INT_MAX);
	for (i = 0; i < pool->nr; i++)
		if (pool->workers[i].started)
			pthread_join(pool->workers[i].tid, NULL);
	for (i = 0; i < pool->nr; i++)
		lfq_ring_destroy(pool->workers[i].deque);
	lfq_ring_destroy(pool->injector);
	free(pool->workers);
	free(pool);
}

void lfq_group_init(struct lfq_group *g)
{
	g->pending = 0;
}

int lfq_pool_spawn(struct lfq_pool *pool, struct lfq_group *g,
		   void (*fn)(void *arg), void *arg)
{
	struct lfq_task t = { .fn = fn, .arg = arg, .group = g };
	struct lfq_worker *me = pool_self;
	int ret;

	if (!pool || !g || !fn)
		return -EINVAL;
	atomic_add_u32(&g->pending, 1);
	if (me && me->pool == pool) {
		/* a full deque: run it here, the depth-first order anyway */
		if (lfq_wsdeque_push(&me->w, &t) == -ENOSPC) {
			pool_run(&t);
			return 0;
		}
	} else {
		ret = lfq_vyukov_push(pool->injector, &t, -1);
		if (ret) {
			atomic_add_u32(&g->pending, (u32)-1);
			return ret;
		}
	}
	pool_wake(pool, 1);
	return 0;
}

void lfq_group_wait(struct lfq_pool *pool, struct lfq_group *g)
{
	struct lfq_worker *me = pool_self;
	struct lfq_task t;
	u32 n;

	if (me && me->pool == pool) {
		/* a worker: keep working until the group is done */
		while (smp_load_acquire(&g->pending)) {
			if (pool_find(me, &t))
				pool_run(&t);
			else
				cpu_relax();
		}
		return;
	}
	while ((n = smp_load_acquire(&g->pending)))
		lfq_futex_wait(&g->pending, n);
}
