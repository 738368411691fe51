// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the MPSC log ring (LFQ_RING_MPSC) on /dev/lfq and with
 * the kernel peer lfq_test.ko, run in the VM (selftests/dev/vm-check.sh)
 * with both modules loaded; every test skips when /dev/lfq (or
 * /dev/lfq_test) is absent.
 *
 *   abi         LFQ_IOC_CREATE with each policy, LFQ_IOC_INFO against
 *               liblfq's layout, the formatted ring region, records as
 *               the uapi header draws them (written by liblfq and by the
 *               kernel, and by hand for the kernel to read), fdinfo, poll,
 *               liblfq's claim record, the peer's MPSC jobs
 *   wake-ups    a commit wakes the consumer only if it waits at that very
 *               record, whether userspace or a kernel thread commits
 *   kernel log  kernel threads, a timer, an hrtimer and NMIs log into one
 *               ring that a user consumer drains through the mapping,
 *               asleep in epoll between records: every record once, in
 *               order per producer, from every context, and the kernel
 *               woke the consumer no more often than it slept
 *   transfers   user threads -> kernel consumer; processes -> process
 *   policies    DISCARD counts its refusals, OVERWRITE keeps the newest
 *               records and never frees one the consumer holds, BLOCK
 *               sleepers on either side are woken by the other side
 *   kill -9     a joined producer killed holding a reservation (between
 *               committed records, or in a stream of kernel producers): it
 *               is skipped, never read; a joined consumer killed holding
 *               records, or inside its release (ptrace): they are freed,
 *               and the taker lock; an unjoined producer or consumer
 *               killed holding a reservation or the lock: the ring stalls
 *               there for good
 *   bad input   corrupt records and positions written through the mapping,
 *               forged claim records, scribblers: the kernel counts the
 *               corruption, changes nothing it cannot trust, ends its jobs
 *               in time, never crashes (the VM fails the run on any oops
 *               or warning), and other rings stay exact
 *
 * Records carry lfq_test_item.h items (the fill pattern runs over the
 * whole record, whatever its length); consumers check that each is
 * well-formed, of the length its producer gave it, seen once, in order per
 * producer, and that none is lost. Nothing waits on a guess: children
 * report over pipes, sleepers are seen asleep (/proc state, need-wakeup
 * words), and the repairs are awaited with a timeout.
 *
 *   mpsc_dev_test [NAME...]   run the tests whose name contains a NAME
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
#include <sys/epoll.h>
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

/* The module repairs a dead participant from a workqueue, at once. */
#define REPAIR_MS	5000
/*
 * The kernel log's consumer sleeps in epoll this long at most: while the
 * job runs its producers commit a record every few milliseconds (a timer
 * fires every tick), and its end makes the job fd readable, so a sleep
 * this long is a lost wake-up.
 */
#define LOG_SLEEP_MS	5000
/* The longest record the tests write. */
#define REC_MAX		2048

/* ---- helpers ---------------------------------------------------------------- */

static struct lfq_create mpsc(unsigned int policy, unsigned int capacity,
			      unsigned int elem_size)
{
	return raw_params(LFQ_RING_MPSC, policy, capacity, elem_size);
}

/* An MPSC ring seen through the raw ABI: its fd and both mappings. */
struct raw {
	struct lfq_raw_map m;
	struct lfq_mpsc_hdr *hdr;
	struct lfq_claim *claims;
};

/* Map the MPSC ring behind fd, which r owns from now on: 0 or -errno. */
static int raw_map(struct raw *r, int fd)
{
	int ret = lfq_raw_map_fd(&r->m, fd);

	r->hdr = (void *)r->m.region;
	r->claims = lfq_raw_claims(&r->m);
	return ret;
}

/* A new MPSC ring, mapped: 0 or -errno. */
static int raw_open(struct raw *r, unsigned int policy, unsigned int capacity,
		    unsigned int elem_size)
{
	struct lfq_create c = mpsc(policy, capacity, elem_size);

	return raw_map(r, raw_create(&c));
}

static void raw_close(struct raw *r)
{
	lfq_raw_unmap(&r->m);
}

/* The header of the record at position pos, at the start of its slot. */
static struct lfq_mpsc_rec *raw_rec(const struct raw *r, __u64 pos)
{
	return lfq_raw_slot(&r->m, pos);
}

/*
 * Where the payload of a record of slots positions at pos starts, as the
 * uapi header says: after its header, or at slot 0 if the record runs
 * past the end of the lap.
 */
static void *raw_payload(const struct raw *r, __u64 pos, __u32 slots)
{
	if ((pos & (r->m.info.capacity - 1)) + slots > r->m.info.capacity)
		return r->m.region + r->m.info.slots_off;
	return (unsigned char *)raw_rec(r, pos) + LFQ_MPSC_SLOT_HDR;
}

/*
 * Publish a record by hand, as a producer that reserved positions
 * pos..pos+slots-1 would: header and payload (item (producer, seq) of
 * len bytes, none if len is 0), then seq.
 */
static void raw_publish(struct raw *r, __u64 pos, __u32 slots, __u32 len,
			__u32 producer, __u64 seq)
{
	struct lfq_mpsc_rec *rec = raw_rec(r, pos);

	st64(&r->hdr->head, pos + slots);
	rec->len = len;
	rec->slots = slots;
	if (len)
		lfq_test_item_make(raw_payload(r, pos, slots), len, producer, seq);
	st64(&rec->seq, pos + 1);
}

/* Write claim record rec as a participant does: pos and slots, then state. */
static void raw_claim(struct raw *r, __u32 rec, __u32 state, __u64 pos,
		      __u32 slots)
{
	__atomic_store_n(&r->claims[rec].pos, pos, __ATOMIC_RELAXED);
	__atomic_store_n(&r->claims[rec].slots, slots, __ATOMIC_RELAXED);
	st32(&r->claims[rec].state, state);
}

/* A participant's own handle on the ring behind fd, joined: 0 or -errno. */
/* Wait up to ms for *p to become want: 0, or -ETIMEDOUT. */
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

/* The state letter of a task in /proc (R, S, T, ...), or 0. */
/* Wait until task tid of process pid sleeps (S): 0, or -ETIMEDOUT. */
/* The text of /proc/self/fdinfo/fd. */
/* Read exactly n bytes within ms: 0, or -ETIMEDOUT / -EPIPE / -errno. */
/*
 * Run job j with a 500 ms timeout on a ring that may be stalled or
 * corrupt: it must end in time, whatever the ring holds. Its result in
 * *res.
 */
static void run_job(struct __test_metadata *_metadata, struct lfq_test_job *j,
		    const char *what, struct lfq_test_result *res)
{
	long long start = now_ms(), took;
	int job;

	j->timeout_ms = 500;
	j->deadline_ms = 20000;
	job = job_start(j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, res));
	took = now_ms() - start;
	LOG_RESULT(what, *res);
	TH_LOG("the job ended after %lld ms (timeout 500 ms)", took);
	EXPECT_GT(500 + 3000, took);
}

/* The repair counters of a ring's descriptor, all at once. */
#define EXPECT_REPAIRS(desc, sk, dr, un, er) do {			\
	EXPECT_EQ((__u64)(sk), ld64(&(desc)->skipped));			\
	EXPECT_EQ((__u64)(dr), ld64(&(desc)->dropped));			\
	EXPECT_EQ((__u64)(un), ld64(&(desc)->unresolved));		\
	EXPECT_EQ((__u64)(er), ld64(&(desc)->errors));			\
} while (0)

/* ---- records ------------------------------------------------------------------ */

/* Whether a record of len bytes is item (producer, seq), fill included. */
static bool rec_is(const void *p, unsigned int len, __u32 producer, __u64 seq)
{
	struct lfq_test_item it;

	if (len < ITEM)
		return false;
	it = lfq_test_item_get(p);
	return !lfq_test_item_bad(p, len, producer + 1) &&
	       it.producer == producer && it.seq == seq;
}

static int push_rec(struct lfq_ring *h, __u32 producer, __u64 seq,
		    unsigned int len)
{
	unsigned char buf[REC_MAX];

	lfq_test_item_make(buf, len, producer, seq);
	return lfq_mpsc_try_push(h, buf, len);
}

/* Pop a record with h: is it item (producer, seq), len bytes long? */
static bool pop_is(struct lfq_ring *h, __u32 producer, __u64 seq,
		   unsigned int len)
{
	unsigned char buf[REC_MAX];
	int n = lfq_mpsc_try_pop(h, buf, sizeof(buf));

	return n == (int)len && rec_is(buf, len, producer, seq);
}

/* The length of record seq of producer in the variable-length tests. */
static unsigned int rec_len(__u32 producer, __u64 seq, unsigned int max_len)
{
	return ITEM + (unsigned int)((seq * 131 + producer * 17) %
				     (max_len - ITEM + 1));
}

/*
 * What one consumer saw of producers 0..producers-1, each writing seq
 * 0..items-1, in records of len bytes (or rec_len(..., max_len) if len
 * is 0). The MPSC ring has one consumer, so this is never shared.
 */
struct checker {
	unsigned int producers;
	unsigned long long items;
	unsigned int len, max_len;
	unsigned char *seen;		/* producers * items */
	long long last[LFQ_TEST_MAX_PRODUCERS];
	unsigned long long consumed;
	char why[200];			/* the first problem */
};

static int checker_init(struct checker *ck, unsigned int producers,
			unsigned long long items, unsigned int len,
			unsigned int max_len)
{
	unsigned int i;

	memset(ck, 0, sizeof(*ck));
	ck->producers = producers;
	ck->items = items;
	ck->len = len;
	ck->max_len = max_len;
	for (i = 0; i < LFQ_TEST_MAX_PRODUCERS; i++)
		ck->last[i] = -1;
	ck->seen = calloc(producers * items, 1);
	return ck->seen ? 0 : -ENOMEM;
}

static int checker_fail(struct checker *ck, const char *fmt, ...)
{
	va_list ap;

	if (!ck->why[0]) {
		va_start(ap, fmt);
		vsnprintf(ck->why, sizeof(ck->why), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Check one record of len bytes against everything seen: 0 or -EBADMSG. */
static int check_rec(struct checker *ck, const void *p, unsigned int len)
{
	struct lfq_test_item it;
	unsigned int want;

	if (len < ITEM)
		return checker_fail(ck, "a record of %u bytes", len);
	it = lfq_test_item_get(p);
	if (lfq_test_item_bad(p, len, ck->producers) || it.seq >= ck->items)
		return checker_fail(ck, "malformed record of %u bytes (producer %u seq %llu)",
				    len, it.producer, (unsigned long long)it.seq);
	want = ck->len ? ck->len : rec_len(it.producer, it.seq, ck->max_len);
	if (len != want)
		return checker_fail(ck, "producer %u seq %llu: %u bytes, not %u",
				    it.producer, (unsigned long long)it.seq,
				    len, want);
	if ((long long)it.seq <= ck->last[it.producer])
		return checker_fail(ck, "producer %u seq %llu after %lld",
				    it.producer, (unsigned long long)it.seq,
				    ck->last[it.producer]);
	ck->last[it.producer] = (long long)it.seq;
	if (ck->seen[it.producer * ck->items + it.seq]++)
		return checker_fail(ck, "producer %u seq %llu twice", it.producer,
				    (unsigned long long)it.seq);
	ck->consumed++;
	return 0;
}

static unsigned long long checker_missing(const struct checker *ck)
{
	unsigned long long n, missing = 0;

	for (n = 0; n < ck->producers * ck->items; n++)
		missing += !ck->seen[n];
	return missing;
}

/* ---- the consumer of kernel producers -------------------------------------- */

/*
 * A user consumer of a ring that a kernel job fills: it takes records in
 * place (lfq_mpsc_peek_burst(), one release for the batch) or copies them
 * out (lfq_mpsc_try_pop()), checks each, and when nothing is committed at
 * tail it announces itself (lfq_ring_wait_begin()) and sleeps in epoll on
 * the ring fd and the job fd, which turns readable when the job ends. It
 * stops once it has every record, or when the job has ended and the ring
 * is empty. An epoll_wait() that times out is counted: while the job runs,
 * it is a lost wake-up (or a stalled job).
 */
struct drain {
	struct lfq_ring *h;
	int job;
	unsigned int burst;		/* 1: lfq_mpsc_try_pop() */
	unsigned long long total;	/* records expected */
	struct checker ck;
	unsigned long long begins;	/* lfq_ring_wait_begin() calls */
	unsigned long long sleeps;	/* epoll_wait() calls */
	unsigned long long ring_wakes;	/* of those, ended by the ring fd */
	unsigned long long timeouts;	/* of those, ended by the timeout */
	bool stranded;			/* a timeout found a record at tail */
	int error;			/* of a take: 0 or -errno */
};

static int drain_init(struct drain *d, struct lfq_ring *h, int job,
		      unsigned int burst, unsigned int producers,
		      unsigned long long items, unsigned int len)
{
	memset(d, 0, sizeof(*d));
	d->h = h;
	d->job = job;
	d->burst = burst;
	d->total = producers * items;
	return checker_init(&d->ck, producers, items, len, 0);
}

/* Take what is committed at tail: records taken, or -errno. */
static int drain_take(struct drain *d)
{
	struct lfq_mpsc_res res[LFQ_TEST_MAX_BURST];
	unsigned char buf[REC_MAX];
	int n, i;

	if (d->burst == 1) {
		n = lfq_mpsc_try_pop(d->h, buf, sizeof(buf));
		if (n < 0)
			return n;
		return check_rec(&d->ck, buf, n) ?: 1;
	}
	n = lfq_mpsc_peek_burst(d->h, res, d->burst);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (check_rec(&d->ck, res[i].data, res[i].len))
			return -EBADMSG;
	return lfq_mpsc_release(d->h, &res[n - 1]) ?: n;
}

static void drain_run(struct drain *d)
{
	struct epoll_event ev[2] = {
		{ .events = EPOLLIN, .data.u32 = 0 },
		{ .events = EPOLLIN, .data.u32 = 1 },
	};
	bool ended = false;
	int ep, n, i, ret;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfq_ring_fd(d->h), &ev[0]) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, d->job, &ev[1])) {
		d->error = -errno;
		return;
	}
	for (;;) {
		ret = drain_take(d);
		if (ret > 0)
			continue;
		if (ret == -EBUSY) {		/* a moment: see lfq.h */
			sched_yield();
			continue;
		}
		if (ret != -EAGAIN) {
			d->error = ret;
			break;
		}
		if (d->ck.consumed == d->total || ended)
			break;
		d->begins++;
		if (lfq_ring_wait_begin(d->h, POLLIN) == 0) {
			d->sleeps++;
			n = epoll_wait(ep, ev, 2, LOG_SLEEP_MS);
			if (n == 0) {
				d->timeouts++;
				if (poll_now(lfq_ring_fd(d->h)) & POLLIN)
					d->stranded = true;
			}
			for (i = 0; i < n; i++) {
				if (ev[i].data.u32)
					ended = true;
				else
					d->ring_wakes++;
			}
		}
		lfq_ring_wait_end(d->h, POLLIN);
	}
	close(ep);
}

/* ---- the ring fd ------------------------------------------------------------ */

TEST(mpsc_create_takes_each_policy_and_no_other)
{
	static const struct bad_create bad[] = {
		{ "policy 3", { .type = 3, .capacity = 4, .elem_size = 8, .policy = 3 }, -EINVAL },
		{ "policy ~0", { .type = 3, .capacity = 4, .elem_size = 8, .policy = ~0U }, -EINVAL },
		{ "flag bit 0", { .type = 3, .capacity = 4, .elem_size = 8, .flags = 1 }, -EINVAL },
		{ "__pad", { .type = 3, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "capacity 1", { .type = 3, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 12", { .type = 3, .capacity = 12, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 3, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "type 6", { .type = 6, .capacity = 4, .elem_size = 8 }, -EINVAL },
	};
	static const struct lfq_create good[] = {
		{ .type = 3, .capacity = 2, .elem_size = 1, .policy = LFQ_MPSC_DISCARD },
		{ .type = 3, .capacity = 2, .elem_size = 1, .policy = LFQ_MPSC_BLOCK },
		{ .type = 3, .capacity = 2, .elem_size = 1, .policy = LFQ_MPSC_OVERWRITE },
		{ .type = 3, .capacity = 1024, .elem_size = 4000, .policy = LFQ_MPSC_BLOCK },
	};

	REQUIRE_DEV();
	expect_creates(_metadata, bad, ARRAY_SIZE(bad), good, ARRAY_SIZE(good));
	/* the ring keeps its policy; liblfq refuses what the module refuses */
	expect_policies(_metadata, LFQ_RING_MPSC, LFQ_MPSC_OVERWRITE + 1, 8);
}

/* LFQ_IOC_INFO, the descriptor and liblfq's own layout all agree. */
TEST(mpsc_info_is_liblfqs_layout)
{
	static const struct lfq_create rings[] = {
		{ .type = 3, .capacity = 64, .elem_size = 100, .policy = LFQ_MPSC_BLOCK },
		{ .type = 3, .capacity = 2, .elem_size = 1, .policy = LFQ_MPSC_DISCARD },
		{ .type = 3, .capacity = 1024, .elem_size = 4000, .policy = LFQ_MPSC_OVERWRITE },
	};
	unsigned long long stride;
	struct lfq_ring *dev, *heap;
	struct lfq_info info;
	unsigned int i;
	struct raw r;
	int fd;

	REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(rings); i++) {
		const struct lfq_create *c = &rings[i];

		stride = LFQ_STRIDE(LFQ_MPSC_SLOT_HDR, c->elem_size);
		fd = raw_create(c);
		ASSERT_LE(0, fd);
		/* slots at LFQ_MPSC_SLOTS_OFF */
		expect_info(_metadata, fd, c, 320, stride,
			    sizeof(struct lfq_claim), &info);
		ASSERT_EQ(0, raw_map(&r, fd));
		EXPECT_EQ(0, memcmp(&r.m.desc->info, &info, sizeof(info)));
		EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
		raw_close(&r);

		ASSERT_EQ(0, lfq_ring_create(&dev, c, LFQ_MEM_DEV));
		ASSERT_EQ(0, lfq_ring_create(&heap, c, LFQ_MEM_HEAP));
		expect_same_layout(_metadata, c, dev, heap);
		/* half the ring less one header, on both */
		EXPECT_EQ(c->capacity / 2 * stride - LFQ_MPSC_SLOT_HDR,
			  lfq_mpsc_max_len(dev));
		EXPECT_EQ(lfq_mpsc_max_len(dev), lfq_mpsc_max_len(heap));
		lfq_ring_destroy(heap);
		lfq_ring_destroy(dev);
	}
}

/* Header, wait words and counters are zero; slot p starts free for p. */
TEST(mpsc_ring_region_starts_formatted)
{
	size_t psz = getpagesize(), i;
	struct lfq_mpsc_rec *rec;
	struct raw r;
	__u64 pos;
	void *p;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	for (i = 0; i < LFQ_MPSC_SLOTS_OFF; i++)
		if (r.m.region[i])
			break;
	EXPECT_EQ(LFQ_MPSC_SLOTS_OFF, i);
	for (pos = 0; pos < 8; pos++) {
		rec = raw_rec(&r, pos);
		EXPECT_EQ(pos, rec->seq);
		EXPECT_EQ(0, rec->len | rec->slots);
		for (i = sizeof(*rec); i < r.m.info.slot_stride; i++)
			if (((unsigned char *)rec)[i])
				break;
		EXPECT_EQ(r.m.info.slot_stride, i);
	}
	for (i = r.m.info.claims_off; i < r.m.info.ring_size; i++)
		if (r.m.region[i])
			break;
	EXPECT_EQ(r.m.info.ring_size, i);
	p = mmap(NULL, r.m.info.ring_size + psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED, r.m.fd, LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	raw_close(&r);
}

/*
 * Records written by liblfq and by the kernel are where the uapi header
 * says: one slot, several slots (the payload runs over the headers of
 * the next slots), and across the end of the lap (the payload from slot
 * 0); freeing a record resets the seq of every position it took.
 */
TEST(mpsc_records_are_laid_out_as_the_uapi_says)
{
	struct lfq_test_result res;
	struct lfq_ring *h;
	struct raw r;
	__u64 pos;
	int job;

	REQUIRE_PEER();
	/* stride 64: a one-slot record holds up to 48 bytes */
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, 40));
	ASSERT_EQ(64, r.m.info.slot_stride);
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	EXPECT_EQ(4 * 64 - 16, lfq_mpsc_max_len(h));
	ASSERT_EQ(0, push_rec(h, 0, 0, 40));
	ASSERT_EQ(0, push_rec(h, 0, 1, 100));
	EXPECT_EQ(3, r.hdr->head);
	EXPECT_EQ(1, raw_rec(&r, 0)->seq);
	EXPECT_EQ(40, raw_rec(&r, 0)->len);
	EXPECT_EQ(1, raw_rec(&r, 0)->slots);
	EXPECT_TRUE(rec_is(raw_payload(&r, 0, 1), 40, 0, 0));
	EXPECT_EQ(2, raw_rec(&r, 1)->seq);
	EXPECT_EQ(100, raw_rec(&r, 1)->len);
	EXPECT_EQ(2, raw_rec(&r, 1)->slots);
	EXPECT_TRUE(rec_is((char *)raw_rec(&r, 1) + 16, 100, 0, 1));
	EXPECT_TRUE(pop_is(h, 0, 0, 40));
	EXPECT_TRUE(pop_is(h, 0, 1, 100));
	for (pos = 0; pos < 3; pos++)
		EXPECT_EQ(pos + 8, raw_rec(&r, pos)->seq);
	/* 216 bytes at position 3: four slots, up to the end of the lap */
	ASSERT_EQ(0, push_rec(h, 0, 2, 200));
	EXPECT_EQ(4, raw_rec(&r, 3)->slots);
	EXPECT_TRUE(pop_is(h, 0, 2, 200));
	/* 100 bytes at position 7 would run past the lap: slot 0 holds them */
	ASSERT_EQ(7, r.hdr->tail);
	ASSERT_EQ(0, push_rec(h, 0, 3, 100));
	EXPECT_EQ(10, r.hdr->head);
	EXPECT_EQ(8, raw_rec(&r, 7)->seq);
	EXPECT_EQ(100, raw_rec(&r, 7)->len);
	EXPECT_EQ(1 + 2, raw_rec(&r, 7)->slots);
	EXPECT_EQ(r.m.region + r.m.info.slots_off, raw_payload(&r, 7, 3));
	EXPECT_TRUE(rec_is(raw_payload(&r, 7, 3), 100, 0, 3));
	EXPECT_TRUE(pop_is(h, 0, 3, 100));
	for (pos = 7; pos < 10; pos++)
		EXPECT_EQ(pos + 8, raw_rec(&r, pos)->seq);

	/* the kernel writes the same records */
	alarm(20);
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 3, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(3, res.moved);
	for (pos = 10; pos < 13; pos++) {
		EXPECT_EQ(pos + 1, raw_rec(&r, pos)->seq);
		EXPECT_EQ(40, raw_rec(&r, pos)->len);
		EXPECT_EQ(1, raw_rec(&r, pos)->slots);
		EXPECT_TRUE(rec_is(raw_payload(&r, pos, 1), 40, 0, pos - 10));
	}
	for (pos = 0; pos < 3; pos++)
		EXPECT_TRUE(pop_is(h, 0, pos, 40));

	/*
	 * ...and reads records written by hand: a dead producer's (no
	 * payload), two slots, one slot, then one across the lap's end
	 */
	ASSERT_EQ(13, r.hdr->tail);
	raw_publish(&r, 13, 1, 0, 0, 0);
	raw_publish(&r, 14, 2, 40, 0, 0);
	raw_publish(&r, 16, 1, 40, 0, 1);
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 2, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	LOG_RESULT("kernel consumer", res);
	EXPECT_EXACT(res, 2);
	EXPECT_EQ(17, r.hdr->tail);
	raw_publish(&r, 17, 1, 40, 0, 0);
	/* slots 2..7 of this lap and slot 0 of the next, the payload's */
	raw_publish(&r, 18, 7, 40, 0, 1);
	EXPECT_TRUE(rec_is(r.m.region + r.m.info.slots_off, 40, 0, 1));
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 2, 4);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumer", res);
	EXPECT_EXACT(res, 2);
	EXPECT_EQ(25, r.hdr->tail);
	for (pos = 17; pos < 25; pos++)
		EXPECT_EQ(pos + 8, raw_rec(&r, pos)->seq);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* The 64-bit word at byte off of the ring region. */
static __u64 word_at(const struct raw *r, size_t off)
{
	return ld64((const __u64 *)(r->m.region + off));
}

/*
 * fdinfo says the policy, positions and counters, which are the words of
 * the mapping at the offsets the uapi header gives them.
 */
TEST(mpsc_fdinfo_and_header_words_agree)
{
	static const struct {
		const char *name;
		__u64 head, tail, dropped, overwritten;
	} want[] = {
		/* ten one-slot records into eight slots, then one popped */
		[LFQ_MPSC_DISCARD] = { "discard", 8, 1, 2, 0 },
		[LFQ_MPSC_BLOCK] = { "block", 8, 1, 0, 0 },	/* uncounted */
		[LFQ_MPSC_OVERWRITE] = { "overwrite", 10, 3, 0, 2 },
	};
	char text[1024], line[64];
	struct lfq_ring *ring;
	unsigned int policy, i;
	struct raw r;
	__u32 rec;
	int j;

	REQUIRE_DEV();
	for (policy = 0; policy < 3; policy++) {
		ASSERT_EQ(0, raw_open(&r, policy, 8, ITEM));
		ASSERT_EQ(0, lfq_ring_attach(&ring, r.m.fd));
		for (i = 0; i < 10; i++)
			push_rec(ring, 0, i, ITEM);
		ASSERT_LT(0, lfq_mpsc_try_pop(ring, text, sizeof(text)));
		fdinfo(r.m.fd, text, sizeof(text));
		TH_LOG("%s", text);
		EXPECT_NE(NULL, strstr(text, "lfq-type:\tmpsc\n"));
		EXPECT_NE(NULL, strstr(text, "lfq-capacity:\t8\n"));
		EXPECT_NE(NULL, strstr(text, "lfq-slot-stride:\t64\n"));
		snprintf(line, sizeof(line), "lfq-policy:\t%s\n", want[policy].name);
		EXPECT_NE(NULL, strstr(text, line));
		snprintf(line, sizeof(line), "lfq-head:\t%llu\n", want[policy].head);
		EXPECT_NE(NULL, strstr(text, line));
		snprintf(line, sizeof(line), "lfq-tail:\t%llu\n", want[policy].tail);
		EXPECT_NE(NULL, strstr(text, line));
		snprintf(line, sizeof(line), "lfq-dropped:\t%llu\n", want[policy].dropped);
		EXPECT_NE(NULL, strstr(text, line));
		snprintf(line, sizeof(line), "lfq-overwritten:\t%llu\n",
			 want[policy].overwritten);
		EXPECT_NE(NULL, strstr(text, line));
		EXPECT_NE(NULL, strstr(text, "lfq-errors:\t0\n"));
		EXPECT_NE(NULL, strstr(text,
			"lfq-repaired:\t0 skipped 0 dropped 0 unresolved\n"));
		EXPECT_EQ(NULL, strstr(text, "lfq-claim:"));
		EXPECT_EQ(want[policy].head, word_at(&r, 0));
		EXPECT_EQ(want[policy].tail, word_at(&r, 64));
		EXPECT_EQ(want[policy].dropped, word_at(&r, 256));
		EXPECT_EQ(want[policy].overwritten, word_at(&r, 264));
		EXPECT_EQ(0, word_at(&r, 128) | word_at(&r, 192));	/* no sleeper */
		j = raw_join(r.m.fd, &rec);
		ASSERT_LE(0, j);
		fdinfo(j, text, sizeof(text));
		snprintf(line, sizeof(line), "lfq-claim:\t%u\n", rec);
		EXPECT_NE(NULL, strstr(text, line));
		close(j);
		lfq_ring_destroy(ring);
		raw_close(&r);
	}
}

/*
 * poll: readable when a committed record waits at tail (not one being
 * written, nor one the consumer holds), writable while a slot is free.
 */
TEST(mpsc_poll_follows_the_record_at_tail)
{
	struct lfq_create c = mpsc(LFQ_MPSC_DISCARD, 4, ITEM);
	struct lfq_mpsc_res a, b, held;
	struct lfq_ring *ring;
	int fd;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	fd = lfq_ring_fd(ring);
	EXPECT_EQ(POLLOUT, poll_now(fd));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(ring, ITEM, &a));
	EXPECT_EQ(POLLOUT, poll_now(fd));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(ring, ITEM, &b));
	lfq_test_item_make(b.data, ITEM, 0, 1);
	ASSERT_EQ(0, lfq_mpsc_commit(ring, &b));
	EXPECT_EQ(POLLOUT, poll_now(fd));	/* not at tail */
	lfq_test_item_make(a.data, ITEM, 0, 0);
	ASSERT_EQ(0, lfq_mpsc_commit(ring, &a));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(fd));
	ASSERT_EQ(0, push_rec(ring, 0, 2, ITEM));
	ASSERT_EQ(0, push_rec(ring, 0, 3, ITEM));
	EXPECT_EQ(POLLIN, poll_now(fd));
	/* the consumer holds the record at tail: neither */
	ASSERT_EQ(0, lfq_mpsc_peek(ring, &held));
	EXPECT_EQ(0, poll_now(fd));
	ASSERT_EQ(0, lfq_mpsc_release(ring, &held));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(fd));
	EXPECT_TRUE(pop_is(ring, 0, 1, ITEM));
	EXPECT_TRUE(pop_is(ring, 0, 2, ITEM));
	EXPECT_TRUE(pop_is(ring, 0, 3, ITEM));
	EXPECT_EQ(POLLOUT, poll_now(fd));
	lfq_ring_destroy(ring);
}

/*
 * A joined handle writes its claim record around every reservation (PUSH,
 * its position and slots) and every take (POP, and the positions it
 * holds under the taker lock, which like the records it holds carries
 * its record's index), holds one of them at a time, and leaves the
 * record idle.
 */
TEST(mpsc_liblfq_writes_its_claim_record)
{
	struct lfq_mpsc_res res, other, burst[3];
	struct lfq_ring *h, *plain;
	unsigned char buf[REC_MAX];
	struct lfq_claim *cl;
	struct raw r;
	unsigned int i;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&plain, r.m.fd));
	cl = &r.claims[0];		/* the first joiner's */
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	ASSERT_EQ(0, lfq_mpsc_try_reserve(h, 100, &res));
	EXPECT_EQ(LFQ_CLAIM_PUSH, cl->state);
	EXPECT_EQ(res.pos, cl->pos);
	EXPECT_EQ(2, res.slots);
	EXPECT_EQ(res.slots, cl->slots);
	/* one at a time */
	EXPECT_EQ(-EBUSY, lfq_mpsc_try_reserve(h, ITEM, &other));
	EXPECT_EQ(-EBUSY, push_rec(h, 0, 9, ITEM));
	EXPECT_EQ(-EBUSY, lfq_mpsc_peek(h, &other));
	EXPECT_EQ(-EBUSY, lfq_mpsc_try_pop(h, buf, sizeof(buf)));
	/* another handle's reservation is not ours to commit */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(plain, ITEM, &other));
	EXPECT_EQ(-EINVAL, lfq_mpsc_commit(h, &other));
	EXPECT_EQ(LFQ_CLAIM_PUSH, cl->state);
	lfq_test_item_make(res.data, 100, 0, 0);
	ASSERT_EQ(0, lfq_mpsc_commit(h, &res));
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	EXPECT_EQ(-EINVAL, lfq_mpsc_commit(h, &res));
	lfq_test_item_make(other.data, ITEM, 0, 1);
	ASSERT_EQ(0, lfq_mpsc_commit(plain, &other));
	ASSERT_EQ(0, push_rec(h, 0, 2, ITEM));
	ASSERT_EQ(0, push_rec(h, 0, 3, ITEM));
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);

	/*
	 * takes: under the taker lock, which carries record 0's index as
	 * the records taken do; the claim names the positions from the
	 * tail at the lock to the end of the last record taken
	 */
	ASSERT_EQ(0, lfq_mpsc_peek(h, &res));
	EXPECT_EQ(LFQ_CLAIM_POP, cl->state);
	EXPECT_EQ(0, cl->pos);
	EXPECT_EQ(2, cl->slots);
	EXPECT_EQ(LFQ_MPSC_TAKEN | 0, r.hdr->taker);
	EXPECT_EQ(LFQ_MPSC_TAKEN | 0, raw_rec(&r, 0)->seq);
	EXPECT_EQ(-EBUSY, lfq_mpsc_peek(h, &other));
	EXPECT_EQ(-EBUSY, lfq_mpsc_peek(plain, &other));	/* the lock */
	ASSERT_EQ(0, lfq_mpsc_release(h, &res));
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	EXPECT_EQ(0, r.hdr->taker);
	ASSERT_EQ(3, lfq_mpsc_peek_burst(h, burst, 3));
	EXPECT_EQ(LFQ_CLAIM_POP, cl->state);
	EXPECT_EQ(2, cl->pos);
	EXPECT_EQ(3, cl->slots);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(LFQ_MPSC_TAKEN | 0, raw_rec(&r, burst[i].pos)->seq);
	ASSERT_EQ(0, lfq_mpsc_release(h, &burst[0]));
	EXPECT_EQ(LFQ_CLAIM_POP, cl->state);	/* tail has passed the first */
	EXPECT_EQ(3, r.hdr->tail);
	EXPECT_EQ(LFQ_MPSC_TAKEN | 0, r.hdr->taker);
	ASSERT_EQ(0, lfq_mpsc_release(h, &burst[2]));
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	EXPECT_EQ(0, r.hdr->taker);
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(h, buf, sizeof(buf)));
	EXPECT_EQ(LFQ_CLAIM_IDLE, cl->state);
	EXPECT_EQ(0, r.hdr->taker);
	/* an unjoined handle's lock and takes carry nobody's index */
	ASSERT_EQ(0, push_rec(plain, 0, 4, ITEM));
	ASSERT_EQ(0, lfq_mpsc_peek(plain, &res));
	EXPECT_EQ(LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY, r.hdr->taker);
	EXPECT_EQ(LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY, raw_rec(&r, res.pos)->seq);
	ASSERT_EQ(0, lfq_mpsc_release(plain, &res));
	EXPECT_EQ(0, r.hdr->taker);
	lfq_ring_destroy(plain);
	lfq_ring_destroy(h);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	raw_close(&r);
}

/* The peer's jobs on MPSC rings: what it takes and what it refuses. */
TEST(peer_takes_mpsc_rings_and_irq_producers_only_there)
{
	struct lfq_create tc = { .type = LFQ_RING_TURN, .capacity = 8, .elem_size = ITEM };
	struct lfq_create c = mpsc(LFQ_MPSC_BLOCK, 8, ITEM);
	struct lfq_create small = mpsc(LFQ_MPSC_BLOCK, 8, ITEM - 1);
	struct lfq_test_result res;
	struct lfq_test_job j;
	int fd, fdt, fds, job;

	REQUIRE_PEER();
	fd = raw_create(&c);
	fdt = raw_create(&tc);
	fds = raw_create(&small);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fdt);
	ASSERT_LE(0, fds);
	j = job_params(fdt, LFQ_TEST_PRODUCE, 1, 0, 4, 1);
	j.flags = LFQ_TEST_F_IRQ;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* interrupts: MPSC rings only */
	j.ring_fd = fds;
	j.flags = 0;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* items do not fit */
	j.ring_fd = fd;
	j.producers = LFQ_TEST_MAX_PRODUCERS - 3;
	j.flags = LFQ_TEST_F_IRQ;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* no ids for the interrupts */
	j = job_params(fd, LFQ_TEST_CONSUME, 2, 1, 4, 1);
	EXPECT_EQ(-EINVAL, job_start(&j));	/* one consumer */
	j.threads = 1;
	j.flags = LFQ_TEST_F_IRQ;
	EXPECT_EQ(-EINVAL, job_start(&j));	/* interrupts only produce */
	j = job_params(fd, LFQ_TEST_PRODUCE, 2, 0, 4, 3);
	j.flags = LFQ_TEST_F_RESERVE;
	alarm(20);
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(8, res.moved);		/* a full ring */
	EXPECT_EQ(8, res.ctx_moved[LFQ_TEST_CTX_TASK]);
	j = job_params(fd, LFQ_TEST_CONSUME, 1, 2, 4, LFQ_TEST_MAX_BURST);
	j.flags = LFQ_TEST_F_RESERVE;
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EXACT(res, 8);
	close(fds);
	close(fdt);
	close(fd);
}

/* ---- wake-ups ----------------------------------------------------------------- */

/*
 * A commit wakes the consumer only if the consumer waits at that record
 * (tail == its position): userspace producers (through LFQ_IOC_WAKE) and
 * kernel threads alike, for a user consumer asleep in epoll and for a
 * kernel consumer asleep in the ring. Every wake-up that finds a sleeper
 * bumps the not_empty futex word, so the word counts them exactly.
 */
TEST(commit_wakes_only_a_consumer_waiting_at_its_record)
{
	struct lfq_mpsc_res a, b, c, d, e;
	struct lfq_test_result res;
	struct lfq_ring *h, *p;
	__u32 *futex;
	struct raw r;
	int ep, job;
	__u64 seq;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 16, ITEM));
	futex = &r.hdr->not_empty.futex;
	ASSERT_EQ(0, participant(&h, r.m.fd));	/* the consumer */
	ASSERT_EQ(0, lfq_ring_attach(&p, r.m.fd));	/* producers, unjoined */
	ep = epoll_on(r.m.fd, EPOLLIN);
	ASSERT_LE(0, ep);
	alarm(30);

	/* user producers: the record behind the one the consumer waits at */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(p, ITEM, &a));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(p, ITEM, &b));
	ASSERT_EQ(0, lfq_ring_wait_begin(h, POLLIN));
	lfq_test_item_make(b.data, ITEM, 1, 1);
	ASSERT_EQ(0, lfq_mpsc_commit(p, &b));
	EXPECT_EQ(0, ld32(futex));
	EXPECT_EQ(0, epoll_wait1(ep, 0));
	lfq_test_item_make(a.data, ITEM, 1, 0);
	ASSERT_EQ(0, lfq_mpsc_commit(p, &a));
	EXPECT_EQ(1, ld32(futex));
	EXPECT_EQ(1, epoll_wait1(ep, WAIT_MS));
	lfq_ring_wait_end(h, POLLIN);
	EXPECT_TRUE(pop_is(h, 1, 0, ITEM));
	EXPECT_TRUE(pop_is(h, 1, 1, ITEM));

	/* kernel producers commit five records behind a user reservation */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(p, ITEM, &c));
	ASSERT_EQ(0, lfq_ring_wait_begin(h, POLLIN));
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 5, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(5, res.moved);
	EXPECT_EQ(1, ld32(futex));		/* the kernel woke nobody */
	EXPECT_EQ(0, epoll_wait1(ep, 0));
	lfq_test_item_make(c.data, ITEM, 1, 2);
	ASSERT_EQ(0, lfq_mpsc_commit(p, &c));
	EXPECT_EQ(2, ld32(futex));
	EXPECT_EQ(1, epoll_wait1(ep, WAIT_MS));
	lfq_ring_wait_end(h, POLLIN);
	EXPECT_TRUE(pop_is(h, 1, 2, ITEM));
	for (seq = 0; seq < 5; seq++)
		EXPECT_TRUE(pop_is(h, 0, seq, ITEM));

	/* a kernel consumer asleep at a reservation: only its commit wakes it */
	ASSERT_EQ(0, lfq_mpsc_try_reserve(p, ITEM, &d));
	ASSERT_EQ(0, lfq_mpsc_try_reserve(p, ITEM, &e));
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 2, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_u32_nonzero(&r.hdr->not_empty.waiters, WAIT_MS));
	lfq_test_item_make(e.data, ITEM, 0, 1);
	ASSERT_EQ(0, lfq_mpsc_commit(p, &e));
	EXPECT_EQ(2, ld32(futex));
	lfq_test_item_make(d.data, ITEM, 0, 0);
	ASSERT_EQ(0, lfq_mpsc_commit(p, &d));
	EXPECT_EQ(3, ld32(futex));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EXACT(res, 2);
	EXPECT_EQ(0, r.hdr->not_empty.waiters);
	close(ep);
	lfq_ring_destroy(p);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- the kernel log ------------------------------------------------------------ */

/*
 * The centre piece: a job's kernel threads plus a timer (softirq), an
 * hrtimer (hardirq) and NMIs all log into one ring, and a user consumer
 * drains it through the mapping (struct drain), asleep in epoll whenever
 * it has caught up. Every record arrives once, in order per producer, and
 * nothing is lost or made up (the consumer counts what the job moved);
 * the job pushed from all four contexts; the consumer never waited out
 * its timeout (a lost wake-up); and wake-ups are self-paced: a commit
 * wakes the consumer only when it waits at that record, so the kernel
 * woke it (bumped not_empty.futex) no more often than it announced a
 * sleep, and at least once per sleep that the ring ended.
 */
FIXTURE(klog) {
	struct raw r;
	struct lfq_ring *h;
};

FIXTURE_VARIANT(klog) {
	unsigned int policy, capacity, elem_size;
	unsigned int threads, flags;
	unsigned int burst;		/* of the user consumer; 1: pop */
	unsigned long long items;	/* per producer */
	unsigned int pause_every;	/* of the kernel threads */
};

FIXTURE_VARIANT_ADD(klog, block_4_threads_peek_burst) {
	.policy = LFQ_MPSC_BLOCK, .capacity = 64, .elem_size = ITEM,
	.threads = 4, .flags = LFQ_TEST_F_IRQ, .burst = 16,
	.items = 1000, .pause_every = 250,
};

FIXTURE_VARIANT_ADD(klog, discard_2_threads_reserving_user_pop) {
	.policy = LFQ_MPSC_DISCARD, .capacity = 16, .elem_size = 100,
	.threads = 2, .flags = LFQ_TEST_F_IRQ | LFQ_TEST_F_RESERVE, .burst = 1,
	.items = 1000, .pause_every = 100,
};

FIXTURE_VARIANT_ADD(klog, block_cap4_3_threads_peek_burst) {
	.policy = LFQ_MPSC_BLOCK, .capacity = 4, .elem_size = 64,
	.threads = 3, .flags = LFQ_TEST_F_IRQ, .burst = 4,
	.items = 1000,
};

FIXTURE_SETUP(klog)
{
}

FIXTURE_TEARDOWN(klog)
{
	if (self->h)
		lfq_ring_destroy(self->h);
	if (self->r.m.region)
		raw_close(&self->r);
}

TEST_F_TIMEOUT(klog, every_context_logs_to_a_user_consumer, 150)
{
	unsigned int producers = variant->threads + 3;	/* timer, hrtimer, NMI */
	unsigned long long total = variant->items * producers;
	struct lfq_test_result res;
	struct lfq_test_job j;
	struct drain d;
	long long start;
	__u32 bumps;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&self->r, variant->policy, variant->capacity,
			      variant->elem_size));
	ASSERT_EQ(0, participant(&self->h, self->r.m.fd));
	j = job_params(self->r.m.fd, LFQ_TEST_PRODUCE, variant->threads, 0,
		       variant->items, 1);
	j.flags = variant->flags;
	if (variant->pause_every) {
		j.pause_every = variant->pause_every;
		j.pause_us = 2000;
	}
	alarm(140);
	start = now_ms();
	ASSERT_EQ(0, drain_init(&d, self->h, job_start(&j), variant->burst,
				producers, variant->items, variant->elem_size));
	ASSERT_LE(0, d.job);
	drain_run(&d);
	ASSERT_EQ(0, job_wait(d.job, &res));
	alarm(0);
	bumps = ld32(&self->r.hdr->not_empty.futex);
	LOG_RESULT("kernel producers", res);
	TH_LOG("pushed from task %llu, softirq %llu, hardirq %llu, NMI %llu; refused %llu",
	       (unsigned long long)res.ctx_moved[LFQ_TEST_CTX_TASK],
	       (unsigned long long)res.ctx_moved[LFQ_TEST_CTX_SOFTIRQ],
	       (unsigned long long)res.ctx_moved[LFQ_TEST_CTX_HARDIRQ],
	       (unsigned long long)res.ctx_moved[LFQ_TEST_CTX_NMI],
	       (unsigned long long)self->r.hdr->dropped);
	TH_LOG("%llu records in %lld ms; the consumer announced %llu waits, slept %llu times, woken by the ring %llu times, timed out %llu times; the kernel woke it %u times",
	       d.ck.consumed, now_ms() - start, d.begins, d.sleeps,
	       d.ring_wakes, d.timeouts, bumps);
	EXPECT_EQ(0, d.error)
		TH_LOG("consumer: %d, %s", d.error, d.ck.why);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(total, res.moved);
	EXPECT_EQ(0, res.ring_errors);
	/* every record, once, in order per producer: conservation */
	EXPECT_EQ(res.moved, d.ck.consumed);
	EXPECT_EQ(0, checker_missing(&d.ck));
	/* from every context, each source its own producer */
	EXPECT_EQ(variant->threads * variant->items,
		  res.ctx_moved[LFQ_TEST_CTX_TASK]);
	EXPECT_EQ(variant->items, res.ctx_moved[LFQ_TEST_CTX_SOFTIRQ]);
	EXPECT_EQ(variant->items, res.ctx_moved[LFQ_TEST_CTX_HARDIRQ]);
	EXPECT_EQ(variant->items, res.ctx_moved[LFQ_TEST_CTX_NMI]);
	/* no lost wake-up, and no wake-up of a consumer not at the record */
	EXPECT_EQ(0, d.timeouts)
		TH_LOG("%s", d.stranded ?
		       "a committed record waited at tail and nobody woke the consumer" :
		       "nothing was committed for a whole sleep while the job ran");
	EXPECT_LT(0, d.ring_wakes);
	EXPECT_LE(d.ring_wakes, bumps);
	EXPECT_LE(bumps, d.begins);
	/* and all is quiet */
	EXPECT_EQ(ld64(&self->r.hdr->head), ld64(&self->r.hdr->tail));
	EXPECT_EQ(0, self->r.hdr->not_empty.waiters);
	EXPECT_EQ(0, self->r.hdr->not_full.waiters);
	EXPECT_EQ(0, self->r.hdr->overwritten);
	if (variant->policy == LFQ_MPSC_BLOCK)
		EXPECT_EQ(0, self->r.hdr->dropped);
	EXPECT_REPAIRS(self->r.m.desc, 0, 0, 0, 0);
	free(d.ck.seen);
}

/* ---- transfers ------------------------------------------------------------------ */

/* How a user producer pushes. */
enum umode {
	U_PUSH,		/* lfq_mpsc_push(): sleeps while a BLOCK ring is full */
	U_RESERVE,	/* lfq_mpsc_reserve(), the record in place, commit */
	U_TRY,		/*
			 * lfq_mpsc_try_push(); when full, poll() for POLLOUT
			 * on a BLOCK ring, and on a DISCARD ring (whose
			 * producers are never woken) a refusal, counted, and
			 * a retry
			 */
};

/*
 * User producer threads, each a participant of its own (own handle,
 * joined), in front of a kernel consumer. Every pause_every records the
 * side stops (a writer lock that its threads take for reading around
 * each push) until it sees the kernel consumer asleep, then goes on: the
 * next commit must wake it.
 */
struct uside {
	struct raw *r;
	enum umode mode;
	unsigned int threads, len;
	unsigned long long items, pause_every;
	pthread_rwlock_t gate;
	unsigned long long refused;
	unsigned int kernel_slept;
	int error;
	char why[160];
};

struct uthread {
	struct uside *s;
	unsigned int index;
	pthread_t tid;
};

static void uside_fail(struct uside *s, int err, const char *fmt, ...)
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

static int user_push(struct lfq_ring *h, struct uside *s, const void *buf)
{
	struct pollfd pfd = { .fd = lfq_ring_fd(h), .events = POLLOUT };
	struct lfq_mpsc_res res;
	int ret;

	switch (s->mode) {
	case U_PUSH:
		return lfq_mpsc_push(h, buf, s->len, WAIT_MS);
	case U_RESERVE:
		ret = lfq_mpsc_reserve(h, s->len, &res, WAIT_MS);
		if (ret)
			return ret;
		memcpy(res.data, buf, s->len);
		return lfq_mpsc_commit(h, &res);
	case U_TRY:
		while ((ret = lfq_mpsc_try_push(h, buf, s->len)) == -ENOSPC) {
			if (s->r->m.info.policy == LFQ_MPSC_DISCARD) {
				__atomic_add_fetch(&s->refused, 1, __ATOMIC_RELAXED);
				usleep(100);
				continue;
			}
			if (lfq_ring_wait_begin(h, POLLOUT) == 0 &&
			    poll(&pfd, 1, WAIT_MS) == 0)
				ret = -ETIMEDOUT;
			lfq_ring_wait_end(h, POLLOUT);
			if (ret == -ETIMEDOUT)
				return ret;
		}
		return ret;
	}
	return -EINVAL;
}

/* Stop the other producers, and wait to see the kernel consumer asleep. */
static void uside_pause(struct uside *s)
{
	long long end;

	pthread_rwlock_wrlock(&s->gate);
	for (end = now_ms() + 2000; now_ms() < end; usleep(100)) {
		if (ld32(&s->r->hdr->not_empty.waiters)) {
			s->kernel_slept++;
			break;
		}
	}
	pthread_rwlock_unlock(&s->gate);
}

static void *uside_producer(void *arg)
{
	struct uthread *t = arg;
	struct uside *s = t->s;
	unsigned char buf[REC_MAX];
	unsigned long long seq;
	struct lfq_ring *h;
	int ret;

	ret = participant(&h, s->r->m.fd);
	if (ret) {
		uside_fail(s, ret, "producer %u: join: %s", t->index, strerror(-ret));
		return NULL;
	}
	for (seq = 0; seq < s->items; seq++) {
		if (__atomic_load_n(&s->error, __ATOMIC_RELAXED))
			break;
		lfq_test_item_make(buf, s->len, t->index, seq);
		pthread_rwlock_rdlock(&s->gate);
		ret = user_push(h, s, buf);
		pthread_rwlock_unlock(&s->gate);
		if (ret) {
			uside_fail(s, ret, "producer %u: push of seq %llu: %s",
				   t->index, seq, strerror(-ret));
			break;
		}
		/* not after the last: the kernel may be done by then */
		if (t->index == 0 && s->pause_every &&
		    (seq + 1) % s->pause_every == 0 && seq + 1 < s->items)
			uside_pause(s);
	}
	lfq_ring_destroy(h);
	return NULL;
}

FIXTURE(u2k) {
	struct raw r;
};

FIXTURE_VARIANT(u2k) {
	unsigned int policy, capacity, elem_size;
	enum umode mode;
	unsigned int threads;		/* user producers */
	unsigned int burst;		/* of the kernel consumer; 1: pop */
	unsigned long long items;	/* per producer */
	unsigned int pause_every;	/* user records between pauses */
};

FIXTURE_VARIANT_ADD(u2k, block_push_3_threads_kernel_pop) {
	.policy = LFQ_MPSC_BLOCK, .capacity = 8, .elem_size = ITEM,
	.mode = U_PUSH, .threads = 3, .burst = 1,
	.items = 3000, .pause_every = 600,
};

FIXTURE_VARIANT_ADD(u2k, block_reserve_2_threads_kernel_peek_burst) {
	.policy = LFQ_MPSC_BLOCK, .capacity = 16, .elem_size = 200,
	.mode = U_RESERVE, .threads = 2, .burst = 8,
	.items = 3000, .pause_every = 1000,
};

FIXTURE_VARIANT_ADD(u2k, block_try_poll_4_threads) {
	.policy = LFQ_MPSC_BLOCK, .capacity = 4, .elem_size = 64,
	.mode = U_TRY, .threads = 4, .burst = 4,
	.items = 1500, .pause_every = 500,
};

FIXTURE_VARIANT_ADD(u2k, discard_try_2_threads_kernel_pop) {
	.policy = LFQ_MPSC_DISCARD, .capacity = 8, .elem_size = ITEM,
	.mode = U_TRY, .threads = 2, .burst = 1,
	.items = 3000, .pause_every = 1000,
};

FIXTURE_SETUP(u2k)
{
}

FIXTURE_TEARDOWN(u2k)
{
	if (self->r.m.region)
		raw_close(&self->r);
}

/*
 * User producer threads -> MPSC ring -> the kernel's one consumer thread,
 * which dawdles now and then so that a BLOCK ring fills up and its
 * producers sleep until the kernel frees room. Every record arrives, and
 * a DISCARD ring counted exactly the refusals its producers saw.
 */
TEST_F_TIMEOUT(u2k, user_producers_to_a_kernel_consumer, 90)
{
	unsigned long long total = variant->items * variant->threads;
	struct uthread t[LFQ_TEST_MAX_THREADS];
	struct lfq_test_result res;
	struct lfq_test_job j;
	pthread_rwlockattr_t attr;
	struct uside s = {
		.r = &self->r, .mode = variant->mode,
		.threads = variant->threads, .len = variant->elem_size,
		.items = variant->items, .pause_every = variant->pause_every,
	};
	long long start;
	unsigned int i;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&self->r, variant->policy, variant->capacity,
			      variant->elem_size));
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s.gate, &attr);
	j = job_params(self->r.m.fd, LFQ_TEST_CONSUME, 1, variant->threads,
		       variant->items, variant->burst);
	j.pause_every = variant->pause_every;
	j.pause_us = 2000;
	alarm(80);
	start = now_ms();
	job = job_start(&j);
	ASSERT_LE(0, job);
	for (i = 0; i < variant->threads; i++) {
		t[i] = (struct uthread){ .s = &s, .index = i };
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, uside_producer, &t[i]));
	}
	for (i = 0; i < variant->threads; i++)
		pthread_join(t[i].tid, NULL);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel consumer", res);
	TH_LOG("%llu records in %lld ms; the kernel slept in %u of the user's pauses; %llu refusals, %llu counted",
	       total, now_ms() - start, s.kernel_slept, s.refused,
	       (unsigned long long)self->r.hdr->dropped);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EXACT(res, total);
	EXPECT_LT(0, s.kernel_slept);
	EXPECT_EQ(s.refused, self->r.hdr->dropped);
	EXPECT_EQ(0, self->r.hdr->overwritten);
	EXPECT_EQ(ld64(&self->r.hdr->head), ld64(&self->r.hdr->tail));
	EXPECT_EQ(0, self->r.hdr->not_empty.waiters);
	EXPECT_EQ(0, self->r.hdr->not_full.waiters);
	EXPECT_REPAIRS(self->r.m.desc, 0, 0, 0, 0);
	pthread_rwlock_destroy(&s.gate);
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

/*
 * A producer process: records of every length up to max_len, pushed
 * with lfq_mpsc_push() (block), or with try_push and a retry after each
 * refusal, which it counts in *refused.
 */
static int proc_produce(int fd, unsigned int id, unsigned long long items,
			bool block, unsigned long long *refused)
{
	unsigned char buf[REC_MAX];
	unsigned long long seq;
	struct lfq_ring *h;
	unsigned int len;
	int ret;

	if (participant(&h, fd))
		return 2;
	for (seq = 0; seq < items; seq++) {
		len = rec_len(id, seq, lfq_mpsc_max_len(h));
		lfq_test_item_make(buf, len, id, seq);
		if (block) {
			ret = lfq_mpsc_push(h, buf, len, WAIT_MS);
		} else {
			while ((ret = lfq_mpsc_try_push(h, buf, len)) == -ENOSPC) {
				__atomic_add_fetch(refused, 1, __ATOMIC_RELAXED);
				usleep(50);
			}
		}
		if (ret)
			return 3;
	}
	lfq_ring_destroy(h);
	return 0;
}

/* The consumer of the producer processes: pop, or peek_burst and poll. */
static int proc_consume(struct lfq_ring *h, struct checker *ck,
			unsigned long long total, bool block)
{
	struct pollfd pfd = { .fd = lfq_ring_fd(h), .events = POLLIN };
	struct lfq_mpsc_res res[8];
	unsigned char buf[REC_MAX];
	int n, i;

	while (ck->consumed < total) {
		if (block) {
			n = lfq_mpsc_pop(h, buf, sizeof(buf), WAIT_MS);
			if (n < 0)
				return n;
			if (check_rec(ck, buf, n))
				return -EBADMSG;
			continue;
		}
		n = lfq_mpsc_peek_burst(h, res, 8);
		if (n == -EAGAIN) {
			if (lfq_ring_wait_begin(h, POLLIN) == 0 &&
			    poll(&pfd, 1, WAIT_MS) == 0)
				n = -ETIMEDOUT;
			lfq_ring_wait_end(h, POLLIN);
			if (n == -ETIMEDOUT)
				return n;
			continue;
		}
		if (n < 0)
			return n;
		for (i = 0; i < n; i++)
			if (check_rec(ck, res[i].data, res[i].len))
				return -EBADMSG;
		if (lfq_mpsc_release(h, &res[n - 1]))
			return -EINVAL;
	}
	return 0;
}

/*
 * Two producer processes (one got the ring over a unix socket) and the
 * consumer, this process, on a /dev/lfq ring: records of every length,
 * many of them across the end of the lap, all delivered; a DISCARD ring
 * counted every refusal the producers saw.
 */
static void processes_share_a_ring(struct __test_metadata *_metadata,
				   unsigned int policy, bool block)
{
	const unsigned long long items = 4000;
	unsigned long long *refused;
	struct checker ck;
	struct lfq_ring *h;
	int sv[2], status, i, fd, ret;
	struct raw r;
	pid_t pid[2];

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, policy, 16, 64));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, checker_init(&ck, 2, items, 0, lfq_mpsc_max_len(h)));
	refused = mmap(NULL, sizeof(*refused), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, refused);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	alarm(50);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i])
			continue;
		alarm(45);
		fd = r.m.fd;
		if (i == 0) {
			fd = recv_fd(sv[1]);
			if (fd < 0)
				_exit(9);
		}
		_exit(proc_produce(fd, i, items, block, refused));
	}
	ASSERT_EQ(0, send_fd(sv[0], r.m.fd));
	ret = proc_consume(h, &ck, 2 * items, block);
	for (i = 0; i < 2; i++) {
		if (ret)
			kill(pid[i], SIGKILL);
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status)
			TH_LOG("producer %d: status %#x", i, status);
	}
	alarm(0);
	EXPECT_EQ(0, ret)
		TH_LOG("consumer: %d, %s", ret, ck.why);
	EXPECT_EQ(2 * items, ck.consumed);
	EXPECT_EQ(0, checker_missing(&ck));
	TH_LOG("%llu refusals, %llu counted", *refused,
	       (unsigned long long)r.hdr->dropped);
	EXPECT_EQ(*refused, r.hdr->dropped);
	EXPECT_EQ(0, r.hdr->overwritten);
	EXPECT_EQ(ld64(&r.hdr->head), ld64(&r.hdr->tail));
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	close(sv[0]);
	close(sv[1]);
	munmap(refused, sizeof(*refused));
	free(ck.seen);
	lfq_ring_destroy(h);
	raw_close(&r);
}

TEST_F_TIMEOUT(slow, processes_share_a_block_ring_push_and_pop, 60)
{
	processes_share_a_ring(_metadata, LFQ_MPSC_BLOCK, true);
}

TEST_F_TIMEOUT(slow, processes_share_a_discard_ring_try_and_poll, 60)
{
	processes_share_a_ring(_metadata, LFQ_MPSC_DISCARD, false);
}

/* ---- policies ------------------------------------------------------------------- */

static bool pop_wait_is(struct lfq_ring *h, __u32 producer, __u64 seq,
			unsigned int len)
{
	unsigned char buf[REC_MAX];
	int n = lfq_mpsc_pop(h, buf, sizeof(buf), WAIT_MS);

	return n == (int)len && rec_is(buf, len, producer, seq);
}

/*
 * A full DISCARD ring refuses every way in at once (the blocking forms
 * too) and counts each refusal in hdr->dropped, whoever the producer:
 * kernel producers count in the same word.
 */
TEST(discard_counts_every_refusal)
{
	unsigned char buf[REC_MAX];
	struct lfq_mpsc_stats st;
	struct lfq_test_result res;
	struct lfq_mpsc_res rv;
	struct lfq_ring *h;
	long long start;
	struct raw r;
	__u64 seq;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	for (seq = 0; seq < 4; seq++)
		ASSERT_EQ(0, push_rec(h, 0, seq, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(h, 0, 4, ITEM));
	EXPECT_EQ(1, r.hdr->dropped);
	EXPECT_EQ(-ENOSPC, lfq_mpsc_try_reserve(h, ITEM, &rv));
	lfq_test_item_make(buf, ITEM, 0, 4);
	start = now_ms();
	EXPECT_EQ(-ENOSPC, lfq_mpsc_push(h, buf, ITEM, WAIT_MS));
	EXPECT_EQ(-ENOSPC, lfq_mpsc_reserve(h, ITEM, &rv, WAIT_MS));
	EXPECT_GT(1000, now_ms() - start);	/* neither waited */
	EXPECT_EQ(4, r.hdr->dropped);
	ASSERT_EQ(0, lfq_mpsc_stats(h, &st));
	EXPECT_EQ(4, st.dropped);
	EXPECT_EQ(0, st.overwritten);
	/* one slot free: a two-slot record is refused, a one-slot one is not */
	EXPECT_TRUE(pop_is(h, 0, 0, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(h, 1, 0, 100));
	EXPECT_EQ(5, r.hdr->dropped);
	EXPECT_EQ(0, push_rec(h, 0, 4, ITEM));
	for (seq = 1; seq < 5; seq++)
		EXPECT_TRUE(pop_is(h, 0, seq, ITEM));
	EXPECT_EQ(LFQ_CLAIM_IDLE, r.claims[0].state);

	/* a kernel producer runs into the full ring: its refusals count too */
	alarm(30);
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 12, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_u64_ge(&r.hdr->dropped, 6, WAIT_MS));
	for (seq = 0; seq < 12; seq++)
		EXPECT_TRUE(pop_wait_is(h, 0, seq, ITEM));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(12, res.moved);
	TH_LOG("%llu refusals counted", (unsigned long long)r.hdr->dropped);
	EXPECT_EQ(0, r.hdr->overwritten);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * An OVERWRITE ring never refuses while its oldest record can be dropped:
 * it keeps the newest records, and pushed == popped + overwritten + kept,
 * for one-slot records, for records of several slots, and for kernel
 * producers (each of which keeps a suffix of its records).
 */
TEST(overwrite_keeps_the_newest_records)
{
	unsigned char buf[REC_MAX];
	struct lfq_test_result res;
	struct lfq_test_item it;
	long long last[2] = { -1, -1 }, first[2] = { -1, -1 };
	unsigned long long ow, kept;
	struct lfq_ring *h;
	struct raw r;
	__u64 seq;
	int n, job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_OVERWRITE, 8, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	for (seq = 0; seq < 20; seq++)
		ASSERT_EQ(0, push_rec(h, 0, seq, ITEM));
	EXPECT_EQ(12, r.hdr->overwritten);
	EXPECT_EQ(0, r.hdr->dropped);
	for (seq = 12; seq < 20; seq++)
		EXPECT_TRUE(pop_is(h, 0, seq, ITEM));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(h, buf, sizeof(buf)));

	/* two slots each (and three across the lap): records, not slots, count */
	ow = r.hdr->overwritten;
	for (seq = 0; seq < 10; seq++)
		ASSERT_EQ(0, push_rec(h, 1, seq, 100));
	ow = r.hdr->overwritten - ow;
	TH_LOG("ten two-slot records: %llu overwritten", ow);
	EXPECT_LT(0, ow);
	for (seq = ow; seq < 10; seq++)
		EXPECT_TRUE(pop_is(h, 1, seq, 100));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(h, buf, sizeof(buf)));

	/* two kernel threads, nobody reading until they are done */
	ow = r.hdr->overwritten;
	alarm(30);
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 2, 0, 200, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel producers", res);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(400, res.moved);
	for (kept = 0; (n = lfq_mpsc_try_pop(h, buf, sizeof(buf))) > 0; kept++) {
		it = lfq_test_item_get(buf);
		ASSERT_EQ(ITEM, n);
		ASSERT_EQ(0, lfq_test_item_bad(buf, ITEM, 2));
		/* each producer's kept records are consecutive */
		if (first[it.producer] < 0)
			first[it.producer] = it.seq;
		else
			EXPECT_EQ(last[it.producer] + 1, (long long)it.seq);
		last[it.producer] = it.seq;
	}
	EXPECT_EQ(-EAGAIN, n);
	TH_LOG("kept producer 0 seq %lld..%lld, producer 1 seq %lld..%lld; %llu refused",
	       first[0], last[0], first[1], last[1],
	       (unsigned long long)r.hdr->dropped);
	EXPECT_EQ(8, kept);
	EXPECT_EQ(400, r.hdr->overwritten - ow + kept);
	/* ...and end with its last record, unless the other one's buried it */
	for (n = 0; n < 2; n++)
		EXPECT_TRUE(last[n] == 199 || last[n] == -1);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * An overwriting producer cannot drop the record the consumer holds: it
 * refuses (and counts) instead, and the held payload stays whole; once
 * it is released, a kernel producer overwrites again.
 */
TEST(overwrite_never_frees_a_record_the_consumer_holds)
{
	struct lfq_test_result res;
	struct lfq_mpsc_res held;
	struct lfq_ring *h, *p;
	unsigned char buf[REC_MAX];
	struct raw r;
	__u64 seq;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_OVERWRITE, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&p, r.m.fd));
	ASSERT_EQ(0, push_rec(p, 1, 0, ITEM));
	ASSERT_EQ(0, lfq_mpsc_peek(h, &held));
	for (seq = 1; seq < 4; seq++)
		ASSERT_EQ(0, push_rec(p, 1, seq, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(p, 1, 4, ITEM));
	EXPECT_EQ(1, r.hdr->dropped);
	EXPECT_EQ(0, r.hdr->overwritten);
	alarm(30);
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 20, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_u64_ge(&r.hdr->dropped, 4, WAIT_MS));
	EXPECT_EQ(0, r.hdr->tail);
	EXPECT_EQ(0, r.hdr->overwritten);
	EXPECT_TRUE(rec_is(held.data, held.len, 1, 0));
	ASSERT_EQ(0, lfq_mpsc_release(h, &held));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(20, res.moved);
	/* 24 pushed: 1 read, 19 overwritten, the 4 newest kept */
	EXPECT_EQ(19, r.hdr->overwritten);
	for (seq = 16; seq < 20; seq++)
		EXPECT_TRUE(pop_is(h, 0, seq, ITEM));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(h, buf, sizeof(buf)));
	lfq_ring_destroy(p);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* A thread that makes one blocking call on a ring, and its tid. */
struct blocked {
	struct lfq_ring *h;
	bool push;
	__u64 seq;
	pid_t tid;
	int ret;
	unsigned char buf[REC_MAX];
	pthread_t th;
};

static void *blocked_fn(void *arg)
{
	struct blocked *b = arg;

	__atomic_store_n(&b->tid, gettid_(), __ATOMIC_RELEASE);
	if (b->push) {
		lfq_test_item_make(b->buf, ITEM, 0, b->seq);
		b->ret = lfq_mpsc_push(b->h, b->buf, ITEM, WAIT_MS);
	} else {
		b->ret = lfq_mpsc_pop(b->h, b->buf, sizeof(b->buf), WAIT_MS);
	}
	return NULL;
}

/* Start the call and wait until it sleeps in LFQ_IOC_WAIT. */
static int blocked_start(struct blocked *b, struct lfq_ring *h, bool push,
			 __u64 seq)
{
	memset(b, 0, sizeof(*b));
	b->h = h;
	b->push = push;
	b->seq = seq;
	if (pthread_create(&b->th, NULL, blocked_fn, b))
		return -1;
	while (!__atomic_load_n(&b->tid, __ATOMIC_ACQUIRE))
		sched_yield();
	return wait_asleep(getpid(), b->tid, WAIT_MS);
}

/*
 * BLOCK: a user producer asleep in lfq_mpsc_push() on a full ring is
 * woken by a kernel consumer, a user consumer asleep in lfq_mpsc_pop() by
 * a kernel producer, and a kernel producer asleep on a full ring by a
 * user release (LFQ_IOC_WAKE): each wake-up found its sleeper announced,
 * and bumped the futex word.
 */
TEST(block_sleepers_are_woken_across_the_boundary)
{
	struct lfq_test_result res;
	struct lfq_mpsc_res held;
	struct lfq_ring *h, *p;
	struct blocked b;
	struct raw r;
	__u64 seq;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_BLOCK, 4, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, participant(&p, r.m.fd));
	alarm(40);

	/* a user producer on a full ring, a kernel consumer */
	for (seq = 0; seq < 4; seq++)
		ASSERT_EQ(0, push_rec(p, 0, seq, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(p, 0, 4, ITEM));
	EXPECT_EQ(0, r.hdr->dropped);		/* BLOCK refusals are not drops */
	ASSERT_EQ(0, blocked_start(&b, p, true, 4));
	EXPECT_EQ(1, r.hdr->not_full.waiters);
	job = job_run(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 5, 1);
	ASSERT_LE(0, job);
	pthread_join(b.th, NULL);
	EXPECT_EQ(0, b.ret);
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EXACT(res, 5);
	EXPECT_LT(0, r.hdr->not_full.futex);
	EXPECT_EQ(0, r.hdr->not_full.waiters);

	/* a user consumer on an empty ring, a kernel producer */
	seq = r.hdr->not_empty.futex;
	ASSERT_EQ(0, blocked_start(&b, h, false, 0));
	EXPECT_EQ(1, r.hdr->not_empty.waiters);
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 1, 1);
	ASSERT_LE(0, job);
	pthread_join(b.th, NULL);
	EXPECT_EQ(ITEM, b.ret);
	EXPECT_TRUE(rec_is(b.buf, ITEM, 0, 0));
	ASSERT_EQ(0, job_wait(job, &res));
	EXPECT_EQ(1, res.moved);
	EXPECT_EQ(seq + 1, r.hdr->not_empty.futex);
	EXPECT_EQ(0, r.hdr->not_empty.waiters);

	/* a kernel producer on a full ring, a user release */
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 6, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, wait_u32_nonzero(&r.hdr->not_full.waiters, WAIT_MS));
	EXPECT_EQ(r.hdr->tail + 4, r.hdr->head);
	seq = r.hdr->not_full.futex;
	ASSERT_EQ(0, lfq_mpsc_peek(h, &held));
	EXPECT_TRUE(rec_is(held.data, held.len, 0, 0));
	ASSERT_EQ(0, lfq_mpsc_release(h, &held));
	EXPECT_LT(seq, r.hdr->not_full.futex);
	for (seq = 1; seq < 6; seq++)
		EXPECT_TRUE(pop_wait_is(h, 0, seq, ITEM));
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(6, res.moved);
	EXPECT_EQ(0, r.hdr->dropped);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(p);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- kill -9 ---------------------------------------------------------------------- */

/*
 * A child joins, reserves a record of len bytes, writes half of it (an
 * item of producer 63, which no consumer expects), tells the parent
 * where over rep (its struct lfq_mpsc_res) and waits to be killed.
 */
static pid_t victim_start(struct raw *r, int rep, unsigned int len)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char half[REC_MAX];
		struct lfq_mpsc_res res;
		struct lfq_ring *me;

		alarm(50);
		if (participant(&me, r->m.fd) ||
		    lfq_mpsc_try_reserve(me, len, &res))
			_exit(1);
		lfq_test_item_make(half, len, 63, 0);
		memcpy(res.data, half, len / 2);
		if (write(rep, &res, sizeof(res)) != sizeof(res))
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

/* How the records after a dead producer's are taken. */
enum taker {
	K_POP,		/* a user thread asleep in lfq_mpsc_pop() at the hole */
	K_PEEK,		/* lfq_mpsc_peek_burst(), after the repair */
	K_KERNEL,	/* a kernel consumer asleep at the hole */
};

/*
 * A joined producer killed holding a reservation between committed
 * records (two before it, two after): the consumer stalls at it, the
 * module publishes it as a record without payload (desc->skipped), and
 * the consumer passes over it, woken if it slept there, to the records
 * after it. The dead record's half-written payload is never read.
 */
FIXTURE(kill_reserved) {
	struct raw r;
	struct lfq_ring *h;
};

FIXTURE_VARIANT(kill_reserved) {
	unsigned int victim_len;
	unsigned int pre;		/* records through the ring first */
	unsigned int victim_slots;	/* what its reservation takes */
	enum taker taker;
};

/* stride 128: one slot holds 112 bytes */
FIXTURE_VARIANT_ADD(kill_reserved, one_slot_user_pop_asleep) {
	.victim_len = ITEM, .victim_slots = 1, .taker = K_POP,
};

FIXTURE_VARIANT_ADD(kill_reserved, three_slots_user_peek_burst) {
	.victim_len = 300, .victim_slots = 3, .taker = K_PEEK,
};

FIXTURE_VARIANT_ADD(kill_reserved, across_the_lap_kernel_asleep) {
	.victim_len = 300, .pre = 12, .victim_slots = 16 - 14 + 3,
	.taker = K_KERNEL,
};

FIXTURE_VARIANT_ADD(kill_reserved, one_slot_kernel_asleep) {
	.victim_len = 100, .pre = 5, .victim_slots = 1, .taker = K_KERNEL,
};

FIXTURE_SETUP(kill_reserved)
{
}

FIXTURE_TEARDOWN(kill_reserved)
{
	if (self->h)
		lfq_ring_destroy(self->h);
	if (self->r.m.region)
		raw_close(&self->r);
}

TEST_F(kill_reserved, consumers_pass_over_the_dead_record)
{
	const unsigned int len = 64, cap = 16;
	struct lfq_mpsc_res res[4], v;
	unsigned char buf[REC_MAX];
	struct lfq_test_result jr;
	struct blocked b;
	int rep[2], k, job = -1;
	struct raw *r = &self->r;
	unsigned int i;
	pid_t pid;
	__u64 pos;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(r, LFQ_MPSC_DISCARD, cap, len));
	ASSERT_EQ(0, participant(&self->h, r->m.fd));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(25);
	for (i = 0; i < variant->pre; i++) {
		ASSERT_EQ(0, push_rec(self->h, 1, i, len));
		ASSERT_TRUE(pop_is(self->h, 1, i, len));
	}
	ASSERT_EQ(0, push_rec(self->h, 0, 0, len));
	ASSERT_EQ(0, push_rec(self->h, 0, 1, len));
	pid = victim_start(r, rep[1], variant->victim_len);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, read_within(rep[0], &v, sizeof(v), WAIT_MS));
	EXPECT_EQ(variant->pre + 2, v.pos);
	EXPECT_EQ(variant->victim_slots, v.slots);
	k = wait_claim_state(r, LFQ_CLAIM_PUSH, WAIT_MS);
	ASSERT_LE(0, k);
	EXPECT_EQ(v.pos, r->claims[k].pos);
	EXPECT_EQ(v.slots, r->claims[k].slots);
	ASSERT_EQ(0, push_rec(self->h, 0, 2, len));
	ASSERT_EQ(0, push_rec(self->h, 0, 3, len));

	switch (variant->taker) {
	case K_POP:
		EXPECT_TRUE(pop_is(self->h, 0, 0, len));
		EXPECT_TRUE(pop_is(self->h, 0, 1, len));
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(self->h, buf, sizeof(buf)));
		ASSERT_EQ(0, blocked_start(&b, self->h, false, 0));
		kill9(_metadata, pid);
		pthread_join(b.th, NULL);
		EXPECT_EQ(len, b.ret);
		EXPECT_TRUE(rec_is(b.buf, len, 0, 2));
		EXPECT_TRUE(pop_is(self->h, 0, 3, len));
		break;
	case K_PEEK:
		ASSERT_EQ(2, lfq_mpsc_peek_burst(self->h, res, 4));
		EXPECT_TRUE(rec_is(res[0].data, res[0].len, 0, 0));
		EXPECT_TRUE(rec_is(res[1].data, res[1].len, 0, 1));
		ASSERT_EQ(0, lfq_mpsc_release(self->h, &res[1]));
		EXPECT_EQ(-EAGAIN, lfq_mpsc_peek_burst(self->h, res, 4));
		kill9(_metadata, pid);
		ASSERT_EQ(0, wait_u64(&r->m.desc->skipped, 1, REPAIR_MS));
		/* published without payload, as the uapi says */
		EXPECT_EQ(v.pos + 1, raw_rec(r, v.pos)->seq);
		EXPECT_EQ(0, raw_rec(r, v.pos)->len);
		EXPECT_EQ(v.slots, raw_rec(r, v.pos)->slots);
		ASSERT_EQ(2, lfq_mpsc_peek_burst(self->h, res, 4));
		EXPECT_TRUE(rec_is(res[0].data, res[0].len, 0, 2));
		EXPECT_TRUE(rec_is(res[1].data, res[1].len, 0, 3));
		ASSERT_EQ(0, lfq_mpsc_release(self->h, &res[1]));
		break;
	case K_KERNEL:
		job = job_run(r->m.fd, LFQ_TEST_CONSUME, 1, 1, 4, 1);
		ASSERT_LE(0, job);
		ASSERT_EQ(0, wait_u64(&r->hdr->tail, v.pos, WAIT_MS));
		ASSERT_EQ(0, wait_u32_nonzero(&r->hdr->not_empty.waiters, WAIT_MS));
		kill9(_metadata, pid);
		ASSERT_EQ(0, job_wait(job, &jr));
		LOG_RESULT("kernel consumer", jr);
		EXPECT_EXACT(jr, 4);
		break;
	}
	alarm(0);
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(self->h, buf, sizeof(buf)));
	EXPECT_EQ(ld64(&r->hdr->head), ld64(&r->hdr->tail));
	for (pos = v.pos; pos < v.pos + v.slots; pos++)
		EXPECT_EQ(pos + cap, raw_rec(r, pos)->seq);
	EXPECT_EQ(0, wait_record_free(r->m.fd, k, REPAIR_MS));
	EXPECT_REPAIRS(r->m.desc, 1, 0, 0, 0);
	close(rep[0]);
	close(rep[1]);
}

/*
 * Kills the victim once the kernel producers have filled the ring behind
 * its reservation and sleep, waiting for room.
 */
struct killer {
	struct raw *r;
	pid_t pid;
	__u64 pos;		/* the victim's reservation */
	bool full_behind;	/* the ring was full behind it at the kill */
	int status;
	pthread_t th;
};

static void *killer_fn(void *arg)
{
	struct killer *k = arg;

	k->full_behind = !wait_u64(&k->r->hdr->head, k->pos + k->r->m.info.capacity,
				   WAIT_MS) &&
			 !wait_u32_nonzero(&k->r->hdr->not_full.waiters, WAIT_MS) &&
			 ld64(&k->r->hdr->tail) == k->pos;
	kill(k->pid, SIGKILL);
	waitpid(k->pid, &k->status, 0);
	return NULL;
}

/*
 * A joined child reserves a record and is killed holding it while two
 * kernel threads stream records behind it into a BLOCK ring that a user
 * consumer drains: the consumer stalls at the dead record with the ring
 * full behind it (the producers asleep), the repair wakes it, and the
 * stream goes on: every kernel record arrives, the child's never does.
 * (The dead record between committed records of others: kill_reserved.)
 */
TEST_F_TIMEOUT(slow, kill9_producer_in_a_stream_of_kernel_producers, 90)
{
	const unsigned long long items = 1500;
	struct lfq_test_result res;
	struct lfq_repairs rp;
	struct killer k = { 0 };
	struct lfq_mpsc_res v;
	struct lfq_ring *h;
	struct drain d;
	int rep[2], job;
	struct raw r;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_BLOCK, 16, ITEM));
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(80);
	k.pid = victim_start(&r, rep[1], ITEM);
	ASSERT_LE(0, k.pid);
	ASSERT_EQ(0, read_within(rep[0], &v, sizeof(v), WAIT_MS));
	k.r = &r;
	k.pos = v.pos;
	job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 2, 0, items, 1);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, pthread_create(&k.th, NULL, killer_fn, &k));
	ASSERT_EQ(0, drain_init(&d, h, job, 4, 2, items, ITEM));
	drain_run(&d);
	pthread_join(k.th, NULL);
	ASSERT_EQ(0, job_wait(job, &res));
	alarm(0);
	LOG_RESULT("kernel producers", res);
	TH_LOG("the child reserved position %llu; the consumer slept %llu times",
	       (unsigned long long)v.pos, d.sleeps);
	EXPECT_TRUE(k.full_behind);
	EXPECT_TRUE(WIFSIGNALED(k.status) && WTERMSIG(k.status) == SIGKILL);
	EXPECT_EQ(0, d.error)
		TH_LOG("consumer: %d, %s", d.error, d.ck.why);
	EXPECT_EQ(0, d.timeouts);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(2 * items, res.moved);
	EXPECT_EQ(2 * items, d.ck.consumed);
	EXPECT_EQ(0, checker_missing(&d.ck));
	EXPECT_EQ(ld64(&r.hdr->head), ld64(&r.hdr->tail));
	ASSERT_EQ(0, lfq_ring_repairs(h, &rp));
	EXPECT_EQ(1, rp.skipped);
	EXPECT_EQ(0, rp.dropped + rp.unresolved);
	EXPECT_EQ(0, lfq_ring_errors(h));
	free(d.ck.seen);
	close(rep[0]);
	close(rep[1]);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A joined consumer killed holding records it took in place (one, a
 * batch, a batch of which it released the first): the module frees what
 * it held (desc->dropped counts them) and the taker lock, and a new
 * consumer goes on with the next record; producers get the room back.
 */
FIXTURE(kill_consumer) {
	struct raw r;
	struct lfq_ring *h;
};

FIXTURE_VARIANT(kill_consumer) {
	unsigned int take;		/* records peeked */
	bool release_first;
};

FIXTURE_VARIANT_ADD(kill_consumer, peek_one) { .take = 1 };
FIXTURE_VARIANT_ADD(kill_consumer, peek_burst_of_three) { .take = 3 };
FIXTURE_VARIANT_ADD(kill_consumer, burst_of_three_first_released) {
	.take = 3, .release_first = true,
};

FIXTURE_SETUP(kill_consumer)
{
}

FIXTURE_TEARDOWN(kill_consumer)
{
	if (self->h)
		lfq_ring_destroy(self->h);
	if (self->r.m.region)
		raw_close(&self->r);
}

TEST_F(kill_consumer, its_records_are_freed_and_the_next_consumer_goes_on)
{
	unsigned int held = variant->take - variant->release_first;
	unsigned char buf[REC_MAX];
	struct raw *r = &self->r;
	struct lfq_ring *c;
	__u64 first, seq, pos;
	int rep[2], k;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&self->h, r->m.fd));	/* the producer */
	for (seq = 0; seq < 6; seq++)
		ASSERT_EQ(0, push_rec(self->h, 0, seq, ITEM));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(25);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_mpsc_res res[3];
		struct lfq_ring *me;

		alarm(20);
		if (participant(&me, r->m.fd) ||
		    lfq_mpsc_peek_burst(me, res, variant->take) != (int)variant->take ||
		    (variant->release_first && lfq_mpsc_release(me, &res[0])) ||
		    write(rep[1], "t", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, read_within(rep[0], buf, 1, WAIT_MS));
	first = variant->release_first;
	k = wait_claim_state(r, LFQ_CLAIM_POP, WAIT_MS);
	ASSERT_LE(0, k);
	/* it took positions 0..take-1 under the lock; tail has passed first */
	EXPECT_EQ(0, r->claims[k].pos);
	EXPECT_EQ(variant->take, r->claims[k].slots);
	EXPECT_EQ(LFQ_MPSC_TAKEN | k, r->hdr->taker);
	EXPECT_EQ(first, r->hdr->tail);
	for (pos = first; pos < first + held; pos++)
		EXPECT_EQ(LFQ_MPSC_TAKEN | k, raw_rec(r, pos)->seq);
	kill9(_metadata, pid);
	ASSERT_EQ(0, wait_u64(&r->m.desc->dropped, held, REPAIR_MS));
	EXPECT_EQ(0, wait_record_free(r->m.fd, k, REPAIR_MS));
	EXPECT_EQ(0, r->hdr->taker);
	EXPECT_EQ(first + held, r->hdr->tail);
	for (pos = first; pos < first + held; pos++)
		EXPECT_EQ(pos + 8, raw_rec(r, pos)->seq);
	ASSERT_EQ(0, participant(&c, r->m.fd));
	for (seq = first + held; seq < 6; seq++)
		EXPECT_TRUE(pop_is(c, 0, seq, ITEM));
	EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(c, buf, sizeof(buf)));
	/* the whole ring is the producers' again */
	for (seq = 6; seq < 14; seq++)
		EXPECT_EQ(0, push_rec(self->h, 0, seq, ITEM));
	for (seq = 6; seq < 14; seq++)
		EXPECT_TRUE(pop_is(c, 0, seq, ITEM));
	alarm(0);
	EXPECT_REPAIRS(r->m.desc, 0, held, 0, 0);
	lfq_ring_destroy(c);
	close(rep[0]);
	close(rep[1]);
}

/*
 * A joined consumer killed in the middle of its release: single-stepped
 * (ptrace) from its call of lfq_mpsc_release() for the last of three
 * records it took, and killed at the first instruction after which the
 * first record is freed (seq and slots reset for the next lap) and tail
 * has not moved yet. The module must finish the release: free all three
 * and the taker lock, finding nothing corrupt, and the next consumer
 * goes on.
 */
TEST(kill9_consumer_inside_its_release)
{
	struct lfq_ring *h;
	unsigned long long steps = 0;
	int status, k;
	struct raw r;
	pid_t pid;
	__u64 seq;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	for (seq = 0; seq < 5; seq++)
		ASSERT_EQ(0, push_rec(h, 0, seq, ITEM));
	alarm(25);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_mpsc_res res[3];
		struct lfq_ring *me;

		alarm(20);
		if (participant(&me, r.m.fd) || lfq_mpsc_peek_burst(me, res, 3) != 3 ||
		    ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(1);
		raise(SIGSTOP);
		lfq_mpsc_release(me, &res[2]);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	k = wait_claim_state(&r, LFQ_CLAIM_POP, 0);
	ASSERT_LE(0, k);
	EXPECT_EQ(LFQ_MPSC_TAKEN | k, r.hdr->taker);
	while (raw_rec(&r, 0)->slots || r.hdr->tail) {
		ASSERT_EQ(0, ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSTOPPED(status))
			TH_LOG("the release ended after %llu steps, never caught inside",
			       steps);
		steps++;
	}
	TH_LOG("killed after %llu steps: seq %#llx %#llx %#llx, tail %llu",
	       steps, (unsigned long long)raw_rec(&r, 0)->seq,
	       (unsigned long long)raw_rec(&r, 1)->seq,
	       (unsigned long long)raw_rec(&r, 2)->seq,
	       (unsigned long long)r.hdr->tail);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, wait_record_free(r.m.fd, k, REPAIR_MS));
	TH_LOG("repaired: tail %llu, lock %#llx; desc dropped %llu, errors %llu",
	       (unsigned long long)r.hdr->tail, (unsigned long long)r.hdr->taker,
	       (unsigned long long)r.m.desc->dropped,
	       (unsigned long long)r.m.desc->errors);
	EXPECT_EQ(0, r.hdr->taker);
	EXPECT_EQ(3, r.hdr->tail);
	for (seq = 0; seq < 3; seq++)
		EXPECT_EQ(seq + 8, raw_rec(&r, seq)->seq);
	EXPECT_EQ(0, r.m.desc->errors);
	EXPECT_EQ(0, r.m.desc->skipped + r.m.desc->unresolved);
	EXPECT_TRUE(pop_is(h, 0, 3, ITEM));
	EXPECT_TRUE(pop_is(h, 0, 4, ITEM));
	alarm(0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * Without a claim record nothing tells the module that a consumer died
 * either: an unjoined consumer killed holding a record keeps the taker
 * lock for good. Seen for a bounded while: other consumers get -EBUSY, a
 * kernel consumer ends on its timeout, and once the OVERWRITE ring is
 * full its producers refuse records rather than drop the oldest.
 * Nothing is repaired or counted as an error.
 */
TEST(kill9_unjoined_consumer_keeps_the_taker_lock)
{
	struct lfq_test_result jr;
	struct lfq_test_job j;
	struct lfq_mpsc_res res;
	struct lfq_ring *h;
	long long end;
	int rep[2];
	struct raw r;
	__u64 seq;
	pid_t pid;
	char c;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_OVERWRITE, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	for (seq = 0; seq < 3; seq++)
		ASSERT_EQ(0, push_rec(h, 0, seq, ITEM));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(25);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_ring *me;

		alarm(20);
		if (lfq_ring_attach(&me, r.m.fd) || lfq_mpsc_peek(me, &res) ||
		    write(rep[1], "t", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, read_within(rep[0], &c, 1, WAIT_MS));
	EXPECT_EQ(LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY, r.hdr->taker);
	kill9(_metadata, pid);

	j = job_params(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 3, 1);
	run_job(_metadata, &j, "kernel consumer", &jr);
	EXPECT_EQ(-ETIMEDOUT, jr.error);
	EXPECT_EQ(0, jr.moved);
	EXPECT_EQ(0, jr.ring_errors);
	for (end = now_ms() + 500; now_ms() < end; usleep(10000))
		EXPECT_EQ(-EBUSY, lfq_mpsc_peek(h, &res));
	for (seq = 3; seq < 8; seq++)
		EXPECT_EQ(0, push_rec(h, 0, seq, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(h, 0, 8, ITEM));
	EXPECT_EQ(1, r.hdr->dropped);
	EXPECT_EQ(0, r.hdr->overwritten);
	EXPECT_EQ(0, r.hdr->tail);
	EXPECT_EQ(LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY, r.hdr->taker);
	alarm(0);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	close(rep[0]);
	close(rep[1]);
	raw_close(&r);
}

/*
 * A joined consumer killed asleep in lfq_mpsc_pop() holds nothing: there
 * is nothing to repair, and it is no longer counted as a sleeper.
 */
TEST(kill9_consumer_asleep_in_pop_holds_nothing)
{
	struct lfq_ring *h;
	int rep[2];
	struct raw r;
	pid_t pid;
	char c;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_BLOCK, 4, ITEM));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(25);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char buf[REC_MAX];
		struct lfq_ring *me;

		alarm(20);
		if (participant(&me, r.m.fd) || write(rep[1], "j", 1) != 1)
			_exit(1);
		lfq_mpsc_pop(me, buf, sizeof(buf), -1);
		_exit(2);
	}
	ASSERT_EQ(0, read_within(rep[0], &c, 1, WAIT_MS));
	ASSERT_EQ(0, wait_u32_nonzero(&r.hdr->not_empty.waiters, WAIT_MS));
	ASSERT_EQ(0, wait_asleep(pid, pid, WAIT_MS));
	EXPECT_EQ(-ETIMEDOUT, wait_claim_state(&r, LFQ_CLAIM_POP, 0));
	kill9(_metadata, pid);
	EXPECT_EQ(0, r.hdr->not_empty.waiters);
	ASSERT_EQ(0, participant(&h, r.m.fd));
	ASSERT_EQ(0, push_rec(h, 0, 0, ITEM));
	EXPECT_TRUE(pop_is(h, 0, 0, ITEM));
	alarm(0);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	close(rep[0]);
	close(rep[1]);
	raw_close(&r);
}

/*
 * Without a claim record nothing tells the module that a producer died:
 * an unjoined producer killed holding a reservation stalls the consumer
 * at it for good, while the records after it are committed (the ring
 * has no holes to skip). Seen for a bounded while: the user consumer gets
 * -EAGAIN there, poll says nothing is readable, a kernel consumer ends on
 * its timeout having read what came before, and once the ring is full
 * every push is refused. Nothing is repaired or counted as an error.
 */
TEST(kill9_unjoined_producer_stalls_the_ring_at_its_reservation)
{
	struct lfq_test_result jr;
	struct lfq_test_job j;
	struct lfq_mpsc_res v;
	unsigned char buf[REC_MAX];
	struct lfq_ring *h;
	long long end;
	struct raw r;
	int rep[2];
	__u64 seq;
	pid_t pid;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, push_rec(h, 0, 0, ITEM));
	ASSERT_EQ(0, push_rec(h, 0, 1, ITEM));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	alarm(25);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lfq_ring *me;

		alarm(20);
		if (lfq_ring_attach(&me, r.m.fd) ||
		    lfq_mpsc_try_reserve(me, ITEM, &v) ||
		    write(rep[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, read_within(rep[0], &v, sizeof(v), WAIT_MS));
	EXPECT_EQ(2, v.pos);
	ASSERT_EQ(0, push_rec(h, 0, 2, ITEM));
	ASSERT_EQ(0, push_rec(h, 0, 3, ITEM));
	kill9(_metadata, pid);

	j = job_params(r.m.fd, LFQ_TEST_CONSUME, 1, 1, 4, 1);
	run_job(_metadata, &j, "kernel consumer", &jr);
	EXPECT_EQ(-ETIMEDOUT, jr.error);
	EXPECT_EQ(2, jr.moved);
	EXPECT_EQ(0, jr.ring_errors);
	for (end = now_ms() + 500; now_ms() < end; usleep(10000)) {
		EXPECT_EQ(-EAGAIN, lfq_mpsc_try_pop(h, buf, sizeof(buf)));
		EXPECT_EQ(POLLOUT, poll_now(r.m.fd));
	}
	EXPECT_EQ(2, r.hdr->tail);
	EXPECT_EQ(v.pos, raw_rec(&r, v.pos)->seq);	/* reserved, forever */
	for (seq = 4; seq < 9; seq++)
		EXPECT_EQ(0, push_rec(h, 0, seq, ITEM));
	EXPECT_EQ(-ENOSPC, push_rec(h, 0, 9, ITEM));
	EXPECT_EQ(2, r.hdr->tail);
	alarm(0);
	EXPECT_REPAIRS(r.m.desc, 0, 0, 0, 0);
	lfq_ring_destroy(h);
	close(rep[0]);
	close(rep[1]);
	raw_close(&r);
}

/* ---- bad input ------------------------------------------------------------------- */

/*
 * One corruption of the record at tail (position 0), of tail itself, or
 * of the taker lock.
 */
enum corruption {
	C_LEN, C_SLOTS_ZERO, C_SLOTS_RING, C_SEQ, C_TAIL_BACK, C_TAIL_AHEAD,
	C_TAKEN, C_LOCK,
};

FIXTURE(corrupt) {
	struct raw r;
	struct lfq_ring *h;
};

FIXTURE_VARIANT(corrupt) {
	enum corruption what;
	int take;		/* what a consumer's take returns */
};

FIXTURE_VARIANT_ADD(corrupt, len_beyond_its_slots) { .what = C_LEN, .take = -EIO };
FIXTURE_VARIANT_ADD(corrupt, slots_zero) { .what = C_SLOTS_ZERO, .take = -EIO };
FIXTURE_VARIANT_ADD(corrupt, slots_of_the_whole_ring) { .what = C_SLOTS_RING, .take = -EIO };
FIXTURE_VARIANT_ADD(corrupt, seq_garbage) { .what = C_SEQ, .take = -EIO };
FIXTURE_VARIANT_ADD(corrupt, tail_laps_back) { .what = C_TAIL_BACK, .take = -EIO };
FIXTURE_VARIANT_ADD(corrupt, tail_laps_ahead) { .what = C_TAIL_AHEAD, .take = -EIO };
/* only the holder of the taker lock tags records: a tag without it is garbage */
FIXTURE_VARIANT_ADD(corrupt, seq_tagged_taken) { .what = C_TAKEN, .take = -EIO };
/* a forged lock: busy, for as long as it stays */
FIXTURE_VARIANT_ADD(corrupt, taker_lock_held) { .what = C_LOCK, .take = -EBUSY };

FIXTURE_SETUP(corrupt)
{
}

FIXTURE_TEARDOWN(corrupt)
{
	if (self->h)
		lfq_ring_destroy(self->h);
	if (self->r.m.region)
		raw_close(&self->r);
}

static void corrupt_ring(struct raw *r, enum corruption what)
{
	struct lfq_mpsc_rec *rec = raw_rec(r, 0);
	__u64 cap = r->m.info.capacity;

	switch (what) {
	case C_LEN:
		rec->len = 2 * r->m.info.slot_stride;
		break;
	case C_SLOTS_ZERO:
		rec->slots = 0;
		break;
	case C_SLOTS_RING:
		rec->slots = cap;
		break;
	case C_SEQ:
		st64(&rec->seq, 0x123456789ULL);
		break;
	case C_TAIL_BACK:
		st64(&r->hdr->tail, -3 * cap);
		break;
	case C_TAIL_AHEAD:
		st64(&r->hdr->tail, 1000 * cap);
		break;
	case C_TAKEN:
		st64(&rec->seq, LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY);
		break;
	case C_LOCK:
		st64(&r->hdr->taker, LFQ_MPSC_TAKEN | LFQ_MPSC_NOBODY);
		break;
	}
}

/* A consume job for the records (0, 0..2). */
static void consume3(struct __test_metadata *_metadata, struct raw *r,
		     unsigned int flags, struct lfq_test_result *res)
{
	struct lfq_test_job j = job_params(r->m.fd, LFQ_TEST_CONSUME, 1, 1, 3,
					   flags & LFQ_TEST_F_SURVIVE_EIO ? 4 : 1);

	j.flags = flags;
	run_job(_metadata, &j, flags ? "kernel consumer surviving EIO" :
		"kernel consumer", res);
}

/*
 * A corrupt record at tail, or a tail no ring can have: liblfq and the
 * kernel refuse to read (-EIO, counted: liblfq in its handle, the kernel
 * in the descriptor) and write nothing; a kernel consumer ends on -EIO,
 * or carries on to its timeout when told to survive it; a taker lock
 * that nobody will release only makes them wait (it is only ever
 * tried). With the words put back, all is read.
 */
TEST_F(corrupt, consumers_refuse_it_and_change_nothing)
{
	bool counted = variant->take == -EIO;
	unsigned char buf[REC_MAX], *good, *bad;
	struct lfq_test_result res;
	struct lfq_mpsc_res pk;
	size_t size;
	__u64 seq;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&self->r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&self->h, self->r.m.fd));
	for (seq = 0; seq < 3; seq++)
		ASSERT_EQ(0, push_rec(self->h, 0, seq, ITEM));
	size = self->r.m.info.claims_off;
	good = malloc(size);
	bad = malloc(size);
	ASSERT_NE(NULL, good);
	ASSERT_NE(NULL, bad);
	memcpy(good, self->r.m.region, size);
	corrupt_ring(&self->r, variant->what);
	memcpy(bad, self->r.m.region, size);

	EXPECT_EQ(variant->take, lfq_mpsc_try_pop(self->h, buf, sizeof(buf)));
	EXPECT_EQ(variant->take, lfq_mpsc_peek(self->h, &pk));
	EXPECT_EQ(counted ? 2 : 0, lfq_ring_errors(self->h));
	EXPECT_EQ(0, self->r.m.desc->errors);	/* liblfq counts its own */
	alarm(25);
	consume3(_metadata, &self->r, 0, &res);
	EXPECT_EQ(0, res.moved);
	EXPECT_EQ(counted ? -EIO : -ETIMEDOUT, res.error);
	EXPECT_EQ(counted, res.ring_errors > 0);
	consume3(_metadata, &self->r, LFQ_TEST_F_SURVIVE_EIO, &res);
	EXPECT_EQ(0, res.moved);
	EXPECT_EQ(-ETIMEDOUT, res.error);
	EXPECT_EQ(counted, res.io_errors > 0);
	EXPECT_EQ(counted, self->r.m.desc->errors > 0);
	/* nobody wrote a word of it */
	EXPECT_EQ(0, memcmp(bad, self->r.m.region, size));

	memcpy(self->r.m.region, good, size);
	consume3(_metadata, &self->r, 0, &res);
	alarm(0);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(3, res.moved);
	EXPECT_EQ(0, res.malformed | res.duplicates | res.misordered | res.missing);
	free(good);
	free(bad);
}

/*
 * A head that runs more than a ring ahead of tail fails producers with
 * -EIO (counted); one behind tail leaves them no room. Either way nothing
 * is written, and a kernel producer ends in time.
 */
TEST(corrupt_head_fails_producers_and_changes_nothing)
{
	struct lfq_test_result res;
	struct lfq_test_job j;
	struct lfq_ring *h;
	struct raw r;
	int ret;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, push_rec(h, 0, 0, ITEM));
	st64(&r.hdr->head, 1000 * 8);
	EXPECT_EQ(-EIO, push_rec(h, 0, 1, ITEM));
	EXPECT_EQ(1, lfq_ring_errors(h));
	alarm(25);
	j = job_params(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 1, 1);
	run_job(_metadata, &j, "kernel producer", &res);
	EXPECT_EQ(-EIO, res.error);
	EXPECT_EQ(0, res.moved);
	EXPECT_LT(0, res.ring_errors);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	run_job(_metadata, &j, "kernel producer surviving EIO", &res);
	EXPECT_EQ(-ETIMEDOUT, res.error);
	EXPECT_EQ(0, res.moved);
	EXPECT_LT(0, res.io_errors);
	EXPECT_EQ(1000 * 8, r.hdr->head);
	EXPECT_EQ(0, r.hdr->tail);

	/* behind tail: no room, and never a write */
	st64(&r.hdr->head, -3 * 8);
	ret = push_rec(h, 0, 1, ITEM);
	EXPECT_TRUE(ret == -ENOSPC || ret == -EIO)
		TH_LOG("a push with head behind tail: %d", ret);
	j.flags = 0;
	run_job(_metadata, &j, "kernel producer, head behind tail", &res);
	EXPECT_NE(0, res.error);
	EXPECT_EQ(0, res.moved);
	EXPECT_EQ(-3 * 8, (__s64)r.hdr->head);
	EXPECT_EQ(1, raw_rec(&r, 0)->seq);
	EXPECT_EQ(1, raw_rec(&r, 1)->seq);

	st64(&r.hdr->head, 1);
	EXPECT_TRUE(pop_is(h, 0, 0, ITEM));
	EXPECT_EQ(0, push_rec(h, 0, 1, ITEM));
	EXPECT_TRUE(pop_is(h, 0, 1, ITEM));
	alarm(0);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * A participant that forges the taker lock and a claim of takes of slots
 * positions from pos, then dies; back once its repair is done.
 */
static void forge_take(struct __test_metadata *_metadata, struct raw *r,
		       __u64 pos, __u32 slots)
{
	__u32 rec;
	int j;

	j = raw_join(r->m.fd, &rec);
	ASSERT_LE(0, j);
	st64(&r->hdr->taker, LFQ_MPSC_TAKEN | rec);
	raw_claim(r, rec, LFQ_CLAIM_POP, pos, slots);
	close(j);
	ASSERT_EQ(0, wait_record_free(r->m.fd, rec, REPAIR_MS));
	EXPECT_EQ(0, r->hdr->taker);
}

/* A forged claim record, and what its repair may count. */
struct forgery {
	const char *what;
	__u32 state;
	__u64 pos;
	__u32 slots;
	unsigned int errors, unresolved;
};

/*
 * Forged claim records on a joined fd that is then closed: claims of a
 * reservation beyond head, of no slots or too many, of one committed
 * since; claims of takes by a participant that does not hold the taker
 * lock; unknown states. The module counts what it must (errors, or an
 * unresolved death) and changes nothing else in the ring. With the lock
 * forged as well, a claim of takes is a dead consumer's as far as the
 * module can tell: it frees what of it is committed, nothing beyond
 * head. Afterwards the ring works.
 */
TEST(forged_claim_records_change_nothing_but_counters)
{
	const struct forgery forged[] = {
		{ "a reservation beyond head", LFQ_CLAIM_PUSH, 6, 1, 1, 0 },
		{ "a reservation at head", LFQ_CLAIM_PUSH, 4, 1, 1, 0 },
		{ "a reservation of no slots", LFQ_CLAIM_PUSH, 1, 0, 1, 0 },
		{ "a reservation of 2^31 slots", LFQ_CLAIM_PUSH, 1, 1U << 31, 1, 0 },
		{ "a reservation of the whole ring", LFQ_CLAIM_PUSH, 1, 8, 1, 0 },
		{ "a reservation committed since", LFQ_CLAIM_PUSH, 1, 1, 0, 0 },
		{ "a reservation before the first", LFQ_CLAIM_PUSH, -6ULL, 1, 0, 0 },
		/* the live consumer holds the taker lock: none of these does */
		{ "takes of committed records", LFQ_CLAIM_POP, 1, 3, 0, 0 },
		{ "takes of the consumer's record", LFQ_CLAIM_POP, 0, 1, 0, 0 },
		{ "takes beyond head", LFQ_CLAIM_POP, 9, 1, 0, 0 },
		{ "takes of the whole ring", LFQ_CLAIM_POP, 0, 8, 0, 0 },
		{ "a death in a reservation", LFQ_CLAIM_PUSH_PENDING, 3, 1, 0, 1 },
		{ "an unknown state", 77, 1, 1, 1, 0 },
	};
	unsigned int i, errors = 0, unresolved = 0;
	struct lfq_mpsc_res held;
	struct lfq_ring *h;
	unsigned char *snap;
	size_t size;
	__u32 rec;
	struct raw r;
	__u64 seq;
	int j;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_MPSC_DISCARD, 8, ITEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	for (seq = 0; seq < 4; seq++)
		ASSERT_EQ(0, push_rec(h, 0, seq, ITEM));
	ASSERT_EQ(0, lfq_mpsc_peek(h, &held));	/* position 0, nobody's tag */
	size = r.m.info.claims_off;
	snap = malloc(size);
	ASSERT_NE(NULL, snap);
	memcpy(snap, r.m.region, size);
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		j = raw_join(r.m.fd, &rec);
		ASSERT_LE(0, j);
		raw_claim(&r, rec, forged[i].state, forged[i].pos, forged[i].slots);
		close(j);
		EXPECT_EQ(0, wait_record_free(r.m.fd, rec, REPAIR_MS))
			TH_LOG("%s: the record stays taken", forged[i].what);
		errors += forged[i].errors;
		unresolved += forged[i].unresolved;
		EXPECT_REPAIRS(r.m.desc, 0, 0, unresolved, errors);
		EXPECT_EQ(0, memcmp(snap, r.m.region, size))
			TH_LOG("%s: the ring changed", forged[i].what);
	}

	ASSERT_EQ(0, lfq_mpsc_release(h, &held));
	EXPECT_EQ(1, r.hdr->tail);
	memcpy(snap, r.m.region, size);

	/*
	 * With the taker lock forged too, a claim of takes is one the module
	 * must believe: a consumer that died under the lock. It frees only
	 * what of the claim is committed from tail on, and the lock.
	 */
	forge_take(_metadata, &r, 3, 1);		/* past tail */
	EXPECT_REPAIRS(r.m.desc, 0, 0, unresolved, errors);
	forge_take(_metadata, &r, 1, 1U << 31);		/* more than the ring */
	EXPECT_REPAIRS(r.m.desc, 0, 0, unresolved, ++errors);
	EXPECT_EQ(0, memcmp(snap, r.m.region, size));
	forge_take(_metadata, &r, 1, 1);		/* the record at tail */
	EXPECT_REPAIRS(r.m.desc, 0, 1, unresolved, errors);
	EXPECT_EQ(2, r.hdr->tail);
	EXPECT_EQ(1 + 8, raw_rec(&r, 1)->seq);
	for (seq = 2; seq < 4; seq++)
		EXPECT_TRUE(pop_is(h, 0, seq, ITEM));
	EXPECT_EQ(0, push_rec(h, 0, 4, ITEM));
	EXPECT_TRUE(pop_is(h, 0, 4, ITEM));

	/* a claim that runs past head: nothing is freed beyond it */
	EXPECT_EQ(0, push_rec(h, 0, 5, ITEM));
	EXPECT_EQ(0, push_rec(h, 0, 6, ITEM));
	memcpy(snap, r.m.region, size);
	forge_take(_metadata, &r, 5, 8);
	TH_LOG("a claim of positions 5..12 with head at 7: tail %llu, dropped %llu, errors %llu",
	       (unsigned long long)r.hdr->tail,
	       (unsigned long long)r.m.desc->dropped,
	       (unsigned long long)r.m.desc->errors);
	EXPECT_REPAIRS(r.m.desc, 0, 1, unresolved, ++errors);
	EXPECT_EQ(0, memcmp(snap, r.m.region, size));
	EXPECT_EQ(5, r.hdr->tail);
	EXPECT_EQ(7, r.hdr->head);
	EXPECT_TRUE(pop_is(h, 0, 5, ITEM));
	EXPECT_TRUE(pop_is(h, 0, 6, ITEM));
	free(snap);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/* ---- scribblers ---------------------------------------------------------------- */

/* Reserve a record of one slot by hand, as a producer does: its position, or -1. */
static __s64 take_head(struct raw *r)
{
	__u64 tail = ld64(&r->hdr->tail), head = ld64(&r->hdr->head);

	if (head - tail >= r->m.info.capacity ||
	    !__atomic_compare_exchange_n(&r->hdr->head, &head, head + 1, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return -1;
	raw_rec(r, head)->slots = 1;
	return (__s64)head;
}

/*
 * A participant of churn_for() on the ring r: it writes a record
 * (plausible or garbage, sometimes over a reservation really taken by
 * hand) and dies.
 */
static void claim_churn(void *r_, __u32 rec, int j, unsigned long long rnd,
			unsigned long long *x)
{
	struct raw *r = r_;
	__u64 cap = r->m.info.capacity;
	__s64 pos;

	(void)j;
	switch (rnd % 8) {
	case 0:
		break;
	case 1:
		raw_claim(r, rec, LFQ_CLAIM_PUSH_PENDING, 0, 0);
		break;
	case 2:		/* a reservation nobody made */
		raw_claim(r, rec, LFQ_CLAIM_PUSH,
			  ld64(&r->hdr->head) + (rnd >> 8) % (2 * cap),
			  (rnd >> 40) % (cap + 1));
		break;
	case 3:		/* takes nobody made */
		raw_claim(r, rec, LFQ_CLAIM_POP,
			  ld64(&r->hdr->tail) + (rnd >> 8) % (2 * cap), 0);
		break;
	case 4:		/* a real dead producer */
		pos = take_head(r);
		if (pos >= 0)
			raw_claim(r, rec, LFQ_CLAIM_PUSH, pos, 1);
		break;
	case 5:
		raw_claim(r, rec, (__u32)(rnd >> 8) % 16, xorshift(x),
			  (__u32)(rnd >> 32));
		break;
	default:
		raw_claim(r, rec, (__u32)(rnd >> 32), rnd, (__u32)rnd);
		break;
	}
}

/*
 * A piece of garbage over an MPSC ring (scribble_for()): a header word, a
 * record header (seq, len and slots) or a claim record.
 */
static void mpsc_garble(unsigned char *region, const struct lfq_info *info,
			unsigned long long rnd, unsigned long long *x)
{
	size_t claim_words = info->nr_claims * sizeof(struct lfq_claim) / 8;
	volatile __u64 *w;

	switch (rnd & 3) {
	case 0:		/* head, tail, wait words, counters */
		w = (void *)(region + (rnd >> 8) % (LFQ_MPSC_SLOTS_OFF / 8) * 8);
		break;
	case 3:		/* claim records */
		w = (void *)(region + info->claims_off +
			     (rnd >> 8) % claim_words * 8);
		break;
	default:	/* a record's seq, or its len and slots */
		w = (void *)(region + info->slots_off +
			     (rnd >> 8) % info->capacity * info->slot_stride +
			     (rnd >> 7 & 1) * 8);
		break;
	}
	switch ((rnd >> 2) & 7) {
	case 3:		/* taken, or not */
		*w ^= LFQ_MPSC_TAKEN;
		break;
	case 4:		/* a length or a slot count gone wrong */
		*w ^= (__u64)1 << ((rnd >> 16) % 64);
		break;
	default:
		garble_word(w, (rnd >> 2) & 7, rnd >> 5, x, info->capacity);
		break;
	}
}

/*
 * A process writes garbage over one MPSC ring while another makes
 * participants join and die on it, and kernel threads log into it
 * (copying and in place) and read it, surviving -EIO, while other kernel
 * threads use a second MPSC ring. The kernel must survive, the jobs on
 * the garbled ring end by their deadline and notice, and the second ring
 * stays exact.
 */
TEST_F_TIMEOUT(slow, scribbled_mpsc_ring_cannot_hurt_the_kernel_or_other_rings, 60)
{
	const int scribble_ms = 1500, deadline_ms = scribble_ms + 1500;
	const unsigned long long items = 10000;
	static const char *const what[] = {
		"garbled ring, consumer", "garbled ring, producers in place",
		"garbled ring, producers", "other ring, consumer",
		"other ring, producers", NULL,
	};
	struct lfq_test_result res[5];
	struct lfq_test_job j;
	int job[5], i;
	struct raw r[2];
	long long start;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r[0], LFQ_MPSC_DISCARD, 8, 64));
	ASSERT_EQ(0, raw_open(&r[1], LFQ_MPSC_BLOCK, 8, 64));

	/* ring 0: garbled; its threads carry on through -EIO to the deadline */
	j = job_params(r[0].m.fd, LFQ_TEST_CONSUME, 1, 4, 1 << 20, 4);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = j.deadline_ms = deadline_ms;
	start = now_ms();
	job[0] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.threads = 2;
	j.producers = 0;
	j.flags |= LFQ_TEST_F_RESERVE;
	job[1] = job_start(&j);
	j.flags &= ~LFQ_TEST_F_RESERVE;
	j.producers = 2;
	job[2] = job_start(&j);
	/* ring 1: exact, paced to last about as long as the scribbling */
	j = job_params(r[1].m.fd, LFQ_TEST_CONSUME, 1, 2, items, 4);
	job[3] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.threads = 2;
	j.producers = 0;
	j.flags = 0;
	j.pause_every = 500;
	j.pause_us = 20000;
	job[4] = job_start(&j);
	for (i = 0; i < 5; i++)
		ASSERT_LE(0, job[i]);

	garble_ring(_metadata, &r[0].m, scribble_ms, mpsc_garble, claim_churn,
		    &r[0]);
	wait_garbled_jobs(_metadata, job, res, what, 3, r[0].m.desc, start,
			  deadline_ms);
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(res[i].error == 0 || res[i].error == -ETIMEDOUT)
			TH_LOG("job %d ended on %d", i, res[i].error);
	}
	/* the kernel noticed, counted it, and says so in the descriptor */
	EXPECT_LT(0, r[0].m.desc->errors);
	EXPECT_LT(0, res[0].io_errors + res[1].io_errors + res[2].io_errors);
	/* the other ring saw nothing of it */
	EXPECT_EXACT(res[3], 2 * items);
	EXPECT_EQ(0, res[4].error);
	EXPECT_EQ(2 * items, res[4].moved);
	EXPECT_REPAIRS(r[1].m.desc, 0, 0, 0, 0);
	for (i = 0; i < 2; i++)
		raw_close(&r[i]);
}

/* One kind of garbage at a time, written over and over for a while. */
enum target {
	T_HEAD_BACK, T_HEAD_AHEAD, T_TAIL_BACK, T_TAIL_AHEAD, T_SEQ, T_LEN,
	T_SLOTS, T_TAKEN, T_WAIT_WORDS, T_COUNTERS, T_CLAIMS_UNTAKEN,
	T_CLAIMS_GARBAGE,
};

FIXTURE(mpsc_target) {
	struct raw r;
};

FIXTURE_VARIANT(mpsc_target) {
	enum target what;
	bool counted;		/* the kernel must count errors */
};

FIXTURE_VARIANT_ADD(mpsc_target, head_laps_back) { .what = T_HEAD_BACK };
FIXTURE_VARIANT_ADD(mpsc_target, head_laps_ahead) { .what = T_HEAD_AHEAD, .counted = true };
FIXTURE_VARIANT_ADD(mpsc_target, tail_laps_back) { .what = T_TAIL_BACK, .counted = true };
FIXTURE_VARIANT_ADD(mpsc_target, tail_laps_ahead) { .what = T_TAIL_AHEAD };
FIXTURE_VARIANT_ADD(mpsc_target, seq_garbage) { .what = T_SEQ };
FIXTURE_VARIANT_ADD(mpsc_target, len_garbage) { .what = T_LEN };
FIXTURE_VARIANT_ADD(mpsc_target, slots_garbage) { .what = T_SLOTS };
FIXTURE_VARIANT_ADD(mpsc_target, seq_taken_bit) { .what = T_TAKEN };
FIXTURE_VARIANT_ADD(mpsc_target, wait_words) { .what = T_WAIT_WORDS };
FIXTURE_VARIANT_ADD(mpsc_target, counters) { .what = T_COUNTERS };
FIXTURE_VARIANT_ADD(mpsc_target, claims_of_untaken_records) { .what = T_CLAIMS_UNTAKEN };
FIXTURE_VARIANT_ADD(mpsc_target, claims_garbage) { .what = T_CLAIMS_GARBAGE, .counted = true };

FIXTURE_SETUP(mpsc_target)
{
}

FIXTURE_TEARDOWN(mpsc_target)
{
	if (self->r.m.region)
		raw_close(&self->r);
}

static void target_once(struct raw *r, enum target what,
			unsigned long long *x)
{
	unsigned long long rnd = xorshift(x);
	__u64 cap = r->m.info.capacity;
	struct lfq_mpsc_rec *rec = raw_rec(r, rnd >> 8);
	__u32 id;
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
	case T_SEQ:
		st64(&rec->seq, xorshift(x) & ~LFQ_MPSC_TAKEN);
		break;
	case T_LEN:
		rec->len = (__u32)xorshift(x);
		break;
	case T_SLOTS:
		rec->slots = rnd & 1 ? 0 : (__u32)(rnd >> 32) | (__u32)cap;
		break;
	case T_TAKEN:
		st64(&rec->seq, ld64(&rec->seq) | LFQ_MPSC_TAKEN);
		break;
	case T_WAIT_WORDS:
		st32(rnd & 1 ? &r->hdr->not_empty.waiters : &r->hdr->not_full.waiters,
		     rnd & 2 ? 0 : (__u32)(rnd >> 32));
		st32(rnd & 4 ? &r->hdr->not_empty.futex : &r->hdr->not_full.futex,
		     (__u32)(rnd >> 16));
		break;
	case T_COUNTERS:
		st64(rnd & 1 ? &r->hdr->dropped : &r->hdr->overwritten, xorshift(x));
		break;
	case T_CLAIMS_UNTAKEN:
	case T_CLAIMS_GARBAGE:
		j = raw_join(r->m.fd, &id);
		if (j < 0)
			break;
		if (what == T_CLAIMS_GARBAGE)
			raw_claim(r, id, 5 + (__u32)(rnd >> 8) % 100, rnd,
				  (__u32)rnd);
		else if (rnd & 1)
			raw_claim(r, id, LFQ_CLAIM_PUSH,
				  ld64(&r->hdr->head) + (rnd >> 8) % (2 * cap),
				  1 + (rnd >> 40) % 3);
		else
			raw_claim(r, id, LFQ_CLAIM_POP,
				  ld64(&r->hdr->tail) + (rnd >> 8) % (2 * cap), 0);
		close(j);
		break;
	}
}

TEST_F_TIMEOUT(mpsc_target, kernel_threads_end_in_time_and_count_it, 30)
{
	const int deadline_ms = 1500, garble_ms = 300;
	unsigned long long x = 0x853c49e6748fea9bULL;
	struct lfq_test_result rp, rc;
	struct lfq_test_job j;
	long long start, end, took;
	int prod, cons;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&self->r, LFQ_MPSC_DISCARD, 8, ITEM));
	j = job_params(self->r.m.fd, LFQ_TEST_PRODUCE, 2, 0, 1 << 20, 1);
	j.flags = LFQ_TEST_F_SURVIVE_EIO | LFQ_TEST_F_RESERVE;
	j.timeout_ms = 500;
	j.deadline_ms = deadline_ms;
	start = now_ms();
	prod = job_start(&j);
	ASSERT_LE(0, prod);
	j = job_params(self->r.m.fd, LFQ_TEST_CONSUME, 1, 2, 1 << 20, 4);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = 500;
	j.deadline_ms = deadline_ms;
	cons = job_start(&j);
	ASSERT_LE(0, cons);
	ASSERT_EQ(0, wait_u64_ge(&self->r.hdr->tail, 64, WAIT_MS));
	for (end = now_ms() + garble_ms; now_ms() < end; usleep(200))
		target_once(&self->r, variant->what, &x);
	ASSERT_EQ(0, job_wait(prod, &rp));
	ASSERT_EQ(0, job_wait(cons, &rc));
	took = now_ms() - start;
	LOG_RESULT("producers", rp);
	LOG_RESULT("consumer", rc);
	TH_LOG("ended after %lld ms (deadline %d ms); descriptor: %llu errors, %llu skipped, %llu dropped, %llu unresolved",
	       took, deadline_ms, (unsigned long long)self->r.m.desc->errors,
	       (unsigned long long)self->r.m.desc->skipped,
	       (unsigned long long)self->r.m.desc->dropped,
	       (unsigned long long)self->r.m.desc->unresolved);
	EXPECT_GT(deadline_ms + 3000, took);
	EXPECT_TRUE(rp.error == 0 || rp.error == -ETIMEDOUT)
		TH_LOG("producers ended on %d", rp.error);
	EXPECT_TRUE(rc.error == 0 || rc.error == -ETIMEDOUT)
		TH_LOG("consumer ended on %d", rc.error);
	if (variant->counted)
		EXPECT_LT(0, self->r.m.desc->errors);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		filter_tests(argc - 1, argv + 1);
	return test_harness_run(argc, argv);
}
