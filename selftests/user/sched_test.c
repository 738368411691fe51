// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Tests of liblfq's work-stealing thread pool (user/sched.c): fork/join
 * answers that must equal the sequential ones, and task trees in which
 * every task must run exactly once and every group wait must return only
 * once its own tasks have finished.
 *
 * A task tree is an array of items: running an item (item_run) counts
 * the run, spawns its kids into a group of its own, waits for the group,
 * checks that every kid has finished and marks itself done. The root is
 * run by a plain pthread, outside the pool, so its kids go through the
 * injector and its wait sleeps on the group's futex; deeper items run on
 * the workers, push their kids on their own deques and keep working while
 * they wait. After the root returns every item must have run once, be
 * done and have found all its kids done.
 *
 * The fixture pool runs each test on 1, 2, 3 and 4 workers. A lost
 * wake-up hangs a test until the harness's timeout fails it. Nothing
 * asserts on time; the mergesort test prints its speedups for a reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"

/* Sanitizers run everything 5-20 times slower: smaller sizes there. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SUM_N		((1u << 16) + 13)
#define SUM_LEAF	64
#define SORT_N		100003
#define SORT_RUNS	1
#define SPAWNS		2500
#define CAP2_PARENTS	16
#define POOL_REPS	20
#else
#define SUM_N		((1u << 20) + 13)
#define SUM_LEAF	256
#define SORT_N		1000003
#define SORT_RUNS	3
#define SPAWNS		10000
#define CAP2_PARENTS	64
#define POOL_REPS	100
#endif

#define SORT_LEAF	2048
#define POOL_CAPACITY	256
#define OUTSIDE_THREADS	4

/* Spawns refused inside tasks, where no ASSERT can report them. */
static _Atomic unsigned int spawn_errors;

static void spawn(struct lfq_pool *pool, struct lfq_group *g,
		  void (*fn)(void *), void *arg)
{
	if (lfq_pool_spawn(pool, g, fn, arg))
		atomic_fetch_add(&spawn_errors, 1);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ---- task trees --------------------------------------------------------- */

struct item {
	struct lfq_pool *pool;
	struct item *parent;
	struct item *kids;
	unsigned int nr_kids;
	_Atomic unsigned int spawning;	/* kid index + 1 while spawning it */
	_Atomic unsigned int runs;
	_Atomic bool done;
	_Atomic bool ran_inline;	/* inside the parent's spawn call */
	_Atomic unsigned int bad;	/* kids not done after the wait */
};

static void item_run(void *arg)
{
	struct item *it = arg, *p = it->parent;
	struct lfq_group g;
	unsigned int i;

	atomic_fetch_add(&it->runs, 1);
	/* exact on a pool of one worker, where no thief can run a kid */
	if (p && atomic_load(&p->spawning) == (unsigned int)(it - p->kids) + 1)
		atomic_store(&it->ran_inline, true);
	lfq_group_init(&g);
	for (i = 0; i < it->nr_kids; i++) {
		atomic_store(&it->spawning, i + 1);
		spawn(it->pool, &g, item_run, &it->kids[i]);
		atomic_store(&it->spawning, 0);
	}
	lfq_group_wait(it->pool, &g);
	for (i = 0; i < it->nr_kids; i++)
		if (!atomic_load(&it->kids[i].done))
			atomic_fetch_add(&it->bad, 1);
	atomic_store(&it->done, true);
}

/*
 * A tree of depth levels below the root, every item of level l with
 * fanout[l] kids, laid out level by level; *nrp gets its size.
 */
static struct item *tree_new(struct lfq_pool *pool, const unsigned int *fanout,
			     unsigned int depth, size_t *nrp)
{
	size_t nr = 1, width = 1, first = 0, j;
	struct item *items;
	unsigned int l, k;

	for (l = 0; l < depth; l++) {
		width *= fanout[l];
		nr += width;
	}
	items = calloc(nr, sizeof(*items));
	if (!items)
		return NULL;
	for (j = 0; j < nr; j++)
		items[j].pool = pool;
	for (width = 1, l = 0; l < depth; l++) {
		size_t next = first + width;

		for (j = 0; j < width; j++) {
			struct item *it = &items[first + j];

			it->kids = &items[next + j * fanout[l]];
			it->nr_kids = fanout[l];
			for (k = 0; k < fanout[l]; k++)
				it->kids[k].parent = it;
		}
		first = next;
		width *= fanout[l];
	}
	*nrp = nr;
	return items;
}

/* Items that did not run exactly once, finish, and find their kids done. */
static size_t tree_faults(const struct item *items, size_t nr)
{
	size_t j, faults = 0;

	for (j = 0; j < nr; j++)
		faults += items[j].runs != 1 || !items[j].done || items[j].bad;
	return faults;
}

static void *outside_thread(void *root)
{
	item_run(root);
	return NULL;
}

/*
 * threads plain pthreads each run the root of a tree of their own
 * (fanout[0..depth-1]) on pool, at once; every tree must come out whole.
 */
static void run_trees(struct __test_metadata *_metadata, struct lfq_pool *pool,
		      unsigned int threads, const unsigned int *fanout,
		      unsigned int depth)
{
	struct item *trees[OUTSIDE_THREADS];
	pthread_t tids[OUTSIDE_THREADS];
	size_t nr;
	unsigned int t;

	ASSERT_GE(OUTSIDE_THREADS, threads);
	for (t = 0; t < threads; t++) {
		trees[t] = tree_new(pool, fanout, depth, &nr);
		ASSERT_NE(NULL, trees[t]);
	}
	for (t = 0; t < threads; t++)
		ASSERT_EQ(0, pthread_create(&tids[t], NULL, outside_thread,
					    trees[t]));
	for (t = 0; t < threads; t++) {
		pthread_join(tids[t], NULL);
		EXPECT_EQ(0, tree_faults(trees[t], nr)) TH_LOG("tree %u", t);
		free(trees[t]);
	}
	EXPECT_EQ(0, spawn_errors);
}

#define RUN_TREES(pool, threads, ...)					\
	run_trees(_metadata, pool, threads, (const unsigned int[]){ __VA_ARGS__ }, \
		  sizeof((const unsigned int[]){ __VA_ARGS__ }) /		\
			  sizeof(unsigned int))

/* ---- fork/join answers -------------------------------------------------- */

struct sum_job {
	struct lfq_pool *pool;
	const uint64_t *a;
	size_t n;
	uint64_t sum;
};

/* Split until small: spawn the left half, add up the right one here. */
static void sum_task(void *arg)
{
	struct sum_job *job = arg, left, right;
	struct lfq_group g;
	size_t i;

	if (job->n <= SUM_LEAF) {
		for (job->sum = 0, i = 0; i < job->n; i++)
			job->sum += job->a[i];
		return;
	}
	left = (struct sum_job){ job->pool, job->a, job->n / 2, 0 };
	right = (struct sum_job){ job->pool, job->a + left.n, job->n - left.n, 0 };
	lfq_group_init(&g);
	spawn(job->pool, &g, sum_task, &left);
	sum_task(&right);
	lfq_group_wait(job->pool, &g);
	job->sum = left.sum + right.sum;
}

struct sort_job {
	struct lfq_pool *pool;
	long *a, *tmp;
	size_t n;
};

static int cmp_long(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;

	return (a > b) - (a < b);
}

/* Sort both halves, the left one as a task, then merge them through tmp. */
static void sort_task(void *arg)
{
	struct sort_job *job = arg, left, right;
	size_t i = 0, j, k = 0, mid = job->n / 2;
	long *a = job->a;
	struct lfq_group g;

	if (job->n <= SORT_LEAF) {
		qsort(a, job->n, sizeof(*a), cmp_long);
		return;
	}
	left = (struct sort_job){ job->pool, a, job->tmp, mid };
	right = (struct sort_job){ job->pool, a + mid, job->tmp + mid, job->n - mid };
	lfq_group_init(&g);
	spawn(job->pool, &g, sort_task, &left);
	sort_task(&right);
	lfq_group_wait(job->pool, &g);
	for (j = mid; i < mid && j < job->n;)
		job->tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
	while (i < mid)
		job->tmp[k++] = a[i++];
	/* a[j..n) is in place already */
	memcpy(a, job->tmp, k * sizeof(*a));
}

/* Run a root job from outside the pool and wait for it. */
static void run_root(struct __test_metadata *_metadata, struct lfq_pool *pool,
		     void (*fn)(void *), void *job)
{
	struct lfq_group g;

	lfq_group_init(&g);
	ASSERT_EQ(0, lfq_pool_spawn(pool, &g, fn, job));
	lfq_group_wait(pool, &g);
}

/* ---- the fixture: a pool of 1 to 4 workers ------------------------------ */

FIXTURE(pool) {
	struct lfq_pool *pool;
};

FIXTURE_VARIANT(pool) {
	unsigned int threads;
};

FIXTURE_VARIANT_ADD(pool, t1) { .threads = 1 };
FIXTURE_VARIANT_ADD(pool, t2) { .threads = 2 };
FIXTURE_VARIANT_ADD(pool, t3) { .threads = 3 };
FIXTURE_VARIANT_ADD(pool, t4) { .threads = 4 };

FIXTURE_SETUP(pool)
{
	ASSERT_EQ(0, lfq_pool_create(&self->pool, variant->threads, POOL_CAPACITY));
}

FIXTURE_TEARDOWN(pool)
{
	lfq_pool_destroy(self->pool);
}

/* Around the leaf size, a leaf, nothing, and a large odd-sized array. */
TEST_F(pool, fork_join_sum_equals_the_sequential_sum)
{
	static const size_t lens[] = { 0, 1, SUM_LEAF, SUM_LEAF + 1, SUM_N };
	uint64_t *a = malloc(SUM_N * sizeof(*a)), x = 7, want;
	unsigned int l;
	size_t i;

	ASSERT_NE(NULL, a);
	for (i = 0; i < SUM_N; i++)
		a[i] = rnd(&x);
	for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		struct sum_job job = { self->pool, a, lens[l], ~0ULL };

		for (want = 0, i = 0; i < lens[l]; i++)
			want += a[i];
		run_root(_metadata, self->pool, sum_task, &job);
		EXPECT_EQ(want, job.sum) TH_LOG("%zu elements", lens[l]);
	}
	EXPECT_EQ(0, spawn_errors);
	free(a);
}

/* 4 pthreads spawn SPAWNS leaves each into their own group and wait. */
TEST_F(pool, outside_threads_spawn_into_their_own_groups)
{
	RUN_TREES(self->pool, OUTSIDE_THREADS, SPAWNS);
}

/* Groups inside groups: the root's, then three levels on the workers. */
TEST_F(pool, nested_groups_wait_for_their_own_tasks)
{
	RUN_TREES(self->pool, 1, 6, 6, 6, 6);
}

/*
 * Many groups alive at once: 64 of them filled round-robin from outside
 * and waited for in reverse order, each wait checked on its own tasks;
 * then 64 workers' groups of 16 under one root.
 */
TEST_F(pool, many_groups_at_once_each_wait_for_their_own)
{
	enum { GROUPS = 64, PER_GROUP = 32 };
	struct lfq_group groups[GROUPS];
	struct item *items, *leaves;
	size_t nr, i;
	int gi;

	items = tree_new(self->pool, (const unsigned int[]){ GROUPS * PER_GROUP },
			 1, &nr);
	ASSERT_NE(NULL, items);
	leaves = items + 1;	/* the root is not run: this thread stands in */
	for (gi = 0; gi < GROUPS; gi++)
		lfq_group_init(&groups[gi]);
	for (i = 0; i < nr - 1; i++)
		ASSERT_EQ(0, lfq_pool_spawn(self->pool, &groups[i % GROUPS],
					    item_run, &leaves[i]));
	for (gi = GROUPS - 1; gi >= 0; gi--) {
		lfq_group_wait(self->pool, &groups[gi]);
		for (i = (size_t)gi; i < nr - 1; i += GROUPS)
			EXPECT_TRUE(leaves[i].done) TH_LOG("group %d, task %zu", gi, i);
	}
	EXPECT_EQ(0, tree_faults(leaves, nr - 1));
	free(items);
	RUN_TREES(self->pool, 1, GROUPS, 16);
}

/*
 * Parking: the pause only makes it likely that the workers have run out
 * of rounds and sleep on the futex; the spawns that follow, from outside
 * and from a worker, must complete whether they parked or not.
 */
TEST_F(pool, spawns_after_the_workers_may_have_parked_complete)
{
	unsigned int round;

	RUN_TREES(self->pool, 1, 4);
	for (round = 0; round < 3; round++) {
		usleep(50 * 1000);
		RUN_TREES(self->pool, 1, 1, 4);
	}
}

/* ---- other pools ------------------------------------------------------- */

/*
 * Mergesort of SORT_N random longs on 1 to 4 workers: sorted and equal to
 * qsort()'s answer, a permutation of the input. The speedups against the
 * one worker of the same run are printed for a reader only.
 */
TEST(parallel_mergesort_sorts_and_reports_speedup)
{
	long *in = malloc(SORT_N * sizeof(long)), *want = malloc(SORT_N * sizeof(long));
	long *a = malloc(SORT_N * sizeof(long)), *tmp = malloc(SORT_N * sizeof(long));
	double best[5] = { 0 };
	unsigned int t, run;
	uint64_t x = 11;
	size_t i;

	ASSERT_TRUE(in && want && a && tmp);
	for (i = 0; i < SORT_N; i++)
		in[i] = (long)rnd(&x);
	memcpy(want, in, SORT_N * sizeof(long));
	qsort(want, SORT_N, sizeof(long), cmp_long);
	for (t = 1; t <= 4; t++) {
		struct lfq_pool *pool;

		ASSERT_EQ(0, lfq_pool_create(&pool, t, POOL_CAPACITY));
		for (run = 0; run < SORT_RUNS; run++) {
			struct sort_job job = { pool, a, tmp, SORT_N };
			double t0, ms;

			memcpy(a, in, SORT_N * sizeof(long));
			t0 = now_ms();
			run_root(_metadata, pool, sort_task, &job);
			ms = now_ms() - t0;
			for (i = 1; i < SORT_N && a[i - 1] <= a[i]; i++)
				;
			EXPECT_EQ(SORT_N, i) TH_LOG("%u workers: unsorted at %zu", t, i);
			EXPECT_EQ(0, memcmp(a, want, SORT_N * sizeof(long)))
				TH_LOG("%u workers: not a permutation of the input", t);
			if (!best[t] || ms < best[t])
				best[t] = ms;
		}
		lfq_pool_destroy(pool);
	}
	EXPECT_EQ(0, spawn_errors);
	TH_LOG("mergesort of %d longs, best of %d, %ld CPUs online: not a benchmark",
	       SORT_N, SORT_RUNS, sysconf(_SC_NPROCESSORS_ONLN));
	for (t = 1; t <= 4; t++)
		TH_LOG("  %u workers %9.1f ms  speedup %.2f", t, best[t],
		       best[1] / best[t]);
	free(in);
	free(want);
	free(a);
	free(tmp);
}

/*
 * Capacity 2 on one worker: a task spawning 8 kids pushes the first 2 on
 * its deque and, the deque full, runs the other 6 inside the spawn call.
 */
TEST(a_worker_whose_deque_is_full_runs_the_task_inline)
{
	struct lfq_pool *pool;
	struct item *items;
	unsigned int k;
	size_t nr;

	ASSERT_EQ(0, lfq_pool_create(&pool, 1, 2));
	items = tree_new(pool, (const unsigned int[]){ 1, 8 }, 2, &nr);
	ASSERT_NE(NULL, items);
	item_run(items);
	EXPECT_EQ(0, tree_faults(items, nr));
	EXPECT_EQ(0, spawn_errors);
	for (k = 0; k < 8; k++)
		EXPECT_EQ(k >= 2, items[1].kids[k].ran_inline) TH_LOG("kid %u", k);
	free(items);
	lfq_pool_destroy(pool);
}

/*
 * Capacity 2 everywhere under load: 4 outside threads whose spawns wait
 * while the injector is full, and workers whose deques overflow into
 * inline runs. Every task still runs once.
 */
TEST(capacity_two_pool_runs_every_task_once)
{
	struct lfq_pool *pool;

	ASSERT_EQ(0, lfq_pool_create(&pool, 2, 2));
	RUN_TREES(pool, OUTSIDE_THREADS, CAP2_PARENTS, 8);
	lfq_pool_destroy(pool);
}

static void nop(void *arg)
{
	(void)arg;
}

TEST(create_refuses_bad_arguments)
{
	struct lfq_pool *pool = NULL;

	EXPECT_EQ(-EINVAL, lfq_pool_create(NULL, 1, POOL_CAPACITY));
	EXPECT_EQ(-EINVAL, lfq_pool_create(&pool, 0, POOL_CAPACITY));
	EXPECT_EQ(-EINVAL, lfq_pool_create(&pool, LFQ_POOL_MAX_THREADS + 1,
					   POOL_CAPACITY));
	/* the rings refuse these: the half-made pool is taken down */
	EXPECT_EQ(-EINVAL, lfq_pool_create(&pool, 2, 0));
	EXPECT_EQ(-EINVAL, lfq_pool_create(&pool, 2, 3));
	EXPECT_EQ(NULL, pool);
}

TEST(spawn_refuses_null_pool_group_and_fn)
{
	struct lfq_pool *pool;
	struct lfq_group g;

	ASSERT_EQ(0, lfq_pool_create(&pool, 1, POOL_CAPACITY));
	lfq_group_init(&g);
	EXPECT_EQ(-EINVAL, lfq_pool_spawn(NULL, &g, nop, NULL));
	EXPECT_EQ(-EINVAL, lfq_pool_spawn(pool, NULL, nop, NULL));
	EXPECT_EQ(-EINVAL, lfq_pool_spawn(pool, &g, NULL, NULL));
	/* nothing counted: the wait returns at once */
	EXPECT_EQ(0, g.pending);
	lfq_group_wait(pool, &g);
	lfq_pool_destroy(pool);
}

/* The largest pool works: every worker starts and tasks run. */
TEST(a_pool_of_the_most_threads_runs_tasks)
{
	struct lfq_pool *pool;

	ASSERT_EQ(0, lfq_pool_create(&pool, LFQ_POOL_MAX_THREADS, POOL_CAPACITY));
	RUN_TREES(pool, 1, LFQ_POOL_MAX_THREADS, 4);
	lfq_pool_destroy(pool);
}

/*
 * Pools destroyed at once, before their workers may even have started,
 * or after a task, while the workers go idle and park: stopping must find
 * them wherever they are. destroy(NULL) does nothing.
 */
TEST(idle_pools_are_created_and_destroyed_repeatedly)
{
	struct lfq_pool *pool;
	unsigned int i;

	for (i = 0; i < POOL_REPS; i++) {
		ASSERT_EQ(0, lfq_pool_create(&pool, 1 + i % 4, 2 << (i % 4)));
		if (i % 2)
			RUN_TREES(pool, 1, 1);
		lfq_pool_destroy(pool);
	}
	lfq_pool_destroy(NULL);
}

TEST_HARNESS_MAIN
