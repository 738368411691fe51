// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the turn ring (LFQ_RING_TURN) on /dev/lfq and with the
 * kernel peer lfq_test.ko, run in the VM (selftests/dev/vm-check.sh) with
 * both modules loaded; every test skips when /dev/lfq (or /dev/lfq_test)
 * is absent.
 *
 *   abi         LFQ_IOC_INFO and the descriptor (claim records), the
 *               formatted ring region, mmap bounds, fdinfo, poll
 *   join        LFQ_IOC_JOIN: record indexes, 64 then EBUSY, a released
 *               record is reused, EOPNOTSUPP on Vyukov rings, bad
 *               pointers, the lfq-claim fdinfo line, liblfq's
 *               lfq_ring_join()
 *   wait        LFQ_IOC_WAIT: bad requests, a stale seq, timeouts, wake-ups
 *               by LFQ_IOC_WAKE and by kernel threads, signals
 *   transfers   user threads (blocking, try + poll, reserve/commit) ->
 *               kernel threads and back, and process <-> process, on
 *               small rings so that both sides sleep and wake each other
 *   repair      the claim protocol emulated through the raw ABI: records
 *               in every state, tickets taken by hand, the joined fd
 *               closed: what the module counts, that consumers pass over a
 *               dead producer's hole, that a dead consumer's slot goes back
 *               to the producers, repairs deferred until their slot comes
 *               round, garbage states
 *   kill -9     real deaths: a child holding a producer or a consumer
 *               ticket (reserved, or blocked in push/pop) is SIGKILLed; the
 *               others finish, exactly one ticket is repaired; a SIGSTOPped
 *               ticket holder makes kernel jobs time out, never hang, and
 *               after SIGCONT everything goes through
 *   scribbler   random and targeted garbage over head, tail, turns, wait
 *               words and claim records while kernel threads use the ring
 *               and participants join and leave: the kernel survives (the
 *               VM fails the run on any oops or warning), the jobs end by
 *               their deadline, the corruption is counted, and another
 *               ring stays exact
 *
 * Items are lfq_test_item.h items on both sides; consumers check that each
 * is well-formed, seen once, in order per producer, and that none is lost
 * (or, where a consumer was killed, that exactly its item is missing).
 * Nothing waits on a guess: children report over pipes, sleepers are
 * seen asleep (/proc state, need-wakeup words, claim records), and the
 * asynchronous repair is awaited with a timeout.
 *
 *   turn_dev_test [NAME...]        run the tests whose name contains a NAME
 *   turn_dev_test hold-repair FILE keep a turn ring whose dead participant's
 *                                  repair is still pending, create FILE,
 *                                  sleep until killed (vm-check.sh: rmmod
 *                                  is refused meanwhile, and the pending
 *                                  repair dies with the ring)
 *   turn_dev_test claim-window     single-step a joined participant's
 *                                  push (ptrace): its claim record must
 *                                  never name a ticket it does not hold
 *   turn_dev_test waiters-leak     kill -9 a participant asleep in the
 *                                  ring: it must not stay counted in the
 *                                  need-wakeup word
 *
 * The last two exit 0 when all is well, 1 on the bug they were written
 * to catch, 3 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"
#include "lfq_dev_util.h"

/* A repair retries with backoff up to a second: this is lost. */
#define REPAIR_MS	5000

/* ---- helpers --------------------------------------------------------------- */

static struct lfq_create turn(unsigned int capacity, unsigned int elem_size)
{
	return raw_params(LFQ_RING_TURN, 0, capacity, elem_size);
}

/* LFQ_IOC_WAIT on the ring behind fd: 0 or -errno. */
static int raw_wait(int fd, __u32 dir, __u32 seq, int timeout_ms)
{
	struct lfq_wait_req req = {
		.dir = dir, .seq = seq, .timeout_ms = timeout_ms,
	};

	return ioctl(fd, LFQ_IOC_WAIT, &req) ? -errno : 0;
}

/* A turn ring seen through the raw ABI: its fd and both mappings. */
struct raw {
	struct lfq_raw_map m;
	struct lfq_turn_hdr *hdr;
	struct lfq_claim *claims;
};

/* Map the turn ring behind fd, which r owns from now on: 0 or -errno. */
static int raw_map(struct raw *r, int fd)
{
	int ret = lfq_raw_map_fd(&r->m, fd);

	r->hdr = (void *)r->m.region;
	r->claims = lfq_raw_claims(&r->m);
	return ret;
}

/* A new turn ring, mapped: 0 or -errno. */
static int raw_open(struct raw *r, unsigned int capacity, unsigned int elem)
{
	struct lfq_create c = turn(capacity, elem);

	return raw_map(r, raw_create(&c));
}

static void raw_close(struct raw *r)
{
	lfq_raw_unmap(&r->m);
}

static __u64 *raw_turn(const struct raw *r, __u64 pos)
{
	return lfq_raw_slot(&r->m, pos);
}

static void *raw_elem(const struct raw *r, __u64 pos)
{
	return (unsigned char *)raw_turn(r, pos) + LFQ_TURN_SLOT_HDR;
}

/* 2 * lap of ticket pos: the turn at which its producer may write. */
static __u64 lap2(const struct raw *r, __u64 pos)
{
	return pos / r->m.info.capacity * 2;
}

/* Write claim record rec as a participant does: pos, then state. */
static void raw_claim(struct raw *r, __u32 rec, __u32 state, __u64 pos)
{
	__atomic_store_n(&r->claims[rec].pos, pos, __ATOMIC_RELAXED);
	st32(&r->claims[rec].state, state);
}

/* Take a producer or consumer ticket by hand, as liblfq's blocking calls. */
static __u64 take_head(struct raw *r)
{
	return __atomic_fetch_add(&r->hdr->head, 1, __ATOMIC_RELAXED);
}

static __u64 take_tail(struct raw *r)
{
	return __atomic_fetch_add(&r->hdr->tail, 1, __ATOMIC_RELAXED);
}

/*
 * A participant emulated by hand takes a ticket: it joins (closing the fd
 * it gets is its death), takes a producer ticket (state LFQ_CLAIM_PUSH)
 * or a consumer ticket (LFQ_CLAIM_POP) and claims it in its record. The
 * joined fd, or -errno; the record in *rec, the ticket in *t.
 */
static int raw_take(struct raw *r, __u32 state, __u32 *rec, __u64 *t)
{
	int j = raw_join(r->m.fd, rec);

	if (j < 0)
		return j;
	*t = state == LFQ_CLAIM_PUSH ? take_head(r) : take_tail(r);
	raw_claim(r, *rec, state, *t);
	return j;
}

/* Push item (producer, seq) by hand at a ticket we hold. */
static void raw_publish(struct raw *r, __u64 pos, __u32 producer, __u64 seq)
{
	lfq_test_item_make(raw_elem(r, pos), r->m.info.elem_size, producer, seq);
	st64(raw_turn(r, pos), lap2(r, pos) + 1);
}

/* Wait up to ms for *p to become want: 0, or -ETIMEDOUT. */
/* The state letter of a task in /proc (R, S, T, ...), or 0. */
/* Wait until task tid of process pid sleeps (S): 0, or -ETIMEDOUT. */
/* The text of /proc/self/fdinfo/fd. */
/* The repair counters of a ring's descriptor, all at once. */
#define EXPECT_REPAIRS(desc, sk, dr, un, er) do {			\
	EXPECT_EQ((__u64)(sk), ld64(&(desc)->skipped));			\
	EXPECT_EQ((__u64)(dr), ld64(&(desc)->dropped));			\
	EXPECT_EQ((__u64)(un), ld64(&(desc)->unresolved));		\
	EXPECT_EQ((__u64)(er), ld64(&(desc)->errors));			\
} while (0)

/* ---- user participants ------------------------------------------------------ */

/* How a user thread pushes and pops. */
enum umode {
	U_BLOCK,	/* lfq_turn_push/pop: a ticket, then wait for its turn */
	U_TRY,		/* try_ forms, poll() on the ring fd when they fail */
	U_RESERVE,	/* push_reserve/pop_reserve, in place, and commit */
};

/* try_ until it works, sleeping in poll() after announcing ourselves. */
static int try_wait(struct lfq_ring *h, short ev)
{
	struct pollfd pfd = { .fd = lfq_ring_fd(h), .events = ev };
	int n = 1;

	if (lfq_ring_wait_begin(h, ev) == 0)
		n = poll(&pfd, 1, WAIT_MS);
	lfq_ring_wait_end(h, ev);
	return n == 0 ? -ETIMEDOUT : 0;
}

static int user_push(struct lfq_ring *h, enum umode m, const void *elem,
		     unsigned int size)
{
	struct lfq_turn_ref ref;
	int ret;

	switch (m) {
	case U_BLOCK:
		return lfq_turn_push(h, elem);
	case U_RESERVE:
		ret = lfq_turn_push_reserve(h, &ref);
		if (ret)
			return ret;
		memcpy(ref.elem, elem, size);
		return lfq_turn_push_commit(h, &ref);
	case U_TRY:
		for (;;) {
			ret = lfq_turn_try_push(h, elem);
			if (ret != -ENOSPC)
				return ret;
			ret = try_wait(h, POLLOUT);
			if (ret)
				return ret;
		}
	}
	return -EINVAL;
}

static int user_pop(struct lfq_ring *h, enum umode m, void *elem,
		    unsigned int size)
{
	struct lfq_turn_ref ref;
	int ret;

	switch (m) {
	case U_BLOCK:
		return lfq_turn_pop(h, elem);
	case U_RESERVE:
		ret = lfq_turn_pop_reserve(h, &ref);
		if (ret)
			return ret;
		memcpy(elem, ref.elem, size);
		return lfq_turn_pop_commit(h, &ref);
	case U_TRY:
		for (;;) {
			ret = lfq_turn_try_pop(h, elem);
			if (ret != -EAGAIN)
				return ret;
			ret = try_wait(h, POLLIN);
			if (ret)
				return ret;
		}
	}
	return -EINVAL;
}

/* A participant's own handle on the ring behind fd, joined: 0 or -errno. */
/*
 * One side of a transfer: user threads, each with its own joined handle,
 * producing or consuming lfq_test_item.h items. Every pause_every items
 * the side stops (a writer lock that its threads take for reading around
 * each call) until it sees the kernel side asleep in the need-wakeup word
 * kernel_wait, then goes on: the next call must wake the kernel side.
 */
struct side {
	int fd;
	enum umode mode;
	struct lfq_wait *kernel_wait;
	pthread_rwlock_t gate;
	unsigned int threads, producers, elem_size, capacity;
	unsigned int producer_base;	/* id of producer thread 0 */
	unsigned long long items;	/* per producer */
	unsigned long long pause_every;
	unsigned char *seen;		/* consumers: producers * items */
	unsigned long long consumed;
	unsigned long long next_pause;
	unsigned int kernel_slept;
	bool kernel_done;
	int error;
	char why[160];
};

struct side_thread {
	struct side *s;
	unsigned int index;
	pthread_t tid;
};

static void side_fail(struct side *s, int err, const char *fmt, ...)
{
	va_list ap;
	int zero = 0;

	if (!__atomic_compare_exchange_n(&s->error, &zero, err ? err : -EBADMSG,
					 false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static void side_init(struct side *s, int fd, enum umode mode,
		      unsigned int threads, unsigned int elem_size,
		      unsigned int capacity, unsigned long long items,
		      unsigned long long pause_every)
{
	pthread_rwlockattr_t attr;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->mode = mode;
	s->threads = threads;
	s->elem_size = elem_size;
	s->capacity = capacity;
	s->items = items;
	s->pause_every = pause_every;
	s->next_pause = pause_every;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->gate, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* Stop the other user threads, and wait to see the kernel side asleep. */
static void side_pause(struct side *s)
{
	long long end;

	if (!s->kernel_wait)
		return;
	pthread_rwlock_wrlock(&s->gate);
	for (end = now_ms() + 2000; now_ms() < end; usleep(100)) {
		if (__atomic_load_n(&s->kernel_done, __ATOMIC_RELAXED))
			break;
		if (ld32(&s->kernel_wait->waiters)) {
			s->kernel_slept++;
			break;
		}
	}
	pthread_rwlock_unlock(&s->gate);
}

static void *side_producer(void *arg)
{
	struct side_thread *t = arg;
	struct side *s = t->s;
	unsigned char *buf = calloc(1, s->elem_size);
	unsigned long long seq;
	struct lfq_ring *h;
	int ret;

	if (!buf)
		return NULL;
	ret = participant(&h, s->fd);
	if (ret) {
		side_fail(s, ret, "producer %u: join: %s", t->index, strerror(-ret));
		free(buf);
		return NULL;
	}
	for (seq = 0; seq < s->items; seq++) {
		if (__atomic_load_n(&s->error, __ATOMIC_RELAXED))
			break;
		lfq_test_item_make(buf, s->elem_size, s->producer_base + t->index,
				   seq);
		pthread_rwlock_rdlock(&s->gate);
		ret = user_push(h, s->mode, buf, s->elem_size);
		pthread_rwlock_unlock(&s->gate);
		if (ret) {
			side_fail(s, ret, "producer %u: push of seq %llu: %s",
				  t->index, seq, strerror(-ret));
			break;
		}
		/* not after the last: the kernel side may be done by then */
		if (t->index == 0 && s->pause_every &&
		    (seq + 1) % s->pause_every == 0 && seq + 1 < s->items)
			side_pause(s);
	}
	lfq_ring_destroy(h);
	free(buf);
	return NULL;
}

/*
 * Whichever consumer first sees the shared count pass the next mark
 * pauses, and only while the producers still have more than a ring's
 * worth to push, so that they must fill the ring and sleep.
 */
static bool consumer_should_pause(struct side *s)
{
	unsigned long long total = s->items * s->producers;
	unsigned long long c = __atomic_load_n(&s->consumed, __ATOMIC_RELAXED);
	unsigned long long mark = __atomic_load_n(&s->next_pause, __ATOMIC_RELAXED);

	if (!s->pause_every || c < mark || c + s->capacity >= total)
		return false;
	return __atomic_compare_exchange_n(&s->next_pause, &mark,
					   c + s->pause_every, false,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Check one popped item against everything seen: 0 or -EBADMSG. */
static int side_check(struct side *s, unsigned int index, long long *last,
		      const void *elem)
{
	struct lfq_test_item it = lfq_test_item_get(elem);

	if (lfq_test_item_bad(elem, s->elem_size, s->producers) ||
	    it.seq >= s->items) {
		side_fail(s, -EBADMSG, "consumer %u: malformed item (producer %u seq %llu)",
			  index, it.producer, (unsigned long long)it.seq);
		return -EBADMSG;
	}
	if ((long long)it.seq <= last[it.producer]) {
		side_fail(s, -EBADMSG, "consumer %u: producer %u seq %llu after %lld",
			  index, it.producer, (unsigned long long)it.seq,
			  last[it.producer]);
		return -EBADMSG;
	}
	last[it.producer] = it.seq;
	if (__atomic_exchange_n(&s->seen[it.producer * s->items + it.seq], 1,
				__ATOMIC_RELAXED)) {
		side_fail(s, -EBADMSG, "consumer %u: producer %u seq %llu twice",
			  index, it.producer, (unsigned long long)it.seq);
		return -EBADMSG;
	}
	__atomic_add_fetch(&s->consumed, 1, __ATOMIC_RELAXED);
	return 0;
}

static void *side_consumer(void *arg)
{
	struct side_thread *t = arg;
	struct side *s = t->s;
	unsigned char *buf = calloc(1, s->elem_size);
	long long last[LFQ_TEST_MAX_PRODUCERS];
	struct lfq_ring *h;
	int ret, i;

	if (!buf)
		return NULL;
	for (i = 0; i < LFQ_TEST_MAX_PRODUCERS; i++)
		last[i] = -1;
	ret = participant(&h, s->fd);
	if (ret) {
		side_fail(s, ret, "consumer %u: join: %s", t->index, strerror(-ret));
		free(buf);
		return NULL;
	}
	for (;;) {
		pthread_rwlock_rdlock(&s->gate);
		ret = user_pop(h, s->mode, buf, s->elem_size);
		pthread_rwlock_unlock(&s->gate);
		if (ret) {
			side_fail(s, ret, "consumer %u: pop: %s", t->index,
				  strerror(-ret));
			break;
		}
		if (is_stop(buf))
			break;
		if (side_check(s, t->index, last, buf))
			break;
		if (consumer_should_pause(s))
			side_pause(s);
	}
	lfq_ring_destroy(h);
	free(buf);
	return NULL;
}

static int side_start(struct side *s, struct side_thread *t,
		      void *(*fn)(void *))
{
	unsigned int i;

	for (i = 0; i < s->threads; i++) {
		t[i] = (struct side_thread){ .s = s, .index = i };
		if (pthread_create(&t[i].tid, NULL, fn, &t[i]))
			return -1;
	}
	return 0;
}

static void side_join(struct side *s, struct side_thread *t)
{
	unsigned int i;

	for (i = 0; i < s->threads; i++)
		pthread_join(t[i].tid, NULL);
}

/* Push one stop marker per consumer thread through h. */
static int side_stop_consumers(struct side *s, struct lfq_ring *h)
{
	unsigned char *stop = calloc(1, s->elem_size);
	unsigned int i;
	int ret = 0;

	if (!stop)
		return -ENOMEM;
	make_stop(stop, s->elem_size);
	for (i = 0; i < s->threads && !ret; i++)
		ret = lfq_turn_push(h, stop);
	free(stop);
	return ret;
}

/* How many of the side's items were never seen. */
static unsigned long long side_missing(const struct side *s)
{
	unsigned long long n, missing = 0;

	for (n = 0; n < s->items * s->producers; n++)
		missing += !s->seen[n];
	return missing;
}

/* ---- the ring fd ------------------------------------------------------------ */

TEST(turn_info_and_descriptor_describe_the_ring)
{
	unsigned long long stride = LFQ_STRIDE(LFQ_TURN_SLOT_HDR, 100);
	struct lfq_create c = turn(64, 100);
	struct lfq_info info;
	struct raw r;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	expect_info(_metadata, fd, &c, LFQ_TURN_SLOTS_OFF, stride,
		    sizeof(struct lfq_claim), &info);

	ASSERT_EQ(0, raw_map(&r, fd));
	EXPECT_EQ(0, memcmp(&r.m.desc->info, &info, sizeof(info)));
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	EXPECT_EQ(0, r.m.desc->__resv0 | r.m.desc->__resv1[0] | r.m.desc->__resv1[6]);
	raw_close(&r);
}

/* Head, tail, wait words, every turn and every claim record start at 0. */
TEST(turn_ring_region_starts_zeroed_with_claims_at_the_end)
{
	size_t psz = getpagesize(), i;
	struct raw r;
	void *p;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 8, ITEM));
	for (i = 0; i < r.m.info.ring_size; i++)
		if (r.m.region[i])
			break;
	EXPECT_EQ(r.m.info.ring_size, i);
	/* the last record is in the mapping, nothing lies beyond it */
	EXPECT_GE(r.m.info.ring_size, r.m.info.claims_off +
		  r.m.info.nr_claims * sizeof(struct lfq_claim));
	EXPECT_EQ(0, r.claims[LFQ_CLAIMS - 1].state);
	p = mmap(NULL, r.m.info.ring_size + psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED, r.m.fd, LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	raw_close(&r);
}

/* liblfq computes the kernel's layout for heap and memfd turn rings too. */
TEST(turn_layout_is_the_same_on_every_backend)
{
	struct lfq_create c = turn(32, 200);
	struct lfq_ring *dev, *heap;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&dev, &c, LFQ_MEM_DEV));
	ASSERT_EQ(0, lfq_ring_create(&heap, &c, LFQ_MEM_HEAP));
	expect_same_layout(_metadata, &c, dev, heap);
	lfq_ring_destroy(heap);
	lfq_ring_destroy(dev);
}

TEST(turn_create_rejects_bad_parameters)
{
	static const struct bad_create bad[] = {
		{ "policy 1", { .type = 2, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "flag bit 0", { .type = 2, .flags = 1, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "__pad", { .type = 2, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "__resv[1]", { .type = 2, .capacity = 4, .elem_size = 8, .__resv = { 0, 1 } }, -EINVAL },
		{ "capacity 1", { .type = 2, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 24", { .type = 2, .capacity = 24, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 2, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "element size max+1", { .type = 2, .capacity = 4, .elem_size = LFQ_ELEM_MAX + 1 }, -EINVAL },
		{ "2^30 slots", { .type = 2, .capacity = LFQ_CAPACITY_MAX, .elem_size = 8 }, -E2BIG },
		/* the claim records count: 2^20 64-byte slots are exactly 64 MiB */
		{ "64 MiB of slots + claims", { .type = 2, .capacity = 1U << 20, .elem_size = 56 }, -E2BIG },
	};
	static const struct lfq_create good[] = {
		{ .type = 2, .capacity = 2, .elem_size = 1 },
		{ .type = 2, .capacity = 4, .elem_size = LFQ_ELEM_MAX },
	};

	REQUIRE_DEV();
	expect_creates(_metadata, bad, ARRAY_SIZE(bad), good, ARRAY_SIZE(good));
}

TEST(turn_fdinfo_shows_positions_and_repairs)
{
	char text[1024], elem[ITEM] = { 0 };
	struct lfq_create c = turn(64, ITEM);
	struct lfq_ring *ring;
	int i;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, lfq_turn_try_push(ring, elem));
	ASSERT_EQ(0, lfq_turn_try_pop(ring, elem));
	fdinfo(lfq_ring_fd(ring), text, sizeof(text));
	TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "lfq-type:\tturn\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-capacity:\t64\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-slot-stride:\t64\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-head:\t3\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-tail:\t1\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-errors:\t0\n"));
	EXPECT_NE(NULL, strstr(text,
		"lfq-repaired:\t0 skipped 0 dropped 0 unresolved\n"));
	EXPECT_EQ(NULL, strstr(text, "lfq-claim:"));	/* not a joined fd */
	lfq_ring_destroy(ring);
}

/* poll: readable when the slot at tail holds its item, writable at head. */
TEST(turn_poll_follows_the_slots_at_head_and_tail)
{
	struct lfq_create c = turn(2, ITEM);
	char elem[ITEM] = { 0 };
	struct lfq_turn_ref ref;
	struct lfq_ring *ring;
	struct pollfd pfd;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	pfd = (struct pollfd){ .fd = lfq_ring_fd(ring), .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	/* a reservation: the tail's item is not there yet */
	ASSERT_EQ(0, lfq_turn_try_push_reserve(ring, &ref));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, lfq_turn_push_commit(ring, &ref));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(0, lfq_turn_try_push(ring, elem));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	/* a consumer holds slot 0: empty at tail, and still not writable */
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(ring, &ref));
	ASSERT_EQ(0, lfq_turn_try_pop(ring, elem));
	pfd.events = POLLIN | POLLOUT;
	EXPECT_EQ(0, poll(&pfd, 1, 10));
	ASSERT_EQ(0, lfq_turn_pop_commit(ring, &ref));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	lfq_ring_destroy(ring);
}

/* The peer's jobs on turn rings: what it takes and what it refuses. */
TEST(peer_takes_turn_rings_and_reserve_only_there)
{
	struct lfq_create vy = {
		.type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = ITEM,
	}, c = turn(4, ITEM), small = turn(4, ITEM - 1);
	struct lfq_test_result res;
	struct lfq_test_job j;
	int fd, fdv, fd8, job;

	REQUIRE_PEER();
	fd = raw_create(&c);
	fdv = raw_create(&vy);
	fd8 = raw_create(&small);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fdv);
	ASSERT_LE(0, fd8);
	j = job_params(fdv, LFQ_TEST_PRODUCE, 1, 0, 4, 1);
	j.flags = LFQ_TEST_F_RESERVE;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* in place: turn rings only */
	j.ring_fd = fd8;
	j.flags = 0;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* items do not fit */
	j.ring_fd = fd;
	j.flags = 1U << 2;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* unknown flag */
	j.flags = LFQ_TEST_F_RESERVE | LFQ_TEST_F_SURVIVE_EIO;
	j.burst = 3;
	alarm(20);
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(4, res.moved);		/* a full ring */
	j = job_params(fd, LFQ_TEST_CONSUME, 1, 1, 4, LFQ_TEST_MAX_BURST);
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EXACT(res, 4);
	close(fd8);
	close(fdv);
	close(fd);
}

/* ---- LFQ_IOC_JOIN ----------------------------------------------------------- */

TEST(join_hands_out_every_record_once_then_ebusy)
{
	int fd, j[LFQ_CLAIMS], extra, k;
	struct lfq_info info, jinfo;
	char text[1024], want[32];
	__u32 rec;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	fd = r.m.fd;
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	rec = ~0U;
	j[0] = raw_join(fd, &rec);
	ASSERT_LE(0, j[0]);
	EXPECT_EQ(0, rec);
	EXPECT_NE(fd, j[0]);
	EXPECT_TRUE(fcntl(j[0], F_GETFD) & FD_CLOEXEC);
	/* the joined fd is a ring fd of the same ring */
	ASSERT_EQ(0, ioctl(j[0], LFQ_IOC_INFO, &jinfo));
	EXPECT_EQ(0, memcmp(&info, &jinfo, sizeof(info)));
	fdinfo(j[0], text, sizeof(text));
	EXPECT_NE(NULL, strstr(text, "lfq-type:\tturn\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-claim:\t0\n"));
	/* a joined fd can join too: another record */
	j[1] = raw_join(j[0], &rec);
	ASSERT_LE(0, j[1]);
	EXPECT_EQ(1, rec);
	for (k = 2; k < (int)LFQ_CLAIMS; k++) {
		j[k] = raw_join(fd, &rec);
		ASSERT_LE(0, j[k]);
		EXPECT_EQ(k, rec);
	}
	fdinfo(j[63], text, sizeof(text));
	EXPECT_NE(NULL, strstr(text, "lfq-claim:\t63\n"));
	EXPECT_EQ(-EBUSY, raw_join(fd, &rec));
	EXPECT_EQ(-EBUSY, raw_join(j[5], &rec));
	/* a released record is handed out again, the lowest first */
	close(j[17]);
	close(j[40]);
	j[17] = raw_join(fd, &rec);
	ASSERT_LE(0, j[17]);
	EXPECT_EQ(17, rec);
	snprintf(want, sizeof(want), "lfq-claim:\t17\n");
	fdinfo(j[17], text, sizeof(text));
	EXPECT_NE(NULL, strstr(text, want));
	j[40] = raw_join(fd, &rec);
	ASSERT_LE(0, j[40]);
	EXPECT_EQ(40, rec);
	EXPECT_EQ(-EBUSY, raw_join(fd, &rec));
	for (k = 0; k < (int)LFQ_CLAIMS; k++)
		close(j[k]);
	extra = raw_join(fd, &rec);
	ASSERT_LE(0, extra);
	EXPECT_EQ(0, rec);
	close(extra);
	/* all of them left idle: nothing to repair, nothing counted */
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	raw_close(&r);
}

/* JOIN resets the record it hands out, whatever was scribbled there. */
TEST(join_resets_the_record_and_the_ring_outlives_the_ring_fd)
{
	struct lfq_claim *cl;
	__u32 rec;
	struct raw r;
	int j;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	cl = &r.claims[0];
	cl->pos = 12345;
	cl->state = 77;
	j = raw_join(r.m.fd, &rec);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, rec);
	EXPECT_EQ(0, cl->pos);
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	/* the joined fd holds the ring: the ring fd can go */
	close(r.m.fd);
	r.m.fd = -1;
	raw_claim(&r, 0, LFQ_CLAIM_PUSH_PENDING, 0);
	close(j);		/* the last fd: the ring goes with it */
	munmap((void *)r.m.desc, r.m.info.desc_size);
	munmap(r.m.region, r.m.info.ring_size);
}

TEST(join_is_refused_where_there_are_no_records)
{
	struct lfq_create vy = {
		.type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = ITEM,
	}, c = turn(4, ITEM);
	struct lfq_ring *ring;
	int fd, dev, j[LFQ_CLAIMS], k;
	__u32 rec;

	REQUIRE_DEV();
	fd = raw_create(&vy);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, raw_join(fd, &rec));
	close(fd);
	dev = dev_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOTTY, raw_join(dev, &rec));
	close(dev);

	/* a bad pointer: EFAULT, and the record is not lost */
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, raw_join(fd, (__u32 *)8));
	EXPECT_EQ(-EFAULT, raw_join(fd, NULL));
	for (k = 0; k < (int)LFQ_CLAIMS; k++) {
		j[k] = raw_join(fd, &rec);
		ASSERT_LE(0, j[k]);
		EXPECT_EQ(k, rec);
	}
	for (k = 0; k < (int)LFQ_CLAIMS; k++)
		close(j[k]);
	close(fd);

	/* liblfq */
	ASSERT_EQ(0, lfq_ring_create(&ring, &vy, LFQ_MEM_DEV));
	EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(ring));
	lfq_ring_destroy(ring);
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_HEAP));
	EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(ring));
	lfq_ring_destroy(ring);
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_MEMFD));
	EXPECT_EQ(-EOPNOTSUPP, lfq_ring_join(ring));
	lfq_ring_destroy(ring);
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	EXPECT_EQ(0, lfq_ring_join(ring));
	EXPECT_EQ(-EALREADY, lfq_ring_join(ring));
	EXPECT_EQ(-EINVAL, lfq_ring_join(NULL));
	lfq_ring_destroy(ring);
}

/* liblfq writes its record around every ticket and leaves it idle. */
TEST(liblfq_writes_its_claim_record)
{
	char elem[ITEM] = { 0 };
	struct lfq_turn_ref ref;
	struct lfq_ring *h;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	/* record 0 is ours */
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);
	ASSERT_EQ(0, lfq_turn_push(h, elem));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);
	ASSERT_EQ(0, lfq_turn_push(h, elem));
	ASSERT_EQ(0, lfq_turn_push_reserve(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_PUSH, r.claims[0].state);
	EXPECT_EQ(2, r.claims[0].pos);
	ASSERT_EQ(0, lfq_turn_push_commit(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);
	ASSERT_EQ(0, lfq_turn_try_push_reserve(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_PUSH, r.claims[0].state);
	EXPECT_EQ(3, r.claims[0].pos);
	ASSERT_EQ(0, lfq_turn_push_commit(h, &ref));
	ASSERT_EQ(0, lfq_turn_pop(h, elem));
	ASSERT_EQ(0, lfq_turn_pop_reserve(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_POP, r.claims[0].state);
	EXPECT_EQ(1, r.claims[0].pos);
	ASSERT_EQ(0, lfq_turn_pop_commit(h, &ref));
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_POP, r.claims[0].state);
	EXPECT_EQ(2, r.claims[0].pos);
	ASSERT_EQ(0, lfq_turn_pop_commit(h, &ref));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);
	/* a failed try leaves it idle too */
	ASSERT_EQ(0, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);
	lfq_ring_destroy(h);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	raw_close(&r);
}

/* ---- LFQ_IOC_WAIT ----------------------------------------------------------- */

TEST(wait_rejects_bad_requests)
{
	struct lfq_wait_req req = { .dir = LFQ_WAKE_NOT_EMPTY, .seq = 0 };
	struct raw r;
	int dev;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, 0, 0, 0));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, LFQ_WAKE_ALL, 0, 0));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, 4, 0, 0));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, 1U << 31, 0, 0));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, LFQ_WAKE_NOT_FULL, 0, -2));
	EXPECT_EQ(-EINVAL, raw_wait(r.m.fd, LFQ_WAKE_NOT_FULL, 0, INT_MIN));
	req.__pad = 1;
	EXPECT_EQ(-1, ioctl(r.m.fd, LFQ_IOC_WAIT, &req));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(r.m.fd, LFQ_IOC_WAIT, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(r.m.fd, LFQ_IOC_WAIT, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(r.m.fd, _IOW(LFQ_IOC_MAGIC, 0x04, __u64), &req));
	EXPECT_EQ(ENOTTY, errno);	/* WAIT with the wrong size */
	dev = dev_open();
	ASSERT_LE(0, dev);
	req.__pad = 0;
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_WAIT, &req));
	EXPECT_EQ(ENOTTY, errno);
	close(dev);
	/* nothing was bumped or counted */
	EXPECT_EQ(0, r.hdr->not_empty.futex | r.hdr->not_full.futex);
	EXPECT_EQ(0, r.hdr->not_empty.waiters | r.hdr->not_full.waiters);
	raw_close(&r);
}

TEST(wait_returns_at_once_on_a_stale_seq_and_times_out_otherwise)
{
	long long start, took;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	alarm(20);
	/* seq is not the word: no sleep, even forever */
	EXPECT_EQ(0, raw_wait(r.m.fd, LFQ_WAKE_NOT_EMPTY, 1, -1));
	EXPECT_EQ(0, raw_wait(r.m.fd, LFQ_WAKE_NOT_FULL, ~0U, -1));
	st32(&r.hdr->not_full.futex, 41);	/* the word is ours to write */
	EXPECT_EQ(0, raw_wait(r.m.fd, LFQ_WAKE_NOT_FULL, 40, -1));
	EXPECT_EQ(-ETIMEDOUT, raw_wait(r.m.fd, LFQ_WAKE_NOT_FULL, 41, 0));
	start = now_ms();
	EXPECT_EQ(-ETIMEDOUT, raw_wait(r.m.fd, LFQ_WAKE_NOT_EMPTY, 0, 0));
	EXPECT_GT(1000, now_ms() - start);
	start = now_ms();
	EXPECT_EQ(-ETIMEDOUT, raw_wait(r.m.fd, LFQ_WAKE_NOT_EMPTY, 0, 100));
	took = now_ms() - start;
	TH_LOG("a 100 ms wait took %lld ms", took);
	EXPECT_LE(100, took);
	EXPECT_GT(3000, took);
	alarm(0);
	raw_close(&r);
}

struct waiter {
	int fd;
	__u32 dir, seq;
	int timeout_ms;
	pid_t tid;
	int ret;
	bool done;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	__atomic_store_n(&w->tid, gettid_(), __ATOMIC_RELEASE);
	w->ret = raw_wait(w->fd, w->dir, w->seq, w->timeout_ms);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Start a thread in LFQ_IOC_WAIT and wait until it sleeps there. */
static int waiter_start(struct waiter *w, pthread_t *th, int fd, __u32 dir,
			__u32 seq, int timeout_ms)
{
	*w = (struct waiter){
		.fd = fd, .dir = dir, .seq = seq, .timeout_ms = timeout_ms,
	};
	if (pthread_create(th, NULL, waiter_fn, w))
		return -1;
	while (!__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE))
		sched_yield();
	return wait_asleep(getpid(), w->tid, WAIT_MS);
}

static bool waiter_done(struct waiter *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

TEST(wait_is_woken_by_ioc_wake_of_its_direction_only)
{
	struct waiter w;
	pthread_t th;
	struct raw r;
	long long end;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	alarm(30);
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_EMPTY, 0, -1));
	/* the other direction: its word moves, our sleeper stays asleep */
	ASSERT_EQ(0, ioctl(r.m.fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_FULL));
	EXPECT_EQ(1, r.hdr->not_full.futex);
	EXPECT_EQ(0, r.hdr->not_empty.futex);
	for (end = now_ms() + 100; now_ms() < end; usleep(1000))
		if (waiter_done(&w))
			break;
	EXPECT_FALSE(waiter_done(&w));
	/* its own direction wakes it */
	ASSERT_EQ(0, ioctl(r.m.fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_EMPTY));
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(1, r.hdr->not_empty.futex);
	/* and WAKE_ALL wakes a NOT_FULL sleeper, bumping both words */
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_FULL, 1, -1));
	ASSERT_EQ(0, ioctl(r.m.fd, LFQ_IOC_WAKE, LFQ_WAKE_ALL));
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(2, r.hdr->not_empty.futex);
	EXPECT_EQ(2, r.hdr->not_full.futex);
	/* through a joined fd, the same ring */
	{
		__u32 rec;
		int j = raw_join(r.m.fd, &rec);

		ASSERT_LE(0, j);
		ASSERT_EQ(0, waiter_start(&w, &th, j, LFQ_WAKE_NOT_EMPTY, 2, -1));
		ASSERT_EQ(0, ioctl(r.m.fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_EMPTY));
		pthread_join(th, NULL);
		EXPECT_EQ(0, w.ret);
		close(j);
	}
	alarm(0);
	raw_close(&r);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(wait_is_interrupted_by_a_signal)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct waiter w;
	pthread_t th;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	alarm(30);
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_FULL, 0, WAIT_MS));
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, w.ret);
	/* SA_RESTART makes no difference: the wait says EINTR */
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_FULL, 0, -1));
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, w.ret);
	alarm(0);
	raw_close(&r);
}

/*
 * A user sleeper announced in a need-wakeup word is woken by kernel
 * threads that make progress in its direction; without an announced
 * sleeper they leave the word alone (and make no wake-up).
 */
TEST(wait_is_woken_by_kernel_threads)
{
	unsigned char elem[ITEM];
	struct lfq_test_result res;
	struct lfq_ring *h;
	struct waiter w;
	pthread_t th;
	struct raw r;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, 2, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	alarm(30);
	/* nobody announced: a kernel push bumps nothing */
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 1, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(1, res.moved);
	EXPECT_EQ(0, r.hdr->not_empty.futex);
	ASSERT_EQ(0, lfq_turn_try_pop(h, elem));

	/* a sleeper on NOT_EMPTY, as liblfq announces one */
	__atomic_add_fetch(&r.hdr->not_empty.waiters, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_EMPTY,
				  ld32(&r.hdr->not_empty.futex), WAIT_MS));
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 1, 1);
	ASSERT_LE(0, job);
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(1, r.hdr->not_empty.futex);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(1, res.moved);
	__atomic_sub_fetch(&r.hdr->not_empty.waiters, 1, __ATOMIC_SEQ_CST);

	/* a sleeper on NOT_FULL of a full ring, woken by a kernel pop */
	lfq_test_item_make(elem, ITEM, 0, 1);
	ASSERT_EQ(0, lfq_turn_try_push(h, elem));
	ASSERT_EQ(-ENOSPC, lfq_turn_try_push(h, elem));
	__atomic_add_fetch(&r.hdr->not_full.waiters, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, waiter_start(&w, &th, r.m.fd, LFQ_WAKE_NOT_FULL,
				  ld32(&r.hdr->not_full.futex), WAIT_MS));
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 2, 1);
	ASSERT_LE(0, job);
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_LT(0, r.hdr->not_full.futex);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EXACT(res, 2);
	__atomic_sub_fetch(&r.hdr->not_full.waiters, 1, __ATOMIC_SEQ_CST);
	alarm(0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- transfers across the boundary ------------------------------------------ */

/*
 * User threads on one side, kernel threads on the other, a small turn
 * ring in between. Each user thread is a participant of its own (its own
 * handle, joined). The kernel threads pause now and then (the job's
 * pause_every) so that the user side runs into a full or empty ring and
 * sleeps until the kernel wakes it; the user side pauses until it sees
 * the kernel side asleep, so that its next call must wake the kernel. A
 * lost wake-up either way stalls a side for WAIT_MS, which fails the
 * test.
 */
FIXTURE(turn_transfer) {
	struct raw r;
	struct lfq_ring *ring;		/* for stop markers and checks */
};

FIXTURE_VARIANT(turn_transfer) {
	unsigned int capacity, elem_size;
	enum umode mode;
	unsigned int user_threads, kernel_threads, kernel_burst;
	unsigned int kernel_flags;
	unsigned long long items;	/* per producer */
	unsigned int pause_every;	/* user items between pauses */
};

FIXTURE_VARIANT_ADD(turn_transfer, cap2_1x1_block) {
	.capacity = 2, .elem_size = ITEM, .mode = U_BLOCK,
	.user_threads = 1, .kernel_threads = 1, .kernel_burst = 1,
	.items = 3000, .pause_every = 600,
};

FIXTURE_VARIANT_ADD(turn_transfer, cap8_2x2_try_poll) {
	.capacity = 8, .elem_size = 64, .mode = U_TRY,
	.user_threads = 2, .kernel_threads = 2, .kernel_burst = 2,
	.items = 6000, .pause_every = 1500,
};

FIXTURE_VARIANT_ADD(turn_transfer, cap16_3x2_reserve_both_sides) {
	.capacity = 16, .elem_size = 200, .mode = U_RESERVE,
	.user_threads = 3, .kernel_threads = 2, .kernel_burst = 4,
	.kernel_flags = LFQ_TEST_F_RESERVE,
	.items = 3000, .pause_every = 1000,
};

FIXTURE_VARIANT_ADD(turn_transfer, cap64_4x3_block_1000b) {
	.capacity = 64, .elem_size = 1000, .mode = U_BLOCK,
	.user_threads = 4, .kernel_threads = 3, .kernel_burst = 8,
	.items = 1500, .pause_every = 500,
};

FIXTURE_SETUP(turn_transfer)
{
	/* the ring is made by the tests, after they checked for the device */
}

FIXTURE_TEARDOWN(turn_transfer)
{
	if (self->ring)
		lfq_ring_destroy(self->ring);
	if (self->r.m.region)
		raw_close(&self->r);
}

/*
 * The ring of a transfer, the user side s in front of it, and the job of
 * the kernel threads behind it, in kernel_role: consumers of the user
 * side's items, or producers of the items it consumes. The kernel threads
 * dawdle now and then, so that the ring fills up (or runs dry) under the
 * user side.
 */
static struct lfq_test_job
turn_transfer_prepare(struct __test_metadata *_metadata,
		      FIXTURE_DATA(turn_transfer) *self,
		      const FIXTURE_VARIANT(turn_transfer) *variant,
		      struct side *s, unsigned int kernel_role)
{
	unsigned int producers;		/* of the job: see lfq_test.h */
	struct lfq_test_job j;

	ASSERT_EQ(0, raw_open(&self->r, variant->capacity, variant->elem_size));
	ASSERT_EQ(0, lfq_ring_attach(&self->ring, self->r.m.fd));
	side_init(s, self->r.m.fd, variant->mode, variant->user_threads,
		  variant->elem_size, variant->capacity, variant->items,
		  variant->pause_every);
	if (kernel_role == LFQ_TEST_CONSUME) {
		s->kernel_wait = &self->r.hdr->not_empty;
		producers = variant->user_threads;	/* to expect */
	} else {
		s->kernel_wait = &self->r.hdr->not_full;
		s->producers = variant->kernel_threads;
		producers = 0;				/* first id */
	}
	j = job_params(self->r.m.fd, kernel_role, variant->kernel_threads,
		       producers, variant->items, variant->kernel_burst);
	j.flags = variant->kernel_flags;
	j.pause_every = variant->pause_every / 2;
	j.pause_us = 2000;
	return j;
}

/* After a clean transfer: nothing left, nobody asleep, nothing repaired. */
static void turn_transfer_quiet(struct __test_metadata *_metadata,
				FIXTURE_DATA(turn_transfer) *self,
				const FIXTURE_VARIANT(turn_transfer) *variant)
{
	unsigned char *elem = calloc(1, variant->elem_size);

	ASSERT_NE(NULL, elem);
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(self->ring, elem));
	EXPECT_TRUE(lfq_turn_empty(self->ring));
	EXPECT_EQ(ld64(&self->r.hdr->head), ld64(&self->r.hdr->tail));
	EXPECT_EQ(0, self->r.hdr->not_empty.waiters);
	EXPECT_EQ(0, self->r.hdr->not_full.waiters);
	EXPECT_REPAIRS(self->r.m.desc, 0, 0, 0, 0);
	free(elem);
}

/* User producer threads -> turn ring fd -> kernel consumer threads. */
TEST_F_TIMEOUT(turn_transfer, user_to_kernel, 90)
{
	unsigned long long total = variant->items * variant->user_threads;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	struct lfq_test_result res;
	struct lfq_test_job j;
	struct side s;
	long long start;
	int job;

	REQUIRE_PEER();
	j = turn_transfer_prepare(_metadata, self, variant, &s,
				  LFQ_TEST_CONSUME);
	alarm(80);
	start = now_ms();
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, side_start(&s, t, side_producer));
	side_join(&s, t);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumers", res);
	TH_LOG("%llu items in %lld ms; the kernel slept in %u of the user's pauses",
	       total, now_ms() - start, s.kernel_slept);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EXACT(res, total);
	EXPECT_LT(0, s.kernel_slept);
	turn_transfer_quiet(_metadata, self, variant);
}

/* Kernel producer threads -> turn ring fd -> user consumer threads. */
TEST_F_TIMEOUT(turn_transfer, kernel_to_user, 90)
{
	unsigned long long total = variant->items * variant->kernel_threads;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	struct lfq_test_result res;
	struct lfq_test_job j;
	struct side s;
	long long start;
	int job;

	REQUIRE_PEER();
	j = turn_transfer_prepare(_metadata, self, variant, &s,
				  LFQ_TEST_PRODUCE);
	s.seen = calloc(total, 1);
	ASSERT_NE(NULL, s.seen);
	alarm(80);
	start = now_ms();
	ASSERT_EQ(0, side_start(&s, t, side_consumer));
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	__atomic_store_n(&s.kernel_done, true, __ATOMIC_RELAXED);
	/* everything is in: one stop marker per consumer, after the items */
	EXPECT_EQ(0, side_stop_consumers(&s, self->ring));
	side_join(&s, t);
	alarm(0);
	LOG_RESULT("kernel producers", res);
	TH_LOG("%llu items in %lld ms; the kernel slept in %u of the user's pauses",
	       total, now_ms() - start, s.kernel_slept);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(total, res.moved);
	EXPECT_EQ(0, res.ring_errors);
	EXPECT_EQ(total, s.consumed);
	EXPECT_EQ(0, side_missing(&s));
	EXPECT_LT(0, s.kernel_slept);
	turn_transfer_quiet(_metadata, self, variant);
	free(s.seen);
}

/*
 * Producers and consumers in four processes around one /dev/lfq turn ring
 * (one of them received it over a unix socket), each a joined
 * participant; the consumers mark what they see in shared memory.
 */
struct shared_seen {
	unsigned long long consumed;
	int bad;
	unsigned char seen[];
};

/* A consumer process: pop until a stop marker; 0 if everything checked. */
static int proc_consume(int fd, struct shared_seen *sh, unsigned int producers,
			unsigned long long items)
{
	unsigned char elem[ITEM];
	long long last[LFQ_TEST_MAX_PRODUCERS];
	struct lfq_test_item it;
	struct lfq_ring *h;
	unsigned int i;

	for (i = 0; i < LFQ_TEST_MAX_PRODUCERS; i++)
		last[i] = -1;
	if (participant(&h, fd))
		return 2;
	for (;;) {
		if (lfq_turn_pop(h, elem))
			return 3;
		if (is_stop(elem))
			break;
		it = lfq_test_item_get(elem);
		if (lfq_test_item_bad(elem, ITEM, producers) || it.seq >= items ||
		    (long long)it.seq <= last[it.producer] ||
		    __atomic_exchange_n(&sh->seen[it.producer * items + it.seq],
					1, __ATOMIC_RELAXED))
			return 4;
		last[it.producer] = it.seq;
		__atomic_add_fetch(&sh->consumed, 1, __ATOMIC_RELAXED);
	}
	lfq_ring_destroy(h);
	return 0;
}

static int proc_produce(int fd, unsigned int id, unsigned long long items)
{
	unsigned char elem[ITEM];
	unsigned long long seq;
	struct lfq_ring *h;

	if (participant(&h, fd))
		return 2;
	for (seq = 0; seq < items; seq++) {
		lfq_test_item_make(elem, ITEM, id, seq);
		if (lfq_turn_push(h, elem))
			return 3;
	}
	lfq_ring_destroy(h);
	return 0;
}

/* Tests that take longer than the harness's default 30 s allow. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, processes_share_a_turn_ring, 60)
{
	const unsigned long long items = 10000;
	unsigned char stop[ITEM];
	struct shared_seen *sh;
	int sv[2], status, i, fd;
	pid_t pid[4];
	struct lfq_ring *ring;
	size_t shsize = sizeof(*sh) + 2 * items;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 16, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&ring, r.m.fd));
	sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	alarm(50);
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i])
			continue;
		alarm(45);
		if (i == 0) {
			/* this consumer gets the ring over the socket */
			fd = recv_fd(sv[1]);
			if (fd < 0)
				_exit(9);
			_exit(proc_consume(fd, sh, 2, items));
		}
		if (i == 1)
			_exit(proc_consume(r.m.fd, sh, 2, items));
		_exit(proc_produce(r.m.fd, i - 2, items));
	}
	ASSERT_EQ(0, send_fd(sv[0], r.m.fd));
	for (i = 2; i < 4; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status)
			TH_LOG("producer %d: status %#x", i - 2, status);
	}
	make_stop(stop, ITEM);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, lfq_turn_push(ring, stop));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status)
			TH_LOG("consumer %d: status %#x", i, status);
	}
	alarm(0);
	EXPECT_EQ(2 * items, sh->consumed);
	for (i = 0; i < (int)(2 * items) && sh->seen[i]; i++)
		;
	EXPECT_EQ(2 * items, i);
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(ring, stop));
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	close(sv[0]);
	close(sv[1]);
	munmap(sh, shsize);
	lfq_ring_destroy(ring);
	raw_close(&r);
}

/* ---- repair, emulated through the raw ABI ----------------------------------- */

/*
 * A participant is emulated by hand: JOIN gives it a record and an fd, it
 * writes the record and takes a ticket as liblfq would, and closing its
 * fd is its death. The fd's release (at close) reads the record at once;
 * a ticket to repair is repaired from delayed work, so the tests wait for
 * the counters with a timeout.
 */

TEST(repair_idle_pending_and_garbage_records)
{
	char text[1024], elem[ITEM] = { 0 };
	struct lfq_ring *h;
	__u32 rec;
	struct raw r;
	int j;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	j = raw_join(r.m.fd, &rec);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, rec);
	close(j);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);

	/* died announcing a claim: the kernel cannot know, counts it */
	j = raw_join(r.m.fd, &rec);
	ASSERT_EQ(0, rec);
	raw_claim(&r, rec, LFQ_CLAIM_PUSH_PENDING, 0);
	close(j);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 1, 0);
	j = raw_join(r.m.fd, &rec);
	ASSERT_EQ(0, rec);		/* freed at once */
	raw_claim(&r, rec, LFQ_CLAIM_POP_PENDING, 5);
	close(j);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 2, 0);

	/* a state no participant writes: an error, the record freed */
	j = raw_join(r.m.fd, &rec);
	ASSERT_EQ(0, rec);
	raw_claim(&r, rec, 77, 3);
	close(j);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 2, 1);
	j = raw_join(r.m.fd, &rec);
	ASSERT_EQ(0, rec);
	raw_claim(&r, rec, ~0U, ~0ULL);
	close(j);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 2, 2);
	j = raw_join(r.m.fd, &rec);
	ASSERT_LE(0, j);
	EXPECT_EQ(0, rec);
	close(j);
	fdinfo(r.m.fd, text, sizeof(text));
	EXPECT_NE(NULL, strstr(text, "lfq-errors:\t2\n"));
	EXPECT_NE(NULL, strstr(text,
		"lfq-repaired:\t0 skipped 0 dropped 2 unresolved\n"));

	/* nothing was touched: the ring works */
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	EXPECT_EQ(0, lfq_turn_try_push(h, elem));
	EXPECT_EQ(0, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(1, r.hdr->head);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* Whether elem is a well-formed item (producer, seq). */
static bool item_is(const void *elem, __u32 producer, __u64 seq)
{
	struct lfq_test_item it = lfq_test_item_get(elem);

	return !lfq_test_item_bad(elem, ITEM, producer + 1) &&
	       it.producer == producer && it.seq == seq;
}

/* Pop an item with h and check that it is (producer, seq). */
static bool pop_is(struct lfq_ring *h, __u32 producer, __u64 seq)
{
	unsigned char elem[ITEM];

	return !lfq_turn_try_pop(h, elem) && item_is(elem, producer, seq);
}

/* The same, waiting for the item (lfq_turn_pop()). */
static bool pop_wait_is(struct lfq_ring *h, __u32 producer, __u64 seq)
{
	unsigned char elem[ITEM];

	return !lfq_turn_pop(h, elem) && item_is(elem, producer, seq);
}

static int push_item(struct lfq_ring *h, __u32 producer, __u64 seq)
{
	unsigned char elem[ITEM];

	lfq_test_item_make(elem, ITEM, producer, seq);
	return lfq_turn_try_push(h, elem);
}

static int push_item_wait(struct lfq_ring *h, __u32 producer, __u64 seq)
{
	unsigned char elem[ITEM];

	lfq_test_item_make(elem, ITEM, producer, seq);
	return lfq_turn_push(h, elem);
}

/*
 * A new turn ring of test items, mapped, with a plain (unjoined) handle
 * *h on it, through which items seq 0..n-1 of producer 0 are pushed.
 */
static void raw_open_with_items(struct __test_metadata *_metadata,
				struct raw *r, struct lfq_ring **h,
				unsigned int capacity, unsigned int n)
{
	unsigned int seq;

	ASSERT_EQ(0, raw_open(r, capacity, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(h, r->m.fd));
	for (seq = 0; seq < n; seq++)
		ASSERT_EQ(0, push_item(*h, 0, seq));
}

/*
 * A joined handle has one record, so it holds one ticket at a time: no
 * second reservation before the commit (-EBUSY), no commit of a ticket
 * its record does not name (-EINVAL), and the record says IDLE after.
 */
TEST(joined_handle_holds_one_ticket_at_a_time)
{
	struct lfq_turn_ref a, b, other;
	struct lfq_ring *h, *plain;
	unsigned char elem[ITEM];
	struct raw r;
	int k;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&plain, r.m.fd));
	k = 0;			/* the first record goes to the first joiner */
	ASSERT_EQ(0, lfq_turn_push_reserve(h, &a));
	EXPECT_EQ(LFQ_CLAIM_PUSH, r.claims[k].state);
	EXPECT_EQ(a.ticket, r.claims[k].pos);
	lfq_test_item_make(elem, ITEM, 0, 0);
	EXPECT_EQ(-EBUSY, lfq_turn_push_reserve(h, &b));
	EXPECT_EQ(-EBUSY, lfq_turn_try_push_reserve(h, &b));
	EXPECT_EQ(-EBUSY, lfq_turn_try_push(h, elem));
	EXPECT_EQ(-EBUSY, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(-EBUSY, lfq_turn_try_pop_reserve(h, &b));
	/* a ticket its record does not name: another handle's */
	ASSERT_EQ(0, lfq_turn_try_push_reserve(plain, &other));
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(h, &other));
	EXPECT_EQ(-EINVAL, lfq_turn_pop_commit(h, &a));
	EXPECT_EQ(LFQ_CLAIM_PUSH, r.claims[k].state);
	memcpy(a.elem, elem, ITEM);
	EXPECT_EQ(0, lfq_turn_push_commit(h, &a));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[k].state);
	EXPECT_EQ(-EINVAL, lfq_turn_push_commit(h, &a));
	lfq_test_item_make(other.elem, ITEM, 0, 1);
	EXPECT_EQ(0, lfq_turn_push_commit(plain, &other));
	/* idle again: it takes the next ticket, here a pop */
	ASSERT_EQ(0, lfq_turn_try_pop_reserve(h, &b));
	EXPECT_EQ(LFQ_CLAIM_POP, r.claims[k].state);
	EXPECT_EQ(0, lfq_turn_pop_commit(h, &b));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[k].state);
	lfq_ring_destroy(plain);
	lfq_ring_destroy(h);
	EXPECT_EQ(0, r.m.desc->skipped + r.m.desc->dropped + r.m.desc->unresolved);
	raw_close(&r);
}

/*
 * A child of fork() gets its copy of a joined handle unjoined: its own
 * verbs write no record, and the parent's death holding a ticket is
 * repaired while the child still lives (the child does not keep the
 * record's fd).
 */
TEST(fork_unjoins_the_childs_copy_of_a_joined_handle)
{
	int to_child[2], to_parent[2], to_test[2], status;
	struct lfq_turn_ref ref;
	struct lfq_ring *h;
	struct raw r;
	pid_t parent, child;
	char c;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, pipe2(to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(to_test, O_CLOEXEC));
	parent = fork();
	ASSERT_LE(0, parent);
	if (parent == 0) {
		/* the joined participant that will die holding a ticket */
		if (participant(&h, r.m.fd))
			_exit(1);
		child = fork();
		if (child < 0)
			_exit(1);
		if (child == 0) {
			unsigned char elem[ITEM];

			/* unjoined: a reservation writes no record */
			if (lfq_turn_try_push_reserve(h, &ref) ||
			    r.claims[0].state != LFQ_CLAIM_IDLE)
				_exit(1);
			lfq_test_item_make(ref.elem, ITEM, 1, 0);
			if (lfq_turn_push_commit(h, &ref) ||
			    write(to_parent[1], "c", 1) != 1 ||
			    read(to_child[0], &c, 1) != 1)
				_exit(1);
			lfq_test_item_make(elem, ITEM, 1, 1);
			_exit(lfq_turn_try_push(h, elem) ? 1 : 0);
		}
		if (read(to_parent[0], &c, 1) != 1 ||
		    lfq_turn_push_reserve(h, &ref) ||
		    write(to_test[1], "p", 1) != 1)
			_exit(1);
		pause();
		_exit(1);
	}
	/* the child pushed ticket 0, the parent holds ticket 1 */
	ASSERT_EQ(1, read(to_test[0], &c, 1));
	ASSERT_EQ('p', c);
	EXPECT_EQ(LFQ_CLAIM_PUSH, r.claims[0].state);
	EXPECT_EQ(1, r.claims[0].pos);
	kill(parent, SIGKILL);
	ASSERT_EQ(parent, waitpid(parent, &status, 0));
	/* the grandchild lives on, yet ticket 1 is repaired */
	ASSERT_EQ(0, wait_u64(&r.m.desc->skipped, 1, REPAIR_MS));
	EXPECT_EQ(1 | LFQ_TURN_SKIPPED, *raw_turn(&r, 1));
	/* let it push ticket 2 and go */
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	close(to_child[1]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_parent[0]);
	close(to_test[0]);
	close(to_test[1]);
	raw_close(&r);
}

TEST(repair_skips_a_dead_producers_ticket)
{
	char text[1024], elem[ITEM];
	struct lfq_ring *h;
	__u64 t, i;
	__u32 rec;
	struct raw r;
	int j;

	REQUIRE_DEV();
	raw_open_with_items(_metadata, &r, &h, 4, 1);
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	ASSERT_LE(0, j);
	ASSERT_EQ(1, t);
	/* half-written: it must never be delivered */
	lfq_test_item_make(raw_elem(&r, t), ITEM, 7, 7);
	ASSERT_EQ(0, push_item(h, 0, 1));
	EXPECT_TRUE(pop_is(h, 0, 0));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));	/* the hole */
	close(j);
	ASSERT_EQ(0, wait_u64(&r.m.desc->skipped, 1, REPAIR_MS));
	EXPECT_EQ(1 | LFQ_TURN_SKIPPED, *raw_turn(&r, t));
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_EQ(3, r.hdr->tail);
	EXPECT_EQ(2, *raw_turn(&r, t));		/* released for the next lap */
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(0, wait_record_free(r.m.fd, rec, REPAIR_MS));
	for (i = 2; i < 12; i++) {
		ASSERT_EQ(0, push_item(h, 0, i));
		EXPECT_TRUE(pop_is(h, 0, i));
	}
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	fdinfo(r.m.fd, text, sizeof(text));
	EXPECT_NE(NULL, strstr(text,
		"lfq-repaired:\t1 skipped 0 dropped 0 unresolved\n"));
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* Kernel consumers asleep at a dead producer's hole go on once repaired. */
TEST(repair_hole_is_passed_over_by_kernel_consumers)
{
	struct lfq_test_result res;
	struct lfq_ring *h;
	__u64 t, seq;
	__u32 rec;
	struct raw r;
	int j, job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, push_item(h, 0, 0));
	ASSERT_EQ(0, push_item(h, 0, 1));
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	ASSERT_LE(0, j);
	ASSERT_EQ(2, t);
	ASSERT_EQ(0, push_item(h, 0, 2));
	alarm(25);
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 2, 1, 10, 1);
	ASSERT_LE(0, job);
	/* the kernel takes seq 0 and 1 and sleeps at the hole, ticketless */
	ASSERT_EQ(0, wait_u32_nonzero(&r.hdr->not_empty.waiters, WAIT_MS));
	ASSERT_EQ(0, wait_u64(&r.hdr->tail, 2, WAIT_MS));
	close(j);
	for (seq = 3; seq < 10; seq++)
		ASSERT_EQ(0, push_item_wait(h, 0, seq));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumers", res);
	EXPECT_EXACT(res, 10);
	EXPECT_EQ(11, r.hdr->tail);
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

TEST(repair_gives_a_dead_consumers_slot_back_to_producers)
{
	char elem[ITEM];
	struct lfq_ring *h;
	__u32 rec;
	struct raw r;
	__u64 u;
	int j;

	REQUIRE_DEV();
	raw_open_with_items(_metadata, &r, &h, 2, 2);
	j = raw_take(&r, LFQ_CLAIM_POP, &rec, &u);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, u);
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_EQ(-ENOSPC, push_item(h, 0, 2));	/* slot 0 is still read */
	close(j);
	ASSERT_EQ(0, wait_u64(&r.m.desc->dropped, 1, REPAIR_MS));
	EXPECT_EQ(2, *raw_turn(&r, u));
	EXPECT_EQ(0, push_item(h, 0, 2));
	EXPECT_EQ(0, push_item(h, 0, 3));
	EXPECT_TRUE(pop_is(h, 0, 2));
	EXPECT_TRUE(pop_is(h, 0, 3));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_REPAIRS(r.m.desc, 0, 1, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* A dead consumer of a skipped ticket: released, nothing was dropped. */
TEST(repair_of_a_dead_consumer_of_a_skipped_ticket_drops_nothing)
{
	struct lfq_ring *h;
	__u32 rec;
	struct raw r;
	__u64 t, u;
	int j;

	REQUIRE_DEV();
	raw_open_with_items(_metadata, &r, &h, 4, 1);
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, push_item(h, 0, 1));
	close(j);
	ASSERT_EQ(0, wait_u64(&r.m.desc->skipped, 1, REPAIR_MS));
	EXPECT_TRUE(pop_is(h, 0, 0));
	EXPECT_EQ(0, wait_record_free(r.m.fd, rec, REPAIR_MS));
	j = raw_take(&r, LFQ_CLAIM_POP, &rec, &u);
	ASSERT_LE(0, j);
	ASSERT_EQ(t, u);
	close(j);
	ASSERT_EQ(0, wait_u64(raw_turn(&r, t), 2, REPAIR_MS));
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* Died after publishing (or releasing) but before saying so: nothing. */
TEST(repair_of_a_claim_that_was_finished_does_nothing)
{
	unsigned char elem[ITEM];
	struct lfq_ring *h;
	__u32 rec;
	struct raw r;
	__u64 t;
	int j;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, rec);
	raw_publish(&r, t, 0, 0);
	close(j);
	ASSERT_EQ(0, wait_record_free(r.m.fd, 0, REPAIR_MS));
	EXPECT_TRUE(pop_is(h, 0, 0));

	ASSERT_EQ(0, push_item(h, 0, 1));
	j = raw_take(&r, LFQ_CLAIM_POP, &rec, &t);
	ASSERT_LE(0, j);
	memcpy(elem, raw_elem(&r, t), ITEM);
	st64(raw_turn(&r, t), lap2(&r, t) + 2);
	close(j);
	ASSERT_EQ(0, wait_record_free(r.m.fd, 0, REPAIR_MS));
	EXPECT_EQ(0, lfq_test_item_bad(elem, ITEM, 1));
	/* and a record of a ticket laps old */
	for (t = 2; t < 11; t++) {
		ASSERT_EQ(0, push_item(h, 0, t));
		EXPECT_TRUE(pop_is(h, 0, t));
	}
	j = raw_join(r.m.fd, &rec);
	raw_claim(&r, rec, LFQ_CLAIM_PUSH, 1);
	close(j);
	ASSERT_EQ(0, wait_record_free(r.m.fd, 0, REPAIR_MS));
	j = raw_join(r.m.fd, &rec);
	raw_claim(&r, rec, LFQ_CLAIM_POP, 2);
	close(j);
	ASSERT_EQ(0, wait_record_free(r.m.fd, 0, REPAIR_MS));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(0, push_item(h, 0, 11));
	EXPECT_TRUE(pop_is(h, 0, 11));
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* Join every free record of the ring; -EBUSY must follow. How many. */
static int join_all(int fd, int *j, __u32 *recs)
{
	int n = 0, k;

	while (n < (int)LFQ_CLAIMS) {
		k = raw_join(fd, &recs[n]);
		if (k < 0)
			break;
		j[n++] = k;
	}
	return n;
}

static void close_all(int *j, int n)
{
	while (n--)
		close(j[n]);
}

/*
 * A dead producer's ticket whose slot still holds the last lap's item:
 * the record stays taken (JOIN says EBUSY when it is the last) until the
 * slot comes round, then the repair happens by itself.
 */
TEST(repair_of_a_producer_waits_until_its_slot_comes_round)
{
	int j, js[LFQ_CLAIMS], n, k;
	__u32 rec, recs[LFQ_CLAIMS];
	char elem[ITEM];
	struct lfq_ring *h;
	long long start;
	struct raw r;
	__u64 t;

	REQUIRE_DEV();
	raw_open_with_items(_metadata, &r, &h, 2, 2);
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, rec);
	ASSERT_EQ(2, t);	/* slot 0, lap 1: seq 0 is still in it */
	close(j);
	EXPECT_EQ(0, r.m.desc->skipped);
	n = join_all(r.m.fd, js, recs);
	EXPECT_EQ(LFQ_CLAIMS - 1, n);
	for (k = 0; k < n; k++)
		EXPECT_NE(0, recs[k]);
	EXPECT_EQ(-EBUSY, raw_join(r.m.fd, &rec));
	close_all(js, n);
	EXPECT_EQ(0, r.m.desc->skipped);
	EXPECT_EQ(1, *raw_turn(&r, t));
	start = now_ms();
	EXPECT_TRUE(pop_is(h, 0, 0));		/* slot 0 comes round */
	ASSERT_EQ(0, wait_u64(&r.m.desc->skipped, 1, REPAIR_MS));
	TH_LOG("repaired %lld ms after the slot came round", now_ms() - start);
	EXPECT_EQ(3 | LFQ_TURN_SKIPPED, *raw_turn(&r, t));
	EXPECT_EQ(0, wait_record_free(r.m.fd, 0, REPAIR_MS));
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_EQ(3, r.hdr->tail);
	EXPECT_EQ(0, push_item(h, 0, 2));
	EXPECT_TRUE(pop_is(h, 0, 2));
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A dead consumer's ticket on an empty ring: the item that comes for it
 * later is released unread, and counted; the others get through.
 */
TEST(repair_of_a_consumer_waits_until_its_item_comes)
{
	int j, js[LFQ_CLAIMS], n;
	__u32 rec, recs[LFQ_CLAIMS];
	char elem[ITEM];
	struct lfq_ring *h;
	struct raw r;
	__u64 u;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 2, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	j = raw_take(&r, LFQ_CLAIM_POP, &rec, &u);
	ASSERT_LE(0, j);
	ASSERT_EQ(0, u);
	close(j);
	n = join_all(r.m.fd, js, recs);
	EXPECT_EQ(LFQ_CLAIMS - 1, n);
	close_all(js, n);
	EXPECT_EQ(0, r.m.desc->dropped);
	ASSERT_EQ(0, push_item(h, 0, 0));
	ASSERT_EQ(0, wait_u64(&r.m.desc->dropped, 1, REPAIR_MS));
	EXPECT_EQ(2, *raw_turn(&r, u));
	ASSERT_EQ(0, push_item(h, 0, 1));
	ASSERT_EQ(0, push_item(h, 0, 2));
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_TRUE(pop_is(h, 0, 2));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_REPAIRS(r.m.desc, 0, 1, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * Eight dead producers in a row, two laps of a 4-slot ring: the first
 * four are skipped at once, the next four once the kernel consumer has
 * released the first four; then a live producer's item gets through.
 */
TEST(repair_of_eight_dead_producers_over_two_laps)
{
	struct lfq_test_result res;
	struct lfq_ring *h;
	long long start;
	int j[8], k, job;
	__u32 rec;
	struct raw r;
	__u64 t;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	for (k = 0; k < 8; k++) {
		j[k] = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
		ASSERT_LE(0, j[k]);
	}
	alarm(25);
	start = now_ms();
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 1, 1);
	ASSERT_LE(0, job);
	for (k = 0; k < 8; k++)
		close(j[k]);
	ASSERT_EQ(0, push_item_wait(h, 0, 0));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	TH_LOG("through eight holes in %lld ms", now_ms() - start);
	EXPECT_EXACT(res, 1);
	EXPECT_EQ(9, r.hdr->tail);
	EXPECT_REPAIRS(r.m.desc, 8, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- kill -9 and SIGSTOP of real participants ------------------------------- */

/* Read exactly n bytes within ms: 0, or -ETIMEDOUT / -EPIPE / -errno. */
/* Wait up to ms for *p >= want. */
/* The record that holds state (a child's, whose index it cannot tell). */
static int wait_claim_state(struct raw *r, __u32 state, int ms)
{
	long long end = now_ms() + ms;
	unsigned int k;

	for (;;) {
		for (k = 0; k < r->m.info.nr_claims; k++)
			if (ld32(&r->claims[k].state) == state)
				return (int)k;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
}

static void sigstop_child(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
}

/* SIGCONT a stopped child, let it go on (a byte on go), see it exit 0. */
static void sigcont_child(struct __test_metadata *_metadata, pid_t pid,
			  int go)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(1, write(go, "c", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
}

/*
 * Run kernel job j, stalled by a stopped participant, with a 500 ms
 * timeout: it must end on that timeout, in time. Its result in *res.
 */
static void expect_job_times_out(struct __test_metadata *_metadata,
				 struct lfq_test_job *j, const char *what,
				 struct lfq_test_result *res)
{
	long long start, took;
	int job;

	j->timeout_ms = 500;
	j->deadline_ms = 20000;
	start = now_ms();
	job = job_start(j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, res));
	took = now_ms() - start;
	LOG_RESULT(what, *res);
	TH_LOG("the job ended after %lld ms (timeout 500 ms)", took);
	EXPECT_EQ(-ETIMEDOUT, res->error);
	EXPECT_LE(500, took);
	EXPECT_GT(500 + 3000, took);
}

/*
 * A child producer takes a ticket (push_reserve) in the middle of a
 * stream of user producers and kernel consumers, says so and is killed:
 * its hole is skipped, every item of the live producers arrives exactly
 * once, and the child's half-written item never does (it is from a
 * producer id the consumers would count as malformed).
 */
TEST_F_TIMEOUT(slow, kill9_producer_holding_a_reservation, 60)
{
	const unsigned long long items = 2000;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	int go[2], rep[2], job;
	struct lfq_test_result res;
	struct side s;
	struct raw r;
	__u64 ticket;
	pid_t pid;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, 8, ITEM));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_turn_ref ref;
		struct lfq_ring *h;
		char c;

		alarm(50);
		if (participant(&h, r.m.fd) || read(go[0], &c, 1) != 1 ||
		    lfq_turn_push_reserve(h, &ref))
			_exit(1);
		lfq_test_item_make(ref.elem, ITEM, 2, 0);
		if (write(rep[1], &ref.ticket, sizeof(ref.ticket)) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	alarm(50);
	side_init(&s, r.m.fd, U_BLOCK, 2, ITEM, 8, items, 0);
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 2, 2, items, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, side_start(&s, t, side_producer));
	ASSERT_EQ(0, wait_u64_ge(&r.hdr->head, items / 2, WAIT_MS));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, read_within(rep[0], &ticket, sizeof(ticket), WAIT_MS));
	TH_LOG("the child holds ticket %llu (head %llu, tail %llu)",
	       (unsigned long long)ticket, (unsigned long long)r.hdr->head,
	       (unsigned long long)r.hdr->tail);
	kill9(_metadata, pid);
	side_join(&s, t);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumers", res);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EXACT(res, 2 * items);
	EXPECT_LT(ticket, r.hdr->head);
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	EXPECT_EQ(r.hdr->head, r.hdr->tail);
	raw_close(&r);
}

/*
 * A child producer blocked in lfq_turn_push() on a full ring (its ticket
 * taken, its slot still holding an item) is killed: the repair waits for
 * the slot, then a kernel consumer passes over the hole and every item of
 * the live producer arrives.
 */
TEST(kill9_producer_blocked_in_push_on_a_full_ring)
{
	const unsigned long long items = 40;
	struct lfq_test_result res;
	struct lfq_ring *h;
	int rep[2], k, job;
	unsigned long long seq;
	struct raw r;
	pid_t pid;
	char c;

	REQUIRE_PEER();
	raw_open_with_items(_metadata, &r, &h, 4, 4);
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_ring *me;

		alarm(25);
		if (participant(&me, r.m.fd) || write(rep[1], "j", 1) != 1)
			_exit(1);
		push_item_wait(me, 1, 0);	/* blocks: the ring is full */
		_exit(2);
	}
	alarm(25);
	ASSERT_EQ(0, read_within(rep[0], &c, 1, WAIT_MS));
	k = wait_claim_state(&r, LFQ_CLAIM_PUSH, WAIT_MS);
	ASSERT_LE(0, k);
	EXPECT_EQ(4, r.claims[k].pos);
	ASSERT_EQ(0, wait_asleep(pid, pid, WAIT_MS));
	EXPECT_LT(0, r.hdr->not_full.waiters);
	kill9(_metadata, pid);
	EXPECT_EQ(0, r.m.desc->skipped);		/* its slot is not free yet */
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, items, 1);
	ASSERT_LE(0, job);
	for (seq = 4; seq < items; seq++)
		ASSERT_EQ(0, push_item_wait(h, 0, seq));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumer", res);
	EXPECT_EXACT(res, items);
	EXPECT_REPAIRS(r.m.desc, 1, 0, 0, 0);
	/* see "waiters-leak": the dead sleeper is no longer counted */
	EXPECT_EQ(0, ld32(&r.hdr->not_full.waiters));
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A child consumer takes an item in place (pop_reserve) in the middle of
 * a stream of kernel producers and user consumers, says which, and is
 * killed before its commit: its slot goes back to the producers, the
 * transfer completes, and that item is the only one missing.
 */
TEST_F_TIMEOUT(slow, kill9_consumer_holding_a_reservation, 60)
{
	const unsigned long long items = 2000;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	unsigned char lost[ITEM];
	struct lfq_test_item it;
	struct lfq_test_result res;
	int go[2], rep[2], job;
	struct lfq_ring *ring;
	struct side s;
	struct raw r;
	pid_t pid;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, 8, ITEM));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char elem[ITEM];
		struct lfq_turn_ref ref;
		struct lfq_ring *h;
		char c;

		alarm(50);
		if (participant(&h, r.m.fd) || read(go[0], &c, 1) != 1 ||
		    lfq_turn_pop_reserve(h, &ref))
			_exit(1);
		memcpy(elem, ref.elem, ITEM);
		if (write(rep[1], elem, ITEM) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	alarm(50);
	ASSERT_EQ(0, lfq_ring_attach(&ring, r.m.fd));
	side_init(&s, r.m.fd, U_BLOCK, 2, ITEM, 8, items, 0);
	s.producers = 2;
	s.seen = calloc(2 * items, 1);
	ASSERT_NE(NULL, s.seen);
	ASSERT_EQ(0, side_start(&s, t, side_consumer));
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 2, 0, items, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_u64_ge(&r.hdr->tail, items / 2, WAIT_MS));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, read_within(rep[0], lost, ITEM, WAIT_MS));
	kill9(_metadata, pid);
	ASSERT_EQ(0, job_wait(job, &res));
	LOG_RESULT("kernel producers", res);
	EXPECT_EQ(0, side_stop_consumers(&s, ring));
	side_join(&s, t);
	alarm(0);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(2 * items, res.moved);
	EXPECT_EQ(0, res.ring_errors);
	ASSERT_EQ(0, lfq_test_item_bad(lost, ITEM, 2));
	it = lfq_test_item_get(lost);
	TH_LOG("the child took producer %u seq %llu", it.producer,
	       (unsigned long long)it.seq);
	EXPECT_EQ(2 * items - 1, s.consumed);
	EXPECT_EQ(1, side_missing(&s));
	EXPECT_EQ(0, s.seen[it.producer * items + it.seq]);
	EXPECT_REPAIRS(r.m.desc, 0, 1, 0, 0);
	free(s.seen);
	lfq_ring_destroy(ring);
	raw_close(&r);
}

/*
 * A child consumer blocked in lfq_turn_pop() on an empty ring (its ticket
 * taken) is killed: the item that later comes for its ticket is released
 * unread and counted; the items after it arrive.
 */
TEST(kill9_consumer_blocked_in_pop_on_an_empty_ring)
{
	char elem[ITEM], c;
	struct lfq_ring *h;
	int rep[2], k;
	struct raw r;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, 4, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_ring *me;

		alarm(25);
		if (participant(&me, r.m.fd) || write(rep[1], "j", 1) != 1)
			_exit(1);
		lfq_turn_pop(me, elem);		/* blocks: the ring is empty */
		_exit(2);
	}
	alarm(25);
	ASSERT_EQ(0, read_within(rep[0], &c, 1, WAIT_MS));
	k = wait_claim_state(&r, LFQ_CLAIM_POP, WAIT_MS);
	ASSERT_LE(0, k);
	EXPECT_EQ(0, r.claims[k].pos);
	ASSERT_EQ(0, wait_asleep(pid, pid, WAIT_MS));
	kill9(_metadata, pid);
	EXPECT_EQ(0, r.m.desc->dropped);		/* nothing to drop yet */
	ASSERT_EQ(0, push_item(h, 0, 0));
	ASSERT_EQ(0, push_item(h, 0, 1));
	ASSERT_EQ(0, push_item(h, 0, 2));
	ASSERT_EQ(0, wait_u64(&r.m.desc->dropped, 1, REPAIR_MS));
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_TRUE(pop_is(h, 0, 2));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	alarm(0);
	EXPECT_REPAIRS(r.m.desc, 0, 1, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A stalled (SIGSTOPped) producer holds a reservation: a kernel consumer
 * takes what is before it and then ends on its timeout, holding no
 * ticket; after SIGCONT the producer commits and everything goes through.
 */
TEST(sigstopped_producer_times_kernel_consumers_out)
{
	struct lfq_test_result res;
	struct lfq_test_job j;
	int go[2], rep[2];
	struct lfq_ring *h;
	struct raw r;
	__u64 ticket;
	pid_t pid;
	char elem[ITEM];

	REQUIRE_PEER();
	raw_open_with_items(_metadata, &r, &h, 8, 2);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_turn_ref ref;
		struct lfq_ring *me;
		char c;

		alarm(25);
		if (participant(&me, r.m.fd) || lfq_turn_push_reserve(me, &ref))
			_exit(1);
		lfq_test_item_make(ref.elem, ITEM, 1, 0);
		if (write(rep[1], &ref.ticket, sizeof(ref.ticket)) < 0 ||
		    read(go[0], &c, 1) != 1 || lfq_turn_push_commit(me, &ref))
			_exit(1);
		lfq_ring_destroy(me);
		_exit(0);
	}
	alarm(25);
	ASSERT_EQ(0, read_within(rep[0], &ticket, sizeof(ticket), WAIT_MS));
	EXPECT_EQ(2, ticket);
	sigstop_child(_metadata, pid);
	ASSERT_EQ(0, push_item(h, 0, 2));
	ASSERT_EQ(0, push_item(h, 0, 3));
	j = job_params(r.m.fd, LFQ_TEST_CONSUME, 2, 2, 4, 2);
	expect_job_times_out(_metadata, &j, "kernel consumers", &res);
	EXPECT_EQ(2, res.moved);
	EXPECT_EQ(0, res.ring_errors);
	EXPECT_EQ(2, r.hdr->tail);		/* no ticket it could not use */
	sigcont_child(_metadata, pid, go[1]);
	alarm(0);
	EXPECT_TRUE(pop_is(h, 1, 0));
	EXPECT_TRUE(pop_is(h, 0, 2));
	EXPECT_TRUE(pop_is(h, 0, 3));
	EXPECT_EQ(-EAGAIN, lfq_turn_try_pop(h, elem));
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A stalled consumer holds a reservation of the slot the next producer
 * needs: a kernel producer ends on its timeout without taking a ticket;
 * after SIGCONT and the commit, kernel producers fill the ring again.
 */
TEST(sigstopped_consumer_times_kernel_producers_out)
{
	struct lfq_test_result res;
	int go[2], rep[2], job;
	struct lfq_test_job j;
	struct lfq_ring *h;
	struct lfq_test_item it;
	unsigned char held[ITEM];
	struct raw r;
	pid_t pid;

	REQUIRE_PEER();
	raw_open_with_items(_metadata, &r, &h, 2, 2);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_turn_ref ref;
		struct lfq_ring *me;
		char c;

		alarm(25);
		if (participant(&me, r.m.fd) || lfq_turn_pop_reserve(me, &ref))
			_exit(1);
		if (write(rep[1], ref.elem, ITEM) < 0 ||
		    read(go[0], &c, 1) != 1 || lfq_turn_pop_commit(me, &ref))
			_exit(1);
		lfq_ring_destroy(me);
		_exit(0);
	}
	alarm(25);
	ASSERT_EQ(0, read_within(rep[0], held, ITEM, WAIT_MS));
	it = lfq_test_item_get(held);
	EXPECT_EQ(0, it.seq);
	sigstop_child(_metadata, pid);
	EXPECT_TRUE(pop_is(h, 0, 1));
	EXPECT_TRUE(lfq_turn_empty(h));		/* empty, and yet full */
	j = job_params(r.m.fd, LFQ_TEST_PRODUCE, 1, 1, 3, 1);
	expect_job_times_out(_metadata, &j, "kernel producer", &res);
	EXPECT_EQ(0, res.moved);
	EXPECT_EQ(2, r.hdr->head);		/* no ticket taken */
	sigcont_child(_metadata, pid, go[1]);
	j.timeout_ms = WAIT_MS;
	job = job_start(&j);
	ASSERT_LE(0, job);
	EXPECT_TRUE(pop_wait_is(h, 1, 0));
	EXPECT_TRUE(pop_wait_is(h, 1, 1));
	EXPECT_TRUE(pop_wait_is(h, 1, 2));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(3, res.moved);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- a ring scribbled on ----------------------------------------------------- */

/*
 * A piece of garbage over a turn ring (scribble_for()): a header word, a
 * slot's turn or a claim record.
 */
static void turn_garble(unsigned char *region, const struct lfq_info *info,
			unsigned long long rnd, unsigned long long *x)
{
	size_t claim_words = info->nr_claims * sizeof(struct lfq_claim) / 8;
	volatile __u64 *w;

	switch (rnd & 3) {
	case 0:		/* head, tail, wait words */
		w = (void *)(region + (rnd >> 8) % (LFQ_TURN_SLOTS_OFF / 8) * 8);
		break;
	case 3:		/* claim records */
		w = (void *)(region + info->claims_off +
			     (rnd >> 8) % claim_words * 8);
		break;
	default:	/* a slot's turn */
		w = (void *)(region + info->slots_off +
			     (rnd >> 8) % info->capacity * info->slot_stride);
		break;
	}
	switch ((rnd >> 2) & 7) {
	case 3:		/* a lap away, as a turn (1 and 2: as a position) */
		*w += 2;
		break;
	case 4:
		*w -= 2;
		break;
	case 5:
		*w ^= LFQ_TURN_SKIPPED;
		break;
	default:
		garble_word(w, (rnd >> 2) & 7, rnd >> 5, x, info->capacity);
		break;
	}
}

/*
 * A participant of churn_for() on the ring r: it writes a record
 * (plausible or garbage, sometimes over a ticket really taken by hand)
 * and dies.
 */
static void claim_churn(void *r_, __u32 rec, int j, unsigned long long rnd,
			unsigned long long *x)
{
	struct raw *r = r_;
	__u64 cap = r->m.info.capacity;

	(void)j;
	switch (rnd % 8) {
	case 0:
		break;
	case 1:
		raw_claim(r, rec, LFQ_CLAIM_PUSH_PENDING, 0);
		break;
	case 2:		/* a ticket nobody has taken yet */
		raw_claim(r, rec, LFQ_CLAIM_PUSH,
			  ld64(&r->hdr->head) + (rnd >> 8) % (2 * cap));
		break;
	case 3:
		raw_claim(r, rec, LFQ_CLAIM_POP,
			  ld64(&r->hdr->tail) + (rnd >> 8) % (2 * cap));
		break;
	case 4:		/* a real hole */
		raw_claim(r, rec, LFQ_CLAIM_PUSH, take_head(r));
		break;
	case 5:
		raw_claim(r, rec, LFQ_CLAIM_POP, take_tail(r));
		break;
	case 6:
		raw_claim(r, rec, (__u32)(rnd >> 8) % 16, xorshift(x));
		break;
	default:
		raw_claim(r, rec, (__u32)(rnd >> 32), rnd);
		break;
	}
}

/*
 * A process writes garbage over one turn ring (header, turns, claim
 * records) while another makes participants join and die on it, and
 * kernel threads push and pop on it (copying and in place, surviving
 * -EIO), and other kernel threads use a second turn ring. The kernel must
 * survive, the jobs on the garbled ring end by their deadline and notice,
 * and the second ring stays exact.
 */
TEST_F_TIMEOUT(slow, scribbled_turn_ring_cannot_hurt_the_kernel_or_other_rings, 60)
{
	const int scribble_ms = 1500, deadline_ms = scribble_ms + 1500;
	const unsigned long long items = 10000;
	static const char *const what[] = {
		"garbled ring, consumers", "garbled ring, consumers in place",
		"garbled ring, producers in place", "garbled ring, producers",
		"other ring, consumers in place", "other ring, producers", NULL,
	};
	struct lfq_test_result res[6];
	struct lfq_test_job j;
	int job[6], i;
	struct raw r[2];
	long long start;

	REQUIRE_PEER();
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, raw_open(&r[i], 8, 64));

	/* ring 0: garbled; its threads carry on through -EIO to the deadline */
	j = job_params(r[0].m.fd, LFQ_TEST_CONSUME, 2, 4, 1 << 20, 2);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = j.deadline_ms = deadline_ms;
	start = now_ms();
	job[0] = job_start(&j);
	j.threads = 1;
	j.flags |= LFQ_TEST_F_RESERVE;
	job[1] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.threads = 2;
	j.producers = 0;
	job[2] = job_start(&j);
	j.flags &= ~LFQ_TEST_F_RESERVE;
	j.producers = 2;
	job[3] = job_start(&j);
	/* ring 1: exact, paced to last about as long as the scribbling */
	j = job_params(r[1].m.fd, LFQ_TEST_CONSUME, 2, 2, items, 2);
	j.flags = LFQ_TEST_F_RESERVE;
	job[4] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.producers = 0;
	j.flags = 0;
	j.pause_every = 500;
	j.pause_us = 20000;
	job[5] = job_start(&j);
	for (i = 0; i < 6; i++)
		ASSERT_LE(0, job[i]);

	garble_ring(_metadata, &r[0].m, scribble_ms, turn_garble, claim_churn,
		    &r[0]);
	wait_garbled_jobs(_metadata, job, res, what, 4, r[0].m.desc, start,
			  deadline_ms);
	for (i = 0; i < 4; i++) {
		EXPECT_TRUE(res[i].error == 0 || res[i].error == -ETIMEDOUT)
			TH_LOG("job %d ended on %d", i, res[i].error);
	}
	/* the kernel noticed, counted it, and says so in the descriptor */
	EXPECT_LT(0, r[0].m.desc->errors);
	EXPECT_LT(0, res[0].io_errors + res[1].io_errors + res[2].io_errors +
		     res[3].io_errors);
	/* the other ring saw nothing of it */
	EXPECT_EXACT(res[4], 2 * items);
	EXPECT_EQ(0, res[5].error);
	EXPECT_EQ(2 * items, res[5].moved);
	EXPECT_REPAIRS(r[1].m.desc, 0, 0, 0, 0);
	/* ring 0 may still have repairs pending: they go with the ring */
	for (i = 0; i < 2; i++)
		raw_close(&r[i]);
}

/* One kind of garbage at a time, written over and over for a while. */
enum target {
	T_HEAD_BACK, T_HEAD_AHEAD, T_TAIL_BACK, T_TAIL_AHEAD,
	T_TURNS_AHEAD, T_TURNS_SKIPPED, T_WAIT_WORDS,
	T_CLAIMS_UNTAKEN, T_CLAIMS_GARBAGE,
};

FIXTURE(turn_target) {
	struct raw r;
};

FIXTURE_VARIANT(turn_target) {
	enum target what;
	bool counted;		/* the kernel must count errors */
};

FIXTURE_VARIANT_ADD(turn_target, head_laps_back) { .what = T_HEAD_BACK, .counted = true };
FIXTURE_VARIANT_ADD(turn_target, head_laps_ahead) { .what = T_HEAD_AHEAD };
FIXTURE_VARIANT_ADD(turn_target, tail_laps_back) { .what = T_TAIL_BACK, .counted = true };
FIXTURE_VARIANT_ADD(turn_target, tail_laps_ahead) { .what = T_TAIL_AHEAD };
FIXTURE_VARIANT_ADD(turn_target, turns_laps_ahead) { .what = T_TURNS_AHEAD, .counted = true };
FIXTURE_VARIANT_ADD(turn_target, turns_skipped_bit) { .what = T_TURNS_SKIPPED };
FIXTURE_VARIANT_ADD(turn_target, wait_words) { .what = T_WAIT_WORDS };
FIXTURE_VARIANT_ADD(turn_target, claims_of_untaken_tickets) { .what = T_CLAIMS_UNTAKEN };
FIXTURE_VARIANT_ADD(turn_target, claims_garbage) { .what = T_CLAIMS_GARBAGE, .counted = true };

FIXTURE_SETUP(turn_target)
{
}

FIXTURE_TEARDOWN(turn_target)
{
	if (self->r.m.region)
		raw_close(&self->r);
}

static void target_once(struct raw *r, enum target what,
			unsigned long long *x)
{
	unsigned long long rnd = xorshift(x);
	__u64 cap = r->m.info.capacity, *w;
	__u32 rec;
	int j;

	switch (what) {
	case T_HEAD_BACK:
		st64(&r->hdr->head, ld64(&r->hdr->head) - 3 * cap);
		break;
	case T_HEAD_AHEAD:
		st64(&r->hdr->head, ld64(&r->hdr->head) + 1000 * cap);
		break;
	case T_TAIL_BACK:
		st64(&r->hdr->tail, ld64(&r->hdr->tail) - 3 * cap);
		break;
	case T_TAIL_AHEAD:
		st64(&r->hdr->tail, ld64(&r->hdr->tail) + 1000 * cap);
		break;
	case T_TURNS_AHEAD:
		w = raw_turn(r, rnd >> 8);
		st64(w, ld64(w) + 6);
		break;
	case T_TURNS_SKIPPED:
		w = raw_turn(r, rnd >> 8);
		st64(w, ld64(w) ^ LFQ_TURN_SKIPPED);
		break;
	case T_WAIT_WORDS:
		st32(rnd & 1 ? &r->hdr->not_empty.waiters : &r->hdr->not_full.waiters,
		     rnd & 2 ? 0 : (__u32)(rnd >> 32));
		st32(rnd & 4 ? &r->hdr->not_empty.futex : &r->hdr->not_full.futex,
		     (__u32)(rnd >> 16));
		break;
	case T_CLAIMS_UNTAKEN:
	case T_CLAIMS_GARBAGE:
		j = raw_join(r->m.fd, &rec);
		if (j < 0)
			break;
		if (what == T_CLAIMS_GARBAGE)
			raw_claim(r, rec, 5 + (__u32)(rnd >> 8) % 100, rnd);
		else if (rnd & 1)
			raw_claim(r, rec, LFQ_CLAIM_PUSH,
				  ld64(&r->hdr->head) + (rnd >> 8) % (2 * cap));
		else
			raw_claim(r, rec, LFQ_CLAIM_POP,
				  ld64(&r->hdr->tail) + (rnd >> 8) % (2 * cap));
		close(j);
		break;
	}
}

TEST_F_TIMEOUT(turn_target, kernel_threads_end_in_time_and_count_it, 30)
{
	const int deadline_ms = 1500, garble_ms = 300;
	unsigned long long x = 0x853c49e6748fea9bULL;
	struct lfq_test_result rp, rc;
	struct lfq_test_job j;
	long long start, end, took;
	int prod, cons;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&self->r, 8, ITEM));
	j = job_params(self->r.m.fd, LFQ_TEST_PRODUCE, 2, 0, 1 << 20, 2);
	j.flags = LFQ_TEST_F_SURVIVE_EIO | LFQ_TEST_F_RESERVE;
	j.timeout_ms = 500;
	j.deadline_ms = deadline_ms;
	start = now_ms();
	prod = job_start(&j);
	ASSERT_LE(0, prod);
	j.role = LFQ_TEST_CONSUME;
	j.producers = 2;
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	cons = job_start(&j);
	ASSERT_LE(0, cons);
	ASSERT_EQ(0, wait_u64_ge(&self->r.hdr->tail, 64, WAIT_MS));
	for (end = now_ms() + garble_ms; now_ms() < end; usleep(200))
		target_once(&self->r, variant->what, &x);
	ASSERT_EQ(0, job_wait(prod, &rp));
	ASSERT_EQ(0, job_wait(cons, &rc));
	took = now_ms() - start;
	LOG_RESULT("producers", rp);
	LOG_RESULT("consumers", rc);
	TH_LOG("ended after %lld ms (deadline %d ms); descriptor: %llu errors, %llu skipped, %llu dropped, %llu unresolved",
	       took, deadline_ms, (unsigned long long)self->r.m.desc->errors,
	       (unsigned long long)self->r.m.desc->skipped,
	       (unsigned long long)self->r.m.desc->dropped,
	       (unsigned long long)self->r.m.desc->unresolved);
	EXPECT_GT(deadline_ms + 3000, took);
	EXPECT_TRUE(rp.error == 0 || rp.error == -ETIMEDOUT)
		TH_LOG("producers ended on %d", rp.error);
	EXPECT_TRUE(rc.error == 0 || rc.error == -ETIMEDOUT)
		TH_LOG("consumers ended on %d", rc.error);
	if (variant->counted) {
		EXPECT_LT(0, self->r.m.desc->errors);
	}
}

/* ---- modes for vm-check.sh and by hand -------------------------------------- */

/*
 * hold-repair FILE: a turn ring whose dead producer's ticket waits for a
 * slot that never comes round (the ring is full and nobody pops), so its
 * repair stays pending and retries; create FILE and sleep until killed.
 * The ring fd pins lfq.ko; when we are killed the ring goes, and its
 * pending repair with it.
 */
static int hold_repair(const char *file)
{
	struct lfq_ring *h;
	struct raw r;
	__u32 rec;
	__u64 t;
	int j;

	if (raw_open(&r, 2, ITEM) || lfq_ring_attach(&h, r.m.fd) ||
	    push_item(h, 0, 0) || push_item(h, 0, 1))
		return 1;
	j = raw_take(&r, LFQ_CLAIM_PUSH, &rec, &t);
	if (j < 0)
		return 1;
	close(j);
	return hold_until_killed(file);
}

/*
 * claim-window: liblfq once cleared its claim record with two stores,
 * pos = 0 and then state: a participant that died between them after a
 * push of ticket t left { pos = 0, state = PUSH }, a claim of ticket 0
 * that it never held, and while ticket 0 was still in flight the module
 * "repaired" it under its live holder: marked its slot skipped, and the
 * holder's commit failed, its item lost. The record must never name a
 * ticket its owner does not hold, at any instruction (turn_claim() and
 * turn_hold() in user/turn.c).
 *
 * Deterministic with ptrace: we hold ticket 0 (push_reserve, joined); a
 * child joins and pushes ticket 1 one instruction at a time; if its
 * record ever claims a ticket other than 1, we kill it right there and
 * see what the module does. Exit status 0 if the record never lied (or
 * the module left ticket 0 alone), 1 if the module repaired our live
 * ticket 0, 3 on a setup error.
 */
static int claim_window(void)
{
	__u64 steps = 0, pos;
	__u32 rec = 1, state;
	struct lfq_turn_ref ref0;
	struct lfq_ring *h;
	int status, ret;
	bool lied = false;
	struct raw r;
	pid_t pid;

	if (raw_open(&r, 1024, ITEM) || participant(&h, r.m.fd) ||
	    lfq_turn_push_reserve(h, &ref0) || ref0.ticket != 0)
		return 3;
	lfq_test_item_make(ref0.elem, ITEM, 0, 0);
	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		struct lfq_ring *me;

		if (participant(&me, r.m.fd))
			_exit(3);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(3);
		raise(SIGSTOP);
		_exit(push_item(me, 1, 0) ? 4 : 0);	/* ticket 1, stepped */
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return 3;
	/* record 0 is ours, the child joined next */
	if (r.claims[rec].state != LFQ_CLAIM_IDLE)
		return 3;
	for (;;) {
		pos = ld64(&r.claims[rec].pos);
		state = ld32(&r.claims[rec].state);
		if ((state == LFQ_CLAIM_PUSH || state == LFQ_CLAIM_POP) &&
		    pos != 1) {
			lied = true;
			break;
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			return 3;
		if (waitpid(pid, &status, 0) != pid)
			return 3;
		if (!WIFSTOPPED(status))
			break;		/* the child is done */
		steps++;
	}
	if (!lied) {
		printf("# claim-window: the record only ever claimed the child's ticket (%llu steps, status %#x)\n",
		       (unsigned long long)steps, status);
		ret = lfq_turn_push_commit(h, &ref0);
		return WIFEXITED(status) && !WEXITSTATUS(status) && !ret &&
		       !r.m.desc->skipped ? 0 : 3;
	}
	printf("# claim-window: after %llu steps the child's record claims ticket %llu (state %u), which it never held: killed there\n",
	       (unsigned long long)steps, (unsigned long long)pos, state);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* its fd was released at its death: let the repair (if any) run */
	wait_record_free(r.m.fd, rec, REPAIR_MS);
	ret = lfq_turn_push_commit(h, &ref0);
	printf("# claim-window: desc skipped %llu dropped %llu; turn of ticket 0 %#llx; our commit of ticket 0: %d\n",
	       (unsigned long long)r.m.desc->skipped,
	       (unsigned long long)r.m.desc->dropped,
	       (unsigned long long)*raw_turn(&r, 0), ret);
	if (ret || r.m.desc->skipped) {
		printf("# claim-window: BUG: the module repaired ticket 0, which a live participant held\n");
		return 1;
	}
	printf("# claim-window: ok, ticket 0 was left alone\n");
	return 0;
}

/*
 * waiters-leak: a participant announces itself in a need-wakeup word
 * (lfq_wait.waiters) before it sleeps in LFQ_IOC_WAIT and takes itself
 * out when it wakes. Killed in between, it would stay counted for good:
 * every later lfq_wake() on the ring, in every process, would find a
 * sleeper, bump the futex word and (userspace) make an LFQ_IOC_WAKE
 * syscall, for the rest of the ring's life. The module takes a sleeper
 * killed in LFQ_IOC_WAIT off the count. Exit status 0 if the word is
 * back to 0 once the sleeper is dead, 1 if not, 3 on a setup error.
 */
static int waiters_leak(void)
{
	unsigned int before, after;
	struct lfq_ring *h;
	int status, i;
	struct raw r;
	pid_t pid;
	char elem[ITEM];

	if (raw_open(&r, 2, ITEM) || lfq_ring_attach(&h, r.m.fd) ||
	    push_item(h, 0, 0) || push_item(h, 0, 1))
		return 3;
	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		struct lfq_ring *me;

		if (participant(&me, r.m.fd))
			_exit(3);
		push_item_wait(me, 1, 0);	/* the ring is full: sleeps */
		_exit(0);
	}
	if (wait_u32_nonzero(&r.hdr->not_full.waiters, WAIT_MS) ||
	    wait_asleep(pid, pid, WAIT_MS))
		return 3;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* the module repairs its ticket once we make room */
	before = ld32(&r.hdr->not_full.futex);
	for (i = 0; i < 10; i++) {
		lfq_turn_pop(h, elem);
		push_item(h, 0, 2 + i);
	}
	after = ld32(&r.hdr->not_full.futex);
	printf("# waiters-leak: not_full.waiters is %u with nobody asleep; 10 pops made %u wake-ups (LFQ_IOC_WAKE calls); desc.skipped %llu\n",
	       ld32(&r.hdr->not_full.waiters), after - before,
	       (unsigned long long)r.m.desc->skipped);
	return ld32(&r.hdr->not_full.waiters) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold-repair"))
		return hold_repair(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "claim-window"))
		return access("/dev/lfq", F_OK) ? 4 : claim_window();
	if (argc == 2 && !strcmp(argv[1], "waiters-leak"))
		return access("/dev/lfq", F_OK) ? 4 : waiters_leak();
	if (argc > 1)
		filter_tests(argc - 1, argv + 1);
	return test_harness_run(argc, argv);
}
