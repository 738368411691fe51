// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the work-stealing deque (LFQ_RING_WSDEQUE) on /dev/lfq
 * and with the kernel peer lfq_test.ko, run in the VM
 * (selftests/dev/vm-check.sh) with both modules loaded; every test skips
 * when /dev/lfq (or /dev/lfq_test) is absent.
 *
 *   abi         LFQ_IOC_CREATE with policy 0 and no other, LFQ_IOC_INFO
 *               against liblfq's layout (slots without a header at
 *               LFQ_WSDEQUE_SLOTS_OFF, no claim records), the ring region
 *               as the module formats it, elements where the uapi header
 *               puts them, top and bottom as fdinfo shows them, poll
 *   kthieves    a user owner pushes and pops while the peer's kernel
 *               threads steal from the top (one at a time or in batches,
 *               beside thieves in other processes): between them every
 *               item is taken exactly once, counted by both sides and
 *               summed by check word, and each thief's in FIFO order
 *   dead owner  a deque whose owner was killed with items in it: kernel
 *               thieves still take every item
 *   bad input   garbage in top and bottom while kernel thieves steal: the
 *               kernel validates the span, counts the error and takes
 *               nothing; once the words are sane again it takes every
 *               item, once
 *
 * Items are lfq_test_item.h items of producer 0, seq 0..items-1. The
 * owner marks what it pops, and what user thieves steal, in a bitmap in
 * shared memory; the kernel job marks what its thieves steal in its own.
 * Nothing waits on a guess: every wait is for a state the test can see
 * (a length, an error count), with a timeout.
 *
 *   wsdeque_dev_test [NAME...]   run the tests whose name contains a NAME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"
#include "lfq_dev_util.h"

#define ELEM		32U
#define CAP		64U
#define MAX_USER_THIEVES 4

/* ---- what the user side took ------------------------------------------- */

/*
 * Shared by the owner and the user thief processes: a bit per item, the
 * sum of the check words taken, counts, and the thieves' stop flag.
 */
struct took {
	unsigned long long items, taken, sum, bad, dup, misordered;
	unsigned long long stolen[MAX_USER_THIEVES];
	int stop;
	unsigned char seen[];
};

static struct took *took_alloc(unsigned long long items)
{
	size_t size = sizeof(struct took) + (items + 7) / 8;
	struct took *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (t == MAP_FAILED)
		return NULL;
	t->items = items;
	return t;
}

static void took_free(struct took *t)
{
	munmap(t, sizeof(struct took) + (t->items + 7) / 8);
}

/* One item the user side took; *last is the taker's last seq (FIFO check). */
static void took_item(struct took *t, const void *elem, long long *last)
{
	struct lfq_test_item it = lfq_test_item_get(elem);
	unsigned char bit;

	if (lfq_test_item_bad(elem, ELEM, 1) || it.seq >= t->items) {
		__atomic_add_fetch(&t->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	bit = 1U << (it.seq & 7);
	if (__atomic_fetch_or(&t->seen[it.seq / 8], bit, __ATOMIC_RELAXED) & bit)
		__atomic_add_fetch(&t->dup, 1, __ATOMIC_RELAXED);
	if (last) {
		if ((long long)it.seq <= *last)
			__atomic_add_fetch(&t->misordered, 1, __ATOMIC_RELAXED);
		*last = it.seq;
	}
	__atomic_add_fetch(&t->taken, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->sum, it.check, __ATOMIC_RELAXED);
}

/* The sum of the check words of items 0..items-1. */
static unsigned long long check_sum(unsigned long long items)
{
	unsigned long long s, sum = 0;

	for (s = 0; s < items; s++)
		sum += lfq_test_check(0, s);
	return sum;
}

/*
 * The two sides took every item exactly once between them: the job's
 * thieves saw nothing wrong, the counts add up, the items the job never
 * saw are those the user side took, and the check words add up.
 */
#define EXPECT_EXACTLY_ONCE(r, t) do {					\
	EXPECT_EQ(0, (r).error);					\
	EXPECT_EQ(0ULL, (r).malformed);					\
	EXPECT_EQ(0ULL, (r).duplicates);				\
	EXPECT_EQ(0ULL, (r).misordered);				\
	EXPECT_EQ(0ULL, (r).ring_errors);				\
	EXPECT_EQ(0ULL, (t)->bad);					\
	EXPECT_EQ(0ULL, (t)->dup);					\
	EXPECT_EQ(0ULL, (t)->misordered);				\
	EXPECT_EQ((t)->items, (r).moved + (t)->taken);			\
	EXPECT_EQ((t)->taken, (r).missing);				\
	EXPECT_EQ(check_sum((t)->items), (r).checksum + (t)->sum);	\
} while (0)

/* ---- the deque ---------------------------------------------------------- */

/* A deque on /dev/lfq, its handles, and its header mapped raw. */
struct deque {
	struct lfq_ring *ring;
	struct lfq_wsdeque_worker w;
	struct lfq_wsdeque_stealer s;
	struct lfq_raw_map m;
	struct lfq_wsdeque_hdr *hdr;
};

static int deque_open(struct deque *d, unsigned int capacity)
{
	struct lfq_create c = raw_params(LFQ_RING_WSDEQUE, 0, capacity, ELEM);
	int ret;

	memset(d, 0, sizeof(*d));
	d->m.fd = -1;
	ret = lfq_ring_create(&d->ring, &c, LFQ_MEM_DEV);
	if (ret)
		return ret;
	ret = lfq_wsdeque_worker(d->ring, &d->w) ?:
	      lfq_wsdeque_stealer(d->ring, &d->s) ?:
	      lfq_raw_map_fd(&d->m, fcntl(lfq_ring_fd(d->ring), F_DUPFD_CLOEXEC, 0));
	d->hdr = (void *)d->m.region;
	return ret;
}

static void deque_close(struct deque *d)
{
	lfq_raw_unmap(&d->m);
	lfq_ring_destroy(d->ring);
}

static int push_seq(struct deque *d, unsigned long long seq)
{
	unsigned char e[ELEM];

	lfq_test_item_make(e, ELEM, 0, seq);
	return lfq_wsdeque_push(&d->w, e);
}

/* The owner pops one item into t: 0, or -EAGAIN when empty. */
static int pop_into(struct deque *d, struct took *t)
{
	unsigned char e[ELEM];
	int ret = lfq_wsdeque_pop(&d->w, e);

	if (!ret)
		took_item(t, e, NULL);
	return ret;
}

/* Wait until the deque holds at most len items: 0, or -ETIMEDOUT. */
static int wait_len_at_most(struct deque *d, unsigned long long len)
{
	long long end = now_ms() + WAIT_MS;

	while (lfq_wsdeque_len(d->ring) > len) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/* A job of threads kernel thieves on the deque, taking up to burst a call. */
static int kthieves_start(struct deque *d, unsigned int threads,
			  unsigned long long items, unsigned int burst,
			  unsigned int flags)
{
	struct lfq_test_job j = job_params(lfq_ring_fd(d->ring),
					   LFQ_TEST_CONSUME, threads, 1, items,
					   burst);

	j.flags = flags;
	return job_start(&j);
}

/* Stop the thieves (the owner has drained the deque) and get their result. */
static int kthieves_stop(int job, struct lfq_test_result *r)
{
	if (ioctl(job, LFQ_TEST_IOC_STOP))
		return -errno;
	return job_wait(job, r);
}

/*
 * A fixture's deque of capacity slots and its struct took for items. The
 * 6.1 harness runs a test even when its setup skipped, so the setup opens
 * them only with the peer there, and each test starts with REQUIRE_PEER().
 */
static void deque_setup(struct __test_metadata *_metadata, struct deque *d,
			struct took **t, unsigned int capacity,
			unsigned long long items)
{
	if (access("/dev/lfq", F_OK) || access("/dev/lfq_test", F_OK))
		return;
	ASSERT_EQ(0, deque_open(d, capacity));
	*t = took_alloc(items);
	ASSERT_NE(NULL, *t);
}

static void deque_teardown(struct deque *d, struct took *t)
{
	if (t)
		took_free(t);
	if (d->ring)
		deque_close(d);
}

/* ---- abi ---------------------------------------------------------------- */

TEST(wsdeque_create_takes_policy_0_and_no_other)
{
	static const struct bad_create bad[] = {
		{ "policy 1", { .type = 5, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "policy ~0", { .type = 5, .capacity = 4, .elem_size = 8, .policy = ~0U }, -EINVAL },
		{ "flag bit 0", { .type = 5, .capacity = 4, .elem_size = 8, .flags = 1 }, -EINVAL },
		{ "capacity 1", { .type = 5, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 12", { .type = 5, .capacity = 12, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 5, .capacity = 4, .elem_size = 0 }, -EINVAL },
	};
	static const struct lfq_create good[] = {
		{ .type = 5, .capacity = 2, .elem_size = 1 },
		{ .type = 5, .capacity = 1024, .elem_size = 4000 },
	};

	REQUIRE_DEV();
	expect_creates(_metadata, bad, ARRAY_SIZE(bad), good, ARRAY_SIZE(good));
	expect_policies(_metadata, LFQ_RING_WSDEQUE, 1, ELEM);
}

/*
 * LFQ_IOC_INFO, the descriptor and liblfq's own layout agree: slots of
 * the element alone, in whole lines, from LFQ_WSDEQUE_SLOTS_OFF, and no
 * claim records (thieves and the owner leave nothing behind to repair).
 */
TEST(wsdeque_info_is_liblfqs_layout)
{
	static const struct lfq_create rings[] = {
		{ .type = 5, .capacity = 64, .elem_size = ELEM },
		{ .type = 5, .capacity = 2, .elem_size = 1 },
		{ .type = 5, .capacity = 1024, .elem_size = 4000 },
	};
	unsigned long long stride, psz = getpagesize();
	struct lfq_ring *dev, *heap;
	struct lfq_raw_map m;
	struct lfq_info info;
	unsigned int i;

	REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(rings); i++) {
		const struct lfq_create *c = &rings[i];

		stride = (c->elem_size + 63) / 64 * 64;
		ASSERT_EQ(0, lfq_raw_map_fd(&m, raw_create(c)));
		memset(&info, 0xa5, sizeof(info));
		ASSERT_EQ(0, ioctl(m.fd, LFQ_IOC_INFO, &info));
		EXPECT_EQ(LFQ_MAGIC, info.magic);
		EXPECT_EQ(LFQ_ABI_VERSION, info.abi_version);
		EXPECT_EQ(LFQ_RING_WSDEQUE, info.type);
		EXPECT_EQ(c->capacity, info.capacity);
		EXPECT_EQ(c->elem_size, info.elem_size);
		EXPECT_EQ(0, info.policy);
		EXPECT_EQ(stride, info.slot_stride);
		EXPECT_EQ(LFQ_WSDEQUE_SLOTS_OFF, info.slots_off);
		EXPECT_EQ(0, info.nr_claims);
		EXPECT_EQ(0, info.claims_off);
		EXPECT_EQ((LFQ_WSDEQUE_SLOTS_OFF + c->capacity * stride + psz - 1) &
			  ~(psz - 1), info.ring_size);
		EXPECT_EQ(0, memcmp(&m.desc->info, &info, sizeof(info)));
		EXPECT_EQ(0, m.desc->errors);
		lfq_raw_unmap(&m);

		ASSERT_EQ(0, lfq_ring_create(&dev, c, LFQ_MEM_DEV));
		ASSERT_EQ(0, lfq_ring_create(&heap, c, LFQ_MEM_HEAP));
		expect_same_layout(_metadata, c, dev, heap);
		lfq_ring_destroy(heap);
		lfq_ring_destroy(dev);
	}
}

/* The value of the fdinfo line that starts with key, or LLONG_MIN. */
static long long fdinfo_value(int fd, const char *key)
{
	char text[4096], *p;

	fdinfo(fd, text, sizeof(text));
	p = strstr(text, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : LLONG_MIN;
}

/*
 * The module formats the region zero (top = bottom = 0); liblfq writes
 * the element of position p in slot p & (capacity - 1), whole, and moves
 * bottom on a push or pop and top on a steal, as fdinfo shows too; poll
 * says POLLIN while the deque holds an element and POLLOUT while it has
 * room.
 */
TEST(wsdeque_elements_top_and_bottom_are_where_the_uapi_says)
{
	const unsigned int cap = 4;
	unsigned char e[ELEM], want[ELEM];
	unsigned long long p;
	struct deque d;
	size_t i;

	REQUIRE_DEV();
	ASSERT_EQ(0, deque_open(&d, cap));
	for (i = 0; i < d.m.info.ring_size; i++)
		if (d.m.region[i])
			break;
	EXPECT_EQ(d.m.info.ring_size, i);
	EXPECT_EQ(POLLOUT, poll_now(d.m.fd));

	/* 6 pushes on a 4-slot deque with steals between: slots wrap */
	for (p = 0; p < 6; p++) {
		ASSERT_EQ(0, push_seq(&d, p));
		EXPECT_EQ((long long)p + 1, d.hdr->bottom);
		lfq_test_item_make(want, ELEM, 0, p);
		EXPECT_EQ(0, memcmp(lfq_raw_slot(&d.m, p), want, ELEM));
		if (p == 2 || p == 3) {
			ASSERT_EQ(0, lfq_wsdeque_steal(&d.s, e));
			EXPECT_EQ(p - 2, lfq_test_item_get(e).seq);
		}
	}
	EXPECT_EQ(2, d.hdr->top);
	EXPECT_EQ(6, d.hdr->bottom);
	EXPECT_EQ(2, fdinfo_value(d.m.fd, "lfq-top:\t"));
	EXPECT_EQ(6, fdinfo_value(d.m.fd, "lfq-bottom:\t"));
	/* full */
	EXPECT_EQ(-ENOSPC, push_seq(&d, 6));
	EXPECT_EQ(POLLIN, poll_now(d.m.fd));
	ASSERT_EQ(0, lfq_wsdeque_pop(&d.w, e));
	EXPECT_EQ(5, lfq_test_item_get(e).seq);
	EXPECT_EQ(5, d.hdr->bottom);
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(d.m.fd));
	/* the last one is taken through top, by either side */
	while (!lfq_wsdeque_pop(&d.w, e))
		;
	EXPECT_EQ(d.hdr->top, d.hdr->bottom);
	EXPECT_EQ(POLLOUT, poll_now(d.m.fd));
	EXPECT_EQ(0, d.m.desc->errors);
	deque_close(&d);
}

/* ---- kernel thieves ----------------------------------------------------- */

/*
 * User thief processes: steal (in batches of burst) until the owner says
 * stop, marking what they took in the shared struct took.
 */
static int user_thief(struct deque *d, struct took *t, unsigned int id,
		      unsigned int burst)
{
	unsigned char e[LFQ_TEST_MAX_BURST * ELEM];
	long long last = -1;
	int i, ret;

	for (;;) {
		ret = burst > 1 ? lfq_wsdeque_steal_batch(&d->s, e, burst) :
		      lfq_wsdeque_steal(&d->s, e) ?: 1;
		if (ret == -EAGAIN && __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
			return 0;
		if (ret == -EAGAIN || ret == -EBUSY) {
			sched_yield();
			continue;
		}
		if (ret < 0)
			return 1;
		for (i = 0; i < ret; i++)
			took_item(t, e + i * ELEM, &last);
		t->stolen[id] += ret;
	}
}

FIXTURE(kthieves) {
	struct deque d;
	struct took *t;
};

FIXTURE_VARIANT(kthieves) {
	unsigned int capacity;
	unsigned int kthreads;		/* kernel thieves */
	unsigned int burst;		/* > 1: steal_batch, kernel and user */
	unsigned int uthieves;		/* user thief processes */
	unsigned int pop_every;		/* the owner pops after every n pushes */
	bool wait_when_full;		/* the owner waits for thieves, not pops */
	unsigned long long items;
};

/* The owner never pops until the end: everything before goes to thieves. */
FIXTURE_VARIANT_ADD(kthieves, one_kthread_owner_waits_when_full) {
	.capacity = CAP, .kthreads = 1, .burst = 1, .wait_when_full = true,
	.items = 20000,
};

FIXTURE_VARIANT_ADD(kthieves, three_kthreads_owner_pops_every_4th) {
	.capacity = CAP, .kthreads = 3, .burst = 1, .pop_every = 4,
	.wait_when_full = true, .items = 50000,
};

FIXTURE_VARIANT_ADD(kthieves, two_kthreads_steal_batch_of_8) {
	.capacity = CAP, .kthreads = 2, .burst = 8, .pop_every = 3,
	.wait_when_full = true, .items = 50000,
};

/* Two slots: nearly every take races for the last element. */
FIXTURE_VARIANT_ADD(kthieves, capacity_2_owner_pops_when_full) {
	.capacity = 2, .kthreads = 2, .burst = 1, .pop_every = 2,
	.items = 50000,
};

FIXTURE_VARIANT_ADD(kthieves, two_kthreads_beside_two_thief_processes) {
	.capacity = CAP, .kthreads = 2, .burst = 4, .uthieves = 2,
	.pop_every = 5, .wait_when_full = true, .items = 50000,
};

FIXTURE_SETUP(kthieves)
{
	deque_setup(_metadata, &self->d, &self->t, variant->capacity,
		    variant->items);
}

FIXTURE_TEARDOWN(kthieves)
{
	deque_teardown(&self->d, self->t);
}

/*
 * The owner pushes items 0..items-1 and pops one after every pop_every
 * pushes; on a full deque it waits for the thieves to take one (or pops
 * one itself). Then it drains the deque, stops the thieves and checks
 * that every item was taken exactly once, by someone.
 */
TEST_F_TIMEOUT(kthieves, every_item_is_taken_exactly_once_by_someone, 120)
{
	struct took *t = self->t;
	struct lfq_test_result r;
	pid_t pid[MAX_USER_THIEVES];
	unsigned long long seq, ustolen = 0;
	unsigned int i;
	int job, ret, status;

	REQUIRE_PEER();
	job = kthieves_start(&self->d, variant->kthreads, variant->items,
			     variant->burst, 0);
	ASSERT_LE(0, job);
	for (i = 0; i < variant->uthieves; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			_exit(user_thief(&self->d, t, i, variant->burst));
	}
	for (seq = 0; seq < variant->items;) {
		ret = push_seq(&self->d, seq);
		if (!ret) {
			seq++;
			if (variant->pop_every && !(seq % variant->pop_every))
				pop_into(&self->d, t);
		} else if (ret == -ENOSPC && variant->wait_when_full) {
			ASSERT_EQ(0, wait_len_at_most(&self->d, variant->capacity - 1));
		} else {
			ASSERT_EQ(-ENOSPC, ret);
			/* empty already if the thieves came first */
			ret = pop_into(&self->d, t);
			ASSERT_TRUE(!ret || ret == -EAGAIN);
		}
	}
	while (!pop_into(&self->d, t))
		;
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < variant->uthieves; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		ustolen += t->stolen[i];
	}
	ASSERT_EQ(0, kthieves_stop(job, &r));
	LOG_RESULT("kernel thieves", r);
	TH_LOG("owner popped %llu, user thieves stole %llu",
	       t->taken - ustolen, ustolen);
	EXPECT_EXACTLY_ONCE(r, t);
	EXPECT_EQ(0, lfq_wsdeque_len(self->d.ring));
	/* while the deque was full only thieves could make room */
	if (variant->wait_when_full)
		EXPECT_LT(0ULL, r.moved + ustolen);
	EXPECT_EQ(0, self->d.m.desc->errors);
}

/* A deque of CAP slots and a struct took for CAP items. */
FIXTURE(full) {
	struct deque d;
	struct took *t;
};

FIXTURE_SETUP(full)
{
	deque_setup(_metadata, &self->d, &self->t, CAP, CAP);
}

FIXTURE_TEARDOWN(full)
{
	deque_teardown(&self->d, self->t);
}

/*
 * The peer's jobs on a deque are thieves: a produce job, reserve and
 * commit, interrupt producers and sequencer stamps are refused; a
 * thief job that nobody feeds ends when stopped, with nothing taken.
 */
TEST_F(full, peer_jobs_on_a_deque_are_thieves_only)
{
	static const struct {
		const char *what;
		unsigned int role, flags;
	} bad[] = {
		{ "produce", LFQ_TEST_PRODUCE, 0 },
		{ "reserve", LFQ_TEST_CONSUME, LFQ_TEST_F_RESERVE },
		{ "irq", LFQ_TEST_CONSUME, LFQ_TEST_F_IRQ },
		{ "stamp", LFQ_TEST_CONSUME, LFQ_TEST_F_STAMP },
	};
	struct lfq_test_result r;
	struct lfq_test_job j;
	unsigned int i;
	int job;

	REQUIRE_PEER();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		j = job_params(lfq_ring_fd(self->d.ring), bad[i].role, 1, 1,
			       CAP, 1);
		j.flags = bad[i].flags;
		job = job_start(&j);
		if (job >= 0)
			close(job);
		EXPECT_EQ(-EINVAL, job)
			TH_LOG("%s", bad[i].what);
	}
	job = kthieves_start(&self->d, 2, CAP, 4, 0);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, kthieves_stop(job, &r));
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(0ULL, r.moved);
	EXPECT_EQ((unsigned long long)CAP, r.missing);
	EXPECT_EQ(0ULL, r.checksum);
}

/*
 * An owner killed with items in its deque: the deque lives on in the
 * module (the creator still holds it), and kernel thieves take them all.
 */
TEST_F_TIMEOUT(full, a_dead_owners_items_all_go_to_kernel_thieves, 60)
{
	struct deque *d = &self->d;
	const unsigned long long n = CAP;
	struct lfq_test_result r;
	unsigned long long seq;
	int *pushed, job;
	pid_t pid;

	REQUIRE_PEER();
	pushed = mmap(NULL, sizeof(*pushed), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pushed);
	*pushed = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (seq = 0; seq < n; seq++)
			if (push_seq(d, seq))
				_exit(1);
		__atomic_store_n(pushed, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, wait_u32_nonzero((__u32 *)pushed, WAIT_MS));
	kill9(_metadata, pid);
	munmap(pushed, sizeof(*pushed));

	job = kthieves_start(d, 2, n, 1, 0);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_len_at_most(d, 0));
	ASSERT_EQ(0, kthieves_stop(job, &r));
	LOG_RESULT("kernel thieves", r);
	EXPECT_EXACTLY_ONCE(r, self->t);
	EXPECT_EQ(n, r.moved);
}

/* ---- bad input ----------------------------------------------------------- */

#define GARBLE_KTHREADS	2

/* Whether a thief would take from top..bottom: bottom - top in 1..CAP. */
static bool span_takes(long long top, long long bottom)
{
	return (unsigned long long)bottom - top - 1 < CAP;
}

/*
 * Write the garbage top and bottom one at a time, so that no thief can
 * take an item (and move top) in between: first the word after which
 * there is nothing to take.
 */
static void garble_span(struct __test_metadata *_metadata,
			struct lfq_wsdeque_hdr *hdr, long long top,
			long long bottom)
{
	if (!span_takes(top, hdr->bottom)) {
		__atomic_store_n(&hdr->top, top, __ATOMIC_RELAXED);
		__atomic_store_n(&hdr->bottom, bottom, __ATOMIC_RELAXED);
	} else {
		ASSERT_FALSE(span_takes(hdr->top, bottom));
		__atomic_store_n(&hdr->bottom, bottom, __ATOMIC_RELAXED);
		__atomic_store_n(&hdr->top, top, __ATOMIC_RELAXED);
	}
}

/*
 * Wait until a thief counted an error in a look that began after the
 * caller's snapshot errors: each thief may have had one look at the old
 * words in flight, so GARBLE_KTHREADS + 1 more. 0 or -ETIMEDOUT.
 */
static int wait_fresh_error(const struct deque *d, unsigned long long errors)
{
	return wait_u64_ge(&d->m.desc->errors, errors + GARBLE_KTHREADS + 1,
			   WAIT_MS);
}

/*
 * While kernel thieves steal, the owner writes each kind of garbage into
 * top or bottom in turn: a span past the capacity, a negative span, and
 * positions far apart. Each time the kernel counts an error and takes
 * nothing. Once the words are sane again, the thieves take every item,
 * once, and the job never saw a malformed or repeated one.
 */
TEST_F_TIMEOUT(full, garbage_top_and_bottom_are_counted_and_nothing_is_taken, 60)
{
	const long long n = 8;
	const struct {
		const char *what;
		long long top, bottom;
	} bad[] = {
		{ "bottom a capacity and one past top", 0, CAP + 1 },
		{ "bottom below top", 0, -5 },
		{ "top above bottom", n + 3, n },
		{ "bottom at the far end", 0, LLONG_MAX },
		{ "top at the far end", LLONG_MIN, n },
	};
	struct deque *d = &self->d;
	struct lfq_test_result r;
	unsigned long long errors;
	unsigned int i;
	long long seq;
	int job;

	REQUIRE_PEER();
	for (seq = 0; seq < n; seq++)
		ASSERT_EQ(0, push_seq(d, seq));
	/* the garbage goes in before the thieves come */
	garble_span(_metadata, d->hdr, bad[0].top, bad[0].bottom);
	job = kthieves_start(d, GARBLE_KTHREADS, n, 1, 0);
	ASSERT_LE(0, job);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errors = d->m.desc->errors;
		garble_span(_metadata, d->hdr, bad[i].top, bad[i].bottom);
		EXPECT_EQ(0, wait_fresh_error(d, errors))
			TH_LOG("%s: no error counted", bad[i].what);
		EXPECT_EQ(bad[i].top, d->hdr->top)
			TH_LOG("%s: a thief moved top", bad[i].what);
	}
	/* the last garbage left bottom at n: with top 0 it is sane again */
	ASSERT_EQ(n, d->hdr->bottom);
	__atomic_store_n(&d->hdr->top, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, wait_len_at_most(d, 0));
	ASSERT_EQ(0, kthieves_stop(job, &r));
	LOG_RESULT("kernel thieves", r);
	EXPECT_EQ(0, r.error);
	EXPECT_EQ((unsigned long long)n, r.moved);
	EXPECT_EQ(0ULL, r.malformed);
	EXPECT_EQ(0ULL, r.duplicates);
	EXPECT_EQ(0ULL, r.misordered);
	EXPECT_LE((unsigned long long)ARRAY_SIZE(bad), r.ring_errors);
	EXPECT_EQ(check_sum(n), r.checksum);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		filter_tests(argc - 1, argv + 1);
	return test_harness_run(argc, argv);
}
