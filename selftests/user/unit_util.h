/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the unit tests of liblfq's rings (vyukov_unit.c,
 * turn_unit.c, mpsc_unit.c, seq_unit.c): rings of the type under test
 * on every backend, with their shared words in reach; the checks that
 * read the same for every ring type (a memfd's descriptor page,
 * wait_begin/wait_end, refused parameters); the hand-off threads of the
 * wake-up tests and the echo between two processes on memfd rings.
 *
 * The including file defines _GNU_SOURCE and, for its ring type:
 *
 *   UNIT_TYPE		LFQ_RING_VYUKOV, LFQ_RING_TURN, LFQ_RING_MPSC or
 *			LFQ_RING_SEQ
 *   UNIT_HDR		the ring region's header, struct lfq_<type>_hdr
 *   UNIT_PUSH(r, e)	the blocking push and pop, waiting as long as
 *   UNIT_POP(r, e)	it takes; 0 or a negative errno
 *
 * ASSERT_*() in a helper that takes _metadata ends the whole test.
 */
#ifndef LFQ_UNIT_UTIL_H
#define LFQ_UNIT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"

#if !defined(UNIT_TYPE) || !defined(UNIT_HDR) || !defined(UNIT_PUSH) || \
	!defined(UNIT_POP)
#error "define UNIT_TYPE, UNIT_HDR, UNIT_PUSH and UNIT_POP first"
#endif

#define HANDOFFS	2000

static struct lfq_create ring_params(uint32_t capacity, uint32_t elem_size)
{
	struct lfq_create p = {
		.type = UNIT_TYPE,
		.capacity = capacity,
		.elem_size = elem_size,
	};

	return p;
}

static struct lfq_ring *ring_new(uint32_t capacity, uint32_t elem_size,
				 enum lfq_mem mem)
{
	struct lfq_create p = ring_params(capacity, elem_size);
	struct lfq_ring *r = NULL;

	if (lfq_ring_create(&r, &p, mem))
		return NULL;
	return r;
}

static const enum lfq_mem both_mems[] = { LFQ_MEM_HEAP, LFQ_MEM_MEMFD };

/*
 * A ring whose shared words the test can reach: in caller memory
 * (T_MEM), or a memfd ring mapped a second time (T_MEMFD), or a heap
 * ring where it cannot (T_HEAP, hdr NULL). The ring region's header is
 * at info->desc_size, the slots at info->slots_off inside it.
 */
enum { T_HEAP, T_MEMFD, T_MEM, T_KINDS };

static const char *const kind_names[] = {
	[T_HEAP] = "heap", [T_MEMFD] = "memfd", [T_MEM] = "caller memory",
};

struct test_ring {
	struct lfq_ring *ring;
	const struct lfq_info *info;
	UNIT_HDR *hdr;			/* NULL for T_HEAP */
	void *mem;			/* T_MEM: the caller memory */
	void *map;			/* T_MEMFD: our own mapping */
	size_t map_size;
};

/* A ring of kind made with the creation parameters p (a policy, say). */
static int test_ring_create(struct test_ring *t, int kind,
			    const struct lfq_create *p)
{
	ssize_t size;
	int ret;

	memset(t, 0, sizeof(*t));
	switch (kind) {
	case T_MEM:
		size = lfq_ring_mem_size(p);
		if (size < 0)
			return (int)size;
		if (posix_memalign(&t->mem, 4096, (size_t)size))
			return -ENOMEM;
		ret = lfq_ring_create_mem(&t->ring, p, t->mem, (size_t)size);
		if (ret) {
			free(t->mem);
			t->mem = NULL;
			return ret;
		}
		t->info = lfq_ring_info(t->ring);
		t->hdr = (void *)((uint8_t *)t->mem + t->info->desc_size);
		return 0;
	case T_MEMFD:
	case T_HEAP:
		ret = lfq_ring_create(&t->ring, p,
				      kind == T_HEAP ? LFQ_MEM_HEAP :
						       LFQ_MEM_MEMFD);
		if (ret)
			return ret;
		t->info = lfq_ring_info(t->ring);
		if (kind == T_HEAP)
			return 0;
		t->map_size = t->info->desc_size + t->info->ring_size;
		t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, lfq_ring_fd(t->ring), 0);
		if (t->map == MAP_FAILED) {
			t->map = NULL;
			return -errno;
		}
		t->hdr = (void *)((uint8_t *)t->map + t->info->desc_size);
		return 0;
	}
	return -EINVAL;
}

static int test_ring_new(struct test_ring *t, int kind, uint32_t capacity,
			 uint32_t elem_size)
{
	struct lfq_create p = ring_params(capacity, elem_size);

	return test_ring_create(t, kind, &p);
}

static void test_ring_free(struct test_ring *t)
{
	lfq_ring_destroy(t->ring);
	if (t->map)
		munmap(t->map, t->map_size);
	free(t->mem);
}

/*
 * A new memfd ring describes itself in its first page, sealed against
 * shrinking and growing under a peer's mapping; *desc gets that page's
 * start.
 */
static void expect_memfd_describes_itself(struct __test_metadata *_metadata,
					  struct lfq_ring *r,
					  struct lfq_desc *desc)
{
	const struct lfq_info *i = lfq_ring_info(r);
	int fd = lfq_ring_fd(r), seals;
	struct stat st;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, i->desc_off);
	EXPECT_EQ(i->desc_size, i->ring_off);
	ASSERT_EQ(sizeof(*desc), pread(fd, desc, sizeof(*desc), 0));
	EXPECT_EQ(0, memcmp(&desc->info, i, sizeof(*i)));
	EXPECT_EQ(0, desc->errors);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(i->desc_size + i->ring_size, (uint64_t)st.st_size);
	/* a peer must not be able to shrink it under our mapping */
	seals = fcntl(fd, F_GET_SEALS);
	EXPECT_TRUE(seals & F_SEAL_SHRINK);
	EXPECT_TRUE(seals & F_SEAL_GROW);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/*
 * A new memfd ring *a, made with p, describes itself, its policy and its
 * claim records included, and a handle *b attached to it agrees on the
 * geometry. Inline: for the ring types that have claim records.
 */
static inline void memfd_ring_attached(struct __test_metadata *_metadata,
				       const struct lfq_create *p,
				       struct lfq_ring **a, struct lfq_ring **b)
{
	struct lfq_desc desc;

	ASSERT_EQ(0, lfq_ring_create(a, p, LFQ_MEM_MEMFD));
	expect_memfd_describes_itself(_metadata, *a, &desc);
	EXPECT_EQ(p->policy, desc.info.policy);
	EXPECT_EQ(LFQ_CLAIMS, desc.info.nr_claims);
	ASSERT_EQ(0, lfq_ring_attach(b, lfq_ring_fd(*a)));
	EXPECT_EQ(0, memcmp(lfq_ring_info(*a), lfq_ring_info(*b),
			    sizeof(struct lfq_info)));
}

/*
 * On an empty ring with its header in reach: lfq_ring_wait_begin()
 * counts a waiter on each condition asked for and reports the events
 * ready already (POLLOUT, not POLLIN), lfq_ring_wait_end() uncounts them.
 */
static void expect_wait_counts_on_empty(struct __test_metadata *_metadata,
					const struct test_ring *t)
{
	EXPECT_EQ(0, lfq_ring_wait_begin(t->ring, POLLIN));
	EXPECT_EQ(1, t->hdr->not_empty.waiters);
	EXPECT_EQ(0, t->hdr->not_full.waiters);
	lfq_ring_wait_end(t->ring, POLLIN);
	EXPECT_EQ(0, t->hdr->not_empty.waiters);
	EXPECT_EQ(POLLOUT, lfq_ring_wait_begin(t->ring, POLLIN | POLLOUT));
	EXPECT_EQ(1, t->hdr->not_empty.waiters);
	EXPECT_EQ(1, t->hdr->not_full.waiters);
	lfq_ring_wait_end(t->ring, POLLIN | POLLOUT);
}

/*
 * Events that are no wait condition: lfq_ring_wait_begin() refuses them
 * and lfq_ring_wait_end() ignores them; no waiter is left counted.
 */
static void expect_wait_refuses_other_events(struct __test_metadata *_metadata,
					     const struct test_ring *t)
{
	EXPECT_EQ(-EINVAL, lfq_ring_wait_begin(t->ring, 0));
	EXPECT_EQ(-EINVAL, lfq_ring_wait_begin(t->ring, POLLIN | POLLERR));
	lfq_ring_wait_end(t->ring, POLLERR);
	EXPECT_EQ(0, t->hdr->not_empty.waiters);
	EXPECT_EQ(0, t->hdr->not_full.waiters);
}

/* Every way to make a ring must refuse p with want. */
static void expect_all_refuse(struct __test_metadata *_metadata,
			      const struct lfq_create *p, int want)
{
	struct lfq_ring *r = NULL;
	static uint8_t mem[1 << 16] __attribute__((aligned(4096)));

	EXPECT_EQ(want, lfq_ring_create(&r, p, LFQ_MEM_HEAP));
	EXPECT_EQ(want, lfq_ring_create(&r, p, LFQ_MEM_MEMFD));
	EXPECT_EQ(want, lfq_ring_mem_size(p));
	EXPECT_EQ(want, lfq_ring_create_mem(&r, p, mem, sizeof(mem)));
	EXPECT_EQ(NULL, r);
}

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (uint32_t)((*x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Until a sleeper has announced itself in the wait word waiters. */
static void wait_for_sleeper(uint32_t *waiters)
{
	while (!__atomic_load_n(waiters, __ATOMIC_SEQ_CST))
		sched_yield();
}

/*
 * One side sleeps in a blocking call, the other makes it ready. The main
 * thread moves item i only once the helper has finished with item i - 1,
 * so every round the helper has to wait: with no delay (the race window
 * of the need-wakeup flag), a short random delay (spinning or asleep), or
 * until it has announced itself in waiters (caller and memfd memory,
 * where the test sees the header).
 */
struct handoff {
	struct lfq_ring *ring;
	unsigned int n;
	_Atomic unsigned int done;	/* items the helper has moved */
	_Atomic unsigned int bad;
	pthread_t tid;
};

/* Pops items 0..n-1, in order. */
static void *handoff_popper(void *arg)
{
	struct handoff *h = arg;
	uint64_t v;
	unsigned int i;

	for (i = 0; i < h->n; i++) {
		if (UNIT_POP(h->ring, &v) || v != i)
			atomic_fetch_add(&h->bad, 1);
		atomic_store(&h->done, i + 1);
	}
	return NULL;
}

/* Pushes items 2..n+1: the main thread pushes 0 and 1 first. */
static void *handoff_pusher(void *arg)
{
	struct handoff *h = arg;
	uint64_t v;
	unsigned int i;

	for (i = 0; i < h->n; i++) {
		v = i + 2;
		if (UNIT_PUSH(h->ring, &v))
			atomic_fetch_add(&h->bad, 1);
		atomic_store(&h->done, i + 1);
	}
	return NULL;
}

/* Start helper, handoff_popper or handoff_pusher, on HANDOFFS items. */
static int handoff_start(struct handoff *h, struct lfq_ring *ring,
			 void *(*helper)(void *))
{
	memset(h, 0, sizeof(*h));
	h->ring = ring;
	h->n = HANDOFFS;
	return pthread_create(&h->tid, NULL, helper, h);
}

/*
 * Before the main thread moves item i: until the helper is done with
 * item i - 1, then until it announced a sleep on waiters (odd i, if
 * waiters is not NULL), or no delay, or a random one.
 */
static void handoff_wait(struct handoff *h, unsigned int i,
			 uint32_t *waiters, uint64_t *x)
{
	while (atomic_load(&h->done) < i)
		sched_yield();
	if (waiters && i % 2) {
		wait_for_sleeper(waiters);
		if (i % 4 == 3)
			usleep(100);	/* well inside futex_wait by now */
		return;
	}
	switch (rnd(x) % 4) {
	case 0:
		break;
	case 1:
		sched_yield();
		break;
	default:
		usleep(rnd(x) % 200);
	}
}

/* Wait for the helper to finish: the number of items it got wrong. */
static unsigned int handoff_join(struct handoff *h)
{
	pthread_join(h->tid, NULL);
	return atomic_load(&h->bad);
}

/*
 * The child's side of echo_across_fork(): pop item i from in and push ~i
 * back on out, HANDOFFS times. Its exit status: 0, 3 (a pop failed or
 * returned another item) or 4 (a push failed).
 */
static int echo_items(struct lfq_ring *in, struct lfq_ring *out)
{
	uint64_t v, i;

	for (i = 0; i < HANDOFFS; i++) {
		if (UNIT_POP(in, &v) || v != i)
			return 3;
		v = ~v;
		if (UNIT_PUSH(out, &v))
			return 4;
	}
	return 0;
}

/*
 * Across processes on the memfd rings to and from: a forked child
 * attaches their inherited fds (exit status 2 if it cannot) and exits
 * with what child(in, out) returns, echo_items() or a wrapper of it. The
 * parent pushes each item after a random pause or none, waits in a
 * blocking pop for its echo, and at the end for the child to exit 0.
 */
static void echo_across_fork(struct __test_metadata *_metadata,
			     struct lfq_ring *to, struct lfq_ring *from,
			     int (*child)(struct lfq_ring *in,
					  struct lfq_ring *out))
{
	uint64_t x = 3, v, i;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_ring *in, *out;
		int ret;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (lfq_ring_attach(&in, lfq_ring_fd(to)) ||
		    lfq_ring_attach(&out, lfq_ring_fd(from)))
			_exit(2);
		ret = child(in, out);
		if (ret)
			_exit(ret);
		lfq_ring_destroy(in);
		lfq_ring_destroy(out);
		_exit(0);
	}
	for (i = 0; i < HANDOFFS; i++) {
		if (rnd(&x) % 2)
			usleep(rnd(&x) % 200);
		ASSERT_EQ(0, UNIT_PUSH(to, &i));
		ASSERT_EQ(0, UNIT_POP(from, &v));
		ASSERT_EQ(~i, v);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

#endif /* LFQ_UNIT_UTIL_H */
