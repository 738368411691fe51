// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress of the work-stealing deque on every backend: the owner and the
 * thieves are threads of one process (heap), or the thieves are threads
 * of a forked child that attach the inherited ring fd, each its own
 * handle, and report through shared memory and their exit status
 * (memfd, and dev: a /dev/lfq deque, skipped when there is no device).
 * It checks invariants, never timing.
 *
 * flow: the owner pushes items 0..n-1, each element word 0 the item and
 * every other word a function of it, pops now and then between pushes,
 * and drains what is left at the end; 1..3 thieves steal, one at a time
 * (s) or in batches (b), until the owner is done and the deque empty.
 *
 *   content    every word of every element taken is the one its push
 *              wrote
 *   once       every item is taken exactly once, by the owner or one
 *              thief (a seen count per item), and popped + stolen ==
 *              pushed == n
 *   LIFO       a pop that succeeds returns the owner's newest item not
 *              popped yet: thieves take the oldest, so that one is
 *              either there or the deque is empty. The owner keeps its
 *              last capacity items by stack depth; a pop after the
 *              owner found its deque empty, with nothing pushed since,
 *              must find it empty again
 *   full       -ENOSPC only when the owner's items not known taken are
 *              capacity many
 *   FIFO       each thief's items increase: within one batch, and from
 *              one call to the next (the top only moves up, and the
 *              items above it were pushed later)
 *   batch      1..n elements, never more than half a full deque
 *   ring       no corruption counted, and the deque empty at the end
 *
 * race: one element (or two), and the owner's pop and a thief's steal
 * (or two; batches every other round) start at the same moment, both
 * spinning on a shared count until the other has arrived: exactly one
 * of them gets the newest element, the right one, and the other -EAGAIN
 * (or the thief -EBUSY); the thief gets the older one first. How often
 * each side won is printed, never asserted.
 *
 * Under ThreadSanitizer the cross-process runs are kept: a deque has one
 * owner, so the slot writes that a thief's copy races with are all in
 * one thread of one process, and no order that TSan must see goes
 * through the other process (seq_stress.c skips the runs where it does).
 *
 * Environment, as for the other stress tests (stress_util.h):
 *   LFQ_STRESS_SCALE    float, default 1: scales every item count
 *   LFQ_STRESS_TIMEOUT  seconds, default 10: fail a run in which nothing
 *                       moved for that long
 *   LFQ_TEST_BACKENDS   comma list of heap,memfd,dev; default all
 *
 * Test names are wsdeque_flow.<variant>.<backend>, with variant names
 * <thieves>_c<capacity>_e<elem size>, and wsdeque_race.<backend>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "stress_util.h"

/* sanitized builds run slower: fewer items, in about the same time */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER	"tsan"
#define SANITIZER_DIV	16.0
#elif defined(__SANITIZE_ADDRESS__)
#define SANITIZER	"asan"
#define SANITIZER_DIV	4.0
#else
#define SANITIZER	"native"
#define SANITIZER_DIV	1.0
#endif

#define MAX_THIEVES	3
#define ELEM_WORDS	8		/* 64 bytes at most */
#define BATCH_MAX	16
#define CAP_MAX		256

/* A counter on its own cache line. */
struct count {
	_Atomic uint64_t n;
} __attribute__((aligned(64)));

static void count_add(struct count *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->n, n, memory_order_relaxed);
}

static uint64_t count_of(struct count *c)
{
	return atomic_load_explicit(&c->n, memory_order_relaxed);
}

/* splitmix64's finalizer: the words of an element. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t word_of(uint64_t v, unsigned int i)
{
	return i ? mix(v * ELEM_WORDS + i) : v;
}

static void elem_write(uint64_t *e, unsigned int words, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		e[i] = word_of(v, i);
}

/* The item in e if every word is what its push wrote, else ~0. */
static uint64_t elem_read(const uint64_t *e, unsigned int words)
{
	unsigned int i;

	for (i = 1; i < words; i++)
		if (e[i] != word_of(e[0], i))
			return ~0ULL;
	return e[0];
}

/* Create a deque on backend b: 0, or the test is skipped or failed. */
static int deque_create(struct __test_metadata *_metadata,
			struct lfq_ring **ring, enum stress_backend b,
			uint32_t capacity, uint32_t elem_size)
{
	struct lfq_create p = {
		.type = LFQ_RING_WSDEQUE,
		.capacity = capacity,
		.elem_size = elem_size,
	};
	int ret = lfq_ring_create(ring, &p, stress_backend_mem[b]);

	if (b == STRESS_DEV && (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO))
		SKIP(return ret, "dev: no /dev/lfq (%s)", strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("create on %s: %s", stress_backend_names[b],
				 strerror(-ret));
	return 0;
}

/* Memory both processes see, zeroed. */
static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Fork a process that runs body(arg) and exits with what it returns. */
static pid_t fork_body(int (*body)(void *arg), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	/* the parent's watchdog may kill it, its death must not leave us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	_exit(body(arg));
}

/* ---- flow: one owner, 1..3 thieves, every item once --------------------- */

struct flow_cfg {
	const char *thieves;	/* a letter per thief: s steal, b steal_batch */
	uint32_t capacity;
	uint32_t elem_size;	/* a multiple of 8 */
	uint32_t batch;		/* b thieves ask for 1..batch */
	uint32_t pop_every;	/* the owner pops 1..3 after one push in this many */
	uint64_t items;		/* natively at scale 1 */
};

/* Everything both processes see. */
struct flow_state {
	const struct flow_cfg *cfg;
	unsigned int thieves;
	uint64_t items;

	_Atomic unsigned int thieves_ready;	/* the owner waits for them */
	_Atomic unsigned int owner_done;	/* drained: empty for good */
	_Atomic unsigned int thieves_done;

	struct stress_failures failures;

	struct count pushed;
	struct count popped;
	struct count stolen[MAX_THIEVES];
	/* diagnostics only */
	struct count full;			/* pushes refused */
	struct count empty;			/* pops that found nothing */
	struct count busy[MAX_THIEVES];		/* steals that lost a race */
	struct count calls[MAX_THIEVES];	/* calls that took something */

	_Atomic uint8_t seen[];			/* times each item was taken */
};

static bool failed(struct flow_state *st)
{
	return atomic_load_explicit(&st->failures.n, memory_order_relaxed);
}

/* Note an element taken by who: its item, or ~0 after a failure. */
static uint64_t note_taken(struct flow_state *st, const uint64_t *e,
			   const char *who, unsigned int id)
{
	uint64_t v = elem_read(e, st->cfg->elem_size / 8);

	if (v >= st->items) {
		stress_fail(st, "%s %u took an element no push wrote (word 0 %#"
			    PRIx64 ")", who, id, e[0]);
		return ~0ULL;
	}
	if (atomic_fetch_add(&st->seen[v], 1)) {
		stress_fail(st, "%s %u took item %" PRIu64 ", taken before", who,
			    id, v);
		return ~0ULL;
	}
	return v;
}

/*
 * The owner's items by stack depth: depth d holds the item pushed when
 * the owner held d items (counting those thieves may have taken). The
 * ones a thief may still find are at floor..depth - 1.
 */
struct owner {
	struct flow_state *st;
	struct lfq_wsdeque_worker w;
	uint64_t model[CAP_MAX];	/* the item of depth d at d % capacity */
	uint64_t depth, floor;
	uint64_t x;
};

/* One pop, checked: whether it took an item. */
static bool owner_pop(struct owner *o)
{
	struct flow_state *st = o->st;
	uint64_t e[ELEM_WORDS], v, want;
	int ret = lfq_wsdeque_pop(&o->w, e);

	if (ret == -EAGAIN) {
		/* thieves have taken all we had */
		o->floor = o->depth;
		count_add(&st->empty, 1);
		return false;
	}
	if (ret) {
		stress_fail(st, "owner: pop returned %d", ret);
		return false;
	}
	v = note_taken(st, e, "owner", 0);
	if (v == ~0ULL)
		return false;
	want = o->model[(o->depth - 1) % st->cfg->capacity];
	if (o->depth == o->floor || v != want) {
		stress_fail(st, "owner: popped item %" PRIu64 ", its newest was %"
			    PRIu64 "%s", v, want, o->depth == o->floor ?
			    ", and its deque was empty" : "");
		return false;
	}
	o->depth--;
	count_add(&st->popped, 1);
	return true;
}

/* Push item v: 0, -ENOSPC (checked), or a failure. */
static int owner_push(struct owner *o, uint64_t v)
{
	struct flow_state *st = o->st;
	uint32_t cap = st->cfg->capacity;
	uint64_t e[ELEM_WORDS];
	int ret;

	elem_write(e, st->cfg->elem_size / 8, v);
	ret = lfq_wsdeque_push(&o->w, e);
	if (ret == -ENOSPC && o->depth - o->floor < cap) {
		stress_fail(st, "owner: push of item %" PRIu64 " found the deque "
			    "full, holding at most %" PRIu64 " of %u", v,
			    o->depth - o->floor, cap);
		return -EPROTO;
	}
	if (ret)
		return ret;
	o->model[o->depth % cap] = v;
	o->depth++;
	if (o->depth - o->floor > cap)
		o->floor = o->depth - cap;
	return 0;
}

static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	struct flow_state *st = o->st;
	const struct flow_cfg *cfg = st->cfg;
	uint64_t next = 0;
	unsigned int k;
	int ret;

	/* a thief process needs a while to start: it must not miss the run */
	while (atomic_load(&st->thieves_ready) < st->thieves && !failed(st))
		sched_yield();
	while (next < st->items && !failed(st)) {
		ret = owner_push(o, next);
		if (ret == -ENOSPC) {
			count_add(&st->full, 1);
			/* full: take one back, or let the thieves make room */
			if (stress_rand(&o->x) % 2)
				owner_pop(o);
			else
				sched_yield();
			continue;
		}
		if (ret) {
			if (ret != -EPROTO)
				stress_fail(st, "owner: push returned %d", ret);
			break;
		}
		atomic_store_explicit(&st->pushed.n, ++next,
				      memory_order_relaxed);
		/* more thieves than CPUs: let each of them have a go */
		if (!(next % 64))
			sched_yield();
		if (stress_rand(&o->x) % cfg->pop_every)
			continue;
		for (k = 1 + stress_rand(&o->x) % 3; k && owner_pop(o); k--)
			;
	}
	/* the thieves may take some of these too */
	while (!failed(st) && owner_pop(o))
		;
	atomic_store(&st->owner_done, 1);
	return NULL;
}

struct thief {
	struct flow_state *st;
	struct lfq_ring *ring;		/* NULL: attach fd */
	int fd;
	unsigned int id;
	pthread_t tid;
};

/* Check and note one call's n elements in buf; false after a failure. */
static bool thief_took(struct flow_state *st, unsigned int id,
		       const uint64_t *buf, int n, uint64_t *next_min)
{
	unsigned int words = st->cfg->elem_size / 8;
	uint64_t v;
	int i;

	for (i = 0; i < n; i++) {
		v = note_taken(st, buf + (size_t)i * words, "thief", id);
		if (v == ~0ULL)
			return false;
		if (v < *next_min) {
			stress_fail(st, "thief %u: item %" PRIu64 " (%d of %d in "
				    "its call) after item %" PRIu64, id, v, i + 1,
				    n, *next_min - 1);
			return false;
		}
		*next_min = v + 1;
	}
	count_add(&st->stolen[id], (uint64_t)n);
	count_add(&st->calls[id], 1);
	return true;
}

static void *thief_thread(void *arg)
{
	struct thief *t = arg;
	struct flow_state *st = t->st;
	const struct flow_cfg *cfg = st->cfg;
	bool batch = cfg->thieves[t->id] == 'b';
	uint64_t buf[BATCH_MAX * ELEM_WORDS], next_min = 0;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (t->id + 1);
	struct lfq_ring *ring = t->ring;
	struct lfq_wsdeque_stealer s;
	unsigned int done, n;
	int ret;

	if (!ring && (ret = lfq_ring_attach(&ring, t->fd))) {
		stress_fail(st, "thief %u: attach: %d", t->id, ret);
		goto out;
	}
	ret = lfq_wsdeque_stealer(ring, &s);
	atomic_fetch_add(&st->thieves_ready, 1);
	while (!ret && !failed(st)) {
		/* empty once the owner is done means empty for good */
		done = atomic_load(&st->owner_done);
		n = batch ? 1 + stress_rand(&x) % cfg->batch : 1;
		ret = batch ? lfq_wsdeque_steal_batch(&s, buf, n) :
			      lfq_wsdeque_steal(&s, buf);
		if (!batch && !ret)
			ret = 1;
		if (ret > 0) {
			if ((unsigned int)ret > n ||
			    (unsigned int)ret > (cfg->capacity + 1) / 2) {
				stress_fail(st, "thief %u: a batch of %d, asked for "
					    "%u, of a deque of %u", t->id, ret, n,
					    cfg->capacity);
				break;
			}
			if (!thief_took(st, t->id, buf, ret, &next_min))
				break;
			/* a CPU for each of us: now and then, another's turn */
			if (!(stress_rand(&x) % 8))
				sched_yield();
			ret = 0;
		} else if (ret == -EBUSY) {
			count_add(&st->busy[t->id], 1);
			ret = 0;
		} else if (ret == -EAGAIN && !done) {
			sched_yield();
			ret = 0;
		}
	}
	if (ret && ret != -EAGAIN)
		stress_fail(st, "thief %u: steal returned %d", t->id, ret);
	if (lfq_ring_errors(ring))
		stress_fail(st, "thief %u: %" PRIu64 " ring errors", t->id,
			    lfq_ring_errors(ring));
	if (ring != t->ring)
		lfq_ring_destroy(ring);
out:
	atomic_fetch_add(&st->thieves_done, 1);
	return NULL;
}

/* Start the thieves, each with ring, or attaching fd if ring is NULL. */
static int start_thieves(struct flow_state *st, struct thief *t,
			 struct lfq_ring *ring, int fd)
{
	unsigned int i;

	for (i = 0; i < st->thieves; i++) {
		t[i] = (struct thief){ .st = st, .ring = ring, .fd = fd, .id = i };
		if (pthread_create(&t[i].tid, NULL, thief_thread, &t[i]))
			return -1;
	}
	return 0;
}

struct thief_process {
	struct flow_state *st;
	int fd;
};

/* The memfd and dev backends' thieves: 0, or 1 after a failure. */
static int thief_process(void *arg)
{
	struct thief_process *tp = arg;
	struct thief t[MAX_THIEVES];
	unsigned int i;

	if (start_thieves(tp->st, t, NULL, tp->fd)) {
		stress_fail(tp->st, "thief process: pthread_create");
		return 1;
	}
	for (i = 0; i < tp->st->thieves; i++)
		pthread_join(t[i].tid, NULL);
	return failed(tp->st) ? 1 : 0;
}

static uint64_t progress(struct flow_state *st)
{
	uint64_t sum = count_of(&st->pushed) + count_of(&st->popped);
	unsigned int i;

	for (i = 0; i < st->thieves; i++)
		sum += count_of(&st->stolen[i]);
	return sum;
}

/*
 * A hang or a dead thief process: say where everything stood and end
 * the test child now (threads may still sit in the deque).
 */
static void __attribute__((noreturn))
abort_run(struct __test_metadata *_metadata, struct flow_state *st,
	  pid_t child, const char *why)
{
	unsigned int i;

	TH_LOG("%s", why);
	TH_LOG("owner pushed %" PRIu64 " of %" PRIu64 ", popped %" PRIu64
	       ", done %u", count_of(&st->pushed), st->items,
	       count_of(&st->popped), atomic_load(&st->owner_done));
	for (i = 0; i < st->thieves; i++)
		TH_LOG("thief %u stole %" PRIu64, i, count_of(&st->stolen[i]));
	if (failed(st))
		TH_LOG("%u failures, first: %s", atomic_load(&st->failures.n),
		       st->failures.first);
	if (child > 0)
		kill(child, SIGKILL);
	fflush(stdout);
	fflush(stderr);
	_exit(KSFT_FAIL);
}

/*
 * Until the owner and every thief are done and the thief process, if
 * any, has exited 0, as long as items move.
 */
static void watch(struct __test_metadata *_metadata, struct flow_state *st,
		  pid_t child)
{
	double stall = stress_env_double("LFQ_STRESS_TIMEOUT", 10.0);
	double last = stress_now();
	uint64_t moved, seen = progress(st);
	int status;

	while (!atomic_load(&st->owner_done) ||
	       atomic_load(&st->thieves_done) < st->thieves || child > 0) {
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				abort_run(_metadata, st, 0,
					  "the thief process failed");
		}
		moved = progress(st);
		if (moved != seen) {
			seen = moved;
			last = stress_now();
			alarm((unsigned int)stall + 30);
		}
		if (stress_now() - last > stall)
			abort_run(_metadata, st, child, "watchdog: nothing moved "
				  "for LFQ_STRESS_TIMEOUT seconds");
		usleep(1000);
	}
}

/* Every item taken once: how many were never taken. */
static uint64_t missing(struct flow_state *st)
{
	uint64_t v, n = 0;

	for (v = 0; v < st->items; v++)
		n += !atomic_load_explicit(&st->seen[v], memory_order_relaxed);
	return n;
}

static void flow_run(struct __test_metadata *_metadata,
		     const struct flow_cfg *cfg, enum stress_backend b)
{
	const char *bname = stress_backend_names[b];
	struct thief thieves[MAX_THIEVES];
	struct lfq_ring *ring = NULL;
	struct lfq_wsdeque_stealer s;
	struct thief_process tp;
	struct flow_state *st;
	uint64_t items, stolen = 0, e[ELEM_WORDS];
	struct owner *o;
	pthread_t otid;
	size_t size;
	pid_t child = 0;
	unsigned int i;
	double t0, secs;

	if (!stress_backend_enabled(bname))
		SKIP(return, "%s: not in LFQ_TEST_BACKENDS", bname);
	ASSERT_LE(strlen(cfg->thieves), MAX_THIEVES);
	ASSERT_EQ(strlen(cfg->thieves), strspn(cfg->thieves, "sb"));
	ASSERT_EQ(0, cfg->elem_size % 8);
	ASSERT_LE(cfg->elem_size, ELEM_WORDS * 8);
	ASSERT_LE(cfg->batch, BATCH_MAX);
	ASSERT_LE(cfg->capacity, CAP_MAX);
	if (deque_create(_metadata, &ring, b, cfg->capacity, cfg->elem_size))
		return;

	items = (uint64_t)((double)cfg->items *
			   stress_env_double("LFQ_STRESS_SCALE", 1.0) /
			   SANITIZER_DIV + 0.5);
	if (items < 16ULL * cfg->capacity)
		items = 16ULL * cfg->capacity;
	size = sizeof(*st) + items;
	st = shared_alloc(size);
	ASSERT_NE(NULL, st);
	st->cfg = cfg;
	st->thieves = (unsigned int)strlen(cfg->thieves);
	st->items = items;
	o = calloc(1, sizeof(*o));
	ASSERT_NE(NULL, o);
	o->st = st;
	o->x = 0x2545f4914f6cdd1dULL;
	ASSERT_EQ(0, lfq_wsdeque_worker(ring, &o->w));

	alarm((unsigned int)stress_env_double("LFQ_STRESS_TIMEOUT", 10.0) + 30);
	t0 = stress_now();
	/* fork before any thread starts: the child gets only this one */
	if (b == STRESS_HEAP) {
		ASSERT_EQ(0, start_thieves(st, thieves, ring, -1));
	} else {
		tp = (struct thief_process){ .st = st, .fd = lfq_ring_fd(ring) };
		child = fork_body(thief_process, &tp);
		ASSERT_LE(0, child);
	}
	ASSERT_EQ(0, pthread_create(&otid, NULL, owner_thread, o));
	watch(_metadata, st, child);
	secs = stress_now() - t0;
	alarm(0);
	pthread_join(otid, NULL);
	for (i = 0; b == STRESS_HEAP && i < st->thieves; i++)
		pthread_join(thieves[i].tid, NULL);

	EXPECT_EQ(0, atomic_load(&st->failures.n))
		TH_LOG("first failure: %s", st->failures.first);
	EXPECT_EQ(items, count_of(&st->pushed));
	for (i = 0; i < st->thieves; i++)
		stolen += count_of(&st->stolen[i]);
	EXPECT_EQ(items, count_of(&st->popped) + stolen);
	EXPECT_EQ(0, missing(st));
	/* empty, and nothing corrupt */
	EXPECT_EQ(0, lfq_wsdeque_len(ring));
	ASSERT_EQ(0, lfq_wsdeque_stealer(ring, &s));
	EXPECT_EQ(-EAGAIN, lfq_wsdeque_steal(&s, e));
	EXPECT_EQ(-EAGAIN, lfq_wsdeque_pop(&o->w, e));
	EXPECT_EQ(0, lfq_ring_errors(ring));

	printf("# %s %s cap %u elem %u [%s]: %" PRIu64 " items in %.3f s: "
	       "owner popped %" PRIu64 " (found it empty %" PRIu64 ", full %"
	       PRIu64 ")", bname, cfg->thieves, cfg->capacity, cfg->elem_size,
	       SANITIZER, items, secs, count_of(&st->popped),
	       count_of(&st->empty), count_of(&st->full));
	for (i = 0; i < st->thieves; i++)
		printf(", thief %u stole %" PRIu64 " in %" PRIu64 " calls (lost %"
		       PRIu64 ")", i, count_of(&st->stolen[i]),
		       count_of(&st->calls[i]), count_of(&st->busy[i]));
	printf("\n");
	fflush(stdout);
	free(o);
	munmap(st, size);
	lfq_ring_destroy(ring);
}

FIXTURE(wsdeque_flow) {
	int unused;
};

FIXTURE_VARIANT(wsdeque_flow) {
	struct flow_cfg cfg;
};

FIXTURE_SETUP(wsdeque_flow) {}
FIXTURE_TEARDOWN(wsdeque_flow) {}

STRESS_BACKEND_TESTS(wsdeque_flow, flow_run, &variant->cfg)

#define K	1024ULL

#define VARIANT(name, t, cap, es, b, pops, n)				\
	FIXTURE_VARIANT_ADD(wsdeque_flow, name) {			\
		.cfg = {						\
			.thieves = (t), .capacity = (cap),		\
			.elem_size = (es), .batch = (b),		\
			.pop_every = (pops), .items = (n),		\
		},							\
	}

/* one thief: the owner's pops and the thief's steals meet in the middle */
VARIANT(s_c64_e8,	"s", 64, 8, 1, 4, 1000 * K);
/* a stealer and a batcher, a small deque often full and often empty */
VARIANT(sb_c4_e24,	"sb", 4, 24, 4, 3, 256 * K);
/* three thieves on two slots: every take races for the last ones */
VARIANT(sbb_c2_e64,	"sbb", 2, 64, 2, 8, 256 * K);
/* batchers on a big deque, the owner pushing ahead */
VARIANT(bbs_c256_e16,	"bbs", 256, 16, 16, 16, 512 * K);

/* ---- race: the last elements, the owner against one thief -------------- */

/*
 * Round r: the owner pushes k = 1 or 2 elements, items 2r and 2r + 1,
 * then pops once while the thief makes k attempts, steals or batches
 * of up to 2 (which take one: half of two, rounded up). The thief's
 * first attempt of a two takes the older item, its second races the
 * owner's pop for the newer one without the owner's CAS on top: there
 * only the fences F1 and F2 keep them from both taking it.
 */
static unsigned int race_elems(uint64_t r)
{
	return 1 + r % 4 / 2;
}

struct race_state {
	uint64_t rounds;
	_Atomic uint64_t arrived;	/* each side adds one per round */
	_Atomic uint64_t thief_round;	/* rounds the thief has finished */
	_Atomic int thief_ret;		/* the attempt it stopped at, or 0 */
	_Atomic unsigned int thief_took;
	_Atomic uint64_t thief_items[2];
	struct stress_failures failures;
};

static bool race_failed(struct race_state *st)
{
	return atomic_load_explicit(&st->failures.n, memory_order_relaxed);
}

/*
 * Until *v reaches want: false after a failure anywhere, or if nothing
 * moved for LFQ_STRESS_TIMEOUT seconds (the other side died).
 */
static bool race_await(struct race_state *st, _Atomic uint64_t *v,
		       uint64_t want)
{
	double deadline = 0;
	unsigned int spins = 0;

	/* spin a good while: a side that sleeps here is late for the race */
	while (atomic_load(v) < want) {
		if (++spins % 4096)
			continue;
		if (race_failed(st))
			return false;
		if (!deadline)
			deadline = stress_now() +
				   stress_env_double("LFQ_STRESS_TIMEOUT", 10.0);
		else if (stress_now() > deadline)
			return false;
		/* the other side may need this CPU */
		sched_yield();
	}
	return true;
}

/*
 * Up to max iterations of nothing, at random: which side comes first
 * varies. The owner, the last to arrive most rounds, waits longer.
 */
static void jitter(uint64_t *x, unsigned int max)
{
	volatile unsigned int i, n = stress_rand(x) % max;

	for (i = 0; i < n; i++)
		;
}

struct race_thief {
	struct race_state *st;
	struct lfq_ring *ring;		/* NULL: attach fd */
	int fd;
};

/* One attempt, a steal or a batch of up to 2: 0 if it took one element. */
static int race_take(struct lfq_wsdeque_stealer *s, uint64_t *e, bool batch)
{
	int ret;

	if (!batch)
		return lfq_wsdeque_steal(s, e);
	ret = lfq_wsdeque_steal_batch(s, e, 2);
	return ret == 1 ? 0 : ret;
}

/* The thief of every round: 0, or 1 after a failure. */
static int race_thief(void *arg)
{
	struct race_thief *rt = arg;
	struct race_state *st = rt->st;
	struct lfq_ring *ring = rt->ring;
	uint64_t e[2 * ELEM_WORDS], x = 0x9e3779b97f4a7c15ULL, r;
	struct lfq_wsdeque_stealer s;
	unsigned int took;
	int ret;

	if (!ring && (ret = lfq_ring_attach(&ring, rt->fd))) {
		stress_fail(st, "thief: attach: %d", ret);
		return 1;
	}
	ret = lfq_wsdeque_stealer(ring, &s);
	for (r = 0; !ret && r < st->rounds; r++) {
		atomic_fetch_add(&st->arrived, 1);
		if (!race_await(st, &st->arrived, 2 * (r + 1)))
			break;
		jitter(&x, 64);
		took = 0;
		do {
			ret = race_take(&s, e, r % 2);
			if (!ret)
				atomic_store(&st->thief_items[took++],
					     elem_read(e, 3));
		} while (!ret && took < race_elems(r));
		atomic_store(&st->thief_took, took);
		atomic_store(&st->thief_ret, ret);
		atomic_store(&st->thief_round, r + 1);
		ret = 0;
	}
	if (lfq_ring_errors(ring))
		stress_fail(st, "thief: %" PRIu64 " ring errors",
			    lfq_ring_errors(ring));
	if (ring != rt->ring)
		lfq_ring_destroy(ring);
	return ret || race_failed(st) ? 1 : 0;
}

static void *race_thief_thread(void *arg)
{
	race_thief(arg);
	return NULL;
}

/* Who took the newest element, and how the thief missed it. */
enum { OWNER_WON, OWNER_WON_CAS, THIEF_WON, OUTCOMES };

/*
 * Round r's outcome, the owner's pop having returned ret with e: the
 * owner got the newest item or -EAGAIN, the thief the oldest ones in
 * order, then -EAGAIN or -EBUSY or nothing more to try, and every item
 * of the round went to exactly one of them.
 */
static bool race_check(struct race_state *st, uint64_t r, int ret,
		       const uint64_t *e, uint64_t *outcomes)
{
	unsigned int k = race_elems(r), took = atomic_load(&st->thief_took);
	int tret = atomic_load(&st->thief_ret);
	uint64_t newest = 2 * r + k - 1, item;
	bool owner = !ret;
	unsigned int i;

	if ((!owner && ret != -EAGAIN) ||
	    (tret && tret != -EAGAIN && tret != -EBUSY) ||
	    owner + took != k) {
		stress_fail(st, "round %" PRIu64 ", %u elements: the owner's pop "
			    "returned %d, the thief took %u, then %d (%s)", r, k,
			    ret, took, tret, r % 2 ? "steal_batch" : "steal");
		return false;
	}
	if (owner && elem_read(e, 3) != newest) {
		stress_fail(st, "round %" PRIu64 ": the owner took item %" PRIu64
			    ", not %" PRIu64, r, elem_read(e, 3), newest);
		return false;
	}
	for (i = 0; i < took; i++) {
		item = atomic_load(&st->thief_items[i]);
		if (item != 2 * r + i) {
			stress_fail(st, "round %" PRIu64 ": the thief took item %"
				    PRIu64 ", not %" PRIu64, r, item, 2 * r + i);
			return false;
		}
	}
	outcomes[!owner ? THIEF_WON : tret == -EBUSY ? OWNER_WON_CAS :
		  OWNER_WON]++;
	return true;
}

static void race_run(struct __test_metadata *_metadata, enum stress_backend b)
{
	const char *bname = stress_backend_names[b];
	uint64_t e[ELEM_WORDS], r, x = 0xbf58476d1ce4e5b9ULL;
	uint64_t outcomes[OUTCOMES] = { 0 };
	struct lfq_wsdeque_worker w;
	struct lfq_ring *ring = NULL;
	struct race_thief rt;
	struct race_state *st;
	unsigned int i;
	pthread_t tid;
	pid_t child = 0;
	double t0, secs;
	int ret = 0, status;

	if (!stress_backend_enabled(bname))
		SKIP(return, "%s: not in LFQ_TEST_BACKENDS", bname);
	if (deque_create(_metadata, &ring, b, 2, 24))
		return;
	st = shared_alloc(sizeof(*st));
	ASSERT_NE(NULL, st);
	st->rounds = (uint64_t)(100000 * stress_env_double("LFQ_STRESS_SCALE",
							   1.0) /
				SANITIZER_DIV + 0.5);
	ASSERT_EQ(0, lfq_wsdeque_worker(ring, &w));

	alarm((unsigned int)stress_env_double("LFQ_STRESS_TIMEOUT", 10.0) + 30);
	t0 = stress_now();
	rt = (struct race_thief){ .st = st, .ring = b == STRESS_HEAP ? ring : NULL,
				  .fd = lfq_ring_fd(ring) };
	if (b == STRESS_HEAP) {
		ASSERT_EQ(0, pthread_create(&tid, NULL, race_thief_thread, &rt));
	} else {
		child = fork_body(race_thief, &rt);
		ASSERT_LE(0, child);
	}
	for (r = 0; r < st->rounds; r++) {
		for (i = 0; !ret && i < race_elems(r); i++) {
			elem_write(e, 3, 2 * r + i);
			ret = lfq_wsdeque_push(&w, e);
		}
		if (ret) {
			stress_fail(st, "round %" PRIu64 ": push returned %d", r,
				    ret);
			break;
		}
		atomic_fetch_add(&st->arrived, 1);
		if (!race_await(st, &st->arrived, 2 * (r + 1)))
			break;
		jitter(&x, 1024);
		memset(e, 0, sizeof(e));
		ret = lfq_wsdeque_pop(&w, e);
		if (!race_await(st, &st->thief_round, r + 1) ||
		    !race_check(st, r, ret, e, outcomes))
			break;
		ret = 0;
		if (lfq_wsdeque_len(ring)) {
			stress_fail(st, "round %" PRIu64 ": %" PRIu64 " left", r,
				    lfq_wsdeque_len(ring));
			break;
		}
	}
	if (r < st->rounds && !race_failed(st))
		stress_fail(st, "round %" PRIu64 ": the thief stopped coming", r);
	secs = stress_now() - t0;
	if (b == STRESS_HEAP) {
		pthread_join(tid, NULL);
	} else {
		if (race_failed(st))
			kill(child, SIGKILL);
		ASSERT_EQ(child, waitpid(child, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("the thief process failed: status %#x", status);
	}
	alarm(0);

	EXPECT_EQ(0, atomic_load(&st->failures.n))
		TH_LOG("first failure: %s", st->failures.first);
	EXPECT_EQ(st->rounds, outcomes[OWNER_WON] + outcomes[OWNER_WON_CAS] +
			      outcomes[THIEF_WON]);
	EXPECT_EQ(0, lfq_ring_errors(ring));
	printf("# %s [%s]: %" PRIu64 " rounds in %.3f s, the newest element "
	       "to the owner %" PRIu64 " times (the thief found none %" PRIu64
	       ", lost its CAS %" PRIu64 "), to the thief %" PRIu64 "\n", bname,
	       SANITIZER, st->rounds, secs,
	       outcomes[OWNER_WON] + outcomes[OWNER_WON_CAS],
	       outcomes[OWNER_WON], outcomes[OWNER_WON_CAS],
	       outcomes[THIEF_WON]);
	fflush(stdout);
	munmap(st, sizeof(*st));
	lfq_ring_destroy(ring);
}

FIXTURE(wsdeque_race) {
	int unused;
};

FIXTURE_SETUP(wsdeque_race) {}
FIXTURE_TEARDOWN(wsdeque_race) {}

STRESS_BACKEND_TESTS(wsdeque_race, race_run)

TEST_HARNESS_MAIN
